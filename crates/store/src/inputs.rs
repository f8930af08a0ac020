//! Building an outcome evaluation's inputs from the store: the organisation's people, their
//! scored measurements, conditions and packed utilisation events, turned into one observation
//! period per eligible person with their covariates and event counts
//! ([`crate::outcomes::OutcomeInputs`]).
//!
//! The rows are read in one pass per table and fed to [`InputsBuilder`], which holds the rules;
//! two feeders give it rows: on SQLite the native path ([`crate::native`], a read-only
//! connection in one snapshot — a million people in about a second), on PostgreSQL sqlx's
//! streams. Callers audit first ([`Store::audit_evaluation`]). Nothing here writes.

use crate::event_sets;
use crate::outcomes::{Exclusions, LatestLevel, OutcomeInputs, Window};
use crate::{Result, Store, StoreError};
use alongside_core::OrgId;
use alongside_stats::hash::FxBuild;
use alongside_stats::{Day, Measurement, PeriodRecord, Sex};
use futures::TryStreamExt;
use sqlx::Row;
use std::collections::HashMap;

/// A record id as its 128-bit value: ordering these orders the ids' lower-case hyphenated text
/// (fixed width, hex digits in ASCII order), and hashing them is cheap.
fn key(id: &str) -> Option<u128> {
    uuid::Uuid::try_parse_ascii(id.as_bytes())
        .ok()
        .map(|u| u.as_u128())
}

// Every query is one scan in key order, no sort and no per-row subquery (a correlated count
// per person and an ORDER BY over all questionnaires took 3.3 s and 3.7 s for a million
// people); the builder joins by record id and orders each person's questionnaires itself.

/// The organisation's people ($1 = organisation), in any order (the builder puts them in record
/// id order, so that results never depend on the order rows were written in).
const PEOPLE_SQL: &str =
    "SELECT id, date_of_birth, sex, deprivation_decile, gp_practice FROM people WHERE org_id = $1";
/// Scored questionnaires ($1 = organisation).
const ASSESSMENTS_SQL: &str = "SELECT person_id, completed_at, score, level FROM assessments WHERE org_id = $1 AND status = 'completed' AND level IS NOT NULL AND score IS NOT NULL AND completed_at IS NOT NULL";
// SQLite's planner answers `org_id = ?` through the (org_id, …) indexes, one random table
// lookup per row (about 6 µs a row once the table outgrows the cache: 6 s for a million
// people). An evaluation reads nearly every row of its organisation, so on SQLite (typically
// one organisation per file) the two wide tables are scanned in storage order instead.
const NATIVE_PEOPLE_SQL: &str = "SELECT id, date_of_birth, sex, deprivation_decile, gp_practice FROM people NOT INDEXED WHERE org_id = $1";
const NATIVE_ASSESSMENTS_SQL: &str = "SELECT person_id, completed_at, score, level FROM assessments NOT INDEXED WHERE org_id = $1 AND status = 'completed' AND level IS NOT NULL AND score IS NOT NULL AND completed_at IS NOT NULL";
/// Long-term condition counts ($1 = organisation), when the condition names are not needed.
const LTC_SQL: &str =
    "SELECT person_id, COUNT(*) AS n FROM person_conditions WHERE org_id = $1 GROUP BY person_id";
/// Long-term conditions by name ($1 = organisation).
const CONDITIONS_SQL: &str = "SELECT person_id, condition FROM person_conditions WHERE org_id = $1";
/// Event sets of complete imports touching the window ($1 = organisation, $2 = window end,
/// $3 = window start).
fn sets_sql() -> String {
    format!("SELECT person_id, packed FROM utilisation_event_sets WHERE org_id = $1 AND first_date <= $2 AND last_date >= $3 AND {}", crate::outcomes::OF_COMPLETE_IMPORTS)
}

struct P {
    dob: Option<Day>,
    female_or_male: Option<Sex>,
    decile: Option<i64>,
    practice: Option<String>,
    ltc: i64,
    /// (day, score, level, completed_at): sorted by completed_at in `periods`.
    ms: Vec<(Day, f64, u8, i64)>,
    conditions: Vec<String>,
}

