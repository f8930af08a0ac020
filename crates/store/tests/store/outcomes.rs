//! Utilisation import and evaluation inputs from the store, on SQLite and PostgreSQL.

use crate::support::{registered, stored_events};
use alongside_core::{InstrumentId, OrgId, PersonId};
use alongside_stats::{Day, EvalOptions, Sex};
use alongside_store::outcomes::{
    ImportError, PopulationMeasurement, PopulationRow, Requester, Window,
};
use alongside_store::people::Source;
use alongside_store::testing::TestDatabase;
use alongside_store::{both_backends, Backend, Store};
use rand::{Rng, SeedableRng};

both_backends!(
    import_is_idempotent_and_audited,
    bad_rows_are_reported_by_line,
    bad_header_writes_nothing,
    evaluation_from_store_equals_files,
    events_of_an_older_database_are_converted
);

type Summary = (String, String, String, Option<String>, i64);

async fn set_summaries(store: &Store, org: OrgId) -> Vec<Summary> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT person_id, first_date, last_date, last_unplanned, events FROM utilisation_event_sets WHERE org_id = $1")
        .bind(org.as_text())
        .fetch_all(store.reader())
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

/// A database written before migration 0010 kept one row per event: opening it converts them
/// into packed sets (same events, same totals) and empties the old table.
async fn events_of_an_older_database_are_converted(backend: Backend) {
    let (db, store, org, _) = setup(backend).await;
    let a = PersonId::new();
    store
        .insert_people_unaudited_actor(org, vec![(a, registered("", "female", "3"), None)], "test")
        .await
        .unwrap();
    let import = uuid::Uuid::new_v4().to_string();
    for (ty, minor, date, n) in [
        ("gp_appointment", 0, "2025-02-01", 3),
        ("ae_attendance", 1, "2025-03-04", 1),
        ("ae_attendance", 0, "2025-03-04", 2),
        ("outpatient_dna", 0, "2024-12-31", 1),
    ] {
        sqlx::query("INSERT INTO utilisation_events (org_id, person_id, event_type, minor, event_date, import_id, n) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(org.as_text())
            .bind(a.as_text())
            .bind(ty)
            .bind(minor as i64)
            .bind(date)
            .bind(&import)
            .bind(n as i64)
            .execute(store.reader())
            .await
            .unwrap();
    }
    store.close().await;
    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.utilisation_totals(org).await.unwrap().0, 7);
    assert_eq!(
        stored_events(&store, org).await,
        vec![
            (
                a.as_text(),
                "outpatient_dna".into(),
                false,
                "2024-12-31".into(),
                1
            ),
            (
                a.as_text(),
                "gp_appointment".into(),
                false,
                "2025-02-01".into(),
                3
            ),
            (
                a.as_text(),
                "ae_attendance".into(),
                false,
                "2025-03-04".into(),
                2
            ),
            (
                a.as_text(),
                "ae_attendance".into(),
                true,
                "2025-03-04".into(),
                1
            ),
        ]
    );
    assert_eq!(
        set_summaries(&store, org).await,
        vec![(
            a.as_text(),
            "2024-12-31".into(),
            "2025-03-04".into(),
            Some("2025-03-04".into()),
            7
        )]
    );
    use sqlx::Row;
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM utilisation_events")
        .fetch_one(store.reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    // Opening again changes nothing.
    store.close().await;
    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.utilisation_totals(org).await.unwrap().0, 7);
}

fn day(s: &str) -> Day {
    Day::parse_iso(s.as_bytes()).unwrap()
}

async fn setup(backend: Backend) -> (TestDatabase, Store, OrgId, InstrumentId) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Outcome PCN", "pcn")
        .await
        .unwrap();
    let (ins, _) = store
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
    (db, store, org, ins)
}

