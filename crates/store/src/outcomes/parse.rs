//! Reading an events file (CSV, or FHIR through [`crate::fhir_events`]) into sorted, counted
//! event keys, resolving each row's person against the organisation's people.

use super::{ImportError, RejectedRow, EVENTS_HEADER, EVENT_TYPES, MAX_LISTED_REJECTIONS};
use crate::event_sets::{EventDay, DAY_BASE};
use crate::{Result, Store, StoreError};
use alongside_core::nhs_number::NhsNumber;
use alongside_core::OrgId;
use alongside_stats::Day;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

// Packed event key for sorting and counting: person index (28 bits) | day offset from
// 1900-01-01 (16 bits, up to 2079) | type (3) | minor (1). Sorting packed keys groups events by
// person (people are indexed in id order) and orders each person's events as their stored set.
const MAX_PEOPLE: usize = 1 << 28;

pub(super) fn pack(person: u32, ty: u8, minor: bool, day: Day) -> u64 {
    (u64::from(person) << 20)
        | (((day.0 - DAY_BASE) as u64 & 0xffff) << 4)
        | (u64::from(ty) << 1)
        | u64::from(minor)
}

pub(super) fn unpack(k: u64) -> (usize, u8, bool, Day) {
    (
        (k >> 20) as usize,
        ((k >> 1) & 7) as u8,
        k & 1 == 1,
        Day(((k >> 4) & 0xffff) as i32 + DAY_BASE),
    )
}

/// The organisation's people as the importer resolves them: ids in text order, and NHS numbers.
pub(super) struct PersonIndex {
    pub(super) ids: Vec<String>,
    pub(super) by_id: HashMap<String, u32>,
    by_nhs: HashMap<String, u32>,
}

impl PersonIndex {
    fn add(&mut self, id: String, nhs: Option<String>) -> Result<()> {
        let i = self.ids.len();
        if i + 1 >= MAX_PEOPLE {
            return Err(StoreError::Conflict(
                "too many people for one import".into(),
            ));
        }
        if let Some(n) = nhs {
            self.by_nhs.insert(n, i as u32);
        }
        self.by_id.insert(id.clone(), i as u32);
        self.ids.push(id);
        Ok(())
    }

    /// The person a record id (a UUID in any case or form) names.
    fn by_record_id(&self, id: &str) -> std::result::Result<u32, String> {
        if let Some(&p) = self.by_id.get(id) {
            // Fast path: a record id exactly as stored (lower-case, hyphenated).
            return Ok(p);
        }
        uuid::Uuid::parse_str(id)
            .ok()
            .and_then(|u| self.by_id.get(&u.hyphenated().to_string()))
            .copied()
            .ok_or_else(|| "no person with this record id in the organisation".to_string())
    }

    fn by_nhs_number(&self, n: &NhsNumber) -> std::result::Result<u32, String> {
        self.by_nhs
            .get(n.as_str())
            .copied()
            .ok_or_else(|| "no person with this NHS number in the organisation".to_string())
    }
}

/// The packed key of one event item (both formats), or why its day cannot be stored.
fn event_key(person: u32, day: Day, ty: u8, minor: bool) -> std::result::Result<u64, String> {
    if !(EventDay::day_in_range(day) && day.0 < DAY_BASE + 0xffff) {
        return Err(format!("date {day} is outside 1900–2078"));
    }
    // The minor flag only qualifies A&E attendances.
    Ok(pack(person, ty, minor && ty == 2, day))
}

/// Any order: [`person_index`] sorts by id, so that an import's rows are written in the
/// table's key order. On SQLite a scan in storage order (see `inputs.rs` for why).
const PERSON_INDEX_SQL: &str = "SELECT id, nhs_number FROM people WHERE org_id = $1";
const NATIVE_PERSON_INDEX_SQL: &str =
    "SELECT id, nhs_number FROM people NOT INDEXED WHERE org_id = $1";

