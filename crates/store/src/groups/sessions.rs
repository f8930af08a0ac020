//! A group's sessions ([`SessionState`]): computed from the group's rule on demand and stored only
//! when touched (a change, a booking, a sign-in), read one by one or over a range of dates, and
//! changed one at a time (cancelled or moved, [`SessionChange`]).

use super::catalogue::{load_group, GroupRow};
use super::corrupt;
use crate::door::AuditAs;
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::groups::ClockTime;
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{GroupId, OrgId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

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

/// How the audit log names a session: the group and the date the rule gave it.
pub(super) fn session_resource(group: GroupId, original: Date) -> Option<String> {
    Some(format!("{group}/{}", iso_date(original)))
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
pub(super) async fn load_sessions(
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
pub(super) async fn session_or_rule(
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

impl Store {
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