async fn audit_details(store: &Store, org: OrgId, action: &str) -> Vec<String> {
    store
        .audit_page(org, None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

async fn import_is_idempotent_and_audited(backend: Backend) {
    let (_db, store, org, _) = setup(backend).await;
    let a = PersonId::new();
    let b = PersonId::new();
    store
        .insert_people_unaudited_actor(
            org,
            vec![
                (a, registered("943 476 5919", "female", "3"), None),
                (b, registered("", "male", "5"), None),
            ],
            "test",
        )
        .await
        .unwrap();
    let csv = format!(
        "person_id,date,type,minor\n\
         9434765919,2025-02-01,gp_appointment,\n\
         {a},2025-02-01,gp_appointment,false\n\
         {b},2025-03-04,ae_attendance,true\n\
         {b},2025-03-04,ae_attendance,TRUE\n\
         {b},2025-03-05,ae_attendance,0\n\
         {b},2025-04-01,emergency_admission,1\n"
    );
    let r = store
        .import_events_csv(
            org,
            Requester::System("cli"),
            "events.csv",
            "test extract",
            csv.clone().into_bytes(),
            Source::default(),
        )
        .await
        .unwrap();
    assert!(!r.already_imported);
    assert_eq!((r.rows_read, r.rows_rejected, r.events_imported), (6, 0, 6));
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (6, 1));
    // Two identical A&E rows are one stored event-day with n = 2; the minor flag of an
    // admission is dropped; each person's events are one packed set with its summary columns.
    let stored = stored_events(&store, org).await;
    assert_eq!(
        stored,
        vec![
            (
                a.as_text(),
                "gp_appointment".into(),
                false,
                "2025-02-01".into(),
                2
            ),
            (
                b.as_text(),
                "ae_attendance".into(),
                true,
                "2025-03-04".into(),
                2
            ),
            (
                b.as_text(),
                "ae_attendance".into(),
                false,
                "2025-03-05".into(),
                1
            ),
            (
                b.as_text(),
                "emergency_admission".into(),
                false,
                "2025-04-01".into(),
                1
            ),
        ]
    );
    let mut summaries = set_summaries(&store, org).await;
    summaries.sort();
    let mut want = vec![
        (
            a.as_text(),
            "2025-02-01".to_string(),
            "2025-02-01".to_string(),
            None,
            2,
        ),
        (
            b.as_text(),
            "2025-03-04".to_string(),
            "2025-04-01".to_string(),
            Some("2025-04-01".to_string()),
            4,
        ),
    ];
    want.sort();
    assert_eq!(summaries, want);
    let again = store
        .import_events_csv(
            org,
            Requester::System("cli"),
            "copy-of-events.csv",
            "test extract",
            csv.into_bytes(),
            Source::default(),
        )
        .await
        .unwrap();
    assert!(again.already_imported);
    assert_eq!(again.import_id, r.import_id);
    assert_eq!(again.events_imported, 0);
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (6, 1));
    let details = audit_details(&store, org, "utilisation.import").await;
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(details[0].contains("already imported"), "{}", details[0]);
    assert!(details[1].contains("6 events imported"), "{}", details[1]);
    // No health data in the audit: no person ids, NHS numbers or event types.
    for d in &details {
        assert!(
            !d.contains("9434765919") && !d.contains(&a.as_text()) && !d.contains("ae_attendance"),
            "{d}"
        );
    }
    assert!(store.verify_audit().await.unwrap().ok());
}

async fn bad_rows_are_reported_by_line(backend: Backend) {
    let (_db, store, org, _) = setup(backend).await;
    let a = PersonId::new();
    store
        .insert_people_unaudited_actor(org, vec![(a, registered("", "female", "3"), None)], "test")
        .await
        .unwrap();
    let csv = format!(
        "person_id,date,type,minor\r\n\
         {a},2025-02-01,gp_appointment,\r\n\
         {a},2025-02-01,gp_visit,\r\n\
         {a},2025-02-30,gp_dna,\r\n\
         \r\n\
         {},2025-02-01,gp_dna,\r\n\
         {a},2025-02-01,ae_attendance,maybe\r\n\
         {a},2025-02-01,ae_attendance\r\n\
         9434765918,2025-02-01,gp_dna,\r\n\
         4010232137,2025-02-01,gp_dna,\r\n\
         P0000001,2025-02-01,gp_dna,\r\n\
         {a},2025-02-02,outpatient_dna,1\r\n",
        PersonId::new()
    );
    let r = store
        .import_events_csv(
            org,
            Requester::System("cli"),
            "bad.csv",
            "test",
            csv.into_bytes(),
            Source::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.rows_read, r.rows_rejected, r.events_imported),
        (10, 8, 2)
    );
    let lines: Vec<(u64, &str)> = r
        .rejected
        .iter()
        .map(|x| (x.line, x.reason.as_str()))
        .collect();
    assert_eq!(lines.len(), 8);
    let expect: [(u64, &str); 8] = [
        (3, "unknown event type"),
        (4, "date must be a real date"),
        (6, "no person with this record id"),
        (7, "minor must be true, false, 1, 0 or empty"),
        (8, "expected 4 fields"),
        (9, "not a valid NHS number"),
        (10, "no person with this NHS number"),
        (11, "record id (UUID) or a 10-digit NHS number"),
    ];
    for ((line, reason), (el, er)) in lines.iter().zip(expect) {
        assert_eq!(*line, el, "{reason}");
        assert!(
            reason.contains(er),
            "line {line}: {reason:?} should mention {er:?}"
        );
    }
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));
}

