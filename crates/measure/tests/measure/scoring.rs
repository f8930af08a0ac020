//! Scoring behaviour of the three models, quality rules, levels, change and bad responses, as
//! data-driven `check(input, expected)` tables.

use crate::common::{demo, load, lookup_base, rasch_base, semcd};
use alongside_measure::{
    Direction, Flag, Flags, Instrument, NotScoredReason, Outcome, ResponseError, Scored,
};
use serde_json::json;

fn answers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a str, &'a str)> {
    pairs.iter().copied()
}

/// All 13 demo items answered with the same code.
fn demo_all(code: &str) -> Vec<(String, String)> {
    (1..=13)
        .map(|i| (format!("demo-{i:02}"), code.to_string()))
        .collect()
}

fn score_owned(ins: &Instrument, pairs: &[(String, String)]) -> Outcome {
    ins.score_answers(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())))
        .unwrap()
}

// ---------- levels ----------

#[test]
fn default_activation_levels_are_inclusive_upper_bounds() {
    let ins = demo();
    let check = |score: f64, level: u8| {
        assert_eq!(ins.level_for_score(score), Some(level), "score {score}");
    };
    check(0.0, 1);
    check(47.0, 1);
    check(47.04, 1);
    check(47.0499, 1);
    check(47.05, 2); // rounds to 47.1 (half away from zero, see levels module)
    check(47.1, 2);
    check(55.1, 2);
    check(55.149, 2);
    check(55.15, 3);
    check(55.2, 3);
    check(72.4, 3);
    check(72.44, 3);
    check(72.45, 4);
    check(72.5, 4);
    check(100.0, 4);
}

#[test]
fn instruments_without_levels_give_no_level() {
    let ins = semcd();
    assert_eq!(ins.level_for_score(5.0), None);
    assert!(ins.levels().is_empty());
}

#[test]
fn level_texts_are_data() {
    let ins = demo();
    assert_eq!(ins.levels().len(), 4);
    let l1 = ins.level(1).unwrap();
    assert!(ins.localise(&l1.person_text, "en").contains("small"));
    assert!(!ins.localise(&l1.person_text, "pl").is_empty());
    // Unknown language falls back to the default language.
    assert_eq!(
        ins.localise(&l1.person_text, "xx"),
        ins.localise(&l1.person_text, "en")
    );
    assert!(ins.level(0).is_none() && ins.level(5).is_none());
}

// ---------- rasch ----------

#[test]
fn rasch_not_applicable_counts_as_missing() {
    let ins = demo();
    let mut with_na = demo_all("3");
    with_na[4].1 = "na".into();
    let mut without = demo_all("3");
    without.remove(4);
    let a = score_owned(&ins, &with_na);
    let b = score_owned(&ins, &without);
    assert_eq!(a, b);
    assert_eq!(a.items_answered(), 12);
    assert_eq!(a.raw_score(), 24);
}

#[test]
fn rasch_min_answered_rule() {
    let ins = demo();
    let six: Vec<(String, String)> = demo_all("2").into_iter().take(6).collect();
    assert_eq!(
        score_owned(&ins, &six),
        Outcome::NotScored(alongside_measure::NotScored {
            items_answered: 6,
            raw_score: 6,
            reason: NotScoredReason::TooFewAnswered {
                answered: 6,
                required: 7
            },
        })
    );
    let seven: Vec<(String, String)> = demo_all("2").into_iter().take(7).collect();
    assert!(score_owned(&ins, &seven).scored().is_some());
}

