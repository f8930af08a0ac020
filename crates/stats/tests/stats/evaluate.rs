//! End-to-end behaviour of the file evaluator: boundaries, bad rows, headers, suppression,
//! report formats, and agreement between the file and record entry points.

use alongside_stats::synth::{generate, SynthOptions};
use alongside_stats::{
    evaluate_files, evaluate_records, EvalError, EvalOptions, PeriodRecord, Sex,
};
use serde_json::Value;

const PEOPLE_H: &str =
    "person_id,age,sex,deprivation_decile,ltc_count,activation_level,follow_up_start,follow_up_end\n";
const EVENTS_H: &str = "person_id,date,type,minor\n";

fn no_suppression() -> EvalOptions {
    EvalOptions {
        suppress: None,
        ..EvalOptions::default()
    }
}

fn run(people: &str, events: &str, opts: &EvalOptions) -> Value {
    let r = evaluate_files(people.as_bytes(), events.as_bytes(), None::<&[u8]>, opts).unwrap();
    serde_json::from_str(&r.to_json()).unwrap()
}

#[test]
fn period_boundaries_are_inclusive_and_exposure_is_end_minus_start_plus_one() {
    let people = format!(
        "{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-01-31\nB,70,male,8,5,4,2023-03-01,2023-03-01\n"
    );
    let events = format!(
        "{EVENTS_H}A,2022-12-31,gp_appointment,\nA,2023-01-01,gp_appointment,\nA,2023-01-31,gp_appointment,\n\
         A,2023-02-01,gp_appointment,\nB,2023-03-01,ae_attendance,true\nB,2023-02-28,ae_attendance,false\n\
         B,2023-03-01,ae_attendance,0\nC,2023-01-05,gp_appointment,\n"
    );
    let r = run(&people, &events, &no_suppression());
    let inputs = &r["inputs"];
    assert_eq!(inputs["events_counted"], 4);
    assert_eq!(inputs["events_outside_periods"], 3);
    assert_eq!(inputs["events_unknown_person"], 1);
    assert_eq!(inputs["events_rejected"], 0);
    let py = r["population"]["person_years"].as_f64().unwrap();
    assert!((py - 32.0 / 365.25).abs() < 1e-12, "{py}");
    let gp = &r["outcomes"][0];
    assert_eq!(gp["outcome"], "gp_appointment");
    assert_eq!(gp["crude"][0]["events"], 2);
    let ae = &r["outcomes"][2];
    assert_eq!(ae["crude"][3]["events"], 2);
    let minor = &r["outcomes"][3];
    assert_eq!(minor["outcome"], "ae_minor");
    assert_eq!(minor["crude"][3]["events"], 1);
    assert_eq!(r["outcomes"][1]["status"], "no_events");
    assert!(r["outcomes"][1]["models"].is_null());
    // A one-day period is 1/365.25 person-years.
    let l4 = r["population"]["by_level"][3]["person_years"]
        .as_f64()
        .unwrap();
    assert!((l4 - 1.0 / 365.25).abs() < 1e-15);
}

#[test]
fn bad_rows_are_listed_with_line_and_reason_and_evaluation_proceeds() {
    let people = format!("{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-12-31\nB,45,female,3,2,9,2023-01-01,2023-12-31\n");
    let events = format!(
        "{EVENTS_H}A,2023-05-01,gp_appointment,\nA,2023-13-01,gp_appointment,\nA,2023-05-02,gp_visit,\n\
         A,2023-05-03,ae_attendance,maybe\nA,2023-05-04\n\nA,2023-05-05,gp_dna,\r\n"
    );
    let r = run(&people, &events, &no_suppression());
    let i = &r["inputs"];
    assert_eq!(i["people_rejected"], 1);
    assert_eq!(i["events_rejected"], 4);
    assert_eq!(i["events_counted"], 2);
    let rows = i["rejected_rows"].as_array().unwrap();
    let got: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("people.csv".into(), 3),
            ("events.csv".into(), 3),
            ("events.csv".into(), 4),
            ("events.csv".into(), 5),
            ("events.csv".into(), 6)
        ]
    );
    assert!(rows[0]["reason"]
        .as_str()
        .unwrap()
        .contains("activation_level 9"));
    assert!(rows[2]["reason"].as_str().unwrap().contains("gp_visit"));
    assert!(rows[4]["reason"]
        .as_str()
        .unwrap()
        .contains("expected 4 fields"));
}

