//! Connectors, the notification outbox, and the clock agreement.

use chrono::{DateTime, Utc};
use interlock_core::Category;
use interlock_store::{AuditDraft, ClockSettings, ConnectorConfig, Delivery, NewDelivery, Result};
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::db::{Db, DbResult, Tx, Writes, rows_per_statement};
use crate::jobs::push_jobs;
use crate::rows::{self, json_text, ms};
use interlock_store_sql::outbox::notify_jobs;

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
    deliveries: &[(i64, NewDelivery)],
) -> Result<()> {
    let mut w = Writes::default();
    push_deliveries(&mut w, deliveries);
    w.run(tx).await
}

/// Writes notifications to the outbox with their `notify` jobs (see `notify_jobs`).
pub(crate) fn push_deliveries(w: &mut Writes, deliveries: &[(i64, NewDelivery)]) {
    for chunk in deliveries.chunks(rows_per_statement(8)) {
        w.statement(
            "INSERT INTO deliveries (uid, team_id, action_id, event, reminder, payload, callback_url, created_at) ",
        )
        .push_values(chunk, |mut s, (at, d)| {
            s.push_bind(d.id.to_string())
                .push_bind(d.team_id.to_string())
                .push_bind(d.action_id.map(|a| a.to_string()))
                .push_bind(d.event.clone())
                .push_bind(d.reminder.map(|r| r.as_str()))
                .push_bind(d.payload.to_string())
                .push_bind(d.callback_url.clone())
                .push_bind(*at);
        });
    }
    push_jobs(w, &notify_jobs(deliveries));
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
