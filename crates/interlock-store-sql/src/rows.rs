//! The one place where rows become models and models become column values, for both
//! SQL backends. Storage conventions: times are unix milliseconds (64-bit integers), ids
//! and JSON are text, enums are their wire strings, money is amount text plus currency.
//! PostgreSQL keeps them too: JSON as text keeps the audit trail's hashed text byte for
//! byte, and one mapping serves both databases.

use chrono::{DateTime, Utc};
use interlock_core::rules::RuleSet;
use interlock_core::{Category, Currency, Level, Money, Reminder, ReminderKind, Status};
use interlock_store::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::query_builder::Separated;
use uuid::Uuid;

// ---- scalars -----------------------------------------------------------------------------

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn opt_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(ms)
}

/// Numbers the store counts (versions, sequence numbers) are `u64` in the models and
/// `INTEGER` (i64) in SQLite; no real count comes near the difference.
pub fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The instant as it reads back: storage keeps milliseconds.
pub fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms(t)).unwrap_or(t)
}

pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// Reading a row's columns, whatever the database: every column Interlock stores is
/// text or a 64-bit integer (see the module comment).
pub trait Columns {
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
}

impl<R: Row> Columns for R
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.try_get(col)
            .map_err(|e| corrupt(format_args!("column {col}: {e}")))
    }

    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        self.try_get(col)
            .map_err(|e| corrupt(format_args!("column {col}: {e}")))
    }
}

/// A text column that may not be NULL.
pub fn text(row: &impl Columns, col: &str) -> Result<String> {
    row.opt_text(col)?
        .ok_or_else(|| corrupt(format_args!("column {col}: unexpected NULL")))
}

/// An integer column that may not be NULL.
pub fn integer(row: &impl Columns, col: &str) -> Result<i64> {
    row.opt_int(col)?
        .ok_or_else(|| corrupt(format_args!("column {col}: unexpected NULL")))
}

/// A column read as the Rust type of the model field it fills.
trait Get: Sized {
    fn get(row: &impl Columns, col: &str) -> Result<Self>;
}

impl Get for String {
    fn get(row: &impl Columns, col: &str) -> Result<Self> {
        text(row, col)
    }
}

impl Get for Option<String> {
    fn get(row: &impl Columns, col: &str) -> Result<Self> {
        row.opt_text(col)
    }
}

impl Get for i64 {
    fn get(row: &impl Columns, col: &str) -> Result<Self> {
        integer(row, col)
    }
}

fn get<T: Get>(row: &impl Columns, col: &str) -> Result<T> {
    T::get(row, col)
}

/// Binding column values, whatever the database: text or 64-bit integers, NULL as `None`.
pub trait Binds {
    fn text(&mut self, v: Option<String>) -> &mut Self;
    fn int(&mut self, v: Option<i64>) -> &mut Self;
}

impl<DB: sqlx::Database, Sep: std::fmt::Display> Binds for Separated<'_, DB, Sep>
where
    for<'t> Option<String>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    fn text(&mut self, v: Option<String>) -> &mut Self {
        self.push_bind(v)
    }

    fn int(&mut self, v: Option<i64>) -> &mut Self {
        self.push_bind(v)
    }
}

fn time(row: &impl Columns, col: &str) -> Result<DateTime<Utc>> {
    let v = integer(row, col)?;
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| corrupt(format_args!("{col}: {v} is not a time")))
}

fn opt_time(row: &impl Columns, col: &str) -> Result<Option<DateTime<Utc>>> {
    let v = row.opt_int(col)?;
    v.map(|v| {
        DateTime::from_timestamp_millis(v)
            .ok_or_else(|| corrupt(format_args!("{col}: {v} is not a time")))
    })
    .transpose()
}

fn count(row: &impl Columns, col: &str) -> Result<u64> {
    let v = integer(row, col)?;
    u64::try_from(v).map_err(|_| corrupt(format_args!("{col}: {v} is negative")))
}

pub fn parse_uuid(col: &str, text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| corrupt(format_args!("{col}: {text:?}: {e}")))
}

fn uuid(row: &impl Columns, col: &str) -> Result<Uuid> {
    let v = text(row, col)?;
    parse_uuid(col, &v)
}