#[test]
fn rasch_extreme_scores_are_adjusted_and_flagged() {
    let ins = demo();
    let low = *score_owned(&ins, &demo_all("1")).scored().unwrap();
    let high = *score_owned(&ins, &demo_all("4")).scored().unwrap();
    let mixed = *score_owned(&ins, &demo_all("3")).scored().unwrap();
    assert_eq!(low.flags, Flags::from_iter([Flag::AllLowestCategory]));
    assert_eq!(high.flags, Flags::from_iter([Flag::AllHighestCategory]));
    assert!(mixed.flags.is_empty());
    assert!(low.measure.unwrap().is_finite() && high.measure.unwrap().is_finite());
    // Raw 0 is solved as raw 0.3: strictly below raw 1.
    let mut one = demo_all("1");
    one[0].1 = "2".into();
    let one = *score_owned(&ins, &one).scored().unwrap();
    assert!(low.measure.unwrap() < one.measure.unwrap());
    assert_eq!(low.level, Some(1));
    assert_eq!(high.level, Some(4));
}

#[test]
fn rasch_reported_scale_and_its_standard_error() {
    let v = rasch_base();
    let ins = load(&v).unwrap();
    let s = *ins
        .score_answers(answers(&[("q1", "3"), ("q2", "2"), ("q3", "4")]))
        .unwrap()
        .scored()
        .unwrap();
    let m = s.measure.unwrap();
    assert!((s.score - (50.0 + 10.0 * m)).abs() < 1e-12);
    assert!((s.score_standard_error.unwrap() - 10.0 * s.standard_error.unwrap()).abs() < 1e-12);
    assert_eq!(s.level, ins.level_for_score(s.score));
}

#[test]
fn rasch_scores_are_clamped_and_flagged() {
    let mut v = rasch_base();
    v["scoring"]["slope"] = json!(40.0);
    let ins = load(&v).unwrap();
    let high = *ins
        .score_answers(answers(&[("q1", "4"), ("q2", "4"), ("q3", "4")]))
        .unwrap()
        .scored()
        .unwrap();
    assert_eq!(high.score, 100.0);
    assert!(high.flags.contains(Flag::ScoreClamped));
    assert!(high.flags.contains(Flag::AllHighestCategory));
    let low = *ins
        .score_answers(answers(&[("q1", "1"), ("q2", "1")]))
        .unwrap()
        .scored()
        .unwrap();
    assert_eq!(low.score, 0.0);
    assert!(low.flags.contains(Flag::ScoreClamped));
    let mid = *ins
        .score_answers(answers(&[("q1", "2"), ("q2", "3"), ("q3", "2")]))
        .unwrap()
        .scored()
        .unwrap();
    assert!(!mid.flags.contains(Flag::ScoreClamped));
}

#[test]
fn identical_extreme_flag_can_be_switched_off() {
    let mut v = rasch_base();
    v["quality"]["flag_identical_extreme"] = json!(false);
    let ins = load(&v).unwrap();
    let s = *ins
        .score_answers(answers(&[("q1", "1"), ("q2", "1"), ("q3", "1")]))
        .unwrap()
        .scored()
        .unwrap();
    assert!(s.flags.is_empty());
}

#[test]
fn rasch_negative_slope_reverses_the_scale() {
    let mut v = rasch_base();
    v["scoring"]["slope"] = json!(-10.0);
    let ins = load(&v).unwrap();
    let lo = ins
        .score_answers(answers(&[("q1", "2"), ("q2", "2")]))
        .unwrap();
    let hi = ins
        .score_answers(answers(&[("q1", "3"), ("q2", "3")]))
        .unwrap();
    assert!(hi.scored().unwrap().score < lo.scored().unwrap().score);
    assert!(hi.scored().unwrap().score_standard_error.unwrap() > 0.0);
}

// ---------- mean (SEMCD-6) ----------

