//! What an evaluation covers and returns — its window, the people left out and why, the inputs
//! built from the store (`crate::inputs`) — auditing each run, and the dashboard's level tables.

use super::Requester;
use crate::people::Source;
use crate::{Result, Store, StoreError};
use alongside_core::access::Action;
use alongside_core::audit::{AuditAction, Outcome};
use alongside_core::OrgId;
use alongside_stats::{Day, Measurement, PeriodRecord};
use std::collections::BTreeMap;

/// A window of whole days, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Day,
    pub to: Day,
}

impl Window {
    /// The last full 12 calendar months before `today` (e.g. today 2026-11-22 →
    /// 2025-11-01 … 2026-10-31).
    pub fn last_full_year(today: Day) -> Window {
        let (y, m, _) = today.ymd();
        let to = Day(Day::from_ymd(y, m, 1).expect("first of month").0 - 1);
        let from = Day::from_ymd(y - 1, m, 1).expect("first of month");
        Window { from, to }
    }
}

/// People left out of the evaluation, by reason (each person counted once, first reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Exclusions {
    /// No scored activation measurement on or before the end of the window.
    pub no_activation: u64,
    /// Sex recorded as other or not known (the model's covariate is female/male).
    pub sex_not_female_or_male: u64,
    pub no_deprivation_decile: u64,
    pub no_long_term_condition: u64,
    /// Under 18 or over 120 at the start of their period.
    pub age_outside_18_120: u64,
}

/// A person's latest scored measurement by the end of the window, with their attributes, for
/// the de-identified distributions (never leaves the server with an identity attached).
#[derive(Debug, Clone, PartialEq)]
pub struct LatestLevel {
    pub level: u8,
    pub deprivation_decile: Option<u8>,
    pub gp_practice: Option<String>,
    pub conditions: Vec<String>,
}

/// Everything an evaluation needs, built from the store.
#[derive(Debug, Clone)]
pub struct OutcomeInputs {
    pub window: Window,
    pub people_registered: u64,
    /// People with at least one completed questionnaire on or before the end of the window.
    pub people_measured: u64,
    pub records: Vec<PeriodRecord>,
    pub measurements: Vec<Measurement>,
    pub excluded: Exclusions,
    /// Events in the window of people without an observation period, or before their start.
    pub events_not_counted: u64,
    /// Only with `with_distributions`: one entry per measured person.
    pub latest: Vec<LatestLevel>,
    /// Events stored for the organisation's people in the window (all types).
    pub events_in_window: u64,
}

impl Store {
    /// Checks `requester` may run an outcome evaluation of `org` and audits the run (`what`:
    /// e.g. "dashboard", "CSV download", "command line") — allowed or refused, no health data.
    pub async fn audit_evaluation(
        &self,
        org: OrgId,
        requester: &Requester,
        window: Window,
        what: &str,
        source: Source,
    ) -> Result<()> {
        let decision = match requester {
            Requester::User(a) => crate::door::org_decision(a, Action::ReadAggregates),
            Requester::System(_) => alongside_core::access::Decision {
                allowed: true,
                reason: "command line",
            },
        };
        let detail = if decision.allowed {
            format!("{what}: window {} to {}", window.from, window.to)
        } else {
            format!("{what}: {}", decision.reason)
        };
        self.audit(requester.event(
            org,
            AuditAction::OutcomesEvaluated,
            if decision.allowed {
                Outcome::Allowed
            } else {
                Outcome::Refused
            },
            &source,
            detail,
        ))
        .await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(StoreError::Refused(decision.reason))
        }
    }
}

/// Level counts by a grouping key, for the dashboard's distributions.
pub fn level_table<'a>(
    latest: &'a [LatestLevel],
    key: impl Fn(&'a LatestLevel) -> Vec<String>,
) -> BTreeMap<String, [u64; 4]> {
    let mut m: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for l in latest {
        for k in key(l) {
            m.entry(k).or_default()[usize::from(l.level - 1)] += 1;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::age_on;

    #[test]
    fn window_is_the_last_full_year() {
        let w = Window::last_full_year(Day::from_ymd(2026, 11, 22).unwrap());
        assert_eq!(w.from.to_iso(), "2025-11-01");
        assert_eq!(w.to.to_iso(), "2026-10-31");
        let w = Window::last_full_year(Day::from_ymd(2026, 1, 1).unwrap());
        assert_eq!(
            (w.from.to_iso(), w.to.to_iso()),
            ("2025-01-01".into(), "2025-12-31".into())
        );
    }

    #[test]
    fn ages_count_whole_years() {
        let dob = Day::from_ymd(1960, 3, 7).unwrap();
        assert_eq!(age_on(dob, Day::from_ymd(2025, 3, 6).unwrap()), 64);
        assert_eq!(age_on(dob, Day::from_ymd(2025, 3, 7).unwrap()), 65);
    }
}
