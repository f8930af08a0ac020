//! Synthetic people: deterministic, made-up records for the demo organisation (`alongside
//! demo`) and for the load generator's scenario data (`alongside-loadgen`), shared here so that
//! neither copies the other.
//!
//! Nothing here is real. NHS numbers are drawn from the 999 range reserved for testing,
//! telephone numbers from Ofcom's drama ranges, email addresses from example.com, and names
//! are combined at random from common first and last names. Pure: no I/O.

use alongside_core::person::{PersonDetails, Sex};
use alongside_core::NhsNumber;
use rand::Rng;

/// The demo organisation's name.
pub const DEMO_ORG: &str = "Riverside Primary Care Network (demo)";

const GIVEN_F: &[&str] = &[
    "Olivia",
    "Amelia",
    "Margaret",
    "Susan",
    "Fatima",
    "Aisha",
    "Joan",
    "Patricia",
    "Chloe",
    "Grace",
    "Priya",
    "Zofia",
    "Siobhan",
    "Mary",
    "Linda",
    "Amira",
    "Eleanor",
    "Nia",
    "Hannah",
    "Yasmin",
    "Agnieszka",
    "Ngozi",
    "Mei",
    "Rosa",
];
const GIVEN_M: &[&str] = &[
    "Oliver", "George", "David", "John", "Mohammed", "Ibrahim", "Peter", "Michael", "Harry",
    "Arjun", "Tomasz", "Kwame", "Sean", "Robert", "William", "Ali", "Gareth", "Daniel", "Jamal",
    "Wei", "Luca", "Emeka", "Stephen", "Brian",
];
const FAMILY: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Khan", "Ahmed", "Hussain", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Nowak",
    "Kowalski", "Okafor", "Mensah", "O'Brien", "Murphy", "Singh", "Kaur", "Chen", "Wong", "Rossi",
    "Hughes", "Edwards", "Green", "Hall", "Clarke", "Lewis", "Begum", "Ali", "Campbell", "Morgan",
    "Price", "Bennett",
];
const WHAT_MATTERS: &[&str] = &[
    "Being able to walk my dog to the park again.",
    "Playing with my grandchildren without getting out of breath.",
    "Getting back to my allotment.",
    "Going to the mosque on Fridays without worrying about my breathing.",
    "Understanding my medicines so I feel less anxious.",
    "Sleeping through the night.",
    "Getting back to work part-time.",
    "Cooking proper meals again.",
    "Feeling less alone in the evenings.",
    "Being well enough for my daughter's wedding in the summer.",
    "Swimming once a week.",
    "Keeping my independence and staying in my own home.",
];
const PRACTICES: &[&str] = &[
    "Riverside Surgery",
    "Millbrook Medical Centre",
    "Canal Street Practice",
    "Northgate Health Centre",
];
const LANGS: &[(&str, u32)] = &[
    ("en", 80),
    ("pl", 4),
    ("ur", 4),
    ("pa", 3),
    ("bn", 3),
    ("gu", 2),
    ("ar", 2),
    ("ro", 1),
    ("so", 1),
];
/// (condition key, base prevalence % among people with long-term conditions, rises with age?)
const CONDITION_MIX: &[(&str, u32, bool)] = &[
    ("hypertension", 35, true),
    ("type2_diabetes", 24, true),
    ("depression", 20, false),
    ("anxiety", 14, false),
    ("asthma", 14, false),
    ("copd", 11, true),
    ("osteoarthritis", 15, true),
    ("chronic_pain", 14, false),
    ("coronary_heart_disease", 9, true),
    ("atrial_fibrillation", 6, true),
    ("heart_failure", 5, true),
    ("chronic_kidney_disease", 7, true),
    ("long_covid", 2, false),
];

fn pick<'a, T>(rng: &mut impl Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