#[test]
fn semcd_mean_of_answered_items() {
    let ins = semcd();
    let check = |pairs: &[(&str, &str)], expected: Option<f64>| {
        let out = ins.score_answers(answers(pairs)).unwrap();
        match (out, expected) {
            (Outcome::Scored(s), Some(e)) => {
                assert!((s.score - e).abs() < 1e-12, "{pairs:?}: {} vs {e}", s.score);
                assert_eq!(s.measure, None);
                assert_eq!(s.standard_error, None);
                assert_eq!(s.level, None);
            }
            (Outcome::NotScored(n), None) => {
                assert_eq!(n.reason.code(), "too_few_answered", "{pairs:?}");
            }
            (o, e) => panic!("{pairs:?}: got {o:?}, expected {e:?}"),
        }
    };
    let all = [
        ("semcd-1", "7"),
        ("semcd-2", "8"),
        ("semcd-3", "5"),
        ("semcd-4", "6"),
        ("semcd-5", "10"),
        ("semcd-6", "3"),
    ];
    check(&all, Some(39.0 / 6.0));
    check(&all[..5], Some(36.0 / 5.0));
    check(&all[..4], Some(26.0 / 4.0)); // two missing: still scored
    check(&all[..3], None); // three missing: not scored
    check(&all[2..], Some(24.0 / 4.0));
    check(&[], None);
}

#[test]
fn semcd_flags_identical_extremes() {
    let ins = semcd();
    let ones: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("semcd-{i}"), "1".into()))
        .collect();
    let tens: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("semcd-{i}"), "10".into()))
        .collect();
    let fives: Vec<(String, String)> = (1..=6)
        .map(|i| (format!("semcd-{i}"), "5".into()))
        .collect();
    let s = |p: &[(String, String)]| *score_owned(&ins, p).scored().unwrap();
    assert_eq!(s(&ones).flags.to_string(), "all_lowest_category");
    assert_eq!(s(&ones).score, 1.0);
    assert_eq!(s(&tens).flags.to_string(), "all_highest_category");
    assert_eq!(s(&tens).score, 10.0);
    assert!(s(&fives).flags.is_empty());
}

#[test]
fn shipped_instruments_have_their_documented_shape() {
    let d = demo();
    assert_eq!(d.items().len(), 13);
    assert_eq!(d.model_name(), "rasch");
    assert_eq!(d.languages().collect::<Vec<_>>(), ["en", "pl"]);
    assert!(d.source().contains("NOT VALIDATED"));
    assert!(d.title("en").contains("NOT VALIDATED"));
    assert_eq!(d.meaningful_change(), 3.0);
    assert_eq!(d.reporting_range(), (0.0, 100.0));
    for item in d.items() {
        let labels: Vec<&str> = item
            .options
            .iter()
            .map(|o| d.localise(&o.label, "en"))
            .collect();
        assert_eq!(
            labels,
            [
                "Disagree strongly",
                "Disagree",
                "Agree",
                "Agree strongly",
                "Not applicable to me"
            ]
        );
    }
    let s = semcd();
    assert_eq!(s.items().len(), 6);
    assert_eq!(s.model_name(), "mean");
    assert!(s.source().contains("free to use without permission"));
    assert!(s.source().contains("Lorig"));
    for item in s.items() {
        assert_eq!(item.options.len(), 10);
    }
}

#[test]
fn definitions_round_trip_through_json() {
    for ins in [demo(), semcd(), load(&lookup_base()).unwrap()] {
        let again = Instrument::from_json_str(&ins.to_json_pretty()).unwrap();
        assert_eq!(again.definition(), ins.definition());
    }
}

// ---------- lookup ----------

