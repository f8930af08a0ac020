//! The people who run peer-support sessions: training records of staff and volunteers, the
//! rota of who is on for each session, the door check that limits a volunteer to the sessions
//! they are on the rota for, and staff booking a place at a session on a person's behalf.
//!
//! A rota entry names its session by the group and the date the rule gave it (the session's
//! key, `rota_entries.session_date` = `group_sessions.original_date`), so it follows a one-off
//! move; the overlap check compares the dates sessions actually happen on. The check and the
//! insert run in one use case (`Store::write_as`), so nothing is written when an entry is
//! refused. Every change is audited; training records describe staff, never the people they
//! support. This module must never decide access itself: the door asks
//! `alongside_core::access`, with the rota looked up for a session's door.

use crate::door::{session_decision, AuditAs};
use crate::groups::{load_group, load_session, release_place, take_place, unstored, BookOutcome};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::groups::ClockTime;
use alongside_core::rota::{first_overlap, may_take, runs_sessions, Duty, Training};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{GroupId, OrgId, PersonId, Role, UserId, ValidationErrors};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// One training record of a member of staff or a volunteer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingRecord {
    pub id: String,
    pub user_id: UserId,
    pub course: String,
    pub completed_on: Date,
    pub expires_on: Option<Date>,
}

/// Someone on a session's rota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotaEntry {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub duty: Duty,
    pub start: ClockTime,
    pub end: ClockTime,
}

/// A registered person as staff booking on their behalf see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPerson {
    pub id: PersonId,
    pub name: String,
    pub date_of_birth: String,
    pub booked: bool,
}

/// What booking or cancelling on someone's behalf did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BehalfOutcome {
    Booked(BookOutcome),
    Cancelled,
    NothingToCancel,
}

/// The staff booking page: who has booked, and people matching a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingView {
    pub booked: Vec<BookingPerson>,
    pub matches: Vec<BookingPerson>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("bad stored {what}"))
}

fn date_of(r: &AnyRow, k: &str) -> Result<Date> {
    parse_iso_date(&r.try_get::<String, _>(k)?).ok_or_else(|| corrupt(k))
}

fn clock_of(r: &AnyRow, k: &str) -> Result<ClockTime> {
    ClockTime::parse(&r.try_get::<String, _>(k)?).ok_or_else(|| corrupt(k))
}

/// How the audit log names a session: the group and the date the rule gave it.
fn session_resource(group: GroupId, original: Date) -> Option<String> {
    Some(format!("{group}/{}", iso_date(original)))
}

fn training_from_row(r: &AnyRow) -> Result<TrainingRecord> {
    let expires: Option<String> = r.try_get("expires_on")?;
    Ok(TrainingRecord {
        id: r.try_get("id")?,
        user_id: parse_uuid(&r.try_get::<String, _>("user_id")?)?,
        course: r.try_get("course")?,
        completed_on: date_of(r, "completed_on")?,
        expires_on: expires
            .map(|x| parse_iso_date(&x).ok_or_else(|| corrupt("expires_on")))
            .transpose()?,
    })
}

