//! Outcomes, covariate coding and the design matrix of the adjusted models.
//!
//! One place defines how age, sex, deprivation, long-term conditions and activation level
//! become indicator columns, the exact term names, and the "cell" (distinct covariate pattern)
//! index used for exact aggregation. It must never read files or fit anything.

use serde::Serialize;

/// The seven outcomes reported, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// GP appointments attended (GP contacts).
    GpAppointment,
    /// Missed GP appointments (did not attend).
    GpDna,
    /// All A&E attendances.
    AeAttendance,
    /// Self-referred minor A&E attendances (`ae_attendance` rows with minor = true).
    AeMinor,
    /// Emergency (unplanned) admissions.
    EmergencyAdmission,
    /// Outpatient attendances.
    OutpatientAttendance,
    /// Missed outpatient appointments.
    OutpatientDna,
}

/// Number of outcomes.
pub const N_OUTCOMES: usize = 7;

impl Outcome {
    /// All outcomes in report order; `Outcome::ALL[i].index() == i`.
    pub const ALL: [Outcome; N_OUTCOMES] = [
        Outcome::GpAppointment,
        Outcome::GpDna,
        Outcome::AeAttendance,
        Outcome::AeMinor,
        Outcome::EmergencyAdmission,
        Outcome::OutpatientAttendance,
        Outcome::OutpatientDna,
    ];

    /// Position in [`Outcome::ALL`] and in `PeriodRecord::counts`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Machine name used in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::GpAppointment => "gp_appointment",
            Outcome::GpDna => "gp_dna",
            Outcome::AeAttendance => "ae_attendance",
            Outcome::AeMinor => "ae_minor",
            Outcome::EmergencyAdmission => "emergency_admission",
            Outcome::OutpatientAttendance => "outpatient_attendance",
            Outcome::OutpatientDna => "outpatient_dna",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::GpAppointment => "GP appointments",
            Outcome::GpDna => "Missed GP appointments",
            Outcome::AeAttendance => "A&E attendances",
            Outcome::AeMinor => "Self-referred minor A&E attendances",
            Outcome::EmergencyAdmission => "Emergency admissions",
            Outcome::OutpatientAttendance => "Outpatient attendances",
            Outcome::OutpatientDna => "Missed outpatient appointments",
        }
    }
}

/// Recorded sex, as in `people.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Reference category.
    Female,
    /// `sex_male` term.
    Male,
}

/// Why a covariate value cannot be coded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodingError {
    /// Age outside 18–120.
    #[error("age {0} outside 18–120 (adult service)")]
    Age(i64),
    /// Deprivation decile outside 1–10.
    #[error("deprivation_decile {0} outside 1–10")]
    Decile(i64),
    /// Long-term condition count below 1.
    #[error(
        "ltc_count {0} below 1 (the population is people with at least one long-term condition)"
    )]
    Ltc(i64),
    /// Activation level outside 1–4.
    #[error("activation_level {0} outside 1–4")]
    Level(i64),
}

/// Age band index: 0 = 18–39 (reference), 1 = 40–49, 2 = 50–59, 3 = 60–69, 4 = 70–79, 5 = 80+.
pub fn age_band(age: i64) -> Result<u8, CodingError> {
    match age {
        18..=39 => Ok(0),
        40..=49 => Ok(1),
        50..=59 => Ok(2),
        60..=69 => Ok(3),
        70..=79 => Ok(4),
        80..=120 => Ok(5),
        _ => Err(CodingError::Age(age)),
    }
}

/// Deprivation quintile = ceil(decile / 2): 1 = most deprived (reference) … 5 = least deprived.
pub fn deprivation_quintile(decile: i64) -> Result<u8, CodingError> {
    if (1..=10).contains(&decile) {
        Ok(((decile + 1) / 2) as u8)
    } else {
        Err(CodingError::Decile(decile))
    }
}

