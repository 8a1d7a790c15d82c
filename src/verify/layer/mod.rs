//! Property battery for the deep-learning layer API: what a convolution layer *is*, checked on
//! exact `i64` elements.
//!
//! Every property is a plain check function over a generated case, returning
//! `Result<(), Violation>`; [`run_layer_battery`] drives each with the seeded, shrinking
//! [`search`] of [`crate::verify::signal`] and reports one [`Outcome`] per property and engine.
//! Engine-level properties take any [`ConvEngine`]; operator-level properties take a
//! [`LayerOps`] (the layer functions as plain function pointers), so a test can hand in a
//! deliberately wrong engine or operator and watch the battery catch it.
//!
//! | property | claim |
//! |---|---|
//! | `translation-equivariance-circular` | circular boundary, stride 1: rolling the input by any shift vector rolls the output by the same vector (every rank 1..=3, channels, groups, flip, bias, any pads totalling at least `eff - 1`) |
//! | `translation-equivariance-interior` | any boundary (zeros included), stride 1: `y'[p] = y[p - t]` on every output whose receptive field lies inside the input before and after the shift; at least one qualifies (`\|t\| <= n - eff`) |
//! | `translation-equivariance-stride` | circular, stride `s`, `s \| n`: rolling the input by `s*u` rolls the output by `u` (period `n/s`) |
//! | `zero-padding-breaks-equivariance` | refuted: with zero padding the roll claim fails (at a boundary output) |
//! | `stride-2-shift-1-breaks-equivariance` | refuted: with stride 2, rolling the input by 1 is not a roll of the output by any amount |
//! | `locality-outside` | adding to an input element outside an output's receptive field never changes that output |
//! | `locality-inside` | with every tap positive, adding `delta > 0` to an element inside changes the output by exactly `delta` times the sum of the taps that read it (so it changes) |
//! | `groups-are-independent` | a grouped convolution is the concatenation of the per-group convolutions |
//! | `depthwise-is-per-channel` | the same with `groups = C` (one input channel per group) |
//! | `engine-equals-reference` | the engine agrees with [`reference::conv`] on every spec (both `Ok` and equal, or the same error) |
//! | `pointwise-is-dense-per-pixel` | a 1x1 convolution is the per-pixel dense layer [`pointwise_matrix`] + [`dense_per_pixel`], any layout, groups (block diagonal), bias |
//! | `dense-matrix-commutes-with-shift` | the dense matrix of a circular stride-1 convolution commutes with the shift permutation (block circulant) |
//! | `dense-layer-not-equivariant` | refuted: a random dense matrix commutes with the shift |
//! | `conv-transpose-is-adjoint` | `<conv(x, w), y> == <x, conv_transpose(y, w)>` (zero padding, any stride, dilation, groups, pads, matching output padding; conv_transpose's padding explicit or the ONNX rules SAME_UPPER, SAME_LOWER, `output_shape`) |
//! | `layouts-are-permutations` | NHWC / HWIO / OHWI results are the NCHW / OIHW result permuted, including `C == H == W` (candle issue 3404) |
//! | `parameter-counts` | the dense matrix has `(C*prod(in)) * (O*prod(out))` entries, the convolution `O * C/groups * prod(k)` weights |
//!
//! The checks compute what they compare against without the crate's indexing: receptive
//! fields use their own boundary folding and pad resolution (docs/semantics.md section 2), layouts
//! their own permutations.
//!
//! Why `locality-inside` needs positive taps: under reflect, symmetric, replicate or circular
//! boundaries one input element can feed several taps of the same output (n = 1 with a
//! 3-tap kernel: all three taps read `x[0]`), so the output changes by `delta` times the *sum*
//! of those taps' weights. With mixed signs that sum can be zero (`w = [1, -1]`, replicate,
//! n = 1) and the output does not change; with every tap `>= 1` and `delta >= 1` the change is
//! at least `delta`.

use crate::api::layer::{self, LayerSpec, PaddingMode};
use crate::engine::dense::{DenseEngine, DenseForm, dense_form, dense_per_pixel, pointwise_matrix};
use crate::engine::{ConvEngine, ReferenceEngine};
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::geometry::geometry;
use crate::problem::{Boundary, ConvSpec, Flip, Limits, Padding};
use crate::problem::{InputLayout, KernelLayout, TransposePadding, TransposeSpec};
use crate::reference;
use crate::scalar::Ring;
use crate::testing::cases::Arr;
use crate::testing::{Expect, Kind, Row, Violation, search, timed};
use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, Axis, Dimension, IxDyn, Slice};
use proptest::prelude::*;
use std::rc::Rc;

// ------------------------------------------------------------------------------ operators

/// The signature of [`layer::conv`] on `i64`.
pub(crate) type LayerConvFn = fn(
    ArrayViewD<'_, i64>,
    ArrayViewD<'_, i64>,
    Option<ArrayView1<'_, i64>>,
    &LayerSpec,
) -> Result<ArrayD<i64>, ConvError>;

/// The signature of [`layer::conv_transpose`] on `i64`.
pub(crate) type ConvTransposeFn = fn(
    ArrayViewD<'_, i64>,
    ArrayViewD<'_, i64>,
    Option<ArrayView1<'_, i64>>,
    &TransposeSpec,
) -> Result<ArrayD<i64>, ConvError>;

