//! What every handler and background task shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use interlock_core::Clock;
use interlock_store::Store;
use tokio::sync::Notify;

use crate::caches::{ConnectorCache, RulesCache, TeamCache};
use crate::events::EventBus;
use crate::service::commit::Committer;

/// Settings the running server needs (the binary fills them from its config).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// This node's name: it claims jobs and writes its own audit chains under it.
    pub node: String,
    /// How many jobs one node works on at once.
    pub job_concurrency: usize,
    /// How long a claimed job is held before another node may take it over.
    pub job_lease: Duration,
    /// How often the scheduler looks for due work when nothing wakes it.
    pub poll_interval: Duration,
    /// Automatic execution attempts before an action is marked failed.
    pub max_execution_attempts: u32,
    /// First retry delay (real time); doubles per attempt, with jitter.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Timeout of one webhook call.
    pub connector_timeout: Duration,
    /// Largest group-commit batch of proposals.
    pub max_commit_batch: usize,
    /// Proposals one key may make per second (sustained), and in a burst: a runaway agent
    /// is slowed down with 429s.
    pub proposals_per_second: f64,
    pub proposal_burst: u32,
    /// Login attempts one client address may make per minute.
    pub logins_per_minute: u32,
    /// Attempts to deliver one notification to one channel before it is marked failed.
    pub max_delivery_attempts: u32,
    /// The console's address, for links in notifications (`https://interlock.ourco.example`).
    pub public_url: Option<String>,
    /// Signs agent callbacks like webhook deliveries; without it they go unsigned.
    pub callback_secret: Option<Secret>,
    /// The deployment's SMTP server, for email channels that name none of their own.
    pub smtp: Option<interlock_store::SmtpServer>,
}

/// A secret that never shows in `Debug` output (and so in no log line).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            node: "local".to_owned(),
            job_concurrency: 1024,
            job_lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            max_execution_attempts: 6,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(300),
            connector_timeout: Duration::from_secs(10),
            max_commit_batch: 512,
            proposals_per_second: 100.0,
            proposal_burst: 200,
            logins_per_minute: 10,
            max_delivery_attempts: 8,
            public_url: None,
            callback_secret: None,
            smtp: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ServerSettings>,
    pub events: EventBus,
    pub committer: Committer,
    pub rules: RulesCache,
    pub connectors: ConnectorCache,
    pub teams: TeamCache,
    pub key_usage: Arc<KeyUsage>,
    /// Wakes the scheduler when work became due now (a proposal, an approval).
    pub wake: Arc<Notify>,
    pub http: reqwest::Client,
    pub proposal_limits: Arc<crate::limits::RateLimiter>,
    pub login_limits: Arc<crate::limits::RateLimiter>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// Records a key's last use at most once a minute, so reads stay reads.
#[derive(Debug, Default)]
pub struct KeyUsage {
    last_touch: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl KeyUsage {
    pub async fn touch(&self, store: &Arc<dyn Store>, key_id: &str, now: DateTime<Utc>) {
        {
            let mut seen = self.last_touch.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(last) = seen.get(key_id)
                && now - *last < chrono::TimeDelta::minutes(1)
            {
                return;
            }
            seen.insert(key_id.to_owned(), now);
        }
        if let Err(e) = store.touch_key(key_id, now).await {
            tracing::warn!(error = %e, "could not record a key's last use");
        }
    }
}
