//! The FFT engine: convolution through the convolution theorem, with rustfft and realfft.
//!
//! [`FftEngine`] computes, for every sample `n` and output channel `o`,
//! `y[n, o] = bias[o] + sum_c IFFT(FFT(x[n, c]) .* FFT(g[o, c])) / N`, cropped and subsampled,
//! with `g[o, c]` the kernel `w[o, c]` laid out for a linear convolution (zero-stuffed for
//! dilation, reversed for cross-correlation, never conjugated, like
//! [`crate::reference::conv`]). Everything is computed in `f64`, at 3-smooth transform lengths
//! ([`fast_len`]) at which the circular convolution equals the linear one at every element
//! read, each axis transformed whole or in overlap-add blocks ([`Blocking`], chosen with the
//! [`CostModel`]). The result obeys the normwise bound of [`crate::tolerance::fft`]
//! ([`FftEngine::error_bounds`], [`FftEngine::normwise_model`]), not a per-element one; `i64`
//! results go through the transforms only when the bound proves that rounding recovers them
//! exactly. Where the transforms cannot give what the direct definition gives (non-finite
//! data, integers out of range, a non-finite result, no spatial axis, memory) the engine
//! computes the reference, or for a non-finite float result
//! [`crate::engine::exact::ExactEngine`], and records why ([`Fallback`]); [`FftEngine::plan`]
//! says in advance which path a problem takes and [`FftEngine::conv_with_path`] which path a
//! call took. Plans and buffers live in the engine: keep one engine to reuse them. The
//! derivation is in docs/numerics.md section 11 (the error bound in section 10, integers in
//! section 7).

mod blocking;
mod bounds;
mod convolve;
mod element;
mod path;
mod plan;
#[cfg(test)]
mod tests;
mod transforms;

pub use crate::tolerance::fft::TransformPrecision;
pub use blocking::Blocking;
pub use bounds::{declared_bounds, declared_model, linear_lengths};
pub use element::FftElement;
pub use path::{Fallback, FftPath, FftPlan};
pub use transforms::fast_len;

use super::ConvEngine;
use super::cost::CostModel;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::reference;
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex;
use plan::Prep;
use realfft::RealFftPlanner;
use rustfft::FftPlanner;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use transforms::Work;
use transforms::{Transforms, Workspace};

type C64 = Complex<f64>;

/// Deliberate bugs, for tests that show the FFT property can fail. Not for use.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The correct engine.
    #[default]
    None,
    /// Forgets to divide by the transform length after the inverse transform.
    #[cfg(feature = "fault-injection")]
    NoNormalisation,
    /// Transform length covers the signal only: circular instead of linear convolution.
    #[cfg(feature = "fault-injection")]
    ShortTransform,
    /// Reads the linear convolution one element too far on every axis.
    #[cfg(feature = "fault-injection")]
    CropOffByOne,
    /// Overlap-add: each block's contribution overwrites the output instead of adding to it.
    #[cfg(feature = "fault-injection")]
    OverlapOverwrite,
}

crate::engine::mutation_predicates! {
    no_normalisation => NoNormalisation,
    short_transform => ShortTransform,
    crop_off_by_one => CropOffByOne,
    overlap_overwrite => OverlapOverwrite,
}

/// The FFT convolution engine, with its plan cache (see the module docs).
pub struct FftEngine {
    state: Mutex<State>,
    mutation: Mutation,
    blocking: Blocking,
    cost: CostModel,
}

struct State {
    complex: FftPlanner<f64>,
    real: RealFftPlanner<f64>,
    scratch: Workspace,
}

impl Default for FftEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FftEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FftEngine")
            .field("blocking", &self.blocking)
            .field("mutation", &self.mutation)
            .finish()
    }
}

impl FftEngine {
    /// An engine with empty plan caches that transforms every axis whole.
    pub fn new() -> Self {
        FftEngine {
            state: Mutex::new(State {
                complex: FftPlanner::new(),
                real: RealFftPlanner::new(),
                scratch: Workspace::default(),
            }),
            mutation: Mutation::None,
            blocking: Blocking::Whole,
            cost: CostModel::default(),
        }
    }

