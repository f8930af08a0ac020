//! Known answers for the `rasch` model from an independent implementation
//! (`tests/reference/rasch_reference.py`: numpy, bisection) — compared to within 1e-6 logits.
//!
//! Needs Python 3 with numpy. If either is missing this test FAILS (it never skips): run the
//! project's test script, which installs them, or `pip install numpy`. Set `ALONGSIDE_PYTHON` to
//! choose the interpreter (default `python3`).

use std::path::{Path, PathBuf};
use std::process::Command;

use alongside_measure::{Instrument, Outcome};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const TOLERANCE: f64 = 1e-6;
const RANDOM_PATTERNS_PER_INSTRUMENT: usize = 150;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &str) -> Instrument {
    let text = std::fs::read_to_string(crate_dir().join(path)).unwrap();
    Instrument::from_json_str(&text).unwrap()
}

/// Random patterns: each item missing, not applicable (where it has such a code) or a random
/// option, plus a share of all-lowest / all-highest patterns.
fn random_patterns(ins: &Instrument, rng: &mut ChaCha8Rng) -> Vec<Value> {
    (0..RANDOM_PATTERNS_PER_INSTRUMENT)
        .map(|n| {
            let mut answers = serde_json::Map::new();
            let mode = rng.gen_range(0..10);
            for item in ins.items() {
                let scored: Vec<&alongside_measure::def::OptionDef> =
                    item.options.iter().filter(|o| o.score.is_some()).collect();
                let code = match (mode, rng.gen_range(0..20)) {
                    (_, 0..=2) => None,
                    (_, 3) if !item.not_applicable.is_empty() => {
                        Some(item.not_applicable[0].clone())
                    }
                    (0, _) => scored
                        .iter()
                        .min_by_key(|o| o.score)
                        .map(|o| o.code.clone()),
                    (1, _) => scored
                        .iter()
                        .max_by_key(|o| o.score)
                        .map(|o| o.code.clone()),
                    _ => Some(scored[rng.gen_range(0..scored.len())].code.clone()),
                };
                if let Some(c) = code {
                    answers.insert(item.link_id.clone(), Value::String(c));
                }
            }
            json!({ "name": format!("random {n}"), "answers": answers })
        })
        .collect()
}

fn python() -> String {
    std::env::var("ALONGSIDE_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

const HINT: &str = "the rasch reference test needs Python 3 with numpy: run the project's test \
                    script (.ci/run), which installs them, or `pip install numpy` \
                    (set ALONGSIDE_PYTHON to choose the interpreter)";

fn run_reference(cases_path: &Path) -> Vec<Value> {
    let py = python();
    let script = crate_dir().join("tests/reference/rasch_reference.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(cases_path)
        .current_dir(crate_dir())
        .output()
        .unwrap_or_else(|e| panic!("could not run {py:?}: {e}. FAILING because {HINT}"));
    if !out.status.success() {
        panic!(
            "{py} {} failed ({}): {}\nFAILING because {HINT}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("reference prints JSON");
    v["results"].as_array().expect("results array").clone()
}

#[test]
fn rasch_matches_independent_reference() {
    let fixed: Value = serde_json::from_str(
        &std::fs::read_to_string(crate_dir().join("tests/reference/cases.json")).unwrap(),
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(20240611);
    let mut cases = Vec::new();
    let mut instruments = Vec::new();
    for case in fixed["cases"].as_array().unwrap() {
        let path = case["instrument"].as_str().unwrap();
        let ins = load(path);
        let mut patterns = case["patterns"].as_array().unwrap().clone();
        patterns.extend(random_patterns(&ins, &mut rng));
        cases.push(json!({ "instrument": path, "patterns": patterns }));
        instruments.push(ins);
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let cases_path = dir.join("rasch_reference_cases.json");
    std::fs::write(
        &cases_path,
        serde_json::to_string(&json!({ "cases": cases })).unwrap(),
    )
    .unwrap();

    let results = run_reference(&cases_path);
    let mut expected_count = 0;
    let mut compared_scored = 0;
    let mut extremes = 0;
    let mut worst: f64 = 0.0;
    let mut k = 0;
    for (case, ins) in cases.iter().zip(&instruments) {
        for pat in case["patterns"].as_array().unwrap() {
            expected_count += 1;
            let r = &results[k];
            k += 1;
            let name = pat["name"].as_str().unwrap();
            assert_eq!(r["name"], pat["name"], "results out of order");
            let answers: Vec<(&str, &str)> = pat["answers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(l, c)| (l.as_str(), c.as_str().unwrap()))
                .collect();
            let ours = ins.score_answers(answers).unwrap();
            assert_eq!(
                ours.items_answered() as u64,
                r["items_answered"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(ours.raw_score(), r["raw_score"].as_i64().unwrap(), "{name}");
            match (&ours, r["status"].as_str().unwrap()) {
                (Outcome::Scored(s), "scored") => {
                    let m = r["measure"].as_f64().unwrap();
                    let se = r["standard_error"].as_f64().unwrap();
                    let dm = (s.measure.unwrap() - m).abs();
                    let dse = (s.standard_error.unwrap() - se).abs();
                    worst = worst.max(dm).max(dse);
                    assert!(
                        dm < TOLERANCE,
                        "{name}: measure {} vs reference {m}",
                        s.measure.unwrap()
                    );
                    assert!(
                        dse < TOLERANCE,
                        "{name}: SE {} vs reference {se}",
                        s.standard_error.unwrap()
                    );
                    compared_scored += 1;
                    if !s.flags.is_empty() {
                        extremes += 1;
                    }
                }
                (Outcome::NotScored(_), "not_scored") => {}
                (o, status) => panic!("{name}: ours {o:?}, reference {status}"),
            }
        }
    }
    assert_eq!(results.len(), expected_count, "one result per pattern");
    assert!(
        compared_scored > 250,
        "only {compared_scored} scored patterns compared"
    );
    assert!(extremes >= 10, "too few extreme patterns ({extremes})");
    eprintln!(
        "compared {compared_scored} scored patterns ({extremes} extreme); worst difference {worst:.2e}"
    );
}
