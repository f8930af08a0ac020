//! Changing a course run once it exists, over HTTP on both backends: editing it (places never
//! below the people holding one; raising them promotes from the waiting list and tells them),
//! moving one session (everyone with a place is told), and cancelling it (everyone enrolled or
//! waiting is withdrawn and told; nobody can join afterwards).

use crate::support::*;
use alongside_core::education::{
    DeliveryMode, ProgrammeDetails, ProgrammeForm, RunDetails, RunForm,
};
use alongside_core::ids::RunId;
use alongside_core::{PersonId, Role};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;

both_backends!(
    editing_a_run_keeps_places_above_those_taken_and_promotes_when_raised,
    moving_one_session_tells_everyone_with_a_place,
    cancelling_a_run_withdraws_and_tells_everyone,
);

fn src() -> Source {
    Source(Some("test".into()))
}

const TITLE: &str = "Breathing Space (Tuesday mornings)";

/// A six-session COPD group course with one run of `capacity` places from 3 March 2099
/// (Tuesdays, 10:00–12:00), and `n` people enrolled in order (the rest wait).
async fn run_with_people(
    app: &TestApp,
    w: &World,
    capacity: u32,
    n: usize,
) -> (RunId, Vec<PersonId>) {
    let educator = w.account(Role::Educator);
    let programme = ProgrammeDetails::parse(&ProgrammeForm {
        title: "Breathing Space".into(),
        summary: "A six-week group course for people living with COPD.".into(),
        provider: "Riverside PCN education team".into(),
        mode: "group".into(),
        sessions: "6".into(),
        session_minutes: "120".into(),
        completion_min: "4".into(),
        audience: "Adults with COPD".into(),
        topics: "Inhaler technique".into(),
        languages: vec!["en".into()],
        accessibility: String::new(),
        conditions: vec!["copd".into()],
    })
    .unwrap();
    let pid = app
        .store
        .create_programme(&educator.actor(), programme, src())
        .await
        .unwrap();
    let run = RunDetails::parse(
        &RunForm {
            label: "Tuesday mornings".into(),
            first_date: "3/3/2099".into(),
            start_time: "10:00".into(),
            end_time: "12:00".into(),
            venue: "Riverside Community Centre".into(),
            joining: String::new(),
            capacity: capacity.to_string(),
            facilitators: vec![educator.id.to_string()],
        },
        DeliveryMode::Group,
        6,
    )
    .unwrap();
    let rid = app
        .store
        .create_run(&educator.actor(), pid, run, src())
        .await
        .unwrap();
    let people: Vec<_> = (0..n)
        .map(|i| {
            (
                PersonId::new(),
                details(&format!("Learner{}", (b'a' + i as u8) as char), "Changeson"),
                None,
            )
        })
        .collect();
    let ids: Vec<PersonId> = people.iter().map(|p| p.0).collect();
    app.store
        .insert_people_unaudited_actor(w.org_a, people, "fixture")
        .await
        .unwrap();
    let coord = w.account(Role::Coordinator).actor();
    for p in &ids {
        app.store.enrol(&coord, rid, *p, src()).await.unwrap();
    }
    (rid, ids)
}

/// The messages a person has been sent about their courses, newest first.
async fn notices(app: &TestApp, w: &World, p: PersonId) -> Vec<String> {
    app.store
        .person_courses(&w.account(Role::Coordinator).actor(), p, src())
        .await
        .unwrap()
        .notices
        .into_iter()
        .map(|n| n.message)
        .collect()
}

