//! A time bomb's timer: sends the reminder that is due (only the latest, after downtime)
//! and fires the deadline.

use interlock_core::{Schedule, Status, latest_due_reminder};
use interlock_store::{ActionRecord, ActionUpdate, Actor, AuditDraft, Job, JobKind, ReminderSent};
use serde_json::json;

use super::{apply_for, execute, finish};
use crate::service::proposals::notification;
use crate::service::transitions::{change, dependencies_met, state_of};
use crate::state::AppState;

/// Runs the timer `job`; `subject` is its action if already read.
pub async fn run(state: &AppState, job: &Job, subject: Option<ActionRecord>) -> anyhow::Result<()> {
    let action = super::action_of(state, job, subject).await?;
    let Some(action) = action else {
        return finish(state, job).await;
    };
    let (Status::Armed, Some(armed_at), Some(deadline)) =
        (action.status, action.armed_at, action.deadline)
    else {
        // Held, approved, rejected or withdrawn: its timer has nothing left to do.
        return finish(state, job).await;
    };
    let now = state.clock.now();
    if now >= deadline {
        return fire(state, job, &action, now).await;
    }
    let schedule = Schedule {
        armed_at,
        deadline,
        reminders: action.reminders.clone(),
    };
    let next_after = |t| {
        schedule
            .reminders
            .iter()
            .map(|r| r.at)
            .find(|&at| at > t)
            .unwrap_or(deadline)
    };
    match latest_due_reminder(&schedule, action.last_reminder_at, now) {
        Some(reminder) => {
            let skipped: Vec<_> = schedule
                .reminders
                .iter()
                .filter(|r| r.at < reminder.at && action.last_reminder_at.is_none_or(|s| r.at > s))
                .map(|r| r.kind)
                .collect();
            let sent = state
                .store
                .record_reminder(ReminderSent {
                    action_id: action.id,
                    reminder,
                    timer_job: job.id,
                    next_run_at: next_after(now),
                    at: now,
                    audit: AuditDraft {
                        team_id: Some(action.team_id),
                        actor: Actor::system("scheduler"),
                        subject: Some(action.id.to_string()),
                        event: "action.reminder".to_owned(),
                        data: json!({
                            "reminder": reminder.kind,
                            "due_at": reminder.at,
                            "sent_at": now,
                            "deadline": deadline,
                            "skipped_as_stale": skipped,
                        }),
                    },
                    delivery: notification(&action, "time_bomb.reminder", Some(reminder.kind)),
                })
                .await?;
            if sent {
                metrics::counter!("interlock_reminders_total", "kind" => reminder.kind.as_str())
                    .increment(1);
            }
        }
        None => {
            // Woken early: come back when the next reminder or the deadline is due.
            let from = action.last_reminder_at.map_or(now, |s| s.max(now));
            state
                .store
                .reschedule_job(job.id, &state.settings.node, next_after(from))
                .await?;
        }
    }
    Ok(())
}

/// The countdown ran out: execute (or queue behind earlier plan steps).
async fn fire(
    state: &AppState,
    job: &Job,
    action: &ActionRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let deadline = action.deadline.unwrap_or(now);
    let deps = dependencies_met(state, action).await?;
    let Ok(transition) = state_of(action).deadline(deps) else {
        return finish(state, job).await;
    };
    let late_ms = (now - deadline).num_milliseconds();
    metrics::histogram!("interlock_deadline_lateness_seconds").record(late_ms as f64 / 1000.0);
    let audit = json!({"deadline": deadline, "fired_at": now, "late_by_ms": late_ms});
    let mut c = change(
        action,
        transition,
        &Actor::system("scheduler"),
        now,
        ActionUpdate::default(),
        audit,
        Some(job.id),
    );
    // The action's timer is this very job, which the change finishes or hands on: a
    // second update of the same row to stop it would only cost a write.
    c.stop_timer = false;
    let executes_now = transition.to == Status::Executing;
    if executes_now && execute::only_recorded(state, action).await? {
        return execute::start_and_log(state, job, c).await;
    }
    if executes_now {
        // This job becomes the execution and this worker runs it straight away: no
        // second job, claim or commit between a deadline and its execution.
        c.jobs.retain(|j| j.kind != JobKind::Execute);
        c.continue_as = Some(JobKind::Execute);
    }
    match apply_for(state, job, c).await? {
        Some(executing) if executes_now => {
            let execution = Job {
                kind: JobKind::Execute,
                attempt: 1,
                ..job.clone()
            };
            execute::run_for(state, &execution, executing).await
        }
        _ => Ok(()),
    }
}
