//! Numeric edge cases, defined and pinned for every engine (issue 8, item 5): NaN and infinity
//! propagation (the exact-sum rule of docs/numerics.md section 5), the sign of zero results, subnormal inputs
//! and outputs, overflow to infinity, and empty arrays. The "Numeric edge cases" table meant for
//! README summarises what is pinned here, one row per section of this file.
//!
//! Engines: the reference, direct, FFT (whole transforms, overlap-add as its cost model picks
//! the blocks, and overlap-add with blocks forced by `Blocking::Capped(4)`), exact (both tiers,
//! and the exact tier alone, which must agree bit for bit), dense, and the method engine
//! (`direct`, `fft`, `overlap-add` and `auto` must each give, bit for bit, the result of the
//! engine they run). Each case runs in `f32` and `f64` unless it is about one format.
//!
//! Every expected value is derived by hand from IEEE 754 (round to nearest, ties to even,
//! gradual underflow; `x + (-x) = +0`, `-0 + -0 = -0`, `inf * 0 = NaN`, `inf - inf = NaN`)
//! applied to the engine's documented summation:
//!
//! - reference, direct `f64`, dense: `((start + t1) + t2) + ...` in the element type, with
//!   `start` the bias or `+0` (dense: the bias and the boundary terms first, then every input
//!   element times its matrix entry, zeros included);
//! - direct `f32`: the same sum of the exact `f64` products in `f64`, rounded once to `f32`;
//! - exact: the exact sum of the terms rounded once (`-0` when every term is `-0`);
//! - FFT: non-finite data goes to the reference; otherwise only the normwise bound is
//!   promised, so FFT values are pinned where a derivation fixes them and otherwise judged by
//!   the engine's own model (`conv_oracle::oracle::judge` with `FftEngine::normwise_model`).
//!
//! The last section holds the two FFT bugs this file found (both fixed): their tests fail on
//! the code before the fix.

use conv_oracle::engine::dense::DenseEngine;
use conv_oracle::engine::direct::{DirectElement, DirectEngine};
use conv_oracle::engine::exact::{ExactElement, ExactEngine};
use conv_oracle::engine::fft::{Blocking, FftElement, FftEngine};
use conv_oracle::engine::method::{Method, MethodEngine};
use conv_oracle::engine::{ConvEngine, ConvTransposeEngine, ReferenceEngine, Stuffed};
use conv_oracle::layer::{LayerSpec, TransposeProblem, TransposeSpec, conv_transpose};
use conv_oracle::oracle::{judge, judge_transpose};
use conv_oracle::tolerance::{Float, Model, judge_elements};
use conv_oracle::{Boundary, ConvError, ConvSpec, Padding, Problem, Ring};
use ndarray::{Array1, ArrayD, IxDyn};
use std::cell::RefCell;

// ------------------------------------------------------------------------------ harness

/// The two formats, with the constants the cases need.
trait El: Ring + Float + ExactElement + DirectElement + FftElement + Send + Sync {
    /// Half an ulp of the largest finite value: `MAX + HALF_ULP_OF_MAX` is the overflow
    /// threshold (`2^(emax - p)`: `2^970`, `2^103`).
    const HALF_ULP_OF_MAX: f64;
    /// Exponent of the smallest positive normal value (`-1022`, `-126`).
    const MIN_NORMAL_EXP: i32;
    /// Direct summation accumulates `f32` data in `f64` (no intermediate overflow, one final
    /// rounding); `f64` data in `f64` (the reference's own operations).
    const WIDE_DIRECT: bool;
}

impl El for f64 {
    const HALF_ULP_OF_MAX: f64 = f64::from_bits((970 + 1023) << 52);
    const MIN_NORMAL_EXP: i32 = -1022;
    const WIDE_DIRECT: bool = false;
}

impl El for f32 {
    const HALF_ULP_OF_MAX: f64 = f64::from_bits((103 + 1023) << 52);
    const MIN_NORMAL_EXP: i32 = -126;
    const WIDE_DIRECT: bool = true;
}

