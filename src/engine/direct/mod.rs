//! The direct engine: the definition's sum of products, arranged so that the inner loop is a
//! vectorised multiply-add over contiguous rows.
//!
//! It computes the formula of [`crate::reference::conv`],
//!
//! ```text
//! y[n, o, p] = bias[o] + sum_{c < C/G} sum_{k} w[o, c, k'] * xb[n, g*C/G + c, p*s + k*d - lo]
//! ```
//!
//! for every rank, group count, stride, dilation, padding rule, boundary mode and flip, with
//! the same errors ([`Problem::validate`] runs first). Only the arrangement differs:
//!
//! - **Rows.** The last spatial axis is the row. Every other spatial axis is index
//!   arithmetic: for each outer output position and outer kernel tap, the input row it reads
//!   comes from [`crate::problem::boundary::source_index`] (the boundary map the reference and
//!   [`crate::problem::boundary::pad`] use), or is a row of the boundary constant.
//! - **Stride 1 on the last axis** ([`DirectPath::InPlace`]): outputs whose window lies inside
//!   the input read the input row in place. Outputs whose window crosses an edge read short
//!   padded strips, built once per input row: the left strip holds padded positions
//!   `0 .. left + d(k-1)` and the right strip the positions from the first right-edge output
//!   on (about `lo + d(k-1)` and `hi + d(k-1)` elements).
//! - **Stride `s > 1`, or rows shorter than [`SHORT_ROW`]** ([`DirectPath::Phased`]): every
//!   input row is copied once into a padded row over exactly the positions read,
//!   `(out - 1) s + d (k - 1) + 1` of them, stored as `s` phases (positions
//!   `r, r + s, r + 2s, ...`; one phase for stride 1), so every tap reads a contiguous slice.
//! - Padded positions, zeros included, are read like input elements: every product of the
//!   formula is formed (`inf * 0` gives NaN exactly where the reference's does).
//! - **Inner loop.** Each output row is computed in chunks of [`CHUNK`] elements: the
//!   accumulator is set to the bias (or zero); then for each channel `c` and each outer tap,
//!   the taps of the row are added in tiles of 8 to 32 outputs kept in registers,
//!   `acc[j] = acc[j] + w[o, c, k'] * row[offset(k) + j]`, with `k'` the tap of the kernel
//!   reversed on every axis for [`Flip::Convolution`]. The loop is compiled for the baseline
//!   target and, chosen at run time, with AVX2 or AVX-512 (FMA enabled but never used by
//!   this sum: the same operations either way). Every (channel, outer tap) row of a segment
//!   of outputs is added while the tile stays in registers.
//! - **Threads** ([`DirectEngine::threads`]): output rows are split into contiguous ranges
//!   of (outer position, sample, channel), one per thread; each output is computed alike.
//!
//! **Summation order.** Per output element the terms are added in the reference's order: the
//! bias first (or zero), then channels in increasing order, then kernel taps in row-major
//! order; each product `w * x` is rounded, then added to the running sum (no fused
//! multiply-add). Hence:
//!
//! - `i64`: wrapping arithmetic (the ring Z/2^64 of [`crate::scalar`]); results are
//!   bit-identical to the reference.
//! - `f64` and `Complex<f64>` (products formed as `num_complex` forms them): the same
//!   operations in the same order, so the same values as the reference (NaN payloads aside).
//!   The contract this module promises is the weaker one of any direct summation: the
//!   result differs from the reference only by rounding, within the componentwise bound
//!   [`crate::tolerance::componentwise_bound`] (`tests/direct.rs` checks both, with
//!   [`crate::tolerance::componentwise`]).
//! - `f32` and `Complex<f32>`: widened exactly to `f64` / `Complex<f64>`, summed there in
//!   the same order, rounded once at the end: the result is the f64 reference of the
//!   widened data rounded to f32. It differs from the reference only by rounding: within the
//!   componentwise bound with the f32 unit roundoff, [`crate::tolerance::U32`].
//! - NaN and infinity: the same products are formed, and a sum of the same terms is NaN,
//!   `+inf` or `-inf` whatever the order unless finite terms overflow, so non-finite data
//!   gives the reference's NaN and infinity pattern. (The f64 accumulator of the f32 types
//!   does not overflow where the f32 reference may.)
//!
//! **Fallback.** The strips or phased rows, plus the constant row, must fit in
//! [`crate::problem::Limits::max_elements`]; they may not (huge pads, strides or dilations around a
//! small input), and a problem may have no spatial axis. Then the engine computes
//! [`crate::reference::conv`] instead: the reference never pads, so it accepts such
//! problems, and the direct engine gives the same result rather than a new error.
//! [`DirectEngine::plan`] says which path a problem takes.
//!
//! **Speed** (f64, one thread, 2-core AVX2 machine shared with other work; medians of 21
//! calls, allocation of the result included, three sessions): 1,000,000 samples with 16
//! taps, full, true convolution: 1.9-2.7 ms; 512x512 with 3x3, full: 0.47-0.9 ms, where the
//! reference takes 190-220 ms.
//!
//! [`Problem::validate`]: crate::problem::Problem::validate
//! [`Flip::Convolution`]: crate::problem::Flip::Convolution

mod compute;
mod element;
mod engine;
mod kernel;
mod layout;

pub use compute::CHUNK;
pub use engine::{DirectElement, DirectEngine, DirectFallback, DirectPath, Mutation};
pub use layout::SHORT_ROW;

pub(crate) use compute::{Run, compute};
pub(crate) use element::Element;
pub(crate) use engine::output_array;
pub(crate) use kernel::{Kernel, Plain, RowPair, rows_by_channel};
pub(crate) use layout::{Layout, prepare};
