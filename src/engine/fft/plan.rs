//! Which path a problem takes and why: [`FftPlan`], [`FftPath`], [`Fallback`], and the checks
//! and scaling that decide it before any transform.

use super::blocking::AxisPlan;
use super::bounds::integer_range_ok;
use super::element::{FftElement, Work};
use super::{FftEngine, Mutation};
use crate::problem::boundary::pad;
use crate::problem::geometry::Geometry;
use crate::problem::{Boundary, ConvError, Flip, Problem};
use crate::tolerance::fft::{TransformPrecision, mass};
use ndarray::{ArrayViewD, CowArray, IxDyn};
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

/// What [`FftEngine::plan`] decides for a problem: a printable value.
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

impl FftEngine {
    /// Which path a problem takes, and for integers the error bound that justifies it. Runs
    /// every check of [`Problem::validate`] first (same errors as the reference).
    pub fn plan<T: FftElement>(&self, p: &Problem<'_, T>) -> Result<FftPlan, ConvError> {
        let geo = p.validate_geometry()?;
        Ok(match self.prepare(p, &geo, T::INTEGER)? {
            Prep::Reference(why) => FftPlan {
                path: FftPath::Reference(why),
                max_integer_bound: None,
            },
            Prep::Ready(prep) => FftPlan {
                path: prep.path(),
                max_integer_bound: prep.integer_bound,
            },
        })
    }
}

pub(super) enum Prep<'a, T: FftElement> {
    Reference(Fallback),
    Ready(Box<Prepared<'a, T>>),
}

/// A checked problem with its axis plans and scaling.
pub(super) struct Prepared<'a, T: FftElement> {
    pub(super) axes: Vec<AxisPlan>,
    /// `(N, C, signal...)`: the input, padded by its boundary mode unless that is zero.
    pub(super) signal: CowArray<'a, T, IxDyn>,
    /// `(O, C/G, kernel...)`, standard layout.
    pub(super) weight: CowArray<'a, T, IxDyn>,
    /// Data is scaled by `2^-ex` (input) and `2^-ew` (weight); results by `2^(ex + ew)`.
    pub(super) ex: i32,
    pub(super) ew: i32,
    pub(super) groups: usize,
    pub(super) flip: Flip,
    pub(super) mutation: Mutation,
    /// Per block `(n, o)`: the mass `sum_c ||x_c||_2 ||w_c||_1` in original units (NaN unless
    /// requested).
    pub(super) masses: ndarray::Array2<f64>,
    /// `max|x| * max|w|` in original units.
    pub(super) data_scale: f64,
    /// `max(1, S max|x|, K max|w|)`, with `S` and `K` the signal and kernel elements per
    /// channel: an upper bound on the underflow gain of a single-precision transform
    /// ([`FftTerms::underflow_gain`](crate::tolerance::fft::FftTerms::underflow_gain)).
    pub(super) underflow_gain: f64,
    integer_bound: Option<f64>,
}

/// `(ceil(log2 max|v|), max|v|)`, or `None` if a value is not finite.
fn max_exponent<T: FftElement>(values: &ArrayViewD<'_, T>) -> Option<(i32, f64)> {
    // A contiguous array is scanned as a slice: ndarray's N-D iterator is much slower.
    let (finite, max) = match values.as_slice_memory_order() {
        Some(slice) => scan(slice),
        None => scan(&values.iter().copied().collect::<Vec<T>>()),
    };
    if !finite {
        return None;
    }
    Some(if max == 0.0 {
        (0, 0.0)
    } else {
        (max.log2().ceil() as i32, max)
    })
}

/// `(all finite, max |v|)`, with eight independent accumulators so that the loop is not
/// bound by the latency of one comparison chain. A NaN fails `a <= f64::MAX`.
fn scan<T: FftElement>(values: &[T]) -> (bool, f64) {
    const LANES: usize = 8;
    let mut max = [0f64; LANES];
    let mut finite = [true; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for ((v, m), f) in chunk.iter().zip(&mut max).zip(&mut finite) {
            let a = v.lift().magnitude();
            *f &= a <= f64::MAX;
            *m = if a > *m { a } else { *m };
        }
    }
    for (v, (m, f)) in rest.iter().zip(max.iter_mut().zip(&mut finite)) {
        let a = v.lift().magnitude();
        *f &= a <= f64::MAX;
        *m = if a > *m { a } else { *m };
    }
    (
        finite.iter().all(|&f| f),
        max.iter().fold(0f64, |a, &b| if b > a { b } else { a }),
    )
}

