//! A coaching episode: its sessions and goals, ending it with a discharge summary and goal
//! outcomes, and reopening it.

use super::goals::goal_list;
use super::{
    allowed, local_when, minutes_between, reason_from, repeated, status_tag, store_outcome,
};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::extract::{CsrfForm, Id};
use crate::form::FormData;
use crate::layout;
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{london_local, DischargeForm, GoalOutcome};
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::ValidationErrors;
use alongside_core::EpisodeId;
use alongside_store::coaching::EpisodeView;
use alongside_store::door::{AuditAs, Source};
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

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
    Id(eid): Id<EpisodeId>,
    Query(p): Query<EpisodeParams>,
) -> AppResult<Response> {
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

/// Refuses (403, audited as `audit` on the episode) unless the actor may book, record and
/// discharge in the person's coaching.
pub(super) async fn manage_allowed(
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
    Id(eid): Id<EpisodeId>,
) -> AppResult<Response> {
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
    Id(eid): Id<EpisodeId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
    Id(eid): Id<EpisodeId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