/// The account's role and name if it is an active member of staff or volunteer of `org`.
async fn runner(c: &mut AnyConnection, org: OrgId, user: UserId) -> Result<Option<(Role, String)>> {
    let row =
        sqlx::query("SELECT role, display_name, active FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.as_text())
            .bind(user.as_text())
            .fetch_optional(&mut *c)
            .await?;
    let Some(r) = row else { return Ok(None) };
    let role: Role = r
        .try_get::<String, _>("role")?
        .parse()
        .map_err(|_| corrupt("role"))?;
    let active = r.try_get::<i64, _>("active")? != 0;
    Ok((active && runs_sessions(role))
        .then(|| (role, r.try_get("display_name").unwrap_or_default())))
}

impl Store {
    /// Records a training course for a member of staff or a volunteer of the actor's
    /// organisation (who runs peer support); audited.
    pub async fn record_training(
        &self,
        actor: &Actor,
        user: UserId,
        training: Training,
        source: Source,
    ) -> Result<String> {
        self.write_as(actor, &source, move |tx| {
            let training = training.clone();
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::TrainingRecorded).on("user", Some(user.as_text()));
                let g = tx.org_action(Action::ManageGroups, audit.clone())?;
                if runner(tx.conn(), g.org(), user).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let id = uuid::Uuid::now_v7().to_string();
                let (by, now) = (tx.actor().user_id.as_text(), tx.now());
                sqlx::query("INSERT INTO training_records (org_id, id, user_id, course, completed_on, expires_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(g.org().as_text())
                    .bind(&id)
                    .bind(user.as_text())
                    .bind(&training.course)
                    .bind(iso_date(training.completed_on))
                    .bind(training.expires_on.map(iso_date))
                    .bind(by)
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                tx.log_org(&g, None, audit.detail(training.course.clone())).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Training records of the organisation's staff and volunteers (all, or one account's),
    /// by course, newest first. They describe staff, never the people they support.
    pub async fn training_records(
        &self,
        org: OrgId,
        user: Option<UserId>,
    ) -> Result<Vec<TrainingRecord>> {
        let rows = match user {
            Some(u) => sqlx::query("SELECT id, user_id, course, completed_on, expires_on FROM training_records WHERE org_id = $1 AND user_id = $2 ORDER BY course, completed_on DESC, id")
                .bind(org.as_text()).bind(u.as_text()).fetch_all(self.reader()).await?,
            None => sqlx::query("SELECT id, user_id, course, completed_on, expires_on FROM training_records WHERE org_id = $1 ORDER BY user_id, course, completed_on DESC, id")
                .bind(org.as_text()).fetch_all(self.reader()).await?,
        };
        rows.iter().map(training_from_row).collect()
    }

    /// Who is on the rota for one session (by the date the rule gave it), by start time.
    pub async fn rota(&self, org: OrgId, group: GroupId, original: Date) -> Result<Vec<RotaEntry>> {
        let rows = sqlx::query("SELECT r.id, r.user_id, r.duty, r.start_time, r.end_time, u.display_name, u.role FROM rota_entries r JOIN users u ON u.org_id = r.org_id AND u.id = r.user_id \
             WHERE r.org_id = $1 AND r.group_id = $2 AND r.session_date = $3 ORDER BY r.start_time, u.display_name, r.id")
            .bind(org.as_text()).bind(group.as_text()).bind(iso_date(original))
            .fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                Ok(RotaEntry {
                    id: r.try_get("id")?,
                    user_id: parse_uuid(&r.try_get::<String, _>("user_id")?)?,
                    name: r.try_get("display_name")?,
                    role: r
                        .try_get::<String, _>("role")?
                        .parse()
                        .map_err(|_| corrupt("role"))?,
                    duty: Duty::parse(&r.try_get::<String, _>("duty")?)
                        .ok_or_else(|| corrupt("duty"))?,
                    start: clock_of(r, "start_time")?,
                    end: clock_of(r, "end_time")?,
                })
            })
            .collect()
    }

    /// Of a group's sessions (by rule date), those at which `actor` may take `action` — for
    /// the door, `SignInAtDoor`: staff at any, a volunteer only at those they are on the rota
    /// for. Decided by the access rules with the rota looked up; for offering links, so not
    /// audited: the door decides again.
    pub async fn sessions_allowing(
        &self,
        actor: &Actor,
        action: Action,
        group: GroupId,
        dates: &[Date],
    ) -> Result<Vec<Date>> {
        let mut c = self.reader().acquire().await?;
        let mut out = Vec::new();
        for d in dates {
            if session_decision(&mut c, actor, action, group, *d)
                .await?
                .allowed
            {
                out.push(*d);
            }
        }
        Ok(out)
    }

    /// Puts someone on a session's rota. Refused, with the field named and nothing written,
    /// when the session is cancelled, when they are not staff or a volunteer of this organisation, the duty does not suit
    /// their role, the times are not within the session or end before they start, or they are
    /// already on a rota (of any group) at overlapping times that day. Audited when written.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_rota_entry(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        user: UserId,
        duty: Duty,
        start: &str,
        end: &str,
        source: Source,
    ) -> Result<String> {
        let (start, end) = (start.to_string(), end.to_string());
        self.write_as(actor, &source, move |tx| {
            let (start, end) = (start.clone(), end.clone());
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::RotaChanged)
                    .on("group_session", session_resource(group, original));
                let grant = tx.org_action(Action::ManageGroups, audit.clone())?;
                let org = grant.org();
                let Some(g) = load_group(tx.conn(), org, group).await? else {
                    return Err(StoreError::NotFound);
                };
                let session = match load_session(tx.conn(), org, group, original).await? {
                    Some((_, s)) => s,
                    None if g.details.is_occurrence(original) => unstored(&g, original),
                    None => return Err(StoreError::NotFound),
                };
                let mut e = ValidationErrors::default();
                if session.cancelled {
                    e.add("user", "This session is cancelled, so nobody can be put on its rota");
                }
                // Take the account row's lock first (a no-op update): this store's writer runs
                // one job at a time, and on PostgreSQL the lock also makes another instance's
                // simultaneous entry for the same person wait, so the overlap check sees it.
                sqlx::query("UPDATE users SET updated_at = updated_at WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(user.as_text())
                    .execute(tx.conn())
                    .await?;
                let who = runner(tx.conn(), org, user).await?;
                match &who {
                    None => e.add("user", "Choose someone who is staff or a volunteer of this organisation"),
                    Some((role, _)) if !may_take(*role, duty) => e.add("duty", "A volunteer can only be on the rota as a volunteer"),
                    Some(_) => {}
                }
                let times = match alongside_core::rota::check_times(&start, &end, (session.start, session.end)) {
                    Ok(t) => Some(t),
                    Err(te) => {
                        for fe in te.0 {
                            e.add(&fe.field, fe.message);
                        }
                        None
                    }
                };
                if let (Some(t), Some((_, name))) = (times, &who) {
                    // The same person's other entries on the day this session happens, in any
                    // group (a moved session counts on the day it moved to).
                    let rows = sqlx::query("SELECT r.start_time, r.end_time, g.name FROM rota_entries r \
                         JOIN peer_groups g ON g.org_id = r.org_id AND g.id = r.group_id \
                         LEFT JOIN group_sessions s ON s.org_id = r.org_id AND s.group_id = r.group_id AND s.original_date = r.session_date \
                         WHERE r.org_id = $1 AND r.user_id = $2 AND COALESCE(s.session_date, r.session_date) = $3")
                        .bind(org.as_text()).bind(user.as_text()).bind(iso_date(session.date))
                        .fetch_all(tx.conn()).await?;
                    let mut existing = Vec::new();
                    for r in &rows {
                        let (s, f) = (clock_of(r, "start_time")?, clock_of(r, "end_time")?);
                        let group_name: String = r.try_get("name")?;
                        existing.push(((group_name, s, f), s, f));
                    }
                    if let Some((group_name, s, f)) = first_overlap(t, &existing) {
                        e.add("start_time", format!(
                            "{name} is already on the rota from {} to {} that day ({group_name}): the times overlap",
                            s.text(), f.text()
                        ));
                    }
                }
                let (Some((s, f)), true) = (times, e.is_empty()) else {
                    return Err(StoreError::Invalid(e));
                };
                let id = uuid::Uuid::now_v7().to_string();
                let now = tx.now();
                sqlx::query("INSERT INTO rota_entries (org_id, id, group_id, session_date, user_id, start_time, end_time, duty, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(org.as_text()).bind(&id).bind(group.as_text()).bind(iso_date(original)).bind(user.as_text())
                    .bind(s.text()).bind(f.text()).bind(duty.code()).bind(now)
                    .execute(tx.conn()).await?;
                tx.log_org(&grant, None, audit.detail(format!("added {}", duty.code()))).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Takes an entry off a session's rota; audited. Not found when it is not on this session.
    pub async fn remove_rota_entry(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        entry: String,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let entry = entry.clone();
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::RotaChanged)
                    .on("group_session", session_resource(group, original));
                let grant = tx.org_action(Action::ManageGroups, audit.clone())?;
                let n = sqlx::query("DELETE FROM rota_entries WHERE org_id = $1 AND group_id = $2 AND session_date = $3 AND id = $4")
                    .bind(grant.org().as_text()).bind(group.as_text()).bind(iso_date(original)).bind(&entry)
                    .execute(tx.conn()).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.log_org(&grant, None, audit.detail("removed")).await?;
                Ok(())
            })
        })
        .await
    }

    /// Puts someone on a session's rota without an actor or checks (demo data and fixtures).
    pub async fn add_rota_entry_unaudited(
        &self,
        org: OrgId,
        group: GroupId,
        original: Date,
        user: UserId,
        duty: Duty,
        times: (ClockTime, ClockTime),
    ) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        self.write(move |c| {
            let id = id.clone();
            Box::pin(async move {
                sqlx::query("INSERT INTO rota_entries (org_id, id, group_id, session_date, user_id, start_time, end_time, duty, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(org.as_text()).bind(&id).bind(group.as_text()).bind(iso_date(original)).bind(user.as_text())
                    .bind(times.0.text()).bind(times.1.text()).bind(duty.code()).bind(now)
                    .execute(&mut *c).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Staff booking on someone's behalf: who has booked this session and, for a name search,
    /// the registered people who match (name and date of birth, to tell people apart). One
    /// audit entry for the view.
    pub async fn booking_view(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        query: &str,
        source: Source,
    ) -> Result<BookingView> {
        let needle: String = query
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| !matches!(c, '%' | '_' | '\\'))
            .take(50)
            .collect();
        self.read_as(actor, &source, move |tx| {
            let needle = needle.clone();
            Box::pin(async move {
                let action = if needle.is_empty() { AuditAction::PeopleListed } else { AuditAction::PeopleSearched };
                let audit = AuditAs::new(action)
                    .on("group_session", session_resource(group, original))
                    .detail("session bookings");
                let grant = tx.org_action(Action::BookGroupsOnBehalf, audit.clone())?;
                let org = grant.org().as_text();
                if load_group(tx.conn(), grant.org(), group).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let sid: String = load_session(tx.conn(), grant.org(), group, original).await?.map(|(id, _)| id).unwrap_or_default();
                let person = |r: &AnyRow, booked: bool| -> Result<BookingPerson> {
                    Ok(BookingPerson {
                        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                        name: format!("{} {}", r.try_get::<String, _>("given_name")?, r.try_get::<String, _>("family_name")?),
                        date_of_birth: r.try_get("date_of_birth")?,
                        booked,
                    })
                };
                let mut booked = Vec::new();
                for r in sqlx::query("SELECT p.id, p.given_name, p.family_name, p.date_of_birth FROM session_bookings b JOIN people p ON p.org_id = b.org_id AND p.id = b.person_id \
                     WHERE b.org_id = $1 AND b.session_id = $2 AND b.status = 'booked' ORDER BY p.family_name, p.given_name, p.id")
                    .bind(&org).bind(&sid).fetch_all(tx.conn()).await?
                {
                    booked.push(person(&r, true)?);
                }
                let mut matches = Vec::new();
                if !needle.is_empty() {
                    for r in sqlx::query("SELECT p.id, p.given_name, p.family_name, p.date_of_birth FROM people p WHERE p.org_id = $1 AND p.search_name LIKE $2 ORDER BY p.family_name, p.given_name, p.id LIMIT 20")
                        .bind(&org).bind(format!("% {needle}%")).fetch_all(tx.conn()).await?
                    {
                        let mut p = person(&r, false)?;
                        p.booked = booked.iter().any(|b| b.id == p.id);
                        matches.push(p);
                    }
                }
                tx.log_org(&grant, None, audit).await?;
                Ok(BookingView { booked, matches })
            })
        })
        .await
    }

    /// Books (`book`) or cancels a place at a session for a registered person, on their
    /// behalf, under the same rules as booking for oneself (bookable places, one booking per
    /// person). The person's record is audited as changed.
    pub async fn book_on_behalf(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        person: PersonId,
        book: bool,
        today: Date,
        source: Source,
    ) -> Result<BehalfOutcome> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let action = if book {
                    AuditAction::GroupSessionBooked
                } else {
                    AuditAction::BookingCancelled
                };
                let audit =
                    AuditAs::new(action).on("group_session", session_resource(group, original));
                let grant = tx
                    .person(Action::BookGroupsOnBehalf, person, audit.clone())
                    .await?;
                let now = tx.now();
                let done = if book {
                    BehalfOutcome::Booked(
                        take_place(tx.conn(), &grant, group, original, today, now).await?,
                    )
                } else if release_place(tx.conn(), &grant, group, original, now).await? {
                    BehalfOutcome::Cancelled
                } else {
                    BehalfOutcome::NothingToCancel
                };
                let detail = match done {
                    BehalfOutcome::Booked(BookOutcome::Booked) => Some("booked on their behalf"),
                    BehalfOutcome::Cancelled => Some("cancelled on their behalf"),
                    _ => None,
                };
                if let Some(detail) = detail {
                    tx.log(&grant, audit.detail(detail)).await?;
                }
                Ok(done)
            })
        })
        .await
    }
}
