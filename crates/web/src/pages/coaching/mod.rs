//! Health coaching pages: referrals (by staff and self-referral), the coordinator's queue
//! and coaches' capacity, episodes with sessions and goals, recording a session, discharge,
//! a coach's caseload, and the private calendar feed.
//!
//! Handlers parse and render only: access and audit happen in the store, rules in
//! `alongside_core::coaching`. A broken rule re-renders the form with the field's message
//! (422) and nothing written.

use super::{invalid, ok, see_other};
use crate::auth::{self, ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{
    attainment_label, london_instant, london_local, parse_attainment, BookingForm, ContactMode,
    DischargeForm, GoalCategory, GoalDetails, GoalForm, GoalOutcome, ReferralForm, ReferralStatus,
    SessionStatus, Urgency, WorkingHours, ATTAINMENT, WEEKDAYS,
};
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_core::{EpisodeId, GoalId, OrgId, PersonId, ReferralId, SessionId, UserId};
use alongside_store::coaching::{EpisodeView, GoalView, ReviewInput, SessionRecord, SessionRow};
use alongside_store::door::{AuditAs, Source};
use alongside_store::StoreError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

fn id<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// `Monday 1 February 2027, 10:00` in Europe/London.
pub fn local_when(t: Timestamp) -> String {
    let (d, m) = london_local(t);
    format!(
        "{} {}, {:02}:{:02}",
        d.weekday(),
        display_date(d),
        m / 60,
        m % 60
    )
}

fn minutes_between(a: Timestamp, b: Timestamp) -> i64 {
    (b.0 - a.0) / 60_000_000
}

/// Errors for single-valued fields sent more than once.
fn repeated(data: &FormData, keys: &[&str]) -> Option<ValidationErrors> {
    Some(data.repeated_errors(keys)).filter(|e| !e.is_empty())
}

fn allowed(user: &CurrentUser, action: Action) -> bool {
    user.may(action)
}

fn status_tag(s: SessionStatus) -> Markup {
    let class = match s {
        SessionStatus::Booked => "tag tag--blue",
        SessionStatus::Attended => "tag tag--green",
        SessionStatus::DidNotAttend => "tag tag--red",
        _ => "tag tag--grey",
    };
    html! { strong class=(class) { (s.label()) } }
}

fn level_text(l: Option<i64>) -> String {
    l.map(|l| format!("Level {l}"))
        .unwrap_or_else(|| "Not measured".into())
}

// ---------------------------------------------------------------------------------------------
// A person's coaching

pub async fn person_coaching(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(pid): Path<String>,
) -> AppResult<Response> {
    let pid: PersonId = id(&pid)?;
    let pc = state
        .store
        .person_coaching(&user.actor, pid, state.config.clock.now(), source)
        .await?;
    let own = user.actor.person_id == Some(pid);
    // The coaching team (not the person): offered the record and a referral.
    let staff = pc.may_manage;
    let open_episode = pc.episodes.iter().find(|e| e.2).map(|e| e.0);
    let pending = pc.referrals.iter().any(|r| {
        matches!(
            r.status,
            ReferralStatus::Waiting | ReferralStatus::Allocated
        )
    });
    let title = if own { "Your coaching" } else { "Coaching" };
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            @if staff { p { a.back-link href={ "/people/" (pid) } { "Back to the record" } } }
            @if !own { span.caption { (pc.person_name) } }
            h1 { (title) }
            @if !pending && open_episode.is_none() {
                @if own { p { a.button href="/coaching/refer-myself" { "Ask for a health coach" } } }
                @else if staff { p { a.button href={ "/people/" (pid) "/coaching/refer" } { "Refer to health coaching" } } }
            }
            h2 { "Coming up" }
            @if pc.upcoming.is_empty() { p { "No sessions booked." } }
            @else {
                ul.list {
                    @for s in &pc.upcoming {
                        li { a href={ "/coaching/sessions/" (s.id) } { (local_when(s.starts_at)) } " – " (s.mode.label()) @if let Some(p) = &s.place { ", " (p) } }
                    }
                }
            }
            h2 { @if own { "Your goals" } @else { "Goals" } }
            @if pc.goals.is_empty() { p { "No goals yet." } }
            @else { (goal_list(&pc.goals)) }
            @if open_episode.is_some() || own {
                p { a.button.button--secondary href={ "/people/" (pid) "/goals/new" @if let Some(e) = open_episode { "?episode=" (e) } } { "Add a goal" } }
            }
            h2 { "Coaching episodes" }
            @if pc.episodes.is_empty() { p { "None yet." } }
            @else {
                ul.list {
                    @for (eid, coach, open, opened, closed) in &pc.episodes {
                        li {
                            a href={ "/coaching/episodes/" (eid) } { "With " (coach) ", from " (display_date(Timestamp(*opened).date())) }
                            @if *open { " " strong.tag.tag--green { "Open" } }
                            @else if let Some(c) = closed { " – ended " (display_date(Timestamp(*c).date())) }
                        }
                    }
                }
            }
            h2 { "Referrals" }
            @if pc.referrals.is_empty() { p { "None." } }
            @else {
                ul.list {
                    @for r in &pc.referrals {
                        li {
                            a href={ "/coaching/referrals/" (r.id) } { (display_date(Timestamp(r.received_at).date())) ": " (r.status.label()) }
                            @if let Some(c) = &r.coach_name { " (" (c) ")" }
                        }
                    }
                }
            }
        },
    )))
}

fn goal_list(goals: &[GoalView]) -> Markup {
    html! {
        ul.list {
            @for g in goals {
                li {
                    a href={ "/goals/" (g.id) } { "\u{201c}" (g.details.own_words) "\u{201d}" }
                    " – " (g.details.category.label())
                    @if let Some(o) = g.outcome { " " strong.tag.tag--grey { (o.label()) } }
                    @else {
                        ". Steps done: " (g.steps.iter().filter(|s| s.done).count()) " of " (g.steps.len())
                        @if let Some(a) = g.latest_attainment() { ". Last review: " (attainment_label(a)) }
                    }
                }
            }
        }
    }
}

/// The signed-in person's own coaching (an account linked to a person's record).
pub async fn my_coaching(user: CurrentUser) -> AppResult<Response> {
    match user.actor.person_id {
        Some(p) => Ok(see_other(&format!("/people/{p}/coaching"))),
        None => Err(AppError::Forbidden("only for a person's own account")),
    }
}

// ---------------------------------------------------------------------------------------------
// Referrals

const REFERRAL_FIELDS: [&str; 6] = [
    "source", "referrer", "reason", "urgency", "times", "language",
];

fn referral_form(data: &FormData) -> ReferralForm {
    ReferralForm {
        source: data.get("source"),
        referrer: data.get("referrer"),
        reason: data.get("reason"),
        urgency: data.get("urgency"),
        modes: data.all("modes"),
        times: data.get("times"),
        language: data.get("language"),
    }
}

fn referral_page(
    user: &CurrentUser,
    action: &str,
    name: Option<&str>,
    f: &ReferralForm,
    e: &ValidationErrors,
) -> Markup {
    let own = name.is_none();
    let title = if own {
        "Ask for a health coach".to_string()
    } else {
        format!("Refer {} to health coaching", name.unwrap_or(""))
    };
    let sources: Vec<(&str, &str)> = alongside_core::coaching::ReferralSource::options()
        .into_iter()
        .filter(|(c, _)| *c != "self")
        .collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            h1 { (title) }
            @if own { p { "A health coach meets you up to six times to help you work towards goals that matter to you. Tell us a little about what you would like help with." } }
            form method="post" action=(action) novalidate {
                (layout::csrf(&user.csrf))
                @if !own {
                    (layout::radios("source", "Who is making the referral?", &sources, &f.source, e))
                    (layout::text_input("referrer", "Referrer's name and role (optional)", &f.referrer, e, Input { hint: Some("For example, Dr A Patel, GP"), width: Some("input--width-20"), ..Default::default() }))
                    (layout::textarea("reason", "Reason for the referral", Some("What the person would like help with, in their words where possible"), &f.reason, e))
                    (layout::radios("urgency", "How urgent is it?", &Urgency::options(), &f.urgency, e))
                } @else {
                    (layout::textarea("reason", "What would you like help with?", None, &f.reason, e))
                }
                (layout::checkboxes("modes", if own { "How would you like to meet?" } else { "Ways of meeting that suit them" }, Some("Select all that apply"), &ContactMode::options(), &f.modes, e))
                (layout::text_input("times", if own { "What times suit you? (optional)" } else { "Times that suit (optional)" }, &f.times, e, Input { hint: Some("For example, weekday mornings"), width: Some("input--width-20"), ..Default::default() }))
                (layout::text_input("language", "Preferred language for sessions (optional)", &f.language, e, Input { width: Some("input--width-10"), ..Default::default() }))
                button.button type="submit" { @if own { "Send" } @else { "Make referral" } }
            }
        },
    )
}

