//! `/v1/actions`: propose, read, list, wait for changes, and decide.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use interlock_core::{Category, Level, Status};
use interlock_store::{ActionFilter, ActionRecord, Inserted, Team};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery, parse_wait, team_for};
use super::views::ActionView;
use super::{ErrorBody, OptionalJson};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::scheduler::execute;
use crate::service::decisions::{Command, act, load_visible};
use crate::service::proposals::{self, ProposeBody};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose, list))
        .routes(routes!(get_action))
        .routes(routes!(approve))
        .routes(routes!(hold))
        .routes(routes!(reject))
        .routes(routes!(withdraw))
        .routes(routes!(retry))
        .routes(routes!(dismiss))
}

/// Propose an action. The team's rules decide its level at once.
#[utoipa::path(post, path = "/v1/actions", tag = "actions", request_body = ProposeBody,
    responses(
        (status = 201, description = "Proposed and decided", body = ActionView),
        (status = 200, description = "A repeated idempotency key: the first action", body = ActionView),
        (status = 422, description = "Invalid proposal", body = ErrorBody),
    ))]
pub async fn propose(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ProposeBody>,
) -> ApiResult<(StatusCode, Json<ActionView>)> {
    let team = proposing_team(&state, &principal, body.team.as_deref()).await?;
    if body.after.is_some() {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "`after` belongs to plan steps (POST /v1/plans)",
        ));
    }
    let rules = state.rules.current(&state.store, team.id).await?;
    let valid = proposals::validate(&body, rules.currency())?;
    let new = proposals::build(
        &team,
        &rules,
        valid,
        &principal.actor,
        state.clock.now(),
        None,
    )?;
    let new = execute::proposed_and_logged(&state, new)
        .await
        .map_err(ApiError::internal)?;
    // Wake the scheduler only for work due now (an execution), not for a timer hours away.
    let now = state.clock.now();
    let has_due_work = new.jobs.iter().any(|j| j.run_at <= now);
    let level = new.action.level;
    match state.committer.submit(new).await? {
        Inserted::Created(a) => {
            metrics::counter!("interlock_proposals_total", "level" => level.as_str()).increment(1);
            announce_logged(&a);
            state.events.publish_record(&a);
            if has_due_work {
                state.wake.notify_one();
            }
            Ok((StatusCode::CREATED, Json(ActionView::new(&a, team.slug))))
        }
        Inserted::Existing(a) => Ok((StatusCode::OK, Json(ActionView::new(&a, team.slug)))),
    }
}

/// A new action inserted executed by the `log` connector
/// ([`execute::proposed_and_logged`]) is counted and logged as an execution.
pub fn announce_logged(a: &ActionRecord) {
    if a.status == Status::Executed {
        metrics::counter!("interlock_transitions_total", "to" => "executed").increment(1);
        execute::count_logged(a);
    }
}

/// The team a proposal (or plan) is for, checked: named in the body, or implied by an
/// agent key; the caller must be allowed to propose there and within the rate limit.
pub async fn proposing_team(
    state: &AppState,
    principal: &Principal,
    named: Option<&str>,
) -> ApiResult<Team> {
    let team = match (named, principal.agent_team()) {
        (Some(slug), _) => team_for(state, principal, slug, Permission::Propose).await?,
        (None, Some(team_id)) => state
            .teams
            .by_id(&state.store, team_id)
            .await?
            .ok_or_else(|| ApiError::not_found("team"))?,
        (None, None) => {
            return Err(ApiError::unprocessable(
                "team_required",
                "name the `team` to propose for",
            ));
        }
    };
    if !principal.can(Permission::Propose, Some(team.id)) {
        return Err(ApiError::forbidden(
            "forbidden",
            "your role may not propose actions",
        ));
    }
    limit_proposals(state, principal)?;
    Ok(team)
}

