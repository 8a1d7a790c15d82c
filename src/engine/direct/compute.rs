//! The row loops: every output row computed on a layout in chunks, over threads, in the
//! baseline, AVX2 or AVX-512 build.

use super::layout::{Rows, outer_sources, pad_rows};
use super::{Kernel, Layout, Mutation, RowPair};
use crate::problem::Problem;
use crate::problem::boundary::fill_value;
use crate::problem::geometry::{AxisGeometry, Geometry};
use crate::problem::{Boundary, Flip};

/// Output elements accumulated together: the accumulator and the slices it reads stay in the
/// L1 cache while every tap is added.
pub const CHUNK: usize = 1024;

/// How a computation runs: the mutation (tests), the AVX2 build, and the threads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub mutation: Mutation,
    pub baseline_only: bool,
    pub threads: usize,
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
