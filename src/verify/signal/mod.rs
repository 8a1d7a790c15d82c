//! The property battery run by `conv-oracle verify` and by the test suites.
//!
//! Each property is a plain check function over a generated case; [`run_battery`] drives every
//! property with a seeded proptest runner and reports one [`Outcome`] per property and engine,
//! with a minimal (shrunk) counterexample when a property fails. Engines are passed in as a
//! [`SignalEngine`] (a pair of functions), so a test can hand in a deliberately wrong engine
//! and watch the battery catch it.
//!
//! | property | claim |
//! |---|---|
//! | `commutative` | `convolve(f, g, full) == convolve(g, f, full)` |
//! | `associative` | `convolve(convolve(f, g), h) == convolve(f, convolve(g, h))` (full) |
//! | `bilinear` | linear in each argument: `convolve(a f1 + b f2, g) == a convolve(f1, g) + b convolve(f2, g)`, and in `g` |
//! | `delta-shift` | a unit impulse at `j` shifts: `convolve(f, delta_j, full)[i + j] = f[i]`, zeros elsewhere |
//! | `convolve-is-correlate-reversed` | `convolve(f, g, mode) == correlate(f, conj(reverse(g)), mode)`, every mode |
//! | `correlate-swap` | `correlate(g, f, full) == reverse(conj(correlate(f, g, full)))` |
//! | `correlation-not-commutative` | the search must find `f, g` with `correlate(f, g) != correlate(g, f)` |
//! | `no-panic` | random and absurd shapes and specs through the public API give `Ok` or `Err`, never a panic |
//!
//! Integer cases use `i64` (wrapping arithmetic: the identities hold exactly in Z/2^64);
//! complex cases use `Complex<f64>` with small integer parts, where every sum is exact.

use crate::api::layer::{self, LayerSpec};
use crate::api::signal::{Boundary2d, Mode, convolve, convolve2d, correlate};
use crate::engine::ConvEngine;
use crate::engine::dense::DenseEngine;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::boundary::pad;
use crate::problem::{Padding, TransposePadding, TransposeSpec};
use crate::reference::conv;
use crate::scalar::Ring;
use crate::testing::cases::{Arr, shape};
use crate::testing::quiet::quietly;
use crate::testing::{AbsurdCase, absurd_case};
use crate::testing::{Expect, Kind, Row, Violation, search, timed};
use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn, Slice};
use num_complex::Complex;
use proptest::prelude::*;
use std::fmt;

/// The signature of a signal-level convolution or correlation.
pub(crate) type SignalFn<T> =
    fn(ArrayViewD<'_, T>, ArrayViewD<'_, T>, Mode) -> Result<ArrayD<T>, ConvError>;

/// An engine under test at the signal level: its `convolve` and `correlate`.
#[derive(Clone, Copy)]
pub(crate) struct SignalEngine<T> {
    /// Name printed in reports.
    pub name: &'static str,
    /// scipy.signal.convolve semantics.
    pub convolve: SignalFn<T>,
    /// scipy.signal.correlate semantics.
    pub correlate: SignalFn<T>,
}

impl<T: Ring> SignalEngine<T> {
    /// The reference ([`crate::api::signal`]).
    pub(crate) fn reference() -> Self {
        SignalEngine {
            name: "reference",
            convolve: convolve::<T, IxDyn>,
            correlate: correlate::<T, IxDyn>,
        }
    }
}

/// An element type the battery can generate and compare exactly.
pub(crate) trait Sample: Ring + PartialEq + 'static {
    /// Short name for reports (`i64`, `c64`).
    const NAME: &'static str;
    /// Strategy for small values.
    fn small() -> BoxedStrategy<Self>;
}

impl Sample for i64 {
    const NAME: &'static str = "i64";
    fn small() -> BoxedStrategy<Self> {
        (-9i64..=9).boxed()
    }
}

impl Sample for Complex<f64> {
    const NAME: &'static str = "c64";
    fn small() -> BoxedStrategy<Self> {
        (-9i32..=9, -9i32..=9)
            .prop_map(|(re, im)| Complex::new(f64::from(re), f64::from(im)))
            .boxed()
    }
}

/// Strategy: an array of the given shape with small values.
pub(crate) fn array_of_shape<T: Sample>(shape: Vec<usize>) -> impl Strategy<Value = Arr<T>> {
    crate::testing::cases::array(shape, T::small().boxed())
}

