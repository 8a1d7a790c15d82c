//! The one tolerance policy: how far a floating-point result may be from the reference.
//!
//! Every comparison of a candidate's outputs with the reference goes through one function,
//! [`judge_elements`], under one [`Model`]; it returns a [`Report`]. The models:
//!
//! | model | rule, per element unless said otherwise | use it for |
//! |---|---|---|
//! | [`Model::Exact`] | bit-equal to the correctly rounded exact value (sign of zero ignored) | the exact engine |
//! | [`Model::Ulp`]`(n)` | at most `n` ULPs from the correctly rounded exact value | a claimed ULP accuracy |
//! | [`Model::Componentwise`] | `abs(y_hat - y_cr) <= gamma_K A + u abs(y_cr)` (+ underflow), derived below | any direct summation |
//! | [`Model::Normwise`] | `norm2(y_hat - y_cr) <= bound + u norm2(y_cr)` over all elements | FFT results ([`fft`]) |
//! | [`Model::Tosa`] | TOSA's dot-product rule, with its aggregate bias and variance checks | reproducing TOSA conformance |
//! | [`Model::RtolAtol`] | `abs(got - e) <= atol + rtol abs(e)`, presets in [`Preset`] | mimicking a peer's own test |
//!
//! The reference value handed to the policy is `y_cr`, the *correctly rounded* exact output
//! (the exact dyadic rational rounded once, to nearest-even, into the element type `F`), not
//! the exact value `y` itself. `A` is `sum |w| |x|` (plus `|b|` with a bias) and `K` the number
//! of terms (taps, plus one for a bias). `u` is the unit roundoff of `F` (`2^-24` for f32,
//! `2^-53` for f64) and `eta` the smallest positive subnormal of `F` (`2^-149`, `2^-1074`).
//!
//! # ULP distance
//!
//! [`ulp_distance_f64`] and [`ulp_distance_f32`] (also [`Float::ulp_distance`]) count the
//! floats between two values: the bit patterns are mapped to a monotone integer line
//! (`+x -> bits`, `-x -> -bits(|x|)`), so `+0` and `-0` both map to 0, the distance from the
//! smallest positive subnormal to the smallest negative one is 2, and subnormals need no
//! special case. NaN is at distance 0 from any NaN (payloads and signs ignored) and
//! `u64::MAX` from anything else. Infinities are exact: an infinity is at distance 0 from
//! the same infinity and `u64::MAX` from everything else. **Choice:** on the bit line
//! `f64::MAX -> inf` is one step, but an overflow to infinity is not a one-ulp error (the
//! value it stands for is unbounded), so it counts as infinitely far. No two finite values
//! are `u64::MAX` apart (the largest finite distance, `-MAX` to `MAX`, is below `2^64 - 2^53`),
//! so `u64::MAX` always means "non-finite mismatch".
//!
//! # Special values (every model)
//!
//! Checked before any model's rule, identically for every model: if the exact value is NaN,
//! the candidate must be NaN (any payload); if it is `+inf` or `-inf`, the candidate must be
//! the same infinity; a non-finite candidate where the exact value is finite fails. Only when
//! both are finite does the model's rule apply. The sign of zero is never judged (docs/numerics.md section 5:
//! treat it as acceptable unless a user asks for it).
//!
//! One exception, for the models that read `A = sum |w| |x|` (`Componentwise`, `Tosa`; `A`
//! over the finite terms): when `A (1 + gamma_K)` reaches the largest finite value of `F`,
//! a product or partial sum of a correct summation may overflow, and the result may then be
//! anything: `inf`, `-inf`, NaN (an overflow meeting an infinite term of the other sign), or
//! a finite value. The error analysis below assumes no overflow, so such an element is not
//! judged (it passes whatever it is), unless the exact value is NaN: a NaN term, or infinite
//! terms of both signs, give NaN in every order. Short of that bound nothing overflows:
//! every product and partial sum of any order is at most `A (1 + gamma_K)` in magnitude.
//!
//! # Direct summation, any order (Higham)
//!
//! Computing `s = sum_{i=1..K} a_i b_i` in floating point with unit roundoff `u`, in any order,
//! with or without FMA, gives (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
//! section 3.1; docs/semantics.md section 7, docs/numerics.md)
//!
//! ```text
//! |fl(s) - s| <= gamma_K * sum |a_i| |b_i|,    gamma_K = K u / (1 - K u)
//! ```
//!
//! Each term `a_i b_i` meets one rounding for its product and at most `K - 1` for the
//! additions it passes through, whatever the order: `fl(s) = sum a_i b_i (1 + theta_i)` with
//! `|theta_i| <= gamma_K` (Higham Lemma 3.1). **FMA does not worsen the bound**: a step
//! `s <- fma(a, b, s)` rounds once where a multiply and an add round twice, so every term
//! meets at most as many roundings. **Pairwise summation improves it** to
//! `gamma_(ceil(log2 K) + 1)` (each term passes through at most `ceil(log2 K)` additions).
//! Since a peer's order is unknown (blocked, SIMD lanes, split-K, im2col + GEMM are all "some
//! order"), the any-order `gamma_K` is the rule. A bias adds one term, so `K` counts taps plus
//! one. The bound also covers an implementation that accumulates in a wider format `u_w` and
//! rounds once at the end: its error is at most `u |y| + (1 + u) gamma_K(u_w) A`, which is
//! `<= gamma_K(u) A` for `K >= 2` whenever `K u_w (1 + u) / (1 - K u_w) <= (K - 1) u` (f32 data
//! in f64: always), and for `K = 1` the result is `fl(y)` itself. It does **not** cover
//! accumulation in a narrower format (f16, bf16, TF32), nor Winograd or FFT algorithms, whose
//! errors are not sums of rounded products (use [`Model::Normwise`] with the [`fft`] bound).
//!
//! # `Model::Componentwise`: against the correctly rounded value
//!
//! The policy sees `y_cr = fl(y)`, not `y`, and the caller's `A_hat >= A` (an upper bound on
//! `sum |w| |x| (+ |b|)` in f64, rounded up: the contract of [`judge_elements`]). Three steps:
//!
//! 1. **The candidate against `y`, with underflow.** In the standard model with gradual
//!    underflow, `fl(a b) = a b (1 + delta) + eps` with `|delta| <= u`, `|eps| <= eta / 2`, and
//!    an addition is exact when its result is subnormal, so it obeys `fl(a + b) = (a + b)(1 +
//!    delta)` (Higham section 2.1). The `eps` of each product passes through at most `K - 1`
//!    additions, so
//!    `|y_hat - y| <= gamma_K A + K (1 + gamma_K) eta / 2`
//!    (an FMA rounds once per step, with the same form).
//! 2. **The reference rounding.** Rounding to nearest, `|y - y_cr|` is at most half the
//!    spacing of `F` at `y_cr`. For `|y_cr|` in `[2^e, 2^(e+1)]` in the normal range, the
//!    spacing just above `2^e` is `2 u 2^e` (it halves below `2^e`), so
//!    `|y - y_cr| <= u 2^e <= u |y_cr|`; in the subnormal range the spacing is `eta`. So
//!    `|y - y_cr| <= u |y_cr| + eta / 2`. (A `y` at or beyond the overflow threshold gives an
//!    infinite `y_cr`, judged as a special value.)
//! 3. **Triangle inequality.** With `A <= A_hat`:
//!
//! ```text
//! |y_hat - y_cr| <= |y_hat - y| + |y - y_cr| <= gamma_K A_hat + u |y_cr| + (K + 1)(1 + gamma_K) eta / 2
//! ```
//!
//! The extra `u |y_cr|` is the half-ulp of the reference's own rounding: without it a correct
//! summation with little cancellation (`A ~ |y|`, small `K`) could fail. For `K = 4`, `A = 1`
//! and `y_cr = 1` the bound is `(4 / (1 - 4u) + 1) u`, just over five spacings of `[1/2, 1)`.
//! [`Model::Componentwise`] evaluates, in f64,
//! `(gamma_K A_hat + u |y_cr| + (K + 2)(1 + gamma_K) eta) (1 + 2^-48)`: the factor covers the
//! few f64 roundings of the evaluation (fewer than ten, each below `2^-53`), and `(K + 2) eta`
//! over `(K + 1) eta / 2` covers the underflow of `u |y_cr|` in f64 for tiny f64 outputs. The
//! difference `|y_hat - y_cr|` is computed in f64; rounding is monotone and the bound is a
//! float, so a true difference within the bound is never rejected (and by Sterbenz's lemma
//! the difference of two values within a factor 2 of each other is exact, so nothing
//! materially outside is accepted either).
//!
//! # `componentwise_bound`: a peer against our float64 reference
//!
//! [`componentwise_bound`] and [`componentwise`] serve a different comparison: a peer's result
//! `p` against our float64 reference `r` (not correctly rounded), with the bound evaluated from
//! `A_hat`, our float64 evaluation of `A = sum |a_i| |b_i|`. With `g_p = gamma_K(u_peer)` and
//! `g = gamma_K(2^-53)`:
//!
//! ```text
//! |p - y| <= g_p A,  |r - y| <= g A,  |A_hat - A| <= g A   =>   |p - r| <= (g_p + g) A_hat / (1 - g)
//! ```
//!
//! and the comparison itself (one subtraction, a few products) is covered by a final factor
//! `(1 + 8 * 2^-53)`. [`componentwise_bound`] returns that number. When the inputs are exact
//! in the peer's format (for example float32 data widened to float64), nothing else enters.
//!
//! # `Model::Normwise`: FFT results
//!
//! The caller supplies a bound on `||y_hat - y||_2` over all the elements passed (one block,
//! from [`fft::FftTerms::bound`]; [`fft::reference_error`] is not needed, since `y_cr` is not
//! our float64 reference). Against `y_cr`, step 2 above per element gives
//! `||y - y_cr||_2 <= u ||y_cr||_2 + sqrt(T) eta / 2` over `T` elements, so the check is
//! `||y_hat - y_cr||_2 <= bound + u ||y_cr||_2 + sqrt(T) eta`, with `||y_cr||_2` from
//! [`fft::l2_upper`] and the right side inflated by `(1 + gamma_(T+4)) (1 + 2^-48)` for the
//! rounding of the computed distance ([`fft::distance`]). Elements whose special values
//! match (NaN and NaN, equal infinities) are left out of both norms.
//!
//! # `Model::Tosa`: TOSA's dot-product rule
//!
//! As the TOSA specification and its reference model (`verify_dot_product.cc`) state it, with
//! `ref` here the correctly rounded value, `bnd` the caller's `abs_sum`, `KS` the number of
//! terms (TOSA too counts the bias as a term when it is non-zero), and `2^(-1 - frac_bits)`,
//! which equals `u` (`frac_bits` 23 for f32, 52 for f64):
//!
//! ```text
//! scale_i = max(bnd_i * 2^(-1 - frac_bits), normal_min),  err_i = (imp_i - ref_i) / scale_i
//! per element |err_i| <= KS;  bnd_i == 0 requires imp_i == ref_i == 0 (err_i = 0)
//! over all T outputs: |sum err_i| <= 2 sqrt(KS T)  and  sum err_i^2 <= 0.4 KS T
//! ```
//!
//! `normal_min` is `F`'s smallest positive normal. Like TOSA, an element whose `bnd` rounds to
//! infinity in `F` has no accuracy limit (`err_i = 0`), but the special-value rules above still
//! apply to it (TOSA would also accept an overflowed candidate there). Differences from TOSA's
//! own harness: TOSA's `ref` is an fp64 evaluation, ours is `y_cr`, at most about one `scale`
//! away from `y`; TOSA runs the bias check only for its data sets 3 to 5 (not for its
//! positive-biased sets), we always run both aggregate checks. The aggregate checks reject a
//! systematically biased implementation whose every element is within the per-element limit.
//!
//! # `Model::RtolAtol`: a peer's own test
//!
//! `|got - e| <= atol + rtol |e|` with `e = y_cr`, evaluated in f64. [`Preset`] holds the peers'
//! defaults (docs/semantics.md section 7, sources in each variant's docs). None of them is derived
//! from the problem: a fixed `rtol` is too loose for well-conditioned outputs and too tight for
//! cancelling ones; use them only to reproduce a peer's verdict. NaN equals NaN here as in every
//! model (numpy's `equal_nan=True`; torch's `assert_close` defaults to `equal_nan=False`).

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
    /// Flat index of the element with the largest ratio (the first of equal ones), or of the
    /// first failure.
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

