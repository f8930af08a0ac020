//! Bugs found by the HTTP suite, each pinned by a test.

use crate::support::*;
use alongside_store::Backend;
use reqwest::StatusCode;

const DEMO: &str = "alongside-demo-activation";

/// A questionnaire sent with no answers (stored without a score: NULL measure, score and level)
/// followed by answers recorded on paper (stored with a score) must both be saved. On
/// PostgreSQL the second write failed with "incorrect binary data format in bind parameter 5"
/// whenever it ran on a connection that had cached the statement with NULLs bound.
async fn unscored_then_scored_results_are_both_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    alongside_web::setup::install_shipped_instruments(&app.store, w.org_a)
        .await
        .expect("instruments");
    let demo = app
        .store
        .instruments(w.org_a)
        .await
        .expect("instruments")
        .into_iter()
        .find(|i| i.key == DEMO)
        .expect("demo")
        .id
        .to_string();
    let ins = alongside_measure::Instrument::from_json_str(
        alongside_measure::shipped::DEMO_ACTIVATION_JSON,
    )
    .expect("instrument");
    let b = app.sign_in("coordinator", PASSWORD).await;
    let person = &w.on_caseload;
    let mut failures = Vec::new();
    for round in 0..12 {
        // Started and sent with no answers: not scored.
        let started = b
            .post_form_from(
                &format!("/people/{}/questionnaires/new", person.id),
                &format!("/people/{}/questionnaires", person.id),
                &[("instrument", demo.as_str()), ("mode", "in_person")],
            )
            .await;
        started.assert_status(StatusCode::SEE_OTHER, "start");
        let aid = started
            .location()
            .expect("location")
            .trim_start_matches("/questionnaires/")
            .split('/')
            .next()
            .expect("id")
            .to_string();
        let sent = b
            .post_form_from(
                &format!("/questionnaires/{aid}/check"),
                &format!("/questionnaires/{aid}/submit"),
                &[] as &[(&str, &str)],
            )
            .await;
        if sent.status != StatusCode::SEE_OTHER {
            failures.push(format!("round {round}: empty submission {}", sent.status));
        }
        // Every answer given on paper: scored.
        let mut fields = vec![
            ("instrument".to_string(), demo.clone()),
            ("mode".to_string(), "paper".to_string()),
        ];
        for item in ins.items() {
            fields.push((
                format!("item-{}", item.link_id),
                item.options[0].code.clone(),
            ));
        }
        let recorded = b
            .post_form(
                &format!("/people/{}/questionnaires/record", person.id),
                &fields,
            )
            .await;
        if recorded.status != StatusCode::SEE_OTHER {
            failures.push(format!("round {round}: paper record {}", recorded.status));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let stored = app
        .store
        .person_assessments(w.org_a, person.id)
        .await
        .expect("assessments");
    assert_eq!(stored.len(), 24);
    assert!(stored.iter().all(|a| a.completed));
}

mod unscored_then_scored_results_are_both_stored {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::unscored_then_scored_results_are_both_stored(alongside_store::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::unscored_then_scored_results_are_both_stored(alongside_store::Backend::Postgres)
            .await
    }
}
