//! Activities within a peer-support session, through HTTP on SQLite and PostgreSQL: staff add
//! activities with their own places (bad input refused with field messages); at the door,
//! people who are signed in are signed up to an activity, and however many devices do that at
//! once an activity never takes more than its places; volunteers see first names only.

use crate::support::*;
use alongside_core::groups::{GroupDetails, GroupForm};
use alongside_core::time::iso_date;
use alongside_core::{GroupId, OrgId, Role};
use alongside_store::groups::{DoorEntry, SignInOutcome};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use time::Date;

fn today() -> Date {
    alongside_web::Clock::default().today()
}

fn cafe(capacity: u32) -> GroupDetails {
    let t = today();
    let until = t.saturating_add(time::Duration::days(30));
    GroupDetails::parse(&GroupForm {
        name: "Evening peer-support café".into(),
        kind: "formal".into(),
        focus: "depression".into(),
        mode: "in_person".into(),
        venue: "The Old Library".into(),
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
        walk_in_places: "0".into(),
        ..Default::default()
    })
    .expect("valid café")
}

fn src() -> Source {
    Source(Some("fixture".into()))
}

/// The café, with the fixture volunteer on the rota today and tomorrow (volunteers may only
/// use the door of sessions they are on the rota for).
async fn group(app: &TestApp, w: &World, capacity: u32) -> GroupId {
    let g = app
        .store
        .create_group(&w.account(Role::Coordinator).actor(), cafe(capacity), src())
        .await
        .expect("group");
    for d in [today(), today().saturating_add(time::Duration::days(1))] {
        roster_volunteer(app, w, g, d).await;
    }
    g
}

/// Adds an activity through the page, as a peer-support lead, and returns its id.
async fn add_activity(app: &TestApp, org: OrgId, g: GroupId, name: &str, places: &str) -> String {
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let path = format!("/groups/{g}/activities");
    let p = lead
        .post_form(
            &path,
            &[
                ("action", "add"),
                ("name", name),
                ("capacity", places),
                ("facilitator", "Sam"),
            ],
        )
        .await;
    p.assert_redirect(&path, "adding an activity");
    let list = lead.get(&path).await;
    assert!(
        list.main_text().contains(name),
        "the list shows the activity"
    );
    app.store
        .group_activities(org, g)
        .await
        .expect("activities")
        .into_iter()
        .find(|a| a.name == name)
        .expect("the activity was stored")
        .id
}

/// Signs `n` walk-ins in at the door (through the store) and returns their attendance ids.
async fn walk_ins(app: &TestApp, w: &World, g: GroupId, day: Date, n: usize) -> Vec<String> {
    let actor = w.account(Role::Volunteer).actor();
    let mut out = Vec::new();
    for i in 0..n {
        let first = format!("Walker{}", letters(i));
        match app
            .store
            .door_sign_in(
                &actor,
                g,
                day,
                DoorEntry::WalkIn {
                    first_name: first,
                    contact: None,
                },
                src(),
            )
            .await
            .expect("sign in")
        {
            SignInOutcome::Admitted { attendance_id, .. } => out.push(attendance_id),
            other => panic!("not admitted: {other:?}"),
        }
    }
    out
}

