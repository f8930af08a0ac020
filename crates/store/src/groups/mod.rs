//! Peer support: groups, their sessions (materialised only when touched), door sign-in with a
//! capacity guarantee, membership, bookings with places held back for walk-ins, and attendance.
//!
//! The capacity guarantee: every admission is one conditional `UPDATE group_sessions SET
//! walk_ins = walk_ins + 1 ... WHERE ... AND walk_ins + booked < capacity RETURNING ...` inside
//! the same `Store::write_as` transaction as the attendance row and its audit entry. On SQLite the
//! writer runs one transaction at a time; on PostgreSQL the UPDATE takes the session row's lock
//! and re-checks the condition on the committed row (READ COMMITTED), so concurrent writers —
//! this instance's or another's — can never admit more than `capacity`. A booked place is
//! reserved in the same counters (`booked`), so arrivals with a booking always get in.
//!
//! Every use case runs through the door (`Store::write_as`): group and session changes under an
//! organisation grant (`ManageGroups`), the door under a session grant (`SignInAtDoor`, a
//! volunteer only at the sessions they are on the rota for), a person's bookings and
//! attendance under a grant for that person. This module never decides access itself.

use crate::door::{AuditAs, PersonGrant, Tx};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::groups::{ClockTime, GroupDetails, GroupKind, Mode};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{GroupId, OrgId, PersonId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub org_id: OrgId,
    pub id: GroupId,
    pub details: GroupDetails,
    pub active: bool,
    pub version: i64,
}

/// One session of a group: stored if it has been touched, otherwise as the rule gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub group_id: GroupId,
    /// The date the rule gave it: the session's key.
    pub original_date: Date,
    /// When it happens (differs after a one-off move).
    pub date: Date,
    pub start: ClockTime,
    pub end: ClockTime,
    pub cancelled: bool,
    pub note: Option<String>,
    pub capacity: u32,
    pub walk_in_places: u32,
    pub booked: u32,
    pub walk_ins: u32,
    pub signed_in: u32,
}

impl SessionState {
    /// No more walk-ins can be admitted (booked places still arriving are kept for them).
    pub fn full(&self) -> bool {
        self.walk_ins + self.booked >= self.capacity
    }
    /// Places left that may be booked ahead.
    pub fn bookable_left(&self) -> u32 {
        let by_booking = self.capacity.saturating_sub(self.walk_in_places);
        by_booking
            .saturating_sub(self.booked)
            .min(self.capacity.saturating_sub(self.booked + self.walk_ins))
    }
    pub fn moved(&self) -> bool {
        self.date != self.original_date
    }
}

/// Someone at the door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorEntry {
    /// A member of the group or someone with a booking, picked from the search.
    Person(PersonId),
    /// A walk-in known by first name, with optional contact details.
    WalkIn {
        first_name: String,
        contact: Option<String>,
    },
}

/// What happened at the door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    Admitted {
        attendance_id: String,
        first_name: String,
        signed_in: u32,
        capacity: u32,
    },
    /// Every place is taken; nothing was written.
    Full {
        capacity: u32,
    },
    AlreadySignedIn {
        first_name: String,
    },
    Cancelled,
}

/// The door page's facts: the live count, who is in (first names), and search matches.
#[derive(Debug, Clone)]
pub struct DoorView {
    pub group_name: String,
    pub session: SessionState,
    /// First names of the people signed in, newest first, with whether they walked in.
    pub attendees: Vec<(String, String, bool)>,
    /// People matching the search: (id, first name, has a booking, already signed in).
    pub matches: Vec<(PersonId, String, bool, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    Booked,
    AlreadyBooked,
    Full,
    Cancelled,
    Past,
}

/// Something a person has coming up (groups now; courses can add their own kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    pub date: Date,
    pub start: ClockTime,
    pub end: ClockTime,
    pub title: String,
    pub link: String,
    pub booked: bool,
    pub where_: String,
}

/// One line of a person's attendance history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceItem {
    pub date: Date,
    pub group_id: GroupId,
    pub group_name: String,
    pub had_booking: bool,
}

