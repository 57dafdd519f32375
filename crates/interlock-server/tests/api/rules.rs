use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn invalid_rules_are_refused_listing_every_problem_and_nothing_is_saved() {
    let s = TestServer::start().await;
    let bad = json!({"categories": {"REFUND": {"level": "maybe", "thresholds": [
        {"below": "60.00", "level": "autonomous"},
        {"from": "50.00", "to": "500.00", "level": "time_bomb"},
        {"above": "-1", "level": "human_approval"}]}}});
    let (status, err) = s.put("/v1/teams/support/rules", &s.admin, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["code"], "invalid_rules");
    assert_eq!(err["details"].as_array().unwrap().len(), 3, "{err:#}");
    let (_, current) = s.get("/v1/teams/support/rules", &s.admin).await;
    assert_eq!(current["version"], 2);
    s.stop().await;
}

#[tokio::test]
async fn every_save_is_a_new_version_and_rollback_restores_an_old_one() {
    let s = TestServer::start().await;
    let (_, v2) = s.get("/v1/teams/support/rules", &s.admin).await;
    let mut doc = v2.clone();
    doc["categories"]["SEND_EMAIL"]["level"] = json!("autonomous");
    let (status, v3) = s
        .put("/v1/teams/support/rules", &s.admin, doc.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{v3}");
    assert_eq!(v3["version"], 3);
    let (status, _) = s.post("/v1/actions", &s.agent, email()).await;
    assert_eq!(status, StatusCode::CREATED);
    // Editing version 2 again is stale.
    let (status, err) = s.put("/v1/teams/support/rules", &s.admin, doc).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (_, versions) = s.get("/v1/teams/support/rules/versions", &s.admin).await;
    let numbers: Vec<u64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    let (status, v4) = s
        .post(
            "/v1/teams/support/rules/rollback",
            &s.admin,
            json!({"version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v4["version"], 4);
    assert_eq!(v4["categories"]["REFUND"]["thresholds"], json!([]));
    let (_, old) = s.get("/v1/teams/support/rules/versions/2", &s.admin).await;
    assert_eq!(
        old["categories"]["REFUND"]["thresholds"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (_, audit) = s
        .get("/v1/audit?type=rules.changed&team=support", &s.admin)
        .await;
    let last = &audit["entries"][0]["data"];
    assert_eq!(
        last["before"]["categories"]["SEND_EMAIL"]["level"],
        "human_approval"
    );
    assert_eq!(
        last["after"]["categories"]["SEND_EMAIL"]["level"],
        "autonomous"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_new_team_starts_conservative() {
    let s = TestServer::start().await;
    let (status, _) = s
        .post(
            "/v1/teams",
            &s.admin,
            json!({"slug": "retention", "name": "Retention"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, rules) = s.get("/v1/teams/retention/rules", &s.admin).await;
    assert_eq!(rules["version"], 1);
    assert_eq!(
        rules["advisory_tags"],
        json!(["legal_notice", "pricing_commitment", "contract_change"])
    );
    for (_, c) in rules["categories"].as_object().unwrap() {
        assert_eq!(c["level"], "human_approval");
        assert_eq!(c["time_bomb"]["duration"], "4h");
        assert_eq!(c["time_bomb"]["final_warning"], "1h");
    }
    let (status, err) = s
        .post(
            "/v1/teams",
            &s.admin,
            json!({"slug": "retention", "name": "Again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (status, _) = s
        .post("/v1/teams", &s.agent, json!({"slug": "x", "name": "X"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let s = TestServer::start().await;
    let r = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: serde_json::Value = r.json().await.unwrap();
    for path in [
        "/v1/actions",
        "/v1/actions/{id}/approve",
        "/v1/teams/{team}/rules",
        "/v1/plans",
        "/v1/audit",
        "/v1/events",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let r = s
        .http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .http
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}
