//! API keys (only their secrets' hashes).

use chrono::{DateTime, Utc};
use interlock_store::{AuditDraft, KeyRecord, Result, StoreError};

use crate::audit::append_in;
use crate::db::{Db, DbResult, duplicate_or_backend};
use crate::rows::{self, ms, opt_ms};

pub(crate) async fn create(db: &Db, key: KeyRecord, audit: AuditDraft) -> Result<KeyRecord> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "INSERT INTO api_keys (id, kind, team_id, user_id, name, secret_hash, created_at,
                               last_used_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
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
    append_in(db, &mut tx, key.created_at, &[audit]).await?;
    tx.commit().await.db()?;
    Ok(stored)
}

/// The keys a query with (at most) one bound text parameter finds.
async fn keys(db: &Db, sql: &'static str, bind: Option<&str>) -> Result<Vec<KeyRecord>> {
    let mut q = sqlx::query(sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let found = q.fetch_all(&db.pool).await.db()?;
    found.iter().map(rows::key).collect()
}

pub(crate) async fn by_id(db: &Db, id: &str) -> Result<Option<KeyRecord>> {
    Ok(keys(db, "SELECT * FROM api_keys WHERE id = $1", Some(id))
        .await?
        .pop())
}

pub(crate) async fn list(db: &Db) -> Result<Vec<KeyRecord>> {
    keys(db, "SELECT * FROM api_keys ORDER BY created_at, id", None).await
}

pub(crate) async fn revoke(
    db: &Db,
    id: &str,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<KeyRecord> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *",
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
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()?;
    Ok(key)
}

pub(crate) async fn touch(db: &Db, id: &str, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(ms(at))
        .bind(id)
        .execute(&db.pool)
        .await
        .db()?;
    Ok(())
}