async fn bad_header_writes_nothing(backend: Backend) {
    let (_db, store, org, _) = setup(backend).await;
    let a = PersonId::new();
    store
        .insert_people_unaudited_actor(org, vec![(a, registered("", "female", "3"), None)], "test")
        .await
        .unwrap();
    let before = store.audit_page(org, None, 10_000).await.unwrap().len();
    let csv = format!("person,date,type,minor\n{a},2025-02-01,gp_appointment,\n");
    let e = store
        .import_events_csv(
            org,
            Requester::System("cli"),
            "bad.csv",
            "test",
            csv.into_bytes(),
            Source::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ImportError::Header(ref h) if h == "person,date,type,minor"),
        "{e}"
    );
    assert!(e.to_string().contains("nothing was imported"));
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (0, 0));
    assert_eq!(
        store.audit_page(org, None, 10_000).await.unwrap().len(),
        before
    );
}

/// A synthetic population in the store, and the same data as the CSV files of
/// `evaluate_files` with the periods the store's definition gives; both reports must agree.
async fn evaluation_from_store_equals_files(backend: Backend) {
    let (_db, store, org, ins) = setup(backend).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let window = Window {
        from: day("2025-01-01"),
        to: day("2025-12-31"),
    };
    let n = 400;
    let mut people = Vec::new();
    let mut ms = Vec::new();
    for _ in 0..n {
        let id = PersonId::new();
        let age = rng.gen_range(19..95);
        people.push(PopulationRow {
            id,
            date_of_birth: Day(day("2025-06-15").0 - age * 365 - rng.gen_range(0..300)),
            sex: if rng.gen_bool(0.5) {
                Sex::Female
            } else {
                Sex::Male
            },
            deprivation_decile: rng.gen_range(1..=10),
            ltc_count: rng.gen_range(1..=5),
            gp_practice: Some(["A", "B"][rng.gen_range(0..2)].into()),
        });
        // 0–3 measurements on distinct days between mid-2023 and the end of 2025.
        let k = rng.gen_range(0..=3);
        let mut days: Vec<i32> = (0..k)
            .map(|_| rng.gen_range(day("2023-06-01").0..=day("2025-12-31").0))
            .collect();
        days.sort();
        days.dedup();
        for d in days {
            let score: f64 = rng.gen_range(30.0..95.0);
            let level = if score <= 47.0 {
                1
            } else if score <= 55.1 {
                2
            } else if score <= 72.4 {
                3
            } else {
                4
            };
            ms.push(PopulationMeasurement {
                person_id: id,
                day: Day(d),
                score: (score * 10.0f64).round() / 10.0,
                level,
            });
        }
    }
    let keys: Vec<String> = [
        "asthma",
        "copd",
        "depression",
        "hypertension",
        "type2_diabetes",
    ]
    .map(String::from)
    .to_vec();
    store
        .load_population(org, ins, people.clone(), ms.clone(), keys)
        .await
        .unwrap();
    // Events from 2024-07 to 2026-03: some before, some inside, some after the window.
    let types = [
        "gp_appointment",
        "gp_dna",
        "ae_attendance",
        "emergency_admission",
        "outpatient_attendance",
        "outpatient_dna",
    ];
    let mut events = String::from("person_id,date,type,minor\n");
    for p in &people {
        for _ in 0..rng.gen_range(0..25) {
            let d = Day(rng.gen_range(day("2024-07-01").0..=day("2026-03-31").0));
            let t = types[rng.gen_range(0..6)];
            let minor = t == "ae_attendance" && rng.gen_bool(0.4);
            events.push_str(&format!(
                "{},{},{t},{}\n",
                p.id.as_text(),
                d.to_iso(),
                if minor { "true" } else { "" }
            ));
        }
    }
    let r = store
        .import_events_csv(
            org,
            Requester::System("cli"),
            "events.csv",
            "test",
            events.clone().into_bytes(),
            Source::default(),
        )
        .await
        .unwrap();
    assert_eq!(r.rows_rejected, 0);

    // Expected periods, computed independently from the definition.
    let mut people_csv = String::from("person_id,age,sex,deprivation_decile,ltc_count,activation_level,follow_up_start,follow_up_end\n");
    let mut measurements_csv = String::from("person_id,date,score,level\n");
    let mut late_starters = 0;
    let mut ordered = people.clone();
    ordered.sort_by_key(|p| p.id.as_text());
    for p in &ordered {
        let mine: Vec<&PopulationMeasurement> = ms
            .iter()
            .filter(|m| m.person_id == p.id && m.day <= window.to)
            .collect();
        for m in &mine {
            measurements_csv.push_str(&format!(
                "{},{},{},{}\n",
                p.id.as_text(),
                m.day.to_iso(),
                m.score,
                m.level
            ));
        }
        let start_level = match mine.iter().rev().find(|m| m.day <= window.from) {
            Some(m) => Some((window.from, m.level)),
            None => mine.first().map(|m| (m.day, m.level)),
        };
        let Some((start, level)) = start_level else {
            continue;
        };
        if start > window.from {
            late_starters += 1;
        }
        let (y0, m0, d0) = p.date_of_birth.ymd();
        let (y1, m1, d1) = start.ymd();
        let age = y1 - y0 - i32::from((m1, d1) < (m0, d0));
        people_csv.push_str(&format!(
            "{},{age},{},{},{},{level},{},{}\n",
            p.id.as_text(),
            if p.sex == Sex::Female {
                "female"
            } else {
                "male"
            },
            p.deprivation_decile,
            p.ltc_count,
            start.to_iso(),
            window.to.to_iso()
        ));
    }
    assert!(
        late_starters > 20,
        "the test needs people first measured inside the window ({late_starters})"
    );

    let opts = EvalOptions {
        suppress: None,
        threads: 1,
        ..Default::default()
    };
    let expected = alongside_stats::evaluate_files(
        people_csv.as_bytes(),
        events.as_bytes(),
        Some(measurements_csv.as_bytes()),
        &opts,
    )
    .unwrap();

    store
        .audit_evaluation(
            org,
            &Requester::System("cli"),
            window,
            "test",
            Source::default(),
        )
        .await
        .unwrap();
    let inputs = store.outcome_inputs(org, window, true).await.unwrap();
    assert_eq!(inputs.people_registered, n as u64);
    assert_eq!(inputs.records.len() as u64, expected.population.periods);
    let got = alongside_stats::evaluate_records(
        &inputs.records,
        Some(&inputs.measurements),
        &EvalOptions {
            study_period: Some((window.from, window.to)),
            ..opts.clone()
        },
    )
    .unwrap();

    let ej = serde_json::to_value(&expected).unwrap();
    let gj = serde_json::to_value(&got).unwrap();
    assert_eq!(
        gj["outcomes"], ej["outcomes"],
        "every count, rate, ratio and interval agrees"
    );
    assert_eq!(gj["activation_change"], ej["activation_change"]);
    assert_eq!(gj["population"]["by_level"], ej["population"]["by_level"]);
    assert_eq!(gj["population"]["people"], ej["population"]["people"]);
    assert_eq!(got.inputs.events_counted, expected.inputs.events_counted);
    assert!(expected.inputs.events_counted > 1000);
    assert_eq!(
        inputs.events_in_window - inputs.events_not_counted,
        expected.inputs.events_counted
    );
    let measured = people
        .iter()
        .filter(|p| ms.iter().any(|m| m.person_id == p.id && m.day <= window.to))
        .count() as u64;
    assert_eq!(inputs.people_measured, measured);
    assert_eq!(inputs.excluded.no_activation, n as u64 - measured);
    assert_eq!(inputs.latest.len() as u64, measured);
    // One evaluation audit entry, naming the window.
    let details = audit_details(&store, org, "outcomes.evaluate").await;
    assert_eq!(
        details,
        vec!["test: window 2025-01-01 to 2025-12-31".to_string()]
    );

    // People recorded as other sex, or without a deprivation decile, are excluded and counted.
    let x = PersonId::new();
    let y = PersonId::new();
    store
        .insert_people_unaudited_actor(
            org,
            vec![
                (x, registered("", "other", "4"), None),
                (y, registered("", "female", ""), None),
            ],
            "test",
        )
        .await
        .unwrap();
    store
        .load_population(
            org,
            ins,
            vec![],
            vec![
                PopulationMeasurement {
                    person_id: x,
                    day: day("2024-05-01"),
                    score: 50.0,
                    level: 2,
                },
                PopulationMeasurement {
                    person_id: y,
                    day: day("2024-05-01"),
                    score: 50.0,
                    level: 2,
                },
            ],
            vec![],
        )
        .await
        .unwrap();
    let again = store.outcome_inputs(org, window, false).await.unwrap();
    assert_eq!(again.excluded.sex_not_female_or_male, 1);
    assert_eq!(again.excluded.no_deprivation_decile, 1);
    assert_eq!(again.records.len(), inputs.records.len());
}

