//! Poisson log-linear regression with a log-exposure offset, fitted by Newton–Raphson
//! (identical to IRLS for the canonical log link), and the sandwich covariance.
//!
//! The fit works on any set of rows; passing per-cell sufficient statistics (Σy and Σexposure
//! per distinct covariate pattern) gives exactly the same estimates as passing the individual
//! rows, because the Poisson log-likelihood depends on the data only through them. This module
//! must never know about files, people or outcomes.

use crate::linalg::Matrix;

/// Why a model could not be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FitError {
    /// The information matrix is singular: collinear or empty columns.
    #[error("information matrix is singular (collinear or empty covariate columns)")]
    Singular,
    /// Newton iterations did not converge (possible separation).
    #[error("did not converge after {0} iterations (possible separation)")]
    NoConvergence(u32),
    /// There are no events at all.
    #[error("no events")]
    NoEvents,
    /// NB2 dispersion estimate went to zero: no overdispersion, the model reduces to Poisson.
    #[error("dispersion alpha converged to 0 (no overdispersion); the model reduces to Poisson")]
    AlphaAtZero,
}

/// A fitted Poisson model.
#[derive(Clone, Debug)]
pub struct PoissonFit {
    /// Coefficients, in design column order.
    pub coef: Vec<f64>,
    /// Inverse of the information matrix Σ μ x xᵀ at the estimate (model-based covariance).
    pub bread: Matrix,
    /// Newton iterations used.
    pub iterations: u32,
    /// Largest absolute score component at the estimate.
    pub max_abs_score: f64,
}

/// Fits log E(y) = xᵀβ + ln(exposure) by maximum likelihood.
///
/// `x` holds `rows` design rows of length `p` (row-major), `y` the counts (or Σ counts per
/// cell) and `exposure` the exposures (or Σ exposure per cell), all positive.
pub fn fit_poisson(
    x: &[f64],
    p: usize,
    y: &[f64],
    exposure: &[f64],
) -> Result<PoissonFit, FitError> {
    let n = y.len();
    assert_eq!(x.len(), n * p);
    assert_eq!(exposure.len(), n);
    let ysum: f64 = y.iter().sum();
    let esum: f64 = exposure.iter().sum();
    if ysum <= 0.0 {
        return Err(FitError::NoEvents);
    }
    let loglik = |beta: &[f64]| -> f64 {
        let mut ll = 0.0;
        for i in 0..n {
            let eta: f64 = x[i * p..(i + 1) * p]
                .iter()
                .zip(beta)
                .map(|(a, b)| a * b)
                .sum();
            ll += y[i] * eta - exposure[i] * eta.exp();
        }
        ll
    };
    let derivs = |beta: &[f64]| -> (Vec<f64>, Matrix) {
        let mut g = vec![0.0; p];
        let mut h = Matrix::zeros(p);
        for i in 0..n {
            let xi = &x[i * p..(i + 1) * p];
            let eta: f64 = xi.iter().zip(beta).map(|(a, b)| a * b).sum();
            let mu = exposure[i] * eta.exp();
            let r = y[i] - mu;
            for (gj, xj) in g.iter_mut().zip(xi) {
                *gj += xj * r;
            }
            h.add_outer_upper(mu, xi);
        }
        h.symmetrize_from_upper();
        (g, h)
    };
    let mut beta = vec![0.0; p];
    // Intercept start (column 0 is the intercept in our designs; harmless otherwise).
    beta[0] = (ysum / esum).ln();
    let mut ll = loglik(&beta);
    let max_iter = 100;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        let (g, h) = derivs(&beta);
        let chol = h.cholesky().map_err(|_| FitError::Singular)?;
        let step = chol.solve(&g);
        let mut t = 1.0;
        let mut accepted = false;
        let mut new_beta = beta.clone();
        for _ in 0..60 {
            for j in 0..p {
                new_beta[j] = beta[j] + t * step[j];
            }
            let new_ll = loglik(&new_beta);
            if new_ll >= ll - 1e-12 * ll.abs().max(1.0) {
                ll = new_ll;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // No ascent possible: we are at the optimum to machine precision.
            converged = true;
            break;
        }
        let max_step = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
        beta.clone_from(&new_beta);
        if beta.iter().any(|b| b.abs() > 50.0) {
            return Err(FitError::NoConvergence(iterations));
        }
        if max_step < 1e-10 {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(FitError::NoConvergence(iterations));
    }
    let (g, h) = derivs(&beta);
    let bread = h.cholesky().map_err(|_| FitError::Singular)?.inverse();
    Ok(PoissonFit {
        coef: beta,
        bread,
        iterations,
        max_abs_score: g.iter().fold(0.0, |m, v| f64::max(m, v.abs())),
    })
}

/// Sandwich covariance `bread · meat · bread` (HC0 / clustered without small-sample correction
/// when `meat` = Σ_g s_g s_gᵀ over clusters g of summed score contributions s_g).
pub fn sandwich(bread: &Matrix, meat: &Matrix) -> Matrix {
    bread.mul(meat).mul(bread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_two_group_model_recovers_rate_ratio() {
        // Group A: 10 events in 5 years; group B: 30 events in 6 years.
        let x = [1.0, 0.0, 1.0, 1.0];
        let fit = fit_poisson(&x, 2, &[10.0, 30.0], &[5.0, 6.0]).unwrap();
        assert!((fit.coef[0] - 2.0f64.ln()).abs() < 1e-12);
        assert!((fit.coef[1] - 2.5f64.ln()).abs() < 1e-12);
        // Model-based variance of the log rate ratio is 1/10 + 1/30.
        assert!((fit.bread[(1, 1)] - (0.1 + 1.0 / 30.0)).abs() < 1e-12);
        assert!(fit.max_abs_score < 1e-8);
    }

    #[test]
    fn no_events_is_an_error() {
        assert_eq!(
            fit_poisson(&[1.0], 1, &[0.0], &[1.0]).unwrap_err(),
            FitError::NoEvents
        );
    }

    #[test]
    fn collinear_columns_are_singular() {
        let x = [1.0, 1.0, 1.0, 1.0];
        assert_eq!(
            fit_poisson(&x, 2, &[3.0, 4.0], &[1.0, 1.0]).unwrap_err(),
            FitError::Singular
        );
    }
}
