//! The audit trail seen through HTTP: every read of a person's record (allowed or refused) is
//! written with the actor, role, outcome and source address; the access history page lists
//! them; the chain verifies afterwards.

use crate::support::*;
use alongside_core::audit::AuditEntry;
use alongside_core::Role;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use scraper::Selector;

/// The entries about one person with this action, oldest first.
async fn entries(app: &TestApp, person: &Person, action: &str) -> Vec<AuditEntry> {
    let mut v: Vec<AuditEntry> = app
        .store
        .audit_for_person(person.org, person.id, 10_000)
        .await
        .expect("audit for person")
        .into_iter()
        .filter(|e| e.action == action && e.source.as_deref() != Some("test-verifier"))
        .collect();
    v.reverse();
    v
}

fn assert_entry(e: &AuditEntry, actor: &Account, outcome: &str, person: &Person, ctx: &str) {
    assert_eq!(
        e.actor_user_id.as_deref(),
        Some(actor.id.to_string().as_str()),
        "{ctx}: actor"
    );
    assert_eq!(
        e.actor_role.as_deref(),
        Some(actor.role.code()),
        "{ctx}: role"
    );
    assert_eq!(e.outcome, outcome, "{ctx}: outcome");
    assert_eq!(
        e.source.as_deref(),
        Some("127.0.0.1"),
        "{ctx}: source address"
    );
    assert_eq!(
        e.person_id.as_deref(),
        Some(person.id.to_string().as_str()),
        "{ctx}: whose record"
    );
    assert_eq!(e.org_id, person.org.to_string(), "{ctx}: organisation");
    if outcome == "refused" {
        assert!(
            e.detail.as_deref().is_some_and(|d| !d.is_empty()),
            "{ctx}: a refusal says why"
        );
    }
}

async fn every_read_of_a_record_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let on = &w.on_caseload;
    let record = format!("/people/{}", on.id);
    let acc = |r: Role| w.account(r).clone();

    // (who, page, expected status, expected outcome)
    let steps: Vec<(Role, String, StatusCode, &str)> = vec![
        (Role::Coordinator, record.clone(), StatusCode::OK, "allowed"),
        (
            Role::Analyst,
            record.clone(),
            StatusCode::FORBIDDEN,
            "refused",
        ),
        (Role::HealthCoach, record.clone(), StatusCode::OK, "allowed"),
        (
            Role::Volunteer,
            record.clone(),
            StatusCode::FORBIDDEN,
            "refused",
        ),
        (
            Role::Person,
            record.clone(),
            StatusCode::FORBIDDEN,
            "refused",
        ),
        (
            Role::Coordinator,
            format!("{record}/edit"),
            StatusCode::OK,
            "allowed",
        ),
        (
            Role::Educator,
            format!("{record}/edit"),
            StatusCode::FORBIDDEN,
            "refused",
        ),
    ];
    for (i, (role, path, status, outcome)) in steps.iter().enumerate() {
        let b = app.sign_in(role.code(), PASSWORD).await;
        let p = b.get(path).await;
        p.assert_status(*status, &format!("step {i}: {role:?} {path}"));
        let reads = entries(&app, on, "person.read").await;
        assert_eq!(
            reads.len(),
            i + 1,
            "step {i}: each read writes exactly one person.read entry"
        );
        assert_entry(
            reads.last().expect("entry"),
            &acc(*role),
            outcome,
            on,
            &format!("step {i}: {role:?} {path}"),
        );
    }

    // The person reading their own record; a coach refused a record off their caseload.
    let own = app.sign_in("person", PASSWORD).await;
    own.get(&format!("/people/{}", w.own.id))
        .await
        .assert_status(StatusCode::OK, "own record");
    let coach = app.sign_in("health_coach", PASSWORD).await;
    coach
        .get(&format!("/people/{}", w.off_caseload.id))
        .await
        .assert_status(StatusCode::FORBIDDEN, "off caseload");
    let own_reads = entries(&app, &w.own, "person.read").await;
    assert_eq!(own_reads.len(), 1);
    assert_entry(
        &own_reads[0],
        &acc(Role::Person),
        "allowed",
        &w.own,
        "own record",
    );
    let off_reads = entries(&app, &w.off_caseload, "person.read").await;
    assert_eq!(off_reads.len(), 1);
    assert_entry(
        &off_reads[0],
        &acc(Role::HealthCoach),
        "refused",
        &w.off_caseload,
        "off caseload",
    );
    // A refused change is recorded too.
    let fields = with(
        &person_fields(&w.off_caseload.given, &w.off_caseload.family),
        &[("version", "1")],
    );
    coach
        .post_form(&format!("/people/{}/edit", w.off_caseload.id), &fields)
        .await
        .assert_status(StatusCode::FORBIDDEN, "coach edits off caseload");
    let updates = entries(&app, &w.off_caseload, "person.update").await;
    assert_eq!(updates.len(), 1);
    assert_entry(
        &updates[0],
        &acc(Role::HealthCoach),
        "refused",
        &w.off_caseload,
        "refused edit",
    );

    // The access history page lists the reads, refused ones marked as refused.
    let admin = app.sign_in("administrator", PASSWORD).await;
    let history = admin.get(&format!("{record}/audit")).await;
    history.assert_status(StatusCode::OK, "access history");
    let rows = history_rows(&history);
    let reads: Vec<_> = rows
        .iter()
        .filter(|r| r.what.starts_with("Viewed record"))
        .collect();
    // Seven reads above, plus the administrator's own read made by opening this page.
    assert_eq!(reads.len(), steps.len() + 1, "history rows: {rows:#?}");
    for (role, _, _, outcome) in &steps {
        let name = display_name(*role);
        let expected = if *outcome == "allowed" {
            "Allowed"
        } else {
            "Refused"
        };
        assert!(
            reads.iter().any(|r| r.who.contains(name)
                && r.who.contains(role_label(*role))
                && r.outcome == expected),
            "history should list {name} ({role:?}) as {expected}: {rows:#?}"
        );
    }
    assert!(
        reads.iter().all(|r| r.from == "127.0.0.1"),
        "every row gives the source address: {rows:#?}"
    );
    assert!(
        reads
            .iter()
            .any(|r| r.who.contains("Ada Administrator") && r.outcome == "Allowed"),
        "opening the history is itself a read"
    );
    // Newest first.
    assert!(reads[0].who.contains("Ada Administrator"), "{rows:#?}");
    let history_reads = entries(&app, on, "person.audit.read").await;
    assert_eq!(history_reads.len(), 1);
    assert_entry(
        &history_reads[0],
        &acc(Role::Administrator),
        "allowed",
        on,
        "history read",
    );
    // A refused look at the history is recorded as refused.
    coach
        .get(&format!("{record}/audit"))
        .await
        .assert_status(StatusCode::FORBIDDEN, "coach history");
    let history_reads = entries(&app, on, "person.audit.read").await;
    assert_eq!(history_reads.len(), 2);
    assert_entry(
        &history_reads[1],
        &acc(Role::HealthCoach),
        "refused",
        on,
        "refused history read",
    );

    // The organisation's log shows the same, to the administrator.
    let log = admin.get("/audit").await;
    log.assert_status(StatusCode::OK, "audit log");
    let text = log.main_text();
    for needle in [
        "Viewed record",
        "Refused",
        "Signed in",
        "Changed record",
        "127.0.0.1",
    ] {
        assert!(text.contains(needle), "audit log lacks {needle:?}");
    }
    assert!(
        !text.contains(&w.other_org.family) && !log.body.contains(&w.admin_b.display_name),
        "the log shows another organisation"
    );
    app.assert_audit_verifies().await;
}

