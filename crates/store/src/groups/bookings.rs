//! Membership and bookings: a person's own place in a group ([`OwnPlace`]), joining a group,
//! taking and releasing a booked place at a session (at most the places not held back for
//! walk-ins, one per person; also used by staff booking on someone's behalf in `rota.rs`), and
//! the account's own record that a person books under.

use super::catalogue::load_group;
use super::sessions::{ensure_session, load_session, session_resource};
use crate::door::{AuditAs, PersonGrant, Tx};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::time::iso_date;
use alongside_core::{GroupId, OrgId, PersonId};
use sqlx::{AnyConnection, Row};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    Booked,
    AlreadyBooked,
    Full,
    Cancelled,
    Past,
}

/// A person's own place in a group, for their own pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnPlace {
    pub member: bool,
    /// They hold a booking for the session asked about.
    pub booked: bool,
}

/// The grant for the account's own record, to join groups and book or cancel places for
/// themselves (`BookGroups`, decided by the door). An account with no record is refused,
/// audited as `audit`, with `no_record`.
async fn own_record(
    tx: &mut Tx<'_>,
    audit: AuditAs,
    no_record: &'static str,
) -> Result<PersonGrant> {
    let Some(pid) = tx.actor().person_id else {
        let a = audit.detail("account has no record");
        return Err(tx.refused(None, a, StoreError::Refused(no_record)));
    };
    tx.person(Action::BookGroups, pid, audit).await
}

impl Store {
    /// The actor's own place in a group — a member? — and, for `session`, whether they hold a
    /// booking there: for a person's own account (`BookGroups` on their own record, decided by
    /// the door; anyone else is refused, audited). Like the session page it serves, reading one's
    /// own place is not itself audited.
    pub async fn own_place(
        &self,
        actor: &Actor,
        group: GroupId,
        session: Option<Date>,
        source: Source,
    ) -> Result<OwnPlace> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit =
                    AuditAs::new(AuditAction::AttendanceRead).on("group", Some(group.as_text()));
                let grant = own_record(
                    tx,
                    audit,
                    "only a person's own account has a place in a group",
                )
                .await?;
                let member = member_groups(tx.conn(), &grant).await?.contains(&group);
                let booked = match session {
                    Some(d) => booking_held(tx.conn(), &grant, group, d).await?,
                    None => false,
                };
                Ok(OwnPlace { member, booked })
            })
        })
        .await
    }

    /// A person joins a group (their own account); joining twice changes nothing.
    pub async fn join_group(&self, actor: &Actor, group: GroupId, source: Source) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit =
                    AuditAs::new(AuditAction::GroupJoined).on("group", Some(group.as_text()));
                let grant = own_record(
                    tx,
                    audit.clone(),
                    "only a person's own account joins groups",
                )
                .await?;
                if load_group(tx.conn(), grant.org(), group).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let now = tx.now();
                join(tx.conn(), &grant, group, now).await?;
                tx.log(&grant, audit).await?;
                Ok(())
            })
        })
        .await
    }

    /// Adds a person to a group without an actor (demo data and fixtures).
    pub async fn add_group_member_unaudited(
        &self,
        org: OrgId,
        group: GroupId,
        person: PersonId,
    ) -> Result<()> {
        let now = self.now();
        self.write(move |c| {
            Box::pin(async move { insert_member(c, org, group, person, now).await })
        })
        .await
    }

    /// Books the person's own place at a session (joining the group if need be). At most
    /// `capacity − walk_in_places` places are ever booked, and never more than are free.
    pub async fn book_group_session(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        today: Date,
        source: Source,
    ) -> Result<BookOutcome> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::GroupSessionBooked)
                    .on("group_session", session_resource(group, original));
                let grant = own_record(
                    tx,
                    audit.clone(),
                    "only a person's own account books sessions",
                )
                .await?;
                let now = tx.now();
                let booked = take_place(tx.conn(), &grant, group, original, today, now).await?;
                if booked == BookOutcome::Booked {
                    tx.log(&grant, audit).await?;
                }
                Ok(booked)
            })
        })
        .await
    }

    /// Cancels the person's own booking (before they are signed in), freeing the place.
    /// Returns whether there was a booking to cancel.
    pub async fn cancel_group_booking(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        source: Source,
    ) -> Result<bool> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::BookingCancelled)
                    .on("group_session", session_resource(group, original));
                let grant = own_record(
                    tx,
                    audit.clone(),
                    "only a person's own account cancels bookings",
                )
                .await?;
                let now = tx.now();
                let released = release_place(tx.conn(), &grant, group, original, now).await?;
                if released {
                    tx.log(&grant, audit).await?;
                }
                Ok(released)
            })
        })
        .await
    }
}

/// The groups the person of `grant` belongs to, by id.
pub(super) async fn member_groups(
    c: &mut AnyConnection,
    grant: &PersonGrant,
) -> Result<Vec<GroupId>> {
    let (org, person) = (grant.org(), grant.person());
    sqlx::query(
        "SELECT group_id FROM group_members WHERE org_id = $1 AND person_id = $2 ORDER BY group_id",
    )
    .bind(org.as_text())
    .bind(person.as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| parse_uuid(&r.try_get::<String, _>("group_id")?))
    .collect()
}

