//! The one audited door. Every use case that reads or changes a person's data runs inside
//! [`Store::write_as`] (or [`Store::read_as`]), whose [`Tx`] loads the relationship facts from
//! the data, asks `alongside_core::access::decide`, and audits the decision in the same
//! transaction as the data — whether the request came from a page, the CLI or a background
//! job.
//!
//! * Reading or changing a person's data needs a [`PersonGrant`] for that person. Only
//!   [`Tx::person`] makes one, after an allowed decision; its fields are private, so a grant
//!   cannot be built anywhere else, and the functions that load a person's data take one.
//! * A refusal is audited and returned as [`StoreError::Refused`]: the use case's own work is
//!   rolled back (nothing half-written), the refusal's audit entry is committed. This is the
//!   only place in the store where a failed job still commits something.
//! * A person who does not exist in the actor's organisation is audited as a refusal and
//!   answered as [`StoreError::NotFound`], so ids cannot be probed across organisations.

use crate::{audit, Result, Store, StoreError};
use alongside_core::access::{
    decide, facts_needed, Action, Actor, Decision, PersonRelation, ReferralRelation,
    SessionRelation, Target,
};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::time::iso_date;
use alongside_core::{GroupId, OrgId, PersonId, ReferralId};
use futures::future::BoxFuture;
use sqlx::{AnyConnection, Executor};
use std::sync::Arc;

/// Where a request came from, for the audit log (a client address, `cli`, a job's name).
#[derive(Debug, Clone, Default)]
pub struct Source(pub Option<String>);

/// What an audit entry says about the resource touched, besides who and whether allowed.
#[derive(Debug, Clone)]
pub struct AuditAs {
    pub action: AuditAction,
    pub resource_type: &'static str,
    pub resource_id: Option<String>,
    pub detail: Option<String>,
}

impl AuditAs {
    /// An entry of `action` about a person's record (resource type `person`).
    pub fn new(action: AuditAction) -> AuditAs {
        AuditAs {
            action,
            resource_type: "person",
            resource_id: None,
            detail: None,
        }
    }
    /// Names the resource touched.
    pub fn on(mut self, resource_type: &'static str, id: Option<String>) -> AuditAs {
        self.resource_type = resource_type;
        self.resource_id = id;
        self
    }
    /// Adds a detail (field names, counts — never health data).
    pub fn detail(mut self, detail: impl Into<String>) -> AuditAs {
        self.detail = Some(detail.into());
        self
    }
    /// Adds a detail when there is one.
    pub fn maybe_detail(mut self, detail: Option<String>) -> AuditAs {
        self.detail = detail;
        self
    }
}

/// Proof that the actor was allowed `action` on one person's record in this transaction.
/// Made only by [`Tx::person`]; not `Clone`, and its fields are private.
#[derive(Debug)]
pub struct PersonGrant {
    org: OrgId,
    person: PersonId,
    action: Action,
    relation: PersonRelation,
}

impl PersonGrant {
    pub fn org(&self) -> OrgId {
        self.org
    }
    pub fn person(&self) -> PersonId {
        self.person
    }
    pub fn action(&self) -> Action {
        self.action
    }
    /// The relationship facts the decision was made on.
    pub fn relation(&self) -> PersonRelation {
        self.relation
    }
}

/// Proof that the actor was allowed an organisation-wide `action`.
#[derive(Debug)]
pub struct OrgGrant {
    org: OrgId,
    action: Action,
}

impl OrgGrant {
    pub fn org(&self) -> OrgId {
        self.org
    }
    pub fn action(&self) -> Action {
        self.action
    }
}

/// Proof that the actor was allowed `action` at one peer-support session.
#[derive(Debug)]
pub struct SessionGrant {
    org: OrgId,
    group: GroupId,
    date: time::Date,
}

impl SessionGrant {
    pub fn org(&self) -> OrgId {
        self.org
    }
    pub fn group(&self) -> GroupId {
        self.group
    }
    pub fn date(&self) -> time::Date {
        self.date
    }
}

