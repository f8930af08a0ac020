//! From aggregated observation periods to the report: crude rates, exact-by-aggregation model
//! fits per outcome. Figures are complete here; disclosure control is applied to the whole
//! report afterwards ([`crate::protect`]).
//!
//! Periods arrive already coded (cell = covariate pattern) with per-outcome counts. The Poisson
//! model is fitted from per-cell sums and its clustered meat from one pass over people; the NB2
//! model from distinct (cell, count, exposure) patterns with frequency weights. Both are exact
//! reorganisations of the row-level likelihoods. This module must never parse text or do I/O.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::coding::{Covariates, Outcome, FACTORS, N_CELLS, N_OUTCOMES, N_TERMS, TERM_NAMES};
use crate::hash::FxBuild;
use crate::linalg::Matrix;
use crate::negbin::{fit_nb2, NbObs};
use crate::poisson::{fit_poisson, sandwich};
use crate::report::{CrudeRate, ModelReport, Models, OutcomeReport, Term};
use crate::special::{poisson_exact_ci, two_sided_p, Z_975};

/// Days per year used for person-years.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// One coded observation period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    /// Dense person index.
    pub person: u32,
    /// Covariate pattern.
    pub cell: u16,
    /// Exposure in days (end − start + 1).
    pub days: u32,
    /// Event counts per outcome.
    pub counts: [u32; N_OUTCOMES],
}

/// Periods grouped by person (for the clustered covariance).
pub(crate) struct Grouped<'a> {
    pub periods: &'a [Period],
    /// Period indices sorted by person.
    pub order: Vec<u32>,
    /// `order[starts[g]..starts[g+1]]` are person g's periods (only persons with periods).
    pub starts: Vec<u32>,
}

