//! The peer-support report through HTTP, on SQLite and PostgreSQL: exact figures from a fixture
//! of groups, sessions and sign-ins (registered people with known activation levels and
//! deprivation deciles, people with neither, walk-ins), small-number suppression of counts and
//! of figures made from them, the CSV download, the date range filter, and access.

use crate::support::*;
use alongside_core::groups::{GroupDetails, GroupForm};
use alongside_core::{GroupId, PersonId, Role};
use alongside_store::activation::StoredResult;
use alongside_store::groups::{DoorEntry, SignInOutcome};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use time::Date;

fn today() -> Date {
    alongside_web::Clock::default().today()
}

fn daily(name: &str) -> GroupDetails {
    let first = today().saturating_sub(time::Duration::days(10));
    GroupDetails::parse(&GroupForm {
        name: name.into(),
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
    .expect("valid group")
}

fn src() -> Source {
    Source(Some("fixture".into()))
}

/// Signs in at the door as the peer-support lead (staff may use any session's door; volunteers
/// only those they are on the rota for).
async fn sign_in(app: &TestApp, w: &World, g: GroupId, day: Date, entry: DoorEntry) {
    let out = app
        .store
        .door_sign_in(
            &w.account(Role::PeerSupportLead).actor(),
            g,
            day,
            entry,
            src(),
        )
        .await
        .expect("sign in");
    assert!(matches!(out, SignInOutcome::Admitted { .. }), "{out:?}");
}

/// Two groups; 12 registered people (9 at activation level 2 in decile 3, 3 with neither);
/// the café: two days ago all 12 and 5 walk-ins, yesterday the 9; the walking group: one of
/// the 9, two days ago.
async fn fixture(app: &TestApp, w: &World) -> Vec<PersonId> {
    let coord = w.account(Role::Coordinator).actor();
    let cafe = app
        .store
        .create_group(&coord, daily("Evening café"), src())
        .await
        .unwrap();
    let walk = app
        .store
        .create_group(&coord, daily("Hillside walking group"), src())
        .await
        .unwrap();
    let people: Vec<(
        PersonId,
        alongside_core::person::PersonDetails,
        Option<alongside_core::UserId>,
    )> = (0..12)
        .map(|i| {
            let mut d = details(
                &format!("Peer{}", (b'a' + i as u8) as char),
                &format!("Reportson{}", "x".repeat(i + 1)),
            );
            d.deprivation_decile = (i < 9).then_some(3);
            (PersonId::new(), d, None)
        })
        .collect();
    let ids: Vec<PersonId> = people.iter().map(|p| p.0).collect();
    app.store
        .insert_people_unaudited_actor(w.org_a, people, "fixture")
        .await
        .unwrap();
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
            ids[..9]
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
    for g in [cafe, walk] {
        for p in &ids {
            app.store
                .add_group_member_unaudited(w.org_a, g, *p)
                .await
                .unwrap();
        }
    }
    let t = today();
    let (two_ago, yesterday) = (
        t.saturating_sub(time::Duration::days(2)),
        t.saturating_sub(time::Duration::days(1)),
    );
    for p in &ids {
        sign_in(app, w, cafe, two_ago, DoorEntry::Person(*p)).await;
    }
    for n in ["Ana", "Bo", "Cy", "Di", "Ed"] {
        sign_in(
            app,
            w,
            cafe,
            two_ago,
            DoorEntry::WalkIn {
                first_name: n.into(),
                contact: None,
            },
        )
        .await;
    }
    for p in &ids[..9] {
        sign_in(app, w, cafe, yesterday, DoorEntry::Person(*p)).await;
    }
    sign_in(app, w, walk, two_ago, DoorEntry::Person(ids[0])).await;
    ids
}

/// The page's table rows and summary rows, each as its cells' text joined by spaces.
fn rows(p: &Page) -> Vec<String> {
    let html = p.html();
    let sel = scraper::Selector::parse("tr, div.summary-list-row").unwrap();
    let cell = scraper::Selector::parse("th, td, dt, dd").unwrap();
    html.select(&sel)
        .map(|r| {
            r.select(&cell)
                .map(|c| c.text().collect::<String>().trim().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

async fn report_figures_suppression_csv_and_range(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    fixture(&app, &w).await;
    let analyst = app.sign_in("analyst", PASSWORD).await;
    let page = analyst.get("/reports/peer-support").await;
    page.assert_status(StatusCode::OK, "report");
    assert_eq!(page.h1(), "Peer support report");
    let text = rows(&page);
    for expected in [
        "People reached 12",
        "Attendances 27",
        "Of which walk-ins suppressed",
        "Sessions held 3",
        "Average attendance per session 9.0",
        // 26 at the café and 1 (suppressed) on the walk would give the 1 away from the 27 in
        // all, so the café's attendances go too, with its average (secondary suppression).
        "Evening café 12 suppressed suppressed 2 suppressed",
        "Hillside walking group suppressed suppressed 0 1 suppressed",
        // 9 at level 2 and 3 not measured of 12 reached: the 9 goes with the 3.
        "Level 2 suppressed 19 70.4%",
        "Not measured suppressed suppressed suppressed",
        "Not known (walk-ins) not known suppressed suppressed",
    ] {
        assert!(
            text.contains(&expected.to_string()),
            "{expected:?} not in {text:#?}"
        );
    }
    assert!(page.body.contains("<svg"));
    assert!(page
        .body
        .contains("Share of attendances by activation level"));
    assert!(
        !page.body.contains("Reportson") && !page.body.contains("Peera"),
        "an analyst sees no identities"
    );
    // The CSV says the same.
    let csv = analyst.get("/reports/peer-support.csv").await;
    csv.assert_status(StatusCode::OK, "csv");
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let lines: Vec<&str> = csv.body.lines().collect();
    for expected in [
        "section,group,breakdown,people_reached,attendances,walk_ins,sessions_held,average_attendance_per_session,share_of_attendances_percent",
        "total,,,12,27,suppressed,3,9.0,100.0",
        "group,\"Evening café\",,12,suppressed,suppressed,2,suppressed,suppressed",
        "group,\"Hillside walking group\",,suppressed,suppressed,0,1,suppressed,suppressed",
        "activation_level,,\"Level 1\",0,0,,,,0.0",
        "activation_level,,\"Level 2\",suppressed,19,,,,70.4",
        "activation_level,,\"Not measured\",suppressed,suppressed,,,,suppressed",
        "activation_level,,\"Not known (walk-ins)\",not known,suppressed,,,,suppressed",
        "deprivation_decile,,\"3\",suppressed,19,,,,70.4",
        "deprivation_decile,,\"Not recorded\",suppressed,suppressed,,,,suppressed",
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in\n{}", csv.body);
    }
    assert!(!csv.body.contains("Reportson"));
    // No suppressed count can be worked out from the others in its line and the total: a
    // line (attendances by group, people or attendances by level or decile) never has
    // exactly one hidden.
    let column = |section: &str, col: usize| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.starts_with(section))
            .map(|l| l.split(',').nth(col).unwrap_or_default().to_string())
            .collect()
    };
    for (section, col) in [
        ("group,", 4),
        ("activation_level,", 3),
        ("activation_level,", 4),
        ("deprivation_decile,", 3),
        ("deprivation_decile,", 4),
    ] {
        let cells = column(section, col);
        let hidden = cells.iter().filter(|c| *c == "suppressed").count();
        assert_ne!(hidden, 1, "{section} column {col}: {cells:?}");
    }
    // Yesterday only: the 9 at the café.
    let t = today();
    let from = alongside_core::time::iso_date(t.saturating_sub(time::Duration::days(1)));
    let to = alongside_core::time::iso_date(t);
    let csv = analyst
        .get(&format!("/reports/peer-support.csv?from={from}&to={to}"))
        .await;
    assert!(
        csv.body.lines().any(|l| l == "total,,,9,9,0,1,9.0,100.0"),
        "{}",
        csv.body
    );
    let page = analyst
        .get(&format!("/reports/peer-support?from={from}&to={to}"))
        .await;
    assert!(rows(&page).contains(&"People reached 9".to_string()));
    // Bad dates are refused naming the field.
    let p = analyst.get("/reports/peer-support?from=2026-13-01").await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad start date");
    assert_eq!(
        p.error_summary(),
        vec![(
            "#from".to_string(),
            "The start date must be a real date written like 2026-01-31".to_string()
        )]
    );
    let p = analyst
        .get(&format!("/reports/peer-support?from={to}&to={from}"))
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "end before start");
    assert_eq!(
        p.error_summary(),
        vec![(
            "#to".to_string(),
            "The end date must be on or after the start date".to_string()
        )]
    );
    // Who may read it; every reading is audited.
    for role in ["volunteer", "educator", "health_coach", "person"] {
        let b = app.sign_in(role, PASSWORD).await;
        b.get("/reports/peer-support")
            .await
            .assert_status(StatusCode::FORBIDDEN, role);
    }
    let lead = app.sign_in("peer_support_lead", PASSWORD).await;
    lead.get("/reports/peer-support")
        .await
        .assert_status(StatusCode::OK, "lead");
    assert_eq!(
        app.count_audit(w.org_a, "peer_support_report.read", Some("allowed"))
            .await,
        5
    );
    app.assert_audit_verifies().await;
}

both_backends!(report_figures_suppression_csv_and_range);
