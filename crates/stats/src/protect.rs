//! Disclosure control for an evaluation report: which of its figures are shown, by the one
//! policy in [`crate::disclosure`]. The report's lines are
//! - observation periods by level, whose total is stated in the population description;
//! - per outcome, events by level with the all-levels total (also the outcome's `events`);
//! - the outcomes' totals, which add up to the events counted in the input summary (A&E minor
//!   attendances are part of A&E attendances, not added);
//! - people moving between levels (the 4 × 4 table) with the people measured twice.
//!
//! Rates, intervals, means and shares go with the counts they are made from. Adjusted rate
//! ratios are not suppressed (they are model estimates, not counts). Figures published without
//! suppression (the population size and the input summary) are never hidden, so when one of
//! them alone determines a hidden count (only in a population at or below the threshold) that
//! count is exposed, and the report says so in its suppression rule.

use crate::activation::ActivationChange;
use crate::coding::Outcome;
use crate::disclosure::{CellId, Policy, Table};
use crate::report::Report;

/// Applies the policy to the report's population and outcome figures (not the activation
/// change, which [`activation`] protects when it is computed).
pub(crate) fn report(r: &mut Report, policy: &Policy) {
    let mut t = Table::new();
    let levels: Vec<CellId> = r
        .population
        .by_level
        .iter()
        .map(|l| t.count(l.periods.unwrap_or(0)))
        .collect();
    let periods = t.published(r.population.periods);
    t.total(periods, &levels);
    let mut outcome_totals = Vec::new();
    let outcomes: Vec<Vec<CellId>> = r
        .outcomes
        .iter()
        .map(|o| {
            let ids: Vec<CellId> = o
                .crude
                .iter()
                .map(|c| t.count(c.events.unwrap_or(0)))
                .collect();
            // Levels 1–4, then all levels.
            let (all, by_level) = ids.split_last().expect("five crude rows");
            t.total(*all, by_level);
            if o.outcome != Outcome::AeMinor.name() {
                outcome_totals.push(*all);
            }
            ids
        })
        .collect();
    let counted = t.published(r.inputs.events_counted);
    t.total(counted, &outcome_totals);
    let p = t.protect(policy);
    for (l, id) in r.population.by_level.iter_mut().zip(&levels) {
        l.periods = p.get(*id);
        l.suppressed = p.is_hidden(*id);
    }
    for (o, ids) in r.outcomes.iter_mut().zip(&outcomes) {
        for (c, id) in o.crude.iter_mut().zip(ids) {
            c.events = p.get(*id);
            c.suppressed = p.is_hidden(*id);
            if c.suppressed {
                c.rate_per_1000 = None;
                c.ci_low = None;
                c.ci_high = None;
            }
        }
        let all = *ids.last().expect("five crude rows");
        o.events = p.get(all);
        o.suppressed = p.is_hidden(all);
    }
    if !p.exposed().is_empty() {
        r.suppression.rule.push_str(
            "; the population is so small that its published size reveals some suppressed counts",
        );
    }
}

/// Applies the policy to activation change: the movement table with its total (people
/// measured twice), the mean change made from that total, and the improvement share made from
/// its two counts.
pub(crate) fn activation(a: &mut ActivationChange, policy: &Policy) {
    let mut t = Table::new();
    let cells: Vec<Vec<CellId>> = a
        .movement
        .iter()
        .map(|row| row.iter().map(|c| t.count(c.unwrap_or(0))).collect())
        .collect();
    let twice = t.count(a.people_measured_twice.unwrap_or(0));
    let all: Vec<CellId> = cells.iter().flatten().copied().collect();
    t.total(twice, &all);
    let eligible = t.count(a.improvement.eligible.unwrap_or(0));
    let improved = t.count(a.improvement.improved.unwrap_or(0));
    let p = t.protect(policy);
    for (row, ids) in a.movement.iter_mut().zip(&cells) {
        for (c, id) in row.iter_mut().zip(ids) {
            *c = p.get(*id);
        }
    }
    a.people_measured_twice = p.get(twice);
    a.suppressed = p.is_hidden(twice);
    if a.suppressed {
        a.mean_change = None;
        a.sd_change = None;
        a.ci_low = None;
        a.ci_high = None;
    }
    let i = &mut a.improvement;
    i.eligible = p.get(eligible);
    i.improved = p.get(improved);
    i.suppressed = p.is_hidden(eligible) || p.is_hidden(improved);
    let share = i.share;
    i.share = p.derived(&[eligible, improved], || share).flatten();
}
