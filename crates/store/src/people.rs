//! People's records: register, read, change, list and search — each access decided by
//! `alongside_core::access` and audited in the same transaction as the data.

use crate::door::{AuditAs, PersonGrant};
use crate::users::parse_uuid;
use crate::{audit, Result, Store, StoreError};
use alongside_core::access::{people_scope, Action, Actor, PeopleScope};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::nhs_number::NhsNumber;
use alongside_core::person::{PersonDetails, Sex};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{OrgId, PersonId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A stored person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub org_id: OrgId,
    pub id: PersonId,
    pub details: PersonDetails,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A record as one actor may see it, with what else they may do to it.
#[derive(Debug, Clone)]
pub struct PersonView {
    pub record: PersonRecord,
    pub can_edit: bool,
    pub can_view_audit: bool,
    /// The actor may open the person's coaching, goals and referrals.
    pub can_read_coaching: bool,
    /// Which of [`OFFERED_ON_A_RECORD`] the actor may take on this person (what the record
    /// page offers), decided by `access::decide` on facts loaded by the store.
    may: Vec<Action>,
}

/// The actions a person's record page may offer; [`PersonView::may`] answers for these.
pub const OFFERED_ON_A_RECORD: &[Action] = &[
    Action::EditPerson,
    Action::ReadPersonAudit,
    Action::ReadCoaching,
    Action::ReferToCoaching,
    Action::RecordAssessment,
    Action::RecordAssessmentOnBehalf,
    Action::ReadCarePlan,
    Action::EditCarePlan,
    Action::ManageServiceReferrals,
    Action::EnrolOnCourse,
    Action::ReadEnrolments,
    Action::ReadAttendance,
    Action::BookGroupsOnBehalf,
];

impl PersonView {
    /// Whether the actor may take `action` on this person (one of [`OFFERED_ON_A_RECORD`];
    /// anything else is `false`). For offering links: the use case behind a link decides again.
    pub fn may(&self, action: Action) -> bool {
        self.may.contains(&action)
    }
}

/// One row of a people list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSummary {
    pub id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub nhs_number: Option<String>,
    pub postcode: Option<String>,
}

/// How a search term was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleQuery {
    All,
    Name(Vec<String>),
    NhsNumber(String),
    DateOfBirth(String),
}

impl PeopleQuery {
    /// Reads a search box: ten digits are an NHS number, a date (`7/3/1958`, `7 3 1958` or
    /// `1958-03-07`, read by `alongside_core::dates::parse_date`) a date of birth, anything
    /// else words of a name.
    pub fn parse(q: &str) -> PeopleQuery {
        let q = q.trim();
        if q.is_empty() {
            return PeopleQuery::All;
        }
        if let Ok(n) = NhsNumber::parse(q) {
            return PeopleQuery::NhsNumber(n.as_str().to_string());
        }
        let digits_only: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        if digits_only.len() == 10 && digits_only.chars().all(|c| c.is_ascii_digit()) {
            // Ten digits that fail the check digit match nobody, rather than a name search.
            return PeopleQuery::NhsNumber(digits_only);
        }
        if let Some(d) = alongside_core::dates::parse_date(q) {
            return PeopleQuery::DateOfBirth(iso_date(d));
        }
        PeopleQuery::Name(
            q.to_lowercase()
                .split_whitespace()
                .take(4)
                .map(|w| w.chars().take(100).collect())
                .collect(),
        )
    }

    fn describe(&self) -> &'static str {
        match self {
            PeopleQuery::All => "list",
            PeopleQuery::Name(_) => "search by name",
            PeopleQuery::NhsNumber(_) => "search by NHS number",
            PeopleQuery::DateOfBirth(_) => "search by date of birth",
        }
    }
}

pub use crate::door::Source;

fn search_name(d: &PersonDetails) -> String {
    format!(" {} {} ", d.given_name, d.family_name).to_lowercase()
}

const PERSON_COLUMNS: &str = "org_id, id, nhs_number, given_name, family_name, date_of_birth, sex, postcode, email, phone, consent_phone, consent_sms, consent_email, consent_post, preferred_language, interpreter_needed, communication_needs, what_matters, deprivation_decile, gp_practice, created_at, updated_at, version";