// Imports written in chunks (issue 11): readers see only complete imports; an import whose
// process died part-way is removed once abandoned; a file imported twice at once is stored once.
both_backends!(
    incomplete_imports_are_invisible_and_abandoned_ones_removed,
    a_large_import_is_written_in_chunks_and_stored_once
);

async fn count(store: &Store, sql: &str, org: OrgId) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .bind(org.as_text())
        .fetch_one(store.reader())
        .await
        .unwrap()
        .get(0)
}

/// An incomplete import of five A&E attendances for `person`, last written at `written_at`, as
/// a chunked import leaves it part-way (or when its process died).
async fn incomplete_import(store: &Store, org: OrgId, person: PersonId, written_at: i64) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query("INSERT INTO utilisation_imports (org_id, id, sha256, file_name, source, rows_read, rows_rejected, events_imported, imported_at, complete, written_at) VALUES ($1, $2, $3, 'part.csv', 'test', 5, 0, 5, 0, 0, $4)")
        .bind(org.as_text())
        .bind(&id)
        .bind(format!("pending {id}"))
        .bind(written_at)
        .execute(store.reader())
        .await
        .unwrap();
    let set = alongside_store::event_sets::pack([alongside_store::event_sets::EventDay {
        day: day("2025-03-04"),
        event_type: 2,
        minor: false,
        n: 5,
    }])
    .unwrap();
    sqlx::query("INSERT INTO utilisation_event_sets (org_id, person_id, import_id, first_date, last_date, last_unplanned, events, packed) VALUES ($1, $2, $3, '2025-03-04', '2025-03-04', '2025-03-04', 5, $4)")
        .bind(org.as_text())
        .bind(person.as_text())
        .bind(&id)
        .bind(set.bytes)
        .execute(store.reader())
        .await
        .unwrap();
    id
}

