//! Change between two measurements of the same instrument.
//!
//! Two separate questions are answered:
//!
//! * **Meaningful change** (the service indicator): the difference of the two reported scores,
//!   each rounded to one decimal place as for levels, compared in whole tenths with the
//!   instrument's `meaningful_change` threshold (default 3.0): meaningful when
//!   |difference| ≥ threshold. So 50.0 → 53.0 is a meaningful increase; 50.0 → 52.9 is not.
//! * **Beyond measurement error**: where both results carry a standard error on the reported
//!   scale, whether |later − earlier| (unrounded) exceeds 1.96 × √(se₁² + se₂²), i.e. the change
//!   is larger than would be expected from measurement error alone at the 5% level. `None` when
//!   either standard error is missing (e.g. the `mean` model).
//!
//! Neither says why a score changed: this module must never claim an intervention caused it.

use serde::Serialize;

use crate::instrument::{Instrument, Scored};
use crate::levels::round_to_tenths;

/// Direction of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The later score is higher.
    Increase,
    /// The later score is lower.
    Decrease,
    /// The rounded scores are equal.
    NoChange,
}

/// The comparison of two results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    /// Earlier score rounded to one decimal place.
    pub earlier: f64,
    /// Later score rounded to one decimal place.
    pub later: f64,
    /// `later − earlier` of the rounded scores (exact to one decimal place).
    pub difference: f64,
    /// Direction of `difference`.
    pub direction: Direction,
    /// The instrument's meaningful-change threshold.
    pub threshold: f64,
    /// |difference| ≥ threshold.
    pub meaningful: bool,
    /// 1.96 × √(se₁² + se₂²) on the reported scale, where both standard errors exist.
    pub measurement_error_bound: Option<f64>,
    /// |later − earlier| (unrounded) > `measurement_error_bound`, where it exists.
    pub beyond_measurement_error: Option<bool>,
}

impl Change {
    /// A meaningful increase (e.g. the "3 points or more" improvement indicator).
    pub fn is_meaningful_increase(&self) -> bool {
        self.meaningful && self.direction == Direction::Increase
    }

    /// A meaningful decrease.
    pub fn is_meaningful_decrease(&self) -> bool {
        self.meaningful && self.direction == Direction::Decrease
    }
}

pub(crate) fn compare(instrument: &Instrument, earlier: &Scored, later: &Scored) -> Change {
    let a = round_to_tenths(earlier.score);
    let b = round_to_tenths(later.score);
    let diff = b - a;
    let threshold = instrument.change_tenths();
    let bound = match (earlier.score_standard_error, later.score_standard_error) {
        (Some(s1), Some(s2)) => Some(1.96 * (s1 * s1 + s2 * s2).sqrt()),
        _ => None,
    };
    Change {
        earlier: a as f64 / 10.0,
        later: b as f64 / 10.0,
        difference: diff as f64 / 10.0,
        direction: match diff.signum() {
            1 => Direction::Increase,
            -1 => Direction::Decrease,
            _ => Direction::NoChange,
        },
        threshold: threshold as f64 / 10.0,
        meaningful: diff.abs() >= threshold,
        measurement_error_bound: bound,
        beyond_measurement_error: bound.map(|b| (later.score - earlier.score).abs() > b),
    }
}
