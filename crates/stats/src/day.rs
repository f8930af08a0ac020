//! Calendar days as plain day numbers (days since 1970-01-01, proleptic Gregorian).
//!
//! Used by the file readers, the evaluator and the synthetic generator so that period
//! arithmetic is integer arithmetic. It must never read a clock or know about time zones:
//! dates in Alongside's analytics are civil dates.

use std::fmt;

/// A civil date stored as the number of days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// Builds a day from year, month (1–12) and day of month; `None` if the date does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// Year, month, day of month.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Parses `YYYY-MM-DD` exactly (ISO 8601 calendar date, extended format, four-digit year).
    pub fn parse_iso(s: &[u8]) -> Option<Day> {
        if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
            return None;
        }
        let mut d = [0u32; 10];
        for i in [0, 1, 2, 3, 5, 6, 8, 9] {
            let c = s[i].wrapping_sub(b'0');
            if c > 9 {
                return None;
            }
            d[i] = u32::from(c);
        }
        let year = (d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]) as i32;
        let month = d[5] * 10 + d[6];
        let day = d[8] * 10 + d[9];
        // Fast path: month starts from a table (the events hot loop parses millions of dates).
        if (TABLE_FIRST_YEAR..TABLE_FIRST_YEAR + TABLE_YEARS as i32).contains(&year)
            && (1..=12).contains(&month)
        {
            let idx = (year - TABLE_FIRST_YEAR) as usize * 12 + month as usize;
            let start = MONTH_START[idx - 1];
            let len = (MONTH_START[idx] - start) as u32;
            return (day >= 1 && day <= len).then_some(Day(start + day as i32 - 1));
        }
        Day::from_ymd(year, month, day)
    }

    /// Writes `YYYY-MM-DD` into a 10-byte buffer (years 0–9999).
    pub fn write_iso(self, out: &mut [u8; 10]) {
        let (y, m, d) = self.ymd();
        let y = y.clamp(0, 9999) as u32;
        out[0] = b'0' + (y / 1000) as u8;
        out[1] = b'0' + (y / 100 % 10) as u8;
        out[2] = b'0' + (y / 10 % 10) as u8;
        out[3] = b'0' + (y % 10) as u8;
        out[4] = b'-';
        out[5] = b'0' + (m / 10) as u8;
        out[6] = b'0' + (m % 10) as u8;
        out[7] = b'-';
        out[8] = b'0' + (d / 10) as u8;
        out[9] = b'0' + (d % 10) as u8;
    }

    /// The ISO 8601 text of this day.
    pub fn to_iso(self) -> String {
        let mut b = [0u8; 10];
        self.write_iso(&mut b);
        String::from_utf8_lossy(&b).into_owned()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

const TABLE_FIRST_YEAR: i32 = 1900;
const TABLE_YEARS: usize = 300;
/// Day number of the first of each month from January 1900 (plus one entry past the end).
static MONTH_START: [i32; TABLE_YEARS * 12 + 1] = {
    let mut t = [0i32; TABLE_YEARS * 12 + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = days_from_civil(TABLE_FIRST_YEAR + (i / 12) as i32, (i % 12) as u32 + 1, 1);
        i += 1;
    }
    t
};

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's algorithms (public domain), exact for the whole i32 range we use.
const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_round_trip() {
        assert_eq!(Day::from_ymd(1970, 1, 1), Some(Day(0)));
        assert_eq!(Day::from_ymd(2000, 3, 1).unwrap().0, 11_017);
        for z in -800_000..800_000 {
            let (y, m, d) = Day(z).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(z)));
        }
    }

    #[test]
    fn parse_rejects_invalid() {
        assert_eq!(Day::parse_iso(b"2024-02-29"), Day::from_ymd(2024, 2, 29));
        assert_eq!(Day::parse_iso(b"2023-02-29"), None);
        assert_eq!(Day::parse_iso(b"2023-13-01"), None);
        assert_eq!(Day::parse_iso(b"2023-1-01"), None);
        assert_eq!(Day::parse_iso(b"2023/01/01"), None);
        assert_eq!(Day::parse_iso(b"2023-01-00"), None);
        assert_eq!(Day::parse_iso(b"2023-04-31"), None);
        assert_eq!(
            Day::parse_iso(b"2023-12-31").unwrap().to_iso(),
            "2023-12-31"
        );
        assert_eq!(Day::parse_iso(b"1900-02-29"), None);
        assert_eq!(Day::parse_iso(b"2000-02-29"), Day::from_ymd(2000, 2, 29));
        assert_eq!(Day::parse_iso(b"2199-12-31"), Day::from_ymd(2199, 12, 31));
        assert_eq!(Day::parse_iso(b"2200-01-01"), Day::from_ymd(2200, 1, 1));
        assert_eq!(Day::parse_iso(b"1899-12-31"), Day::from_ymd(1899, 12, 31));
        assert_eq!(Day::parse_iso(b"2023-00-10"), None);
        assert_eq!(Day::parse_iso(b"2023-02-3a"), None);
        // Table and arithmetic agree on every day they both cover.
        for z in Day::from_ymd(1899, 1, 1).unwrap().0..Day::from_ymd(2201, 1, 1).unwrap().0 {
            assert_eq!(Day::parse_iso(Day(z).to_iso().as_bytes()), Some(Day(z)));
        }
    }
}
