//! The outcomes dashboard over HTTP on both backends: who may see it, charts with tables,
//! small-number suppression, the CSV download, the printable report's CSP, no identities, and
//! an audit entry for every view.

use crate::support::*;
use alongside_core::person::{PersonDetails, PersonForm};
use alongside_core::{OrgId, PersonId, Role};
use alongside_stats::{Day, Sex};
use alongside_store::outcomes::{NewEvent, PopulationMeasurement, PopulationRow};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use base64::Engine;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

both_backends!(dashboard_for_analysts_only);

const WINDOW: &str = "from=2025-01-01&to=2025-12-31";
const NHS: &str = "9434765919";

fn day(s: &str) -> Day {
    Day::parse_iso(s.as_bytes()).unwrap()
}

/// 60 people: 19 at each of levels 1–3 and 3 at level 4 (measured before the window), with
/// GP and A&E events inside it; plus one registered person with an NHS number.
async fn population(app: &TestApp, org: OrgId) {
    let (ins, _) = app
        .store
        .install_instrument(
            org,
            "test-activation",
            "1",
            "Test",
            "{}",
            None,
            Source::default(),
        )
        .await
        .unwrap();
    let named = PersonId::new();
    let form = PersonForm {
        nhs_number: NHS.into(),
        given_name: "Ottoline".into(),
        family_name: "Nhsnumberby".into(),
        dob_day: "1".into(),
        dob_month: "2".into(),
        dob_year: "1950".into(),
        sex: "male".into(),
        conditions: vec!["asthma".into()],
        deprivation_decile: "2".into(),
        ..Default::default()
    };
    let d = PersonDetails::parse(&form, time::macros::date!(2026 - 11 - 22)).unwrap();
    app.store
        .insert_people_unaudited_actor(org, vec![(named, d, None)], "test")
        .await
        .unwrap();
    let mut people = Vec::new();
    let mut ms = vec![PopulationMeasurement {
        person_id: named,
        day: day("2024-06-01"),
        score: 60.0,
        level: 3,
    }];
    let mut events = Vec::new();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5);
    use rand::Rng;
    for i in 0..60u32 {
        let id = PersonId::new();
        let level = if i < 3 { 4 } else { 1 + (i % 3) as u8 };
        people.push(PopulationRow {
            id,
            date_of_birth: Day(day("1938-01-01").0 + rng.gen_range(0..20_000)),
            sex: if rng.gen_bool(0.5) {
                Sex::Female
            } else {
                Sex::Male
            },
            deprivation_decile: rng.gen_range(1..=10),
            ltc_count: rng.gen_range(1..=4),
            gp_practice: Some(
                if i % 2 == 0 {
                    "Riverside Surgery"
                } else {
                    "Canal Street Practice"
                }
                .into(),
            ),
        });
        ms.push(PopulationMeasurement {
            person_id: id,
            day: day("2024-10-01"),
            score: [40.0, 50.0, 60.0, 80.0][usize::from(level - 1)],
            level,
        });
        for k in 0..rng.gen_range(2..12u32) {
            events.push(NewEvent {
                person_id: id,
                day: Day(day("2025-02-01").0 + (k * 37) as i32),
                event_type: (k % 6) as u8,
                minor: k % 2 == 0,
            });
        }
    }
    app.store
        .load_population(
            org,
            ins,
            people,
            ms,
            vec![
                "asthma".into(),
                "copd".into(),
                "depression".into(),
                "hypertension".into(),
            ],
        )
        .await
        .unwrap();
    app.store
        .insert_generated_events(org, "test events", events)
        .await
        .unwrap();
}

fn csp_hash(s: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
    )
}

