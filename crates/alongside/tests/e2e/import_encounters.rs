//! `alongside import encounters FILE` through the binary, on SQLite and PostgreSQL: what it
//! prints, its exit codes (0 imported, 2 entries rejected, 1 file rejected whole) and what it
//! stores. The mapping itself is tested in crates/store (`fhir_events` and tests/fhir_import.rs).

use alongside_core::person::{PersonDetails, PersonForm};
use alongside_core::PersonId;
use alongside_store::testing::TestDatabase;
use alongside_store::{both_backends, Backend, Store};
use serde_json::json;

both_backends!(import_encounters_from_the_command_line);

fn person(nhs: &str) -> PersonDetails {
    let form = PersonForm {
        nhs_number: nhs.into(),
        given_name: "Amira".into(),
        family_name: "Nowak".into(),
        dob_day: "7".into(),
        dob_month: "3".into(),
        dob_year: "1958".into(),
        sex: "female".into(),
        conditions: vec!["copd".into()],
        deprivation_decile: "3".into(),
        ..Default::default()
    };
    PersonDetails::parse(&form, time::macros::date!(2026 - 11 - 22)).unwrap()
}

fn run(args: &[&str], url: &str) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_alongside"))
        .args(args)
        .args(["--database", url])
        .env_remove("ALONGSIDE_DATABASE_URL")
        .output()
        .expect("run alongside");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn import_encounters_from_the_command_line(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Riverside PCN", "pcn")
        .await
        .unwrap();
    let a = PersonId::new();
    store
        .insert_people_unaudited_actor(org, vec![(a, person("943 476 5919"), None)], "test")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let encounter = |id: &str, status: &str, class: &str, subject: serde_json::Value| {
        json!({"resourceType": "Encounter", "id": id, "status": status,
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class},
               "subject": subject, "period": {"start": "2025-03-04T10:00:00Z"}})
    };
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": encounter("e1", "finished", "EMER", json!({"reference": format!("Patient/{a}")}))},
        {"resource": encounter("e2", "finished", "AMB", json!({"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}}))},
        {"resource": encounter("e3", "cancelled", "AMB", json!({"reference": format!("Patient/{a}")}))},
        {"resource": encounter("e4", "finished", "AMB", json!({"reference": format!("Patient/{}", PersonId::new())}))},
    ]});
    let file = dir.path().join("encounters.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    let path = file.to_str().unwrap();

    let (code, out, err) = run(
        &["import", "encounters", path, "--source", "trust export"],
        &db.url,
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("Imported 2 events from")
            && out.contains(
                "into Riverside PCN (4 entries read, 1 rejected, 1 skipped as not counted events)"
            ),
        "{out}"
    );
    assert!(
        out.contains("  skipped: 1 × Encounter status cancelled"),
        "{out}"
    );
    // Rejected entries are listed on standard error (after any log lines), one a line.
    let listed: Vec<&str> = err.lines().filter(|l| l.starts_with(path)).collect();
    assert_eq!(
        listed,
        [format!(
            "{path}: entry 4: no person with this record id in the organisation"
        )],
        "{err}"
    );
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));

    // The same file again changes nothing and exits 0.
    let (code, out, _) = run(&["import", "encounters", path], &db.url);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Already imported: ") && out.contains("nothing changed"),
        "{out}"
    );
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));

    // A CSV file given to `import encounters` is rejected whole.
    let csv = dir.path().join("events.csv");
    std::fs::write(
        &csv,
        format!("person_id,date,type,minor\n{a},2025-02-01,gp_appointment,\n"),
    )
    .unwrap();
    let (code, out, err) = run(&["import", "encounters", csv.to_str().unwrap()], &db.url);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("not a FHIR Bundle, and not NDJSON of FHIR resources: line 1")
            && err.contains("nothing was imported"),
        "{err}"
    );
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));
}
