//! The direct engine against the reference: integers bit-identical; `f64` and `Complex<f64>`
//! within the componentwise bound of `compare` (and, as the engine's docs claim, equal);
//! `f32` and `Complex<f32>` within the f32 bound (and equal to the widened reference rounded
//! once); NaN and infinity exactly where the reference has them; the reference's errors;
//! the engine's own paths (in place, phased, reference fallback) exercised; long rows that
//! span several chunks; and deliberately wrong engines caught by the same properties.

mod common;
use common::{SEED, cfg};

use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::direct::{
    CHUNK, DirectElement, DirectEngine, DirectFallback, DirectPath, Mutation, SHORT_ROW,
};
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::cases::{LayoutSizes, layout_with};
use conv_oracle::testing::{Kind, Violation, search};
use conv_oracle::tolerance::{U32, U64, componentwise};
use conv_oracle::{Boundary, ConvError, ConvSpec, Flip, Limits, Padding, Problem, Ring, conv};
use ndarray::{Array1, ArrayD, Axis, IxDyn, Slice};
use num_complex::Complex;
use proptest::prelude::*;
use std::fmt::Debug;

type C64 = Complex<f64>;
type C32 = Complex<f32>;

// ---------------------------------------------------------------- element helpers

/// What the checks need from an element type.
trait Num: DirectElement + Ring + Copy + PartialEq + Debug + Send + Sync + 'static {
    /// Real and imaginary parts as f64 (imaginary 0 for reals).
    fn parts(self) -> [f64; 2];
    /// Parts that exist: 1 for reals, 2 for complex numbers.
    const WIDTH: usize;
    /// `|v|` as an element (for the reference on absolute values).
    fn modulus(self) -> Self;
}

impl Num for f64 {
    fn parts(self) -> [f64; 2] {
        [self, 0.0]
    }
    const WIDTH: usize = 1;
    fn modulus(self) -> f64 {
        self.abs()
    }
}

impl Num for f32 {
    fn parts(self) -> [f64; 2] {
        [f64::from(self), 0.0]
    }
    const WIDTH: usize = 1;
    fn modulus(self) -> f32 {
        self.abs()
    }
}

impl Num for C64 {
    fn parts(self) -> [f64; 2] {
        [self.re, self.im]
    }
    const WIDTH: usize = 2;
    fn modulus(self) -> C64 {
        Complex::new(self.re.hypot(self.im), 0.0)
    }
}

impl Num for C32 {
    fn parts(self) -> [f64; 2] {
        [f64::from(self.re), f64::from(self.im)]
    }
    const WIDTH: usize = 2;
    fn modulus(self) -> C32 {
        Complex::new(self.re.hypot(self.im), 0.0)
    }
}

/// The existing parts of every element, flattened.
fn flat<T: Num>(a: &ArrayD<T>) -> Vec<f64> {
    a.iter()
        .flat_map(|v| v.parts()[..T::WIDTH].to_vec())
        .collect()
}

// ---------------------------------------------------------------- cases

/// A convolution problem with owned data, printed ready to paste.
#[derive(Clone, Debug)]
struct Case<T> {
    input: Arr<T>,
    weight: Arr<T>,
    bias: Option<Vec<T>>,
    spec: ConvSpec<T>,
}

