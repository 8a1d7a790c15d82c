//! The one tolerance policy: how far a floating-point result may be from the correctly
//! rounded exact result `y_cr` (the exact output rounded once, to nearest-even, into the
//! element type).
//!
//! Every comparison of a candidate with `y_cr` goes through [`judge_elements`] under one
//! [`Model`] and returns a [`Report`]; [`judge_pair`] judges two candidates of one problem
//! against each other. [`ulp_distance_f64`], [`ulp_distance_f32`] and [`Float::ulp_distance`]
//! count ULPs (`+0` and `-0` are 0 apart, NaN is 0 from NaN, any other non-finite mismatch is
//! `u64::MAX`); [`gamma`] is Higham's `gamma_n = n u / (1 - n u)`; [`componentwise_bound_cr`]
//! evaluates the bound of [`Model::Componentwise`]; [`componentwise_bound`] and
//! [`componentwise`] compare a peer with the crate's float64 reference instead; [`fft`] holds
//! the normwise bound of FFT convolution. Special values are checked before any model's rule,
//! identically for every model (only `Componentwise` and `Tosa` first pass the outputs that
//! may overflow), and the sign of zero is never judged. Below, `K` is the number of terms of an
//! output (taps, plus one with a bias), `A` their `sum |w| |x| (+ |b|)`, and `u` the unit
//! roundoff of the element type. The derivation is in docs/numerics.md section 8 (ULP distance
//! in section 1, the any-order summation bound in section 2, special values in section 5).
//!
//! | model | rule, per element unless said otherwise | docs/numerics.md | use it for |
//! |---|---|---|---|
//! | [`Model::Exact`] | bit-equal to `y_cr` (sign of zero ignored, NaN equals NaN) | 8.7 | the exact engine |
//! | [`Model::Ulp`]`(n)` | at most `n` ULPs from `y_cr` | 8.7 | a claimed ULP accuracy |
//! | [`Model::Componentwise`] | `abs(y_hat - y_cr) <= gamma_K A + u abs(y_cr)` plus an underflow term | 8.2 | any direct summation |
//! | [`Model::Normwise`] | `norm2(y_hat - y_cr) <= bound + u norm2(y_cr)` plus an underflow term, over all elements | 8.5 | FFT results ([`fft`]) |
//! | [`Model::Tosa`] | TOSA's dot-product rule, with its aggregate bias and variance checks | 8.6 | reproducing TOSA conformance |
//! | [`Model::RtolAtol`] | `abs(y_hat - y_cr) <= atol + rtol abs(y_cr)`, peers' defaults in [`Preset`] | 8.7 | reproducing a peer's own test |

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
    /// Smallest positive subnormal value (`2^-149` or `2^-1074`), `eta` in
    /// docs/numerics.md section 1: the spacing of the subnormal range.
    const SUBNORMAL_MIN: f64;
    /// The largest finite value, in `f64`.
    const MAX_FINITE: f64;

    /// The value widened to f64 (exact).
    fn to_f64(self) -> f64;
    /// `v` rounded to nearest-even into this type (overflow gives an infinity).
    fn from_f64(v: f64) -> Self;
    /// The raw bit pattern, zero-extended to 64 bits.
    fn bits(self) -> u64;
    /// The number of floats of this type between `self` and `other`
    /// (docs/numerics.md section 1): `+0` and `-0` are 0 apart, NaN is 0 from NaN, and a NaN
    /// or infinity mismatch is `u64::MAX`.
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

/// The number of f64 values between `a` and `b` along the real line (docs/numerics.md
/// section 1): 1 between neighbours, 0 between `+0` and `-0`, 2 between the smallest positive
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

