//! The forms the scenarios post, built like a person filling them in would: valid, unique
//! registrations (NHS numbers from the 999 test range) and completed questionnaires.

use rand::Rng;

/// The instrument the questionnaire scenario records: the shipped demonstration instrument.
pub(crate) const DEMO_INSTRUMENT_WORD: &str = "demonstration";
/// Its items' link ids are `demo-01` … `demo-13`.
pub(crate) const DEMO_ITEMS: usize = 13;
/// Its answer codes.
pub(crate) const DEMO_CODES: &[&str] = &["1", "2", "3", "4", "na"];
/// The paper/phone modes staff may record.
pub(crate) const RECORD_MODES: &[&str] = &["paper", "in_person", "telephone"];
/// How many people to register when the organisation has none, for the questionnaire scenario.
pub(crate) const PEOPLE_TO_REGISTER: u64 = 20;

/// A completed paper/phone entry of the demonstration instrument with random answers to all
/// items.
pub(crate) fn questionnaire_form(
    rng: &mut impl Rng,
    instrument: &str,
    csrf_token: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("csrf_token".to_string(), csrf_token.to_string()),
        ("instrument".to_string(), instrument.to_string()),
        (
            "mode".to_string(),
            RECORD_MODES[rng.gen_range(0..RECORD_MODES.len())].to_string(),
        ),
    ];
    for i in 1..=DEMO_ITEMS {
        form.push((
            format!("item-demo-{i:02}"),
            DEMO_CODES[rng.gen_range(0..DEMO_CODES.len())].to_string(),
        ));
    }
    form
}

