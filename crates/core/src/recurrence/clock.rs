//! Europe/London for expansion: a clock that remembers the stretch between two clock changes its
//! last look-up fell in, so that a year of daily sessions needs a handful of time-zone look-ups
//! rather than one each, and the last local date whose session starts by a given instant.

use super::RecurrenceError;
use crate::london::{london, london_instant, london_micros, london_offset_at, utc_to_london};
use time::{Date, OffsetDateTime, Time, UtcOffset};

/// Remembers the stretch of time between two clock changes that the last look-up fell in, so
/// that a year of daily sessions needs a handful of time-zone look-ups rather than one each.
///
/// Within `[lo, hi)` the offset is `offset_secs`. `lo` and `hi` stay [`CLOCK_MARGIN_MICROS`]
/// inside the transitions, more than any difference between two London offsets (at most two
/// hours, in 1941–1947), so a local time whose candidate instant falls inside cannot also be
/// read with another offset: it is unambiguous, and the answer equals [`london_instant`]'s.
#[derive(Debug, Default)]
pub(super) struct LondonClock {
    window: Option<(i64, i64, i32)>,
}

const CLOCK_MARGIN_MICROS: i64 = 3 * 3_600 * 1_000_000;

impl LondonClock {
    pub(super) fn instant(
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

    pub(super) fn offset_at(&mut self, micros: i64) -> Result<UtcOffset, RecurrenceError> {
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
pub(super) fn last_date_starting_by(
    until: OffsetDateTime,
    time: Time,
) -> Result<Date, RecurrenceError> {
    let until_us = (until.unix_timestamp_nanos() / 1_000) as i64;
    let local_date = utc_to_london(until).date();
    if london_micros(local_date, time)? <= until_us {
        Ok(local_date)
    } else {
        local_date.previous_day().ok_or(RecurrenceError::OutOfRange)
    }
}
