//! The element types the engine accepts ([`FftElement`]) and how each maps to the f64 domain
//! the transforms run in (`Work`).

use super::C64;
use super::transforms::Work;
use crate::tolerance::U32;

/// The element types the FFT engine accepts: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`
/// and `i64` (sealed).
pub trait FftElement: sealed::Element {}
impl<T: sealed::Element> FftElement for T {}

mod sealed {
    use super::{C64, Work};
    use crate::problem::ConvError;
    use crate::problem::Problem;
    use crate::scalar::Ring;
    use ndarray::ArrayD;
    use num_complex::Complex;

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