#[test]
fn lookup_table_scores() {
    let ins = load(&lookup_base()).unwrap();
    let check = |pairs: &[(&str, &str)], expected: Result<(f64, f64, u8), &str>| {
        let out = ins.score_answers(answers(pairs)).unwrap();
        match (out, expected) {
            (Outcome::Scored(s), Ok((score, se, level))) => {
                assert_eq!(s.score, score, "{pairs:?}");
                assert_eq!(s.score_standard_error, Some(se), "{pairs:?}");
                assert_eq!(s.level, Some(level), "{pairs:?}");
            }
            (Outcome::NotScored(n), Err(code)) => assert_eq!(n.reason.code(), code, "{pairs:?}"),
            (o, e) => panic!("{pairs:?}: got {o:?}, expected {e:?}"),
        }
    };
    check(&[("q1", "a"), ("q2", "a"), ("q3", "a")], Ok((10.0, 8.0, 1)));
    check(&[("q1", "b"), ("q2", "c"), ("q3", "a")], Ok((47.0, 5.0, 1)));
    check(&[("q1", "b"), ("q2", "c"), ("q3", "b")], Ok((55.2, 5.0, 3)));
    check(&[("q1", "c"), ("q2", "c"), ("q3", "c")], Ok((90.0, 8.0, 4)));
    check(&[("q1", "c"), ("q2", "c")], Err("wrong_number_answered"));
    check(
        &[("q1", "c"), ("q2", "c"), ("q3", "na")],
        Err("wrong_number_answered"),
    );
    check(&[("q1", "c")], Err("too_few_answered"));
}

// ---------- bad responses ----------

#[test]
fn bad_responses_are_typed_errors_naming_item_and_code() {
    let ins = demo();
    let check = |pairs: &[(&str, &str)], expected: ResponseError, shown: &str| {
        let err = ins.score_answers(answers(pairs)).unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(err.to_string(), shown);
    };
    check(
        &[("demo-01", "3"), ("demo-99", "3")],
        ResponseError::UnknownItem {
            link_id: "demo-99".into(),
        },
        "unknown item link id \"demo-99\"",
    );
    check(
        &[("demo-02", "5")],
        ResponseError::UnknownCode {
            link_id: "demo-02".into(),
            code: "5".into(),
        },
        "item \"demo-02\": unknown answer code \"5\"",
    );
    check(
        &[("demo-02", "NA")],
        ResponseError::UnknownCode {
            link_id: "demo-02".into(),
            code: "NA".into(),
        },
        "item \"demo-02\": unknown answer code \"NA\"",
    );
    check(
        &[("demo-03", "1"), ("demo-03", "2")],
        ResponseError::DuplicateAnswer {
            link_id: "demo-03".into(),
        },
        "item \"demo-03\": answered more than once",
    );
    assert_eq!(
        ins.responses_in_order(&[Some("1")]).unwrap_err(),
        ResponseError::WrongLength {
            expected: 13,
            found: 1
        }
    );
}

#[test]
fn responses_in_order_matches_named_answers() {
    let ins = demo();
    let codes: Vec<Option<&str>> = (0..13)
        .map(|i| match i % 5 {
            0 => None,
            1 => Some("na"),
            k => Some(["1", "2", "3", "4"][k - 1]),
        })
        .collect();
    let a = ins.responses_in_order(&codes).unwrap();
    let named: Vec<(String, &str)> = codes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (format!("demo-{:02}", i + 1), c)))
        .collect();
    let b = ins
        .responses(named.iter().map(|(l, c)| (l.as_str(), *c)))
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.option_index(0), None);
    let stored = ins.answer_codes(&a);
    assert_eq!(stored.len(), 10);
    assert_eq!(stored[0], ("demo-02", "na"));
    assert_eq!(ins.responses(stored.iter().copied()).unwrap(), a);
    assert_eq!(a.option_index(1), Some(4));
    assert_eq!(ins.score(&a), ins.score(&b));
}

// ---------- change ----------

fn scored(score: f64, se: Option<f64>) -> Scored {
    Scored {
        items_answered: 13,
        raw_score: 20,
        measure: None,
        standard_error: None,
        score,
        score_standard_error: se,
        level: None,
        flags: Flags::empty(),
    }
}