/// The evaluation's rules, fed one row at a time: people, then measurements (and conditions),
/// then [`InputsBuilder::periods`], then event sets, then [`InputsBuilder::finish`].
pub(crate) struct InputsBuilder {
    window: Window,
    with_distributions: bool,
    index: HashMap<u128, u32, FxBuild>,
    /// Record ids as read, until [`InputsBuilder::people_done`] orders and indexes them.
    ids: Vec<u128>,
    people: Vec<P>,
    /// Per person: the start of their period, once [`InputsBuilder::periods`] has run.
    start: Vec<Option<(Day, u8)>>,
    counts: Vec<[u32; 7]>,
    events_in_window: u64,
    excluded: Exclusions,
}

fn day_of_micros(m: i64) -> Day {
    Day(m.div_euclid(86_400_000_000) as i32)
}

pub(crate) fn age_on(dob: Day, on: Day) -> i32 {
    let (y0, m0, d0) = dob.ymd();
    let (y1, m1, d1) = on.ymd();
    y1 - y0 - i32::from((m1, d1) < (m0, d0))
}

impl InputsBuilder {
    pub(crate) fn new(window: Window, with_distributions: bool) -> Self {
        InputsBuilder {
            window,
            with_distributions,
            index: HashMap::default(),
            ids: Vec::new(),
            people: Vec::new(),
            start: Vec::new(),
            counts: Vec::new(),
            events_in_window: 0,
            excluded: Exclusions::default(),
        }
    }

    /// Applies one decoded row.
    fn apply(&mut self, item: Item) -> Result<()> {
        match item {
            Item::Person {
                key,
                dob,
                sex,
                decile,
                practice,
            } => {
                self.ids.push(key);
                self.people.push(P {
                    dob,
                    female_or_male: sex,
                    decile,
                    practice,
                    ltc: 0,
                    ms: Vec::new(),
                    conditions: Vec::new(),
                });
            }
            Item::PeopleDone => self.people_done(),
            Item::Assessment {
                key,
                completed_at,
                score,
                level,
            } => self.assessment(key, completed_at, score, level),
            Item::Condition { key, condition } => self.condition(key, condition),
            Item::Ltc { key, n } => self.ltc(key, n),
            Item::PeriodsNow => self.periods(),
            Item::Set { key, packed } => self.set(key, &packed)?,
        }
        Ok(())
    }

    fn find(&self, person: Option<u128>) -> Option<usize> {
        person.and_then(|k| self.index.get(&k)).map(|&i| i as usize)
    }

