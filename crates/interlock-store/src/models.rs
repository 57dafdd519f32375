//! Rows as the rest of Interlock sees them. Backends map their columns to these; core
//! types never know about the database.

use chrono::{DateTime, Utc};
use interlock_core::rules::RuleSet;
use interlock_core::{Category, Level, Money, Reminder, ReminderKind, Status, Transition};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Who did something, as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// The key id for agents and service keys, the user id for members, a name for system.
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Agent,
    Member,
    /// An admin service key (automation acting with the owner's rights).
    Service,
    System,
}

impl ActorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorKind::Agent => "agent",
            ActorKind::Member => "member",
            ActorKind::Service => "service",
            ActorKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<ActorKind> {
        [
            ActorKind::Agent,
            ActorKind::Member,
            ActorKind::Service,
            ActorKind::System,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl Actor {
    pub fn system(what: &str) -> Actor {
        Actor {
            kind: ActorKind::System,
            id: what.to_owned(),
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// One saved version of a team's rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesVersion {
    pub team_id: Uuid,
    pub version: u64,
    pub rules: RuleSet,
    pub created_at: DateTime<Utc>,
    pub created_by: Actor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Belongs to one team; proposes and reads its own actions.
    Agent,
    /// Deployment-wide service key with the owner's rights.
    Admin,
    /// A person's key, acting with that person's rights.
    User,
}

impl KeyKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyKind::Agent => "agent",
            KeyKind::Admin => "admin",
            KeyKind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        [KeyKind::Agent, KeyKind::Admin, KeyKind::User]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An API key as stored: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The public part of the key, e.g. `k_01j…`; the bearer token is `<id>.<secret>`.
    pub id: String,
    pub kind: KeyKind,
    pub team_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub name: Option<String>,
    /// SHA-256 of the secret part, hex.
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A proposed action with everything known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub id: Uuid,
    pub team_id: Uuid,
    pub category: Category,
    pub title: String,
    pub rationale: String,
    /// What runs: the agent's payload, or the approver's edited one.
    pub payload: Value,
    /// The agent's payload, kept when an approval edited it.
    pub original_payload: Option<Value>,
    pub amount: Option<Money>,
    pub tags: Vec<String>,
    pub card_id: Option<String>,
    pub plan_id: Option<Uuid>,
    /// Position in its plan (0-based).
    pub plan_step: Option<u32>,
    /// Earlier actions of the same plan that must execute first.
    pub after: Vec<Uuid>,
    pub level: Level,
    pub status: Status,
    pub version: u64,
    /// The decision as served by the API (level, rule, version, explanation, …).
    pub decision: Value,
    pub rule_set_version: u64,
    pub armed_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    pub reminders: Vec<Reminder>,
    /// The instant of the last reminder sent, so a late scheduler sends no burst.
    pub last_reminder_at: Option<DateTime<Utc>>,
    pub proposed_by: Actor,
    pub idempotency_key: Option<String>,
    pub callback_url: Option<String>,
    /// Who approved, held, rejected, withdrew or retried last.
    pub decided_by: Option<Actor>,
    /// The reason of a hold or rejection, or why a step was cancelled.
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub executed_at: Option<DateTime<Utc>>,
}

/// Kinds of durable job. Timer: the next reminder or deadline of an armed time bomb.
/// Execute: run the action through its connector. PlanCheck: release or cancel the
/// dependent steps of a plan after one of its steps changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Timer,
    Execute,
    PlanCheck,
    /// Send one delivery of the outbox to its channels (or callback); the subject is the
    /// delivery's id.
    Notify,
}

impl JobKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::Timer => "timer",
            JobKind::Execute => "execute",
            JobKind::PlanCheck => "plan_check",
            JobKind::Notify => "notify",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        [
            JobKind::Timer,
            JobKind::Execute,
            JobKind::PlanCheck,
            JobKind::Notify,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A job to schedule. `subject` is an action id (a plan id for PlanCheck).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    pub subject: Uuid,
    /// In Interlock time.
    pub run_at: DateTime<Utc>,
}

/// A job claimed by a worker until `lease_until` (real time, so leases do not shrink
/// when Interlock time is sped up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub subject: Uuid,
    pub run_at: DateTime<Utc>,
    /// How many times this job has been claimed, this claim included.
    pub attempt: u32,
    pub claimed_by: String,
    pub lease_until: DateTime<Utc>,
}

/// An audit entry before the store numbers and chains it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDraft {
    /// `None` for deployment-wide events (a team created, an admin key made).
    pub team_id: Option<Uuid>,
    pub actor: Actor,
    /// What the entry is about: an action id, a team slug, a key id.
    pub subject: Option<String>,
    pub event: String,
    pub data: Value,
}

