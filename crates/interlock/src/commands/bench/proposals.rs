//! Durable proposals per second over HTTP (issue: ≥ 10,000/s at 64 clients, p99 < 20 ms).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use interlock_core::SystemClock;
use interlock_core::rules::RuleSet;
use interlock_server::ServerSettings;
use interlock_server::service::{admin, proposals};
use interlock_store::{Actor, AuditDraft, Store};
use interlock_store_sqlite::SqliteStore;
use serde_json::json;

use super::load::{LoadResult, closed_loop};

#[derive(Debug, Args)]
pub struct ProposalArgs {
    /// Concurrent clients, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Measured seconds per client count (after the warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Percent of time bombs, autonomous and human-approval proposals.
    #[arg(long, default_value = "80,10,10")]
    mix: String,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Skip the baselines (for profiling the server alone).
    #[arg(long)]
    no_baselines: bool,
}

const WORKED_EXAMPLE: &str = include_str!("../../../../../examples/rules.json");

fn refund(amount: &str) -> serde_json::Value {
    json!({
        "category": "REFUND",
        "title": "Refund the duplicate charge",
        "rationale": "Invoice 1042 was charged twice",
        "payload": {"customer_id": "cus_42", "amount": amount, "currency": "USD", "kind": "partial", "reason": "duplicate charge"},
    })
}

/// A fresh store on a temporary file, with team `bench` on the worked example.
async fn fresh_store(
    dir: &std::path::Path,
) -> anyhow::Result<(Arc<dyn Store>, interlock_store::Team)> {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&format!("sqlite://{}", dir.join("bench.db").display())).await?);
    store.migrate().await?;
    let actor = Actor::system("bench");
    let now = Utc::now();
    let team = admin::create_team(store.as_ref(), "bench", "Bench", &actor, now)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let rules = RuleSet::from_json_str(WORKED_EXAMPLE)?;
    let audit = AuditDraft {
        team_id: Some(team.id),
        actor: actor.clone(),
        subject: None,
        event: "rules.changed".into(),
        data: json!({}),
    };
    store
        .save_rules(team.id, 1, rules, actor, now, audit)
        .await?;
    Ok((store, team))
}

pub async fn run(args: ProposalArgs) -> anyhow::Result<()> {
    let mix: Vec<u64> = args
        .mix
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(
        mix.len() == 3 && mix.iter().sum::<u64>() == 100,
        "--mix is three percentages adding up to 100"
    );
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        [("120.00", mix[0]), ("20.00", mix[1]), ("900.00", mix[2])]
            .iter()
            .flat_map(|(amount, pct)| {
                std::iter::repeat_n(
                    serde_json::to_vec(&refund(amount)).unwrap_or_default(),
                    *pct as usize,
                )
            })
            .collect(),
    );
    let (warmup, duration) = (
        Duration::from_secs(args.warmup),
        Duration::from_secs(args.seconds),
    );
    eprintln!(
        "machine: {} cores; the load generator runs on the same machine as the server",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let (mut ceiling, mut noop) = (0.0, Vec::new());
    if !args.no_baselines {
        eprintln!("baseline: SQLite, one proposal per transaction (synchronous=FULL)");
        ceiling = one_commit_per_row(Duration::from_secs(args.seconds.min(5))).await?;
        eprintln!("baseline: a no-op HTTP handler");
        let noop_url = noop_server().await?;
        for &c in &args.clients {
            let b = bodies.clone();
            let run = closed_loop(
                &noop_url,
                None,
                c,
                warmup,
                duration,
                201,
                Arc::new(move |i| b[(i % 100) as usize].clone()),
            );
            noop.push(run.await?);
        }
    }

    eprintln!("Interlock: durable proposals (SQLite file, WAL, synchronous=FULL, group commit)");
    let dir = tempfile::tempdir()?;
    let (store, team) = fresh_store(dir.path()).await?;
    let key = admin::create_key(
        store.as_ref(),
        admin::NewKey::agent(&team),
        &Actor::system("bench"),
        Utc::now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?
    .token;
    // The per-key rate limit would throttle one agent key long before the server does.
    let settings = ServerSettings {
        proposals_per_second: 1e9,
        proposal_burst: u32::MAX,
        ..ServerSettings::default()
    };
    let state =
        interlock_server::build_state(store.clone(), Arc::new(SystemClock), settings, None, 1)?;
    let running =
        interlock_server::start(state, tokio::net::TcpListener::bind("127.0.0.1:0").await?).await?;
    let url = format!("http://{}/v1/actions", running.addr);
    let mut results = Vec::new();
    for &c in &args.clients {
        let b = bodies.clone();
        results.push(
            closed_loop(
                &url,
                Some(&key),
                c,
                warmup,
                duration,
                201,
                Arc::new(move |i| b[(i % 100) as usize].clone()),
            )
            .await?,
        );
    }
    running.shutdown().await;

    print_table(ceiling, &noop, &results);
    if let Some(path) = args.json {
        let doc = json!({"one_commit_per_row_per_second": ceiling, "noop_http": noop, "proposals": results, "mix": args.mix});
        std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Sequential proposals, each its own transaction and fsync: what group commit beats.
async fn one_commit_per_row(duration: Duration) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let (store, team) = fresh_store(dir.path()).await?;
    let rules = store.current_rules(team.id).await?.rules;
    let body: proposals::ProposeBody = serde_json::from_value(refund("120.00"))?;
    let actor = Actor::system("bench");
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        let valid =
            proposals::validate(&body, rules.currency()).map_err(|e| anyhow::anyhow!(e.message))?;
        let new = proposals::build(&team, &rules, valid, &actor, Utc::now(), None)
            .map_err(|e| anyhow::anyhow!(e.message))?;
        store.insert_actions(vec![new]).await?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn noop_server() -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(|_: axum::body::Bytes| async {
            (axum::http::StatusCode::CREATED, "{}")
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

fn print_table(ceiling: f64, noop: &[LoadResult], results: &[LoadResult]) {
    println!();
    println!("SQLite one commit per proposal (baseline): {ceiling:.0} proposals/s");
    println!();
    println!(
        "| clients | proposals/s | p50 ms | p90 ms | p99 ms | max ms | errors | no-op HTTP req/s | no-op p99 ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, r) in results.iter().enumerate() {
        let (n_rate, n_p99) = noop.get(i).map_or((0.0, 0.0), |n| (n.per_second, n.p99_ms));
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {:.2} |",
            r.clients,
            r.per_second,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.max_ms,
            r.errors,
            n_rate,
            n_p99
        );
    }
}
