//! Error types: definition errors that name the field path, and typed errors for bad
//! responses.
//!
//! Error messages may quote codes and link ids from the definition or the response, but must
//! never include anything that identifies a person.

use std::fmt;

/// One problem in an instrument definition, at a field path such as
/// `items[3].options[1].code` (array indices count from 0, as in the JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// An instrument definition could not be loaded: it is not valid JSON of the right shape, or it
/// breaks a rule. All rule violations found are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentError {
    /// Every problem found, in file order as far as possible.
    pub errors: Vec<FieldError>,
}

impl InstrumentError {
    pub(crate) fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        InstrumentError {
            errors: vec![FieldError {
                path: path.into(),
                message: message.into(),
            }],
        }
    }

    /// True if some error is at exactly `path`.
    pub fn has_path(&self, path: &str) -> bool {
        self.errors.iter().any(|e| e.path == path)
    }
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid instrument definition: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InstrumentError {}

/// A response that does not fit the instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The response names an item the instrument does not have.
    #[error("unknown item link id {link_id:?}")]
    UnknownItem {
        /// The link id given.
        link_id: String,
    },
    /// The answer code is not one of the item's option codes.
    #[error("item {link_id:?}: unknown answer code {code:?}")]
    UnknownCode {
        /// The item.
        link_id: String,
        /// The code given.
        code: String,
    },
    /// The same item was answered twice.
    #[error("item {link_id:?}: answered more than once")]
    DuplicateAnswer {
        /// The item.
        link_id: String,
    },
    /// A response vector of the wrong length was given.
    #[error("expected {expected} answers, found {found}")]
    WrongLength {
        /// Number of items in the instrument.
        expected: usize,
        /// Number given.
        found: usize,
    },
}
