//! Random problems inside an engine's [`Capabilities`]: the generators of the conformance
//! battery's oracle section and of [`super::strategies::problems`]. Uniform data in `[-1, 1)`
//! mostly; inputs near `1e6` with kernels that sum to about zero (cancellation); twelve
//! decades; and, when asked, NaN, infinities and signed zeros among ordinary values.

use super::cases::{Case, Layout, case_with_values};
use super::exact_data::{Data, ExactSample, value};
use crate::engine::exact::ExactElement;
use crate::engine::fft::FftElement;
use crate::engine::{AxisSetting, Capabilities, PadLimit, PaddingRule, Pads};
use crate::problem::Padding;
use crate::problem::geometry::resolve_pads;
use crate::tolerance::Float;
use proptest::prelude::*;
use std::fmt;

/// An element type the battery checks: `f32` or `f64`.
pub trait Element: ExactSample + ExactElement + FftElement + Float + fmt::Debug {
    /// The value as a Rust expression of this type (`f64::from_bits(..)` for non-finite
    /// values).
    fn literal(self) -> String;
}

impl Element for f64 {
    fn literal(self) -> String {
        if self.is_finite() {
            format!("{self:?}")
        } else {
            format!("f64::from_bits({:#x})", self.to_bits())
        }
    }
}

impl Element for f32 {
    fn literal(self) -> String {
        if self.is_finite() {
            format!("{self:?}")
        } else {
            format!("f32::from_bits({:#x})", self.to_bits())
        }
    }
}

/// The layouts of random problems inside `caps`: ranks, rules and options the engine
/// supports; extents as [`crate::testing::cases::LayoutSizes::SMALL`] (inputs up to 24, 8,
/// 5 per axis by rank; kernels up to 6, 4, 3), channels per group up to 3, batch up to 2.
///
/// Every layout is drawn inside the capabilities and is a problem the reference accepts: a
/// shared stride is drawn once, symmetric pads once per axis, and [`fit`] then shrinks
/// kernels and pads that do not fit (no case is rejected, so shrinking stays fast).
/// [`Capabilities::accepts`] is the one thing not drawn inside: the battery skips what it
/// turns away.
pub(crate) fn layouts(caps: &Capabilities) -> Option<BoxedStrategy<Layout>> {
    let ranks = caps.drawn_ranks();
    let first = *ranks.first()?;
    // A layout of every drawable rank is drawn, then one is picked: no strategy depends on
    // another's value, so shrinking moves the rank down and every field toward its simplest
    // independently (a flat map would shrink its inner values first and rarely the rank).
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
fn rank_layouts(c: &Capabilities, rank: usize) -> BoxedStrategy<Layout> {
    let r = rank - 1;
    let (n, k) = ([24usize, 8, 5][r], [6usize, 4, 3][r]);
    let max_groups: usize = if c.groups { 3 } else { 1 };
    let pads = c.pads;
    let rules: Vec<BoxedStrategy<Padding>> = c
        .paddings
        .iter()
        .map(|&rule| -> BoxedStrategy<Padding> {
            match rule {
                PaddingRule::Explicit => match pads {
                    Pads::Shared => (0usize..=3)
                        .prop_map(move |v| Padding::Explicit(vec![(v, v); rank]))
                        .boxed(),
                    Pads::Symmetric => proptest::collection::vec(0usize..=3, rank)
                        .prop_map(|p| Padding::Explicit(p.into_iter().map(|v| (v, v)).collect()))
                        .boxed(),
                    Pads::Asymmetric => proptest::collection::vec((0usize..=3, 0usize..=3), rank)
                        .prop_map(Padding::Explicit)
                        .boxed(),
                },
                PaddingRule::Valid => Just(Padding::Valid).boxed(),
                PaddingRule::Full => Just(Padding::Full).boxed(),
                PaddingRule::SameUpper => Just(Padding::SameUpper).boxed(),
                PaddingRule::SameLower => Just(Padding::SameLower).boxed(),
                PaddingRule::TorchSame => Just(Padding::TorchSame).boxed(),
            }
        })
        .collect();
    let padding = proptest::strategy::Union::new(rules);
    let max_batch = if c.batch { 2 } else { 1 };
    let limits = c.clone();
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
        padding,
        prop::sample::select(c.boundaries.clone()),
        prop::sample::select(c.flips.clone()),
        if c.bias {
            any::<bool>().boxed()
        } else {
            Just(false).boxed()
        },
    )
        .prop_map(
            move |(
                (batch, groups, cg, og),
                input,
                kernel,
                stride,
                dilation,
                padding,
                boundary,
                flip,
                bias,
            )| {
                let limit = limits.pad_limit(boundary);
                fit(
                    Layout {
                        batch,
                        groups,
                        cg,
                        og,
                        input,
                        kernel,
                        stride,
                        dilation,
                        padding,
                        boundary: boundary.index(),
                        flip,
                        bias,
                    },
                    limit,
                )
            },
        )
        .boxed()
}

