//! Utilisation events imported from FHIR R4 resources (Bundle and NDJSON) through the store's
//! shared import pipeline, on SQLite and PostgreSQL: every mapping case, the same events from
//! NDJSON, idempotency, bad entries by number, non-FHIR files rejected whole, the audit entry.
//! The fixture Bundle is also validated with Python's `fhir.resources` (R4B models, whose
//! Encounter, Appointment and Patient are R4's) through `ALONGSIDE_PYTHON`, as `scripts/test`
//! sets it up.

use crate::support::{registered, stored_events, Stored};
use alongside_core::{OrgId, PersonId};
use alongside_store::outcomes::{FileFormat, ImportError, ImportReport, Requester};
use alongside_store::people::Source;
use alongside_store::testing::TestDatabase;
use alongside_store::{both_backends, Backend, Store};
use serde_json::{json, Value};

both_backends!(
    bundle_maps_every_case_and_ndjson_gives_the_same_events,
    bad_entries_are_reported_by_number,
    a_file_that_is_not_fhir_writes_nothing
);

const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/v3-ActPriority";
/// The id (and `urn:uuid:` fullUrl) of the Patient resource in the file that carries C's NHS
/// number; not a record id.
const PATIENT_C: &str = "6f1c2a44-8d0e-4d8a-9b3e-2a7f5c1d0e99";

/// Every stored event-day of `org`, in full order.
async fn events(store: &Store, org: OrgId) -> Vec<Stored> {
    let mut v = stored_events(store, org).await;
    v.sort();
    v
}

struct People {
    /// Known by record id only.
    a: PersonId,
    /// NHS number 943 476 5919, named by identifier.
    b: PersonId,
    /// NHS number 401 023 2137, named through a Patient resource in the file.
    c: PersonId,
}

async fn setup(backend: Backend, people: &People) -> (TestDatabase, Store, OrgId) {
    let db = TestDatabase::new(backend).await;
    let store = Store::open(&db.url).await.unwrap();
    let org = store
        .create_organisation("Outcome PCN", "pcn")
        .await
        .unwrap();
    store
        .insert_people_unaudited_actor(
            org,
            vec![
                (people.a, registered("", "female", "3"), None),
                (people.b, registered("943 476 5919", "female", "3"), None),
                (people.c, registered("401 023 2137", "female", "3"), None),
            ],
            "test",
        )
        .await
        .unwrap();
    (db, store, org)
}

fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

fn general_practice() -> Value {
    json!({"coding": [{"system": "http://snomed.info/sct", "code": "394814009", "display": "General practice"}]})
}

fn patient_ref(id: PersonId) -> Value {
    json!({"reference": format!("Patient/{id}")})
}

fn nhs_identifier(nhs: &str) -> Value {
    json!({"identifier": {"system": NHS_SYSTEM, "value": nhs}})
}