async fn person_name(
    state: &AppState,
    user: &CurrentUser,
    pid: PersonId,
    source: Source,
) -> AppResult<String> {
    let view = state.store.read_person(&user.actor, pid, source).await?;
    Ok(view.record.details.full_name())
}

pub async fn refer_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(pid): Path<String>,
) -> AppResult<Response> {
    let pid: PersonId = id(&pid)?;
    refer_allowed(&state, &user, pid, &source).await?;
    let name = person_name(&state, &user, pid, source).await?;
    // A person referring themselves gets the self-referral form (its source is fixed).
    let own = user.actor.person_id == Some(pid);
    Ok(ok(referral_page(
        &user,
        &format!("/people/{pid}/coaching/refer"),
        (!own).then_some(name.as_str()),
        &ReferralForm::default(),
        &ValidationErrors::default(),
    )))
}

/// Refuses (403, audited) unless the actor may refer the person; another organisation's
/// record (or none) is not found.
async fn refer_allowed(
    state: &AppState,
    user: &CurrentUser,
    pid: PersonId,
    source: &Source,
) -> AppResult<()> {
    let audit = AuditAs::new(AuditAction::ReferralCreated).on("coaching_referral", None);
    Ok(state
        .store
        .authorise_person(&user.actor, Action::ReferToCoaching, pid, audit, source)
        .await?)
}

pub async fn refer_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(pid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let pid: PersonId = id(&pid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let f = referral_form(&data);
    let action = format!("/people/{pid}/coaching/refer");
    let own = user.actor.person_id == Some(pid);
    let result = match repeated(&data, &REFERRAL_FIELDS) {
        Some(e) => Err(e),
        None => f.validate(own),
    };
    match result {
        Ok(details) => match state
            .store
            .create_referral(&user.actor, pid, details, source.clone())
            .await
        {
            Ok(rid) => Ok(see_other(&format!("/coaching/referrals/{rid}?made=1"))),
            Err(StoreError::Invalid(e)) => {
                let name = person_name(&state, &user, pid, source).await?;
                let name = (!own).then_some(name.as_str());
                Ok(invalid(referral_page(&user, &action, name, &f, &e)))
            }
            Err(other) => Err(other.into()),
        },
        Err(e) => {
            refer_allowed(&state, &user, pid, &source).await?;
            let name = person_name(&state, &user, pid, source).await?;
            let name = (!own).then_some(name.as_str());
            Ok(invalid(referral_page(&user, &action, name, &f, &e)))
        }
    }
}

/// The record of a person's own account (self-referral is for them alone).
fn own_person(user: &CurrentUser) -> AppResult<PersonId> {
    user.actor.person_id.ok_or(AppError::Forbidden(
        "self-referral is for a person's own account",
    ))
}

pub async fn self_refer_form(user: CurrentUser) -> AppResult<Response> {
    own_person(&user)?;
    Ok(ok(referral_page(
        &user,
        "/coaching/refer-myself",
        None,
        &ReferralForm::default(),
        &ValidationErrors::default(),
    )))
}

pub async fn self_refer_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    body: Bytes,
) -> AppResult<Response> {
    let pid = own_person(&user)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let f = referral_form(&data);
    let result = match repeated(&data, &REFERRAL_FIELDS) {
        Some(e) => Err(e),
        None => f.validate(true),
    };
    let e = match result {
        Ok(details) => match state
            .store
            .create_referral(&user.actor, pid, details, source)
            .await
        {
            Ok(rid) => return Ok(see_other(&format!("/coaching/referrals/{rid}?made=1"))),
            Err(StoreError::Invalid(e)) => e,
            Err(other) => return Err(other.into()),
        },
        Err(e) => e,
    };
    Ok(invalid(referral_page(
        &user,
        "/coaching/refer-myself",
        None,
        &f,
        &e,
    )))
}

#[derive(Deserialize, Default)]
pub struct Banner {
    made: Option<String>,
    done: Option<String>,
}

pub async fn referral(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(rid): Path<String>,
    Query(b): Query<Banner>,
) -> AppResult<Response> {
    let rid: ReferralId = id(&rid)?;
    let r = state.store.referral(&user.actor, rid, source).await?;
    let coaches =
        if allowed(&user, Action::ManageCoachingQueue) && r.status == ReferralStatus::Waiting {
            state.store.coaches(user.actor.org_id).await?
        } else {
            Vec::new()
        };
    Ok(ok(referral_detail(
        &user,
        &r,
        &coaches,
        &b,
        &ValidationErrors::default(),
    )))
}

