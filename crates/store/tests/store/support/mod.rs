//! Helpers shared by the store's utilisation tests (`outcomes.rs`, `fhir_import.rs`).

use alongside_core::person::{PersonDetails, PersonForm};
use alongside_core::OrgId;
use alongside_store::{event_sets, Store};

/// (person id, event type, minor, day, n).
pub type Stored = (String, String, bool, String, u32);

/// Every stored event-day of `org`, decoded from the packed sets, sorted by day, type, minor.
pub async fn stored_events(store: &Store, org: OrgId) -> Vec<Stored> {
    use sqlx::Row;
    let rows =
        sqlx::query("SELECT person_id, packed FROM utilisation_event_sets WHERE org_id = $1")
            .bind(org.as_text())
            .fetch_all(store.reader())
            .await
            .unwrap();
    let mut out = Vec::new();
    for r in &rows {
        let person: String = r.get(0);
        let packed: Vec<u8> = r.get(1);
        for e in event_sets::decode(&packed).unwrap() {
            out.push((
                person.clone(),
                event_sets::EVENT_TYPES[usize::from(e.event_type)].to_string(),
                e.minor,
                e.day.to_iso(),
                e.n,
            ));
        }
    }
    out.sort_by(|x, y| (&x.3, &x.1, x.2).cmp(&(&y.3, &y.1, y.2)));
    out
}

/// A registered person's details: `sex` and deprivation `decile` as typed in the form.
pub fn registered(nhs: &str, sex: &str, decile: &str) -> PersonDetails {
    let form = PersonForm {
        nhs_number: nhs.into(),
        given_name: "Amira".into(),
        family_name: "Nowak".into(),
        dob_day: "7".into(),
        dob_month: "3".into(),
        dob_year: "1958".into(),
        sex: sex.into(),
        conditions: vec!["copd".into()],
        deprivation_decile: decile.into(),
        ..Default::default()
    };
    PersonDetails::parse(&form, time::macros::date!(2026 - 11 - 22)).unwrap()
}
