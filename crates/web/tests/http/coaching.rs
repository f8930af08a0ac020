//! Health coaching through HTTP, on SQLite and PostgreSQL: the whole journey from a person's
//! self-referral to discharge with re-measurement; the booking rules, each refused with the
//! field's message and nothing written; one winner among simultaneous bookings of a slot;
//! access by caseload and relationship, with every read audited; and the calendar feed's
//! instants across the clock changes, parsed by an independent iCalendar parser (Python's
//! `icalendar`).

use crate::support::*;
use alongside_core::time::Timestamp;
use alongside_core::Role;
use alongside_store::{both_backends, Backend};
use alongside_web::{Clock, Config};
use reqwest::StatusCode;

both_backends!(
    journey_from_self_referral_to_discharge,
    booking_rules_refuse_with_a_message_and_write_nothing,
    simultaneous_bookings_of_one_slot_have_one_winner,
    coaching_follows_the_caseload_and_every_read_is_audited,
    calendar_feed_has_utc_instants_across_the_clock_changes
);

/// 08:00 UTC on a date, as the application's "now".
fn at(date: &str) -> Timestamp {
    let d = alongside_core::time::parse_iso_date(date).expect("date");
    Timestamp::from_datetime(d.midnight().assume_utc()).plus_seconds(8 * 3600)
}

async fn setup(backend: Backend, now: &str) -> (TestApp, World, Clock) {
    let clock = Clock::default();
    clock.set(at(now));
    let app = spawn_app_with(
        backend,
        Config {
            clock: clock.clone(),
            ..Config::default()
        },
    )
    .await;
    let w = world(&app).await;
    (app, w, clock)
}

fn coach(w: &World) -> &Account {
    w.account(Role::HealthCoach)
}

/// The id at the end of a redirect like `/coaching/referrals/ID?made=1`.
fn id_in(location: Option<&str>, prefix: &str) -> String {
    let l = location.unwrap_or_else(|| panic!("no redirect, expected {prefix}…"));
    assert!(
        l.starts_with(prefix),
        "redirect {l:?} should start {prefix:?}"
    );
    l[prefix.len()..]
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_string()
}

/// The coordinator sets the world's coach's hours (and limit).
async fn set_hours(coord: &Browser, w: &World, days: &str, weekend: &str, limit: &str) {
    let path = format!("/coaching/coaches/{}", coach(w).id);
    let mut f: Vec<(String, String)> = vec![("caseload_limit".into(), limit.into())];
    for d in ["mon", "tue", "wed", "thu", "fri"] {
        f.push((format!("hours_{d}"), days.into()));
    }
    for d in ["sat", "sun"] {
        f.push((format!("hours_{d}"), weekend.into()));
    }
    coord
        .post_form(&path, &f)
        .await
        .assert_redirect("/coaching/queue", "set the coach's hours");
}

/// A coordinator refers the person, allocates them to the world's coach, and the coach
/// accepts. Returns the episode id.
async fn open_episode(app: &TestApp, w: &World, person: &Person) -> String {
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let refer = format!("/people/{}/coaching/refer", person.id);
    let p = coord
        .post_form(
            &refer,
            &[
                ("source", "clinician"),
                ("referrer", "Dr A Patel, GP"),
                (
                    "reason",
                    "Breathless on stairs; wants to get back to the allotment",
                ),
                ("urgency", "soon"),
                ("modes", "telephone"),
            ],
        )
        .await;
    let rid = id_in(p.location(), "/coaching/referrals/");
    coord
        .post_form_from(
            &format!("/coaching/referrals/{rid}"),
            &format!("/coaching/referrals/{rid}/allocate"),
            &[("coach", coach(w).id.to_string())],
        )
        .await
        .assert_redirect("/coaching/queue?allocated=1", "allocate");
    let c = app.sign_in("health_coach", PASSWORD).await;
    let p = c
        .post_form_from(
            &format!("/coaching/referrals/{rid}"),
            &format!("/coaching/referrals/{rid}/accept"),
            &[] as &[(&str, &str)],
        )
        .await;
    id_in(p.location(), "/coaching/episodes/")
}

async fn book(
    b: &Browser,
    eid: &str,
    date: &str,
    time: &str,
    minutes: &str,
    extra: &[(&str, &str)],
) -> Page {
    let mut f: Vec<(&str, &str)> = vec![
        ("date", date),
        ("time", time),
        ("minutes", minutes),
        ("mode", "telephone"),
    ];
    f.extend_from_slice(extra);
    b.post_form_from(
        &format!("/coaching/episodes/{eid}"),
        &format!("/coaching/episodes/{eid}/book"),
        &f,
    )
    .await
}

/// "Sessions used" as the episode page shows it.
async fn sessions_used(b: &Browser, eid: &str) -> String {
    let p = b.get(&format!("/coaching/episodes/{eid}")).await;
    p.assert_status(StatusCode::OK, "episode page");
    let text = p.main_text();
    let i = text.find("Sessions used").expect("sessions used row");
    let rest = &text[i + "Sessions used".len()..];
    rest[..rest.find("Started").expect("started row")]
        .trim()
        .to_string()
}

