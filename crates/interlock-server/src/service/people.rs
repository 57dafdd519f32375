//! People: adding, changing roles, removing, and logging in. Shared by the API, the
//! console and the CLI.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use interlock_store::{Actor, AuditDraft, Role, Store, StoreError, Team, UserRecord};
use serde_json::json;
use uuid::Uuid;

use crate::auth::passwords;
use crate::error::{ApiError, ApiResult};

/// Failed logins in a row after which each further attempt is slowed down.
pub const SLOW_AFTER: u32 = 3;
/// Failed logins in a row after which the account is locked for [`LOCK_FOR`].
pub const LOCK_AFTER: u32 = 10;
pub const LOCK_FOR: TimeDelta = TimeDelta::minutes(15);
pub const MAX_EMAIL: usize = 254;

pub fn check_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= MAX_EMAIL
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if ok {
        Ok(email)
    } else {
        Err(ApiError::unprocessable(
            "invalid_email",
            format!("`{email}` is not an email address"),
        ))
    }
}

pub fn parse_role(role: &str) -> ApiResult<Role> {
    Role::parse(role).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_role",
            format!("unknown role `{role}`; use owner, admin, manager or viewer"),
        )
    })
}

/// Team slugs to ids; every slug must exist.
pub async fn team_ids(store: &dyn Store, slugs: &[String]) -> ApiResult<Vec<Uuid>> {
    let mut ids = Vec::new();
    for slug in slugs {
        let team: Team = store.team_by_slug(slug).await?.ok_or_else(|| {
            ApiError::unprocessable("unknown_team", format!("there is no team `{slug}`"))
        })?;
        ids.push(team.id);
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn people_audit(actor: &Actor, subject: Uuid, event: &str, data: serde_json::Value) -> AuditDraft {
    AuditDraft {
        team_id: None,
        actor: actor.clone(),
        subject: Some(subject.to_string()),
        event: event.to_owned(),
        data,
    }
}

pub async fn add(
    store: &dyn Store,
    email: &str,
    role: Role,
    teams: Vec<Uuid>,
    password: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<UserRecord> {
    let email = check_email(email)?;
    let password_hash = match password {
        Some(p) => {
            passwords::check_strength(p)
                .map_err(|m| ApiError::unprocessable("weak_password", m))?;
            Some(passwords::hash(p).map_err(ApiError::internal)?)
        }
        None => None,
    };
    let user = UserRecord {
        id: Uuid::now_v7(),
        email: email.clone(),
        role,
        teams: teams.clone(),
        password_hash,
        created_at: now,
        failed_logins: 0,
        locked_until: None,
    };
    let audit = people_audit(
        actor,
        user.id,
        "user.created",
        json!({"email": email, "role": role, "teams": teams}),
    );
    Ok(store.create_user(user, audit).await?)
}

/// Refuses to leave the deployment without an owner.
async fn keep_an_owner(store: &dyn Store, changing: &UserRecord) -> ApiResult<()> {
    if changing.role != Role::Owner {
        return Ok(());
    }
    let owners = store
        .list_users()
        .await?
        .iter()
        .filter(|u| u.role == Role::Owner)
        .count();
    if owners <= 1 {
        return Err(ApiError::conflict(
            "last_owner",
            "this is the only owner; make someone else owner first",
        ));
    }
    Ok(())
}

pub async fn set_role(
    store: &dyn Store,
    id: Uuid,
    role: Role,
    teams: Vec<Uuid>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<UserRecord> {
    let before = store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if role != Role::Owner {
        keep_an_owner(store, &before).await?;
    }
    let data = json!({"email": before.email, "before": {"role": before.role, "teams": before.teams}, "after": {"role": role, "teams": teams}});
    let audit = people_audit(actor, id, "user.role_changed", data);
    Ok(store.set_user_role(id, role, teams, now, audit).await?)
}

pub async fn remove(
    store: &dyn Store,
    id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let user = store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    keep_an_owner(store, &user).await?;
    let audit = people_audit(
        actor,
        id,
        "user.removed",
        json!({"email": user.email, "role": user.role}),
    );
    Ok(store.remove_user(id, now, audit).await?)
}

pub async fn set_password(
    store: &dyn Store,
    id: Uuid,
    password: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    passwords::check_strength(password).map_err(|m| ApiError::unprocessable("weak_password", m))?;
    let hash = passwords::hash(password).map_err(ApiError::internal)?;
    let audit = people_audit(actor, id, "user.password_set", json!({}));
    store
        .set_password(id, hash, now, audit)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => ApiError::not_found("user"),
            e => e.into(),
        })
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    Success(UserRecord),
    /// Wrong email or password (which one is not said).
    Refused,
    /// Too many failures: try again after this long.
    Locked(Duration),
}

/// A hash to verify against when the email is unknown, so both cases take as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| passwords::hash("decoy password that matches nothing").unwrap_or_default())
}

/// Checks a password, counting failures: after [`SLOW_AFTER`] the answer is delayed, after
/// [`LOCK_AFTER`] the account is locked for [`LOCK_FOR`]. Every attempt is audited.
pub async fn login(
    store: &dyn Store,
    email: &str,
    password: &str,
    address: &str,
    real_now: DateTime<Utc>,
) -> ApiResult<LoginOutcome> {
    let email = email.trim().to_lowercase();
    let Some(user) = store.user_by_email(&email).await? else {
        let _ = passwords::verify(password, decoy_hash());
        let audit = AuditDraft {
            team_id: None,
            actor: Actor::system("login"),
            subject: None,
            event: "login.failed".to_owned(),
            data: json!({"email": email, "address": address, "reason": "unknown email"}),
        };
        store.append_audit(real_now, vec![audit]).await?;
        return Ok(LoginOutcome::Refused);
    };
    let actor = Actor {
        kind: interlock_store::ActorKind::Member,
        id: user.id.to_string(),
    };
    if let Some(until) = user.locked_until.filter(|u| *u > real_now) {
        let audit = people_audit(
            &actor,
            user.id,
            "login.failed",
            json!({"email": email, "address": address, "reason": "locked"}),
        );
        store.append_audit(real_now, vec![audit]).await?;
        return Ok(LoginOutcome::Locked(
            (until - real_now).to_std().unwrap_or_default(),
        ));
    }
    let hash = user
        .password_hash
        .clone()
        .unwrap_or_else(|| decoy_hash().to_owned());
    let matches = user.password_hash.is_some() && passwords::verify(password, &hash);
    if matches {
        let audit = people_audit(
            &actor,
            user.id,
            "login.succeeded",
            json!({"email": email, "address": address}),
        );
        let user = store
            .record_login(user.id, true, None, real_now, audit)
            .await?;
        return Ok(LoginOutcome::Success(user));
    }
    let failures = user.failed_logins + 1;
    let lock = (failures >= LOCK_AFTER).then(|| real_now + LOCK_FOR);
    let data = json!({"email": email, "address": address, "reason": "wrong password", "failures_in_a_row": failures, "locked_until": lock});
    let audit = people_audit(&actor, user.id, "login.failed", data);
    store
        .record_login(user.id, false, lock, real_now, audit)
        .await?;
    if let Some(until) = lock {
        return Ok(LoginOutcome::Locked(
            (until - real_now).to_std().unwrap_or_default(),
        ));
    }
    if failures > SLOW_AFTER {
        // Each failure past the threshold doubles the wait, up to four seconds.
        let wait = Duration::from_millis(250u64 << (failures - SLOW_AFTER - 1).min(4));
        tokio::time::sleep(wait).await;
    }
    Ok(LoginOutcome::Refused)
}