fn referral_detail(
    user: &CurrentUser,
    r: &alongside_store::coaching::ReferralRow,
    coaches: &[alongside_store::coaching::CoachSummary],
    b: &Banner,
    e: &ValidationErrors,
) -> Markup {
    let own = user.actor.person_id == Some(r.person_id);
    let coordinator = allowed(user, Action::ManageCoachingQueue);
    let my_decision =
        r.status == ReferralStatus::Allocated && r.coach_id == Some(user.actor.user_id);
    let can_withdraw = (coordinator || own)
        && matches!(
            r.status,
            ReferralStatus::Waiting | ReferralStatus::Allocated
        );
    let coach_options: Vec<(String, String)> = coaches
        .iter()
        .map(|c| {
            (
                c.user_id.to_string(),
                format!(
                    "{} – {} of {} places in use{}",
                    c.name,
                    c.in_use,
                    c.caseload_limit,
                    if c.has_room() { "" } else { " (full)" }
                ),
            )
        })
        .collect();
    let coach_refs: Vec<(&str, &str)> = coach_options
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let title = if own {
        "Your request for a health coach".to_string()
    } else {
        format!("Referral for {}", r.person_name)
    };
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            @if b.made.is_some() { (layout::success_banner(if own { "Request sent. A care coordinator will be in touch." } else { "Referral made" })) }
            @if b.done.is_some() { (layout::success_banner("Saved")) }
            (layout::error_summary(e))
            p { a.back-link href={ "/people/" (r.person_id) "/coaching" } { @if own { "Back to your coaching" } @else { "Back to " (r.person_name) "'s coaching" } } }
            h1 { (title) }
            // `status`: where errors about the referral's state (no longer waiting…) link to.
            dl.summary-list id="status" {
                (layout::row("Status", html! { (r.status.label()) @if let Some(c) = &r.coach_name { ": " (c) } }))
                (layout::row("Received", html! { (display_date(Timestamp(r.received_at).date())) }))
                (layout::row("Made by", html! { (r.source.label()) @if let Some(x) = &r.referrer { " – " (x) } }))
                (layout::row("Reason", html! { (r.reason) }))
                (layout::row("Urgency", html! { (r.urgency.label()) }))
                (layout::row("Activation at referral", html! { (level_text(r.activation_level)) }))
                (layout::row("Ways of meeting", html! { @if r.modes.is_empty() { "No preference" } @else { (r.modes.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")) } }))
                (layout::row("Times", layout::or_not_recorded(r.times.as_deref())))
                (layout::row("Language", layout::or_not_recorded(r.language.as_deref())))
                @if let Some(d) = &r.last_decline_reason { (layout::row("Last declined because", html! { (d) })) }
                @if let Some(w) = &r.withdraw_reason { (layout::row("Withdrawn because", html! { (w) })) }
            }
            @if let Some(ep) = r.episode_id { p { a href={ "/coaching/episodes/" (ep) } { "Go to the coaching episode" } } }
            @if coordinator && r.status == ReferralStatus::Waiting {
                h2 { "Allocate to a coach" }
                @if coach_refs.is_empty() { p { "There are no active health coaches. Add one under Users." } }
                @else {
                    form method="post" action={ "/coaching/referrals/" (r.id) "/allocate" } novalidate {
                        (layout::csrf(&user.csrf))
                        (layout::radios("coach", "Coach", &coach_refs, "", e))
                        button.button type="submit" { "Allocate" }
                    }
                }
            }
            @if my_decision {
                h2 { "Your decision" }
                form method="post" action={ "/coaching/referrals/" (r.id) "/accept" } {
                    (layout::csrf(&user.csrf))
                    button.button type="submit" { "Accept and open an episode" }
                }
                form method="post" action={ "/coaching/referrals/" (r.id) "/decline" } novalidate {
                    (layout::csrf(&user.csrf))
                    (layout::textarea("decline_reason", "Or decline: why?", Some("The referral goes back to the waiting list in its place"), "", e))
                    button.button.button--secondary type="submit" { "Decline" }
                }
            }
            @if can_withdraw {
                h2 { "Withdraw" }
                form method="post" action={ "/coaching/referrals/" (r.id) "/withdraw" } novalidate {
                    (layout::csrf(&user.csrf))
                    (layout::textarea("withdraw_reason", "Reason for withdrawing", None, "", e))
                    button.button.button--warning type="submit" { "Withdraw the referral" }
                }
            }
        },
    )
}

async fn referral_error(
    state: &AppState,
    user: &CurrentUser,
    rid: ReferralId,
    source: Source,
    e: ValidationErrors,
) -> AppResult<Response> {
    let r = state.store.referral(&user.actor, rid, source).await?;
    let coaches =
        if allowed(user, Action::ManageCoachingQueue) && r.status == ReferralStatus::Waiting {
            state.store.coaches(user.actor.org_id).await?
        } else {
            Vec::new()
        };
    Ok(invalid(referral_detail(
        user,
        &r,
        &coaches,
        &Banner::default(),
        &e,
    )))
}

fn store_outcome<T>(r: Result<T, StoreError>) -> AppResult<Result<T, ValidationErrors>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(StoreError::Invalid(e)) => Ok(Err(e)),
        Err(other) => Err(other.into()),
    }
}

pub async fn allocate(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(rid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let rid: ReferralId = id(&rid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let audit =
        AuditAs::new(AuditAction::ReferralChanged).on("coaching_referral", Some(rid.to_string()));
    state
        .store
        .authorise_org(&user.actor, Action::ManageCoachingQueue, audit, &source)
        .await?;
    let e = match (
        repeated(&data, &["coach"]),
        data.get("coach").parse::<UserId>(),
    ) {
        (Some(e), _) => e,
        (None, Err(_)) => {
            let mut e = ValidationErrors::default();
            e.add("coach", "Select a coach");
            e
        }
        (None, Ok(coach)) => match store_outcome(
            state
                .store
                .allocate_referral(&user.actor, rid, coach, source.clone())
                .await,
        )? {
            Ok(()) => return Ok(see_other("/coaching/queue?allocated=1")),
            Err(e) => e,
        },
    };
    referral_error(&state, &user, rid, source, e).await
}

pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(rid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let rid: ReferralId = id(&rid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    match store_outcome(
        state
            .store
            .accept_referral(&user.actor, rid, source.clone())
            .await,
    )? {
        Ok(ep) => Ok(see_other(&format!("/coaching/episodes/{ep}?opened=1"))),
        Err(e) => referral_error(&state, &user, rid, source, e).await,
    }
}

fn reason_from(data: &FormData, field: &str, label: &str) -> Result<String, ValidationErrors> {
    if let Some(e) = repeated(data, &[field]) {
        return Err(e);
    }
    let mut e = ValidationErrors::default();
    match clean_text(&mut e, field, label, &data.get(field), 1000, true) {
        Some(r) => Ok(r),
        None => Err(e),
    }
}

pub async fn decline(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(rid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let rid: ReferralId = id(&rid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let e = match reason_from(&data, "decline_reason", "the reason for declining") {
        Ok(reason) => match store_outcome(
            state
                .store
                .decline_referral(&user.actor, rid, reason, source.clone())
                .await,
        )? {
            Ok(()) => return Ok(see_other("/coaching/caseload?declined=1")),
            Err(e) => e,
        },
        Err(e) => e,
    };
    referral_error(&state, &user, rid, source, e).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(rid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let rid: ReferralId = id(&rid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let e = match reason_from(&data, "withdraw_reason", "the reason for withdrawing") {
        Ok(reason) => match store_outcome(
            state
                .store
                .withdraw_referral(&user.actor, rid, reason, source.clone())
                .await,
        )? {
            Ok(()) => return Ok(see_other(&format!("/coaching/referrals/{rid}?done=1"))),
            Err(e) => e,
        },
        Err(e) => e,
    };
    referral_error(&state, &user, rid, source, e).await
}

// ---------------------------------------------------------------------------------------------
// The coordinator's queue and coaches

#[derive(Deserialize, Default)]
pub struct QueueParams {
    page: Option<String>,
    allocated: Option<String>,
}

pub const QUEUE_PAGE_SIZE: u32 = 50;

pub async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<QueueParams>,
) -> AppResult<Response> {
    let page = p
        .page
        .as_deref()
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let q = state
        .store
        .coaching_queue(&user.actor, page, QUEUE_PAGE_SIZE, source)
        .await?;
    let pages = ((q.waiting_total as u32).div_ceil(QUEUE_PAGE_SIZE)).max(1);
    let now = state.config.clock.now();
    let days = |t: i64| (now.0 - t) / 86_400_000_000;
    Ok(ok(layout::page(
        Some(&user),
        "Coaching referrals",
        html! {
            @if p.allocated.is_some() { (layout::success_banner("Referral allocated")) }
            h1 { "Coaching referrals" }
            p { (q.new_this_week) " new in the last 7 days. " (q.waiting_total) " waiting. " (q.allocated.len()) " allocated and waiting for the coach to accept." }
            h2 { "Coaches' capacity" }
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Coaches' capacity" }
                    thead { tr { th scope="col" { "Coach" } th scope="col" { "Places in use" } th scope="col" { "Limit" } th scope="col" { "Room" } } }
                    tbody {
                        @for c in &q.coaches {
                            tr {
                                td data-label="Coach" { a href={ "/coaching/coaches/" (c.user_id) } { (c.name) } }
                                td data-label="Places in use" { (c.in_use) }
                                td data-label="Limit" { (c.caseload_limit) }
                                td data-label="Room" { @if c.has_room() { (c.caseload_limit - c.in_use) } @else { strong.tag.tag--red { "Full" } } }
                            }
                        }
                    }
                }
            }
            h2 { "Waiting list" }
            p.hint { "In order of priority: most urgent first, then lowest activation, then longest waiting." }
            @if q.waiting.is_empty() { p { "Nobody is waiting." } }
            @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "Waiting list, page " (page) " of " (pages) }
                        thead { tr { th scope="col" { "Person" } th scope="col" { "Urgency" } th scope="col" { "Activation" } th scope="col" { "Waiting" } th scope="col" { "Declined before" } } }
                        tbody {
                            @for r in &q.waiting {
                                tr {
                                    td data-label="Person" { a href={ "/coaching/referrals/" (r.id) } { (r.person_name) } }
                                    td data-label="Urgency" { (r.urgency.label()) }
                                    td data-label="Activation" { (level_text(r.activation_level)) }
                                    td data-label="Waiting" { (days(r.received_at)) " days" }
                                    td data-label="Declined before" { @if r.last_decline_reason.is_some() { "Yes" } @else { "No" } }
                                }
                            }
                        }
                    }
                }
                nav.pagination aria-label="Waiting list pages" {
                    p { "Page " (page) " of " (pages) }
                    ul.list {
                        @if page > 1 { li { a href={ "/coaching/queue?page=" (page - 1) } { "Previous page" } } }
                        @if page < pages { li { a href={ "/coaching/queue?page=" (page + 1) } { "Next page" } } }
                    }
                }
            }
            h2 { "Allocated, waiting for the coach" }
            @if q.allocated.is_empty() { p { "None." } }
            @else {
                ul.list { @for r in &q.allocated { li { a href={ "/coaching/referrals/" (r.id) } { (r.person_name) } " – " (r.coach_name.as_deref().unwrap_or("")) } } }
            }
        },
    )))
}

/// Refuses (403, audited) unless the actor may set coaches' limits and hours; then the coach
/// named by the path (a malformed id is not found).
async fn coach_allowed(
    state: &AppState,
    user: &CurrentUser,
    cid: &str,
    source: &Source,
) -> AppResult<UserId> {
    let cid = cid.parse::<UserId>().ok();
    let audit =
        AuditAs::new(AuditAction::CoachProfileChanged).on("user", cid.map(|c| c.to_string()));
    state
        .store
        .authorise_org(&user.actor, Action::ManageCoachingQueue, audit, source)
        .await?;
    cid.ok_or(AppError::NotFound)
}

pub async fn coach_edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(cid): Path<String>,
) -> AppResult<Response> {
    let cid = coach_allowed(&state, &user, &cid, &source).await?;
    let c = match state.store.coach(user.actor.org_id, cid).await {
        Ok(c) => c,
        Err(StoreError::Invalid(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let days: Vec<String> = (0..7).map(|i| c.hours.day_text(i)).collect();
    Ok(ok(coach_page(
        &user,
        cid,
        &c.name,
        &c.caseload_limit.to_string(),
        &days,
        &ValidationErrors::default(),
    )))
}

fn coach_page(
    user: &CurrentUser,
    cid: UserId,
    name: &str,
    limit: &str,
    days: &[String],
    e: &ValidationErrors,
) -> Markup {
    let title = format!("{name}: caseload and hours");
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href="/coaching/queue" { "Back to coaching referrals" } }
            h1 { (title) }
            form method="post" action={ "/coaching/coaches/" (cid) } novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("caseload_limit", "Caseload limit", limit, e, Input { hint: Some("How many people they can coach at once (0 to 200)"), width: Some("input--width-3"), inputmode: Some("numeric"), ..Default::default() }))
                h2 { "Working hours" }
                p.hint { "24-hour times like 09:00-17:00. Leave a day empty if they do not work that day. Sessions can only be booked inside these hours." }
                @for (i, (code, label)) in WEEKDAYS.iter().enumerate() {
                    (layout::text_input(&format!("hours_{code}"), label, &days[i], e, Input { width: Some("input--width-10"), ..Default::default() }))
                }
                button.button type="submit" { "Save" }
            }
        },
    )
}

