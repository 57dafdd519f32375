use chrono::TimeDelta;
use interlock_server::connectors::signing;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::Receiver;
use crate::common::*;

const SECRET: &str = "whsec_0123456789abcdef";

async fn webhook_for_refunds(s: &TestServer, url: &str) {
    let (status, body) = s
        .put(
            "/v1/teams/support/connectors/REFUND",
            &s.admin,
            json!({"kind": "webhook", "url": url, "secret": SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains(SECRET));
}

#[tokio::test]
async fn an_autonomous_refund_is_posted_signed_with_its_id_as_idempotency_key() {
    let s = TestServer::start().await;
    let rx = Receiver::start().await;
    webhook_for_refunds(&s, &rx.url).await;
    let a = s.propose_refund("10.00").await;
    let id = id_of(&a);
    // Unlike `log`, a webhook is called after the proposal's commit, so it answers first.
    assert_eq!(a["status"], "executing", "{a:#}");
    s.wait_status(&id, "executed").await;
    assert_eq!(
        s.audit_transitions(&id).await,
        [step("action.executed", "executing", "executed", 2)]
    );
    let got = rx.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.headers["idempotency-key"], id.as_str());
    let sig = r.headers["interlock-signature"].to_str().unwrap();
    assert!(signing::verify(SECRET, sig, &r.body), "bad signature {sig}");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["event"], "action.execute");
    assert_eq!(body["action"]["id"], id.as_str());
    assert_eq!(body["action"]["payload"]["customer_id"], "cus_42");
    let (_, connectors) = s.get("/v1/teams/support/connectors", &s.admin).await;
    assert!(!connectors.to_string().contains(SECRET));
    s.stop().await;
}

#[tokio::test]
async fn a_connector_changed_after_an_execution_applies_to_the_next_one_at_once() {
    let s = TestServer::start().await;
    // The first refund runs through the default `log` connector, which the server then
    // keeps at hand for the next execution.
    let first = id_of(&s.propose_refund("10.00").await);
    s.wait_status(&first, "executed").await;
    let rx = Receiver::start().await;
    webhook_for_refunds(&s, &rx.url).await;
    let second = id_of(&s.propose_refund("11.00").await);
    s.wait_status(&second, "executed").await;
    let got = rx.received();
    assert_eq!(
        got.len(),
        1,
        "the new webhook connector ran the second refund"
    );
    assert_eq!(got[0].headers["idempotency-key"], second.as_str());
    s.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_key_until_success() {
    let s = TestServer::start().await;
    let rx = Receiver::start().await;
    rx.answer_with(&[503, 500, 429]);
    webhook_for_refunds(&s, &rx.url).await;
    let a = s.propose_refund("10.00").await;
    let id = id_of(&a);
    // Back-offs are scheduled in Interlock time: move the clock along while waiting.
    for _ in 0..100 {
        if rx.received().len() >= 4 {
            break;
        }
        s.advance(TimeDelta::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["attempts"], 4);
    let keys: Vec<String> = rx
        .received()
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, vec![id.clone(); 4]);
    let types = s.audit_types(&id).await;
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "action.execution_attempt_failed")
            .count(),
        3,
        "{types:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_client_error_fails_at_once_and_a_person_may_retry() {
    let s = TestServer::start().await;
    let rx = Receiver::start().await;
    rx.answer_with(&[422]);
    webhook_for_refunds(&s, &rx.url).await;
    let a = s.propose_refund("10.00").await;
    let id = id_of(&a);
    let failed = s.wait_status(&id, "failed").await;
    assert_eq!(failed["last_error"], "the webhook answered 422");
    assert_eq!(rx.received().len(), 1);
    let (status, _) = s
        .post(&format!("/v1/actions/{id}/retry"), &s.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    s.wait_status(&id, "executed").await;
    assert_eq!(rx.received().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn a_receiver_that_never_recovers_marks_the_action_failed_after_the_retries() {
    let s = TestServer::start().await;
    let rx = Receiver::start().await;
    rx.answer_with(&[500; 20]);
    webhook_for_refunds(&s, &rx.url).await;
    let a = s.propose_refund("10.00").await;
    let id = id_of(&a);
    for _ in 0..200 {
        s.advance(TimeDelta::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let (_, now) = s.get(&format!("/v1/actions/{id}"), &s.admin).await;
        if now["status"] == "failed" {
            break;
        }
    }
    let failed = s.wait_status(&id, "failed").await;
    assert_eq!(failed["attempts"], 6);
    assert_eq!(rx.received().len(), 6);
    s.stop().await;
}