pub(super) async fn person_index(store: &Store, org: OrgId) -> Result<PersonIndex> {
    let org = org.as_text();
    let mut people: Vec<(String, Option<String>)> = match store.native_reader() {
        Some(reader) => {
            reader
                .read(move |c| {
                    let mut st = c.prepare(NATIVE_PERSON_INDEX_SQL)?;
                    let mut rows = st.query([org.as_str()])?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next()? {
                        out.push((r.get(0)?, r.get(1)?));
                    }
                    Ok(out)
                })
                .await?
        }
        None => {
            let rows = sqlx::query(PERSON_INDEX_SQL)
                .bind(&org)
                .fetch_all(store.reader())
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push((r.try_get("id")?, r.try_get("nhs_number")?));
            }
            out
        }
    };
    people.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut ix = PersonIndex {
        ids: Vec::with_capacity(people.len()),
        by_id: HashMap::with_capacity(people.len()),
        by_nhs: HashMap::new(),
    };
    for (id, nhs) in people {
        ix.add(id, nhs)?;
    }
    Ok(ix)
}

fn field(s: &str) -> &str {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Parses one data row into a packed key, or says why it is rejected.
fn parse_row(line: &str, ix: &PersonIndex) -> std::result::Result<u64, String> {
    let mut fields = [""; 4];
    let mut count = 0usize;
    for f in line.split(',') {
        if count < 4 {
            fields[count] = f;
        }
        count += 1;
    }
    if count != 4 {
        return Err(format!(
            "expected 4 fields (person_id,date,type,minor), found {count}"
        ));
    }
    let who = field(fields[0]);
    let person = if let Some(&p) = ix.by_id.get(who) {
        p
    } else if who.is_empty() {
        return Err("person_id is empty".into());
    } else if who.bytes().all(|b| b.is_ascii_digit() || b == b' ')
        && who.bytes().filter(u8::is_ascii_digit).count() == 10
    {
        let compact: String = who.chars().filter(|c| !c.is_whitespace()).collect();
        let n = NhsNumber::parse(&compact).map_err(|_| {
            "person_id is 10 digits but not a valid NHS number (check digit)".to_string()
        })?;
        ix.by_nhs_number(&n)?
    } else {
        uuid::Uuid::parse_str(who).map_err(|_| {
            "person_id must be a record id (UUID) or a 10-digit NHS number".to_string()
        })?;
        ix.by_record_id(who)?
    };
    let date = field(fields[1]);
    let day = Day::parse_iso(date.as_bytes())
        .filter(|d| EventDay::day_in_range(*d) && d.0 < DAY_BASE + 0xffff)
        .ok_or_else(|| "date must be a real date written YYYY-MM-DD (1900–2078)".to_string())?;
    let ty = field(fields[2]);
    let t = EVENT_TYPES.iter().position(|t| *t == ty).ok_or_else(|| {
        format!(
            "unknown event type; expected one of {}",
            EVENT_TYPES.join(", ")
        )
    })?;
    let minor = field(fields[3]);
    let minor = if minor.eq_ignore_ascii_case("true") || minor == "1" {
        true
    } else if minor.eq_ignore_ascii_case("false") || minor == "0" || minor.is_empty() {
        false
    } else {
        return Err("minor must be true, false, 1, 0 or empty".into());
    };
    event_key(person, day, t as u8, minor)
}

/// Reads a FHIR file ([`crate::fhir_events`]) into the same parsed form as a CSV file.
pub(super) fn parse_fhir(
    bytes: &[u8],
    ix: &PersonIndex,
) -> std::result::Result<Parsed, ImportError> {
    use crate::fhir_events::{Outcome as Fhir, PersonRef};
    let entries = crate::fhir_events::read(bytes).map_err(ImportError::NotFhir)?;
    let mut parsed = Parsed::default();
    let mut keys = Vec::with_capacity(entries.len());
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    for e in entries {
        parsed.rows_read += 1;
        let key = match e.outcome {
            Fhir::Event(item) => match &item.person {
                PersonRef::RecordId(id) => ix.by_record_id(id),
                PersonRef::Nhs(n) => ix.by_nhs_number(n),
            }
            .and_then(|p| event_key(p, item.day, item.event_type, item.minor)),
            Fhir::Skipped(kind) => {
                *skipped.entry(kind).or_default() += 1;
                continue;
            }
            Fhir::Rejected(reason) => Err(reason),
        };
        match key {
            Ok(k) => keys.push(k),
            Err(reason) => {
                parsed.rows_rejected += 1;
                if parsed.rejected.len() < MAX_LISTED_REJECTIONS {
                    parsed.rejected.push(RejectedRow {
                        line: e.number,
                        reason,
                    });
                }
            }
        }
    }
    parsed.rows_skipped = skipped.values().sum();
    parsed.skipped = skipped.into_iter().collect();
    parsed.keys = count_keys(keys);
    Ok(parsed)
}

/// Parsed, sorted and counted events ready to store.
#[derive(Default)]
pub(super) struct Parsed {
    pub(super) keys: Vec<(u64, u32)>,
    pub(super) rows_read: u64,
    pub(super) rows_rejected: u64,
    pub(super) rejected: Vec<RejectedRow>,
    pub(super) rows_skipped: u64,
    pub(super) skipped: Vec<(String, u64)>,
}

pub(super) fn parse_file(
    bytes: &[u8],
    ix: &PersonIndex,
) -> std::result::Result<Parsed, ImportError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text.split('\n');
    let header = loop {
        match lines.next() {
            None => return Err(ImportError::Empty),
            Some(h) if h.trim().is_empty() => continue,
            Some(h) => break h,
        }
    };
    let header_norm: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(str::trim)
        .collect();
    if header_norm.join(",") != EVENTS_HEADER {
        let shown: String = header.trim().chars().take(100).collect();
        return Err(ImportError::Header(shown));
    }
    // Line numbers count from the header's line.
    let header_start = header.as_ptr() as usize - text.as_ptr() as usize;
    let header_line = text[..header_start].matches('\n').count() as u64 + 1;
    let body_start = (header_start + header.len() + 1).min(text.len());
    let body = &text[body_start..];
    // Parse in as many chunks as there are cores, each cut at a line boundary.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let mut bounds = vec![0usize];
    for k in 1..threads {
        let mut at = body.len() * k / threads;
        while at < body.len() && !body.is_char_boundary(at) {
            at += 1;
        }
        let cut = body[at..].find('\n').map_or(body.len(), |i| at + i + 1);
        if cut > *bounds.last().expect("bounds") {
            bounds.push(cut);
        }
    }
    bounds.push(body.len());
    bounds.dedup();
    let parts: Vec<(Vec<u64>, u64, u64, Vec<RejectedRow>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                scope.spawn(move || {
                    let first_line = header_line + 1 + body[..from].matches('\n').count() as u64;
                    let mut keys = Vec::with_capacity((to - from) / 60);
                    let (mut read, mut rejected) = (0u64, 0u64);
                    let mut listed = Vec::new();
                    for (i, line) in body[from..to].split('\n').enumerate() {
                        let line = line.trim_end_matches('\r');
                        if line.trim().is_empty() {
                            continue;
                        }
                        read += 1;
                        match parse_row(line, ix) {
                            Ok(k) => keys.push(k),
                            Err(reason) => {
                                rejected += 1;
                                if listed.len() < MAX_LISTED_REJECTIONS {
                                    listed.push(RejectedRow {
                                        line: first_line + i as u64,
                                        reason,
                                    });
                                }
                            }
                        }
                    }
                    (keys, read, rejected, listed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("parser thread"))
            .collect()
    });
    let mut parsed = Parsed::default();
    let mut keys = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (k, read, rejected, listed) in parts {
        keys.extend_from_slice(&k);
        parsed.rows_read += read;
        parsed.rows_rejected += rejected;
        for r in listed {
            if parsed.rejected.len() < MAX_LISTED_REJECTIONS {
                parsed.rejected.push(r);
            }
        }
    }
    parsed.keys = count_keys(keys);
    Ok(parsed)
}

pub(super) fn count_keys(mut keys: Vec<u64>) -> Vec<(u64, u32)> {
    keys.sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(keys.len());
    for k in keys {
        match out.last_mut() {
            Some((last, n)) if *last == k => *n += 1,
            _ => out.push((k, 1)),
        }
    }
    out
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_keys_round_trip_and_sort_by_person_day_type_minor() {
        let d = Day::from_ymd(2025, 3, 1).unwrap();
        for (p, t, m) in [
            (0u32, 0u8, false),
            (123_456, 5, false),
            (MAX_PEOPLE as u32 - 1, 2, true),
        ] {
            assert_eq!(unpack(pack(p, t, m, d)), (p as usize, t, m, d));
        }
        assert!(pack(1, 0, false, d) > pack(0, 5, true, Day(d.0 + 999)));
        assert!(pack(0, 0, false, Day(d.0 + 1)) > pack(0, 5, true, d));
        assert!(pack(0, 2, true, d) > pack(0, 2, false, d));
    }
}