// ------------------------------------------------------------------------------------------------
// The policy: ULP distance, models, presets, one judging function and its report.

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element types the policy judges: `f32` and `f64` (sealed: no other implementations).
///
/// Everything the models need about a format, as f64 numbers so that one code path serves
/// both.
pub trait Float: Copy + std::fmt::Debug + PartialEq + sealed::Sealed + 'static {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Unit roundoff `u`: `2^-24` ([`U32`]) or `2^-53` ([`U64`]). Equals TOSA's
    /// `2^(-1 - frac_bits)`.
    const UNIT_ROUNDOFF: f64;
    /// Stored fraction bits: 23 or 52.
    const FRAC_BITS: u32;
    /// Smallest positive normal value (`2^-126` or `2^-1022`), TOSA's `normal_min`.
    const NORMAL_MIN: f64;
    /// Smallest positive subnormal value (`2^-149` or `2^-1074`), `eta` in the module docs:
    /// the spacing of the subnormal range.
    const SUBNORMAL_MIN: f64;
    /// The largest finite value, in `f64`.
    const MAX_FINITE: f64;

    /// The value widened to f64 (exact).
    fn to_f64(self) -> f64;
    /// `v` rounded to nearest-even into this type (overflow gives an infinity).
    fn from_f64(v: f64) -> Self;
    /// The raw bit pattern, zero-extended to 64 bits.
    fn bits(self) -> u64;
    /// The number of floats of this type between `self` and `other` (module docs, "ULP
    /// distance"): `+0` and `-0` are 0 apart, NaN is 0 from NaN, and a NaN or infinity
    /// mismatch is `u64::MAX`.
    fn ulp_distance(self, other: Self) -> u64;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    const UNIT_ROUNDOFF: f64 = U32;
    const FRAC_BITS: u32 = f32::MANTISSA_DIGITS - 1;
    const NORMAL_MIN: f64 = f32::MIN_POSITIVE as f64;
    const SUBNORMAL_MIN: f64 = f32::from_bits(1) as f64;
    const MAX_FINITE: f64 = f32::MAX as f64;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn ulp_distance(self, other: Self) -> u64 {
        ulp_distance_f32(self, other)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    const UNIT_ROUNDOFF: f64 = U64;
    const FRAC_BITS: u32 = f64::MANTISSA_DIGITS - 1;
    const NORMAL_MIN: f64 = f64::MIN_POSITIVE;
    const SUBNORMAL_MIN: f64 = f64::from_bits(1);
    const MAX_FINITE: f64 = f64::MAX;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn ulp_distance(self, other: Self) -> u64 {
        ulp_distance_f64(self, other)
    }
}

/// The special-value rules of the ULP distance; `None` when both values are finite.
fn special_distance(nan: (bool, bool), inf: (bool, bool), equal: bool) -> Option<u64> {
    if nan.0 || nan.1 {
        return Some(if nan.0 && nan.1 { 0 } else { u64::MAX });
    }
    if inf.0 || inf.1 {
        return Some(if equal { 0 } else { u64::MAX });
    }
    None
}

/// The number of f64 values between `a` and `b` along the real line (module docs, "ULP
/// distance"): 1 between neighbours, 0 between `+0` and `-0`, 2 between the smallest positive
/// and the smallest negative subnormal. NaN is 0 from any NaN and `u64::MAX` from any number;
/// an infinity is 0 from itself and `u64::MAX` from anything else (overflow is not one ulp).
pub fn ulp_distance_f64(a: f64, b: f64) -> u64 {
    let nan = (a.is_nan(), b.is_nan());
    if let Some(d) = special_distance(nan, (a.is_infinite(), b.is_infinite()), a == b) {
        return d;
    }
    // The monotone integer line: magnitude bits, negated for negative values (so +0 and -0
    // both map to 0). Magnitudes are below 2^63, so the negation cannot overflow.
    let line = |x: f64| {
        let magnitude = (x.to_bits() & !(1u64 << 63)) as i64;
        if x.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    };
    line(a).abs_diff(line(b))
}

/// [`ulp_distance_f64`] for f32 values (counting the f32 values in between).
pub fn ulp_distance_f32(a: f32, b: f32) -> u64 {
    let nan = (a.is_nan(), b.is_nan());
    if let Some(d) = special_distance(nan, (a.is_infinite(), b.is_infinite()), a == b) {
        return d;
    }
    let line = |x: f32| {
        let magnitude = i64::from(x.to_bits() & !(1u32 << 31));
        if x.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    };
    line(a).abs_diff(line(b))
}

