//! Every direct summation order of the float reference satisfies the componentwise
//! bound, and planted wrong engines violate it.
//!
//! | property | claim |
//! |---|---|
//! | `componentwise-any-order` | for every [`SummationOrder`] and element type (`f64`, `f32`), every output of [`OrderedEngine`] satisfies `\|y_hat - y\| <= gamma_K(u) A` ([`check_componentwise`]) on data mixing uniform, twelve-decade and cancelling values ([`mixed_case`]) |
//! | `componentwise-wrong-engine-fails` | refuted: each planted [`Wrong`] engine (one dropped tap, an `f32` accumulator for `f64` data, the bias added twice) violates the bound on data where the bug shows ([`wrong_case`]) |
//!
//! # The engine
//!
//! [`OrderedEngine`] computes the whole convolution spec (rank, batch, channels, groups,
//! stride, dilation, padding rule, boundary mode, flip, bias) with its own per-output walker:
//! for output `(n, o, p)` with group `g = o / (O/G)` it lists the terms
//!
//! ```text
//! bias[o],  then  w[o, c, k'] * xb[n, g C/G + c, p s + k d - lo]   for c < C/G, k row-major
//! ```
//!
//! (`k' = k` for cross-correlation, `K_a - 1 - k_a` on every axis for true convolution; `xb`
//! reads through [`crate::problem::boundary::source_index`], or the boundary constant) and sums them in
//! the engine's [`SummationOrder`], in the element type's arithmetic: each product is rounded
//! (`w * x`) or fused into the addition that consumes it (`mul_add`, the FMA orders). The
//! geometry comes from [`Problem::validate`], so the engine refuses exactly what the
//! reference refuses. The walker does not share code with [`crate::reference`] (only the
//! boundary index map and the geometry); `src/verify/summation/tests.rs` checks that on small integers,
//! where every sum is exact, all orders equal the reference.
//!
//! # The rule
//!
//! An output is `s = sum_{i=1..K} t_i`, `K` terms: the taps (`C/G` times the kernel size,
//! boundary reads included) plus one for a bias. Each term is a product `w x` (or the bias).
//! Summed in floating point with unit roundoff `u` in **any** order (any binary tree of
//! additions over the terms), with the products rounded or fused, Higham (Accuracy and
//! Stability of Numerical Algorithms, 2nd ed., 2002, section 3.1, Lemma 3.1) gives
//!
//! ```text
//! |y_hat - y| <= gamma_K(u) A,   gamma_K(u) = K u / (1 - K u),   A = sum |w| |x| + |b|
//! ```
//!
//! because every term meets at most `K` roundings: one for its product (none for the bias)
//! and one per addition above it in the tree, of which there are at most `K - 1`; an FMA step
//! `fma(w, x, s)` rounds once where a product and an addition round twice, so it only removes
//! roundings. So `y_hat = sum t_i (1 + theta_i)` with `|theta_i| <= gamma_K`.
//!
//! **Underflow.** With gradual underflow an addition whose result is subnormal is exact (both
//! operands are multiples of the smallest subnormal `eta`), while a product, or an FMA, whose
//! exact result is subnormal is off by at most `eta / 2` absolutely (and has no relative
//! error). There are at most `K` such steps (one per product or fused step), and each such
//! absolute error passes through at most `K - 1` later roundings, so the model adds at most
//! `K (1 + u)^(K-1) eta / 2 <= K (1 + gamma_K) eta / 2` (the same term as
//! [`crate::tolerance`]'s derivation). The rule checked is therefore
//!
//! ```text
//! |y_hat - y| <= gamma_K A + K (1 + gamma_K) eta / 2 = K (u A + eta / 2) / (1 - K u)
//! ```
//!
//! (`(1 + gamma_K)(1 - K u) = 1`). On the data generated here every product lies far above
//! the underflow threshold, so the extra term never decides a verdict; it keeps the check
//! sound on any finite data.
//! **Overflow** is outside the model: an output whose `A` exceeds half the element type's
//! largest finite value (so that a partial sum could overflow) is counted as `skipped`, not
//! judged.
//!
//! # Making the check itself exact
//!
//! Nothing in the verdict is evaluated in floating point. Every quantity is a dyadic rational
//! `m 2^e` (`m` a big integer):
//!
//! - `y`, the exact output: [`crate::verify::fft::exact_conv`], the reference run on big
//!   integers after scaling every value by a power of two. It does not trust any float
//!   engine (in particular not [`crate::engine::exact::ExactEngine`], whose correctly
//!   rounded `y_cr` would add its own `u |y_cr|` to the comparison; the tests use it the
//!   other way round, as a cross-check: a correctly rounded result needs `K = 1`).
//! - `A`: the same on `|x|`, `|w|`, `|b|` and `|constant|` (the reference on absolute values
//!   is exactly `sum |w| |x| + |b|`, boundary reads included).
//! - `y_hat`: the engine's output widened to `f64` (exact for `f32`).
//! - `u = 2^-53` or `2^-24` and `eta = 2^-1074` or `2^-149`: powers of two.
//!
//! Multiplying the rule by `1 - K u > 0` (when `K u >= 1` the bound is infinite and the rule
//! holds trivially) and rearranging,
//!
//! ```text
//! |d| (1 - K u) <= K (u A + eta / 2)   <=>   |d| <= K (u (A + |d|) + eta / 2)
//!                                      <=>   K >= ceil(|d| / (u (A + |d|) + eta / 2)) =: K_needed
//! ```
//!
//! with `d = y_hat - y`; the last form also holds for `K u >= 1` (then `K u |d| >= |d|`). The
//! check computes `K_needed` by one exact big-integer division (all dyadics aligned to the
//! smallest exponent) and passes an output iff `K_needed <= K`. A correct engine can
//! therefore never fail by an error of the check, and a wrong one can never pass by one.
//! `K_needed` is also a useful measurement: how many terms' worth of roundings the worst
//! output shows. The ratio `|d| / bound` in [`ComponentwiseStats`] is computed from the same
//! exact numbers but converted to `f64` for reporting; it decides nothing.

