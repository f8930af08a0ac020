//! What the peer-support pages (groups, the rota, activities) share, so that none of those
//! modules imports another: ids and dates from the path, a session's path and "when",
//! loading a group and one of its sessions, the door page with its activities section, and
//! what the session page shows the people who run it (rota warnings, links, the door).
//!
//! Access is decided by the store (the door) and `alongside_core::access`; this module never
//! builds relationship facts and never shows more of a person than a first name at the door.

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::rota::{session_warnings, Rostered};
use alongside_core::time::{display_date, iso_date, parse_iso_date};
use alongside_core::validation::ValidationErrors;
use alongside_core::{Action, GroupId};
use alongside_store::activities::SessionActivity;
use alongside_store::groups::{DoorView, GroupRow, SessionState};
use alongside_store::people::Source;
use alongside_store::rota::RotaEntry;
use maud::{html, Markup};
use time::Date;

pub(crate) fn parse_group_id(s: &str) -> AppResult<GroupId> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub(crate) fn parse_date(s: &str) -> AppResult<Date> {
    parse_iso_date(s).ok_or(AppError::NotFound)
}

/// Whether the access rules allow `action` organisation-wide (what a page may offer).
pub(crate) fn may(user: &CurrentUser, action: Action) -> bool {
    user.require(action).is_ok()
}

pub(crate) fn session_path(g: GroupId, original: Date) -> String {
    format!("/groups/{g}/sessions/{}", iso_date(original))
}

pub(crate) fn when(s: &SessionState) -> String {
    format!(
        "{} {}, {} to {}",
        s.date.weekday(),
        display_date(s.date),
        s.start.text(),
        s.end.text()
    )
}

/// The group, or 404 (also for another organisation's group).
pub(crate) async fn load_group(
    state: &AppState,
    user: &CurrentUser,
    id: GroupId,
) -> AppResult<GroupRow> {
    Ok(state.store.group(user.actor.org_id, id).await?)
}

/// The group and the session (by the date the rule gave it), or 404.
pub(crate) async fn load_session(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    date: &str,
) -> AppResult<(GroupRow, SessionState)> {
    let g = load_group(state, user, parse_group_id(id)?).await?;
    let d = parse_date(date)?;
    let s = state.store.group_session(&g, d).await?;
    Ok((g, s))
}

