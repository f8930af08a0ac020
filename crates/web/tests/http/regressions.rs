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

/// A handler that panics renders the error page (500, no detail of the panic), the server goes
/// on serving, and `/health` reports the database and the writer.
async fn a_panicking_handler_renders_the_error_page(backend: Backend) {
    let db = alongside_store::testing::TestDatabase::new(backend).await;
    let store = alongside_store::Store::open(&db.url).await.expect("store");
    let state = alongside_web::AppState::new(store, alongside_web::Config::default());
    let panics = || async {
        if std::env::var("NEVER_SET_IN_TESTS").is_err() {
            panic!("secret detail 4711");
        }
        "unreachable"
    };
    let extra = axum::Router::new()
        .route("/test-panic", axum::routing::get(panics))
        .route("/api/test-panic", axum::routing::get(panics));
    let app = alongside_web::routes::router_with(state, extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve")
    });
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://{addr}/test-panic"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = r.text().await.expect("body");
    assert!(
        body.contains("Sorry, there is a problem with the service"),
        "{body}"
    );
    assert!(!body.contains("4711"), "the panic's detail leaked: {body}");
    // On an API route the same errors are problem details (RFC 9457), not pages.
    let r = client
        .get(format!("http://{addr}/api/test-panic"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: serde_json::Value = r.json().await.expect("problem json");
    assert_eq!(p["status"], 500);
    assert!(!p.to_string().contains("4711"), "{p}");
    let r = client
        .get(format!("http://{addr}/api/no-such-thing"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let p: serde_json::Value = r.json().await.expect("problem json");
    assert_eq!(p["status"], 404);
    assert_eq!(p["type"], "about:blank");
    assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
    let h = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(h.status(), StatusCode::OK);
    let j: serde_json::Value = h.json().await.expect("json");
    assert_eq!(j["database"], "ok");
    assert_eq!(j["writer"], "ok");
}

/// A refusal decided in the web layer (a role without a page) is audited, naming the actor,
/// the route and the reason.
async fn page_refusals_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let before = app
        .count_audit(w.org_a, "page.refused", Some("refused"))
        .await;
    let b = app.sign_in("analyst", PASSWORD).await;
    b.get("/admin/users")
        .await
        .assert_status(StatusCode::FORBIDDEN, "analyst on the users page");
    let entries: Vec<_> = app
        .audit(w.org_a)
        .await
        .into_iter()
        .filter(|e| e.action == "page.refused")
        .collect();
    assert_eq!(entries.len(), before + 1, "{entries:#?}");
    let e = &entries[0];
    assert_eq!(e.outcome, "refused");
    assert_eq!(e.actor_role.as_deref(), Some("analyst"));
    assert_eq!(e.resource_id.as_deref(), Some("GET /admin/users"));
    assert_eq!(e.source.as_deref(), Some("127.0.0.1"));
    assert!(e.detail.as_deref().is_some_and(|d| !d.is_empty()));
    app.assert_audit_verifies().await;
}

alongside_store::both_backends!(
    a_panicking_handler_renders_the_error_page,
    page_refusals_are_audited
);
