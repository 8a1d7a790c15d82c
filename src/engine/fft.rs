//! The FFT engine: convolution through the convolution theorem, with rustfft and realfft.
//!
//! For every sample `n` and output channel `o`, the engine computes
//! `y[n, o] = bias[o] + sum_c IFFT(FFT(x[n, c]) .* FFT(g[o, c])) / N`, cropped and subsampled,
//! where `g[o, c]` is the kernel `w[o, c]` laid out for a linear convolution: zero-stuffed for
//! dilation and reversed on every axis for cross-correlation (the kernel is used as given:
//! correlation does not conjugate, like [`crate::reference::conv`]). Each input channel and
//! each kernel is transformed once per call; products are accumulated in the frequency
//! domain, so one inverse transform serves each output channel.
//!
//! - **Boundary modes**: a non-zero boundary is applied first with [`crate::boundary::pad`];
//!   the padded input is then convolved in "valid" fashion. Zero padding is never
//!   materialised: the zero pads become an index shift.
//! - **Transform lengths**: per axis, the smallest 3-smooth length (`2^a 3^b`; even on the
//!   last axis of real data) at which the circular convolution equals the linear one at
//!   every element read. That is at most `signal + extent - 1` and only `signal` for
//!   valid-style reads, where `extent = d (k - 1) + 1` (and never below the signal or the
//!   extent, so neither is placed with aliasing). Measured here (2-core AVX2/FMA machine,
//!   rustfft 6.4.1 with its AVX planner, best of 5 runs, summing the time of the chosen length
//!   over every needed length in four bands from 8 to 70000, c2c and realfft r2c, repeated):
//!   3-smooth lengths took 0.88-1.03x the time of 5-smooth ones (median 0.94), 7-smooth
//!   0.96-1.06x, powers of two 0.94-1.44x (padding waste). rustfft's Bluestein and Rader
//!   algorithms are never used for these lengths.
//! - **Real data** (f64, f32, i64) goes through realfft (r2c on the last axis, c2c on the
//!   others; the inverse zeroes the imaginary parts of the DC and Nyquist bins before c2r);
//!   complex data through rustfft. Everything is computed in f64; f32 and `Complex<f32>`
//!   are widened exactly and rounded once at the end.
//! - **Scaling**: input and kernel are scaled by powers of two so that their largest
//!   magnitudes are in `(1/2, 1]`, so no spectrum can overflow (exact barring underflow,
//!   undone at the end).
//! - **Plans and scratch** live in the engine (behind a mutex): keep one engine to reuse
//!   them across calls.
//!
//! The result obeys the normwise bound of [`crate::compare::fft`] (derivation there), not a
//! per-element one. Where the FFT cannot give what the direct definition gives, the engine
//! computes [`crate::reference::conv`] instead and records why ([`Fallback`]):
//!
//! - **Non-finite data** (NaN or infinity in input, weight, bias or boundary constant): an
//!   FFT spreads one NaN to every output; the direct definition does not. The reference is
//!   used, so NaN positions and infinities are exactly the reference's.
//! - **Integers** (`i64`): computed in f64 only when every padded input and weight value has
//!   magnitude at most `2^53`, `sum_c ||w[o, c]||_1 * max|x[n, c]| <= 2^53` for every block
//!   (so every exact result is an f64 integer and no wrapping can occur), and the bound of
//!   every block is below 0.5, so rounding recovers the exact integer; the bias is then
//!   added in integer arithmetic (wrapping, like the reference). Otherwise the reference.
//!   A wrong integer is never returned.
//! - **A non-finite result** (overflow when scaling back), no spatial axis, or spectra that
//!   would exceed [`crate::Limits::max_elements`].
//!
//! [`FftEngine::plan`] says in advance which path a problem takes; [`FftEngine::last_path`]
//! says which path the last call took (including a non-finite-result fallback).

use super::ConvEngine;
use crate::boundary::pad;
use crate::compare::U32;
use crate::compare::fft::{FftTerms, l1_upper, l1_upper_complex, l2_upper, mass, pow2};
use crate::error::ConvError;
use crate::geometry::{Geometry, product};
use crate::reference::{self, Problem};
use crate::spec::{Boundary, Flip};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Slice};
use num_complex::Complex;
use realfft::RealFftPlanner;
use rustfft::{Fft, FftPlanner};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

type C64 = Complex<f64>;

