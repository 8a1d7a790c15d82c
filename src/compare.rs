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

// ------------------------------------------------------------------------------------------------
// FFT normwise bound (issue "FFT engine"): appended section, see the `fft` module docs.

pub mod fft {
    //! The normwise error bound of FFT convolution ([`crate::engine::fft::FftEngine`]).
    //!
    //! An FFT result obeys no per-element bound of the direct-summation kind; it obeys a bound
    //! on the 2-norm of the error of each output block. A block is one sample `n` and one output
    //! channel `o`: `P` output elements (the spatial output), computed from the `C` input
    //! channels of `o`'s group (`C = input channels / groups`). Since the largest element of a
    //! vector is at most its 2-norm, the same number bounds the absolute error of every element
    //! of the block; that is how the integer path uses it (exact when the bound is `< 0.5`).
    //!
    //! # The bound
    //!
    //! With `x_c` the boundary-padded input channel `c` (zero padding is not counted: it adds
    //! nothing to any norm), `w_c = w[o, c]`, `N` the total transform length (the product of
    //! the per-axis lengths) and
    //!
    //! ```text
    //! M    = sum_c ||x_c||_2 * ||w_c||_1                      (the "mass" of the block)
    //! mu   = 16.5 u                                           (twiddle error, below)
    //! eta  = mu + gamma_4 (sqrt(2) + mu)                      (error per radix-2 stage)
    //! phi  = (1 + eta)^(log2 N) - 1                           (~ eta log2 N: one N-D transform)
    //! beta = (1 + u)^2 (1 + phi)^3 (1 + sqrt(2) gamma_2) (1 + gamma_(C-1)) - 1
    //! ```
    //!
    //! the computed block `y_hat` (before bias) and the exact block `y` satisfy
    //!
    //! ```text
    //! ||y_hat - y||_2 <= beta * M                        ~ (3 eta log2 N + (C + 3.8) u) * M
    //! ```
    //!
    //! and with a bias `b` added in floating point, `(1 + u) beta M + u (M + sqrt(P) |b|)`;
    //! rounding the result to a narrower format with unit roundoff `u_o` (f32 output) adds
    //! `(1 + u_o) E + u_o (M + sqrt(P) |b|)`. To first order: `c * u * log2(N) * M` with
    //! `c = 3 * eta / u ~ 66`, plus `(C + 3.8) u M`. [`FftTerms::bound`] evaluates it.
    //!
    //! # Derivation
    //!
    //! 1. **Twiddle factors.** rustfft 6.4 (`src/twiddles.rs`, used by every algorithm
    //!    including the AVX ones) and realfft 3.5 both compute `w = exp(-2 pi i k / n)` as
    //!    `theta = (-2 * PI / n) * k`, then `(cos theta, sin theta)`, for `k < n`. `PI` has
    //!    relative error below `0.36 u`, the division and the product one rounding each, so
    //!    `|theta_hat - theta| <= 2 pi (2.37 u)`, and `|exp(i a) - exp(i b)| <= |a - b|`. With
    //!    `cos` and `sin` within 1 ulp (glibc; an assumption about the platform's libm) each
    //!    component adds at most `u`, so `mu <= 2 pi * 2.37 u + sqrt(2) u < 16.4 u`; we use
    //!    `16.5 u`. realfft's extra factor `0.5` is exact. Measured against double-double
    //!    values (`tests/fft.rs`, every `k < n`, every 3-smooth `n <= 4096`): at most `10.1 u`.
    //! 2. **One transform.** Higham (Accuracy and Stability of Numerical Algorithms, 2nd ed.,
    //!    Theorem 24.2): a radix-2 Cooley-Tukey FFT of length `n` with twiddle error `mu`
    //!    satisfies `||fl(F x) - F x||_2 <= phi_n ||F x||_2 = phi_n sqrt(n) ||x||_2` with
    //!    `phi_n = (1 + eta)^(log2 n) - 1 <= log2(n) eta / (1 - log2(n) eta)`. The same stage
    //!    argument run on absolute values gives the componentwise form
    //!    `||fl(F x) - F x||_inf <= phi_n ||x||_1`: each butterfly output `a + w b` is computed
    //!    within `eta (|a| + |b|)`, and the product of the stage matrices' absolute values is
    //!    the all-ones matrix (one path from each input to each output). **Assumption (T):**
    //!    rustfft's mixed-radix algorithms (radix 3, 4, 6, ... butterflies, AVX kernels) and
    //!    realfft's r2c / c2r pre- and post-processing stages obey both forms with the same
    //!    `log2 n`, for the 3-smooth lengths the engine uses; for r2c / c2r the 2-norm of a
    //!    half spectrum `H` is taken as `||H||_h` (interior bins counted twice), which makes
    //!    Parseval `||H||_h = sqrt(n) ||x||_2` exact. The assumption is not proved here; it is
    //!    measured against a double-double DFT in `tests/fft.rs` (every 3-smooth length up to
    //!    1296 for c2c forward and inverse, r2c and c2r, plus c2c at 2048, 2304, 3456 and 4096;
    //!    uniform, unit-magnitude and twelve-decade vectors): the largest observed error was
    //!    `0.069 phi_n` (per bin, c2c forward), normwise at most `0.054 phi_n`.
    //! 3. **N-D.** The transform is a sequence of 1-D passes. If each pass `k` is a map of
    //!    norm `a_k` computed within `e_k a_k ||v||`, the composition is computed within
    //!    `(prod (1 + e_k) - 1) prod a_k ||x||` (induction: the error of pass `k` is carried
    //!    by the exact later passes, and the computed input of pass `k` is at most
    //!    `prod_(j<k) (1 + e_j) a_j ||x||`). So `phi_N = prod_a (1 + phi_(L_a)) - 1 =
    //!    (1 + eta)^(log2 N) - 1`, normwise and (same induction on absolute values)
    //!    componentwise.
    //! 4. **Spectra.** `X_c = F x_c + E_c`, `||E_c|| <= phi sqrt(N) a_c` (`a_c = ||x_c||_2`);
    //!    `W_c = F g_c + G_c`, `||G_c||_inf <= phi b_c` (`b_c = ||w_c||_1`, componentwise
    //!    form), and `||F g_c||_inf <= b_c` (each bin is a sum of the taps times unit
    //!    numbers), so `||W_c||_inf <= (1 + phi) b_c`.
    //! 5. **Products and channel sum.** `X W - (F x)(F g) = E W + (F x) G`, of norm at most
    //!    `sqrt(N) a_c ((1 + phi) b_c phi + b_c phi)`; the complex product adds
    //!    `sqrt(2) gamma_2 |X| |W|` (Higham Lemma 3.5) and the sum of `C` spectra adds
    //!    `gamma_(C-1) sum |P_c|` per bin (real and imaginary parts separately; the triangle
    //!    inequality in the plane recombines them). Altogether the accumulated spectrum `S`
    //!    has `||S_hat - S|| <= sqrt(N) M k_S`, `k_S = (1 + phi)^2 (1 + sqrt(2) gamma_2)
    //!    (1 + gamma_(C-1)) - 1`, and `||S|| <= sqrt(N) M`.
    //! 6. **Inverse and 1/N.** The unnormalised inverse has norm `sqrt(N)`, so
    //!    `||Z_hat - Z|| <= N M ((1 + phi)(1 + k_S) - 1)`; multiplying by `r = fl(1/N)`
    //!    (`|r - 1/N| <= u/N`, then one rounding per element: a factor `(1 + u)^2`, cheaper
    //!    than a division per element) gives `beta` above. Cropping to the linear part and
    //!    subsampling for stride select elements, which never increases a 2-norm; the engine
    //!    picks transform lengths at which the circular convolution equals the linear one at
    //!    every element it reads. Power-of-two scaling of the data is exact.
    //! 7. **Bias.** `|fl(a + b) - (y + b)| <= |a - y| + u (|a - y| + |y + b|)` per element and
    //!    `||y||_2 <= M` (Young's inequality `||x * g||_2 <= ||x||_2 ||g||_1`), giving the
    //!    bias formula above.
    //!
    //! Real input through realfft runs the same steps with `||.||_h` on half spectra: the
    //! products and sums are per bin, so every step holds with the weights, and the exact c2r
    //! (the engine zeroes the imaginary parts of its DC and Nyquist bins first, a projection
    //! that cannot increase the error) maps `||.||_h` to `sqrt(N) ||.||_2`.
    //!
    //! **Overlap-add.** With blocks, every output is the sum of the contributions of the
    //! blocks whose window covers it: block `b` (a box of input samples, `B_a` per axis) is
    //! convolved at transform length `N` (now the block transform's total length, at least
    //! `B_a + E_a - 1` per axis, `E_a` the dilated kernel extent: no aliasing), and its
    //! contributions `z_b` are divided by `N` and added into the output. One element is covered
    //! by at most `k = prod_a k_a` windows, `k_a = floor((B_a + E_a - 2) / B_a) + 1` on a
    //! blocked axis (2 when `B_a >= E_a - 1`) and 1 on an axis transformed whole. Steps 1-6
    //! give `||z_hat_b - z_b||_2 <= beta M_b`, `M_b` the mass of block `b`'s samples. Summed
    //! (Cauchy-Schwarz per element: `|sum_b e_b(i)|^2 <= k sum_b |e_b(i)|^2`), the block errors
    //! are at most `sqrt(k) beta sqrt(sum_b M_b^2)`, and `sqrt(sum_b M_b^2) <= M` (Minkowski:
    //! the blocks partition every channel, so `sum_b ||x_(b,c)||_2^2 = ||x_c||_2^2`). The
    //! floating-point sum of at most `k` contributions adds `gamma_(k-1) sum_b |z_hat_b(i)|`
    //! per element, whose 2-norm is at most `gamma_(k-1) sqrt(k) (1 + beta) M` the same way
    //! (Young: `||z_b||_2 <= M_b`). So with blocks, `beta M` becomes
    //! `sqrt(k) (beta + gamma_(k-1) (1 + beta)) M`, and the bias and output-rounding steps
    //! follow unchanged. [`FftTerms::overlap`] is `k`.
    //!
    //! **Underflow and overflow.** Steps 1-7 use the standard model without underflow. The
    //! engine scales input and kernel by powers of two so that their largest magnitudes lie in
    //! `(1/2, 1]`: no spectrum can then overflow (every bin is at most the 1-norm of its data),
    //! and a non-finite result after scaling back makes the engine recompute with the
    //! reference. Gradual underflow adds at most `2^-1075` (scaled units) per multiplication
    //! and nothing per addition; each such error reaches an output with gain at most `N K`
    //! (the inverse transform sums `N` bins with unit weights, a kernel bin is at most `K`
    //! scaled taps), and there are fewer than `10 (C + 1) N (log2 N + 2)` multiplications,
    //! so for `N`, `C`, `K` below `2^40` the total is below `2^-900`. [`FftTerms::bound`] adds
    //! `2^-900 * scale + 2^-1060` (`scale = max|x| * max|w|` undoes the scaling; the second
    //! term covers rounding a final result into the subnormal range).
    //!
    //! **Evaluating the bound in floating point.** Norms are computed by [`l2_upper`],
    //! [`l1_upper`] and [`mass`], which inflate their computed values by their own rounding
    //! error bounds; the formula is evaluated through `ln_1p` / `exp_m1` (no cancellation in
    //! `beta`) and multiplied by `1 + 2^-40`, far above its few dozen roundings.
    //!
    //! **How loose.** Against the exact (rational) result, `tests/fft.rs` observed
    //! `||y_hat - y||_2 / bound` up to `2.2e-2` on small random problems (uniform,
    //! twelve-decade and cancelling data, real and complex), `1.1e-3` for a 2000-point signal
    //! with 31 taps or a 40x40 image with 5x5 kernels, and up to `0.32` where a large bias
    //! dominates a block (its single rounding, `u |y + b|`, is nearly attained). The ratio
    //! falls roughly like `1 / (log2(N) sqrt(K))`: the bound charges every stage its worst
    //! rounding (`eta ~ 22 u`; a random stage adds about `u`, and errors add like a random
    //! walk) and uses `||W||_inf <= ||w||_1`, which a random kernel of `K` taps beats by about
    //! `sqrt(K / log N)`. A tighter rigorous variant would use the computed `max |W_hat|` plus
    //! `phi ||w||_1` in place of `||w||_1` (a posteriori); the kernel transform's own
    //! componentwise error `phi ||w||_1` remains in it, so it gains at most a factor of about
    //! 3 and is not implemented.

