//! Connectors, the notification outbox, and the clock agreement.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use interlock_core::Category;
use interlock_store::{AuditDraft, ClockSettings, ConnectorConfig, Delivery, NewDelivery, Result};
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::db::{Db, DbResult, Tx, Writes, json_rows};
use crate::rows::{self, json_text, ms};
use interlock_store_sql::outbox::notify_jobs_for;

pub(crate) async fn set(
    db: &Db,
    team_id: Uuid,
    category: Category,
    config: ConnectorConfig,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO connectors (team_id, category, config, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (team_id, category) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
    )
    .bind(team_id.to_string())
    .bind(category.as_str())
    .bind(json_text(&config))
    .bind(ms(at))
    .execute(&mut *tx)
    .await
    .db()?;
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, at, &audit).await?;
    appender.write(&mut tx).await?;
    tx.commit().await.db()
}

pub(crate) async fn get(
    db: &Db,
    team_id: Uuid,
    category: Category,
) -> Result<Option<ConnectorConfig>> {
    let row = sqlx::query("SELECT * FROM connectors WHERE team_id = ? AND category = ?")
        .bind(team_id.to_string())
        .bind(category.as_str())
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    Ok(row
        .as_ref()
        .map(rows::connector)
        .transpose()?
        .map(|(_, c)| c))
}

pub(crate) async fn list(db: &Db, team_id: Uuid) -> Result<Vec<(Category, ConnectorConfig)>> {
    let rows = sqlx::query("SELECT * FROM connectors WHERE team_id = ?")
        .bind(team_id.to_string())
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    let mut all = rows
        .iter()
        .map(rows::connector)
        .collect::<Result<Vec<_>>>()?;
    all.sort_by_key(|(c, _)| *c);
    Ok(all)
}

/// Writes notifications to the outbox, each with its creation time (unix ms).
pub(crate) async fn insert_deliveries(
    tx: &mut Tx,
    deliveries: &[(i64, &NewDelivery)],
) -> Result<()> {
    let mut w = Writes::default();
    push_deliveries(&mut w, deliveries);
    w.run(tx).await
}

/// A delivery as [`INSERT_DELIVERIES`] reads it: its columns by position.
#[derive(serde::Serialize)]
struct DeliveryRow<'a>(
    String,               // 0 uid
    String,               // 1 team id
    Option<String>,       // 2 action id
    &'a str,              // 3 event
    Option<&'static str>, // 4 reminder
    String,               // 5 payload
    Option<&'a str>,      // 6 callback url
    i64,                  // 7 created at
);

const INSERT_DELIVERIES: &str = "INSERT INTO deliveries
        (uid, team_id, action_id, event, reminder, payload, callback_url, created_at)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
            value ->> 6, value ->> 7
       FROM jsonb_each(?)";

/// The `notify` jobs of the deliveries whose uids are bound (see `notify_jobs_for`).
static NOTIFY_JOBS: LazyLock<String> =
    LazyLock::new(|| notify_jobs_for("IN (SELECT value FROM jsonb_each(?))"));

/// Writes notifications to the outbox with their `notify` jobs (see `notify_jobs_for`).
pub(crate) fn push_deliveries(w: &mut Writes, deliveries: &[(i64, &NewDelivery)]) {
    let rows: Vec<DeliveryRow> = deliveries
        .iter()
        .map(|(at, d)| {
            DeliveryRow(
                d.id.to_string(),
                d.team_id.to_string(),
                d.action_id.map(|a| a.to_string()),
                &d.event,
                d.reminder.map(|r| r.as_str()),
                d.payload.to_string(),
                d.callback_url.as_deref(),
                *at,
            )
        })
        .collect();
    w.rows(INSERT_DELIVERIES, json_rows(&rows));
    let uids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    w.rows(NOTIFY_JOBS.as_str(), json_rows(&uids));
}

pub(crate) async fn deliveries_for_action(db: &Db, action_id: Uuid) -> Result<Vec<Delivery>> {
    let rows = sqlx::query("SELECT * FROM deliveries WHERE action_id = ? ORDER BY id")
        .bind(action_id.to_string())
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::delivery).collect()
}

/// The first agreement wins; later proposals only read it.
pub(crate) async fn agree_clock(db: &Db, proposed: ClockSettings) -> Result<ClockSettings> {
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO meta (key, value) VALUES ('clock', ?) ON CONFLICT (key) DO NOTHING")
        .bind(rows::clock_text(&proposed))
        .execute(&mut *tx)
        .await
        .db()?;
    let text: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'clock'")
        .fetch_one(&mut *tx)
        .await
        .db()?;
    tx.commit().await.db()?;
    rows::clock(&text)
}

pub(crate) async fn clock_settings(db: &Db) -> Result<Option<ClockSettings>> {
    let text: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'clock'")
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    text.as_deref().map(rows::clock).transpose()
}
