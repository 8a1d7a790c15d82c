//! The normwise error bound of FFT convolution ([`crate::engine::fft::FftEngine`]).
//!
//! An FFT result obeys no per-element bound of the direct-summation kind; it obeys a bound on
//! the 2-norm of the error of each output block (one sample `n`, one output channel `o`: `P`
//! outputs computed from the `C` input channels of `o`'s group), which also bounds the absolute
//! error of every element of the block (so a bound below `0.5` recovers integers exactly). To
//! first order it is `(3 lambda log2(N) + (C + 3.8) u) * M`, with `M = sum_c ||x_c||_2 ||w_c||_1`
//! the block's mass, `N` the total transform length and `lambda ~ 22 u` the error of one
//! radix-2 stage, plus terms for the bias, a final rounding to a narrower format, overlap-add
//! blocks and underflow. [`FftTerms::bound`] evaluates it for one block, in double or single
//! precision ([`TransformPrecision`], whose methods give `lambda`, `phi` and `beta`);
//! [`l2_upper`], [`l1_upper`], [`l1_upper_complex`] and [`mass`] give its inputs as rigorous
//! upper bounds; [`distance`] and [`normwise`] check computed errors against bounds, and
//! [`reference_error`] adds the float64 reference's own error when the comparison is with that
//! reference rather than with the exact result. The derivation is in docs/numerics.md
//! section 10.

use super::float::{U32, U64, gamma};
use num_complex::Complex;

/// The twiddle-factor error bound `mu` of rustfft and realfft in f64: `16.5 u` with
/// `u = 2^-53`, absolute (twiddles have modulus 1). docs/numerics.md section 10.3.
pub const TWIDDLE_ERROR: f64 = 16.5 * U64;

/// The twiddle-factor error bound `mu` of a single-precision FFT that computes its twiddles
/// the way rustfft does, in single precision: `17 u` with `u = 2^-24`, absolute. Twiddles
/// computed more accurately (pocketfft computes them in double for float data) are within it
/// too. docs/numerics.md section 10.10.
pub const TWIDDLE_ERROR_SINGLE: f64 = 17.0 * U32;

/// The precision an FFT convolution computes in: its twiddle factors, butterflies,
/// spectrum products, channel sums, `1/N` scaling and bias.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TransformPrecision {
    /// IEEE double throughout (our [`crate::engine::fft::FftEngine`]; numpy and scipy on
    /// float64 data). A narrower result is rounded once at the end
    /// ([`FftTerms::output_roundoff`]).
    #[default]
    Double,
    /// IEEE single throughout, on data that is not rescaled (scipy.fft and numpy 2 on
    /// float32 data, torch.fft and cuFFT on float32 tensors).
    Single,
}

impl TransformPrecision {
    /// The unit roundoff `u` of the arithmetic: `2^-53` or `2^-24`.
    pub fn unit_roundoff(self) -> f64 {
        match self {
            Self::Double => U64,
            Self::Single => U32,
        }
    }

    /// The twiddle-factor error bound `mu`: [`TWIDDLE_ERROR`] or
    /// [`TWIDDLE_ERROR_SINGLE`].
    pub fn twiddle_error(self) -> f64 {
        match self {
            Self::Double => TWIDDLE_ERROR,
            Self::Single => TWIDDLE_ERROR_SINGLE,
        }
    }

    /// `lambda = mu + gamma_4 (sqrt(2) + mu)`: the relative error of one radix-2 stage
    /// (Higham, Theorem 24.2). docs/numerics.md sections 10.2 and 10.4.
    pub fn stage_error(self) -> f64 {
        let mu = self.twiddle_error();
        mu + gamma(4, self.unit_roundoff()) * (std::f64::consts::SQRT_2 + mu)
    }