fn encounter(
    id: &str,
    status: &str,
    class: &str,
    subject: Value,
    start: &str,
    extra: Value,
) -> Value {
    let mut e = json!({
        "resourceType": "Encounter",
        "id": id,
        "status": status,
        "class": {"system": ACT_CODE, "code": class},
        "subject": subject,
        "period": {"start": start}
    });
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn appointment(id: &str, status: &str, actor: Value, start: &str, extra: Value) -> Value {
    let mut a = json!({
        "resourceType": "Appointment",
        "id": id,
        "status": status,
        "start": start,
        "end": start.replace("T09:00:00", "T09:10:00"),
        "participant": [
            {"actor": actor, "status": "accepted"},
            {"actor": {"reference": "Practitioner/dr-okafor", "display": "Dr Okafor"}, "status": "accepted"}
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

/// One resource of every mapping case, with the event each gives (None: skipped).
fn cases(p: &People) -> (Vec<Value>, Vec<Stored>) {
    let urn_c = json!({"reference": format!("urn:uuid:{PATIENT_C}")});
    let ev = |who: PersonId, ty: &str, minor: bool, day: &str, n: u32| {
        (who.as_text(), ty.to_string(), minor, day.to_string(), n)
    };
    let resources = vec![
        json!({"resourceType": "Patient", "id": PATIENT_C, "identifier": [{"system": NHS_SYSTEM, "value": "4010232137"}]}),
        // A&E, routine priority: a minor attendance; 23:30 GMT is still 4 March in London.
        encounter(
            "e1",
            "finished",
            "EMER",
            patient_ref(p.a),
            "2025-03-04T23:30:00Z",
            json!({"priority": coding(PRIORITY, "R")}),
        ),
        // A&E, triaged; 23:30 UTC on 1 July is 00:30 BST on 2 July.
        encounter(
            "e2",
            "triaged",
            "EMER",
            nhs_identifier("9434765919"),
            "2025-07-01T23:30:00+00:00",
            json!({}),
        ),
        // Emergency admissions: by priority, and by admission source.
        encounter(
            "e3",
            "finished",
            "IMP",
            urn_c.clone(),
            "2025-04-01",
            json!({"priority": coding(PRIORITY, "EM")}),
        ),
        encounter(
            "e4",
            "finished",
            "ACUTE",
            patient_ref(p.a),
            "2025-04-10",
            json!({"hospitalization": {"admitSource": coding("http://terminology.hl7.org/CodeSystem/admit-source", "emd")}}),
        ),
        // An elective stay: skipped.
        encounter(
            "e5",
            "finished",
            "IMP",
            patient_ref(p.a),
            "2025-04-20",
            json!({"priority": coding(PRIORITY, "EL")}),
        ),
        // General practice by serviceType, by type, and a home visit the same day.
        encounter(
            "e6",
            "finished",
            "AMB",
            patient_ref(p.a),
            "2025-02-01",
            json!({"serviceType": general_practice()}),
        ),
        encounter(
            "e7",
            "finished",
            "VR",
            nhs_identifier("9434765919"),
            "2025-02-01T10:00:00Z",
            json!({"type": [general_practice()]}),
        ),
        encounter(
            "e8",
            "in-progress",
            "HH",
            patient_ref(p.a),
            "2025-02-01",
            json!({"serviceType": general_practice()}),
        ),
        // Not general practice: an outpatient attendance.
        encounter(
            "e9",
            "arrived",
            "AMB",
            urn_c.clone(),
            "2025-05-05",
            json!({"serviceType": coding("http://snomed.info/sct", "394589003")}),
        ),
        // Not attendances.
        encounter(
            "e10",
            "cancelled",
            "AMB",
            patient_ref(p.a),
            "2025-05-06",
            json!({}),
        ),
        encounter(
            "e11",
            "planned",
            "EMER",
            patient_ref(p.a),
            "2025-05-07",
            json!({}),
        ),
        encounter(
            "e12",
            "entered-in-error",
            "AMB",
            patient_ref(p.a),
            "2025-05-08",
            json!({}),
        ),
        // Missed appointments.
        appointment(
            "a1",
            "noshow",
            patient_ref(p.a),
            "2025-06-01T09:00:00+01:00",
            json!({"serviceCategory": [general_practice()]}),
        ),
        appointment(
            "a2",
            "noshow",
            urn_c,
            "2025-06-02T09:00:00+01:00",
            json!({}),
        ),
        appointment(
            "a3",
            "booked",
            patient_ref(p.a),
            "2025-06-03T09:00:00+01:00",
            json!({}),
        ),
        appointment(
            "a4",
            "fulfilled",
            patient_ref(p.a),
            "2025-06-04T09:00:00+01:00",
            json!({}),
        ),
    ];
    let mut events = vec![
        ev(p.a, "ae_attendance", true, "2025-03-04", 1),
        ev(p.b, "ae_attendance", false, "2025-07-02", 1),
        ev(p.c, "emergency_admission", false, "2025-04-01", 1),
        ev(p.a, "emergency_admission", false, "2025-04-10", 1),
        ev(p.a, "gp_appointment", false, "2025-02-01", 2),
        ev(p.b, "gp_appointment", false, "2025-02-01", 1),
        ev(p.c, "outpatient_attendance", false, "2025-05-05", 1),
        ev(p.a, "gp_dna", false, "2025-06-01", 1),
        ev(p.c, "outpatient_dna", false, "2025-06-02", 1),
    ];
    events.sort();
    (resources, events)
}

fn bundle(resources: &[Value]) -> Value {
    let entry: Vec<Value> = resources
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap();
            let full_url = if r["resourceType"] == "Patient" {
                format!("urn:uuid:{id}")
            } else {
                format!(
                    "https://fhir.example.nhs.uk/{}/{id}",
                    r["resourceType"].as_str().unwrap()
                )
            };
            json!({"fullUrl": full_url, "resource": r})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entry})
}

/// NDJSON as a Bulk Data export writes it: one resource per line, references `Patient/<id>`.
fn ndjson(resources: &[Value]) -> String {
    resources
        .iter()
        .map(|r| r.to_string().replace("urn:uuid:", "Patient/") + "\n")
        .collect()
}

async fn import(
    store: &Store,
    org: OrgId,
    name: &str,
    bytes: Vec<u8>,
) -> Result<ImportReport, ImportError> {
    store
        .import_events_file(
            org,
            Requester::System("cli"),
            FileFormat::Fhir,
            name,
            "trust FHIR export",
            bytes,
            Source::default(),
        )
        .await
}

async fn audit_details(store: &Store, org: OrgId) -> Vec<String> {
    store
        .audit_page(org, None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "utilisation.import")
        .map(|e| e.detail.unwrap_or_default())
        .collect()
}

async fn bundle_maps_every_case_and_ndjson_gives_the_same_events(backend: Backend) {
    let people = People {
        a: PersonId::new(),
        b: PersonId::new(),
        c: PersonId::new(),
    };
    let (resources, expected) = cases(&people);
    let bundle = serde_json::to_vec_pretty(&bundle(&resources)).unwrap();
    validate_with_fhir_resources(&bundle);

    let (_db, store, org) = setup(backend, &people).await;
    let r = import(&store, org, "encounters.json", bundle.clone())
        .await
        .unwrap();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert!(!r.already_imported);
    // 16 Encounters and Appointments read (the Patient is not an event), 10 events, 6 skipped.
    assert_eq!(
        (
            r.rows_read,
            r.rows_rejected,
            r.events_imported,
            r.rows_skipped
        ),
        (16, 0, 10, 6)
    );
    assert_eq!(
        r.skipped,
        vec![
            ("Appointment status booked".to_string(), 1),
            ("Appointment status fulfilled".to_string(), 1),
            ("Encounter status cancelled".to_string(), 1),
            ("Encounter status entered-in-error".to_string(), 1),
            ("Encounter status planned".to_string(), 1),
            (
                "inpatient Encounter not marked as an emergency admission".to_string(),
                1
            ),
        ]
    );
    assert_eq!(events(&store, org).await, expected);
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (10, 1));

    // The same bytes again change nothing.
    let again = import(&store, org, "copy.json", bundle).await.unwrap();
    assert!(again.already_imported);
    assert_eq!(
        (again.import_id.as_str(), again.events_imported),
        (r.import_id.as_str(), 0)
    );
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (10, 1));
    assert_eq!(events(&store, org).await, expected);

    // One audit entry per import, with counts and no health data.
    let details = audit_details(&store, org).await;
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(details[0].contains("already imported"), "{}", details[0]);
    assert!(
        details[1].contains("encounters.json")
            && details[1].contains("source trust FHIR export")
            && details[1].contains("16 FHIR entries read, 10 events imported, 0 FHIR entries rejected, 6 FHIR entries skipped"),
        "{}",
        details[1]
    );
    for d in &details {
        assert!(
            !d.contains("4010232137")
                && !d.contains(&people.a.as_text())
                && !d.contains("Encounter"),
            "{d}"
        );
    }
    assert!(store.verify_audit().await.unwrap().ok());

    // NDJSON of the same resources, into a fresh database with the same people.
    let (_db2, store2, org2) = setup(backend, &people).await;
    let text = ndjson(&resources);
    let r2 = import(&store2, org2, "Encounter.ndjson", text.clone().into_bytes())
        .await
        .unwrap();
    assert!(r2.rejected.is_empty(), "{:?}", r2.rejected);
    assert_eq!(
        (
            r2.rows_read,
            r2.events_imported,
            r2.rows_skipped,
            r2.skipped.clone()
        ),
        (16, 10, 6, r.skipped.clone())
    );
    assert_eq!(events(&store2, org2).await, expected);
    let again = import(&store2, org2, "Encounter.ndjson", text.into_bytes())
        .await
        .unwrap();
    assert!(again.already_imported);
    assert_eq!(events(&store2, org2).await, expected);
}

async fn bad_entries_are_reported_by_number(backend: Backend) {
    let people = People {
        a: PersonId::new(),
        b: PersonId::new(),
        c: PersonId::new(),
    };
    let (_db, store, org) = setup(backend, &people).await;
    let good = encounter(
        "g1",
        "finished",
        "AMB",
        patient_ref(people.a),
        "2025-02-01",
        json!({}),
    );
    let mut no_class = encounter(
        "b6",
        "finished",
        "AMB",
        patient_ref(people.a),
        "2025-02-01",
        json!({}),
    );
    no_class.as_object_mut().unwrap().remove("class");
    let resources = vec![
        good,
        encounter(
            "b1",
            "finished",
            "AMB",
            patient_ref(PersonId::new()),
            "2025-02-01",
            json!({}),
        ),
        encounter(
            "b2",
            "finished",
            "AMB",
            nhs_identifier("9434765918"),
            "2025-02-01",
            json!({}),
        ),
        encounter(
            "b3",
            "finished",
            "AMB",
            nhs_identifier("9990000018"),
            "2025-02-01",
            json!({}),
        ),
        json!({"resourceType": "Encounter", "id": "b4", "status": "finished", "class": {"code": "AMB"}, "subject": patient_ref(people.a)}),
        encounter(
            "b5",
            "done",
            "AMB",
            patient_ref(people.a),
            "2025-02-01",
            json!({}),
        ),
        no_class,
        encounter(
            "b7",
            "finished",
            "AMB",
            json!({"reference": "Patient/not-a-record"}),
            "2025-02-01",
            json!({}),
        ),
        appointment(
            "b8",
            "noshow",
            json!({"reference": "Location/room-1"}),
            "2025-06-01T09:00:00+01:00",
            json!({}),
        ),
        encounter(
            "g2",
            "finished",
            "EMER",
            patient_ref(people.b),
            "2025-02-03",
            json!({}),
        ),
    ];
    let mut b = bundle(&resources);
    b["entry"].as_array_mut().unwrap().insert(
        9,
        json!({"request": {"method": "DELETE", "url": "Encounter/x"}}),
    );
    let r = import(&store, org, "bad.json", serde_json::to_vec(&b).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (
            r.rows_read,
            r.rows_rejected,
            r.events_imported,
            r.rows_skipped
        ),
        (11, 9, 2, 0)
    );
    let expect: [(u64, &str); 9] = [
        (2, "no person with this record id in the organisation"),
        (3, "not a valid NHS number"),
        (4, "no person with this NHS number in the organisation"),
        (5, "Encounter.period.start is missing"),
        (6, "Encounter status \"done\" is not an R4 Encounter status"),
        (7, "Encounter.class is missing"),
        (
            8,
            "is neither Patient/<record id> (a UUID) nor a Patient in this file",
        ),
        (9, "no Appointment.participant is a Patient"),
        (10, "the entry has no resource"),
    ];
    assert_eq!(r.rejected.len(), expect.len(), "{:?}", r.rejected);
    for (x, (n, reason)) in r.rejected.iter().zip(expect) {
        assert_eq!(x.line, n, "{}", x.reason);
        assert!(
            x.reason.contains(reason),
            "entry {}: {:?} should say {reason:?}",
            x.line,
            x.reason
        );
    }
    let mut want = vec![
        (
            people.a.as_text(),
            "outpatient_attendance".to_string(),
            false,
            "2025-02-01".to_string(),
            1,
        ),
        (
            people.b.as_text(),
            "ae_attendance".to_string(),
            false,
            "2025-02-03".to_string(),
            1,
        ),
    ];
    want.sort();
    assert_eq!(events(&store, org).await, want);
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (2, 1));

    // NDJSON: by line number, blank lines counted; a line that is not JSON is a bad entry.
    let lines = format!(
        "{}\n\n{{\"resourceType\": \"Encounter\", \"status\": \n{}\n",
        encounter(
            "n1",
            "finished",
            "AMB",
            patient_ref(people.a),
            "2025-03-01",
            json!({})
        ),
        encounter(
            "n2",
            "finished",
            "AMB",
            patient_ref(PersonId::new()),
            "2025-03-01",
            json!({})
        ),
    );
    let r = import(&store, org, "bad.ndjson", lines.into_bytes())
        .await
        .unwrap();
    assert_eq!((r.rows_read, r.rows_rejected, r.events_imported), (3, 2, 1));
    let got: Vec<(u64, bool)> = r
        .rejected
        .iter()
        .map(|x| {
            (
                x.line,
                x.reason.contains(if x.line == 3 {
                    "not valid JSON"
                } else {
                    "no person with this record id"
                }),
            )
        })
        .collect();
    assert_eq!(got, vec![(3, true), (4, true)], "{:?}", r.rejected);
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (3, 2));
}