pub async fn coach_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(cid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let cid = coach_allowed(&state, &user, &cid, &source).await?;
    let c = match state.store.coach(user.actor.org_id, cid).await {
        Ok(c) => c,
        Err(StoreError::Invalid(_)) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let mut keys: Vec<String> = WEEKDAYS.iter().map(|(c, _)| format!("hours_{c}")).collect();
    keys.push("caseload_limit".into());
    let key_refs: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
    let limit = data.get("caseload_limit");
    let days: Vec<String> = WEEKDAYS
        .iter()
        .map(|(c, _)| data.get(&format!("hours_{c}")))
        .collect();
    let mut e = repeated(&data, &key_refs).unwrap_or_default();
    let lim = match limit.trim().parse::<u32>() {
        Ok(v) if v <= 200 => Some(v),
        _ => {
            e.add(
                "caseload_limit",
                "Enter the caseload limit as a whole number from 0 to 200",
            );
            None
        }
    };
    let mut hours = WorkingHours::default();
    for (i, (code, label)) in WEEKDAYS.iter().enumerate() {
        match WorkingHours::parse_day(&days[i]) {
            Ok(h) => hours.days[i] = h,
            Err(m) => e.add(&format!("hours_{code}"), format!("{label}: {m}")),
        }
    }
    if let (Some(lim), true) = (lim, e.is_empty()) {
        match store_outcome(
            state
                .store
                .set_coach_profile(&user.actor, cid, lim, hours, source)
                .await,
        )? {
            Ok(()) => return Ok(see_other("/coaching/queue")),
            Err(x) => e = x,
        }
    }
    Ok(invalid(coach_page(&user, cid, &c.name, &limit, &days, &e)))
}

// ---------------------------------------------------------------------------------------------
// Episodes and sessions

#[derive(Deserialize, Default)]
pub struct EpisodeParams {
    opened: Option<String>,
    booked: Option<String>,
    recorded: Option<String>,
    discharged: Option<String>,
    reopened: Option<String>,
}

pub async fn episode(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(eid): Path<String>,
    Query(p): Query<EpisodeParams>,
) -> AppResult<Response> {
    let eid: EpisodeId = id(&eid)?;
    let ep = state.store.episode(&user.actor, eid, source).await?;
    let banner = [
        (p.opened.is_some(), "Episode opened"),
        (p.booked.is_some(), "Session booked"),
        (p.recorded.is_some(), "Session recorded"),
        (p.discharged.is_some(), "Episode ended"),
        (p.reopened.is_some(), "Episode reopened"),
    ]
    .iter()
    .find(|(b, _)| *b)
    .map(|(_, m)| *m);
    Ok(ok(episode_page(
        &user,
        &ep,
        banner,
        &ValidationErrors::default(),
    )))
}

fn episode_page(
    user: &CurrentUser,
    ep: &EpisodeView,
    banner: Option<&str>,
    e: &ValidationErrors,
) -> Markup {
    let own = user.actor.person_id == Some(ep.person_id);
    let team = ep.may_manage;
    let coordinator = allowed(user, Action::ManageCoachingQueue);
    let title = if own {
        format!("Your coaching with {}", ep.coach_name)
    } else {
        format!("Coaching: {}", ep.person_name)
    };
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            @if let Some(b) = banner { (layout::success_banner(b)) }
            (layout::error_summary(e))
            p { a.back-link href={ "/people/" (ep.person_id) "/coaching" } { "Back to coaching" } }
            h1 { (title) }
            dl.summary-list id="status" {
                (layout::row("Coach", html! { (ep.coach_name) }))
                (layout::row("Status", html! { @if ep.open { strong.tag.tag--green { "Open" } } @else { strong.tag.tag--grey { "Ended" } } }))
                (layout::row("Sessions used", html! { (ep.sessions_used()) " of " (ep.max_sessions) }))
                (layout::row("Started", html! { (display_date(Timestamp(ep.opened_at).date())) }))
                @if let Some(c) = ep.closed_at { (layout::row("Ended", html! { (display_date(Timestamp(c).date())) })) }
                @if let Some(r) = &ep.reopen_reason { (layout::row("Reopened because", html! { (r) })) }
            }
            @if let Some(s) = &ep.summary {
                h2 { "Discharge summary" }
                p.preserve-lines { (s) }
                @if let Some(o) = &ep.onward { h3 { "Onward referrals" } p.preserve-lines { (o) } }
                @if let Some(d) = &ep.remeasure_due { p { "Activation questionnaire due again: " (alongside_core::time::parse_iso_date(d).map(display_date).unwrap_or_else(|| d.clone())) } }
            }
            h2 { "Sessions" }
            @if ep.sessions.is_empty() { p { "No sessions yet." } }
            @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "Sessions" }
                        thead { tr { th scope="col" { "When" } th scope="col" { "How" } th scope="col" { "Length" } th scope="col" { "Status" } } }
                        tbody {
                            @for s in &ep.sessions {
                                tr {
                                    td data-label="When" { a href={ "/coaching/sessions/" (s.id) } { (local_when(s.starts_at)) } }
                                    td data-label="How" { (s.mode.label()) @if let Some(p) = &s.place { ", " (p) } }
                                    td data-label="Length" { (minutes_between(s.starts_at, s.ends_at)) " minutes" }
                                    td data-label="Status" { (status_tag(s.status)) }
                                }
                            }
                        }
                    }
                }
            }
            @if ep.open && team { p { a.button href={ "/coaching/episodes/" (ep.id) "/book" } { "Book a session" } } }
            h2 { @if own { "Your goals" } @else { "Goals" } }
            @if ep.goals.is_empty() { p { "No goals yet." } } @else { (goal_list(&ep.goals)) }
            @if ep.open { p { a.button.button--secondary href={ "/people/" (ep.person_id) "/goals/new?episode=" (ep.id) } { "Add a goal" } } }
            @if team { p { a href={ "/people/" (ep.person_id) "/referrals" } { "Referrals to other services" } " · " a href={ "/people/" (ep.person_id) "/plan" } { "Care and support plan" } } }
            @if ep.open && team { p { a.button.button--secondary href={ "/coaching/episodes/" (ep.id) "/discharge" } { "End the episode" } } }
            @if !ep.open && coordinator {
                h2 { "Reopen" }
                form method="post" action={ "/coaching/episodes/" (ep.id) "/reopen" } novalidate {
                    (layout::csrf(&user.csrf))
                    (layout::textarea("reopen_reason", "Reason for reopening", None, "", e))
                    button.button.button--secondary type="submit" { "Reopen the episode" }
                }
            }
        },
    )
}

const BOOKING_FIELDS: [&str; 7] = [
    "date",
    "time",
    "minutes",
    "mode",
    "place",
    "length_reason",
    "extra_reason",
];

fn booking_form(data: &FormData) -> BookingForm {
    BookingForm {
        date: data.get("date"),
        time: data.get("time"),
        minutes: data.get("minutes"),
        mode: data.get("mode"),
        place: data.get("place"),
        length_reason: data.get("length_reason"),
        extra_reason: data.get("extra_reason"),
    }
}