/// A use case's transaction: the connection, who is acting, through which door, and the
/// clock's "now" for the whole use case.
pub struct Tx<'c> {
    conn: &'c mut AnyConnection,
    actor: Actor,
    source: Source,
    now: i64,
    /// Audit entries kept even when the use case fails (refusals).
    kept: Vec<AuditEvent>,
}

impl<'c> Tx<'c> {
    /// The transaction's connection, for the use case's own queries.
    pub fn conn(&mut self) -> &mut AnyConnection {
        self.conn
    }
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    pub fn org(&self) -> OrgId {
        self.actor.org_id
    }
    pub fn source(&self) -> &Source {
        &self.source
    }
    /// The clock's time when the use case started (microseconds, UTC).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// An audit event of this actor, about `person` when given.
    pub fn event(&self, outcome: Outcome, person: Option<PersonId>, a: AuditAs) -> AuditEvent {
        AuditEvent {
            org_id: self.actor.org_id,
            actor_user_id: Some(self.actor.user_id),
            actor_role: Some(self.actor.role),
            action: a.action,
            outcome,
            resource_type: a.resource_type,
            resource_id: a.resource_id,
            person_id: person,
            source: self.source.0.clone(),
            detail: a.detail,
        }
    }

    /// Audits a refusal (kept even though the use case fails) and returns the error to give.
    fn refuse(&mut self, person: Option<PersonId>, a: AuditAs, reason: &'static str) -> StoreError {
        let a = a.detail(reason);
        let e = self.event(Outcome::Refused, person, a);
        self.kept.push(e);
        StoreError::Refused(reason)
    }

    /// Records a refusal that is not an access decision (e.g. a save based on an out-of-date
    /// version): the entry is committed even though the use case then fails with `error`.
    pub fn refused(
        &mut self,
        person: Option<PersonId>,
        a: AuditAs,
        error: StoreError,
    ) -> StoreError {
        let e = self.event(Outcome::Refused, person, a);
        self.kept.push(e);
        error
    }

    /// Decides `action` on `person`'s record, with the relationship facts loaded from the data.
    /// Allowed: a grant (the caller audits what it then reads or changes, with
    /// [`Tx::log`]). Refused: audited as `audit` and `Err(Refused)`. Not in the
    /// organisation: audited and `Err(NotFound)`.
    pub async fn person(
        &mut self,
        action: Action,
        person: PersonId,
        audit: AuditAs,
    ) -> Result<PersonGrant> {
        let Some(relation) = person_relation(self.conn, &self.actor, action, person).await? else {
            let a = audit.on("person", Some(person.as_text()));
            let _ = self.refuse(None, a, "no such record in this organisation");
            return Err(StoreError::NotFound);
        };
        let d = decide(&self.actor, action, Target::Person(relation));
        if !d.allowed {
            return Err(self.refuse(Some(person), audit, d.reason));
        }
        Ok(PersonGrant {
            org: self.actor.org_id,
            person,
            action,
            relation,
        })
    }

    /// [`Tx::person`], auditing the allowed decision too (for reads whose entry needs nothing
    /// from the data read).
    pub async fn person_audited(
        &mut self,
        action: Action,
        person: PersonId,
        audit: AuditAs,
    ) -> Result<PersonGrant> {
        let grant = self.person(action, person, audit.clone()).await?;
        self.log(&grant, audit).await?;
        Ok(grant)
    }

    /// Whether the actor may also take `other` on the person of `grant` (what a page may
    /// offer), decided on the facts already loaded. Not audited: nothing is read or changed.
    pub async fn also_may(&mut self, grant: &PersonGrant, other: Action) -> Result<bool> {
        let (have, need) = (
            facts_needed(self.actor.role, grant.action),
            facts_needed(self.actor.role, other),
        );
        let loaded = (have.caseload || !need.caseload)
            && (have.session || !need.session)
            && (have.course || !need.course);
        let rel = if loaded {
            grant.relation
        } else {
            match person_relation(self.conn, &self.actor, other, grant.person).await? {
                Some(r) => r,
                None => return Ok(false),
            }
        };
        Ok(decide(&self.actor, other, Target::Person(rel)).allowed)
    }