/// `2^e` for `e` in `-1074..=1023`, exactly (`powi` of an extreme exponent is not).
fn p2(e: i32) -> f64 {
    2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// `v` in `T`; it must be exact (a typo in a constant would otherwise change the case).
fn cast<T: El>(v: f64) -> T {
    let t = T::from_f64(v);
    assert!(
        v.is_nan() || t.to_f64() == v,
        "{v:e} is not exact in {}",
        T::NAME
    );
    t
}

/// Equal bit for bit (the sign of zero counts), NaN equal to any NaN.
fn same<T: El>(got: T, want: f64) -> bool {
    let g = got.to_f64();
    if want.is_nan() {
        g.is_nan()
    } else {
        g.to_bits() == want.to_bits()
    }
}

fn same_arrays<T: El>(a: &ArrayD<T>, b: &ArrayD<T>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(&x, &y)| same(x, y.to_f64()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Eng {
    Reference,
    Direct,
    Fft,
    OverlapAdd,
    /// Overlap-add with transforms of at most 4 points: blocks wherever the signal is longer.
    Blocks,
    Exact,
    /// The exact engine's long accumulator alone (`fallback_only`).
    ExactTier,
    Dense,
}
use Eng::*;

const ENGINES: [Eng; 8] = [
    Reference, Direct, Fft, OverlapAdd, Blocks, Exact, ExactTier, Dense,
];
const FFTS: [Eng; 3] = [Fft, OverlapAdd, Blocks];
/// Everything but dense.
const NOT_DENSE: [Eng; 7] = [Reference, Direct, Fft, OverlapAdd, Blocks, Exact, ExactTier];

fn fft_engine(e: Eng) -> FftEngine {
    match e {
        Fft => FftEngine::new(),
        OverlapAdd => FftEngine::overlap_add(),
        Blocks => FftEngine::new().blocking(Blocking::Capped(4)),
        _ => unreachable!("{e:?} is not an FFT engine"),
    }
}

fn run<T: El>(e: Eng, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
    match e {
        Reference => ReferenceEngine.conv(p),
        Direct => DirectEngine::new().conv(p),
        Fft | OverlapAdd | Blocks => fft_engine(e).conv(p),
        Exact => ExactEngine::new().conv(p),
        ExactTier => ExactEngine::new().fallback_only().conv(p),
        Dense => DenseEngine.conv(p),
    }
}

/// The method engine runs the engine it names: the same result bit for bit (or the same
/// error); `auto` gives the result of the method its plan chooses.
fn check_method_engines<T: El>(
    p: &Problem<'_, T>,
    base: impl Fn(Eng) -> Result<ArrayD<T>, ConvError>,
) {
    let counterpart = |m: Method| match m {
        Method::Direct => Direct,
        Method::Fft => Fft,
        Method::OverlapAdd => OverlapAdd,
        Method::Auto => unreachable!(),
    };
    for m in [
        Method::Direct,
        Method::Fft,
        Method::OverlapAdd,
        Method::Auto,
    ] {
        let got = MethodEngine::new(m).conv(p);
        let e = match m {
            Method::Auto => match MethodEngine::new(m).plan(p) {
                Ok(plan) => counterpart(plan.chosen),
                Err(_) => Direct, // refused: every engine refuses alike
            },
            m => counterpart(m),
        };
        match (got, base(e)) {
            (Ok(a), Ok(b)) => assert!(same_arrays(&a, &b), "method {m}: {a:?} vs {e:?} {b:?}"),
            (Err(a), Err(b)) => assert_eq!(a, b, "method {m}"),
            (a, b) => panic!("method {m}: {a:?} vs {e:?} {b:?}"),
        }
    }
}

/// A problem's data, owned.
struct Data<T> {
    x: ArrayD<T>,
    w: ArrayD<T>,
    b: Option<Array1<T>>,
    spec: ConvSpec<T>,
}

fn data<T: El>(xs: &[usize], x: &[f64], ws: &[usize], w: &[f64]) -> Data<T> {
    let arr = |s: &[usize], v: &[f64]| {
        ArrayD::from_shape_vec(IxDyn(s), v.iter().map(|&v| cast::<T>(v)).collect()).unwrap()
    };
    Data {
        x: arr(xs, x),
        w: arr(ws, w),
        b: None,
        spec: ConvSpec::new(),
    }
}

/// `(1, 1, n)` input and `(1, 1, k)` weight, valid cross-correlation.
fn d1<T: El>(x: &[f64], w: &[f64]) -> Data<T> {
    data(&[1, 1, x.len()], x, &[1, 1, w.len()], w)
}

impl<T: El> Data<T> {
    fn bias(mut self, b: &[f64]) -> Self {
        self.b = Some(b.iter().map(|&v| cast::<T>(v)).collect());
        self
    }
    fn spec(mut self, spec: ConvSpec<T>) -> Self {
        self.spec = spec;
        self
    }
    fn problem(&self) -> Problem<'_, T> {
        let mut p = Problem::new(self.x.view(), self.w.view()).spec(self.spec.clone());
        p.bias = self.b.as_ref().map(|b| b.view());
        p
    }
    /// Every engine refuses the problem with `want` (nothing panics).
    fn refused(&self, want: ConvError) {
        let p = self.problem();
        for e in ENGINES {
            assert_eq!(run(e, &p).unwrap_err(), want, "{e:?}");
        }
        check_method_engines(&p, |e| run(e, &p));
    }
}

/// Every engine's result of one problem; each engine must be given an expectation before the
/// value is dropped (a case that forgets an engine fails).
struct Runs<T: El> {
    data: Data<T>,
    out: Vec<(Eng, ArrayD<T>)>,
    checked: RefCell<Vec<Eng>>,
}

fn runs<T: El>(data: Data<T>) -> Runs<T> {
    let p = data.problem();
    let out: Vec<(Eng, ArrayD<T>)> = ENGINES
        .iter()
        .map(|&e| (e, run(e, &p).unwrap_or_else(|err| panic!("{e:?}: {err}"))))
        .collect();
    let get = |e: Eng| Ok(out.iter().find(|(f, _)| *f == e).unwrap().1.clone());
    // The two tiers of the exact engine are the same function.
    assert!(same_arrays(&get(Exact).unwrap(), &get(ExactTier).unwrap()));
    check_method_engines(&p, get);
    drop(p);
    Runs {
        data,
        out,
        checked: RefCell::new(Vec::new()),
    }
}

impl<T: El> Runs<T> {
    fn get(&self, e: Eng) -> &ArrayD<T> {
        self.checked.borrow_mut().push(e);
        &self.out.iter().find(|(f, _)| *f == e).unwrap().1
    }

    /// These engines give exactly `want` (row-major), sign of zero included.
    fn expect(&self, engines: &[Eng], want: &[f64]) {
        for &e in engines {
            let got = self.get(e);
            let ok = got.len() == want.len()
                && got.iter().zip(want).all(|(&g, &w)| {
                    let _ = cast::<T>(w);
                    same(g, w)
                });
            assert!(
                ok,
                "{e:?} ({}): got {:?}, want {want:?}",
                T::NAME,
                got.iter().collect::<Vec<_>>()
            );
        }
    }

    /// These engines give zeros, of either sign.
    fn zeros(&self, engines: &[Eng]) {
        for &e in engines {
            let got = self.get(e);
            assert!(got.iter().all(|v| v.to_f64() == 0.0), "{e:?}: {got:?}");
        }
    }

    /// These engines' results pass `conv_oracle::oracle::judge` under `model` (`None`: the FFT engine's
    /// own normwise model).
    fn judged(&self, engines: &[Eng], model: Option<&Model>) {
        let p = self.data.problem();
        for &e in engines {
            let got = self.get(e);
            let own;
            let m = match model {
                Some(m) => m,
                None => {
                    own = fft_engine(e).normwise_model(&p).unwrap();
                    &own
                }
            };
            let r = judge(&p, got.view(), m).unwrap();
            assert!(r.passed(), "{e:?} ({}): {r}", T::NAME);
        }
    }

    /// The FFT engines are within their own normwise bound (special values included).
    fn within_bound(&self) {
        self.judged(&FFTS, None);
    }
}

impl<T: El> Drop for Runs<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let checked = self.checked.borrow();
        let missing: Vec<Eng> = ENGINES
            .into_iter()
            .filter(|e| !checked.contains(e))
            .collect();
        assert!(missing.is_empty(), "no expectation for {missing:?}");
    }
}

/// `#[test] fn f32()` and `fn f64()` running the generic case of the same name.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[test]
            fn f32() {
                super::$name::<f32>();
            }
            #[test]
            fn f64() {
                super::$name::<f64>();
            }
        })*
    };
}

both!(
    nan_in_input_reaches_only_its_windows,
    nan_in_weight_or_bias_stays_in_its_channel,
    nan_stays_in_its_group,
    nan_boundary_constant_counts_only_where_read,
    one_signed_infinity_gives_that_infinity,
    opposite_infinities_give_nan,
    infinity_times_zero_is_nan,
    zero_padding_is_a_zero_term,
    an_input_no_window_reads_is_no_term,
    sign_of_zero,
    tiny_negative_sum_rounds_to_minus_zero,
    subnormal_inputs_are_not_flushed,
    subnormal_outputs_of_normal_inputs,
    products_below_half_the_smallest_subnormal,
    cancellation_into_the_subnormal_range,
    fft_may_lose_small_outputs_next_to_large_ones,
    overflow_threshold,
    intermediate_overflow,
    empty_arrays,
);

