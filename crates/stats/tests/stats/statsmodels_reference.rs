//! Exactness against statsmodels: a synthetic population (several thousand people, some with
//! two observation periods) is written to CSV, evaluated by `evaluate_files`, and fitted
//! independently by `tests/reference/statsmodels_reference.py` (pandas aggregation, statsmodels
//! GLM Poisson with clustered covariance, NegativeBinomial NB2 refined to convergence, scipy
//! chi-square quantiles). Every rate ratio must agree to a relative 1e-6, every interval bound
//! to 1e-4, alpha to 1e-6, crude rates and their exact intervals to 1e-9; the change in
//! activation (counts, movement table, mean, SD and t interval) is recomputed with pandas.
//!
//! Needs python3 (or `ALONGSIDE_PYTHON`) with statsmodels, pandas, numpy and scipy; the test
//! fails, saying so, when they are missing.

use std::fs::File;
use std::path::PathBuf;
use std::process::Command;

use alongside_stats::synth::{generate, SynthOptions};
use alongside_stats::{evaluate_files, EvalOptions, TERM_NAMES};
use serde_json::Value;

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        ((a - b) / b).abs()
    }
}

fn python() -> String {
    std::env::var("ALONGSIDE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn check_python() {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", "import statsmodels, pandas, numpy, scipy"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "{py} cannot import statsmodels/pandas/numpy/scipy ({}). Run the project's test script \
             (bash .ci/run), which installs them, or `{py} -m pip install statsmodels pandas numpy scipy`.",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run {py} ({e}). Install Python 3 and run the project's test script (bash .ci/run), \
             or set ALONGSIDE_PYTHON to a python3 with statsmodels, pandas, numpy and scipy."
        ),
    }
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn compare(people: usize, seed: u64, two_period_share: f64) {
    check_python();
    let dir = TempDir(
        std::env::temp_dir().join(format!("alongside-stats-ref-{}-{seed}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let opts = SynthOptions {
        two_period_share,
        ..SynthOptions::default()
    };
    generate(
        people,
        seed,
        &opts,
        File::create(dir.0.join("people.csv")).unwrap(),
        File::create(dir.0.join("events.csv")).unwrap(),
        Some(File::create(dir.0.join("measurements.csv")).unwrap()),
    )
    .unwrap();
    let eval_opts = EvalOptions {
        suppress: None,
        ..EvalOptions::default()
    };
    let report = evaluate_files(
        File::open(dir.0.join("people.csv")).unwrap(),
        File::open(dir.0.join("events.csv")).unwrap(),
        Some(File::open(dir.0.join("measurements.csv")).unwrap()),
        &eval_opts,
    )
    .unwrap();
    let ours: Value = serde_json::from_str(&report.to_json()).unwrap();

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/statsmodels_reference.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(ours["population"]["periods"], theirs["periods"]);
    assert_eq!(ours["inputs"]["events_counted"], theirs["events_counted"]);
    let mut worst_irr = 0.0f64;
    let mut worst_ci = 0.0f64;
    for o in ours["outcomes"].as_array().unwrap() {
        let name = o["outcome"].as_str().unwrap();
        let t = &theirs["outcomes"][name];
        // Crude rates.
        for (mine, refc) in o["crude"]
            .as_array()
            .unwrap()
            .iter()
            .zip(t["crude"].as_array().unwrap())
        {
            assert_eq!(mine["events"], refc["events"], "{name} crude events");
            for (a, b) in [
                ("person_years", "person_years"),
                ("rate_per_1000", "rate"),
                ("ci_low", "ci_low"),
                ("ci_high", "ci_high"),
            ] {
                let (x, y) = (mine[a].as_f64().unwrap(), refc[b].as_f64().unwrap());
                assert!(
                    rel(x, y) < 1e-9 || (x - y).abs() < 1e-12,
                    "{name} crude {a}: {x} vs {y}"
                );
            }
        }
        for model in ["poisson", "negative_binomial"] {
            let m = &o["models"][model];
            assert_eq!(m["status"], "ok", "{name} {model}: {:?}", m["reason"]);
            let terms = m["terms"].as_array().unwrap();
            assert_eq!(terms.len(), TERM_NAMES.len());
            for term in terms {
                let tn = term["term"].as_str().unwrap();
                let r = &t[model][tn];
                let irr = term["irr"].as_f64().unwrap();
                let d = rel(irr, r["irr"].as_f64().unwrap());
                worst_irr = worst_irr.max(d);
                assert!(d < 1e-6, "{name} {model} {tn} irr {irr} vs {}", r["irr"]);
                for b in ["ci_low", "ci_high"] {
                    let d = rel(term[b].as_f64().unwrap(), r[b].as_f64().unwrap());
                    worst_ci = worst_ci.max(d);
                    assert!(d < 1e-4, "{name} {model} {tn} {b} {} vs {}", term[b], r[b]);
                }
                let (p, rp) = (term["p"].as_f64().unwrap(), r["p"].as_f64().unwrap());
                assert!(
                    rel(p, rp) < 1e-3 || (p - rp).abs() < 1e-10,
                    "{name} {model} {tn} p {p} vs {rp}"
                );
            }
        }
        let nb = &o["models"]["negative_binomial"];
        let (a, ra) = (
            nb["alpha"].as_f64().unwrap(),
            t["negative_binomial"]["alpha"].as_f64().unwrap(),
        );
        assert!(rel(a, ra) < 1e-6, "{name} alpha {a} vs {ra}");
        let (s, rs) = (
            nb["alpha_se"].as_f64().unwrap(),
            t["negative_binomial"]["alpha_se"].as_f64().unwrap(),
        );
        assert!(rel(s, rs) < 1e-4, "{name} alpha se {s} vs {rs}");
        assert!(
            nb["max_abs_score"].as_f64().unwrap() < 1e-6,
            "{name}: NB score not ~0"
        );
    }
    // Change in activation, computed independently with pandas and scipy's t quantile.
    let a = &ours["activation_change"];
    let r = &theirs["activation_change"];
    for k in ["people_measured", "people_measured_twice", "movement"] {
        assert_eq!(a[k], r[k], "activation {k}");
    }
    assert_eq!(a["improvement"]["eligible"], r["eligible"]);
    assert_eq!(a["improvement"]["improved"], r["improved"]);
    for k in ["mean_change", "sd_change", "ci_low", "ci_high"] {
        let (x, y) = (a[k].as_f64().unwrap(), r[k].as_f64().unwrap());
        assert!(rel(x, y) < 1e-9, "activation {k}: {x} vs {y}");
    }
    eprintln!(
        "seed {seed}: worst IRR rel diff {worst_irr:.2e}, worst CI bound rel diff {worst_ci:.2e}"
    );
}

#[test]
fn matches_statsmodels_one_period_each_mostly() {
    compare(3000, 20_240_601, 0.08);
}

#[test]
fn matches_statsmodels_with_many_multi_period_people() {
    compare(2500, 77, 0.4);
}