/// Why the engine used the reference instead of transforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fallback {
    /// NaN or infinity in the input, weight, bias or boundary constant.
    NonFinite,
    /// No spatial axis: nothing to transform.
    NoSpatialAxes,
    /// Integers: a value above `2^53` in magnitude, or a block whose `sum |w| |x|` may exceed
    /// `2^53`.
    IntegerRange,
    /// Integers: the error bound of some block is not below 0.5.
    IntegerBound,
    /// The spectra would exceed [`crate::Limits::max_elements`].
    Memory,
    /// The transforms gave a non-finite value (overflow); the reference was computed instead.
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
    },
    /// The reference, and why.
    Reference(Fallback),
}

impl fmt::Display for FftPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FftPath::Fft { real, lengths } => {
                let kind = if *real { "real" } else { "complex" };
                write!(f, "fft ({kind}) lengths {lengths:?}")
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
    NoNormalisation,
    /// Transform length covers the signal only: circular instead of linear convolution.
    ShortTransform,
    /// Reads the linear convolution one element too far on every axis.
    CropOffByOne,
}

/// The FFT convolution engine, with its plan cache (see the module docs).
pub struct FftEngine {
    state: Mutex<State>,
    mutation: Mutation,
}

struct State {
    complex: FftPlanner<f64>,
    real: RealFftPlanner<f64>,
    scratch: Workspace,
    last: Option<FftPath>,
}

impl Default for FftEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FftEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FftEngine")
            .field("mutation", &self.mutation)
            .field("last_path", &self.last_path())
            .finish()
    }
}

/// The element types the FFT engine accepts: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`
/// and `i64` (sealed).
pub trait FftElement: sealed::Element {}
impl<T: sealed::Element> FftElement for T {}

impl FftEngine {
    /// An engine with empty plan caches.
    pub fn new() -> Self {
        FftEngine {
            state: Mutex::new(State {
                complex: FftPlanner::new(),
                real: RealFftPlanner::new(),
                scratch: Workspace::default(),
                last: None,
            }),
            mutation: Mutation::None,
        }
    }

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

    /// The path the last [`ConvEngine::conv`] call on this engine took (`None` before the
    /// first call, or after a call that returned an error). With several threads sharing one
    /// engine, this is whichever call finished last.
    pub fn last_path(&self) -> Option<FftPath> {
        self.lock().last.clone()
    }

    fn record(&self, path: Option<FftPath>) {
        self.lock().last = path;
    }

    /// Which path a problem takes, and for integers the error bound that justifies it. Runs
    /// every check of [`Problem::validate`] first (same errors as the reference).
    pub fn plan<T: FftElement>(&self, p: &Problem<'_, T>) -> Result<FftPlan, ConvError> {
        let geo = p.validate()?;
        Ok(match prepare(p, &geo, self.mutation, T::INTEGER)? {
            Prep::Reference(why) => FftPlan {
                path: FftPath::Reference(why),
                max_integer_bound: None,
            },
            Prep::Ready(prep) => FftPlan {
                path: FftPath::Fft {
                    real: <T::W as sealed::Work>::REAL,
                    lengths: prep.axes.iter().map(|a| a.len).collect(),
                },
                max_integer_bound: prep.integer_bound,
            },
        })
    }

    /// The normwise error bound of every output block `(n, o)` for this problem, shape
    /// `(N, O)`, as [`crate::compare::fft::FftTerms::bound`] evaluates it for the transform
    /// lengths this engine uses (bias and output rounding of `T` included; for integers, the
    /// bound before rounding). Infinite entries where the problem takes the reference path
    /// for non-finite data.
    pub fn error_bounds<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<ndarray::Array2<f64>, ConvError> {
        let geo = p.validate()?;
        let (batch, c_out) = (p.input.shape()[0], p.weight.shape()[0]);
        Ok(match prepare(p, &geo, self.mutation, true)? {
            Prep::Ready(prep) => {
                let bias: Option<Vec<f64>> = if T::INTEGER {
                    None
                } else {
                    p.bias.as_ref().map(|b| b.iter().map(|v| v.abs()).collect())
                };
                prep.block_bounds(bias.as_deref(), T::OUTPUT_ROUNDOFF)
            }
            Prep::Reference(_) => ndarray::Array2::from_elem((batch, c_out), f64::INFINITY),
        })
    }

