//! The certified fast tier: error-free or exactly widened sums of products on the direct
//! engine's rows, each with a certificate that its rounding is the correct one.

use super::Mutation;
use crate::engine::direct::{self, Element, Kernel};
use crate::problem::Problem;
use crate::problem::boundary::fill_value;
use num_complex::Complex;

/// Whether some product of a weight and an input (or boundary) value may be too small for
/// `fma(w, x, -w*x)` to be exact: smallest nonzero `|w|` times smallest nonzero `|x|` below
/// `2^-960` (products from `2^-969` up are exact as `p + e`; `2^-960` leaves margin for the
/// rounding of the test itself). docs/numerics.md section 9.3.
pub(super) fn tiny_products<T: Element>(p: &Problem<'_, T>, parts: impl Fn(T) -> [f64; 2]) -> bool {
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
    pub(super) fn new(n: usize, tiny: bool) -> Self {
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
    pub(super) fn new(terms: usize, simd: bool, mutation: Mutation) -> Self {
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
pub(crate) struct ComplexDd(pub(super) DdKernel);

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
pub(crate) struct ComplexWide(pub(super) WideKernel);

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
