//! Health coaching in the store: referrals and the waiting list, allocation to coaches with
//! room, episodes, sessions, goals with steps and reviews, discharge, caseloads and calendar
//! feeds.
//!
//! Every function checks access through `alongside_core::access::decide` with the actor's
//! relationship to the person, and audits reads and changes of a person's coaching in the
//! same transaction as the work. Booking rules come from `alongside_core::coaching`; this
//! module only gathers the facts they need. All writes run on the single writer, so a check
//! and the insert it guards (a free slot, a coach's room) cannot interleave with another
//! booking: exactly one of two simultaneous bookings of a slot wins, on both backends.

use crate::audit;
use crate::people::{relation, Source};
use crate::users::parse_uuid;
use crate::{now_micros, Result, Store, StoreError};
use alongside_core::access::{decide, Action, Actor, Target};
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::coaching::{
    check_booking, priority, Booking, BookingContext, BusySlot, ContactMode, Discharge,
    GoalCategory, GoalDetails, GoalOutcome, ReferralDetails, ReferralSource, ReferralStatus,
    SessionStatus, Urgency, WorkingHours, DEFAULT_CASELOAD_LIMIT, DEFAULT_MAX_SESSIONS,
};
use alongside_core::time::Timestamp;
use alongside_core::{
    EpisodeId, GoalId, OrgId, PersonId, ReferralId, Role, SessionId, StepId, UserId,
    ValidationErrors,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn ev(
    actor: &Actor,
    action: AuditAction,
    outcome: Outcome,
    person: Option<PersonId>,
    resource: (&'static str, Option<String>),
    source: &Source,
    detail: Option<String>,
) -> AuditEvent {
    audit::actor_event(
        actor, action, outcome, resource.0, resource.1, person, source, detail,
    )
}

/// Decides `action` on `person` for `actor` and audits the decision as `audit_action`.
/// Returns `Ok(Err(..))` on refusal so that the caller can commit the refusal's audit row.
async fn authorise(
    c: &mut AnyConnection,
    actor: &Actor,
    action: Action,
    person: PersonId,
    audit_action: AuditAction,
    resource: (&'static str, Option<String>),
    source: &Source,
) -> Result<Result<(), StoreError>> {
    let rel = relation(c, actor, person).await?;
    let d = decide(actor, action, Target::Person(rel));
    let outcome = if d.allowed {
        Outcome::Allowed
    } else {
        Outcome::Refused
    };
    audit::append(
        c,
        &ev(
            actor,
            audit_action,
            outcome,
            Some(person),
            resource,
            source,
            (!d.allowed).then(|| d.reason.to_string()),
        ),
    )
    .await?;
    Ok(if d.allowed {
        Ok(())
    } else {
        Err(StoreError::Refused(d.reason))
    })
}

/// Audits and refuses an organisation-wide action the actor may not take.
async fn authorise_org(
    store: &Store,
    actor: &Actor,
    action: Action,
    audit_action: AuditAction,
    resource: (&'static str, Option<String>),
    source: &Source,
) -> Result<()> {
    let d = decide(actor, action, Target::Org(actor.org_id));
    if !d.allowed {
        let e = ev(
            actor,
            audit_action,
            Outcome::Refused,
            None,
            resource,
            source,
            Some(d.reason.into()),
        );
        store.audit(e).await?;
        return Err(StoreError::Refused(d.reason));
    }
    Ok(())
}

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    let mut e = ValidationErrors::default();
    e.add(field, message);
    StoreError::Invalid(e)
}

fn full_name(r: &AnyRow, given: &str, family: &str) -> Result<String> {
    Ok(format!(
        "{} {}",
        r.try_get::<String, _>(given)?,
        r.try_get::<String, _>(family)?
    ))
}

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

const REFERRAL_COLUMNS: &str = "r.id, r.person_id, p.given_name, p.family_name, r.source, r.referrer, r.reason, r.urgency, r.activation_level, r.pref_modes, r.pref_times, r.pref_language, r.status, r.coach_id, u.display_name AS coach_name, r.episode_id, r.received_at, r.last_decline_reason, r.withdraw_reason";
const REFERRAL_FROM: &str = "coaching_referrals r JOIN people p ON p.org_id = r.org_id AND p.id = r.person_id LEFT JOIN users u ON u.org_id = r.org_id AND u.id = r.coach_id";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("bad {what} {v:?}"))
}

fn referral_from_row(r: &AnyRow) -> Result<ReferralRow> {
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

/// A session with the person's name.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: SessionId,
    pub episode_id: EpisodeId,
    pub person_id: PersonId,
    pub person_name: String,
    pub coach_id: UserId,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub mode: ContactMode,
    pub place: Option<String>,
    pub status: SessionStatus,
    pub length_reason: Option<String>,
    pub extra_reason: Option<String>,
    /// `None` when the reader may not see the notes (a person, when not shared).
    pub notes: Option<String>,
    pub notes_shared: bool,
    pub cancel_reason: Option<String>,
}

const SESSION_COLUMNS: &str = "s.id, s.episode_id, s.person_id, p.given_name, p.family_name, s.coach_id, s.starts_at, s.ends_at, s.mode, s.place, s.status, s.length_reason, s.extra_reason, s.notes, s.notes_shared, s.cancel_reason";
const SESSION_FROM: &str =
    "coaching_sessions s JOIN people p ON p.org_id = s.org_id AND p.id = s.person_id";

fn session_from_row(r: &AnyRow, show_private_notes: bool) -> Result<SessionRow> {
    let mode: String = r.try_get("mode")?;
    let status: String = r.try_get("status")?;
    let shared = r.try_get::<i64, _>("notes_shared")? != 0;
    let notes: Option<String> = r.try_get("notes")?;
    Ok(SessionRow {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        episode_id: parse_uuid(&r.try_get::<String, _>("episode_id")?)?,
        person_id: parse_uuid(&r.try_get::<String, _>("person_id")?)?,
        person_name: full_name(r, "given_name", "family_name")?,
        coach_id: parse_uuid(&r.try_get::<String, _>("coach_id")?)?,
        starts_at: Timestamp(r.try_get("starts_at")?),
        ends_at: Timestamp(r.try_get("ends_at")?),
        mode: ContactMode::from_code(&mode).ok_or_else(|| corrupt("mode", &mode))?,
        place: r.try_get("place")?,
        status: SessionStatus::from_code(&status).ok_or_else(|| corrupt("status", &status))?,
        length_reason: r.try_get("length_reason")?,
        extra_reason: r.try_get("extra_reason")?,
        notes: if show_private_notes || shared {
            notes
        } else {
            None
        },
        notes_shared: shared,
        cancel_reason: r.try_get("cancel_reason")?,
    })
}

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
}

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
}

