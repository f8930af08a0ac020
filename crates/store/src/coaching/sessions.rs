//! Coaching sessions: booking a session under the booking rules of `alongside_core::coaching`
//! (with the busy slots of coach and person they need), reading a session with its episode, and
//! recording what happened at it (attendance, notes, goal reviews, cancellations).

use super::coaches::load_coach;
use super::episodes::{load_episode, EpisodeView};
use super::{corrupt, full_name, invalid, owner, team_rights, Record};
use crate::door::{AuditAs, PersonGrant};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{
    check_booking, Booking, BookingContext, BusySlot, ContactMode, SessionStatus,
};
use alongside_core::time::Timestamp;
use alongside_core::{EpisodeId, GoalId, OrgId, PersonId, SessionId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A session with the person's name.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: SessionId,
    pub episode_id: EpisodeId,
    pub person_id: PersonId,
    pub person_name: String,
    pub coach_id: UserId,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub mode: ContactMode,
    pub place: Option<String>,
    pub status: SessionStatus,
    pub length_reason: Option<String>,
    pub extra_reason: Option<String>,
    /// `None` when the reader may not see the notes (a person, when not shared).
    pub notes: Option<String>,
    pub notes_shared: bool,
    pub cancel_reason: Option<String>,
}

pub(super) const SESSION_COLUMNS: &str = "s.id, s.episode_id, s.person_id, p.given_name, p.family_name, s.coach_id, s.starts_at, s.ends_at, s.mode, s.place, s.status, s.length_reason, s.extra_reason, s.notes, s.notes_shared, s.cancel_reason";

pub(super) const SESSION_FROM: &str =
    "coaching_sessions s JOIN people p ON p.org_id = s.org_id AND p.id = s.person_id";

pub(super) fn session_from_row(r: &AnyRow, show_private_notes: bool) -> Result<SessionRow> {
    let mode: String = r.try_get("mode")?;
    let status: String = r.try_get("status")?;
    let shared = r.try_get::<i64, _>("notes_shared")? != 0;
    let notes: Option<String> = r.try_get("notes")?;
    Ok(SessionRow {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        episode_id: parse_uuid(&r.try_get::<String, _>("episode_id")?)?,
        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
        person_name: full_name(r, "given_name", "family_name")?,
        coach_id: parse_uuid(&r.try_get::<String, _>("coach_id")?)?,
        starts_at: Timestamp(r.try_get("starts_at")?),
        ends_at: Timestamp(r.try_get("ends_at")?),
        mode: ContactMode::from_code(&mode).ok_or_else(|| corrupt("mode", &mode))?,
        place: r.try_get("place")?,
        status: SessionStatus::from_code(&status).ok_or_else(|| corrupt("status", &status))?,
        length_reason: r.try_get("length_reason")?,
        extra_reason: r.try_get("extra_reason")?,
        notes: if show_private_notes || shared {
            notes
        } else {
            None
        },
        notes_shared: shared,
        cancel_reason: r.try_get("cancel_reason")?,
    })
}

/// A session of the person of `grant`.
async fn load_session(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    id: SessionId,
    private_notes: bool,
) -> Result<SessionRow> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.id = $2 AND s.person_id = $3"
    ))
    .bind(grant.org().as_text())
    .bind(id.as_text())
    .bind(grant.person().as_text())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    session_from_row(&row, private_notes)
}

/// Busy slots (times only, no one named) of a coach or a person, for the booking rules.
async fn busy(
    c: &mut AnyConnection,
    org: OrgId,
    column: &str,
    key: &str,
    from: i64,
    to: i64,
) -> Result<Vec<BusySlot>> {
    let sql = format!("SELECT starts_at, ends_at FROM coaching_sessions WHERE org_id = $1 AND {column} = $2 AND starts_at < $3 AND ends_at > $4 AND status IN ('booked', 'attended', 'did_not_attend')");
    Ok(sqlx::query_as::<_, (i64, i64)>(&sql)
        .bind(org.as_text())
        .bind(key)
        .bind(to)
        .bind(from)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|(s, e)| BusySlot {
            starts_at: Timestamp(s),
            ends_at: Timestamp(e),
        })
        .collect())
}

/// One review to record with a session.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub goal_id: GoalId,
    pub attainment: i64,
    pub note: Option<String>,
}

/// What happened at a session.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub status: SessionStatus,
    pub notes: Option<String>,
    pub notes_shared: bool,
    pub cancel_reason: Option<String>,
    pub reviews: Vec<ReviewInput>,
}

