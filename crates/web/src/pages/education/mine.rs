//! A person's courses: "Your courses" for the person themselves, and the same on their record
//! for staff who may see it, where coordinators and coaches enrol them by referral.

use super::{refuse_repeats, run_id, run_line, where_line};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::layout;
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::education;
use alongside_core::validation::ValidationErrors;
use alongside_core::{PersonId, Role};
use alongside_store::education::{EnrolOutcome, PersonCourses, Run};
use alongside_store::people::Source;
use alongside_store::StoreError;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};

fn courses_list(pc: &PersonCourses, own: bool) -> Markup {
    let current: Vec<_> = pc
        .enrolments
        .iter()
        .filter(|e| e.status != "withdrawn")
        .collect();
    let past: Vec<_> = pc
        .enrolments
        .iter()
        .filter(|e| e.status == "withdrawn")
        .collect();
    html! {
        @if current.is_empty() {
            p { @if own { "You are not booked on any courses." } @else { "Not booked on any courses." } }
        }
        @for e in &current {
            div.card {
                h3 { a href={ "/course-runs/" (e.run.id) } { (e.programme_title) ": " (e.run.label) } }
                p { (run_line(&e.run)) ", " (where_line(&e.run)) }
                @if e.status == "enrolled" {
                    p {
                        strong.tag.tag--green { "Place booked" }
                        " Attended " (e.attended.len()) " of " (e.run.sessions.len()) " sessions"
                        @if e.completed() { " · " strong.tag.tag--green { "Completed" } }
                        @if e.route == "referral" { " · referred" }
                    }
                } @else {
                    p { strong.tag.tag--grey { "Waiting list" } " Number " (e.position.unwrap_or(0)) " on the waiting list" }
                }
            }
        }
        @if !past.is_empty() {
            h3 { "Withdrawn" }
            ul { @for e in &past { li { (e.programme_title) ": " (e.run.label) } } }
        }
        @if !pc.online.is_empty() {
            h2 { "Online programmes" }
            ul {
                @for o in &pc.online {
                    li { a href={ "/courses/" (o.programme_id) } { (o.title) } ": " (o.done.len()) " of " (o.pages) " pages done"
                        @if o.pages > 0 && o.done.len() as i64 >= o.pages { " · " strong.tag.tag--green { "Completed" } } }
                }
            }
        }
    }
}

fn notices(pc: &PersonCourses) -> Markup {
    html! {
        @if !pc.notices.is_empty() {
            div.inset-text role="status" {
                h2 { "Messages" }
                ul {
                    @for n in &pc.notices {
                        li { (n.message) " " span.secondary-text { "(" (alongside_core::time::display_date(education::london_parts(n.created_at).0)) ")" } " " a href={ "/course-runs/" (n.run_id) } { "See the course" } }
                    }
                }
            }
        }
    }
}

/// GET /my/courses: the person's own courses, what is coming up and their messages.
pub async fn my_courses(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let pid = match (user.actor.role, user.actor.person_id) {
        (Role::Person, Some(p)) => p,
        _ => {
            return Err(AppError::Forbidden(
                "this page is for a person's own courses",
            ))
        }
    };
    let pc = state
        .store
        .person_courses(&user.actor, pid, source.clone())
        .await?;
    let upcoming = state
        .store
        .upcoming_course_sessions(&user.actor, pid, state.store.now(), 5, source)
        .await?;
    Ok(ok(layout::page(
        Some(&user),
        "Your courses",
        html! {
            h1 { "Your courses" }
            (notices(&pc))
            @if !upcoming.is_empty() {
                h2 { "Coming up" }
                ul { @for (run, title, n, s) in &upcoming {
                    li { a href={ "/course-runs/" (run) } { (title) } ", session " (n) ": " (education::describe_session(s.starts_at, s.ends_at)) }
                } }
            }
            h2 { "Courses you are booked on" }
            (courses_list(&pc, true))
            p { a.button href="/courses" { "Find a course" } }
        },
    )))
}

