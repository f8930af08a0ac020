//! The one clock. Nothing else in the product reads the system time: the store stamps rows
//! with [`Clock::now`], the web layer asks the same clock for "today", and tests move it on
//! (book sessions, then hold them a week later) and every feature moves with it. The tidy test
//! `crates/store/tests/store/tidy.rs` fails if the system clock is read anywhere else.

use alongside_core::time::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The application's clock: the system clock, shifted by an offset that tests set to move
/// time on. Debug builds also take a starting instant from `ALONGSIDE_TEST_NOW` (RFC 3339)
/// for browser tests; release builds never do. Clones share one offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
}

/// The system clock itself (microseconds since the Unix epoch, UTC). Only [`Clock`] calls it.
fn system_micros() -> i64 {
    Timestamp::from_datetime(time::OffsetDateTime::now_utc()).0
}

/// The wall clock, never moved by tests: for what must follow real time whatever a test does
/// to the application's clock — session expiry, sign-in throttling and the audit chain's
/// stamps (the chain records when things really happened).
pub fn wall_micros() -> i64 {
    system_micros()
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        Timestamp(system_micros() + self.offset_micros.load(Ordering::Relaxed))
    }
    /// Now, in microseconds since the Unix epoch (how the store stamps rows).
    pub fn now_micros(&self) -> i64 {
        self.now().0
    }
    /// Today's date in Europe/London.
    pub fn today(&self) -> time::Date {
        alongside_core::coaching::london_local(self.now()).0
    }
    /// Makes it `at` now; time then runs on from there.
    pub fn set(&self, at: Timestamp) {
        self.offset_micros
            .store(at.0 - system_micros(), Ordering::Relaxed);
    }
    pub fn advance_days(&self, days: i64) {
        self.offset_micros
            .fetch_add(days * 86_400 * 1_000_000, Ordering::Relaxed);
    }
    /// The system clock, or in debug builds the instant in `ALONGSIDE_TEST_NOW` if set.
    pub fn from_env() -> Clock {
        let c = Clock::default();
        if cfg!(debug_assertions) {
            if let Ok(v) = std::env::var("ALONGSIDE_TEST_NOW") {
                if let Ok(t) =
                    time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                {
                    c.set(Timestamp::from_datetime(t));
                }
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together() {
        let a = Clock::default();
        let b = a.clone();
        let before = b.now().0;
        a.advance_days(7);
        let after = b.now().0;
        assert!(after - before >= 7 * 86_400 * 1_000_000, "{before} {after}");
        a.set(Timestamp(1_000_000));
        assert!((b.now().0 - 1_000_000).abs() < 60_000_000);
    }
}