// ------------------------------------------------------------------------------ NaN

/// A NaN input element makes NaN exactly the outputs whose windows read it.
fn nan_in_input_reaches_only_its_windows<T: El>() {
    // y[j] = x[j] + x[j+1]: 1+2 = 3, 2+NaN, NaN+4, 4+5 = 9.
    let r = runs(d1::<T>(&[1.0, 2.0, NAN, 4.0, 5.0], &[1.0, 1.0]));
    // The FFT engines see a non-finite value and compute the reference.
    r.expect(&NOT_DENSE, &[3.0, NAN, NAN, 9.0]);
    // Dense: every output row multiplies every input element, x[2] by a matrix 0 where the
    // window does not read it: 0 * NaN = NaN in every output (documented: no special values).
    r.expect(&[Dense], &[NAN; 4]);
}

/// A NaN weight or bias makes its whole output channel NaN and no other.
fn nan_in_weight_or_bias_stays_in_its_channel<T: El>() {
    // Four output channels (the exact engine's f32 tier computes them as one block); channel
    // 2's first tap is NaN: every output of channel 2 has the term NaN * x = NaN. The others
    // are x[j] + x[j+1] = 3, 5, 7, 9.
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let w = [1.0, 1.0, 1.0, 1.0, NAN, 1.0, 1.0, 1.0];
    let r = runs(data::<T>(&[1, 1, 5], &x, &[4, 1, 2], &w));
    let ok = [3.0, 5.0, 7.0, 9.0];
    let want: Vec<f64> = [ok, ok, [NAN; 4], ok].concat();
    // Dense too: channel 2's weights fill only channel 2's rows.
    r.expect(&ENGINES, &want);

    // A NaN bias is the first term of every output of its channel: channel 0 is NaN, channel
    // 1 is 0.5 + x[j] + x[j+1].
    let w = [1.0; 4];
    let r = runs(data::<T>(&[1, 1, 5], &x, &[2, 1, 2], &w).bias(&[NAN, 0.5]));
    r.expect(&ENGINES, &[NAN, NAN, NAN, NAN, 3.5, 5.5, 7.5, 9.5]);
}

/// With groups, a NaN input channel reaches only its group's outputs.
fn nan_stays_in_its_group<T: El>() {
    // Depthwise (groups 2), 1x1 kernels of 1: y[o] = x[o]. Channel 0 = [NaN, 1], 1 = [2, 3].
    let d = data::<T>(&[1, 2, 2], &[NAN, 1.0, 2.0, 3.0], &[2, 1, 1], &[1.0, 1.0])
        .spec(ConvSpec::new().groups(2));
    let r = runs(d);
    r.expect(&NOT_DENSE, &[NAN, 1.0, 2.0, 3.0]);
    // Dense: the block-diagonal matrix's zeros multiply x[0, 0] = NaN in every row.
    r.expect(&[Dense], &[NAN; 4]);
}

/// A NaN boundary constant is a term only where a window reads the padding.
fn nan_boundary_constant_counts_only_where_read<T: El>() {
    // Valid: no padding at all, y = [1+2, 2+3].
    let d = d1::<T>(&[1.0, 2.0, 3.0], &[1.0, 1.0])
        .spec(ConvSpec::new().boundary(Boundary::Constant(cast(NAN))));
    runs(d).expect(&ENGINES, &[3.0, 5.0]);
    // Pads (2, 2), stride 3, k = 1: padded [c c 1 2 c c], outputs read positions 0 and 3:
    // [c, 2] = [NaN, 2]; the padding at positions 1, 4, 5 is never read.
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(2, 2)]))
        .stride([3])
        .boundary(Boundary::Constant(cast(NAN)));
    let r = runs(d1::<T>(&[1.0, 2.0], &[1.0]).spec(spec));
    r.expect(&ENGINES, &[NAN, 2.0]);
}

// ------------------------------------------------------------------------------ infinities

fn one_signed_infinity_gives_that_infinity<T: El>() {
    // inf + finite = inf: y = [1+2, 2+inf, inf+4, 4+5].
    let r = runs(d1::<T>(&[1.0, 2.0, INF, 4.0, 5.0], &[1.0, 1.0]));
    r.expect(&NOT_DENSE, &[3.0, INF, INF, 9.0]);
    // Dense: 0 * inf = NaN in the rows whose windows do not read x[2].
    r.expect(&[Dense], &[NAN, INF, INF, NAN]);

    // A -inf weight: every window has the term -inf * x (x > 0) = -inf and finite others.
    // Dense too: its zero entries multiply finite inputs only.
    let r = runs(d1::<T>(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, -INF]));
    r.expect(&ENGINES, &[-INF; 4]);

    // An infinite bias with finite products: inf.
    let r = runs(d1::<T>(&[1.0, 2.0], &[1.0]).bias(&[INF]));
    r.expect(&ENGINES, &[INF, INF]);
}

fn opposite_infinities_give_nan<T: El>() {
    // y[0] = inf + -inf = NaN (whatever the order); y[1] = -inf + 1 = -inf.
    let r = runs(d1::<T>(&[INF, -INF, 1.0], &[1.0, 1.0]));
    r.expect(&NOT_DENSE, &[NAN, -INF]);
    // Dense: row 1 also multiplies x[0] = inf by 0.
    r.expect(&[Dense], &[NAN, NAN]);
    // A bias of one sign and a product of the other: -inf + inf = NaN.
    let r = runs(d1::<T>(&[INF], &[1.0]).bias(&[-INF]));
    r.expect(&ENGINES, &[NAN]);
}

fn infinity_times_zero_is_nan<T: El>() {
    // w = [1, 0]: y[0] = 1*1 + 0*inf = NaN; y[1] = 1*inf + 0*3 = inf; y[2] = 3 + 0*4 = 3.
    let r = runs(d1::<T>(&[1.0, INF, 3.0, 4.0], &[1.0, 0.0]));
    r.expect(&NOT_DENSE, &[NAN, INF, 3.0]);
    // Dense: row 2's zero entry for x[1] gives 0 * inf = NaN.
    r.expect(&[Dense], &[NAN, INF, NAN]);
}

