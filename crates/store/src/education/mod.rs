//! Self-management education: the programme catalogue, course runs with capacity and a
//! waiting list, enrolment, attendance, feedback, online content and progress, and the
//! education report.
//!
//! Capacity is kept by a counter on the run row (`edu_runs.enrolled`, checked `<= capacity` by
//! the schema). Every change of who holds a place starts by updating the run row, which on
//! PostgreSQL locks it until commit (on SQLite the one writer already serialises writes), so
//! two cancellations can never promote the same waiting person, and a promotion is a
//! conditional update (`... AND status = 'waiting'`) that must change exactly one row.
//!
//! Every use case goes through the door (`door.rs`): a person's enrolments, progress and
//! feedback under a grant for that person (the facilitator fact is loaded by the door), the
//! catalogue, runs and registers under an organisation-wide grant. Refusals are audited there.

use crate::door::{AuditAs, PersonGrant, Source, Tx};
use crate::users::parse_uuid;
use crate::{audit, Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::{AuditAction, Outcome};
use alongside_core::education::{
    self, CompletionRule, ContentPage, DeliveryMode, Feedback, ProgrammeDetails, RunDetails,
    SessionTimes, Waiting,
};
use alongside_core::ids::{PageId, ProgrammeId, RunId};
use alongside_core::{OrgId, PersonId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// A programme in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub id: ProgrammeId,
    pub details: ProgrammeDetails,
    pub version: i64,
}

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

/// A person's own view of one enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub run: Run,
    pub programme_title: String,
    pub completion: CompletionRule,
    pub status: String,
    pub route: String,
    /// Position on the waiting list (1 = next), when waiting.
    pub position: Option<i64>,
    pub attended: Vec<i64>,
    pub feedback_given: bool,
}

impl Enrolment {
    pub fn completed(&self) -> bool {
        self.status == "enrolled" && self.completion.completed(self.attended.len() as u32)
    }
}

/// A message for a person (e.g. a place came free for them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub run_id: RunId,
    pub message: String,
    pub created_at: i64,
}

/// Progress through one online programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineProgress {
    pub programme_id: ProgrammeId,
    pub title: String,
    pub pages: i64,
    pub done: Vec<PageId>,
}

/// Everything about one person's courses.
#[derive(Debug, Clone)]
pub struct PersonCourses {
    pub given_name: String,
    pub family_name: String,
    pub enrolments: Vec<Enrolment>,
    pub notices: Vec<Notice>,
    pub online: Vec<OnlineProgress>,
}

/// A content page as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub id: PageId,
    pub programme_id: ProgrammeId,
    pub position: i64,
    pub content: ContentPage,
}

/// Feedback on a run without names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackSummary {
    /// Responses per rating 1..=5.
    pub ratings: [i64; 5],
    pub helped: Vec<String>,
    pub better: Vec<String>,
}

impl FeedbackSummary {
    pub fn responses(&self) -> i64 {
        self.ratings.iter().sum()
    }
    pub fn mean(&self) -> Option<f64> {
        let n = self.responses();
        (n > 0).then(|| {
            self.ratings
                .iter()
                .enumerate()
                .map(|(i, c)| (i as f64 + 1.0) * *c as f64)
                .sum::<f64>()
                / n as f64
        })
    }
}

/// Who has done how much of an online programme (named: staff only, audited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineLearner {
    pub person_id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub done: i64,
}

/// Counts for the education report (suppressed by the caller before display).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgrammeFigures {
    pub programme_id: String,
    pub title: String,
    pub mode: String,
    /// People with a place (enrolled) or online progress.
    pub reached: u64,
    pub enrolments: u64,
    pub waiting: u64,
    pub withdrawn: u64,
    pub attendances: u64,
    /// Sessions with a register taken.
    pub sessions_held: u64,
    pub completed: u64,
    /// (completed, participants) by activation level 1–4 and "not measured" (index 4).
    pub by_level: [(u64, u64); 5],
    /// (completed, participants) by deprivation decile 1–10 and "not recorded" (index 10).
    pub by_decile: [(u64, u64); 11],
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EducationReport {
    pub programmes: Vec<ProgrammeFigures>,
    /// Distinct people reached across all programmes.
    pub people_reached: u64,
}

fn split_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

const PROGRAMME_COLUMNS: &str = "id, title, summary, provider, mode, sessions, session_minutes, completion_min, audience, topics, languages, accessibility, conditions, version";

