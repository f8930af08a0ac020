//! A person's goals: goals with their steps and reviews ([`GoalView`]), loading them for a person,
//! an episode or one goal, adding a goal with its first steps, and changing a goal and its steps.

use super::{corrupt, invalid, owner, placeholders, Record};
use crate::door::{AuditAs, PersonGrant};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{GoalCategory, GoalDetails, GoalOutcome};
use alongside_core::{EpisodeId, GoalId, OrgId, PersonId, SessionId, StepId};
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone)]
pub struct StepRow {
    pub id: StepId,
    pub step: String,
    pub done: bool,
}

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub session_id: Option<SessionId>,
    pub attainment: i64,
    pub note: Option<String>,
    pub reviewed_at: i64,
}

/// A goal with its steps and reviews (oldest first).
#[derive(Debug, Clone)]
pub struct GoalView {
    pub id: GoalId,
    pub person_id: PersonId,
    pub episode_id: Option<EpisodeId>,
    pub details: GoalDetails,
    pub outcome: Option<GoalOutcome>,
    pub updated_at: i64,
    pub steps: Vec<StepRow>,
    pub reviews: Vec<ReviewRow>,
}

impl GoalView {
    pub fn latest_attainment(&self) -> Option<i64> {
        self.reviews.last().map(|r| r.attainment)
    }
}

/// Which of a person's goals to load.
pub(super) enum Goals {
    All,
    OfEpisode(EpisodeId),
    One(GoalId),
}

/// Goals of the person of `grant`, with their steps and reviews.
pub(super) async fn load_goals(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    which: Goals,
) -> Result<Vec<GoalView>> {
    let org = grant.org();
    let (extra, key) = match which {
        Goals::All => ("", None),
        Goals::OfEpisode(e) => (" AND episode_id = $3", Some(e.as_text())),
        Goals::One(g) => (" AND id = $3", Some(g.as_text())),
    };
    let sql = format!(
        "SELECT id, person_id, episode_id, own_words, category, what, how_much, when_text, how_often, importance, confidence, outcome, updated_at FROM goals WHERE org_id = $1 AND person_id = $2{extra} ORDER BY created_at, id"
    );
    let mut q = sqlx::query(&sql)
        .bind(org.as_text())
        .bind(grant.person().as_text());
    if let Some(k) = key {
        q = q.bind(k);
    }
    let rows = q.fetch_all(&mut *c).await?;
    let mut goals = Vec::with_capacity(rows.len());
    for r in &rows {
        let category: String = r.try_get("category")?;
        let outcome: Option<String> = r.try_get("outcome")?;
        let id: GoalId = parse_uuid(&r.try_get::<String, _>("id")?)?;
        goals.push(GoalView {
            id,
            person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
            episode_id: r
                .try_get::<Option<String>, _>("episode_id")?
                .as_deref()
                .map(parse_uuid)
                .transpose()?,
            details: GoalDetails {
                own_words: r.try_get("own_words")?,
                category: GoalCategory::from_code(&category)
                    .ok_or_else(|| corrupt("category", &category))?,
                what: r.try_get("what")?,
                how_much: r.try_get("how_much")?,
                when: r.try_get("when_text")?,
                how_often: r.try_get("how_often")?,
                importance: r.try_get("importance")?,
                confidence: r.try_get("confidence")?,
            },
            outcome: outcome.as_deref().and_then(GoalOutcome::from_code),
            updated_at: r.try_get("updated_at")?,
            steps: Vec::new(),
            reviews: Vec::new(),
        });
    }
    if goals.is_empty() {
        return Ok(goals);
    }
    // Steps and reviews for all these goals in two queries.
    let ids: Vec<String> = goals.iter().map(|g| g.id.as_text()).collect();
    let list = placeholders(2, ids.len());
    let sql = format!("SELECT goal_id, id, step, done FROM goal_steps WHERE org_id = $1 AND goal_id IN ({list}) ORDER BY created_at, id");
    let mut q = sqlx::query_as::<_, (String, String, String, i64)>(&sql).bind(org.as_text());
    for id in &ids {
        q = q.bind(id.clone());
    }
    for (goal, id, step, done) in q.fetch_all(&mut *c).await? {
        if let Some(g) = goals.iter_mut().find(|g| g.id.as_text() == goal) {
            g.steps.push(StepRow {
                id: parse_uuid(&id)?,
                step,
                done: done != 0,
            });
        }
    }
    let sql = format!("SELECT goal_id, session_id, attainment, note, reviewed_at FROM goal_reviews WHERE org_id = $1 AND goal_id IN ({list}) ORDER BY reviewed_at, id");
    let mut q = sqlx::query(&sql).bind(org.as_text());
    for id in &ids {
        q = q.bind(id.clone());
    }
    for r in q.fetch_all(&mut *c).await? {
        let goal: String = r.try_get("goal_id")?;
        if let Some(g) = goals.iter_mut().find(|g| g.id.as_text() == goal) {
            g.reviews.push(ReviewRow {
                session_id: r
                    .try_get::<Option<String>, _>("session_id")?
                    .as_deref()
                    .map(parse_uuid)
                    .transpose()?,
                attainment: r.try_get("attainment")?,
                note: r.try_get("note")?,
                reviewed_at: r.try_get("reviewed_at")?,
            });
        }
    }
    Ok(goals)
}

