//! Tailored next steps: rules held as data that map a person's activation level (and their
//! conditions) to what is recommended, each with a reason for staff and plain words for the
//! person. Rules are evaluated here, purely; where they are stored is the store's business.

use serde::{Deserialize, Serialize};

/// One rule: when it applies, and what it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, e.g. `coaching-low-activation`.
    pub id: String,
    /// What is offered: `health_coaching`, `self_management_education`, `peer_support`,
    /// `peer_leader`, or any service name the organisation uses.
    pub offer: String,
    /// Short title shown to staff and the person, e.g. "Health coaching".
    pub title: String,
    /// Activation levels the rule applies to (1–4).
    pub levels: Vec<u8>,
    /// If not empty, the person must have at least one of these conditions (keys).
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Why, for staff.
    pub staff_reason: String,
    /// Why, in plain words for the person.
    pub person_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub rules: Vec<Rule>,
}

/// The project's default rules, from the tailoring in the supported self-management model:
/// coaching for levels 1–2, education for 2–3, peer support for everyone, and an invitation
/// to become a peer leader at level 4.
pub const DEFAULT_RULES_JSON: &str = include_str!("../data/recommendation-rules.json");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    pub path: String,
    pub message: String,
}

impl Rules {
    pub fn default_rules() -> Rules {
        Rules::parse(DEFAULT_RULES_JSON).expect("the shipped recommendation rules are valid")
    }

    /// Parses and checks rules, naming the field of the first problem.
    pub fn parse(json: &str) -> Result<Rules, RuleError> {
        let rules: Rules = serde_json::from_str(json).map_err(|e| RuleError {
            path: format!("line {} column {}", e.line(), e.column()),
            message: e.to_string(),
        })?;
        let mut ids = std::collections::HashSet::new();
        for (i, r) in rules.rules.iter().enumerate() {
            let at = |f: &str| format!("rules[{i}].{f}");
            if r.id.trim().is_empty() {
                return Err(RuleError {
                    path: at("id"),
                    message: "must not be empty".into(),
                });
            }
            if !ids.insert(r.id.clone()) {
                return Err(RuleError {
                    path: at("id"),
                    message: format!("duplicate rule id {:?}", r.id),
                });
            }
            if r.levels.is_empty() || r.levels.iter().any(|l| !(1..=4).contains(l)) {
                return Err(RuleError {
                    path: at("levels"),
                    message: "must list levels from 1 to 4".into(),
                });
            }
            for (j, c) in r.conditions.iter().enumerate() {
                if crate::conditions::by_key(c).is_none() {
                    return Err(RuleError {
                        path: at(&format!("conditions[{j}]")),
                        message: format!("unknown condition {c:?}"),
                    });
                }
            }
            if r.title.trim().is_empty()
                || r.person_text.trim().is_empty()
                || r.staff_reason.trim().is_empty()
            {
                return Err(RuleError {
                    path: at("title"),
                    message: "title, staff_reason and person_text must not be empty".into(),
                });
            }
        }
        Ok(rules)
    }

    /// The rules that apply to a person at `level` with `conditions`, in rule order.
    pub fn recommend<'a>(&'a self, level: u8, conditions: &[String]) -> Vec<&'a Rule> {
        self.rules
            .iter()
            .filter(|r| r.levels.contains(&level))
            .filter(|r| {
                r.conditions.is_empty() || r.conditions.iter().any(|c| conditions.contains(c))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_follow_the_model() {
        let rules = Rules::default_rules();
        let offers = |level: u8| {
            rules
                .recommend(level, &[])
                .iter()
                .map(|r| r.offer.as_str())
                .collect::<Vec<_>>()
        };
        assert!(offers(1).contains(&"health_coaching"));
        assert!(offers(2).contains(&"health_coaching"));
        assert!(!offers(3).contains(&"health_coaching"));
        assert!(offers(2).contains(&"self_management_education"));
        assert!(offers(3).contains(&"self_management_education"));
        assert!(!offers(1).contains(&"self_management_education"));
        for l in 1..=4 {
            assert!(
                offers(l).contains(&"peer_support"),
                "peer support for everyone, level {l}"
            );
        }
        assert!(offers(4).contains(&"peer_leader"));
        assert!(!offers(3).contains(&"peer_leader"));
        // Condition-specific rules apply only to people with the condition.
        let copd = rules.recommend(2, &["copd".to_string()]).len();
        assert!(copd > rules.recommend(2, &[]).len());
    }

    #[test]
    fn bad_rules_are_rejected_with_the_field() {
        let e = Rules::parse(r#"{"rules":[{"id":"a","offer":"x","title":"X","levels":[5],"staff_reason":"s","person_text":"p"}]}"#).unwrap_err();
        assert_eq!(e.path, "rules[0].levels");
        let e = Rules::parse(r#"{"rules":[{"id":"a","offer":"x","title":"X","levels":[1],"conditions":["flu"],"staff_reason":"s","person_text":"p"}]}"#).unwrap_err();
        assert_eq!(e.path, "rules[0].conditions[0]");
        let e = Rules::parse(r#"{"rules":[{"id":"a","offer":"x","title":"X","levels":[1],"staff_reason":"s","person_text":"p"},{"id":"a","offer":"x","title":"X","levels":[1],"staff_reason":"s","person_text":"p"}]}"#).unwrap_err();
        assert_eq!(e.path, "rules[1].id");
        assert!(Rules::parse("{").is_err());
    }
}
