//! The door of a session: the door page's live count, who is in and the name search
//! ([`DoorView`]), and signing someone in ([`DoorEntry`], [`SignInOutcome`]) with the capacity
//! guarantee described in the `groups` module documentation.

use super::catalogue::load_group;
use super::sessions::{ensure_session, load_session, session_resource, unstored, SessionState};
use crate::door::AuditAs;
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::{GroupId, PersonId};
use sqlx::Row;
use time::Date;

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

impl Store {
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
}
