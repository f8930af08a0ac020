//! Checks an [`InstrumentDef`] against every rule in `docs/instruments.md` and compiles it into
//! the lookup tables that scoring uses.
//!
//! Every error names the field path (`items[3].options[1].code: duplicate code "2"`). All errors
//! found are collected rather than stopping at the first. This module must never relax a rule
//! silently: a definition either passes every check or is rejected.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::def::{InstrumentDef, LangText, DEFAULT_EXTREME_ADJUSTMENT};
use crate::error::{FieldError, InstrumentError};
use crate::instrument::{CompiledItem, CompiledOption, Instrument, LookupModel, Model, RaschModel};
use crate::levels::{exact_tenths, Cuts};
use crate::rasch::{PcmItem, MAX_PARAMETER};

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn check_text(errs: &mut Errors, path: &str, text: &LangText, langs: &[String]) {
    for lang in langs {
        match text.get(lang) {
            None => errs.push(path, format!("missing text for language {lang:?}")),
            Some(s) if s.trim().is_empty() => {
                errs.push(format!("{path}.{lang}"), "text must not be empty")
            }
            Some(_) => {}
        }
    }
    for lang in text.keys() {
        if !langs.contains(lang) {
            errs.push(
                format!("{path}.{lang}"),
                format!("language {lang:?} is not declared in languages"),
            );
        }
    }
}

fn not_for(errs: &mut Errors, model: &str, field: &str, present: bool) {
    if present {
        errs.push(
            format!("scoring.{field}"),
            format!("not used by the {model} model"),
        );
    }
}

