//! Criterion benchmarks for the fitting: both models for one outcome from per-period records
//! (100,000 synthetic periods), the Poisson cell fit alone, and file evaluation of 20,000
//! people end to end.
use criterion::{criterion_group, criterion_main, Criterion};

use alongside_stats::analysis::fit_outcome_records;
use alongside_stats::synth::{generate, SynthOptions};
use alongside_stats::{evaluate_files, EvalOptions, Outcome, PeriodRecord, Sex};
use rand::{Rng, SeedableRng};

fn records(n: usize) -> Vec<PeriodRecord> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    (0..n)
        .map(|i| {
            let level = rng.gen_range(1..=4u8);
            let mu = 4.0 * (1.0 - 0.05 * f64::from(level)) * rng.gen_range(0.2..2.0);
            let y = (mu * rng.gen_range(0.0f64..2.0)).round() as u32;
            PeriodRecord {
                person_key: (i / 2) as u64,
                age: rng.gen_range(18..95),
                sex: if rng.gen() { Sex::Male } else { Sex::Female },
                deprivation_decile: rng.gen_range(1..=10),
                ltc_count: rng.gen_range(1..6),
                activation_level: level,
                exposure_days: if rng.gen_bool(0.9) {
                    365
                } else {
                    rng.gen_range(30..365)
                },
                counts: [y, y / 3, y / 4, y / 8, y / 10, y / 2, y / 9],
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let recs = records(100_000);
    c.bench_function("fit_outcome_100k_periods_both_models", |b| {
        b.iter(|| fit_outcome_records(&recs, Outcome::GpAppointment).unwrap())
    });
    let (mut p, mut e) = (Vec::new(), Vec::new());
    generate(
        20_000,
        1,
        &SynthOptions::default(),
        &mut p,
        &mut e,
        None::<std::io::Sink>,
    )
    .unwrap();
    let opts = EvalOptions {
        suppress: None,
        ..EvalOptions::default()
    };
    let mut g = c.benchmark_group("evaluate");
    g.sample_size(10);
    g.bench_function("evaluate_files_20k_people", |b| {
        b.iter(|| evaluate_files(&p[..], &e[..], None::<&[u8]>, &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
