//! A group's session: what it is, booking and cancelling a place (a person's own account),
//! and cancelling, reinstating or moving it (those who manage groups).

use super::own_place;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Require};
use crate::layout::{self, Input};
use crate::pages::peer_common::{
    load_session, may as allowed, parse_date, parse_group_id, session_panel, session_path, when,
};
use crate::pages::{html as respond, invalid, ok, see_other};
use crate::AppState;
use alongside_core::groups::{ClockTime, Mode};
use alongside_core::time::display_date;
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_core::Action;
use alongside_store::groups::{BookOutcome, GroupRow, OwnPlace, SessionChange, SessionState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

#[derive(Deserialize, Default)]
pub struct SessionParams {
    booked: Option<String>,
    cancelled: Option<String>,
    changed: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn session_page(
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
    today: Date,
    own: Option<OwnPlace>,
    banner: Option<&str>,
    e: &ValidationErrors,
    move_form: (&str, &str, &str, &str, &str),
    (door, people_who_run_it): (bool, Markup),
) -> Markup {
    let manager = allowed(user, Action::ManageGroups);
    let path = session_path(g.id, s.original_date);
    let past = s.date < today;
    let title = format!("{}: {}", g.details.name, display_date(s.date));
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { a href={ "/groups/" (g.id) } { (g.details.name) } }
            h1 { (when(s)) }
            @if s.cancelled {
                div.warning-callout role="status" { p { strong { "This session is cancelled." } @if let Some(n) = &s.note { " " (n) } } }
            } @else if s.moved() {
                p { "Moved from " (display_date(s.original_date)) "." }
            }
            dl.summary-list {
                (layout::row("Where", html! { @match g.details.mode { Mode::InPerson => { (g.details.venue.clone().unwrap_or_default()) }, Mode::Online => { "Online" } } }))
                (layout::row("Places", html! { (s.capacity) }))
                (layout::row("Places left to book ahead", html! { (s.bookable_left()) }))
                @if door || manager { (layout::row("Signed in", html! { (s.signed_in) " of " (s.capacity) })) }
            }
            @if door && !s.cancelled { p { a.button href={ (path) "/door" } { "Sign people in at the door" } } }
            (people_who_run_it)
            @if let Some(own) = own.filter(|_| !s.cancelled && !past) {
                @if own.booked {
                    p { strong { "You have a place at this session." } }
                    form method="post" action={ (path) "/booking" } {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="cancel";
                        button.button.button--secondary type="submit" { "Cancel my booking" }
                    }
                } @else if s.bookable_left() > 0 {
                    form method="post" action={ (path) "/booking" } {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="book";
                        button.button type="submit" { "Book a place" }
                    }
                } @else {
                    p { "All the places that can be booked ahead are taken." @if s.walk_in_places > 0 { " Some places are kept for people who just turn up." } }
                }
            }
            @if manager {
                h2 { "Change this session" }
                @if s.cancelled {
                    form method="post" action={ (path) "/change" } {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="reinstate";
                        button.button.button--secondary type="submit" { "Reinstate this session" }
                    }
                } @else {
                    form method="post" action={ (path) "/change" } novalidate {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="cancel";
                        (layout::text_input("note", "Reason (optional, shown to people)", "", e, Input { width: Some("input--width-30"), ..Default::default() }))
                        button.button.button--warning type="submit" { "Cancel this session" }
                    }
                    form method="post" action={ (path) "/change" } novalidate {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="move";
                        (layout::date_input("move", "Move to", "For example, 2 12 2026", move_form.0, move_form.1, move_form.2, e))
                        (layout::text_input("move_start", "Start time", move_form.3, e, Input { width: Some("input--width-5"), ..Default::default() }))
                        (layout::text_input("move_end", "End time", move_form.4, e, Input { width: Some("input--width-5"), ..Default::default() }))
                        button.button.button--secondary type="submit" { "Move this session" }
                    }
                }
            }
        },
    )
}