/// How far a candidate may be from the correctly rounded exact output (the module docs derive
/// each rule; the special-value rules there apply to every model first).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Model {
    /// Bit-equal to the correctly rounded exact value, up to the sign of zero; NaN equals NaN.
    /// The rule for the exact engine. Same verdicts as `Ulp(0)`.
    Exact,
    /// At most this many ULPs ([`Float::ulp_distance`]) from the correctly rounded value.
    Ulp(u64),
    /// The componentwise bound of any direct summation, against the correctly rounded value:
    /// `|y_hat - y_cr| <= gamma_K A_hat + u |y_cr| + (K + 1)(1 + gamma_K) eta / 2` (module
    /// docs; [`componentwise_bound_cr`] evaluates it), `u` the element type's unit roundoff,
    /// `K` = `terms`, `A_hat` = `abs_sum[i]`. Sound for a candidate that sums the `K` rounded
    /// products in `F` (or wider) in any order, with or without FMA.
    Componentwise,
    /// A normwise bound over all the elements judged together: `||y_hat - y||_2 <= bound`
    /// with `bound` from [`fft::FftTerms::bound`] (one block per call); the policy adds the
    /// reference's rounding (module docs).
    Normwise {
        /// The caller's bound on `||y_hat - y||_2` against the exact `y`.
        bound: f64,
    },
    /// TOSA's dot-product rule with `KS = terms` and `bnd = abs_sum[i]`, plus its aggregate
    /// bias and variance checks over all the elements (module docs).
    Tosa,
    /// `|got - e| <= atol + rtol |e|` with `e` the correctly rounded value: a peer's own test
    /// rule ([`Preset`] holds their defaults).
    RtolAtol {
        /// Relative tolerance (`>= 0`).
        rtol: f64,
        /// Absolute tolerance (`>= 0`).
        atol: f64,
    },
}

impl Model {
    /// Whether the model reads `abs_sum` (then it must have one entry per element).
    pub fn uses_abs_sum(&self) -> bool {
        matches!(self, Model::Componentwise | Model::Tosa)
    }
}

impl From<Preset> for Model {
    fn from(p: Preset) -> Self {
        p.model()
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Model::Exact => write!(f, "exact"),
            Model::Ulp(n) => write!(f, "ulp({n})"),
            Model::Componentwise => write!(f, "componentwise"),
            Model::Normwise { bound } => write!(f, "normwise(bound {bound:e})"),
            Model::Tosa => write!(f, "tosa"),
            Model::RtolAtol { rtol, atol } => {
                write!(f, "rtol {rtol:e}, atol {atol:e}")?;
                match Preset::ALL.iter().find(|p| p.model() == *self) {
                    Some(p) => write!(f, " ({p})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Peers' default `rtol`/`atol` pairs (docs/semantics.md section 7), each reproduced from the
/// peer's own source (cited per variant). Under [`Model::RtolAtol`] the rule is
/// `|got - e| <= atol + rtol |e|`, the form of `torch.testing.assert_close` and
/// `numpy.testing.assert_allclose` (numpy's `assert_array_max_ulp(maxulp=1)` is
/// [`Model::Ulp`]`(1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `torch.testing.assert_close` for float32: rtol 1.3e-6, atol 1e-5
    /// (`torch/testing/_comparison.py`, `_DTYPE_PRECISIONS[torch.float32]`).
    TorchF32,
    /// `torch.testing.assert_close` for float64: rtol 1e-7, atol 1e-7
    /// (`_DTYPE_PRECISIONS[torch.float64]`).
    TorchF64,
    /// `torch.testing.assert_close` for float16: rtol 1e-3, atol 1e-5
    /// (`_DTYPE_PRECISIONS[torch.float16]`; here only as numbers, applied to f32/f64 data).
    TorchF16,
    /// `torch.testing.assert_close` for bfloat16: rtol 1.6e-2, atol 1e-5
    /// (`_DTYPE_PRECISIONS[torch.bfloat16]`; numbers only, like `TorchF16`).
    TorchBf16,
    /// `numpy.testing.assert_allclose(actual, desired, rtol=1e-07, atol=0)`
    /// (`numpy/testing/_private/utils.py`).
    Numpy,
    /// ONNX backend node tests: rtol 1e-3, atol 1e-7 (`onnx/backend/test/case/node/__init__.py`:
    /// `expect()` builds `TestCase(..., rtol=1e-3, atol=1e-7)`, compared with
    /// `np.testing.assert_allclose` by `Runner.assert_similar_outputs`).
    Onnx,
    /// onnxruntime's backend test series: rtol 1e-3, atol 1e-5
    /// (`onnxruntime/test/python/onnx_backend_test_series.py`: `OrtBackendTest` overrides
    /// `assert_similar_outputs` with these values).
    OnnxRuntime,
    /// JAX's test default for float32: 1e-6 for both rtol and atol
    /// (`jax/_src/public_test_util.py`, `_default_tolerance[float32]`).
    JaxF32,
    /// JAX's test default for float64: 1e-15 for both (`_default_tolerance[float64]`).
    JaxF64,
}

impl Preset {
    /// Every preset, in a fixed order.
    pub const ALL: [Preset; 9] = [
        Preset::TorchF32,
        Preset::TorchF64,
        Preset::TorchF16,
        Preset::TorchBf16,
        Preset::Numpy,
        Preset::Onnx,
        Preset::OnnxRuntime,
        Preset::JaxF32,
        Preset::JaxF64,
    ];

    /// The name used on the command line (and by [`std::str::FromStr`]).
    pub fn name(self) -> &'static str {
        match self {
            Preset::TorchF32 => "torch-f32",
            Preset::TorchF64 => "torch-f64",
            Preset::TorchF16 => "torch-f16",
            Preset::TorchBf16 => "torch-bf16",
            Preset::Numpy => "numpy",
            Preset::Onnx => "onnx",
            Preset::OnnxRuntime => "onnxruntime",
            Preset::JaxF32 => "jax-f32",
            Preset::JaxF64 => "jax-f64",
        }
    }

    /// `(rtol, atol)` as the peer sets them by default.
    pub fn tolerances(self) -> (f64, f64) {
        match self {
            Preset::TorchF32 => (1.3e-6, 1e-5),
            Preset::TorchF64 => (1e-7, 1e-7),
            Preset::TorchF16 => (1e-3, 1e-5),
            Preset::TorchBf16 => (1.6e-2, 1e-5),
            Preset::Numpy => (1e-7, 0.0),
            Preset::Onnx => (1e-3, 1e-7),
            Preset::OnnxRuntime => (1e-3, 1e-5),
            Preset::JaxF32 => (1e-6, 1e-6),
            Preset::JaxF64 => (1e-15, 1e-15),
        }
    }

    /// The [`Model::RtolAtol`] with this preset's tolerances.
    pub fn model(self) -> Model {
        let (rtol, atol) = self.tolerances();
        Model::RtolAtol { rtol, atol }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that [`Preset`]'s `FromStr` does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown tolerance preset {got:?}; expected one of {}", Preset::ALL.map(Preset::name).join(", "))]
pub struct UnknownPreset {
    /// The name given.
    pub got: String,
}

impl std::str::FromStr for Preset {
    type Err = UnknownPreset;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPreset { got: s.to_string() })
    }
}

/// Why a [`Report`] failed (the first reason found; element failures come first).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Failure {
    /// An input slice has the wrong length; nothing was compared.
    LengthMismatch {
        /// Which slice (`"exact"` or `"abs_sum"`).
        what: &'static str,
        /// Its expected length (the length of `got`).
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// A model parameter is NaN or negative (`rtol`, `atol` or the normwise `bound`); nothing
    /// was compared.
    InvalidParameter {
        /// The parameter's name.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// An `abs_sum` entry is NaN or negative, which no sum of absolute values is; nothing was
    /// compared.
    InvalidAbsSum {
        /// Flat index of the first such entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Some elements were outside their bound (or broke the special-value rules).
    Elements {
        /// How many.
        count: usize,
        /// The flat index of the first one.
        first: usize,
    },
    /// [`Model::Normwise`]: the 2-norm of the error exceeded the bound.
    Norm {
        /// `||y_hat - y_cr||_2` as computed.
        error: f64,
        /// The bound it was held to (the caller's bound plus the reference's rounding).
        bound: f64,
    },
    /// [`Model::Tosa`]: `|sum err_i| > 2 sqrt(KS T)`, a systematic bias.
    TosaBias {
        /// `sum err_i`.
        sum: f64,
        /// `2 sqrt(KS T)`.
        limit: f64,
    },
    /// [`Model::Tosa`]: `sum err_i^2 > 0.4 KS T`, too large an error variance.
    TosaVariance {
        /// `sum err_i^2`.
        sum_sq: f64,
        /// `0.4 KS T`.
        limit: f64,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::LengthMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "{what} has {got} elements, expected {expected}; nothing compared"
            ),
            Failure::InvalidParameter { what, value } => write!(
                f,
                "{what} = {value} is not a tolerance (NaN or negative); nothing compared"
            ),
            Failure::InvalidAbsSum { index, value } => write!(
                f,
                "abs_sum[{index}] = {value} is NaN or negative; nothing compared"
            ),
            Failure::Elements { count, first } => {
                write!(
                    f,
                    "{count} element(s) outside the bound, first at [{first}]"
                )
            }
            Failure::Norm { error, bound } => {
                write!(f, "error 2-norm {error:.3e} exceeds the bound {bound:.3e}")
            }
            Failure::TosaBias { sum, limit } => write!(
                f,
                "error bias |sum err| = {:.4} exceeds 2 sqrt(KS T) = {limit:.4}",
                sum.abs()
            ),
            Failure::TosaVariance { sum_sq, limit } => write!(
                f,
                "error variance sum err^2 = {sum_sq:.4} exceeds 0.4 KS T = {limit:.4}"
            ),
        }
    }
}

/// Pass, or fail with the first reason.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every check passed.
    Pass,
    /// Some check failed.
    Fail(Failure),
}

impl Verdict {
    /// Whether this is [`Verdict::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }
}

/// The element with the largest error-to-bound ratio (failing elements first, then the
/// first of equal ratios).
#[derive(Clone, Debug, PartialEq)]
pub struct Worst {
    /// Flat index into the slices.
    pub index: usize,
    /// The candidate's value (widened to f64).
    pub got: f64,
    /// The correctly rounded exact value (widened to f64).
    pub exact: f64,
    /// ULP distance between them ([`Float::ulp_distance`]).
    pub ulp: u64,
    /// `|got - exact|` computed in f64 (0 for matching special values, infinite for a
    /// special-value mismatch).
    pub error: f64,
    /// The absolute error this element was allowed: the componentwise bound, `atol + rtol |e|`,
    /// TOSA's `KS * scale` (0 where `bnd == 0`, infinite where `bnd` overflows), or the
    /// normwise bound of the whole block; `None` for [`Model::Exact`] and [`Model::Ulp`], whose
    /// limits are in ULPs (see [`Worst::ulp`]), and for special values.
    pub bound: Option<f64>,
    /// This element's error-to-bound ratio (`ulp / n` for `Ulp(n)`, `|err_i| / KS` for TOSA).
    pub ratio: f64,
    /// Extension point for a problem-level judge, which knows the problem: the
    /// `(weight, input)` pairs of this output's terms (a bias as `(b, 1)`).
    /// [`judge_elements`] sees only outputs and leaves it empty.
    pub taps: Vec<(f64, f64)>,
}

/// Aggregate checks over all elements, for the models that have them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Aggregate {
    /// [`Model::Normwise`]: the computed error norm and the bound it was held to.
    Norm {
        /// `||y_hat - y_cr||_2`.
        error: f64,
        /// The caller's bound plus the reference's rounding, inflated for evaluation.
        bound: f64,
    },
    /// [`Model::Tosa`]: the error sums, in units of the per-element scale, and their limits.
    Tosa {
        /// `sum err_i`.
        err_sum: f64,
        /// `2 sqrt(KS T)`.
        bias_limit: f64,
        /// `sum err_i^2`.
        err_sum_sq: f64,
        /// `0.4 KS T`.
        variance_limit: f64,
    },
}

/// The outcome of [`judge_elements`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The model judged under.
    pub model: Model,
    /// The element type, `"f32"` or `"f64"`.
    pub dtype: &'static str,
    /// `K`: terms per output (taps, plus one for a bias).
    pub terms: usize,
    /// Pass, or fail with the first reason.
    pub verdict: Verdict,
    /// Number of elements compared (0 when nothing was compared).
    pub elements: usize,
    /// Number of elements outside their bound or breaking the special-value rules.
    pub failed: usize,
    /// Largest ULP distance (`u64::MAX` for a special-value mismatch).
    pub max_ulp: u64,
    /// Largest error-to-bound ratio: per element for every model except [`Model::Normwise`],
    /// where it is the norm's; `ulp / n` for `Ulp(n)`; 0 or infinity for `Exact` (and
    /// against a zero bound). At most 1 when every element passes.
    pub max_ratio: f64,
    /// Elements at ULP distance 0 (correctly rounded; sign of zero ignored, NaN for NaN).
    pub correctly_rounded: usize,
    /// The element with the largest ratio (`None` when nothing was compared).
    pub worst: Option<Worst>,
    /// The aggregate checks of [`Model::Normwise`] and [`Model::Tosa`].
    pub aggregate: Option<Aggregate>,
}

