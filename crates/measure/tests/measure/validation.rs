//! Definition errors: every rule rejects a definition that breaks it, and the error names the
//! field path.

use crate::common::{load, lookup_base, rasch_base};
use serde_json::{json, Value};

/// Apply `edit` to `base`, load it, and require an error at `path` whose message contains
/// `needle`; the displayed error must also start the entry with the path.
fn check(base: Value, edit: impl FnOnce(&mut Value), path: &str, needle: &str) {
    let mut v = base;
    edit(&mut v);
    let err = match load(&v) {
        Ok(_) => panic!("expected an error at {path}, but the definition loaded"),
        Err(e) => e,
    };
    assert!(
        err.errors
            .iter()
            .any(|e| e.path == path && e.message.contains(needle)),
        "expected an error at {path:?} containing {needle:?}, got: {err}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("{path}: ")),
        "display {shown:?} should name {path}"
    );
}

#[test]
fn bases_are_valid() {
    load(&rasch_base()).unwrap();
    load(&lookup_base()).unwrap();
}

#[test]
fn unknown_scoring_model() {
    check(
        rasch_base(),
        |v| v["scoring"]["model"] = json!("irt"),
        "scoring.model",
        "unknown scoring model \"irt\"",
    );
}

#[test]
fn duplicate_link_ids() {
    check(
        rasch_base(),
        |v| v["items"][2]["link_id"] = json!("q1"),
        "items[2].link_id",
        "duplicate link id \"q1\"",
    );
}

#[test]
fn duplicate_option_codes() {
    check(
        rasch_base(),
        |v| v["items"][1]["options"][1]["code"] = json!("1"),
        "items[1].options[1].code",
        "duplicate code \"1\"",
    );
}

#[test]
fn missing_thresholds() {
    check(
        rasch_base(),
        |v| {
            v["scoring"]["items"][0]
                .as_object_mut()
                .unwrap()
                .remove("thresholds");
        },
        "scoring.items[0].thresholds",
        "missing",
    );
}

#[test]
fn wrong_number_of_thresholds() {
    check(
        rasch_base(),
        |v| v["scoring"]["items"][1]["thresholds"] = json!([-1.0, 1.0]),
        "scoring.items[1].thresholds",
        "needs 3 thresholds, found 2",
    );
}

#[test]
fn non_monotonic_thresholds_rejected_unless_allowed() {
    let edit = |v: &mut Value| v["scoring"]["items"][0]["thresholds"] = json!([-1.0, 1.0, 0.5]);
    check(
        rasch_base(),
        edit,
        "scoring.items[0].thresholds[2]",
        "thresholds must increase",
    );
    let mut v = rasch_base();
    edit(&mut v);
    v["scoring"]["allow_disordered_thresholds"] = json!(true);
    load(&v).expect("disordered thresholds are accepted when allowed");
}

#[test]
fn shared_thresholds_fill_in_for_items() {
    let mut v = rasch_base();
    v["scoring"]["shared_thresholds"] = json!([-1.0, 0.0, 1.0]);
    v["scoring"]["items"][2]
        .as_object_mut()
        .unwrap()
        .remove("thresholds");
    load(&v).expect("shared thresholds used for q3");
    check(
        v,
        |v| v["scoring"]["shared_thresholds"] = json!([-1.0, 0.0]),
        "scoring.shared_thresholds",
        "needs 3 thresholds, found 2",
    );
}

#[test]
fn rasch_category_scores_must_be_contiguous_from_zero() {
    check(
        rasch_base(),
        |v| v["items"][0]["options"][3]["score"] = json!(4),
        "items[0].options[3].score",
        "must be 0..3",
    );
    check(
        rasch_base(),
        |v| v["items"][0]["options"][3]["score"] = json!(2),
        "items[0].options[3].score",
        "used twice",
    );
}