    fn run<T: FftElement>(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.record(None);
        let geo = p.validate()?;
        let prep = match prepare(p, &geo, self.mutation, T::INTEGER)? {
            Prep::Reference(why) => return self.reference(p, why),
            Prep::Ready(prep) => prep,
        };
        let y = match self.compute(&prep) {
            Ok(y) => y,
            Err(why) => return self.reference(p, why),
        };
        // `y` is row-major (N, O, out...): element i belongs to channel (i / P) % O.
        let c_out = p.weight.shape()[0];
        let block: usize = prep.axes.iter().map(|a| a.out).product();
        let out: Vec<T> = y
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let b = p.bias.as_ref().map(|b| b[(i / block) % c_out]);
                T::finish(*v, b)
            })
            .collect();
        if !out.iter().all(|v| v.is_finite_value()) {
            return self.reference(p, Fallback::NonFiniteResult);
        }
        let y = ArrayD::from_shape_vec(y.raw_dim(), out).map_err(|_| ConvError::Overflow {
            what: "output shape",
            axis: None,
        })?;
        self.record(Some(FftPath::Fft {
            real: <T::W as sealed::Work>::REAL,
            lengths: prep.axes.iter().map(|a| a.len).collect(),
        }));
        Ok(y)
    }

    fn reference<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
        why: Fallback,
    ) -> Result<ArrayD<T>, ConvError> {
        let y = reference::conv(p)?;
        self.record(Some(FftPath::Reference(why)));
        Ok(y)
    }

    /// The transforms: `(N, O, out...)` without bias, scaled back, in f64.
    fn compute<W: sealed::Work>(&self, prep: &Prepared<W>) -> Result<ArrayD<W>, Fallback> {
        let lengths: Vec<usize> = prep.axes.iter().map(|a| a.len).collect();
        let (transforms, mut ws) = {
            let mut state = self.lock();
            let t = Transforms::new(&mut state, &lengths, W::REAL);
            let ws = std::mem::take(&mut state.scratch);
            (t, ws)
        };
        let result = prep.convolve(&transforms, &mut ws);
        self.lock().scratch = ws;
        result
    }
}

impl<T: FftElement> ConvEngine<T> for FftEngine {
    fn name(&self) -> &str {
        match self.mutation {
            Mutation::None => "fft",
            Mutation::NoNormalisation => "fft-no-normalisation",
            Mutation::ShortTransform => "fft-short-transform",
            Mutation::CropOffByOne => "fft-crop-off-by-one",
        }
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.run(p)
    }
}

// ------------------------------------------------------------------------------ element types

mod sealed {
    use super::C64;
    use crate::scalar::Ring;
    use num_complex::Complex;
    use realfft::{ComplexToReal, RealToComplex};
    use rustfft::Fft;
    use std::sync::Arc;

    /// Scratch buffers reused across calls.
    #[derive(Default)]
    pub struct Workspace {
        pub scratch: Vec<C64>,
        pub tmp: Vec<C64>,
    }

    /// Plans for one set of per-axis lengths.
    pub struct Transforms {
        pub lengths: Vec<usize>,
        /// `lengths`, with the last replaced by `L/2 + 1` for real data.
        pub spectrum_shape: Vec<usize>,
        /// c2c per axis (all axes for complex data; all but the last for real data).
        pub forward: Vec<Arc<dyn Fft<f64>>>,
        pub inverse: Vec<Arc<dyn Fft<f64>>>,
        pub r2c: Option<Arc<dyn RealToComplex<f64>>>,
        pub c2r: Option<Arc<dyn ComplexToReal<f64>>>,
        pub scratch_len: usize,
    }

    /// The f64 domain the engine computes in: `f64` (realfft) or `Complex<f64>` (rustfft).
    pub trait Work: Copy + Default + Send + Sync + 'static {
        /// Real data: r2c / c2r on the last axis.
        const REAL: bool;
        fn magnitude(self) -> f64;
        fn finite(self) -> bool;
        fn pow2(self, e: i32) -> Self;
        fn mul(self, f: f64) -> Self;
        fn div(self, n: f64) -> Self;
        fn l2(values: &[Self]) -> f64;
        fn l1(values: &[Self]) -> f64;
        /// Forward transform of `data` (destroyed) into the spectrum.
        fn forward(
            t: &Transforms,
            data: &mut [Self],
            spec: &mut [C64],
            ws: &mut Workspace,
        ) -> Result<(), ()>;
        /// Unnormalised inverse transform of `spec` (destroyed) into `out`.
        fn inverse(
            t: &Transforms,
            spec: &mut [C64],
            out: &mut [Self],
            ws: &mut Workspace,
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
    }

    impl Element for f64 {
        type W = f64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = None;
        fn lift(self) -> f64 {
            self
        }
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        fn finish(y: f64, bias: Option<f64>) -> f64 {
            bias.map_or(y, |b| y + b)
        }
    }

    impl Element for f32 {
        type W = f64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = Some(super::U32);
        fn lift(self) -> f64 {
            f64::from(self)
        }
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        fn finish(y: f64, bias: Option<f32>) -> f32 {
            bias.map_or(y, |b| y + f64::from(b)) as f32
        }
    }

    impl Element for Complex<f64> {
        type W = C64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = None;
        fn lift(self) -> C64 {
            self
        }
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        fn finish(y: C64, bias: Option<C64>) -> C64 {
            bias.map_or(y, |b| y + b)
        }
    }