/// Session ids linked from the episode page, in the order shown (by time).
async fn session_ids(b: &Browser, eid: &str) -> Vec<String> {
    let p = b.get(&format!("/coaching/episodes/{eid}")).await;
    p.body
        .match_indices("href=\"/coaching/sessions/")
        .map(|(i, m)| p.body[i + m.len()..].split('"').next().unwrap().to_string())
        .collect()
}

fn goal_fields<'a>(own_words: &'a str, confidence: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("own_words", own_words),
        ("category", "physical_activity"),
        ("what", "Walk"),
        ("how_often", "Every other day"),
        ("importance", "9"),
        ("confidence", confidence),
    ]
}

/// A person asks for a coach; the coordinator sees them waiting and allocates; the coach
/// accepts, sets a goal with the person, books six sessions (a seventh is refused), holds
/// them with reviews a week later; the person ticks a step between sessions; the coach ends
/// the episode; the person sees their goals and outcome, only the notes shared with them,
/// and is due to fill in their questionnaire again.
async fn journey_from_self_referral_to_discharge(backend: Backend) {
    let (app, w, clock) = setup(backend, "2027-03-22").await;
    let person = app.sign_in("person", PASSWORD).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    let pid = w.own.id;

    // Self-referral.
    let p = person
        .post_form(
            "/coaching/refer-myself",
            &[
                ("reason", "I want to walk to the allotment again"),
                ("modes", "video"),
                ("times", "Weekday mornings"),
            ],
        )
        .await;
    let rid = id_in(p.location(), "/coaching/referrals/");
    let p = person
        .get(&format!("/coaching/referrals/{rid}?made=1"))
        .await;
    assert!(p.main_text().contains("Request sent"), "{}", p.snippet());
    assert!(p
        .main_text()
        .contains("I want to walk to the allotment again"));

    // The coordinator's queue lists them as waiting; a second request is refused.
    let q = coord.get("/coaching/queue").await;
    q.assert_status(StatusCode::OK, "queue");
    assert!(
        q.main_text().contains(&w.own.name()),
        "queue lists the person"
    );
    assert!(q.main_text().contains("1 waiting"), "{}", q.main_text());
    let again = person
        .post_form("/coaching/refer-myself", &[("reason", "Again")])
        .await;
    again.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "second request");
    again.assert_error(
        "reason",
        "This person is already waiting for coaching or has a coach: see their coaching page",
        "second request",
    );

    set_hours(&coord, &w, "08:00-20:00", "09:00-17:00", "40").await;
    coord
        .post_form_from(
            &format!("/coaching/referrals/{rid}"),
            &format!("/coaching/referrals/{rid}/allocate"),
            &[("coach", coach(&w).id.to_string())],
        )
        .await
        .assert_redirect("/coaching/queue?allocated=1", "allocate");

    // The coach sees the offer and accepts: an episode opens.
    let cl = coachb.get("/coaching/caseload").await;
    assert!(cl.main_text().contains("Referrals offered to you"));
    assert!(cl.main_text().contains(&w.own.name()));
    let p = coachb
        .post_form_from(
            &format!("/coaching/referrals/{rid}"),
            &format!("/coaching/referrals/{rid}/accept"),
            &[] as &[(&str, &str)],
        )
        .await;
    let eid = id_in(p.location(), "/coaching/episodes/");

    // A goal in the person's words, with two first steps.
    let mut f = goal_fields("Walk to the allotment without stopping", "6");
    f.push(("episode", &eid));
    f.push(("steps", "Walk to the corner shop\nWalk to the park gates"));
    let p = coachb
        .post_form_from(
            &format!("/people/{pid}/goals/new?episode={eid}"),
            &format!("/people/{pid}/goals"),
            &f,
        )
        .await;
    let gid = id_in(p.location(), "/goals/");

    // Six sessions on the six days after "now"; the seventh is refused for the coach.
    for day in 23..=28 {
        book(&coachb, &eid, &format!("2027-03-{day}"), "10:00", "60", &[])
            .await
            .assert_redirect(&format!("/coaching/episodes/{eid}?booked=1"), "book");
    }
    let seventh = book(&coachb, &eid, "2027-03-29", "10:00", "60", &[]).await;
    seventh.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "seventh session");
    seventh.assert_error(
        "extra_reason",
        "This episode has used 6 of 6 sessions. A care coordinator must record a reason to add another",
        "seventh session",
    );
    assert_eq!(sessions_used(&coachb, &eid).await, "6 of 6");
    let caseload = coachb.get("/coaching/caseload").await;
    assert!(
        caseload.main_text().contains("6 of 6"),
        "caseload shows sessions used"
    );
    assert!(
        caseload
            .main_text()
            .contains("Tuesday 23 March 2027, 10:00"),
        "next session on the caseload: {}",
        caseload.main_text()
    );

    // Between sessions the person ticks their first step done and adds another.
    let g = person.get(&format!("/goals/{gid}")).await;
    g.assert_status(StatusCode::OK, "person's goal");
    let first_step = g
        .body
        .split("name=\"done\" type=\"checkbox\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a step checkbox")
        .to_string();
    let mut f = goal_fields("Walk to the allotment without stopping", "7");
    f.push(("done", &first_step));
    f.push(("new_step", "Walk to the allotment with one rest"));
    person
        .post_form(&format!("/goals/{gid}"), &f)
        .await
        .assert_redirect(&format!("/goals/{gid}?saved=1"), "person updates goal");

    // A week later the coach records the six sessions with reviews; notes of the first are
    // shared with the person, the others are not.
    clock.advance_days(8);
    let ids = session_ids(&coachb, &eid).await;
    assert_eq!(ids.len(), 6);
    for (i, sid) in ids.iter().enumerate() {
        let note = format!("Session {} note: discussed pacing", i + 1);
        let review = format!("review-{gid}");
        let mut f: Vec<(String, String)> = vec![
            ("status".into(), "attended".into()),
            ("notes".into(), note),
            (review, if i < 3 { "0".into() } else { "1".into() }),
        ];
        if i == 0 {
            f.push(("notes_shared".into(), "yes".into()));
        }
        coachb
            .post_form(&format!("/coaching/sessions/{sid}"), &f)
            .await
            .assert_redirect(&format!("/coaching/episodes/{eid}?recorded=1"), "record");
    }
    let g = coachb.get(&format!("/goals/{gid}")).await;
    assert_eq!(
        g.main_text().matches("Somewhat more than expected").count(),
        3,
        "three reviews at +1: {}",
        g.main_text()
    );

    // Discharge: a goal outcome is required.
    let path = format!("/coaching/episodes/{eid}/discharge");
    let p = coachb
        .post_form(
            &path,
            &[("summary", "Walks to the allotment twice a week.")],
        )
        .await;
    p.assert_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "discharge without outcome",
    );
    assert!(p
        .error_summary()
        .iter()
        .any(|(h, _)| *h == format!("#outcome-{gid}")));
    coachb
        .post_form(
            &path,
            &[
                ("summary", "Walks to the allotment twice a week."),
                (&format!("outcome-{gid}"), "met"),
                ("onward", "Signposted to the Tuesday walking group"),
            ],
        )
        .await
        .assert_redirect(
            &format!("/coaching/episodes/{eid}?discharged=1"),
            "discharge",
        );

    // The person sees their goal met, the episode ended, and only the shared note.
    let mine = person.get(&format!("/people/{pid}/coaching")).await;
    mine.assert_status(StatusCode::OK, "person's coaching");
    let text = mine.main_text();
    assert!(
        text.contains("Walk to the allotment without stopping"),
        "{text}"
    );
    assert!(text.contains("Met"), "{text}");
    assert!(text.contains("ended"), "{text}");
    let ep = person.get(&format!("/coaching/episodes/{eid}")).await;
    ep.assert_status(StatusCode::OK, "person's episode");
    assert!(ep
        .main_text()
        .contains("Walks to the allotment twice a week."));
    let first = person.get(&format!("/coaching/sessions/{}", ids[0])).await;
    assert!(
        first.main_text().contains("Session 1 note"),
        "shared note shows"
    );
    let second = person.get(&format!("/coaching/sessions/{}", ids[1])).await;
    second.assert_status(StatusCode::OK, "second session");
    assert!(
        !second.body.contains("Session 2 note"),
        "unshared note hidden from the person"
    );
    let g = person.get(&format!("/goals/{gid}")).await;
    assert!(
        g.main_text().contains("Walk to the corner shop (done)"),
        "{}",
        g.main_text()
    );
    assert!(g
        .main_text()
        .contains("Walk to the allotment with one rest"));

    // Re-measurement is due now that coaching ended.
    let due = coord.get("/activation/due").await;
    due.assert_status(StatusCode::OK, "due list");
    assert!(
        due.main_text().contains(&w.own.name()),
        "due list: {}",
        due.main_text()
    );

    // Only a coordinator reopens.
    let reopen = format!("/coaching/episodes/{eid}/reopen");
    let p = coachb
        .post_form_from(
            &format!("/coaching/episodes/{eid}"),
            &reopen,
            &[("reopen_reason", "More help")],
        )
        .await;
    p.assert_status(StatusCode::FORBIDDEN, "coach reopens");
    coord
        .post_form_from(
            &format!("/coaching/episodes/{eid}"),
            &reopen,
            &[("reopen_reason", "Fell and lost confidence")],
        )
        .await
        .assert_redirect(
            &format!("/coaching/episodes/{eid}?reopened=1"),
            "coordinator reopens",
        );
    app.assert_audit_verifies().await;
}

