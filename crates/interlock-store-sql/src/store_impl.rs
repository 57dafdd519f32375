//! The [`Store`](interlock_store::Store) contract for a SQL backend, each method handed
//! to the backend's module of its area. Both backends name their modules and functions
//! alike (`teams::create`, `jobs::claim`, …), so one list of delegations serves both.

pub use async_trait::async_trait;

/// The names the delegations use, for [`impl_store!`](crate::impl_store).
pub mod prelude {
    pub use chrono::{DateTime, Utc};
    pub use interlock_core::Category;
    pub use interlock_core::rules::RuleSet;
    pub use interlock_store::*;
    pub use uuid::Uuid;
}

/// Implements `Store` for `$store`, a type with a `db` field, by calling the invoking
/// crate's modules (`crate::teams`, `crate::jobs`, …) and `crate::db::ping`.
#[macro_export]
#[expect(
    clippy::crate_in_macro_def,
    reason = "the delegations call the invoking backend's own modules"
)]
macro_rules! impl_store {
    ($store:ty) => {
        const _: () = {
            use $crate::store_impl::prelude::*;

            #[$crate::store_impl::async_trait]
            impl Store for $store {
                async fn migrate(&self) -> Result<()> {
                    crate::migrate::run(&self.db).await
                }

                async fn ping(&self) -> Result<()> {
                    crate::db::ping(&self.db).await
                }

                async fn create_team(
                    &self,
                    team: Team,
                    rules: RuleSet,
                    audit: AuditDraft,
                ) -> Result<Team> {
                    crate::teams::create(&self.db, team, rules, audit).await
                }

                async fn team(&self, id: Uuid) -> Result<Option<Team>> {
                    crate::teams::by_id(&self.db, id).await
                }

                async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
                    crate::teams::by_slug(&self.db, slug).await
                }

                async fn list_teams(&self) -> Result<Vec<Team>> {
                    crate::teams::list(&self.db).await
                }

                async fn current_rules(&self, team_id: Uuid) -> Result<RulesVersion> {
                    crate::teams::current_rules(&self.db, team_id).await
                }

                async fn rules_version(
                    &self,
                    team_id: Uuid,
                    version: u64,
                ) -> Result<Option<RulesVersion>> {
                    crate::teams::rules_version(&self.db, team_id, version).await
                }

                async fn list_rules_versions(&self, team_id: Uuid) -> Result<Vec<RulesVersion>> {
                    crate::teams::list_rules(&self.db, team_id).await
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
                    crate::teams::save_rules(
                        &self.db,
                        team_id,
                        expected_current,
                        rules,
                        actor,
                        at,
                        audit,
                    )
                    .await
                }

                async fn create_key(&self, key: KeyRecord, audit: AuditDraft) -> Result<KeyRecord> {
                    crate::keys::create(&self.db, key, audit).await
                }

                async fn key(&self, id: &str) -> Result<Option<KeyRecord>> {
                    crate::keys::by_id(&self.db, id).await
                }

                async fn list_keys(&self) -> Result<Vec<KeyRecord>> {
                    crate::keys::list(&self.db).await
                }

                async fn revoke_key(
                    &self,
                    id: &str,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<KeyRecord> {
                    crate::keys::revoke(&self.db, id, at, audit).await
                }

                async fn touch_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
                    crate::keys::touch(&self.db, id, at).await
                }

                async fn insert_actions(&self, batch: Vec<NewAction>) -> Result<Vec<Inserted>> {
                    crate::actions::insert(&self.db, batch).await
                }

                async fn insert_plan(
                    &self,
                    plan: PlanRecord,
                    steps: Vec<NewAction>,
                    audit: AuditDraft,
                ) -> Result<(PlanRecord, Vec<ActionRecord>)> {
                    crate::actions::insert_plan(&self.db, plan, steps, audit).await
                }

                async fn plan(&self, id: Uuid) -> Result<Option<PlanRecord>> {
                    crate::actions::plan(&self.db, id).await
                }

                async fn plan_actions(&self, plan_id: Uuid) -> Result<Vec<ActionRecord>> {
                    crate::actions::plan_actions(&self.db, plan_id).await
                }

                async fn action(&self, id: Uuid) -> Result<Option<ActionRecord>> {
                    crate::actions::by_id(&self.db, id).await
                }

                async fn actions(&self, ids: &[Uuid]) -> Result<Vec<ActionRecord>> {
                    crate::actions::by_ids(&self.db, ids).await
                }

                async fn action_by_idempotency_key(
                    &self,
                    team_id: Uuid,
                    key: &str,
                ) -> Result<Option<ActionRecord>> {
                    crate::actions::by_idempotency_key(&self.db, team_id, key).await
                }

                async fn list_actions(
                    &self,
                    filter: &ActionFilter,
                    cursor: Option<&str>,
                    limit: u32,
                ) -> Result<Page<ActionRecord>> {
                    crate::actions::list(&self.db, filter, cursor, limit).await
                }

                async fn apply_change(&self, change: ActionChange) -> Result<ActionRecord> {
                    crate::transitions::apply(&self.db, change).await
                }

                async fn record_reminder(&self, reminder: ReminderSent) -> Result<bool> {
                    crate::changes::reminder(&self.db, reminder).await
                }

                async fn record_attempt_failure(&self, failure: AttemptFailed) -> Result<()> {
                    crate::changes::attempt_failed(&self.db, failure).await
                }

                async fn claim_jobs(
                    &self,
                    due_by: DateTime<Utc>,
                    worker: &str,
                    lease_until: DateTime<Utc>,
                    limit: u32,
                ) -> Result<Vec<Job>> {
                    crate::jobs::claim(&self.db, due_by, worker, lease_until, limit).await
                }

                async fn finish_job(&self, id: i64, worker: &str) -> Result<bool> {
                    crate::jobs::finish(&self.db, id, worker).await
                }

                async fn reschedule_job(
                    &self,
                    id: i64,
                    worker: &str,
                    run_at: DateTime<Utc>,
                ) -> Result<bool> {
                    crate::jobs::reschedule(&self.db, id, worker, run_at).await
                }

                async fn release_claims_of(&self, worker: &str) -> Result<u64> {
                    crate::jobs::release_claims_of(&self.db, worker).await
                }

                async fn rescue_expired_jobs(&self, real_now: DateTime<Utc>) -> Result<u64> {
                    crate::jobs::rescue(&self.db, real_now).await
                }

                async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>> {
                    crate::jobs::next_due(&self.db).await
                }

                async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> Result<()> {
                    crate::jobs::enqueue(&self.db, jobs).await
                }

                async fn set_connector(
                    &self,
                    team_id: Uuid,
                    category: Category,
                    config: ConnectorConfig,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<()> {
                    crate::connectors::set(&self.db, team_id, category, config, at, audit).await
                }

                async fn connector(
                    &self,
                    team_id: Uuid,
                    category: Category,
                ) -> Result<Option<ConnectorConfig>> {
                    crate::connectors::get(&self.db, team_id, category).await
                }

                async fn connectors(
                    &self,
                    team_id: Uuid,
                ) -> Result<Vec<(Category, ConnectorConfig)>> {
                    crate::connectors::list(&self.db, team_id).await
                }

                async fn deliveries_for_action(&self, action_id: Uuid) -> Result<Vec<Delivery>> {
                    crate::connectors::deliveries_for_action(&self.db, action_id).await
                }

                async fn delivery(&self, id: Uuid) -> Result<Option<Delivery>> {
                    crate::outbox::delivery(&self.db, id).await
                }

                async fn record_send(&self, send: DeliverySend) -> Result<()> {
                    crate::outbox::record_send(&self.db, send).await
                }

                async fn sends_for_delivery(&self, delivery_id: Uuid) -> Result<Vec<DeliverySend>> {
                    crate::outbox::sends_for_delivery(&self.db, delivery_id).await
                }

                async fn sends_for_target(
                    &self,
                    target: SendTarget,
                    limit: u32,
                ) -> Result<Vec<DeliverySend>> {
                    crate::outbox::sends_for_target(&self.db, target, limit).await
                }

                async fn create_channel(
                    &self,
                    channel: ChannelRecord,
                    audit: AuditDraft,
                ) -> Result<()> {
                    crate::outbox::create_channel(&self.db, channel, audit).await
                }

                async fn channel(&self, id: Uuid) -> Result<Option<ChannelRecord>> {
                    crate::outbox::channel(&self.db, id).await
                }

                async fn channels(&self, team_id: Uuid) -> Result<Vec<ChannelRecord>> {
                    crate::outbox::channels(&self.db, team_id).await
                }

                async fn delete_channel(
                    &self,
                    id: Uuid,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<()> {
                    crate::outbox::delete_channel(&self.db, id, at, audit).await
                }

                async fn work_card(&self, work: CardWork) -> Result<Card> {
                    crate::cards::work(&self.db, work).await
                }

                async fn card(&self, team_id: Uuid, card_id: &str) -> Result<Option<Card>> {
                    crate::cards::card(&self.db, team_id, card_id).await
                }

                async fn card_notes(&self, team_id: Uuid, card_id: &str) -> Result<Vec<CardNote>> {
                    crate::cards::notes(&self.db, team_id, card_id).await
                }

                async fn list_cards(
                    &self,
                    visible_teams: Option<&[Uuid]>,
                    limit: u32,
                ) -> Result<Vec<Card>> {
                    crate::cards::list(&self.db, visible_teams, limit).await
                }

                async fn plans_for_card(
                    &self,
                    team_id: Uuid,
                    card_id: &str,
                ) -> Result<Vec<PlanRecord>> {
                    crate::cards::plans(&self.db, team_id, card_id).await
                }

                async fn append_audit(
                    &self,
                    at: DateTime<Utc>,
                    entries: Vec<AuditDraft>,
                ) -> Result<()> {
                    crate::audit::append(&self.db, at, entries).await
                }

                async fn search_audit(
                    &self,
                    filter: &AuditFilter,
                    cursor: Option<&str>,
                    limit: u32,
                ) -> Result<Page<AuditEntry>> {
                    crate::audit::search(&self.db, filter, cursor, limit).await
                }

                async fn audit_heads(&self) -> Result<Vec<(String, u64, String)>> {
                    crate::audit::heads(&self.db).await
                }

                async fn audit_chain(
                    &self,
                    chain: &str,
                    after_seq: u64,
                    limit: u32,
                ) -> Result<Vec<AuditEntry>> {
                    crate::audit::chain(&self.db, chain, after_seq, limit).await
                }

                async fn agree_clock(&self, proposed: ClockSettings) -> Result<ClockSettings> {
                    crate::connectors::agree_clock(&self.db, proposed).await
                }

                async fn clock_settings(&self) -> Result<Option<ClockSettings>> {
                    crate::connectors::clock_settings(&self.db).await
                }

                async fn create_user(
                    &self,
                    user: UserRecord,
                    audit: AuditDraft,
                ) -> Result<UserRecord> {
                    crate::people::create(&self.db, user, audit).await
                }

                async fn user(&self, id: Uuid) -> Result<Option<UserRecord>> {
                    crate::people::by_id(&self.db, id).await
                }

                async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
                    crate::people::by_email(&self.db, email).await
                }

                async fn list_users(&self) -> Result<Vec<UserRecord>> {
                    crate::people::list(&self.db).await
                }

                async fn set_user_role(
                    &self,
                    id: Uuid,
                    role: Role,
                    teams: Vec<Uuid>,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<UserRecord> {
                    crate::people::set_role(&self.db, id, role, teams, at, audit).await
                }

                async fn set_password(
                    &self,
                    id: Uuid,
                    password_hash: String,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<()> {
                    crate::people::set_password(&self.db, id, password_hash, at, audit).await
                }

                async fn remove_user(
                    &self,
                    id: Uuid,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<()> {
                    crate::people::remove(&self.db, id, at, audit).await
                }

                async fn record_login(
                    &self,
                    id: Uuid,
                    succeeded: bool,
                    locked_until: Option<DateTime<Utc>>,
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<UserRecord> {
                    crate::people::record_login(&self.db, id, succeeded, locked_until, at, audit)
                        .await
                }

                async fn create_session(&self, session: SessionRecord) -> Result<()> {
                    crate::people::create_session(&self.db, session).await
                }

                async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
                    crate::people::session(&self.db, id_hash).await
                }

                async fn delete_session(&self, id_hash: &str) -> Result<()> {
                    crate::people::delete_session(&self.db, id_hash).await
                }

                async fn purge_sessions(&self, real_now: DateTime<Utc>) -> Result<u64> {
                    crate::people::purge_sessions(&self.db, real_now).await
                }
            }
        };
    };
}