async fn dashboard_for_analysts_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let org = w.org_a;
    population(&app, org).await;
    let forbidden_text = |body: &str, what: &str| {
        for p in w.people() {
            assert!(!body.contains(&p.family), "{what} names {}", p.name());
        }
        assert!(
            !body.contains("Nhsnumberby") && !body.contains("Ottoline"),
            "{what} names a person"
        );
        assert!(
            !body.contains(NHS) && !body.contains("943 476 5919"),
            "{what} shows an NHS number"
        );
        assert!(!body.contains("Synthetic"), "{what} shows a name");
    };
    let analyst = app
        .sign_in(w.account(Role::Analyst).username.as_str(), PASSWORD)
        .await;
    let allowed_before = app
        .count_audit(org, "outcomes.evaluate", Some("allowed"))
        .await;

    let page = analyst.get(&format!("/outcomes?{WINDOW}")).await;
    page.assert_status(StatusCode::OK, "analyst dashboard");
    assert_eq!(page.h1(), "Outcomes");
    let html = page.html();
    let svgs: Vec<_> = html
        .select(&scraper::Selector::parse("svg[role=img]").unwrap())
        .collect();
    assert!(
        svgs.len() >= 9,
        "level chart, 7 rate charts and a forest plot: {}",
        svgs.len()
    );
    for s in &svgs {
        let id = s.value().attr("aria-labelledby").unwrap();
        for part in id.split(' ') {
            assert!(page.has_id(part), "chart label {part} exists");
        }
    }
    assert!(page.body.contains("chart-forest-t"), "forest plot");
    let text = page.main_text();
    // 3 people at level 4: suppressed in the level table; 19 at level 1 shown.
    let level_row = html
        .select(&scraper::Selector::parse("table").unwrap())
        .find(|t| {
            t.text()
                .collect::<String>()
                .contains("People by activation level")
        })
        .expect("level table");
    let cells: Vec<String> = level_row
        .select(&scraper::Selector::parse("tbody td").unwrap())
        .map(|c| c.text().collect::<String>().trim().to_string())
        .collect();
    // Before secondary suppression this row was 19, 19, 20, [c], 61: 61 − 19 − 19 − 20 = 3
    // gave level 4 away. Now the next smallest level goes with it (ties: the later one).
    assert_eq!(
        cells,
        vec!["19", "[c]", "20", "[c]", "61"],
        "levels 1–4 and all"
    );
    let shown: Vec<u64> = cells.iter().filter_map(|c| c.parse().ok()).collect();
    assert_eq!(
        cells.iter().filter(|c| *c == "[c]").count(),
        2,
        "level 4 = {} − {} − the other hidden level: two unknowns",
        shown[shown.len() - 1],
        shown[..shown.len() - 1].iter().sum::<u64>()
    );
    assert!(
        text.contains("observational associations"),
        "associations caveat"
    );
    assert!(text.contains("Adjusted for: age band"), "covariates stated");
    assert!(
        text.contains("2025-01-01") && text.contains("2025-12-31"),
        "period stated"
    );
    assert!(
        text.contains("Referred to health coaching (or asked for it)")
            && !text.contains("not recorded in Alongside yet"),
        "reach of coaching, education and peer support is shown (see tests/reach.rs)"
    );
    assert!(
        page.body.contains("id=\"movement\""),
        "level movement table"
    );
    assert!(page.body.contains("id=\"rate-ratios\""), "rate ratio table");
    forbidden_text(&page.body, "dashboard");

    let csv = analyst.get(&format!("/outcomes?{WINDOW}&format=csv")).await;
    csv.assert_status(StatusCode::OK, "CSV");
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.body.starts_with("section,outcome,model,item,count,"),
        "{}",
        csv.snippet()
    );
    assert!(
        csv.body
            .contains("\nactivation_level,\"Everyone measured\",,level_4,[c],"),
        "suppressed level 4 in the CSV"
    );
    assert!(csv
        .body
        .contains("\nactivation_level,\"Everyone measured\",,level_1,19,"));
    assert!(csv.body.contains("\ncrude_rate,gp_appointment,,level_1,"));
    assert!(
        csv.body
            .contains("\nrate_ratio,gp_appointment,poisson,level_2,"),
        "{}",
        csv.body
            .lines()
            .filter(|l| l.starts_with("rate_ratio"))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    forbidden_text(&csv.body, "CSV");

    let report = analyst.get(&format!("/outcomes/report?{WINDOW}")).await;
    report.assert_status(StatusCode::OK, "printable report");
    let csp = report
        .header("content-security-policy")
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("script-src 'none'"), "{csp}");
    assert!(!report.body.to_lowercase().contains("<script"));
    let style = report
        .body
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    assert!(
        csp.contains(&csp_hash(style)),
        "the report's style element is allowed by hash"
    );
    assert!(
        report.body.contains("[c]"),
        "suppression applies to the printed report"
    );
    forbidden_text(&report.body, "report");
    // The other pages keep the site-wide policy.
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("style-src 'self'"));

    assert_eq!(
        app.count_audit(org, "outcomes.evaluate", Some("allowed"))
            .await,
        allowed_before + 3,
        "each view is audited"
    );
    let details: Vec<String> = app
        .audit(org)
        .await
        .into_iter()
        .filter(|e| e.action == "outcomes.evaluate")
        .filter_map(|e| e.detail)
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("outcomes CSV download: window 2025-01-01 to 2025-12-31")),
        "{details:?}"
    );

    // Coordinators and administrators may see it; coaches, volunteers and people may not.
    for role in [Role::Coordinator, Role::Administrator] {
        let b = app
            .sign_in(w.account(role).username.as_str(), PASSWORD)
            .await;
        b.get(&format!("/outcomes?{WINDOW}"))
            .await
            .assert_status(StatusCode::OK, "staff with aggregates");
    }
    let refused_before = app
        .count_audit(org, "outcomes.evaluate", Some("refused"))
        .await;
    for role in [Role::HealthCoach, Role::Volunteer, Role::Person] {
        let b = app
            .sign_in(w.account(role).username.as_str(), PASSWORD)
            .await;
        for path in ["/outcomes", "/outcomes?format=csv", "/outcomes/report"] {
            let p = b.get(path).await;
            p.assert_status(StatusCode::FORBIDDEN, &format!("{role:?} {path}"));
            assert!(
                !p.body.contains("level_1") && !p.body.contains("<svg"),
                "{role:?} {path} leaks figures"
            );
        }
    }
    assert_eq!(
        app.count_audit(org, "outcomes.evaluate", Some("refused"))
            .await,
        refused_before + 9,
        "refusals are audited"
    );
    // Bad dates are a clear 400, not a server error.
    analyst
        .get("/outcomes?from=2025-02-30")
        .await
        .assert_status(StatusCode::BAD_REQUEST, "bad date");
    app.assert_audit_verifies().await;
}

