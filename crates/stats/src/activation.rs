//! Change in activation for people measured more than once: mean change (last − first) with
//! a t-based 95% interval, the share gaining 3 points or more within 12 months, and movement
//! between levels (first → last).
//!
//! Pure computation over measurement records; it must never read files or decide levels from
//! scores (levels are given, since instruments and their cut-points differ).

use std::io::Write;

use serde::Serialize;

use crate::csv_writer::CsvWriter;
use crate::day::Day;
use crate::disclosure::{Policy, CONFIDENTIAL};
use crate::report::{count_cell, float_cell};
use crate::special::t_quantile;

/// One activation measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    /// Any stable person key (the same for all of a person's measurements).
    pub person_key: u64,
    /// Date of the measurement.
    pub day: Day,
    /// Score on the instrument's scale (e.g. 0–100).
    pub score: f64,
    /// Activation level 1–4.
    pub level: u8,
}

/// Gain that counts as improvement.
pub const IMPROVEMENT_POINTS: f64 = 3.0;
/// Window for the improvement indicator, days after the first measurement (inclusive).
pub const IMPROVEMENT_WINDOW_DAYS: i32 = 365;

/// Definitions, stated in the report.
pub const DEFINITIONS: [&str; 4] = [
    "first = earliest measurement (ties: first in input order); last = latest (ties: last in input order); people measured on two or more distinct dates are included",
    "mean change = mean of (last score − first score), 95% interval mean ± t(0.975, n − 1)·sd/√n",
    "improved within 12 months: among people with a measurement dated 1–365 days after their first, the latest such measurement is at least 3 points above the first (difference ≥ 3 − 1e-9 to absorb decimal rounding)",
    "movement: level at first measurement → level at last measurement, people measured on two or more distinct dates",
];

/// Activation change summary.
#[derive(Clone, Debug, Serialize)]
pub struct ActivationChange {
    /// Definitions used.
    pub definitions: Vec<&'static str>,
    /// People with at least one valid measurement.
    pub people_measured: u64,
    /// People measured on two or more distinct dates (suppressed if small).
    pub people_measured_twice: Option<u64>,
    /// Whether the count and the derived mean are suppressed.
    pub suppressed: bool,
    /// Mean of last − first.
    pub mean_change: Option<f64>,
    /// Sample standard deviation of last − first.
    pub sd_change: Option<f64>,
    /// Lower 95% t limit.
    pub ci_low: Option<f64>,
    /// Upper 95% t limit.
    pub ci_high: Option<f64>,
    /// The 12-month improvement indicator.
    pub improvement: Improvement,
    /// `movement[i][j]` = people at level i+1 first and level j+1 last (null when suppressed).
    pub movement: [[Option<u64>; 4]; 4],
}

/// Share gaining at least 3 points within 12 months.
#[derive(Clone, Debug, Serialize)]
pub struct Improvement {
    /// People with a re-measurement 1–365 days after their first.
    pub eligible: Option<u64>,
    /// Of those, people whose latest re-measurement in the window is ≥ 3 points higher.
    pub improved: Option<u64>,
    /// improved / eligible.
    pub share: Option<f64>,
    /// Whether anything here is suppressed.
    pub suppressed: bool,
}

/// Computes the summary. `threshold` applies disclosure control (see [`crate::disclosure`]):
/// the movement table with its total, and everything derived from a hidden count.
pub fn activation_change(measurements: &[Measurement], threshold: Option<u64>) -> ActivationChange {
    let mut idx: Vec<usize> = (0..measurements.len()).collect();
    idx.sort_by_key(|&i| (measurements[i].person_key, measurements[i].day, i));
    let mut changes = Vec::new();
    let mut movement = [[0u64; 4]; 4];
    let (mut eligible, mut improved) = (0u64, 0u64);
    let mut people = 0u64;
    let mut start = 0;
    while start < idx.len() {
        let key = measurements[idx[start]].person_key;
        let mut end = start;
        while end < idx.len() && measurements[idx[end]].person_key == key {
            end += 1;
        }
        people += 1;
        let group = &idx[start..end];
        let first = measurements[group[0]];
        let last = measurements[group[group.len() - 1]];
        if last.day > first.day {
            changes.push(last.score - first.score);
            movement[usize::from(first.level - 1)][usize::from(last.level - 1)] += 1;
        }
        let window_end = first.day.0 + IMPROVEMENT_WINDOW_DAYS;
        if let Some(fu) = group
            .iter()
            .map(|&i| measurements[i])
            .rfind(|m| m.day > first.day && m.day.0 <= window_end)
        {
            eligible += 1;
            if fu.score - first.score >= IMPROVEMENT_POINTS - 1e-9 {
                improved += 1;
            }
        }
        start = end;
    }
    let n = changes.len() as u64;
    let (mut mean, mut sd, mut lo, mut hi) = (None, None, None, None);
    if n >= 1 {
        let nf = n as f64;
        let m = changes.iter().sum::<f64>() / nf;
        mean = Some(m);
        if n >= 2 {
            let var = changes.iter().map(|c| (c - m).powi(2)).sum::<f64>() / (nf - 1.0);
            let s = var.sqrt();
            sd = Some(s);
            let half = t_quantile(0.975, nf - 1.0) * s / nf.sqrt();
            lo = Some(m - half);
            hi = Some(m + half);
        }
    }
    let mut a = ActivationChange {
        definitions: DEFINITIONS.to_vec(),
        people_measured: people,
        people_measured_twice: Some(n),
        suppressed: false,
        mean_change: mean,
        sd_change: sd,
        ci_low: lo,
        ci_high: hi,
        improvement: Improvement {
            eligible: Some(eligible),
            improved: Some(improved),
            share: (eligible > 0).then(|| improved as f64 / eligible as f64),
            suppressed: false,
        },
        movement: movement.map(|row| row.map(Some)),
    };
    if let Some(t) = threshold {
        crate::protect::activation(&mut a, &Policy::STANDARD.with_threshold(t));
    }
    a
}