#[test]
fn calibrations_must_match_items() {
    check(
        rasch_base(),
        |v| v["scoring"]["items"][2]["link_id"] = json!("q9"),
        "scoring.items[2].link_id",
        "no item has link id \"q9\"",
    );
    check(
        rasch_base(),
        |v| {
            v["scoring"]["items"].as_array_mut().unwrap().pop();
        },
        "scoring.items",
        "no calibration for item \"q3\"",
    );
    check(
        rasch_base(),
        |v| v["scoring"]["items"][2]["link_id"] = json!("q1"),
        "scoring.items[2].link_id",
        "duplicate calibration",
    );
    check(
        rasch_base(),
        |v| v["scoring"]["items"][1]["difficulty"] = json!(80.0),
        "scoring.items[1].difficulty",
        "within",
    );
}

#[test]
fn rasch_needs_scale_and_sane_adjustment() {
    check(
        rasch_base(),
        |v| {
            v["scoring"].as_object_mut().unwrap().remove("slope");
        },
        "scoring.slope",
        "missing",
    );
    check(
        rasch_base(),
        |v| v["scoring"]["slope"] = json!(0.0),
        "scoring.slope",
        "not zero",
    );
    check(
        rasch_base(),
        |v| v["scoring"]["extreme_adjustment"] = json!(0.5),
        "scoring.extreme_adjustment",
        "less than 0.5",
    );
    check(
        rasch_base(),
        |v| v["scoring"]["extreme_adjustment"] = json!(0.0),
        "scoring.extreme_adjustment",
        "greater than 0",
    );
}

#[test]
fn fields_of_another_model_are_rejected() {
    check(
        rasch_base(),
        |v| v["scoring"]["table"] = json!([]),
        "scoring.table",
        "not used by the rasch model",
    );
    check(
        lookup_base(),
        |v| v["scoring"]["slope"] = json!(2.0),
        "scoring.slope",
        "not used by the lookup model",
    );
}

#[test]
fn lookup_table_gaps_and_ends() {
    check(
        lookup_base(),
        |v| {
            v["scoring"]["table"].as_array_mut().unwrap().remove(3);
        },
        "scoring.table[3].raw",
        "gap in table: expected raw score 3, found 4",
    );
    check(
        lookup_base(),
        |v| {
            v["scoring"]["table"].as_array_mut().unwrap().pop();
        },
        "scoring.table",
        "missing raw score 6",
    );
    check(
        lookup_base(),
        |v| {
            v["scoring"]["table"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "raw": 7, "score": 95.0 }));
        },
        "scoring.table[7].raw",
        "beyond the highest possible raw score 6",
    );
    check(
        lookup_base(),
        |v| v["scoring"]["table"][0]["raw"] = json!(1),
        "scoring.table[0].raw",
        "expected raw score 0, found 1",
    );
    check(
        lookup_base(),
        |v| v["scoring"]["table"][2]["score"] = json!(101.0),
        "scoring.table[2].score",
        "within the reporting scale",
    );
    check(
        lookup_base(),
        |v| v["scoring"]["answered_items"] = json!(4),
        "scoring.answered_items",
        "between 1 and the number of items (3)",
    );
}

#[test]
fn lookup_table_for_fewer_items_than_the_instrument_has() {
    // Two answered items scored 0..2: raw 0..=4.
    let mut v = lookup_base();
    v["scoring"]["answered_items"] = json!(2);
    v["scoring"]["table"].as_array_mut().unwrap().truncate(5);
    load(&v).expect("a table for two answered items covers raw 0..=4");
}

#[test]
fn cut_points_out_of_order() {
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][1]["upper"] = json!(40.0),
        "reporting.levels[1].upper",
        "cut points out of order",
    );
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][2]["upper"] = json!(55.1),
        "reporting.levels[2].upper",
        "cut points out of order",
    );
}

#[test]
fn cut_point_rules() {
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][3]["upper"] = json!(90.0),
        "reporting.levels[3].upper",
        "last level must have no upper bound",
    );
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][1]["upper"] = Value::Null,
        "reporting.levels[1].upper",
        "missing upper bound",
    );
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][0]["upper"] = json!(47.05),
        "reporting.levels[0].upper",
        "at most one decimal place",
    );
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][2]["level"] = json!(4),
        "reporting.levels[2].level",
        "expected 3, found 4",
    );
    check(
        rasch_base(),
        |v| v["reporting"]["levels"][2]["upper"] = json!(100.0),
        "reporting.levels[2].upper",
        "within the reporting scale",
    );
}

