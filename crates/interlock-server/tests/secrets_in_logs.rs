//! Secrets never reach the logs: every log line of a server run through keys, logins,
//! connectors and failures is captured at TRACE level and searched for them.

#[expect(
    dead_code,
    reason = "this binary uses only part of the shared HTTP harness"
)]
#[path = "api/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_key_password_session_or_connector_secret_appears_in_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let s = TestServer::start().await;
    let password = "a very secret passphrase 42";
    let personal = s
        .person("ana@example.com", "manager", &["support"], Some(password))
        .await;
    let webhook_secret = "whsec_do_not_log_me_0123";
    s.put(
        "/v1/teams/support/connectors/REFUND",
        &s.admin,
        json!({"kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": webhook_secret}),
    )
    .await;
    let (_, created) = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"kind": "agent", "team": "support"}),
        )
        .await;
    let new_key = created["secret"].as_str().unwrap().to_owned();
    let a = s.propose_refund("10.00").await;
    s.get("/v1/actions", &new_key).await;
    s.get("/v1/actions", &personal).await;
    // Failed calls log too: a wrong secret, a failing webhook.
    s.get(
        "/v1/actions",
        &format!("{}.{}", &s.agent[..20], "0".repeat(64)),
    )
    .await;
    s.wait_for(&id_of(&a), |v| v["attempts"].as_u64().unwrap_or(0) >= 1)
        .await;
    // A console sign-in.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http.get(format!("{}/login", s.base)).send().await.unwrap();
    let login_cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = form.text().await.unwrap();
    let at = html.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    let csrf = html[at..].split('"').next().unwrap().to_owned();
    let signed_in = http
        .post(format!("{}/login", s.base))
        .header("cookie", login_cookie)
        .form(&[
            ("email", "ana@example.com"),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    let (admin, agent) = (s.admin.clone(), s.agent.clone());
    let export = s
        .http
        .get(format!("{}/v1/audit/export", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, keys) = s.get("/v1/keys", &admin).await;
    let (_, users) = s.get("/v1/users", &admin).await;
    let (_, connectors) = s.get("/v1/teams/support/connectors", &admin).await;
    s.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.len() > 1000, "the logs were not captured: {logs}");
    let secret_of = |token: &str| token.split('.').nth(1).unwrap().to_owned();
    for (what, secret) in [
        ("admin key", secret_of(&admin)),
        ("agent key", secret_of(&agent)),
        ("personal key", secret_of(&personal)),
        ("new key", secret_of(&new_key)),
        ("password", password.to_owned()),
        ("webhook secret", webhook_secret.to_owned()),
        ("session token", session),
    ] {
        assert!(!logs.contains(&secret), "the {what} appears in the logs");
        assert!(
            !export.contains(&secret),
            "the {what} appears in the audit trail"
        );
        for listing in [&keys, &users, &connectors] {
            assert!(
                !listing.to_string().contains(&secret),
                "the {what} appears in an API answer"
            );
        }
    }
}
