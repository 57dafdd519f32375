//! `interlock serve` and `interlock demo`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use interlock_core::rules::RuleSet;
use interlock_core::{Clock, ScaledClock, SystemClock};
use interlock_server::service::admin;
use interlock_store::{AuditDraft, ClockSettings, Store};
use serde_json::json;

use super::{Node, cli_actor, open_node, refusal};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML config file (see `interlock config default`).
    #[arg(long, env = "INTERLOCK_CONFIG")]
    pub config: Option<PathBuf>,
    /// The database, e.g. sqlite://interlock.db, or postgres://user@host/db for a node of
    /// a cluster.
    #[arg(long)]
    pub database: Option<String>,
    /// This node's name, unique among the running nodes of a cluster.
    #[arg(long)]
    pub node: Option<String>,
    /// Address to serve on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long)]
    pub listen: Option<String>,
    /// One real second is N seconds of Interlock time (demos and black-box tests).
    #[arg(long)]
    pub time_scale: Option<u32>,
}

impl ServeArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let mut c = Config::load(self.config.as_deref())?;
        if let Some(d) = &self.database {
            c.database_url = d.clone();
        }
        if let Some(n) = &self.node {
            c.node = n.clone();
        }
        if let Some(l) = &self.listen {
            c.listen = l.clone();
        }
        if let Some(s) = self.time_scale {
            anyhow::ensure!(s >= 1, "--time-scale must be at least 1");
            c.time_scale = s;
        }
        Ok(c)
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    init_logs(&config);
    let node = open_node(&config.database_url, &config.node, true).await?;
    run(config, node, None).await
}