#[test]
fn wrong_header_is_a_hard_error() {
    let people = format!("{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-12-31\n");
    let err = evaluate_files(
        people.as_bytes(),
        "person,date,type,minor\n".as_bytes(),
        None::<&[u8]>,
        &no_suppression(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::Header {
                file: "events.csv",
                ..
            }
        ),
        "{err}"
    );
    let err = evaluate_files(
        "id,age\n".as_bytes(),
        EVENTS_H.as_bytes(),
        None::<&[u8]>,
        &no_suppression(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        EvalError::Header {
            file: "people.csv",
            ..
        }
    ));
    let err = evaluate_files(
        people.as_bytes(),
        EVENTS_H.as_bytes(),
        Some("person_id,date,score\n".as_bytes()),
        &no_suppression(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        EvalError::Header {
            file: "measurements.csv",
            ..
        }
    ));
}

#[test]
fn line_numbers_are_exact_across_chunks_and_threads() {
    // ~12 MB of events so that several chunks go to both workers; a bad row near the end.
    let people = format!("{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-12-31\n");
    let mut events = String::from(EVENTS_H);
    let n = 400_000;
    for i in 0..n {
        if i == n - 7 {
            events.push_str("A,2023-02-30,gp_appointment,\n");
        } else {
            events.push_str("A,2023-06-15,outpatient_attendance,\n");
        }
    }
    let opts = EvalOptions {
        threads: 2,
        ..no_suppression()
    };
    let r = run(&people, &events, &opts);
    assert_eq!(r["inputs"]["events_counted"], n - 1);
    assert_eq!(r["inputs"]["rejected_rows"][0]["line"], n - 7 + 2);
}

#[test]
fn event_order_and_thread_count_do_not_change_the_report() {
    let (mut p, mut e) = (Vec::new(), Vec::new());
    generate(
        1500,
        3,
        &SynthOptions::default(),
        &mut p,
        &mut e,
        None::<std::io::Sink>,
    )
    .unwrap();
    let text = String::from_utf8(e.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().skip(1).collect();
    lines.reverse();
    let shuffled = format!("{EVENTS_H}{}\n", lines.join("\n"));
    let one = EvalOptions {
        threads: 1,
        ..no_suppression()
    };
    let two = EvalOptions {
        threads: 2,
        ..no_suppression()
    };
    let a = evaluate_files(&p[..], &e[..], None::<&[u8]>, &one).unwrap();
    let b = evaluate_files(&p[..], shuffled.as_bytes(), None::<&[u8]>, &two).unwrap();
    assert_eq!(a.to_json(), b.to_json());
}

#[test]
fn suppression_hides_small_counts_and_their_rates_everywhere() {
    let people = format!(
        "{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-12-31\nB,45,female,3,2,2,2023-01-01,2023-12-31\n"
    );
    let mut events = String::from(EVENTS_H);
    for _ in 0..3 {
        events.push_str("A,2023-05-01,emergency_admission,\n");
    }
    for _ in 0..9 {
        events.push_str("B,2023-05-01,emergency_admission,\n");
    }
    let r = evaluate_files(
        people.as_bytes(),
        events.as_bytes(),
        None::<&[u8]>,
        &EvalOptions::default(),
    )
    .unwrap();
    let j: Value = serde_json::from_str(&r.to_json()).unwrap();
    let ea = &j["outcomes"][4];
    assert_eq!(ea["crude"][0]["events"], Value::Null);
    assert_eq!(ea["crude"][0]["suppressed"], true);
    assert_eq!(ea["crude"][0]["rate_per_1000"], Value::Null);
    assert_eq!(ea["crude"][0]["ci_high"], Value::Null);
    // 9 at level 2 would give the 3 away (12 in all − 9): it is hidden with it (secondary
    // suppression), and its rate too; the total is shown.
    assert_eq!(ea["crude"][1]["events"], Value::Null);
    assert_eq!(ea["crude"][1]["rate_per_1000"], Value::Null);
    assert_eq!(ea["crude"][4]["events"], 12);
    assert_eq!(ea["crude"][2]["events"], 0);
    assert_eq!(j["suppression"]["threshold"], 7);
    let mut csv = Vec::new();
    r.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("crude_rate,emergency_admission,,level_1,[c],"),
        "{csv}"
    );
    assert!(!csv.contains("crude_rate,emergency_admission,,level_1,3,"));
    let html = r.to_html();
    assert!(html.contains("[c]"));
    assert!(!html.contains("<td>3</td>"));
}

