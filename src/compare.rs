//! The one tolerance policy: how far a floating-point result may be from the reference.
//!
//! Today this holds the componentwise bound for any direct summation (SEMANTICS.md section 7,
//! NUMERICS.md): computing `s = sum_{i=1..K} a_i b_i` in floating point with unit roundoff `u`,
//! in any order, with or without FMA, gives
//!
//! ```text
//! |fl(s) - s| <= gamma_K * sum |a_i| |b_i|,    gamma_K = K u / (1 - K u)
//! ```
//!
//! (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., section 3.1; pairwise
//! summation only improves it, to `gamma_(ceil(log2 K) + 1)`, so the any-order bound is the one
//! to use for a peer whose summation order is unknown). A bias adds one term, so `K` counts
//! taps plus one.
//!
//! A peer's result `p` is compared with our float64 reference `r`, and the bound is evaluated
//! from `A_hat`, our float64 evaluation of `A = sum |a_i| |b_i|`. With `g_p = gamma_K(u_peer)`
//! and `g = gamma_K(2^-53)`:
//!
//! ```text
//! |p - y| <= g_p A,  |r - y| <= g A,  |A_hat - A| <= g A   =>   |p - r| <= (g_p + g) A_hat / (1 - g)
//! ```
//!
//! and the comparison itself (one subtraction, a few products) is covered by a final factor
//! `(1 + 8 * 2^-53)`. [`componentwise_bound`] returns that number. When the inputs are exact
//! in the peer's format (for example float32 data widened to float64), nothing else enters.

/// Unit roundoff of float32: `2^-24`.
pub const U32: f64 = 1.0 / 16_777_216.0;
/// Unit roundoff of float64: `2^-53`.
pub const U64: f64 = f64::EPSILON / 2.0;

/// `gamma_n = n u / (1 - n u)`; infinite when `n u >= 1` (no bound).
pub fn gamma(n: usize, u: f64) -> f64 {
    let nu = n as f64 * u;
    if nu >= 1.0 {
        f64::INFINITY
    } else {
        nu / (1.0 - nu)
    }
}

/// The largest `|peer - reference|` that correct direct summation allows for one output with
/// `terms` summands (taps, plus one for a bias), given `abs_sum` = our float64 value of
/// `sum |w| |x|` and the peer's unit roundoff (see the module docs for the derivation).
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
    /// Flat index of the element with the largest ratio (or the first failure).
    pub worst: usize,
    /// Number of elements equal to the reference exactly.
    pub exact: usize,
}

/// Compares `peer` with `reference` element by element against
/// [`componentwise_bound`]`(terms, abs_sum[i], u_peer)`.
///
/// A difference of exactly 0 always passes (so does a zero bound with a zero difference); a
/// non-finite peer value passes only if it equals the reference value.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_values() {
        assert_eq!(gamma(0, U64), 0.0);
        assert!((gamma(10, U32) - 10.0 * U32 / (1.0 - 10.0 * U32)).abs() < 1e-20);
        assert!(gamma(1 << 24, U32).is_infinite());
    }

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
}
