//! SPEC §6, §9, §14: a server that dies in the middle of its work loses nothing. Time
//! bombs that came due while it was down fire when it comes back, and every webhook is
//! delivered with the action id as its idempotency key; only deliveries that were in
//! flight when it died may arrive twice.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::common::api::Api;
use crate::common::db::{Deployment, TestDb};
use crate::common::receiver::Receiver;
use crate::common::server::Server;
use crate::common::{fast_rules, refund, wait_until};

const SECRET: &str = "whsec_e2e_0123456789abcdef";
const TIME_BOMBS: usize = 40;
const AUTONOMOUS: usize = 20;
/// One real second is an hour: the one-hour bombs fire about a second after arming.
const SPED_UP: [&str; 4] = ["--listen", "127.0.0.1:0", "--time-scale", "3600"];
/// Short leases, so the restarted node takes over the dead one's claims within seconds;
/// few workers, so the slow receiver keeps a queue of due work behind it.
const SETTINGS: [(&str, &str); 2] = [
    ("INTERLOCK_JOB_LEASE_SECONDS", "2"),
    ("INTERLOCK_JOB_CONCURRENCY", "4"),
];
/// How long the receiver takes to answer each delivery.
const RECEIVER_DELAY: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_bombs_are_due_and_webhooks_in_flight_loses_nothing_after_restarts() {
    let d = Deployment::with_rules(&fast_rules());
    let receiver = Receiver::start(RECEIVER_DELAY).await;
    let (mut first, url) = Server::start(&d.db, &SPED_UP, &SETTINGS);
    let api = Api::new(&url);
    let connector = json!({"kind": "webhook", "url": receiver.url, "secret": SECRET});
    let (status, body) = api
        .put("/v1/teams/support/connectors/REFUND", &d.admin, &connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let proposed = propose_all(&api, &d.agent).await;
    let bombs_armed = Instant::now();
    let ids: BTreeSet<String> = proposed.keys().cloned().collect();
    let bombs: BTreeSet<&String> = proposed
        .iter()
        .filter(|(_, level)| *level == "time_bomb")
        .map(|(id, _)| id)
        .collect();

    // First kill: every bomb's deadline has passed (an hour is a second; a little more
    // for the clock's granularity) while the receiver holds deliveries open. The few
    // workers are busy with the autonomous refunds, so most bombs are still armed.
    let all_due = bombs_armed + Duration::from_millis(1200);
    wait_until(
        "every time bomb to be due while deliveries are in flight",
        Duration::from_secs(30),
        async || (Instant::now() >= all_due && receiver.in_flight() > 0).then_some(()),
    )
    .await;
    let first_kill = kill(&mut first, &d.db, &receiver, "first").await;
    assert!(
        first_kill.latest_deadline <= first_kill.interlock_now,
        "some bomb was not yet due when the server died ({first_kill})"
    );

    // Second kill: the restarted server is delivering fired bombs.
    let (mut second, url) = Server::start(&d.db, &SPED_UP, &SETTINGS);
    let api = Api::new(&url);
    wait_until(
        "a fired time bomb's delivery to be in flight",
        Duration::from_secs(30),
        async || {
            let in_flight = receiver.in_flight_keys();
            in_flight.iter().any(|k| bombs.contains(k)).then_some(())
        },
    )
    .await;
    // Make sure the API of the restarted server answers before it dies again.
    assert_eq!(api.all_actions("support", &d.admin).await.len(), ids.len());
    let second_kill = kill(&mut second, &d.db, &receiver, "second").await;

    let (mut third, url) = Server::start(&d.db, &SPED_UP, &SETTINGS);
    let api = Api::new(&url);
    let restarted = Instant::now();
    let actions = wait_until(
        "every action to be executed after the last restart",
        Duration::from_secs(45),
        async || {
            let actions = api.all_actions("support", &d.admin).await;
            if let Some(failed) = actions.iter().find(|a| a["status"] == "failed") {
                panic!("an action failed: {failed:#}");
            }
            let executed = actions.iter().filter(|a| a["status"] == "executed").count();
            (executed == ids.len()).then_some(actions)
        },
    )
    .await;
    println!(
        "all {} actions executed {:?} after the last restart",
        actions.len(),
        restarted.elapsed()
    );
    let listed: BTreeSet<String> = actions.iter().map(|a| id_of(a).to_owned()).collect();
    assert_eq!(listed, ids, "the listed actions are the proposed ones");

    let deliveries = receiver.deliveries();
    for delivery in &deliveries {
        assert_eq!(
            delivery.body["event"], "action.execute",
            "{:#}",
            delivery.body
        );
        assert_eq!(
            delivery.idempotency_key.as_deref(),
            delivery.body["action"]["id"].as_str(),
            "a delivery's Idempotency-Key is its action id"
        );
    }
    let counts = receiver.count_by_key();
    let seen: BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(seen, ids, "every action was delivered, and nothing else");
    let in_flight_at_a_kill: BTreeSet<&String> = first_kill
        .executions_in_flight
        .iter()
        .chain(&second_kill.executions_in_flight)
        .collect();
    let repeated: BTreeMap<&String, &usize> = counts.iter().filter(|(_, n)| **n > 1).collect();
    for (key, n) in &repeated {
        assert!(
            in_flight_at_a_kill.contains(key),
            "{key} was delivered {n} times, but its execution was not in flight at a kill"
        );
    }
    println!(
        "{} deliveries for {} actions: {} redeliveries, of {} actions whose execution was in flight at a kill",
        deliveries.len(),
        ids.len(),
        deliveries.len() - ids.len(),
        in_flight_at_a_kill.len()
    );

    let (exit, took) = third.sigterm(Duration::from_secs(20));
    assert!(exit.success(), "{exit} after {took:?}");
    let verified = d.db.cli(&["audit", "verify"]).ok();
    assert!(
        verified.stdout.contains("audit trail intact"),
        "{}",
        verified.stdout
    );
}

/// SIGKILLs the server and reads what it left in the database; checks that it died with
/// work left to do.
async fn kill(server: &mut Server, db: &TestDb, receiver: &Receiver, which: &str) -> Snapshot {
    let in_flight = receiver.in_flight();
    server.sigkill();
    let snapshot = Snapshot::read(db, Utc::now()).await;
    println!(
        "{which} kill: {} deliveries received so far, {in_flight} in flight; {snapshot}",
        receiver.deliveries().len(),
    );
    assert!(
        snapshot.bombs_not_executed > 0,
        "every bomb had executed before the {which} kill: the test proved nothing ({snapshot})"
    );
    snapshot
}

/// Proposes the bombs and the autonomous refunds all at once; returns id → level.
async fn propose_all(api: &Api, agent: &str) -> BTreeMap<String, String> {
    let mut proposals = JoinSet::new();
    for i in 0..TIME_BOMBS + AUTONOMOUS {
        let (amount, level) = if i < TIME_BOMBS {
            (format!("{}.00", 100 + i), "time_bomb")
        } else {
            (format!("{}.50", 10 + i - TIME_BOMBS), "autonomous")
        };
        let (api, agent) = (api.clone(), agent.to_owned());
        proposals.spawn(async move {
            let (status, body) = api.post("/v1/actions", &agent, &refund(&amount)).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            assert_eq!(body["level"], level, "{amount}: {body:#}");
            if level == "time_bomb" {
                assert_eq!(body["status"], "armed", "{body:#}");
            }
            (id_of(&body).to_owned(), level.to_owned())
        });
    }
    let mut proposed = BTreeMap::new();
    while let Some(done) = proposals.join_next().await {
        let (id, level) = done.expect("a proposal task");
        proposed.insert(id, level);
    }
    assert_eq!(proposed.len(), TIME_BOMBS + AUTONOMOUS);
    proposed
}

fn id_of(action: &Value) -> &str {
    action["id"].as_str().expect("an action id")
}

/// What the database held the moment the server died.
#[derive(Debug)]
struct Snapshot {
    /// Interlock time at the kill (the clock agreement stored in the database).
    interlock_now: DateTime<Utc>,
    latest_deadline: DateTime<Utc>,
    statuses: BTreeMap<String, i64>,
    bombs_not_executed: i64,
    /// Actions whose execute job the dead server had claimed.
    executions_in_flight: BTreeSet<String>,
    /// Timer and execute jobs that were due or claimed, not done.
    open_jobs: BTreeMap<String, i64>,
}

impl Snapshot {
    async fn read(db: &TestDb, killed_at: DateTime<Utc>) -> Snapshot {
        let mut sql = db.sql().await;
        let clock: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'clock'")
            .fetch_one(&mut sql)
            .await
            .expect("the clock agreement is recorded");
        let clock: Value = serde_json::from_str(&clock).unwrap();
        assert_eq!(clock["scale"], 3600, "{clock}");
        let ms = |v: &Value| DateTime::from_timestamp_millis(v.as_i64().unwrap()).unwrap();
        let (real_origin, interlock_origin) =
            (ms(&clock["real_origin"]), ms(&clock["interlock_origin"]));
        let interlock_now = interlock_origin + (killed_at - real_origin) * 3600;
        let latest: i64 =
            sqlx::query_scalar("SELECT MAX(deadline) FROM actions WHERE level = 'time_bomb'")
                .fetch_one(&mut sql)
                .await
                .unwrap();
        let statuses: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM actions GROUP BY status")
                .fetch_all(&mut sql)
                .await
                .unwrap();
        let bombs_not_executed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM actions WHERE level = 'time_bomb' AND status <> 'executed'",
        )
        .fetch_one(&mut sql)
        .await
        .unwrap();
        let in_flight: Vec<String> = sqlx::query_scalar(
            "SELECT subject FROM jobs WHERE kind = 'execute' AND state = 'running'",
        )
        .fetch_all(&mut sql)
        .await
        .unwrap();
        let open_jobs: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind || ' ' || state, COUNT(*) FROM jobs WHERE state <> 'done' GROUP BY kind, state",
        )
        .fetch_all(&mut sql)
        .await
        .unwrap();
        Snapshot {
            interlock_now,
            latest_deadline: DateTime::from_timestamp_millis(latest).unwrap(),
            statuses: statuses.into_iter().collect(),
            bombs_not_executed,
            executions_in_flight: in_flight.into_iter().collect(),
            open_jobs: open_jobs.into_iter().collect(),
        }
    }
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "actions by status {:?}; {} time bombs not executed, the last deadline {} before the kill; open jobs {:?}",
            self.statuses,
            self.bombs_not_executed,
            humanize(self.interlock_now - self.latest_deadline),
            self.open_jobs
        )
    }
}

/// Interlock time, read as minutes (at 3600×, one real second is an hour).
fn humanize(d: chrono::TimeDelta) -> String {
    format!("{} min of Interlock time", d.num_minutes())
}
