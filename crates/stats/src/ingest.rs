//! Fast CSV readers for `people.csv`, `events.csv` and `measurements.csv`.
//!
//! Byte-level parsing without per-row allocation: person ids map to dense indices through a
//! hash map borrowing the people buffer; events stream through in chunks cut at line
//! boundaries and are parsed by worker threads, each aggregating counts per observation period
//! (summed at the end), so events may arrive in any order. Fields may be quoted (RFC 4180) but
//! not contain line breaks. Malformed rows are counted and the first few listed with line and
//! reason; a wrong header is a hard error. This module must never fit models or format reports.

use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc;
use std::sync::Mutex;

use crate::activation::Measurement;
use crate::coding::{Covariates, Sex, N_OUTCOMES};
use crate::day::Day;
use crate::evaluate::EvalError;
use crate::idindex::IdIndex;
use crate::report::RejectedRow;

/// Header of people.csv.
pub const PEOPLE_HEADER: &str =
    "person_id,age,sex,deprivation_decile,ltc_count,activation_level,follow_up_start,follow_up_end";
/// Header of events.csv.
pub const EVENTS_HEADER: &str = "person_id,date,type,minor";
/// Header of measurements.csv.
pub const MEASUREMENTS_HEADER: &str = "person_id,date,score,level";

/// Rejected rows: all counted, the first `limit` per file kept for listing.
#[derive(Debug, Default)]
pub(crate) struct Rejections {
    limit: usize,
    rows: Vec<RejectedRow>,
    counts: [u64; 3],
}

fn file_rank(file: &str) -> usize {
    match file {
        "people.csv" => 0,
        "events.csv" => 1,
        _ => 2,
    }
}

impl Rejections {
    pub fn new(limit: usize) -> Self {
        Rejections {
            limit,
            ..Default::default()
        }
    }

    fn push(&mut self, file: &'static str, line: u64, reason: impl FnOnce() -> String) {
        let r = file_rank(file);
        self.counts[r] += 1;
        if self.counts[r] as usize <= self.limit {
            self.rows.push(RejectedRow {
                file,
                line,
                reason: reason(),
            });
        }
    }

    pub fn count(&self, file: &str) -> u64 {
        self.counts[file_rank(file)]
    }

    pub fn merge(&mut self, other: Rejections) {
        for i in 0..3 {
            self.counts[i] += other.counts[i];
        }
        self.rows.extend(other.rows);
    }

    /// The listed rows in file and line order, at most `limit` per file, and whether any
    /// rejected row is not listed.
    pub fn listed(&self) -> (Vec<RejectedRow>, bool) {
        let mut rows = self.rows.clone();
        rows.sort_by_key(|r| (file_rank(r.file), r.line));
        let mut out = Vec::new();
        let mut per = [0usize; 3];
        for r in rows {
            let k = file_rank(r.file);
            if per[k] < self.limit {
                per[k] += 1;
                out.push(r);
            }
        }
        let truncated = (0..3).any(|k| self.counts[k] as usize > per[k]);
        (out, truncated)
    }
}

/// Splits one line (without its line break) into at most `out.len()` fields. Quoted fields
/// are unquoted into `scratch`. Returns the number of fields, or an error text.
fn split_fields<'a>(
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
    out: &mut [&'a [u8]],
) -> Result<usize, &'static str> {
    // Fast path: one pass, no quotes.
    let mut n = 0;
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        if b == b',' {
            if n + 1 >= out.len() {
                return Err("too many fields");
            }
            out[n] = &line[start..i];
            n += 1;
            start = i + 1;
        } else if b == b'"' {
            quoted = true;
            break;
        }
    }
    if !quoted {
        out[n] = &line[start..];
        return Ok(n + 1);
    }
    // Quoted path (rare): unquote into scratch, remember ranges.
    scratch.clear();
    let mut ranges = [(0usize, 0usize); 16];
    let mut n = 0;
    let mut i = 0;
    loop {
        if n >= out.len() || n >= ranges.len() {
            return Err("too many fields");
        }
        let start = scratch.len();
        if i < line.len() && line[i] == b'"' {
            i += 1;
            loop {
                if i >= line.len() {
                    return Err("unterminated quoted field");
                }
                if line[i] == b'"' {
                    if i + 1 < line.len() && line[i + 1] == b'"' {
                        scratch.push(b'"');
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    scratch.push(line[i]);
                    i += 1;
                }
            }
            if i < line.len() && line[i] != b',' {
                return Err("text after closing quote");
            }
        } else {
            while i < line.len() && line[i] != b',' {
                if line[i] == b'"' {
                    return Err("quote inside unquoted field");
                }
                scratch.push(line[i]);
                i += 1;
            }
        }
        ranges[n] = (start, scratch.len());
        n += 1;
        if i >= line.len() {
            break;
        }
        i += 1; // the comma
    }
    let s: &'a Vec<u8> = scratch;
    for k in 0..n {
        out[k] = &s[ranges[k].0..ranges[k].1];
    }
    Ok(n)
}

