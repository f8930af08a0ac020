//! Events stored one row per event (before migration 0010), converted to packed event sets
//! when the store is opened.

use super::EVENT_TYPES;
use crate::event_sets::EventDay;
use crate::{Result, Store, StoreError};
use alongside_stats::Day;
use sqlx::Row;
use std::collections::BTreeMap;

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
