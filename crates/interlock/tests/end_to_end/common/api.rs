//! A small JSON client for a running server.

use reqwest::StatusCode;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        // reqwest is built without a default crypto provider; this binary picks ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("an HTTP client"),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status();
        let text = resp.text().await.expect("a readable body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, token, Some(body))
            .await
    }

    /// Opens the live stream `GET /v1/events`.
    pub async fn events(&self, token: &str) -> Events {
        let resp = self
            .http
            .get(format!("{}/v1/events", self.base))
            .bearer_auth(token)
            .timeout(std::time::Duration::from_secs(3600))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(resp.status(), StatusCode::OK);
        Events {
            resp,
            buffer: String::new(),
        }
    }

    /// Every action of `team`, following cursors.
    pub async fn all_actions(&self, team: &str, token: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/actions?team={team}&limit=500");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = self.get(&path, token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            all.extend(body["actions"].as_array().cloned().unwrap_or_default());
            cursor = body["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                return all;
            }
        }
    }
}

/// A live stream of server-sent events.
#[derive(Debug)]
pub struct Events {
    resp: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The data of the next `action` event.
    pub async fn next_event(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:"))
                    && event
                        .lines()
                        .any(|l| l == "event: action" || l == "event:action")
                {
                    return serde_json::from_str(data.trim()).expect("JSON event data");
                }
                continue;
            }
            let chunk = self
                .resp
                .chunk()
                .await
                .expect("the stream stays readable")
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