impl Store {
    /// Adds a goal (with first steps) for a person, within an episode or not.
    pub async fn add_goal(
        &self,
        actor: &Actor,
        person: PersonId,
        episode: Option<EpisodeId>,
        details: GoalDetails,
        steps: Vec<String>,
        source: Source,
    ) -> Result<GoalId> {
        let id = GoalId::new();
        self.write_as(actor, &source, move |tx| {
            let (details, steps) = (details.clone(), steps.clone());
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::GoalChanged).on("goal", Some(id.as_text()));
                let g = tx.person_audited(Action::UpdateGoals, person, audit_as).await?;
                if let Some(ep) = episode {
                    if owner(tx, Record::Episode, &ep.as_text()).await? != g.person() {
                        return Err(StoreError::NotFound);
                    }
                }
                let (now, by) = (tx.now(), tx.actor().user_id);
                sqlx::query("INSERT INTO goals (org_id, id, person_id, episode_id, own_words, category, what, how_much, when_text, how_often, importance, confidence, created_at, created_by, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $14)")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(g.person().as_text())
                    .bind(episode.map(|e| e.as_text()))
                    .bind(details.own_words.clone())
                    .bind(details.category.code())
                    .bind(details.what.clone())
                    .bind(details.how_much.clone())
                    .bind(details.when.clone())
                    .bind(details.how_often.clone())
                    .bind(details.importance)
                    .bind(details.confidence)
                    .bind(now)
                    .bind(by.as_text())
                    .execute(tx.conn())
                    .await?;
                for (i, s) in steps.iter().enumerate() {
                    insert_step(tx.conn(), g.org(), id, s, now + i as i64).await?;
                }
                Ok(id)
            })
        })
        .await
    }

    /// A goal with its steps and reviews (audited).
    pub async fn goal(&self, actor: &Actor, id: GoalId, source: Source) -> Result<GoalView> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let person = owner(tx, Record::Goal, &id.as_text()).await?;
                let audit_as =
                    AuditAs::new(AuditAction::CoachingRead).on("goal", Some(id.as_text()));
                let g = tx
                    .person_audited(Action::ReadCoaching, person, audit_as)
                    .await?;
                load_goals(tx.conn(), &g, Goals::One(id))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or(StoreError::NotFound)
            })
        })
        .await
    }

    /// Changes a goal, adds a step, and ticks steps done or not done, in one change.
    pub async fn update_goal(
        &self,
        actor: &Actor,
        id: GoalId,
        details: GoalDetails,
        new_step: Option<String>,
        done_steps: Vec<StepId>,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let (details, new_step, done_steps) = (details.clone(), new_step.clone(), done_steps.clone());
            Box::pin(async move {
                let person = owner(tx, Record::Goal, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::GoalChanged).on("goal", Some(id.as_text()));
                let g = tx.person_audited(Action::UpdateGoals, person, audit_as).await?;
                let goal = load_goals(tx.conn(), &g, Goals::One(id))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or(StoreError::NotFound)?;
                for s in &done_steps {
                    if !goal.steps.iter().any(|x| x.id == *s) {
                        return Err(invalid("done", "A ticked step is not part of this goal"));
                    }
                }
                let (now, by, org) = (tx.now(), tx.actor().user_id, g.org());
                sqlx::query("UPDATE goals SET own_words = $3, category = $4, what = $5, how_much = $6, when_text = $7, how_often = $8, importance = $9, confidence = $10, updated_at = $11, updated_by = $12 WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(details.own_words.clone())
                    .bind(details.category.code())
                    .bind(details.what.clone())
                    .bind(details.how_much.clone())
                    .bind(details.when.clone())
                    .bind(details.how_often.clone())
                    .bind(details.importance)
                    .bind(details.confidence)
                    .bind(now)
                    .bind(by.as_text())
                    .execute(tx.conn())
                    .await?;
                for s in &goal.steps {
                    let done = done_steps.contains(&s.id);
                    if done != s.done {
                        sqlx::query("UPDATE goal_steps SET done = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
                            .bind(org.as_text())
                            .bind(s.id.as_text())
                            .bind(i64::from(done))
                            .bind(now)
                            .execute(tx.conn())
                            .await?;
                    }
                }
                if let Some(step) = &new_step {
                    insert_step(tx.conn(), org, id, step, now).await?;
                }
                Ok(())
            })
        })
        .await
    }
}

async fn insert_step(
    c: &mut AnyConnection,
    org: OrgId,
    goal: GoalId,
    step: &str,
    at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO goal_steps (org_id, id, goal_id, step, done, created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5)")
        .bind(org.as_text())
        .bind(StepId::new().as_text())
        .bind(goal.as_text())
        .bind(step)
        .bind(at)
        .execute(&mut *c)
        .await?;
    Ok(())
}
