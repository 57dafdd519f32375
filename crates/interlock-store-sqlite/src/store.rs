//! The [`Store`] contract, each method handed to the module of its area.

use chrono::{DateTime, Utc};
use interlock_core::Category;
use interlock_core::rules::RuleSet;
use interlock_store::*;
use uuid::Uuid;

use crate::db::DbResult;
use crate::{
    SqliteStore, actions, audit, cards, changes, connectors, jobs, keys, migrate, outbox, people,
    teams, transitions,
};

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        migrate::run(&self.db).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.db.read().await?)
            .await
            .db()?;
        Ok(())
    }

    async fn create_team(&self, team: Team, rules: RuleSet, audit: AuditDraft) -> Result<Team> {
        teams::create(&self.db, team, rules, audit).await
    }

    async fn team(&self, id: Uuid) -> Result<Option<Team>> {
        teams::by_id(&self.db, id).await
    }

    async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
        teams::by_slug(&self.db, slug).await
    }

    async fn list_teams(&self) -> Result<Vec<Team>> {
        teams::list(&self.db).await
    }

    async fn current_rules(&self, team_id: Uuid) -> Result<RulesVersion> {
        teams::current_rules(&self.db, team_id).await
    }

    async fn rules_version(&self, team_id: Uuid, version: u64) -> Result<Option<RulesVersion>> {
        teams::rules_version(&self.db, team_id, version).await
    }

    async fn list_rules_versions(&self, team_id: Uuid) -> Result<Vec<RulesVersion>> {
        teams::list_rules(&self.db, team_id).await
    }

    async fn save_rules(
        &self,
        team_id: Uuid,
        expected_current: u64,
        rules: RuleSet,
        actor: Actor,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<RulesVersion> {
        teams::save_rules(&self.db, team_id, expected_current, rules, actor, at, audit).await
    }

    async fn create_key(&self, key: KeyRecord, audit: AuditDraft) -> Result<KeyRecord> {
        keys::create(&self.db, key, audit).await
    }

    async fn key(&self, id: &str) -> Result<Option<KeyRecord>> {
        keys::by_id(&self.db, id).await
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>> {
        keys::list(&self.db).await
    }

    async fn revoke_key(
        &self,
        id: &str,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<KeyRecord> {
        keys::revoke(&self.db, id, at, audit).await
    }

    async fn touch_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        keys::touch(&self.db, id, at).await
    }

    async fn insert_actions(&self, batch: Vec<NewAction>) -> Result<Vec<Inserted>> {
        actions::insert(&self.db, batch).await
    }

    async fn insert_plan(
        &self,
        plan: PlanRecord,
        steps: Vec<NewAction>,
        audit: AuditDraft,
    ) -> Result<(PlanRecord, Vec<ActionRecord>)> {
        actions::insert_plan(&self.db, plan, steps, audit).await
    }

    async fn plan(&self, id: Uuid) -> Result<Option<PlanRecord>> {
        actions::plan(&self.db, id).await
    }

    async fn plan_actions(&self, plan_id: Uuid) -> Result<Vec<ActionRecord>> {
        actions::plan_actions(&self.db, plan_id).await
    }

    async fn action(&self, id: Uuid) -> Result<Option<ActionRecord>> {
        actions::by_id(&self.db, id).await
    }

    async fn action_by_idempotency_key(
        &self,
        team_id: Uuid,
        key: &str,
    ) -> Result<Option<ActionRecord>> {
        actions::by_idempotency_key(&self.db, team_id, key).await
    }

    async fn list_actions(
        &self,
        filter: &ActionFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ActionRecord>> {
        actions::list(&self.db, filter, cursor, limit).await
    }

    async fn apply_change(&self, change: ActionChange) -> Result<ActionRecord> {
        transitions::apply(&self.db, change).await
    }

    async fn record_reminder(&self, reminder: ReminderSent) -> Result<bool> {
        changes::reminder(&self.db, reminder).await
    }

    async fn record_attempt_failure(&self, failure: AttemptFailed) -> Result<()> {
        changes::attempt_failed(&self.db, failure).await
    }

    async fn claim_jobs(
        &self,
        due_by: DateTime<Utc>,
        worker: &str,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        jobs::claim(&self.db, due_by, worker, lease_until, limit).await
    }

    async fn finish_job(&self, id: i64, worker: &str) -> Result<bool> {
        jobs::finish(&self.db, id, worker).await
    }

    async fn reschedule_job(&self, id: i64, worker: &str, run_at: DateTime<Utc>) -> Result<bool> {
        jobs::reschedule(&self.db, id, worker, run_at).await
    }

    async fn release_claims_of(&self, worker: &str) -> Result<u64> {
        jobs::release_claims_of(&self.db, worker).await
    }

    async fn rescue_expired_jobs(&self, real_now: DateTime<Utc>) -> Result<u64> {
        jobs::rescue(&self.db, real_now).await
    }

    async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>> {
        jobs::next_due(&self.db).await
    }

    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> Result<()> {
        jobs::enqueue(&self.db, jobs).await
    }

    async fn set_connector(
        &self,
        team_id: Uuid,
        category: Category,
        config: ConnectorConfig,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()> {
        connectors::set(&self.db, team_id, category, config, at, audit).await
    }

    async fn connector(
        &self,
        team_id: Uuid,
        category: Category,
    ) -> Result<Option<ConnectorConfig>> {
        connectors::get(&self.db, team_id, category).await
    }

    async fn connectors(&self, team_id: Uuid) -> Result<Vec<(Category, ConnectorConfig)>> {
        connectors::list(&self.db, team_id).await
    }

    async fn deliveries_for_action(&self, action_id: Uuid) -> Result<Vec<Delivery>> {
        connectors::deliveries_for_action(&self.db, action_id).await
    }

    async fn delivery(&self, id: Uuid) -> Result<Option<Delivery>> {
        outbox::delivery(&self.db, id).await
    }

    async fn record_send(&self, send: DeliverySend) -> Result<()> {
        outbox::record_send(&self.db, send).await
    }

    async fn sends_for_delivery(&self, delivery_id: Uuid) -> Result<Vec<DeliverySend>> {
        outbox::sends_for_delivery(&self.db, delivery_id).await
    }

    async fn sends_for_target(&self, target: SendTarget, limit: u32) -> Result<Vec<DeliverySend>> {
        outbox::sends_for_target(&self.db, target, limit).await
    }

    async fn create_channel(&self, channel: ChannelRecord, audit: AuditDraft) -> Result<()> {
        outbox::create_channel(&self.db, channel, audit).await
    }

    async fn channel(&self, id: Uuid) -> Result<Option<ChannelRecord>> {
        outbox::channel(&self.db, id).await
    }

    async fn channels(&self, team_id: Uuid) -> Result<Vec<ChannelRecord>> {
        outbox::channels(&self.db, team_id).await
    }

    async fn delete_channel(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
        outbox::delete_channel(&self.db, id, at, audit).await
    }

    async fn work_card(&self, work: CardWork) -> Result<Card> {
        cards::work(&self.db, work).await
    }

    async fn card(&self, team_id: Uuid, card_id: &str) -> Result<Option<Card>> {
        cards::card(&self.db, team_id, card_id).await
    }

    async fn card_notes(&self, team_id: Uuid, card_id: &str) -> Result<Vec<CardNote>> {
        cards::notes(&self.db, team_id, card_id).await
    }

    async fn list_cards(&self, visible_teams: Option<&[Uuid]>, limit: u32) -> Result<Vec<Card>> {
        cards::list(&self.db, visible_teams, limit).await
    }

    async fn plans_for_card(&self, team_id: Uuid, card_id: &str) -> Result<Vec<PlanRecord>> {
        cards::plans(&self.db, team_id, card_id).await
    }

    async fn append_audit(&self, at: DateTime<Utc>, entries: Vec<AuditDraft>) -> Result<()> {
        audit::append(&self.db, at, entries).await
    }

    async fn search_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>> {
        audit::search(&self.db, filter, cursor, limit).await
    }

    async fn audit_heads(&self) -> Result<Vec<(String, u64, String)>> {
        audit::heads(&self.db).await
    }

    async fn audit_chain(
        &self,
        chain: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        audit::chain(&self.db, chain, after_seq, limit).await
    }

    async fn agree_clock(&self, proposed: ClockSettings) -> Result<ClockSettings> {
        connectors::agree_clock(&self.db, proposed).await
    }

    async fn clock_settings(&self) -> Result<Option<ClockSettings>> {
        connectors::clock_settings(&self.db).await
    }

    async fn create_user(&self, user: UserRecord, audit: AuditDraft) -> Result<UserRecord> {
        people::create(&self.db, user, audit).await
    }

    async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> {
        people::by_id(&self.db, id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        people::by_email(&self.db, email).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>> {
        people::list(&self.db).await
    }

    async fn set_user_role(
        &self,
        id: Uuid,
        role: Role,
        teams: Vec<Uuid>,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<UserRecord> {
        people::set_role(&self.db, id, role, teams, at, audit).await
    }

    async fn set_password(
        &self,
        id: Uuid,
        password_hash: String,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()> {
        people::set_password(&self.db, id, password_hash, at, audit).await
    }

    async fn remove_user(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
        people::remove(&self.db, id, at, audit).await
    }

    async fn record_login(
        &self,
        id: Uuid,
        succeeded: bool,
        locked_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<UserRecord> {
        people::record_login(&self.db, id, succeeded, locked_until, at, audit).await
    }

    async fn create_session(&self, session: SessionRecord) -> Result<()> {
        people::create_session(&self.db, session).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        people::session(&self.db, id_hash).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        people::delete_session(&self.db, id_hash).await
    }

    async fn purge_sessions(&self, real_now: DateTime<Utc>) -> Result<u64> {
        people::purge_sessions(&self.db, real_now).await
    }
}
