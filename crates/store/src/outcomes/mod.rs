//! Utilisation of care and outcome evaluation inputs: importing utilisation events (GP, A&E,
//! admissions, outpatients) idempotently, and building the per-period aggregates that
//! `alongside_stats::evaluate_records` fits — counts aggregated in SQL, one row per person.
//!
//! Design (see `docs/outcomes.md`, "From the store"):
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

use crate::users::parse_uuid;
use crate::{audit, Backend, Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::nhs_number::NhsNumber;
use alongside_core::{OrgId, PersonId};
use alongside_stats::{Day, Measurement, PeriodRecord, Sex};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::people::Source;

pub use crate::event_sets::EVENT_TYPES;
use crate::event_sets::{EventDay, PackedSet, DAY_BASE};

/// The exact header of an events file.
pub const EVENTS_HEADER: &str = "person_id,date,type,minor";

/// Rows per multi-row INSERT (at most 6 bound values each, under both engines' parameter limits).
const INSERT_BATCH: usize = 1000;

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

// Packed event key for sorting and counting: person index (28 bits) | day offset from
// 1900-01-01 (16 bits, up to 2079) | type (3) | minor (1). Sorting packed keys groups events by
// person (people are indexed in id order) and orders each person's events as their stored set.
const MAX_PEOPLE: usize = 1 << 28;

fn pack(person: u32, ty: u8, minor: bool, day: Day) -> u64 {
    (u64::from(person) << 20)
        | (((day.0 - DAY_BASE) as u64 & 0xffff) << 4)
        | (u64::from(ty) << 1)
        | u64::from(minor)
}

fn unpack(k: u64) -> (usize, u8, bool, Day) {
    (
        (k >> 20) as usize,
        ((k >> 1) & 7) as u8,
        k & 1 == 1,
        Day(((k >> 4) & 0xffff) as i32 + DAY_BASE),
    )
}

/// The organisation's people as the importer resolves them: ids in text order, and NHS numbers.
struct PersonIndex {
    ids: Vec<String>,
    by_id: HashMap<String, u32>,
    by_nhs: HashMap<String, u32>,
}

impl PersonIndex {
    fn add(&mut self, id: String, nhs: Option<String>) -> Result<()> {
        let i = self.ids.len();
        if i + 1 >= MAX_PEOPLE {
            return Err(StoreError::Conflict(
                "too many people for one import".into(),
            ));
        }
        if let Some(n) = nhs {
            self.by_nhs.insert(n, i as u32);
        }
        self.by_id.insert(id.clone(), i as u32);
        self.ids.push(id);
        Ok(())
    }

    /// The person a record id (a UUID in any case or form) names.
    fn by_record_id(&self, id: &str) -> std::result::Result<u32, String> {
        if let Some(&p) = self.by_id.get(id) {
            // Fast path: a record id exactly as stored (lower-case, hyphenated).
            return Ok(p);
        }
        uuid::Uuid::parse_str(id)
            .ok()
            .and_then(|u| self.by_id.get(&u.hyphenated().to_string()))
            .copied()
            .ok_or_else(|| "no person with this record id in the organisation".to_string())
    }

    fn by_nhs_number(&self, n: &NhsNumber) -> std::result::Result<u32, String> {
        self.by_nhs
            .get(n.as_str())
            .copied()
            .ok_or_else(|| "no person with this NHS number in the organisation".to_string())
    }
}

/// The packed key of one event item (both formats), or why its day cannot be stored.
fn event_key(person: u32, day: Day, ty: u8, minor: bool) -> std::result::Result<u64, String> {
    if !(EventDay::day_in_range(day) && day.0 < DAY_BASE + 0xffff) {
        return Err(format!("date {day} is outside 1900–2078"));
    }
    // The minor flag only qualifies A&E attendances.
    Ok(pack(person, ty, minor && ty == 2, day))
}

/// Any order: [`person_index`] sorts by id, so that an import's rows are written in the
/// table's key order. On SQLite a scan in storage order (see `inputs.rs` for why).
const PERSON_INDEX_SQL: &str = "SELECT id, nhs_number FROM people WHERE org_id = $1";
const NATIVE_PERSON_INDEX_SQL: &str =
    "SELECT id, nhs_number FROM people NOT INDEXED WHERE org_id = $1";

async fn person_index(store: &Store, org: OrgId) -> Result<PersonIndex> {
    let org = org.as_text();
    let mut people: Vec<(String, Option<String>)> = match store.native_reader() {
        Some(reader) => {
            reader
                .read(move |c| {
                    let mut st = c.prepare(NATIVE_PERSON_INDEX_SQL)?;
                    let mut rows = st.query([org.as_str()])?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next()? {
                        out.push((r.get(0)?, r.get(1)?));
                    }
                    Ok(out)
                })
                .await?
        }
        None => {
            let rows = sqlx::query(PERSON_INDEX_SQL)
                .bind(&org)
                .fetch_all(store.reader())
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push((r.try_get("id")?, r.try_get("nhs_number")?));
            }
            out
        }
    };
    people.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut ix = PersonIndex {
        ids: Vec::with_capacity(people.len()),
        by_id: HashMap::with_capacity(people.len()),
        by_nhs: HashMap::new(),
    };
    for (id, nhs) in people {
        ix.add(id, nhs)?;
    }
    Ok(ix)
}

