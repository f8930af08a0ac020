//! The dashboard's counts, protected together by the one disclosure policy: which counts add
//! up to which (so that a hidden count cannot be worked out from a total or a neighbouring
//! table), the breakdowns by condition, deprivation decile and GP practice, and reach.

use super::POLICY;
use alongside_stats::disclosure::{CellId, Protected, Table};
use alongside_store::outcomes::{level_table, OutcomeInputs};
use alongside_store::reach::{Measure, Reach};
use std::collections::BTreeMap;

/// A breakdown of the measured people by activation level.
pub(super) struct Breakdown {
    /// Table caption (the group's name).
    pub(super) caption: &'static str,
    /// CSV section.
    pub(super) section: &'static str,
    /// (group, levels 1–4, all levels).
    pub(super) rows: Vec<(String, [CellId; 4], CellId)>,
}

/// The dashboard's counts of people, protected together. Lines: registered = measured + not
/// measured; measured = in the model + each exclusion; measured = the four levels; each
/// breakdown's rows add up across levels; the deprivation and GP practice breakdowns (one
/// group per person) add up down each level to everyone measured. Conditions do not (a person
/// may have several). The number registered (on the statistics page) and the number in the
/// model (in the report) are published, so the number not measured is exposed when every
/// exclusion is zero (`docs/disclosure.md`, limits).
pub(super) struct Figures {
    pub(super) p: Protected,
    pub(super) registered: CellId,
    pub(super) measured: CellId,
    /// Not measured, sex other or not known, no decile, no condition, age outside 18–120.
    pub(super) excluded: [CellId; 5],
    /// Everyone measured, by level (their total is `measured`).
    pub(super) everyone: [CellId; 4],
    pub(super) breakdowns: Vec<Breakdown>,
}

pub(super) fn figures(inputs: &OutcomeInputs) -> Figures {
    let mut t = Table::new();
    // The statistics page publishes the number registered unless it is small itself.
    let registered = if POLICY.is_small(inputs.people_registered) {
        t.count(inputs.people_registered)
    } else {
        t.published(inputs.people_registered)
    };
    let measured = t.count(inputs.people_measured);
    let x = &inputs.excluded;
    let excluded = [
        x.no_activation,
        x.sex_not_female_or_male,
        x.no_deprivation_decile,
        x.no_long_term_condition,
        x.age_outside_18_120,
    ]
    .map(|n| t.count(n));
    t.total(registered, &[measured, excluded[0]]);
    // The number in the model is stated in the report without suppression.
    let modelled = t.published(inputs.records.len() as u64);
    t.total(
        measured,
        &[modelled, excluded[1], excluded[2], excluded[3], excluded[4]],
    );
    let (all, groups) = distributions(inputs);
    let everyone = all
        .values()
        .next()
        .copied()
        .unwrap_or_default()
        .map(|n| t.count(n));
    t.total(measured, &everyone);
    let breakdowns = groups
        .into_iter()
        .map(|(caption, section, partition, rows)| {
            let rows: Vec<(String, [CellId; 4], CellId)> = rows
                .into_iter()
                .map(|(k, c)| {
                    let cells = c.map(|n| t.count(n));
                    let all = t.count(c.iter().sum());
                    t.total(all, &cells);
                    (k, cells, all)
                })
                .collect();
            if partition {
                for (l, total) in everyone.iter().enumerate() {
                    let column: Vec<CellId> = rows.iter().map(|r| r.1[l]).collect();
                    t.total(*total, &column);
                }
                let alls: Vec<CellId> = rows.iter().map(|r| r.2).collect();
                t.total(measured, &alls);
            }
            Breakdown {
                caption,
                section,
                rows,
            }
        })
        .collect();
    Figures {
        p: t.protect(&POLICY),
        registered,
        measured,
        excluded,
        everyone,
        breakdowns,
    }
}

/// Reach, protected: each measure's people with their split by level (levels 1–4 and not
/// measured add up to the people), and the walk-in attendances.
pub(super) struct ReachFigures {
    pub(super) p: Protected,
    pub(super) measures: Vec<(Measure, CellId, [CellId; 5])>,
    pub(super) walk_ins: CellId,
}

pub(super) fn reach_figures(reach: &Reach) -> ReachFigures {
    let mut t = Table::new();
    let measures = reach
        .measures
        .iter()
        .map(|(m, c)| {
            let people = t.count(c.people);
            let by_level = c.by_level.map(|n| t.count(n));
            t.total(people, &by_level);
            (*m, people, by_level)
        })
        .collect();
    let walk_ins = t.count(reach.walk_in_attendances);
    ReachFigures {
        p: t.protect(&POLICY),
        measures,
        walk_ins,
    }
}

/// Level counts (levels 1–4) per group.
pub(super) type LevelTable = BTreeMap<String, [u64; 4]>;

/// A breakdown: caption, CSV section, whether each person is in exactly one group, the rows.
pub(super) type Distribution = (&'static str, &'static str, bool, LevelTable);

pub(super) fn distributions(inputs: &OutcomeInputs) -> (LevelTable, Vec<Distribution>) {
    let all = level_table(&inputs.latest, |_| vec!["Everyone measured".to_string()]);
    let by_condition = level_table(&inputs.latest, |l| {
        l.conditions
            .iter()
            .map(|c| {
                alongside_core::conditions::by_key(c)
                    .map(|x| x.label.to_string())
                    .unwrap_or_else(|| c.clone())
            })
            .collect()
    });
    let by_decile = level_table(&inputs.latest, |l| {
        vec![match l.deprivation_decile {
            Some(d) => format!("Decile {d:02}"),
            None => "Not recorded".into(),
        }]
    });
    let by_practice = level_table(&inputs.latest, |l| {
        vec![l
            .gp_practice
            .clone()
            .unwrap_or_else(|| "Not recorded".into())]
    });
    (
        all,
        vec![
            (
                "Long-term condition (a person may have several)",
                "activation_by_condition",
                false,
                by_condition,
            ),
            (
                "Deprivation decile (1 = most deprived)",
                "activation_by_deprivation_decile",
                true,
                by_decile,
            ),
            (
                "GP practice",
                "activation_by_gp_practice",
                true,
                by_practice,
            ),
        ],
    )
}
