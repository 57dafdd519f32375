//! Teams and their versioned rule sets.

use chrono::{DateTime, Utc};
use interlock_core::rules::RuleSet;
use interlock_store::{Actor, AuditDraft, Result, RulesVersion, StoreError, Team};
use uuid::Uuid;

use crate::audit::AuditAppender;
use crate::db::{Db, DbResult, Tx, duplicate_or_backend};
use crate::rows::{self, int, ms};

pub(crate) async fn create(db: &Db, team: Team, rules: RuleSet, audit: AuditDraft) -> Result<Team> {
    let team = Team {
        created_at: rows::to_millis(team.created_at),
        ..team
    };
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO teams (id, slug, name, created_at) VALUES (?, ?, ?, ?)")
        .bind(team.id.to_string())
        .bind(&team.slug)
        .bind(&team.name)
        .bind(ms(team.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| duplicate_or_backend(e, || format!("a team with slug {:?}", team.slug)))?;
    let creator = audit.actor.clone();
    insert_rules(&mut tx, team.id, 1, &rules, &creator, team.created_at).await?;
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, team.created_at, &audit).await?;
    appender.write(&mut tx).await?;
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
         VALUES (?, ?, ?, ?, ?, ?)",
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

pub(crate) async fn by_id(db: &Db, id: Uuid) -> Result<Option<Team>> {
    let row = sqlx::query("SELECT * FROM teams WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::team).transpose()
}

pub(crate) async fn by_slug(db: &Db, slug: &str) -> Result<Option<Team>> {
    let row = sqlx::query("SELECT * FROM teams WHERE slug = ?")
        .bind(slug)
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::team).transpose()
}

pub(crate) async fn list(db: &Db) -> Result<Vec<Team>> {
    let rows = sqlx::query("SELECT * FROM teams ORDER BY slug")
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::team).collect()
}

pub(crate) async fn current_rules(db: &Db, team_id: Uuid) -> Result<RulesVersion> {
    let row =
        sqlx::query("SELECT * FROM rules_versions WHERE team_id = ? ORDER BY version DESC LIMIT 1")
            .bind(team_id.to_string())
            .fetch_optional(&mut *db.read().await?)
            .await
            .db()?;
    row.as_ref()
        .map(rows::rules_version)
        .transpose()?
        .ok_or(StoreError::NotFound("team"))
}

pub(crate) async fn rules_version(
    db: &Db,
    team_id: Uuid,
    version: u64,
) -> Result<Option<RulesVersion>> {
    let row = sqlx::query("SELECT * FROM rules_versions WHERE team_id = ? AND version = ?")
        .bind(team_id.to_string())
        .bind(int(version))
        .fetch_optional(&mut *db.read().await?)
        .await
        .db()?;
    row.as_ref().map(rows::rules_version).transpose()
}

pub(crate) async fn list_rules(db: &Db, team_id: Uuid) -> Result<Vec<RulesVersion>> {
    let rows = sqlx::query("SELECT * FROM rules_versions WHERE team_id = ? ORDER BY version DESC")
        .bind(team_id.to_string())
        .fetch_all(&mut *db.read().await?)
        .await
        .db()?;
    rows.iter().map(rows::rules_version).collect()
}

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
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM rules_versions WHERE team_id = ?")
            .bind(team_id.to_string())
            .fetch_one(&mut *tx)
            .await
            .db()?;
    let current = current.ok_or(StoreError::NotFound("team"))?;
    let current = u64::try_from(current).unwrap_or(0);
    if current != expected_current {
        return Err(StoreError::StaleRules {
            expected: expected_current,
            current,
        });
    }
    let version = current + 1;
    insert_rules(&mut tx, team_id, version, &rules, &actor, at).await?;
    let mut appender = AuditAppender::new(db);
    appender.push(&mut tx, at, &audit).await?;
    appender.write(&mut tx).await?;
    tx.commit().await.db()?;
    Ok(RulesVersion {
        team_id,
        version,
        rules: rules.with_version(version),
        created_at: at,
        created_by: actor,
    })
}
