//! Europe/London local time: the one module that turns instants into the London wall clock
//! and back (sessions are booked, shown and repeated in local time; "today" is London's).
//! A local time lost when the clocks go forward moves forward; one that happens twice when
//! they go back takes the earlier instant (RFC 5545's "compatible" rule). The time-zone
//! database is compiled in (`jiff`), so results do not depend on the machine.

use crate::recurrence::RecurrenceError;
use crate::time::Timestamp;
use std::sync::OnceLock;
use time::{Date, OffsetDateTime, Time, UtcOffset};

/// The instant of a London local date and a time given in minutes after midnight.
pub fn instant(date: Date, minutes: u32) -> Timestamp {
    let t = Time::from_hms((minutes / 60) as u8, (minutes % 60) as u8, 0).unwrap_or(Time::MIDNIGHT);
    london_to_utc(date, t)
        .map(Timestamp::from_datetime)
        .unwrap_or(Timestamp(0))
}

/// The London local date and minutes after midnight of an instant.
pub fn local(at: Timestamp) -> (Date, u32) {
    let l = utc_to_london(at.to_datetime());
    (l.date(), u32::from(l.hour()) * 60 + u32::from(l.minute()))
}

/// The London date of an instant ("today", given now).
pub fn date_of(at: Timestamp) -> Date {
    local(at).0
}

/// The London date, hour and minute of an instant given in microseconds.
pub fn parts(micros: i64) -> (Date, u8, u8) {
    let (d, m) = local(Timestamp(micros));
    (d, (m / 60) as u8, (m % 60) as u8)
}

/// The instant (microseconds) of a London local date, hour and minute.
pub fn micros_at(day: Date, hour: u8, minute: u8) -> i64 {
    instant(day, u32::from(hour) * 60 + u32::from(minute)).0
}

pub(crate) fn london() -> &'static jiff::tz::TimeZone {
    static TZ: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    TZ.get_or_init(|| {
        jiff::tz::TimeZone::get("Europe/London")
            .expect("Europe/London is in jiff's bundled time-zone database")
    })
}

pub(crate) fn london_micros(date: Date, time: Time) -> Result<i64, RecurrenceError> {
    london_instant(date, time).map(|(micros, _, _)| micros)
}

/// The instant of a local date and time, the offset the London clock shows then, and whether
/// the local time was unambiguous (so the clock shows exactly `date` `time`).
pub(crate) fn london_instant(
    date: Date,
    time: Time,
) -> Result<(i64, UtcOffset, bool), RecurrenceError> {
    let dt = jiff::civil::DateTime::new(
        date.year() as i16,
        u8::from(date.month()) as i8,
        date.day() as i8,
        time.hour() as i8,
        time.minute() as i8,
        time.second() as i8,
        time.nanosecond() as i32,
    )
    .map_err(|_| RecurrenceError::OutOfRange)?;
    let ambiguous = london().to_ambiguous_timestamp(dt);
    let ts = ambiguous
        .compatible()
        .map_err(|_| RecurrenceError::OutOfRange)?;
    let micros = ts.as_microsecond();
    Ok(match ambiguous.offset() {
        jiff::tz::AmbiguousOffset::Unambiguous { offset } => (
            micros,
            UtcOffset::from_whole_seconds(offset.seconds())
                .map_err(|_| RecurrenceError::OutOfRange)?,
            true,
        ),
        // In a gap the clock shows the later offset; in a fold the earlier one is chosen.
        _ => (micros, london_offset_at(micros)?, false),
    })
}

pub(crate) fn london_offset_at(micros: i64) -> Result<UtcOffset, RecurrenceError> {
    let ts = jiff::Timestamp::from_microsecond(micros).map_err(|_| RecurrenceError::OutOfRange)?;
    UtcOffset::from_whole_seconds(london().to_offset(ts).seconds())
        .map_err(|_| RecurrenceError::OutOfRange)
}

pub(crate) fn micros_to_utc(micros: i64) -> Result<OffsetDateTime, RecurrenceError> {
    let t = OffsetDateTime::from_unix_timestamp(micros.div_euclid(1_000_000))
        .map_err(|_| RecurrenceError::OutOfRange)?;
    match micros.rem_euclid(1_000_000) {
        0 => Ok(t),
        us => t
            .replace_microsecond(us as u32)
            .map_err(|_| RecurrenceError::OutOfRange),
    }
}

/// The UTC instant of a Europe/London local date and time (gap times shift forward, repeated
/// times take the earlier instant: RFC 5545 / "compatible").
pub fn london_to_utc(date: Date, time: Time) -> Result<OffsetDateTime, RecurrenceError> {
    micros_to_utc(london_micros(date, time)?)
}

/// The Europe/London local date and time (with its offset) of an instant.
pub fn utc_to_london(instant: OffsetDateTime) -> OffsetDateTime {
    let micros = (instant.unix_timestamp_nanos() / 1_000) as i64;
    match london_offset_at(micros) {
        Ok(offset) => instant.to_offset(offset),
        Err(_) => instant.to_offset(UtcOffset::UTC),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_clock_changes() {
        let winter = instant(date!(2027 - 01 - 11), 600);
        let summer = instant(date!(2027 - 07 - 12), 600);
        assert_eq!(winter.rfc3339(), "2027-01-11T10:00:00Z");
        assert_eq!(summer.rfc3339(), "2027-07-12T09:00:00Z");
        // 01:30 does not exist on 28 March 2027: it moves forward to 02:30 BST.
        assert_eq!(
            instant(date!(2027 - 03 - 28), 90).rfc3339(),
            "2027-03-28T01:30:00Z"
        );
        // 01:30 happens twice on 31 October 2027: the earlier (BST) instant.
        assert_eq!(
            instant(date!(2027 - 10 - 31), 90).rfc3339(),
            "2027-10-31T00:30:00Z"
        );
        assert_eq!(local(summer), (date!(2027 - 07 - 12), 600));
        assert_eq!(parts(summer.0), (date!(2027 - 07 - 12), 10, 0));
        assert_eq!(micros_at(date!(2027 - 07 - 12), 10, 0), summer.0);
        // Just after midnight in London in summer is still the previous day in UTC.
        let t = instant(date!(2027 - 07 - 12), 30);
        assert_eq!(date_of(t), date!(2027 - 07 - 12));
        assert_eq!(t.date(), date!(2027 - 07 - 11));
    }
}
