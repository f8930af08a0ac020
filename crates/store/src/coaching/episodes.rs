//! Coaching episodes: an episode with its sessions and goals ([`EpisodeView`]), a person's
//! coaching at a glance ([`PersonCoaching`]), discharge (goal outcomes, onward referrals, the
//! re-measurement date) and reopening, and the re-measurement dates that discharge sets.

use super::caseload::link;
use super::goals::{load_goals, GoalView, Goals};
use super::referrals::{referral_from_row, ReferralRow, REFERRAL_COLUMNS, REFERRAL_FROM};
use super::sessions::{session_from_row, SessionRow, SESSION_COLUMNS, SESSION_FROM};
use super::{full_name, invalid, owner, team_rights, Record};
use crate::door::{AuditAs, PersonGrant};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::coaching::Discharge;
use alongside_core::time::Timestamp;
use alongside_core::{EpisodeId, PersonId, UserId, ValidationErrors};
use sqlx::{AnyConnection, Row};

/// An episode with everything its page shows.
#[derive(Debug, Clone)]
pub struct EpisodeView {
    pub id: EpisodeId,
    pub person_id: PersonId,
    pub person_name: String,
    pub coach_id: UserId,
    pub coach_name: String,
    pub open: bool,
    pub max_sessions: u32,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub summary: Option<String>,
    pub onward: Option<String>,
    pub remeasure_due: Option<String>,
    pub reopen_reason: Option<String>,
    pub sessions: Vec<SessionRow>,
    pub goals: Vec<GoalView>,
    /// The reader may book, record and discharge (the coaching team), as decided by the
    /// access rules for this person.
    pub may_manage: bool,
}

impl EpisodeView {
    /// Sessions that count towards the maximum.
    pub fn sessions_used(&self) -> u32 {
        self.sessions.iter().filter(|s| s.status.occupies()).count() as u32
    }
}

/// A person's coaching at a glance (for their record and their own pages).
#[derive(Debug, Clone, Default)]
pub struct PersonCoaching {
    /// The person's full name (for staff pages).
    pub person_name: String,
    pub referrals: Vec<ReferralRow>,
    /// `(id, coach name, open, opened_at, closed_at)`, newest first.
    pub episodes: Vec<(EpisodeId, String, bool, i64, Option<i64>)>,
    pub upcoming: Vec<SessionRow>,
    pub goals: Vec<GoalView>,
    /// The reader may book, record and discharge (the coaching team), as decided by the
    /// access rules for this person.
    pub may_manage: bool,
}

/// An episode of the person of `grant`, with its sessions and goals. `private_notes`: the
/// reader sees notes their coach did not share (the access rules decide).
pub(super) async fn load_episode(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    id: EpisodeId,
    private_notes: bool,
) -> Result<EpisodeView> {
    let org = grant.org();
    let r = sqlx::query(
        "SELECT e.id, e.person_id, p.given_name, p.family_name, e.coach_id, u.display_name, e.status, e.max_sessions, e.opened_at, e.closed_at, e.summary, e.onward, e.remeasure_due, e.reopen_reason FROM coaching_episodes e JOIN people p ON p.org_id = e.org_id AND p.id = e.person_id JOIN users u ON u.org_id = e.org_id AND u.id = e.coach_id WHERE e.org_id = $1 AND e.id = $2 AND e.person_id = $3",
    )
    .bind(org.as_text())
    .bind(id.as_text())
    .bind(grant.person().as_text())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    let sessions = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.episode_id = $2 ORDER BY s.starts_at, s.id"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| session_from_row(r, private_notes))
    .collect::<Result<Vec<_>>>()?;
    let goals = load_goals(c, grant, Goals::OfEpisode(id)).await?;
    Ok(EpisodeView {
        id,
        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
        person_name: full_name(&r, "given_name", "family_name")?,
        coach_id: parse_uuid(&r.try_get::<String, _>("coach_id")?)?,
        coach_name: r.try_get("display_name")?,
        open: r.try_get::<String, _>("status")? == "open",
        max_sessions: r.try_get::<i64, _>("max_sessions")? as u32,
        opened_at: r.try_get("opened_at")?,
        closed_at: r.try_get("closed_at")?,
        summary: r.try_get("summary")?,
        onward: r.try_get("onward")?,
        remeasure_due: r.try_get("remeasure_due")?,
        reopen_reason: r.try_get("reopen_reason")?,
        sessions,
        goals,
        may_manage: false,
    })
}

