//! Activities within a peer-support session (one-to-one chats, creative workshops, talks):
//! their definitions per group, and signing people who are already in at the door up to one,
//! with the activity's own, smaller capacity.
//!
//! The capacity guarantee is the session's, one level down: a session's places for an activity
//! are a counter row in `session_activity_places` (created the first time anyone signs up), and
//! every sign-up is one conditional `UPDATE ... SET taken = taken + 1 WHERE ... AND taken <
//! capacity RETURNING ...` in the same use case (`Store::write_as`) as the sign-up row and its
//! audit entry, so however many devices sign people up at once, no activity ever takes more
//! than its places. This module must never show more of a person than the first name the door
//! already shows, and never sign up anyone who has not been signed in to the session. The door
//! decides: staff manage activities (`ManageGroups`); the people at a session's door
//! (`SignInAtDoor`, a volunteer only at a session they are on the rota for) sign people up.

use crate::door::AuditAs;
use crate::groups::{ensure_session, load_group, load_session};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::time::iso_date;
use alongside_core::{GroupId, OrgId, PersonId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

/// An activity a group offers at its sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: String,
    pub group_id: GroupId,
    pub name: String,
    /// Places at each session (never more than the session's).
    pub capacity: u32,
    pub facilitator: Option<String>,
    pub active: bool,
}

/// What staff enter for a new activity (already validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub name: String,
    pub capacity: u32,
    pub facilitator: Option<String>,
}

/// One activity at one session: its live count and the first names of who is signed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionActivity {
    pub activity: Activity,
    /// The places at this session (the activity's, or the session's if that is smaller).
    pub capacity: u32,
    pub taken: u32,
    /// (attendance id, first name), in the order they signed up.
    pub people: Vec<(String, String)>,
}

impl SessionActivity {
    pub fn full(&self) -> bool {
        self.taken >= self.capacity
    }
}

/// What signing someone up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivitySignUp {
    SignedUp {
        first_name: String,
        taken: u32,
        capacity: u32,
    },
    /// Every place is taken; nothing was written.
    Full {
        capacity: u32,
    },
    AlreadySignedUp {
        first_name: String,
    },
    /// The activity is no longer offered.
    Retired,
    /// The session is cancelled.
    Cancelled,
}

const ACTIVITY_COLUMNS: &str = "id, group_id, name, capacity, facilitator, active";

