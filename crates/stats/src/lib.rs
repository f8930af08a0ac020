//! # alongside-stats
//!
//! Pure analytics for Alongside's outcome reporting: utilisation of care (GP, A&E, emergency
//! admissions, outpatients) by activation level, crude rates with exact intervals, adjusted
//! incidence rate ratios from Poisson (cluster-robust) and negative binomial (NB2) models,
//! change in activation, disclosure control (small-number and secondary suppression, one
//! policy for every view: [`disclosure`]), one formula-safe CSV writer ([`csv_writer`]), and
//! synthetic populations for testing.
//!
//! Every estimate is an observational association and is labelled as such in the report.
//!
//! **Invariants:** no database, no HTTP, no async, no clock, no file paths: all I/O goes through
//! `impl Read` / `impl Write` parameters. Only synthetic data are generated here.
//!
//! Entry points:
//! - [`evaluate_files`] — from `people.csv`, `events.csv` and optionally `measurements.csv`;
//! - [`evaluate_records`] — from per-period aggregates ([`PeriodRecord`]) such as the store's;
//! - [`Report`] — `to_json`, [`Report::write_csv`], [`Report::to_html`];
//! - [`synth::generate`] — deterministic synthetic populations.

pub mod activation;
pub mod analysis;
pub mod coding;
pub mod csv_writer;
pub mod day;
pub mod disclosure;
pub mod evaluate;
pub mod hash;
pub mod html;
mod idindex;
mod ingest;
pub mod linalg;
pub mod negbin;
pub mod poisson;
mod protect;
pub mod report;
pub mod special;
pub mod synth;

pub use activation::{activation_change, ActivationChange, Measurement};
pub use coding::{Outcome, Sex, TERM_NAMES};
pub use csv_writer::CsvWriter;
pub use day::Day;
pub use disclosure::{
    is_suppressed, suppress_count, suppress_derived, Policy, THRESHOLD as DEFAULT_THRESHOLD,
};
pub use evaluate::{evaluate_files, evaluate_records, EvalError, EvalOptions, PeriodRecord};
pub use ingest::{EVENTS_HEADER, MEASUREMENTS_HEADER, PEOPLE_HEADER};
pub use report::Report;
