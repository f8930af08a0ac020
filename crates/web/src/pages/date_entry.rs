//! A date typed into the NHS design system's date input (day, month and year boxes, named
//! `{name}_day`, `{name}_month` and `{name}_year`), or — when none of the three boxes was sent —
//! into the single box `{name}` of older forms and links, which the pages still accept.
//!
//! The boxes are read with `alongside_core::dates::parse_date_parts`, whose message goes on the
//! box that is wrong. A date they make (or three empty boxes) is handed on as text to the
//! field's own rules, which are the single box's (`alongside_core::dates::parse_date` or the
//! field's parser): those rules' errors then go on the day box. Shared by the page modules;
//! imports none of them.

use crate::form::FormData;
use crate::layout;
use alongside_core::dates::parse_date_parts;
use alongside_core::time::iso_date;
use alongside_core::validation::{FieldError, ValidationErrors};
use maud::{html, Markup};

/// The three boxes as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DateBoxes {
    pub day: String,
    pub month: String,
    pub year: String,
}

impl DateBoxes {
    /// The boxes showing `d`.
    pub fn of(d: time::Date) -> DateBoxes {
        DateBoxes {
            day: d.day().to_string(),
            month: u8::from(d.month()).to_string(),
            year: d.year().to_string(),
        }
    }

    fn is_empty(&self) -> bool {
        [&self.day, &self.month, &self.year]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// What was sent for a date field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateEntry {
    /// The day, month and year boxes (at least one of them was sent).
    Boxes(DateBoxes),
    /// The single box of older forms and links (none of the three boxes was sent).
    Single(String),
}

impl DateEntry {
    /// Reads the field `name` with `get` (a form's or a query's values; `None` when not sent).
    pub fn read(get: impl Fn(&str) -> Option<String>, name: &str) -> DateEntry {
        let [d, m, y] = box_names(name).map(|n| get(&n));
        if d.is_none() && m.is_none() && y.is_none() {
            DateEntry::Single(get(name).unwrap_or_default())
        } else {
            DateEntry::Boxes(DateBoxes {
                day: d.unwrap_or_default(),
                month: m.unwrap_or_default(),
                year: y.unwrap_or_default(),
            })
        }
    }

    /// Reads the field `name` of a submitted form.
    pub fn from_form(f: &FormData, name: &str) -> DateEntry {
        DateEntry::read(|k| f.opt(k), name)
    }

    /// The text for the field's single-box rules: the single box as sent, "" for three empty
    /// boxes, the date (ISO 8601) the boxes make — or, when they make none, the error for the
    /// box that is wrong (`label` as in "Date of the first session").
    pub fn text(&self, name: &str, label: &str) -> Result<String, FieldError> {
        match self {
            DateEntry::Single(s) => Ok(s.clone()),
            DateEntry::Boxes(b) if b.is_empty() => Ok(String::new()),
            DateEntry::Boxes(b) => parse_date_parts(&b.day, &b.month, &b.year)
                .map(iso_date)
                .map_err(|p| FieldError {
                    field: p.part().field(name),
                    message: p.message(label),
                }),
        }
    }

    /// Where the single-box rules' errors go: the single box, or the day box.
    pub fn error_field(&self, name: &str) -> String {
        match self {
            DateEntry::Single(_) => name.to_string(),
            DateEntry::Boxes(_) => format!("{name}_day"),
        }
    }

    /// The boxes to show again: as typed, or a single box's date split into its parts (a
    /// single box that is no date stays, as typed, in the day box).
    pub fn boxes(&self) -> DateBoxes {
        match self {
            DateEntry::Boxes(b) => b.clone(),
            DateEntry::Single(s) => match alongside_core::dates::parse_date(s) {
                Some(d) => DateBoxes::of(d),
                None => DateBoxes {
                    day: s.clone(),
                    ..Default::default()
                },
            },
        }
    }
}

fn box_names(name: &str) -> [String; 3] {
    [
        format!("{name}_day"),
        format!("{name}_month"),
        format!("{name}_year"),
    ]
}

/// Puts the errors the field's rules gave `from` on `entry`'s error field instead. When the
/// boxes made no date, their `problem` stands in for those errors instead (at the place of the
/// first, so the error summary keeps the form's order; at the end when there were none).
pub(crate) fn place_errors(
    e: &mut ValidationErrors,
    from: &str,
    entry: &DateEntry,
    problem: Option<FieldError>,
) {
    match problem {
        None => {
            let to = entry.error_field(from);
            for x in e.0.iter_mut().filter(|x| x.field == from) {
                x.field = to.clone();
            }
        }
        Some(p) => match e.0.iter().position(|x| x.field == from) {
            Some(i) => {
                e.0[i] = p;
                let mut n = 0;
                e.0.retain(|x| {
                    n += 1;
                    n <= i + 1 || x.field != from
                });
            }
            None => e.0.push(p),
        },
    }
}

/// The date input for the field `name`, in a wrapper with the id `name` so that an error on
/// the single box of an older form still leads to the field.
pub(crate) fn date_input(
    name: &str,
    legend: &str,
    hint: &str,
    b: &DateBoxes,
    e: &ValidationErrors,
) -> Markup {
    html! {
        div id=(name) {
            (layout::date_input(name, legend, hint, &b.day, &b.month, &b.year, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        FormData::parse(body.as_bytes())
    }

    #[test]
    fn the_boxes_are_read_and_the_single_box_only_when_none_was_sent() {
        let f = form(&[("on_day", "3"), ("on_month", "March"), ("on_year", "2027")]);
        let entry = DateEntry::from_form(&f, "on");
        assert_eq!(entry.text("on", "The date").unwrap(), "2027-03-03");
        assert_eq!(entry.error_field("on"), "on_day");
        let f = form(&[("on", "12/1/2027")]);
        let entry = DateEntry::from_form(&f, "on");
        assert_eq!(entry, DateEntry::Single("12/1/2027".into()));
        assert_eq!(entry.text("on", "The date").unwrap(), "12/1/2027");
        assert_eq!(
            entry.boxes(),
            DateBoxes::of(time::macros::date!(2027 - 01 - 12))
        );
        assert_eq!(entry.error_field("on"), "on");
        let empty = DateEntry::from_form(&form(&[("on_day", ""), ("on", "1/1/2027")]), "on");
        assert_eq!(empty.text("on", "The date").unwrap(), "");
    }

    #[test]
    fn a_problem_goes_on_the_box_that_is_wrong_in_the_forms_order() {
        let f = form(&[("on_day", "3"), ("on_month", ""), ("on_year", "2027")]);
        let entry = DateEntry::from_form(&f, "on");
        let p = entry.text("on", "The date it happened").unwrap_err();
        assert_eq!(p.field, "on_month");
        assert_eq!(p.message, "The date it happened must include a month");
        let mut e = ValidationErrors::default();
        e.add("step", "Choose");
        e.add("on", "Enter the date");
        e.add("note", "Too long");
        place_errors(&mut e, "on", &entry, Some(p.clone()));
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["step", "on_month", "note"]);
        // The rules' own errors on a date the boxes made go on the day box.
        let ok = DateEntry::from_form(
            &form(&[("on_day", "3"), ("on_month", "3"), ("on_year", "2099")]),
            "on",
        );
        let mut e = ValidationErrors::default();
        e.add("on", "must be in the past");
        place_errors(&mut e, "on", &ok, None);
        assert_eq!(e.0[0].field, "on_day");
    }
}