impl Store {
    /// Books a session in an open episode, applying every booking rule (in the future,
    /// within the coach's hours, no overlap for coach or person, the session maximum).
    pub async fn book_session(
        &self,
        actor: &Actor,
        episode: EpisodeId,
        booking: Booking,
        now: Timestamp,
        source: Source,
    ) -> Result<SessionId> {
        let id = SessionId::new();
        self.write_as(actor, &source, move |tx| {
            let booking = booking.clone();
            Box::pin(async move {
                let person = owner(tx, Record::Episode, &episode.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::SessionBooked)
                    .on("coaching_session", Some(id.as_text()));
                let g = tx.person_audited(Action::ManageCoaching, person, audit_as).await?;
                // Sessions beyond the maximum: those who run the waiting list.
                let beyond_max = crate::door::org_decision(tx.actor(), Action::ManageCoachingQueue).allowed;
                let org = g.org();
                let ep = load_episode(tx.conn(), &g, episode, true).await?;
                let (coach, _) = load_coach(tx.conn(), org, ep.coach_id).await?;
                let (from, to) = (booking.starts_at.0, booking.ends_at.0);
                let coach_busy = busy(tx.conn(), org, "coach_id", &ep.coach_id.as_text(), from, to).await?;
                let person_busy = busy(tx.conn(), org, "person_id", &person.as_text(), from, to).await?;
                let ctx = BookingContext {
                    now,
                    sessions_used: ep.sessions_used(),
                    max_sessions: ep.max_sessions,
                    by_coordinator: beyond_max,
                    coach_name: &coach.name,
                    coach_hours: &coach.hours,
                    coach_busy: &coach_busy,
                    person_busy: &person_busy,
                    episode_open: ep.open,
                };
                check_booking(&booking, &ctx).map_err(StoreError::Invalid)?;
                let extra = (ep.sessions_used() >= ep.max_sessions).then(|| booking.extra_reason.clone()).flatten();
                let (booked_at, by) = (tx.now(), tx.actor().user_id);
                sqlx::query("INSERT INTO coaching_sessions (org_id, id, episode_id, person_id, coach_id, starts_at, ends_at, mode, place, status, length_reason, extra_reason, notes_shared, booked_by, booked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $11, 0, $12, $13)")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(episode.as_text())
                    .bind(person.as_text())
                    .bind(ep.coach_id.as_text())
                    .bind(booking.starts_at.0)
                    .bind(booking.ends_at.0)
                    .bind(booking.mode.code())
                    .bind(booking.place.clone())
                    .bind(booking.length_reason.clone())
                    .bind(extra)
                    .bind(by.as_text())
                    .bind(booked_at)
                    .execute(tx.conn())
                    .await?;
                Ok(id)
            })
        })
        .await
    }

    /// A session with its episode (audited as a read of the person's coaching).
    pub async fn coaching_session(
        &self,
        actor: &Actor,
        id: SessionId,
        source: Source,
    ) -> Result<(SessionRow, EpisodeView)> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let person = owner(tx, Record::Session, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::CoachingRead)
                    .on("coaching_session", Some(id.as_text()));
                let g = tx
                    .person_audited(Action::ReadCoaching, person, audit_as)
                    .await?;
                let (private, may_manage) = team_rights(tx, &g).await?;
                let s = load_session(tx.conn(), &g, id, private).await?;
                let mut ep = load_episode(tx.conn(), &g, s.episode_id, private).await?;
                ep.may_manage = may_manage;
                Ok((s, ep))
            })
        })
        .await
    }

    /// Records what happened at a session: attended (with notes and goal reviews), did not
    /// attend, or cancelled by either side. A person may only cancel their own booked session.
    pub async fn record_session(
        &self,
        actor: &Actor,
        id: SessionId,
        record: SessionRecord,
        now: Timestamp,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let record = record.clone();
            Box::pin(async move {
                let person = owner(tx, Record::Session, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::SessionRecorded)
                    .on("coaching_session", Some(id.as_text()));
                // Whoever may read the person's coaching may cancel a session of theirs (the
                // person their own); recording the rest is the coaching team's.
                let g = tx.person(Action::ReadCoaching, person, audit_as.clone()).await?;
                let person_cancelling = !tx.also_may(&g, Action::ManageCoaching).await?;
                let s = load_session(tx.conn(), &g, id, true).await?;
                if person_cancelling && record.status != SessionStatus::CancelledByPerson {
                    return Err(invalid("status", "You can cancel a session; your coach records the rest"));
                }
                match record.status {
                    SessionStatus::Booked => return Err(invalid("status", "Select what happened at the session")),
                    SessionStatus::Attended | SessionStatus::DidNotAttend if s.starts_at > now => {
                        return Err(invalid("status", "The session has not started yet: you can only cancel it"));
                    }
                    SessionStatus::CancelledByPerson | SessionStatus::CancelledByCoach if s.status != SessionStatus::Booked => {
                        return Err(invalid("status", "Only a booked session can be cancelled"));
                    }
                    _ => {}
                }
                let ep = load_episode(tx.conn(), &g, s.episode_id, true).await?;
                for r in &record.reviews {
                    if !ep.goals.iter().any(|g| g.id == r.goal_id) {
                        return Err(invalid("reviews", "A review names a goal that is not part of this episode"));
                    }
                }
                let (now_us, by) = (tx.now(), tx.actor().user_id);
                let org = g.org();
                sqlx::query("UPDATE coaching_sessions SET status = $3, notes = COALESCE($4, notes), notes_shared = $5, cancel_reason = $6, recorded_by = $7, recorded_at = $8 WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(record.status.code())
                    .bind(record.notes.clone())
                    .bind(if person_cancelling { i64::from(s.notes_shared) } else { i64::from(record.notes_shared) })
                    .bind(record.cancel_reason.clone())
                    .bind(by.as_text())
                    .bind(now_us)
                    .execute(tx.conn())
                    .await?;
                for r in &record.reviews {
                    sqlx::query("INSERT INTO goal_reviews (org_id, id, goal_id, session_id, attainment, note, reviewed_at, reviewed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(org.as_text())
                        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                        .bind(r.goal_id.as_text())
                        .bind(id.as_text())
                        .bind(r.attainment)
                        .bind(r.note.clone())
                        // The application's clock: the review belongs to the session's day.
                        .bind(now.0)
                        .bind(by.as_text())
                        .execute(tx.conn())
                        .await?;
                }
                tx.log(&g, audit_as.detail(record.status.code())).await?;
                Ok(())
            })
        })
        .await
    }
}
