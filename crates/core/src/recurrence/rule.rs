//! Recurrence rules: the supported subset of RFC 5545 `RRULE` ([`Rule`] with its [`Frequency`],
//! [`ByDay`] and [`Until`]), parsed strictly with a message saying what to change, normalised,
//! validated, written back as RRULE text and described in plain English.

use super::words::{
    english_suffix, join_and, long_date, ordinal_word, parse_by_day, parse_u32, parse_until,
    parse_weekday, weekday_code, weekday_name,
};
use super::{RecurrenceError, MAX_OCCURRENCES};
use crate::london::utc_to_london;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use time::{Date, OffsetDateTime, UtcOffset, Weekday};

/// How often the rule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
}

impl Frequency {
    /// The RFC 5545 name (`DAILY`, `WEEKLY`, `MONTHLY`).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Monthly => "MONTHLY",
        }
    }
}

/// One `BYDAY` entry: a day of the week, optionally numbered within the month
/// (`1MO` first Monday, `-1FR` last Friday; numbers only with [`Frequency::Monthly`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByDay {
    /// 1..=5 or -5..=-1; `None` means every such weekday in the period.
    pub ordinal: Option<i8>,
    pub weekday: Weekday,
}

impl ByDay {
    pub fn every(weekday: Weekday) -> Self {
        Self {
            ordinal: None,
            weekday,
        }
    }
    pub fn nth(ordinal: i8, weekday: Weekday) -> Self {
        Self {
            ordinal: Some(ordinal),
            weekday,
        }
    }
}

impl fmt::Display for ByDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.ordinal {
            write!(f, "{n}")?;
        }
        f.write_str(weekday_code(self.weekday))
    }
}

/// The `UNTIL` of a rule: the last local date (inclusive), or the last UTC instant at which a
/// session may start (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Until {
    Date(Date),
    /// Always held in UTC.
    DateTime(OffsetDateTime),
}

/// A parsed recurrence rule. Fields are public so that forms can build rules directly; every
/// use goes through [`Rule::validate`] (parsing does it too).
///
/// `Display` writes canonical RFC 5545 text without the `RRULE:` prefix (parts in the order
/// FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL, WKST; `INTERVAL=1` and `WKST=MO` left
/// out), and parsing that text gives back an equal rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub freq: Frequency,
    /// 1 or more.
    pub interval: u32,
    /// Sorted by weekday from Monday, then by ordinal; no duplicates (parsing ensures this).
    pub by_day: Vec<ByDay>,
    /// 1..=31 or -31..=-1; sorted, no duplicates (parsing ensures this).
    pub by_month_day: Vec<i8>,
    pub count: Option<u32>,
    pub until: Option<Until>,
    pub week_start: Weekday,
}

/// The largest `INTERVAL` accepted (a bigger one would leave a series with one session).
pub const MAX_INTERVAL: u32 = 1_000;

impl Rule {
    /// A rule repeating every day/week/month with no other parts (and so no end yet).
    pub fn new(freq: Frequency) -> Self {
        Self {
            freq,
            interval: 1,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            count: None,
            until: None,
            week_start: Weekday::Monday,
        }
    }

