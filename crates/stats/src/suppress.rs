//! Small-number suppression for anything exported.
//!
//! A count from 1 up to the threshold (default 7) is not shown, and neither is any rate,
//! share, mean or interval derived from it. Zero is shown (it discloses nothing about an
//! individual). This is primary suppression only: totals are published, so a single suppressed
//! cell can sometimes be recovered by subtraction; publishers who need secondary suppression
//! must apply it on top. This module must never decide what is exported: callers pass the
//! threshold from the report options.

/// The default threshold: counts 1–7 are suppressed.
pub const DEFAULT_THRESHOLD: u64 = 7;

/// True when `count` must be hidden under `threshold` (`None` = no suppression).
pub fn is_suppressed(count: u64, threshold: Option<u64>) -> bool {
    matches!(threshold, Some(t) if count >= 1 && count <= t)
}

/// The count if it may be shown, else `None`.
pub fn suppress_count(count: u64, threshold: Option<u64>) -> Option<u64> {
    (!is_suppressed(count, threshold)).then_some(count)
}

/// A value derived from `count` (a rate, share or interval bound) if it may be shown.
pub fn suppress_derived(count: u64, value: f64, threshold: Option<u64>) -> Option<f64> {
    (!is_suppressed(count, threshold)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_boundaries() {
        let t = Some(DEFAULT_THRESHOLD);
        assert_eq!(suppress_count(0, t), Some(0));
        assert_eq!(suppress_count(1, t), None);
        assert_eq!(suppress_count(7, t), None);
        assert_eq!(suppress_count(8, t), Some(8));
        assert_eq!(suppress_count(3, None), Some(3));
        assert_eq!(suppress_derived(5, 12.5, t), None);
        assert_eq!(suppress_derived(9, 12.5, t), Some(12.5));
        assert_eq!(suppress_count(10, Some(10)), None);
        assert_eq!(suppress_count(1, Some(0)), Some(1));
    }
}
