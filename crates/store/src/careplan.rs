//! Personalised care and support plans, versioned: every save inserts a new row numbered one
//! past the version it was based on, so nothing is ever overwritten; a save based on an
//! out-of-date version is refused (`StaleVersion`) — checked in the write transaction and, on
//! both backends, enforced by the primary key (org, person, version) against a racing writer.
//! Every read and change is decided by `alongside_core::access` and audited in the same
//! transaction.

use crate::directory::{actor_name, check_person, referrals_of, ServiceReferral};
use crate::people::{relation, Source};
use crate::{audit, now_micros, Result, Store, StoreError};
use alongside_core::access::{decide, Action, Actor, Target};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::careplan::{changed_field_names, PlanAction, PlanContent, SupportKind};
use alongside_core::PersonId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// One stored version of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub id: String,
    pub version: i64,
    pub author_name: String,
    pub created_at: i64,
    pub content: PlanContent,
}

/// Why a plan is being read, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanPurpose {
    View,
    Versions,
    Version(i64),
    Compare(i64, i64),
    Print,
    Download,
    Edit,
}

impl PlanPurpose {
    fn detail(self) -> String {
        match self {
            PlanPurpose::View => "current plan".into(),
            PlanPurpose::Versions => "list of versions".into(),
            PlanPurpose::Version(n) => format!("version {n}"),
            PlanPurpose::Compare(a, b) => format!("compare versions {a} and {b}"),
            PlanPurpose::Print => "printable plan".into(),
            PlanPurpose::Download => "FHIR CarePlan download".into(),
            PlanPurpose::Edit => "opened for editing".into(),
        }
    }
}

/// A person's plan as one actor may see it: every version (oldest first), the person's
/// referrals to other services, and what else the actor may do.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub person_id: PersonId,
    pub person_name: String,
    pub nhs_number: Option<String>,
    pub date_of_birth: String,
    pub versions: Vec<PlanVersion>,
    pub referrals: Vec<ServiceReferral>,
    pub can_edit: bool,
}

impl PlanView {
    pub fn latest(&self) -> Option<&PlanVersion> {
        self.versions.last()
    }
    pub fn version(&self, n: i64) -> Option<&PlanVersion> {
        self.versions.iter().find(|v| v.version == n)
    }
    /// The version number a new save must be based on (0 when there is no plan yet).
    pub fn current_version(&self) -> i64 {
        self.latest().map(|v| v.version).unwrap_or(0)
    }
}

const V_COLUMNS: &str = "id, version, author_name, created_at, what_matters, strengths, needs, preferences, goals, actions, support, support_notes, contingency, review_date, agreed, agreed_on";

fn version_from_row(r: &AnyRow) -> Result<PlanVersion> {
    let actions: String = r.try_get("actions")?;
    let support: String = r.try_get("support")?;
    Ok(PlanVersion {
        id: r.try_get("id")?,
        version: r.try_get("version")?,
        author_name: r.try_get("author_name")?,
        created_at: r.try_get("created_at")?,
        content: PlanContent {
            what_matters: r.try_get("what_matters")?,
            strengths: r.try_get("strengths")?,
            needs: r.try_get("needs")?,
            preferences: r.try_get("preferences")?,
            goals: r.try_get("goals")?,
            actions: serde_json::from_str::<Vec<PlanAction>>(&actions)
                .map_err(|e| StoreError::Corrupt(format!("plan actions: {e}")))?,
            support: support
                .split_whitespace()
                .map(|s| {
                    SupportKind::parse(s)
                        .ok_or_else(|| StoreError::Corrupt(format!("bad support kind {s:?}")))
                })
                .collect::<Result<_>>()?,
            support_notes: r.try_get("support_notes")?,
            contingency: r.try_get("contingency")?,
            review_date: r.try_get("review_date")?,
            agreed: r.try_get::<i64, _>("agreed")? != 0,
            agreed_on: r.try_get("agreed_on")?,
        },
    })
}

