//! The programme catalogue: programmes as stored ([`Programme`]), adding and changing them
//! (educators, coordinators, administrators), and reading the catalogue.

use crate::door::{AuditAs, Source};
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::education::{DeliveryMode, ProgrammeDetails};
use alongside_core::ids::ProgrammeId;
use alongside_core::OrgId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A programme in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub id: ProgrammeId,
    pub details: ProgrammeDetails,
    pub version: i64,
}

fn split_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

const PROGRAMME_COLUMNS: &str = "id, title, summary, provider, mode, sessions, session_minutes, completion_min, audience, topics, languages, accessibility, conditions, version";

fn programme_from_row(r: &AnyRow) -> Result<Programme> {
    let mode: String = r.try_get("mode")?;
    let topics: String = r.try_get("topics")?;
    Ok(Programme {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        version: r.try_get("version")?,
        details: ProgrammeDetails {
            title: r.try_get("title")?,
            summary: r.try_get("summary")?,
            provider: r.try_get("provider")?,
            mode: DeliveryMode::parse(&mode)
                .ok_or_else(|| StoreError::Corrupt(format!("bad mode {mode:?}")))?,
            sessions: r.try_get::<i64, _>("sessions")? as u32,
            session_minutes: r.try_get::<i64, _>("session_minutes")? as u32,
            completion_min: r.try_get::<i64, _>("completion_min")? as u32,
            audience: r.try_get("audience")?,
            topics: topics.lines().map(str::to_string).collect(),
            languages: split_words(&r.try_get::<String, _>("languages")?),
            accessibility: r.try_get("accessibility")?,
            conditions: split_words(&r.try_get::<String, _>("conditions")?),
        },
    })
}

pub(super) async fn load_programme(
    c: &mut AnyConnection,
    org: OrgId,
    id: ProgrammeId,
) -> Result<Option<Programme>> {
    sqlx::query(&format!(
        "SELECT {PROGRAMME_COLUMNS} FROM edu_programmes WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?
    .as_ref()
    .map(programme_from_row)
    .transpose()
}

impl Store {
    /// Adds a programme to the catalogue (educators, coordinators, administrators).
    pub async fn create_programme(
        &self,
        actor: &Actor,
        details: ProgrammeDetails,
        source: Source,
    ) -> Result<ProgrammeId> {
        let id = ProgrammeId::new();
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("programme", None),
                )?;
                let now = tx.now();
                sqlx::query(&format!("INSERT INTO edu_programmes (org_id, {PROGRAMME_COLUMNS}, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15)"))
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(&d.title)
                    .bind(&d.summary)
                    .bind(&d.provider)
                    .bind(d.mode.code())
                    .bind(i64::from(d.sessions))
                    .bind(i64::from(d.session_minutes))
                    .bind(i64::from(d.completion_min))
                    .bind(&d.audience)
                    .bind(d.topics.join("\n"))
                    .bind(d.languages.join(" "))
                    .bind(&d.accessibility)
                    .bind(d.conditions.join(" "))
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("programme", Some(id.as_text()))
                        .detail("programme added"),
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// Replaces a programme's details if nobody changed it since `expected_version`. The number
    /// of sessions of a programme with runs cannot change (the runs' dates were made from it).
    pub async fn update_programme(
        &self,
        actor: &Actor,
        id: ProgrammeId,
        expected_version: i64,
        details: ProgrammeDetails,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("programme", None),
                )?;
                let org = g.org();
                let before = load_programme(tx.conn(), org, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                if before.version != expected_version {
                    return Err(StoreError::StaleVersion);
                }
                let runs: i64 = sqlx::query("SELECT COUNT(*) AS n FROM edu_runs WHERE org_id = $1 AND programme_id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .fetch_one(tx.conn())
                    .await?
                    .try_get("n")?;
                if runs > 0 && (d.sessions != before.details.sessions || d.mode != before.details.mode) {
                    return Err(StoreError::Conflict("This programme has course runs, so its delivery mode and number of sessions cannot change: add a new programme instead".into()));
                }
                let now = tx.now();
                sqlx::query("UPDATE edu_programmes SET title = $1, summary = $2, provider = $3, mode = $4, sessions = $5, session_minutes = $6, completion_min = $7, audience = $8, topics = $9, languages = $10, accessibility = $11, conditions = $12, updated_at = $13, version = version + 1 WHERE org_id = $14 AND id = $15")
                    .bind(&d.title)
                    .bind(&d.summary)
                    .bind(&d.provider)
                    .bind(d.mode.code())
                    .bind(i64::from(d.sessions))
                    .bind(i64::from(d.session_minutes))
                    .bind(i64::from(d.completion_min))
                    .bind(&d.audience)
                    .bind(d.topics.join("\n"))
                    .bind(d.languages.join(" "))
                    .bind(&d.accessibility)
                    .bind(d.conditions.join(" "))
                    .bind(now)
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .execute(tx.conn())
                    .await?;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("programme", Some(id.as_text()))
                        .detail("programme changed"),
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The organisation's catalogue, by title (reference data: no personal data, not audited).
    pub async fn programmes(&self, org: OrgId) -> Result<Vec<Programme>> {
        sqlx::query(&format!(
            "SELECT {PROGRAMME_COLUMNS} FROM edu_programmes WHERE org_id = $1 ORDER BY title, id"
        ))
        .bind(org.as_text())
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(programme_from_row)
        .collect()
    }

    pub async fn programme(&self, org: OrgId, id: ProgrammeId) -> Result<Programme> {
        let mut c = self.reader().acquire().await?;
        load_programme(&mut c, org, id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