/// A short message block for a person's home page: their latest course messages.
pub async fn home_notices(state: &AppState, user: &CurrentUser, source: Source) -> Markup {
    let Some(pid) = user.actor.person_id else {
        return html! {};
    };
    match state.store.person_courses(&user.actor, pid, source).await {
        Ok(pc) => html! {
            (notices(&pc))
            div.card { h2 { a href="/my/courses" { "Your courses" } } p { "Courses you are booked on, and finding new ones." } }
        },
        Err(_) => html! {},
    }
}

/// Runs someone could be enrolled on now: of sessioned programmes, not yet finished.
async fn open_runs(state: &AppState, user: &CurrentUser) -> AppResult<Vec<(Run, String)>> {
    let org = user.actor.org_id;
    let titles: std::collections::BTreeMap<_, _> = state
        .store
        .programmes(org)
        .await?
        .into_iter()
        .map(|p| (p.id, p.details.title))
        .collect();
    let now = state.store.now();
    Ok(state
        .store
        .runs(org, None)
        .await?
        .into_iter()
        .filter(|r| r.sessions.last().is_some_and(|s| s.ends_at >= now))
        .map(|r| {
            let t = titles.get(&r.programme_id).cloned().unwrap_or_default();
            (r, t)
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn person_page(
    user: &CurrentUser,
    pid: PersonId,
    pc: &PersonCourses,
    runs: &[(Run, String)],
    may_enrol: bool,
    services: &[(String, String)],
    banner: Option<&str>,
    e: &ValidationErrors,
) -> Markup {
    let name = format!("{} {}", pc.given_name, pc.family_name);
    let opts: Vec<(String, String)> = runs
        .iter()
        .map(|(r, t)| {
            let (d, _, _) = r
                .sessions
                .first()
                .map(|s| education::london_parts(s.starts_at))
                .unwrap_or((time::Date::MIN, 0, 0));
            (
                r.id.to_string(),
                format!(
                    "{t}: {} (starts {}; {})",
                    r.label,
                    alongside_core::time::display_date(d),
                    if r.free() > 0 {
                        format!("{} places free", r.free())
                    } else {
                        "full: waiting list".to_string()
                    }
                ),
            )
        })
        .collect();
    let opt_refs: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let active: Vec<_> = pc
        .enrolments
        .iter()
        .filter(|x| x.status != "withdrawn")
        .collect();
    layout::page(
        Some(user),
        &layout::title_with_errors("Courses", e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { (name) }
            h1 { "Courses" }
            (notices(pc))
            (courses_list(pc, user.actor.person_id == Some(pid)))
            @if may_enrol {
                @if !active.is_empty() {
                    h2 { "Withdraw from a course" }
                    form method="post" action={ "/people/" (pid) "/courses/withdraw" } novalidate {
                        (layout::csrf(&user.csrf))
                        @let wopts: Vec<(String, String)> = active.iter().map(|x| (x.run.id.to_string(), format!("{}: {}", x.programme_title, x.run.label))).collect();
                        @let wrefs: Vec<(&str, &str)> = wopts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                        (layout::radios("withdraw_run", "Which course?", &wrefs, "", e))
                        button.button.button--secondary type="submit" { "Withdraw" }
                    }
                }
                h2 { "Enrol on a course" }
                @if opts.is_empty() { p { "There are no course runs open for enrolment." } } @else {
                    form method="post" action={ "/people/" (pid) "/courses" } novalidate {
                        (layout::csrf(&user.csrf))
                        (layout::radios("run", "Which course run?", &opt_refs, "", e))
                        button.button type="submit" { "Enrol" }
                    }
                    p.hint { "If the run is full they join its waiting list, and are told on their courses page when a place comes free." }
                }
                @if !active.is_empty() && !services.is_empty() {
                    h2 { "Refer on from a course" }
                    p { "For example to stop smoking support, talking therapies or a long-term exercise service. The referral is recorded on their record with the course it came from." }
                    form method="post" action={ "/people/" (pid) "/courses/refer" } novalidate {
                        (layout::csrf(&user.csrf))
                        @let copts: Vec<(String, String)> = active.iter().map(|x| (x.run.id.to_string(), format!("{}: {}", x.programme_title, x.run.label))).collect();
                        @let crefs: Vec<(&str, &str)> = copts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                        (layout::radios("from_run", "Which course is it from?", &crefs, "", e))
                        @let srefs: Vec<(&str, &str)> = services.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                        (layout::radios("service", "Which service?", &srefs, "", e))
                        button.button type="submit" { "Send referral" }
                    }
                }
            }
        },
    )
}

async fn render_person(
    state: &AppState,
    user: &CurrentUser,
    source: Source,
    pid: PersonId,
    banner: Option<&str>,
    e: &ValidationErrors,
) -> AppResult<Markup> {
    let pc = state.store.person_courses(&user.actor, pid, source).await?;
    // Which forms to offer: the store decides on facts it loads (and decides again, audited,
    // when a form is sent).
    let enrol = state
        .store
        .may(&user.actor, Action::EnrolOnCourse, pid)
        .await?;
    let refer = enrol
        && state
            .store
            .may(&user.actor, Action::ManageServiceReferrals, pid)
            .await?;
    let (runs, services) = if refer {
        (
            open_runs(state, user).await?,
            onward_services(state, user).await?,
        )
    } else if enrol {
        (open_runs(state, user).await?, Vec::new())
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(person_page(
        user, pid, &pc, &runs, enrol, &services, banner, e,
    ))
}

/// GET /people/{id}/courses
pub async fn person_courses(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
    RawQuery(q): RawQuery,
) -> AppResult<Response> {
    let q = q.unwrap_or_default();
    let banner = if q.contains("enrolled=1") {
        Some("Enrolled")
    } else if q.contains("waiting=1") {
        Some("The run is full: added to its waiting list")
    } else if q.contains("withdrawn=1") {
        Some("Withdrawn")
    } else if q.contains("referred=1") {
        Some("Referral sent and recorded on their record")
    } else if q.contains("already=1") {
        Some("Already on that course or its waiting list")
    } else {
        None
    };
    Ok(ok(render_person(
        &state,
        &user,
        source,
        pid,
        banner,
        &ValidationErrors::default(),
    )
    .await?))
}

/// POST /people/{id}/courses: enrol by referral (or by the person, from their record).
pub async fn enrol(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let mut e = ValidationErrors::default();
    if let Err(r) = refuse_repeats(&d, &["run"]) {
        e = r;
    }
    let run = match run_id(&d.get("run")) {
        Ok(r) if e.is_empty() => match state.store.run(user.actor.org_id, r).await {
            Ok(run) => Some(run),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        },
        _ => None,
    };
    let Some(run) = run else {
        if e.is_empty() {
            e.add("run", "Select a course run");
        }
        // The store checks access before the page is shown again (refusals audited).
        let page = render_person(&state, &user, source, pid, None, &e).await?;
        return Ok(invalid(page));
    };
    let out = state.store.enrol(&user.actor, run.id, pid, source).await?;
    let flag = match out {
        EnrolOutcome::Enrolled => "enrolled=1",
        EnrolOutcome::Waiting(_) => "waiting=1",
        _ => "already=1",
    };
    Ok(see_other(&format!("/people/{pid}/courses?{flag}")))
}

/// POST /people/{id}/courses/withdraw
pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let mut e = ValidationErrors::default();
    if let Err(r) = refuse_repeats(&d, &["withdraw_run"]) {
        e = r;
    }
    let run = match run_id(&d.get("withdraw_run")) {
        Ok(r) if e.is_empty() => match state.store.run(user.actor.org_id, r).await {
            Ok(run) => Some(run),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        },
        _ => None,
    };
    let Some(run) = run else {
        if e.is_empty() {
            e.add("withdraw_run", "Select the course to withdraw from");
        }
        let page = render_person(&state, &user, source, pid, None, &e).await?;
        return Ok(invalid(page));
    };
    state
        .store
        .withdraw(&user.actor, run.id, pid, source)
        .await?;
    Ok(see_other(&format!("/people/{pid}/courses?withdrawn=1")))
}

/// Directory services a course can refer on to (stop smoking, talking therapies, exercise
/// first; then the rest), as (id, "name (kind)").
async fn onward_services(state: &AppState, user: &CurrentUser) -> AppResult<Vec<(String, String)>> {
    use alongside_core::directory::ServiceKind;
    let mut v = state
        .store
        .search_services(
            &user.actor,
            &alongside_store::directory::ServiceQuery::default(),
        )
        .await?;
    let rank = |k: ServiceKind| match k {
        ServiceKind::SmokingCessation => 0,
        ServiceKind::TalkingTherapies => 1,
        ServiceKind::ExerciseReferral => 2,
        _ => 3,
    };
    v.sort_by_key(|s| rank(s.details.kind));
    Ok(v.into_iter()
        .map(|s| {
            (
                s.id.to_string(),
                format!("{} ({})", s.details.name, s.details.kind.label()),
            )
        })
        .collect())
}

/// POST /people/{id}/courses/refer: an onward referral from a course to a directory service,
/// recorded on the person's record through the directory's referrals (coordinators, and
/// coaches for their caseload).
pub async fn refer(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    use alongside_core::ids::ServiceId;
    use alongside_store::directory::ReferralOptions;
    let pc = state
        .store
        .person_courses(&user.actor, pid, source.clone())
        .await?;
    let mut e = ValidationErrors::default();
    if let Err(r) = refuse_repeats(&d, &["from_run", "service"]) {
        e = r;
    }
    let from = pc
        .enrolments
        .iter()
        .find(|x| x.status != "withdrawn" && x.run.id.to_string() == d.get("from_run"));
    if from.is_none() && e.is_empty() {
        e.add("from_run", "Select the course the referral comes from");
    }
    let service: Option<ServiceId> = d.get("service").parse().ok();
    if service.is_none() && e.for_field("service").is_none() {
        e.add("service", "Select a service");
    }
    let reason = from
        .map(|x| {
            format!(
                "Onward referral from the course {}: {}",
                x.programme_title, x.run.label
            )
        })
        .unwrap_or_default();
    // The store decides access (and audits a refusal) before anything is written: with a
    // problem in the form, it is asked with a service that does not exist, so nothing can be.
    let ask = if e.is_empty() {
        service.expect("checked")
    } else {
        ServiceId::new()
    };
    let today = state.store.clock().today();
    let options = ReferralOptions {
        send_now: true,
        ..Default::default()
    };
    match state
        .store
        .create_service_referral(
            &user.actor,
            pid,
            ask,
            &reason,
            options,
            today,
            source.clone(),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!("/people/{pid}/courses?referred=1"))),
        Err(StoreError::Conflict(m)) => {
            if e.is_empty() {
                e.add("service", m);
            }
            let page = render_person(&state, &user, source, pid, None, &e).await?;
            Ok(invalid(page))
        }
        Err(other) => Err(other.into()),
    }
}

/// The courses section of the person's "Coming up" page (`/my/upcoming`, owned by the groups
/// pages): their course sessions in the next `days` days.
pub async fn upcoming_section(
    state: &AppState,
    user: &CurrentUser,
    source: Source,
    days: i64,
) -> AppResult<Markup> {
    let Some(pid) = user.actor.person_id else {
        return Ok(html! {});
    };
    let now = state.store.now();
    let until = now + days * 86_400 * 1_000_000;
    let sessions: Vec<_> = state
        .store
        .upcoming_course_sessions(&user.actor, pid, now, 50, source)
        .await?
        .into_iter()
        .filter(|(_, _, _, s)| s.starts_at <= until)
        .collect();
    Ok(html! {
        h2 { "Course sessions" }
        @if sessions.is_empty() {
            p { "No course sessions in the next two weeks. " a href="/my/courses" { "Your courses" } }
        } @else {
            ul.upcoming {
                @for (run, title, n, s) in &sessions {
                    li { a href={ "/course-runs/" (run) } { (title) } ", session " (n) ": " (education::describe_session(s.starts_at, s.ends_at)) }
                }
            }
        }
    })
}
