//! A coach's caseload: the signed-in coach's open episodes with their sessions, activation, goals
//! and what is overdue, this week's sessions and the referrals offered to them; and the
//! coach–person caseload links that referrals and episodes keep.

use super::coaches::{coach_summary, CoachSummary};
use super::referrals::{referral_from_row, ReferralRow, REFERRAL_COLUMNS, REFERRAL_FROM};
use super::sessions::{session_from_row, SessionRow, SESSION_COLUMNS, SESSION_FROM};
use super::{full_name, placeholders};
use crate::door::{AuditAs, OrgGrant};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::time::Timestamp;
use alongside_core::{EpisodeId, OrgId, PersonId, UserId};
use sqlx::{AnyConnection, Row};

/// One person on a coach's caseload.
#[derive(Debug, Clone)]
pub struct CaseloadRow {
    pub person_id: PersonId,
    pub person_name: String,
    pub episode_id: EpisodeId,
    pub sessions_used: u32,
    pub max_sessions: u32,
    pub next_session: Option<Timestamp>,
    /// Latest level and the change in score since the first measurement, when measured twice.
    pub level: Option<i64>,
    pub score_change: Option<f64>,
    pub goals: u32,
    /// Mean of each goal's latest attainment, over goals reviewed at least once.
    pub mean_attainment: Option<f64>,
    /// Past sessions still shown as booked (attendance not recorded).
    pub unrecorded_sessions: u32,
    /// Goals not reviewed in the last 28 days (or ever, if set more than 28 days ago).
    pub overdue_reviews: u32,
}

#[derive(Debug, Clone)]
pub struct Caseload {
    pub coach: CoachSummary,
    pub people: Vec<CaseloadRow>,
    /// This coach's sessions from today to the end of the week (Europe/London), booked only.
    pub week: Vec<SessionRow>,
    /// Referrals allocated to this coach and waiting for their decision.
    pub offered: Vec<ReferralRow>,
}

