//! Recurring sessions in Europe/London local time: a small, strict subset of RFC 5545
//! recurrence rules (`RRULE`) and the series of sessions they describe.
//!
//! What it is for: a peer-support group meets "every Tuesday at 18:00 for 90 minutes until July";
//! a café opens "daily 18:00–23:00 during 2026". A [`Series`] holds that description (local start
//! date and time, duration, an optional [`Rule`], an optional end date, closures and one-off
//! changes) and [`Series::expand`] turns it into concrete [`Occurrence`]s with exact UTC instants,
//! ready for the store (microseconds) and for calendar feeds ([`crate::ical`]).
//!
//! What it must never do: any I/O (the time-zone database is compiled in through `jiff`'s
//! bundled tzdb, so the operating system's tzdata is never read), read the clock, or know about
//! SQL or HTTP. Callers pass the dates they want.
//!
//! Time zones: every local date and time is Europe/London wall-clock time. A local time that does
//! not exist (01:30 on the spring-forward day) moves forward by the gap (to 02:30 BST); a local
//! time that happens twice (01:30 on the fall-back day) takes the earlier instant (BST). This is
//! RFC 5545's rule and jiff's "compatible" disambiguation. A session's duration is elapsed time:
//! a 60-minute session always ends 60 minutes after it starts, even across a clock change.
//!
//! Supported rule parts: `FREQ` (`DAILY`, `WEEKLY`, `MONTHLY`), `INTERVAL`, `BYDAY` (numbered days
//! such as `1MO` or `-1FR` only with `MONTHLY`), `BYMONTHDAY` (not with `WEEKLY`), `COUNT`,
//! `UNTIL` (a date, or a UTC date-time ending in `Z`) and `WKST`. Anything else is refused with
//! a [`RecurrenceError`] whose message says what to change. See `docs/recurrence.md`.
//!
//! Occurrences are the dates the rule gives on or after the series' start date: the start date
//! itself is a session only when it matches the rule (as in python-dateutil). `COUNT` counts the
//! rule's dates before closures are removed (as RFC 5545 counts before `EXDATE`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use time::{Date, Month, OffsetDateTime, Time, UtcOffset, Weekday};

use crate::london::{london, london_instant, london_micros, london_offset_at, micros_to_utc};
pub use crate::london::{london_to_utc, utc_to_london};
use crate::time::Timestamp;

/// The most sessions one series may have.
pub const MAX_OCCURRENCES: u32 = 5_000;
/// The longest a series may last, in years from its start date.
pub const MAX_YEARS: i32 = 10;
/// The longest one session may last, in minutes (24 hours).
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;

/// Why a rule or a series was refused. Each message tells a person what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("The rule is empty: give at least FREQ=DAILY, FREQ=WEEKLY or FREQ=MONTHLY")]
    Empty,
    #[error("“{0}” is not a rule part: each part looks like NAME=VALUE, separated by semicolons")]
    MalformedPart(String),
    #[error(
        "{0} is not supported: use only FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL and WKST"
    )]
    UnsupportedPart(String),
    #[error("{0} is given more than once: give it once")]
    DuplicatePart(String),
    #[error("The rule needs a frequency: FREQ=DAILY, FREQ=WEEKLY or FREQ=MONTHLY")]
    MissingFrequency,
    #[error("“{0}” repeats are not supported: use DAILY, WEEKLY or MONTHLY")]
    UnsupportedFrequency(String),
    #[error("{part} must be a whole number, not “{value}”")]
    NotANumber { part: &'static str, value: String },
    #[error("Interval must be 1 or more")]
    IntervalZero,
    #[error("Interval must be {max} or less")]
    IntervalTooLarge { max: u32 },
    #[error("“{0}” is not a day of the week: use MO, TU, WE, TH, FR, SA or SU")]
    BadWeekday(String),
    #[error("“{0}”: a numbered day (such as 1MO, the first Monday) works only with FREQ=MONTHLY")]
    OrdinalNeedsMonthly(String),
    #[error("“{0}”: the number before the day must be 1 to 5 or -1 to -5")]
    BadOrdinal(String),
    #[error(
        "“{0}” is not a day of the month: use 1 to 31, or -1 to -31 counting from the month's end"
    )]
    BadMonthDay(String),
    #[error("BYMONTHDAY cannot be used with FREQ=WEEKLY: use FREQ=MONTHLY or FREQ=DAILY")]
    MonthDayWithWeekly,
    #[error("{0} needs at least one value")]
    EmptyList(&'static str),
    #[error("The number of times must be 1 or more")]
    CountZero,
    #[error("A series can have at most {max} sessions: give fewer times or an earlier end date")]
    TooManyOccurrences { max: u32 },
    #[error("Give either an end date (UNTIL) or a number of times (COUNT), not both")]
    CountAndUntil,
    #[error("“{0}” is not an end date: use YYYYMMDD, or YYYYMMDDTHHMMSSZ for a time in UTC")]
    BadUntil(String),
    #[error("The rule never ends: give an end date or a number of times")]
    NeverEnds,
    #[error("A series can last at most {years} years: give an earlier end date or fewer times")]
    TooLong { years: i32 },
    #[error("The end date is before the start date")]
    EndsBeforeStart,
    #[error("The rule gives no sessions between the start date and the end date")]
    NoOccurrences,
    #[error("A session must last between 1 minute and {max} minutes (24 hours)")]
    BadDuration { max: u32 },
    #[error("The dates are outside the range this calendar supports")]
    OutOfRange,
}

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
    /// [`Series::validate`]).
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

/// A one-off change to a single session, keyed in [`Series::overrides`] by the session's
/// original date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Override {
    /// The session is cancelled; [`Series::expand`] still returns it, flagged
    /// [`OccurrenceStatus::Cancelled`], at its original time.
    Cancelled,
    /// The session moves to another local date and time and/or lasts a different time.
    /// Give all three (repeat the unchanged ones).
    Moved {
        date: Date,
        time: Time,
        duration_minutes: u32,
    },
}

/// What happened to one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OccurrenceStatus {
    /// As the rule says.
    Scheduled,
    /// Changed by an [`Override::Moved`].
    Moved,
    /// Cancelled by an [`Override::Cancelled`] (still listed so pages can say "cancelled").
    Cancelled,
}

