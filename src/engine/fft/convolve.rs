//! The transform path: kernel spectra, block spectra summed over channels, inverse transforms
//! added into the outputs, scaled back and finished in `T`.

use super::C64;
use super::blocking::{AxisPlan, Window};
use super::element::FftElement;
use super::path::Fallback;
use super::plan::Prepared;
use super::transforms::Work;
use super::transforms::{Transforms, Workspace, row_is_live};
use crate::problem::Flip;
use ndarray::{ArrayViewD, Axis, Slice};

impl<T: FftElement> Prepared<'_, T> {
    /// The whole computation: `(N, O, out...)` row-major, bias added, in `T`.
    pub(super) fn convolve(
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
