//! The instrument definitions shipped in the repository's `instruments/` folder, embedded at
//! build time so the CLI and web layers can offer them without file access.
//!
//! Only openly licensed or project-written instruments may appear here; never the Patient
//! Activation Measure or any other proprietary instrument (licensees load their own files).

use crate::Instrument;

/// Alongside demonstration activation instrument — NOT VALIDATED, illustrative calibrations only.
pub const DEMO_ACTIVATION_JSON: &str =
    include_str!("../../../instruments/alongside-demo-activation.json");

/// Self-Efficacy for Managing Chronic Disease 6-Item Scale (free to use without permission).
pub const SEMCD6_JSON: &str = include_str!("../../../instruments/semcd-6.json");

/// Every shipped definition, as (id, JSON).
pub const ALL: [(&str, &str); 2] = [
    ("alongside-demo-activation", DEMO_ACTIVATION_JSON),
    ("semcd-6", SEMCD6_JSON),
];

/// Load every shipped instrument.
pub fn load_all() -> Vec<Instrument> {
    ALL.iter()
        .map(|(_, json)| Instrument::from_json_str(json).expect("shipped instruments are valid"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_ids_match_their_files() {
        let all = load_all();
        assert_eq!(all.len(), ALL.len());
        for ((id, _), ins) in ALL.iter().zip(&all) {
            assert_eq!(ins.id(), *id);
        }
    }
}
