//! The printed table and the JSON document of a `bench proposals` run.

use std::fmt;

use serde::Serialize;

use super::baselines::CommitCeiling;
use super::load::LoadResult;
use super::machine::Machine;
use super::metrics::Executions;

/// What a run is held to, at 64 clients.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Goal {
    pub clients: usize,
    pub per_second: f64,
    pub p99_ms: Option<f64>,
}

impl Goal {
    /// The embedded default (SQLite): at least 10,000 proposals/s with p99 under 20 ms.
    pub const SQLITE: Goal = Goal {
        clients: 64,
        per_second: 10_000.0,
        p99_ms: Some(20.0),
    };
    /// One node of a cluster on PostgreSQL: at least 5,000 proposals/s.
    pub const POSTGRES_NODE: Goal = Goal {
        clients: 64,
        per_second: 5_000.0,
        p99_ms: None,
    };
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub load_average_at_end: f64,
    pub server: String,
    pub mix: String,
    pub warmup_seconds: u64,
    pub measured_seconds: u64,
    pub rows: Vec<Row>,
    pub commit_ceiling: Option<CommitCeiling>,
    pub noop_http: Vec<LoadResult>,
    pub target: Goal,
}

#[derive(Debug, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub result: LoadResult,
    /// Only known for an in-process server.
    pub executions: Option<Executions>,
}

impl Report {
    /// Whether the target's row (64 clients) meets it; `None` without such a row.
    pub fn target_met(&self) -> Option<bool> {
        let t = self.target;
        self.rows
            .iter()
            .find(|r| r.result.clients == t.clients)
            .map(|r| {
                r.result.per_second >= t.per_second
                    && t.p99_ms.is_none_or(|p99| r.result.latency.p99_ms < p99)
                    && r.result.error_count() == 0
            })
    }
}

/// 12345.6 → "12,346".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        writeln!(f)?;
        writeln!(f, "Durable proposals over HTTP")?;
        writeln!(
            f,
            "machine: {} CPUs, {}, {:.1} GiB; load average {:.2} at start, {:.2} at end",
            m.cpus, m.cpu_model, m.memory_gib, m.load_average_at_start, self.load_average_at_end
        )?;
        writeln!(
            f,
            "         the load generator runs on this same machine and takes CPU from the server"
        )?;
        writeln!(f, "server:  {}", self.server)?;
        writeln!(f, "mix:     {}", self.mix)?;
        writeln!(
            f,
            "method:  closed loop, one keep-alive connection per client; {} s warm-up, then {} s measured; only 201s count",
            self.warmup_seconds, self.measured_seconds
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| clients | proposals/s | p50 ms | p90 ms | p99 ms | max ms | errors | CPU µs/proposal (client) |"
        )?;
        writeln!(f, "|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for r in &self.rows {
            let x = &r.result;
            writeln!(
                f,
                "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} ({:.0}) |",
                x.clients,
                thousands(x.per_second),
                x.latency.p50_ms,
                x.latency.p90_ms,
                x.latency.p99_ms,
                x.latency.max_ms,
                errors(x),
                x.process_cpu_us_per_ok,
                x.client_cpu_us_per_ok
            )?;
        }
        let executions: Vec<_> = self
            .rows
            .iter()
            .filter_map(|r| r.executions.map(|e| (r.result.clients, e)))
            .collect();
        if !executions.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "Scheduler (autonomous proposals executed through the log connector, warm-up included):"
            )?;
            writeln!(
                f,
                "| clients | autonomous | executed meanwhile | backlog at end | caught up after | mean commit batch |"
            )?;
            writeln!(f, "|---:|---:|---:|---:|---:|---:|")?;
            for (clients, e) in executions {
                writeln!(
                    f,
                    "| {clients} | {} | {} | {} | {:.1} s | {:.1} |",
                    thousands(e.autonomous_proposed as f64),
                    thousands(e.executed as f64),
                    thousands(e.backlog_at_end as f64),
                    e.drain_seconds,
                    e.mean_commit_batch
                )?;
            }
        }
        if self.commit_ceiling.is_some() || !self.noop_http.is_empty() {
            writeln!(f)?;
            writeln!(f, "Baselines, same run:")?;
        }
        if let Some(c) = &self.commit_ceiling {
            writeln!(
                f,
                "- {}, one proposal per commit (sequential insert_actions of one, {:.0} s): {} proposals/s",
                c.database,
                c.seconds,
                thousands(c.per_second)
            )?;
        }
        if !self.noop_http.is_empty() {
            writeln!(
                f,
                "- HTTP ceiling: a no-op axum handler, same clients, same request and answer bodies:"
            )?;
            writeln!(f)?;
            writeln!(
                f,
                "| clients | requests/s | p50 ms | p99 ms | max ms | errors |"
            )?;
            writeln!(f, "|---:|---:|---:|---:|---:|---:|")?;
            for x in &self.noop_http {
                writeln!(
                    f,
                    "| {} | {} | {:.2} | {:.2} | {:.2} | {} |",
                    x.clients,
                    thousands(x.per_second),
                    x.latency.p50_ms,
                    x.latency.p99_ms,
                    x.latency.max_ms,
                    errors(x)
                )?;
            }
        }
        if let Some(met) = self.target_met() {
            writeln!(f)?;
            let t = self.target;
            let p99 = t
                .p99_ms
                .map(|ms| format!(", p99 < {ms:.0} ms"))
                .unwrap_or_default();
            writeln!(
                f,
                "Target ({} clients: ≥ {} proposals/s{p99}, no errors): {}",
                t.clients,
                thousands(t.per_second),
                if met { "met" } else { "NOT met" }
            )?;
        }
        Ok(())
    }
}

fn errors(x: &LoadResult) -> String {
    if x.errors.is_empty() {
        return "0".to_owned();
    }
    x.errors
        .iter()
        .map(|(k, v)| format!("{v}×{k}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_printed_with_thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(12_345.6), "12,346");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }
}
