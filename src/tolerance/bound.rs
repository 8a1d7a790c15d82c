//! The componentwise bounds of direct summation: against the correctly rounded result
//! ([`componentwise_bound_cr`]) and against the crate's float64 reference ([`componentwise`]).

use super::float::{Float, U64, gamma};

/// The largest `|peer - reference|` that correct direct summation allows between a peer's
/// output and the crate's float64 reference (not correctly rounded), for one output with
/// `terms` summands (taps, plus one for a bias), `abs_sum` the float64 value of
/// `sum |w| |x| (+ |b|)` and `u_peer` the peer's unit roundoff:
/// `(gamma_K(u_peer) + g) abs_sum / (1 - g) * (1 + 8 * 2^-53)` with `g = gamma_K(2^-53)`, in
/// the units of the data. docs/numerics.md section 8.3.
pub fn componentwise_bound(terms: usize, abs_sum: f64, u_peer: f64) -> f64 {
    let g = gamma(terms, U64);
    (gamma(terms, u_peer) + g) * abs_sum / (1.0 - g) * (1.0 + 8.0 * U64)
}

/// The result of comparing a peer's outputs with the reference under the componentwise bound.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentwiseReport {
    /// Whether every element was within its bound (NaN where the reference is finite fails).
    pub passed: bool,
    /// Largest `|peer - reference| / bound` (0 when every difference is 0).
    pub max_ratio: f64,
    /// Flat index of the element with the largest ratio (the first of equal ones), or of the
    /// first failure.
    pub worst: usize,
    /// Number of elements equal to the reference exactly.
    pub exact: usize,
}

/// Compares `peer` with `reference` element by element against
/// [`componentwise_bound`]`(terms, abs_sum[i], u_peer)` (docs/numerics.md section 8.3).
///
/// A difference of exactly 0 always passes (so does a zero bound with a zero difference), and
/// so does NaN against NaN; any other non-finite peer value passes only if it equals the
/// reference value. Slices of different lengths fail.
pub fn componentwise(
    peer: &[f64],
    reference: &[f64],
    abs_sum: &[f64],
    terms: usize,
    u_peer: f64,
) -> ComponentwiseReport {
    let mut report = ComponentwiseReport {
        passed: peer.len() == reference.len() && reference.len() == abs_sum.len(),
        max_ratio: 0.0,
        worst: 0,
        exact: 0,
    };
    for (i, ((&p, &r), &a)) in peer.iter().zip(reference).zip(abs_sum).enumerate() {
        let diff = (p - r).abs();
        if p == r || (p.is_nan() && r.is_nan()) {
            report.exact += 1;
            continue;
        }
        let bound = componentwise_bound(terms, a, u_peer);
        let ratio = if diff.is_nan() {
            f64::INFINITY
        } else {
            diff / bound
        };
        let within = diff <= bound; // false for NaN
        if !within && report.passed {
            report.passed = false;
            report.worst = i;
            report.max_ratio = ratio;
        }
        if report.passed && ratio > report.max_ratio {
            report.max_ratio = ratio;
            report.worst = i;
        }
    }
    report
}

/// The [`Model::Componentwise`](super::Model::Componentwise) bound on `|y_hat - y_cr|` for
/// one output of element type `F`, in f64 and in the units of the data (docs/numerics.md
/// section 8.2): `(g A_hat + u |y_cr| + (K + 2)(1 + g) eta) (1 + 2^-48)`, with
/// `g = gamma_K(u)`, `K = terms`, `A_hat = abs_sum` (an upper bound on `sum |w| |x| (+ |b|)`),
/// `eta` = [`Float::SUBNORMAL_MIN`] and `y_cr` the correctly rounded exact output. Infinite
/// when `gamma_K` or `abs_sum` is.
pub fn componentwise_bound_cr<F: Float>(terms: usize, abs_sum: f64, y_cr: f64) -> f64 {
    let u = F::UNIT_ROUNDOFF;
    let g = gamma(terms, u);
    if g.is_infinite() || abs_sum.is_infinite() {
        // Also when the other factor is 0: `inf * 0` would make the bound NaN.
        return f64::INFINITY;
    }
    let underflow = (terms as f64 + 2.0) * (1.0 + g) * F::SUBNORMAL_MIN;
    (g * abs_sum + u * y_cr.abs() + underflow) * (1.0 + 2f64.powi(-48))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::float::U32;

    #[test]
    fn float32_summation_stays_within_the_bound() {
        // 1000 terms of 0.1f32 summed in float32 vs the float64 sum: the classic drift.
        let terms = 1000;
        let x = 0.1f32;
        let s32 = (0..terms).fold(0.0f32, |acc, _| acc + x * 1.0);
        let s64 = (0..terms).fold(0.0f64, |acc, _| acc + f64::from(x));
        let r = componentwise(&[f64::from(s32)], &[s64], &[s64], terms, U32);
        assert!(r.passed, "{r:?}");
        assert!(r.max_ratio > 0.0);
        // The same drift is far outside a float64 bound: the check can fail.
        let r = componentwise(&[f64::from(s32)], &[s64], &[s64], terms, U64);
        assert!(!r.passed);
    }

    #[test]
    fn componentwise_bound_cr_is_gamma_plus_half_ulp() {
        // K = 4, A = 1, y_cr = 1: (4 / (1 - 4u) + 1) u, plus a negligible underflow term.
        let u = U32;
        let b = componentwise_bound_cr::<f32>(4, 1.0, 1.0);
        let expected = (4.0 / (1.0 - 4.0 * u) + 1.0) * u;
        assert!(
            b >= expected && b < expected * (1.0 + 1e-12),
            "{b} vs {expected}"
        );
        assert!(componentwise_bound_cr::<f64>(4, f64::INFINITY, 1.0).is_infinite());
        assert!(componentwise_bound_cr::<f32>(1 << 24, 1.0, 1.0).is_infinite());
        // K u >= 1 with nothing to sum: still infinite, never NaN.
        assert!(componentwise_bound_cr::<f32>(1 << 24, 0.0, 0.0).is_infinite());
        assert!(componentwise_bound_cr::<f64>(4, f64::INFINITY, 0.0).is_infinite());
    }
}
