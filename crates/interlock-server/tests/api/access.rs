//! The role matrix of SPEC §12 on the real HTTP app: every kind of caller × every class of
//! endpoint → the expected status.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// One endpoint class, as one request against team `support`.
struct Class {
    name: &'static str,
    method: Method,
    /// `{id}` is replaced by a fresh armed action of team support.
    path: &'static str,
    body: Option<Value>,
}

fn classes() -> Vec<Class> {
    let c = |name, method, path, body| Class {
        name,
        method,
        path,
        body,
    };
    vec![
        c("read action", Method::GET, "/v1/actions/{id}", None),
        c(
            "decide",
            Method::POST,
            "/v1/actions/{id}/hold",
            Some(json!({"expected_version": 1})),
        ),
        c(
            "propose",
            Method::POST,
            "/v1/actions",
            Some({
                let mut r = refund("120.00");
                r["team"] = json!("support");
                r
            }),
        ),
        c("read rules", Method::GET, "/v1/teams/support/rules", None),
        c(
            "write rules",
            Method::POST,
            "/v1/teams/support/rules/rollback",
            Some(json!({"version": 2})),
        ),
        c(
            "connectors",
            Method::GET,
            "/v1/teams/support/connectors",
            None,
        ),
        c("list users", Method::GET, "/v1/users", None),
        c(
            "add user",
            Method::POST,
            "/v1/users",
            Some(json!({"email": "new-{n}@example.com", "role": "viewer", "teams": ["support"]})),
        ),
        c(
            "create agent key",
            Method::POST,
            "/v1/keys",
            Some(json!({"kind": "agent", "team": "support"})),
        ),
        c("audit", Method::GET, "/v1/audit?team=support", None),
        c("channels", Method::GET, "/v1/teams/support/channels", None),
        c("cards", Method::GET, "/v1/cards?team=support", None),
    ]
}