pub(crate) fn compile(def: InstrumentDef) -> Result<Instrument, InstrumentError> {
    let mut errs = Errors(Vec::new());

    if def.id.trim().is_empty() {
        errs.push("id", "must not be empty");
    }
    if def.version.trim().is_empty() {
        errs.push("version", "must not be empty");
    }
    if def.source.trim().is_empty() {
        errs.push(
            "source",
            "must say where the instrument came from and its licence",
        );
    }

    // Languages.
    let mut langs: Vec<String> = Vec::new();
    if def.languages.default.trim().is_empty() {
        errs.push("languages.default", "must not be empty");
    }
    langs.push(def.languages.default.clone());
    for (i, l) in def.languages.others.iter().enumerate() {
        if l.trim().is_empty() {
            errs.push(format!("languages.others[{i}]"), "must not be empty");
        } else if langs.contains(l) {
            errs.push(
                format!("languages.others[{i}]"),
                format!("duplicate language {l:?}"),
            );
        } else {
            langs.push(l.clone());
        }
    }

    check_text(&mut errs, "title", &def.title, &langs);
    if let Some(instr) = &def.instructions {
        check_text(&mut errs, "instructions", instr, &langs);
    }

    // Items and options.
    if def.items.is_empty() {
        errs.push("items", "at least one item is required");
    }
    let mut link_index: HashMap<String, usize> = HashMap::new();
    let mut items: Vec<CompiledItem> = Vec::with_capacity(def.items.len());
    for (i, item) in def.items.iter().enumerate() {
        let ip = format!("items[{i}]");
        if item.link_id.trim().is_empty() {
            errs.push(format!("{ip}.link_id"), "must not be empty");
        } else if item.link_id.contains([',', '"', '\n', '\r'])
            || item.link_id.trim() != item.link_id
        {
            errs.push(
                format!("{ip}.link_id"),
                format!(
                    "link id {:?} must not contain commas, quotes, line breaks or surrounding spaces",
                    item.link_id
                ),
            );
        } else if let Some(first) = link_index.get(&item.link_id) {
            errs.push(
                format!("{ip}.link_id"),
                format!("duplicate link id {:?} (also items[{first}])", item.link_id),
            );
        } else {
            link_index.insert(item.link_id.clone(), i);
        }
        check_text(&mut errs, &format!("{ip}.text"), &item.text, &langs);

        let mut codes: HashSet<&str> = HashSet::new();
        for (j, opt) in item.options.iter().enumerate() {
            let op = format!("{ip}.options[{j}]");
            if opt.code.trim().is_empty() || opt.code.trim() != opt.code {
                errs.push(
                    format!("{op}.code"),
                    format!(
                        "code {:?} must be non-empty without surrounding spaces",
                        opt.code
                    ),
                );
            } else if opt.code.contains([',', '"', '\n', '\r']) {
                errs.push(
                    format!("{op}.code"),
                    format!(
                        "code {:?} must not contain commas, quotes or line breaks",
                        opt.code
                    ),
                );
            } else if !codes.insert(opt.code.as_str()) {
                errs.push(
                    format!("{op}.code"),
                    format!("duplicate code {:?}", opt.code),
                );
            }
            check_text(&mut errs, &format!("{op}.label"), &opt.label, &langs);
        }
        let mut na: HashSet<&str> = HashSet::new();
        for (k, code) in item.not_applicable.iter().enumerate() {
            if !item.options.iter().any(|o| &o.code == code) {
                errs.push(
                    format!("{ip}.not_applicable[{k}]"),
                    format!("{code:?} is not an option code of this item"),
                );
            } else if !na.insert(code.as_str()) {
                errs.push(
                    format!("{ip}.not_applicable[{k}]"),
                    format!("duplicate not-applicable code {code:?}"),
                );
            }
        }
        let mut options = Vec::with_capacity(item.options.len());
        let mut min_score = i32::MAX;
        let mut max_score = i32::MIN;
        let mut scored = 0usize;
        for (j, opt) in item.options.iter().enumerate() {
            let is_na = na.contains(opt.code.as_str());
            let score = match (is_na, opt.score) {
                (true, Some(_)) => {
                    errs.push(
                        format!("{ip}.options[{j}].score"),
                        format!(
                            "option {:?} is not applicable, so it must not have a score",
                            opt.code
                        ),
                    );
                    None
                }
                (true, None) => None,
                (false, None) => {
                    errs.push(
                        format!("{ip}.options[{j}].score"),
                        format!(
                            "missing score for option {:?} (only not-applicable options have none)",
                            opt.code
                        ),
                    );
                    None
                }
                (false, Some(s)) => {
                    if s.unsigned_abs() > 1_000_000 {
                        errs.push(
                            format!("{ip}.options[{j}].score"),
                            "score must be between -1000000 and 1000000",
                        );
                    }
                    scored += 1;
                    min_score = min_score.min(s);
                    max_score = max_score.max(s);
                    Some(s)
                }
            };
            options.push(CompiledOption {
                code: opt.code.clone(),
                score,
            });
        }
        if scored < 2 {
            errs.push(
                format!("{ip}.options"),
                format!("at least two scored options are required, found {scored}"),
            );
            min_score = 0;
            max_score = 0;
        }
        items.push(CompiledItem::new(
            item.link_id.clone(),
            options,
            min_score,
            max_score,
        ));
    }

    // Quality.
    let n_items = def.items.len();
    if def.quality.min_answered == 0 {
        errs.push("quality.min_answered", "must be at least 1");
    } else if def.quality.min_answered > n_items {
        errs.push(
            "quality.min_answered",
            format!(
                "{} is more than the number of items ({n_items})",
                def.quality.min_answered
            ),
        );
    }

    // Reporting scale and levels.
    let rep = &def.reporting;
    if !(rep.min.is_finite() && rep.max.is_finite() && rep.min < rep.max) {
        errs.push(
            "reporting.max",
            format!(
                "reporting scale must have finite min < max, found {}..{}",
                rep.min, rep.max
            ),
        );
    }
    let change_tenths = match exact_tenths(rep.meaningful_change) {
        Some(t) if t > 0 => t,
        _ => {
            errs.push(
                "reporting.meaningful_change",
                format!(
                    "must be a positive number with at most one decimal place, found {}",
                    rep.meaningful_change
                ),
            );
            1
        }
    };
    let mut uppers: Vec<i64> = Vec::new();
    let n_levels = rep.levels.len();
    for (k, lvl) in rep.levels.iter().enumerate() {
        let lp = format!("reporting.levels[{k}]");
        if usize::from(lvl.level) != k + 1 {
            errs.push(
                format!("{lp}.level"),
                format!(
                    "levels must be numbered 1, 2, … in order: expected {}, found {}",
                    k + 1,
                    lvl.level
                ),
            );
        }
        let last = k + 1 == n_levels;
        match (last, lvl.upper) {
            (true, Some(u)) => errs.push(
                format!("{lp}.upper"),
                format!("the last level must have no upper bound (null), found {u}"),
            ),
            (true, None) => {}
            (false, None) => errs.push(
                format!("{lp}.upper"),
                "missing upper bound (only the last level has none)",
            ),
            (false, Some(u)) => match exact_tenths(u) {
                None => errs.push(
                    format!("{lp}.upper"),
                    format!("cut point {u} must be a number with at most one decimal place"),
                ),
                Some(t) => {
                    if let Some(&prev) = uppers.last() {
                        if t <= prev {
                            errs.push(
                                format!("{lp}.upper"),
                                format!(
                                    "cut points out of order: {u} is not above the previous level's upper bound {}",
                                    prev as f64 / 10.0
                                ),
                            );
                        }
                    }
                    if u < rep.min || u >= rep.max {
                        errs.push(
                            format!("{lp}.upper"),
                            format!(
                                "cut point {u} must be within the reporting scale {}..{} (below max)",
                                rep.min, rep.max
                            ),
                        );
                    }
                    uppers.push(t);
                }
            },
        }
        check_text(&mut errs, &format!("{lp}.name"), &lvl.name, &langs);
        check_text(
            &mut errs,
            &format!("{lp}.description"),
            &lvl.description,
            &langs,
        );
        check_text(
            &mut errs,
            &format!("{lp}.person_text"),
            &lvl.person_text,
            &langs,
        );
    }
    if n_levels > 250 {
        errs.push("reporting.levels", "at most 250 levels");
    }
    let cuts = if uppers.len() + 1 == n_levels {
        Cuts::new(uppers, n_levels)
    } else {
        Cuts::default()
    };

    // Scoring model.
    let sc = &def.scoring;
    let model = match sc.model.as_str() {
        "rasch" => {
            not_for(
                &mut errs,
                "rasch",
                "answered_items",
                sc.answered_items.is_some(),
            );
            not_for(&mut errs, "rasch", "table", sc.table.is_some());
            compile_rasch(&mut errs, &def, &items, &link_index).map(Model::Rasch)
        }
        "lookup" => {
            for (f, p) in [
                ("items", sc.items.is_some()),
                ("shared_thresholds", sc.shared_thresholds.is_some()),
                (
                    "allow_disordered_thresholds",
                    sc.allow_disordered_thresholds.is_some(),
                ),
                ("extreme_adjustment", sc.extreme_adjustment.is_some()),
                ("intercept", sc.intercept.is_some()),
                ("slope", sc.slope.is_some()),
            ] {
                not_for(&mut errs, "lookup", f, p);
            }
            compile_lookup(&mut errs, &def, &items).map(Model::Lookup)
        }
        "mean" => {
            for (f, p) in [
                ("items", sc.items.is_some()),
                ("shared_thresholds", sc.shared_thresholds.is_some()),
                (
                    "allow_disordered_thresholds",
                    sc.allow_disordered_thresholds.is_some(),
                ),
                ("extreme_adjustment", sc.extreme_adjustment.is_some()),
                ("intercept", sc.intercept.is_some()),
                ("slope", sc.slope.is_some()),
                ("answered_items", sc.answered_items.is_some()),
                ("table", sc.table.is_some()),
            ] {
                not_for(&mut errs, "mean", f, p);
            }
            Some(Model::Mean)
        }
        other => {
            errs.push(
                "scoring.model",
                format!("unknown scoring model {other:?} (expected one of: rasch, lookup, mean)"),
            );
            None
        }
    };

    match model {
        Some(model) if errs.0.is_empty() => Ok(Instrument::assemble(
            def,
            items,
            link_index,
            model,
            cuts,
            change_tenths,
        )),
        _ => Err(InstrumentError { errors: errs.0 }),
    }
}

