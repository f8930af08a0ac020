//! Batch scoring of a CSV file of responses, for the `alongside score` command and imports.
//!
//! Input: a header row whose first column is the respondent id (any name) and whose other
//! columns are item link ids (any order, any subset of the items; a missing column means that
//! item is unanswered); then one row per respondent with answer codes (empty = unanswered;
//! surrounding spaces are ignored).
//!
//! Output: `respondent_id,items_answered,raw_score,measure,standard_error,score,level,flags`.
//! `measure` and `standard_error` are in logits with 6 decimals (`rasch` only, else empty);
//! `score` is the reported score rounded to one decimal place (the value levels and change use);
//! `level` is the level number (empty if the instrument has none); `flags` holds the flag codes
//! joined with `;`. A row that is valid but not scored has empty measure, error, score and level
//! and `flags` = `not_scored:<reason code>`.
//!
//! Bad rows (wrong number of columns, unknown answer code, empty respondent id) are left out of
//! the output and listed in the [`BatchSummary`] with their line and column; scoring goes on.
//! A bad header (unknown or repeated link id) is a hard error.
//!
//! Speed: one reused `ByteRecord`, a per-item code table, no allocation per row, and a cache of
//! the formatted output keyed by (set of answered items, raw score) — which is all a result
//! depends on. This module must never log or keep respondent ids beyond the error list it
//! returns.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufWriter, Read, Write};

use crate::instrument::{Instrument, Outcome};
use crate::levels::round_to_tenths;

/// At most this many row errors are kept in a summary; the rest are only counted.
pub const MAX_ROW_ERRORS: usize = 10_000;
/// At most this many distinct (answered set, raw score) results are cached.
const MAX_CACHE: usize = 1 << 20;

/// The output header.
pub const OUTPUT_HEADER: &str =
    "respondent_id,items_answered,raw_score,measure,standard_error,score,level,flags";

/// A row that could not be scored because it is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the input (the header is line 1).
    pub line: u64,
    /// 1-based column number (the respondent id is column 1), where one column is at fault.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {}: {}", self.line, c, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What happened in a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Data rows read (the header is not counted).
    pub rows_read: u64,
    /// Rows written with a score.
    pub rows_scored: u64,
    /// Rows written as not scored (e.g. too few answers).
    pub rows_not_scored: u64,
    /// Rows left out because they are malformed.
    pub rows_rejected: u64,
    /// The first [`MAX_ROW_ERRORS`] malformed rows.
    pub row_errors: Vec<RowError>,
    /// Malformed rows beyond those listed.
    pub row_errors_omitted: u64,
}

/// A batch that could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input has no header row.
    #[error("the input is empty: a header row is required")]
    MissingHeader,
    /// A header column is not an item link id.
    #[error("header column {column}: unknown item link id {link_id:?}")]
    UnknownItem {
        /// 1-based column.
        column: usize,
        /// The name found.
        link_id: String,
    },
    /// A header column repeats an item.
    #[error("header column {column}: item link id {link_id:?} appears more than once")]
    DuplicateItem {
        /// 1-based column.
        column: usize,
        /// The link id.
        link_id: String,
    },
    /// Reading the CSV failed.
    #[error("reading CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Io(#[from] io::Error),
}