impl Report {
    /// Whether the verdict is [`Verdict::Pass`].
    pub fn passed(&self) -> bool {
        self.verdict.is_pass()
    }
}

impl std::fmt::Display for Report {
    /// One paragraph: verdict, reason, counts, the aggregate checks and the worst element.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = if self.passed() { "PASS" } else { "FAIL" };
        write!(
            f,
            "{status} under {} ({}, K = {})",
            self.model, self.dtype, self.terms
        )?;
        if let Verdict::Fail(reason) = &self.verdict {
            write!(f, ": {reason}")?;
        }
        write!(
            f,
            ". {} elements, {} correctly rounded, max ",
            self.elements, self.correctly_rounded
        )?;
        if self.max_ulp == u64::MAX {
            write!(f, "ulp inf")?;
        } else {
            write!(f, "{} ulp", self.max_ulp)?;
        }
        write!(f, ", max error/bound {:.3}", self.max_ratio)?;
        match &self.aggregate {
            Some(Aggregate::Norm { error, bound }) => {
                write!(f, ", error 2-norm {error:.3e} (bound {bound:.3e})")?
            }
            Some(Aggregate::Tosa {
                err_sum,
                bias_limit,
                err_sum_sq,
                variance_limit,
            }) => write!(
                f,
                ", sum err {err_sum:.3} (limit {bias_limit:.3}), \
                 sum err^2 {err_sum_sq:.3} (limit {variance_limit:.3})"
            )?,
            None => {}
        }
        if let Some(w) = &self.worst {
            // Values in their own type's shortest form (f32 data widened to f64 is exact).
            let show = |v: f64| {
                if self.dtype == "f32" {
                    format!("{:?}", v as f32)
                } else {
                    format!("{v:?}")
                }
            };
            write!(
                f,
                ". Worst at [{}]: got {} vs exact {}, ",
                w.index,
                show(w.got),
                show(w.exact)
            )?;
            if w.ulp == u64::MAX {
                write!(f, "non-finite mismatch")?;
            } else {
                write!(f, "{} ulp, error {:.3e}", w.ulp, w.error)?;
            }
            if let Some(b) = w.bound {
                write!(f, ", bound {b:.3e}")?;
            }
        }
        write!(f, ".")
    }
}

/// One element's result under a per-element rule.
struct Judged {
    ok: bool,
    error: f64,
    bound: Option<f64>,
    ratio: f64,
}

/// One element under `model`: the overflow rule, then the special-value rules, then the
/// model's own (module docs); TOSA's running sums are updated.
fn judge_element<F: Float>(
    model: &Model,
    g: F,
    e: F,
    a: f64,
    terms: usize,
    err_sum: &mut f64,
    err_sum_sq: &mut f64,
) -> Judged {
    let (gv, ev) = (g.to_f64(), e.to_f64());
    let ulp = g.ulp_distance(e);
    let overflow = matches!(model, Model::Componentwise | Model::Tosa)
        && !ev.is_nan()
        && a * (1.0 + gamma(terms, F::UNIT_ROUNDOFF)) >= F::MAX_FINITE;
    if overflow {
        // Module docs: a partial sum may overflow; not judged.
        Judged {
            ok: true,
            error: 0.0,
            bound: None,
            ratio: 0.0,
        }
    } else if !(gv.is_finite() && ev.is_finite()) {
        // Special values (module docs): distance 0 is exactly a match.
        let ok = ulp == 0;
        let error = if ok { 0.0 } else { f64::INFINITY };
        Judged {
            ok,
            error,
            bound: None,
            ratio: error,
        }
    } else {
        judge_finite::<F>(model, gv, ev, ulp, a, terms, err_sum, err_sum_sq)
    }
}

/// Per element, its error over its bound under `model` (the `ratio` of [`Worst`]): at most 1
/// where the element passes; infinite for a special-value mismatch; 0 where nothing is
/// judged (an overflow is possible). For [`Model::Normwise`], the element's error over the
/// whole bound. Arguments as [`judge_elements`] (lengths must match; missing `abs_sum`
/// entries count as 0).
pub fn element_ratios<F: Float>(
    model: &Model,
    got: &[F],
    exact: &[F],
    abs_sum: &[f64],
    terms: usize,
) -> Vec<f64> {
    let (mut s, mut s2) = (0.0, 0.0);
    got.iter()
        .zip(exact)
        .enumerate()
        .map(|(i, (&g, &e))| {
            let a = abs_sum.get(i).copied().unwrap_or(0.0);
            let j = judge_element(model, g, e, a, terms, &mut s, &mut s2);
            match model {
                Model::Normwise { bound } if j.error.is_finite() => ratio_of(j.error, *bound),
                _ => j.ratio,
            }
        })
        .collect()
}

