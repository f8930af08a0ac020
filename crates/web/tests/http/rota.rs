//! The people who run peer support, through HTTP on SQLite and PostgreSQL: training records
//! with their status and the refusal of an expiry before completion; the rota (an overlapping
//! entry of the same person on the same day, in any group, is refused with a clear message and
//! nothing written, also when sent simultaneously; end before start; someone who is not staff
//! or a volunteer); the session's
//! warnings (under-staffed, required training missing or expired) appearing and going away;
//! volunteers limited to the door of the sessions they are on the rota for; and staff booking
//! a place on a person's behalf within the bookable places, shown in the person's "Coming up"
//! and audited on their record.

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

/// A daily group from today for 30 days with the given times and places, needing
/// safeguarding training from everyone on the rota, one volunteer per 15 people.
fn group(name: &str, times: (&str, &str), capacity: u32, walk_in: u32) -> GroupDetails {
    let t = today();
    let until = t.saturating_add(time::Duration::days(30));
    GroupDetails::parse(&GroupForm {
        name: name.into(),
        kind: "formal".into(),
        focus: "any".into(),
        mode: "in_person".into(),
        venue: "The Old Library".into(),
        who_may_join: "Anyone".into(),
        first_day: t.day().to_string(),
        first_month: u8::from(t.month()).to_string(),
        first_year: t.year().to_string(),
        start_time: times.0.into(),
        end_time: times.1.into(),
        repeat: "daily".into(),
        until_day: until.day().to_string(),
        until_month: u8::from(until.month()).to_string(),
        until_year: until.year().to_string(),
        capacity: capacity.to_string(),
        walk_in_places: walk_in.to_string(),
        attendees_per_volunteer: "15".into(),
        required_training: vec!["safeguarding".into()],
        ..Default::default()
    })
    .expect("valid group")
}

async fn create(app: &TestApp, w: &World, d: GroupDetails) -> GroupId {
    app.store
        .create_group(
            &w.account(Role::PeerSupportLead).actor(),
            d,
            Source(Some("fixture".into())),
        )
        .await
        .expect("create group")
}

fn session(g: GroupId, d: Date) -> String {
    format!("/groups/{g}/sessions/{}", iso_date(d))
}

/// Date fields of a form for `d`.
fn date_fields(prefix: &str, d: Date) -> Vec<(String, String)> {
    vec![
        (format!("{prefix}_day"), d.day().to_string()),
        (format!("{prefix}_month"), u8::from(d.month()).to_string()),
        (format!("{prefix}_year"), d.year().to_string()),
    ]
}

async fn record_training(
    b: &Browser,
    user: &Account,
    course: &str,
    done: Date,
    expires: Option<Date>,
) -> Page {
    let path = format!("/rota/people/{}", user.id);
    let mut fields = vec![("course".to_string(), course.to_string())];
    fields.extend(date_fields("completed", done));
    if let Some(x) = expires {
        fields.extend(date_fields("expires", x));
    }
    b.post_form_from(&path, &format!("{path}/training"), &fields)
        .await
}