/// Score every row of `input` and write the results to `output`. See the module docs for the
/// formats.
pub fn score_csv<R: Read, W: Write>(
    instrument: &Instrument,
    input: R,
    output: W,
) -> Result<BatchSummary, BatchError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        return Err(BatchError::MissingHeader);
    }
    let n_items = instrument.items.len();
    let mut column_item: Vec<usize> = Vec::with_capacity(record.len().saturating_sub(1));
    let mut seen = vec![false; n_items];
    for (c, name) in record.iter().enumerate().skip(1) {
        let name = String::from_utf8_lossy(name);
        let name = name.trim();
        let Some(i) = instrument.item_index(name) else {
            return Err(BatchError::UnknownItem {
                column: c + 1,
                link_id: name.to_string(),
            });
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(BatchError::DuplicateItem {
                column: c + 1,
                link_id: name.to_string(),
            });
        }
        column_item.push(i);
    }
    let n_columns = record.len();

    let mut out = BufWriter::with_capacity(1 << 16, output);
    out.write_all(OUTPUT_HEADER.as_bytes())?;
    out.write_all(b"\n")?;

    let mut summary = BatchSummary::default();
    let mut cache: Cache = HashMap::default();
    let use_cache = n_items <= 64;
    let mut answered_items = vec![false; n_items];
    let mut line_buf: Vec<u8> = Vec::with_capacity(128);

    while reader.read_byte_record(&mut record)? {
        summary.rows_read += 1;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != n_columns {
            let message = format!("expected {n_columns} columns, found {}", record.len());
            reject(
                &mut summary,
                line,
                Some(record.len().min(n_columns) + 1),
                message,
            );
            continue;
        }
        let id = trim(&record[0]);
        if id.is_empty() {
            reject(
                &mut summary,
                line,
                Some(1),
                "empty respondent id".to_string(),
            );
            continue;
        }
        answered_items.iter_mut().for_each(|a| *a = false);
        let mut mask = 0u64;
        let mut answered = 0usize;
        let mut raw = 0i64;
        let mut bad = None;
        for (c, &i) in column_item.iter().enumerate() {
            let field = trim(&record[c + 1]);
            if field.is_empty() {
                continue;
            }
            let item = &instrument.items[i];
            match item.option_for(field) {
                Some(j) => {
                    if let Some(s) = item.score_of(j) {
                        answered += 1;
                        raw += i64::from(s);
                        answered_items[i] = true;
                        if use_cache {
                            mask |= 1 << i;
                        }
                    }
                }
                None => {
                    bad = Some((c + 2, i, field));
                    break;
                }
            }
        }
        if let Some((column, i, field)) = bad {
            let message = format!(
                "item {:?}: unknown answer code {:?}",
                instrument.items[i].link_id,
                String::from_utf8_lossy(field)
            );
            reject(&mut summary, line, Some(column), message);
            continue;
        }

        write_id(&mut out, id)?;
        let key = (mask, raw);
        if let Some((bytes, scored)) = use_cache.then(|| cache.get(&key)).flatten() {
            out.write_all(bytes)?;
            count(&mut summary, *scored);
            continue;
        }
        let outcome = instrument.score_pattern(|i| answered_items[i], answered, raw);
        line_buf.clear();
        format_outcome(&mut line_buf, &outcome);
        out.write_all(&line_buf)?;
        let scored = matches!(outcome, Outcome::Scored(_));
        count(&mut summary, scored);
        if use_cache && cache.len() < MAX_CACHE {
            cache.insert(key, (line_buf.clone().into_boxed_slice(), scored));
        }
    }
    out.flush()?;
    Ok(summary)
}

fn count(summary: &mut BatchSummary, scored: bool) {
    if scored {
        summary.rows_scored += 1;
    } else {
        summary.rows_not_scored += 1;
    }
}

