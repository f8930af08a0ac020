//! Negative binomial (NB2) regression with a log-exposure offset: Var(y) = μ + α μ², α by
//! maximum likelihood jointly with β, model-based covariance from the inverse of the observed
//! information of the full (β, α) likelihood (as statsmodels' `NegativeBinomial` reports).
//!
//! Observations are frequency-weighted patterns (design row, count, log exposure): the
//! likelihood of the distinct patterns with their frequencies is exactly the likelihood of the
//! individual rows. Digamma and trigamma differences at integer counts are computed as finite
//! sums, ψ(y + r) − ψ(r) = Σ_{k<y} 1/(r + k), which is exact up to rounding. This module must
//! never know about files, people or outcomes.

use crate::linalg::Matrix;
use crate::poisson::FitError;
use crate::special::ln_gamma;

/// One frequency-weighted observation pattern.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NbObs {
    /// Index of the design row.
    pub row: u32,
    /// Event count.
    pub y: u32,
    /// ln(exposure in person-years).
    pub log_exposure: f64,
    /// Number of identical observations.
    pub weight: f64,
}

/// A fitted NB2 model.
#[derive(Clone, Debug)]
pub struct NbFit {
    /// Coefficients β in design column order.
    pub coef: Vec<f64>,
    /// Dispersion α.
    pub alpha: f64,
    /// Covariance of (β, α): inverse of the negative observed Hessian, dimension p + 1.
    pub cov: Matrix,
    /// Log-likelihood at the estimate (full, including ln y! terms).
    pub log_likelihood: f64,
    /// Newton iterations used.
    pub iterations: u32,
    /// Largest absolute score component in the (β, α) parameterisation at the estimate.
    pub max_abs_score: f64,
}

struct Eval {
    ll: f64,
    /// Score in (β, α).
    grad: Vec<f64>,
    /// Hessian in (β, α).
    hess: Matrix,
}

struct Problem<'a> {
    design: &'a [f64],
    p: usize,
    n_rows: usize,
    obs: &'a [NbObs],
    max_y: usize,
    const_ll: f64,
}

