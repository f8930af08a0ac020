//! Time in the domain: a UTC timestamp newtype with one explicit encoding (microseconds since
//! the Unix epoch, an `i64`) used identically by every backend, and a clock that callers pass
//! in so that rules never read the wall clock themselves.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        Self((dt.unix_timestamp_nanos() / 1_000) as i64)
    }
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
    pub fn micros(self) -> i64 {
        self.0
    }
    pub fn date(self) -> Date {
        self.to_datetime().date()
    }
    /// RFC 3339 in UTC, e.g. `2026-11-22T21:13:58.123456Z`.
    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
    pub fn plus_seconds(self, s: i64) -> Self {
        Self(self.0 + s * 1_000_000)
    }
}

/// Today's date and the current instant, supplied by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub at: Timestamp,
    pub today: Date,
}

impl Now {
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        Self {
            at: Timestamp::from_datetime(dt),
            today: dt.date(),
        }
    }
}

/// Parses an ISO 8601 calendar date (`YYYY-MM-DD`).
pub fn parse_iso_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}

/// Formats a date as ISO 8601 (`YYYY-MM-DD`), the form stored in both databases.
pub fn iso_date(d: Date) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    d.format(&fmt).unwrap_or_default()
}

/// A date as people read it in the UK, e.g. `7 March 1958`.
pub fn display_date(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

/// Whole years between `dob` and `on`.
pub fn age_on(dob: Date, on: Date) -> i32 {
    let mut age = on.year() - dob.year();
    if (on.month() as u8, on.day()) < (dob.month() as u8, dob.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ages() {
        assert_eq!(age_on(date!(1958 - 03 - 07), date!(2026 - 03 - 06)), 67);
        assert_eq!(age_on(date!(1958 - 03 - 07), date!(2026 - 03 - 07)), 68);
        assert_eq!(age_on(date!(2000 - 02 - 29), date!(2026 - 02 - 28)), 25);
    }

    #[test]
    fn iso_round_trip() {
        let d = date!(2026 - 11 - 22);
        assert_eq!(parse_iso_date(&iso_date(d)), Some(d));
        assert_eq!(parse_iso_date("2026-02-30"), None);
        assert_eq!(display_date(d), "22 November 2026");
    }

    #[test]
    fn timestamp_round_trip() {
        let t = Timestamp(1_795_000_000_123_456);
        assert_eq!(Timestamp::from_datetime(t.to_datetime()), t);
        assert!(t.rfc3339().ends_with('Z'));
    }
}
