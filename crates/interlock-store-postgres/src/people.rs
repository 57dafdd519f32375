//! People, their team memberships, login bookkeeping, and console sessions.

use chrono::{DateTime, Utc};
use interlock_store::{AuditDraft, Result, Role, SessionRecord, StoreError, UserRecord};
use uuid::Uuid;

use crate::audit::append_in;
use crate::db::{Db, DbResult, Tx, duplicate_or_backend};
use crate::rows::{self, ms, opt_ms};

/// Runs one update of a person inside `tx`; `NotFound` when there is no such person.
async fn change_user(tx: &mut Tx, q: crate::jobs::PgQuery<'_>) -> Result<()> {
    if q.execute(&mut **tx).await.db()?.rows_affected() == 0 {
        return Err(StoreError::NotFound("user"));
    }
    Ok(())
}

async fn set_teams(tx: &mut Tx, user: Uuid, teams: &[Uuid]) -> Result<()> {
    let teams: Vec<String> = teams.iter().map(Uuid::to_string).collect();
    sqlx::query("DELETE FROM memberships WHERE user_id = $1")
        .bind(user.to_string())
        .execute(&mut **tx)
        .await
        .db()?;
    sqlx::query(
        "INSERT INTO memberships (user_id, team_id) SELECT $1, t FROM unnest($2::text[]) AS t
         ON CONFLICT DO NOTHING",
    )
    .bind(user.to_string())
    .bind(&teams)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn create(db: &Db, user: UserRecord, audit: AuditDraft) -> Result<UserRecord> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, email, role, password_hash, created_at, failed_logins, locked_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
    append_in(db, &mut tx, user.created_at, &[audit]).await?;
    tx.commit().await.db()?;
    by_id(db, user.id)
        .await?
        .ok_or(StoreError::NotFound("user"))
}

/// The people a query with (at most) one bound text parameter finds, with their teams.
async fn users(db: &Db, sql: &'static str, bind: Option<&str>) -> Result<Vec<UserRecord>> {
    let mut q = sqlx::query(sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let found = q.fetch_all(&db.pool).await.db()?;
    let mut out = found.iter().map(rows::user).collect::<Result<Vec<_>>>()?;
    let ids: Vec<String> = out.iter().map(|u| u.id.to_string()).collect();
    let memberships: Vec<(String, String)> = sqlx::query_as(
        "SELECT user_id, team_id FROM memberships WHERE user_id = ANY($1) ORDER BY team_id",
    )
    .bind(&ids)
    .fetch_all(&db.pool)
    .await
    .db()?;
    for (user, team) in memberships {
        let team = rows::parse_uuid("team_id", &team)?;
        if let Some(u) = out.iter_mut().find(|u| u.id.to_string() == user) {
            u.teams.push(team);
        }
    }
    Ok(out)
}

pub(crate) async fn by_id(db: &Db, id: Uuid) -> Result<Option<UserRecord>> {
    let id = id.to_string();
    Ok(users(db, "SELECT * FROM users WHERE id = $1", Some(&id))
        .await?
        .pop())
}

pub(crate) async fn by_email(db: &Db, email: &str) -> Result<Option<UserRecord>> {
    let email = email.to_lowercase();
    Ok(
        users(db, "SELECT * FROM users WHERE email = $1", Some(&email))
            .await?
            .pop(),
    )
}

pub(crate) async fn list(db: &Db) -> Result<Vec<UserRecord>> {
    users(db, "SELECT * FROM users ORDER BY email", None).await
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
    let q = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id.to_string());
    change_user(&mut tx, q).await?;
    set_teams(&mut tx, id, &teams).await?;
    append_in(db, &mut tx, at, &[audit]).await?;
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
    let q = sqlx::query(
        "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2",
    )
    .bind(hash)
    .bind(id.to_string());
    change_user(&mut tx, q).await?;
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()
}

pub(crate) async fn remove(db: &Db, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE user_id = $2")
        .bind(ms(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .db()?;
    // Memberships and sessions go with the person (ON DELETE CASCADE).
    let q = sqlx::query("DELETE FROM users WHERE id = $1").bind(id.to_string());
    change_user(&mut tx, q).await?;
    append_in(db, &mut tx, at, &[audit]).await?;
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
    let q = if succeeded {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.to_string())
    } else {
        sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1,
                    locked_until = COALESCE($2, locked_until) WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(opt_ms(locked_until))
    };
    change_user(&mut tx, q).await?;
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()?;
    by_id(db, id).await?.ok_or(StoreError::NotFound("user"))
}

pub(crate) async fn create_session(db: &Db, s: SessionRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&s.id_hash)
    .bind(s.user_id.to_string())
    .bind(&s.csrf_token)
    .bind(ms(s.created_at))
    .bind(ms(s.expires_at))
    .execute(&db.pool)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn session(db: &Db, id_hash: &str) -> Result<Option<SessionRecord>> {
    let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(&db.pool)
        .await
        .db()?;
    row.as_ref().map(rows::session).transpose()
}

pub(crate) async fn delete_session(db: &Db, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.pool)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn purge_sessions(db: &Db, real_now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(ms(real_now))
        .execute(&db.pool)
        .await
        .db()?
        .rows_affected())
}
