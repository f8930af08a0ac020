//! Disclosure control on the dashboard: no suppressed count can be recovered from the others
//! and the total, and the CSV neutralises formulas.

use super::download::csv;
use super::figures::{figures, reach_figures, ReachFigures};
use super::{Evaluation, POLICY};
use alongside_stats::Day;
use alongside_store::outcomes::{OutcomeInputs, Window};
use alongside_store::reach::{Measure, Reach};

use alongside_stats::report::SUPPRESSED;
use alongside_store::outcomes::LatestLevel;

/// A count in no line.
fn shown(n: u64) -> String {
    POLICY.show(POLICY.lone(n))
}

/// 61 measured (19, 19, 20 and 3 at levels 1–4) of 64 registered, nobody excluded, in
/// two practices, one named like a formula; reach: 10 referred, 9 at level 2 and 1 not
/// measured.
fn case() -> (Evaluation, ReachFigures) {
    let day = |s: &str| Day::parse_iso(s.as_bytes()).unwrap();
    let window = Window {
        from: day("2025-01-01"),
        to: day("2025-12-31"),
    };
    let latest: Vec<LatestLevel> = [19, 19, 20, 3]
        .iter()
        .enumerate()
        .flat_map(|(l, n)| {
            (0..*n).map(move |i| LatestLevel {
                level: l as u8 + 1,
                deprivation_decile: Some(1 + (i % 10) as u8),
                gp_practice: Some(if i % 2 == 0 {
                    "Riverside Surgery".into()
                } else {
                    "=HYPERLINK(\"http://x\")".into()
                }),
                conditions: vec!["asthma".into()],
            })
        })
        .collect();
    let record = alongside_stats::PeriodRecord {
        person_key: 0,
        age: 50,
        sex: alongside_stats::Sex::Female,
        deprivation_decile: 1,
        ltc_count: 1,
        activation_level: 1,
        exposure_days: 365,
        counts: [0; 7],
    };
    let inputs = OutcomeInputs {
        window,
        people_registered: 64,
        people_measured: 61,
        records: vec![record; 61],
        measurements: Vec::new(),
        excluded: alongside_store::outcomes::Exclusions {
            no_activation: 3,
            ..Default::default()
        },
        events_not_counted: 0,
        latest,
        events_in_window: 0,
    };
    let mut measures: Vec<(Measure, alongside_store::reach::ReachCount)> = Measure::ALL
        .iter()
        .map(|m| (*m, Default::default()))
        .collect();
    measures[0].1 = alongside_store::reach::ReachCount {
        people: 10,
        by_level: [0, 9, 0, 0, 1],
    };
    let reach = Reach {
        window,
        measures,
        walk_in_attendances: 0,
    };
    let figures = figures(&inputs);
    (
        Evaluation {
            window,
            inputs,
            figures,
            report: None,
        },
        reach_figures(&reach),
    )
}

/// What a reader can work out of a hidden figure in a line from the others and the total.
fn recover(cells: &[String], total: &str) -> Option<u64> {
    let hidden = cells.iter().filter(|c| c.as_str() == "[c]").count();
    let total: u64 = total.parse().ok()?;
    (hidden == 1).then(|| {
        total
            - cells
                .iter()
                .filter_map(|c| c.parse::<u64>().ok())
                .sum::<u64>()
    })
}

#[test]
fn a_suppressed_count_cannot_be_recovered_from_the_others_and_the_total() {
    let (e, r) = case();
    let f = &e.figures;
    // Primary suppression alone (the page before): 61 − 19 − 19 − 20 = 3, and reach:
    // 10 referred − 9 at level 2 = 1 not measured.
    let primary: Vec<String> = [19, 19, 20, 3].map(shown).to_vec();
    assert_eq!(recover(&primary, "61"), Some(3));
    assert_eq!(recover(&[0, 9, 0, 0, 1].map(shown), "10"), Some(1));
    // Now.
    let levels: Vec<String> = f.everyone.iter().map(|c| f.p.text(*c)).collect();
    assert_eq!(levels, vec!["19", "[c]", "20", "[c]"]);
    assert_eq!(recover(&levels, &f.p.text(f.measured)), None);
    let (_, _, referred) = r.measures[0];
    let by_level: Vec<String> = referred.iter().map(|c| r.p.text(*c)).collect();
    assert_eq!(by_level, vec!["0", "[c]", "0", "0", "[c]"]);
    assert_eq!(recover(&by_level, &r.p.text(r.measures[0].1)), None);
    // Every breakdown row and every level column of the decile and practice tables.
    for b in &f.breakdowns {
        for (k, cells, all) in &b.rows {
            let row: Vec<String> = cells.iter().map(|c| f.p.text(*c)).collect();
            assert_eq!(
                recover(&row, &f.p.text(*all)),
                None,
                "{} {k}: {row:?}",
                b.caption
            );
        }
        if b.section != "activation_by_condition" {
            for l in 0..4 {
                let column: Vec<String> = b.rows.iter().map(|r| f.p.text(r.1[l])).collect();
                let total = f.p.text(f.everyone[l]);
                assert_eq!(
                    recover(&column, &total),
                    None,
                    "{} level {}",
                    b.caption,
                    l + 1
                );
            }
        }
    }
    // Not measured = 64 registered − 61 in the model, both published: exposed, and said so.
    assert_eq!(f.p.text(f.excluded[0]), "[c]");
    assert_eq!(f.p.exposed(), &[f.excluded[0]]);
}

#[test]
fn csv_cells_that_would_run_as_formulas_are_neutralised() {
    let (e, r) = case();
    let csv = csv(&e, &r).unwrap();
    assert!(
        csv.contains("\nactivation_by_gp_practice,\"'=HYPERLINK(\"\"http://x\"\")\",,level_1,"),
        "{csv}"
    );
    assert!(!csv.contains(",=") && !csv.contains(",\"="), "{csv}");
    assert!(csv.contains("\nreach_by_activation_level,referred_to_coaching,,level_2,[c],"));
}

#[test]
fn small_counts_are_suppressed() {
    assert_eq!(shown(0), "0");
    assert_eq!(shown(1), SUPPRESSED);
    assert_eq!(shown(7), SUPPRESSED);
    assert_eq!(shown(8), "8");
}
