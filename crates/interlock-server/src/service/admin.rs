//! Creating teams and keys: shared by the API and the CLI (which works on the database
//! directly, with or without a server running).

use chrono::{DateTime, Utc};
use interlock_core::rules::RuleSet;
use interlock_store::{Actor, AuditDraft, KeyKind, KeyRecord, Store, Team};
use serde_json::json;
use uuid::Uuid;

use crate::auth::generate_key;
use crate::error::{ApiError, ApiResult};

pub const MAX_SLUG: usize = 40;
pub const MAX_NAME: usize = 100;

pub fn check_slug(slug: &str) -> ApiResult<()> {
    let ok = !slug.is_empty()
        && slug.len() <= MAX_SLUG
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_slug",
            format!(
                "a team slug is 1 to {MAX_SLUG} lower-case letters, digits and inner hyphens, not `{slug}`"
            ),
        ))
    }
}

/// Creates a team with the conservative rule set (SPEC §4).
pub async fn create_team(
    store: &dyn Store,
    slug: &str,
    name: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<Team> {
    check_slug(slug)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("a team name is 1 to {MAX_NAME} characters"),
        ));
    }
    let team = Team {
        id: Uuid::now_v7(),
        slug: slug.to_owned(),
        name: name.to_owned(),
        created_at: now,
    };
    let audit = AuditDraft {
        team_id: None,
        actor: actor.clone(),
        subject: Some(slug.to_owned()),
        event: "team.created".to_owned(),
        data: json!({"team_id": team.id, "slug": slug, "name": name}),
    };
    Ok(store
        .create_team(team, RuleSet::conservative(), audit)
        .await?)
}

/// A new key and its token, which is shown once and never stored.
#[derive(Debug)]
pub struct CreatedKey {
    pub record: KeyRecord,
    pub token: String,
}

/// What a new key is for.
#[derive(Debug)]
pub struct NewKey<'a> {
    pub kind: KeyKind,
    /// Agent keys belong to one team.
    pub team: Option<&'a Team>,
    /// Personal keys belong to one person.
    pub user_id: Option<Uuid>,
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl<'a> NewKey<'a> {
    pub fn agent(team: &'a Team) -> NewKey<'a> {
        NewKey {
            kind: KeyKind::Agent,
            team: Some(team),
            user_id: None,
            name: None,
            expires_at: None,
        }
    }

    pub fn admin() -> NewKey<'a> {
        NewKey {
            kind: KeyKind::Admin,
            team: None,
            user_id: None,
            name: None,
            expires_at: None,
        }
    }

    pub fn personal(user_id: Uuid) -> NewKey<'a> {
        NewKey {
            kind: KeyKind::User,
            team: None,
            user_id: Some(user_id),
            name: None,
            expires_at: None,
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> NewKey<'a> {
        self.name = Some(name.into());
        self
    }
}

pub async fn create_key(
    store: &dyn Store,
    new: NewKey<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<CreatedKey> {
    let NewKey {
        kind,
        team,
        user_id,
        name,
        expires_at,
    } = new;
    match (kind, team, user_id) {
        (KeyKind::Agent, None, _) => {
            return Err(ApiError::unprocessable(
                "team_required",
                "an agent key belongs to a team",
            ));
        }
        (KeyKind::Admin | KeyKind::User, Some(_), _) => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "only agent keys belong to a team; give no team",
            ));
        }
        (KeyKind::User, _, None) => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "a personal key belongs to a person",
            ));
        }
        _ => {}
    }
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("a key name is at most {MAX_NAME} characters"),
        ));
    }
    let generated = generate_key();
    let record = KeyRecord {
        id: generated.id,
        kind,
        team_id: team.map(|t| t.id),
        user_id,
        name,
        secret_hash: generated.secret_hash,
        created_at: now,
        last_used_at: None,
        expires_at,
        revoked_at: None,
    };
    let audit = AuditDraft {
        team_id: record.team_id,
        actor: actor.clone(),
        subject: Some(record.id.clone()),
        event: "key.created".to_owned(),
        data: json!({"key_id": record.id, "kind": kind, "team": team.map(|t| t.slug.clone()), "user_id": user_id, "name": record.name, "expires_at": expires_at}),
    };
    let record = store.create_key(record, audit).await?;
    Ok(CreatedKey {
        record,
        token: generated.token,
    })
}

pub async fn revoke_key(
    store: &dyn Store,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<KeyRecord> {
    let key = store
        .key(id)
        .await?
        .ok_or_else(|| ApiError::not_found("key"))?;
    let audit = AuditDraft {
        team_id: key.team_id,
        actor: actor.clone(),
        subject: Some(id.to_owned()),
        event: "key.revoked".to_owned(),
        data: json!({"key_id": id, "kind": key.kind}),
    };
    Ok(store.revoke_key(id, now, audit).await?)
}