use crate::engine::ConvEngine;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::boundary::{fill_value, source_index};
use crate::problem::{Boundary, Flip};
use crate::scalar::Ring;
use crate::testing::cases::{Case, Dist, LayoutSizes, array, case, layout_with, real_value};
use crate::testing::{Expect, Kind, Outcome, Row, Violation, search, timed};
use crate::verify::fft::exact_conv;
use ndarray::{ArrayD, IxDyn};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use proptest::prelude::*;
use std::cell::Cell;
use std::fmt::{self, Debug};
use std::ops::{Add, Mul};

// ---------------------------------------------------------------------------- orders

/// The order (and the fusing) in which [`OrderedEngine`] sums the terms of one output.
///
/// The terms are listed bias first, then the products in the reference's order (channel,
/// then kernel position row-major).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SummationOrder {
    /// Left to right: `((t_1 + t_2) + t_3) + ...`.
    Forward,
    /// Right to left: `t_1 + (... + (t_(K-1) + t_K))`.
    Reverse,
    /// Recursive halving: the first `K / 2` terms and the rest summed pairwise, then added.
    Pairwise,
    /// Consecutive blocks of this many terms summed left to right, then the block sums left
    /// to right (split-K, cache blocking). `Chunked(0)` means blocks of 1.
    Chunked(usize),
    /// This many interleaved accumulators (term `i` goes to lane `i mod L`), then the lanes
    /// summed left to right (SIMD lanes). `Lanes(0)` means one lane.
    Lanes(usize),
    /// Left to right with every product fused into its addition: `s <- mul_add(w, x, s)`.
    Fma,
    /// [`SummationOrder::Pairwise`] whose two-term leaves are `mul_add(w2, x2, t1)`.
    PairwiseFma,
}

impl SummationOrder {
    /// A short name for reports: `forward`, `chunked4`, `lanes8`, `pairwise-fma`, ...
    pub(crate) fn label(&self) -> String {
        match self {
            SummationOrder::Forward => "forward".into(),
            SummationOrder::Reverse => "reverse".into(),
            SummationOrder::Pairwise => "pairwise".into(),
            SummationOrder::Chunked(b) => format!("chunked{b}"),
            SummationOrder::Lanes(l) => format!("lanes{l}"),
            SummationOrder::Fma => "fma".into(),
            SummationOrder::PairwiseFma => "pairwise-fma".into(),
        }
    }
}

impl fmt::Display for SummationOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Every order the battery runs.
pub(crate) const ORDERS: [SummationOrder; 8] = [
    SummationOrder::Forward,
    SummationOrder::Reverse,
    SummationOrder::Pairwise,
    SummationOrder::Chunked(4),
    SummationOrder::Chunked(8),
    SummationOrder::Lanes(8),
    SummationOrder::Fma,
    SummationOrder::PairwiseFma,
];

/// Planted bugs: an [`OrderedEngine`] with one of these must violate the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Wrong {
    /// The last product term of every output is skipped.
    DropTap,
    /// Products formed in the element type, then rounded to `f32` and summed in an `f32`
    /// accumulator; the result widened back. For `f32` data this is the correct engine.
    F32Accumulate,
    /// The bias is added twice.
    BiasTwice,
}

impl Wrong {
    /// A short name for reports.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Wrong::DropTap => "drop-tap",
            Wrong::F32Accumulate => "f32-accumulate",
            Wrong::BiasTwice => "bias-twice",
        }
    }
}

/// Every planted bug.
pub(crate) const WRONG: [Wrong; 3] = [Wrong::DropTap, Wrong::F32Accumulate, Wrong::BiasTwice];

