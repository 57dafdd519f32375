use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// The one source of time. Everything that needs "now" gets it from a clock that was
/// handed in, so tests advance a manual clock instead of sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// How long to really wait for `delta` of Interlock time to pass; `None` when time
    /// does not pass by itself (a manual clock), so waiters must be woken instead.
    fn real_wait(&self, delta: TimeDelta) -> Option<std::time::Duration>;

    /// How much Interlock time passes during `real` wall-clock time: retry back-offs are
    /// meant for real receivers, and are scheduled in Interlock time.
    fn elapsed_during(&self, real: std::time::Duration) -> TimeDelta {
        TimeDelta::from_std(real).unwrap_or(TimeDelta::MAX)
    }
}

/// Wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn real_wait(&self, delta: TimeDelta) -> Option<std::time::Duration> {
        Some(delta.to_std().unwrap_or_default())
    }
}

/// Time that moves only when a test moves it. Millisecond resolution.
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            millis: AtomicI64::new(start.timestamp_millis()),
        }
    }

    pub fn advance(&self, delta: TimeDelta) {
        self.millis
            .fetch_add(delta.num_milliseconds(), Ordering::SeqCst);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.millis.store(to.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.millis.load(Ordering::SeqCst)).unwrap_or_default()
    }

    fn real_wait(&self, _: TimeDelta) -> Option<std::time::Duration> {
        None
    }
}

/// Sped-up time for demos and black-box tests (SPEC §15): one real second is `scale`
/// seconds of Interlock time, counted from a recorded origin so time never runs backwards.
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    /// The real instant the origin was recorded.
    pub real_origin: DateTime<Utc>,
    /// The Interlock time at that real instant.
    pub interlock_origin: DateTime<Utc>,
    pub scale: u32,
}

impl ScaledClock {
    /// Interlock time at a given real instant.
    pub fn at(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        let elapsed_ms = (real - self.real_origin).num_milliseconds();
        self.interlock_origin
            + TimeDelta::milliseconds(elapsed_ms.saturating_mul(i64::from(self.scale)))
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        self.at(Utc::now())
    }

    fn real_wait(&self, delta: TimeDelta) -> Option<std::time::Duration> {
        let micros = delta.num_microseconds().unwrap_or(i64::MAX) / i64::from(self.scale.max(1));
        Some(std::time::Duration::from_micros(micros.max(0) as u64))
    }

    fn elapsed_during(&self, real: std::time::Duration) -> TimeDelta {
        TimeDelta::from_std(real.saturating_mul(self.scale)).unwrap_or(TimeDelta::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(TimeDelta::hours(4));
        assert_eq!(c.now(), t0 + TimeDelta::hours(4));
    }

    #[test]
    fn a_scaled_clock_runs_scale_times_faster_from_its_origin() {
        let real: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let c = ScaledClock {
            real_origin: real,
            interlock_origin: real + TimeDelta::days(1),
            scale: 3600,
        };
        assert_eq!(
            c.at(real + TimeDelta::seconds(2)),
            real + TimeDelta::days(1) + TimeDelta::hours(2)
        );
        assert_eq!(
            c.real_wait(TimeDelta::hours(1)),
            Some(std::time::Duration::from_secs(1))
        );
    }
}