async fn roster(
    b: &Browser,
    g: GroupId,
    d: Date,
    who: &Account,
    duty: &str,
    times: (&str, &str),
) -> Page {
    let path = format!("{}/rota", session(g, d));
    let id = who.id.to_string();
    b.post_form_from(
        &path,
        &path,
        &[
            ("user", id.as_str()),
            ("duty", duty),
            ("start_time", times.0),
            ("end_time", times.1),
        ],
    )
    .await
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

async fn training_is_recorded_and_shown_with_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let vol = w.account(Role::Volunteer);
    let t = today();
    record_training(
        &lead,
        vol,
        "safeguarding",
        t - days(365),
        Some(t + days(700)),
    )
    .await
    .assert_redirect(&format!("/rota/people/{}?recorded=1", vol.id), "valid");
    record_training(&lead, vol, "first_aid", t - days(1000), Some(t - days(10)))
        .await
        .assert_redirect(&format!("/rota/people/{}?recorded=1", vol.id), "expired");
    record_training(
        &lead,
        vol,
        "peer_support",
        t - days(300),
        Some(t + days(10)),
    )
    .await
    .assert_redirect(&format!("/rota/people/{}?recorded=1", vol.id), "soon");
    let page = lead
        .get(&format!("/rota/people/{}?recorded=1", vol.id))
        .await;
    page.assert_status(StatusCode::OK, "training page");
    assert_eq!(page.h1(), "Training: Vida Volunteer");
    let text = page.main_text();
    assert!(text.contains("Training recorded"), "{text}");
    for (course, status) in [
        ("Safeguarding adults", "Valid"),
        ("First aid", "Expired"),
        ("Peer-support training", "Expiring soon"),
    ] {
        let row = page
            .html()
            .select(&scraper::Selector::parse("tbody tr").unwrap())
            .map(|r| r.text().collect::<Vec<_>>().join(" "))
            .find(|r| r.contains(course))
            .unwrap_or_else(|| panic!("no row for {course}: {text}"));
        assert!(row.contains(status), "{course}: {row}");
    }
    // The session team lists staff and volunteers with their roles and training status.
    let team = lead.get("/rota/people").await;
    team.assert_status(StatusCode::OK, "team");
    let team_text = team.main_text();
    assert!(team_text.contains("Vida Volunteer") && team_text.contains("Volunteer"));
    assert!(team_text.contains("First aid: Expired"), "{team_text}");
    assert!(
        team_text.contains("Safeguarding adults: Valid"),
        "{team_text}"
    );
    assert!(team_text.contains("Petra Peerlead") && team_text.contains("No training recorded"));
    assert!(
        !team_text.contains("Selwyn") && !team_text.contains("Anselm"),
        "people's own accounts and analysts do not run sessions: {team_text}"
    );
    // Expiry before completion: refused, naming the field, nothing written.
    let bad = record_training(&lead, vol, "safeguarding", t - days(10), Some(t - days(20))).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "expiry before completion");
    bad.assert_error(
        "expires_day",
        "The expiry date must be the same as or after the date it was completed",
        "expiry before completion",
    );
    let no_course = lead
        .post_form_from(
            &format!("/rota/people/{}", vol.id),
            &format!("/rota/people/{}/training", vol.id),
            &[("course", "")],
        )
        .await;
    no_course.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "empty form");
    no_course.assert_error("course", "Choose the training course", "empty form");
    assert_eq!(
        app.store
            .training_records(w.org_a, Some(vol.id))
            .await
            .unwrap()
            .len(),
        3,
        "nothing written by the refusals"
    );
    assert_eq!(
        app.count_audit(w.org_a, "training.record", Some("allowed"))
            .await,
        3
    );
    // A volunteer does not keep training records; a person's account has none.
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.get("/rota/people")
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer team page");
    let r = record_training(&v, vol, "safeguarding", t, None).await;
    r.assert_status(StatusCode::FORBIDDEN, "volunteer records training");
    lead.get(&format!("/rota/people/{}", w.account(Role::Person).id))
        .await
        .assert_status(StatusCode::NOT_FOUND, "a person's own account");
    app.assert_audit_verifies().await;
}

