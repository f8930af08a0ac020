//! The evaluation report: serialisable types, JSON and CSV writers.
//!
//! Every figure a commissioner sees comes from a [`Report`]; suppression has already been
//! applied to it when it was built with a threshold. This module formats; it must never fit
//! models or read input files. HTML is in [`crate::html`].

use std::io::Write;

use serde::Serialize;

/// Symbol used for suppressed values in CSV and HTML (`[c]`, confidential, as in UK
/// government statistics).
pub const SUPPRESSED: &str = "[c]";

/// Version tag of the JSON shape.
pub const SCHEMA: &str = "alongside.outcomes.v1";

/// The full evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// JSON shape version.
    pub schema: &'static str,
    /// Report title.
    pub title: String,
    /// The associations-not-causation statement.
    pub interpretation: String,
    /// Who is included.
    pub population: Population,
    /// Calendar period of the observation periods.
    pub period: StudyPeriod,
    /// How exposure is measured.
    pub exposure_definition: String,
    /// Adjustment covariates and their coding.
    pub covariates: Vec<String>,
    /// How the models were fitted.
    pub methods: Vec<String>,
    /// Rows read, rejected and why.
    pub inputs: InputSummary,
    /// Small-number suppression applied.
    pub suppression: SuppressionInfo,
    /// One entry per outcome, in a fixed order.
    pub outcomes: Vec<OutcomeReport>,
    /// Change in activation, when measurements were given.
    pub activation_change: Option<crate::activation::ActivationChange>,
}

/// Who is included in the analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Population {
    /// Plain-language statement.
    pub description: String,
    /// Distinct people with at least one accepted observation period.
    pub people: u64,
    /// Accepted observation periods.
    pub periods: u64,
    /// Total person-years.
    pub person_years: f64,
    /// Periods and person-years by activation level.
    pub by_level: Vec<LevelPopulation>,
}

/// Population at one activation level.
#[derive(Clone, Debug, Serialize)]
pub struct LevelPopulation {
    /// Level 1–4.
    pub level: u8,
    /// Observation periods at this level (suppressed if small).
    pub periods: Option<u64>,
    /// Whether `periods` is suppressed.
    pub suppressed: bool,
    /// Person-years.
    pub person_years: f64,
}

/// Calendar span of the data.
#[derive(Clone, Debug, Serialize)]
pub struct StudyPeriod {
    /// Earliest follow-up start (ISO date), if known.
    pub first_day: Option<String>,
    /// Latest follow-up end (ISO date), if known.
    pub last_day: Option<String>,
    /// Plain-language statement.
    pub description: String,
}

/// Input rows and rejections.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InputSummary {
    /// Data rows in people.csv (or records given).
    pub people_rows: u64,
    /// Rows rejected from people.csv.
    pub people_rejected: u64,
    /// Data rows in events.csv.
    pub event_rows: u64,
    /// Rows rejected from events.csv as malformed.
    pub events_rejected: u64,
    /// Well-formed events whose person is not in people.csv (not counted).
    pub events_unknown_person: u64,
    /// Well-formed events of known people dated outside all their periods (not counted).
    pub events_outside_periods: u64,
    /// Events counted in an observation period.
    pub events_counted: u64,
    /// Data rows in measurements.csv.
    pub measurement_rows: u64,
    /// Rows rejected from measurements.csv.
    pub measurements_rejected: u64,
    /// The first rejected rows with line numbers (1-based, header = line 1) and reasons.
    pub rejected_rows: Vec<RejectedRow>,
    /// True when more rows were rejected than listed.
    pub rejected_rows_truncated: bool,
}

/// One rejected input row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// `people.csv`, `events.csv` or `measurements.csv`.
    pub file: &'static str,
    /// Line number (header is line 1).
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

/// Suppression settings.
#[derive(Clone, Debug, Serialize)]
pub struct SuppressionInfo {
    /// Counts from 1 to this value are suppressed; `None` = no suppression.
    pub threshold: Option<u64>,
    /// Plain-language rule.
    pub rule: String,
}