    use super::{U64, gamma};
    use num_complex::Complex;

    /// The twiddle-factor error bound `mu` of rustfft and realfft in f64 (absolute, derived in
    /// the module docs): `16.5 u`.
    pub const TWIDDLE_ERROR: f64 = 16.5 * U64;

    /// `eta = mu + gamma_4 (sqrt(2) + mu)`: the relative error of one radix-2 stage
    /// (Higham, Theorem 24.2).
    pub fn stage_error() -> f64 {
        let mu = TWIDDLE_ERROR;
        mu + gamma(4, U64) * (std::f64::consts::SQRT_2 + mu)
    }

    /// `phi_N = (1 + eta)^(log2 N) - 1`: the normwise (and componentwise) relative error of
    /// one N-D transform of total length `N` (the product of the per-axis lengths).
    pub fn transform_error(total_len: f64) -> f64 {
        if total_len <= 1.0 {
            return 0.0;
        }
        // log2 rounded up by a few ulps so that the exponent is not underestimated.
        let stages = total_len.log2() * (1.0 + 4.0 * U64);
        (stages * stage_error().ln_1p()).exp_m1()
    }

    /// `beta = (1 + u)^2 (1 + phi)^3 (1 + sqrt(2) gamma_2) (1 + gamma_(C-1)) - 1`: the factor of
    /// the mass in the bound of one block without bias (module docs, steps 4-6).
    pub fn block_factor(total_len: f64, channels: usize) -> f64 {
        let phi = transform_error(total_len);
        let product = gamma(2, U64) * std::f64::consts::SQRT_2;
        let sum = gamma(channels.saturating_sub(1), U64);
        (2.0 * U64.ln_1p() + 3.0 * phi.ln_1p() + product.ln_1p() + sum.ln_1p()).exp_m1()
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
        /// element (`k` in the module docs); 1 for a single transform.
        pub overlap: usize,
        /// `max|x| * max|w|` over the whole (padded) input and weight: the scale of the
        /// underflow term.
        pub scale: f64,
        /// Unit roundoff of a narrower output format the f64 result is rounded to (`Some(U32)`
        /// for f32 results), or `None` for f64 results.
        pub output_roundoff: Option<f64>,
    }

