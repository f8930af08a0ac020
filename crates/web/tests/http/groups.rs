//! Peer support through HTTP, on SQLite and PostgreSQL: the door never admits more than the
//! session's capacity however many devices sign people in at once; bad group input is refused
//! with field-named messages; a person finds a group, books (within the places not held back
//! for walk-ins) and cancels; volunteers see first names only; sessions are cancelled and
//! moved one-off; attendance history for the person and for staff.

use crate::support::*;
use alongside_core::groups::{GroupDetails, GroupForm};
use alongside_core::time::iso_date;
use alongside_core::{GroupId, Role};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use time::Date;

fn today() -> Date {
    alongside_web::Clock::default().today()
}

/// A daily group from today for 30 days, 18:00–23:00, with the given places.
fn cafe(name: &str, capacity: u32, walk_in: u32) -> GroupDetails {
    let t = today();
    let until = t.saturating_add(time::Duration::days(30));
    GroupDetails::parse(&GroupForm {
        name: name.into(),
        kind: "formal".into(),
        focus: "depression".into(),
        mode: "in_person".into(),
        venue: "The Old Library, 12 High Street".into(),
        place: "Riverside".into(),
        who_may_join: "Anyone over 18".into(),
        first_day: t.day().to_string(),
        first_month: u8::from(t.month()).to_string(),
        first_year: t.year().to_string(),
        start_time: "18:00".into(),
        end_time: "23:00".into(),
        repeat: "daily".into(),
        until_day: until.day().to_string(),
        until_month: u8::from(until.month()).to_string(),
        until_year: until.year().to_string(),
        capacity: capacity.to_string(),
        walk_in_places: walk_in.to_string(),
        ..Default::default()
    })
    .expect("valid café")
}

async fn create_group(app: &TestApp, w: &World, d: GroupDetails) -> GroupId {
    app.store
        .create_group(
            &w.account(Role::Coordinator).actor(),
            d,
            Source(Some("fixture".into())),
        )
        .await
        .expect("create group")
}

fn door_path(g: GroupId, d: Date) -> String {
    format!("/groups/{g}/sessions/{}/door", iso_date(d))
}

async fn two_hundred_sign_ins_admit_exactly_sixty(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = create_group(&app, &w, cafe("Evening peer-support café", 60, 0)).await;
    let day = today();
    roster_volunteer(&app, &w, g, day).await;
    let path = door_path(g, day);
    // Ten devices at the door, signed in as the volunteer, the lead and the coordinator.
    let mut devices = Vec::new();
    for i in 0..10 {
        let who = ["volunteer", "peer_support_lead", "coordinator"][i % 3];
        let b = app.sign_in(who, PASSWORD).await;
        let token = b.csrf_token(&path).await.expect("door page has a form");
        devices.push((b, token));
    }
    let mut tasks = Vec::new();
    for n in 0..200 {
        let (b, token) = devices[n % devices.len()].clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            b.post_pairs(
                &path,
                &[
                    ("csrf_token", token.as_str()),
                    ("first_name", &format!("Walker{}", alpha(n))),
                ],
            )
            .await
        }));
    }
    let mut admitted = 0;
    let mut full = 0;
    for t in tasks {
        let p = t.await.expect("task");
        match p.status {
            StatusCode::SEE_OTHER => {
                assert!(p
                    .location()
                    .unwrap_or("")
                    .starts_with(&format!("{path}?admitted=")));
                admitted += 1;
            }
            StatusCode::CONFLICT => {
                assert!(
                    p.main_text()
                        .contains("The session is full: all 60 places are taken."),
                    "a refusal must say plainly that the session is full: {}",
                    p.snippet()
                );
                full += 1;
            }
            other => panic!("unexpected answer {other}: {}", p.snippet()),
        }
    }
    assert_eq!((admitted, full), (60, 140), "on {backend:?}");
    assert_eq!(
        app.store
            .session_attendance_count(w.org_a, g, day)
            .await
            .unwrap(),
        60
    );
    let group = app.store.group(w.org_a, g).await.unwrap();
    let s = app.store.group_session(&group, day).await.unwrap();
    assert_eq!((s.signed_in, s.walk_ins), (60, 60));
    assert_eq!(
        app.count_audit(w.org_a, "group_session.sign_in", Some("allowed"))
            .await,
        60
    );
    // The door page shows the live count and "Full".
    let page = devices[0].0.get(&path).await;
    page.assert_status(StatusCode::OK, "door page");
    assert_eq!(page.h1(), "60 of 60 signed in");
    assert!(page.main_text().contains("Full — every place is taken"));
    app.assert_audit_verifies().await;
}