// ---------------------------------------------------------------------------- elements

/// A real float type [`OrderedEngine`] computes in and [`check_componentwise`] judges:
/// `f64` and `f32`.
pub(crate) trait SumElement:
    Ring + Copy + PartialEq + Debug + Add<Output = Self> + Mul<Output = Self> + 'static
{
    /// Short name for reports.
    const NAME: &'static str;
    /// `log2 u`: -53 for `f64`, -24 for `f32`.
    const ROUNDOFF_EXP: i32;
    /// `log2 eta`, the smallest positive subnormal: -1074 for `f64`, -149 for `f32`.
    const SUBNORMAL_EXP: i32;
    /// The largest finite value, as `f64` (exact).
    const MAX: f64;
    /// `w * x + s` with one rounding.
    fn fused(w: Self, x: Self, s: Self) -> Self;
    /// The value as `f64` (exact).
    fn widen(self) -> f64;
    /// The value rounded to `f32`.
    fn to_f32(self) -> f32;
    /// An `f32` in this type (exact).
    fn from_f32(v: f32) -> Self;
    /// An `f64` rounded to this type (to nearest).
    fn from_f64_rounded(v: f64) -> Self;
}

impl SumElement for f64 {
    const NAME: &'static str = "f64";
    const ROUNDOFF_EXP: i32 = -53;
    const SUBNORMAL_EXP: i32 = -1074;
    const MAX: f64 = f64::MAX;
    fn fused(w: f64, x: f64, s: f64) -> f64 {
        w.mul_add(x, s)
    }
    fn widen(self) -> f64 {
        self
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn from_f32(v: f32) -> f64 {
        f64::from(v)
    }
    fn from_f64_rounded(v: f64) -> f64 {
        v
    }
}

impl SumElement for f32 {
    const NAME: &'static str = "f32";
    const ROUNDOFF_EXP: i32 = -24;
    const SUBNORMAL_EXP: i32 = -149;
    const MAX: f64 = f32::MAX as f64;
    fn fused(w: f32, x: f32, s: f32) -> f32 {
        w.mul_add(x, s)
    }
    fn widen(self) -> f64 {
        f64::from(self)
    }
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(v: f32) -> f32 {
        v
    }
    fn from_f64_rounded(v: f64) -> f32 {
        v as f32
    }
}

// ---------------------------------------------------------------------------- summation

/// One summand: a plain value (the bias) or a product not yet rounded.
#[derive(Clone, Copy, Debug)]
enum Term<A> {
    Value(A),
    Product(A, A),
}

impl<A: SumElement> Term<A> {
    /// The term rounded to `A`.
    fn value(self) -> A {
        match self {
            Term::Value(v) => v,
            Term::Product(w, x) => w * x,
        }
    }
}

/// `acc + t`, fusing a product into the addition when `fused`.
fn add<A: SumElement>(acc: A, t: Term<A>, fused: bool) -> A {
    match t {
        Term::Product(w, x) if fused => A::fused(w, x, acc),
        t => acc + t.value(),
    }
}

fn forward<A: SumElement>(ts: &[Term<A>], fused: bool) -> A {
    match ts.split_first() {
        None => A::zero(),
        Some((first, rest)) => rest
            .iter()
            .fold(first.value(), |acc, &t| add(acc, t, fused)),
    }
}

fn pairwise<A: SumElement>(ts: &[Term<A>], fused: bool) -> A {
    match ts.len() {
        0 => A::zero(),
        1 => ts[0].value(),
        2 if fused => add(ts[0].value(), ts[1], true),
        n => {
            let (left, right) = ts.split_at(n / 2);
            pairwise(left, fused) + pairwise(right, fused)
        }
    }
}

fn sum_in_order<A: SumElement>(ts: &[Term<A>], order: SummationOrder) -> A {
    match order {
        SummationOrder::Forward => forward(ts, false),
        SummationOrder::Reverse => {
            let rev: Vec<Term<A>> = ts.iter().rev().copied().collect();
            forward(&rev, false)
        }
        SummationOrder::Pairwise => pairwise(ts, false),
        SummationOrder::Chunked(b) => {
            let blocks: Vec<Term<A>> = ts
                .chunks(b.max(1))
                .map(|c| Term::Value(forward(c, false)))
                .collect();
            forward(&blocks, false)
        }
        SummationOrder::Lanes(l) => {
            let l = l.max(1);
            let lanes: Vec<Term<A>> = (0..l.min(ts.len()))
                .map(|lane| {
                    let mine: Vec<Term<A>> = ts.iter().skip(lane).step_by(l).copied().collect();
                    Term::Value(forward(&mine, false))
                })
                .collect();
            forward(&lanes, false)
        }
        SummationOrder::Fma => forward(ts, true),
        SummationOrder::PairwiseFma => pairwise(ts, true),
    }
}

// ---------------------------------------------------------------------------- engine

/// The full convolution spec computed directly, summing each output's terms in a chosen
/// [`SummationOrder`], optionally with a planted [`Wrong`] bug (module docs).
///
/// Implements [`ConvEngine`] for `f64` and `f32`, each in its own arithmetic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderedEngine {
    order: SummationOrder,
    wrong: Option<Wrong>,
    name: String,
}

