//! The one place where rows become models and models become column values. Storage
//! conventions (shared with the PostgreSQL backend): times are unix milliseconds, ids and
//! JSON are text, enums are their wire strings, money is amount text plus currency.

use chrono::{DateTime, Utc};
use interlock_core::rules::RuleSet;
use interlock_core::{Category, Currency, Level, Money, Reminder, ReminderKind, Status};
use interlock_store::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use uuid::Uuid;

// ---- scalars -----------------------------------------------------------------------------

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn opt_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(ms)
}

/// Numbers the store counts (versions, sequence numbers) are `u64` in the models and
/// `INTEGER` (i64) in SQLite; no real count comes near the difference.
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The instant as it reads back: storage keeps milliseconds.
pub(crate) fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms(t)).unwrap_or(t)
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(col)
        .map_err(|e| corrupt(format_args!("column {col}: {e}")))
}

fn time(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>> {
    let v: i64 = get(row, col)?;
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| corrupt(format_args!("{col}: {v} is not a time")))
}

fn opt_time(row: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    let v: Option<i64> = get(row, col)?;
    v.map(|v| {
        DateTime::from_timestamp_millis(v)
            .ok_or_else(|| corrupt(format_args!("{col}: {v} is not a time")))
    })
    .transpose()
}

fn count(row: &SqliteRow, col: &str) -> Result<u64> {
    let v: i64 = get(row, col)?;
    u64::try_from(v).map_err(|_| corrupt(format_args!("{col}: {v} is negative")))
}

pub(crate) fn parse_uuid(col: &str, text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| corrupt(format_args!("{col}: {text:?}: {e}")))
}

fn uuid(row: &SqliteRow, col: &str) -> Result<Uuid> {
    let v: String = get(row, col)?;
    parse_uuid(col, &v)
}

fn opt_uuid(row: &SqliteRow, col: &str) -> Result<Option<Uuid>> {
    let v: Option<String> = get(row, col)?;
    v.map(|v| parse_uuid(col, &v)).transpose()
}

fn parse_json<T: serde::de::DeserializeOwned>(col: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format_args!("{col}: {e}")))
}

fn json(row: &SqliteRow, col: &str) -> Result<Value> {
    let v: String = get(row, col)?;
    parse_json(col, &v)
}

fn opt_json(row: &SqliteRow, col: &str) -> Result<Option<Value>> {
    let v: Option<String> = get(row, col)?;
    v.map(|v| parse_json(col, &v)).transpose()
}

fn name<T: std::str::FromStr>(row: &SqliteRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let v: String = get(row, col)?;
    v.parse().map_err(|e| corrupt(format_args!("{col}: {e}")))
}

/// Actors are stored as `<prefix>_kind` and `<prefix>_id`.
fn actor(row: &SqliteRow, prefix: &str) -> Result<Actor> {
    opt_actor(row, prefix)?.ok_or_else(|| corrupt(format_args!("{prefix}: missing actor")))
}

