//! `/v1/teams/{team}/channels`: where a team's notifications go (SPEC §16), with "send a
//! test" and each channel's recent deliveries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use interlock_store::SendTarget;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ErrorBody;
use super::extract::{ApiJson, team_for};
use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::service::channels::{self, ChannelBody, ChannelView};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_channel, list_channels))
        .routes(routes!(delete_channel))
        .routes(routes!(test_channel))
        .routes(routes!(channel_deliveries))
}

/// What a test send came to: the receiver's answer, or why it failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestReport {
    pub ok: bool,
    /// The receiver's answer: HTTP status and the start of its body, or the SMTP reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether a real delivery that failed like this would be tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

impl From<crate::connectors::Outcome> for TestReport {
    fn from(o: crate::connectors::Outcome) -> Self {
        let r = o.report();
        TestReport {
            ok: r["ok"] == true,
            answer: r["answer"].as_str().map(str::to_owned).or_else(|| {
                r.get("answer")
                    .filter(|a| !a.is_null())
                    .map(|a| a.to_string())
            }),
            error: r["error"].as_str().map(str::to_owned),
            retryable: r["retryable"].as_bool(),
        }
    }
}

/// Add a channel.
#[utoipa::path(post, path = "/v1/teams/{team}/channels", tag = "channels",
    params(("team" = String, Path)), request_body = ChannelBody,
    responses((status = 201, body = ChannelView), (status = 422, body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
    ApiJson(body): ApiJson<ChannelBody>,
) -> ApiResult<(StatusCode, Json<ChannelView>)> {
    let team = team_for(&state, &principal, &team, Permission::ManageChannels).await?;
    let config = channels::config(body, state.settings.smtp.is_some())?;
    let now = state.clock.now();
    let channel =
        channels::create(state.store.as_ref(), &team, config, &principal.actor, now).await?;
    Ok((
        StatusCode::CREATED,
        Json(channels::view(&channel, &team.slug)),
    ))
}

/// The team's channels, oldest first; secrets never shown.
#[utoipa::path(get, path = "/v1/teams/{team}/channels", tag = "channels",
    params(("team" = String, Path)), responses((status = 200, body = Vec<ChannelView>)))]
pub async fn list_channels(
    State(state): State<AppState>,
    principal: Principal,
    Path(team): Path<String>,
) -> ApiResult<Json<Vec<ChannelView>>> {
    let team = team_for(&state, &principal, &team, Permission::ManageChannels).await?;
    let all = state.store.channels(team.id).await?;
    Ok(Json(
        all.iter().map(|c| channels::view(c, &team.slug)).collect(),
    ))
}

/// Remove a channel; deliveries not yet sent to it are dropped.
#[utoipa::path(delete, path = "/v1/teams/{team}/channels/{id}", tag = "channels",
    params(("team" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    principal: Principal,
    Path((team, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let team = team_for(&state, &principal, &team, Permission::ManageChannels).await?;
    let channel = channels::of_team(state.store.as_ref(), &team, &id).await?;
    let now = state.clock.now();
    channels::delete(state.store.as_ref(), &team, &channel, &principal.actor, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test notification now and report the receiver's answer.
#[utoipa::path(post, path = "/v1/teams/{team}/channels/{id}/test", tag = "channels",
    params(("team" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = TestReport), (status = 404, body = ErrorBody)))]
pub async fn test_channel(
    State(state): State<AppState>,
    principal: Principal,
    Path((team, id)): Path<(String, String)>,
) -> ApiResult<Json<TestReport>> {
    let team = team_for(&state, &principal, &team, Permission::ManageChannels).await?;
    let channel = channels::of_team(state.store.as_ref(), &team, &id).await?;
    let outcome = crate::notify::test_channel(&state, &channel, &team.slug).await;
    Ok(Json(outcome.into()))
}

/// One delivery to one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendView {
    pub delivery: Uuid,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Uuid>,
    /// `retrying`, `sent`, `failed` or `skipped`.
    pub state: String,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The channel's latest deliveries (at most 100), newest first.
#[utoipa::path(get, path = "/v1/teams/{team}/channels/{id}/deliveries", tag = "channels",
    params(("team" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SendView>), (status = 404, body = ErrorBody)))]
pub async fn channel_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path((team, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<SendView>>> {
    let team = team_for(&state, &principal, &team, Permission::ManageChannels).await?;
    let channel = channels::of_team(state.store.as_ref(), &team, &id).await?;
    let sends = state
        .store
        .sends_for_target(SendTarget::Channel(channel.id), 100)
        .await?;
    let mut shown = Vec::with_capacity(sends.len());
    for s in sends {
        let delivery = state.store.delivery(s.delivery_id).await?;
        shown.push(SendView {
            delivery: s.delivery_id,
            event: delivery
                .as_ref()
                .map(|d| d.event.clone())
                .unwrap_or_default(),
            action: delivery.and_then(|d| d.action_id),
            state: s.state.as_str().to_owned(),
            attempts: s.attempts,
            answer: s.answer,
            last_error: s.last_error,
            updated_at: s.updated_at,
        });
    }
    Ok(Json(shown))
}