fn opt_uuid(row: &impl Columns, col: &str) -> Result<Option<Uuid>> {
    let v = row.opt_text(col)?;
    v.map(|v| parse_uuid(col, &v)).transpose()
}

fn parse_json<T: serde::de::DeserializeOwned>(col: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format_args!("{col}: {e}")))
}

fn json(row: &impl Columns, col: &str) -> Result<Value> {
    let v = text(row, col)?;
    parse_json(col, &v)
}

fn opt_json(row: &impl Columns, col: &str) -> Result<Option<Value>> {
    let v = row.opt_text(col)?;
    v.map(|v| parse_json(col, &v)).transpose()
}

fn name<T: std::str::FromStr>(row: &impl Columns, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let v = text(row, col)?;
    v.parse().map_err(|e| corrupt(format_args!("{col}: {e}")))
}

/// Actors are stored as `<prefix>_kind` and `<prefix>_id`.
fn actor(row: &impl Columns, prefix: &str) -> Result<Actor> {
    opt_actor(row, prefix)?.ok_or_else(|| corrupt(format_args!("{prefix}: missing actor")))
}

fn opt_actor(row: &impl Columns, prefix: &str) -> Result<Option<Actor>> {
    let kind = row.opt_text(&format!("{prefix}_kind"))?;
    let id = row.opt_text(&format!("{prefix}_id"))?;
    match (kind, id) {
        (Some(kind), Some(id)) => {
            let kind = ActorKind::parse(&kind)
                .ok_or_else(|| corrupt(format_args!("{prefix}_kind: {kind:?}")))?;
            Ok(Some(Actor { kind, id }))
        }
        _ => Ok(None),
    }
}

// ---- teams, rules, keys, plans -----------------------------------------------------------

pub fn team(row: &impl Columns) -> Result<Team> {
    Ok(Team {
        id: uuid(row, "id")?,
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
    })
}

/// Rule sets are stored as their canonical JSON document (the version is the row's).
pub fn rules_text(rules: &RuleSet) -> String {
    rules.to_json_pretty()
}

pub fn rules_version(row: &impl Columns) -> Result<RulesVersion> {
    let version = count(row, "version")?;
    let text = text(row, "rules")?;
    let rules = RuleSet::from_json_str(&text)
        .map_err(|e| corrupt(format_args!("rules version {version}: {e}")))?
        .with_version(version);
    Ok(RulesVersion {
        team_id: uuid(row, "team_id")?,
        version,
        rules,
        created_at: time(row, "created_at")?,
        created_by: actor(row, "created_by")?,
    })
}

pub fn key(row: &impl Columns) -> Result<KeyRecord> {
    let kind = text(row, "kind")?;
    Ok(KeyRecord {
        id: get(row, "id")?,
        kind: KeyKind::parse(&kind).ok_or_else(|| corrupt(format_args!("kind: {kind:?}")))?,
        team_id: opt_uuid(row, "team_id")?,
        user_id: opt_uuid(row, "user_id")?,
        name: get(row, "name")?,
        secret_hash: get(row, "secret_hash")?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}

/// A person without their teams (the caller reads memberships).
pub fn user(row: &impl Columns) -> Result<UserRecord> {
    let role = text(row, "role")?;
    let failed = integer(row, "failed_logins")?;
    Ok(UserRecord {
        id: parse_uuid("id", &text(row, "id")?)?,
        email: get(row, "email")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format_args!("role: {role:?}")))?,
        teams: Vec::new(),
        password_hash: get(row, "password_hash")?,
        created_at: time(row, "created_at")?,
        failed_logins: u32::try_from(failed)
            .map_err(|_| corrupt(format_args!("failed_logins: {failed}")))?,
        locked_until: opt_time(row, "locked_until")?,
    })
}

pub fn session(row: &impl Columns) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: get(row, "id_hash")?,
        user_id: parse_uuid("user_id", &text(row, "user_id")?)?,
        csrf_token: get(row, "csrf_token")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

