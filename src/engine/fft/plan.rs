//! Which path a problem takes ([`FftEngine::plan`]): the checks, the integer range check and
//! the scaling that decide it before any transform.

use super::blocking::{AxisPlan, is_zero_boundary};
use super::element::FftElement;
use super::path::{Fallback, FftPath, FftPlan};
use super::transforms::Work;
use super::{FftEngine, Mutation};
use crate::problem::boundary::pad;
use crate::problem::geometry::Geometry;
use crate::problem::{Boundary, ConvError, Flip, Problem};
use crate::tolerance::fft::{TransformPrecision, mass};
use ndarray::{ArrayViewD, CowArray, IxDyn};

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
pub(super) fn max_exponent<T: FftElement>(values: &ArrayViewD<'_, T>) -> Option<(i32, f64)> {
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
        let batch = p.input.shape()[0];
        let c_out = p.weight.shape()[0];
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
        let (masses, underflow_gain) = if bounds || T::INTEGER {
            let data = block_data(&signal.view(), &weight.view(), p.spec.groups, xmax, wmax);
            (data.masses, data.underflow_gain)
        } else {
            (
                ndarray::Array2::from_elem((batch, c_out), f64::NAN),
                f64::NAN,
            )
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

/// What the bound of every block reads from the data: the masses, `max|x| * max|w|` and the
/// single-precision underflow gain.
pub(super) struct BlockData {
    /// Per block `(n, o)`: `sum_c ||x_c||_2 ||w_c||_1`, rounded up.
    pub(super) masses: ndarray::Array2<f64>,
    /// `max(1, S max|x|, K max|w|)` ([`Prepared::underflow_gain`]).
    pub(super) underflow_gain: f64,
}

/// The masses and underflow gain of a padded `signal` `(N, C, ...)` and a `weight`
/// `(O, C/G, ...)` whose largest magnitudes are `xmax` and `wmax`.
pub(super) fn block_data<T: FftElement>(
    signal: &ArrayViewD<'_, T>,
    weight: &ArrayViewD<'_, T>,
    groups: usize,
    xmax: f64,
    wmax: f64,
) -> BlockData {
    let (batch, c_in) = (signal.shape()[0], signal.shape()[1]);
    let (c_out, cg) = (weight.shape()[0], weight.shape()[1]);
    let og = c_out / groups;
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
    let masses = ndarray::Array2::from_shape_fn((batch, c_out), |(n, o)| {
        let g = o / og;
        mass((0..cg).map(|c| (x_norms[n * c_in + g * cg + c], w_norms[o * cg + c])))
    });
    let per_channel = |shape: &[usize]| shape[2..].iter().product::<usize>() as f64;
    let signal_l1 = per_channel(signal.shape()) * xmax;
    let kernel_l1 = per_channel(weight.shape()) * wmax;
    BlockData {
        masses,
        underflow_gain: 1f64.max(signal_l1).max(kernel_l1),
    }
}

/// Integers: every padded input and weight value is at most `2^53` in magnitude, and
/// `sum_c ||w[o, c]||_1 * max|x[n, c]| <= 2^53` for every block (so every exact result is an
/// f64 integer and no wrapping can occur).
fn integer_range_ok<T: FftElement>(
    signal: &CowArray<'_, T, IxDyn>,
    weight: &CowArray<'_, T, IxDyn>,
    groups: usize,
) -> bool {
    const LIMIT: u128 = 1 << 53;
    let mag = |v: &T| v.int_magnitude().unwrap_or(u128::MAX);
    if signal.iter().chain(weight.iter()).any(|v| mag(v) > LIMIT) {
        return false;
    }
    let (batch, c_in) = (signal.shape()[0], signal.shape()[1]);
    let (c_out, cg) = (weight.shape()[0], weight.shape()[1]);
    let w1: Vec<u128> = weight
        .outer_iter()
        .flat_map(|wo| {
            wo.outer_iter()
                .map(|wc| wc.iter().map(mag).sum::<u128>())
                .collect::<Vec<_>>()
        })
        .collect();
    let xmax: Vec<u128> = signal
        .outer_iter()
        .flat_map(|xn| {
            xn.outer_iter()
                .map(|xc| xc.iter().map(mag).max().unwrap_or(0))
                .collect::<Vec<_>>()
        })
        .collect();
    let og = c_out / groups;
    for n in 0..batch {
        for o in 0..c_out {
            let g = o / og;
            let mut total = 0u128;
            for c in 0..cg {
                let term = w1[o * cg + c].checked_mul(xmax[n * c_in + g * cg + c]);
                total = match term.and_then(|t| total.checked_add(t)) {
                    Some(t) => t,
                    None => return false,
                };
            }
            if total > LIMIT {
                return false;
            }
        }
    }
    true
}
