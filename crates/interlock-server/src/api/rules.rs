//! `/v1/teams/{team}/rules`: a team's rule set as a whole, its versions, rollback.

use axum::Json;
use axum::extract::{Path, State};
use interlock_core::rules::{RuleSet, RuleSetDoc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::extract::{ApiJson, team_for};
use super::views::ActorView;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::service::rules::{self, doc_json, save};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_rules, put_rules))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(rollback))
}

/// The team's current rule set.
#[utoipa::path(get, path = "/v1/teams/{team}/rules", tag = "rules", params(("team" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_rules(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
) -> ApiResult<Json<Value>> {
    let team = team_for(&state, &principal, &team, Permission::ReadRules).await?;
    let current = state.store.current_rules(team.id).await?;
    Ok(Json(doc_json(&current.rules)))
}

/// Replace the rule set. Categories left out keep the conservative default. A `version`
/// in the body must be the current one (else 409). Invalid: 422 listing every problem.
#[utoipa::path(put, path = "/v1/teams/{team}/rules", tag = "rules", params(("team" = String, Path)),
    request_body = Object,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_rules(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
    ApiJson(doc): ApiJson<RuleSetDoc>,
) -> ApiResult<Json<Value>> {
    let team = team_for(&state, &principal, &team, Permission::WriteRules).await?;
    let rules = RuleSet::from_doc(&doc).map_err(|errors| {
        ApiError::unprocessable("invalid_rules", errors.to_string()).with_details(json!(errors.0))
    })?;
    let saved = save(
        &state,
        &principal,
        team.id,
        doc.version,
        rules,
        "rules.changed",
        json!({}),
    )
    .await?;
    Ok(Json(doc_json(&saved.rules)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub version: u64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: ActorView,
}

/// Every saved version, newest first.
#[utoipa::path(get, path = "/v1/teams/{team}/rules/versions", tag = "rules", params(("team" = String, Path)),
    responses((status = 200, body = Vec<VersionSummary>)))]
pub async fn list_versions(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
) -> ApiResult<Json<Vec<VersionSummary>>> {
    let team = team_for(&state, &principal, &team, Permission::ReadRules).await?;
    let versions = state.store.list_rules_versions(team.id).await?;
    Ok(Json(
        versions
            .iter()
            .map(|v| VersionSummary {
                version: v.version,
                created_at: v.created_at,
                created_by: (&v.created_by).into(),
            })
            .collect(),
    ))
}

/// One saved version.
#[utoipa::path(get, path = "/v1/teams/{team}/rules/versions/{version}", tag = "rules",
    params(("team" = String, Path), ("version" = u64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    principal: Principal,
    Path((team, version)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let team = team_for(&state, &principal, &team, Permission::ReadRules).await?;
    let version: u64 = version
        .parse()
        .map_err(|_| ApiError::not_found("rules version"))?;
    let v = state
        .store
        .rules_version(team.id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("rules version"))?;
    Ok(Json(doc_json(&v.rules)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// The version to return to; it is saved again as a new version.
    pub version: u64,
}

/// Roll back: a new version equal to an old one.
#[utoipa::path(post, path = "/v1/teams/{team}/rules/rollback", tag = "rules", params(("team" = String, Path)),
    request_body = RollbackBody, responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn rollback(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
    ApiJson(body): ApiJson<RollbackBody>,
) -> ApiResult<Json<Value>> {
    let team = team_for(&state, &principal, &team, Permission::WriteRules).await?;
    let saved = rules::rollback(&state, &principal, team.id, body.version).await?;
    Ok(Json(doc_json(&saved.rules)))
}
