//! `interlock bench proposals`: durable proposals per second over HTTP, and their
//! latency, at several client counts, held to the issues' targets at 64 clients (see
//! [`Goal`]: 10,000 proposals/s with p99 under 20 ms on SQLite, 5,000/s for one
//! PostgreSQL node).
//!
//! Every proposal counted was answered 201, which the server only does after the
//! action, its timer or execution job, its audit entries and its notification are
//! committed to disk (SQLite in WAL mode with synchronous=FULL, group commit).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use clap::Args;

use super::baselines;
use super::load::{self, LoadResult, Schedule, Target};
use super::machine::{CLIENT_THREAD, Machine, load_average};
use super::metrics::{Counters, Executions};
use super::mix::Mix;
use super::report::{Goal, Report, Row};
use super::server::{self, Database, InProcess};

#[derive(Debug, Args)]
pub struct ProposalsArgs {
    /// Concurrent clients, one keep-alive connection each; one measurement per count.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Measured seconds per client count.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before each measurement that are not counted.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// The in-process server's database: `temp` (a fresh SQLite file, deleted
    /// afterwards), sqlite://FILE or postgres://… (team `bench` is created or reused in
    /// it; the one-commit-per-row baseline then runs on the same database).
    #[arg(long, default_value = "temp", conflicts_with = "target")]
    database: String,
    /// Load a running server at this URL instead of starting one (needs --key, an agent
    /// key of a USD team; its per-key rate limit applies and shows up as 429 errors).
    #[arg(long, requires = "key")]
    target: Option<String>,
    /// The agent key for --target.
    #[arg(long, requires = "target")]
    key: Option<String>,
    /// Proposals by level, as weights: refunds of $120 arm a time bomb, $20 execute at
    /// once (the scheduler then runs them through the log connector), $900 wait for a
    /// person.
    #[arg(long, default_value = "time_bomb=80,autonomous=10,human_approval=10")]
    mix: Mix,
    /// Seconds for the one-commit-per-row SQLite baseline.
    #[arg(long, default_value_t = 3)]
    baseline_seconds: u64,
    /// Skip the baselines (quicker, e.g. while profiling).
    #[arg(long)]
    no_baselines: bool,
    /// Also write every figure as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// How long the scheduler may take to catch up with executions between client counts.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

pub async fn run(args: ProposalsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.clients.is_empty() && args.clients.iter().all(|&c| c > 0),
        "--clients takes positive counts"
    );
    anyhow::ensure!(args.seconds > 0, "--seconds must be at least 1");
    let machine = Machine::describe();
    // The load generator gets its own runtime and threads, as a separate process would
    // have; the operating system shares the cores between it and the server.
    let clients_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name(CLIENT_THREAD)
        .enable_all()
        .build()?;

    let db = Database::open(&args.database)?;
    let (local, url, key, server) = match (&args.target, &args.key) {
        (Some(target), Some(key)) => (
            None,
            actions_url(target),
            key.clone(),
            format!("{target} (not started by this run)"),
        ),
        _ => {
            let s = server::start(&db).await?;
            let what = format!(
                "in-process, on {}",
                if args.database == "temp" {
                    "a fresh temporary SQLite file (WAL, synchronous=FULL)"
                } else {
                    db.url.as_str()
                }
            );
            let (url, key) = (s.url.clone(), s.key.clone());
            (Some(s), url, key, what)
        }
    };
    eprintln!("interlock bench proposals: {server}; {}", args.mix);
    eprintln!(
        "note: the load generator runs on this machine too ({} CPUs)",
        machine.cpus
    );
    let target = Target {
        url,
        bearer: Some(key),
        bodies: Arc::from(args.mix.bodies()),
        success: 201,
    };
    let answer = probe(&target).await?;

