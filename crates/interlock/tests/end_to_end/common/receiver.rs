//! A slow webhook receiver: records every delivery the moment it arrives, then takes its
//! time before answering 200, so that deliveries are in flight whenever a test looks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub idempotency_key: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Receiver {
    /// Where to point a webhook connector.
    pub url: String,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    delay: Duration,
    deliveries: Mutex<Vec<Delivery>>,
    /// Keys of the requests being answered, with how many of each.
    in_flight: Mutex<BTreeMap<String, usize>>,
}

/// Counts a request as in flight until its handler ends, however it ends (a client
/// that dies makes the server drop the handler mid-way).
struct InFlight(Arc<Inner>, String);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut in_flight = self.0.in_flight.lock().unwrap();
        if let Some(n) = in_flight.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&self.1);
            }
        }
    }
}

impl Receiver {
    pub async fn start(delay: Duration) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let inner = Arc::new(Inner {
            delay,
            deliveries: Mutex::new(Vec::new()),
            in_flight: Mutex::new(BTreeMap::new()),
        });
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", post(record))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.deliveries.lock().unwrap().clone()
    }

    /// Requests that arrived and have not been answered yet.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.lock().unwrap().values().sum()
    }

    /// The idempotency keys of the requests that arrived and have not been answered.
    pub fn in_flight_keys(&self) -> BTreeSet<String> {
        self.inner
            .in_flight
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// How many deliveries carried each idempotency key (`""` for none).
    pub fn count_by_key(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for d in self.inner.deliveries.lock().unwrap().iter() {
            *counts
                .entry(d.idempotency_key.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
        counts
    }
}

async fn record(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key = idempotency_key.clone().unwrap_or_default();
    *inner
        .in_flight
        .lock()
        .unwrap()
        .entry(key.clone())
        .or_insert(0) += 1;
    let _in_flight = InFlight(inner.clone(), key);
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.deliveries.lock().unwrap().push(Delivery {
        idempotency_key,
        body,
    });
    tokio::time::sleep(inner.delay).await;
    StatusCode::OK
}
