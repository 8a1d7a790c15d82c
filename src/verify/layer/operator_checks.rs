//! The operator-level checks, over a [`LayerOps`]: 1x1 = per-pixel dense, the dense matrix and
//! the shift, conv_transpose as the adjoint, layouts as permutations, parameter counts.

use super::cases::{AdjointCase, ConvCase, DenseLayerCase, LayoutCase, PointwiseCase, ShiftCase};
use super::helpers::{inner, input_in, refused, same, shape_mismatch, weight_in};
use super::operators::LayerOps;
use crate::api::layer::LayerSpec;
use crate::problem::ConvError;
use crate::problem::geometry::geometry;
use crate::problem::{Boundary, ConvSpec, Padding};
use crate::problem::{InputLayout, KernelLayout, TransposeSpec};
use crate::testing::Violation;
use crate::testing::cases::Arr;
use ndarray::{Array2, ArrayView1, ArrayView2, IxDyn};

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