/// Each rule refuses with the field's message and writes nothing: a short session without a
/// reason, a session in the past, outside the coach's hours, overlapping the coach's other
/// session, a seventh session, and allocation to a coach with no room.
async fn booking_rules_refuse_with_a_message_and_write_nothing(backend: Backend) {
    let (app, w, _clock) = setup(backend, "2027-05-03").await; // a Monday
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    set_hours(&coord, &w, "09:00-17:00", "", "40").await;
    let eid = open_episode(&app, &w, &w.on_caseload).await;

    let p = book(&coachb, &eid, "2027-05-04", "10:00", "20", &[]).await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "20 minutes");
    p.assert_error(
        "length_reason",
        "Sessions are usually 45 to 60 minutes: enter why this one is 20 minutes",
        "20 minutes",
    );
    let p = book(&coachb, &eid, "2027-05-02", "10:00", "60", &[]).await;
    p.assert_error("date", "The session must be in the future", "in the past");
    let p = book(&coachb, &eid, "2027-05-08", "10:00", "60", &[]).await;
    p.assert_error(
        "time",
        "The session is outside Hana Coach's working hours on Saturday",
        "Saturday",
    );
    let p = book(&coachb, &eid, "2027-05-04", "16:30", "60", &[]).await;
    p.assert_error(
        "time",
        "The session is outside Hana Coach's working hours on Tuesday",
        "ends after hours",
    );
    assert_eq!(
        sessions_used(&coachb, &eid).await,
        "0 of 6",
        "nothing written"
    );

    // A 20-minute session with a reason is fine.
    book(
        &coachb,
        &eid,
        "2027-05-04",
        "10:00",
        "20",
        &[("length_reason", "Short check-in after a hospital stay")],
    )
    .await
    .assert_redirect(
        &format!("/coaching/episodes/{eid}"),
        "20 minutes with a reason",
    );

    // Overlap with the coach's session for someone else.
    let other = open_episode(&app, &w, &w.off_caseload).await;
    let p = book(&coachb, &other, "2027-05-04", "10:10", "60", &[]).await;
    p.assert_error(
        "time",
        "Hana Coach already has a session at this time: choose another time",
        "overlap",
    );
    assert_eq!(sessions_used(&coachb, &other).await, "0 of 6");
    book(&coachb, &other, "2027-05-04", "10:20", "60", &[])
        .await
        .assert_redirect(
            &format!("/coaching/episodes/{other}"),
            "right after is fine",
        );

    // Five more for the first episode, then the seventh: refused for the coach, allowed for a
    // coordinator only with a reason.
    for day in 5..=9 {
        let date = format!("2027-05-{:02}", day + 5); // 10th–14th, Monday to Friday
        book(&coachb, &eid, &date, "09:00", "60", &[])
            .await
            .assert_redirect(&format!("/coaching/episodes/{eid}"), "book");
    }
    assert_eq!(sessions_used(&coachb, &eid).await, "6 of 6");
    let p = book(
        &coach_or(&app).await,
        &eid,
        "2027-05-17",
        "09:00",
        "60",
        &[],
    )
    .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "seventh by the coach");
    let p = book(&coord, &eid, "2027-05-17", "09:00", "60", &[]).await;
    p.assert_error(
        "extra_reason",
        "This episode has used 6 of 6 sessions: enter the reason for an extra session",
        "seventh by a coordinator without a reason",
    );
    assert_eq!(
        sessions_used(&coachb, &eid).await,
        "6 of 6",
        "nothing written"
    );
    book(
        &coord,
        &eid,
        "2027-05-17",
        "09:00",
        "60",
        &[("extra_reason", "Needs one more before the inhaler review")],
    )
    .await
    .assert_redirect(
        &format!("/coaching/episodes/{eid}"),
        "seventh with a reason",
    );
    assert_eq!(sessions_used(&coachb, &eid).await, "7 of 6");

    // The coach's limit: 2 places, both in use; a third allocation is refused.
    set_hours(&coord, &w, "09:00-17:00", "", "2").await;
    let refer = format!("/people/{}/coaching/refer", w.own.id);
    let p = coord
        .post_form(
            &refer,
            &[
                ("source", "coordinator"),
                ("reason", "Low confidence with inhalers"),
                ("urgency", "routine"),
            ],
        )
        .await;
    let rid = id_in(p.location(), "/coaching/referrals/");
    let p = coord
        .post_form_from(
            &format!("/coaching/referrals/{rid}"),
            &format!("/coaching/referrals/{rid}/allocate"),
            &[("coach", coach(&w).id.to_string())],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "coach full");
    p.assert_error(
        "coach",
        "Hana Coach has 2 of 2 places in use: choose another coach or raise their limit",
        "coach full",
    );
    let r = coord.get(&format!("/coaching/referrals/{rid}")).await;
    let text = r.main_text();
    assert!(
        text.contains("Waiting") && !text.contains("Allocated to a coach"),
        "still waiting: {text}"
    );
}