fn trim(b: &[u8]) -> &[u8] {
    let mut s = b;
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn parse_int(b: &[u8]) -> Option<i64> {
    let b = trim(b);
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// Iterates lines with 1-based numbers (starting at `first_line`), stripping `\r`.
fn lines(buf: &[u8], first_line: u64) -> impl Iterator<Item = (u64, &[u8])> {
    let mut rest = buf;
    let mut n = first_line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let out = (n, line);
        n += 1;
        Some(out)
    })
}

/// Splits off and checks the header; returns the body.
fn check_header<'a>(
    buf: &'a [u8],
    file: &'static str,
    expected: &'static str,
) -> Result<&'a [u8], EvalError> {
    let buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let header = &buf[..end];
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    let mut scratch = Vec::new();
    let mut fields = [&b""[..]; 16];
    let ok = match split_fields(header, &mut scratch, &mut fields) {
        Ok(n) => {
            let got: Vec<&[u8]> = fields[..n].iter().map(|f| trim(f)).collect();
            let want: Vec<&[u8]> = expected.split(',').map(str::as_bytes).collect();
            got == want
        }
        Err(_) => false,
    };
    if !ok {
        return Err(EvalError::Header {
            file,
            expected,
            found: show(header),
        });
    }
    Ok(&buf[(end + 1).min(buf.len())..])
}

/// One accepted observation period.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeoplePeriod {
    pub person: u32,
    pub cell: u16,
    pub start: i32,
    pub end: i32,
}

/// Parsed people.csv.
pub(crate) struct People<'a> {
    pub ids: IdIndex<'a>,
    /// Sorted by (person, start); non-overlapping within a person.
    pub periods: Vec<PeoplePeriod>,
    /// `periods[person_start[g]..person_start[g+1]]` belong to person g.
    pub person_start: Vec<u32>,
    pub n_persons: usize,
    pub rows: u64,
}

impl People<'_> {
    /// The period of `person` containing `day`.
    #[inline]
    fn find(&self, person: u32, day: i32) -> Option<usize> {
        let (s, e) = (
            self.person_start[person as usize] as usize,
            self.person_start[person as usize + 1] as usize,
        );
        (s..e).find(|&i| self.periods[i].start <= day && day <= self.periods[i].end)
    }
}

