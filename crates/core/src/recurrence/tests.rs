//! Unit and property tests of recurrence: series expanded across clock changes, leap years,
//! closures and one-off changes; rules refused with what to change, printed and described; the
//! remembered London clock against direct look-ups; and properties of parsing, printing and
//! expansion over generated rules.

use super::clock::LondonClock;
use super::*;
use crate::london::{london_instant, london_micros, london_offset_at};
use proptest::prelude::*;
use time::macros::{date, datetime, time};
use time::{Date, Month, Time, UtcOffset, Weekday};

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
