//! The store's conformance suite: every test runs on SQLite and on PostgreSQL, each on a
//! fresh database, through the store's public API.

use alongside_core::access::Actor;
use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
use alongside_core::person::{PersonDetails, PersonForm};
use alongside_core::{OrgId, Role};
use alongside_store::people::{PeopleQuery, Source};
use alongside_store::testing::TestDatabase;
use alongside_store::users::NewUser;
use alongside_store::{both_backends, Backend, Store, StoreError};
use sqlx::Row;

fn details(given: &str, family: &str, nhs: &str) -> PersonDetails {
    let form = PersonForm {
        nhs_number: nhs.into(),
        given_name: given.into(),
        family_name: family.into(),
        dob_day: "7".into(),
        dob_month: "3".into(),
        dob_year: "1958".into(),
        sex: "female".into(),
        conditions: vec!["copd".into(), "depression".into()],
        ..Default::default()
    };
    PersonDetails::parse(&form, time::macros::date!(2026 - 11 - 22)).unwrap()
}

async fn user(store: &Store, org: OrgId, name: &str, role: Role) -> Actor {
    let id = store
        .create_user(
            NewUser {
                org_id: org,
                username: name.into(),
                display_name: name.into(),
                role,
                person_id: None,
                password_hash: "x".into(),
            },
            None,
        )
        .await
        .unwrap();
    Actor {
        user_id: id,
        org_id: org,
        role,
        person_id: None,
    }
}

both_backends!(
    register_read_update_and_audit,
    caseload_and_orgs_separate_people,
    unique_nhs_number_and_names,
    schema_tables_match,
    a_panicking_job_fails_alone,
    a_refusal_is_committed_and_the_use_case_rolled_back
);

async fn register_read_update_and_audit(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Riverside PCN", "pcn")
        .await
        .unwrap();
    let coord = user(&store, org, "coord", Role::Coordinator).await;
    let id = store
        .register_person(
            &coord,
            details("Amira", "Nowak", "943 476 5919"),
            Source(Some("127.0.0.1".into())),
        )
        .await
        .unwrap();
    let view = store
        .read_person(&coord, id, Source::default())
        .await
        .unwrap();
    assert_eq!(view.record.details.given_name, "Amira");
    assert_eq!(view.record.details.conditions, vec!["copd", "depression"]);
    assert_eq!(view.record.version, 1);
    assert!(view.can_edit);

    let mut changed = view.record.details.clone();
    changed.family_name = "Nowak-Smith".into();
    changed.conditions = vec!["asthma".into()];
    store
        .update_person(&coord, id, 1, changed.clone(), Source::default())
        .await
        .unwrap();
    // A second change based on the old version is refused and changes nothing.
    let mut stale = changed.clone();
    stale.given_name = "Other".into();
    assert!(matches!(
        store
            .update_person(&coord, id, 1, stale, Source::default())
            .await,
        Err(StoreError::StaleVersion)
    ));
    let after = store
        .read_person(&coord, id, Source::default())
        .await
        .unwrap()
        .record;
    assert_eq!(after.details, changed);
    assert_eq!(after.version, 2);

    let history = store.audit_for_person(org, id, 100).await.unwrap();
    let actions: Vec<&str> = history.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "person.create",
            "person.read",
            "person.update",
            "person.read"
        ]
    );
    assert_eq!(
        history[1].detail.as_deref(),
        Some("changed: family_name, conditions")
    );
    assert_eq!(history.last().unwrap().source.as_deref(), Some("127.0.0.1"));
    let report = store.verify_audit().await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.organisations[0].1, Ok(4));

    // The log is append-only at the database level too.
    let tamper = sqlx::query("UPDATE audit_log SET detail = 'x' WHERE seq = 1")
        .execute(store.reader())
        .await;
    assert!(tamper.is_err(), "updating the audit log must fail");
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(store.reader())
        .await;
    assert!(delete.is_err(), "deleting from the audit log must fail");
}