const GROUP_COLUMNS: &str = "org_id, id, name, description, kind, peer_leader, focus, interest, mode, venue, place, joining_details, who_may_join, code_of_conduct, first_date, start_time, end_time, rrule, closures, capacity, walk_in_places, attendees_per_volunteer, required_training, active, version";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("bad stored {what}"))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn group_from_row(r: &AnyRow) -> Result<GroupRow> {
    let date = |k: &str| -> Result<Date> {
        let s: String = r.try_get(k)?;
        parse_iso_date(&s).ok_or_else(|| corrupt(k))
    };
    let clock = |k: &str| -> Result<ClockTime> {
        let s: String = r.try_get(k)?;
        ClockTime::parse(&s).ok_or_else(|| corrupt(k))
    };
    let closures: String = r.try_get("closures")?;
    Ok(GroupRow {
        org_id: parse_uuid(&r.try_get::<String, _>("org_id")?)?,
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        active: r.try_get::<i64, _>("active")? != 0,
        version: r.try_get("version")?,
        details: GroupDetails {
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            kind: GroupKind::parse(&r.try_get::<String, _>("kind")?)
                .ok_or_else(|| corrupt("kind"))?,
            peer_leader: r.try_get("peer_leader")?,
            focus: r.try_get("focus")?,
            interest: r.try_get("interest")?,
            mode: Mode::parse(&r.try_get::<String, _>("mode")?).ok_or_else(|| corrupt("mode"))?,
            venue: r.try_get("venue")?,
            place: r.try_get("place")?,
            joining_details: r.try_get("joining_details")?,
            who_may_join: r.try_get("who_may_join")?,
            code_of_conduct: r.try_get("code_of_conduct")?,
            first_date: date("first_date")?,
            start_time: clock("start_time")?,
            end_time: clock("end_time")?,
            rrule: r.try_get("rrule")?,
            closures: split_list(&closures)
                .iter()
                .map(|d| parse_iso_date(d).ok_or_else(|| corrupt("closures")))
                .collect::<Result<_>>()?,
            capacity: r.try_get::<i64, _>("capacity")? as u32,
            walk_in_places: r.try_get::<i64, _>("walk_in_places")? as u32,
            attendees_per_volunteer: r.try_get::<i64, _>("attendees_per_volunteer")? as u32,
            required_training: split_list(&r.try_get::<String, _>("required_training")?),
        },
    })
}

const SESSION_COLUMNS: &str = "id, group_id, original_date, session_date, start_time, end_time, status, note, capacity, walk_in_places, booked, walk_ins, signed_in";

fn session_from_row(r: &AnyRow) -> Result<(String, SessionState)> {
    let date = |k: &str| -> Result<Date> {
        let s: String = r.try_get(k)?;
        parse_iso_date(&s).ok_or_else(|| corrupt(k))
    };
    let clock = |k: &str| -> Result<ClockTime> {
        let s: String = r.try_get(k)?;
        ClockTime::parse(&s).ok_or_else(|| corrupt(k))
    };
    let n = |k: &str| -> Result<u32> { Ok(r.try_get::<i64, _>(k)? as u32) };
    Ok((
        r.try_get("id")?,
        SessionState {
            group_id: parse_uuid(&r.try_get::<String, _>("group_id")?)?,
            original_date: date("original_date")?,
            date: date("session_date")?,
            start: clock("start_time")?,
            end: clock("end_time")?,
            cancelled: r.try_get::<String, _>("status")? == "cancelled",
            note: r.try_get("note")?,
            capacity: n("capacity")?,
            walk_in_places: n("walk_in_places")?,
            booked: n("booked")?,
            walk_ins: n("walk_ins")?,
            signed_in: n("signed_in")?,
        },
    ))
}

/// The session as the rule gives it, before anything is stored.
pub(crate) fn unstored(g: &GroupRow, date: Date) -> SessionState {
    SessionState {
        group_id: g.id,
        original_date: date,
        date,
        start: g.details.start_time,
        end: g.details.end_time,
        cancelled: false,
        note: None,
        capacity: g.details.capacity,
        walk_in_places: g.details.walk_in_places,
        booked: 0,
        walk_ins: 0,
        signed_in: 0,
    }
}

/// A person's own place in a group, for their own pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnPlace {
    pub member: bool,
    /// They hold a booking for the session asked about.
    pub booked: bool,
}

/// How the audit log names a session: the group and the date the rule gave it.
fn session_resource(group: GroupId, original: Date) -> Option<String> {
    Some(format!("{group}/{}", iso_date(original)))
}