pub fn plan(row: &impl Columns) -> Result<PlanRecord> {
    Ok(PlanRecord {
        id: uuid(row, "id")?,
        team_id: uuid(row, "team_id")?,
        card_id: get(row, "card_id")?,
        summary: get(row, "summary")?,
        proposed_by: actor(row, "proposed_by")?,
        created_at: time(row, "created_at")?,
    })
}

// ---- actions ------------------------------------------------------------------------------

/// Reminders are stored as a JSON array of `{"kind", "at"}` with `at` in milliseconds.
#[derive(Serialize, Deserialize)]
struct ReminderCol {
    kind: ReminderKind,
    at: i64,
}

pub const ACTION_COLUMNS: &str = "id, team_id, category, title, rationale, payload, \
    original_payload, amount, currency, tags, card_id, plan_id, plan_step, depends_on, level, \
    status, version, decision, rule_set_version, armed_at, deadline, reminders, \
    last_reminder_at, proposed_by_kind, proposed_by_id, idempotency_key, callback_url, \
    decided_by_kind, decided_by_id, reason, comment, attempts, last_error, created_at, \
    updated_at, executed_at";
pub const ACTION_COLUMN_COUNT: usize = 36;

/// Binds every column of [`ACTION_COLUMNS`] for one action, in that order.
pub fn push_action(mut s: impl Binds, a: &ActionRecord) {
    let reminders: Vec<ReminderCol> = a
        .reminders
        .iter()
        .map(|r| ReminderCol {
            kind: r.kind,
            at: ms(r.at),
        })
        .collect();
    s.text(Some(a.id.to_string()))
        .text(Some(a.team_id.to_string()))
        .text(Some(a.category.as_str().to_owned()))
        .text(Some(a.title.clone()))
        .text(Some(a.rationale.clone()))
        .text(Some(a.payload.to_string()))
        .text(a.original_payload.as_ref().map(Value::to_string))
        .text(a.amount.map(|m| m.amount_text()))
        .text(a.amount.map(|m| m.currency().code().to_owned()))
        .text(Some(json_text(&a.tags)))
        .text(a.card_id.clone())
        .text(a.plan_id.map(|p| p.to_string()))
        .int(a.plan_step.map(i64::from))
        .text(Some(json_text(&a.after)))
        .text(Some(a.level.as_str().to_owned()))
        .text(Some(a.status.as_str().to_owned()))
        .int(Some(int(a.version)))
        .text(Some(a.decision.to_string()))
        .int(Some(int(a.rule_set_version)))
        .int(opt_ms(a.armed_at))
        .int(opt_ms(a.deadline))
        .text(Some(json_text(&reminders)))
        .int(opt_ms(a.last_reminder_at))
        .text(Some(a.proposed_by.kind.as_str().to_owned()))
        .text(Some(a.proposed_by.id.clone()))
        .text(a.idempotency_key.clone())
        .text(a.callback_url.clone())
        .text(a.decided_by.as_ref().map(|d| d.kind.as_str().to_owned()))
        .text(a.decided_by.as_ref().map(|d| d.id.clone()))
        .text(a.reason.clone())
        .text(a.comment.clone())
        .int(Some(i64::from(a.attempts)))
        .text(a.last_error.clone())
        .int(Some(ms(a.created_at)))
        .int(Some(ms(a.updated_at)))
        .int(opt_ms(a.executed_at));
}

