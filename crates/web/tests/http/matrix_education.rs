//! The authorization matrix for self-management education (a child of `matrix.rs`, so it uses
//! its private helpers). The policy:
//!
//! * everyone signed in browses the catalogue, programmes, runs and online pages (no names);
//! * administrators, coordinators and educators add and change programmes, runs and pages,
//!   see registers and waiting lists, take registers and see online progress;
//! * a person books, withdraws, gives feedback and saves progress for themselves only;
//! * a person's courses: coordinators and administrators for anyone, a coach for their
//!   caseload, an educator for people on a run in the organisation they facilitate, the
//!   person for themselves; enrolling by referral: coordinators, and coaches for their
//!   caseload (and the person themselves);
//! * the education report is aggregate: administrators, coordinators and analysts;
//! * another organisation's programme, run or person is not found (404).

use super::*;
use alongside_core::education::{
    ContentPage, DeliveryMode, ProgrammeDetails, ProgrammeForm, RunDetails, RunForm,
};
use alongside_core::ids::{ProgrammeId, RunId};
use alongside_core::PersonId;

pub struct Edu {
    prog_a: ProgrammeId,
    prog_b: ProgrammeId,
    online_a: ProgrammeId,
    online_b: ProgrammeId,
    run_a: RunId,
    run_b: RunId,
}

fn programme(title: &str, mode: &str) -> ProgrammeDetails {
    ProgrammeDetails::parse(&ProgrammeForm {
        title: title.into(),
        summary: "A course for the matrix.".into(),
        provider: "Matrix provider".into(),
        mode: mode.into(),
        sessions: "3".into(),
        session_minutes: "60".into(),
        completion_min: if mode == "online" {
            "".into()
        } else {
            "2".into()
        },
        audience: "Adults".into(),
        topics: "Breathing".into(),
        languages: vec!["en".into()],
        accessibility: "".into(),
        conditions: vec!["copd".into()],
    })
    .expect("fixture programme")
}

fn run(facilitator: &str) -> RunDetails {
    RunDetails::parse(
        &RunForm {
            label: "Matrix run".into(),
            first_date: "2099-01-06".into(),
            start_time: "10:00".into(),
            end_time: "11:00".into(),
            venue: "Matrix Hall".into(),
            joining: "".into(),
            capacity: "50".into(),
            facilitators: vec![facilitator.into()],
        },
        DeliveryMode::Group,
        3,
    )
    .expect("fixture run")
}

const PAGE_TITLE: &str = "Matrix page";

/// In each organisation a group programme with a run and an online programme with one page;
/// in A the person (own record) has a place on the run, which the educator facilitates.
pub async fn fixture(app: &TestApp, w: &World) -> Edu {
    let src = || Source(Some("fixture".into()));
    let educator = w.account(Role::Educator);
    let mut ids = Vec::new();
    for (actor, fac) in [
        (educator.actor(), educator.id),
        (w.admin_b.actor(), w.admin_b.id),
    ] {
        let p = app
            .store
            .create_programme(&actor, programme("Matrix Breathing", "group"), src())
            .await
            .expect("programme");
        let r = app
            .store
            .create_run(&actor, p, run(&fac.to_string()), src())
            .await
            .expect("run");
        let o = app
            .store
            .create_programme(&actor, programme("Matrix Online", "online"), src())
            .await
            .expect("online");
        app.store
            .add_page(
                &actor,
                o,
                ContentPage::parse("Module", PAGE_TITLE, "Text", "", "").expect("page"),
                src(),
            )
            .await
            .expect("add page");
        ids.push((p, r, o));
    }
    app.store
        .enrol(
            &w.account(Role::Coordinator).actor(),
            ids[0].1,
            w.own.id,
            src(),
        )
        .await
        .expect("enrol own");
    Edu {
        prog_a: ids[0].0,
        run_a: ids[0].1,
        online_a: ids[0].2,
        prog_b: ids[1].0,
        run_b: ids[1].1,
        online_b: ids[1].2,
    }
}

const MANAGERS: &[Role] = &[Role::Administrator, Role::Coordinator, Role::Educator];

fn other_org(t: Target) -> bool {
    matches!(
        t,
        Target::OtherOrgProgramme | Target::OtherOrgOnline | Target::OtherOrgRun
    )
}

fn course_read(who: Who, t: Target) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(_) if other_org(t) => Expect::NotFound,
        Who::Signed(_) => Expect::Allow,
    }
}

