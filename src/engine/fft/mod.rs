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

use super::ConvEngine;
use super::cost::{CostModel, FftShape};
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::boundary::pad;
use crate::problem::geometry::{Geometry, product};
use crate::problem::{Boundary, Flip};
use crate::reference;
use crate::tolerance::U32;
use crate::tolerance::fft::{
    FftTerms, TransformPrecision, l1_upper, l1_upper_complex, l2_upper, mass, pow2,
};
use ndarray::{ArrayD, ArrayViewD, Axis, CowArray, IxDyn, Slice};
use num_complex::Complex;
use realfft::RealFftPlanner;
use rustfft::{Fft, FftPlanner};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

type C64 = Complex<f64>;

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

impl Mutation {
    /// Whether this is [`Mutation::NoNormalisation`] (never without the `fault-injection` feature).
    pub(crate) fn no_normalisation(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::NoNormalisation;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
    /// Whether this is [`Mutation::ShortTransform`] (never without the `fault-injection` feature).
    pub(crate) fn short_transform(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::ShortTransform;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
    /// Whether this is [`Mutation::CropOffByOne`] (never without the `fault-injection` feature).
    pub(crate) fn crop_off_by_one(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::CropOffByOne;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
    /// Whether this is [`Mutation::OverlapOverwrite`] (never without the `fault-injection` feature).
    pub(crate) fn overlap_overwrite(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::OverlapOverwrite;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
}

/// How the engine splits the signal along each spatial axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Blocking {
    /// One transform covering the whole signal on every axis.
    #[default]
    Whole,
    /// Overlap-add: on each axis, blocks of the transform length the cost model predicts to be
    /// fastest for the whole problem (an axis stays whole when that is fastest).
    OverlapAdd,
    /// Overlap-add with transform lengths of at most this many points per axis where possible
    /// (bounded memory; also how the tests force blocks on small problems). An axis whose
    /// kernel needs a longer transform uses the shortest one it can.
    Capped(usize),
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

/// The element types the FFT engine accepts: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`
/// and `i64` (sealed).
pub trait FftElement: sealed::Element {}
impl<T: sealed::Element> FftElement for T {}

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

    /// The predicted time of the transform path for a problem, in seconds of this machine
    /// ([`CostModel`]), or `None` when the problem takes the reference path.
    pub fn predicted_seconds<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<Option<f64>, ConvError> {
        let geo = p.validate_geometry()?;
        let Ok(axes) = self.layout(p, &geo) else {
            return Ok(None);
        };
        let ch = Channels {
            batch: p.input.shape()[0],
            c_in: p.input.shape()[1],
            c_out: p.weight.shape()[0],
            cg: p.weight.shape()[1],
            real: <T::W as Work>::REAL,
        };
        Ok(Some(predict(&axes, ch, &self.cost)))
    }

    /// The features of [`CostModel::fft_features`] for this problem with the transform
    /// lengths and blocks this engine would use (`None` when it takes the reference path for
    /// a reason visible in the geometry). For fitting the cost model.
    pub fn cost_features<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<Option<[f64; 4]>, ConvError> {
        let geo = p.validate_geometry()?;
        let Ok(axes) = self.layout(p, &geo) else {
            return Ok(None);
        };
        let ch = Channels {
            batch: p.input.shape()[0],
            c_in: p.input.shape()[1],
            c_out: p.weight.shape()[0],
            cg: p.weight.shape()[1],
            real: <T::W as Work>::REAL,
        };
        Ok(Some(CostModel::fft_features(&shape_of(&axes, ch))))
    }

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
    /// integers [`Fallback::IntegerRange`] or [`Fallback::IntegerBound`]). Errors are those of
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
}

// ------------------------------------------------------------------------------ element types

mod sealed {
    use super::C64;
    use crate::problem::ConvError;
    use crate::problem::Problem;
    use crate::scalar::Ring;
    use ndarray::ArrayD;
    use num_complex::Complex;
    use realfft::{ComplexToReal, RealToComplex};
    use rustfft::Fft;
    use std::sync::Arc;

    /// Buffers reused across calls (no page faults on repeated calls of one size).
    #[derive(Default)]
    pub struct Workspace {
        /// Scratch of the 1-D transforms.
        pub scratch: Vec<C64>,
        /// The second buffer of the transposing N-D transforms.
        pub tmp: Vec<C64>,
        /// Kernel spectra, `(O, C/G)` of them.
        pub kernels: Vec<C64>,
        /// Input spectra of one block, `C` of them.
        pub inputs: Vec<C64>,
        /// The accumulated spectrum of one output channel.
        pub acc: Vec<C64>,
        /// Real data: transform input, inverse output and output accumulator.
        pub real: [Vec<f64>; 3],
        /// Complex data: the same three.
        pub complex: [Vec<C64>; 3],
    }

    /// Plans for one set of per-axis lengths.
    pub struct Transforms {
        pub lengths: Vec<usize>,
        /// `lengths`, with the last replaced by `L/2 + 1` for real data.
        pub spectrum_shape: Vec<usize>,
        /// c2c plans of every axis but the last.
        pub axis_forward: Vec<Arc<dyn Fft<f64>>>,
        pub axis_inverse: Vec<Arc<dyn Fft<f64>>>,
        /// The last axis: c2c (complex data) or r2c / c2r (real data).
        pub row_forward: Option<Arc<dyn Fft<f64>>>,
        pub row_inverse: Option<Arc<dyn Fft<f64>>>,
        pub r2c: Option<Arc<dyn RealToComplex<f64>>>,
        pub c2r: Option<Arc<dyn ComplexToReal<f64>>>,
        pub scratch_len: usize,
    }

    /// The f64 domain the engine computes in: `f64` (realfft) or `Complex<f64>` (rustfft).
    pub trait Work: Copy + Default + Send + Sync + std::ops::AddAssign + 'static {
        /// Real data: r2c / c2r on the last axis.
        const REAL: bool;
        fn magnitude(self) -> f64;
        fn finite(self) -> bool;
        fn pow2(self, e: i32) -> Self;
        fn mul(self, f: f64) -> Self;
        /// Upper bound on the 2-norm of the values.
        fn l2(values: impl Iterator<Item = Self> + Clone) -> f64;
        /// Upper bound on the 1-norm of the values.
        fn l1(values: impl Iterator<Item = Self>) -> f64;
        /// The three data buffers of this type in the workspace.
        fn buffers(ws: &mut Workspace) -> &mut [Vec<Self>; 3];
        /// Transforms the last axis: rows of `data` (length `L`) into rows of `spec` (length
        /// `L/2 + 1` for real data). Rows for which `live(row)` is false are zero in `data`
        /// (and may hold garbage): their spectra are written as zeros.
        fn forward_rows(
            t: &Transforms,
            data: &mut [Self],
            spec: &mut [C64],
            live: &dyn Fn(usize) -> bool,
            scratch: &mut [C64],
        ) -> Result<(), ()>;
        /// The unnormalised inverse of [`Work::forward_rows`] (`spec` is destroyed).
        fn inverse_rows(
            t: &Transforms,
            spec: &mut [C64],
            out: &mut [Self],
            scratch: &mut [C64],
        ) -> Result<(), ()>;
    }

    /// An element type: how it maps to [`Work`] and back.
    pub trait Element: Ring + Copy {
        type W: Work;
        /// Exact integers: the bound must prove exact recovery.
        const INTEGER: bool;
        /// Unit roundoff of the final rounding from f64, if narrower.
        const OUTPUT_ROUNDOFF: Option<f64>;
        fn lift(self) -> Self::W;
        fn is_finite_value(self) -> bool;
        /// `|v|` for integers (exact), `None` otherwise.
        fn int_magnitude(self) -> Option<u128>;
        /// The result from the unbiased f64 value and the bias.
        fn finish(y: Self::W, bias: Option<Self>) -> Self;
        /// `|bias|` for the bound.
        fn abs(self) -> f64 {
            self.lift().magnitude()
        }
        /// The result when the transforms overflow ([`super::Fallback::NonFiniteResult`]):
        /// the reference for integers (never reached: they take the transforms only when the
        /// result is bounded), the correctly rounded result for floats, whose overflow is
        /// then decided by the exact sum rather than by a summation order.
        fn overflow_result(p: &Problem<'_, Self>) -> Result<ArrayD<Self>, ConvError> {
            crate::reference::conv(p)
        }
    }
    impl Element for f64 {
        fn overflow_result(p: &Problem<'_, Self>) -> Result<ArrayD<Self>, ConvError> {
            crate::engine::ConvEngine::conv(&crate::engine::exact::ExactEngine::new(), p)
        }
        type W = f64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = None;
        #[inline]
        fn lift(self) -> f64 {
            self
        }
        #[inline]
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        #[inline]
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        #[inline]
        fn finish(y: f64, bias: Option<f64>) -> f64 {
            bias.map_or(y, |b| y + b)
        }
    }

    impl Element for f32 {
        fn overflow_result(p: &Problem<'_, Self>) -> Result<ArrayD<Self>, ConvError> {
            crate::engine::ConvEngine::conv(&crate::engine::exact::ExactEngine::new(), p)
        }
        type W = f64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = Some(super::U32);
        #[inline]
        fn lift(self) -> f64 {
            f64::from(self)
        }
        #[inline]
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        #[inline]
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        #[inline]
        fn finish(y: f64, bias: Option<f32>) -> f32 {
            bias.map_or(y, |b| y + f64::from(b)) as f32
        }
    }

    impl Element for Complex<f64> {
        fn overflow_result(p: &Problem<'_, Self>) -> Result<ArrayD<Self>, ConvError> {
            crate::engine::ConvEngine::conv(&crate::engine::exact::ExactEngine::new(), p)
        }
        type W = C64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = None;
        #[inline]
        fn lift(self) -> C64 {
            self
        }
        #[inline]
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        #[inline]
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        #[inline]
        fn finish(y: C64, bias: Option<C64>) -> C64 {
            bias.map_or(y, |b| y + b)
        }
    }

    impl Element for Complex<f32> {
        fn overflow_result(p: &Problem<'_, Self>) -> Result<ArrayD<Self>, ConvError> {
            crate::engine::ConvEngine::conv(&crate::engine::exact::ExactEngine::new(), p)
        }
        type W = C64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = Some(super::U32);
        #[inline]
        fn lift(self) -> C64 {
            Complex::new(f64::from(self.re), f64::from(self.im))
        }
        #[inline]
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        #[inline]
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        #[inline]
        fn finish(y: C64, bias: Option<Complex<f32>>) -> Complex<f32> {
            let v = bias.map_or(y, |b| y + b.lift());
            Complex::new(v.re as f32, v.im as f32)
        }
    }

    impl Element for i64 {
        type W = f64;
        const INTEGER: bool = true;
        const OUTPUT_ROUNDOFF: Option<f64> = None;
        #[inline]
        fn lift(self) -> f64 {
            self as f64
        }
        #[inline]
        fn is_finite_value(self) -> bool {
            true
        }
        #[inline]
        fn int_magnitude(self) -> Option<u128> {
            Some(u128::from(self.unsigned_abs()))
        }
        #[inline]
        fn finish(y: f64, bias: Option<i64>) -> i64 {
            // Only reached when the bound proves |y - exact| < 0.5 and |exact| <= 2^53.
            let v = y.round() as i64;
            bias.map_or(v, |b| b.wrapping_add(v))
        }
    }
}

use sealed::{Transforms, Work, Workspace};

impl Work for f64 {
    const REAL: bool = true;
    #[inline]
    fn magnitude(self) -> f64 {
        self.abs()
    }
    #[inline]
    fn finite(self) -> bool {
        self.is_finite()
    }
    #[inline]
    fn pow2(self, e: i32) -> f64 {
        pow2(self, e)
    }
    #[inline]
    fn mul(self, f: f64) -> f64 {
        self * f
    }
    fn l2(values: impl Iterator<Item = f64> + Clone) -> f64 {
        l2_upper(values)
    }
    fn l1(values: impl Iterator<Item = f64>) -> f64 {
        l1_upper(values)
    }
    fn buffers(ws: &mut Workspace) -> &mut [Vec<f64>; 3] {
        &mut ws.real
    }
    fn forward_rows(
        t: &Transforms,
        data: &mut [f64],
        spec: &mut [C64],
        live: &dyn Fn(usize) -> bool,
        scratch: &mut [C64],
    ) -> Result<(), ()> {
        let (r2c, last) = match (&t.r2c, t.lengths.last()) {
            (Some(r2c), Some(&last)) => (r2c, last),
            _ => return Err(()),
        };
        let half = last / 2 + 1;
        for (row, (line, out)) in data.chunks_mut(last).zip(spec.chunks_mut(half)).enumerate() {
            if live(row) {
                r2c.process_with_scratch(line, out, scratch)
                    .map_err(|_| ())?;
            } else {
                out.fill(C64::default());
            }
        }
        Ok(())
    }
    fn inverse_rows(
        t: &Transforms,
        spec: &mut [C64],
        out: &mut [f64],
        scratch: &mut [C64],
    ) -> Result<(), ()> {
        let (c2r, last) = match (&t.c2r, t.lengths.last()) {
            (Some(c2r), Some(&last)) => (c2r, last),
            _ => return Err(()),
        };
        let half = last / 2 + 1;
        for (line, o) in spec.chunks_mut(half).zip(out.chunks_mut(last)) {
            // The exact result is real: drop the rounding noise in the imaginary parts that
            // c2r cannot use (realfft would otherwise report them as an error).
            line[0].im = 0.0;
            if last % 2 == 0 {
                line[half - 1].im = 0.0;
            }
            c2r.process_with_scratch(line, o, scratch).map_err(|_| ())?;
        }
        Ok(())
    }
}

impl Work for C64 {
    const REAL: bool = false;
    #[inline]
    fn magnitude(self) -> f64 {
        self.re.hypot(self.im)
    }
    #[inline]
    fn finite(self) -> bool {
        self.is_finite()
    }
    #[inline]
    fn pow2(self, e: i32) -> C64 {
        Complex::new(pow2(self.re, e), pow2(self.im, e))
    }
    #[inline]
    fn mul(self, f: f64) -> C64 {
        Complex::new(self.re * f, self.im * f)
    }
    fn l2(values: impl Iterator<Item = C64> + Clone) -> f64 {
        l2_upper(values.flat_map(|z| [z.re, z.im]))
    }
    fn l1(values: impl Iterator<Item = C64>) -> f64 {
        l1_upper_complex(values)
    }
    fn buffers(ws: &mut Workspace) -> &mut [Vec<C64>; 3] {
        &mut ws.complex
    }
    fn forward_rows(
        t: &Transforms,
        data: &mut [C64],
        spec: &mut [C64],
        live: &dyn Fn(usize) -> bool,
        scratch: &mut [C64],
    ) -> Result<(), ()> {
        let (Some(fft), Some(&last)) = (&t.row_forward, t.lengths.last()) else {
            return Err(());
        };
        for (row, (line, out)) in data.chunks(last).zip(spec.chunks_mut(last)).enumerate() {
            if live(row) {
                out.copy_from_slice(line);
                fft.process_with_scratch(out, scratch);
            } else {
                out.fill(C64::default());
            }
        }
        Ok(())
    }
    fn inverse_rows(
        t: &Transforms,
        spec: &mut [C64],
        out: &mut [C64],
        scratch: &mut [C64],
    ) -> Result<(), ()> {
        let Some(fft) = &t.row_inverse else {
            return Err(());
        };
        fft.process_with_scratch(spec, scratch);
        out.copy_from_slice(spec);
        Ok(())
    }
}

// ------------------------------------------------------------------------------ transforms
//
// An N-D transform is a sequence of 1-D passes over contiguous rows: the last axis first (r2c
// for real data), then the array is transposed so that the next axis is last ("rotating" the
// axis order right by one), and so on: `rank - 1` blocked transposes per transform. The
// spectrum is left in the rotated order `(1, 2, ..., rank - 1, 0)`; products of spectra are
// per bin, so the order does not matter, and the inverse undoes the rotations.

impl Transforms {
    fn new(state: &mut State, lengths: &[usize], real: bool) -> Self {
        let rank = lengths.len();
        let mut spectrum_shape = lengths.to_vec();
        let last = lengths[rank - 1];
        if real {
            spectrum_shape[rank - 1] = last / 2 + 1;
        }
        let axis_forward: Vec<_> = lengths[..rank - 1]
            .iter()
            .map(|&n| state.complex.plan_fft_forward(n))
            .collect();
        let axis_inverse: Vec<_> = lengths[..rank - 1]
            .iter()
            .map(|&n| state.complex.plan_fft_inverse(n))
            .collect();
        let (row_forward, row_inverse, r2c, c2r) = if real {
            (
                None,
                None,
                Some(state.real.plan_fft_forward(last)),
                Some(state.real.plan_fft_inverse(last)),
            )
        } else {
            (
                Some(state.complex.plan_fft_forward(last)),
                Some(state.complex.plan_fft_inverse(last)),
                None,
                None,
            )
        };
        let scratch_len = axis_forward
            .iter()
            .chain(&axis_inverse)
            .chain(&row_forward)
            .chain(&row_inverse)
            .map(|f| f.get_inplace_scratch_len())
            .chain(r2c.iter().map(|f| f.get_scratch_len()))
            .chain(c2r.iter().map(|f| f.get_scratch_len()))
            .max()
            .unwrap_or(0);
        Transforms {
            lengths: lengths.to_vec(),
            spectrum_shape,
            axis_forward,
            axis_inverse,
            row_forward,
            row_inverse,
            r2c,
            c2r,
            scratch_len,
        }
    }

    /// Forward N-D transform of `data` (row-major, `lengths`; destroyed) into `dest` (the
    /// spectrum in rotated order). `live[a]`: on axis `a`, indices `>= live[a]` hold zeros.
    fn forward<W: Work>(
        &self,
        data: &mut [W],
        live: &[usize],
        dest: &mut [C64],
        tmp: &mut Vec<C64>,
        scratch: &mut [C64],
    ) -> Result<(), ()> {
        let rank = self.lengths.len();
        if rank == 1 {
            // One row, live (every block and kernel has at least one sample): no transposes.
            return W::forward_rows(self, data, dest, &|_| true, scratch);
        }
        let total = dest.len();
        tmp.resize(total, C64::default());
        let mut shape = self.spectrum_shape.clone();
        let mut live = live.to_vec();
        let mut order: Vec<usize> = (0..rank).collect();
        // Start in the buffer that the last of the `rank - 1` transposes lands in `dest`.
        let (mut cur, mut other): (&mut [C64], &mut [C64]) = if (rank - 1).is_multiple_of(2) {
            (dest, &mut tmp[..total])
        } else {
            (&mut tmp[..total], dest)
        };
        {
            let outer = &shape[..rank - 1];
            let live_outer = &live[..rank - 1];
            W::forward_rows(
                self,
                data,
                cur,
                &|row| row_is_live(row, outer, live_outer),
                scratch,
            )?;
        }
        live[rank - 1] = shape[rank - 1];
        for _ in 1..rank {
            let cols = shape[rank - 1];
            transpose(cur, other, total / cols, cols);
            std::mem::swap(&mut cur, &mut other);
            shape.rotate_right(1);
            live.rotate_right(1);
            order.rotate_right(1);
            let fft = self.axis_forward[order[rank - 1]].as_ref();
            c2c_rows(fft, cur, &shape, &live, scratch);
            live[rank - 1] = shape[rank - 1];
        }
        Ok(())
    }

    /// The unnormalised inverse of [`Transforms::forward`]: `spec` (rotated order; destroyed)
    /// into `out` (row-major, `lengths`).
    fn inverse<W: Work>(
        &self,
        spec: &mut [C64],
        out: &mut [W],
        tmp: &mut Vec<C64>,
        scratch: &mut [C64],
    ) -> Result<(), ()> {
        let rank = self.lengths.len();
        if rank == 1 {
            return W::inverse_rows(self, spec, out, scratch);
        }
        let total = spec.len();
        tmp.resize(total, C64::default());
        let mut shape = self.spectrum_shape.clone();
        let mut order: Vec<usize> = (0..rank).collect();
        shape.rotate_right(rank - 1);
        order.rotate_right(rank - 1);
        let (mut cur, mut other): (&mut [C64], &mut [C64]) = (spec, &mut tmp[..total]);
        loop {
            let axis = order[rank - 1];
            if axis == rank - 1 {
                return W::inverse_rows(self, cur, out, scratch);
            }
            c2c_rows(
                self.axis_inverse[axis].as_ref(),
                cur,
                &shape,
                &shape,
                scratch,
            );
            let rows = shape[0];
            transpose(cur, other, rows, total / rows);
            std::mem::swap(&mut cur, &mut other);
            shape.rotate_left(1);
            order.rotate_left(1);
        }
    }
}

/// Whether row `row` (row-major over `outer`) lies inside the live extents.
fn row_is_live(row: usize, outer: &[usize], live: &[usize]) -> bool {
    let mut r = row;
    for (&n, &l) in outer.iter().zip(live).rev() {
        if r % n >= l {
            return false;
        }
        r /= n;
    }
    true
}

/// Applies `fft` to every row of `buf` (shape `shape`, rows along the last axis) that lies
/// inside the live extents of the other axes (the other rows are zero).
fn c2c_rows(
    fft: &dyn Fft<f64>,
    buf: &mut [C64],
    shape: &[usize],
    live: &[usize],
    scratch: &mut [C64],
) {
    let (&len, outer) = match shape.split_last() {
        Some(s) => s,
        None => return,
    };
    if len <= 1 {
        return;
    }
    let live_outer = &live[..outer.len()];
    if outer.iter().zip(live_outer).all(|(n, l)| l >= n) {
        fft.process_with_scratch(buf, scratch);
        return;
    }
    for (row, line) in buf.chunks_mut(len).enumerate() {
        if row_is_live(row, outer, live_outer) {
            fft.process_with_scratch(line, scratch);
        }
    }
}

/// `dst = src^T` for a row-major `rows x cols` matrix `src`, in cache-sized tiles.
fn transpose(src: &[C64], dst: &mut [C64], rows: usize, cols: usize) {
    const TILE: usize = 16;
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for r in r0..r1 {
                let line = &src[r * cols + c0..r * cols + c1];
                for (c, &v) in (c0..c1).zip(line) {
                    dst[c * rows + r] = v;
                }
            }
        }
    }
}