/// Parses people.csv (header included).
pub(crate) fn parse_people<'a>(
    buf: &'a [u8],
    rej: &mut Rejections,
) -> Result<People<'a>, EvalError> {
    const FILE: &str = "people.csv";
    let body = check_header(buf, FILE, PEOPLE_HEADER)?;
    let approx_rows = memchr::memchr_iter(b'\n', body).count() + 1;
    let mut ids = IdIndex::with_capacity(approx_rows);
    let mut raw: Vec<(PeoplePeriod, u64)> = Vec::with_capacity(approx_rows);
    let mut rows = 0;
    let mut scratch = Vec::new();
    for (line_no, line) in lines(body, 2) {
        if trim(line).is_empty() {
            continue;
        }
        rows += 1;
        let mut f = [&b""[..]; 8];
        let line: &'a [u8] = line;
        // Ids borrow the input buffer, so a quoted id is accepted when it contains no
        // escaped quote (its bytes then appear verbatim in the line).
        let n = match split_fields(line, &mut scratch, &mut f) {
            Ok(n) => n,
            Err(e) => {
                rej.push(FILE, line_no, || e.to_string());
                continue;
            }
        };
        if n != 8 {
            rej.push(FILE, line_no, || format!("expected 8 fields, found {n}"));
            continue;
        }
        let id_field = trim(f[0]);
        if id_field.is_empty() {
            rej.push(FILE, line_no, || "empty person_id".into());
            continue;
        }
        let Some(id) = find_in(line, id_field) else {
            rej.push(FILE, line_no, || {
                "person_id with escaped quotes is not supported".into()
            });
            continue;
        };
        let num = |i: usize, name: &str| {
            parse_int(f[i]).ok_or_else(|| format!("{name} is not an integer: '{}'", show(f[i])))
        };
        let parsed = (|| -> Result<PeoplePeriod, String> {
            let age = num(1, "age")?;
            let sex = match trim(f[2]) {
                b"female" => Sex::Female,
                b"male" => Sex::Male,
                other => {
                    return Err(format!(
                        "sex must be female or male, found '{}'",
                        show(other)
                    ))
                }
            };
            let decile = num(3, "deprivation_decile")?;
            let ltc = num(4, "ltc_count")?;
            let level = num(5, "activation_level")?;
            let cov = Covariates::code(age, sex, decile, ltc, level).map_err(|e| e.to_string())?;
            let start = Day::parse_iso(trim(f[6])).ok_or_else(|| {
                format!("follow_up_start is not a YYYY-MM-DD date: '{}'", show(f[6]))
            })?;
            let end = Day::parse_iso(trim(f[7])).ok_or_else(|| {
                format!("follow_up_end is not a YYYY-MM-DD date: '{}'", show(f[7]))
            })?;
            if end < start {
                return Err(format!(
                    "follow_up_end {end} is before follow_up_start {start}"
                ));
            }
            Ok(PeoplePeriod {
                person: 0,
                cell: cov.cell(),
                start: start.0,
                end: end.0,
            })
        })();
        match parsed {
            Err(e) => rej.push(FILE, line_no, || e),
            Ok(mut p) => {
                p.person = ids.get_or_insert(id);
                raw.push((p, line_no));
            }
        }
    }
    let n_persons = ids.len();
    raw.sort_by_key(|(p, line)| (p.person, p.start, *line));
    let mut periods = Vec::with_capacity(raw.len());
    let mut person_start = vec![0u32; n_persons + 1];
    let mut last: Option<(u32, i32, u64)> = None;
    for (p, line) in raw {
        if let Some((person, end, prev_line)) = last {
            if person == p.person && p.start <= end {
                rej.push(FILE, line, || {
                    format!("period overlaps the period on line {prev_line} for the same person")
                });
                continue;
            }
        }
        last = Some((p.person, p.end, line));
        person_start[p.person as usize + 1] += 1;
        periods.push(p);
    }
    for g in 0..n_persons {
        person_start[g + 1] += person_start[g];
    }
    ids.set_periods(&person_start, |i| (periods[i].start, periods[i].end));
    Ok(People {
        ids,
        periods,
        person_start,
        n_persons,
        rows,
    })
}

/// The sub-slice of `line` equal to `field` (so ids borrow the input buffer), if any.
fn find_in<'a>(line: &'a [u8], field: &[u8]) -> Option<&'a [u8]> {
    if field.as_ptr() >= line.as_ptr()
        && field.as_ptr() as usize + field.len() <= line.as_ptr() as usize + line.len()
    {
        let off = field.as_ptr() as usize - line.as_ptr() as usize;
        return Some(&line[off..off + field.len()]);
    }
    // Unquoted copy: find the same bytes inside the line (a quoted id without escapes).
    line.windows(field.len())
        .position(|w| w == field)
        .map(|i| &line[i..i + field.len()])
}

