//! The layout of the last axis' reads: input rows in place with padded edge strips, or
//! padded rows stored in phases; the padded data, and the outer axes' sources.

use super::{DirectFallback, Element, Mutation};
use crate::problem::Boundary;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::boundary::source_index;
use crate::problem::geometry::{AxisGeometry, Geometry, product};

/// Rows of fewer outputs than this (stride 1) are copied into padded rows rather than read in
/// place: in a short row the outputs next to the edges, which read short strips in tiles too
/// small to vectorise, are a large share.
pub const SHORT_ROW: usize = 64;

/// Stride 1 on the last axis. Output `j` (tap `t`) reads padded position `j + t d`, which is
/// input element `j + t d - lo` when inside. Outputs `[0, left_out)` read the left strip
/// (padded positions `0 ..`), outputs `[left_out, right_out)` read the input row in place
/// (their whole window is inside the input), outputs `[right_out, out)` read the right strip
/// (padded positions `right_out ..`).
pub(super) struct Strips {
    pub(super) lo: usize,
    pub(super) left_out: usize,
    pub(super) right_out: usize,
    /// Elements of the left strip; the right strip follows.
    pub(super) left_len: usize,
    /// Where each strip position reads: an input index, or the boundary constant (`None`).
    pub(super) sources: Vec<Option<usize>>,
}

/// One phase of a padded row (positions `r, r + s, r + 2s, ...`), stored in order: the
/// boundary positions before the input, `count` input elements `x[src], x[src + s], ...`,
/// and the boundary positions after it. A boundary position reads the input element given,
/// or the boundary constant (`None`).
pub(super) struct Phase {
    lead: Vec<Option<usize>>,
    src: usize,
    count: usize,
    trail: Vec<Option<usize>>,
}

/// Stride `s > 1` on the last axis: padded position `i` is stored at `offset[i % s] + i / s`,
/// so that output `j`, tap `t` (position `j s + t d`) is at `offset[t d % s] + t d / s + j`.
pub(super) struct Phased {
    step: usize,
    pub(super) phases: Vec<Phase>,
}

pub(super) enum Rows {
    InPlace(Strips),
    Phased(Phased),
}

pub(crate) struct Layout {
    /// Input rows: `N * C * product of the outer input extents`.
    pub(super) rows_in: usize,
    /// Padded positions the last axis reads: `(out - 1) * s + d * (k - 1) + 1`.
    pub(super) len: usize,
    /// Per last-axis tap: where output 0 reads it, in the source slice of its segment.
    pub(super) taps: Vec<usize>,
    pub(super) rows: Rows,
}

/// `ceil(a / b)` for `a >= 0`, `b > 0`.
fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}

/// The layout of the last axis' reads, or why the reference is used instead. Checks the
/// memory it needs against the limits before allocating anything.
pub(super) fn layout<T: Element>(
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

/// The padded data of every input row (rows of `n` elements of `x`), one row after another:
/// the strips, or the phased rows.
pub(super) fn pad_rows<T: Element>(x: &[T], n: usize, rows: &Rows, fill: T) -> Vec<T> {
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
pub(super) fn outer_sources<T>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::direct::DirectEngine;
    use crate::problem::{ConvSpec, Padding};
    use ndarray::array;

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