/// The smallest `2^a 3^b >= n`: the transform lengths the engine uses (docs/numerics.md
/// section 11 gives the measurement behind the choice). `usize::MAX` if there is none in
/// `usize`.
pub fn fast_len(n: usize) -> usize {
    let mut best = usize::MAX;
    let mut p2 = 1usize;
    loop {
        let mut v = p2;
        while v < n {
            match v.checked_mul(3) {
                Some(x) => v = x,
                None => break,
            }
        }
        if v >= n {
            best = best.min(v);
        }
        match p2.checked_mul(2) {
            Some(x) if p2 < n => p2 = x,
            _ => break,
        }
    }
    best
}

/// The transform length for `n` on an axis: [`fast_len`], even on the last axis of real data.
fn axis_len(n: usize, real_last: bool) -> Option<usize> {
    let len = if real_last {
        fast_len(n.div_ceil(2).max(1)).checked_mul(2)?
    } else {
        fast_len(n.max(1))
    };
    (len != usize::MAX).then_some(len)
}

// ------------------------------------------------------------------------------ preparation

/// One spatial axis of the FFT computation.
#[derive(Clone, Copy, Debug)]
struct AxisPlan {
    /// Length of the signal (padded input for non-zero boundaries, input for zeros).
    signal: usize,
    /// Kernel taps and dilation.
    kernel: usize,
    dilation: usize,
    stride: usize,
    /// Leading zero pad not materialised (zero boundary), else 0.
    shift: usize,
    /// Output length.
    out: usize,
    /// Outputs `first..=last` read the linear convolution inside its support; the others
    /// read only zeros. `first > last`: none does.
    first: usize,
    last: usize,
    /// Transform length.
    len: usize,
    /// Signal samples per block: `signal` when the axis is transformed whole.
    block: usize,
}