async fn overlapping_rota_entries_are_refused_and_nothing_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let cafe = create(&app, &w, group("Evening café", ("18:00", "23:00"), 60, 0)).await;
    let walk = create(&app, &w, group("Twilight walk", ("17:00", "20:00"), 20, 0)).await;
    let day = today() + days(2);
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let vol = w.account(Role::Volunteer);
    roster(&lead, cafe, day, vol, "volunteer", ("18:00", "21:00"))
        .await
        .assert_redirect(
            &format!("{}/rota?added=1", session(cafe, day)),
            "first entry",
        );
    // The same volunteer at the walk, 19:00–20:00 the same day: overlaps the café.
    let bad = roster(&lead, walk, day, vol, "volunteer", ("19:00", "20:00")).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "overlap");
    bad.assert_error(
        "start_time",
        "Vida Volunteer is already on the rota from 18:00 to 21:00 that day (Evening café): the times overlap",
        "overlap",
    );
    let walk_rota = lead.get(&format!("{}/rota", session(walk, day))).await;
    assert!(
        walk_rota.main_text().contains("Nobody is on the rota yet."),
        "nothing written: {}",
        walk_rota.main_text()
    );
    // Touching ends do not overlap; another day does not either.
    roster(&lead, walk, day, vol, "volunteer", ("17:00", "18:00"))
        .await
        .assert_redirect(&format!("{}/rota?added=1", session(walk, day)), "touching");
    roster(
        &lead,
        walk,
        day + days(1),
        vol,
        "volunteer",
        ("19:00", "20:00"),
    )
    .await
    .assert_redirect(
        &format!("{}/rota?added=1", session(walk, day + days(1))),
        "next day",
    );
    // A cancelled session takes nobody onto its rota.
    let cancelled_day = day + days(3);
    app.store
        .change_session(
            &w.account(Role::Coordinator).actor(),
            cafe,
            cancelled_day,
            alongside_store::groups::SessionChange::Cancel { note: None },
            Source::default(),
        )
        .await
        .expect("cancel the session");
    let refused = roster(
        &lead,
        cafe,
        cancelled_day,
        vol,
        "volunteer",
        ("18:00", "21:00"),
    )
    .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "cancelled session");
    refused.assert_error(
        "user",
        "This session is cancelled, so nobody can be put on its rota",
        "cancelled session",
    );
    let cancelled_rota = lead
        .get(&format!("{}/rota", session(cafe, cancelled_day)))
        .await;
    assert!(
        cancelled_rota
            .main_text()
            .contains("Nobody is on the rota yet."),
        "nothing written for the cancelled session: {}",
        cancelled_rota.main_text()
    );
    // End before start; times outside the session.
    let backwards = roster(
        &lead,
        cafe,
        day,
        w.account(Role::Coordinator),
        "staff",
        ("22:00", "19:00"),
    )
    .await;
    backwards.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "end before start");
    backwards.assert_error(
        "end_time",
        "The end time must be after the start time",
        "end before start",
    );
    let outside = roster(
        &lead,
        cafe,
        day,
        w.account(Role::Coordinator),
        "staff",
        ("17:00", "19:00"),
    )
    .await;
    outside.assert_error(
        "start_time",
        "The times must be within the session, 18:00 to 23:00",
        "outside",
    );
    // Not staff or a volunteer of this organisation: a person's own account, another
    // organisation's administrator; and a volunteer cannot be on as staff.
    for who in [w.account(Role::Person), &w.admin_b] {
        let p = roster(&lead, cafe, day, who, "staff", ("18:00", "19:00")).await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "not a runner");
        p.assert_error(
            "user",
            "Choose someone who is staff or a volunteer of this organisation",
            "not a runner",
        );
    }
    let as_staff = roster(&lead, cafe, day, &w.spare, "staff", ("18:00", "19:00")).await;
    as_staff.assert_error(
        "duty",
        "A volunteer can only be on the rota as a volunteer",
        "duty",
    );
    let cafe_rota = lead.get(&format!("{}/rota", session(cafe, day))).await;
    let rows = cafe_rota
        .html()
        .select(&scraper::Selector::parse("table.rota tbody tr").unwrap())
        .count();
    assert_eq!(rows, 1, "only the first entry: {}", cafe_rota.main_text());
    assert!(cafe_rota.main_text().contains("18:00 to 21:00"));
    assert_eq!(
        app.count_audit(w.org_a, "rota.change", Some("allowed"))
            .await,
        3
    );
    // Remove the café entry: the walk's 19:00 slot is then free.
    let entry = app.store.rota(w.org_a, cafe, day).await.unwrap()[0]
        .id
        .clone();
    let remove = format!("{}/rota/{entry}/remove", session(cafe, day));
    lead.post_form_from(
        &format!("{}/rota", session(cafe, day)),
        &remove,
        &[] as &[(&str, &str)],
    )
    .await
    .assert_redirect(&format!("{}/rota?removed=1", session(cafe, day)), "remove");
    let after = lead.get(&format!("{}/rota", session(cafe, day))).await;
    assert!(after.main_text().contains("Nobody is on the rota yet."));
    roster(&lead, walk, day, vol, "volunteer", ("18:00", "20:00"))
        .await
        .assert_redirect(
            &format!("{}/rota?added=1", session(walk, day)),
            "after removal",
        );
    // A volunteer may not change the rota.
    let v = app.sign_in("volunteer", PASSWORD).await;
    roster(&v, cafe, day, vol, "volunteer", ("18:00", "21:00"))
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer rosters");
    assert!(app.store.rota(w.org_a, cafe, day).await.unwrap().is_empty());
    app.assert_audit_verifies().await;
}