    /// An overlap-add engine: [`Blocking::OverlapAdd`] with the default [`CostModel`].
    pub fn overlap_add() -> Self {
        Self::new().blocking(Blocking::OverlapAdd)
    }

    /// The same engine with another blocking rule.
    pub fn blocking(mut self, blocking: Blocking) -> Self {
        self.blocking = blocking;
        self
    }

    /// The blocking rule of this engine.
    pub fn blocking_rule(&self) -> Blocking {
        self.blocking
    }

    /// The same engine with another cost model (used to choose overlap-add blocks).
    pub fn cost_model(mut self, cost: CostModel) -> Self {
        self.cost = cost;
        self
    }

    #[cfg(feature = "fault-injection")]
    /// An engine with a deliberate bug (tests only).
    #[doc(hidden)]
    pub fn with_mutation(mutation: Mutation) -> Self {
        FftEngine {
            mutation,
            ..Self::new()
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the planners inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`ConvEngine::conv`], with the path the call took (the plan's, or the fallback met
    /// while transforming).
    pub fn conv_with_path<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<(ArrayD<T>, FftPath), ConvError> {
        self.run(p)
    }

    fn run<T: FftElement>(&self, p: &Problem<'_, T>) -> Result<(ArrayD<T>, FftPath), ConvError> {
        let geo = p.validate_geometry()?;
        let prep = match self.prepare(p, &geo, T::INTEGER)? {
            Prep::Reference(why) => return self.reference(p, why),
            Prep::Ready(prep) => prep,
        };
        let lengths: Vec<usize> = prep.axes.iter().map(|a| a.len).collect();
        let (transforms, mut ws) = {
            let mut state = self.lock();
            let t = Transforms::new(&mut state, &lengths, <T::W as Work>::REAL);
            let ws = std::mem::take(&mut state.scratch);
            (t, ws)
        };
        let result = prep.convolve(&transforms, p.bias.as_ref(), &mut ws);
        self.lock().scratch = ws;
        let out = match result {
            Ok(out) => out,
            Err(Fallback::NonFiniteResult) => {
                let y = T::overflow_result(p)?;
                return Ok((y, FftPath::Reference(Fallback::NonFiniteResult)));
            }
            Err(why) => return self.reference(p, why),
        };
        let mut shape = vec![p.input.shape()[0], p.weight.shape()[0]];
        shape.extend(geo.axes.iter().map(|a| a.output));
        let y = ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|_| ConvError::Overflow {
            what: "output shape",
            axis: None,
        })?;
        Ok((y, prep.path()))
    }

    fn reference<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
        why: Fallback,
    ) -> Result<(ArrayD<T>, FftPath), ConvError> {
        Ok((reference::conv(p)?, FftPath::Reference(why)))
    }
}

impl<T: FftElement> ConvEngine<T> for FftEngine {
    fn name(&self) -> &str {
        match (self.mutation, self.blocking) {
            (Mutation::None, Blocking::Whole) => "fft",
            (Mutation::None, Blocking::OverlapAdd) => "overlap-add",
            (Mutation::None, Blocking::Capped(_)) => "overlap-add-capped",
            #[cfg(feature = "fault-injection")]
            (Mutation::NoNormalisation, _) => "fft-no-normalisation",
            #[cfg(feature = "fault-injection")]
            (Mutation::ShortTransform, _) => "fft-short-transform",
            #[cfg(feature = "fault-injection")]
            (Mutation::CropOffByOne, _) => "fft-crop-off-by-one",
            #[cfg(feature = "fault-injection")]
            (Mutation::OverlapOverwrite, _) => "overlap-add-overwrite",
        }
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.run(p).map(|(y, _)| y)
    }
    /// Transforms of the planned lengths in double precision; overlap-add as its own normwise
    /// model; the reference path as direct summation.
    fn algorithm(&self, p: &Problem<'_, T>) -> super::Algorithm {
        match self.plan(p).map(|plan| plan.path) {
            Ok(path @ FftPath::Fft { .. }) if path.is_overlap_add() => self
                .normwise_model(p)
                .map_or(super::Algorithm::Direct, super::Algorithm::Model),
            Ok(FftPath::Fft { lengths, .. }) => {
                super::Algorithm::fft(TransformPrecision::Double, lengths)
            }
            _ => super::Algorithm::Direct,
        }
    }
}
