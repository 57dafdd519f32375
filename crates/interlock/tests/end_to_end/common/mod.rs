//! The harness for end-to-end tests: the real `interlock` binary as child processes
//! (killed when their guard drops), a temporary SQLite file per test, a typed-enough
//! HTTP client, and a slow local webhook receiver. Nothing here sleeps to synchronise:
//! every wait polls for a condition until a deadline.

pub mod api;
pub mod cli;
pub mod db;
pub mod receiver;
pub mod server;

use std::time::{Duration, Instant};

/// How often a waiting test looks again.
pub const POLL: Duration = Duration::from_millis(20);

/// Polls `check` until it answers `Some`, for at most `within`; panics naming `what`.
pub async fn wait_until<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The rule file every sped-up test uses: the worked example, with the time-bomb band
/// shortened to one hour (about one real second at `--time-scale 3600`). A one-hour bomb
/// cannot have the default one-hour final warning, so that is off.
pub fn fast_rules() -> serde_json::Value {
    serde_json::json!({
        "currency": "USD",
        "categories": {
            "REFUND": {
                "level": "human_approval",
                "time_bomb": {"duration": "1h", "remind_at_50": true, "remind_at_90": true, "final_warning": null},
                "thresholds": [
                    {"below": "50.00", "level": "autonomous"},
                    {"from": "50.00", "to": "500.00", "level": "time_bomb", "duration": "1h"},
                    {"above": "500.00", "level": "human_approval"}
                ]
            }
        }
    })
}

/// A refund proposal body for `amount` (a decimal string, USD).
pub fn refund(amount: &str) -> serde_json::Value {
    serde_json::json!({
        "category": "REFUND",
        "title": format!("Refund {amount} to Acme"),
        "rationale": "Duplicate charge on the March invoice",
        "payload": {"customer_id": "cus_42", "amount": amount, "currency": "USD", "kind": "partial", "reason": "duplicate charge"},
    })
}

/// The worked example from the repository's `examples/`.
pub fn worked_example_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rules.json")
}