impl<T: Ring> Case<T> {
    fn with<R>(&self, f: impl FnOnce(&Problem<'_, T>) -> R) -> R {
        let bias = self.bias.clone().map(Array1::from);
        let mut p = Problem::new(self.input.0.view(), self.weight.0.view()).spec(self.spec.clone());
        if let Some(b) = &bias {
            p = p.bias(b.view());
        }
        f(&p)
    }

    fn map<U: Ring>(&self, f: impl Fn(T) -> U + Copy) -> Case<U> {
        Case {
            input: Arr(self.input.0.mapv(f)),
            weight: Arr(self.weight.0.mapv(f)),
            bias: self
                .bias
                .as_ref()
                .map(|b| b.iter().map(|v| f(v.clone())).collect()),
            spec: ConvSpec {
                stride: self.spec.stride.clone(),
                dilation: self.spec.dilation.clone(),
                padding: self.spec.padding.clone(),
                boundary: match &self.spec.boundary {
                    Boundary::Zeros => Boundary::Zeros,
                    Boundary::Constant(c) => Boundary::Constant(f(c.clone())),
                    Boundary::Reflect => Boundary::Reflect,
                    Boundary::Symmetric => Boundary::Symmetric,
                    Boundary::Replicate => Boundary::Replicate,
                    Boundary::Circular => Boundary::Circular,
                },
                groups: self.spec.groups,
                flip: self.spec.flip,
                limits: self.spec.limits,
            },
        }
    }
}

/// Small problems of rank 1 to 3: every padding rule (explicit pads up to 7, longer than
/// many inputs, so reflect and circular wrap around), every boundary, strides 1-3,
/// dilations 1-2, groups, batch, bias, both flips. Many are invalid (kernel larger than the
/// padded input, PyTorch same with a stride): those must give the reference's error.
const SMALL: LayoutSizes = LayoutSizes {
    ranks: (1, 3),
    n: [24, 8, 5],
    k: [6, 4, 3],
    pad: 7,
    max_stride: 3,
    explicit: 1,
};

/// Element values.
trait Draw: Ring + Debug + Clone + 'static {
    fn value() -> BoxedStrategy<Self>;
}

impl Draw for i64 {
    /// Mostly small, sometimes anywhere in i64 (sums wrap: the ring Z/2^64).
    fn value() -> BoxedStrategy<i64> {
        prop_oneof![4 => -9i64..=9, 1 => any::<i64>()].boxed()
    }
}

impl Draw for f64 {
    /// Uniform in [-1, 1], or `+-10^e` with `e` in [-6, 6]: twelve decades mixed.
    fn value() -> BoxedStrategy<f64> {
        prop_oneof![
            -1.0f64..1.0,
            (any::<bool>(), -6.0f64..6.0).prop_map(|(neg, e)| {
                let v = 10f64.powf(e);
                if neg { -v } else { v }
            }),
        ]
        .boxed()
    }
}

impl Draw for C64 {
    fn value() -> BoxedStrategy<C64> {
        (f64::value(), f64::value())
            .prop_map(|(re, im)| Complex::new(re, im))
            .boxed()
    }
}

fn array<T: Debug + Clone + 'static>(
    shape: Vec<usize>,
    values: BoxedStrategy<T>,
) -> impl Strategy<Value = Arr<T>> {
    let len: usize = shape.iter().product();
    proptest::collection::vec(values, len)
        .prop_map(move |v| Arr(ArrayD::from_shape_vec(IxDyn(&shape), v).expect("length")))
}

fn boundary_of<T>(kind: u8, constant: T) -> Boundary<T> {
    match kind {
        0 => Boundary::Zeros,
        1 => Boundary::Constant(constant),
        2 => Boundary::Reflect,
        3 => Boundary::Symmetric,
        4 => Boundary::Replicate,
        _ => Boundary::Circular,
    }
}

fn case<T: Draw>(sizes: LayoutSizes) -> impl Strategy<Value = Case<T>> {
    layout_with(sizes).prop_flat_map(|l| {
        (
            array(l.input_shape(), T::value()),
            array(l.weight_shape(), T::value()),
            proptest::collection::vec(T::value(), l.groups * l.og),
            T::value(),
            Just(l),
        )
            .prop_map(|(input, weight, bias, constant, l)| Case {
                input,
                weight,
                bias: l.bias.then_some(bias),
                spec: ConvSpec::new()
                    .stride(l.stride.clone())
                    .dilation(l.dilation.clone())
                    .padding(l.padding.clone())
                    .boundary(boundary_of(l.boundary, constant))
                    .groups(l.groups)
                    .flip(l.flip),
            })
    })
}

// ---------------------------------------------------------------- checks