pub fn json_text<T: Serialize + ?Sized>(v: &T) -> String {
    // Serializing strings, ids and plain structs to JSON cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// The action as it reads back after being written: times keep milliseconds.
pub fn as_stored(mut a: ActionRecord) -> ActionRecord {
    let opt = |t: Option<DateTime<Utc>>| t.map(to_millis);
    a.armed_at = opt(a.armed_at);
    a.deadline = opt(a.deadline);
    a.last_reminder_at = opt(a.last_reminder_at);
    a.executed_at = opt(a.executed_at);
    a.created_at = to_millis(a.created_at);
    a.updated_at = to_millis(a.updated_at);
    for r in &mut a.reminders {
        r.at = to_millis(r.at);
    }
    a
}

pub fn action(row: &impl Columns) -> Result<ActionRecord> {
    let amount = row.opt_text("amount")?;
    let currency = row.opt_text("currency")?;
    let amount = match (amount, currency) {
        (Some(amount), Some(currency)) => {
            let currency: Currency = currency
                .parse()
                .map_err(|e| corrupt(format_args!("currency: {e}")))?;
            Some(
                Money::parse(&amount, currency)
                    .map_err(|e| corrupt(format_args!("amount: {e}")))?,
            )
        }
        _ => None,
    };
    let reminders: Vec<ReminderCol> = parse_json("reminders", &text(row, "reminders")?)?;
    let reminders = reminders
        .into_iter()
        .map(|r| {
            let at = DateTime::from_timestamp_millis(r.at)
                .ok_or_else(|| corrupt("reminders: bad time"))?;
            Ok(Reminder { kind: r.kind, at })
        })
        .collect::<Result<Vec<_>>>()?;
    let plan_step = row.opt_int("plan_step")?;
    Ok(ActionRecord {
        id: uuid(row, "id")?,
        team_id: uuid(row, "team_id")?,
        category: name::<Category>(row, "category")?,
        title: get(row, "title")?,
        rationale: get(row, "rationale")?,
        payload: json(row, "payload")?,
        original_payload: opt_json(row, "original_payload")?,
        amount,
        tags: parse_json("tags", &text(row, "tags")?)?,
        card_id: get(row, "card_id")?,
        plan_id: opt_uuid(row, "plan_id")?,
        plan_step: plan_step
            .map(|s| u32::try_from(s).map_err(|_| corrupt("plan_step: out of range")))
            .transpose()?,
        after: parse_json("depends_on", &text(row, "depends_on")?)?,
        level: name::<Level>(row, "level")?,
        status: name::<Status>(row, "status")?,
        version: count(row, "version")?,
        decision: json(row, "decision")?,
        rule_set_version: count(row, "rule_set_version")?,
        armed_at: opt_time(row, "armed_at")?,
        deadline: opt_time(row, "deadline")?,
        reminders,
        last_reminder_at: opt_time(row, "last_reminder_at")?,
        proposed_by: actor(row, "proposed_by")?,
        idempotency_key: get(row, "idempotency_key")?,
        callback_url: get(row, "callback_url")?,
        decided_by: opt_actor(row, "decided_by")?,
        reason: get(row, "reason")?,
        comment: get(row, "comment")?,
        attempts: attempts(row)?,
        last_error: get(row, "last_error")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        executed_at: opt_time(row, "executed_at")?,
    })
}

/// The columns a winning change's update returns: those of an action that change
/// without a new version (attempts and errors recorded, reminders sent), as the update
/// left them. The rest of the action is what the change was made from, changed.
pub const WRITTEN_COLUMNS: &str = "attempts, last_error, last_reminder_at";

/// The action as a change that won wrote it: the record it was made from, after the
/// change (times to the millisecond, as stored), with the [`WRITTEN_COLUMNS`] of `row`.
/// Reading the whole row back cost more than the update itself.
pub fn written(c: &ActionChange, row: &impl Columns) -> Result<ActionRecord> {
    let mut a = c.action.after(&c.transition, &c.update, to_millis(c.at));
    a.attempts = attempts(row)?;
    a.last_error = get(row, "last_error")?;
    a.last_reminder_at = opt_time(row, "last_reminder_at")?;
    a.executed_at = a.executed_at.map(to_millis);
    Ok(a)
}

fn attempts(row: &impl Columns) -> Result<u32> {
    u32::try_from(integer(row, "attempts")?).map_err(|_| corrupt("attempts: out of range"))
}

// ---- jobs, deliveries, audit, connectors, clock -----------------------------------------

pub fn job(row: &impl Columns) -> Result<Job> {
    let kind = text(row, "kind")?;
    let attempt = integer(row, "attempt")?;
    let claimed_by = row.opt_text("claimed_by")?;
    Ok(Job {
        id: get(row, "id")?,
        kind: JobKind::parse(&kind).ok_or_else(|| corrupt(format_args!("kind: {kind:?}")))?,
        subject: uuid(row, "subject")?,
        run_at: time(row, "run_at")?,
        attempt: u32::try_from(attempt).map_err(|_| corrupt("attempt: out of range"))?,
        claimed_by: claimed_by.ok_or_else(|| corrupt("claimed_by: a claimed job has no worker"))?,
        lease_until: opt_time(row, "lease_until")?
            .ok_or_else(|| corrupt("lease_until: a claimed job has no lease"))?,
    })
}

pub fn delivery(row: &impl Columns) -> Result<Delivery> {
    let reminder = row.opt_text("reminder")?;
    Ok(Delivery {
        id: uuid(row, "uid")?,
        team_id: uuid(row, "team_id")?,
        action_id: opt_uuid(row, "action_id")?,
        event: get(row, "event")?,
        reminder: reminder
            .map(|r| {
                r.parse()
                    .map_err(|e| corrupt(format_args!("reminder: {e}")))
            })
            .transpose()?,
        payload: json(row, "payload")?,
        callback_url: get(row, "callback_url")?,
        created_at: time(row, "created_at")?,
    })
}

/// A send's target as stored: the channel id, or `callback`.
pub fn target_text(t: SendTarget) -> String {
    match t {
        SendTarget::Channel(id) => id.to_string(),
        SendTarget::Callback => "callback".to_owned(),
    }
}

pub fn delivery_send(row: &impl Columns) -> Result<DeliverySend> {
    let target = text(row, "target")?;
    let state = text(row, "state")?;
    Ok(DeliverySend {
        delivery_id: uuid(row, "delivery_uid")?,
        target: if target == "callback" {
            SendTarget::Callback
        } else {
            SendTarget::Channel(parse_uuid("target", &target)?)
        },
        state: SendState::parse(&state).ok_or_else(|| corrupt(format_args!("state: {state:?}")))?,
        attempts: attempts(row)?,
        answer: get(row, "answer")?,
        last_error: get(row, "last_error")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub fn channel(row: &impl Columns) -> Result<ChannelRecord> {
    let config = text(row, "config")?;
    Ok(ChannelRecord {
        id: uuid(row, "id")?,
        team_id: uuid(row, "team_id")?,
        config: parse_json("config", &config)?,
        created_at: time(row, "created_at")?,
    })
}

pub fn card(row: &impl Columns) -> Result<Card> {
    let priority = text(row, "priority")?;
    Ok(Card {
        team_id: uuid(row, "team_id")?,
        id: get(row, "id")?,
        priority: CardPriority::parse(&priority)
            .ok_or_else(|| corrupt(format_args!("priority: {priority:?}")))?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub fn card_note(row: &impl Columns) -> Result<CardNote> {
    Ok(CardNote {
        id: get(row, "id")?,
        text: get(row, "text")?,
        author: actor(row, "author")?,
        action_id: opt_uuid(row, "action_id")?,
        created_at: time(row, "created_at")?,
    })
}

pub fn audit_entry(row: &impl Columns) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: get(row, "id")?,
        chain: get(row, "chain")?,
        seq: count(row, "seq")?,
        at: time(row, "at")?,
        team_id: opt_uuid(row, "team_id")?,
        actor: actor(row, "actor")?,
        subject: get(row, "subject")?,
        event: get(row, "event")?,
        data: get(row, "data")?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

pub fn connector(row: &impl Columns) -> Result<(Category, ConnectorConfig)> {
    let config = text(row, "config")?;
    Ok((name(row, "category")?, parse_json("config", &config)?))
}

/// The clock agreement is one JSON value in `meta`, so it is written atomically.
#[derive(Serialize, Deserialize)]
struct ClockCol {
    scale: u32,
    real_origin: i64,
    interlock_origin: i64,
}

pub fn clock_text(c: &ClockSettings) -> String {
    json_text(&ClockCol {
        scale: c.scale,
        real_origin: ms(c.real_origin),
        interlock_origin: ms(c.interlock_origin),
    })
}

pub fn clock(text: &str) -> Result<ClockSettings> {
    let c: ClockCol = parse_json("clock", text)?;
    let t = |v| DateTime::from_timestamp_millis(v).ok_or_else(|| corrupt("clock: bad time"));
    Ok(ClockSettings {
        scale: c.scale,
        real_origin: t(c.real_origin)?,
        interlock_origin: t(c.interlock_origin)?,
    })
}
