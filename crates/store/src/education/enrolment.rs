//! Enrolment and the waiting list: enrolling and withdrawing, the run-row lock and the counter
//! that keep a run within its capacity, filling free places from the waiting list in the core
//! rule's order (with a notice for each person promoted), the register of a run and recording
//! attendance.

use crate::door::{AuditAs, Source, Tx};
use crate::users::parse_uuid;
use crate::{audit, Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::{AuditAction, Outcome};
use alongside_core::education::{self, Waiting};
use alongside_core::ids::RunId;
use alongside_core::{OrgId, PersonId};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// What enrolling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolOutcome {
    Enrolled,
    /// Put on the waiting list at this position (1 = next).
    Waiting(i64),
    AlreadyEnrolled,
    AlreadyWaiting,
}

/// What withdrawing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The status the person had: `enrolled`, `waiting`, or `None` when they had neither.
    pub was: Option<String>,
    /// Who was promoted from the waiting list into the freed place.
    pub promoted: Vec<PersonId>,
}

/// One person on a run, as staff see them on the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub person_id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub status: String,
    pub route: String,
    pub joined_at: i64,
    /// Session numbers (1-based) attended.
    pub attended: Vec<i64>,
}

/// Everyone on a run (enrolled first, then the waiting list in order).
#[derive(Debug, Clone)]
pub struct Roster {
    pub enrolled: Vec<Participant>,
    pub waiting: Vec<Participant>,
    /// Sessions with a register taken.
    pub registers_taken: Vec<i64>,
}

/// Locks the run row for the rest of the transaction and returns (capacity, enrolled).
pub(crate) async fn lock_run(
    c: &mut AnyConnection,
    org: OrgId,
    run: RunId,
) -> Result<Option<(i64, i64)>> {
    let row = sqlx::query(
        "UPDATE edu_runs SET version = version + 1 WHERE org_id = $1 AND id = $2 RETURNING capacity, enrolled",
    )
    .bind(org.as_text())
    .bind(run.as_text())
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| Ok((r.try_get("capacity")?, r.try_get("enrolled")?)))
        .transpose()
}

/// Tells a person something about a run (shown on their courses page), stamped `now`.
pub(crate) async fn insert_notice(
    c: &mut AnyConnection,
    org: OrgId,
    person: PersonId,
    run: RunId,
    message: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO edu_notices (org_id, id, person_id, run_id, message, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(org.as_text())
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(person.as_text())
        .bind(run.as_text())
        .bind(message)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Fills free places on a run locked in this use case from its waiting list, in the core
/// rule's order; each promotion changes exactly one waiting row, bumps the counter, tells the
/// person and is audited (in the use case's transaction, under the grant that freed or added
/// the places). Returns who was promoted.
pub(crate) async fn fill_places(
    tx: &mut Tx<'_>,
    run: RunId,
    capacity: i64,
    enrolled: i64,
) -> Result<Vec<PersonId>> {
    let org = tx.org();
    let now = tx.now();
    let free = education::free_places(capacity.max(0) as u32, enrolled.max(0) as u32);
    if free == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query("SELECT id, person_id, joined_at FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND status = 'waiting'")
        .bind(org.as_text())
        .bind(run.as_text())
        .fetch_all(tx.conn())
        .await?;
    let mut person_of = BTreeMap::new();
    let mut waiting = Vec::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        person_of.insert(id.clone(), r.try_get::<String, _>("person_id")?);
        waiting.push(Waiting {
            enrolment_id: id,
            joined_at: r.try_get("joined_at")?,
        });
    }
    let title: String = sqlx::query("SELECT p.title, r.label FROM edu_runs r JOIN edu_programmes p ON p.org_id = r.org_id AND p.id = r.programme_id WHERE r.org_id = $1 AND r.id = $2")
        .bind(org.as_text())
        .bind(run.as_text())
        .fetch_one(tx.conn())
        .await
        .and_then(|r| Ok(format!("{} ({})", r.try_get::<String, _>("title")?, r.try_get::<String, _>("label")?)))?;
    let mut promoted = Vec::new();
    for w in education::promote(waiting, free) {
        let changed = sqlx::query("UPDATE edu_enrolments SET status = 'enrolled', promoted_at = $1, updated_at = $1 WHERE org_id = $2 AND id = $3 AND status = 'waiting'")
            .bind(now)
            .bind(org.as_text())
            .bind(&w.enrolment_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(StoreError::Conflict(
                "the waiting list changed during a promotion".into(),
            ));
        }
        sqlx::query("UPDATE edu_runs SET enrolled = enrolled + 1 WHERE org_id = $1 AND id = $2")
            .bind(org.as_text())
            .bind(run.as_text())
            .execute(tx.conn())
            .await?;
        let pid: PersonId = parse_uuid(&person_of[&w.enrolment_id])?;
        insert_notice(
            tx.conn(),
            org,
            pid,
            run,
            &format!("A place came free on {title} and it is yours: you are now enrolled. If you can no longer come, withdraw so the next person can have it."),
            now,
        )
        .await?;
        let e = tx.event(
            Outcome::Allowed,
            Some(pid),
            AuditAs::new(AuditAction::CoursePromoted)
                .on("course_run", Some(run.as_text()))
                .detail("moved from the waiting list into a freed place"),
        );
        audit::append(tx.conn(), &e).await?;
        promoted.push(pid);
    }
    Ok(promoted)
}

pub(super) async fn attended_by(
    c: &mut AnyConnection,
    org: OrgId,
    run: RunId,
) -> Result<BTreeMap<String, Vec<i64>>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in sqlx::query("SELECT person_id, n FROM edu_attendance WHERE org_id = $1 AND run_id = $2 AND present = 1 ORDER BY n")
        .bind(org.as_text())
        .bind(run.as_text())
        .fetch_all(&mut *c)
        .await?
    {
        out.entry(r.try_get("person_id")?)
            .or_default()
            .push(r.try_get("n")?);
    }
    Ok(out)
}