/// Strategy: `count` arrays of one common rank `1..=3`, each with its own shape (extents 1..=4).
pub(crate) fn arrays<T: Sample>(count: usize) -> impl Strategy<Value = Vec<Arr<T>>> {
    (1usize..=3).prop_flat_map(move |rank| {
        proptest::collection::vec(shape(rank, 4), count).prop_flat_map(|shapes| {
            shapes
                .into_iter()
                .map(array_of_shape::<T>)
                .collect::<Vec<_>>()
        })
    })
}

fn fail(e: ConvError) -> Violation {
    Violation::refused(&e)
}

fn same<T: Clone + PartialEq + fmt::Debug>(
    a: &ArrayD<T>,
    b: &ArrayD<T>,
    what_a: &str,
    what_b: &str,
) -> Result<(), Violation> {
    if a == b {
        Ok(())
    } else {
        Err(Violation::mismatch(format!(
            "{what_a} = {:?} but {what_b} = {:?}",
            Arr(a.clone()),
            Arr(b.clone())
        )))
    }
}

/// The case of a two-array property has another number of arrays.
fn two_arrays(got: usize) -> Violation {
    Violation::hypothesis(format!("two arrays expected, got {got}"))
}

fn reverse_conj<T: Ring>(a: &ArrayD<T>) -> ArrayD<T> {
    let mut v = a.view();
    for axis in 0..v.ndim() {
        v.invert_axis(ndarray::Axis(axis));
    }
    v.map(Ring::conj)
}

fn scale_add<T: Ring>(a: &T, x: &ArrayD<T>, b: &T, y: &ArrayD<T>) -> ArrayD<T> {
    ndarray::Zip::from(x)
        .and(y)
        .map_collect(|xv, yv| a.times(xv).plus(&b.times(yv)))
}

/// `convolve(f, g, full) == convolve(g, f, full)`.
pub(crate) fn commutative<T: Sample>(e: &SignalEngine<T>, fg: &[Arr<T>]) -> Result<(), Violation> {
    let [Arr(f), Arr(g)] = fg else {
        return Err(two_arrays(fg.len()));
    };
    let a = (e.convolve)(f.view(), g.view(), Mode::Full).map_err(fail)?;
    let b = (e.convolve)(g.view(), f.view(), Mode::Full).map_err(fail)?;
    same(&a, &b, "convolve(f, g)", "convolve(g, f)")
}

/// `convolve(convolve(f, g), h) == convolve(f, convolve(g, h))` in full mode.
pub(crate) fn associative<T: Sample>(e: &SignalEngine<T>, fgh: &[Arr<T>]) -> Result<(), Violation> {
    let [Arr(f), Arr(g), Arr(h)] = fgh else {
        return Err(Violation::hypothesis(format!(
            "three arrays expected, got {}",
            fgh.len()
        )));
    };
    let fg = (e.convolve)(f.view(), g.view(), Mode::Full).map_err(fail)?;
    let gh = (e.convolve)(g.view(), h.view(), Mode::Full).map_err(fail)?;
    let left = (e.convolve)(fg.view(), h.view(), Mode::Full).map_err(fail)?;
    let right = (e.convolve)(f.view(), gh.view(), Mode::Full).map_err(fail)?;
    same(&left, &right, "(f*g)*h", "f*(g*h)")
}

/// A bilinearity case: two first arguments of one shape, two second arguments, two scalars.
#[derive(Clone, Debug)]
pub(crate) struct BilinearCase<T> {
    /// First arguments (same shape).
    pub f: [Arr<T>; 2],
    /// Second arguments (same shape).
    pub g: [Arr<T>; 2],
    /// Scalars.
    pub ab: [T; 2],
}

/// Strategy for [`BilinearCase`].
pub(crate) fn bilinear_case<T: Sample>() -> impl Strategy<Value = BilinearCase<T>> {
    (1usize..=3)
        .prop_flat_map(|rank| (shape(rank, 4), shape(rank, 4)))
        .prop_flat_map(|(sf, sg)| {
            (
                array_of_shape::<T>(sf.clone()),
                array_of_shape::<T>(sf),
                array_of_shape::<T>(sg.clone()),
                array_of_shape::<T>(sg),
                T::small(),
                T::small(),
            )
        })
        .prop_map(|(f1, f2, g1, g2, a, b)| BilinearCase {
            f: [f1, f2],
            g: [g1, g2],
            ab: [a, b],
        })
}