async fn incomplete_imports_are_invisible_and_abandoned_ones_removed(backend: Backend) {
    let (db, store, org, _) = setup(backend).await;
    let (a, b) = (PersonId::new(), PersonId::new());
    store
        .insert_people_unaudited_actor(
            org,
            vec![
                (a, registered("", "female", "3"), None),
                (b, registered("", "male", "5"), None),
            ],
            "test",
        )
        .await
        .unwrap();
    let import = |csv: String| {
        let store = store.clone();
        async move {
            store
                .import_events_csv(
                    org,
                    Requester::System("cli"),
                    "events.csv",
                    "test",
                    csv.into_bytes(),
                    Source::default(),
                )
                .await
                .unwrap()
        }
    };
    import(format!(
        "person_id,date,type,minor\n{a},2025-02-01,gp_appointment,\n{b},2025-02-02,ae_attendance,\n"
    ))
    .await;
    let window = Window {
        from: day("2025-01-01"),
        to: day("2025-12-31"),
    };
    let before = store.outcome_inputs(org, window, false).await.unwrap();
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));

    // One import still being written (written to just now) and one abandoned long ago.
    let live = incomplete_import(&store, org, b, alongside_store::now_micros()).await;
    let dead = incomplete_import(&store, org, b, 0).await;
    // Readers see neither.
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));
    let during = store.outcome_inputs(org, window, false).await.unwrap();
    assert_eq!(during.events_in_window, before.events_in_window);
    assert_eq!(during.records, before.records);

    // Opening the store removes the abandoned import and its sets, not the live one.
    store.close().await;
    let store = Store::open(&db.url).await.unwrap();
    let incomplete = "SELECT COUNT(*) FROM utilisation_imports WHERE org_id = $1 AND complete = 0";
    assert_eq!(count(&store, incomplete, org).await, 1);
    let sets_of = |id: &str| {
        format!(
            "SELECT COUNT(*) FROM utilisation_event_sets WHERE org_id = $1 AND import_id = '{id}'"
        )
    };
    assert_eq!(count(&store, &sets_of(&dead), org).await, 0);
    assert_eq!(count(&store, &sets_of(&live), org).await, 1);

    // Once it too stops being written to, the next import removes it.
    sqlx::query("UPDATE utilisation_imports SET written_at = 1 WHERE id = $1")
        .bind(&live)
        .execute(store.reader())
        .await
        .unwrap();
    let r = store
        .import_events_csv(
            org,
            Requester::System("cli"),
            "more.csv",
            "test",
            format!("person_id,date,type,minor\n{a},2025-05-01,gp_dna,\n").into_bytes(),
            Source::default(),
        )
        .await
        .unwrap();
    assert!(!r.already_imported);
    assert_eq!(count(&store, incomplete, org).await, 0);
    assert_eq!(count(&store, &sets_of(&live), org).await, 0);
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (3, 2));
}

