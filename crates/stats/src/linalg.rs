//! Small dense linear algebra for the model fits (p ≈ 18): square matrices, Cholesky
//! factorisation, solves and the inverse of a symmetric positive definite matrix.
//!
//! Row-major `Vec<f64>` storage; no external crate. This module must never know about models,
//! data or files.

#![allow(
    clippy::needless_range_loop,
    reason = "index loops mirror the textbook triangular algorithms"
)]

use std::ops::{Index, IndexMut};

/// A dense square matrix, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    n: usize,
    data: Vec<f64>,
}

/// The matrix is not (numerically) positive definite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("matrix is not positive definite (pivot {0})")]
pub struct NotPositiveDefinite(pub usize);

impl Matrix {
    /// An n × n matrix of zeros.
    pub fn zeros(n: usize) -> Matrix {
        Matrix {
            n,
            data: vec![0.0; n * n],
        }
    }

    /// The n × n identity.
    pub fn identity(n: usize) -> Matrix {
        let mut m = Matrix::zeros(n);
        for i in 0..n {
            m[(i, i)] = 1.0;
        }
        m
    }

    /// Builds from rows; panics if the rows are not square.
    pub fn from_rows(rows: &[Vec<f64>]) -> Matrix {
        let n = rows.len();
        let mut m = Matrix::zeros(n);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.len(), n, "matrix must be square");
            m.data[i * n..(i + 1) * n].copy_from_slice(r);
        }
        m
    }

    /// Dimension.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Adds `w · x xᵀ` to the upper triangle (call [`Matrix::symmetrize_from_upper`] afterwards).
    #[inline]
    pub fn add_outer_upper(&mut self, w: f64, x: &[f64]) {
        let n = self.n;
        for i in 0..n {
            let wi = w * x[i];
            if wi == 0.0 {
                continue;
            }
            let row = &mut self.data[i * n..(i + 1) * n];
            for j in i..n {
                row[j] += wi * x[j];
            }
        }
    }

    /// Copies the upper triangle into the lower one.
    pub fn symmetrize_from_upper(&mut self) {
        let n = self.n;
        for i in 0..n {
            for j in 0..i {
                self.data[i * n + j] = self.data[j * n + i];
            }
        }
    }

    /// Matrix product.
    pub fn mul(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.n, other.n);
        let n = self.n;
        let mut out = Matrix::zeros(n);
        for i in 0..n {
            for k in 0..n {
                let a = self[(i, k)];
                if a == 0.0 {
                    continue;
                }
                for j in 0..n {
                    out.data[i * n + j] += a * other.data[k * n + j];
                }
            }
        }
        out
    }

    /// Matrix–vector product.
    pub fn mul_vec(&self, v: &[f64]) -> Vec<f64> {
        let n = self.n;
        (0..n)
            .map(|i| (0..n).map(|j| self.data[i * n + j] * v[j]).sum())
            .collect()
    }

    /// Scales every entry.
    pub fn scale(&mut self, s: f64) {
        self.data.iter_mut().for_each(|v| *v *= s);
    }

    /// Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric positive definite matrix.
    pub fn cholesky(&self) -> Result<Cholesky, NotPositiveDefinite> {
        let n = self.n;
        let mut l = vec![0.0; n * n];
        for j in 0..n {
            let mut d = self.data[j * n + j];
            for k in 0..j {
                d -= l[j * n + k] * l[j * n + k];
            }
            // Relative pivot test: a pivot that lost all but 1e-12 of its diagonal is rank
            // deficiency (collinear columns), not a real positive pivot.
            if d.is_nan() || d <= 1e-12 * self.data[j * n + j].abs() || !d.is_finite() {
                return Err(NotPositiveDefinite(j));
            }
            let d = d.sqrt();
            l[j * n + j] = d;
            for i in j + 1..n {
                let mut s = self.data[i * n + j];
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / d;
            }
        }
        Ok(Cholesky { n, l })
    }
}

impl Index<(usize, usize)> for Matrix {
    type Output = f64;
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.data[i * self.n + j]
    }
}

impl IndexMut<(usize, usize)> for Matrix {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        &mut self.data[i * self.n + j]
    }
}

/// A Cholesky factorisation A = L Lᵀ.
#[derive(Clone, Debug)]
pub struct Cholesky {
    n: usize,
    l: Vec<f64>,
}

impl Cholesky {
    /// Solves A x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        assert_eq!(b.len(), n);
        let mut y = b.to_vec();
        for i in 0..n {
            let mut s = y[i];
            for k in 0..i {
                s -= self.l[i * n + k] * y[k];
            }
            y[i] = s / self.l[i * n + i];
        }
        for i in (0..n).rev() {
            let mut s = y[i];
            for k in i + 1..n {
                s -= self.l[k * n + i] * y[k];
            }
            y[i] = s / self.l[i * n + i];
        }
        y
    }

    /// A⁻¹, symmetric.
    pub fn inverse(&self) -> Matrix {
        let n = self.n;
        let mut inv = Matrix::zeros(n);
        let mut e = vec![0.0; n];
        for j in 0..n {
            e.iter_mut().for_each(|v| *v = 0.0);
            e[j] = 1.0;
            let col = self.solve(&e);
            for i in 0..n {
                inv[(i, j)] = col[i];
            }
        }
        // Enforce exact symmetry.
        for i in 0..n {
            for j in 0..i {
                let v = 0.5 * (inv[(i, j)] + inv[(j, i)]);
                inv[(i, j)] = v;
                inv[(j, i)] = v;
            }
        }
        inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solve_and_inverse() {
        let a = Matrix::from_rows(&[
            vec![4.0, 12.0, -16.0],
            vec![12.0, 37.0, -43.0],
            vec![-16.0, -43.0, 98.0],
        ]);
        let c = a.cholesky().unwrap();
        // Known factor: L = [[2,0,0],[6,1,0],[-8,5,3]].
        assert_eq!(c.l, vec![2.0, 0.0, 0.0, 6.0, 1.0, 0.0, -8.0, 5.0, 3.0]);
        let x = c.solve(&[1.0, 2.0, 3.0]);
        let back = a.mul_vec(&x);
        for (b, want) in back.iter().zip([1.0, 2.0, 3.0]) {
            assert!((b - want).abs() < 1e-12);
        }
        let prod = a.mul(&c.inverse());
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (prod[(i, j)] - want).abs() < 1e-10,
                    "{i},{j}: {}",
                    prod[(i, j)]
                );
            }
        }
    }

    #[test]
    fn cholesky_rejects_indefinite_and_singular() {
        let a = Matrix::from_rows(&[vec![1.0, 2.0], vec![2.0, 1.0]]);
        assert_eq!(a.cholesky().unwrap_err(), NotPositiveDefinite(1));
        let s = Matrix::from_rows(&[vec![1.0, 1.0], vec![1.0, 1.0]]);
        assert!(s.cholesky().is_err());
        assert!(Matrix::zeros(2).cholesky().is_err());
    }

    #[test]
    fn outer_product_accumulation() {
        let mut m = Matrix::zeros(3);
        m.add_outer_upper(2.0, &[1.0, 0.0, 3.0]);
        m.symmetrize_from_upper();
        assert_eq!(m[(0, 2)], 6.0);
        assert_eq!(m[(2, 0)], 6.0);
        assert_eq!(m[(2, 2)], 18.0);
        assert_eq!(m[(1, 1)], 0.0);
    }
}
