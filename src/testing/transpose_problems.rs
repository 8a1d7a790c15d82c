//! Random transposed problems inside an engine's [`TransposeCapabilities`] (explicit pads,
//! `SAME_*`, `output_shape`, output padding), for the conformance battery and
//! [`super::strategies::transpose_problems`].

use super::cases::Arr;
use super::exact_data::{Data, value};
use super::problems::{Element, decades, specials};
use crate::engine::{TransposeCapabilities, TransposePaddingRule};
use crate::problem::{AutoPad, TransposePadding, TransposeProblem, TransposeSpec};
use ndarray::{Array1, ArrayD, IxDyn};
use proptest::prelude::*;

/// A transposed problem with its data: input `(N, C_in, s...)`, weight
/// `(C_in, C_out/groups, k...)`.
#[derive(Clone, Debug)]
pub struct TransposeCase<T> {
    /// The input.
    pub input: Arr<T>,
    /// The weight.
    pub weight: Arr<T>,
    /// One value per output channel.
    pub bias: Option<Vec<T>>,
    /// Everything else.
    pub spec: TransposeSpec,
}

impl<T: Clone> TransposeCase<T> {
    /// Runs `f` on the case as a [`TransposeProblem`].
    pub fn with<R>(&self, f: impl FnOnce(&TransposeProblem<'_, T>) -> R) -> R {
        let bias = self.bias.clone().map(Array1::from);
        let mut p = TransposeProblem::new(self.input.0.view(), self.weight.0.view())
            .spec(self.spec.clone());
        p.bias = bias.as_ref().map(|b| b.view());
        f(&p)
    }

    pub(crate) fn size(&self) -> usize {
        self.input.0.len() + self.weight.0.len()
    }
}

#[derive(Clone, Debug)]
struct Layout {
    batch: usize,
    groups: usize,
    cig: usize,
    cog: usize,
    input: Vec<usize>,
    kernel: Vec<usize>,
    spec: TransposeSpec,
    bias: bool,
}

/// Random layouts inside `caps`: ranks 1 to 3 (inputs up to 8, 5, 3 per axis; kernels up to
/// 4, 3, 2), strides up to 3, dilations up to 2, output padding below `max(stride,
/// dilation)` (PyTorch's rule), explicit pads up to 3 per side, `output_shape` within two of
/// the full extent and below it by up to the kernel's reach.
fn layouts(caps: &TransposeCapabilities) -> Option<BoxedStrategy<Layout>> {
    let lo = (*caps.ranks.start()).max(1);
    let hi = (*caps.ranks.end()).min(3);
    if lo > hi || caps.paddings.is_empty() {
        return None;
    }
    let caps = caps.clone();
    let s = (lo..=hi)
        .prop_flat_map(move |rank| {
            let r = rank - 1;
            let (n, k) = ([8usize, 5, 3][r], [4usize, 3, 2][r]);
            let max_stride: usize = if caps.stride { 3 } else { 1 };
            let max_dilation: usize = if caps.dilation { 2 } else { 1 };
            let max_groups: usize = if caps.groups { 3 } else { 1 };
            let op = caps.output_padding;
            (
                (1usize..=2, 1usize..=max_groups, 1usize..=3, 1usize..=3),
                proptest::collection::vec(1..=n, rank),
                proptest::collection::vec(1..=k, rank),
                proptest::collection::vec(1..=max_stride, rank),
                proptest::collection::vec(1..=max_dilation, rank),
                proptest::collection::vec(if op { 0usize..=2 } else { 0usize..=0 }, rank),
                prop::sample::select(caps.paddings.clone()),
                proptest::collection::vec((0usize..=3, 0usize..=3), rank),
                proptest::collection::vec(-2i64..=4, rank),
                prop::sample::select(vec![
                    AutoPad::NotSet,
                    AutoPad::SameUpper,
                    AutoPad::SameLower,
                ]),
                if caps.bias {
                    any::<bool>().boxed()
                } else {
                    Just(false).boxed()
                },
            )
        })
        .prop_map(
            |(
                (batch, groups, cig, cog),
                input,
                kernel,
                stride,
                dilation,
                op,
                rule,
                pads,
                below,
                auto_pad,
                bias,
            )| {
                let output_padding: Vec<usize> = op
                    .iter()
                    .zip(stride.iter().zip(&dilation))
                    .map(|(&p, (&s, &d))| p % s.max(d))
                    .collect();
                let padding = match rule {
                    TransposePaddingRule::Explicit => TransposePadding::Explicit(pads),
                    TransposePaddingRule::SameUpper => TransposePadding::SameUpper,
                    TransposePaddingRule::SameLower => TransposePadding::SameLower,
                    TransposePaddingRule::OutputShape => TransposePadding::OutputShape {
                        shape: (0..input.len())
                            .map(|a| {
                                let full = stride[a] * (input[a] - 1)
                                    + dilation[a] * (kernel[a] - 1)
                                    + 1
                                    + output_padding[a];
                                (full as i64 - below[a]).max(1) as usize
                            })
                            .collect(),
                        auto_pad,
                    },
                };
                Layout {
                    batch,
                    groups,
                    cig,
                    cog,
                    spec: TransposeSpec {
                        stride,
                        dilation,
                        padding,
                        output_padding,
                        groups,
                        ..TransposeSpec::default()
                    },
                    input,
                    kernel,
                    bias,
                }
            },
        );
    Some(s.boxed())
}

/// Cases over `layouts`: uniform data in `[-1, 1)`, twelve decades, and (with `specials`)
/// NaN, infinities and signed zeros among ordinary values. A failing case shrinks by its
/// layout on fresh data of its kind, not value by value (as [`super::problems::cases`]).
pub(crate) fn cases<T: Element>(
    caps: &TransposeCapabilities,
    specials: bool,
) -> Option<BoxedStrategy<TransposeCase<T>>> {
    let kinds = if specials { 3u8 } else { 2 };
    let s = (layouts(caps)?, 0..kinds)
        .prop_flat_map(|(l, kind)| {
            // Values do not shrink: a failure shrinks by its layout, on fresh data.
            let v = match kind {
                0 => value::<T>(Data::Uniform),
                1 => decades::<T>(),
                _ => self::specials::<T>(),
            }
            .no_shrink()
            .boxed();
            let mut xs = vec![l.batch, l.cig * l.groups];
            xs.extend(&l.input);
            let mut ws = vec![l.cig * l.groups, l.cog];
            ws.extend(&l.kernel);
            let (nx, nw): (usize, usize) = (xs.iter().product(), ws.iter().product());
            let nb = if l.bias { l.cog * l.groups } else { 0 };
            (
                Just((l, xs, ws)),
                proptest::collection::vec(v.clone(), nx),
                proptest::collection::vec(v.clone(), nw),
                proptest::collection::vec(v, nb),
            )
        })
        .prop_map(|((l, xs, ws), x, w, b)| TransposeCase {
            input: Arr(ArrayD::from_shape_vec(IxDyn(&xs), x)
                .unwrap_or_else(|_| ArrayD::from_elem(IxDyn(&[0]), T::from_f64(0.0)))),
            weight: Arr(ArrayD::from_shape_vec(IxDyn(&ws), w)
                .unwrap_or_else(|_| ArrayD::from_elem(IxDyn(&[0]), T::from_f64(0.0)))),
            bias: l.bias.then_some(b),
            spec: l.spec,
        });
    Some(s.boxed())
}
