//! Synthetic populations loaded in bulk, for benchmarks and tests of the evaluation at scale.

use super::{uuid_literal, values, Requester};
use crate::people::Source;
use crate::{audit, Result, Store};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::{OrgId, PersonId};
use alongside_stats::{Day, Sex};
use std::sync::Arc;

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
