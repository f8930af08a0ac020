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
//!
//! The parts: `rule` (the rule, its parsing, validation, RRULE text and plain-English
//! description), `series` (a series and its expansion into occurrences), `generate` (the dates a
//! rule gives), `clock` (the London clock that expansion reads through) and `words` (the small
//! parsers and words the rule uses); the unit and property tests are in `tests`.

mod clock;
mod generate;
mod rule;
mod series;
mod words;

#[cfg(test)]
mod tests;

pub use self::rule::{ByDay, Frequency, Rule, Until, MAX_INTERVAL};
pub use self::series::{Occurrence, OccurrenceStatus, Override, Series};

pub use crate::london::{london_to_utc, utc_to_london};

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