/// Simultaneous overlapping entries for the same person, in two groups, from several devices:
/// exactly one is written.
async fn simultaneous_overlapping_entries_write_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let a = create(&app, &w, group("Evening café", ("18:00", "23:00"), 60, 0)).await;
    let b = create(&app, &w, group("Evening walk", ("18:00", "20:00"), 20, 0)).await;
    let day = today() + days(3);
    let vol = w.account(Role::Volunteer).id.to_string();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let who = ["peer_support_lead", "coordinator"][n % 2];
        let browser = app.sign_in(who, PASSWORD).await;
        let path = format!("{}/rota", session([a, b][n % 2], day));
        let token = browser.csrf_token(&path).await.expect("rota form");
        let vol = vol.clone();
        tasks.push(tokio::spawn(async move {
            browser
                .post_pairs(
                    &path,
                    &[
                        ("csrf_token", token.as_str()),
                        ("user", vol.as_str()),
                        ("duty", "volunteer"),
                        ("start_time", "18:00"),
                        ("end_time", "20:00"),
                    ],
                )
                .await
        }));
    }
    let mut added = 0;
    for t in tasks {
        let p = t.await.expect("task");
        match p.status {
            StatusCode::SEE_OTHER => added += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(
                    p.main_text().contains("the times overlap"),
                    "{}",
                    p.snippet()
                )
            }
            other => panic!("unexpected {other}: {}", p.snippet()),
        }
    }
    assert_eq!(added, 1, "on {backend:?}");
    let total = app.store.rota(w.org_a, a, day).await.unwrap().len()
        + app.store.rota(w.org_a, b, day).await.unwrap().len();
    assert_eq!(total, 1);
    app.assert_audit_verifies().await;
}

async fn warnings_appear_and_go_away(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = create(&app, &w, group("Evening café", ("18:00", "23:00"), 60, 0)).await;
    let day = today();
    let path = session(g, day);
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let page = lead.get(&path).await;
    let text = page.main_text();
    assert!(text.contains("This session needs attention"), "{text}");
    assert!(text.contains("No staff member is on the rota: at least one is needed"));
    assert!(text.contains("0 volunteers are on the rota for 0 people: 1 needed (one per 15)"));
    // Staff on, without the required training.
    let lead_acc = w.account(Role::PeerSupportLead);
    let vol = w.account(Role::Volunteer);
    roster(&lead, g, day, lead_acc, "staff", ("18:00", "23:00")).await;
    let text = lead.get(&path).await.main_text();
    assert!(!text.contains("No staff member"), "{text}");
    assert!(
        text.contains("Petra Peerlead has no record of required training: Safeguarding adults"),
        "{text}"
    );
    record_training(&lead, lead_acc, "safeguarding", day - days(30), None).await;
    // The volunteer's safeguarding lapsed before the session.
    record_training(
        &lead,
        vol,
        "safeguarding",
        day - days(800),
        Some(day - days(1)),
    )
    .await;
    roster(&lead, g, day, vol, "volunteer", ("18:00", "23:00")).await;
    let text = lead.get(&path).await.main_text();
    assert!(
        text.contains("Vida Volunteer's required training has expired: Safeguarding adults"),
        "{text}"
    );
    assert!(!text.contains("Petra Peerlead has no record"), "{text}");
    assert!(!text.contains("volunteers are on the rota"), "{text}");
    // Renewed: no warnings at all.
    record_training(
        &lead,
        vol,
        "safeguarding",
        day - days(1),
        Some(day + days(1000)),
    )
    .await;
    let text = lead.get(&path).await.main_text();
    assert!(!text.contains("This session needs attention"), "{text}");
    // Sixteen people come in: one volunteer per 15 means two are needed.
    let coord = app.sign_in("coordinator", PASSWORD).await;
    for n in 0..16 {
        let name = format!("Walker{}", ["a", "b", "c", "d"][n % 4].repeat(n / 4 + 1));
        coord
            .post_form(&format!("{path}/door"), &[("first_name", name.as_str())])
            .await
            .assert_redirect(&format!("{path}/door?admitted="), "walk-in");
    }
    let rota_page = lead.get(&format!("{path}/rota")).await;
    let text = rota_page.main_text();
    assert!(
        text.contains("1 volunteer is on the rota for 16 people: 2 needed (one per 15)"),
        "{text}"
    );
    assert!(lead.get(&path).await.main_text().contains("2 needed"));
    // A second volunteer with current training: the warning goes.
    let spare_page = record_training(&lead, &w.spare, "safeguarding", day - days(5), None).await;
    spare_page.assert_redirect("/rota/people/", "spare training");
    roster(&lead, g, day, &w.spare, "volunteer", ("18:00", "23:00"))
        .await
        .assert_redirect(&format!("{path}/rota?added=1"), "second volunteer");
    let text = lead.get(&path).await.main_text();
    assert!(!text.contains("This session needs attention"), "{text}");
    assert!(text.contains("Rota: who is on (3)"), "{text}");
    // Volunteers do not see the staff warnings.
    let v = app.sign_in("volunteer", PASSWORD).await;
    let vp = v.get(&path).await;
    assert!(!vp.main_text().contains("Rota: who is on"));
    app.assert_audit_verifies().await;
}

