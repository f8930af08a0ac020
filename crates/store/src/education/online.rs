//! Online programmes: their content pages ([`Page`]), adding and listing pages, a person
//! completing a page and their own progress, and who has done how much ([`OnlineLearner`],
//! named, staff only).

use super::catalogue::load_programme;
use crate::door::{AuditAs, PersonGrant, Source};
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::education::{ContentPage, DeliveryMode};
use alongside_core::ids::{PageId, ProgrammeId};
use alongside_core::{OrgId, PersonId};
use sqlx::{AnyConnection, Row};

/// Progress through one online programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineProgress {
    pub programme_id: ProgrammeId,
    pub title: String,
    pub pages: i64,
    pub done: Vec<PageId>,
}

/// A content page as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub id: PageId,
    pub programme_id: ProgrammeId,
    pub position: i64,
    pub content: ContentPage,
}

/// Who has done how much of an online programme (named: staff only, audited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineLearner {
    pub person_id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub done: i64,
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

impl Store {
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
}