impl OrderedEngine {
    /// The correct engine summing in `order`.
    pub(crate) fn new(order: SummationOrder) -> Self {
        OrderedEngine {
            order,
            wrong: None,
            name: format!("sum-{}", order.label()),
        }
    }

    /// The engine with a planted bug (named `sum-<order>+<bug>`).
    #[must_use]
    pub(crate) fn with_wrong(self, wrong: Wrong) -> Self {
        OrderedEngine {
            name: format!("sum-{}+{}", self.order.label(), wrong.label()),
            wrong: Some(wrong),
            ..self
        }
    }

    /// Sums one output's terms (bias first, products in walker order).
    fn sum<T: SumElement>(&self, terms: &mut Vec<Term<T>>) -> T {
        match self.wrong {
            Some(Wrong::DropTap) => {
                if let Some(i) = terms.iter().rposition(|t| matches!(t, Term::Product(..))) {
                    terms.remove(i);
                }
            }
            Some(Wrong::BiasTwice) => {
                if let Some(&b @ Term::Value(_)) = terms.first() {
                    terms.insert(0, b);
                }
            }
            Some(Wrong::F32Accumulate) => {
                let narrow: Vec<Term<f32>> = terms
                    .iter()
                    .map(|t| Term::Value(t.value().to_f32()))
                    .collect();
                return T::from_f32(sum_in_order(&narrow, self.order));
            }
            None => {}
        }
        sum_in_order(terms, self.order)
    }

    fn run<T: SumElement>(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        let geo = p.validate()?;
        let (x, w) = (&p.input, &p.weight);
        let (batch, c_out, cg) = (x.shape()[0], w.shape()[0], w.shape()[1]);
        let og = c_out / p.spec.groups;
        let rank = geo.axes.len();
        let constant = fill_value(&p.spec.boundary);
        // Kernel positions k in row-major order, and the weight position each reads.
        let kernel_shape: Vec<usize> = geo.axes.iter().map(|a| a.kernel).collect();
        let taps: Vec<(Vec<usize>, Vec<usize>)> = ndarray::indices(IxDyn(&kernel_shape))
            .into_iter()
            .map(|k| {
                let k: Vec<usize> = (0..rank).map(|a| k[a]).collect();
                let kw = match p.spec.flip {
                    Flip::Correlation => k.clone(),
                    Flip::Convolution => (0..rank).map(|a| kernel_shape[a] - 1 - k[a]).collect(),
                };
                (k, kw)
            })
            .collect();
        let mut out_shape = vec![batch, c_out];
        out_shape.extend(geo.output_shape());
        let mut xi = vec![0usize; rank + 2];
        let mut wi = vec![0usize; rank + 2];
        let mut terms: Vec<Term<T>> = Vec::with_capacity(cg * taps.len() + 2);
        Ok(ArrayD::from_shape_fn(IxDyn(&out_shape), |idx| {
            let (n, o) = (idx[0], idx[1]);
            let g = o / og;
            terms.clear();
            if let Some(b) = &p.bias {
                terms.push(Term::Value(b[o]));
            }
            xi[0] = n;
            wi[0] = o;
            for c in 0..cg {
                xi[1] = g * cg + c;
                wi[1] = c;
                for (k, kw) in &taps {
                    let mut inside = true;
                    for (a, ax) in geo.axes.iter().enumerate() {
                        let pos = (idx[2 + a] as i128) * (ax.stride as i128)
                            + (k[a] as i128) * (ax.dilation as i128)
                            - ax.pad_lo as i128;
                        match source_index(&p.spec.boundary, pos, ax.input) {
                            Some(s) => xi[2 + a] = s,
                            None => inside = false,
                        }
                        wi[2 + a] = kw[a];
                    }
                    let xv = if inside { x[IxDyn(&xi)] } else { constant };
                    terms.push(Term::Product(w[IxDyn(&wi)], xv));
                }
            }
            self.sum(&mut terms)
        }))
    }
}

impl ConvEngine<f64> for OrderedEngine {
    fn name(&self) -> &str {
        &self.name
    }
    fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
        self.run(p)
    }
}

impl ConvEngine<f32> for OrderedEngine {
    fn name(&self) -> &str {
        &self.name
    }
    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        self.run(p)
    }
}

// ---------------------------------------------------------------------------- exact check

/// A dyadic rational `m 2^e`.
#[derive(Clone, Debug)]
struct Dyadic {
    m: BigInt,
    e: i64,
}

