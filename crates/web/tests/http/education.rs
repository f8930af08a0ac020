//! Self-management education over HTTP on both backends: the catalogue and finding courses,
//! programmes and runs added through their forms, enrolment by referral and by the person,
//! the waiting list (promotion exactly once, also under concurrent cancellations), registers
//! and completion, feedback, online pages and progress, "your courses", the report with
//! suppression and CSV, bad input on every form, and who may see whose enrolments.

use crate::support::*;
use alongside_core::education::{
    ContentPage, DeliveryMode, ProgrammeDetails, ProgrammeForm, RunDetails, RunForm,
};
use alongside_core::ids::{ProgrammeId, RunId};
use alongside_core::{OrgId, PersonId, Role};
use alongside_store::education::EnrolOutcome;
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;

both_backends!(
    programme_run_enrolment_and_waiting_list_over_http,
    concurrent_cancellations_promote_each_waiting_person_once,
    bad_input_is_refused_with_field_messages_and_nothing_written,
    enrolments_are_seen_only_by_those_allowed_and_every_read_is_audited,
    online_programme_progress_and_staff_completion,
    report_counts_suppresses_and_downloads,
    onward_referral_from_a_course_is_recorded_on_the_persons_record,
    course_sessions_are_on_the_persons_coming_up_page,
);

fn src() -> Source {
    Source(Some("test".into()))
}

fn copd_form() -> ProgrammeForm {
    ProgrammeForm {
        title: "Breathing Space".into(),
        summary: "A six-week group course for people living with COPD.".into(),
        provider: "Riverside PCN education team".into(),
        mode: "group".into(),
        sessions: "6".into(),
        session_minutes: "120".into(),
        completion_min: "4".into(),
        audience: "Adults with COPD, and a family member or carer if they like.".into(),
        topics: "The condition and its physical and emotional impact\nInhaler technique".into(),
        languages: vec!["en".into(), "pl".into()],
        accessibility: "Step-free access".into(),
        conditions: vec!["copd".into()],
    }
}

fn run_form(facilitator: &str, capacity: u32, first: &str) -> RunForm {
    RunForm {
        label: "Tuesday mornings".into(),
        first_date: first.into(),
        start_time: "10:00".into(),
        end_time: "12:00".into(),
        venue: "Riverside Community Centre, Mill Lane".into(),
        joining: "".into(),
        capacity: capacity.to_string(),
        facilitators: vec![facilitator.into()],
    }
}

/// A COPD programme with one run of `capacity` places starting in 2099, made through the store.
async fn programme_with_run(app: &TestApp, w: &World, capacity: u32) -> (ProgrammeId, RunId) {
    let educator = w.account(Role::Educator);
    let pid = app
        .store
        .create_programme(
            &educator.actor(),
            ProgrammeDetails::parse(&copd_form()).unwrap(),
            src(),
        )
        .await
        .expect("programme");
    let run = RunDetails::parse(
        &run_form(&educator.id.to_string(), capacity, "2099-03-03"),
        DeliveryMode::Group,
        6,
    )
    .unwrap();
    let rid = app
        .store
        .create_run(&educator.actor(), pid, run, src())
        .await
        .expect("run");
    (pid, rid)
}

async fn more_people(app: &TestApp, org: OrgId, n: usize, family: &str) -> Vec<PersonId> {
    let people: Vec<_> = (0..n)
        .map(|i| {
            let given = format!("Learner{}", (b'a' + (i % 26) as u8) as char);
            (
                PersonId::new(),
                details(&given, &format!("{family}{}", "x".repeat(i / 26 + 1))),
                None,
            )
        })
        .collect();
    let ids = people.iter().map(|p| p.0).collect();
    app.store
        .insert_people_unaudited_actor(org, people, "fixture")
        .await
        .expect("people");
    ids
}

fn id_from(loc: &str, prefix: &str) -> String {
    loc.trim_start_matches(prefix)
        .split(['?', '/'])
        .next()
        .unwrap_or("")
        .to_string()
}