impl<'a> Grouped<'a> {
    pub fn new(periods: &'a [Period], n_persons: usize) -> Grouped<'a> {
        let mut count = vec![0u32; n_persons + 1];
        for p in periods {
            count[p.person as usize + 1] += 1;
        }
        for i in 0..n_persons {
            count[i + 1] += count[i];
        }
        let mut pos = count.clone();
        let mut order = vec![0u32; periods.len()];
        for (i, p) in periods.iter().enumerate() {
            let slot = &mut pos[p.person as usize];
            order[*slot as usize] = i as u32;
            *slot += 1;
        }
        let mut starts: Vec<u32> = Vec::with_capacity(n_persons + 1);
        for g in 0..n_persons {
            if count[g + 1] > count[g] {
                starts.push(count[g]);
            }
        }
        starts.push(periods.len() as u32);
        Grouped {
            periods,
            order,
            starts,
        }
    }
}

/// Category index of each factor for a cell: level, age, sex, quintile, ltc (0 = reference).
fn categories(c: &Covariates) -> [usize; 5] {
    [
        usize::from(c.level - 1),
        usize::from(c.age_band),
        usize::from(c.sex == crate::coding::Sex::Male),
        usize::from(c.quintile - 1),
        usize::from(c.ltc_group),
    ]
}

fn category_label(factor: usize, cat: usize) -> String {
    if cat == 0 {
        FACTORS[factor].0.to_string()
    } else {
        TERM_NAMES[FACTORS[factor].1[cat - 1]].to_string()
    }
}

/// Crude rates for one outcome.
fn crude_rates(y: &[u64; 5], days: &[u64; 5]) -> Vec<CrudeRate> {
    (0..5)
        .map(|i| {
            let py = days[i] as f64 / DAYS_PER_YEAR;
            let (rate, lo, hi) = if py > 0.0 {
                let (l, h) = poisson_exact_ci(y[i], 0.95);
                (
                    Some(1000.0 * y[i] as f64 / py),
                    Some(1000.0 * l / py),
                    Some(1000.0 * h / py),
                )
            } else {
                (None, None, None)
            };
            CrudeRate {
                level: (i < 4).then_some(i as u8 + 1),
                events: Some(y[i]),
                suppressed: false,
                person_years: py,
                rate_per_1000: rate,
                ci_low: lo,
                ci_high: hi,
            }
        })
        .collect()
}

fn not_estimable(model: &'static str, covariance: &'static str, reason: String) -> ModelReport {
    ModelReport {
        status: "not_estimable",
        reason: Some(reason),
        model,
        covariance,
        terms: Vec::new(),
        alpha: None,
        alpha_se: None,
        log_likelihood: None,
        observations: 0,
        iterations: 0,
        max_abs_score: None,
    }
}

const POISSON_MODEL: &str =
    "Poisson log-linear model, log(person-years) offset, covariates as listed";
const POISSON_COV: &str = "cluster-robust sandwich (HC0 by person, no small-sample correction)";
const NB_MODEL: &str =
    "negative binomial NB2 (variance mu + alpha mu^2), log(person-years) offset, alpha by maximum likelihood";
const NB_COV: &str = "model-based: inverse observed information of (beta, alpha)";

fn terms_from(
    active: &[usize],
    coef: &[f64],
    var: &[f64],
    notes: &[Option<String>; N_TERMS],
    hidden: &[bool; N_TERMS],
) -> Vec<Term> {
    let mut terms: Vec<Term> = TERM_NAMES
        .iter()
        .enumerate()
        .map(|(j, name)| Term {
            term: name,
            coef: None,
            se: None,
            irr: None,
            ci_low: None,
            ci_high: None,
            p: None,
            note: notes[j].clone(),
        })
        .collect();
    for (k, &j) in active.iter().enumerate() {
        if hidden[j] {
            continue;
        }
        let b = coef[k];
        let se = var[k].sqrt();
        let t = &mut terms[j];
        t.coef = Some(b);
        t.se = Some(se);
        t.irr = Some(b.exp());
        t.ci_low = Some((b - Z_975 * se).exp());
        t.ci_high = Some((b + Z_975 * se).exp());
        t.p = Some(two_sided_p(b / se));
    }
    terms
}

/// Fits both models for one outcome.
fn fit_outcome(k: usize, g: &Grouped<'_>) -> Models {
    let periods = g.periods;
    let mut cell_y = vec![0u64; N_CELLS];
    let mut cell_days = vec![0u64; N_CELLS];
    for p in periods {
        cell_y[p.cell as usize] += u64::from(p.counts[k]);
        cell_days[p.cell as usize] += u64::from(p.days);
    }
    let covs: Vec<Covariates> = (0..N_CELLS as u16).map(Covariates::from_cell).collect();
    let mut active: Vec<bool> = cell_days.iter().map(|&d| d > 0).collect();
    let mut notes: [Option<String>; N_TERMS] = Default::default();
    let mut dropped = [false; N_TERMS];
    // Fitted but not reported (measured against a replaced reference category).
    let mut hidden = [false; N_TERMS];
    let mut ref_cat = [0usize; 5];
    // Estimability: iterate until no category changes.
    loop {
        let mut changed = false;
        for (f, (_, cols, ncat_minus_ref)) in FACTORS.iter().enumerate() {
            let ncat = ncat_minus_ref + 1;
            let mut y = vec![0u64; ncat];
            let mut d = vec![0u64; ncat];
            for c in 0..N_CELLS {
                if active[c] {
                    let cat = categories(&covs[c])[f];
                    y[cat] += cell_y[c];
                    d[cat] += cell_days[c];
                }
            }
            let r = ref_cat[f];
            if d[r] == 0 || y[r] == 0 {
                let why = if d[r] == 0 {
                    "no observation periods"
                } else {
                    "no events"
                };
                // For a covariate (not activation level) the limit of the maximum likelihood
                // estimate excludes the reference category's periods and measures the other
                // categories against a new reference; the level ratios stay estimable.
                let new_ref = (f > 0)
                    .then(|| {
                        (1..ncat).find(|&c| c != r && !dropped[cols[c - 1]] && d[c] > 0 && y[c] > 0)
                    })
                    .flatten();
                let Some(nr) = new_ref else {
                    let reason =
                        format!("{why} in the reference category ({})", category_label(f, r));
                    return Models {
                        poisson: not_estimable(POISSON_MODEL, POISSON_COV, reason.clone()),
                        negative_binomial: not_estimable(NB_MODEL, NB_COV, reason),
                    };
                };
                for c in 0..N_CELLS {
                    if active[c] && categories(&covs[c])[f] == r {
                        active[c] = false;
                    }
                }
                let old = category_label(f, r);
                let new = category_label(f, nr);
                ref_cat[f] = nr;
                dropped[cols[nr - 1]] = true;
                notes[cols[nr - 1]] = Some(format!(
                    "used as the reference category because {old} had {why} (its periods are excluded)"
                ));
                for c in 1..ncat {
                    let col = cols[c - 1];
                    if c != nr && !dropped[col] {
                        hidden[col] = true;
                        notes[col] = Some(format!(
                            "not reported: estimated against {new} because {old} had {why}"
                        ));
                    }
                }
                hidden[0] = true;
                notes[0] = Some(format!(
                    "not reported: the reference group changed because {old} had {why}"
                ));
                changed = true;
                continue;
            }
            for cat in 1..ncat {
                if cat == ref_cat[f] {
                    continue;
                }
                let col = cols[cat - 1];
                if dropped[col] {
                    continue;
                }
                if d[cat] == 0 {
                    dropped[col] = true;
                    notes[col] = Some("no observation periods in this category".into());
                } else if y[cat] == 0 {
                    dropped[col] = true;
                    changed = true;
                    hidden[col] = false;
                    notes[col] = Some(
                        "no events in this category (rate ratio 0): its periods are excluded from the model"
                            .into(),
                    );
                    for c in 0..N_CELLS {
                        if active[c] && categories(&covs[c])[f] == cat {
                            active[c] = false;
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    let cols: Vec<usize> = (0..N_TERMS).filter(|&j| !dropped[j]).collect();
    let p = cols.len();
    // Reduced design over active cells.
    let mut active_index = vec![u32::MAX; N_CELLS];
    let mut design = Vec::new();
    let mut ys = Vec::new();
    let mut es = Vec::new();
    for c in 0..N_CELLS {
        if active[c] {
            active_index[c] = ys.len() as u32;
            let row = covs[c].design_row();
            design.extend(cols.iter().map(|&j| row[j]));
            ys.push(cell_y[c] as f64);
            es.push(cell_days[c] as f64 / DAYS_PER_YEAR);
        }
    }
    let n_obs = periods.iter().filter(|q| active[q.cell as usize]).count() as u64;
    let poisson = match fit_poisson(&design, p, &ys, &es) {
        Err(e) => Err(e),
        Ok(fit) => {
            // Fitted rate per person-year in each active cell.
            let rate: Vec<f64> = (0..ys.len())
                .map(|i| {
                    design[i * p..(i + 1) * p]
                        .iter()
                        .zip(&fit.coef)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        .exp()
                })
                .collect();
            let mut diag = vec![0.0; ys.len()];
            let mut meat = Matrix::zeros(p);
            let mut s = vec![0.0; p];
            for w in g.starts.windows(2) {
                let idx = &g.order[w[0] as usize..w[1] as usize];
                if idx.len() == 1 {
                    let q = &periods[idx[0] as usize];
                    let a = active_index[q.cell as usize];
                    if a != u32::MAX {
                        let r = f64::from(q.counts[k])
                            - f64::from(q.days) / DAYS_PER_YEAR * rate[a as usize];
                        diag[a as usize] += r * r;
                    }
                } else {
                    s.iter_mut().for_each(|v| *v = 0.0);
                    for &i in idx {
                        let q = &periods[i as usize];
                        let a = active_index[q.cell as usize];
                        if a == u32::MAX {
                            continue;
                        }
                        let a = a as usize;
                        let r =
                            f64::from(q.counts[k]) - f64::from(q.days) / DAYS_PER_YEAR * rate[a];
                        for (sj, xj) in s.iter_mut().zip(&design[a * p..(a + 1) * p]) {
                            *sj += xj * r;
                        }
                    }
                    meat.add_outer_upper(1.0, &s);
                }
            }
            for (a, d) in diag.iter().enumerate() {
                if *d != 0.0 {
                    meat.add_outer_upper(*d, &design[a * p..(a + 1) * p]);
                }
            }
            meat.symmetrize_from_upper();
            let cov = sandwich(&fit.bread, &meat);
            let var: Vec<f64> = (0..p).map(|j| cov[(j, j)]).collect();
            Ok((fit, var))
        }
    };
    let (poisson_report, start) = match poisson {
        Err(e) => (
            not_estimable(POISSON_MODEL, POISSON_COV, e.to_string()),
            None,
        ),
        Ok((fit, var)) => (
            ModelReport {
                status: "ok",
                reason: None,
                model: POISSON_MODEL,
                covariance: POISSON_COV,
                terms: terms_from(&cols, &fit.coef, &var, &notes, &hidden),
                alpha: None,
                alpha_se: None,
                log_likelihood: None,
                observations: n_obs,
                iterations: fit.iterations,
                max_abs_score: Some(fit.max_abs_score),
            },
            Some(fit.coef),
        ),
    };
    // NB2 from distinct (cell, count, days) patterns.
    let mut patterns: HashMap<(u32, u32, u32), f64, FxBuild> = HashMap::default();
    for q in periods {
        let a = active_index[q.cell as usize];
        if a != u32::MAX {
            *patterns.entry((a, q.counts[k], q.days)).or_insert(0.0) += 1.0;
        }
    }
    let mut keys: Vec<_> = patterns.into_iter().collect();
    keys.sort_by_key(|(k, _)| *k);
    let obs: Vec<NbObs> = keys
        .iter()
        .map(|&((row, y, days), w)| NbObs {
            row,
            y,
            log_exposure: (f64::from(days) / DAYS_PER_YEAR).ln(),
            weight: w,
        })
        .collect();
    let nb_report = match start {
        None => not_estimable(NB_MODEL, NB_COV, "Poisson start values unavailable".into()),
        Some(start) => match fit_nb2(&design, p, &obs, &start) {
            Err(e) => not_estimable(NB_MODEL, NB_COV, e.to_string()),
            Ok(fit) => {
                let var: Vec<f64> = (0..p).map(|j| fit.cov[(j, j)]).collect();
                ModelReport {
                    status: "ok",
                    reason: None,
                    model: NB_MODEL,
                    covariance: NB_COV,
                    terms: terms_from(&cols, &fit.coef, &var, &notes, &hidden),
                    alpha: Some(fit.alpha),
                    alpha_se: Some(fit.cov[(p, p)].sqrt()),
                    log_likelihood: Some(fit.log_likelihood),
                    observations: n_obs,
                    iterations: fit.iterations,
                    max_abs_score: Some(fit.max_abs_score),
                }
            }
        },
    };
    Models {
        poisson: poisson_report,
        negative_binomial: nb_report,
    }
}

/// Builds every outcome's report, fitting outcomes in parallel on `threads` threads. Nothing is
/// suppressed yet.
pub(crate) fn outcome_reports(
    periods: &[Period],
    n_persons: usize,
    threads: usize,
) -> Vec<OutcomeReport> {
    let g = Grouped::new(periods, n_persons);
    let mut y = [[0u64; 5]; N_OUTCOMES];
    let mut days = [0u64; 5];
    for p in periods {
        let l = usize::from(Covariates::from_cell(p.cell).level - 1);
        days[l] += u64::from(p.days);
        days[4] += u64::from(p.days);
        for (yk, c) in y.iter_mut().zip(p.counts) {
            yk[l] += u64::from(c);
            yk[4] += u64::from(c);
        }
    }
    let has_events: Vec<bool> = (0..N_OUTCOMES).map(|k| y[k][4] > 0).collect();
    let next = AtomicUsize::new(0);
    let mut fitted: Vec<Option<Models>> = vec![None; N_OUTCOMES];
    let results: Vec<Vec<(usize, Models)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= N_OUTCOMES {
                            break;
                        }
                        if has_events[k] {
                            out.push((k, fit_outcome(k, &g)));
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("fit thread"))
            .collect()
    });
    for (k, m) in results.into_iter().flatten() {
        fitted[k] = Some(m);
    }
    Outcome::ALL
        .iter()
        .zip(fitted)
        .map(|(o, models)| {
            let k = o.index();
            OutcomeReport {
                outcome: o.name(),
                label: o.label(),
                status: if has_events[k] { "ok" } else { "no_events" },
                events: Some(y[k][4]),
                suppressed: false,
                crude: crude_rates(&y[k], &days),
                models,
            }
        })
        .collect()
}

/// Fits one outcome without building a report (for benchmarks and tests).
pub fn fit_outcome_records(
    records: &[crate::evaluate::PeriodRecord],
    outcome: Outcome,
) -> Result<Models, crate::evaluate::EvalError> {
    let (periods, n) = crate::evaluate::code_records(records)?;
    let g = Grouped::new(&periods, n);
    Ok(fit_outcome(outcome.index(), &g))
}
