//! Teams and their versioned rule sets.

use chrono::{DateTime, Utc};
use interlock_core::rules::RuleSet;
use interlock_store::{Actor, AuditDraft, Result, RulesVersion, StoreError, Team};
use uuid::Uuid;

use crate::audit::append_in;
use crate::db::{Db, DbResult, Tx, duplicate_or_backend};
use crate::rows::{self, int, ms};

pub(crate) async fn create(db: &Db, team: Team, rules: RuleSet, audit: AuditDraft) -> Result<Team> {
    let team = Team {
        created_at: rows::to_millis(team.created_at),
        ..team
    };
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO teams (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(team.id.to_string())
        .bind(&team.slug)
        .bind(&team.name)
        .bind(ms(team.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| duplicate_or_backend(e, || format!("a team with slug {:?}", team.slug)))?;
    insert_rules(&mut tx, team.id, 1, &rules, &audit.actor, team.created_at).await?;
    append_in(db, &mut tx, team.created_at, &[audit]).await?;
    tx.commit().await.db()?;
    Ok(team)
}

async fn insert_rules(
    tx: &mut Tx,
    team_id: Uuid,
    version: u64,
    rules: &RuleSet,
    by: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO rules_versions (team_id, version, rules, created_at, created_by_kind, created_by_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(team_id.to_string())
    .bind(int(version))
    .bind(rows::rules_text(rules))
    .bind(ms(at))
    .bind(by.kind.as_str())
    .bind(&by.id)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// The teams a query with (at most) one bound text parameter finds.
async fn teams(db: &Db, sql: &'static str, bind: Option<&str>) -> Result<Vec<Team>> {
    let mut q = sqlx::query(sql);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let found = q.fetch_all(&db.pool).await.db()?;
    found.iter().map(rows::team).collect()
}

pub(crate) async fn by_id(db: &Db, id: Uuid) -> Result<Option<Team>> {
    let id = id.to_string();
    Ok(teams(db, "SELECT * FROM teams WHERE id = $1", Some(&id))
        .await?
        .pop())
}

pub(crate) async fn by_slug(db: &Db, slug: &str) -> Result<Option<Team>> {
    Ok(teams(db, "SELECT * FROM teams WHERE slug = $1", Some(slug))
        .await?
        .pop())
}

pub(crate) async fn list(db: &Db) -> Result<Vec<Team>> {
    teams(db, "SELECT * FROM teams ORDER BY slug", None).await
}

/// A team's rule versions, newest first, from `version` down when given.
async fn versions(
    db: &Db,
    team_id: Uuid,
    version: Option<u64>,
    limit: i64,
) -> Result<Vec<RulesVersion>> {
    let found = sqlx::query(
        "SELECT * FROM rules_versions WHERE team_id = $1 AND ($2::bigint IS NULL OR version = $2)
          ORDER BY version DESC LIMIT $3",
    )
    .bind(team_id.to_string())
    .bind(version.map(int))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
    .db()?;
    found.iter().map(rows::rules_version).collect()
}

pub(crate) async fn current_rules(db: &Db, team_id: Uuid) -> Result<RulesVersion> {
    versions(db, team_id, None, 1)
        .await?
        .pop()
        .ok_or(StoreError::NotFound("team"))
}

pub(crate) async fn rules_version(
    db: &Db,
    team_id: Uuid,
    version: u64,
) -> Result<Option<RulesVersion>> {
    Ok(versions(db, team_id, Some(version), 1).await?.pop())
}

pub(crate) async fn list_rules(db: &Db, team_id: Uuid) -> Result<Vec<RulesVersion>> {
    versions(db, team_id, None, i64::MAX).await
}

/// Saves the next version. The team's row is locked first, so two nodes saving at once
/// take turns and the second finds the version moved on (`StaleRules`).
pub(crate) async fn save_rules(
    db: &Db,
    team_id: Uuid,
    expected_current: u64,
    rules: RuleSet,
    actor: Actor,
    at: DateTime<Utc>,
    audit: AuditDraft,
) -> Result<RulesVersion> {
    let at = rows::to_millis(at);
    let mut tx = db.begin().await?;
    let locked: Option<String> =
        sqlx::query_scalar("SELECT id FROM teams WHERE id = $1 FOR UPDATE")
            .bind(team_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
    locked.ok_or(StoreError::NotFound("team"))?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM rules_versions WHERE team_id = $1")
            .bind(team_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .db()?;
    let current = u64::try_from(current.ok_or(StoreError::NotFound("team"))?).unwrap_or(0);
    if current != expected_current {
        return Err(StoreError::StaleRules {
            expected: expected_current,
            current,
        });
    }
    let version = current + 1;
    insert_rules(&mut tx, team_id, version, &rules, &actor, at).await?;
    append_in(db, &mut tx, at, &[audit]).await?;
    tx.commit().await.db()?;
    Ok(RulesVersion {
        team_id,
        version,
        rules: rules.with_version(version),
        created_at: at,
        created_by: actor,
    })
}