/// The clock SPEC §15 asks for: wall time, or sped-up time agreed through the database.
async fn clock_for(config: &Config, store: &dyn Store) -> anyhow::Result<Arc<dyn Clock>> {
    let recorded = store.clock_settings().await?;
    if config.time_scale <= 1 {
        if let Some(r) = recorded
            && r.scale > 1
        {
            anyhow::bail!(
                "this database runs at --time-scale {}; start with the same scale (its Interlock time is ahead of the wall clock and must never run backwards)",
                r.scale
            );
        }
        return Ok(Arc::new(SystemClock));
    }
    let now = Utc::now();
    let agreed = store
        .agree_clock(ClockSettings {
            scale: config.time_scale,
            real_origin: now,
            interlock_origin: now,
        })
        .await?;
    anyhow::ensure!(
        agreed.scale == config.time_scale,
        "this database runs at --time-scale {}, not {}; every node must use the same scale",
        agreed.scale,
        config.time_scale
    );
    Ok(Arc::new(ScaledClock {
        real_origin: agreed.real_origin,
        interlock_origin: agreed.interlock_origin,
        scale: agreed.scale,
    }))
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("INTERLOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Prints what a starting server wants people to know, once its address is known.
type Banner = Box<dyn FnOnce(&str) + Send>;

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully. `banner` is printed once
/// the address is known.
async fn run(config: Config, node: Node, banner: Option<Banner>) -> anyhow::Result<()> {
    let store = node.store;
    let clock = clock_for(&config, store.as_ref()).await?;
    // Listen for signals before anyone is told the server is up: a SIGTERM sent right
    // after the banner would otherwise find no handler and kill the process outright.
    let stop = shutdown_signal();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok();
    let mut state = interlock_server::build_state(store, clock, config.server_settings(), metrics)?;
    if let Some(cluster) = node.cluster {
        state = state.join_cluster(cluster);
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let running = interlock_server::start(state, listener).await?;
    let url = format!("http://{}", running.addr);
    tracing::info!(%url, node = %config.node, time_scale = config.time_scale, "Interlock is serving");
    match banner {
        Some(print) => print(&url),
        None => println!("Interlock is serving on {url}"),
    }
    stop.await;
    tracing::info!("shutting down: finishing in-flight work");
    running.shutdown().await;
    drop(node.name);
    Ok(())
}

/// The demo's console login: an owner with a fresh random password on every start.
async fn demo_login(
    store: &dyn Store,
    actor: &interlock_store::Actor,
) -> anyhow::Result<(String, String)> {
    use interlock_server::service::people;
    const EMAIL: &str = "demo@interlock.example";
    let password = interlock_server::auth::session::random_token()[..20].to_owned();
    let now = Utc::now();
    match store.user_by_email(EMAIL).await? {
        Some(user) => people::set_password(store, user.id, &password, actor, now)
            .await
            .map_err(refusal)?,
        None => {
            people::add(
                store,
                EMAIL,
                interlock_store::Role::Owner,
                Vec::new(),
                Some(&password),
                actor,
                now,
            )
            .await
            .map_err(refusal)?;
        }
    }
    Ok((EMAIL.to_owned(), password))
}

/// Writes a file only its owner can read: it holds keys.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are registered when this is called, not
/// when the future is first polled.
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async move {
        let recv = async |s: Option<&mut tokio::signal::unix::Signal>| match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        };
        tokio::select! {
            _ = recv(term.as_mut()) => {}
            _ = recv(int.as_mut()) => {}
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The demo database (created if missing).
    #[arg(long, default_value = "sqlite://interlock-demo.db")]
    pub database: String,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[arg(long)]
    pub time_scale: Option<u32>,
    /// Where to write `export …` lines with the URL and keys, for another shell.
    #[arg(long, default_value = "interlock-demo.env")]
    pub env_file: PathBuf,
}

const WORKED_EXAMPLE: &str = include_str!("../../../../examples/rules.json");

/// A ready deployment: teams Support and Sales with the worked example's rules, the log
/// connector, fresh keys printed.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let config = Config {
        database_url: args.database.clone(),
        listen: args.listen.clone(),
        time_scale: args.time_scale.unwrap_or(1),
        ..Config::load(None)?
    };
    init_logs(&config);
    let node = open_node(&config.database_url, &config.node, true).await?;
    let store = node.store.clone();
    let actor = cli_actor();
    let now = Utc::now();
    let rules = RuleSet::from_json_str(WORKED_EXAMPLE).expect("the worked example is valid");
    let mut agent_keys = Vec::new();
    for (slug, name) in [("support", "Support"), ("sales", "Sales")] {
        let team = match store.team_by_slug(slug).await? {
            Some(t) => t,
            None => {
                let t = admin::create_team(store.as_ref(), slug, name, &actor, now)
                    .await
                    .map_err(refusal)?;
                let audit = AuditDraft {
                    team_id: Some(t.id),
                    actor: actor.clone(),
                    subject: Some(t.id.to_string()),
                    event: "rules.changed".to_owned(),
                    data: json!({"from_version": 1, "to_version": 2, "reason": "demo: the worked example"}),
                };
                store
                    .save_rules(t.id, 1, rules.clone(), actor.clone(), now, audit)
                    .await?;
                t
            }
        };
        let key = admin::create_key(
            store.as_ref(),
            admin::NewKey::agent(&team).named(format!("demo {slug} agent")),
            &actor,
            now,
        )
        .await
        .map_err(refusal)?;
        agent_keys.push((slug, key.token));
    }
    let admin_key = admin::create_key(
        store.as_ref(),
        admin::NewKey::admin().named("demo admin"),
        &actor,
        now,
    )
    .await
    .map_err(refusal)?;
    let login = demo_login(store.as_ref(), &actor).await?;
    let database = config.database_url.clone();
    let env_file = args.env_file.clone();
    let banner = Box::new(move |url: &str| {
        let support_key = agent_keys
            .iter()
            .find(|(s, _)| *s == "support")
            .map_or("", |(_, k)| k.as_str());
        let sales_key = agent_keys
            .iter()
            .find(|(s, _)| *s == "sales")
            .map_or("", |(_, k)| k.as_str());
        let exports = format!(
            "export INTERLOCK_URL={url}\nexport ADMIN_KEY={}\nexport AGENT_KEY={support_key}\nexport SALES_AGENT_KEY={sales_key}\n",
            admin_key.token
        );
        println!("Interlock demo is running at {url}");
        println!("  database:          {database}");
        println!(
            "  console login:     {}/login as {} / {}",
            url, login.0, login.1
        );
        println!("  admin key:         {}", admin_key.token);
        for (slug, key) in &agent_keys {
            println!("  {slug} agent key: {}{key}", " ".repeat(7 - slug.len()));
        }
        println!("Teams support and sales use the worked example: refunds under $50 run at once,");
        println!("$50-$500 arm a 24 h time bomb, above $500 wait for a person. Ctrl-C stops.");
        match write_private(&env_file, &exports) {
            Ok(()) => println!("  keys for your shell: source {}", env_file.display()),
            Err(e) => eprintln!("could not write {}: {e}", env_file.display()),
        }
    });
    run(config, node, Some(banner)).await
}
