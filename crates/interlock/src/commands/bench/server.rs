//! The server under test when no `--target` is given: the real application, started in
//! this process exactly as `interlock serve` starts it, on a real SQLite file.

use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use interlock_core::SystemClock;
use interlock_core::rules::RuleSet;
use interlock_server::service::admin;
use interlock_server::{Running, ServerSettings};
use interlock_store::{Actor, AuditDraft, Store, Team};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

use crate::commands::open_store;

const WORKED_EXAMPLE: &str = include_str!("../../../../../examples/rules.json");
pub const TEAM: &str = "bench";

/// A database for a measurement: a fresh file in a temporary directory (removed when
/// this is dropped), or the one `--database` names.
#[derive(Debug)]
pub struct Database {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    pub fn open(arg: &str) -> anyhow::Result<Database> {
        if arg != "temp" {
            return Ok(Database {
                url: arg.to_owned(),
                _dir: None,
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("interlock-bench-")
            .tempdir()?;
        Ok(Database {
            url: format!("sqlite://{}", dir.path().join("bench.db").display()),
            _dir: Some(dir),
        })
    }
}

/// Opens and migrates the store (the SQLite store sets WAL and synchronous=FULL itself)
/// and makes sure team `bench` exists with the worked example's rules.
pub async fn prepare(db: &Database) -> anyhow::Result<(Arc<dyn Store>, Team)> {
    let store = open_store(&db.url).await?;
    let actor = Actor::system("bench");
    let now = Utc::now();
    let team = match store.team_by_slug(TEAM).await? {
        Some(t) => t,
        None => admin::create_team(store.as_ref(), TEAM, "Bench", &actor, now)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create team {TEAM}: {}", e.message))?,
    };
    let rules = RuleSet::from_json_str(WORKED_EXAMPLE).expect("the worked example is valid");
    let current = store.current_rules(team.id).await?;
    if current.rules != rules {
        let audit = AuditDraft {
            team_id: Some(team.id),
            actor: actor.clone(),
            subject: Some(team.id.to_string()),
            event: "rules.changed".to_owned(),
            data: json!({"from_version": current.version, "to_version": current.version + 1,
                         "reason": "interlock bench: the worked example"}),
        };
        store
            .save_rules(team.id, current.version, rules, actor, now, audit)
            .await?;
    }
    Ok((store, team))
}

/// A running server and what the load generator needs to reach it.
#[derive(Debug)]
pub struct InProcess {
    pub running: Running,
    pub url: String,
    pub key: String,
    pub metrics: PrometheusHandle,
}

pub async fn start(db: &Database) -> anyhow::Result<InProcess> {
    // Log as `serve` does by default, then throw the lines away: formatting them (one per
    // execution by the log connector) is part of the work a real server does.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,tower_http=warn,sqlx=warn",
        ))
        .with_writer(std::io::sink)
        .try_init();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let (store, team) = prepare(db).await?;
    let key = admin::create_key(
        store.as_ref(),
        admin::NewKey::agent(&team).named("interlock bench"),
        &Actor::system("bench"),
        Utc::now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot create the agent key: {}", e.message))?;
    let settings = ServerSettings {
        // The per-key rate limit (100/s by default) exists to slow down one runaway
        // agent; here one key stands for many agents, so it is lifted.
        proposals_per_second: f64::MAX,
        proposal_burst: u32::MAX,
        ..ServerSettings::default()
    };
    let state = interlock_server::build_state(
        store,
        Arc::new(SystemClock),
        settings,
        Some(metrics.clone()),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = interlock_server::start(state, listener).await?;
    Ok(InProcess {
        url: format!("http://{}/v1/actions", running.addr),
        running,
        key: key.token,
        metrics,
    })
}