/// An entry of the append-only, hash-chained audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Global order of insertion, used as the search cursor.
    pub id: i64,
    pub chain: String,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub team_id: Option<Uuid>,
    pub actor: Actor,
    pub subject: Option<String>,
    pub event: String,
    /// The entry's data exactly as hashed (JSON text).
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A notification waiting to go out (the outbox). Channels deliver it. Writing one also
/// schedules its `notify` job, in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// Also the receivers' idempotency key.
    pub id: Uuid,
    pub team_id: Uuid,
    pub action_id: Option<Uuid>,
    /// `action.awaiting_approval`, `time_bomb.armed`, `time_bomb.reminder`, …
    pub event: String,
    pub reminder: Option<ReminderKind>,
    pub payload: Value,
    /// An agent callback goes to this URL alone, not to the team's channels.
    pub callback_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: Uuid,
    pub team_id: Uuid,
    pub action_id: Option<Uuid>,
    pub event: String,
    pub reminder: Option<ReminderKind>,
    pub payload: Value,
    pub callback_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new action, with the jobs, audit entries and notifications of its proposal.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub action: ActionRecord,
    pub jobs: Vec<NewJob>,
    pub audit: Vec<AuditDraft>,
    pub deliveries: Vec<NewDelivery>,
}

impl NewAction {
    /// This new action with `change`, made from it as proposed, applied in the same
    /// commit: the action is inserted as the change leaves it, with the change's audit
    /// entries after the proposal's, and its jobs and notifications too. (A proposal that
    /// starts executing on the `log` connector is inserted executed this way.)
    pub fn then(self, change: ActionChange) -> NewAction {
        debug_assert_eq!(self.action.id, change.action.id);
        debug_assert_eq!(self.action.version, change.transition.from_version);
        debug_assert!(change.finish_job.is_none() && change.continue_as.is_none());
        NewAction {
            action: change
                .action
                .after(&change.transition, &change.update, change.at),
            jobs: joined(self.jobs, change.jobs),
            audit: joined(self.audit, change.audit),
            deliveries: joined(self.deliveries, change.deliveries),
        }
    }
}

/// The outcome of inserting one proposal.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Created(ActionRecord),
    /// The team already had an action with this idempotency key: that one.
    Existing(ActionRecord),
}

impl Inserted {
    pub fn record(&self) -> &ActionRecord {
        match self {
            Inserted::Created(a) | Inserted::Existing(a) => a,
        }
    }
}

/// Fields a transition may set besides status and version. `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionUpdate {
    pub payload: Option<Value>,
    pub original_payload: Option<Value>,
    pub decided_by: Option<Actor>,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub last_error: Option<String>,
    pub attempts: Option<u32>,
    pub executed_at: Option<DateTime<Utc>>,
}

impl ActionUpdate {
    /// This update followed by `later`: each field as `later` sets it, else as this one.
    pub fn then(self, later: ActionUpdate) -> ActionUpdate {
        ActionUpdate {
            payload: later.payload.or(self.payload),
            original_payload: later.original_payload.or(self.original_payload),
            decided_by: later.decided_by.or(self.decided_by),
            reason: later.reason.or(self.reason),
            comment: later.comment.or(self.comment),
            last_error: later.last_error.or(self.last_error),
            attempts: later.attempts.or(self.attempts),
            executed_at: later.executed_at.or(self.executed_at),
        }
    }
}