/// Zero padding is the boundary constant 0: every window position in the padding is the term
/// `w * 0`, so an infinite weight over the padding gives NaN (no engine drops the term).
fn zero_padding_is_a_zero_term<T: El>() {
    // Full, w = [inf, 1]: padded [0 1 2 3 0]. y[0] = inf*0 + 1*1 = NaN; y[1] = inf*1 + 2;
    // y[2] = inf*2 + 3; y[3] = inf*3 + 1*0: inf.
    let spec = ConvSpec::new().padding(Padding::Full);
    let r = runs(d1::<T>(&[1.0, 2.0, 3.0], &[INF, 1.0]).spec(spec));
    // Dense adds w * 0 for every padded tap to its offset: the same NaN.
    r.expect(&ENGINES, &[NAN, INF, INF, INF]);

    // An infinite boundary constant: padded [inf 1 2 3 inf], w = [1, 0]. y[0] = inf + 0*1 =
    // inf; y[1] = 1 + 0; y[2] = 2 + 0; y[3] = 3 + 0*inf = NaN.
    let spec = ConvSpec::new()
        .padding(Padding::Full)
        .boundary(Boundary::Constant(cast(INF)));
    let r = runs(d1::<T>(&[1.0, 2.0, 3.0], &[1.0, 0.0]).spec(spec));
    r.expect(&ENGINES, &[INF, 1.0, 2.0, NAN]);
}

/// An input element no window reads (stride) is no term at all.
fn an_input_no_window_reads_is_no_term<T: El>() {
    // Stride 2, k = 1: outputs read x[0] and x[2] only.
    let spec = ConvSpec::new().stride([2]);
    let r = runs(d1::<T>(&[1.0, INF, 3.0], &[1.0]).spec(spec));
    r.expect(&NOT_DENSE, &[1.0, 3.0]);
    // Dense: its matrix has a column for x[1] (all zeros): 0 * inf = NaN in both rows.
    r.expect(&[Dense], &[NAN, NAN]);
}

// ------------------------------------------------------------------------------ sign of zero

/// The exact engine gives the sign IEEE addition gives the exact terms (`-0` when every
/// term is `-0`); the summing engines start from `+0` (or the bias), so `+0 + -0 = +0`;
/// the FFT engines give a zero of unspecified sign. `compare` never judges the sign of zero.
fn sign_of_zero<T: El>() {
    let full = || ConvSpec::new().padding(Padding::Full);
    let cases: [Data<T>; 6] = [
        // 1 * -0: the only term is -0.
        d1(&[-0.0], &[1.0]),
        // 1 * -0 and -1 * +0: both terms -0.
        d1(&[-0.0, 0.0], &[1.0, -1.0]),
        // bias -0 then 1 * -0: every term -0, the bias first.
        d1(&[-0.0], &[1.0]).bias(&[-0.0]),
        // bias -0 then 1 * +0: -0 + +0 = +0.
        d1(&[0.0], &[1.0]).bias(&[-0.0]),
        // Full padding, w = [1, -1], x = [-0], padded [+0 -0 +0]:
        // y[0] = 1*(+0) + (-1)*(-0) = +0 + +0; y[1] = 1*(-0) + (-1)*(+0) = -0 + -0.
        d1(&[-0.0], &[1.0, -1.0]).spec(full()),
        // Exact cancellation of nonzero terms: 1 - 1 = +0 in every engine.
        d1(&[1.0, 1.0], &[1.0, -1.0]),
    ];
    let want_exact: [&[f64]; 6] = [&[-0.0], &[-0.0], &[-0.0], &[0.0], &[0.0, -0.0], &[0.0]];
    // Reference, direct, dense start from +0 (or the bias, the first term): only the bias
    // -0 case keeps -0 (-0 + -0). Direct f32 sums in f64 from the same start: the same.
    let want_sum: [&[f64]; 6] = [&[0.0], &[0.0], &[-0.0], &[0.0], &[0.0, 0.0], &[0.0]];
    for (i, d) in cases.into_iter().enumerate() {
        let r = runs(d);
        r.expect(&[Exact, ExactTier], want_exact[i]);
        r.expect(&[Reference, Direct, Dense], want_sum[i]);
        if i < 5 {
            // All data (and bias) are zeros: the transforms, products and rescaling of zeros
            // are zeros; their sign is the transforms' business.
            r.zeros(&FFTS);
        }
        r.within_bound();
        // Whatever the sign, the zeros are exact under `compare` (sign never judged).
        r.judged(
            &[Reference, Direct, Dense, Exact, ExactTier],
            Some(&Model::Exact),
        );
        if i < 5 {
            r.judged(&FFTS, Some(&Model::Exact));
        }
    }
}

/// A nonzero negative exact sum below half the smallest subnormal rounds to `-0`.
fn tiny_negative_sum_rounds_to_minus_zero<T: El>() {
    // f64: 2^-600 * -2^-600 = -2^-1200; f32: 2^-100 * -2^-100 = -2^-200. Both are below half
    // the smallest subnormal (2^-1075, 2^-150): rounded to nearest, a zero of their sign.
    let e = if T::WIDE_DIRECT { -100 } else { -600 };
    let r = runs(d1::<T>(&[p2(e)], &[-p2(e)]));
    // The product alone rounds to -0: exact -0.
    r.expect(&[Exact, ExactTier], &[-0.0]);
    // Reference and dense round the product in T to -0 and add it to +0: +0.
    r.expect(&[Reference, Dense], &[0.0]);
    // Direct f64 does what the reference does (+0); direct f32 forms -2^-200 exactly in f64,
    // adds it to +0 (-2^-200) and rounds once to f32: -0.
    r.expect(&[Direct], &[if T::WIDE_DIRECT { -0.0 } else { 0.0 }]);
    // FFT: the data are scaled to 1 and -1 (powers of two, exact), the transform result is
    // -1 up to ~1e-16, and scaling back by 2^(2e) (then rounding to f32) underflows to a
    // zero with the sign of the negative value: -0.
    r.expect(&FFTS, &[-0.0]);
}

// ------------------------------------------------------------------------------ subnormals

/// Subnormal data are used as they are (no engine flushes them to zero).
fn subnormal_inputs_are_not_flushed<T: El>() {
    // eta = the smallest positive subnormal. x = [1 2 3] eta, w = [1 1]: products exact,
    // sums of subnormals exact (on the eta grid, below the normal range): [3, 5] eta.
    let eta = T::SUBNORMAL_MIN;
    let r = runs(d1::<T>(&[eta, 2.0 * eta, 3.0 * eta], &[1.0, 1.0]));
    r.expect(&ENGINES, &[3.0 * eta, 5.0 * eta]);
    // That includes the FFT: the input is scaled by a power of two to [1/4 1/2 3/4] (exact),
    // the scaled result [3/4 5/4] comes out within ~1e-15, and scaling back rounds it to the
    // eta grid, whose spacing is 1/4 in scaled units: exact.
    r.within_bound();
}

