//! The import use cases: a file (CSV or FHIR) or generated events into an organisation —
//! checked, parsed, then stored by [`super::write`] — and the organisation's totals.

use super::parse::{
    count_keys, hex, pack, parse_fhir, parse_file, person_index, sha256_hex, unpack, Parsed,
};
use super::write::{store_import, ImportMeta, OF_COMPLETE_IMPORTS};
use super::{FileFormat, ImportError, ImportReport, NewEvent, Requester};
use crate::people::Source;
use crate::{Result, Store, StoreError};
use alongside_core::access::Action;
use alongside_core::audit::{AuditAction, Outcome};
use alongside_core::OrgId;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::sync::Arc;

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
        if sqlx::query(
            "SELECT id FROM utilisation_imports WHERE org_id = $1 AND sha256 = $2 AND complete = 1",
        )
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

    /// How many events are stored for an organisation (sum of counts) and in how many imports,
    /// counting complete imports only.
    pub async fn utilisation_totals(&self, org: OrgId) -> Result<(i64, i64)> {
        let e = sqlx::query(&format!("SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) AS n FROM utilisation_event_sets WHERE org_id = $1 AND {OF_COMPLETE_IMPORTS}"))
            .bind(org.as_text())
            .fetch_one(self.reader())
            .await?;
        let i = sqlx::query(
            "SELECT COUNT(*) AS n FROM utilisation_imports WHERE org_id = $1 AND complete = 1",
        )
        .bind(org.as_text())
        .fetch_one(self.reader())
        .await?;
        Ok((e.try_get("n")?, i.try_get("n")?))
    }
}
