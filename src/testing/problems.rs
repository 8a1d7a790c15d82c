//! Random problems inside an engine's [`Capabilities`]: the generators of the conformance
//! battery's oracle section and of [`super::strategies::problems`]. Uniform data in `[-1, 1)`
//! mostly; inputs near `1e6` with kernels that sum to about zero (cancellation); twelve
//! decades; and, when asked, NaN, infinities and signed zeros among ordinary values.

use super::cases::{Case, Layout, case_with_values};
use super::exact_data::{Data, ExactSample, case_from};
use crate::engine::exact::ExactElement;
use crate::engine::{Capabilities, PaddingRule};
use crate::problem::Padding;
use crate::tolerance::Float;
use proptest::prelude::*;
use std::fmt;

/// An element type the battery checks: `f32` or `f64`.
pub trait Element: ExactSample + ExactElement + Float + fmt::Debug {
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
pub(crate) fn layouts(caps: &Capabilities) -> Option<BoxedStrategy<Layout>> {
    let (lo, hi) = caps.drawn_ranks()?;
    if caps.paddings.is_empty() || caps.boundaries.is_empty() || caps.flips.is_empty() {
        return None;
    }
    let caps = caps.clone();
    let strategy = (lo..=hi)
        .prop_flat_map(move |rank| {
            let r = rank - 1;
            let (n, k) = ([24usize, 8, 5][r], [6usize, 4, 3][r]);
            let max_stride: usize = if caps.stride { 3 } else { 1 };
            let max_dilation: usize = if caps.dilation { 2 } else { 1 };
            let max_groups: usize = if caps.groups { 3 } else { 1 };
            let padding = prop::sample::select(caps.paddings.clone()).prop_flat_map(
                move |rule| -> BoxedStrategy<Padding> {
                    match rule {
                        PaddingRule::Explicit => {
                            proptest::collection::vec((0usize..=3, 0usize..=3), rank)
                                .prop_map(Padding::Explicit)
                                .boxed()
                        }
                        PaddingRule::Valid => Just(Padding::Valid).boxed(),
                        PaddingRule::Full => Just(Padding::Full).boxed(),
                        PaddingRule::SameUpper => Just(Padding::SameUpper).boxed(),
                        PaddingRule::SameLower => Just(Padding::SameLower).boxed(),
                        PaddingRule::TorchSame => Just(Padding::TorchSame).boxed(),
                    }
                },
            );
            (
                (1usize..=2, 1usize..=max_groups, 1usize..=3, 1usize..=3),
                proptest::collection::vec(1..=n, rank),
                proptest::collection::vec(1..=k, rank),
                proptest::collection::vec(1..=max_stride, rank),
                proptest::collection::vec(1..=max_dilation, rank),
                padding,
                prop::sample::select(caps.boundaries.clone()),
                prop::sample::select(caps.flips.clone()),
                if caps.bias {
                    any::<bool>().boxed()
                } else {
                    Just(false).boxed()
                },
            )
        })
        .prop_map(
            |(
                (batch, groups, cg, og),
                input,
                kernel,
                stride,
                dilation,
                padding,
                boundary,
                flip,
                bias,
            )| Layout {
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
        );
    Some(strategy.boxed())
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
pub(crate) fn cases<T: Element>(
    caps: &Capabilities,
    specials: bool,
) -> Option<BoxedStrategy<Case<T>>> {
    let l = layouts(caps)?;
    let decades = case_with_values(l.clone(), decades::<T>, decades::<T>, false);
    Some(if specials {
        prop_oneof![
            4 => case_from::<T>(Data::Uniform, l.clone()),
            2 => case_from::<T>(Data::Cancelling, l.clone()),
            2 => decades,
            1 => case_with_values(l, self::specials::<T>, self::specials::<T>, false),
        ]
        .boxed()
    } else {
        prop_oneof![
            4 => case_from::<T>(Data::Uniform, l.clone()),
            2 => case_from::<T>(Data::Cancelling, l),
            2 => decades,
        ]
        .boxed()
    })
}
