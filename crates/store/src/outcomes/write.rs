//! Writing one import in chunks, so that a large import never holds the writer for long.
//!
//! An import of twenty million events is a million event sets, several seconds of inserts.
//! Written as one transaction it held the store's single writer (and, on SQLite, the database's
//! write lock, which a command-line import shares with a running server) for all of that time,
//! so every audited page view waited. Instead:
//!
//! 1. **Begin** (one short transaction): if the file was imported already, audit that and stop;
//!    otherwise insert its `utilisation_imports` row with `complete = 0`, a placeholder
//!    `sha256` (`pending <id>`, so the unique key lets only one import of a file complete) and
//!    `written_at`, the wall clock.
//! 2. **Chunks** of [`CHUNK_SETS`] people's event sets, one transaction each, each stamping
//!    `written_at` (and failing if the row is gone). On SQLite the importer then pauses for
//!    [`CHUNK_PAUSE`] so that another process waiting for the write lock (a server's writer,
//!    whose busy handler polls) gets it between chunks.
//! 3. **Complete** (one transaction): set `complete = 1` and the file's real `sha256`, and write
//!    the audit entry. Only now can readers see the events: every reader of
//!    `utilisation_event_sets` leaves out sets of incomplete imports ([`OF_COMPLETE_IMPORTS`]).
//!
//! An import that fits in one chunk (every small file) runs the three steps in one transaction,
//! as before. An import that fails part-way removes what it wrote; one whose process died is
//! *abandoned*: its row stays incomplete and unwritten-to, and once [`ABANDONED_AFTER_MICROS`]
//! have passed the next import, or the next [`Store::open`], deletes it and its sets
//! ([`Store::clean_abandoned_imports`]), in chunks too. Losing the race to complete the same file
//! as another import (the unique key refuses the real hash) removes this one's sets and reports
//! the file as already imported, as if the imports had run one after the other.

