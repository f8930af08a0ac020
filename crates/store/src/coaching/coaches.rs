//! Health coaches as the coaching service sees them: each coach's caseload limit, working hours
//! and places in use ([`CoachSummary`]), the list of active coaches, and the coordinator's
//! change of a coach's profile.

use super::invalid;
use crate::door::AuditAs;
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{WorkingHours, DEFAULT_CASELOAD_LIMIT};
use alongside_core::{OrgId, Role, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A coach with their caseload limit, hours and how many places are in use.
#[derive(Debug, Clone)]
pub struct CoachSummary {
    pub user_id: UserId,
    pub name: String,
    pub caseload_limit: u32,
    pub hours: WorkingHours,
    /// Open episodes plus referrals allocated and not yet accepted.
    pub in_use: u32,
}

impl CoachSummary {
    pub fn has_room(&self) -> bool {
        self.in_use < self.caseload_limit
    }
}

/// A coach's name, limit, hours and places in use (open episodes plus referrals offered and
/// not yet answered), with the defaults for a coach without a profile.
const COACH_COLUMNS: &str = "u.id, u.display_name, u.role, u.active, cp.caseload_limit, cp.hours, \
(SELECT COUNT(*) FROM coaching_episodes e WHERE e.org_id = u.org_id AND e.coach_id = u.id AND e.status = 'open') AS episodes, \
(SELECT COUNT(*) FROM coaching_referrals r WHERE r.org_id = u.org_id AND r.coach_id = u.id AND r.status = 'allocated') AS allocated";

const COACH_FROM: &str =
    "users u LEFT JOIN coach_profiles cp ON cp.org_id = u.org_id AND cp.user_id = u.id";

fn coach_from_row(r: &AnyRow) -> Result<CoachSummary> {
    Ok(CoachSummary {
        user_id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        name: r.try_get("display_name")?,
        caseload_limit: r
            .try_get::<Option<i64>, _>("caseload_limit")?
            .map(|v| v as u32)
            .unwrap_or(DEFAULT_CASELOAD_LIMIT),
        hours: r
            .try_get::<Option<String>, _>("hours")?
            .and_then(|h| WorkingHours::from_text(&h))
            .unwrap_or_else(WorkingHours::office),
        in_use: (r.try_get::<i64, _>("episodes")? + r.try_get::<i64, _>("allocated")?) as u32,
    })
}

/// Any user's coaching summary, with whether they are an active health coach.
pub(super) async fn load_coach(
    c: &mut AnyConnection,
    org: OrgId,
    coach: UserId,
) -> Result<(CoachSummary, bool)> {
    let row = sqlx::query(&format!(
        "SELECT {COACH_COLUMNS} FROM {COACH_FROM} WHERE u.org_id = $1 AND u.id = $2"
    ))
    .bind(org.as_text())
    .bind(coach.as_text())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    let active_coach = row.try_get::<String, _>("role")? == Role::HealthCoach.code()
        && row.try_get::<i64, _>("active")? != 0;
    Ok((coach_from_row(&row)?, active_coach))
}

/// An active health coach's summary; anyone else is refused with a message on `coach`.
pub(super) async fn coach_summary(
    c: &mut AnyConnection,
    org: OrgId,
    coach: UserId,
) -> Result<CoachSummary> {
    match load_coach(c, org, coach).await? {
        (summary, true) => Ok(summary),
        (_, false) => Err(invalid("coach", "Select an active health coach")),
    }
}

/// Every active health coach in the organisation (staff data: names, limits and hours).
pub(super) async fn coaches_in(c: &mut AnyConnection, org: OrgId) -> Result<Vec<CoachSummary>> {
    sqlx::query(&format!("SELECT {COACH_COLUMNS} FROM {COACH_FROM} WHERE u.org_id = $1 AND u.role = 'health_coach' AND u.active = 1 ORDER BY u.display_name, u.id"))
        .bind(org.as_text())
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(coach_from_row)
        .collect()
}

impl Store {
    /// Every active health coach with their limit, hours and places in use (staff data).
    pub async fn coaches(&self, org: OrgId) -> Result<Vec<CoachSummary>> {
        let mut c = self.reader().acquire().await?;
        coaches_in(&mut c, org).await
    }

    /// One coach's summary (a coordinator's edit page, a coach's own caseload).
    pub async fn coach(&self, org: OrgId, coach: UserId) -> Result<CoachSummary> {
        let mut c = self.reader().acquire().await?;
        coach_summary(&mut c, org, coach).await
    }

    /// Sets a coach's caseload limit and working hours (coordinators).
    pub async fn set_coach_profile(
        &self,
        actor: &Actor,
        coach: UserId,
        limit: u32,
        hours: WorkingHours,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let hours = hours.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::CoachProfileChanged)
                    .on("user", Some(coach.as_text()));
                let g = tx.org_action(Action::ManageCoachingQueue, audit_as.clone())?;
                let now = tx.now();
                coach_summary(tx.conn(), g.org(), coach).await?;
                sqlx::query("DELETE FROM coach_profiles WHERE org_id = $1 AND user_id = $2")
                    .bind(g.org().as_text())
                    .bind(coach.as_text())
                    .execute(tx.conn())
                    .await?;
                sqlx::query("INSERT INTO coach_profiles (org_id, user_id, caseload_limit, hours, updated_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(g.org().as_text())
                    .bind(coach.as_text())
                    .bind(i64::from(limit))
                    .bind(hours.to_text())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                let detail = format!("limit {limit}; hours {}", hours.to_text());
                tx.log_org(&g, None, audit_as.detail(detail)).await?;
                Ok(())
            })
        })
        .await
    }
}
