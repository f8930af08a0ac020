//! Field-level validation errors, shaped for an NHS-style error summary: each error names the
//! field (its form name) and says what is wrong in words a person can act on.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form field's name, also the id of its input, so the error summary can link to it.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(ok)
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Trims and checks a free-text field: no control characters, at most `max` characters.
pub fn clean_text(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            errors.add(field, format!("Enter {label}"));
        }
        return None;
    }
    if v.chars().count() > max {
        errors.add(
            field,
            format!("{} must be {max} characters or fewer", capitalise(label)),
        );
        return None;
    }
    if v.contains('\u{FFFD}') {
        errors.add(
            field,
            format!(
                "{} contains characters that could not be read: type it again",
                capitalise(label)
            ),
        );
        return None;
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.add(
            field,
            format!("{} must not contain control characters", capitalise(label)),
        );
        return None;
    }
    Some(v.to_string())
}

/// True for characters a person's name may contain: letters of any script (with combining
/// accents), spaces, hyphens, apostrophes and full stops.
pub fn is_name_char(c: char) -> bool {
    c.is_alphabetic()
        || matches!(c, ' ' | '-' | '\'' | '\u{2019}' | '.')
        || ('\u{0300}'..='\u{036F}').contains(&c)
}

/// A name: required, trimmed, at most `max` characters, only [`is_name_char`] characters.
pub fn clean_name(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Option<String> {
    let v = clean_text(errors, field, label, value, max, true)?;
    if !v.chars().all(is_name_char) {
        errors.add(
            field,
            format!(
                "{} must only include letters, spaces, hyphens and apostrophes",
                capitalise(label)
            ),
        );
        return None;
    }
    Some(v)
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
