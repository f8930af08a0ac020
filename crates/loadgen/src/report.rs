//! The report: throughput of acknowledged requests, latency percentiles and errors.

use std::time::Duration;

pub(crate) struct Report {
    noun: &'static str,
    pub(crate) acknowledged: u64,
    errors: u64,
    elapsed: Duration,
    sorted_us: Vec<u64>,
}

impl Report {
    pub(crate) fn new(
        mut latencies_us: Vec<u64>,
        errors: u64,
        elapsed: Duration,
        noun: &'static str,
    ) -> Report {
        latencies_us.sort_unstable();
        Report {
            noun,
            acknowledged: latencies_us.len() as u64,
            errors,
            elapsed,
            sorted_us: latencies_us,
        }
    }

    /// Nearest-rank percentile in milliseconds.
    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        if self.sorted_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.sorted_us.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.sorted_us.len()) - 1;
        self.sorted_us[i] as f64 / 1000.0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(f, "Duration       {secs:.2} s")?;
        writeln!(f, "Acknowledged   {} {}", self.acknowledged, self.noun)?;
        writeln!(f, "Errors         {}", self.errors)?;
        writeln!(
            f,
            "Throughput     {:.1} {}/s",
            self.acknowledged as f64 / secs.max(1e-9),
            self.noun
        )?;
        writeln!(
            f,
            "Latency (ms)   p50 {:.1}   p95 {:.1}   p99 {:.1}   max {:.1}",
            self.percentile_ms(50.0),
            self.percentile_ms(95.0),
            self.percentile_ms(99.0),
            self.percentile_ms(100.0)
        )
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(crate) fn percentiles_use_nearest_rank() {
        let r = Report::new(
            (1..=100).map(|x| x * 1000).collect(),
            0,
            Duration::from_secs(1),
            "registrations",
        );
        assert_eq!(r.percentile_ms(50.0), 50.0);
        assert_eq!(r.percentile_ms(95.0), 95.0);
        assert_eq!(r.percentile_ms(100.0), 100.0);
        assert_eq!(r.acknowledged, 100);
    }
}
