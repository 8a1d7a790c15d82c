//! An independent, simpler definition of the convolution, sharing no indexing code with `src/`.
//!
//! 1. Pad the input with `numpy.pad`'s own algorithm (numpy/lib/_arraypad_impl.py): reflect,
//!    symmetric and wrap fill a pad longer than the input *iteratively*, copying chunks of the
//!    already-padded array outwards, which is a different algorithm from the modulo index map in
//!    `src/boundary.rs`. Done on 1-D lanes, axis by axis, as numpy does.
//! 2. Translate the padding rule into explicit pads with our own arithmetic from docs/semantics.md
//!    section 2 (not `geometry.rs`).
//! 3. Count the window positions that fit in the padded input (no output-length formula), cut
//!    each window with ndarray slicing (step = dilation), reverse it for true convolution,
//!    multiply elementwise with the kernel and sum, per group and channel; add the bias.
//!
//! [`Mutant`] switches on one deliberate bug, so `mutants.rs` can show the comparison catches it.

use conv_oracle::{Boundary, ConvError, ConvSpec, Flip, Padding, Problem, Ring, conv};
use ndarray::{Array1, ArrayD, Axis, IxDyn, Slice, Zip};
use num_traits::Zero;
use std::fmt::Debug;
use std::ops::Mul;

/// A deliberate bug in the definition (or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// The correct definition.
    None,
    /// Reflect padding done as symmetric (edge repeated).
    ReflectAsSymmetric,
    /// Pads shifted by one: `(lo + 1, hi - 1)`.
    PadOffByOne,
    /// Every group reads the first group's input channels (burn issue 2286).
    GroupOffsetIgnored,
    /// True convolution computed as correlation.
    KernelNotFlipped,
    /// Long reflect/symmetric/wrap pads: one chunk, then the outermost value repeated
    /// (what a single-pass implementation produces).
    LongPadClamped,
}

impl Mutant {
    /// Every wrong variant.
    pub const WRONG: [Mutant; 5] = [
        Mutant::ReflectAsSymmetric,
        Mutant::PadOffByOne,
        Mutant::GroupOffsetIgnored,
        Mutant::KernelNotFlipped,
        Mutant::LongPadClamped,
    ];
}

/// One random (or hand-written) problem, owning its data.
#[derive(Clone, Debug)]
pub struct Case<T> {
    pub batch: usize,
    pub groups: usize,
    /// Input channels per group (`C / groups`).
    pub in_per_group: usize,
    /// Output channels per group (`O / groups`).
    pub out_per_group: usize,
    /// Spatial input extents.
    pub input: Vec<usize>,
    /// Spatial kernel extents.
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub dilation: Vec<usize>,
    pub padding: Padding,
    pub boundary: Boundary<T>,
    pub flip: Flip,
    /// Input, `(N, C, input...)` row-major.
    pub x: Vec<T>,
    /// Weight, `(O, C/groups, kernel...)` row-major.
    pub w: Vec<T>,
    /// Bias, `O` entries.
    pub bias: Option<Vec<T>>,
}

impl<T: Clone> Case<T> {
    pub fn input_shape(&self) -> Vec<usize> {
        let mut s = vec![self.batch, self.groups * self.in_per_group];
        s.extend(&self.input);
        s
    }

    pub fn weight_shape(&self) -> Vec<usize> {
        let mut s = vec![self.groups * self.out_per_group, self.in_per_group];
        s.extend(&self.kernel);
        s
    }

    pub fn x(&self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(&self.input_shape()), self.x.clone()).expect("input")
    }

    pub fn w(&self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(&self.weight_shape()), self.w.clone()).expect("weight")
    }

    pub fn spec(&self) -> ConvSpec<T> {
        ConvSpec::new()
            .stride(self.stride.clone())
            .dilation(self.dilation.clone())
            .padding(self.padding.clone())
            .boundary(self.boundary.clone())
            .groups(self.groups)
            .flip(self.flip)
    }
}

/// Element types the comparison runs on.
pub trait Elem: Ring + PartialEq + Zero + Mul<Output = Self> {}
impl<T: Ring + PartialEq + Zero + Mul<Output = Self>> Elem for T {}

