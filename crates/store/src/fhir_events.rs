//! Utilisation events from FHIR R4 resources: reads a Bundle (any type) or NDJSON (one resource
//! a line, the Bulk Data export format) and maps each `Encounter` and `Appointment` to the same
//! event item a CSV row gives — who (record id or NHS number), day, type, minor flag — or says
//! why it is skipped (not a counted event) or rejected (bad data, with a reason a person can act
//! on). The mapping is the table in `docs/outcomes.md`, "Importing FHIR Encounters".
//!
//! Pure: no I/O, no database, no clock. It never resolves people against the store (the shared
//! import pipeline in `outcomes/` does that, as for CSV) and never writes anything.

use crate::event_sets::EVENT_TYPES;
use alongside_core::nhs_number::NhsNumber;
use alongside_stats::Day;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The NHS number identifier system.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// SNOMED CT 394814009 |General practice (qualifier value)|.
pub const GENERAL_PRACTICE: &str = "394814009";

const GP_APPOINTMENT: u8 = 0;
const GP_DNA: u8 = 1;
const AE_ATTENDANCE: u8 = 2;
const EMERGENCY_ADMISSION: u8 = 3;
const OUTPATIENT_ATTENDANCE: u8 = 4;
const OUTPATIENT_DNA: u8 = 5;

/// Who an event belongs to, as the resource names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    /// Alongside's record id (a UUID, as written in the reference).
    RecordId(String),
    Nhs(NhsNumber),
}

/// One event read from a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventItem {
    pub person: PersonRef,
    pub day: Day,
    /// Index into [`EVENT_TYPES`].
    pub event_type: u8,
    pub minor: bool,
}

/// What one entry (Bundle entry or NDJSON line) gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Event(EventItem),
    /// A well-formed resource that is not a counted event (e.g. a cancelled Encounter); the
    /// text says which kind, so that skipped entries can be counted by kind.
    Skipped(String),
    Rejected(String),
}

/// An Encounter, an Appointment, or an entry that could not be read as a resource. Other
/// resource types (Patient, Organization, …) are not listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Bundle: the entry's position from 1; NDJSON: the line number.
    pub number: u64,
    pub outcome: Outcome,
}

/// Reads a FHIR file. `Err` rejects the whole file (it is not a Bundle or NDJSON of
/// resources), with the reason.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "the file is not UTF-8 text, so not FHIR JSON".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    let resources: Resources = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) if m.get("resourceType") == Some(&"Bundle".into()) => {
            bundle_resources(m)?
        }
        Ok(Value::Object(m)) if text.trim().contains('\n') => {
            return Err(match m.get("resourceType").and_then(Value::as_str) {
                    Some(t) => format!(
                        "the file is a single {t} resource written over several lines, not a Bundle or NDJSON (one resource per line)"
                    ),
                    None => "the file is JSON but not a FHIR resource (it has no resourceType)"
                        .into(),
                });
        }
        Ok(Value::Object(_)) => ndjson_resources(text)?,
        Ok(_) => {
            return Err("the file is JSON but not a FHIR resource (it is not a JSON object)".into())
        }
        Err(_) => ndjson_resources(text)?,
    };
    Ok(map_resources(resources))
}

/// (entry number, Bundle fullUrl, the resource or why the entry is not one).
type Resources = Vec<(u64, Option<String>, Result<Map<String, Value>, String>)>;

fn bundle_resources(mut bundle: Map<String, Value>) -> Result<Resources, String> {
    let entries = match bundle.remove("entry") {
        None => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err("the Bundle's entry is not a list".into()),
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let number = i as u64 + 1;
        let Value::Object(mut e) = e else {
            out.push((number, None, Err("the entry is not a JSON object".into())));
            continue;
        };
        let full_url = e.get("fullUrl").and_then(Value::as_str).map(str::to_string);
        let r = match e.remove("resource") {
            Some(Value::Object(r)) if r.get("resourceType").is_some_and(Value::is_string) => Ok(r),
            Some(Value::Object(_)) => Err("the entry's resource has no resourceType".into()),
            Some(_) => Err("the entry's resource is not a JSON object".into()),
            None => Err("the entry has no resource".into()),
        };
        out.push((number, full_url, r));
    }
    Ok(out)
}

