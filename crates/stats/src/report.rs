//! The evaluation report: serialisable types, JSON and CSV writers (CSV through
//! [`crate::csv_writer`]).
//!
//! Every figure a commissioner sees comes from a [`Report`]; suppression has already been
//! applied to it when it was built with a threshold. This module formats; it must never fit
//! models or read input files. HTML is in [`crate::html`].

use std::io::Write;

use serde::Serialize;

use crate::csv_writer::CsvWriter;

/// Symbol used for suppressed values in CSV and HTML (`[c]`, confidential, as in UK
/// government statistics): [`crate::disclosure::CONFIDENTIAL`].
pub const SUPPRESSED: &str = crate::disclosure::CONFIDENTIAL;

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
        let mut w = CsvWriter::new(out);
        w.header(&CSV_COLUMNS)?;
        self.write_csv_rows(&mut w)?;
        w.flush()
    }

    /// The CSV rows (no header) onto a writer a caller may add its own rows to, in
    /// [`CSV_COLUMNS`].
    pub fn write_csv_rows<W: Write>(&self, w: &mut CsvWriter<W>) -> std::io::Result<()> {
        for (item, text) in [
            ("interpretation", self.interpretation.clone()),
            ("population", self.population.description.clone()),
            ("period", self.period.description.clone()),
            ("covariates", self.covariates.join("; ")),
            ("suppression", self.suppression.rule.clone()),
        ] {
            w.words(&["note", "", "", item])
                .empties(8)
                .word(&text)
                .end_row()?;
        }
        for o in &self.outcomes {
            for cr in &o.crude {
                let item = cr
                    .level
                    .map(|l| format!("level_{l}"))
                    .unwrap_or_else(|| "all".into());
                w.words(&["crude_rate", o.outcome, "", &item]);
                count_cell(w, cr.events, cr.suppressed);
                w.float(cr.person_years);
                for v in [cr.rate_per_1000, cr.ci_low, cr.ci_high] {
                    float_cell(w, v, cr.suppressed);
                }
                w.empties(3)
                    .word(if o.status == "no_events" {
                        "no_events"
                    } else {
                        "per 1,000 person-years"
                    })
                    .end_row()?;
            }
            if let Some(m) = &o.models {
                for (name, mr) in [
                    ("poisson", &m.poisson),
                    ("negative_binomial", &m.negative_binomial),
                ] {
                    if mr.status != "ok" {
                        w.words(&["rate_ratio", o.outcome, name])
                            .empties(9)
                            .word(&format!(
                                "not_estimable: {}",
                                mr.reason.clone().unwrap_or_default()
                            ))
                            .end_row()?;
                        continue;
                    }
                    for t in &mr.terms {
                        w.words(&["rate_ratio", o.outcome, name, t.term]).empties(2);
                        for v in [t.irr, t.ci_low, t.ci_high, t.p, t.coef, t.se] {
                            float_cell(w, v, false);
                        }
                        w.word(t.note.as_deref().unwrap_or("")).end_row()?;
                    }
                    if let Some(a) = mr.alpha {
                        w.words(&["alpha", o.outcome, name, "alpha"])
                            .empties(2)
                            .float(a)
                            .empties(4);
                        float_cell(w, mr.alpha_se, false);
                        w.empty().end_row()?;
                    }
                }
            }
        }
        if let Some(a) = &self.activation_change {
            a.write_csv_rows(w)?;
        }
        Ok(())
    }
}

/// The columns of the report's CSV.
pub const CSV_COLUMNS: [&str; 13] = [
    "section",
    "outcome",
    "model",
    "item",
    "count",
    "person_years",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "coef",
    "se",
    "note",
];

/// A count cell: the count, `[c]` when suppressed, empty when missing.
pub(crate) fn count_cell<W: Write>(w: &mut CsvWriter<W>, v: Option<u64>, suppressed: bool) {
    match v {
        _ if suppressed => w.word(SUPPRESSED),
        Some(n) => w.int(n),
        None => w.empty(),
    };
}

/// A number cell: the number, `[c]` when suppressed, empty when missing.
pub(crate) fn float_cell<W: Write>(w: &mut CsvWriter<W>, v: Option<f64>, suppressed: bool) {
    match v {
        _ if suppressed => w.word(SUPPRESSED),
        Some(x) => w.float(x),
        None => w.empty(),
    };
}