    impl FftTerms {
        /// The bound on `||y_hat - y||_2` over the block, hence on every element's absolute
        /// error (module docs). Infinite when the mass is.
        pub fn bound(&self) -> f64 {
            let m = self.mass;
            let beta = block_factor(self.transform_len, self.channels);
            let k = self.overlap.max(1);
            let mut e = if k == 1 {
                beta * m
            } else {
                (k as f64).sqrt() * (beta + gamma(k - 1, U64) * (1.0 + beta)) * m
            };
            let output_norm = m + self.bias.map_or(0.0, |b| (self.outputs as f64).sqrt() * b);
            if self.bias.is_some() {
                e = (1.0 + U64) * e + U64 * output_norm;
            }
            if let Some(uo) = self.output_roundoff {
                e = (1.0 + uo) * e + uo * output_norm;
            }
            let underflow = 2f64.powi(-900) * self.scale + 2f64.powi(-1060);
            (e + underflow) * (1.0 + 2f64.powi(-40))
        }
    }

    /// An upper bound on `||v||_2` from the computed value (for complex data, pass the real
    /// and imaginary parts as separate components). Non-finite input gives infinity.
    ///
    /// The data is scaled by a power of two so that squares cannot overflow; the computed
    /// sum of `n` squares is within `gamma_n` of the exact one, each underflowing square loses
    /// less than `2^-1074`, and the result is inflated to cover both and the square root.
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