fn book_page(
    user: &CurrentUser,
    ep: &EpisodeView,
    f: &BookingForm,
    e: &ValidationErrors,
) -> Markup {
    let title = format!("Book a session with {}", ep.person_name);
    let at_max = ep.sessions_used() >= ep.max_sessions;
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href={ "/coaching/episodes/" (ep.id) } { "Back to the episode" } }
            h1 { (title) }
            p { "Sessions used: " (ep.sessions_used()) " of " (ep.max_sessions) ". Times are UK time." }
            form method="post" action={ "/coaching/episodes/" (ep.id) "/book" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("date", "Date", &f.date, e, Input { kind: "date", hint: Some("For example, 2027-03-14"), width: Some("input--width-10"), ..Default::default() }))
                (layout::text_input("time", "Start time", &f.time, e, Input { kind: "time", hint: Some("24-hour clock, for example 14:30"), width: Some("input--width-5"), ..Default::default() }))
                (layout::text_input("minutes", "Length in minutes", &f.minutes, e, Input { hint: Some("Usually 45 to 60"), width: Some("input--width-3"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::text_input("length_reason", "If not 45 to 60 minutes, why?", &f.length_reason, e, Input { width: Some("input--width-30"), ..Default::default() }))
                (layout::radios("mode", "How will you meet?", &ContactMode::options(), &f.mode, e))
                (layout::text_input("place", "Place (for face to face)", &f.place, e, Input { width: Some("input--width-30"), ..Default::default() }))
                @if at_max || e.for_field("extra_reason").is_some() {
                    (layout::textarea("extra_reason", "Reason for an extra session", Some("Only a care coordinator can add sessions beyond the maximum"), &f.extra_reason, e))
                }
                button.button type="submit" { "Book session" }
            }
        },
    )
}

/// Refuses (403, audited as `audit` on the episode) unless the actor may book, record and
/// discharge in the person's coaching.
async fn manage_allowed(
    state: &AppState,
    user: &CurrentUser,
    ep: &EpisodeView,
    audit: AuditAction,
    source: &Source,
) -> AppResult<()> {
    let audit = AuditAs::new(audit).on("coaching_episode", Some(ep.id.to_string()));
    Ok(state
        .store
        .authorise_person(
            &user.actor,
            Action::ManageCoaching,
            ep.person_id,
            audit,
            source,
        )
        .await?)
}

pub async fn book_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(eid): Path<String>,
) -> AppResult<Response> {
    let eid: EpisodeId = id(&eid)?;
    let ep = state
        .store
        .episode(&user.actor, eid, source.clone())
        .await?;
    manage_allowed(&state, &user, &ep, AuditAction::SessionBooked, &source).await?;
    let f = BookingForm {
        minutes: "60".into(),
        ..Default::default()
    };
    Ok(ok(book_page(&user, &ep, &f, &ValidationErrors::default())))
}

pub async fn book(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(eid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let eid: EpisodeId = id(&eid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let f = booking_form(&data);
    let parsed = match repeated(&data, &BOOKING_FIELDS) {
        Some(e) => Err(e),
        None => f.validate(),
    };
    let e = match parsed {
        Ok(b) => match store_outcome(
            state
                .store
                .book_session(
                    &user.actor,
                    eid,
                    b,
                    state.config.clock.now(),
                    source.clone(),
                )
                .await,
        )? {
            Ok(_) => return Ok(see_other(&format!("/coaching/episodes/{eid}?booked=1"))),
            Err(e) => e,
        },
        Err(e) => e,
    };
    let ep = state
        .store
        .episode(&user.actor, eid, source.clone())
        .await?;
    manage_allowed(&state, &user, &ep, AuditAction::SessionBooked, &source).await?;
    Ok(invalid(book_page(&user, &ep, &f, &e)))
}

pub async fn session(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(sid): Path<String>,
) -> AppResult<Response> {
    let sid: SessionId = id(&sid)?;
    let (s, ep) = state
        .store
        .coaching_session(&user.actor, sid, source)
        .await?;
    Ok(ok(session_page(
        &user,
        &s,
        &ep,
        &FormData::default(),
        &ValidationErrors::default(),
        state.config.clock.now(),
    )))
}

fn session_page(
    user: &CurrentUser,
    s: &SessionRow,
    ep: &EpisodeView,
    data: &FormData,
    e: &ValidationErrors,
    now: Timestamp,
) -> Markup {
    let own = user.actor.person_id == Some(s.person_id);
    let team = ep.may_manage;
    let title = format!("Session on {}", local_when(s.starts_at));
    let started = s.starts_at <= now;
    let statuses: Vec<(&str, &str)> = if started {
        vec![
            (
                SessionStatus::Attended.code(),
                SessionStatus::Attended.label(),
            ),
            (
                SessionStatus::DidNotAttend.code(),
                SessionStatus::DidNotAttend.label(),
            ),
            (
                SessionStatus::CancelledByPerson.code(),
                SessionStatus::CancelledByPerson.label(),
            ),
            (
                SessionStatus::CancelledByCoach.code(),
                SessionStatus::CancelledByCoach.label(),
            ),
        ]
    } else {
        vec![
            (
                SessionStatus::CancelledByPerson.code(),
                SessionStatus::CancelledByPerson.label(),
            ),
            (
                SessionStatus::CancelledByCoach.code(),
                SessionStatus::CancelledByCoach.label(),
            ),
        ]
    };
    let att: Vec<(String, &str)> = ATTAINMENT
        .iter()
        .map(|(v, l)| (v.to_string(), *l))
        .collect();
    let att_refs: Vec<(&str, &str)> = std::iter::once(("", "Not reviewed this time"))
        .chain(att.iter().map(|(v, l)| (v.as_str(), *l)))
        .collect();
    let open_goals: Vec<&GoalView> = ep.goals.iter().filter(|g| g.outcome.is_none()).collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href={ "/coaching/episodes/" (ep.id) } { "Back to the episode" } }
            span.caption { (s.person_name) " with " (ep.coach_name) }
            h1 { (title) }
            dl.summary-list {
                (layout::row("Status", status_tag(s.status)))
                (layout::row("How", html! { (s.mode.label()) @if let Some(p) = &s.place { ", " (p) } }))
                (layout::row("Length", html! { (minutes_between(s.starts_at, s.ends_at)) " minutes" @if let Some(r) = &s.length_reason { " (" (r) ")" } }))
                @if let Some(r) = &s.extra_reason { (layout::row("Extra session because", html! { (r) })) }
                @if let Some(r) = &s.cancel_reason { (layout::row("Cancelled because", html! { (r) })) }
                @if let Some(n) = &s.notes { (layout::row(if own { "Notes your coach shared" } else { "Notes" }, html! { span.preserve-lines { (n) } })) }
            }
            @if own && s.status == SessionStatus::Booked && !started {
                h2 { "Cancel this session" }
                form method="post" action={ "/coaching/sessions/" (s.id) } novalidate {
                    (layout::csrf(&user.csrf))
                    input type="hidden" name="status" value="cancelled_by_person";
                    (layout::textarea("cancel_reason", "Why can you not come? (optional)", None, &data.get("cancel_reason"), e))
                    button.button.button--warning type="submit" { "Cancel the session" }
                }
            }
            @if team && ep.open && (s.status == SessionStatus::Booked || s.status == SessionStatus::Attended) {
                h2 { "Record the session" }
                form method="post" action={ "/coaching/sessions/" (s.id) } novalidate {
                    (layout::csrf(&user.csrf))
                    (layout::radios("status", "What happened?", &statuses, &data.opt("status").unwrap_or_else(|| if s.status == SessionStatus::Attended { "attended".into() } else { String::new() }), e))
                    (layout::textarea("cancel_reason", "If cancelled, why? (optional)", None, &data.get("cancel_reason"), e))
                    (layout::textarea("notes", "Session notes", Some("Visible to the coaching team; share them with the person below if you want them to see them"), &data.opt("notes").unwrap_or_else(|| s.notes.clone().unwrap_or_default()), e))
                    div.form-group { div.checkboxes { (layout::checkbox("notes_shared", "Share these notes with the person", data.has("notes_shared") || s.notes_shared)) } }
                    @if !open_goals.is_empty() {
                        h3 { "Progress on goals" }
                        @for g in &open_goals {
                            @let field = format!("review-{}", g.id);
                            @let note = format!("review-note-{}", g.id);
                            (layout::select(&field, &format!("\u{201c}{}\u{201d}: progress since the last review", g.details.own_words), &att_refs, &data.get(&field), e))
                            (layout::text_input(&note, "Note on this goal (optional)", &data.get(&note), e, Input { width: Some("input--width-30"), ..Default::default() }))
                        }
                    }
                    button.button type="submit" { "Save" }
                }
            }
        },
    )
}

pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(sid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let sid: SessionId = id(&sid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let (s, ep) = state
        .store
        .coaching_session(&user.actor, sid, source.clone())
        .await?;
    let mut keys = vec![
        "status".to_string(),
        "notes".into(),
        "cancel_reason".into(),
        "notes_shared".into(),
    ];
    for g in &ep.goals {
        keys.push(format!("review-{}", g.id));
        keys.push(format!("review-note-{}", g.id));
    }
    let key_refs: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
    let mut e = repeated(&data, &key_refs).unwrap_or_default();
    let status =
        SessionStatus::from_code(data.get("status").trim()).filter(|s| *s != SessionStatus::Booked);
    if status.is_none() {
        e.add("status", "Select what happened at the session");
    }
    let notes = clean_text(
        &mut e,
        "notes",
        "the notes",
        &data.get("notes"),
        8000,
        false,
    );
    let cancel_reason = clean_text(
        &mut e,
        "cancel_reason",
        "the reason",
        &data.get("cancel_reason"),
        1000,
        false,
    );
    let mut reviews = Vec::new();
    for g in ep.goals.iter().filter(|g| g.outcome.is_none()) {
        let field = format!("review-{}", g.id);
        let v = data.get(&field);
        if v.trim().is_empty() {
            continue;
        }
        match parse_attainment(&v) {
            Some(a) => {
                let note_field = format!("review-note-{}", g.id);
                let note = clean_text(
                    &mut e,
                    &note_field,
                    "the note",
                    &data.get(&note_field),
                    1000,
                    false,
                );
                reviews.push(ReviewInput {
                    goal_id: g.id,
                    attainment: a,
                    note,
                });
            }
            None => e.add(&field, "Select progress from the list"),
        }
    }
    if let (Some(status), true) = (status, e.is_empty()) {
        let rec = SessionRecord {
            status,
            notes,
            notes_shared: data.has("notes_shared"),
            cancel_reason,
            reviews: if status == SessionStatus::Attended {
                reviews
            } else {
                Vec::new()
            },
        };
        match store_outcome(
            state
                .store
                .record_session(&user.actor, sid, rec, state.config.clock.now(), source)
                .await,
        )? {
            Ok(()) => {
                return Ok(if ep.may_manage {
                    see_other(&format!("/coaching/episodes/{}?recorded=1", ep.id))
                } else {
                    see_other(&format!("/people/{}/coaching", s.person_id))
                })
            }
            Err(x) => e = x,
        }
    }
    Ok(invalid(session_page(
        &user,
        &s,
        &ep,
        &data,
        &e,
        state.config.clock.now(),
    )))
}

// ---------------------------------------------------------------------------------------------
// Goals

const GOAL_FIELDS: [&str; 8] = [
    "own_words",
    "category",
    "what",
    "how_much",
    "when",
    "how_often",
    "importance",
    "confidence",
];

fn goal_form(data: &FormData) -> GoalForm {
    GoalForm {
        own_words: data.get("own_words"),
        category: data.get("category"),
        what: data.get("what"),
        how_much: data.get("how_much"),
        when: data.get("when"),
        how_often: data.get("how_often"),
        importance: data.get("importance"),
        confidence: data.get("confidence"),
    }
}

fn form_of(d: &GoalDetails) -> GoalForm {
    GoalForm {
        own_words: d.own_words.clone(),
        category: d.category.code().into(),
        what: d.what.clone().unwrap_or_default(),
        how_much: d.how_much.clone().unwrap_or_default(),
        when: d.when.clone().unwrap_or_default(),
        how_often: d.how_often.clone().unwrap_or_default(),
        importance: d.importance.to_string(),
        confidence: d.confidence.to_string(),
    }
}

fn goal_fields(f: &GoalForm, e: &ValidationErrors, own: bool) -> Markup {
    html! {
        (layout::textarea("own_words", if own { "Your goal, in your own words" } else { "The goal, in the person's own words" }, Some("For example: walk to the allotment without stopping"), &f.own_words, e))
        (layout::radios("category", "What is it about?", &GoalCategory::options(), &f.category, e))
        (layout::text_input("what", "What exactly? (optional)", &f.what, e, Input { width: Some("input--width-30"), ..Default::default() }))
        (layout::text_input("how_much", "How much? (optional)", &f.how_much, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("when", "When? (optional)", &f.when, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("how_often", "How often? (optional)", &f.how_often, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("importance", if own { "How important is it to you, from 0 to 10?" } else { "How important is it to them, from 0 to 10?" }, &f.importance, e, Input { width: Some("input--width-2"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::text_input("confidence", if own { "How confident are you that you can do it, from 0 to 10?" } else { "How confident are they, from 0 to 10?" }, &f.confidence, e, Input { width: Some("input--width-2"), inputmode: Some("numeric"), ..Default::default() }))
    }
}

#[derive(Deserialize, Default)]
pub struct NewGoalParams {
    episode: Option<String>,
}

fn new_goal_page(
    user: &CurrentUser,
    pid: PersonId,
    episode: Option<EpisodeId>,
    f: &GoalForm,
    steps: &str,
    e: &ValidationErrors,
) -> Markup {
    let own = user.actor.person_id == Some(pid);
    let title = if own {
        "Add a goal"
    } else {
        "Add a goal with the person"
    };
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href={ "/people/" (pid) "/coaching" } { "Back to coaching" } }
            h1 { (title) }
            form method="post" action={ "/people/" (pid) "/goals" } novalidate {
                (layout::csrf(&user.csrf))
                @if let Some(ep) = episode { input type="hidden" name="episode" value=(ep); }
                (goal_fields(f, e, own))
                (layout::textarea("steps", "First small steps (optional)", Some("One step per line"), steps, e))
                button.button type="submit" { "Save goal" }
            }
        },
    )
}

/// Refuses (403, audited) unless the actor may change the person's goals; another
/// organisation's record (or none) is not found.
async fn goals_allowed(
    state: &AppState,
    user: &CurrentUser,
    pid: PersonId,
    source: &Source,
) -> AppResult<()> {
    let audit = AuditAs::new(AuditAction::GoalChanged).on("goal", None);
    Ok(state
        .store
        .authorise_person(&user.actor, Action::UpdateGoals, pid, audit, source)
        .await?)
}

pub async fn new_goal_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(pid): Path<String>,
    Query(p): Query<NewGoalParams>,
) -> AppResult<Response> {
    let pid: PersonId = id(&pid)?;
    goals_allowed(&state, &user, pid, &source).await?;
    let episode = p.episode.as_deref().and_then(|e| e.parse().ok());
    Ok(ok(new_goal_page(
        &user,
        pid,
        episode,
        &GoalForm::default(),
        "",
        &ValidationErrors::default(),
    )))
}

fn steps_from(e: &mut ValidationErrors, text: &str) -> Vec<String> {
    let mut steps = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(s) = clean_text(e, "steps", "each step", line, 300, true) {
            steps.push(s);
        }
    }
    if steps.len() > 20 {
        e.add("steps", "Enter 20 steps or fewer");
    }
    steps
}

pub async fn new_goal(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(pid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let pid: PersonId = id(&pid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let f = goal_form(&data);
    let episode: Option<EpisodeId> = match data.get("episode").trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| AppError::BadRequest("The episode reference is not valid".into()))?,
        ),
    };
    let mut keys = GOAL_FIELDS.to_vec();
    keys.extend(["steps", "episode"]);
    let mut e = repeated(&data, &keys).unwrap_or_default();
    let steps = steps_from(&mut e, &data.get("steps"));
    let details = f.validate();
    let e = match (details, e.is_empty()) {
        (Ok(d), true) => match store_outcome(
            state
                .store
                .add_goal(&user.actor, pid, episode, d, steps, source.clone())
                .await,
        )? {
            Ok(g) => return Ok(see_other(&format!("/goals/{g}?saved=1"))),
            Err(x) => x,
        },
        (Err(mut x), _) => {
            x.0.extend(e.0);
            x
        }
        (Ok(_), false) => e,
    };
    goals_allowed(&state, &user, pid, &source).await?;
    Ok(invalid(new_goal_page(
        &user,
        pid,
        episode,
        &f,
        &data.get("steps"),
        &e,
    )))
}

#[derive(Deserialize, Default)]
pub struct SavedParams {
    saved: Option<String>,
}

fn goal_page(
    user: &CurrentUser,
    g: &GoalView,
    f: &GoalForm,
    new_step: &str,
    e: &ValidationErrors,
    saved: bool,
) -> Markup {
    let own = user.actor.person_id == Some(g.person_id);
    let title = format!("\u{201c}{}\u{201d}", g.details.own_words);
    let editable = g.outcome.is_none();
    layout::page(
        Some(user),
        &layout::title_with_errors("Goal", e),
        html! {
            @if saved { (layout::success_banner("Goal saved")) }
            (layout::error_summary(e))
            p { a.back-link href={ "/people/" (g.person_id) "/coaching" } { "Back to coaching" } }
            span.caption { @if own { "Your goal" } @else { "Goal" } }
            h1 { (title) }
            dl.summary-list {
                (layout::row("About", html! { (g.details.category.label()) }))
                (layout::row("Importance", html! { (g.details.importance) " out of 10" }))
                (layout::row("Confidence", html! { (g.details.confidence) " out of 10" }))
                @if let Some(o) = g.outcome { (layout::row("Outcome", html! { (o.label()) })) }
            }
            h2 { "Reviews" }
            @if g.reviews.is_empty() { p { "Not reviewed yet." } }
            @else {
                ul.list { @for r in &g.reviews { li { (display_date(Timestamp(r.reviewed_at).date())) ": " (attainment_label(r.attainment)) @if let Some(n) = &r.note { " – " (n) } } } }
            }
            @if editable {
                h2 { "Steps and changes" }
                form method="post" action={ "/goals/" (g.id) } novalidate {
                    (layout::csrf(&user.csrf))
                    div.form-group id="done" {
                        fieldset.fieldset {
                            legend.fieldset-legend { "Small steps: tick the ones done" }
                            @if g.steps.is_empty() { p { "No steps yet." } }
                            div.checkboxes {
                                @for s in &g.steps {
                                    @let sid = format!("done-{}", s.id);
                                    div.checkboxes-item {
                                        input.checkboxes-input id=(sid) name="done" type="checkbox" value=(s.id) checked[s.done];
                                        label.label.checkboxes-label for=(sid) { (s.step) }
                                    }
                                }
                            }
                        }
                    }
                    (layout::text_input("new_step", "Add a small step (optional)", new_step, e, Input { width: Some("input--width-30"), ..Default::default() }))
                    (goal_fields(f, e, own))
                    button.button type="submit" { "Save changes" }
                }
            } @else {
                h2 { "Steps" }
                ul.list { @for s in &g.steps { li { (s.step) @if s.done { " (done)" } } } }
            }
        },
    )
}

pub async fn goal(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(gid): Path<String>,
    Query(p): Query<SavedParams>,
) -> AppResult<Response> {
    let gid: GoalId = id(&gid)?;
    let g = state.store.goal(&user.actor, gid, source).await?;
    let f = form_of(&g.details);
    Ok(ok(goal_page(
        &user,
        &g,
        &f,
        "",
        &ValidationErrors::default(),
        p.saved.is_some(),
    )))
}

pub async fn update_goal(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(gid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let gid: GoalId = id(&gid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let f = goal_form(&data);
    let mut keys = GOAL_FIELDS.to_vec();
    keys.push("new_step");
    let mut e = repeated(&data, &keys).unwrap_or_default();
    let new_step = clean_text(
        &mut e,
        "new_step",
        "the step",
        &data.get("new_step"),
        300,
        false,
    );
    let mut done = Vec::new();
    for d in data.all("done") {
        match d.parse() {
            Ok(s) => done.push(s),
            Err(_) => e.add("done", "Tick steps from the list"),
        }
    }
    let e = match (f.validate(), e.is_empty()) {
        (Ok(d), true) => match store_outcome(
            state
                .store
                .update_goal(&user.actor, gid, d, new_step, done, source.clone())
                .await,
        )? {
            Ok(()) => return Ok(see_other(&format!("/goals/{gid}?saved=1"))),
            Err(x) => x,
        },
        (Err(mut x), _) => {
            x.0.extend(e.0);
            x
        }
        (Ok(_), false) => e,
    };
    let g = state.store.goal(&user.actor, gid, source).await?;
    Ok(invalid(goal_page(
        &user,
        &g,
        &f,
        &data.get("new_step"),
        &e,
        false,
    )))
}

// ---------------------------------------------------------------------------------------------
// Discharge and reopening

fn discharge_page(
    user: &CurrentUser,
    ep: &EpisodeView,
    data: &FormData,
    due: time::Date,
    e: &ValidationErrors,
) -> Markup {
    let title = format!("End coaching with {}", ep.person_name);
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href={ "/coaching/episodes/" (ep.id) } { "Back to the episode" } }
            h1 { (title) }
            p { "Ending the episode cancels any sessions still booked, and sets the person's activation questionnaire due on " strong { (display_date(due)) } ", so that you can see what changed." }
            form method="post" action={ "/coaching/episodes/" (ep.id) "/discharge" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::textarea("summary", "Discharge summary", Some("What was worked on, what changed and what happens next"), &data.get("summary"), e))
                @for g in &ep.goals {
                    @let field = format!("outcome-{}", g.id);
                    (layout::radios(&field, &format!("\u{201c}{}\u{201d}", g.details.own_words), &GoalOutcome::options(), &data.get(&field), e))
                }
                (layout::textarea("onward", "Onward referrals (optional)", Some("Services the person has been referred or signposted to"), &data.get("onward"), e))
                p { "To refer them to a service in the directory, use " a href={ "/people/" (ep.person_id) "/referrals/new" } { "refer to a service" } " (it opens the directory's referral form)." }
                button.button type="submit" { "End the episode" }
            }
        },
    )
}