impl Store {
    /// Enrols a person on a run — the person themselves, or by referral (a coordinator, or a
    /// coach for their caseload) — or, when it is full, puts them on its waiting list.
    pub async fn enrol(
        &self,
        actor: &Actor,
        run: RunId,
        person: PersonId,
        source: Source,
    ) -> Result<EnrolOutcome> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx
                    .person(
                        Action::EnrolOnCourse,
                        person,
                        AuditAs::new(AuditAction::CourseEnrolled).on("person", Some(person.as_text())),
                    )
                    .await?;
                let (capacity, enrolled) = lock_run(tx.conn(), g.org(), run)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                if crate::course_runs::is_cancelled(tx.conn(), g.org(), run).await? {
                    return Err(StoreError::Conflict("This course run has been cancelled, so nobody can join it.".into()));
                }
                let org = g.org().as_text();
                let existing = sqlx::query("SELECT id, status FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND person_id = $3")
                    .bind(&org)
                    .bind(run.as_text())
                    .bind(g.person().as_text())
                    .fetch_optional(tx.conn())
                    .await?;
                let existing: Option<(String, String)> = match existing {
                    Some(r) => Some((r.try_get("id")?, r.try_get("status")?)),
                    None => None,
                };
                match existing.as_ref().map(|(_, s)| s.as_str()) {
                    Some("enrolled") => return Ok(EnrolOutcome::AlreadyEnrolled),
                    Some("waiting") => return Ok(EnrolOutcome::AlreadyWaiting),
                    _ => {}
                }
                let place = education::free_places(capacity as u32, enrolled as u32) > 0;
                let status = if place { "enrolled" } else { "waiting" };
                let route = if tx.actor().person_id == Some(person) { "self" } else { "referral" };
                let referred_by = (route == "referral").then(|| tx.actor().user_id.as_text());
                let now = tx.now();
                match existing {
                    Some((id, _)) => {
                        sqlx::query("UPDATE edu_enrolments SET status = $1, route = $2, referred_by = $3, joined_at = $4, promoted_at = NULL, updated_at = $4 WHERE org_id = $5 AND id = $6")
                            .bind(status).bind(route).bind(&referred_by).bind(now).bind(&org).bind(&id)
                            .execute(tx.conn()).await?;
                    }
                    None => {
                        sqlx::query("INSERT INTO edu_enrolments (org_id, id, run_id, person_id, status, route, referred_by, joined_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                            .bind(&org).bind(uuid::Uuid::now_v7().to_string()).bind(run.as_text()).bind(g.person().as_text())
                            .bind(status).bind(route).bind(&referred_by).bind(now)
                            .execute(tx.conn()).await?;
                    }
                }
                let outcome = if place {
                    sqlx::query("UPDATE edu_runs SET enrolled = enrolled + 1 WHERE org_id = $1 AND id = $2")
                        .bind(&org).bind(run.as_text()).execute(tx.conn()).await?;
                    EnrolOutcome::Enrolled
                } else {
                    let pos: i64 = sqlx::query("SELECT COUNT(*) AS n FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND status = 'waiting'")
                        .bind(&org).bind(run.as_text()).fetch_one(tx.conn()).await?.try_get("n")?;
                    EnrolOutcome::Waiting(pos)
                };
                tx.log(
                    &g,
                    AuditAs::new(AuditAction::CourseEnrolled)
                        .on("course_run", Some(run.as_text()))
                        .detail(format!("{} ({route})", if place { "enrolled" } else { "waiting list" })),
                )
                .await?;
                Ok(outcome)
            })
        })
        .await
    }

    /// Withdraws a person from a run (or its waiting list). A freed place goes at once to the
    /// next person waiting, who is told — in the same transaction, exactly once.
    pub async fn withdraw(
        &self,
        actor: &Actor,
        run: RunId,
        person: PersonId,
        source: Source,
    ) -> Result<Withdrawal> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx
                    .person(
                        Action::EnrolOnCourse,
                        person,
                        AuditAs::new(AuditAction::CourseWithdrawn).on("person", Some(person.as_text())),
                    )
                    .await?;
                let (capacity, enrolled) = lock_run(tx.conn(), g.org(), run)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let org = g.org().as_text();
                let row = sqlx::query("SELECT id, status FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND person_id = $3 AND status IN ('enrolled', 'waiting')")
                    .bind(&org).bind(run.as_text()).bind(g.person().as_text())
                    .fetch_optional(tx.conn()).await?;
                let Some(row) = row else {
                    return Ok(Withdrawal { was: None, promoted: Vec::new() });
                };
                let id: String = row.try_get("id")?;
                let was: String = row.try_get("status")?;
                let now = tx.now();
                let changed = sqlx::query("UPDATE edu_enrolments SET status = 'withdrawn', updated_at = $1 WHERE org_id = $2 AND id = $3 AND status = $4")
                    .bind(now).bind(&org).bind(&id).bind(&was)
                    .execute(tx.conn()).await?.rows_affected();
                if changed != 1 {
                    return Err(StoreError::Conflict("the enrolment changed during withdrawal".into()));
                }
                tx.log(
                    &g,
                    AuditAs::new(AuditAction::CourseWithdrawn)
                        .on("course_run", Some(run.as_text()))
                        .detail(format!("withdrawn ({was})")),
                )
                .await?;
                let mut promoted = Vec::new();
                if was == "enrolled" {
                    sqlx::query("UPDATE edu_runs SET enrolled = enrolled - 1 WHERE org_id = $1 AND id = $2")
                        .bind(&org).bind(run.as_text()).execute(tx.conn()).await?;
                    promoted = fill_places(tx, run, capacity, enrolled - 1).await?;
                }
                Ok(Withdrawal { was: Some(was), promoted })
            })
        })
        .await
    }

    /// Everyone on a run, for its register (staff who run or coordinate education). Each
    /// person listed gets an audit entry.
    pub async fn roster(&self, actor: &Actor, run: RunId, source: Source) -> Result<Roster> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ReadCourseRoster,
                    AuditAs::new(AuditAction::EnrolmentsRead).on("course_run", None),
                )?;
                let org = g.org().as_text();
                if sqlx::query("SELECT 1 AS one FROM edu_runs WHERE org_id = $1 AND id = $2").bind(&org).bind(run.as_text()).fetch_optional(tx.conn()).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let attended = attended_by(tx.conn(), g.org(), run).await?;
                let rows = sqlx::query("SELECT e.person_id, e.status, e.route, e.joined_at, p.given_name, p.family_name FROM edu_enrolments e JOIN people p ON p.org_id = e.org_id AND p.id = e.person_id \
                     WHERE e.org_id = $1 AND e.run_id = $2 AND e.status IN ('enrolled', 'waiting') ORDER BY e.joined_at, e.id")
                    .bind(&org).bind(run.as_text()).fetch_all(tx.conn()).await?;
                let mut roster = Roster { enrolled: Vec::new(), waiting: Vec::new(), registers_taken: Vec::new() };
                for r in &rows {
                    let pid: String = r.try_get("person_id")?;
                    let p = Participant {
                        person_id: parse_uuid(&pid)?,
                        given_name: r.try_get("given_name")?,
                        family_name: r.try_get("family_name")?,
                        status: r.try_get("status")?,
                        route: r.try_get("route")?,
                        joined_at: r.try_get("joined_at")?,
                        attended: attended.get(&pid).cloned().unwrap_or_default(),
                    };
                    tx.log_org(
                        &g,
                        Some(p.person_id),
                        AuditAs::new(AuditAction::EnrolmentsRead)
                            .on("course_run", Some(run.as_text()))
                            .detail("course register"),
                    )
                    .await?;
                    if p.status == "enrolled" { roster.enrolled.push(p) } else { roster.waiting.push(p) }
                }
                roster.enrolled.sort_by(|a, b| (&a.family_name, &a.given_name).cmp(&(&b.family_name, &b.given_name)));
                for r in sqlx::query("SELECT DISTINCT n FROM edu_attendance WHERE org_id = $1 AND run_id = $2 ORDER BY n").bind(&org).bind(run.as_text()).fetch_all(tx.conn()).await? {
                    roster.registers_taken.push(r.try_get("n")?);
                }
                Ok(roster)
            })
        })
        .await
    }

    /// Takes the register for session `n`: everyone enrolled is recorded present (in
    /// `present`) or absent. Taking it again replaces it.
    pub async fn record_attendance(
        &self,
        actor: &Actor,
        run: RunId,
        n: i64,
        present: Vec<PersonId>,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let present = present.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ReadCourseRoster,
                    AuditAs::new(AuditAction::AttendanceRecorded).on("course_run", None),
                )?;
                let org = g.org().as_text();
                if sqlx::query("SELECT 1 AS one FROM edu_sessions WHERE org_id = $1 AND run_id = $2 AND n = $3").bind(&org).bind(run.as_text()).bind(n).fetch_optional(tx.conn()).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let enrolled: Vec<String> = sqlx::query("SELECT person_id FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND status = 'enrolled'")
                    .bind(&org).bind(run.as_text()).fetch_all(tx.conn()).await?
                    .iter().map(|r| r.try_get::<String, _>("person_id")).collect::<Result<_, _>>()?;
                if present.iter().any(|p| !enrolled.contains(&p.as_text())) {
                    return Err(StoreError::Conflict("Only people enrolled on this run can be marked present".into()));
                }
                let now = tx.now();
                let me = tx.actor().user_id.as_text();
                for pid in &enrolled {
                    let here = present.iter().any(|p| &p.as_text() == pid);
                    sqlx::query("INSERT INTO edu_attendance (org_id, run_id, n, person_id, present, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                                 ON CONFLICT (org_id, run_id, n, person_id) DO UPDATE SET present = $5, recorded_by = $6, recorded_at = $7")
                        .bind(&org).bind(run.as_text()).bind(n).bind(pid).bind(i64::from(here)).bind(&me).bind(now)
                        .execute(tx.conn()).await?;
                    tx.log_org(
                        &g,
                        Some(parse_uuid(pid)?),
                        AuditAs::new(AuditAction::AttendanceRecorded)
                            .on("course_run", Some(run.as_text()))
                            .detail(format!("session {n}: {}", if here { "present" } else { "absent" })),
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }
}
