//! The Rasch partial credit model (PCM) and the maximum-likelihood person measure.
//!
//! Parametrisation (thresholds are *relative to* the item difficulty): for item i with
//! difficulty δ_i and step thresholds τ_i1..τ_im, category scores k = 0..m,
//!
//! ```text
//! P(X_i = k | θ) = exp(Σ_{j=1..k} (θ − δ_i − τ_ij)) / Σ_{h=0..m} exp(Σ_{j=1..h} (θ − δ_i − τ_ij))
//! ```
//!
//! (the empty sum for k = 0 is 0). The absolute (Andrich) thresholds are δ_i + τ_ij. The rating
//! scale model is the special case where every item has the same τ_j.
//!
//! Given the set A of answered items and the raw score r = Σ_{i∈A} x_i, the likelihood equation
//! is Σ_{i∈A} E_i(θ) = r, where E_i is the expected category score; its left side strictly
//! increases in θ, so the solution is unique for 0 < r < M = Σ_{i∈A} m_i. Extreme raw scores
//! (r = 0 or r = M) are first replaced by r = a or r = M − a, with a the instrument's extreme
//! adjustment (0 < a < 0.5, default 0.3; below 0.5 so that the adjusted scores keep their order
//! even when only one dichotomous item is answered). The equation is solved by Newton–Raphson
//! with Halley's second-order correction (steps limited to 1 logit) inside a bracket that falls
//! back to bisection, until the step is below 1e-10 logits. The standard error is 1/√I(θ̂) with
//! the test information I(θ) = Σ_{i∈A} Var_i(θ).
//!
//! This module is pure numerics: it must never contain instrument content (and never PAM
//! calibrations).

/// Largest allowed |δ| and |τ| in a definition (logits).
pub const MAX_PARAMETER: f64 = 50.0;
/// The measure is searched for in [−THETA_LIMIT, THETA_LIMIT] logits.
pub const THETA_LIMIT: f64 = 300.0;
/// Largest Newton step (logits).
pub const MAX_STEP: f64 = 1.0;
/// Convergence: stop when a step is smaller than this (logits).
pub const TOLERANCE: f64 = 1e-10;
const MAX_ITERATIONS: usize = 500;

/// One calibrated item, with the exponentials it needs precomputed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PcmItem {
    /// δ.
    pub(crate) difficulty: f64,
    /// τ_1..τ_m.
    pub(crate) thresholds: Vec<f64>,
    /// T_k = Σ_{j≤k} τ_j for k = 0..m (T_0 = 0).
    cumulative: Vec<f64>,
    /// exp(−τ_j), j = 1..m (index j−1).
    exp_neg_tau: Vec<f64>,
    /// exp(τ_j), j = 1..m (index j−1).
    exp_pos_tau: Vec<f64>,
    exp_neg_delta: f64,
    exp_pos_delta: f64,
    /// δ + mean τ: a rough item location used only for the starting value.
    centre: f64,
    /// max_k |T_k|: decides when the unscaled weights are safe from overflow.
    max_abs_cumulative: f64,
}

impl PcmItem {
    pub(crate) fn new(difficulty: f64, thresholds: Vec<f64>) -> PcmItem {
        let mut cumulative = Vec::with_capacity(thresholds.len() + 1);
        let mut acc = 0.0;
        cumulative.push(0.0);
        for &t in &thresholds {
            acc += t;
            cumulative.push(acc);
        }
        let m = thresholds.len().max(1) as f64;
        PcmItem {
            difficulty,
            exp_neg_tau: thresholds.iter().map(|t| (-t).exp()).collect(),
            exp_pos_tau: thresholds.iter().map(|t| t.exp()).collect(),
            exp_neg_delta: (-difficulty).exp(),
            exp_pos_delta: difficulty.exp(),
            centre: difficulty + acc / m,
            max_abs_cumulative: cumulative.iter().fold(0.0f64, |a, t| a.max(t.abs())),
            cumulative,
            thresholds,
        }
    }