async fn programme_run_enrolment_and_waiting_list_over_http(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let educator = app.sign_in("educator", PASSWORD).await;
    // Add a programme through the form.
    let f = copd_form();
    let p = educator
        .post_form_from(
            "/courses/new",
            "/courses",
            &[
                ("title", f.title.as_str()),
                ("summary", &f.summary),
                ("provider", &f.provider),
                ("mode", "group"),
                ("sessions", "3"),
                ("session_minutes", "90"),
                ("completion_min", "2"),
                ("audience", &f.audience),
                ("topics", &f.topics),
                ("languages", "en"),
                ("languages", "pl"),
                ("accessibility", ""),
                ("conditions", "copd"),
            ],
        )
        .await;
    p.assert_redirect("/courses/", "add programme");
    let prog = id_from(p.location().unwrap(), "/courses/");
    let page = educator.get(&format!("/courses/{prog}?saved=1")).await;
    assert_eq!(page.h1(), "Breathing Space");
    assert!(page
        .main_text()
        .contains("attended at least 2 of 3 sessions"));
    assert!(page.main_text().contains("Inhaler technique"));
    assert!(page.main_text().contains("Polish"));
    // A run of 2 places, across the spring clock change (first session 23 March 2027).
    let eid = w.account(Role::Educator).id.to_string();
    let p = educator
        .post_form_from(
            &format!("/courses/{prog}/runs/new"),
            &format!("/courses/{prog}/runs"),
            &[
                ("label", "Spring, Tuesday mornings"),
                ("first_date", "23/3/2027"),
                ("start_time", "10:00"),
                ("end_time", "11:30"),
                ("venue", "Riverside Community Centre"),
                ("joining", ""),
                ("capacity", "2"),
                ("facilitators", eid.as_str()),
            ],
        )
        .await;
    p.assert_redirect("/course-runs/", "add run");
    let run = id_from(p.location().unwrap(), "/course-runs/");
    let page = educator.get(&format!("/course-runs/{run}")).await;
    assert_eq!(page.h1(), "Spring, Tuesday mornings");
    let text = page.main_text();
    assert!(
        text.contains("Tuesday 23 March 2027, 10:00 to 11:30"),
        "{text}"
    );
    assert!(
        text.contains("Tuesday 30 March 2027, 10:00 to 11:30"),
        "clock change: {text}"
    );
    assert!(text.contains("Edwin Educator"));
    assert!(text.contains("2 of 2 places free"));

    // Finding it: by condition and day it shows; by another condition or day it does not.
    let person = app.sign_in("person", PASSWORD).await;
    let found = person
        .get("/courses?condition=copd&day=Tuesday&place=riverside")
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.main_text().contains("Breathing Space"));
    assert!(found.main_text().contains("1 programme"));
    let none = person.get("/courses?condition=copd&day=Friday").await;
    assert!(!none.main_text().contains("Breathing Space"));
    let none = person.get("/courses?condition=asthma").await;
    assert!(!none.main_text().contains("Breathing Space"));

    // The coordinator enrols two people by referral (full), the person joins the waiting list.
    let coord = app.sign_in("coordinator", PASSWORD).await;
    for who in [&w.on_caseload, &w.off_caseload] {
        let p = coord
            .post_form_from(
                &format!("/people/{}/courses", who.id),
                &format!("/people/{}/courses", who.id),
                &[("run", run.as_str())],
            )
            .await;
        p.assert_redirect(
            &format!("/people/{}/courses?enrolled=1", who.id),
            "referral",
        );
    }
    let p = person
        .post_form_from(
            &format!("/course-runs/{run}"),
            &format!("/course-runs/{run}/enrol"),
            &[] as &[(&str, &str)],
        )
        .await;
    p.assert_redirect(
        &format!("/course-runs/{run}?waiting=1"),
        "self-enrol on a full run",
    );
    let mine = person.get(&format!("/course-runs/{run}")).await;
    assert!(mine
        .main_text()
        .contains("You are number 1 on the waiting list."));
    let page = educator.get(&format!("/course-runs/{run}")).await;
    let text = page.main_text();
    assert!(text.contains("People with a place (2 of 2)"), "{text}");
    assert!(text.contains("Waiting list (1)"));
    assert!(text.contains("Selwyn Ownrecordson"));
    assert!(text.contains("Full"));

    // A place frees up: the person is promoted and told, on their courses page and home page.
    let p = coord
        .post_form_from(
            &format!("/people/{}/courses", w.off_caseload.id),
            &format!("/people/{}/courses/withdraw", w.off_caseload.id),
            &[("withdraw_run", run.as_str())],
        )
        .await;
    p.assert_redirect(
        &format!("/people/{}/courses?withdrawn=1", w.off_caseload.id),
        "withdraw",
    );
    let my = person.get("/my/courses").await;
    assert_eq!(my.h1(), "Your courses");
    let text = my.main_text();
    assert!(
        text.contains(
            "A place came free on Breathing Space (Spring, Tuesday mornings) and it is yours"
        ),
        "{text}"
    );
    assert!(text.contains("Place booked"));
    let home = person.get("/").await;
    assert!(home
        .main_text()
        .contains("A place came free on Breathing Space"));
    assert_eq!(
        app.count_audit(w.org_a, "course.promote", Some("allowed"))
            .await,
        1
    );

    // Registers for two sessions: the person attends both, completes (2 of 3).
    for n in 1..=2 {
        let p = educator
            .post_form_from(
                &format!("/course-runs/{run}/sessions/{n}"),
                &format!("/course-runs/{run}/sessions/{n}"),
                &[("taken", "yes"), ("present", &w.own.id.to_string())],
            )
            .await;
        p.assert_redirect(&format!("/course-runs/{run}?register=1"), "register");
    }
    let reg = educator
        .get(&format!("/course-runs/{run}/sessions/1"))
        .await;
    assert_eq!(reg.h1(), "Register for session 1");
    assert!(reg.body.contains("checked"));
    let my = person.get("/my/courses").await;
    assert!(my.main_text().contains("Attended 2 of 3 sessions"));
    assert!(my.main_text().contains("Completed"));
    // Feedback, then the staff summary shows it without the name.
    let fb = person.get(&format!("/course-runs/{run}/feedback")).await;
    assert_eq!(fb.h1(), "Tell us how the course went");
    let p = person
        .post_form(
            &format!("/course-runs/{run}/feedback"),
            &[
                ("rating", "5"),
                ("helped", "Learning to pace my breathing"),
                ("better", "A later start"),
            ],
        )
        .await;
    p.assert_redirect(&format!("/course-runs/{run}?feedback=1"), "feedback");
    let page = educator.get(&format!("/course-runs/{run}")).await;
    let text = page.main_text();
    assert!(
        text.contains("1 responses; average rating 5.0 out of 5."),
        "{text}"
    );
    assert!(text.contains("Learning to pace my breathing"));
    app.assert_audit_verifies().await;
}

