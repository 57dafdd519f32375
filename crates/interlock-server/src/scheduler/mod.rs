//! The scheduler: claims due jobs with leases and runs them (ARCHITECTURE rule 4).
//! Correctness comes from polling the job table; wake-ups only cut latency. Several
//! nodes may run it against one database: a job is claimed by one node at a time, and a
//! node that dies loses its leases to the rescuer.

pub(crate) mod execute;
mod plan;
mod timer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use interlock_store::{ActionRecord, Job, JobKind};
use tokio::sync::{Semaphore, watch};
use uuid::Uuid;

use crate::state::AppState;

const RESCUE_EVERY: Duration = Duration::from_secs(5);
const MAX_CLAIM: usize = 256;
/// The longest a claim waits for busy workers to come free (see `run`).
const GATHER_FOR: Duration = Duration::from_millis(10);

pub fn spawn(state: AppState, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(state, shutdown))
}

async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(state.settings.job_concurrency));
    let gather = (state.settings.job_concurrency / 2).max(1);
    let mut last_rescue: Option<Instant> = None;
    // Whatever this node's name still holds was left by a run that died: take it back now
    // rather than after its lease.
    match state.store.release_claims_of(&state.settings.node).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "took back the jobs this node held when it stopped"
        ),
        Err(e) => tracing::error!(error = %e, "could not take back this node's old jobs"),
    }
    while !*shutdown.borrow() {
        if last_rescue.is_none_or(|t| t.elapsed() >= RESCUE_EVERY) {
            match state.store.rescue_expired_jobs(chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(jobs = n, "took over jobs whose lease ran out"),
                Err(e) => tracing::error!(error = %e, "could not rescue expired jobs"),
            }
            last_rescue = Some(Instant::now());
        }
        if permits.available_permits() < gather {
            // Most workers are busy. Give them a moment to come free together, so that
            // one claim (one commit) hands out many jobs, whose outcomes then share
            // commits too; claiming as each worker frees up made it one job, and two
            // fsyncs, per claim. Bounded, and never when the workers are mostly idle.
            tokio::select! {
                p = permits.clone().acquire_many_owned(gather as u32) => drop(p),
                _ = tokio::time::sleep(GATHER_FOR) => {}
                _ = shutdown.changed() => {}
            }
        }
        let free = permits.available_permits().min(MAX_CLAIM);
        if free == 0 {
            // Every worker slot is busy: wait for one to come back.
            tokio::select! {
                p = permits.clone().acquire_owned() => drop(p),
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let lease_until = chrono::Utc::now()
            + chrono::TimeDelta::from_std(state.settings.job_lease).unwrap_or_default();
        match state
            .store
            .claim_jobs(
                state.clock.now(),
                &state.settings.node,
                lease_until,
                free as u32,
            )
            .await
        {
            Ok(jobs) if !jobs.is_empty() => {
                let mut subjects = subjects_of(&state, &jobs).await;
                for job in jobs {
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        break;
                    };
                    let state = state.clone();
                    let subject = reads_action(&job)
                        .then(|| subjects.remove(&job.subject))
                        .flatten();
                    tokio::spawn(async move {
                        run_job(&state, job, subject).await;
                        drop(permit);
                    });
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not claim jobs"),
        }
        let wait = idle_wait(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
    // Let running jobs finish what they started; their leases cover the rest.
    let all = state.settings.job_concurrency as u32;
    let _ = tokio::time::timeout(Duration::from_secs(10), permits.acquire_many(all)).await;
}

/// How long to sleep when nothing is due: until the next job, at most one poll interval.
async fn idle_wait(state: &AppState) -> Duration {
    let poll = state.settings.poll_interval;
    match state.store.next_job_due().await {
        Ok(Some(at)) => {
            let until = at - state.clock.now();
            state.clock.real_wait(until).map_or(poll, |d| d.min(poll))
        }
        _ => poll,
    }
}

/// The actions the timers and executions among `jobs` are about, read at once: one read
/// per claim instead of one per job. Each job reads its own if this read fails (or the
/// action is not among those read); a job that runs on an action changed meanwhile loses
/// its conditional change, as it would to any concurrent change.
async fn subjects_of(state: &AppState, jobs: &[Job]) -> HashMap<Uuid, ActionRecord> {
    let ids: Vec<Uuid> = jobs
        .iter()
        .filter(|j| reads_action(j))
        .map(|j| j.subject)
        .collect();
    match state.store.actions(&ids).await {
        Ok(actions) => actions.into_iter().map(|a| (a.id, a)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the claimed jobs' actions together");
            HashMap::new()
        }
    }
}

/// Whether `job` runs on an action (its subject): timers and executions.
fn reads_action(job: &Job) -> bool {
    matches!(job.kind, JobKind::Timer | JobKind::Execute)
}

/// `job`'s action: `subject` when the claim read it, else read now.
async fn action_of(
    state: &AppState,
    job: &Job,
    subject: Option<ActionRecord>,
) -> Result<Option<ActionRecord>, interlock_store::StoreError> {
    match subject {
        Some(a) => Ok(Some(a)),
        None => state.store.action(job.subject).await,
    }
}

/// Runs `job`; `subject` is its action when already read.
async fn run_job(state: &AppState, job: Job, subject: Option<ActionRecord>) {
    let started = Instant::now();
    let result = match job.kind {
        JobKind::Timer => timer::run(state, &job, subject).await,
        JobKind::Execute => execute::run(state, &job, subject).await,
        JobKind::PlanCheck => plan::run(state, &job).await,
        JobKind::Notify => crate::notify::run(state, &job).await,
    };
    metrics::histogram!("interlock_job_seconds", "kind" => job.kind.as_str())
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = result {
        // Put it back for a little later; if even that fails, the lease expires and the
        // rescuer returns it.
        tracing::error!(job = job.id, kind = job.kind.as_str(), error = %e, "a job failed; it will run again");
        let later = state.clock.now() + state.clock.elapsed_during(Duration::from_secs(5));
        let _ = state
            .store
            .reschedule_job(job.id, &state.settings.node, later)
            .await;
    }
}

/// Exponential back-off with jitter: base × 2^(attempt−1), capped, times 50–100 %.
/// Executions and notifications both retry with it.
pub(crate) fn backoff(s: &crate::ServerSettings, attempt: u32) -> Duration {
    use rand::Rng;
    let exp = s
        .retry_base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(s.retry_cap);
    capped.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// Applies a change a job made: the action as it now is, or `None` when someone acted at
/// the same moment and won (the action is theirs now, and the job is finished).
pub(crate) async fn apply_for(
    state: &AppState,
    job: &Job,
    change: interlock_store::ActionChange,
) -> anyhow::Result<Option<ActionRecord>> {
    use crate::service::transitions::{Refused, apply};
    match apply(state, change).await {
        Ok(record) => Ok(Some(record)),
        Err(Refused::Lost(_) | Refused::Transition(..)) => {
            finish(state, job).await?;
            Ok(None)
        }
        Err(Refused::Store(e)) => Err(e.into()),
    }
}

/// Finishes a job that turned out to have nothing to do.
pub(crate) async fn finish(state: &AppState, job: &Job) -> anyhow::Result<()> {
    state.store.finish_job(job.id, &state.settings.node).await?;
    Ok(())
}
