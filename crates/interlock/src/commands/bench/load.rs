//! A closed-loop HTTP load generator: N clients, one keep-alive connection each, each
//! sending its next request as soon as the last was answered, for a fixed time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub clients: usize,
    pub seconds: f64,
    /// Answers with the expected status.
    pub ok: u64,
    /// Any other answer or a transport error.
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Runs `clients` loops for `warmup + duration`; only the part after the warm-up counts.
/// `body(i)` gives the i-th request body of a client.
pub async fn closed_loop(
    url: &str,
    token: Option<&str>,
    clients: usize,
    warmup: Duration,
    duration: Duration,
    expected: u16,
    body: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
) -> anyhow::Result<LoadResult> {
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        // One connection per client, as separate agents would have.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (url, token, body) = (url.to_owned(), token.map(str::to_owned), body.clone());
        let (counting, stop, done) = (counting.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::with_capacity(1 << 16);
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut i = (c as u64) << 32;
            while !stop.load(Ordering::Relaxed) {
                let mut req = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body(i));
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                i += 1;
                let started = Instant::now();
                let answer = req.send().await;
                let good = match answer {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        status == expected
                    }
                    Err(_) => false,
                };
                if counting.load(Ordering::Relaxed) {
                    latencies.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    if good {
                        ok += 1;
                    } else {
                        errors += 1;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            (latencies, ok, errors)
        }));
    }
    tokio::time::sleep(warmup).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let progress = tokio::spawn({
        let done = done.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let elapsed = started.elapsed().as_secs_f64();
                let bar =
                    "#".repeat(((elapsed / duration.as_secs_f64()) * 30.0).min(30.0) as usize);
                eprint!(
                    "\r  {clients:>3} clients [{bar:<30}] {:>8.0} req/s",
                    done.load(Ordering::Relaxed) as f64 / elapsed
                );
            }
        }
    });
    tokio::time::sleep(duration).await;
    counting.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    eprintln!();
    let (mut all, mut ok, mut errors) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, o, e) = t.await?;
        all.extend(l);
        ok += o;
        errors += e;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    Ok(LoadResult {
        clients,
        seconds,
        ok,
        errors,
        per_second: ok as f64 / seconds,
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        max_ms: all.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
    })
}