/// One concrete session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The date the rule gave (the RFC 5545 recurrence id); stable when the session moves.
    pub original_date: Date,
    /// Local start as it will be on the clock in London, with its offset (`+00:00` GMT or
    /// `+01:00` BST). For a time in the spring-forward gap this is the shifted time.
    pub local_start: OffsetDateTime,
    /// Local end as it will be on the clock in London, with its offset.
    pub local_end: OffsetDateTime,
    /// Start instant in UTC.
    pub start_utc: OffsetDateTime,
    /// End instant in UTC (start plus the duration in elapsed minutes).
    pub end_utc: OffsetDateTime,
    /// The same instants as microseconds since the Unix epoch (the store's encoding).
    pub start: Timestamp,
    pub end: Timestamp,
    pub duration_minutes: u32,
    pub status: OccurrenceStatus,
}

/// A series of sessions (or a single one when `rule` is `None`) in Europe/London local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The first date the rule may give (a single session's date when there is no rule).
    pub start_date: Date,
    /// Local wall-clock start time of every session.
    pub start_time: Time,
    /// 1..=1440.
    pub duration_minutes: u32,
    pub rule: Option<Rule>,
    /// The last local date a session may fall on (inclusive). Required when the rule has
    /// neither COUNT nor UNTIL; when both are given the earlier end wins.
    pub ends_on: Option<Date>,
    /// Closures: sessions on these original dates are removed entirely.
    pub exceptions: BTreeSet<Date>,
    /// One-off changes keyed by original date. An exception on the same date wins; entries for
    /// dates the rule does not give are ignored (check with [`Series::original_dates`]).
    pub overrides: BTreeMap<Date, Override>,
}

impl Series {
    /// A series with no exceptions or overrides.
    pub fn new(
        start_date: Date,
        start_time: Time,
        duration_minutes: u32,
        rule: Option<Rule>,
        ends_on: Option<Date>,
    ) -> Self {
        Self {
            start_date,
            start_time,
            duration_minutes,
            rule,
            ends_on,
            exceptions: BTreeSet::new(),
            overrides: BTreeMap::new(),
        }
    }

    /// Checks everything [`Series::expand`] checks, and also that the rule gives at least one
    /// session and that every moved session has a sensible duration.
    pub fn validate(&self) -> Result<(), RecurrenceError> {
        let dates = self.original_dates()?;
        if dates.is_empty() {
            return Err(RecurrenceError::NoOccurrences);
        }
        for o in self.overrides.values() {
            if let Override::Moved {
                duration_minutes, ..
            } = o
            {
                check_duration(*duration_minutes)?;
            }
        }
        Ok(())
    }

    /// Every date the rule gives, in order, before closures and changes are applied.
    pub fn original_dates(&self) -> Result<Vec<Date>, RecurrenceError> {
        check_duration(self.duration_minutes)?;
        let Some(rule) = &self.rule else {
            return Ok(vec![self.start_date]);
        };
        rule.validate()?;
        let horizon = add_years(self.start_date, MAX_YEARS)?;
        let mut limit: Option<Date> = self.ends_on;
        match rule.until {
            Some(Until::Date(d)) => limit = Some(limit.map_or(d, |l| l.min(d))),
            Some(Until::DateTime(dt)) => {
                let d = last_date_starting_by(dt, self.start_time)?;
                limit = Some(limit.map_or(d, |l| l.min(d)));
            }
            None => {}
        }
        if let Some(l) = self.ends_on {
            if l < self.start_date {
                return Err(RecurrenceError::EndsBeforeStart);
            }
        }
        if limit.is_none() && rule.count.is_none() {
            return Err(RecurrenceError::NeverEnds);
        }
        if let Some(l) = limit {
            if l > horizon {
                return Err(RecurrenceError::TooLong { years: MAX_YEARS });
            }
        }
        let count = rule.count.map(|c| c as usize);
        let last = limit.unwrap_or(horizon);
        let dates = generate(rule, self.start_date, last, count)?;
        if let Some(c) = count {
            if dates.len() < c && limit.is_none() {
                // COUNT not reached within the horizon.
                return Err(RecurrenceError::TooLong { years: MAX_YEARS });
            }
        }
        Ok(dates)
    }

    /// The sessions whose (possibly moved) local start date lies in `from..=to`, ordered by
    /// start instant (then by original date). Sessions on closure dates are left out;
    /// cancelled ones are included, flagged [`OccurrenceStatus::Cancelled`], at their
    /// original date and time. A session moved out of the window is left out and one moved
    /// into it is included, whatever its original date.
    pub fn expand(&self, from: Date, to: Date) -> Result<Vec<Occurrence>, RecurrenceError> {
        let dates = self.original_dates()?;
        let mut out = Vec::new();
        if from > to {
            return Ok(out);
        }
        let mut clock = LondonClock::default();
        for d in dates {
            if self.exceptions.contains(&d) {
                continue;
            }
            let (date, time, minutes, status) = self.effective(d)?;
            if date < from || date > to {
                continue;
            }
            out.push(occurrence(&mut clock, d, date, time, minutes, status)?);
        }
        if !self.overrides.is_empty() {
            out.sort_by_key(|o| (o.start, o.original_date));
        }
        Ok(out)
    }

    /// The session the rule gives on `original_date`, with its closure or change applied:
    /// `None` when the rule gives no session that day or it is closed. Cancelled and moved
    /// sessions are returned flagged (a moved one at its new time).
    pub fn occurrence_on(
        &self,
        original_date: Date,
    ) -> Result<Option<Occurrence>, RecurrenceError> {
        let dates = self.original_dates()?;
        if dates.binary_search(&original_date).is_err() || self.exceptions.contains(&original_date)
        {
            return Ok(None);
        }
        let (date, time, minutes, status) = self.effective(original_date)?;
        occurrence(
            &mut LondonClock::default(),
            original_date,
            date,
            time,
            minutes,
            status,
        )
        .map(Some)
    }

    fn effective(&self, d: Date) -> Result<(Date, Time, u32, OccurrenceStatus), RecurrenceError> {
        Ok(match self.overrides.get(&d) {
            None => (
                d,
                self.start_time,
                self.duration_minutes,
                OccurrenceStatus::Scheduled,
            ),
            Some(Override::Cancelled) => (
                d,
                self.start_time,
                self.duration_minutes,
                OccurrenceStatus::Cancelled,
            ),
            Some(Override::Moved {
                date,
                time,
                duration_minutes,
            }) => {
                check_duration(*duration_minutes)?;
                (*date, *time, *duration_minutes, OccurrenceStatus::Moved)
            }
        })
    }
}

