//! The directory of services and referrals of people to them.
//!
//! Directory entries are organisation data, not personal data: anyone signed in to the
//! organisation may search them, and changes are audited. Referrals are part of a person's
//! record: every read and change is decided by `alongside_core::access` and audited in the same
//! transaction. A referral's steps follow `alongside_core::directory::transition`; a step that
//! is not possible from the current status is refused and nothing is written.

use crate::audit::actor_event as ev;
use crate::people::{relation, Source};
use crate::users::parse_uuid;
use crate::{audit, now_micros, Result, Store, StoreError};
use alongside_core::access::{decide, Action, Actor, Target};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::directory::{
    days_overdue, transition, ReferralStatus, ServiceDetails, ServiceKind, ServiceMode, StepInput,
};
use alongside_core::ids::{ServiceId, ServiceReferralId};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{OrgId, PersonId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// A stored directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    pub id: ServiceId,
    pub details: ServiceDetails,
    pub version: i64,
    pub updated_at: i64,
}

/// What to search the directory for; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceQuery {
    pub kind: Option<ServiceKind>,
    pub condition: Option<String>,
    pub mode: Option<ServiceMode>,
    pub language: Option<String>,
    /// Words that must all appear in the name, description or eligibility.
    pub text: String,
    pub include_inactive: bool,
}

/// One step in a referral's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralStepRow {
    pub status: ReferralStatus,
    pub on_date: String,
    pub at: i64,
    pub by_name: String,
    pub note: Option<String>,
}

/// A referral to a directory service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceReferral {
    pub id: ServiceReferralId,
    pub person_id: PersonId,
    pub service_id: ServiceId,
    pub service_name: String,
    pub status: ReferralStatus,
    pub reason: String,
    pub notes: Option<String>,
    pub respond_by: Option<String>,
    pub complete_by: Option<String>,
    pub outcome: Option<String>,
    pub created_at: i64,
    pub version: i64,
    /// Oldest first (empty in lists that do not need them).
    pub steps: Vec<ReferralStepRow>,
}

/// A person's referrals as one actor may see them.
#[derive(Debug, Clone)]
pub struct PersonReferrals {
    pub person_name: String,
    pub can_manage: bool,
    pub referrals: Vec<ServiceReferral>,
}

/// A row of the coordinator's overdue list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueReferral {
    pub referral: ServiceReferral,
    pub person_name: String,
    /// The date that was missed (response or completion).
    pub due: String,
    pub days_overdue: i64,
}

/// What a new referral says besides the person, the service and the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralOptions {
    pub notes: Option<String>,
    pub respond_by: Option<Date>,
    pub complete_by: Option<Date>,
    /// Sent at once (a step "sent" is recorded today), rather than kept as a draft.
    pub send_now: bool,
}

fn codes(v: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = v.into_iter().collect();
    if v.is_empty() {
        " ".into()
    } else {
        format!(" {} ", v.join(" "))
    }
}

fn split_codes(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn search_text(d: &ServiceDetails) -> String {
    format!(
        " {} {} {} ",
        d.name,
        d.description,
        d.eligibility.clone().unwrap_or_default()
    )
    .to_lowercase()
}

const S_COLUMNS: &str = "id, name, kind, description, eligibility, conditions, self_referral, referral_method, email, phone, address, website, opening_times, modes, languages, active, updated_at, version";

fn service_from_row(r: &AnyRow) -> Result<ServiceRecord> {
    let kind: String = r.try_get("kind")?;
    let modes: String = r.try_get("modes")?;
    Ok(ServiceRecord {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        version: r.try_get("version")?,
        updated_at: r.try_get("updated_at")?,
        details: ServiceDetails {
            name: r.try_get("name")?,
            kind: ServiceKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("bad service kind {kind:?}")))?,
            description: r.try_get("description")?,
            eligibility: r.try_get("eligibility")?,
            conditions: split_codes(&r.try_get::<String, _>("conditions")?),
            self_referral: r.try_get::<i64, _>("self_referral")? != 0,
            referral_method: r.try_get("referral_method")?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            address: r.try_get("address")?,
            website: r.try_get("website")?,
            opening_times: r.try_get("opening_times")?,
            modes: split_codes(&modes)
                .iter()
                .map(|m| {
                    ServiceMode::parse(m)
                        .ok_or_else(|| StoreError::Corrupt(format!("bad mode {m:?}")))
                })
                .collect::<Result<_>>()?,
            languages: split_codes(&r.try_get::<String, _>("languages")?),
            active: r.try_get::<i64, _>("active")? != 0,
        },
    })
}

