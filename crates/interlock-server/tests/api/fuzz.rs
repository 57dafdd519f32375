//! Random and mutated JSON against every endpoint: never a 5xx, always a JSON error with
//! a code, and a refused request stores nothing.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::common::*;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::String),
        prop::sample::select(vec![
            "-1",
            "0.001",
            "1e400",
            "NaN",
            "REFUND",
            "armed",
            "",
            "\u{0}",
            "𝔘𝔫𝔦"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A body: random, or a valid example with one part changed.
#[derive(Debug, Clone)]
enum Body {
    Random(Value),
    /// Replace (or add) the field at `key` (in the body or its payload) with a value.
    Mutated {
        key_pick: usize,
        in_payload: bool,
        value: Value,
    },
    Dropped {
        key_pick: usize,
    },
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        json_value().prop_map(Body::Random),
        (any::<usize>(), any::<bool>(), json_value()).prop_map(|(key_pick, in_payload, value)| {
            Body::Mutated {
                key_pick,
                in_payload,
                value,
            }
        }),
        any::<usize>().prop_map(|key_pick| Body::Dropped { key_pick }),
    ]
}

fn apply(example: &Value, b: &Body) -> Value {
    match b {
        Body::Random(v) => v.clone(),
        Body::Dropped { key_pick } => {
            let mut v = example.clone();
            if let Some(obj) = v.as_object_mut()
                && !obj.is_empty()
            {
                let key = obj.keys().nth(key_pick % obj.len()).unwrap().clone();
                obj.remove(&key);
            }
            v
        }
        Body::Mutated {
            key_pick,
            in_payload,
            value,
        } => {
            let mut v = example.clone();
            let target = match (in_payload, v.get("payload").is_some()) {
                (true, true) => v.get_mut("payload").unwrap(),
                _ => &mut v,
            };
            if let Some(obj) = target.as_object_mut() {
                let keys: Vec<String> =
                    obj.keys().cloned().chain(["surprise".to_owned()]).collect();
                obj.insert(keys[key_pick % keys.len()].clone(), value.clone());
            }
            v
        }
    }
}

/// What must not change when a request is refused. Taken once background work (the
/// execution of an accepted autonomous action) has settled, so only the request counts.
async fn fingerprint(s: &TestServer) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let actions = loop {
        let (_, actions) = s.get("/v1/actions?limit=500", &s.admin).await;
        let busy = actions["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["status"] == "executing");
        if !busy || std::time::Instant::now() > deadline {
            break actions;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let (_, audit) = s.get("/v1/audit?limit=1", &s.admin).await;
    let (_, rules) = s.get("/v1/teams/support/rules", &s.admin).await;
    let (_, teams) = s.get("/v1/teams", &s.admin).await;
    let (_, keys) = s.get("/v1/keys", &s.admin).await;
    let (_, connectors) = s.get("/v1/teams/support/connectors", &s.admin).await;
    let (_, users) = s.get("/v1/users", &s.admin).await;
    let versions: Vec<&Value> = actions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["version"])
        .collect();
    format!(
        "{} {:?} {} {} {} {} {} {}",
        actions["actions"].as_array().unwrap().len(),
        versions,
        audit["entries"][0]["id"],
        rules["version"],
        teams.as_array().unwrap().len(),
        keys.as_array().unwrap().len(),
        connectors,
        users,
    )
}

#[test]
fn random_and_mutated_json_never_causes_a_5xx_and_refusals_store_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(TestServer::start());
    let armed = rt.block_on(s.propose_refund("120.00"));
    let id = id_of(&armed);
    let rules = rt.block_on(s.get("/v1/teams/support/rules", &s.admin)).1;
    let manager_key =
        rt.block_on(s.person("fuzz-manager@example.com", "manager", &["support"], None));
    let users = rt.block_on(s.get("/v1/users", &s.admin)).1;
    let uid = users[0]["id"].as_str().unwrap().to_owned();
    let endpoints: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/v1/actions".into(), refund("120.00")),
        (Method::POST, "/v1/actions".into(), email()),
        (
            Method::POST,
            "/v1/plans".into(),
            json!({"summary": "s", "steps": [refund("10.00"), email()]}),
        ),
        (
            Method::POST,
            format!("/v1/actions/{id}/approve"),
            json!({"expected_version": 1, "comment": "ok"}),
        ),
        (
            Method::POST,
            format!("/v1/actions/{id}/hold"),
            json!({"expected_version": 1, "reason": "r"}),
        ),
        (
            Method::POST,
            format!("/v1/actions/{id}/reject"),
            json!({"expected_version": 1, "reason": "r"}),
        ),
        (
            Method::POST,
            format!("/v1/actions/{id}/withdraw"),
            json!({"reason": "r"}),
        ),
        (Method::POST, format!("/v1/actions/{id}/retry"), json!({})),
        (Method::POST, format!("/v1/actions/{id}/dismiss"), json!({})),
        (Method::PUT, "/v1/teams/support/rules".into(), rules),
        (
            Method::POST,
            "/v1/teams/support/rules/rollback".into(),
            json!({"version": 1}),
        ),
        (
            Method::POST,
            "/v1/teams".into(),
            json!({"slug": "fuzz", "name": "Fuzz"}),
        ),
        (
            Method::POST,
            "/v1/keys".into(),
            json!({"kind": "agent", "team": "support"}),
        ),
        (
            Method::PUT,
            "/v1/teams/support/connectors/REFUND".into(),
            json!({"kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "0123456789abcdef"}),
        ),
        (
            Method::POST,
            "/v1/users".into(),
            json!({"email": "f@example.com", "role": "viewer", "teams": ["support"], "password": "twelve chars!"}),
        ),
        (
            Method::PUT,
            format!("/v1/users/{uid}"),
            json!({"role": "manager", "teams": ["support", "sales"]}),
        ),
        (
            Method::POST,
            "/v1/keys".into(),
            json!({"kind": "user", "user": "fuzz-manager@example.com", "name": "k"}),
        ),
    ];
    let tokens = [
        s.admin.clone(),
        s.agent.clone(),
        s.sales_agent.clone(),
        manager_key,
    ];
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0..endpoints.len(), 0..tokens.len(), body());
    runner
        .run(&strategy, |(e, t, b)| {
            let (method, path, example) = &endpoints[e];
            let sent = apply(example, &b);
            rt.block_on(async {
                let before = fingerprint(&s).await;
                let (status, answer) = s
                    .send(method.clone(), path, &tokens[t], Some(sent.clone()))
                    .await;
                prop_assert!(
                    status.as_u16() < 500,
                    "{method} {path} {sent} → {status} {answer}"
                );
                if status.as_u16() >= 400 {
                    prop_assert!(
                        answer["code"].is_string() && answer["message"].is_string(),
                        "{status} {answer}"
                    );
                    let after = fingerprint(&s).await;
                    prop_assert_eq!(
                        before,
                        after,
                        "a refused {} {} changed state: {} → {}",
                        method,
                        path,
                        sent,
                        answer
                    );
                }
                prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR);
                Ok(())
            })
        })
        .unwrap();
    rt.block_on(s.stop());
}
