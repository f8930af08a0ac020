//! A person's peer support over time: what they have coming up ([`Upcoming`]) and their attendance
//! history ([`AttendanceItem`]), each read under a grant for that person.

use super::bookings::member_groups;
use super::catalogue::load_group;
use super::corrupt;
use super::sessions::{load_sessions, session_or_rule};
use crate::door::{AuditAs, PersonGrant};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::groups::{ClockTime, Mode};
use alongside_core::time::{iso_date, parse_iso_date};
use alongside_core::{GroupId, PersonId};
use sqlx::{AnyConnection, Row};
use time::Date;

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

impl Store {
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