pub(crate) async fn load_group(
    c: &mut AnyConnection,
    org: OrgId,
    id: GroupId,
) -> Result<Option<GroupRow>> {
    let row = sqlx::query(&format!(
        "SELECT {GROUP_COLUMNS} FROM peer_groups WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(group_from_row).transpose()
}

pub(crate) async fn load_session(
    c: &mut AnyConnection,
    org: OrgId,
    group: GroupId,
    original: Date,
) -> Result<Option<(String, SessionState)>> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM group_sessions WHERE org_id = $1 AND group_id = $2 AND original_date = $3"
    ))
    .bind(org.as_text())
    .bind(group.as_text())
    .bind(iso_date(original))
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Sessions of a group whose rule date falls within `[from, to]`, stored ones as stored.
async fn load_sessions(
    c: &mut AnyConnection,
    g: &GroupRow,
    from: Date,
    to: Date,
) -> Result<Vec<SessionState>> {
    let stored: Vec<SessionState> = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM group_sessions WHERE org_id = $1 AND group_id = $2 AND original_date >= $3 AND original_date <= $4"
    ))
    .bind(g.org_id.as_text())
    .bind(g.id.as_text())
    .bind(iso_date(from))
    .bind(iso_date(to))
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| session_from_row(r).map(|(_, s)| s))
    .collect::<Result<_>>()?;
    let mut out: Vec<SessionState> = g
        .details
        .occurrences(from, to)
        .into_iter()
        .filter(|d| !stored.iter().any(|s| s.original_date == *d))
        .map(|d| unstored(g, d))
        .collect();
    out.extend(stored);
    out.sort_by_key(|s| (s.date, s.start, s.original_date));
    Ok(out)
}

/// One session by its rule date: stored, or as the rule gives it; `None` when the rule gives
/// no session that day.
async fn session_or_rule(
    c: &mut AnyConnection,
    g: &GroupRow,
    original: Date,
) -> Result<Option<SessionState>> {
    if let Some((_, s)) = load_session(c, g.org_id, g.id, original).await? {
        return Ok(Some(s));
    }
    Ok(g.details
        .is_occurrence(original)
        .then(|| unstored(g, original)))
}

/// The stored session for `original`, creating its row (stamped `now`) if the rule gives that
/// date. `None` when the date is not one of the group's sessions.
pub(crate) async fn ensure_session(
    c: &mut AnyConnection,
    g: &GroupRow,
    original: Date,
    now: i64,
) -> Result<Option<(String, SessionState)>> {
    if let Some(s) = load_session(c, g.org_id, g.id, original).await? {
        return Ok(Some(s));
    }
    if !g.details.is_occurrence(original) {
        return Ok(None);
    }
    sqlx::query("INSERT INTO group_sessions (org_id, id, group_id, original_date, session_date, start_time, end_time, status, note, capacity, walk_in_places, booked, walk_ins, signed_in, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4, $5, $6, 'scheduled', NULL, $7, $8, 0, 0, 0, $9, $9) ON CONFLICT (org_id, group_id, original_date) DO NOTHING")
        .bind(g.org_id.as_text())
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(g.id.as_text())
        .bind(iso_date(original))
        .bind(g.details.start_time.text())
        .bind(g.details.end_time.text())
        .bind(i64::from(g.details.capacity))
        .bind(i64::from(g.details.walk_in_places))
        .bind(now)
        .execute(&mut *c)
        .await?;
    load_session(c, g.org_id, g.id, original).await
}