fn course_roles(who: Who, t: Target, roles: &[Role]) -> Expect {
    match who {
        Who::Anonymous => Expect::SignIn,
        Who::Signed(_) if other_org(t) => Expect::NotFound,
        Who::Signed(r) if roles.contains(&r) => Expect::Allow,
        Who::Signed(_) => Expect::Deny,
    }
}

fn course_manage(who: Who, t: Target) -> Expect {
    course_roles(who, t, MANAGERS)
}

fn course_person(who: Who, t: Target) -> Expect {
    course_roles(who, t, &[Role::Person])
}

/// May `role` see this person's courses? (The educator facilitates the run `Own` is on.)
fn reads_enrolments(role: Role, t: Target) -> bool {
    match role {
        Role::Administrator | Role::Coordinator => true,
        Role::HealthCoach => t == Target::OnCaseload,
        Role::Educator | Role::Person => t == Target::Own,
        _ => false,
    }
}

fn enrols(role: Role, t: Target) -> bool {
    match role {
        Role::Coordinator => true,
        Role::HealthCoach => t == Target::OnCaseload,
        Role::Person => t == Target::Own,
        _ => false,
    }
}

/// Onward referrals to the service directory: coordinators, and coaches for their caseload.
fn refers_on(role: Role, t: Target) -> bool {
    match role {
        Role::Coordinator => true,
        Role::HealthCoach => t == Target::OnCaseload,
        _ => false,
    }
}

pub fn rows() -> Vec<Row> {
    use Role::*;
    let row = |method, path, rule: Rule| Row { method, path, rule };
    vec![
        row("GET", "/courses", signed_in),
        row("GET", "/courses/new", |w, _| org_wide(w, MANAGERS)),
        row("POST", "/courses", |w, _| org_wide(w, MANAGERS)),
        row("GET", "/courses/{id}", course_read),
        row("GET", "/courses/{id}/edit", course_manage),
        row("POST", "/courses/{id}/edit", course_manage),
        row("GET", "/courses/{id}/runs/new", course_manage),
        row("POST", "/courses/{id}/runs", course_manage),
        row("GET", "/courses/{id}/pages/new", course_manage),
        row("POST", "/courses/{id}/pages", course_manage),
        row("GET", "/courses/{id}/pages/{n}", course_read),
        row("POST", "/courses/{id}/pages/{n}/done", course_person),
        row("GET", "/courses/{id}/learners", course_manage),
        row("GET", "/course-runs/{id}", course_read),
        // Feedback before withdrawal, so the person still has their place.
        row("GET", "/course-runs/{id}/feedback", course_person),
        row("POST", "/course-runs/{id}/feedback", course_person),
        row("POST", "/course-runs/{id}/enrol", course_person),
        row("POST", "/course-runs/{id}/withdraw", course_person),
        row("GET", "/course-runs/{id}/sessions/{n}", course_manage),
        row("POST", "/course-runs/{id}/sessions/{n}", course_manage),
        // Changing a run once it exists: the people who run education.
        row("GET", "/course-runs/{id}/edit", course_manage),
        row("POST", "/course-runs/{id}/edit", course_manage),
        row("POST", "/course-runs/{id}/move", course_manage),
        row("POST", "/course-runs/{id}/cancel", course_manage),
        row("GET", "/my/courses", |w, _| org_wide(w, &[Person])),
        row("GET", "/people/{id}/courses", |w, t| {
            person_route(w, t, reads_enrolments)
        }),
        row("POST", "/people/{id}/courses", |w, t| {
            person_route(w, t, enrols)
        }),
        row("POST", "/people/{id}/courses/withdraw", |w, t| {
            person_route(w, t, enrols)
        }),
        row("POST", "/people/{id}/courses/refer", |w, t| {
            person_route(w, t, refers_on)
        }),
        row("GET", "/reports/education", |w, _| {
            org_wide(w, &[Administrator, Coordinator, Analyst])
        }),
        row("GET", "/reports/education.csv", |w, _| {
            org_wide(w, &[Administrator, Coordinator, Analyst])
        }),
    ]
}

