//! Finding groups (by condition, how they meet, day, time of day and place), a group's page
//! with its next sessions, and joining a group.

use super::{focus_label, own_place};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::extract::{may, CsrfForm, Id, Require};
use crate::layout::{self, Input};
use crate::pages::peer_common::{load_group, may as allowed, session_path, when};
use crate::pages::{ok, see_other};
use crate::AppState;
use alongside_core::conditions::CONDITIONS;
use alongside_core::groups::{ClockTime, Mode, ANY_CONDITION, WEEKDAYS};
use alongside_core::time::display_date;
use alongside_core::validation::ValidationErrors;
use alongside_core::{Action, GroupId};
use alongside_store::groups::GroupRow;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use time::Date;

#[derive(Deserialize, Default)]
pub struct FindParams {
    condition: Option<String>,
    mode: Option<String>,
    day: Option<String>,
    time: Option<String>,
    place: Option<String>,
}

fn time_band(t: ClockTime) -> &'static str {
    match t.0 / 60 {
        0..=11 => "morning",
        12..=16 => "afternoon",
        _ => "evening",
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: Require<may::FindGroups>,
    Query(p): Query<FindParams>,
) -> AppResult<Response> {
    let today = state.store.clock().today();
    let condition = p.condition.unwrap_or_default();
    let mode = p.mode.unwrap_or_default();
    let day = p.day.unwrap_or_default();
    let band = p.time.unwrap_or_default();
    let place: String = p.place.unwrap_or_default().chars().take(100).collect();
    let all = state.store.groups(user.actor.org_id).await?;
    let groups: Vec<&GroupRow> = all
        .iter()
        .filter(|g| g.active)
        .filter(|g| {
            condition.is_empty() || g.details.focus == condition || g.details.focus == ANY_CONDITION
        })
        .filter(|g| mode.is_empty() || g.details.mode.code() == mode)
        .filter(|g| band.is_empty() || time_band(g.details.start_time) == band)
        .filter(|g| {
            let needle = place.trim().to_lowercase();
            needle.is_empty()
                || [&g.details.place, &g.details.venue].iter().any(|v| {
                    v.as_deref()
                        .is_some_and(|v| v.to_lowercase().contains(&needle))
                })
        })
        .filter(|g| {
            day.is_empty()
                || g.details
                    .occurrences(today, today.saturating_add(time::Duration::weeks(8)))
                    .iter()
                    .any(|d| {
                        WEEKDAYS
                            .iter()
                            .any(|(c, _, w)| *c == day && d.weekday() == *w)
                    })
        })
        .collect();
    let mut conds: Vec<(&str, &str)> = vec![("", "Any condition")];
    conds.extend(CONDITIONS.iter().map(|c| (c.key, c.label)));
    let mut days: Vec<(&str, &str)> = vec![("", "Any day")];
    days.extend(WEEKDAYS.iter().map(|(c, n, _)| (*c, *n)));
    let none = ValidationErrors::default();
    let manager = allowed(&user, Action::ManageGroups);
    let title = "Peer support groups";
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            h1 { (title) }
            p.lede { "People with shared experience supporting each other, face to face or online." }
            @if manager { p { a.button href="/groups/new" { "Create a group" } } }
            form.search-form method="get" action="/groups" role="search" {
                (layout::select("condition", "Condition", &conds, &condition, &none))
                (layout::select("mode", "How it meets", &[("", "Face to face or online"), ("in_person", "Face to face"), ("online", "Online")], &mode, &none))
                (layout::select("day", "Day", &days, &day, &none))
                (layout::select("time", "Time of day", &[("", "Any time"), ("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening")], &band, &none))
                (layout::text_input("place", "Town or area", &place, &none, Input { width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Find groups" }
            }
            @if groups.is_empty() {
                p { "No groups match. Try fewer choices." }
            } @else {
                p { (groups.len()) @if groups.len() == 1 { " group" } @else { " groups" } }
                ul.group-list {
                    @for g in &groups {
                        li.card {
                            h2 { a href={ "/groups/" (g.id) } { (g.details.name) } }
                            p { (g.details.describe_schedule()) ", " (g.details.start_time.text()) " to " (g.details.end_time.text()) }
                            p { (focus_label(&g.details.focus)) " · " (g.details.mode.label())
                                @if let Some(pl) = &g.details.place { " · " (pl) } }
                        }
                    }
                }
            }
        },
    )))
}