/// Linear in each argument separately.
pub(crate) fn bilinear<T: Sample>(
    e: &SignalEngine<T>,
    c: &BilinearCase<T>,
) -> Result<(), Violation> {
    let [a, b] = &c.ab;
    let conv = |x: &ArrayD<T>, y: &ArrayD<T>| (e.convolve)(x.view(), y.view(), Mode::Full);
    let (f1, f2, g1, g2) = (&c.f[0].0, &c.f[1].0, &c.g[0].0, &c.g[1].0);
    let left = conv(&scale_add(a, f1, b, f2), g1).map_err(fail)?;
    let right = scale_add(
        a,
        &conv(f1, g1).map_err(fail)?,
        b,
        &conv(f2, g1).map_err(fail)?,
    );
    same(
        &left,
        &right,
        "(a f1 + b f2) * g1",
        "a (f1 * g1) + b (f2 * g1)",
    )?;
    let left = conv(f1, &scale_add(a, g1, b, g2)).map_err(fail)?;
    let right = scale_add(
        a,
        &conv(f1, g1).map_err(fail)?,
        b,
        &conv(f1, g2).map_err(fail)?,
    );
    same(
        &left,
        &right,
        "f1 * (a g1 + b g2)",
        "a (f1 * g1) + b (f1 * g2)",
    )
}

/// A delta-shift case: an input and the position of a unit impulse inside a kernel shape.
#[derive(Clone, Debug)]
pub(crate) struct DeltaCase<T> {
    /// The input.
    pub f: Arr<T>,
    /// Kernel shape.
    pub kernel: Vec<usize>,
    /// Position of the 1 in the kernel.
    pub at: Vec<usize>,
}

/// Strategy for [`DeltaCase`].
pub(crate) fn delta_case<T: Sample>() -> impl Strategy<Value = DeltaCase<T>> {
    (1usize..=3)
        .prop_flat_map(|rank| (shape(rank, 5), shape(rank, 4)))
        .prop_flat_map(|(sf, sk)| {
            let at: Vec<BoxedStrategy<usize>> = sk.iter().map(|&k| (0..k).boxed()).collect();
            (array_of_shape::<T>(sf), Just(sk), at)
        })
        .prop_map(|(f, kernel, at)| DeltaCase { f, kernel, at })
}

/// A unit impulse at `j` shifts the input by `j` (and `j = 0` with a 1-element kernel is the
/// identity).
pub(crate) fn delta_shift<T: Sample>(
    e: &SignalEngine<T>,
    c: &DeltaCase<T>,
) -> Result<(), Violation> {
    let mut delta = ArrayD::from_elem(IxDyn(&c.kernel), T::zero());
    delta[IxDyn(&c.at)] = T::one();
    let got = (e.convolve)(c.f.0.view(), delta.view(), Mode::Full).map_err(fail)?;
    let full: Vec<usize> =
        c.f.0
            .shape()
            .iter()
            .zip(&c.kernel)
            .map(|(n, k)| n + k - 1)
            .collect();
    let mut expected = ArrayD::from_elem(IxDyn(&full), T::zero());
    let f_shape = c.f.0.shape().to_vec();
    expected
        .slice_each_axis_mut(|ax| {
            let j = c.at[ax.axis.index()];
            Slice::from(j..j + f_shape[ax.axis.index()])
        })
        .assign(&c.f.0);
    same(&got, &expected, "convolve(f, delta)", "f shifted")
}

/// Strategy: two arrays of one rank and a mode.
pub(crate) fn pair_and_mode<T: Sample>() -> impl Strategy<Value = (Vec<Arr<T>>, Mode)> {
    (
        arrays::<T>(2),
        prop_oneof![Just(Mode::Full), Just(Mode::Same), Just(Mode::Valid)],
    )
}