    /// Parses RFC 5545 `RRULE` text, with or without the `RRULE:` prefix, in any letter case.
    pub fn parse(text: &str) -> Result<Rule, RecurrenceError> {
        let mut text = text.trim();
        if text
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("RRULE:"))
        {
            text = text[6..].trim();
        }
        if text.is_empty() {
            return Err(RecurrenceError::Empty);
        }
        let mut freq = None;
        let mut interval = None;
        let mut by_day: Option<Vec<ByDay>> = None;
        let mut by_month_day: Option<Vec<i8>> = None;
        let mut count = None;
        let mut until = None;
        let mut week_start = None;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for part in text.split(';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((name, value)) = part.split_once('=') else {
                return Err(RecurrenceError::MalformedPart(part.to_string()));
            };
            let name = name.trim().to_ascii_uppercase();
            let value = value.trim().to_ascii_uppercase();
            if name.is_empty() {
                return Err(RecurrenceError::MalformedPart(part.to_string()));
            }
            if !seen.insert(name.clone()) {
                return Err(RecurrenceError::DuplicatePart(name));
            }
            match name.as_str() {
                "FREQ" => {
                    freq = Some(match value.as_str() {
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        _ => return Err(RecurrenceError::UnsupportedFrequency(value)),
                    })
                }
                "INTERVAL" => interval = Some(parse_u32("INTERVAL", &value)?),
                "COUNT" => count = Some(parse_u32("COUNT", &value)?),
                "UNTIL" => until = Some(parse_until(&value)?),
                "WKST" => week_start = Some(parse_weekday(&value)?),
                "BYDAY" => {
                    let mut days = Vec::new();
                    for item in value.split(',') {
                        let item = item.trim();
                        if item.is_empty() {
                            return Err(RecurrenceError::EmptyList("BYDAY"));
                        }
                        days.push(parse_by_day(item)?);
                    }
                    by_day = Some(days);
                }
                "BYMONTHDAY" => {
                    let mut days = Vec::new();
                    for item in value.split(',') {
                        let item = item.trim();
                        if item.is_empty() {
                            return Err(RecurrenceError::EmptyList("BYMONTHDAY"));
                        }
                        let n: i32 = item
                            .parse()
                            .map_err(|_| RecurrenceError::BadMonthDay(item.to_string()))?;
                        if n == 0 || !(-31..=31).contains(&n) {
                            return Err(RecurrenceError::BadMonthDay(item.to_string()));
                        }
                        days.push(n as i8);
                    }
                    by_month_day = Some(days);
                }
                _ => return Err(RecurrenceError::UnsupportedPart(name)),
            }
        }
        let Some(freq) = freq else {
            return Err(RecurrenceError::MissingFrequency);
        };
        let mut rule = Rule {
            freq,
            interval: interval.unwrap_or(1),
            by_day: by_day.unwrap_or_default(),
            by_month_day: by_month_day.unwrap_or_default(),
            count,
            until,
            week_start: week_start.unwrap_or(Weekday::Monday),
        };
        rule.normalize();
        rule.validate()?;
        Ok(rule)
    }

    /// Sorts and de-duplicates `by_day` and `by_month_day` (the canonical order).
    pub fn normalize(&mut self) {
        self.by_day.sort_by_key(|d| {
            (
                d.weekday.number_days_from_monday(),
                d.ordinal.map_or(i16::MIN, i16::from),
            )
        });
        self.by_day.dedup();
        self.by_month_day.sort_unstable();
        self.by_month_day.dedup();
    }

    /// Checks the rule's parts on their own (a series adds its own checks: see
    /// [`Series::validate`](super::Series::validate)).
    pub fn validate(&self) -> Result<(), RecurrenceError> {
        if self.interval == 0 {
            return Err(RecurrenceError::IntervalZero);
        }
        if self.interval > MAX_INTERVAL {
            return Err(RecurrenceError::IntervalTooLarge { max: MAX_INTERVAL });
        }
        for d in &self.by_day {
            if let Some(n) = d.ordinal {
                if self.freq != Frequency::Monthly {
                    return Err(RecurrenceError::OrdinalNeedsMonthly(d.to_string()));
                }
                if n == 0 || !(-5..=5).contains(&n) {
                    return Err(RecurrenceError::BadOrdinal(d.to_string()));
                }
            }
        }
        for &m in &self.by_month_day {
            if m == 0 || !(-31..=31).contains(&m) {
                return Err(RecurrenceError::BadMonthDay(m.to_string()));
            }
        }
        if !self.by_month_day.is_empty() && self.freq == Frequency::Weekly {
            return Err(RecurrenceError::MonthDayWithWeekly);
        }
        if self.count.is_some() && self.until.is_some() {
            return Err(RecurrenceError::CountAndUntil);
        }
        match self.count {
            Some(0) => return Err(RecurrenceError::CountZero),
            Some(c) if c > MAX_OCCURRENCES => {
                return Err(RecurrenceError::TooManyOccurrences {
                    max: MAX_OCCURRENCES,
                })
            }
            _ => {}
        }
        if let Some(Until::DateTime(dt)) = self.until {
            if dt.offset() != UtcOffset::UTC {
                // Only reachable when built by hand: parsing always gives UTC.
                return Err(RecurrenceError::BadUntil(dt.to_string()));
            }
        }
        Ok(())
    }

    /// A short English description for pages, e.g. "Every Tuesday", "Every 2 weeks on Tuesday
    /// and Thursday", "The first Monday of each month", "Every day, until 31 December 2026".
    pub fn describe(&self) -> String {
        let unit = match self.freq {
            Frequency::Daily => "day",
            Frequency::Weekly => "week",
            Frequency::Monthly => "month",
        };
        let days: Vec<String> = self
            .by_day
            .iter()
            .map(|d| match d.ordinal {
                None => weekday_name(d.weekday).to_string(),
                Some(n) => format!("{} {}", ordinal_word(n), weekday_name(d.weekday)),
            })
            .collect();
        let numbered = self.by_day.iter().any(|d| d.ordinal.is_some());
        let all_numbered = !days.is_empty() && self.by_day.iter().all(|d| d.ordinal.is_some());
        let mut out = if self.interval == 1
            && self.freq == Frequency::Weekly
            && !days.is_empty()
            && !numbered
        {
            // "Every Tuesday and Thursday"
            format!("Every {}", join_and(&days, " and "))
        } else if self.interval == 1
            && self.freq == Frequency::Monthly
            && all_numbered
            && self.by_month_day.is_empty()
        {
            // "The first Monday of each month"
            let mut first = join_and(&days, " and the ");
            first.insert_str(0, "The ");
            first.push_str(" of each month");
            first
        } else {
            let mut out = if self.interval == 1 {
                format!("Every {unit}")
            } else {
                format!("Every {} {unit}s", self.interval)
            };
            if !days.is_empty() {
                out.push_str(if numbered { " on the " } else { " on " });
                out.push_str(&join_and(
                    &days,
                    if numbered { " and the " } else { " and " },
                ));
            }
            out
        };
        if !self.by_month_day.is_empty() {
            let md: Vec<String> = self
                .by_month_day
                .iter()
                .map(|&m| {
                    if m > 0 {
                        format!("{}{}", m, english_suffix(m))
                    } else if m == -1 {
                        "last day".to_string()
                    } else {
                        format!("{} day", ordinal_word(m))
                    }
                })
                .collect();
            out.push_str(if days.is_empty() {
                " on the "
            } else {
                ", when it is the "
            });
            out.push_str(&join_and(&md, " and the "));
        }
        match (self.count, self.until) {
            (Some(1), _) => out.push_str(", once"),
            (Some(c), _) => out.push_str(&format!(", {c} times")),
            (None, Some(Until::Date(d))) => out.push_str(&format!(", until {}", long_date(d))),
            (None, Some(Until::DateTime(dt))) => {
                let local = utc_to_london(dt);
                out.push_str(&format!(", until {}", long_date(local.date())))
            }
            (None, None) => {}
        }
        out
    }
}