/// The person's name, or `None` when there is no such record in the organisation.
pub(crate) async fn person_name(
    c: &mut AnyConnection,
    org: OrgId,
    person: PersonId,
) -> Result<Option<String>> {
    let r = sqlx::query("SELECT given_name, family_name FROM people WHERE org_id = $1 AND id = $2")
        .bind(org.as_text())
        .bind(person.as_text())
        .fetch_optional(&mut *c)
        .await?;
    Ok(match r {
        Some(r) => Some(format!(
            "{} {}",
            r.try_get::<String, _>("given_name")?,
            r.try_get::<String, _>("family_name")?
        )),
        None => None,
    })
}

/// The display name of the acting user, for "who" on steps and versions.
pub(crate) async fn actor_name(c: &mut AnyConnection, actor: &Actor) -> Result<String> {
    let r = sqlx::query("SELECT display_name FROM users WHERE org_id = $1 AND id = $2")
        .bind(actor.org_id.as_text())
        .bind(actor.user_id.as_text())
        .fetch_optional(&mut *c)
        .await?;
    Ok(match r {
        Some(r) => r.try_get("display_name")?,
        None => "Unknown user".into(),
    })
}

/// Checks `action` on `person` for `actor` (the record must exist in the actor's organisation:
/// otherwise `NotFound`, audited in the actor's log). A refusal is audited with `audit_as` and
/// returned as `Ok(Err(..))` so the audit entry commits. On success, the person's name.
pub(crate) async fn check_person(
    c: &mut AnyConnection,
    actor: &Actor,
    person: PersonId,
    action: Action,
    audit_as: AuditAction,
    resource_type: &'static str,
    source: &Source,
) -> Result<std::result::Result<String, StoreError>> {
    let Some(name) = person_name(c, actor.org_id, person).await? else {
        audit::append(
            c,
            &ev(
                actor,
                audit_as,
                Outcome::Refused,
                resource_type,
                Some(person.as_text()),
                None,
                source,
                Some("no such record in this organisation".into()),
            ),
        )
        .await?;
        return Ok(Err(StoreError::NotFound));
    };
    let rel = relation(c, actor, person).await?;
    let d = decide(actor, action, Target::Person(rel));
    if !d.allowed {
        audit::append(
            c,
            &ev(
                actor,
                audit_as,
                Outcome::Refused,
                resource_type,
                None,
                Some(person),
                source,
                Some(d.reason.into()),
            ),
        )
        .await?;
        return Ok(Err(StoreError::Refused(d.reason)));
    }
    Ok(Ok(name))
}

const R_COLUMNS: &str = "r.id, r.person_id, r.service_id, s.name AS service_name, r.status, r.reason, r.notes, r.respond_by, r.complete_by, r.outcome, r.created_at, r.version";

fn referral_from_row(r: &AnyRow) -> Result<ServiceReferral> {
    let status: String = r.try_get("status")?;
    Ok(ServiceReferral {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
        service_id: parse_uuid(&r.try_get::<String, _>("service_id")?)?,
        service_name: r.try_get("service_name")?,
        status: ReferralStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("bad referral status {status:?}")))?,
        reason: r.try_get("reason")?,
        notes: r.try_get("notes")?,
        respond_by: r.try_get("respond_by")?,
        complete_by: r.try_get("complete_by")?,
        outcome: r.try_get("outcome")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
        steps: Vec::new(),
    })
}

