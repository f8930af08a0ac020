//! Activation measurement storage: instrument definitions (immutable per version), assessments
//! with their answers and scored results, organisation settings, and the lists coordinators
//! work from (due for re-measurement, outreach). Scoring itself happens outside the store, in
//! `alongside_measure`; the store keeps what was scored with which version.

use crate::door::{AuditAs, PersonGrant, Tx};
use crate::users::parse_uuid;
use crate::{audit, Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::{AssessmentId, InstrumentId, OrgId, PersonId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

use crate::people::Source;

#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentRow {
    pub id: InstrumentId,
    pub key: String,
    pub version: String,
    pub title: String,
    pub definition: String,
    pub active: bool,
    pub created_at: i64,
}

/// A scored (or not-scored) result as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredResult {
    pub items_answered: i64,
    pub raw_score: i64,
    pub measure: Option<f64>,
    pub standard_error: Option<f64>,
    pub score: Option<f64>,
    pub score_se: Option<f64>,
    pub level: Option<i64>,
    /// Quality flag codes joined with `;`.
    pub flags: String,
    pub not_scored_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRow {
    pub id: AssessmentId,
    pub person_id: PersonId,
    pub instrument_id: InstrumentId,
    pub completed: bool,
    pub mode: String,
    pub recorded_by: Option<String>,
    /// Answer codes by item link id.
    pub answers: BTreeMap<String, String>,
    pub started_at: i64,
    pub completed_at: Option<i64>,
    pub result: Option<StoredResult>,
}

/// How a questionnaire was completed.
pub const MODES: &[(&str, &str)] = &[
    ("self", "By the person, online"),
    ("in_person", "In person, with staff"),
    ("telephone", "By telephone"),
    ("paper", "On paper"),
];

pub(crate) const A_COLUMNS: &str = "id, person_id, instrument_id, status, mode, recorded_by, answers, started_at, completed_at, items_answered, raw_score, measure, standard_error, score, score_se, level, flags, not_scored_reason";

pub(crate) fn assessment_from_row(r: &AnyRow) -> Result<AssessmentRow> {
    let answers: String = r.try_get("answers")?;
    let status: String = r.try_get("status")?;
    let completed = status == "completed";
    let items: Option<i64> = r.try_get("items_answered")?;
    Ok(AssessmentRow {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
        instrument_id: parse_uuid(&r.try_get::<String, _>("instrument_id")?)?,
        completed,
        mode: r.try_get("mode")?,
        recorded_by: r.try_get("recorded_by")?,
        answers: serde_json::from_str(&answers).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        started_at: r.try_get("started_at")?,
        completed_at: r.try_get("completed_at")?,
        result: match (completed, items) {
            (true, Some(items_answered)) => Some(StoredResult {
                items_answered,
                raw_score: r.try_get::<Option<i64>, _>("raw_score")?.unwrap_or(0),
                measure: r.try_get("measure")?,
                standard_error: r.try_get("standard_error")?,
                score: r.try_get("score")?,
                score_se: r.try_get("score_se")?,
                level: r.try_get("level")?,
                flags: r.try_get::<Option<String>, _>("flags")?.unwrap_or_default(),
                not_scored_reason: r.try_get("not_scored_reason")?,
            }),
            _ => None,
        },
    })
}

fn instrument_from_row(r: &AnyRow) -> Result<InstrumentRow> {
    Ok(InstrumentRow {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        key: r.try_get("instrument_key")?,
        version: r.try_get("version")?,
        title: r.try_get("title")?,
        definition: r.try_get("definition")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an optional float. sqlx 0.8's `Any` driver sends a NULL `f64` to PostgreSQL typed as
/// `real` (its Real/Double null mapping is swapped), which poisons the cached statement for
/// later non-null values; a NULL `f32` is sent as `double precision`, so NULLs go that way.
fn bind_f64(q: AnyQuery<'_>, v: Option<f64>) -> AnyQuery<'_> {
    match v {
        Some(x) => q.bind(x),
        None => q.bind(None::<f32>),
    }
}

/// The audit entry of `action` on an assessment.
fn on_assessment(action: AuditAction, id: Option<AssessmentId>) -> AuditAs {
    AuditAs::new(action).on("assessment", id.map(|i| i.as_text()))
}

/// Loads an assessment and decides `RecordAssessment` on its person (a refusal audited as
/// `action`). An unknown assessment is not found.
async fn assessment_under_grant(
    tx: &mut Tx<'_>,
    id: AssessmentId,
    action: AuditAction,
) -> Result<(PersonGrant, AssessmentRow)> {
    let org = tx.org();
    let a = load_assessment(tx.conn(), org, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let g = tx
        .person(
            Action::RecordAssessment,
            a.person_id,
            on_assessment(action, None),
        )
        .await?;
    Ok((g, a))
}

async fn load_assessment(
    c: &mut AnyConnection,
    org: OrgId,
    id: AssessmentId,
) -> Result<Option<AssessmentRow>> {
    sqlx::query(&format!(
        "SELECT {A_COLUMNS} FROM assessments WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?
    .map(|r| assessment_from_row(&r))
    .transpose()
}

async fn write_result(
    c: &mut AnyConnection,
    org: OrgId,
    id: AssessmentId,
    answers: &BTreeMap<String, String>,
    r: &StoredResult,
    now: i64,
) -> Result<u64> {
    let q = sqlx::query(
        "UPDATE assessments SET status = 'completed', answers = $1, completed_at = $2, items_answered = $3, raw_score = $4, measure = $5, standard_error = $6, score = $7, score_se = $8, level = $9, flags = $10, not_scored_reason = $11 \
         WHERE org_id = $12 AND id = $13 AND status = 'in_progress'",
    )
    .bind(serde_json::to_string(answers).expect("answers serialise"))
    .bind(now)
    .bind(r.items_answered)
    .bind(r.raw_score);
    let q = bind_f64(
        bind_f64(bind_f64(bind_f64(q, r.measure), r.standard_error), r.score),
        r.score_se,
    );
    Ok(q.bind(r.level)
        .bind(&r.flags)
        .bind(&r.not_scored_reason)
        .bind(org.as_text())
        .bind(id.as_text())
        .execute(&mut *c)
        .await?
        .rows_affected())
}

/// A completed assessment to insert directly: person, instrument, completion time
/// (microseconds), answers and result.
pub type CompletedAssessment = (
    PersonId,
    InstrumentId,
    i64,
    BTreeMap<String, String>,
    StoredResult,
);

/// One person's latest completed, scored measurement, for lists.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestMeasure {
    pub person_id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub gp_practice: Option<String>,
    pub conditions: Vec<String>,
    pub instrument_id: Option<InstrumentId>,
    pub completed_at: Option<i64>,
    pub score: Option<f64>,
    pub level: Option<i64>,
    /// The most recent unplanned care (A&E attendance or emergency admission), ISO date.
    pub last_unplanned: Option<String>,
}

impl Store {
    /// Stores an instrument version for an organisation. Loading the same key and version with
    /// the same definition again is a no-op; with a different definition it is a conflict
    /// (versions are immutable — give the new definition a new version).
    pub async fn install_instrument(
        &self,
        org: OrgId,
        key: &str,
        version: &str,
        title: &str,
        definition: &str,
        actor: Option<Actor>,
        source: Source,
    ) -> Result<(InstrumentId, bool)> {
        let (key, version, title, definition) = (
            key.to_string(),
            version.to_string(),
            title.to_string(),
            definition.to_string(),
        );
        let now = self.now();
        self.write(move |c| {
            let (key, version, title, definition, actor, source) = (key.clone(), version.clone(), title.clone(), definition.clone(), actor.clone(), source.clone());
            Box::pin(async move {
                if let Some(r) = sqlx::query("SELECT id, definition FROM instruments WHERE org_id = $1 AND instrument_key = $2 AND version = $3")
                    .bind(org.as_text())
                    .bind(&key)
                    .bind(&version)
                    .fetch_optional(&mut *c)
                    .await?
                {
                    let existing: String = r.try_get("definition")?;
                    if existing == definition {
                        return Ok((parse_uuid(&r.try_get::<String, _>("id")?)?, false));
                    }
                    return Err(StoreError::Conflict(format!("version {version} of {key} is already loaded with a different definition: give the changed definition a new version")));
                }
                let id = InstrumentId::new();
                // The newest version becomes the active one for new questionnaires.
                sqlx::query("UPDATE instruments SET active = 0 WHERE org_id = $1 AND instrument_key = $2").bind(org.as_text()).bind(&key).execute(&mut *c).await?;
                sqlx::query("INSERT INTO instruments (org_id, id, instrument_key, version, title, definition, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(&key)
                    .bind(&version)
                    .bind(&title)
                    .bind(&definition)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                let e = AuditEvent {
                    org_id: org,
                    actor_user_id: actor.as_ref().map(|a| a.user_id),
                    actor_role: actor.as_ref().map(|a| a.role),
                    action: AuditAction::InstrumentImported,
                    outcome: Outcome::Allowed,
                    resource_type: "instrument",
                    resource_id: Some(id.as_text()),
                    person_id: None,
                    source: source.0.clone(),
                    detail: Some(format!("{key} version {version}")),
                };
                audit::append(c, &e).await?;
                Ok((id, true))
            })
        })
        .await
    }

    /// Every instrument version of an organisation, newest first within each key.
    pub async fn instruments(&self, org: OrgId) -> Result<Vec<InstrumentRow>> {
        let rows = sqlx::query("SELECT id, instrument_key, version, title, definition, active, created_at FROM instruments WHERE org_id = $1 ORDER BY instrument_key, created_at DESC")
            .bind(org.as_text())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(instrument_from_row).collect()
    }

    pub async fn instrument(&self, org: OrgId, id: InstrumentId) -> Result<InstrumentRow> {
        let r = sqlx::query("SELECT id, instrument_key, version, title, definition, active, created_at FROM instruments WHERE org_id = $1 AND id = $2")
            .bind(org.as_text())
            .bind(id.as_text())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        instrument_from_row(&r)
    }

    /// Starts a questionnaire for a person (audited).
    pub async fn start_assessment(
        &self,
        actor: &Actor,
        person: PersonId,
        instrument: InstrumentId,
        mode: &str,
        source: Source,
    ) -> Result<AssessmentId> {
        let mode = mode.to_string();
        self.write_as(actor, &source, move |tx| {
            let mode = mode.clone();
            Box::pin(async move {
                let audit_as = on_assessment(AuditAction::AssessmentStarted, None);
                let g = tx.person(Action::RecordAssessment, person, audit_as).await?;
                let id = AssessmentId::new();
                let (by, now) = (tx.actor().user_id, tx.now());
                sqlx::query("INSERT INTO assessments (org_id, id, person_id, instrument_id, status, mode, recorded_by, answers, started_at) VALUES ($1, $2, $3, $4, 'in_progress', $5, $6, '{}', $7)")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(g.person().as_text())
                    .bind(instrument.as_text())
                    .bind(&mode)
                    .bind(by.as_text())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                tx.log(&g, on_assessment(AuditAction::AssessmentStarted, Some(id)).detail(format!("mode {mode}"))).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Reads one assessment if `actor` may see that person's questionnaires (audited).
    pub async fn assessment(
        &self,
        actor: &Actor,
        id: AssessmentId,
        source: Source,
    ) -> Result<AssessmentRow> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let (g, a) = assessment_under_grant(tx, id, AuditAction::AssessmentRead).await?;
                tx.log(&g, on_assessment(AuditAction::AssessmentRead, Some(id)))
                    .await?;
                Ok(a)
            })
        })
        .await
    }

    /// Saves answers into an unfinished assessment (merging with those saved before; an empty
    /// code removes an answer). Audited without the answers themselves.
    pub async fn save_answers(
        &self,
        actor: &Actor,
        id: AssessmentId,
        answers: Vec<(String, String)>,
        source: Source,
    ) -> Result<AssessmentRow> {
        self.write_as(actor, &source, move |tx| {
            let answers = answers.clone();
            Box::pin(async move {
                let (g, mut a) = assessment_under_grant(tx, id, AuditAction::AssessmentAnswered).await?;
                if a.completed {
                    return Err(StoreError::Conflict("This questionnaire has already been completed: its answers cannot be changed".into()));
                }
                for (k, v) in &answers {
                    if v.is_empty() {
                        a.answers.remove(k);
                    } else {
                        a.answers.insert(k.clone(), v.clone());
                    }
                }
                sqlx::query("UPDATE assessments SET answers = $1 WHERE org_id = $2 AND id = $3")
                    .bind(serde_json::to_string(&a.answers).expect("answers serialise"))
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .execute(tx.conn())
                    .await?;
                let items: Vec<&str> = answers.iter().map(|(k, _)| k.as_str()).collect();
                tx.log(&g, on_assessment(AuditAction::AssessmentAnswered, Some(id)).detail(format!("items {}", items.join(", ")))).await?;
                Ok(a)
            })
        })
        .await
    }

    /// Completes an unfinished assessment with its final answers and scored result (audited).
    /// Completing twice is refused.
    pub async fn complete_assessment(
        &self,
        actor: &Actor,
        id: AssessmentId,
        answers: BTreeMap<String, String>,
        result: StoredResult,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let (answers, result) = (answers.clone(), result.clone());
            Box::pin(async move {
                let (g, _) =
                    assessment_under_grant(tx, id, AuditAction::AssessmentCompleted).await?;
                let now = tx.now();
                if write_result(tx.conn(), g.org(), id, &answers, &result, now).await? == 0 {
                    return Err(StoreError::Conflict(
                        "This questionnaire has already been completed".into(),
                    ));
                }
                let detail = format!(
                    "level {}; flags {}",
                    result
                        .level
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "none".into()),
                    if result.flags.is_empty() {
                        "none"
                    } else {
                        &result.flags
                    }
                );
                tx.log(
                    &g,
                    on_assessment(AuditAction::AssessmentCompleted, Some(id)).detail(detail),
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Records a questionnaire completed elsewhere (in person, by telephone, on paper) in one
    /// step: validated and scored by the caller, stored and audited here.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_assessment(
        &self,
        actor: &Actor,
        person: PersonId,
        instrument: InstrumentId,
        mode: &str,
        answers: BTreeMap<String, String>,
        result: StoredResult,
        source: Source,
    ) -> Result<AssessmentId> {
        let mode = mode.to_string();
        self.write_as(actor, &source, move |tx| {
            let (mode, answers, result) = (mode.clone(), answers.clone(), result.clone());
            Box::pin(async move {
                let g = tx.person(Action::RecordAssessment, person, on_assessment(AuditAction::AssessmentCompleted, None)).await?;
                let id = AssessmentId::new();
                let (by, now) = (tx.actor().user_id, tx.now());
                sqlx::query("INSERT INTO assessments (org_id, id, person_id, instrument_id, status, mode, recorded_by, answers, started_at) VALUES ($1, $2, $3, $4, 'in_progress', $5, $6, '{}', $7)")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(g.person().as_text())
                    .bind(instrument.as_text())
                    .bind(&mode)
                    .bind(by.as_text())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                write_result(tx.conn(), g.org(), id, &answers, &result, now).await?;
                let detail = format!("mode {mode}; level {}", result.level.map(|l| l.to_string()).unwrap_or_else(|| "none".into()));
                tx.log(&g, on_assessment(AuditAction::AssessmentCompleted, Some(id)).detail(detail)).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Demo and import path: a completed assessment with a given completion time, no actor.
    pub async fn insert_completed_assessments(
        &self,
        org: OrgId,
        rows: Vec<CompletedAssessment>,
    ) -> Result<()> {
        self.write(move |c| {
            let rows = rows.clone();
            Box::pin(async move {
                for (person, instrument, at, answers, result) in &rows {
                    let id = AssessmentId::new();
                    sqlx::query("INSERT INTO assessments (org_id, id, person_id, instrument_id, status, mode, recorded_by, answers, started_at) VALUES ($1, $2, $3, $4, 'in_progress', 'paper', NULL, '{}', $5)")
                        .bind(org.as_text())
                        .bind(id.as_text())
                        .bind(person.as_text())
                        .bind(instrument.as_text())
                        .bind(*at)
                        .execute(&mut *c)
                        .await?;
                    write_result(c, org, id, answers, result, *at).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Every assessment of a person, oldest first, if `actor` may read the person's record
    /// (the read, or the refusal, audited).
    pub async fn assessments_of(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<Vec<AssessmentRow>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = on_assessment(AuditAction::AssessmentRead, None).detail("history");
                let g = tx.person(Action::ReadPerson, person, audit_as.clone()).await?;
                let rows = sqlx::query(&format!("SELECT {A_COLUMNS} FROM assessments WHERE org_id = $1 AND person_id = $2 ORDER BY started_at, id"))
                    .bind(g.org().as_text())
                    .bind(g.person().as_text())
                    .fetch_all(tx.conn())
                    .await?;
                let rows = rows.iter().map(assessment_from_row).collect::<Result<Vec<_>>>()?;
                tx.log(&g, audit_as.detail(format!("history; {} shown", rows.len()))).await?;
                Ok(rows)
            })
        })
        .await
    }

    /// The latest completed measurement of everyone in the organisation (people never
    /// measured included, with no score), for due and outreach lists. Read and audited as one
    /// list view in one transaction.
    pub async fn latest_measures(
        &self,
        actor: &Actor,
        what: &str,
        source: Source,
    ) -> Result<Vec<LatestMeasure>> {
        let what = what.to_string();
        self.read_as(actor, &source, move |tx| {
            let what = what.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::OutreachListed)
                    .on("people", None)
                    .detail(what);
                let g = tx.org_action(Action::ReadOutreach, audit_as.clone())?;
                let out = latest_measures_of(tx.conn(), g.org()).await?;
                tx.log_org(&g, None, audit_as).await?;
                Ok(out)
            })
        })
        .await
    }

    /// A person's condition keys, if `actor` may read the person's record (audited).
    pub async fn conditions_of(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<Vec<String>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::PersonRead).detail("conditions");
                let g = tx.person(Action::ReadPerson, person, audit_as.clone()).await?;
                let rows = sqlx::query("SELECT condition FROM person_conditions WHERE org_id = $1 AND person_id = $2 ORDER BY condition")
                    .bind(g.org().as_text())
                    .bind(g.person().as_text())
                    .fetch_all(tx.conn())
                    .await?;
                let v = rows.iter().map(|r| Ok(r.try_get("condition")?)).collect::<Result<Vec<String>>>()?;
                tx.log(&g, audit_as).await?;
                Ok(v)
            })
        })
        .await
    }

    /// An organisation setting, if set.
    pub async fn setting(&self, org: OrgId, key: &str) -> Result<Option<String>> {
        let r =
            sqlx::query("SELECT value FROM org_settings WHERE org_id = $1 AND setting_key = $2")
                .bind(org.as_text())
                .bind(key)
                .fetch_optional(self.reader())
                .await?;
        Ok(r.map(|r| r.try_get("value")).transpose()?)
    }

    /// Sets an organisation setting (audited, without its value).
    pub async fn set_setting(
        &self,
        actor: &Actor,
        key: &str,
        value: &str,
        source: Source,
    ) -> Result<()> {
        self.set_settings(actor, vec![(key.to_string(), value.to_string())], source)
            .await
    }

    /// Sets several organisation settings in one transaction, all or none (audited by key).
    pub async fn set_settings(
        &self,
        actor: &Actor,
        values: Vec<(String, String)>,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let values = values.clone();
            Box::pin(async move {
                let keys: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
                let audit_as = AuditAs::new(AuditAction::SettingChanged)
                    .on("organisation", Some(tx.org().as_text()))
                    .detail(keys.join(", "));
                let g = tx.org_action(Action::ManageInstruments, audit_as.clone())?;
                let now = tx.now();
                for (key, value) in &values {
                    sqlx::query("INSERT INTO org_settings (org_id, setting_key, value, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, setting_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
                        .bind(g.org().as_text())
                        .bind(key)
                        .bind(value)
                        .bind(now)
                        .execute(tx.conn())
                        .await?;
                }
                tx.log_org(&g, None, audit_as).await?;
                Ok(())
            })
        })
        .await
    }

    /// Re-scores every completed assessment stored against `from` with the instrument
    /// `to` (a newer version of the same instrument), in one audited transaction. `rescore`
    /// maps stored answers to a new result. Returns how many were re-scored.
    pub async fn rescore_assessments<F>(
        &self,
        actor: &Actor,
        from: InstrumentId,
        to: InstrumentId,
        rescore: F,
        source: Source,
    ) -> Result<u64>
    where
        F: Fn(&BTreeMap<String, String>) -> StoredResult + Send + Sync + 'static,
    {
        let rescore = std::sync::Arc::new(rescore);
        self.write_as(actor, &source, move |tx| {
            let rescore = rescore.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::AssessmentsRescored).on("instrument", Some(to.as_text()));
                let g = tx.org_action(Action::ManageInstruments, audit_as.clone())?;
                let rows = sqlx::query(&format!("SELECT {A_COLUMNS} FROM assessments WHERE org_id = $1 AND instrument_id = $2 AND status = 'completed'"))
                    .bind(g.org().as_text())
                    .bind(from.as_text())
                    .fetch_all(tx.conn())
                    .await?;
                let mut n = 0u64;
                for r in &rows {
                    let a = assessment_from_row(r)?;
                    let res = rescore(&a.answers);
                    let q = sqlx::query("UPDATE assessments SET instrument_id = $1, items_answered = $2, raw_score = $3, measure = $4, standard_error = $5, score = $6, score_se = $7, level = $8, flags = $9, not_scored_reason = $10 WHERE org_id = $11 AND id = $12")
                        .bind(to.as_text())
                        .bind(res.items_answered)
                        .bind(res.raw_score);
                    let q = bind_f64(bind_f64(bind_f64(bind_f64(q, res.measure), res.standard_error), res.score), res.score_se);
                    q.bind(res.level)
                        .bind(&res.flags)
                        .bind(&res.not_scored_reason)
                        .bind(g.org().as_text())
                        .bind(a.id.as_text())
                        .execute(tx.conn())
                        .await?;
                    n += 1;
                }
                tx.log_org(&g, None, audit_as.detail(format!("{n} re-scored from {from} to {to}"))).await?;
                Ok(n)
            })
        })
        .await
    }
}

/// The latest completed, scored measurement of everyone in `org` (and the people never
/// measured), with their conditions and latest unplanned care.
async fn latest_measures_of(c: &mut AnyConnection, org: OrgId) -> Result<Vec<LatestMeasure>> {
    let org = org.as_text();
    let people = sqlx::query(
        "SELECT id, given_name, family_name, gp_practice FROM people WHERE org_id = $1 ORDER BY id",
    )
    .bind(&org)
    .fetch_all(&mut *c)
    .await?;
    let mut out: BTreeMap<String, LatestMeasure> = BTreeMap::new();
    for r in &people {
        let id: String = r.try_get("id")?;
        out.insert(
            id.clone(),
            LatestMeasure {
                person_id: parse_uuid(&id)?,
                given_name: r.try_get("given_name")?,
                family_name: r.try_get("family_name")?,
                gp_practice: r.try_get("gp_practice")?,
                conditions: Vec::new(),
                instrument_id: None,
                completed_at: None,
                score: None,
                level: None,
                last_unplanned: None,
            },
        );
    }
    for r in sqlx::query("SELECT person_id, condition FROM person_conditions WHERE org_id = $1")
        .bind(&org)
        .fetch_all(&mut *c)
        .await?
    {
        if let Some(m) = out.get_mut(&r.try_get::<String, _>("person_id")?) {
            m.conditions.push(r.try_get("condition")?);
        }
    }
    let measures = sqlx::query("SELECT person_id, instrument_id, completed_at, score, level FROM assessments WHERE org_id = $1 AND status = 'completed' AND score IS NOT NULL ORDER BY completed_at")
        .bind(&org)
        .fetch_all(&mut *c)
        .await?;
    for r in &measures {
        if let Some(m) = out.get_mut(&r.try_get::<String, _>("person_id")?) {
            m.instrument_id = Some(parse_uuid(&r.try_get::<String, _>("instrument_id")?)?);
            m.completed_at = r.try_get("completed_at")?;
            m.score = r.try_get("score")?;
            m.level = r.try_get("level")?;
        }
    }
    let unplanned = sqlx::query(&format!("SELECT person_id, MAX(last_unplanned) AS d FROM utilisation_event_sets WHERE org_id = $1 AND last_unplanned IS NOT NULL AND {} GROUP BY person_id", crate::outcomes::OF_COMPLETE_IMPORTS))
        .bind(&org)
        .fetch_all(&mut *c)
        .await?;
    for r in &unplanned {
        if let Some(m) = out.get_mut(&r.try_get::<String, _>("person_id")?) {
            m.last_unplanned = r.try_get("d")?;
        }
    }
    Ok(out.into_values().collect())
}
