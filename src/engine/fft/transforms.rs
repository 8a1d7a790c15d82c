//! N-D transforms by 1-D passes and transposes, their plans and reused buffers, the f64
//! domain they run in (`Work`: `f64` through realfft, `Complex<f64>` through rustfft), and
//! the transform lengths ([`fast_len`]).

use super::{C64, State};
use crate::tolerance::fft::{l1_upper, l1_upper_complex, l2_upper, pow2};
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

// An N-D transform is a sequence of 1-D passes over contiguous rows: the last axis first (r2c
// for real data), then the array is transposed so that the next axis is last ("rotating" the
// axis order right by one), and so on: `rank - 1` blocked transposes per transform. The
// spectrum is left in the rotated order `(1, 2, ..., rank - 1, 0)`; products of spectra are
// per bin, so the order does not matter, and the inverse undoes the rotations.

impl Transforms {
    pub(super) fn new(state: &mut State, lengths: &[usize], real: bool) -> Self {
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
    pub(super) fn forward<W: Work>(
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
    pub(super) fn inverse<W: Work>(
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
pub(super) fn row_is_live(row: usize, outer: &[usize], live: &[usize]) -> bool {
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
pub(super) fn axis_len(n: usize, real_last: bool) -> Option<usize> {
    let len = if real_last {
        fast_len(n.div_ceil(2).max(1)).checked_mul(2)?
    } else {
        fast_len(n.max(1))
    };
    (len != usize::MAX).then_some(len)
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
