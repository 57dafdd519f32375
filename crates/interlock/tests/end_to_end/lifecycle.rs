//! Starting and stopping `interlock serve`: the time-scale agreement of SPEC §15 and the
//! graceful shutdown of SPEC §13.

use std::time::Duration;

use reqwest::StatusCode;

use serde_json::json;

use crate::common::api::Api;
use crate::common::db::{Deployment, TestDb};
use crate::common::receiver::Receiver;
use crate::common::server::Server;
use crate::common::{refund, wait_until, worked_example_path};

const LOCAL: [&str; 2] = ["--listen", "127.0.0.1:0"];

async fn recorded_clock(db: &TestDb) -> Option<String> {
    let mut sql = db.sql().await;
    sqlx::query_scalar("SELECT value FROM meta WHERE key = 'clock'")
        .fetch_optional(&mut sql)
        .await
        .unwrap()
}

/// Starts a server that is expected to refuse; returns its log.
fn refused_start(db: &TestDb, args: &[&str], envs: &[(&str, &str)]) -> String {
    let mut server = Server::spawn(db, &[&LOCAL[..], args].concat(), envs);
    let exit = server.wait_exit(Duration::from_secs(20));
    let log = server.log_text();
    assert!(!exit.success(), "it started: {log}");
    assert_eq!(exit.code(), Some(1), "{log}");
    log
}

#[tokio::test]
async fn a_database_first_served_at_time_scale_3600_refuses_any_other_scale_or_none() {
    let db = TestDb::new();
    let (mut server, _) =
        Server::start(&db, &[&LOCAL[..], &["--time-scale", "3600"]].concat(), &[]);
    let clock = recorded_clock(&db)
        .await
        .expect("the first sped-up start records its clock");
    let parsed: serde_json::Value = serde_json::from_str(&clock).unwrap();
    assert_eq!(parsed["scale"], 3600, "{clock}");
    let (exit, _) = server.sigterm(Duration::from_secs(20));
    assert!(exit.success());

    let log = refused_start(&db, &["--time-scale", "60"], &[]);
    assert!(log.contains("--time-scale 3600, not 60"), "{log}");
    let log = refused_start(&db, &[], &[]);
    assert!(log.contains("--time-scale 3600"), "{log}");
    let log = refused_start(&db, &[], &[("INTERLOCK_TIME_SCALE", "60")]);
    assert!(log.contains("--time-scale 3600, not 60"), "{log}");

    let (mut again, _) = Server::start(&db, &[&LOCAL[..], &["--time-scale", "3600"]].concat(), &[]);
    let (exit, _) = again.sigterm(Duration::from_secs(20));
    assert!(exit.success());
    assert_eq!(
        recorded_clock(&db).await.as_deref(),
        Some(clock.as_str()),
        "a restart keeps the recorded origin, so Interlock time never runs backwards"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_makes_serve_exit_0_promptly() {
    let db = TestDb::new();
    let (mut server, url) = Server::start(&db, &LOCAL, &[]);
    let (status, body) = Api::new(&url).get("/readyz", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (exit, took) = server.sigterm(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(0), "{exit}");
    println!("serve exited {took:?} after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_webhook_delivery_finish_and_records_it() {
    let rules: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(worked_example_path()).unwrap()).unwrap();
    let d = Deployment::with_rules(&rules);
    let receiver = Receiver::start(Duration::from_secs(1)).await;
    let (mut server, url) = Server::start(&d.db, &LOCAL, &[]);
    let api = Api::new(&url);
    let connector =
        json!({"kind": "webhook", "url": receiver.url, "secret": "whsec_e2e_0123456789abcdef"});
    let (status, body) = api
        .put("/v1/teams/support/connectors/REFUND", &d.admin, &connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, action) = api.post("/v1/actions", &d.agent, &refund("12.00")).await;
    assert_eq!(status, StatusCode::CREATED, "{action}");
    wait_until(
        "the delivery to be in flight",
        Duration::from_secs(20),
        async || (receiver.in_flight() > 0).then_some(()),
    )
    .await;

    let (exit, took) = server.sigterm(Duration::from_secs(20));
    assert_eq!(exit.code(), Some(0), "{exit}");
    println!("serve exited {took:?} after SIGTERM, with a delivery in flight");
    let mut sql = d.db.sql().await;
    let status: String = sqlx::query_scalar("SELECT status FROM actions WHERE id = ?")
        .bind(action["id"].as_str().unwrap())
        .fetch_one(&mut sql)
        .await
        .unwrap();
    assert_eq!(
        status, "executed",
        "the delivery that was under way was recorded"
    );
    assert_eq!(receiver.deliveries().len(), 1);
}
