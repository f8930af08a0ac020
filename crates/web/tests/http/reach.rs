//! Reach of coaching, education and peer support on the outcomes dashboard, through HTTP on
//! SQLite and PostgreSQL: exact counts of distinct people from a fixture made with the store's
//! own use cases, the share of registered people, the breakdown by activation level, the chart
//! with its table, small-number suppression, the CSV rows, and what falls outside the window.

use crate::support::*;
use alongside_core::coaching::{
    BookingForm, ContactMode, ReferralDetails, ReferralSource, SessionStatus, Urgency, WorkingHours,
};
use alongside_core::education::{
    DeliveryMode, ProgrammeDetails, ProgrammeForm, RunDetails, RunForm,
};
use alongside_core::groups::{GroupDetails, GroupForm};
use alongside_core::time::{iso_date, Timestamp};
use alongside_core::{PersonId, Role};
use alongside_store::activation::StoredResult;
use alongside_store::coaching::SessionRecord;
use alongside_store::groups::{DoorEntry, SignInOutcome};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use time::{Date, Duration};

both_backends!(reach_counts_people_by_service_and_level_within_the_window);

fn src() -> Source {
    Source(Some("fixture".into()))
}

fn today() -> Date {
    alongside_web::Clock::default().today()
}

fn days(n: i64) -> Date {
    today() + Duration::days(n)
}

fn window(from: i64, to: i64) -> String {
    format!("from={}&to={}", iso_date(days(from)), iso_date(days(to)))
}

async fn people(app: &TestApp, w: &World, n: usize, family: &str) -> Vec<PersonId> {
    let rows: Vec<_> = (0..n)
        .map(|i| {
            (
                PersonId::new(),
                details(
                    &format!("Reach{}", (b'a' + i as u8) as char),
                    &format!("{family}{}", "x".repeat(i + 1)),
                ),
                None,
            )
        })
        .collect();
    let ids = rows.iter().map(|r| r.0).collect();
    app.store
        .insert_people_unaudited_actor(w.org_a, rows, "fixture")
        .await
        .unwrap();
    ids
}

fn referral() -> ReferralDetails {
    ReferralDetails {
        source: ReferralSource::Clinician,
        referrer: None,
        reason: "Wants to walk to the shops again".into(),
        urgency: Urgency::Routine,
        modes: vec![ContactMode::Telephone],
        times: None,
        language: None,
    }
}

