//! The dense engine: a convolution is a linear (affine) map, so it is a matrix.
//!
//! For one sample, flatten the input `(C, s...)` to a vector `x` and the output `(O, out...)`
//! to `y`. Then `y = M x + b`, where `M` has one row per output element and one column per
//! input element (for 2-D, a doubly block Toeplitz matrix when the boundary is zeros), and `b`
//! holds the bias plus, for a constant boundary, the constant times the taps that read it.
//! This is the chapter's starting point (a dense layer) run backwards: a convolution is a dense
//! layer whose weights are shared along the diagonals, with `k_h*k_w*C_in*C_out / groups`
//! parameters instead of `(C*H*W) * (O*H'*W')`.
//!
//! The matrix is built independently of the reference's indexing: each axis gets a padding
//! operator computed by walking outward from the edges (bouncing for reflect and symmetric,
//! wrapping for circular), rather than by the reference's modular index map.

use super::ConvEngine;
use crate::problem::Boundary;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::geometry::product;
use crate::problem::{KernelLayout, weight_as_oihw};
use crate::scalar::Ring;
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, IxDyn};

/// A convolution as an affine map `y = matrix * x + offset` on one flattened sample.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseForm<T> {
    /// `(O * prod(out), C * prod(in))`.
    pub matrix: Array2<T>,
    /// Bias plus constant-boundary contributions, one per output element.
    pub offset: Array1<T>,
    /// `(C, spatial...)` of one input sample.
    pub input_shape: Vec<usize>,
    /// `(O, out...)` of one output sample.
    pub output_shape: Vec<usize>,
}

/// Where each padded position of one axis reads from, computed by walking outward from the
/// edges: `None` for the boundary constant.
pub fn padding_operator<T>(
    mode: &Boundary<T>,
    n: usize,
    lo: usize,
    hi: usize,
) -> Vec<Option<usize>> {
    // One step of the walk: from index i moving in direction dir (+1 or -1).
    let step = |i: usize, dir: isize| -> (usize, isize) {
        let last = n - 1;
        let next = i as isize + dir;
        match mode {
            Boundary::Circular => (next.rem_euclid(n as isize) as usize, dir),
            Boundary::Reflect if n > 1 => {
                if next < 0 || next > last as isize {
                    ((i as isize - dir) as usize, -dir)
                } else {
                    (next as usize, dir)
                }
            }
            Boundary::Symmetric => {
                if next < 0 || next > last as isize {
                    (i, -dir) // the edge repeats
                } else {
                    (next as usize, dir)
                }
            }
            // replicate, and reflect of a single element, stay at the edge
            _ => (i, dir),
        }
    };
    let constant = matches!(mode, Boundary::Zeros | Boundary::Constant(_));
    let walk = |start: usize, dir: isize, count: usize| -> Vec<Option<usize>> {
        let (mut i, mut d) = (start, dir);
        (0..count)
            .map(|_| {
                (i, d) = step(i, d);
                (!constant).then_some(i)
            })
            .collect()
    };
    let mut left = walk(0, -1, lo);
    left.reverse();
    let right = walk(n - 1, 1, hi);
    left.into_iter()
        .chain((0..n).map(Some))
        .chain(right)
        .collect()
}

