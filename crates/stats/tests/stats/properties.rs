//! Property tests: exact aggregation, invariances and special-function round trips.

use alongside_stats::day::Day;
use alongside_stats::negbin::{fit_nb2, NbObs};
use alongside_stats::poisson::fit_poisson;
use alongside_stats::special::{gamma_p_inv, gamma_pq, poisson_exact_ci};
use alongside_stats::{is_suppressed, suppress_count};
use proptest::prelude::*;

/// Design for 4 patterns: intercept, x1, x2.
const DESIGN: [f64; 12] = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];

fn rows() -> impl Strategy<Value = Vec<(usize, u32, f64)>> {
    prop::collection::vec((0usize..4, 0u32..25, 0.05f64..3.0), 24..90)
        .prop_filter("every pattern needs an event", |rows| {
            (0..4).all(|p| rows.iter().any(|r| r.0 == p && r.1 > 0))
        })
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b.abs().max(1e-300)).abs()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn poisson_from_cells_equals_poisson_from_rows(rows in rows()) {
        let x_rows: Vec<f64> = rows.iter().flat_map(|r| DESIGN[r.0 * 3..r.0 * 3 + 3].to_vec()).collect();
        let y: Vec<f64> = rows.iter().map(|r| f64::from(r.1)).collect();
        let e: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let by_rows = fit_poisson(&x_rows, 3, &y, &e).unwrap();
        let mut cy = [0.0; 4];
        let mut ce = [0.0; 4];
        for r in &rows {
            cy[r.0] += f64::from(r.1);
            ce[r.0] += r.2;
        }
        let by_cells = fit_poisson(&DESIGN, 3, &cy, &ce).unwrap();
        for j in 0..3 {
            prop_assert!((by_rows.coef[j] - by_cells.coef[j]).abs() < 1e-9, "coef {j}");
            prop_assert!(rel(by_rows.bread[(j, j)], by_cells.bread[(j, j)]) < 1e-8);
        }
    }

    #[test]
    fn rate_ratios_are_invariant_to_scaling_all_exposures(rows in rows(), scale in 0.01f64..100.0) {
        let x_rows: Vec<f64> = rows.iter().flat_map(|r| DESIGN[r.0 * 3..r.0 * 3 + 3].to_vec()).collect();
        let y: Vec<f64> = rows.iter().map(|r| f64::from(r.1)).collect();
        let e: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let es: Vec<f64> = e.iter().map(|v| v * scale).collect();
        let a = fit_poisson(&x_rows, 3, &y, &e).unwrap();
        let b = fit_poisson(&x_rows, 3, &y, &es).unwrap();
        prop_assert!((a.coef[0] - scale.ln() - b.coef[0]).abs() < 1e-8);
        for j in 1..3 {
            prop_assert!(rel(a.coef[j].exp(), b.coef[j].exp()) < 1e-9);
        }
        let obs = |s: f64| -> Vec<NbObs> {
            rows.iter().enumerate().map(|(i, r)| NbObs { row: i as u32, y: r.1, log_exposure: (r.2 * s).ln(), weight: 1.0 }).collect()
        };
        let na = fit_nb2(&x_rows, 3, &obs(1.0), &a.coef);
        let nb = fit_nb2(&x_rows, 3, &obs(scale), &b.coef);
        match (na, nb) {
            (Ok(na), Ok(nb)) => {
                prop_assert!(rel(na.alpha, nb.alpha) < 1e-7, "alpha {} {}", na.alpha, nb.alpha);
                for j in 1..3 {
                    prop_assert!(rel(na.coef[j].exp(), nb.coef[j].exp()) < 1e-7);
                    prop_assert!(rel(na.cov[(j, j)], nb.cov[(j, j)]) < 1e-6);
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "one fit failed: {:?} / {:?}", a.err(), b.err()),
        }
    }

    #[test]
    fn nb_from_weighted_patterns_equals_nb_from_rows(rows in rows()) {
        // Make duplicates likely: round exposures to 3 values.
        let rows: Vec<(usize, u32, f64)> = rows.iter().map(|r| (r.0, r.1 % 6, [0.5, 1.0, 2.0][r.2 as usize % 3])).collect();
        prop_assume!((0..4).all(|p| rows.iter().any(|r| r.0 == p && r.1 > 0)));
        let rows_obs: Vec<NbObs> = rows.iter().map(|r| NbObs { row: r.0 as u32, y: r.1, log_exposure: r.2.ln(), weight: 1.0 }).collect();
        let mut grouped: Vec<NbObs> = Vec::new();
        for o in &rows_obs {
            match grouped.iter_mut().find(|g| g.row == o.row && g.y == o.y && g.log_exposure == o.log_exposure) {
                Some(g) => g.weight += 1.0,
                None => grouped.push(*o),
            }
        }
        let start = [0.0, 0.0, 0.0];
        let a = fit_nb2(&DESIGN, 3, &rows_obs, &start);
        let b = fit_nb2(&DESIGN, 3, &grouped, &start);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                prop_assert!(rel(a.alpha, b.alpha) < 1e-8);
                prop_assert!((a.log_likelihood - b.log_likelihood).abs() < 1e-8 * a.log_likelihood.abs());
                for j in 0..3 {
                    prop_assert!((a.coef[j] - b.coef[j]).abs() < 1e-8);
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "one fit failed: {:?} / {:?}", a.err(), b.err()),
        }
    }

    #[test]
    fn gamma_inverse_round_trips(a in 0.2f64..5.0e5, p in 0.001f64..0.999) {
        let x = gamma_p_inv(a, p);
        let (pv, qv) = gamma_pq(a, x);
        let (got, want) = if p < 0.5 { (pv, p) } else { (qv, 1.0 - p) };
        prop_assert!(rel(got, want) < 1e-9, "a={} p={} x={} got={}", a, p, x, got);
    }

    #[test]
    fn garwood_interval_brackets_the_count(y in 0u64..100_000) {
        let (lo, hi) = poisson_exact_ci(y, 0.95);
        prop_assert!(lo <= y as f64 && (y as f64) < hi);
        if y > 0 {
            // P(X >= y | mean lo) = 0.025 and P(X <= y | mean hi) = 0.025.
            prop_assert!(rel(gamma_pq(y as f64, lo).0, 0.025) < 1e-9);
        }
        prop_assert!(rel(gamma_pq(y as f64 + 1.0, hi).1, 0.025) < 1e-9);
    }

    #[test]
    fn days_round_trip_through_iso_text(z in -100_000i32..200_000) {
        let d = Day(z);
        prop_assert_eq!(Day::parse_iso(d.to_iso().as_bytes()), Some(d));
    }

    #[test]
    fn suppression_never_shows_small_positive_counts(n in 0u64..100, t in 0u64..20) {
        let shown = suppress_count(n, Some(t));
        prop_assert_eq!(shown.is_none(), n >= 1 && n <= t);
        prop_assert_eq!(is_suppressed(n, Some(t)), shown.is_none());
        prop_assert_eq!(suppress_count(n, None), Some(n));
    }
}
