//! The proptest strategies: shapes and settings planned first, then data, for every case type
//! the checks take.

use super::cases::{
    AdjointCase, ConvCase, DenseLayerCase, LayoutCase, PerturbCase, PointwiseCase, ShiftCase,
};
use crate::api::layer::{LayerSpec, PaddingMode};
use crate::problem::{Boundary, ConvSpec, Flip, Limits, Padding};
use crate::problem::{InputLayout, KernelLayout, TransposePadding};
use crate::testing::cases::Arr;
use proptest::prelude::*;

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