/// What a calendar feed needs: the coach and their sessions.
#[derive(Debug, Clone)]
pub struct CalendarData {
    pub coach_name: String,
    pub sessions: Vec<SessionRow>,
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
async fn load_coach(
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
async fn coach_summary(c: &mut AnyConnection, org: OrgId, coach: UserId) -> Result<CoachSummary> {
    match load_coach(c, org, coach).await? {
        (summary, true) => Ok(summary),
        (_, false) => Err(invalid("coach", "Select an active health coach")),
    }
}

async fn load_referral(c: &mut AnyConnection, org: OrgId, id: ReferralId) -> Result<ReferralRow> {
    let row = sqlx::query(&format!(
        "SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.id = $2"
    ))
    .bind(org.as_text())
    .bind(id.as_text())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    referral_from_row(&row)
}

async fn load_goals(
    c: &mut AnyConnection,
    org: OrgId,
    filter: &str,
    key: &str,
) -> Result<Vec<GoalView>> {
    let rows = sqlx::query(&format!(
        "SELECT id, person_id, episode_id, own_words, category, what, how_much, when_text, how_often, importance, confidence, outcome, updated_at FROM goals WHERE org_id = $1 AND {filter} = $2 ORDER BY created_at, id"
    ))
    .bind(org.as_text())
    .bind(key)
    .fetch_all(&mut *c)
    .await?;
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

/// `$first, $first+1, …` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn load_episode(
    c: &mut AnyConnection,
    org: OrgId,
    id: EpisodeId,
    private_notes: bool,
) -> Result<EpisodeView> {
    let r = sqlx::query(
        "SELECT e.id, e.person_id, p.given_name, p.family_name, e.coach_id, u.display_name, e.status, e.max_sessions, e.opened_at, e.closed_at, e.summary, e.onward, e.remeasure_due, e.reopen_reason FROM coaching_episodes e JOIN people p ON p.org_id = e.org_id AND p.id = e.person_id JOIN users u ON u.org_id = e.org_id AND u.id = e.coach_id WHERE e.org_id = $1 AND e.id = $2",
    )
    .bind(org.as_text())
    .bind(id.as_text())
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
    let goals = load_goals(c, org, "episode_id", &id.as_text()).await?;
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
    })
}

async fn episode_person(c: &mut AnyConnection, org: OrgId, id: EpisodeId) -> Result<PersonId> {
    let p: String =
        sqlx::query("SELECT person_id FROM coaching_episodes WHERE org_id = $1 AND id = $2")
            .bind(org.as_text())
            .bind(id.as_text())
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("person_id")?;
    parse_uuid(&p)
}

async fn busy(
    c: &mut AnyConnection,
    org: OrgId,
    column: &str,
    key: &str,
    from: i64,
    to: i64,
) -> Result<Vec<BusySlot>> {
    let sql = format!("SELECT starts_at, ends_at FROM coaching_sessions WHERE org_id = $1 AND {column} = $2 AND starts_at < $3 AND ends_at > $4 AND status IN ('booked', 'attended', 'did_not_attend')");
    Ok(sqlx::query_as::<_, (i64, i64)>(&sql)
        .bind(org.as_text())
        .bind(key)
        .bind(to)
        .bind(from)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|(s, e)| BusySlot {
            starts_at: Timestamp(s),
            ends_at: Timestamp(e),
        })
        .collect())
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

async fn latest_level(c: &mut AnyConnection, org: OrgId, person: PersonId) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT level FROM assessments WHERE org_id = $1 AND person_id = $2 AND status = 'completed' AND level IS NOT NULL ORDER BY completed_at DESC LIMIT 1")
        .bind(org.as_text())
        .bind(person.as_text())
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get::<i64, _>("level"))
        .transpose()?)
}

/// Keeps the coach–person caseload link only while something still ties them: an open
/// episode or an allocated referral. Closed episodes keep the link, so the coach can still
/// read the discharge and the person's goals.
async fn unlink_if_unused(
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

async fn link(c: &mut AnyConnection, org: OrgId, coach: UserId, person: PersonId) -> Result<()> {
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
        .bind(now_micros())
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// One review to record with a session.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub goal_id: GoalId,
    pub attainment: i64,
    pub note: Option<String>,
}

/// What happened at a session.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub status: SessionStatus,
    pub notes: Option<String>,
    pub notes_shared: bool,
    pub cancel_reason: Option<String>,
    pub reviews: Vec<ReviewInput>,
}

impl Store {
    /// The actor's relationship to a person (for deciding what a page may offer).
    pub async fn person_relation(
        &self,
        actor: &Actor,
        person: PersonId,
    ) -> Result<alongside_core::PersonRelation> {
        let mut c = self.reader().acquire().await?;
        relation(&mut c, actor, person).await
    }

    /// Referrals allocated to the signed-in coach and waiting for their decision.
    pub async fn coaching_queue_for_coach(&self, actor: &Actor) -> Result<Vec<ReferralRow>> {
        sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.coach_id = $2 AND r.status = 'allocated' ORDER BY r.priority, r.received_at, r.id"))
            .bind(actor.org_id.as_text())
            .bind(actor.user_id.as_text())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(referral_from_row)
            .collect()
    }