pub fn targets(path: &str) -> Option<Vec<Target>> {
    if path.starts_with("/courses/{id}/pages") || path == "/courses/{id}/learners" {
        Some(vec![Target::SameOrgOnline, Target::OtherOrgOnline])
    } else if path.starts_with("/courses/{id}") {
        Some(vec![Target::SameOrgProgramme, Target::OtherOrgProgramme])
    } else if path.starts_with("/course-runs/{id}") {
        Some(vec![Target::SameOrgRun, Target::OtherOrgRun])
    } else {
        None
    }
}

pub fn path(e: &Edu, template: &str, t: Target) -> Option<String> {
    let id = match t {
        Target::SameOrgProgramme => e.prog_a.to_string(),
        Target::OtherOrgProgramme => e.prog_b.to_string(),
        Target::SameOrgOnline => e.online_a.to_string(),
        Target::OtherOrgOnline => e.online_b.to_string(),
        Target::SameOrgRun => e.run_a.to_string(),
        Target::OtherOrgRun => e.run_b.to_string(),
        _ => return None,
    };
    Some(template.replace("{id}", &id).replace("{n}", "1"))
}

/// Names an educator may see on education pages: the person on the run they facilitate.
pub fn visible_names(who: Who, template: &str, hidden: &mut Vec<&Person>, own: &Person) {
    let education = template.starts_with("/course")
        || template.starts_with("/my/courses")
        || template.ends_with("/courses")
        || template.ends_with("/courses/withdraw")
        || template.ends_with("/courses/refer");
    if education && who == Who::Signed(Role::Educator) {
        hidden.retain(|p| p.id != own.id);
    }
}

async fn referrals_of(app: &TestApp, coord: &alongside_core::access::Actor, p: PersonId) -> usize {
    app.store
        .person_referrals(coord, p, Source(Some("test-verifier".into())))
        .await
        .expect("referrals")
        .referrals
        .len()
}

async fn programmes(app: &TestApp, w: &World) -> usize {
    app.store
        .programmes(w.org_a)
        .await
        .expect("programmes")
        .len()
}