/// `error / bound` without NaN: 0 for no error, infinite for an error against a zero bound,
/// 0 (finite error) or 1 (infinite error) against an infinite bound.
fn ratio_of(error: f64, bound: f64) -> f64 {
    if error == 0.0 {
        0.0
    } else if bound.is_infinite() {
        if error.is_infinite() { 1.0 } else { 0.0 }
    } else if bound == 0.0 {
        f64::INFINITY
    } else {
        error / bound
    }
}

/// The [`Model::Componentwise`] bound on `|y_hat - y_cr|` for one output of element type `F`
/// (module docs): `(g A_hat + u |y_cr| + (K + 2)(1 + g) eta) (1 + 2^-48)`, with
/// `g = gamma_K(u)`, `K = terms`, `A_hat = abs_sum` (an upper bound on `sum |w| |x| (+ |b|)`),
/// `eta` = [`Float::SUBNORMAL_MIN`] and `y_cr` the correctly rounded exact output. Infinite
/// when `gamma_K` or `abs_sum` is.
pub fn componentwise_bound_cr<F: Float>(terms: usize, abs_sum: f64, y_cr: f64) -> f64 {
    let u = F::UNIT_ROUNDOFF;
    let g = gamma(terms, u);
    let underflow = (terms as f64 + 2.0) * (1.0 + g) * F::SUBNORMAL_MIN;
    (g * abs_sum + u * y_cr.abs() + underflow) * (1.0 + 2f64.powi(-48))
}

/// The one policy function: judges `got` against `exact` element by element under `model`.
///
/// - `exact[i]` is the **correctly rounded** exact output (the exact value rounded once to
///   nearest-even into `F`).
/// - `abs_sum[i]` is an **upper bound**, in f64, on the exact `sum |w| |x|` (plus `|b|` with a
///   bias) of output `i`, already rounded up by the caller (for f32 data, the f64 sum of the
///   exact f64 products times `1 + gamma_(K+1)(2^-53)` is one). Read by
///   [`Model::Componentwise`] and by [`Model::Tosa`] (as `bnd`); the other models ignore it
///   and also accept it empty.
/// - `terms` is `K`: taps per output, plus one with a bias (TOSA's `KS`).
///
/// Never panics: a length mismatch, an invalid model parameter or an invalid `abs_sum` entry
/// gives a failing [`Report`] with the reason and nothing compared. The special-value rules
/// of the module docs come first for every model. [`Worst::taps`] is left empty.
pub fn judge_elements<F: Float>(
    model: &Model,
    got: &[F],
    exact: &[F],
    abs_sum: &[f64],
    terms: usize,
) -> Report {
    let mut report = Report {
        model: model.clone(),
        dtype: F::NAME,
        terms,
        verdict: Verdict::Pass,
        elements: 0,
        failed: 0,
        max_ulp: 0,
        max_ratio: 0.0,
        correctly_rounded: 0,
        worst: None,
        aggregate: None,
    };
    if let Err(reason) = validate(model, got.len(), exact.len(), abs_sum) {
        report.verdict = Verdict::Fail(reason);
        return report;
    }
    report.elements = got.len();
    let normwise = matches!(model, Model::Normwise { .. });
    let ks = terms as f64;
    let mut first_failure = None;
    let mut worst_key = (false, f64::NEG_INFINITY);
    // TOSA's sums, in units of the per-element scale.
    let (mut err_sum, mut err_sum_sq) = (0.0f64, 0.0f64);

    for (i, (&g, &e)) in got.iter().zip(exact).enumerate() {
        // Present whenever the model reads it (checked by `validate`).
        let a = abs_sum.get(i).copied().unwrap_or(0.0);
        let (gv, ev) = (g.to_f64(), e.to_f64());
        let ulp = g.ulp_distance(e);
        report.max_ulp = report.max_ulp.max(ulp);
        if ulp == 0 {
            report.correctly_rounded += 1;
        }
        let judged = judge_element(model, g, e, a, terms, &mut err_sum, &mut err_sum_sq);
        if !judged.ok {
            report.failed += 1;
            first_failure.get_or_insert(i);
        }
        // Normwise: the worst element is the largest error (its ratio is set below).
        let key = (
            !judged.ok,
            if normwise { judged.error } else { judged.ratio },
        );
        let worse = match (key.0, worst_key.0) {
            (true, false) => true,
            (false, true) => false,
            _ => key.1 > worst_key.1,
        };
        if worse {
            worst_key = key;
            report.worst = Some(Worst {
                index: i,
                got: gv,
                exact: ev,
                ulp,
                error: judged.error,
                bound: judged.bound,
                ratio: judged.ratio,
                taps: Vec::new(),
            });
        }
        report.max_ratio = report.max_ratio.max(judged.ratio);
    }

    let mut reasons = Vec::new();
    if let Some(first) = first_failure {
        reasons.push(Failure::Elements {
            count: report.failed,
            first,
        });
    }
    match model {
        Model::Normwise { bound } => {
            let (error, held_to) = normwise_check(*bound, got, exact);
            report.max_ratio = ratio_of(error, held_to);
            if let Some(w) = report.worst.as_mut().filter(|w| w.error.is_finite()) {
                w.bound = Some(held_to);
                w.ratio = ratio_of(w.error, held_to);
            }
            let within = error <= held_to; // false for NaN
            if !within {
                reasons.push(Failure::Norm {
                    error,
                    bound: held_to,
                });
            }
            report.aggregate = Some(Aggregate::Norm {
                error,
                bound: held_to,
            });
        }
        Model::Tosa => {
            let t = report.elements as f64;
            let bias_limit = 2.0 * (ks * t).sqrt();
            let variance_limit = 0.4 * ks * t;
            // Written as "within" tests so that a NaN sum fails.
            let unbiased = err_sum.abs() <= bias_limit;
            let small_variance = err_sum_sq <= variance_limit;
            if !unbiased {
                reasons.push(Failure::TosaBias {
                    sum: err_sum,
                    limit: bias_limit,
                });
            }
            if !small_variance {
                reasons.push(Failure::TosaVariance {
                    sum_sq: err_sum_sq,
                    limit: variance_limit,
                });
            }
            report.aggregate = Some(Aggregate::Tosa {
                err_sum,
                bias_limit,
                err_sum_sq,
                variance_limit,
            });
        }
        _ => {}
    }
    if let Some(reason) = reasons.into_iter().next() {
        report.verdict = Verdict::Fail(reason);
    }
    report
}

/// One element with finite `got` (`gv`) and `exact` (`ev`) under a per-element rule
/// (Normwise elements always pass here; their check is over the block). TOSA's error in scale
/// units is added to the running sums.
#[allow(clippy::too_many_arguments)]
fn judge_finite<F: Float>(
    model: &Model,
    gv: f64,
    ev: f64,
    ulp: u64,
    abs_sum: f64,
    terms: usize,
    err_sum: &mut f64,
    err_sum_sq: &mut f64,
) -> Judged {
    let ks = terms as f64;
    let error = (gv - ev).abs();
    let against = |bound: f64| Judged {
        ok: error <= bound,
        error,
        bound: Some(bound),
        ratio: ratio_of(error, bound),
    };
    match model {
        Model::Exact => Judged {
            ok: ulp == 0,
            error,
            bound: None,
            ratio: if ulp == 0 { 0.0 } else { f64::INFINITY },
        },
        Model::Ulp(max) => Judged {
            ok: ulp <= *max,
            error,
            bound: None,
            ratio: ratio_of(ulp as f64, *max as f64),
        },
        Model::Componentwise => against(componentwise_bound_cr::<F>(terms, abs_sum, ev)),
        Model::RtolAtol { rtol, atol } => against(atol + rtol * ev.abs()),
        Model::Tosa => {
            if F::from_f64(abs_sum).to_f64().is_infinite() {
                // TOSA: the dot product may overflow; no accuracy limit.
                Judged {
                    ok: true,
                    error,
                    bound: Some(f64::INFINITY),
                    ratio: 0.0,
                }
            } else if abs_sum == 0.0 {
                let ok = gv == 0.0 && ev == 0.0;
                Judged {
                    ok,
                    error,
                    bound: Some(0.0),
                    ratio: if ok { 0.0 } else { f64::INFINITY },
                }
            } else {
                let scale = (abs_sum * F::UNIT_ROUNDOFF).max(F::NORMAL_MIN);
                let err = (gv - ev) / scale;
                *err_sum += err;
                *err_sum_sq += err * err;
                Judged {
                    ok: err.abs() <= ks,
                    error,
                    bound: Some(ks * scale),
                    ratio: ratio_of(err.abs(), ks),
                }
            }
        }
        Model::Normwise { .. } => Judged {
            ok: true,
            error,
            bound: None,
            ratio: 0.0,
        },
    }
}