async fn a_large_import_is_written_in_chunks_and_stored_once(backend: Backend) {
    let (_db, store, org, _) = setup(backend).await;
    // More people than one chunk's worth (4,000 event sets: outcomes/write.rs), two events each.
    let people: Vec<PersonId> = (0..4_500).map(|_| PersonId::new()).collect();
    for chunk in people.chunks(1_000) {
        store
            .insert_people_unaudited_actor(
                org,
                chunk
                    .iter()
                    .map(|p| (*p, registered("", "female", "3"), None))
                    .collect(),
                "test",
            )
            .await
            .unwrap();
    }
    let mut csv = String::from("person_id,date,type,minor\n");
    for p in &people {
        csv.push_str(&format!(
            "{p},2025-02-01,gp_appointment,\n{p},2025-03-04,ae_attendance,true\n"
        ));
    }
    // The same file twice at once: one import stores it, the other finds it imported.
    let run = |name: &'static str| {
        let (store, bytes) = (store.clone(), csv.clone().into_bytes());
        async move {
            store
                .import_events_csv(
                    org,
                    Requester::System("cli"),
                    name,
                    "test",
                    bytes,
                    Source::default(),
                )
                .await
                .unwrap()
        }
    };
    let (x, y) = tokio::join!(run("first.csv"), run("second.csv"));
    assert_eq!(
        [x.already_imported, y.already_imported]
            .iter()
            .filter(|a| **a)
            .count(),
        1,
        "{x:?}\n{y:?}"
    );
    let stored = if x.already_imported { &y } else { &x };
    assert_eq!(stored.events_imported, 9_000);
    assert_eq!(x.import_id, y.import_id);
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (9_000, 1));
    let all = "SELECT COUNT(*) FROM utilisation_imports WHERE org_id = $1";
    assert_eq!(count(&store, all, org).await, 1);
    let sets = "SELECT COUNT(*) FROM utilisation_event_sets WHERE org_id = $1";
    assert_eq!(count(&store, sets, org).await, 4_500);
    let details = audit_details(&store, org, "utilisation.import").await;
    assert_eq!(details.len(), 2, "{details:?}");
    assert_eq!(
        details
            .iter()
            .filter(|d| d.contains("already imported"))
            .count(),
        1
    );
    assert!(store.verify_audit().await.unwrap().ok());
}