impl Problem<'_> {
    /// Log-likelihood (and optionally derivatives) at (β, α).
    fn eval(&self, beta: &[f64], alpha: f64, derivs: bool) -> Eval {
        let p = self.p;
        let r = 1.0 / alpha;
        // Prefix sums over k < y of ln(r+k), 1/(r+k), 1/(r+k)^2.
        let mut lsum = vec![0.0; self.max_y + 1];
        let mut s1 = vec![0.0; self.max_y + 1];
        let mut s2 = vec![0.0; self.max_y + 1];
        for k in 0..self.max_y {
            let v = r + k as f64;
            lsum[k + 1] = lsum[k] + v.ln();
            s1[k + 1] = s1[k] + 1.0 / v;
            s2[k + 1] = s2[k] + 1.0 / (v * v);
        }
        let eta_row: Vec<f64> = (0..self.n_rows)
            .map(|i| {
                self.design[i * p..(i + 1) * p]
                    .iter()
                    .zip(beta)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        let ln_alpha = alpha.ln();
        let mut ll = self.const_ll;
        // Per design row accumulators: score, Hessian ββ weight, Hessian βα.
        let mut g_row = vec![0.0; if derivs { self.n_rows } else { 0 }];
        let mut h_row = vec![0.0; g_row.len()];
        let mut ha_row = vec![0.0; g_row.len()];
        let mut g_alpha = 0.0;
        let mut h_aa = 0.0;
        for o in self.obs {
            let y = o.y as usize;
            let yf = o.y as f64;
            let w = o.weight;
            let eta = eta_row[o.row as usize] + o.log_exposure;
            let mu = eta.exp();
            let am = alpha * mu;
            let l1p = am.ln_1p();
            let mut term = lsum[y] - (yf + r) * l1p;
            if o.y > 0 {
                term += yf * (ln_alpha + eta);
            }
            ll += w * term;
            if derivs {
                let d = 1.0 + am;
                let ri = o.row as usize;
                g_row[ri] += w * (yf - mu) / d;
                h_row[ri] += w * mu * (1.0 + alpha * yf) / (d * d);
                ha_row[ri] += w * (yf - mu) * mu / (d * d);
                let a2 = alpha * alpha;
                g_alpha += w * ((l1p - s1[y]) / a2 + (yf - mu) / (alpha * d));
                h_aa += w
                    * (mu / (a2 * d)
                        - s2[y] / (a2 * a2)
                        - 2.0 * (l1p - s1[y]) / (a2 * alpha)
                        - (yf - mu) * (1.0 + 2.0 * am) / (a2 * d * d));
            }
        }
        let mut grad = vec![0.0; p + 1];
        let mut hess = Matrix::zeros(p + 1);
        if derivs {
            let mut xa = vec![0.0; p + 1];
            for i in 0..self.n_rows {
                if g_row[i] == 0.0 && h_row[i] == 0.0 {
                    continue;
                }
                let xi = &self.design[i * p..(i + 1) * p];
                for j in 0..p {
                    grad[j] += g_row[i] * xi[j];
                }
                xa[..p].copy_from_slice(xi);
                xa[p] = 0.0;
                hess.add_outer_upper(-h_row[i], &xa);
                for j in 0..p {
                    hess[(j, p)] -= ha_row[i] * xi[j];
                }
            }
            grad[p] = g_alpha;
            hess[(p, p)] += h_aa;
            hess.symmetrize_from_upper();
        }
        Eval { ll, grad, hess }
    }
}

/// Fits NB2 by Newton–Raphson on (β, ln α) with step halving, from `start_beta` (normally the
/// Poisson estimate). The moment estimate of α starts the dispersion.
pub fn fit_nb2(
    design: &[f64],
    p: usize,
    obs: &[NbObs],
    start_beta: &[f64],
) -> Result<NbFit, FitError> {
    assert_eq!(design.len() % p, 0);
    assert_eq!(start_beta.len(), p);
    let n_rows = design.len() / p;
    if !obs.iter().any(|o| o.y > 0 && o.weight > 0.0) {
        return Err(FitError::NoEvents);
    }
    let max_y = obs.iter().map(|o| o.y as usize).max().unwrap_or(0);
    let const_ll = -obs
        .iter()
        .map(|o| o.weight * ln_gamma(o.y as f64 + 1.0))
        .sum::<f64>();
    let prob = Problem {
        design,
        p,
        n_rows,
        obs,
        max_y,
        const_ll,
    };
    let mut beta = start_beta.to_vec();
    // Moment start for alpha: Σ((y−μ)² − y) / Σ μ², bounded below.
    let (mut num, mut den) = (0.0, 0.0);
    for o in obs {
        let eta: f64 = design[o.row as usize * p..(o.row as usize + 1) * p]
            .iter()
            .zip(&beta)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            + o.log_exposure;
        let mu = eta.exp();
        let y = o.y as f64;
        num += o.weight * ((y - mu).powi(2) - y);
        den += o.weight * mu * mu;
    }
    let mut alpha = if den > 0.0 {
        (num / den).clamp(0.05, 10.0)
    } else {
        0.5
    };
    let mut cur = prob.eval(&beta, alpha, true);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < 200 {
        iterations += 1;
        // Transform to θ = ln α: gθ = α gα, Hθθ = α² Hαα + α gα, Hβθ = α Hβα.
        let mut g = cur.grad.clone();
        let mut h = cur.hess.clone();
        g[p] *= alpha;
        for j in 0..p {
            h[(j, p)] *= alpha;
            h[(p, j)] *= alpha;
        }
        h[(p, p)] = alpha * alpha * cur.hess[(p, p)] + alpha * cur.grad[p];
        // Newton direction on −H, damped (Levenberg) if −H is not positive definite.
        let mut neg = h.clone();
        neg.scale(-1.0);
        let mut lambda = 0.0;
        let step = loop {
            let mut m = neg.clone();
            for j in 0..=p {
                m[(j, j)] += lambda * (1.0 + neg[(j, j)].abs());
            }
            match m.cholesky() {
                Ok(c) => break c.solve(&g),
                Err(_) => {
                    lambda = if lambda == 0.0 { 1e-6 } else { lambda * 10.0 };
                    if lambda > 1e12 {
                        return Err(FitError::Singular);
                    }
                }
            }
        };
        let mut t = 1.0;
        let mut next = None;
        for _ in 0..60 {
            let nb: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let na = (alpha.ln() + t * step[p]).exp();
            let e = prob.eval(&nb, na, false);
            if e.ll.is_finite() && e.ll >= cur.ll - 1e-12 * cur.ll.abs().max(1.0) {
                next = Some((nb, na));
                break;
            }
            t *= 0.5;
        }
        let Some((nb, na)) = next else {
            converged = true; // no ascent possible at machine precision
            break;
        };
        let max_step = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
        beta = nb;
        alpha = na;
        cur = prob.eval(&beta, alpha, true);
        if alpha < 1e-10 {
            return Err(FitError::AlphaAtZero);
        }
        if beta.iter().any(|b| b.abs() > 50.0) || alpha > 1e6 {
            return Err(FitError::NoConvergence(iterations));
        }
        if max_step < 1e-10 && lambda == 0.0 {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(FitError::NoConvergence(iterations));
    }
    let mut neg = cur.hess.clone();
    neg.scale(-1.0);
    let cov = neg.cholesky().map_err(|_| FitError::Singular)?.inverse();
    Ok(NbFit {
        coef: beta,
        alpha,
        cov,
        log_likelihood: cur.ll,
        iterations,
        max_abs_score: cur.grad.iter().fold(0.0, |m, v| f64::max(m, v.abs())),
    })
}

/// NB2 log-likelihood of rows at (β, α), for tests and diagnostics.
pub fn nb2_loglik(design: &[f64], p: usize, obs: &[NbObs], beta: &[f64], alpha: f64) -> f64 {
    let prob = Problem {
        design,
        p,
        n_rows: design.len() / p,
        obs,
        max_y: obs.iter().map(|o| o.y as usize).max().unwrap_or(0),
        const_ll: -obs
            .iter()
            .map(|o| o.weight * ln_gamma(o.y as f64 + 1.0))
            .sum::<f64>(),
    };
    prob.eval(beta, alpha, false).ll
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct_ll(y: u32, mu: f64, alpha: f64) -> f64 {
        let r = 1.0 / alpha;
        let yf = y as f64;
        ln_gamma(yf + r) - ln_gamma(r) - ln_gamma(yf + 1.0)
            + r * (r / (r + mu)).ln()
            + yf * (mu / (r + mu)).ln()
    }

    fn toy() -> (Vec<f64>, Vec<NbObs>) {
        let design = vec![1.0, 0.0, 1.0, 1.0];
        let ys = [0u32, 1, 2, 5, 0, 3, 9, 1, 0, 4, 2, 7];
        let obs = ys
            .iter()
            .enumerate()
            .map(|(i, &y)| NbObs {
                row: (i % 2) as u32,
                y,
                log_exposure: (0.5 + 0.1 * i as f64).ln(),
                weight: 1.0 + (i % 3) as f64,
            })
            .collect();
        (design, obs)
    }

    #[test]
    fn loglik_matches_gamma_function_form() {
        let (design, obs) = toy();
        let beta = [0.3, -0.2];
        let alpha = 0.7;
        let want: f64 = obs
            .iter()
            .map(|o| {
                let eta =
                    design[o.row as usize * 2] * beta[0] + design[o.row as usize * 2 + 1] * beta[1];
                o.weight * direct_ll(o.y, (eta + o.log_exposure).exp(), alpha)
            })
            .sum();
        let got = nb2_loglik(&design, 2, &obs, &beta, alpha);
        assert!((got - want).abs() < 1e-10 * want.abs(), "{got} vs {want}");
    }

    #[test]
    fn analytic_derivatives_match_finite_differences() {
        let (design, obs) = toy();
        let prob = Problem {
            design: &design,
            p: 2,
            n_rows: 2,
            obs: &obs,
            max_y: 9,
            const_ll: 0.0,
        };
        let theta = [0.3, -0.2, 0.7];
        let f = |t: &[f64]| prob.eval(&t[..2], t[2], false).ll;
        let e = prob.eval(&theta[..2], theta[2], true);
        let hstep = 1e-5;
        for j in 0..3 {
            let mut a = theta;
            let mut b = theta;
            a[j] += hstep;
            b[j] -= hstep;
            let fd = (f(&a) - f(&b)) / (2.0 * hstep);
            assert!(
                (fd - e.grad[j]).abs() < 1e-6 * (1.0 + fd.abs()),
                "grad {j}: {fd} vs {}",
                e.grad[j]
            );
            let ga = prob.eval(&a[..2], a[2], true).grad;
            let gb = prob.eval(&b[..2], b[2], true).grad;
            for k in 0..3 {
                let fd2 = (ga[k] - gb[k]) / (2.0 * hstep);
                assert!(
                    (fd2 - e.hess[(k, j)]).abs() < 1e-5 * (1.0 + fd2.abs()),
                    "hess {k},{j}: {fd2} vs {}",
                    e.hess[(k, j)]
                );
            }
        }
    }

    #[test]
    fn fit_reaches_zero_gradient() {
        let (design, obs) = toy();
        let fit = fit_nb2(&design, 2, &obs, &[0.0, 0.0]).unwrap();
        assert!(fit.max_abs_score < 1e-7, "score {}", fit.max_abs_score);
        assert!(fit.alpha > 0.0);
        // Perturbing any parameter lowers the likelihood.
        let ll = nb2_loglik(&design, 2, &obs, &fit.coef, fit.alpha);
        assert!((ll - fit.log_likelihood).abs() < 1e-9);
        for j in 0..2 {
            let mut b = fit.coef.clone();
            b[j] += 1e-3;
            assert!(nb2_loglik(&design, 2, &obs, &b, fit.alpha) < ll);
        }
        assert!(nb2_loglik(&design, 2, &obs, &fit.coef, fit.alpha * 1.01) < ll);
    }
}
