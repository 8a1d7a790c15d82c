//! Property battery for the deep-learning layer API: what a convolution layer *is*, checked on
//! exact `i64` elements.
//!
//! Every property is a plain check function over a generated case, returning
//! `Result<(), Violation>`; [`run_layer_battery`] drives each with the seeded, shrinking
//! [`search`](crate::testing::search) of [`crate::verify::signal`] and reports one [`Outcome`]
//! per property and engine. Engine-level properties take any
//! [`ConvEngine`](crate::engine::ConvEngine); operator-level properties take a [`LayerOps`] (the
//! layer functions as plain function pointers), so a test can hand in a deliberately wrong
//! engine or operator and watch the battery catch it.
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
//! | `engine-equals-reference` | the engine agrees with [`reference::conv`](crate::reference::conv) on every spec (both `Ok` and equal, or the same error) |
//! | `pointwise-is-dense-per-pixel` | a 1x1 convolution is the per-pixel dense layer [`pointwise_matrix`](crate::engine::dense::pointwise_matrix) + [`dense_per_pixel`](crate::engine::dense::dense_per_pixel), any layout, groups (block diagonal), bias |
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

mod battery;
mod cases;
mod engine_checks;
mod helpers;
mod operator_checks;
mod operators;
mod strategies;

use crate::engine::ReferenceEngine;
use crate::engine::dense::DenseEngine;
use crate::testing::Row;
use std::rc::Rc;

use battery::{engine_rows, operator_rows};
pub(crate) use operators::LayerOps;

// The checks, strategies and case types the unit tests name at this path.
#[cfg(test)]
pub(crate) use battery::{run_engine_battery, run_operator_battery};
#[cfg(test)]
pub(crate) use cases::{
    AdjointCase, ConvCase, DenseLayerCase, PerturbCase, PointwiseCase, ShiftCase,
};
#[cfg(test)]
pub(crate) use engine_checks::{
    engine_equals_reference, groups_are_independent, interior_shift_equivariance, locality_inside,
    locality_outside, periodic_shift_equivariance, some_output_shift_matches,
};
#[cfg(test)]
pub(crate) use operator_checks::{
    conv_transpose_is_adjoint, dense_layer_commutes_with_shift, dense_matrix_commutes_with_shift,
    layouts_are_permutations, matrix_commutes_with_shift, parameter_counts, parameter_counts_match,
    pointwise_is_dense_per_pixel,
};
#[cfg(test)]
pub(crate) use strategies::{
    adjoint_case, circular_same_shift_case, circular_shift_case, conv_case, cube_layout_case,
    dense_layer_case, depthwise_case, general_layout_case, interior_shift_case, layout_case,
    perturb_case, pointwise_case, positive_perturb_case, stride_two_shift_one_case,
    strided_shift_case, zero_padding_shift_case,
};

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