    /// `phi_N = (1 + lambda)^(log2 N) - 1`: the normwise (and componentwise) relative error
    /// of one N-D transform of total length `N` (the product of the per-axis lengths); 0 for
    /// `N <= 1`. Evaluated with `exp_m1` and `ln_1p`, the exponent rounded up.
    /// docs/numerics.md sections 10.4 and 10.12.
    pub fn transform_error(self, total_len: f64) -> f64 {
        if total_len <= 1.0 {
            return 0.0;
        }
        // log2 rounded up by a few ulps so that the exponent is not underestimated.
        let stages = total_len.log2() * (1.0 + 4.0 * U64);
        (stages * self.stage_error().ln_1p()).exp_m1()
    }

    /// `beta = (1 + u)^2 (1 + phi)^3 (1 + sqrt(2) gamma_2) (1 + gamma_(C-1)) - 1`: the
    /// factor of the mass in the bound of one block without bias, for `C = channels`
    /// (evaluated without cancellation). docs/numerics.md sections 10.2 and 10.5.
    pub fn block_factor(self, total_len: f64, channels: usize) -> f64 {
        let u = self.unit_roundoff();
        let phi = self.transform_error(total_len);
        let product = gamma(2, u) * std::f64::consts::SQRT_2;
        let sum = gamma(channels.saturating_sub(1), u);
        (2.0 * u.ln_1p() + 3.0 * phi.ln_1p() + product.ln_1p() + sum.ln_1p()).exp_m1()
    }
}

/// [`TransformPrecision::stage_error`] in double precision.
pub fn stage_error() -> f64 {
    TransformPrecision::Double.stage_error()
}

/// [`TransformPrecision::transform_error`] in double precision.
pub fn transform_error(total_len: f64) -> f64 {
    TransformPrecision::Double.transform_error(total_len)
}

/// [`TransformPrecision::block_factor`] in double precision.
pub fn block_factor(total_len: f64, channels: usize) -> f64 {
    TransformPrecision::Double.block_factor(total_len, channels)
}

/// Everything the bound of one output block (one sample, one output channel) depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FftTerms {
    /// Total transform length `N` (product of the per-axis lengths).
    pub transform_len: f64,
    /// Input channels per group, `C`.
    pub channels: usize,
    /// `M = sum_c ||x_c||_2 ||w_c||_1`, an upper bound as returned by [`mass`].
    pub mass: f64,
    /// `|b|` of this output channel's bias, if a bias is added in floating point.
    pub bias: Option<f64>,
    /// Output elements in the block, `P`.
    pub outputs: usize,
    /// Overlap-add: the most blocks whose contributions are summed into one output
    /// element (`k` of docs/numerics.md section 10.8); 1 for a single transform.
    pub overlap: usize,
    /// `max|x| * max|w|` over the whole (padded) input and weight: the scale of the
    /// underflow term.
    pub scale: f64,
    /// Unit roundoff of a narrower output format the result is rounded to at the end
    /// (`Some(U32)` for f32 results of double-precision transforms), or `None` when the
    /// result is already in the working precision.
    pub output_roundoff: Option<f64>,
    /// The precision of the transforms and everything after them.
    pub precision: TransformPrecision,
    /// Single precision only (data not rescaled): `max(1, max_c ||x_c||_1,
    /// max_c ||w_c||_1)` or an upper bound of it, the largest gain from an underflow error
    /// to an output (docs/numerics.md section 10.10). Ignored in double precision.
    pub underflow_gain: f64,
}

