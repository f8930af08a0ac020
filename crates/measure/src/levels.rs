//! Rounding of reported scores to one decimal place and assignment of reporting levels.
//!
//! Levels are data (see [`LevelDef`](crate::def::LevelDef)): this module holds the rule, never
//! any cut points. The rule:
//!
//! 1. The reported score is rounded to one decimal place, half away from zero. Because a decimal
//!    such as 47.05 has no exact binary representation (it is stored as 47.04999…), a value
//!    whose tenths part is within [`HALF_TOLERANCE`] (1e-9 tenths) below one half counts as the
//!    half: 47.05 → 47.1, while 47.0499 → 47.0.
//! 2. Cut points are the inclusive upper bounds of each level, with one decimal place. The level
//!    is the first (lowest) level whose upper bound is greater than or equal to the rounded
//!    score; the last level has no upper bound.
//!
//! All comparisons are done in whole tenths (integers), so they are exact.

/// Tolerance, in tenths, below an exact half that still rounds away from zero.
pub const HALF_TOLERANCE: f64 = 1e-9;

/// Round a score to a whole number of tenths, half away from zero (see the module docs).
///
/// Non-finite input gives 0; callers only pass finite scores.
pub fn round_to_tenths(score: f64) -> i64 {
    if !score.is_finite() {
        return 0;
    }
    let t = score.abs() * 10.0;
    let whole = t.floor();
    let frac = t - whole;
    let mut n = whole as i64;
    if frac >= 0.5 - HALF_TOLERANCE {
        n += 1;
    }
    if score < 0.0 {
        -n
    } else {
        n
    }
}

/// A score rounded to one decimal place by the rule above, as a float (e.g. 47.1).
pub fn round_score(score: f64) -> f64 {
    round_to_tenths(score) as f64 / 10.0
}

/// Whether `value` has at most one decimal place (within 1e-9), as cut points and thresholds
/// must. Returns the value in tenths if so.
pub(crate) fn exact_tenths(value: f64) -> Option<i64> {
    if !value.is_finite() {
        return None;
    }
    let t = value * 10.0;
    let r = t.round();
    if (t - r).abs() <= 1e-6 && r.abs() < 1e15 {
        Some(r as i64)
    } else {
        None
    }
}

/// Cut points compiled to tenths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cuts {
    /// Upper bound in tenths for each level except the last.
    uppers: Vec<i64>,
    /// Number of levels (0 when the instrument has none).
    count: usize,
}

impl Cuts {
    pub(crate) fn new(uppers: Vec<i64>, count: usize) -> Cuts {
        debug_assert!(count == 0 || uppers.len() + 1 == count);
        Cuts { uppers, count }
    }

    /// Level number (1-based) for a score already rounded to tenths; `None` if there are no
    /// levels.
    pub(crate) fn level_for_tenths(&self, tenths: i64) -> Option<u8> {
        if self.count == 0 {
            return None;
        }
        let idx = self
            .uppers
            .iter()
            .position(|&u| tenths <= u)
            .unwrap_or(self.uppers.len());
        Some((idx + 1) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_round(input: f64, expected_tenths: i64) {
        assert_eq!(
            round_to_tenths(input),
            expected_tenths,
            "round_to_tenths({input})"
        );
    }

    #[test]
    fn rounding_boundaries() {
        check_round(47.0, 470);
        check_round(47.04, 470);
        check_round(47.0499, 470);
        check_round(47.05, 471);
        check_round(47.050_000_1, 471);
        check_round(47.1, 471);
        check_round(55.15, 552);
        check_round(55.149_999, 551);
        check_round(72.45, 725);
        check_round(72.449_99, 724);
        check_round(0.05, 1);
        check_round(0.0, 0);
        check_round(-0.05, -1);
        check_round(-1.04, -10);
        check_round(100.0, 1000);
        check_round(f64::NAN, 0);
    }

    #[test]
    fn round_score_gives_one_decimal() {
        assert_eq!(round_score(47.05), 47.1);
        assert_eq!(round_score(47.049), 47.0);
        assert_eq!(round_score(99.99), 100.0);
    }

    #[test]
    fn exact_tenths_accepts_one_decimal_only() {
        assert_eq!(exact_tenths(47.0), Some(470));
        assert_eq!(exact_tenths(55.1), Some(551));
        assert_eq!(exact_tenths(-3.3), Some(-33));
        assert_eq!(exact_tenths(47.05), None);
        assert_eq!(exact_tenths(f64::INFINITY), None);
    }

    #[test]
    fn levels_are_inclusive_upper_bounds() {
        let cuts = Cuts::new(vec![470, 551, 724], 4);
        let check = |tenths: i64, level: u8| {
            assert_eq!(cuts.level_for_tenths(tenths), Some(level), "{tenths}");
        };
        check(-5, 1);
        check(0, 1);
        check(470, 1);
        check(471, 2);
        check(551, 2);
        check(552, 3);
        check(724, 3);
        check(725, 4);
        check(1000, 4);
        assert_eq!(Cuts::default().level_for_tenths(500), None);
    }
}