use super::parse::{unpack, Parsed};
use super::{uuid_literal, values, ImportReport, Requester};
use crate::event_sets::{EventDay, PackedSet};
use crate::people::Source;
use crate::{audit, Backend, Result, Store, StoreError};
use alongside_core::audit::{AuditAction, Outcome};
use alongside_core::OrgId;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Rows per multi-row INSERT (at most 6 bound values each, under both engines' parameter limits).
const INSERT_BATCH: usize = 1000;

/// People's event sets per chunk (one write transaction). About 20 events a person in the
/// benchmark population, so about 80,000 events: some 20 ms on the writer.
pub(crate) const CHUNK_SETS: usize = 4 * INSERT_BATCH;

/// On SQLite, the pause after each chunk that lets another process take the write lock (a
/// store's writer in another process tries every millisecond: `begin_group` in `lib.rs`).
const CHUNK_PAUSE: Duration = Duration::from_millis(5);

/// An incomplete import not written to for this long (ten minutes, wall clock) was abandoned.
pub(crate) const ABANDONED_AFTER_MICROS: i64 = 10 * 60 * 1_000_000;

/// Rows deleted per transaction when an incomplete import is removed.
const DISCARD_BATCH: usize = 5 * INSERT_BATCH;

/// The condition, on `utilisation_event_sets` with the organisation as `$1`, that leaves out the
/// sets of incomplete imports: every reader of the sets uses it. (An incomplete import's row
/// exists from before its first set is written until after its last set is removed.)
pub(crate) const OF_COMPLETE_IMPORTS: &str =
    "import_id NOT IN (SELECT id FROM utilisation_imports WHERE org_id = $1 AND complete = 0)";

pub(super) struct ImportMeta {
    pub(super) org: OrgId,
    pub(super) sha256: String,
    /// What the file's rows are called in the audit: "rows" (CSV) or "FHIR entries".
    pub(super) unit: &'static str,
    pub(super) file_name: String,
    pub(super) source: String,
    pub(super) requester: Requester,
    pub(super) audit_source: Source,
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

/// Where each chunk of `sets` people starts in `keys` (sorted packed keys), and the end: a
/// person's keys are never split between chunks.
fn chunk_bounds(keys: &[(u64, u32)], sets: usize) -> Vec<usize> {
    let mut bounds = vec![0];
    let (mut at, mut people) = (0usize, 0usize);
    while at < keys.len() {
        let person = unpack(keys[at].0).0;
        while at < keys.len() && unpack(keys[at].0).0 == person {
            at += 1;
        }
        people += 1;
        if people == sets && at < keys.len() {
            bounds.push(at);
            people = 0;
        }
    }
    if at > 0 {
        bounds.push(at);
    }
    bounds
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

/// What the first step found.
enum Begun {
    Already(ImportReport),
    New(String),
}

/// The report of a file imported before, with its "already imported" audit entry, if it was.
async fn already_imported(
    c: &mut AnyConnection,
    meta: &ImportMeta,
) -> Result<Option<ImportReport>> {
    let r = sqlx::query("SELECT id, rows_read, rows_rejected FROM utilisation_imports WHERE org_id = $1 AND sha256 = $2 AND complete = 1")
        .bind(meta.org.as_text())
        .bind(&meta.sha256)
        .fetch_optional(&mut *c)
        .await?;
    let Some(r) = r else { return Ok(None) };
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
    let detail = format!(
        "{} (sha256 {}): already imported as {}; nothing changed",
        meta.file_name,
        &meta.sha256[..16],
        report.import_id
    );
    audit::append(
        c,
        &meta.requester.event(
            meta.org,
            AuditAction::UtilisationImported,
            Outcome::Allowed,
            &meta.audit_source,
            detail,
        ),
    )
    .await?;
    Ok(Some(report))
}

/// Step 1: "already imported", or the new import's incomplete row.
async fn begin(
    c: &mut AnyConnection,
    meta: &ImportMeta,
    parsed: &Parsed,
    now: i64,
) -> Result<Begun> {
    if let Some(report) = already_imported(c, meta).await? {
        return Ok(Begun::Already(report));
    }
    let import_id = uuid::Uuid::new_v4().hyphenated().to_string();
    let events: u64 = parsed.keys.iter().map(|(_, n)| u64::from(*n)).sum();
    sqlx::query("INSERT INTO utilisation_imports (org_id, id, sha256, file_name, source, rows_read, rows_rejected, events_imported, imported_at, imported_by, complete, written_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11)")
        .bind(meta.org.as_text())
        .bind(&import_id)
        .bind(format!("pending {import_id}"))
        .bind(&meta.file_name)
        .bind(&meta.source)
        .bind(parsed.rows_read as i64)
        .bind(parsed.rows_rejected as i64)
        .bind(events as i64)
        .bind(now)
        .bind(match &meta.requester {
            Requester::User(a) => Some(a.user_id.as_text()),
            Requester::System(_) => None,
        })
        .bind(crate::clock::wall_micros())
        .execute(&mut *c)
        .await?;
    Ok(Begun::New(import_id))
}

/// Marks the import as still being written (the wall clock), or fails if it is gone or being
/// removed.
async fn touch(c: &mut AnyConnection, org: &str, import_id: &str) -> Result<()> {
    let done = sqlx::query("UPDATE utilisation_imports SET written_at = $3 WHERE org_id = $1 AND id = $2 AND complete = 0 AND written_at IS NOT NULL")
        .bind(org)
        .bind(import_id)
        .bind(crate::clock::wall_micros())
        .execute(&mut *c)
        .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(
            "the import was removed as abandoned while it was being written; import the file again"
                .into(),
        ));
    }
    Ok(())
}

/// Step 3: the import complete under its real hash, and its audit entry.
async fn complete(
    c: &mut AnyConnection,
    meta: &ImportMeta,
    parsed: &Parsed,
    import_id: &str,
) -> Result<ImportReport> {
    let org = meta.org.as_text();
    touch(c, &org, import_id).await?;
    // A unique-key violation here: another import of the same file completed first.
    sqlx::query(
        "UPDATE utilisation_imports SET complete = 1, sha256 = $3 WHERE org_id = $1 AND id = $2",
    )
    .bind(&org)
    .bind(import_id)
    .bind(&meta.sha256)
    .execute(&mut *c)
    .await?;
    let events: u64 = parsed.keys.iter().map(|(_, n)| u64::from(*n)).sum();
    let unit = meta.unit;
    let mut detail = format!(
        "{} (sha256 {}), source {}: {} {unit} read, {} events imported, {} {unit} rejected",
        meta.file_name,
        &meta.sha256[..16],
        meta.source,
        parsed.rows_read,
        events,
        parsed.rows_rejected
    );
    if parsed.rows_skipped > 0 {
        detail.push_str(&format!(
            ", {} {unit} skipped (not counted events)",
            parsed.rows_skipped
        ));
    }
    audit::append(
        c,
        &meta.requester.event(
            meta.org,
            AuditAction::UtilisationImported,
            Outcome::Allowed,
            &meta.audit_source,
            detail,
        ),
    )
    .await?;
    Ok(ImportReport {
        import_id: import_id.to_string(),
        sha256: meta.sha256.clone(),
        already_imported: false,
        rows_read: parsed.rows_read,
        rows_rejected: parsed.rows_rejected,
        events_imported: events,
        rows_skipped: parsed.rows_skipped,
        skipped: parsed.skipped.clone(),
        rejected: parsed.rejected.clone(),
    })
}

/// Stores one import (see the module documentation): in one transaction when it fits in one
/// chunk, otherwise begin, chunks and complete as separate short transactions.
pub(super) async fn store_import(
    store: &Store,
    meta: ImportMeta,
    ids: Arc<Vec<String>>,
    parsed: Arc<Parsed>,
) -> Result<ImportReport> {
    store.clean_abandoned_imports().await?;
    let meta = Arc::new(meta);
    let backend = store.backend();
    let now = store.now();
    let bounds = Arc::new(chunk_bounds(&parsed.keys, CHUNK_SETS));
    let chunks = bounds.len().saturating_sub(1);
    let written = if chunks <= 1 {
        let (meta, ids, parsed) = (meta.clone(), ids.clone(), parsed.clone());
        store
            .write(move |c| {
                let (meta, ids, parsed) = (meta.clone(), ids.clone(), parsed.clone());
                Box::pin(async move {
                    let import_id = match begin(c, &meta, &parsed, now).await? {
                        Begun::Already(report) => return Ok(report),
                        Begun::New(id) => id,
                    };
                    let org = meta.org.as_text();
                    insert_sets(c, backend, &org, &import_id, &ids, &parsed.keys).await?;
                    complete(c, &meta, &parsed, &import_id).await
                })
            })
            .await
    } else {
        let begun = {
            let (meta, parsed) = (meta.clone(), parsed.clone());
            store
                .write(move |c| {
                    let (meta, parsed) = (meta.clone(), parsed.clone());
                    Box::pin(async move { begin(c, &meta, &parsed, now).await })
                })
                .await?
        };
        let import_id = match begun {
            Begun::Already(report) => return Ok(report),
            Begun::New(id) => Arc::new(id),
        };
        let written = write_chunks(store, &meta, &ids, &parsed, &bounds, &import_id).await;
        let written = match written {
            Ok(()) => {
                let (meta, parsed, import_id) = (meta.clone(), parsed.clone(), import_id.clone());
                store
                    .write(move |c| {
                        let (meta, parsed, import_id) =
                            (meta.clone(), parsed.clone(), import_id.clone());
                        Box::pin(async move { complete(c, &meta, &parsed, &import_id).await })
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        if written.is_err() {
            // Take back what this import wrote; if that fails too, it is removed as abandoned.
            if let Err(e) = discard(store, meta.org, import_id.to_string()).await {
                tracing::warn!(error = %e, "an import that failed could not be removed; it will be removed as abandoned");
            }
        }
        written
    };
    match written {
        Err(e) if e.is_unique_violation() => {
            // Another import of the same file completed first: report it as already imported.
            let meta = meta.clone();
            store
                .write(move |c| {
                    let meta = meta.clone();
                    Box::pin(async move {
                        already_imported(c, &meta).await?.ok_or_else(|| {
                            StoreError::Conflict("the file was imported twice at once".into())
                        })
                    })
                })
                .await
        }
        other => other,
    }
}

/// Step 2: every chunk after the first step, one transaction each.
async fn write_chunks(
    store: &Store,
    meta: &Arc<ImportMeta>,
    ids: &Arc<Vec<String>>,
    parsed: &Arc<Parsed>,
    bounds: &Arc<Vec<usize>>,
    import_id: &Arc<String>,
) -> Result<()> {
    let backend = store.backend();
    for k in 0..bounds.len() - 1 {
        let (meta, ids, parsed, bounds, import_id) = (
            meta.clone(),
            ids.clone(),
            parsed.clone(),
            bounds.clone(),
            import_id.clone(),
        );
        store
            .write(move |c| {
                let (meta, ids, parsed, bounds, import_id) = (
                    meta.clone(),
                    ids.clone(),
                    parsed.clone(),
                    bounds.clone(),
                    import_id.clone(),
                );
                Box::pin(async move {
                    let org = meta.org.as_text();
                    touch(c, &org, &import_id).await?;
                    let keys = &parsed.keys[bounds[k]..bounds[k + 1]];
                    insert_sets(c, backend, &org, &import_id, &ids, keys).await
                })
            })
            .await?;
        if backend == Backend::Sqlite {
            tokio::time::sleep(CHUNK_PAUSE).await;
        }
    }
    Ok(())
}

/// Removes an incomplete import and its event sets, a few thousand rows per transaction: first
/// marks it as being removed (`written_at` NULL, which stops its own chunks), then deletes its
/// sets in person order, then the row.
async fn discard(store: &Store, org: OrgId, import_id: String) -> Result<()> {
    let (org, import_id) = (Arc::new(org.as_text()), Arc::new(import_id));
    {
        let (org, import_id) = (org.clone(), import_id.clone());
        store
            .write(move |c| {
                let (org, import_id) = (org.clone(), import_id.clone());
                Box::pin(async move {
                    sqlx::query("UPDATE utilisation_imports SET written_at = NULL WHERE org_id = $1 AND id = $2 AND complete = 0")
                        .bind(org.as_str())
                        .bind(import_id.as_str())
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            })
            .await?;
    }
    let mut after = Arc::new(String::new());
    loop {
        let (o, i, a) = (org.clone(), import_id.clone(), after.clone());
        let next = store
            .write(move |c| {
                let (org, import_id, after) = (o.clone(), i.clone(), a.clone());
                Box::pin(async move {
                    let rows = sqlx::query(&format!("SELECT person_id FROM utilisation_event_sets WHERE org_id = $1 AND import_id = $2 AND person_id > $3 ORDER BY person_id LIMIT {DISCARD_BATCH}"))
                        .bind(org.as_str())
                        .bind(import_id.as_str())
                        .bind(after.as_str())
                        .fetch_all(&mut *c)
                        .await?;
                    let Some(last) = rows.last() else {
                        sqlx::query("DELETE FROM utilisation_imports WHERE org_id = $1 AND id = $2 AND complete = 0")
                            .bind(org.as_str())
                            .bind(import_id.as_str())
                            .execute(&mut *c)
                            .await?;
                        return Ok(None);
                    };
                    let last: String = last.try_get("person_id")?;
                    sqlx::query("DELETE FROM utilisation_event_sets WHERE org_id = $1 AND import_id = $2 AND person_id > $3 AND person_id <= $4")
                        .bind(org.as_str())
                        .bind(import_id.as_str())
                        .bind(after.as_str())
                        .bind(&last)
                        .execute(&mut *c)
                        .await?;
                    Ok(Some(last))
                })
            })
            .await?;
        match next {
            None => return Ok(()),
            Some(last) => after = Arc::new(last),
        }
        if store.backend() == Backend::Sqlite {
            tokio::time::sleep(CHUNK_PAUSE).await;
        }
    }
}

impl Store {
    /// Removes imports abandoned part-way (their process died): incomplete, and not written to
    /// for [`ABANDONED_AFTER_MICROS`] (or left half-removed). Runs when the store is opened and
    /// before every import. Readers never saw their events.
    pub(crate) async fn clean_abandoned_imports(&self) -> Result<()> {
        let stale = crate::clock::wall_micros() - ABANDONED_AFTER_MICROS;
        let rows = sqlx::query("SELECT org_id, id FROM utilisation_imports WHERE complete = 0 AND (written_at IS NULL OR written_at < $1)")
            .bind(stale)
            .fetch_all(self.reader())
            .await?;
        for r in &rows {
            let org: OrgId = crate::users::parse_uuid(&r.try_get::<String, _>("org_id")?)?;
            let id: String = r.try_get("id")?;
            tracing::warn!(import = %id, "removing a utilisation import abandoned part-way");
            discard(self, org, id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::pack;
    use super::*;
    use alongside_stats::Day;

    #[test]
    fn chunks_never_split_a_person() {
        let d = Day::from_ymd(2025, 3, 1).unwrap();
        let mut keys = Vec::new();
        for p in 0..7u32 {
            for t in 0..=(p % 3) as u8 {
                keys.push((pack(p, t, false, d), 1));
            }
        }
        let bounds = chunk_bounds(&keys, 3);
        assert_eq!(bounds.first(), Some(&0));
        assert_eq!(bounds.last(), Some(&keys.len()));
        // 7 people in chunks of 3: 3, 3, 1.
        assert_eq!(bounds.len(), 4);
        for w in bounds.windows(2) {
            assert!(w[0] < w[1]);
            if w[1] < keys.len() {
                assert_ne!(unpack(keys[w[1] - 1].0).0, unpack(keys[w[1]].0).0);
            }
        }
        assert_eq!(chunk_bounds(&[], 3), vec![0]);
        assert_eq!(chunk_bounds(&keys[..1], 3), vec![0, 1]);
    }
}
