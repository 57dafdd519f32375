//! `/v1/keys`: create (the secret is shown once), list (never the secret), revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use interlock_store::KeyKind;
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
            "only admins and owners manage keys",
        ))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    /// `agent` (needs `team`) or `admin` (deployment-wide, the owner's rights).
    pub kind: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
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
    require(&principal)?;
    let kind = match KeyKind::parse(&body.kind) {
        Some(k @ (KeyKind::Agent | KeyKind::Admin)) => k,
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "`kind` is `agent` or `admin`",
            ));
        }
    };
    let team = match &body.team {
        Some(slug) => Some(team_for(&state, &principal, slug, Permission::ManageKeys).await?),
        None => None,
    };
    let created = admin::create_key(
        state.store.as_ref(),
        kind,
        team.as_ref(),
        None,
        body.name,
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

/// Every key, without secrets.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = Vec<KeyView>)))]
pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<KeyView>>> {
    require(&principal)?;
    let mut out = Vec::new();
    for k in state.store.list_keys().await? {
        out.push(KeyView::load(&state, &k).await?);
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
    require(&principal)?;
    let record = admin::revoke_key(
        state.store.as_ref(),
        &id,
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    Ok(Json(KeyView::load(&state, &record).await?))
}
