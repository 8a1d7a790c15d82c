//! What the engine does with a problem: the path it takes (transforms of given lengths, whole
//! or in overlap-add blocks, or the reference and why) and the printable plan.

use std::fmt;

/// Why the engine did not return the result of its transforms: it computed the reference
/// instead, or, for [`Fallback::NonFiniteResult`] on floats, the correctly rounded result
/// (docs/numerics.md section 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fallback {
    /// NaN or infinity in the input, weight, bias or boundary constant.
    NonFinite,
    /// No spatial axis: nothing to transform.
    NoSpatialAxes,
    /// Integers: a value above `2^53` in magnitude, or a block whose `sum |w| |x|` may exceed
    /// `2^53` (docs/numerics.md section 7).
    IntegerRange,
    /// Integers: the error bound of some block is not below 0.5 (docs/numerics.md section 7).
    IntegerBound,
    /// A transform length, the spectra and buffers, or the input padded by its boundary mode
    /// would exceed the problem's limits ([`crate::problem::Limits::max_elements`]).
    Memory,
    /// The transforms gave a non-finite value (overflow when scaling back). Floats are then
    /// computed by [`crate::engine::exact::ExactEngine`], whose overflow is decided by the
    /// exact sum rather than by a summation order; integers never reach it (they take the
    /// transforms only when the result is bounded).
    NonFiniteResult,
    /// A transform refused its buffers (an internal error; the reference was computed).
    Transform,
}

impl Fallback {
    /// A short description.
    pub fn describe(self) -> &'static str {
        match self {
            Fallback::NonFinite => "non-finite input",
            Fallback::NoSpatialAxes => "no spatial axes",
            Fallback::IntegerRange => "integer values beyond 2^53",
            Fallback::IntegerBound => "integer error bound not below 0.5",
            Fallback::Memory => "spectra exceed the element limit",
            Fallback::NonFiniteResult => "non-finite FFT result",
            Fallback::Transform => "transform error",
        }
    }
}

/// The computation that produces (or produced) a result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FftPath {
    /// Transforms of the given per-axis lengths; `real`: r2c / c2r on the last axis.
    Fft {
        /// Real (realfft) or complex (rustfft) transforms.
        real: bool,
        /// Transform length per spatial axis.
        lengths: Vec<usize>,
        /// Overlap-add: input samples per block on each spatial axis (the whole signal on an
        /// axis that is not split).
        block: Vec<usize>,
        /// Number of blocks on each spatial axis (1 on an axis that is not split).
        blocks: Vec<usize>,
    },
    /// The reference, and why.
    Reference(Fallback),
}

impl FftPath {
    /// True when some axis is split into blocks (overlap-add).
    pub fn is_overlap_add(&self) -> bool {
        matches!(self, FftPath::Fft { blocks, .. } if blocks.iter().any(|&b| b > 1))
    }
}

impl fmt::Display for FftPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FftPath::Fft {
                real,
                lengths,
                block,
                blocks,
            } => {
                let kind = if *real { "real" } else { "complex" };
                if self.is_overlap_add() {
                    write!(
                        f,
                        "overlap-add ({kind}) lengths {lengths:?}, blocks {blocks:?} of {block:?}"
                    )
                } else {
                    write!(f, "fft ({kind}) lengths {lengths:?}")
                }
            }
            FftPath::Reference(why) => write!(f, "reference ({})", why.describe()),
        }
    }
}

/// What [`FftEngine::plan`](super::FftEngine::plan) decides for a problem: a printable value.
#[derive(Clone, Debug, PartialEq)]
pub struct FftPlan {
    /// The path the problem takes (before the non-finite-result check, which needs the result).
    pub path: FftPath,
    /// Integers on the FFT path: the largest per-element error bound over all blocks (below
    /// 0.5, so rounding is exact). `None` for other element types.
    pub max_integer_bound: Option<f64>,
}

impl fmt::Display for FftPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(b) = self.max_integer_bound {
            write!(f, "; integer error bound {b:.3e} < 0.5")?;
        }
        Ok(())
    }
}