/// Letters only (first names may not contain digits).
fn alpha(mut n: usize) -> String {
    let mut s = String::new();
    for _ in 0..3 {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    s
}

async fn bad_group_input_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let form = lead.get("/groups/new").await;
    form.assert_status(StatusCode::OK, "new group form");
    let good = with(
        &form.form_values("/groups"),
        &[
            ("name", "Tuesday walking group"),
            ("venue", "Riverside Park gates"),
            ("who_may_join", "Anyone with a long-term condition"),
            ("start_time", "10:00"),
            ("end_time", "11:30"),
            ("days", "TU"),
            ("count", "10"),
            ("capacity", "12"),
        ],
    );
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("end_time", "09:00")],
            "end_time",
            "The end time must be after the start time",
        ),
        (
            &[("capacity", "0")],
            "capacity",
            "The number of places must be a whole number of 1 or more (at most 10,000)",
        ),
        (
            &[("capacity", "-5")],
            "capacity",
            "The number of places must be a whole number of 1 or more (at most 10,000)",
        ),
        (
            &[("count", "")],
            "until_day",
            "Sessions cannot repeat for ever: enter the date they end, or how many there are",
        ),
        (
            &[("repeat", "custom"), ("rrule", "FREQ=WEEKLY;BYDAY=TU"), ("count", "")],
            "rrule",
            "Sessions cannot repeat for ever: add UNTIL or COUNT to the rule, or enter the date they end",
        ),
        (
            &[("walk_in_places", "13")],
            "walk_in_places",
            "Places held back for walk-ins cannot be more than the number of places",
        ),
    ];
    for (overrides, field, message) in cases {
        let p = lead.post_pairs("/groups", &with(&good, overrides)).await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, field);
        p.assert_error(field, message, field);
    }
    assert!(
        app.store.groups(w.org_a).await.unwrap().is_empty(),
        "nothing half-written"
    );
    let p = lead.post_pairs("/groups", &good).await;
    p.assert_redirect("/groups/", "valid group");
    let groups = app.store.groups(w.org_a).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].details.rrule, "FREQ=WEEKLY;BYDAY=TU;COUNT=10");
    // A volunteer may not create groups.
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.post_form_from("/", "/groups", &good)
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer creates a group");
    assert_eq!(app.store.groups(w.org_a).await.unwrap().len(), 1);
}

async fn person_books_within_bookable_places_and_cancels(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    // 3 places, 1 held back for walk-ins: 2 may be booked.
    let g = create_group(&app, &w, cafe("Creative café", 3, 1)).await;
    let day = today().saturating_add(time::Duration::days(2));
    roster_volunteer(&app, &w, g, day).await;
    let session = format!("/groups/{g}/sessions/{}", iso_date(day));
    let hash = password_hash().await;
    let mut people = vec![(w.own.clone(), app.sign_in("person", PASSWORD).await)];
    for (given, user) in [("Beatrix", "beatrix"), ("Cosmo", "cosmo")] {
        let id = alongside_core::PersonId::new();
        app.store
            .insert_people_unaudited_actor(
                w.org_a,
                vec![(id, details(given, "Bookerson"), None)],
                "fixture",
            )
            .await
            .unwrap();
        create_account(&app, w.org_a, Role::Person, user, given, Some(id), &hash).await;
        people.push((
            Person {
                id,
                org: w.org_a,
                given: given.into(),
                family: "Bookerson".into(),
            },
            app.sign_in(user, PASSWORD).await,
        ));
    }
    // The person finds the café by condition, day and place.
    let found = people[0]
        .1
        .get("/groups?condition=depression&mode=in_person&time=evening&place=river")
        .await;
    found.assert_status(StatusCode::OK, "find groups");
    assert!(found.main_text().contains("Creative café"));
    let none = people[0].1.get("/groups?mode=online").await;
    assert!(!none.main_text().contains("Creative café"));
    let book = |i: usize| {
        let (b, session) = (people[i].1.clone(), session.clone());
        async move {
            b.post_form_from(
                &session,
                &format!("{session}/booking"),
                &[("action", "book")],
            )
            .await
        }
    };
    book(0)
        .await
        .assert_redirect(&format!("{session}?booked=1"), "first booking");
    book(1)
        .await
        .assert_redirect(&format!("{session}?booked=1"), "second booking");
    let third = book(2).await;
    third.assert_status(StatusCode::CONFLICT, "third booking");
    assert_eq!(third.h1(), "No places left to book");
    // Coming up shows the booking.
    let up = people[0].1.get("/my/upcoming").await;
    up.assert_status(StatusCode::OK, "coming up");
    assert!(up.main_text().contains("Creative café"), "{}", up.snippet());
    assert!(up.main_text().contains("booked"));
    // Cancelling frees the place for the third person.
    people[1]
        .1
        .post_form_from(
            &session,
            &format!("{session}/booking"),
            &[("action", "cancel")],
        )
        .await
        .assert_redirect(&format!("{session}?cancelled=1"), "cancel");
    book(2).await.assert_redirect(
        &format!("{session}?booked=1"),
        "booking after a cancellation",
    );
    assert_eq!(
        app.count_audit(w.org_a, "group_session.book", Some("allowed"))
            .await,
        3
    );
    assert_eq!(
        app.count_audit(w.org_a, "group_session.cancel_booking", Some("allowed"))
            .await,
        1
    );
    // At the door: one walk-in fills the held-back place; booked people still get in.
    let v = app.sign_in("volunteer", PASSWORD).await;
    let door = door_path(g, day);
    v.post_form(&door, &[("first_name", "Wanda")])
        .await
        .assert_redirect(&format!("{door}?admitted="), "walk-in");
    let full = v.post_form(&door, &[("first_name", "Xavier")]).await;
    full.assert_status(StatusCode::CONFLICT, "second walk-in");
    let search = v.get(&format!("{door}?q=sel")).await;
    assert!(
        search.main_text().contains("Selwyn (booked)"),
        "{}",
        search.snippet()
    );
    assert!(
        !search.body.contains("Ownrecordson"),
        "volunteers see first names only"
    );
    let person_id = w.own.id.to_string();
    v.post_form(&door, &[("person", person_id.as_str())])
        .await
        .assert_redirect(&format!("{door}?admitted="), "booked arrival");
    let page = v.get(&door).await;
    assert_eq!(page.h1(), "2 of 3 signed in");
    // The volunteer still may not open the person's record or history.
    v.get(&format!("/people/{}", w.own.id))
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer opens record");
    v.get(&format!("/people/{}/attendance", w.own.id))
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer opens history");
    // Attendance history: the person's own view and the coordinator's.
    let own = people[0]
        .1
        .get(&format!("/people/{}/attendance", w.own.id))
        .await;
    own.assert_status(StatusCode::OK, "own history");
    assert!(own.main_text().contains("Creative café") && own.main_text().contains("1 session"));
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let staff = coord.get(&format!("/people/{}/attendance", w.own.id)).await;
    assert!(staff.main_text().contains("Creative café"));
    app.assert_audit_verifies().await;
}

