//! Latency percentiles from every recorded request (no sampling, no histogram buckets).

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles of latencies given in microseconds.
    pub fn of(mut micros: Vec<u32>) -> Latency {
        if micros.is_empty() {
            return Latency::default();
        }
        micros.sort_unstable();
        let ms = |us: u32| f64::from(us) / 1000.0;
        let rank = |p: f64| {
            let n = micros.len();
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            ms(micros[i])
        };
        let sum: u64 = micros.iter().map(|&us| u64::from(us)).sum();
        Latency {
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p99_ms: rank(0.99),
            max_ms: ms(micros[micros.len() - 1]),
            mean_ms: sum as f64 / micros.len() as f64 / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_over_every_sample() {
        let l = Latency::of((1..=1000).map(|ms| ms * 1000).collect());
        assert_eq!(l.p50_ms, 500.0);
        assert_eq!(l.p90_ms, 900.0);
        assert_eq!(l.p99_ms, 990.0);
        assert_eq!(l.max_ms, 1000.0);
        assert_eq!(l.mean_ms, 500.5);
    }

    #[test]
    fn no_samples_give_zeros_rather_than_a_panic() {
        assert_eq!(Latency::of(Vec::new()).max_ms, 0.0);
    }
}