/// Coaching: 10 people referred now (9 at activation level 2, one not measured); 9 of them
/// taken on by the coach; 3 of those had a session three days ago; 8 more people referred
/// about 400 days ago (outside the current window). Returns the 10 referred now.
async fn coaching(app: &TestApp, w: &World) -> Vec<PersonId> {
    let coord = w.account(Role::Coordinator).actor();
    let coach = w.account(Role::HealthCoach);
    let every_day = (["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
        .map(|d| format!("{d}=08:00-18:00"))
        .join(";");
    app.store
        .set_coach_profile(
            &coord,
            coach.id,
            50,
            WorkingHours::from_text(&every_day).unwrap(),
            src(),
        )
        .await
        .unwrap();
    let now_ppl = people(app, w, 10, "Coachedreach").await;
    alongside_web::setup::install_shipped_instruments(&app.store, w.org_a)
        .await
        .unwrap();
    let instrument = app.store.instruments(w.org_a).await.unwrap()[0].id;
    let level_two = StoredResult {
        items_answered: 6,
        raw_score: 30,
        measure: None,
        standard_error: None,
        score: Some(50.0),
        score_se: None,
        level: Some(2),
        flags: String::new(),
        not_scored_reason: None,
    };
    app.store
        .insert_completed_assessments(
            w.org_a,
            now_ppl[..9]
                .iter()
                .map(|p| {
                    (
                        *p,
                        instrument,
                        alongside_store::now_micros(),
                        BTreeMap::new(),
                        level_two.clone(),
                    )
                })
                .collect(),
        )
        .await
        .unwrap();
    let mut episodes = Vec::new();
    for (i, p) in now_ppl.iter().enumerate() {
        let rid = app
            .store
            .create_referral(&coord, *p, referral(), src())
            .await
            .unwrap();
        if i < 9 {
            app.store
                .allocate_referral(&coord, rid, coach.id, src())
                .await
                .unwrap();
            episodes.push(
                app.store
                    .accept_referral(&coach.actor(), rid, src())
                    .await
                    .unwrap(),
            );
        }
    }
    let day = 86_400_000_000i64;
    for (k, eid) in episodes[..3].iter().enumerate() {
        let b = BookingForm {
            date: iso_date(days(-3)),
            time: format!("{:02}:00", 10 + k),
            minutes: "60".into(),
            mode: "telephone".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let starts = b.starts_at;
        let sid = app
            .store
            .book_session(&coach.actor(), *eid, b, Timestamp(starts.0 - day), src())
            .await
            .unwrap();
        app.store
            .record_session(
                &coach.actor(),
                sid,
                SessionRecord {
                    status: SessionStatus::Attended,
                    notes: None,
                    notes_shared: false,
                    cancel_reason: None,
                    reviews: Vec::new(),
                },
                Timestamp(starts.0 + 3_600_000_000),
                src(),
            )
            .await
            .unwrap();
    }
    let long_ago = alongside_store::now_micros() - 400 * day;
    for p in people(app, w, 8, "Pastreferral").await {
        let rid = app
            .store
            .create_referral(&coord, p, referral(), src())
            .await
            .unwrap();
        app.store
            .backdate_coaching(w.org_a, rid, long_ago, None)
            .await
            .unwrap();
    }
    now_ppl
}

/// Education: a course of 6 weekly sessions (complete at 4) starting a week ago with 9
/// people, 8 of whom attend sessions 1–4 (the 4th is in two weeks); a run in 2099 with 2
/// other people (outside every window here).
async fn education(app: &TestApp, w: &World) {
    let educator = w.account(Role::Educator);
    let coord = w.account(Role::Coordinator).actor();
    let pid = app
        .store
        .create_programme(
            &educator.actor(),
            ProgrammeDetails::parse(&ProgrammeForm {
                title: "Breathing Space".into(),
                summary: "A six-week group course for people living with COPD.".into(),
                provider: "Riverside PCN education team".into(),
                mode: "group".into(),
                sessions: "6".into(),
                session_minutes: "120".into(),
                completion_min: "4".into(),
                audience: "Adults with COPD.".into(),
                topics: "Inhaler technique".into(),
                languages: vec!["en".into()],
                accessibility: "Step-free access".into(),
                conditions: vec!["copd".into()],
            })
            .unwrap(),
            src(),
        )
        .await
        .unwrap();
    let run = |first: String| {
        RunDetails::parse(
            &RunForm {
                label: "Tuesday mornings".into(),
                first_date: first,
                start_time: "10:00".into(),
                end_time: "12:00".into(),
                venue: "Riverside Community Centre".into(),
                joining: "".into(),
                capacity: "20".into(),
                facilitators: vec![educator.id.to_string()],
            },
            DeliveryMode::Group,
            6,
        )
        .unwrap()
    };
    let current = app
        .store
        .create_run(&educator.actor(), pid, run(iso_date(days(-7))), src())
        .await
        .unwrap();
    let later = app
        .store
        .create_run(&educator.actor(), pid, run("2099-03-03".into()), src())
        .await
        .unwrap();
    let learners = people(app, w, 9, "Learnerreach").await;
    for p in &learners {
        app.store.enrol(&coord, current, *p, src()).await.unwrap();
    }
    for n in 1..=4 {
        let present = if n == 1 {
            learners.clone()
        } else {
            learners[..8].to_vec()
        };
        app.store
            .record_attendance(&coord, current, n, present, src())
            .await
            .unwrap();
    }
    for p in people(app, w, 2, "Futurelearner").await {
        app.store.enrol(&coord, later, p, src()).await.unwrap();
    }
}

/// Peer support: the 10 people referred to coaching sign in at a café session two days ago,
/// with 5 walk-ins; at the door as the peer-support lead.
async fn peer_support(app: &TestApp, w: &World, who: &[PersonId]) {
    let coord = w.account(Role::Coordinator).actor();
    let first = days(-10);
    let g = app
        .store
        .create_group(
            &coord,
            GroupDetails::parse(&GroupForm {
                name: "Evening café".into(),
                kind: "formal".into(),
                focus: "any".into(),
                mode: "in_person".into(),
                venue: "Community hall".into(),
                who_may_join: "Anyone".into(),
                first_day: first.day().to_string(),
                first_month: u8::from(first.month()).to_string(),
                first_year: first.year().to_string(),
                start_time: "18:00".into(),
                end_time: "23:00".into(),
                repeat: "daily".into(),
                count: "40".into(),
                capacity: "60".into(),
                walk_in_places: "0".into(),
                ..Default::default()
            })
            .unwrap(),
            src(),
        )
        .await
        .unwrap();
    let lead = w.account(Role::PeerSupportLead).actor();
    let mut entries: Vec<DoorEntry> = Vec::new();
    for p in who {
        app.store
            .add_group_member_unaudited(w.org_a, g, *p)
            .await
            .unwrap();
        entries.push(DoorEntry::Person(*p));
    }
    for n in ["Ana", "Bo", "Cy", "Di", "Ed"] {
        entries.push(DoorEntry::WalkIn {
            first_name: n.into(),
            contact: None,
        });
    }
    for e in entries {
        let out = app
            .store
            .door_sign_in(&lead, g, days(-2), e, src())
            .await
            .unwrap();
        assert!(matches!(out, SignInOutcome::Admitted { .. }), "{out:?}");
    }
}

/// Table rows as their cells' text joined by spaces.
fn rows(p: &Page, table: &str) -> Vec<String> {
    let html = p.html();
    let sel = scraper::Selector::parse(&format!("table#{table} tbody tr")).unwrap();
    let cell = scraper::Selector::parse("th, td").unwrap();
    html.select(&sel)
        .map(|r| {
            r.select(&cell)
                .map(|c| c.text().collect::<String>().trim().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn has_row(rows: &[String], expected: &str) {
    assert!(
        rows.iter().any(|r| r == expected),
        "no row {expected:?} in {rows:#?}"
    );
}

fn pct(n: u64, of: u64) -> String {
    format!("{:.1}%", 100.0 * n as f64 / of as f64)
}

async fn reach_counts_people_by_service_and_level_within_the_window(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let referred = coaching(&app, &w).await;
    education(&app, &w).await;
    peer_support(&app, &w, &referred).await;
    let analyst = app.sign_in("analyst", PASSWORD).await;

    // The current window: a month either side of today.
    let page = analyst.get(&format!("/outcomes?{}", window(-30, 30))).await;
    page.assert_status(StatusCode::OK, "dashboard");
    let text = page.main_text();
    assert!(
        !text.contains("not recorded in Alongside yet"),
        "the old text is gone"
    );
    let reach = rows(&page, "reach-table");
    let registered: u64 = reach
        .iter()
        .find_map(|r| r.strip_prefix("Registered "))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("registered row in {reach:#?}"));
    assert!(
        registered >= 29,
        "the fixture's 29 people at least: {registered}"
    );
    for (label, n) in [
        ("Referred to health coaching (or asked for it)", 10),
        ("Started health coaching (a coach took them on)", 9),
        ("Had a place on a self-management education course", 9),
        ("Completed a self-management education course", 8),
        ("Attended peer support (registered people)", 10),
    ] {
        has_row(&reach, &format!("{label} {n} {}", pct(n, registered)));
    }
    // Three people had a coaching session: suppressed, and their share with them.
    has_row(&reach, "Had at least one coaching session [c] [c]");
    let walk_ins = page.html();
    let walk_ins = walk_ins
        .select(&scraper::Selector::parse("#reach-walk-ins").unwrap())
        .next()
        .expect("walk-ins paragraph")
        .text()
        .collect::<String>();
    assert!(
        walk_ins.ends_with(": [c]."),
        "5 walk-ins suppressed: {walk_ins}"
    );

    // By activation level: the 9 coached people are at level 2; the tenth and every learner
    // are not measured (counts 1–7 suppressed). Where the row's total would give the one not
    // measured away (10 − 9), the 9 is suppressed with it (secondary suppression).
    let by_level = rows(&page, "reach-by-level");
    for expected in [
        "Referred to health coaching (or asked for it) 0 [c] 0 0 [c] 10",
        "Started health coaching (a coach took them on) 0 9 0 0 0 9",
        "Had at least one coaching session 0 [c] 0 0 0 [c]",
        "Had a place on a self-management education course 0 0 0 0 9 9",
        "Completed a self-management education course 0 0 0 0 8 8",
        "Attended peer support (registered people) 0 [c] 0 0 [c] 10",
    ] {
        has_row(&by_level, expected);
    }
    for row in &by_level {
        assert_ne!(
            row.matches("[c]").count(),
            1,
            "one hidden in a row gives it away: {row}"
        );
    }

    // The chart comes first, accessible, with its table after it.
    let chart = page.body.find("id=\"chart-reach-t\"").expect("reach chart");
    let table = page.body.find("id=\"reach-table\"").expect("reach table");
    assert!(chart < table, "chart then table");
    assert!(page
        .body
        .contains("aria-labelledby=\"chart-reach-t chart-reach-d\""));
    assert!(page.body.contains("role=\"img\""));
    for p in &referred {
        assert!(!page.body.contains(&p.to_string()), "no ids on the page");
    }
    assert!(!page.body.contains("Coachedreach"), "no names on the page");

    // The CSV: the same figures in the reach section, suppressed likewise.
    let csv = analyst
        .get(&format!("/outcomes?{}&format=csv", window(-30, 30)))
        .await;
    csv.assert_status(StatusCode::OK, "csv");
    let pad = ",,,,,,,,";
    for line in [
        format!("reach,,,registered,{registered}{pad}"),
        format!("reach,,,referred_to_coaching,10{pad}"),
        format!("reach,,,started_coaching,9{pad}"),
        format!("reach,,,had_coaching_session,[c]{pad}"),
        format!("reach,,,enrolled_on_course,9{pad}"),
        format!("reach,,,completed_course,8{pad}"),
        format!("reach,,,attended_peer_support,10{pad}"),
        format!("reach,,,peer_support_walk_in_attendances,[c]{pad}"),
        format!("reach_by_activation_level,referred_to_coaching,,level_2,[c]{pad}"),
        format!("reach_by_activation_level,referred_to_coaching,,not_measured,[c]{pad}"),
        format!("reach_by_activation_level,completed_course,,not_measured,8{pad}"),
    ] {
        assert!(
            csv.body.lines().any(|l| l == line),
            "no line {line:?} in\n{}",
            csv.body
        );
    }
    assert!(!csv.body.contains("Coachedreach"));

    // A window ending before the 4th course session: nobody has completed yet, the course
    // places, referrals and sign-ins are still counted.
    let page = analyst.get(&format!("/outcomes?{}", window(-30, 10))).await;
    let reach = rows(&page, "reach-table");
    has_row(
        &reach,
        "Completed a self-management education course 0 0.0%",
    );
    has_row(
        &reach,
        &format!(
            "Had a place on a self-management education course 9 {}",
            pct(9, registered)
        ),
    );

    // A window a year ago: only the 8 backdated referrals; nothing from today.
    let page = analyst
        .get(&format!("/outcomes?{}", window(-430, -300)))
        .await;
    page.assert_status(StatusCode::OK, "past window");
    let reach = rows(&page, "reach-table");
    for expected in [
        "Started health coaching (a coach took them on) 0 0.0%",
        "Had at least one coaching session 0 0.0%",
        "Had a place on a self-management education course 0 0.0%",
        "Completed a self-management education course 0 0.0%",
        "Attended peer support (registered people) 0 0.0%",
    ] {
        has_row(&reach, expected);
    }
    let referred_row = reach
        .iter()
        .find(|r| r.starts_with("Referred to health coaching"))
        .expect("referred row");
    // Registered by a year ago may be suppressed or not (people are registered now), so
    // the share is whatever follows; the count is exactly the 8 backdated referrals.
    assert!(
        referred_row.starts_with("Referred to health coaching (or asked for it) 8 "),
        "{referred_row}"
    );

    // Only analysts' roles see it, as before: a coach is refused.
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let refused = coach.get(&format!("/outcomes?{}", window(-30, 30))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("reach-table"));
}