// ---- the door ---------------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
pub(crate) fn door_page(
    user: &CurrentUser,
    g: GroupId,
    view: &DoorView,
    q: &str,
    banner: Option<String>,
    notice: Option<&str>,
    e: &ValidationErrors,
    walk_in: (&str, &str),
    activities: Markup,
) -> Markup {
    let s = &view.session;
    let path = format!("{}/door", session_path(g, s.original_date));
    let title = if s.full() {
        "Full".to_string()
    } else {
        format!("{} signed in", s.signed_in)
    };
    layout::page(
        Some(user),
        &layout::title_with_errors(&format!("Door: {title}"), e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = &banner { (layout::success_banner(b)) }
            @if let Some(n) = notice { div.warning-callout role="alert" { p { strong { (n) } } } }
            span.caption { (view.group_name) " · " (when(s)) }
            h1.door-count { (s.signed_in) " of " (s.capacity) " signed in" }
            @if s.cancelled {
                p.door-full { strong { "This session is cancelled." } }
            } @else if s.full() {
                p.door-full role="status" { strong { "Full" } " — every place is taken" @if s.booked > s.signed_in.saturating_sub(s.walk_ins) { " or kept for someone who has booked" } "." }
            } @else {
                p role="status" { (s.capacity - s.walk_ins - s.booked) " places left for people without a booking" @if s.booked > 0 { ", and " (s.booked) " booked" } "." }
            }
            @if !s.cancelled {
                h2 { "Find someone who is expected" }
                form.search-form method="get" action=(path) role="search" {
                    div.form-group {
                        label.label for="q" { "First name" }
                        input.input id="q" name="q" type="search" value=(q) autocomplete="off" spellcheck="false";
                    }
                    button.button type="submit" { "Search" }
                }
                @if !q.trim().is_empty() {
                    @if view.matches.is_empty() {
                        p { "No member or booking matches “" (q) "”. Sign them in as someone who has just turned up." }
                    } @else {
                        ul.door-matches {
                            @for (pid, first, has_booking, here) in &view.matches {
                                li {
                                    (first) @if *has_booking { " (booked)" }
                                    @if *here { " — signed in" } @else {
                                        form.inline-form method="post" action=(path) {
                                            (layout::csrf(&user.csrf))
                                            input type="hidden" name="person" value=(pid);
                                            button.button.button--small type="submit" { "Sign in " (first) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { "Someone who has just turned up" }
                form method="post" action=(path) novalidate {
                    (layout::csrf(&user.csrf))
                    (layout::text_input("first_name", "First name", walk_in.0, e, Input { autocomplete: Some("off"), width: Some("input--width-20"), spellcheck_off: true, ..Default::default() }))
                    (layout::text_input("contact", "Phone or email (optional)", walk_in.1, e, Input { hint: Some("Only if they would like to hear about future sessions"), autocomplete: Some("off"), width: Some("input--width-20"), ..Default::default() }))
                    button.button type="submit" { "Sign in" }
                }
            }
            (activities)
            h2 { "Signed in" }
            @if view.attendees.is_empty() {
                p { "Nobody yet." }
            } @else {
                ol.door-list reversed {
                    @for (_, first, walk_in) in &view.attendees { li { (first) @if *walk_in { span.secondary-text { " (walk-in)" } } } }
                }
            }
        },
    )
}

/// The door page's activities section: each activity's live count or "Full", who is signed up
/// (first names), and a form to sign up someone who is in.
pub(crate) async fn door_section(
    state: &AppState,
    user: &CurrentUser,
    group: GroupId,
    original: Date,
    view: &DoorView,
    signed_up: Option<&str>,
    source: Source,
) -> AppResult<Markup> {
    let acts = state
        .store
        .session_activities(&user.actor, group, original, source)
        .await?;
    Ok(activities_section(
        user, group, original, view, &acts, signed_up,
    ))
}

fn activities_section(
    user: &CurrentUser,
    group: GroupId,
    original: Date,
    view: &DoorView,
    acts: &[SessionActivity],
    signed_up: Option<&str>,
) -> Markup {
    let path = format!("{}/activities", session_path(group, original));
    // "activity:attendance" of a sign-up just made, for the confirmation.
    let banner = signed_up
        .and_then(|s| s.split_once(':'))
        .and_then(|(a, who)| {
            let act = acts.iter().find(|x| x.activity.id == a)?;
            let (_, first) = act.people.iter().find(|(id, _)| id == who)?;
            Some(format!("{first} is signed up for {}", act.activity.name))
        });
    html! {
        @if !acts.is_empty() {
            section.door-activities aria-labelledby="activities-title" {
                h2 id="activities-title" { "Activities" }
                @if let Some(b) = &banner { (layout::success_banner(b)) }
                @for a in acts {
                    @let field = format!("attendance-{}", a.activity.id);
                    @let candidates: Vec<&(String, String, bool)> = view.attendees.iter().filter(|(id, _, _)| !a.people.iter().any(|(p, _)| p == id)).collect();
                    div.card.activity {
                        h3 { (a.activity.name) }
                        @if a.full() {
                            p.door-full role="status" { strong { "Full" } " — all " (a.capacity) " places are taken." }
                        } @else {
                            p role="status" { (a.taken) " of " (a.capacity) " places taken" }
                        }
                        @if let Some(f) = &a.activity.facilitator { p { "With " (f) } }
                        @if !a.people.is_empty() {
                            p { "Signed up: " (a.people.iter().map(|(_, f)| f.as_str()).collect::<Vec<_>>().join(", ")) }
                        }
                        @if !a.full() && !view.session.cancelled {
                            @if view.attendees.is_empty() {
                                p.secondary-text { "Sign people in at the door first, then sign them up here." }
                            } @else if !candidates.is_empty() {
                                form.inline-form method="post" action=(path) {
                                    (layout::csrf(&user.csrf))
                                    input type="hidden" name="activity" value=(a.activity.id);
                                    div.form-group {
                                        label.label for=(field) { "Who" span.visually-hidden { " for " (a.activity.name) } }
                                        select.select id=(field) name="attendance" {
                                            option value="" { "Choose someone who is in" }
                                            @for (id, first, _) in &candidates { option value=(id) { (first) } }
                                        }
                                    }
                                    button.button.button--small type="submit" { "Sign up " span.visually-hidden { "for " (a.activity.name) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---- what the session page shows the people who run it -----------------------------------------

/// People expected at a session: those with a booking and those who walked in. (Signed-in
/// people with a booking are already counted once among the booked.)
pub(crate) fn expected(s: &SessionState) -> u32 {
    s.booked + s.walk_ins
}

/// The warnings for a session: the minimum staffing rule for the people expected, everyone on
/// the rota whose required training is missing or expired on the session's date, and entries
/// that no longer fit the session's times (it was moved after they were made).
pub(crate) async fn warnings(
    state: &AppState,
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
    rota: &[RotaEntry],
) -> AppResult<Vec<String>> {
    let records = state
        .store
        .training_records(user.actor.org_id, None)
        .await?;
    let rostered: Vec<Rostered> = rota
        .iter()
        .map(|r| Rostered {
            name: r.name.clone(),
            duty: r.duty,
            training: records
                .iter()
                .filter(|t| t.user_id == r.user_id)
                .map(|t| (t.course.clone(), t.completed_on, t.expires_on))
                .collect(),
        })
        .collect();
    let mut w = session_warnings(
        s.date,
        expected(s),
        g.details.attendees_per_volunteer,
        &g.details.required_training,
        &rostered,
    );
    let times: Vec<_> = rota
        .iter()
        .map(|r| (r.name.clone(), r.start, r.end))
        .collect();
    w.extend(alongside_core::rota::outside_session_warnings(
        (s.start, s.end),
        &times,
    ));
    Ok(w)
}

pub(crate) fn warnings_box(w: &[String]) -> Markup {
    html! {
        @if !w.is_empty() {
            div.warning-callout.rota-warnings role="status" {
                h2 { "This session needs attention" }
                ul { @for x in w { li { (x) } } }
            }
        }
    }
}

/// What the session page adds for the people who run it: whether this user may open the door
/// here (a volunteer only when on the rota), and for staff the warnings and links to the rota
/// and to booking on someone's behalf.
pub(crate) async fn session_panel(
    state: &AppState,
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
) -> AppResult<(bool, Markup)> {
    let manager = may(user, Action::ManageGroups);
    let on_behalf = may(user, Action::BookGroupsOnBehalf);
    let rota = if manager {
        state
            .store
            .rota(user.actor.org_id, g.id, s.original_date)
            .await?
    } else {
        Vec::new()
    };
    // Decided by the access rules with the rota looked up (a volunteer only when on it).
    let door = !state
        .store
        .sessions_allowing(&user.actor, Action::SignInAtDoor, g.id, &[s.original_date])
        .await?
        .is_empty();
    let w = if manager && !s.cancelled {
        warnings(state, user, g, s, &rota).await?
    } else {
        Vec::new()
    };
    let path = session_path(g.id, s.original_date);
    Ok((
        door,
        html! {
            @if manager || on_behalf {
                (warnings_box(&w))
                ul.list-plain {
                    @if manager { li { a href={ (path) "/rota" } { "Rota: who is on (" (rota.len()) ")" } } }
                    @if on_behalf && !s.cancelled { li { a href={ (path) "/bookings" } { "Book a place for someone" } } }
                }
            }
        },
    ))
}
