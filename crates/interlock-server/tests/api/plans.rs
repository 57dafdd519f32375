use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

fn plan(steps: Vec<Value>) -> Value {
    json!({"card_id": "card-7", "summary": "Make Acme whole", "steps": steps})
}

fn with_after(mut step: Value, after: &[usize]) -> Value {
    step["after"] = json!(after);
    step
}

#[tokio::test]
async fn a_step_waits_for_its_predecessor_to_execute() {
    let s = TestServer::start().await;
    // Step 0 needs approval; step 1 is autonomous but must wait for step 0.
    let (status, p) = s
        .post(
            "/v1/plans",
            &s.agent,
            plan(vec![refund("900.00"), with_after(refund("10.00"), &[0])]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let first = id_of(&p["actions"][0]);
    let second = id_of(&p["actions"][1]);
    assert_eq!(p["actions"][1]["status"], "queued");
    assert_eq!(p["actions"][1]["after"][0], first.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, still) = s.get(&format!("/v1/actions/{second}"), &s.agent).await;
    assert_eq!(still["status"], "queued");
    s.post(
        &format!("/v1/actions/{first}/approve"),
        &s.admin,
        json!({"expected_version": 1}),
    )
    .await;
    s.wait_status(&first, "executed").await;
    s.wait_status(&second, "executed").await;
    s.stop().await;
}

#[tokio::test]
async fn a_rejected_predecessor_cancels_its_dependents_with_the_reason() {
    let s = TestServer::start().await;
    let steps = vec![
        refund("900.00"),
        with_after(email(), &[0]),
        with_after(refund("20.00"), &[1]),
    ];
    let (_, p) = s.post("/v1/plans", &s.agent, plan(steps)).await;
    let ids: Vec<String> = p["actions"].as_array().unwrap().iter().map(id_of).collect();
    s.post(
        &format!("/v1/actions/{}/reject", ids[0]),
        &s.admin,
        json!({"expected_version": 1, "reason": "too much"}),
    )
    .await;
    let second = s.wait_status(&ids[1], "cancelled").await;
    assert!(
        second["reason"].as_str().unwrap().contains("too much"),
        "{second}"
    );
    s.wait_status(&ids[2], "cancelled").await;
    s.stop().await;
}

#[tokio::test]
async fn a_time_bomb_step_due_while_its_predecessor_waits_is_queued_then_runs() {
    let s = TestServer::start().await;
    let (_, p) = s
        .post(
            "/v1/plans",
            &s.agent,
            plan(vec![refund("900.00"), with_after(refund("120.00"), &[0])]),
        )
        .await;
    let ids: Vec<String> = p["actions"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(p["actions"][1]["status"], "armed");
    s.advance(TimeDelta::hours(24));
    s.wait_status(&ids[1], "queued").await;
    s.post(
        &format!("/v1/actions/{}/approve", ids[0]),
        &s.admin,
        json!({"expected_version": 1}),
    )
    .await;
    s.wait_status(&ids[1], "executed").await;
    let (_, plan_view) = s
        .get(
            &format!("/v1/plans/{}", p["id"].as_str().unwrap()),
            &s.agent,
        )
        .await;
    assert_eq!(plan_view["actions"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn after_may_only_name_earlier_steps() {
    let s = TestServer::start().await;
    let (status, err) = s
        .post(
            "/v1/plans",
            &s.agent,
            plan(vec![with_after(refund("10.00"), &[0])]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["message"].as_str().unwrap().contains("earlier"),
        "{err}"
    );
    s.stop().await;
}