/// A full run (10 places) with 10 people waiting; 6 people withdraw at the same time (and
/// each withdrawal is sent twice). Exactly the first 6 waiting are promoted, each once, each
/// told once; the run never holds more than its capacity.
async fn concurrent_cancellations_promote_each_waiting_person_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (_, run) = programme_with_run(&app, &w, 10).await;
    let coord = w.account(Role::Coordinator).actor();
    let enrolled = more_people(&app, w.org_a, 10, "Placeholder").await;
    let waiting = more_people(&app, w.org_a, 10, "Waitlister").await;
    for p in &enrolled {
        assert_eq!(
            app.store.enrol(&coord, run, *p, src()).await.unwrap(),
            EnrolOutcome::Enrolled
        );
    }
    for (i, p) in waiting.iter().enumerate() {
        assert_eq!(
            app.store.enrol(&coord, run, *p, src()).await.unwrap(),
            EnrolOutcome::Waiting(i as i64 + 1)
        );
    }
    let mut jobs = Vec::new();
    for p in enrolled.iter().take(6) {
        for _ in 0..2 {
            let store = app.store.clone();
            let (coord, p) = (coord.clone(), *p);
            jobs.push(tokio::spawn(async move {
                store
                    .withdraw(&coord, run, p, Source(Some("test".into())))
                    .await
            }));
        }
    }
    let mut promoted = Vec::new();
    let mut withdrawals = 0;
    for j in jobs {
        let r = j.await.unwrap().expect("withdraw");
        if r.was.is_some() {
            withdrawals += 1;
        }
        promoted.extend(r.promoted);
    }
    assert_eq!(withdrawals, 6, "each person withdrawn exactly once");
    let mut sorted = promoted.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        promoted.len(),
        "somebody was promoted twice: {promoted:?}"
    );
    assert_eq!(promoted.len(), 6);
    let mut expected: Vec<PersonId> = waiting[..6].to_vec();
    expected.sort();
    assert_eq!(sorted, expected, "the first six waiting are promoted");
    let r = app.store.run(w.org_a, run).await.unwrap();
    assert_eq!((r.enrolled, r.capacity, r.waiting), (10, 10, 4));
    let roster = app.store.roster(&coord, run, src()).await.unwrap();
    assert_eq!(roster.enrolled.len(), 10);
    assert_eq!(
        roster
            .waiting
            .iter()
            .map(|p| p.person_id)
            .collect::<Vec<_>>(),
        waiting[6..].to_vec(),
        "the rest keep their order"
    );
    for p in &waiting[..6] {
        let pc = app.store.person_courses(&coord, *p, src()).await.unwrap();
        assert_eq!(pc.notices.len(), 1, "told exactly once");
        assert_eq!(pc.enrolments[0].status, "enrolled");
    }
    assert_eq!(
        app.count_audit(w.org_a, "course.promote", Some("allowed"))
            .await,
        6
    );
    // Enrolling again when full still queues; another withdrawal promotes the next in line.
    let out = app
        .store
        .withdraw(&coord, run, enrolled[9], src())
        .await
        .unwrap();
    assert_eq!(out.promoted, vec![waiting[6]]);
    app.assert_audit_verifies().await;
}

