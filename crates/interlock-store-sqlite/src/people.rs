//! People, their team memberships, login bookkeeping, and console sessions.

use chrono::{DateTime, Utc};
use interlock_store::{AuditDraft, Result, Role, SessionRecord, StoreError, UserRecord};
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::db::{Db, DbResult, Tx, duplicate_or_backend};
use crate::rows::{self, ms, opt_ms};

/// Appends one audit entry inside the caller's transaction.
async fn audited(db: &Db, tx: &mut Tx, at: DateTime<Utc>, audit: &AuditDraft) -> Result<()> {
    let mut appender = AuditAppender::new(db);
    appender.push(tx, at, audit).await?;
    appender.write(tx).await
}

async fn set_teams(tx: &mut Tx, user: Uuid, teams: &[Uuid]) -> Result<()> {
    sqlx::query("DELETE FROM memberships WHERE user_id = ?")
        .bind(user.to_string())
        .execute(&mut **tx)
        .await
        .db()?;
    for team in teams {
        sqlx::query("INSERT OR IGNORE INTO memberships (user_id, team_id) VALUES (?, ?)")
            .bind(user.to_string())
            .bind(team.to_string())
            .execute(&mut **tx)
            .await
            .db()?;
    }
    Ok(())
}

pub(crate) async fn create(db: &Db, user: UserRecord, audit: AuditDraft) -> Result<UserRecord> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, email, role, password_hash, created_at, failed_logins, locked_until)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id.to_string())
    .bind(user.email.to_lowercase())
    .bind(user.role.as_str())
    .bind(&user.password_hash)
    .bind(ms(user.created_at))
    .bind(i64::from(user.failed_logins))
    .bind(opt_ms(user.locked_until))
    .execute(&mut *tx)
    .await
    .map_err(|e| duplicate_or_backend(e, || format!("a person with the email {}", user.email)))?;
    set_teams(&mut tx, user.id, &user.teams).await?;
    audited(db, &mut tx, user.created_at, &audit).await?;
    tx.commit().await.db()?;
    by_id(db, user.id)
        .await?
        .ok_or(StoreError::NotFound("user"))
}

async fn with_teams(db: &Db, row: Option<SqliteRow>) -> Result<Option<UserRecord>> {
    let Some(row) = row else { return Ok(None) };
    let mut user = rows::user(&row)?;
    let teams: Vec<String> =
        sqlx::query_scalar("SELECT team_id FROM memberships WHERE user_id = ? ORDER BY team_id")
            .bind(user.id.to_string())
            .fetch_all(&mut *db.read().await?)
            .await
            .db()?;
    user.teams = teams
        .iter()
        .map(|t| rows::parse_uuid("team_id", t))
        .collect::<Result<_>>()?;
    Ok(Some(user))
}

pub(crate) async fn by_id(db: &Db, id: Uuid) -> Result<Option<UserRecord>> {
    let row = sqlx::query("SELECT * FROM users WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    with_teams(db, row).await
}

pub(crate) async fn by_email(db: &Db, email: &str) -> Result<Option<UserRecord>> {
    let row = sqlx::query("SELECT * FROM users WHERE email = ?")
        .bind(email.to_lowercase())
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    with_teams(db, row).await
}

pub(crate) async fn list(db: &Db) -> Result<Vec<UserRecord>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM users ORDER BY email")
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(u) = by_id(db, rows::parse_uuid("id", &id)?).await? {
            out.push(u);
        }
    }
    Ok(out)
}

pub(crate) async fn set_role(
    db: &Db,
    id: Uuid,
    role: Role,
    teams: Vec<Uuid>,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<UserRecord> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound("user"));
    }
    set_teams(&mut tx, id, &teams).await?;
    audited(db, &mut tx, at, &audit).await?;
    tx.commit().await.db()?;
    by_id(db, id).await?.ok_or(StoreError::NotFound("user"))
}

pub(crate) async fn set_password(
    db: &Db,
    id: Uuid,
    hash: String,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
    )
    .bind(hash)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await
    .db()?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound("user"));
    }
    audited(db, &mut tx, at, &audit).await?;
    tx.commit().await.db()
}

pub(crate) async fn remove(db: &Db, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE user_id = ?")
        .bind(ms(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .db()?;
    // Memberships and sessions go with the person (ON DELETE CASCADE).
    let removed = sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
    if removed == 0 {
        return Err(StoreError::NotFound("user"));
    }
    audited(db, &mut tx, at, &audit).await?;
    tx.commit().await.db()
}

pub(crate) async fn record_login(
    db: &Db,
    id: Uuid,
    succeeded: bool,
    locked_until: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<UserRecord> {
    let mut tx = db.begin().await?;
    let sql = if succeeded {
        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?"
    } else {
        "UPDATE users SET failed_logins = failed_logins + 1, locked_until = COALESCE(?2, locked_until) WHERE id = ?1"
    };
    let mut q = sqlx::query(sql).bind(id.to_string());
    if !succeeded {
        q = q.bind(opt_ms(locked_until));
    }
    let changed = q.execute(&mut *tx).await.db()?.rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound("user"));
    }
    audited(db, &mut tx, at, &audit).await?;
    tx.commit().await.db()?;
    by_id(db, id).await?.ok_or(StoreError::NotFound("user"))
}

pub(crate) async fn create_session(db: &Db, s: SessionRecord) -> Result<()> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
        .bind(&s.id_hash)
        .bind(s.user_id.to_string())
        .bind(&s.csrf_token)
        .bind(ms(s.created_at))
        .bind(ms(s.expires_at))
        .execute(&mut *db.write().await?)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn session(db: &Db, id_hash: &str) -> Result<Option<SessionRecord>> {
    let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = ?")
        .bind(id_hash)
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::session).transpose()
}

pub(crate) async fn delete_session(db: &Db, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(id_hash)
        .execute(&mut *db.write().await?)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn purge_sessions(db: &Db, real_now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
        .bind(ms(real_now))
        .execute(&mut *db.write().await?)
        .await
        .db()?
        .rows_affected())
}