/// 60 people, 20 at each of levels 1–3 with 10 emergency admissions each, and `l4` people at
/// level 4 with one admission each (the case: emergency admissions, level 4).
fn admissions_by_level(l4: usize) -> (String, String) {
    let mut people = String::from(PEOPLE_H);
    let mut events = String::from(EVENTS_H);
    for level in 1..=4 {
        let n = if level == 4 { l4 } else { 20 };
        for i in 0..n {
            let id = format!("L{level}P{i}");
            people.push_str(&format!(
                "{id},{},{},{},2,{level},2023-01-01,2023-12-31\n",
                40 + i,
                if i % 2 == 0 { "female" } else { "male" },
                1 + i % 10
            ));
            let admissions = if level == 4 { 1 } else { usize::from(i < 10) };
            for _ in 0..admissions {
                events.push_str(&format!("{id},2023-06-01,emergency_admission,\n"));
            }
        }
    }
    (people, events)
}

/// What a reader can work out about a hidden count in a line from what is shown: with one
/// hidden cell, total − shown cells; with more, nothing.
fn recover(cells: &[Option<u64>], total: Option<u64>) -> Option<u64> {
    let hidden = cells.iter().filter(|c| c.is_none()).count();
    match (hidden, total) {
        (1, Some(t)) => Some(t - cells.iter().flatten().sum::<u64>()),
        _ => None,
    }
}

#[test]
fn a_suppressed_count_cannot_be_recovered_from_the_others_and_the_total() {
    let (people, events) = admissions_by_level(3);
    // Primary suppression alone (what the report did before): level 4's 3 admissions are
    // hidden, but 33 in all − 10 − 10 − 10 gives them away.
    let raw = run(&people, &events, &no_suppression());
    let crude = |r: &Value| -> Vec<Option<u64>> {
        (0..5)
            .map(|i| r["outcomes"][4]["crude"][i]["events"].as_u64())
            .collect()
    };
    let primary: Vec<Option<u64>> = crude(&raw)
        .into_iter()
        .map(|c| c.filter(|n| !(1..=7).contains(n)))
        .collect();
    assert_eq!(primary, vec![Some(10), Some(10), Some(10), None, Some(33)]);
    assert_eq!(
        recover(&primary[..4], primary[4]),
        Some(3),
        "recoverable before"
    );
    // The policy: the next smallest count in the line is hidden too, with its rate.
    let r = run(&people, &events, &EvalOptions::default());
    let shown = crude(&r);
    assert_eq!(shown.iter().filter(|c| c.is_none()).count(), 2, "{shown:?}");
    assert_eq!(shown[3], None);
    assert_eq!(
        recover(&shown[..4], shown[4]),
        None,
        "not recoverable after"
    );
    for i in 0..5 {
        let c = &r["outcomes"][4]["crude"][i];
        assert_eq!(c["suppressed"], c["events"].is_null());
        if c["events"].is_null() {
            assert!(c["rate_per_1000"].is_null() && c["ci_low"].is_null());
        }
    }
    // The other outcomes have no events at all: their totals and the events counted (33)
    // cannot give the hidden ones away either.
    assert_eq!(r["inputs"]["events_counted"], 33);
    // Observation periods by level: 20, 20, 20 and 3 of 63 stated in the population.
    let periods: Vec<Option<u64>> = (0..4)
        .map(|i| r["population"]["by_level"][i]["periods"].as_u64())
        .collect();
    assert_eq!(
        periods.iter().filter(|c| c.is_none()).count(),
        2,
        "{periods:?}"
    );
    assert_eq!(recover(&periods, r["population"]["periods"].as_u64()), None);
    // The CSV and the HTML show what the JSON shows.
    let report = evaluate_files(
        people.as_bytes(),
        events.as_bytes(),
        None::<&[u8]>,
        &EvalOptions::default(),
    )
    .unwrap();
    let mut csv = Vec::new();
    report.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let hidden = csv
        .lines()
        .filter(|l| l.starts_with("crude_rate,emergency_admission,,level_") && l.contains(",[c],"))
        .count();
    assert_eq!(hidden, 2, "{csv}");
    assert!(csv.contains("crude_rate,emergency_admission,,all,33,"));
    let html = report.to_html();
    assert!(!html.contains("<td>3</td>"));
}