fn subnormal_outputs_of_normal_inputs<T: El>() {
    // x = 2^a [1 3 1], w = [2^b, 2^(b-1)] with a + b below the normal range (a, b, and the
    // products stay on the subnormal grid): y[0] = 2^(a+b) + 3 * 2^(a+b-1) = 5 * 2^(a+b-1),
    // y[1] = 3 * 2^(a+b) + 2^(a+b-1) = 7 * 2^(a+b-1); every product and sum exact.
    let (a, b) = if T::WIDE_DIRECT {
        (-120, -20)
    } else {
        (-1000, -70)
    };
    let x = [p2(a), 3.0 * p2(a), p2(a)];
    let r = runs(d1::<T>(&x, &[p2(b), p2(b - 1)]));
    let s = p2(a + b - 1);
    assert!(5.0 * s < T::NORMAL_MIN);
    r.expect(&ENGINES, &[5.0 * s, 7.0 * s]);
    // FFT too: scaled to [1/4 3/4 1/4] and [1 1/2], the result [5/8 7/8] (error ~1e-16) is
    // rounded to the subnormal grid (spacing 2^-6 in scaled units for f64, 2^-11 for f32)
    // when scaled back: exact.
    r.within_bound();
}

/// Products below half the smallest subnormal: rounded one by one they vanish, summed
/// exactly they do not.
fn products_below_half_the_smallest_subnormal<T: El>() {
    let eta = T::SUBNORMAL_MIN;
    let d = if T::WIDE_DIRECT {
        // f32: terms 2^-75 * 2^-75 = 2^-150 (= eta/2, a tie) and 2^-149 * 2^-149 = 2^-298.
        d1::<T>(&[p2(-75), p2(-149)], &[p2(-75), p2(-149)])
    } else {
        // f64: two terms 2^-538 * 2^-537 = 2^-1075 = eta/2, each a tie.
        d1::<T>(&[p2(-538), p2(-538)], &[p2(-537), p2(-537)])
    };
    let r = runs(d);
    // Exact: f32 2^-150 + 2^-298 is above the tie eta/2 and rounds up to eta; f64
    // 2 * 2^-1075 is eta.
    r.expect(&[Exact, ExactTier], &[eta]);
    // Reference, dense: each product, rounded in T, is a tie that rounds to even, +0;
    // +0 + +0 + +0 = +0.
    r.expect(&[Reference, Dense], &[0.0]);
    // Direct: f64 as the reference; f32: the f64 sum 2^-150 + 2^-298 needs 149 bits and
    // rounds to 2^-150, a tie in f32, which rounds to even: +0 (double rounding).
    r.expect(&[Direct], &[0.0]);
    if T::WIDE_DIRECT {
        // FFT f32: its f64 value sits on the f32 tie up to ~1e-16 relative: 0 or eta (the
        // bound it states does not cover 0: `fft_f32_bound_covers_subnormal_output_rounding`).
        for e in FFTS {
            let v = r.get(e)[[0, 0, 0]].to_f64();
            assert!(v == 0.0 || v == eta, "{e:?}: {v:e}");
        }
    } else {
        // FFT f64: scaled to [1 1] * [1 1] = 2 (error ~1e-16), scaled back by 2^-1075: within
        // eta/2 of eta on the eta grid, so eta.
        r.expect(&FFTS, &[eta]);
    }
    // The lost half-subnormals are within the componentwise bound's underflow term
    // ((K + 2) eta); the FFT is within its own model under `compare`.
    r.judged(
        &[Reference, Direct, Dense, Exact, ExactTier],
        Some(&Model::Componentwise),
    );
    r.within_bound();
}

/// Cancellation of normal values into the subnormal range is exact (Sterbenz, gradual
/// underflow).
fn cancellation_into_the_subnormal_range<T: El>() {
    // 1.25 * 2^emin - 2^emin = 2^(emin - 2): subnormal, representable, exact.
    let m = p2(T::MIN_NORMAL_EXP);
    let r = runs(d1::<T>(&[1.25 * m, m], &[1.0, -1.0]));
    r.expect(
        &[Reference, Direct, Dense, Exact, ExactTier],
        &[p2(T::MIN_NORMAL_EXP - 2)],
    );
    // FFT: the error of the scaled transform is of the order of the spacing there; only the
    // bound is promised.
    r.within_bound();
}

/// The FFT's error is absolute (`u * |x| |w|` in norm): an output much smaller than the
/// largest ones may be lost entirely, within the bound.
fn fft_may_lose_small_outputs_next_to_large_ones<T: El>() {
    // x = [1, eta, 2^100, eta], w = [1, 1]: y = [1 + eta, eta + 2^100, 2^100 + eta]; eta is
    // far below half an ulp of 1 and of 2^100 (also in direct's f64 sum): [1, 2^100, 2^100].
    let eta = T::SUBNORMAL_MIN;
    let big = p2(100);
    let d = d1::<T>(&[1.0, eta, big, eta], &[1.0, 1.0]);
    let model = fft_engine(Fft).normwise_model(&d.problem()).unwrap();
    let r = runs(d);
    r.expect(
        &[Reference, Direct, Dense, Exact, ExactTier],
        &[1.0, big, big],
    );
    // The bound (about u * 2^100) exceeds y[0] = 1: the FFT may return anything near 0
    // there, and does not promise more.
    assert!(
        matches!(model, Model::Normwise { bound } if bound > 1.0),
        "{model:?}"
    );
    r.within_bound();
}

// ------------------------------------------------------------------------------ overflow

/// A finite exact sum rounds to infinity from `MAX + ulp(MAX)/2` on (a tie, to even).
fn overflow_threshold<T: El>() {
    let (max, h) = (T::MAX_FINITE, T::HALF_ULP_OF_MAX);
    // MAX + h is the midpoint between MAX (odd significand) and 2^(emax+1): the tie goes to
    // the even one, which overflows: +inf, in one rounding (reference, dense, exact; direct
    // f32 forms MAX32 + 2^103 exactly in f64 and rounds once).
    let r = runs(d1::<T>(&[max, h], &[1.0, 1.0]));
    r.expect(&[Reference, Direct, Dense, Exact, ExactTier], &[INF]);
    // The FFT must match an infinite exact value (compare's special-value rule).
    r.within_bound();
    // Below the midpoint: MAX.
    let r = runs(d1::<T>(&[max, h / 2.0], &[1.0, 1.0]));
    r.expect(&[Reference, Direct, Dense, Exact, ExactTier], &[max]);
    r.within_bound();
    // The negative side: -inf.
    let r = runs(d1::<T>(&[-max, -h], &[1.0, 1.0]));
    r.expect(&[Reference, Direct, Dense, Exact, ExactTier], &[-INF]);
    r.within_bound();
    // One product beyond the range: 2 * MAX rounds to +inf.
    let r = runs(d1::<T>(&[max], &[2.0]));
    r.expect(&[Reference, Direct, Dense, Exact, ExactTier], &[INF]);
    r.within_bound();
}

