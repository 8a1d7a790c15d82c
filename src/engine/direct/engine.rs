//! [`DirectEngine`], its options and its [`Mutation`]s, the path a problem takes
//! ([`DirectPath`], [`DirectFallback`]), and the output array.

use super::layout::{Rows, layout};
use super::{Element, Plain, Run, compute, prepare};
use crate::engine::ConvEngine;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::geometry::Geometry;
use crate::reference;
use ndarray::{ArrayD, IxDyn};
use std::fmt;

/// Why the engine used the reference instead of its own loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DirectFallback {
    /// No spatial axis: a plain channel mix.
    NoSpatialAxes,
    /// The padded strips or rows would exceed [`crate::problem::Limits::max_elements`] (or overflow).
    Memory,
}

impl DirectFallback {
    /// A short description.
    pub fn describe(self) -> &'static str {
        match self {
            DirectFallback::NoSpatialAxes => "no spatial axes",
            DirectFallback::Memory => "padding exceeds the element limit",
        }
    }
}

/// The computation a problem takes: a printable value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DirectPath {
    /// Stride 1 on the last axis: input rows are read in place; the outputs whose window
    /// crosses an edge of the last axis read short padded strips instead.
    InPlace {
        /// Input rows (`N * C * product of the outer input extents`).
        rows: usize,
        /// Padded elements stored per input row (both strips).
        strip_len: usize,
    },
    /// Stride `s > 1` on the last axis: every input row is copied into a padded row stored
    /// as `s` phases, so that every tap reads a contiguous slice.
    Phased {
        /// Input rows (`N * C * product of the outer input extents`).
        rows: usize,
        /// Elements per padded row: `(out - 1) * s + d * (k - 1) + 1`.
        row_len: usize,
        /// Phases per row: the stride (at most `row_len`).
        phases: usize,
    },
    /// The reference, and why.
    Reference(DirectFallback),
}

impl fmt::Display for DirectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectPath::InPlace { rows, strip_len } => {
                write!(
                    f,
                    "direct in place: {rows} rows, {strip_len} padded per row"
                )
            }
            DirectPath::Phased {
                rows,
                row_len,
                phases: 1,
            } => write!(f, "direct padded: {rows} rows of {row_len}"),
            DirectPath::Phased {
                rows,
                row_len,
                phases,
            } => write!(
                f,
                "direct phased: {rows} padded rows of {row_len} in {phases} phases"
            ),
            DirectPath::Reference(why) => write!(f, "reference ({})", why.describe()),
        }
    }
}

/// Deliberate bugs, for tests that show the properties can fail. Not for use.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The correct engine.
    #[default]
    None,
    /// Skips the last tap of every kernel.
    #[cfg(feature = "fault-injection")]
    DropLastTap,
    /// Pads the last axis one position off: padded position `i` reads `i - lo + 1` (in place:
    /// in the edge strips only).
    #[cfg(feature = "fault-injection")]
    PadOffByOne,
}

crate::engine::mutation_predicates! {
    drops_last_tap => DropLastTap,
    pads_off_by_one => PadOffByOne,
}

/// The fast direct (sum-of-products) engine (see the module docs). Holds no state: plain
/// `Copy` data, free to share between threads.
#[derive(Clone, Copy, Debug)]
pub struct DirectEngine {
    mutation: Mutation,
    /// Never take the AVX2 build of the loops (tests compare the two).
    baseline_only: bool,
    /// Threads the output rows are split over (1: the calling thread only).
    threads: usize,
}

impl Default for DirectEngine {
    fn default() -> Self {
        Self::new()
    }
}

/// The element types the direct engine accepts: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`
/// and `i64` (sealed).
pub trait DirectElement: Element {}
impl<T: Element> DirectElement for T {}

impl DirectEngine {
    /// The engine.
    pub fn new() -> Self {
        DirectEngine {
            mutation: Mutation::None,
            baseline_only: false,
            threads: 1,
        }
    }