/// `convolve(f, g, mode) == correlate(f, conj(reverse(g)), mode)` for every mode (both sides
/// may refuse the same 'valid' request; then both errors must agree).
pub(crate) fn convolve_is_correlate_reversed<T: Sample>(
    e: &SignalEngine<T>,
    (fg, mode): &(Vec<Arr<T>>, Mode),
) -> Result<(), Violation> {
    let [Arr(f), Arr(g)] = &fg[..] else {
        return Err(two_arrays(fg.len()));
    };
    let a = (e.convolve)(f.view(), g.view(), *mode);
    let rg = reverse_conj(g);
    let b = (e.correlate)(f.view(), rg.view(), *mode);
    match (a, b) {
        (Ok(a), Ok(b)) => same(
            &a,
            &b,
            &format!("convolve(f, g, {})", mode.name()),
            "correlate(f, conj(reverse(g)))",
        ),
        (Err(a), Err(b)) if a == b => Ok(()),
        (a, b) => Err(Violation::mismatch(format!(
            "convolve gave {:?}, correlate gave {:?}",
            a.map(Arr),
            b.map(Arr)
        ))),
    }
}

/// `correlate(g, f, full) == reverse(conj(correlate(f, g, full)))`.
pub(crate) fn correlate_swap<T: Sample>(
    e: &SignalEngine<T>,
    fg: &[Arr<T>],
) -> Result<(), Violation> {
    let [Arr(f), Arr(g)] = fg else {
        return Err(two_arrays(fg.len()));
    };
    let a = (e.correlate)(g.view(), f.view(), Mode::Full).map_err(fail)?;
    let b = (e.correlate)(f.view(), g.view(), Mode::Full).map_err(fail)?;
    same(
        &a,
        &reverse_conj(&b),
        "correlate(g, f)",
        "reverse(conj(correlate(f, g)))",
    )
}

/// The false claim `correlate(f, g, full) == correlate(g, f, full)`; the battery expects the
/// search to refute it.
pub(crate) fn correlation_commutes<T: Sample>(
    e: &SignalEngine<T>,
    fg: &[Arr<T>],
) -> Result<(), Violation> {
    let [Arr(f), Arr(g)] = fg else {
        return Err(two_arrays(fg.len()));
    };
    let a = (e.correlate)(f.view(), g.view(), Mode::Full).map_err(fail)?;
    let b = (e.correlate)(g.view(), f.view(), Mode::Full).map_err(fail)?;
    same(&a, &b, "correlate(f, g)", "correlate(g, f)")
}

/// Drives one absurd case through every public entry point; `Err` only if something panicked.
pub(crate) fn no_panic(c: &AbsurdCase) -> Result<(), Violation> {
    let x = ArrayD::from_shape_fn(IxDyn(&c.input), |i| i.as_array_view().sum() as i64);
    let w = ArrayD::from_shape_fn(IxDyn(&c.weight), |i| 1 - i.as_array_view().sum() as i64);
    let b = c.bias.map(|n| ndarray::Array1::from_elem(n, 2i64));
    let result = quietly(|| {
        let mut p = Problem::new(x.view(), w.view()).spec(c.spec.clone());
        if let Some(b) = &b {
            p = p.bias(b.view());
        }
        let _ = conv(&p);
        let _ = DenseEngine.conv(&p);
        let (input_layout, kernel_layout, padding_mode) = c.layer;
        let layer_spec = LayerSpec {
            stride: c.spec.stride.clone(),
            dilation: c.spec.dilation.clone(),
            padding: c.spec.padding.clone(),
            padding_mode,
            groups: c.spec.groups,
            input_layout,
            kernel_layout,
            limits: c.spec.limits,
        };
        let _ = layer::conv(x.view(), w.view(), p.bias, &layer_spec);
        let transpose = TransposeSpec {
            stride: c.spec.stride.clone(),
            dilation: c.spec.dilation.clone(),
            padding: match (&c.output_shape, &c.spec.padding) {
                (Some(shape), padding) => TransposePadding::OutputShape {
                    shape: shape.clone(),
                    auto_pad: match padding {
                        Padding::SameUpper => layer::AutoPad::SameUpper,
                        Padding::SameLower => layer::AutoPad::SameLower,
                        _ => layer::AutoPad::NotSet,
                    },
                },
                (None, Padding::Explicit(pads)) => TransposePadding::Explicit(pads.clone()),
                (None, Padding::SameUpper) => TransposePadding::SameUpper,
                (None, Padding::SameLower) => TransposePadding::SameLower,
                (None, _) => TransposePadding::Explicit(Vec::new()),
            },
            output_padding: c.output_padding.clone(),
            groups: c.spec.groups,
            limits: c.spec.limits,
        };
        let _ = layer::conv_transpose(x.view(), w.view(), p.bias, &transpose);
        let _ = convolve(x.view(), w.view(), c.mode);
        let _ = correlate(x.view(), w.view(), c.mode);
        let _ = pad(x.view(), &c.pads, &c.spec.boundary, &c.spec.limits);
        if x.ndim() == 2 && w.ndim() == 2 {
            let (x2, w2) = (
                x.view().into_dimensionality::<ndarray::Ix2>(),
                w.view().into_dimensionality::<ndarray::Ix2>(),
            );
            if let (Ok(x2), Ok(w2)) = (x2, w2) {
                let _ = convolve2d(x2, w2, c.mode, Boundary2d::Symm);
                let _ = convolve2d(x2, w2, c.mode, Boundary2d::Wrap);
            }
        }
    });
    result.map_err(|c| Violation::new(Kind::Panicked, c.describe("the signal API")))
}