/// Results for one outcome.
#[derive(Clone, Debug, Serialize)]
pub struct OutcomeReport {
    /// Machine name, e.g. `ae_minor`.
    pub outcome: &'static str,
    /// Human label.
    pub label: &'static str,
    /// `ok` or `no_events`.
    pub status: &'static str,
    /// Total events counted (suppressed if small).
    pub events: Option<u64>,
    /// Whether `events` is suppressed.
    pub suppressed: bool,
    /// Crude rates by level (1–4), then all levels.
    pub crude: Vec<CrudeRate>,
    /// Adjusted models; `None` when there are no events.
    pub models: Option<Models>,
}

/// A crude rate with exact Poisson interval.
#[derive(Clone, Debug, Serialize)]
pub struct CrudeRate {
    /// Activation level, or `None` for all levels.
    pub level: Option<u8>,
    /// Events (suppressed if 1..=threshold).
    pub events: Option<u64>,
    /// Whether events and the rate are suppressed.
    pub suppressed: bool,
    /// Person-years.
    pub person_years: f64,
    /// Events per 1,000 person-years.
    pub rate_per_1000: Option<f64>,
    /// Lower 95% limit (Garwood exact), per 1,000 person-years.
    pub ci_low: Option<f64>,
    /// Upper 95% limit, per 1,000 person-years.
    pub ci_high: Option<f64>,
}

/// Both adjusted models.
#[derive(Clone, Debug, Serialize)]
pub struct Models {
    /// Poisson with cluster-robust covariance.
    pub poisson: ModelReport,
    /// Negative binomial NB2.
    pub negative_binomial: ModelReport,
}

/// One fitted model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    /// `ok` or `not_estimable`.
    pub status: &'static str,
    /// Why not estimable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Model specification.
    pub model: &'static str,
    /// Covariance used for standard errors.
    pub covariance: &'static str,
    /// Every term in fixed order; terms that could not be estimated have null values and a note.
    pub terms: Vec<Term>,
    /// NB2 dispersion α (NB only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Standard error of α (NB only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha_se: Option<f64>,
    /// Log-likelihood (NB only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_likelihood: Option<f64>,
    /// Observation periods used.
    pub observations: u64,
    /// Newton iterations.
    pub iterations: u32,
    /// Largest absolute score at the estimate (convergence check; ~0).
    pub max_abs_score: Option<f64>,
}