/// Exercises an education POST; `None` for any other route.
pub async fn post_cell(
    cx: &Ctx<'_>,
    b: &Browser,
    who: Who,
    row: &Row,
    t: Target,
    expect: Expect,
    path: &str,
) -> Option<Result<Page, String>> {
    let (app, w, e) = (cx.app, cx.w, cx.edu);
    let coord = w.account(Role::Coordinator).actor();
    let src = || Source(Some("test-verifier".into()));
    let deny = |p: &Page| check_status(p, expect);
    let r: Result<Page, String> = async {
        let allow = expect == Expect::Allow;
        let see_other = |p: &Page, prefix: &str| -> Result<(), String> {
            ensure!(
                p.status == StatusCode::SEE_OTHER
                    && p.location().is_some_and(|l| l.starts_with(prefix)),
                "expected 303 to {prefix}…, got {} {:?}: {}",
                p.status,
                p.location(),
                p.snippet()
            );
            Ok(())
        };
        Ok(match (row.method, row.path) {
            ("POST", "/courses") => {
                let before = programmes(app, w).await;
                let p = b
                    .post_form_from(
                        "/courses/new",
                        path,
                        &[
                            ("title", "Matrix Added"),
                            ("summary", "S"),
                            ("provider", "P"),
                            ("mode", "group"),
                            ("sessions", "2"),
                            ("session_minutes", "60"),
                            ("completion_min", "1"),
                            ("audience", "A"),
                            ("topics", "T"),
                            ("languages", "en"),
                            ("conditions", "asthma"),
                        ],
                    )
                    .await;
                let after = programmes(app, w).await;
                if allow {
                    see_other(&p, "/courses/")?;
                    ensure!(after == before + 1, "no programme added");
                } else {
                    deny(&p)?;
                    ensure!(after == before, "a refused request added a programme");
                }
                p
            }
            ("POST", "/courses/{id}/edit") => {
                let before = app
                    .store
                    .programme(w.org_a, e.prog_a)
                    .await
                    .expect("programme");
                let p = if allow {
                    let form = b.get(path).await;
                    ensure!(form.status == StatusCode::OK, "edit form {}", form.status);
                    let summary = format!("Changed by {who:?}");
                    let fields = with(&form.form_values(path), &[("summary", summary.as_str())]);
                    let p = b.post_pairs(path, &fields).await;
                    see_other(&p, "/courses/")?;
                    let after = app
                        .store
                        .programme(w.org_a, e.prog_a)
                        .await
                        .expect("programme");
                    ensure!(
                        after.details.summary == summary && after.version == before.version + 1,
                        "change not saved"
                    );
                    ensure!(
                        after.details.conditions == before.details.conditions
                            && after.details.languages == before.details.languages,
                        "resubmitting changed other fields"
                    );
                    p
                } else {
                    let p = b
                        .post_form(path, &[("title", "Hijacked"), ("version", "1")])
                        .await;
                    deny(&p)?;
                    if t == Target::SameOrgProgramme {
                        let after = app
                            .store
                            .programme(w.org_a, e.prog_a)
                            .await
                            .expect("programme");
                        ensure!(after == before, "a refused edit changed the programme");
                    }
                    p
                };
                p
            }
            ("POST", "/courses/{id}/runs") => {
                let before = app.store.runs(w.org_a, None).await.expect("runs").len();
                let fac = w.account(Role::Educator).id.to_string();
                let p = b
                    .post_form(
                        path,
                        &[
                            ("label", "Matrix added run"),
                            ("first_date", "1/2/2099"),
                            ("start_time", "09:00"),
                            ("end_time", "10:00"),
                            ("venue", "Hall"),
                            ("capacity", "5"),
                            ("facilitators", fac.as_str()),
                        ],
                    )
                    .await;
                let after = app.store.runs(w.org_a, None).await.expect("runs").len();
                if allow {
                    see_other(&p, "/course-runs/")?;
                    ensure!(after == before + 1, "no run added");
                } else {
                    deny(&p)?;
                    ensure!(after == before, "a refused request added a run");
                }
                p
            }
            ("POST", "/courses/{id}/pages") => {
                let before = app
                    .store
                    .pages(w.org_a, e.online_a)
                    .await
                    .expect("pages")
                    .len();
                let p = b
                    .post_form(
                        path,
                        &[
                            ("module_title", "M"),
                            ("title", "Added page"),
                            ("body", "Text"),
                            ("video_url", ""),
                            ("resources", ""),
                        ],
                    )
                    .await;
                let after = app
                    .store
                    .pages(w.org_a, e.online_a)
                    .await
                    .expect("pages")
                    .len();
                if allow {
                    see_other(&p, "/courses/")?;
                    ensure!(after == before + 1, "no page added");
                } else {
                    deny(&p)?;
                    ensure!(after == before, "a refused request added a page");
                }
                p
            }
            ("POST", "/courses/{id}/pages/{n}/done") => {
                let p = b.post_form_from("/", path, &[] as &[(&str, &str)]).await;
                if allow {
                    see_other(&p, "/courses/")?;
                    let pc = app
                        .store
                        .person_courses(&coord, w.own.id, src())
                        .await
                        .expect("courses");
                    ensure!(
                        pc.online
                            .iter()
                            .any(|o| o.programme_id == e.online_a && o.done.len() == 1),
                        "progress not saved"
                    );
                } else {
                    deny(&p)?;
                }
                p
            }
            ("POST", "/course-runs/{id}/feedback") => {
                let p = b
                    .post_form_from(
                        "/",
                        path,
                        &[("rating", "4"), ("helped", "The group"), ("better", "")],
                    )
                    .await;
                let fb = app
                    .store
                    .feedback_summary(&coord, e.run_a, Source(Some("test-verifier".into())))
                    .await
                    .expect("feedback");
                if allow {
                    see_other(&p, "/course-runs/")?;
                    ensure!(fb.ratings[3] == 1, "feedback not saved: {fb:?}");
                } else {
                    deny(&p)?;
                    ensure!(
                        fb.ratings[3] == 0 || who == Who::Signed(Role::Person),
                        "a refused request saved feedback"
                    );
                }
                p
            }
            ("POST", "/course-runs/{id}/enrol") => {
                let p = b.post_form_from("/", path, &[] as &[(&str, &str)]).await;
                if allow {
                    // Already on the run (the fixture enrolled them): told so, nothing changes.
                    see_other(&p, "/course-runs/")?;
                    ensure!(
                        p.location().is_some_and(|l| l.ends_with("already=1")),
                        "location {:?}",
                        p.location()
                    );
                } else {
                    deny(&p)?;
                }
                p
            }
            ("POST", "/course-runs/{id}/withdraw") => {
                let p = b.post_form_from("/", path, &[] as &[(&str, &str)]).await;
                let run = app.store.run(w.org_a, e.run_a).await.expect("run");
                if allow {
                    see_other(&p, "/course-runs/")?;
                    ensure!(run.enrolled == 0, "not withdrawn");
                    app.store
                        .enrol(&coord, e.run_a, w.own.id, src())
                        .await
                        .expect("re-enrol own");
                } else {
                    deny(&p)?;
                    ensure!(run.enrolled == 1, "a refused request withdrew someone");
                }
                p
            }
            ("POST", "/course-runs/{id}/sessions/{n}") => {
                let before = app
                    .store
                    .roster(&coord, e.run_a, src())
                    .await
                    .expect("roster");
                // Present when the register was last taken absent, and the other way round.
                let was_present = before
                    .enrolled
                    .iter()
                    .any(|x| x.person_id == w.own.id && x.attended.contains(&1));
                let own = w.own.id.to_string();
                let mut fields = vec![("taken", "yes")];
                if !was_present {
                    fields.push(("present", own.as_str()));
                }
                let p = b.post_form_from("/", path, &fields).await;
                let after = app
                    .store
                    .roster(&coord, e.run_a, src())
                    .await
                    .expect("roster");
                let now_present = after
                    .enrolled
                    .iter()
                    .any(|x| x.person_id == w.own.id && x.attended.contains(&1));
                if allow {
                    see_other(&p, "/course-runs/")?;
                    ensure!(
                        after.registers_taken == vec![1] && now_present != was_present,
                        "register not saved"
                    );
                } else {
                    deny(&p)?;
                    ensure!(
                        after.registers_taken == before.registers_taken
                            && now_present == was_present,
                        "a refused request took the register"
                    );
                }
                p
            }
            ("POST", "/people/{id}/courses") => {
                let person = cx.person(t).expect("person");
                let form = format!("/people/{}/courses", person.id);
                let run = e.run_a.to_string();
                let p = b
                    .post_form_from(
                        if allow { &form } else { "/" },
                        path,
                        &[("run", run.as_str())],
                    )
                    .await;
                if allow {
                    see_other(&p, &form)?;
                    let pc = app
                        .store
                        .person_courses(&coord, person.id, src())
                        .await
                        .expect("courses");
                    ensure!(
                        pc.enrolments
                            .iter()
                            .any(|x| x.run.id == e.run_a && x.status == "enrolled"),
                        "not enrolled"
                    );
                } else {
                    deny(&p)?;
                    if person.org == w.org_a && t != Target::Own {
                        let pc = app
                            .store
                            .person_courses(&coord, person.id, src())
                            .await
                            .expect("courses");
                        ensure!(
                            pc.enrolments.iter().all(|x| x.status != "enrolled"),
                            "a refused referral enrolled someone"
                        );
                    }
                }
                p
            }
            ("POST", "/people/{id}/courses/withdraw") => {
                let person = cx.person(t).expect("person");
                let form = format!("/people/{}/courses", person.id);
                let run = e.run_a.to_string();
                let p = b
                    .post_form_from(
                        if allow { &form } else { "/" },
                        path,
                        &[("withdraw_run", run.as_str())],
                    )
                    .await;
                if allow {
                    see_other(&p, &form)?;
                    let pc = app
                        .store
                        .person_courses(&coord, person.id, src())
                        .await
                        .expect("courses");
                    ensure!(
                        pc.enrolments.iter().all(|x| x.status != "enrolled"),
                        "not withdrawn"
                    );
                    if t == Target::Own {
                        app.store
                            .enrol(&coord, e.run_a, w.own.id, src())
                            .await
                            .expect("re-enrol own");
                    }
                } else {
                    deny(&p)?;
                    if t == Target::Own {
                        let pc = app
                            .store
                            .person_courses(&coord, w.own.id, src())
                            .await
                            .expect("courses");
                        ensure!(
                            pc.enrolments.iter().any(|x| x.status == "enrolled"),
                            "a refused request withdrew the person"
                        );
                    }
                }
                p
            }
            ("POST", "/people/{id}/courses/refer") => {
                // No service chosen: an allowed user gets the form back naming the field; in no
                // case is a referral written.
                let person = cx.person(t).expect("person");
                let before = if person.org == w.org_a {
                    referrals_of(app, &coord, person.id).await
                } else {
                    0
                };
                let p = b
                    .post_form_from(
                        "/",
                        path,
                        &[("from_run", e.run_a.to_string().as_str()), ("service", "")],
                    )
                    .await;
                if allow {
                    ensure!(
                        p.status == StatusCode::UNPROCESSABLE_ENTITY
                            && p.error_summary()
                                .contains(&("#service".into(), "Select a service".into())),
                        "expected 422 naming the service, got {}: {:?}",
                        p.status,
                        p.error_summary()
                    );
                } else {
                    deny(&p)?;
                }
                if person.org == w.org_a {
                    ensure!(
                        referrals_of(app, &coord, person.id).await == before,
                        "a referral was written"
                    );
                }
                p
            }
            (
                "POST",
                tpl @ ("/course-runs/{id}/edit"
                | "/course-runs/{id}/move"
                | "/course-runs/{id}/cancel"),
            ) => {
                let before = app.store.run(w.org_a, e.run_a).await.expect("run");
                let long = "x".repeat(301);
                let (fields, field, message): (Vec<(&str, &str)>, &str, &str) = match tpl {
                    "/course-runs/{id}/edit" => (
                        vec![
                            ("label", "Matrix run"),
                            ("first_date", "1/1/2030"),
                            ("start_time", "10:00"),
                            ("end_time", "12:00"),
                            ("venue", "Matrix Hall"),
                            ("capacity", "0"),
                        ],
                        "#capacity",
                        "Number of places must be 1 or more",
                    ),
                    "/course-runs/{id}/move" => (
                        vec![("session", "")],
                        "#session",
                        "Choose the session to move",
                    ),
                    _ => (
                        vec![("reason", long.as_str())],
                        "#reason",
                        "The reason must be 300 characters or fewer",
                    ),
                };
                let p = b.post_form_from("/", path, &fields).await;
                if allow {
                    ensure!(
                        p.status == StatusCode::UNPROCESSABLE_ENTITY
                            && p.error_summary().contains(&(field.into(), message.into())),
                        "bad input should be refused naming the field, got {}: {:?}",
                        p.status,
                        p.error_summary()
                    );
                } else {
                    deny(&p)?;
                }
                let after = app.store.run(w.org_a, e.run_a).await.expect("run");
                ensure!(after == before, "the run changed");
                p
            }
            _ => return Err("not an education POST".into()),
        })
    }
    .await;
    match r {
        Err(m) if m == "not an education POST" => None,
        other => Some(other),
    }
}