/// The engine's path for a valid problem: in place for stride 1 on the last axis and rows of
/// at least `SHORT_ROW` outputs, phased otherwise; never the reference (the cases here are
/// small).
fn check_path<T: DirectElement>(e: &DirectEngine, p: &Problem<'_, T>) -> Result<(), Violation> {
    let path = e.plan(p).map_err(|err| Violation::refused(&err))?;
    let geo = p.validate().map_err(|err| Violation::refused(&err))?;
    let long = geo.axes.last().is_some_and(|a| a.output >= SHORT_ROW);
    let unit = p.spec.stride.last().is_none_or(|&s| s == 1) && long;
    match (&path, unit) {
        (DirectPath::InPlace { .. }, true) | (DirectPath::Phased { .. }, false) => Ok(()),
        _ => Err(Violation::mismatch(format!("unexpected path {path}"))),
    }
}

/// Integers: the engine's result (or error) is the reference's, bit for bit.
fn check_exact(e: &DirectEngine, c: &Case<i64>) -> Result<(), Violation> {
    c.with(|p| {
        let (got, want) = (e.conv(p), conv(p));
        if got != want {
            return Err(Violation::mismatch(format!(
                "engine {got:?} vs reference {want:?}"
            )));
        }
        if want.is_ok() {
            check_path(e, p)?;
        }
        Ok(())
    })
}

/// `sum |w| |x| (+ |b|)` per output element (the reference on moduli), and the number of
/// real products in each part's sum (plus one for a bias): a complex part is a real dot
/// product of twice the taps, `sum_k (a_k c_k - b_k d_k)`, whose absolute sum is at most
/// `sum_k |w_k| |x_k|`.
fn abs_sums<T: Num>(p: &Problem<'_, T>) -> (Vec<f64>, usize) {
    let abs_x = p.input.mapv(Num::modulus);
    let abs_w = p.weight.mapv(Num::modulus);
    let abs_b = p.bias.as_ref().map(|b| b.mapv(Num::modulus));
    let mut spec = p.spec.clone();
    if let Boundary::Constant(c) = &spec.boundary {
        spec.boundary = Boundary::Constant(c.modulus());
    }
    let mut q = Problem::new(abs_x.view(), abs_w.view()).spec(spec);
    if let Some(b) = &abs_b {
        q = q.bias(b.view());
    }
    let a = conv(&q).expect("valid");
    let abs = a
        .iter()
        .flat_map(|v| vec![v.parts()[0]; T::WIDTH])
        .collect();
    let taps: usize = p.weight.shape()[1..].iter().product();
    (abs, T::WIDTH * taps + usize::from(p.bias.is_some()))
}

/// Equal values, NaN equal to NaN.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

/// `peer` within the componentwise bound of `compare` around the f64 reference `want` of
/// problem `wide` (f64 or `Complex<f64>` data).
fn within_bound<W: Num>(
    peer: &[f64],
    want: &ArrayD<W>,
    wide: &Problem<'_, W>,
    u: f64,
) -> Result<(), Violation> {
    let (abs, terms) = abs_sums(wide);
    let r = componentwise(peer, &flat(want), &abs, terms, u);
    if r.passed {
        Ok(())
    } else {
        Err(Violation::bound(format!(
            "element part {}: {:e} vs reference {:e}, ratio {:e} ({terms} terms)",
            r.worst,
            peer[r.worst],
            flat(want)[r.worst],
            r.max_ratio
        )))
    }
}

/// f64 and `Complex<f64>`: within the componentwise bound of the reference, and (the
/// engine's documented stronger property: same operations in the same order) equal to it.
fn check_wide<T: Num>(e: &DirectEngine, c: &Case<T>) -> Result<(), Violation> {
    c.with(|p| {
        let (got, want) = match (e.conv(p), conv(p)) {
            (Ok(g), Ok(w)) => (g, w),
            (Err(a), Err(b)) if a == b => return Ok(()),
            (a, b) => return Err(Violation::acceptance(&a, &b)),
        };
        if got.shape() != want.shape() {
            return Err(Violation::new(
                Kind::ShapeMismatch,
                format!("shape {:?} vs {:?}", got.shape(), want.shape()),
            ));
        }
        within_bound(&flat(&got), &want, p, U64)?;
        if !same(&flat(&got), &flat(&want)) {
            return Err(Violation::mismatch(
                "within the bound but not equal to the reference",
            ));
        }
        check_path(e, p)
    })
}