impl Dyadic {
    fn new(m: BigInt, e: i64) -> Self {
        Dyadic { m, e }
    }

    /// A finite float, exactly.
    fn from_f64(v: f64) -> Self {
        if v == 0.0 {
            return Dyadic::new(BigInt::from(0), 0);
        }
        let bits = v.to_bits();
        let field = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if field == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), field - 1075)
        };
        let m = BigInt::from(m);
        Dyadic::new(if v < 0.0 { -m } else { m }, e)
    }

    /// The mantissa shifted to exponent `e <= self.e`.
    fn at(&self, e: i64) -> BigInt {
        // `self.e - e` is small: exponents come from floats and the exact results of
        // products of floats, within a few thousand of each other.
        &self.m << (self.e - e) as usize
    }

    fn plus(&self, other: &Dyadic) -> Dyadic {
        let e = self.e.min(other.e);
        Dyadic::new(self.at(e) + other.at(e), e)
    }

    fn minus(&self, other: &Dyadic) -> Dyadic {
        let e = self.e.min(other.e);
        Dyadic::new(self.at(e) - other.at(e), e)
    }

    fn abs(&self) -> Dyadic {
        Dyadic::new(self.m.abs(), self.e)
    }

    /// Times `2^k`, exactly.
    fn times_pow2(&self, k: i64) -> Dyadic {
        Dyadic::new(self.m.clone(), self.e + k)
    }

    /// `self <= other`, exactly.
    fn le(&self, other: &Dyadic) -> bool {
        let e = self.e.min(other.e);
        self.at(e) <= other.at(e)
    }

    /// `(f, k)` with `self ~ f 2^k` and `f` a float of magnitude near 1 (for reports).
    fn approx(&self) -> (f64, i64) {
        let bits = self.m.bits() as i64;
        let shift = (bits - 60).max(0);
        let top = (&self.m >> shift as usize).to_f64().unwrap_or(0.0);
        (top, self.e + shift)
    }

    /// `self / other` as a float (for reports; infinite when `other` is 0 and `self` not).
    fn ratio(&self, other: &Dyadic) -> f64 {
        if self.m.is_zero() {
            return 0.0;
        }
        if other.m.is_zero() {
            return f64::INFINITY;
        }
        let ((a, ka), (b, kb)) = (self.approx(), other.approx());
        let k = (ka - kb).clamp(-2000, 2000) as i32;
        // Two steps keep each factor finite.
        (a / b) * 2f64.powi(k / 2) * 2f64.powi(k - k / 2)
    }

    fn to_f64(&self) -> f64 {
        self.ratio(&Dyadic::new(BigInt::from(1), 0))
    }
}

/// What [`check_componentwise`] measured on one case.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ComponentwiseStats {
    /// Outputs judged.
    pub outputs: usize,
    /// `K`: taps (`C/G` times the kernel size) plus one for a bias.
    pub terms: usize,
    /// Outputs whose computed value equals the exact value.
    pub exact: usize,
    /// Outputs outside the model (`A` above half the largest finite value: a partial sum,
    /// at most `(1 + gamma_K) A`, could overflow), not judged.
    pub skipped: usize,
    /// Largest `|y_hat - y| / bound`, `bound = K (u A + eta / 2) / (1 - K u)` (converted
    /// from exact numbers for reporting; the verdict is exact, module docs).
    pub max_ratio: f64,
    /// Largest `|y_hat - y| / (u A)` (0 where `A = 0`).
    pub max_error_u: f64,
    /// Largest `K_needed = ceil(|d| / (u (A + |d|) + eta / 2))` over the outputs: the
    /// smallest `K` for which every output would pass. The case passes iff it is at most
    /// `terms`.
    pub needed_terms: u64,
    /// The engine and the reference refused the problem with the same error (nothing judged).
    pub refused: bool,
}

fn finite_case<T: SumElement>(c: &Case<T>) -> bool {
    let constant = match &c.spec.boundary {
        Boundary::Constant(v) => Some(v),
        _ => None,
    };
    c.input
        .0
        .iter()
        .chain(c.weight.0.iter())
        .chain(c.bias.iter().flatten())
        .chain(constant)
        .all(|v| v.widen().is_finite())
}

/// The componentwise property for one case: every output of `engine` satisfies
/// `|y_hat - y| <= gamma_K(u) A` (plus the underflow term), `u` the unit roundoff of `T`,
/// judged exactly (module docs). `Err` naming the first output that violates it, when
/// the engine's result is non-finite or misshapen, or when the engine and the reference
/// disagree on refusing the problem; also for non-finite data, which the rule does not cover.
pub(crate) fn check_componentwise<T: SumElement>(
    engine: &(impl ConvEngine<T> + ?Sized),
    case: &Case<T>,
) -> Result<ComponentwiseStats, Violation> {
    check_componentwise_with(engine, case, 2f64.powi(T::ROUNDOFF_EXP))
}

