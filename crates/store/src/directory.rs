//! The directory of services and referrals of people to them.
//!
//! Directory entries are organisation data, not personal data: anyone signed in to the
//! organisation may search them, and changes are audited. Referrals are part of a person's
//! record: every read and change is decided by `alongside_core::access` and audited in the same
//! transaction. A referral's steps follow `alongside_core::directory::transition`; a step that
//! is not possible from the current status is refused and nothing is written.

use crate::door::{AuditAs, PersonGrant, Tx};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::directory::{
    days_overdue, transition, ReferralStatus, ServiceDetails, ServiceKind, ServiceMode, StepInput,
};
use alongside_core::ids::{ServiceId, ServiceReferralId};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::PersonId;
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

/// The person's name (the grant proves the record exists in the organisation).
pub(crate) async fn person_name(c: &mut AnyConnection, g: &PersonGrant) -> Result<String> {
    let r = sqlx::query("SELECT given_name, family_name FROM people WHERE org_id = $1 AND id = $2")
        .bind(g.org().as_text())
        .bind(g.person().as_text())
        .fetch_one(&mut *c)
        .await?;
    Ok(format!(
        "{} {}",
        r.try_get::<String, _>("given_name")?,
        r.try_get::<String, _>("family_name")?
    ))
}

/// The display name of the acting user, for "who" on steps and versions.
pub(crate) async fn actor_name(tx: &mut Tx<'_>) -> Result<String> {
    let (org, me) = (tx.org().as_text(), tx.actor().user_id.as_text());
    let r = sqlx::query("SELECT display_name FROM users WHERE org_id = $1 AND id = $2")
        .bind(org)
        .bind(me)
        .fetch_optional(tx.conn())
        .await?;
    Ok(match r {
        Some(r) => r.try_get("display_name")?,
        None => "Unknown user".into(),
    })
}