fn programme_from_row(r: &AnyRow) -> Result<Programme> {
    let mode: String = r.try_get("mode")?;
    let topics: String = r.try_get("topics")?;
    Ok(Programme {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        version: r.try_get("version")?,
        details: ProgrammeDetails {
            title: r.try_get("title")?,
            summary: r.try_get("summary")?,
            provider: r.try_get("provider")?,
            mode: DeliveryMode::parse(&mode)
                .ok_or_else(|| StoreError::Corrupt(format!("bad mode {mode:?}")))?,
            sessions: r.try_get::<i64, _>("sessions")? as u32,
            session_minutes: r.try_get::<i64, _>("session_minutes")? as u32,
            completion_min: r.try_get::<i64, _>("completion_min")? as u32,
            audience: r.try_get("audience")?,
            topics: topics.lines().map(str::to_string).collect(),
            languages: split_words(&r.try_get::<String, _>("languages")?),
            accessibility: r.try_get("accessibility")?,
            conditions: split_words(&r.try_get::<String, _>("conditions")?),
        },
    })
}

async fn load_programme(
    c: &mut AnyConnection,
    org: OrgId,
    id: ProgrammeId,
) -> Result<Option<Programme>> {
    sqlx::query(&format!(
        "SELECT {PROGRAMME_COLUMNS} FROM edu_programmes WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?
    .as_ref()
    .map(programme_from_row)
    .transpose()
}

/// Loads runs of an organisation (optionally only these ids), with sessions, facilitators and
/// counts.
async fn load_runs(
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

/// Per person (id text): their latest scored activation level, and their deprivation decile —
/// the breakdowns of the education and peer-support reports.
pub(crate) async fn levels_and_deciles(
    pool: &sqlx::AnyPool,
    org: OrgId,
) -> Result<(BTreeMap<String, i64>, BTreeMap<String, i64>)> {
    levels_and_deciles_before(pool, org, None).await
}

/// As [`levels_and_deciles`], but with `before` (UTC microseconds) the level is each person's
/// latest scored questionnaire completed before that instant (the outcomes dashboard's reach
/// uses the end of its window).
pub(crate) async fn levels_and_deciles_before(
    pool: &sqlx::AnyPool,
    org: OrgId,
    before: Option<i64>,
) -> Result<(BTreeMap<String, i64>, BTreeMap<String, i64>)> {
    let org = org.as_text();
    let mut level: BTreeMap<String, i64> = BTreeMap::new();
    let rows = match before {
        None => sqlx::query("SELECT person_id, level FROM assessments WHERE org_id = $1 AND status = 'completed' AND level IS NOT NULL ORDER BY completed_at, id")
            .bind(&org)
            .fetch_all(pool)
            .await?,
        Some(t) => sqlx::query("SELECT person_id, level FROM assessments WHERE org_id = $1 AND status = 'completed' AND level IS NOT NULL AND completed_at < $2 ORDER BY completed_at, id")
            .bind(&org)
            .bind(t)
            .fetch_all(pool)
            .await?,
    };
    for r in rows {
        level.insert(r.try_get("person_id")?, r.try_get("level")?);
    }
    let mut decile: BTreeMap<String, i64> = BTreeMap::new();
    for r in sqlx::query("SELECT id, deprivation_decile FROM people WHERE org_id = $1 AND deprivation_decile IS NOT NULL")
        .bind(&org)
        .fetch_all(pool)
        .await?
    {
        decile.insert(r.try_get("id")?, r.try_get("deprivation_decile")?);
    }
    Ok((level, decile))
}

/// A person's (level, decile) slots: levels 1–4 as 0–3 and 4 for not measured; deciles 1–10
/// as 0–9 and 10 for not recorded.
pub(crate) fn slot(
    p: &str,
    level: &BTreeMap<String, i64>,
    decile: &BTreeMap<String, i64>,
) -> (usize, usize) {
    let l = level
        .get(p)
        .filter(|l| (1..=4).contains(*l))
        .map(|l| *l as usize - 1)
        .unwrap_or(4);
    let d = decile
        .get(p)
        .filter(|d| (1..=10).contains(*d))
        .map(|d| *d as usize - 1)
        .unwrap_or(10);
    (l, d)
}

async fn attended_by(
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

/// Everything about the person of `grant`'s courses: enrolments (with attendance, place on the
/// waiting list and whether feedback was given), their latest messages and online progress.
async fn load_person_courses(c: &mut AnyConnection, grant: &PersonGrant) -> Result<PersonCourses> {
    let (org_id, person) = (grant.org(), grant.person());
    let org = org_id.as_text();
    let who =
        sqlx::query("SELECT given_name, family_name FROM people WHERE org_id = $1 AND id = $2")
            .bind(&org)
            .bind(person.as_text())
            .fetch_one(&mut *c)
            .await?;
    let rows = sqlx::query("SELECT e.run_id, e.status, e.route, e.joined_at, p.title, p.completion_min, p.sessions FROM edu_enrolments e \
         JOIN edu_runs r ON r.org_id = e.org_id AND r.id = e.run_id JOIN edu_programmes p ON p.org_id = r.org_id AND p.id = r.programme_id \
         WHERE e.org_id = $1 AND e.person_id = $2 ORDER BY r.first_starts_at, r.id")
        .bind(&org)
        .bind(person.as_text())
        .fetch_all(&mut *c)
        .await?;
    let mut enrolments = Vec::new();
    for r in &rows {
        let run_id: RunId = parse_uuid(&r.try_get::<String, _>("run_id")?)?;
        let status: String = r.try_get("status")?;
        let run = load_runs(c, org_id, Some(run_id), None)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        let position = if status == "waiting" {
            let joined: i64 = r.try_get("joined_at")?;
            let ahead: i64 = sqlx::query("SELECT COUNT(*) AS n FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND status = 'waiting' AND joined_at < $3")
                .bind(&org)
                .bind(run_id.as_text())
                .bind(joined)
                .fetch_one(&mut *c)
                .await?
                .try_get("n")?;
            Some(ahead + 1)
        } else {
            None
        };
        let attended = attended_by(c, org_id, run_id)
            .await?
            .remove(&person.as_text())
            .unwrap_or_default();
        let feedback_given = sqlx::query("SELECT 1 AS one FROM edu_feedback WHERE org_id = $1 AND run_id = $2 AND person_id = $3")
            .bind(&org)
            .bind(run_id.as_text())
            .bind(person.as_text())
            .fetch_optional(&mut *c)
            .await?
            .is_some();
        enrolments.push(Enrolment {
            run,
            programme_title: r.try_get("title")?,
            completion: CompletionRule {
                min_attended: r.try_get::<i64, _>("completion_min")? as u32,
                sessions: r.try_get::<i64, _>("sessions")? as u32,
            },
            status,
            route: r.try_get("route")?,
            position,
            attended,
            feedback_given,
        });
    }
    let notices = sqlx::query("SELECT run_id, message, created_at FROM edu_notices WHERE org_id = $1 AND person_id = $2 ORDER BY created_at DESC, id DESC LIMIT 20")
        .bind(&org)
        .bind(person.as_text())
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(Notice {
                run_id: parse_uuid(&r.try_get::<String, _>("run_id")?)?,
                message: r.try_get("message")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut online: Vec<OnlineProgress> = Vec::new();
    for r in sqlx::query("SELECT p.id, p.title, (SELECT COUNT(*) FROM edu_pages g WHERE g.org_id = p.org_id AND g.programme_id = p.id) AS pages FROM edu_programmes p \
         WHERE p.org_id = $1 AND p.id IN (SELECT programme_id FROM edu_progress WHERE org_id = $1 AND person_id = $2) ORDER BY p.title")
        .bind(&org)
        .bind(person.as_text())
        .fetch_all(&mut *c)
        .await?
    {
        online.push(OnlineProgress {
            programme_id: parse_uuid(&r.try_get::<String, _>("id")?)?,
            title: r.try_get("title")?,
            pages: r.try_get("pages")?,
            done: Vec::new(),
        });
    }
    for r in sqlx::query(
        "SELECT programme_id, page_id FROM edu_progress WHERE org_id = $1 AND person_id = $2",
    )
    .bind(&org)
    .bind(person.as_text())
    .fetch_all(&mut *c)
    .await?
    {
        let prog: ProgrammeId = parse_uuid(&r.try_get::<String, _>("programme_id")?)?;
        if let Some(o) = online.iter_mut().find(|o| o.programme_id == prog) {
            o.done
                .push(parse_uuid(&r.try_get::<String, _>("page_id")?)?);
        }
    }
    Ok(PersonCourses {
        given_name: who.try_get("given_name")?,
        family_name: who.try_get("family_name")?,
        enrolments,
        notices,
        online,
    })
}

/// The pages of `programme` the person of `grant` has completed.
async fn progress_in(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    programme: ProgrammeId,
) -> Result<Vec<PageId>> {
    sqlx::query("SELECT page_id FROM edu_progress WHERE org_id = $1 AND person_id = $2 AND programme_id = $3")
        .bind(grant.org().as_text())
        .bind(grant.person().as_text())
        .bind(programme.as_text())
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| parse_uuid(&r.try_get::<String, _>("page_id")?))
        .collect()
}

/// Sessions ending at or after `from_micros` of the runs the person of `grant` has a place
/// on, soonest first: (run, programme title, session number, times).
async fn upcoming_sessions(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    from_micros: i64,
    limit: i64,
) -> Result<Vec<(RunId, String, i64, SessionTimes)>> {
    let rows = sqlx::query("SELECT s.run_id, p.title, s.n, s.starts_at, s.ends_at FROM edu_enrolments e JOIN edu_sessions s ON s.org_id = e.org_id AND s.run_id = e.run_id \
         JOIN edu_runs r ON r.org_id = e.org_id AND r.id = e.run_id JOIN edu_programmes p ON p.org_id = r.org_id AND p.id = r.programme_id \
         WHERE e.org_id = $1 AND e.person_id = $2 AND e.status = 'enrolled' AND s.ends_at >= $3 ORDER BY s.starts_at, s.run_id LIMIT $4")
        .bind(grant.org().as_text())
        .bind(grant.person().as_text())
        .bind(from_micros)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push((
            parse_uuid(&r.try_get::<String, _>("run_id")?)?,
            r.try_get("title")?,
            r.try_get("n")?,
            SessionTimes {
                starts_at: r.try_get("starts_at")?,
                ends_at: r.try_get("ends_at")?,
            },
        ));
    }
    Ok(out)
}

impl Store {
    // ---- the catalogue ---------------------------------------------------------------

    /// Adds a programme to the catalogue (educators, coordinators, administrators).
    pub async fn create_programme(
        &self,
        actor: &Actor,
        details: ProgrammeDetails,
        source: Source,
    ) -> Result<ProgrammeId> {
        let id = ProgrammeId::new();
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("programme", None),
                )?;
                let now = tx.now();
                sqlx::query(&format!("INSERT INTO edu_programmes (org_id, {PROGRAMME_COLUMNS}, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15)"))
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(&d.title)
                    .bind(&d.summary)
                    .bind(&d.provider)
                    .bind(d.mode.code())
                    .bind(i64::from(d.sessions))
                    .bind(i64::from(d.session_minutes))
                    .bind(i64::from(d.completion_min))
                    .bind(&d.audience)
                    .bind(d.topics.join("\n"))
                    .bind(d.languages.join(" "))
                    .bind(&d.accessibility)
                    .bind(d.conditions.join(" "))
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("programme", Some(id.as_text()))
                        .detail("programme added"),
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// Replaces a programme's details if nobody changed it since `expected_version`. The number
    /// of sessions of a programme with runs cannot change (the runs' dates were made from it).
    pub async fn update_programme(
        &self,
        actor: &Actor,
        id: ProgrammeId,
        expected_version: i64,
        details: ProgrammeDetails,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let d = details.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("programme", None),
                )?;
                let org = g.org();
                let before = load_programme(tx.conn(), org, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                if before.version != expected_version {
                    return Err(StoreError::StaleVersion);
                }
                let runs: i64 = sqlx::query("SELECT COUNT(*) AS n FROM edu_runs WHERE org_id = $1 AND programme_id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .fetch_one(tx.conn())
                    .await?
                    .try_get("n")?;
                if runs > 0 && (d.sessions != before.details.sessions || d.mode != before.details.mode) {
                    return Err(StoreError::Conflict("This programme has course runs, so its delivery mode and number of sessions cannot change: add a new programme instead".into()));
                }
                let now = tx.now();
                sqlx::query("UPDATE edu_programmes SET title = $1, summary = $2, provider = $3, mode = $4, sessions = $5, session_minutes = $6, completion_min = $7, audience = $8, topics = $9, languages = $10, accessibility = $11, conditions = $12, updated_at = $13, version = version + 1 WHERE org_id = $14 AND id = $15")
                    .bind(&d.title)
                    .bind(&d.summary)
                    .bind(&d.provider)
                    .bind(d.mode.code())
                    .bind(i64::from(d.sessions))
                    .bind(i64::from(d.session_minutes))
                    .bind(i64::from(d.completion_min))
                    .bind(&d.audience)
                    .bind(d.topics.join("\n"))
                    .bind(d.languages.join(" "))
                    .bind(&d.accessibility)
                    .bind(d.conditions.join(" "))
                    .bind(now)
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .execute(tx.conn())
                    .await?;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("programme", Some(id.as_text()))
                        .detail("programme changed"),
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// The organisation's catalogue, by title (reference data: no personal data, not audited).
    pub async fn programmes(&self, org: OrgId) -> Result<Vec<Programme>> {
        sqlx::query(&format!(
            "SELECT {PROGRAMME_COLUMNS} FROM edu_programmes WHERE org_id = $1 ORDER BY title, id"
        ))
        .bind(org.as_text())
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(programme_from_row)
        .collect()
    }

    pub async fn programme(&self, org: OrgId, id: ProgrammeId) -> Result<Programme> {
        let mut c = self.reader().acquire().await?;
        load_programme(&mut c, org, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    // ---- runs --------------------------------------------------------------------------

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

    // ---- enrolment and the waiting list ----------------------------------------------------

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

    // ---- a person's courses ------------------------------------------------------------------

    /// A person's enrolments (with attendance and completion), what they have been told, and
    /// their online progress — for the person themselves or staff who may see it; audited.
    pub async fn person_courses(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<PersonCourses> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let read =
                    AuditAs::new(AuditAction::EnrolmentsRead).on("person", Some(person.as_text()));
                let g = tx
                    .person(Action::ReadEnrolments, person, read.clone())
                    .await?;
                let courses = load_person_courses(tx.conn(), &g).await?;
                tx.log(&g, read.detail("courses")).await?;
                Ok(courses)
            })
        })
        .await
    }

    /// Feedback from a participant who has (or had) a place on the run. Giving it again
    /// replaces it.
    pub async fn give_feedback(
        &self,
        actor: &Actor,
        run: RunId,
        feedback: Feedback,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let f = feedback.clone();
            Box::pin(async move {
                let Some(person) = tx.actor().person_id else {
                    return Err(tx.refused(
                        None,
                        AuditAs::new(AuditAction::CourseFeedbackGiven)
                            .on("course_run", Some(run.as_text()))
                            .detail("only participants give course feedback"),
                        StoreError::Refused("only participants give course feedback"),
                    ));
                };
                let g = tx
                    .person(
                        Action::TakePartInCourse,
                        person,
                        AuditAs::new(AuditAction::CourseFeedbackGiven).on("person", Some(person.as_text())),
                    )
                    .await?;
                let org = g.org().as_text();
                let on = sqlx::query("SELECT 1 AS one FROM edu_enrolments WHERE org_id = $1 AND run_id = $2 AND person_id = $3 AND status = 'enrolled'")
                    .bind(&org).bind(run.as_text()).bind(g.person().as_text()).fetch_optional(tx.conn()).await?.is_some();
                if !on {
                    return Err(StoreError::NotFound);
                }
                let now = tx.now();
                sqlx::query("INSERT INTO edu_feedback (org_id, run_id, person_id, rating, helped, better, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (org_id, run_id, person_id) DO UPDATE SET rating = $4, helped = $5, better = $6, created_at = $7")
                    .bind(&org).bind(run.as_text()).bind(g.person().as_text()).bind(i64::from(f.rating)).bind(&f.helped).bind(&f.better).bind(now)
                    .execute(tx.conn()).await?;
                tx.log(
                    &g,
                    AuditAs::new(AuditAction::CourseFeedbackGiven).on("course_run", Some(run.as_text())),
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Feedback on a run for staff, without names (comments in random-free stored order). A
    /// refusal is audited; an allowed read names no one and is not.
    pub async fn feedback_summary(
        &self,
        actor: &Actor,
        run: RunId,
        source: Source,
    ) -> Result<FeedbackSummary> {
        self.authorise_org(
            actor,
            Action::ReadCourseRoster,
            AuditAs::new(AuditAction::EnrolmentsRead).on("course_run", Some(run.as_text())),
            &source,
        )
        .await?;
        let mut s = FeedbackSummary::default();
        for r in sqlx::query("SELECT rating, helped, better FROM edu_feedback WHERE org_id = $1 AND run_id = $2 ORDER BY created_at")
            .bind(actor.org_id.as_text())
            .bind(run.as_text())
            .fetch_all(self.reader())
            .await?
        {
            let rating: i64 = r.try_get("rating")?;
            if (1..=5).contains(&rating) {
                s.ratings[rating as usize - 1] += 1;
            }
            if let Some(h) = r.try_get::<Option<String>, _>("helped")? {
                s.helped.push(h);
            }
            if let Some(b) = r.try_get::<Option<String>, _>("better")? {
                s.better.push(b);
            }
        }
        Ok(s)
    }

    // ---- online content ---------------------------------------------------------------------

    /// Adds a page at the end of an online programme.
    pub async fn add_page(
        &self,
        actor: &Actor,
        programme: ProgrammeId,
        page: ContentPage,
        source: Source,
    ) -> Result<PageId> {
        let id = PageId::new();
        self.write_as(actor, &source, move |tx| {
            let p = page.clone();
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ManageCourses,
                    AuditAs::new(AuditAction::CourseChanged).on("programme", None),
                )?;
                let org = g.org().as_text();
                let prog = load_programme(tx.conn(), g.org(), programme)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                if prog.details.mode != DeliveryMode::Online {
                    return Err(StoreError::Conflict("Only online self-paced programmes have content pages".into()));
                }
                let next: i64 = sqlx::query("SELECT COALESCE(MAX(position), 0) + 1 AS n FROM edu_pages WHERE org_id = $1 AND programme_id = $2")
                    .bind(&org).bind(programme.as_text()).fetch_one(tx.conn()).await?.try_get("n")?;
                let resources: String = p.resources.iter().map(|(l, u)| format!("{l}|{u}")).collect::<Vec<_>>().join("\n");
                let now = tx.now();
                sqlx::query("INSERT INTO edu_pages (org_id, id, programme_id, position, module_title, title, body, video_url, resources, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(&org).bind(id.as_text()).bind(programme.as_text()).bind(next).bind(&p.module_title).bind(&p.title).bind(&p.body).bind(&p.video_url).bind(resources).bind(now)
                    .execute(tx.conn()).await?;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CourseChanged)
                        .on("programme", Some(programme.as_text()))
                        .detail("content page added"),
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// An online programme's pages in order (reference content, not audited).
    pub async fn pages(&self, org: OrgId, programme: ProgrammeId) -> Result<Vec<Page>> {
        sqlx::query("SELECT id, programme_id, position, module_title, title, body, video_url, resources FROM edu_pages WHERE org_id = $1 AND programme_id = $2 ORDER BY position")
            .bind(org.as_text())
            .bind(programme.as_text())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| {
                let resources: String = r.try_get("resources")?;
                Ok(Page {
                    id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                    programme_id: parse_uuid(&r.try_get::<String, _>("programme_id")?)?,
                    position: r.try_get("position")?,
                    content: ContentPage {
                        module_title: r.try_get("module_title")?,
                        title: r.try_get("title")?,
                        body: r.try_get("body")?,
                        video_url: r.try_get("video_url")?,
                        resources: resources
                            .lines()
                            .filter_map(|l| l.rsplit_once('|'))
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .collect(),
                    },
                })
            })
            .collect()
    }

    /// Marks a page done for the signed-in person (idempotent).
    pub async fn complete_page(
        &self,
        actor: &Actor,
        programme: ProgrammeId,
        page: PageId,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let Some(person) = tx.actor().person_id else {
                    return Err(tx.refused(
                        None,
                        AuditAs::new(AuditAction::CourseProgressSaved)
                            .on("programme", Some(programme.as_text()))
                            .detail("only the person themselves saves their progress"),
                        StoreError::Refused("only the person themselves saves their progress"),
                    ));
                };
                let g = tx
                    .person(
                        Action::TakePartInCourse,
                        person,
                        AuditAs::new(AuditAction::CourseProgressSaved).on("person", Some(person.as_text())),
                    )
                    .await?;
                let org = g.org().as_text();
                if sqlx::query("SELECT 1 AS one FROM edu_pages WHERE org_id = $1 AND id = $2 AND programme_id = $3").bind(&org).bind(page.as_text()).bind(programme.as_text()).fetch_optional(tx.conn()).await?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let now = tx.now();
                let inserted = sqlx::query("INSERT INTO edu_progress (org_id, person_id, page_id, programme_id, completed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, person_id, page_id) DO NOTHING")
                    .bind(&org).bind(g.person().as_text()).bind(page.as_text()).bind(programme.as_text()).bind(now)
                    .execute(tx.conn()).await?.rows_affected();
                if inserted == 1 {
                    tx.log(
                        &g,
                        AuditAs::new(AuditAction::CourseProgressSaved)
                            .on("programme", Some(programme.as_text()))
                            .detail("page completed"),
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Pages the signed-in person has completed in a programme (their own progress; nothing
    /// for an account that is not a person's). The decision is made as for every read of
    /// their courses, a refusal audited; the page's own view is not logged.
    pub async fn my_progress(
        &self,
        actor: &Actor,
        programme: ProgrammeId,
        source: Source,
    ) -> Result<Vec<PageId>> {
        let Some(person) = actor.person_id else {
            return Ok(Vec::new());
        };
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx
                    .person(
                        Action::ReadEnrolments,
                        person,
                        AuditAs::new(AuditAction::EnrolmentsRead)
                            .on("person", Some(person.as_text())),
                    )
                    .await?;
                progress_in(tx.conn(), &g, programme).await
            })
        })
        .await
    }

    /// Who has started an online programme and how many pages they have done (staff; each
    /// person listed is audited).
    pub async fn online_learners(
        &self,
        actor: &Actor,
        programme: ProgrammeId,
        source: Source,
    ) -> Result<Vec<OnlineLearner>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let g = tx.org_action(
                    Action::ReadCourseRoster,
                    AuditAs::new(AuditAction::EnrolmentsRead).on("programme", None),
                )?;
                let rows = sqlx::query("SELECT g.person_id, p.given_name, p.family_name, COUNT(*) AS done FROM edu_progress g JOIN people p ON p.org_id = g.org_id AND p.id = g.person_id \
                     WHERE g.org_id = $1 AND g.programme_id = $2 GROUP BY g.person_id, p.given_name, p.family_name ORDER BY p.family_name, p.given_name")
                    .bind(g.org().as_text()).bind(programme.as_text()).fetch_all(tx.conn()).await?;
                let mut out = Vec::new();
                for r in &rows {
                    let l = OnlineLearner {
                        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
                        given_name: r.try_get("given_name")?,
                        family_name: r.try_get("family_name")?,
                        done: r.try_get("done")?,
                    };
                    tx.log_org(
                        &g,
                        Some(l.person_id),
                        AuditAs::new(AuditAction::EnrolmentsRead)
                            .on("programme", Some(programme.as_text()))
                            .detail("online progress"),
                    )
                    .await?;
                    out.push(l);
                }
                Ok(out)
            })
        })
        .await
    }

    // ---- reporting ---------------------------------------------------------------------------

    /// Reach, enrolments, attendance and completion per programme, by activation level (latest
    /// scored questionnaire) and deprivation decile. Counts only; the caller suppresses small
    /// numbers. Audited as a view of aggregates: the decision and its audit entry commit before
    /// the counts are read.
    pub async fn education_report(&self, actor: &Actor, source: Source) -> Result<EducationReport> {
        self.write_as(actor, &source, |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::AggregatesRead)
                    .on("organisation", Some(tx.org().as_text()))
                    .detail("education report");
                let g = tx.org_action(Action::ReadAggregates, audit_as.clone())?;
                tx.log_org(&g, None, audit_as).await
            })
        })
        .await?;
        let org = actor.org_id.as_text();
        let pool = self.reader();
        let (level, decile) = levels_and_deciles(pool, actor.org_id).await?;
        let programmes = self.programmes(actor.org_id).await?;
        let mut figures: BTreeMap<String, ProgrammeFigures> = programmes
            .iter()
            .map(|p| {
                (
                    p.id.as_text(),
                    ProgrammeFigures {
                        programme_id: p.id.as_text(),
                        title: p.details.title.clone(),
                        mode: p.details.mode.code().into(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let rule: BTreeMap<String, (u32, i64)> = programmes
            .iter()
            .map(|p| {
                (
                    p.id.as_text(),
                    (p.details.completion_min, i64::from(p.details.sessions)),
                )
            })
            .collect();
        // Attendance per (run, person).
        let mut attended: BTreeMap<(String, String), u32> = BTreeMap::new();
        for r in sqlx::query("SELECT run_id, person_id, COUNT(*) AS n FROM edu_attendance WHERE org_id = $1 AND present = 1 GROUP BY run_id, person_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            attended.insert(
                (r.try_get("run_id")?, r.try_get("person_id")?),
                r.try_get::<i64, _>("n")? as u32,
            );
        }
        for r in sqlx::query("SELECT r.programme_id, COUNT(DISTINCT a.run_id || ':' || CAST(a.n AS TEXT)) AS held FROM edu_attendance a JOIN edu_runs r ON r.org_id = a.org_id AND r.id = a.run_id WHERE a.org_id = $1 GROUP BY r.programme_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            if let Some(f) = figures.get_mut(&r.try_get::<String, _>("programme_id")?) {
                f.sessions_held = r.try_get::<i64, _>("held")? as u64;
            }
        }
        let mut reached_all: std::collections::BTreeSet<String> = Default::default();
        let mut reached: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for r in sqlx::query("SELECT r.programme_id, e.run_id, e.person_id, e.status FROM edu_enrolments e JOIN edu_runs r ON r.org_id = e.org_id AND r.id = e.run_id WHERE e.org_id = $1")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            let prog: String = r.try_get("programme_id")?;
            let run: String = r.try_get("run_id")?;
            let person: String = r.try_get("person_id")?;
            let status: String = r.try_get("status")?;
            let Some(f) = figures.get_mut(&prog) else {
                continue;
            };
            match status.as_str() {
                "waiting" => f.waiting += 1,
                "withdrawn" => f.withdrawn += 1,
                _ => {}
            }
            let n = attended.get(&(run.clone(), person.clone())).copied().unwrap_or(0);
            f.attendances += u64::from(n);
            if status == "enrolled" {
                f.enrolments += 1;
                reached.entry(prog.clone()).or_default().insert(person.clone());
                reached_all.insert(person.clone());
                let (min, _) = rule[&prog];
                let done = CompletionRule { min_attended: min, sessions: 0 }.completed(n);
                let (l, d) = slot(&person, &level, &decile);
                f.by_level[l].1 += 1;
                f.by_decile[d].1 += 1;
                if done {
                    f.completed += 1;
                    f.by_level[l].0 += 1;
                    f.by_decile[d].0 += 1;
                }
            }
        }
        // Online programmes: reached = started; completed = every page done.
        let mut pages: BTreeMap<String, i64> = BTreeMap::new();
        for r in sqlx::query("SELECT programme_id, COUNT(*) AS n FROM edu_pages WHERE org_id = $1 GROUP BY programme_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            pages.insert(r.try_get("programme_id")?, r.try_get("n")?);
        }
        for r in sqlx::query("SELECT programme_id, person_id, COUNT(*) AS n FROM edu_progress WHERE org_id = $1 GROUP BY programme_id, person_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            let prog: String = r.try_get("programme_id")?;
            let person: String = r.try_get("person_id")?;
            let n: i64 = r.try_get("n")?;
            let Some(f) = figures.get_mut(&prog) else {
                continue;
            };
            f.enrolments += 1;
            reached.entry(prog.clone()).or_default().insert(person.clone());
            reached_all.insert(person.clone());
            let (l, d) = slot(&person, &level, &decile);
            f.by_level[l].1 += 1;
            f.by_decile[d].1 += 1;
            if pages.get(&prog).is_some_and(|p| n >= *p && *p > 0) {
                f.completed += 1;
                f.by_level[l].0 += 1;
                f.by_decile[d].0 += 1;
            }
        }
        for (prog, people) in reached {
            if let Some(f) = figures.get_mut(&prog) {
                f.reached = people.len() as u64;
            }
        }
        let mut out: Vec<ProgrammeFigures> = figures.into_values().collect();
        out.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(EducationReport {
            programmes: out,
            people_reached: reached_all.len() as u64,
        })
    }

    /// Upcoming sessions of the runs a person is enrolled on, soonest first: (run, programme
    /// title, session number, times) — for the person themselves or staff who may see their
    /// enrolments; audited like every read of a person's enrolments.
    pub async fn upcoming_course_sessions(
        &self,
        actor: &Actor,
        person: PersonId,
        from_micros: i64,
        limit: i64,
        source: Source,
    ) -> Result<Vec<(RunId, String, i64, SessionTimes)>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let read =
                    AuditAs::new(AuditAction::EnrolmentsRead).on("person", Some(person.as_text()));
                let g = tx
                    .person(Action::ReadEnrolments, person, read.clone())
                    .await?;
                let out = upcoming_sessions(tx.conn(), &g, from_micros, limit).await?;
                tx.log(&g, read.detail("upcoming course sessions")).await?;
                Ok(out)
            })
        })
        .await
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