    /// Decides an organisation-wide `action`; a refusal is audited as `audit`.
    pub fn org_action(&mut self, action: Action, audit: AuditAs) -> Result<OrgGrant> {
        let d = decide(&self.actor, action, Target::Org(self.actor.org_id));
        if !d.allowed {
            return Err(self.refuse(None, audit, d.reason));
        }
        Ok(OrgGrant {
            org: self.actor.org_id,
            action,
        })
    }

    /// Decides `action` at one peer-support session (the door), with the rota looked up.
    pub async fn session(
        &mut self,
        action: Action,
        group: GroupId,
        date: time::Date,
        audit: AuditAs,
    ) -> Result<SessionGrant> {
        let d = session_decision(self.conn, &self.actor, action, group, date).await?;
        if !d.allowed {
            return Err(self.refuse(None, audit, d.reason));
        }
        Ok(SessionGrant {
            org: self.actor.org_id,
            group,
            date,
        })
    }

    /// Decides `action` on a coaching referral, with its allocation looked up. The referral
    /// must exist (`NotFound` otherwise, unaudited: it names no one).
    pub async fn referral(
        &mut self,
        action: Action,
        referral: ReferralId,
        audit: AuditAs,
    ) -> Result<PersonGrant> {
        let row = sqlx::query(
            "SELECT person_id, coach_id FROM coaching_referrals WHERE org_id = $1 AND id = $2",
        )
        .bind(self.actor.org_id.as_text())
        .bind(referral.as_text())
        .fetch_optional(&mut *self.conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        use sqlx::Row;
        let person: PersonId = crate::users::parse_uuid(&row.try_get::<String, _>("person_id")?)?;
        let coach: Option<String> = row.try_get("coach_id")?;
        // The coach a referral names decides it; whether it still waits for their decision
        // is the use case's to check (and to tell them, rather than refuse them).
        let rel = ReferralRelation {
            org_id: self.actor.org_id,
            person_id: person,
            allocated_to_actor: coach.as_deref() == Some(self.actor.user_id.as_text().as_str()),
        };
        let d = decide(&self.actor, action, Target::Referral(rel));
        if !d.allowed {
            return Err(self.refuse(Some(person), audit, d.reason));
        }
        Ok(PersonGrant {
            org: self.actor.org_id,
            person,
            action,
            relation: PersonRelation::none(self.actor.org_id, person),
        })
    }

    /// Appends the audit entry for what was read or changed under `grant`, in this
    /// transaction (rolled back with the use case's work if it then fails).
    pub async fn log(&mut self, grant: &PersonGrant, a: AuditAs) -> Result<()> {
        let e = self.event(Outcome::Allowed, Some(grant.person), a);
        audit::append(self.conn, &e).await?;
        Ok(())
    }

    /// Appends the audit entry for organisation-wide work under `grant` (about `person` when
    /// the work names one).
    pub async fn log_org(
        &mut self,
        _grant: &OrgGrant,
        person: Option<PersonId>,
        a: AuditAs,
    ) -> Result<()> {
        let e = self.event(Outcome::Allowed, person, a);
        audit::append(self.conn, &e).await?;
        Ok(())
    }

    /// Appends the audit entry for work at a session under `grant`.
    pub async fn log_session(
        &mut self,
        _grant: &SessionGrant,
        person: Option<PersonId>,
        a: AuditAs,
    ) -> Result<()> {
        let e = self.event(Outcome::Allowed, person, a);
        audit::append(self.conn, &e).await?;
        Ok(())
    }
}

/// An organisation-wide decision for `actor` (no facts to load): what a use case asks when an
/// organisation-wide action changes what it does (e.g. booking beyond the session maximum),
/// or what a non-personal read checks. Not audited by itself.
pub fn org_decision(actor: &Actor, action: Action) -> Decision {
    decide(actor, action, Target::Org(actor.org_id))
}

/// The actor's relationship to a person, loaded from the data: `None` when the person is not
/// in the actor's organisation. Only the facts the decision reads are looked up
/// (`access::facts_needed`).
pub(crate) async fn person_relation(
    c: &mut AnyConnection,
    actor: &Actor,
    action: Action,
    person: PersonId,
) -> Result<Option<PersonRelation>> {
    let org = actor.org_id.as_text();
    let pid = person.as_text();
    let exists = sqlx::query("SELECT 1 AS one FROM people WHERE org_id = $1 AND id = $2")
        .bind(&org)
        .bind(&pid)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    if !exists {
        return Ok(None);
    }
    let needed = facts_needed(actor.role, action);
    let me = actor.user_id.as_text();
    let mut rel = PersonRelation::none(actor.org_id, person);
    if needed.caseload {
        rel.on_caseload = sqlx::query(
            "SELECT 1 AS one FROM caseload WHERE org_id = $1 AND coach_id = $2 AND person_id = $3",
        )
        .bind(&org)
        .bind(&me)
        .bind(&pid)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    }
    if needed.course {
        rel.facilitates_course = sqlx::query(
            "SELECT 1 AS one FROM edu_enrolments e JOIN edu_facilitators f ON f.org_id = e.org_id AND f.run_id = e.run_id \
             WHERE e.org_id = $1 AND e.person_id = $2 AND f.user_id = $3 AND e.status IN ('enrolled', 'waiting')",
        )
        .bind(&org)
        .bind(&pid)
        .bind(&me)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    }
    if needed.session {
        rel.helps_at_session = sqlx::query(
            "SELECT 1 AS one FROM rota_entries r \
             JOIN group_sessions s ON s.org_id = r.org_id AND s.group_id = r.group_id AND s.original_date = r.session_date \
             WHERE r.org_id = $1 AND r.user_id = $2 AND ( \
               EXISTS (SELECT 1 FROM session_attendance a WHERE a.org_id = s.org_id AND a.session_id = s.id AND a.person_id = $3) \
               OR EXISTS (SELECT 1 FROM session_bookings b WHERE b.org_id = s.org_id AND b.session_id = s.id AND b.person_id = $3 AND b.status = 'booked'))",
        )
        .bind(&org)
        .bind(&me)
        .bind(&pid)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    }
    Ok(Some(rel))
}

/// Whether the actor may take `action` at this session: the rota looked up for volunteers.
pub(crate) async fn session_decision(
    c: &mut AnyConnection,
    actor: &Actor,
    action: Action,
    group: GroupId,
    date: time::Date,
) -> Result<Decision> {
    let on_rota = actor.role == alongside_core::Role::Volunteer
        && sqlx::query("SELECT 1 AS one FROM rota_entries WHERE org_id = $1 AND group_id = $2 AND session_date = $3 AND user_id = $4")
            .bind(actor.org_id.as_text())
            .bind(group.as_text())
            .bind(iso_date(date))
            .bind(actor.user_id.as_text())
            .fetch_optional(&mut *c)
            .await?
            .is_some();
    Ok(decide(
        actor,
        action,
        Target::Session(SessionRelation {
            org_id: actor.org_id,
            on_rota,
        }),
    ))
}

/// A use case: given the transaction, read or change data under grants from [`Tx`].
pub trait UseCase<T>:
    for<'t, 'c> Fn(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T>> + Send + Sync + 'static
{
}
impl<T, F> UseCase<T> for F where
    F: for<'t, 'c> Fn(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T>> + Send + Sync + 'static
{
}

impl Store {
    /// Runs `use_case` as `actor` in one write transaction (grouped with others by the
    /// writer) and returns once it is durably committed. A refusal's audit entry is committed
    /// even though the use case fails; everything else the use case wrote is rolled back when
    /// it fails. May run more than once (PostgreSQL serialization failures).
    pub async fn write_as<T, F>(&self, actor: &Actor, source: &Source, use_case: F) -> Result<T>
    where
        T: Send + 'static,
        F: UseCase<T>,
    {
        let actor = actor.clone();
        let source = source.clone();
        let clock = self.clock().clone();
        let use_case = Arc::new(use_case);
        self.write(move |c| {
            let (actor, source, use_case) = (actor.clone(), source.clone(), use_case.clone());
            let now = clock.now_micros();
            Box::pin(async move {
                c.execute("SAVEPOINT use_case").await?;
                let mut tx = Tx {
                    conn: c,
                    actor,
                    source,
                    now,
                    kept: Vec::new(),
                };
                let result = use_case(&mut tx).await;
                let Tx { conn: c, kept, .. } = tx;
                match result {
                    Ok(v) => {
                        c.execute("RELEASE use_case").await?;
                        for e in &kept {
                            audit::append(c, e).await?;
                        }
                        Ok(Ok(v))
                    }
                    // The whole job runs again; its refusals will be decided again.
                    Err(e) if e.is_retryable() => Err(e),
                    Err(e) => {
                        c.execute("ROLLBACK TO use_case").await?;
                        c.execute("RELEASE use_case").await?;
                        for ev in &kept {
                            audit::append(c, ev).await?;
                        }
                        Ok(Err(e))
                    }
                }
            })
        })
        .await?
    }

    /// A use case that reads a person's data: the same as [`Store::write_as`] (the read and
    /// its audit entry commit together), named for what it does.
    pub async fn read_as<T, F>(&self, actor: &Actor, source: &Source, use_case: F) -> Result<T>
    where
        T: Send + 'static,
        F: UseCase<T>,
    {
        self.write_as(actor, source, use_case).await
    }

    /// Decides `action` on `person` before a page does its own work (e.g. checks a form): a
    /// refusal (or an unknown person) is audited as `audit` and returned; an allowed decision
    /// writes nothing, because the use case that follows decides again and audits what it
    /// does.
    pub async fn authorise_person(
        &self,
        actor: &Actor,
        action: Action,
        person: PersonId,
        audit: AuditAs,
        source: &Source,
    ) -> Result<()> {
        self.write_as(actor, source, move |tx| {
            let audit = audit.clone();
            Box::pin(async move {
                tx.person(action, person, audit).await?;
                Ok(())
            })
        })
        .await
    }

    /// Decides an organisation-wide `action` for a page: a refusal is audited as `audit` and
    /// returned; an allowed decision writes nothing.
    pub async fn authorise_org(
        &self,
        actor: &Actor,
        action: Action,
        audit: AuditAs,
        source: &Source,
    ) -> Result<()> {
        let d = decide(actor, action, Target::Org(actor.org_id));
        if d.allowed {
            return Ok(());
        }
        self.write_as(actor, source, move |tx| {
            let audit = audit.clone();
            Box::pin(async move {
                tx.org_action(action, audit)?;
                Ok(())
            })
        })
        .await
    }

    /// Whether `actor` may take `action` on `person` (what a page may offer, e.g. an "Edit"
    /// link), decided by `access::decide` on facts loaded from the data. Not audited: nothing
    /// is read or changed; the use case behind the link decides and audits again.
    pub async fn may(&self, actor: &Actor, action: Action, person: PersonId) -> Result<bool> {
        let mut c = self.reader().acquire().await?;
        Ok(
            match person_relation(&mut c, actor, action, person).await? {
                Some(rel) => decide(actor, action, Target::Person(rel)).allowed,
                None => false,
            },
        )
    }
}
