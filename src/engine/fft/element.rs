//! The element types the engine accepts ([`FftElement`]) and the f64 domain it computes in
//! (`Work`: `f64` or `Complex<f64>`).

use super::C64;
use super::transforms::{Transforms, Workspace};
use crate::tolerance::U32;
use crate::tolerance::fft::{l1_upper, l1_upper_complex, l2_upper, pow2};
use num_complex::Complex;

pub(super) use sealed::Work;

/// The element types the FFT engine accepts: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`
/// and `i64` (sealed).
pub trait FftElement: sealed::Element {}
impl<T: sealed::Element> FftElement for T {}

mod sealed {
    use super::{C64, Transforms, Workspace};
    use crate::problem::ConvError;
    use crate::problem::Problem;
    use crate::scalar::Ring;
    use ndarray::ArrayD;
    use num_complex::Complex;

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
        /// The result when the transforms overflow
        /// ([`crate::engine::fft::Fallback::NonFiniteResult`]): the reference for integers
        /// (never reached: they take the transforms only when the result is bounded), the
        /// correctly rounded result for floats, whose overflow is then decided by the exact
        /// sum rather than by a summation order.
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
