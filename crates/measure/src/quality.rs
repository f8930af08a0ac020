//! Data-quality flags and reasons for not scoring, each with a stable string code.
//!
//! The codes are part of the public contract (they are written to CSV output and stored by other
//! crates): never rename or reuse one; add new variants instead.

use std::fmt;

use serde::{Serialize, Serializer};

/// A data-quality flag on a scored result. The result is still scored, but should be read with
/// care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// Every answered item is in its lowest category: possibly unreliable (e.g. the same box
    /// ticked throughout). For `rasch`, this is also an extreme raw score that was adjusted.
    AllLowestCategory,
    /// Every answered item is in its highest category: possibly unreliable. For `rasch`, this is
    /// also an extreme raw score that was adjusted.
    AllHighestCategory,
    /// The reported score fell outside the reporting scale and was clamped to its end.
    ScoreClamped,
}

impl Flag {
    /// All flags, in code order.
    pub const ALL: [Flag; 3] = [
        Flag::AllLowestCategory,
        Flag::AllHighestCategory,
        Flag::ScoreClamped,
    ];

    /// The stable string code.
    pub fn code(self) -> &'static str {
        match self {
            Flag::AllLowestCategory => "all_lowest_category",
            Flag::AllHighestCategory => "all_highest_category",
            Flag::ScoreClamped => "score_clamped",
        }
    }

    /// Parse a stable string code.
    pub fn from_code(code: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.code() == code)
    }

    /// A short English explanation for staff.
    pub fn description(self) -> &'static str {
        match self {
            Flag::AllLowestCategory => {
                "all answers are in the lowest category: possibly unreliable, check with the person"
            }
            Flag::AllHighestCategory => {
                "all answers are in the highest category: possibly unreliable, check with the person"
            }
            Flag::ScoreClamped => "the score was limited to the end of the reporting scale",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// A set of [`Flag`]s (no allocation). Displays as the codes joined with `;`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    /// No flags.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// Add a flag.
    pub fn insert(&mut self, flag: Flag) {
        self.0 |= flag.bit();
    }

    /// Whether a flag is set.
    pub fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The flags that are set, in code order.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        let mut flags = Flags::empty();
        for f in iter {
            flags.insert(f);
        }
        flags
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, flag) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            f.write_str(flag.code())?;
        }
        Ok(())
    }
}

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Why a response was not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotScoredReason {
    /// Fewer items answered than the instrument's `quality.min_answered`.
    TooFewAnswered {
        /// Items answered (not-applicable answers do not count).
        answered: usize,
        /// The minimum.
        required: usize,
    },
    /// A `lookup` table is for an exact number of answered items and this response has another.
    WrongNumberAnswered {
        /// Items answered.
        answered: usize,
        /// The number the table is for.
        required: usize,
    },
}

impl NotScoredReason {
    /// The stable string code.
    pub fn code(self) -> &'static str {
        match self {
            NotScoredReason::TooFewAnswered { .. } => "too_few_answered",
            NotScoredReason::WrongNumberAnswered { .. } => "wrong_number_answered",
        }
    }
}

impl fmt::Display for NotScoredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NotScoredReason::TooFewAnswered { answered, required } => write!(
                f,
                "not scored: {answered} items answered, at least {required} needed"
            ),
            NotScoredReason::WrongNumberAnswered { answered, required } => write!(
                f,
                "not scored: {answered} items answered, the scoring table needs exactly {required}"
            ),
        }
    }
}

impl Serialize for NotScoredReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
