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

use super::ConvEngine;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::boundary::{fill_value, source_index};
use crate::problem::geometry::{AxisGeometry, Geometry, product};
use crate::problem::{Boundary, Flip};
use crate::reference;
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex;
use std::fmt;

type C64 = Complex<f64>;

/// Output elements accumulated together: the accumulator and the slices it reads stay in the
/// L1 cache while every tap is added.
pub const CHUNK: usize = 1024;

/// Rows of fewer outputs than this (stride 1) are copied into padded rows rather than read in
/// place: in a short row the outputs next to the edges, which read short strips in tiles too
/// small to vectorise, are a large share.
pub const SHORT_ROW: usize = 64;

/// Why the engine used the reference instead of its own loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DirectFallback {
    /// No spatial axis: a plain channel mix.
    NoSpatialAxes,
    /// The padded strips or rows would exceed [`crate::problem::Limits::max_elements`] (or overflow).
    Memory,
}

impl DirectFallback {
    /// A short description.
    pub fn describe(self) -> &'static str {
        match self {
            DirectFallback::NoSpatialAxes => "no spatial axes",
            DirectFallback::Memory => "padding exceeds the element limit",
        }
    }
}

/// The computation a problem takes: a printable value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DirectPath {
    /// Stride 1 on the last axis: input rows are read in place; the outputs whose window
    /// crosses an edge of the last axis read short padded strips instead.
    InPlace {
        /// Input rows (`N * C * product of the outer input extents`).
        rows: usize,
        /// Padded elements stored per input row (both strips).
        strip_len: usize,
    },
    /// Stride `s > 1` on the last axis: every input row is copied into a padded row stored
    /// as `s` phases, so that every tap reads a contiguous slice.
    Phased {
        /// Input rows (`N * C * product of the outer input extents`).
        rows: usize,
        /// Elements per padded row: `(out - 1) * s + d * (k - 1) + 1`.
        row_len: usize,
        /// Phases per row: the stride (at most `row_len`).
        phases: usize,
    },
    /// The reference, and why.
    Reference(DirectFallback),
}

impl fmt::Display for DirectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectPath::InPlace { rows, strip_len } => {
                write!(
                    f,
                    "direct in place: {rows} rows, {strip_len} padded per row"
                )
            }
            DirectPath::Phased {
                rows,
                row_len,
                phases: 1,
            } => write!(f, "direct padded: {rows} rows of {row_len}"),
            DirectPath::Phased {
                rows,
                row_len,
                phases,
            } => write!(
                f,
                "direct phased: {rows} padded rows of {row_len} in {phases} phases"
            ),
            DirectPath::Reference(why) => write!(f, "reference ({})", why.describe()),
        }
    }
}

/// Deliberate bugs, for tests that show the properties can fail. Not for use.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The correct engine.
    #[default]
    None,
    /// Skips the last tap of every kernel.
    #[cfg(feature = "fault-injection")]
    DropLastTap,
    /// Pads the last axis one position off: padded position `i` reads `i - lo + 1` (in place:
    /// in the edge strips only).
    #[cfg(feature = "fault-injection")]
    PadOffByOne,
}