impl FromStr for Rule {
    type Err = RecurrenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::parse(s)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FREQ={}", self.freq.as_str())?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_day.is_empty() {
            f.write_str(";BYDAY=")?;
            for (i, d) in self.by_day.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{d}")?;
            }
        }
        if !self.by_month_day.is_empty() {
            f.write_str(";BYMONTHDAY=")?;
            for (i, d) in self.by_month_day.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{d}")?;
            }
        }
        if let Some(c) = self.count {
            write!(f, ";COUNT={c}")?;
        }
        match self.until {
            Some(Until::Date(d)) => {
                write!(
                    f,
                    ";UNTIL={:04}{:02}{:02}",
                    d.year(),
                    u8::from(d.month()),
                    d.day()
                )?;
            }
            Some(Until::DateTime(dt)) => {
                let u = dt.to_offset(UtcOffset::UTC);
                write!(
                    f,
                    ";UNTIL={:04}{:02}{:02}T{:02}{:02}{:02}Z",
                    u.year(),
                    u8::from(u.month()),
                    u.day(),
                    u.hour(),
                    u.minute(),
                    u.second()
                )?;
            }
            None => {}
        }
        if self.week_start != Weekday::Monday {
            write!(f, ";WKST={}", weekday_code(self.week_start))?;
        }
        Ok(())
    }
}