/// A synthetic person, deterministic for the generator's state.
pub fn synthetic_person(rng: &mut impl Rng, index: usize, today: time::Date) -> PersonDetails {
    let female = rng.gen_bool(0.53);
    let given = if female {
        pick(rng, GIVEN_F)
    } else {
        pick(rng, GIVEN_M)
    };
    let family = pick(rng, FAMILY);
    // Ages 18–95, weighted towards older people, as long-term conditions are.
    let age = {
        let u: f64 = rng.gen();
        (18.0 + 77.0 * u.powf(0.7)) as i32
    };
    let dob = today.replace_year(today.year() - age).unwrap_or(today)
        - time::Duration::days(rng.gen_range(0..365));
    let mut conditions: Vec<String> = Vec::new();
    for (key, pct, ageing) in CONDITION_MIX {
        let p = f64::from(*pct) / 100.0
            * if *ageing {
                0.4 + f64::from(age) / 60.0
            } else {
                1.0
            };
        if rng.gen_bool(p.min(0.9)) {
            conditions.push((*key).to_string());
        }
    }
    if conditions.is_empty() {
        conditions.push(
            CONDITION_MIX[rng.gen_range(0..CONDITION_MIX.len())]
                .0
                .to_string(),
        );
    }
    conditions.sort();
    // Unique by construction: person i takes the first valid number in its own block of ten.
    let nhs = (0..10u32).find_map(|k| {
        let v = (index as u32 % 100_000) * 10 + k;
        let mut nine = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
        for (pos, d) in nine.iter_mut().skip(3).enumerate() {
            *d = ((v / 10u32.pow(5 - pos as u32)) % 10) as u8;
        }
        NhsNumber::from_nine_digits(&nine)
    });
    let has_phone = rng.gen_bool(0.85);
    let has_email = rng.gen_bool(0.5);
    let lang = {
        let total: u32 = LANGS.iter().map(|(_, w)| w).sum();
        let mut r = rng.gen_range(0..total);
        LANGS
            .iter()
            .find(|(_, w)| {
                if r < *w {
                    true
                } else {
                    r -= w;
                    false
                }
            })
            .map(|(l, _)| *l)
            .unwrap_or("en")
    };
    // Deprivation skewed towards the more deprived deciles, as in many urban networks.
    let decile = (1.0 + 10.0 * rng.gen::<f64>().powf(1.3)).min(10.0) as u8;
    PersonDetails {
        nhs_number: if rng.gen_bool(0.92) { nhs } else { None },
        given_name: given.to_string(),
        family_name: family.to_string(),
        date_of_birth: dob,
        sex: if female { Sex::Female } else { Sex::Male },
        postcode: Some(format!(
            "RV{} {}{}{}",
            rng.gen_range(1..20),
            rng.gen_range(1..10),
            (b'A' + rng.gen_range(0..26)) as char,
            (b'A' + rng.gen_range(0..26)) as char
        )),
        email: has_email.then(|| {
            format!(
                "{}.{}{}@example.com",
                given.to_lowercase(),
                family.to_lowercase().replace('\'', ""),
                index
            )
        }),
        phone: has_phone.then(|| format!("07700 900{:03}", rng.gen_range(0..1000))),
        consent_phone: has_phone && rng.gen_bool(0.8),
        consent_sms: has_phone && rng.gen_bool(0.6),
        consent_email: has_email && rng.gen_bool(0.7),
        consent_post: rng.gen_bool(0.5),
        preferred_language: lang.to_string(),
        interpreter_needed: lang != "en" && rng.gen_bool(0.4),
        communication_needs: rng.gen_bool(0.08).then(|| {
            pick(
                rng,
                &[
                    "Large print, please",
                    "Hard of hearing: face me when speaking",
                    "Easy read information",
                    "British Sign Language interpreter",
                ],
            )
            .to_string()
        }),
        what_matters: rng
            .gen_bool(0.7)
            .then(|| pick(rng, WHAT_MATTERS).to_string()),
        deprivation_decile: Some(decile.clamp(1, 10)),
        gp_practice: Some(pick(rng, PRACTICES).to_string()),
        conditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn synthetic_people_are_valid_and_deterministic() {
        let today = time::macros::date!(2026 - 11 - 22);
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for i in 0..500 {
            let p = synthetic_person(&mut a, i, today);
            assert_eq!(p, synthetic_person(&mut b, i, today));
            // Every generated record passes the same validation as the registration form.
            let again =
                PersonDetails::parse(&alongside_core::person::PersonForm::from_details(&p), today)
                    .unwrap_or_else(|e| panic!("{e}: {p:?}"));
            assert_eq!(again, p);
            assert!(!p.conditions.is_empty());
            if let Some(n) = &p.nhs_number {
                assert!(seen.insert(n.clone()), "NHS numbers are unique");
            }
            if let Some(n) = &p.nhs_number {
                assert!(
                    n.as_str().starts_with("999"),
                    "demo NHS numbers are in the test range"
                );
            }
        }
    }
}
