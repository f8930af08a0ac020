//! Course runs: a run with its sessions, facilitators and place counts ([`Run`], no names of
//! participants), adding a run, reading runs, and the runs a user facilitates.

use super::catalogue::load_programme;
use crate::door::{AuditAs, Source};
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::education::{RunDetails, SessionTimes};
use alongside_core::ids::{ProgrammeId, RunId};
use alongside_core::{OrgId, UserId};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// A course run with its sessions, facilitators and place counts (no names of participants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: RunId,
    pub programme_id: ProgrammeId,
    pub label: String,
    pub venue: Option<String>,
    pub joining: Option<String>,
    pub capacity: i64,
    pub enrolled: i64,
    pub waiting: i64,
    pub sessions: Vec<SessionTimes>,
    /// (user id, display name)
    pub facilitators: Vec<(UserId, String)>,
    /// Cancelled (see course_runs.rs): the reason, or an empty string when none was given.
    pub cancelled: Option<String>,
}

impl Run {
    pub fn free(&self) -> i64 {
        (self.capacity - self.enrolled).max(0)
    }
    pub fn first_starts_at(&self) -> i64 {
        self.sessions.first().map(|s| s.starts_at).unwrap_or(0)
    }
}

/// Loads runs of an organisation (optionally only these ids), with sessions, facilitators and
/// counts.
pub(super) async fn load_runs(
    c: &mut AnyConnection,
    org: OrgId,
    only: Option<RunId>,
    programme: Option<ProgrammeId>,
) -> Result<Vec<Run>> {
    let o = org.as_text();
    let mut sql = String::from("SELECT id, programme_id, label, venue, joining, capacity, enrolled, cancelled_at, cancel_reason FROM edu_runs WHERE org_id = $1");
    let mut binds = vec![o.clone()];
    if let Some(r) = only {
        binds.push(r.as_text());
        sql.push_str(" AND id = $2");
    } else if let Some(p) = programme {
        binds.push(p.as_text());
        sql.push_str(" AND programme_id = $2");
    }
    sql.push_str(" ORDER BY first_starts_at, id");
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b.clone());
    }
    let rows = q.fetch_all(&mut *c).await?;
    let mut runs = Vec::new();
    let mut index = BTreeMap::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        index.insert(id.clone(), runs.len());
        runs.push(Run {
            id: parse_uuid(&id)?,
            programme_id: parse_uuid(&r.try_get::<String, _>("programme_id")?)?,
            label: r.try_get("label")?,
            venue: r.try_get("venue")?,
            joining: r.try_get("joining")?,
            capacity: r.try_get("capacity")?,
            enrolled: r.try_get("enrolled")?,
            waiting: 0,
            sessions: Vec::new(),
            facilitators: Vec::new(),
            cancelled: match r.try_get::<Option<i64>, _>("cancelled_at")? {
                Some(_) => Some(
                    r.try_get::<Option<String>, _>("cancel_reason")?
                        .unwrap_or_default(),
                ),
                None => None,
            },
        });
    }
    if runs.is_empty() {
        return Ok(runs);
    }
    let filter = if only.is_some() {
        " AND run_id = $2"
    } else {
        ""
    };
    macro_rules! run_rows {
        ($sql:expr) => {{
            let sql: String = $sql;
            let mut q = sqlx::query(&sql).bind(o.clone());
            if let Some(r) = only {
                q = q.bind(r.as_text());
            }
            q.fetch_all(&mut *c).await?
        }};
    }
    for r in run_rows!(format!(
        "SELECT run_id, starts_at, ends_at FROM edu_sessions WHERE org_id = $1{filter} ORDER BY run_id, n"
    )) {
        if let Some(i) = index.get(&r.try_get::<String, _>("run_id")?) {
            runs[*i].sessions.push(SessionTimes {
                starts_at: r.try_get("starts_at")?,
                ends_at: r.try_get("ends_at")?,
            });
        }
    }
    for r in run_rows!(format!(
        "SELECT f.run_id, f.user_id, u.display_name FROM edu_facilitators f JOIN users u ON u.org_id = f.org_id AND u.id = f.user_id WHERE f.org_id = $1{} ORDER BY u.display_name",
        filter.replace("run_id", "f.run_id")
    )) {
        if let Some(i) = index.get(&r.try_get::<String, _>("run_id")?) {
            runs[*i].facilitators.push((
                parse_uuid(&r.try_get::<String, _>("user_id")?)?,
                r.try_get("display_name")?,
            ));
        }
    }
    for r in run_rows!(format!(
        "SELECT run_id, COUNT(*) AS n FROM edu_enrolments WHERE org_id = $1 AND status = 'waiting'{filter} GROUP BY run_id"
    )) {
        if let Some(i) = index.get(&r.try_get::<String, _>("run_id")?) {
            runs[*i].waiting = r.try_get("n")?;
        }
    }
    Ok(runs)
}

