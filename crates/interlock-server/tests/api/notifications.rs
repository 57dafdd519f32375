//! Notifications through real local receivers (an HTTP receiver and an SMTP server) with
//! a manual clock: the reminders of SPEC §7, in order, exactly once; held bombs and
//! restarts; retries; the test sends.

use std::time::Duration;

use chrono::TimeDelta;
use interlock_server::connectors::signing;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::Receiver;
use crate::common::smtp::SmtpReceiver;
use crate::common::*;

pub const SECRET: &str = "chsec_0123456789abcdef";

/// Waits (real time, at most 10 s) until `done` holds.
pub async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sets team sales' rules to the given categories (others conservative).
pub async fn sales_rules(s: &TestServer, categories: Value) {
    let rules = json!({"currency": "USD", "advisory_tags": [], "categories": categories});
    let (status, body) = s.put("/v1/teams/sales/rules", &s.admin, rules).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub async fn add_channel(s: &TestServer, team: &str, body: Value) -> String {
    let (status, created) = s
        .post(&format!("/v1/teams/{team}/channels"), &s.admin, body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

pub fn crm_update() -> Value {
    json!({
        "category": "CRM_UPDATE",
        "title": "Move Acme to Won",
        "payload": {"record_type": "deal", "record_id": "deal_7", "changes": {"stage": "won"}},
    })
}

async fn propose_for_sales(s: &TestServer, body: Value) -> String {
    let (status, a) = s.post("/v1/actions", &s.sales_agent, body).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    id_of(&a)
}

/// `event` or `event:reminder` of every notification the receiver got, checking each
/// signature on the way.
fn events(rx: &Receiver) -> Vec<String> {
    rx.received()
        .iter()
        .map(|r| {
            let sig = r.headers["interlock-signature"].to_str().unwrap();
            assert!(signing::verify(SECRET, sig, &r.body), "bad signature");
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            match body["reminder"].as_str() {
                Some(kind) => format!("{}:{kind}", body["event"].as_str().unwrap()),
                None => body["event"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

struct Receivers {
    http: Receiver,
    smtp: SmtpReceiver,
}

/// A webhook channel and an email channel for team sales.
async fn channels_for_sales(s: &TestServer) -> Receivers {
    let http = Receiver::start().await;
    let smtp = SmtpReceiver::start().await;
    add_channel(
        s,
        "sales",
        json!({"kind": "webhook", "url": http.url, "secret": SECRET}),
    )
    .await;
    add_channel(
        s,
        "sales",
        json!({"kind": "email", "to": ["oncall@ourco.example"], "smtp": smtp.server_json()}),
    )
    .await;
    Receivers { http, smtp }
}

/// Moves the clock to `at` after arming and waits for the `n`th notification on both
/// channels.
async fn step(s: &TestServer, r: &Receivers, by: TimeDelta, n: usize) {
    s.advance(by);
    eventually(&format!("notification {n}"), || {
        r.http.received().len() >= n && r.smtp.mails().len() >= n
    })
    .await;
}

#[tokio::test]
async fn a_four_hour_time_bomb_notifies_armed_half_final_warning_ninety_and_executed_in_order() {
    let s = TestServer::start().await;
    sales_rules(&s, json!({"CRM_UPDATE": {"level": "time_bomb"}})).await;
    let r = channels_for_sales(&s).await;
    propose_for_sales(&s, crm_update()).await;
    step(&s, &r, TimeDelta::zero(), 1).await;
    step(&s, &r, TimeDelta::hours(2), 2).await;
    step(&s, &r, TimeDelta::hours(1), 3).await;
    step(&s, &r, TimeDelta::minutes(36), 4).await;
    step(&s, &r, TimeDelta::minutes(24), 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let expected = [
        "time_bomb.armed",
        "time_bomb.reminder:half",
        "time_bomb.reminder:final_warning",
        "time_bomb.reminder:ninety",
        "action.executed",
    ];
    assert_eq!(events(&r.http), expected, "exactly these, in this order");
    let subjects: Vec<String> = r.smtp.mails().iter().map(|m| m.subject()).collect();
    assert_eq!(subjects.len(), 5, "{subjects:?}");
    assert!(
        subjects[0].starts_with("[Interlock] Time bomb armed"),
        "{subjects:?}"
    );
    assert!(subjects[1].starts_with("[Interlock] Half the countdown is gone"));
    assert!(subjects[2].starts_with("[Interlock] Final warning"));
    assert!(subjects[3].starts_with("[Interlock] 10% of the countdown left"));
    assert!(subjects[4].starts_with("[Interlock] Executed"));
    let first = &r.smtp.mails()[0];
    assert_eq!(first.to, ["oncall@ourco.example"]);
    assert!(first.data.contains("text/plain") && first.data.contains("text/html"));
    s.stop().await;
}

#[tokio::test]
async fn a_one_hour_time_bomb_drops_the_final_warning_that_falls_at_arming() {
    let s = TestServer::start().await;
    // A band of one hour keeps the category's default settings, final warning 1 h included.
    let band = json!({"below": "1000.00", "level": "time_bomb", "duration": "1h"});
    sales_rules(
        &s,
        json!({"CRM_UPDATE": {"level": "human_approval", "thresholds": [band]}}),
    )
    .await;
    let r = channels_for_sales(&s).await;
    let mut update = crm_update();
    update["amount"] = json!("10.00");
    propose_for_sales(&s, update).await;
    step(&s, &r, TimeDelta::zero(), 1).await;
    step(&s, &r, TimeDelta::minutes(30), 2).await;
    step(&s, &r, TimeDelta::minutes(24), 3).await;
    step(&s, &r, TimeDelta::minutes(6), 4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        events(&r.http),
        [
            "time_bomb.armed",
            "time_bomb.reminder:half",
            "time_bomb.reminder:ninety",
            "action.executed"
        ]
    );
    assert_eq!(r.smtp.mails().len(), 4);
    s.stop().await;
}

#[tokio::test]
async fn a_held_time_bomb_sends_no_later_reminder() {
    let s = TestServer::start().await;
    sales_rules(&s, json!({"CRM_UPDATE": {"level": "time_bomb"}})).await;
    let manager = s
        .person("boss@ourco.example", "manager", &["sales"], None)
        .await;
    let r = channels_for_sales(&s).await;
    let id = propose_for_sales(&s, crm_update()).await;
    step(&s, &r, TimeDelta::hours(2), 2).await;
    let (status, held) = s
        .post(
            &format!("/v1/actions/{id}/hold"),
            &manager,
            json!({"expected_version": 1, "reason": "let me check the deal"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    step(&s, &r, TimeDelta::zero(), 3).await;
    for _ in 0..6 {
        s.advance(TimeDelta::hours(1));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        events(&r.http),
        [
            "time_bomb.armed",
            "time_bomb.reminder:half",
            "action.awaiting_approval"
        ]
    );
    assert_eq!(r.smtp.mails().len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn a_restart_after_missing_two_reminders_sends_only_the_latest() {
    let mut s = TestServer::start().await;
    sales_rules(&s, json!({"CRM_UPDATE": {"level": "time_bomb"}})).await;
    let r = channels_for_sales(&s).await;
    propose_for_sales(&s, crm_update()).await;
    step(&s, &r, TimeDelta::zero(), 1).await;
    // Down from 0 h to 3 h 10 m: half (2 h) and the final warning (3 h) fall meanwhile.
    s.restart_after(TimeDelta::hours(3) + TimeDelta::minutes(10), settings())
        .await;
    step(&s, &r, TimeDelta::zero(), 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        events(&r.http),
        ["time_bomb.armed", "time_bomb.reminder:final_warning"],
        "no burst of stale reminders"
    );
    step(&s, &r, TimeDelta::minutes(26), 3).await;
    assert_eq!(events(&r.http)[2], "time_bomb.reminder:ninety");
    assert_eq!(r.smtp.mails().len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_then_marked_failed_with_its_error() {
    let s = TestServer::start_with(interlock_server::ServerSettings {
        max_delivery_attempts: 3,
        ..settings()
    })
    .await;
    let rx = Receiver::start().await;
    rx.answer_with(&[503, 502, 500]);
    let channel = add_channel(
        &s,
        "sales",
        json!({"kind": "webhook", "url": rx.url, "secret": SECRET}),
    )
    .await;
    // Sales' rules are conservative: this awaits approval, which notifies.
    propose_for_sales(&s, crm_update()).await;
    eventually("the first attempt", || rx.received().len() == 1).await;
    // The retry waits for its back-off, in Interlock time: nothing while the clock stands.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 1, "no retry before the back-off");
    for _ in 0..200 {
        if rx.received().len() >= 3 {
            break;
        }
        s.advance(TimeDelta::milliseconds(100));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = rx.received();
    assert_eq!(got.len(), 3);
    let key = got[0].headers["idempotency-key"].clone();
    assert!(
        got.iter().all(|r| r.headers["idempotency-key"] == key),
        "one key for every attempt"
    );
    let path = format!("/v1/teams/sales/channels/{channel}/deliveries");
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = s.get(&path, &s.admin).await.1;
        if shown[0]["state"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(shown[0]["state"], "failed", "{shown:#}");
    assert_eq!(shown[0]["attempts"], 3);
    assert_eq!(shown[0]["event"], "action.awaiting_approval");
    assert_eq!(shown[0]["last_error"], "the webhook answered 500");
    // Given up: more time brings no fourth attempt.
    s.advance(TimeDelta::hours(1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.received().len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn test_sends_report_the_receivers_answer() {
    let s = TestServer::start().await;
    let rx = Receiver::start().await;
    let smtp = SmtpReceiver::start().await;
    let hook = add_channel(
        &s,
        "sales",
        json!({"kind": "webhook", "url": rx.url, "secret": SECRET}),
    )
    .await;
    let mail = add_channel(
        &s,
        "sales",
        json!({"kind": "email", "to": ["oncall@ourco.example"], "smtp": smtp.server_json()}),
    )
    .await;
    let (status, report) = s
        .post(
            &format!("/v1/teams/sales/channels/{hook}/test"),
            &s.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report, json!({"ok": true, "answer": "200"}));
    let body: Value = serde_json::from_slice(&rx.received()[0].body).unwrap();
    assert_eq!(body["event"], "test");
    rx.answer_with(&[404]);
    let (_, report) = s
        .post(
            &format!("/v1/teams/sales/channels/{hook}/test"),
            &s.admin,
            json!({}),
        )
        .await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["error"], "the webhook answered 404");
    assert_eq!(report["retryable"], false);

    let (_, report) = s
        .post(
            &format!("/v1/teams/sales/channels/{mail}/test"),
            &s.admin,
            json!({}),
        )
        .await;
    assert_eq!(report["ok"], true, "{report}");
    assert!(
        report["answer"].as_str().unwrap().starts_with("250"),
        "{report}"
    );
    assert_eq!(
        smtp.mails()[0].subject(),
        "[Interlock] Test notification from Interlock: Interlock test notification"
    );

    // Connectors: an smtp connector sends a test email, a webhook a signed test event.
    let mut connector = smtp.server_json();
    connector["kind"] = json!("smtp");
    let (status, body) = s
        .put("/v1/teams/sales/connectors/SEND_EMAIL", &s.admin, connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, report) = s
        .post(
            "/v1/teams/sales/connectors/SEND_EMAIL/test",
            &s.admin,
            json!({"to": "me@ourco.example"}),
        )
        .await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(smtp.mails()[1].to, ["me@ourco.example"]);
    assert_eq!(smtp.mails()[1].from, "interlock@ourco.example");
    let (_, report) = s
        .post(
            "/v1/teams/sales/connectors/SEND_EMAIL/test",
            &s.admin,
            json!({}),
        )
        .await;
    assert_eq!(report["ok"], true, "a connection check: {report}");
    assert_eq!(smtp.mails().len(), 2, "the check sent nothing");
    s.stop().await;
}

#[tokio::test]
async fn channels_are_listed_without_secrets_and_deleted() {
    let s = TestServer::start().await;
    let hook = add_channel(
        &s,
        "sales",
        json!({"kind": "webhook", "url": "http://127.0.0.1:9/h", "secret": SECRET}),
    )
    .await;
    add_channel(
        &s,
        "sales",
        json!({"kind": "slack", "url": "https://hooks.slack.example/services/T0/B0/sekrit"}),
    )
    .await;
    add_channel(&s, "sales", json!({"kind": "email", "to": ["a@ourco.example"], "smtp": {"host": "smtp.ourco.example", "port": 587, "from": "i@ourco.example", "username": "i", "password": "hunter2-password"}})).await;
    let (status, list) = s.get("/v1/teams/sales/channels", &s.admin).await;
    assert_eq!(status, StatusCode::OK);
    let text = list.to_string();
    for secret in [SECRET, "sekrit", "hunter2-password"] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    assert_eq!(list[1]["url"], "https://hooks.slack.example");
    assert_eq!(list[2]["smtp"]["tls"], "starttls");
    let (_, audit) = s
        .get("/v1/audit?team=sales&type=channel.created", &s.admin)
        .await;
    for secret in [SECRET, "sekrit", "hunter2-password"] {
        assert!(
            !audit.to_string().contains(secret),
            "{secret} in the audit trail"
        );
    }
    let path = format!("/v1/teams/sales/channels/{hook}");
    let (status, _) = s.send(reqwest::Method::DELETE, &path, &s.admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = s.send(reqwest::Method::DELETE, &path, &s.admin, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    // Another team's channel is not found through this team.
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!(
                "/v1/teams/support/channels/{}",
                list[1]["id"].as_str().unwrap()
            ),
            &s.admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn bad_channel_bodies_are_refused_with_a_code_and_a_message() {
    let s = TestServer::start().await;
    let cases = [
        (json!({"kind": "pager"}), "unknown_channel"),
        (
            json!({"kind": "webhook", "url": "ftp://x", "secret": SECRET}),
            "invalid_field",
        ),
        (
            json!({"kind": "webhook", "url": "http://x"}),
            "invalid_field",
        ),
        (
            json!({"kind": "webhook", "url": "http://x", "secret": "short"}),
            "invalid_field",
        ),
        (
            json!({"kind": "slack", "url": "http://x", "secret": SECRET}),
            "invalid_field",
        ),
        (json!({"kind": "email", "to": []}), "invalid_field"),
        (
            json!({"kind": "email", "to": ["not an address"]}),
            "invalid_field",
        ),
        (
            json!({"kind": "email", "to": ["a@b.example"]}),
            "invalid_field",
        ),
        (
            json!({"kind": "email", "to": ["a@b.example"], "smtp": {"host": "h", "port": 25, "from": "x@y.example", "tls": "ssl3"}}),
            "invalid_field",
        ),
        (
            json!({"kind": "webhook", "url": "http://x", "secret": SECRET, "extra": 1}),
            "invalid_body",
        ),
    ];
    for (body, code) in cases {
        let (status, answer) = s
            .post("/v1/teams/sales/channels", &s.admin, body.clone())
            .await;
        assert!(status.is_client_error(), "{body} → {status}");
        assert_eq!(answer["code"], code, "{body} → {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, answer) = s
        .put(
            "/v1/teams/sales/connectors/REFUND",
            &s.admin,
            json!({"kind": "smtp", "host": "h", "port": 25, "from": "a@b.example"}),
        )
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let (status, _) = s
        .put(
            "/v1/teams/sales/connectors/REFUND",
            &s.admin,
            json!({"kind": "builtin"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = s.get("/v1/teams/sales/channels", &s.admin).await;
    assert_eq!(list, json!([]), "nothing was stored");
    s.stop().await;
}