#[test]
fn csv_cells_that_would_run_as_formulas_are_neutralised() {
    let people = format!("{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-12-31\n");
    let events = format!("{EVENTS_H}A,2023-05-01,gp_appointment,\n");
    let report = evaluate_files(
        people.as_bytes(),
        events.as_bytes(),
        None::<&[u8]>,
        &EvalOptions {
            population_label: Some("=HYPERLINK(\"http://x\")".into()),
            ..no_suppression()
        },
    )
    .unwrap();
    let mut csv = Vec::new();
    report.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let note = csv
        .lines()
        .find(|l| l.starts_with("note,,,population,"))
        .expect("population note");
    assert!(note.ends_with(",\"'=HYPERLINK(\"\"http://x\"\"): 1 people, 1 observation periods, 1.0 person-years; adults (18+) with at least one long-term condition and a recorded activation level\""), "{note}");
}

#[test]
fn zero_event_category_is_excluded_with_a_note() {
    // Level 3 has exposure but no GP appointments: its ratio is 0, the term is excluded.
    let mut people = String::from(PEOPLE_H);
    let mut events = String::from(EVENTS_H);
    for i in 0..60 {
        let level = 1 + i % 3;
        people.push_str(&format!(
            "P{i},{},female,{},1,{level},2023-01-01,2023-12-31\n",
            30 + i % 50,
            1 + i % 10
        ));
        if level != 3 {
            // Overdispersed counts so that the NB2 dispersion is positive.
            for k in 0..[0, 1, 0, 12, 2, 0, 7, 1, 3][i % 9] {
                events.push_str(&format!("P{i},2023-05-{:02},gp_appointment,\n", 10 + k));
            }
        }
    }
    let j = run(&people, &events, &no_suppression());
    let m = &j["outcomes"][0]["models"];
    for model in ["poisson", "negative_binomial"] {
        let terms = m[model]["terms"].as_array().unwrap();
        assert!(!terms.is_empty(), "{model}: {}", m[model]);
        let l3 = terms.iter().find(|t| t["term"] == "level_3").unwrap();
        assert!(l3["irr"].is_null());
        assert!(
            l3["note"]
                .as_str()
                .unwrap_or_else(|| panic!("{model}: {}", m[model]))
                .contains("no events"),
            "{model}: {l3}"
        );
        let l2 = terms
            .iter()
            .find(|t| t["term"] == "level_2")
            .unwrap_or_else(|| panic!("{model}: {}", m[model]));
        assert!(l2["irr"].as_f64().unwrap() > 0.0, "{model}");
        let l4 = terms.iter().find(|t| t["term"] == "level_4").unwrap();
        assert_eq!(l4["note"], "no observation periods in this category");
    }
}

#[test]
fn records_api_matches_file_api() {
    let people = format!(
        "{PEOPLE_H}A,45,female,3,2,1,2023-01-01,2023-12-31\nA,46,female,3,2,2,2024-01-01,2024-06-30\n\
         B,82,male,10,6,4,2023-01-01,2023-12-31\nC,30,female,1,1,3,2023-01-01,2023-03-31\n\
         D,65,male,5,3,1,2023-01-01,2023-12-31\nE,55,female,7,1,2,2023-01-01,2023-12-31\n"
    );
    let mut events = String::from(EVENTS_H);
    let spec = [
        ("A", "2023-02-01", 5),
        ("A", "2024-02-01", 3),
        ("B", "2023-02-01", 2),
        ("C", "2023-02-01", 4),
        ("D", "2023-02-01", 9),
        ("E", "2023-02-01", 6),
    ];
    for (p, d, n) in spec {
        for _ in 0..n {
            events.push_str(&format!("{p},{d},gp_appointment,\n"));
        }
    }
    let from_files = run(&people, &events, &no_suppression());
    let rec = |key, age, sex, dec, ltc, level, days, n| PeriodRecord {
        person_key: key,
        age,
        sex,
        deprivation_decile: dec,
        ltc_count: ltc,
        activation_level: level,
        exposure_days: days,
        counts: [n, 0, 0, 0, 0, 0, 0],
    };
    let records = [
        rec(1, 45, Sex::Female, 3, 2, 1, 365, 5),
        rec(1, 46, Sex::Female, 3, 2, 2, 182, 3),
        rec(2, 82, Sex::Male, 10, 6, 4, 365, 2),
        rec(3, 30, Sex::Female, 1, 1, 3, 90, 4),
        rec(4, 65, Sex::Male, 5, 3, 1, 365, 9),
        rec(5, 55, Sex::Female, 7, 1, 2, 365, 6),
    ];
    let r = evaluate_records(&records, None, &no_suppression()).unwrap();
    let from_records: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(from_files["outcomes"], from_records["outcomes"]);
    let bad = [rec(1, 45, Sex::Female, 3, 0, 1, 365, 5)];
    assert!(matches!(
        evaluate_records(&bad, None, &no_suppression()),
        Err(EvalError::InvalidRecord { index: 0, .. })
    ));
}