async fn insert_or_update_group(
    c: &mut AnyConnection,
    org: OrgId,
    id: GroupId,
    d: &GroupDetails,
    expected_version: Option<i64>,
    now: i64,
) -> Result<bool> {
    let closures = d
        .closures
        .iter()
        .map(|x| iso_date(*x))
        .collect::<Vec<_>>()
        .join(",");
    let training = d.required_training.join(",");
    let insert_sql = format!("INSERT INTO peer_groups ({GROUP_COLUMNS}, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, 1, 1, $24, $24)");
    let q = match expected_version {
        None => sqlx::query(&insert_sql),
        Some(_) => sqlx::query("UPDATE peer_groups SET name = $3, description = $4, kind = $5, peer_leader = $6, focus = $7, interest = $8, mode = $9, venue = $10, place = $11, joining_details = $12, who_may_join = $13, code_of_conduct = $14, first_date = $15, start_time = $16, end_time = $17, rrule = $18, closures = $19, capacity = $20, walk_in_places = $21, attendees_per_volunteer = $22, required_training = $23, updated_at = $24, version = version + 1 WHERE org_id = $1 AND id = $2 AND version = $25"),
    };
    let q = q
        .bind(org.as_text())
        .bind(id.as_text())
        .bind(&d.name)
        .bind(&d.description)
        .bind(d.kind.code())
        .bind(&d.peer_leader)
        .bind(&d.focus)
        .bind(&d.interest)
        .bind(d.mode.code())
        .bind(&d.venue)
        .bind(&d.place)
        .bind(&d.joining_details)
        .bind(&d.who_may_join)
        .bind(&d.code_of_conduct)
        .bind(iso_date(d.first_date))
        .bind(d.start_time.text())
        .bind(d.end_time.text())
        .bind(&d.rrule)
        .bind(closures)
        .bind(i64::from(d.capacity))
        .bind(i64::from(d.walk_in_places))
        .bind(i64::from(d.attendees_per_volunteer))
        .bind(training)
        .bind(now);
    let q = match expected_version {
        Some(v) => q.bind(v),
        None => q,
    };
    Ok(q.execute(&mut *c).await?.rows_affected() == 1)
}