fn compile_rasch(
    errs: &mut Errors,
    def: &InstrumentDef,
    items: &[CompiledItem],
    link_index: &HashMap<String, usize>,
) -> Option<RaschModel> {
    let sc = &def.scoring;
    let mut ok = true;
    // Category scores must be exactly 0..m, each used once.
    for (i, item) in def.items.iter().enumerate() {
        let mut seen: BTreeSet<i32> = BTreeSet::new();
        let scored = item.options.iter().filter(|o| o.score.is_some()).count() as i32;
        for (j, opt) in item.options.iter().enumerate() {
            if let Some(s) = opt.score {
                if s < 0 || s >= scored {
                    errs.push(
                        format!("items[{i}].options[{j}].score"),
                        format!(
                            "rasch category scores must be 0..{} (contiguous, one per scored option), found {s}",
                            scored - 1
                        ),
                    );
                    ok = false;
                } else if !seen.insert(s) {
                    errs.push(
                        format!("items[{i}].options[{j}].score"),
                        format!("rasch category score {s} is used twice"),
                    );
                    ok = false;
                }
            }
        }
    }

    let adjustment = sc.extreme_adjustment.unwrap_or(DEFAULT_EXTREME_ADJUSTMENT);
    if !(adjustment > 0.0 && adjustment < 0.5) {
        errs.push(
            "scoring.extreme_adjustment",
            format!("must be greater than 0 and less than 0.5, found {adjustment}"),
        );
        ok = false;
    }
    let intercept = match sc.intercept {
        Some(v) if v.is_finite() => v,
        Some(v) => {
            errs.push("scoring.intercept", format!("must be finite, found {v}"));
            ok = false;
            0.0
        }
        None => {
            errs.push("scoring.intercept", "missing (required by the rasch model)");
            ok = false;
            0.0
        }
    };
    let slope = match sc.slope {
        Some(v) if v.is_finite() && v != 0.0 => v,
        Some(v) => {
            errs.push(
                "scoring.slope",
                format!("must be finite and not zero, found {v}"),
            );
            ok = false;
            1.0
        }
        None => {
            errs.push("scoring.slope", "missing (required by the rasch model)");
            ok = false;
            1.0
        }
    };
    let allow_disordered = sc.allow_disordered_thresholds.unwrap_or(false);

    let check_thresholds = |errs: &mut Errors, path: &str, ts: &[f64]| -> bool {
        let mut good = true;
        for (j, t) in ts.iter().enumerate() {
            if !t.is_finite() || t.abs() > MAX_PARAMETER {
                errs.push(
                    format!("{path}[{j}]"),
                    format!(
                        "threshold must be finite and within ±{MAX_PARAMETER} logits, found {t}"
                    ),
                );
                good = false;
            } else if j > 0 && !allow_disordered && *t <= ts[j - 1] {
                errs.push(
                    format!("{path}[{j}]"),
                    format!(
                        "thresholds must increase ({t} is not above {}); set allow_disordered_thresholds to accept disordered thresholds",
                        ts[j - 1]
                    ),
                );
                good = false;
            }
        }
        good
    };

    let shared = sc.shared_thresholds.as_deref();
    if let Some(ts) = shared {
        if !check_thresholds(errs, "scoring.shared_thresholds", ts) {
            ok = false;
        }
    }

    let Some(cal) = sc.items.as_ref() else {
        errs.push(
            "scoring.items",
            "missing: the rasch model needs a calibration for every item",
        );
        return None;
    };
    let mut params: Vec<Option<PcmItem>> = vec![None; items.len()];
    for (c, entry) in cal.iter().enumerate() {
        let cp = format!("scoring.items[{c}]");
        let Some(&i) = link_index.get(&entry.link_id) else {
            errs.push(
                format!("{cp}.link_id"),
                format!("no item has link id {:?}", entry.link_id),
            );
            ok = false;
            continue;
        };
        if params[i].is_some() {
            errs.push(
                format!("{cp}.link_id"),
                format!("duplicate calibration for item {:?}", entry.link_id),
            );
            ok = false;
            continue;
        }
        if !entry.difficulty.is_finite() || entry.difficulty.abs() > MAX_PARAMETER {
            errs.push(
                format!("{cp}.difficulty"),
                format!(
                    "must be finite and within ±{MAX_PARAMETER} logits, found {}",
                    entry.difficulty
                ),
            );
            ok = false;
        }
        let m = (items[i].max_score - items[i].min_score).max(0) as usize;
        let (ts, tpath) = match (&entry.thresholds, shared) {
            (Some(ts), _) => (ts.as_slice(), format!("{cp}.thresholds")),
            (None, Some(ts)) => (ts, "scoring.shared_thresholds".to_string()),
            (None, None) => {
                errs.push(
                    format!("{cp}.thresholds"),
                    format!(
                        "missing: item {:?} has {} scored categories so needs {m} thresholds (or give shared_thresholds)",
                        entry.link_id,
                        m + 1
                    ),
                );
                ok = false;
                continue;
            }
        };
        if ts.len() != m {
            errs.push(
                tpath,
                format!(
                    "item {:?} has {} scored categories so needs {m} thresholds, found {}",
                    entry.link_id,
                    m + 1,
                    ts.len()
                ),
            );
            ok = false;
            continue;
        }
        if entry.thresholds.is_some() && !check_thresholds(errs, &tpath, ts) {
            ok = false;
        }
        params[i] = Some(PcmItem::new(entry.difficulty, ts.to_vec()));
    }
    for (i, p) in params.iter().enumerate() {
        if p.is_none() && def.items[i].link_id.trim() != "" {
            errs.push(
                "scoring.items",
                format!(
                    "no calibration for item {:?} (items[{i}])",
                    def.items[i].link_id
                ),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let items: Vec<PcmItem> = params.into_iter().map(|p| p.expect("checked")).collect();
    Some(RaschModel {
        start: crate::rasch::start_table(&items, adjustment),
        items,
        adjustment,
        intercept,
        slope,
    })
}

fn compile_lookup(
    errs: &mut Errors,
    def: &InstrumentDef,
    items: &[CompiledItem],
) -> Option<LookupModel> {
    let sc = &def.scoring;
    let n_items = items.len();
    let Some(n) = sc.answered_items else {
        errs.push(
            "scoring.answered_items",
            "missing (required by the lookup model)",
        );
        return None;
    };
    if n == 0 || n > n_items {
        errs.push(
            "scoring.answered_items",
            format!("must be between 1 and the number of items ({n_items}), found {n}"),
        );
        return None;
    }
    if def.quality.min_answered > n {
        errs.push(
            "quality.min_answered",
            format!(
                "{} is more than scoring.answered_items ({n}), so nothing could be scored",
                def.quality.min_answered
            ),
        );
    }
    // Possible raw scores with n answered items.
    let mut mins: Vec<i64> = items.iter().map(|it| i64::from(it.min_score)).collect();
    let mut maxs: Vec<i64> = items.iter().map(|it| i64::from(it.max_score)).collect();
    mins.sort_unstable();
    maxs.sort_unstable_by(|a, b| b.cmp(a));
    let lo: i64 = mins.iter().take(n).sum();
    let hi: i64 = maxs.iter().take(n).sum();
    let Some(table) = sc.table.as_ref() else {
        errs.push("scoring.table", "missing (required by the lookup model)");
        return None;
    };
    let mut ok = true;
    let mut scores = Vec::with_capacity(table.len());
    for (k, row) in table.iter().enumerate() {
        let rp = format!("scoring.table[{k}]");
        let expected = lo + k as i64;
        if row.raw != expected || expected > hi {
            let message = if expected > hi {
                format!(
                    "raw score {} is beyond the highest possible raw score {hi}",
                    row.raw
                )
            } else if row.raw > expected {
                format!(
                    "gap in table: expected raw score {expected}, found {} (rows must cover {lo}..={hi} in order, one per raw score)",
                    row.raw
                )
            } else {
                format!(
                    "expected raw score {expected}, found {} (rows must cover {lo}..={hi} in order, one per raw score)",
                    row.raw
                )
            };
            errs.push(format!("{rp}.raw"), message);
            ok = false;
            break;
        }
        if !row.score.is_finite() || row.score < def.reporting.min || row.score > def.reporting.max
        {
            errs.push(
                format!("{rp}.score"),
                format!(
                    "score {} must be within the reporting scale {}..={}",
                    row.score, def.reporting.min, def.reporting.max
                ),
            );
            ok = false;
        }
        if let Some(se) = row.standard_error {
            if !(se.is_finite() && se > 0.0) {
                errs.push(
                    format!("{rp}.standard_error"),
                    format!("must be positive and finite, found {se}"),
                );
                ok = false;
            }
        }
        scores.push((row.score, row.standard_error));
    }
    if ok && (scores.len() as i64) < hi - lo + 1 {
        errs.push(
            "scoring.table",
            format!(
                "missing raw score {} (table must cover {lo}..={hi})",
                lo + scores.len() as i64
            ),
        );
        ok = false;
    }
    ok.then_some(LookupModel {
        answered_items: n,
        raw_min: lo,
        rows: scores,
    })
}