/// Result of reading events.csv.
pub(crate) struct Events {
    pub counts: Vec<[u32; N_OUTCOMES]>,
    pub rows: u64,
    pub unknown_person: u64,
    pub outside_periods: u64,
    pub counted: u64,
    pub rejections: Rejections,
}

struct Worker {
    counts: Vec<[u32; N_OUTCOMES]>,
    rows: u64,
    unknown_person: u64,
    outside_periods: u64,
    counted: u64,
    rejected: u64,
    /// (chunk, line within chunk, reason), at most `limit` per chunk.
    listed: Vec<(u64, u64, String)>,
    /// (chunk, number of lines).
    chunk_lines: Vec<(u64, u64)>,
}

const CHUNK: usize = 4 << 20;

#[inline]
fn event_type(t: &[u8]) -> Option<usize> {
    // Dispatch on length first: one comparison instead of a chain of them.
    let (k, name): (usize, &[u8]) = match t.len() {
        6 => (1, b"gp_dna"),
        13 => (2, b"ae_attendance"),
        14 if t[0] == b'g' => (0, b"gp_appointment"),
        14 => (6, b"outpatient_dna"),
        19 => (4, b"emergency_admission"),
        21 => (5, b"outpatient_attendance"),
        _ => return None,
    };
    (t == name).then_some(k)
}

/// Splits a typical event line (`id,YYYY-MM-DD,type,minor`, no quotes) without the general
/// splitter; `None` sends the line to [`split_fields`].
#[inline]
fn split_event_fast(line: &[u8]) -> Option<[&[u8]; 4]> {
    let c1 = line.iter().position(|&b| b == b',' || b == b'"')?;
    if line[c1] != b',' {
        return None;
    }
    let c2 = c1 + 11;
    if line.len() <= c2 || line[c2] != b',' || line[c1 + 1..c2].contains(&b'"') {
        return None;
    }
    let rest = &line[c2 + 1..];
    let c3 = rest.iter().position(|&b| b == b',' || b == b'"')?;
    if rest[c3] != b',' {
        return None;
    }
    let minor = &rest[c3 + 1..];
    if minor.iter().any(|&b| b == b',' || b == b'"') {
        return None;
    }
    Some([&line[..c1], &line[c1 + 1..c2], &rest[..c3], minor])
}

#[inline]
fn minor_flag(m: &[u8]) -> Option<bool> {
    match m {
        b"" | b"0" => Some(false),
        b"1" => Some(true),
        _ if m.eq_ignore_ascii_case(b"true") => Some(true),
        _ if m.eq_ignore_ascii_case(b"false") => Some(false),
        _ => None,
    }
}

impl Worker {
    fn parse_chunk(&mut self, seq: u64, chunk: &[u8], pop: &People<'_>, limit: usize) {
        let mut scratch = Vec::new();
        let mut listed_here = 0usize;
        let mut n_lines = 0u64;
        // Extracts are often grouped by person: remember the last id looked up.
        let mut last_id = [0u8; 32];
        let mut last_len = usize::MAX;
        let mut last_slot = None;
        for (local, line) in lines(chunk, 0) {
            n_lines = local + 1;
            let mut reject = |w: &mut Worker, why: &dyn Fn() -> String| {
                w.rejected += 1;
                if listed_here < limit {
                    listed_here += 1;
                    w.listed.push((seq, local, why()));
                }
            };
            if line.is_empty() || trim(line).is_empty() {
                continue;
            }
            self.rows += 1;
            let mut f = [&b""[..]; 4];
            if let Some(fast) = split_event_fast(line) {
                f = fast;
            } else {
                let n = match split_fields(line, &mut scratch, &mut f) {
                    Ok(n) => n,
                    Err(e) => {
                        reject(self, &|| e.to_string());
                        continue;
                    }
                };
                if n != 4 {
                    reject(self, &|| format!("expected 4 fields, found {n}"));
                    continue;
                }
            }
            let Some(day) = Day::parse_iso(trim(f[1])) else {
                reject(self, &|| {
                    format!("date is not a YYYY-MM-DD date: '{}'", show(f[1]))
                });
                continue;
            };
            let ty = trim(f[2]);
            let Some(k) = event_type(ty) else {
                reject(self, &|| format!("unknown event type '{}'", show(ty)));
                continue;
            };
            let Some(minor) = minor_flag(trim(f[3])) else {
                reject(self, &|| {
                    format!(
                        "minor must be true, false, 1, 0 or empty, found '{}'",
                        show(f[3])
                    )
                });
                continue;
            };
            let id = trim(f[0]);
            if id.is_empty() {
                reject(self, &|| "empty person_id".into());
                continue;
            }
            let slot = if id.len() == last_len && id == &last_id[..last_len] {
                last_slot
            } else {
                let found = pop.ids.get(id);
                if id.len() <= last_id.len() {
                    last_id[..id.len()].copy_from_slice(id);
                    last_len = id.len();
                    last_slot = found;
                } else {
                    last_len = usize::MAX;
                }
                found
            };
            let Some(slot) = slot else {
                self.unknown_person += 1;
                continue;
            };
            let found = match slot.single_period(day.0) {
                Some(p) => p.map(|p| p as usize),
                None => pop.find(pop.periods[slot.period as usize].person, day.0),
            };
            let Some(pi) = found else {
                self.outside_periods += 1;
                continue;
            };
            let c = &mut self.counts[pi];
            c[k] += 1;
            if k == 2 && minor {
                c[3] += 1;
            }
            self.counted += 1;
        }
        self.chunk_lines.push((seq, n_lines));
    }
}

