//! A series of sessions ([`Series`]): local start date and time, duration, an optional rule, an
//! optional end date, closures and one-off changes ([`Override`]), and its expansion into
//! [`Occurrence`]s with exact UTC instants.

use super::clock::{last_date_starting_by, LondonClock};
use super::generate::{add_years, generate};
use super::rule::{Rule, Until};
use super::{RecurrenceError, MAX_DURATION_MINUTES, MAX_YEARS};
use crate::london::micros_to_utc;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime, Time};

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
