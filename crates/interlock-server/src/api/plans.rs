//! `/v1/plans`: ordered steps proposed together for one case (SPEC §8).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use interlock_store::{AuditDraft, PlanRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ErrorBody;
use super::extract::ApiJson;
use super::views::ActionView;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::scheduler::execute;
use crate::service::proposals::{self, PlanPlace, ProposeBody};
use crate::state::AppState;

pub const MAX_STEPS: usize = 50;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose_plan))
        .routes(routes!(get_plan))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub card_id: Option<String>,
    #[serde(default)]
    pub summary: String,
    /// Each an action body, plus `after`: indices of earlier steps that must execute first.
    pub steps: Vec<ProposeBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub id: Uuid,
    pub team: String,
    pub card_id: Option<String>,
    pub summary: String,
    pub actions: Vec<ActionView>,
}

/// Propose a plan: every step is decided on its own; `after` makes a step wait.
#[utoipa::path(post, path = "/v1/plans", tag = "plans", request_body = PlanBody,
    responses((status = 201, body = PlanView), (status = 422, body = ErrorBody)))]
pub async fn propose_plan(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<PlanBody>,
) -> ApiResult<(StatusCode, Json<PlanView>)> {
    let team = super::actions::proposing_team(&state, &principal, body.team.as_deref()).await?;
    if body.steps.is_empty() || body.steps.len() > MAX_STEPS {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("a plan has 1 to {MAX_STEPS} steps"),
        ));
    }
    if body.summary.chars().count() > proposals::MAX_RATIONALE {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "`summary` is too long",
        ));
    }
    let rules = state.rules.current(&state.store, team.id).await?;
    let now = state.clock.now();
    let plan_id = Uuid::now_v7();
    let mut ids: Vec<Uuid> = Vec::new();
    let mut steps = Vec::new();
    for (i, step) in body.steps.iter().enumerate() {
        let located = |e: ApiError| ApiError {
            message: format!("step {i}: {}", e.message),
            ..e
        };
        if step.team.as_ref().is_some_and(|t| *t != team.slug) {
            return Err(located(ApiError::unprocessable(
                "invalid_field",
                "all steps belong to the plan's team",
            )));
        }
        if step.idempotency_key.is_some() {
            return Err(located(ApiError::unprocessable(
                "invalid_field",
                "plan steps take no idempotency_key",
            )));
        }
        let after = step.after.clone().unwrap_or_default();
        if let Some(bad) = after.iter().find(|&&j| j >= i) {
            return Err(located(ApiError::unprocessable(
                "invalid_field",
                format!("`after` may name only earlier steps; {bad} is not before {i}"),
            )));
        }
        let mut valid = proposals::validate(step, rules.currency()).map_err(located)?;
        if valid.card_id.is_none() {
            valid.card_id = body.card_id.clone();
        }
        let mut deps: Vec<Uuid> = after.iter().map(|&j| ids[j]).collect();
        deps.dedup();
        let place = PlanPlace {
            plan_id,
            step: i as u32,
            after: deps,
        };
        let new = proposals::build(&team, &rules, valid, &principal.actor, now, Some(place))
            .map_err(located)?;
        let new = execute::proposed_and_logged(&state, new)
            .await
            .map_err(ApiError::internal)?;
        ids.push(new.action.id);
        steps.push(new);
    }
    let plan = PlanRecord {
        id: plan_id,
        team_id: team.id,
        card_id: body.card_id.clone(),
        summary: body.summary.clone(),
        proposed_by: principal.actor.clone(),
        created_at: now,
    };
    let audit = AuditDraft {
        team_id: Some(team.id),
        actor: principal.actor.clone(),
        subject: Some(plan_id.to_string()),
        event: "plan.proposed".to_owned(),
        data: json!({"summary": plan.summary, "card_id": plan.card_id, "steps": ids}),
    };
    let (plan, actions) = state.store.insert_plan(plan, steps, audit).await?;
    for a in &actions {
        super::actions::announce_logged(a);
        state.events.publish_record(a);
    }
    state.wake.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(plan_view(&state, plan, &actions).await?),
    ))
}

async fn plan_view(
    state: &AppState,
    plan: PlanRecord,
    actions: &[interlock_store::ActionRecord],
) -> ApiResult<PlanView> {
    Ok(PlanView {
        id: plan.id,
        team: state.teams.slug(&state.store, plan.team_id).await?,
        card_id: plan.card_id,
        summary: plan.summary,
        actions: ActionView::load_all(state, actions).await?,
    })
}

/// A plan with its steps in order.
#[utoipa::path(get, path = "/v1/plans/{id}", tag = "plans", params(("id" = Uuid, Path)),
    responses((status = 200, body = PlanView), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanView>> {
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("plan"))?;
    let plan = state
        .store
        .plan(id)
        .await?
        .ok_or_else(|| ApiError::not_found("plan"))?;
    let own = !principal.is_agent() || plan.proposed_by == principal.actor;
    if !principal.can(Permission::ReadActions, Some(plan.team_id)) || !own {
        return Err(ApiError::not_found("plan"));
    }
    let actions = state.store.plan_actions(id).await?;
    Ok(Json(plan_view(&state, plan, &actions).await?))
}