fn occurrence(
    clock: &mut LondonClock,
    original_date: Date,
    date: Date,
    time: Time,
    minutes: u32,
    status: OccurrenceStatus,
) -> Result<Occurrence, RecurrenceError> {
    let (start_us, offset, exact) = clock.instant(date, time)?;
    let end_us = start_us + i64::from(minutes) * 60_000_000;
    let start_utc = micros_to_utc(start_us)?;
    let end_utc = micros_to_utc(end_us)?;
    // Cheap paths for the common case (no clock change involved); same values either way.
    let local_start = if exact {
        date.with_time(time).assume_offset(offset)
    } else {
        start_utc.to_offset(offset)
    };
    let end_offset = clock.offset_at(end_us)?;
    let local_end = if end_offset == offset {
        local_start + time::Duration::minutes(i64::from(minutes))
    } else {
        end_utc.to_offset(end_offset)
    };
    Ok(Occurrence {
        original_date,
        local_start,
        local_end,
        start_utc,
        end_utc,
        start: Timestamp(start_us),
        end: Timestamp(end_us),
        duration_minutes: minutes,
        status,
    })
}

fn check_duration(minutes: u32) -> Result<(), RecurrenceError> {
    if minutes == 0 || minutes > MAX_DURATION_MINUTES {
        return Err(RecurrenceError::BadDuration {
            max: MAX_DURATION_MINUTES,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Europe/London

/// Remembers the stretch of time between two clock changes that the last look-up fell in, so
/// that a year of daily sessions needs a handful of time-zone look-ups rather than one each.
///
/// Within `[lo, hi)` the offset is `offset_secs`. `lo` and `hi` stay [`CLOCK_MARGIN_MICROS`]
/// inside the transitions, more than any difference between two London offsets (at most two
/// hours, in 1941–1947), so a local time whose candidate instant falls inside cannot also be
/// read with another offset: it is unambiguous, and the answer equals [`london_instant`]'s.
#[derive(Debug, Default)]
struct LondonClock {
    window: Option<(i64, i64, i32)>,
}

const CLOCK_MARGIN_MICROS: i64 = 3 * 3_600 * 1_000_000;

impl LondonClock {
    fn instant(
        &mut self,
        date: Date,
        time: Time,
    ) -> Result<(i64, UtcOffset, bool), RecurrenceError> {
        let local_us = (i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) * 86_400_000_000
            + i64::from(time.hour()) * 3_600_000_000
            + i64::from(time.minute()) * 60_000_000
            + i64::from(time.second()) * 1_000_000
            + i64::from(time.microsecond());
        if let Some((lo, hi, secs)) = self.window {
            let candidate = local_us - i64::from(secs) * 1_000_000;
            if candidate >= lo && candidate < hi {
                let offset =
                    UtcOffset::from_whole_seconds(secs).map_err(|_| RecurrenceError::OutOfRange)?;
                return Ok((candidate, offset, true));
            }
        }
        let found = london_instant(date, time)?;
        self.remember(found.0);
        Ok(found)
    }

    fn offset_at(&mut self, micros: i64) -> Result<UtcOffset, RecurrenceError> {
        if let Some((lo, hi, secs)) = self.window {
            if micros >= lo && micros < hi {
                return UtcOffset::from_whole_seconds(secs)
                    .map_err(|_| RecurrenceError::OutOfRange);
            }
        }
        let offset = london_offset_at(micros)?;
        self.remember(micros);
        Ok(offset)
    }

    fn remember(&mut self, micros: i64) {
        let Ok(ts) = jiff::Timestamp::from_microsecond(micros) else {
            return;
        };
        let tz = london();
        let secs = tz.to_offset(ts).seconds();
        // The last transition at or before `micros` and the first one after it.
        let after = ts
            .checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(ts);
        let prev = tz
            .preceding(after)
            .next()
            .map(|t| t.timestamp().as_microsecond());
        let next = tz
            .following(ts)
            .next()
            .map(|t| t.timestamp().as_microsecond());
        let lo = prev.map_or(i64::MIN, |p| p.saturating_add(CLOCK_MARGIN_MICROS));
        let hi = next.map_or(i64::MAX, |n| n.saturating_sub(CLOCK_MARGIN_MICROS));
        self.window = (lo < hi).then_some((lo, hi, secs));
    }
}

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// The last local date whose session (at `time`) starts at or before `until`. Instants of
/// successive dates at one local time strictly increase, so this is a date bound.
fn last_date_starting_by(until: OffsetDateTime, time: Time) -> Result<Date, RecurrenceError> {
    let until_us = (until.unix_timestamp_nanos() / 1_000) as i64;
    let local_date = utc_to_london(until).date();
    if london_micros(local_date, time)? <= until_us {
        Ok(local_date)
    } else {
        local_date.previous_day().ok_or(RecurrenceError::OutOfRange)
    }
}

// ---------------------------------------------------------------------------------------------
// Generation: dates only (the time of day is the series'), as Julian day numbers.

fn add_years(d: Date, years: i32) -> Result<Date, RecurrenceError> {
    let y = d.year() + years;
    let day = d.day().min(time::util::days_in_month(d.month(), y));
    Date::from_calendar_date(y, d.month(), day).map_err(|_| RecurrenceError::OutOfRange)
}

fn jd_date(jd: i32) -> Result<Date, RecurrenceError> {
    Date::from_julian_day(jd).map_err(|_| RecurrenceError::OutOfRange)
}

fn generate(
    rule: &Rule,
    start: Date,
    last: Date,
    count: Option<usize>,
) -> Result<Vec<Date>, RecurrenceError> {
    let mut out: Vec<Date> = Vec::new();
    let full = |out: &Vec<Date>| count.is_some_and(|c| out.len() >= c);
    let s = start.to_julian_day();
    let l = last.to_julian_day();
    if l < s {
        return Ok(out);
    }
    let interval = rule.interval as i32;
    let weekday_ok =
        |d: Date| rule.by_day.is_empty() || rule.by_day.iter().any(|b| b.weekday == d.weekday());
    match rule.freq {
        Frequency::Daily => {
            let mut jd = s;
            while jd <= l && !full(&out) {
                let d = jd_date(jd)?;
                if weekday_ok(d) && month_day_ok(&rule.by_month_day, d) {
                    out.push(d);
                }
                jd += interval;
            }
        }
        Frequency::Weekly => {
            let wkst = rule.week_start.number_days_from_monday() as i32;
            let back = (start.weekday().number_days_from_monday() as i32 - wkst).rem_euclid(7);
            let mut offsets: Vec<i32> = if rule.by_day.is_empty() {
                vec![back]
            } else {
                rule.by_day
                    .iter()
                    .map(|b| (b.weekday.number_days_from_monday() as i32 - wkst).rem_euclid(7))
                    .collect()
            };
            offsets.sort_unstable();
            offsets.dedup();
            let mut week = s - back;
            'weeks: while week <= l {
                for &o in &offsets {
                    let jd = week + o;
                    if jd > l || full(&out) {
                        break 'weeks;
                    }
                    if jd >= s {
                        out.push(jd_date(jd)?);
                    }
                }
                week += 7 * interval;
            }
        }
        Frequency::Monthly => {
            let mut y = start.year();
            let mut m = u8::from(start.month()) as i32; // 1..=12
            let mut days: Vec<u8> = Vec::with_capacity(31);
            loop {
                let month = Month::try_from(m as u8).map_err(|_| RecurrenceError::OutOfRange)?;
                let first = Date::from_calendar_date(y, month, 1)
                    .map_err(|_| RecurrenceError::OutOfRange)?;
                if first > last || full(&out) {
                    break;
                }
                month_days(rule, start, first, &mut days);
                for &day in &days {
                    let d = first
                        .replace_day(day)
                        .map_err(|_| RecurrenceError::OutOfRange)?;
                    if d < start {
                        continue;
                    }
                    if d > last || full(&out) {
                        break;
                    }
                    out.push(d);
                }
                m += interval;
                y += (m - 1) / 12;
                m = (m - 1) % 12 + 1;
            }
        }
    }
    Ok(out)
}

fn month_day_ok(by_month_day: &[i8], d: Date) -> bool {
    if by_month_day.is_empty() {
        return true;
    }
    let dim = time::util::days_in_month(d.month(), d.year()) as i32;
    let day = d.day() as i32;
    by_month_day.iter().any(|&m| {
        let m = m as i32;
        if m > 0 {
            m == day
        } else {
            dim + m + 1 == day
        }
    })
}

/// The days (1..=31, sorted, distinct) a MONTHLY rule gives in the month starting at `first`.
fn month_days(rule: &Rule, start: Date, first: Date, out: &mut Vec<u8>) {
    out.clear();
    let dim = time::util::days_in_month(first.month(), first.year()) as i32;
    let wd1 = first.weekday().number_days_from_monday() as i32;
    let by_day_hit = |day: i32| -> bool {
        let wd = (wd1 + day - 1).rem_euclid(7);
        rule.by_day.iter().any(|b| {
            if b.weekday.number_days_from_monday() as i32 != wd {
                return false;
            }
            match b.ordinal {
                None => true,
                Some(n) if n > 0 => (day - 1) / 7 + 1 == n as i32,
                Some(n) => (dim - day) / 7 + 1 == -(n as i32),
            }
        })
    };
    let month_day_hit = |day: i32| -> bool {
        rule.by_month_day.iter().any(|&m| {
            if m > 0 {
                m as i32 == day
            } else {
                dim + m as i32 + 1 == day
            }
        })
    };
    for day in 1..=dim {
        let hit = match (rule.by_day.is_empty(), rule.by_month_day.is_empty()) {
            (true, true) => day == start.day() as i32,
            (false, true) => by_day_hit(day),
            (true, false) => month_day_hit(day),
            (false, false) => by_day_hit(day) && month_day_hit(day),
        };
        if hit {
            out.push(day as u8);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers and words.

fn parse_u32(part: &'static str, value: &str) -> Result<u32, RecurrenceError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RecurrenceError::NotANumber {
            part,
            value: value.to_string(),
        });
    }
    // All digits: too large for u32 means far beyond every limit.
    Ok(value.parse::<u32>().unwrap_or(u32::MAX))
}

fn parse_weekday(s: &str) -> Result<Weekday, RecurrenceError> {
    Ok(match s {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return Err(RecurrenceError::BadWeekday(s.to_string())),
    })
}

fn parse_by_day(item: &str) -> Result<ByDay, RecurrenceError> {
    if item.len() < 2 || !item.is_char_boundary(item.len() - 2) {
        return Err(RecurrenceError::BadWeekday(item.to_string()));
    }
    let (num, code) = item.split_at(item.len() - 2);
    let weekday = parse_weekday(code).map_err(|_| RecurrenceError::BadWeekday(item.to_string()))?;
    if num.is_empty() {
        return Ok(ByDay::every(weekday));
    }
    let digits = num.strip_prefix(['+', '-']).unwrap_or(num);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RecurrenceError::BadWeekday(item.to_string()));
    }
    let n: i32 = num
        .trim_start_matches('+')
        .parse()
        .map_err(|_| RecurrenceError::BadOrdinal(item.to_string()))?;
    if n == 0 || !(-5..=5).contains(&n) {
        return Err(RecurrenceError::BadOrdinal(item.to_string()));
    }
    Ok(ByDay::nth(n as i8, weekday))
}

fn parse_until(value: &str) -> Result<Until, RecurrenceError> {
    let bad = || RecurrenceError::BadUntil(value.to_string());
    let b = value.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<u32, RecurrenceError> {
        let s = value.get(r).ok_or_else(bad)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let date = |_: ()| -> Result<Date, RecurrenceError> {
        let y = num(0..4)? as i32;
        let m = Month::try_from(num(4..6)? as u8).map_err(|_| bad())?;
        Date::from_calendar_date(y, m, num(6..8)? as u8).map_err(|_| bad())
    };
    match b.len() {
        8 => Ok(Until::Date(date(())?)),
        16 if b[8] == b'T' && b[15] == b'Z' => {
            let d = date(())?;
            let t = Time::from_hms(num(9..11)? as u8, num(11..13)? as u8, num(13..15)? as u8)
                .map_err(|_| bad())?;
            Ok(Until::DateTime(d.with_time(t).assume_utc()))
        }
        _ => Err(bad()),
    }
}

fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "MO",
        Weekday::Tuesday => "TU",
        Weekday::Wednesday => "WE",
        Weekday::Thursday => "TH",
        Weekday::Friday => "FR",
        Weekday::Saturday => "SA",
        Weekday::Sunday => "SU",
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

fn ordinal_word(n: i8) -> &'static str {
    match n {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        -1 => "last",
        -2 => "second to last",
        -3 => "third to last",
        -4 => "fourth to last",
        _ => "fifth to last",
    }
}

fn english_suffix(n: i8) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn join_and(items: &[String], last_sep: &str) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{}{}{}", items[..n - 1].join(", "), last_sep, items[n - 1]),
    }
}

