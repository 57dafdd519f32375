//! Connectors that act: SEND_EMAIL through a real SMTP server, INTERNAL_NOTE and ESCALATE
//! on Interlock's cards; agent callbacks.

use chrono::TimeDelta;
use interlock_server::connectors::signing;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::receiver::Receiver;
use crate::common::smtp::SmtpReceiver;
use crate::common::*;
use crate::notifications::{SECRET, add_channel, eventually, sales_rules};

async fn propose(s: &TestServer, body: Value) -> String {
    let (status, a) = s.post("/v1/actions", &s.sales_agent, body).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    id_of(&a)
}

#[tokio::test]
async fn send_email_through_the_smtp_connector_arrives_with_its_recipients_subject_and_bodies() {
    let s = TestServer::start().await;
    let smtp = SmtpReceiver::start().await;
    sales_rules(&s, json!({"SEND_EMAIL": {"level": "autonomous"}})).await;
    let mut connector = smtp.server_json();
    connector["kind"] = json!("smtp");
    let (status, shown) = s
        .put("/v1/teams/sales/connectors/SEND_EMAIL", &s.admin, connector)
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let id = propose(
        &s,
        json!({
            "category": "SEND_EMAIL",
            "title": "Apologise to Acme",
            "payload": {
                "to": ["jane@acme.example", "ops@acme.example"],
                "cc": ["accounts@acme.example"],
                "subject": "Sorry about the outage",
                "text": "We are sorry for the outage on Monday.",
                "html": "<p>We are sorry for the outage on Monday.</p>"
            },
        }),
    )
    .await;
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["attempts"], 1);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(
        m.to,
        [
            "jane@acme.example",
            "ops@acme.example",
            "accounts@acme.example"
        ]
    );
    assert_eq!(m.from, "interlock@ourco.example");
    assert_eq!(m.subject(), "Sorry about the outage");
    assert!(m.data.contains("Cc: accounts@acme.example"), "{}", m.data);
    assert!(m.data.contains("We are sorry for the outage on Monday."));
    assert!(
        m.data
            .contains("<p>We are sorry for the outage on Monday.</p>")
    );
    assert!(m.data.contains("multipart/alternative"));
    s.stop().await;
}

