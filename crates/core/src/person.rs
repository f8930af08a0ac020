//! A person's record and the rules that decide whether submitted details are acceptable.
//!
//! [`PersonForm`] is what arrives from a form or an API, all strings; [`PersonDetails::parse`]
//! turns it into validated details or a list of field errors written for the person typing.
//! Nothing here touches storage.

use crate::conditions;
use crate::nhs_number::NhsNumber;
use crate::validation::{clean_text, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    pub const ALL: [Sex; 4] = [Sex::Female, Sex::Male, Sex::Other, Sex::Unknown];
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Sex::Female => "Female",
            Sex::Male => "Male",
            Sex::Other => "Other",
            Sex::Unknown => "Not known",
        }
    }
    pub fn parse(s: &str) -> Option<Sex> {
        Sex::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// Languages offered in the preferred-language list (ISO 639-1 codes). Others can be typed.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("cy", "Welsh"),
    ("pl", "Polish"),
    ("ur", "Urdu"),
    ("pa", "Punjabi"),
    ("bn", "Bengali"),
    ("gu", "Gujarati"),
    ("ar", "Arabic"),
    ("ro", "Romanian"),
    ("pt", "Portuguese"),
    ("es", "Spanish"),
    ("so", "Somali"),
    ("zh", "Chinese"),
    ("sgn", "British Sign Language"),
];

pub fn language_label(code: &str) -> &str {
    LANGUAGES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or(code)
}

/// Validated details of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    pub nhs_number: Option<NhsNumber>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Date,
    pub sex: Sex,
    pub postcode: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub consent_phone: bool,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_post: bool,
    pub preferred_language: String,
    pub interpreter_needed: bool,
    pub communication_needs: Option<String>,
    pub conditions: Vec<String>,
    pub what_matters: Option<String>,
    pub deprivation_decile: Option<u8>,
    pub gp_practice: Option<String>,
}

/// The raw form. Checkbox fields are `Some(_)` when ticked.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PersonForm {
    pub nhs_number: String,
    pub given_name: String,
    pub family_name: String,
    pub dob_day: String,
    pub dob_month: String,
    pub dob_year: String,
    pub sex: String,
    pub postcode: String,
    pub email: String,
    pub phone: String,
    pub consent_phone: Option<String>,
    pub consent_sms: Option<String>,
    pub consent_email: Option<String>,
    pub consent_post: Option<String>,
    pub preferred_language: String,
    pub interpreter_needed: Option<String>,
    pub communication_needs: String,
    /// Condition keys, one per ticked checkbox.
    pub conditions: Vec<String>,
    pub what_matters: String,
    pub deprivation_decile: String,
    pub gp_practice: String,
}

impl PersonForm {
    /// The form filled from existing details, for editing.
    pub fn from_details(d: &PersonDetails) -> Self {
        let tick = |b: bool| b.then(|| "yes".to_string());
        PersonForm {
            nhs_number: d
                .nhs_number
                .as_ref()
                .map(|n| n.formatted())
                .unwrap_or_default(),
            given_name: d.given_name.clone(),
            family_name: d.family_name.clone(),
            dob_day: d.date_of_birth.day().to_string(),
            dob_month: (d.date_of_birth.month() as u8).to_string(),
            dob_year: d.date_of_birth.year().to_string(),
            sex: d.sex.code().to_string(),
            postcode: d.postcode.clone().unwrap_or_default(),
            email: d.email.clone().unwrap_or_default(),
            phone: d.phone.clone().unwrap_or_default(),
            consent_phone: tick(d.consent_phone),
            consent_sms: tick(d.consent_sms),
            consent_email: tick(d.consent_email),
            consent_post: tick(d.consent_post),
            preferred_language: d.preferred_language.clone(),
            interpreter_needed: tick(d.interpreter_needed),
            communication_needs: d.communication_needs.clone().unwrap_or_default(),
            conditions: d.conditions.clone(),
            what_matters: d.what_matters.clone().unwrap_or_default(),
            deprivation_decile: d
                .deprivation_decile
                .map(|x| x.to_string())
                .unwrap_or_default(),
            gp_practice: d.gp_practice.clone().unwrap_or_default(),
        }
    }
}

/// Longest accepted lengths, in characters.
pub const MAX_NAME: usize = 100;
pub const MAX_FREE_TEXT: usize = 2000;