/// A key (or person) proposing faster than the configured rate gets 429 with `Retry-After`.
pub fn limit_proposals(state: &AppState, principal: &Principal) -> ApiResult<()> {
    state
        .proposal_limits
        .check(&principal.actor.to_string())
        .map_err(|wait| {
            ApiError::too_many(
                "rate_limited",
                format!(
                    "too many proposals from this key; retry in {} ms",
                    wait.as_millis().max(1)
                ),
                wait,
            )
        })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Team slug.
    team: Option<String>,
    /// One status or several separated by commas.
    status: Option<String>,
    category: Option<String>,
    level: Option<String>,
    /// Only the steps of this plan.
    plan: Option<uuid::Uuid>,
    cursor: Option<String>,
    /// At most 500; 50 by default.
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionList {
    pub actions: Vec<ActionView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// List actions, newest first. Agents see their own.
#[utoipa::path(get, path = "/v1/actions", tag = "actions", params(ListQuery),
    responses((status = 200, body = ActionList)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ActionList>> {
    let mut filter = ActionFilter {
        visible_teams: principal.visible_teams(),
        plan_id: q.plan,
        ..ActionFilter::default()
    };
    if let Some(slug) = &q.team {
        filter.team_id = Some(
            team_for(&state, &principal, slug, Permission::ReadActions)
                .await?
                .id,
        );
    }
    if principal.is_agent() {
        filter.proposed_by = Some(principal.actor.clone());
    }
    if let Some(statuses) = &q.status {
        for s in statuses.split(',') {
            filter
                .statuses
                .push(s.parse::<Status>().map_err(bad_query)?);
        }
    }
    filter.category = q
        .category
        .as_deref()
        .map(str::parse::<Category>)
        .transpose()
        .map_err(bad_query)?;
    filter.level = q
        .level
        .as_deref()
        .map(str::parse::<Level>)
        .transpose()
        .map_err(bad_query)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = state
        .store
        .list_actions(&filter, q.cursor.as_deref(), limit)
        .await?;
    Ok(Json(ActionList {
        actions: ActionView::load_all(&state, &page.items).await?,
        next_cursor: page.next_cursor,
    }))
}

fn bad_query(e: interlock_core::ParseNameError) -> ApiError {
    ApiError::bad_request("invalid_query", e.to_string())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GetQuery {
    /// Wait up to this long (e.g. `30s`, at most `60s`) for the action to change.
    wait: Option<String>,
    /// With `wait`: return once the version is above this (default: the current one).
    after_version: Option<u64>,
}

const MAX_WAIT: Duration = Duration::from_secs(60);

/// Read an action; with `?wait=30s`, wait for its next change first (long poll).
#[utoipa::path(get, path = "/v1/actions/{id}", tag = "actions", params(("id" = uuid::Uuid, Path), GetQuery),
    responses((status = 200, body = ActionView), (status = 404, body = ErrorBody)))]
pub async fn get_action(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<GetQuery>,
) -> ApiResult<Json<ActionView>> {
    // Subscribe before reading, so a change between the read and the wait is not missed.
    let mut changes = state.events.subscribe();
    let mut action = load_visible(&state, &principal, &id).await?;
    if let Some(wait) = &q.wait {
        let wait = parse_wait(wait, MAX_WAIT)?;
        let seen = q.after_version.unwrap_or(action.version);
        if action.version <= seen {
            let target = action.id;
            let _ = tokio::time::timeout(wait, async {
                loop {
                    match changes.recv().await {
                        Ok(ev) if ev.action_id == target && ev.version > seen => break,
                        Ok(_) => {}
                        // Missed events or shutdown: re-read and answer.
                        Err(_) => break,
                    }
                }
            })
            .await;
            action = load_visible(&state, &principal, &id).await?;
        }
    }
    Ok(Json(ActionView::load(&state, &action).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The version you saw; if the action changed since, the answer is 409.
    pub expected_version: u64,
    /// A replacement payload: what runs instead of the agent's.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub edits: Option<Value>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub expected_version: u64,
    /// Handed back to the agent as feedback.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

async fn respond(
    state: &AppState,
    principal: &Principal,
    id: &str,
    cmd: Command,
) -> ApiResult<Json<ActionView>> {
    let record = act(state, principal, id, cmd).await?;
    Ok(Json(ActionView::load(state, &record).await?))
}

/// Approve: execute now (also an armed time bomb), optionally with an edited payload.
#[utoipa::path(post, path = "/v1/actions/{id}/approve", tag = "decisions", request_body = ApproveBody,
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ActionView), (status = 409, description = "Stale version, advisory, or not allowed now", body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ApproveBody>,
) -> ApiResult<Json<ActionView>> {
    let cmd = Command::Approve {
        expected_version: b.expected_version,
        edits: b.edits,
        comment: b.comment,
    };
    respond(&state, &principal, &id, cmd).await
}

/// Hold: stop an armed countdown for good; the action then needs approval.
#[utoipa::path(post, path = "/v1/actions/{id}/hold", tag = "decisions", request_body = DecisionBody,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ActionView), (status = 409, body = ErrorBody)))]
pub async fn hold(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult<Json<ActionView>> {
    respond(
        &state,
        &principal,
        &id,
        Command::Hold {
            expected_version: b.expected_version,
            reason: b.reason,
        },
    )
    .await
}

/// Reject: cancel for good; the reason goes back to the agent.
#[utoipa::path(post, path = "/v1/actions/{id}/reject", tag = "decisions", request_body = DecisionBody,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ActionView), (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult<Json<ActionView>> {
    respond(
        &state,
        &principal,
        &id,
        Command::Reject {
            expected_version: b.expected_version,
            reason: b.reason,
        },
    )
    .await
}

/// Withdraw: the proposing agent takes back an undecided action.
#[utoipa::path(post, path = "/v1/actions/{id}/withdraw", tag = "decisions", request_body = Option<NoteBody>,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ActionView), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(b): OptionalJson<NoteBody>,
) -> ApiResult<Json<ActionView>> {
    respond(
        &state,
        &principal,
        &id,
        Command::Withdraw { reason: b.reason },
    )
    .await
}

/// Retry a failed execution.
#[utoipa::path(post, path = "/v1/actions/{id}/retry", tag = "decisions", request_body = Option<NoteBody>,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ActionView), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(b): OptionalJson<NoteBody>,
) -> ApiResult<Json<ActionView>> {
    respond(
        &state,
        &principal,
        &id,
        Command::Retry { comment: b.comment },
    )
    .await
}

/// Dismiss an advisory recommendation (set aside, or done by hand: say so in `comment`).
#[utoipa::path(post, path = "/v1/actions/{id}/dismiss", tag = "decisions", request_body = Option<NoteBody>,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ActionView), (status = 409, body = ErrorBody)))]
pub async fn dismiss(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(b): OptionalJson<NoteBody>,
) -> ApiResult<Json<ActionView>> {
    respond(
        &state,
        &principal,
        &id,
        Command::Dismiss { comment: b.comment },
    )
    .await
}
