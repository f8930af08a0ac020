//! Writing iCalendar (RFC 5545) text: a published calendar of single events, for calendar
//! feeds that people subscribe to (a coach's sessions, a group's meetings).
//!
//! What it is for: turning already-expanded sessions (see [`crate::recurrence`]) into a
//! `VCALENDAR` that calendar programs accept: `METHOD:PUBLISH`, one `VEVENT` per session with
//! `DTSTART`/`DTEND` in UTC (`…Z`, so no `VTIMEZONE` is needed), TEXT values escaped
//! (backslash, semicolon, comma, newline), lines folded at 75 octets without ever splitting a
//! UTF-8 character, and CRLF line ends.
//!
//! What it must never do: any I/O, read the clock (callers pass `DTSTAMP`), or decide what a
//! person may see — callers choose the events (and must leave health details out of feeds that
//! leave the service).

use std::fmt::Write as _;

use time::{OffsetDateTime, UtcOffset};

/// The longest a content line may be, in octets, not counting the CRLF.
pub const MAX_LINE_OCTETS: usize = 75;

/// The default `PRODID`.
pub const PRODID: &str = "-//Alongside//Alongside//EN";

/// An event's `STATUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Tentative => "TENTATIVE",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

/// One `VEVENT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Globally unique and stable across feed refreshes, e.g. `<session id>@alongside`.
    pub uid: String,
    /// When this version of the event was made (callers pass it; usually "now").
    pub dtstamp: OffsetDateTime,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub summary: String,
    pub location: Option<String>,
    pub description: Option<String>,
    /// An address for the event's page (written as-is, control characters removed).
    pub url: Option<String>,
    pub status: EventStatus,
    /// Bump when the event changes (moved, cancelled) so calendar programs take the change.
    pub sequence: u32,
}

/// A `VCALENDAR` with `METHOD:PUBLISH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// `PRODID`; [`PRODID`] by default.
    pub prodid: String,
    /// `X-WR-CALNAME`, the name calendar programs show.
    pub name: String,
    pub events: Vec<Event>,
}

impl Calendar {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            prodid: PRODID.to_string(),
            name: name.into(),
            events: Vec::new(),
        }
    }

    /// The calendar as iCalendar text (folded, CRLF line ends; `text/calendar; charset=utf-8`).
    pub fn to_ics(&self) -> String {
        let mut w = Writer {
            out: String::with_capacity(256 + self.events.len() * 400),
            line: String::with_capacity(256),
        };
        w.raw("BEGIN:VCALENDAR");
        w.text("PRODID:", &self.prodid);
        w.raw("VERSION:2.0");
        w.raw("CALSCALE:GREGORIAN");
        w.raw("METHOD:PUBLISH");
        w.text("X-WR-CALNAME:", &self.name);
        for e in &self.events {
            w.raw("BEGIN:VEVENT");
            w.text("UID:", &e.uid);
            w.stamp("DTSTAMP:", e.dtstamp);
            w.stamp("DTSTART:", e.start);
            w.stamp("DTEND:", e.end);
            w.text("SUMMARY:", &e.summary);
            if let Some(l) = &e.location {
                w.text("LOCATION:", l);
            }
            if let Some(d) = &e.description {
                w.text("DESCRIPTION:", d);
            }
            if let Some(u) = &e.url {
                w.line.clear();
                w.line.push_str("URL:");
                w.line.extend(u.chars().filter(|c| !c.is_control()));
                w.flush();
            }
            w.raw(match e.status {
                EventStatus::Confirmed => "STATUS:CONFIRMED",
                EventStatus::Tentative => "STATUS:TENTATIVE",
                EventStatus::Cancelled => "STATUS:CANCELLED",
            });
            w.line.clear();
            let _ = write!(w.line, "SEQUENCE:{}", e.sequence);
            w.flush();
            w.raw("END:VEVENT");
        }
        w.raw("END:VCALENDAR");
        w.out
    }
}

/// Builds each content line in one reused buffer, then folds it onto the output.
struct Writer {
    out: String,
    line: String,
}

impl Writer {
    fn raw(&mut self, line: &str) {
        push_folded(&mut self.out, line);
    }
    fn flush(&mut self) {
        push_folded(&mut self.out, &self.line);
    }
    fn text(&mut self, name: &str, value: &str) {
        self.line.clear();
        self.line.push_str(name);
        push_escaped(&mut self.line, value);
        self.flush();
    }
    fn stamp(&mut self, name: &str, t: OffsetDateTime) {
        self.line.clear();
        self.line.push_str(name);
        push_stamp(&mut self.line, t);
        self.flush();
    }
}

/// A UTC date-time in iCalendar form, e.g. `20260329T170000Z` (seconds kept, fractions dropped).
pub fn utc_stamp(t: OffsetDateTime) -> String {
    let mut s = String::with_capacity(16);
    push_stamp(&mut s, t);
    s
}

fn push_stamp(out: &mut String, t: OffsetDateTime) {
    let u = t.to_offset(UtcOffset::UTC);
    let _ = write!(
        out,
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        u.year(),
        u8::from(u.month()),
        u.day(),
        u.hour(),
        u.minute(),
        u.second()
    );
}