fn letters(mut n: usize) -> String {
    let mut s = String::new();
    for _ in 0..3 {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    s
}

fn door(g: GroupId, d: Date) -> String {
    format!("/groups/{g}/sessions/{}/door", iso_date(d))
}

fn sign_up_path(g: GroupId, d: Date) -> String {
    format!("/groups/{g}/sessions/{}/activities", iso_date(d))
}

async fn thirty_sign_ups_to_an_eight_place_activity_take_exactly_eight(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = group(&app, &w, 60).await;
    let day = today();
    let activity = add_activity(&app, w.org_a, g, "Creative workshop", "8").await;
    let people = walk_ins(&app, &w, g, day, 30).await;
    let path = sign_up_path(g, day);
    let mut devices = Vec::new();
    for i in 0..6 {
        let who = ["volunteer", "peer_support_lead", "coordinator"][i % 3];
        let b = app.sign_in(who, PASSWORD).await;
        let token = b.csrf_token(&door(g, day)).await.expect("door form");
        devices.push((b, token));
    }
    let mut tasks = Vec::new();
    for (n, attendance) in people.iter().enumerate() {
        let (b, token) = devices[n % devices.len()].clone();
        let (path, activity, attendance) = (path.clone(), activity.clone(), attendance.clone());
        tasks.push(tokio::spawn(async move {
            b.post_pairs(
                &path,
                &[
                    ("csrf_token", token.as_str()),
                    ("activity", activity.as_str()),
                    ("attendance", attendance.as_str()),
                ],
            )
            .await
        }));
    }
    let (mut signed, mut full) = (0, 0);
    for t in tasks {
        let p = t.await.expect("task");
        match p.status {
            StatusCode::SEE_OTHER => {
                assert!(p
                    .location()
                    .unwrap_or("")
                    .starts_with(&format!("{}?signed_up={activity}:", door(g, day))));
                signed += 1;
            }
            StatusCode::CONFLICT => {
                assert!(
                    p.main_text()
                        .contains("The activity is full: all 8 places are taken."),
                    "a refusal says the activity is full: {}",
                    p.snippet()
                );
                full += 1;
            }
            other => panic!("unexpected answer {other}: {}", p.snippet()),
        }
    }
    assert_eq!((signed, full), (8, 22), "on {backend:?}");
    assert_eq!(
        app.store
            .activity_signup_count(w.org_a, g, day, &activity)
            .await
            .unwrap(),
        8
    );
    assert_eq!(
        app.count_audit(w.org_a, "group_activity.sign_up", Some("allowed"))
            .await,
        8
    );
    // The door shows the activity's live count as "Full", and everyone is still in.
    let v = app.sign_in("volunteer", PASSWORD).await;
    let page = v.get(&door(g, day)).await;
    page.assert_status(StatusCode::OK, "door page");
    assert_eq!(page.h1(), "30 of 60 signed in");
    let text = page.main_text();
    assert!(text.contains("Creative workshop"), "{text}");
    assert!(text.contains("Full — all 8 places are taken."), "{text}");
    assert!(text.contains("With Sam"), "{text}");
    app.assert_audit_verifies().await;
}

async fn bad_activity_input_is_refused_with_field_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = group(&app, &w, 60).await;
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    let path = format!("/groups/{g}/activities");
    for (name, places, field, message) in [
        ("Talk", "0", "#capacity", "Places must be 1 or more"),
        ("Talk", "-4", "#capacity", "Places must be 1 or more"),
        (
            "Talk",
            "61",
            "#capacity",
            "Places cannot be more than the session's 60 places",
        ),
        (
            "Talk",
            "lots",
            "#capacity",
            "Places must be a whole number, for example 8",
        ),
        ("   ", "8", "#name", "Enter the name of the activity"),
    ] {
        let p = lead
            .post_form(
                &path,
                &[("action", "add"), ("name", name), ("capacity", places)],
            )
            .await;
        p.assert_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{name:?} {places:?}"),
        );
        assert!(
            p.error_summary().contains(&(field.into(), message.into())),
            "{name:?} {places:?}: {:?}",
            p.error_summary()
        );
        assert!(p.title().starts_with("Error: "));
    }
    assert!(app
        .store
        .group_activities(w.org_a, g)
        .await
        .unwrap()
        .is_empty());
    // Volunteers may not define activities.
    let v = app.sign_in("volunteer", PASSWORD).await;
    v.post_form_from(
        "/",
        &path,
        &[("action", "add"), ("name", "Talk"), ("capacity", "5")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN, "volunteer adds an activity");
    v.get(&path)
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer lists activities");
    // Signing up without choosing who is refused naming the field; someone not signed in to
    // this session is not found; nothing is written.
    let day = today();
    let activity = add_activity(&app, w.org_a, g, "One-to-one chat over coffee", "4").await;
    let p = v
        .post_form_from(
            &door(g, day),
            &sign_up_path(g, day),
            &[("activity", activity.as_str()), ("attendance", "")],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "nobody chosen");
    assert_eq!(
        p.error_summary(),
        vec![(
            format!("#attendance-{activity}"),
            "Choose who to sign up for the activity".to_string()
        )]
    );
    let tomorrow = day.saturating_add(time::Duration::days(1));
    let other_session = walk_ins(&app, &w, g, tomorrow, 1).await;
    let p = v
        .post_form_from(
            &door(g, day),
            &sign_up_path(g, day),
            &[
                ("activity", activity.as_str()),
                ("attendance", other_session[0].as_str()),
            ],
        )
        .await;
    p.assert_status(
        StatusCode::NOT_FOUND,
        "someone signed in to another session",
    );
    assert_eq!(
        app.store
            .activity_signup_count(w.org_a, g, day, &activity)
            .await
            .unwrap(),
        0
    );
    // A retired activity is no longer offered at the door.
    let p = lead
        .post_form(
            &path,
            &[("action", "retire"), ("activity", activity.as_str())],
        )
        .await;
    p.assert_redirect(&path, "retiring");
    let page = v.get(&door(g, day)).await;
    assert!(!page.main_text().contains("One-to-one chat over coffee"));
}

async fn volunteers_see_first_names_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let g = group(&app, &w, 20).await;
    let day = today();
    let activity = add_activity(&app, w.org_a, g, "One-to-one chat over coffee", "2").await;
    let person = &w.off_caseload;
    app.store
        .add_group_member_unaudited(w.org_a, g, person.id)
        .await
        .unwrap();
    let v = app.sign_in("volunteer", PASSWORD).await;
    let Some(SignInOutcome::Admitted { attendance_id, .. }) = Some(
        app.store
            .door_sign_in(
                &w.account(Role::Volunteer).actor(),
                g,
                day,
                DoorEntry::Person(person.id),
                src(),
            )
            .await
            .unwrap(),
    ) else {
        panic!("not admitted")
    };
    let before = v.get(&door(g, day)).await;
    assert!(before.main_text().contains("0 of 2 places taken"));
    let p = v
        .post_form_from(
            &door(g, day),
            &sign_up_path(g, day),
            &[
                ("activity", activity.as_str()),
                ("attendance", attendance_id.as_str()),
            ],
        )
        .await;
    let to = p.location().expect("redirect").to_string();
    let page = v.get(&to).await;
    let text = page.main_text();
    assert!(
        text.contains(&format!(
            "{} is signed up for One-to-one chat over coffee",
            person.given
        )),
        "{text}"
    );
    assert!(text.contains("1 of 2 places taken"), "{text}");
    assert!(
        text.contains(&format!("Signed up: {}", person.given)),
        "{text}"
    );
    assert!(
        !page.body.contains(&person.family),
        "a volunteer sees first names only"
    );
    let audit = app.audit(w.org_a).await;
    assert!(audit.iter().any(|e| e.action == "group_activity.sign_up"
        && e.person_id == Some(person.id.to_string())
        && e.outcome == "allowed"));
}

both_backends!(
    thirty_sign_ups_to_an_eight_place_activity_take_exactly_eight,
    bad_activity_input_is_refused_with_field_messages,
    volunteers_see_first_names_only,
);