async fn bad_input_is_refused_with_field_messages_and_nothing_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (prog, run) = programme_with_run(&app, &w, 5).await;
    let educator = app.sign_in("educator", PASSWORD).await;
    let f = copd_form();
    let good: Vec<(&str, &str)> = vec![
        ("title", "Living Well"),
        ("summary", &f.summary),
        ("provider", &f.provider),
        ("mode", "group"),
        ("sessions", "6"),
        ("session_minutes", "120"),
        ("completion_min", "4"),
        ("audience", &f.audience),
        ("topics", &f.topics),
        ("languages", "en"),
        ("conditions", "copd"),
    ];
    let with_field = |k: &str, v: &'static str| -> Vec<(String, String)> {
        good.iter()
            .map(|(a, b)| {
                (
                    a.to_string(),
                    if *a == k {
                        v.to_string()
                    } else {
                        b.to_string()
                    },
                )
            })
            .collect()
    };
    let before = app.store.programmes(w.org_a).await.unwrap().len();
    for (field, value, message) in [
        (
            "completion_min",
            "7",
            "Sessions to attend to complete cannot be more than the number of sessions (6)",
        ),
        (
            "sessions",
            "0",
            "Number of sessions must be a whole number from 1 to 52",
        ),
        (
            "sessions",
            "six",
            "Number of sessions must be a whole number, like 1",
        ),
        ("title", "", "Enter a title"),
        (
            "mode",
            "carrier-pigeon",
            "Select how the programme is delivered",
        ),
        ("conditions", "hay_fever", "Select conditions from the list"),
    ] {
        let p = educator
            .post_form_from("/courses/new", "/courses", &with_field(field, value))
            .await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, field);
        p.assert_error(field, message, field);
    }
    // A single-valued field sent twice is ambiguous.
    let mut twice = with_field("title", "One");
    twice.push(("title".into(), "Two".into()));
    let p = educator
        .post_form_from("/courses/new", "/courses", &twice)
        .await;
    p.assert_error(
        "title",
        "This was sent more than once: enter it once and try again",
        "repeated",
    );
    assert_eq!(
        app.store.programmes(w.org_a).await.unwrap().len(),
        before,
        "nothing written"
    );

    // Runs.
    let eid = w.account(Role::Educator).id.to_string();
    let run_fields = |k: &str, v: &str| -> Vec<(String, String)> {
        [
            ("label", "Autumn"),
            ("first_date", "5/10/2099"),
            ("start_time", "14:00"),
            ("end_time", "16:00"),
            ("venue", "Library"),
            ("capacity", "8"),
            ("facilitators", eid.as_str()),
        ]
        .iter()
        .map(|(a, b)| {
            (
                a.to_string(),
                if *a == k {
                    v.to_string()
                } else {
                    b.to_string()
                },
            )
        })
        .collect()
    };
    let runs_before = app.store.runs(w.org_a, None).await.unwrap().len();
    for (field, value, message) in [
        ("end_time", "13:00", "End time must be after the start time"),
        ("end_time", "14:00", "End time must be after the start time"),
        ("capacity", "0", "Number of places must be 1 or more"),
        ("capacity", "-4", "Number of places must be 1 or more"),
        (
            "capacity",
            "lots",
            "Number of places must be a whole number, like 12",
        ),
        (
            "first_date",
            "31/2/2099",
            "Date of the first session must be a real date, like 12/1/2027",
        ),
        (
            "start_time",
            "25:00",
            "Start time must be a 24-hour time, like 10:00 or 14:30",
        ),
        (
            "facilitators",
            "not-a-user",
            "Select facilitators from the list of staff",
        ),
    ] {
        let p = educator
            .post_form_from(
                &format!("/courses/{prog}/runs/new"),
                &format!("/courses/{prog}/runs"),
                &run_fields(field, value),
            )
            .await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, field);
        p.assert_error(field, message, field);
    }
    assert_eq!(
        app.store.runs(w.org_a, None).await.unwrap().len(),
        runs_before,
        "no run written"
    );

    // Register: someone without a place cannot be marked present.
    let coord = w.account(Role::Coordinator).actor();
    app.store
        .enrol(&coord, run, w.on_caseload.id, src())
        .await
        .unwrap();
    let p = educator
        .post_form(
            &format!("/course-runs/{run}/sessions/1"),
            &[
                ("taken", "yes"),
                ("present", &w.off_caseload.id.to_string()),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "register");
    p.assert_error(
        "present",
        "Tick only people who have a place on this run",
        "register",
    );
    assert!(app
        .store
        .roster(&coord, run, src())
        .await
        .unwrap()
        .registers_taken
        .is_empty());
    let p = educator
        .get(&format!("/course-runs/{run}/sessions/9"))
        .await;
    p.assert_status(StatusCode::NOT_FOUND, "no session 9");

    // Feedback: a rating from 1 to 5.
    let person = app.sign_in("person", PASSWORD).await;
    app.store.enrol(&coord, run, w.own.id, src()).await.unwrap();
    for r in ["6", "0", ""] {
        let p = person
            .post_form(
                &format!("/course-runs/{run}/feedback"),
                &[("rating", r), ("helped", ""), ("better", "")],
            )
            .await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "rating");
        p.assert_error(
            "rating",
            "Select how useful the course was, from 1 to 5",
            "rating",
        );
    }
    let fb = app
        .store
        .feedback_summary(&coord, run, src())
        .await
        .unwrap();
    assert_eq!(fb.responses(), 0);

    // Enrolment by referral without a run, and withdrawal without a choice.
    let coordb = app.sign_in("coordinator", PASSWORD).await;
    let path = format!("/people/{}/courses", w.off_caseload.id);
    let p = coordb.post_form(&path, &[("run", "")]).await;
    p.assert_error("run", "Select a course run", "enrol without a run");
    let p = coordb
        .post_form_from(
            &path,
            &format!("{path}/withdraw"),
            &[("withdraw_run", "nonsense")],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "withdraw without a run");

    // Online pages: links must be https web addresses.
    let online = app
        .store
        .create_programme(
            &coord,
            ProgrammeDetails::parse(&ProgrammeForm {
                mode: "online".into(),
                completion_min: "".into(),
                ..copd_form()
            })
            .unwrap(),
            src(),
        )
        .await
        .unwrap();
    for (field, value, message) in [
        ("video_url", "javascript:alert(1)", "Video link must be a web address starting https://"),
        ("resources", "Leaflet | http://example.org/a.pdf", "Write each resource on its own line as a name, a | and a web address starting https://"),
        ("body", "", "Enter the page text"),
    ] {
        let mut fields = vec![("module_title", "Module 1"), ("title", "Your lungs"), ("body", "Text"), ("video_url", ""), ("resources", "")];
        for f in fields.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let p = educator.post_form_from(&format!("/courses/{online}/pages/new"), &format!("/courses/{online}/pages"), &fields).await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, field);
        p.assert_error(field, message, field);
    }
    assert!(app.store.pages(w.org_a, online).await.unwrap().is_empty());
    // An online programme has no runs.
    let p = educator.get(&format!("/courses/{online}/runs/new")).await;
    p.assert_status(StatusCode::BAD_REQUEST, "online runs");
}