    /// Expected score and variance at θ. `e_theta` = exp(θ), `e_neg_theta` = exp(−θ).
    ///
    /// Only one exponential per iteration is needed for all items together: the category
    /// weights are built by multiplying by exp(θ−δ−τ_k) = exp(θ)·exp(−δ)·exp(−τ_k). When θ is
    /// extreme, the weights are first scaled so that the largest is 1 (found from the
    /// log-weights k(θ−δ) − T_k, which need no exponential) and built outward from it: no
    /// overflow for |θ| ≤ THETA_LIMIT and parameters within MAX_PARAMETER.
    #[inline]
    fn moments(&self, theta: f64, e_theta: f64, e_neg_theta: f64) -> Moments {
        let x = theta - self.difficulty;
        let m = self.thresholds.len();
        // Direct path: every log-weight k·x − T_k is within ±600, so the weights
        // w_k = Π_{j≤k} exp(x − τ_j) neither overflow nor underflow.
        if m as f64 * x.abs() + self.max_abs_cumulative < 600.0 {
            let up = e_theta * self.exp_neg_delta; // exp(θ − δ)
            let mut w = 1.0;
            let mut s0 = 1.0;
            let mut s1 = 0.0;
            let mut s2 = 0.0;
            let mut s3 = 0.0;
            for (k, d) in self.exp_neg_tau.iter().enumerate() {
                w *= up * d;
                let kf = (k + 1) as f64;
                let kw = kf * w;
                s0 += w;
                s1 += kw;
                s2 += kf * kw;
                s3 += kf * kf * kw;
            }
            return central(0.0, s0, s1, s2, s3);
        }
        // Scaled path for extreme θ.
        let mut kstar = 0usize;
        let mut best = 0.0f64;
        for k in 1..=m {
            let l = k as f64 * x - self.cumulative[k];
            if l > best {
                best = l;
                kstar = k;
            }
        }
        let up = e_theta * self.exp_neg_delta; // exp(θ − δ)
        let down = e_neg_theta * self.exp_pos_delta; // exp(δ − θ)
                                                     // Moments about k*: s0 = Σ w, s1 = Σ (k−k*) w, s2 = Σ (k−k*)² w.
        let mut s0 = 1.0;
        let mut s1 = 0.0;
        let mut s2 = 0.0;
        let mut s3 = 0.0;
        let mut w = 1.0;
        for k in kstar + 1..=m {
            w *= up * self.exp_neg_tau[k - 1];
            let d = (k - kstar) as f64;
            s0 += w;
            s1 += d * w;
            s2 += d * d * w;
            s3 += d * d * d * w;
        }
        w = 1.0;
        for k in (0..kstar).rev() {
            w *= down * self.exp_pos_tau[k];
            let d = k as f64 - kstar as f64;
            s0 += w;
            s1 += d * w;
            s2 += d * d * w;
            s3 += d * d * d * w;
        }
        central(kstar as f64, s0, s1, s2, s3)
    }
}

/// Mean, variance and third central moment of a distribution given its weight sums
/// s_j = Σ (k − origin)^j w_k.
#[inline]
fn central(origin: f64, s0: f64, s1: f64, s2: f64, s3: f64) -> Moments {
    let inv = 1.0 / s0;
    let m1 = s1 * inv;
    let m2 = s2 * inv;
    let m3 = s3 * inv;
    Moments {
        mean: origin + m1,
        variance: (m2 - m1 * m1).max(0.0),
        third: m3 - 3.0 * m1 * m2 + 2.0 * m1 * m1 * m1,
    }
}

/// Moments of one item's score distribution at θ.
#[derive(Debug, Clone, Copy)]
struct Moments {
    mean: f64,
    variance: f64,
    third: f64,
}

/// Result of the maximum-likelihood estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) measure: f64,
    pub(crate) standard_error: f64,
    /// Evaluations of the likelihood equation used (for tests).
    pub(crate) evaluations: u32,
}