/// Keeps the coach–person caseload link only while something still ties them: an open
/// episode or an allocated referral. Closed episodes keep the link, so the coach can still
/// read the discharge and the person's goals.
pub(super) async fn unlink_if_unused(
    c: &mut AnyConnection,
    org: OrgId,
    coach: UserId,
    person: PersonId,
) -> Result<()> {
    let tied = sqlx::query("SELECT 1 AS one FROM coaching_episodes WHERE org_id = $1 AND coach_id = $2 AND person_id = $3 UNION ALL SELECT 1 AS one FROM coaching_referrals WHERE org_id = $1 AND coach_id = $2 AND person_id = $3 AND status = 'allocated'")
        .bind(org.as_text())
        .bind(coach.as_text())
        .bind(person.as_text())
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    if !tied {
        sqlx::query("DELETE FROM caseload WHERE org_id = $1 AND coach_id = $2 AND person_id = $3")
            .bind(org.as_text())
            .bind(coach.as_text())
            .bind(person.as_text())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub(super) async fn link(
    c: &mut AnyConnection,
    org: OrgId,
    coach: UserId,
    person: PersonId,
    now: i64,
) -> Result<()> {
    let exists = sqlx::query(
        "SELECT 1 AS one FROM caseload WHERE org_id = $1 AND coach_id = $2 AND person_id = $3",
    )
    .bind(org.as_text())
    .bind(coach.as_text())
    .bind(person.as_text())
    .fetch_optional(&mut *c)
    .await?
    .is_some();
    if !exists {
        sqlx::query(
            "INSERT INTO caseload (org_id, coach_id, person_id, added_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(org.as_text())
        .bind(coach.as_text())
        .bind(person.as_text())
        .bind(now)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// A coach's caseload under their own-caseload grant: open episodes with next session,
/// sessions used, activation and its change, goals and their progress, and what is overdue;
/// this week's sessions; referrals offered to them.
async fn load_caseload(
    c: &mut AnyConnection,
    grant: &OrgGrant,
    coach_id: UserId,
    now: Timestamp,
    week_end: Timestamp,
) -> Result<Caseload> {
    let org = grant.org().as_text();
    let coach = coach_id.as_text();
    let summary = coach_summary(c, grant.org(), coach_id).await?;
    // Open episodes with the person's name, sessions used and next session.
    let rows = sqlx::query(
        "SELECT e.id, e.person_id, p.given_name, p.family_name, e.max_sessions, \
         (SELECT COUNT(*) FROM coaching_sessions s WHERE s.org_id = e.org_id AND s.episode_id = e.id AND s.status IN ('booked', 'attended', 'did_not_attend')) AS used, \
         (SELECT MIN(s.starts_at) FROM coaching_sessions s WHERE s.org_id = e.org_id AND s.episode_id = e.id AND s.status = 'booked' AND s.starts_at >= $3) AS next_at, \
         (SELECT COUNT(*) FROM coaching_sessions s WHERE s.org_id = e.org_id AND s.episode_id = e.id AND s.status = 'booked' AND s.ends_at < $3) AS unrecorded \
         FROM coaching_episodes e JOIN people p ON p.org_id = e.org_id AND p.id = e.person_id \
         WHERE e.org_id = $1 AND e.coach_id = $2 AND e.status = 'open' ORDER BY p.family_name, p.given_name, e.id",
    )
    .bind(&org)
    .bind(&coach)
    .bind(now.0)
    .fetch_all(&mut *c)
    .await?;
    let mut people = Vec::with_capacity(rows.len());
    for r in &rows {
        people.push(CaseloadRow {
            person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
            person_name: full_name(r, "given_name", "family_name")?,
            episode_id: parse_uuid(&r.try_get::<String, _>("id")?)?,
            sessions_used: r.try_get::<i64, _>("used")? as u32,
            max_sessions: r.try_get::<i64, _>("max_sessions")? as u32,
            next_session: r.try_get::<Option<i64>, _>("next_at")?.map(Timestamp),
            level: None,
            score_change: None,
            goals: 0,
            mean_attainment: None,
            unrecorded_sessions: r.try_get::<i64, _>("unrecorded")? as u32,
            overdue_reviews: 0,
        });
    }
    if !people.is_empty() {
        // Activation: every completed, scored measurement of these people, oldest first.
        let ids: Vec<String> = people.iter().map(|p| p.person_id.as_text()).collect();
        let list = placeholders(2, ids.len());
        let sql = format!("SELECT person_id, score, level FROM assessments WHERE org_id = $1 AND person_id IN ({list}) AND status = 'completed' AND score IS NOT NULL ORDER BY completed_at");
        let mut q = sqlx::query(&sql).bind(&org);
        for id in &ids {
            q = q.bind(id.clone());
        }
        // (first score, latest score, how many) per person.
        let mut seen: std::collections::HashMap<String, (f64, f64, u32)> = Default::default();
        for r in q.fetch_all(&mut *c).await? {
            let pid: String = r.try_get("person_id")?;
            let score: f64 = r.try_get("score")?;
            let level: Option<i64> = r.try_get("level")?;
            let e = seen.entry(pid.clone()).or_insert((score, score, 0));
            e.1 = score;
            e.2 += 1;
            if let Some(row) = people.iter_mut().find(|p| p.person_id.as_text() == pid) {
                row.level = level;
            }
        }
        for p in &mut people {
            if let Some((first, last, n)) = seen.get(&p.person_id.as_text()) {
                if *n >= 2 {
                    p.score_change = Some(last - first);
                }
            }
        }
        // Goals and their latest reviews.
        let sql = format!("SELECT g.person_id, g.id, g.created_at, (SELECT MAX(r.reviewed_at) FROM goal_reviews r WHERE r.org_id = g.org_id AND r.goal_id = g.id) AS last_review, (SELECT r.attainment FROM goal_reviews r WHERE r.org_id = g.org_id AND r.goal_id = g.id ORDER BY r.reviewed_at DESC, r.id DESC LIMIT 1) AS attainment FROM goals g WHERE g.org_id = $1 AND g.person_id IN ({list}) AND g.outcome IS NULL");
        let mut q = sqlx::query(&sql).bind(&org);
        for id in &ids {
            q = q.bind(id.clone());
        }
        let overdue_before = now.0 - 28 * 86_400 * 1_000_000;
        let mut sums: std::collections::HashMap<String, (f64, u32)> = Default::default();
        for r in q.fetch_all(&mut *c).await? {
            let pid: String = r.try_get("person_id")?;
            let created: i64 = r.try_get("created_at")?;
            let last: Option<i64> = r.try_get("last_review")?;
            let att: Option<i64> = r.try_get("attainment")?;
            if let Some(row) = people.iter_mut().find(|p| p.person_id.as_text() == pid) {
                row.goals += 1;
                if last.unwrap_or(created) < overdue_before {
                    row.overdue_reviews += 1;
                }
                if let Some(a) = att {
                    let s = sums.entry(pid).or_default();
                    s.0 += a as f64;
                    s.1 += 1;
                }
            }
        }
        for p in &mut people {
            if let Some((s, n)) = sums.get(&p.person_id.as_text()) {
                p.mean_attainment = Some(s / f64::from(*n));
            }
        }
    }
    let week = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.coach_id = $2 AND s.status = 'booked' AND s.ends_at > $3 AND s.starts_at < $4 ORDER BY s.starts_at, s.id"))
        .bind(&org)
        .bind(&coach)
        .bind(now.0 - 12 * 3_600 * 1_000_000)
        .bind(week_end.0)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| session_from_row(r, true))
        .collect::<Result<Vec<_>>>()?;
    let offered = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.coach_id = $2 AND r.status = 'allocated' ORDER BY r.priority, r.received_at, r.id"))
        .bind(&org)
        .bind(&coach)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(referral_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(Caseload {
        coach: summary,
        people,
        week,
        offered,
    })
}

impl Store {
    /// The signed-in coach's caseload: open episodes with next session, sessions used,
    /// activation and its change, goals and their progress, and what is overdue; this week's
    /// sessions; and the referrals offered to them. Audited as one list view.
    pub async fn caseload(
        &self,
        actor: &Actor,
        now: Timestamp,
        week_end: Timestamp,
        source: Source,
    ) -> Result<Caseload> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::CaseloadRead).on("caseload", None);
                let g = tx.org_action(Action::OwnCaseload, audit_as)?;
                let coach = tx.actor().user_id;
                tx.log_org(
                    &g,
                    None,
                    AuditAs::new(AuditAction::CaseloadRead).on("caseload", Some(coach.as_text())),
                )
                .await?;
                load_caseload(tx.conn(), &g, coach, now, week_end).await
            })
        })
        .await
    }
}
