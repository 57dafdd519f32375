//! `/actions/{id}`: everything about one action — payload, the agent's rationale, the
//! decision explanation, the timeline from the audit trail, the outcome, its plan — and,
//! for those who may decide, the decision forms including approve-with-edits.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use interlock_store::{ActionRecord, AuditFilter};
use serde::Deserialize;

use super::decide::done_notice;
use super::edit_form::{FieldInput, inputs};
use super::guard::{Console, Nav, failure};
use super::page;
use super::rows::{ActionRow, ActorNames, AuditRow, time_text};
use crate::error::ApiResult;
use crate::service::decisions::load_visible;
use crate::state::AppState;

/// The timeline shows at most this many entries (the audit page has them all).
const TIMELINE_LIMIT: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub struct ActionQuery {
    #[serde(default)]
    done: String,
}

#[derive(Debug)]
struct PayloadLine {
    name: String,
    value: String,
}

#[derive(Debug)]
struct Outcome {
    decided_by: Option<String>,
    reason: Option<String>,
    comment: Option<String>,
    attempts: u32,
    last_error: Option<String>,
    executed_at: Option<String>,
}

#[derive(Debug)]
struct Step {
    id: String,
    step: u32,
    title: String,
    status_text: String,
    current: bool,
}

#[derive(askama::Template)]
#[template(path = "action.html")]
struct ActionPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<&'static str>,
    row: ActionRow,
    rationale: String,
    payload: Vec<PayloadLine>,
    original_payload: Vec<PayloadLine>,
    outcome: Outcome,
    plan: Vec<Step>,
    after: Vec<String>,
    timeline: Vec<AuditRow>,
    edit_fields: Vec<FieldInput>,
}

fn lines(payload: &serde_json::Value) -> Vec<PayloadLine> {
    payload
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(name, v)| PayloadLine {
                    name: name.clone(),
                    value: match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => serde_json::to_string_pretty(other).unwrap_or_default(),
                    },
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn plan_steps(state: &AppState, a: &ActionRecord) -> ApiResult<Vec<Step>> {
    let Some(plan_id) = a.plan_id else {
        return Ok(Vec::new());
    };
    let steps = state.store.plan_actions(plan_id).await?;
    Ok(steps
        .iter()
        .map(|s| Step {
            id: s.id.to_string(),
            step: s.plan_step.unwrap_or_default(),
            title: s.title.clone(),
            status_text: s.status.as_str().replace('_', " "),
            current: s.id == a.id,
        })
        .collect())
}

async fn timeline(state: &AppState, a: &ActionRecord) -> ApiResult<Vec<AuditRow>> {
    let filter = AuditFilter {
        team_id: Some(a.team_id),
        subject: Some(a.id.to_string()),
        ..AuditFilter::default()
    };
    let entries = state
        .store
        .search_audit(&filter, None, TIMELINE_LIMIT)
        .await?;
    let mut names = ActorNames::default();
    let mut rows = Vec::with_capacity(entries.items.len());
    // The store lists newest first; a timeline reads oldest first.
    for e in entries.items.iter().rev() {
        rows.push(names.audit_row(state, e).await?);
    }
    Ok(rows)
}

async fn load(
    state: &AppState,
    console: &Console,
    id: &str,
    q: &ActionQuery,
) -> ApiResult<ActionPage> {
    let a = load_visible(state, &console.principal, id).await?;
    let team = state.teams.slug(&state.store, a.team_id).await?;
    let row = ActionRow::new(state, &console.principal, &a, team);
    let mut names = ActorNames::default();
    let decided_by = match &a.decided_by {
        Some(actor) => Some(names.name(state, actor).await),
        None => None,
    };
    Ok(ActionPage {
        nav: console.nav("inbox"),
        csrf_token: console.csrf_token.clone(),
        notice: done_notice(&q.done),
        edit_fields: if row.may_approve {
            inputs(a.category, &a.payload)
        } else {
            Vec::new()
        },
        row,
        rationale: a.rationale.clone(),
        payload: lines(&a.payload),
        original_payload: a.original_payload.as_ref().map(lines).unwrap_or_default(),
        outcome: Outcome {
            decided_by,
            reason: a.reason.clone(),
            comment: a.comment.clone(),
            attempts: a.attempts,
            last_error: a.last_error.clone(),
            executed_at: a.executed_at.map(time_text),
        },
        plan: plan_steps(state, &a).await?,
        after: a.after.iter().map(ToString::to_string).collect(),
        timeline: timeline(state, &a).await?,
    })
}

pub async fn action_page(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<ActionQuery>,
) -> Response {
    match load(&state, &console, &id, &q).await {
        Ok(p) => page(StatusCode::OK, &p),
        Err(e) => failure(e, "/inbox"),
    }
}