/// One regression term.
#[derive(Clone, Debug, Serialize)]
pub struct Term {
    /// Term name, e.g. `level_4`.
    pub term: &'static str,
    /// Coefficient (log rate ratio).
    pub coef: Option<f64>,
    /// Standard error of the coefficient.
    pub se: Option<f64>,
    /// Incidence rate ratio exp(coef) (for the intercept: baseline rate per person-year).
    pub irr: Option<f64>,
    /// Lower 95% Wald limit exp(coef − 1.959963984540054·se).
    pub ci_low: Option<f64>,
    /// Upper 95% Wald limit.
    pub ci_high: Option<f64>,
    /// Two-sided normal p-value.
    pub p: Option<f64>,
    /// Why the term is not estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Report {
    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }

    /// Writes JSON.
    pub fn write_json(&self, mut out: impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }

    /// The outcome report by machine name.
    pub fn outcome(&self, name: &str) -> Option<&OutcomeReport> {
        self.outcomes.iter().find(|o| o.outcome == name)
    }

    /// Writes one tidy CSV table with a `section` column:
    /// `section,outcome,model,item,count,person_years,estimate,ci_low,ci_high,p_value,coef,se,note`.
    /// Suppressed values are written as `[c]`, missing ones empty.
    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = std::io::BufWriter::new(out);
        writeln!(
            w,
            "section,outcome,model,item,count,person_years,estimate,ci_low,ci_high,p_value,coef,se,note"
        )?;
        let f = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
        let c = |v: Option<u64>, s: bool| {
            if s {
                SUPPRESSED.to_string()
            } else {
                v.map(|x| x.to_string()).unwrap_or_default()
            }
        };
        let sf = |v: Option<f64>, s: bool| if s { SUPPRESSED.to_string() } else { f(v) };
        let row = |w: &mut dyn Write, cols: [&str; 13]| -> std::io::Result<()> {
            let line: Vec<String> = cols.iter().map(|s| csv_field(s)).collect();
            writeln!(w, "{}", line.join(","))
        };
        row(
            &mut w,
            [
                "note",
                "",
                "",
                "interpretation",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &self.interpretation,
            ],
        )?;
        row(
            &mut w,
            [
                "note",
                "",
                "",
                "population",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &self.population.description,
            ],
        )?;
        row(
            &mut w,
            [
                "note",
                "",
                "",
                "period",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &self.period.description,
            ],
        )?;
        row(
            &mut w,
            [
                "note",
                "",
                "",
                "covariates",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &self.covariates.join("; "),
            ],
        )?;
        row(
            &mut w,
            [
                "note",
                "",
                "",
                "suppression",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &self.suppression.rule,
            ],
        )?;
        for o in &self.outcomes {
            for cr in &o.crude {
                let item = cr
                    .level
                    .map(|l| format!("level_{l}"))
                    .unwrap_or_else(|| "all".into());
                row(
                    &mut w,
                    [
                        "crude_rate",
                        o.outcome,
                        "",
                        &item,
                        &c(cr.events, cr.suppressed),
                        &format!("{}", cr.person_years),
                        &sf(cr.rate_per_1000, cr.suppressed),
                        &sf(cr.ci_low, cr.suppressed),
                        &sf(cr.ci_high, cr.suppressed),
                        "",
                        "",
                        "",
                        if o.status == "no_events" {
                            "no_events"
                        } else {
                            "per 1,000 person-years"
                        },
                    ],
                )?;
            }
            if let Some(m) = &o.models {
                for (name, mr) in [
                    ("poisson", &m.poisson),
                    ("negative_binomial", &m.negative_binomial),
                ] {
                    if mr.status != "ok" {
                        row(
                            &mut w,
                            [
                                "rate_ratio",
                                o.outcome,
                                name,
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                &format!(
                                    "not_estimable: {}",
                                    mr.reason.clone().unwrap_or_default()
                                ),
                            ],
                        )?;
                        continue;
                    }
                    for t in &mr.terms {
                        row(
                            &mut w,
                            [
                                "rate_ratio",
                                o.outcome,
                                name,
                                t.term,
                                "",
                                "",
                                &f(t.irr),
                                &f(t.ci_low),
                                &f(t.ci_high),
                                &f(t.p),
                                &f(t.coef),
                                &f(t.se),
                                t.note.as_deref().unwrap_or(""),
                            ],
                        )?;
                    }
                    if let Some(a) = mr.alpha {
                        row(
                            &mut w,
                            [
                                "alpha",
                                o.outcome,
                                name,
                                "alpha",
                                "",
                                "",
                                &f(Some(a)),
                                "",
                                "",
                                "",
                                "",
                                &f(mr.alpha_se),
                                "",
                            ],
                        )?;
                    }
                }
            }
        }
        if let Some(a) = &self.activation_change {
            a.write_csv_rows(&mut w, &row_writer)?;
        }
        w.flush()
    }
}

/// A function writing one 13-column CSV row.
pub(crate) type RowWriter = dyn Fn(&mut dyn Write, [&str; 13]) -> std::io::Result<()>;

/// Writes a 13-column CSV row (used by sibling modules).
pub(crate) fn row_writer(w: &mut dyn Write, cols: [&str; 13]) -> std::io::Result<()> {
    let line: Vec<String> = cols.iter().map(|s| csv_field(s)).collect();
    writeln!(w, "{}", line.join(","))
}

/// Quotes a CSV field when needed (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