impl ActivationChange {
    /// The activation rows of the report's CSV (see [`crate::report::CSV_COLUMNS`]).
    pub(crate) fn write_csv_rows<W: Write>(&self, w: &mut CsvWriter<W>) -> std::io::Result<()> {
        let c = self.people_measured_twice;
        w.words(&["activation_change", "", "", "mean_change_last_minus_first"]);
        count_cell(w, c, c.is_none());
        w.empty();
        for v in [self.mean_change, self.ci_low, self.ci_high] {
            float_cell(w, v, self.suppressed);
        }
        w.empties(3).word("t-based 95% interval").end_row()?;
        let i = &self.improvement;
        w.words(&[
            "activation_change",
            "",
            "",
            "improved_3_points_within_12_months",
        ]);
        count_cell(w, i.improved, i.improved.is_none());
        w.empty();
        float_cell(w, i.share, i.suppressed);
        w.empties(5)
            .word(&format!(
                "eligible: {}",
                i.eligible
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| CONFIDENTIAL.to_string())
            ))
            .end_row()?;
        for (a, r) in self.movement.iter().enumerate() {
            for (b, v) in r.iter().enumerate() {
                w.words(&[
                    "activation_movement",
                    "",
                    "",
                    &format!("level_{}_to_level_{}", a + 1, b + 1),
                ]);
                count_cell(w, *v, v.is_none());
                w.empties(8).end_row()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(person: u64, day: i32, score: f64, level: u8) -> Measurement {
        Measurement {
            person_key: person,
            day: Day(day),
            score,
            level,
        }
    }

    #[test]
    fn change_improvement_and_movement() {
        let ms = vec![
            m(1, 0, 40.0, 1),
            m(1, 200, 44.0, 1), // within window, +4 → improved
            m(1, 500, 60.0, 3), // last
            m(2, 10, 50.0, 2),
            m(2, 376, 52.0, 2), // 366 days later: outside the window
            m(3, 5, 70.0, 3),   // measured once
            m(4, 0, 55.2, 3),
            m(4, 365, 58.2, 3), // exactly 365 days, +3.0 with rounding → improved
            m(5, 0, 60.0, 3),
            m(5, 0, 80.0, 4), // same day only: not measured twice
        ];
        let a = activation_change(&ms, None);
        assert_eq!(a.people_measured, 5);
        assert_eq!(a.people_measured_twice, Some(3));
        let changes = [20.0, 2.0, 58.2 - 55.2];
        let mean = changes.iter().sum::<f64>() / 3.0;
        assert!((a.mean_change.unwrap() - mean).abs() < 1e-12);
        let sd = (changes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        let half = 4.302_652_729_749_462 * sd / 3f64.sqrt();
        assert!((a.ci_low.unwrap() - (mean - half)).abs() < 1e-9);
        assert_eq!(a.improvement.eligible, Some(2));
        assert_eq!(a.improvement.improved, Some(2));
        assert_eq!(a.movement[0][2], Some(1));
        assert_eq!(a.movement[1][1], Some(1));
        assert_eq!(a.movement[2][2], Some(1));
        assert_eq!(a.movement[3][3], Some(0));
    }

    #[test]
    fn suppression_hides_small_counts_and_derived_values() {
        let ms = vec![m(1, 0, 40.0, 1), m(1, 100, 50.0, 2)];
        let a = activation_change(&ms, Some(7));
        assert_eq!(a.people_measured_twice, None);
        assert!(a.suppressed);
        assert_eq!(a.mean_change, None);
        assert_eq!(a.improvement.share, None);
        assert_eq!(a.movement[0][1], None);
        assert_eq!(a.movement[0][0], Some(0));
    }
}
