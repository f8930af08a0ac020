//! Referrals into coaching and the waiting list: making a referral, the coordinator's queue in
//! priority order, allocating a referral to a coach with room, the coach accepting (which opens
//! an episode) or declining, withdrawal, and backdating referrals for synthetic data.

use super::caseload::{link, unlink_if_unused};
use super::coaches::{coach_summary, coaches_in, CoachSummary};
use super::{corrupt, full_name, invalid, owner, Record};
use crate::door::{AuditAs, OrgGrant, PersonGrant};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{
    priority, ContactMode, ReferralDetails, ReferralSource, ReferralStatus, Urgency,
    DEFAULT_MAX_SESSIONS,
};
use alongside_core::{EpisodeId, OrgId, PersonId, ReferralId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A referral into coaching with the person's and coach's names.
#[derive(Debug, Clone)]
pub struct ReferralRow {
    pub id: ReferralId,
    pub person_id: PersonId,
    pub person_name: String,
    pub source: ReferralSource,
    pub referrer: Option<String>,
    pub reason: String,
    pub urgency: Urgency,
    pub activation_level: Option<i64>,
    pub modes: Vec<ContactMode>,
    pub times: Option<String>,
    pub language: Option<String>,
    pub status: ReferralStatus,
    pub coach_id: Option<UserId>,
    pub coach_name: Option<String>,
    pub episode_id: Option<EpisodeId>,
    pub received_at: i64,
    pub last_decline_reason: Option<String>,
    pub withdraw_reason: Option<String>,
}

pub(super) const REFERRAL_COLUMNS: &str = "r.id, r.person_id, p.given_name, p.family_name, r.source, r.referrer, r.reason, r.urgency, r.activation_level, r.pref_modes, r.pref_times, r.pref_language, r.status, r.coach_id, u.display_name AS coach_name, r.episode_id, r.received_at, r.last_decline_reason, r.withdraw_reason";

pub(super) const REFERRAL_FROM: &str = "coaching_referrals r JOIN people p ON p.org_id = r.org_id AND p.id = r.person_id LEFT JOIN users u ON u.org_id = r.org_id AND u.id = r.coach_id";

pub(super) fn referral_from_row(r: &AnyRow) -> Result<ReferralRow> {
    let source: String = r.try_get("source")?;
    let urgency: String = r.try_get("urgency")?;
    let status: String = r.try_get("status")?;
    let modes: String = r.try_get("pref_modes")?;
    Ok(ReferralRow {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
        person_name: full_name(r, "given_name", "family_name")?,
        source: ReferralSource::from_code(&source).ok_or_else(|| corrupt("source", &source))?,
        referrer: r.try_get("referrer")?,
        reason: r.try_get("reason")?,
        urgency: Urgency::from_code(&urgency).ok_or_else(|| corrupt("urgency", &urgency))?,
        activation_level: r.try_get("activation_level")?,
        modes: modes
            .split(',')
            .filter_map(ContactMode::from_code)
            .collect(),
        times: r.try_get("pref_times")?,
        language: r.try_get("pref_language")?,
        status: ReferralStatus::from_code(&status).ok_or_else(|| corrupt("status", &status))?,
        coach_id: r
            .try_get::<Option<String>, _>("coach_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        coach_name: r.try_get("coach_name")?,
        episode_id: r
            .try_get::<Option<String>, _>("episode_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        received_at: r.try_get("received_at")?,
        last_decline_reason: r.try_get("last_decline_reason")?,
        withdraw_reason: r.try_get("withdraw_reason")?,
    })
}

/// One page of the coordinator's queue.
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// Waiting referrals in priority order, this page only.
    pub waiting: Vec<ReferralRow>,
    pub waiting_total: i64,
    /// Allocated, waiting for the coach to accept or decline.
    pub allocated: Vec<ReferralRow>,
    /// Referrals received in the last 7 days.
    pub new_this_week: i64,
    pub coaches: Vec<CoachSummary>,
}

/// A referral about the person of `grant`.
async fn referral_of(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    id: ReferralId,
) -> Result<ReferralRow> {
    fetch_referral(c, grant.org(), id, Some(grant.person())).await
}

/// Any referral in the organisation, under an organisation-wide grant (the coordinator's).
async fn referral_in(
    c: &mut AnyConnection,
    grant: &OrgGrant,
    id: ReferralId,
) -> Result<ReferralRow> {
    fetch_referral(c, grant.org(), id, None).await
}

async fn fetch_referral(
    c: &mut AnyConnection,
    org: OrgId,
    id: ReferralId,
    person: Option<PersonId>,
) -> Result<ReferralRow> {
    let mut sql =
        format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.id = $2");
    if person.is_some() {
        sql.push_str(" AND r.person_id = $3");
    }
    let mut q = sqlx::query(&sql).bind(org.as_text()).bind(id.as_text());
    if let Some(p) = person {
        q = q.bind(p.as_text());
    }
    let row = q
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    referral_from_row(&row)
}

async fn max_sessions_setting(c: &mut AnyConnection, org: OrgId) -> Result<u32> {
    let v: Option<String> = sqlx::query(
        "SELECT value FROM org_settings WHERE org_id = $1 AND setting_key = 'coaching_max_sessions'",
    )
    .bind(org.as_text())
    .fetch_optional(&mut *c)
    .await?
    .map(|r| r.try_get("value"))
    .transpose()?;
    Ok(v.and_then(|v| v.parse().ok())
        .filter(|v| (1..=50).contains(v))
        .unwrap_or(DEFAULT_MAX_SESSIONS))
}

/// The latest activation level of the person of `grant`.
async fn latest_level(c: &mut AnyConnection, grant: &PersonGrant) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT level FROM assessments WHERE org_id = $1 AND person_id = $2 AND status = 'completed' AND level IS NOT NULL ORDER BY completed_at DESC LIMIT 1")
        .bind(grant.org().as_text())
        .bind(grant.person().as_text())
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get::<i64, _>("level"))
        .transpose()?)
}

