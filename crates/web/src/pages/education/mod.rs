//! Self-management education: the programme catalogue (find, view, add, change), course runs
//! and enrolment (`runs`), online self-paced content (`online`), a person's courses
//! (`mine`) and the education report (`report`).

pub mod changes;
pub mod mine;
pub mod online;
pub mod report;
pub mod runs;

use super::{invalid, ok, see_other};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::{may as gate, CsrfForm, Id, Require};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::conditions::{self, CONDITIONS};
use alongside_core::education::{self, DeliveryMode, ProgrammeDetails, ProgrammeForm};
use alongside_core::ids::{ProgrammeId, RunId};
use alongside_core::person::{language_label, LANGUAGES};
use alongside_core::validation::ValidationErrors;
use alongside_core::Role;
use alongside_store::education::{Programme, Run};
use alongside_store::StoreError;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

pub(crate) fn programme_id(s: &str) -> AppResult<ProgrammeId> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub(crate) fn run_id(s: &str) -> AppResult<RunId> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub(crate) fn may(user: &CurrentUser, action: Action) -> bool {
    user.require(action).is_ok()
}

/// Refuses a form sent with any of these fields more than once.
pub(crate) fn refuse_repeats(d: &FormData, fields: &[&str]) -> Result<(), ValidationErrors> {
    d.repeated_errors(fields).into_result(())
}

pub(crate) fn condition_label(key: &str) -> &str {
    conditions::by_key(key).map(|c| c.label).unwrap_or(key)
}

