//! API keys (only their secrets' hashes).

use chrono::{DateTime, Utc};
use interlock_store::{AuditDraft, KeyRecord, Result, StoreError};

use crate::audit::AuditAppender;
use crate::db::{Db, DbResult, duplicate_or_backend};
use crate::rows::{self, ms, opt_ms};

pub(crate) async fn create(db: &Db, key: KeyRecord, audit: AuditDraft) -> Result<KeyRecord> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "INSERT INTO api_keys (id, kind, team_id, user_id, name, secret_hash, created_at,
                               last_used_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(&key.id)
    .bind(key.kind.as_str())
    .bind(key.team_id.map(|t| t.to_string()))
    .bind(key.user_id.map(|u| u.to_string()))
    .bind(&key.name)
    .bind(&key.secret_hash)
    .bind(ms(key.created_at))
    .bind(opt_ms(key.last_used_at))
    .bind(opt_ms(key.expires_at))
    .bind(opt_ms(key.revoked_at))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| duplicate_or_backend(e, || format!("a key with id {:?}", key.id)))?;
    let stored = rows::key(&row)?;
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, key.created_at, &audit).await?;
    appender.write(&mut tx).await?;
    tx.commit().await.db()?;
    Ok(stored)
}

pub(crate) async fn by_id(db: &Db, id: &str) -> Result<Option<KeyRecord>> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::key).transpose()
}

pub(crate) async fn list(db: &Db) -> Result<Vec<KeyRecord>> {
    let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at, id")
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::key).collect()
}

pub(crate) async fn revoke(
    db: &Db,
    id: &str,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<KeyRecord> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING *",
    )
    .bind(ms(at))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let key = row
        .as_ref()
        .map(rows::key)
        .transpose()?
        .ok_or(StoreError::NotFound("key"))?;
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, at, &audit).await?;
    appender.write(&mut tx).await?;
    tx.commit().await.db()?;
    Ok(key)
}

pub(crate) async fn touch(db: &Db, id: &str, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
        .bind(ms(at))
        .bind(id)
        .execute(&mut *db.write().await?)
        .await
        .db()?;
    Ok(())
}
