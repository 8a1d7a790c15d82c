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

use super::ConvEngine;
use super::direct::{self, Element, Kernel, Run};
use crate::problem::ConvError;
use crate::problem::Flip;
use crate::problem::Problem;
use crate::problem::boundary::{fill_value, source_index};
use crate::problem::geometry::Geometry;
use ndarray::ArrayD;
use num_complex::Complex;
use std::borrow::Cow;

// ------------------------------------------------------------------------------ engine

/// Deliberate bugs, for tests that show the properties can fail. Not for use.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The correct engine.
    #[default]
    None,
    /// Trusts the fast sum without its certificate (double rounding on hard cases).
    #[cfg(feature = "fault-injection")]
    Uncertified,
    /// The exact tier rounds ties away from zero instead of to even.
    #[cfg(feature = "fault-injection")]
    TiesAway,
    /// The exact tier truncates (rounds toward zero).
    #[cfg(feature = "fault-injection")]
    Truncate,
    /// The `f32` block kernel gives every channel of a block the first channel's weights
    /// (its blocks run in every build with this mutation).
    #[cfg(feature = "fault-injection")]
    BlockWeights,
}

impl Mutation {
    /// Whether this is [`Mutation::Uncertified`] (never without the `fault-injection` feature).
    pub(crate) fn uncertified(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::Uncertified;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
    /// Whether this is [`Mutation::BlockWeights`] (never without the `fault-injection` feature).
    pub(crate) fn block_weights(self) -> bool {
        #[cfg(feature = "fault-injection")]
        return self == Mutation::BlockWeights;
        #[cfg(not(feature = "fault-injection"))]
        return false;
    }
}

/// The correctly rounded engine (see the module docs; docs/numerics.md section 9). Plain
/// `Copy` data.
#[derive(Clone, Copy, Debug)]
pub struct ExactEngine {
    threads: usize,
    fast: bool,
    baseline_only: bool,
    mutation: Mutation,
}

impl Default for ExactEngine {
    fn default() -> Self {
        Self::new()
    }
}

/// How many outputs each tier produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExactStats {
    /// Outputs computed.
    pub outputs: usize,
    /// Outputs the certified fast sum produced.
    pub certified: usize,
    /// Outputs recomputed with the exact accumulator.
    pub exact: usize,
}

impl ExactEngine {
    /// The engine, using every thread the machine offers
    /// (`std::thread::available_parallelism`).
    pub fn new() -> Self {
        ExactEngine {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            fast: true,
            baseline_only: false,
            mutation: Mutation::None,
        }
    }

    /// The engine splitting its outputs over `threads` threads (`0` or `1`: the calling
    /// thread only). The results do not depend on it.
    #[must_use]
    pub fn threads(self, threads: usize) -> Self {
        ExactEngine {
            threads: threads.max(1),
            ..self
        }
    }

    /// The engine computing every output with the exact accumulator (no fast tier). Slower;
    /// the same results. For tests and for timing the tiers.
    #[must_use]
    pub fn fallback_only(self) -> Self {
        ExactEngine {
            fast: false,
            ..self
        }
    }

    /// The engine that never takes the AVX2/FMA build of the fast tier (tests only: the
    /// results are the same).
    #[doc(hidden)]
    #[must_use]
    pub fn baseline_only(self) -> Self {
        ExactEngine {
            baseline_only: true,
            ..self
        }
    }

    #[cfg(feature = "fault-injection")]
    /// An engine with a deliberate bug (tests only).
    #[doc(hidden)]
    pub fn with_mutation(mutation: Mutation) -> Self {
        ExactEngine {
            mutation,
            ..Self::new()
        }
    }

    /// The threads this engine uses.
    pub fn thread_count(&self) -> usize {
        self.threads
    }

    /// Computes the problem and reports how many outputs each tier produced. Runs every check
    /// of [`Problem::validate`] first (same errors as the reference).
    pub fn conv_with_stats<T: ExactElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<(ArrayD<T>, ExactStats), ConvError> {
        T::run(self, p)
    }
}

impl<T: ExactElement> ConvEngine<T> for ExactEngine {
    fn name(&self) -> &str {
        match self.mutation {
            Mutation::None => "exact",
            #[cfg(feature = "fault-injection")]
            Mutation::Uncertified => "exact-uncertified",
            #[cfg(feature = "fault-injection")]
            Mutation::TiesAway => "exact-ties-away",
            #[cfg(feature = "fault-injection")]
            Mutation::Truncate => "exact-truncate",
            #[cfg(feature = "fault-injection")]
            Mutation::BlockWeights => "exact-block-weights",
        }
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        T::run(self, p).map(|(y, _)| y)
    }
}