fn activity_from_row(r: &AnyRow) -> Result<Activity> {
    Ok(Activity {
        id: r.try_get("id")?,
        group_id: parse_uuid(&r.try_get::<String, _>("group_id")?)?,
        name: r.try_get("name")?,
        capacity: r.try_get::<i64, _>("capacity")? as u32,
        facilitator: r.try_get("facilitator")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

async fn load_activities(
    c: &mut AnyConnection,
    org: OrgId,
    group: GroupId,
) -> Result<Vec<Activity>> {
    sqlx::query(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM group_activities WHERE org_id = $1 AND group_id = $2 ORDER BY created_at, id"
    ))
    .bind(org.as_text())
    .bind(group.as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(activity_from_row)
    .collect()
}

/// How the audit log names a session: the group and the date the rule gave it.
fn session_resource(group: GroupId, original: Date) -> Option<String> {
    Some(format!("{group}/{}", iso_date(original)))
}

impl Store {
    /// The activities a group offers (active and retired), oldest first. They name no one,
    /// so reading them is not audited.
    pub async fn group_activities(&self, org: OrgId, group: GroupId) -> Result<Vec<Activity>> {
        let mut c = self.reader().acquire().await?;
        load_activities(&mut c, org, group).await
    }

    /// Adds an activity to a group (peer-support leads, coordinators, administrators). Its
    /// places must be at least one and no more than the group's; audited as a group change.
    pub async fn create_activity(
        &self,
        actor: &Actor,
        group: GroupId,
        new: NewActivity,
        source: Source,
    ) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        self.write_as(actor, &source, move |tx| {
            let (new, id) = (new.clone(), id.clone());
            Box::pin(async move {
                let audit = AuditAs::new(AuditAction::GroupUpdated)
                    .on("group", Some(group.as_text()))
                    .detail("activity added");
                let grant = tx.org_action(Action::ManageGroups, audit.clone())?;
                let Some(g) = load_group(tx.conn(), grant.org(), group).await? else {
                    return Err(StoreError::NotFound);
                };
                if new.capacity == 0 || new.capacity > g.details.capacity || new.name.trim().is_empty() {
                    let mut e = alongside_core::ValidationErrors::default();
                    e.add("capacity", format!("Places must be between 1 and the session's {} places", g.details.capacity));
                    return Err(StoreError::Invalid(e));
                }
                let now = tx.now();
                sqlx::query("INSERT INTO group_activities (org_id, id, group_id, name, capacity, facilitator, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)")
                    .bind(grant.org().as_text()).bind(&id).bind(group.as_text()).bind(&new.name)
                    .bind(i64::from(new.capacity)).bind(&new.facilitator).bind(now)
                    .execute(tx.conn()).await?;
                tx.log_org(&grant, None, audit).await?;
                Ok(id)
            })
        })
        .await
    }

    /// Stops offering an activity (or offers it again). Sign-ups already made stay.
    pub async fn set_activity_active(
        &self,
        actor: &Actor,
        group: GroupId,
        activity: &str,
        active: bool,
        source: Source,
    ) -> Result<()> {
        let activity = activity.to_string();
        self.write_as(actor, &source, move |tx| {
            let activity = activity.clone();
            Box::pin(async move {
                let detail = if active { "activity offered again" } else { "activity retired" };
                let audit = AuditAs::new(AuditAction::GroupUpdated)
                    .on("group", Some(group.as_text()))
                    .detail(detail);
                let grant = tx.org_action(Action::ManageGroups, audit.clone())?;
                let n = sqlx::query("UPDATE group_activities SET active = $1 WHERE org_id = $2 AND group_id = $3 AND id = $4")
                    .bind(i64::from(active)).bind(grant.org().as_text()).bind(group.as_text()).bind(&activity)
                    .execute(tx.conn()).await?.rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.log_org(&grant, None, audit).await?;
                Ok(())
            })
        })
        .await
    }

    /// A session's active activities with their live counts and the first names of who is
    /// signed up — for the people at the door. Audited as one read of the door list.
    pub async fn session_activities(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        source: Source,
    ) -> Result<Vec<SessionActivity>> {
        // A group with no activities offered: nothing about anyone to read (and no write on
        // the door page's path). Activities name no one.
        if !self
            .group_activities(actor.org_id, group)
            .await?
            .iter()
            .any(|a| a.active)
        {
            return Ok(Vec::new());
        }
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let org = tx.org();
                let Some(g) = load_group(tx.conn(), org, group).await? else {
                    return Err(StoreError::NotFound);
                };
                let audit = AuditAs::new(AuditAction::DoorListRead)
                    .on("group_session", session_resource(group, original))
                    .detail("activities");
                let grant = tx
                    .session(Action::SignInAtDoor, group, original, audit.clone())
                    .await?;
                let org = grant.org().as_text();
                let session = load_session(tx.conn(), grant.org(), group, original).await?;
                let session_capacity = session.as_ref().map(|(_, s)| s.capacity).unwrap_or(g.details.capacity);
                let mut out = Vec::new();
                for a in load_activities(tx.conn(), grant.org(), group).await?.into_iter().filter(|a| a.active) {
                    let mut sa = SessionActivity { capacity: a.capacity.min(session_capacity), taken: 0, people: Vec::new(), activity: a };
                    if let Some((sid, _)) = &session {
                        if let Some(r) = sqlx::query("SELECT capacity, taken FROM session_activity_places WHERE org_id = $1 AND session_id = $2 AND activity_id = $3")
                            .bind(&org).bind(sid).bind(&sa.activity.id).fetch_optional(tx.conn()).await?
                        {
                            sa.capacity = r.try_get::<i64, _>("capacity")? as u32;
                            sa.taken = r.try_get::<i64, _>("taken")? as u32;
                        }
                        for r in sqlx::query("SELECT a.id, a.first_name FROM activity_signups s JOIN session_attendance a ON a.org_id = s.org_id AND a.id = s.attendance_id \
                                              WHERE s.org_id = $1 AND s.session_id = $2 AND s.activity_id = $3 ORDER BY s.signed_at, s.id")
                            .bind(&org).bind(sid).bind(&sa.activity.id).fetch_all(tx.conn()).await?
                        {
                            sa.people.push((r.try_get("id")?, r.try_get("first_name")?));
                        }
                    }
                    out.push(sa);
                }
                tx.log_session(&grant, None, audit).await?;
                Ok(out)
            })
        })
        .await
    }

    /// Signs someone who is signed in to the session up to one of its activities. Exactly the
    /// activity's places are ever taken, however many devices sign people up at once; the rest
    /// are told it is full and nothing is written for them.
    pub async fn activity_sign_up(
        &self,
        actor: &Actor,
        group: GroupId,
        original: Date,
        activity: &str,
        attendance: &str,
        source: Source,
    ) -> Result<ActivitySignUp> {
        let (activity, attendance) = (activity.to_string(), attendance.to_string());
        self.write_as(actor, &source, move |tx| {
            let (activity, attendance) = (activity.clone(), attendance.clone());
            Box::pin(async move {
                let org = tx.org();
                let Some(g) = load_group(tx.conn(), org, group).await? else {
                    return Err(StoreError::NotFound);
                };
                let audit = AuditAs::new(AuditAction::ActivitySignUp)
                    .on("group_session", session_resource(group, original));
                let grant = tx
                    .session(Action::SignInAtDoor, group, original, audit.clone())
                    .await?;
                let (org, now) = (grant.org().as_text(), tx.now());
                let Some(a) = sqlx::query(&format!("SELECT {ACTIVITY_COLUMNS} FROM group_activities WHERE org_id = $1 AND group_id = $2 AND id = $3"))
                    .bind(&org).bind(group.as_text()).bind(&activity).fetch_optional(tx.conn()).await?
                else {
                    return Err(StoreError::NotFound);
                };
                let a = activity_from_row(&a)?;
                let Some((sid, session)) = ensure_session(tx.conn(), &g, original, now).await? else {
                    return Err(StoreError::NotFound);
                };
                // Only someone signed in to this very session can be signed up.
                let Some(who) = sqlx::query("SELECT person_id, first_name FROM session_attendance WHERE org_id = $1 AND session_id = $2 AND id = $3")
                    .bind(&org).bind(&sid).bind(&attendance).fetch_optional(tx.conn()).await?
                else {
                    return Err(StoreError::NotFound);
                };
                let first_name: String = who.try_get("first_name")?;
                let person: Option<PersonId> = who.try_get::<Option<String>, _>("person_id")?.map(|p| parse_uuid(&p)).transpose()?;
                if session.cancelled {
                    return Ok(ActivitySignUp::Cancelled);
                }
                if !a.active {
                    return Ok(ActivitySignUp::Retired);
                }
                if sqlx::query("SELECT 1 AS one FROM activity_signups WHERE org_id = $1 AND session_id = $2 AND activity_id = $3 AND attendance_id = $4")
                    .bind(&org).bind(&sid).bind(&a.id).bind(&attendance).fetch_optional(tx.conn()).await?.is_some()
                {
                    return Ok(ActivitySignUp::AlreadySignedUp { first_name });
                }
                let capacity = a.capacity.min(session.capacity);
                sqlx::query("INSERT INTO session_activity_places (org_id, session_id, activity_id, capacity, taken) VALUES ($1, $2, $3, $4, 0) ON CONFLICT (org_id, session_id, activity_id) DO NOTHING")
                    .bind(&org).bind(&sid).bind(&a.id).bind(i64::from(capacity)).execute(tx.conn()).await?;
                // The capacity guarantee: one conditional update of the activity's counter.
                let Some(row) = sqlx::query("UPDATE session_activity_places SET taken = taken + 1 WHERE org_id = $1 AND session_id = $2 AND activity_id = $3 AND taken < capacity RETURNING taken, capacity")
                    .bind(&org).bind(&sid).bind(&a.id).fetch_optional(tx.conn()).await?
                else {
                    return Ok(ActivitySignUp::Full { capacity });
                };
                let inserted = sqlx::query("INSERT INTO activity_signups (org_id, id, session_id, activity_id, attendance_id, signed_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, session_id, activity_id, attendance_id) DO NOTHING")
                    .bind(&org).bind(uuid::Uuid::now_v7().to_string()).bind(&sid).bind(&a.id).bind(&attendance).bind(now)
                    .execute(tx.conn()).await?.rows_affected();
                if inserted == 0 {
                    // Signed up from another instance in the meantime: give the place back.
                    sqlx::query("UPDATE session_activity_places SET taken = taken - 1 WHERE org_id = $1 AND session_id = $2 AND activity_id = $3 AND taken > 0")
                        .bind(&org).bind(&sid).bind(&a.id).execute(tx.conn()).await?;
                    return Ok(ActivitySignUp::AlreadySignedUp { first_name });
                }
                let kind = if person.is_some() { "member" } else { "walk-in" };
                tx.log_session(&grant, person, audit.detail(kind)).await?;
                Ok(ActivitySignUp::SignedUp {
                    first_name,
                    taken: row.try_get::<i64, _>("taken")? as u32,
                    capacity: row.try_get::<i64, _>("capacity")? as u32,
                })
            })
        })
        .await
    }

    /// How many sign-up rows an activity has at a session (for tests and checks).
    pub async fn activity_signup_count(
        &self,
        org: OrgId,
        group: GroupId,
        original: Date,
        activity: &str,
    ) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM activity_signups s JOIN group_sessions g ON g.org_id = s.org_id AND g.id = s.session_id WHERE s.org_id = $1 AND g.group_id = $2 AND g.original_date = $3 AND s.activity_id = $4")
            .bind(org.as_text()).bind(group.as_text()).bind(iso_date(original)).bind(activity)
            .fetch_one(self.reader()).await?;
        Ok(r.try_get("n")?)
    }
}