fn long_date(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime, time};

    fn series(rule: &str, start: Date, at: Time, minutes: u32, ends_on: Option<Date>) -> Series {
        Series::new(start, at, minutes, Some(rule.parse().unwrap()), ends_on)
    }

    fn dates(occ: &[Occurrence]) -> Vec<Date> {
        occ.iter().map(|o| o.local_start.date()).collect()
    }

    #[test]
    fn daily_cafe_over_2026_has_365_sessions_and_follows_the_clock_changes() {
        let s = series(
            "FREQ=DAILY",
            date!(2026 - 01 - 01),
            time!(18:00),
            300,
            Some(date!(2026 - 12 - 31)),
        );
        let occ = s
            .expand(date!(2026 - 01 - 01), date!(2026 - 12 - 31))
            .unwrap();
        assert_eq!(occ.len(), 365);
        let utc_hour = |d: Date| {
            occ.iter()
                .find(|o| o.original_date == d)
                .map(|o| (o.start_utc.hour(), o.end_utc.hour()))
                .unwrap()
        };
        // GMT until the last Sunday of March, BST from 29 March, GMT again from 25 October.
        assert_eq!(utc_hour(date!(2026 - 01 - 15)), (18, 23));
        assert_eq!(utc_hour(date!(2026 - 03 - 28)), (18, 23));
        assert_eq!(utc_hour(date!(2026 - 03 - 29)), (17, 22));
        assert_eq!(utc_hour(date!(2026 - 07 - 01)), (17, 22));
        assert_eq!(utc_hour(date!(2026 - 10 - 24)), (17, 22));
        assert_eq!(utc_hour(date!(2026 - 10 - 25)), (18, 23));
        assert_eq!(utc_hour(date!(2026 - 12 - 31)), (18, 23));
        for o in &occ {
            assert_eq!(o.local_start.time(), time!(18:00));
            assert_eq!(o.end.0 - o.start.0, 300 * 60_000_000);
            assert_eq!(
                o.start.0,
                (o.start_utc.unix_timestamp_nanos() / 1000) as i64
            );
            assert_eq!(o.status, OccurrenceStatus::Scheduled);
        }
        let summer = occ
            .iter()
            .find(|o| o.original_date == date!(2026 - 06 - 01))
            .unwrap();
        assert_eq!(
            summer.local_start.offset(),
            UtcOffset::from_hms(1, 0, 0).unwrap()
        );
        assert!(occ.windows(2).all(|w| w[0].start < w[1].start));
    }

    #[test]
    fn leap_year_2028_has_366_daily_sessions() {
        let s = series(
            "FREQ=DAILY;UNTIL=20281231",
            date!(2028 - 01 - 01),
            time!(18:00),
            300,
            None,
        );
        let occ = s
            .expand(date!(2028 - 01 - 01), date!(2028 - 12 - 31))
            .unwrap();
        assert_eq!(occ.len(), 366);
        assert!(occ.iter().any(|o| o.original_date == date!(2028 - 02 - 29)));
    }

    #[test]
    fn weekly_on_tuesdays() {
        let s = series(
            "FREQ=WEEKLY;BYDAY=TU;COUNT=5",
            date!(2026 - 03 - 01), // a Sunday: the first session is the next Tuesday
            time!(10:30),
            90,
            None,
        );
        let occ = s
            .expand(date!(2026 - 01 - 01), date!(2026 - 12 - 31))
            .unwrap();
        assert_eq!(
            dates(&occ),
            vec![
                date!(2026 - 03 - 03),
                date!(2026 - 03 - 10),
                date!(2026 - 03 - 17),
                date!(2026 - 03 - 24),
                date!(2026 - 03 - 31),
            ]
        );
        assert_eq!(occ[3].start_utc, datetime!(2026-03-24 10:30 UTC));
        assert_eq!(occ[4].start_utc, datetime!(2026-03-31 09:30 UTC));
        assert_eq!(occ[4].end_utc, datetime!(2026-03-31 11:00 UTC));
    }

    #[test]
    fn fortnightly_respects_week_start() {
        // Every other week on Monday and Sunday; with WKST=MO the Sunday belongs to the
        // Monday's week, with WKST=SU it starts the next week.
        let mo = series(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;COUNT=4",
            date!(2026 - 01 - 05),
            time!(9:00),
            60,
            None,
        );
        assert_eq!(
            mo.original_dates().unwrap(),
            vec![
                date!(2026 - 01 - 05),
                date!(2026 - 01 - 11),
                date!(2026 - 01 - 19),
                date!(2026 - 01 - 25)
            ]
        );
        let su = series(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;COUNT=4;WKST=SU",
            date!(2026 - 01 - 05),
            time!(9:00),
            60,
            None,
        );
        assert_eq!(
            su.original_dates().unwrap(),
            vec![
                date!(2026 - 01 - 05),
                date!(2026 - 01 - 18),
                date!(2026 - 01 - 19),
                date!(2026 - 02 - 01)
            ]
        );
    }

    #[test]
    fn first_monday_and_last_friday_of_the_month() {
        let s = series(
            "FREQ=MONTHLY;BYDAY=1MO;UNTIL=20260630",
            date!(2026 - 01 - 01),
            time!(14:00),
            120,
            None,
        );
        assert_eq!(
            s.original_dates().unwrap(),
            vec![
                date!(2026 - 01 - 05),
                date!(2026 - 02 - 02),
                date!(2026 - 03 - 02),
                date!(2026 - 04 - 06),
                date!(2026 - 05 - 04),
                date!(2026 - 06 - 01),
            ]
        );
        let s = series(
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
            date!(2026 - 01 - 01),
            time!(14:00),
            120,
            None,
        );
        assert_eq!(
            s.original_dates().unwrap(),
            vec![
                date!(2026 - 01 - 30),
                date!(2026 - 02 - 27),
                date!(2026 - 03 - 27)
            ]
        );
    }

    #[test]
    fn numbered_and_plain_days_combine_as_a_union() {
        // RFC 5545: BYDAY values add up. (python-dateutil intersects the two kinds, so the
        // reference test never mixes them; this test pins our behaviour.)
        let s = series(
            "FREQ=MONTHLY;BYDAY=1MO,FR;COUNT=6",
            date!(2026 - 06 - 01),
            time!(9:00),
            30,
            None,
        );
        assert_eq!(
            s.original_dates().unwrap(),
            vec![
                date!(2026 - 06 - 01),
                date!(2026 - 06 - 05),
                date!(2026 - 06 - 12),
                date!(2026 - 06 - 19),
                date!(2026 - 06 - 26),
                date!(2026 - 07 - 03),
            ]
        );
    }

    #[test]
    fn monthly_on_the_31st_skips_short_months_and_last_day_works() {
        let s = series(
            "FREQ=MONTHLY;COUNT=4",
            date!(2026 - 01 - 31),
            time!(9:00),
            30,
            None,
        );
        assert_eq!(
            s.original_dates().unwrap(),
            vec![
                date!(2026 - 01 - 31),
                date!(2026 - 03 - 31),
                date!(2026 - 05 - 31),
                date!(2026 - 07 - 31)
            ]
        );
        let s = series(
            "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
            date!(2028 - 01 - 15),
            time!(9:00),
            30,
            None,
        );
        assert_eq!(
            s.original_dates().unwrap(),
            vec![
                date!(2028 - 01 - 31),
                date!(2028 - 02 - 29),
                date!(2028 - 03 - 31)
            ]
        );
        // Friday the 13th.
        let s = series(
            "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=2",
            date!(2026 - 01 - 01),
            time!(9:00),
            30,
            None,
        );
        assert_eq!(
            s.original_dates().unwrap(),
            vec![date!(2026 - 02 - 13), date!(2026 - 03 - 13)]
        );
    }

    #[test]
    fn closures_remove_and_overrides_cancel_or_move() {
        let mut s = series(
            "FREQ=WEEKLY;BYDAY=TU",
            date!(2026 - 09 - 01),
            time!(18:00),
            90,
            Some(date!(2026 - 09 - 30)),
        );
        s.exceptions.insert(date!(2026 - 09 - 08));
        s.overrides
            .insert(date!(2026 - 09 - 15), Override::Cancelled);
        s.overrides.insert(
            date!(2026 - 09 - 22),
            Override::Moved {
                date: date!(2026 - 10 - 26),
                time: time!(19:00),
                duration_minutes: 60,
            },
        );
        s.overrides.insert(
            date!(2026 - 09 - 29),
            Override::Moved {
                date: date!(2026 - 09 - 28),
                time: time!(17:30),
                duration_minutes: 90,
            },
        );
        // An override for a date the rule does not give is ignored.
        s.overrides
            .insert(date!(2026 - 09 - 02), Override::Cancelled);
        s.validate().unwrap();
        let occ = s
            .expand(date!(2026 - 09 - 01), date!(2026 - 12 - 31))
            .unwrap();
        let got: Vec<(Date, Date, OccurrenceStatus)> = occ
            .iter()
            .map(|o| (o.original_date, o.local_start.date(), o.status))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    date!(2026 - 09 - 01),
                    date!(2026 - 09 - 01),
                    OccurrenceStatus::Scheduled
                ),
                (
                    date!(2026 - 09 - 15),
                    date!(2026 - 09 - 15),
                    OccurrenceStatus::Cancelled
                ),
                (
                    date!(2026 - 09 - 29),
                    date!(2026 - 09 - 28),
                    OccurrenceStatus::Moved
                ),
                (
                    date!(2026 - 09 - 22),
                    date!(2026 - 10 - 26),
                    OccurrenceStatus::Moved
                ),
            ]
        );
        let moved = occ[3];
        assert_eq!(moved.start_utc, datetime!(2026-10-26 19:00 UTC));
        assert_eq!(moved.end_utc, datetime!(2026-10-26 20:00 UTC));
        assert_eq!(occ[2].start_utc, datetime!(2026-09-28 16:30 UTC));
        // A window the session moved out of does not show it; one it moved into does.
        let sept22 = s
            .expand(date!(2026 - 09 - 22), date!(2026 - 09 - 22))
            .unwrap();
        assert!(sept22.is_empty());
        let oct = s
            .expand(date!(2026 - 10 - 01), date!(2026 - 10 - 31))
            .unwrap();
        assert_eq!(oct.len(), 1);
        assert_eq!(oct[0].original_date, date!(2026 - 09 - 22));
        // One session looked up by its original date.
        let one = s.occurrence_on(date!(2026 - 09 - 22)).unwrap().unwrap();
        assert_eq!(one, moved);
        assert_eq!(one.local_end, datetime!(2026-10-26 20:00 +00:00));
        let first = s.occurrence_on(date!(2026 - 09 - 01)).unwrap().unwrap();
        assert_eq!(first.local_start, datetime!(2026-09-01 18:00 +01:00));
        assert_eq!(first.local_end, datetime!(2026-09-01 19:30 +01:00));
        assert_eq!(
            s.occurrence_on(date!(2026 - 09 - 15))
                .unwrap()
                .unwrap()
                .status,
            OccurrenceStatus::Cancelled
        );
        assert_eq!(s.occurrence_on(date!(2026 - 09 - 08)).unwrap(), None); // closed
        assert_eq!(s.occurrence_on(date!(2026 - 09 - 09)).unwrap(), None); // not a Tuesday
    }

    #[test]
    fn spring_forward_gap_shifts_forward_and_fall_back_takes_the_earlier_time() {
        let s = series(
            "FREQ=DAILY;COUNT=3",
            date!(2026 - 03 - 28),
            time!(1:30),
            60,
            None,
        );
        let occ = s
            .expand(date!(2026 - 03 - 01), date!(2026 - 03 - 31))
            .unwrap();
        assert_eq!(occ[0].start_utc, datetime!(2026-03-28 01:30 UTC));
        // 01:30 does not exist on 29 March 2026: it becomes 02:30 BST = 01:30Z.
        assert_eq!(occ[1].start_utc, datetime!(2026-03-29 01:30 UTC));
        assert_eq!(occ[1].local_start, datetime!(2026-03-29 02:30 +01:00));
        assert_eq!(occ[2].start_utc, datetime!(2026-03-30 00:30 UTC));

        let s = series(
            "FREQ=DAILY;COUNT=3",
            date!(2026 - 10 - 24),
            time!(1:30),
            60,
            None,
        );
        let occ = s
            .expand(date!(2026 - 10 - 01), date!(2026 - 10 - 31))
            .unwrap();
        assert_eq!(occ[0].start_utc, datetime!(2026-10-24 00:30 UTC));
        // 01:30 happens twice on 25 October 2026: the first (BST) one is taken.
        assert_eq!(occ[1].start_utc, datetime!(2026-10-25 00:30 UTC));
        assert_eq!(occ[1].local_start, datetime!(2026-10-25 01:30 +01:00));
        // Elapsed duration: ends at 01:30 GMT, one hour later.
        assert_eq!(occ[1].end_utc, datetime!(2026-10-25 01:30 UTC));
        // …which the clock in London shows as 01:30 again (GMT).
        assert_eq!(occ[1].local_end, datetime!(2026-10-25 01:30 +00:00));
        assert_eq!(occ[2].start_utc, datetime!(2026-10-26 01:30 UTC));
    }

    #[test]
    fn until_in_utc_is_an_inclusive_instant() {
        // 18:00 BST on 1 July is 17:00Z: an UNTIL at exactly that instant includes it.
        let s = series(
            "FREQ=DAILY;UNTIL=20260701T170000Z",
            date!(2026 - 06 - 29),
            time!(18:00),
            60,
            None,
        );
        assert_eq!(s.original_dates().unwrap().len(), 3);
        let s = series(
            "FREQ=DAILY;UNTIL=20260701T165959Z",
            date!(2026 - 06 - 29),
            time!(18:00),
            60,
            None,
        );
        assert_eq!(s.original_dates().unwrap().len(), 2);
    }

    #[test]
    fn single_session_without_a_rule() {
        let s = Series::new(date!(2026 - 05 - 05), time!(11:00), 45, None, None);
        let occ = s
            .expand(date!(2026 - 05 - 01), date!(2026 - 05 - 31))
            .unwrap();
        assert_eq!(occ.len(), 1);
        assert_eq!(occ[0].start_utc, datetime!(2026-05-05 10:00 UTC));
        assert!(s
            .expand(date!(2026 - 06 - 01), date!(2026 - 06 - 30))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn refusals_say_what_to_change() {
        let err = |s: &str| Rule::parse(s).unwrap_err();
        assert_eq!(err(""), RecurrenceError::Empty);
        assert_eq!(
            err("FREQ=YEARLY"),
            RecurrenceError::UnsupportedFrequency("YEARLY".into())
        );
        assert_eq!(
            err("FREQ=DAILY;INTERVAL=0").to_string(),
            "Interval must be 1 or more"
        );
        assert_eq!(
            err("FREQ=DAILY;INTERVAL=x").to_string(),
            "INTERVAL must be a whole number, not “X”"
        );
        assert_eq!(
            err("FREQ=DAILY;BYHOUR=9"),
            RecurrenceError::UnsupportedPart("BYHOUR".into())
        );
        assert_eq!(err("INTERVAL=2"), RecurrenceError::MissingFrequency);
        assert_eq!(
            err("FREQ=DAILY;FREQ=WEEKLY"),
            RecurrenceError::DuplicatePart("FREQ".into())
        );
        assert_eq!(
            err("FREQ=WEEKLY;BYDAY=1MO"),
            RecurrenceError::OrdinalNeedsMonthly("1MO".into())
        );
        assert_eq!(
            err("FREQ=MONTHLY;BYDAY=6MO"),
            RecurrenceError::BadOrdinal("6MO".into())
        );
        assert_eq!(
            err("FREQ=MONTHLY;BYDAY=XX"),
            RecurrenceError::BadWeekday("XX".into())
        );
        assert_eq!(
            err("FREQ=MONTHLY;BYMONTHDAY=32"),
            RecurrenceError::BadMonthDay("32".into())
        );
        assert_eq!(
            err("FREQ=WEEKLY;BYMONTHDAY=3"),
            RecurrenceError::MonthDayWithWeekly
        );
        assert_eq!(err("FREQ=DAILY;COUNT=0"), RecurrenceError::CountZero);
        assert_eq!(
            err("FREQ=DAILY;COUNT=5001"),
            RecurrenceError::TooManyOccurrences { max: 5000 }
        );
        assert_eq!(
            err("FREQ=DAILY;COUNT=3;UNTIL=20260101"),
            RecurrenceError::CountAndUntil
        );
        assert_eq!(
            err("FREQ=DAILY;UNTIL=20260101T120000"),
            RecurrenceError::BadUntil("20260101T120000".into())
        );
        assert_eq!(
            err("FREQ=DAILY;UNTIL=20260230"),
            RecurrenceError::BadUntil("20260230".into())
        );
        assert_eq!(err("FREQ"), RecurrenceError::MalformedPart("FREQ".into()));

        let never = series("FREQ=WEEKLY", date!(2026 - 01 - 01), time!(9:00), 60, None);
        let e = never
            .expand(date!(2026 - 01 - 01), date!(2026 - 12 - 31))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "The rule never ends: give an end date or a number of times"
        );
        let long = series(
            "FREQ=WEEKLY",
            date!(2026 - 01 - 01),
            time!(9:00),
            60,
            Some(date!(2036 - 01 - 02)),
        );
        assert_eq!(
            long.validate().unwrap_err(),
            RecurrenceError::TooLong { years: 10 }
        );
        let ok = series(
            "FREQ=WEEKLY",
            date!(2026 - 01 - 01),
            time!(9:00),
            60,
            Some(date!(2036 - 01 - 01)),
        );
        ok.validate().unwrap();
        // COUNT that cannot be reached within ten years (February has no 30th).
        let stuck = series(
            "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30;COUNT=2",
            date!(2026 - 02 - 01),
            time!(9:00),
            60,
            None,
        );
        assert_eq!(
            stuck.validate().unwrap_err(),
            RecurrenceError::TooLong { years: 10 }
        );
        let empty = series(
            "FREQ=MONTHLY;BYMONTHDAY=30",
            date!(2026 - 02 - 01),
            time!(9:00),
            60,
            Some(date!(2026 - 02 - 28)),
        );
        assert_eq!(
            empty.validate().unwrap_err(),
            RecurrenceError::NoOccurrences
        );
        let before = series(
            "FREQ=DAILY",
            date!(2026 - 02 - 01),
            time!(9:00),
            60,
            Some(date!(2026 - 01 - 28)),
        );
        assert_eq!(
            before.validate().unwrap_err(),
            RecurrenceError::EndsBeforeStart
        );
        let zero = Series::new(date!(2026 - 02 - 01), time!(9:00), 0, None, None);
        assert!(matches!(
            zero.validate(),
            Err(RecurrenceError::BadDuration { .. })
        ));
    }

    #[test]
    fn rules_print_canonically_and_describe_themselves() {
        let r: Rule = "rrule:byday=fr,-1fr,mo;freq=monthly;interval=2;count=4;wkst=su"
            .parse()
            .unwrap();
        assert_eq!(
            r.to_string(),
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,FR,-1FR;COUNT=4;WKST=SU"
        );
        assert_eq!(
            Rule::parse("FREQ=DAILY;UNTIL=20261231T235959Z")
                .unwrap()
                .to_string(),
            "FREQ=DAILY;UNTIL=20261231T235959Z"
        );
        assert_eq!(
            Rule::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH")
                .unwrap()
                .describe(),
            "Every 2 weeks on Tuesday and Thursday"
        );
        assert_eq!(
            Rule::parse("FREQ=MONTHLY;BYDAY=1MO;COUNT=6")
                .unwrap()
                .describe(),
            "The first Monday of each month, 6 times"
        );
        assert_eq!(
            Rule::parse("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;COUNT=6")
                .unwrap()
                .describe(),
            "Every 2 months on the last Friday, 6 times"
        );
        assert_eq!(
            Rule::parse("FREQ=WEEKLY;BYDAY=TU;COUNT=1")
                .unwrap()
                .describe(),
            "Every Tuesday, once"
        );
        assert_eq!(
            Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260701T170000Z")
                .unwrap()
                .describe(),
            "Every Monday, Wednesday and Friday, until 1 July 2026"
        );
        assert_eq!(
            Rule::parse("FREQ=WEEKLY;COUNT=3").unwrap().describe(),
            "Every week, 3 times"
        );
        assert_eq!(
            Rule::parse("FREQ=DAILY;UNTIL=20261231").unwrap().describe(),
            "Every day, until 31 December 2026"
        );
        assert_eq!(
            Rule::parse("FREQ=MONTHLY;BYMONTHDAY=1,-1")
                .unwrap()
                .describe(),
            "Every month on the last day and the 1st"
        );
    }

    fn weekday() -> impl Strategy<Value = Weekday> {
        (0u8..7).prop_map(|n| Weekday::Monday.nth_next(n))
    }

    prop_compose! {
        fn any_rule()(
            freq in prop_oneof![Just(Frequency::Daily), Just(Frequency::Weekly), Just(Frequency::Monthly)],
            interval in 1u32..5,
            days in proptest::collection::vec((proptest::option::of(prop_oneof![1i8..=5, -5i8..=-1]), weekday()), 0..4),
            month_days in proptest::collection::vec(prop_oneof![1i8..=31, -31i8..=-1], 0..3),
            end in 0u8..3,
            count in 1u32..60,
            until_days in 0i64..800,
            until_secs in 0i64..86_400,
            week_start in weekday(),
        ) -> Rule {
            let mut r = Rule::new(freq);
            r.interval = interval;
            r.by_day = days.into_iter().map(|(o, w)| ByDay {
                ordinal: if freq == Frequency::Monthly { o } else { None },
                weekday: w,
            }).collect();
            if freq != Frequency::Weekly {
                r.by_month_day = month_days;
            }
            let base = date!(2026 - 01 - 01);
            match end {
                0 => r.count = Some(count),
                1 => r.until = Some(Until::Date(base + time::Duration::days(until_days))),
                _ => r.until = Some(Until::DateTime(
                    (base + time::Duration::days(until_days)).midnight().assume_utc()
                        + time::Duration::seconds(until_secs))),
            }
            r.week_start = week_start;
            r.normalize();
            r
        }
    }

    #[test]
    fn the_remembered_clock_agrees_with_direct_look_ups() {
        // Every quarter hour of three days around each clock change of 2026, and noon on
        // every day 1990–2040, in order and then out of order.
        let mut probes = Vec::new();
        for day in [date!(2026 - 03 - 28), date!(2026 - 10 - 24)] {
            for k in 0..(3 * 96) {
                let d = day + time::Duration::days(k / 96);
                let m = (k % 96) * 15;
                probes.push((
                    d,
                    Time::from_hms((m / 60) as u8, (m % 60) as u8, 0).unwrap(),
                ));
            }
        }
        let mut d = date!(1990 - 01 - 01);
        while d < date!(2040 - 01 - 01) {
            probes.push((d, time!(12:00)));
            probes.push((d, time!(1:30)));
            d = d.next_day().unwrap();
        }
        let mut clock = LondonClock::default();
        for (i, &(d, t)) in probes.iter().enumerate() {
            assert_eq!(
                clock.instant(d, t).unwrap(),
                london_instant(d, t).unwrap(),
                "{d} {t}"
            );
            let us = london_micros(d, t).unwrap() + 3_600_000_000 * (i as i64 % 7);
            assert_eq!(clock.offset_at(us).unwrap(), london_offset_at(us).unwrap());
        }
        let mut clock = LondonClock::default();
        for k in 0..probes.len() {
            let (d, t) = probes[(k * 7919) % probes.len()];
            assert_eq!(
                clock.instant(d, t).unwrap(),
                london_instant(d, t).unwrap(),
                "{d} {t}"
            );
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(
            junk in "\\PC{0,40}",
            near in "(RRULE:)?(FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY|é)|INTERVAL=-?[0-9é]{0,12}|BYDAY=[+-]?[0-9]?(MO|TU|XX|é)|BYMONTHDAY=-?[0-9]{0,3}|COUNT=[0-9]{0,11}|UNTIL=[0-9TZé]{0,17}|WKST=[A-Zé]{0,3}|;|=)*",
        ) {
            let _ = Rule::parse(&junk);
            if let Ok(r) = Rule::parse(&near) {
                prop_assert_eq!(Rule::parse(&r.to_string()).unwrap(), r);
            }
        }

        #[test]
        fn display_then_parse_round_trips(r in any_rule()) {
            let text = r.to_string();
            prop_assert_eq!(Rule::parse(&text).unwrap(), r);
        }

        #[test]
        fn expansion_is_ordered_bounded_and_matches_the_rule(r in any_rule(), start_days in 0i64..400, minutes in 0u32..1440) {
            let start = date!(2026 - 01 - 01) + time::Duration::days(start_days);
            let at = Time::from_hms((minutes / 60) as u8, (minutes % 60) as u8, 0).unwrap();
            let s = Series::new(start, at, 60, Some(r.clone()), None);
            let occ = match s.expand(date!(2020 - 01 - 01), date!(2040 - 01 - 01)) {
                Ok(o) => o,
                Err(RecurrenceError::TooLong { .. }) => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            };
            if let Some(c) = r.count {
                prop_assert_eq!(occ.len(), c as usize);
            }
            for w in occ.windows(2) {
                prop_assert!(w[0].start < w[1].start);
            }
            for o in &occ {
                let d = o.original_date;
                prop_assert!(d >= start);
                if !r.by_day.is_empty() {
                    prop_assert!(r.by_day.iter().any(|b| b.weekday == d.weekday()));
                }
                match r.until {
                    Some(Until::Date(u)) => prop_assert!(d <= u),
                    Some(Until::DateTime(u)) => prop_assert!(o.start_utc <= u),
                    None => {}
                }
                // The local clock shows the requested time, except in the spring-forward gap.
                let local = o.local_start;
                if local.time() != at {
                    prop_assert_eq!(local.date().month(), Month::March);
                    prop_assert_eq!(at.hour(), 1);
                    prop_assert_eq!(local.time().hour(), 2);
                }
                prop_assert_eq!(o.end.0 - o.start.0, 3_600_000_000);
            }
        }
    }
}