fn ndjson_resources(text: &str) -> Result<Resources, String> {
    let mut out = Vec::new();
    let mut first = true;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let number = i as u64 + 1;
        let r = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) if m.get("resourceType").is_some_and(Value::is_string) => Ok(m),
            Ok(Value::Object(_)) => Err("the line is JSON but has no resourceType".to_string()),
            Ok(_) => Err("the line is JSON but not a resource (not an object)".to_string()),
            Err(e) => Err(format!("the line is not valid JSON ({e})")),
        };
        if first {
            if let Err(reason) = &r {
                return Err(format!(
                    "not a FHIR Bundle, and not NDJSON of FHIR resources: line {number}: {reason}"
                ));
            }
            first = false;
        }
        out.push((number, None, r));
    }
    Ok(out)
}

/// Patients in the file, for references to them: by Bundle fullUrl and by `Patient/<id>`.
/// `None`: the Patient carries no (valid) NHS number.
struct Patients(HashMap<String, Option<NhsNumber>>);

fn nhs_identifier(identifiers: Option<&Value>) -> Option<Result<NhsNumber, String>> {
    let list: Vec<&Value> = match identifiers? {
        Value::Array(a) => a.iter().collect(),
        v @ Value::Object(_) => vec![v],
        _ => return None,
    };
    let id = list
        .into_iter()
        .find(|i| i.get("system").and_then(Value::as_str) == Some(NHS_NUMBER_SYSTEM))?;
    let value = id.get("value").and_then(Value::as_str).unwrap_or("");
    Some(NhsNumber::parse(value).map_err(|_| {
        format!("the NHS number identifier {value:?} is not a valid NHS number (10 digits, check digit)")
    }))
}

fn map_resources(resources: Resources) -> Vec<Entry> {
    let mut patients = Patients(HashMap::new());
    for (_, full_url, r) in &resources {
        let Ok(r) = r else { continue };
        if r.get("resourceType").and_then(Value::as_str) != Some("Patient") {
            continue;
        }
        let nhs = nhs_identifier(r.get("identifier")).and_then(Result::ok);
        if let Some(u) = full_url {
            patients.0.insert(u.to_string(), nhs.clone());
        }
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            patients.0.insert(format!("Patient/{id}"), nhs);
        }
    }
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let mut out = Vec::new();
    for (number, _, r) in resources {
        let outcome = match r {
            Err(reason) => Outcome::Rejected(reason),
            Ok(r) => {
                let ty = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
                if ty != "Encounter" && ty != "Appointment" {
                    continue;
                }
                let earlier = r.get("id").and_then(Value::as_str).and_then(|id| {
                    seen.insert((ty.to_string(), id.to_string()), number)
                        .map(|n| (id.to_string(), n))
                });
                match earlier {
                    Some((id, n)) => Outcome::Rejected(format!(
                        "{ty} {id} appears twice in the file (first as entry {n}); counted once"
                    )),
                    None if ty == "Encounter" => encounter(&r, &patients),
                    None => appointment(&r, &patients),
                }
            }
        };
        out.push(Entry { number, outcome });
    }
    out
}

fn codes(v: Option<&Value>) -> Vec<(&str, &str)> {
    // A Coding, a CodeableConcept, or a list of either: every (system, code).
    let mut out = Vec::new();
    fn walk<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a str)>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => {
                if let Some(c) = m.get("coding") {
                    walk(c, out);
                }
                if let Some(code) = m.get("code").and_then(Value::as_str) {
                    out.push((m.get("system").and_then(Value::as_str).unwrap_or(""), code));
                }
            }
            _ => {}
        }
    }
    if let Some(v) = v {
        walk(v, &mut out);
    }
    out
}

fn has_code(v: Option<&Value>, code: &str) -> bool {
    codes(v).iter().any(|(_, c)| *c == code)
}

fn is_general_practice(fields: &[Option<&Value>]) -> bool {
    fields.iter().any(|f| {
        codes(*f)
            .iter()
            .any(|(s, c)| *s == SNOMED && *c == GENERAL_PRACTICE)
    })
}

