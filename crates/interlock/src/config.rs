//! Configuration in one struct: defaults, then a TOML file, then `INTERLOCK_…`
//! environment variables, then command-line flags.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://FILE` (or a plain file path).
    pub database_url: String,
    /// Address to serve HTTP on.
    pub listen: String,
    /// Speed-up for demos and black-box tests: one real second is N seconds of Interlock
    /// time. Off (1) by default. Recorded in the database on the first sped-up start.
    pub time_scale: u32,
    /// This node's name in job claims and audit chains.
    pub node: String,
    /// `text` or `json`.
    pub log_format: String,
    /// How many jobs (executions, timers) run at once.
    pub job_concurrency: usize,
    /// Execution attempts before an action is marked failed.
    pub max_execution_attempts: u32,
    /// Timeout of one webhook call, in seconds.
    pub connector_timeout_seconds: u64,
    /// How long a claimed job stays with a node before another may take it over, in
    /// seconds (real time). A node that died loses its work after this long.
    pub job_lease_seconds: u64,
    /// Proposals one API key may make per second on this node (sustained), and in a
    /// burst; more are answered 429.
    pub proposals_per_second: f64,
    pub proposal_burst: u32,
    /// Attempts to deliver one notification to one channel before it is marked failed.
    pub max_delivery_attempts: u32,
    /// The console's address, for links in notifications.
    pub public_url: Option<String>,
    /// Signs agent callbacks (`Interlock-Signature`, like webhooks).
    pub callback_secret: Option<Redacted>,
    /// The SMTP server for email channels that name none of their own.
    pub smtp: Option<interlock_store::SmtpServer>,
}

/// A secret from the config: kept as given, never shown by `Debug`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://interlock.db".to_owned(),
            listen: "127.0.0.1:8080".to_owned(),
            time_scale: 1,
            node: "local".to_owned(),
            log_format: "text".to_owned(),
            job_concurrency: 1024,
            max_execution_attempts: 6,
            connector_timeout_seconds: 10,
            job_lease_seconds: 60,
            proposals_per_second: 100.0,
            proposal_burst: 200,
            max_delivery_attempts: 8,
            public_url: None,
            callback_secret: None,
            smtp: None,
        }
    }
}

/// Whether an `INTERLOCK_…` variable names a setting. Others are not configuration and
/// are left alone: the demo's `INTERLOCK_URL`, `INTERLOCK_CONFIG` (the file itself), a
/// test harness's `INTERLOCK_TEST_…`.
fn is_setting(key: &figment::value::UncasedStr) -> bool {
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    defaults
        .as_object()
        .is_some_and(|fields| fields.keys().any(|f| key.as_str().eq_ignore_ascii_case(f)))
}

impl Config {
    /// Reads the layers; `file` is optional, a missing named file is an error.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(
                path.exists(),
                "the config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("INTERLOCK_").filter(is_setting))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        anyhow::ensure!(config.time_scale >= 1, "time_scale must be at least 1");
        anyhow::ensure!(
            matches!(config.log_format.as_str(), "text" | "json"),
            "log_format must be `text` or `json`"
        );
        Ok(config)
    }

    pub fn server_settings(&self) -> interlock_server::ServerSettings {
        interlock_server::ServerSettings {
            node: self.node.clone(),
            job_concurrency: self.job_concurrency.max(1),
            max_execution_attempts: self.max_execution_attempts.max(1),
            connector_timeout: std::time::Duration::from_secs(
                self.connector_timeout_seconds.max(1),
            ),
            job_lease: std::time::Duration::from_secs(self.job_lease_seconds.max(1)),
            proposals_per_second: self.proposals_per_second.max(0.001),
            proposal_burst: self.proposal_burst.max(1),
            max_delivery_attempts: self.max_delivery_attempts.max(1),
            public_url: self.public_url.clone(),
            callback_secret: self
                .callback_secret
                .as_ref()
                .map(|s| interlock_server::Secret(s.0.clone())),
            smtp: self.smtp.clone(),
            ..interlock_server::ServerSettings::default()
        }
    }
}

/// `interlock config default`: every setting with its default and what it does.
pub const DEFAULT_TOML: &str = r#"# Interlock configuration. Every setting may also be given as an environment variable
# INTERLOCK_<NAME> (e.g. INTERLOCK_DATABASE_URL), which wins over this file; command-line
# flags win over both.

# sqlite://FILE (the embedded default), a plain file path, or postgres://USER@HOST/DB
# for a node of a cluster (see docs/cluster.md).
database_url = "sqlite://interlock.db"

# Address to serve HTTP on.
listen = "127.0.0.1:8080"

# Speed-up for demos and black-box tests: one real second is N seconds of Interlock time
# (3600 makes a 1-hour time bomb fire after about a second). 1 is off. The first start
# with a speed-up records it in the database; later starts must use the same.
time_scale = 1

# This node's name: it claims jobs and writes its own audit chains under it. Unique per
# running node: a starting node takes back the jobs its name held when it last stopped.
# On PostgreSQL a second process under a running node's name is refused.
node = "local"

# Logs: "text" for people, "json" for log collectors.
log_format = "text"

# How many jobs (executions, timers, plan checks) run at once. Most of a job's time is
# spent waiting (on a group commit, or on a webhook), so this is far above the CPU count:
# on PostgreSQL, where each commit is a round trip away, 128 capped a node's time bombs
# at about 4,000 executions/s; 1,024 let it reach about 7,000 (BENCHMARKS.md).
job_concurrency = 1024

# Execution attempts (with exponential back-off) before an action is marked failed.
max_execution_attempts = 6

# Timeout of one webhook call, in seconds.
connector_timeout_seconds = 10

# How long a claimed job (an execution, a timer) stays with a node before another node,
# or this one after a restart, may take it over. Keep it well above the webhook timeout.
job_lease_seconds = 60

# Proposals one API key may make per second on this node, sustained and in a burst
# (a runaway agent is slowed down with 429s; each node counts its own).
proposals_per_second = 100.0
proposal_burst = 200

# Attempts (with exponential back-off) to deliver one notification to one channel before
# it is marked failed with its error.
max_delivery_attempts = 8

# The console's address: notifications link to its actions (e.g. .../actions/<id>).
# public_url = "https://interlock.ourco.example"

# Signs agent callbacks like webhook deliveries (Interlock-Signature). Without it,
# callbacks go unsigned.
# callback_secret = "a long random string"

# The SMTP server of email channels that name none of their own. tls: none, starttls
# (default) or tls. Environment: INTERLOCK_SMTP='{host="…",port=587,from="…"}'.
# [smtp]
# host = "smtp.ourco.example"
# port = 587
# from = "Interlock <interlock@ourco.example>"
# username = "interlock"
# password = "…"
# tls = "starttls"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_default_file_reads_back_as_the_defaults() {
        let parsed: Config = toml_from(DEFAULT_TOML);
        let d = Config::default();
        assert_eq!(parsed.database_url, d.database_url);
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(parsed.time_scale, d.time_scale);
        assert_eq!(parsed.job_concurrency, d.job_concurrency);
        assert_eq!(parsed.proposals_per_second, d.proposals_per_second);
        assert_eq!(parsed.proposal_burst, d.proposal_burst);
    }

    fn toml_from(text: &str) -> Config {
        Figment::from(Toml::string(text)).extract().unwrap()
    }
}