/// Letters only (names may not contain digits): `n` written in base 26, at least `width` long.
pub(crate) fn letters(mut n: u64, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 || out.len() < width {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

pub(crate) const GIVEN: &[&str] = &[
    "Amira",
    "Bethan",
    "Chidi",
    "Dafydd",
    "Eilidh",
    "Farah",
    "Gareth",
    "Harpreet",
    "Ioana",
    "Jamal",
    "Kerry",
    "Liam",
    "Mei",
    "Niamh",
    "Oluwaseun",
    "Priya",
];
pub(crate) const CONDITIONS: &[&str] = &["copd", "type2_diabetes", "asthma", "hypertension"];

/// A valid register-person form, unique to (`run_tag`, `n`). NHS numbers are in the 999 range
/// set aside for testing, and left blank when the nine digits have no valid check digit.
pub(crate) fn person_form(
    n: u64,
    run_tag: u64,
    nhs_base: u64,
    csrf_token: &str,
) -> Vec<(&'static str, String)> {
    let given = GIVEN[(n % GIVEN.len() as u64) as usize];
    let family = format!(
        "Loadtest {}",
        capitalise(&letters(run_tag * 1_000_000_007 + n, 8))
    );
    let six = (nhs_base + n) % 1_000_000;
    let nhs = nhs_number(999_000_000 + six).unwrap_or_default();
    let mut form = vec![
        ("csrf_token", csrf_token.to_string()),
        ("given_name", given.to_string()),
        ("family_name", family),
        ("nhs_number", nhs),
        ("dob_day", (1 + n % 28).to_string()),
        ("dob_month", (1 + n % 12).to_string()),
        ("dob_year", (1940 + n % 60).to_string()),
        (
            "sex",
            ["female", "male", "other", "unknown"][(n % 4) as usize].to_string(),
        ),
        ("postcode", "LS1 4AP".to_string()),
        ("email", format!("person{n}@example.com")),
        ("phone", "07700 900982".to_string()),
        ("consent_phone", "yes".to_string()),
        ("consent_email", "yes".to_string()),
        ("preferred_language", "en".to_string()),
        ("conditions", CONDITIONS[(n % 4) as usize].to_string()),
        (
            "what_matters",
            "Walking to the shops without getting out of breath.".to_string(),
        ),
    ];
    if n.is_multiple_of(3) {
        form.push(("conditions", "depression".to_string()));
    }
    form
}

pub(crate) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Ten-digit NHS number for nine leading digits, or `None` when no check digit is valid.
pub(crate) fn nhs_number(nine: u64) -> Option<String> {
    let digits: Vec<u32> = format!("{nine:09}")
        .chars()
        .map(|c| c.to_digit(10).unwrap_or(0))
        .collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        d => d,
    };
    Some(format!("{nine:09}{check}"))
}
#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    pub(crate) fn generated_nhs_numbers_have_valid_check_digits() {
        // 943 476 5919 is the well-known valid example.
        assert_eq!(nhs_number(943_476_591).as_deref(), Some("9434765919"));
        let mut valid = 0;
        for nine in 999_000_000..999_000_200u64 {
            if let Some(n) = nhs_number(nine) {
                valid += 1;
                assert!(n.starts_with("999") && n.len() == 10);
                let core = alongside_core::nhs_number::NhsNumber::parse(&n);
                assert!(core.is_ok(), "{n} rejected by core: {core:?}");
            }
        }
        assert!(valid > 150, "{valid}");
    }

    #[test]
    pub(crate) fn forms_are_unique_and_valid() {
        let today = time::macros::date!(2026 - 12 - 03);
        let mut names = std::collections::HashSet::new();
        for n in 0..500 {
            let form = person_form(n, 7, 0, "t");
            let get = |k: &str| {
                form.iter()
                    .filter(|(f, _)| *f == k)
                    .map(|(_, v)| v.clone())
                    .collect::<Vec<_>>()
            };
            let one = |k: &str| get(k).into_iter().next().unwrap_or_default();
            let parsed = alongside_core::person::PersonForm {
                nhs_number: one("nhs_number"),
                given_name: one("given_name"),
                family_name: one("family_name"),
                dob_day: one("dob_day"),
                dob_month: one("dob_month"),
                dob_year: one("dob_year"),
                sex: one("sex"),
                postcode: one("postcode"),
                email: one("email"),
                phone: one("phone"),
                consent_phone: Some(one("consent_phone")),
                consent_email: Some(one("consent_email")),
                preferred_language: one("preferred_language"),
                conditions: get("conditions"),
                what_matters: one("what_matters"),
                ..Default::default()
            };
            let details = alongside_core::person::PersonDetails::parse(&parsed, today);
            assert!(details.is_ok(), "form {n} invalid: {details:?}");
            assert!(names.insert(format!("{} {}", one("given_name"), one("family_name"))));
        }
    }

    #[test]
    pub(crate) fn questionnaire_forms_answer_every_item_with_valid_codes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut modes = std::collections::HashSet::new();
        let mut codes = std::collections::HashSet::new();
        for _ in 0..200 {
            let form = questionnaire_form(&mut rng, "ins-id", "tok");
            let get = |k: &str| {
                form.iter()
                    .find(|(f, _)| f == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            assert_eq!(get("csrf_token"), "tok");
            assert_eq!(get("instrument"), "ins-id");
            assert!(RECORD_MODES.contains(&get("mode").as_str()));
            modes.insert(get("mode"));
            let items: Vec<_> = form
                .iter()
                .filter(|(f, _)| f.starts_with("item-"))
                .collect();
            assert_eq!(items.len(), 13);
            for (i, (field, code)) in items.iter().enumerate() {
                assert_eq!(*field, format!("item-demo-{:02}", i + 1));
                assert!(DEMO_CODES.contains(&code.as_str()), "{code}");
                codes.insert(code.clone());
            }
        }
        assert_eq!(modes.len(), 3);
        assert_eq!(codes.len(), 5);
    }

    #[test]
    pub(crate) fn the_demo_instrument_matches_what_the_form_sends() {
        let json = include_str!("../../../instruments/alongside-demo-activation.json");
        let ins = alongside_measure::Instrument::from_json_str(json).expect("demo instrument");
        assert!(ins.title("en").contains(DEMO_INSTRUMENT_WORD));
        assert_eq!(ins.items().len(), DEMO_ITEMS);
        for (i, item) in ins.items().iter().enumerate() {
            assert_eq!(item.link_id, format!("demo-{:02}", i + 1));
            let codes: Vec<&str> = item.options.iter().map(|o| o.code.as_str()).collect();
            assert_eq!(codes, DEMO_CODES);
        }
    }
}
