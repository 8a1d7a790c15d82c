//! Random transposed problems inside an engine's [`TransposeCapabilities`] (explicit pads,
//! `SAME_*`, `output_shape`, output padding), for the conformance battery and
//! [`super::strategies::transpose_problems`].

use super::cases::Arr;
use super::exact_data::{Data, value};
use super::problems::{Element, axis_values, decades, specials};
use crate::engine::{AxisSetting, Pads, TransposeCapabilities, TransposePaddingRule};
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

/// A padding as drawn, before the strides and kernels it depends on are known.
#[derive(Clone, Debug)]
enum Drawn {
    /// A rule that needs nothing more (explicit pads are cut to fit later).
    Rule(TransposePadding),
    /// `output_shape` below the full extent by `below` per axis (negative: above it).
    Below(Vec<i64>, AutoPad),
}

/// Random layouts inside `caps`: the ranks of [`TransposeCapabilities::drawn_ranks`], each
/// drawn inside its own capabilities ([`TransposeCapabilities::for_rank`]); inputs up to 8,
/// 5, 3 per axis and kernels up to 4, 3, 2 by rank; strides up to 3, dilations up to 2,
/// output padding up to 2 and below `max(stride, dilation)` (PyTorch's rule), explicit pads
/// up to 3 per side, `output_shape` within two of the full extent and below it by up to the
/// kernel's reach.
///
/// Every layout is drawn inside the capabilities, and the explicit pads are cut so that an
/// output remains: a shared value (stride, dilation, output padding, pad) is drawn once and cut
/// alike on every axis, so no drawn case is rejected.
fn layouts(caps: &TransposeCapabilities) -> Option<BoxedStrategy<Layout>> {
    let ranks = caps.drawn_ranks();
    let first = *ranks.first()?;
    // A layout of every drawable rank is drawn, then one is picked (as the direct
    // generators do): shrinking then moves the rank down and each field independently.
    let of_rank = |r: usize| {
        if ranks.contains(&r) {
            rank_layouts(&caps.for_rank(r), r)
        } else {
            rank_layouts(&caps.for_rank(first), first)
        }
    };
    Some(
        (
            prop::sample::select(ranks.clone()),
            of_rank(1),
            of_rank(2),
            of_rank(3),
        )
            .prop_map(|(rank, a, b, c)| match rank {
                1 => a,
                2 => b,
                _ => c,
            })
            .boxed(),
    )
}