/// Who a Reference names: an NHS number identifier, a Patient in the same file carrying one,
/// or `Patient/<UUID>`, Alongside's record id.
fn person(reference: Option<&Value>, what: &str, patients: &Patients) -> Result<PersonRef, String> {
    let Some(reference) = reference.filter(|r| !r.is_null()) else {
        return Err(format!("{what} is missing"));
    };
    if let Some(n) = nhs_identifier(reference.get("identifier")) {
        return n.map(PersonRef::Nhs).map_err(|e| format!("{what}: {e}"));
    }
    let Some(text) = reference.get("reference").and_then(Value::as_str) else {
        return Err(format!(
            "{what} has neither a reference nor an identifier with system {NHS_NUMBER_SYSTEM}"
        ));
    };
    if let Some(Some(nhs)) = patients.0.get(text) {
        return Ok(PersonRef::Nhs(nhs.clone()));
    }
    if let Some(id) = text.strip_prefix("Patient/") {
        if let Ok(u) = uuid::Uuid::parse_str(id) {
            return Ok(PersonRef::RecordId(u.hyphenated().to_string()));
        }
    }
    Err(match patients.0.get(text) {
        Some(_) => format!(
            "{what} refers to a Patient in this file ({text}) that has no valid NHS number identifier (system {NHS_NUMBER_SYSTEM})"
        ),
        None => format!(
            "{what} reference {text:?} is neither Patient/<record id> (a UUID) nor a Patient in this file"
        ),
    })
}

/// A FHIR date or dateTime as a calendar day: a date as is; a dateTime with its offset as the
/// Europe/London date of that instant.
fn fhir_day(v: Option<&Value>, what: &str) -> Result<Day, String> {
    let Some(s) = v.and_then(Value::as_str) else {
        return Err(format!("{what} is missing"));
    };
    let day = if s.len() == 10 {
        Day::parse_iso(s.as_bytes())
    } else if s.len() > 10 {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .and_then(|t| {
                let d = alongside_core::recurrence::utc_to_london(t).date();
                Day::from_ymd(d.year(), u8::from(d.month()).into(), d.day().into())
            })
    } else {
        None
    };
    day.ok_or_else(|| {
        format!(
            "{what} {s:?} must be a full date (YYYY-MM-DD) or a date and time with its offset (e.g. 2025-03-04T10:30:00+00:00)"
        )
    })
}

fn status(r: &Map<String, Value>) -> Option<&str> {
    r.get("status").and_then(Value::as_str)
}

fn encounter(r: &Map<String, Value>, patients: &Patients) -> Outcome {
    const COUNTED: [&str; 5] = ["finished", "arrived", "triaged", "in-progress", "onleave"];
    const NOT_COUNTED: [&str; 4] = ["planned", "cancelled", "entered-in-error", "unknown"];
    let st = status(r).unwrap_or("");
    if NOT_COUNTED.contains(&st) {
        return Outcome::Skipped(format!("Encounter status {st}"));
    }
    if !COUNTED.contains(&st) {
        return Outcome::Rejected(format!(
            "Encounter status {st:?} is not an R4 Encounter status; expected one of {}, {}",
            COUNTED.join(", "),
            NOT_COUNTED.join(", ")
        ));
    }
    // R4's class is a Coding; a CodeableConcept (as in R5) is read too.
    let Some(&(_, class)) = codes(r.get("class")).first() else {
        return Outcome::Rejected(
            "Encounter.class is missing (a v3 ActCode such as EMER, IMP or AMB)".into(),
        );
    };
    let priority = r.get("priority");
    let (event_type, minor) = match class {
        "EMER" => (AE_ATTENDANCE, has_code(priority, "R")),
        "IMP" | "ACUTE" | "NONAC" => {
            let admit_source = r.get("hospitalization").and_then(|h| h.get("admitSource"));
            if has_code(priority, "EM") || has_code(admit_source, "emd") {
                (EMERGENCY_ADMISSION, false)
            } else {
                return Outcome::Skipped(
                    "inpatient Encounter not marked as an emergency admission".into(),
                );
            }
        }
        "AMB" | "VR" | "HH" => {
            if is_general_practice(&[r.get("serviceType"), r.get("type")]) {
                (GP_APPOINTMENT, false)
            } else {
                (OUTPATIENT_ATTENDANCE, false)
            }
        }
        other => return Outcome::Skipped(format!("Encounter class {other}")),
    };
    let who = match person(r.get("subject"), "Encounter.subject", patients) {
        Ok(p) => p,
        Err(e) => return Outcome::Rejected(e),
    };
    let day = match fhir_day(
        r.get("period").and_then(|p| p.get("start")),
        "Encounter.period.start",
    ) {
        Ok(d) => d,
        Err(e) => return Outcome::Rejected(e),
    };
    debug_assert!(usize::from(event_type) < EVENT_TYPES.len());
    Outcome::Event(EventItem {
        person: who,
        day,
        event_type,
        minor,
    })
}

