use std::time::Duration;

use chrono::TimeDelta;
use reqwest::StatusCode;

use crate::common::*;

async fn status_after_settling(s: &TestServer, id: &str) -> String {
    // Give the scheduler a moment to act on whatever is due (it polls every 20 ms).
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, a) = s.get(&format!("/v1/actions/{id}"), &s.admin).await;
    a["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_time_bomb_executes_at_its_deadline_and_not_before() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    s.advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    assert_eq!(status_after_settling(&s, &id).await, "armed");
    s.advance(TimeDelta::minutes(1));
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["decided_by"], serde_json::Value::Null);
    let types = s.audit_types(&id).await;
    assert!(
        types.contains(&"action.deadline_reached".to_owned()),
        "{types:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_time_bomb_on_the_log_connector_passes_through_executing_in_the_audit_trail() {
    // The log connector's execution is written in the deadline's own commit; the trail
    // must still show both steps, each with its own version, and one attempt.
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    let armed = a["version"].as_u64().unwrap();
    s.advance(TimeDelta::hours(24));
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["version"], armed + 2, "{done:#}");
    assert_eq!(done["attempts"], 1, "{done:#}");
    assert!(done["executed_at"].is_string(), "{done:#}");
    assert_eq!(
        s.audit_transitions(&id).await,
        [
            step("action.deadline_reached", "armed", "executing", armed + 1),
            step("action.executed", "executing", "executed", armed + 2),
        ]
    );
    let trail = s.audit_entries(&id).await;
    let executed = trail.last().unwrap();
    assert_eq!(executed["data"]["connector"], "log", "{executed:#}");
    assert_eq!(executed["data"]["attempt"], 1, "{executed:#}");
    s.stop().await;
}

#[tokio::test]
async fn reminders_are_recorded_as_they_fall_due() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    s.advance(TimeDelta::hours(12));
    s.wait_for(&id, |a| a["reminders"][0]["passed"] == true)
        .await;
    s.advance(TimeDelta::hours(10));
    s.wait_for(&id, |a| a["reminders"][1]["passed"] == true)
        .await;
    let (_, entries) = s
        .get(
            &format!("/v1/audit?action={id}&type=action.reminder"),
            &s.admin,
        )
        .await;
    let kinds: Vec<&str> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["reminder"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ninety", "half"], "newest first");
    s.stop().await;
}

#[tokio::test]
async fn after_downtime_only_the_latest_missed_reminder_is_sent() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    // Half (12 h) and ninety (21 h 36 m) are both missed; 23 h brings the final warning.
    s.advance(TimeDelta::hours(23) + TimeDelta::minutes(30));
    s.wait_for(&id, |a| a["reminders"][2]["passed"] == true)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, entries) = s
        .get(
            &format!("/v1/audit?action={id}&type=action.reminder"),
            &s.admin,
        )
        .await;
    let sent = entries["entries"].as_array().unwrap();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["data"]["reminder"], "final_warning");
    assert_eq!(
        sent[0]["data"]["skipped_as_stale"],
        serde_json::json!(["half", "ninety"])
    );
    s.stop().await;
}

#[tokio::test]
async fn a_time_bomb_due_while_the_server_was_down_fires_when_it_comes_back_late() {
    let mut s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    s.restart_after(TimeDelta::hours(30), settings()).await;
    s.wait_status(&id, "executed").await;
    let (status, entries) = s
        .get(
            &format!("/v1/audit?action={id}&type=action.deadline_reached"),
            &s.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(entries["entries"][0]["data"]["late_by_ms"], 6 * 3600 * 1000);
    s.stop().await;
}