impl ActionRecord {
    /// This action as `transition` with `update` at `at` leaves it: what a conditional
    /// update writes. Fields that change without a new version (attempts and errors
    /// recorded, reminders sent) are as this record has them.
    pub fn after(&self, transition: &Transition, update: &ActionUpdate, at: DateTime<Utc>) -> Self {
        let mut after = self.clone();
        after.status = transition.to;
        after.version = transition.to_version;
        after.updated_at = at;
        let u = update.clone();
        after.payload = u.payload.unwrap_or(after.payload);
        after.original_payload = u.original_payload.or(after.original_payload);
        after.decided_by = u.decided_by.or(after.decided_by);
        after.reason = u.reason.or(after.reason);
        after.comment = u.comment.or(after.comment);
        after.last_error = u.last_error.or(after.last_error);
        after.attempts = u.attempts.unwrap_or(after.attempts);
        after.executed_at = u.executed_at.or(after.executed_at);
        after
    }
}

/// One state change of an action with its consequences, applied in one transaction
/// with a conditional update on `(id, transition.from, transition.from_version)`.
#[derive(Debug, Clone)]
pub struct ActionChange {
    /// The action as the change was made from it: at `transition.from` and
    /// `from_version`. A store answers a change that wins with this record after the
    /// change ([`ActionRecord::after`]), so it need not read back what it wrote.
    pub action: ActionRecord,
    pub transition: Transition,
    pub at: DateTime<Utc>,
    pub update: ActionUpdate,
    /// Jobs this change schedules (an execution, a plan check).
    pub jobs: Vec<NewJob>,
    /// The claimed job this change completes, marked done in the same transaction.
    pub finish_job: Option<i64>,
    /// Instead of marking `finish_job` done, turn it into a job of this kind that stays
    /// claimed, with its lease, by the worker that holds it (its `attempt` restarts at
    /// 1). That worker runs it at once: a deadline hands its claim on to the execution,
    /// sparing a claim and its commit; if the worker dies, the lease runs out and any
    /// node runs the new job.
    pub continue_as: Option<JobKind>,
    /// End the action's pending timer job (it left `armed`).
    pub stop_timer: bool,
    pub audit: Vec<AuditDraft>,
    pub deliveries: Vec<NewDelivery>,
}

impl ActionChange {
    pub fn action_id(&self) -> Uuid {
        self.action.id
    }

    /// This change followed at once by `next`, which was made from the action as this
    /// change leaves it, written as one change: a single conditional update from this
    /// change's status and version to `next`'s, with the jobs, notifications and audit
    /// entries of both (in order). Both happen or neither does. Only for steps between
    /// which nothing happens outside the database, such as an execution that is only its
    /// own record (the `log` connector).
    pub fn then(self, next: ActionChange) -> ActionChange {
        debug_assert_eq!(self.action.id, next.action.id);
        debug_assert_eq!(self.transition.to_version, next.transition.from_version);
        ActionChange {
            transition: Transition {
                event: next.transition.event,
                from: self.transition.from,
                to: next.transition.to,
                from_version: self.transition.from_version,
                to_version: next.transition.to_version,
            },
            at: next.at,
            update: self.update.then(next.update),
            jobs: joined(self.jobs, next.jobs),
            finish_job: next.finish_job.or(self.finish_job),
            continue_as: next.continue_as,
            stop_timer: self.stop_timer || next.stop_timer,
            audit: joined(self.audit, next.audit),
            deliveries: joined(self.deliveries, next.deliveries),
            action: self.action,
        }
    }
}

/// `first` then `then`, in order: the consequences of two steps written as one.
fn joined<T>(mut first: Vec<T>, then: Vec<T>) -> Vec<T> {
    first.extend(then);
    first
}

/// A reminder to record for an armed action, with the timer's next run.
#[derive(Debug, Clone)]
pub struct ReminderSent {
    pub action_id: Uuid,
    pub reminder: Reminder,
    /// When it was sent (Interlock time): the audit entry's time, which shows a reminder
    /// sent late after downtime. `reminder.at` is when it was due.
    pub at: DateTime<Utc>,
    pub timer_job: i64,
    /// When the timer runs next (the next reminder, or the deadline).
    pub next_run_at: DateTime<Utc>,
    pub audit: AuditDraft,
    pub delivery: NewDelivery,
}