async fn enrolments_are_seen_only_by_those_allowed_and_every_read_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (_, run) = programme_with_run(&app, &w, 5).await;
    let coord = w.account(Role::Coordinator).actor();
    app.store
        .enrol(&coord, run, w.on_caseload.id, src())
        .await
        .unwrap();
    app.store.enrol(&coord, run, w.own.id, src()).await.unwrap();
    let path = |p: &Person| format!("/people/{}/courses", p.id);
    // The person: their own yes, someone else's no.
    let person = app.sign_in("person", PASSWORD).await;
    let mine = person.get(&path(&w.own)).await;
    mine.assert_status(StatusCode::OK, "own courses");
    assert!(mine.main_text().contains("Breathing Space"));
    let other = person.get(&path(&w.on_caseload)).await;
    other.assert_status(StatusCode::FORBIDDEN, "someone else's courses");
    assert!(!other.body.contains(&w.on_caseload.family));
    // The run page shows the person only their own place, never the register.
    let run_page = person.get(&format!("/course-runs/{run}")).await;
    assert!(run_page.main_text().contains("You have a place"));
    assert!(!run_page.body.contains(&w.on_caseload.family));
    // The coach: caseload yes, others no. The educator: people on a run they facilitate.
    let coach = app.sign_in("health_coach", PASSWORD).await;
    coach
        .get(&path(&w.on_caseload))
        .await
        .assert_status(StatusCode::OK, "coach caseload");
    coach
        .get(&path(&w.off_caseload))
        .await
        .assert_status(StatusCode::FORBIDDEN, "coach off caseload");
    let educator = app.sign_in("educator", PASSWORD).await;
    let p = educator.get(&path(&w.on_caseload)).await;
    p.assert_status(StatusCode::OK, "educator facilitates their run");
    assert!(p.main_text().contains("Perpetua Caseloadine"));
    educator
        .get(&path(&w.off_caseload))
        .await
        .assert_status(StatusCode::FORBIDDEN, "educator, not on their run");
    // Volunteer and analyst: refused, and they see no register.
    for role in ["volunteer", "analyst", "peer_support_lead"] {
        let b = app.sign_in(role, PASSWORD).await;
        b.get(&path(&w.on_caseload))
            .await
            .assert_status(StatusCode::FORBIDDEN, role);
        let rp = b.get(&format!("/course-runs/{run}")).await;
        rp.assert_status(StatusCode::OK, role);
        assert!(
            !rp.body.contains(&w.on_caseload.family),
            "{role} sees a participant's name"
        );
        b.get(&format!("/course-runs/{run}/sessions/1"))
            .await
            .assert_status(StatusCode::FORBIDDEN, role);
    }
    // Another organisation's person is not found, for everyone.
    for role in Role::ALL {
        let b = app.sign_in(role.code(), PASSWORD).await;
        b.get(&path(&w.other_org))
            .await
            .assert_status(StatusCode::NOT_FOUND, role.code());
    }
    // Every read of a person's enrolments is audited, allowed or refused.
    let reads = app.audit(w.org_a).await;
    let about = |p: &Person, outcome: &str| {
        reads
            .iter()
            .filter(|e| {
                e.action == "course.enrolments.read"
                    && e.outcome == outcome
                    && e.person_id.as_deref() == Some(&p.id.to_string())
            })
            .count()
    };
    assert!(about(&w.own, "allowed") >= 2, "the person's own reads");
    assert!(about(&w.on_caseload, "refused") >= 4, "refusals recorded");
    assert!(
        about(&w.on_caseload, "allowed") >= 2,
        "coach and educator reads"
    );
    app.assert_audit_verifies().await;
}