fn role_label(r: Role) -> &'static str {
    r.label()
}

#[derive(Debug)]
struct HistoryRow {
    who: String,
    what: String,
    outcome: String,
    from: String,
}

fn history_rows(p: &Page) -> Vec<HistoryRow> {
    let doc = p.html();
    let row = Selector::parse("main table tbody tr").expect("selector");
    let cell = |label: &str| Selector::parse(&format!("td[data-label=\"{label}\"]")).expect("sel");
    let text = |e: scraper::ElementRef| {
        e.text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows = doc
        .select(&row)
        .map(|tr| {
            let get = |l: &str| tr.select(&cell(l)).next().map(text).unwrap_or_default();
            HistoryRow {
                who: get("Who"),
                what: get("What"),
                outcome: get("Outcome"),
                from: get("From"),
            }
        })
        .collect();
    rows
}

/// The policy: every attempt to read a record is recorded — including an attempt on another
/// organisation's record by id, which is refused (404) and must appear, refused, in the
/// actor's organisation's log.
async fn cross_organisation_attempts_are_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("hillside.admin", PASSWORD).await;
    let path = format!("/people/{}", w.on_caseload.id);
    let p = b.get(&path).await;
    p.assert_status(StatusCode::NOT_FOUND, "cross-organisation read");
    assert!(!p.body.contains(&w.on_caseload.family));
    let id = w.on_caseload.id.to_string();
    let recorded = app
        .audit(w.org_b)
        .await
        .into_iter()
        .filter(|e| e.action == "person.read" && e.resource_id.as_deref() == Some(id.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(
        recorded.len(),
        1,
        "the attempt should be in Hillside's log as a refused person.read"
    );
    assert_eq!(recorded[0].outcome, "refused");
    app.assert_audit_verifies().await;
}

both_backends!(every_read_of_a_record_is_audited);

mod cross_organisation_attempts_are_recorded {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::cross_organisation_attempts_are_recorded(alongside_store::Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::cross_organisation_attempts_are_recorded(alongside_store::Backend::Postgres).await
    }
}