/// LTC group index: 0 = one condition (reference), 1 = two, 2 = three, 3 = four or more.
/// A count of 0 is rejected: the population is people living with long-term conditions.
pub fn ltc_group(ltc: i64) -> Result<u8, CodingError> {
    match ltc {
        1 => Ok(0),
        2 => Ok(1),
        3 => Ok(2),
        4.. => Ok(3),
        _ => Err(CodingError::Ltc(ltc)),
    }
}

/// Activation level 1–4.
pub fn activation_level(level: i64) -> Result<u8, CodingError> {
    if (1..=4).contains(&level) {
        Ok(level as u8)
    } else {
        Err(CodingError::Level(level))
    }
}

/// Number of regression terms (intercept included).
pub const N_TERMS: usize = 17;

/// Term names, in column order.
pub const TERM_NAMES: [&str; N_TERMS] = [
    "intercept",
    "level_2",
    "level_3",
    "level_4",
    "age_40_49",
    "age_50_59",
    "age_60_69",
    "age_70_79",
    "age_80plus",
    "sex_male",
    "deprivation_q2",
    "deprivation_q3",
    "deprivation_q4",
    "deprivation_q5",
    "ltc_2",
    "ltc_3",
    "ltc_4plus",
];

/// Human description of the covariate coding, for reports.
pub const COVARIATE_DESCRIPTION: [&str; 4] = [
    "age band at the start of the observation period: 18–39 (reference), 40–49, 50–59, 60–69, 70–79, 80+",
    "sex: female (reference), male",
    "deprivation quintile = ceil(IMD decile / 2): 1 most deprived (reference) to 5 least deprived",
    "number of long-term conditions: 1 (reference), 2, 3, 4 or more",
];

/// Number of distinct covariate patterns (4 levels × 6 ages × 2 sexes × 5 quintiles × 4 LTC groups).
pub const N_CELLS: usize = 4 * 6 * 2 * 5 * 4;

/// A fully coded covariate pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Covariates {
    /// Activation level 1–4.
    pub level: u8,
    /// Age band index 0–5 (see [`age_band`]).
    pub age_band: u8,
    /// Sex.
    pub sex: Sex,
    /// Deprivation quintile 1–5.
    pub quintile: u8,
    /// LTC group index 0–3 (see [`ltc_group`]).
    pub ltc_group: u8,
}

impl Covariates {
    /// Codes raw values; the first invalid value is reported.
    pub fn code(
        age: i64,
        sex: Sex,
        decile: i64,
        ltc: i64,
        level: i64,
    ) -> Result<Self, CodingError> {
        Ok(Covariates {
            level: activation_level(level)?,
            age_band: age_band(age)?,
            sex,
            quintile: deprivation_quintile(decile)?,
            ltc_group: ltc_group(ltc)?,
        })
    }

    /// The cell index in `0..N_CELLS`.
    pub fn cell(&self) -> u16 {
        let s = u16::from(self.sex == Sex::Male);
        ((((u16::from(self.level) - 1) * 6 + u16::from(self.age_band)) * 2 + s) * 5
            + (u16::from(self.quintile) - 1))
            * 4
            + u16::from(self.ltc_group)
    }

    /// Inverse of [`Covariates::cell`].
    pub fn from_cell(cell: u16) -> Covariates {
        let ltc_group = (cell % 4) as u8;
        let c = cell / 4;
        let quintile = (c % 5) as u8 + 1;
        let c = c / 5;
        let sex = if c % 2 == 1 { Sex::Male } else { Sex::Female };
        let c = c / 2;
        let age_band = (c % 6) as u8;
        let level = (c / 6) as u8 + 1;
        Covariates {
            level,
            age_band,
            sex,
            quintile,
            ltc_group,
        }
    }

