//! A plan check: after a step changed, release the steps whose predecessors have all
//! executed, and cancel those whose predecessor ended rejected, cancelled or failed.
//! Idempotent, so running it twice (after a crash) does no harm.

use interlock_core::Status;
use interlock_store::{ActionRecord, ActionUpdate, Actor, Job};
use serde_json::json;

use super::finish;
use crate::service::transitions::{Refused, apply, change, state_of};
use crate::state::AppState;

pub async fn run(state: &AppState, job: &Job) -> anyhow::Result<()> {
    // Each pass may unlock the next (a cancellation cascades); a plan has few steps.
    for _ in 0..64 {
        let steps = state.store.plan_actions(job.subject).await?;
        if !settle_one(state, &steps).await? {
            break;
        }
    }
    finish(state, job).await
}

/// Applies the first change a step needs; true if one was applied.
async fn settle_one(state: &AppState, steps: &[ActionRecord]) -> anyhow::Result<bool> {
    let system = Actor::system("plans");
    for step in steps.iter().filter(|s| !s.after.is_empty()) {
        let deps: Vec<&ActionRecord> = steps
            .iter()
            .filter(|s| step.after.contains(&s.id))
            .collect();
        let ended_badly = deps.iter().find(|d| {
            matches!(
                d.status,
                Status::Rejected | Status::Cancelled | Status::Failed
            )
        });
        let now = state.clock.now();
        let planned = match ended_badly {
            Some(bad) if step.status.is_open_draft() => {
                let reason = format!(
                    "step {} (\"{}\") ended {}{}",
                    bad.plan_step.map_or(0, |s| s + 1),
                    bad.title,
                    bad.status,
                    bad.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                );
                state_of(step).dependency_failed().ok().map(|t| {
                    let update = ActionUpdate {
                        reason: Some(reason.clone()),
                        ..ActionUpdate::default()
                    };
                    (t, update, json!({"because_of": bad.id, "reason": reason}))
                })
            }
            None if step.status == Status::Queued
                && deps.iter().all(|d| d.status == Status::Executed) =>
            {
                state_of(step)
                    .dependencies_met()
                    .ok()
                    .map(|t| (t, ActionUpdate::default(), json!({})))
            }
            _ => None,
        };
        if let Some((transition, update, audit)) = planned {
            match apply(
                state,
                change(step, transition, &system, now, update, audit, None),
            )
            .await
            {
                Ok(_) | Err(Refused::Lost(_) | Refused::Transition(..)) => return Ok(true),
                Err(Refused::Store(e)) => return Err(e.into()),
            }
        }
    }
    Ok(false)
}
