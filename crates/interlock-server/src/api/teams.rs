//! `/v1/teams`: create and list teams.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::extract::ApiJson;
use super::views::TeamView;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::service::admin;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_team, list_teams))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeamBody {
    /// Lower-case letters, digits and hyphens, e.g. `support`.
    pub slug: String,
    pub name: String,
}

/// Create a team; it starts with the conservative rule set.
#[utoipa::path(post, path = "/v1/teams", tag = "teams", request_body = NewTeamBody,
    responses((status = 201, body = TeamView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewTeamBody>,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    if !principal.can(Permission::ManageDeployment, None) {
        return Err(ApiError::forbidden(
            "forbidden",
            "only admins and owners create teams",
        ));
    }
    let team = admin::create_team(
        state.store.as_ref(),
        &body.slug,
        &body.name,
        &principal.actor,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&team).into())))
}

/// The teams the caller may see.
#[utoipa::path(get, path = "/v1/teams", tag = "teams", responses((status = 200, body = Vec<TeamView>)))]
pub async fn list_teams(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<TeamView>>> {
    let teams = state.store.list_teams().await?;
    Ok(Json(
        teams
            .iter()
            .filter(|t| principal.sees_team(t.id))
            .map(Into::into)
            .collect(),
    ))
}