fn record_from_row(r: &AnyRow, conditions: Vec<String>) -> Result<PersonRecord> {
    let nhs: Option<String> = r.try_get("nhs_number")?;
    let dob: String = r.try_get("date_of_birth")?;
    let sex: String = r.try_get("sex")?;
    let decile: Option<i64> = r.try_get("deprivation_decile")?;
    Ok(PersonRecord {
        org_id: parse_uuid(&r.try_get::<String, _>("org_id")?)?,
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        details: PersonDetails {
            nhs_number: nhs
                .map(|n| NhsNumber::parse(&n).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()?,
            given_name: r.try_get("given_name")?,
            family_name: r.try_get("family_name")?,
            date_of_birth: parse_iso_date(&dob)
                .ok_or_else(|| StoreError::Corrupt(format!("bad date {dob:?}")))?,
            sex: Sex::parse(&sex).ok_or_else(|| StoreError::Corrupt(format!("bad sex {sex:?}")))?,
            postcode: r.try_get("postcode")?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            consent_phone: r.try_get::<i64, _>("consent_phone")? != 0,
            consent_sms: r.try_get::<i64, _>("consent_sms")? != 0,
            consent_email: r.try_get::<i64, _>("consent_email")? != 0,
            consent_post: r.try_get::<i64, _>("consent_post")? != 0,
            preferred_language: r.try_get("preferred_language")?,
            interpreter_needed: r.try_get::<i64, _>("interpreter_needed")? != 0,
            communication_needs: r.try_get("communication_needs")?,
            conditions,
            what_matters: r.try_get("what_matters")?,
            deprivation_decile: decile.map(|d| d as u8),
            gp_practice: r.try_get("gp_practice")?,
        },
    })
}

/// A person's record, under a grant for that person.
pub(crate) async fn load_person(
    c: &mut AnyConnection,
    grant: &PersonGrant,
) -> Result<PersonRecord> {
    let (org, id) = (grant.org(), grant.person());
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    let conds = sqlx::query("SELECT condition FROM person_conditions WHERE org_id = $1 AND person_id = $2 ORDER BY condition")
        .bind(org.as_text())
        .bind(id.as_text())
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("condition"))
        .collect::<Result<Vec<_>, _>>()?;
    record_from_row(&row, conds)
}

/// Whether a person's record exists in the organisation, on a given connection.
pub(crate) async fn person_exists_in(
    c: &mut AnyConnection,
    org: OrgId,
    id: PersonId,
) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM people WHERE org_id = $1 AND id = $2")
            .bind(org.as_text())
            .bind(id.as_text())
            .fetch_optional(&mut *c)
            .await?
            .is_some(),
    )
}

async fn insert_person(
    c: &mut AnyConnection,
    org: OrgId,
    id: PersonId,
    d: &PersonDetails,
    now: i64,
) -> Result<()> {
    let res = sqlx::query(&format!("INSERT INTO people ({PERSON_COLUMNS}, search_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, 1, $22)"))
        .bind(org.as_text())
        .bind(id.as_text())
        .bind(d.nhs_number.as_ref().map(|n| n.as_str().to_string()))
        .bind(&d.given_name)
        .bind(&d.family_name)
        .bind(iso_date(d.date_of_birth))
        .bind(d.sex.code())
        .bind(&d.postcode)
        .bind(&d.email)
        .bind(&d.phone)
        .bind(i64::from(d.consent_phone))
        .bind(i64::from(d.consent_sms))
        .bind(i64::from(d.consent_email))
        .bind(i64::from(d.consent_post))
        .bind(&d.preferred_language)
        .bind(i64::from(d.interpreter_needed))
        .bind(&d.communication_needs)
        .bind(&d.what_matters)
        .bind(d.deprivation_decile.map(i64::from))
        .bind(&d.gp_practice)
        .bind(now)
        .bind(search_name(d))
        .execute(&mut *c)
        .await;
    match res {
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Err(StoreError::Conflict(
                    "A person with this NHS number is already registered".into(),
                ))
            } else {
                Err(e)
            }
        }
        Ok(_) => {
            insert_conditions(c, org, id, &d.conditions).await?;
            Ok(())
        }
    }
}

