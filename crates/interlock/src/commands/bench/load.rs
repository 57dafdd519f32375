//! A closed-loop HTTP load generator: N clients, one keep-alive connection each, each
//! sending its next request as soon as the previous answer has been read, like N agents
//! that each wait for their answer. Every request's latency is recorded.
//!
//! Clients start together and run through a warm-up (connections opened, caches and
//! the database warmed), then a measured window. A request counts when it started and
//! finished inside the window; the one in flight at each edge is left out.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use tokio::time::Instant;

use super::latency::Latency;
use super::machine::CpuTime;

/// Where to send what.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub bearer: Option<String>,
    /// Request bodies; client `c` sends them in order starting at an offset of its own.
    pub bodies: Arc<[Bytes]>,
    /// The answer that counts as a success (201 for a new proposal).
    pub success: u16,
}

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub clients: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub clients: usize,
    pub seconds: f64,
    /// Answers with the success status inside the window.
    pub ok: u64,
    /// Every other outcome inside the window, by status code (`transport` for a failed
    /// connection or read).
    pub errors: BTreeMap<String, u64>,
    pub per_second: f64,
    /// Latencies of the successful requests.
    pub latency: Latency,
    /// CPU time of this whole process per successful request, in microseconds.
    pub process_cpu_us_per_ok: f64,
    /// Of that, the load generator's own threads.
    pub client_cpu_us_per_ok: f64,
}

impl LoadResult {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// What each client hands back.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

/// Runs the clients; call it on the load generator's own runtime.
pub async fn run(target: Target, schedule: Schedule, label: String) -> anyhow::Result<LoadResult> {
    let bearer = target
        .bearer
        .as_deref()
        .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
        .transpose()?;
    let start = Instant::now() + schedule.warmup;
    let end = start + schedule.measure;
    let counted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::with_capacity(schedule.clients);
    for c in 0..schedule.clients {
        // Its own client, so its own connection: separate agents share nothing.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let (target, bearer) = (target.clone(), bearer.clone());
        let (counted, failed) = (counted.clone(), failed.clone());
        clients.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let n = target.bodies.len();
            // Spread the clients over the body sequence, so the mix holds at any moment.
            let mut i = c * n / schedule.clients.max(1);
            loop {
                let mut req = http
                    .post(&target.url)
                    .header(CONTENT_TYPE, "application/json")
                    .body(target.bodies[i % n].clone());
                if let Some(b) = &bearer {
                    req = req.header(AUTHORIZATION, b.clone());
                }
                i += 1;
                let sent = Instant::now();
                let outcome = match req.send().await {
                    Ok(answer) => {
                        let status = answer.status().as_u16();
                        // The latency includes reading the whole answer.
                        answer.bytes().await.map_or(None, |_| Some(status))
                    }
                    Err(_) => None,
                };
                let done = Instant::now();
                if done >= end {
                    break;
                }
                if sent < start {
                    continue;
                }
                match outcome {
                    Some(s) if s == target.success => {
                        tally.ok += 1;
                        let us = (done - sent).as_micros();
                        tally
                            .latencies_us
                            .push(u32::try_from(us).unwrap_or(u32::MAX));
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        let key = other.map_or_else(|| "transport".to_owned(), |s| s.to_string());
                        *tally.errors.entry(key).or_default() += 1;
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            tally
        }));
    }

    tokio::time::sleep_until(start).await;
    let cpu_at_start = CpuTime::now();
    progress(&label, schedule, start, end, &counted, &failed).await;
    let cpu = CpuTime::now().since(cpu_at_start);

    let mut total = Tally::default();
    for c in clients {
        let t = c.await?;
        total.latencies_us.extend(t.latencies_us);
        total.ok += t.ok;
        for (k, v) in t.errors {
            *total.errors.entry(k).or_default() += v;
        }
    }
    let seconds = schedule.measure.as_secs_f64();
    let per_ok = |cpu_s: f64| cpu_s * 1e6 / total.ok.max(1) as f64;
    Ok(LoadResult {
        clients: schedule.clients,
        seconds,
        ok: total.ok,
        per_second: total.ok as f64 / seconds,
        latency: Latency::of(total.latencies_us),
        errors: total.errors,
        process_cpu_us_per_ok: per_ok(cpu.process),
        client_cpu_us_per_ok: per_ok(cpu.client),
    })
}

/// Waits out the measured window, showing the rate so far on a terminal.
async fn progress(
    label: &str,
    schedule: Schedule,
    start: Instant,
    end: Instant,
    counted: &AtomicU64,
    failed: &AtomicU64,
) {
    let live = std::io::stderr().is_terminal();
    let total = schedule.measure.as_secs_f64();
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if live {
            let elapsed = (now - start).as_secs_f64().max(0.001);
            eprint!(
                "\r  {label}: {:>4.1}/{total:.0} s  {:>8.0}/s  errors {}   ",
                elapsed,
                counted.load(Ordering::Relaxed) as f64 / elapsed,
                failed.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep_until((now + Duration::from_millis(500)).min(end)).await;
    }
    if live {
        eprint!("\r{}\r", " ".repeat(72));
    }
}