/// The outputs one block writes on one axis: outputs `p0 .. p0 + count` read elements
/// `z0, z0 + stride, ...` of the block's inverse transform.
#[derive(Clone, Copy, Debug)]
struct Window {
    p0: usize,
    count: usize,
    z0: usize,
}

impl AxisPlan {
    fn extent(&self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }

    fn blocks(&self) -> usize {
        self.signal.div_ceil(self.block)
    }

    /// Most blocks whose windows cover one output (`k_a` of docs/numerics.md section 10.8).
    fn overlap(&self) -> usize {
        if self.blocks() == 1 {
            1
        } else {
            (self.block + self.extent() - 2) / self.block + 1
        }
    }

    /// The outputs block `b` contributes to. Output `p` reads element
    /// `p * stride + extent - 1 - shift` of the linear convolution; block `b` (samples
    /// `start .. start + n`) covers elements `start ..= start + n + extent - 2` of it.
    fn window(&self, b: usize, mutation: Mutation) -> Option<Window> {
        let (e, sh, st) = (
            self.extent() as i128,
            self.shift as i128,
            self.stride as i128,
        );
        let start = (b * self.block) as i128;
        let n = (self.block.min(self.signal - b * self.block)) as i128;
        let p_lo = (start - (e - 1) + sh).max(0);
        let p_lo = ((p_lo + st - 1) / st).max(self.first as i128);
        let p_hi = ((start + n - 1 + sh) / st).min(self.last as i128);
        if p_lo > p_hi {
            return None;
        }
        let mut z0 = p_lo * st + e - 1 - sh - start;
        if mutation.crop_off_by_one() {
            z0 += 1;
        }
        Some(Window {
            p0: usize::try_from(p_lo).ok()?,
            count: usize::try_from(p_hi - p_lo + 1).ok()?,
            z0: usize::try_from(z0).ok()?,
        })
    }
}

