//! Course runs: adding one, its page (places, sessions; for staff the register and the
//! waiting list), a person enrolling or withdrawing themselves, taking the register, and
//! feedback.

use super::{may, refuse_repeats, run_id, run_line, where_line, DeliveryMode};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::pages::date_entry::{date_input, place_errors, DateBoxes, DateEntry};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::education::{self, Feedback, RunDetails, RunForm};
use alongside_core::ids::{ProgrammeId, RunId};
use alongside_core::validation::{FieldError, ValidationErrors};
use alongside_core::{PersonId, Role};
use alongside_store::education::{EnrolOutcome, Programme, Run};
use alongside_store::StoreError;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

pub(super) const RUN_FIELDS: &[&str] = &[
    "label",
    "first_date",
    "first_date_day",
    "first_date_month",
    "first_date_year",
    "start_time",
    "end_time",
    "venue",
    "joining",
    "capacity",
];

/// A run's form as sent: the date of the first session from the date input's boxes (or the
/// single box of older forms), and the problem with the boxes when they make no date.
pub(super) struct RunInput {
    pub form: RunForm,
    pub first: DateEntry,
    problem: Option<FieldError>,
}

impl RunInput {
    pub fn read(d: &FormData) -> RunInput {
        let first = DateEntry::from_form(d, "first_date");
        let (first_date, problem) = match first.text("first_date", "Date of the first session") {
            Ok(t) => (t, None),
            // The rules then say "Enter the date…" on first_date, which the problem replaces.
            Err(p) => (String::new(), Some(p)),
        };
        RunInput {
            form: RunForm {
                label: d.get("label"),
                first_date,
                start_time: d.get("start_time"),
                end_time: d.get("end_time"),
                venue: d.get("venue"),
                joining: d.get("joining"),
                capacity: d.get("capacity"),
                facilitators: d.all("facilitators"),
            },
            first,
            problem,
        }
    }

    /// The run's rules (`RunDetails::parse`), a field sent twice refused, errors about the
    /// first date on the box they concern.
    pub fn parse(
        &self,
        d: &FormData,
        mode: DeliveryMode,
        sessions: u32,
    ) -> Result<RunDetails, ValidationErrors> {
        refuse_repeats(d, RUN_FIELDS)
            .and_then(|_| RunDetails::parse(&self.form, mode, sessions))
            .map_err(|mut e| {
                place_errors(&mut e, "first_date", &self.first, self.problem.clone());
                e
            })
    }
}

/// The fields of a run's form (adding one, or changing it: see changes.rs); the date of the
/// first session is a date input showing `first`.
pub(super) fn run_fields(
    staff: &[(String, String)],
    f: &RunForm,
    first: &DateBoxes,
    e: &ValidationErrors,
) -> Markup {
    let opts: Vec<(&str, &str)> = staff
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    html! {
        (layout::text_input("label", "Name of this run", &f.label, e, Input { hint: Some("For example: Spring 2027, Tuesday mornings"), width: Some("input--width-30"), ..Default::default() }))
        (date_input("first_date", "Date of the first session", "For example, 12 1 2027", first, e))
        (layout::text_input("start_time", "Start time", &f.start_time, e, Input { hint: Some("24-hour clock, for example 10:00"), width: Some("input--width-5"), ..Default::default() }))
        (layout::text_input("end_time", "End time", &f.end_time, e, Input { hint: Some("For example 12:00"), width: Some("input--width-5"), ..Default::default() }))
        (layout::textarea("venue", "Venue", Some("Name and address. Leave blank if it is only online."), &f.venue, e))
        (layout::textarea("joining", "Online joining details", Some("Shown only to people with a place, and staff"), &f.joining, e))
        (layout::text_input("capacity", "Number of places", &f.capacity, e, Input { width: Some("input--width-4"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::checkboxes("facilitators", "Facilitators", None, &opts, &f.facilitators, e))
    }
}

fn run_page(
    user: &CurrentUser,
    p: &Programme,
    staff: &[(String, String)],
    f: &RunForm,
    first: &DateBoxes,
    e: &ValidationErrors,
) -> Markup {
    let title = "Add a course run";
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            span.caption { (p.details.title) }
            h1 { (title) }
            p { "The course has " (p.details.sessions) " sessions of " (p.details.session_minutes) " minutes. They are set weekly from the first date, at the same time each week (UK time)." }
            form method="post" action={ "/courses/" (p.id) "/runs" } novalidate {
                (layout::csrf(&user.csrf))
                (run_fields(staff, f, first, e))
                button.button type="submit" { "Add course run" }
            }
        },
    )
}

pub(super) async fn staff_options(
    state: &AppState,
    user: &CurrentUser,
) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .users(user.actor.org_id)
        .await?
        .into_iter()
        .filter(|u| u.active && u.role != Role::Person)
        .map(|u| {
            (
                u.id.to_string(),
                format!("{} ({})", u.display_name, u.role.label()),
            )
        })
        .collect())
}