fn appointment(r: &Map<String, Value>, patients: &Patients) -> Outcome {
    const STATUSES: [&str; 10] = [
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    ];
    let st = status(r).unwrap_or("");
    if !STATUSES.contains(&st) {
        return Outcome::Rejected(format!(
            "Appointment status {st:?} is not an R4 Appointment status; expected one of {}",
            STATUSES.join(", ")
        ));
    }
    if st != "noshow" {
        return Outcome::Skipped(format!("Appointment status {st}"));
    }
    let patient_actors: Vec<&Value> = r
        .get("participant")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("actor"))
                .filter(|a| {
                    let reference = a.get("reference").and_then(Value::as_str).unwrap_or("");
                    reference.starts_with("Patient/")
                        || patients.0.contains_key(reference)
                        || a.get("type").and_then(Value::as_str) == Some("Patient")
                        || nhs_identifier(a.get("identifier")).is_some()
                })
                .collect()
        })
        .unwrap_or_default();
    let actor = match patient_actors.as_slice() {
        [one] => *one,
        [] => {
            return Outcome::Rejected(
                "no Appointment.participant is a Patient (actor Patient/<record id>, a Patient in this file, or an NHS number identifier)".into(),
            )
        }
        _ => {
            return Outcome::Rejected(
                "the Appointment has more than one Patient participant; give one person per Appointment".into(),
            )
        }
    };
    let who = match person(Some(actor), "Appointment.participant.actor", patients) {
        Ok(p) => p,
        Err(e) => return Outcome::Rejected(e),
    };
    let day = match fhir_day(r.get("start"), "Appointment.start") {
        Ok(d) => d,
        Err(e) => return Outcome::Rejected(e),
    };
    let gp = is_general_practice(&[
        r.get("serviceType"),
        r.get("serviceCategory"),
        r.get("specialty"),
        r.get("appointmentType"),
    ]);
    Outcome::Event(EventItem {
        person: who,
        day,
        event_type: if gp { GP_DNA } else { OUTPATIENT_DNA },
        minor: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RECORD: &str = "0b7d2c8e-1f7a-4f7e-9a51-3c2f8c7d9e10";

    fn day(s: &str) -> Day {
        Day::parse_iso(s.as_bytes()).unwrap()
    }

    fn enc(extra: Value) -> Value {
        let mut e = json!({
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": format!("Patient/{RECORD}")},
            "period": {"start": "2025-03-04"}
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    fn one(resource: Value) -> Outcome {
        let entries = read(resource.to_string().as_bytes()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].number, 1);
        entries[0].outcome.clone()
    }

    fn event(ty: &str, minor: bool, d: &str) -> Outcome {
        Outcome::Event(EventItem {
            person: PersonRef::RecordId(RECORD.into()),
            day: day(d),
            event_type: EVENT_TYPES.iter().position(|t| *t == ty).unwrap() as u8,
            minor,
        })
    }

    #[test]
    fn encounter_classes_map_to_types() {
        let gp = json!({"coding": [{"system": SNOMED, "code": GENERAL_PRACTICE}]});
        let cls = |c: &str| json!({"code": c});
        assert_eq!(
            one(enc(json!({}))),
            event("outpatient_attendance", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(json!({"serviceType": gp}))),
            event("gp_appointment", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(json!({"class": cls("VR"), "type": [gp]}))),
            event("gp_appointment", false, "2025-03-04")
        );
        // The code must be SNOMED CT's.
        assert_eq!(
            one(enc(
                json!({"serviceType": {"coding": [{"system": "http://example.org", "code": GENERAL_PRACTICE}]}})
            )),
            event("outpatient_attendance", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(json!({"class": cls("EMER")}))),
            event("ae_attendance", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(
                json!({"class": cls("EMER"), "priority": {"coding": [{"code": "R"}]}})
            )),
            event("ae_attendance", true, "2025-03-04")
        );
        assert_eq!(
            one(enc(
                json!({"class": cls("IMP"), "priority": {"coding": [{"code": "EM"}]}})
            )),
            event("emergency_admission", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(
                json!({"class": cls("ACUTE"), "hospitalization": {"admitSource": {"coding": [{"code": "emd"}]}}})
            )),
            event("emergency_admission", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(
                json!({"class": cls("IMP"), "priority": {"coding": [{"code": "EL"}]}})
            )),
            Outcome::Skipped("inpatient Encounter not marked as an emergency admission".into())
        );
        assert_eq!(
            one(enc(json!({"class": [{"coding": [{"code": "EMER"}]}]}))),
            event("ae_attendance", false, "2025-03-04")
        );
        assert_eq!(
            one(enc(json!({"class": cls("OBSENC")}))),
            Outcome::Skipped("Encounter class OBSENC".into())
        );
    }

    #[test]
    fn statuses_count_skip_or_reject() {
        for st in ["arrived", "triaged", "in-progress", "onleave"] {
            assert!(
                matches!(one(enc(json!({"status": st}))), Outcome::Event(_)),
                "{st}"
            );
        }
        for st in ["planned", "cancelled", "entered-in-error", "unknown"] {
            assert_eq!(
                one(enc(json!({"status": st}))),
                Outcome::Skipped(format!("Encounter status {st}"))
            );
        }
        assert!(
            matches!(one(enc(json!({"status": "done"}))), Outcome::Rejected(r) if r.contains("not an R4 Encounter status"))
        );
    }

    #[test]
    fn days_are_london_dates() {
        let at = |s: &str| one(enc(json!({"period": {"start": s}})));
        assert_eq!(
            at("2025-07-01T23:30:00Z"),
            event("outpatient_attendance", false, "2025-07-02")
        );
        assert_eq!(
            at("2025-01-01T23:30:00Z"),
            event("outpatient_attendance", false, "2025-01-01")
        );
        assert_eq!(
            at("2025-07-02T00:30:00+01:00"),
            event("outpatient_attendance", false, "2025-07-02")
        );
        assert_eq!(
            at("2025-07-01T20:00:00.123-05:00"),
            event("outpatient_attendance", false, "2025-07-02")
        );
        for bad in ["2025-07", "2025", "2025-02-30", "2025-07-01T10:00"] {
            assert!(
                matches!(at(bad), Outcome::Rejected(r) if r.contains("must be a full date")),
                "{bad}"
            );
        }
        assert!(
            matches!(one(enc(json!({"period": {}}))), Outcome::Rejected(r) if r.contains("Encounter.period.start is missing"))
        );
    }

    #[test]
    fn people_by_identifier_reference_or_patient_in_bundle() {
        let nhs = |v: &str| json!({"identifier": {"system": NHS_NUMBER_SYSTEM, "value": v}});
        assert_eq!(
            one(enc(json!({"subject": nhs("9434765919")}))),
            Outcome::Event(EventItem {
                person: PersonRef::Nhs(NhsNumber::parse("9434765919").unwrap()),
                day: day("2025-03-04"),
                event_type: 4,
                minor: false
            })
        );
        assert!(
            matches!(one(enc(json!({"subject": nhs("9434765918")}))), Outcome::Rejected(r) if r.contains("not a valid NHS number"))
        );
        assert!(
            matches!(one(enc(json!({"subject": {"reference": "Patient/p1"}}))), Outcome::Rejected(r) if r.contains("neither Patient/<record id>"))
        );
        assert!(
            matches!(one(enc(json!({"subject": null}))), Outcome::Rejected(r) if r.contains("Encounter.subject is missing"))
        );
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:5e0c", "resource": {"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}]}},
            {"fullUrl": "urn:uuid:77", "resource": {"resourceType": "Patient"}},
            {"resource": enc(json!({"subject": {"reference": "urn:uuid:5e0c"}}))},
            {"resource": enc(json!({"subject": {"reference": "urn:uuid:77"}}))},
            {"request": {"method": "POST"}},
        ]});
        let entries = read(bundle.to_string().as_bytes()).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(
            (entries[0].number, entries[1].number, entries[2].number),
            (3, 4, 5)
        );
        assert!(
            matches!(&entries[0].outcome, Outcome::Event(e) if e.person == PersonRef::Nhs(NhsNumber::parse("9434765919").unwrap()))
        );
        assert!(
            matches!(&entries[1].outcome, Outcome::Rejected(r) if r.contains("no valid NHS number identifier"))
        );
        assert!(
            matches!(&entries[2].outcome, Outcome::Rejected(r) if r == "the entry has no resource")
        );
    }

    #[test]
    fn missed_appointments_from_appointments() {
        let appt = |status: &str, extra: Value| {
            let mut a = json!({"resourceType": "Appointment", "status": status, "start": "2025-03-04T09:00:00Z",
                "participant": [{"actor": {"reference": format!("Patient/{RECORD}")}, "status": "declined"},
                                {"actor": {"reference": "Practitioner/x"}, "status": "accepted"}]});
            for (k, v) in extra.as_object().unwrap() {
                a[k] = v.clone();
            }
            a
        };
        assert_eq!(
            one(appt("noshow", json!({}))),
            event("outpatient_dna", false, "2025-03-04")
        );
        assert_eq!(
            one(appt(
                "noshow",
                json!({"serviceCategory": [{"coding": [{"system": SNOMED, "code": GENERAL_PRACTICE}]}]})
            )),
            event("gp_dna", false, "2025-03-04")
        );
        assert_eq!(
            one(appt("fulfilled", json!({}))),
            Outcome::Skipped("Appointment status fulfilled".into())
        );
        assert!(
            matches!(one(appt("noshow", json!({"participant": []}))), Outcome::Rejected(r) if r.contains("no Appointment.participant is a Patient"))
        );
        assert!(
            matches!(one(appt("noshow", json!({"start": null}))), Outcome::Rejected(r) if r.contains("Appointment.start is missing"))
        );
    }

    #[test]
    fn files_that_are_not_fhir_are_rejected_whole() {
        let err = |b: &str| read(b.as_bytes()).unwrap_err();
        assert!(err("person_id,date,type,minor\n").contains("not NDJSON of FHIR resources: line 1"));
        assert!(err("").contains("empty"));
        assert!(err("[1,2]").contains("not a JSON object"));
        assert!(err("{\n\"resourceType\": \"Encounter\"\n}").contains("single Encounter resource"));
        assert!(err("{\"resourceType\": \"Bundle\", \"entry\": 3}").contains("entry is not a list"));
        // NDJSON: a bad later line is a bad entry, by line number; duplicates are rejected.
        let e = enc(json!({"id": "e1"})).to_string();
        let entries = read(format!("{e}\n\nnot json\n{{\"a\":1}}\n{e}\n").as_bytes()).unwrap();
        let numbers: Vec<u64> = entries.iter().map(|e| e.number).collect();
        assert_eq!(numbers, [1, 3, 4, 5]);
        assert!(
            matches!(&entries[1].outcome, Outcome::Rejected(r) if r.contains("not valid JSON"))
        );
        assert!(
            matches!(&entries[2].outcome, Outcome::Rejected(r) if r.contains("no resourceType"))
        );
        assert!(
            matches!(&entries[3].outcome, Outcome::Rejected(r) if r.contains("appears twice in the file (first as entry 1)"))
        );
    }
}
