//! Scoring benchmarks: single-response `rasch` scoring (no caching) and batch CSV scoring of
//! 1,000,000 synthetic rows of the 13-item demonstration instrument.
//!
//! Run with `cargo bench -p alongside-measure`. Synthetic data only.

use std::hint::black_box;
use std::io;

use alongside_measure::{score_csv, Instrument, Responses};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DEMO: &str = include_str!("../../../instruments/alongside-demo-activation.json");
const SEMCD: &str = include_str!("../../../instruments/semcd-6.json");

fn random_codes(rng: &mut ChaCha8Rng, n: usize, missing: bool) -> Vec<Option<&'static str>> {
    (0..n)
        .map(|_| match rng.gen_range(0..100) {
            0..=4 if missing => None,
            5..=7 if missing => Some("na"),
            k => Some(["1", "2", "3", "4"][k % 4]),
        })
        .collect()
}

fn responses(ins: &Instrument, missing: bool) -> Vec<Responses> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    (0..4096)
        .map(|_| {
            ins.responses_in_order(&random_codes(&mut rng, 13, missing))
                .unwrap()
        })
        .collect()
}

fn single(c: &mut Criterion) {
    let ins = Instrument::from_json_str(DEMO).unwrap();
    let mut g = c.benchmark_group("rasch_single_13_items");
    g.throughput(Throughput::Elements(1));
    for (name, missing) in [("all_answered", false), ("with_missing_and_na", true)] {
        let rs = responses(&ins, missing);
        g.bench_function(name, |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) & 4095;
                black_box(ins.score(black_box(&rs[i])))
            })
        });
    }
    g.finish();

    let semcd = Instrument::from_json_str(SEMCD).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let rs: Vec<Responses> = (0..4096)
        .map(|_| {
            let codes: Vec<Option<String>> = (0..6)
                .map(|_| Some(rng.gen_range(1..=10).to_string()))
                .collect();
            semcd.responses_in_order(&codes).unwrap()
        })
        .collect();
    c.bench_function("mean_single_semcd6", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(semcd.score(black_box(&rs[i])))
        })
    });
}

fn batch(c: &mut Criterion) {
    let ins = Instrument::from_json_str(DEMO).unwrap();
    let rows = 1_000_000usize;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut csv = String::with_capacity(rows * 40);
    csv.push_str("respondent");
    for i in 1..=13 {
        csv.push_str(&format!(",demo-{i:02}"));
    }
    csv.push('\n');
    for r in 0..rows {
        csv.push_str(&format!("P{r:07}"));
        for code in random_codes(&mut rng, 13, true) {
            csv.push(',');
            csv.push_str(code.unwrap_or(""));
        }
        csv.push('\n');
    }
    let bytes = csv.into_bytes();
    let mut g = c.benchmark_group("batch_csv");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function("demo_13_items_1M_rows", |b| {
        b.iter(|| {
            let summary = score_csv(&ins, black_box(bytes.as_slice()), io::sink()).unwrap();
            assert_eq!(summary.rows_read, rows as u64);
            summary
        })
    });
    g.finish();
}

criterion_group!(benches, single, batch);
criterion_main!(benches);
