//! The long-term conditions list and its code map.
//!
//! Each condition has a stable local key (stored with the person) and, where the project is
//! certain of it, the SNOMED CT concept id. Codes are never invented: a condition whose code we
//! are not sure of carries `None`, and an organisation can complete the map (see
//! `docs/code-map.md`). The keys, not the codes, are what the database stores, so completing the
//! map never needs a data migration.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    pub key: &'static str,
    pub label: &'static str,
    /// SNOMED CT (UK edition) concept id, when known for certain.
    pub snomed: Option<&'static str>,
}

pub const CONDITIONS: &[Condition] = &[
    Condition {
        key: "asthma",
        label: "Asthma",
        snomed: Some("195967001"),
    },
    Condition {
        key: "copd",
        label: "Chronic obstructive pulmonary disease (COPD)",
        snomed: Some("13645005"),
    },
    Condition {
        key: "type2_diabetes",
        label: "Type 2 diabetes",
        snomed: Some("44054006"),
    },
    Condition {
        key: "heart_failure",
        label: "Heart failure",
        snomed: Some("84114007"),
    },
    Condition {
        key: "coronary_heart_disease",
        label: "Coronary heart disease",
        snomed: Some("414545008"),
    },
    Condition {
        key: "atrial_fibrillation",
        label: "Atrial fibrillation",
        snomed: Some("49436004"),
    },
    Condition {
        key: "hypertension",
        label: "High blood pressure (hypertension)",
        snomed: Some("38341003"),
    },
    Condition {
        key: "chronic_kidney_disease",
        label: "Chronic kidney disease",
        snomed: Some("709044004"),
    },
    Condition {
        key: "depression",
        label: "Depression",
        snomed: Some("35489007"),
    },
    Condition {
        key: "anxiety",
        label: "Anxiety",
        snomed: Some("197480006"),
    },
    Condition {
        key: "chronic_pain",
        label: "Chronic pain",
        snomed: Some("82423001"),
    },
    Condition {
        key: "osteoarthritis",
        label: "Osteoarthritis",
        snomed: Some("396275006"),
    },
    Condition {
        key: "long_covid",
        label: "Long COVID",
        snomed: None,
    },
    Condition {
        key: "other",
        label: "Another long-term condition",
        snomed: None,
    },
];

pub fn by_key(key: &str) -> Option<&'static Condition> {
    CONDITIONS.iter().find(|c| c.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_codes_are_digits() {
        let mut keys: Vec<_> = CONDITIONS.iter().map(|c| c.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), CONDITIONS.len());
        for c in CONDITIONS {
            if let Some(code) = c.snomed {
                assert!(code.chars().all(|ch| ch.is_ascii_digit()), "{code}");
                assert!(
                    (6..=18).contains(&code.len()),
                    "SNOMED ids are 6 to 18 digits: {code}"
                );
            }
        }
        assert_eq!(by_key("copd").unwrap().snomed, Some("13645005"));
        assert!(by_key("flu").is_none());
    }
}