impl Mutation {
    /// Whether this is [`Mutation::DropLastTap`] (never without the `fault-injection` feature).
    pub(crate) fn drops_last_tap(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::DropLastTap;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
    /// Whether this is [`Mutation::PadOffByOne`] (never without the `fault-injection` feature).
    pub(crate) fn pads_off_by_one(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::PadOffByOne;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
}

/// The fast direct (sum-of-products) engine (see the module docs). Holds no state: plain
/// `Copy` data, free to share between threads.
#[derive(Clone, Copy, Debug)]
pub struct DirectEngine {
    mutation: Mutation,
    /// Never take the AVX2 build of the loops (tests compare the two).
    baseline_only: bool,
    /// Threads the output rows are split over (1: the calling thread only).
    threads: usize,
}

impl Default for DirectEngine {
    fn default() -> Self {
        Self::new()
    }
}

/// The element types the direct engine accepts: `f64`, `f32`, `Complex<f64>`, `Complex<f32>`
/// and `i64` (sealed).
pub trait DirectElement: sealed::Element {}
impl<T: sealed::Element> DirectElement for T {}

impl DirectEngine {
    /// The engine.
    pub fn new() -> Self {
        DirectEngine {
            mutation: Mutation::None,
            baseline_only: false,
            threads: 1,
        }
    }

    /// The engine splitting its output rows over `threads` threads (`0` or `1`: the calling
    /// thread only). Every output is computed the same way whatever the split: the results
    /// do not depend on the thread count.
    #[must_use]
    pub fn threads(self, threads: usize) -> Self {
        DirectEngine {
            threads: threads.max(1),
            ..self
        }
    }

    #[cfg(feature = "fault-injection")]
    /// An engine with a deliberate bug (tests only).
    #[doc(hidden)]
    pub fn with_mutation(mutation: Mutation) -> Self {
        DirectEngine {
            mutation,
            ..Self::new()
        }
    }

    /// The engine that always runs the loops compiled for the baseline target, never the
    /// AVX2 build (tests only: both must give the same results).
    #[doc(hidden)]
    pub fn baseline_only() -> Self {
        DirectEngine {
            baseline_only: true,
            ..Self::new()
        }
    }

    /// Which path a problem takes. Runs every check of [`Problem::validate`] first (same
    /// errors as the reference).
    pub fn plan<T: DirectElement>(&self, p: &Problem<'_, T>) -> Result<DirectPath, ConvError> {
        let geo = p.validate()?;
        Ok(match layout(p, &geo, self.mutation) {
            Ok(l) => match &l.rows {
                Rows::InPlace(st) => DirectPath::InPlace {
                    rows: l.rows_in,
                    strip_len: st.sources.len(),
                },
                Rows::Phased(ph) => DirectPath::Phased {
                    rows: l.rows_in,
                    row_len: l.len,
                    phases: ph.phases.len(),
                },
            },
            Err(why) => DirectPath::Reference(why),
        })
    }

    fn run<T: DirectElement>(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        let (geo, l) = prepare(p, self.mutation)?;
        let Ok(l) = l else {
            return reference::conv(p);
        };
        let run = Run {
            mutation: self.mutation,
            baseline_only: self.baseline_only,
            threads: self.threads,
        };
        let out = compute(&Plain(std::marker::PhantomData), p, &geo, &l, run);
        output_array(p, &geo, out)
    }
}

/// The `(N, O, out...)` array of outputs in row-major order.
pub(crate) fn output_array<T, U>(
    p: &Problem<'_, T>,
    geo: &Geometry,
    out: Vec<U>,
) -> Result<ArrayD<U>, ConvError> {
    let mut shape = vec![p.input.shape()[0], p.weight.shape()[0]];
    shape.extend(geo.output_shape());
    // The shape holds exactly `out.len()` elements by construction.
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|_| ConvError::Overflow {
        what: "output shape",
        axis: None,
    })
}

impl<T: DirectElement> ConvEngine<T> for DirectEngine {
    fn name(&self) -> &str {
        match self.mutation {
            Mutation::None => "direct",
            #[cfg(feature = "fault-injection")]
            Mutation::DropLastTap => "direct-drop-last-tap",
            #[cfg(feature = "fault-injection")]
            Mutation::PadOffByOne => "direct-pad-off-by-one",
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

    /// The accumulator domain: `f64`, `Complex<f64>` or `i64`.
    pub trait Acc: Copy + Default + Send + Sync + 'static {
        /// `self + w * x`: the reference's `acc.plus(&w.times(x))`, the same operations.
        fn madd(self, w: Self, x: Self) -> Self;
    }

    impl Acc for f64 {
        #[inline(always)]
        fn madd(self, w: f64, x: f64) -> f64 {
            self + w * x
        }
    }

    impl Acc for C64 {
        #[inline(always)]
        fn madd(self, w: C64, x: C64) -> C64 {
            // num_complex: (w.re x.re - w.im x.im, w.re x.im + w.im x.re), then the sum.
            self + w * x
        }
    }

    impl Acc for i64 {
        #[inline(always)]
        fn madd(self, w: i64, x: i64) -> i64 {
            self.wrapping_add(w.wrapping_mul(x))
        }
    }

    /// An element type: its accumulator, the conversions, and the row kernel.
    pub trait Element: Ring + Copy + Default + Send + Sync {
        /// Where sums are accumulated.
        type W: Acc;
        /// Exact widening.
        fn lift(self) -> Self::W;
        /// The result from the accumulated value (one rounding for the f32 types).
        fn finish(w: Self::W) -> Self;
        /// Adds the taps of several source rows, in order: for each `(src, w)` of `rows` in
        /// order, each tap `t` and each `j < acc.len()`,
        /// `acc[j] = acc[j].madd(w[t], lift(src[offsets[t] + j]))`.
        fn rows(acc: &mut [Self::W], rows: &[(&[Self], &[Self::W])], offsets: &[usize]);
    }

    /// Tiles of `L` outputs from `j` on that stay in registers while every tap of every row
    /// is added (the order per output is unchanged); returns where the tiles stopped.
    #[inline(always)]
    fn pass<T: Element, const L: usize>(
        acc: &mut [T::W],
        mut j: usize,
        rows: &[(&[T], &[T::W])],
        offsets: &[usize],
    ) -> usize {
        while j + L <= acc.len() {
            let mut a = [T::W::default(); L];
            a.copy_from_slice(&acc[j..j + L]);
            for &(src, w) in rows {
                for (&wt, &off) in w.iter().zip(offsets) {
                    let x = &src[off + j..off + j + L];
                    for (a, &x) in a.iter_mut().zip(x) {
                        *a = a.madd(wt, x.lift());
                    }
                }
            }
            acc[j..j + L].copy_from_slice(&a);
            j += L;
        }
        j
    }

    /// [`Element::rows`] in tiles of `L`, then `L / 4`, then single outputs.
    #[inline(always)]
    fn tiled<T: Element, const L: usize, const M: usize>(
        acc: &mut [T::W],
        rows: &[(&[T], &[T::W])],
        offsets: &[usize],
    ) {
        let j = pass::<T, L>(acc, 0, rows, offsets);
        let j = pass::<T, M>(acc, j, rows, offsets);
        pass::<T, 1>(acc, j, rows, offsets);
    }

    macro_rules! element {
        ($t:ty, $w:ty, $tile:literal, |$l:ident| $lift:expr, |$f:ident| $finish:expr) => {
            impl Element for $t {
                type W = $w;
                #[inline(always)]
                fn lift(self) -> $w {
                    let $l = self;
                    $lift
                }
                #[inline(always)]
                fn finish(w: $w) -> $t {
                    let $f = w;
                    $finish
                }
                #[inline(always)]
                fn rows(acc: &mut [$w], rows: &[(&[$t], &[$w])], offsets: &[usize]) {
                    tiled::<$t, $tile, { $tile / 4 }>(acc, rows, offsets);
                }
            }
        };
    }

    element!(f64, f64, 32, |v| v, |w| w);
    element!(f32, f64, 32, |v| f64::from(v), |w| w as f32);
    element!(C64, C64, 8, |v| v, |w| w);
    element!(
        Complex<f32>,
        C64,
        8,
        |v| Complex::new(f64::from(v.re), f64::from(v.im)),
        |w| Complex::new(w.re as f32, w.im as f32)
    );
    element!(i64, i64, 16, |v| v, |w| w);
}

pub(crate) use sealed::Element;

// ------------------------------------------------------------------------------ layout

/// Stride 1 on the last axis. Output `j` (tap `t`) reads padded position `j + t d`, which is
/// input element `j + t d - lo` when inside. Outputs `[0, left_out)` read the left strip
/// (padded positions `0 ..`), outputs `[left_out, right_out)` read the input row in place
/// (their whole window is inside the input), outputs `[right_out, out)` read the right strip
/// (padded positions `right_out ..`).
struct Strips {
    lo: usize,
    left_out: usize,
    right_out: usize,
    /// Elements of the left strip; the right strip follows.
    left_len: usize,
    /// Where each strip position reads: an input index, or the boundary constant (`None`).
    sources: Vec<Option<usize>>,
}

/// One phase of a padded row (positions `r, r + s, r + 2s, ...`), stored in order: the
/// boundary positions before the input, `count` input elements `x[src], x[src + s], ...`,
/// and the boundary positions after it. A boundary position reads the input element given,
/// or the boundary constant (`None`).
struct Phase {
    lead: Vec<Option<usize>>,
    src: usize,
    count: usize,
    trail: Vec<Option<usize>>,
}

/// Stride `s > 1` on the last axis: padded position `i` is stored at `offset[i % s] + i / s`,
/// so that output `j`, tap `t` (position `j s + t d`) is at `offset[t d % s] + t d / s + j`.
struct Phased {
    step: usize,
    phases: Vec<Phase>,
}

enum Rows {
    InPlace(Strips),
    Phased(Phased),
}

pub(crate) struct Layout {
    /// Input rows: `N * C * product of the outer input extents`.
    rows_in: usize,
    /// Padded positions the last axis reads: `(out - 1) * s + d * (k - 1) + 1`.
    len: usize,
    /// Per last-axis tap: where output 0 reads it, in the source slice of its segment.
    taps: Vec<usize>,
    rows: Rows,
}

/// `ceil(a / b)` for `a >= 0`, `b > 0`.
fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}

/// The layout of the last axis' reads, or why the reference is used instead. Checks the
/// memory it needs against the limits before allocating anything.
fn layout<T: Element>(
    p: &Problem<'_, T>,
    geo: &Geometry,
    mutation: Mutation,
) -> Result<Layout, DirectFallback> {
    let Some((last, outer)) = geo.axes.split_last() else {
        return Err(DirectFallback::NoSpatialAxes);
    };
    let mode = &p.spec.boundary;
    let shape = p.input.shape();
    let rows_in = product(
        shape[..2]
            .iter()
            .copied()
            .chain(outer.iter().map(|a| a.input)),
    )
    .ok_or(DirectFallback::Memory)?;
    let (s, out, n) = (last.stride, last.output, last.input);
    let eff = last.effective_kernel();
    // At most the padded length, which the geometry proved fits in usize.
    let len = (out - 1)
        .checked_mul(s)
        .and_then(|v| v.checked_add(eff))
        .ok_or(DirectFallback::Memory)?;
    // The constant row for outer taps outside the input; the +1 row covers the tables.
    let constant = if outer.is_empty() { 0 } else { len as u128 };
    let fits = |per_row: u128| {
        (rows_in + 1)
            .checked_mul(per_row)
            .and_then(|v| v.checked_add(constant))
            .is_some_and(|v| v <= p.spec.limits.max_elements)
    };
    let shift = i128::from(mutation.pads_off_by_one());
    let lo = last.pad_lo as i128 - shift;
    let source = |i: i128| source_index(mode, i - lo, n);
    if s == 1 && out >= SHORT_ROW {
        let left_out = last.pad_lo.min(out);
        let inner_end = last.pad_lo as i128 + n as i128 + 1 - eff as i128;
        let right_out = inner_end.clamp(left_out as i128, out as i128) as usize;
        let left_len = if left_out > 0 { left_out + eff - 1 } else { 0 };
        let right_len = len - right_out;
        if !fits(left_len as u128 + right_len as u128) {
            return Err(DirectFallback::Memory);
        }
        let sources = (0..left_len as i128)
            .chain(right_out as i128..len as i128)
            .map(source)
            .collect();
        return Ok(Layout {
            rows_in: rows_in as usize,
            len,
            taps: (0..last.kernel).map(|t| t * last.dilation).collect(),
            rows: Rows::InPlace(Strips {
                lo: last.pad_lo,
                left_out,
                right_out,
                left_len,
                sources,
            }),
        });
    }
    if !fits(len as u128) {
        return Err(DirectFallback::Memory);
    }
    let (s_i, len_i, n_i) = (s as i128, len as i128, n as i128);
    let mut offsets = Vec::new();
    let mut phases = Vec::new();
    let mut start = 0usize;
    for r in 0..s.min(len) as i128 {
        let count = ceil_div(len_i - r, s_i);
        // Input elements: lo <= r + s m < lo + n.
        let m_lo = ceil_div((lo - r).max(0), s_i).min(count);
        let m_hi = ceil_div((lo + n_i - r).max(0), s_i).clamp(m_lo, count);
        phases.push(Phase {
            lead: (0..m_lo).map(|m| source(r + s_i * m)).collect(),
            src: if m_hi > m_lo {
                (r + s_i * m_lo - lo) as usize
            } else {
                0
            },
            count: (m_hi - m_lo) as usize,
            trail: (m_hi..count).map(|m| source(r + s_i * m)).collect(),
        });
        offsets.push(start);
        start += count as usize;
    }
    let taps = (0..last.kernel)
        .map(|t| {
            let q = t * last.dilation;
            offsets[q % s] + q / s
        })
        .collect();
    Ok(Layout {
        rows_in: rows_in as usize,
        len,
        taps,
        rows: Rows::Phased(Phased { step: s, phases }),
    })
}

// ------------------------------------------------------------------------------ compute

/// The padded data of every input row (rows of `n` elements of `x`), one row after another:
/// the strips, or the phased rows.
fn pad_rows<T: Element>(x: &[T], n: usize, rows: &Rows, fill: T) -> Vec<T> {
    let read = |src: &[T], i: &Option<usize>| i.map_or(fill, |i| src[i]);
    match rows {
        Rows::InPlace(st) => {
            let mut out = Vec::with_capacity(x.len() / n * st.sources.len());
            for src in x.chunks_exact(n) {
                out.extend(st.sources.iter().map(|i| read(src, i)));
            }
            out
        }
        Rows::Phased(ph) => {
            let len: usize = ph
                .phases
                .iter()
                .map(|p| p.lead.len() + p.count + p.trail.len())
                .sum();
            let mut out = Vec::with_capacity(x.len() / n * len);
            for src in x.chunks_exact(n) {
                for phase in &ph.phases {
                    out.extend(phase.lead.iter().map(|i| read(src, i)));
                    let body = src[phase.src..].iter().step_by(ph.step);
                    out.extend(body.take(phase.count));
                    out.extend(phase.trail.iter().map(|i| read(src, i)));
                }
            }
            out
        }
    }
}

/// For one outer output position `pos`: the flat outer input offset (in rows) of every outer
/// kernel tap in row-major order, or `None` where the tap reads the boundary constant.
fn outer_sources<T>(
    axes: &[AxisGeometry],
    pos: &[usize],
    mode: &Boundary<T>,
    out: &mut Vec<Option<usize>>,
    scratch: &mut Vec<Option<usize>>,
) {
    out.clear();
    out.push(Some(0));
    // Row-major strides of the outer input axes, applied from the last axis outwards.
    let mut stride = 1usize;
    for (a, &p) in axes.iter().zip(pos).rev() {
        std::mem::swap(out, scratch);
        out.clear();
        for k in 0..a.kernel {
            let q = (p * a.stride) as i128 + (k * a.dilation) as i128 - a.pad_lo as i128;
            let src = source_index(mode, q, a.input).map(|s| s * stride);
            for &inner in scratch.iter() {
                out.push(src.zip(inner).map(|(s, i)| s + i));
            }
        }
        stride *= a.input;
    }
}

/// A summation scheme run over the direct engine's layout: what a weight becomes, what is
/// accumulated per output, how one source row's taps are added, and what an output is made
/// from its accumulator. The direct engine's scheme is [`Plain`] (the reference's sum); the
/// correctly rounded engine (`engine::exact`) runs certified error-free sums through the same
/// loops.
pub(crate) trait Kernel: Sync {
    /// The element type of the input and weight arrays.
    type In: Element;
    /// A weight as the inner loop uses it.
    type W: Copy + Send + Sync;
    /// The running state of one output.
    type Acc: Copy + Default + Send + Sync;
    /// What one output becomes.
    type Out: Copy + Default + Send + Sync;
    /// A weight in the loop's form.
    fn weight(&self, w: Self::In) -> Self::W;
    /// The state before any tap: the bias, or the empty sum.
    fn start(&self, bias: Option<Self::In>) -> Self::Acc;
    /// Adds the taps of several source rows, in order: for each `(src, w)` of `rows` in
    /// order, each tap `t` and each `j < acc.len()`, the product of `w[t]` and
    /// `src[offsets[t] + j]` into `acc[j]`.
    fn rows(&self, acc: &mut [Self::Acc], rows: &[RowPair<'_, Self>], offsets: &[usize]);
    /// The output from its final state.
    fn finish(&self, acc: Self::Acc) -> Self::Out;
    /// How many output channels of one group [`Kernel::rows_block`] computes together, so
    /// that each input value loaded serves all of them: 1 (the default) when the scheme has
    /// no block kernel (in this build).
    fn block(&self) -> usize {
        1
    }
    /// [`Kernel::rows`] for `block()` consecutive output channels of one group at once:
    /// `acc[b * pitch + j]` (`j < len`) is the state of output `j` of the block's channel
    /// `b`, and the weights of channel `b` for a row are `w[b * wstride..]` (`w` of the
    /// row's pair). Each output gets the same taps in the same order as from `rows`.
    fn rows_block(
        &self,
        acc: &mut [Self::Acc],
        pitch: usize,
        len: usize,
        rows: &[RowPair<'_, Self>],
        wstride: usize,
        offsets: &[usize],
    ) {
        rows_by_channel(self, acc, pitch, len, rows, wstride, offsets);
    }
}

/// [`Kernel::rows_block`] as one [`Kernel::rows`] call per channel of the block.
pub(crate) fn rows_by_channel<K: Kernel + ?Sized>(
    k: &K,
    acc: &mut [K::Acc],
    pitch: usize,
    len: usize,
    rows: &[RowPair<'_, K>],
    wstride: usize,
    offsets: &[usize],
) {
    let mut pairs: Vec<RowPair<'_, K>> = Vec::with_capacity(rows.len());
    for b in 0..k.block() {
        pairs.clear();
        pairs.extend(rows.iter().map(|&(src, w)| (src, &w[b * wstride..])));
        k.rows(&mut acc[b * pitch..][..len], &pairs, offsets);
    }
}

/// One source row and the weights of its taps.
pub(crate) type RowPair<'a, K> = (&'a [<K as Kernel>::In], &'a [<K as Kernel>::W]);

/// The direct engine's scheme: the reference's sum in its order ([`Element`]).
pub(crate) struct Plain<T>(std::marker::PhantomData<T>);

impl<T: Element> Kernel for Plain<T> {
    type In = T;
    type W = T::W;
    type Acc = T::W;
    type Out = T;
    #[inline(always)]
    fn weight(&self, w: T) -> T::W {
        w.lift()
    }
    #[inline(always)]
    fn start(&self, bias: Option<T>) -> T::W {
        bias.map_or_else(T::W::default, Element::lift)
    }
    #[inline(always)]
    fn rows(&self, acc: &mut [T::W], rows: &[(&[T], &[T::W])], offsets: &[usize]) {
        T::rows(acc, rows, offsets);
    }
    #[inline(always)]
    fn finish(&self, acc: T::W) -> T {
        T::finish(acc)
    }
}

/// How a computation runs: the mutation (tests), the AVX2 build, and the threads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub mutation: Mutation,
    pub baseline_only: bool,
    pub threads: usize,
}

/// Checks the problem and lays it out: the geometry and the layout, or why the layout cannot
/// be used (the caller then computes without it).
pub(crate) fn prepare<T: Element>(
    p: &Problem<'_, T>,
    mutation: Mutation,
) -> Result<(Geometry, Result<Layout, DirectFallback>), ConvError> {
    let geo = p.validate()?;
    let l = layout(p, &geo, mutation);
    Ok((geo, l))
}

/// The whole computation on a layout. Returns the outputs in row-major order of
/// `(N, O, out...)`. The row loops run in the build [`units`] picks.
pub(crate) fn compute<K: Kernel>(
    k: &K,
    p: &Problem<'_, K::In>,
    geo: &Geometry,
    l: &Layout,
    run: Run,
) -> Vec<K::Out> {
    compute_body(k, p, geo, l, run)
}

/// Computes units `range` (see [`compute_body`]) and writes their rows into `out`, with
/// the loops compiled for the baseline target or, chosen at run time, with AVX-512 or AVX2
/// (with FMA: used only where a kernel asks for `mul_add`; the plain scheme never does, so
/// every build gives the same results). Each thread calls it, so each thread runs the
/// chosen build.
fn units<K: Kernel>(
    s: &Shared<'_, K>,
    range: std::ops::Range<usize>,
    out: &mut [K::Out],
    baseline_only: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if !baseline_only {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512vl") && has!("avx2") && has!("fma") {
            // SAFETY: the CPU supports every feature the function enables, checked just
            // above; that is the only requirement of a `#[target_feature]` function.
            return unsafe { units_avx512(s, range, out) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: as above, for AVX2 and FMA.
            return unsafe { units_avx2(s, range, out) };
        }
    }
    units_into(s, range, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
fn units_avx512<K: Kernel>(s: &Shared<'_, K>, range: std::ops::Range<usize>, out: &mut [K::Out]) {
    units_into(s, range, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn units_avx2<K: Kernel>(s: &Shared<'_, K>, range: std::ops::Range<usize>, out: &mut [K::Out]) {
    units_into(s, range, out);
}

/// Everything the output rows read, prepared once and shared by the threads.
struct Shared<'a, K: Kernel> {
    k: &'a K,
    outer: &'a [AxisGeometry],
    mode: &'a Boundary<K::In>,
    l: &'a Layout,
    xs: &'a [K::In],
    weights: Vec<K::W>,
    padded: Vec<K::In>,
    constant: Vec<K::In>,
    starts: Vec<K::Acc>,
    batch: usize,
    c_in: usize,
    c_out: usize,
    cg: usize,
    og: usize,
    taps: usize,
    used: usize,
    n: usize,
    k_last: usize,
    out_last: usize,
    outer_in: usize,
    outer_out: usize,
}

fn compute_body<K: Kernel>(
    k: &K,
    p: &Problem<'_, K::In>,
    geo: &Geometry,
    l: &Layout,
    run: Run,
) -> Vec<K::Out> {
    // `layout` succeeded, so there is a last axis.
    let Some((last, outer)) = geo.axes.split_last() else {
        return Vec::new();
    };
    let x = p.input.as_standard_layout();
    let w = p.weight.as_standard_layout();
    let owned: Vec<K::In>;
    let xs = match x.as_slice() {
        Some(xs) => xs,
        // `as_standard_layout` is always contiguous; logical order otherwise.
        None => {
            owned = x.iter().copied().collect();
            &owned
        }
    };
    let taps: usize = w.shape()[2..].iter().product();
    // Weights in the kernel's form, each kernel in row-major order of the kernel the
    // reference iterates: reversing every axis of a row-major block reverses its flat order.
    let mut weights: Vec<K::W> = w.iter().map(|&v| k.weight(v)).collect();
    if p.spec.flip == Flip::Convolution {
        for kernel in weights.chunks_exact_mut(taps) {
            kernel.reverse();
        }
    }
    let fill = fill_value(&p.spec.boundary);
    let c_out = w.shape()[0];
    let s = Shared {
        k,
        outer,
        mode: &p.spec.boundary,
        l,
        xs,
        weights,
        padded: pad_rows(xs, last.input, &l.rows, fill),
        // What an outer tap outside the input reads (zeros or constant mode).
        constant: if outer.is_empty() {
            Vec::new()
        } else {
            vec![fill; l.len]
        },
        starts: (0..c_out)
            .map(|o| k.start(p.bias.as_ref().map(|b| b[o])))
            .collect(),
        batch: x.shape()[0],
        c_in: x.shape()[1],
        c_out,
        cg: w.shape()[1],
        og: c_out / p.spec.groups,
        taps,
        // The number of taps used per kernel: all, or (mutation) all but the last.
        used: if run.mutation.drops_last_tap() {
            taps - 1
        } else {
            taps
        },
        n: last.input,
        k_last: last.kernel,
        out_last: last.output,
        outer_in: outer.iter().map(|a| a.input).product(),
        outer_out: outer.iter().map(|a| a.output).product(),
    };
    // Units of work are output rows in the order (outer position, sample, channel), so that
    // consecutive units read the same input rows. In that order they are the output's rows
    // when there is one outer position or one (sample, channel); otherwise they are placed.
    let bo = s.batch * s.c_out;
    let units = s.outer_out * bo;
    let in_order = s.outer_out == 1 || bo == 1;
    let threads = run.threads.clamp(1, units.max(1));
    // The rows in unit order, each thread writing its own run of them.
    let mut rows = vec![K::Out::default(); units * s.out_last];
    if threads == 1 {
        self::units(&s, 0..units, &mut rows, run.baseline_only);
    } else {
        // Whole blocks of channels per thread where the channels allow it.
        let per = units.div_ceil(threads).next_multiple_of(k.block().max(1));
        std::thread::scope(|scope| {
            let handles: Vec<_> = rows
                .chunks_mut(per * s.out_last)
                .enumerate()
                .map(|(i, part)| {
                    let s = &s;
                    let u0 = i * per;
                    scope.spawn(move || {
                        self::units(s, u0..units.min(u0 + per), part, run.baseline_only);
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            }
        });
    }
    if in_order {
        return rows;
    }
    let mut out = vec![K::Out::default(); units * s.out_last];
    for (u, row) in rows.chunks_exact(s.out_last).enumerate() {
        let (prow, r) = (u / bo, u % bo);
        let start = (r * s.outer_out + prow) * s.out_last;
        out[start..start + s.out_last].copy_from_slice(row);
    }
    out
}

/// Computes units `range` (see [`compute_body`]) into `out` (their rows, in order).
/// Consecutive units of `block()` channels of one group (aligned within the group) are
/// computed together by [`Kernel::rows_block`]; the others one by one.
#[inline(always)]
fn units_into<K: Kernel>(s: &Shared<'_, K>, range: std::ops::Range<usize>, out: &mut [K::Out]) {
    let bo = s.batch * s.c_out;
    // Blocks need every tap of every kernel (the dropped-tap mutation runs one by one).
    let block = if s.used == s.taps {
        s.k.block().max(1)
    } else {
        1
    };
    let mut acc = vec![K::Acc::default(); block * CHUNK.min(s.out_last)];
    let (mut sources, mut scratch) = (Vec::new(), Vec::new());
    let mut pairs: Vec<RowPair<'_, K>> = Vec::new();
    let mut current = usize::MAX;
    let mut pos = vec![0usize; s.outer.len()];
    let mut u = range.start;
    while u < range.end {
        let (prow, r) = (u / bo, u % bo);
        if prow != current {
            // The outer output position of row `prow`, row-major.
            let mut rest = prow;
            for (a, p) in s.outer.iter().zip(pos.iter_mut()).rev() {
                *p = rest % a.output;
                rest /= a.output;
            }
            outer_sources(s.outer, &pos, s.mode, &mut sources, &mut scratch);
            current = prow;
        }
        let (b, o) = (r / s.c_out, r % s.c_out);
        let g = o / s.og;
        let within = o - g * s.og;
        // Channels o .. o + nb: one sample, one group, one outer position.
        let nb = if block > 1
            && within.is_multiple_of(block)
            && within + block <= s.og
            && u + block <= range.end
        {
            block
        } else {
            1
        };
        let first_out = (u - range.start) * s.out_last;
        for j0 in (0..s.out_last).step_by(CHUNK) {
            let j1 = s.out_last.min(j0 + CHUNK);
            let pitch = j1 - j0;
            let acc = &mut acc[..nb * pitch];
            for (ob, acc) in acc.chunks_exact_mut(pitch).enumerate() {
                acc.fill(s.starts[o + ob]);
            }
            // Segments of outputs that read the same kind of row: [j0, a) the left strip,
            // [a, e) the input row in place, [e, j1) the right strip (in place), or one
            // segment of padded rows (phased).
            let (a, e) = match &s.l.rows {
                Rows::InPlace(st) => {
                    let a = st.left_out.clamp(j0, j1);
                    (a, st.right_out.clamp(a, j1))
                }
                Rows::Phased(_) => (j0, j1),
            };
            for (segment, (first, last)) in [(j0, a), (a, e), (e, j1)].into_iter().enumerate() {
                if first == last {
                    continue;
                }
                // Every (channel, outer tap) row, in the reference's order, with the weights
                // of channel o from that row on.
                pairs.clear();
                for c in 0..s.cg {
                    let base = (b * s.c_in + g * s.cg + c) * s.outer_in;
                    let kernel = (o * s.cg + c) * s.taps;
                    for (i, src) in sources.iter().enumerate() {
                        let taps = i * s.k_last..s.used.min((i + 1) * s.k_last);
                        let wk = if nb == 1 {
                            &s.weights[kernel..][taps]
                        } else {
                            &s.weights[kernel + taps.start..]
                        };
                        let Some(r) = src else {
                            pairs.push((&s.constant[first..], wk));
                            continue;
                        };
                        let row = base + r;
                        let slice: &[K::In] = match &s.l.rows {
                            Rows::InPlace(st) => {
                                let width = st.sources.len();
                                let strips = &s.padded[row * width..][..width];
                                let (left, right) = strips.split_at(st.left_len);
                                match segment {
                                    0 => &left[j0..],
                                    1 => &s.xs[row * s.n..][..s.n][a - st.lo..],
                                    _ => &right[e - st.right_out..],
                                }
                            }
                            Rows::Phased(_) => &s.padded[row * s.l.len..][..s.l.len][first..],
                        };
                        pairs.push((slice, wk));
                    }
                }
                let acc = &mut acc[first - j0..];
                if nb == 1 {
                    s.k.rows(&mut acc[..last - first], &pairs, &s.l.taps);
                } else {
                    let wstride = s.cg * s.taps;
                    s.k.rows_block(acc, pitch, last - first, &pairs, wstride, &s.l.taps);
                }
            }
            for (ob, acc) in acc.chunks_exact(pitch).enumerate() {
                let row = &mut out[first_out + ob * s.out_last..][j0..j1];
                for (y, &a) in row.iter_mut().zip(acc) {
                    *y = s.k.finish(a);
                }
            }
        }
        u += nb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{ConvSpec, Padding};
    use ndarray::array;

    #[test]
    fn hand_computed() {
        // The reference's hand case.
        let e = DirectEngine::new();
        let x = array![[[1i64, 2, 3, 4]]].into_dyn();
        let w = array![[[1i64, 10, 100]]].into_dyn();
        let y = e.conv(&Problem::new(x.view(), w.view())).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![321, 432]);
        let spec = ConvSpec::new().flip(Flip::Convolution);
        let y = e
            .conv(&Problem::new(x.view(), w.view()).spec(spec))
            .unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![123, 234]);
        // Reflect pad 1 each side: xb = [2 1 2 3 4 3]; stride 2 (two phases).
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .boundary(Boundary::Reflect)
            .stride([2]);
        let p = Problem::new(x.view(), w.view()).spec(spec);
        assert_eq!(
            e.plan(&p).unwrap(),
            DirectPath::Phased {
                rows: 1,
                row_len: 5,
                phases: 2
            }
        );
        let y = e.conv(&p).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![212, 432]);
    }

    #[test]
    fn phased_layout() {
        // n = 4, k = 3, s = 2, pads (1, 1): out = 2, positions -1..4 (5 of them), stored as
        // phase 0 (positions 0, 2, 4 -> input -1, 1, 3) then phase 1 (1, 3 -> input 0, 2).
        let x = array![[[1i64, 2, 3, 4]]].into_dyn();
        let w = array![[[1i64, 1, 1]]].into_dyn();
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .stride([2]);
        let p = Problem::new(x.view(), w.view()).spec(spec);
        let l = layout(&p, &p.validate().unwrap(), Mutation::None).unwrap();
        assert_eq!(
            pad_rows(&[1i64, 2, 3, 4], 4, &l.rows, 0),
            vec![0, 2, 4, 1, 3]
        );
        // Tap t reads position 2j + t: phase t % 2 from t / 2.
        assert_eq!(l.taps, vec![0, 3, 1]);
    }

    #[test]
    fn strips_layout() {
        // n = 70, k = 3, full (pads 2, 2): out = 72 (a long row: in place), 74 positions
        // -2..72. Outputs 0, 1 read the left strip (positions 0..4 -> input -2, -1, 0, 1),
        // outputs 2..70 the row in place, outputs 70, 71 the right strip (positions
        // 70..74 -> input 68, 69, 70, 71).
        let row: Vec<i64> = (1..=70).collect();
        let x = ndarray::Array1::from(row.clone())
            .into_shape_with_order((1, 1, 70))
            .unwrap()
            .into_dyn();
        let w = array![[[1i64, 1, 1]]].into_dyn();
        let p = Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
        let l = layout(&p, &p.validate().unwrap(), Mutation::None).unwrap();
        let Rows::InPlace(st) = &l.rows else {
            panic!("a long stride-1 row is in place")
        };
        assert_eq!((st.left_out, st.right_out, st.left_len), (2, 70, 4));
        let strips = pad_rows(&row, 70, &l.rows, -1);
        assert_eq!(strips, vec![-1, -1, 1, 2, 69, 70, -1, -1]);
        assert_eq!(
            DirectEngine::new().plan(&p).unwrap().to_string(),
            "direct in place: 1 rows, 8 padded per row"
        );
        // The same kernel on a short row: padded rows, one phase.
        let short = array![[[1i64, 2, 3, 4, 5]]].into_dyn();
        let p = Problem::new(short.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
        let l = layout(&p, &p.validate().unwrap(), Mutation::None).unwrap();
        assert_eq!(
            pad_rows(&[1i64, 2, 3, 4, 5], 5, &l.rows, -1),
            vec![-1, -1, 1, 2, 3, 4, 5, -1, -1]
        );
    }
}