/// Runs `conv` and the definition on one case; `Err` describes the mismatch.
pub fn compare<T: Elem>(case: &Case<T>, mutant: Mutant) -> Result<(), String> {
    let (x, w) = (case.x(), case.w());
    let bias = case.bias.clone().map(Array1::from);
    let mut problem = Problem::new(x.view(), w.view()).spec(case.spec());
    if let Some(b) = &bias {
        problem = problem.bias(b.view());
    }
    let got = conv(&problem);
    let want = definition(case, mutant);
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "conv and the definition disagree\nconv:       {got:?}\ndefinition: {want:?}"
        ))
    }
}

/// The pads a padding rule asks for on one axis, from docs/semantics.md section 2.
///
/// `span` is the distance from the first to the last tap plus one, `d*(k-1) + 1`.
pub fn rule_pads(
    padding: &Padding,
    axis: usize,
    (n, k, s, d): (usize, usize, usize, usize),
) -> Result<(usize, usize), ConvError> {
    let span = d * (k - 1) + 1;
    Ok(match padding {
        Padding::Explicit(p) => p[axis],
        Padding::Valid => (0, 0),
        // Every position where the kernel overlaps at least one input element.
        Padding::Full => (span - 1, span - 1),
        Padding::SameUpper | Padding::SameLower => {
            // out = ceil(n/s); total P = max((out-1)*s + span - n, 0); UPPER: lo = P/2.
            let out = n.div_ceil(s);
            let needed = (out - 1) * s + span;
            let total = needed.saturating_sub(n);
            let (small, large) = (total / 2, total - total / 2);
            if *padding == Padding::SameUpper {
                (small, large)
            } else {
                (large, small)
            }
        }
        Padding::TorchSame => {
            if s != 1 {
                return Err(ConvError::SameNeedsUnitStride { axis, stride: s });
            }
            // P = d*(k-1), lo = P/2, the extra one on the right.
            let total = d * (k - 1);
            (total / 2, total - total / 2)
        }
    })
}

/// The definition: numpy.pad, then windows cut by slicing.
pub fn definition<T: Clone + Zero + Mul<Output = T>>(
    case: &Case<T>,
    mutant: Mutant,
) -> Result<ArrayD<T>, ConvError> {
    let rank = case.input.len();
    let per_axis = |v: &[usize], axis: usize| if v.is_empty() { 1 } else { v[axis] };
    let mut pads = vec![(0, 0), (0, 0)];
    let mut counts = Vec::with_capacity(rank);
    let (mut stride, mut dilation) = (Vec::new(), Vec::new());
    for axis in 0..rank {
        let (n, k) = (case.input[axis], case.kernel[axis]);
        let (s, d) = (per_axis(&case.stride, axis), per_axis(&case.dilation, axis));
        let (mut lo, mut hi) = rule_pads(&case.padding, axis, (n, k, s, d))?;
        if mutant == Mutant::PadOffByOne {
            (lo, hi) = (lo + 1, hi.saturating_sub(1));
        }
        let padded = n + lo + hi;
        // Window starts 0, s, 2s, ...; a window fits when its last tap is inside.
        let last_tap = d * (k - 1);
        let count = (0..)
            .map(|p| p * s)
            .take_while(|start| start + last_tap < padded)
            .count();
        if count == 0 {
            return Err(ConvError::KernelTooLarge {
                axis,
                padded_input: padded,
                kernel_extent: last_tap + 1,
            });
        }
        pads.push((lo, hi));
        counts.push(count);
        stride.push(s);
        dilation.push(d);
    }

    let (x, w) = (case.x(), case.w());
    let xp = numpy_pad(&x, &pads, &case.boundary, mutant);
    let c_out = case.groups * case.out_per_group;
    let mut out = Vec::new();
    for n in 0..case.batch {
        for o in 0..c_out {
            let g = o / case.out_per_group;
            for p in ndarray::indices(IxDyn(&counts)) {
                let mut acc = match &case.bias {
                    Some(b) => b[o].clone(),
                    None => T::zero(),
                };
                for c in 0..case.in_per_group {
                    let channel = if mutant == Mutant::GroupOffsetIgnored {
                        c
                    } else {
                        g * case.in_per_group + c
                    };
                    let plane = xp.index_axis(Axis(0), n);
                    let plane = plane.index_axis(Axis(0), channel);
                    let mut window = plane.slice_each_axis(|ax| {
                        let i = ax.axis.index();
                        let start = p[i] * stride[i];
                        let end = start + dilation[i] * (case.kernel[i] - 1) + 1;
                        Slice::new(start as isize, Some(end as isize), dilation[i] as isize)
                    });
                    if case.flip == Flip::Convolution && mutant != Mutant::KernelNotFlipped {
                        for i in 0..rank {
                            window.invert_axis(Axis(i));
                        }
                    }
                    let kernel = w.index_axis(Axis(0), o);
                    let kernel = kernel.index_axis(Axis(0), c);
                    assert_eq!(window.shape(), kernel.shape(), "window vs kernel");
                    for (xv, wv) in window.iter().zip(kernel.iter()) {
                        acc = acc + wv.clone() * xv.clone();
                    }
                }
                out.push(acc);
            }
        }
    }
    let mut shape = vec![case.batch, c_out];
    shape.extend(&counts);
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("output shape"))
}