/// A tolerance parameter must be a non-negative number (infinity allowed).
fn check_parameter(what: &'static str, value: f64) -> Result<(), Failure> {
    if value.is_nan() || value < 0.0 {
        Err(Failure::InvalidParameter { what, value })
    } else {
        Ok(())
    }
}

/// Lengths, model parameters and `abs_sum` entries, checked before anything is compared.
fn validate(model: &Model, got: usize, exact: usize, abs_sum: &[f64]) -> Result<(), Failure> {
    if exact != got {
        return Err(Failure::LengthMismatch {
            what: "exact",
            expected: got,
            got: exact,
        });
    }
    let needs = model.uses_abs_sum();
    if abs_sum.len() != got && (needs || !abs_sum.is_empty()) {
        return Err(Failure::LengthMismatch {
            what: "abs_sum",
            expected: got,
            got: abs_sum.len(),
        });
    }
    match model {
        Model::RtolAtol { rtol, atol } => {
            check_parameter("rtol", *rtol)?;
            check_parameter("atol", *atol)?;
        }
        Model::Normwise { bound } => check_parameter("bound", *bound)?,
        _ => {}
    }
    if needs {
        let bad = abs_sum.iter().position(|a| a.is_nan() || *a < 0.0);
        if let Some(index) = bad {
            return Err(Failure::InvalidAbsSum {
                index,
                value: abs_sum[index],
            });
        }
    }
    Ok(())
}

/// [`Model::Normwise`]: the computed `||got - exact||_2` ([`fft::distance`]: matching special
/// values left out, any other non-finite difference makes it infinite) and the bound it is
/// held to (module docs).
fn normwise_check<F: Float>(bound: f64, got: &[F], exact: &[F]) -> (f64, f64) {
    let a: Vec<f64> = got.iter().map(|v| v.to_f64()).collect();
    let b: Vec<f64> = exact.iter().map(|v| v.to_f64()).collect();
    let error = fft::distance(&a, &b);
    let reference = fft::l2_upper(b.iter().copied().filter(|v| v.is_finite()));
    let t = got.len();
    let held_to = (bound + F::UNIT_ROUNDOFF * reference + (t as f64).sqrt() * F::SUBNORMAL_MIN)
        * (1.0 + gamma(t + 4, U64))
        * (1.0 + 2f64.powi(-48));
    (error, held_to)
}

/// Per output of `p` (row-major), an upper bound on `A = sum |w| |x| (+ |b|)` over its finite
/// terms, the `abs_sum` of [`judge_elements`]: the correctly rounded sum of the magnitudes
/// (the exact engine in `f64`, with every non-finite value, boundary constant included, taken
/// as 0: such a term decides the special value, not the error) rounded up by `next_up`, and 0
/// when it is 0 (for `f32` data that means every term is zero; for `f64`, `A < 2^-1075`
/// also rounds to 0, which the underflow term of the bound covers).
pub fn abs_sums<F>(p: &crate::reference::Problem<'_, F>) -> Result<Vec<f64>, crate::ConvError>
where
    F: Float + crate::engine::exact::ExactElement,
{
    use crate::engine::ConvEngine;
    let abs = |v: F| {
        let v = v.to_f64().abs();
        if v.is_finite() { v } else { 0.0 }
    };
    let (x, w) = (p.input.mapv(abs), p.weight.mapv(abs));
    let b = p.bias.as_ref().map(|b| b.mapv(abs));
    let mut q = crate::reference::Problem::new(x.view(), w.view()).spec(p.spec.map_constant(abs));
    if let Some(b) = &b {
        q = q.bias(b.view());
    }
    let a = crate::engine::exact::ExactEngine::new().conv(&q)?;
    Ok(a.iter()
        .map(|&v| if v == 0.0 { 0.0 } else { v.next_up() })
        .collect())
}

/// Judges `got`, a candidate result of problem `p`, under `model`: the one policy function
/// applied with everything it needs taken from the problem.
///
/// - the correctly rounded result from [`crate::engine::exact::ExactEngine`];
/// - `A = sum |w| |x| + |b|` per output over its finite terms ([`abs_sums`]: the same engine
///   in `f64` on the magnitudes, boundary constant included, rounded up: the correctly
///   rounded `A_cr` is within half an ulp of `A`, so `A <= next_up(A_cr)`);
/// - `K` = products per output (`C/G` times the kernel size), plus one with a bias;
/// - the worst element's terms ([`Worst::taps`], the bias as `(b, 1)` first) from
///   [`crate::engine::exact::output_terms`].
///
/// Fails with the problem's own [`ConvError`](crate::ConvError) when the problem is invalid, and with
/// [`ConvError::ShapeMismatch`](crate::ConvError::ShapeMismatch) when `got` is not shaped like its output; otherwise the
/// verdict is in the [`Report`].
pub fn judge<F>(
    p: &crate::reference::Problem<'_, F>,
    got: ndarray::ArrayViewD<'_, F>,
    model: &Model,
) -> Result<Report, crate::ConvError>
where
    F: Float + crate::engine::exact::ExactElement,
{
    use crate::engine::ConvEngine;
    use crate::engine::exact::{ExactEngine, output_terms};
    let engine = ExactEngine::new();
    let exact = engine.conv(p)?;
    if got.shape() != exact.shape() {
        return Err(crate::ConvError::ShapeMismatch {
            what: "result to judge",
            expected: exact.shape().to_vec(),
            got: got.shape().to_vec(),
        });
    }
    let abs_sum = abs_sums(p)?;
    let terms = p.weight.shape()[1..].iter().product::<usize>() + usize::from(p.bias.is_some());
    let got: Vec<F> = got.iter().copied().collect();
    let exact: Vec<F> = exact.iter().copied().collect();
    let mut report = judge_elements(model, &got, &exact, &abs_sum, terms);
    if let Some(worst) = &mut report.worst {
        worst.taps = output_terms(p, worst.index)?
            .into_iter()
            .map(|(w, x)| (w.to_f64(), x.to_f64()))
            .collect();
    }
    Ok(report)
}

// ------------------------------------------------------------------------------ transposed

/// The correctly rounded result of a transposed convolution: every output's exact value
/// (the sum of its literal terms, [`crate::layer::conv_transpose`]) rounded once to
/// nearest-even.
///
/// Finite outputs come from [`crate::engine::exact::ExactEngine`] on the direct convolution
/// with the same exact output ([`crate::layer::TransposeProblem::as_conv`]), with NaN and
/// infinities set to 0 there. Which outputs are NaN or infinite, and their sign, follows from
/// the literal terms alone (IEEE sums of infinities do not depend on the order): the literal
/// formula in `f64` on the data with every finite nonzero value replaced by its sign decides
/// them, so a stuffed zero never meets an infinite weight.
pub fn exact_transpose<F>(
    p: &crate::layer::TransposeProblem<'_, F>,
) -> Result<ndarray::ArrayD<F>, crate::ConvError>
where
    F: Float + crate::engine::exact::ExactElement,
{
    use crate::engine::ConvEngine;
    use crate::engine::exact::ExactEngine;
    let finite = |v: &F| v.to_f64().is_finite();
    let all_finite = p.input.iter().all(finite)
        && p.weight.iter().all(finite)
        && p.bias.as_ref().is_none_or(|b| b.iter().all(finite));
    if all_finite {
        return ExactEngine::new().conv(&p.as_conv()?.problem());
    }
    let zeroed = |v: &F| if finite(v) { *v } else { F::from_f64(0.0) };
    let (x, w) = (p.input.map(zeroed), p.weight.map(zeroed));
    let b = p.bias.as_ref().map(|b| b.map(zeroed));
    let mut q = crate::layer::TransposeProblem::new(x.view(), w.view()).spec(p.spec.clone());
    q.bias = b.as_ref().map(|b| b.view());
    let mut exact = ExactEngine::new().conv(&q.as_conv()?.problem())?;
    let sign = |v: &F| {
        let v = v.to_f64();
        if !v.is_finite() || v == 0.0 {
            v
        } else {
            v.signum()
        }
    };
    let (xs, ws) = (p.input.map(sign), p.weight.map(sign));
    let bs = p.bias.as_ref().map(|b| b.map(sign));
    let mut r = crate::layer::TransposeProblem::new(xs.view(), ws.view()).spec(p.spec.clone());
    r.bias = bs.as_ref().map(|b| b.view());
    let specials = crate::layer::transpose_literal(&r)?;
    for (e, s) in exact.iter_mut().zip(specials.iter()) {
        if !s.is_finite() {
            *e = F::from_f64(*s);
        }
    }
    Ok(exact)
}

/// The largest number of literal terms of any output of a transposed convolution (`K` of
/// the componentwise bound: input channels per group times the taps that reach it, plus one
/// with a bias).
pub fn transpose_terms<T: Clone>(
    p: &crate::layer::TransposeProblem<'_, T>,
) -> Result<usize, crate::ConvError> {
    let geo = p.validate()?;
    let mut k = geo.in_per_group;
    for a in &geo.axes {
        let most = (0..a.output)
            .map(|o| {
                (0..a.kernel)
                    .filter(|&t| {
                        let pos = o as i128 + a.pad_begin - (t * a.dilation) as i128;
                        let s = a.stride as i128;
                        pos >= 0 && pos % s == 0 && pos / s < a.input as i128
                    })
                    .count()
            })
            .max()
            .unwrap_or(0);
        k = k.saturating_mul(most);
    }
    Ok(k + usize::from(p.bias.is_some()))
}

/// The literal terms `(w, x)` of output `index` (row-major over `(N, C_out, out...)`) of a
/// transposed convolution, the bias first as `(b, 1)`; empty past the end.
pub fn transpose_output_terms<F: Float>(
    p: &crate::layer::TransposeProblem<'_, F>,
    index: usize,
) -> Result<Vec<(F, F)>, crate::ConvError> {
    let geo = p.validate()?;
    let shape = &geo.output_shape;
    if index >= shape.iter().product::<usize>() {
        return Ok(Vec::new());
    }
    let mut idx = vec![0usize; shape.len()];
    let mut rest = index;
    for (i, &n) in shape.iter().enumerate().rev() {
        idx[i] = rest % n;
        rest /= n;
    }
    let (n, o) = (idx[0], idx[1]);
    let (cig, cog) = (geo.in_per_group, geo.out_per_group);
    let (g, oc) = (o / cog, o % cog);
    let mut terms = Vec::new();
    if let Some(b) = &p.bias {
        terms.push((b[o], F::from_f64(1.0)));
    }
    use ndarray::Dimension;
    let kernel = ndarray::IxDyn(&p.weight.shape()[2..]);
    for ic in 0..cig {
        let c = g * cig + ic;
        'taps: for k in ndarray::indices(kernel.clone()) {
            let mut xi = vec![n, c];
            for (axis, a) in geo.axes.iter().enumerate() {
                let pos = idx[2 + axis] as i128 + a.pad_begin - (k[axis] * a.dilation) as i128;
                let s = a.stride as i128;
                if pos < 0 || pos % s != 0 || pos / s >= a.input as i128 {
                    continue 'taps;
                }
                xi.push((pos / s) as usize);
            }
            let mut wi = vec![c, oc];
            wi.extend_from_slice(k.slice());
            terms.push((p.weight[ndarray::IxDyn(&wi)], p.input[ndarray::IxDyn(&xi)]));
        }
    }
    Ok(terms)
}