fn edit_fields(capacity: &str, start: &str, end: &str, facilitator: &str) -> Vec<(String, String)> {
    [
        ("label", "Tuesday mornings"),
        ("first_date", "3/3/2099"),
        ("start_time", start),
        ("end_time", end),
        ("venue", "Mill Lane Library"),
        ("capacity", capacity),
        ("facilitators", facilitator),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn editing_a_run_keeps_places_above_those_taken_and_promotes_when_raised(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (run, people) = run_with_people(&app, &w, 3, 5).await;
    let educator = app.sign_in("educator", PASSWORD).await;
    let fac = w.account(Role::Educator).id.to_string();
    let edit = format!("/course-runs/{run}/edit");
    let form = educator.get(&edit).await;
    form.assert_status(StatusCode::OK, "edit form");
    assert_eq!(form.h1(), "Change this course run");
    assert_eq!(form.input_values("capacity"), vec!["3".to_string()]);
    for (part, value) in [
        ("first_date_day", "3"),
        ("first_date_month", "3"),
        ("first_date_year", "2099"),
    ] {
        assert_eq!(form.input_values(part), vec![value.to_string()], "{part}");
    }
    // Fewer places than people holding one: refused, nothing changed.
    let p = educator
        .post_form(&edit, &edit_fields("2", "10:00", "12:00", &fac))
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "below enrolled");
    assert_eq!(
        p.error_summary(),
        vec![(
            "#capacity".to_string(),
            "3 people have a place on this run, so the number of places cannot be fewer than 3"
                .to_string()
        )]
    );
    let r = app.store.run(w.org_a, run).await.unwrap();
    assert_eq!((r.capacity, r.enrolled, r.waiting), (3, 3, 2));
    assert_eq!(r.venue.as_deref(), Some("Riverside Community Centre"));
    // A bad time is refused naming the field.
    let p = educator
        .post_form(&edit, &edit_fields("4", "14:00", "13:00", &fac))
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "end before start");
    assert!(p.error_summary().contains(&(
        "#end_time".into(),
        "End time must be after the start time".into()
    )));
    // One more place, a new venue and new times: the first person waiting gets the place.
    let p = educator
        .post_form(&edit, &edit_fields("4", "14:00", "16:00", &fac))
        .await;
    p.assert_redirect(&format!("/course-runs/{run}?changed=1"), "saved");
    let r = app.store.run(w.org_a, run).await.unwrap();
    assert_eq!((r.capacity, r.enrolled, r.waiting), (4, 4, 1));
    assert_eq!(r.venue.as_deref(), Some("Mill Lane Library"));
    assert_eq!(
        alongside_core::education::describe_session(r.sessions[5].starts_at, r.sessions[5].ends_at),
        "Tuesday 7 April 2099, 14:00 to 16:00"
    );
    let told = notices(&app, &w, people[3]).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].starts_with(&format!("A place came free on {TITLE} and it is yours")));
    assert!(
        notices(&app, &w, people[4]).await.is_empty(),
        "the next in line still waits"
    );
    assert_eq!(
        app.count_audit(w.org_a, "course.promote", Some("allowed"))
            .await,
        1
    );
    let page = educator.get(&format!("/course-runs/{run}?changed=1")).await;
    assert!(page.main_text().contains("Course run changed."));
    assert!(page.main_text().contains("Mill Lane Library"));
    // People who do not run education may not change runs.
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.get(&edit)
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer");
    app.assert_audit_verifies().await;
}