async fn a_file_that_is_not_fhir_writes_nothing(backend: Backend) {
    let people = People {
        a: PersonId::new(),
        b: PersonId::new(),
        c: PersonId::new(),
    };
    let (_db, store, org) = setup(backend, &people).await;
    let before = store.audit_page(org, None, 10_000).await.unwrap().len();
    let pretty_encounter = serde_json::to_vec_pretty(&encounter(
        "e1",
        "finished",
        "AMB",
        patient_ref(people.a),
        "2025-02-01",
        json!({}),
    ))
    .unwrap();
    for (bytes, says) in [
        (
            format!(
                "person_id,date,type,minor\n{},2025-02-01,gp_appointment,\n",
                people.a
            )
            .into_bytes(),
            "not NDJSON of FHIR resources: line 1",
        ),
        (
            pretty_encounter,
            "a single Encounter resource written over several lines",
        ),
        (
            b"{\"resourceType\": \"Bundle\", \"type\": \"collection\", \"entry\": {}}".to_vec(),
            "the Bundle's entry is not a list",
        ),
        (b"[]".to_vec(), "not a JSON object"),
        (Vec::new(), "the file is empty"),
    ] {
        let e = import(&store, org, "wrong.json", bytes).await.unwrap_err();
        assert!(matches!(e, ImportError::NotFhir(_)), "{e}");
        let text = e.to_string();
        assert!(
            text.contains(says) && text.ends_with("nothing was imported"),
            "{text}"
        );
    }
    assert_eq!(store.utilisation_totals(org).await.unwrap(), (0, 0));
    assert_eq!(
        store.audit_page(org, None, 10_000).await.unwrap().len(),
        before
    );
}

/// Validates the fixture Bundle with Python's `fhir.resources` (R4B models).
fn validate_with_fhir_resources(json: &[u8]) {
    let python = std::env::var("ALONGSIDE_PYTHON").unwrap_or_else(|_| "python3".into());
    let path = std::env::temp_dir().join(format!(
        "alongside-encounters-{}-{}.json",
        std::process::id(),
        PersonId::new()
    ));
    std::fs::write(&path, json).expect("write JSON");
    let code = "import sys\nfrom fhir.resources.R4B.bundle import Bundle\ndata = open(sys.argv[1]).read()\nb = Bundle.model_validate_json(data) if hasattr(Bundle, 'model_validate_json') else Bundle.parse_raw(data)\nprint('valid', len(b.entry), ' '.join(sorted({e.resource.get_resource_type() for e in b.entry})))\n";
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(code)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("run {python}: {e}. Run scripts/test (which installs fhir.resources) or set ALONGSIDE_PYTHON.")
        });
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "fhir.resources refused the fixture Bundle (or is not installed: run scripts/test, or set ALONGSIDE_PYTHON): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        "valid 17 Appointment Encounter Patient",
        "{stdout}"
    );
}