both_backends!(the_window_is_chosen_with_date_inputs);

/// The window's form is two NHS date inputs; the boxes choose the window, a problem goes on the
/// box that is wrong (the form again, nothing evaluated), and ISO dates in links still work.
async fn the_window_is_chosen_with_date_inputs(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let org = w.org_a;
    population(&app, org).await;
    let analyst = app
        .sign_in(w.account(Role::Analyst).username.as_str(), PASSWORD)
        .await;
    let page = analyst.get(&format!("/outcomes?{WINDOW}")).await;
    page.assert_status(StatusCode::OK, "ISO window");
    for (part, value) in [
        ("from_day", "1"),
        ("from_month", "1"),
        ("from_year", "2025"),
        ("to_day", "31"),
        ("to_month", "12"),
        ("to_year", "2025"),
    ] {
        assert_eq!(page.input_values(part), vec![value.to_string()], "{part}");
    }
    let boxes = "from_day=1&from_month=2&from_year=2025&to_day=30&to_month=6&to_year=2025";
    let page = analyst.get(&format!("/outcomes?{boxes}")).await;
    page.assert_status(StatusCode::OK, "window from the boxes");
    assert!(
        page.main_text()
            .contains("between 2025-02-01 and 2025-06-30"),
        "{}",
        page.main_text()
    );
    let before = app.count_audit(org, "outcomes.evaluate", None).await;
    let p = analyst
        .get("/outcomes?from_day=1&from_month=13&from_year=2025&to_day=&to_month=&to_year=")
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "month 13");
    p.assert_error(
        "from_month",
        "The start date must be a real date: month must be from 1 to 12",
        "month 13",
    );
    assert_eq!(p.input_values("from_month"), vec!["13".to_string()]);
    let p = analyst
        .get("/outcomes?from_day=1&from_month=6&from_year=2025&to_day=1&to_month=2&to_year=2025")
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "end before start");
    p.assert_error(
        "to_day",
        "The end date must be on or after the start date",
        "end before start",
    );
    assert_eq!(
        app.count_audit(org, "outcomes.evaluate", None).await,
        before,
        "nothing evaluated"
    );
}