impl FftTerms {
    /// The bound on `||y_hat - y||_2` over the block, hence on every element's absolute
    /// error, in the units of the data: bias, output rounding, overlap-add and underflow
    /// included, rounded up by `1 + 2^-40`. Infinite when the mass is.
    /// docs/numerics.md section 10.2 (the formula) and sections 10.3 to 10.10 (its terms).
    pub fn bound(&self) -> f64 {
        let m = self.mass;
        let u = self.precision.unit_roundoff();
        let beta = self
            .precision
            .block_factor(self.transform_len, self.channels);
        let k = self.overlap.max(1);
        let mut e = if k == 1 {
            beta * m
        } else {
            (k as f64).sqrt() * (beta + gamma(k - 1, u) * (1.0 + beta)) * m
        };
        let output_norm = m + self.bias.map_or(0.0, |b| (self.outputs as f64).sqrt() * b);
        if self.bias.is_some() {
            e = (1.0 + u) * e + u * output_norm;
        }
        if let Some(uo) = self.output_roundoff {
            e = (1.0 + uo) * e + uo * output_norm;
        }
        let underflow = match self.precision {
            TransformPrecision::Double => {
                // Rounding to the narrower output format (f32) is relative only in its
                // normal range; below it the error is up to half its smallest subnormal,
                // 2^-150, per element.
                let narrow = match self.output_roundoff {
                    Some(_) => 2f64.powi(-150) * (self.outputs.max(1) as f64).sqrt(),
                    None => 0.0,
                };
                2f64.powi(-900) * self.scale + 2f64.powi(-1060) + narrow
            }
            TransformPrecision::Single => self.single_underflow(),
        };
        (e + underflow) * (1.0 + 2f64.powi(-40))
    }

    /// The underflow term of a single-precision block:
    /// `(2^-148 * 10 (C + 1) N (log2 N + 2) k * max(G, 1) + 2^-150) * sqrt(P)`
    /// (docs/numerics.md section 10.10).
    fn single_underflow(&self) -> f64 {
        let n = self.transform_len.max(1.0);
        let multiplications =
            10.0 * (self.channels as f64 + 1.0) * n * (n.log2() + 2.0) * self.overlap.max(1) as f64;
        let per_element = 2f64.powi(-148) * multiplications * self.underflow_gain.max(1.0);
        (per_element + 2f64.powi(-150)) * (self.outputs.max(1) as f64).sqrt()
    }
}

/// An upper bound on `||v||_2` of `n` components (for complex data, pass the real and
/// imaginary parts as separate components); 0 for no components or all zeros, infinity for
/// non-finite input. The data is scaled by a power of two so that squares cannot overflow,
/// `n 2^-1074` is added for squares lost to underflow, and the square root is inflated by
/// `1 + gamma_(n+4)(2^-53)`. docs/numerics.md section 10.12.
pub fn l2_upper(components: impl IntoIterator<Item = f64> + Clone) -> f64 {
    let mut max = 0f64;
    let mut n = 0usize;
    for v in components.clone() {
        max = max.max(v.abs());
        n += 1;
        if !v.is_finite() {
            return f64::INFINITY;
        }
    }
    if max == 0.0 {
        return 0.0;
    }
    let e = max.log2().ceil() as i32;
    // One exact factor when 2^-e is a normal number, else stepwise scaling.
    let f = (-1000..=1000).contains(&e).then(|| 2f64.powi(-e));
    let sum: f64 = components
        .into_iter()
        .map(|v| {
            let s = f.map_or_else(|| pow2(v, -e), |f| v * f);
            s * s
        })
        .sum();
    let sum = sum + n as f64 * 2f64.powi(-1074);
    pow2(sum.sqrt() * (1.0 + gamma(n + 4, U64)), e)
}

/// An upper bound on `sum |v_i|` of `n` real values: the computed sum times
/// `1 + gamma_(n+1)(2^-53)`. docs/numerics.md section 10.12.
pub fn l1_upper(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for v in values {
        sum += v.abs();
        n += 1;
    }
    sum * (1.0 + gamma(n + 1, U64))
}

/// An upper bound on `sum |z_i|` of `n` complex values (`hypot` within 1 ulp): the computed
/// sum times `1 + gamma_(2n+2)(2^-53)`. docs/numerics.md section 10.12.
pub fn l1_upper_complex(values: impl IntoIterator<Item = Complex<f64>>) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for z in values {
        sum += z.re.hypot(z.im);
        n += 1;
    }
    sum * (1.0 + gamma(2 * n + 2, U64))
}