async fn sessions_are_cancelled_and_moved_one_off(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = create_group(&app, &w, cafe("Evening café", 60, 10)).await;
    let day = today().saturating_add(time::Duration::days(1));
    roster_volunteer(&app, &w, g, day).await;
    let session = format!("/groups/{g}/sessions/{}", iso_date(day));
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    lead.post_form(
        &format!("{session}/change"),
        &[("action", "cancel"), ("note", "Storm warning")],
    )
    .await
    .assert_redirect(&format!("{session}?changed=1"), "cancel");
    let page = lead.get(&session).await;
    assert!(page
        .main_text()
        .contains("This session is cancelled. Storm warning"));
    let group_page = lead.get(&format!("/groups/{g}")).await;
    assert!(group_page.main_text().contains("cancelled"));
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.post_form(&door_path(g, day), &[("first_name", "Wanda")])
        .await
        .assert_status(StatusCode::BAD_REQUEST, "sign-in to a cancelled session");
    let person = app.sign_in("person", PASSWORD).await;
    person
        .post_form_from(
            &session,
            &format!("{session}/booking"),
            &[("action", "book")],
        )
        .await
        .assert_status(StatusCode::CONFLICT, "booking a cancelled session");
    // Move the next day's session to a Saturday afternoon.
    let next = day.saturating_add(time::Duration::days(1));
    let next_path = format!("/groups/{g}/sessions/{}", iso_date(next));
    let to = next.saturating_add(time::Duration::days(2));
    let bad = lead
        .post_form(
            &format!("{next_path}/change"),
            &[
                ("action", "move"),
                ("move_day", &to.day().to_string()),
                ("move_month", &u8::from(to.month()).to_string()),
                ("move_year", &to.year().to_string()),
                ("move_start", "15:00"),
                ("move_end", "14:00"),
            ],
        )
        .await;
    bad.assert_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "move with end before start",
    );
    bad.assert_error(
        "move_end",
        "The end time must be after the start time",
        "move",
    );
    lead.post_form(
        &format!("{next_path}/change"),
        &[
            ("action", "move"),
            ("move_day", &to.day().to_string()),
            ("move_month", &u8::from(to.month()).to_string()),
            ("move_year", &to.year().to_string()),
            ("move_start", "14:00"),
            ("move_end", "17:00"),
        ],
    )
    .await
    .assert_redirect(&format!("{next_path}?changed=1"), "move");
    let moved = lead.get(&next_path).await;
    assert!(moved.h1().contains("14:00 to 17:00"), "{}", moved.h1());
    assert!(moved.main_text().contains("Moved from"));
    assert_eq!(
        app.count_audit(w.org_a, "group_session.change", Some("allowed"))
            .await,
        2
    );
    // A date the rule does not give is not a session.
    let outside = today().saturating_add(time::Duration::days(90));
    lead.get(&format!("/groups/{g}/sessions/{}", iso_date(outside)))
        .await
        .assert_status(StatusCode::NOT_FOUND, "date outside the rule");
}

both_backends!(
    two_hundred_sign_ins_admit_exactly_sixty,
    bad_group_input_is_refused,
    person_books_within_bookable_places_and_cancels,
    sessions_are_cancelled_and_moved_one_off,
);