async fn session_programme(
    state: &AppState,
    user: &CurrentUser,
    id: ProgrammeId,
) -> AppResult<Programme> {
    let p = state.store.programme(user.actor.org_id, id).await?;
    user.require(Action::ManageCourses)?;
    if p.details.mode == DeliveryMode::Online {
        return Err(AppError::BadRequest(
            "Online self-paced programmes have no course runs: people start them when they like. Add pages instead.".into(),
        ));
    }
    Ok(p)
}

/// GET /courses/{id}/runs/new
pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Id(id): Id<ProgrammeId>,
) -> AppResult<Response> {
    let p = session_programme(&state, &user, id).await?;
    let staff = staff_options(&state, &user).await?;
    let f = RunForm {
        capacity: if p.details.mode == DeliveryMode::OneToOne {
            "1".into()
        } else {
            String::new()
        },
        ..Default::default()
    };
    Ok(ok(run_page(
        &user,
        &p,
        &staff,
        &f,
        &DateBoxes::default(),
        &ValidationErrors::default(),
    )))
}

/// POST /courses/{id}/runs
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<ProgrammeId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let p = session_programme(&state, &user, id).await?;
    let staff = staff_options(&state, &user).await?;
    let input = RunInput::read(&d);
    let mut parsed = input.parse(&d, p.details.mode, p.details.sessions);
    if let Ok(r) = &parsed {
        if r.facilitators
            .iter()
            .any(|f| !staff.iter().any(|(id, _)| id == f))
        {
            let mut e = ValidationErrors::default();
            e.add("facilitators", "Select facilitators from the list of staff");
            parsed = Err(e);
        }
    }
    match parsed {
        Err(e) => Ok(invalid(run_page(
            &user,
            &p,
            &staff,
            &input.form,
            &input.first.boxes(),
            &e,
        ))),
        Ok(details) => {
            let rid = state
                .store
                .create_run(&user.actor, p.id, details, source)
                .await?;
            Ok(see_other(&format!("/course-runs/{rid}?saved=1")))
        }
    }
}

pub(super) async fn load_run(
    state: &AppState,
    user: &CurrentUser,
    id: RunId,
) -> AppResult<(Run, Programme)> {
    let run = state.store.run(user.actor.org_id, id).await?;
    let p = state
        .store
        .programme(user.actor.org_id, run.programme_id)
        .await?;
    Ok((run, p))
}

fn banner(q: &Option<String>) -> Option<&'static str> {
    let q = q.as_deref().unwrap_or("");
    [
        ("saved=1", "Course run saved"),
        ("enrolled=1", "You have a place on this course"),
        ("waiting=1", "The course is full: you are on the waiting list, and we will tell you here if a place comes free"),
        ("withdrawn=1", "You have withdrawn from this course"),
        ("register=1", "Register saved"),
        ("feedback=1", "Thank you for your feedback"),
        ("already=1", "You are already on this course or its waiting list"),
        ("changed=1", "Course run changed. Anyone moved from the waiting list into a new place has been told"),
        ("cancelled=1", "Course run cancelled. Everyone who had a place or was waiting has been told"),
        ("moved=1", "Session moved. Everyone with a place has been told"),
    ]
    .into_iter()
    .find(|(k, _)| q.split('&').any(|p| p == *k))
    .map(|(_, m)| m)
}