async fn coach_or(app: &TestApp) -> Browser {
    app.sign_in("health_coach", PASSWORD).await
}

/// Eight requests for the same slot at once, from the coach (for one person) and the
/// coordinator (for another): exactly one is booked, the others are told the time is taken.
async fn simultaneous_bookings_of_one_slot_have_one_winner(backend: Backend) {
    let (app, w, _clock) = setup(backend, "2027-06-07").await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    set_hours(&coord, &w, "09:00-17:00", "", "40").await;
    let a = open_episode(&app, &w, &w.on_caseload).await;
    let b = open_episode(&app, &w, &w.off_caseload).await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (browser, eid) = if i % 2 == 0 {
            (coachb.clone(), a.clone())
        } else {
            (coord.clone(), b.clone())
        };
        let token = browser
            .csrf_token(&format!("/coaching/episodes/{eid}/book"))
            .await
            .expect("token");
        tasks.push(tokio::spawn(async move {
            browser
                .post_pairs(
                    &format!("/coaching/episodes/{eid}/book"),
                    &[
                        ("csrf_token", token.as_str()),
                        ("date", "2027-06-08"),
                        ("time", "11:00"),
                        ("minutes", "60"),
                        ("mode", "telephone"),
                    ],
                )
                .await
        }));
    }
    let mut won = 0;
    let mut refused = 0;
    for t in tasks {
        let p = t.await.expect("task");
        match p.status {
            StatusCode::SEE_OTHER => won += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(
                    p.main_text()
                        .contains("Hana Coach already has a session at this time"),
                    "{}",
                    p.main_text()
                );
                refused += 1
            }
            other => panic!("unexpected {other}: {}", p.snippet()),
        }
    }
    assert_eq!((won, refused), (1, 7));
    let total = session_ids(&coachb, &a).await.len() + session_ids(&coachb, &b).await.len();
    assert_eq!(total, 1, "exactly one session stored");
}

