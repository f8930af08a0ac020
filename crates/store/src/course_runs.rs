//! Changing a course run once it exists: editing its dates, times, venue, facilitators and
//! places; cancelling it; moving one of its sessions.
//!
//! Each change is one use case through the door (`Store::write_as`, organisation-wide grant
//! for managing courses) that starts by locking the run row (as every
//! change of who holds a place does, see education.rs), so it cannot interleave with an
//! enrolment or a withdrawal. Places can never go below the number of people holding one;
//! raising them promotes from the waiting list exactly as a withdrawal does (`fill_places`:
//! in order, each person told, audited). Cancelling withdraws everyone enrolled or waiting and
//! tells each of them; moving a session tells everyone with a place. A refusal returns an
//! error from the use case, so its work is rolled back (the refusal's audit entry kept) and
//! nothing is half-written. This module
//! must never change who holds a place other than through those rules.

use crate::door::{AuditAs, Source};
use crate::education::{fill_places, insert_notice, lock_run};
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::education::{describe_session, RunDetails, SessionTimes};
use alongside_core::ids::RunId;
use alongside_core::{OrgId, PersonId, ValidationErrors};
use sqlx::{AnyConnection, Row};

/// Whether the run has been cancelled.
pub(crate) async fn is_cancelled(c: &mut AnyConnection, org: OrgId, run: RunId) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM edu_runs WHERE org_id = $1 AND id = $2 AND cancelled_at IS NOT NULL",
    )
    .bind(org.as_text())
    .bind(run.as_text())
    .fetch_optional(&mut *c)
    .await?
    .is_some())
}

/// "Programme title (run label)", as people are told about it.
async fn run_title(c: &mut AnyConnection, org: OrgId, run: RunId) -> Result<String> {
    let r = sqlx::query("SELECT p.title, r.label FROM edu_runs r JOIN edu_programmes p ON p.org_id = r.org_id AND p.id = r.programme_id WHERE r.org_id = $1 AND r.id = $2")
        .bind(org.as_text())
        .bind(run.as_text())
        .fetch_one(&mut *c)
        .await?;
    Ok(format!(
        "{} ({})",
        r.try_get::<String, _>("title")?,
        r.try_get::<String, _>("label")?
    ))
}

/// (person, status) of everyone enrolled on or waiting for the run.
async fn holders(c: &mut AnyConnection, org: OrgId, run: RunId) -> Result<Vec<(PersonId, String)>> {
    sqlx::query("SELECT person_id, status FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND status IN ('enrolled', 'waiting') ORDER BY joined_at, id")
        .bind(org.as_text())
        .bind(run.as_text())
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| Ok((parse_uuid(&r.try_get::<String, _>("person_id")?)?, r.try_get("status")?)))
        .collect()
}

fn cancelled_conflict() -> StoreError {
    StoreError::Conflict("This course run has been cancelled, so it cannot be changed.".into())
}

/// Locks the run row (see `lock_run`) and refuses a cancelled run: (capacity, enrolled).
async fn lock_open_run(c: &mut AnyConnection, org: OrgId, run: RunId) -> Result<(i64, i64)> {
    let Some(counts) = lock_run(c, org, run).await? else {
        return Err(StoreError::NotFound);
    };
    if is_cancelled(c, org, run).await? {
        return Err(cancelled_conflict());
    }
    Ok(counts)
}

fn invalid(field: &str, message: String) -> StoreError {
    let mut e = ValidationErrors::default();
    e.add(field, message);
    StoreError::Invalid(e)
}