async fn moving_one_session_tells_everyone_with_a_place(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (run, people) = run_with_people(&app, &w, 2, 3).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let edit = format!("/course-runs/{run}/edit");
    let mv = format!("/course-runs/{run}/move");
    // Bad input names its field; nothing moves.
    let p = coord
        .post_form_from(
            &edit,
            &mv,
            &[
                ("session", "9"),
                ("move_date", "20/3/2099"),
                ("move_start", "09:00"),
                ("move_end", "11:00"),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "no such session");
    assert_eq!(
        p.error_summary(),
        vec![(
            "#session".to_string(),
            "Choose the session to move".to_string()
        )]
    );
    let p = coord
        .post_form_from(
            &edit,
            &mv,
            &[
                ("session", "3"),
                ("move_date", "31/2/2099"),
                ("move_start", "11:00"),
                ("move_end", "09:00"),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad date and times");
    assert_eq!(
        p.error_summary(),
        vec![
            (
                "#move_date".to_string(),
                "The new date must be a real date, like 19/1/2027".to_string()
            ),
            (
                "#move_end".to_string(),
                "The end time must be after the start time".to_string()
            ),
        ]
    );
    let before = app.store.run(w.org_a, run).await.unwrap();
    // Session 3 (Tuesday 17 March) moves to Friday 20 March, 09:00–11:00.
    let p = coord
        .post_form_from(
            &edit,
            &mv,
            &[
                ("session", "3"),
                ("move_date", "20/3/2099"),
                ("move_start", "09:00"),
                ("move_end", "11:00"),
            ],
        )
        .await;
    p.assert_redirect(&format!("/course-runs/{run}?moved=1"), "moved");
    let after = app.store.run(w.org_a, run).await.unwrap();
    let describe = |s: &alongside_core::education::SessionTimes| {
        alongside_core::education::describe_session(s.starts_at, s.ends_at)
    };
    assert_eq!(
        describe(&after.sessions[2]),
        "Friday 20 March 2099, 09:00 to 11:00"
    );
    for i in [0, 1, 3, 4, 5] {
        assert_eq!(
            after.sessions[i],
            before.sessions[i],
            "session {} unchanged",
            i + 1
        );
    }
    let message = format!(
        "Session 3 of {TITLE} has moved: it is now on Friday 20 March 2099, 09:00 to 11:00."
    );
    for p in &people[..2] {
        assert_eq!(notices(&app, &w, *p).await, vec![message.clone()]);
    }
    assert!(
        notices(&app, &w, people[2]).await.is_empty(),
        "people waiting are not told"
    );
    // Saving the run's details with the same first session keeps the moved one.
    let fac = w.account(Role::Educator).id.to_string();
    let p = coord
        .post_form(&edit, &edit_fields("2", "10:00", "12:00", &fac))
        .await;
    p.assert_redirect(&format!("/course-runs/{run}?changed=1"), "saved");
    let kept = app.store.run(w.org_a, run).await.unwrap();
    assert_eq!(
        describe(&kept.sessions[2]),
        "Friday 20 March 2099, 09:00 to 11:00"
    );
    let page = coord.get(&format!("/course-runs/{run}")).await;
    assert!(page
        .main_text()
        .contains("Friday 20 March 2099, 09:00 to 11:00"));
}

async fn cancelling_a_run_withdraws_and_tells_everyone(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (run, people) = run_with_people(&app, &w, 2, 3).await;
    let cancel = format!("/course-runs/{run}/cancel");
    let edit = format!("/course-runs/{run}/edit");
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.post_form_from("/", &cancel, &[("reason", "x")])
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer cancels");
    let educator = app.sign_in("educator", PASSWORD).await;
    let long = "x".repeat(301);
    let p = educator
        .post_form_from(&edit, &cancel, &[("reason", long.as_str())])
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "long reason");
    assert_eq!(
        p.error_summary(),
        vec![(
            "#reason".to_string(),
            "The reason must be 300 characters or fewer".to_string()
        )]
    );
    assert!(app
        .store
        .run(w.org_a, run)
        .await
        .unwrap()
        .cancelled
        .is_none());
    let p = educator
        .post_form_from(&edit, &cancel, &[("reason", "The venue has flooded")])
        .await;
    p.assert_redirect(&format!("/course-runs/{run}?cancelled=1"), "cancelled");
    let r = app.store.run(w.org_a, run).await.unwrap();
    assert_eq!(r.cancelled.as_deref(), Some("The venue has flooded"));
    assert_eq!((r.enrolled, r.waiting), (0, 0));
    for p in &people[..2] {
        assert_eq!(
            notices(&app, &w, *p).await,
            vec![format!("{TITLE} has been cancelled (The venue has flooded), so your place on it has been released. We are sorry. You can look for another course run on the courses page.")]
        );
    }
    assert_eq!(
        notices(&app, &w, people[2]).await,
        vec![format!("{TITLE} has been cancelled (The venue has flooded), so you are no longer on its waiting list. We are sorry. You can look for another course run on the courses page.")]
    );
    assert_eq!(
        app.count_audit(w.org_a, "course.withdraw", Some("allowed"))
            .await,
        3
    );
    let page = educator
        .get(&format!("/course-runs/{run}?cancelled=1"))
        .await;
    let text = page.main_text();
    assert!(text
        .contains("Course run cancelled. Everyone who had a place or was waiting has been told"));
    assert!(text.contains("This course run has been cancelled. The venue has flooded"));
    // Nobody can join a cancelled run, and it cannot be changed any more.
    let person = app.sign_in("person", PASSWORD).await;
    let own = person.get(&format!("/course-runs/{run}")).await;
    assert!(own
        .main_text()
        .contains("This course run has been cancelled."));
    let p = person
        .post_form_from(
            &format!("/course-runs/{run}"),
            &format!("/course-runs/{run}/enrol"),
            &[] as &[(&str, &str)],
        )
        .await;
    p.assert_status(StatusCode::BAD_REQUEST, "enrol on a cancelled run");
    assert!(p
        .main_text()
        .contains("This course run has been cancelled, so nobody can join it."));
    educator
        .get(&edit)
        .await
        .assert_status(StatusCode::BAD_REQUEST, "edit a cancelled run");
    assert_eq!(app.store.run(w.org_a, run).await.unwrap().enrolled, 0);
    app.assert_audit_verifies().await;
}

both_backends!(the_date_input_adds_a_run_and_moves_a_session);

/// The NHS date input (day, month and year boxes) on the add-a-run form and the move form:
/// a problem goes on the box that is wrong, and the boxes' date is the one used.
async fn the_date_input_adds_a_run_and_moves_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let (run, _) = run_with_people(&app, &w, 3, 1).await;
    let programme = app.store.run(w.org_a, run).await.unwrap().programme_id;
    let educator = app.sign_in("educator", PASSWORD).await;
    let fac = w.account(Role::Educator).id.to_string();
    let new = format!("/courses/{programme}/runs/new");
    let form = educator.get(&new).await;
    form.assert_status(StatusCode::OK, "add-a-run form");
    for part in ["first_date_day", "first_date_month", "first_date_year"] {
        assert_eq!(form.input_values(part), vec![String::new()], "{part}");
    }
    let fields = |day: &str, month: &str, year: &str| -> Vec<(String, String)> {
        [
            ("label", "Thursday evenings"),
            ("first_date_day", day),
            ("first_date_month", month),
            ("first_date_year", year),
            ("start_time", "18:00"),
            ("end_time", "20:00"),
            ("venue", "Mill Lane Library"),
            ("capacity", "10"),
            ("facilitators", fac.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let runs = format!("/courses/{programme}/runs");
    let p = educator
        .post_form_from(&new, &runs, &fields("5", "", "2099"))
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "no month");
    p.assert_error(
        "first_date_month",
        "Date of the first session must include a month",
        "no month",
    );
    assert_eq!(p.input_values("first_date_day"), vec!["5".to_string()]);
    let p = educator
        .post_form_from(&new, &runs, &fields("5", "3", "2099"))
        .await;
    p.assert_redirect("/course-runs/", "added");
    let added = app.store.runs(w.org_a, Some(programme)).await.unwrap();
    let first = added
        .iter()
        .find(|r| r.label == "Thursday evenings")
        .expect("the run")
        .sessions[0];
    assert_eq!(
        alongside_core::education::describe_session(first.starts_at, first.ends_at),
        "Thursday 5 March 2099, 18:00 to 20:00"
    );

    // Moving session 2 (Tuesday 10 March) with the boxes.
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let edit = format!("/course-runs/{run}/edit");
    let mv = format!("/course-runs/{run}/move");
    let page = coord.get(&edit).await;
    assert_eq!(page.input_values("move_date_year"), vec![String::new()]);
    let moving = |day: &str| {
        vec![
            ("session", "2".to_string()),
            ("move_date_day", day.to_string()),
            ("move_date_month", "3".to_string()),
            ("move_date_year", "2099".to_string()),
            ("move_start", "09:00".to_string()),
            ("move_end", "11:00".to_string()),
        ]
    };
    let p = coord.post_form_from(&edit, &mv, &moving("32")).await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "no such day");
    p.assert_error("move_date_day", "The new date must be a real date", "day");
    coord
        .post_form_from(&edit, &mv, &moving("12"))
        .await
        .assert_redirect(&format!("/course-runs/{run}?moved=1"), "moved");
    let s = app.store.run(w.org_a, run).await.unwrap().sessions[1];
    assert_eq!(
        alongside_core::education::describe_session(s.starts_at, s.ends_at),
        "Thursday 12 March 2099, 09:00 to 11:00"
    );
}