/// A person's referrals, newest first, without their steps.
pub(crate) async fn referrals_of(
    c: &mut AnyConnection,
    org: OrgId,
    person: PersonId,
) -> Result<Vec<ServiceReferral>> {
    sqlx::query(&format!(
        "SELECT {R_COLUMNS} FROM service_referrals r JOIN services s ON s.org_id = r.org_id AND s.id = r.service_id \
         WHERE r.org_id = $1 AND r.person_id = $2 ORDER BY r.created_at DESC, r.id"
    ))
    .bind(org.as_text())
    .bind(person.as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(referral_from_row)
    .collect()
}

async fn load_referral(
    c: &mut AnyConnection,
    org: OrgId,
    person: PersonId,
    id: ServiceReferralId,
) -> Result<Option<ServiceReferral>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {R_COLUMNS} FROM service_referrals r JOIN services s ON s.org_id = r.org_id AND s.id = r.service_id \
         WHERE r.org_id = $1 AND r.person_id = $2 AND r.id = $3"
    ))
    .bind(org.as_text())
    .bind(person.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    let mut r = referral_from_row(&row)?;
    let steps = sqlx::query("SELECT status, on_date, at, by_name, note FROM service_referral_steps WHERE org_id = $1 AND referral_id = $2 ORDER BY seq")
        .bind(org.as_text())
        .bind(id.as_text())
        .fetch_all(&mut *c)
        .await?;
    for s in &steps {
        let status: String = s.try_get("status")?;
        r.steps.push(ReferralStepRow {
            status: ReferralStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("bad step status {status:?}")))?,
            on_date: s.try_get("on_date")?,
            at: s.try_get("at")?,
            by_name: s.try_get("by_name")?,
            note: s.try_get("note")?,
        });
    }
    Ok(Some(r))
}

#[allow(clippy::too_many_arguments)]
async fn insert_step(
    c: &mut AnyConnection,
    org: OrgId,
    referral: ServiceReferralId,
    status: ReferralStatus,
    on: Date,
    by: &Actor,
    by_name: &str,
    note: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO service_referral_steps (org_id, referral_id, seq, status, on_date, at, by_user, by_name, note) \
         VALUES ($1, $2, (SELECT COUNT(*) FROM service_referral_steps WHERE org_id = $1 AND referral_id = $2) + 1, $3, $4, $5, $6, $7, $8)",
    )
    .bind(org.as_text())
    .bind(referral.as_text())
    .bind(status.code())
    .bind(iso_date(on))
    .bind(now_micros())
    .bind(by.user_id.as_text())
    .bind(by_name)
    .bind(note)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Creates a referral of `person` to a directory `service` on `c`, inside the caller's write
/// transaction (for example a coaching discharge's onward referrals, written with the discharge).
/// Access is checked (coaches for their caseload, coordinators) and the referral or the refusal
/// audited on `c`; a refusal or an unknown or inactive service is returned as `Ok(Err(..))`, so
/// the caller decides whether to go on. Drafted, or sent at once (a "sent" step on `today`).
#[allow(clippy::too_many_arguments)]
pub async fn insert_service_referral(
    c: &mut AnyConnection,
    actor: &Actor,
    person: PersonId,
    service: ServiceId,
    reason: &str,
    o: &ReferralOptions,
    today: Date,
    source: &Source,
) -> Result<std::result::Result<ServiceReferralId, StoreError>> {
    let id = ServiceReferralId::new();
    let (actor, source) = (actor.clone(), source.clone());
    if let Err(e) = check_person(
        c,
        &actor,
        person,
        Action::ManageServiceReferrals,
        AuditAction::ServiceReferralCreated,
        "service_referral",
        &source,
    )
    .await?
    {
        return Ok(Err(e));
    }
    let active = sqlx::query("SELECT active FROM services WHERE org_id = $1 AND id = $2")
        .bind(actor.org_id.as_text())
        .bind(service.as_text())
        .fetch_optional(&mut *c)
        .await?;
    match active {
        None => {
            return Ok(Err(StoreError::Conflict(
                "Select a service from the directory".into(),
            )))
        }
        Some(r) if r.try_get::<i64, _>("active")? == 0 => {
            return Ok(Err(StoreError::Conflict(
                "That service is not taking referrals: choose another".into(),
            )))
        }
        Some(_) => {}
    }
    let status = if o.send_now {
        ReferralStatus::Sent
    } else {
        ReferralStatus::Drafted
    };
    let now = now_micros();
    sqlx::query(
            "INSERT INTO service_referrals (org_id, id, person_id, service_id, status, reason, notes, respond_by, complete_by, outcome, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $11, 1)",
        )
        .bind(actor.org_id.as_text())
        .bind(id.as_text())
        .bind(person.as_text())
        .bind(service.as_text())
        .bind(status.code())
        .bind(reason)
        .bind(&o.notes)
        .bind(o.respond_by.map(iso_date))
        .bind(o.complete_by.map(iso_date))
        .bind(actor.user_id.as_text())
        .bind(now)
        .execute(&mut *c)
        .await?;
    let name = actor_name(c, &actor).await?;
    insert_step(
        c,
        actor.org_id,
        id,
        ReferralStatus::Drafted,
        today,
        &actor,
        &name,
        None,
    )
    .await?;
    if o.send_now {
        insert_step(
            c,
            actor.org_id,
            id,
            ReferralStatus::Sent,
            today,
            &actor,
            &name,
            None,
        )
        .await?;
    }
    audit::append(
        c,
        &ev(
            &actor,
            AuditAction::ServiceReferralCreated,
            Outcome::Allowed,
            "service_referral",
            Some(id.as_text()),
            Some(person),
            &source,
            Some(status.code().to_string()),
        ),
    )
    .await?;
    Ok(Ok(id))
}

