//! Deterministic synthetic populations: `people.csv`, `events.csv` and `measurements.csv`
//! with confounding and known true rate ratios, for tests, demos and benchmarks.
//!
//! Activation is lower among older, more deprived and multimorbid people (confounding); event
//! rates depend on age, sex, deprivation, number of conditions and activation level, with a
//! person-level gamma frailty (overdispersion, variance 0.5) shared by all outcomes and
//! independent of activation, so that adjusted models recover the true ratios. Person ids are
//! `P` followed by a zero-padded 7-digit number (`P0000001`; more digits past 9,999,999).
//! The same seed gives byte-identical files. It must never produce or read real data.

use std::io::{self, BufWriter, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::coding::{deprivation_quintile, Outcome, N_OUTCOMES};
use crate::day::Day;
use crate::special::ln_gamma;

/// True level-4-vs-level-1 rate ratios used by the generator (Barker et al. 2018 for all but
/// missed outpatient appointments, which the study did not report: 0.80 is an assumption).
/// Levels 2 and 3 get R^(1/3) and R^(2/3) (log-linear interpolation).
pub const TRUE_LEVEL4_RATIOS: [f64; N_OUTCOMES] = [0.82, 0.77, 0.68, 0.67, 0.62, 0.81, 0.80];

/// The true rate ratio of `level` vs level 1 for an outcome (ae_attendance is a mixture of
/// minor and other attendances, whose ratios are 0.67 and 0.685; its ratio is ≈ 0.68).
pub fn true_ratio(outcome: Outcome, level: u8) -> f64 {
    let r4 = match outcome {
        Outcome::AeAttendance => NON_MINOR_AE_RATIO,
        o => TRUE_LEVEL4_RATIOS[o.index()],
    };
    r4.powf(f64::from(level - 1) / 3.0)
}

const NON_MINOR_AE_RATIO: f64 = 0.685;

/// Generator settings.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Earliest follow-up start; starts are spread over the following year.
    pub start: Day,
    /// Share of people with two consecutive observation periods (re-measured, level updated).
    pub two_period_share: f64,
    /// Share of people whose single period is shorter than a year (moved away, died).
    pub short_period_share: f64,
    /// Mean number of extra events per person dated outside their periods (not counted).
    pub outside_events_per_person: f64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            start: Day::from_ymd(2022, 4, 1).expect("valid date"),
            two_period_share: 0.08,
            short_period_share: 0.10,
            outside_events_per_person: 0.3,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SynthSummary {
    /// People.
    pub people: u64,
    /// Observation periods (rows of people.csv).
    pub periods: u64,
    /// Rows of events.csv.
    pub events: u64,
    /// Events dated inside a period.
    pub events_in_periods: u64,
    /// Rows of measurements.csv.
    pub measurements: u64,
}

/// The id of the i-th person (0-based): `P0000001`, `P0000002`, …
pub fn person_id(i: usize) -> String {
    format!("P{:07}", i + 1)
}

/// Activation level from a 0–100 score with the published cut-points (47.0 / 55.1 / 72.4).
pub fn level_from_score(score: f64) -> u8 {
    if score <= 47.0 {
        1
    } else if score <= 55.1 {
        2
    } else if score <= 72.4 {
        3
    } else {
        4
    }
}

// Baseline annual rates for the reference person (level 1, 18–39, female, quintile 1, 1 LTC):
// gp, gp_dna, A&E non-minor, A&E minor, emergency admission, outpatient, outpatient_dna.
const BASE: [f64; 7] = [9.5, 0.68, 0.39, 0.25, 0.15, 3.0, 0.32];
const AGE_GP: [f64; 6] = [1.0, 1.08, 1.18, 1.3, 1.45, 1.6];
const AGE_ACUTE: [f64; 6] = [1.0, 1.15, 1.4, 1.8, 2.4, 3.1];
const AGE_DNA: [f64; 6] = [1.0, 0.9, 0.8, 0.7, 0.65, 0.7];
const LTC: [f64; 4] = [1.0, 1.3, 1.65, 2.1];
const DEP_ACUTE: [f64; 5] = [1.0, 0.93, 0.87, 0.82, 0.77];
const DEP_GP: [f64; 5] = [1.0, 0.98, 0.96, 0.94, 0.92];
// Indices into the 7 generated streams (A&E split into non-minor and minor).
const STREAM_TYPE: [&str; 7] = [
    "gp_appointment",
    "gp_dna",
    "ae_attendance",
    "ae_attendance",
    "emergency_admission",
    "outpatient_attendance",
    "outpatient_dna",
];

fn stream_ratio4(s: usize) -> f64 {
    match s {
        2 => NON_MINOR_AE_RATIO,
        k => TRUE_LEVEL4_RATIOS[k],
    }
}

fn rate(
    s: usize,
    level: u8,
    age_band: usize,
    male: bool,
    quintile: usize,
    ltc_group: usize,
) -> f64 {
    let (age, dep) = match s {
        0 | 5 => (AGE_GP[age_band], DEP_GP[quintile - 1]),
        1 | 6 => (AGE_DNA[age_band], DEP_ACUTE[quintile - 1]),
        _ => (AGE_ACUTE[age_band], DEP_ACUTE[quintile - 1]),
    };
    let sex = match (s, male) {
        (_, false) => 1.0,
        (0 | 5, true) => 0.88,
        (1 | 6, true) => 1.1,
        (_, true) => 1.06,
    };
    BASE[s] * age * dep * sex * LTC[ltc_group] * stream_ratio4(s).powf(f64::from(level - 1) / 3.0)
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    // (0, 1]
    1.0 - rng.gen::<f64>()
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = uniform(rng);
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Poisson variate: multiplication method below 10, PTRS (Hörmann 1993) above.
fn poisson(rng: &mut ChaCha8Rng, lam: f64) -> u32 {
    if lam <= 0.0 {
        return 0;
    }
    if lam < 10.0 {
        let l = (-lam).exp();
        let mut k = 0;
        let mut p = rng.gen::<f64>();
        while p > l {
            k += 1;
            p *= rng.gen::<f64>();
        }
        return k;
    }
    let slam = lam.sqrt();
    let loglam = lam.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let invalpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.gen::<f64>() - 0.5;
        let v = rng.gen::<f64>();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lam + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k as u32;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if v.ln() + invalpha.ln() - (a / (us * us) + b).ln()
            <= -lam + k * loglam - ln_gamma(k + 1.0)
        {
            return k as u32;
        }
    }
}

struct Out<W: Write> {
    w: BufWriter<W>,
}

impl<W: Write> Out<W> {
    fn day(&mut self, d: Day) -> io::Result<()> {
        let mut b = [0u8; 10];
        d.write_iso(&mut b);
        self.w.write_all(&b)
    }
}

/// Writes a synthetic population of `people` people. The same `seed` and options give
/// identical output. `measurements` may be `None::<std::io::Sink>`.
pub fn generate<P: Write, E: Write, M: Write>(
    people: usize,
    seed: u64,
    opts: &SynthOptions,
    people_out: P,
    events_out: E,
    measurements_out: Option<M>,
) -> io::Result<SynthSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pw = Out {
        w: BufWriter::with_capacity(1 << 20, people_out),
    };
    let mut ew = Out {
        w: BufWriter::with_capacity(1 << 20, events_out),
    };
    let mut mw = measurements_out.map(|m| Out {
        w: BufWriter::with_capacity(1 << 20, m),
    });
    writeln!(pw.w, "{}", crate::ingest::PEOPLE_HEADER)?;
    writeln!(ew.w, "{}", crate::ingest::EVENTS_HEADER)?;
    if let Some(m) = mw.as_mut() {
        writeln!(m.w, "{}", crate::ingest::MEASUREMENTS_HEADER)?;
    }
    let mut sum = SynthSummary {
        people: people as u64,
        ..Default::default()
    };
    const AGE_P: [f64; 6] = [0.14, 0.12, 0.18, 0.21, 0.20, 0.15];
    const AGE_LO: [u32; 6] = [18, 40, 50, 60, 70, 80];
    const AGE_SPAN: [u32; 6] = [22, 10, 10, 10, 10, 16];
    const LTC_LAMBDA: [f64; 6] = [0.3, 0.5, 0.8, 1.1, 1.5, 1.8];
    let mut id = String::new();
    for i in 0..people {
        id.clear();
        use std::fmt::Write as _;
        let _ = write!(id, "P{:07}", i + 1);
        let idb = id.as_bytes();
        // Covariates.
        let mut u = rng.gen::<f64>();
        let mut band = 5;
        for (b, p) in AGE_P.iter().enumerate() {
            if u < *p {
                band = b;
                break;
            }
            u -= p;
        }
        let age = AGE_LO[band] + rng.gen_range(0..AGE_SPAN[band]);
        let male = rng.gen::<f64>() < 0.47;
        let decile: u32 = rng.gen_range(1..=10);
        let quintile = deprivation_quintile(i64::from(decile)).expect("1-10") as usize;
        let ltc = (1 + poisson(&mut rng, LTC_LAMBDA[band])).min(8);
        let ltc_group = (ltc.min(4) - 1) as usize;
        // Activation (confounded).
        let mean = 69.0 - 2.2 * band as f64 - 1.6 * (5 - quintile) as f64 - 3.0 * ltc_group as f64;
        let score1 = ((mean + 13.0 * normal(&mut rng)).clamp(0.0, 100.0) * 10.0).round() / 10.0;
        let level1 = level_from_score(score1);
        // Frailty: Gamma(shape 2, scale 1/2), mean 1, variance 0.5.
        let frailty = -(uniform(&mut rng).ln() + uniform(&mut rng).ln()) / 2.0;
        // Periods.
        let start = Day(opts.start.0 + rng.gen_range(0..365));
        let r = rng.gen::<f64>();
        let mut periods: Vec<(Day, Day, u32, u8)> = Vec::with_capacity(2); // start, end, age, level
        let mut second_score = None;
        if r < opts.two_period_share {
            let len1 = rng.gen_range(180..=365);
            let end1 = Day(start.0 + len1 - 1);
            let s2 =
                ((score1 + 1.5 + 7.0 * normal(&mut rng)).clamp(0.0, 100.0) * 10.0).round() / 10.0;
            let len2 = rng.gen_range(90..=365);
            periods.push((start, end1, age, level1));
            let age2 = (age + u32::from(len1 >= 365)).min(120);
            periods.push((
                Day(end1.0 + 1),
                Day(end1.0 + len2),
                age2,
                level_from_score(s2),
            ));
            second_score = Some((Day(end1.0 + 1), s2));
        } else if r < opts.two_period_share + opts.short_period_share {
            let len = rng.gen_range(30..365);
            periods.push((start, Day(start.0 + len - 1), age, level1));
        } else {
            periods.push((start, Day(start.0 + 364), age, level1));
        }
        for &(s, e, a, l) in &periods {
            pw.w.write_all(idb)?;
            write!(
                pw.w,
                ",{a},{},{decile},{ltc},{l},",
                if male { "male" } else { "female" }
            )?;
            pw.day(s)?;
            pw.w.write_all(b",")?;
            pw.day(e)?;
            pw.w.write_all(b"\n")?;
            sum.periods += 1;
            let days = (e.0 - s.0 + 1) as u32;
            let py = f64::from(days) / 365.25;
            #[allow(
                clippy::needless_range_loop,
                reason = "st indexes several parallel tables"
            )]
            for st in 0..7 {
                let lam =
                    frailty * rate(st, l, usize::from(band as u8), male, quintile, ltc_group) * py;
                let n = poisson(&mut rng, lam);
                for _ in 0..n {
                    let d = Day(s.0 + rng.gen_range(0..days) as i32);
                    ew.w.write_all(idb)?;
                    ew.w.write_all(b",")?;
                    ew.day(d)?;
                    ew.w.write_all(b",")?;
                    ew.w.write_all(STREAM_TYPE[st].as_bytes())?;
                    ew.w.write_all(match st {
                        2 => b",false\n",
                        3 => b",true\n",
                        _ => b",\n",
                    })?;
                }
                sum.events += u64::from(n);
                sum.events_in_periods += u64::from(n);
            }
        }
        // Events outside the periods (must not be counted).
        let n_out = poisson(&mut rng, opts.outside_events_per_person);
        let first = periods[0].0;
        let last = periods[periods.len() - 1].1;
        for _ in 0..n_out {
            let d = if rng.gen::<bool>() {
                Day(first.0 - rng.gen_range(1..=180))
            } else {
                Day(last.0 + rng.gen_range(1..=180))
            };
            let st = if rng.gen::<f64>() < 0.8 { 0 } else { 5 };
            ew.w.write_all(idb)?;
            ew.w.write_all(b",")?;
            ew.day(d)?;
            writeln!(ew.w, ",{},", STREAM_TYPE[st])?;
            sum.events += 1;
        }
        // Measurements: drawn whether or not they are written, so that people.csv and
        // events.csv are the same for a seed either way.
        let mut rows: Vec<(Day, f64)> = vec![(Day(start.0 - rng.gen_range(0..28)), score1)];
        if let Some(s2) = second_score {
            rows.push(s2);
        } else if rng.gen::<f64>() < 0.55 {
            let s2 =
                ((score1 + 1.5 + 7.0 * normal(&mut rng)).clamp(0.0, 100.0) * 10.0).round() / 10.0;
            rows.push((Day(rows[0].0 .0 + rng.gen_range(120..=420)), s2));
        }
        if rows.len() == 2 && rng.gen::<f64>() < 0.25 {
            let s3 = ((rows[1].1 + 0.5 + 6.0 * normal(&mut rng)).clamp(0.0, 100.0) * 10.0).round()
                / 10.0;
            rows.push((Day(rows[1].0 .0 + rng.gen_range(90..=300)), s3));
        }
        if let Some(m) = mw.as_mut() {
            for (d, s) in rows {
                m.w.write_all(idb)?;
                m.w.write_all(b",")?;
                m.day(d)?;
                writeln!(m.w, ",{s:.1},{}", level_from_score(s))?;
                sum.measurements += 1;
            }
        }
    }
    pw.w.flush()?;
    ew.w.flush()?;
    if let Some(m) = mw.as_mut() {
        m.w.flush()?;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: usize, seed: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>, SynthSummary) {
        let (mut p, mut e, mut m) = (Vec::new(), Vec::new(), Vec::new());
        let s = generate(
            n,
            seed,
            &SynthOptions::default(),
            &mut p,
            &mut e,
            Some(&mut m),
        )
        .unwrap();
        (p, e, m, s)
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let a = run(300, 7);
        let b = run(300, 7);
        let c = run(300, 8);
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
        assert_eq!(a.2, b.2);
        assert_ne!(a.1, c.1);
    }

    #[test]
    fn people_and_events_do_not_depend_on_writing_measurements() {
        let a = run(500, 9);
        let (mut p, mut e) = (Vec::new(), Vec::new());
        generate(
            500,
            9,
            &SynthOptions::default(),
            &mut p,
            &mut e,
            None::<std::io::Sink>,
        )
        .unwrap();
        assert_eq!(a.0, p);
        assert_eq!(a.1, e);
    }

    #[test]
    fn shape_of_output() {
        let (p, e, m, s) = run(2000, 1);
        let p = String::from_utf8(p).unwrap();
        assert!(p.starts_with(crate::ingest::PEOPLE_HEADER));
        assert_eq!(p.lines().count() as u64, s.periods + 1);
        assert!(s.periods > 2000 && s.periods < 2400);
        assert_eq!(
            String::from_utf8(e).unwrap().lines().count() as u64,
            s.events + 1
        );
        assert_eq!(
            String::from_utf8(m).unwrap().lines().count() as u64,
            s.measurements + 1
        );
        let per_person = s.events as f64 / 2000.0;
        assert!(
            (15.0..25.0).contains(&per_person),
            "{per_person} events per person"
        );
        assert!(p.lines().nth(1).unwrap().starts_with("P0000001,"));
    }

    #[test]
    fn poisson_sampler_mean_and_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for lam in [0.3, 4.0, 25.0, 400.0] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| f64::from(poisson(&mut rng, lam))).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            let se = (lam / n as f64).sqrt();
            assert!((mean - lam).abs() < 5.0 * se, "lam {lam}: mean {mean}");
            assert!((var / lam - 1.0).abs() < 0.03, "lam {lam}: var {var}");
        }
    }
}
