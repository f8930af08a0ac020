//! Personalised care and support plans, versioned: every save inserts a new row numbered one
//! past the version it was based on, so nothing is ever overwritten; a save based on an
//! out-of-date version is refused (`StaleVersion`) — checked in the write transaction and, on
//! both backends, enforced by the primary key (org, person, version) against a racing writer.
//! Every read and change is decided by `alongside_core::access` and audited in the same
//! transaction.

use crate::directory::{actor_name, person_name, referrals_of, ServiceReferral};
use crate::door::{AuditAs, PersonGrant};
use crate::people::Source;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
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

async fn versions_of(c: &mut AnyConnection, g: &PersonGrant) -> Result<Vec<PlanVersion>> {
    sqlx::query(&format!(
        "SELECT {V_COLUMNS} FROM care_plan_versions WHERE org_id = $1 AND person_id = $2 ORDER BY version"
    ))
    .bind(g.org().as_text())
    .bind(g.person().as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(version_from_row)
    .collect()
}

/// How a plan use case is audited: resource `care_plan`, named by the person's id once
/// allowed (a refusal names the person only).
fn on_plan(action: AuditAction, person: Option<PersonId>) -> AuditAs {
    AuditAs::new(action).on("care_plan", person.map(|p| p.as_text()))
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
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let (action, audit_as) = match purpose {
                    PlanPurpose::Edit => (Action::EditCarePlan, AuditAction::CarePlanRead),
                    PlanPurpose::Download => {
                        (Action::ReadCarePlan, AuditAction::CarePlanDownloaded)
                    }
                    _ => (Action::ReadCarePlan, AuditAction::CarePlanRead),
                };
                let g = tx.person(action, person, on_plan(audit_as, None)).await?;
                let person_name = person_name(tx.conn(), &g).await?;
                let p = sqlx::query(
                    "SELECT nhs_number, date_of_birth FROM people WHERE org_id = $1 AND id = $2",
                )
                .bind(g.org().as_text())
                .bind(g.person().as_text())
                .fetch_one(tx.conn())
                .await?;
                let versions = versions_of(tx.conn(), &g).await?;
                let referrals = referrals_of(tx.conn(), &g).await?;
                tx.log(&g, on_plan(audit_as, Some(person)).detail(purpose.detail()))
                    .await?;
                Ok(PlanView {
                    person_id: person,
                    person_name,
                    nhs_number: p.try_get("nhs_number")?,
                    date_of_birth: p.try_get("date_of_birth")?,
                    versions,
                    referrals,
                    can_edit: tx.also_may(&g, Action::EditCarePlan).await?,
                })
            })
        })
        .await
    }

    /// Saves `content` as the next version of the person's plan, if `base_version` is still
    /// the latest (0: there is no plan yet); otherwise `StaleVersion`, the refusal audited and
    /// nothing written. Returns the new version number. Audited with the names of the changed
    /// fields.
    pub async fn save_care_plan(
        &self,
        actor: &Actor,
        person: PersonId,
        base_version: i64,
        content: PlanContent,
        source: Source,
    ) -> Result<i64> {
        let result = self
            .write_as(actor, &source, move |tx| {
                let content = content.clone();
                Box::pin(async move {
                    let g = tx.person(Action::EditCarePlan, person, on_plan(AuditAction::CarePlanSaved, None)).await?;
                    let versions = versions_of(tx.conn(), &g).await?;
                    let latest = versions.last();
                    let current = latest.map(|v| v.version).unwrap_or(0);
                    if current != base_version {
                        let refusal = on_plan(AuditAction::CarePlanSaved, Some(person))
                            .detail(format!("based on version {base_version}, latest is {current}"));
                        return Err(tx.refused(Some(person), refusal, StoreError::StaleVersion));
                    }
                    let next = current + 1;
                    let author = actor_name(tx).await?;
                    let actions = serde_json::to_string(&content.actions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let support = format!(" {} ", content.support.iter().map(|s| s.code()).collect::<Vec<_>>().join(" "));
                    let (now, me) = (tx.now(), tx.actor().user_id);
                    sqlx::query(
                        "INSERT INTO care_plan_versions (org_id, id, person_id, version, author_id, author_name, created_at, what_matters, strengths, needs, preferences, goals, actions, support, support_notes, contingency, review_date, agreed, agreed_on) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                    )
                    .bind(g.org().as_text())
                    .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                    .bind(g.person().as_text())
                    .bind(next)
                    .bind(me.as_text())
                    .bind(&author)
                    .bind(now)
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
                    .execute(tx.conn())
                    .await?;
                    let detail = format!("version {next}; {}", changed_field_names(latest.map(|v| &v.content), &content));
                    tx.log(&g, on_plan(AuditAction::CarePlanSaved, Some(person)).detail(detail)).await?;
                    Ok(next)
                })
            })
            .await;
        match result {
            // Another writer inserted the same version number first (e.g. another instance):
            // nothing of this save was written.
            Err(e) if e.is_unique_violation() => Err(StoreError::StaleVersion),
            other => other,
        }
    }
}
