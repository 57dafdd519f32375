//! Bad input gets clear JSON errors, never a 5xx, and nothing is stored.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

async fn action_count(s: &TestServer) -> usize {
    let (_, list) = s.get("/v1/actions?limit=500", &s.admin).await;
    list["actions"].as_array().unwrap().len()
}

async fn post_raw(s: &TestServer, token: &str, body: &'static str) -> (StatusCode, Value) {
    let r = s
        .http
        .post(format!("{}/v1/actions", s.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_get_clear_json_errors_and_store_nothing() {
    let s = TestServer::start().await;
    let cases: Vec<(&'static str, StatusCode, &str)> = vec![
        ("{not json", StatusCode::BAD_REQUEST, "malformed_json"),
        ("", StatusCode::BAD_REQUEST, "malformed_json"),
        (
            r#"{"category": 5, "title": "x", "payload": {}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            r#"{"category": "REFUND"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            r#"{"category": "REFUND", "title": "x", "payload": {}, "surprise": 1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            r#"{"category": "REFUNDS", "title": "x", "payload": {}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_category",
        ),
        (
            r#"{"category": "refund", "title": "x", "payload": {}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_category",
        ),
        (
            r#"{"category": "SEND_EMAIL", "title": "x", "payload": {"to": ["a@b.io"]}}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
        ),
        (
            r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
            StatusCode::BAD_REQUEST,
            "json_too_deep",
        ),
    ];
    for (body, status, code) in cases {
        let (got, err) = post_raw(&s, &s.agent, body).await;
        assert_eq!(got, status, "{body}: {err}");
        assert_eq!(err["code"], code, "{body}: {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    assert_eq!(action_count(&s).await, 0);
    s.stop().await;
}

#[tokio::test]
async fn bad_amounts_and_currencies_are_refused_with_their_codes() {
    let s = TestServer::start().await;
    let refund_with = |amount: Value, currency: &str| {
        json!({"category": "REFUND", "title": "r", "payload": {
            "customer_id": "c", "amount": amount, "currency": currency, "kind": "full", "reason": "x"}})
    };
    for (body, code) in [
        (refund_with(json!("-5.00"), "USD"), "negative_amount"),
        (refund_with(json!("10.005"), "USD"), "too_many_decimals"),
        (refund_with(json!("abc"), "USD"), "invalid_amount"),
        (refund_with(json!("1e3"), "USD"), "invalid_amount"),
        (refund_with(json!("120.00"), "EUR"), "currency_mismatch"),
        (refund_with(json!("120.00"), "ZZZ"), "unknown_currency"),
        (
            refund_with(json!("99999999999999999999"), "USD"),
            "amount_too_large",
        ),
    ] {
        let (status, err) = s.post("/v1/actions", &s.agent, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["code"], code, "{body}: {err}");
    }
    // A JSON number is read exactly.
    let (status, a) = s.post("/v1/actions", &s.agent, serde_json::from_str::<Value>(
        r#"{"category": "REFUND", "title": "r", "payload": {"customer_id": "c", "amount": 50.00, "currency": "USD", "kind": "full", "reason": "x"}}"#,
    ).unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["level"], "time_bomb");
    assert_eq!(action_count(&s).await, 1);
    s.stop().await;
}

#[tokio::test]
async fn a_refund_needs_its_amount_and_names_the_missing_fields() {
    let s = TestServer::start().await;
    let (status, err) = s
        .post(
            "/v1/actions",
            &s.agent,
            json!({"category": "REFUND", "title": "r", "payload": {"customer_id": "c"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "invalid_payload");
    let fields: Vec<&str> = err["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    for f in [
        "payload.amount",
        "payload.currency",
        "payload.kind",
        "payload.reason",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn an_amount_on_a_category_with_bands_is_required() {
    let s = TestServer::start().await;
    let rules = json!({"categories": {"SEND_EMAIL": {"thresholds": [{"below": "10.00", "level": "autonomous"}]}}});
    let (status, _) = s.put("/v1/teams/support/rules", &s.admin, rules).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = s.post("/v1/actions", &s.agent, email()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "amount_required");
    s.stop().await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() {
    let s = TestServer::start().await;
    let mut body = email();
    body["payload"]["text"] = json!("x".repeat(1024 * 1024 + 10));
    let (status, err) = s.post("/v1/actions", &s.agent, body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["code"], "body_too_large");
    assert_eq!(action_count(&s).await, 0);
    s.stop().await;
}

#[tokio::test]
async fn missing_malformed_and_unknown_keys_are_401() {
    let s = TestServer::start().await;
    let r = s
        .http
        .get(format!("{}/v1/actions", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["code"], "unauthorized");
    for token in [
        "nonsense",
        "key_0000000000000000.0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let (status, err) = s.get("/v1/actions", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}: {err}");
    }
    // The right id with a wrong secret.
    let id = s.agent.split('.').next().unwrap();
    let forged = format!("{id}.{}", "f".repeat(64));
    let (status, _) = s.get("/v1/actions", &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn another_teams_key_neither_sees_nor_proposes_for_the_team() {
    let s = TestServer::start().await;
    let a = s.propose_refund("120.00").await;
    let (status, _) = s
        .get(&format!("/v1/actions/{}", id_of(&a)), &s.sales_agent)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut body = refund("10.00");
    body["team"] = json!("support");
    let (status, err) = s.post("/v1/actions", &s.sales_agent, body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (status, _) = s.get("/v1/teams/support/rules", &s.sales_agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(action_count(&s).await, 1);
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let s = TestServer::start().await;
    let (status, created) = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"kind": "agent", "team": "support"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["secret"].as_str().unwrap().to_owned();
    let (status, _) = s.get("/v1/actions", &token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .post(
            &format!("/v1/keys/{}/revoke", created["id"].as_str().unwrap()),
            &s.admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.get("/v1/actions", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, keys) = s.get("/v1/keys", &s.admin).await;
    assert!(
        !keys.to_string().contains(&token[21..]),
        "a secret appears in the key list"
    );
    s.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_ids_are_json_404s() {
    let s = TestServer::start().await;
    for path in [
        "/v1/nothing",
        "/v1/actions/not-a-uuid",
        "/v1/actions/01890000-0000-7000-8000-000000000000",
    ] {
        let (status, err) = s.get(path, &s.admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(err["code"], "not_found", "{path}");
    }
    s.stop().await;
}