async fn volunteers_use_the_door_only_when_on_the_rota(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = create(&app, &w, group("Evening café", ("18:00", "23:00"), 60, 0)).await;
    let day = today();
    let door = format!("{}/door", session(g, day));
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.get(&door)
        .await
        .assert_status(StatusCode::FORBIDDEN, "door, not on the rota");
    let refused = v.post_form(&door, &[("first_name", "Wanda")]).await;
    refused.assert_status(StatusCode::FORBIDDEN, "sign-in, not on the rota");
    assert_eq!(
        app.store
            .session_attendance_count(w.org_a, g, day)
            .await
            .unwrap(),
        0
    );
    let group_page = v.get(&format!("/groups/{g}")).await;
    assert!(
        !group_page.main_text().contains("Sign people in"),
        "no door link for a volunteer who is not on the rota"
    );
    assert!(!v
        .get(&session(g, day))
        .await
        .main_text()
        .contains("Sign people in at the door"));
    // The lead puts the volunteer on today's rota.
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    roster(
        &lead,
        g,
        day,
        w.account(Role::Volunteer),
        "volunteer",
        ("18:00", "23:00"),
    )
    .await;
    let page = v.get(&door).await;
    page.assert_status(StatusCode::OK, "door, on the rota");
    assert_eq!(page.h1(), "0 of 60 signed in");
    v.post_form(&door, &[("first_name", "Wanda")])
        .await
        .assert_redirect(&format!("{door}?admitted="), "sign-in on the rota");
    assert_eq!(
        app.store
            .session_attendance_count(w.org_a, g, day)
            .await
            .unwrap(),
        1
    );
    let group_page = v.get(&format!("/groups/{g}")).await;
    let links = group_page
        .html()
        .select(&scraper::Selector::parse("a[href$='/door']").unwrap())
        .count();
    assert_eq!(links, 1, "a door link only for the rostered session");
    assert!(v
        .get(&session(g, day))
        .await
        .main_text()
        .contains("Sign people in at the door"));
    // Tomorrow the volunteer is not on: refused again. Staff need no rota.
    let tomorrow = format!("{}/door", session(g, day + days(1)));
    v.get(&tomorrow)
        .await
        .assert_status(StatusCode::FORBIDDEN, "tomorrow");
    lead.get(&tomorrow)
        .await
        .assert_status(StatusCode::OK, "lead at any door");
    assert!(
        app.count_audit(w.org_a, "group_session.door_read", Some("refused"))
            .await
            >= 2
    );
    assert_eq!(
        app.count_audit(w.org_a, "group_session.sign_in", Some("refused"))
            .await,
        1
    );
    app.assert_audit_verifies().await;
}