/// A finite exact sum whose partial sums overflow in the summation order: the exact engine
/// gives the finite value, the summing engines what their order gives; `compare`'s
/// componentwise rule does not judge such an element (`A (1 + gamma_K) >= MAX`).
fn intermediate_overflow<T: El>() {
    let (max, h) = (T::MAX_FINITE, T::HALF_ULP_OF_MAX);
    let cw = Some(&Model::Componentwise);

    // [MAX, MAX, -MAX]: exact MAX. In T: MAX + MAX = inf, inf - MAX = inf. Direct f32 sums in
    // f64, where 2 MAX32 - MAX32 = MAX32 exactly.
    let r = runs(d1::<T>(&[max, max, -max], &[1.0; 3]));
    r.expect(&[Exact, ExactTier], &[max]);
    r.expect(&[Reference, Dense], &[INF]);
    r.expect(&[Direct], &[if T::WIDE_DIRECT { max } else { INF }]);
    r.judged(&[Reference, Direct, Dense], cw);
    r.within_bound();

    // 2 MAX - 2 MAX + 1: exact 1. In T: inf + -inf = NaN, + 1 = NaN. Direct f32: products
    // exact in f64, 2 MAX32 - 2 MAX32 + 1 = 1.
    let r = runs(d1::<T>(&[max, max, 1.0], &[2.0, -2.0, 1.0]));
    r.expect(&[Exact, ExactTier], &[1.0]);
    r.expect(&[Reference, Dense], &[NAN]);
    r.expect(&[Direct], &[if T::WIDE_DIRECT { 1.0 } else { NAN }]);
    r.judged(&[Reference, Direct, Dense], cw);
    r.within_bound();

    // At the threshold: MAX + h - s (s small: 2^-100 in f32, 2^900 in f64) is below the
    // midpoint: exact MAX. In T: MAX + h = inf, then inf. Direct f32: the f64 sum of
    // MAX32 + 2^103 - 2^-100 rounds to 53 bits as MAX32 + 2^103 (the f32 tie), which rounds
    // to even: inf (double rounding); direct f64 is the reference's order: inf.
    let s = if T::WIDE_DIRECT { p2(-100) } else { p2(900) };
    let r = runs(d1::<T>(&[max, h, -s], &[1.0; 3]));
    r.expect(&[Exact, ExactTier], &[max]);
    r.expect(&[Reference, Direct, Dense], &[INF]);
    r.judged(&[Reference, Direct, Dense], cw);
    // The FFT's scaled-back result overflows, and it recomputes with the exact engine:
    // MAX (fft_overflow_fallback_is_within_its_own_model).
    r.expect(&FFTS, &[max]);
    r.within_bound();

    // Two taps reading the same input element (circular padding of a 1-element input): the
    // formula forms MAX * 1/2 twice (exact) and adds them: MAX, in every order. Dense merges
    // the taps into one matrix entry first: (MAX + MAX) * 1/2 = inf * 1/2 = inf.
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(1, 0)]))
        .boundary(Boundary::Circular);
    let r = runs(d1::<T>(&[0.5], &[max, max]).spec(spec));
    r.expect(&[Reference, Direct, Exact, ExactTier], &[max]);
    r.expect(&[Dense], &[INF]);
    r.judged(&[Dense], cw);
    r.within_bound();
}

// ------------------------------------------------------------------------------ empty arrays

/// A zero batch is an empty result; any other empty axis is `ConvError::EmptyArray` naming
/// the array and the axis (counted over all its axes). Nothing panics.
fn empty_arrays<T: El>() {
    let one = [1.0; 16];
    // Batch 0: shape (0, O, out...), with or without bias, any rank.
    for (xs, ws, bias, out) in [
        (vec![0, 1, 4], vec![1, 1, 2], false, vec![0, 1, 3]),
        (vec![0, 1, 4], vec![1, 1, 2], true, vec![0, 1, 3]),
        (vec![0, 1, 4, 4], vec![1, 1, 2, 2], false, vec![0, 1, 3, 3]),
    ] {
        let k: usize = ws.iter().product();
        let mut d = data::<T>(&xs, &[], &ws, &one[..k]);
        if bias {
            d = d.bias(&[1.0]);
        }
        let p = d.problem();
        let model = fft_engine(Fft).normwise_model(&p).unwrap();
        let r = runs(d);
        for e in ENGINES {
            assert_eq!(r.get(e).shape(), &out[..], "{e:?}");
        }
        // Judging an empty result: nothing to compare, a pass under every model.
        r.judged(&ENGINES, Some(&Model::Exact));
        r.judged(&ENGINES, Some(&Model::Componentwise));
        r.judged(&ENGINES, Some(&model));
    }
    let err = |what, axis| ConvError::EmptyArray { what, axis };
    // Zero input channels (and so zero weight channels).
    data::<T>(&[1, 0, 4], &[], &[1, 0, 2], &[]).refused(err("input", 1));
    // No spatial axis and zero channels.
    data::<T>(&[1, 0], &[], &[1, 0], &[]).refused(err("input", 1));
    // A zero-length spatial axis, even with padding that would give outputs.
    data::<T>(&[1, 1, 0], &[], &[1, 1, 2], &[1.0; 2]).refused(err("input", 2));
    data::<T>(&[1, 1, 0], &[], &[1, 1, 2], &[1.0; 2])
        .spec(ConvSpec::new().padding(Padding::Full))
        .refused(err("input", 2));
    // Zero output channels.
    data::<T>(&[1, 1, 4], &[1.0; 4], &[0, 1, 2], &[]).refused(err("weight", 0));
    // Zero input channels per group in the weight (the input has 2).
    data::<T>(&[1, 2, 4], &[1.0; 8], &[1, 0, 2], &[]).refused(err("weight", 1));
    // A zero-size kernel, even with full padding.
    data::<T>(&[1, 1, 4], &[1.0; 4], &[1, 1, 0], &[]).refused(err("weight", 2));
    data::<T>(&[1, 1, 4], &[1.0; 4], &[1, 1, 0], &[])
        .spec(ConvSpec::new().padding(Padding::Full))
        .refused(err("weight", 2));
}

