//! `/v1/users`: people and their roles (SPEC §12). Listing is for admins and owners;
//! changes are the owner's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use interlock_store::UserRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ErrorBody;
use super::extract::ApiJson;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::service::people;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, add_user))
        .routes(routes!(change_user, remove_user))
}

/// A person as listed: never a password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    /// `owner`, `admin`, `manager` or `viewer`.
    pub role: String,
    /// Team slugs.
    pub teams: Vec<String>,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
}

async fn view(state: &AppState, u: &UserRecord) -> ApiResult<UserView> {
    let mut teams = Vec::new();
    for t in &u.teams {
        teams.push(state.teams.slug(&state.store, *t).await?);
    }
    Ok(UserView {
        id: u.id,
        email: u.email.clone(),
        role: u.role.as_str().to_owned(),
        teams,
        has_password: u.password_hash.is_some(),
        created_at: u.created_at,
        locked_until: u.locked_until,
    })
}

fn require(principal: &Principal, permission: Permission) -> ApiResult<()> {
    if principal.can(permission, None) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden",
            "only owners manage people (admins may list them)",
        ))
    }
}

/// Everyone with a login or a personal key.
#[utoipa::path(get, path = "/v1/users", tag = "users", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<UserView>>> {
    require(&principal, Permission::ReadUsers)?;
    let mut out = Vec::new();
    for u in state.store.list_users().await? {
        out.push(view(&state, &u).await?);
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub email: String,
    /// `owner`, `admin`, `manager` or `viewer`.
    pub role: String,
    /// Team slugs (what viewers and managers may see and decide on).
    #[serde(default)]
    pub teams: Vec<String>,
    /// Optional: without one the person uses personal keys only.
    #[serde(default)]
    pub password: Option<String>,
}

/// Add a person.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewUserBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    require(&principal, Permission::ManageUsers)?;
    let role = people::parse_role(&body.role)?;
    let teams = people::team_ids(state.store.as_ref(), &body.teams).await?;
    let user = people::add(
        state.store.as_ref(),
        &body.email,
        role,
        teams,
        body.password.as_deref(),
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&state, &user).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeUserBody {
    pub role: String,
    #[serde(default)]
    pub teams: Vec<String>,
}

fn user_id(text: &str) -> ApiResult<Uuid> {
    text.parse().map_err(|_| ApiError::not_found("user"))
}

/// Change a person's role and teams (takes effect on their next request).
#[utoipa::path(put, path = "/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = ChangeUserBody,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeUserBody>,
) -> ApiResult<Json<UserView>> {
    require(&principal, Permission::ManageUsers)?;
    let id = user_id(&id)?;
    let role = people::parse_role(&body.role)?;
    let teams = people::team_ids(state.store.as_ref(), &body.teams).await?;
    let user = people::set_role(
        state.store.as_ref(),
        id,
        role,
        teams,
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    Ok(Json(view(&state, &user).await?))
}

/// Remove a person: their keys are revoked and their sessions end.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require(&principal, Permission::ManageUsers)?;
    people::remove(
        state.store.as_ref(),
        user_id(&id)?,
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