/// Escapes a TEXT value: `\` → `\\`, `;` → `\;`, `,` → `\,`, a line break (LF, CRLF or CR) →
/// `\n`; other control characters except tab are removed (TEXT may not contain them).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// Reverses [`escape_text`] (for tests and for reading our own output). `\N` is read as a
/// newline too, and an unknown escape keeps the character.
pub fn unescape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Folds one unfolded content line into lines of at most [`MAX_LINE_OCTETS`] octets, each ended
/// by CRLF; continuation lines start with one space (which counts). Never splits a UTF-8
/// character.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 64 * 3 + 2);
    push_folded(&mut out, line);
    out
}

fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut budget = MAX_LINE_OCTETS;
    loop {
        if rest.len() <= budget {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = budget;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        budget = MAX_LINE_OCTETS - 1;
    }
}

/// Undoes folding: removes every CRLF (or bare LF) followed by one space or tab.
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn event() -> Event {
        Event {
            uid: "s-1@alongside".into(),
            dtstamp: datetime!(2026-11-22 23:00 UTC),
            start: datetime!(2026-03-29 18:00 +01:00),
            end: datetime!(2026-03-29 23:00 +01:00),
            summary: "Café, games; and \\ talk".into(),
            location: Some("Room 2\nLevel 1".into()),
            description: None,
            url: None,
            status: EventStatus::Cancelled,
            sequence: 2,
        }
    }

    #[test]
    fn calendar_has_the_required_properties_in_utc_with_crlf() {
        let mut cal = Calendar::new("Coach: Sam's sessions");
        cal.events.push(event());
        let ics = cal.to_ics();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nPRODID:-//Alongside//Alongside//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"));
        assert!(ics.contains("X-WR-CALNAME:Coach: Sam's sessions\r\n"));
        assert!(ics.contains("DTSTART:20260329T170000Z\r\n"));
        assert!(ics.contains("DTEND:20260329T220000Z\r\n"));
        assert!(ics.contains("DTSTAMP:20261122T230000Z\r\n"));
        assert!(ics.contains("SUMMARY:Café\\, games\\; and \\\\ talk\r\n"));
        assert!(ics.contains("LOCATION:Room 2\\nLevel 1\r\n"));
        assert!(!ics.contains("DESCRIPTION"));
        assert!(ics.contains("STATUS:CANCELLED\r\nSEQUENCE:2\r\nEND:VEVENT\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        // Every line break is CRLF.
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
    }

    #[test]
    fn escaping_handles_crlf_and_control_characters() {
        assert_eq!(escape_text("a\r\nb\rc\nd"), "a\\nb\\nc\\nd");
        assert_eq!(escape_text("tab\there\u{7}"), "tab\there");
        assert_eq!(unescape_text("a\\,b\\;c\\\\d\\Ne"), "a,b;c\\d\ne");
    }

    #[test]
    fn folding_at_75_octets_keeps_multibyte_characters_whole() {
        // 74 ASCII then a 3-octet character: it must move wholly to the next line.
        let line = format!("{}€€", "x".repeat(74));
        let folded = fold_line(&line);
        let lines: Vec<&str> = folded.split("\r\n").collect();
        assert_eq!(lines[0], "x".repeat(74));
        assert_eq!(lines[1], " €€");
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
        assert_eq!(fold_line("short"), "short\r\n");
        assert_eq!(
            fold_line(&"y".repeat(75)),
            format!("{}\r\n", "y".repeat(75))
        );
        assert_eq!(
            fold_line(&"y".repeat(76)),
            format!("{}\r\n y\r\n", "y".repeat(75))
        );
    }

    proptest! {
        #[test]
        fn unfold_of_fold_is_identity_and_lines_are_short(s in "\\PC{0,400}") {
            let line = s.replace(['\r', '\n'], "");
            let folded = fold_line(&line);
            prop_assert!(folded.ends_with("\r\n"));
            for l in folded.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(l.len() <= MAX_LINE_OCTETS, "line of {} octets", l.len());
            }
            prop_assert_eq!(unfold(&folded), format!("{line}\r\n"));
        }

        #[test]
        fn escaped_text_round_trips_and_has_no_raw_separators(s in "[\\PC\n\\\\;,]{0,200}") {
            let e = escape_text(&s);
            prop_assert!(!e.contains('\n'));
            prop_assert_eq!(unescape_text(&e), s);
        }

        #[test]
        fn whole_calendar_lines_are_short(summary in "\\PC{0,300}", desc in "[\\PC\n]{0,300}") {
            let mut cal = Calendar::new("Feed");
            let mut e = event();
            e.summary = summary.clone();
            e.description = Some(desc.clone());
            cal.events.push(e);
            let ics = cal.to_ics();
            for l in ics.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(l.len() <= MAX_LINE_OCTETS);
                prop_assert!(!l.contains('\n') && !l.contains('\r'));
            }
            let unfolded = unfold(&ics);
            let got = unfolded.lines().find_map(|l| l.strip_prefix("SUMMARY:")).unwrap();
            prop_assert_eq!(unescape_text(got), summary.chars().filter(|c| !c.is_control() || *c == '\t').collect::<String>());
        }
    }
}
