//! Referrals to health coaching: made by staff or by the person themselves, then allocated
//! by a coordinator, accepted or declined by the coach, or withdrawn.

use super::{allowed, level_text, reason_from, repeated, store_outcome};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{ContactMode, ReferralForm, ReferralStatus, Urgency};
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::ValidationErrors;
use alongside_core::{PersonId, ReferralId, UserId};
use alongside_store::door::{AuditAs, Source};
use alongside_store::StoreError;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

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
    Id(pid): Id<PersonId>,
) -> AppResult<Response> {
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
    Id(pid): Id<PersonId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let pid = own_person(&user)?;
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
    Id(rid): Id<ReferralId>,
    Query(b): Query<Banner>,
) -> AppResult<Response> {
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

pub async fn allocate(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(rid): Id<ReferralId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
    Id(rid): Id<ReferralId>,
    _: CsrfForm,
) -> AppResult<Response> {
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

pub async fn decline(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(rid): Id<ReferralId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
    Id(rid): Id<ReferralId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
