//! Peer support: the people who run sessions. The session team (staff and volunteers with
//! their roles and training status), each one's training records, a session's rota with its
//! warnings (under-staffed by the minimum staffing rule, required training missing or
//! expired; worked out in `peer_common`, which also draws the panel they show in on the
//! session page), and staff booking a place on a person's behalf.
//!
//! Access is decided by `alongside_core::access` (in the store, again, inside the
//! transaction); this module must never build a query, and must never show a volunteer more
//! than the session page already shows them.

use super::peer_common::{expected, load_session, session_path, warnings, warnings_box, when};
use super::{html as respond, invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Require};
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::groups::{training_label, volunteers_needed, TrainingStatus, TRAINING_COURSES};
use alongside_core::rota::{course_status, runs_sessions, status_label, Duty, TrainingForm};
use alongside_core::time::{display_date, parse_iso_date};
use alongside_core::validation::ValidationErrors;
use alongside_core::{Action, PersonId, UserId};
use alongside_store::groups::{BookOutcome, GroupRow, SessionState};
use alongside_store::rota::{BehalfOutcome, BookingView, RotaEntry, TrainingRecord};
use alongside_store::users::User;
use alongside_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

/// The member of staff or volunteer of the user's organisation, or 404.
async fn load_runner(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<User> {
    let uid: UserId = id.parse().map_err(|_| AppError::NotFound)?;
    let u = state.store.user(user.actor.org_id, uid).await?;
    if !runs_sessions(u.role) {
        return Err(AppError::NotFound);
    }
    Ok(u)
}

/// Everyone who may be on a rota: active staff and volunteers, by name.
async fn runners(state: &AppState, user: &CurrentUser) -> AppResult<Vec<User>> {
    let mut v: Vec<User> = state
        .store
        .users(user.actor.org_id)
        .await?
        .into_iter()
        .filter(|u| u.active && runs_sessions(u.role))
        .collect();
    v.sort_by(|a, b| (&a.display_name, a.id).cmp(&(&b.display_name, b.id)));
    Ok(v)
}

fn status_tag(s: TrainingStatus) -> Markup {
    let class = match s {
        TrainingStatus::Current => "tag tag--green",
        TrainingStatus::ExpiringSoon => "tag tag--yellow",
        TrainingStatus::Expired | TrainingStatus::Missing => "tag tag--red",
    };
    html! { strong class=(class) { (status_label(s)) } }
}

/// Each course someone has a record of, with its status on `on`.
fn courses_of(records: &[&TrainingRecord], on: Date) -> Vec<(String, TrainingStatus)> {
    let mut out = Vec::new();
    for (code, _) in TRAINING_COURSES {
        let rs: Vec<(Date, Option<Date>)> = records
            .iter()
            .filter(|r| r.course == *code)
            .map(|r| (r.completed_on, r.expires_on))
            .collect();
        if !rs.is_empty() {
            out.push((code.to_string(), course_status(&rs, on)));
        }
    }
    out
}

// ---- the session team and training records ---------------------------------------------------

pub async fn team(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageGroups)?;
    let people = runners(&state, &user).await?;
    let records = state
        .store
        .training_records(user.actor.org_id, None)
        .await?;
    let on = state.store.clock().today();
    let title = "Session team";
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            span.caption { a href="/groups" { "Peer support" } }
            h1 { (title) }
            p.lede { "The staff and volunteers who can be on a session's rota, with their training." }
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { (title) }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Training" } } }
                    tbody {
                        @for u in &people {
                            @let mine: Vec<&TrainingRecord> = records.iter().filter(|r| r.user_id == u.id).collect();
                            @let courses = courses_of(&mine, on);
                            tr {
                                td data-label="Name" { a href={ "/rota/people/" (u.id) } { (u.display_name) } }
                                td data-label="Role" { (u.role.label()) }
                                td data-label="Training" {
                                    @if courses.is_empty() {
                                        span.secondary-text { "No training recorded" }
                                    } @else {
                                        ul.list-plain {
                                            @for (code, st) in &courses {
                                                li { (training_label(code)) ": " (status_tag(*st)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )))
}

const TRAINING_FIELDS: &[&str] = &[
    "course",
    "completed_day",
    "completed_month",
    "completed_year",
    "expires_day",
    "expires_month",
    "expires_year",
];

fn training_page(
    user: &CurrentUser,
    who: &User,
    records: &[TrainingRecord],
    on: Date,
    f: &TrainingForm,
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    let mut courses: Vec<(&str, &str)> = vec![("", "Choose a course")];
    courses.extend(TRAINING_COURSES.iter().copied());
    let title = format!("Training: {}", who.display_name);
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { a href="/rota/people" { "Session team" } }
            h1 { (title) }
            p { (who.role.label()) }
            h2 { "Training records" }
            @if records.is_empty() {
                p { "No training recorded yet." }
            } @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "Training records" }
                        thead { tr { th scope="col" { "Course" } th scope="col" { "Completed" } th scope="col" { "Expires" } th scope="col" { "Status" } } }
                        tbody {
                            @for r in records {
                                tr {
                                    td data-label="Course" { (training_label(&r.course)) }
                                    td data-label="Completed" { (display_date(r.completed_on)) }
                                    td data-label="Expires" { @match r.expires_on { Some(x) => { (display_date(x)) }, None => { "Does not expire" } } }
                                    td data-label="Status" { (status_tag(alongside_core::groups::training_status(r.expires_on, on))) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Record training" }
            form method="post" action={ "/rota/people/" (who.id) "/training" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::select("course", "Course", &courses, &f.course, e))
                (layout::date_input("completed", "Date completed", "For example, 14 3 2026", &f.completed_day, &f.completed_month, &f.completed_year, e))
                (layout::date_input("expires", "Expiry date (optional)", "Leave empty if it does not expire. For example, 14 3 2029", &f.expires_day, &f.expires_month, &f.expires_year, e))
                button.button type="submit" { "Record training" }
            }
        },
    )
}

#[derive(Deserialize, Default)]
pub struct Banner {
    recorded: Option<String>,
    added: Option<String>,
    removed: Option<String>,
    booked: Option<String>,
    cancelled: Option<String>,
    q: Option<String>,
}

pub async fn person(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    Path(id): Path<String>,
    Query(p): Query<Banner>,
) -> AppResult<Response> {
    let who = load_runner(&state, &user, &id).await?;
    let records = state
        .store
        .training_records(user.actor.org_id, Some(who.id))
        .await?;
    let banner = p.recorded.is_some().then_some("Training recorded");
    Ok(ok(training_page(
        &user,
        &who,
        &records,
        state.store.clock().today(),
        &TrainingForm::default(),
        &ValidationErrors::default(),
        banner,
    )))
}

pub async fn record_training(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let who = load_runner(&state, &user, &id).await?;
    let f = TrainingForm {
        course: data.get("course"),
        completed_day: data.get("completed_day"),
        completed_month: data.get("completed_month"),
        completed_year: data.get("completed_year"),
        expires_day: data.get("expires_day"),
        expires_month: data.get("expires_month"),
        expires_year: data.get("expires_year"),
    };
    let today = state.store.clock().today();
    let parsed = data
        .repeated_errors(TRAINING_FIELDS)
        .into_result(())
        .and_then(|()| f.parse(today));
    match parsed {
        Err(e) => {
            let records = state
                .store
                .training_records(user.actor.org_id, Some(who.id))
                .await?;
            Ok(invalid(training_page(
                &user, &who, &records, today, &f, &e, None,
            )))
        }
        Ok(t) => {
            state
                .store
                .record_training(&user.actor, who.id, t, source)
                .await?;
            Ok(see_other(&format!("/rota/people/{}?recorded=1", who.id)))
        }
    }
}

// ---- a session's rota and its warnings ---------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn rota_page(
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
    rota: &[RotaEntry],
    people: &[User],
    w: &[String],
    form: (&str, &str, &str, &str),
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    let path = session_path(g.id, s.original_date);
    let title = format!("Rota: {}", g.details.name);
    let options: Vec<(String, String)> = people
        .iter()
        .map(|u| {
            (
                u.id.to_string(),
                format!("{} ({})", u.display_name, u.role.label()),
            )
        })
        .collect();
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let staff = rota.iter().filter(|r| r.duty == Duty::Staff).count();
    let volunteers = rota.len() - staff;
    let full = volunteers_needed(s.capacity, g.details.attendees_per_volunteer);
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { a href=(path) { (g.details.name) ": " (when(s)) } }
            h1 { (title) }
            @if s.cancelled { p { strong { "This session is cancelled." } } }
            (warnings_box(w))
            p { (staff) @if staff == 1 { " staff member" } @else { " staff members" } " and " (volunteers) @if volunteers == 1 { " volunteer" } @else { " volunteers" } " on the rota for " (expected(s)) " people expected (booked or signed in). "
                "If all " (s.capacity) " places are taken, " (full) @if full == 1 { " volunteer is" } @else { " volunteers are" } " needed (one per " (g.details.attendees_per_volunteer) ")." }
            @if !g.details.required_training.is_empty() {
                p { "Training everyone on the rota must have: "
                    @for (i, c) in g.details.required_training.iter().enumerate() { @if i > 0 { ", " } (training_label(c)) } "." }
            }
            h2 { "Who is on" }
            @if rota.is_empty() {
                p { "Nobody is on the rota yet." }
            } @else {
                div.table-wrapper {
                    table.responsive.rota {
                        caption.visually-hidden { "Who is on" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Duty" } th scope="col" { "Times" } th scope="col" { span.visually-hidden { "Action" } } } }
                        tbody {
                            @for r in rota {
                                tr {
                                    td data-label="Name" { a href={ "/rota/people/" (r.user_id) } { (r.name) } }
                                    td data-label="Duty" { (r.duty.label()) }
                                    td data-label="Times" { (r.start.text()) " to " (r.end.text()) }
                                    td {
                                        form.inline-form method="post" action={ (path) "/rota/" (r.id) "/remove" } {
                                            (layout::csrf(&user.csrf))
                                            button.button.button--secondary.button--small type="submit" { "Remove " (r.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Add someone to the rota" }
            form method="post" action={ (path) "/rota" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::radios("user", "Who", &options, form.0, e))
                (layout::radios("duty", "On duty as", &[("staff", "Staff"), ("volunteer", "Volunteer")], form.1, e))
                (layout::text_input("start_time", "From", form.2, e, Input { hint: Some("For example, 18:00"), width: Some("input--width-5"), ..Default::default() }))
                (layout::text_input("end_time", "Until", form.3, e, Input { hint: Some("For example, 23:00"), width: Some("input--width-5"), ..Default::default() }))
                button.button type="submit" { "Add to the rota" }
            }
            p { a href="/rota/people" { "Session team and training" } }
        },
    )
}

async fn render_rota(
    state: &AppState,
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
    form: (&str, &str, &str, &str),
    e: &ValidationErrors,
    banner: Option<&str>,
) -> AppResult<Markup> {
    let rota = state
        .store
        .rota(user.actor.org_id, g.id, s.original_date)
        .await?;
    let people = runners(state, user).await?;
    let w = if s.cancelled {
        Vec::new()
    } else {
        warnings(state, user, g, s, &rota).await?
    };
    Ok(rota_page(user, g, s, &rota, &people, &w, form, e, banner))
}

pub async fn rota(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    Path((id, date)): Path<(String, String)>,
    Query(p): Query<Banner>,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let banner = if p.added.is_some() {
        Some("Added to the rota")
    } else if p.removed.is_some() {
        Some("Taken off the rota")
    } else {
        None
    };
    let (start, end) = (s.start.text(), s.end.text());
    Ok(ok(render_rota(
        &state,
        &user,
        &g,
        &s,
        ("", "", &start, &end),
        &ValidationErrors::default(),
        banner,
    )
    .await?))
}

pub async fn rota_add(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let mut e = data.repeated_errors(&["user", "duty", "start_time", "end_time"]);
    let who = data.get("user").parse::<UserId>().ok();
    if who.is_none() {
        e.add("user", "Choose who is on the rota");
    }
    let duty = Duty::parse(&data.get("duty"));
    if duty.is_none() {
        e.add(
            "duty",
            "Choose whether they are on as staff or as a volunteer",
        );
    }
    let (start, end) = (data.get("start_time"), data.get("end_time"));
    let form = (
        data.get("user"),
        data.get("duty"),
        start.clone(),
        end.clone(),
    );
    let result = match (who, duty, e.is_empty()) {
        (Some(who), Some(duty), true) => {
            state
                .store
                .add_rota_entry(
                    &user.actor,
                    g.id,
                    s.original_date,
                    who,
                    duty,
                    &start,
                    &end,
                    source,
                )
                .await
        }
        _ => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "{}/rota?added=1",
            session_path(g.id, s.original_date)
        ))),
        Err(StoreError::Invalid(e)) => Ok(invalid(
            render_rota(
                &state,
                &user,
                &g,
                &s,
                (&form.0, &form.1, &form.2, &form.3),
                &e,
                None,
            )
            .await?,
        )),
        Err(other) => Err(other.into()),
    }
}

pub async fn rota_remove(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    Path((id, date, entry)): Path<(String, String, String)>,
    _: CsrfForm,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    state
        .store
        .remove_rota_entry(&user.actor, g.id, s.original_date, entry, source)
        .await?;
    Ok(see_other(&format!(
        "{}/rota?removed=1",
        session_path(g.id, s.original_date)
    )))
}

// ---- booking on someone's behalf --------------------------------------------------------------

fn bookings_page(
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
    view: &BookingView,
    q: &str,
    banner: Option<&str>,
) -> Markup {
    let path = session_path(g.id, s.original_date);
    let action = format!("{path}/bookings");
    let title = format!("Book a place: {}", g.details.name);
    let person_row = |p: &alongside_store::rota::BookingPerson, book: bool| {
        html! {
            li {
                (p.name) ", born " (parse_iso_date(&p.date_of_birth).map(display_date).unwrap_or_else(|| p.date_of_birth.clone()))
                @if !book && !p.booked { } @else if book && p.booked { " — booked" } @else {
                    form.inline-form method="post" action=(action) {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="person" value=(p.id);
                        input type="hidden" name="action" value=(if book { "book" } else { "cancel" });
                        @if book {
                            button.button.button--small type="submit" { "Book a place for " (p.name) }
                        } @else {
                            button.button.button--secondary.button--small type="submit" { "Cancel the booking for " (p.name) }
                        }
                    }
                }
            }
        }
    };
    layout::page(
        Some(user),
        &title,
        html! {
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { a href=(path) { (g.details.name) ": " (when(s)) } }
            h1 { (title) }
            p { (s.bookable_left()) " places left to book ahead"
                @if s.walk_in_places > 0 { " (" (s.walk_in_places) " are kept for people who just turn up)" } "." }
            h2 { "Booked" }
            @if view.booked.is_empty() {
                p { "Nobody has booked yet." }
            } @else {
                ul.booked-list { @for p in &view.booked { (person_row(p, false)) } }
            }
            h2 { "Book a place for someone" }
            form.search-form method="get" action=(action) role="search" {
                div.form-group {
                    label.label for="q" { "Their name" }
                    input.input id="q" name="q" type="search" value=(q) autocomplete="off" spellcheck="false";
                }
                button.button type="submit" { "Search" }
            }
            @if !q.trim().is_empty() {
                @if view.matches.is_empty() {
                    p { "Nobody registered matches “" (q) "”." }
                } @else {
                    ul.booking-matches { @for p in &view.matches { (person_row(p, true)) } }
                }
            }
        },
    )
}

pub async fn bookings(
    State(state): State<AppState>,
    user: Require<may::BookGroupsOnBehalf>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    Query(p): Query<Banner>,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let q: String = p.q.clone().unwrap_or_default().chars().take(50).collect();
    let view = state
        .store
        .booking_view(&user.actor, g.id, s.original_date, &q, source)
        .await?;
    let banner = if p.booked.is_some() {
        Some("The place is booked")
    } else if p.cancelled.is_some() {
        Some("The booking is cancelled")
    } else {
        None
    };
    Ok(ok(bookings_page(&user, &g, &s, &view, &q, banner)))
}

pub async fn book(
    State(state): State<AppState>,
    user: Require<may::BookGroupsOnBehalf>,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let path = format!("{}/bookings", session_path(g.id, s.original_date));
    let person: PersonId = data
        .get("person")
        .parse()
        .map_err(|_| AppError::BadRequest("Choose the person to book a place for.".into()))?;
    let book = match data.get("action").as_str() {
        "book" => true,
        "cancel" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose whether to book or cancel.".into(),
            ))
        }
    };
    let problem = |status: StatusCode, title: &str, message: &str| {
        respond(
            status,
            layout::page(
                Some(&*user),
                title,
                html! {
                    h1 { (title) }
                    p { (message) }
                    p { a href=(path) { "Back to the bookings" } }
                },
            ),
        )
    };
    let outcome = state
        .store
        .book_on_behalf(
            &user.actor,
            g.id,
            s.original_date,
            person,
            book,
            state.store.clock().today(),
            source,
        )
        .await;
    match outcome {
        Ok(BehalfOutcome::Booked(BookOutcome::Booked | BookOutcome::AlreadyBooked)) => {
            Ok(see_other(&format!("{path}?booked=1")))
        }
        Ok(BehalfOutcome::Booked(BookOutcome::Full)) => Ok(problem(
            StatusCode::CONFLICT,
            "No places left to book",
            "Every place that can be booked ahead has been taken. Nothing was booked.",
        )),
        Ok(BehalfOutcome::Booked(BookOutcome::Cancelled)) => Ok(problem(
            StatusCode::CONFLICT,
            "This session is cancelled",
            "The session has been cancelled, so it cannot be booked.",
        )),
        Ok(BehalfOutcome::Booked(BookOutcome::Past)) => Ok(problem(
            StatusCode::BAD_REQUEST,
            "This session has already happened",
            "Only sessions from today onwards can be booked.",
        )),
        Ok(BehalfOutcome::Cancelled | BehalfOutcome::NothingToCancel) => {
            Ok(see_other(&format!("{path}?cancelled=1")))
        }
        Err(StoreError::Conflict(_)) => Ok(problem(
            StatusCode::CONFLICT,
            "They are already signed in",
            "They have already been signed in to this session, so the booking cannot be cancelled.",
        )),
        Err(other) => Err(other.into()),
    }
}
