//! `/v1/keys`: create (the secret is shown once), list (never the secret), revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use interlock_store::{KeyKind, KeyRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::extract::{ApiJson, team_for};
use super::views::KeyView;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::service::admin;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}

fn require(principal: &Principal) -> ApiResult<()> {
    if principal.can(Permission::ManageKeys, None) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden",
            "only admins and owners manage these keys",
        ))
    }
}

/// Admins and owners manage every key; anyone else only their own personal keys.
fn may_manage(principal: &Principal, key: &KeyRecord) -> bool {
    principal.can(Permission::ManageKeys, None)
        || (key.user_id.is_some() && key.user_id == principal.user_id())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    /// `agent` (needs `team`), `admin` (deployment-wide, the owner's rights) or `user` (a
    /// person's own key, acting with their rights; `user` names them, default yourself).
    pub kind: String,
    #[serde(default)]
    pub team: Option<String>,
    /// The person's email, for `kind: user`.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// When the key stops working by itself.
    #[serde(default)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyView {
    #[serde(flatten)]
    pub key: KeyView,
    /// The bearer token. Shown only now; store it safely.
    pub secret: String,
}

/// Create a key. The answer holds its secret, once.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKeyBody,
    responses((status = 201, body = CreatedKeyView), (status = 422, body = ErrorBody)))]
pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewKeyBody>,
) -> ApiResult<(StatusCode, Json<CreatedKeyView>)> {
    let kind = KeyKind::parse(&body.kind).ok_or_else(|| {
        ApiError::unprocessable("invalid_field", "`kind` is `agent`, `admin` or `user`")
    })?;
    let user_id = match (kind, &body.user) {
        (KeyKind::User, Some(email)) => Some(
            state
                .store
                .user_by_email(email)
                .await?
                .ok_or_else(|| {
                    ApiError::unprocessable("unknown_user", format!("there is no person `{email}`"))
                })?
                .id,
        ),
        (KeyKind::User, None) => Some(principal.user_id().ok_or_else(|| {
            ApiError::unprocessable("invalid_field", "name the `user` the key is for")
        })?),
        (_, Some(_)) => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "`user` goes with `kind: user` only",
            ));
        }
        (_, None) => None,
    };
    let own_key = kind == KeyKind::User && user_id == principal.user_id();
    if !own_key {
        require(&principal)?;
    }
    let team = match &body.team {
        Some(slug) => Some(team_for(&state, &principal, slug, Permission::ManageKeys).await?),
        None => None,
    };
    if body.expires_at.is_some_and(|e| e <= chrono::Utc::now()) {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "`expires_at` is in the past",
        ));
    }
    let new = admin::NewKey {
        kind,
        team: team.as_ref(),
        user_id,
        name: body.name,
        expires_at: body.expires_at,
    };
    let created = admin::create_key(
        state.store.as_ref(),
        new,
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    let key = KeyView::load(&state, &created.record).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyView {
            key,
            secret: created.token,
        }),
    ))
}

/// Keys without secrets: every key for admins and owners, your own personal keys for others.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = Vec<KeyView>)))]
pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<KeyView>>> {
    if principal.user_id().is_none() {
        require(&principal)?;
    }
    let mut out = Vec::new();
    for k in state
        .store
        .list_keys()
        .await?
        .iter()
        .filter(|k| may_manage(&principal, k))
    {
        out.push(KeyView::load(&state, k).await?);
    }
    Ok(Json(out))
}

/// Revoke a key: it stops working at once.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", params(("id" = String, Path)),
    responses((status = 200, body = KeyView), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyView>> {
    let key = state
        .store
        .key(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("key"))?;
    if !may_manage(&principal, &key) {
        if principal.user_id().is_some() {
            return Err(ApiError::not_found("key"));
        }
        require(&principal)?;
    }
    let record = admin::revoke_key(
        state.store.as_ref(),
        &id,
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    Ok(Json(KeyView::load(&state, &record).await?))
}