    /// The design row (intercept first, then the indicators in [`TERM_NAMES`] order).
    pub fn design_row(&self) -> [f64; N_TERMS] {
        let mut x = [0.0; N_TERMS];
        x[0] = 1.0;
        if self.level >= 2 {
            x[usize::from(self.level) - 1] = 1.0; // level_2..level_4 at 1..3
        }
        if self.age_band >= 1 {
            x[3 + usize::from(self.age_band)] = 1.0; // 4..8
        }
        if self.sex == Sex::Male {
            x[9] = 1.0;
        }
        if self.quintile >= 2 {
            x[8 + usize::from(self.quintile)] = 1.0; // 10..13
        }
        if self.ltc_group >= 1 {
            x[13 + usize::from(self.ltc_group)] = 1.0; // 14..16
        }
        x
    }
}

/// Which factor a term belongs to, and the columns of that factor (for estimability checks).
pub(crate) const FACTORS: [(&str, [usize; 5], usize); 5] = [
    ("activation level 1", [1, 2, 3, 0, 0], 3),
    ("age 18–39", [4, 5, 6, 7, 8], 5),
    ("female", [9, 0, 0, 0, 0], 1),
    ("deprivation quintile 1", [10, 11, 12, 13, 0], 4),
    ("1 long-term condition", [14, 15, 16, 0, 0], 3),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_band_boundaries() {
        let check = |age: i64, want: Option<u8>| assert_eq!(age_band(age).ok(), want, "age {age}");
        check(17, None);
        check(18, Some(0));
        check(39, Some(0));
        check(40, Some(1));
        check(49, Some(1));
        check(50, Some(2));
        check(59, Some(2));
        check(60, Some(3));
        check(69, Some(3));
        check(70, Some(4));
        check(79, Some(4));
        check(80, Some(5));
        check(120, Some(5));
        check(121, None);
    }

    #[test]
    fn deprivation_and_ltc_coding() {
        let q: Vec<_> = (1..=10).map(|d| deprivation_quintile(d).unwrap()).collect();
        assert_eq!(q, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert!(deprivation_quintile(0).is_err());
        assert!(deprivation_quintile(11).is_err());
        assert_eq!(ltc_group(0), Err(CodingError::Ltc(0)));
        assert_eq!(ltc_group(1), Ok(0));
        assert_eq!(ltc_group(3), Ok(2));
        assert_eq!(ltc_group(4), Ok(3));
        assert_eq!(ltc_group(12), Ok(3));
        assert!(activation_level(0).is_err());
        assert!(activation_level(5).is_err());
    }

    #[test]
    fn cells_round_trip_and_design_rows_name_the_right_terms() {
        let mut seen = std::collections::HashSet::new();
        for cell in 0..N_CELLS as u16 {
            let c = Covariates::from_cell(cell);
            assert_eq!(c.cell(), cell);
            assert!(seen.insert(c));
        }
        let c = Covariates::code(80, Sex::Male, 9, 7, 4).unwrap();
        let names: Vec<&str> = c
            .design_row()
            .iter()
            .zip(TERM_NAMES)
            .filter(|(v, _)| **v == 1.0)
            .map(|(_, n)| n)
            .collect();
        assert_eq!(
            names,
            [
                "intercept",
                "level_4",
                "age_80plus",
                "sex_male",
                "deprivation_q5",
                "ltc_4plus"
            ]
        );
        let r = Covariates::code(39, Sex::Female, 2, 1, 1)
            .unwrap()
            .design_row();
        assert_eq!(r.iter().sum::<f64>(), 1.0);
        let c = Covariates::code(40, Sex::Female, 3, 2, 2).unwrap();
        let names: Vec<&str> = c
            .design_row()
            .iter()
            .zip(TERM_NAMES)
            .filter(|(v, _)| **v == 1.0)
            .map(|(_, n)| n)
            .collect();
        assert_eq!(
            names,
            [
                "intercept",
                "level_2",
                "age_40_49",
                "deprivation_q2",
                "ltc_2"
            ]
        );
    }
}
