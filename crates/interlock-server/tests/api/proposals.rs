use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn every_worked_example_boundary_gets_the_right_level_and_status() {
    let s = TestServer::start().await;
    for (amount, level, status) in [
        ("0.00", "autonomous", None),
        ("49.99", "autonomous", None),
        ("50.00", "time_bomb", Some("armed")),
        ("120.00", "time_bomb", Some("armed")),
        ("500.00", "time_bomb", Some("armed")),
        ("500.01", "human_approval", Some("awaiting_approval")),
        ("10000.00", "human_approval", Some("awaiting_approval")),
    ] {
        let a = s.propose_refund(amount).await;
        assert_eq!(a["level"], level, "{amount}: {a:#}");
        assert_eq!(a["decision"]["level"], level);
        assert_eq!(a["decision"]["rule"], "threshold");
        assert_eq!(
            a["decision"]["rule_set_version"], 2,
            "the worked example is version 2 of the team's rules"
        );
        match status {
            Some(st) => assert_eq!(a["status"], st, "{amount}"),
            // Autonomous actions execute at once (the log connector).
            None => {
                s.wait_status(&id_of(&a), "executed").await;
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn an_autonomous_proposal_on_the_log_connector_is_answered_executed_with_every_step_audited()
{
    // The log connector's execution is written in the proposal's own commit: the agent
    // hears `executed` at once, the trail still shows executing → executed, and the
    // scheduler has nothing left to run for it.
    let s = TestServer::start().await;
    let a = s.propose_refund("20.00").await;
    let id = id_of(&a);
    assert_eq!(a["level"], "autonomous", "{a:#}");
    assert_eq!(a["status"], "executed", "{a:#}");
    assert_eq!(a["version"], 2, "{a:#}");
    assert_eq!(a["attempts"], 1, "{a:#}");
    assert!(a["executed_at"].is_string(), "{a:#}");
    assert_eq!(
        s.audit_types(&id).await,
        ["action.proposed", "action.decided", "action.executed"]
    );
    assert_eq!(
        s.audit_transitions(&id).await,
        [step("action.executed", "executing", "executed", 2)]
    );
    // Nothing runs it again: still one attempt and one execution once the scheduler had
    // its chance.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, now) = s.get(&format!("/v1/actions/{id}"), &s.admin).await;
    assert_eq!(
        (now["version"].as_u64(), now["attempts"].as_u64()),
        (Some(2), Some(1))
    );
    s.stop().await;
}

#[tokio::test]
async fn a_time_bomb_answer_carries_its_deadline_reminders_and_explanation() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    assert_eq!(a["deadline"], "2026-03-03T09:00:00Z");
    let kinds: Vec<&str> = a["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["half", "ninety", "final_warning"]);
    assert_eq!(a["reminders"][0]["at"], "2026-03-02T21:00:00Z");
    assert_eq!(
        a["decision"]["explanation"],
        "REFUND 120.00 USD → time bomb 24 h: band 50.00–500.00, rules v2"
    );
    assert_eq!(a["team"], "support");
    assert_eq!(a["amount"], "120.00");
    assert_eq!(a["version"], 1);
    s.stop().await;
}

#[tokio::test]
async fn a_legal_notice_tag_makes_a_small_refund_advisory() {
    let s = TestServer::start().await;
    let mut body = refund("10.00");
    body["tags"] = json!(["legal_notice"]);
    let (status, a) = s.post("/v1/actions", &s.agent, body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (a["level"].as_str(), a["status"].as_str()),
        (Some("advisory"), Some("advisory"))
    );
    assert_eq!(a["decision"]["rule"], "advisory_tag");
    s.stop().await;
}

#[tokio::test]
async fn a_category_without_rules_waits_for_approval() {
    let s = TestServer::start().await;
    let (status, a) = s.post("/v1/actions", &s.agent, email()).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "awaiting_approval");
    assert_eq!(a["decision"]["rule"], "default");
    s.stop().await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_action() {
    let s = TestServer::start().await;
    let mut body = refund("120.00");
    body["idempotency_key"] = json!("case-77-refund");
    let (first_status, first) = s.post("/v1/actions", &s.agent, body.clone()).await;
    let (again_status, again) = s.post("/v1/actions", &s.agent, body).await;
    assert_eq!(
        (first_status, again_status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(first["id"], again["id"]);
    let (_, list) = s.get("/v1/actions?team=support", &s.admin).await;
    assert_eq!(list["actions"].as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn concurrent_proposals_with_one_idempotency_key_create_one_action() {
    let s = TestServer::start().await;
    let mut body = refund("120.00");
    body["idempotency_key"] = json!("same-key");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, base, agent, body) = (
            s.http.clone(),
            s.base.clone(),
            s.agent.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/v1/actions"))
                .bearer_auth(agent)
                .json(&body)
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = r.json().await.unwrap();
            v["id"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    s.stop().await;
}

#[tokio::test]
async fn an_agent_lists_only_its_own_actions_and_cannot_read_another_agents() {
    let s = TestServer::start().await;
    let mine = s.propose_refund("120.00").await;
    let (_, theirs) = s.post("/v1/actions", &s.agent2, refund("130.00")).await;
    let (_, list) = s.get("/v1/actions", &s.agent).await;
    let ids: Vec<&str> = list["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine["id"].as_str().unwrap()]);
    let (status, _) = s
        .get(&format!("/v1/actions/{}", id_of(&theirs)), &s.agent)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn listing_filters_by_status_and_category_and_pages_with_a_cursor() {
    let s = TestServer::start().await;
    for amount in ["60.00", "70.00", "80.00", "900.00", "950.00"] {
        s.propose_refund(amount).await;
    }
    s.post("/v1/actions", &s.agent, email()).await;
    let (_, armed) = s
        .get("/v1/actions?team=support&status=armed", &s.admin)
        .await;
    assert_eq!(armed["actions"].as_array().unwrap().len(), 3);
    let (_, emails) = s.get("/v1/actions?category=SEND_EMAIL", &s.admin).await;
    assert_eq!(emails["actions"].as_array().unwrap().len(), 1);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = s
            .get(
                &format!("/v1/actions?team=support&limit=2{cursor}"),
                &s.admin,
            )
            .await;
        seen.extend(page["actions"].as_array().unwrap().iter().map(id_of));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (6, 6));
    s.stop().await;
}

#[tokio::test]
async fn get_with_wait_returns_as_soon_as_the_action_changes() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let id = id_of(&a);
    let (http, base, agent, path) = (
        s.http.clone(),
        s.base.clone(),
        s.agent.clone(),
        format!("/v1/actions/{id}?wait=30s"),
    );
    let waiter = tokio::spawn(async move {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(agent)
            .send()
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let (status, _) = s
        .post(
            &format!("/v1/actions/{id}/reject"),
            &s.admin,
            json!({"expected_version": 1, "reason": "customer churned"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let seen = waiter.await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["reason"], "customer churned");
    s.stop().await;
}

#[tokio::test]
async fn every_proposal_is_audited_with_its_decision() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let types = s.audit_types(&id_of(&a)).await;
    assert_eq!(types, ["action.proposed", "action.decided"]);
    let (_, entries) = s
        .get(
            &format!("/v1/audit?action={}&type=action.decided", id_of(&a)),
            &s.admin,
        )
        .await;
    let decided = &entries["entries"][0];
    assert_eq!(decided["data"]["explanation"], a["decision"]["explanation"]);
    assert_eq!(decided["actor"]["kind"], "system");
    s.stop().await;
}

#[tokio::test]
async fn the_event_stream_carries_changes_of_the_callers_own_actions_only() {
    let s = TestServer::start().await;
    let mut stream = s
        .http
        .get(format!("{}/v1/events", s.base))
        .bearer_auth(&s.agent)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    // Another agent's proposal must not show up; ours must.
    s.post("/v1/actions", &s.agent2, refund("130.00")).await;
    let mine = s.propose_refund("120.00").await;
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(mine["id"].as_str().unwrap()) {
        assert!(std::time::Instant::now() < deadline, "no event in: {seen}");
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: action"), "{seen}");
    assert!(seen.contains("\"status\":\"armed\""), "{seen}");
    assert_eq!(
        seen.matches("\"action_id\"").count(),
        1,
        "another agent's action leaked: {seen}"
    );
    s.stop().await;
}
