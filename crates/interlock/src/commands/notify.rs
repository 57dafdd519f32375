//! `interlock channel add|list|remove|test` and `interlock connector test`: notification
//! channels and test sends from the command line, against the database (a running
//! server picks new channels up at once). Test sends go out from this process, with the
//! config's timeouts and SMTP server, and print the receiver's answer.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use interlock_core::{Category, SystemClock};
use interlock_server::service::channels::{self, ChannelBody};
use interlock_server::{AppState, connectors, notify};
use interlock_store::{Store, Team};

use super::admin::DatabaseArg;
use super::{cli_actor, open_store, refusal};
use crate::Refusal;

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// The server's config file, for the SMTP server, timeouts and callback settings.
    #[arg(long = "config", env = "INTERLOCK_CONFIG")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Add a channel: JSON as for POST /v1/teams/{team}/channels, e.g.
    /// '{"kind": "slack", "url": "https://hooks.slack.com/services/…"}'. Prints it.
    Add {
        #[arg(long)]
        team: String,
        json: String,
        #[command(flatten)]
        db: DatabaseArg,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// List a team's channels (never their secrets).
    List {
        #[arg(long)]
        team: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a channel.
    Remove {
        #[arg(long)]
        team: String,
        id: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Send a test notification now and print the receiver's answer.
    Test {
        #[arg(long)]
        team: String,
        id: String,
        #[command(flatten)]
        db: DatabaseArg,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Send a test through a category's connector and print the receiver's answer.
    Test {
        #[arg(long)]
        team: String,
        category: String,
        /// smtp: send a test email here (without it: connect and log in only).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
        #[command(flatten)]
        config: ConfigArg,
    },
}

async fn team(store: &dyn Store, slug: &str) -> anyhow::Result<Team> {
    store
        .team_by_slug(slug)
        .await?
        .ok_or_else(|| Refusal::new("not_found", format!("no team `{slug}`")).into())
}

/// A server state for sending from this process: the config's settings, the real clock.
fn sender(store: Arc<dyn Store>, config: &ConfigArg) -> anyhow::Result<AppState> {
    let settings = crate::config::Config::load(config.file.as_deref())?.server_settings();
    interlock_server::build_state(store, Arc::new(SystemClock), settings, None)
}

/// Prints a test send's report; a failed send is a refusal (exit status 1).
fn report(outcome: connectors::Outcome) -> anyhow::Result<()> {
    let r = outcome.report();
    println!("{}", serde_json::to_string_pretty(&r)?);
    if r["ok"] == true {
        Ok(())
    } else {
        Err(Refusal::new("test_failed", r["error"].as_str().unwrap_or_default()).into())
    }
}

pub async fn channel(cmd: ChannelCommand) -> anyhow::Result<()> {
    match cmd {
        ChannelCommand::Add {
            team: slug,
            json,
            db,
            config,
        } => {
            let store = open_store(&db.url).await?;
            let team = team(store.as_ref(), &slug).await?;
            let body: ChannelBody = serde_json::from_str(&json)
                .map_err(|e| Refusal::new("invalid_body", e.to_string()))?;
            let has_smtp = crate::config::Config::load(config.file.as_deref())?
                .smtp
                .is_some();
            let config = channels::config(body, has_smtp).map_err(refusal)?;
            let now = chrono::Utc::now();
            let c = channels::create(store.as_ref(), &team, config, &cli_actor(), now)
                .await
                .map_err(refusal)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&channels::view(&c, &team.slug))?
            );
        }
        ChannelCommand::List { team: slug, db } => {
            let store = open_store(&db.url).await?;
            let team = team(store.as_ref(), &slug).await?;
            let shown: Vec<_> = store
                .channels(team.id)
                .await?
                .iter()
                .map(|c| channels::view(c, &team.slug))
                .collect();
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        ChannelCommand::Remove { team: slug, id, db } => {
            let store = open_store(&db.url).await?;
            let team = team(store.as_ref(), &slug).await?;
            let c = channels::of_team(store.as_ref(), &team, &id)
                .await
                .map_err(refusal)?;
            channels::delete(store.as_ref(), &team, &c, &cli_actor(), chrono::Utc::now())
                .await
                .map_err(refusal)?;
            println!("removed channel {id}");
        }
        ChannelCommand::Test {
            team: slug,
            id,
            db,
            config,
        } => {
            let store = open_store(&db.url).await?;
            let team = team(store.as_ref(), &slug).await?;
            let c = channels::of_team(store.as_ref(), &team, &id)
                .await
                .map_err(refusal)?;
            let state = sender(store, &config)?;
            report(notify::test_channel(&state, &c, &team.slug).await)?;
        }
    }
    Ok(())
}

pub async fn connector(cmd: ConnectorCommand) -> anyhow::Result<()> {
    let ConnectorCommand::Test {
        team: slug,
        category,
        to,
        db,
        config,
    } = cmd;
    let store = open_store(&db.url).await?;
    let team = team(store.as_ref(), &slug).await?;
    let category: Category = category
        .parse()
        .map_err(|e: interlock_core::ParseNameError| {
            Refusal::new("unknown_category", e.to_string())
        })?;
    let configured = store
        .connector(team.id, category)
        .await?
        .unwrap_or_else(|| connectors::default_for(category));
    let state = sender(store, &config)?;
    report(connectors::test(&state, category, &configured, to.as_deref()).await)
}