async fn caseload_and_orgs_separate_people(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Riverside PCN", "pcn")
        .await
        .unwrap();
    let other = store
        .create_organisation("Hilltop PCN", "pcn")
        .await
        .unwrap();
    let coord = user(&store, org, "coord", Role::Coordinator).await;
    let coach = user(&store, org, "coach", Role::HealthCoach).await;
    let outsider = user(&store, other, "outsider", Role::Coordinator).await;
    let on = store
        .register_person(&coord, details("Ann", "Ahmed", ""), Source::default())
        .await
        .unwrap();
    let off = store
        .register_person(&coord, details("Bob", "Baker", ""), Source::default())
        .await
        .unwrap();
    store.add_to_caseload(org, coach.user_id, on).await.unwrap();

    assert!(store
        .read_person(&coach, on, Source::default())
        .await
        .is_ok());
    assert!(matches!(
        store.read_person(&coach, off, Source::default()).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        store.read_person(&outsider, on, Source::default()).await,
        Err(StoreError::NotFound)
    ));
    let (list, more) = store
        .list_people(&coach, &PeopleQuery::All, 0, Source::default())
        .await
        .unwrap();
    assert_eq!(
        list.iter()
            .map(|p| p.given_name.as_str())
            .collect::<Vec<_>>(),
        ["Ann"]
    );
    assert!(!more);
    let (all, _) = store
        .list_people(&coord, &PeopleQuery::All, 0, Source::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let (none, _) = store
        .list_people(&outsider, &PeopleQuery::All, 0, Source::default())
        .await
        .unwrap();
    assert!(none.is_empty());
    // The refusal is on the record.
    let history = store.audit_for_person(org, off, 10).await.unwrap();
    assert_eq!(history[0].outcome, "refused");
    assert_eq!(history[0].actor_user_id, Some(coach.user_id.as_text()));
    let analyst = user(&store, org, "analyst", Role::Analyst).await;
    assert!(matches!(
        store
            .list_people(&analyst, &PeopleQuery::All, 0, Source::default())
            .await,
        Err(StoreError::Refused(_))
    ));
    assert!(store.verify_audit().await.unwrap().ok());
}

async fn unique_nhs_number_and_names(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Riverside PCN", "pcn")
        .await
        .unwrap();
    let coord = user(&store, org, "Coord", Role::Coordinator).await;
    store
        .register_person(
            &coord,
            details("Zoë", "Łukasz", "9434765919"),
            Source::default(),
        )
        .await
        .unwrap();
    store
        .register_person(&coord, details("adam", "zed", ""), Source::default())
        .await
        .unwrap();
    store
        .register_person(&coord, details("Eve", "Adams", ""), Source::default())
        .await
        .unwrap();
    let dup = store
        .register_person(
            &coord,
            details("Other", "Person", "9434765919"),
            Source::default(),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let q = |s: &str| PeopleQuery::parse(s);
    let names = |v: Vec<alongside_store::people::PersonSummary>| {
        v.into_iter().map(|p| p.given_name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            store
                .list_people(&coord, &q("zoë"), 0, Source::default())
                .await
                .unwrap()
                .0
        ),
        ["Zoë"]
    );
    assert_eq!(
        names(
            store
                .list_people(&coord, &q("943 476 5919"), 0, Source::default())
                .await
                .unwrap()
                .0
        ),
        ["Zoë"]
    );
    assert_eq!(
        names(
            store
                .list_people(&coord, &q("7/3/1958"), 0, Source::default())
                .await
                .unwrap()
                .0
        )
        .len(),
        3
    );
    assert_eq!(
        names(
            store
                .list_people(&coord, &q("ada"), 0, Source::default())
                .await
                .unwrap()
                .0
        ),
        ["Eve", "adam"]
    );
    assert!(store
        .list_people(&coord, &q("%"), 0, Source::default())
        .await
        .unwrap()
        .0
        .is_empty());
    // Byte-order sorting on both backends: upper-case before lower-case, then non-ASCII.
    let all = names(
        store
            .list_people(&coord, &PeopleQuery::All, 0, Source::default())
            .await
            .unwrap()
            .0,
    );
    assert_eq!(all, ["Eve", "adam", "Zoë"]);
    // Sign-in names are unique across organisations, case-insensitively.
    let other = store.create_organisation("Hilltop", "pcn").await.unwrap();
    let taken = store
        .create_user(
            NewUser {
                org_id: other,
                username: "COORD".into(),
                display_name: "x".into(),
                role: Role::Analyst,
                person_id: None,
                password_hash: "x".into(),
            },
            None,
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
    assert_eq!(
        store.find_login("coord").await.unwrap().unwrap().user.role,
        Role::Coordinator
    );
    let ev = AuditEvent {
        org_id: org,
        actor_user_id: None,
        actor_role: None,
        action: AuditAction::SignInFailed,
        outcome: Outcome::Refused,
        resource_type: "session",
        resource_id: None,
        person_id: None,
        source: None,
        detail: None,
    };
    store.audit(ev).await.unwrap();
    assert!(store.verify_audit().await.unwrap().ok());
}

async fn schema_tables_match(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let sql = match backend {
        Backend::Sqlite => "SELECT m.name || '.' || p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' ORDER BY 1",
        Backend::Postgres => "SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY 1",
    };
    let cols: Vec<String> = sqlx::query(sql)
        .fetch_all(store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("c").unwrap())
        .collect();
    let mut cols_sorted = cols.clone();
    cols_sorted.sort();
    let expected = include_str!("../schema_columns.txt")
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>();
    assert_eq!(
        cols_sorted, expected,
        "the {backend:?} schema differs from tests/schema_columns.txt"
    );
    // Every table but the global sign-in directory carries an organisation id.
    let tables: std::collections::BTreeSet<&str> = cols_sorted
        .iter()
        .map(|c| c.split('.').next().unwrap())
        .collect();
    for t in tables {
        let has_org =
            cols_sorted.iter().any(|c| c == &format!("{t}.org_id")) || t == "organisations";
        assert!(has_org, "table {t} has no org_id");
    }
}

/// A job that panics inside a write fails with an error; its work is rolled back; the writer
/// goes on committing the jobs after it, and health says so.
async fn a_panicking_job_fails_alone(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Riverside PCN", "pcn")
        .await
        .unwrap();
    let coord = user(&store, org, "coord", Role::Coordinator).await;
    let before = store.count_people(org).await.unwrap();
    let org_text = org.as_text();
    let r = store
        .write(move |c| {
            let org_text = org_text.clone();
            Box::pin(async move {
                // Work done before the panic must not survive it.
                sqlx::query("UPDATE organisations SET name = 'Changed' WHERE id = $1")
                    .bind(&org_text)
                    .execute(&mut *c)
                    .await?;
                if org_text.len() > 1 {
                    panic!("a bug in a job");
                }
                Ok(())
            })
        })
        .await;
    assert!(matches!(r, Err(StoreError::JobPanicked)), "{r:?}");
    assert_eq!(store.organisation(org).await.unwrap().name, "Riverside PCN");
    // The next write commits.
    store
        .register_person(
            &coord,
            details("Amira", "Nowak", "943 476 5919"),
            Source::default(),
        )
        .await
        .expect("a write after the panic");
    assert_eq!(store.count_people(org).await.unwrap(), before + 1);
    let h = store.health(std::time::Duration::from_secs(5)).await;
    assert!(h.database && h.writer, "{h:?}");
}

/// Through the door, a refused use case writes nothing of its own but its refusal's audit
/// entry is committed.
async fn a_refusal_is_committed_and_the_use_case_rolled_back(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Riverside PCN", "pcn")
        .await
        .unwrap();
    let coord = user(&store, org, "coord", Role::Coordinator).await;
    let analyst = user(&store, org, "analyst", Role::Analyst).await;
    let id = store
        .register_person(
            &coord,
            details("Amira", "Nowak", "943 476 5919"),
            Source::default(),
        )
        .await
        .unwrap();
    let org_text = org.as_text();
    let r = store
        .write_as(&analyst, &Source(Some("test".into())), move |tx| {
            let org_text = org_text.clone();
            Box::pin(async move {
                // Something written before the decision …
                sqlx::query("UPDATE organisations SET name = 'Changed' WHERE id = $1")
                    .bind(&org_text)
                    .execute(tx.conn())
                    .await?;
                // … then refused.
                tx.person(
                    alongside_core::Action::ReadPerson,
                    id,
                    alongside_store::door::AuditAs::new(AuditAction::PersonRead),
                )
                .await?;
                Ok(())
            })
        })
        .await;
    assert!(matches!(r, Err(StoreError::Refused(_))), "{r:?}");
    assert_eq!(store.organisation(org).await.unwrap().name, "Riverside PCN");
    let trail = store.audit_for_person(org, id, 10).await.unwrap();
    let refusal = trail.first().expect("an entry");
    assert_eq!(refusal.action, "person.read");
    assert_eq!(refusal.outcome, "refused");
    assert_eq!(refusal.actor_role.as_deref(), Some("analyst"));
    assert!(refusal.detail.as_deref().is_some_and(|d| !d.is_empty()));
    // An unknown person: not found, and the attempt recorded.
    let r = store
        .read_person(&analyst, alongside_core::PersonId::new(), Source::default())
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

/// On SQLite another process (a command-line import writing its chunks, say) may hold the
/// database's write lock for a moment: the store's writer waits for it, then commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_writer_waits_while_another_connection_holds_the_lock() {
    use sqlx::{Connection, Executor};
    let db = TestDatabase::new(Backend::Sqlite).await;
    let store = Store::open(&db.url).await.unwrap();
    let mut other = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    let writer = store.clone();
    let write =
        tokio::spawn(async move { writer.create_organisation("Riverside PCN", "pcn").await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the write did not wait for the lock");
    other.execute("COMMIT").await.unwrap();
    let org = write.await.unwrap().unwrap();
    assert!(store
        .organisations()
        .await
        .unwrap()
        .iter()
        .any(|o| o.id == org));
}