    /// The engine splitting its output rows over `threads` threads (`0` or `1`: the calling
    /// thread only). Every output is computed the same way whatever the split: the results
    /// do not depend on the thread count.
    #[must_use]
    pub fn threads(self, threads: usize) -> Self {
        DirectEngine {
            threads: threads.max(1),
            ..self
        }
    }

    #[cfg(feature = "fault-injection")]
    /// An engine with a deliberate bug (tests only).
    #[doc(hidden)]
    pub fn with_mutation(mutation: Mutation) -> Self {
        DirectEngine {
            mutation,
            ..Self::new()
        }
    }

    /// The engine that always runs the loops compiled for the baseline target, never the
    /// AVX2 build (tests only: both must give the same results).
    #[doc(hidden)]
    pub fn baseline_only() -> Self {
        DirectEngine {
            baseline_only: true,
            ..Self::new()
        }
    }

    /// Which path a problem takes. Runs every check of [`Problem::validate`] first (same
    /// errors as the reference).
    pub fn plan<T: DirectElement>(&self, p: &Problem<'_, T>) -> Result<DirectPath, ConvError> {
        let geo = p.validate()?;
        Ok(match layout(p, &geo, self.mutation) {
            Ok(l) => match &l.rows {
                Rows::InPlace(st) => DirectPath::InPlace {
                    rows: l.rows_in,
                    strip_len: st.sources.len(),
                },
                Rows::Phased(ph) => DirectPath::Phased {
                    rows: l.rows_in,
                    row_len: l.len,
                    phases: ph.phases.len(),
                },
            },
            Err(why) => DirectPath::Reference(why),
        })
    }

    fn run<T: DirectElement>(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        let (geo, l) = prepare(p, self.mutation)?;
        let Ok(l) = l else {
            return reference::conv(p);
        };
        let run = Run {
            mutation: self.mutation,
            baseline_only: self.baseline_only,
            threads: self.threads,
        };
        let out = compute(&Plain(std::marker::PhantomData), p, &geo, &l, run);
        output_array(p, &geo, out)
    }
}

/// The `(N, O, out...)` array of outputs in row-major order.
pub(crate) fn output_array<T, U>(
    p: &Problem<'_, T>,
    geo: &Geometry,
    out: Vec<U>,
) -> Result<ArrayD<U>, ConvError> {
    let mut shape = vec![p.input.shape()[0], p.weight.shape()[0]];
    shape.extend(geo.output_shape());
    // The shape holds exactly `out.len()` elements by construction.
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|_| ConvError::Overflow {
        what: "output shape",
        axis: None,
    })
}

impl<T: DirectElement> ConvEngine<T> for DirectEngine {
    fn name(&self) -> &str {
        match self.mutation {
            Mutation::None => "direct",
            #[cfg(feature = "fault-injection")]
            Mutation::DropLastTap => "direct-drop-last-tap",
            #[cfg(feature = "fault-injection")]
            Mutation::PadOffByOne => "direct-pad-off-by-one",
        }
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.run(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{Boundary, ConvSpec, Flip, Padding};
    use ndarray::array;

    #[test]
    fn hand_computed() {
        // The reference's hand case.
        let e = DirectEngine::new();
        let x = array![[[1i64, 2, 3, 4]]].into_dyn();
        let w = array![[[1i64, 10, 100]]].into_dyn();
        let y = e.conv(&Problem::new(x.view(), w.view())).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![321, 432]);
        let spec = ConvSpec::new().flip(Flip::Convolution);
        let y = e
            .conv(&Problem::new(x.view(), w.view()).spec(spec))
            .unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![123, 234]);
        // Reflect pad 1 each side: xb = [2 1 2 3 4 3]; stride 2 (two phases).
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .boundary(Boundary::Reflect)
            .stride([2]);
        let p = Problem::new(x.view(), w.view()).spec(spec);
        assert_eq!(
            e.plan(&p).unwrap(),
            DirectPath::Phased {
                rows: 1,
                row_len: 5,
                phases: 2
            }
        );
        let y = e.conv(&p).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![212, 432]);
    }
}
