//! A person's courses: their enrolments with attendance and place on the waiting list, the
//! messages sent to them and their online progress ([`PersonCourses`]), giving feedback on a run
//! and the feedback summary without names, and the upcoming sessions of the runs they are on.

use super::enrolment::attended_by;
use super::online::OnlineProgress;
use super::runs::{load_runs, Run};
use crate::door::{AuditAs, PersonGrant, Source};
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::education::{CompletionRule, Feedback, SessionTimes};
use alongside_core::ids::{ProgrammeId, RunId};
use alongside_core::PersonId;
use sqlx::{AnyConnection, Row};

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

/// Everything about one person's courses.
#[derive(Debug, Clone)]
pub struct PersonCourses {
    pub given_name: String,
    pub family_name: String,
    pub enrolments: Vec<Enrolment>,
    pub notices: Vec<Notice>,
    pub online: Vec<OnlineProgress>,
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
}