/// At the end of coaching activation is measured again: due today (UK date), so the change
/// is seen; the regular interval runs on from that measurement.
fn remeasure_date(state: &AppState) -> time::Date {
    london_local(state.config.clock.now()).0
}

pub async fn discharge_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(eid): Path<String>,
) -> AppResult<Response> {
    let eid: EpisodeId = id(&eid)?;
    let ep = state
        .store
        .episode(&user.actor, eid, source.clone())
        .await?;
    manage_allowed(&state, &user, &ep, AuditAction::EpisodeDischarged, &source).await?;
    if !ep.open {
        return Ok(see_other(&format!("/coaching/episodes/{eid}")));
    }
    let due = remeasure_date(&state);
    Ok(ok(discharge_page(
        &user,
        &ep,
        &FormData::default(),
        due,
        &ValidationErrors::default(),
    )))
}

pub async fn discharge(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(eid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let eid: EpisodeId = id(&eid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let ep = state
        .store
        .episode(&user.actor, eid, source.clone())
        .await?;
    let mut keys = vec!["summary".to_string(), "onward".into()];
    keys.extend(ep.goals.iter().map(|g| format!("outcome-{}", g.id)));
    let key_refs: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
    let due = remeasure_date(&state);
    let form = DischargeForm {
        summary: data.get("summary"),
        outcomes: ep
            .goals
            .iter()
            .map(|g| (g.id.to_string(), data.get(&format!("outcome-{}", g.id))))
            .collect(),
        onward: data.get("onward"),
    };
    let e = match repeated(&data, &key_refs) {
        Some(e) => e,
        None => match form.validate() {
            Ok(d) => match store_outcome(
                state
                    .store
                    .discharge(
                        &user.actor,
                        eid,
                        d,
                        due,
                        state.config.clock.now(),
                        source.clone(),
                    )
                    .await,
            )? {
                Ok(()) => return Ok(see_other(&format!("/coaching/episodes/{eid}?discharged=1"))),
                Err(e) => e,
            },
            Err(e) => e,
        },
    };
    manage_allowed(&state, &user, &ep, AuditAction::EpisodeDischarged, &source).await?;
    Ok(invalid(discharge_page(&user, &ep, &data, due, &e)))
}

pub async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(eid): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let eid: EpisodeId = id(&eid)?;
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let audit =
        AuditAs::new(AuditAction::EpisodeReopened).on("coaching_episode", Some(eid.to_string()));
    state
        .store
        .authorise_org(&user.actor, Action::ManageCoachingQueue, audit, &source)
        .await?;
    let e = match reason_from(&data, "reopen_reason", "the reason for reopening") {
        Ok(r) => match store_outcome(
            state
                .store
                .reopen_episode(&user.actor, eid, r, source.clone())
                .await,
        )? {
            Ok(()) => return Ok(see_other(&format!("/coaching/episodes/{eid}?reopened=1"))),
            Err(e) => e,
        },
        Err(e) => e,
    };
    let ep = state.store.episode(&user.actor, eid, source).await?;
    Ok(invalid(episode_page(&user, &ep, None, &e)))
}

// ---------------------------------------------------------------------------------------------
// A coach's caseload

#[derive(Deserialize, Default)]
pub struct CaseloadParams {
    declined: Option<String>,
}

/// The end of the current week (Sunday midnight, Europe/London).
fn week_end(now: Timestamp) -> Timestamp {
    let (d, _) = london_local(now);
    let days_left = 7 - d.weekday().number_days_from_monday() as i64;
    london_instant(d + time::Duration::days(days_left), 0)
}

pub async fn caseload(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<CaseloadParams>,
) -> AppResult<Response> {
    let now = state.config.clock.now();
    let cl = state
        .store
        .caseload(&user.actor, now, week_end(now), source)
        .await?;
    let (today, _) = london_local(now);
    let todays: Vec<&SessionRow> = cl
        .week
        .iter()
        .filter(|s| london_local(s.starts_at).0 == today)
        .collect();
    let later: Vec<&SessionRow> = cl
        .week
        .iter()
        .filter(|s| london_local(s.starts_at).0 != today)
        .collect();
    Ok(ok(layout::page(
        Some(&user),
        "Your coaching caseload",
        html! {
            @if p.declined.is_some() { (layout::success_banner("Referral declined: it is back on the waiting list")) }
            h1 { "Your coaching caseload" }
            p { (cl.coach.in_use) " of " (cl.coach.caseload_limit) " places in use." }
            @if !cl.offered.is_empty() {
                h2 { "Referrals offered to you" }
                ul.list { @for r in &cl.offered { li { a href={ "/coaching/referrals/" (r.id) } { (r.person_name) } " – " (r.urgency.label()) ", " (level_text(r.activation_level)) } } }
            }
            h2 { "Today" }
            (session_list(&todays))
            h2 { "Later this week" }
            (session_list(&later))
            h2 { "People" }
            @if cl.people.is_empty() { p { "Nobody on your caseload yet." } }
            @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "People on your caseload" }
                        thead { tr { th scope="col" { "Person" } th scope="col" { "Next session" } th scope="col" { "Sessions" } th scope="col" { "Activation" } th scope="col" { "Goals" } th scope="col" { "To do" } } }
                        tbody {
                            @for r in &cl.people {
                                tr {
                                    td data-label="Person" { a href={ "/coaching/episodes/" (r.episode_id) } { (r.person_name) } }
                                    td data-label="Next session" { @if let Some(n) = r.next_session { (local_when(n)) } @else { "None booked" } }
                                    td data-label="Sessions" { (r.sessions_used) " of " (r.max_sessions) }
                                    td data-label="Activation" {
                                        (level_text(r.level))
                                        @if let Some(c) = r.score_change { " (" @if c >= 0.0 { "+" } (format!("{c:.1}")) ")" }
                                    }
                                    td data-label="Goals" {
                                        (r.goals)
                                        @if let Some(a) = r.mean_attainment { " – progress " (format!("{a:+.1}")) }
                                    }
                                    td data-label="To do" {
                                        @if r.unrecorded_sessions > 0 { strong.tag.tag--red { (r.unrecorded_sessions) " to record" } " " }
                                        @if r.overdue_reviews > 0 { strong.tag.tag--orange { (r.overdue_reviews) " review overdue" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href="/coaching/calendar" { "Add your sessions to your calendar" } }
        },
    )))
}

fn session_list(list: &[&SessionRow]) -> Markup {
    html! {
        @if list.is_empty() { p { "No sessions." } }
        @else {
            ul.list {
                @for s in list {
                    li { a href={ "/coaching/sessions/" (s.id) } { (local_when(s.starts_at)) } " – " (s.person_name) ", " (s.mode.label()) @if let Some(p) = &s.place { ", " (p) } }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calendar feed

/// Refuses (403, audited) unless the actor keeps a caseload (and so a calendar feed).
async fn feed_allowed(state: &AppState, user: &CurrentUser, source: &Source) -> AppResult<()> {
    let audit = AuditAs::new(AuditAction::CalendarFeedChanged).on("calendar_feed", None);
    Ok(state
        .store
        .authorise_org(&user.actor, Action::OwnCaseload, audit, source)
        .await?)
}

pub async fn calendar_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    feed_allowed(&state, &user, &source).await?;
    let since = state
        .store
        .calendar_feed(user.actor.org_id, user.actor.user_id)
        .await?;
    Ok(ok(calendar_markup(&user, since, None)))
}

fn calendar_markup(user: &CurrentUser, since: Option<i64>, new_url: Option<&str>) -> Markup {
    layout::page(
        Some(user),
        "Your calendar feed",
        html! {
            h1 { "Your calendar feed" }
            p { "Subscribe to this private address in your calendar application to see your coaching sessions. It shows first names only. Anyone with the address can see your sessions: keep it private, and make a new one if it may have been shared." }
            @if let Some(u) = new_url {
                (layout::success_banner("New address made. Copy it now: it is not shown again."))
                div.form-group {
                    label.label for="feed-url" { "Your private calendar address" }
                    input.input id="feed-url" name="feed_url" type="text" readonly value=(u);
                }
            } @else if let Some(s) = since {
                p { "You have a live address, made on " (display_date(Timestamp(s).date())) "." }
            } @else {
                p { "You do not have an address yet." }
            }
            form method="post" action="/coaching/calendar" {
                (layout::csrf(&user.csrf))
                input type="hidden" name="action" value="new";
                button.button type="submit" { @if since.is_some() || new_url.is_some() { "Make a new address (the old one stops working)" } @else { "Make an address" } }
            }
            @if since.is_some() || new_url.is_some() {
                form method="post" action="/coaching/calendar" {
                    (layout::csrf(&user.csrf))
                    input type="hidden" name="action" value="revoke";
                    button.button.button--warning type="submit" { "Turn off the feed" }
                }
            }
        },
    )
}

pub async fn calendar_change(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    feed_allowed(&state, &user, &source).await?;
    match data.get("action").as_str() {
        "new" => {
            let token = auth::random_token();
            state
                .store
                .set_calendar_feed(&user.actor, Some(auth::token_hash(&token)), source)
                .await?;
            let base = match &state.config.public_url {
                Some(u) => u.trim_end_matches('/').to_string(),
                None => {
                    let host = headers
                        .get(header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .filter(|h| {
                            h.chars()
                                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
                        })
                        .unwrap_or("localhost");
                    let scheme = if state.config.secure_cookies {
                        "https"
                    } else {
                        "http"
                    };
                    format!("{scheme}://{host}")
                }
            };
            let url = format!("{base}/calendar/{}/{}.ics", user.actor.org_id, token);
            Ok(ok(calendar_markup(&user, None, Some(&url))))
        }
        "revoke" => {
            state
                .store
                .set_calendar_feed(&user.actor, None, source)
                .await?;
            Ok(see_other("/coaching/calendar"))
        }
        _ => Err(AppError::BadRequest(
            "Choose to make a new address or turn the feed off".into(),
        )),
    }
}

/// The feed itself: RFC 5545, events in UTC, first names only.
pub async fn calendar_feed(
    State(state): State<AppState>,
    ClientSource(source): ClientSource,
    Path((org, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let org: OrgId = id(&org)?;
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::NotFound);
    }
    let Some(data) = state
        .store
        .calendar_by_token(
            org,
            &auth::token_hash(token),
            state.config.clock.now(),
            source,
        )
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let body = calendar_text(&data, state.config.clock.now());
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}

fn calendar_text(data: &alongside_store::coaching::CalendarData, stamp: Timestamp) -> String {
    use alongside_core::ical::{Calendar, Event, EventStatus};
    let events: Vec<Event> = data
        .sessions
        .iter()
        .map(|s| {
            let first = s
                .person_name
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            Event {
                uid: format!("{}@alongside", s.id),
                dtstamp: stamp.to_datetime(),
                start: s.starts_at.to_datetime(),
                end: s.ends_at.to_datetime(),
                summary: format!("Coaching: {first} ({})", s.mode.label().to_lowercase()),
                location: s.place.clone(),
                description: None,
                url: None,
                status: if s.status.occupies() {
                    EventStatus::Confirmed
                } else {
                    EventStatus::Cancelled
                },
                sequence: 0,
            }
        })
        .collect();
    let mut cal = Calendar::new(format!("Coaching sessions – {}", data.coach_name));
    cal.events = events;
    cal.to_ics()
}