/// The element types the exact engine accepts: `f32`, `f64`, `Complex<f32>`,
/// `Complex<f64>` (sealed).
pub trait ExactElement: sealed::Sealed + Element + Exact {
    #[doc(hidden)]
    fn run(e: &ExactEngine, p: &Problem<'_, Self>)
    -> Result<(ArrayD<Self>, ExactStats), ConvError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for num_complex::Complex<f32> {}
    impl Sealed for num_complex::Complex<f64> {}
}

/// Runs both tiers: the fast kernel over the direct layout, then the exact accumulator for
/// every output the kernel did not certify (or for all, without the fast tier).
fn run_tiers<K, T>(
    e: &ExactEngine,
    p: &Problem<'_, T>,
    make: impl FnOnce(&Problem<'_, T>) -> K,
) -> Result<(ArrayD<T>, ExactStats), ConvError>
where
    T: Element + Exact,
    K: Kernel<In = T, Out = (T, bool)>,
{
    let (geo, l) = direct::prepare(p, direct::Mutation::None)?;
    let outputs =
        p.input.shape()[0] * p.weight.shape()[0] * geo.output_shape().iter().product::<usize>();
    let mut out: Vec<(T, bool)> = match (&l, e.fast) {
        (Ok(l), true) => {
            let k = make(p);
            let run = Run {
                mutation: direct::Mutation::None,
                baseline_only: e.baseline_only,
                threads: e.threads,
            };
            direct::compute(&k, p, &geo, l, run)
        }
        _ => vec![(T::default(), false); outputs],
    };
    if e.mutation.uncertified() {
        for o in &mut out {
            o.1 = true;
        }
    }
    let pending: Vec<usize> = (0..out.len()).filter(|&i| !out[i].1).collect();
    let stats = ExactStats {
        outputs: out.len(),
        certified: out.len() - pending.len(),
        exact: pending.len(),
    };
    let threads = e.threads.clamp(1, pending.len().max(1));
    let rounding = e.mutation;
    let walker = Walker::new(p, &geo);
    let values: Vec<T> = if threads == 1 {
        let mut acc = Superacc::new();
        pending
            .iter()
            .map(|&i| T::exact(&walker, i, &mut acc, rounding))
            .collect()
    } else {
        let per = pending.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = pending
                .chunks(per)
                .map(|part| {
                    let walker = &walker;
                    scope.spawn(move || {
                        let mut acc = Superacc::new();
                        part.iter()
                            .map(|&i| T::exact(walker, i, &mut acc, rounding))
                            .collect::<Vec<T>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    for (&i, v) in pending.iter().zip(values) {
        out[i].0 = v;
    }
    let y = direct::output_array(p, &geo, out.into_iter().map(|(v, _)| v).collect())?;
    Ok((y, stats))
}

impl ExactElement for f64 {
    fn run(e: &ExactEngine, p: &Problem<'_, f64>) -> Result<(ArrayD<f64>, ExactStats), ConvError> {
        run_tiers(e, p, |p| {
            DdKernel::new(products(p), tiny_products(p, |v| [v, 0.0]))
        })
    }
}

impl ExactElement for f32 {
    fn run(e: &ExactEngine, p: &Problem<'_, f32>) -> Result<(ArrayD<f32>, ExactStats), ConvError> {
        let simd = simd_available(e);
        run_tiers(e, p, |p| {
            WideKernel::new(
                products(p) + usize::from(p.bias.is_some()),
                simd,
                e.mutation,
            )
        })
    }
}

impl ExactElement for Complex<f64> {
    fn run(
        e: &ExactEngine,
        p: &Problem<'_, Complex<f64>>,
    ) -> Result<(ArrayD<Complex<f64>>, ExactStats), ConvError> {
        run_tiers(e, p, |p| {
            let tiny = tiny_products(p, |v| [v.re, v.im]);
            ComplexDd(DdKernel::new(2 * products(p), tiny))
        })
    }
}

impl ExactElement for Complex<f32> {
    fn run(
        e: &ExactEngine,
        p: &Problem<'_, Complex<f32>>,
    ) -> Result<(ArrayD<Complex<f32>>, ExactStats), ConvError> {
        run_tiers(e, p, |p| {
            ComplexWide(WideKernel::new(
                2 * products(p) + usize::from(p.bias.is_some()),
                false,
                Mutation::None,
            ))
        })
    }
}

/// Products per output: `C/G` channels times the kernel's taps.
fn products<T>(p: &Problem<'_, T>) -> usize {
    p.weight.shape()[1..].iter().product()
}

/// Whether some product of a weight and an input (or boundary) value may be too small for
/// `fma(w, x, -w*x)` to be exact: smallest nonzero `|w|` times smallest nonzero `|x|` below
/// `2^-960` (products from `2^-969` up are exact as `p + e`; `2^-960` leaves margin for the
/// rounding of the test itself). docs/numerics.md section 9.3.
fn tiny_products<T: Element>(p: &Problem<'_, T>, parts: impl Fn(T) -> [f64; 2]) -> bool {
    let min_nonzero = |it: &mut dyn Iterator<Item = T>| {
        it.flat_map(&parts)
            .map(f64::abs)
            .filter(|&v| v != 0.0)
            .fold(f64::INFINITY, f64::min)
    };
    let w = min_nonzero(&mut p.weight.iter().copied());
    let fill = fill_value(&p.spec.boundary);
    let x = min_nonzero(&mut p.input.iter().copied().chain(std::iter::once(fill)));
    // NaN and infinities make their outputs uncertified anyway.
    w * x < pow2(-960)
}

/// The terms of output `index` (row-major in `(N, O, out...)`): the bias as `(b, 1)` first
/// when there is one, then every `(weight, input)` pair of the formula in the reference's
/// order (boundary values included). For reports of a single element. Runs every check of
/// [`Problem::validate`] first; an index past the end gives no terms.
pub fn output_terms<T: ExactElement>(
    p: &Problem<'_, T>,
    index: usize,
) -> Result<Vec<(T, T)>, ConvError> {
    let geo = p.validate()?;
    let walker = Walker::new(p, &geo);
    let mut terms = Vec::new();
    if index < walker.outputs {
        walker.each_term(index, |t| match t {
            Term::Bias(b) => terms.push((b, T::one())),
            Term::Product(w, x) => terms.push((w, x)),
        });
    }
    Ok(terms)
}

// ------------------------------------------------------------------------------ fast tier

/// `2^e` for `e` in the normal range of `f64` (`-1022..=1023`); a constant where `e` is
/// (`powi` is a library call at run time).
#[inline(always)]
const fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `2^-1074`, the smallest positive `f64`.
const SUBNORMAL_MIN: f64 = f64::from_bits(1);

/// `gamma_m / (1 - gamma_m)`, rounded up by a relative `2^-40` (the few roundings of this
/// evaluation are below `2^-49`); infinite when `m u >= 1/2`. docs/numerics.md section 9.2.
fn growth(m: usize, u: f64) -> f64 {
    let mu = m as f64 * u;
    if mu >= 0.5 {
        return f64::INFINITY;
    }
    let g = mu / (1.0 - mu);
    g / (1.0 - g) * (1.0 + pow2(-40))
}

/// `v` rounded up so that a comparison `v < h` made after one more rounding is safe.
#[inline(always)]
fn margin(v: f64) -> f64 {
    v * (1.0 + pow2(-50))
}

/// The state of one output in the `f64` fast tier: running sum `s`, the correction `c` and
/// the sum `r` of the corrections' magnitudes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Dd {
    s: f64,
    c: f64,
    r: f64,
}

impl Dd {
    fn start(b: Option<f64>) -> Dd {
        Dd {
            s: b.unwrap_or(-0.0),
            c: 0.0,
            r: 0.0,
        }
    }
}

/// Adds `w * x` error-free: TwoProd (`p + e = w x`) and TwoSum (`s + p = s' + sigma`), the
/// error terms into `c`, their magnitude into `r`.
#[inline(always)]
fn dd_step(s: &mut f64, c: &mut f64, r: &mut f64, w: f64, x: f64) {
    let p = w * x;
    let e = w.mul_add(x, -p);
    let sn = *s + p;
    let bb = sn - *s;
    let sigma = (*s - (sn - bb)) + (p - bb);
    *s = sn;
    let z = sigma + e;
    *c += z;
    *r += z.abs();
}

/// Tiles of `L` outputs from `j` on, their states in registers (one array per field) while
/// every tap of every row is added; returns where the tiles stopped.
#[inline(always)]
fn dd_pass<const L: usize>(
    acc: &mut [Dd],
    mut j: usize,
    rows: &[(&[f64], &[f64])],
    offsets: &[usize],
) -> usize {
    while j + L <= acc.len() {
        let (mut s, mut c, mut r) = ([0.0; L], [0.0; L], [0.0; L]);
        for (i, d) in acc[j..j + L].iter().enumerate() {
            (s[i], c[i], r[i]) = (d.s, d.c, d.r);
        }
        for &(src, w) in rows {
            for (&wt, &off) in w.iter().zip(offsets) {
                let x = &src[off + j..off + j + L];
                for i in 0..L {
                    dd_step(&mut s[i], &mut c[i], &mut r[i], wt, x[i]);
                }
            }
        }
        for (i, d) in acc[j..j + L].iter_mut().enumerate() {
            *d = Dd {
                s: s[i],
                c: c[i],
                r: r[i],
            };
        }
        j += L;
    }
    j
}

/// The `f64` fast tier (docs/numerics.md section 9.3).
pub(crate) struct DdKernel {
    /// `gamma_n / (1 - gamma_(n-1))` rounded up (`n` products).
    grow: f64,
    /// `n 2^-1074` when a product may underflow, else 0.
    underflow: f64,
}

impl DdKernel {
    fn new(n: usize, tiny: bool) -> Self {
        DdKernel {
            // gamma_n / (1 - gamma_(n-1)) <= gamma_n / (1 - gamma_n).
            grow: growth(n, crate::tolerance::U64),
            underflow: if tiny { n as f64 * SUBNORMAL_MIN } else { 0.0 },
        }
    }

    /// The correctly rounded value of `s + c + (error within the bound)`, if certified.
    #[inline(always)]
    fn certify(&self, d: Dd) -> Option<f64> {
        let bound = if d.r == 0.0 {
            0.0
        } else {
            d.r * self.grow + SUBNORMAL_MIN
        } + self.underflow;
        let y = d.s + d.c;
        if !y.is_finite() || !bound.is_finite() {
            return None;
        }
        if y == 0.0 {
            // s + c = 0 exactly (TwoSum); with no error every term was exact: the value is
            // s, a zero whose sign IEEE addition of the terms gives.
            return (bound == 0.0).then_some(d.s);
        }
        let bb = y - d.s;
        let t = (d.s - (y - bb)) + (d.c - bb);
        let bits = y.to_bits() & !(1 << 63);
        let ex = bits >> 52;
        if ex < 60 {
            return None;
        }
        // Half the gap above (ulp/2 = 2^(ex - 1076)), or a quarter ulp for a power of two.
        let h = if bits & ((1 << 52) - 1) == 0 {
            f64::from_bits((ex - 54) << 52)
        } else {
            f64::from_bits((ex - 53) << 52)
        };
        (margin(t.abs() + bound) < h).then_some(y)
    }
}

impl Kernel for DdKernel {
    type In = f64;
    type W = f64;
    type Acc = Dd;
    type Out = (f64, bool);
    #[inline(always)]
    fn weight(&self, w: f64) -> f64 {
        w
    }
    #[inline(always)]
    fn start(&self, bias: Option<f64>) -> Dd {
        Dd::start(bias)
    }
    #[inline(always)]
    fn rows(&self, acc: &mut [Dd], rows: &[(&[f64], &[f64])], offsets: &[usize]) {
        // Tiles of 16 and 8 are vectorised (LLVM's loop vectoriser; the SLP vectoriser
        // leaves TwoSum's fully unrolled shorter tiles scalar).
        let j = dd_pass::<16>(acc, 0, rows, offsets);
        let j = dd_pass::<8>(acc, j, rows, offsets);
        dd_pass::<1>(acc, j, rows, offsets);
    }
    #[inline(always)]
    fn finish(&self, d: Dd) -> (f64, bool) {
        match self.certify(d) {
            Some(y) => (y, true),
            // The uncertified estimate (only a test mutation keeps it).
            None => (d.s + d.c, false),
        }
    }
}

/// The state of one output in the `f32` fast tier: the `f64` sum of the exact products and
/// the sum of their magnitudes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Wide {
    s: f64,
    a: f64,
}

impl Wide {
    fn start(b: Option<f32>) -> Wide {
        match b {
            Some(b) => Wide {
                s: f64::from(b),
                a: f64::from(b).abs(),
            },
            None => Wide { s: -0.0, a: 0.0 },
        }
    }
}

#[inline(always)]
fn wide_step(s: &mut f64, a: &mut f64, w: f64, x: f64) {
    // Exact: two f32 significands (24 bits each) multiply within f64's 53.
    let p = w * x;
    *s += p;
    *a += p.abs();
}

/// [`dd_pass`] for the `f32` tier.
#[inline(always)]
fn wide_pass<const L: usize>(
    acc: &mut [Wide],
    mut j: usize,
    rows: &[(&[f32], &[[f64; 2]])],
    offsets: &[usize],
) -> usize {
    while j + L <= acc.len() {
        let (mut s, mut a) = ([0.0; L], [0.0; L]);
        for (i, d) in acc[j..j + L].iter().enumerate() {
            (s[i], a[i]) = (d.s, d.a);
        }
        for &(src, w) in rows {
            for (&wt, &off) in w.iter().zip(offsets) {
                let x = &src[off + j..off + j + L];
                for i in 0..L {
                    wide_step(&mut s[i], &mut a[i], wt[0], f64::from(x[i]));
                }
            }
        }
        for (i, d) in acc[j..j + L].iter_mut().enumerate() {
            *d = Wide { s: s[i], a: a[i] };
        }
        j += L;
    }
    j
}

/// The `f32` fast tier (docs/numerics.md section 9.2).
pub(crate) struct WideKernel {
    /// `gamma_(m-1) / (1 - gamma_(m-1))` rounded up (`m` terms, bias included).
    grow: f64,
    /// Whether the AVX-512 block kernel (`wide_block_avx512`) runs: the CPU has AVX-512F
    /// and the engine may use it.
    simd: bool,
    /// [`Mutation::BlockWeights`].
    block_bug: bool,
}

impl WideKernel {
    fn new(terms: usize, simd: bool, mutation: Mutation) -> Self {
        WideKernel {
            grow: growth(terms.saturating_sub(1), crate::tolerance::U64),
            simd,
            block_bug: mutation.block_weights(),
        }
    }

    #[inline(always)]
    fn certify(&self, w: Wide) -> Option<f32> {
        let bound = if w.a == 0.0 {
            0.0
        } else {
            w.a * self.grow + SUBNORMAL_MIN
        };
        if !w.s.is_finite() || !bound.is_finite() {
            return None;
        }
        let r = w.s as f32;
        if !r.is_finite() {
            return None;
        }
        if bound == 0.0 {
            // s is the exact sum: its conversion is the one rounding.
            return Some(r);
        }
        if r == 0.0 && margin(bound) >= w.s.abs() {
            // The sum might be exactly zero (+0) or of either sign.
            return None;
        }
        // Exact: r is s rounded, within a factor 2 of s (Sterbenz), or 0.
        let d = w.s - f64::from(r);
        let bits = r.to_bits() & 0x7fff_ffff;
        let ex = bits >> 23;
        let h = if ex == 0 {
            // Subnormal or zero: the gap is 2^-149 on both sides.
            pow2(-150)
        } else {
            let ulp = pow2(ex as i32 - 150);
            if bits & 0x7f_ffff == 0 && ex > 1 {
                ulp / 4.0
            } else {
                ulp / 2.0
            }
        };
        (margin(d.abs() + bound) < h).then_some(r)
    }
}

impl Kernel for WideKernel {
    type In = f32;
    /// The weight and its magnitude.
    type W = [f64; 2];
    type Acc = Wide;
    type Out = (f32, bool);
    #[inline(always)]
    fn weight(&self, w: f32) -> [f64; 2] {
        [f64::from(w), f64::from(w).abs()]
    }
    #[inline(always)]
    fn start(&self, bias: Option<f32>) -> Wide {
        Wide::start(bias)
    }
    #[inline(always)]
    fn rows(&self, acc: &mut [Wide], rows: &[(&[f32], &[[f64; 2]])], offsets: &[usize]) {
        let j = wide_pass::<32>(acc, 0, rows, offsets);
        let j = wide_pass::<8>(acc, j, rows, offsets);
        wide_pass::<1>(acc, j, rows, offsets);
    }
    fn block(&self) -> usize {
        if self.simd || self.block_bug {
            WIDE_BLOCK
        } else {
            1
        }
    }
    fn rows_block(
        &self,
        acc: &mut [Wide],
        pitch: usize,
        len: usize,
        rows: &[(&[f32], &[[f64; 2]])],
        wstride: usize,
        offsets: &[usize],
    ) {
        let wstride = if self.block_bug { 0 } else { wstride };
        #[cfg(target_arch = "x86_64")]
        if self.simd && block_fits(acc.len(), pitch, len, rows, wstride, offsets) {
            // SAFETY: `simd` is set only where AVX-512F was detected at run time
            // (`simd_available`), and `block_fits` checked the reads and writes.
            unsafe { wide_block_avx512(acc, pitch, len, rows, wstride, offsets) };
            return;
        }
        direct::rows_by_channel(self, acc, pitch, len, rows, wstride, offsets);
    }
    #[inline(always)]
    fn finish(&self, w: Wide) -> (f32, bool) {
        match self.certify(w) {
            Some(y) => (y, true),
            // The uncertified estimate (only a test mutation keeps it).
            None => (w.s as f32, false),
        }
    }
}

/// Output channels the AVX-512 `f32` kernel computes together.
const WIDE_BLOCK: usize = 4;

/// Whether the AVX-512 kernels may run: the CPU has AVX-512F, and the engine was not
/// restricted to the baseline build.
fn simd_available(e: &ExactEngine) -> bool {
    #[cfg(target_arch = "x86_64")]
    if !e.baseline_only {
        return std::arch::is_x86_feature_detected!("avx512f");
    }
    let _ = e;
    false
}

/// Whether every index [`wide_block_avx512`] reads or writes is inside its slice: the
/// states `acc[b * pitch + j]` (`j < len`), each row's inputs `src[off + j]` and weights
/// `w[b * wstride + t]` (`t < offsets.len()`), for the [`WIDE_BLOCK`] channels.
fn block_fits<W>(
    acc: usize,
    pitch: usize,
    len: usize,
    rows: &[(&[f32], &[W])],
    wstride: usize,
    offsets: &[usize],
) -> bool {
    let last = WIDE_BLOCK - 1;
    let reach = offsets.iter().max().map_or(0, |&m| m + len);
    let taps = last * wstride + offsets.len();
    last * pitch + len <= acc
        && rows
            .iter()
            .all(|&(src, w)| src.len() >= reach && w.len() >= taps)
}

/// [`Kernel::rows_block`] of the `f32` tier for [`WIDE_BLOCK`] channels: tiles of 16 and
/// then 8 outputs per channel, whose sums and magnitude sums stay in registers while every
/// tap of every row is added; each input vector (8 values widened to `f64`) and its
/// magnitude serve all the channels. The outputs past the last tile go one by one. Per
/// output the taps are added in `rows`' order with the same operations: `fma(w, x, s)` is
/// `s + w x` rounded once, as the product is exact, and `fma(|w|, |x|, a)` is `a + |w x|`
/// rounded once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn wide_block_avx512(
    acc: &mut [Wide],
    pitch: usize,
    len: usize,
    rows: &[(&[f32], &[[f64; 2]])],
    wstride: usize,
    offsets: &[usize],
) {
    let mut j = 0;
    while j + 16 <= len {
        wide_tile::<2>(acc, pitch, j, rows, wstride, offsets);
        j += 16;
    }
    if j + 8 <= len {
        wide_tile::<1>(acc, pitch, j, rows, wstride, offsets);
        j += 8;
    }
    for b in 0..WIDE_BLOCK {
        for (i, d) in (j..).zip(&mut acc[b * pitch..][j..len]) {
            for &(src, w) in rows {
                for (&wt, &off) in w[b * wstride..].iter().zip(offsets) {
                    wide_step(&mut d.s, &mut d.a, wt[0], f64::from(src[off + i]));
                }
            }
        }
    }
}

/// One tile of [`wide_block_avx512`]: outputs `j .. j + 8 V` of each channel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn wide_tile<const V: usize>(
    acc: &mut [Wide],
    pitch: usize,
    j: usize,
    rows: &[(&[f32], &[[f64; 2]])],
    wstride: usize,
    offsets: &[usize],
) {
    use std::arch::x86_64::{
        __m512d, _mm256_loadu_ps, _mm512_abs_pd, _mm512_cvtps_pd, _mm512_fmadd_pd, _mm512_loadu_pd,
        _mm512_set1_pd, _mm512_setzero_pd, _mm512_storeu_pd,
    };
    let mut s: [[__m512d; V]; WIDE_BLOCK] = [[_mm512_setzero_pd(); V]; WIDE_BLOCK];
    let mut a = s;
    for b in 0..WIDE_BLOCK {
        for v in 0..V {
            let tile = &acc[b * pitch + j + 8 * v..][..8];
            let (ts, ta): ([f64; 8], [f64; 8]) = (
                std::array::from_fn(|i| tile[i].s),
                std::array::from_fn(|i| tile[i].a),
            );
            // SAFETY: each array holds the 8 values read.
            unsafe {
                s[b][v] = _mm512_loadu_pd(ts.as_ptr());
                a[b][v] = _mm512_loadu_pd(ta.as_ptr());
            }
        }
    }
    for &(src, w) in rows {
        for (t, &off) in offsets.iter().enumerate() {
            let mut x = [_mm512_setzero_pd(); V];
            let mut xa = x;
            for v in 0..V {
                // SAFETY: the 8 values from `off + j + 8 v` are inside `src`: `j + 8 V <=
                // len` and the caller checked `src.len() >= off + len` (`block_fits`).
                x[v] =
                    _mm512_cvtps_pd(unsafe { _mm256_loadu_ps(src.as_ptr().add(off + j + 8 * v)) });
                xa[v] = _mm512_abs_pd(x[v]);
            }
            for b in 0..WIDE_BLOCK {
                // SAFETY: `t < offsets.len()` and the caller checked
                // `w.len() >= (WIDE_BLOCK - 1) * wstride + offsets.len()` (`block_fits`).
                let [wt, wa] = unsafe { *w.get_unchecked(b * wstride + t) };
                let (wt, wa) = (_mm512_set1_pd(wt), _mm512_set1_pd(wa));
                for v in 0..V {
                    s[b][v] = _mm512_fmadd_pd(wt, x[v], s[b][v]);
                    a[b][v] = _mm512_fmadd_pd(wa, xa[v], a[b][v]);
                }
            }
        }
    }
    for b in 0..WIDE_BLOCK {
        for v in 0..V {
            let (mut ts, mut ta) = ([0.0; 8], [0.0; 8]);
            // SAFETY: each array has room for the 8 values written.
            unsafe {
                _mm512_storeu_pd(ts.as_mut_ptr(), s[b][v]);
                _mm512_storeu_pd(ta.as_mut_ptr(), a[b][v]);
            }
            let tile = &mut acc[b * pitch + j + 8 * v..][..8];
            for (d, (s, a)) in tile.iter_mut().zip(ts.into_iter().zip(ta)) {
                *d = Wide { s, a };
            }
        }
    }
}

/// The `Complex<f64>` fast tier: two [`Dd`] sums of `2 n` products each.
pub(crate) struct ComplexDd(DdKernel);

impl Kernel for ComplexDd {
    type In = Complex<f64>;
    type W = Complex<f64>;
    type Acc = [Dd; 2];
    type Out = (Complex<f64>, bool);
    #[inline(always)]
    fn weight(&self, w: Complex<f64>) -> Complex<f64> {
        w
    }
    #[inline(always)]
    fn start(&self, bias: Option<Complex<f64>>) -> [Dd; 2] {
        [Dd::start(bias.map(|b| b.re)), Dd::start(bias.map(|b| b.im))]
    }
    #[inline(always)]
    fn rows(
        &self,
        acc: &mut [[Dd; 2]],
        rows: &[(&[Complex<f64>], &[Complex<f64>])],
        offsets: &[usize],
    ) {
        for (j, [re, im]) in acc.iter_mut().enumerate() {
            for ((&wt, &off), src) in rows
                .iter()
                .flat_map(|&(src, w)| w.iter().zip(offsets).map(move |t| (t, src)))
            {
                let x = src[off + j];
                dd_step(&mut re.s, &mut re.c, &mut re.r, wt.re, x.re);
                dd_step(&mut re.s, &mut re.c, &mut re.r, -wt.im, x.im);
                dd_step(&mut im.s, &mut im.c, &mut im.r, wt.re, x.im);
                dd_step(&mut im.s, &mut im.c, &mut im.r, wt.im, x.re);
            }
        }
    }
    #[inline(always)]
    fn finish(&self, [re, im]: [Dd; 2]) -> (Complex<f64>, bool) {
        match (self.0.certify(re), self.0.certify(im)) {
            (Some(a), Some(b)) => (Complex::new(a, b), true),
            _ => (Complex::new(re.s + re.c, im.s + im.c), false),
        }
    }
}

/// The `Complex<f32>` fast tier: two [`Wide`] sums of `2 n` exact products each.
pub(crate) struct ComplexWide(WideKernel);

impl Kernel for ComplexWide {
    type In = Complex<f32>;
    type W = Complex<f64>;
    type Acc = [Wide; 2];
    type Out = (Complex<f32>, bool);
    #[inline(always)]
    fn weight(&self, w: Complex<f32>) -> Complex<f64> {
        Complex::new(f64::from(w.re), f64::from(w.im))
    }
    #[inline(always)]
    fn start(&self, bias: Option<Complex<f32>>) -> [Wide; 2] {
        [
            Wide::start(bias.map(|b| b.re)),
            Wide::start(bias.map(|b| b.im)),
        ]
    }
    #[inline(always)]
    fn rows(
        &self,
        acc: &mut [[Wide; 2]],
        rows: &[(&[Complex<f32>], &[Complex<f64>])],
        offsets: &[usize],
    ) {
        for (j, [re, im]) in acc.iter_mut().enumerate() {
            for ((&wt, &off), src) in rows
                .iter()
                .flat_map(|&(src, w)| w.iter().zip(offsets).map(move |t| (t, src)))
            {
                let x = src[off + j];
                let (xr, xi) = (f64::from(x.re), f64::from(x.im));
                wide_step(&mut re.s, &mut re.a, wt.re, xr);
                wide_step(&mut re.s, &mut re.a, -wt.im, xi);
                wide_step(&mut im.s, &mut im.a, wt.re, xi);
                wide_step(&mut im.s, &mut im.a, wt.im, xr);
            }
        }
    }
    #[inline(always)]
    fn finish(&self, [re, im]: [Wide; 2]) -> (Complex<f32>, bool) {
        match (self.0.certify(re), self.0.certify(im)) {
            (Some(a), Some(b)) => (Complex::new(a, b), true),
            _ => (Complex::new(re.s as f32, im.s as f32), false),
        }
    }
}

// ------------------------------------------------------------------------------ exact tier

/// Bits per digit of the long accumulator.
const DIGIT: i32 = 32;
/// Weight of digit 0: `2^BASE`, below the smallest product of two `f64` (`2^-2148`).
const BASE: i32 = -2208;
/// Digits: up to weight `2^(BASE + 32 * 140) = 2^2272`, above the largest sum of `2^64`
/// products (below `2^2112`).
const DIGITS: usize = 140;
/// Terms added between carry propagations: each adds less than `2^33` to a digit, so
/// digits stay below `2^62` in magnitude.
const RENORMALISE: u32 = 1 << 29;

/// A long (Kulisch) accumulator for sums of products of floats: exact, with the IEEE
/// special-value rules kept as flags, rounded once to `f64` or `f32` at the end.
/// docs/numerics.md section 9.4.
#[derive(Clone, Debug)]
pub struct Superacc {
    digits: Vec<i64>,
    pending: u32,
    nan: bool,
    pos_inf: bool,
    neg_inf: bool,
    /// Every term so far was `-0` (the sign of an exact zero sum).
    all_neg_zero: bool,
}

impl Default for Superacc {
    fn default() -> Self {
        Self::new()
    }
}

/// A binary float format the accumulator rounds to.
pub trait Exact: Copy {
    /// Significand bits, the hidden one included (53, 24).
    const PRECISION: i32;
    /// Exponent of the smallest normal number (-1022, -126).
    const EMIN: i32;
    /// Exponent of the largest finite number (1023, 127).
    const EMAX: i32;
    /// `(negative, significand, exponent)` with the value `significand * 2^exponent`, or
    /// `None` for NaN and infinities (with their sign: `Some(Err(negative))`).
    fn parts(self) -> Result<(bool, u64, i32), Option<bool>>;
    /// `(-1)^negative * n * 2^q`, exact (`n < 2^PRECISION`, `q` in range).
    fn compose(negative: bool, n: u64, q: i32) -> Self;
    /// NaN, or infinity with a sign, or zero with a sign.
    fn special(nan: bool, inf: bool, negative: bool) -> Self;
    /// Adds this element's exact value at output `i` (see [`Walker`]).
    #[doc(hidden)]
    fn exact(w: &Walker<'_, Self>, i: usize, acc: &mut Superacc, m: Mutation) -> Self
    where
        Self: Sized;
}

impl Superacc {
    /// An empty sum.
    pub fn new() -> Self {
        Superacc {
            digits: vec![0; DIGITS],
            pending: 0,
            nan: false,
            pos_inf: false,
            neg_inf: false,
            all_neg_zero: true,
        }
    }

    /// Back to the empty sum.
    pub fn clear(&mut self) {
        self.digits.fill(0);
        self.pending = 0;
        self.nan = false;
        self.pos_inf = false;
        self.neg_inf = false;
        self.all_neg_zero = true;
    }

    /// Adds `(-1)^negative * m * 2^e` (`m < 2^106`, `e >= -2148`).
    fn add_term(&mut self, negative: bool, m: u128, e: i32) {
        if m == 0 {
            if !negative {
                self.all_neg_zero = false;
            }
            return;
        }
        self.all_neg_zero = false;
        let rel = (e - BASE) as usize;
        let (q, sh) = (rel / DIGIT as usize, rel % DIGIT as usize);
        for k in 0..4 {
            let chunk = ((m >> (32 * k)) & 0xffff_ffff) as u64;
            if chunk == 0 {
                continue;
            }
            let v = chunk << sh;
            let (lo, hi) = ((v & 0xffff_ffff) as i64, (v >> 32) as i64);
            if negative {
                self.digits[q + k] -= lo;
                self.digits[q + k + 1] -= hi;
            } else {
                self.digits[q + k] += lo;
                self.digits[q + k + 1] += hi;
            }
        }
        self.pending += 1;
        if self.pending >= RENORMALISE {
            self.normalise();
        }
    }

    /// Records a NaN or an infinity.
    fn add_special(&mut self, nan: bool, negative: bool) {
        self.all_neg_zero = false;
        if nan {
            self.nan = true;
        } else if negative {
            self.neg_inf = true;
        } else {
            self.pos_inf = true;
        }
    }

    /// Adds one value exactly.
    pub fn add<F: Exact>(&mut self, v: F) {
        match v.parts() {
            Ok((neg, m, e)) => self.add_term(neg, u128::from(m), e),
            Err(None) => self.add_special(true, false),
            Err(Some(neg)) => self.add_special(false, neg),
        }
    }

    /// Adds `a * b` (negated when `negate`) exactly; IEEE rules for NaN and infinities
    /// (`inf * 0` is NaN).
    pub fn add_product<F: Exact>(&mut self, a: F, b: F, negate: bool) {
        match (a.parts(), b.parts()) {
            (Ok((na, ma, ea)), Ok((nb, mb, eb))) => {
                self.add_term(na ^ nb ^ negate, u128::from(ma) * u128::from(mb), ea + eb)
            }
            (Err(None), _) | (_, Err(None)) => self.add_special(true, false),
            (Err(Some(ni)), Ok((nf, m, _))) | (Ok((nf, m, _)), Err(Some(ni))) => {
                if m == 0 {
                    self.add_special(true, false)
                } else {
                    self.add_special(false, ni ^ nf ^ negate)
                }
            }
            (Err(Some(na)), Err(Some(nb))) => self.add_special(false, na ^ nb ^ negate),
        }
    }

    /// Propagates carries: digits below the top in `[0, 2^32)`, the top digit signed.
    fn normalise(&mut self) {
        let mut carry = 0i64;
        let last = DIGITS - 1;
        for d in &mut self.digits[..last] {
            let v = *d + carry;
            *d = v & 0xffff_ffff;
            carry = v >> 32;
        }
        self.digits[last] += carry;
        self.pending = 0;
    }

    /// Bits `[lo, lo + width)` (absolute exponents, `width <= 64`) of the normalised
    /// non-negative integer.
    fn window(&self, lo: i32, width: u32) -> u64 {
        let rel = (lo - BASE) as usize;
        let (q, sh) = (rel / DIGIT as usize, rel % DIGIT as usize);
        let digit = |i: usize| self.digits.get(i).map_or(0u128, |&d| d as u128);
        let v = digit(q) | digit(q + 1) << 32 | digit(q + 2) << 64;
        let v = v >> sh;
        (v & ((1u128 << width) - 1)) as u64
    }

    /// Whether any bit below exponent `lo` is set.
    fn any_below(&self, lo: i32) -> bool {
        let rel = (lo - BASE) as usize;
        let (q, sh) = (rel / DIGIT as usize, rel % DIGIT as usize);
        self.digits[..q].iter().any(|&d| d != 0) || self.digits[q] & ((1i64 << sh) - 1) != 0
    }

    /// The sum rounded once to `F` (nearest, ties to even, unless a test mutation says
    /// otherwise). Leaves the accumulator normalised (its value unchanged in magnitude).
    pub fn round<F: Exact>(&mut self) -> F {
        self.round_with(Mutation::None)
    }

    fn round_with<F: Exact>(&mut self, m: Mutation) -> F {
        if self.nan || (self.pos_inf && self.neg_inf) {
            return F::special(true, false, false);
        }
        if self.pos_inf || self.neg_inf {
            return F::special(false, true, self.neg_inf);
        }
        self.normalise();
        let negative = self.digits[DIGITS - 1] < 0;
        if negative {
            for d in &mut self.digits {
                *d = -*d;
            }
            self.normalise();
        }
        let Some(h) = (0..DIGITS).rev().find(|&i| self.digits[i] != 0) else {
            return F::special(false, false, self.all_neg_zero);
        };
        let top = BASE + DIGIT * h as i32 + (63 - self.digits[h].leading_zeros() as i32);
        let p = F::PRECISION;
        let mut q = (top - (p - 1)).max(F::EMIN - (p - 1));
        let w = self.window(q - 1, p as u32 + 1);
        let (guard, mut n) = (w & 1 == 1, w >> 1);
        let sticky = self.any_below(q - 1);
        let up = match m {
            #[cfg(feature = "fault-injection")]
            Mutation::Truncate => false,
            #[cfg(feature = "fault-injection")]
            Mutation::TiesAway => guard,
            _ => guard && (sticky || n & 1 == 1),
        };
        if up {
            n += 1;
            if n == 1 << p {
                n >>= 1;
                q += 1;
            }
        }
        if q + p - 1 > F::EMAX {
            return F::special(false, true, negative);
        }
        if n == 0 {
            return F::special(false, false, negative);
        }
        F::compose(negative, n, q)
    }
}

/// `Exact` for a binary format: `$frac` stored significand bits, exponent bias `$bias`.
macro_rules! exact_real {
    ($t:ty, $bits:ty, $frac:literal, $bias:literal) => {
        impl Exact for $t {
            const PRECISION: i32 = $frac + 1;
            const EMIN: i32 = 1 - $bias;
            const EMAX: i32 = $bias;
            fn parts(self) -> Result<(bool, u64, i32), Option<bool>> {
                let bits = self.to_bits();
                let negative = bits >> (<$bits>::BITS - 1) == 1;
                let field = ((bits >> $frac) & ((1 << (<$bits>::BITS - 1 - $frac)) - 1)) as i32;
                let frac = u64::from(bits & ((1 << $frac) - 1));
                match field {
                    0 => Ok((negative, frac, 1 - $bias - $frac)),
                    f if f == 2 * $bias + 1 && frac != 0 => Err(None),
                    f if f == 2 * $bias + 1 => Err(Some(negative)),
                    f => Ok((negative, frac | 1 << $frac, f - $bias - $frac)),
                }
            }
            fn compose(negative: bool, n: u64, q: i32) -> $t {
                // 2^q, a normal or (below 2^EMIN) subnormal power of two: n * 2^q is exact.
                let scale = if q >= 1 - $bias {
                    <$t>::from_bits(((q + $bias) as $bits) << $frac)
                } else {
                    <$t>::from_bits(1 << (q + $bias - 1 + $frac))
                };
                let v = n as $t * scale;
                if negative { -v } else { v }
            }
            fn special(nan: bool, inf: bool, negative: bool) -> $t {
                let v = if nan {
                    <$t>::NAN
                } else if inf {
                    <$t>::INFINITY
                } else {
                    0.0
                };
                if negative { -v } else { v }
            }
            fn exact(w: &Walker<'_, $t>, i: usize, acc: &mut Superacc, m: Mutation) -> $t {
                acc.clear();
                w.each_term(i, |t| match t {
                    Term::Bias(b) => acc.add(b),
                    Term::Product(wv, xv) => acc.add_product(wv, xv, false),
                });
                acc.round_with(m)
            }
        }
    };
}

exact_real!(f64, u64, 52, 1023);
exact_real!(f32, u32, 23, 127);

macro_rules! exact_complex {
    ($t:ty) => {
        impl Exact for Complex<$t> {
            const PRECISION: i32 = <$t as Exact>::PRECISION;
            const EMIN: i32 = <$t as Exact>::EMIN;
            const EMAX: i32 = <$t as Exact>::EMAX;
            fn parts(self) -> Result<(bool, u64, i32), Option<bool>> {
                self.re.parts()
            }
            fn compose(negative: bool, n: u64, q: i32) -> Self {
                Complex::new(<$t>::compose(negative, n, q), 0.0)
            }
            fn special(nan: bool, inf: bool, negative: bool) -> Self {
                Complex::new(<$t>::special(nan, inf, negative), 0.0)
            }
            fn exact(w: &Walker<'_, Self>, i: usize, acc: &mut Superacc, m: Mutation) -> Self {
                acc.clear();
                w.each_term(i, |t| match t {
                    Term::Bias(b) => acc.add(b.re),
                    Term::Product(wv, xv) => {
                        acc.add_product(wv.re, xv.re, false);
                        acc.add_product(wv.im, xv.im, true);
                    }
                });
                let re = acc.round_with(m);
                acc.clear();
                w.each_term(i, |t| match t {
                    Term::Bias(b) => acc.add(b.im),
                    Term::Product(wv, xv) => {
                        acc.add_product(wv.re, xv.im, false);
                        acc.add_product(wv.im, xv.re, false);
                    }
                });
                Complex::new(re, acc.round_with(m))
            }
        }
    };
}

exact_complex!(f32);
exact_complex!(f64);

/// A term of an output's sum.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Term<T> {
    /// The bias.
    Bias(T),
    /// A weight and the input value it multiplies.
    Product(T, T),
}

/// Walks the terms of any output with its own index arithmetic: for output `i` (row-major
/// in `(N, O, out...)`), the bias, then for each channel of the group and each kernel tap in
/// row-major order, the weight and the input value (or the boundary constant) it multiplies.
#[doc(hidden)]
pub struct Walker<'a, T: Clone> {
    x: Cow<'a, [T]>,
    w: Cow<'a, [T]>,
    bias: Option<Vec<T>>,
    fill: T,
    mode: &'a crate::problem::Boundary<T>,
    geo: Geometry,
    flip: bool,
    x_shape: Vec<usize>,
    c_out: usize,
    cg: usize,
    og: usize,
    taps: usize,
    outputs: usize,
}

impl<'a, T: Element> Walker<'a, T> {
    fn new(p: &'a Problem<'_, T>, geo: &Geometry) -> Self {
        let c_out = p.weight.shape()[0];
        let cg = p.weight.shape()[1];
        let outputs = p.input.shape()[0] * c_out * geo.output_shape().iter().product::<usize>();
        Walker {
            // Row-major views are read in place.
            x: p.input.as_slice().map_or_else(
                || Cow::Owned(p.input.iter().copied().collect()),
                Cow::Borrowed,
            ),
            w: p.weight.as_slice().map_or_else(
                || Cow::Owned(p.weight.iter().copied().collect()),
                Cow::Borrowed,
            ),
            bias: p.bias.as_ref().map(|b| b.iter().copied().collect()),
            fill: fill_value(&p.spec.boundary),
            mode: &p.spec.boundary,
            geo: geo.clone(),
            flip: p.spec.flip == Flip::Convolution,
            x_shape: p.input.shape().to_vec(),
            c_out,
            cg,
            og: c_out / p.spec.groups,
            taps: p.weight.shape()[2..].iter().product(),
            outputs,
        }
    }

    /// Calls `term` with the bias of output `i` (if any), then with every product of the
    /// formula `(w, x)`, in the reference's order.
    fn each_term(&self, i: usize, mut term: impl FnMut(Term<T>)) {
        let axes = &self.geo.axes;
        let rank = axes.len();
        // Output index: (n, o, p_0 .. p_(rank-1)).
        let mut pos = vec![0usize; rank];
        let mut rest = i;
        for (a, p) in axes.iter().zip(pos.iter_mut()).rev() {
            *p = rest % a.output;
            rest /= a.output;
        }
        let o = rest % self.c_out;
        let n = rest / self.c_out;
        if let Some(b) = &self.bias {
            term(Term::Bias(b[o]));
        }
        // Per axis and tap: the input index it reads, or None for the boundary constant.
        let sources: Vec<Vec<Option<usize>>> = axes
            .iter()
            .zip(&pos)
            .map(|(a, &p)| {
                (0..a.kernel)
                    .map(|k| {
                        let q =
                            (p * a.stride) as i128 + (k * a.dilation) as i128 - a.pad_lo as i128;
                        source_index(self.mode, q, a.input)
                    })
                    .collect()
            })
            .collect();
        let spatial: usize = self.x_shape[2..].iter().product();
        let g = o / self.og;
        let mut k = vec![0usize; rank];
        for c in 0..self.cg {
            let channel = (n * self.x_shape[1] + g * self.cg + c) * spatial;
            let kernel = &self.w[(o * self.cg + c) * self.taps..][..self.taps];
            k.fill(0);
            for t in 0..self.taps {
                let wv = if self.flip {
                    kernel[self.taps - 1 - t]
                } else {
                    kernel[t]
                };
                let mut flat = 0usize;
                let mut inside = true;
                for (a, &ka) in k.iter().enumerate() {
                    match sources[a][ka] {
                        Some(s) => flat = flat * self.x_shape[2 + a] + s,
                        None => inside = false,
                    }
                }
                let xv = if inside {
                    self.x[channel + flat]
                } else {
                    self.fill
                };
                term(Term::Product(wv, xv));
                // Next tap, row-major.
                for a in (0..rank).rev() {
                    k[a] += 1;
                    if k[a] < axes[a].kernel {
                        break;
                    }
                    k[a] = 0;
                }
            }
        }
    }
}

/// The correctly rounded result of a transposed convolution: every output's exact value
/// (the sum of its literal terms, [`crate::reference::conv_transpose`]) rounded once to
/// nearest-even.
///
/// Finite outputs come from [`crate::engine::exact::ExactEngine`] on the direct convolution
/// with the same exact output ([`crate::problem::TransposeProblem::as_conv`]), with NaN and
/// infinities set to 0 there. Which outputs are NaN or infinite, and their sign, follows from
/// the literal terms alone (IEEE sums of infinities do not depend on the order): the literal
/// formula in `f64` on the data with every finite nonzero value replaced by its sign decides
/// them, so a stuffed zero never meets an infinite weight. docs/numerics.md section 8.4.
pub fn exact_transpose<F>(
    p: &crate::problem::TransposeProblem<'_, F>,
) -> Result<ndarray::ArrayD<F>, crate::problem::ConvError>
where
    F: crate::tolerance::Float + ExactElement,
{
    let finite = |v: &F| v.to_f64().is_finite();
    let all_finite = p.input.iter().all(finite)
        && p.weight.iter().all(finite)
        && p.bias.as_ref().is_none_or(|b| b.iter().all(finite));
    if all_finite {
        return ExactEngine::new().conv(&p.as_conv()?.problem());
    }
    let zeroed = |v: &F| if finite(v) { *v } else { F::from_f64(0.0) };
    let (x, w) = (p.input.map(zeroed), p.weight.map(zeroed));
    let b = p.bias.as_ref().map(|b| b.map(zeroed));
    let mut q = crate::problem::TransposeProblem::new(x.view(), w.view()).spec(p.spec.clone());
    q.bias = b.as_ref().map(|b| b.view());
    let mut exact = ExactEngine::new().conv(&q.as_conv()?.problem())?;
    let sign = |v: &F| {
        let v = v.to_f64();
        if !v.is_finite() || v == 0.0 {
            v
        } else {
            v.signum()
        }
    };
    let (xs, ws) = (p.input.map(sign), p.weight.map(sign));
    let bs = p.bias.as_ref().map(|b| b.map(sign));
    let mut r = crate::problem::TransposeProblem::new(xs.view(), ws.view()).spec(p.spec.clone());
    r.bias = bs.as_ref().map(|b| b.view());
    let specials = crate::reference::transpose_literal(&r)?;
    for (e, s) in exact.iter_mut().zip(specials.iter()) {
        if !s.is_finite() {
            *e = F::from_f64(*s);
        }
    }
    Ok(exact)
}
