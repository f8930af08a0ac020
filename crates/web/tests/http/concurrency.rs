//! Edit concurrency: two edits made from the same version — the second is refused with 409 and
//! a clear message, and changes nothing.

use crate::support::*;
use alongside_core::Role;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;

const STALE: &str = "Someone else changed this record while you were editing it. Nothing was saved: open the record again to see their changes.";

async fn second_edit_from_the_same_version_conflicts(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let admin = w.account(Role::Administrator);
    let person = &w.on_caseload;
    let path = format!("/people/{}/edit", person.id);
    let coordinator = app.sign_in("coordinator", PASSWORD).await;
    let coach = app.sign_in("health_coach", PASSWORD).await;

    let first_form = coordinator.get(&path).await;
    let second_form = coach.get(&path).await;
    let v0 = app.record(admin, person.id).await;
    assert_eq!(
        first_form.input_values("version"),
        vec![v0.version.to_string()]
    );
    assert_eq!(
        second_form.input_values("version"),
        vec![v0.version.to_string()]
    );

    let first = with(
        &first_form.form_values(&path),
        &[("what_matters", "Gardening with my grandchildren")],
    );
    coordinator
        .post_pairs(&path, &first)
        .await
        .assert_redirect(&format!("/people/{}?updated=1", person.id), "first edit");
    let v1 = app.record(admin, person.id).await;
    assert_eq!(v1.version, v0.version + 1);
    assert_eq!(
        v1.details.what_matters.as_deref(),
        Some("Gardening with my grandchildren")
    );

    let second = with(
        &second_form.form_values(&path),
        &[
            ("what_matters", "Swimming twice a week"),
            ("phone", "07700 900 982"),
        ],
    );
    let p = coach.post_pairs(&path, &second).await;
    p.assert_status(StatusCode::CONFLICT, "second edit from the same version");
    p.assert_error("given_name", STALE, "stale edit");
    // The coach's typing is kept on the page, but nothing of it is saved.
    assert_eq!(p.input_values("phone"), vec!["07700 900 982".to_string()]);
    assert_eq!(
        app.record(admin, person.id).await,
        v1,
        "the refused edit changed the record"
    );
    // Submitting the first form again (a double click) is stale too.
    coordinator
        .post_pairs(&path, &with(&first, &[("what_matters", "Resubmitted")]))
        .await
        .assert_status(StatusCode::CONFLICT, "resubmitted form");
    assert_eq!(app.record(admin, person.id).await, v1);
    let updates = app
        .audit(w.org_a)
        .await
        .into_iter()
        .filter(|e| e.action == "person.update")
        .collect::<Vec<_>>();
    assert_eq!(
        updates.len(),
        1,
        "only the first edit is audited as a change"
    );
    assert_eq!(updates[0].outcome, "allowed");
    assert_eq!(updates[0].detail.as_deref(), Some("changed: what_matters"));

    // Reopened, the form carries the new version and saves.
    let reopened = coach.get(&path).await;
    assert_eq!(
        reopened.input_values("version"),
        vec![v1.version.to_string()]
    );
    coach
        .post_pairs(
            &path,
            &with(
                &reopened.form_values(&path),
                &[("what_matters", "Swimming twice a week")],
            ),
        )
        .await
        .assert_redirect(
            &format!("/people/{}?updated=1", person.id),
            "after reopening",
        );
    let v2 = app.record(admin, person.id).await;
    assert_eq!(v2.version, v1.version + 1);
    assert_eq!(
        v2.details.what_matters.as_deref(),
        Some("Swimming twice a week")
    );
    app.assert_audit_verifies().await;
}

async fn simultaneous_edits_one_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let admin = w.account(Role::Administrator);
    let person = &w.off_caseload;
    let path = format!("/people/{}/edit", person.id);
    let a = app.sign_in("coordinator", PASSWORD).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    for round in 0..5 {
        let before = app.record(admin, person.id).await;
        let (fa, fb) = tokio::join!(a.get(&path), b.get(&path));
        let text_a = format!("Round {round} from the first tab");
        let text_b = format!("Round {round} from the second tab");
        let body_a = with(&fa.form_values(&path), &[("what_matters", &text_a)]);
        let body_b = with(&fb.form_values(&path), &[("what_matters", &text_b)]);
        let (pa, pb) = tokio::join!(a.post_pairs(&path, &body_a), b.post_pairs(&path, &body_b));
        let statuses = [pa.status, pb.status];
        assert!(
            statuses.contains(&StatusCode::SEE_OTHER) && statuses.contains(&StatusCode::CONFLICT),
            "round {round}: expected one 303 and one 409, got {statuses:?}"
        );
        let (winner, loser) = if pa.status == StatusCode::SEE_OTHER {
            (&text_a, &pb)
        } else {
            (&text_b, &pa)
        };
        loser.assert_error("given_name", STALE, "simultaneous loser");
        let after = app.record(admin, person.id).await;
        assert_eq!(
            after.version,
            before.version + 1,
            "round {round}: one new version"
        );
        assert_eq!(after.details.what_matters.as_deref(), Some(winner.as_str()));
    }
    assert_eq!(
        app.count_audit(w.org_a, "person.update", Some("allowed"))
            .await,
        5
    );
    app.assert_audit_verifies().await;
}

both_backends!(
    second_edit_from_the_same_version_conflicts,
    simultaneous_edits_one_wins
);