/// `numpy.pad(x, pads, mode)`: pads every axis in turn, each 1-D lane by [`numpy_pad_1d`].
pub fn numpy_pad<T: Clone + Zero>(
    x: &ArrayD<T>,
    pads: &[(usize, usize)],
    mode: &Boundary<T>,
    mutant: Mutant,
) -> ArrayD<T> {
    let mut cur = x.clone();
    for (axis, &(lo, hi)) in pads.iter().enumerate() {
        if lo == 0 && hi == 0 {
            continue;
        }
        let mut shape = cur.shape().to_vec();
        shape[axis] += lo + hi;
        let mut next = ArrayD::from_elem(IxDyn(&shape), T::zero());
        Zip::from(next.lanes_mut(Axis(axis)))
            .and(cur.lanes(Axis(axis)))
            .for_each(|mut dst, src| {
                let padded = numpy_pad_1d(&src.to_vec(), lo, hi, mode, mutant);
                for (d, v) in dst.iter_mut().zip(padded) {
                    *d = v;
                }
            });
        cur = next;
    }
    cur
}

/// `numpy.pad` on a 1-D array, transcribed from numpy's `pad`, `_set_reflect_both` and
/// `_set_wrap_both` (Python slice semantics included). Undefined entries are `None` until
/// filled; reading one is a bug in this transcription and panics.
pub fn numpy_pad_1d<T: Clone + Zero>(
    x: &[T],
    lo: usize,
    hi: usize,
    mode: &Boundary<T>,
    mutant: Mutant,
) -> Vec<T> {
    let n = x.len();
    // _pad_simple: the original values in the middle, the pad area undefined.
    let mut padded: Vec<Option<T>> = std::iter::repeat_n(None, lo)
        .chain(x.iter().cloned().map(Some))
        .chain(std::iter::repeat_n(None, hi))
        .collect();
    let len = padded.len();
    let fill = |padded: &mut Vec<Option<T>>, left: T, right: T| {
        for v in &mut padded[..lo] {
            *v = Some(left.clone());
        }
        for v in &mut padded[len - hi..] {
            *v = Some(right.clone());
        }
    };
    match mode {
        Boundary::Zeros => fill(&mut padded, T::zero(), T::zero()),
        Boundary::Constant(v) => fill(&mut padded, v.clone(), v.clone()),
        // _get_edges: the first and last original values.
        Boundary::Replicate => fill(&mut padded, x[0].clone(), x[n - 1].clone()),
        Boundary::Reflect | Boundary::Symmetric => {
            let include_edge =
                matches!(mode, Boundary::Symmetric) || mutant == Mutant::ReflectAsSymmetric;
            if n == 1 {
                // "Extending singleton dimension for 'reflect' is legacy behavior".
                fill(&mut padded, x[0].clone(), x[0].clone());
            } else {
                let (mut l, mut r) = (lo, hi);
                while l > 0 || r > 0 {
                    (l, r) = set_reflect_both(&mut padded, (l, r), n, include_edge);
                    if mutant == Mutant::LongPadClamped {
                        clamp_rest(&mut padded, l, r);
                        break;
                    }
                }
            }
        }
        Boundary::Circular => {
            let original_period = len - hi - lo;
            let (mut l, mut r) = (lo, hi);
            while l > 0 || r > 0 {
                (l, r) = set_wrap_both(&mut padded, (l, r), original_period);
                if mutant == Mutant::LongPadClamped {
                    clamp_rest(&mut padded, l, r);
                    break;
                }
            }
        }
    }
    padded
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.unwrap_or_else(|| panic!("numpy_pad_1d left position {i} undefined")))
        .collect()
}

