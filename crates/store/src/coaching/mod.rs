//! Health coaching in the store: referrals and the waiting list, allocation to coaches with
//! room, episodes, sessions, goals with steps and reviews, discharge, caseloads and calendar
//! feeds.
//!
//! Every use case runs through the door ([`Store::write_as`] / [`Store::read_as`]): it finds
//! whose coaching a record is, takes the grant for that person (or the organisation-wide
//! grant for the coordinator's queue and a coach's own caseload) before reading anything of
//! theirs, and audits what it read or changed in the same transaction. The loaders below take
//! a grant, so nothing is loaded without a decision. Booking rules come from
//! `alongside_core::coaching`; this module only gathers the facts they need. All writes run on
//! the single writer, so a check and the insert it guards (a free slot, a coach's room) cannot
//! interleave with another booking: exactly one of two simultaneous bookings of a slot wins,
//! on both backends.

use crate::door::{AuditAs, OrgGrant, PersonGrant, Tx};
use crate::people::Source;
use crate::users::parse_uuid;
use crate::{Result, Store, StoreError};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
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

/// Every active health coach in the organisation (staff data: names, limits and hours).
async fn coaches_in(c: &mut AnyConnection, org: OrgId) -> Result<Vec<CoachSummary>> {
    sqlx::query(&format!("SELECT {COACH_COLUMNS} FROM {COACH_FROM} WHERE u.org_id = $1 AND u.role = 'health_coach' AND u.active = 1 ORDER BY u.display_name, u.id"))
        .bind(org.as_text())
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(coach_from_row)
        .collect()
}

/// The kinds of coaching record, each about one person.
#[derive(Debug, Clone, Copy)]
enum Record {
    Referral,
    Episode,
    Session,
    Goal,
}

impl Record {
    fn table(self) -> &'static str {
        match self {
            Record::Referral => "coaching_referrals",
            Record::Episode => "coaching_episodes",
            Record::Session => "coaching_sessions",
            Record::Goal => "goals",
        }
    }
}

/// Whom a coaching record is about (nothing else is read), so that the decision can be made
/// before anything of theirs is loaded. `NotFound` when the organisation has no such record.
async fn owner(tx: &mut Tx<'_>, record: Record, id: &str) -> Result<PersonId> {
    let org = tx.org();
    let sql = format!(
        "SELECT person_id FROM {} WHERE org_id = $1 AND id = $2",
        record.table()
    );
    let row = sqlx::query(&sql)
        .bind(org.as_text())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    parse_uuid(&row.try_get::<String, _>("person_id")?)
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

/// Which of a person's goals to load.
enum Goals {
    All,
    OfEpisode(EpisodeId),
    One(GoalId),
}

/// Goals of the person of `grant`, with their steps and reviews.
async fn load_goals(
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

/// `$first, $first+1, …` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An episode of the person of `grant`, with its sessions and goals. `private_notes`: the
/// reader sees notes their coach did not share (the access rules decide).
async fn load_episode(
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

/// A session of the person of `grant`.
async fn load_session(
    c: &mut AnyConnection,
    grant: &PersonGrant,
    id: SessionId,
    private_notes: bool,
) -> Result<SessionRow> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.id = $2 AND s.person_id = $3"
    ))
    .bind(grant.org().as_text())
    .bind(id.as_text())
    .bind(grant.person().as_text())
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    session_from_row(&row, private_notes)
}

/// What the reader of the person of `grant` may see and do beyond reading their coaching:
/// `(sees the team's private notes, may book, record and discharge)`, decided by the access
/// rules on the facts the grant was decided on.
async fn team_rights(tx: &mut Tx<'_>, grant: &PersonGrant) -> Result<(bool, bool)> {
    Ok((
        tx.also_may(grant, Action::ReadPrivateCoachingNotes).await?,
        tx.also_may(grant, Action::ManageCoaching).await?,
    ))
}

/// Busy slots (times only, no one named) of a coach or a person, for the booking rules.
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

