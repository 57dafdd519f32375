use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn approving_an_armed_time_bomb_executes_it_without_waiting() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    let (status, approved) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &s.admin,
            json!({"expected_version": 1, "comment": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["version"], 2);
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["decided_by"]["kind"], "service");
    assert_eq!(done["attempts"], 1);
    let types = s.audit_types(&id).await;
    assert_eq!(
        types,
        [
            "action.proposed",
            "action.decided",
            "action.approved",
            "action.executed"
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn hold_turns_a_countdown_into_an_approval_wait_that_the_deadline_no_longer_fires() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    let (status, held) = s
        .post(
            &format!("/v1/actions/{id}/hold"),
            &s.admin,
            json!({"expected_version": 1, "reason": "check with finance"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    assert_eq!(held["status"], "awaiting_approval");
    s.advance(TimeDelta::hours(30));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, still) = s.get(&format!("/v1/actions/{id}"), &s.agent).await;
    assert_eq!(still["status"], "awaiting_approval");
    let (status, _) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &s.admin,
            json!({"expected_version": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    s.wait_status(&id, "executed").await;
    s.stop().await;
}

#[tokio::test]
async fn a_rejection_reason_reaches_the_agent() {
    let s = TestServer::start().await;
    let a = s.propose_refund("900.00").await;
    let id = id_of(&a);
    let (status, _) = s
        .post(
            &format!("/v1/actions/{id}/reject"),
            &s.admin,
            json!({"expected_version": 1, "reason": "over the goodwill budget"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = s.get(&format!("/v1/actions/{id}"), &s.agent).await;
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["reason"], "over the goodwill budget");
    s.stop().await;
}

#[tokio::test]
async fn a_reason_with_a_control_character_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let a = s.propose_refund("900.00").await;
    let id = id_of(&a);
    for bad in ["budget\u{0}exceeded", "bell\u{7}"] {
        let (status, err) = s
            .post(
                &format!("/v1/actions/{id}/reject"),
                &s.admin,
                json!({"expected_version": 1, "reason": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["code"], "invalid_field");
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("control character"),
            "{err}"
        );
    }
    let (_, seen) = s.get(&format!("/v1/actions/{id}"), &s.agent).await;
    assert_eq!(
        (seen["status"].as_str(), seen["version"].as_i64()),
        (Some("awaiting_approval"), Some(1))
    );
    // Line breaks and tabs are fine.
    let (status, _) = s
        .post(
            &format!("/v1/actions/{id}/reject"),
            &s.admin,
            json!({"expected_version": 1, "reason": "over budget:\n\tsee the policy"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = s.get(&format!("/v1/actions/{id}"), &s.agent).await;
    assert_eq!(seen["reason"], "over budget:\n\tsee the policy");
    s.stop().await;
}

#[tokio::test]
async fn approving_an_advisory_action_is_refused_with_409() {
    let s = TestServer::start().await;
    let mut body = refund("10.00");
    body["tags"] = json!(["pricing_commitment"]);
    let (_, a) = s.post("/v1/actions", &s.agent, body).await;
    let id = id_of(&a);
    let (status, err) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &s.admin,
            json!({"expected_version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "advisory_not_executable");
    assert_eq!(err["details"]["action"]["status"], "advisory");
    let (status, dismissed) = s
        .post(
            &format!("/v1/actions/{id}/dismiss"),
            &s.admin,
            json!({"comment": "done by hand"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dismissed["status"], "dismissed");
    s.stop().await;
}

#[tokio::test]
async fn a_stale_expected_version_is_refused_with_the_current_action() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    s.post(
        &format!("/v1/actions/{id}/hold"),
        &s.admin,
        json!({"expected_version": 1}),
    )
    .await;
    let (status, err) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &s.admin,
            json!({"expected_version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "version_conflict");
    assert_eq!(err["details"]["action"]["version"], 2);
    assert_eq!(err["details"]["action"]["status"], "awaiting_approval");
    s.stop().await;
}

#[tokio::test]
async fn a_transition_not_allowed_now_is_a_409_naming_the_status() {
    let s = TestServer::start().await;
    let a = s.propose_refund("900.00").await;
    let (status, err) = s
        .post(
            &format!("/v1/actions/{}/hold", id_of(&a)),
            &s.admin,
            json!({"expected_version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "invalid_transition");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("awaiting_approval"),
        "{err}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_approval_with_edits_runs_the_edited_payload_and_records_the_difference() {
    let s = TestServer::start().await;
    let (_, a) = s.post("/v1/actions", &s.agent, email()).await;
    let id = id_of(&a);
    let mut edited = a["payload"].clone();
    edited["subject"] = json!("Our apologies for Tuesday");
    let (status, approved) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &s.admin,
            json!({"expected_version": 1, "edits": edited}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let done = s.wait_status(&id, "executed").await;
    assert_eq!(done["payload"]["subject"], "Our apologies for Tuesday");
    assert_eq!(
        done["original_payload"]["subject"],
        "Sorry about the outage"
    );
    let (_, entries) = s
        .get(
            &format!("/v1/audit?action={id}&type=action.approved"),
            &s.admin,
        )
        .await;
    let edits = &entries["entries"][0]["data"]["edits"];
    assert_eq!(edits[0]["path"], "payload.subject");
    assert_eq!(edits[0]["after"], "Our apologies for Tuesday");
    s.stop().await;
}

#[tokio::test]
async fn invalid_edits_are_refused_and_change_nothing() {
    let s = TestServer::start().await;
    let (_, a) = s.post("/v1/actions", &s.agent, email()).await;
    let id = id_of(&a);
    let (status, err) = s
        .post(
            &format!("/v1/actions/{id}/approve"),
            &s.admin,
            json!({"expected_version": 1, "edits": {"subject": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "invalid_payload");
    let (_, same) = s.get(&format!("/v1/actions/{id}"), &s.admin).await;
    assert_eq!(
        (same["status"].as_str(), same["version"].as_u64()),
        (Some("awaiting_approval"), Some(1))
    );
    s.stop().await;
}

#[tokio::test]
async fn nobody_approves_an_action_they_proposed_themselves() {
    let s = TestServer::start().await;
    let mut body = email();
    body["team"] = json!("support");
    let (_, a) = s.post("/v1/actions", &s.admin, body).await;
    let (status, err) = s
        .post(
            &format!("/v1/actions/{}/approve", id_of(&a)),
            &s.admin,
            json!({"expected_version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err["code"], "self_approval");
    s.stop().await;
}

#[tokio::test]
async fn agents_never_approve_hold_or_reject() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    for verb in ["approve", "hold", "reject"] {
        let (status, err) = s
            .post(
                &format!("/v1/actions/{id}/{verb}"),
                &s.agent2,
                json!({"expected_version": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{verb}: {err}");
        let (status, err) = s
            .post(
                &format!("/v1/actions/{id}/{verb}"),
                &s.agent,
                json!({"expected_version": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{verb}: {err}");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_proposing_agent_withdraws_its_draft() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    let (status, _) = s
        .post(&format!("/v1/actions/{id}/withdraw"), &s.agent2, json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, w) = s
        .send(
            reqwest::Method::POST,
            &format!("/v1/actions/{id}/withdraw"),
            &s.agent,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{w}");
    assert_eq!(w["status"], "cancelled");
    s.advance(TimeDelta::hours(25));
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, still) = s.get(&format!("/v1/actions/{id}"), &s.agent).await;
    assert_eq!(still["status"], "cancelled");
    s.stop().await;
}

#[tokio::test]
async fn an_approval_racing_the_deadline_executes_exactly_once() {
    let s = TestServer::start().await;
    for round in 0..25 {
        let a = s.propose_refund("120.00").await;
        let id = id_of(&a);
        // Make the deadline due and let the scheduler go, while a person approves.
        s.advance(TimeDelta::hours(24));
        let (status, body) = s
            .post(
                &format!("/v1/actions/{id}/approve"),
                &s.admin,
                json!({"expected_version": 1}),
            )
            .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "round {round}: {status} {body}"
        );
        let done = s.wait_status(&id, "executed").await;
        assert_eq!(
            done["attempts"], 1,
            "round {round}: executed more than once: {done:#}"
        );
        let types = s.audit_types(&id).await;
        let executions = types.iter().filter(|t| *t == "action.executed").count();
        let winners = types
            .iter()
            .filter(|t| *t == "action.approved" || *t == "action.deadline_reached")
            .count();
        assert_eq!((executions, winners), (1, 1), "round {round}: {types:?}");
    }
    s.stop().await;
}