#[test]
fn text_missing_for_a_declared_language() {
    check(
        rasch_base(),
        |v| {
            v["items"][1]["text"].as_object_mut().unwrap().remove("pl");
        },
        "items[1].text",
        "missing text for language \"pl\"",
    );
    check(
        rasch_base(),
        |v| {
            v["reporting"]["levels"][0]["person_text"]
                .as_object_mut()
                .unwrap()
                .remove("en");
        },
        "reporting.levels[0].person_text",
        "missing text for language \"en\"",
    );
    check(
        rasch_base(),
        |v| {
            v["items"][0]["options"][2]["label"]
                .as_object_mut()
                .unwrap()
                .remove("pl");
        },
        "items[0].options[2].label",
        "missing text for language \"pl\"",
    );
    check(
        rasch_base(),
        |v| v["title"]["de"] = json!("Titel"),
        "title.de",
        "not declared",
    );
    check(
        rasch_base(),
        |v| v["items"][0]["text"]["en"] = json!("  "),
        "items[0].text.en",
        "must not be empty",
    );
}

#[test]
fn not_applicable_codes_must_be_option_codes() {
    check(
        rasch_base(),
        |v| v["items"][2]["not_applicable"] = json!(["na", "x"]),
        "items[2].not_applicable[1]",
        "\"x\" is not an option code",
    );
    check(
        rasch_base(),
        |v| v["items"][0]["options"][4]["score"] = json!(9),
        "items[0].options[4].score",
        "must not have a score",
    );
    check(
        rasch_base(),
        |v| v["items"][0]["not_applicable"] = json!([]),
        "items[0].options[4].score",
        "missing score for option \"na\"",
    );
}

#[test]
fn quality_rules_are_checked() {
    check(
        rasch_base(),
        |v| v["quality"]["min_answered"] = json!(0),
        "quality.min_answered",
        "at least 1",
    );
    check(
        rasch_base(),
        |v| v["quality"]["min_answered"] = json!(4),
        "quality.min_answered",
        "more than the number of items (3)",
    );
}

#[test]
fn meaningful_change_must_be_positive_tenths() {
    check(
        rasch_base(),
        |v| v["reporting"]["meaningful_change"] = json!(0.25),
        "reporting.meaningful_change",
        "at most one decimal place",
    );
    check(
        rasch_base(),
        |v| v["reporting"]["meaningful_change"] = json!(-3.0),
        "reporting.meaningful_change",
        "positive",
    );
}

#[test]
fn shape_errors_name_the_field_path() {
    check(
        rasch_base(),
        |v| v["items"][1]["options"][2]["score"] = json!("2"),
        "items[1].options[2].score",
        "invalid type",
    );
    check(
        rasch_base(),
        |v| v["items"][0]["optoins"] = json!([]),
        "items[0].optoins",
        "unknown field",
    );
    check(
        rasch_base(),
        |v| {
            v.as_object_mut().unwrap().remove("quality");
        },
        "",
        "missing field `quality`",
    );
}

#[test]
fn all_errors_are_reported_together() {
    let mut v = rasch_base();
    v["items"][2]["link_id"] = json!("q1");
    v["reporting"]["levels"][1]["upper"] = json!(40.0);
    v["items"][0]["not_applicable"] = json!(["zz"]);
    let err = load(&v).unwrap_err();
    for path in [
        "items[2].link_id",
        "reporting.levels[1].upper",
        "items[0].not_applicable[0]",
    ] {
        assert!(err.has_path(path), "{path} missing from {err}");
    }
}

#[test]
fn languages_must_be_distinct() {
    check(
        rasch_base(),
        |v| v["languages"]["others"] = json!(["pl", "pl"]),
        "languages.others[1]",
        "duplicate language \"pl\"",
    );
}
