//! The outbox's per-target sends, and the notification channels they go to.

use chrono::{DateTime, Utc};
use interlock_store::{
    AuditDraft, ChannelRecord, Delivery, DeliverySend, Result, SendTarget, StoreError,
};
use interlock_store_sql::listing::page_limit;
use uuid::Uuid;

use crate::audit::append_in;
use crate::db::{Db, DbResult, duplicate_or_backend};
use crate::rows::{self, json_text, ms, target_text};

pub(crate) async fn delivery(db: &Db, id: Uuid) -> Result<Option<Delivery>> {
    let row = sqlx::query("SELECT * FROM deliveries WHERE uid = $1")
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await
        .db()?;
    row.as_ref().map(rows::delivery).transpose()
}

/// One row per delivery and target; a later outcome replaces the earlier one in place
/// (keeping its `seq`, as SQLite keeps its rowid).
pub(crate) async fn record_send(db: &Db, s: DeliverySend) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_sends (delivery_uid, target, state, attempts, answer, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (delivery_uid, target) DO UPDATE SET state = excluded.state,
             attempts = excluded.attempts, answer = excluded.answer,
             last_error = excluded.last_error, updated_at = excluded.updated_at",
    )
    .bind(s.delivery_id.to_string())
    .bind(target_text(s.target))
    .bind(s.state.as_str())
    .bind(i64::from(s.attempts))
    .bind(&s.answer)
    .bind(&s.last_error)
    .bind(ms(s.updated_at))
    .execute(&db.pool)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn sends_for_delivery(db: &Db, id: Uuid) -> Result<Vec<DeliverySend>> {
    let found = sqlx::query("SELECT * FROM delivery_sends WHERE delivery_uid = $1 ORDER BY target")
        .bind(id.to_string())
        .fetch_all(&db.pool)
        .await
        .db()?;
    found.iter().map(rows::delivery_send).collect()
}

pub(crate) async fn sends_for_target(
    db: &Db,
    target: SendTarget,
    limit: u32,
) -> Result<Vec<DeliverySend>> {
    let found = sqlx::query(
        "SELECT * FROM delivery_sends WHERE target = $1 ORDER BY updated_at DESC, seq DESC LIMIT $2",
    )
    .bind(target_text(target))
    .bind(page_limit(limit))
    .fetch_all(&db.pool)
    .await
    .db()?;
    found.iter().map(rows::delivery_send).collect()
}

pub(crate) async fn create_channel(db: &Db, c: ChannelRecord, audit: AuditDraft) -> Result<()> {
    let at = rows::to_millis(c.created_at);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO channels (id, team_id, kind, config, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(c.id.to_string())
    .bind(c.team_id.to_string())
    .bind(c.config.kind())
    .bind(json_text(&c.config))
    .bind(ms(at))
    .execute(&mut *tx)
    .await
    .map_err(|e| duplicate_or_backend(e, || format!("a channel with id {}", c.id)))?;
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()
}

pub(crate) async fn channel(db: &Db, id: Uuid) -> Result<Option<ChannelRecord>> {
    let row = sqlx::query("SELECT * FROM channels WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await
        .db()?;
    row.as_ref().map(rows::channel).transpose()
}

pub(crate) async fn channels(db: &Db, team_id: Uuid) -> Result<Vec<ChannelRecord>> {
    let found = sqlx::query("SELECT * FROM channels WHERE team_id = $1 ORDER BY created_at, id")
        .bind(team_id.to_string())
        .fetch_all(&db.pool)
        .await
        .db()?;
    found.iter().map(rows::channel).collect()
}

pub(crate) async fn delete_channel(
    db: &Db,
    id: Uuid,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let gone = sqlx::query("DELETE FROM channels WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .db()?;
    if gone.rows_affected() == 0 {
        return Err(StoreError::NotFound("channel"));
    }
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()
}