/// A coach cannot open the coaching of someone off their caseload; a person sees only their
/// own; refusals and reads are in the audit log.
async fn coaching_follows_the_caseload_and_every_read_is_audited(backend: Backend) {
    let (app, w, _clock) = setup(backend, "2027-06-07").await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    let person = app.sign_in("person", PASSWORD).await;
    let analyst = app.sign_in("analyst", PASSWORD).await;
    let org = w.org_a;

    let refused_before = app.count_audit(org, "coaching.read", Some("refused")).await;
    coachb
        .get(&format!("/people/{}/coaching", w.off_caseload.id))
        .await
        .assert_status(StatusCode::FORBIDDEN, "coach, off caseload");
    person
        .get(&format!("/people/{}/coaching", w.on_caseload.id))
        .await
        .assert_status(StatusCode::FORBIDDEN, "person, someone else");
    assert_eq!(
        app.count_audit(org, "coaching.read", Some("refused")).await,
        refused_before + 2
    );
    analyst
        .get("/coaching/queue")
        .await
        .assert_status(StatusCode::FORBIDDEN, "analyst, queue");

    let eid = open_episode(&app, &w, &w.on_caseload).await;
    let allowed_before = app.count_audit(org, "coaching.read", Some("allowed")).await;
    let p = coachb.get(&format!("/coaching/episodes/{eid}")).await;
    p.assert_status(StatusCode::OK, "coach reads the episode");
    assert!(p.h1().contains(&w.on_caseload.name()));
    let own = person.get(&format!("/people/{}/coaching", w.own.id)).await;
    own.assert_status(StatusCode::OK, "person reads own");
    assert_eq!(own.h1(), "Your coaching");
    assert_eq!(
        app.count_audit(org, "coaching.read", Some("allowed")).await,
        allowed_before + 2
    );
    // The person cannot open someone else's episode, nor book in their own.
    person
        .get(&format!("/coaching/episodes/{eid}"))
        .await
        .assert_status(StatusCode::FORBIDDEN, "person, another's episode");
    // Another organisation's coordinator does not find it at all.
    let entries = app.audit(org).await;
    assert!(entries
        .iter()
        .any(|e| e.action == "coaching.queue.read" || e.action == "coaching.referral.create"));
    app.assert_audit_verifies().await;
}

