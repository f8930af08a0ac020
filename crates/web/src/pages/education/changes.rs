//! Changing a course run after it was added: its details (dates, times, venue, facilitators,
//! places), moving one session, and cancelling it — one page for staff who run education.
//!
//! The rules (places never below the number of people holding one, promotion from the waiting
//! list when places are added, telling people) are the store's (`store/src/course_runs.rs`);
//! this module parses the forms and must never change who holds a place itself.

use super::runs::{load_run, run_fields, staff_options, RunInput};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::layout::{self, Input};
use crate::pages::date_entry::{date_input, DateBoxes, DateEntry};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::education::{
    describe_session, london_micros, london_parts, parse_clock, parse_day, RunForm, SessionTimes,
};
use alongside_core::ids::RunId;
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_store::education::{Programme, Run};
use alongside_store::StoreError;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

/// The move form as typed: (session, date, start, end).
type MoveForm = (String, DateBoxes, String, String);

fn form_of(run: &Run) -> RunForm {
    let (first_date, start_time, end_time) = match run.sessions.first() {
        Some(s) => {
            let (d, h, m) = london_parts(s.starts_at);
            let (_, h2, m2) = london_parts(s.ends_at);
            (
                format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year()),
                format!("{h:02}:{m:02}"),
                format!("{h2:02}:{m2:02}"),
            )
        }
        None => Default::default(),
    };
    RunForm {
        label: run.label.clone(),
        first_date,
        start_time,
        end_time,
        venue: run.venue.clone().unwrap_or_default(),
        joining: run.joining.clone().unwrap_or_default(),
        capacity: run.capacity.to_string(),
        facilitators: run.facilitators.iter().map(|f| f.0.to_string()).collect(),
    }
}

/// The boxes showing the date of the run's first session.
fn first_boxes(run: &Run) -> DateBoxes {
    run.sessions
        .first()
        .map(|s| DateBoxes::of(london_parts(s.starts_at).0))
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn page(
    user: &CurrentUser,
    run: &Run,
    p: &Programme,
    staff: &[(String, String)],
    f: &RunForm,
    first: &DateBoxes,
    mv: &MoveForm,
    reason: &str,
    e: &ValidationErrors,
) -> Markup {
    let base = format!("/course-runs/{}", run.id);
    let sessions: Vec<(String, String)> = run
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                (i + 1).to_string(),
                format!(
                    "Session {}: {}",
                    i + 1,
                    describe_session(s.starts_at, s.ends_at)
                ),
            )
        })
        .collect();
    let mut opts: Vec<(&str, &str)> = vec![("", "Choose a session")];
    opts.extend(sessions.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let title = "Change this course run";
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            span.caption { a href=(base) { (p.details.title) ": " (run.label) } }
            h1 { (title) }
            p { (run.enrolled) " of " (run.capacity) " places are taken and " (run.waiting) " people are waiting. You cannot have fewer places than people with a place; adding places gives them at once to the people waiting, who are told." }
            form method="post" action={ (base) "/edit" } novalidate {
                (layout::csrf(&user.csrf))
                p.hint { "Changing the first date or the times sets every session weekly from the first date again." }
                (run_fields(staff, f, first, e))
                button.button type="submit" { "Save changes" }
            }
            h2 { "Move one session" }
            form method="post" action={ (base) "/move" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::select("session", "Session", &opts, &mv.0, e))
                (date_input("move_date", "New date", "For example, 19 1 2027", &mv.1, e))
                (layout::text_input("move_start", "Start time", &mv.2, e, Input { hint: Some("For example 10:00"), width: Some("input--width-5"), ..Default::default() }))
                (layout::text_input("move_end", "End time", &mv.3, e, Input { hint: Some("For example 12:00"), width: Some("input--width-5"), ..Default::default() }))
                button.button.button--secondary type="submit" { "Move session" }
            }
            h2 { "Cancel this course run" }
            p { "Everyone with a place or on the waiting list is withdrawn and told on their courses page. This cannot be undone." }
            form method="post" action={ (base) "/cancel" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("reason", "Reason (optional, shown to people)", reason, e, Input { width: Some("input--width-30"), ..Default::default() }))
                button.button.button--warning type="submit" { "Cancel this course run" }
            }
        },
    )
}

/// The run, its programme and the staff list, for someone who may change runs.
async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: RunId,
) -> AppResult<(Run, Programme, Vec<(String, String)>)> {
    let (run, p) = load_run(state, user, id).await?;
    user.require(Action::ManageCourses)?;
    if run.cancelled.is_some() {
        return Err(AppError::BadRequest(
            "This course run has been cancelled, so it cannot be changed.".into(),
        ));
    }
    let staff = staff_options(state, user).await?;
    Ok((run, p, staff))
}