fn reject(summary: &mut BatchSummary, line: u64, column: Option<usize>, message: String) {
    summary.rows_rejected += 1;
    if summary.row_errors.len() < MAX_ROW_ERRORS {
        summary.row_errors.push(RowError {
            line,
            column,
            message,
        });
    } else {
        summary.row_errors_omitted += 1;
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Write a CSV field, quoting it if it needs quoting.
fn write_id<W: Write>(out: &mut W, id: &[u8]) -> io::Result<()> {
    if id.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.write_all(b"\"")?;
        for part in id.split(|&b| b == b'"').enumerate() {
            if part.0 > 0 {
                out.write_all(b"\"\"")?;
            }
            out.write_all(part.1)?;
        }
        out.write_all(b"\"")
    } else {
        out.write_all(id)
    }
}

/// `,items_answered,raw_score,measure,standard_error,score,level,flags\n`
pub(crate) fn format_outcome(buf: &mut Vec<u8>, outcome: &Outcome) {
    buf.push(b',');
    write_int(buf, outcome.items_answered() as i64);
    buf.push(b',');
    write_int(buf, outcome.raw_score());
    buf.push(b',');
    match outcome {
        Outcome::Scored(s) => {
            if let Some(m) = s.measure {
                write_fixed(buf, m, 6);
            }
            buf.push(b',');
            if let Some(se) = s.standard_error {
                write_fixed(buf, se, 6);
            }
            buf.push(b',');
            let t = round_to_tenths(s.score);
            write_tenths(buf, t);
            buf.push(b',');
            if let Some(l) = s.level {
                write_int(buf, i64::from(l));
            }
            buf.push(b',');
            for (k, f) in s.flags.iter().enumerate() {
                if k > 0 {
                    buf.push(b';');
                }
                buf.extend_from_slice(f.code().as_bytes());
            }
        }
        Outcome::NotScored(n) => {
            buf.extend_from_slice(b",,,,not_scored:");
            buf.extend_from_slice(n.reason.code().as_bytes());
        }
    }
    buf.push(b'\n');
}

fn write_int(buf: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut pos = tmp.len();
    loop {
        pos -= 1;
        tmp[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&tmp[pos..]);
}

fn write_tenths(buf: &mut Vec<u8>, t: i64) {
    if t < 0 {
        buf.push(b'-');
    }
    let a = t.unsigned_abs();
    write_int(buf, (a / 10) as i64);
    buf.push(b'.');
    buf.push(b'0' + (a % 10) as u8);
}

/// Fixed-point decimal with `decimals` places, rounded half away from zero.
pub(crate) fn write_fixed(buf: &mut Vec<u8>, x: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let v = (x * scale as f64).round();
    if !v.is_finite() || v.abs() >= 9.0e15 {
        buf.extend_from_slice(format!("{x:.prec$}", prec = decimals as usize).as_bytes());
        return;
    }
    let n = v.abs() as u64;
    if v < 0.0 && n != 0 {
        buf.push(b'-');
    }
    write_int(buf, (n / scale) as i64);
    if decimals > 0 {
        buf.push(b'.');
        let frac = n % scale;
        let mut tmp = [b'0'; 20];
        let mut f = frac;
        for k in (0..decimals as usize).rev() {
            tmp[k] = b'0' + (f % 10) as u8;
            f /= 10;
        }
        buf.extend_from_slice(&tmp[..decimals as usize]);
    }
}

/// (answered-item mask, raw score) → (formatted output after the id, whether scored).
type Cache = HashMap<(u64, i64), (Box<[u8]>, bool), BuildHasherDefault<KeyHasher>>;

/// A small multiplicative hasher for the (answered set, raw score) cache key.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(x: f64, d: u32) -> String {
        let mut b = Vec::new();
        write_fixed(&mut b, x, d);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn fixed_formatting() {
        assert_eq!(fixed(0.0, 6), "0.000000");
        assert_eq!(fixed(-0.0000001, 6), "0.000000");
        assert_eq!(fixed(1.5, 6), "1.500000");
        assert_eq!(fixed(-2.25, 1), "-2.3");
        assert_eq!(fixed(123.4567891, 6), "123.456789");
        assert_eq!(fixed(-0.000_000_6, 6), "-0.000001");
        assert_eq!(fixed(7.0, 0), "7");
        assert_eq!(fixed(1e300, 2).len(), 304);
    }

    #[test]
    fn tenths_and_ints() {
        let mut b = Vec::new();
        write_tenths(&mut b, 471);
        b.push(b' ');
        write_tenths(&mut b, -5);
        b.push(b' ');
        write_int(&mut b, -120);
        b.push(b' ');
        write_int(&mut b, 0);
        assert_eq!(String::from_utf8(b).unwrap(), "47.1 -0.5 -120 0");
    }

    #[test]
    fn ids_are_quoted_when_needed() {
        let mut b = Vec::new();
        write_id(&mut b, b"plain").unwrap();
        b.push(b'|');
        write_id(&mut b, b"a,\"b\"").unwrap();
        assert_eq!(String::from_utf8(b).unwrap(), "plain|\"a,\"\"b\"\"\"");
    }
}