impl Store {
    fn require_org(&self, actor: &Actor, action: Action) -> Result<()> {
        let d = decide(actor, action, Target::Org(actor.org_id));
        if d.allowed {
            Ok(())
        } else {
            Err(StoreError::Refused(d.reason))
        }
    }

    /// Adds a service to the directory (coordinators and administrators), audited.
    pub async fn create_service(
        &self,
        actor: &Actor,
        details: ServiceDetails,
        source: Source,
    ) -> Result<ServiceId> {
        if let Err(e) = self.require_org(actor, Action::ManageDirectory) {
            self.audit(ev(
                actor,
                AuditAction::ServiceCreated,
                Outcome::Refused,
                "service",
                None,
                None,
                &source,
                Some("role may not change the directory".into()),
            ))
            .await?;
            return Err(e);
        }
        let id = ServiceId::new();
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, d, source) = (actor.clone(), details.clone(), source.clone());
            Box::pin(async move {
                let now = now_micros();
                sqlx::query(
                    "INSERT INTO services (org_id, id, name, search_text, kind, description, eligibility, conditions, self_referral, referral_method, email, phone, address, website, opening_times, modes, languages, active, created_at, updated_at, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, 1)",
                )
                .bind(actor.org_id.as_text())
                .bind(id.as_text())
                .bind(&d.name)
                .bind(search_text(&d))
                .bind(d.kind.code())
                .bind(&d.description)
                .bind(&d.eligibility)
                .bind(codes(d.conditions.clone()))
                .bind(i64::from(d.self_referral))
                .bind(&d.referral_method)
                .bind(&d.email)
                .bind(&d.phone)
                .bind(&d.address)
                .bind(&d.website)
                .bind(&d.opening_times)
                .bind(codes(d.modes.iter().map(|m| m.code().to_string())))
                .bind(codes(d.languages.clone()))
                .bind(i64::from(d.active))
                .bind(now)
                .execute(&mut *c)
                .await?;
                audit::append(c, &ev(&actor, AuditAction::ServiceCreated, Outcome::Allowed, "service", Some(id.as_text()), None, &source, None)).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Changes a directory entry unless someone changed it since `expected_version`.
    pub async fn update_service(
        &self,
        actor: &Actor,
        id: ServiceId,
        expected_version: i64,
        details: ServiceDetails,
        source: Source,
    ) -> Result<()> {
        if let Err(e) = self.require_org(actor, Action::ManageDirectory) {
            self.audit(ev(
                actor,
                AuditAction::ServiceUpdated,
                Outcome::Refused,
                "service",
                Some(id.as_text()),
                None,
                &source,
                Some("role may not change the directory".into()),
            ))
            .await?;
            return Err(e);
        }
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, d, source) = (actor.clone(), details.clone(), source.clone());
            Box::pin(async move {
                let Some(before) = sqlx::query(&format!("SELECT {S_COLUMNS} FROM services WHERE org_id = $1 AND id = $2"))
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .fetch_optional(&mut *c)
                    .await?
                else {
                    return Ok(Err(StoreError::NotFound));
                };
                let before = service_from_row(&before)?;
                if before.version != expected_version {
                    return Ok(Err(StoreError::StaleVersion));
                }
                sqlx::query(
                    "UPDATE services SET name = $1, search_text = $2, kind = $3, description = $4, eligibility = $5, conditions = $6, self_referral = $7, referral_method = $8, email = $9, phone = $10, \
                     address = $11, website = $12, opening_times = $13, modes = $14, languages = $15, active = $16, updated_at = $17, version = version + 1 \
                     WHERE org_id = $18 AND id = $19 AND version = $20",
                )
                .bind(&d.name)
                .bind(search_text(&d))
                .bind(d.kind.code())
                .bind(&d.description)
                .bind(&d.eligibility)
                .bind(codes(d.conditions.clone()))
                .bind(i64::from(d.self_referral))
                .bind(&d.referral_method)
                .bind(&d.email)
                .bind(&d.phone)
                .bind(&d.address)
                .bind(&d.website)
                .bind(&d.opening_times)
                .bind(codes(d.modes.iter().map(|m| m.code().to_string())))
                .bind(codes(d.languages.clone()))
                .bind(i64::from(d.active))
                .bind(now_micros())
                .bind(actor.org_id.as_text())
                .bind(id.as_text())
                .bind(expected_version)
                .execute(&mut *c)
                .await?;
                let detail = if before.details == d { "no changes".to_string() } else { "changed".to_string() };
                audit::append(c, &ev(&actor, AuditAction::ServiceUpdated, Outcome::Allowed, "service", Some(id.as_text()), None, &source, Some(detail))).await?;
                Ok(Ok(()))
            })
        })
        .await?
    }

    /// One directory entry of the actor's organisation (another organisation's: not found).
    pub async fn service(&self, actor: &Actor, id: ServiceId) -> Result<ServiceRecord> {
        self.require_org(actor, Action::SearchDirectory)?;
        let r = sqlx::query(&format!(
            "SELECT {S_COLUMNS} FROM services WHERE org_id = $1 AND id = $2"
        ))
        .bind(actor.org_id.as_text())
        .bind(id.as_text())
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
        service_from_row(&r)
    }

    /// Searches the directory: every given part of the query must match. Ordered by name.
    pub async fn search_services(
        &self,
        actor: &Actor,
        q: &ServiceQuery,
    ) -> Result<Vec<ServiceRecord>> {
        self.require_org(actor, Action::SearchDirectory)?;
        let mut sql = format!("SELECT {S_COLUMNS} FROM services WHERE org_id = $1");
        let mut binds = vec![actor.org_id.as_text()];
        let mut push = |sql: &mut String, clause: &str, v: String| {
            binds.push(v);
            sql.push_str(&clause.replace("$n", &format!("${}", binds.len())));
        };
        if !q.include_inactive {
            sql.push_str(" AND active = 1");
        }
        if let Some(k) = q.kind {
            push(&mut sql, " AND kind = $n", k.code().to_string());
        }
        if let Some(c) = &q.condition {
            // A service for no particular condition is for everyone.
            push(
                &mut sql,
                " AND (conditions LIKE $n OR conditions = ' ')",
                format!("% {c} %"),
            );
        }
        if let Some(m) = q.mode {
            push(&mut sql, " AND modes LIKE $n", format!("% {} %", m.code()));
        }
        if let Some(l) = &q.language {
            push(&mut sql, " AND languages LIKE $n", format!("% {l} %"));
        }
        for w in q.text.to_lowercase().split_whitespace().take(6) {
            let escaped = w
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            push(
                &mut sql,
                " AND search_text LIKE $n ESCAPE '\\'",
                format!("%{escaped}%"),
            );
        }
        sql.push_str(" ORDER BY name, id LIMIT 500");
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b.clone());
        }
        query
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(service_from_row)
            .collect()
    }

    /// Refers `person` to a directory `service`: coaches for their caseload and coordinators.
    /// Drafted, or sent at once (a "sent" step today). Audited, refusals too. (Inside another
    /// write transaction, use [`insert_service_referral`].)
    #[allow(clippy::too_many_arguments)]
    pub async fn create_service_referral(
        &self,
        actor: &Actor,
        person: PersonId,
        service: ServiceId,
        reason: &str,
        options: ReferralOptions,
        today: Date,
        source: Source,
    ) -> Result<ServiceReferralId> {
        let actor = actor.clone();
        let reason = reason.to_string();
        self.write(move |c| {
            let (actor, reason, o, source) = (
                actor.clone(),
                reason.clone(),
                options.clone(),
                source.clone(),
            );
            Box::pin(async move {
                insert_service_referral(c, &actor, person, service, &reason, &o, today, &source)
                    .await
            })
        })
        .await?
    }

    /// A person's referrals to other services (audited, refusals too).
    pub async fn person_referrals(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<PersonReferrals> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let name = match check_person(
                    c,
                    &actor,
                    person,
                    Action::ReadCarePlan,
                    AuditAction::ServiceReferralsRead,
                    "service_referral",
                    &source,
                )
                .await?
                {
                    Ok(n) => n,
                    Err(e) => return Ok(Err(e)),
                };
                let referrals = referrals_of(c, actor.org_id, person).await?;
                audit::append(
                    c,
                    &ev(
                        &actor,
                        AuditAction::ServiceReferralsRead,
                        Outcome::Allowed,
                        "service_referral",
                        None,
                        Some(person),
                        &source,
                        Some("list".into()),
                    ),
                )
                .await?;
                let rel = relation(c, &actor, person).await?;
                Ok(Ok(PersonReferrals {
                    person_name: name,
                    can_manage: decide(&actor, Action::ManageServiceReferrals, Target::Person(rel))
                        .allowed,
                    referrals,
                }))
            })
        })
        .await?
    }

    /// One referral with its steps (audited).
    pub async fn service_referral(
        &self,
        actor: &Actor,
        person: PersonId,
        id: ServiceReferralId,
        source: Source,
    ) -> Result<(PersonReferrals, ServiceReferral)> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let name = match check_person(
                    c,
                    &actor,
                    person,
                    Action::ReadCarePlan,
                    AuditAction::ServiceReferralsRead,
                    "service_referral",
                    &source,
                )
                .await?
                {
                    Ok(n) => n,
                    Err(e) => return Ok(Err(e)),
                };
                let Some(r) = load_referral(c, actor.org_id, person, id).await? else {
                    return Ok(Err(StoreError::NotFound));
                };
                audit::append(
                    c,
                    &ev(
                        &actor,
                        AuditAction::ServiceReferralsRead,
                        Outcome::Allowed,
                        "service_referral",
                        Some(id.as_text()),
                        Some(person),
                        &source,
                        None,
                    ),
                )
                .await?;
                let rel = relation(c, &actor, person).await?;
                Ok(Ok((
                    PersonReferrals {
                        person_name: name,
                        can_manage: decide(
                            &actor,
                            Action::ManageServiceReferrals,
                            Target::Person(rel),
                        )
                        .allowed,
                        referrals: Vec::new(),
                    },
                    r,
                )))
            })
        })
        .await?
    }

    /// Records a step of a referral. A step not possible from its status is refused with
    /// `Conflict(message)` and nothing is written; a referral changed since `expected_version`
    /// is `StaleVersion`.
    pub async fn move_service_referral(
        &self,
        actor: &Actor,
        person: PersonId,
        id: ServiceReferralId,
        expected_version: i64,
        step: StepInput,
        source: Source,
    ) -> Result<ReferralStatus> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, step, source) = (actor.clone(), step.clone(), source.clone());
            Box::pin(async move {
                if let Err(e) = check_person(c, &actor, person, Action::ManageServiceReferrals, AuditAction::ServiceReferralUpdated, "service_referral", &source).await? {
                    return Ok(Err(e));
                }
                let Some(r) = load_referral(c, actor.org_id, person, id).await? else {
                    return Ok(Err(StoreError::NotFound));
                };
                let next = match transition(r.status, step.step) {
                    Ok(s) => s,
                    Err(m) => return Ok(Err(StoreError::Conflict(m))),
                };
                if r.version != expected_version {
                    return Ok(Err(StoreError::StaleVersion));
                }
                if next == ReferralStatus::Sent && r.respond_by.is_none() && step.respond_by.is_none() {
                    return Ok(Err(StoreError::Conflict("Enter the date a response is expected by, so an unanswered referral is noticed".into())));
                }
                let respond_by = step.respond_by.map(iso_date).or(r.respond_by.clone());
                let complete_by = step.complete_by.map(iso_date).or(r.complete_by.clone());
                let outcome = if next == ReferralStatus::Completed { step.outcome.clone() } else { r.outcome.clone() };
                let n = sqlx::query(
                    "UPDATE service_referrals SET status = $1, respond_by = $2, complete_by = $3, outcome = $4, updated_at = $5, version = version + 1 \
                     WHERE org_id = $6 AND id = $7 AND version = $8",
                )
                .bind(next.code())
                .bind(&respond_by)
                .bind(&complete_by)
                .bind(&outcome)
                .bind(now_micros())
                .bind(actor.org_id.as_text())
                .bind(id.as_text())
                .bind(expected_version)
                .execute(&mut *c)
                .await?
                .rows_affected();
                if n != 1 {
                    return Ok(Err(StoreError::StaleVersion));
                }
                let name = actor_name(c, &actor).await?;
                insert_step(c, actor.org_id, id, next, step.on, &actor, &name, step.note.as_deref()).await?;
                audit::append(c, &ev(&actor, AuditAction::ServiceReferralUpdated, Outcome::Allowed, "service_referral", Some(id.as_text()), Some(person), &source, Some(format!("{} -> {}", r.status.code(), next.code())))).await?;
                Ok(Ok(next))
            })
        })
        .await?
    }

    /// Referrals sent and not answered by their expected response date, or accepted and not
    /// completed by their expected completion date, on `today`: oldest missed date first.
    /// Coordinators and administrators; audited.
    pub async fn overdue_service_referrals(
        &self,
        actor: &Actor,
        today: Date,
        source: Source,
    ) -> Result<Vec<OverdueReferral>> {
        let d = decide(
            actor,
            Action::ReadOverdueReferrals,
            Target::Org(actor.org_id),
        );
        self.audit(AuditEvent {
            resource_type: "service_referral",
            ..ev(
                actor,
                AuditAction::OverdueReferralsListed,
                if d.allowed {
                    Outcome::Allowed
                } else {
                    Outcome::Refused
                },
                "service_referral",
                None,
                None,
                &source,
                (!d.allowed).then(|| d.reason.to_string()),
            )
        })
        .await?;
        if !d.allowed {
            return Err(StoreError::Refused(d.reason));
        }
        let today_s = iso_date(today);
        let rows = sqlx::query(&format!(
            "SELECT {R_COLUMNS}, p.given_name, p.family_name FROM service_referrals r \
             JOIN services s ON s.org_id = r.org_id AND s.id = r.service_id \
             JOIN people p ON p.org_id = r.org_id AND p.id = r.person_id \
             WHERE r.org_id = $1 AND ((r.status = 'sent' AND r.respond_by < $2) OR (r.status = 'accepted' AND r.complete_by < $2)) \
             LIMIT 2000"
        ))
        .bind(actor.org_id.as_text())
        .bind(&today_s)
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let r = referral_from_row(row)?;
            let respond = r.respond_by.as_deref().and_then(parse_iso_date);
            let complete = r.complete_by.as_deref().and_then(parse_iso_date);
            let Some(days) = days_overdue(r.status, respond, complete, today) else {
                continue;
            };
            let due = if r.status == ReferralStatus::Sent {
                r.respond_by.clone()
            } else {
                r.complete_by.clone()
            }
            .unwrap_or_default();
            out.push(OverdueReferral {
                person_name: format!(
                    "{} {}",
                    row.try_get::<String, _>("given_name")?,
                    row.try_get::<String, _>("family_name")?
                ),
                referral: r,
                due,
                days_overdue: days,
            });
        }
        out.sort_by(|a, b| a.due.cmp(&b.due).then(a.person_name.cmp(&b.person_name)));
        Ok(out)
    }
}
