use chrono::{DateTime, Utc};
use interlock_core::Category;
use interlock_core::rules::RuleSet;
use uuid::Uuid;

use crate::Result;
use crate::models::*;
use crate::outbox::*;

/// Everything Interlock keeps. One implementation per database; all of them pass
/// [`crate::conformance`]. Handlers hold an `Arc<dyn Store>`.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Brings the schema up to date; safe to run again and from several nodes at once.
    async fn migrate(&self) -> Result<()>;

    /// True when the database answers.
    async fn ping(&self) -> Result<()>;

    // ---- teams and rules -------------------------------------------------------------

    /// Creates a team with its first rule set (version 1) in one transaction.
    /// `Duplicate` when the slug is taken.
    async fn create_team(&self, team: Team, rules: RuleSet, audit: AuditDraft) -> Result<Team>;
    async fn team(&self, id: Uuid) -> Result<Option<Team>>;
    async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>>;
    async fn list_teams(&self) -> Result<Vec<Team>>;

    /// The team's newest rule set.
    async fn current_rules(&self, team_id: Uuid) -> Result<RulesVersion>;
    async fn rules_version(&self, team_id: Uuid, version: u64) -> Result<Option<RulesVersion>>;
    /// Every version, newest first.
    async fn list_rules_versions(&self, team_id: Uuid) -> Result<Vec<RulesVersion>>;
    /// Saves `rules` as version `expected_current + 1`; `StaleRules` when another save
    /// came first. The audit entry (with before and after) is written in the same
    /// transaction.
    async fn save_rules(
        &self,
        team_id: Uuid,
        expected_current: u64,
        rules: RuleSet,
        actor: Actor,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<RulesVersion>;

    // ---- keys ------------------------------------------------------------------------

    async fn create_key(&self, key: KeyRecord, audit: AuditDraft) -> Result<KeyRecord>;
    async fn key(&self, id: &str) -> Result<Option<KeyRecord>>;
    async fn list_keys(&self) -> Result<Vec<KeyRecord>>;
    /// Marks a key revoked; `NotFound` if there is no such key. Revoking twice keeps
    /// the first time.
    async fn revoke_key(&self, id: &str, at: DateTime<Utc>, audit: AuditDraft)
    -> Result<KeyRecord>;
    /// Records use of a key (callers throttle this; it is not audited).
    async fn touch_key(&self, id: &str, at: DateTime<Utc>) -> Result<()>;

    // ---- people and sessions ---------------------------------------------------------

    /// `Duplicate` when the email is taken.
    async fn create_user(&self, user: UserRecord, audit: AuditDraft) -> Result<UserRecord>;
    async fn user(&self, id: Uuid) -> Result<Option<UserRecord>>;
    /// Looks the address up case-insensitively.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    async fn list_users(&self) -> Result<Vec<UserRecord>>;
    /// Changes role and teams together, audited.
    async fn set_user_role(
        &self,
        id: Uuid,
        role: Role,
        teams: Vec<Uuid>,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<UserRecord>;
    async fn set_password(
        &self,
        id: Uuid,
        password_hash: String,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Removes a person, revokes their keys and ends their sessions, in one transaction.
    async fn remove_user(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()>;
    /// Records a login attempt's outcome (and its audit entry) in one transaction:
    /// success resets the failure count; failure counts up and may lock until a time.
    async fn record_login(
        &self,
        id: Uuid,
        succeeded: bool,
        locked_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<UserRecord>;

    async fn create_session(&self, session: SessionRecord) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Drops expired sessions; returns how many.
    async fn purge_sessions(&self, real_now: DateTime<Utc>) -> Result<u64>;

    // ---- actions and plans -----------------------------------------------------------

    /// Inserts proposals in one transaction (group commit). An idempotency key already
    /// used in the team, or earlier in the same batch, yields the first action instead.
    async fn insert_actions(&self, batch: Vec<NewAction>) -> Result<Vec<Inserted>>;
    /// Inserts a plan and all its steps in one transaction.
    async fn insert_plan(
        &self,
        plan: PlanRecord,
        steps: Vec<NewAction>,
        audit: AuditDraft,
    ) -> Result<(PlanRecord, Vec<ActionRecord>)>;
    async fn plan(&self, id: Uuid) -> Result<Option<PlanRecord>>;
    /// The plan's steps in step order.
    async fn plan_actions(&self, plan_id: Uuid) -> Result<Vec<ActionRecord>>;

    async fn action(&self, id: Uuid) -> Result<Option<ActionRecord>>;
    /// The actions of `ids` that exist, in no particular order: one read for many (the
    /// scheduler reads the subjects of the jobs it claimed together).
    async fn actions(&self, ids: &[Uuid]) -> Result<Vec<ActionRecord>>;
    async fn action_by_idempotency_key(
        &self,
        team_id: Uuid,
        key: &str,
    ) -> Result<Option<ActionRecord>>;
    /// Newest first. The cursor is opaque: pass back `next_cursor`.
    async fn list_actions(
        &self,
        filter: &ActionFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ActionRecord>>;

    /// Applies a transition with a conditional update; `Conflict` (with the current
    /// action) when the action is no longer at `transition.from`/`from_version`, in
    /// which case nothing of the change is written.
    async fn apply_change(&self, change: ActionChange) -> Result<ActionRecord>;

    /// Records a reminder if the action is still armed, and moves its timer to
    /// `next_run_at`. Returns false (and ends the timer) if it is no longer armed.
    async fn record_reminder(&self, reminder: ReminderSent) -> Result<bool>;

    /// Records a failed attempt and puts the execution job back for `retry_at`.
    async fn record_attempt_failure(&self, failure: AttemptFailed) -> Result<()>;

    // ---- jobs ------------------------------------------------------------------------

    /// Claims up to `limit` ready jobs due by `due_by` (Interlock time), oldest first,
    /// for `worker` until `lease_until` (real time). Two workers never claim one job.
    async fn claim_jobs(
        &self,
        due_by: DateTime<Utc>,
        worker: &str,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// Marks a claimed job done. False if the worker no longer holds it.
    async fn finish_job(&self, id: i64, worker: &str) -> Result<bool>;
    /// Puts a claimed job back, ready at `run_at`.
    async fn reschedule_job(&self, id: i64, worker: &str, run_at: DateTime<Utc>) -> Result<bool>;
    /// Returns every job `worker` holds to ready. A node calls it when it starts: a
    /// process just started runs nothing, so what its name still holds was left by its
    /// previous run (node names are unique per deployment). Returns how many.
    async fn release_claims_of(&self, worker: &str) -> Result<u64>;
    /// Returns jobs whose lease ran out (a worker died) to ready. Returns how many.
    async fn rescue_expired_jobs(&self, real_now: DateTime<Utc>) -> Result<u64>;
    /// When the earliest ready job is due, if any.
    async fn next_job_due(&self) -> Result<Option<DateTime<Utc>>>;
    /// Schedules jobs outside an action change (a plan check after a restart, tests).
    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> Result<()>;

    // ---- connectors, deliveries ------------------------------------------------------

    async fn set_connector(
        &self,
        team_id: Uuid,
        category: Category,
        config: ConnectorConfig,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()>;
    /// The connector for a team's category; `None` means the default (`log`).
    async fn connector(&self, team_id: Uuid, category: Category)
    -> Result<Option<ConnectorConfig>>;
    async fn connectors(&self, team_id: Uuid) -> Result<Vec<(Category, ConnectorConfig)>>;

    /// Notifications recorded for an action, oldest first.
    async fn deliveries_for_action(&self, action_id: Uuid) -> Result<Vec<Delivery>>;
    async fn delivery(&self, id: Uuid) -> Result<Option<Delivery>>;
    /// Records what became of a delivery on one target, replacing what was recorded
    /// before for that pair (there is one row per delivery and target).
    async fn record_send(&self, send: DeliverySend) -> Result<()>;
    /// Every target's outcome of one delivery.
    async fn sends_for_delivery(&self, delivery_id: Uuid) -> Result<Vec<DeliverySend>>;
    /// A target's latest outcomes, newest first, at most `limit`.
    async fn sends_for_target(&self, target: SendTarget, limit: u32) -> Result<Vec<DeliverySend>>;

    // ---- notification channels -------------------------------------------------------

    async fn create_channel(&self, channel: ChannelRecord, audit: AuditDraft) -> Result<()>;
    async fn channel(&self, id: Uuid) -> Result<Option<ChannelRecord>>;
    /// A team's channels, oldest first.
    async fn channels(&self, team_id: Uuid) -> Result<Vec<ChannelRecord>>;
    /// `NotFound` when there is no such channel.
    async fn delete_channel(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()>;

    // ---- cards -----------------------------------------------------------------------

    /// Applies [`CardWork`] in one transaction and returns the card as it is after.
    async fn work_card(&self, work: CardWork) -> Result<Card>;
    async fn card(&self, team_id: Uuid, card_id: &str) -> Result<Option<Card>>;
    /// The card's notes, oldest first.
    async fn card_notes(&self, team_id: Uuid, card_id: &str) -> Result<Vec<CardNote>>;
    /// Cards of the visible teams (`None`: all), most recently changed first, at most
    /// `limit`. Cards appear when an action or plan names them.
    async fn list_cards(&self, visible_teams: Option<&[Uuid]>, limit: u32) -> Result<Vec<Card>>;
    /// The plans about a card, oldest first.
    async fn plans_for_card(&self, team_id: Uuid, card_id: &str) -> Result<Vec<PlanRecord>>;

    // ---- audit -----------------------------------------------------------------------

    /// Appends entries outside an action change (logins, key changes, …).
    async fn append_audit(&self, at: DateTime<Utc>, entries: Vec<AuditDraft>) -> Result<()>;
    /// Newest first; the cursor is opaque.
    async fn search_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>>;
    /// Every chain's name and its recorded head `(seq, hash)`.
    async fn audit_heads(&self) -> Result<Vec<(String, u64, String)>>;
    /// A chain's entries in sequence order, from `after_seq` on, at most `limit`.
    async fn audit_chain(&self, chain: &str, after_seq: u64, limit: u32)
    -> Result<Vec<AuditEntry>>;

    // ---- clock -----------------------------------------------------------------------

    /// Records the time-scale agreement unless one exists; returns the one in force.
    async fn agree_clock(&self, proposed: ClockSettings) -> Result<ClockSettings>;
    async fn clock_settings(&self) -> Result<Option<ClockSettings>>;
}