/// Search text for a first name: lower case, wildcard characters removed, then `%`.
fn name_prefix(q: &str) -> Option<String> {
    let q: String = q
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .take(50)
        .collect();
    (!q.is_empty()).then(|| format!("{q}%"))
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
    /// Creates a group if `actor` runs peer support; audited.
    pub async fn create_group(
        &self,
        actor: &Actor,
        details: GroupDetails,
        source: Source,
    ) -> Result<GroupId> {
        let id = GroupId::new();
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::GroupCreated).on("group", Some(id.as_text()));
                let g = tx.org_action(Action::ManageGroups, audit.clone())?;
                let now = tx.now();
                insert_or_update_group(tx.conn(), g.org(), id, &details, None, now).await?;
                tx.log_org(&g, None, audit).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Replaces a group's details if nobody changed it since `expected_version`. Stored future
    /// sessions take the new number of places unless more people already have one.
    pub async fn update_group(
        &self,
        actor: &Actor,
        id: GroupId,
        expected_version: i64,
        details: GroupDetails,
        today: Date,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::GroupUpdated).on("group", Some(id.as_text()));
                let g = tx.org_action(Action::ManageGroups, audit.clone())?;
                let now = tx.now();
                if load_group(tx.conn(), g.org(), id).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                if !insert_or_update_group(tx.conn(), g.org(), id, &details, Some(expected_version), now).await? {
                    return Err(StoreError::StaleVersion);
                }
                sqlx::query("UPDATE group_sessions SET capacity = $1, walk_in_places = $2, updated_at = $3 WHERE org_id = $4 AND group_id = $5 AND session_date >= $6 AND booked + walk_ins <= $1")
                    .bind(i64::from(details.capacity))
                    .bind(i64::from(details.walk_in_places))
                    .bind(now)
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(iso_date(today))
                    .execute(tx.conn())
                    .await?;
                tx.log_org(&g, None, audit).await?;
                Ok(())
            })
        })
        .await
    }

    /// A group of the organisation (listings name no one, so reads are not audited).
    pub async fn group(&self, org: OrgId, id: GroupId) -> Result<GroupRow> {
        let mut c = self.reader().acquire().await?;
        load_group(&mut c, org, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Every group of the organisation, by name.
    pub async fn groups(&self, org: OrgId) -> Result<Vec<GroupRow>> {
        sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM peer_groups WHERE org_id = $1 ORDER BY name, id"
        ))
        .bind(org.as_text())
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(group_from_row)
        .collect()
    }

    /// Sessions of a group whose rule date falls within `[from, to]`, stored ones as stored.
    pub async fn sessions(&self, g: &GroupRow, from: Date, to: Date) -> Result<Vec<SessionState>> {
        let mut c = self.reader().acquire().await?;
        load_sessions(&mut c, g, from, to).await
    }

    /// One session by its rule date; not found when the rule gives no session that day.
    pub async fn group_session(&self, g: &GroupRow, original: Date) -> Result<SessionState> {
        let mut c = self.reader().acquire().await?;
        session_or_rule(&mut c, g, original)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Cancels one session (`cancel`) or moves it to another date and time; audited.
    pub async fn change_session(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        change: SessionChange,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let change = change.clone();
            Box::pin(async move {
                let detail = match &change {
                    SessionChange::Cancel { .. } => "cancelled",
                    SessionChange::Move { .. } => "moved",
                    SessionChange::Reinstate => "reinstated",
                };
                let audit = AuditAs::new(AuditAction::GroupSessionChanged)
                    .on("group_session", session_resource(group, original))
                    .detail(detail);
                let grant = tx.org_action(Action::ManageGroups, audit.clone())?;
                let (org, now) = (grant.org(), tx.now());
                let Some(g) = load_group(tx.conn(), org, group).await? else {
                    return Err(StoreError::NotFound);
                };
                let Some((sid, _)) = ensure_session(tx.conn(), &g, original, now).await? else {
                    return Err(StoreError::NotFound);
                };
                match &change {
                    SessionChange::Cancel { note } => {
                        sqlx::query("UPDATE group_sessions SET status = 'cancelled', note = $1, updated_at = $2 WHERE org_id = $3 AND id = $4")
                            .bind(note).bind(now).bind(org.as_text()).bind(&sid)
                            .execute(tx.conn()).await?;
                    }
                    SessionChange::Reinstate => {
                        sqlx::query("UPDATE group_sessions SET status = 'scheduled', note = NULL, updated_at = $1 WHERE org_id = $2 AND id = $3")
                            .bind(now).bind(org.as_text()).bind(&sid)
                            .execute(tx.conn()).await?;
                    }
                    SessionChange::Move { date, start, end } => {
                        sqlx::query("UPDATE group_sessions SET session_date = $1, start_time = $2, end_time = $3, updated_at = $4 WHERE org_id = $5 AND id = $6")
                            .bind(iso_date(*date)).bind(start.text()).bind(end.text()).bind(now).bind(org.as_text()).bind(&sid)
                            .execute(tx.conn()).await?;
                    }
                }
                tx.log_org(&grant, None, audit).await?;
                Ok(())
            })
        })
        .await
    }

    /// The door page: live count, first names of those signed in and, for a search, first
    /// names of members and bookers. Nothing else about anyone. Audited as one view.
    pub async fn door_view(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        query: &str,
        source: Source,
    ) -> Result<DoorView> {
        let prefix = name_prefix(query);
        self.read_as(actor, &source, move |tx| {
            let prefix = prefix.clone();
            Box::pin(async move {
                let org = tx.org();
                let Some(g) = load_group(tx.conn(), org, group).await? else {
                    return Err(StoreError::NotFound);
                };
                // Volunteers only at the sessions they are on the rota for.
                let audit = AuditAs::new(AuditAction::DoorListRead)
                    .on("group_session", session_resource(group, original));
                let grant = tx
                    .session(Action::SignInAtDoor, group, original, audit.clone())
                    .await?;
                let (sid, session) = match load_session(tx.conn(), grant.org(), group, original).await? {
                    Some((id, s)) => (Some(id), s),
                    None if g.details.is_occurrence(original) => (None, unstored(&g, original)),
                    None => return Err(StoreError::NotFound),
                };
                let org = grant.org().as_text();
                let mut attendees = Vec::new();
                if let Some(sid) = &sid {
                    for r in sqlx::query("SELECT id, first_name, walk_in FROM session_attendance WHERE org_id = $1 AND session_id = $2 ORDER BY signed_in_at DESC, id DESC")
                        .bind(&org).bind(sid).fetch_all(tx.conn()).await?
                    {
                        attendees.push((r.try_get::<String, _>("id")?, r.try_get::<String, _>("first_name")?, r.try_get::<i64, _>("walk_in")? != 0));
                    }
                }
                let mut matches = Vec::new();
                if let Some(p) = &prefix {
                    let sid = sid.clone().unwrap_or_default();
                    let rows = sqlx::query(
                        "SELECT p.id, p.given_name, \
                           (SELECT COUNT(*) FROM session_bookings b WHERE b.org_id = p.org_id AND b.session_id = $3 AND b.person_id = p.id AND b.status = 'booked') AS booked, \
                           (SELECT COUNT(*) FROM session_attendance a WHERE a.org_id = p.org_id AND a.session_id = $3 AND a.person_id = p.id) AS here \
                         FROM people p \
                         WHERE p.org_id = $1 AND LOWER(p.given_name) LIKE $4 AND ( \
                           EXISTS (SELECT 1 FROM group_members m WHERE m.org_id = p.org_id AND m.group_id = $2 AND m.person_id = p.id) \
                           OR EXISTS (SELECT 1 FROM session_bookings b WHERE b.org_id = p.org_id AND b.session_id = $3 AND b.person_id = p.id AND b.status = 'booked')) \
                         ORDER BY p.given_name, p.id LIMIT 20")
                        .bind(&org).bind(group.as_text()).bind(&sid).bind(p)
                        .fetch_all(tx.conn()).await?;
                    for r in rows {
                        matches.push((
                            parse_uuid(&r.try_get::<String, _>("id")?)?,
                            r.try_get::<String, _>("given_name")?,
                            r.try_get::<i64, _>("booked")? > 0,
                            r.try_get::<i64, _>("here")? > 0,
                        ));
                    }
                }
                tx.log_session(&grant, None, audit).await?;
                Ok(DoorView { group_name: g.details.name.clone(), session, attendees, matches })
            })
        })
        .await
    }

    /// Signs someone in at the door. Exactly `capacity` people are ever admitted, however many
    /// devices sign people in at once; the rest are told the session is full and nothing is
    /// written for them.
    pub async fn door_sign_in(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        entry: DoorEntry,
        source: Source,
    ) -> Result<SignInOutcome> {
        self.write_as(actor, &source, move |tx| {
            let entry = entry.clone();
            Box::pin(async move {
                let person = match &entry {
                    DoorEntry::Person(p) => Some(*p),
                    DoorEntry::WalkIn { .. } => None,
                };
                let org = tx.org();
                let Some(g) = load_group(tx.conn(), org, group).await? else {
                    return Err(StoreError::NotFound);
                };
                // Volunteers only at the sessions they are on the rota for.
                let audit = AuditAs::new(AuditAction::DoorSignIn)
                    .on("group_session", session_resource(group, original));
                let grant = tx
                    .session(Action::SignInAtDoor, group, original, audit.clone())
                    .await?;
                let (org, now) = (grant.org().as_text(), tx.now());
                let Some((sid, session)) = ensure_session(tx.conn(), &g, original, now).await? else {
                    return Err(StoreError::NotFound);
                };
                if session.cancelled {
                    return Ok(SignInOutcome::Cancelled);
                }
                let (first_name, contact, has_booking) = match &entry {
                    DoorEntry::WalkIn { first_name, contact } => (first_name.clone(), contact.clone(), false),
                    DoorEntry::Person(pid) => {
                        let Some(r) = sqlx::query("SELECT given_name FROM people WHERE org_id = $1 AND id = $2")
                            .bind(&org).bind(pid.as_text()).fetch_optional(tx.conn()).await?
                        else {
                            return Err(StoreError::NotFound);
                        };
                        let first: String = r.try_get("given_name")?;
                        if sqlx::query("SELECT 1 AS one FROM session_attendance WHERE org_id = $1 AND session_id = $2 AND person_id = $3")
                            .bind(&org).bind(&sid).bind(pid.as_text()).fetch_optional(tx.conn()).await?.is_some()
                        {
                            return Ok(SignInOutcome::AlreadySignedIn { first_name: first });
                        }
                        let booked = sqlx::query("SELECT 1 AS one FROM session_bookings WHERE org_id = $1 AND session_id = $2 AND person_id = $3 AND status = 'booked'")
                            .bind(&org).bind(&sid).bind(pid.as_text()).fetch_optional(tx.conn()).await?.is_some();
                        let member = sqlx::query("SELECT 1 AS one FROM group_members WHERE org_id = $1 AND group_id = $2 AND person_id = $3")
                            .bind(&org).bind(group.as_text()).bind(pid.as_text()).fetch_optional(tx.conn()).await?.is_some();
                        if !booked && !member {
                            // Only members and bookers are offered at the door; anyone else
                            // comes in as a walk-in by first name.
                            return Err(StoreError::NotFound);
                        }
                        (first, None, booked)
                    }
                };
                // The capacity guarantee: one conditional update of the session's counters.
                let admitted = if has_booking {
                    sqlx::query("UPDATE group_sessions SET signed_in = signed_in + 1, updated_at = $1 WHERE org_id = $2 AND id = $3 RETURNING signed_in, capacity")
                        .bind(now).bind(&org).bind(&sid).fetch_optional(tx.conn()).await?
                } else {
                    sqlx::query("UPDATE group_sessions SET walk_ins = walk_ins + 1, signed_in = signed_in + 1, updated_at = $1 WHERE org_id = $2 AND id = $3 AND walk_ins + booked < capacity RETURNING signed_in, capacity")
                        .bind(now).bind(&org).bind(&sid).fetch_optional(tx.conn()).await?
                };
                let Some(row) = admitted else {
                    return Ok(SignInOutcome::Full { capacity: session.capacity });
                };
                let attendance_id = uuid::Uuid::now_v7().to_string();
                let by = tx.actor().user_id.as_text();
                sqlx::query("INSERT INTO session_attendance (org_id, id, session_id, person_id, first_name, walk_in, had_booking, contact, signed_in_at, signed_in_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&org).bind(&attendance_id).bind(&sid).bind(person.map(|p| p.as_text()))
                    .bind(&first_name).bind(i64::from(person.is_none())).bind(i64::from(has_booking))
                    .bind(&contact).bind(now).bind(by)
                    .execute(tx.conn()).await?;
                let kind = if person.is_some() { "member" } else { "walk-in" };
                tx.log_session(&grant, person, audit.detail(kind)).await?;
                Ok(SignInOutcome::Admitted {
                    attendance_id,
                    first_name,
                    signed_in: row.try_get::<i64, _>("signed_in")? as u32,
                    capacity: row.try_get::<i64, _>("capacity")? as u32,
                })
            })
        })
        .await
    }

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

    /// What the person has coming up from `today` for `days` days: their booked sessions, and
    /// the sessions of the groups they belong to. Audited as a read of their record.
    pub async fn upcoming_groups(
        &self,
        actor: &Actor,
        person: PersonId,
        today: Date,
        days: i64,
        source: Source,
    ) -> Result<Vec<Upcoming>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::AttendanceRead)
                    .on("person", Some(person.as_text()))
                    .detail("upcoming");
                let grant = tx
                    .person_audited(Action::ReadAttendance, person, audit)
                    .await?;
                upcoming(tx.conn(), &grant, today, days).await
            })
        })
        .await
    }

    /// A person's attendance history, newest first, if `actor` may see it; audited.
    pub async fn attendance_history(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<Vec<AttendanceItem>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::AttendanceRead).on("person", Some(person.as_text()));
                let grant = tx.person_audited(Action::ReadAttendance, person, audit).await?;
                let rows = sqlx::query("SELECT s.session_date, s.group_id, g.name, a.had_booking FROM session_attendance a \
                     JOIN group_sessions s ON s.org_id = a.org_id AND s.id = a.session_id \
                     JOIN peer_groups g ON g.org_id = s.org_id AND g.id = s.group_id \
                     WHERE a.org_id = $1 AND a.person_id = $2 ORDER BY s.session_date DESC, g.name")
                    .bind(grant.org().as_text()).bind(grant.person().as_text()).fetch_all(tx.conn()).await?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(AttendanceItem {
                        date: parse_iso_date(&r.try_get::<String, _>("session_date")?).ok_or_else(|| corrupt("date"))?,
                        group_id: parse_uuid(&r.try_get::<String, _>("group_id")?)?,
                        group_name: r.try_get("name")?,
                        had_booking: r.try_get::<i64, _>("had_booking")? != 0,
                    });
                }
                Ok(out)
            })
        })
        .await
    }
}

