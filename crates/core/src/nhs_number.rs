//! NHS numbers: ten digits whose last is a Modulus 11 check digit.
//!
//! Parse, don't validate: an [`NhsNumber`] can only be built from a string that passes the
//! check, so code that holds one never needs to check again.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A valid NHS number, stored as its ten digits without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NhsNumber(String);

/// Why a string is not an NHS number. The messages are written for the person typing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    #[error("NHS number must be 10 digits")]
    WrongLength,
    #[error("NHS number must contain only digits and spaces")]
    NotDigits,
    #[error("Enter a valid NHS number: the check digit does not match")]
    BadCheckDigit,
}

impl NhsNumber {
    /// Parses ten digits, allowing spaces and hyphens as typed (e.g. `943 476 5919`).
    pub fn parse(input: &str) -> Result<Self, NhsNumberError> {
        let mut digits = [0u8; 10];
        let mut n = 0;
        for c in input.chars() {
            match c {
                ' ' | '-' | '\u{a0}' => continue,
                '0'..='9' => {
                    if n == 10 {
                        return Err(NhsNumberError::WrongLength);
                    }
                    digits[n] = c as u8 - b'0';
                    n += 1;
                }
                _ => return Err(NhsNumberError::NotDigits),
            }
        }
        if n != 10 {
            return Err(NhsNumberError::WrongLength);
        }
        match check_digit(&digits[..9]) {
            Some(d) if d == digits[9] => {}
            _ => return Err(NhsNumberError::BadCheckDigit),
        }
        Ok(Self(digits.iter().map(|d| (b'0' + d) as char).collect()))
    }

    /// The ten digits with no spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional 3-3-4 display form, e.g. `943 476 5919`.
    pub fn formatted(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }

    /// Builds a valid number from nine leading digits by appending the check digit, or `None`
    /// when those nine digits have no valid check digit (remainder 10). Used for synthetic data.
    pub fn from_nine_digits(nine: &[u8; 9]) -> Option<Self> {
        let d = check_digit(nine)?;
        let mut s: String = nine.iter().map(|d| (b'0' + d) as char).collect();
        s.push((b'0' + d) as char);
        Some(Self(s))
    }
}

/// Modulus 11: weights 10..2 over the first nine digits; check = 11 - (sum mod 11);
/// 11 becomes 0 and 10 means the number is invalid.
fn check_digit(nine: &[u8]) -> Option<u8> {
    let sum: u32 = nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        d => Some(d as u8),
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

impl TryFrom<String> for NhsNumber {
    type Error = NhsNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NhsNumber> for String {
    fn from(n: NhsNumber) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Result<&str, NhsNumberError>) {
        assert_eq!(
            NhsNumber::parse(input).map(|n| n.as_str().to_string()),
            expected.map(str::to_string),
            "input {input:?}"
        );
    }

    #[test]
    fn known_numbers() {
        check("9434765919", Ok("9434765919"));
        check("943 476 5919", Ok("9434765919"));
        check("943-476-5919", Ok("9434765919"));
        check("9434765918", Err(NhsNumberError::BadCheckDigit));
        check("943476591", Err(NhsNumberError::WrongLength));
        check("94347659190", Err(NhsNumberError::WrongLength));
        check("", Err(NhsNumberError::WrongLength));
        check("94347659I9", Err(NhsNumberError::NotDigits));
        check("<script>", Err(NhsNumberError::NotDigits));
        // A second known-valid number.
        check("4010232137", Ok("4010232137"));
    }

    #[test]
    fn formatted_is_three_three_four() {
        assert_eq!(
            NhsNumber::parse("9434765919").unwrap().formatted(),
            "943 476 5919"
        );
    }

    proptest! {
        #[test]
        fn generated_numbers_parse_and_any_single_digit_change_fails(nine in proptest::array::uniform9(0u8..10), pos in 0usize..10, delta in 1u8..10) {
            if let Some(n) = NhsNumber::from_nine_digits(&nine) {
                prop_assert_eq!(NhsNumber::parse(n.as_str()).unwrap(), n.clone());
                let mut bytes = n.as_str().as_bytes().to_vec();
                bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
                let changed = String::from_utf8(bytes).unwrap();
                // Modulus 11 with distinct weights detects every single-digit error.
                prop_assert!(NhsNumber::parse(&changed).is_err());
            }
        }
    }
}
