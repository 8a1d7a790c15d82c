//! The literal scatter formula of a transposed convolution, the reference every transposed
//! engine is checked against.

use crate::problem::{ConvError, TransposeProblem, TransposeSpec};
use crate::scalar::Ring;
use ndarray::{ArrayD, ArrayView1, ArrayViewD, Dimension, IxDyn};

/// Transposed convolution (PyTorch / ONNX `ConvTranspose`), channels-first.
///
/// Input `(N, C_in, s...)`, weight `(C_in, C_out/groups, k...)`, optional bias `(C_out)`. The
/// literal scatter formula (docs/semantics.md section 6): for every input element and tap,
///
/// ```text
/// y[n, g*Cog + oc, i*s + k*d - begin] += x[n, g*Cig + ic, i] * w[g*Cig + ic, oc, k]
/// ```
///
/// keeping only positions inside `0..out`; it is the adjoint of [`conv`](super::conv) with the same stride,
/// dilation, groups and (zero) padding. Checks as [`TransposeProblem::validate`].
pub fn conv_transpose<T: Ring>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayView1<'_, T>>,
    spec: &TransposeSpec,
) -> Result<ArrayD<T>, ConvError> {
    let mut p = TransposeProblem::new(input, weight).spec(spec.clone());
    p.bias = bias;
    transpose_literal(&p)
}

/// [`conv_transpose`] of a [`TransposeProblem`].
pub fn transpose_literal<T: Ring>(p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError> {
    let geo = p.validate()?;
    let (cig, cog) = (geo.in_per_group, geo.out_per_group);
    let out_shape = &geo.output_shape;
    let mut y = ArrayD::from_shape_fn(IxDyn(out_shape), |idx| match &p.bias {
        Some(b) => b[idx[1]].clone(),
        None => T::zero(),
    });
    let ws = p.weight.shape();
    let kernel_shape = IxDyn(&ws[2..]);
    let mut yi = vec![0usize; out_shape.len()];
    let mut wi = vec![0usize; ws.len()];
    for (xi, xv) in p.input.indexed_iter() {
        let (n, ci) = (xi[0], xi[1]);
        let g = ci / cig;
        yi[0] = n;
        for oc in 0..cog {
            yi[1] = g * cog + oc;
            for k in ndarray::indices(kernel_shape.clone()) {
                let mut inside = true;
                for (axis, a) in geo.axes.iter().enumerate() {
                    let pos = (xi[2 + axis] * a.stride) as i128 + (k[axis] * a.dilation) as i128
                        - a.pad_begin;
                    if pos < 0 || pos >= a.output as i128 {
                        inside = false;
                        break;
                    }
                    yi[2 + axis] = pos as usize;
                }
                if inside {
                    wi[0] = ci;
                    wi[1] = oc;
                    wi[2..].copy_from_slice(k.slice());
                    let term = xv.times(&p.weight[IxDyn(&wi)]);
                    let slot = &mut y[IxDyn(&yi)];
                    *slot = slot.plus(&term);
                }
            }
        }
    }
    Ok(y)
}