impl Store {
    /// Makes a referral into coaching. Refused when the person already waits for, or is in,
    /// coaching.
    pub async fn create_referral(
        &self,
        actor: &Actor,
        person: PersonId,
        details: ReferralDetails,
        source: Source,
    ) -> Result<ReferralId> {
        let id = ReferralId::new();
        self.write_as(actor, &source, move |tx| {
            let details = details.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::ReferralCreated)
                    .on("coaching_referral", Some(id.as_text()));
                let g = tx.person_audited(Action::ReferToCoaching, person, audit_as).await?;
                let (org, pid) = (g.org().as_text(), g.person().as_text());
                let busy = sqlx::query("SELECT 1 AS one FROM coaching_referrals WHERE org_id = $1 AND person_id = $2 AND status IN ('waiting', 'allocated') UNION ALL SELECT 1 AS one FROM coaching_episodes WHERE org_id = $1 AND person_id = $2 AND status = 'open'")
                    .bind(&org)
                    .bind(&pid)
                    .fetch_optional(tx.conn())
                    .await?
                    .is_some();
                if busy {
                    return Err(invalid("reason", "This person is already waiting for coaching or has a coach: see their coaching page"));
                }
                let level = latest_level(tx.conn(), &g).await?;
                let modes: Vec<&str> = details.modes.iter().map(|m| m.code()).collect();
                let (now, by) = (tx.now(), tx.actor().user_id);
                sqlx::query("INSERT INTO coaching_referrals (org_id, id, person_id, source, referrer, reason, urgency, activation_level, priority, pref_modes, pref_times, pref_language, status, received_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'waiting', $13, $14)")
                    .bind(&org)
                    .bind(id.as_text())
                    .bind(&pid)
                    .bind(details.source.code())
                    .bind(details.referrer.clone())
                    .bind(details.reason.clone())
                    .bind(details.urgency.code())
                    .bind(level)
                    .bind(priority(details.urgency, level))
                    .bind(modes.join(","))
                    .bind(details.times.clone())
                    .bind(details.language.clone())
                    .bind(now)
                    .bind(by.as_text())
                    .execute(tx.conn())
                    .await?;
                Ok(id)
            })
        })
        .await
    }

    /// The coordinator's queue: waiting referrals in priority order (paged), allocated ones,
    /// new referrals this week and every coach's capacity. Audited as one list view.
    pub async fn coaching_queue(
        &self,
        actor: &Actor,
        page: u32,
        per_page: u32,
        source: Source,
    ) -> Result<QueuePage> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as =
                    AuditAs::new(AuditAction::CoachingQueueRead).on("coaching_referrals", None);
                let g = tx.org_action(Action::ManageCoachingQueue, audit_as.clone())?;
                tx.log_org(&g, None, audit_as.detail(format!("page {page}")))
                    .await?;
                let org = g.org().as_text();
                let waiting = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.status = 'waiting' ORDER BY r.priority, r.received_at, r.id LIMIT $2 OFFSET $3"))
                    .bind(&org)
                    .bind(i64::from(per_page))
                    .bind(i64::from(page.saturating_sub(1)) * i64::from(per_page))
                    .fetch_all(tx.conn())
                    .await?
                    .iter()
                    .map(referral_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let waiting_total: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM coaching_referrals WHERE org_id = $1 AND status = 'waiting'",
                )
                .bind(&org)
                .fetch_one(tx.conn())
                .await?
                .try_get("n")?;
                let allocated = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.status = 'allocated' ORDER BY r.allocated_at, r.id LIMIT 200"))
                    .bind(&org)
                    .fetch_all(tx.conn())
                    .await?
                    .iter()
                    .map(referral_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let week_ago = tx.now() - 7 * 86_400 * 1_000_000;
                let new_this_week: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM coaching_referrals WHERE org_id = $1 AND received_at >= $2",
                )
                .bind(&org)
                .bind(week_ago)
                .fetch_one(tx.conn())
                .await?
                .try_get("n")?;
                let coaches = coaches_in(tx.conn(), g.org()).await?;
                Ok(QueuePage {
                    waiting,
                    waiting_total,
                    allocated,
                    new_this_week,
                    coaches,
                })
            })
        })
        .await
    }

    /// One referral, for those who may read the person's coaching (audited).
    pub async fn referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        source: Source,
    ) -> Result<ReferralRow> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let person = owner(tx, Record::Referral, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::CoachingRead)
                    .on("coaching_referral", Some(id.as_text()));
                let g = tx
                    .person_audited(Action::ReadCoaching, person, audit_as)
                    .await?;
                referral_of(tx.conn(), &g, id).await
            })
        })
        .await
    }

    /// Offers a waiting referral to a coach with room (coordinators). The person joins the
    /// coach's caseload so the coach can read the referral before accepting.
    pub async fn allocate_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        coach: UserId,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::ReferralChanged)
                    .on("coaching_referral", Some(id.as_text()));
                let g = tx.org_action(Action::ManageCoachingQueue, audit_as.clone())?;
                let r = referral_in(tx.conn(), &g, id).await?;
                if r.status != ReferralStatus::Waiting {
                    return Err(invalid("status", format!("This referral is no longer waiting (it is {})", r.status.label().to_lowercase())));
                }
                let summary = match coach_summary(tx.conn(), g.org(), coach).await {
                    Err(StoreError::NotFound) => return Err(invalid("coach", "Select a coach from the list")),
                    other => other?,
                };
                if !summary.has_room() {
                    return Err(invalid("coach", format!("{} has {} of {} places in use: choose another coach or raise their limit", summary.name, summary.in_use, summary.caseload_limit)));
                }
                let (now, by) = (tx.now(), tx.actor().user_id);
                sqlx::query("UPDATE coaching_referrals SET status = 'allocated', coach_id = $3, allocated_at = $4, allocated_by = $5 WHERE org_id = $1 AND id = $2")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(coach.as_text())
                    .bind(now)
                    .bind(by.as_text())
                    .execute(tx.conn())
                    .await?;
                link(tx.conn(), g.org(), coach, r.person_id, now).await?;
                let detail = format!("allocated to {}", summary.name);
                tx.log_org(&g, Some(r.person_id), audit_as.detail(detail)).await?;
                Ok(())
            })
        })
        .await
    }

    /// The allocated coach accepts: an episode opens. Returns the episode.
    pub async fn accept_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        source: Source,
    ) -> Result<EpisodeId> {
        self.write_as(actor, &source, move |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::ReferralChanged)
                    .on("coaching_referral", Some(id.as_text()));
                let g = tx
                    .referral(Action::DecideCoachingReferral, id, audit_as.clone())
                    .await?;
                let r = referral_of(tx.conn(), &g, id).await?;
                if r.status != ReferralStatus::Allocated {
                    return Err(invalid("status", "This referral is no longer waiting for your decision"));
                }
                let episode = EpisodeId::new();
                let max = max_sessions_setting(tx.conn(), g.org()).await?;
                let (now, coach) = (tx.now(), tx.actor().user_id);
                sqlx::query("INSERT INTO coaching_episodes (org_id, id, person_id, coach_id, referral_id, status, max_sessions, opened_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)")
                    .bind(g.org().as_text())
                    .bind(episode.as_text())
                    .bind(g.person().as_text())
                    .bind(coach.as_text())
                    .bind(id.as_text())
                    .bind(i64::from(max))
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                sqlx::query("UPDATE coaching_referrals SET status = 'accepted', episode_id = $3, decided_at = $4 WHERE org_id = $1 AND id = $2")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(episode.as_text())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                tx.log(&g, audit_as.detail("accepted; episode opened")).await?;
                Ok(episode)
            })
        })
        .await
    }

    /// The allocated coach declines with a reason: the referral goes back to the waiting
    /// list in its old place.
    pub async fn decline_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        reason: String,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let reason = reason.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::ReferralChanged)
                    .on("coaching_referral", Some(id.as_text()));
                let g = tx
                    .referral(Action::DecideCoachingReferral, id, audit_as.clone())
                    .await?;
                let r = referral_of(tx.conn(), &g, id).await?;
                if r.status != ReferralStatus::Allocated {
                    return Err(invalid("status", "This referral is no longer waiting for your decision"));
                }
                sqlx::query("UPDATE coaching_referrals SET status = 'waiting', coach_id = NULL, allocated_at = NULL, allocated_by = NULL, last_decline_reason = $3 WHERE org_id = $1 AND id = $2")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(reason.clone())
                    .execute(tx.conn())
                    .await?;
                let coach = tx.actor().user_id;
                unlink_if_unused(tx.conn(), g.org(), coach, g.person()).await?;
                tx.log(&g, audit_as.detail(format!("declined: {reason}"))).await?;
                Ok(())
            })
        })
        .await
    }

    /// Withdraws a waiting or allocated referral (a coordinator, or the person themselves).
    pub async fn withdraw_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        reason: String,
        source: Source,
    ) -> Result<()> {
        self.write_as(actor, &source, move |tx| {
            let reason = reason.clone();
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::ReferralChanged)
                    .on("coaching_referral", Some(id.as_text()));
                let g = tx
                    .referral(Action::WithdrawCoachingReferral, id, audit_as.clone())
                    .await?;
                let r = referral_of(tx.conn(), &g, id).await?;
                if !matches!(r.status, ReferralStatus::Waiting | ReferralStatus::Allocated) {
                    return Err(invalid("status", "Only a referral that is waiting or allocated can be withdrawn"));
                }
                let now = tx.now();
                sqlx::query("UPDATE coaching_referrals SET status = 'withdrawn', withdraw_reason = $3, decided_at = $4 WHERE org_id = $1 AND id = $2")
                    .bind(g.org().as_text())
                    .bind(id.as_text())
                    .bind(reason.clone())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                if let Some(coach) = r.coach_id {
                    unlink_if_unused(tx.conn(), g.org(), coach, g.person()).await?;
                }
                tx.log(&g, audit_as.detail(format!("withdrawn: {reason}"))).await?;
                Ok(())
            })
        })
        .await
    }

    /// Moves a referral's received time, and optionally its episode's opening, into the past.
    /// For synthetic demo and benchmark data only (like the other bulk loaders, unaudited:
    /// it reads or shows nothing about anyone).
    pub async fn backdate_coaching(
        &self,
        org: OrgId,
        referral: ReferralId,
        received_at: i64,
        episode: Option<(EpisodeId, i64)>,
    ) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE coaching_referrals SET received_at = $3 WHERE org_id = $1 AND id = $2",
                )
                .bind(org.as_text())
                .bind(referral.as_text())
                .bind(received_at)
                .execute(&mut *c)
                .await?;
                if let Some((episode, opened_at)) = episode {
                    sqlx::query(
                        "UPDATE coaching_episodes SET opened_at = $3 WHERE org_id = $1 AND id = $2",
                    )
                    .bind(org.as_text())
                    .bind(episode.as_text())
                    .bind(opened_at)
                    .execute(&mut *c)
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }
}
