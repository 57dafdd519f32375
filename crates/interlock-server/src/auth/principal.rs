use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use interlock_store::{Actor, ActorKind, KeyKind, Role as PersonRole, UserRecord};
use uuid::Uuid;

use super::keys::{constant_time_eq, hash_secret, split_token};
use super::session;
use crate::error::ApiError;
use crate::state::AppState;

/// What a caller is allowed to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// An agent key of one team.
    Agent { team_id: Uuid },
    /// A person, logged in or through a personal key.
    Member {
        user_id: Uuid,
        role: PersonRole,
        teams: Vec<Uuid>,
    },
    /// An admin service key: the owner's rights, for automation.
    Owner,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key used, if the caller came with one (a console session has none).
    pub key_id: Option<String>,
    pub actor: Actor,
    pub role: Role,
}

impl Principal {
    /// The team an agent key belongs to.
    pub fn agent_team(&self) -> Option<Uuid> {
        match self.role {
            Role::Agent { team_id } => Some(team_id),
            _ => None,
        }
    }

    pub fn is_agent(&self) -> bool {
        matches!(self.role, Role::Agent { .. })
    }

    /// The person behind the call, if it is one.
    pub fn user_id(&self) -> Option<Uuid> {
        match self.role {
            Role::Member { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    pub fn person(user: &UserRecord, key_id: Option<String>) -> Principal {
        Principal {
            key_id,
            actor: Actor {
                kind: ActorKind::Member,
                id: user.id.to_string(),
            },
            role: Role::Member {
                user_id: user.id,
                role: user.role,
                teams: user.teams.clone(),
            },
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Principal, ApiError> {
        match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => from_key(header, state).await,
            // The console's own calls: a session cookie, with a CSRF header on writes.
            None => match session::from_cookie(parts, state).await? {
                Some(p) => Ok(p),
                None => Err(ApiError::unauthorized(
                    "an `Authorization: Bearer <key>` header is required",
                )),
            },
        }
    }
}

async fn from_key(
    header: &axum::http::HeaderValue,
    state: &AppState,
) -> Result<Principal, ApiError> {
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <key>`"))?;
    let invalid = || ApiError::unauthorized("the API key is invalid, expired or revoked");
    let (id, secret) = split_token(token).ok_or_else(invalid)?;
    let key = state.store.key(id).await?.ok_or_else(invalid)?;
    let usable = key.revoked_at.is_none() && key.expires_at.is_none_or(|e| e > chrono::Utc::now());
    if !usable || !constant_time_eq(&hash_secret(secret), &key.secret_hash) {
        return Err(invalid());
    }
    state
        .key_usage
        .touch(&state.store, &key.id, state.clock.now())
        .await;
    match (key.kind, key.team_id, key.user_id) {
        (KeyKind::Agent, Some(team_id), _) => Ok(Principal {
            actor: Actor {
                kind: ActorKind::Agent,
                id: key.id.clone(),
            },
            key_id: Some(key.id),
            role: Role::Agent { team_id },
        }),
        (KeyKind::Admin, _, _) => Ok(Principal {
            actor: Actor {
                kind: ActorKind::Service,
                id: key.id.clone(),
            },
            key_id: Some(key.id),
            role: Role::Owner,
        }),
        // A personal key acts with its person's current rights.
        (KeyKind::User, _, Some(user_id)) => {
            let user = state.store.user(user_id).await?.ok_or_else(invalid)?;
            Ok(Principal::person(&user, Some(key.id)))
        }
        _ => Err(invalid()),
    }
}