async fn online_programme_progress_and_staff_completion(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let coord = w.account(Role::Coordinator).actor();
    let prog = app
        .store
        .create_programme(
            &coord,
            ProgrammeDetails::parse(&ProgrammeForm {
                title: "Living well online".into(),
                mode: "online".into(),
                sessions: "2".into(),
                completion_min: "".into(),
                conditions: vec!["other".into(), "copd".into()],
                ..copd_form()
            })
            .unwrap(),
            src(),
        )
        .await
        .unwrap();
    let educator = app.sign_in("educator", PASSWORD).await;
    let p = educator
        .post_form_from(
            &format!("/courses/{prog}/pages/new"),
            &format!("/courses/{prog}/pages"),
            &[
                ("module_title", "Getting started"),
                ("title", "What self-management means"),
                ("body", "## Small steps\nStart with one thing.\n\n- Sleep\n- Walking\n<script>alert(1)</script>"),
                ("video_url", "https://video.example/welcome"),
                ("resources", "Action plan | https://leaflets.example/plan.pdf"),
            ],
        )
        .await;
    p.assert_redirect(&format!("/courses/{prog}"), "add page");
    app.store
        .add_page(
            &coord,
            prog,
            ContentPage::parse(
                "Getting started",
                "Setting a goal",
                "Pick one goal.",
                "",
                "",
            )
            .unwrap(),
            src(),
        )
        .await
        .unwrap();
    let person = app.sign_in("person", PASSWORD).await;
    let page = person.get(&format!("/courses/{prog}/pages/1")).await;
    assert_eq!(page.h1(), "What self-management means");
    assert!(page.body.contains("<h2>Small steps</h2>"));
    assert!(page.body.contains("<li>Walking</li>"));
    assert!(!page.body.contains("<script>alert"), "page text is escaped");
    assert!(page.body.contains("&lt;script&gt;"));
    assert!(page.body.contains("https://leaflets.example/plan.pdf"));
    let p = person
        .post_form(
            &format!("/courses/{prog}/pages/1/done"),
            &[] as &[(&str, &str)],
        )
        .await;
    p.assert_redirect(&format!("/courses/{prog}/pages/2"), "done leads on");
    let overview = person.get(&format!("/courses/{prog}")).await;
    assert!(overview.main_text().contains("You have done 1 of 2 pages."));
    let my = person.get("/my/courses").await;
    assert!(my
        .main_text()
        .contains("Living well online: 1 of 2 pages done"));
    // Staff: who has started and how far.
    let l = educator.get(&format!("/courses/{prog}/learners")).await;
    assert_eq!(l.h1(), "Progress");
    assert!(l
        .main_text()
        .contains("1 people have started; 0 have done every page (2 pages)."));
    assert!(l.main_text().contains("Selwyn Ownrecordson"));
    person
        .post_form(
            &format!("/courses/{prog}/pages/2/done"),
            &[] as &[(&str, &str)],
        )
        .await;
    // Marking it again changes nothing.
    person
        .post_form(
            &format!("/courses/{prog}/pages/2/done"),
            &[] as &[(&str, &str)],
        )
        .await;
    let l = educator.get(&format!("/courses/{prog}/learners")).await;
    assert!(l.main_text().contains("1 have done every page"));
    assert_eq!(
        app.count_audit(w.org_a, "course.progress", Some("allowed"))
            .await,
        2
    );
    // Only the person saves their own progress; staff are refused.
    let coordb = app.sign_in("coordinator", PASSWORD).await;
    coordb
        .post_form(
            &format!("/courses/{prog}/pages/1/done"),
            &[] as &[(&str, &str)],
        )
        .await
        .assert_status(StatusCode::FORBIDDEN, "staff progress");
    let vol = app.sign_in("volunteer", PASSWORD).await;
    vol.get(&format!("/courses/{prog}/learners"))
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer progress list");
}