/// A one-off change to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    Cancel {
        note: Option<String>,
    },
    Reinstate,
    Move {
        date: Date,
        start: ClockTime,
        end: ClockTime,
    },
}

/// The groups the person of `grant` belongs to, by id.
async fn member_groups(c: &mut AnyConnection, grant: &PersonGrant) -> Result<Vec<GroupId>> {
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

/// What the person of `grant` has coming up from `today` for `days` days.
async fn upcoming(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    today: Date,
    days: i64,
) -> Result<Vec<Upcoming>> {
    let (org, person) = (grant.org(), grant.person());
    let until = today.saturating_add(time::Duration::days(days));
    let booked: Vec<(GroupId, Date)> = sqlx::query("SELECT s.group_id, s.original_date FROM session_bookings b JOIN group_sessions s ON s.org_id = b.org_id AND s.id = b.session_id WHERE b.org_id = $1 AND b.person_id = $2 AND b.status = 'booked' AND s.session_date >= $3")
        .bind(org.as_text()).bind(person.as_text()).bind(iso_date(today))
        .fetch_all(&mut *c).await?
        .iter()
        .map(|r| Ok((parse_uuid(&r.try_get::<String, _>("group_id")?)?, parse_iso_date(&r.try_get::<String, _>("original_date")?).ok_or_else(|| corrupt("date"))?)))
        .collect::<Result<_>>()?;
    let mut groups = member_groups(c, grant).await?;
    for (g, _) in &booked {
        if !groups.contains(g) {
            groups.push(*g);
        }
    }
    let mut out = Vec::new();
    for gid in groups {
        let g = load_group(c, org, gid).await?.ok_or(StoreError::NotFound)?;
        let where_ = match g.details.mode {
            Mode::Online => "Online".to_string(),
            Mode::InPerson => g.details.venue.clone().unwrap_or_default(),
        };
        for s in load_sessions(c, &g, today, until).await? {
            let is_booked = booked.contains(&(gid, s.original_date));
            if s.cancelled || s.date < today {
                continue;
            }
            out.push(Upcoming {
                date: s.date,
                start: s.start,
                end: s.end,
                title: g.details.name.clone(),
                link: format!("/groups/{gid}/sessions/{}", iso_date(s.original_date)),
                booked: is_booked,
                where_: where_.clone(),
            });
        }
        // Booked sessions beyond the window are still shown.
        for (_, date) in booked.iter().filter(|(bg, d)| *bg == gid && *d > until) {
            let s = session_or_rule(c, &g, *date)
                .await?
                .ok_or(StoreError::NotFound)?;
            out.push(Upcoming {
                date: s.date,
                start: s.start,
                end: s.end,
                title: g.details.name.clone(),
                link: format!("/groups/{gid}/sessions/{}", iso_date(*date)),
                booked: true,
                where_: where_.clone(),
            });
        }
    }
    out.sort_by(|a, b| (a.date, a.start, &a.title).cmp(&(b.date, b.start, &b.title)));
    Ok(out)
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

/// Reads for tests that check what was stored, without an actor and unaudited. Never called by
/// the product: pages ask [`Store::own_place`], which decides and reads under a grant.
impl Store {
    /// The groups a person belongs to, ids only (unaudited; tests only).
    pub async fn memberships(&self, org: OrgId, person: PersonId) -> Result<Vec<GroupId>> {
        sqlx::query("SELECT group_id FROM group_members WHERE org_id = $1 AND person_id = $2 ORDER BY group_id")
            .bind(org.as_text())
            .bind(person.as_text())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| parse_uuid(&r.try_get::<String, _>("group_id")?))
            .collect()
    }

    /// Whether the person holds a booking for the session (unaudited; tests only).
    pub async fn has_booking(
        &self,
        org: OrgId,
        group: GroupId,
        original: Date,
        person: PersonId,
    ) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 AS one FROM session_bookings b JOIN group_sessions s ON s.org_id = b.org_id AND s.id = b.session_id WHERE b.org_id = $1 AND s.group_id = $2 AND s.original_date = $3 AND b.person_id = $4 AND b.status = 'booked'")
            .bind(org.as_text())
            .bind(group.as_text())
            .bind(iso_date(original))
            .bind(person.as_text())
            .fetch_optional(self.reader())
            .await?
            .is_some())
    }

    /// Attendance rows of a session (a count, naming no one; tests only).
    pub async fn session_attendance_count(
        &self,
        org: OrgId,
        group: GroupId,
        original: Date,
    ) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM session_attendance a JOIN group_sessions s ON s.org_id = a.org_id AND s.id = a.session_id WHERE a.org_id = $1 AND s.group_id = $2 AND s.original_date = $3")
            .bind(org.as_text()).bind(group.as_text()).bind(iso_date(original))
            .fetch_one(self.reader()).await?;
        Ok(r.try_get("n")?)
    }
}