/// Per-axis values from `neutral` (1 for a stride or dilation, 0 for an output padding) up to
/// `max` as `setting` allows: all `neutral`, one value drawn once and repeated, or one each.
pub(crate) fn axis_values(
    setting: AxisSetting,
    neutral: usize,
    max: usize,
    rank: usize,
) -> BoxedStrategy<Vec<usize>> {
    match setting {
        AxisSetting::Unit => Just(vec![neutral; rank]).boxed(),
        AxisSetting::Shared => (neutral..=max).prop_map(move |v| vec![v; rank]).boxed(),
        AxisSetting::PerAxis => proptest::collection::vec(neutral..=max, rank).boxed(),
    }
}

/// Moves a drawn layout inside what the reference accepts and the boundary's pad `limit`
/// allows, changing as little as it can: PyTorch's `same` gets stride 1; explicit pads are
/// cut to the limit of the shortest axis (equal pads stay equal); a derived pad over the
/// limit, or a kernel larger than the padded input, shortens the kernel.
pub(crate) fn fit(mut l: Layout, limit: PadLimit) -> Layout {
    if l.padding == Padding::TorchSame {
        l.stride.iter_mut().for_each(|s| *s = 1);
    }
    if let Padding::Explicit(pads) = &mut l.padding {
        // One cut for every axis (the shortest axis's), so that equal pads stay equal.
        let cut = l.input.iter().filter_map(|&n| limit.max_pad(n)).min();
        if let Some(m) = cut {
            for (lo, hi) in pads.iter_mut() {
                *lo = (*lo).min(m);
                *hi = (*hi).min(m);
            }
        }
    }
    for axis in 0..l.input.len() {
        let n = l.input[axis];
        let (s, d) = (l.stride[axis], l.dilation[axis]);
        while l.kernel[axis] > 1 {
            let k = l.kernel[axis];
            let fits = resolve_pads(&l.padding, n, k, s, d, axis).is_ok_and(|(lo, hi)| {
                n + lo + hi > d * (k - 1) && limit.allows(lo, n) && limit.allows(hi, n)
            });
            if fits {
                break;
            }
            l.kernel[axis] -= 1;
        }
    }
    l
}

/// `+-10^e`, `e` uniform in `[-6, 6]`: twelve decades, the range of real data (no overflow,
/// no underflow in either format).
pub(crate) fn decades<T: Element>() -> BoxedStrategy<T> {
    (any::<bool>(), -6.0f64..=6.0)
        .prop_map(|(neg, e)| {
            let v = 10f64.powf(e);
            T::from_f64(if neg { -v } else { v })
        })
        .boxed()
}

/// Values in `[-1, 1)` with NaN, infinities and signed zeros among them.
pub(crate) fn specials<T: Element>() -> BoxedStrategy<T> {
    prop_oneof![
        12 => -1.0f64..1.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => Just(-0.0),
    ]
    .prop_map(T::from_f64)
    .boxed()
}

/// Random problems inside `caps`: uniform data in `[-1, 1)` mostly; inputs near `1e6` with
/// kernels that sum to about zero (cancellation); twelve decades ([`decades`]); and (with
/// `specials`) NaN, infinities and signed zeros among ordinary values ([`specials`]).
///
/// A failing problem shrinks by its layout (rank, extents, stride, padding, boundary,
/// options), not by its values: each simpler layout is tried on fresh data of the same
/// distribution. Shrinking every value first would spend the search's budget on numbers and
/// leave the shapes and settings, which tell a reader where the bug is, unshrunk.
pub(crate) fn cases<T: Element>(
    caps: &Capabilities,
    specials: bool,
) -> Option<BoxedStrategy<Case<T>>> {
    let l = layouts(caps)?;
    let data = |d: Data| {
        let kernel = if d == Data::Cancelling {
            Data::Uniform
        } else {
            d
        };
        case_with_values(
            l.clone(),
            move || value::<T>(d).no_shrink().boxed(),
            move || value::<T>(kernel).no_shrink().boxed(),
            d == Data::Cancelling,
        )
    };
    let decades = case_with_values(
        l.clone(),
        || decades::<T>().no_shrink().boxed(),
        || decades::<T>().no_shrink().boxed(),
        false,
    );
    Some(if specials {
        prop_oneof![
            4 => data(Data::Uniform),
            2 => data(Data::Cancelling),
            2 => decades,
            1 => case_with_values(
                l.clone(),
                || self::specials::<T>().no_shrink().boxed(),
                || self::specials::<T>().no_shrink().boxed(),
                false,
            ),
        ]
        .boxed()
    } else {
        prop_oneof![
            4 => data(Data::Uniform),
            2 => data(Data::Cancelling),
            2 => decades,
        ]
        .boxed()
    })
}
