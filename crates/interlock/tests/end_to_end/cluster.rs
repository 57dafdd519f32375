//! SPEC §14–15: three real `interlock serve` nodes on one PostgreSQL database. Time bombs
//! come due while one node is SIGKILLed mid-work: every action still executes, each
//! delivery carries its action id as idempotency key, and only executions the dead node
//! had in flight may be delivered twice. An approval made through one node is seen live
//! on another; a rule or connector change through one node takes effect on the others
//! at once; decisions racing through different nodes (and the deadline) have exactly one
//! outcome; a node with another time scale, or a second process under a running node's
//! name, is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::common::api::Api;
use crate::common::db::{Deployment, TestDb};
use crate::common::receiver::Receiver;
use crate::common::server::Server;
use crate::common::{fast_rules, refund, wait_until};

const SECRET: &str = "whsec_cluster_0123456789abcdef";
/// 100 per node: within each node's per-key burst of proposals.
const TIME_BOMBS: usize = 300;
const SPED_UP: [&str; 4] = ["--listen", "127.0.0.1:0", "--time-scale", "3600"];
/// Short leases, so a dead node's claims are taken over within seconds.
const SETTINGS: [(&str, &str); 2] = [
    ("INTERLOCK_JOB_LEASE_SECONDS", "2"),
    ("INTERLOCK_JOB_CONCURRENCY", "8"),
];
const RECEIVER_DELAY: Duration = Duration::from_millis(100);

