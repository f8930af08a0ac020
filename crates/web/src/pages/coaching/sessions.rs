//! Coaching sessions: booking one in an episode, and recording what happened (attendance,
//! notes, progress on goals) or a cancellation.

use super::episodes::manage_allowed;
use super::{local_when, minutes_between, repeated, status_tag, store_outcome};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::extract::{CsrfForm, Id};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{
    parse_attainment, Booking, BookingForm, ContactMode, SessionStatus, ATTAINMENT,
};
use alongside_core::dates::{parse_date, parse_date_parts};
use alongside_core::time::{iso_date, Timestamp};
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_core::{EpisodeId, SessionId};
use alongside_store::coaching::{EpisodeView, GoalView, ReviewInput, SessionRecord, SessionRow};
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

const BOOKING_FIELDS: [&str; 10] = [
    "date",
    "date_day",
    "date_month",
    "date_year",
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

/// The session's date as typed into the date input's day, month and year boxes
/// (`date_day`, `date_month`, `date_year`). A form without the boxes (one from before them)
/// sends a single `date`, ISO 8601 or day/month/year, which is still read; its errors stay on
/// `date`.
#[derive(Debug, Default)]
struct SessionDate {
    day: String,
    month: String,
    year: String,
    /// Whether the boxes were sent (otherwise the single `date` was read).
    boxes: bool,
}

impl SessionDate {
    fn from_form(data: &FormData) -> SessionDate {
        if ["date_day", "date_month", "date_year"]
            .iter()
            .any(|k| data.has(k))
        {
            return SessionDate {
                day: data.get("date_day"),
                month: data.get("date_month"),
                year: data.get("date_year"),
                boxes: true,
            };
        }
        // A single value that is a date is shown again in the boxes.
        match parse_date(&data.get("date")) {
            Some(d) => SessionDate {
                day: d.day().to_string(),
                month: u8::from(d.month()).to_string(),
                year: d.year().to_string(),
                boxes: false,
            },
            None => SessionDate::default(),
        }
    }

    /// Checks the booking form with this date. A problem with the boxes is put on the box
    /// concerned, next to the other fields' errors.
    fn validate(&self, f: &BookingForm) -> Result<Booking, ValidationErrors> {
        if !self.boxes {
            return match parse_date(&f.date) {
                Some(d) => BookingForm {
                    date: iso_date(d),
                    ..f.clone()
                }
                .validate(),
                None => f.validate(),
            };
        }
        match parse_date_parts(&self.day, &self.month, &self.year) {
            Ok(d) => BookingForm {
                date: iso_date(d),
                ..f.clone()
            }
            .validate(),
            Err(p) => {
                let mut e = ValidationErrors::default();
                e.add(
                    &p.part().field("date"),
                    p.message("The date of the session"),
                );
                let without_date = BookingForm {
                    date: String::new(),
                    ..f.clone()
                };
                if let Err(rest) = without_date.validate() {
                    e.0.extend(rest.0.into_iter().filter(|x| x.field != "date"));
                }
                Err(e)
            }
        }
    }

    /// Errors about the date as a whole (in the past, the episode ended) belong to the day box
    /// when the boxes were sent.
    fn on_boxes(&self, mut e: ValidationErrors) -> ValidationErrors {
        if self.boxes {
            on_day_box(&mut e);
        }
        e
    }
}

/// Moves errors on `date` to its day box.
fn on_day_box(e: &mut ValidationErrors) {
    for x in e.0.iter_mut().filter(|x| x.field == "date") {
        x.field = "date_day".into();
    }
}

fn book_page(
    user: &CurrentUser,
    ep: &EpisodeView,
    f: &BookingForm,
    date: &SessionDate,
    e: &ValidationErrors,
) -> Markup {
    let title = format!("Book a session with {}", ep.person_name);
    // An error on a date sent as one value is shown at the day box; the summary links to the
    // group around the boxes.
    let mut shown = e.clone();
    if shown.for_field("date_day").is_none() {
        on_day_box(&mut shown);
    }
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
                div id="date" { (layout::date_input("date", "Date", "For example, 14 3 2027", &date.day, &date.month, &date.year, &shown)) }
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

pub async fn book_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(eid): Id<EpisodeId>,
) -> AppResult<Response> {
    let ep = state
        .store
        .episode(&user.actor, eid, source.clone())
        .await?;
    manage_allowed(&state, &user, &ep, AuditAction::SessionBooked, &source).await?;
    let f = BookingForm {
        minutes: "60".into(),
        ..Default::default()
    };
    Ok(ok(book_page(
        &user,
        &ep,
        &f,
        &SessionDate::default(),
        &ValidationErrors::default(),
    )))
}

pub async fn book(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(eid): Id<EpisodeId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let f = booking_form(&data);
    let date = SessionDate::from_form(&data);
    let parsed = match repeated(&data, &BOOKING_FIELDS) {
        Some(e) => Err(e),
        None => date.validate(&f),
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
            Err(e) => date.on_boxes(e),
        },
        Err(e) => e,
    };
    let ep = state
        .store
        .episode(&user.actor, eid, source.clone())
        .await?;
    manage_allowed(&state, &user, &ep, AuditAction::SessionBooked, &source).await?;
    Ok(invalid(book_page(&user, &ep, &f, &date, &e)))
}

pub async fn session(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(sid): Id<SessionId>,
) -> AppResult<Response> {
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
    Id(sid): Id<SessionId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