/// [`check_componentwise`] with the unit roundoff `u` of the bound given explicitly (a power
/// of two in `(0, 1/2]`, such as [`crate::tolerance::U32`] or [`crate::tolerance::U64`]); the
/// underflow term still uses `T`'s smallest subnormal.
pub(crate) fn check_componentwise_with<T: SumElement>(
    engine: &(impl ConvEngine<T> + ?Sized),
    case: &Case<T>,
    u: f64,
) -> Result<ComponentwiseStats, Violation> {
    let u_exp = power_of_two(u)
        .ok_or_else(|| Violation::hypothesis(format!("u = {u:e} is not a power of two <= 1/2")))?;
    if !finite_case(case) {
        return Err(Violation::hypothesis(
            "non-finite data: the componentwise rule covers finite data only",
        ));
    }
    let wide = case.map(SumElement::widen);
    let (got, exact) = match (case.with(|p| engine.conv(p)), exact_conv(&wide)) {
        (Ok(g), Ok(y)) => (g, y),
        (Err(a), Err(b)) if a == b => {
            return Ok(ComponentwiseStats {
                refused: true,
                ..ComponentwiseStats::default()
            });
        }
        (a, b) => return Err(Violation::acceptance(&a, &b).context(engine.name())),
    };
    if got.shape() != exact.mantissa.shape() {
        return Err(Violation::new(
            Kind::ShapeMismatch,
            format!(
                "{} returned shape {:?}, expected {:?}",
                engine.name(),
                got.shape(),
                exact.mantissa.shape()
            ),
        ));
    }
    let abs = exact_conv(&wide.map(f64::abs))
        .map_err(|e| Violation::refused(&e).context("|reference|"))?;
    let taps: usize = case.weight.0.shape().iter().skip(1).product();
    let terms = taps + usize::from(case.bias.is_some());
    let mut stats = ComponentwiseStats {
        terms,
        ..ComponentwiseStats::default()
    };
    let k_big = BigInt::from(terms);
    let half_eta = Dyadic::new(BigInt::from(1), i64::from(T::SUBNORMAL_EXP) - 1);
    let overflow = Dyadic::from_f64(T::MAX).times_pow2(-1);
    let u_exp = i64::from(u_exp);
    for (i, ((g, ym), am)) in got
        .iter()
        .zip(exact.mantissa.iter())
        .zip(abs.mantissa.iter())
        .enumerate()
    {
        let a = Dyadic::new(am.clone(), i64::from(abs.exponent));
        if !a.le(&overflow) {
            stats.skipped += 1;
            continue;
        }
        let yh = g.widen();
        let y = Dyadic::new(ym.clone(), i64::from(exact.exponent));
        if !yh.is_finite() {
            return Err(Violation::bound(format!(
                "output {i} ({}): {} gave {yh:e}, exact {:e}",
                index_of(&got, i),
                engine.name(),
                y.to_f64()
            )));
        }
        let d = Dyadic::from_f64(yh).minus(&y).abs();
        stats.outputs += 1;
        if d.m.is_zero() {
            stats.exact += 1;
            continue;
        }
        // K_needed = ceil(|d| / (u (A + |d|) + eta / 2)), exactly.
        let den = a.plus(&d).times_pow2(u_exp).plus(&half_eta);
        let e = d.e.min(den.e);
        let (num, den_i) = (d.at(e), den.at(e));
        let needed: BigInt = (&num + &den_i - 1) / &den_i;
        let needed_u = needed.to_u64().unwrap_or(u64::MAX);
        // Reporting only: |d| / (K (u A + eta/2) / (1 - K u)) and |d| / (u A).
        let k_u = Dyadic::new(k_big.clone(), u_exp);
        let one_minus = Dyadic::new(BigInt::from(1), 0).minus(&k_u);
        let bound_num = a.times_pow2(u_exp).plus(&half_eta);
        let bound_num = Dyadic::new(&bound_num.m * &k_big, bound_num.e);
        let ratio = if one_minus.m.is_positive() {
            Dyadic::new(&d.m * &one_minus.m, d.e + one_minus.e).ratio(&bound_num)
        } else {
            0.0
        };
        let err_u = if a.m.is_zero() {
            0.0
        } else {
            d.ratio(&a.times_pow2(u_exp))
        };
        stats.max_error_u = stats.max_error_u.max(err_u);
        stats.max_ratio = stats.max_ratio.max(ratio);
        stats.needed_terms = stats.needed_terms.max(needed_u);
        if needed > k_big {
            return Err(Violation::bound(format!(
                "output {i} ({}) of {}: |y_hat - y| = {:e} > gamma_{terms}(2^{u_exp}) A + underflow = {:e} \
                 (y_hat {yh:e}, y {:e}, A {:e}; ratio {ratio:.3}, needs K >= {needed} but K = {terms})",
                index_of(&got, i),
                engine.name(),
                d.to_f64(),
                d.to_f64() / ratio,
                y.to_f64(),
                a.to_f64(),
            )));
        }
    }
    Ok(stats)
}