/// The dense form of a problem's convolution (ignores the problem's data except the weight
/// and bias, and the input's shape).
pub fn dense_form<T: Ring>(p: &Problem<'_, T>) -> Result<DenseForm<T>, ConvError> {
    let geo = p.validate()?;
    let (xs, ws) = (p.input.shape(), p.weight.shape());
    let (c_in, c_out, cg) = (xs[1], ws[0], ws[1]);
    let og = c_out / p.spec.groups;
    let in_spatial = &xs[2..];
    let out_spatial = geo.output_shape();
    let rows_u = product(std::iter::once(c_out).chain(out_spatial.iter().copied()));
    let cols_u = product(xs[1..].iter().copied());
    let (rows, cols) = match (rows_u, cols_u) {
        (Some(r), Some(c)) => (r, c),
        _ => {
            return Err(ConvError::Overflow {
                what: "dense matrix size",
                axis: None,
            });
        }
    };
    let entries = rows.checked_mul(cols).ok_or(ConvError::Overflow {
        what: "dense matrix size",
        axis: None,
    })?;
    if entries > p.spec.limits.max_elements {
        return Err(ConvError::LimitExceeded {
            what: "dense matrix entries",
            limit: p.spec.limits.max_elements,
            got: entries,
        });
    }
    let (rows, cols) = (rows as usize, cols as usize);
    let ops: Vec<Vec<Option<usize>>> = geo
        .axes
        .iter()
        .map(|a| padding_operator(&p.spec.boundary, a.input, a.pad_lo, a.pad_hi))
        .collect();
    let constant = match &p.spec.boundary {
        Boundary::Constant(v) => v.clone(),
        _ => T::zero(),
    };
    // Row-major strides of the flattened input (C, in...) and output (O, out...).
    let strides = |shape: &[usize]| -> Vec<usize> {
        let mut s = vec![1; shape.len()];
        for i in (0..shape.len().saturating_sub(1)).rev() {
            s[i] = s[i + 1] * shape[i + 1];
        }
        s
    };
    let mut in_shape = vec![c_in];
    in_shape.extend_from_slice(in_spatial);
    let mut out_shape = vec![c_out];
    out_shape.extend_from_slice(&out_spatial);
    let (is, os) = (strides(&in_shape), strides(&out_shape));
    let w = p.weight.as_standard_layout();
    let kernel: Vec<usize> = ws[2..].to_vec();
    let flip = p.spec.flip == crate::problem::Flip::Convolution;
    let mut matrix = Array2::from_elem((rows, cols), T::zero());
    let mut offset = Array1::from_shape_fn(rows, |r| match &p.bias {
        Some(b) => b[r / os[0]].clone(),
        None => T::zero(),
    });
    for o in 0..c_out {
        let g = o / og;
        for c in 0..cg {
            let col_c = (g * cg + c) * is[0];
            for k in ndarray::indices(IxDyn(&kernel)) {
                // weight index: reversed on every axis for true convolution
                let mut wi = vec![o, c];
                wi.extend(
                    (0..kernel.len()).map(|a| if flip { kernel[a] - 1 - k[a] } else { k[a] }),
                );
                let wv = &w[IxDyn(&wi)];
                for q in ndarray::indices(IxDyn(&out_spatial)) {
                    let mut row = o * os[0];
                    let mut col = Some(col_c);
                    for (a, ax) in geo.axes.iter().enumerate() {
                        row += q[a] * os[a + 1];
                        let padded = q[a] * ax.stride + k[a] * ax.dilation;
                        col = match (col, ops[a][padded]) {
                            (Some(cc), Some(src)) => Some(cc + src * is[a + 1]),
                            _ => None,
                        };
                    }
                    match col {
                        Some(col) => {
                            let e = &mut matrix[(row, col)];
                            *e = e.plus(wv);
                        }
                        None => offset[row] = offset[row].plus(&wv.times(&constant)),
                    }
                }
            }
        }
    }
    Ok(DenseForm {
        matrix,
        offset,
        input_shape: in_shape,
        output_shape: out_shape,
    })
}

/// `matrix * x + offset` over any ring.
pub fn affine<T: Ring>(
    m: ArrayView2<'_, T>,
    x: ArrayView1<'_, T>,
    offset: ArrayView1<'_, T>,
) -> Array1<T> {
    Array1::from_shape_fn(m.nrows(), |r| {
        m.row(r)
            .iter()
            .zip(x.iter())
            .fold(offset[r].clone(), |acc, (a, b)| acc.plus(&a.times(b)))
    })
}