impl PersonDetails {
    /// Validates a form against today's date. Returns every problem at once.
    pub fn parse(form: &PersonForm, today: Date) -> Result<PersonDetails, ValidationErrors> {
        let mut e = ValidationErrors::default();

        let nhs_number = match form.nhs_number.trim() {
            "" => None,
            s => match NhsNumber::parse(s) {
                Ok(n) => Some(n),
                Err(err) => {
                    e.add("nhs_number", err.to_string());
                    None
                }
            },
        };
        let given_name = clean_name(&mut e, "given_name", "first name", &form.given_name);
        let family_name = clean_name(&mut e, "family_name", "last name", &form.family_name);
        let date_of_birth = parse_dob(&mut e, form, today);
        let sex = match Sex::parse(form.sex.trim()) {
            Some(s) => Some(s),
            None => {
                e.add("sex", "Select the person's sex");
                None
            }
        };
        let postcode = match form.postcode.trim() {
            "" => None,
            s => match normalise_postcode(s) {
                Some(p) => Some(p),
                None => {
                    e.add("postcode", "Enter a real UK postcode, like LS1 4AP");
                    None
                }
            },
        };
        let email = match form.email.trim() {
            "" => None,
            s if is_plausible_email(s) => Some(s.to_string()),
            _ => {
                e.add(
                    "email",
                    "Enter an email address in the correct format, like name@example.com",
                );
                None
            }
        };
        let phone = match form.phone.trim() {
            "" => None,
            s => match normalise_phone(s) {
                Some(p) => Some(p),
                None => {
                    e.add(
                        "phone",
                        "Enter a UK telephone number, like 01632 960 001 or 07700 900 982",
                    );
                    None
                }
            },
        };
        let consent_phone = form.consent_phone.is_some();
        let consent_sms = form.consent_sms.is_some();
        let consent_email = form.consent_email.is_some();
        let consent_post = form.consent_post.is_some();
        if (consent_phone || consent_sms) && phone.is_none() && e.for_field("phone").is_none() {
            e.add(
                "phone",
                "Enter a telephone number, or untick consent to contact by phone or text message",
            );
        }
        if consent_email && email.is_none() && e.for_field("email").is_none() {
            e.add(
                "email",
                "Enter an email address, or untick consent to contact by email",
            );
        }
        if consent_post && postcode.is_none() && e.for_field("postcode").is_none() {
            e.add(
                "postcode",
                "Enter a postcode, or untick consent to contact by post",
            );
        }
        let preferred_language = match form.preferred_language.trim() {
            "" => "en".to_string(),
            s if s.len() <= 8 && s.chars().all(|c| c.is_ascii_alphabetic() || c == '-') => {
                s.to_ascii_lowercase()
            }
            _ => {
                e.add("preferred_language", "Select a language from the list");
                "en".to_string()
            }
        };
        let communication_needs = clean_text(
            &mut e,
            "communication_needs",
            "communication and accessibility needs",
            &form.communication_needs,
            MAX_FREE_TEXT,
            false,
        );
        let mut conditions = Vec::new();
        for c in &form.conditions {
            if conditions::by_key(c).is_none() {
                e.add("conditions", "Select conditions from the list");
                break;
            }
            if !conditions.contains(c) {
                conditions.push(c.clone());
            }
        }
        let what_matters = clean_text(
            &mut e,
            "what_matters",
            "what matters to the person",
            &form.what_matters,
            MAX_FREE_TEXT,
            false,
        );
        let deprivation_decile = match form.deprivation_decile.trim() {
            "" => None,
            s => match s.parse::<u8>() {
                Ok(d @ 1..=10) => Some(d),
                _ => {
                    e.add(
                        "deprivation_decile",
                        "Deprivation decile must be a whole number from 1 to 10",
                    );
                    None
                }
            },
        };
        let gp_practice = clean_text(
            &mut e,
            "gp_practice",
            "GP practice",
            &form.gp_practice,
            MAX_NAME,
            false,
        );

        if !e.is_empty() {
            return Err(e);
        }
        Ok(PersonDetails {
            nhs_number,
            given_name: given_name.unwrap_or_default(),
            family_name: family_name.unwrap_or_default(),
            date_of_birth: date_of_birth.expect("no errors means a date"),
            sex: sex.expect("no errors means a sex"),
            postcode,
            email,
            phone,
            consent_phone,
            consent_sms,
            consent_email,
            consent_post,
            preferred_language,
            interpreter_needed: form.interpreter_needed.is_some(),
            communication_needs,
            conditions,
            what_matters,
            deprivation_decile,
            gp_practice,
        })
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

fn clean_name(e: &mut ValidationErrors, field: &str, label: &str, value: &str) -> Option<String> {
    crate::validation::clean_name(e, field, label, value, MAX_NAME)
}

fn parse_dob(e: &mut ValidationErrors, form: &PersonForm, today: Date) -> Option<Date> {
    use crate::dates::{parse_date_parts, DateProblem};
    let date = match parse_date_parts(&form.dob_day, &form.dob_month, &form.dob_year) {
        Ok(d) => d,
        Err(p) => {
            let (field, message) = match p {
                DateProblem::Missing => ("dob_day".to_string(), "Enter date of birth".to_string()),
                // The first box that is not a number (empty boxes included).
                DateProblem::Incomplete { .. } | DateProblem::NotANumber(_) => {
                    let field = if form.dob_day.trim().parse::<u8>().is_err() {
                        "dob_day"
                    } else if form.dob_month.trim().parse::<u8>().is_err() {
                        "dob_month"
                    } else {
                        "dob_year"
                    };
                    (
                        field.to_string(),
                        "Date of birth must be a real date, like 27 3 1958".to_string(),
                    )
                }
                other => (other.part().field("dob"), other.message("Date of birth")),
            };
            e.add(&field, message);
            return None;
        }
    };
    if date > today {
        e.add("dob_day", "Date of birth must be today or in the past");
        return None;
    }
    if crate::time::age_on(date, today) > 125 {
        e.add(
            "dob_year",
            "Date of birth must be within the last 125 years",
        );
        return None;
    }
    Some(date)
}

/// Normalises a UK postcode to upper case with one space before the inward code, or `None`
/// if it does not have a UK postcode's shape (outward 2–4 characters, inward digit + 2 letters).
pub fn normalise_postcode(s: &str) -> Option<String> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let n = compact.len();
    if !(5..=7).contains(&n) || !compact.is_ascii() {
        return None;
    }
    let (outward, inward) = compact.split_at(n - 3);
    let ib = inward.as_bytes();
    let ob = outward.as_bytes();
    let inward_ok =
        ib[0].is_ascii_digit() && ib[1].is_ascii_alphabetic() && ib[2].is_ascii_alphabetic();
    let outward_ok = ob[0].is_ascii_alphabetic()
        && ob.iter().all(|b| b.is_ascii_alphanumeric())
        && ob.iter().any(|b| b.is_ascii_digit());
    (inward_ok && outward_ok).then(|| format!("{outward} {inward}"))
}

fn normalise_phone(s: &str) -> Option<String> {
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'))
    {
        return None;
    }
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let ok = (s.trim_start().starts_with('+') && (10..=15).contains(&digits.len()))
        || (digits.starts_with('0') && (10..=11).contains(&digits.len()));
    ok.then(|| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn is_plausible_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>') {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn valid() -> PersonForm {
        PersonForm {
            nhs_number: "943 476 5919".into(),
            given_name: "Amira".into(),
            family_name: "O'Neill-Śmigielska".into(),
            dob_day: "7".into(),
            dob_month: "3".into(),
            dob_year: "1958".into(),
            sex: "female".into(),
            postcode: "ls1 4ap".into(),
            preferred_language: "pl".into(),
            conditions: vec!["copd".into(), "copd".into(), "depression".into()],
            ..Default::default()
        }
    }

    const TODAY: Date = date!(2026 - 11 - 22);

    #[test]
    fn valid_form_parses_and_normalises() {
        let d = PersonDetails::parse(&valid(), TODAY).unwrap();
        assert_eq!(d.nhs_number.unwrap().as_str(), "9434765919");
        assert_eq!(d.postcode.as_deref(), Some("LS1 4AP"));
        assert_eq!(d.date_of_birth, date!(1958 - 03 - 07));
        assert_eq!(d.conditions, vec!["copd", "depression"]);
        assert_eq!(d.family_name, "O'Neill-Śmigielska");
    }

    fn field_error(f: PersonForm, field: &str) -> String {
        let e = PersonDetails::parse(&f, TODAY).unwrap_err();
        e.for_field(field)
            .unwrap_or_else(|| panic!("expected an error on {field}, got {e}"))
            .to_string()
    }

    #[test]
    fn each_bad_value_names_its_field() {
        assert!(field_error(
            PersonForm {
                nhs_number: "9434765918".into(),
                ..valid()
            },
            "nhs_number"
        )
        .contains("check digit"));
        assert!(field_error(
            PersonForm {
                given_name: "  ".into(),
                ..valid()
            },
            "given_name"
        )
        .contains("Enter first name"));
        assert!(field_error(
            PersonForm {
                given_name: "<script>alert(1)</script>".into(),
                ..valid()
            },
            "given_name"
        )
        .contains("letters"));
        assert!(field_error(
            PersonForm {
                family_name: "x".repeat(101),
                ..valid()
            },
            "family_name"
        )
        .contains("100 characters"));
        assert!(field_error(
            PersonForm {
                dob_year: "2027".into(),
                ..valid()
            },
            "dob_day"
        )
        .contains("past"));
        assert!(field_error(
            PersonForm {
                dob_day: "31".into(),
                dob_month: "2".into(),
                ..valid()
            },
            "dob_day"
        )
        .contains("real date"));
        assert!(field_error(
            PersonForm {
                dob_month: "13".into(),
                ..valid()
            },
            "dob_month"
        )
        .contains("month"));
        assert!(field_error(
            PersonForm {
                dob_year: "58".into(),
                ..valid()
            },
            "dob_year"
        )
        .contains("4 numbers"));
        assert!(field_error(
            PersonForm {
                sex: "".into(),
                ..valid()
            },
            "sex"
        )
        .contains("Select"));
        assert!(field_error(
            PersonForm {
                postcode: "'; DROP TABLE people;--".into(),
                ..valid()
            },
            "postcode"
        )
        .contains("postcode"));
        assert!(field_error(
            PersonForm {
                email: "not-an-email".into(),
                ..valid()
            },
            "email"
        )
        .contains("format"));
        assert!(field_error(
            PersonForm {
                consent_email: Some("yes".into()),
                ..valid()
            },
            "email"
        )
        .contains("untick"));
        assert!(field_error(
            PersonForm {
                phone: "call me".into(),
                ..valid()
            },
            "phone"
        )
        .contains("UK telephone"));
        assert!(field_error(
            PersonForm {
                conditions: vec!["flu".into()],
                ..valid()
            },
            "conditions"
        )
        .contains("list"));
        assert!(field_error(
            PersonForm {
                deprivation_decile: "11".into(),
                ..valid()
            },
            "deprivation_decile"
        )
        .contains("1 to 10"));
    }

    #[test]
    fn names_take_letters_of_any_script_and_nothing_else() {
        for ok in [
            "Zoë",
            "Łukasz-O'Brien",
            "Siân",
            "Nguyễn",
            "محمد",
            "李",
            "St. John",
            "O’Neill",
        ] {
            assert!(
                PersonDetails::parse(
                    &PersonForm {
                        family_name: ok.into(),
                        ..valid()
                    },
                    TODAY
                )
                .is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "'; DROP TABLE people;--",
            "Bob3",
            "a<b",
            "x\u{FFFD}y",
            "semi;colon",
        ] {
            assert!(
                PersonDetails::parse(
                    &PersonForm {
                        family_name: bad.into(),
                        ..valid()
                    },
                    TODAY
                )
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn all_errors_are_reported_at_once() {
        let e = PersonDetails::parse(&PersonForm::default(), TODAY).unwrap_err();
        for f in ["given_name", "family_name", "dob_day", "sex"] {
            assert!(e.for_field(f).is_some(), "missing error for {f}: {e}");
        }
    }

    #[test]
    fn form_round_trips_through_details() {
        let d = PersonDetails::parse(&valid(), TODAY).unwrap();
        let again = PersonDetails::parse(&PersonForm::from_details(&d), TODAY).unwrap();
        assert_eq!(d, again);
    }

    #[test]
    fn postcodes() {
        for (input, out) in [
            ("sw1a1aa", Some("SW1A 1AA")),
            ("M1 1AE", Some("M1 1AE")),
            ("B33 8TH", Some("B33 8TH")),
            ("CR2 6XH", Some("CR2 6XH")),
            ("12345", None),
            ("ABCDEFG", None),
            ("", None),
        ] {
            assert_eq!(normalise_postcode(input).as_deref(), out, "{input}");
        }
    }
}