async fn insert_conditions(
    c: &mut AnyConnection,
    org: OrgId,
    id: PersonId,
    conditions: &[String],
) -> Result<()> {
    for cond in conditions {
        sqlx::query(
            "INSERT INTO person_conditions (org_id, person_id, condition) VALUES ($1, $2, $3)",
        )
        .bind(org.as_text())
        .bind(id.as_text())
        .bind(cond)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Names of the fields that differ, for the audit detail (never the values).
fn changed_fields(a: &PersonDetails, b: &PersonDetails) -> Vec<&'static str> {
    let mut v = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => { $( if a.$f != b.$f { v.push(stringify!($f)); } )* };
    }
    cmp!(
        nhs_number,
        given_name,
        family_name,
        date_of_birth,
        sex,
        postcode,
        email,
        phone,
        consent_phone,
        consent_sms,
        consent_email,
        consent_post,
        preferred_language,
        interpreter_needed,
        communication_needs,
        conditions,
        what_matters,
        deprivation_decile,
        gp_practice
    );
    v
}

impl Store {
    /// Registers a person if `actor` may, audited in the same transaction. A coach who
    /// registers someone has them put on their caseload.
    pub async fn register_person(
        &self,
        actor: &Actor,
        details: PersonDetails,
        source: Source,
    ) -> Result<PersonId> {
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::RegisterPerson,
                    AuditAs::new(AuditAction::PersonCreated),
                )?;
                let id = PersonId::new();
                let now = tx.now();
                insert_person(tx.conn(), g.org(), id, &details, now).await?;
                if tx.actor().role == alongside_core::Role::HealthCoach {
                    let coach = tx.actor().user_id;
                    sqlx::query("INSERT INTO caseload (org_id, coach_id, person_id, added_at) VALUES ($1, $2, $3, $4)")
                        .bind(g.org().as_text())
                        .bind(coach.as_text())
                        .bind(id.as_text())
                        .bind(now)
                        .execute(tx.conn())
                        .await?;
                }
                tx.log_org(
                    &g,
                    Some(id),
                    AuditAs::new(AuditAction::PersonCreated).on("person", Some(id.as_text())),
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// Reads a person's record if `actor` may; the read (or the refusal) is audited in the
    /// same transaction. A record in another organisation is simply not found.
    pub async fn read_person(
        &self,
        actor: &Actor,
        id: PersonId,
        source: Source,
    ) -> Result<PersonView> {
        self.read_person_for(actor, id, Action::ReadPerson, source)
            .await
    }

    /// Reads a person's record for a page that goes on to `purpose` (e.g. recording a
    /// questionnaire): allowed only if `actor` may do that to this person; audited as a read,
    /// allowed or refused.
    pub async fn read_person_for(
        &self,
        actor: &Actor,
        id: PersonId,
        purpose: Action,
        source: Source,
    ) -> Result<PersonView> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let read = AuditAs::new(AuditAction::PersonRead).on("person", Some(id.as_text()));
                let g = tx.person(purpose, id, read.clone()).await?;
                let record = load_person(tx.conn(), &g).await?;
                tx.log(&g, read).await?;
                Ok(PersonView {
                    record,
                    can_edit: tx.also_may(&g, Action::EditPerson).await?,
                    can_view_audit: tx.also_may(&g, Action::ReadPersonAudit).await?,
                    can_read_coaching: tx.also_may(&g, Action::ReadCoaching).await?,
                    may: {
                        let mut may = Vec::new();
                        for a in OFFERED_ON_A_RECORD {
                            if tx.also_may(&g, *a).await? {
                                may.push(*a);
                            }
                        }
                        may
                    },
                })
            })
        })
        .await
    }

    /// Loads a record for editing if `actor` may change it (audited as a read; a refusal is
    /// audited too).
    pub async fn person_for_edit(
        &self,
        actor: &Actor,
        id: PersonId,
        source: Source,
    ) -> Result<PersonRecord> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let read = AuditAs::new(AuditAction::PersonRead).on("person", Some(id.as_text()));
                let g = tx.person(Action::EditPerson, id, read.clone()).await?;
                let record = load_person(tx.conn(), &g).await?;
                tx.log(&g, read).await?;
                Ok(record)
            })
        })
        .await
    }

    /// Replaces a person's details if `actor` may and nobody changed the record since
    /// `expected_version`; audited with the names of the changed fields.
    pub async fn update_person(
        &self,
        actor: &Actor,
        id: PersonId,
        expected_version: i64,
        details: PersonDetails,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::PersonUpdated).on("person", Some(id.as_text()));
                let g = tx.person(Action::EditPerson, id, audit_as.clone()).await?;
                let before = load_person(tx.conn(), &g).await?;
                if before.version != expected_version {
                    return Err(StoreError::StaleVersion);
                }
                let changed = changed_fields(&before.details, &details);
                let now = tx.now();
                let res = sqlx::query(
                    "UPDATE people SET nhs_number = $1, given_name = $2, family_name = $3, search_name = $4, date_of_birth = $5, sex = $6, postcode = $7, email = $8, phone = $9, \
                     consent_phone = $10, consent_sms = $11, consent_email = $12, consent_post = $13, preferred_language = $14, interpreter_needed = $15, communication_needs = $16, \
                     what_matters = $17, deprivation_decile = $18, gp_practice = $19, updated_at = $20, version = version + 1 WHERE org_id = $21 AND id = $22 AND version = $23",
                )
                .bind(details.nhs_number.as_ref().map(|n| n.as_str().to_string()))
                .bind(&details.given_name)
                .bind(&details.family_name)
                .bind(search_name(&details))
                .bind(iso_date(details.date_of_birth))
                .bind(details.sex.code())
                .bind(&details.postcode)
                .bind(&details.email)
                .bind(&details.phone)
                .bind(i64::from(details.consent_phone))
                .bind(i64::from(details.consent_sms))
                .bind(i64::from(details.consent_email))
                .bind(i64::from(details.consent_post))
                .bind(&details.preferred_language)
                .bind(i64::from(details.interpreter_needed))
                .bind(&details.communication_needs)
                .bind(&details.what_matters)
                .bind(details.deprivation_decile.map(i64::from))
                .bind(&details.gp_practice)
                .bind(now)
                .bind(g.org().as_text())
                .bind(g.person().as_text())
                .bind(expected_version)
                .execute(tx.conn())
                .await;
                match res {
                    Err(e) => {
                        let e = StoreError::from(e);
                        if e.is_unique_violation() {
                            return Err(StoreError::Conflict("A person with this NHS number is already registered".into()));
                        }
                        return Err(e);
                    }
                    Ok(r) if r.rows_affected() == 0 => return Err(StoreError::StaleVersion),
                    Ok(_) => {}
                }
                if before.details.conditions != details.conditions {
                    sqlx::query("DELETE FROM person_conditions WHERE org_id = $1 AND person_id = $2")
                        .bind(g.org().as_text())
                        .bind(g.person().as_text())
                        .execute(tx.conn())
                        .await?;
                    insert_conditions(tx.conn(), g.org(), g.person(), &details.conditions).await?;
                }
                let detail = if changed.is_empty() { "no changes".to_string() } else { format!("changed: {}", changed.join(", ")) };
                tx.log(&g, audit_as.detail(detail)).await?;
                Ok(())
            })
        })
        .await
    }

    /// Lists or searches the people `actor` may see, a page at a time (50 a page); the read
    /// and its audit entry (or the refusal's) commit together.
    pub async fn list_people(
        &self,
        actor: &Actor,
        query: &PeopleQuery,
        page: u32,
        source: Source,
    ) -> Result<(Vec<PersonSummary>, bool)> {
        let query = query.clone();
        self.read_as(actor, &source, move |tx| {
            let query = query.clone();
            Box::pin(async move {
                let action = if query == PeopleQuery::All {
                    AuditAction::PeopleListed
                } else {
                    AuditAction::PeopleSearched
                };
                let audit_as = AuditAs::new(action).on("people", None);
                let g = tx.org_action(Action::ListPeople, audit_as.clone())?;
                let Some(scope) = people_scope(tx.actor()) else {
                    return Err(StoreError::Refused("role has no people list"));
                };
                const PAGE: i64 = 50;
                let mut sql = String::from("SELECT p.id, p.given_name, p.family_name, p.date_of_birth, p.nhs_number, p.postcode FROM people p");
                let mut binds: Vec<String> = vec![g.org().as_text()];
                if let PeopleScope::Caseload(coach) = scope {
                    binds.push(coach.as_text());
                    sql.push_str(" JOIN caseload cl ON cl.org_id = p.org_id AND cl.person_id = p.id AND cl.coach_id = $2");
                }
                sql.push_str(" WHERE p.org_id = $1");
                match &query {
                    PeopleQuery::All => {}
                    PeopleQuery::NhsNumber(n) => {
                        binds.push(n.clone());
                        sql.push_str(&format!(" AND p.nhs_number = ${}", binds.len()));
                    }
                    PeopleQuery::DateOfBirth(d) => {
                        binds.push(d.clone());
                        sql.push_str(&format!(" AND p.date_of_birth = ${}", binds.len()));
                    }
                    PeopleQuery::Name(words) => {
                        for w in words {
                            let escaped = w
                                .replace('\\', "\\\\")
                                .replace('%', "\\%")
                                .replace('_', "\\_");
                            binds.push(format!("% {escaped}%"));
                            sql.push_str(&format!(
                                " AND p.search_name LIKE ${} ESCAPE '\\'",
                                binds.len()
                            ));
                        }
                    }
                }
                sql.push_str(&format!(
                    " ORDER BY p.family_name, p.given_name, p.id LIMIT {} OFFSET {}",
                    PAGE + 1,
                    i64::from(page) * PAGE
                ));
                let mut q = sqlx::query(&sql);
                for b in &binds {
                    q = q.bind(b.clone());
                }
                let rows = q.fetch_all(tx.conn()).await?;
                let mut people = rows
                    .iter()
                    .map(|r| {
                        Ok(PersonSummary {
                            id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                            given_name: r.try_get("given_name")?,
                            family_name: r.try_get("family_name")?,
                            date_of_birth: r.try_get("date_of_birth")?,
                            nhs_number: r.try_get("nhs_number")?,
                            postcode: r.try_get("postcode")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let more = people.len() as i64 > PAGE;
                people.truncate(PAGE as usize);
                let detail = format!("{}; {} shown", query.describe(), people.len());
                tx.log_org(&g, None, audit_as.detail(detail)).await?;
                Ok((people, more))
            })
        })
        .await
    }

    /// Bulk registration with no acting user (demo data and imports), one transaction.
    pub async fn insert_people_unaudited_actor(
        &self,
        org: OrgId,
        people: Vec<(PersonId, PersonDetails, Option<UserId>)>,
        detail: &str,
    ) -> Result<()> {
        let detail = detail.to_string();
        let now = self.now();
        self.write(move |c| {
            let (people, detail) = (people.clone(), detail.clone());
            Box::pin(async move {
                for (id, d, coach) in &people {
                    insert_person(c, org, *id, d, now).await?;
                    if let Some(coach) = coach {
                        sqlx::query("INSERT INTO caseload (org_id, coach_id, person_id, added_at) VALUES ($1, $2, $3, $4)")
                            .bind(org.as_text())
                            .bind(coach.as_text())
                            .bind(id.as_text())
                            .bind(now)
                            .execute(&mut *c)
                            .await?;
                    }
                    let ev = AuditEvent {
                        org_id: org,
                        actor_user_id: None,
                        actor_role: None,
                        action: AuditAction::PersonCreated,
                        outcome: Outcome::Allowed,
                        resource_type: "person",
                        resource_id: Some(id.as_text()),
                        person_id: Some(*id),
                        source: Some("system".into()),
                        detail: Some(detail.clone()),
                    };
                    audit::append(c, &ev).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Whether a record with this id exists in the organisation (no personal data returned).
    pub async fn person_exists(&self, org: OrgId, id: PersonId) -> Result<bool> {
        let mut c = self.reader().acquire().await?;
        person_exists_in(&mut c, org, id).await
    }

    /// How many people an organisation has on record.
    pub async fn count_people(&self, org: OrgId) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM people WHERE org_id = $1")
            .bind(org.as_text())
            .fetch_one(self.reader())
            .await?;
        Ok(r.try_get("n")?)
    }

    /// De-identified counts for analysts: people by condition, by age band, by sex and by
    /// deprivation decile. Small numbers are suppressed by the caller before display.
    pub async fn aggregates(&self, actor: &Actor, source: Source) -> Result<Aggregates> {
        // Counts only: the decision and its audit entry commit before the counts are read.
        self.write_as(actor, &source, |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::AggregatesRead)
                    .on("organisation", Some(tx.org().as_text()));
                let g = tx.org_action(Action::ReadAggregates, audit_as.clone())?;
                tx.log_org(&g, None, audit_as).await
            })
        })
        .await?;
        let org = actor.org_id.as_text();
        let pairs = |rows: Vec<AnyRow>| -> Result<Vec<(String, i64)>> {
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>("k")?, r.try_get::<i64, _>("n")?)))
                .collect()
        };
        let by_condition = pairs(
            sqlx::query("SELECT condition AS k, COUNT(*) AS n FROM person_conditions WHERE org_id = $1 GROUP BY condition ORDER BY condition")
                .bind(&org)
                .fetch_all(self.reader())
                .await?,
        )?;
        let by_sex = pairs(
            sqlx::query("SELECT sex AS k, COUNT(*) AS n FROM people WHERE org_id = $1 GROUP BY sex ORDER BY sex").bind(&org).fetch_all(self.reader()).await?,
        )?;
        let decile_rows = sqlx::query("SELECT deprivation_decile AS k, COUNT(*) AS n FROM people WHERE org_id = $1 GROUP BY deprivation_decile ORDER BY deprivation_decile")
            .bind(&org)
            .fetch_all(self.reader())
            .await?;
        let mut by_decile = Vec::new();
        for r in &decile_rows {
            let k: Option<i64> = r.try_get("k")?;
            by_decile.push((
                k.map(|k| k.to_string())
                    .unwrap_or_else(|| "not recorded".into()),
                r.try_get::<i64, _>("n")?,
            ));
        }
        let dobs = sqlx::query("SELECT date_of_birth FROM people WHERE org_id = $1")
            .bind(&org)
            .fetch_all(self.reader())
            .await?;
        let today = self.clock().today();
        let bands = ["18–39", "40–49", "50–59", "60–69", "70–79", "80+"];
        let mut by_age: Vec<(String, i64)> = std::iter::once(("under 18".to_string(), 0))
            .chain(bands.iter().map(|b| (b.to_string(), 0)))
            .collect();
        for r in &dobs {
            let dob: String = r.try_get("date_of_birth")?;
            if let Some(d) = parse_iso_date(&dob) {
                let age = alongside_core::time::age_on(d, today);
                let i = match age {
                    a if a < 18 => 0,
                    a if a < 40 => 1,
                    a if a < 50 => 2,
                    a if a < 60 => 3,
                    a if a < 70 => 4,
                    a if a < 80 => 5,
                    _ => 6,
                };
                by_age[i].1 += 1;
            }
        }
        Ok(Aggregates {
            total: dobs.len() as i64,
            by_condition,
            by_age,
            by_sex,
            by_decile,
        })
    }
}

/// De-identified counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregates {
    pub total: i64,
    pub by_condition: Vec<(String, i64)>,
    pub by_age: Vec<(String, i64)>,
    pub by_sex: Vec<(String, i64)>,
    pub by_decile: Vec<(String, i64)>,
}
