//! The peer-support report: reach and use of peer-support groups over a date range — people
//! reached, attendances (walk-ins included), sessions held, per group, and broken down by the
//! activation level and deprivation decile of registered attendees (walk-ins are "not known").
//!
//! Counts only: this module must never return who attended. Suppression of small numbers is
//! the caller's job when the figures are shown or exported (see web/pages/peer_report.rs).

use crate::door::AuditAs;
use crate::education::{levels_and_deciles, slot};
use crate::people::Source;
use crate::{Result, Store};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::time::iso_date;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// Reach and use of one group, or of all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerFigures {
    /// Distinct registered people who attended at least once.
    pub reached: u64,
    /// Every attendance, walk-ins included.
    pub attendances: u64,
    pub walk_ins: u64,
    /// Sessions with at least one attendance.
    pub sessions_held: u64,
}

/// One row of a breakdown: distinct registered people and their attendances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cell {
    pub people: u64,
    pub attendances: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerReport {
    pub from: Date,
    pub to: Date,
    pub total: PeerFigures,
    /// (group name, figures), by name; groups with no attendances in the range are listed too.
    pub groups: Vec<(String, PeerFigures)>,
    /// Activation levels 1–4, then not measured (registered people with no scored level).
    pub by_level: [Cell; 5],
    /// Deprivation deciles 1–10, then not recorded.
    pub by_decile: [Cell; 11],
}

impl Store {
    /// The peer-support report for sessions dated `from` to `to` (inclusive), if `actor` may
    /// read it (decided by the door); audited, allowed or refused.
    pub async fn peer_support_report(
        &self,
        actor: &Actor,
        from: Date,
        to: Date,
        source: Source,
    ) -> Result<PeerReport> {
        // Counts only: the decision and its audit entry commit before the counts are read.
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::PeerSupportReportRead)
                    .on("organisation", Some(tx.org().as_text()))
                    .detail(format!("{} to {}", iso_date(from), iso_date(to)));
                let g = tx.org_action(Action::ReadPeerSupportReport, audit.clone())?;
                tx.log_org(&g, None, audit).await
            })
        })
        .await?;
        let pool = self.reader();
        let (level, decile) = levels_and_deciles(pool, actor.org_id).await?;
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for g in self.groups(actor.org_id).await? {
            names.insert(g.id.as_text(), g.details.name.clone());
        }
        #[derive(Default)]
        struct Acc {
            people: BTreeSet<String>,
            sessions: BTreeSet<String>,
            attendances: u64,
            walk_ins: u64,
        }
        impl Acc {
            fn figures(&self) -> PeerFigures {
                PeerFigures {
                    reached: self.people.len() as u64,
                    attendances: self.attendances,
                    walk_ins: self.walk_ins,
                    sessions_held: self.sessions.len() as u64,
                }
            }
        }
        let mut total = Acc::default();
        let mut per_group: BTreeMap<String, Acc> = BTreeMap::new();
        let mut by_level: [(BTreeSet<String>, u64); 5] = Default::default();
        let mut by_decile: [(BTreeSet<String>, u64); 11] = Default::default();
        let rows = sqlx::query(
            "SELECT s.group_id, a.session_id, a.person_id FROM session_attendance a \
             JOIN group_sessions s ON s.org_id = a.org_id AND s.id = a.session_id \
             WHERE a.org_id = $1 AND s.session_date >= $2 AND s.session_date <= $3",
        )
        .bind(actor.org_id.as_text())
        .bind(iso_date(from))
        .bind(iso_date(to))
        .fetch_all(pool)
        .await?;
        for r in rows {
            let group: String = r.try_get("group_id")?;
            let session: String = r.try_get("session_id")?;
            let person: Option<String> = r.try_get("person_id")?;
            let g = per_group.entry(group).or_default();
            for acc in [&mut total, g] {
                acc.attendances += 1;
                acc.sessions.insert(session.clone());
                match &person {
                    Some(p) => {
                        acc.people.insert(p.clone());
                    }
                    None => acc.walk_ins += 1,
                }
            }
            if let Some(p) = &person {
                let (l, d) = slot(p, &level, &decile);
                by_level[l].0.insert(p.clone());
                by_level[l].1 += 1;
                by_decile[d].0.insert(p.clone());
                by_decile[d].1 += 1;
            }
        }
        let mut groups: Vec<(String, PeerFigures)> = names
            .iter()
            .map(|(id, name)| {
                (
                    name.clone(),
                    per_group.get(id).map(Acc::figures).unwrap_or_default(),
                )
            })
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let cell = |(p, n): &(BTreeSet<String>, u64)| Cell {
            people: p.len() as u64,
            attendances: *n,
        };
        Ok(PeerReport {
            from,
            to,
            total: total.figures(),
            groups,
            by_level: by_level.each_ref().map(cell),
            by_decile: by_decile.each_ref().map(cell),
        })
    }
}