/// The layouts of rank `rank` inside `c` (the capabilities of that rank).
fn rank_layouts(c: &TransposeCapabilities, rank: usize) -> BoxedStrategy<Layout> {
    let r = rank - 1;
    let (n, k) = ([8usize, 5, 3][r], [4usize, 3, 2][r]);
    let max_groups: usize = if c.groups { 3 } else { 1 };
    let max_batch: usize = if c.batch { 2 } else { 1 };
    let rules: Vec<BoxedStrategy<Drawn>> = c
        .paddings
        .iter()
        .map(|&rule| -> BoxedStrategy<Drawn> {
            let explicit = |p: Vec<(usize, usize)>| Drawn::Rule(TransposePadding::Explicit(p));
            match rule {
                TransposePaddingRule::Explicit => match c.pads {
                    Pads::Shared => (0usize..=3)
                        .prop_map(move |v| explicit(vec![(v, v); rank]))
                        .boxed(),
                    Pads::Symmetric => proptest::collection::vec(0usize..=3, rank)
                        .prop_map(move |p| explicit(p.into_iter().map(|v| (v, v)).collect()))
                        .boxed(),
                    Pads::Asymmetric => proptest::collection::vec((0usize..=3, 0usize..=3), rank)
                        .prop_map(explicit)
                        .boxed(),
                },
                TransposePaddingRule::SameUpper => {
                    Just(Drawn::Rule(TransposePadding::SameUpper)).boxed()
                }
                TransposePaddingRule::SameLower => {
                    Just(Drawn::Rule(TransposePadding::SameLower)).boxed()
                }
                TransposePaddingRule::OutputShape => (
                    proptest::collection::vec(-2i64..=4, rank),
                    prop::sample::select(vec![
                        AutoPad::NotSet,
                        AutoPad::SameUpper,
                        AutoPad::SameLower,
                    ]),
                )
                    .prop_map(|(below, auto_pad)| Drawn::Below(below, auto_pad))
                    .boxed(),
            }
        })
        .collect();
    let padding = proptest::strategy::Union::new(rules);
    let (pads, op_setting) = (c.pads, c.output_padding);
    (
        (
            1usize..=max_batch,
            1usize..=max_groups,
            1usize..=3,
            1usize..=3,
        ),
        proptest::collection::vec(1..=n, rank),
        proptest::collection::vec(1..=k, rank),
        axis_values(c.stride, 1, 3, rank),
        axis_values(c.dilation, 1, 2, rank),
        axis_values(c.output_padding, 0, 2, rank),
        padding,
        if c.bias {
            any::<bool>().boxed()
        } else {
            Just(false).boxed()
        },
    )
        .prop_map(
            move |(
                (batch, groups, cig, cog),
                input,
                kernel,
                stride,
                dilation,
                output_padding,
                drawn,
                bias,
            )| {
                let output_padding = fit_output_padding(
                    output_padding,
                    &stride,
                    &dilation,
                    op_setting == AxisSetting::Shared,
                );
                // The scatter's full extent per axis, s*(n-1) + d*(k-1) + 1 + output padding.
                let full: Vec<usize> = (0..rank)
                    .map(|a| {
                        stride[a] * (input[a] - 1)
                            + dilation[a] * (kernel[a] - 1)
                            + 1
                            + output_padding[a]
                    })
                    .collect();
                let padding = match drawn {
                    Drawn::Rule(TransposePadding::Explicit(p)) => {
                        TransposePadding::Explicit(fit_pads(p, &full, pads))
                    }
                    Drawn::Rule(rule) => rule,
                    Drawn::Below(below, auto_pad) => TransposePadding::OutputShape {
                        shape: full
                            .iter()
                            .zip(&below)
                            .map(|(&f, &b)| (f as i64 - b).max(1) as usize)
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
        )
        .boxed()
}

/// Output padding below `max(stride, dilation)` on each axis (PyTorch's rule); a shared one
/// is cut by the tightest axis, so that it stays one value.
fn fit_output_padding(
    mut op: Vec<usize>,
    stride: &[usize],
    dilation: &[usize],
    shared: bool,
) -> Vec<usize> {
    let below: Vec<usize> = stride
        .iter()
        .zip(dilation)
        .map(|(&s, &d)| s.max(d) - 1)
        .collect();
    let tightest = below.iter().copied().min().unwrap_or(0);
    for (v, &m) in op.iter_mut().zip(&below) {
        *v = (*v).min(if shared { tightest } else { m });
    }
    op
}

/// Explicit pads cut so that each axis keeps at least one output element
/// (`lo + hi < full`); equal pads stay equal (one cut for every axis under [`Pads::Shared`],
/// one per axis for symmetric pads), and an asymmetric pair loses its end first.
fn fit_pads(mut p: Vec<(usize, usize)>, full: &[usize], pads: Pads) -> Vec<(usize, usize)> {
    let half = |f: usize| (f - 1) / 2;
    let shared = full.iter().map(|&f| half(f)).min().unwrap_or(0);
    for ((lo, hi), &f) in p.iter_mut().zip(full) {
        match pads {
            Pads::Shared => {
                *lo = (*lo).min(shared);
                *hi = (*hi).min(shared);
            }
            Pads::Symmetric => {
                *lo = (*lo).min(half(f));
                *hi = (*hi).min(half(f));
            }
            Pads::Asymmetric => {
                *hi = (*hi).min(f - 1);
                *lo = (*lo).min(f - 1 - *hi);
            }
        }
    }
    p
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