/// How far a candidate may be from the correctly rounded exact output. The special-value
/// rules apply to every model first (docs/numerics.md sections 5 and 8.1); each model's rule
/// is derived in docs/numerics.md section 8.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Model {
    /// Bit-equal to the correctly rounded exact value, up to the sign of zero; NaN equals NaN.
    /// The rule for the exact engine. Same verdicts as `Ulp(0)`.
    Exact,
    /// At most this many ULPs ([`Float::ulp_distance`]) from the correctly rounded value.
    Ulp(u64),
    /// The componentwise bound of any direct summation, against the correctly rounded value:
    /// `|y_hat - y_cr| <= gamma_K A_hat + u |y_cr| + (K + 1)(1 + gamma_K) eta / 2`
    /// ([`componentwise_bound_cr`] evaluates it, rounded up), `u` the element type's unit
    /// roundoff, `K` = `terms`, `A_hat` = `abs_sum[i]`. Sound for a candidate that sums the `K`
    /// rounded products in `F` (or wider) in any order, with or without FMA. An element whose
    /// `A_hat (1 + gamma_K)` reaches `F`'s largest finite value is not judged (an overflow is
    /// possible) unless `y_cr` is NaN. docs/numerics.md section 8.2.
    Componentwise,
    /// A normwise bound over all the elements judged together: the caller's `bound` on
    /// `||y_hat - y||_2` (from [`fft::FftTerms::bound`] for one block, or
    /// [`crate::engine::fft::FftEngine::normwise_model`] for a whole output); the policy adds
    /// the rounding of `y_cr` and of its own evaluation. docs/numerics.md section 8.5.
    Normwise {
        /// The caller's bound on `||y_hat - y||_2` against the exact `y`.
        bound: f64,
    },
    /// TOSA's dot-product rule with `KS = terms` and `bnd = abs_sum[i]`, plus its aggregate
    /// bias and variance checks over all the elements; the overflow exception of
    /// [`Model::Componentwise`] applies too. docs/numerics.md sections 6 and 8.6.
    Tosa,
    /// `|got - e| <= atol + rtol |e|` with `e` the correctly rounded value, evaluated in f64:
    /// a peer's own test rule ([`Preset`] holds their defaults). docs/numerics.md section 8.7.
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
/// model's own (docs/numerics.md section 8.1); TOSA's running sums are updated.
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

/// The [`Model::Componentwise`] bound on `|y_hat - y_cr|` for one output of element type `F`,
/// in f64 and in the units of the data (docs/numerics.md section 8.2):
/// `(g A_hat + u |y_cr| + (K + 2)(1 + g) eta) (1 + 2^-48)`, with
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
/// come first for every model (docs/numerics.md section 8.1; each model's rule in section 8).
/// [`Worst::taps`] is left empty.
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
/// held to (docs/numerics.md section 8.5).
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
        // K u >= 1 with nothing to sum: still infinite, never NaN.
        assert!(componentwise_bound_cr::<f32>(1 << 24, 0.0, 0.0).is_infinite());
        assert!(componentwise_bound_cr::<f64>(4, f64::INFINITY, 0.0).is_infinite());
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
// Two candidates against each other.

/// Judges two results `a` and `b` of one problem against each other, each of which claims to
/// be within `model` of the same correctly rounded result (a metamorphic relation: the same
/// exact value computed two ways), so that they may differ by twice the model's allowance;
/// `abs_sum` and `terms` are those of [`judge_elements`]. Per element:
///
/// | model | `a` and `b` agree when |
/// |---|---|
/// | `Exact` | ULP distance 0 (NaN equals NaN, the sign of zero ignored) |
/// | `Ulp(n)` | ULP distance at most `2n` |
/// | `Componentwise`, `Tosa` | `\|a - b\| <= 2 (g A + u m + (K + 2)(1 + g) eta) / (1 - u)`, `m = max(\|a\|, \|b\|)` |
/// | `RtolAtol` | `rtol < 1` and `\|a - b\| <= 2 (atol + rtol m) / (1 - rtol)` |
/// | `Normwise { bound }` | non-finite elements match exactly, and the 2-norm of `a - b` is at most `2 bound` (plus the roundings of its evaluation) |
///
/// The tolerances are rounded up by `1 + 2^-48`. Special values must match exactly, except
/// where `Componentwise` and `Tosa` do not judge (an overflow is possible, as with an infinite
/// `abs_sum` entry). `Componentwise` and `Tosa` need one `abs_sum` entry per element. Returns
/// the index of the first element that does not agree and why, or `None`; lengths that differ
/// (of `a` and `b`, or of `abs_sum` where the model reads it) fail at index 0.
/// docs/numerics.md section 8.8.
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
    if matches!(model, Model::Componentwise | Model::Tosa) && abs_sum.len() != a.len() {
        return Some((
            0,
            format!(
                "{} abs_sum entries for {} values: the model needs one per element",
                abs_sum.len(),
                a.len()
            ),
        ));
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

pub mod fft;
