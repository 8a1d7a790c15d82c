//! The correctly rounded engine: every output is the exact value of `bias + sum of w * x`
//! over its taps, rounded once to nearest-even.
//!
//! [`ExactEngine`] computes it for `f32`, `f64`, `Complex<f32>` and `Complex<f64>` (complex
//! outputs component by component) for every spec the reference supports, with the special
//! values IEEE arithmetic gives for the exact sum (an exact zero sum is `+0` unless every term
//! is `-0`; overflow is decided by the exact sum, not by a summation order). Each output is
//! computed in two tiers: a fast sum with an error certificate (`f32` products, exact in `f64`,
//! summed in `f64`; `f64` products by error-free transformations), and, for every output the
//! certificate cannot prove, the long accumulator [`Superacc`]; both give the same results.
//! [`ExactEngine::conv_with_stats`] reports how many outputs each tier produced
//! ([`ExactStats`]), [`ExactEngine::fallback_only`] computes every output in the second tier,
//! [`output_terms`] lists the terms of one output, and [`exact_transpose`] is the correctly
//! rounded transposed convolution. The derivation is in docs/numerics.md section 9 (special
//! values and the sign of zero in section 5).

mod accumulator;
mod engine;
mod fast;
mod terms;
mod transpose;

pub use accumulator::{Exact, Superacc};
pub use engine::{ExactElement, ExactEngine, ExactStats, Mutation};
pub use terms::{Term, Walker, output_terms};
pub use transpose::exact_transpose;

pub(crate) use fast::{ComplexDd, ComplexWide, DdKernel, WideKernel};