/// Sums over the answered items at θ of the expected scores, the variances (test information,
/// the derivative of the expected total) and the third central moments (its second derivative).
#[inline]
fn sums(items: &[PcmItem], answered: &[u32], theta: f64) -> (f64, f64, f64) {
    let e_theta = theta.exp();
    let e_neg_theta = 1.0 / e_theta;
    let mut sum_e = 0.0;
    let mut info = 0.0;
    let mut third = 0.0;
    for &i in answered {
        let m = items[i as usize].moments(theta, e_theta, e_neg_theta);
        sum_e += m.mean;
        info += m.variance;
        third += m.third;
    }
    (sum_e, info, third)
}

/// Sum of expected scores and test information over the answered items at θ.
#[cfg(test)]
fn totals(items: &[PcmItem], answered: &[u32], theta: f64) -> (f64, f64) {
    let (e, i, _) = sums(items, answered, theta);
    (e, i)
}

/// Solve Σ_{answered} E_i(θ) = target for θ. `answered` lists item indices; `max_raw` is Σ m_i
/// over them and must satisfy 0 < target < max_raw. Returns the measure and its standard error.
///
/// Newton–Raphson steps (limited to ±MAX_STEP) are kept inside a bracket [lo, hi] known to
/// contain the root, falling back to bisection when a step would leave it. Converged when a
/// Newton step is below TOLERANCE (the step is then applied) or the bracket is narrower than
/// TOLERANCE. The standard error uses the information at the last evaluated point, which is
/// within TOLERANCE of the returned measure.
pub(crate) fn estimate(items: &[PcmItem], answered: &[u32], target: f64, max_raw: f64) -> Estimate {
    // Starting value: mean item centre plus the logit of the proportion of the maximum.
    let centre = answered
        .iter()
        .map(|&i| items[i as usize].centre)
        .sum::<f64>()
        / answered.len().max(1) as f64;
    let p = target / max_raw;
    estimate_from(
        items,
        answered,
        target,
        max_raw,
        centre + (p / (1.0 - p)).ln(),
    )
}

/// Measures for every raw score of the complete item set (extremes adjusted by `adjustment`):
/// a table of starting values. For a complete response the start is then the answer itself, and
/// for an incomplete one a close guess; the result is the same either way (only the number of
/// Newton steps changes).
pub(crate) fn start_table(items: &[PcmItem], adjustment: f64) -> Vec<f64> {
    let all: Vec<u32> = (0..items.len() as u32).collect();
    let max: usize = items.iter().map(|i| i.thresholds.len()).sum();
    (0..=max)
        .map(|r| {
            let target = if r == 0 {
                adjustment
            } else if r == max {
                max as f64 - adjustment
            } else {
                r as f64
            };
            estimate(items, &all, target, max as f64).measure
        })
        .collect()
}

/// Starting value from a [`start_table`]: the complete-set measure at the same proportion of the
/// maximum raw score, interpolated linearly between whole raw scores.
#[inline]
pub(crate) fn warm_start(table: &[f64], target: f64, max_raw: f64) -> f64 {
    let max_full = (table.len() - 1) as f64;
    let r = (target / max_raw * max_full).clamp(0.0, max_full);
    let k = (r.floor() as usize).min(table.len() - 2);
    let frac = r - k as f64;
    table[k] + frac * (table[k + 1] - table[k])
}

