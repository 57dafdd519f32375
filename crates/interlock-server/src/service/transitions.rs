//! Applying a transition of the core state machine: the consequences every transition
//! has (jobs, timer, notifications, audit) are derived here, in one place, for people
//! and the scheduler alike.

use chrono::{DateTime, Utc};
use interlock_core::{ActionState, Category, Status, Transition, TransitionError};
use interlock_store::{
    ActionChange, ActionRecord, ActionUpdate, Actor, AuditDraft, JobKind, NewDelivery, NewJob,
    StoreError,
};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::notify::callback;
use crate::service::proposals::notification;
use crate::state::AppState;

/// The audit event that records a transition.
pub fn audit_event(t: &Transition) -> &'static str {
    match t.event {
        "approve" => "action.approved",
        "hold" => "action.held",
        "reject" => "action.rejected",
        "withdraw" => "action.withdrawn",
        "deadline" => "action.deadline_reached",
        "dependencies_met" => "action.released",
        "dependency_failed" => "action.cancelled",
        "execution_succeeded" => "action.executed",
        "execution_failed" => "action.failed",
        "retry" => "action.retried",
        "dismiss" => "action.dismissed",
        _ => "action.changed",
    }
}

/// Everything a transition writes: the new status and fields, the jobs it schedules,
/// the timer it ends, the plan check it triggers, its notification and its audit entry.
pub fn change(
    action: &ActionRecord,
    transition: Transition,
    actor: &Actor,
    now: DateTime<Utc>,
    update: ActionUpdate,
    audit_data: Value,
    finish_job: Option<i64>,
) -> ActionChange {
    let mut jobs = Vec::new();
    match transition.to {
        Status::Executing => jobs.push(NewJob {
            kind: JobKind::Execute,
            subject: action.id,
            run_at: now,
        }),
        Status::Queued
        | Status::Executed
        | Status::Failed
        | Status::Rejected
        | Status::Cancelled => {
            // Dependent steps are released or cancelled by a durable plan check.
            if let Some(plan) = action.plan_id {
                jobs.push(NewJob {
                    kind: JobKind::PlanCheck,
                    subject: plan,
                    run_at: now,
                });
            }
        }
        _ => {}
    }
    let after = action.after(&transition, &update, now);
    let notice = match transition.to {
        Status::AwaitingApproval => Some("action.awaiting_approval"),
        Status::Rejected => Some("action.rejected"),
        Status::Executed => Some("action.executed"),
        Status::Failed => Some("action.failed"),
        _ => None,
    };
    let mut deliveries: Vec<NewDelivery> = notice
        .map(|e| notification(&after, e, None))
        .into_iter()
        .collect();
    if transition.to == Status::Executed && action.category == Category::Escalate {
        deliveries.push(escalated(&after));
    }
    deliveries.extend(callback::outcome(&after, &transition));
    let mut data = json!({
        "from": transition.from,
        "to": transition.to,
        "version": transition.to_version,
    });
    if let (Value::Object(d), Value::Object(extra)) = (&mut data, audit_data) {
        d.extend(extra);
    }
    ActionChange {
        action: action.clone(),
        transition,
        at: now,
        update,
        jobs,
        finish_job,
        continue_as: None,
        stop_timer: transition.from == Status::Armed,
        audit: vec![AuditDraft {
            team_id: Some(action.team_id),
            actor: actor.clone(),
            subject: Some(action.id.to_string()),
            event: audit_event(&transition).to_owned(),
            data,
        }],
        deliveries,
    }
}

/// `action.escalated`: the team's channels (and, by email, its managers) hear of an
/// executed ESCALATE, with its severity, reason and card.
fn escalated(after: &ActionRecord) -> NewDelivery {
    let mut d = notification(after, "action.escalated", None);
    d.payload["escalation"] = json!({
        "severity": after.payload["severity"],
        "reason": after.payload["reason"],
        "card_id": crate::connectors::builtin::escalation_card(after),
    });
    d
}

/// Why applying a transition did not happen.
#[derive(Debug)]
pub enum Refused {
    /// The state machine does not allow it from the current status.
    Transition(TransitionError, Box<ActionRecord>),
    /// Someone else changed the action first; it is now as given.
    Lost(Box<ActionRecord>),
    Store(StoreError),
}

/// Writes a change and tells everyone: live subscribers, and the scheduler when work
/// became due.
pub async fn apply(state: &AppState, change: ActionChange) -> Result<ActionRecord, Refused> {
    let wakes_scheduler = change.jobs.iter().any(|j| j.run_at <= change.at);
    match state.store.apply_change(change).await {
        Ok(record) => {
            state.events.publish_record(&record);
            if wakes_scheduler {
                state.wake.notify_one();
            }
            metrics::counter!("interlock_transitions_total", "to" => record.status.as_str())
                .increment(1);
            Ok(record)
        }
        Err(StoreError::Conflict(current)) => Err(Refused::Lost(current)),
        Err(e) => Err(Refused::Store(e)),
    }
}

/// Whether every step this action waits for has executed.
pub async fn dependencies_met(state: &AppState, action: &ActionRecord) -> Result<bool, StoreError> {
    if action.after.is_empty() {
        return Ok(true);
    }
    for dep in &action.after {
        match state.store.action(*dep).await? {
            Some(d) if d.status == Status::Executed => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

pub fn state_of(a: &ActionRecord) -> ActionState {
    ActionState {
        status: a.status,
        version: a.version,
    }
}

/// A 409 that carries the action as it is now, so the caller can show it.
pub async fn conflict(
    state: &AppState,
    code: &'static str,
    message: String,
    current: &ActionRecord,
) -> ApiError {
    let view = crate::api::views::ActionView::load(state, current).await;
    let mut err = ApiError::conflict(code, message);
    if let Ok(v) = view {
        err = err.with_details(json!({"action": v}));
    }
    err
}

pub async fn refused_to_api(state: &AppState, refused: Refused) -> ApiError {
    match refused {
        Refused::Transition(e, current) => conflict(state, e.code(), e.to_string(), &current).await,
        Refused::Lost(current) => {
            let msg = format!(
                "the action changed while you decided: it is now {} at version {}",
                current.status, current.version
            );
            conflict(state, "version_conflict", msg, &current).await
        }
        Refused::Store(e) => e.into(),
    }
}