async fn link(
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
        let id = SessionId::new();
        self.write_as(actor, &source, move |tx| {
            let booking = booking.clone();
            Box::pin(async move {
                let person = owner(tx, Record::Episode, &episode.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::SessionBooked)
                    .on("coaching_session", Some(id.as_text()));
                let g = tx.person_audited(Action::ManageCoaching, person, audit_as).await?;
                // Sessions beyond the maximum: those who run the waiting list.
                let beyond_max = crate::door::org_decision(tx.actor(), Action::ManageCoachingQueue).allowed;
                let org = g.org();
                let ep = load_episode(tx.conn(), &g, episode, true).await?;
                let (coach, _) = load_coach(tx.conn(), org, ep.coach_id).await?;
                let (from, to) = (booking.starts_at.0, booking.ends_at.0);
                let coach_busy = busy(tx.conn(), org, "coach_id", &ep.coach_id.as_text(), from, to).await?;
                let person_busy = busy(tx.conn(), org, "person_id", &person.as_text(), from, to).await?;
                let ctx = BookingContext {
                    now,
                    sessions_used: ep.sessions_used(),
                    max_sessions: ep.max_sessions,
                    by_coordinator: beyond_max,
                    coach_name: &coach.name,
                    coach_hours: &coach.hours,
                    coach_busy: &coach_busy,
                    person_busy: &person_busy,
                    episode_open: ep.open,
                };
                check_booking(&booking, &ctx).map_err(StoreError::Invalid)?;
                let extra = (ep.sessions_used() >= ep.max_sessions).then(|| booking.extra_reason.clone()).flatten();
                let (booked_at, by) = (tx.now(), tx.actor().user_id);
                sqlx::query("INSERT INTO coaching_sessions (org_id, id, episode_id, person_id, coach_id, starts_at, ends_at, mode, place, status, length_reason, extra_reason, notes_shared, booked_by, booked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $11, 0, $12, $13)")
                    .bind(org.as_text())
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
                    .bind(by.as_text())
                    .bind(booked_at)
                    .execute(tx.conn())
                    .await?;
                Ok(id)
            })
        })
        .await
    }

    /// A session with its episode (audited as a read of the person's coaching).
    pub async fn coaching_session(
        &self,
        actor: &Actor,
        id: SessionId,
        source: Source,
    ) -> Result<(SessionRow, EpisodeView)> {
        self.read_as(actor, &source, move |tx| {
            Box::pin(async move {
                let person = owner(tx, Record::Session, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::CoachingRead)
                    .on("coaching_session", Some(id.as_text()));
                let g = tx
                    .person_audited(Action::ReadCoaching, person, audit_as)
                    .await?;
                let (private, may_manage) = team_rights(tx, &g).await?;
                let s = load_session(tx.conn(), &g, id, private).await?;
                let mut ep = load_episode(tx.conn(), &g, s.episode_id, private).await?;
                ep.may_manage = may_manage;
                Ok((s, ep))
            })
        })
        .await
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
        self.write_as(actor, &source, move |tx| {
            let record = record.clone();
            Box::pin(async move {
                let person = owner(tx, Record::Session, &id.as_text()).await?;
                let audit_as = AuditAs::new(AuditAction::SessionRecorded)
                    .on("coaching_session", Some(id.as_text()));
                // Whoever may read the person's coaching may cancel a session of theirs (the
                // person their own); recording the rest is the coaching team's.
                let g = tx.person(Action::ReadCoaching, person, audit_as.clone()).await?;
                let person_cancelling = !tx.also_may(&g, Action::ManageCoaching).await?;
                let s = load_session(tx.conn(), &g, id, true).await?;
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
                let ep = load_episode(tx.conn(), &g, s.episode_id, true).await?;
                for r in &record.reviews {
                    if !ep.goals.iter().any(|g| g.id == r.goal_id) {
                        return Err(invalid("reviews", "A review names a goal that is not part of this episode"));
                    }
                }
                let (now_us, by) = (tx.now(), tx.actor().user_id);
                let org = g.org();
                sqlx::query("UPDATE coaching_sessions SET status = $3, notes = COALESCE($4, notes), notes_shared = $5, cancel_reason = $6, recorded_by = $7, recorded_at = $8 WHERE org_id = $1 AND id = $2")
                    .bind(org.as_text())
                    .bind(id.as_text())
                    .bind(record.status.code())
                    .bind(record.notes.clone())
                    .bind(if person_cancelling { i64::from(s.notes_shared) } else { i64::from(record.notes_shared) })
                    .bind(record.cancel_reason.clone())
                    .bind(by.as_text())
                    .bind(now_us)
                    .execute(tx.conn())
                    .await?;
                for r in &record.reviews {
                    sqlx::query("INSERT INTO goal_reviews (org_id, id, goal_id, session_id, attainment, note, reviewed_at, reviewed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(org.as_text())
                        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                        .bind(r.goal_id.as_text())
                        .bind(id.as_text())
                        .bind(r.attainment)
                        .bind(r.note.clone())
                        // The application's clock: the review belongs to the session's day.
                        .bind(now.0)
                        .bind(by.as_text())
                        .execute(tx.conn())
                        .await?;
                }
                tx.log(&g, audit_as.detail(record.status.code())).await?;
                Ok(())
            })
        })
        .await
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
        self.write_as(actor, &source, move |tx| {
            let token_hash = token_hash.clone();
            Box::pin(async move {
                let audit_as =
                    AuditAs::new(AuditAction::CalendarFeedChanged).on("calendar_feed", None);
                let g = tx.org_action(Action::OwnCaseload, audit_as.clone())?;
                let (now, me) = (tx.now(), tx.actor().user_id);
                sqlx::query("UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL")
                    .bind(g.org().as_text())
                    .bind(me.as_text())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                if let Some(h) = &token_hash {
                    sqlx::query("INSERT INTO calendar_feeds (org_id, id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(g.org().as_text())
                        .bind(uuid::Uuid::now_v7().hyphenated().to_string())
                        .bind(me.as_text())
                        .bind(h.clone())
                        .bind(now)
                        .execute(tx.conn())
                        .await?;
                }
                let detail = if token_hash.is_some() { "new address" } else { "revoked" };
                tx.log_org(&g, None, audit_as.detail(detail)).await?;
                Ok(())
            })
        })
        .await
    }

    /// The sessions behind a live feed address (from 30 days ago on). The address stands in
    /// for signing in: the read runs through the door as the coach the feed belongs to, and is
    /// audited as theirs. `None` for an unknown or revoked address, or one whose owner may no
    /// longer keep a caseload (that refusal audited).
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
        let coach_name: String = r.try_get("display_name")?;
        let coach = Actor {
            user_id: user,
            org_id: org,
            role: role.parse().map_err(|_| corrupt("role", &role))?,
            person_id: None,
        };
        let sessions = self
            .read_as(&coach, &source, move |tx| {
                Box::pin(async move {
                    let audit_as = AuditAs::new(AuditAction::CalendarFeedRead)
                        .on("calendar_feed", Some(user.as_text()));
                    let g = tx.org_action(Action::OwnCaseload, audit_as.clone())?;
                    tx.log_org(&g, None, audit_as).await?;
                    sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM {SESSION_FROM} WHERE s.org_id = $1 AND s.coach_id = $2 AND s.starts_at >= $3 ORDER BY s.starts_at, s.id LIMIT 2000"))
                        .bind(g.org().as_text())
                        .bind(user.as_text())
                        .bind(now.0 - 30 * 86_400 * 1_000_000)
                        .fetch_all(tx.conn())
                        .await?
                        .iter()
                        .map(|r| session_from_row(r, false))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .await;
        match sessions {
            Ok(sessions) => Ok(Some(CalendarData {
                coach_name,
                sessions,
            })),
            Err(StoreError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
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