/// f32 and `Complex<f32>`: `narrow` is the problem in f32, `wide` the same data widened. The
/// result is within the f32 componentwise bound of the f64 reference of the widened data,
/// and equal to that reference rounded once to f32.
fn check_narrow<N: Num, W: Num>(
    e: &DirectEngine,
    narrow: &Case<N>,
    wide: &Case<W>,
    round: impl Fn(W) -> N,
) -> Result<(), Violation> {
    narrow.with(|p| {
        wide.with(|q| {
            let (got, want) = match (e.conv(p), conv(q)) {
                (Ok(g), Ok(w)) => (g, w),
                (Err(a), Err(b)) if a == b => return Ok(()),
                (a, b) => return Err(Violation::acceptance(&a, &b)),
            };
            if got.shape() != want.shape() {
                return Err(Violation::new(
                    Kind::ShapeMismatch,
                    format!("shape {:?} vs {:?}", got.shape(), want.shape()),
                ));
            }
            within_bound(&flat(&got), &want, q, U32)?;
            if !same(&flat(&got), &flat(&want.mapv(round))) {
                return Err(Violation::mismatch(
                    "not the widened reference rounded once",
                ));
            }
            check_path(e, p)
        })
    })
}

fn to_f32(v: f64) -> f32 {
    v as f32
}

fn to_c32(v: C64) -> C32 {
    Complex::new(v.re as f32, v.im as f32)
}

fn from_c32(v: C32) -> C64 {
    Complex::new(f64::from(v.re), f64::from(v.im))
}

fn engine() -> DirectEngine {
    DirectEngine::new()
}

