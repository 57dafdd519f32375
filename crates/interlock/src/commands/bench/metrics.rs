//! The in-process server's own counters, read from its Prometheus recorder: how many
//! autonomous proposals it took, how many of them its scheduler has executed, and how
//! big its group-commit batches were.

use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub autonomous: f64,
    pub executed: f64,
    pub failed: f64,
    pub batch_sum: f64,
    pub batch_count: f64,
}

impl Counters {
    pub fn read(handle: &PrometheusHandle) -> Counters {
        let text = handle.render();
        let value = |series: &str| -> f64 {
            text.lines()
                .filter_map(|l| l.strip_prefix(series))
                .filter_map(|rest| rest.strip_prefix(' '))
                .find_map(|v| v.trim().parse().ok())
                .unwrap_or(0.0)
        };
        Counters {
            autonomous: value(r#"interlock_proposals_total{level="autonomous"}"#),
            executed: value(r#"interlock_executions_total{outcome="executed"}"#),
            failed: value(r#"interlock_executions_total{outcome="failed"}"#),
            batch_sum: value("interlock_commit_batch_size_sum"),
            batch_count: value("interlock_commit_batch_size_count"),
        }
    }

    /// Executions still owed: autonomous proposals not yet executed (or failed).
    pub fn backlog(&self) -> f64 {
        (self.autonomous - self.executed - self.failed).max(0.0)
    }
}

/// What the scheduler did during one client count's run (warm-up included).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Executions {
    pub autonomous_proposed: u64,
    pub executed: u64,
    /// Autonomous actions still waiting for their execution when the clients stopped.
    pub backlog_at_end: u64,
    /// How long the scheduler then took to catch up (before the next client count).
    pub drain_seconds: f64,
    /// Mean proposals per group commit.
    pub mean_commit_batch: f64,
}

impl Executions {
    pub fn between(before: Counters, at_end: Counters, drain_seconds: f64) -> Executions {
        let batches = at_end.batch_count - before.batch_count;
        Executions {
            autonomous_proposed: (at_end.autonomous - before.autonomous) as u64,
            executed: (at_end.executed - before.executed) as u64,
            backlog_at_end: at_end.backlog() as u64,
            drain_seconds,
            mean_commit_batch: if batches > 0.0 {
                (at_end.batch_sum - before.batch_sum) / batches
            } else {
                0.0
            },
        }
    }
}