/// The mutant's single pass: whatever is still undefined takes the outermost defined value.
fn clamp_rest<T: Clone>(padded: &mut [Option<T>], l: usize, r: usize) {
    let len = padded.len();
    for i in 0..l {
        padded[i] = padded[l].clone();
    }
    for i in len - r..len {
        padded[i] = padded[len - r - 1].clone();
    }
}

/// The index list of Python's `seq[start:stop:step]` for a sequence of length `len`.
fn py_slice(len: usize, start: Option<isize>, stop: Option<isize>, step: isize) -> Vec<usize> {
    let len = len as isize;
    let mut out = Vec::new();
    if step > 0 {
        let adjust = |i: isize| {
            if i < 0 { (i + len).max(0) } else { i.min(len) }
        };
        let start = start.map_or(0, adjust);
        let stop = stop.map_or(len, adjust);
        let mut i = start;
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        let adjust = |i: isize| {
            if i < 0 {
                (i + len).max(-1)
            } else {
                i.min(len - 1)
            }
        };
        let start = start.map_or(len - 1, adjust);
        let stop = stop.map_or(-1, adjust);
        let mut i = start;
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

fn read<T: Clone>(padded: &[Option<T>], idx: &[usize]) -> Vec<T> {
    idx.iter()
        .map(|&i| {
            padded[i]
                .clone()
                .unwrap_or_else(|| panic!("read undefined position {i}"))
        })
        .collect()
}

fn write<T>(padded: &mut [Option<T>], idx: &[usize], chunk: Vec<T>) {
    assert_eq!(idx.len(), chunk.len(), "chunk does not match the pad area");
    for (&i, v) in idx.iter().zip(chunk) {
        padded[i] = Some(v);
    }
}

/// numpy's `_set_reflect_both` (method 'even'), on one lane.
fn set_reflect_both<T: Clone>(
    padded: &mut [Option<T>],
    (left_pad, right_pad): (usize, usize),
    original_period: usize,
    include_edge: bool,
) -> (usize, usize) {
    let len = padded.len();
    let (mut left_pad, mut right_pad) = (left_pad as isize, right_pad as isize);
    let original_period = original_period as isize;
    let mut old_length = len as isize - right_pad - left_pad;
    let edge_offset;
    if include_edge {
        // "Avoid wrapping with only a subset of the original area".
        old_length = old_length / original_period * original_period;
        edge_offset = 1;
    } else {
        old_length = (old_length - 1) / (original_period - 1) * (original_period - 1) + 1;
        edge_offset = 0;
        old_length -= 1;
    }
    if left_pad > 0 {
        let chunk_length = old_length.min(left_pad);
        let stop = left_pad - edge_offset;
        let start = stop + chunk_length;
        let chunk = read(padded, &py_slice(len, Some(start), Some(stop), -1));
        let area = py_slice(len, Some(left_pad - chunk_length), Some(left_pad), 1);
        write(padded, &area, chunk);
        left_pad -= chunk_length;
    }
    if right_pad > 0 {
        let chunk_length = old_length.min(right_pad);
        let start = -right_pad + edge_offset - 2;
        let stop = start - chunk_length;
        let chunk = read(padded, &py_slice(len, Some(start), Some(stop), -1));
        let start = len as isize - right_pad;
        let area = py_slice(len, Some(start), Some(start + chunk_length), 1);
        write(padded, &area, chunk);
        right_pad -= chunk_length;
    }
    (left_pad as usize, right_pad as usize)
}

/// numpy's `_set_wrap_both`, on one lane.
fn set_wrap_both<T: Clone>(
    padded: &mut [Option<T>],
    (left_pad, right_pad): (usize, usize),
    original_period: usize,
) -> (usize, usize) {
    let len = padded.len();
    let (left_pad, right_pad) = (left_pad as isize, right_pad as isize);
    let original_period = original_period as isize;
    let period = len as isize - right_pad - left_pad;
    let period = period / original_period * original_period;
    let (mut new_left_pad, mut new_right_pad) = (0, 0);
    if left_pad > 0 {
        let slice_end = left_pad + period;
        let slice_start = slice_end - period.min(left_pad);
        let chunk = read(
            padded,
            &py_slice(len, Some(slice_start), Some(slice_end), 1),
        );
        let area = if left_pad > period {
            new_left_pad = left_pad - period;
            py_slice(len, Some(left_pad - period), Some(left_pad), 1)
        } else {
            py_slice(len, None, Some(left_pad), 1)
        };
        write(padded, &area, chunk);
    }
    if right_pad > 0 {
        let slice_start = -right_pad - period;
        let slice_end = slice_start + period.min(right_pad);
        let chunk = read(
            padded,
            &py_slice(len, Some(slice_start), Some(slice_end), 1),
        );
        let area = if right_pad > period {
            new_right_pad = right_pad - period;
            py_slice(len, Some(-right_pad), Some(-right_pad + period), 1)
        } else {
            py_slice(len, Some(-right_pad), None, 1)
        };
        write(padded, &area, chunk);
    }
    (new_left_pad as usize, new_right_pad as usize)
}

/// numpy.pad's own documented examples and docs/semantics.md section 4, on the transcription.
#[test]
fn numpy_pad_1d_matches_numpy_examples() {
    let pad = |x: &[i64], lo, hi, mode: Boundary<i64>| numpy_pad_1d(x, lo, hi, &mode, Mutant::None);
    let a = [1, 2, 3, 4, 5];
    // numpy.pad docstring: np.pad(a, (2, 3), 'reflect') / 'symmetric' / 'wrap' / 'edge'.
    assert_eq!(
        pad(&a, 2, 3, Boundary::Reflect),
        [3, 2, 1, 2, 3, 4, 5, 4, 3, 2]
    );
    assert_eq!(
        pad(&a, 2, 3, Boundary::Symmetric),
        [2, 1, 1, 2, 3, 4, 5, 5, 4, 3]
    );
    assert_eq!(
        pad(&a, 2, 3, Boundary::Circular),
        [4, 5, 1, 2, 3, 4, 5, 1, 2, 3]
    );
    assert_eq!(
        pad(&a, 2, 3, Boundary::Replicate),
        [1, 1, 1, 2, 3, 4, 5, 5, 5, 5]
    );
    assert_eq!(
        pad(&a, 2, 3, Boundary::Constant(7)),
        [7, 7, 1, 2, 3, 4, 5, 7, 7, 7]
    );
    // docs/semantics.md section 4, [a b c d] = [1 2 3 4] padded by 6 each side.
    let d = [1, 2, 3, 4];
    assert_eq!(
        pad(&d, 6, 6, Boundary::Reflect),
        [1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4]
    );
    assert_eq!(
        pad(&d, 6, 6, Boundary::Symmetric),
        [3, 4, 4, 3, 2, 1, 1, 2, 3, 4, 4, 3, 2, 1, 1, 2]
    );
    assert_eq!(
        pad(&d, 6, 6, Boundary::Circular),
        [3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2]
    );
    // Singleton axes extend by the edge value in reflect (numpy's legacy behaviour).
    assert_eq!(pad(&[5], 2, 1, Boundary::Reflect), [5, 5, 5, 5]);
    assert_eq!(pad(&[5], 2, 3, Boundary::Circular), [5, 5, 5, 5, 5, 5]);
    // Python slices: negative indices count from the end; a negative step runs backwards.
    assert_eq!(py_slice(5, Some(-2), None, 1), [3, 4]);
    assert_eq!(py_slice(5, Some(3), Some(0), -1), [3, 2, 1]);
    assert_eq!(py_slice(5, Some(-1), Some(-4), -1), [4, 3, 2]);
    assert_eq!(py_slice(5, Some(2), Some(-9), -1), [2, 1, 0]);
}
