//! The public evaluation entry points: from CSV readers ([`evaluate_files`]) or from records
//! already aggregated per observation period ([`evaluate_records`], for the database layer).
//!
//! Both end in the same fitting and report code. This module wires; it must never open files
//! by path, touch a database or the network — I/O is only through the readers it is given.

use std::collections::HashMap;
use std::io::Read;

use crate::activation::{activation_change, Measurement};
use crate::analysis::{outcome_reports, Period, DAYS_PER_YEAR};
use crate::coding::{Covariates, Sex, COVARIATE_DESCRIPTION, N_OUTCOMES};
use crate::day::Day;
use crate::disclosure::{Policy, THRESHOLD as DEFAULT_THRESHOLD};
use crate::hash::FxBuild;
use crate::report::{
    InputSummary, LevelPopulation, Population, Report, StudyPeriod, SuppressionInfo, SCHEMA,
};

/// Options for an evaluation.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Disclosure control ([`crate::disclosure`]): counts 1..=t are not shown, nor the counts
    /// that would let them be worked out from totals, nor values derived from any of them.
    /// `None` disables suppression (for internal analysis only). Default `Some(7)`.
    pub suppress: Option<u64>,
    /// Worker threads for parsing and fitting (default: available cores, at least 1).
    pub threads: usize,
    /// How many rejected rows are listed with line and reason (all are counted). Default 100.
    pub max_listed_rejections: usize,
    /// Report title.
    pub title: String,
    /// Who the population is, in words (e.g. "people on the Alongside register of North PCN");
    /// stated in the report with the counts.
    pub population_label: Option<String>,
    /// Calendar span for [`evaluate_records`] (the file path computes it from the periods).
    pub study_period: Option<(Day, Day)>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            suppress: Some(DEFAULT_THRESHOLD),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            max_listed_rejections: 100,
            title: "Utilisation of care by activation level".into(),
            population_label: None,
            study_period: None,
        }
    }
}

