//! `interlock bench timers`: time bombs at scale, against a real `interlock serve` process
//! on a real SQLite file or PostgreSQL database.
//!
//! 1. Seeds `--pending` time bombs due in an hour and `--due` bombs all due in the same
//!    second, a few seconds after the server will be up, straight through the store
//!    (exactly the rows a proposal writes; a million proposals over HTTP would only
//!    measure HTTP again).
//! 2. Starts the server as a child process and reads its resident memory with everything
//!    pending, next to the same server's memory on an empty database.
//! 3. Waits for the due bombs and reads each one's lateness (executed − deadline) from the
//!    database, and the rate at which they drained.
//! 4. Kills the server with SIGKILL, makes one more bomb due, restarts the server and times
//!    from process start to that bomb's execution.
//!
//! Reminders are off in the bench team's rules so the timers measured are the deadlines.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use interlock_core::Status;
use interlock_core::rules::RuleSet;
use interlock_server::service::{admin, proposals};
use interlock_store::{Actor, ActorKind, AuditDraft, Store, Team};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::baselines::{self, CommitCeiling};
use super::latency::Latency;
use super::machine::{Machine, machine_busy_seconds, process_cpu_seconds};
use super::progress::Progress;
use super::server::Database;
use crate::commands::open_store;

#[derive(Debug, Args)]
pub struct TimersArgs {
    /// Time bombs pending (due in an hour) while everything is measured.
    #[arg(long, default_value_t = 1_000_000)]
    pending: u64,
    /// Time bombs due in the same second.
    #[arg(long, default_value_t = 10_000)]
    due: u64,
    /// Milliseconds over which the due bombs' deadlines are spread evenly: 1000 is "due
    /// in the same second"; 0 puts every deadline in the same millisecond.
    #[arg(long, default_value_t = 1000)]
    spread_ms: u64,
    /// Seconds from seeding's end to the due bombs' deadline (the server starts between).
    #[arg(long, default_value_t = 8)]
    lead: u64,
    /// `temp` (a fresh SQLite file, deleted afterwards), sqlite://FILE or postgres://…
    /// (one node); give a fresh, empty database: the empty server is measured on it.
    #[arg(long, default_value = "temp")]
    database: String,
    /// Seconds for the one-commit-per-row baseline (on the same kind of database).
    #[arg(long, default_value_t = 3)]
    baseline_seconds: u64,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

const TEAM: &str = "timers";
/// A one-hour REFUND time bomb with no reminders: only deadlines are timed.
const RULES: &str = r#"{"currency": "USD", "categories": {"REFUND": {"level": "time_bomb",
  "time_bomb": {"duration": "1h", "remind_at_50": false, "remind_at_90": false, "final_warning": null}}}}"#;
const SEED_BATCH: usize = 2_000;
/// How long the due bombs may take before the bench gives up on them.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Serialize)]
pub struct TimersReport {
    pub machine: Machine,
    pub pending: u64,
    pub due: u64,
    pub spread_ms: u64,
    pub seed_per_second: f64,
    pub startup_ms: f64,
    pub rss_empty_mb: f64,
    pub rss_pending_mb: f64,
    pub bytes_per_pending_timer: f64,
    pub lateness: Latency,
    pub executed_early: u64,
    pub drain_seconds: f64,
    pub executions_per_second: f64,
    /// CPU time of the server process from the first deadline until every due bomb had
    /// executed, per execution: steadier than the rate when the machine's speed drifts
    /// between runs.
    pub server_cpu_us_per_execution: Option<f64>,
    /// The same for the whole machine: the server, the database server if any, and this
    /// tool's polling.
    pub machine_cpu_us_per_execution: Option<f64>,
    pub restart_to_first_fire_ms: f64,
    pub commit_ceiling: CommitCeiling,
}