/// An upper bound on `M = sum_c a_c b_c` from `C` pairs of upper bounds `(a_c, b_c)`: the
/// computed sum of products times `1 + gamma_(C+2)(2^-53)`. docs/numerics.md section 10.12.
pub fn mass(pairs: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for (a, b) in pairs {
        sum += a * b;
        n += 1;
    }
    sum * (1.0 + gamma(n + 2, U64))
}

/// `v * 2^e`, exact unless the result overflows or is subnormal (done in steps that keep
/// every factor representable).
pub fn pow2(v: f64, e: i32) -> f64 {
    let mut v = v;
    let mut e = e;
    while e != 0 {
        let step = e.clamp(-1000, 1000);
        v *= 2f64.powi(step);
        e -= step;
    }
    v
}

/// A bound on the 2-norm of the error of the crate's f64 reference over a block, for
/// comparing an FFT result with the reference rather than with the exact result:
/// `l2_upper(abs_sums) * g / (1 - g) * (1 + 8 * 2^-53)` with `g = gamma_terms(2^-53)`, where
/// `abs_sums` holds the computed `A_hat_i` (`sum |w| |x| + |b|` of element `i`) and `terms`
/// counts taps plus one for a bias. docs/numerics.md section 10.14.
pub fn reference_error(abs_sums: impl IntoIterator<Item = f64> + Clone, terms: usize) -> f64 {
    let g = gamma(terms, U64);
    l2_upper(abs_sums) * g / (1.0 - g) * (1.0 + 8.0 * U64)
}

/// `||a - b||_2` over matching components (the distance itself, not a bound), where positions
/// holding the same non-finite value in both (NaN and NaN, or equal infinities) count as
/// equal; any other non-finite difference, or slices of different lengths, make the distance
/// infinite. docs/numerics.md section 8.5.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    let mut diffs = Vec::with_capacity(a.len());
    for (&x, &y) in a.iter().zip(b) {
        if x == y || (x.is_nan() && y.is_nan()) {
            continue;
        }
        let d = x - y;
        if !d.is_finite() {
            return f64::INFINITY;
        }
        diffs.push(d);
    }
    // The distance itself (not an upper bound): plain sum of squares, scaled.
    let max = diffs.iter().fold(0f64, |m, d| m.max(d.abs()));
    if max == 0.0 {
        return 0.0;
    }
    let e = max.log2().ceil() as i32;
    let s: f64 = diffs.iter().map(|&d| pow2(d, -e).powi(2)).sum();
    pow2(s.sqrt(), e)
}

/// The result of checking FFT results block by block against their bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct NormwiseReport {
    /// Whether every block's error was within its bound.
    pub passed: bool,
    /// Largest `error / bound` (0 when every error is 0).
    pub max_ratio: f64,
    /// Index of the block with the largest ratio.
    pub worst: usize,
    /// Number of blocks checked.
    pub blocks: usize,
}