/// Errors that stop an evaluation. Bad rows do not: they are listed in the report.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file's header is not the expected one.
    #[error("{file}: header must be `{expected}`, found `{found}`")]
    Header {
        /// Which file.
        file: &'static str,
        /// Expected header.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// Reading failed.
    #[error("reading {file}: {source}")]
    Io {
        /// Which file.
        file: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A record passed to [`evaluate_records`] is invalid.
    #[error("record {index}: {reason}")]
    InvalidRecord {
        /// Position in the slice.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Nothing to evaluate.
    #[error("no valid observation periods")]
    NoPeriods,
}

/// One observation period with its event counts, as the store aggregates them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeriodRecord {
    /// Stable person key (clusters for the robust covariance).
    pub person_key: u64,
    /// Age in whole years at the start of the period (18–120).
    pub age: u16,
    /// Sex.
    pub sex: Sex,
    /// IMD decile 1 (most deprived) – 10.
    pub deprivation_decile: u8,
    /// Number of long-term conditions (≥ 1).
    pub ltc_count: u16,
    /// Activation level 1–4 for the period.
    pub activation_level: u8,
    /// Days of follow-up, end − start + 1 (inclusive), ≥ 1.
    pub exposure_days: u32,
    /// Events per outcome in [`crate::Outcome::ALL`] order.
    pub counts: [u32; N_OUTCOMES],
}

/// Codes records into periods with dense person indices.
pub(crate) fn code_records(records: &[PeriodRecord]) -> Result<(Vec<Period>, usize), EvalError> {
    let mut persons: HashMap<u64, u32, FxBuild> = HashMap::default();
    let mut periods = Vec::with_capacity(records.len());
    for (index, r) in records.iter().enumerate() {
        let cov = Covariates::code(
            i64::from(r.age),
            r.sex,
            i64::from(r.deprivation_decile),
            i64::from(r.ltc_count),
            i64::from(r.activation_level),
        )
        .map_err(|e| EvalError::InvalidRecord {
            index,
            reason: e.to_string(),
        })?;
        if r.exposure_days == 0 {
            return Err(EvalError::InvalidRecord {
                index,
                reason: "exposure_days must be at least 1".into(),
            });
        }
        if r.counts[3] > r.counts[2] {
            return Err(EvalError::InvalidRecord {
                index,
                reason: "ae_minor count exceeds ae_attendance count".into(),
            });
        }
        let n = persons.len() as u32;
        let person = *persons.entry(r.person_key).or_insert(n);
        periods.push(Period {
            person,
            cell: cov.cell(),
            days: r.exposure_days,
            counts: r.counts,
        });
    }
    Ok((periods, persons.len()))
}

/// Evaluates records already aggregated per observation period (e.g. from the SQLite store).
/// Invalid records are an error (the store validates its data); `measurements` adds the
/// activation-change section.
pub fn evaluate_records(
    records: &[PeriodRecord],
    measurements: Option<&[Measurement]>,
    opts: &EvalOptions,
) -> Result<Report, EvalError> {
    if let Some(ms) = measurements {
        if let Some((index, m)) = ms
            .iter()
            .enumerate()
            .find(|(_, m)| !(1..=4).contains(&m.level) || !m.score.is_finite())
        {
            return Err(EvalError::InvalidRecord {
                index,
                reason: format!("measurement with level {} and score {}", m.level, m.score),
            });
        }
    }
    let (periods, n_persons) = code_records(records)?;
    let inputs = InputSummary {
        people_rows: records.len() as u64,
        measurement_rows: measurements.map_or(0, |m| m.len() as u64),
        events_counted: periods
            .iter()
            .map(|p| {
                u64::from(
                    p.counts[0]
                        + p.counts[1]
                        + p.counts[2]
                        + p.counts[4]
                        + p.counts[5]
                        + p.counts[6],
                )
            })
            .sum(),
        ..InputSummary::default()
    };
    build_report(
        &periods,
        n_persons,
        opts.study_period,
        inputs,
        measurements,
        opts,
        "records supplied by the caller",
    )
}

/// Evaluates from CSV readers: `people.csv`, `events.csv` and optionally `measurements.csv`
/// (headers in `docs/outcomes.md`). Malformed rows are skipped, counted and listed with their
/// line number; a wrong header is an error. Pass `None::<std::io::Empty>` for no measurements.
pub fn evaluate_files<P: Read, E: Read, M: Read>(
    people: P,
    events: E,
    measurements: Option<M>,
    opts: &EvalOptions,
) -> Result<Report, EvalError> {
    let mut people_buf = Vec::new();
    let mut people = people;
    people
        .read_to_end(&mut people_buf)
        .map_err(|source| EvalError::Io {
            file: "people.csv",
            source,
        })?;
    let mut rejections = crate::ingest::Rejections::new(opts.max_listed_rejections);
    let pop = crate::ingest::parse_people(&people_buf, &mut rejections)?;
    let ev = crate::ingest::read_events(
        events,
        &pop,
        opts.threads.max(1),
        opts.max_listed_rejections,
    )?;
    rejections.merge(ev.rejections);
    let mut ms = None;
    let mut meas_rows = 0;
    let mut meas_rejected = 0;
    if let Some(mut m) = measurements {
        let mut buf = Vec::new();
        m.read_to_end(&mut buf).map_err(|source| EvalError::Io {
            file: "measurements.csv",
            source,
        })?;
        let before = rejections.count("measurements.csv");
        let (list, rows) = crate::ingest::parse_measurements(&buf, &mut rejections)?;
        meas_rows = rows;
        meas_rejected = rejections.count("measurements.csv") - before;
        ms = Some(list);
    }
    let periods: Vec<Period> = pop
        .periods
        .iter()
        .zip(&ev.counts)
        .map(|(p, c)| Period {
            person: p.person,
            cell: p.cell,
            days: (p.end - p.start + 1) as u32,
            counts: *c,
        })
        .collect();
    let first = pop.periods.iter().map(|p| p.start).min();
    let last = pop.periods.iter().map(|p| p.end).max();
    let (listed, truncated) = rejections.listed();
    let inputs = InputSummary {
        people_rows: pop.rows,
        people_rejected: rejections.count("people.csv"),
        event_rows: ev.rows,
        events_rejected: rejections.count("events.csv"),
        events_unknown_person: ev.unknown_person,
        events_outside_periods: ev.outside_periods,
        events_counted: ev.counted,
        measurement_rows: meas_rows,
        measurements_rejected: meas_rejected,
        rejected_rows: listed,
        rejected_rows_truncated: truncated,
    };
    let span = first.zip(last).map(|(a, b)| (Day(a), Day(b)));
    build_report(
        &periods,
        pop.n_persons,
        span,
        inputs,
        ms.as_deref(),
        opts,
        "people.csv",
    )
}

fn build_report(
    periods: &[Period],
    n_persons: usize,
    span: Option<(Day, Day)>,
    inputs: InputSummary,
    measurements: Option<&[Measurement]>,
    opts: &EvalOptions,
    source: &str,
) -> Result<Report, EvalError> {
    if periods.is_empty() {
        return Err(EvalError::NoPeriods);
    }
    let t = opts.suppress;
    let mut level_days = [0u64; 4];
    let mut level_periods = [0u64; 4];
    let mut seen = vec![false; n_persons];
    for p in periods {
        let l = usize::from(Covariates::from_cell(p.cell).level - 1);
        level_days[l] += u64::from(p.days);
        level_periods[l] += 1;
        seen[p.person as usize] = true;
    }
    let people = seen.iter().filter(|s| **s).count() as u64;
    let person_years = level_days.iter().sum::<u64>() as f64 / DAYS_PER_YEAR;
    let label = opts.population_label.clone().unwrap_or_else(|| {
        format!("people with at least one valid observation period in {source}")
    });
    let description = format!(
        "{label}: {people} people, {} observation periods, {:.1} person-years; adults (18+) with at least one long-term condition and a recorded activation level",
        periods.len(),
        person_years
    );
    let period = match span {
        Some((a, b)) => StudyPeriod {
            first_day: Some(a.to_iso()),
            last_day: Some(b.to_iso()),
            description: format!(
                "observation periods between {a} and {b} (inclusive); events are counted only inside a person's periods"
            ),
        },
        None => StudyPeriod {
            first_day: None,
            last_day: None,
            description: "calendar period not stated by the caller".into(),
        },
    };
    let outcomes = outcome_reports(periods, n_persons, opts.threads.max(1));
    let mut report = Report {
        schema: SCHEMA,
        title: opts.title.clone(),
        interpretation: "These are observational associations between activation level and use of services, adjusted for the covariates listed. They are not evidence that raising activation causes lower use: people differ in ways not measured here (for example severity of illness), and activation may itself reflect health.".into(),
        population: Population {
            description,
            people,
            periods: periods.len() as u64,
            person_years,
            by_level: (0..4)
                .map(|l| LevelPopulation {
                    level: l as u8 + 1,
                    periods: Some(level_periods[l]),
                    suppressed: false,
                    person_years: level_days[l] as f64 / DAYS_PER_YEAR,
                })
                .collect(),
        },
        period,
        exposure_definition: "exposure = (follow_up_end − follow_up_start + 1) days / 365.25 person-years: both dates are inclusive, so a period starting and ending on the same day is one day of follow-up".into(),
        covariates: COVARIATE_DESCRIPTION.iter().map(|s| s.to_string()).collect(),
        methods: vec![
            "crude rates per 1,000 person-years with exact Poisson (Garwood) 95% intervals".into(),
            "adjusted incidence rate ratios for activation levels 2, 3, 4 against level 1 from a Poisson model (cluster-robust HC0 standard errors by person, no small-sample correction) and a negative binomial NB2 model (alpha by maximum likelihood, model-based standard errors), both with a log person-years offset; Wald 95% intervals exp(b ± 1.959963984540054·se), two-sided normal p-values".into(),
            "estimates are exact maximum likelihood (Newton iterations to a zero score) and agree with statsmodels GLM(Poisson, cov_type='cluster') and NegativeBinomial(loglike_method='nb2') refined to convergence".into(),
        ],
        inputs,
        suppression: SuppressionInfo {
            threshold: t,
            rule: match t {
                Some(t) => format!("counts from 1 to {t} are shown as [c]; so is the smallest other count in any row or total that would otherwise let a hidden count be worked out by subtraction (secondary suppression); rates, shares, means and intervals derived from a hidden count likewise; zero is shown; adjusted rate ratios are not suppressed"),
                None => "no small-number suppression applied: not for publication".into(),
            },
        },
        outcomes,
        activation_change: measurements.map(|m| activation_change(m, t)),
    };
    if let Some(t) = t {
        crate::protect::report(&mut report, &Policy::STANDARD.with_threshold(t));
    }
    Ok(report)
}