/// GET /course-runs/{id}
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let (run, p) = load_run(&state, &user, id).await?;
    user.require(Action::BrowseCourses)?;
    let roster = if may(&user, Action::ReadCourseRoster) {
        Some(
            state
                .store
                .roster(&user.actor, run.id, source.clone())
                .await?,
        )
    } else {
        None
    };
    let mine = match user.actor.person_id {
        Some(pid) if user.actor.role == Role::Person => state
            .store
            .person_courses(&user.actor, pid, source.clone())
            .await?
            .enrolments
            .into_iter()
            .find(|e| e.run.id == run.id),
        _ => None,
    };
    let active_mine = mine
        .as_ref()
        .filter(|m| m.status == "enrolled" || m.status == "waiting");
    let has_place = mine.as_ref().is_some_and(|m| m.status == "enrolled");
    let feedback = if roster.is_some() {
        Some(
            state
                .store
                .feedback_summary(&user.actor, run.id, source.clone())
                .await?,
        )
    } else {
        None
    };
    let rule = p.details.completion();
    let now = state.store.now();
    Ok(ok(layout::page(
        Some(&user),
        &run.label,
        html! {
            @if let Some(m) = banner(&q) { (layout::success_banner(m)) }
            span.caption { a href={ "/courses/" (p.id) } { (p.details.title) } }
            h1 { (run.label) }
            @if let Some(why) = &run.cancelled {
                div.warning-callout role="status" { p { strong { "This course run has been cancelled." } @if !why.is_empty() { " " (why) } } }
            }
            @if may(&user, Action::ManageCourses) && run.cancelled.is_none() {
                p { a href={ "/course-runs/" (run.id) "/edit" } { "Change, move a session or cancel this run" } }
            }
            dl.summary-list {
                (layout::row("When", run_line(&run)))
                (layout::row("Where", html! { (where_line(&run)) }))
                @if roster.is_some() || has_place {
                    @if let Some(j) = &run.joining { (layout::row("Joining online", html! { (j) })) }
                }
                (layout::row("Facilitators", html! { (run.facilitators.iter().map(|f| f.1.as_str()).collect::<Vec<_>>().join(", ")) }))
                (layout::row("Places", super::places(&run)))
                (layout::row("Completing it", html! { (rule.describe()) }))
            }
            h2 { "Sessions" }
            ol {
                @for (i, s) in run.sessions.iter().enumerate() {
                    li {
                        (education::describe_session(s.starts_at, s.ends_at))
                        @if let Some(r) = &roster {
                            " · " a href={ "/course-runs/" (run.id) "/sessions/" (i + 1) } {
                                @if r.registers_taken.contains(&(i as i64 + 1)) { "Change register" } @else { "Take register" }
                                span.visually-hidden { " for session " (i + 1) }
                            }
                        }
                        @if let Some(m) = &mine { @if m.attended.contains(&(i as i64 + 1)) { " " strong.tag.tag--green { "Attended" } } }
                    }
                }
            }
            @if user.actor.role == Role::Person {
                h2 { "Your place" }
                @if let Some(m) = active_mine {
                    @if m.status == "enrolled" {
                        p { "You have a place. You have attended " (m.attended.len()) " of " (run.sessions.len()) " sessions"
                            @if m.completed() { " and completed the course" } "." }
                        @if !m.attended.is_empty() { p { a href={ "/course-runs/" (run.id) "/feedback" } { @if m.feedback_given { "Change your feedback" } @else { "Tell us how the course went" } } } }
                    } @else {
                        p { "You are number " (m.position.unwrap_or(0)) " on the waiting list." }
                    }
                    form method="post" action={ "/course-runs/" (run.id) "/withdraw" } {
                        (layout::csrf(&user.csrf))
                        button.button.button--secondary type="submit" { @if m.status == "enrolled" { "Give up my place" } @else { "Leave the waiting list" } }
                    }
                } @else if run.cancelled.is_some() {
                    p { "This course run has been cancelled." }
                } @else if run.sessions.last().is_some_and(|s| s.ends_at < now) {
                    p { "This course run has finished." }
                } @else {
                    form method="post" action={ "/course-runs/" (run.id) "/enrol" } {
                        (layout::csrf(&user.csrf))
                        button.button type="submit" { @if run.free() > 0 { "Book a place" } @else { "Join the waiting list" } }
                    }
                }
            }
            @if matches!(user.actor.role, Role::Coordinator | Role::HealthCoach) {
                p.hint { "To enrol someone by referral, open their record and choose “Courses”." }
            }
            @if let Some(r) = &roster {
                h2 { "People with a place (" (r.enrolled.len()) " of " (run.capacity) ")" }
                @if r.enrolled.is_empty() { p { "Nobody yet." } } @else {
                    div.table-wrapper { table.responsive {
                        caption.visually-hidden { "People with a place" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "How" } th scope="col" { "Attended" } th scope="col" { "Completed" } } }
                        tbody { @for x in &r.enrolled { tr {
                            td data-label="Name" { a href={ "/people/" (x.person_id) "/courses" } { (x.given_name) " " (x.family_name) } }
                            td data-label="How" { @if x.route == "self" { "Booked themselves" } @else { "Referred" } }
                            td data-label="Attended" { (x.attended.len()) " of " (run.sessions.len()) }
                            td data-label="Completed" { @if rule.completed(x.attended.len() as u32) { "Yes" } @else { "Not yet" } }
                        } } }
                    } }
                }
                h2 { "Waiting list (" (r.waiting.len()) ")" }
                @if r.waiting.is_empty() { p { "Nobody is waiting." } } @else {
                    ol { @for x in &r.waiting { li { a href={ "/people/" (x.person_id) "/courses" } { (x.given_name) " " (x.family_name) } } } }
                    p.hint { "When someone gives up a place, the first person waiting gets it at once and is told on their courses page." }
                }
            }
            @if let Some(fb) = &feedback {
                h2 { "Feedback" }
                @if fb.responses() == 0 { p { "No feedback yet." } } @else {
                    p { (fb.responses()) " responses; average rating " (format!("{:.1}", fb.mean().unwrap_or(0.0))) " out of 5." }
                    table {
                        caption { "Ratings" }
                        thead { tr { th scope="col" { "Rating" } th scope="col" { "Responses" } } }
                        tbody { @for (i, n) in fb.ratings.iter().enumerate() { tr { td { (i + 1) } td { (n) } } } }
                    }
                    @if !fb.helped.is_empty() { h3 { "What helped" } ul { @for t in &fb.helped { li { (t) } } } }
                    @if !fb.better.is_empty() { h3 { "What could be better" } ul { @for t in &fb.better { li { (t) } } } }
                }
            }
        },
    )))
}

