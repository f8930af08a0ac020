//! Audit storage: appending to each organisation's hash chain inside the caller's
//! transaction, listing entries, and verifying the chain.

use crate::{Result, Store, StoreError};
use alongside_core::audit::{
    verify_chain, AuditEntry, AuditEvent, ChainError, ChainVerifier, GENESIS_HASH,
};
use alongside_core::time::Timestamp;
use alongside_core::{OrgId, PersonId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// Appends `event` to its organisation's chain on `conn`, which must be inside a write
/// transaction: the head row's update locks the chain until commit, so entries are never
/// interleaved or duplicated.
pub async fn append(conn: &mut AnyConnection, event: &AuditEvent) -> Result<AuditEntry> {
    let org = event.org_id.as_text();
    sqlx::query("INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (org_id) DO NOTHING")
        .bind(&org)
        .bind(GENESIS_HASH)
        .execute(&mut *conn)
        .await?;
    let head =
        sqlx::query("UPDATE audit_heads SET seq = seq + 1 WHERE org_id = $1 RETURNING seq, hash")
            .bind(&org)
            .fetch_one(&mut *conn)
            .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    // Audit entries are stamped by the system clock, never a test's moved clock: the chain
    // records when things really happened.
    let entry = AuditEntry::chain(event, seq, Timestamp(crate::clock::wall_micros()), &prev);
    sqlx::query(
        "INSERT INTO audit_log (org_id, seq, at, actor_user_id, actor_role, action, outcome, resource_type, resource_id, person_id, source, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&entry.org_id)
    .bind(entry.seq)
    .bind(entry.at.0)
    .bind(&entry.actor_user_id)
    .bind(&entry.actor_role)
    .bind(&entry.action)
    .bind(&entry.outcome)
    .bind(&entry.resource_type)
    .bind(&entry.resource_id)
    .bind(&entry.person_id)
    .bind(&entry.source)
    .bind(&entry.detail)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_heads SET hash = $1 WHERE org_id = $2")
        .bind(&entry.hash)
        .bind(&org)
        .execute(&mut *conn)
        .await?;
    Ok(entry)
}

const COLUMNS: &str = "org_id, seq, at, actor_user_id, actor_role, action, outcome, resource_type, resource_id, person_id, source, detail, prev_hash, hash";

fn entry_from_row(r: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        org_id: r.try_get("org_id")?,
        seq: r.try_get("seq")?,
        at: Timestamp(r.try_get("at")?),
        actor_user_id: r.try_get("actor_user_id")?,
        actor_role: r.try_get("actor_role")?,
        action: r.try_get("action")?,
        outcome: r.try_get("outcome")?,
        resource_type: r.try_get("resource_type")?,
        resource_id: r.try_get("resource_id")?,
        person_id: r.try_get("person_id")?,
        source: r.try_get("source")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// The outcome of checking every organisation's chain.
#[derive(Debug)]
pub struct VerifyReport {
    /// Per organisation: its id and the number of entries checked, or the first broken entry.
    pub organisations: Vec<(String, std::result::Result<u64, ChainError>)>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.organisations.iter().all(|(_, r)| r.is_ok())
    }
}

impl Store {
    /// Appends a single event in its own transaction (sign-ins, refusals and other events
    /// that change no other data).
    pub async fn audit(&self, event: AuditEvent) -> Result<AuditEntry> {
        self.write(move |c| {
            let event = event.clone();
            Box::pin(async move { append(c, &event).await })
        })
        .await
    }

    /// Entries of an organisation, newest first, a page at a time.
    pub async fn audit_page(
        &self,
        org: OrgId,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(org.as_text())
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Every entry about one person's record, newest first.
    pub async fn audit_for_person(
        &self,
        org: OrgId,
        person: PersonId,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND person_id = $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(org.as_text())
        .bind(person.as_text())
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Checks every organisation's chain from its first entry, a page at a time, and says
    /// for each which entry (if any) is the first broken one. Also checks that the chain head
    /// matches the last entry, so a truncated tail is caught.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let heads = sqlx::query("SELECT org_id, seq, hash FROM audit_heads ORDER BY org_id")
            .fetch_all(self.reader())
            .await?;
        let mut organisations = Vec::new();
        for head in heads {
            let org: String = head.try_get("org_id")?;
            let head_seq: i64 = head.try_get("seq")?;
            let head_hash: String = head.try_get("hash")?;
            let mut verifier = ChainVerifier::default();
            let mut after = 0i64;
            let mut last_hash = GENESIS_HASH.to_string();
            let mut result: std::result::Result<u64, ChainError> = Ok(0);
            loop {
                let rows = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT 5000"
                ))
                .bind(&org)
                .bind(after)
                .fetch_all(self.reader())
                .await?;
                if rows.is_empty() {
                    break;
                }
                for r in &rows {
                    let e = entry_from_row(r)?;
                    after = e.seq;
                    if let Err(err) = verifier.push(&e) {
                        result = Err(err);
                        break;
                    }
                    last_hash = e.hash.clone();
                }
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                result = if verifier.checked as i64 != head_seq || last_hash != head_hash {
                    Err(ChainError::Truncated {
                        last: verifier.checked as i64,
                        head: head_seq,
                        first_missing: verifier.checked as i64 + 1,
                    })
                } else {
                    Ok(verifier.checked)
                };
            }
            organisations.push((org, result));
        }
        Ok(VerifyReport { organisations })
    }
}

/// Verifies a slice of entries already in memory (used by tests and exports).
pub fn verify_entries(entries: &[AuditEntry]) -> std::result::Result<u64, ChainError> {
    verify_chain(entries)
}

impl From<ChainError> for StoreError {
    fn from(e: ChainError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

impl Store {
    /// Who has read or changed a person's record, newest first, with the record itself (for
    /// its name), if `actor` may see the trail: the read of the record and of its trail are
    /// audited before the entries are read, so the page shows its own view; a refusal is
    /// audited as a refused trail read.
    pub async fn person_audit_trail(
        &self,
        actor: &alongside_core::Actor,
        person: PersonId,
        limit: i64,
        source: crate::door::Source,
    ) -> Result<(crate::people::PersonRecord, Vec<AuditEntry>)> {
        use alongside_core::audit::AuditAction;
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let trail = crate::door::AuditAs::new(AuditAction::PersonAuditRead)
                    .on("person", Some(person.as_text()));
                let g = tx
                    .person(alongside_core::access::Action::ReadPersonAudit, person, trail.clone())
                    .await?;
                let record = crate::people::load_person(tx.conn(), &g).await?;
                tx.log(&g, crate::door::AuditAs::new(AuditAction::PersonRead).on("person", Some(person.as_text())))
                    .await?;
                tx.log(&g, trail).await?;
                let rows = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND person_id = $2 ORDER BY seq DESC LIMIT $3"
                ))
                .bind(g.org().as_text())
                .bind(g.person().as_text())
                .bind(limit)
                .fetch_all(tx.conn())
                .await?;
                let entries = rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?;
                Ok((record, entries))
            })
        })
        .await
    }

    /// The organisation's audit log, newest first, a page at a time, if `actor` may see it
    /// (audited, allowed or refused).
    pub async fn org_audit_log(
        &self,
        actor: &alongside_core::Actor,
        before_seq: Option<i64>,
        limit: i64,
        source: crate::door::Source,
    ) -> Result<Vec<AuditEntry>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = crate::door::AuditAs::new(alongside_core::audit::AuditAction::OrgAuditRead)
                    .on("organisation", Some(tx.org().as_text()));
                let g = tx.org_action(alongside_core::access::Action::ReadOrgAudit, audit_as.clone())?;
                tx.log_org(&g, None, audit_as).await?;
                let rows = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
                ))
                .bind(g.org().as_text())
                .bind(before_seq.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(tx.conn())
                .await?;
                let entries = rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?;
                Ok(entries)
            })
        })
        .await
    }
}