    /// An upper bound on `sum |v_i|` for real data (`n - 1` additions: inflated by
    /// `gamma_n`).
    pub fn l1_upper(values: impl IntoIterator<Item = f64>) -> f64 {
        let (mut sum, mut n) = (0f64, 0usize);
        for v in values {
            sum += v.abs();
            n += 1;
        }
        sum * (1.0 + gamma(n + 1, U64))
    }

    /// An upper bound on `sum |z_i|` for complex data (`hypot` within 1 ulp, `n - 1`
    /// additions: inflated by `gamma_(2n+1)`).
    pub fn l1_upper_complex(values: impl IntoIterator<Item = Complex<f64>>) -> f64 {
        let (mut sum, mut n) = (0f64, 0usize);
        for z in values {
            sum += z.re.hypot(z.im);
            n += 1;
        }
        sum * (1.0 + gamma(2 * n + 2, U64))
    }

    /// An upper bound on `M = sum_c a_c b_c` from upper bounds `(a_c, b_c)` (`C` products and
    /// `C - 1` additions: inflated by `gamma_(C+1)`).
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

    /// A bound on the 2-norm of the error of our f64 reference over a block, for comparing an
    /// FFT result with the reference rather than with the exact result: element `i` of the
    /// reference is within `gamma_terms * A_i` (`terms` = taps plus one for a bias), with
    /// `A_i` the exact `sum |w| |x| + |b|`; `abs_sums` holds the computed `A_hat_i`
    /// (`>= (1 - gamma_terms) A_i`).
    pub fn reference_error(abs_sums: impl IntoIterator<Item = f64> + Clone, terms: usize) -> f64 {
        let g = gamma(terms, U64);
        l2_upper(abs_sums) * g / (1.0 - g) * (1.0 + 8.0 * U64)
    }

    /// `||a - b||_2` over matching components, where positions holding the same non-finite
    /// value in both (NaN and NaN, or equal infinities) count as equal; any other non-finite
    /// difference makes the distance infinite.
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
    /// reference). A NaN error fails.
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
}