/// A failed execution attempt that will be tried again.
#[derive(Debug, Clone)]
pub struct AttemptFailed {
    pub action_id: Uuid,
    pub job_id: i64,
    /// When the attempt failed (Interlock time): the audit entry's time.
    pub at: DateTime<Utc>,
    pub attempts: u32,
    pub error: String,
    pub retry_at: DateTime<Utc>,
    pub audit: AuditDraft,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRecord {
    pub id: Uuid,
    pub team_id: Uuid,
    pub card_id: Option<String>,
    pub summary: String,
    pub proposed_by: Actor,
    pub created_at: DateTime<Utc>,
}

/// Which actions to list. Every set field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    /// The teams the caller may see; `None` is every team (deployment-wide roles).
    pub visible_teams: Option<Vec<Uuid>>,
    pub team_id: Option<Uuid>,
    pub statuses: Vec<Status>,
    pub category: Option<Category>,
    pub level: Option<Level>,
    /// Only actions proposed by this actor (an agent sees its own).
    pub proposed_by: Option<Actor>,
    pub plan_id: Option<Uuid>,
    /// Only actions about this card.
    pub card_id: Option<String>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Teams the caller may see; `None` is every team and the deployment chain.
    pub visible_teams: Option<Vec<Uuid>>,
    pub team_id: Option<Uuid>,
    pub subject: Option<String>,
    pub actor_id: Option<String>,
    pub event: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries strictly before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// One page of a listing, newest first, and the cursor for the next.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// How a connector carries out a team's actions of one category. Secrets are kept so
/// deliveries can be signed; the API never shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectorConfig {
    Log,
    /// Interlock carries the action out itself: INTERNAL_NOTE and ESCALATE on its cards.
    Builtin,
    Webhook {
        url: String,
        secret: String,
    },
    Smtp {
        host: String,
        port: u16,
        from: String,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        #[serde(default)]
        tls: SmtpTls,
    },
}

impl ConnectorConfig {
    /// The server of an `smtp` connector.
    pub fn smtp_server(&self) -> Option<crate::SmtpServer> {
        match self {
            ConnectorConfig::Smtp {
                host,
                port,
                from,
                username,
                password,
                tls,
            } => Some(crate::SmtpServer {
                host: host.clone(),
                port: *port,
                from: from.clone(),
                username: username.clone(),
                password: password.clone(),
                tls: *tls,
            }),
            _ => None,
        }
    }
}

/// How to talk to an SMTP server: in the clear (a relay on localhost), upgrading with
/// STARTTLS (port 587), or TLS from the first byte (port 465).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    None,
    #[default]
    Starttls,
    Tls,
}

/// The time-scale agreement recorded by the first sped-up start (SPEC §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSettings {
    pub scale: u32,
    pub real_origin: DateTime<Utc>,
    pub interlock_origin: DateTime<Utc>,
}

/// A person's role (SPEC §12). Viewers and managers act within their teams; admins and
/// owners across the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Manager,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Manager, Role::Admin, Role::Owner];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Admins and owners act on every team; viewers and managers only on their own.
    pub const fn is_deployment_wide(self) -> bool {
        matches!(self, Role::Admin | Role::Owner)
    }
}

/// A person who can log in to the console or act through a personal key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Uuid,
    /// Lower-case; unique.
    pub email: String,
    pub role: Role,
    /// The teams they belong to (meaningful for viewers and managers).
    pub teams: Vec<Uuid>,
    /// Argon2id PHC string; `None` for a person who only uses keys.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Failed logins since the last success, for slowing down and locking guessing.
    pub failed_logins: u32,
    /// Logins are refused until then (real time).
    pub locked_until: Option<DateTime<Utc>>,
}

/// A console session. Only the SHA-256 of the session token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: Uuid,
    /// Sent back with every form, compared in constant time.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    /// Real time.
    pub expires_at: DateTime<Utc>,
}