    /// Every active health coach with their limit, hours and places in use.
    pub async fn coaches(&self, org: OrgId) -> Result<Vec<CoachSummary>> {
        sqlx::query(&format!("SELECT {COACH_COLUMNS} FROM {COACH_FROM} WHERE u.org_id = $1 AND u.role = 'health_coach' AND u.active = 1 ORDER BY u.display_name, u.id"))
            .bind(org.as_text())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(coach_from_row)
            .collect()
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
        let res = ("user", Some(coach.as_text()));
        authorise_org(
            self,
            actor,
            Action::ManageCoachingQueue,
            AuditAction::CoachProfileChanged,
            res.clone(),
            &source,
        )
        .await?;
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, hours, source, res) =
                (actor.clone(), hours.clone(), source.clone(), res.clone());
            Box::pin(async move {
                coach_summary(c, actor.org_id, coach).await?;
                sqlx::query("DELETE FROM coach_profiles WHERE org_id = $1 AND user_id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(coach.as_text())
                    .execute(&mut *c)
                    .await?;
                sqlx::query("INSERT INTO coach_profiles (org_id, user_id, caseload_limit, hours, updated_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(actor.org_id.as_text())
                    .bind(coach.as_text())
                    .bind(i64::from(limit))
                    .bind(hours.to_text())
                    .bind(now_micros())
                    .execute(&mut *c)
                    .await?;
                audit::append(c, &ev(&actor, AuditAction::CoachProfileChanged, Outcome::Allowed, None, res, &source, Some(format!("limit {limit}; hours {}", hours.to_text())))).await?;
                Ok(())
            })
        })
        .await
    }

    /// Makes a referral into coaching. Refused when the person already waits for, or is in,
    /// coaching.
    pub async fn create_referral(
        &self,
        actor: &Actor,
        person: PersonId,
        details: ReferralDetails,
        source: Source,
    ) -> Result<ReferralId> {
        let actor = actor.clone();
        let id = ReferralId::new();
        self.write(move |c| {
            let (actor, details, source) = (actor.clone(), details.clone(), source.clone());
            Box::pin(async move {
                if !crate::people::person_exists_in(c, actor.org_id, person).await? {
                    return Ok(Err(StoreError::NotFound));
                }
                if let Err(e) = authorise(c, &actor, Action::ReferToCoaching, person, AuditAction::ReferralCreated, ("coaching_referral", Some(id.as_text())), &source).await? {
                    return Ok(Err(e));
                }
                let busy = sqlx::query("SELECT 1 AS one FROM coaching_referrals WHERE org_id = $1 AND person_id = $2 AND status IN ('waiting', 'allocated') UNION ALL SELECT 1 AS one FROM coaching_episodes WHERE org_id = $1 AND person_id = $2 AND status = 'open'")
                    .bind(actor.org_id.as_text())
                    .bind(person.as_text())
                    .fetch_optional(&mut *c)
                    .await?
                    .is_some();
                if busy {
                    return Err(invalid("reason", "This person is already waiting for coaching or has a coach: see their coaching page"));
                }
                let level = latest_level(c, actor.org_id, person).await?;
                let modes: Vec<&str> = details.modes.iter().map(|m| m.code()).collect();
                sqlx::query("INSERT INTO coaching_referrals (org_id, id, person_id, source, referrer, reason, urgency, activation_level, priority, pref_modes, pref_times, pref_language, status, received_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'waiting', $13, $14)")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(person.as_text())
                    .bind(details.source.code())
                    .bind(details.referrer.clone())
                    .bind(details.reason.clone())
                    .bind(details.urgency.code())
                    .bind(level)
                    .bind(priority(details.urgency, level))
                    .bind(modes.join(","))
                    .bind(details.times.clone())
                    .bind(details.language.clone())
                    .bind(now_micros())
                    .bind(actor.user_id.as_text())
                    .execute(&mut *c)
                    .await?;
                Ok(Ok(id))
            })
        })
        .await?
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
        let res = ("coaching_referrals", None);
        authorise_org(
            self,
            actor,
            Action::ManageCoachingQueue,
            AuditAction::CoachingQueueRead,
            res.clone(),
            &source,
        )
        .await?;
        self.audit(ev(
            actor,
            AuditAction::CoachingQueueRead,
            Outcome::Allowed,
            None,
            res,
            &source,
            Some(format!("page {page}")),
        ))
        .await?;
        let org = actor.org_id.as_text();
        let waiting = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.status = 'waiting' ORDER BY r.priority, r.received_at, r.id LIMIT $2 OFFSET $3"))
            .bind(&org)
            .bind(i64::from(per_page))
            .bind(i64::from(page.saturating_sub(1)) * i64::from(per_page))
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(referral_from_row)
            .collect::<Result<Vec<_>>>()?;
        let waiting_total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM coaching_referrals WHERE org_id = $1 AND status = 'waiting'",
        )
        .bind(&org)
        .fetch_one(self.reader())
        .await?
        .try_get("n")?;
        let allocated = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.status = 'allocated' ORDER BY r.allocated_at, r.id LIMIT 200"))
            .bind(&org)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(referral_from_row)
            .collect::<Result<Vec<_>>>()?;
        let week_ago = now_micros() - 7 * 86_400 * 1_000_000;
        let new_this_week: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM coaching_referrals WHERE org_id = $1 AND received_at >= $2",
        )
        .bind(&org)
        .bind(week_ago)
        .fetch_one(self.reader())
        .await?
        .try_get("n")?;
        Ok(QueuePage {
            waiting,
            waiting_total,
            allocated,
            new_this_week,
            coaches: self.coaches(actor.org_id).await?,
        })
    }

    /// One referral, for those who may read the person's coaching (audited).
    pub async fn referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        source: Source,
    ) -> Result<ReferralRow> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let r = match load_referral(c, actor.org_id, id).await {
                    Ok(r) => r,
                    Err(StoreError::NotFound) => return Ok(Err(StoreError::NotFound)),
                    Err(e) => return Err(e),
                };
                if let Err(e) = authorise(
                    c,
                    &actor,
                    Action::ReadCoaching,
                    r.person_id,
                    AuditAction::CoachingRead,
                    ("coaching_referral", Some(id.as_text())),
                    &source,
                )
                .await?
                {
                    return Ok(Err(e));
                }
                Ok(Ok(r))
            })
        })
        .await?
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
        let res = ("coaching_referral", Some(id.as_text()));
        authorise_org(
            self,
            actor,
            Action::ManageCoachingQueue,
            AuditAction::ReferralChanged,
            res.clone(),
            &source,
        )
        .await?;
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source, res) = (actor.clone(), source.clone(), res.clone());
            Box::pin(async move {
                let r = load_referral(c, actor.org_id, id).await?;
                if r.status != ReferralStatus::Waiting {
                    return Err(invalid("status", format!("This referral is no longer waiting (it is {})", r.status.label().to_lowercase())));
                }
                let summary = match coach_summary(c, actor.org_id, coach).await {
                    Err(StoreError::NotFound) => return Err(invalid("coach", "Select a coach from the list")),
                    other => other?,
                };
                if !summary.has_room() {
                    return Err(invalid("coach", format!("{} has {} of {} places in use: choose another coach or raise their limit", summary.name, summary.in_use, summary.caseload_limit)));
                }
                sqlx::query("UPDATE coaching_referrals SET status = 'allocated', coach_id = $3, allocated_at = $4, allocated_by = $5 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(coach.as_text())
                    .bind(now_micros())
                    .bind(actor.user_id.as_text())
                    .execute(&mut *c)
                    .await?;
                link(c, actor.org_id, coach, r.person_id).await?;
                audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Allowed, Some(r.person_id), res, &source, Some(format!("allocated to {}", summary.name)))).await?;
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
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let r = load_referral(c, actor.org_id, id).await?;
                if r.coach_id != Some(actor.user_id) || actor.role != Role::HealthCoach {
                    audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Refused, Some(r.person_id), ("coaching_referral", Some(id.as_text())), &source, Some("only the allocated coach may accept".into()))).await?;
                    return Ok(Err(StoreError::Refused("only the allocated coach may accept")));
                }
                if r.status != ReferralStatus::Allocated {
                    return Err(invalid("status", "This referral is no longer waiting for your decision"));
                }
                let episode = EpisodeId::new();
                let max = max_sessions_setting(c, actor.org_id).await?;
                let now = now_micros();
                sqlx::query("INSERT INTO coaching_episodes (org_id, id, person_id, coach_id, referral_id, status, max_sessions, opened_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)")
                    .bind(actor.org_id.as_text())
                    .bind(episode.as_text())
                    .bind(r.person_id.as_text())
                    .bind(actor.user_id.as_text())
                    .bind(id.as_text())
                    .bind(i64::from(max))
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("UPDATE coaching_referrals SET status = 'accepted', episode_id = $3, decided_at = $4 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(episode.as_text())
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Allowed, Some(r.person_id), ("coaching_referral", Some(id.as_text())), &source, Some("accepted; episode opened".into()))).await?;
                Ok(Ok(episode))
            })
        })
        .await?
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
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source, reason) = (actor.clone(), source.clone(), reason.clone());
            Box::pin(async move {
                let r = load_referral(c, actor.org_id, id).await?;
                if r.coach_id != Some(actor.user_id) || actor.role != Role::HealthCoach {
                    audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Refused, Some(r.person_id), ("coaching_referral", Some(id.as_text())), &source, Some("only the allocated coach may decline".into()))).await?;
                    return Ok(Err(StoreError::Refused("only the allocated coach may decline")));
                }
                if r.status != ReferralStatus::Allocated {
                    return Err(invalid("status", "This referral is no longer waiting for your decision"));
                }
                sqlx::query("UPDATE coaching_referrals SET status = 'waiting', coach_id = NULL, allocated_at = NULL, allocated_by = NULL, last_decline_reason = $3 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(reason.clone())
                    .execute(&mut *c)
                    .await?;
                unlink_if_unused(c, actor.org_id, actor.user_id, r.person_id).await?;
                audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Allowed, Some(r.person_id), ("coaching_referral", Some(id.as_text())), &source, Some(format!("declined: {reason}")))).await?;
                Ok(Ok(()))
            })
        })
        .await?
    }

    /// Withdraws a waiting or allocated referral (a coordinator, or the person themselves).
    pub async fn withdraw_referral(
        &self,
        actor: &Actor,
        id: ReferralId,
        reason: String,
        source: Source,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source, reason) = (actor.clone(), source.clone(), reason.clone());
            Box::pin(async move {
                let r = match load_referral(c, actor.org_id, id).await {
                    Err(StoreError::NotFound) => return Ok(Err(StoreError::NotFound)),
                    other => other?,
                };
                let allowed = decide(&actor, Action::ManageCoachingQueue, Target::Org(actor.org_id)).allowed
                    || (actor.role == Role::Person && actor.person_id == Some(r.person_id));
                if !allowed {
                    audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Refused, Some(r.person_id), ("coaching_referral", Some(id.as_text())), &source, Some("only a coordinator or the person may withdraw".into()))).await?;
                    return Ok(Err(StoreError::Refused("only a coordinator or the person may withdraw")));
                }
                if !matches!(r.status, ReferralStatus::Waiting | ReferralStatus::Allocated) {
                    return Err(invalid("status", "Only a referral that is waiting or allocated can be withdrawn"));
                }
                sqlx::query("UPDATE coaching_referrals SET status = 'withdrawn', withdraw_reason = $3, decided_at = $4 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(reason.clone())
                    .bind(now_micros())
                    .execute(&mut *c)
                    .await?;
                if let Some(coach) = r.coach_id {
                    unlink_if_unused(c, actor.org_id, coach, r.person_id).await?;
                }
                audit::append(c, &ev(&actor, AuditAction::ReferralChanged, Outcome::Allowed, Some(r.person_id), ("coaching_referral", Some(id.as_text())), &source, Some(format!("withdrawn: {reason}")))).await?;
                Ok(Ok(()))
            })
        })
        .await?
    }

    /// An episode with its sessions and goals (audited). A person reading their own sees
    /// only the notes their coach shared.
    pub async fn episode(
        &self,
        actor: &Actor,
        id: EpisodeId,
        source: Source,
    ) -> Result<EpisodeView> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let person = match episode_person(c, actor.org_id, id).await {
                    Err(StoreError::NotFound) => return Ok(Err(StoreError::NotFound)),
                    other => other?,
                };
                if let Err(e) = authorise(
                    c,
                    &actor,
                    Action::ReadCoaching,
                    person,
                    AuditAction::CoachingRead,
                    ("coaching_episode", Some(id.as_text())),
                    &source,
                )
                .await?
                {
                    return Ok(Err(e));
                }
                let private = actor.role != Role::Person;
                Ok(Ok(load_episode(c, actor.org_id, id, private).await?))
            })
        })
        .await?
    }

    /// A person's referrals, episodes, upcoming sessions and goals (audited).
    pub async fn person_coaching(
        &self,
        actor: &Actor,
        person: PersonId,
        now: Timestamp,
        source: Source,
    ) -> Result<PersonCoaching> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                if !crate::people::person_exists_in(c, actor.org_id, person).await? {
                    return Ok(Err(StoreError::NotFound));
                }
                if let Err(e) = authorise(c, &actor, Action::ReadCoaching, person, AuditAction::CoachingRead, ("person", Some(person.as_text())), &source).await? {
                    return Ok(Err(e));
                }
                let org = actor.org_id.as_text();
                let referrals = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} FROM {REFERRAL_FROM} WHERE r.org_id = $1 AND r.person_id = $2 ORDER BY r.received_at DESC, r.id"))
                    .bind(&org)
                    .bind(person.as_text())
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(referral_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let episodes = sqlx::query("SELECT e.id, u.display_name, e.status, e.opened_at, e.closed_at FROM coaching_episodes e JOIN users u ON u.org_id = e.org_id AND u.id = e.coach_id WHERE e.org_id = $1 AND e.person_id = $2 ORDER BY e.opened_at DESC, e.id")
                    .bind(&org)
                    .bind(person.as_text())
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| Ok((parse_uuid(&r.try_get::<String, _>("id")?)?, r.try_get("display_name")?, r.try_get::<String, _>("status")? == "open", r.try_get("opened_at")?, r.try_get("closed_at")?)))
                    .collect::<Result<Vec<_>>>()?;
                let private = actor.role != Role::Person;
                let upcoming = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.person_id = $2 AND s.status = 'booked' AND s.ends_at > $3 ORDER BY s.starts_at, s.id"))
                    .bind(&org)
                    .bind(person.as_text())
                    .bind(now.0)
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| session_from_row(r, private))
                    .collect::<Result<Vec<_>>>()?;
                let goals = load_goals(c, actor.org_id, "person_id", &person.as_text()).await?;
                let person_name = sqlx::query("SELECT given_name, family_name FROM people WHERE org_id = $1 AND id = $2")
                    .bind(&org)
                    .bind(person.as_text())
                    .fetch_one(&mut *c)
                    .await
                    .map_err(StoreError::from)
                    .and_then(|r| full_name(&r, "given_name", "family_name"))?;
                Ok(Ok(PersonCoaching { person_name, referrals, episodes, upcoming, goals }))
            })
        })
        .await?
    }

    /// Books a session in an open episode, applying every booking rule (in the future,
    /// within the coach's hours, no overlap for coach or person, the session maximum).
    pub async fn book_session(
        &self,
        actor: &Actor,
        episode: EpisodeId,
        booking: Booking,
        now: Timestamp,
        source: Source,
    ) -> Result<SessionId> {
        let actor = actor.clone();
        let id = SessionId::new();
        self.write(move |c| {
            let (actor, booking, source) = (actor.clone(), booking.clone(), source.clone());
            Box::pin(async move {
                let person = match episode_person(c, actor.org_id, episode).await {
                    Err(StoreError::NotFound) => return Ok(Err(StoreError::NotFound)),
                    other => other?,
                };
                if let Err(e) = authorise(c, &actor, Action::ManageCoaching, person, AuditAction::SessionBooked, ("coaching_session", Some(id.as_text())), &source).await? {
                    return Ok(Err(e));
                }
                let ep = load_episode(c, actor.org_id, episode, true).await?;
                let (coach, _) = load_coach(c, actor.org_id, ep.coach_id).await?;
                let (from, to) = (booking.starts_at.0, booking.ends_at.0);
                let coach_busy = busy(c, actor.org_id, "coach_id", &ep.coach_id.as_text(), from, to).await?;
                let person_busy = busy(c, actor.org_id, "person_id", &person.as_text(), from, to).await?;
                let ctx = BookingContext {
                    now,
                    sessions_used: ep.sessions_used(),
                    max_sessions: ep.max_sessions,
                    by_coordinator: actor.role == Role::Coordinator,
                    coach_name: &coach.name,
                    coach_hours: &coach.hours,
                    coach_busy: &coach_busy,
                    person_busy: &person_busy,
                    episode_open: ep.open,
                };
                check_booking(&booking, &ctx).map_err(StoreError::Invalid)?;
                let extra = (ep.sessions_used() >= ep.max_sessions).then(|| booking.extra_reason.clone()).flatten();
                sqlx::query("INSERT INTO coaching_sessions (org_id, id, episode_id, person_id, coach_id, starts_at, ends_at, mode, place, status, length_reason, extra_reason, notes_shared, booked_by, booked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $11, 0, $12, $13)")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(episode.as_text())
                    .bind(person.as_text())
                    .bind(ep.coach_id.as_text())
                    .bind(booking.starts_at.0)
                    .bind(booking.ends_at.0)
                    .bind(booking.mode.code())
                    .bind(booking.place.clone())
                    .bind(booking.length_reason.clone())
                    .bind(extra)
                    .bind(actor.user_id.as_text())
                    .bind(now_micros())
                    .execute(&mut *c)
                    .await?;
                Ok(Ok(id))
            })
        })
        .await?
    }

    /// A session with its episode (audited as a read of the person's coaching).
    pub async fn coaching_session(
        &self,
        actor: &Actor,
        id: SessionId,
        source: Source,
    ) -> Result<(SessionRow, EpisodeView)> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let Some(row) = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.id = $2"))
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .fetch_optional(&mut *c)
                    .await?
                else {
                    return Ok(Err(StoreError::NotFound));
                };
                let private = actor.role != Role::Person;
                let s = session_from_row(&row, private)?;
                if let Err(e) = authorise(c, &actor, Action::ReadCoaching, s.person_id, AuditAction::CoachingRead, ("coaching_session", Some(id.as_text())), &source).await? {
                    return Ok(Err(e));
                }
                let ep = load_episode(c, actor.org_id, s.episode_id, private).await?;
                Ok(Ok((s, ep)))
            })
        })
        .await?
    }

    /// Records what happened at a session: attended (with notes and goal reviews), did not
    /// attend, or cancelled by either side. A person may only cancel their own booked session.
    pub async fn record_session(
        &self,
        actor: &Actor,
        id: SessionId,
        record: SessionRecord,
        now: Timestamp,
        source: Source,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, record, source) = (actor.clone(), record.clone(), source.clone());
            Box::pin(async move {
                let Some(row) = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.id = $2"))
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .fetch_optional(&mut *c)
                    .await?
                else {
                    return Ok(Err(StoreError::NotFound));
                };
                let s = session_from_row(&row, true)?;
                let res = ("coaching_session", Some(id.as_text()));
                let person_cancelling = actor.role == Role::Person;
                let action = if person_cancelling { Action::ReadCoaching } else { Action::ManageCoaching };
                if let Err(e) = authorise(c, &actor, action, s.person_id, AuditAction::SessionRecorded, res.clone(), &source).await? {
                    return Ok(Err(e));
                }
                if person_cancelling && record.status != SessionStatus::CancelledByPerson {
                    return Err(invalid("status", "You can cancel a session; your coach records the rest"));
                }
                match record.status {
                    SessionStatus::Booked => return Err(invalid("status", "Select what happened at the session")),
                    SessionStatus::Attended | SessionStatus::DidNotAttend if s.starts_at > now => {
                        return Err(invalid("status", "The session has not started yet: you can only cancel it"));
                    }
                    SessionStatus::CancelledByPerson | SessionStatus::CancelledByCoach if s.status != SessionStatus::Booked => {
                        return Err(invalid("status", "Only a booked session can be cancelled"));
                    }
                    _ => {}
                }
                let ep = load_episode(c, actor.org_id, s.episode_id, true).await?;
                for r in &record.reviews {
                    if !ep.goals.iter().any(|g| g.id == r.goal_id) {
                        return Err(invalid("reviews", "A review names a goal that is not part of this episode"));
                    }
                }
                let now_us = now_micros();
                sqlx::query("UPDATE coaching_sessions SET status = $3, notes = COALESCE($4, notes), notes_shared = $5, cancel_reason = $6, recorded_by = $7, recorded_at = $8 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(record.status.code())
                    .bind(record.notes.clone())
                    .bind(if person_cancelling { i64::from(s.notes_shared) } else { i64::from(record.notes_shared) })
                    .bind(record.cancel_reason.clone())
                    .bind(actor.user_id.as_text())
                    .bind(now_us)
                    .execute(&mut *c)
                    .await?;
                for r in &record.reviews {
                    sqlx::query("INSERT INTO goal_reviews (org_id, id, goal_id, session_id, attainment, note, reviewed_at, reviewed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(actor.org_id.as_text())
                        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                        .bind(r.goal_id.as_text())
                        .bind(id.as_text())
                        .bind(r.attainment)
                        .bind(r.note.clone())
                        // The application's clock: the review belongs to the session's day.
                        .bind(now.0)
                        .bind(actor.user_id.as_text())
                        .execute(&mut *c)
                        .await?;
                }
                audit::append(c, &ev(&actor, AuditAction::SessionRecorded, Outcome::Allowed, Some(s.person_id), res, &source, Some(record.status.code().to_string()))).await?;
                Ok(Ok(()))
            })
        })
        .await?
    }

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
        let actor = actor.clone();
        let id = GoalId::new();
        self.write(move |c| {
            let (actor, details, steps, source) = (actor.clone(), details.clone(), steps.clone(), source.clone());
            Box::pin(async move {
                if !crate::people::person_exists_in(c, actor.org_id, person).await? {
                    return Ok(Err(StoreError::NotFound));
                }
                if let Err(e) = authorise(c, &actor, Action::UpdateGoals, person, AuditAction::GoalChanged, ("goal", Some(id.as_text())), &source).await? {
                    return Ok(Err(e));
                }
                if let Some(ep) = episode {
                    if episode_person(c, actor.org_id, ep).await? != person {
                        return Err(StoreError::NotFound);
                    }
                }
                let now = now_micros();
                sqlx::query("INSERT INTO goals (org_id, id, person_id, episode_id, own_words, category, what, how_much, when_text, how_often, importance, confidence, created_at, created_by, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $14)")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(person.as_text())
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
                    .bind(actor.user_id.as_text())
                    .execute(&mut *c)
                    .await?;
                for (i, s) in steps.iter().enumerate() {
                    insert_step(c, actor.org_id, id, s, now + i as i64).await?;
                }
                Ok(Ok(id))
            })
        })
        .await?
    }

    /// A goal with its steps and reviews (audited).
    pub async fn goal(&self, actor: &Actor, id: GoalId, source: Source) -> Result<GoalView> {
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, source) = (actor.clone(), source.clone());
            Box::pin(async move {
                let goals = load_goals(c, actor.org_id, "id", &id.as_text()).await?;
                let Some(g) = goals.into_iter().next() else {
                    return Ok(Err(StoreError::NotFound));
                };
                if let Err(e) = authorise(
                    c,
                    &actor,
                    Action::ReadCoaching,
                    g.person_id,
                    AuditAction::CoachingRead,
                    ("goal", Some(id.as_text())),
                    &source,
                )
                .await?
                {
                    return Ok(Err(e));
                }
                Ok(Ok(g))
            })
        })
        .await?
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
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, details, new_step, done_steps, source) = (actor.clone(), details.clone(), new_step.clone(), done_steps.clone(), source.clone());
            Box::pin(async move {
                let goals = load_goals(c, actor.org_id, "id", &id.as_text()).await?;
                let Some(g) = goals.into_iter().next() else {
                    return Ok(Err(StoreError::NotFound));
                };
                if let Err(e) = authorise(c, &actor, Action::UpdateGoals, g.person_id, AuditAction::GoalChanged, ("goal", Some(id.as_text())), &source).await? {
                    return Ok(Err(e));
                }
                for s in &done_steps {
                    if !g.steps.iter().any(|x| x.id == *s) {
                        return Err(invalid("done", "A ticked step is not part of this goal"));
                    }
                }
                let now = now_micros();
                sqlx::query("UPDATE goals SET own_words = $3, category = $4, what = $5, how_much = $6, when_text = $7, how_often = $8, importance = $9, confidence = $10, updated_at = $11, updated_by = $12 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
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
                    .bind(actor.user_id.as_text())
                    .execute(&mut *c)
                    .await?;
                for s in &g.steps {
                    let done = done_steps.contains(&s.id);
                    if done != s.done {
                        sqlx::query("UPDATE goal_steps SET done = $3, updated_at = $4 WHERE org_id = $1 AND id = $2")
                            .bind(actor.org_id.as_text())
                            .bind(s.id.as_text())
                            .bind(i64::from(done))
                            .bind(now)
                            .execute(&mut *c)
                            .await?;
                    }
                }
                if let Some(step) = &new_step {
                    insert_step(c, actor.org_id, id, step, now).await?;
                }
                Ok(Ok(()))
            })
        })
        .await?
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
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, discharge, source) = (actor.clone(), discharge.clone(), source.clone());
            Box::pin(async move {
                let person = match episode_person(c, actor.org_id, id).await {
                    Err(StoreError::NotFound) => return Ok(Err(StoreError::NotFound)),
                    other => other?,
                };
                let res = ("coaching_episode", Some(id.as_text()));
                if let Err(e) = authorise(c, &actor, Action::ManageCoaching, person, AuditAction::EpisodeDischarged, res.clone(), &source).await? {
                    return Ok(Err(e));
                }
                let ep = load_episode(c, actor.org_id, id, true).await?;
                if !ep.open {
                    return Err(invalid("summary", "This episode has already ended"));
                }
                let mut e = ValidationErrors::default();
                for g in &ep.goals {
                    if !discharge.outcomes.iter().any(|(gid, _)| *gid == g.id.as_text()) {
                        e.add(&format!("outcome-{}", g.id), format!("Select whether \u{201c}{}\u{201d} was met, partly met or not met", g.details.own_words));
                    }
                }
                if !e.is_empty() {
                    return Err(StoreError::Invalid(e));
                }
                let now_us = now_micros();
                for (gid, outcome) in &discharge.outcomes {
                    sqlx::query("UPDATE goals SET outcome = $3, updated_at = $4, updated_by = $5 WHERE org_id = $1 AND id = $2 AND episode_id = $6")
                        .bind(actor.org_id.as_text())
                        .bind(gid.clone())
                        .bind(outcome.code())
                        .bind(now_us)
                        .bind(actor.user_id.as_text())
                        .bind(id.as_text())
                        .execute(&mut *c)
                        .await?;
                }
                sqlx::query("UPDATE coaching_sessions SET status = 'cancelled_by_coach', cancel_reason = 'Coaching episode ended', recorded_by = $3, recorded_at = $4 WHERE org_id = $1 AND episode_id = $2 AND status = 'booked' AND starts_at > $5")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(actor.user_id.as_text())
                    .bind(now_us)
                    .bind(now.0)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("UPDATE coaching_episodes SET status = 'closed', closed_at = $3, closed_by = $4, summary = $5, onward = $6, remeasure_due = $7 WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(now_us)
                    .bind(actor.user_id.as_text())
                    .bind(discharge.summary.clone())
                    .bind(discharge.onward.clone())
                    .bind(alongside_core::time::iso_date(remeasure_due))
                    .execute(&mut *c)
                    .await?;
                audit::append(c, &ev(&actor, AuditAction::EpisodeDischarged, Outcome::Allowed, Some(person), res, &source, None)).await?;
                Ok(Ok(()))
            })
        })
        .await?
    }

    /// Reopens an ended episode (coordinators only), with a reason.
    pub async fn reopen_episode(
        &self,
        actor: &Actor,
        id: EpisodeId,
        reason: String,
        source: Source,
    ) -> Result<()> {
        let res = ("coaching_episode", Some(id.as_text()));
        authorise_org(
            self,
            actor,
            Action::ManageCoachingQueue,
            AuditAction::EpisodeReopened,
            res.clone(),
            &source,
        )
        .await?;
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, reason, source, res) =
                (actor.clone(), reason.clone(), source.clone(), res.clone());
            Box::pin(async move {
                let person = episode_person(c, actor.org_id, id).await?;
                let ep = load_episode(c, actor.org_id, id, true).await?;
                if ep.open {
                    return Err(invalid("status", "This episode is already open"));
                }
                let other_open = sqlx::query("SELECT 1 AS one FROM coaching_episodes WHERE org_id = $1 AND person_id = $2 AND status = 'open'")
                    .bind(actor.org_id.as_text())
                    .bind(person.as_text())
                    .fetch_optional(&mut *c)
                    .await?
                    .is_some();
                if other_open {
                    return Err(invalid("reopen_reason", "This person already has an open coaching episode"));
                }
                sqlx::query("UPDATE coaching_episodes SET status = 'open', reopened_at = $3, reopened_by = $4, reopen_reason = $5, remeasure_due = NULL WHERE org_id = $1 AND id = $2")
                    .bind(actor.org_id.as_text())
                    .bind(id.as_text())
                    .bind(now_micros())
                    .bind(actor.user_id.as_text())
                    .bind(reason.clone())
                    .execute(&mut *c)
                    .await?;
                link(c, actor.org_id, ep.coach_id, person).await?;
                audit::append(c, &ev(&actor, AuditAction::EpisodeReopened, Outcome::Allowed, Some(person), res, &source, Some(reason))).await?;
                Ok(())
            })
        })
        .await
    }

    /// The signed-in coach's caseload: open episodes with next session, sessions used,
    /// activation and its change, goals and their progress, and what is overdue; plus this
    /// week's sessions. Audited as one list view.
    pub async fn caseload(
        &self,
        actor: &Actor,
        now: Timestamp,
        week_end: Timestamp,
        source: Source,
    ) -> Result<Caseload> {
        authorise_org(
            self,
            actor,
            Action::OwnCaseload,
            AuditAction::CaseloadRead,
            ("caseload", None),
            &source,
        )
        .await?;
        self.audit(ev(
            actor,
            AuditAction::CaseloadRead,
            Outcome::Allowed,
            None,
            ("caseload", Some(actor.user_id.as_text())),
            &source,
            None,
        ))
        .await?;
        let mut c = self.reader().acquire().await?;
        let c = &mut *c;
        let org = actor.org_id.as_text();
        let coach = actor.user_id.as_text();
        let summary = coach_summary(c, actor.org_id, actor.user_id).await?;
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
        Ok(Caseload {
            coach: summary,
            people,
            week,
        })
    }

    /// Whether the signed-in coach has a live calendar feed, and since when.
    pub async fn calendar_feed(&self, org: OrgId, user: UserId) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT created_at FROM calendar_feeds WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1")
            .bind(org.as_text())
            .bind(user.as_text())
            .fetch_optional(self.reader())
            .await?
            .map(|r| r.try_get("created_at"))
            .transpose()?)
    }

    /// Replaces the coach's feed address with a new one (the old stops working), or, with
    /// `token_hash` `None`, revokes it.
    pub async fn set_calendar_feed(
        &self,
        actor: &Actor,
        token_hash: Option<String>,
        source: Source,
    ) -> Result<()> {
        let res = ("calendar_feed", None);
        authorise_org(
            self,
            actor,
            Action::OwnCaseload,
            AuditAction::CalendarFeedChanged,
            res.clone(),
            &source,
        )
        .await?;
        let actor = actor.clone();
        self.write(move |c| {
            let (actor, token_hash, source, res) =
                (actor.clone(), token_hash.clone(), source.clone(), res.clone());
            Box::pin(async move {
                let now = now_micros();
                sqlx::query("UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                    .bind(actor.org_id.as_text())
                    .bind(actor.user_id.as_text())
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                if let Some(h) = &token_hash {
                    sqlx::query("INSERT INTO calendar_feeds (org_id, id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(actor.org_id.as_text())
                        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                        .bind(actor.user_id.as_text())
                        .bind(h.clone())
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                }
                audit::append(c, &ev(&actor, AuditAction::CalendarFeedChanged, Outcome::Allowed, None, res, &source, Some(if token_hash.is_some() { "new address" } else { "revoked" }.into()))).await?;
                Ok(())
            })
        })
        .await
    }

    /// The sessions behind a live feed address (from 30 days ago on), audited as a read by
    /// the coach the feed belongs to. `None` for an unknown or revoked address.
    pub async fn calendar_by_token(
        &self,
        org: OrgId,
        token_hash: &str,
        now: Timestamp,
        source: Source,
    ) -> Result<Option<CalendarData>> {
        let Some(r) = sqlx::query("SELECT f.user_id, u.display_name, u.role, u.active FROM calendar_feeds f JOIN users u ON u.org_id = f.org_id AND u.id = f.user_id WHERE f.org_id = $1 AND f.token_hash = $2 AND f.revoked_at IS NULL")
            .bind(org.as_text())
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        if r.try_get::<i64, _>("active")? == 0 {
            return Ok(None);
        }
        let user: UserId = parse_uuid(&r.try_get::<String, _>("user_id")?)?;
        let role: String = r.try_get("role")?;
        let actor = Actor {
            user_id: user,
            org_id: org,
            role: role.parse().map_err(|_| corrupt("role", &role))?,
            person_id: None,
        };
        if !decide(&actor, Action::OwnCaseload, Target::Org(org)).allowed {
            return Ok(None);
        }
        self.audit(ev(
            &actor,
            AuditAction::CalendarFeedRead,
            Outcome::Allowed,
            None,
            ("calendar_feed", Some(user.as_text())),
            &source,
            None,
        ))
        .await?;
        let sessions = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.coach_id = $2 AND s.starts_at >= $3 ORDER BY s.starts_at, s.id LIMIT 2000"))
            .bind(org.as_text())
            .bind(user.as_text())
            .bind(now.0 - 30 * 86_400 * 1_000_000)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| session_from_row(r, false))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(CalendarData {
            coach_name: r.try_get("display_name")?,
            sessions,
        }))
    }

    /// The latest re-measurement date set by one of the person's ended coaching episodes.
    pub async fn coaching_remeasure_due(
        &self,
        org: OrgId,
        person: PersonId,
    ) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT MAX(remeasure_due) AS due FROM coaching_episodes WHERE org_id = $1 AND person_id = $2 AND status = 'closed'")
            .bind(org.as_text())
            .bind(person.as_text())
            .fetch_one(self.reader())
            .await?
            .try_get("due")?)
    }

    /// People whose coaching episode ended with a re-measurement date, and that date, for
    /// the re-measurement due list.
    pub async fn coaching_remeasure_dates(
        &self,
        org: OrgId,
    ) -> Result<std::collections::HashMap<PersonId, String>> {
        let rows = sqlx::query("SELECT person_id, MAX(remeasure_due) AS due FROM coaching_episodes WHERE org_id = $1 AND status = 'closed' AND remeasure_due IS NOT NULL GROUP BY person_id")
            .bind(org.as_text())
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_uuid(&r.try_get::<String, _>("person_id")?)?,
                    r.try_get("due")?,
                ))
            })
            .collect()
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

impl Store {
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
