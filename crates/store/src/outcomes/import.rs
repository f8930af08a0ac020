//! Storing an import: the import row, one packed event set per person and the audit entry,
//! idempotent by the file's SHA-256 per organisation.

use super::parse::{
    count_keys, hex, pack, parse_fhir, parse_file, person_index, sha256_hex, unpack, Parsed,
};
use super::{uuid_literal, values, FileFormat, ImportError, ImportReport, NewEvent, Requester};
use crate::event_sets::{EventDay, PackedSet};
use crate::people::Source;
use crate::{audit, Backend, Result, Store, StoreError};
use alongside_core::access::Action;
use alongside_core::audit::{AuditAction, Outcome};
use alongside_core::OrgId;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::Arc;

/// Rows per multi-row INSERT (at most 6 bound values each, under both engines' parameter limits).
const INSERT_BATCH: usize = 1000;

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
}
