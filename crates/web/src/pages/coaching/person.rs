//! A person's coaching at a glance (sessions coming up, goals, episodes, referrals), for
//! the coaching team and for the person themselves (`/my/coaching` leads there).

use super::goals::goal_list;
use super::local_when;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::Id;
use crate::layout;
use crate::pages::{ok, see_other};
use crate::AppState;
use alongside_core::coaching::ReferralStatus;
use alongside_core::time::{display_date, Timestamp};
use alongside_core::PersonId;
use axum::extract::State;
use axum::response::Response;
use maud::html;

pub async fn person_coaching(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
) -> AppResult<Response> {
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

/// The signed-in person's own coaching (an account linked to a person's record).
pub async fn my_coaching(user: CurrentUser) -> AppResult<Response> {
    match user.actor.person_id {
        Some(p) => Ok(see_other(&format!("/people/{p}/coaching"))),
        None => Err(AppError::Forbidden("only for a person's own account")),
    }
}