/// `log2 u` when `u` is a power of two in `(0, 1/2]` (normal).
fn power_of_two(u: f64) -> Option<i32> {
    let bits = u.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i32;
    let exact = u > 0.0 && u <= 0.5 && field != 0 && bits & ((1u64 << 52) - 1) == 0;
    exact.then_some(field - 1023)
}

/// The multi-index of flat (row-major) position `i` of `y`, for messages.
fn index_of<T>(y: &ArrayD<T>, i: usize) -> String {
    let mut rest = i;
    let mut idx = vec![0; y.ndim()];
    for (a, &n) in y.shape().iter().enumerate().rev() {
        idx[a] = rest % n.max(1);
        rest /= n.max(1);
    }
    format!("{idx:?}")
}

// ---------------------------------------------------------------------------- battery

/// Largest rank the battery draws (the exact results are the reference on big integers).
pub(crate) const MAX_RANK: usize = 2;

/// Strategy: [`crate::testing::cases::case`] cases of rank up to `max_rank` (every padding
/// rule, boundary mode, stride, dilation, groups, flip, bias or not; up to 33 terms) and, one
/// case in four, a long 1-D sum ([`long_case`]: up to 81 terms), with data uniform in
/// `[-1, 1]`, twelve-decade (`+-10^e`, `e` in `[-6, 6]`) or cancelling (`1e6 + U(-1, 1)`
/// against kernels summing to about zero), one third each.
pub(crate) fn mixed_case(max_rank: usize) -> impl Strategy<Value = Case<f64>> {
    prop_oneof![
        3 => case::<f64>(Dist::Uniform, max_rank).boxed(),
        3 => case::<f64>(Dist::Decades, max_rank).boxed(),
        3 => case::<f64>(Dist::Cancelling, max_rank).boxed(),
        1 => long_case(Dist::Uniform).boxed(),
        1 => long_case(Dist::Decades).boxed(),
        1 => long_case(Dist::Cancelling).boxed(),
    ]
}

/// The extents of [`long_case`]: rank 1, inputs up to 40, kernels up to 40 taps, pads up to
/// 3, strides up to 2 (with up to 2 channels per group: up to 80 taps, 81 terms with a bias).
pub(crate) const LONG: LayoutSizes = LayoutSizes {
    ranks: (1, 1),
    n: [40, 8, 5],
    k: [40, 4, 3],
    pad: 3,
    max_stride: 2,
    explicit: 1,
};

/// Strategy: a 1-D case of [`LONG`] extents (every padding rule, boundary mode, groups,
/// flip, bias or not) with data from `d`, generated as [`crate::testing::cases::case`]
/// generates it (for [`Dist::Cancelling`]: kernels uniform, the last tap of each minus the
/// sum of the others).
pub(crate) fn long_case(d: Dist) -> impl Strategy<Value = Case<f64>> {
    layout_with(LONG).prop_flat_map(move |l| {
        let kernel_values = match d {
            Dist::Cancelling => real_value(Dist::Uniform),
            d => real_value(d),
        };
        (
            array(l.input_shape(), real_value(d)),
            array(l.weight_shape(), kernel_values),
            proptest::collection::vec(real_value(d), l.groups * l.og),
            real_value(d),
            Just(l),
        )
            .prop_map(move |(input, mut weight, bias, constant, l)| {
                let taps: usize = l.kernel.iter().product();
                if d == Dist::Cancelling && taps > 1 {
                    for kernel in weight.0.iter_mut().collect::<Vec<_>>().chunks_mut(taps) {
                        let rest: f64 = kernel[..taps - 1].iter().map(|v| **v).sum();
                        *kernel[taps - 1] = -rest;
                    }
                }
                Case {
                    input,
                    weight,
                    bias: l.bias.then_some(bias),
                    spec: l.spec(constant),
                }
            })
    })
}

/// Strategy: data where bug `wrong` shows: twelve-decade data for
/// [`Wrong::F32Accumulate`] (the accumulator's `2^-24` then dwarfs `gamma_K(2^-53)`),
/// uniform data otherwise ([`Wrong::DropTap`] needs nonzero last taps, [`Wrong::BiasTwice`] a
/// nonzero bias: every tap and bias drawn is nonzero with probability 1, and half the cases
/// have a bias).
pub(crate) fn wrong_case(wrong: Wrong, max_rank: usize) -> BoxedStrategy<Case<f64>> {
    match wrong {
        Wrong::F32Accumulate => case::<f64>(Dist::Decades, max_rank).boxed(),
        Wrong::DropTap | Wrong::BiasTwice => case::<f64>(Dist::Uniform, max_rank).boxed(),
    }
}