#[test]
fn html_and_csv_are_complete_and_labelled() {
    let (mut p, mut e, mut m) = (Vec::new(), Vec::new(), Vec::new());
    generate(
        3000,
        11,
        &SynthOptions::default(),
        &mut p,
        &mut e,
        Some(&mut m),
    )
    .unwrap();
    let r = evaluate_files(&p[..], &e[..], Some(&m[..]), &EvalOptions::default()).unwrap();
    let html = r.to_html();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("Observational associations, not proof of effect"));
    assert!(html.contains("@media print"));
    assert!(html.contains("<caption>"));
    assert!(html.contains("scope=\"row\""));
    assert!(html.contains("role=\"img\""));
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    for o in alongside_stats::Outcome::ALL {
        assert!(html.contains(&format!("id=\"{}\"", o.name())));
    }
    assert!(html.contains("Change in activation"));
    let mut csv = Vec::new();
    r.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("section,outcome,model,item,count,person_years,estimate,ci_low,ci_high,p_value,coef,se,note\n"));
    assert!(csv.contains("rate_ratio,ae_minor,negative_binomial,level_4,"));
    assert!(csv.contains("alpha,gp_appointment,negative_binomial,alpha,"));
    assert!(csv.contains("activation_movement,,,level_1_to_level_2,"));
    let j: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert!(j["interpretation"]
        .as_str()
        .unwrap()
        .contains("not evidence"));
    assert_eq!(j["covariates"].as_array().unwrap().len(), 4);
    assert!(j["activation_change"]["mean_change"].as_f64().is_some());
    let level4 = &j["outcomes"][4]["models"]["negative_binomial"]["terms"][3];
    assert_eq!(level4["term"], "level_4");
    for k in ["irr", "ci_low", "ci_high", "p", "coef", "se"] {
        assert!(level4[k].as_f64().is_some(), "{k}");
    }
}

#[test]
fn long_and_quoted_ids_are_matched_exactly() {
    let a = "3f2b9c1e-8d4a-4e7b-9a51-0c6d2e8f7a10";
    let b = "3f2b9c1e-8d4a-4e7b-9a51-0c6d2e8f7a11"; // differs in the last byte only
    let people = format!(
        "{PEOPLE_H}{a},45,female,3,2,1,2023-01-01,2023-12-31\n{b},45,female,3,2,2,2023-01-01,2023-12-31\n\"Q,1\",50,male,4,1,3,2023-01-01,2023-12-31\n"
    );
    let events = format!(
        "{EVENTS_H}{a},2023-02-01,gp_appointment,\n{b},2023-02-01,gp_appointment,\n{b},2023-02-02,gp_appointment,\n\
         \"Q,1\",2023-03-01,gp_appointment,\n\"{a}\",2023-03-01,gp_dna,\n3f2b9c1e,2023-03-01,gp_dna,\n"
    );
    let r = run(&people, &events, &no_suppression());
    assert_eq!(r["inputs"]["people_rejected"], 0);
    assert_eq!(r["inputs"]["events_counted"], 5);
    assert_eq!(r["inputs"]["events_unknown_person"], 1);
    let gp = &r["outcomes"][0]["crude"];
    assert_eq!(gp[0]["events"], 1);
    assert_eq!(gp[1]["events"], 2);
    assert_eq!(gp[2]["events"], 1);
    assert_eq!(r["outcomes"][1]["crude"][0]["events"], 1);
    assert_eq!(r["population"]["people"], 3);
}

fn level_ratios(r: &alongside_stats::Report, outcome: usize) -> Vec<f64> {
    let j: Value = serde_json::from_str(&r.to_json()).unwrap();
    let mut out = Vec::new();
    for model in ["poisson", "negative_binomial"] {
        let m = &j["outcomes"][outcome]["models"][model];
        let terms = m["terms"].as_array().unwrap().clone();
        assert!(!terms.is_empty(), "{model}: {}", m["reason"]);
        for t in &terms[1..4] {
            for k in ["irr", "ci_low", "ci_high"] {
                out.push(t[k].as_f64().unwrap_or_else(|| panic!("{model} {t}")));
            }
        }
    }
    out
}