    impl Element for Complex<f32> {
        type W = C64;
        const INTEGER: bool = false;
        const OUTPUT_ROUNDOFF: Option<f64> = Some(super::U32);
        fn lift(self) -> C64 {
            Complex::new(f64::from(self.re), f64::from(self.im))
        }
        fn is_finite_value(self) -> bool {
            self.is_finite()
        }
        fn int_magnitude(self) -> Option<u128> {
            None
        }
        fn finish(y: C64, bias: Option<Complex<f32>>) -> Complex<f32> {
            let v = bias.map_or(y, |b| y + b.lift());
            Complex::new(v.re as f32, v.im as f32)
        }
    }

    impl Element for i64 {
        type W = f64;
        const INTEGER: bool = true;
        const OUTPUT_ROUNDOFF: Option<f64> = None;
        fn lift(self) -> f64 {
            self as f64
        }
        fn is_finite_value(self) -> bool {
            true
        }
        fn int_magnitude(self) -> Option<u128> {
            Some(u128::from(self.unsigned_abs()))
        }
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
    fn magnitude(self) -> f64 {
        self.abs()
    }
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn pow2(self, e: i32) -> f64 {
        pow2(self, e)
    }
    fn mul(self, f: f64) -> f64 {
        self * f
    }
    fn div(self, n: f64) -> f64 {
        self / n
    }
    fn l2(values: &[f64]) -> f64 {
        l2_upper(values.iter().copied())
    }
    fn l1(values: &[f64]) -> f64 {
        l1_upper(values.iter().copied())
    }
    fn forward(
        t: &Transforms,
        data: &mut [f64],
        spec: &mut [C64],
        ws: &mut Workspace,
    ) -> Result<(), ()> {
        let (r2c, last) = match (&t.r2c, t.lengths.last()) {
            (Some(r2c), Some(&last)) => (r2c, last),
            _ => return Err(()),
        };
        let half = last / 2 + 1;
        ws.scratch.resize(t.scratch_len, C64::default());
        for (line, out) in data.chunks_mut(last).zip(spec.chunks_mut(half)) {
            r2c.process_with_scratch(line, out, &mut ws.scratch)
                .map_err(|_| ())?;
        }
        for (axis, fft) in t.forward.iter().enumerate() {
            transform_axis(spec, &t.spectrum_shape, axis, fft.as_ref(), ws);
        }
        Ok(())
    }
    fn inverse(
        t: &Transforms,
        spec: &mut [C64],
        out: &mut [f64],
        ws: &mut Workspace,
    ) -> Result<(), ()> {
        let (c2r, last) = match (&t.c2r, t.lengths.last()) {
            (Some(c2r), Some(&last)) => (c2r, last),
            _ => return Err(()),
        };
        for (axis, fft) in t.inverse.iter().enumerate() {
            transform_axis(spec, &t.spectrum_shape, axis, fft.as_ref(), ws);
        }
        let half = last / 2 + 1;
        ws.scratch.resize(t.scratch_len, C64::default());
        for (line, o) in spec.chunks_mut(half).zip(out.chunks_mut(last)) {
            // The exact result is real: drop the rounding noise in the imaginary parts that
            // c2r cannot use (realfft would otherwise report them as an error).
            line[0].im = 0.0;
            if last % 2 == 0 {
                line[half - 1].im = 0.0;
            }
            c2r.process_with_scratch(line, o, &mut ws.scratch)
                .map_err(|_| ())?;
        }
        Ok(())
    }
}

impl Work for C64 {
    const REAL: bool = false;
    fn magnitude(self) -> f64 {
        self.re.hypot(self.im)
    }
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn pow2(self, e: i32) -> C64 {
        Complex::new(pow2(self.re, e), pow2(self.im, e))
    }
    fn mul(self, f: f64) -> C64 {
        Complex::new(self.re * f, self.im * f)
    }
    fn div(self, n: f64) -> C64 {
        Complex::new(self.re / n, self.im / n)
    }
    fn l2(values: &[C64]) -> f64 {
        l2_upper(values.iter().flat_map(|z| [z.re, z.im]))
    }
    fn l1(values: &[C64]) -> f64 {
        l1_upper_complex(values.iter().copied())
    }
    fn forward(
        t: &Transforms,
        data: &mut [C64],
        spec: &mut [C64],
        ws: &mut Workspace,
    ) -> Result<(), ()> {
        spec.copy_from_slice(data);
        for (axis, fft) in t.forward.iter().enumerate() {
            transform_axis(spec, &t.spectrum_shape, axis, fft.as_ref(), ws);
        }
        Ok(())
    }
    fn inverse(
        t: &Transforms,
        spec: &mut [C64],
        out: &mut [C64],
        ws: &mut Workspace,
    ) -> Result<(), ()> {
        for (axis, fft) in t.inverse.iter().enumerate() {
            transform_axis(spec, &t.spectrum_shape, axis, fft.as_ref(), ws);
        }
        out.copy_from_slice(spec);
        Ok(())
    }
}

// ------------------------------------------------------------------------------ transforms

impl Transforms {
    fn new(state: &mut State, lengths: &[usize], real: bool) -> Self {
        let mut spectrum_shape = lengths.to_vec();
        let c2c_axes = if real {
            let last = spectrum_shape.len() - 1;
            spectrum_shape[last] = lengths[last] / 2 + 1;
            last
        } else {
            lengths.len()
        };
        let forward: Vec<_> = lengths[..c2c_axes]
            .iter()
            .map(|&n| state.complex.plan_fft_forward(n))
            .collect();
        let inverse: Vec<_> = lengths[..c2c_axes]
            .iter()
            .map(|&n| state.complex.plan_fft_inverse(n))
            .collect();
        let (r2c, c2r) = if real {
            let n = lengths[c2c_axes];
            (
                Some(state.real.plan_fft_forward(n)),
                Some(state.real.plan_fft_inverse(n)),
            )
        } else {
            (None, None)
        };
        let scratch_len = forward
            .iter()
            .chain(&inverse)
            .map(|f| f.get_inplace_scratch_len())
            .chain(r2c.iter().map(|f| f.get_scratch_len()))
            .chain(c2r.iter().map(|f| f.get_scratch_len()))
            .max()
            .unwrap_or(0);
        Transforms {
            lengths: lengths.to_vec(),
            spectrum_shape,
            forward,
            inverse,
            r2c,
            c2r,
            scratch_len,
        }
    }
}

/// Applies `fft` along `axis` of the row-major array `buf` of `shape`.
fn transform_axis(
    buf: &mut [C64],
    shape: &[usize],
    axis: usize,
    fft: &dyn Fft<f64>,
    ws: &mut Workspace,
) {
    let len = shape[axis];
    if len <= 1 {
        return;
    }
    let inner: usize = shape[axis + 1..].iter().product();
    ws.scratch.resize(
        ws.scratch.len().max(fft.get_inplace_scratch_len()),
        C64::default(),
    );
    if inner == 1 {
        fft.process_with_scratch(buf, &mut ws.scratch);
        return;
    }
    let block = len * inner;
    ws.tmp.resize(block, C64::default());
    for chunk in buf.chunks_mut(block) {
        for i in 0..len {
            for j in 0..inner {
                ws.tmp[j * len + i] = chunk[i * inner + j];
            }
        }
        fft.process_with_scratch(&mut ws.tmp, &mut ws.scratch);
        for i in 0..len {
            for j in 0..inner {
                chunk[i * inner + j] = ws.tmp[j * len + i];
            }
        }
    }
}

/// The smallest `2^a 3^b >= n`: the transform lengths the engine uses (see the module docs
/// for the measurement behind the choice). `usize::MAX` if there is none in `usize`.
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
}

