//! A real server for HTTP tests: a temporary SQLite file, a manual clock, real HTTP on
//! 127.0.0.1:0, and a local receiver for webhooks.

pub mod browser;
pub mod console;
pub mod receiver;
pub mod smtp;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use interlock_core::ManualClock;
use interlock_server::service::{admin, people};
use interlock_server::{Running, ServerSettings};
use interlock_store::{Actor, Store};
use interlock_store_sqlite::SqliteStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const WORKED_EXAMPLE: &str = include_str!("../../../../../examples/rules.json");

pub fn t0() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

pub struct TestServer {
    pub running: Option<Running>,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub base: String,
    pub http: reqwest::Client,
    /// An admin service key (the owner's rights).
    pub admin: String,
    /// An agent key of team `support` (worked-example rules).
    pub agent: String,
    /// A second agent key of team `support`.
    pub agent2: String,
    /// An agent key of team `sales` (conservative rules).
    pub sales_agent: String,
    pub _dir: tempfile::TempDir,
}

pub fn settings() -> ServerSettings {
    ServerSettings {
        poll_interval: Duration::from_millis(20),
        retry_base: Duration::from_millis(50),
        retry_cap: Duration::from_millis(400),
        connector_timeout: Duration::from_secs(2),
        ..ServerSettings::default()
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(settings()).await
    }

    pub async fn start_with(settings: ServerSettings) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("interlock.db").display());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await.unwrap());
        store.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let setup = Actor::system("test");
        let support = admin::create_team(store.as_ref(), "support", "Support", &setup, t0())
            .await
            .unwrap();
        let sales = admin::create_team(store.as_ref(), "sales", "Sales", &setup, t0())
            .await
            .unwrap();
        let store_ref = store.as_ref();
        let key = async |new: admin::NewKey<'_>| {
            admin::create_key(store_ref, new, &setup, t0())
                .await
                .unwrap()
                .token
        };
        let admin = key(admin::NewKey::admin()).await;
        let agent = key(admin::NewKey::agent(&support)).await;
        let agent2 = key(admin::NewKey::agent(&support)).await;
        let sales_agent = key(admin::NewKey::agent(&sales)).await;
        let state =
            interlock_server::build_state(store.clone(), clock.clone(), settings, None).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = interlock_server::start(state, listener).await.unwrap();
        let server = TestServer {
            base: format!("http://{}", running.addr),
            running: Some(running),
            clock,
            store,
            http: reqwest::Client::new(),
            admin,
            agent,
            agent2,
            sales_agent,
            _dir: dir,
        };
        let worked: Value = serde_json::from_str(WORKED_EXAMPLE).unwrap();
        let (status, body) = server
            .put("/v1/teams/support/rules", &server.admin.clone(), worked)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        server
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, token, Some(body))
            .await
    }

    /// Proposes a refund for team support as the first agent; asserts it was created.
    pub async fn propose_refund(&self, amount: &str) -> Value {
        let (status, body) = self
            .post("/v1/actions", &self.agent.clone(), refund(amount))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Moves Interlock time on and lets the scheduler look.
    pub fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
        self.running.as_ref().unwrap().wake();
    }

    /// Polls an action until `pred` holds, for at most 10 real seconds.
    pub async fn wait_for(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self
                .get(&format!("/v1/actions/{id}"), &self.admin.clone())
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if pred(&body) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting; last: {body:#}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait_for(id, |b| b["status"] == status).await
    }

    /// The audit entries recorded for an action, oldest first.
    pub async fn audit_entries(&self, id: &str) -> Vec<Value> {
        let (status, body) = self
            .get(
                &format!("/v1/audit?action={id}&limit=500"),
                &self.admin.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut entries = body["entries"].as_array().unwrap().clone();
        entries.reverse();
        entries
    }

    /// The audit event types recorded for an action, oldest first.
    pub async fn audit_types(&self, id: &str) -> Vec<String> {
        self.audit_entries(id)
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The transitions the audit trail records for an action, oldest first: each entry's
    /// type, from, to and version.
    pub async fn audit_transitions(&self, id: &str) -> Vec<(String, String, String, u64)> {
        self.audit_entries(id)
            .await
            .iter()
            .filter(|e| e["data"]["from"].is_string())
            .map(|e| {
                let d = &e["data"];
                (
                    e["type"].as_str().unwrap().to_owned(),
                    d["from"].as_str().unwrap().to_owned(),
                    d["to"].as_str().unwrap().to_owned(),
                    d["version"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// Adds a person (with an optional password) and returns a personal key for them.
    pub async fn person(
        &self,
        email: &str,
        role: &str,
        teams: &[&str],
        password: Option<&str>,
    ) -> String {
        let setup = Actor::system("test");
        let slugs: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        let ids = people::team_ids(self.store.as_ref(), &slugs).await.unwrap();
        let role = people::parse_role(role).unwrap();
        let user = people::add(
            self.store.as_ref(),
            email,
            role,
            ids,
            password,
            &setup,
            t0(),
        )
        .await
        .unwrap();
        admin::create_key(
            self.store.as_ref(),
            admin::NewKey::personal(user.id),
            &setup,
            t0(),
        )
        .await
        .unwrap()
        .token
    }

    /// Stops the server, moves Interlock time on while it is down, and starts it again
    /// on the same database (the clock, the store and the settings carry over).
    pub async fn restart_after(&mut self, down_for: TimeDelta, settings: ServerSettings) {
        self.running.take().unwrap().shutdown().await;
        self.clock.advance(down_for);
        let state =
            interlock_server::build_state(self.store.clone(), self.clock.clone(), settings, None)
                .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = interlock_server::start(state, listener).await.unwrap();
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

pub fn refund(amount: &str) -> Value {
    json!({
        "category": "REFUND",
        "title": format!("Refund {amount} to Acme"),
        "rationale": "Duplicate charge on the March invoice",
        "payload": {"customer_id": "cus_42", "amount": amount, "currency": "USD", "kind": "partial", "reason": "duplicate charge"},
    })
}

pub fn email() -> Value {
    json!({
        "category": "SEND_EMAIL",
        "title": "Apologise to Acme",
        "payload": {"to": ["ops@acme.example"], "subject": "Sorry about the outage", "text": "We are sorry."},
    })
}

/// One step of [`TestServer::audit_transitions`].
pub fn step(event: &str, from: &str, to: &str, version: u64) -> (String, String, String, u64) {
    (event.to_owned(), from.to_owned(), to.to_owned(), version)
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}
