//! Connectors, the notification outbox, and the clock agreement.

use chrono::{DateTime, Utc};
use interlock_core::Category;
use interlock_store::{AuditDraft, ClockSettings, ConnectorConfig, Delivery, NewDelivery, Result};
use uuid::Uuid;

use crate::audit::append_in;
use crate::db::{Db, DbResult, Tx};
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
        "INSERT INTO connectors (team_id, category, config, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (team_id, category) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
    )
    .bind(team_id.to_string())
    .bind(category.as_str())
    .bind(json_text(&config))
    .bind(ms(at))
    .execute(&mut *tx)
    .await
    .db()?;
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()
}

pub(crate) async fn list(db: &Db, team_id: Uuid) -> Result<Vec<(Category, ConnectorConfig)>> {
    let found = sqlx::query("SELECT * FROM connectors WHERE team_id = $1")
        .bind(team_id.to_string())
        .fetch_all(&db.pool)
        .await
        .db()?;
    let mut all = found
        .iter()
        .map(rows::connector)
        .collect::<Result<Vec<_>>>()?;
    all.sort_by_key(|(c, _)| *c);
    Ok(all)
}

/// Writes notifications to the outbox, each with its creation time (unix ms), and their
/// `notify` jobs (see `notify_jobs_for`), in two statements: the columns go as arrays.
pub(crate) async fn insert_deliveries(
    tx: &mut Tx,
    deliveries: &[(i64, &NewDelivery)],
) -> Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let column = |f: &dyn Fn(&NewDelivery) -> Option<String>| -> Vec<Option<String>> {
        deliveries.iter().map(|(_, d)| f(d)).collect()
    };
    let at: Vec<i64> = deliveries.iter().map(|(at, _)| *at).collect();
    sqlx::query(
        "INSERT INTO deliveries (uid, team_id, action_id, event, reminder, payload, callback_url, created_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::bigint[])",
    )
    .bind(column(&|d| Some(d.id.to_string())))
    .bind(column(&|d| Some(d.team_id.to_string())))
    .bind(column(&|d| d.action_id.map(|a| a.to_string())))
    .bind(column(&|d| Some(d.event.clone())))
    .bind(column(&|d| d.reminder.map(|r| r.as_str().to_owned())))
    .bind(column(&|d| Some(d.payload.to_string())))
    .bind(column(&|d| d.callback_url.clone()))
    .bind(&at)
    .execute(&mut **tx)
    .await
    .db()?;
    let uids: Vec<String> = deliveries.iter().map(|(_, d)| d.id.to_string()).collect();
    // Built from constants only; the uids are bound.
    sqlx::query(sqlx::AssertSqlSafe(notify_jobs_for("= ANY($1)")))
        .bind(&uids)
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn deliveries_for_action(db: &Db, action_id: Uuid) -> Result<Vec<Delivery>> {
    let found = sqlx::query("SELECT * FROM deliveries WHERE action_id = $1 ORDER BY id")
        .bind(action_id.to_string())
        .fetch_all(&db.pool)
        .await
        .db()?;
    found.iter().map(rows::delivery).collect()
}

/// The first agreement wins (also between nodes starting together: the insert is
/// settled by the primary key); later proposals only read it.
pub(crate) async fn agree_clock(db: &Db, proposed: ClockSettings) -> Result<ClockSettings> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ('clock', $1) ON CONFLICT (key) DO NOTHING")
        .bind(rows::clock_text(&proposed))
        .execute(&db.pool)
        .await
        .db()?;
    clock_settings(db)
        .await?
        .ok_or(interlock_store::StoreError::NotFound("clock agreement"))
}

pub(crate) async fn clock_settings(db: &Db) -> Result<Option<ClockSettings>> {
    let text: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'clock'")
        .fetch_optional(&db.pool)
        .await
        .db()?;
    text.as_deref().map(rows::clock).transpose()
}

pub(crate) async fn get(
    db: &Db,
    team_id: Uuid,
    category: Category,
) -> Result<Option<ConnectorConfig>> {
    Ok(list(db, team_id)
        .await?
        .into_iter()
        .find_map(|(c, config)| (c == category).then_some(config)))
}