/// [`estimate`] from a given starting value.
pub(crate) fn estimate_from(
    items: &[PcmItem],
    answered: &[u32],
    target: f64,
    max_raw: f64,
    start: f64,
) -> Estimate {
    debug_assert!(target > 0.0 && target < max_raw && !answered.is_empty());
    let mut theta = if start.is_finite() {
        start.clamp(-THETA_LIMIT + 1.0, THETA_LIMIT - 1.0)
    } else {
        0.0
    };
    let mut lo = -THETA_LIMIT;
    let mut hi = THETA_LIMIT;
    let mut info = 0.0;
    let mut evaluations = 0;
    for _ in 0..MAX_ITERATIONS {
        let (sum_e, i, third) = sums(items, answered, theta);
        evaluations += 1;
        info = i;
        let f = sum_e - target;
        if f == 0.0 {
            break;
        }
        if f < 0.0 {
            lo = theta;
        } else {
            hi = theta;
        }
        if info > 0.0 {
            // Halley's step (Newton with a second-order correction) when the correction is
            // modest, else Newton's; either way limited to ±MAX_STEP.
            let newton = -f / info;
            let denom = 1.0 + 0.5 * newton * third / info;
            let raw_step = if denom > 0.5 { newton / denom } else { newton };
            let step = raw_step.clamp(-MAX_STEP, MAX_STEP);
            if step.abs() < TOLERANCE {
                theta += step;
                break;
            }
            let next = theta + step;
            if next > lo && next < hi {
                theta = next;
                continue;
            }
        }
        if hi - lo < TOLERANCE {
            break;
        }
        theta = 0.5 * (lo + hi);
    }
    if info.is_nan() || info <= 0.0 {
        info = sums(items, answered, theta).1;
        evaluations += 1;
    }
    Estimate {
        measure: theta,
        standard_error: 1.0 / info.sqrt(),
        evaluations,
    }
}