// ---------------------------------------------------------------- the properties

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn integers_are_bit_identical(c in case::<i64>(SMALL)) {
        check_exact(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn f64_within_bound(c in case::<f64>(SMALL)) {
        check_wide(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn complex_f64_within_bound(c in case::<C64>(SMALL)) {
        check_wide(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn f32_within_bound(c in case::<f64>(SMALL)) {
        let narrow = c.map(to_f32);
        let wide = narrow.map(f64::from);
        check_narrow(&engine(), &narrow, &wide, to_f32).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn complex_f32_within_bound(c in case::<C64>(SMALL)) {
        let narrow = c.map(to_c32);
        let wide = narrow.map(from_c32);
        check_narrow(&engine(), &narrow, &wide, to_c32).map_err(TestCaseError::fail)?;
    }
}

/// The loops compiled for the baseline target give the same results as the AVX2 build the
/// engine picks at run time (on a machine without AVX2 both are the baseline build).
fn same_builds<T: DirectElement + PartialEq + Debug>(c: &Case<T>) -> Result<(), Violation> {
    c.with(|p| {
        let (simd, base) = (engine().conv(p), DirectEngine::baseline_only().conv(p));
        let equal = match (&simd, &base) {
            (Ok(a), Ok(b)) => a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| x == y),
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if equal {
            Ok(())
        } else {
            Err(Violation::mismatch(format!(
                "AVX2 build {simd:?} vs baseline {base:?}"
            )))
        }
    })
}

proptest! {
    #![proptest_config(cfg(64))]

    #[test]
    fn baseline_build_agrees_i64(c in case::<i64>(SMALL)) {
        same_builds(&c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn baseline_build_agrees_f32(c in case::<f64>(SMALL)) {
        same_builds(&c.map(to_f32)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn baseline_build_agrees_c64(c in case::<C64>(SMALL)) {
        same_builds(&c).map_err(TestCaseError::fail)?;
    }
}

// ---------------------------------------------------------------- long rows

/// 1-D rows up to twice [`CHUNK`] (several chunks, tiles and remainders), mostly explicit
/// pads up to 1200 (strips that span chunks), strides 1-2, dilations 1-2: integers exact,
/// f64 equal.
const LONG: LayoutSizes = LayoutSizes {
    ranks: (1, 1),
    n: [2200, 0, 0],
    k: [5, 0, 0],
    pad: 1200,
    max_stride: 2,
    explicit: 5,
};

proptest! {
    #![proptest_config(cfg(24))]

    #[test]
    fn long_rows_integers(c in case::<i64>(LONG)) {
        check_exact(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn long_rows_f64(c in case::<f64>(LONG)) {
        check_wide(&engine(), &c).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn long_rows_explicit() {
    const { assert!(CHUNK < 2000, "rows of 2300 span several chunks") };
    let x = ArrayD::from_shape_fn(IxDyn(&[2, 2, 3, 2300]), |i| {
        (i[3] as i64 * 37 + i[2] as i64 * 11 + i[1] as i64 * 5 + i[0] as i64) % 19 - 9
    });
    let w = ArrayD::from_shape_fn(IxDyn(&[4, 1, 2, 7]), |i| {
        (i[0] as i64 * 3 + i[2] as i64 * 7 + i[3] as i64) % 5 - 2
    });
    let b = Array1::from(vec![5i64, -3, 0, 7]);
    let e = engine();
    for (stride, boundary) in [
        (1, Boundary::Reflect),
        (1, Boundary::Constant(3)),
        (2, Boundary::Circular),
        (3, Boundary::Symmetric),
    ] {
        let spec = ConvSpec::new()
            .groups(2)
            .stride([1, stride])
            .dilation([2, 3])
            .padding(Padding::Explicit(vec![(2, 1), (1100, 1300)]))
            .boundary(boundary)
            .flip(Flip::Convolution);
        let p = Problem::new(x.view(), w.view()).spec(spec).bias(b.view());
        assert_eq!(e.conv(&p), conv(&p), "stride {stride}");
        check_path(&e, &p).unwrap();
    }
}

// ---------------------------------------------------------------- non-finite data

/// A case with one NaN or infinity placed in the input, the weight, the bias or the
/// boundary constant.
fn nonfinite_case<T: Draw>() -> impl Strategy<Value = (Case<T>, u8, usize, u8)> {
    (case::<T>(SMALL), 0u8..4, any::<usize>(), 0u8..3)
}

fn poison<T: Clone>(
    (c, place, at, kind): &(Case<T>, u8, usize, u8),
    bad: impl Fn(f64) -> T,
    filler: T,
) -> Case<T> {
    let bad = bad([f64::NAN, f64::INFINITY, f64::NEG_INFINITY][usize::from(*kind)]);
    let mut c = c.clone();
    match place {
        0 => {
            let n = c.input.0.len();
            if let Some(v) = c.input.0.iter_mut().nth(at % n) {
                *v = bad;
            }
        }
        1 => {
            let n = c.weight.0.len();
            if let Some(v) = c.weight.0.iter_mut().nth(at % n) {
                *v = bad;
            }
        }
        2 => {
            let o = c.weight.0.shape()[0];
            let mut b = c.bias.unwrap_or_else(|| vec![filler; o]);
            b[at % o] = bad;
            c.bias = Some(b);
        }
        _ => c.spec.boundary = Boundary::Constant(bad),
    }
    c
}

/// The engine's NaN and infinity pattern is the reference's (same problem, same type): NaN
/// where it has NaN, the same infinity where it has one, finite elsewhere.
fn same_pattern<T: Num>(e: &DirectEngine, c: &Case<T>) -> Result<(), Violation> {
    c.with(|p| match (e.conv(p), conv(p)) {
        (Ok(got), Ok(want)) => {
            let (g, w) = (flat(&got), flat(&want));
            for (i, (a, b)) in g.iter().zip(&w).enumerate() {
                let ok = if b.is_nan() {
                    a.is_nan()
                } else if b.is_infinite() {
                    a == b
                } else {
                    a.is_finite()
                };
                if !ok {
                    return Err(Violation::mismatch(format!(
                        "part {i}: engine {a} vs reference {b}"
                    )));
                }
            }
            Ok(())
        }
        (Err(a), Err(b)) if a == b => Ok(()),
        (a, b) => Err(Violation::acceptance(&a, &b)),
    })
}

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn nonfinite_f64_is_the_reference(input in nonfinite_case::<f64>()) {
        let c = poison(&input, |v| v, 0.5);
        // Same operations in the same order: equal values, NaN where the reference has NaN.
        check_wide(&engine(), &c).map_err(TestCaseError::fail)?;
        same_pattern(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn nonfinite_c64_is_the_reference(input in nonfinite_case::<C64>()) {
        let c = poison(&input, |v| Complex::new(v, 0.25), Complex::new(0.5, 0.0));
        check_wide(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn nonfinite_f32_pattern_is_the_reference(input in nonfinite_case::<f64>()) {
        // Against the f32 reference itself: products and sums of moderate values do not
        // overflow, so the pattern is decided by the non-finite terms alone.
        let c = poison(&input, |v| v, 0.5).map(to_f32);
        same_pattern(&engine(), &c).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn nonfinite_c32_pattern_is_the_reference(input in nonfinite_case::<C64>()) {
        let c = poison(&input, |v| Complex::new(v, 0.25), Complex::new(0.5, 0.0)).map(to_c32);
        same_pattern(&engine(), &c).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn zero_padding_times_infinity_is_nan() {
    // The padded zeros are multiplied like the reference multiplies them: inf * 0 = NaN at
    // every output whose window reads a padded zero with the infinite tap.
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![f64::INFINITY, 1.0]).unwrap();
    let p = Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
    let got = engine().conv(&p).unwrap();
    let want = conv(&p).unwrap();
    assert!(got[[0, 0, 0]].is_nan() && got[[0, 0, 4]] == f64::INFINITY);
    assert!(same(&flat(&got), &flat(&want)), "{got:?} vs {want:?}");
}

// ---------------------------------------------------------------- errors, layouts, fallbacks

#[test]
fn same_errors_as_the_reference() {
    let e = engine();
    let x = ArrayD::from_elem(IxDyn(&[1, 2, 4]), 1.0f64);
    let w = ArrayD::from_elem(IxDyn(&[2, 1, 6]), 1.0f64);
    let b = Array1::from_elem(3, 0.5f64);
    let x_rank = ArrayD::from_elem(IxDyn(&[1, 2, 4, 4]), 1.0f64);
    let cases = [
        // Kernel larger than the input.
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(2)),
        // Groups that do not divide the channels.
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(3)),
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(0)),
        // Channel mismatch.
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full)),
        // Bias length.
        Problem::new(x.view(), w.view())
            .spec(ConvSpec::new().groups(2).padding(Padding::Full))
            .bias(b.view()),
        // Zero stride and dilation; per-axis settings of the wrong length.
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(2).stride([0])),
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(2).dilation([0])),
        Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(2).stride([1, 1])),
        // PyTorch same with a stride.
        Problem::new(x.view(), w.view()).spec(
            ConvSpec::new()
                .groups(2)
                .stride([2])
                .padding(Padding::TorchSame),
        ),
        // Rank mismatch between input and weight.
        Problem::new(x_rank.view(), w.view()),
        // Limits: too many outputs, too much work.
        Problem::new(x.view(), w.view()).spec(
            ConvSpec::new()
                .groups(2)
                .padding(Padding::Full)
                .limits(Limits {
                    max_elements: 10,
                    max_work: 1 << 20,
                }),
        ),
        Problem::new(x.view(), w.view()).spec(
            ConvSpec::new()
                .groups(2)
                .padding(Padding::Full)
                .limits(Limits {
                    max_elements: 1 << 20,
                    max_work: 50,
                }),
        ),
    ];
    for p in &cases {
        let want = conv(p).expect_err("invalid");
        assert_eq!(e.conv(p), Err(want.clone()));
        assert_eq!(e.plan(p), Err(want));
    }
    assert!(matches!(
        e.conv(&cases[0]),
        Err(ConvError::KernelTooLarge { .. })
    ));
}

#[test]
fn fallbacks_give_the_reference() {
    let e = engine();
    // A huge dilation the geometry accepts (the padding makes room): the strips would need
    // 2^62 elements, so the reference computes the two products.
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 1]), 3.0f64);
    let w = ArrayD::from_elem(IxDyn(&[1, 1, 2]), 0.5f64);
    let spec = ConvSpec::new()
        .dilation([1 << 62])
        .padding(Padding::Explicit(vec![(1 << 62, 0)]));
    let p = Problem::new(x.view(), w.view()).spec(spec);
    assert_eq!(
        e.plan(&p),
        Ok(DirectPath::Reference(DirectFallback::Memory))
    );
    assert_eq!(e.conv(&p), conv(&p));
    // Phased rows beyond a tight element limit that the reference (which never pads)
    // accepts: same result, not a new error.
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 1, 4]), |i| i[2] as i64 + 1);
    let w = ArrayD::from_elem(IxDyn(&[1, 1, 3]), 2i64);
    let spec = ConvSpec::new()
        .stride([1000])
        .padding(Padding::Explicit(vec![(1000, 1000)]))
        .boundary(Boundary::Reflect)
        .limits(Limits {
            max_elements: 100,
            max_work: 1000,
        });
    let p = Problem::new(x.view(), w.view()).spec(spec);
    assert_eq!(
        e.plan(&p).unwrap().to_string(),
        "reference (padding exceeds the element limit)"
    );
    assert_eq!(e.conv(&p), conv(&p));
    assert!(e.conv(&p).is_ok());
    // No spatial axis: a channel mix, done by the reference.
    let x0 = ArrayD::from_elem(IxDyn(&[2, 3]), 2.0f64);
    let w0 = ArrayD::from_elem(IxDyn(&[4, 3]), 0.5f64);
    let p0 = Problem::new(x0.view(), w0.view());
    assert_eq!(
        e.plan(&p0),
        Ok(DirectPath::Reference(DirectFallback::NoSpatialAxes))
    );
    assert_eq!(e.conv(&p0), conv(&p0));
    // An empty batch: an empty result of the right shape.
    let xe = ArrayD::from_elem(IxDyn(&[0, 1, 5]), 1i64);
    let we = ArrayD::from_elem(IxDyn(&[2, 1, 3]), 1i64);
    let pe = Problem::new(xe.view(), we.view()).spec(ConvSpec::new().padding(Padding::Full));
    assert_eq!(e.conv(&pe), conv(&pe));
}

#[test]
fn views_in_any_layout() {
    // Reversed and permuted views of the data: the engine reads logical order, like the
    // reference.
    let base = ArrayD::from_shape_fn(IxDyn(&[2, 3, 6, 5]), |i| {
        (i[0] * 7 + i[1] * 5 + i[2] * 3 + i[3]) as f64 * 0.25 - 4.0
    });
    let mut x = base.view();
    x.invert_axis(Axis(3));
    let x = x.slice_axis_move(Axis(2), Slice::new(0, None, 2));
    let xt = base.view().permuted_axes(IxDyn(&[0, 1, 3, 2]));
    let w = ArrayD::from_shape_fn(IxDyn(&[3, 3, 5, 2]), |i| (i[0] + 2 * i[2] + i[3]) as f64);
    let mut wv = w.view();
    wv.invert_axis(Axis(2));
    let e = engine();
    for input in [x, xt] {
        for weight in [w.view(), wv.clone()] {
            let spec = ConvSpec::new()
                .padding(Padding::SameLower)
                .boundary(Boundary::Symmetric);
            let p = Problem::new(input.clone(), weight).spec(spec);
            assert_eq!(e.conv(&p), conv(&p));
        }
    }
}

#[test]
fn paths_are_printable_values() {
    let e = engine();
    let x = ArrayD::from_elem(IxDyn(&[2, 3, 10, 100]), 1.0f64);
    let w = ArrayD::from_elem(IxDyn(&[1, 3, 3, 5]), 1.0f64);
    let p = Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
    // 2 * 3 * 10 rows; full on the last axis: 4 outputs per side read strips of 4 + 4 = 8.
    assert_eq!(
        e.plan(&p).unwrap().to_string(),
        "direct in place: 60 rows, 16 padded per row"
    );
    // A short row (34 outputs) is copied into padded rows of 34 - 1 + 5 = 38.
    let short = ArrayD::from_elem(IxDyn(&[2, 3, 10, 30]), 1.0f64);
    let p = Problem::new(short.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
    assert_eq!(
        e.plan(&p).unwrap().to_string(),
        "direct padded: 60 rows of 38"
    );
    let p = Problem::new(x.view(), w.view())
        .spec(ConvSpec::new().stride([1, 2]).padding(Padding::SameUpper));
    // SAME with stride 2: 50 outputs, pads (1, 2), 2 * 49 + 5 = 103 positions in 2 phases.
    assert_eq!(
        e.plan(&p).unwrap().to_string(),
        "direct phased: 60 padded rows of 103 in 2 phases"
    );
    assert_eq!(ConvEngine::<f64>::name(&e), "direct");
    let dynamic: &dyn ConvEngine<f64> = &e;
    assert_eq!(dynamic.conv(&p), conv(&p));
}

/// Absurd shapes and settings (the crate's no-panic strategy: huge pads, strides and
/// dilations, empty axes, tight limits): `Ok` or the reference's error, never a panic, and
/// `Ok` equal to the reference where that is cheap to compute.
#[test]
fn absurd_requests_do_not_panic() {
    use conv_oracle::testing::{AbsurdCase, absurd_case};
    use ndarray::Dimension;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let check = |c: &AbsurdCase| -> Result<(), Violation> {
        let x = ArrayD::from_shape_fn(IxDyn(&c.input), |i| i.as_array_view().sum() as i64);
        let w = ArrayD::from_shape_fn(IxDyn(&c.weight), |i| 1 - i.as_array_view().sum() as i64);
        let b = c.bias.map(|n| Array1::from_elem(n, 2i64));
        let r = catch_unwind(AssertUnwindSafe(|| {
            let mut p = Problem::new(x.view(), w.view()).spec(c.spec.clone());
            if let Some(b) = &b {
                p = p.bias(b.view());
            }
            let got = engine().conv(&p);
            let small = p
                .validate()
                .is_ok_and(|g| g.output_shape().iter().product::<usize>() < 4096);
            if small || got.is_err() {
                let want = conv(&p);
                if got != want {
                    return Err(Violation::mismatch(format!(
                        "engine {got:?} vs reference {want:?}"
                    )));
                }
            }
            Ok(())
        }));
        r.unwrap_or_else(|_| Err(Violation::new(Kind::Panicked, "panicked")))
    };
    let r = search(absurd_case(), 1024, SEED, check);
    assert!(r.is_ok(), "{r:?}");
}

// ---------------------------------------------------------------- wrong engines fail

/// The first line of the counterexample the property finds for a wrong engine, which must
/// be a violation of kind `kind`.
fn refuted<T: Debug>(
    m: Mutation,
    strategy: impl Strategy<Value = T>,
    check: impl Fn(&DirectEngine, &T) -> Result<(), Violation>,
    kind: Kind,
) -> String {
    let e = DirectEngine::with_mutation(m);
    match search(strategy, 256, SEED, |c| check(&e, c)) {
        Err(v) => {
            assert_eq!(v.kind, kind, "{m:?}: refuted for another reason: {v}");
            v.detail.lines().next().unwrap_or_default().to_string()
        }
        Ok(()) => panic!("{m:?}: the property found no counterexample"),
    }
}

#[test]
fn wrong_engines_fail_the_properties() {
    for m in [Mutation::DropLastTap, Mutation::PadOffByOne] {
        let e = DirectEngine::with_mutation(m);
        assert_ne!(ConvEngine::<f64>::name(&e), "direct");
        let f = refuted(m, case::<f64>(SMALL), check_wide, Kind::BoundExceeded);
        println!("{m:?} refuted (f64, componentwise bound): {f}");
        let i = refuted(m, case::<i64>(SMALL), check_exact, Kind::Mismatch);
        println!("{m:?} refuted (i64, bit-identical): {i}");
    }
}