impl AxisPlan {
    /// Index into the linear convolution read by output `p` (may be outside the support).
    fn read(&self, p: usize) -> i128 {
        let extent = self.dilation * (self.kernel - 1) + 1;
        (p * self.stride) as i128 + extent as i128 - 1 - self.shift as i128
    }
}

/// The plan of one axis, or `None` when its transform length would exceed `max_len` (then the
/// engine uses the reference). All length arithmetic is done in `i128`: absurd dilations and
/// pads pass validation and must not overflow here.
fn axis_plan(
    geo: &crate::geometry::AxisGeometry,
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
    let (lo, hi) = (a.read(a.first), a.read(a.last));
    // No alias of a read index may fall inside the support: L > hi and L > top - lo; and
    // signal and (dilated) kernel must fit, so that they are placed without aliasing.
    let needed = if mutation == Mutation::ShortTransform {
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

enum Prep<W> {
    Reference(Fallback),
    Ready(Box<Prepared<W>>),
}

/// A problem in the f64 domain, scaled, with its axis plans.
struct Prepared<W> {
    axes: Vec<AxisPlan>,
    /// `(N, C, signal...)`, scaled by `2^-ex`.
    signal: ArrayD<W>,
    /// `(O, C/G, kernel...)`, scaled by `2^-ew`.
    weight: ArrayD<W>,
    /// `ex + ew`: multiply results by `2^scale`.
    scale: i32,
    groups: usize,
    flip: Flip,
    mutation: Mutation,
    /// Per block `(n, o)`: the mass `sum_c ||x_c||_2 ||w_c||_1` in original units (NaN unless
    /// requested).
    masses: ndarray::Array2<f64>,
    /// `max|x| * max|w|` in original units.
    data_scale: f64,
    integer_bound: Option<f64>,
}

fn max_exponent<W: Work>(values: impl Iterator<Item = W>) -> (i32, f64) {
    let max = values.fold(0f64, |m, v| m.max(v.magnitude()));
    if max == 0.0 {
        (0, 0.0)
    } else {
        (max.log2().ceil() as i32, max)
    }
}

/// Converts, checks and plans a problem. `bounds`: compute the per-block masses (always for
/// integers, whose path depends on them).
fn prepare<T: FftElement>(
    p: &Problem<'_, T>,
    geo: &Geometry,
    mutation: Mutation,
    bounds: bool,
) -> Result<Prep<T::W>, ConvError> {
    let finite = |v: &T| v.is_finite_value();
    let constant_finite = match &p.spec.boundary {
        Boundary::Constant(c) => c.is_finite_value(),
        _ => true,
    };
    if !(p.input.iter().all(finite)
        && p.weight.iter().all(finite)
        && p.bias.as_ref().is_none_or(|b| b.iter().all(finite))
        && constant_finite)
    {
        return Ok(Prep::Reference(Fallback::NonFinite));
    }
    let rank = geo.axes.len();
    if rank == 0 {
        return Ok(Prep::Reference(Fallback::NoSpatialAxes));
    }
    let zero_boundary = match &p.spec.boundary {
        Boundary::Zeros => true,
        Boundary::Constant(c) => c.lift().magnitude() == 0.0,
        _ => false,
    };
    let real = <T::W as Work>::REAL;
    let max_len = p.spec.limits.max_elements;
    let axes: Option<Vec<AxisPlan>> = geo
        .axes
        .iter()
        .enumerate()
        .map(|(i, g)| axis_plan(g, zero_boundary, real && i + 1 == rank, mutation, max_len))
        .collect();
    let Some(axes) = axes else {
        return Ok(Prep::Reference(Fallback::Memory));
    };
    let (batch, c_in) = (p.input.shape()[0], p.input.shape()[1]);
    let (c_out, cg) = (p.weight.shape()[0], p.weight.shape()[1]);
    // Memory: the kernel and input spectra, and two work buffers.
    let spectrum = product(axes.iter().enumerate().map(|(i, a)| {
        if real && i + 1 == rank {
            a.len / 2 + 1
        } else {
            a.len
        }
    }));
    let full = product(axes.iter().map(|a| a.len));
    let needed = spectrum
        .and_then(|s| s.checked_mul((c_out * cg + c_in + 4) as u128))
        .zip(full)
        .map(|(a, b)| a.max(b));
    match needed {
        Some(n) if n <= p.spec.limits.max_elements => {}
        _ => return Ok(Prep::Reference(Fallback::Memory)),
    }
    // The signal: padded by the boundary mode unless it is zero (then an index shift).
    let signal: ArrayD<T> = if zero_boundary {
        p.input.to_owned()
    } else {
        let mut pads = vec![(0, 0), (0, 0)];
        pads.extend(geo.pads());
        match pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits) {
            Ok(x) => x,
            Err(_) => return Ok(Prep::Reference(Fallback::Memory)),
        }
    };
    let weight = p.weight.as_standard_layout();
    let mut integer_bound = None;
    if T::INTEGER {
        const LIMIT: u128 = 1 << 53;
        let mag = |v: &T| v.int_magnitude().unwrap_or(u128::MAX);
        if signal.iter().chain(weight.iter()).any(|v| mag(v) > LIMIT) {
            return Ok(Prep::Reference(Fallback::IntegerRange));
        }
        // sum_c ||w[o, c]||_1 * max|x[n, c]| bounds every |exact sum| of the block.
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
        let og = c_out / p.spec.groups;
        for n in 0..batch {
            for o in 0..c_out {
                let g = o / og;
                let mut total = 0u128;
                for c in 0..cg {
                    let term = w1[o * cg + c].checked_mul(xmax[n * c_in + g * cg + c]);
                    total = match term.and_then(|t| total.checked_add(t)) {
                        Some(t) => t,
                        None => return Ok(Prep::Reference(Fallback::IntegerRange)),
                    };
                }
                if total > LIMIT {
                    return Ok(Prep::Reference(Fallback::IntegerRange));
                }
            }
        }
    }
    let signal = signal.mapv(T::lift);
    let weight = weight.mapv(T::lift);
    let (ex, xmax) = max_exponent(signal.iter().copied());
    let (ew, wmax) = max_exponent(weight.iter().copied());
    // Masses in original units (before scaling); NaN when not requested.
    let og = c_out / p.spec.groups;
    let masses = if bounds || T::INTEGER {
        let x_norms: Vec<f64> = signal
            .outer_iter()
            .flat_map(|xn| xn.outer_iter().map(|xc| W2::l2(&xc)).collect::<Vec<_>>())
            .collect();
        let w_norms: Vec<f64> = weight
            .outer_iter()
            .flat_map(|wo| wo.outer_iter().map(|wc| W2::l1(&wc)).collect::<Vec<_>>())
            .collect();
        ndarray::Array2::from_shape_fn((batch, c_out), |(n, o)| {
            let g = o / og;
            mass((0..cg).map(|c| (x_norms[n * c_in + g * cg + c], w_norms[o * cg + c])))
        })
    } else {
        ndarray::Array2::from_elem((batch, c_out), f64::NAN)
    };
    let mut prep = Prepared {
        axes,
        signal: signal.mapv(|v| scale(v, -ex, factor(-ex))),
        weight: weight.mapv(|v| scale(v, -ew, factor(-ew))),
        scale: ex + ew,
        groups: p.spec.groups,
        flip: p.spec.flip,
        mutation,
        masses,
        data_scale: xmax * wmax,
        integer_bound: None,
    };
    if T::INTEGER {
        let bounds = prep.block_bounds(None, None);
        let worst = bounds.iter().fold(0f64, |m, &b| m.max(b));
        if worst.is_nan() || worst >= 0.5 {
            return Ok(Prep::Reference(Fallback::IntegerBound));
        }
        integer_bound = Some(worst);
    }
    prep.integer_bound = integer_bound;
    Ok(Prep::Ready(Box::new(prep)))
}

/// Norms of an array view through [`Work`] (contiguous copy first).
struct W2;
impl W2 {
    fn l2<W: Work>(v: &ArrayViewD<'_, W>) -> f64 {
        let data: Vec<W> = v.iter().copied().collect();
        W::l2(&data)
    }
    fn l1<W: Work>(v: &ArrayViewD<'_, W>) -> f64 {
        let data: Vec<W> = v.iter().copied().collect();
        W::l1(&data)
    }
}

impl<W: Work> Prepared<W> {
    fn total_len(&self) -> f64 {
        self.axes.iter().map(|a| a.len as f64).product()
    }

    fn block_bounds(
        &self,
        bias: Option<&[f64]>,
        output_roundoff: Option<f64>,
    ) -> ndarray::Array2<f64> {
        let outputs: usize = self.axes.iter().map(|a| a.out).product();
        let channels = self.weight.shape()[1];
        let n = self.total_len();
        ndarray::Array2::from_shape_fn(self.masses.dim(), |(b, o)| {
            FftTerms {
                transform_len: n,
                channels,
                mass: self.masses[(b, o)],
                bias: bias.map(|b| b[o]),
                outputs,
                scale: self.data_scale,
                output_roundoff,
            }
            .bound()
        })
    }

    fn convolve(&self, t: &Transforms, ws: &mut Workspace) -> Result<ArrayD<W>, Fallback> {
        let rank = self.axes.len();
        let lengths: Vec<usize> = self.axes.iter().map(|a| a.len).collect();
        let full: usize = lengths.iter().product();
        let spec_len: usize = t.spectrum_shape.iter().product();
        let (batch, c_in) = (self.signal.shape()[0], self.signal.shape()[1]);
        let (c_out, cg) = (self.weight.shape()[0], self.weight.shape()[1]);
        let og = c_out / self.groups;
        let mut out_shape = vec![batch, c_out];
        out_shape.extend(self.axes.iter().map(|a| a.out));
        let block: usize = self.axes.iter().map(|a| a.out).product();
        let mut out = vec![W::default(); batch * c_out * block];
        if self.axes.iter().any(|a| a.first > a.last) {
            // Every output reads only zeros.
            return ArrayD::from_shape_vec(IxDyn(&out_shape), out).map_err(|_| Fallback::Transform);
        }
        let back = factor(self.scale);
        let mut data = vec![W::default(); full];
        // Row-major strides of the transform array.
        let mut strides = vec![1usize; rank];
        for a in (0..rank.saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * lengths[a + 1];
        }
        let check = |spec: &[C64]| -> Result<(), Fallback> {
            if spec.iter().all(|z| z.is_finite()) {
                Ok(())
            } else {
                Err(Fallback::NonFiniteResult)
            }
        };
        // Kernel spectra, (O, C/G) of them.
        let mut kernels = vec![C64::default(); c_out * cg * spec_len];
        for o in 0..c_out {
            for c in 0..cg {
                data.fill(W::default());
                let w = self
                    .weight
                    .index_axis(Axis(0), o)
                    .index_axis_move(Axis(0), c);
                for (k, &v) in w.indexed_iter() {
                    let mut flat = 0;
                    for (axis, ap) in self.axes.iter().enumerate() {
                        let tap = match self.flip {
                            Flip::Correlation => ap.kernel - 1 - k[axis],
                            Flip::Convolution => k[axis],
                        };
                        flat += tap * ap.dilation * strides[axis];
                    }
                    data[flat] = v;
                }
                let spec = &mut kernels[(o * cg + c) * spec_len..][..spec_len];
                W::forward(t, &mut data, spec, ws).map_err(|()| Fallback::Transform)?;
                check(spec)?;
            }
        }
        // Output index tables: per axis, output position -> offset in the transform array.
        let tables: Vec<Vec<Option<usize>>> = self
            .axes
            .iter()
            .zip(&strides)
            .map(|(ap, &stride)| {
                (0..ap.out)
                    .map(|p| {
                        let shift = i128::from(self.mutation == Mutation::CropOffByOne);
                        let q = ap.read(p) + shift;
                        (ap.first..=ap.last)
                            .contains(&p)
                            .then(|| q.rem_euclid(ap.len as i128) as usize * stride)
                    })
                    .collect()
            })
            .collect();
        let norm = if self.mutation == Mutation::NoNormalisation {
            1.0
        } else {
            full as f64
        };
        let mut inputs = vec![C64::default(); c_in * spec_len];
        let mut acc = vec![C64::default(); spec_len];
        let mut z = vec![W::default(); full];
        let signal_shape: Vec<usize> = self.axes.iter().map(|a| a.signal).collect();
        for n in 0..batch {
            for c in 0..c_in {
                data.fill(W::default());
                {
                    let mut view = ArrayViewMutD::from_shape(IxDyn(&lengths), &mut data)
                        .map_err(|_| Fallback::Transform)?;
                    let mut region =
                        view.slice_each_axis_mut(|ax| Slice::from(0..signal_shape[ax.axis.0]));
                    region.assign(
                        &self
                            .signal
                            .index_axis(Axis(0), n)
                            .index_axis_move(Axis(0), c),
                    );
                }
                let spec = &mut inputs[c * spec_len..][..spec_len];
                W::forward(t, &mut data, spec, ws).map_err(|()| Fallback::Transform)?;
                check(spec)?;
            }
            for o in 0..c_out {
                let g = o / og;
                acc.fill(C64::default());
                for c in 0..cg {
                    let x = &inputs[(g * cg + c) * spec_len..][..spec_len];
                    let w = &kernels[(o * cg + c) * spec_len..][..spec_len];
                    for ((a, xv), wv) in acc.iter_mut().zip(x).zip(w) {
                        *a += xv * wv;
                    }
                }
                W::inverse(t, &mut acc, &mut z, ws).map_err(|()| Fallback::Transform)?;
                let start = (n * c_out + o) * block;
                crop(&tables, &z, &mut out[start..start + block], |v| {
                    scale(v.div(norm), self.scale, back)
                });
            }
        }
        let y = ArrayD::from_shape_vec(IxDyn(&out_shape), out).map_err(|_| Fallback::Transform)?;
        if y.iter().all(|v| v.finite()) {
            Ok(y)
        } else {
            Err(Fallback::NonFiniteResult)
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

/// Writes one output block (row-major) from the inverse transform `z`: `tables[a][p]` is the
/// offset of output position `p` of axis `a` in `z`, or `None` where the output reads only
/// zeros (those elements keep their zero).
fn crop<W: Work>(tables: &[Vec<Option<usize>>], z: &[W], out: &mut [W], map: impl Fn(W) -> W) {
    let Some((inner, outer)) = tables.split_last() else {
        return;
    };
    let mut idx = vec![0usize; outer.len()];
    for row in out.chunks_mut(inner.len()) {
        let base = outer
            .iter()
            .zip(&idx)
            .try_fold(0usize, |b, (t, &i)| t[i].map(|t| b + t));
        if let Some(base) = base {
            for (o, t) in row.iter_mut().zip(inner) {
                if let Some(t) = t {
                    *o = map(z[base + t]);
                }
            }
        }
        // Next row: advance the odometer over the outer axes.
        for a in (0..outer.len()).rev() {
            idx[a] += 1;
            if idx[a] < outer[a].len() {
                break;
            }
            idx[a] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ConvSpec, Padding};
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
        let y = engine.conv(&Problem::new(x.view(), w.view())).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![321, 432]);
        assert!(matches!(engine.last_path(), Some(FftPath::Fft { .. })));
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