    /// After the last person: puts people in record id order and indexes them by id.
    fn people_done(&mut self) {
        let ids = std::mem::take(&mut self.ids);
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&a| ids[a]);
        let mut people: Vec<Option<P>> = std::mem::take(&mut self.people)
            .into_iter()
            .map(Some)
            .collect();
        self.index.reserve(order.len());
        for (k, i) in order.into_iter().enumerate() {
            self.people
                .push(people[i].take().expect("each person once"));
            self.index.insert(ids[i], k as u32);
        }
    }

    fn assessment(&mut self, person: Option<u128>, completed_at: i64, score: f64, level: i64) {
        let Some(i) = self.find(person) else {
            return;
        };
        let day = day_of_micros(completed_at);
        if day <= self.window.to && (1..=4).contains(&level) && score.is_finite() {
            self.people[i]
                .ms
                .push((day, score, level as u8, completed_at));
        }
    }

    fn condition(&mut self, person: Option<u128>, condition: String) {
        if let Some(i) = self.find(person) {
            self.people[i].ltc += 1;
            self.people[i].conditions.push(condition);
        }
    }

    fn ltc(&mut self, person: Option<u128>, n: i64) {
        if let Some(i) = self.find(person) {
            self.people[i].ltc = n;
        }
    }

    /// Decides each person's period (or why they are excluded) from their measurements.
    fn periods(&mut self) {
        let w = self.window;
        self.start = vec![None; self.people.len()];
        self.counts = vec![[0; 7]; self.people.len()];
        for (i, p) in self.people.iter_mut().enumerate() {
            if p.ms.is_empty() {
                self.excluded.no_activation += 1;
                continue;
            }
            // Time order; ties (the same microsecond) by score then level, so that the result
            // never depends on the order rows were read in.
            p.ms.sort_by(|a, b| {
                (a.3, a.1, a.2)
                    .partial_cmp(&(b.3, b.1, b.2))
                    .expect("finite")
            });
            let before = p.ms.iter().rev().find(|m| m.0 <= w.from);
            let (start, level) = match before {
                Some(m) => (w.from, m.2),
                None => match p.ms.iter().find(|m| m.0 > w.from) {
                    Some(m) => (m.0, m.2),
                    None => unreachable!("measurements are on or before the window's end"),
                },
            };
            if p.female_or_male.is_none() {
                self.excluded.sex_not_female_or_male += 1;
                continue;
            }
            if !p.decile.is_some_and(|d| (1..=10).contains(&d)) {
                self.excluded.no_deprivation_decile += 1;
                continue;
            }
            if p.ltc < 1 {
                self.excluded.no_long_term_condition += 1;
                continue;
            }
            let age = p.dob.map(|d| age_on(d, start)).unwrap_or(-1);
            if !(18..=120).contains(&age) {
                self.excluded.age_outside_18_120 += 1;
                continue;
            }
            self.start[i] = Some((start, level));
        }
    }

    /// One packed event set: its events in the window are counted, and those in the person's
    /// period are added to the period's counts.
    fn set(&mut self, person: Option<u128>, packed: &[u8]) -> Result<()> {
        let w = self.window;
        let malformed = |e: event_sets::Malformed| StoreError::Corrupt(e.to_string());
        let mut all = [0u32; 7];
        let n = event_sets::count_into(packed, w.from, w.to, &mut all).map_err(malformed)?;
        self.events_in_window += n;
        if let Some(i) = self.find(person) {
            match self.start[i] {
                Some((start, _)) if start == w.from => {
                    for (c, x) in self.counts[i].iter_mut().zip(all) {
                        *c += x;
                    }
                }
                Some((start, _)) => {
                    event_sets::count_into(packed, start, w.to, &mut self.counts[i])
                        .map_err(malformed)?;
                }
                None => {}
            }
        }
        Ok(())
    }

    fn finish(self) -> OutcomeInputs {
        let w = self.window;
        let mut out = OutcomeInputs {
            window: w,
            people_registered: self.people.len() as u64,
            people_measured: 0,
            records: Vec::new(),
            measurements: Vec::new(),
            excluded: self.excluded,
            events_not_counted: 0,
            latest: Vec::new(),
            events_in_window: self.events_in_window,
        };
        let mut counted = 0u64;
        for (i, p) in self.people.into_iter().enumerate() {
            if p.ms.is_empty() {
                continue;
            }
            out.people_measured += 1;
            for &(day, score, level, _) in &p.ms {
                out.measurements.push(Measurement {
                    person_key: i as u64,
                    day,
                    score,
                    level,
                });
            }
            if self.with_distributions {
                let mut conditions = p.conditions;
                conditions.sort();
                out.latest.push(LatestLevel {
                    level: p.ms.last().expect("measured").2,
                    deprivation_decile: p.decile.map(|d| d as u8),
                    gp_practice: p.practice.clone(),
                    conditions,
                });
            }
            let Some((start, level)) = self.start[i] else {
                continue;
            };
            let counts = self.counts[i];
            counted +=
                u64::from(counts[0] + counts[1] + counts[2] + counts[4] + counts[5] + counts[6]);
            out.records.push(PeriodRecord {
                person_key: i as u64,
                age: age_on(p.dob.expect("checked"), start) as u16,
                sex: p.female_or_male.expect("checked"),
                deprivation_decile: p.decile.expect("checked") as u8,
                ltc_count: p.ltc.min(i64::from(u16::MAX)) as u16,
                activation_level: level,
                exposure_days: (w.to.0 - start.0 + 1) as u32,
                counts,
            });
        }
        out.events_not_counted = out.events_in_window - counted;
        out
    }
}