/// The plan of one axis, transformed whole, or `None` when its transform length would exceed
/// `max_len` (then the engine uses the reference). All length arithmetic is done in `i128`:
/// absurd dilations and pads pass validation and must not overflow here.
fn axis_plan(
    geo: &crate::problem::geometry::AxisGeometry,
    zero_boundary: bool,
    real_last: bool,
    mutation: Mutation,
    max_len: u128,
) -> Option<AxisPlan> {
    let (signal, shift) = if zero_boundary {
        (geo.input, geo.pad_lo)
    } else {
        // Cannot overflow: the geometry computed this padded length.
        (geo.input + geo.pad_lo + geo.pad_hi, 0)
    };
    let extent = geo.effective_kernel();
    let mut a = AxisPlan {
        signal,
        kernel: geo.kernel,
        dilation: geo.dilation,
        stride: geo.stride,
        shift,
        out: geo.output,
        first: 0,
        last: 0,
        len: 1,
        block: signal,
    };
    let (s, e, sh, st) = (
        signal as i128,
        extent as i128,
        shift as i128,
        geo.stride as i128,
    );
    // Support of the linear convolution: 0 ..= signal + extent - 2. Output p reads
    // p * stride + extent - 1 - shift.
    let top = s + e - 2;
    let first = if sh > e - 1 {
        (sh - (e - 1) + st - 1) / st
    } else {
        0
    };
    let last = ((s - 1 + sh) / st).min(geo.output as i128 - 1);
    if first > last {
        a.first = 1;
        a.last = 0;
        return Some(a);
    }
    a.first = usize::try_from(first).ok()?;
    a.last = usize::try_from(last).ok()?;
    let read = |p: usize| (p as i128) * st + e - 1 - sh;
    let (lo, hi) = (read(a.first), read(a.last));
    // No alias of a read index may fall inside the support: L > hi and L > top - lo; and
    // signal and (dilated) kernel must fit, so that they are placed without aliasing.
    let needed = if mutation.short_transform() {
        s.max(e)
    } else {
        (hi + 1).max(top + 1 - lo).max(e).max(s)
    };
    if needed as u128 > max_len {
        return None;
    }
    a.len = axis_len(usize::try_from(needed).ok()?, real_last)?;
    Some(a)
}