/// A signal property run by a search over its cases.
type SignalCheck<T> = fn(&SignalEngine<T>, u32, u64) -> Result<(), Violation>;

/// The rows of every signal property on one engine and element type.
pub(crate) fn signal_rows<T: Sample>(e: SignalEngine<T>) -> Vec<Row> {
    let name = format!("{}/{}", e.name, T::NAME);
    let row = |property: &'static str, expect: Expect, check: SignalCheck<T>| {
        let (name, e) = (name.clone(), e.clone());
        Row::new(property, name.clone(), move |cases, seed| {
            timed(property, name.clone(), cases, expect, || {
                check(&e, cases, seed)
            })
        })
    };
    vec![
        row("commutative", Expect::Holds, |e, cases, seed| {
            search(arrays::<T>(2), cases, seed, |c| commutative(e, c))
        }),
        row("associative", Expect::Holds, |e, cases, seed| {
            search(arrays::<T>(3), cases, seed, |c| associative(e, c))
        }),
        row("bilinear", Expect::Holds, |e, cases, seed| {
            search(bilinear_case::<T>(), cases, seed, |c| bilinear(e, c))
        }),
        row("delta-shift", Expect::Holds, |e, cases, seed| {
            search(delta_case::<T>(), cases, seed, |c| delta_shift(e, c))
        }),
        row(
            "convolve-is-correlate-reversed",
            Expect::Holds,
            |e, cases, seed| {
                search(pair_and_mode::<T>(), cases, seed, |c| {
                    convolve_is_correlate_reversed(e, c)
                })
            },
        ),
        row("correlate-swap", Expect::Holds, |e, cases, seed| {
            search(arrays::<T>(2), cases, seed, |c| correlate_swap(e, c))
        }),
        row(
            "correlation-not-commutative",
            Expect::Refuted(Kind::Mismatch),
            |e, cases, seed| search(arrays::<T>(2), cases, seed, |c| correlation_commutes(e, c)),
        ),
    ]
}

/// Runs every signal property on one engine and element type.
#[cfg(test)]
pub(crate) fn run_signal_battery<T: Sample>(
    e: &SignalEngine<T>,
    cases: u32,
    seed: u64,
) -> Vec<crate::testing::Outcome> {
    crate::testing::run_rows(&signal_rows(e.clone()), cases, seed)
}

/// The signal rows `verify` runs: the reference on `i64` and `Complex<f64>`, plus the
/// no-panic property of the public API (on four times the cases).
pub(crate) fn rows() -> Vec<Row> {
    let mut out = signal_rows(SignalEngine::<i64>::reference());
    out.extend(signal_rows(SignalEngine::<Complex<f64>>::reference()));
    out.push(Row::new("no-panic", "public API", |cases, seed| {
        let robust_cases = cases.saturating_mul(4);
        timed(
            "no-panic",
            "public API".into(),
            robust_cases,
            Expect::Holds,
            || search(absurd_case(), robust_cases, seed, no_panic),
        )
    }));
    out
}

/// [`rows`], run.
#[cfg(test)]
pub(crate) fn run_battery(cases: u32, seed: u64) -> Vec<crate::testing::Outcome> {
    crate::testing::run_rows(&rows(), cases, seed)
}

#[cfg(test)]
mod tests;