async fn versions_of(
    c: &mut AnyConnection,
    actor: &Actor,
    person: PersonId,
) -> Result<Vec<PlanVersion>> {
    sqlx::query(&format!(
        "SELECT {V_COLUMNS} FROM care_plan_versions WHERE org_id = $1 AND person_id = $2 ORDER BY version"
    ))
    .bind(actor.org_id.as_text())
    .bind(person.as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(version_from_row)
    .collect()
}

fn ev(
    actor: &Actor,
    action: AuditAction,
    outcome: Outcome,
    person: PersonId,
    source: &Source,
    detail: String,
) -> AuditEvent {
    AuditEvent {
        org_id: actor.org_id,
        actor_user_id: Some(actor.user_id),
        actor_role: Some(actor.role),
        action,
        outcome,
        resource_type: "care_plan",
        resource_id: Some(person.as_text()),
        person_id: Some(person),
        source: source.0.clone(),
        detail: Some(detail),
    }
}

impl Store {
    /// Reads a person's plan with all its versions, if `actor` may (`Edit` also needs the
    /// right to change it). Audited with the purpose, refusals too.
    pub async fn care_plan(
        &self,
        actor: &Actor,
        person: PersonId,
        purpose: PlanPurpose,
        source: Source,
    ) -> Result<PlanView> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let (action, audit_as) = match purpose {
                    PlanPurpose::Edit => (Action::EditCarePlan, AuditAction::CarePlanRead),
                    PlanPurpose::Download => {
                        (Action::ReadCarePlan, AuditAction::CarePlanDownloaded)
                    }
                    _ => (Action::ReadCarePlan, AuditAction::CarePlanRead),
                };
                let name =
                    match check_person(c, &actor, person, action, audit_as, "care_plan", &source)
                        .await?
                    {
                        Ok(n) => n,
                        Err(e) => return Ok(Err(e)),
                    };
                let p = sqlx::query(
                    "SELECT nhs_number, date_of_birth FROM people WHERE org_id = $1 AND id = $2",
                )
                .bind(actor.org_id.as_text())
                .bind(person.as_text())
                .fetch_one(&mut *c)
                .await?;
                let versions = versions_of(c, &actor, person).await?;
                let referrals = referrals_of(c, actor.org_id, person).await?;
                let rel = relation(c, &actor, person).await?;
                audit::append(
                    c,
                    &ev(
                        &actor,
                        audit_as,
                        Outcome::Allowed,
                        person,
                        &source,
                        purpose.detail(),
                    ),
                )
                .await?;
                Ok(Ok(PlanView {
                    person_id: person,
                    person_name: name,
                    nhs_number: p.try_get("nhs_number")?,
                    date_of_birth: p.try_get("date_of_birth")?,
                    versions,
                    referrals,
                    can_edit: decide(&actor, Action::EditCarePlan, Target::Person(rel)).allowed,
                }))
            })
        })
        .await?
    }

    /// Saves `content` as the next version of the person's plan, if `base_version` is still
    /// the latest (0: there is no plan yet); otherwise `StaleVersion` and nothing is written.
    /// Returns the new version number. Audited with the names of the changed fields.
    pub async fn save_care_plan(
        &self,
        actor: &Actor,
        person: PersonId,
        base_version: i64,
        content: PlanContent,
        source: Source,
    ) -> Result<i64> {
        let actor = actor.clone();
        let result = self
            .write(move |c| {
                let (actor, content, source) = (actor.clone(), content.clone(), source.clone());
                Box::pin(async move {
                    if let Err(e) = check_person(c, &actor, person, Action::EditCarePlan, AuditAction::CarePlanSaved, "care_plan", &source).await? {
                        return Ok(Err(e));
                    }
                    let versions = versions_of(c, &actor, person).await?;
                    let latest = versions.last();
                    let current = latest.map(|v| v.version).unwrap_or(0);
                    if current != base_version {
                        audit::append(c, &ev(&actor, AuditAction::CarePlanSaved, Outcome::Refused, person, &source, format!("based on version {base_version}, latest is {current}"))).await?;
                        return Ok(Err(StoreError::StaleVersion));
                    }
                    let next = current + 1;
                    let author = actor_name(c, &actor).await?;
                    let actions = serde_json::to_string(&content.actions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let support = format!(" {} ", content.support.iter().map(|s| s.code()).collect::<Vec<_>>().join(" "));
                    sqlx::query(
                        "INSERT INTO care_plan_versions (org_id, id, person_id, version, author_id, author_name, created_at, what_matters, strengths, needs, preferences, goals, actions, support, support_notes, contingency, review_date, agreed, agreed_on) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                    )
                    .bind(actor.org_id.as_text())
                    .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                    .bind(person.as_text())
                    .bind(next)
                    .bind(actor.user_id.as_text())
                    .bind(&author)
                    .bind(now_micros())
                    .bind(&content.what_matters)
                    .bind(&content.strengths)
                    .bind(&content.needs)
                    .bind(&content.preferences)
                    .bind(&content.goals)
                    .bind(actions)
                    .bind(support)
                    .bind(&content.support_notes)
                    .bind(&content.contingency)
                    .bind(&content.review_date)
                    .bind(i64::from(content.agreed))
                    .bind(&content.agreed_on)
                    .execute(&mut *c)
                    .await?;
                    let detail = format!("version {next}; {}", changed_field_names(latest.map(|v| &v.content), &content));
                    audit::append(c, &ev(&actor, AuditAction::CarePlanSaved, Outcome::Allowed, person, &source, detail)).await?;
                    Ok(Ok(next))
                })
            })
            .await;
        match result {
            // Another writer inserted the same version number first (e.g. another instance).
            Err(e) if e.is_unique_violation() => Err(StoreError::StaleVersion),
            Err(e) => Err(e),
            Ok(inner) => inner,
        }
    }
}