/// [`judge`] for a transposed convolution: `got` (shaped `(N, C_out, out...)`) against
/// [`exact_transpose`], with `A = sum |w| |x| + |b|` over the literal terms (the equivalent
/// direct convolution's, whose extra terms are zero) and `K` from [`transpose_terms`].
pub fn judge_transpose<F>(
    p: &crate::layer::TransposeProblem<'_, F>,
    got: ndarray::ArrayViewD<'_, F>,
    model: &Model,
) -> Result<Report, crate::ConvError>
where
    F: Float + crate::engine::exact::ExactElement,
{
    let exact = exact_transpose(p)?;
    if got.shape() != exact.shape() {
        return Err(crate::ConvError::ShapeMismatch {
            what: "result to judge",
            expected: exact.shape().to_vec(),
            got: got.shape().to_vec(),
        });
    }
    let abs_sum = abs_sums(&p.as_conv()?.problem())?;
    let terms = transpose_terms(p)?;
    let got: Vec<F> = got.iter().copied().collect();
    let exact: Vec<F> = exact.iter().copied().collect();
    let mut report = judge_elements(model, &got, &exact, &abs_sum, terms);
    if let Some(worst) = &mut report.worst {
        worst.taps = transpose_output_terms(p, worst.index)?
            .into_iter()
            .map(|(w, x)| (w.to_f64(), x.to_f64()))
            .collect();
    }
    Ok(report)
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

    #[test]
    fn float_constants_match_the_formats() {
        assert_eq!(<f32 as Float>::SUBNORMAL_MIN, 2f64.powi(-149));
        assert_eq!(
            <f64 as Float>::SUBNORMAL_MIN,
            2f64.powi(-1000) * 2f64.powi(-74)
        );
        assert_eq!(<f64 as Float>::SUBNORMAL_MIN / 2.0, 0.0);
        assert_eq!(<f32 as Float>::NORMAL_MIN, 2f64.powi(-126));
        assert_eq!(<f64 as Float>::NORMAL_MIN, 2f64.powi(-1022));
        assert_eq!(<f32 as Float>::UNIT_ROUNDOFF, f64::from(f32::EPSILON) / 2.0);
        assert_eq!(<f64 as Float>::UNIT_ROUNDOFF, f64::EPSILON / 2.0);
        // TOSA's 2^(-1 - frac_bits) is the unit roundoff.
        assert_eq!(2f64.powi(-1 - 23), <f32 as Float>::UNIT_ROUNDOFF);
        assert_eq!(<f32 as Float>::FRAC_BITS, 23);
        assert_eq!(<f64 as Float>::FRAC_BITS, 52);
        assert_eq!(1.5f32.bits(), u64::from(1.5f32.to_bits()));
        assert_eq!(<f32 as Float>::from_f64(1e300), f32::INFINITY);
    }

    #[test]
    fn ratios_are_never_nan() {
        assert_eq!(ratio_of(0.0, 0.0), 0.0);
        assert_eq!(ratio_of(1.0, 0.0), f64::INFINITY);
        assert_eq!(ratio_of(f64::INFINITY, f64::INFINITY), 1.0);
        assert_eq!(ratio_of(1.0, f64::INFINITY), 0.0);
        assert_eq!(ratio_of(1.0, 4.0), 0.25);
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
    }

    #[test]
    fn models_that_ignore_abs_sum_accept_it_empty() {
        assert_eq!(validate(&Model::Ulp(1), 3, 3, &[]), Ok(()));
        assert!(validate(&Model::Ulp(1), 3, 3, &[1.0]).is_err());
        assert!(validate(&Model::Componentwise, 3, 3, &[]).is_err());
        assert!(validate(&Model::Tosa, 1, 1, &[f64::NAN]).is_err());
        let bad = Model::RtolAtol {
            rtol: -1.0,
            atol: 0.0,
        };
        assert!(validate(&bad, 0, 0, &[]).is_err());
    }
}

// ------------------------------------------------------------------------------------------------
// FFT normwise bound (issue "FFT engine"): appended section, see the `fft` module docs.