/// Category probabilities of one item at θ (for tests and documentation examples).
pub fn category_probabilities(difficulty: f64, thresholds: &[f64], theta: f64) -> Vec<f64> {
    let mut logw = Vec::with_capacity(thresholds.len() + 1);
    let mut acc = 0.0;
    logw.push(0.0);
    for t in thresholds {
        acc += theta - difficulty - t;
        logw.push(acc);
    }
    let max = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logw.iter().map(|l| (l - max).exp()).collect();
    let s: f64 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments_direct(d: f64, t: &[f64], theta: f64) -> (f64, f64) {
        let p = category_probabilities(d, t, theta);
        let e: f64 = p.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        let v: f64 = p
            .iter()
            .enumerate()
            .map(|(k, p)| (k as f64 - e).powi(2) * p)
            .sum();
        (e, v)
    }

    #[test]
    fn moments_match_direct_computation() {
        let cases: &[(f64, &[f64])] = &[
            (0.0, &[-1.0, 0.0, 1.0]),
            (1.3, &[-2.5, 0.4, 2.1]),
            (-0.7, &[0.8, -0.3]),
            (2.0, &[0.0]),
            (-45.0, &[40.0, -40.0, 10.0, 5.0]),
        ];
        for &(d, t) in cases {
            let item = PcmItem::new(d, t.to_vec());
            for theta in [-250.0, -30.0, -3.0, -0.5, 0.0, 0.2, 1.7, 6.0, 40.0, 250.0] {
                let Moments {
                    mean: e,
                    variance: v,
                    ..
                } = item.moments(theta, f64::exp(theta), f64::exp(-theta));
                let (e2, v2) = moments_direct(d, t, theta);
                assert!((e - e2).abs() < 1e-12, "E at {theta}: {e} vs {e2}");
                assert!((v - v2).abs() < 1e-12, "V at {theta}: {v} vs {v2}");
                assert!(e.is_finite() && v.is_finite());
            }
        }
    }

    #[test]
    fn dichotomous_single_item_has_closed_form() {
        // One dichotomous item with δ = 0.5: E = 1/(1+exp(−(θ−δ))) = r gives θ = δ + ln(r/(1−r)).
        let items = vec![PcmItem::new(0.5, vec![0.0])];
        let est = estimate(&items, &[0], 0.3, 1.0);
        let expected = 0.5 + (0.3f64 / 0.7).ln();
        assert!((est.measure - expected).abs() < 1e-12, "{est:?}");
        // Information p(1−p) = 0.21.
        assert!((est.standard_error - 1.0 / 0.21f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn equal_dichotomous_items_have_closed_form() {
        // n identical dichotomous items at δ: n·p = r → θ = δ + ln(r/(n−r)); I = n p (1−p).
        let items: Vec<PcmItem> = (0..5).map(|_| PcmItem::new(-1.2, vec![0.0])).collect();
        for r in [0.3, 1.0, 2.0, 2.5, 4.0, 4.7] {
            let est = estimate(&items, &[0, 1, 2, 3, 4], r, 5.0);
            let expected = -1.2 + (r / (5.0 - r)).ln();
            assert!((est.measure - expected).abs() < 1e-10, "r={r}");
            let p = r / 5.0;
            let se = 1.0 / (5.0 * p * (1.0 - p)).sqrt();
            assert!((est.standard_error - se).abs() < 1e-9, "r={r}");
        }
    }

    #[test]
    fn only_answered_items_count() {
        let items = vec![
            PcmItem::new(-1.0, vec![0.0]),
            PcmItem::new(5.0, vec![0.0]),
            PcmItem::new(-1.0, vec![0.0]),
        ];
        let est = estimate(&items, &[0, 2], 1.0, 2.0);
        assert!((est.measure - (-1.0)).abs() < 1e-10, "{est:?}");
    }

    #[test]
    fn newton_converges_in_few_steps_including_extremes() {
        // 13 four-category items like the demonstration instrument.
        let items: Vec<PcmItem> = (0..13)
            .map(|i| PcmItem::new(-1.6 + 0.27 * i as f64, vec![-2.0, 0.0, 2.1]))
            .collect();
        let all: Vec<u32> = (0..13).collect();
        for t in 3..=387 {
            let target = t as f64 / 10.0;
            let est = estimate(&items, &all, target, 39.0);
            assert!(
                est.evaluations <= 12,
                "target {target}: {} evaluations",
                est.evaluations
            );
            let (sum_e, _) = totals(&items, &all, est.measure);
            assert!((sum_e - target).abs() < 1e-9, "target {target}: {sum_e}");
        }
    }

    #[test]
    fn warm_start_changes_only_the_number_of_steps() {
        let items: Vec<PcmItem> = (0..9)
            .map(|i| PcmItem::new(-1.2 + 0.3 * i as f64, vec![-1.8, 0.1, 1.9]))
            .collect();
        let table = start_table(&items, 0.3);
        assert_eq!(table.len(), 28);
        let subsets: [&[u32]; 3] = [&[0, 1, 2, 3, 4, 5, 6, 7, 8], &[1, 4, 8], &[0, 2, 3, 5, 7]];
        for answered in subsets {
            let max = 3.0 * answered.len() as f64;
            for t in 1..(max as usize * 4) {
                let target = t as f64 / 4.0;
                let cold = estimate(&items, answered, target, max);
                let warm = estimate_from(
                    &items,
                    answered,
                    target,
                    max,
                    warm_start(&table, target, max),
                );
                assert!(
                    (cold.measure - warm.measure).abs() < 1e-9,
                    "{answered:?} {target}"
                );
                assert!((cold.standard_error - warm.standard_error).abs() < 1e-9);
            }
        }
        // A complete response starts at its own answer: one evaluation.
        let all: Vec<u32> = (0..9).collect();
        let est = estimate_from(&items, &all, 11.0, 27.0, warm_start(&table, 11.0, 27.0));
        assert_eq!(est.evaluations, 1);
    }

    #[test]
    fn solver_converges_for_wild_parameters() {
        let items = vec![
            PcmItem::new(-49.0, vec![-30.0, 45.0, 0.0]),
            PcmItem::new(49.0, vec![10.0, -10.0]),
            PcmItem::new(0.0, vec![49.0, -49.0, 3.0, -3.0]),
        ];
        for r in [0.3, 1.0, 2.0, 4.5, 6.0, 8.7] {
            let est = estimate(&items, &[0, 1, 2], r, 9.0);
            let (sum_e, _) = totals(&items, &[0, 1, 2], est.measure);
            assert!((sum_e - r).abs() < 1e-8, "r={r}: sum E = {sum_e}");
            assert!(est.standard_error.is_finite() && est.standard_error > 0.0);
        }
    }
}
