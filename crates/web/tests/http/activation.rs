//! Measuring activation through HTTP, on SQLite and PostgreSQL: a person fills in a
//! questionnaire one question per page, stops half-way and comes back; staff record answers
//! given on paper; results, flags, change and recommendations show on the record; coordinators'
//! outreach list and its CSV; instrument import with field-named errors; access and audit.

use crate::support::*;
use alongside_core::{AssessmentId, Role};
use alongside_measure::{Instrument, Outcome};
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;

const DEMO: &str = "alongside-demo-activation";

async fn setup(backend: Backend) -> (TestApp, World, String) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    alongside_web::setup::install_shipped_instruments(&app.store, w.org_a)
        .await
        .unwrap();
    let demo = app
        .store
        .instruments(w.org_a)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.key == DEMO)
        .unwrap();
    (app, w, demo.id.as_text())
}

fn demo_instrument() -> Instrument {
    Instrument::from_json_str(alongside_measure::shipped::DEMO_ACTIVATION_JSON).unwrap()
}

fn aid_from(location: &str) -> String {
    location
        .trim_start_matches("/questionnaires/")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

both_backends!(
    outreach_puts_recent_unplanned_care_first,
    settings_change_interval_and_next_steps
);

/// An administrator changes the re-measurement interval and the tailored next steps (rules as
/// data); bad values are refused with the field named and nothing saved.
async fn settings_change_interval_and_next_steps(backend: Backend) {
    let (app, w, demo_id) = setup(backend).await;
    let admin = app.sign_in("administrator", PASSWORD).await;
    let page = admin.get("/admin/settings").await;
    page.assert_status(StatusCode::OK, "settings");
    assert!(
        page.body.contains("peer-support-everyone"),
        "the default rules are shown for editing"
    );
    // Bad interval and a rule for level 5: both named, nothing saved.
    let bad_rules = r#"{"rules":[{"id":"x","offer":"walking_group","title":"Walking group","levels":[5],"staff_reason":"s","person_text":"p"}]}"#;
    let r = admin
        .post_form_from(
            "/",
            "/admin/settings",
            &[("remeasure_months", "40"), ("rules", bad_rules)],
        )
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad settings");
    r.assert_error(
        "remeasure_months",
        "Months between measurements must be a whole number from 1 to 36",
        "months",
    );
    assert!(
        r.error_summary()
            .iter()
            .any(|(h, m)| h == "#rules" && m.contains("rules[0].levels")),
        "{:?}",
        r.error_summary()
    );
    assert_eq!(
        app.store
            .setting(w.org_a, "remeasure_months")
            .await
            .unwrap(),
        None
    );
    // Good settings: 12 months, and only a walking group for level 1.
    let rules = r#"{"rules":[{"id":"walk","offer":"walking_group","title":"Walking group","levels":[1],"staff_reason":"Low activation: a gentle group start.","person_text":"A friendly weekly walk with others."}]}"#;
    let r = admin
        .post_form_from(
            "/",
            "/admin/settings",
            &[("remeasure_months", "12"), ("rules", rules)],
        )
        .await;
    r.assert_status(StatusCode::OK, "save settings");
    assert!(r.text().contains("Settings saved"));
    assert_eq!(
        app.store
            .setting(w.org_a, "remeasure_months")
            .await
            .unwrap()
            .as_deref(),
        Some("12")
    );
    assert_eq!(
        app.count_audit(w.org_a, "setting.change", Some("allowed"))
            .await,
        1,
        "one audited change for both values"
    );
    // A level-1 result now recommends the walking group (and not coaching), due in 12 months.
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let ins = demo_instrument();
    let mut f = vec![
        ("instrument".to_string(), demo_id.clone()),
        ("mode".to_string(), "paper".to_string()),
    ];
    f.extend(
        ins.items()
            .iter()
            .map(|i| (format!("item-{}", i.link_id), "1".to_string())),
    );
    coord
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires/record", w.off_caseload.id),
            &f,
        )
        .await
        .assert_redirect("/questionnaires/", "record");
    let text = coord
        .get(&format!("/people/{}", w.off_caseload.id))
        .await
        .text();
    assert!(
        text.contains("Walking group") && text.contains("Low activation: a gentle group start."),
        "{text}"
    );
    assert!(!text.contains("Health coaching"));
    let due =
        alongside_web::pages::activation::add_months(time::OffsetDateTime::now_utc().date(), 12);
    assert!(
        text.contains(&alongside_core::time::display_date(due)),
        "due in 12 months: {text}"
    );
    // Only administrators may see or change settings.
    assert_eq!(
        coord.get("/admin/settings").await.status,
        StatusCode::FORBIDDEN
    );
}

