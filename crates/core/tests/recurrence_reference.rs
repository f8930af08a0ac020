//! Recurrence and iCalendar output checked against independent Python implementations.
//!
//! A set of series (hand-picked edge cases and a few hundred from a seeded random generator,
//! with start times around the clock changes) is expanded by `alongside_core::recurrence` and
//! by `tests/reference/rrule_reference.py`, which uses `dateutil.rrule` (`rrulestr`, `rruleset`
//! for closures) with `zoneinfo`'s Europe/London. Every session's original date and UTC start
//! and end must agree exactly. A calendar written by `alongside_core::ical` is then parsed by
//! the `icalendar` package: every event's UTC instants and unescaped TEXT must match.
//!
//! Needs python3 (or `ALONGSIDE_PYTHON`) with python-dateutil, icalendar and tzdata; the test
//! fails, saying so, when they are missing (it never skips).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use alongside_core::ical::{Calendar, Event, EventStatus};
use alongside_core::recurrence::{Override, RecurrenceError, Rule, Series};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use time::macros::{date, datetime};
use time::{Date, Duration, Time};

fn python() -> String {
    std::env::var("ALONGSIDE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn check_python() {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", "import dateutil.rrule, icalendar, zoneinfo, tzdata"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "{py} cannot import dateutil/icalendar/tzdata ({}). Run the project's test script \
             (scripts/test), which installs them, or `{py} -m pip install python-dateutil icalendar tzdata`.",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run {py} ({e}). Install Python 3 and run scripts/test, or set ALONGSIDE_PYTHON \
             to a python3 with python-dateutil, icalendar and tzdata."
        ),
    }
}

struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("alongside-recur-ref-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_reference(mode: &str, input: &PathBuf, output: &PathBuf) -> Value {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/rrule_reference.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(mode)
        .arg(input)
        .arg(output)
        .output()
        .expect("run the reference script");
    assert!(
        out.status.success(),
        "reference script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(output).unwrap()).unwrap()
}

struct Case {
    id: String,
    rule: String,
    series: Series,
}

fn case(id: &str, rule: &str, start: Date, at: Time, minutes: u32, ends_on: Option<Date>) -> Case {
    Case {
        id: id.to_string(),
        rule: rule.to_string(),
        series: Series::new(start, at, minutes, Some(rule.parse().unwrap()), ends_on),
    }
}

fn fixed_cases() -> Vec<Case> {
    let t = |h, m| Time::from_hms(h, m, 0).unwrap();
    let mut v = vec![
        case(
            "cafe-2026",
            "FREQ=DAILY",
            date!(2026 - 01 - 01),
            t(18, 0),
            300,
            Some(date!(2026 - 12 - 31)),
        ),
        case(
            "cafe-2028",
            "FREQ=DAILY;UNTIL=20281231",
            date!(2028 - 01 - 01),
            t(18, 0),
            300,
            None,
        ),
        case(
            "gap-and-fold-0130",
            "FREQ=DAILY;UNTIL=20261231",
            date!(2026 - 03 - 27),
            t(1, 30),
            60,
            None,
        ),
        case(
            "gap-0100",
            "FREQ=WEEKLY;BYDAY=SU;COUNT=60",
            date!(2026 - 01 - 04),
            t(1, 0),
            90,
            None,
        ),
        case(
            "tuesdays",
            "FREQ=WEEKLY;BYDAY=TU;COUNT=30",
            date!(2026 - 03 - 01),
            t(10, 30),
            90,
            None,
        ),
        case(
            "first-monday",
            "FREQ=MONTHLY;BYDAY=1MO;UNTIL=20291231",
            date!(2026 - 01 - 01),
            t(14, 0),
            120,
            None,
        ),
        case(
            "last-friday",
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=40",
            date!(2026 - 01 - 01),
            t(19, 0),
            120,
            None,
        ),
        case(
            "31st",
            "FREQ=MONTHLY;COUNT=20",
            date!(2026 - 01 - 31),
            t(9, 0),
            30,
            None,
        ),
        case(
            "last-day",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            date!(2027 - 11 - 05),
            t(0, 30),
            30,
            Some(date!(2029 - 06 - 30)),
        ),
        case(
            "fri-13",
            "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=10",
            date!(2026 - 01 - 01),
            t(21, 0),
            45,
            None,
        ),
        case(
            "fortnight-wkst-su",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU;COUNT=25",
            date!(2026 - 01 - 05),
            t(9, 0),
            60,
            None,
        ),
        case(
            "until-utc",
            "FREQ=DAILY;UNTIL=20260701T170000Z",
            date!(2026 - 06 - 01),
            t(18, 0),
            60,
            None,
        ),
        case(
            "weekdays-daily",
            "FREQ=DAILY;INTERVAL=3;BYDAY=MO,TU,WE,TH,FR;COUNT=50",
            date!(2026 - 10 - 01),
            t(1, 15),
            60,
            None,
        ),
    ];
    let mut closures = case(
        "closures",
        "FREQ=WEEKLY;BYDAY=TU,TH",
        date!(2026 - 09 - 01),
        t(18, 0),
        90,
        Some(date!(2026 - 12 - 31)),
    );
    for d in [
        date!(2026 - 09 - 08),
        date!(2026 - 10 - 29),
        date!(2026 - 12 - 24),
        date!(2026 - 12 - 25),
    ] {
        closures.series.exceptions.insert(d);
    }
    v.push(closures);
    v
}

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Random rule text in random letter case and part order, with start times that often fall
/// at 00:xx–02:xx so the clock changes are crossed.
fn random_case(rng: &mut ChaCha8Rng, i: usize) -> Case {
    let freq = ["DAILY", "WEEKLY", "MONTHLY"][rng.gen_range(0..3)];
    let mut parts = vec![format!("FREQ={freq}")];
    if rng.gen_bool(0.5) {
        parts.push(format!("INTERVAL={}", rng.gen_range(1..5)));
    }
    if rng.gen_bool(0.6) {
        let n = rng.gen_range(1..4);
        // Numbered days or plain ones, never both in one rule: dateutil intersects the two
        // kinds where RFC 5545 (and our unit tests) take their union.
        let numbered = freq == "MONTHLY" && rng.gen_bool(0.6);
        let days: Vec<String> = (0..n)
            .map(|_| {
                let wd = WEEKDAYS[rng.gen_range(0..7)];
                if numbered {
                    let mut k: i32 = rng.gen_range(1..6);
                    if rng.gen_bool(0.4) {
                        k = -k;
                    }
                    format!("{k}{wd}")
                } else {
                    wd.to_string()
                }
            })
            .collect();
        parts.push(format!("BYDAY={}", days.join(",")));
    }
    if freq != "WEEKLY" && rng.gen_bool(0.35) {
        let n = rng.gen_range(1..4);
        let days: Vec<String> = (0..n)
            .map(|_| {
                let d: i32 = rng.gen_range(1..32);
                if rng.gen_bool(0.3) { -d } else { d }.to_string()
            })
            .collect();
        parts.push(format!("BYMONTHDAY={}", days.join(",")));
    }
    if rng.gen_bool(0.3) {
        parts.push(format!("WKST={}", WEEKDAYS[rng.gen_range(0..7)]));
    }
    let start = date!(2024 - 01 - 01) + Duration::days(rng.gen_range(0..8 * 365));
    let mut ends_on = None;
    match rng.gen_range(0..4) {
        0 => parts.push(format!("COUNT={}", rng.gen_range(1..400))),
        1 => {
            let u = start + Duration::days(rng.gen_range(-10..900));
            parts.push(format!(
                "UNTIL={:04}{:02}{:02}",
                u.year(),
                u8::from(u.month()),
                u.day()
            ));
        }
        2 => {
            let u = start.midnight().assume_utc()
                + Duration::seconds(rng.gen_range(-86_400..900 * 86_400));
            parts.push(format!(
                "UNTIL={:04}{:02}{:02}T{:02}{:02}{:02}Z",
                u.year(),
                u8::from(u.month()),
                u.day(),
                u.hour(),
                u.minute(),
                u.second()
            ));
        }
        _ => {}
    }
    if rng.gen_bool(0.3)
        || !parts
            .iter()
            .any(|p| p.starts_with("COUNT") || p.starts_with("UNTIL"))
    {
        ends_on = Some(start + Duration::days(rng.gen_range(0..1200)));
    }
    // Shuffle part order and letter case: the parser must not care.
    for k in (1..parts.len()).rev() {
        let j = rng.gen_range(0..=k);
        parts.swap(k, j);
    }
    let mut text = parts.join(";");
    if rng.gen_bool(0.3) {
        text = text.to_lowercase();
    }
    let hour = if rng.gen_bool(0.5) {
        rng.gen_range(0..3)
    } else {
        rng.gen_range(0..24)
    };
    let at = Time::from_hms(hour, [0, 15, 30, 45][rng.gen_range(0..4)], 0).unwrap();
    let minutes = rng.gen_range(1..=1440);
    let rule: Rule = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut series = Series::new(start, at, minutes, Some(rule), ends_on);
    for _ in 0..rng.gen_range(0..4) {
        series
            .exceptions
            .insert(start + Duration::days(rng.gen_range(0..120)));
    }
    Case {
        id: format!("random-{i}"),
        rule: text,
        series,
    }
}

fn iso(d: Date) -> String {
    alongside_core::time::iso_date(d)
}

#[test]
fn expansion_matches_dateutil_and_zoneinfo() {
    check_python();
    let mut cases = fixed_cases();
    let mut rng = ChaCha8Rng::seed_from_u64(20_261_122);
    let mut i = 0;
    let mut refused = 0;
    while cases.len() < 400 {
        let c = random_case(&mut rng, i);
        i += 1;
        // Series the Rust side refuses (more than ten years to reach COUNT) are left out;
        // count them so a generator gone wrong shows.
        match c.series.original_dates() {
            Err(RecurrenceError::TooLong { .. }) => refused += 1,
            Err(e) => panic!("{}: {e}", c.rule),
            Ok(_) => cases.push(c),
        }
    }
    assert!(
        refused * 3 < i,
        "{refused} of {i} random series refused as too long"
    );

    let dir = TempDir::new("rules");
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "rule": c.rule,
                "start_date": iso(c.series.start_date),
                "start_time": format!("{:02}:{:02}", c.series.start_time.hour(), c.series.start_time.minute()),
                "duration_minutes": c.series.duration_minutes,
                "ends_on": c.series.ends_on.map(iso),
                "exdates": c.series.exceptions.iter().map(|d| iso(*d)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let in_path = dir.0.join("cases.json");
    let out_path = dir.0.join("expanded.json");
    std::fs::write(&in_path, serde_json::to_string(&input).unwrap()).unwrap();
    let reference = run_reference("rules", &in_path, &out_path);

    let mut total = 0;
    let mut in_gap_or_fold = 0;
    for c in &cases {
        let ours = c
            .series
            .expand(date!(1900 - 01 - 01), date!(2100 - 01 - 01))
            .unwrap();
        let theirs = reference[&c.id].as_array().unwrap();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{} ({}) from {} at {}: {} sessions here, {} from dateutil",
            c.id,
            c.rule,
            c.series.start_date,
            c.series.start_time,
            ours.len(),
            theirs.len()
        );
        for (o, t) in ours.iter().zip(theirs) {
            let ctx = || format!("{} ({}) on {}", c.id, c.rule, o.original_date);
            assert_eq!(
                iso(o.original_date),
                t["original_date"].as_str().unwrap(),
                "{}",
                ctx()
            );
            assert_eq!(
                o.start_utc.unix_timestamp(),
                t["start"].as_i64().unwrap(),
                "{}",
                ctx()
            );
            assert_eq!(
                o.end_utc.unix_timestamp(),
                t["end"].as_i64().unwrap(),
                "{}",
                ctx()
            );
            if o.local_start.time() != c.series.start_time
                || (o.original_date.month() == time::Month::October
                    && o.original_date.weekday() == time::Weekday::Sunday
                    && o.original_date.day() > 24
                    && c.series.start_time.hour() == 1)
            {
                in_gap_or_fold += 1;
            }
        }
        total += ours.len();
    }
    assert!(total > 10_000, "only {total} sessions compared");
    assert!(
        in_gap_or_fold >= 4,
        "only {in_gap_or_fold} sessions at a clock change"
    );
}

#[test]
fn calendar_parses_with_icalendar_and_keeps_instants_and_text() {
    check_python();
    let mut s = Series::new(
        date!(2026 - 03 - 20),
        Time::from_hms(18, 0, 0).unwrap(),
        300,
        Some("FREQ=DAILY;UNTIL=20261031".parse().unwrap()),
        None,
    );
    s.overrides
        .insert(date!(2026 - 03 - 29), Override::Cancelled);
    s.overrides.insert(
        date!(2026 - 10 - 25),
        Override::Moved {
            date: date!(2026 - 10 - 26),
            time: Time::from_hms(1, 30, 0).unwrap(),
            duration_minutes: 45,
        },
    );
    let occ = s
        .expand(date!(2026 - 03 - 01), date!(2026 - 10 - 31))
        .unwrap();
    let texts = [
        "Café, games; and \\ a backslash",
        "Line one\nLine two\r\nLine three",
        "Ünïcödé — 日本語のテキスト、とても長い説明がここにあります。折り返しで文字が分割されてはいけません。🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
        "",
    ];
    let mut cal = Calendar::new("Peer support; Tuesday group, Leeds");
    let mut expected = BTreeMap::new();
    for (i, o) in occ.iter().enumerate() {
        let summary = format!("{} #{i}", texts[i % texts.len()]);
        let location = (i % 3 != 0).then(|| texts[(i + 1) % texts.len()].repeat(2));
        let description = (i % 2 == 0).then(|| texts[(i + 2) % texts.len()].repeat(3));
        let status = match o.status {
            alongside_core::recurrence::OccurrenceStatus::Cancelled => EventStatus::Cancelled,
            _ => EventStatus::Confirmed,
        };
        let uid = format!("session-{}@alongside.test", o.original_date);
        expected.insert(
            uid.clone(),
            (
                o,
                summary.clone(),
                location.clone(),
                description.clone(),
                status,
            ),
        );
        cal.events.push(Event {
            uid,
            dtstamp: datetime!(2026-11-22 23:59:59 UTC),
            start: o.start_utc,
            end: o.end_utc,
            summary,
            location,
            description,
            url: Some("https://alongside.test/groups/1".into()),
            status,
            sequence: i as u32 % 4,
        });
    }
    let dir = TempDir::new("ics");
    let in_path = dir.0.join("feed.ics");
    let out_path = dir.0.join("parsed.json");
    std::fs::write(&in_path, cal.to_ics()).unwrap();
    let parsed = run_reference("ics", &in_path, &out_path);

    assert_eq!(parsed["name"], "Peer support; Tuesday group, Leeds");
    assert_eq!(parsed["method"], "PUBLISH");
    assert_eq!(parsed["version"], "2.0");
    assert!(parsed["longest_line_octets"].as_u64().unwrap() <= 75);
    assert_eq!(parsed["bare_lf"], 0);
    let events = parsed["events"].as_array().unwrap();
    assert_eq!(events.len(), occ.len());
    let normalise = |s: &str| s.replace("\r\n", "\n");
    let mut cancelled = 0;
    for e in events {
        let uid = e["uid"].as_str().unwrap();
        let (o, summary, location, description, status) = &expected[uid];
        assert_eq!(
            e["start"].as_i64().unwrap(),
            o.start_utc.unix_timestamp(),
            "{uid}"
        );
        assert_eq!(
            e["end"].as_i64().unwrap(),
            o.end_utc.unix_timestamp(),
            "{uid}"
        );
        assert_eq!(
            e["dtstamp"].as_i64().unwrap(),
            datetime!(2026-11-22 23:59:59 UTC).unix_timestamp()
        );
        assert_eq!(e["summary"].as_str().unwrap(), normalise(summary), "{uid}");
        assert_eq!(
            e["location"].as_str().map(str::to_string),
            location.as_deref().map(normalise),
            "{uid}"
        );
        assert_eq!(
            e["description"].as_str().map(str::to_string),
            description.as_deref().map(normalise),
            "{uid}"
        );
        assert_eq!(e["status"].as_str().unwrap(), status.as_str());
        if *status == EventStatus::Cancelled {
            cancelled += 1;
        }
    }
    assert_eq!(cancelled, 1);
    // 18:00 local: 17:00Z in summer, 18:00Z in winter; the moved session at 01:30 GMT.
    let by_date = |d: Date| occ.iter().find(|o| o.original_date == d).unwrap();
    assert_eq!(
        by_date(date!(2026 - 03 - 28)).start_utc,
        datetime!(2026-03-28 18:00 UTC)
    );
    assert_eq!(
        by_date(date!(2026 - 03 - 30)).start_utc,
        datetime!(2026-03-30 17:00 UTC)
    );
    assert_eq!(
        by_date(date!(2026 - 10 - 25)).start_utc,
        datetime!(2026-10-26 01:30 UTC)
    );
}
