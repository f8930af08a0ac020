//! Shared helpers for the integration tests: synthetic instruments only (never real instrument
//! content beyond the shipped files).
#![allow(dead_code)]

use alongside_measure::Instrument;
use serde_json::{json, Value};

pub const DEMO: &str = include_str!("../../../../../instruments/alongside-demo-activation.json");
pub const SEMCD: &str = include_str!("../../../../../instruments/semcd-6.json");

pub fn demo() -> Instrument {
    Instrument::from_json_str(DEMO).expect("demo instrument loads")
}

pub fn semcd() -> Instrument {
    Instrument::from_json_str(SEMCD).expect("SEMCD-6 loads")
}

pub fn text(en: &str) -> Value {
    json!({ "en": en, "pl": format!("{en} (pl)") })
}

/// Four levels with the default activation cut points.
pub fn default_levels() -> Value {
    let uppers = [json!(47.0), json!(55.1), json!(72.4), Value::Null];
    Value::Array(
        uppers
            .iter()
            .enumerate()
            .map(|(k, u)| {
                json!({
                    "level": k + 1,
                    "upper": u,
                    "name": text(&format!("Level {}", k + 1)),
                    "description": text("staff text"),
                    "person_text": text("person text"),
                })
            })
            .collect(),
    )
}

/// A small valid `rasch` instrument: three 4-category items plus a not-applicable code, two
/// languages, default levels.
pub fn rasch_base() -> Value {
    let options = |_: usize| {
        json!([
            { "code": "1", "score": 0, "label": text("disagree strongly") },
            { "code": "2", "score": 1, "label": text("disagree") },
            { "code": "3", "score": 2, "label": text("agree") },
            { "code": "4", "score": 3, "label": text("agree strongly") },
            { "code": "na", "label": text("not applicable") }
        ])
    };
    json!({
        "id": "test-rasch",
        "version": "1",
        "title": text("Test instrument"),
        "source": "synthetic test data",
        "languages": { "default": "en", "others": ["pl"] },
        "items": (0..3).map(|i| json!({
            "link_id": format!("q{}", i + 1),
            "text": text(&format!("statement {}", i + 1)),
            "options": options(i),
            "not_applicable": ["na"]
        })).collect::<Vec<_>>(),
        "scoring": {
            "model": "rasch",
            "intercept": 50.0,
            "slope": 10.0,
            "items": [
                { "link_id": "q1", "difficulty": -0.5, "thresholds": [-1.0, 0.0, 1.0] },
                { "link_id": "q2", "difficulty": 0.0, "thresholds": [-1.5, 0.2, 1.3] },
                { "link_id": "q3", "difficulty": 0.7, "thresholds": [-0.8, 0.1, 0.9] }
            ]
        },
        "quality": { "min_answered": 2 },
        "reporting": { "min": 0.0, "max": 100.0, "levels": default_levels() }
    })
}

/// A small valid `lookup` instrument: three items scored 0..2, table for all three answered.
pub fn lookup_base() -> Value {
    let mut v = rasch_base();
    for item in v["items"].as_array_mut().unwrap() {
        item["options"] = json!([
            { "code": "a", "score": 0, "label": text("no") },
            { "code": "b", "score": 1, "label": text("sometimes") },
            { "code": "c", "score": 2, "label": text("yes") },
            { "code": "na", "label": text("not applicable") }
        ]);
    }
    v["scoring"] = json!({
        "model": "lookup",
        "answered_items": 3,
        "table": [
            { "raw": 0, "score": 10.0, "standard_error": 8.0 },
            { "raw": 1, "score": 25.5, "standard_error": 6.0 },
            { "raw": 2, "score": 38.0, "standard_error": 5.0 },
            { "raw": 3, "score": 47.0, "standard_error": 5.0 },
            { "raw": 4, "score": 55.2, "standard_error": 5.0 },
            { "raw": 5, "score": 72.5, "standard_error": 6.0 },
            { "raw": 6, "score": 90.0, "standard_error": 8.0 }
        ]
    });
    v
}

pub fn load(v: &Value) -> Result<Instrument, alongside_measure::InstrumentError> {
    Instrument::from_json_str(&v.to_string())
}
