//! Parsing helpers and words: the small parsers behind [`Rule::parse`](super::Rule::parse)
//! (numbers, weekdays, `BYDAY`, `UNTIL`) and the words behind the rule's RRULE text and its
//! plain-English description (weekday codes and names, ordinals, lists, long dates).

use super::rule::{ByDay, Until};
use super::RecurrenceError;
use time::{Date, Month, Time, Weekday};

pub(super) fn parse_u32(part: &'static str, value: &str) -> Result<u32, RecurrenceError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RecurrenceError::NotANumber {
            part,
            value: value.to_string(),
        });
    }
    // All digits: too large for u32 means far beyond every limit.
    Ok(value.parse::<u32>().unwrap_or(u32::MAX))
}

pub(super) fn parse_weekday(s: &str) -> Result<Weekday, RecurrenceError> {
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

pub(super) fn parse_by_day(item: &str) -> Result<ByDay, RecurrenceError> {
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

pub(super) fn parse_until(value: &str) -> Result<Until, RecurrenceError> {
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

pub(super) fn weekday_code(w: Weekday) -> &'static str {
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

pub(super) fn weekday_name(w: Weekday) -> &'static str {
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

pub(super) fn ordinal_word(n: i8) -> &'static str {
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

pub(super) fn english_suffix(n: i8) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

pub(super) fn join_and(items: &[String], last_sep: &str) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{}{}{}", items[..n - 1].join(", "), last_sep, items[n - 1]),
    }
}

pub(super) fn long_date(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}