/// One row, decoded, on its way to the builder (on SQLite from the reading thread).
enum Item {
    Person {
        key: u128,
        dob: Option<Day>,
        sex: Option<Sex>,
        decile: Option<i64>,
        practice: Option<String>,
    },
    /// After the last person.
    PeopleDone,
    Assessment {
        key: Option<u128>,
        completed_at: i64,
        score: f64,
        level: i64,
    },
    Condition {
        key: Option<u128>,
        condition: String,
    },
    Ltc {
        key: Option<u128>,
        n: i64,
    },
    /// After the last questionnaire and condition: decide the periods.
    PeriodsNow,
    Set {
        key: Option<u128>,
        packed: Vec<u8>,
    },
}

fn person_item(
    id: &str,
    dob: &str,
    sex: &str,
    decile: Option<i64>,
    practice: Option<&str>,
    with_distributions: bool,
) -> Result<Item> {
    Ok(Item::Person {
        key: key(id).ok_or_else(|| StoreError::Corrupt(format!("record id {id:?}")))?,
        dob: Day::parse_iso(dob.as_bytes()),
        sex: match sex {
            "female" => Some(Sex::Female),
            "male" => Some(Sex::Male),
            _ => None,
        },
        decile,
        // Only the dashboard's distributions need the practice.
        practice: practice.filter(|_| with_distributions).map(str::to_string),
    })
}

/// Feeds the builder through sqlx (PostgreSQL, or SQLite without a file).
async fn feed_any(store: &Store, org: &str, b: &mut InputsBuilder) -> Result<()> {
    let wd = b.with_distributions;
    let mut rows = sqlx::query(PEOPLE_SQL).bind(org).fetch(store.reader());
    while let Some(r) = rows.try_next().await? {
        let id: String = r.try_get(0)?;
        let dob: String = r.try_get(1)?;
        let sex: String = r.try_get(2)?;
        let practice: Option<String> = r.try_get(4)?;
        b.apply(person_item(
            &id,
            &dob,
            &sex,
            r.try_get(3)?,
            practice.as_deref(),
            wd,
        )?)?;
    }
    drop(rows);
    b.apply(Item::PeopleDone)?;
    let mut rows = sqlx::query(ASSESSMENTS_SQL).bind(org).fetch(store.reader());
    while let Some(r) = rows.try_next().await? {
        let pid: String = r.try_get(0)?;
        b.apply(Item::Assessment {
            key: key(&pid),
            completed_at: r.try_get(1)?,
            score: r.try_get(2)?,
            level: r.try_get(3)?,
        })?;
    }
    drop(rows);
    let mut rows = sqlx::query(if wd { CONDITIONS_SQL } else { LTC_SQL })
        .bind(org)
        .fetch(store.reader());
    while let Some(r) = rows.try_next().await? {
        let pid: String = r.try_get(0)?;
        b.apply(if wd {
            Item::Condition {
                key: key(&pid),
                condition: r.try_get(1)?,
            }
        } else {
            Item::Ltc {
                key: key(&pid),
                n: r.try_get(1)?,
            }
        })?;
    }
    drop(rows);
    b.apply(Item::PeriodsNow)?;
    let (from, to) = (b.window.from.to_iso(), b.window.to.to_iso());
    let sets_sql = sets_sql();
    let mut rows = sqlx::query(&sets_sql)
        .bind(org)
        .bind(&to)
        .bind(&from)
        .fetch(store.reader());
    while let Some(r) = rows.try_next().await? {
        let pid: String = r.try_get(0)?;
        b.apply(Item::Set {
            key: key(&pid),
            packed: r.try_get(1)?,
        })?;
    }
    Ok(())
}

/// Rows per batch handed from the reading thread to the builder's.
const BATCH: usize = 4096;

/// Sends full batches to the builder; false once the builder has stopped (on an error, which
/// its thread's result reports).
struct Batcher {
    tx: std::sync::mpsc::SyncSender<Vec<Item>>,
    batch: Vec<Item>,
}

impl Batcher {
    fn push(&mut self, item: Item) -> bool {
        self.batch.push(item);
        self.batch.len() < BATCH || self.flush()
    }

