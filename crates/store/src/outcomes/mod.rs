//! Utilisation of care and outcome evaluation inputs: importing utilisation events (GP, A&E,
//! admissions, outpatients) idempotently, and building the per-period aggregates that
//! `alongside_stats::evaluate_records` fits — counts aggregated in SQL, one row per person.
//!
//! Design (see `docs/outcomes.md`, "From the store"), by file: [`parse`] reads a file into
//! sorted, counted event keys; [`import`] stores them as one import; [`evaluation`] is what an
//! evaluation covers and returns (its window, exclusions, inputs) and audits each run; [`legacy`]
//! converts events stored before migration 0010; [`population`] loads synthetic populations for
//! benchmarks.
//!
//! * Two formats, one pipeline: a CSV row and a FHIR resource ([`crate::fhir_events`]) both
//!   become (person, day, type, minor) items; people are resolved, items packed, stored and
//!   audited by the same code.
//! * An import is identified by the SHA-256 of its bytes per organisation: the same file again
//!   changes nothing. Bad rows are skipped and reported by line with the reason; the good rows,
//!   the import record and one audit entry are written in one transaction, so a file is either
//!   imported whole (minus its reported bad rows) or not at all. A bad header rejects the file.
//! * Events are stored per (person, type, minor, day, import) with a count `n`, keyed in the
//!   order the evaluation groups them.
//! * An evaluation covers a window [from, to]: one observation period per person, from `from`
//!   when their latest scored measurement on or before `from` gives their level, else from
//!   the day of their first scored measurement inside the window; to `to` in both cases.

mod evaluation;
mod import;
mod legacy;
mod parse;
mod population;

use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Backend, Result, StoreError};
use alongside_core::access::Actor;
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::{OrgId, PersonId};
use alongside_stats::Day;

pub use crate::event_sets::EVENT_TYPES;
pub use evaluation::{level_table, Exclusions, LatestLevel, OutcomeInputs, Window};
pub use population::{PopulationMeasurement, PopulationRow};

/// The exact header of an events file.
pub const EVENTS_HEADER: &str = "person_id,date,type,minor";

/// How many bad rows are listed (all are counted).
pub const MAX_LISTED_REJECTIONS: usize = 1000;

/// One rejected row of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Line number, header = line 1.
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The import's id (the earlier one when the file was already imported).
    pub import_id: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// The file had been imported before: nothing was written but an audit entry.
    pub already_imported: bool,
    /// Data rows read (blank lines excluded); FHIR: Encounter and Appointment entries, and
    /// entries that could not be read as a resource.
    pub rows_read: u64,
    pub rows_rejected: u64,
    /// Events stored (rows read − rows rejected − rows skipped).
    pub events_imported: u64,
    /// Well-formed rows that are not counted events (FHIR: e.g. a cancelled Encounter).
    pub rows_skipped: u64,
    /// Skipped rows by kind, e.g. ("Encounter status cancelled", 2), in kind order.
    pub skipped: Vec<(String, u64)>,
    /// The first [`MAX_LISTED_REJECTIONS`] rejected rows.
    pub rejected: Vec<RejectedRow>,
}

/// Errors that reject a whole import file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "the first line must be the header `{EVENTS_HEADER}`, found `{0}`; nothing was imported"
    )]
    Header(String),
    #[error("the file is empty; nothing was imported")]
    Empty,
    #[error("{0}; expected a FHIR R4 Bundle (JSON) or NDJSON with one resource per line; nothing was imported")]
    NotFhir(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An event generated rather than read from a file (demo data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent {
    pub person_id: PersonId,
    pub day: Day,
    /// Index into [`EVENT_TYPES`].
    pub event_type: u8,
    pub minor: bool,
}

/// Who asked: a signed-in user, or the command line / a system job (no actor).
#[derive(Debug, Clone)]
pub enum Requester {
    User(Actor),
    System(&'static str),
}

impl Requester {
    fn event(
        &self,
        org: OrgId,
        action: AuditAction,
        outcome: Outcome,
        source: &Source,
        detail: String,
    ) -> AuditEvent {
        let (user, role, src) = match self {
            Requester::User(a) => (Some(a.user_id), Some(a.role), source.0.clone()),
            Requester::System(s) => (None, None, Some((*s).to_string())),
        };
        AuditEvent {
            org_id: org,
            actor_user_id: user,
            actor_role: role,
            action,
            outcome,
            resource_type: "organisation",
            resource_id: Some(org.as_text()),
            person_id: None,
            source: src,
            detail: Some(detail),
        }
    }
}

/// The formats of a utilisation events file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `person_id,date,type,minor`.
    Csv,
    /// FHIR R4: a Bundle, or NDJSON with one resource per line.
    Fhir,
}

/// The VALUES list of a multi-row INSERT: `rows` copies of `template`, a tuple in which each
/// `?` is a bound value and everything else a literal we produced (UUIDs, numbers — never input
/// text). Placeholders are anonymous `?` on SQLite and `$n` on PostgreSQL: the one place the
/// SQL text differs by backend, because sqlx resolves each *named* SQLite placeholder (`$n`)
/// with `sqlite3_bind_parameter_name`, a linear scan, which makes binding a statement with
/// thousands of them quadratic (measured: 90% of the import's time).
fn values(backend: Backend, template: &str, rows: usize) -> String {
    let mut out = String::with_capacity(rows * (template.len() + 8));
    let mut n = 0usize;
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        match backend {
            Backend::Sqlite => out.push_str(template),
            Backend::Postgres => {
                for ch in template.chars() {
                    if ch == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(ch);
                    }
                }
            }
        }
    }
    out
}

/// A UUID we generated or read from our own tables, checked before it is written as a literal.
fn uuid_literal(s: &str) -> Result<String> {
    let u =
        uuid::Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("not a UUID: {s:?}")))?;
    Ok(format!("'{}'", u.hyphenated()))
}

/// Parses a record id in text form (re-exported for callers mapping ids).
pub fn person_id(s: &str) -> Result<PersonId> {
    parse_uuid(s)
}