/// The person's own account, or a refusal for anyone else.
fn own_person(user: &CurrentUser) -> AppResult<PersonId> {
    match (user.actor.role, user.actor.person_id) {
        (Role::Person, Some(p)) => Ok(p),
        _ => Err(AppError::Forbidden(
            "only the person themselves books this way; staff enrol people from their record",
        )),
    }
}

/// POST /course-runs/{id}/enrol: the person books a place (or joins the waiting list).
pub async fn enrol_self(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    _: CsrfForm,
) -> AppResult<Response> {
    let (run, _) = load_run(&state, &user, id).await?;
    let pid = own_person(&user)?;
    let out = state.store.enrol(&user.actor, run.id, pid, source).await?;
    let flag = match out {
        EnrolOutcome::Enrolled => "enrolled=1",
        EnrolOutcome::Waiting(_) => "waiting=1",
        _ => "already=1",
    };
    Ok(see_other(&format!("/course-runs/{}?{flag}", run.id)))
}

/// POST /course-runs/{id}/withdraw: the person gives up their place or leaves the list.
pub async fn withdraw_self(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    _: CsrfForm,
) -> AppResult<Response> {
    let (run, _) = load_run(&state, &user, id).await?;
    let pid = own_person(&user)?;
    state
        .store
        .withdraw(&user.actor, run.id, pid, source)
        .await?;
    Ok(see_other(&format!("/course-runs/{}?withdrawn=1", run.id)))
}

fn session_number(run: &Run, n: &str) -> AppResult<i64> {
    match n.parse::<usize>() {
        Ok(n) if n >= 1 && n <= run.sessions.len() => Ok(n as i64),
        _ => Err(AppError::NotFound),
    }
}

fn register_page(
    user: &CurrentUser,
    run: &Run,
    p: &Programme,
    n: i64,
    people: &[(String, String)],
    present: &[String],
    e: &ValidationErrors,
) -> Markup {
    let s = run.sessions[n as usize - 1];
    let title = format!("Register for session {n}");
    let opts: Vec<(&str, &str)> = people
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            span.caption { (p.details.title) ": " (run.label) }
            h1 { (title) }
            p { (education::describe_session(s.starts_at, s.ends_at)) }
            @if people.is_empty() {
                p { "Nobody has a place on this run yet." }
            } @else {
                form method="post" action={ "/course-runs/" (run.id) "/sessions/" (n) } novalidate {
                    (layout::csrf(&user.csrf))
                    input type="hidden" name="taken" value="yes";
                    (layout::checkboxes("present", "Who came", Some("Tick everyone who attended. Everyone else is recorded as absent."), &opts, present, e))
                    button.button type="submit" { "Save register" }
                }
            }
            p { a href={ "/course-runs/" (run.id) } { "Back to the course run" } }
        },
    )
}

/// GET /course-runs/{id}/sessions/{n}
pub async fn register_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
) -> AppResult<Response> {
    let (run, p) = load_run(&state, &user, run_id(&id)?).await?;
    user.require(Action::ReadCourseRoster)?;
    let n = session_number(&run, &n)?;
    let roster = state.store.roster(&user.actor, run.id, source).await?;
    let people: Vec<(String, String)> = roster
        .enrolled
        .iter()
        .map(|x| {
            (
                x.person_id.to_string(),
                format!("{} {}", x.given_name, x.family_name),
            )
        })
        .collect();
    let present: Vec<String> = roster
        .enrolled
        .iter()
        .filter(|x| x.attended.contains(&n))
        .map(|x| x.person_id.to_string())
        .collect();
    Ok(ok(register_page(
        &user,
        &run,
        &p,
        n,
        &people,
        &present,
        &ValidationErrors::default(),
    )))
}