#[tokio::test]
async fn every_role_gets_exactly_the_access_the_role_table_gives() {
    let s = TestServer::start().await;
    let owner = s.person("owner@example.com", "owner", &[], None).await;
    let admin = s.person("admin@example.com", "admin", &[], None).await;
    let manager = s
        .person("manager@example.com", "manager", &["support"], None)
        .await;
    let viewer = s
        .person("viewer@example.com", "viewer", &["support"], None)
        .await;
    let other_manager = s
        .person("sales-manager@example.com", "manager", &["sales"], None)
        .await;
    use StatusCode as S;
    let (ok, created, forbidden, hidden) = (S::OK, S::CREATED, S::FORBIDDEN, S::NOT_FOUND);
    // read, decide, propose, read rules, write rules, connectors, list users, add user, key, audit,
    // channels, cards
    let table: Vec<(&str, &str, [StatusCode; 12])> = vec![
        (
            "owner",
            &owner,
            [
                ok, ok, created, ok, ok, ok, ok, created, created, ok, ok, ok,
            ],
        ),
        (
            "admin service key",
            &s.admin,
            [
                ok, ok, created, ok, ok, ok, ok, created, created, ok, ok, ok,
            ],
        ),
        (
            "admin",
            &admin,
            [
                ok, forbidden, forbidden, ok, ok, ok, ok, forbidden, created, ok, ok, ok,
            ],
        ),
        (
            "manager of the team",
            &manager,
            [
                ok, ok, forbidden, ok, forbidden, forbidden, forbidden, forbidden, forbidden, ok,
                forbidden, ok,
            ],
        ),
        (
            "viewer of the team",
            &viewer,
            [
                ok, forbidden, forbidden, ok, forbidden, forbidden, forbidden, forbidden,
                forbidden, ok, forbidden, ok,
            ],
        ),
        (
            "manager of another team",
            &other_manager,
            [
                hidden, hidden, hidden, hidden, hidden, hidden, forbidden, forbidden, forbidden,
                hidden, hidden, hidden,
            ],
        ),
        (
            "another agent of the team",
            &s.agent2,
            [
                hidden, hidden, created, forbidden, forbidden, forbidden, forbidden, forbidden,
                forbidden, forbidden, forbidden, forbidden,
            ],
        ),
        (
            "agent of another team",
            &s.sales_agent,
            [
                hidden, hidden, hidden, hidden, hidden, hidden, forbidden, forbidden, forbidden,
                hidden, hidden, hidden,
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (n, (who, token, expected)) in table.iter().enumerate() {
        for (class, want) in classes().iter().zip(expected) {
            // A fresh armed action (proposed by the first support agent) for each cell.
            let action = s.propose_refund("120.00").await;
            let path = class.path.replace("{id}", action["id"].as_str().unwrap());
            let body = class.body.as_ref().map(|b| {
                serde_json::from_str(&b.to_string().replace("{n}", &n.to_string())).unwrap()
            });
            let (got, answer) = s.send(class.method.clone(), &path, token, body).await;
            if got != *want {
                failures.push(format!(
                    "{who} × {}: expected {want}, got {got} {answer}",
                    class.name
                ));
            }
            if got.is_client_error() {
                assert!(
                    answer["code"].is_string(),
                    "{who} × {}: {answer}",
                    class.name
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "role matrix mismatches:\n{}",
        failures.join("\n")
    );
    s.stop().await;
}

#[tokio::test]
async fn a_manager_decides_in_their_team_and_is_recorded_as_the_person() {
    let s = TestServer::start().await;
    let manager = s
        .person("mia@example.com", "manager", &["support"], None)
        .await;
    let a = s.propose_refund("120.00").await;
    let (status, body) = s
        .post(
            &format!("/v1/actions/{}/approve", id_of(&a)),
            &manager,
            json!({"expected_version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decided_by"]["kind"], "member");
    let (_, users) = s.get("/v1/users", &s.admin).await;
    let mia = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "mia@example.com")
        .unwrap();
    assert_eq!(body["decided_by"]["id"], mia["id"]);
    s.stop().await;
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let s = TestServer::start().await;
    let key = s
        .person("vic@example.com", "viewer", &["support"], None)
        .await;
    let a = s.propose_refund("120.00").await;
    let path = format!("/v1/actions/{}/hold", id_of(&a));
    assert_eq!(
        s.post(&path, &key, json!({"expected_version": 1})).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, users) = s.get("/v1/users", &s.admin).await;
    let vic = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "vic@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, changed) = s
        .put(
            &format!("/v1/users/{vic}"),
            &s.admin,
            json!({"role": "manager", "teams": ["support"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        s.post(&path, &key, json!({"expected_version": 1})).await.0,
        StatusCode::OK
    );
    let (_, audit) = s.get("/v1/audit?type=user.role_changed", &s.admin).await;
    assert_eq!(audit["entries"][0]["data"]["before"]["role"], "viewer");
    s.stop().await;
}

#[tokio::test]
async fn removing_a_person_stops_their_keys_at_once_and_the_last_owner_stays() {
    let s = TestServer::start().await;
    let owner = s.person("only-owner@example.com", "owner", &[], None).await;
    let key = s
        .person("leaver@example.com", "manager", &["support"], None)
        .await;
    assert_eq!(s.get("/v1/actions", &key).await.0, StatusCode::OK);
    let (_, users) = s.get("/v1/users", &owner).await;
    let id_of_email = |email: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (status, _) = s
        .send(
            Method::DELETE,
            &format!("/v1/users/{}", id_of_email("leaver@example.com")),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/v1/actions", &key).await.0, StatusCode::UNAUTHORIZED);
    let (status, err) = s
        .send(
            Method::DELETE,
            &format!("/v1/users/{}", id_of_email("only-owner@example.com")),
            &owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["code"], "last_owner");
    s.stop().await;
}

#[tokio::test]
async fn a_person_makes_and_revokes_their_own_key_but_no_one_elses() {
    let s = TestServer::start().await;
    let mine = s
        .person("pat@example.com", "viewer", &["support"], None)
        .await;
    let theirs = s
        .person("quinn@example.com", "viewer", &["support"], None)
        .await;
    let (status, created) = s
        .post("/v1/keys", &mine, json!({"kind": "user", "name": "laptop"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, listed) = s.get("/v1/keys", &mine).await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "only pat's own keys: {listed}"
    );
    let (_, their_keys) = s.get("/v1/keys", &theirs).await;
    let their_key = their_keys[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = s
        .post(&format!("/v1/keys/{their_key}/revoke"), &mine, json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .post(
            "/v1/keys",
            &mine,
            json!({"kind": "user", "user": "quinn@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let s = TestServer::start().await;
    let expires_at = (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
    let (status, created) = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"kind": "agent", "team": "support", "expires_at": expires_at}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/v1/actions", &token).await.0, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.get("/v1/actions", &token).await.0 == StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the key never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.get("/v1/actions", &token).await.0,
        StatusCode::UNAUTHORIZED
    );
    s.stop().await;
}

#[tokio::test]
async fn a_runaway_agent_is_slowed_down_with_429_and_retry_after() {
    let s = TestServer::start_with(interlock_server::ServerSettings {
        proposals_per_second: 1.0,
        proposal_burst: 3,
        ..settings()
    })
    .await;
    for _ in 0..3 {
        s.propose_refund("120.00").await;
    }
    let r = s
        .http
        .post(format!("{}/v1/actions", s.base))
        .bearer_auth(&s.agent)
        .json(&refund("120.00"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Another key is not affected.
    assert_eq!(
        s.post("/v1/actions", &s.agent2, refund("120.00")).await.0,
        StatusCode::CREATED
    );
    s.stop().await;
}