    fn flush(&mut self) -> bool {
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        full.is_empty() || self.tx.send(full).is_ok()
    }
}

/// Steps the four scans on `c` (this thread) and hands decoded rows to `out`.
fn read_native(
    c: &rusqlite::Connection,
    org: &str,
    wd: bool,
    window: Window,
    out: &mut Batcher,
) -> Result<()> {
    let (from, to) = (window.from.to_iso(), window.to.to_iso());
    let mut st = c.prepare(NATIVE_PEOPLE_SQL)?;
    let mut rows = st.query([org])?;
    while let Some(r) = rows.next()? {
        let item = person_item(
            r.get_ref(0)?.as_str()?,
            r.get_ref(1)?.as_str()?,
            r.get_ref(2)?.as_str()?,
            r.get(3)?,
            r.get_ref(4)?.as_str_or_null()?,
            wd,
        )?;
        if !out.push(item) {
            return Ok(());
        }
    }
    out.push(Item::PeopleDone);
    let mut st = c.prepare(NATIVE_ASSESSMENTS_SQL)?;
    let mut rows = st.query([org])?;
    while let Some(r) = rows.next()? {
        let item = Item::Assessment {
            key: key(r.get_ref(0)?.as_str()?),
            completed_at: r.get(1)?,
            score: r.get(2)?,
            level: r.get(3)?,
        };
        if !out.push(item) {
            return Ok(());
        }
    }
    let mut st = c.prepare(if wd { CONDITIONS_SQL } else { LTC_SQL })?;
    let mut rows = st.query([org])?;
    while let Some(r) = rows.next()? {
        let k = key(r.get_ref(0)?.as_str()?);
        let item = if wd {
            Item::Condition {
                key: k,
                condition: r.get(1)?,
            }
        } else {
            Item::Ltc {
                key: k,
                n: r.get(1)?,
            }
        };
        if !out.push(item) {
            return Ok(());
        }
    }
    out.push(Item::PeriodsNow);
    let mut st = c.prepare(&sets_sql())?;
    let mut rows = st.query([org, to.as_str(), from.as_str()])?;
    while let Some(r) = rows.next()? {
        let item = Item::Set {
            key: key(r.get_ref(0)?.as_str()?),
            packed: r.get_ref(1)?.as_blob()?.to_vec(),
        };
        if !out.push(item) {
            return Ok(());
        }
    }
    out.flush();
    Ok(())
}

/// Feeds the builder from a native read-only SQLite connection (one snapshot): this thread
/// steps the statements and decodes rows while a second thread applies them to the builder,
/// so the two halves of the work use both cores.
fn feed_native(c: &rusqlite::Connection, org: &str, b: &mut InputsBuilder) -> Result<()> {
    let (wd, window) = (b.with_distributions, b.window);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(16);
    std::thread::scope(|scope| {
        let builder = scope.spawn(move || {
            for batch in rx {
                for item in batch {
                    b.apply(item)?;
                }
            }
            Ok::<_, StoreError>(())
        });
        let mut out = Batcher {
            tx,
            batch: Vec::with_capacity(BATCH),
        };
        let read = read_native(c, org, wd, window, &mut out);
        drop(out);
        let built = builder
            .join()
            .map_err(|_| StoreError::Native("the evaluation builder panicked".into()))?;
        // The builder's error first: a reader stopped early by it returns Ok.
        built.and(read)
    })
}

impl Store {
    /// Builds the evaluation inputs of `org` over `window` (callers audit first with
    /// [`Store::audit_evaluation`]): one period per eligible person, see the module docs of
    /// [`crate::outcomes`] for the rules.
    pub async fn outcome_inputs(
        &self,
        org: OrgId,
        window: Window,
        with_distributions: bool,
    ) -> Result<OutcomeInputs> {
        let org = org.as_text();
        let mut b = InputsBuilder::new(window, with_distributions);
        match self.native_reader() {
            Some(reader) => {
                b = reader
                    .read(move |c| {
                        feed_native(c, &org, &mut b)?;
                        Ok(b)
                    })
                    .await?;
            }
            None => feed_any(self, &org, &mut b).await?,
        }
        Ok(b.finish())
    }
}