/// Within a level, the person with the most recent unplanned care (A&E or emergency
/// admission) comes first on the outreach list and in its CSV.
async fn outreach_puts_recent_unplanned_care_first(backend: Backend) {
    let (app, w, demo_id) = setup(backend).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let ins = demo_instrument();
    // Two people at level 1 (every answer lowest); only the second has unplanned care.
    let second = app
        .store
        .register_person(
            &w.account(Role::Coordinator).actor(),
            details("Ulrika", "Unplanned"),
            alongside_store::people::Source::default(),
        )
        .await
        .unwrap();
    for pid in [w.off_caseload.id, second] {
        let mut f = vec![
            ("instrument".to_string(), demo_id.clone()),
            ("mode".to_string(), "in_person".to_string()),
        ];
        f.extend(
            ins.items()
                .iter()
                .map(|i| (format!("item-{}", i.link_id), "1".to_string())),
        );
        coord
            .post_form_from("/", &format!("/people/{pid}/questionnaires/record"), &f)
            .await
            .assert_redirect("/questionnaires/", "record");
    }
    let before = coord.get("/activation/outreach?level=1").await.text();
    assert!(before.contains("None recorded"));
    let yesterday = alongside_core::time::iso_date(
        time::OffsetDateTime::now_utc().date() - time::Duration::days(1),
    );
    let csv = format!("person_id,date,type,minor\n{second},{yesterday},ae_attendance,false\n");
    app.store
        .import_events_csv(
            w.org_a,
            alongside_store::outcomes::Requester::System("test"),
            "recent.csv",
            "test",
            csv.into_bytes(),
            alongside_store::people::Source::default(),
        )
        .await
        .unwrap();
    let t = coord.get("/activation/outreach?level=1").await.text();
    let (u, o) = (
        t.find("Ulrika Unplanned").unwrap(),
        t.find(&w.off_caseload.name()).unwrap(),
    );
    assert!(u < o, "recent unplanned care first within level 1");
    let lines: Vec<String> = coord
        .get("/activation/outreach?level=1&format=csv")
        .await
        .body
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].contains("Unplanned") && lines[1].ends_with(&yesterday),
        "{lines:?}"
    );
    assert!(
        lines[2].contains(&w.off_caseload.family) && lines[2].ends_with(','),
        "{lines:?}"
    );
}

both_backends!(
    person_takes_questionnaire_leaves_and_returns,
    invalid_answers_and_access_are_refused,
    staff_record_paper_answers_with_flags_and_change,
    outreach_list_and_csv,
    instrument_import_names_fields
);