/// What a row saw over its valid cases.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    valid: usize,
    refused: usize,
    outputs: usize,
    exact: usize,
    skipped: usize,
    max_ratio: f64,
    max_error_u: f64,
    needed: u64,
    max_terms: usize,
}

impl Seen {
    fn add(&mut self, s: &ComponentwiseStats) {
        if s.refused {
            self.refused += 1;
            return;
        }
        self.valid += 1;
        self.outputs += s.outputs;
        self.exact += s.exact;
        self.skipped += s.skipped;
        self.max_ratio = self.max_ratio.max(s.max_ratio);
        self.max_error_u = self.max_error_u.max(s.max_error_u);
        self.needed = self.needed.max(s.needed_terms);
        self.max_terms = self.max_terms.max(s.terms);
    }
}

/// Below this many valid cases a row does not require an inexact output.
pub(crate) const MIN_CASES_FOR_INEXACT: usize = 16;

/// One `componentwise-any-order` row: [`check_componentwise`] on `cases` cases of
/// [`mixed_case`] (rounded to `T`), with the correct engine summing in `order`. Given at
/// least [`MIN_CASES_FOR_INEXACT`] valid cases the row also requires some output to be
/// inexact (else it would not exercise rounding at all). The detail reports the largest
/// ratio, error in units of `u A` and `K_needed`.
pub(crate) fn order_row<T: SumElement>(order: SummationOrder, cases: u32, seed: u64) -> Outcome
where
    OrderedEngine: ConvEngine<T>,
{
    let engine = OrderedEngine::new(order);
    let name = format!("{}/{}", ConvEngine::<T>::name(&engine), T::NAME);
    let seen = Cell::new(Seen::default());
    let strategy = mixed_case(MAX_RANK).prop_map(|c| c.map(T::from_f64_rounded));
    let mut row = timed(
        "componentwise-any-order",
        name,
        cases,
        Expect::Holds,
        || {
            search(strategy, cases, seed, |c| {
                let s = check_componentwise(&engine, c)?;
                let mut all = seen.get();
                all.add(&s);
                seen.set(all);
                Ok(())
            })?;
            let s = seen.get();
            if s.valid >= MIN_CASES_FOR_INEXACT && s.exact == s.outputs {
                return Err(Violation::hypothesis(format!(
                    "all {} outputs of {} valid cases were exact: the row exercises no rounding",
                    s.outputs, s.valid
                )));
            }
            Ok(())
        },
    );
    if row.passed {
        let s = seen.get();
        row.detail = format!(
            "max |err|/bound = {:.3}, max |err|/(u A) = {:.2}, max K_needed = {} (K up to {}); \
             {} outputs ({} exact, {} skipped) of {} valid cases ({} refused by both)",
            s.max_ratio,
            s.max_error_u,
            s.needed,
            s.max_terms,
            s.outputs,
            s.exact,
            s.skipped,
            s.valid,
            s.refused
        );
    }
    row
}

/// One `componentwise-wrong-engine-fails` row: the forward engine with bug `wrong` on
/// `f64` data of [`wrong_case`]; the search must refute the property.
pub(crate) fn wrong_row(wrong: Wrong, cases: u32, seed: u64) -> Outcome {
    let engine = OrderedEngine::new(SummationOrder::Forward).with_wrong(wrong);
    let name = format!("{}/f64", ConvEngine::<f64>::name(&engine));
    timed(
        "componentwise-wrong-engine-fails",
        name,
        cases,
        Expect::Refuted(Kind::BoundExceeded),
        || {
            search(wrong_case(wrong, MAX_RANK), cases, seed, |c| {
                check_componentwise(&engine, c).map(|_| ())
            })
        },
    )
}

/// The summation rows: [`order_row`] for every order of [`ORDERS`] in `f64` and `f32`, then
/// [`wrong_row`] for every bug of [`WRONG`].
pub(crate) fn rows() -> Vec<Row> {
    let mut out = Vec::new();
    for &o in ORDERS.iter() {
        out.push(Row::new(
            "componentwise-any-order",
            format!("{o}/f64"),
            move |cases, seed| order_row::<f64>(o, cases, seed),
        ));
        out.push(Row::new(
            "componentwise-any-order",
            format!("{o}/f32"),
            move |cases, seed| order_row::<f32>(o, cases, seed),
        ));
    }
    for &w in WRONG.iter() {
        out.push(Row::new(
            "componentwise-wrong-engine-fails",
            format!("{w:?}/f64"),
            move |cases, seed| wrong_row(w, cases, seed),
        ));
    }
    out
}

/// [`rows`], run.
#[cfg(test)]
pub(crate) fn run_summation_battery(cases: u32, seed: u64) -> Vec<Outcome> {
    crate::testing::run_rows(&rows(), cases, seed)
}

#[cfg(test)]
mod tests;