fn field(s: &str) -> &str {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Parses one data row into a packed key, or says why it is rejected.
fn parse_row(line: &str, ix: &PersonIndex) -> std::result::Result<u64, String> {
    let mut fields = [""; 4];
    let mut count = 0usize;
    for f in line.split(',') {
        if count < 4 {
            fields[count] = f;
        }
        count += 1;
    }
    if count != 4 {
        return Err(format!(
            "expected 4 fields (person_id,date,type,minor), found {count}"
        ));
    }
    let who = field(fields[0]);
    let person = if let Some(&p) = ix.by_id.get(who) {
        p
    } else if who.is_empty() {
        return Err("person_id is empty".into());
    } else if who.bytes().all(|b| b.is_ascii_digit() || b == b' ')
        && who.bytes().filter(u8::is_ascii_digit).count() == 10
    {
        let compact: String = who.chars().filter(|c| !c.is_whitespace()).collect();
        let n = NhsNumber::parse(&compact).map_err(|_| {
            "person_id is 10 digits but not a valid NHS number (check digit)".to_string()
        })?;
        ix.by_nhs_number(&n)?
    } else {
        uuid::Uuid::parse_str(who).map_err(|_| {
            "person_id must be a record id (UUID) or a 10-digit NHS number".to_string()
        })?;
        ix.by_record_id(who)?
    };
    let date = field(fields[1]);
    let day = Day::parse_iso(date.as_bytes())
        .filter(|d| EventDay::day_in_range(*d) && d.0 < DAY_BASE + 0xffff)
        .ok_or_else(|| "date must be a real date written YYYY-MM-DD (1900–2078)".to_string())?;
    let ty = field(fields[2]);
    let t = EVENT_TYPES.iter().position(|t| *t == ty).ok_or_else(|| {
        format!(
            "unknown event type; expected one of {}",
            EVENT_TYPES.join(", ")
        )
    })?;
    let minor = field(fields[3]);
    let minor = if minor.eq_ignore_ascii_case("true") || minor == "1" {
        true
    } else if minor.eq_ignore_ascii_case("false") || minor == "0" || minor.is_empty() {
        false
    } else {
        return Err("minor must be true, false, 1, 0 or empty".into());
    };
    event_key(person, day, t as u8, minor)
}

/// Reads a FHIR file ([`crate::fhir_events`]) into the same parsed form as a CSV file.
fn parse_fhir(bytes: &[u8], ix: &PersonIndex) -> std::result::Result<Parsed, ImportError> {
    use crate::fhir_events::{Outcome as Fhir, PersonRef};
    let entries = crate::fhir_events::read(bytes).map_err(ImportError::NotFhir)?;
    let mut parsed = Parsed::default();
    let mut keys = Vec::with_capacity(entries.len());
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    for e in entries {
        parsed.rows_read += 1;
        let key = match e.outcome {
            Fhir::Event(item) => match &item.person {
                PersonRef::RecordId(id) => ix.by_record_id(id),
                PersonRef::Nhs(n) => ix.by_nhs_number(n),
            }
            .and_then(|p| event_key(p, item.day, item.event_type, item.minor)),
            Fhir::Skipped(kind) => {
                *skipped.entry(kind).or_default() += 1;
                continue;
            }
            Fhir::Rejected(reason) => Err(reason),
        };
        match key {
            Ok(k) => keys.push(k),
            Err(reason) => {
                parsed.rows_rejected += 1;
                if parsed.rejected.len() < MAX_LISTED_REJECTIONS {
                    parsed.rejected.push(RejectedRow {
                        line: e.number,
                        reason,
                    });
                }
            }
        }
    }
    parsed.rows_skipped = skipped.values().sum();
    parsed.skipped = skipped.into_iter().collect();
    parsed.keys = count_keys(keys);
    Ok(parsed)
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

/// Parsed, sorted and counted events ready to store.
#[derive(Default)]
struct Parsed {
    keys: Vec<(u64, u32)>,
    rows_read: u64,
    rows_rejected: u64,
    rejected: Vec<RejectedRow>,
    rows_skipped: u64,
    skipped: Vec<(String, u64)>,
}

fn parse_file(bytes: &[u8], ix: &PersonIndex) -> std::result::Result<Parsed, ImportError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text.split('\n');
    let header = loop {
        match lines.next() {
            None => return Err(ImportError::Empty),
            Some(h) if h.trim().is_empty() => continue,
            Some(h) => break h,
        }
    };
    let header_norm: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(str::trim)
        .collect();
    if header_norm.join(",") != EVENTS_HEADER {
        let shown: String = header.trim().chars().take(100).collect();
        return Err(ImportError::Header(shown));
    }
    // Line numbers count from the header's line.
    let header_start = header.as_ptr() as usize - text.as_ptr() as usize;
    let header_line = text[..header_start].matches('\n').count() as u64 + 1;
    let body_start = (header_start + header.len() + 1).min(text.len());
    let body = &text[body_start..];
    // Parse in as many chunks as there are cores, each cut at a line boundary.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let mut bounds = vec![0usize];
    for k in 1..threads {
        let mut at = body.len() * k / threads;
        while at < body.len() && !body.is_char_boundary(at) {
            at += 1;
        }
        let cut = body[at..].find('\n').map_or(body.len(), |i| at + i + 1);
        if cut > *bounds.last().expect("bounds") {
            bounds.push(cut);
        }
    }
    bounds.push(body.len());
    bounds.dedup();
    let parts: Vec<(Vec<u64>, u64, u64, Vec<RejectedRow>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                scope.spawn(move || {
                    let first_line = header_line + 1 + body[..from].matches('\n').count() as u64;
                    let mut keys = Vec::with_capacity((to - from) / 60);
                    let (mut read, mut rejected) = (0u64, 0u64);
                    let mut listed = Vec::new();
                    for (i, line) in body[from..to].split('\n').enumerate() {
                        let line = line.trim_end_matches('\r');
                        if line.trim().is_empty() {
                            continue;
                        }
                        read += 1;
                        match parse_row(line, ix) {
                            Ok(k) => keys.push(k),
                            Err(reason) => {
                                rejected += 1;
                                if listed.len() < MAX_LISTED_REJECTIONS {
                                    listed.push(RejectedRow {
                                        line: first_line + i as u64,
                                        reason,
                                    });
                                }
                            }
                        }
                    }
                    (keys, read, rejected, listed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("parser thread"))
            .collect()
    });
    let mut parsed = Parsed::default();
    let mut keys = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (k, read, rejected, listed) in parts {
        keys.extend_from_slice(&k);
        parsed.rows_read += read;
        parsed.rows_rejected += rejected;
        for r in listed {
            if parsed.rejected.len() < MAX_LISTED_REJECTIONS {
                parsed.rejected.push(r);
            }
        }
    }
    parsed.keys = count_keys(keys);
    Ok(parsed)
}

fn count_keys(mut keys: Vec<u64>) -> Vec<(u64, u32)> {
    keys.sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(keys.len());
    for k in keys {
        match out.last_mut() {
            Some((last, n)) if *last == k => *n += 1,
            _ => out.push((k, 1)),
        }
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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

struct ImportMeta {
    org: OrgId,
    sha256: String,
    /// What the file's rows are called in the audit: "rows" (CSV) or "FHIR entries".
    unit: &'static str,
    file_name: String,
    source: String,
    requester: Requester,
    audit_source: Source,
}

/// Packs the next [`INSERT_BATCH`] people's sets from `keys[at..]` (sorted packed keys with
/// counts) into `batch`; returns where the next batch starts.
fn next_sets(keys: &[(u64, u32)], mut at: usize, batch: &mut Vec<(usize, PackedSet)>) -> usize {
    batch.clear();
    let mut days: Vec<EventDay> = Vec::new();
    while at < keys.len() && batch.len() < INSERT_BATCH {
        let person = unpack(keys[at].0).0;
        days.clear();
        while at < keys.len() && unpack(keys[at].0).0 == person {
            let (_, event_type, minor, day) = unpack(keys[at].0);
            days.push(EventDay {
                day,
                event_type,
                minor,
                n: keys[at].1,
            });
            at += 1;
        }
        batch.push((
            person,
            crate::event_sets::pack_sorted(&days).expect("a person's group is never empty"),
        ));
    }
    at
}

/// Inserts the events of one import on `c`: one packed event set per person
/// ([`crate::event_sets`]), in multi-row statements.
async fn insert_sets(
    c: &mut AnyConnection,
    backend: Backend,
    org: &str,
    import_id: &str,
    ids: &[String],
    keys: &[(u64, u32)],
) -> Result<()> {
    let template = format!(
        "({}, ?, {}, ?, ?, ?, ?, ?)",
        uuid_literal(org)?,
        uuid_literal(import_id)?
    );
    let mut sql_cache: HashMap<usize, String> = HashMap::new();
    let mut batch: Vec<(usize, PackedSet)> = Vec::with_capacity(INSERT_BATCH);
    let mut at = 0;
    while at < keys.len() {
        at = next_sets(keys, at, &mut batch);
        let sql = sql_cache.entry(batch.len()).or_insert_with(|| {
            format!(
                "INSERT INTO utilisation_event_sets (org_id, person_id, import_id, first_date, last_date, last_unplanned, events, packed) VALUES {}",
                values(backend, &template, batch.len())
            )
        });
        let mut q = sqlx::query(sql.as_str());
        for (p, set) in &batch {
            q = q
                .bind(ids[*p].as_str())
                .bind(set.first.to_iso())
                .bind(set.last.to_iso())
                .bind(set.last_unplanned.map(|d| d.to_iso()))
                .bind(set.events as i64)
                .bind(set.bytes.as_slice());
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

async fn store_import(
    store: &Store,
    meta: ImportMeta,
    ids: Arc<Vec<String>>,
    parsed: Arc<Parsed>,
) -> Result<ImportReport> {
    let meta = Arc::new(meta);
    let backend = store.backend();
    let now = store.now();
    store
        .write(move |c| {
            let (meta, ids, parsed) = (meta.clone(), ids.clone(), parsed.clone());
            Box::pin(async move {
                let org = meta.org.as_text();
                let existing = sqlx::query("SELECT id, rows_read, rows_rejected, events_imported FROM utilisation_imports WHERE org_id = $1 AND sha256 = $2")
                    .bind(&org)
                    .bind(&meta.sha256)
                    .fetch_optional(&mut *c)
                    .await?;
                if let Some(r) = existing {
                    let report = ImportReport {
                        import_id: r.try_get("id")?,
                        sha256: meta.sha256.clone(),
                        already_imported: true,
                        rows_read: r.try_get::<i64, _>("rows_read")? as u64,
                        rows_rejected: r.try_get::<i64, _>("rows_rejected")? as u64,
                        events_imported: 0,
                        rows_skipped: 0,
                        skipped: Vec::new(),
                        rejected: Vec::new(),
                    };
                    let detail = format!("{} (sha256 {}): already imported as {}; nothing changed", meta.file_name, &meta.sha256[..16], report.import_id);
                    audit::append(c, &meta.requester.event(meta.org, AuditAction::UtilisationImported, Outcome::Allowed, &meta.audit_source, detail)).await?;
                    return Ok(report);
                }
                let import_id = uuid::Uuid::new_v4().hyphenated().to_string();
                let events: u64 = parsed.keys.iter().map(|(_, n)| u64::from(*n)).sum();
                sqlx::query("INSERT INTO utilisation_imports (org_id, id, sha256, file_name, source, rows_read, rows_rejected, events_imported, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&org)
                    .bind(&import_id)
                    .bind(&meta.sha256)
                    .bind(&meta.file_name)
                    .bind(&meta.source)
                    .bind(parsed.rows_read as i64)
                    .bind(parsed.rows_rejected as i64)
                    .bind(events as i64)
                    .bind(now)
                    .bind(match &meta.requester { Requester::User(a) => Some(a.user_id.as_text()), Requester::System(_) => None })
                    .execute(&mut *c)
                    .await?;
                insert_sets(c, backend, &org, &import_id, &ids, &parsed.keys).await?;
                let unit = meta.unit;
                let mut detail = format!(
                    "{} (sha256 {}), source {}: {} {unit} read, {} events imported, {} {unit} rejected",
                    meta.file_name, &meta.sha256[..16], meta.source, parsed.rows_read, events, parsed.rows_rejected
                );
                if parsed.rows_skipped > 0 {
                    detail.push_str(&format!(", {} {unit} skipped (not counted events)", parsed.rows_skipped));
                }
                audit::append(c, &meta.requester.event(meta.org, AuditAction::UtilisationImported, Outcome::Allowed, &meta.audit_source, detail)).await?;
                Ok(ImportReport {
                    import_id,
                    sha256: meta.sha256.clone(),
                    already_imported: false,
                    rows_read: parsed.rows_read,
                    rows_rejected: parsed.rows_rejected,
                    events_imported: events,
                    rows_skipped: parsed.rows_skipped,
                    skipped: parsed.skipped.clone(),
                    rejected: parsed.rejected.clone(),
                })
            })
        })
        .await
}

/// The formats of a utilisation events file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `person_id,date,type,minor`.
    Csv,
    /// FHIR R4: a Bundle, or NDJSON with one resource per line.
    Fhir,
}

/// A window of whole days, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Day,
    pub to: Day,
}

impl Window {
    /// The last full 12 calendar months before `today` (e.g. today 2026-11-22 →
    /// 2025-11-01 … 2026-10-31).
    pub fn last_full_year(today: Day) -> Window {
        let (y, m, _) = today.ymd();
        let to = Day(Day::from_ymd(y, m, 1).expect("first of month").0 - 1);
        let from = Day::from_ymd(y - 1, m, 1).expect("first of month");
        Window { from, to }
    }
}

/// People left out of the evaluation, by reason (each person counted once, first reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Exclusions {
    /// No scored activation measurement on or before the end of the window.
    pub no_activation: u64,
    /// Sex recorded as other or not known (the model's covariate is female/male).
    pub sex_not_female_or_male: u64,
    pub no_deprivation_decile: u64,
    pub no_long_term_condition: u64,
    /// Under 18 or over 120 at the start of their period.
    pub age_outside_18_120: u64,
}

/// A person's latest scored measurement by the end of the window, with their attributes, for
/// the de-identified distributions (never leaves the server with an identity attached).
#[derive(Debug, Clone, PartialEq)]
pub struct LatestLevel {
    pub level: u8,
    pub deprivation_decile: Option<u8>,
    pub gp_practice: Option<String>,
    pub conditions: Vec<String>,
}

/// Everything an evaluation needs, built from the store.
#[derive(Debug, Clone)]
pub struct OutcomeInputs {
    pub window: Window,
    pub people_registered: u64,
    /// People with at least one completed questionnaire on or before the end of the window.
    pub people_measured: u64,
    pub records: Vec<PeriodRecord>,
    pub measurements: Vec<Measurement>,
    pub excluded: Exclusions,
    /// Events in the window of people without an observation period, or before their start.
    pub events_not_counted: u64,
    /// Only with `with_distributions`: one entry per measured person.
    pub latest: Vec<LatestLevel>,
    /// Events stored for the organisation's people in the window (all types).
    pub events_in_window: u64,
}

impl Store {
    /// Imports a utilisation events CSV (`person_id,date,type,minor`) into `org`; see the module
    /// documentation for idempotency and bad rows. `source` says where the data came from.
    pub async fn import_events_csv(
        &self,
        org: OrgId,
        requester: Requester,
        file_name: &str,
        source: &str,
        bytes: Vec<u8>,
        audit_source: Source,
    ) -> std::result::Result<ImportReport, ImportError> {
        self.import_events_file(
            org,
            requester,
            FileFormat::Csv,
            file_name,
            source,
            bytes,
            audit_source,
        )
        .await
    }

    /// Imports utilisation events from a file in `format` into `org`: a CSV file as
    /// [`Store::import_events_csv`] says, or FHIR R4 resources (a Bundle or NDJSON of Encounters
    /// and Appointments, mapped by [`crate::fhir_events`]) with the same guarantees; a bad FHIR
    /// entry is reported by its number (Bundle entry from 1, or NDJSON line), and
    /// [`ImportReport::skipped`] counts resources that are not events.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_events_file(
        &self,
        org: OrgId,
        requester: Requester,
        format: FileFormat,
        file_name: &str,
        source: &str,
        bytes: Vec<u8>,
        audit_source: Source,
    ) -> std::result::Result<ImportReport, ImportError> {
        if let Requester::User(a) = &requester {
            let d = crate::door::org_decision(a, Action::ManageInstruments);
            if !d.allowed {
                self.audit(requester.event(
                    org,
                    AuditAction::UtilisationImported,
                    Outcome::Refused,
                    &audit_source,
                    d.reason.into(),
                ))
                .await?;
                return Err(StoreError::Refused(d.reason).into());
            }
        }
        let started = std::time::Instant::now();
        let sha256 = sha256_hex(&bytes);
        let meta = ImportMeta {
            org,
            sha256,
            unit: match format {
                FileFormat::Csv => "rows",
                FileFormat::Fhir => "FHIR entries",
            },
            file_name: file_name.to_string(),
            source: source.to_string(),
            requester,
            audit_source,
        };
        // The same file again: no need to parse it (the transaction checks again).
        if sqlx::query("SELECT id FROM utilisation_imports WHERE org_id = $1 AND sha256 = $2")
            .bind(org.as_text())
            .bind(&meta.sha256)
            .fetch_optional(self.reader())
            .await
            .map_err(StoreError::from)?
            .is_some()
        {
            let empty = Parsed::default();
            return Ok(store_import(self, meta, Arc::new(Vec::new()), Arc::new(empty)).await?);
        }
        let hashed = started.elapsed();
        let ix = person_index(self, org).await?;
        let indexed = started.elapsed();
        let parsed = {
            let ix = Arc::new(ix);
            let ix2 = ix.clone();
            let parsed = tokio::task::spawn_blocking(move || match format {
                FileFormat::Csv => parse_file(&bytes, &ix2),
                FileFormat::Fhir => parse_fhir(&bytes, &ix2),
            })
            .await
            .map_err(|e| StoreError::Corrupt(e.to_string()))??;
            let ids = Arc::new(
                Arc::try_unwrap(ix)
                    .map(|i| i.ids)
                    .unwrap_or_else(|i| i.ids.clone()),
            );
            (ids, parsed)
        };
        let parsed_at = started.elapsed();
        let report = store_import(self, meta, parsed.0, Arc::new(parsed.1)).await?;
        tracing::info!(
            hash_s = hashed.as_secs_f64(),
            people_index_s = (indexed - hashed).as_secs_f64(),
            parse_sort_s = (parsed_at - indexed).as_secs_f64(),
            insert_commit_s = (started.elapsed() - parsed_at).as_secs_f64(),
            "utilisation import timings"
        );
        Ok(report)
    }

    /// Stores generated events (demo data) as one import named `label`, audited as a system
    /// import. Idempotent like file imports (the identity is a hash of the events).
    pub async fn insert_generated_events(
        &self,
        org: OrgId,
        label: &str,
        events: Vec<NewEvent>,
    ) -> Result<ImportReport> {
        let ix = person_index(self, org).await?;
        let mut keys = Vec::with_capacity(events.len());
        for e in &events {
            let p = *ix
                .by_id
                .get(&e.person_id.as_text())
                .ok_or(StoreError::NotFound)?;
            keys.push(pack(p, e.event_type, e.minor && e.event_type == 2, e.day));
        }
        let keys = count_keys(keys);
        let mut h = Sha256::new();
        h.update(label.as_bytes());
        for (k, n) in &keys {
            let (p, _, _, _) = unpack(*k);
            h.update(ix.ids[p].as_bytes());
            h.update(k.to_le_bytes());
            h.update(n.to_le_bytes());
        }
        let meta = ImportMeta {
            org,
            sha256: hex(&h.finalize()),
            unit: "rows",
            file_name: label.to_string(),
            source: label.to_string(),
            requester: Requester::System("system"),
            audit_source: Source::default(),
        };
        let parsed = Parsed {
            rows_read: events.len() as u64,
            keys,
            ..Parsed::default()
        };
        store_import(self, meta, Arc::new(ix.ids), Arc::new(parsed)).await
    }

    /// How many events are stored for an organisation (sum of counts) and in how many imports.
    pub async fn utilisation_totals(&self, org: OrgId) -> Result<(i64, i64)> {
        let e = sqlx::query("SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) AS n FROM utilisation_event_sets WHERE org_id = $1")
            .bind(org.as_text())
            .fetch_one(self.reader())
            .await?;
        let i = sqlx::query("SELECT COUNT(*) AS n FROM utilisation_imports WHERE org_id = $1")
            .bind(org.as_text())
            .fetch_one(self.reader())
            .await?;
        Ok((e.try_get("n")?, i.try_get("n")?))
    }

    /// Checks `requester` may run an outcome evaluation of `org` and audits the run (`what`:
    /// e.g. "dashboard", "CSV download", "command line") — allowed or refused, no health data.
    pub async fn audit_evaluation(
        &self,
        org: OrgId,
        requester: &Requester,
        window: Window,
        what: &str,
        source: Source,
    ) -> Result<()> {
        let decision = match requester {
            Requester::User(a) => crate::door::org_decision(a, Action::ReadAggregates),
            Requester::System(_) => alongside_core::access::Decision {
                allowed: true,
                reason: "command line",
            },
        };
        let detail = if decision.allowed {
            format!("{what}: window {} to {}", window.from, window.to)
        } else {
            format!("{what}: {}", decision.reason)
        };
        self.audit(requester.event(
            org,
            AuditAction::OutcomesEvaluated,
            if decision.allowed {
                Outcome::Allowed
            } else {
                Outcome::Refused
            },
            &source,
            detail,
        ))
        .await?;
        if decision.allowed {
            Ok(())
        } else {
            Err(StoreError::Refused(decision.reason))
        }
    }
}

impl Store {
    /// Moves events stored one row per event by a database created before migration 0010 into
    /// packed event sets ([`crate::event_sets`]), in one transaction, and empties the old table.
    /// Runs when the store is opened with migrations; does nothing once the old table is empty.
    pub(crate) async fn convert_legacy_events(&self) -> Result<()> {
        let any = sqlx::query("SELECT org_id FROM utilisation_events LIMIT 1")
            .fetch_optional(self.reader())
            .await?;
        if any.is_none() {
            return Ok(());
        }
        let moved = self
            .write(|c| {
                Box::pin(async move {
                    let rows = sqlx::query("SELECT org_id, person_id, import_id, event_type, minor, event_date, n FROM utilisation_events")
                        .fetch_all(&mut *c)
                        .await?;
                    let mut sets: BTreeMap<(String, String, String), Vec<EventDay>> = BTreeMap::new();
                    for r in &rows {
                        let ty: String = r.try_get(3)?;
                        let date: String = r.try_get(5)?;
                        let event_type = EVENT_TYPES
                            .iter()
                            .position(|t| *t == ty)
                            .ok_or_else(|| StoreError::Corrupt(format!("event type {ty:?}")))?;
                        let day = Day::parse_iso(date.as_bytes())
                            .filter(|d| EventDay::day_in_range(*d))
                            .ok_or_else(|| StoreError::Corrupt(format!("event date {date:?}")))?;
                        sets.entry((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
                            .or_default()
                            .push(EventDay {
                                day,
                                event_type: event_type as u8,
                                minor: r.try_get::<i64, _>(4)? == 1,
                                n: r.try_get::<i64, _>(6)? as u32,
                            });
                    }
                    for ((org, person, import), days) in sets {
                        let Some(set) = crate::event_sets::pack(days) else {
                            continue;
                        };
                        sqlx::query("INSERT INTO utilisation_event_sets (org_id, person_id, import_id, first_date, last_date, last_unplanned, events, packed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                            .bind(&org)
                            .bind(&person)
                            .bind(&import)
                            .bind(set.first.to_iso())
                            .bind(set.last.to_iso())
                            .bind(set.last_unplanned.map(|d| d.to_iso()))
                            .bind(set.events as i64)
                            .bind(set.bytes)
                            .execute(&mut *c)
                            .await?;
                    }
                    sqlx::query("DELETE FROM utilisation_events").execute(&mut *c).await?;
                    Ok(rows.len())
                })
            })
            .await?;
        tracing::info!(
            rows = moved,
            "utilisation events converted to packed event sets"
        );
        Ok(())
    }
}

/// The bench and test loader for a synthetic population; see [`Store::load_population`].
#[derive(Debug, Clone)]
pub struct PopulationRow {
    pub id: PersonId,
    pub date_of_birth: Day,
    pub sex: Sex,
    pub deprivation_decile: u8,
    pub ltc_count: u16,
    pub gp_practice: Option<String>,
}

/// A scored measurement to load with a population.
#[derive(Debug, Clone, Copy)]
pub struct PopulationMeasurement {
    pub person_id: PersonId,
    pub day: Day,
    pub score: f64,
    pub level: u8,
}

impl Store {
    /// Bulk-loads synthetic people (no names, no NHS numbers, conditions from the code map's
    /// first `ltc_count` keys) and their scored measurements with `instrument`, for benchmarks
    /// and tests of the evaluation at scale. One transaction; audited as one system entry.
    pub async fn load_population(
        &self,
        org: OrgId,
        instrument: alongside_core::InstrumentId,
        people: Vec<PopulationRow>,
        measurements: Vec<PopulationMeasurement>,
        condition_keys: Vec<String>,
    ) -> Result<()> {
        let people = Arc::new(people);
        let measurements = Arc::new(measurements);
        let condition_keys = Arc::new(condition_keys);
        let backend = self.backend();
        let now = self.now();
        self.write(move |c| {
            let (people, measurements, condition_keys) = (people.clone(), measurements.clone(), condition_keys.clone());
            Box::pin(async move {
                let org_l = uuid_literal(&org.as_text())?;
                let ins_l = uuid_literal(&instrument.as_text())?;
                const COLS: &str = "org_id, id, nhs_number, given_name, family_name, search_name, date_of_birth, sex, consent_phone, consent_sms, consent_email, consent_post, preferred_language, interpreter_needed, deprivation_decile, gp_practice, created_at, updated_at, version";
                let person_t = format!("({org_l}, ?, NULL, 'Synthetic', 'Person', ' synthetic person ', ?, ?, 0, 0, 0, 0, 'en', 0, ?, ?, {now}, {now}, 1)");
                for chunk in people.chunks(1000) {
                    let sql = format!("INSERT INTO people ({COLS}) VALUES {}", values(backend, &person_t, chunk.len()));
                    let mut q = sqlx::query(&sql);
                    for p in chunk {
                        q = q.bind(p.id.as_text()).bind(p.date_of_birth.to_iso()).bind(if p.sex == Sex::Female { "female" } else { "male" }).bind(i64::from(p.deprivation_decile)).bind(p.gp_practice.clone());
                    }
                    q.execute(&mut *c).await?;
                    let mut rows: Vec<(String, &str)> = Vec::new();
                    for p in chunk {
                        for k in condition_keys.iter().take(usize::from(p.ltc_count.max(1))) {
                            rows.push((p.id.as_text(), k.as_str()));
                        }
                    }
                    for cc in rows.chunks(1000) {
                        let sql = format!("INSERT INTO person_conditions (org_id, person_id, condition) VALUES {}", values(backend, &format!("({org_l}, ?, ?)"), cc.len()));
                        let mut q = sqlx::query(&sql);
                        for (p, k) in cc {
                            q = q.bind(p.as_str()).bind(*k);
                        }
                        q.execute(&mut *c).await?;
                    }
                }
                let assessment_t = format!("({org_l}, ?, ?, {ins_l}, 'completed', 'paper', NULL, '{{}}', ?, ?, 0, 0, ?, ?, '')");
                for chunk in measurements.chunks(1000) {
                    let sql = format!("INSERT INTO assessments (org_id, id, person_id, instrument_id, status, mode, recorded_by, answers, started_at, completed_at, items_answered, raw_score, score, level, flags) VALUES {}", values(backend, &assessment_t, chunk.len()));
                    let mut q = sqlx::query(&sql);
                    for m in chunk {
                        let at = i64::from(m.day.0) * 86_400_000_000 + 43_200_000_000;
                        q = q.bind(uuid::Uuid::new_v4().hyphenated().to_string()).bind(m.person_id.as_text()).bind(at).bind(at).bind(m.score).bind(i64::from(m.level));
                    }
                    q.execute(&mut *c).await?;
                }
                let e = Requester::System("system").event(org, AuditAction::PersonCreated, Outcome::Allowed, &Source::default(), format!("synthetic population loaded: {} people, {} measurements", people.len(), measurements.len()));
                audit::append(c, &AuditEvent { resource_type: "people", ..e }).await?;
                Ok(())
            })
        })
        .await
    }
}

/// Level counts by a grouping key, for the dashboard's distributions.
pub fn level_table<'a>(
    latest: &'a [LatestLevel],
    key: impl Fn(&'a LatestLevel) -> Vec<String>,
) -> BTreeMap<String, [u64; 4]> {
    let mut m: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for l in latest {
        for k in key(l) {
            m.entry(k).or_default()[usize::from(l.level - 1)] += 1;
        }
    }
    m
}

/// Parses a record id in text form (re-exported for callers mapping ids).
pub fn person_id(s: &str) -> Result<PersonId> {
    parse_uuid(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::age_on;

    #[test]
    fn packed_keys_round_trip_and_sort_by_person_day_type_minor() {
        let d = Day::from_ymd(2025, 3, 1).unwrap();
        for (p, t, m) in [
            (0u32, 0u8, false),
            (123_456, 5, false),
            (MAX_PEOPLE as u32 - 1, 2, true),
        ] {
            assert_eq!(unpack(pack(p, t, m, d)), (p as usize, t, m, d));
        }
        assert!(pack(1, 0, false, d) > pack(0, 5, true, Day(d.0 + 999)));
        assert!(pack(0, 0, false, Day(d.0 + 1)) > pack(0, 5, true, d));
        assert!(pack(0, 2, true, d) > pack(0, 2, false, d));
    }

    #[test]
    fn window_is_the_last_full_year() {
        let w = Window::last_full_year(Day::from_ymd(2026, 11, 22).unwrap());
        assert_eq!(w.from.to_iso(), "2025-11-01");
        assert_eq!(w.to.to_iso(), "2026-10-31");
        let w = Window::last_full_year(Day::from_ymd(2026, 1, 1).unwrap());
        assert_eq!(
            (w.from.to_iso(), w.to.to_iso()),
            ("2025-01-01".into(), "2025-12-31".into())
        );
    }

    #[test]
    fn ages_count_whole_years() {
        let dob = Day::from_ymd(1960, 3, 7).unwrap();
        assert_eq!(age_on(dob, Day::from_ymd(2025, 3, 6).unwrap()), 64);
        assert_eq!(age_on(dob, Day::from_ymd(2025, 3, 7).unwrap()), 65);
    }
}
