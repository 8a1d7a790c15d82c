//! The error bounds of the transform path ([`FftEngine::error_bounds`],
//! [`FftEngine::normwise_model`]).

use super::FftEngine;
use super::element::FftElement;
use super::plan::{Prep, Prepared, block_data, max_exponent};
use super::transforms::Work;
use crate::problem::boundary::pad;
use crate::problem::{ConvError, Problem};
use crate::tolerance::fft::{FftTerms, TransformPrecision};

impl FftEngine {
    /// The normwise model of this engine for the whole output of `p`: the 2-norm of its
    /// per-block bounds ([`FftEngine::error_bounds`]; a bound on each block's error 2-norm,
    /// so their root sum of squares bounds the whole output's), rounded up by `2^-40`.
    pub fn normwise_model<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<crate::tolerance::Model, ConvError> {
        self.normwise_model_in(p, TransformPrecision::Double)
    }

    /// [`FftEngine::normwise_model`] for an FFT convolution that computes in `precision` at
    /// this engine's transform lengths and blocks: with
    /// [`TransformPrecision::Single`], the model of a float32 FFT (scipy.fft, numpy 2,
    /// torch.fft), whose result is not rounded again.
    pub fn normwise_model_in<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
        precision: TransformPrecision,
    ) -> Result<crate::tolerance::Model, ConvError> {
        let bounds = self.error_bounds_in(p, precision)?;
        let bound = bounds.iter().map(|b| b * b).sum::<f64>().sqrt() * (1.0 + 2f64.powi(-40));
        Ok(crate::tolerance::Model::Normwise { bound })
    }

    /// The normwise error bound of every output block `(n, o)` for this problem, shape
    /// `(N, O)`, in the units of the data, as [`crate::tolerance::fft::FftTerms::bound`]
    /// evaluates it for the transform lengths and blocks this engine uses (bias and output
    /// rounding of `T` included; for integers, the bound before rounding). Every entry is
    /// infinite when the problem takes a reference path decided before the transforms (the
    /// path [`FftEngine::plan`] reports: non-finite data, no spatial axis, memory, and for
    /// integers [`Fallback::IntegerRange`](super::Fallback::IntegerRange) or
    /// [`Fallback::IntegerBound`](super::Fallback::IntegerBound)). Errors are those of
    /// [`Problem::validate_geometry`]. docs/numerics.md section 10.14.
    pub fn error_bounds<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<ndarray::Array2<f64>, ConvError> {
        self.error_bounds_in(p, TransformPrecision::Double)
    }

    /// [`FftEngine::error_bounds`] for transforms computed in `precision` (in single
    /// precision the result is taken as computed in single precision: no final rounding).
    pub fn error_bounds_in<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
        precision: TransformPrecision,
    ) -> Result<ndarray::Array2<f64>, ConvError> {
        let geo = p.validate_geometry()?;
        let (batch, c_out) = (p.input.shape()[0], p.weight.shape()[0]);
        Ok(match self.prepare(p, &geo, true)? {
            Prep::Ready(prep) => {
                let bias: Option<Vec<f64>> = if T::INTEGER {
                    None
                } else {
                    p.bias.as_ref().map(|b| b.iter().map(|v| v.abs()).collect())
                };
                let output_roundoff = match precision {
                    TransformPrecision::Double => T::OUTPUT_ROUNDOFF,
                    TransformPrecision::Single => None,
                };
                prep.block_bounds(bias.as_deref(), output_roundoff, precision)
            }
            Prep::Reference(_) => ndarray::Array2::from_elem((batch, c_out), f64::INFINITY),
        })
    }
}

impl<T: FftElement> Prepared<'_, T> {
    pub(super) fn block_bounds(
        &self,
        bias: Option<&[f64]>,
        output_roundoff: Option<f64>,
        precision: TransformPrecision,
    ) -> ndarray::Array2<f64> {
        let outputs: usize = self.axes.iter().map(|a| a.out).product();
        let overlap: usize = self.axes.iter().map(|a| a.overlap()).product();
        let channels = self.weight.shape()[1];
        let n: f64 = self.axes.iter().map(|a| a.len as f64).product();
        ndarray::Array2::from_shape_fn(self.masses.dim(), |(b, o)| {
            FftTerms {
                transform_len: n,
                channels,
                mass: self.masses[(b, o)],
                bias: bias.map(|b| b[o]),
                outputs,
                overlap,
                scale: self.data_scale,
                output_roundoff,
                precision,
                underflow_gain: self.underflow_gain,
            }
            .bound()
        })
    }
}

