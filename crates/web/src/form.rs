//! Reading `application/x-www-form-urlencoded` bodies by hand, so that any body — malformed,
//! repeated keys, unexpected fields — becomes field values and validation messages, never a
//! framework rejection.

use std::collections::HashMap;

/// The message for a single-valued field sent more than once.
pub const REPEATED: &str = "This was sent more than once: enter it once and try again";

#[derive(Debug, Default, Clone)]
pub struct FormData {
    values: HashMap<String, Vec<String>>,
}

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            values
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
        FormData { values }
    }
    /// The first value of a field, or "".
    pub fn get(&self, key: &str) -> String {
        self.values
            .get(key)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }
    pub fn opt(&self, key: &str) -> Option<String> {
        self.values.get(key).and_then(|v| v.first()).cloned()
    }
    pub fn all(&self, key: &str) -> Vec<String> {
        self.values.get(key).cloned().unwrap_or_default()
    }
    /// Which of these single-valued fields were sent more than once (an ambiguous form).
    pub fn repeated<'a>(&self, keys: &[&'a str]) -> Vec<&'a str> {
        keys.iter()
            .copied()
            .filter(|k| self.values.get(*k).is_some_and(|v| v.len() > 1))
            .collect()
    }

    /// A field error for each of these single-valued fields that was sent more than once
    /// (empty when none was): an ambiguous form is refused, never half-read.
    pub fn repeated_errors(&self, keys: &[&str]) -> alongside_core::ValidationErrors {
        let mut e = alongside_core::ValidationErrors::default();
        for f in self.repeated(keys) {
            e.add(f, REPEATED);
        }
        e
    }

    pub fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }
}
