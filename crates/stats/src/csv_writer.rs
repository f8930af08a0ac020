//! The one CSV writer for every export (web pages and `alongside evaluate`), on the `csv` crate,
//! with formula neutralisation: a text cell that a spreadsheet would run as a formula — one
//! starting with `=`, `+`, `-`, `@`, a tab, a carriage return or a NUL — is written with a
//! leading `'` so that it is shown as text (OWASP "CSV Injection"; ASVS 1.2.10). Numbers are
//! written as numbers, so a genuinely negative number stays `-1.5`.
//!
//! Three kinds of cell, chosen by the caller for what the cell holds:
//! - [`CsvWriter::text`]: text from data or people (names, labels, titles) — neutralised and
//!   always in double quotes, as OWASP advises;
//! - [`CsvWriter::word`]: a word the program chose (a section or column code, a marker such as
//!   `[c]`, an ISO date) — neutralised, quoted only when needed;
//! - [`CsvWriter::int`], [`CsvWriter::float`], [`CsvWriter::fixed`]: numbers, as they are.
//!
//! Pure: it writes to any `impl Write` and never decides what is exported.

use std::borrow::Cow;
use std::io::{self, Write};

use csv::{QuoteStyle, Terminator, WriterBuilder};

use crate::disclosure::{CellId, Protected};

/// Characters that make a spreadsheet read a cell as a formula when they come first.
pub const FORMULA_TRIGGERS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\0'];

/// `s` as a spreadsheet will show it as text: prefixed with `'` when it starts with a formula
/// trigger.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[derive(Clone, Copy)]
enum Quote {
    Always,
    Necessary,
}

/// One field encoded by the `csv` crate (escaping, quoting), without a record terminator.
fn encode(s: &str, quote: Quote) -> Vec<u8> {
    if s.is_empty() && matches!(quote, Quote::Necessary) {
        return Vec::new();
    }
    let mut w = WriterBuilder::new()
        .quote_style(match quote {
            Quote::Always => QuoteStyle::Always,
            Quote::Necessary => QuoteStyle::Necessary,
        })
        .terminator(Terminator::Any(b'\n'))
        .buffer_capacity(s.len() * 2 + 8)
        .from_writer(Vec::with_capacity(s.len() + 3));
    // Writing to a Vec cannot fail.
    w.write_record([s]).expect("write to memory");
    let mut out = w.into_inner().expect("flush to memory");
    out.pop(); // the terminator
    out
}

/// A text cell as the writer writes it (neutralised, quoted).
pub fn text_field(s: &str) -> String {
    String::from_utf8(encode(&neutralise(s), Quote::Always)).expect("UTF-8 in, UTF-8 out")
}

/// Writes CSV rows cell by cell: `w.word("total").text(name).int(12).end_row()?`.
pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
    row: Vec<Vec<u8>>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer onto `out`; rows end with `\n`; every row must have as many cells as the first.
    pub fn new(out: W) -> Self {
        CsvWriter {
            // Cells are encoded one by one (their quoting differs); this writer only joins them.
            out: WriterBuilder::new()
                .quote_style(QuoteStyle::Never)
                .terminator(Terminator::Any(b'\n'))
                .from_writer(out),
            row: Vec::new(),
        }
    }

    /// Text from data or people: neutralised and quoted.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.row.push(encode(&neutralise(s), Quote::Always));
        self
    }

    /// A word the program chose (a code, a marker, a date): neutralised, quoted when needed.
    pub fn word(&mut self, s: &str) -> &mut Self {
        self.row.push(encode(&neutralise(s), Quote::Necessary));
        self
    }

    /// Several words.
    pub fn words(&mut self, words: &[&str]) -> &mut Self {
        for w in words {
            self.word(w);
        }
        self
    }

    /// An empty cell.
    pub fn empty(&mut self) -> &mut Self {
        self.row.push(Vec::new());
        self
    }

    /// `n` empty cells.
    pub fn empties(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.empty();
        }
        self
    }

    /// A whole number.
    pub fn int(&mut self, n: impl Into<i128>) -> &mut Self {
        self.row.push(n.into().to_string().into_bytes());
        self
    }

    /// A protected count: the number, or the policy's marker when hidden.
    pub fn figure(&mut self, p: &Protected, id: CellId) -> &mut Self {
        match p.get(id) {
            Some(n) => self.int(n),
            None => self.word(&p.policy().marker()),
        }
    }

    /// A number in its shortest exact form (empty when not finite).
    pub fn float(&mut self, x: f64) -> &mut Self {
        self.row.push(if x.is_finite() {
            format!("{x}").into_bytes()
        } else {
            Vec::new()
        });
        self
    }

    /// A number with `decimals` places (empty when not finite).
    pub fn fixed(&mut self, x: f64, decimals: usize) -> &mut Self {
        self.row.push(if x.is_finite() {
            format!("{x:.decimals$}").into_bytes()
        } else {
            Vec::new()
        });
        self
    }

    /// Ends the row.
    pub fn end_row(&mut self) -> io::Result<()> {
        let r = self.out.write_record(&self.row);
        self.row.clear();
        r.map_err(io::Error::from)
    }

    /// A header row of column names.
    pub fn header(&mut self, names: &[&str]) -> io::Result<()> {
        self.words(names).end_row()
    }

    /// Flushes to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

impl CsvWriter<Vec<u8>> {
    /// A writer into memory.
    pub fn in_memory() -> Self {
        Self::new(Vec::new())
    }

    /// The text written so far, consuming the writer.
    pub fn into_string(self) -> io::Result<String> {
        String::from_utf8(self.into_inner()?).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_row(f: impl FnOnce(&mut CsvWriter<Vec<u8>>) -> &mut CsvWriter<Vec<u8>>) -> String {
        let mut w = CsvWriter::in_memory();
        f(&mut w).end_row().unwrap();
        w.into_string().unwrap()
    }

    #[test]
    fn formulas_are_neutralised_in_text_and_words() {
        for s in ["=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx", "\0x"] {
            let expected = format!("'{s}");
            let row = one_row(|w| w.text(s).word(s));
            let cells: Vec<String> = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(row.as_bytes())
                .records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect();
            assert_eq!(cells, vec![expected.clone(), expected], "{s:?} → {row:?}");
        }
        assert_eq!(text_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(neutralise("Nowak"), "Nowak");
    }

    #[test]
    fn text_is_always_quoted_words_only_when_needed_numbers_never() {
        let row = one_row(|w| {
            w.word("total")
                .text("Evening café")
                .text("")
                .word("")
                .word("a,b")
                .text("O\"Neill")
                .int(-3)
                .float(-0.25)
                .fixed(2.0 / 3.0, 1)
                .word("[c]")
                .float(f64::NAN)
        });
        assert_eq!(
            row,
            "total,\"Evening café\",\"\",,\"a,b\",\"O\"\"Neill\",-3,-0.25,0.7,[c],\n"
        );
    }

    #[test]
    fn rows_must_have_the_same_number_of_cells() {
        let mut w = CsvWriter::in_memory();
        w.header(&["a", "b"]).unwrap();
        assert!(w.word("x").end_row().is_err());
    }

    #[test]
    fn line_breaks_inside_text_stay_inside_the_cell() {
        let row = one_row(|w| w.text("two\nlines").word("x"));
        assert_eq!(row, "\"two\nlines\",x\n");
    }
}