pub async fn run(args: TimersArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.due > 0, "--due must be at least 1");
    anyhow::ensure!(args.lead >= 3, "--lead must leave the server 3 s to start");
    let machine = Machine::describe();
    let exe = std::env::current_exe().context("cannot find the interlock binary")?;

    // The same server on the same database before anything is seeded.
    let db = Database::open(&args.database)?;
    let (store, team, rules) = prepare(&db).await?;
    let (server, _) = ServerProcess::start(&exe, &db.url).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_empty = server.rss_bytes()?;
    server.kill();

    let seeding = Instant::now();
    let in_an_hour = Utc::now() + TimeDelta::hours(1);
    seed(
        &store,
        &team,
        &rules,
        (args.pending, in_an_hour, TimeDelta::zero()),
        "pending time bombs",
    )
    .await?;
    let seed_per_second = args.pending as f64 / seeding.elapsed().as_secs_f64();
    let deadline = Utc::now() + TimeDelta::seconds(args.lead as i64);
    let spread = TimeDelta::milliseconds(args.spread_ms as i64);
    let due = seed(
        &store,
        &team,
        &rules,
        (args.due, deadline, spread),
        "due time bombs",
    )
    .await?;

    let (server, startup) = ServerProcess::start(&exe, &db.url).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_pending = server.rss_bytes()?;
    eprintln!("waiting for {} bombs due at {deadline}…", args.due);
    // CPU time is counted from the first deadline: before it the machine may still be
    // busy with what seeding left (PostgreSQL's autovacuum, say).
    let until_first = (deadline - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(until_first).await;
    let cpu_before = (server.cpu_seconds(), machine_busy_seconds());
    wait_drained(&store, &due).await?;
    let cpu_us_per_execution =
        |before: Option<f64>, after: Option<f64>| Some((after? - before?) * 1e6 / args.due as f64);
    let server_cpu_us = cpu_us_per_execution(cpu_before.0, server.cpu_seconds());
    let machine_cpu_us = cpu_us_per_execution(cpu_before.1, machine_busy_seconds());
    let executed = executions_of(&store, &due).await?;
    let lateness_us: Vec<i64> = executed
        .iter()
        .zip(&due)
        .map(|(at, (_, due_at))| (*at - *due_at).num_microseconds().unwrap_or(i64::MAX))
        .collect();
    let executed_early = lateness_us.iter().filter(|&&us| us < 0).count() as u64;
    let last = executed.iter().max().copied().unwrap_or(deadline);
    // From the first deadline to the last execution.
    let drain_seconds = ((last - deadline).num_milliseconds().max(1)) as f64 / 1000.0;

    // A crash, one bomb due meanwhile, and a restart with everything else still pending.
    server.kill();
    let now = Utc::now();
    let (first, _) = seed(
        &store,
        &team,
        &rules,
        (1, now, TimeDelta::zero()),
        "the bomb due at restart",
    )
    .await?[0];
    let restarted = Instant::now();
    let (server, _) = ServerProcess::start(&exe, &db.url).await?;
    wait_executed_one(&store, first, Duration::from_millis(5)).await?;
    let restart_to_first_fire = restarted.elapsed();
    server.kill();

    eprintln!(
        "baseline: {}, one commit per row…",
        baselines::engine_of(&args.database)
    );
    // A fresh SQLite file, or the PostgreSQL database measured: one machine's ceiling.
    let commit_ceiling =
        baselines::one_commit_per_row(&args.database, Duration::from_secs(args.baseline_seconds))
            .await?;
    let pending_total = (args.pending + args.due) as f64;
    let report = TimersReport {
        machine,
        pending: args.pending,
        due: args.due,
        spread_ms: args.spread_ms,
        seed_per_second,
        startup_ms: startup.as_secs_f64() * 1000.0,
        rss_empty_mb: rss_empty as f64 / 1e6,
        rss_pending_mb: rss_pending as f64 / 1e6,
        bytes_per_pending_timer: (rss_pending as f64 - rss_empty as f64).max(0.0) / pending_total,
        lateness: Latency::of(
            lateness_us
                .iter()
                .map(|&us| u32::try_from(us.max(0)).unwrap_or(u32::MAX))
                .collect(),
        ),
        executed_early,
        drain_seconds,
        executions_per_second: args.due as f64 / drain_seconds,
        server_cpu_us_per_execution: server_cpu_us,
        machine_cpu_us_per_execution: machine_cpu_us,
        restart_to_first_fire_ms: restart_to_first_fire.as_secs_f64() * 1000.0,
        commit_ceiling,
    };
    print_report(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The bench team with reminder-free one-hour refund bombs.
async fn prepare(db: &Database) -> anyhow::Result<(Arc<dyn Store>, Team, RuleSet)> {
    let store = open_store(&db.url).await?;
    let actor = Actor::system("bench");
    let now = Utc::now();
    let team = match store.team_by_slug(TEAM).await? {
        Some(t) => t,
        None => admin::create_team(store.as_ref(), TEAM, "Timers", &actor, now)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create team {TEAM}: {}", e.message))?,
    };
    let rules = RuleSet::from_json_str(RULES).expect("the bench rules are valid");
    let current = store.current_rules(team.id).await?;
    if !current.rules.same_rules_as(&rules) {
        let audit = AuditDraft {
            team_id: Some(team.id),
            actor: actor.clone(),
            subject: Some(team.id.to_string()),
            event: "rules.changed".to_owned(),
            data: json!({"reason": "interlock bench timers"}),
        };
        store
            .save_rules(team.id, current.version, rules.clone(), actor, now, audit)
            .await?;
    }
    Ok((store, team, rules))
}

/// Inserts `count` one-hour refund bombs whose deadlines are spread evenly over
/// `spread` from `first`, as the proposal path builds them, in group-committed batches;
/// returns their ids and deadlines.
async fn seed(
    store: &Arc<dyn Store>,
    team: &Team,
    rules: &RuleSet,
    (count, first, spread): (u64, DateTime<Utc>, TimeDelta),
    label: &str,
) -> anyhow::Result<Vec<(Uuid, DateTime<Utc>)>> {
    let body: proposals::ProposeBody = serde_json::from_value(json!({
        "category": "REFUND",
        "title": "Refund 120.00 to Acme",
        "rationale": "interlock bench timers",
        "payload": {"customer_id": "cus_42", "amount": "120.00", "currency": "USD",
                    "kind": "partial", "reason": "duplicate charge"},
    }))?;
    let valid = proposals::validate(&body, rules.currency())
        .map_err(|e| anyhow::anyhow!("the bench proposal is invalid: {}", e.message))?;
    let actor = Actor {
        kind: ActorKind::Agent,
        id: "bench-seed".to_owned(),
    };
    let deadline_of = |i: usize| first + spread * i as i32 / count.max(1) as i32;
    let mut ids = Vec::with_capacity(count as usize);
    let mut progress = Progress::new(label, count);
    while (ids.len() as u64) < count {
        let n = SEED_BATCH.min((count - ids.len() as u64) as usize);
        let mut batch = Vec::with_capacity(n);
        for i in ids.len()..ids.len() + n {
            let armed_at = deadline_of(i) - TimeDelta::hours(1);
            let mut action =
                proposals::build(team, rules, valid.clone(), &actor, armed_at, None)
                    .map_err(|e| anyhow::anyhow!("cannot build a bench proposal: {}", e.message))?;
            // Their "armed" notifications went out when they were armed, long before
            // this measurement; a million of them still queued would be measured instead.
            action.deliveries.clear();
            batch.push(action);
        }
        for inserted in store.insert_actions(batch).await? {
            let a = inserted.record();
            ids.push((a.id, a.deadline.context("a seeded bomb has no deadline")?));
        }
        progress.set(ids.len() as u64);
    }
    progress.finish(ids.len() as u64);
    Ok(ids)
}

/// Waits for the drain: polls one bomb, the last due, every 200 ms (reading all of them
/// while the drain runs would take CPU from the server being measured).
async fn wait_drained(store: &Arc<dyn Store>, ids: &[(Uuid, DateTime<Utc>)]) -> anyhow::Result<()> {
    let Some((latest, last)) = ids.iter().max_by_key(|(_, due)| *due) else {
        return Ok(());
    };
    let until_due = (*last - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(until_due).await;
    wait_executed_one(store, *latest, Duration::from_millis(200)).await
}

/// Every due bomb's execution time, once they have all run.
async fn executions_of(
    store: &Arc<dyn Store>,
    ids: &[(Uuid, DateTime<Utc>)],
) -> anyhow::Result<Vec<DateTime<Utc>>> {
    let started = Instant::now();
    loop {
        let mut done = Vec::with_capacity(ids.len());
        for (id, _) in ids {
            let a = store.action(*id).await?.context("a seeded bomb vanished")?;
            match (a.status, a.executed_at) {
                (Status::Executed, Some(at)) => done.push(at),
                (Status::Armed | Status::Executing, _) => break,
                (other, _) => anyhow::bail!("bomb {id} ended {other:?}, not executed"),
            }
        }
        if done.len() == ids.len() {
            return Ok(done);
        }
        anyhow::ensure!(
            started.elapsed() < DRAIN_LIMIT,
            "only {} of {} due bombs executed within {DRAIN_LIMIT:?} of their deadline",
            done.len(),
            ids.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits for `id` to execute, reading it every `every`.
async fn wait_executed_one(
    store: &Arc<dyn Store>,
    id: Uuid,
    every: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let a = store.action(id).await?.context("a seeded bomb vanished")?;
        if a.status == Status::Executed {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < DRAIN_LIMIT,
            "bomb {id} did not execute within {DRAIN_LIMIT:?}"
        );
        tokio::time::sleep(every).await;
    }
}

/// `interlock serve` as a child process, logs discarded.
#[derive(Debug)]
struct ServerProcess {
    child: Child,
}

impl ServerProcess {
    /// Starts the server and waits until `/healthz` answers; returns how long that took.
    async fn start(
        exe: &std::path::Path,
        database: &str,
    ) -> anyhow::Result<(ServerProcess, Duration)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let started = Instant::now();
        let child = Command::new(exe)
            .args(["serve", "--database", database, "--listen", &listen])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start interlock serve")?;
        let server = ServerProcess { child };
        let http = reqwest::Client::new();
        let health = format!("http://{listen}/healthz");
        loop {
            if let Ok(r) = http.get(&health).send().await
                && r.status().is_success()
            {
                return Ok((server, started.elapsed()));
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not come up within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// CPU seconds the server has used so far, from /proc (Linux).
    fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.child.id())
    }

    /// Resident memory, from /proc (Linux).
    fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmRSS in /proc/<pid>/status")?;
        Ok(kb * 1024)
    }

    /// SIGKILL: no graceful shutdown, as in a crash.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn print_report(r: &TimersReport) {
    let m = &r.machine;
    println!(
        "\ninterlock bench timers: {} CPUs ({}), {:.0} GiB",
        m.cpus, m.cpu_model, m.memory_gib
    );
    println!(
        "  pending time bombs            {:>12}   seeded at {:.0}/s through the store",
        r.pending, r.seed_per_second
    );
    println!("  server start (to /healthz)    {:>9.0} ms", r.startup_ms);
    println!("  resident memory, empty db     {:>9.1} MB", r.rss_empty_mb);
    println!(
        "  resident memory, all pending  {:>9.1} MB   target < 200 MB",
        r.rss_pending_mb
    );
    println!(
        "  memory per pending timer      {:>9.1} B    target <= 64 B",
        r.bytes_per_pending_timer
    );
    println!(
        "  due, deadlines spread over    {:>12}   {} ms",
        r.due, r.spread_ms
    );
    println!(
        "  lateness p50 / p99 / max      {:>9.0} / {:.0} / {:.0} ms   targets p99 < 500 ms, max < 2000 ms",
        r.lateness.p50_ms, r.lateness.p99_ms, r.lateness.max_ms
    );
    println!("  executed before the deadline  {:>12}", r.executed_early);
    println!(
        "  drain                         {:>9.2} s = {:.0} executions/s   target >= 5,000/s",
        r.drain_seconds, r.executions_per_second
    );
    let us = |v: Option<f64>| v.map_or_else(|| "?".to_owned(), |v| format!("{v:.0}"));
    println!(
        "  CPU per execution             {:>9} µs server, {} µs machine",
        us(r.server_cpu_us_per_execution),
        us(r.machine_cpu_us_per_execution)
    );
    println!(
        "  restart to first fire         {:>9.0} ms   target < 2000 ms",
        r.restart_to_first_fire_ms
    );
    println!(
        "  baseline: {} one commit per row {:.0}/s",
        r.commit_ceiling.database, r.commit_ceiling.per_second
    );
}
