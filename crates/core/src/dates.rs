//! The one parser for dates and the one for clock times, as people type them.
//!
//! A date comes either from the NHS design system's date input (day, month and year boxes:
//! [`parse_date_parts`], which says what is wrong in the design system's words) or from a
//! single box or a search field ([`parse_date`]: `2027-01-12`, `12/1/2027`, `12 1 2027`,
//! `12.1.2027`, `12-1-2027`). A clock time is `18:00`, `18.00`, `1800`, `9:30`, `6pm` or
//! `6:30pm` ([`parse_clock`]). Whether a date may be in the past or the future is the field's
//! rule, not the parser's.

use time::{Date, Month};

/// Reads a date typed in one box: ISO 8601 (`2027-01-12`) or day, month and year in that
/// order separated by `/`, `.`, `-` or spaces, with a four-digit year.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Some(d) = crate::time::parse_iso_date(s) {
        return Some(d);
    }
    let parts: Vec<&str> = s
        .split(['/', '.', ' ', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4
        || !d
            .chars()
            .chain(m.chars())
            .chain(y.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    from_numbers(d.parse().ok()?, m.parse().ok()?, y.parse().ok()?)
}

fn from_numbers(day: u8, month: u8, year: i32) -> Option<Date> {
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Why a date typed into the day, month and year boxes is not a date, in the NHS design
/// system's words (the caller adds the field's label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateProblem {
    /// Nothing typed.
    Missing,
    /// Some boxes empty: which ones.
    Incomplete { day: bool, month: bool, year: bool },
    /// A box that does not hold a number (or a month name).
    NotANumber(Part),
    /// A year that is not four digits.
    YearDigits,
    /// A month outside 1 to 12.
    MonthRange,
    /// No such day (31 April, 29 February 2027).
    NotReal,
}

/// A box of the date input, to put the error message against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Day,
    Month,
    Year,
}

impl Part {
    /// The box's field name given the date's field name (`dob` → `dob_day`).
    pub fn field(self, date_field: &str) -> String {
        match self {
            Part::Day => format!("{date_field}_day"),
            Part::Month => format!("{date_field}_month"),
            Part::Year => format!("{date_field}_year"),
        }
    }
}

impl DateProblem {
    /// The message for a field called `label` (e.g. "Date of birth").
    pub fn message(self, label: &str) -> String {
        match self {
            DateProblem::Missing => format!("Enter {}", lower_first(label)),
            DateProblem::Incomplete { day, month, year } => {
                let missing: Vec<&str> = [(day, "day"), (month, "month"), (year, "year")]
                    .into_iter()
                    .filter(|(m, _)| *m)
                    .map(|(_, n)| n)
                    .collect();
                format!("{label} must include a {}", missing.join(" and "))
            }
            DateProblem::NotANumber(_) => format!("{label} must be a real date, like 27 3 2027"),
            DateProblem::YearDigits => "Year must include 4 numbers".to_string(),
            DateProblem::MonthRange => {
                format!("{label} must be a real date: month must be from 1 to 12")
            }
            DateProblem::NotReal => format!("{label} must be a real date"),
        }
    }

    /// The box the message belongs to (the first incomplete or wrong one).
    pub fn part(self) -> Part {
        match self {
            DateProblem::Missing | DateProblem::NotReal => Part::Day,
            DateProblem::Incomplete { day, month, .. } => {
                if day {
                    Part::Day
                } else if month {
                    Part::Month
                } else {
                    Part::Year
                }
            }
            DateProblem::NotANumber(p) => p,
            DateProblem::YearDigits => Part::Year,
            DateProblem::MonthRange => Part::Month,
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Reads the day, month and year boxes of a date input. A month may be typed as a number or
/// a name (`3`, `March`, `mar`).
pub fn parse_date_parts(day: &str, month: &str, year: &str) -> Result<Date, DateProblem> {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return Err(DateProblem::Missing);
    }
    if day.is_empty() || month.is_empty() || year.is_empty() {
        return Err(DateProblem::Incomplete {
            day: day.is_empty(),
            month: month.is_empty(),
            year: year.is_empty(),
        });
    }
    let d = day
        .parse::<u8>()
        .map_err(|_| DateProblem::NotANumber(Part::Day))?;
    let m = match month.parse::<u8>() {
        Ok(m) => m,
        Err(_) => month_by_name(month).ok_or(DateProblem::NotANumber(Part::Month))?,
    };
    let y = year
        .parse::<i32>()
        .map_err(|_| DateProblem::NotANumber(Part::Year))?;
    if !(1000..=9999).contains(&y) {
        return Err(DateProblem::YearDigits);
    }
    let month = Month::try_from(m).map_err(|_| DateProblem::MonthRange)?;
    Date::from_calendar_date(y, month, d).map_err(|_| DateProblem::NotReal)
}

fn month_by_name(s: &str) -> Option<u8> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let s = s.to_lowercase();
    if s.len() < 3 {
        return None;
    }
    NAMES
        .iter()
        .position(|n| n.starts_with(&s))
        .map(|i| i as u8 + 1)
}

/// A time of day on the 24-hour clock, as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(pub u16);

impl ClockTime {
    /// [`parse_clock`].
    pub fn parse(s: &str) -> Option<ClockTime> {
        parse_clock(s)
    }
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }
    pub fn hour(self) -> u8 {
        (self.0 / 60) as u8
    }
    pub fn minute(self) -> u8 {
        (self.0 % 60) as u8
    }
    /// `HH:MM`.
    pub fn text(self) -> String {
        format!("{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Reads a clock time: `18:00`, `18.00`, `1800`, `9:30`, `18`, `6pm`, `6:30pm`, `12am`.
pub fn parse_clock(s: &str) -> Option<ClockTime> {
    let s = s.trim().to_ascii_lowercase();
    let (s, pm, am) = if let Some(x) = s.strip_suffix("pm") {
        (x.trim().to_string(), true, false)
    } else if let Some(x) = s.strip_suffix("am") {
        (x.trim().to_string(), false, true)
    } else {
        (s, false, false)
    };
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
    {
        return None;
    }
    let (h, m) = if let Some((h, m)) = s.split_once([':', '.']) {
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?)
    } else if s.len() == 4 {
        (s[..2].parse().ok()?, s[2..].parse().ok()?)
    } else if s.len() <= 2 {
        (s.parse::<u16>().ok()?, 0)
    } else {
        return None;
    };
    if m > 59 {
        return None;
    }
    let h = if pm || am {
        if !(1..=12).contains(&h) {
            return None;
        }
        (h % 12) + if pm { 12 } else { 0 }
    } else {
        h
    };
    (h <= 23).then_some(ClockTime(h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_in_one_box() {
        for s in [
            "2027-01-12",
            "12/1/2027",
            "12 1 2027",
            "12.01.2027",
            "12-1-2027",
            " 12/01/2027 ",
        ] {
            assert_eq!(parse_date(s), Some(date!(2027 - 01 - 12)), "{s}");
        }
        for s in [
            "",
            "12/1/27",
            "31/4/2027",
            "2027/1/12",
            "12/13/2027",
            "tomorrow",
            "1/2/3/2027",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn dates_in_three_boxes() {
        assert_eq!(
            parse_date_parts("7", "3", "1958"),
            Ok(date!(1958 - 03 - 07))
        );
        assert_eq!(
            parse_date_parts("07", "march", "1958"),
            Ok(date!(1958 - 03 - 07))
        );
        assert_eq!(
            parse_date_parts("7", "Mar", "1958"),
            Ok(date!(1958 - 03 - 07))
        );
        assert_eq!(parse_date_parts("", " ", ""), Err(DateProblem::Missing));
        assert_eq!(
            parse_date_parts("7", "", ""),
            Err(DateProblem::Incomplete {
                day: false,
                month: true,
                year: true
            })
        );
        assert_eq!(
            parse_date_parts("31", "4", "2027"),
            Err(DateProblem::NotReal)
        );
        assert_eq!(
            parse_date_parts("7", "3", "58"),
            Err(DateProblem::YearDigits)
        );
        assert_eq!(
            parse_date_parts("7", "13", "1958"),
            Err(DateProblem::MonthRange)
        );
        assert_eq!(
            parse_date_parts("x", "3", "1958"),
            Err(DateProblem::NotANumber(Part::Day))
        );
        assert_eq!(DateProblem::MonthRange.part().field("dob"), "dob_month");
        assert_eq!(
            DateProblem::Incomplete {
                day: false,
                month: true,
                year: true
            }
            .message("Date of birth"),
            "Date of birth must include a month and year"
        );
        assert_eq!(
            DateProblem::Missing.message("Date of birth"),
            "Enter date of birth"
        );
        assert_eq!(
            DateProblem::NotReal.message("Date"),
            "Date must be a real date"
        );
    }

    #[test]
    fn clock_times() {
        for (s, m) in [
            ("18:00", 1080),
            ("18.00", 1080),
            ("1800", 1080),
            ("9:30", 570),
            ("09:30", 570),
            ("18", 1080),
            ("6pm", 1080),
            ("6:30pm", 1110),
            ("12am", 0),
            ("12pm", 720),
            ("00:00", 0),
            ("23:59", 1439),
        ] {
            assert_eq!(parse_clock(s).map(ClockTime::minutes), Some(m), "{s}");
        }
        for s in [
            "", "24:00", "12:60", "13pm", "0am", "9:3", "930", "noon", "-1:00", "18:00:00",
        ] {
            assert_eq!(parse_clock(s), None, "{s}");
        }
        assert_eq!(parse_clock("6:30pm").unwrap().text(), "18:30");
    }
}