/// Content checks for allowed education pages; `None` for any other route.
pub fn check_page(
    cx: &Ctx<'_>,
    _who: Who,
    template: &str,
    t: Target,
    p: &Page,
) -> Option<Result<(), String>> {
    let h1 = p.h1();
    let expected: String = match template {
        "/courses" => "Courses".into(),
        "/courses/new" => "Add a programme".into(),
        "/courses/{id}" => "Matrix Breathing".into(),
        "/courses/{id}/edit" => "Change programme".into(),
        "/courses/{id}/runs/new" => "Add a course run".into(),
        "/courses/{id}/pages/new" => "Add a page".into(),
        "/courses/{id}/pages/{n}" => PAGE_TITLE.into(),
        "/courses/{id}/learners" => "Progress".into(),
        "/course-runs/{id}" => "Matrix run".into(),
        "/course-runs/{id}/feedback" => "Tell us how the course went".into(),
        "/course-runs/{id}/sessions/{n}" => "Register for session 1".into(),
        "/course-runs/{id}/edit" => "Change this course run".into(),
        "/my/courses" => "Your courses".into(),
        "/people/{id}/courses" => "Courses".into(),
        "/reports/education" => "Education report".into(),
        "/reports/education.csv" => {
            let ok = p
                .header("content-type")
                .is_some_and(|c| c.starts_with("text/csv"))
                && p.body.starts_with("section,programme");
            return Some(if ok {
                Ok(())
            } else {
                Err(format!("education CSV: {:?}", p.snippet()))
            });
        }
        _ => return None,
    };
    if h1 != expected {
        return Some(Err(format!("h1 {h1:?}, expected {expected:?}")));
    }
    if template == "/people/{id}/courses" {
        let person = cx.person(t).expect("person");
        if !p.main_text().contains(&person.name()) {
            return Some(Err("the courses page should name the person".into()));
        }
    }
    if template == "/course-runs/{id}" && !p.main_text().contains("Matrix Hall") {
        return Some(Err("the run page should say where it is".into()));
    }
    Some(Ok(()))
}
