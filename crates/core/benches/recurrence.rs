//! Recurrence benchmarks: expanding a year of daily sessions (18:00–23:00 local, across both
//! clock changes) for 1,000 groups, and writing those 365,000 sessions as one iCalendar feed.
//!
//! Run with `cargo bench -p alongside-core --bench recurrence`. Synthetic data only.

use std::hint::black_box;

use alongside_core::ical::{Calendar, Event, EventStatus};
use alongside_core::recurrence::{Override, Rule, Series};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use time::macros::{date, datetime};
use time::{Duration, Time};

fn groups() -> Vec<Series> {
    let rule: Rule = "FREQ=DAILY".parse().unwrap();
    (0..1_000u32)
        .map(|i| {
            let at = Time::from_hms(17 + (i % 3) as u8, (i % 4) as u8 * 15, 0).unwrap();
            let mut s = Series::new(
                date!(2026 - 01 - 01),
                at,
                300,
                Some(rule.clone()),
                Some(date!(2026 - 12 - 31)),
            );
            // A couple of closures and one-off changes per group, as real groups have.
            s.exceptions.insert(date!(2026 - 12 - 25));
            s.overrides.insert(
                date!(2026 - 01 - 01) + Duration::days(i64::from(i % 300)),
                Override::Cancelled,
            );
            s
        })
        .collect()
}

fn expand_year(c: &mut Criterion) {
    let groups = groups();
    let mut g = c.benchmark_group("recurrence");
    g.throughput(Throughput::Elements(1_000 * 365));
    g.bench_function("expand_1000_groups_daily_year", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in &groups {
                n += s
                    .expand(black_box(date!(2026 - 01 - 01)), date!(2026 - 12 - 31))
                    .unwrap()
                    .len();
            }
            assert_eq!(n, 1_000 * 364);
            n
        })
    });
    g.finish();
}

fn write_feed(c: &mut Criterion) {
    let groups = groups();
    let mut cal = Calendar::new("Benchmark feed");
    for (gi, s) in groups.iter().enumerate() {
        for o in s
            .expand(date!(2026 - 01 - 01), date!(2026 - 12 - 31))
            .unwrap()
        {
            cal.events.push(Event {
                uid: format!("g{gi}-{}@alongside.test", o.original_date),
                dtstamp: datetime!(2026-11-22 12:00 UTC),
                start: o.start_utc,
                end: o.end_utc,
                summary: "Evening café, games; conversation".into(),
                location: Some("Community centre, Room 2".into()),
                description: Some("Drop in for a cup of tea.\nEveryone welcome.".into()),
                url: None,
                status: EventStatus::Confirmed,
                sequence: 0,
            });
        }
    }
    let mut g = c.benchmark_group("ical");
    g.throughput(Throughput::Elements(cal.events.len() as u64));
    g.sample_size(10);
    g.bench_function("write_364000_events", |b| {
        b.iter(|| black_box(&cal).to_ics().len())
    });
    g.finish();
}

criterion_group!(benches, expand_year, write_feed);
criterion_main!(benches);