/// Reads events.csv from a reader, parsing chunks on `threads` worker threads.
pub(crate) fn read_events<R: Read>(
    mut reader: R,
    pop: &People<'_>,
    threads: usize,
    limit: usize,
) -> Result<Events, EvalError> {
    const FILE: &str = "events.csv";
    let io = |source| EvalError::Io { file: FILE, source };
    // Header: read until the first line break.
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let header_end = loop {
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            break i + 1;
        }
        let got = read_more(&mut reader, &mut buf, 64 * 1024).map_err(io)?;
        if got == 0 {
            break buf.len();
        }
    };
    check_header(&buf[..header_end], FILE, EVENTS_HEADER)?;
    let mut carry: Vec<u8> = buf[header_end..].to_vec();

    // Buffers keep their full length (zeroed once) and travel with the filled length, so
    // recycled buffers are never cleared again.
    let (tx, rx) = mpsc::sync_channel::<(u64, Vec<u8>, usize)>(threads * 2);
    let rx = Mutex::new(rx);
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    let n_periods = pop.periods.len();
    let workers: Vec<Worker> = std::thread::scope(|s| -> Result<Vec<Worker>, EvalError> {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                let back_tx = back_tx.clone();
                s.spawn(move || {
                    let mut w = Worker {
                        counts: vec![[0; N_OUTCOMES]; n_periods],
                        rows: 0,
                        unknown_person: 0,
                        outside_periods: 0,
                        counted: 0,
                        rejected: 0,
                        listed: Vec::new(),
                        chunk_lines: Vec::new(),
                    };
                    loop {
                        let msg = rx.lock().expect("queue").recv();
                        let Ok((seq, chunk, len)) = msg else { break };
                        w.parse_chunk(seq, &chunk[..len], pop, limit);
                        let _ = back_tx.send(chunk);
                    }
                    w
                })
            })
            .collect();
        drop(back_tx);
        let mut seq = 0u64;
        let mut result = Ok(());
        loop {
            let mut chunk = back_rx
                .try_recv()
                .unwrap_or_else(|_| vec![0u8; CHUNK + (1 << 20)]);
            chunk[..carry.len()].copy_from_slice(&carry);
            let mut filled = carry.len();
            carry.clear();
            let mut eof = false;
            loop {
                if filled == chunk.len() {
                    // A line longer than the buffer: grow it.
                    let n = chunk.len();
                    chunk.resize(2 * n, 0);
                }
                match reader.read(&mut chunk[filled..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        result = Err(io(e));
                        eof = true;
                        break;
                    }
                }
                if filled >= CHUNK && memchr::memrchr(b'\n', &chunk[..filled]).is_some() {
                    break;
                }
            }
            let len = if eof {
                filled
            } else {
                let i = memchr::memrchr(b'\n', &chunk[..filled]).expect("checked above");
                carry.extend_from_slice(&chunk[i + 1..filled]);
                i + 1
            };
            if len > 0 && tx.send((seq, chunk, len)).is_err() {
                break;
            }
            seq += 1;
            if eof || result.is_err() {
                break;
            }
        }
        drop(tx);
        let ws: Vec<Worker> = handles
            .into_iter()
            .map(|h| h.join().expect("event worker"))
            .collect();
        result.map(|()| ws)
    })?;

    // Merge counts and turn chunk-local line numbers into file line numbers.
    let mut chunk_lines: Vec<(u64, u64)> = workers
        .iter()
        .flat_map(|w| w.chunk_lines.iter().copied())
        .collect();
    chunk_lines.sort_unstable();
    let mut offset = HashMap::with_capacity(chunk_lines.len());
    let mut line = 2u64;
    for (seq, n) in chunk_lines {
        offset.insert(seq, line);
        line += n;
    }
    let mut iter = workers.into_iter();
    let mut first = iter.next().expect("at least one worker");
    let mut rejections = Rejections::new(limit);
    let mut all_listed = std::mem::take(&mut first.listed);
    let mut rejected = first.rejected;
    for w in iter {
        for (a, b) in first.counts.iter_mut().zip(&w.counts) {
            for k in 0..N_OUTCOMES {
                a[k] += b[k];
            }
        }
        first.rows += w.rows;
        first.unknown_person += w.unknown_person;
        first.outside_periods += w.outside_periods;
        first.counted += w.counted;
        rejected += w.rejected;
        all_listed.extend(w.listed);
    }
    all_listed.sort_by_key(|(seq, l, _)| (*seq, *l));
    for (seq, l, reason) in all_listed.into_iter().take(limit) {
        rejections.rows.push(RejectedRow {
            file: FILE,
            line: offset[&seq] + l,
            reason,
        });
    }
    rejections.counts[1] = rejected;
    Ok(Events {
        counts: first.counts,
        rows: first.rows,
        unknown_person: first.unknown_person,
        outside_periods: first.outside_periods,
        counted: first.counted,
        rejections,
    })
}