/// Checks `(error, bound)` pairs, one per block (errors from [`distance`], bounds from
/// [`FftTerms::bound`], plus [`reference_error`] when the comparison is with the f64
/// reference), and reports the worst ratio. A NaN error fails. docs/numerics.md section 10.14.
pub fn normwise(blocks: impl IntoIterator<Item = (f64, f64)>) -> NormwiseReport {
    let mut r = NormwiseReport {
        passed: true,
        max_ratio: 0.0,
        worst: 0,
        blocks: 0,
    };
    for (i, (err, bound)) in blocks.into_iter().enumerate() {
        r.blocks += 1;
        let within = err <= bound; // false for NaN
        let ratio = if err == 0.0 {
            0.0
        } else if err.is_nan() {
            f64::INFINITY
        } else {
            err / bound
        };
        if !within {
            r.passed = false;
        }
        if ratio > r.max_ratio {
            r.max_ratio = ratio;
            r.worst = i;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants() {
        // mu = 16.5 u, eta ~ 22.2 u, phi ~ eta log2 N.
        let eta = stage_error() / U64;
        assert!((22.0..22.5).contains(&eta), "{eta}");
        let phi = transform_error(1024.0) / U64;
        assert!((eta * 10.0..eta * 10.0 * 1.001).contains(&phi), "{phi}");
        assert_eq!(transform_error(1.0), 0.0);
        // beta ~ 3 phi + (C + 3.8) u for small values; no cancellation at u scale.
        let beta = block_factor(1024.0, 4) / U64;
        let approx = 3.0 * phi + 2.0 * std::f64::consts::SQRT_2 + 3.0 + 2.0;
        assert!((beta - approx).abs() < 0.01 * approx, "{beta} vs {approx}");
    }

    #[test]
    fn single_precision_constants() {
        // mu = 17 u, eta ~ 22.7 u in units of 2^-24; no final rounding to add.
        let single = TransformPrecision::Single;
        let eta = single.stage_error() / U32;
        assert!((22.6..22.8).contains(&eta), "{eta}");
        assert_eq!(single.unit_roundoff(), U32);
        let ratio = single.transform_error(1024.0) / transform_error(1024.0);
        assert!(ratio > 2f64.powi(29), "{ratio}");
        let terms = |precision| FftTerms {
            transform_len: 64.0,
            channels: 2,
            mass: 1.0,
            bias: None,
            outputs: 16,
            overlap: 1,
            scale: 1.0,
            output_roundoff: None,
            precision,
            underflow_gain: 1.0,
        };
        let b = terms(single).bound();
        let expect = single.block_factor(64.0, 2);
        assert!(b >= expect && b < expect * (1.0 + 1e-9), "{b} vs {expect}");
        // Underflow: absolute in single precision, so it dominates tiny data.
        let tiny = FftTerms {
            mass: 0.0,
            underflow_gain: 1e6,
            ..terms(single)
        };
        let floor = 2f64.powi(-148) * 10.0 * 3.0 * 64.0 * 8.0 * 1e6 * 4.0;
        assert!(tiny.bound() >= floor, "{} < {floor}", tiny.bound());
        // No overlap count is read as one block, in the underflow term as in the rest.
        let none = FftTerms { overlap: 0, ..tiny };
        assert_eq!(none.bound(), tiny.bound());
        assert!(terms(TransformPrecision::Double).bound() < b * 1e-8);
    }

    #[test]
    fn norms_are_upper_bounds() {
        let v = [3.0, -4.0];
        assert!(l2_upper(v) >= 5.0 && l2_upper(v) < 5.0 * (1.0 + 1e-15));
        assert_eq!(l2_upper([0.0; 3]), 0.0);
        assert!(l2_upper([1e300, 1e300]) > 1.4e300);
        assert!(l2_upper([1e-300, 1e-300]) > 1.4e-300);
        assert!(l2_upper([f64::NAN]).is_infinite());
        assert!(l1_upper([1.0, -2.0]) >= 3.0);
        assert!(l1_upper_complex([Complex::new(3.0, 4.0)]) >= 5.0);
        assert!(mass([(1.0, 2.0), (3.0, 4.0)]) >= 14.0);
        assert_eq!(pow2(pow2(3.0, -1020), 1020), 3.0);
        assert_eq!(pow2(pow2(3.0e-300, 1500), -1500), 3.0e-300);
    }

    #[test]
    fn distances_and_reports() {
        assert_eq!(distance(&[1.0, f64::NAN], &[1.0, f64::NAN]), 0.0);
        assert!(distance(&[1.0, f64::NAN], &[1.0, 2.0]).is_infinite());
        assert_eq!(distance(&[3.0, 0.0], &[0.0, 4.0]), 5.0);
        let r = normwise([(1.0, 2.0), (0.0, 0.0), (3.0, 4.0)]);
        assert!(r.passed && r.max_ratio == 0.75 && r.worst == 2 && r.blocks == 3);
        assert!(!normwise([(1.0, 0.5)]).passed);
        assert!(!normwise([(f64::NAN, 0.5)]).passed);
    }
}