pub(crate) fn conditions_text(keys: &[String]) -> String {
    keys.iter()
        .map(|k| condition_label(k))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn languages_text(codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| language_label(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where and when a run is, in a line.
pub(crate) fn run_line(r: &Run) -> Markup {
    html! {
        @if let Some(s) = r.sessions.first() {
            (education::describe_session(s.starts_at, s.ends_at))
            @if r.sessions.len() > 1 { " (first of " (r.sessions.len()) ", weekly)" }
        }
    }
}

pub(crate) fn places(r: &Run) -> Markup {
    html! {
        @if r.free() > 0 {
            strong.tag.tag--green { (r.free()) " of " (r.capacity) " places free" }
        } @else {
            strong.tag.tag--grey { "Full" }
            " " (r.waiting) " on the waiting list"
        }
    }
}

/// A run's venue and joining details, when it has them.
pub(crate) fn where_line(r: &Run) -> String {
    match (&r.venue, &r.joining) {
        (Some(v), Some(_)) => format!("{v}, or online"),
        (Some(v), None) => v.clone(),
        (None, Some(_)) => "Online".into(),
        (None, None) => String::new(),
    }
}

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// GET /courses: find a course by condition, delivery mode, language, day and time, and place.
pub async fn catalogue(
    State(state): State<AppState>,
    user: Require<gate::BrowseCourses>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let f = FormData::parse(q.unwrap_or_default().as_bytes());
    let condition = f.get("condition");
    let mode = f.get("mode");
    let language = f.get("language");
    let day = f.get("day");
    let time_of_day = f.get("time");
    let place: String = f.get("place").trim().chars().take(100).collect();
    let org = user.actor.org_id;
    let programmes = state.store.programmes(org).await?;
    let runs = state.store.runs(org, None).await?;
    let filtering_runs = !day.is_empty() || !time_of_day.is_empty() || !place.is_empty();
    let run_matches = |r: &Run| {
        let Some(first) = r.sessions.first() else {
            return false;
        };
        let (d, h, _) = education::london_parts(first.starts_at);
        let day_ok = day.is_empty() || d.weekday().to_string() == day;
        let time_ok = match time_of_day.as_str() {
            "morning" => h < 12,
            "afternoon" => (12..17).contains(&h),
            "evening" => h >= 17,
            _ => true,
        };
        let place_ok =
            place.is_empty() || where_line(r).to_lowercase().contains(&place.to_lowercase());
        day_ok && time_ok && place_ok
    };
    let shown: Vec<(&Programme, Vec<&Run>)> = programmes
        .iter()
        .filter(|p| condition.is_empty() || p.details.conditions.contains(&condition))
        .filter(|p| mode.is_empty() || p.details.mode.code() == mode)
        .filter(|p| language.is_empty() || p.details.languages.contains(&language))
        .filter_map(|p| {
            let rs: Vec<&Run> = runs
                .iter()
                .filter(|r| r.programme_id == p.id && run_matches(r))
                .collect();
            // Filtering by day, time or place keeps programmes with a matching run; online
            // programmes have no runs and match any day, time and place ("online" matches a
            // place search for online).
            let online = p.details.mode == DeliveryMode::Online;
            let keep = !filtering_runs
                || !rs.is_empty()
                || (online
                    && day.is_empty()
                    && time_of_day.is_empty()
                    && (place.is_empty() || "online".contains(&place.to_lowercase())));
            keep.then_some((p, rs))
        })
        .collect();
    let mut cond_opts: Vec<(&str, &str)> = vec![("", "Any condition")];
    cond_opts.extend(CONDITIONS.iter().map(|c| (c.key, c.label)));
    let mut mode_opts: Vec<(&str, &str)> = vec![("", "Any way")];
    mode_opts.extend(DeliveryMode::ALL.iter().map(|m| (m.code(), m.label())));
    let mut lang_opts: Vec<(&str, &str)> = vec![("", "Any language")];
    lang_opts.extend(LANGUAGES.iter().copied());
    let mut day_opts: Vec<(&str, &str)> = vec![("", "Any day")];
    day_opts.extend(DAYS.iter().map(|d| (*d, *d)));
    let time_opts = [
        ("", "Any time"),
        ("morning", "Morning (before 12:00)"),
        ("afternoon", "Afternoon (12:00 to 17:00)"),
        ("evening", "Evening (from 17:00)"),
    ];
    let none = ValidationErrors::default();
    let manage = may(&user, Action::ManageCourses);
    Ok(ok(layout::page(
        Some(&user),
        "Courses",
        html! {
            h1 { "Courses" }
            p.lede { "Self-management education: courses and online programmes that build the knowledge, skills and confidence to manage a long-term condition." }
            @if manage { p { a.button href="/courses/new" { "Add a programme" } } }
            @if user.actor.role == Role::Person { p { a href="/my/courses" { "Your courses" } } }
            form.filter-form method="get" action="/courses" {
                (layout::select("condition", "Condition", &cond_opts, &condition, &none))
                (layout::select("mode", "How it is delivered", &mode_opts, &mode, &none))
                (layout::select("language", "Language", &lang_opts, &language, &none))
                (layout::select("day", "Day", &day_opts, &day, &none))
                (layout::select("time", "Time of day", &time_opts, &time_of_day, &none))
                (layout::text_input("place", "Place", &place, &none, Input { hint: Some("Part of the venue name or address, or “online”"), width: Some("input--width-20"), ..Default::default() }))
                button.button.button--secondary type="submit" { "Find courses" }
            }
            p { (shown.len()) @if shown.len() == 1 { " programme" } @else { " programmes" } }
            @if shown.is_empty() {
                p { "No courses match. Try fewer filters." }
            }
            @for (p, rs) in &shown {
                div.card {
                    h2 { a href={ "/courses/" (p.id) } { (p.details.title) } }
                    p { (p.details.summary) }
                    dl.summary-list {
                        (layout::row("For", html! { (conditions_text(&p.details.conditions)) }))
                        (layout::row("How", html! { (p.details.mode.label()) }))
                        (layout::row("Languages", html! { (languages_text(&p.details.languages)) }))
                    }
                    @if !rs.is_empty() {
                        ul {
                            @for r in rs {
                                li { a href={ "/course-runs/" (r.id) } { (r.label) } ": " (run_line(r)) ", " (where_line(r)) " " (places(r)) }
                            }
                        }
                    }
                }
            }
        },
    )))
}

fn programme_form_from(d: &FormData) -> ProgrammeForm {
    ProgrammeForm {
        title: d.get("title"),
        summary: d.get("summary"),
        provider: d.get("provider"),
        mode: d.get("mode"),
        sessions: d.get("sessions"),
        session_minutes: d.get("session_minutes"),
        completion_min: d.get("completion_min"),
        audience: d.get("audience"),
        topics: d.get("topics"),
        languages: d.all("languages"),
        accessibility: d.get("accessibility"),
        conditions: d.all("conditions"),
    }
}

const PROGRAMME_FIELDS: &[&str] = &[
    "title",
    "summary",
    "provider",
    "mode",
    "sessions",
    "session_minutes",
    "completion_min",
    "audience",
    "topics",
    "accessibility",
    "version",
];

fn programme_page(
    user: &CurrentUser,
    title: &str,
    action: &str,
    version: Option<i64>,
    f: &ProgrammeForm,
    e: &ValidationErrors,
) -> Markup {
    let conds: Vec<(&str, &str)> = CONDITIONS.iter().map(|c| (c.key, c.label)).collect();
    let modes: Vec<(&str, &str)> = DeliveryMode::ALL
        .iter()
        .map(|m| (m.code(), m.label()))
        .collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            h1 { (title) }
            form method="post" action=(action) novalidate {
                (layout::csrf(&user.csrf))
                @if let Some(v) = version { input type="hidden" name="version" value=(v); }
                (layout::text_input("title", "Title", &f.title, e, Input { width: Some("input--width-30"), ..Default::default() }))
                (layout::textarea("summary", "Short description", Some("One or two sentences people see in the list"), &f.summary, e))
                (layout::text_input("provider", "Provider", &f.provider, e, Input { hint: Some("Who runs it, for example the PCN's education team or a charity"), width: Some("input--width-30"), ..Default::default() }))
                (layout::checkboxes("conditions", "Conditions it is for", None, &conds, &f.conditions, e))
                (layout::textarea("topics", "Topics", Some("One topic a line, for example: the condition and its physical and emotional impact"), &f.topics, e))
                (layout::radios("mode", "How it is delivered", &modes, &f.mode, e))
                (layout::text_input("sessions", "Number of sessions (or modules, online)", &f.sessions, e, Input { width: Some("input--width-4"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::text_input("session_minutes", "Length of each session in minutes", &f.session_minutes, e, Input { width: Some("input--width-4"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::text_input("completion_min", "Sessions to attend to complete", &f.completion_min, e, Input { hint: Some("For example 4 if attending 4 of 6 sessions counts as completing. Online programmes are complete when every page is done: leave blank."), width: Some("input--width-4"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::textarea("audience", "Who it is for", None, &f.audience, e))
                (layout::checkboxes("languages", "Languages it is offered in", None, LANGUAGES, &f.languages, e))
                (layout::textarea("accessibility", "Accessibility (optional)", Some("For example step-free access, hearing loop, large-print materials"), &f.accessibility, e))
                button.button type="submit" { "Save programme" }
            }
        },
    )
}

/// GET /courses/new
pub async fn new_form(user: Require<gate::ManageCourses>) -> AppResult<Response> {
    Ok(ok(programme_page(
        &user,
        "Add a programme",
        "/courses",
        None,
        &ProgrammeForm::default(),
        &ValidationErrors::default(),
    )))
}

/// POST /courses
pub async fn create(
    State(state): State<AppState>,
    user: Require<gate::ManageCourses>,
    crate::auth::ClientSource(source): crate::auth::ClientSource,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let f = programme_form_from(&d);
    let parsed = refuse_repeats(&d, PROGRAMME_FIELDS).and_then(|_| ProgrammeDetails::parse(&f));
    match parsed {
        Err(e) => Ok(invalid(programme_page(
            &user,
            "Add a programme",
            "/courses",
            None,
            &f,
            &e,
        ))),
        Ok(details) => {
            let id = state
                .store
                .create_programme(&user.actor, details, source)
                .await?;
            Ok(see_other(&format!("/courses/{id}?saved=1")))
        }
    }
}

/// GET /courses/{id}/edit
pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Id(id): Id<ProgrammeId>,
) -> AppResult<Response> {
    let p = state.store.programme(user.actor.org_id, id).await?;
    user.require(Action::ManageCourses)?;
    Ok(ok(programme_page(
        &user,
        "Change programme",
        &format!("/courses/{}/edit", p.id),
        Some(p.version),
        &p.details.to_form(),
        &ValidationErrors::default(),
    )))
}

/// POST /courses/{id}/edit
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::auth::ClientSource(source): crate::auth::ClientSource,
    Id(id): Id<ProgrammeId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let p = state.store.programme(user.actor.org_id, id).await?;
    user.require(Action::ManageCourses)?;
    let f = programme_form_from(&d);
    let action = format!("/courses/{}/edit", p.id);
    let version: i64 = d.get("version").parse().map_err(|_| {
        AppError::BadRequest(
            "The form is missing its version: reload the page and try again.".into(),
        )
    })?;
    let parsed = refuse_repeats(&d, PROGRAMME_FIELDS).and_then(|_| ProgrammeDetails::parse(&f));
    match parsed {
        Err(e) => Ok(invalid(programme_page(
            &user,
            "Change programme",
            &action,
            Some(version),
            &f,
            &e,
        ))),
        Ok(details) => match state
            .store
            .update_programme(&user.actor, p.id, version, details, source)
            .await
        {
            Ok(()) => Ok(see_other(&format!("/courses/{}?saved=1", p.id))),
            Err(StoreError::Conflict(m)) => {
                let mut e = ValidationErrors::default();
                e.add("sessions", m);
                Ok(invalid(programme_page(
                    &user,
                    "Change programme",
                    &action,
                    Some(version),
                    &f,
                    &e,
                )))
            }
            Err(other) => Err(other.into()),
        },
    }
}

/// GET /courses/{id}: a programme, its runs (or its pages, online) and what the viewer can do.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    crate::auth::ClientSource(source): crate::auth::ClientSource,
    Id(id): Id<ProgrammeId>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let p = state.store.programme(user.actor.org_id, id).await?;
    user.require(Action::BrowseCourses)?;
    let saved = q.as_deref().is_some_and(|q| q.contains("saved=1"));
    let manage = may(&user, Action::ManageCourses);
    let roster = may(&user, Action::ReadCourseRoster);
    let d = &p.details;
    let online = d.mode == DeliveryMode::Online;
    let runs = state.store.runs(user.actor.org_id, Some(p.id)).await?;
    let pages = if online {
        state.store.pages(user.actor.org_id, p.id).await?
    } else {
        Vec::new()
    };
    let done = state.store.my_progress(&user.actor, p.id, source).await?;
    Ok(ok(layout::page(
        Some(&user),
        &d.title,
        html! {
            @if saved { (layout::success_banner("Programme saved")) }
            span.caption { "Course" }
            h1 { (d.title) }
            p.lede { (d.summary) }
            dl.summary-list {
                (layout::row("Conditions", html! { (conditions_text(&d.conditions)) }))
                (layout::row("Provider", html! { (d.provider) }))
                (layout::row("How it is delivered", html! { (d.mode.label()) }))
                @if online {
                    (layout::row("Length", html! { (d.sessions) " modules, about " (d.session_minutes) " minutes each" }))
                    (layout::row("Completing it", html! { "every page done" }))
                } @else {
                    (layout::row("Sessions", html! { (d.sessions) " sessions of " (d.session_minutes) " minutes" }))
                    (layout::row("Completing it", html! { (d.completion().describe()) }))
                }
                (layout::row("Who it is for", html! { (d.audience) }))
                (layout::row("Languages", html! { (languages_text(&d.languages)) }))
                (layout::row("Accessibility", layout::or_not_recorded(d.accessibility.as_deref())))
            }
            h2 { "What it covers" }
            ul { @for t in &d.topics { li { (t) } } }
            @if manage {
                p {
                    a href={ "/courses/" (p.id) "/edit" } { "Change programme" }
                    @if online { " · " a href={ "/courses/" (p.id) "/pages/new" } { "Add a page" } }
                    @else { " · " a href={ "/courses/" (p.id) "/runs/new" } { "Add a course run" } }
                }
            }
            @if online {
                h2 { "Pages" }
                @if pages.is_empty() { p { "There are no pages yet." } }
                @else {
                    @if user.actor.person_id.is_some() {
                        p { "You have done " (done.len()) " of " (pages.len()) " pages." }
                    }
                    ol {
                        @for g in &pages {
                            li {
                                a href={ "/courses/" (p.id) "/pages/" (g.position) } { (g.content.module_title) ": " (g.content.title) }
                                @if done.contains(&g.id) { " " strong.tag.tag--green { "Done" } }
                            }
                        }
                    }
                }
                @if roster { p { a href={ "/courses/" (p.id) "/learners" } { "Who has started it, and their progress" } } }
            } @else {
                h2 { "Course runs" }
                @if runs.is_empty() { p { "There are no runs of this course planned yet." } }
                @for r in &runs {
                    div.card {
                        h3 { a href={ "/course-runs/" (r.id) } { (r.label) } }
                        p { (run_line(r)) }
                        p { (where_line(r)) }
                        p { (places(r)) }
                    }
                }
            }
        },
    )))
}