fn varied_records(
    n: u64,
    age_of: impl Fn(u64) -> u16,
    decile_of: impl Fn(u64) -> u8,
) -> Vec<PeriodRecord> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n);
    (0..n)
        .map(|i| {
            let level = rng.gen_range(1..=4u8);
            let mu = 2.0 * rng.gen_range(0.1f64..3.0) / f64::from(level).sqrt();
            let y = (mu * rng.gen_range(0.0f64..2.0)).round() as u32;
            PeriodRecord {
                person_key: i,
                age: age_of(rng.gen_range(0..1000)),
                sex: if rng.gen() { Sex::Male } else { Sex::Female },
                deprivation_decile: decile_of(rng.gen_range(0..1000)),
                ltc_count: rng.gen_range(1..7),
                activation_level: level,
                exposure_days: rng.gen_range(200..366),
                counts: [y, 0, 0, 0, 0, 0, 0],
            }
        })
        .collect()
}

#[test]
fn empty_covariate_reference_category_is_replaced_and_level_ratios_are_unchanged() {
    let ages = [45u16, 55, 65, 75, 85];
    // A: nobody is 18-39, so the age reference category is empty.
    let a = varied_records(800, |i| ages[(i % 5) as usize], |i| 1 + (i % 10) as u8);
    // B: the same data with the 40-49 group relabelled as 18-39: an identical design.
    let b: Vec<PeriodRecord> = a
        .iter()
        .map(|r| PeriodRecord {
            age: if r.age == 45 { 30 } else { r.age },
            ..*r
        })
        .collect();
    let ra = evaluate_records(&a, None, &no_suppression()).unwrap();
    let rb = evaluate_records(&b, None, &no_suppression()).unwrap();
    for (x, y) in level_ratios(&ra, 0).iter().zip(level_ratios(&rb, 0)) {
        assert!(((x - y) / y).abs() < 1e-9, "{x} vs {y}");
    }
    let j: Value = serde_json::from_str(&ra.to_json()).unwrap();
    let terms = &j["outcomes"][0]["models"]["poisson"]["terms"];
    assert!(terms[4]["note"]
        .as_str()
        .unwrap()
        .contains("used as the reference category"));
    assert!(terms[5]["irr"].is_null());
    assert!(terms[5]["note"]
        .as_str()
        .unwrap()
        .starts_with("not reported"));
    assert!(
        terms[0]["irr"].is_null(),
        "intercept refers to a changed reference group"
    );
    assert!(
        terms[9]["irr"].as_f64().is_some(),
        "sex_male is still reported"
    );
}

#[test]
fn reference_category_without_events_is_excluded_and_level_ratios_are_unchanged() {
    let ages = [30u16, 45, 55, 65, 75, 85];
    let mut a = varied_records(900, |i| ages[(i % 6) as usize], |i| 1 + (i % 10) as u8);
    for r in a.iter_mut().filter(|r| r.deprivation_decile <= 2) {
        r.counts = [0; 7];
    }
    // B: drop quintile 1 and relabel quintile 2 (deciles 3, 4) as quintile 1.
    let b: Vec<PeriodRecord> = a
        .iter()
        .filter(|r| r.deprivation_decile > 2)
        .map(|r| PeriodRecord {
            deprivation_decile: if r.deprivation_decile <= 4 {
                r.deprivation_decile - 2
            } else {
                r.deprivation_decile
            },
            ..*r
        })
        .collect();
    let ra = evaluate_records(&a, None, &no_suppression()).unwrap();
    let rb = evaluate_records(&b, None, &no_suppression()).unwrap();
    for (x, y) in level_ratios(&ra, 0).iter().zip(level_ratios(&rb, 0)) {
        assert!(((x - y) / y).abs() < 1e-9, "{x} vs {y}");
    }
    let j: Value = serde_json::from_str(&ra.to_json()).unwrap();
    let q2 = &j["outcomes"][0]["models"]["negative_binomial"]["terms"][10];
    assert_eq!(q2["term"], "deprivation_q2");
    assert!(
        q2["note"]
            .as_str()
            .unwrap()
            .contains("deprivation quintile 1 had no events"),
        "{q2}"
    );
}