fn opt_actor(row: &SqliteRow, prefix: &str) -> Result<Option<Actor>> {
    let kind: Option<String> = get(row, &format!("{prefix}_kind"))?;
    let id: Option<String> = get(row, &format!("{prefix}_id"))?;
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

pub(crate) fn team(row: &SqliteRow) -> Result<Team> {
    Ok(Team {
        id: uuid(row, "id")?,
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        created_at: time(row, "created_at")?,
    })
}

/// Rule sets are stored as their canonical JSON document (the version is the row's).
pub(crate) fn rules_text(rules: &RuleSet) -> String {
    rules.to_json_pretty()
}

pub(crate) fn rules_version(row: &SqliteRow) -> Result<RulesVersion> {
    let version = count(row, "version")?;
    let text: String = get(row, "rules")?;
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

pub(crate) fn key(row: &SqliteRow) -> Result<KeyRecord> {
    let kind: String = get(row, "kind")?;
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
pub(crate) fn user(row: &SqliteRow) -> Result<UserRecord> {
    let role: String = get(row, "role")?;
    let failed: i64 = get(row, "failed_logins")?;
    Ok(UserRecord {
        id: parse_uuid("id", &get::<String>(row, "id")?)?,
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

pub(crate) fn session(row: &SqliteRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: get(row, "id_hash")?,
        user_id: parse_uuid("user_id", &get::<String>(row, "user_id")?)?,
        csrf_token: get(row, "csrf_token")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
    })
}

pub(crate) fn plan(row: &SqliteRow) -> Result<PlanRecord> {
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

pub(crate) const ACTION_COLUMNS: &str = "id, team_id, category, title, rationale, payload, \
    original_payload, amount, currency, tags, card_id, plan_id, plan_step, depends_on, level, \
    status, version, decision, rule_set_version, armed_at, deadline, reminders, \
    last_reminder_at, proposed_by_kind, proposed_by_id, idempotency_key, callback_url, \
    decided_by_kind, decided_by_id, reason, comment, attempts, last_error, created_at, \
    updated_at, executed_at";
pub(crate) const ACTION_COLUMN_COUNT: usize = 36;

/// Binds every column of [`ACTION_COLUMNS`] for one action, in that order.
pub(crate) fn push_action(mut s: Separated<'_, Sqlite, &'static str>, a: &ActionRecord) {
    let reminders: Vec<ReminderCol> = a
        .reminders
        .iter()
        .map(|r| ReminderCol {
            kind: r.kind,
            at: ms(r.at),
        })
        .collect();
    s.push_bind(a.id.to_string())
        .push_bind(a.team_id.to_string())
        .push_bind(a.category.as_str())
        .push_bind(a.title.clone())
        .push_bind(a.rationale.clone())
        .push_bind(a.payload.to_string())
        .push_bind(a.original_payload.as_ref().map(Value::to_string))
        .push_bind(a.amount.map(|m| m.amount_text()))
        .push_bind(a.amount.map(|m| m.currency().code().to_owned()))
        .push_bind(json_text(&a.tags))
        .push_bind(a.card_id.clone())
        .push_bind(a.plan_id.map(|p| p.to_string()))
        .push_bind(a.plan_step.map(i64::from))
        .push_bind(json_text(&a.after))
        .push_bind(a.level.as_str())
        .push_bind(a.status.as_str())
        .push_bind(int(a.version))
        .push_bind(a.decision.to_string())
        .push_bind(int(a.rule_set_version))
        .push_bind(opt_ms(a.armed_at))
        .push_bind(opt_ms(a.deadline))
        .push_bind(json_text(&reminders))
        .push_bind(opt_ms(a.last_reminder_at))
        .push_bind(a.proposed_by.kind.as_str())
        .push_bind(a.proposed_by.id.clone())
        .push_bind(a.idempotency_key.clone())
        .push_bind(a.callback_url.clone())
        .push_bind(a.decided_by.as_ref().map(|d| d.kind.as_str()))
        .push_bind(a.decided_by.as_ref().map(|d| d.id.clone()))
        .push_bind(a.reason.clone())
        .push_bind(a.comment.clone())
        .push_bind(i64::from(a.attempts))
        .push_bind(a.last_error.clone())
        .push_bind(ms(a.created_at))
        .push_bind(ms(a.updated_at))
        .push_bind(opt_ms(a.executed_at));
}

pub(crate) fn json_text<T: Serialize + ?Sized>(v: &T) -> String {
    // Serializing strings, ids and plain structs to JSON cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// The action as it reads back after being written: times keep milliseconds.
pub(crate) fn as_stored(mut a: ActionRecord) -> ActionRecord {
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

pub(crate) fn action(row: &SqliteRow) -> Result<ActionRecord> {
    let amount: Option<String> = get(row, "amount")?;
    let currency: Option<String> = get(row, "currency")?;
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
    let reminders: Vec<ReminderCol> = parse_json("reminders", &get::<String>(row, "reminders")?)?;
    let reminders = reminders
        .into_iter()
        .map(|r| {
            let at = DateTime::from_timestamp_millis(r.at)
                .ok_or_else(|| corrupt("reminders: bad time"))?;
            Ok(Reminder { kind: r.kind, at })
        })
        .collect::<Result<Vec<_>>>()?;
    let plan_step: Option<i64> = get(row, "plan_step")?;
    let attempts: i64 = get(row, "attempts")?;
    Ok(ActionRecord {
        id: uuid(row, "id")?,
        team_id: uuid(row, "team_id")?,
        category: name::<Category>(row, "category")?,
        title: get(row, "title")?,
        rationale: get(row, "rationale")?,
        payload: json(row, "payload")?,
        original_payload: opt_json(row, "original_payload")?,
        amount,
        tags: parse_json("tags", &get::<String>(row, "tags")?)?,
        card_id: get(row, "card_id")?,
        plan_id: opt_uuid(row, "plan_id")?,
        plan_step: plan_step
            .map(|s| u32::try_from(s).map_err(|_| corrupt("plan_step: out of range")))
            .transpose()?,
        after: parse_json("depends_on", &get::<String>(row, "depends_on")?)?,
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
        attempts: u32::try_from(attempts).map_err(|_| corrupt("attempts: out of range"))?,
        last_error: get(row, "last_error")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        executed_at: opt_time(row, "executed_at")?,
    })
}

// ---- jobs, deliveries, audit, connectors, clock -----------------------------------------

pub(crate) fn job(row: &SqliteRow) -> Result<Job> {
    let kind: String = get(row, "kind")?;
    let attempt: i64 = get(row, "attempt")?;
    let claimed_by: Option<String> = get(row, "claimed_by")?;
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

pub(crate) fn delivery(row: &SqliteRow) -> Result<Delivery> {
    let reminder: Option<String> = get(row, "reminder")?;
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
pub(crate) fn target_text(t: SendTarget) -> String {
    match t {
        SendTarget::Channel(id) => id.to_string(),
        SendTarget::Callback => "callback".to_owned(),
    }
}

pub(crate) fn delivery_send(row: &SqliteRow) -> Result<DeliverySend> {
    let target: String = get(row, "target")?;
    let state: String = get(row, "state")?;
    let attempts: i64 = get(row, "attempts")?;
    Ok(DeliverySend {
        delivery_id: uuid(row, "delivery_uid")?,
        target: if target == "callback" {
            SendTarget::Callback
        } else {
            SendTarget::Channel(parse_uuid("target", &target)?)
        },
        state: SendState::parse(&state).ok_or_else(|| corrupt(format_args!("state: {state:?}")))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("attempts: out of range"))?,
        answer: get(row, "answer")?,
        last_error: get(row, "last_error")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn channel(row: &SqliteRow) -> Result<ChannelRecord> {
    let config: String = get(row, "config")?;
    Ok(ChannelRecord {
        id: uuid(row, "id")?,
        team_id: uuid(row, "team_id")?,
        config: parse_json("config", &config)?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn card(row: &SqliteRow) -> Result<Card> {
    let priority: String = get(row, "priority")?;
    Ok(Card {
        team_id: uuid(row, "team_id")?,
        id: get(row, "id")?,
        priority: CardPriority::parse(&priority)
            .ok_or_else(|| corrupt(format_args!("priority: {priority:?}")))?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn card_note(row: &SqliteRow) -> Result<CardNote> {
    Ok(CardNote {
        id: get(row, "id")?,
        text: get(row, "text")?,
        author: actor(row, "author")?,
        action_id: opt_uuid(row, "action_id")?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn audit_entry(row: &SqliteRow) -> Result<AuditEntry> {
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

pub(crate) fn connector(row: &SqliteRow) -> Result<(Category, ConnectorConfig)> {
    let config: String = get(row, "config")?;
    Ok((name(row, "category")?, parse_json("config", &config)?))
}

/// The clock agreement is one JSON value in `meta`, so it is written atomically.
#[derive(Serialize, Deserialize)]
struct ClockCol {
    scale: u32,
    real_origin: i64,
    interlock_origin: i64,
}

pub(crate) fn clock_text(c: &ClockSettings) -> String {
    json_text(&ClockCol {
        scale: c.scale,
        real_origin: ms(c.real_origin),
        interlock_origin: ms(c.interlock_origin),
    })
}

pub(crate) fn clock(text: &str) -> Result<ClockSettings> {
    let c: ClockCol = parse_json("clock", text)?;
    let t = |v| DateTime::from_timestamp_millis(v).ok_or_else(|| corrupt("clock: bad time"));
    Ok(ClockSettings {
        scale: c.scale,
        real_origin: t(c.real_origin)?,
        interlock_origin: t(c.interlock_origin)?,
    })
}