#[tokio::test]
async fn an_internal_note_appears_on_its_card_and_an_escalation_raises_it_and_tells_the_managers() {
    let s = TestServer::start().await;
    sales_rules(
        &s,
        json!({"INTERNAL_NOTE": {"level": "autonomous"}, "ESCALATE": {"level": "autonomous"}}),
    )
    .await;
    let viewer = s
        .person("viewer@ourco.example", "viewer", &["sales"], None)
        .await;
    s.person("boss@ourco.example", "manager", &["sales"], None)
        .await;
    s.person("other@ourco.example", "manager", &["support"], None)
        .await;
    let rx = Receiver::start().await;
    let smtp = SmtpReceiver::start().await;
    add_channel(
        &s,
        "sales",
        json!({"kind": "webhook", "url": rx.url, "secret": SECRET}),
    )
    .await;
    add_channel(
        &s,
        "sales",
        json!({"kind": "email", "to": ["oncall@ourco.example"], "smtp": smtp.server_json()}),
    )
    .await;

    let note = propose(
        &s,
        json!({"category": "INTERNAL_NOTE", "title": "Note the preference",
        "payload": {"card_id": "case-42", "text": "Customer prefers email over phone."}}),
    )
    .await;
    s.wait_status(&note, "executed").await;
    let (status, card) = s.get("/v1/cards/case-42", &viewer).await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["priority"], "normal");
    assert_eq!(card["team"], "sales");
    assert_eq!(
        card["notes"][0]["text"],
        "Customer prefers email over phone."
    );
    assert_eq!(card["notes"][0]["action"], note.as_str());

    let esc = propose(&s, json!({"category": "ESCALATE", "title": "Legal threat",
        "payload": {"card_id": "case-42", "severity": "high", "reason": "Customer threatens legal action."}})).await;
    s.wait_status(&esc, "executed").await;
    let (_, card) = s.get("/v1/cards/case-42", &viewer).await;
    assert_eq!(card["priority"], "high");
    assert_eq!(
        card["notes"][1]["text"],
        "Escalated (high): Customer threatens legal action."
    );
    let ids: Vec<&str> = card["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [esc.as_str(), note.as_str()], "newest first");

    eventually("the escalation notice", || {
        rx.received().iter().any(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["event"] == "action.escalated"
        })
    })
    .await;
    let notice: Value = rx
        .received()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .find(|b| b["event"] == "action.escalated")
        .unwrap();
    assert_eq!(
        notice["escalation"],
        json!({"severity": "high", "reason": "Customer threatens legal action.", "card_id": "case-42"})
    );
    eventually("the escalation email", || {
        smtp.mails()
            .iter()
            .any(|m| m.subject().contains("Escalated"))
    })
    .await;
    let mail = smtp
        .mails()
        .into_iter()
        .find(|m| m.subject().contains("Escalated"))
        .unwrap();
    assert_eq!(
        mail.to,
        ["oncall@ourco.example", "boss@ourco.example"],
        "the team's managers, not others"
    );

    // An escalation without a card opens a priority card of its own (the latest changed).
    s.advance(TimeDelta::minutes(1));
    let open = propose(
        &s,
        json!({"category": "ESCALATE", "title": "VIP unhappy",
        "payload": {"severity": "critical", "reason": "Our largest customer is unhappy."}}),
    )
    .await;
    s.wait_status(&open, "executed").await;
    let (_, cards) = s.get("/v1/cards?team=sales", &viewer).await;
    assert_eq!(cards[0]["id"], format!("escalation-{open}"));
    assert_eq!(cards[0]["priority"], "critical");
    let (status, _) = s.get("/v1/cards/case-42", &s.sales_agent).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents do not read cards");
    let (status, _) = s.get("/v1/cards/nope", &viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn a_callback_url_hears_each_outcome_signed() {
    let secret = "cbsec_0123456789abcdef";
    let s = TestServer::start_with(interlock_server::ServerSettings {
        callback_secret: Some(interlock_server::Secret(secret.to_owned())),
        ..settings()
    })
    .await;
    let manager = s
        .person("boss@ourco.example", "manager", &["support"], None)
        .await;
    let rx = Receiver::start().await;
    let with_callback = |amount: &str| {
        let mut r = refund(amount);
        r["callback_url"] = json!(rx.url);
        r
    };
    let received = || -> Vec<Value> {
        rx.received()
            .iter()
            .map(|r| {
                let sig = r.headers["interlock-signature"].to_str().unwrap();
                assert!(
                    signing::verify(secret, sig, &r.body),
                    "signed like webhooks"
                );
                serde_json::from_slice(&r.body).unwrap()
            })
            .collect()
    };
    // Approved with edits, then executed.
    let (_, a) = s
        .post("/v1/actions", &s.agent, with_callback("900.00"))
        .await;
    let id = id_of(&a);
    let mut edited = a["payload"].clone();
    edited["amount"] = json!("800.00");
    let (status, body) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &manager,
            json!({"expected_version": 1, "edits": edited, "comment": "800 is enough"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually("approved and executed", || received().len() >= 2).await;
    let got = received();
    assert_eq!(got[0]["event"], "action.approved");
    assert_eq!(got[0]["outcome"]["edited"], true);
    assert_eq!(got[0]["outcome"]["by"]["kind"], "member");
    assert_eq!(got[0]["action"]["payload"]["amount"], "800.00");
    assert_eq!(got[0]["action"]["team"], "support");
    assert_eq!(got[1]["event"], "action.executed");
    assert_eq!(got[1]["outcome"]["executed_by"], "approval");

    // Rejected with a reason.
    let (_, b) = s
        .post("/v1/actions", &s.agent, with_callback("950.00"))
        .await;
    let (status, _) = s
        .post(
            &format!("/v1/actions/{}/reject", id_of(&b)),
            &manager,
            json!({"expected_version": 1, "reason": "not our fault"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    eventually("rejected", || received().len() >= 3).await;
    assert_eq!(received()[2]["event"], "action.rejected");
    assert_eq!(received()[2]["outcome"]["reason"], "not our fault");

    // A time bomb left alone executes at its deadline.
    s.post("/v1/actions", &s.agent, with_callback("120.00"))
        .await;
    s.advance(TimeDelta::hours(24));
    eventually("auto-executed", || received().len() >= 4).await;
    assert_eq!(received()[3]["event"], "action.executed");
    assert_eq!(received()[3]["outcome"]["executed_by"], "deadline");
    s.stop().await;
}