fn python() -> String {
    std::env::var("ALONGSIDE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Sessions either side of both 2027 clock changes appear in the coach's feed at the right UTC
/// instants; an independent parser reads the same instants; revoking the address ends it.
async fn calendar_feed_has_utc_instants_across_the_clock_changes(backend: Backend) {
    let (app, w, clock) = setup(backend, "2027-03-22").await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    set_hours(&coord, &w, "08:00-20:00", "08:00-20:00", "40").await;
    let eid = open_episode(&app, &w, &w.on_caseload).await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    clock.set(at("2027-03-20"));
    for date in ["2027-03-27", "2027-03-29"] {
        book(&coachb, &eid, date, "10:00", "60", &[])
            .await
            .assert_redirect("/coaching/episodes/", "book");
    }
    clock.set(at("2027-10-20"));
    for date in ["2027-10-30", "2027-11-01"] {
        book(&coachb, &eid, date, "10:00", "60", &[])
            .await
            .assert_redirect("/coaching/episodes/", "book");
    }
    clock.set(at("2027-03-20"));

    let p = coachb
        .post_form_from(
            "/coaching/calendar",
            "/coaching/calendar",
            &[("action", "new")],
        )
        .await;
    p.assert_status(StatusCode::OK, "new feed address");
    let url = p
        .input_values("feed_url")
        .into_iter()
        .next()
        .expect("feed address shown");
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .expect("path");
    let anon = app.browser();
    let feed = anon.get(&path).await;
    feed.assert_status(StatusCode::OK, "feed");
    assert!(feed
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/calendar"));
    let expected = [
        "20270327T100000Z", // GMT: 10:00 local is 10:00 UTC
        "20270329T090000Z", // BST from 28 March: 10:00 local is 09:00 UTC
        "20271030T090000Z", // still BST
        "20271101T100000Z", // GMT again from 31 October
    ];
    for e in expected {
        assert!(
            feed.body.contains(&format!("DTSTART:{e}")),
            "feed lacks {e}: {}",
            feed.body
        );
    }
    assert!(
        feed.body.contains(&w.on_caseload.given),
        "first name in the summary"
    );
    assert!(
        !feed.body.contains(&w.on_caseload.family),
        "no family name in the feed"
    );

    // An independent parser reads the same instants.
    let dir = std::env::temp_dir().join(format!("alongside-ics-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("feed.ics");
    std::fs::write(&file, feed.body.as_bytes()).unwrap();
    let script = [
        "import sys, icalendar, datetime",
        "cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())",
        "for ev in cal.walk('VEVENT'):",
        "    s = ev.decoded('DTSTART').astimezone(datetime.timezone.utc)",
        "    e = ev.decoded('DTEND').astimezone(datetime.timezone.utc)",
        "    print(s.strftime('%Y%m%dT%H%M%SZ'), int((e - s).total_seconds() // 60))",
    ]
    .join("\n");
    let out = std::process::Command::new(python())
        .args(["-c", &script])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "run {} ({e}): run scripts/test or set ALONGSIDE_PYTHON",
                python()
            )
        });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the icalendar parser failed (install it with scripts/test): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let want: Vec<String> = expected.iter().map(|e| format!("{e} 60")).collect();
    assert_eq!(parsed, want);

    // Revoked: the address stops working.
    coachb
        .post_form_from(
            "/coaching/calendar",
            "/coaching/calendar",
            &[("action", "revoke")],
        )
        .await
        .assert_redirect("/coaching/calendar", "revoke");
    anon.get(&path)
        .await
        .assert_status(StatusCode::NOT_FOUND, "revoked feed");
}

both_backends!(every_coaching_form_answers_bad_input_clearly);

/// Every coaching form: missing, malformed, oversized, hostile and repeated values and a
/// missing CSRF token each get a clear answer naming the field, never a server error, never
/// markup echoed raw, and nothing written.
async fn every_coaching_form_answers_bad_input_clearly(backend: Backend) {
    const SCRIPT: &str = "<script>alert(1)</script>";
    let (app, w, _clock) = setup(backend, "2027-05-03").await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    let person = app.sign_in("person", PASSWORD).await;
    let audit_before = app.audit(w.org_a).await.len();

    // Referral by staff.
    let refer = format!("/people/{}/coaching/refer", w.off_caseload.id);
    let p = coord
        .post_form(&refer, &[("source", "nobody"), ("urgency", "whenever")])
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "empty referral");
    p.assert_error("source", "Select who is making the referral", "referral");
    p.assert_error("reason", "Enter the reason for the referral", "referral");
    p.assert_error("urgency", "Select how urgent the referral is", "referral");
    let long = "a".repeat(2001);
    let p = coord
        .post_form(
            &refer,
            &[
                ("source", "clinician"),
                ("reason", long.as_str()),
                ("urgency", "soon"),
                ("modes", "carrier_pigeon"),
            ],
        )
        .await;
    p.assert_error(
        "reason",
        "The reason for the referral must be 2000 characters or fewer",
        "long reason",
    );
    p.assert_error("modes", "Select ways of meeting from the list", "bad mode");
    let p = coord
        .post_form(
            &refer,
            &[
                ("source", "clinician"),
                ("source", "coordinator"),
                ("reason", "x"),
                ("urgency", "soon"),
            ],
        )
        .await;
    p.assert_error(
        "source",
        "This was sent more than once: enter it once and try again",
        "repeated",
    );
    let p = coord
        .post_form(
            &refer,
            &[
                ("source", "clinician"),
                ("reason", SCRIPT),
                ("urgency", "soon"),
                ("times", "\u{0007}"),
            ],
        )
        .await;
    assert!(!p.body.contains(SCRIPT), "markup echoed raw");
    p.assert_error(
        "times",
        "The times that suit must not contain control characters",
        "control",
    );
    let no_csrf = coord
        .post_pairs(
            &refer,
            &[
                ("source", "clinician"),
                ("reason", "x"),
                ("urgency", "soon"),
            ],
        )
        .await;
    no_csrf.assert_status(StatusCode::FORBIDDEN, "no CSRF token");

    // Self-referral.
    let p = person
        .post_form("/coaching/refer-myself", &[("reason", "  ")])
        .await;
    p.assert_error(
        "reason",
        "Enter what you would like help with",
        "self-referral",
    );

    // Nothing was referred by any of that.
    let q = coord.get("/coaching/queue").await;
    assert!(q.main_text().contains("0 waiting"), "{}", q.main_text());

    // Coach profile.
    let path = format!("/coaching/coaches/{}", coach(&w).id);
    let p = coord
        .post_form(
            &path,
            &[
                ("caseload_limit", "-3"),
                ("hours_mon", "17:00-09:00"),
                ("hours_tue", "nine to five"),
                ("hours_wed", "09:00-25:00"),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "coach profile");
    p.assert_error(
        "caseload_limit",
        "Enter the caseload limit as a whole number from 0 to 200",
        "limit",
    );
    p.assert_error(
        "hours_mon",
        "Monday: The end must be after the start",
        "monday",
    );
    p.assert_error(
        "hours_tue",
        "Tuesday: Enter hours like 09:00-17:00, or leave it empty for a day off",
        "tuesday",
    );
    p.assert_error(
        "hours_wed",
        "Wednesday: Enter the end as a 24-hour time, like 17:00",
        "wednesday",
    );

    // Allocation, decline and withdrawal need a choice and reasons.
    set_hours(&coord, &w, "09:00-17:00", "", "40").await;
    let p = coord
        .post_form(
            &refer,
            &[
                ("source", "clinician"),
                ("reason", "Wants help with breathlessness"),
                ("urgency", "soon"),
            ],
        )
        .await;
    let rid = id_in(p.location(), "/coaching/referrals/");
    let detail = format!("/coaching/referrals/{rid}");
    let p = coord
        .post_form_from(
            &detail,
            &format!("{detail}/allocate"),
            &[("coach", "not-a-user")],
        )
        .await;
    p.assert_error("coach", "Select a coach", "allocate nobody");
    let p = coord
        .post_form_from(
            &detail,
            &format!("{detail}/withdraw"),
            &[("withdraw_reason", "")],
        )
        .await;
    p.assert_error(
        "withdraw_reason",
        "Enter the reason for withdrawing",
        "withdraw without reason",
    );
    coord
        .post_form_from(
            &detail,
            &format!("{detail}/allocate"),
            &[("coach", coach(&w).id.to_string())],
        )
        .await
        .assert_redirect("/coaching/queue", "allocate");
    let p = coachb
        .post_form_from(
            &detail,
            &format!("{detail}/decline"),
            &[("decline_reason", "")],
        )
        .await;
    p.assert_error(
        "decline_reason",
        "Enter the reason for declining",
        "decline without reason",
    );
    let p = coachb
        .post_form_from(&detail, &format!("{detail}/accept"), &[] as &[(&str, &str)])
        .await;
    let eid = id_in(p.location(), "/coaching/episodes/");

    // Booking.
    let p = book(&coachb, &eid, "31/02/2027", "25:00", "sixty", &[]).await;
    p.assert_error(
        "date",
        "Enter the date of the session as a real date, like 2027-03-14",
        "bad date",
    );
    p.assert_error(
        "time",
        "Enter the start time as a 24-hour time, like 14:30",
        "bad time",
    );
    p.assert_error(
        "minutes",
        "Enter the length as a whole number of minutes, like 60",
        "bad minutes",
    );
    let p = coachb
        .post_form_from(
            &format!("/coaching/episodes/{eid}"),
            &format!("/coaching/episodes/{eid}/book"),
            &[
                ("date", "2027-05-04"),
                ("time", "10:00"),
                ("minutes", "600"),
                ("mode", "face_to_face"),
            ],
        )
        .await;
    p.assert_error(
        "minutes",
        "The session must be between 10 and 180 minutes long",
        "too long",
    );
    p.assert_error(
        "place",
        "Enter where you will meet for a face-to-face session",
        "no place",
    );
    let p = coachb
        .post_form_from(
            &format!("/coaching/episodes/{eid}"),
            &format!("/coaching/episodes/{eid}/book"),
            &[("date", ""), ("time", ""), ("minutes", ""), ("mode", "")],
        )
        .await;
    p.assert_error("date", "Enter the date of the session", "empty date");
    p.assert_error(
        "mode",
        "Select how the session takes place: face to face, telephone or video call",
        "empty mode",
    );
    assert_eq!(sessions_used(&coachb, &eid).await, "0 of 6");

    // Goals.
    let goals = format!("/people/{}/goals", w.off_caseload.id);
    let p = coachb
        .post_form_from(
            &format!("{goals}/new"),
            &goals,
            &[
                ("own_words", ""),
                ("category", "juggling"),
                ("importance", "11"),
                ("confidence", ""),
            ],
        )
        .await;
    p.assert_error(
        "own_words",
        "Enter the goal in the person's own words",
        "goal words",
    );
    p.assert_error("category", "Select what the goal is about", "goal category");
    p.assert_error(
        "importance",
        "How important it is must be a whole number from 0 to 10",
        "importance",
    );
    p.assert_error(
        "confidence",
        "Enter how confident they feel from 0 to 10",
        "confidence",
    );
    let p = coachb
        .post_form_from(
            &format!("{goals}/new"),
            &goals,
            &[
                ("own_words", "Walk more"),
                ("category", "rest"),
                ("importance", "5"),
                ("confidence", "5"),
                ("episode", "not-an-episode"),
            ],
        )
        .await;
    p.assert_status(StatusCode::BAD_REQUEST, "bad episode reference");
    let ep = coachb.get(&format!("/coaching/episodes/{eid}")).await;
    assert!(ep.main_text().contains("No goals yet"), "no goal written");

    // Discharge and reopening.
    let p = coachb
        .post_form(
            &format!("/coaching/episodes/{eid}/discharge"),
            &[("summary", "")],
        )
        .await;
    p.assert_error("summary", "Enter a discharge summary", "discharge");
    let still = coachb.get(&format!("/coaching/episodes/{eid}")).await;
    assert!(still.main_text().contains("Open"), "episode still open");

    // Calendar: an unknown action.
    let p = coachb
        .post_form_from(
            "/coaching/calendar",
            "/coaching/calendar",
            &[("action", "explode")],
        )
        .await;
    p.assert_status(StatusCode::BAD_REQUEST, "unknown calendar action");
    assert!(p
        .main_text()
        .contains("Choose to make a new address or turn the feed off"));

    // Malformed ids are simply not found.
    for path in [
        "/coaching/referrals/nope",
        "/coaching/episodes/nope",
        "/coaching/sessions/nope",
        "/goals/nope",
        "/calendar/nope/nope.ics",
    ] {
        coord
            .get(path)
            .await
            .assert_status(StatusCode::NOT_FOUND, path);
    }
    assert!(app.audit(w.org_a).await.len() > audit_before);
    app.assert_audit_verifies().await;
}

both_backends!(the_session_date_is_typed_in_day_month_and_year_boxes);

/// The booking form's date is the design system's date input: a problem with the boxes is put
/// on the box concerned (the typed values kept), a date in the past on the day box, a real
/// date (a month may be a name) books the session; the single `date` of older forms is still
/// read, as ISO 8601 or day/month/year.
async fn the_session_date_is_typed_in_day_month_and_year_boxes(backend: Backend) {
    let (app, w, _clock) = setup(backend, "2027-05-03").await; // a Monday
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let coachb = app.sign_in("health_coach", PASSWORD).await;
    set_hours(&coord, &w, "09:00-17:00", "", "40").await;
    let eid = open_episode(&app, &w, &w.on_caseload).await;
    let form = coachb.get(&format!("/coaching/episodes/{eid}/book")).await;
    form.assert_status(StatusCode::OK, "booking form");
    for id in ["date_day", "date_month", "date_year"] {
        assert!(form.has_id(id), "the booking form has a #{id} box");
    }
    let book_on = |d: &'static str, m: &'static str, y: &'static str| {
        let coachb = &coachb;
        let eid = &eid;
        async move {
            coachb
                .post_form_from(
                    &format!("/coaching/episodes/{eid}/book"),
                    &format!("/coaching/episodes/{eid}/book"),
                    &[
                        ("date_day", d),
                        ("date_month", m),
                        ("date_year", y),
                        ("time", "10:00"),
                        ("minutes", "60"),
                        ("mode", "telephone"),
                    ],
                )
                .await
        }
    };
    for (d, m, y, field, message) in [
        ("", "", "", "date_day", "Enter the date of the session"),
        (
            "",
            "5",
            "2027",
            "date_day",
            "The date of the session must include a day",
        ),
        (
            "4",
            "13",
            "2027",
            "date_month",
            "The date of the session must be a real date: month must be from 1 to 12",
        ),
        ("4", "5", "27", "date_year", "Year must include 4 numbers"),
        (
            "31",
            "2",
            "2027",
            "date_day",
            "The date of the session must be a real date",
        ),
        // The Friday before.
        (
            "30",
            "4",
            "2027",
            "date_day",
            "The session must be in the future",
        ),
    ] {
        let p = book_on(d, m, y).await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, message);
        p.assert_error(field, message, message);
        assert_eq!(p.error_summary().len(), 1, "{message}: one error");
        assert_eq!(p.input_values("date_month"), vec![m.to_string()], "kept");
    }
    assert_eq!(
        sessions_used(&coachb, &eid).await,
        "0 of 6",
        "nothing written"
    );

    book_on("4", "May", "2027")
        .await
        .assert_redirect(&format!("/coaching/episodes/{eid}?booked=1"), "boxes");
    book(&coachb, &eid, "11/05/2027", "10:00", "60", &[])
        .await
        .assert_redirect(&format!("/coaching/episodes/{eid}?booked=1"), "one value");
    book(&coachb, &eid, "2027-05-18", "10:00", "60", &[])
        .await
        .assert_redirect(&format!("/coaching/episodes/{eid}?booked=1"), "ISO");
    assert_eq!(sessions_used(&coachb, &eid).await, "3 of 6");
}