/// The other entry points: scipy-style signals, the layer API (channels last), and
/// transposed convolution.
#[test]
fn empty_arrays_elsewhere() {
    use conv_oracle::{Boundary2d, Mode, convolve, convolve2d, correlate};
    let err = |what, axis| ConvError::EmptyArray { what, axis };
    let empty = Array1::<f64>::zeros(0);
    let k = Array1::from(vec![1.0, 2.0]);
    // numpy and scipy refuse empty inputs ("a cannot be empty").
    assert_eq!(
        convolve(empty.view(), k.view(), Mode::Full),
        Err(err("in1", 0))
    );
    assert_eq!(
        convolve(k.view(), empty.view(), Mode::Full),
        Err(err("in2", 0))
    );
    assert_eq!(
        correlate(empty.view(), empty.view(), Mode::Valid),
        Err(err("in1", 0))
    );
    let e2 = ndarray::Array2::<f64>::zeros((0, 3));
    let k2 = ndarray::Array2::<f64>::ones((1, 1));
    let got = convolve2d(e2.view(), k2.view(), Mode::Same, Boundary2d::Fill(0.0));
    assert_eq!(got, Err(err("in1", 0)));

    // Layer API, channels last (N, W, C): batch 0 is an empty (0, 3, 1) result; C = 0 is
    // the channels-first view's axis 1.
    let spec = LayerSpec {
        input_layout: conv_oracle::layer::InputLayout::ChannelsLast,
        ..LayerSpec::default()
    };
    let w = ArrayD::<f64>::ones(IxDyn(&[1, 1, 2]));
    let x = ArrayD::<f64>::zeros(IxDyn(&[0, 4, 1]));
    let y = conv_oracle::layer::conv(x.view(), w.view(), None, &spec).unwrap();
    assert_eq!(y.shape(), &[0, 3, 1]);
    let x = ArrayD::<f64>::zeros(IxDyn(&[1, 4, 0]));
    let got = conv_oracle::layer::conv(x.view(), w.view(), None, &spec);
    assert_eq!(got.unwrap_err(), err("input", 1));

    // Transposed: batch 0 gives (0, C_out, (n - 1) + k) = (0, 1, 4) from the literal formula,
    // the exact one and the stuffed engines; judging it passes.
    let x = ArrayD::<f64>::zeros(IxDyn(&[0, 1, 3]));
    let p = TransposeProblem::new(x.view(), w.view());
    let lit = conv_transpose(x.view(), w.view(), None, &TransposeSpec::default()).unwrap();
    assert_eq!(lit.shape(), &[0, 1, 4]);
    assert_eq!(
        conv_oracle::oracle::exact_transpose(&p).unwrap().shape(),
        &[0, 1, 4]
    );
    let stuffed = Stuffed::new(DirectEngine::new())
        .conv_transpose(&p)
        .unwrap();
    assert_eq!(stuffed.shape(), &[0, 1, 4]);
    assert!(
        judge_transpose(&p, lit.view(), &Model::Exact)
            .unwrap()
            .passed()
    );
    // Other empty axes: input channels, length, the weight's C_out/groups, the kernel.
    for (xs, ws, want) in [
        (vec![1, 0, 3], vec![0, 1, 2], err("input", 1)),
        (vec![1, 1, 0], vec![1, 1, 2], err("input", 2)),
        (vec![1, 1, 3], vec![1, 0, 2], err("weight", 1)),
        (vec![1, 1, 3], vec![1, 1, 0], err("weight", 2)),
    ] {
        let x = ArrayD::<f64>::ones(IxDyn(&xs));
        let w = ArrayD::<f64>::ones(IxDyn(&ws));
        let p = TransposeProblem::new(x.view(), w.view());
        let spec = TransposeSpec::default();
        assert_eq!(
            conv_transpose(x.view(), w.view(), None, &spec).unwrap_err(),
            want
        );
        assert_eq!(conv_oracle::oracle::exact_transpose(&p).unwrap_err(), want);
        assert_eq!(
            Stuffed::new(DirectEngine::new())
                .conv_transpose(&p)
                .unwrap_err(),
            want
        );
    }
}

// ------------------------------------------------------------------------------ layer, transposed

/// The layer API permutes axes around an engine: the special values stay where the
/// channels-first engine puts them.
#[test]
fn layer_channels_last_keeps_the_nan_pattern() {
    let spec = LayerSpec {
        input_layout: conv_oracle::layer::InputLayout::ChannelsLast,
        ..LayerSpec::default()
    };
    // (N, W, C) = (1, 5, 1): the same data as `nan_in_input_reaches_only_its_windows`.
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 5, 1]), vec![1.0, 2.0, NAN, 4.0, 5.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0, 1.0]).unwrap();
    let engines: [&dyn ConvEngine<f64>; 4] = [
        &ReferenceEngine,
        &DirectEngine::new(),
        &ExactEngine::new(),
        &FftEngine::new(),
    ];
    for e in engines {
        let y = conv_oracle::layer::conv_using(e, x.view(), w.view(), None, &spec).unwrap();
        assert_eq!(y.shape(), &[1, 4, 1]);
        let want = [3.0, NAN, NAN, 9.0];
        assert!(
            y.iter().zip(want).all(|(&g, w)| same(g, w)),
            "{}: {y:?}",
            e.name()
        );
    }
}

/// Transposed convolution: an output no input reaches has no literal term; the correctly
/// rounded result takes its zero from the zero-stuffed equivalent, and its special values
/// from the literal terms.
#[test]
fn transposed_outputs_without_terms() {
    // Stride 2, output padding 1, k = 1, x = [1, 1]: outputs 0 and 2 get x * w, outputs 1 and
    // 3 (the stride gap and the output padding) get no term.
    let spec = TransposeSpec {
        stride: vec![2],
        output_padding: vec![1],
        ..TransposeSpec::default()
    };
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0f64, 1.0]).unwrap();
    let outputs = |w: f64| {
        let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1]), vec![w]).unwrap();
        let p = TransposeProblem::new(x.view(), w.view()).spec(spec.clone());
        let lit = conv_transpose(x.view(), w.view(), None, &spec).unwrap();
        let exact = conv_oracle::oracle::exact_transpose(&p).unwrap();
        let stuffed = Stuffed::new(DirectEngine::new())
            .conv_transpose(&p)
            .unwrap();
        // The literal result is judged exact whatever the sign of its zeros.
        assert!(
            judge_transpose(&p, lit.view(), &Model::Exact)
                .unwrap()
                .passed()
        );
        let v = |a: ArrayD<f64>| a.iter().copied().collect::<Vec<_>>();
        (v(lit), v(exact), v(stuffed))
    };
    let bits = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(&g, &w)| same(g, w));

    // w = -1. Literal: the empty sum is +0. Exact: the equivalent convolution's only term
    // there is -1 * (stuffed +0) = -0, so the zero is -0 (sign of zero is never judged).
    let (lit, exact, stuffed) = outputs(-1.0);
    assert!(bits(&lit, &[-1.0, 0.0, -1.0, 0.0]), "{lit:?}");
    assert!(bits(&exact, &[-1.0, -0.0, -1.0, -0.0]), "{exact:?}");
    // The stuffed direct engine starts from +0: +0 + -0 = +0.
    assert!(bits(&stuffed, &[-1.0, 0.0, -1.0, 0.0]), "{stuffed:?}");

    // w = inf. Literal: inf * 1 at 0 and 2, no term at 1 and 3 (+0). Exact: special values
    // from the literal terms, the finite part from the equivalent with inf taken as 0
    // (0 * +0 = +0). The stuffed engine multiplies the stuffed zeros: inf * 0 = NaN
    // (documented: `Stuffed` leaves special values out of its capabilities).
    let (lit, exact, stuffed) = outputs(INF);
    assert!(bits(&lit, &[INF, 0.0, INF, 0.0]), "{lit:?}");
    assert!(bits(&exact, &[INF, 0.0, INF, 0.0]), "{exact:?}");
    assert!(bits(&stuffed, &[INF, NAN, INF, NAN]), "{stuffed:?}");
}