impl Store {
    /// Replaces a run's name, venue, joining details, places and facilitators and, unless
    /// `keep_sessions`, its session times (the same number of sessions). Places may not go
    /// below the number of people holding one; raising them promotes from the waiting list.
    /// Returns who was promoted.
    pub async fn update_run(
        &self,
        actor: &Actor,
        run: RunId,
        details: RunDetails,
        keep_sessions: bool,
        source: Source,
    ) -> Result<Vec<PersonId>> {
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("course_run", None),
                )?;
                let org = g.org().as_text();
                let (old_capacity, enrolled) = lock_open_run(tx.conn(), g.org(), run).await?;
                if i64::from(d.capacity) < enrolled {
                    return Err(invalid("capacity", format!(
                        "{enrolled} people have a place on this run, so the number of places cannot be fewer than {enrolled}"
                    )));
                }
                for f in &d.facilitators {
                    let ok = sqlx::query("SELECT 1 AS one FROM users WHERE org_id = $1 AND id = $2 AND active = 1 AND role <> 'person'")
                        .bind(&org).bind(f).fetch_optional(tx.conn()).await?.is_some();
                    if !ok {
                        return Err(invalid("facilitators", "Select facilitators from the list of staff".into()));
                    }
                }
                if !keep_sessions {
                    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM edu_sessions WHERE org_id = $1 AND run_id = $2")
                        .bind(&org).bind(run.as_text()).fetch_one(tx.conn()).await?.try_get("n")?;
                    if n != d.sessions.len() as i64 {
                        return Err(StoreError::Conflict("The run's sessions do not match the programme".into()));
                    }
                    for (i, s) in d.sessions.iter().enumerate() {
                        sqlx::query("UPDATE edu_sessions SET starts_at = $1, ends_at = $2 WHERE org_id = $3 AND run_id = $4 AND n = $5")
                            .bind(s.starts_at).bind(s.ends_at).bind(&org).bind(run.as_text()).bind(i as i64 + 1)
                            .execute(tx.conn()).await?;
                    }
                }
                sqlx::query("UPDATE edu_runs SET label = $1, venue = $2, joining = $3, capacity = $4, \
                             first_starts_at = (SELECT MIN(starts_at) FROM edu_sessions WHERE org_id = $5 AND run_id = $6) \
                             WHERE org_id = $5 AND id = $6")
                    .bind(&d.label).bind(&d.venue).bind(&d.joining).bind(i64::from(d.capacity)).bind(&org).bind(run.as_text())
                    .execute(tx.conn()).await?;
                sqlx::query("DELETE FROM edu_facilitators WHERE org_id = $1 AND run_id = $2")
                    .bind(&org).bind(run.as_text()).execute(tx.conn()).await?;
                for f in &d.facilitators {
                    sqlx::query("INSERT INTO edu_facilitators (org_id, run_id, user_id) VALUES ($1, $2, $3)")
                        .bind(&org).bind(run.as_text()).bind(f).execute(tx.conn()).await?;
                }
                let detail = if keep_sessions { "course run changed" } else { "course run changed, with its session times" };
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("course_run", Some(run.as_text()))
                        .detail(detail),
                )
                .await?;
                let capacity = i64::from(d.capacity);
                let promoted = if capacity > old_capacity {
                    fill_places(tx, run, capacity, enrolled).await?
                } else {
                    Vec::new()
                };
                Ok(promoted)
            })
        })
        .await
    }

    /// Cancels a run: everyone with a place or on its waiting list is withdrawn and told.
    /// Cancelling it again changes nothing. Returns who was told.
    pub async fn cancel_run(
        &self,
        actor: &Actor,
        run: RunId,
        reason: Option<String>,
        source: Source,
    ) -> Result<Vec<PersonId>> {
        self.write_as(actor, &source, move |tx| {
            let reason = reason.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("course_run", None),
                )?;
                let org = g.org().as_text();
                if lock_run(tx.conn(), g.org(), run).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                if is_cancelled(tx.conn(), g.org(), run).await? {
                    return Ok(Vec::new());
                }
                let title = run_title(tx.conn(), g.org(), run).await?;
                let why = reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                let now = tx.now();
                let mut told = Vec::new();
                for (pid, status) in holders(tx.conn(), g.org(), run).await? {
                    let changed = sqlx::query("UPDATE edu_enrolments SET status = 'withdrawn', updated_at = $1 WHERE org_id = $2 AND run_id = $3 AND person_id = $4 AND status = $5")
                        .bind(now).bind(&org).bind(run.as_text()).bind(pid.as_text()).bind(&status)
                        .execute(tx.conn()).await?.rows_affected();
                    if changed != 1 {
                        return Err(StoreError::Conflict("the enrolments changed during the cancellation".into()));
                    }
                    let what = if status == "enrolled" { "your place on it has been released" } else { "you are no longer on its waiting list" };
                    insert_notice(tx.conn(), g.org(), pid, run, &format!("{title} has been cancelled{why}, so {what}. We are sorry. You can look for another course run on the courses page."), now).await?;
                    tx.log_org(
                        &g,
                        Some(pid),
                        AuditAs::new(AuditAction::CourseWithdrawn)
                            .on("course_run", Some(run.as_text()))
                            .detail(format!("run cancelled ({status})")),
                    )
                    .await?;
                    told.push(pid);
                }
                sqlx::query("UPDATE edu_runs SET enrolled = 0, cancelled_at = $1, cancel_reason = $2 WHERE org_id = $3 AND id = $4")
                    .bind(now).bind(&reason).bind(&org).bind(run.as_text())
                    .execute(tx.conn()).await?;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("course_run", Some(run.as_text()))
                        .detail("course run cancelled"),
                )
                .await?;
                Ok(told)
            })
        })
        .await
    }

    /// Moves session `n` (1-based) of a run to new times; everyone with a place is told.
    /// Returns who was told.
    pub async fn move_run_session(
        &self,
        actor: &Actor,
        run: RunId,
        n: i64,
        to: SessionTimes,
        source: Source,
    ) -> Result<Vec<PersonId>> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("course_run", None),
                )?;
                let org = g.org().as_text();
                lock_open_run(tx.conn(), g.org(), run).await?;
                let moved = sqlx::query("UPDATE edu_sessions SET starts_at = $1, ends_at = $2 WHERE org_id = $3 AND run_id = $4 AND n = $5")
                    .bind(to.starts_at).bind(to.ends_at).bind(&org).bind(run.as_text()).bind(n)
                    .execute(tx.conn()).await?.rows_affected();
                if moved != 1 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query("UPDATE edu_runs SET first_starts_at = (SELECT MIN(starts_at) FROM edu_sessions WHERE org_id = $1 AND run_id = $2) WHERE org_id = $1 AND id = $2")
                    .bind(&org).bind(run.as_text()).execute(tx.conn()).await?;
                let title = run_title(tx.conn(), g.org(), run).await?;
                let when = describe_session(to.starts_at, to.ends_at);
                let now = tx.now();
                let mut told = Vec::new();
                for (pid, status) in holders(tx.conn(), g.org(), run).await? {
                    if status != "enrolled" {
                        continue;
                    }
                    insert_notice(tx.conn(), g.org(), pid, run, &format!("Session {n} of {title} has moved: it is now on {when}."), now).await?;
                    tx.log_org(
                        &g,
                        Some(pid),
                        AuditAs::new(AuditAction::CourseChanged)
                            .on("course_run", Some(run.as_text()))
                            .detail(format!("told: session {n} moved")),
                    )
                    .await?;
                    told.push(pid);
                }
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("course_run", Some(run.as_text()))
                        .detail(format!("session {n} moved")),
                )
                .await?;
                Ok(told)
            })
        })
        .await
    }
}