/// GET /course-runs/{id}/edit
pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Id(id): Id<RunId>,
) -> AppResult<Response> {
    let (run, p, staff) = load(&state, &user, id).await?;
    Ok(ok(page(
        &user,
        &run,
        &p,
        &staff,
        &form_of(&run),
        &first_boxes(&run),
        &Default::default(),
        "",
        &ValidationErrors::default(),
    )))
}

/// POST /course-runs/{id}/edit
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let (run, p, staff) = load(&state, &user, id).await?;
    let input = RunInput::read(&d);
    let parsed = input.parse(&d, p.details.mode, p.details.sessions);
    let result = match parsed {
        Ok(details) => {
            // Same first session: keep every session as it is (one may have been moved).
            let keep = details.sessions.first() == run.sessions.first();
            state
                .store
                .update_run(&user.actor, run.id, details, keep, source)
                .await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/course-runs/{}?changed=1", run.id))),
        Err(StoreError::Invalid(e)) => Ok(invalid(page(
            &user,
            &run,
            &p,
            &staff,
            &input.form,
            &input.first.boxes(),
            &Default::default(),
            "",
            &e,
        ))),
        Err(other) => Err(other.into()),
    }
}

/// POST /course-runs/{id}/move
pub async fn move_session(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let (run, p, staff) = load(&state, &user, id).await?;
    let date = DateEntry::from_form(&d, "move_date");
    let mv: MoveForm = (
        d.get("session"),
        date.boxes(),
        d.get("move_start"),
        d.get("move_end"),
    );
    let mut e = d.repeated_errors(&[
        "session",
        "move_date",
        "move_date_day",
        "move_date_month",
        "move_date_year",
        "move_start",
        "move_end",
    ]);
    let n =
        mv.0.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=run.sessions.len()).contains(n));
    if n.is_none() {
        e.add("session", "Choose the session to move");
    }
    let day = match date.text("move_date", "The new date") {
        Ok(text) => {
            let day = parse_day(&text);
            let field = date.error_field("move_date");
            if text.trim().is_empty() {
                e.add(&field, "Enter the new date of the session");
            } else if day.is_none() {
                e.add(
                    &field,
                    match date {
                        DateEntry::Single(_) => "The new date must be a real date, like 19/1/2027",
                        DateEntry::Boxes(_) => "The new date must be a real date, like 19 1 2027",
                    },
                );
            }
            day
        }
        Err(problem) => {
            e.0.push(problem);
            None
        }
    };
    let start = parse_clock(&mv.2);
    let end = parse_clock(&mv.3);
    if start.is_none() {
        e.add("move_start", "Enter the start time, for example 10:00");
    }
    if end.is_none() {
        e.add("move_end", "Enter the end time, for example 12:00");
    }
    if let (Some(a), Some(b)) = (start, end) {
        if b <= a {
            e.add("move_end", "The end time must be after the start time");
        }
    }
    match (n, day, start, end) {
        (Some(n), Some(day), Some((sh, sm)), Some((eh, em))) if e.is_empty() => {
            let to = SessionTimes {
                starts_at: london_micros(day, sh, sm),
                ends_at: london_micros(day, eh, em),
            };
            state
                .store
                .move_run_session(&user.actor, run.id, n as i64, to, source)
                .await?;
            Ok(see_other(&format!("/course-runs/{}?moved=1", run.id)))
        }
        _ => Ok(invalid(page(
            &user,
            &run,
            &p,
            &staff,
            &form_of(&run),
            &first_boxes(&run),
            &mv,
            "",
            &e,
        ))),
    }
}

/// POST /course-runs/{id}/cancel
pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let (run, p, staff) = load(&state, &user, id).await?;
    let mut e = d.repeated_errors(&["reason"]);
    let reason = clean_text(&mut e, "reason", "the reason", &d.get("reason"), 300, false);
    if !e.is_empty() {
        return Ok(invalid(page(
            &user,
            &run,
            &p,
            &staff,
            &form_of(&run),
            &first_boxes(&run),
            &Default::default(),
            &d.get("reason"),
            &e,
        )));
    }
    state
        .store
        .cancel_run(&user.actor, run.id, reason, source)
        .await?;
    Ok(see_other(&format!("/course-runs/{}?cancelled=1", run.id)))
}