// ---- the group page --------------------------------------------------------------------------

pub async fn show(
    State(state): State<AppState>,
    user: Require<may::FindGroups>,
    ClientSource(source): ClientSource,
    Id(id): Id<GroupId>,
) -> AppResult<Response> {
    let g = load_group(&state, &user, id).await?;
    let today = state.store.clock().today();
    let sessions = state
        .store
        .sessions(&g, today, today.saturating_add(time::Duration::days(13)))
        .await?;
    let own = own_place(&state, &user, g.id, None, source).await?;
    let member = own.is_some_and(|o| o.member);
    let d = &g.details;
    let manager = allowed(&user, Action::ManageGroups);
    let door = allowed(&user, Action::SignInAtDoor);
    // A volunteer is offered the door only at the sessions they are on the rota for.
    let door_at = if door {
        let dates: Vec<Date> = sessions.iter().map(|s| s.original_date).collect();
        state
            .store
            .sessions_allowing(&user.actor, Action::SignInAtDoor, g.id, &dates)
            .await?
    } else {
        Vec::new()
    };
    Ok(ok(layout::page(
        Some(&user),
        &d.name,
        html! {
            span.caption { "Peer support group" }
            h1 { (d.name) }
            @if manager { p { a href={ "/groups/" (g.id) "/edit" } { "Change this group" } " · " a href={ "/groups/" (g.id) "/activities" } { "Activities" } } }
            @if let Some(desc) = &d.description { p.lede { (desc) } }
            dl.summary-list {
                (layout::row("When", html! { (d.describe_schedule()) ", " (d.start_time.text()) " to " (d.end_time.text()) }))
                (layout::row("For", html! { (focus_label(&d.focus)) @if let Some(i) = &d.interest { " · " (i) } }))
                (layout::row("Run by", html! { @match (&d.kind, &d.peer_leader) {
                    (alongside_core::groups::GroupKind::Informal, Some(l)) => { "Peers, led by " (l) }
                    _ => { "Trained staff and volunteers" }
                } }))
                (layout::row("Where", html! { @match d.mode {
                    Mode::InPerson => { (d.venue.clone().unwrap_or_default()) @if let Some(p) = &d.place { ", " (p) } }
                    Mode::Online => { "Online" @if member || manager || door { ": " (d.joining_details.clone().unwrap_or_default()) } @else { " (joining details are shown to members)" } }
                } }))
                (layout::row("Who may join", html! { (d.who_may_join) }))
                (layout::row("Places", html! { (d.capacity) " a session" @if d.walk_in_places > 0 { ", of which " (d.walk_in_places) " are kept for people who just turn up" } }))
                @if let Some(c) = &d.code_of_conduct { (layout::row("Code of conduct", html! { (c) })) }
            }
            @if own.is_some() {
                @if member {
                    p { strong { "You are a member of this group." } }
                } @else {
                    form method="post" action={ "/groups/" (g.id) "/join" } {
                        (layout::csrf(&user.csrf))
                        button.button type="submit" { "Join this group" }
                    }
                }
            }
            h2 { "Next sessions" }
            @if sessions.is_empty() {
                p { "There are no sessions in the next two weeks." }
            } @else {
                ul {
                    @for s in &sessions {
                        li {
                            a href=(session_path(g.id, s.original_date)) { (when(s)) }
                            @if s.cancelled { " — " strong { "cancelled" } }
                            @else if s.moved() { " (moved from " (display_date(s.original_date)) ")" }
                            @if door && !s.cancelled && door_at.contains(&s.original_date) { " · " a href={ (session_path(g.id, s.original_date)) "/door" } { "Sign people in" } }
                        }
                    }
                }
            }
        },
    )))
}

pub async fn join(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(gid): Id<GroupId>,
    _: CsrfForm,
) -> AppResult<Response> {
    // Only a person's own account joins: decided (and a refusal audited) by the store.
    state.store.join_group(&user.actor, gid, source).await?;
    Ok(see_other(&format!("/groups/{gid}")))
}