impl FftEngine {
    /// Converts, checks and plans a problem. `bounds`: compute the per-block masses (always
    /// for integers, whose path depends on them).
    pub(super) fn prepare<'a, T: FftElement>(
        &self,
        p: &'a Problem<'_, T>,
        geo: &Geometry,
        bounds: bool,
    ) -> Result<Prep<'a, T>, ConvError> {
        let mutation = self.mutation;
        let constant_finite = match &p.spec.boundary {
            Boundary::Constant(c) => c.is_finite_value(),
            _ => true,
        };
        let finite = |v: &T| v.is_finite_value();
        let scan_x = max_exponent(&p.input);
        let scan_w = max_exponent(&p.weight);
        let (Some(_), Some((ew, wmax)), true, true) = (
            scan_x,
            scan_w,
            p.bias.as_ref().is_none_or(|b| b.iter().all(finite)),
            constant_finite,
        ) else {
            return Ok(Prep::Reference(Fallback::NonFinite));
        };
        let axes = match self.layout(p, geo) {
            Ok(axes) => axes,
            Err(why) => return Ok(Prep::Reference(why)),
        };
        let zero_boundary = is_zero_boundary(&p.spec.boundary);
        let (batch, c_in) = (p.input.shape()[0], p.input.shape()[1]);
        let c_out = p.weight.shape()[0];
        let cg = p.weight.shape()[1];
        // The signal: padded by the boundary mode unless it is zero (then an index shift).
        let signal: CowArray<'a, T, IxDyn> = if zero_boundary {
            CowArray::from(p.input.view())
        } else {
            let mut pads = vec![(0, 0), (0, 0)];
            pads.extend(geo.pads());
            match pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits) {
                Ok(x) => CowArray::from(x),
                Err(_) => return Ok(Prep::Reference(Fallback::Memory)),
            }
        };
        let (ex, xmax) = if zero_boundary {
            scan_x.unwrap_or((0, 0.0))
        } else {
            // The boundary constant (finite) may be the largest value.
            max_exponent(&signal.view()).unwrap_or((0, 0.0))
        };
        let weight = p.weight.as_standard_layout();
        if T::INTEGER && !integer_range_ok(&signal, &weight, p.spec.groups) {
            return Ok(Prep::Reference(Fallback::IntegerRange));
        }
        let og = c_out / p.spec.groups;
        let masses = if bounds || T::INTEGER {
            let x_norms: Vec<f64> = signal
                .outer_iter()
                .flat_map(|xn| {
                    xn.outer_iter()
                        .map(|xc| T::W::l2(xc.iter().map(|v| v.lift())))
                        .collect::<Vec<_>>()
                })
                .collect();
            let w_norms: Vec<f64> = weight
                .outer_iter()
                .flat_map(|wo| {
                    wo.outer_iter()
                        .map(|wc| T::W::l1(wc.iter().map(|v| v.lift())))
                        .collect::<Vec<_>>()
                })
                .collect();
            ndarray::Array2::from_shape_fn((batch, c_out), |(n, o)| {
                let g = o / og;
                mass((0..cg).map(|c| (x_norms[n * c_in + g * cg + c], w_norms[o * cg + c])))
            })
        } else {
            ndarray::Array2::from_elem((batch, c_out), f64::NAN)
        };
        let underflow_gain = {
            let per_channel = |shape: &[usize]| shape[2..].iter().product::<usize>() as f64;
            let signal_l1 = per_channel(signal.shape()) * xmax;
            let kernel_l1 = per_channel(p.weight.shape()) * wmax;
            1f64.max(signal_l1).max(kernel_l1)
        };
        let mut prep = Prepared {
            axes,
            signal,
            weight,
            ex,
            ew,
            groups: p.spec.groups,
            flip: p.spec.flip,
            mutation,
            masses,
            data_scale: xmax * wmax,
            underflow_gain,
            integer_bound: None,
        };
        if T::INTEGER {
            let bounds = prep.block_bounds(None, None, TransformPrecision::Double);
            let worst = bounds.iter().fold(0f64, |m, &b| m.max(b));
            if worst.is_nan() || worst >= 0.5 {
                return Ok(Prep::Reference(Fallback::IntegerBound));
            }
            prep.integer_bound = Some(worst);
        }
        Ok(Prep::Ready(Box::new(prep)))
    }
}

/// Zero padding (an index shift, never materialised).
pub(super) fn is_zero_boundary<T: FftElement>(b: &Boundary<T>) -> bool {
    match b {
        Boundary::Zeros => true,
        Boundary::Constant(c) => c.lift().magnitude() == 0.0,
        _ => false,
    }
}

impl<T: FftElement> Prepared<'_, T> {
    pub(super) fn path(&self) -> FftPath {
        FftPath::Fft {
            real: <T::W as Work>::REAL,
            lengths: self.axes.iter().map(|a| a.len).collect(),
            block: self.axes.iter().map(|a| a.block).collect(),
            blocks: self.axes.iter().map(|a| a.blocks()).collect(),
        }
    }
}