/// Appends up to `max` bytes from the reader; returns how many were read (0 at end).
fn read_more<R: Read>(reader: &mut R, buf: &mut Vec<u8>, max: usize) -> std::io::Result<usize> {
    let old = buf.len();
    buf.resize(old + max.max(1), 0);
    loop {
        match reader.read(&mut buf[old..]) {
            Ok(n) => {
                buf.truncate(old + n);
                return Ok(n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    }
}

/// Parses measurements.csv; returns the valid measurements and the number of data rows.
/// Person keys are dense indices of the measurement file's own ids.
pub(crate) fn parse_measurements(
    buf: &[u8],
    rej: &mut Rejections,
) -> Result<(Vec<Measurement>, u64), EvalError> {
    const FILE: &str = "measurements.csv";
    let body = check_header(buf, FILE, MEASUREMENTS_HEADER)?;
    let approx_rows = memchr::memchr_iter(b'\n', body).count() + 1;
    let mut ids = IdIndex::with_capacity(approx_rows / 2);
    let mut last: Option<(&[u8], u64)> = None;
    let mut out = Vec::with_capacity(approx_rows);
    let mut rows = 0;
    let mut scratch = Vec::new();
    for (line_no, line) in lines(body, 2) {
        if trim(line).is_empty() {
            continue;
        }
        rows += 1;
        let mut f = [&b""[..]; 4];
        let n = match split_fields(line, &mut scratch, &mut f) {
            Ok(n) => n,
            Err(e) => {
                rej.push(FILE, line_no, || e.to_string());
                continue;
            }
        };
        if n != 4 {
            rej.push(FILE, line_no, || format!("expected 4 fields, found {n}"));
            continue;
        }
        let Some(id) = find_in(line, trim(f[0])) else {
            rej.push(FILE, line_no, || {
                "person_id with escaped quotes is not supported".into()
            });
            continue;
        };
        let parsed = (|| -> Result<(Day, f64, u8), String> {
            if id.is_empty() {
                return Err("empty person_id".into());
            }
            let day = Day::parse_iso(trim(f[1]))
                .ok_or_else(|| format!("date is not a YYYY-MM-DD date: '{}'", show(f[1])))?;
            let score: f64 = std::str::from_utf8(trim(f[2]))
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| format!("score is not a number: '{}'", show(f[2])))?;
            let level = parse_int(f[3])
                .filter(|l| (1..=4).contains(l))
                .ok_or_else(|| format!("level must be 1–4, found '{}'", show(f[3])))?;
            Ok((day, score, level as u8))
        })();
        match parsed {
            Err(e) => rej.push(FILE, line_no, || e),
            Ok((day, score, level)) => {
                // Measurements are usually grouped by person: skip the index for repeats.
                let key = if last.is_some_and(|(prev, _)| prev == id) {
                    last.expect("checked").1
                } else {
                    let k = u64::from(ids.get_or_insert(id));
                    last = Some((id, k));
                    k
                };
                out.push(Measurement {
                    person_key: key,
                    day,
                    score,
                    level,
                });
            }
        }
    }
    Ok((out, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_plain_and_quoted() {
        let mut s = Vec::new();
        let mut f = [&b""[..]; 8];
        assert_eq!(split_fields(b"a,,c", &mut s, &mut f), Ok(3));
        assert_eq!(&f[..3], &[&b"a"[..], b"", b"c"]);
        let mut s = Vec::new();
        assert_eq!(
            split_fields(br#""P,1","say ""hi""",x"#, &mut s, &mut f),
            Ok(3)
        );
        assert_eq!(f[0], b"P,1");
        assert_eq!(f[1], br#"say "hi""#);
        assert_eq!(f[2], b"x");
        let mut s = Vec::new();
        assert!(split_fields(br#""open,x"#, &mut s, &mut f).is_err());
        let mut s = Vec::new();
        let mut g = [&b""[..]; 2];
        assert_eq!(
            split_fields(b"a,b,c", &mut s, &mut g),
            Err("too many fields")
        );
    }

    #[test]
    fn header_checks() {
        assert!(check_header(b"person_id,date,type,minor\nx", "events.csv", EVENTS_HEADER).is_ok());
        assert!(check_header(
            b"\xEF\xBB\xBFperson_id,date,type,minor\r\n",
            "events.csv",
            EVENTS_HEADER
        )
        .is_ok());
        assert!(check_header(b"person_id,date,type\n", "events.csv", EVENTS_HEADER).is_err());
        assert!(check_header(b"", "events.csv", EVENTS_HEADER).is_err());
    }

    #[test]
    fn people_overlaps_and_bad_rows() {
        let csv = b"person_id,age,sex,deprivation_decile,ltc_count,activation_level,follow_up_start,follow_up_end\n\
P1,39,female,1,1,1,2023-01-01,2023-12-31\n\
P1,40,female,1,1,2,2023-12-31,2024-06-30\n\
P1,40,female,1,1,2,2024-01-01,2024-06-30\n\
P2,17,male,1,1,1,2023-01-01,2023-12-31\n\
P3,50,other,1,1,1,2023-01-01,2023-12-31\n\
P4,50,male,1,0,1,2023-01-01,2023-12-31\n\
P5,50,male,1,1,1,2023-02-01,2023-01-31\n\
P6,50,male,1,1,1,2023-02-01\n";
        let mut rej = Rejections::new(100);
        let p = parse_people(csv, &mut rej).unwrap();
        assert_eq!(p.rows, 8);
        assert_eq!(p.periods.len(), 2);
        let (listed, truncated) = rej.listed();
        assert!(!truncated);
        let lines: Vec<u64> = listed.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 5, 6, 7, 8, 9]);
        assert!(
            listed[0].reason.contains("overlaps the period on line 2"),
            "{}",
            listed[0].reason
        );
        assert!(listed[1].reason.contains("age 17"));
        assert!(listed[3].reason.contains("ltc_count 0"));
    }
}