/// Candidate blockings of one axis for overlap-add: the whole axis, and transform lengths
/// `2^a` and `3 * 2^a` from twice the kernel extent up to the whole-axis length.
fn block_candidates(a: &AxisPlan, real_last: bool) -> Vec<AxisPlan> {
    let mut out = vec![*a];
    if a.first > a.last {
        return out;
    }
    let e = a.extent();
    let mut len = 4usize;
    while len < a.len {
        for l in [len, len / 2 * 3] {
            if l >= 2 * e && l < a.len && (!real_last || l % 2 == 0) {
                let block = l - e + 1;
                if block < a.signal {
                    out.push(AxisPlan {
                        len: l,
                        block,
                        ..*a
                    });
                }
            }
        }
        len = match len.checked_mul(2) {
            Some(l) => l,
            None => break,
        };
    }
    out
}

enum Prep<'a, T: FftElement> {
    Reference(Fallback),
    Ready(Box<Prepared<'a, T>>),
}

/// A checked problem with its axis plans and scaling.
struct Prepared<'a, T: FftElement> {
    axes: Vec<AxisPlan>,
    /// `(N, C, signal...)`: the input, padded by its boundary mode unless that is zero.
    signal: CowArray<'a, T, IxDyn>,
    /// `(O, C/G, kernel...)`, standard layout.
    weight: CowArray<'a, T, IxDyn>,
    /// Data is scaled by `2^-ex` (input) and `2^-ew` (weight); results by `2^(ex + ew)`.
    ex: i32,
    ew: i32,
    groups: usize,
    flip: Flip,
    mutation: Mutation,
    /// Per block `(n, o)`: the mass `sum_c ||x_c||_2 ||w_c||_1` in original units (NaN unless
    /// requested).
    masses: ndarray::Array2<f64>,
    /// `max|x| * max|w|` in original units.
    data_scale: f64,
    /// `max(1, S max|x|, K max|w|)`, with `S` and `K` the signal and kernel elements per
    /// channel: an upper bound on the underflow gain of a single-precision transform
    /// ([`FftTerms::underflow_gain`]).
    underflow_gain: f64,
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
    /// The axis plans (transform lengths and blocks) of a validated problem: geometry only,
    /// no data is read.
    fn layout<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
        geo: &Geometry,
    ) -> Result<Vec<AxisPlan>, Fallback> {
        let mutation = self.mutation;
        let rank = geo.axes.len();
        if rank == 0 {
            return Err(Fallback::NoSpatialAxes);
        }
        let zero_boundary = is_zero_boundary(&p.spec.boundary);
        let real = <T::W as Work>::REAL;
        let max_len = p.spec.limits.max_elements;
        let axes: Option<Vec<AxisPlan>> = geo
            .axes
            .iter()
            .enumerate()
            .map(|(i, g)| axis_plan(g, zero_boundary, real && i + 1 == rank, mutation, max_len))
            .collect();
        let Some(mut axes) = axes else {
            return Err(Fallback::Memory);
        };
        let (batch, c_in) = (p.input.shape()[0], p.input.shape()[1]);
        let (c_out, cg) = (p.weight.shape()[0], p.weight.shape()[1]);
        if self.blocking != Blocking::Whole {
            let shape = Channels {
                batch,
                c_in,
                c_out,
                cg,
                real,
            };
            let cap = match self.blocking {
                Blocking::Capped(cap) => cap,
                _ => usize::MAX,
            };
            axes = choose_blocks(&axes, shape, &self.cost, cap);
        }
        // Memory: the kernel and input spectra, two work buffers and the data buffers.
        let spectrum = product(axes.iter().enumerate().map(|(i, a)| {
            if real && i + 1 == rank {
                a.len / 2 + 1
            } else {
                a.len
            }
        }));
        let full = product(axes.iter().map(|a| a.len));
        let outputs = product(axes.iter().map(|a| a.out));
        let needed = spectrum
            .and_then(|s| s.checked_mul((c_out * cg + c_in + 4) as u128))
            .zip(full.and_then(|f| f.checked_mul(2)))
            .zip(outputs.and_then(|o| o.checked_mul(c_out as u128)))
            .map(|((a, b), c)| a.max(b).max(c));
        match needed {
            Some(n) if n <= p.spec.limits.max_elements => {}
            _ => return Err(Fallback::Memory),
        }
        Ok(axes)
    }

    /// Converts, checks and plans a problem. `bounds`: compute the per-block masses (always
    /// for integers, whose path depends on them).
    fn prepare<'a, T: FftElement>(
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
fn is_zero_boundary<T: FftElement>(b: &Boundary<T>) -> bool {
    match b {
        Boundary::Zeros => true,
        Boundary::Constant(c) => c.lift().magnitude() == 0.0,
        _ => false,
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

/// Batch and channel counts, for the cost model.
#[derive(Clone, Copy, Debug)]
struct Channels {
    batch: usize,
    c_in: usize,
    c_out: usize,
    cg: usize,
    real: bool,
}

/// Overlap-add: the combination of per-axis blockings with the least predicted time.
/// `cap`: keep only candidates whose transform length is at most `cap` (the shortest one
/// when there is none).
fn choose_blocks(axes: &[AxisPlan], ch: Channels, cost: &CostModel, cap: usize) -> Vec<AxisPlan> {
    let rank = axes.len();
    let candidates: Vec<Vec<AxisPlan>> = axes
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let all = block_candidates(a, ch.real && i + 1 == rank);
            let within: Vec<AxisPlan> = all.iter().copied().filter(|c| c.len <= cap).collect();
            if within.is_empty() {
                all.into_iter().min_by_key(|c| c.len).into_iter().collect()
            } else {
                within
            }
        })
        .collect();
    let mut best: Vec<AxisPlan> = candidates.iter().map(|c| c[0]).collect();
    let mut best_cost = predict(&best, ch, cost);
    let mut idx = vec![0usize; rank];
    // At most a few dozen candidates per axis; bound the search for high ranks.
    let combos: usize = candidates.iter().map(|c| c.len()).product();
    if combos > 100_000 {
        return best;
    }
    loop {
        let pick: Vec<AxisPlan> = idx.iter().zip(&candidates).map(|(&i, c)| c[i]).collect();
        let t = predict(&pick, ch, cost);
        if t < best_cost {
            best_cost = t;
            best = pick;
        }
        let mut a = rank;
        loop {
            if a == 0 {
                return best;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < candidates[a].len() {
                break;
            }
            idx[a] = 0;
        }
    }
}

/// The cost model's prediction (seconds) for transforms with these axis plans.
fn predict(axes: &[AxisPlan], ch: Channels, cost: &CostModel) -> f64 {
    cost.fft_seconds(&shape_of(axes, ch))
}

fn shape_of(axes: &[AxisPlan], ch: Channels) -> FftShape {
    FftShape {
        lengths: axes.iter().map(|a| a.len).collect(),
        real: ch.real,
        blocks: axes.iter().map(|a| a.blocks() as f64).product(),
        batch: ch.batch,
        c_in: ch.c_in,
        c_out: ch.c_out,
        cg: ch.cg,
        outputs: axes.iter().map(|a| a.out as f64).product(),
    }
}

impl<T: FftElement> Prepared<'_, T> {
    fn path(&self) -> FftPath {
        FftPath::Fft {
            real: <T::W as Work>::REAL,
            lengths: self.axes.iter().map(|a| a.len).collect(),
            block: self.axes.iter().map(|a| a.block).collect(),
            blocks: self.axes.iter().map(|a| a.blocks()).collect(),
        }
    }

    fn block_bounds(
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

    /// The whole computation: `(N, O, out...)` row-major, bias added, in `T`.
    fn convolve(
        &self,
        t: &Transforms,
        bias: Option<&ndarray::ArrayView1<'_, T>>,
        ws: &mut Workspace,
    ) -> Result<Vec<T>, Fallback> {
        let mut bufs = std::mem::take(T::W::buffers(ws));
        let result = self.convolve_with(t, bias, ws, &mut bufs);
        *T::W::buffers(ws) = bufs;
        result
    }

    fn convolve_with(
        &self,
        t: &Transforms,
        bias: Option<&ndarray::ArrayView1<'_, T>>,
        ws: &mut Workspace,
        bufs: &mut [Vec<T::W>; 3],
    ) -> Result<Vec<T>, Fallback> {
        let rank = self.axes.len();
        let lengths: Vec<usize> = self.axes.iter().map(|a| a.len).collect();
        let full: usize = lengths.iter().product();
        let spec_len: usize = t.spectrum_shape.iter().product();
        let (batch, c_in) = (self.signal.shape()[0], self.signal.shape()[1]);
        let (c_out, cg) = (self.weight.shape()[0], self.weight.shape()[1]);
        let og = c_out / self.groups;
        let block: usize = self.axes.iter().map(|a| a.out).product();
        let mut out: Vec<T> = Vec::with_capacity(batch * c_out * block);
        let bias_of = |o: usize| bias.map(|b| b[o]);
        let finish_zero = |out: &mut Vec<T>| {
            for _ in 0..batch {
                for o in 0..c_out {
                    let v = T::finish(T::W::default(), bias_of(o));
                    out.extend(std::iter::repeat_n(v, block));
                }
            }
        };
        if self.axes.iter().any(|a| a.first > a.last) {
            // Every output reads only zeros.
            finish_zero(&mut out);
            return Ok(out);
        }
        let [data, z, acc_out] = bufs;
        data.resize(full, T::W::default());
        z.resize(full, T::W::default());
        acc_out.resize(c_out * block, T::W::default());
        ws.scratch.resize(t.scratch_len, C64::default());
        ws.kernels.resize(c_out * cg * spec_len, C64::default());
        ws.inputs.resize(c_in * spec_len, C64::default());
        ws.acc.resize(spec_len, C64::default());
        let Workspace {
            scratch,
            tmp,
            kernels,
            inputs,
            acc,
            ..
        } = ws;
        // Row-major strides of the transform array.
        let mut strides = vec![1usize; rank];
        for a in (0..rank - 1).rev() {
            strides[a] = strides[a + 1] * lengths[a + 1];
        }
        // Kernel spectra, (O, C/G) of them: taps dilated, reversed for correlation.
        let fw = factor(-self.ew);
        let extents: Vec<usize> = self.axes.iter().map(|a| a.extent()).collect();
        for o in 0..c_out {
            for c in 0..cg {
                let w = self
                    .weight
                    .index_axis(Axis(0), o)
                    .index_axis_move(Axis(0), c);
                fill_live(data, &lengths, &extents);
                for (k, &v) in w.indexed_iter() {
                    let mut flat = 0;
                    for (axis, ap) in self.axes.iter().enumerate() {
                        let tap = match self.flip {
                            Flip::Correlation => ap.kernel - 1 - k[axis],
                            Flip::Convolution => k[axis],
                        };
                        flat += tap * ap.dilation * strides[axis];
                    }
                    data[flat] = scale(v.lift(), -self.ew, fw);
                }
                let spec = &mut kernels[(o * cg + c) * spec_len..][..spec_len];
                t.forward(data, &extents, spec, tmp, scratch)
                    .map_err(|()| Fallback::Transform)?;
            }
        }
        // Multiplying by the rounded reciprocal of N: two roundings (tolerance::fft, step 6).
        let recip = if self.mutation.no_normalisation() {
            1.0
        } else {
            1.0 / full as f64
        };
        let fx = factor(-self.ex);
        let back = factor(self.ex + self.ew);
        let blocks: Vec<usize> = self.axes.iter().map(|a| a.blocks()).collect();
        let out_shape: Vec<usize> = self.axes.iter().map(|a| a.out).collect();
        for n in 0..batch {
            acc_out.fill(T::W::default());
            let mut bidx = vec![0usize; rank];
            loop {
                let windows: Option<Vec<Window>> = self
                    .axes
                    .iter()
                    .zip(&bidx)
                    .map(|(a, &b)| a.window(b, self.mutation))
                    .collect();
                if let Some(windows) = windows {
                    let starts: Vec<usize> = self
                        .axes
                        .iter()
                        .zip(&bidx)
                        .map(|(a, &b)| b * a.block)
                        .collect();
                    let sizes: Vec<usize> = self
                        .axes
                        .iter()
                        .zip(&starts)
                        .map(|(a, &s)| a.block.min(a.signal - s))
                        .collect();
                    for c in 0..c_in {
                        let x = self
                            .signal
                            .index_axis(Axis(0), n)
                            .index_axis_move(Axis(0), c);
                        let region = x.slice_each_axis(|ax| {
                            let i = ax.axis.0;
                            Slice::from(starts[i]..starts[i] + sizes[i])
                        });
                        place(data, &lengths, &sizes, region, |v| {
                            scale(v.lift(), -self.ex, fx)
                        });
                        let spec = &mut inputs[c * spec_len..][..spec_len];
                        t.forward(data, &sizes, spec, tmp, scratch)
                            .map_err(|()| Fallback::Transform)?;
                    }
                    for o in 0..c_out {
                        let g = o / og;
                        for c in 0..cg {
                            let x = &inputs[(g * cg + c) * spec_len..][..spec_len];
                            let w = &kernels[(o * cg + c) * spec_len..][..spec_len];
                            if c == 0 {
                                for ((a, xv), wv) in acc.iter_mut().zip(x).zip(w) {
                                    *a = xv * wv;
                                }
                            } else {
                                for ((a, xv), wv) in acc.iter_mut().zip(x).zip(w) {
                                    *a += xv * wv;
                                }
                            }
                        }
                        t.inverse(acc, z, tmp, scratch)
                            .map_err(|()| Fallback::Transform)?;
                        let dst = &mut acc_out[o * block..][..block];
                        if self.mutation.overlap_overwrite() {
                            dst.fill(T::W::default());
                        }
                        add_windows(&windows, &self.axes, &strides, &out_shape, z, dst, recip);
                    }
                }
                // Next block: odometer over the per-axis block counts.
                let mut a = rank;
                loop {
                    if a == 0 {
                        break;
                    }
                    a -= 1;
                    bidx[a] += 1;
                    if bidx[a] < blocks[a] {
                        break;
                    }
                    bidx[a] = 0;
                }
                if bidx.iter().all(|&b| b == 0) {
                    break;
                }
            }
            match back {
                Some(f) => acc_out.iter_mut().for_each(|v| *v = v.mul(f)),
                None => acc_out
                    .iter_mut()
                    .for_each(|v| *v = v.pow2(self.ex + self.ew)),
            }
            for o in 0..c_out {
                let b = bias_of(o);
                let mut finite = true;
                out.extend(acc_out[o * block..][..block].iter().map(|&v| {
                    let y = T::finish(v, b);
                    finite &= y.is_finite_value();
                    y
                }));
                if !finite {
                    return Err(Fallback::NonFiniteResult);
                }
            }
        }
        Ok(out)
    }
}

/// Zeroes the live region `[0, live_a)` of every axis of `data` (row-major, `lengths`): the
/// region a forward transform reads. Rows outside it are skipped by the transform.
fn fill_live<W: Work>(data: &mut [W], lengths: &[usize], live: &[usize]) {
    let rank = lengths.len();
    let last = lengths[rank - 1];
    let outer = &lengths[..rank - 1];
    for (row, line) in data.chunks_mut(last).enumerate() {
        if row_is_live(row, outer, &live[..rank - 1]) {
            line.fill(W::default());
        }
    }
}

/// Writes `region` (mapped by `f`) at the origin of `data` (row-major, `lengths`), zeroing
/// the rest of every live row; `sizes` is the region's shape.
fn place<T: Copy, W: Work>(
    data: &mut [W],
    lengths: &[usize],
    sizes: &[usize],
    region: ArrayViewD<'_, T>,
    f: impl Fn(T) -> W,
) {
    let rank = lengths.len();
    let last = lengths[rank - 1];
    let outer = &lengths[..rank - 1];
    let mut rows = region.rows().into_iter();
    for (row, line) in data.chunks_mut(last).enumerate() {
        if !row_is_live(row, outer, &sizes[..rank - 1]) {
            continue;
        }
        let (head, tail) = line.split_at_mut(sizes[rank - 1]);
        match rows.next() {
            Some(src) => match src.as_slice() {
                Some(src) => {
                    for (d, &s) in head.iter_mut().zip(src) {
                        *d = f(s);
                    }
                }
                None => {
                    for (d, &s) in head.iter_mut().zip(src.iter()) {
                        *d = f(s);
                    }
                }
            },
            None => head.fill(W::default()),
        }
        tail.fill(W::default());
    }
}

/// Adds `z * recip` at the positions the windows select into one output block `dst`
/// (row-major, `out_shape`); `strides` are the strides of `z`.
fn add_windows<W: Work>(
    windows: &[Window],
    axes: &[AxisPlan],
    strides: &[usize],
    out_shape: &[usize],
    z: &[W],
    dst: &mut [W],
    recip: f64,
) {
    let rank = windows.len();
    let (inner, outer) = windows.split_last().unwrap_or((&windows[0], &[]));
    let last = &axes[rank - 1];
    // Index of element i of axis a's window in z (modulo the length: only the deliberately
    // wrong engines read past the end).
    let zi = |a: usize, i: usize| (windows[a].z0 + i * axes[a].stride) % axes[a].len;
    let contiguous = inner.z0 + (inner.count - 1) * last.stride < last.len;
    let mut idx = vec![0usize; outer.len()];
    loop {
        let mut zb = 0;
        let mut ob = 0;
        for (a, &i) in idx.iter().enumerate() {
            zb += zi(a, i) * strides[a];
            ob = ob * out_shape[a] + windows[a].p0 + i;
        }
        let ob = ob * out_shape[rank - 1] + inner.p0;
        let row = &mut dst[ob..ob + inner.count];
        if contiguous && last.stride == 1 {
            let src = &z[zb + inner.z0..zb + inner.z0 + inner.count];
            for (d, &s) in row.iter_mut().zip(src) {
                *d += s.mul(recip);
            }
        } else {
            for (i, d) in row.iter_mut().enumerate() {
                *d += z[zb + zi(rank - 1, i)].mul(recip);
            }
        }
        let mut a = outer.len();
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < outer[a].count {
                break;
            }
            idx[a] = 0;
        }
    }
}