/// Judges two results `a` and `b` of one problem against each other, each of which claims to
/// be within `model` of the same correctly rounded result (a metamorphic relation: the same
/// exact value computed two ways). By the triangle inequality they may differ by twice the
/// model's allowance; `abs_sum` and `terms` are those of [`judge_elements`]. Per element:
///
/// | model | `a` and `b` agree when |
/// |---|---|
/// | `Exact` | ULP distance 0 (NaN equals NaN, the sign of zero ignored) |
/// | `Ulp(n)` | ULP distance at most `2n` |
/// | `Componentwise`, `Tosa` | `\|a - b\| <= 2 (g A + u m + (K + 2)(1 + g) eta) / (1 - u)`, `m = max(\|a\|, \|b\|)` |
/// | `RtolAtol` | `\|a - b\| <= 2 (atol + rtol m) / (1 - rtol)` |
/// | `Normwise { bound }` | the 2-norm of `a - b` at most `2 bound` (plus the roundings of its evaluation) |
///
/// (`|y_cr| <= m + B` for the allowance `B` of either side gives the `1 - u` and `1 - rtol`.)
/// Special values must match exactly, except where `Componentwise` and `Tosa` do not judge
/// (an overflow is possible: module docs). Returns the index of the first element that does not
/// agree and why, or `None`; lengths that differ fail at index 0.
pub fn judge_pair<F: Float>(
    model: &Model,
    a: &[F],
    b: &[F],
    abs_sum: &[f64],
    terms: usize,
) -> Option<(usize, String)> {
    if a.len() != b.len() {
        return Some((0, format!("{} values against {}", a.len(), b.len())));
    }
    if let Model::Normwise { bound } = model {
        if let Some(i) = (0..a.len()).find(|&i| {
            let (x, y) = (a[i].to_f64(), b[i].to_f64());
            !(x.is_finite() && y.is_finite()) && a[i].ulp_distance(b[i]) != 0
        }) {
            return Some((
                i,
                format!("{:?} against {:?}", a[i].to_f64(), b[i].to_f64()),
            ));
        }
        let (error, held_to) = normwise_check(2.0 * bound, a, b);
        return (error > held_to).then(|| {
            (
                0,
                format!("2-norm of the difference {error:e} above {held_to:e}"),
            )
        });
    }
    let u = F::UNIT_ROUNDOFF;
    let g = gamma(terms, u);
    let eta = (terms as f64 + 2.0) * (1.0 + g) * F::SUBNORMAL_MIN;
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let ulp = x.ulp_distance(y);
        let (xv, yv) = (x.to_f64(), y.to_f64());
        let m = xv.abs().max(yv.abs());
        let d = (xv - yv).abs();
        let a_i = abs_sum.get(i).copied().unwrap_or(f64::INFINITY);
        let overflow = matches!(model, Model::Componentwise | Model::Tosa)
            && !(xv.is_nan() && yv.is_nan())
            && a_i * (1.0 + g) >= F::MAX_FINITE;
        let ok = if overflow {
            // As in `judge_elements`: a partial sum may overflow.
            true
        } else if !(xv.is_finite() && yv.is_finite()) {
            ulp == 0
        } else {
            match model {
                Model::Exact => ulp == 0,
                Model::Ulp(n) => ulp <= n.saturating_mul(2),
                Model::Componentwise | Model::Tosa => {
                    d <= 2.0 * (g * a_i + u * m + eta) / (1.0 - u) * (1.0 + 2f64.powi(-48))
                }
                Model::RtolAtol { rtol, atol } => {
                    *rtol < 1.0
                        && d <= 2.0 * (atol + rtol * m) / (1.0 - rtol) * (1.0 + 2f64.powi(-48))
                }
                Model::Normwise { .. } => true,
            }
        };
        if !ok {
            return Some((i, format!("{xv:?} against {yv:?} ({ulp} ulp apart)")));
        }
    }
    None
}

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
    //! term covers rounding a final result into f64's subnormal range). A float32 result is
    //! rounded once more, to f32: relative (`u32`, step 7) only in f32's normal range, below it
    //! up to half f32's smallest subnormal, `2^-150`, per element, so the bound adds
    //! `2^-150 sqrt(P)` to a block of `P` float32 outputs (without it, an exact result of
    //! `2^-150 + 2^-298` returned as 0 was outside a bound of `4e-53`: tests/edge_cases.rs).
    //! A result that overflows even after the scaling is recomputed by the correctly rounded
    //! engine, not the reference, whose partial sums can overflow where the exact result is
    //! finite.
    //!
    //! **Single precision** ([`TransformPrecision::Single`]: scipy.fft and numpy 2 on float32
    //! data, torch.fft and cuFFT on float32 tensors). Steps 1-7 hold with `u = 2^-24` for every
    //! rounding (twiddles, butterflies, products, the channel sum, `1/N`, the bias) and no
    //! final rounding (the result is already single). Twiddles: computed the way rustfft does
    //! but in single precision, `fl(PI)` has relative error below `0.47 u`, so
    //! `|theta_hat - theta| <= 2 pi (2.47 u)` and `mu <= 15.6 u + sqrt(2) u < 17 u`
    //! ([`TWIDDLE_ERROR_SINGLE`]); twiddles computed in double and rounded to single (rustfft
    //! and pocketfft for float data) are within `sqrt(2) u / 2` and covered. Assumption (T)
    //! is measured for rustfft's f32 c2c and realfft's f32 r2c (`tests/fft.rs`, every 5-smooth
    //! length up to 1296 and 2048, 3000, 4096): at most `0.031 phi_n`. Such peers do not
    //! rescale their data, so underflow is bounded in absolute terms: a multiplication whose
    //! result is below `2^-126` adds at most `2^-150`, an addition nothing; an error in the
    //! transform of `x_c` reaches an output with gain at most `2 (1 + phi)^3 ||w_c||_1` (it
    //! reaches each bin, a half-spectrum bin counting twice, with unit weight, meets a kernel
    //! bin of modulus at most `(1 + phi) ||w_c||_1`, and the inverse divides a sum of `N` bins
    //! by `N`), one in the kernel's transform at most `2 (1 + phi)^3 ||x_c||_1`, one later at
    //! most 2. With `G = max(1, max_c ||x_c||_1, max_c ||w_c||_1)`
    //! ([`FftTerms::underflow_gain`]) and fewer than `10 (C + 1) N (log2 N + 2)`
    //! multiplications per block set (times `k` overlapping blocks), each element's underflow
    //! error is below `2^-148` times their count times `G`, plus `2^-150` for rounding the
    //! result; the block's 2-norm is `sqrt(P)` times that. Spectra can overflow when
    //! `||x_c||_1 ||w_c||_1` nears `2^128`; the result is then not finite and fails against a
    //! finite exact result, as it should. Measured (`tests/fft.rs`, a float32 FFT convolution
    //! at scipy's 5-smooth lengths on uniform, twelve-decade and cancelling data): error /
    //! bound at most `7.5e-3`, while 4 of 221 results exceed the double-precision model.
    //!
    //! **Whose transform lengths.** The bound is evaluated at the lengths and blocks our
    //! engine picks (3-smooth, at least the linear extent per axis). A peer that transforms at
    //! longer lengths has up to one more radix-2 stage per axis in its worst case; the bound's
    //! slack (observed errors stay below `0.03` of it) absorbs that in practice, but it is not
    //! proved for such a peer.
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

    use super::{U32, U64, gamma};
    use num_complex::Complex;

    /// The twiddle-factor error bound `mu` of rustfft and realfft in f64 (absolute, derived in
    /// the module docs): `16.5 u`.
    pub const TWIDDLE_ERROR: f64 = 16.5 * U64;

    /// The twiddle-factor error bound `mu` of a single-precision FFT that computes its twiddles
    /// the way rustfft does, in single precision (module docs, "Single precision"): `17 u`
    /// with `u = 2^-24`. Twiddles computed more accurately (pocketfft computes them in double
    /// for float data) are within it too.
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

        /// `eta = mu + gamma_4 (sqrt(2) + mu)`: the relative error of one radix-2 stage
        /// (Higham, Theorem 24.2).
        pub fn stage_error(self) -> f64 {
            let mu = self.twiddle_error();
            mu + gamma(4, self.unit_roundoff()) * (std::f64::consts::SQRT_2 + mu)
        }

        /// `phi_N = (1 + eta)^(log2 N) - 1`: the normwise (and componentwise) relative error
        /// of one N-D transform of total length `N` (the product of the per-axis lengths).
        pub fn transform_error(self, total_len: f64) -> f64 {
            if total_len <= 1.0 {
                return 0.0;
            }
            // log2 rounded up by a few ulps so that the exponent is not underestimated.
            let stages = total_len.log2() * (1.0 + 4.0 * U64);
            (stages * self.stage_error().ln_1p()).exp_m1()
        }

        /// `beta = (1 + u)^2 (1 + phi)^3 (1 + sqrt(2) gamma_2) (1 + gamma_(C-1)) - 1`: the
        /// factor of the mass in the bound of one block without bias (module docs, steps
        /// 4-6).
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
        /// element (`k` in the module docs); 1 for a single transform.
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
        /// to an output (module docs, "Single precision"). Ignored in double precision.
        pub underflow_gain: f64,
    }

    impl FftTerms {
        /// The bound on `||y_hat - y||_2` over the block, hence on every element's absolute
        /// error (module docs). Infinite when the mass is.
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

        /// The underflow term of a single-precision block (module docs): `2^-148` per
        /// multiplication (fewer than `10 (C + 1) N (log2 N + 2)` per transform set, times
        /// the `k` overlapping blocks) times the gain, per element, and `sqrt(P)` over the
        /// block, plus `2^-150 sqrt(P)` for the final rounding.
        fn single_underflow(&self) -> f64 {
            let n = self.transform_len.max(1.0);
            let multiplications =
                10.0 * (self.channels as f64 + 1.0) * n * (n.log2() + 2.0) * self.overlap as f64;
            let per_element = 2f64.powi(-148) * multiplications * self.underflow_gain.max(1.0);
            (per_element + 2f64.powi(-150)) * (self.outputs.max(1) as f64).sqrt()
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
}