#[test]
fn meaningful_change_by_threshold() {
    let ins = demo();
    let check = |a: f64, b: f64, diff: f64, meaningful: bool, dir: Direction| {
        let c = ins.compare(&scored(a, None), &scored(b, None));
        assert_eq!(c.difference, diff, "{a} -> {b}");
        assert_eq!(c.meaningful, meaningful, "{a} -> {b}");
        assert_eq!(c.direction, dir, "{a} -> {b}");
        assert_eq!(c.threshold, 3.0);
        assert_eq!(c.beyond_measurement_error, None);
    };
    check(50.0, 53.0, 3.0, true, Direction::Increase);
    check(50.0, 52.9, 2.9, false, Direction::Increase);
    check(50.04, 53.0, 3.0, true, Direction::Increase); // 50.04 rounds to 50.0
    check(49.96, 52.94, 2.9, false, Direction::Increase); // 50.0 -> 52.9
    check(53.0, 50.0, -3.0, true, Direction::Decrease);
    check(60.0, 57.1, -2.9, false, Direction::Decrease);
    check(60.0, 60.04, 0.0, false, Direction::NoChange);
    let c = ins.compare(&scored(40.0, None), &scored(45.0, None));
    assert!(c.is_meaningful_increase() && !c.is_meaningful_decrease());
}

#[test]
fn change_beyond_measurement_error() {
    let ins = demo();
    let check = |a: f64, b: f64, se1: f64, se2: f64, beyond: bool| {
        let c = ins.compare(&scored(a, Some(se1)), &scored(b, Some(se2)));
        let bound = 1.96 * (se1 * se1 + se2 * se2).sqrt();
        assert!((c.measurement_error_bound.unwrap() - bound).abs() < 1e-12);
        assert_eq!(c.beyond_measurement_error, Some(beyond), "{a} -> {b}");
    };
    // 1.96 × √8 = 5.5437…
    check(50.0, 56.0, 2.0, 2.0, true);
    check(50.0, 55.0, 2.0, 2.0, false);
    check(56.0, 50.0, 2.0, 2.0, true);
    check(50.0, 53.0, 3.0, 3.0, false); // meaningful by threshold, not beyond error
    let c = ins.compare(&scored(50.0, Some(1.0)), &scored(60.0, None));
    assert_eq!(c.beyond_measurement_error, None);
}

#[test]
fn meaningful_change_threshold_is_per_instrument() {
    let mut v = rasch_base();
    v["reporting"]["meaningful_change"] = json!(5.0);
    let ins = load(&v).unwrap();
    assert!(
        !ins.compare(&scored(50.0, None), &scored(54.9, None))
            .meaningful
    );
    assert!(
        ins.compare(&scored(50.0, None), &scored(55.0, None))
            .meaningful
    );
    let mut v = rasch_base();
    v["reporting"]
        .as_object_mut()
        .unwrap()
        .remove("meaningful_change");
    assert_eq!(load(&v).unwrap().meaningful_change(), 3.0);
}

// ---------- flags ----------

#[test]
fn flag_codes_are_stable() {
    let check = |f: Flag, code: &str| {
        assert_eq!(f.code(), code);
        assert_eq!(Flag::from_code(code), Some(f));
    };
    check(Flag::AllLowestCategory, "all_lowest_category");
    check(Flag::AllHighestCategory, "all_highest_category");
    check(Flag::ScoreClamped, "score_clamped");
    assert_eq!(Flag::from_code("nope"), None);
    let both = Flags::from_iter([Flag::ScoreClamped, Flag::AllHighestCategory]);
    assert_eq!(both.to_string(), "all_highest_category;score_clamped");
    assert_eq!(
        serde_json::to_string(&both).unwrap(),
        r#"["all_highest_category","score_clamped"]"#
    );
}

#[test]
fn outcomes_serialise_with_stable_codes() {
    let ins = semcd();
    let out = ins.score_answers(answers(&[("semcd-1", "4")])).unwrap();
    let v = serde_json::to_value(out).unwrap();
    assert_eq!(v["status"], "not_scored");
    assert_eq!(v["reason"], "too_few_answered");
}