/// Whether the person of `grant` holds a booking for the session.
async fn booking_held(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    group: GroupId,
    original: Date,
) -> Result<bool> {
    let (org, person) = (grant.org(), grant.person());
    Ok(sqlx::query("SELECT 1 AS one FROM session_bookings b JOIN group_sessions s ON s.org_id = b.org_id AND s.id = b.session_id WHERE b.org_id = $1 AND s.group_id = $2 AND s.original_date = $3 AND b.person_id = $4 AND b.status = 'booked'")
        .bind(org.as_text()).bind(group.as_text()).bind(iso_date(original)).bind(person.as_text())
        .fetch_optional(&mut *c).await?.is_some())
}

/// Makes `person` a member of the group (stamped `now`); a member already stays one.
async fn insert_member(
    c: &mut AnyConnection,
    org: OrgId,
    group: GroupId,
    person: PersonId,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO group_members (org_id, group_id, person_id, joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, group_id, person_id) DO NOTHING")
        .bind(org.as_text())
        .bind(group.as_text())
        .bind(person.as_text())
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The person of `grant` joins the group.
async fn join(c: &mut AnyConnection, grant: &PersonGrant, group: GroupId, now: i64) -> Result<()> {
    insert_member(c, grant.org(), group, grant.person(), now).await
}

/// Takes a booked place at a session for the person of `grant` (joining the group if need
/// be): at most `capacity − walk_in_places` places are ever booked, never more than are free,
/// and one booking per person. Used by a person booking for themselves and by staff booking on
/// their behalf (`rota.rs`).
pub(crate) async fn take_place(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    group: GroupId,
    original: Date,
    today: Date,
    now: i64,
) -> Result<BookOutcome> {
    let (org_id, pid) = (grant.org(), grant.person());
    let org = org_id.as_text();
    let Some(g) = load_group(c, org_id, group).await? else {
        return Err(StoreError::NotFound);
    };
    let Some((sid, s)) = ensure_session(c, &g, original, now).await? else {
        return Err(StoreError::NotFound);
    };
    if s.cancelled {
        return Ok(BookOutcome::Cancelled);
    }
    if s.date < today {
        return Ok(BookOutcome::Past);
    }
    let existing: Option<String> = sqlx::query("SELECT status FROM session_bookings WHERE org_id = $1 AND session_id = $2 AND person_id = $3")
            .bind(&org).bind(&sid).bind(pid.as_text()).fetch_optional(&mut *c).await?
            .map(|r| r.try_get("status")).transpose()?;
    if existing.as_deref() == Some("booked") {
        return Ok(BookOutcome::AlreadyBooked);
    }
    // The capacity guarantee: one conditional update of the session's booked places.
    let took = sqlx::query("UPDATE group_sessions SET booked = booked + 1, updated_at = $1 WHERE org_id = $2 AND id = $3 AND booked + walk_in_places < capacity AND booked + walk_ins < capacity RETURNING booked")
            .bind(now).bind(&org).bind(&sid).fetch_optional(&mut *c).await?;
    if took.is_none() {
        return Ok(BookOutcome::Full);
    }
    if existing.is_some() {
        sqlx::query("UPDATE session_bookings SET status = 'booked', booked_at = $1, cancelled_at = NULL WHERE org_id = $2 AND session_id = $3 AND person_id = $4")
                .bind(now).bind(&org).bind(&sid).bind(pid.as_text()).execute(&mut *c).await?;
    } else {
        sqlx::query("INSERT INTO session_bookings (org_id, id, session_id, person_id, status, booked_at, cancelled_at) VALUES ($1, $2, $3, $4, 'booked', $5, NULL)")
                .bind(&org).bind(uuid::Uuid::now_v7().to_string()).bind(&sid).bind(pid.as_text()).bind(now)
                .execute(&mut *c).await?;
    }
    join(c, grant, group, now).await?;
    Ok(BookOutcome::Booked)
}

/// Cancels the booking of the person of `grant` (before they are signed in), freeing the
/// place. `Ok(false)` when there was no booking to cancel; not found when the rule gives no
/// session that day.
pub(crate) async fn release_place(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    group: GroupId,
    original: Date,
    now: i64,
) -> Result<bool> {
    let (org_id, pid) = (grant.org(), grant.person());
    let org = org_id.as_text();
    let Some(g) = load_group(c, org_id, group).await? else {
        return Err(StoreError::NotFound);
    };
    let Some((sid, _)) = load_session(c, org_id, group, original).await? else {
        return if g.details.is_occurrence(original) {
            Ok(false)
        } else {
            Err(StoreError::NotFound)
        };
    };
    if sqlx::query("SELECT 1 AS one FROM session_attendance WHERE org_id = $1 AND session_id = $2 AND person_id = $3")
        .bind(&org).bind(&sid).bind(pid.as_text()).fetch_optional(&mut *c).await?.is_some()
    {
        return Err(StoreError::Conflict("You have already been signed in to this session, so the booking cannot be cancelled.".into()));
    }
    let n = sqlx::query("UPDATE session_bookings SET status = 'cancelled', cancelled_at = $1 WHERE org_id = $2 AND session_id = $3 AND person_id = $4 AND status = 'booked'")
        .bind(now).bind(&org).bind(&sid).bind(pid.as_text()).execute(&mut *c).await?.rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE group_sessions SET booked = booked - 1, updated_at = $1 WHERE org_id = $2 AND id = $3 AND booked > 0")
        .bind(now).bind(&org).bind(&sid).execute(&mut *c).await?;
    Ok(true)
}