async fn staff_book_on_someones_behalf(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    // 3 places, 1 kept for walk-ins: 2 may be booked.
    let g = create(&app, &w, group("Creative café", ("18:00", "21:00"), 3, 1)).await;
    let day = today() + days(1);
    let path = format!("{}/bookings", session(g, day));
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let search = coord.get(&format!("{path}?q=selwyn")).await;
    search.assert_status(StatusCode::OK, "search");
    assert!(
        search.main_text().contains("Selwyn Ownrecordson, born"),
        "{}",
        search.main_text()
    );
    let book = |b: Browser, p: &Person, action: &'static str| {
        let (path, id) = (path.clone(), p.id.to_string());
        async move {
            b.post_form_from(&path, &path, &[("person", id.as_str()), ("action", action)])
                .await
        }
    };
    book(coord.clone(), &w.own, "book")
        .await
        .assert_redirect(&format!("{path}?booked=1"), "first");
    // Twice for the same person: still one booking.
    book(coord.clone(), &w.own, "book")
        .await
        .assert_redirect(&format!("{path}?booked=1"), "again");
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    book(lead.clone(), &w.on_caseload, "book")
        .await
        .assert_redirect(&format!("{path}?booked=1"), "second");
    let full = book(coord.clone(), &w.off_caseload, "book").await;
    full.assert_status(StatusCode::CONFLICT, "third");
    assert!(full
        .main_text()
        .contains("Every place that can be booked ahead has been taken"));
    let gr = app.store.group(w.org_a, g).await.unwrap();
    let s = app.store.group_session(&gr, day).await.unwrap();
    assert_eq!(s.booked, 2);
    assert!(!app
        .store
        .has_booking(w.org_a, g, day, w.off_caseload.id)
        .await
        .unwrap());
    let list = coord.get(&path).await;
    let booked_text = list.main_text();
    assert!(
        booked_text.contains("Selwyn Ownrecordson") && booked_text.contains("Perpetua Caseloadine")
    );
    assert!(
        booked_text.contains("0 places left to book ahead"),
        "{booked_text}"
    );
    // The person sees it in "Coming up".
    let person = app.sign_in("person", PASSWORD).await;
    let up = person.get("/my/upcoming").await;
    let item = up
        .html()
        .select(&scraper::Selector::parse("ul.upcoming li").unwrap())
        .map(|l| l.text().collect::<String>())
        .find(|l| l.contains("Creative café") && l.contains("booked"));
    assert!(item.is_some(), "{}", up.main_text());
    // Cancelled on their behalf: the place is free again.
    book(lead.clone(), &w.own, "cancel")
        .await
        .assert_redirect(&format!("{path}?cancelled=1"), "cancel");
    assert!(!app
        .store
        .has_booking(w.org_a, g, day, w.own.id)
        .await
        .unwrap());
    book(coord.clone(), &w.off_caseload, "book")
        .await
        .assert_redirect(&format!("{path}?booked=1"), "after cancellation");
    let up = person.get("/my/upcoming").await;
    assert!(
        !up.main_text().contains("booked"),
        "the cancelled booking is gone: {}",
        up.main_text()
    );
    // The person's record is audited as changed, by whom, on their behalf.
    let mine: Vec<_> = app
        .audit(w.org_a)
        .await
        .into_iter()
        .filter(|e| e.person_id.as_deref() == Some(w.own.id.to_string().as_str()))
        .filter(|e| e.outcome == "allowed")
        .map(|e| (e.action, e.detail.unwrap_or_default()))
        .collect();
    assert!(mine.contains(&("group_session.book".into(), "booked on their behalf".into())));
    assert!(mine.contains(&(
        "group_session.cancel_booking".into(),
        "cancelled on their behalf".into()
    )));
    // Other roles may not book for someone, and nothing is booked when refused.
    for role in ["volunteer", "health_coach", "administrator", "person"] {
        let b = app.sign_in(role, PASSWORD).await;
        let p = b
            .post_form(
                &path,
                &[
                    ("person", w.own.id.to_string().as_str()),
                    ("action", "book"),
                ],
            )
            .await;
        p.assert_status(StatusCode::FORBIDDEN, role);
    }
    assert!(!app
        .store
        .has_booking(w.org_a, g, day, w.own.id)
        .await
        .unwrap());
    app.assert_audit_verifies().await;
}

/// A session moved to other times after its rota was made: the entries that no longer fit are
/// named on the rota page until they are changed.
async fn entries_outside_a_moved_session_are_flagged(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = create(&app, &w, group("Evening café", ("18:00", "23:00"), 60, 0)).await;
    let day = today() + days(2);
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let vol = w.account(Role::Volunteer);
    roster(&lead, g, day, vol, "volunteer", ("18:00", "21:00"))
        .await
        .assert_redirect(&format!("{}/rota?added=1", session(g, day)), "entry");
    let rota_path = format!("{}/rota", session(g, day));
    let warning = "Vida Volunteer is on the rota from 18:00 to 21:00, outside the session's times (19:00 to 22:00): change or remove the entry";
    assert!(!lead.get(&rota_path).await.main_text().contains(warning));
    let t = |s| alongside_core::groups::ClockTime::parse(s).expect("time");
    app.store
        .change_session(
            &w.account(Role::Coordinator).actor(),
            g,
            day,
            alongside_store::groups::SessionChange::Move {
                date: day,
                start: t("19:00"),
                end: t("22:00"),
            },
            Source::default(),
        )
        .await
        .expect("move the session");
    let text = lead.get(&rota_path).await.main_text();
    assert!(text.contains(warning), "{text}");
}

both_backends!(
    training_is_recorded_and_shown_with_status,
    overlapping_rota_entries_are_refused_and_nothing_written,
    simultaneous_overlapping_entries_write_one,
    warnings_appear_and_go_away,
    entries_outside_a_moved_session_are_flagged,
    volunteers_use_the_door_only_when_on_the_rota,
    staff_book_on_someones_behalf,
);