impl Store {
    /// Adds a run of a group or one-to-one programme. Facilitators must be active users of
    /// the organisation.
    pub async fn create_run(
        &self,
        actor: &Actor,
        programme: ProgrammeId,
        details: RunDetails,
        source: Source,
    ) -> Result<RunId> {
        let id = RunId::new();
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("course_run", None),
                )?;
                let org = g.org().as_text();
                let p = load_programme(tx.conn(), g.org(), programme)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                if !p.details.mode.has_sessions() || d.sessions.len() != p.details.sessions as usize {
                    return Err(StoreError::Conflict("The run's sessions do not match the programme".into()));
                }
                for f in &d.facilitators {
                    let ok = sqlx::query("SELECT 1 AS one FROM users WHERE org_id = $1 AND id = $2 AND active = 1 AND role <> 'person'")
                        .bind(&org)
                        .bind(f)
                        .fetch_optional(tx.conn())
                        .await?
                        .is_some();
                    if !ok {
                        return Err(StoreError::Conflict("Select facilitators from the list of staff".into()));
                    }
                }
                let now = tx.now();
                sqlx::query("INSERT INTO edu_runs (org_id, id, programme_id, label, venue, joining, capacity, enrolled, first_starts_at, created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, 1)")
                    .bind(&org)
                    .bind(id.as_text())
                    .bind(programme.as_text())
                    .bind(&d.label)
                    .bind(&d.venue)
                    .bind(&d.joining)
                    .bind(i64::from(d.capacity))
                    .bind(d.sessions[0].starts_at)
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                for (i, s) in d.sessions.iter().enumerate() {
                    sqlx::query("INSERT INTO edu_sessions (org_id, run_id, n, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&org)
                        .bind(id.as_text())
                        .bind(i as i64 + 1)
                        .bind(s.starts_at)
                        .bind(s.ends_at)
                        .execute(tx.conn())
                        .await?;
                }
                for f in &d.facilitators {
                    sqlx::query("INSERT INTO edu_facilitators (org_id, run_id, user_id) VALUES ($1, $2, $3)")
                        .bind(&org)
                        .bind(id.as_text())
                        .bind(f)
                        .execute(tx.conn())
                        .await?;
                }
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("course_run", Some(id.as_text()))
                        .detail("course run added"),
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// Runs of an organisation (all, or one programme's), soonest first, with counts only.
    pub async fn runs(&self, org: OrgId, programme: Option<ProgrammeId>) -> Result<Vec<Run>> {
        let mut c = self.reader().acquire().await?;
        load_runs(&mut c, org, None, programme).await
    }

    pub async fn run(&self, org: OrgId, id: RunId) -> Result<Run> {
        let mut c = self.reader().acquire().await?;
        load_runs(&mut c, org, Some(id), None)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Runs a user facilitates (for an educator's home page).
    pub async fn runs_facilitated_by(&self, org: OrgId, user: UserId) -> Result<Vec<RunId>> {
        sqlx::query("SELECT f.run_id FROM edu_facilitators f JOIN edu_runs r ON r.org_id = f.org_id AND r.id = f.run_id WHERE f.org_id = $1 AND f.user_id = $2 ORDER BY r.first_starts_at")
            .bind(org.as_text())
            .bind(user.as_text())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| parse_uuid(&r.try_get::<String, _>("run_id")?))
            .collect()
    }
}