/// Three nodes named a, b and c on one fresh database, with `rules` for team support.
async fn cluster(rules: &Value) -> (Deployment, Vec<(Server, Api)>) {
    let d = Deployment::on(TestDb::postgres().await, rules);
    let nodes = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let args = [&SPED_UP[..], &["--node", name]].concat();
            let (server, url) = Server::start(&d.db, &args, &SETTINGS);
            (server, Api::new(&url))
        })
        .collect();
    (d, nodes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_lose_nothing_when_one_is_killed_while_hundreds_of_bombs_come_due() {
    let (d, mut nodes) = cluster(&fast_rules()).await;
    let receiver = Receiver::start(RECEIVER_DELAY).await;
    let connector = json!({"kind": "webhook", "url": receiver.url, "secret": SECRET});
    let (status, body) = nodes[0]
        .1
        .put("/v1/teams/support/connectors/REFUND", &d.admin, &connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let apis: Vec<Api> = nodes.iter().map(|(_, api)| api.clone()).collect();
    let ids = propose_bombs(&apis, &d.agent).await;
    let armed = Instant::now();

    // Kill node b once every bomb is due and deliveries are in flight, with work left;
    // or by half-way through the deliveries, should proposing have been slow enough (a
    // loaded machine) for the first bombs to fire before the last was proposed.
    wait_until(
        "every bomb to be due while deliveries are in flight",
        Duration::from_secs(30),
        async || {
            let due = armed.elapsed() >= Duration::from_millis(1200);
            let half_done = receiver.deliveries().len() >= TIME_BOMBS / 2;
            (receiver.in_flight() > 0 && (due || half_done)).then_some(())
        },
    )
    .await;
    nodes[1].0.sigkill();
    let mut sql = d.db.pg().await;
    let in_flight_at_kill: BTreeSet<String> = sqlx::query_scalar(
        "SELECT subject FROM jobs WHERE kind = 'execute' AND state = 'running' AND claimed_by = 'b'",
    )
    .fetch_all(&mut sql)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM actions WHERE status <> 'executed'")
        .fetch_one(&mut sql)
        .await
        .unwrap();
    println!(
        "killed node b with {} executions in flight, {left} actions not yet executed, {} deliveries so far",
        in_flight_at_kill.len(),
        receiver.deliveries().len()
    );
    assert!(
        left > 0,
        "everything had executed before the kill: the test proved nothing"
    );

    let survivor = &nodes[0].1;
    let killed = Instant::now();
    wait_until(
        "every action to be executed by the surviving nodes",
        Duration::from_secs(60),
        async || {
            let actions = survivor.all_actions("support", &d.admin).await;
            if let Some(failed) = actions.iter().find(|a| a["status"] == "failed") {
                panic!("an action failed: {failed:#}");
            }
            let executed = actions.iter().filter(|a| a["status"] == "executed").count();
            (executed == ids.len()).then_some(())
        },
    )
    .await;
    println!(
        "all {} executed {:?} after the kill",
        ids.len(),
        killed.elapsed()
    );

    let deliveries = receiver.deliveries();
    for delivery in &deliveries {
        assert_eq!(
            delivery.idempotency_key.as_deref(),
            delivery.body["action"]["id"].as_str(),
            "a delivery's Idempotency-Key is its action id"
        );
    }
    let counts = receiver.count_by_key();
    let seen: BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(seen, ids, "every action was delivered, and nothing else");
    let repeated: BTreeMap<&String, &usize> = counts.iter().filter(|(_, n)| **n > 1).collect();
    for (key, n) in &repeated {
        assert!(
            in_flight_at_kill.contains(*key),
            "{key} was delivered {n} times, but node b did not hold its execution when it died"
        );
    }
    println!(
        "{} deliveries for {} actions: {} redeliveries, all of executions node b held when it died",
        deliveries.len(),
        ids.len(),
        deliveries.len() - ids.len()
    );

    approval_through_a_is_seen_live_on_c(&d, &nodes[0].1, &nodes[2].1).await;

    for (server, _) in nodes.iter_mut() {
        if !server.is_running() {
            continue;
        }
        let (exit, took) = server.sigterm(Duration::from_secs(20));
        assert!(exit.success(), "{exit} after {took:?}");
    }
    let verified = d.db.cli(&["audit", "verify"]).ok();
    assert!(
        verified.stdout.contains("audit trail intact"),
        "{}",
        verified.stdout
    );
}

/// Proposes the bombs through the nodes in turn, all at once; returns their ids.
async fn propose_bombs(apis: &[Api], agent: &str) -> BTreeSet<String> {
    let mut proposals = JoinSet::new();
    for i in 0..TIME_BOMBS {
        let (api, agent) = (apis[i % apis.len()].clone(), agent.to_owned());
        proposals.spawn(async move {
            let amount = format!("{}.00", 100 + i % 300);
            let (status, body) = api.post("/v1/actions", &agent, &refund(&amount)).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            assert_eq!(body["status"], "armed", "{body:#}");
            body["id"].as_str().unwrap().to_owned()
        });
    }
    let mut ids = BTreeSet::new();
    while let Some(id) = proposals.join_next().await {
        ids.insert(id.expect("a proposal task"));
    }
    assert_eq!(ids.len(), TIME_BOMBS);
    ids
}

/// A refund that needs a person, approved through `a` while `c`'s live stream watches.
async fn approval_through_a_is_seen_live_on_c(d: &Deployment, a: &Api, c: &Api) {
    let (status, action) = a.post("/v1/actions", &d.agent, &refund("900.00")).await;
    assert_eq!(status, StatusCode::CREATED, "{action}");
    assert_eq!(action["status"], "awaiting_approval", "{action:#}");
    let id = action["id"].as_str().unwrap().to_owned();
    let mut stream = c.events(&d.admin).await;
    let approve = json!({"expected_version": action["version"]});
    let (status, body) = a
        .post(&format!("/v1/actions/{id}/approve"), &d.admin, &approve)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = stream.next_event().await;
            if event["action_id"] == id.as_str() && event["status"] != "awaiting_approval" {
                return event;
            }
        }
    })
    .await
    .expect("node c's live stream tells of the approval made through node a");
    println!("node c heard: {heard}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_racing_through_different_nodes_and_the_deadline_have_one_outcome() {
    let (d, nodes) = cluster(&fast_rules()).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    let (a, b) = (&nodes[0].1, &nodes[1].1);
    let connector = json!({"kind": "webhook", "url": receiver.url, "secret": SECRET});
    let (status, body) = a
        .put("/v1/teams/support/connectors/REFUND", &d.admin, &connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Bombs proposed in waves; each is approved through a and rejected through b at about
    // its deadline (one hour is one real second), the later waves a little earlier or
    // later, so every one of the three wins some races.
    let mut races = JoinSet::new();
    for i in 0..30u64 {
        let (a, b, agent, admin) = (a.clone(), b.clone(), d.agent.clone(), d.admin.clone());
        races.spawn(async move {
            let (status, action) = a.post("/v1/actions", &agent, &refund("120.00")).await;
            assert_eq!(status, StatusCode::CREATED, "{action}");
            let id = action["id"].as_str().unwrap().to_owned();
            let at = Duration::from_millis(600 + (i % 10) * 60);
            tokio::time::sleep(at).await;
            let approval = json!({"expected_version": action["version"]});
            let rejection = json!({"expected_version": action["version"], "reason": "race"});
            let (approve, reject) = (
                format!("/v1/actions/{id}/approve"),
                format!("/v1/actions/{id}/reject"),
            );
            let (approved, rejected) = tokio::join!(
                a.post(&approve, &admin, &approval),
                b.post(&reject, &admin, &rejection),
            );
            (id, approved.0, rejected.0)
        });
    }
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    while let Some(race) = races.join_next().await {
        let (id, approved, rejected) = race.unwrap();
        for s in [approved, rejected] {
            assert!(
                s == StatusCode::OK || s == StatusCode::CONFLICT,
                "a decision answered {s}"
            );
        }
        assert!(
            !(approved == StatusCode::OK && rejected == StatusCode::OK),
            "{id}: both the approval and the rejection won"
        );
        let final_status = wait_until("the race to settle", Duration::from_secs(30), async || {
            let (_, action) = a.get(&format!("/v1/actions/{id}"), &d.admin).await;
            let s = action["status"].as_str().unwrap_or("").to_owned();
            matches!(s.as_str(), "executed" | "rejected").then_some(s)
        })
        .await;
        let winner = match (approved == StatusCode::OK, rejected == StatusCode::OK) {
            (true, _) => "approval",
            (_, true) => "rejection",
            _ => "deadline",
        };
        let expected = if winner == "rejection" {
            "rejected"
        } else {
            "executed"
        };
        assert_eq!(final_status, expected, "{id}: the {winner} won");
        *outcomes.entry(winner).or_default() += 1;
    }
    println!("winners of 30 races: {outcomes:?}");
    let counts = receiver.count_by_key();
    assert!(
        counts.values().all(|&n| n == 1),
        "an action was delivered twice: {counts:?}"
    );
    let executed = outcomes.get("approval").unwrap_or(&0) + outcomes.get("deadline").unwrap_or(&0);
    assert_eq!(
        counts.len(),
        executed,
        "each executed action was delivered once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_change_through_one_node_takes_effect_on_another_at_once() {
    let (d, nodes) = cluster(&fast_rules()).await;
    let (a, c) = (&nodes[0].1, &nodes[2].1);
    // Node c reads (and caches) the rules: a $20 refund runs on its own.
    let (_, first) = c.post("/v1/actions", &d.agent, &refund("20.00")).await;
    assert_eq!(first["level"], "autonomous", "{first:#}");
    let (_, rules) = a.get("/v1/teams/support/rules", &d.admin).await;
    let mut stricter = rules.clone();
    stricter["categories"]["REFUND"]["thresholds"][0]["level"] = json!("human_approval");
    let (status, body) = a.put("/v1/teams/support/rules", &d.admin, &stricter).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Node c's cache would keep the old rules for a minute if it were not told.
    let changed = Instant::now();
    wait_until(
        "node c to decide with the new rules",
        Duration::from_millis(900),
        async || {
            let (_, next) = c.post("/v1/actions", &d.agent, &refund("20.00")).await;
            (next["level"] == "human_approval").then_some(())
        },
    )
    .await;
    println!(
        "node c used the new rules {:?} after the change",
        changed.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_change_through_one_node_takes_effect_on_every_node_at_once() {
    let (d, nodes) = cluster(&fast_rules()).await;
    let apis: Vec<&Api> = nodes.iter().map(|(_, api)| api).collect();
    // $20 refunds run on their own through the default `log` connector, which the nodes
    // that execute them keep at hand (for a minute, in a cluster).
    let before = execute_refunds(&d, &apis, 2).await;
    assert_eq!(before.len(), 6);
    let receiver = Receiver::start(Duration::ZERO).await;
    let connector = json!({"kind": "webhook", "url": receiver.url, "secret": SECRET});
    let (status, body) = apis[0]
        .put("/v1/teams/support/connectors/REFUND", &d.admin, &connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = execute_refunds(&d, &apis, 3).await;
    let delivered: BTreeSet<String> = receiver.count_by_key().into_keys().collect();
    assert_eq!(
        delivered, after,
        "every refund after the change went to the new webhook, whichever node ran it"
    );
}

/// Proposes `each` $20 refunds through every node and waits until all have executed.
async fn execute_refunds(d: &Deployment, apis: &[&Api], each: usize) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for api in apis {
        for _ in 0..each {
            let (status, a) = api.post("/v1/actions", &d.agent, &refund("20.00")).await;
            assert_eq!(status, StatusCode::CREATED, "{a}");
            ids.insert(a["id"].as_str().unwrap().to_owned());
        }
    }
    for id in &ids {
        wait_until(
            "a $20 refund to execute",
            Duration::from_secs(20),
            async || {
                let (_, a) = apis[0].get(&format!("/v1/actions/{id}"), &d.admin).await;
                (a["status"] == "executed").then_some(())
            },
        )
        .await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_another_time_scale_or_a_taken_name_is_refused() {
    let (d, _nodes) = cluster(&fast_rules()).await;
    let slower = [
        "--listen",
        "127.0.0.1:0",
        "--time-scale",
        "60",
        "--node",
        "d",
    ];
    let mut refused = Server::spawn(&d.db, &slower, &[]);
    let exit = refused.wait_exit(Duration::from_secs(30));
    assert!(!exit.success());
    assert!(
        refused.log_text().contains("--time-scale 3600"),
        "{}",
        refused.log_text()
    );

    let same_name = [&SPED_UP[..], &["--node", "b"]].concat();
    let mut refused = Server::spawn(&d.db, &same_name, &[]);
    let exit = refused.wait_exit(Duration::from_secs(30));
    assert!(!exit.success());
    assert!(
        refused
            .log_text()
            .contains("another running node is named \"b\""),
        "{}",
        refused.log_text()
    );
}