/// How a referral use case's decision on a person is audited (resource `service_referral`).
fn on_referrals(action: AuditAction, id: Option<ServiceReferralId>) -> AuditAs {
    AuditAs::new(action).on("service_referral", id.map(|i| i.as_text()))
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
    g: &PersonGrant,
) -> Result<Vec<ServiceReferral>> {
    sqlx::query(&format!(
        "SELECT {R_COLUMNS} FROM service_referrals r JOIN services s ON s.org_id = r.org_id AND s.id = r.service_id \
         WHERE r.org_id = $1 AND r.person_id = $2 ORDER BY r.created_at DESC, r.id"
    ))
    .bind(g.org().as_text())
    .bind(g.person().as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(referral_from_row)
    .collect()
}

/// One of the person's referrals with its steps, or `None` (not theirs, or no such referral).
async fn load_referral(
    c: &mut AnyConnection,
    g: &PersonGrant,
    id: ServiceReferralId,
) -> Result<Option<ServiceReferral>> {
    let org = g.org();
    let Some(row) = sqlx::query(&format!(
        "SELECT {R_COLUMNS} FROM service_referrals r JOIN services s ON s.org_id = r.org_id AND s.id = r.service_id \
         WHERE r.org_id = $1 AND r.person_id = $2 AND r.id = $3"
    ))
    .bind(org.as_text())
    .bind(g.person().as_text())
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

/// Appends a step to one of the person's referrals, by the acting user, stamped by the clock.
async fn insert_step(
    tx: &mut Tx<'_>,
    g: &PersonGrant,
    referral: ServiceReferralId,
    status: ReferralStatus,
    on: Date,
    by_name: &str,
    note: Option<&str>,
) -> Result<()> {
    let (now, by) = (tx.now(), tx.actor().user_id);
    sqlx::query(
        "INSERT INTO service_referral_steps (org_id, referral_id, seq, status, on_date, at, by_user, by_name, note) \
         VALUES ($1, $2, (SELECT COUNT(*) FROM service_referral_steps WHERE org_id = $1 AND referral_id = $2) + 1, $3, $4, $5, $6, $7, $8)",
    )
    .bind(g.org().as_text())
    .bind(referral.as_text())
    .bind(status.code())
    .bind(iso_date(on))
    .bind(now)
    .bind(by.as_text())
    .bind(by_name)
    .bind(note)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Creates a referral of `person` to a directory `service` inside the caller's use case (for
/// example a coaching discharge's onward referrals, written with the discharge). Decided
/// (coaches for their caseload, coordinators) and audited through the door: a refusal is
/// audited and returned as `Refused` (`NotFound` for someone not in the organisation), an
/// unknown or inactive service as `Conflict(message)`; either way nothing is written, so the
/// caller may decide to go on. Drafted, or sent at once (a "sent" step on `today`).
pub async fn insert_service_referral(
    tx: &mut Tx<'_>,
    person: PersonId,
    service: ServiceId,
    reason: &str,
    o: &ReferralOptions,
    today: Date,
) -> Result<ServiceReferralId> {
    let g = tx
        .person(
            Action::ManageServiceReferrals,
            person,
            on_referrals(AuditAction::ServiceReferralCreated, None),
        )
        .await?;
    let active = sqlx::query("SELECT active FROM services WHERE org_id = $1 AND id = $2")
        .bind(g.org().as_text())
        .bind(service.as_text())
        .fetch_optional(tx.conn())
        .await?;
    match active {
        None => {
            return Err(StoreError::Conflict(
                "Select a service from the directory".into(),
            ))
        }
        Some(r) if r.try_get::<i64, _>("active")? == 0 => {
            return Err(StoreError::Conflict(
                "That service is not taking referrals: choose another".into(),
            ))
        }
        Some(_) => {}
    }
    let status = if o.send_now {
        ReferralStatus::Sent
    } else {
        ReferralStatus::Drafted
    };
    let id = ServiceReferralId::new();
    let (now, me) = (tx.now(), tx.actor().user_id);
    sqlx::query(
            "INSERT INTO service_referrals (org_id, id, person_id, service_id, status, reason, notes, respond_by, complete_by, outcome, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $11, 1)",
        )
        .bind(g.org().as_text())
        .bind(id.as_text())
        .bind(g.person().as_text())
        .bind(service.as_text())
        .bind(status.code())
        .bind(reason)
        .bind(&o.notes)
        .bind(o.respond_by.map(iso_date))
        .bind(o.complete_by.map(iso_date))
        .bind(me.as_text())
        .bind(now)
        .execute(tx.conn())
        .await?;
    let name = actor_name(tx).await?;
    insert_step(tx, &g, id, ReferralStatus::Drafted, today, &name, None).await?;
    if o.send_now {
        insert_step(tx, &g, id, ReferralStatus::Sent, today, &name, None).await?;
    }
    tx.log(
        &g,
        on_referrals(AuditAction::ServiceReferralCreated, Some(id)).detail(status.code()),
    )
    .await?;
    Ok(id)
}

/// The directory is organisation data, not personal data: anyone signed in to the
/// organisation may search it (`access::decide`, `SearchDirectory`), and its reads are not
/// audited. Only an actor of another organisation could be refused, and the queries are
/// scoped to the actor's own organisation anyway.
fn directory_open_to(actor: &Actor) -> Result<()> {
    let d = crate::door::org_decision(actor, Action::SearchDirectory);
    if d.allowed {
        Ok(())
    } else {
        Err(StoreError::Refused(d.reason))
    }
}

impl Store {
    /// Adds a service to the directory (coordinators and administrators), audited, refusals
    /// too.
    pub async fn create_service(
        &self,
        actor: &Actor,
        details: ServiceDetails,
        source: Source,
    ) -> Result<ServiceId> {
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageDirectory,
                    AuditAs::new(AuditAction::ServiceCreated).on("service", None),
                )?;
                let id = ServiceId::new();
                let now = tx.now();
                sqlx::query(
                    "INSERT INTO services (org_id, id, name, search_text, kind, description, eligibility, conditions, self_referral, referral_method, email, phone, address, website, opening_times, modes, languages, active, created_at, updated_at, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, 1)",
                )
                .bind(g.org().as_text())
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
                .execute(tx.conn())
                .await?;
                tx.log_org(&g, None, AuditAs::new(AuditAction::ServiceCreated).on("service", Some(id.as_text()))).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Changes a directory entry unless someone changed it since `expected_version`
    /// (`StaleVersion`, nothing written). Coordinators and administrators; audited, refusals
    /// too.
    pub async fn update_service(
        &self,
        actor: &Actor,
        id: ServiceId,
        expected_version: i64,
        details: ServiceDetails,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::ServiceUpdated).on("service", Some(id.as_text()));
                let g = tx.org_action(Action::ManageDirectory, audit_as.clone())?;
                let Some(before) = sqlx::query(&format!("SELECT {S_COLUMNS} FROM services WHERE org_id = $1 AND id = $2"))
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .fetch_optional(tx.conn())
                    .await?
                else {
                    return Err(StoreError::NotFound);
                };
                let before = service_from_row(&before)?;
                if before.version != expected_version {
                    return Err(StoreError::StaleVersion);
                }
                let now = tx.now();
                let n = sqlx::query(
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
                .bind(now)
                .bind(g.org().as_text())
                .bind(id.as_text())
                .bind(expected_version)
                .execute(tx.conn())
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::StaleVersion);
                }
                let detail = if before.details == d { "no changes" } else { "changed" };
                tx.log_org(&g, None, audit_as.detail(detail)).await?;
                Ok(())
            })
        })
        .await
    }

    /// One directory entry of the actor's organisation (another organisation's: not found).
    pub async fn service(&self, actor: &Actor, id: ServiceId) -> Result<ServiceRecord> {
        directory_open_to(actor)?;
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
        directory_open_to(actor)?;
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
    /// use case, use [`insert_service_referral`].)
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
        let reason = reason.to_string();
        self.write_as(actor, &source, move |tx| {
            let (reason, o) = (reason.clone(), options.clone());
            Box::pin(async move {
                insert_service_referral(tx, person, service, &reason, &o, today).await
            })
        })
        .await
    }

    /// A person's referrals to other services, for those who may read their plan (audited,
    /// refusals too).
    pub async fn person_referrals(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<PersonReferrals> {
        self.person_referrals_for(actor, person, Action::ReadCarePlan, source)
            .await
    }

    /// A person's referrals for a page that goes on to `purpose` (e.g. a new referral's form:
    /// `ManageServiceReferrals`): allowed only if `actor` may do that to this person; audited
    /// as a read of the referrals, allowed or refused.
    pub async fn person_referrals_for(
        &self,
        actor: &Actor,
        person: PersonId,
        purpose: Action,
        source: Source,
    ) -> Result<PersonReferrals> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let read = on_referrals(AuditAction::ServiceReferralsRead, None);
                let g = tx.person(purpose, person, read.clone()).await?;
                let person_name = person_name(tx.conn(), &g).await?;
                let referrals = referrals_of(tx.conn(), &g).await?;
                tx.log(&g, read.detail("list")).await?;
                Ok(PersonReferrals {
                    person_name,
                    can_manage: tx.also_may(&g, Action::ManageServiceReferrals).await?,
                    referrals,
                })
            })
        })
        .await
    }

    /// One referral with its steps (audited, refusals too).
    pub async fn service_referral(
        &self,
        actor: &Actor,
        person: PersonId,
        id: ServiceReferralId,
        source: Source,
    ) -> Result<(PersonReferrals, ServiceReferral)> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx
                    .person(
                        Action::ReadCarePlan,
                        person,
                        on_referrals(AuditAction::ServiceReferralsRead, None),
                    )
                    .await?;
                let person_name = person_name(tx.conn(), &g).await?;
                let r = load_referral(tx.conn(), &g, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                tx.log(
                    &g,
                    on_referrals(AuditAction::ServiceReferralsRead, Some(id)),
                )
                .await?;
                let who = PersonReferrals {
                    person_name,
                    can_manage: tx.also_may(&g, Action::ManageServiceReferrals).await?,
                    referrals: Vec::new(),
                };
                Ok((who, r))
            })
        })
        .await
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
        self.write_as(actor, &source, move |tx| {
            let step = step.clone();
            Box::pin(async move {
                let g = tx.person(Action::ManageServiceReferrals, person, on_referrals(AuditAction::ServiceReferralUpdated, None)).await?;
                let r = load_referral(tx.conn(), &g, id).await?.ok_or(StoreError::NotFound)?;
                let next = transition(r.status, step.step).map_err(StoreError::Conflict)?;
                if r.version != expected_version {
                    return Err(StoreError::StaleVersion);
                }
                if next == ReferralStatus::Sent && r.respond_by.is_none() && step.respond_by.is_none() {
                    return Err(StoreError::Conflict("Enter the date a response is expected by, so an unanswered referral is noticed".into()));
                }
                let respond_by = step.respond_by.map(iso_date).or(r.respond_by.clone());
                let complete_by = step.complete_by.map(iso_date).or(r.complete_by.clone());
                let outcome = if next == ReferralStatus::Completed { step.outcome.clone() } else { r.outcome.clone() };
                let now = tx.now();
                let n = sqlx::query(
                    "UPDATE service_referrals SET status = $1, respond_by = $2, complete_by = $3, outcome = $4, updated_at = $5, version = version + 1 \
                     WHERE org_id = $6 AND id = $7 AND version = $8",
                )
                .bind(next.code())
                .bind(&respond_by)
                .bind(&complete_by)
                .bind(&outcome)
                .bind(now)
                .bind(g.org().as_text())
                .bind(id.as_text())
                .bind(expected_version)
                .execute(tx.conn())
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::StaleVersion);
                }
                let name = actor_name(tx).await?;
                insert_step(tx, &g, id, next, step.on, &name, step.note.as_deref()).await?;
                tx.log(&g, on_referrals(AuditAction::ServiceReferralUpdated, Some(id)).detail(format!("{} -> {}", r.status.code(), next.code()))).await?;
                Ok(next)
            })
        })
        .await
    }

    /// Referrals sent and not answered by their expected response date, or accepted and not
    /// completed by their expected completion date, on `today`: oldest missed date first.
    /// Coordinators and administrators; the list and its audit entry (or the refusal's)
    /// commit together.
    pub async fn overdue_service_referrals(
        &self,
        actor: &Actor,
        today: Date,
        source: Source,
    ) -> Result<Vec<OverdueReferral>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::OverdueReferralsListed)
                    .on("service_referral", None);
                let g = tx.org_action(Action::ReadOverdueReferrals, audit_as.clone())?;
                let rows = sqlx::query(&format!(
                    "SELECT {R_COLUMNS}, p.given_name, p.family_name FROM service_referrals r \
                     JOIN services s ON s.org_id = r.org_id AND s.id = r.service_id \
                     JOIN people p ON p.org_id = r.org_id AND p.id = r.person_id \
                     WHERE r.org_id = $1 AND ((r.status = 'sent' AND r.respond_by < $2) OR (r.status = 'accepted' AND r.complete_by < $2)) \
                     LIMIT 2000"
                ))
                .bind(g.org().as_text())
                .bind(iso_date(today))
                .fetch_all(tx.conn())
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
                tx.log_org(&g, None, audit_as).await?;
                Ok(out)
            })
        })
        .await
    }
}