/// POST /course-runs/{id}/sessions/{n}
pub async fn register_save(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let (run, p) = load_run(&state, &user, run_id(&id)?).await?;
    user.require(Action::ReadCourseRoster)?;
    let n = session_number(&run, &n)?;
    let roster = state
        .store
        .roster(&user.actor, run.id, source.clone())
        .await?;
    let people: Vec<(String, String)> = roster
        .enrolled
        .iter()
        .map(|x| {
            (
                x.person_id.to_string(),
                format!("{} {}", x.given_name, x.family_name),
            )
        })
        .collect();
    let submitted = d.all("present");
    let mut e = ValidationErrors::default();
    let mut present = Vec::new();
    for s in &submitted {
        match s.parse::<PersonId>() {
            Ok(pid) if people.iter().any(|(id, _)| *id == pid.to_string()) => present.push(pid),
            _ => {
                e.add("present", "Tick only people who have a place on this run");
                break;
            }
        }
    }
    if d.get("taken") != "yes" {
        e.add("present", "Send the register from the register page");
    }
    if !e.is_empty() {
        return Ok(invalid(register_page(
            &user, &run, &p, n, &people, &submitted, &e,
        )));
    }
    match state
        .store
        .record_attendance(&user.actor, run.id, n, present, source)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/course-runs/{}?register=1", run.id))),
        Err(StoreError::Conflict(m)) => {
            e.add("present", m);
            Ok(invalid(register_page(
                &user, &run, &p, n, &people, &submitted, &e,
            )))
        }
        Err(other) => Err(other.into()),
    }
}

fn feedback_page(
    user: &CurrentUser,
    run: &Run,
    p: &Programme,
    rating: &str,
    helped: &str,
    better: &str,
    e: &ValidationErrors,
) -> Markup {
    let title = "Tell us how the course went";
    let ratings = [
        ("5", "5 – very useful"),
        ("4", "4"),
        ("3", "3"),
        ("2", "2"),
        ("1", "1 – not useful"),
    ];
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            span.caption { (p.details.title) ": " (run.label) }
            h1 { (title) }
            p { "Your answers help us improve the course. Staff see them without your name." }
            form method="post" action={ "/course-runs/" (run.id) "/feedback" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::radios("rating", "How useful was the course?", &ratings, rating, e))
                (layout::textarea("helped", "What helped you most? (optional)", None, helped, e))
                (layout::textarea("better", "What could be better? (optional)", None, better, e))
                button.button type="submit" { "Send feedback" }
            }
        },
    )
}

async fn feedback_run(
    state: &AppState,
    user: &CurrentUser,
    source: alongside_store::people::Source,
    id: RunId,
) -> AppResult<(Run, Programme)> {
    let (run, p) = load_run(state, user, id).await?;
    let pid = match (user.actor.role, user.actor.person_id) {
        (Role::Person, Some(pid)) => pid,
        _ => {
            return Err(AppError::Forbidden(
                "only participants give feedback on a course",
            ))
        }
    };
    let on = state
        .store
        .person_courses(&user.actor, pid, source)
        .await?
        .enrolments
        .iter()
        .any(|e| e.run.id == run.id && e.status == "enrolled");
    if !on {
        return Err(AppError::NotFound);
    }
    Ok((run, p))
}

/// GET /course-runs/{id}/feedback
pub async fn feedback_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
) -> AppResult<Response> {
    let (run, p) = feedback_run(&state, &user, source, id).await?;
    Ok(ok(feedback_page(
        &user,
        &run,
        &p,
        "",
        "",
        "",
        &ValidationErrors::default(),
    )))
}

/// POST /course-runs/{id}/feedback
pub async fn feedback_save(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<RunId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let (run, p) = feedback_run(&state, &user, source.clone(), id).await?;
    let (rating, helped, better) = (d.get("rating"), d.get("helped"), d.get("better"));
    let parsed = refuse_repeats(&d, &["rating", "helped", "better"])
        .and_then(|_| Feedback::parse(&rating, &helped, &better));
    match parsed {
        Err(e) => Ok(invalid(feedback_page(
            &user, &run, &p, &rating, &helped, &better, &e,
        ))),
        Ok(f) => {
            state
                .store
                .give_feedback(&user.actor, run.id, f, source)
                .await?;
            Ok(see_other(&format!("/course-runs/{}?feedback=1", run.id)))
        }
    }
}