/// The normwise bound of every output block `(n, o)` (shape `(N, O)`) of an FFT convolution
/// that is not this crate's: one that computes in `precision` with transforms of the given
/// per-axis `lengths` (its own, not the ones [`FftEngine`] would pick), summing up to
/// `overlap` overlap-add blocks into one output (1 for a single transform per axis), and whose
/// result is `T`. [`crate::tolerance::fft::FftTerms::bound`] evaluated at those lengths, on
/// the input padded by its boundary mode; infinite for non-finite data (the special-value
/// rules judge those). docs/numerics.md section 10.11.
///
/// Errors: those of [`Problem::validate`], and [`ConvError::Unsupported`] when the
/// declaration cannot compute the problem: not one length per spatial axis, a length of 0, a
/// single transform (`overlap` 1) shorter than the padded input on some axis, or
/// single-precision transforms of data other than `f32`.
pub fn declared_bounds<T: FftElement>(
    p: &Problem<'_, T>,
    precision: TransformPrecision,
    lengths: &[usize],
    overlap: usize,
) -> Result<ndarray::Array2<f64>, ConvError> {
    let geo = p.validate()?;
    let rank = geo.axes.len();
    if lengths.len() != rank {
        return Err(ConvError::unsupported(format!(
            "FFT lengths {lengths:?} for {rank} spatial axes"
        )));
    }
    for (a, (ax, &len)) in geo.axes.iter().zip(lengths).enumerate() {
        let padded = ax.input + ax.pad_lo + ax.pad_hi;
        if len == 0 || (overlap <= 1 && len < padded) {
            return Err(ConvError::unsupported(format!(
                "an FFT of length {len} on spatial axis {a} cannot hold its padded input of {padded} in one transform"
            )));
        }
    }
    // f32 results are the only ones rounded from double: single precision is theirs.
    if precision == TransformPrecision::Single && T::OUTPUT_ROUNDOFF.is_none() {
        return Err(ConvError::unsupported(
            "single-precision transforms are modelled for f32 data only",
        ));
    }
    let (batch, c_out) = (p.input.shape()[0], p.weight.shape()[0]);
    let infinite = || ndarray::Array2::from_elem((batch, c_out), f64::INFINITY);
    let constant_finite = match &p.spec.boundary {
        crate::problem::Boundary::Constant(c) => c.is_finite_value(),
        _ => true,
    };
    let bias_finite = p
        .bias
        .as_ref()
        .is_none_or(|b| b.iter().all(|v| v.is_finite_value()));
    let (Some(_), Some((_, wmax)), true, true) = (
        max_exponent(&p.input),
        max_exponent(&p.weight),
        bias_finite,
        constant_finite,
    ) else {
        return Ok(infinite());
    };
    let mut pads = vec![(0, 0), (0, 0)];
    pads.extend(geo.pads());
    let signal = pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits)?;
    let xmax = max_exponent(&signal.view()).map_or(f64::INFINITY, |(_, m)| m);
    let weight = p.weight.as_standard_layout();
    let data = block_data(&signal.view(), &weight.view(), p.spec.groups, xmax, wmax);
    let bias: Option<Vec<f64>> = if T::INTEGER {
        None
    } else {
        p.bias
            .as_ref()
            .map(|b| b.iter().map(|v| v.lift().magnitude()).collect())
    };
    let output_roundoff = match precision {
        TransformPrecision::Double => T::OUTPUT_ROUNDOFF,
        TransformPrecision::Single => None,
    };
    let transform_len: f64 = lengths.iter().map(|&l| l as f64).product();
    let outputs: usize = geo.output_shape().iter().product();
    Ok(ndarray::Array2::from_shape_fn((batch, c_out), |(n, o)| {
        FftTerms {
            transform_len,
            channels: p.weight.shape()[1],
            mass: data.masses[(n, o)],
            bias: bias.as_ref().map(|b| b[o]),
            outputs,
            overlap: overlap.max(1),
            scale: xmax * wmax,
            output_roundoff,
            precision,
            underflow_gain: data.underflow_gain,
        }
        .bound()
    }))
}

/// [`declared_bounds`] as one [`Model::Normwise`](crate::tolerance::Model::Normwise) for the
/// whole output: the 2-norm of the per-block bounds, rounded up by `2^-40`.
pub fn declared_model<T: FftElement>(
    p: &Problem<'_, T>,
    precision: TransformPrecision,
    lengths: &[usize],
    overlap: usize,
) -> Result<crate::tolerance::Model, ConvError> {
    let bounds = declared_bounds(p, precision, lengths, overlap)?;
    let bound = bounds.iter().map(|b| b * b).sum::<f64>().sqrt() * (1.0 + 2f64.powi(-40));
    Ok(crate::tolerance::Model::Normwise { bound })
}

/// Per spatial axis, the length of the full linear convolution of the input padded by its
/// boundary mode with the dilated kernel, `n + lo + hi + d (k - 1)`: the shortest single
/// transform that computes every output without wrap-around (an FFT engine rounds it up to a
/// length it transforms fast, e.g. `.next_power_of_two()`). Errors: those of
/// [`Problem::validate_geometry`].
pub fn linear_lengths<T: Clone>(p: &Problem<'_, T>) -> Result<Vec<usize>, ConvError> {
    let geo = p.validate_geometry()?;
    Ok(geo
        .axes
        .iter()
        .map(|ax| ax.input + ax.pad_lo + ax.pad_hi + ax.effective_kernel() - 1)
        .collect())
}
