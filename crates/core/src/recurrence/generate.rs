//! Generation: the dates a rule gives from a start date (the time of day is the series'), worked
//! out as Julian day numbers for daily, weekly and monthly rules, with `BYMONTHDAY` and numbered
//! `BYDAY` resolved month by month.

use super::rule::{Frequency, Rule};
use super::RecurrenceError;
use time::{Date, Month};

pub(super) fn add_years(d: Date, years: i32) -> Result<Date, RecurrenceError> {
    let y = d.year() + years;
    let day = d.day().min(time::util::days_in_month(d.month(), y));
    Date::from_calendar_date(y, d.month(), day).map_err(|_| RecurrenceError::OutOfRange)
}

fn jd_date(jd: i32) -> Result<Date, RecurrenceError> {
    Date::from_julian_day(jd).map_err(|_| RecurrenceError::OutOfRange)
}

pub(super) fn generate(
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
