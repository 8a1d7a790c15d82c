//! The error bounds of the transform path ([`FftEngine::error_bounds`],
//! [`FftEngine::normwise_model`]).

use super::FftEngine;
use super::element::FftElement;
use super::plan::{Prep, Prepared};
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