// ------------------------------------------------------------------------------ the judge's rules

/// `tolerance::judge_elements` (the CLI's `judge`): special values first, for every model.
#[test]
fn judge_rules_for_special_values() {
    let models = [
        Model::Exact,
        Model::Ulp(0),
        Model::Componentwise,
        Model::Tosa,
        Model::Normwise { bound: 0.0 },
        Model::RtolAtol {
            rtol: 0.0,
            atol: 0.0,
        },
    ];
    // `abs_sum` 1: far from overflow.
    let verdict = |m: &Model, got: f64, exact: f64, a: f64| {
        judge_elements(m, &[got], &[exact], &[a], 1).passed()
    };
    let quiet_negative_nan = -f64::from_bits(f64::NAN.to_bits() | 1);
    for m in &models {
        // NaN equals any NaN (payload and sign ignored).
        assert!(verdict(m, quiet_negative_nan, NAN, 1.0), "{m:?}");
        // NaN against a number, either way: fails.
        assert!(!verdict(m, NAN, 1.0, 1.0), "{m:?}");
        assert!(!verdict(m, 1.0, NAN, 1.0), "{m:?}");
        // Infinities must be the same infinity.
        assert!(verdict(m, INF, INF, 1.0), "{m:?}");
        assert!(!verdict(m, -INF, INF, 1.0), "{m:?}");
        // An overflow is not one ulp: MAX against +inf fails (either way).
        assert!(!verdict(m, f64::MAX, INF, 1.0), "{m:?}");
        assert!(!verdict(m, INF, f64::MAX, 1.0), "{m:?}");
        // The sign of zero is never judged.
        assert!(verdict(m, -0.0, 0.0, 0.0), "{m:?}");
        assert!(verdict(m, 0.0, -0.0, 0.0), "{m:?}");
    }
    // Componentwise and TOSA: when A (1 + gamma_K) reaches MAX, a correct summation may
    // overflow: anything passes (inf, NaN, a wrong finite value)...
    for m in [Model::Componentwise, Model::Tosa] {
        assert!(verdict(&m, INF, f64::MAX, f64::MAX), "{m:?}");
        assert!(verdict(&m, NAN, 1.0, f64::MAX), "{m:?}");
        assert!(verdict(&m, -INF, 1.0, f64::MAX), "{m:?}");
        // ... except against an exact NaN (a NaN term, or infinities of both signs).
        assert!(!verdict(&m, 1.0, NAN, f64::MAX), "{m:?}");
    }
    // The other models have no such exception.
    assert!(!verdict(&Model::Exact, INF, f64::MAX, f64::MAX));
    // The ULP line through zero: +-eta are 2 apart, +-0 are 0 apart.
    let eta = f64::from_bits(1);
    assert_eq!(conv_oracle::tolerance::ulp_distance_f64(eta, -eta), 2);
    assert_eq!(conv_oracle::tolerance::ulp_distance_f64(0.0, -0.0), 0);
    assert!(verdict(&Model::Ulp(2), -eta, eta, 0.0));
    assert!(!verdict(&Model::Ulp(1), -eta, eta, 0.0));
}

// ------------------------------------------------------------------------------ fixed bugs

/// Was a bug: when the transforms overflowed, the FFT engine computed the reference, whose
/// left-to-right sum overflows where the exact sum is finite (just below the overflow
/// threshold, with a cancelling term). The result, `inf` against a finite exact `MAX`, fails
/// the FFT engine's own model under `compare` (and "obeys the normwise bound" in
/// `engine/fft/mod.rs`).
#[test]
fn fft_overflow_fallback_is_within_its_own_model() {
    fn check<T: El>(s: f64) {
        // MAX + ulp(MAX)/2 - s: below the overflow threshold, exact value MAX.
        let d = d1::<T>(&[T::MAX_FINITE, T::HALF_ULP_OF_MAX, -s], &[1.0; 3]);
        let p = d.problem();
        for e in FFTS {
            let f = fft_engine(e);
            let (y, path) = f.conv_with_path(&p).unwrap();
            let r = judge(&p, y.view(), &f.normwise_model(&p).unwrap()).unwrap();
            assert!(r.passed(), "{e:?} ({}), path {path:?}: {r}", T::NAME);
        }
    }
    check::<f32>(p2(-100));
    check::<f64>(p2(900));
}

/// Was a bug: the FFT bound of `f32` results (`FftTerms::bound` with `output_roundoff`) counts the
/// final rounding to `f32` as relative (`u |y|`) only; in the subnormal range it is absolute,
/// up to `2^-150`. Here the exact value is `2^-150 + 2^-298`, the FFT (correctly, within its
/// transform error) lands on the f32 tie `2^-150` and rounds to 0: an error of `2^-150`
/// against a stated bound of about `4e-53`. (`conv_oracle::oracle::judge` still passes it: its `sqrt(T)
/// eta` term for the reference's own rounding is twice what that needs.)
#[test]
fn fft_f32_bound_covers_subnormal_output_rounding() {
    // y = 2^-150 + 2^-298 exactly; the f32 result is 0 or 2^-149, at least 2^-150 - 2^-298
    // from y either way.
    let d = d1::<f32>(&[p2(-75), p2(-149)], &[p2(-75), p2(-149)]);
    let p = d.problem();
    for e in FFTS {
        let f = fft_engine(e);
        let got = f64::from(f.conv(&p).unwrap()[[0, 0, 0]]);
        let error_at_least = (got - p2(-150)).abs() - p2(-298);
        let bound = f.error_bounds(&p).unwrap()[[0, 0]];
        assert!(
            error_at_least <= bound,
            "{e:?}: got {got:e}, error >= {error_at_least:e}, stated bound {bound:e}"
        );
    }
}