async fn report_counts_suppresses_and_downloads(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (_, run) = programme_with_run(&app, &w, 20).await;
    let coord = w.account(Role::Coordinator).actor();
    let people = more_people(&app, w.org_a, 12, "Reported").await;
    for p in &people {
        app.store.enrol(&coord, run, *p, src()).await.unwrap();
    }
    // 10 attend sessions 1–4 (complete: 4 of 6), 2 attend only session 1.
    for n in 1..=4 {
        let present = if n == 1 {
            people.clone()
        } else {
            people[..10].to_vec()
        };
        app.store
            .record_attendance(&coord, run, n, present, src())
            .await
            .unwrap();
    }
    let analyst = app.sign_in("analyst", PASSWORD).await;
    let page = analyst.get("/reports/education").await;
    page.assert_status(StatusCode::OK, "report");
    assert_eq!(page.h1(), "Education report");
    let text = page.main_text();
    // 12 people, 42 attendances over 4 sessions (10.5 a session), 10 of 12 completed (83%).
    assert!(
        text.contains(
            "People reached (with a place on a course or who started an online programme): 12"
        ),
        "{text}"
    );
    assert!(text.contains("42"));
    assert!(text.contains("10.5"));
    assert!(text.contains("83%"));
    // Activation not measured for anyone: that row shows; deciles not recorded.
    assert!(text.contains("Not measured"));
    assert!(page.body.contains("<svg"));
    assert!(page.body.contains("Completion rate by activation level"));
    for p in [&w.on_caseload, &w.own] {
        assert!(!page.body.contains(&p.family));
    }
    assert!(
        !page.body.contains("Reported"),
        "no identities in the report"
    );
    let csv = analyst.get("/reports/education.csv").await;
    csv.assert_status(StatusCode::OK, "csv");
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    assert!(csv
        .body
        .starts_with("section,programme,mode,group,people_reached"));
    assert!(
        csv.body
            .contains("programme,\"Breathing Space\",group,,12,12,0,0,42,4,10.5,10,12,83.3"),
        "{}",
        csv.body
    );
    // With fewer than 8 participants the counts are suppressed.
    let (_, small) = {
        let educator = w.account(Role::Educator);
        let pid = app
            .store
            .create_programme(
                &educator.actor(),
                ProgrammeDetails::parse(&ProgrammeForm {
                    title: "Sugar Smart".into(),
                    conditions: vec!["type2_diabetes".into()],
                    ..copd_form()
                })
                .unwrap(),
                src(),
            )
            .await
            .unwrap();
        let r = RunDetails::parse(
            &run_form(&educator.id.to_string(), 5, "2099-05-05"),
            DeliveryMode::Group,
            6,
        )
        .unwrap();
        (
            pid,
            app.store
                .create_run(&educator.actor(), pid, r, src())
                .await
                .unwrap(),
        )
    };
    for p in &people[..3] {
        app.store.enrol(&coord, small, *p, src()).await.unwrap();
    }
    let csv = analyst.get("/reports/education.csv").await;
    assert!(csv.body.contains("programme,\"Sugar Smart\",group,,suppressed,suppressed,0,0,0,0,no sessions held,0,suppressed,suppressed"), "{}", csv.body);
    // Educators, volunteers and people do not see the report; each view is audited.
    for role in ["educator", "volunteer", "person"] {
        let b = app.sign_in(role, PASSWORD).await;
        b.get("/reports/education")
            .await
            .assert_status(StatusCode::FORBIDDEN, role);
    }
    assert!(
        app.count_audit(w.org_a, "aggregates.read", Some("allowed"))
            .await
            >= 3
    );
    assert!(
        app.count_audit(w.org_a, "aggregates.read", Some("refused"))
            .await
            >= 3
    );
}

