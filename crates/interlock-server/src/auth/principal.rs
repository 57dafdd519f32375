use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use interlock_store::{Actor, ActorKind, KeyKind};
use uuid::Uuid;

use super::keys::{constant_time_eq, hash_secret, split_token};
use crate::error::ApiError;
use crate::state::AppState;

/// What a caller is allowed to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// An agent key of one team.
    Agent { team_id: Uuid },
    /// The owner's rights: an admin service key.
    Owner,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: String,
    pub actor: Actor,
    pub role: Role,
}

impl Principal {
    /// The team an agent key belongs to.
    pub fn agent_team(&self) -> Option<Uuid> {
        match self.role {
            Role::Agent { team_id } => Some(team_id),
            Role::Owner => None,
        }
    }

    pub fn is_agent(&self) -> bool {
        matches!(self.role, Role::Agent { .. })
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Principal, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("an `Authorization: Bearer <key>` header is required")
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <key>`")
            })?;
        let invalid = || ApiError::unauthorized("the API key is invalid, expired or revoked");
        let (id, secret) = split_token(token).ok_or_else(invalid)?;
        let key = state.store.key(id).await?.ok_or_else(invalid)?;
        let now = state.clock.now();
        let usable =
            key.revoked_at.is_none() && key.expires_at.is_none_or(|e| e > chrono::Utc::now());
        if !usable || !constant_time_eq(&hash_secret(secret), &key.secret_hash) {
            return Err(invalid());
        }
        state.key_usage.touch(&state.store, &key.id, now).await;
        let (kind, role) = match (key.kind, key.team_id) {
            (KeyKind::Agent, Some(team_id)) => (ActorKind::Agent, Role::Agent { team_id }),
            (KeyKind::Admin, _) => (ActorKind::Service, Role::Owner),
            // Personal keys arrive with people and roles; until then they grant nothing.
            _ => return Err(invalid()),
        };
        Ok(Principal {
            actor: Actor {
                kind,
                id: key.id.clone(),
            },
            key_id: key.id,
            role,
        })
    }
}