impl<T: Ring> DenseForm<T> {
    /// Applies the map to a batch `(N, C, in...)`, giving `(N, O, out...)`.
    pub fn apply(&self, input: ArrayViewD<'_, T>) -> Result<ArrayD<T>, ConvError> {
        if input.ndim() < 1 || input.shape()[1..] != self.input_shape[..] {
            return Err(ConvError::RankMismatch {
                what: "input sample shape for this dense form",
                expected: self.input_shape.len() + 1,
                got: input.ndim(),
            });
        }
        let batch = input.shape()[0];
        let x = input.as_standard_layout();
        let flat = x
            .to_shape((batch, self.matrix.ncols()))
            .map_err(|_| ConvError::Overflow {
                what: "flattened input",
                axis: None,
            })?;
        let mut out = Vec::with_capacity(batch * self.matrix.nrows());
        for n in 0..batch {
            out.extend(affine(self.matrix.view(), flat.row(n), self.offset.view()));
        }
        let mut shape = vec![batch];
        shape.extend_from_slice(&self.output_shape);
        ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|_| ConvError::Overflow {
            what: "output shape",
            axis: None,
        })
    }

    /// Number of entries of the dense matrix: the parameter count of a general dense layer
    /// between these shapes.
    pub fn dense_parameters(&self) -> usize {
        self.matrix.len()
    }
}

/// The dense engine: builds [`DenseForm`] and applies it.
#[derive(Clone, Copy, Debug, Default)]
pub struct DenseEngine;

impl<T: Ring> ConvEngine<T> for DenseEngine {
    fn name(&self) -> &str {
        "dense"
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        dense_form(p)?.apply(p.input.view())
    }
    /// Everything but special values: the matrix multiplies every input element (`0 * inf`
    /// where the formula has no term), so NaN and infinities in the input reach outputs that
    /// do not read them; boundary terms, zeros included, are formed like the formula's.
    fn capabilities(&self) -> crate::engine::Capabilities {
        crate::engine::Capabilities {
            special_values: false,
            ..crate::engine::Capabilities::all()
        }
    }
}

/// The dense-layer matrix `W[m, c] = V[0, ..., 0, c, m]` of a 1x1 (pointwise) convolution,
/// `(O, C)`, block diagonal for `groups > 1` (zeros between groups).
///
/// `weight` is in `layout` (the chapter's `[k_h, k_w, C_in, C_out]` is [`KernelLayout::Hwio`]);
/// every spatial extent must be 1.
pub fn pointwise_matrix<T: Ring>(
    weight: ArrayViewD<'_, T>,
    layout: KernelLayout,
    groups: usize,
) -> Result<Array2<T>, ConvError> {
    let w = weight_as_oihw(weight, layout)?;
    let (o, cg) = (w.shape()[0], w.shape()[1]);
    if let Some(axis) = w.shape()[2..].iter().position(|&k| k != 1) {
        return Err(ConvError::RankMismatch {
            what: "pointwise kernel extent (must be 1)",
            expected: 1,
            got: w.shape()[2 + axis],
        });
    }
    if groups == 0 || o % groups != 0 {
        return Err(ConvError::GroupsDoNotDivide {
            what: "output channels",
            groups,
            got: o,
        });
    }
    let og = o / groups;
    let c = cg * groups;
    let zeros = vec![0usize; w.ndim() - 2];
    Ok(Array2::from_shape_fn((o, c), |(m, ci)| {
        let g = m / og;
        if ci / cg == g {
            let mut idx = vec![m, ci % cg];
            idx.extend_from_slice(&zeros);
            w[IxDyn(&idx)].clone()
        } else {
            T::zero()
        }
    }))
}

/// Applies a dense layer `W` (`(O, C)`) to every pixel of a channels-first input
/// `(N, C, s...)` independently, plus bias: the chapter's "1x1 convolution is a dense layer
/// per pixel".
pub fn dense_per_pixel<T: Ring>(
    input: ArrayViewD<'_, T>,
    w: ArrayView2<'_, T>,
    bias: Option<ArrayView1<'_, T>>,
) -> Result<ArrayD<T>, ConvError> {
    if input.ndim() < 2 || input.shape()[1] != w.ncols() {
        return Err(ConvError::ChannelMismatch {
            expected: w.ncols(),
            got: input.shape().get(1).copied().unwrap_or(0),
        });
    }
    let mut shape = input.shape().to_vec();
    shape[1] = w.nrows();
    Ok(ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let mut xi = idx.clone();
        let m = idx[1];
        let start = bias.as_ref().map_or_else(T::zero, |b| b[m].clone());
        (0..w.ncols()).fold(start, |acc, c| {
            xi[1] = c;
            acc.plus(&w[(m, c)].times(&input[&xi]))
        })
    }))
}