async fn onward_referral_from_a_course_is_recorded_on_the_persons_record(backend: Backend) {
    use alongside_core::directory::{ServiceDetails, ServiceKind, ServiceMode};
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (_, run) = programme_with_run(&app, &w, 5).await;
    let coord = w.account(Role::Coordinator).actor();
    let service = app
        .store
        .create_service(
            &coord,
            ServiceDetails {
                name: "Riverside Stop Smoking Service".into(),
                kind: ServiceKind::SmokingCessation,
                description: "Support and medicines to stop smoking.".into(),
                eligibility: None,
                conditions: vec![],
                self_referral: true,
                referral_method: None,
                email: None,
                phone: None,
                address: None,
                website: None,
                opening_times: None,
                modes: vec![ServiceMode::FaceToFace],
                languages: vec!["en".into()],
                active: true,
            },
            src(),
        )
        .await
        .expect("service");
    app.store
        .enrol(&coord, run, w.on_caseload.id, src())
        .await
        .unwrap();
    let path = format!("/people/{}/courses", w.on_caseload.id);
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let page = coach.get(&path).await;
    assert!(page.main_text().contains("Refer on from a course"));
    assert!(page.main_text().contains("Riverside Stop Smoking Service"));
    // Bad input: no course chosen, nothing written.
    let p = coach
        .post_form(
            &format!("{path}/refer"),
            &[("from_run", ""), ("service", &service.to_string())],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "no course");
    p.assert_error(
        "from_run",
        "Select the course the referral comes from",
        "no course",
    );
    let refs = app
        .store
        .person_referrals(&coord, w.on_caseload.id, src())
        .await
        .unwrap();
    assert!(refs.referrals.is_empty());
    // A referral from the course, sent, on the person's record with the course named.
    let p = coach
        .post_form(
            &format!("{path}/refer"),
            &[
                ("from_run", run.to_string().as_str()),
                ("service", &service.to_string()),
            ],
        )
        .await;
    p.assert_redirect(&format!("{path}?referred=1"), "refer on");
    let refs = app
        .store
        .person_referrals(&coord, w.on_caseload.id, src())
        .await
        .unwrap();
    assert_eq!(refs.referrals.len(), 1);
    assert_eq!(
        refs.referrals[0].service_name,
        "Riverside Stop Smoking Service"
    );
    assert_eq!(
        refs.referrals[0].reason,
        "Onward referral from the course Breathing Space: Tuesday mornings"
    );
    // Off the coach's caseload: refused, audited, nothing written.
    app.store
        .enrol(&coord, run, w.off_caseload.id, src())
        .await
        .unwrap();
    let p = coach
        .post_form_from(
            "/",
            &format!("/people/{}/courses/refer", w.off_caseload.id),
            &[
                ("from_run", run.to_string().as_str()),
                ("service", &service.to_string()),
            ],
        )
        .await;
    p.assert_status(StatusCode::FORBIDDEN, "off caseload");
    let refs = app
        .store
        .person_referrals(&coord, w.off_caseload.id, src())
        .await
        .unwrap();
    assert!(refs.referrals.is_empty());
    app.assert_audit_verifies().await;
}

async fn course_sessions_are_on_the_persons_coming_up_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let educator = w.account(Role::Educator);
    let pid = app
        .store
        .create_programme(
            &educator.actor(),
            ProgrammeDetails::parse(&copd_form()).unwrap(),
            src(),
        )
        .await
        .unwrap();
    let tomorrow = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
    let run = RunDetails::parse(
        &run_form(
            &educator.id.to_string(),
            5,
            &alongside_core::time::iso_date(tomorrow),
        ),
        DeliveryMode::Group,
        6,
    )
    .unwrap();
    let rid = app
        .store
        .create_run(&educator.actor(), pid, run, src())
        .await
        .unwrap();
    let person = app.sign_in("person", PASSWORD).await;
    let before = person.get("/my/upcoming").await;
    before.assert_status(StatusCode::OK, "coming up");
    assert!(before
        .main_text()
        .contains("No course sessions in the next two weeks."));
    app.store
        .enrol(&w.account(Role::Coordinator).actor(), rid, w.own.id, src())
        .await
        .unwrap();
    let page = person.get("/my/upcoming").await;
    let text = page.main_text();
    assert!(text.contains("Course sessions"), "{text}");
    // Sessions 1 and 2 (tomorrow and a week later) fall in the next two weeks; session 3 does not.
    assert!(text.contains("Breathing Space, session 1:"), "{text}");
    assert!(text.contains("Breathing Space, session 2:"), "{text}");
    assert!(!text.contains("Breathing Space, session 3:"), "{text}");
    assert!(page.body.contains(&format!("/course-runs/{rid}")));
    // The read of the person's enrolments for this page is audited.
    assert!(app
        .audit(w.org_a)
        .await
        .iter()
        .any(|e| e.action == "course.enrolments.read"
            && e.detail.as_deref() == Some("upcoming course sessions")));
}
