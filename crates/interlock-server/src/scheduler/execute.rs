//! Running an action through its connector, outside any transaction, then recording the
//! outcome: executed, a retry later with back-off, or failed.

use interlock_core::{Status, Transition};
use interlock_store::{
    ActionChange, ActionRecord, ActionUpdate, Actor, AttemptFailed, AuditDraft, ConnectorConfig,
    Job, JobKind, NewAction,
};
use serde_json::{Value, json};

use super::{apply_for, backoff, finish};
use crate::api::views::ActionView;
use crate::connectors::{self, Outcome};
use crate::service::transitions::{change, state_of};
use crate::state::AppState;

/// Runs the execution `job`; `subject` is its action if already read.
pub async fn run(state: &AppState, job: &Job, subject: Option<ActionRecord>) -> anyhow::Result<()> {
    let action = super::action_of(state, job, subject).await?;
    match action {
        Some(action) => run_for(state, job, action).await,
        None => finish(state, job).await,
    }
}

/// Runs the execution `job` for `action` as just read (or just written, when a
/// deadline hands its job on).
pub async fn run_for(state: &AppState, job: &Job, action: ActionRecord) -> anyhow::Result<()> {
    if state_of(&action).start_execution().is_err() {
        return finish(state, job).await;
    }
    let config = connector_of(state, &action).await?;
    let view = ActionView::load(state, &action)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let outcome = connectors::execute(state, &action, &view, &config).await;
    let now = state.clock.now();
    let attempts = action.attempts + 1;
    let connector = connectors::kind_name(&config);
    let system = Actor::system("executor");
    let (transition, update, audit) = match outcome {
        Outcome::Done { detail } => {
            metrics::counter!("interlock_executions_total", "outcome" => "executed").increment(1);
            let (update, audit) = succeeded(attempts, now, connector, detail);
            (state_of(&action).execution_succeeded(), update, audit)
        }
        Outcome::Retry { error } if job.attempt < state.settings.max_execution_attempts => {
            let retry_at = now
                + state
                    .clock
                    .elapsed_during(backoff(&state.settings, job.attempt));
            metrics::counter!("interlock_executions_total", "outcome" => "retry").increment(1);
            state
                .store
                .record_attempt_failure(AttemptFailed {
                    action_id: action.id,
                    job_id: job.id,
                    attempts,
                    error: error.clone(),
                    retry_at,
                    at: now,
                    audit: AuditDraft {
                        team_id: Some(action.team_id),
                        actor: system,
                        subject: Some(action.id.to_string()),
                        event: "action.execution_attempt_failed".to_owned(),
                        data: json!({"attempt": attempts, "connector": connector, "error": error, "retry_at": retry_at}),
                    },
                })
                .await?;
            return Ok(());
        }
        Outcome::Retry { error } | Outcome::Fail { error } => {
            metrics::counter!("interlock_executions_total", "outcome" => "failed").increment(1);
            let update = ActionUpdate {
                attempts: Some(attempts),
                last_error: Some(error.clone()),
                ..ActionUpdate::default()
            };
            (
                state_of(&action).execution_failed(),
                update,
                json!({"attempt": attempts, "connector": connector, "error": error}),
            )
        }
    };
    let Ok(transition) = transition else {
        return finish(state, job).await;
    };
    let done = recorded(&action, transition, now, update, audit, Some(job.id));
    apply_for(state, job, done).await?;
    Ok(())
}

/// The connector that executes `action`: its team's for the category, else the default.
async fn connector_of(state: &AppState, action: &ActionRecord) -> anyhow::Result<ConnectorConfig> {
    Ok(state
        .connectors
        .configured(&state.store, action.team_id, action.category)
        .await?
        .unwrap_or_else(|| connectors::default_for(action.category)))
}

/// The executor's record of an execution's outcome, finishing `job` if any.
fn recorded(
    action: &ActionRecord,
    transition: Transition,
    now: chrono::DateTime<chrono::Utc>,
    update: ActionUpdate,
    audit: Value,
    job: Option<i64>,
) -> ActionChange {
    let executor = Actor::system("executor");
    change(action, transition, &executor, now, update, audit, job)
}

/// The `log` connector's successful execution of `executing` at `now`, finishing `job`
/// if any.
fn logged(
    executing: &ActionRecord,
    now: chrono::DateTime<chrono::Utc>,
    job: Option<i64>,
) -> anyhow::Result<ActionChange> {
    let transition = state_of(executing).execution_succeeded()?;
    let (update, audit) = succeeded(executing.attempts + 1, now, "log", connectors::log_detail());
    Ok(recorded(executing, transition, now, update, audit, job))
}

/// What a successful attempt sets, and its audit data.
fn succeeded(
    attempts: u32,
    now: chrono::DateTime<chrono::Utc>,
    connector: &str,
    detail: Value,
) -> (ActionUpdate, Value) {
    let update = ActionUpdate {
        attempts: Some(attempts),
        executed_at: Some(now),
        ..ActionUpdate::default()
    };
    let audit = json!({"attempt": attempts, "connector": connector, "result": detail});
    (update, audit)
}

/// Whether `action`'s connector is only the record of its execution (`log`). Such an
/// execution is written together with the change that starts it ([`start_and_log`]).
pub async fn only_recorded(state: &AppState, action: &ActionRecord) -> anyhow::Result<bool> {
    Ok(connector_of(state, action).await? == ConnectorConfig::Log)
}

/// Starts the execution (`start`, a change to `executing` that finishes `job`) and
/// records it done by the `log` connector, in one change. SPEC §9 records the state
/// before and after an execution so that a crash in between repeats what happened
/// outside; this connector does nothing outside, so both go in one commit: the action
/// goes through `executing` to `executed` (both audit entries are written) or, if the
/// commit does not happen, stays as it was for the timer to fire again.
pub async fn start_and_log(state: &AppState, job: &Job, start: ActionChange) -> anyhow::Result<()> {
    let executing = start
        .action
        .after(&start.transition, &start.update, start.at);
    let done = logged(&executing, start.at, Some(job.id))?;
    let mut start = start;
    // The execution job it would schedule is this very change.
    start.jobs.retain(|j| j.kind != JobKind::Execute);
    if let Some(executed) = apply_for(state, job, start.then(done)).await? {
        metrics::counter!("interlock_transitions_total", "to" => "executing").increment(1);
        count_logged(&executed);
    }
    Ok(())
}

/// A proposal that starts executing at once (autonomous, nothing to wait for) on the
/// `log` connector is inserted executed: its execution is written in the proposal's own
/// commit, for the reason given at [`start_and_log`]. If that commit does not happen,
/// neither does the proposal. Any other proposal is returned as it is.
pub async fn proposed_and_logged(state: &AppState, new: NewAction) -> anyhow::Result<NewAction> {
    if new.action.status != Status::Executing || !only_recorded(state, &new.action).await? {
        return Ok(new);
    }
    let done = logged(&new.action, new.action.created_at, None)?;
    let mut new = new;
    new.jobs.retain(|j| j.kind != JobKind::Execute);
    Ok(new.then(done))
}

/// The log line and execution metric of an execution by the `log` connector written
/// together with the change that started it, once committed.
pub fn count_logged(executed: &ActionRecord) {
    connectors::log_line(executed);
    metrics::counter!("interlock_executions_total", "outcome" => "executed").increment(1);
}