/// `2^e` when a single exact multiplication can apply it to normal numbers.
fn factor(e: i32) -> Option<f64> {
    (-1000..=1000).contains(&e).then(|| 2f64.powi(e))
}

/// `v * 2^e` (exact unless the result overflows or is subnormal).
fn scale<W: Work>(v: W, e: i32, f: Option<f64>) -> W {
    match f {
        Some(f) => v.mul(f),
        None => v.pow2(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{ConvSpec, Padding};
    use ndarray::array;

    #[test]
    fn fast_lengths() {
        let got: Vec<usize> = (1..=20).map(fast_len).collect();
        assert_eq!(
            got,
            [
                1, 2, 3, 4, 6, 6, 8, 8, 9, 12, 12, 12, 16, 16, 16, 16, 18, 18, 24, 24
            ]
        );
        assert_eq!(axis_len(5, true), Some(6));
        assert_eq!(axis_len(1, true), Some(2));
        assert_eq!(axis_len(usize::MAX - 1, true), None);
        assert_eq!(axis_len(usize::MAX, false), None);
        assert_eq!(fast_len(1 << 20), 1 << 20);
    }

    #[test]
    fn hand_computed() {
        // Same case as the reference's hand test.
        let engine = FftEngine::new();
        let x = array![[[1i64, 2, 3, 4]]].into_dyn();
        let w = array![[[1i64, 10, 100]]].into_dyn();
        let (y, path) = engine
            .conv_with_path(&Problem::new(x.view(), w.view()))
            .unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![321, 432]);
        assert!(matches!(path, FftPath::Fft { .. }));
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .boundary(Boundary::Reflect)
            .stride([2]);
        let y = engine
            .conv(&Problem::new(x.view(), w.view()).spec(spec))
            .unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![212, 432]);
        let xf = x.mapv(|v| v as f64);
        let wf = w.mapv(|v| v as f64);
        let spec = ConvSpec::new()
            .flip(Flip::Convolution)
            .padding(Padding::Full);
        let y = engine
            .conv(&Problem::new(xf.view(), wf.view()).spec(spec))
            .unwrap();
        let want = [1.0, 12.0, 123.0, 234.0, 340.0, 400.0];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{y:?}");
        }
    }
}