/// The signature of [`dense_form`] on `i64`.
pub(crate) type DenseFormFn = fn(&Problem<'_, i64>) -> Result<DenseForm<i64>, ConvError>;

/// The signature of [`pointwise_matrix`] on `i64`.
pub(crate) type PointwiseMatrixFn =
    fn(ArrayViewD<'_, i64>, KernelLayout, usize) -> Result<Array2<i64>, ConvError>;

/// The signature of [`dense_per_pixel`] on `i64`.
pub(crate) type DensePerPixelFn = fn(
    ArrayViewD<'_, i64>,
    ArrayView2<'_, i64>,
    Option<ArrayView1<'_, i64>>,
) -> Result<ArrayD<i64>, ConvError>;

/// The layer operators under test, as plain functions, so a test can swap one for a wrong one.
#[derive(Clone, Copy)]
pub(crate) struct LayerOps {
    /// Name printed in reports.
    pub name: &'static str,
    /// Deep-learning convolution with layouts ([`layer::conv`]).
    pub conv: LayerConvFn,
    /// Transposed convolution ([`layer::conv_transpose`]).
    pub conv_transpose: ConvTransposeFn,
    /// The convolution as a matrix ([`dense_form`]).
    pub dense_form: DenseFormFn,
    /// The dense matrix of a 1x1 convolution ([`pointwise_matrix`]).
    pub pointwise_matrix: PointwiseMatrixFn,
    /// A dense layer applied to every pixel ([`dense_per_pixel`]).
    pub dense_per_pixel: DensePerPixelFn,
}

impl LayerOps {
    /// The crate's own operators.
    pub(crate) fn reference() -> Self {
        LayerOps {
            name: "layer",
            conv: layer::conv::<i64>,
            conv_transpose: layer::conv_transpose::<i64>,
            dense_form: dense_form::<i64>,
            pointwise_matrix: pointwise_matrix::<i64>,
            dense_per_pixel: dense_per_pixel::<i64>,
        }
    }
}

// ------------------------------------------------------------------------------ cases

/// A convolution problem with owned data: input `(N, C, s...)`, weight `(O, C/groups, k...)`.
#[derive(Clone, Debug)]
pub(crate) struct ConvCase {
    /// Input, channels first.
    pub input: Arr<i64>,
    /// Weight, OIHW.
    pub weight: Arr<i64>,
    /// Optional bias, one per output channel.
    pub bias: Option<Vec<i64>>,
    /// The spec.
    pub spec: ConvSpec<i64>,
}

impl ConvCase {
    /// The borrowed [`Problem`].
    pub(crate) fn problem(&self) -> Problem<'_, i64> {
        let mut p = Problem::new(self.input.0.view(), self.weight.0.view()).spec(self.spec.clone());
        p.bias = self.bias.as_deref().map(ArrayView1::from);
        p
    }
    fn rank(&self) -> usize {
        self.input.0.ndim().saturating_sub(2)
    }
}

/// A convolution problem and a shift of the input, one entry per spatial axis.
#[derive(Clone, Debug)]
pub(crate) struct ShiftCase {
    /// The problem.
    pub case: ConvCase,
    /// Input shift per spatial axis (positive moves content towards higher indices).
    pub shift: Vec<isize>,
}

/// A convolution problem and a change of one input element.
#[derive(Clone, Debug)]
pub(crate) struct PerturbCase {
    /// The problem.
    pub case: ConvCase,
    /// Full input index `(n, c, spatial...)` of the changed element.
    pub at: Vec<usize>,
    /// Amount added to it.
    pub delta: i64,
}

/// A 1x1 convolution in canonical data plus the layouts to present it in.
#[derive(Clone, Debug)]
pub(crate) struct PointwiseCase {
    /// Input `(N, C, s...)`.
    pub input: Arr<i64>,
    /// Weight `(O, C/groups, 1, ..., 1)`.
    pub weight: Arr<i64>,
    /// Optional bias `(O)`.
    pub bias: Option<Vec<i64>>,
    /// Groups.
    pub groups: usize,
    /// Layout the input and output are presented in.
    pub input_layout: InputLayout,
    /// Layout the weight is presented in.
    pub kernel_layout: KernelLayout,
}

/// A general dense layer between `(C, n...)` and `(O, n...)` and a spatial shift.
#[derive(Clone, Debug)]
pub(crate) struct DenseLayerCase {
    /// `(O * prod(n), C * prod(n))`.
    pub matrix: Arr<i64>,
    /// `(C, n...)`.
    pub input_shape: Vec<usize>,
    /// `(O, n...)`.
    pub output_shape: Vec<usize>,
    /// Shift per spatial axis.
    pub shift: Vec<isize>,
}

/// An adjointness case: `x` in conv's input space, `y` in its output space, and the geometry.
#[derive(Clone, Debug)]
pub(crate) struct AdjointCase {
    /// `(N, C_in, n...)`.
    pub x: Arr<i64>,
    /// `(C_out, C_in/groups, k...)`: conv's OIHW weight, which is also conv_transpose's
    /// `(C_in of the transpose, C_out of the transpose / groups, k...)` weight.
    pub w: Arr<i64>,
    /// `(N, C_out, m...)`.
    pub y: Arr<i64>,
    /// Stride per axis.
    pub stride: Vec<usize>,
    /// Dilation per axis.
    pub dilation: Vec<usize>,
    /// Explicit `(lo, hi)` pads per axis: conv's padding, and what `transpose_padding`
    /// resolves to.
    pub pads: Vec<(usize, usize)>,
    /// conv_transpose's padding: `Explicit(pads)`, or an ONNX rule (`SameUpper`, `SameLower`,
    /// `OutputShape`) whose begin/end split (docs/semantics.md section 6) is `pads`.
    pub transpose_padding: TransposePadding,
    /// `n - ((m-1)*s + eff - lo - hi)` per axis, so conv_transpose returns length `n`.
    pub output_padding: Vec<usize>,
    /// Groups.
    pub groups: usize,
}

/// A layer problem in canonical data (NCHW input, OIHW weight) and a layer spec whose layouts
/// are ignored: every input and kernel layout is checked.
#[derive(Clone, Debug)]
pub(crate) struct LayoutCase {
    /// Input `(N, C, s...)`.
    pub input: Arr<i64>,
    /// Weight `(O, C/groups, k...)`.
    pub weight: Arr<i64>,
    /// Optional bias.
    pub bias: Option<Vec<i64>>,
    /// Stride, dilation, padding, padding mode, groups.
    pub spec: LayerSpec,
}

// ------------------------------------------------------------------------------ helpers

fn same(a: &ArrayD<i64>, b: &ArrayD<i64>, what_a: &str, what_b: &str) -> Result<(), Violation> {
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

fn run(engine: &dyn ConvEngine<i64>, p: &Problem<'_, i64>) -> Result<ArrayD<i64>, Violation> {
    engine
        .conv(p)
        .map_err(|e| Violation::refused(&e).context(engine.name()))
}

fn refused(what: &str) -> impl Fn(ConvError) -> Violation + '_ {
    move |e| Violation::refused(&e).context(what)
}

fn shape_mismatch(detail: String) -> Violation {
    Violation::new(Kind::ShapeMismatch, detail)
}

/// A per-axis setting with the "empty means all `default`" convention.
fn per_axis(v: &[usize], rank: usize, default: usize) -> Result<Vec<usize>, Violation> {
    match v.len() {
        0 => Ok(vec![default; rank]),
        n if n == rank => Ok(v.to_vec()),
        n => Err(Violation::hypothesis(format!(
            "per-axis setting has {n} entries for rank {rank}"
        ))),
    }
}

/// `x` rolled by `shift` along its spatial axes (axes 2..): `x'[i] = x[(i - t) mod n]`.
fn roll(x: &ArrayD<i64>, shift: &[isize]) -> ArrayD<i64> {
    let shape = x.shape().to_vec();
    ArrayD::from_shape_fn(x.raw_dim(), |idx| {
        let mut src = idx.clone();
        for (a, &t) in shift.iter().enumerate() {
            let n = shape[2 + a] as isize;
            src[2 + a] = (idx[2 + a] as isize - t).rem_euclid(n) as usize;
        }
        x[&src]
    })
}

/// Where padded position `i` of an axis of length `n` reads, by folding (numpy.pad's rule,
/// written without the reference's modular index map); `None` for the boundary constant.
fn fold(mode: &Boundary<i64>, i: isize, n: usize) -> Option<usize> {
    let n = n as isize;
    let mut i = i;
    match mode {
        Boundary::Zeros | Boundary::Constant(_) => (0..n).contains(&i).then_some(i as usize),
        Boundary::Replicate => Some(i.clamp(0, n - 1) as usize),
        Boundary::Circular => {
            while i < 0 {
                i += n;
            }
            while i >= n {
                i -= n;
            }
            Some(i as usize)
        }
        Boundary::Reflect if n == 1 => Some(0),
        Boundary::Reflect => loop {
            if i < 0 {
                i = -i;
            } else if i >= n {
                i = 2 * (n - 1) - i;
            } else {
                break Some(i as usize);
            }
        },
        Boundary::Symmetric => loop {
            if i < 0 {
                i = -1 - i;
            } else if i >= n {
                i = 2 * n - 1 - i;
            } else {
                break Some(i as usize);
            }
        },
    }
}

/// One axis of a convolution, resolved independently of `crate::problem::geometry` (docs/semantics.md
/// section 2).
#[derive(Clone, Copy, Debug)]
struct Ax {
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    lo: usize,
    eff: usize,
    out: usize,
}

fn axes_of(case: &ConvCase) -> Result<Vec<Ax>, Violation> {
    let rank = case.rank();
    let (xs, ws) = (case.input.0.shape(), case.weight.0.shape());
    if ws.len() != rank + 2 {
        return Err(Violation::hypothesis(format!(
            "weight rank {} for input rank {}",
            ws.len(),
            xs.len()
        )));
    }
    let stride = per_axis(&case.spec.stride, rank, 1)?;
    let dilation = per_axis(&case.spec.dilation, rank, 1)?;
    (0..rank)
        .map(|a| {
            let (n, k, s, d) = (xs[2 + a], ws[2 + a], stride[a], dilation[a]);
            if n == 0 || k == 0 || s == 0 || d == 0 {
                return Err(Violation::hypothesis(format!(
                    "axis {a}: n={n} k={k} s={s} d={d} must all be >= 1"
                )));
            }
            let eff = d * (k - 1) + 1;
            let (lo, hi) = match &case.spec.padding {
                Padding::Explicit(p) => *p
                    .get(a)
                    .ok_or_else(|| Violation::hypothesis("missing explicit pad"))?,
                Padding::Valid => (0, 0),
                Padding::Full => (eff - 1, eff - 1),
                Padding::SameUpper | Padding::SameLower => {
                    let total = ((n.div_ceil(s) - 1) * s + eff).saturating_sub(n);
                    if case.spec.padding == Padding::SameUpper {
                        (total / 2, total - total / 2)
                    } else {
                        (total - total / 2, total / 2)
                    }
                }
                Padding::TorchSame => (d * (k - 1) / 2, d * (k - 1) - d * (k - 1) / 2),
            };
            if n + lo + hi < eff {
                return Err(Violation::hypothesis(format!(
                    "axis {a}: kernel extent {eff} > padded input"
                )));
            }
            let out = (n + lo + hi - eff) / s + 1;
            Ok(Ax {
                n,
                k,
                s,
                d,
                lo,
                eff,
                out,
            })
        })
        .collect()
}

fn check_output_shape(y: &ArrayD<i64>, case: &ConvCase, axes: &[Ax]) -> Result<(), Violation> {
    let mut expected = vec![case.input.0.shape()[0], case.weight.0.shape()[0]];
    expected.extend(axes.iter().map(|a| a.out));
    if y.shape() == expected.as_slice() {
        Ok(())
    } else {
        Err(shape_mismatch(format!(
            "output shape {:?}, but docs/semantics.md section 2 gives {expected:?}",
            y.shape()
        )))
    }
}

fn inner(a: &ArrayD<i64>, b: &ArrayD<i64>) -> i64 {
    a.iter()
        .zip(b.iter())
        .fold(0i64, |acc, (x, y)| acc.plus(&x.times(y)))
}

/// Canonical NCHW data presented in `layout` (an owned, standard-layout copy).
fn input_in(x: &ArrayD<i64>, layout: InputLayout) -> ArrayD<i64> {
    match layout {
        InputLayout::ChannelsFirst => x.clone(),
        InputLayout::ChannelsLast => {
            let nd = x.ndim();
            let mut p = vec![0];
            p.extend(2..nd);
            p.push(1);
            x.view()
                .permuted_axes(IxDyn(&p))
                .as_standard_layout()
                .into_owned()
        }
    }
}

/// Canonical OIHW weight presented in `layout` (an owned, standard-layout copy).
fn weight_in(w: &ArrayD<i64>, layout: KernelLayout) -> ArrayD<i64> {
    let nd = w.ndim();
    let p: Vec<usize> = match layout {
        KernelLayout::Oihw => (0..nd).collect(),
        KernelLayout::Hwio => (2..nd).chain([1, 0]).collect(),
        KernelLayout::Ohwi => [0].into_iter().chain(2..nd).chain([1]).collect(),
    };
    w.view()
        .permuted_axes(IxDyn(&p))
        .as_standard_layout()
        .into_owned()
}

// ------------------------------------------------------------------------------ checks

/// Rolling the input rolls the output: `y'[p] == y[(p - t/s) mod (n/s)]` for every output
/// `p`, where `y'` is the output for the input rolled by `t` along each spatial axis.
///
/// True for the circular boundary whenever `s | n`, `s | t` and the output covers a period
/// (`out >= n/s`, i.e. pads totalling at least `eff - 1`); false in general for zero padding.
pub(crate) fn periodic_shift_equivariance(
    engine: &dyn ConvEngine<i64>,
    c: &ShiftCase,
) -> Result<(), Violation> {
    let Shifted { y, y2, period } = shifted_pair(engine, c)?;
    let mut moved = Vec::with_capacity(period.len());
    let stride = per_axis(&c.case.spec.stride, c.case.rank(), 1)?;
    for (a, (&t, &s)) in c.shift.iter().zip(&stride).enumerate() {
        if t % s as isize != 0 {
            return Err(Violation::hypothesis(format!(
                "hypothesis violated: shift {t} on axis {a} is not a multiple of the stride {s}"
            )));
        }
        moved.push(t / s as isize);
    }
    compare_periodic(&y, &y2, &period, &moved)
}

/// The false claim that rolling the input by `t` always rolls the output by *some* amount
/// (a periodic shift `u` per axis); the battery expects the search to refute it for `t = 1`
/// with stride 2.
pub(crate) fn some_output_shift_matches(
    engine: &dyn ConvEngine<i64>,
    c: &ShiftCase,
) -> Result<(), Violation> {
    let Shifted { y, y2, period } = shifted_pair(engine, c)?;
    let found = ndarray::indices(IxDyn(&period)).into_iter().any(|u| {
        let moved: Vec<isize> = u.slice().iter().map(|&v| v as isize).collect();
        compare_periodic(&y, &y2, &period, &moved).is_ok()
    });
    if found {
        Ok(())
    } else {
        Err(Violation::mismatch(format!(
            "no roll of the output (period {period:?}) reproduces the output of the input \
             rolled by {:?}: y = {:?}, y' = {:?}",
            c.shift,
            Arr(y),
            Arr(y2)
        )))
    }
}

/// The outputs for a case and for its rolled input.
struct Shifted {
    /// Output for the original input.
    y: ArrayD<i64>,
    /// Output for the rolled input.
    y2: ArrayD<i64>,
    /// `n/s` per spatial axis.
    period: Vec<usize>,
}

/// Runs the case and its rolled input, after checking the hypotheses shared by the periodic
/// claims.
fn shifted_pair(engine: &dyn ConvEngine<i64>, c: &ShiftCase) -> Result<Shifted, Violation> {
    let rank = c.case.rank();
    if c.shift.len() != rank {
        return Err(Violation::hypothesis(format!(
            "shift has {} entries for rank {rank}",
            c.shift.len()
        )));
    }
    let p = c.case.problem();
    let y = run(engine, &p)?;
    let rolled = roll(&c.case.input.0, &c.shift);
    let mut p2 = p.clone();
    p2.input = rolled.view();
    let y2 = run(engine, &p2)?;
    let stride = per_axis(&c.case.spec.stride, rank, 1)?;
    let mut period = Vec::with_capacity(rank);
    for (a, &s) in stride.iter().enumerate() {
        let n = c.case.input.0.shape()[2 + a];
        if s == 0 || !n.is_multiple_of(s) {
            return Err(Violation::hypothesis(format!(
                "hypothesis violated: stride {s} does not divide n = {n} on axis {a}"
            )));
        }
        let m = n / s;
        if y.shape().get(2 + a).is_none_or(|&out| out < m) {
            return Err(Violation::hypothesis(format!(
                "hypothesis violated: output {:?} shorter than one period {m} on axis {a} \
                 (pads must total at least eff - 1)",
                y.shape()
            )));
        }
        period.push(m);
    }
    if y.shape() != y2.shape() {
        return Err(shape_mismatch(format!(
            "shapes differ: {:?} and {:?}",
            y.shape(),
            y2.shape()
        )));
    }
    Ok(Shifted { y, y2, period })
}

fn compare_periodic(
    y: &ArrayD<i64>,
    y2: &ArrayD<i64>,
    period: &[usize],
    moved: &[isize],
) -> Result<(), Violation> {
    for (idx, v2) in y2.indexed_iter() {
        let mut q = idx.clone();
        for (a, (&m, &u)) in period.iter().zip(moved).enumerate() {
            q[2 + a] = (idx[2 + a] as isize - u).rem_euclid(m as isize) as usize;
        }
        if y[&q] != *v2 {
            return Err(Violation::mismatch(format!(
                "output {:?} of the rolled input is {v2}, but output {:?} of the original \
                 (moved back by {moved:?} mod {period:?}) is {}",
                idx.slice(),
                q.slice(),
                y[&q]
            )));
        }
    }
    Ok(())
}

/// Stride 1, any boundary and padding rule: `y'[p] == y[p - t]` on every output whose
/// receptive field `[p - lo, p - lo + eff - 1]` lies inside `[0, n)` both for `p` and for
/// `p - t` (so neither reads padding nor wraps); `y'` is the output for the input rolled by
/// `t`. Fails if no output qualifies (the strategy keeps `|t| <= n - eff`).
pub(crate) fn interior_shift_equivariance(
    engine: &dyn ConvEngine<i64>,
    c: &ShiftCase,
) -> Result<(), Violation> {
    let rank = c.case.rank();
    if c.shift.len() != rank {
        return Err(Violation::hypothesis(format!(
            "shift has {} entries for rank {rank}",
            c.shift.len()
        )));
    }
    let axes = axes_of(&c.case)?;
    if let Some(a) = axes.iter().position(|a| a.s != 1) {
        return Err(Violation::hypothesis(format!(
            "hypothesis violated: stride {} on axis {a}",
            axes[a].s
        )));
    }
    let p = c.case.problem();
    let y = run(engine, &p)?;
    check_output_shape(&y, &c.case, &axes)?;
    let rolled = roll(&c.case.input.0, &c.shift);
    let mut p2 = p.clone();
    p2.input = rolled.view();
    let y2 = run(engine, &p2)?;
    check_output_shape(&y2, &c.case, &axes)?;
    let mut qualifying = Vec::with_capacity(rank);
    for (a, ax) in axes.iter().enumerate() {
        let (n, eff, t) = (ax.n as isize, ax.eff as isize, c.shift[a]);
        let inside = |start: isize| start >= 0 && start + eff <= n;
        let ok: Vec<usize> = (0..ax.out)
            .filter(|&q| {
                let start = q as isize - ax.lo as isize;
                inside(start) && inside(start - t)
            })
            .collect();
        if ok.is_empty() {
            return Err(Violation::hypothesis(format!(
                "no output qualifies on axis {a} (n = {n}, eff = {eff}, t = {t}): \
                 the case must keep |t| <= n - eff"
            )));
        }
        qualifying.push(ok);
    }
    let lens: Vec<usize> = qualifying.iter().map(Vec::len).collect();
    let (batch, c_out) = (y.shape()[0], y.shape()[1]);
    for b in 0..batch {
        for o in 0..c_out {
            for sel in ndarray::indices(IxDyn(&lens)) {
                let mut at = vec![b, o];
                let mut from = vec![b, o];
                for (a, ok) in qualifying.iter().enumerate() {
                    let q = ok[sel[a]];
                    at.push(q);
                    from.push((q as isize - c.shift[a]) as usize);
                }
                let (got, want) = (y2[IxDyn(&at)], y[IxDyn(&from)]);
                if got != want {
                    return Err(Violation::mismatch(format!(
                        "interior output {at:?} of the rolled input is {got}, but output \
                         {from:?} of the original is {want}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The taps `k` (per axis) of output position `q` that read input position `j`.
fn taps_reading(axes: &[Ax], mode: &Boundary<i64>, q: &[usize], j: &[usize]) -> Vec<Vec<usize>> {
    axes.iter()
        .enumerate()
        .map(|(a, ax)| {
            (0..ax.k)
                .filter(|&k| {
                    let pos = (q[a] * ax.s + k * ax.d) as isize - ax.lo as isize;
                    fold(mode, pos, ax.n) == Some(j[a])
                })
                .collect()
        })
        .collect()
}

/// For each output: `None` when the changed element is outside its receptive field, else
/// `Some(sum of the weights of the taps that read it)`.
fn receptive_sums(
    c: &PerturbCase,
    axes: &[Ax],
    out_shape: &[usize],
) -> Result<ArrayD<Option<i64>>, Violation> {
    let xs = c.case.input.0.shape();
    if c.at.len() != xs.len() || c.at.iter().zip(xs).any(|(&i, &n)| i >= n) {
        return Err(Violation::hypothesis(format!(
            "element {:?} is not inside input {xs:?}",
            c.at
        )));
    }
    let w = &c.case.weight.0;
    let (c_out, cg) = (w.shape()[0], w.shape()[1]);
    let groups = c.case.spec.groups;
    if groups == 0 || c_out % groups != 0 {
        return Err(Violation::hypothesis(format!(
            "groups {groups} do not divide {c_out} output channels"
        )));
    }
    let og = c_out / groups;
    let flip = c.case.spec.flip == Flip::Convolution;
    Ok(ArrayD::from_shape_fn(IxDyn(out_shape), |idx| {
        let (b, o) = (idx[0], idx[1]);
        let g = o / og;
        let ch = c.at[1];
        if b != c.at[0] || ch / cg != g {
            return None;
        }
        let taps = taps_reading(axes, &c.case.spec.boundary, &idx.slice()[2..], &c.at[2..]);
        if taps.iter().any(Vec::is_empty) {
            return None;
        }
        let lens: Vec<usize> = taps.iter().map(Vec::len).collect();
        let mut sum = 0i64;
        for sel in ndarray::indices(IxDyn(&lens)) {
            let mut wi = vec![o, ch - g * cg];
            for (a, t) in taps.iter().enumerate() {
                let k = t[sel[a]];
                wi.push(if flip { axes[a].k - 1 - k } else { k });
            }
            sum = sum.plus(&w[IxDyn(&wi)]);
        }
        Some(sum)
    }))
}

fn perturbed(c: &PerturbCase) -> ArrayD<i64> {
    let mut x = c.case.input.0.clone();
    if let Some(v) = x.get_mut(IxDyn(&c.at)) {
        *v = v.plus(&c.delta);
    }
    x
}

/// The outputs before and after a perturbation, and per output the receptive-field sum.
struct Perturbed {
    /// Output for the original input.
    y: ArrayD<i64>,
    /// Output for the changed input.
    y2: ArrayD<i64>,
    /// Per output: `None` outside the receptive field, else the sum of the taps reading the
    /// changed element.
    sums: ArrayD<Option<i64>>,
}

fn perturb_outputs(engine: &dyn ConvEngine<i64>, c: &PerturbCase) -> Result<Perturbed, Violation> {
    let axes = axes_of(&c.case)?;
    let p = c.case.problem();
    let y = run(engine, &p)?;
    check_output_shape(&y, &c.case, &axes)?;
    let x2 = perturbed(c);
    let mut p2 = p.clone();
    p2.input = x2.view();
    let y2 = run(engine, &p2)?;
    check_output_shape(&y2, &c.case, &axes)?;
    let sums = receptive_sums(c, &axes, y.shape())?;
    Ok(Perturbed { y, y2, sums })
}

/// Adding `delta` to one input element leaves every output whose receptive field does not
/// contain it unchanged (any weights, any spec). The receptive field of output `(b, o, q)` is
/// every `(b, c, j)` with `c` in `o`'s group and some tap `k` reading `j` through the boundary.
pub(crate) fn locality_outside(
    engine: &dyn ConvEngine<i64>,
    c: &PerturbCase,
) -> Result<(), Violation> {
    let Perturbed { y, y2, sums } = perturb_outputs(engine, c)?;
    for ((idx, s), (a, b)) in sums.indexed_iter().zip(y.iter().zip(y2.iter())) {
        if s.is_none() && a != b {
            return Err(Violation::mismatch(format!(
                "output {:?} changed from {a} to {b}, but element {:?} is outside its \
                 receptive field",
                idx.slice(),
                c.at
            )));
        }
    }
    Ok(())
}

/// With every weight `>= 1` and `delta >= 1`: every output whose receptive field contains the
/// changed element changes by exactly `delta * (sum of the taps that read it)`, which is at
/// least `delta`, so it changes (see the module docs for why positivity is needed).
pub(crate) fn locality_inside(
    engine: &dyn ConvEngine<i64>,
    c: &PerturbCase,
) -> Result<(), Violation> {
    if c.delta < 1 || c.case.weight.0.iter().any(|&w| w < 1) {
        return Err(Violation::hypothesis(
            "hypothesis violated: delta and every weight must be >= 1",
        ));
    }
    let Perturbed { y, y2, sums } = perturb_outputs(engine, c)?;
    for ((idx, s), (a, b)) in sums.indexed_iter().zip(y.iter().zip(y2.iter())) {
        if let Some(s) = s {
            let expected = c.delta.times(s);
            if b.minus(a) != expected || a == b {
                return Err(Violation::mismatch(format!(
                    "output {:?} went from {a} to {b}, but element {:?} is read by taps \
                     weighing {s} in total, so it must change by {expected}",
                    idx.slice(),
                    c.at
                )));
            }
        }
    }
    Ok(())
}

/// A grouped convolution equals the concatenation (along channels) of `groups` independent
/// convolutions of the group's input channels with the group's filters (and bias).
pub(crate) fn groups_are_independent(
    engine: &dyn ConvEngine<i64>,
    c: &ConvCase,
) -> Result<(), Violation> {
    let whole = run(engine, &c.problem())?;
    let groups = c.spec.groups;
    let (x, w) = (&c.input.0, &c.weight.0);
    if x.ndim() < 2 || w.ndim() != x.ndim() {
        return Err(Violation::hypothesis(
            "input and weight need (N, C, ...) and (O, C/g, ...)",
        ));
    }
    let (cg, c_out) = (w.shape()[1], w.shape()[0]);
    if groups == 0 || c_out % groups != 0 {
        return Err(Violation::hypothesis(format!(
            "groups {groups} do not divide {c_out}"
        )));
    }
    let og = c_out / groups;
    let mut parts = Vec::with_capacity(groups);
    for g in 0..groups {
        let xg = x.slice_axis(Axis(1), Slice::from(g * cg..(g + 1) * cg));
        let wg = w.slice_axis(Axis(0), Slice::from(g * og..(g + 1) * og));
        let mut p = Problem::new(xg, wg).spec(c.spec.clone().groups(1));
        p.bias = c
            .bias
            .as_deref()
            .and_then(|b| b.get(g * og..(g + 1) * og))
            .map(ArrayView1::from);
        parts.push(run(engine, &p)?);
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let cat = ndarray::concatenate(Axis(1), &views)
        .map_err(|e| shape_mismatch(format!("concatenate: {e}")))?;
    same(
        &whole,
        &cat,
        "grouped convolution",
        "concatenated per-group convolutions",
    )
}

/// The engine agrees with [`reference::conv`]: both `Ok` and equal, or the same error.
pub(crate) fn engine_equals_reference(
    engine: &dyn ConvEngine<i64>,
    c: &ConvCase,
) -> Result<(), Violation> {
    let p = c.problem();
    match (engine.conv(&p), reference::conv(&p)) {
        (Ok(a), Ok(b)) => same(&a, &b, engine.name(), "reference"),
        (Err(a), Err(b)) if a == b => Ok(()),
        (a, b) => Err(Violation::acceptance(&a, &b).context(engine.name())),
    }
}

/// A 1x1 convolution (stride 1, no padding) in any layout equals the per-pixel dense layer:
/// `W = pointwise_matrix(weight)` is `(O, C)` with `W[m, c] = weight[m, c - g*C/G]` inside
/// `m`'s group `g` and 0 outside (block diagonal), and `dense_per_pixel(x, W, bias)` is the
/// layer's output, permuted to the input layout.
pub(crate) fn pointwise_is_dense_per_pixel(
    ops: &LayerOps,
    c: &PointwiseCase,
) -> Result<(), Violation> {
    let (x, w) = (&c.input.0, &c.weight.0);
    if x.ndim() < 3 || w.ndim() != x.ndim() || w.shape()[2..].iter().any(|&k| k != 1) {
        return Err(Violation::hypothesis(format!(
            "not a 1x1 case: input {:?}, weight {:?}",
            x.shape(),
            w.shape()
        )));
    }
    let (c_out, cg) = (w.shape()[0], w.shape()[1]);
    if c.groups == 0 || c_out % c.groups != 0 || cg * c.groups != x.shape()[1] {
        return Err(Violation::hypothesis("groups do not fit the channels"));
    }
    let og = c_out / c.groups;
    let (xl, wl) = (input_in(x, c.input_layout), weight_in(w, c.kernel_layout));
    let bias = c.bias.as_deref().map(ArrayView1::from);
    let spec = LayerSpec {
        groups: c.groups,
        input_layout: c.input_layout,
        kernel_layout: c.kernel_layout,
        ..LayerSpec::default()
    };
    let y = (ops.conv)(xl.view(), wl.view(), bias, &spec).map_err(refused("conv"))?;
    let m = (ops.pointwise_matrix)(wl.view(), c.kernel_layout, c.groups)
        .map_err(refused("pointwise_matrix"))?;
    // The chapter's definition, written out: block diagonal, W[m, c] = V[0.., c, m].
    let zeros = vec![0usize; w.ndim() - 2];
    let expected_m = Array2::from_shape_fn((c_out, cg * c.groups), |(o, ch)| {
        if ch / cg == o / og {
            let mut wi = vec![o, ch % cg];
            wi.extend_from_slice(&zeros);
            w[IxDyn(&wi)]
        } else {
            0
        }
    });
    if m != expected_m {
        return Err(Violation::mismatch(format!(
            "pointwise_matrix = {m:?}, but the block-diagonal W[m, c] = V[c, m] is {expected_m:?}"
        )));
    }
    let z = (ops.dense_per_pixel)(x.view(), m.view(), bias).map_err(refused("dense_per_pixel"))?;
    same(
        &y,
        &input_in(&z, c.input_layout),
        "1x1 convolution",
        "per-pixel dense layer",
    )
}

/// `M` (rows `out_shape`, columns `in_shape`, both `(channels, n...)` flattened row-major,
/// with equal spatial extents) commutes with the spatial roll by `shift`:
/// `M[(o, i + t), (c, j + t)] == M[(o, i), (c, j)]` for all entries (indices mod `n`), i.e.
/// `M S = S M`; and so does `offset` when given.
pub(crate) fn matrix_commutes_with_shift(
    m: ArrayView2<'_, i64>,
    offset: Option<ArrayView1<'_, i64>>,
    in_shape: &[usize],
    out_shape: &[usize],
    shift: &[isize],
) -> Result<(), Violation> {
    if in_shape.len() != shift.len() + 1
        || out_shape.len() != in_shape.len()
        || in_shape[1..] != out_shape[1..]
    {
        return Err(Violation::hypothesis(format!(
            "shift {shift:?} needs equal spatial extents: in {in_shape:?}, out {out_shape:?}"
        )));
    }
    let (rows, cols) = (out_shape.iter().product(), in_shape.iter().product());
    if m.dim() != (rows, cols) || offset.as_ref().is_some_and(|o| o.len() != rows) {
        return Err(shape_mismatch(format!(
            "matrix {:?} does not map {in_shape:?} to {out_shape:?}",
            m.dim()
        )));
    }
    let moved = |shape: &[usize], flat: usize| -> usize {
        let mut rest = flat;
        let mut idx = vec![0usize; shape.len()];
        for a in (0..shape.len()).rev() {
            idx[a] = rest % shape[a];
            rest /= shape[a];
        }
        let mut out = 0;
        for a in 0..shape.len() {
            let v = if a == 0 {
                idx[0]
            } else {
                (idx[a] as isize + shift[a - 1]).rem_euclid(shape[a] as isize) as usize
            };
            out = out * shape[a] + v;
        }
        out
    };
    let col_to: Vec<usize> = (0..cols).map(|c| moved(in_shape, c)).collect();
    for r in 0..rows {
        let r2 = moved(out_shape, r);
        if let Some(o) = &offset
            && o[r] != o[r2]
        {
            return Err(Violation::mismatch(format!(
                "offset[{r}] = {} but offset[{r2}] (shifted by {shift:?}) = {}",
                o[r], o[r2]
            )));
        }
        for (c, &c2) in col_to.iter().enumerate() {
            if m[(r, c)] != m[(r2, c2)] {
                return Err(Violation::mismatch(format!(
                    "M S != S M: M[{r}, {c}] = {} but M[{r2}, {c2}] (both shifted by \
                     {shift:?}) = {}",
                    m[(r, c)],
                    m[(r2, c2)]
                )));
            }
        }
    }
    Ok(())
}

/// The dense matrix of a circular, stride-1, same-size convolution commutes with the shift
/// permutation (it is block circulant), and its offset (the bias) is shift invariant.
pub(crate) fn dense_matrix_commutes_with_shift(
    ops: &LayerOps,
    c: &ShiftCase,
) -> Result<(), Violation> {
    if c.case.spec.boundary != Boundary::Circular {
        return Err(Violation::hypothesis(
            "hypothesis violated: the boundary must be circular",
        ));
    }
    let f = (ops.dense_form)(&c.case.problem()).map_err(refused("dense_form"))?;
    matrix_commutes_with_shift(
        f.matrix.view(),
        Some(f.offset.view()),
        &f.input_shape,
        &f.output_shape,
        &c.shift,
    )
}

/// The false claim that a general dense layer commutes with the shift; the battery expects
/// the search to refute it.
pub(crate) fn dense_layer_commutes_with_shift(c: &DenseLayerCase) -> Result<(), Violation> {
    let m = c
        .matrix
        .0
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|e| Violation::hypothesis(format!("matrix must be 2-D: {e}")))?;
    matrix_commutes_with_shift(m, None, &c.input_shape, &c.output_shape, &c.shift)
}

/// `<conv(x, w), y> == <x, conv_transpose(y, w)>`, with conv's output shaped like `y` and
/// conv_transpose's output shaped like `x` (zero padding, channels first, the same weight
/// array for both). conv pads with `pads`; conv_transpose with `transpose_padding`, which
/// must resolve to the same pads for the identity to hold.
pub(crate) fn conv_transpose_is_adjoint(ops: &LayerOps, c: &AdjointCase) -> Result<(), Violation> {
    let spec = LayerSpec {
        stride: c.stride.clone(),
        dilation: c.dilation.clone(),
        padding: Padding::Explicit(c.pads.clone()),
        groups: c.groups,
        ..LayerSpec::default()
    };
    let cx = (ops.conv)(c.x.0.view(), c.w.0.view(), None, &spec).map_err(refused("conv"))?;
    if cx.shape() != c.y.0.shape() {
        return Err(shape_mismatch(format!(
            "conv(x) has shape {:?}, y has {:?}",
            cx.shape(),
            c.y.0.shape()
        )));
    }
    let tspec = TransposeSpec {
        stride: c.stride.clone(),
        dilation: c.dilation.clone(),
        padding: c.transpose_padding.clone(),
        output_padding: c.output_padding.clone(),
        groups: c.groups,
        ..TransposeSpec::default()
    };
    let ty = (ops.conv_transpose)(c.y.0.view(), c.w.0.view(), None, &tspec)
        .map_err(refused("conv_transpose"))?;
    if ty.shape() != c.x.0.shape() {
        return Err(shape_mismatch(format!(
            "conv_transpose(y) has shape {:?}, x has {:?}",
            ty.shape(),
            c.x.0.shape()
        )));
    }
    let (left, right) = (inner(&cx, &c.y.0), inner(&c.x.0, &ty));
    if left == right {
        Ok(())
    } else {
        Err(Violation::mismatch(format!(
            "<conv(x, w), y> = {left} but <x, conv_transpose(y, w)> = {right}; \
             conv(x) = {:?}, conv_transpose(y) = {:?}",
            Arr(cx),
            Arr(ty)
        )))
    }
}

/// Every input layout (NCHW, NHWC) with every kernel layout (OIHW, HWIO, OHWI) gives the
/// NCHW / OIHW result, permuted to the input layout.
pub(crate) fn layouts_are_permutations(ops: &LayerOps, c: &LayoutCase) -> Result<(), Violation> {
    let (x, w) = (&c.input.0, &c.weight.0);
    if x.ndim() < 2 || w.ndim() != x.ndim() {
        return Err(Violation::hypothesis(
            "input and weight need the same rank >= 2",
        ));
    }
    let bias = c.bias.as_deref().map(ArrayView1::from);
    let base_spec = LayerSpec {
        input_layout: InputLayout::ChannelsFirst,
        kernel_layout: KernelLayout::Oihw,
        ..c.spec.clone()
    };
    let base = (ops.conv)(x.view(), w.view(), bias, &base_spec).map_err(refused("conv"))?;
    for il in [InputLayout::ChannelsFirst, InputLayout::ChannelsLast] {
        for kl in [KernelLayout::Oihw, KernelLayout::Hwio, KernelLayout::Ohwi] {
            let spec = LayerSpec {
                input_layout: il,
                kernel_layout: kl,
                ..c.spec.clone()
            };
            let (xl, wl) = (input_in(x, il), weight_in(w, kl));
            let y = (ops.conv)(xl.view(), wl.view(), bias, &spec).map_err(refused("conv"))?;
            same(
                &y,
                &input_in(&base, il),
                &format!("{il:?}/{kl:?}"),
                "the ChannelsFirst/Oihw result permuted",
            )?;
        }
    }
    Ok(())
}

/// Parameter counts of a general dense layer and of a convolution between the same shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParameterCounts {
    /// `(C * prod(in)) * (O * prod(out))`: one weight per (input element, output element).
    pub dense_weights: u128,
    /// `O * prod(out)`: one bias per output element.
    pub dense_biases: u128,
    /// `O * C/groups * prod(k)`: the kernel, shared by every output position.
    pub conv_weights: u128,
    /// `O`: one bias per output channel.
    pub conv_biases: u128,
}

/// The chapter's argument in numbers: parameters of a dense layer between input `(C, s...)`
/// and the convolution's output `(O, out...)`, against the convolution's own, for weight
/// `(O, C/groups, k...)` under `spec` (stride, dilation, padding, groups).
pub(crate) fn parameter_counts<T>(
    input: &[usize],
    weight: &[usize],
    spec: &ConvSpec<T>,
) -> Result<ParameterCounts, ConvError> {
    if input.is_empty() || weight.len() != input.len() + 1 {
        return Err(ConvError::RankMismatch {
            what: "weight (O, C/groups, kernel...) for input (C, spatial...)",
            expected: input.len() + 1,
            got: weight.len(),
        });
    }
    let expected_c = weight[1].saturating_mul(spec.groups);
    if expected_c != input[0] {
        return Err(ConvError::ChannelMismatch {
            expected: expected_c,
            got: input[0],
        });
    }
    let geo = geometry(&input[1..], &weight[2..], spec)?;
    let overflow = ConvError::Overflow {
        what: "parameter count",
        axis: None,
    };
    let prod = |v: Vec<usize>| {
        v.into_iter()
            .try_fold(1u128, |acc, x| acc.checked_mul(x as u128))
    };
    let ins = prod(input.to_vec()).ok_or(overflow.clone())?;
    let mut out_shape = vec![weight[0]];
    out_shape.extend(geo.output_shape());
    let outs = prod(out_shape).ok_or(overflow.clone())?;
    Ok(ParameterCounts {
        dense_weights: ins.checked_mul(outs).ok_or(overflow.clone())?,
        dense_biases: outs,
        conv_weights: prod(weight.to_vec()).ok_or(overflow)?,
        conv_biases: weight[0] as u128,
    })
}

/// [`parameter_counts`] agrees with the dense matrix's size and the weight's length.
pub(crate) fn parameter_counts_match(ops: &LayerOps, c: &ConvCase) -> Result<(), Violation> {
    let p = c.problem();
    let counts = parameter_counts(&c.input.0.shape()[1..], c.weight.0.shape(), &c.spec)
        .map_err(refused("parameter_counts"))?;
    let f = (ops.dense_form)(&p).map_err(refused("dense_form"))?;
    if counts.dense_weights != f.matrix.len() as u128
        || counts.dense_biases != f.offset.len() as u128
        || counts.conv_weights != c.weight.0.len() as u128
    {
        return Err(Violation::mismatch(format!(
            "{counts:?}, but the dense matrix is {:?} with {} offsets and the weight has {} \
             entries",
            f.matrix.dim(),
            f.offset.len(),
            c.weight.0.len()
        )));
    }
    Ok(())
}

// ------------------------------------------------------------------------------ strategies

const SMALL: (i64, i64) = (-9, 9);
const POSITIVE: (i64, i64) = (1, 9);

/// Strategy: an array of `shape` with values in `lo..=hi`.
fn values(shape: Vec<usize>, (lo, hi): (i64, i64)) -> impl Strategy<Value = Arr<i64>> {
    crate::testing::cases::array(shape, (lo..=hi).boxed())
}

fn bias_values(c_out: usize, with: bool) -> BoxedStrategy<Option<Vec<i64>>> {
    if with {
        proptest::collection::vec(SMALL.0..=SMALL.1, c_out)
            .prop_map(Some)
            .boxed()
    } else {
        Just(None).boxed()
    }
}

/// Largest spatial extent (before padding) generated per axis, by rank.
fn max_extent(rank: usize) -> usize {
    [8, 5, 4][rank.clamp(1, 3) - 1]
}

/// Largest kernel extent generated per axis, by rank.
fn max_kernel(rank: usize) -> usize {
    [4, 3, 2][rank.clamp(1, 3) - 1]
}

/// The padding rule of a plan (explicit pads come from the axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Explicit,
    Valid,
    Full,
    SameUpper,
    SameLower,
    TorchSame,
}

#[derive(Clone, Copy, Debug)]
struct AxisPlan {
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    lo: usize,
    hi: usize,
}

/// Shapes and settings, generated before any data.
#[derive(Clone, Debug)]
struct Plan {
    batch: usize,
    groups: usize,
    cg: usize,
    og: usize,
    axes: Vec<AxisPlan>,
    rule: Rule,
    boundary: Boundary<i64>,
    flip: Flip,
    bias: bool,
}

impl Plan {
    fn input_shape(&self) -> Vec<usize> {
        let mut s = vec![self.batch, self.groups * self.cg];
        s.extend(self.axes.iter().map(|a| a.n));
        s
    }
    fn weight_shape(&self) -> Vec<usize> {
        let mut s = vec![self.groups * self.og, self.cg];
        s.extend(self.axes.iter().map(|a| a.k));
        s
    }
    fn spec(&self) -> ConvSpec<i64> {
        let padding = match self.rule {
            Rule::Explicit => Padding::Explicit(self.axes.iter().map(|a| (a.lo, a.hi)).collect()),
            Rule::Valid => Padding::Valid,
            Rule::Full => Padding::Full,
            Rule::SameUpper => Padding::SameUpper,
            Rule::SameLower => Padding::SameLower,
            Rule::TorchSame => Padding::TorchSame,
        };
        ConvSpec {
            stride: self.axes.iter().map(|a| a.s).collect(),
            dilation: self.axes.iter().map(|a| a.d).collect(),
            padding,
            boundary: self.boundary.clone(),
            groups: self.groups,
            flip: self.flip,
            limits: Limits::default(),
        }
    }
}

/// Generates the data of a plan: input values in `SMALL`, weights in `weights`, bias.
fn with_data(plan: Plan, weights: (i64, i64)) -> impl Strategy<Value = ConvCase> {
    let spec = plan.spec();
    (
        values(plan.input_shape(), SMALL),
        values(plan.weight_shape(), weights),
        bias_values(plan.groups * plan.og, plan.bias),
    )
        .prop_map(move |(input, weight, bias)| ConvCase {
            input,
            weight,
            bias,
            spec: spec.clone(),
        })
}

/// Strategy: every boundary mode, including `Constant(v)`.
pub(crate) fn any_boundary() -> BoxedStrategy<Boundary<i64>> {
    prop_oneof![
        Just(Boundary::Zeros),
        (-3i64..=3).prop_map(Boundary::Constant),
        Just(Boundary::Reflect),
        Just(Boundary::Symmetric),
        Just(Boundary::Replicate),
        Just(Boundary::Circular),
    ]
    .boxed()
}

/// Strategy: `(groups, C/groups, O/groups)`, a quarter of them depthwise (`C/groups = 1`).
fn channels() -> BoxedStrategy<(usize, usize, usize)> {
    prop_oneof![
        3 => (1usize..=3, 1usize..=2, 1usize..=2),
        1 => (1usize..=4, Just(1usize), 1usize..=2),
    ]
    .boxed()
}

fn flips() -> impl Strategy<Value = Flip> {
    prop_oneof![Just(Flip::Correlation), Just(Flip::Convolution)]
}

/// A plan with every padding rule (`rules`), any `boundary`, strides `1..=max_stride` and
/// the given channel strategy; extents chosen so that the kernel fits the padded input.
fn general_plan(
    boundary: BoxedStrategy<Boundary<i64>>,
    rules: Vec<Rule>,
    max_stride: usize,
    channels: BoxedStrategy<(usize, usize, usize)>,
) -> impl Strategy<Value = Plan> {
    (
        1usize..=3,
        proptest::sample::select(rules),
        boundary,
        channels,
        1usize..=2,
        flips(),
        any::<bool>(),
    )
        .prop_flat_map(move |(rank, rule, boundary, ch, batch, flip, bias)| {
            let s_max = if rule == Rule::TorchSame {
                1
            } else {
                max_stride
            };
            let axis = (
                1..=max_kernel(rank),
                1usize..=2,
                1..=s_max,
                0usize..=3,
                0usize..=3,
                0..max_extent(rank),
            )
                .prop_map(move |(k, d, s, lo, hi, extra)| {
                    let (lo, hi) = if rule == Rule::Explicit {
                        (lo, hi)
                    } else {
                        (0, 0)
                    };
                    let eff = d * (k - 1) + 1;
                    let min_n = match rule {
                        Rule::Explicit | Rule::Valid => eff.saturating_sub(lo + hi).max(1),
                        _ => 1,
                    };
                    AxisPlan {
                        n: min_n + extra,
                        k,
                        s,
                        d,
                        lo,
                        hi,
                    }
                });
            (
                proptest::collection::vec(axis, rank),
                Just((rule, boundary, ch, batch, flip, bias)),
            )
        })
        .prop_map(
            |(axes, (rule, boundary, (groups, cg, og), batch, flip, bias))| Plan {
                batch,
                groups,
                cg,
                og,
                axes,
                rule,
                boundary,
                flip,
                bias,
            },
        )
}

const ALL_RULES: [Rule; 6] = [
    Rule::Explicit,
    Rule::Valid,
    Rule::Full,
    Rule::SameUpper,
    Rule::SameLower,
    Rule::TorchSame,
];

/// Strategy: any valid problem (rank 1..=3, stride 1..=3, dilation 1..=2, groups incl.
/// depthwise, every padding rule and boundary mode, both flips, with or without bias).
pub(crate) fn conv_case() -> impl Strategy<Value = ConvCase> {
    general_plan(any_boundary(), ALL_RULES.to_vec(), 3, channels())
        .prop_flat_map(|plan| with_data(plan, SMALL))
}

/// Strategy: like [`conv_case`] but depthwise: `groups = C`, one input channel per group,
/// one or two filters per channel.
pub(crate) fn depthwise_case() -> impl Strategy<Value = ConvCase> {
    let depthwise = (1usize..=4, Just(1usize), 1usize..=2).boxed();
    general_plan(any_boundary(), ALL_RULES.to_vec(), 3, depthwise)
        .prop_flat_map(|plan| with_data(plan, SMALL))
}

/// How the periodic strategies pick the shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ShiftRule {
    /// `s * u` with `u` in `-6..=6` on every axis.
    MultipleOfStride,
    /// `1` on the first axis, `0` elsewhere.
    OneOnFirstAxis,
}

/// A plan whose input length is a multiple of the stride on every axis and whose pads total
/// at least `eff - 1` (exactly `eff - 1` when `same_size`), so the output covers a period.
fn periodic_plan(
    boundary: BoxedStrategy<Boundary<i64>>,
    strides: (usize, usize),
    same_size: bool,
    shift: ShiftRule,
) -> impl Strategy<Value = (Plan, Vec<isize>)> {
    let mut rules = vec![Rule::Explicit, Rule::SameUpper, Rule::SameLower];
    if strides.1 == 1 {
        rules.push(Rule::TorchSame);
    }
    if !same_size {
        rules.push(Rule::Full);
    }
    (
        1usize..=3,
        proptest::sample::select(rules),
        boundary,
        channels(),
        1usize..=2,
        flips(),
        any::<bool>(),
    )
        .prop_flat_map(move |(rank, rule, boundary, ch, batch, flip, bias)| {
            // Periods of at least 2 where the size allows, so strided shifts move something.
            let max_m = if strides.1 == 1 {
                max_extent(rank)
            } else {
                [4, 3, 2][rank - 1]
            };
            let axis = (
                strides.0..=strides.1,
                1..=max_m,
                1..=max_kernel(rank),
                1usize..=2,
                0usize..=4,
                0usize..=2,
                -6isize..=6,
            )
                .prop_map(move |(s, m, k, d, lo, extra, u)| {
                    let eff = d * (k - 1) + 1;
                    let (lo, hi) = match (rule, same_size) {
                        (Rule::Explicit, true) => {
                            let lo = lo.min(eff - 1);
                            (lo, eff - 1 - lo)
                        }
                        (Rule::Explicit, false) => (lo, (eff - 1).saturating_sub(lo) + extra),
                        _ => (0, 0),
                    };
                    (
                        AxisPlan {
                            n: s * m,
                            k,
                            s,
                            d,
                            lo,
                            hi,
                        },
                        s as isize * u,
                    )
                });
            (
                proptest::collection::vec(axis, rank),
                Just((rule, boundary, ch, batch, flip, bias)),
            )
        })
        .prop_map(
            move |(axes_shifts, (rule, boundary, (groups, cg, og), batch, flip, bias))| {
                let (axes, mut shifts): (Vec<AxisPlan>, Vec<isize>) =
                    axes_shifts.into_iter().unzip();
                if shift == ShiftRule::OneOnFirstAxis {
                    shifts = (0..axes.len()).map(|a| isize::from(a == 0)).collect();
                }
                let plan = Plan {
                    batch,
                    groups,
                    cg,
                    og,
                    axes,
                    rule,
                    boundary,
                    flip,
                    bias,
                };
                (plan, shifts)
            },
        )
}

fn shift_cases(
    plans: impl Strategy<Value = (Plan, Vec<isize>)>,
) -> impl Strategy<Value = ShiftCase> {
    plans
        .prop_flat_map(|(plan, shift)| (with_data(plan, SMALL), Just(shift)))
        .prop_map(|(case, shift)| ShiftCase { case, shift })
}

/// Strategy: circular boundary, stride 1, any pads totalling at least `eff - 1`, any shift in
/// `-6..=6` per axis (more than one period when the input is short).
pub(crate) fn circular_shift_case() -> impl Strategy<Value = ShiftCase> {
    shift_cases(periodic_plan(
        Just(Boundary::Circular).boxed(),
        (1, 1),
        false,
        ShiftRule::MultipleOfStride,
    ))
}

/// Strategy: circular boundary, stride 1, output the size of the input (pads total exactly
/// `eff - 1`): the dense matrix is square in space.
pub(crate) fn circular_same_shift_case() -> impl Strategy<Value = ShiftCase> {
    shift_cases(periodic_plan(
        Just(Boundary::Circular).boxed(),
        (1, 1),
        true,
        ShiftRule::MultipleOfStride,
    ))
}

/// Strategy: circular boundary, stride `1..=3` per axis, input length a multiple of the
/// stride, shift a multiple of the stride.
pub(crate) fn strided_shift_case() -> impl Strategy<Value = ShiftCase> {
    shift_cases(periodic_plan(
        Just(Boundary::Circular).boxed(),
        (1, 3),
        false,
        ShiftRule::MultipleOfStride,
    ))
}

/// Strategy: like [`circular_shift_case`] but with zero padding (for the refutation).
pub(crate) fn zero_padding_shift_case() -> impl Strategy<Value = ShiftCase> {
    shift_cases(periodic_plan(
        Just(Boundary::Zeros).boxed(),
        (1, 1),
        false,
        ShiftRule::MultipleOfStride,
    ))
}

/// Strategy: circular boundary, stride 2 on every axis, shift 1 on the first axis (for the
/// refutation).
pub(crate) fn stride_two_shift_one_case() -> impl Strategy<Value = ShiftCase> {
    shift_cases(periodic_plan(
        Just(Boundary::Circular).boxed(),
        (2, 2),
        false,
        ShiftRule::OneOnFirstAxis,
    ))
}

/// Strategy: stride 1, every boundary and padding rule, `n >= eff` and `|t| <= n - eff` on
/// every axis, so at least one output's receptive field is inside before and after the shift.
pub(crate) fn interior_shift_case() -> impl Strategy<Value = ShiftCase> {
    (
        1usize..=3,
        proptest::sample::select(ALL_RULES.to_vec()),
        any_boundary(),
        channels(),
        1usize..=2,
        flips(),
        any::<bool>(),
    )
        .prop_flat_map(|(rank, rule, boundary, ch, batch, flip, bias)| {
            let axis = (
                1..=max_kernel(rank),
                1usize..=2,
                0usize..=3,
                0usize..=3,
                0..max_extent(rank).min(4),
                -6isize..=6,
            )
                .prop_map(move |(k, d, lo, hi, extra, t)| {
                    let (lo, hi) = if rule == Rule::Explicit {
                        (lo, hi)
                    } else {
                        (0, 0)
                    };
                    let n = d * (k - 1) + 1 + extra;
                    let room = (extra + 1) as isize;
                    (
                        AxisPlan {
                            n,
                            k,
                            s: 1,
                            d,
                            lo,
                            hi,
                        },
                        t % room,
                    )
                });
            (
                proptest::collection::vec(axis, rank),
                Just((rule, boundary, ch, batch, flip, bias)),
            )
        })
        .prop_map(
            |(axes_shifts, (rule, boundary, (groups, cg, og), batch, flip, bias))| {
                let (axes, shifts): (Vec<AxisPlan>, Vec<isize>) = axes_shifts.into_iter().unzip();
                (
                    Plan {
                        batch,
                        groups,
                        cg,
                        og,
                        axes,
                        rule,
                        boundary,
                        flip,
                        bias,
                    },
                    shifts,
                )
            },
        )
        .prop_flat_map(|(plan, shift)| (with_data(plan, SMALL), Just(shift)))
        .prop_map(|(case, shift)| ShiftCase { case, shift })
}

fn perturb_cases(weights: (i64, i64), deltas: (i64, i64)) -> impl Strategy<Value = PerturbCase> {
    general_plan(any_boundary(), ALL_RULES.to_vec(), 3, channels())
        .prop_flat_map(move |plan| {
            let at: Vec<BoxedStrategy<usize>> =
                plan.input_shape().iter().map(|&n| (0..n).boxed()).collect();
            (with_data(plan, weights), at, deltas.0..=deltas.1)
        })
        .prop_map(|(case, at, delta)| PerturbCase {
            case,
            at,
            delta: if delta == 0 { 1 } else { delta },
        })
}

/// Strategy: any problem (weights in `-9..=9`), one element changed by a nonzero amount.
pub(crate) fn perturb_case() -> impl Strategy<Value = PerturbCase> {
    perturb_cases(SMALL, (-5, 5))
}

/// Strategy: any problem with every weight in `1..=9`, one element increased by `1..=5`.
pub(crate) fn positive_perturb_case() -> impl Strategy<Value = PerturbCase> {
    perturb_cases(POSITIVE, (1, 5))
}

fn input_layouts() -> impl Strategy<Value = InputLayout> {
    prop_oneof![
        Just(InputLayout::ChannelsFirst),
        Just(InputLayout::ChannelsLast)
    ]
}

fn kernel_layouts() -> impl Strategy<Value = KernelLayout> {
    prop_oneof![
        Just(KernelLayout::Oihw),
        Just(KernelLayout::Hwio),
        Just(KernelLayout::Ohwi)
    ]
}

/// Strategy: a 1x1 problem (rank 1..=3, batch 1..=3, groups, bias) in any layout.
pub(crate) fn pointwise_case() -> impl Strategy<Value = PointwiseCase> {
    (
        1usize..=3,
        1usize..=3,
        channels(),
        any::<bool>(),
        input_layouts(),
        kernel_layouts(),
    )
        .prop_flat_map(|(rank, batch, (groups, cg, og), bias, il, kl)| {
            let spatial = proptest::collection::vec(1..=max_extent(rank), rank);
            (spatial, Just((batch, groups, cg, og, bias, il, kl, rank)))
        })
        .prop_flat_map(|(spatial, (batch, groups, cg, og, bias, il, kl, rank))| {
            let mut xs = vec![batch, groups * cg];
            xs.extend(spatial);
            let mut ws = vec![groups * og, cg];
            ws.extend(std::iter::repeat_n(1, rank));
            (
                values(xs, SMALL),
                values(ws, SMALL),
                bias_values(groups * og, bias),
                Just((groups, il, kl)),
            )
        })
        .prop_map(
            |(input, weight, bias, (groups, input_layout, kernel_layout))| PointwiseCase {
                input,
                weight,
                bias,
                groups,
                input_layout,
                kernel_layout,
            },
        )
}

/// Strategy: a general dense layer (entries in `-9..=9`) between `(C, n...)` and `(O, n...)`
/// (rank 1..=2, n 1..=4) and a shift in `-4..=4` per axis.
pub(crate) fn dense_layer_case() -> impl Strategy<Value = DenseLayerCase> {
    (
        proptest::collection::vec(1usize..=4, 1..=2),
        1usize..=2,
        1usize..=2,
    )
        .prop_flat_map(|(spatial, c, o)| {
            let rank = spatial.len();
            let n: usize = spatial.iter().product();
            let mut input_shape = vec![c];
            input_shape.extend(&spatial);
            let mut output_shape = vec![o];
            output_shape.extend(&spatial);
            (
                values(vec![o * n, c * n], SMALL),
                Just(input_shape),
                Just(output_shape),
                proptest::collection::vec(-4isize..=4, rank),
            )
        })
        .prop_map(
            |(matrix, input_shape, output_shape, shift)| DenseLayerCase {
                matrix,
                input_shape,
                output_shape,
                shift,
            },
        )
}

/// Strategy: [`explicit_adjoint_case`], a quarter of the time [`onnx_adjoint_case`].
pub(crate) fn adjoint_case() -> impl Strategy<Value = AdjointCase> {
    prop_oneof![3 => explicit_adjoint_case(), 1 => onnx_adjoint_case()]
}

/// Data for an adjointness case whose geometry is settled.
fn adjoint_data(
    batch: usize,
    (groups, cg, og): (usize, usize, usize),
    axes: Vec<AdjointAxis>,
    rule: Option<(bool, bool)>,
) -> impl Strategy<Value = AdjointCase> {
    let mut xs = vec![batch, groups * cg];
    let mut ws = vec![groups * og, cg];
    let mut ys = vec![batch, groups * og];
    for a in &axes {
        xs.push(a.n);
        ws.push(a.k);
        ys.push(a.m);
    }
    let pads: Vec<(usize, usize)> = axes.iter().map(|a| (a.lo, a.hi)).collect();
    let transpose_padding = match rule {
        None => TransposePadding::Explicit(pads.clone()),
        Some((false, true)) => TransposePadding::SameUpper,
        Some((false, false)) => TransposePadding::SameLower,
        Some((true, upper)) => TransposePadding::OutputShape {
            shape: axes.iter().map(|a| a.n).collect(),
            auto_pad: if upper {
                crate::problem::AutoPad::SameUpper
            } else {
                crate::problem::AutoPad::NotSet
            },
        },
    };
    let stride = axes.iter().map(|a| a.s).collect();
    let dilation = axes.iter().map(|a| a.d).collect();
    let output_padding = axes.iter().map(|a| a.op).collect();
    (values(xs, SMALL), values(ws, SMALL), values(ys, SMALL)).prop_map(move |(x, w, y)| {
        AdjointCase {
            x,
            w,
            y,
            stride: Vec::clone(&stride),
            dilation: Vec::clone(&dilation),
            pads: pads.clone(),
            transpose_padding: transpose_padding.clone(),
            output_padding: Vec::clone(&output_padding),
            groups,
        }
    })
}

/// One axis of an adjointness case: conv maps length `n` to `m`, conv_transpose back.
#[derive(Clone, Copy, Debug)]
struct AdjointAxis {
    n: usize,
    m: usize,
    k: usize,
    s: usize,
    d: usize,
    lo: usize,
    hi: usize,
    op: usize,
}

/// Strategy: an adjointness case with explicit pads (rank 1..=3, stride 1..=3, dilation 1..=2,
/// groups, pads 0..=3 per side, `n` from the kernel fitting, `m` from conv's geometry, output
/// padding `n - ((m-1)*s + eff - lo - hi)`, which lies in `0..s`).
pub(crate) fn explicit_adjoint_case() -> impl Strategy<Value = AdjointCase> {
    (1usize..=3, 1usize..=2, channels())
        .prop_flat_map(|(rank, batch, ch)| {
            let axis = (
                1..=max_kernel(rank),
                1usize..=2,
                1usize..=3,
                0usize..=3,
                0usize..=3,
                0..max_extent(rank),
            )
                .prop_map(|(k, d, s, lo, hi, extra)| {
                    let eff = d * (k - 1) + 1;
                    let n = eff.saturating_sub(lo + hi).max(1) + extra;
                    let m = (n + lo + hi - eff) / s + 1;
                    // n - ((m-1)*s + eff - lo - hi), written so no term goes negative.
                    let op = n + lo + hi - eff - (m - 1) * s;
                    AdjointAxis {
                        n,
                        m,
                        k,
                        s,
                        d,
                        lo,
                        hi,
                        op,
                    }
                });
            (Just(batch), Just(ch), proptest::collection::vec(axis, rank))
        })
        .prop_flat_map(|(batch, ch, axes)| adjoint_data(batch, ch, axes, None))
}

/// Strategy: an adjointness case whose conv_transpose uses an ONNX padding rule: `SameUpper`,
/// `SameLower` (target length `m*s`) or `OutputShape` (any target length `1..=full`), with the
/// output padding chosen so the total padding `s*(m-1) + op + eff - n` is not negative. The
/// expected pads split that total as docs/semantics.md section 6 says: SAME_UPPER puts
/// `floor(total/2)` at the beginning, SAME_LOWER and NOTSET put `total - floor(total/2)`.
pub(crate) fn onnx_adjoint_case() -> impl Strategy<Value = AdjointCase> {
    (
        1usize..=3,
        1usize..=2,
        channels(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(rank, batch, ch, shape_rule, upper)| {
            let axis = (
                1..=max_kernel(rank),
                1usize..=2,
                1usize..=3,
                1..=max_extent(rank).min(4),
                0usize..=5,
                0usize..=20,
            )
                .prop_map(move |(k, d, s, m, op_raw, len_raw)| {
                    let eff = d * (k - 1) + 1;
                    let op_min = s.saturating_sub(eff);
                    let op = op_min + op_raw % (s - op_min);
                    let full = s * (m - 1) + op + eff;
                    let n = if shape_rule {
                        1 + len_raw % full
                    } else {
                        m * s
                    };
                    let total = full - n;
                    let (lo, hi) = if upper {
                        (total / 2, total - total / 2)
                    } else {
                        (total - total / 2, total / 2)
                    };
                    AdjointAxis {
                        n,
                        m,
                        k,
                        s,
                        d,
                        lo,
                        hi,
                        op,
                    }
                });
            (
                Just(batch),
                Just(ch),
                proptest::collection::vec(axis, rank),
                Just((shape_rule, upper)),
            )
        })
        .prop_flat_map(|(batch, ch, axes, rule)| adjoint_data(batch, ch, axes, Some(rule)))
}

/// The padding modes a [`LayerSpec`] offers, as boundaries.
fn layer_boundary() -> BoxedStrategy<Boundary<i64>> {
    prop_oneof![
        Just(Boundary::Zeros),
        Just(Boundary::Reflect),
        Just(Boundary::Replicate),
        Just(Boundary::Circular),
    ]
    .boxed()
}

fn layout_from(case: ConvCase) -> LayoutCase {
    let padding_mode = match case.spec.boundary {
        Boundary::Reflect => PaddingMode::Reflect,
        Boundary::Replicate => PaddingMode::Replicate,
        Boundary::Circular => PaddingMode::Circular,
        _ => PaddingMode::Zeros,
    };
    LayoutCase {
        input: case.input,
        weight: case.weight,
        bias: case.bias,
        spec: LayerSpec {
            stride: case.spec.stride,
            dilation: case.spec.dilation,
            padding: case.spec.padding,
            padding_mode,
            groups: case.spec.groups,
            ..LayerSpec::default()
        },
    }
}

/// Strategy: rank 2, `C_in == H == W` (2..=4), one group, `O` equal to `C` half the time:
/// the shapes where NCHW and NHWC strides coincide (candle issue 3404).
pub(crate) fn cube_layout_case() -> impl Strategy<Value = LayoutCase> {
    (
        2usize..=4,
        any::<bool>(),
        1usize..=3,
        proptest::sample::select(ALL_RULES.to_vec()),
        layer_boundary(),
        any::<bool>(),
    )
        .prop_flat_map(|(c, square_out, k, rule, boundary, bias)| {
            let k = k.min(c);
            let axes = vec![
                AxisPlan {
                    n: c,
                    k,
                    s: 1,
                    d: 1,
                    lo: 1,
                    hi: 0,
                };
                2
            ];
            let og = if square_out { c } else { 1 + c / 2 };
            let plan = Plan {
                batch: 1,
                groups: 1,
                cg: c,
                og,
                axes,
                rule,
                boundary,
                flip: Flip::Correlation,
                bias,
            };
            with_data(plan, SMALL)
        })
        .prop_map(layout_from)
}

/// Strategy: any layer problem (rank 1..=3, the four PyTorch padding modes, every padding
/// rule, stride, dilation, groups); `C == H == W` only by chance.
pub(crate) fn general_layout_case() -> impl Strategy<Value = LayoutCase> {
    general_plan(layer_boundary(), ALL_RULES.to_vec(), 3, channels())
        .prop_map(|mut plan| {
            plan.flip = Flip::Correlation;
            plan
        })
        .prop_flat_map(|plan| with_data(plan, SMALL))
        .prop_map(layout_from)
}

/// Strategy: [`general_layout_case`], a third of the time [`cube_layout_case`] instead.
pub(crate) fn layout_case() -> impl Strategy<Value = LayoutCase> {
    prop_oneof![2 => general_layout_case(), 1 => cube_layout_case()]
}

// ------------------------------------------------------------------------------ battery

/// An engine-level layer property run by a search over its cases.
type EngineCheck = fn(&dyn ConvEngine<i64>, u32, u64) -> Result<(), Violation>;

/// The engine-level properties: name, claim and check.
fn engine_checks() -> Vec<(&'static str, Expect, EngineCheck)> {
    vec![
        (
            "translation-equivariance-circular",
            Expect::Holds,
            |engine, cases, seed| {
                search(circular_shift_case(), cases, seed, |c| {
                    periodic_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "translation-equivariance-interior",
            Expect::Holds,
            |engine, cases, seed| {
                search(interior_shift_case(), cases, seed, |c| {
                    interior_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "translation-equivariance-stride",
            Expect::Holds,
            |engine, cases, seed| {
                search(strided_shift_case(), cases, seed, |c| {
                    periodic_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "zero-padding-breaks-equivariance",
            Expect::Refuted(Kind::Mismatch),
            |engine, cases, seed| {
                search(zero_padding_shift_case(), cases, seed, |c| {
                    periodic_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "stride-2-shift-1-breaks-equivariance",
            Expect::Refuted(Kind::Mismatch),
            |engine, cases, seed| {
                search(stride_two_shift_one_case(), cases, seed, |c| {
                    some_output_shift_matches(engine, c)
                })
            },
        ),
        ("locality-outside", Expect::Holds, |engine, cases, seed| {
            search(perturb_case(), cases, seed, |c| locality_outside(engine, c))
        }),
        ("locality-inside", Expect::Holds, |engine, cases, seed| {
            search(positive_perturb_case(), cases, seed, |c| {
                locality_inside(engine, c)
            })
        }),
        (
            "groups-are-independent",
            Expect::Holds,
            |engine, cases, seed| {
                search(conv_case(), cases, seed, |c| {
                    groups_are_independent(engine, c)
                })
            },
        ),
        (
            "depthwise-is-per-channel",
            Expect::Holds,
            |engine, cases, seed| {
                search(depthwise_case(), cases, seed, |c| {
                    groups_are_independent(engine, c)
                })
            },
        ),
        (
            "engine-equals-reference",
            Expect::Holds,
            |engine, cases, seed| {
                search(conv_case(), cases, seed, |c| {
                    engine_equals_reference(engine, c)
                })
            },
        ),
    ]
}

/// The rows of every engine-level property on one engine.
pub(crate) fn engine_rows(engine: Rc<dyn ConvEngine<i64>>) -> Vec<Row> {
    let name = format!("{}/i64", engine.name());
    engine_checks()
        .into_iter()
        .map(|(property, expect, check)| {
            let (name, engine) = (name.clone(), Rc::clone(&engine));
            Row::new(property, name.clone(), move |cases, seed| {
                timed(property, name.clone(), cases, expect, || {
                    check(engine.as_ref(), cases, seed)
                })
            })
        })
        .collect()
}

/// Runs every engine-level property on one engine.
#[cfg(test)]
pub(crate) fn run_engine_battery(
    engine: &dyn ConvEngine<i64>,
    cases: u32,
    seed: u64,
) -> Vec<crate::testing::Outcome> {
    struct Borrowed<'a>(&'a dyn ConvEngine<i64>);
    impl ConvEngine<i64> for Borrowed<'_> {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn conv(&self, p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
            self.0.conv(p)
        }
    }
    let name = format!("{}/i64", engine.name());
    engine_checks()
        .into_iter()
        .map(|(property, expect, check)| {
            timed(property, name.clone(), cases, expect, || {
                check(&Borrowed(engine), cases, seed)
            })
        })
        .collect()
}

/// A layer-operator property run by a search over its cases.
type OperatorCheck = fn(&LayerOps, u32, u64) -> Result<(), Violation>;

/// The rows of every operator-level property on one set of layer operators.
pub(crate) fn operator_rows(ops: LayerOps) -> Vec<Row> {
    let name = format!("{}/i64", ops.name);
    let row = |property: &'static str, expect: Expect, check: OperatorCheck| {
        let name = name.clone();
        Row::new(property, name.clone(), move |cases, seed| {
            timed(property, name.clone(), cases, expect, || {
                check(&ops, cases, seed)
            })
        })
    };
    vec![
        row(
            "pointwise-is-dense-per-pixel",
            Expect::Holds,
            |ops, cases, seed| {
                search(pointwise_case(), cases, seed, |c| {
                    pointwise_is_dense_per_pixel(ops, c)
                })
            },
        ),
        row(
            "dense-matrix-commutes-with-shift",
            Expect::Holds,
            |ops, cases, seed| {
                search(circular_same_shift_case(), cases, seed, |c| {
                    dense_matrix_commutes_with_shift(ops, c)
                })
            },
        ),
        row(
            "dense-layer-not-equivariant",
            Expect::Refuted(Kind::Mismatch),
            |_, cases, seed| {
                search(
                    dense_layer_case(),
                    cases,
                    seed,
                    dense_layer_commutes_with_shift,
                )
            },
        ),
        row(
            "conv-transpose-is-adjoint",
            Expect::Holds,
            |ops, cases, seed| {
                search(adjoint_case(), cases, seed, |c| {
                    conv_transpose_is_adjoint(ops, c)
                })
            },
        ),
        row(
            "layouts-are-permutations",
            Expect::Holds,
            |ops, cases, seed| {
                search(layout_case(), cases, seed, |c| {
                    layouts_are_permutations(ops, c)
                })
            },
        ),
        row("parameter-counts", Expect::Holds, |ops, cases, seed| {
            search(conv_case(), cases, seed, |c| parameter_counts_match(ops, c))
        }),
    ]
}

/// Runs every operator-level property on one set of layer operators.
#[cfg(test)]
pub(crate) fn run_operator_battery(
    ops: &LayerOps,
    cases: u32,
    seed: u64,
) -> Vec<crate::testing::Outcome> {
    crate::testing::run_rows(&operator_rows(*ops), cases, seed)
}

/// The layer rows `verify` runs: the engine properties on [`ReferenceEngine`], [`DenseEngine`],
/// the FFT engine (whole and overlap-add) and the direct engine, then the operator properties
/// on the crate's layer operators.
pub(crate) fn rows() -> Vec<Row> {
    let mut out = engine_rows(Rc::new(ReferenceEngine));
    out.extend(engine_rows(Rc::new(DenseEngine)));
    // The FFT engine on i64: computed in f64 only when its bound proves rounding is exact,
    // so every row must hold exactly.
    out.extend(engine_rows(Rc::new(crate::engine::fft::FftEngine::new())));
    // Overlap-add with short transforms, so that the random cases are split into blocks.
    out.extend(engine_rows(Rc::new(
        crate::engine::fft::FftEngine::new().blocking(crate::engine::fft::Blocking::Capped(8)),
    )));
    // The fast direct engine: i64 arithmetic wraps exactly like the reference's.
    out.extend(engine_rows(Rc::new(
        crate::engine::direct::DirectEngine::new(),
    )));
    out.extend(operator_rows(LayerOps::reference()));
    out
}

/// [`rows`], run.
#[cfg(test)]
pub(crate) fn run_layer_battery(cases: u32, seed: u64) -> Vec<crate::testing::Outcome> {
    crate::testing::run_rows(&rows(), cases, seed)
}

#[cfg(test)]
mod tests;