async fn person_takes_questionnaire_leaves_and_returns(backend: Backend) {
    let (app, w, demo_id) = setup(backend).await;
    let me = w.account(Role::Person);
    let own = &w.own;
    let b = app.sign_in(&me.username, PASSWORD).await;
    let choose = b
        .get(&format!("/people/{}/questionnaires/new", own.id))
        .await;
    choose.assert_status(StatusCode::OK, "choose page");
    assert!(
        choose.body.contains("NOT VALIDATED"),
        "the demonstration instrument is labelled as such"
    );
    let started = b
        .post_form(
            &format!("/people/{}/questionnaires/new", own.id),
            &[("instrument", demo_id.as_str())],
        )
        .await;
    // The form posts to /people/{id}/questionnaires; post_form fetched the page for its token.
    assert_eq!(
        started.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "GET-only page must not accept a POST"
    );
    let started = b
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires", own.id),
            &[("instrument", demo_id.as_str())],
        )
        .await;
    started.assert_redirect("/questionnaires/", "start");
    let aid = aid_from(started.location().unwrap());
    let ins = demo_instrument();
    let items: Vec<String> = ins.items().iter().map(|i| i.link_id.clone()).collect();
    assert_eq!(items.len(), 13);
    // A pattern that mixes categories and one "not applicable".
    let codes = [
        "3", "2", "3", "4", "na", "3", "2", "3", "3", "4", "2", "3", "3",
    ];
    for (n, code) in codes.iter().enumerate().take(6) {
        let q = b
            .get(&format!("/questionnaires/{aid}/questions/{}", n + 1))
            .await;
        q.assert_status(StatusCode::OK, "question page");
        assert!(
            q.text().contains(&format!("Question {} of 13", n + 1)),
            "progress is shown"
        );
        let r = b
            .post_form_from(
                "/",
                &format!("/questionnaires/{aid}/questions/{}", n + 1),
                &[("answer", *code)],
            )
            .await;
        r.assert_redirect(
            &format!("/questionnaires/{aid}/questions/{}", n + 2),
            "next question",
        );
    }
    // Leaves, signs out, comes back later in a new session: picks up at question 7.
    b.sign_out().await;
    let b = app.sign_in(&me.username, PASSWORD).await;
    let record = b.get(&format!("/people/{}", own.id)).await;
    assert!(
        record.text().contains("has 6 of 13 answers"),
        "the record offers to continue: {}",
        record.snippet()
    );
    let resume = b.get(&format!("/questionnaires/{aid}")).await;
    resume.assert_redirect(
        &format!("/questionnaires/{aid}/questions/7"),
        "resume at the first unanswered",
    );
    let q7 = b.get(&format!("/questionnaires/{aid}/questions/7")).await;
    assert!(q7.text().contains("Question 7 of 13"));
    for (n, code) in codes.iter().enumerate().skip(6) {
        let r = b
            .post_form_from(
                "/",
                &format!("/questionnaires/{aid}/questions/{}", n + 1),
                &[("answer", *code)],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "answer {n}: {}",
            r.snippet()
        );
    }
    let check = b.get(&format!("/questionnaires/{aid}/check")).await;
    assert_eq!(check.h1(), "Check your answers");
    let done = b
        .post_form_from(
            "/",
            &format!("/questionnaires/{aid}/submit"),
            &[] as &[(&str, &str)],
        )
        .await;
    done.assert_redirect(&format!("/questionnaires/{aid}"), "submit");
    let result = b.get(&format!("/questionnaires/{aid}")).await;
    result.assert_status(StatusCode::OK, "result");
    // The stored result is exactly the measure crate's scoring of the same answers.
    let expected = ins
        .score_answers(items.iter().map(|s| s.as_str()).zip(codes))
        .unwrap();
    let Outcome::Scored(s) = expected else {
        panic!("13 answers are scored")
    };
    let level = ins.level(s.level.unwrap()).unwrap();
    assert!(
        result
            .text()
            .contains(ins.localise(&level.person_text, "en")),
        "the level is explained in plain words: {}",
        result.snippet()
    );
    let stored = app.store.person_assessments(w.org_a, own.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    let r = stored[0].result.clone().unwrap();
    assert_eq!(r.score, Some(s.score));
    assert_eq!(r.measure, s.measure);
    assert_eq!(r.level, s.level.map(i64::from));
    assert_eq!(
        stored[0].answers.get("demo-05").map(String::as_str),
        Some("na")
    );
    assert_eq!(stored[0].mode, "self");
    // Completed questionnaires cannot be changed.
    let again = b
        .post_form_from(
            "/",
            &format!("/questionnaires/{aid}/questions/1"),
            &[("answer", "1")],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let after = app.store.person_assessments(w.org_a, own.id).await.unwrap();
    assert_eq!(
        after[0].answers.get("demo-01").map(String::as_str),
        Some("3"),
        "a completed answer is never changed"
    );
    // Audited: start, 13 answers, completion; all by the person.
    assert_eq!(
        app.count_audit(w.org_a, "assessment.start", Some("allowed"))
            .await,
        1
    );
    assert_eq!(
        app.count_audit(w.org_a, "assessment.answer", Some("allowed"))
            .await,
        13
    );
    assert_eq!(
        app.count_audit(w.org_a, "assessment.complete", Some("allowed"))
            .await,
        1
    );
    app.assert_audit_verifies().await;
}

async fn invalid_answers_and_access_are_refused(backend: Backend) {
    let (app, w, demo_id) = setup(backend).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let started = coord
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires", w.off_caseload.id),
            &[("instrument", demo_id.as_str()), ("mode", "telephone")],
        )
        .await;
    started.assert_redirect("/questionnaires/", "coordinator starts one by telephone");
    let aid = aid_from(started.location().unwrap());
    for bad in ["", "7", "<script>alert(1)</script>", "na"] {
        // Item 1 allows "na"; use item 2 whose options also include na, so test unknown codes only.
        if bad == "na" {
            continue;
        }
        let r = coord
            .post_form_from(
                "/",
                &format!("/questionnaires/{aid}/questions/1"),
                &[("answer", bad)],
            )
            .await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad answer");
        r.assert_error(
            "answer",
            if bad.is_empty() {
                "Select an answer"
            } else {
                "Select one of the answers shown"
            },
            "bad answer",
        );
        assert!(
            !r.body.contains("<script>alert"),
            "hostile values are never echoed raw"
        );
    }
    let id: AssessmentId = aid.parse().unwrap();
    let a = app
        .store
        .person_assessments(w.org_a, w.off_caseload.id)
        .await
        .unwrap();
    assert!(
        a.iter().find(|x| x.id == id).unwrap().answers.is_empty(),
        "nothing saved"
    );
    assert_eq!(app.count_audit(w.org_a, "assessment.answer", None).await, 0);
    // Question numbers out of range are not found.
    assert_eq!(
        coord
            .get(&format!("/questionnaires/{aid}/questions/0"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        coord
            .get(&format!("/questionnaires/{aid}/questions/14"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A coach cannot start, see or answer questionnaires of people off their caseload.
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let r = coach
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires", w.off_caseload.id),
            &[("instrument", demo_id.as_str()), ("mode", "in_person")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = coach.get(&format!("/questionnaires/{aid}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        !r.body.contains(&w.off_caseload.family),
        "no name on a refusal"
    );
    let r = coach
        .post_form_from(
            "/",
            &format!("/questionnaires/{aid}/questions/1"),
            &[("answer", "2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        app.count_audit(w.org_a, "assessment.start", Some("refused"))
            .await
            >= 1
    );
    assert!(
        app.count_audit(w.org_a, "assessment.read", Some("refused"))
            .await
            >= 1
    );
    // ...but can for someone on it.
    let r = coach
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires", w.on_caseload.id),
            &[("instrument", demo_id.as_str()), ("mode", "in_person")],
        )
        .await;
    r.assert_redirect("/questionnaires/", "coach, own caseload");
    // Other organisations' administrators and analysts see nothing.
    let analyst = app.sign_in("analyst", PASSWORD).await;
    assert_eq!(
        analyst.get(&format!("/questionnaires/{aid}")).await.status,
        StatusCode::FORBIDDEN
    );
    let outsider = app.sign_in(&w.admin_b.username, PASSWORD).await;
    assert_eq!(
        outsider.get(&format!("/questionnaires/{aid}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The person may not start one for somebody else.
    let person = app.sign_in("person", PASSWORD).await;
    let r = person
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires", w.off_caseload.id),
            &[("instrument", demo_id.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    app.assert_audit_verifies().await;
}

async fn staff_record_paper_answers_with_flags_and_change(backend: Backend) {
    let (app, w, demo_id) = setup(backend).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let ins = demo_instrument();
    let form_for = |code: &str| -> Vec<(String, String)> {
        let mut f = vec![
            ("instrument".to_string(), demo_id.clone()),
            ("mode".to_string(), "paper".to_string()),
        ];
        f.extend(
            ins.items()
                .iter()
                .map(|i| (format!("item-{}", i.link_id), code.to_string())),
        );
        f
    };
    let path = format!("/people/{}/questionnaires/record", w.on_caseload.id);
    // An unknown mode and an unknown code are refused with the field named; nothing stored.
    let mut bad = form_for("2");
    bad[1].1 = "carrier pigeon".into();
    bad[3].1 = "9".into();
    let r = coord.post_form_from("/", &path, &bad).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad paper entry");
    r.assert_error("mode", "Select how the answers were given", "mode");
    r.assert_error(
        "item-demo-02",
        "Select one of the answers in the list",
        "item",
    );
    assert!(app
        .store
        .person_assessments(w.org_a, w.on_caseload.id)
        .await
        .unwrap()
        .is_empty());
    // First: every answer "disagree strongly" (lowest) — scored, but flagged.
    let r = coord.post_form_from("/", &path, &form_for("1")).await;
    r.assert_redirect("/questionnaires/", "paper entry");
    let first = coord.get(r.location().unwrap()).await;
    assert!(
        first.text().contains("Check"),
        "a flagged result says so: {}",
        first.snippet()
    );
    assert!(first.text().contains("On paper"));
    // Then all "agree strongly": level 4, flagged as all-highest, a meaningful change.
    let r = coord.post_form_from("/", &path, &form_for("4")).await;
    r.assert_redirect("/questionnaires/", "second paper entry");
    let stored = app
        .store
        .person_assessments(w.org_a, w.on_caseload.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[0]
        .result
        .as_ref()
        .unwrap()
        .flags
        .contains("all_lowest_category"));
    assert!(stored[1]
        .result
        .as_ref()
        .unwrap()
        .flags
        .contains("all_highest_category"));
    assert_eq!(stored[1].result.as_ref().unwrap().level, Some(4));
    let record = coord.get(&format!("/people/{}", w.on_caseload.id)).await;
    let text = record.text();
    assert!(
        text.contains("Meaningful"),
        "the change is labelled meaningful: {}",
        record.snippet()
    );
    assert!(
        record.body.contains("<svg"),
        "two measurements draw a chart"
    );
    assert!(
        record.body.contains("role=\"img\""),
        "the chart is labelled for assistive technology"
    );
    assert!(text.contains("Next measurement due"));
    // Level 4: invitation to become a peer leader, and no coaching offer.
    assert!(text.contains("Becoming a peer leader"));
    assert!(!text.contains("Health coaching"));
}

async fn outreach_list_and_csv(backend: Backend) {
    let (app, w, demo_id) = setup(backend).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let ins = demo_instrument();
    for (person, code) in [(&w.on_caseload, "4"), (&w.off_caseload, "1"), (&w.own, "3")] {
        let mut f = vec![
            ("instrument".to_string(), demo_id.clone()),
            ("mode".to_string(), "in_person".to_string()),
        ];
        f.extend(
            ins.items()
                .iter()
                .map(|i| (format!("item-{}", i.link_id), code.to_string())),
        );
        coord
            .post_form_from(
                "/",
                &format!("/people/{}/questionnaires/record", person.id),
                &f,
            )
            .await
            .assert_redirect("/questionnaires/", "record");
    }
    let page = coord.get("/activation/outreach").await;
    page.assert_status(StatusCode::OK, "outreach");
    let t = page.text();
    let (a, b, c) = (
        t.find(&w.off_caseload.name()).unwrap(),
        t.find(&w.own.name()).unwrap(),
        t.find(&w.on_caseload.name()).unwrap(),
    );
    assert!(a < b && b < c, "lowest activation first");
    assert!(
        !t.contains(&w.other_org.name()),
        "never another organisation's people"
    );
    let csv = coord.get("/activation/outreach?level=1&format=csv").await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "person_id,given_name,family_name,gp_practice,conditions,level,score,measured_on,last_unplanned_care"
    );
    assert_eq!(lines.len(), 2, "only level 1: {lines:?}");
    assert!(lines[1].contains(&w.off_caseload.family));
    // Analysts and coaches never get identities from these lists.
    for role in ["analyst", "health_coach", "volunteer"] {
        let b = app.sign_in(role, PASSWORD).await;
        let r = b.get("/activation/outreach?format=csv").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}");
        assert!(!r.body.contains(&w.off_caseload.family));
        assert_eq!(
            b.get("/activation/due").await.status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
    assert!(
        app.count_audit(w.org_a, "outreach.list", Some("allowed"))
            .await
            >= 2
    );
}

async fn instrument_import_names_fields(backend: Backend) {
    let (app, w, _) = setup(backend).await;
    let admin = app.sign_in("administrator", PASSWORD).await;
    let list = admin.get("/admin/instruments").await;
    assert!(
        list.text().contains("Self-Efficacy"),
        "shipped instruments are listed: {}",
        list.snippet()
    );
    // Duplicate link ids: rejected with the field path.
    let mut def: serde_json::Value =
        serde_json::from_str(alongside_measure::shipped::DEMO_ACTIVATION_JSON).unwrap();
    def["items"][1]["link_id"] = def["items"][0]["link_id"].clone();
    let r = admin
        .post_form_from(
            "/",
            "/admin/instruments",
            &[("definition", def.to_string())],
        )
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "duplicate link ids");
    let summary = r.error_summary();
    assert!(
        summary
            .iter()
            .any(|(h, m)| h == "#definition" && m.contains("items[1].link_id")),
        "{summary:?}"
    );
    // The pasted definition is kept in its textarea, as pasted (it used to be checked with an
    // `input` selector, which a textarea never matches, so the check could not fail).
    let kept = r.textarea("definition").expect("the definition textarea");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&kept).ok(),
        Some(def.clone()),
        "the pasted definition is kept"
    );
    let before = app.store.instruments(w.org_a).await.unwrap().len();
    // A result stored with version 0.1.0 whose score lies between 67.0 and 72.4: level 3 now,
    // level 4 under cut points that end level 3 at 67.0.
    let ins = demo_instrument();
    let pattern = (0..=13)
        .map(|k| {
            ins.items()
                .iter()
                .enumerate()
                .map(|(i, it)| {
                    (
                        it.link_id.clone(),
                        if i < k { "4" } else { "3" }.to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .find(|p| {
            let o = ins
                .score_answers(p.iter().map(|(a, b)| (a.as_str(), b.as_str())))
                .unwrap();
            o.scored()
                .is_some_and(|s| s.rounded_score() > 67.0 && s.rounded_score() <= 72.4)
        })
        .expect("some pattern scores between 67 and 72.4");
    let v1_id = app
        .store
        .instruments(w.org_a)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.key == DEMO)
        .unwrap()
        .id;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let mut f = vec![
        ("instrument".to_string(), v1_id.as_text()),
        ("mode".to_string(), "paper".to_string()),
    ];
    f.extend(
        pattern
            .iter()
            .map(|(k, v)| (format!("item-{k}"), v.clone())),
    );
    coord
        .post_form_from(
            "/",
            &format!("/people/{}/questionnaires/record", w.own.id),
            &f,
        )
        .await
        .assert_redirect("/questionnaires/", "v1 result");
    assert_eq!(
        app.store
            .person_assessments(w.org_a, w.own.id)
            .await
            .unwrap()[0]
            .result
            .as_ref()
            .unwrap()
            .level,
        Some(3)
    );
    // Not JSON at all.
    let r = admin
        .post_form_from("/", "/admin/instruments", &[("definition", "{ not json")])
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "not json");
    // A new version with changed cut points is loaded and becomes the one in use.
    let mut v2: serde_json::Value =
        serde_json::from_str(alongside_measure::shipped::DEMO_ACTIVATION_JSON).unwrap();
    v2["version"] = "0.2.0-local".into();
    v2["reporting"]["levels"][2]["upper"] = serde_json::json!(67.0);
    let r = admin
        .post_form_from("/", "/admin/instruments", &[("definition", v2.to_string())])
        .await;
    r.assert_status(StatusCode::OK, "new version");
    assert!(r.text().contains("Loaded"), "{}", r.snippet());
    let after = app.store.instruments(w.org_a).await.unwrap();
    assert_eq!(after.len(), before + 1);
    let in_use: Vec<_> = after.iter().filter(|i| i.key == DEMO && i.active).collect();
    assert_eq!(in_use.len(), 1);
    assert_eq!(in_use[0].version, "0.2.0-local");
    // The same version with a different definition is a conflict; nothing changes.
    v2["reporting"]["levels"][2]["upper"] = serde_json::json!(70.0);
    let r = admin
        .post_form_from("/", "/admin/instruments", &[("definition", v2.to_string())])
        .await;
    r.assert_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "same version, different definition",
    );
    assert!(r.text().contains("new version"));
    assert_eq!(
        app.store.instruments(w.org_a).await.unwrap().len(),
        before + 1
    );
    // Only administrators load instruments.
    let coord = app.sign_in("coordinator", PASSWORD).await;
    assert_eq!(
        coord.get("/admin/instruments").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.count_audit(w.org_a, "instrument.import", Some("allowed"))
            .await,
        after.len()
    );
}
