//! Ceilings measured in the same run as the proposals, so the figures can be read
//! against what this machine can do at all: how many commits per second its disk takes
//! (what group commit has to beat), and how many requests per second its HTTP stack and
//! the load generator manage when the handler does nothing.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use chrono::Utc;
use interlock_server::service::proposals::{self, ProposeBody};
use interlock_store::Actor;
use serde::Serialize;

use super::mix::refund_body;
use super::server::{Database, prepare};

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CommitCeiling {
    /// `SQLite` or `PostgreSQL`.
    pub database: &'static str,
    pub seconds: f64,
    pub rows: u64,
    pub per_second: f64,
}

/// Proposals written one per transaction, sequentially, through the same store call the
/// server uses (`insert_actions` with a batch of one), on a fresh SQLite file or on the
/// measurement's own database (`database`, as `--database` takes it): each is its own
/// commit and fsync. Building the proposal is timed too, as in the server.
pub async fn one_commit_per_row(
    database: &str,
    duration: Duration,
) -> anyhow::Result<CommitCeiling> {
    let db = Database::open(database)?;
    let (store, team) = prepare(&db).await?;
    let rules = store.current_rules(team.id).await?.rules;
    let body: ProposeBody = serde_json::from_slice(&refund_body("120.00"))?;
    let actor = Actor::system("bench");
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < duration {
        let valid =
            proposals::validate(&body, rules.currency()).map_err(|e| anyhow::anyhow!(e.message))?;
        let new = proposals::build(&team, &rules, valid, &actor, Utc::now(), None)
            .map_err(|e| anyhow::anyhow!(e.message))?;
        store.insert_actions(vec![new]).await?;
        rows += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(CommitCeiling {
        database: engine_of(database),
        seconds,
        rows,
        per_second: rows as f64 / seconds,
    })
}

/// An axum server whose only route reads the body and answers 201 with `answer` (a real
/// proposal's answer, so both directions carry the same bytes as the real thing). Same
/// axum and hyper as the server, no middleware, no state.
pub async fn noop_server(answer: Bytes) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let app = axum::Router::new().route(
        "/v1/actions",
        axum::routing::post(move |_body: Bytes| {
            let answer = answer.clone();
            async move {
                (
                    StatusCode::CREATED,
                    [(header::CONTENT_TYPE, "application/json")],
                    answer,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/actions", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, task))
}

/// The database engine a `--database` value names.
pub fn engine_of(database: &str) -> &'static str {
    if database.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}