impl Store {
    /// An episode with its sessions and goals (audited). A person reading their own sees
    /// only the notes their coach shared.
    pub async fn episode(
        &self,
        actor: &Actor,
        id: EpisodeId,
        source: Source,
    ) -> Result<EpisodeView> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let person = owner(tx, Record::Episode, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::CoachingRead)
                    .on("coaching_episode", Some(id.as_text()));
                let g = tx
                    .person_audited(Action::ReadCoaching, person, audit_as)
                    .await?;
                let (private, may_manage) = team_rights(tx, &g).await?;
                let mut ep = load_episode(tx.conn(), &g, id, private).await?;
                ep.may_manage = may_manage;
                Ok(ep)
            })
        })
        .await
    }

    /// A person's referrals, episodes, upcoming sessions and goals (audited).
    pub async fn person_coaching(
        &self,
        actor: &Actor,
        person: PersonId,
        now: Timestamp,
        source: Source,
    ) -> Result<PersonCoaching> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::CoachingRead)
                    .on("person", Some(person.as_text()));
                let g = tx
                    .person_audited(Action::ReadCoaching, person, audit_as)
                    .await?;
                let (private, may_manage) = team_rights(tx, &g).await?;
                let (org, pid) = (g.org().as_text(), g.person().as_text());
                let referrals = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.person_id = $2 ORDER BY r.received_at DESC, r.id"))
                    .bind(&org)
                    .bind(&pid)
                    .fetch_all(tx.conn())
                    .await?
                    .iter()
                    .map(referral_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let episodes = sqlx::query("SELECT e.id, u.display_name, e.status, e.opened_at, e.closed_at FROM coaching_episodes e JOIN users u ON u.org_id = e.org_id AND u.id = e.coach_id WHERE e.org_id = $1 AND e.person_id = $2 ORDER BY e.opened_at DESC, e.id")
                    .bind(&org)
                    .bind(&pid)
                    .fetch_all(tx.conn())
                    .await?
                    .iter()
                    .map(|r| Ok((parse_uuid(&r.try_get::<String, _>("id")?)?, r.try_get("display_name")?, r.try_get::<String, _>("status")? == "open", r.try_get("opened_at")?, r.try_get("closed_at")?)))
                    .collect::<Result<Vec<_>>>()?;
                let upcoming = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.person_id = $2 AND s.status = 'booked' AND s.ends_at > $3 ORDER BY s.starts_at, s.id"))
                    .bind(&org)
                    .bind(&pid)
                    .bind(now.0)
                    .fetch_all(tx.conn())
                    .await?
                    .iter()
                    .map(|r| session_from_row(r, private))
                    .collect::<Result<Vec<_>>>()?;
                let goals = load_goals(tx.conn(), &g, Goals::All).await?;
                let person_name = sqlx::query("SELECT given_name, family_name FROM people WHERE org_id = $1 AND id = $2")
                    .bind(&org)
                    .bind(&pid)
                    .fetch_one(tx.conn())
                    .await
                    .map_err(StoreError::from)
                    .and_then(|r| full_name(&r, "given_name", "family_name"))?;
                Ok(PersonCoaching { person_name, referrals, episodes, upcoming, goals, may_manage })
            })
        })
        .await
    }

    /// Ends an episode: summary, each goal's outcome, onward referrals, and the date the
    /// person is due to fill in their activation questionnaire again. Future booked sessions
    /// are cancelled.
    pub async fn discharge(
        &self,
        actor: &Actor,
        id: EpisodeId,
        discharge: Discharge,
        remeasure_due: time::Date,
        now: Timestamp,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let discharge = discharge.clone();
            Box::pin(async move {
                let person = owner(tx, Record::Episode, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::EpisodeDischarged)
                    .on("coaching_episode", Some(id.as_text()));
                let g = tx.person(Action::ManageCoaching, person, audit_as.clone()).await?;
                let ep = load_episode(tx.conn(), &g, id, true).await?;
                if !ep.open {
                    return Err(invalid("summary", "This episode has already ended"));
                }
                let mut e = ValidationErrors::default();
                for goal in &ep.goals {
                    if !discharge.outcomes.iter().any(|(gid, _)| *gid == goal.id.as_text()) {
                        e.add(&format!("outcome-{}", goal.id), format!("Select whether \u{201c}{}\u{201d} was met, partly met or not met", goal.details.own_words));
                    }
                }
                if !e.is_empty() {
                    return Err(StoreError::Invalid(e));
                }
                let (now_us, by, org) = (tx.now(), tx.actor().user_id, g.org());
                for (gid, outcome) in &discharge.outcomes {
                    sqlx::query("UPDATE goals SET outcome = $3, updated_at = $4, updated_by = $5 WHERE org_id = $1 AND id = $2 AND episode_id = $6")
                        .bind(org.as_text())
                        .bind(gid.clone())
                        .bind(outcome.code())
                        .bind(now_us)
                        .bind(by.as_text())
                        .bind(id.as_text())
                        .execute(tx.conn())
                        .await?;
                }
                sqlx::query("UPDATE coaching_sessions SET status = 'cancelled_by_coach', cancel_reason = 'Coaching episode ended', recorded_by = $3, recorded_at = $4 WHERE org_id = $1 AND episode_id = $2 AND status = 'booked' AND starts_at > $5")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(by.as_text())
                    .bind(now_us)
                    .bind(now.0)
                    .execute(tx.conn())
                    .await?;
                sqlx::query("UPDATE coaching_episodes SET status = 'closed', closed_at = $3, closed_by = $4, summary = $5, onward = $6, remeasure_due = $7 WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(now_us)
                    .bind(by.as_text())
                    .bind(discharge.summary.clone())
                    .bind(discharge.onward.clone())
                    .bind(alongside_core::time::iso_date(remeasure_due))
                    .execute(tx.conn())
                    .await?;
                tx.log(&g, audit_as).await?;
                Ok(())
            })
        })
        .await
    }

    /// Reopens an ended episode (coordinators only), with a reason.
    pub async fn reopen_episode(
        &self,
        actor: &Actor,
        id: EpisodeId,
        reason: String,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let reason = reason.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::EpisodeReopened)
                    .on("coaching_episode", Some(id.as_text()));
                let g = tx.org_action(Action::ManageCoachingQueue, audit_as.clone())?;
                let org = g.org();
                let r = sqlx::query("SELECT person_id, coach_id, status FROM coaching_episodes WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .fetch_optional(tx.conn())
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let person: PersonId = parse_uuid(&r.try_get::<String, _>("person_id")?)?;
                let coach: UserId = parse_uuid(&r.try_get::<String, _>("coach_id")?)?;
                if r.try_get::<String, _>("status")? == "open" {
                    return Err(invalid("status", "This episode is already open"));
                }
                let other_open = sqlx::query("SELECT 1 AS one FROM coaching_episodes WHERE org_id = $1 AND person_id = $2 AND status = 'open'")
                    .bind(org.as_text())
                    .bind(person.as_text())
                    .fetch_optional(tx.conn())
                    .await?
                    .is_some();
                if other_open {
                    return Err(invalid("reopen_reason", "This person already has an open coaching episode"));
                }
                let (now, by) = (tx.now(), tx.actor().user_id);
                sqlx::query("UPDATE coaching_episodes SET status = 'open', reopened_at = $3, reopened_by = $4, reopen_reason = $5, remeasure_due = NULL WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(now)
                    .bind(by.as_text())
                    .bind(reason.clone())
                    .execute(tx.conn())
                    .await?;
                link(tx.conn(), org, coach, person, now).await?;
                tx.log_org(&g, Some(person), audit_as.detail(reason)).await?;
                Ok(())
            })
        })
        .await
    }

    /// The latest re-measurement date set by one of the person's ended coaching episodes,
    /// for their record page (whose read the page's own use case audits; a refusal here is
    /// audited as a refused read of the record).
    pub async fn coaching_remeasure_due(
        &self,
        actor: &Actor,
        person: PersonId,
        source: Source,
    ) -> Result<Option<String>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::PersonRead)
                    .on("person", Some(person.as_text()))
                    .detail("coaching re-measurement date");
                let g = tx.person(Action::ReadPerson, person, audit_as).await?;
                Ok(sqlx::query("SELECT MAX(remeasure_due) AS due FROM coaching_episodes WHERE org_id = $1 AND person_id = $2 AND status = 'closed'")
                    .bind(g.org().as_text())
                    .bind(g.person().as_text())
                    .fetch_one(tx.conn())
                    .await?
                    .try_get("due")?)
            })
        })
        .await
    }

    /// People whose coaching episode ended with a re-measurement date, and that date, for
    /// the re-measurement due list (which its own use case audits as one list view; a refusal
    /// here is audited as a refused outreach list).
    pub async fn coaching_remeasure_dates(
        &self,
        actor: &Actor,
        source: Source,
    ) -> Result<std::collections::HashMap<PersonId, String>> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::OutreachListed)
                    .on("people", None)
                    .detail("coaching re-measurement dates");
                let g = tx.org_action(Action::ReadOutreach, audit_as)?;
                let rows = sqlx::query("SELECT person_id, MAX(remeasure_due) AS due FROM coaching_episodes WHERE org_id = $1 AND status = 'closed' AND remeasure_due IS NOT NULL GROUP BY person_id")
                    .bind(g.org().as_text())
                    .fetch_all(tx.conn())
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            parse_uuid(&r.try_get::<String, _>("person_id")?)?,
                            r.try_get("due")?,
                        ))
                    })
                    .collect()
            })
        })
        .await
    }
}