pub async fn session(
    State(state): State<AppState>,
    user: Require<may::FindGroups>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    Query(p): Query<SessionParams>,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let own = own_place(&state, &user, g.id, Some(s.original_date), source).await?;
    let is_booked = own.is_some_and(|o| o.booked);
    let banner = if p.booked.is_some() && is_booked {
        Some("Your place is booked")
    } else if p.cancelled.is_some() && !is_booked {
        Some("Your booking is cancelled")
    } else if p.changed.is_some() {
        Some("The session has been changed")
    } else {
        None
    };
    let start = s.start.text();
    let end = s.end.text();
    let panel = session_panel(&state, &user, &g, &s).await?;
    Ok(ok(session_page(
        &user,
        &g,
        &s,
        state.store.clock().today(),
        own,
        banner,
        &ValidationErrors::default(),
        ("", "", "", &start, &end),
        panel,
    )))
}

pub async fn change(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let mut e = ValidationErrors::default();
    let change = match data.get("action").as_str() {
        "cancel" => {
            let note = clean_text(&mut e, "note", "the reason", &data.get("note"), 300, false);
            SessionChange::Cancel { note }
        }
        "reinstate" => SessionChange::Reinstate,
        "move" => {
            let date = alongside_core::groups::parse_loose_date(&format!(
                "{}/{}/{}",
                data.get("move_day").trim(),
                data.get("move_month").trim(),
                data.get("move_year").trim()
            ));
            if date.is_none() {
                e.add(
                    "move_day",
                    "Enter the date the session moves to, for example 2 12 2026",
                );
            }
            let start = ClockTime::parse(&data.get("move_start"));
            let end = ClockTime::parse(&data.get("move_end"));
            if start.is_none() {
                e.add("move_start", "Enter the start time, for example 18:00");
            }
            if end.is_none() {
                e.add("move_end", "Enter the end time, for example 23:00");
            }
            if let (Some(a), Some(b)) = (start, end) {
                if b <= a {
                    e.add("move_end", "The end time must be after the start time");
                }
            }
            match (date, start, end) {
                (Some(date), Some(start), Some(end)) if e.is_empty() => {
                    SessionChange::Move { date, start, end }
                }
                _ => SessionChange::Reinstate,
            }
        }
        _ => {
            return Err(AppError::BadRequest(
                "Choose what to change about the session.".into(),
            ))
        }
    };
    if !e.is_empty() {
        let (d, m, y, st, en) = (
            data.get("move_day"),
            data.get("move_month"),
            data.get("move_year"),
            data.get("move_start"),
            data.get("move_end"),
        );
        let panel = session_panel(&state, &user, &g, &s).await?;
        return Ok(invalid(session_page(
            &user,
            &g,
            &s,
            state.store.clock().today(),
            None,
            None,
            &e,
            (&d, &m, &y, &st, &en),
            panel,
        )));
    }
    state
        .store
        .change_session(&user.actor, g.id, s.original_date, change, source)
        .await?;
    Ok(see_other(&format!(
        "{}?changed=1",
        session_path(g.id, s.original_date)
    )))
}

pub async fn booking(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let (gid, d) = (parse_group_id(&id)?, parse_date(&date)?);
    let path = session_path(gid, d);
    let problem = |status: StatusCode, title: &str, message: &str| {
        respond(
            status,
            layout::page(
                Some(&user),
                title,
                html! {
                    h1 { (title) }
                    p { (message) }
                    p { a href=(path) { "Back to the session" } }
                },
            ),
        )
    };
    // Only a person's own account books and cancels, and only at a session of a group of
    // their organisation: decided (a refusal audited) by the store, before anything else.
    match data.get("action").as_str() {
        "book" => match state
            .store
            .book_group_session(&user.actor, gid, d, state.store.clock().today(), source)
            .await?
        {
            BookOutcome::Booked | BookOutcome::AlreadyBooked => {
                Ok(see_other(&format!("{path}?booked=1")))
            }
            BookOutcome::Full => Ok(problem(
                StatusCode::CONFLICT,
                "No places left to book",
                "Every place that can be booked ahead has been taken. Nothing was booked.",
            )),
            BookOutcome::Cancelled => Ok(problem(
                StatusCode::CONFLICT,
                "This session is cancelled",
                "The session has been cancelled, so it cannot be booked.",
            )),
            BookOutcome::Past => Ok(problem(
                StatusCode::BAD_REQUEST,
                "This session has already happened",
                "Only sessions from today onwards can be booked.",
            )),
        },
        "cancel" => {
            state
                .store
                .cancel_group_booking(&user.actor, gid, d, source)
                .await?;
            Ok(see_other(&format!("{path}?cancelled=1")))
        }
        _ => Err(AppError::BadRequest(
            "Choose whether to book or cancel.".into(),
        )),
    }
}