    let mut rows = Vec::new();
    for &clients in &args.clients {
        let schedule = Schedule {
            clients,
            warmup: Duration::from_secs(args.warmup),
            measure: Duration::from_secs(args.seconds),
        };
        let before = local.as_ref().map(|s| Counters::read(&s.metrics));
        let result = on(
            &clients_rt,
            target.clone(),
            schedule,
            format!("{clients} clients"),
        )
        .await?;
        let executions = match (&local, before) {
            (Some(s), Some(before)) => Some(executions_since(s, before).await),
            _ => None,
        };
        eprintln!("  {}", summary_line(&result));
        rows.push(Row { result, executions });
    }
    if let Some(s) = local {
        s.running.shutdown().await;
    }

    let (mut commit_ceiling, mut noop) = (None, Vec::new());
    if !args.no_baselines {
        eprintln!(
            "baseline: {}, one proposal per commit, {} s",
            baselines::engine_of(&args.database),
            args.baseline_seconds
        );
        commit_ceiling = Some(
            baselines::one_commit_per_row(
                &args.database,
                Duration::from_secs(args.baseline_seconds),
            )
            .await?,
        );
        let (noop_url, noop_task) = baselines::noop_server(answer).await?;
        let noop_target = Target {
            url: noop_url,
            ..target.clone()
        };
        for &clients in &args.clients {
            let schedule = Schedule {
                clients,
                warmup: Duration::from_secs(args.warmup),
                measure: Duration::from_secs(args.seconds),
            };
            let result = on(
                &clients_rt,
                noop_target.clone(),
                schedule,
                format!("no-op, {clients} clients"),
            )
            .await?;
            eprintln!("  no-op: {}", summary_line(&result));
            noop.push(result);
        }
        noop_task.abort();
    }
    clients_rt.shutdown_background();

    let report = Report {
        machine,
        load_average_at_end: load_average(),
        server,
        mix: args.mix.to_string(),
        warmup_seconds: args.warmup,
        measured_seconds: args.seconds,
        rows,
        commit_ceiling,
        noop_http: noop,
        target: if interlock_store_postgres::is_postgres_url(&args.database) {
            Goal::POSTGRES_NODE
        } else {
            Goal::SQLITE
        },
    };
    println!("{report}");
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `http://host:port` or the full `…/v1/actions`.
fn actions_url(target: &str) -> String {
    let base = target.trim_end_matches('/');
    if base.ends_with("/v1/actions") {
        base.to_owned()
    } else {
        format!("{base}/v1/actions")
    }
}

/// Runs one load on the load generator's runtime.
async fn on(
    rt: &tokio::runtime::Runtime,
    target: Target,
    schedule: Schedule,
    label: String,
) -> anyhow::Result<LoadResult> {
    rt.spawn(load::run(target, schedule, label)).await?
}

/// One proposal before the clients start: fails early on a wrong URL, key or team, and
/// returns a real answer for the no-op baseline to send back.
async fn probe(target: &Target) -> anyhow::Result<Bytes> {
    let http = reqwest::Client::new();
    let mut req = http
        .post(&target.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(target.bodies[0].clone());
    if let Some(key) = &target.bearer {
        req = req.bearer_auth(key);
    }
    let answer = req
        .send()
        .await
        .with_context(|| format!("cannot reach {}", target.url))?;
    let status = answer.status();
    let body = answer.bytes().await?;
    anyhow::ensure!(
        status.as_u16() == target.success,
        "the first proposal was answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(body)
}

/// Reads what the scheduler did, after waiting (up to a limit) for it to execute every
/// autonomous action proposed so far, so the next client count starts from a quiet
/// server.
async fn executions_since(s: &InProcess, before: Counters) -> Executions {
    let at_end = Counters::read(&s.metrics);
    let started = Instant::now();
    while Counters::read(&s.metrics).backlog() > 0.0 && started.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Executions::between(before, at_end, started.elapsed().as_secs_f64())
}

fn summary_line(r: &LoadResult) -> String {
    format!(
        "{:>3} clients: {:>8.0}/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
        r.clients,
        r.per_second,
        r.latency.p50_ms,
        r.latency.p99_ms,
        r.error_count()
    )
}
