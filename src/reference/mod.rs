//! The reference: the literal convolution formula, over any [`Ring`], for any rank.
//!
//! Channels-first layout: input `(N, C, s_1, ..., s_r)`, weight `(O, C/G, k_1, ..., k_r)`,
//! optional bias `(O)`. For output `(n, o, p)` with `g = o / (O/G)`:
//!
//! ```text
//! y[n, o, p] = bias[o] + sum_{c < C/G} sum_{k} w[o, c, k'] * xb[n, g*C/G + c, p*s + k*d - lo]
//! ```
//!
//! where `k' = k` for cross-correlation and `k' = K - 1 - k` (every spatial axis reversed) for
//! true convolution, and `xb` is the input extended by the boundary mode. The sum is taken in
//! a fixed order (channel, then kernel positions in row-major order), including the terms that
//! read the boundary constant, so the result is the formula applied to the padded input. The
//! code never inspects a value: it runs unchanged on integers, rationals, floats, complex
//! numbers and symbolic polynomials.

mod transpose;
pub use transpose::{conv_transpose, transpose_literal};

use crate::problem::ConvError;
use crate::problem::boundary::{fill_value, source_index};
use crate::problem::{Flip, Problem};
use crate::scalar::Ring;
use ndarray::{ArrayD, Axis, IxDyn};

/// The reference convolution of a [`Problem`]: the literal formula in the module docs.
///
/// Returns `(N, O, out_1, ..., out_r)`. Every check of [`Problem::validate`] runs first; on an
/// error nothing is allocated.
pub fn conv<T: Ring>(p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
    let geo = p.validate()?;
    let x = p.input.as_standard_layout();
    let w = p.weight.as_standard_layout();
    let (batch, c_out, cg) = (x.shape()[0], w.shape()[0], w.shape()[1]);
    let og = c_out / p.spec.groups;
    let constant = fill_value(&p.spec.boundary);
    let mut out_shape = vec![batch, c_out];
    out_shape.extend_from_slice(&geo.output_shape());
    let mut xi = vec![0usize; x.ndim()];
    Ok(ArrayD::from_shape_fn(IxDyn(&out_shape), |idx| {
        let (n, o) = (idx[0], idx[1]);
        let g = o / og;
        let mut acc = match &p.bias {
            Some(b) => b[o].clone(),
            None => T::zero(),
        };
        xi[0] = n;
        for c in 0..cg {
            xi[1] = g * cg + c;
            // The kernel of (o, c); reversed on every spatial axis for true convolution, so
            // that iterating it in row-major order visits w[o, c, k'] for taps k = 0, 1, ...
            let mut kernel = w.index_axis(Axis(0), o).index_axis_move(Axis(0), c);
            if p.spec.flip == Flip::Convolution {
                for axis in 0..kernel.ndim() {
                    kernel.invert_axis(Axis(axis));
                }
            }
            for (k, wv) in kernel.indexed_iter() {
                let mut inside = true;
                for (axis, a) in geo.axes.iter().enumerate() {
                    // position p*s + k*d - lo on this axis, mapped by the boundary mode
                    let pos = (idx[2 + axis] * a.stride) as i128 + (k[axis] * a.dilation) as i128
                        - a.pad_lo as i128;
                    match source_index(&p.spec.boundary, pos, a.input) {
                        Some(s) => xi[2 + axis] = s,
                        None => inside = false,
                    }
                }
                let xv = if inside { &x[IxDyn(&xi)] } else { &constant };
                acc = acc.plus(&wv.times(xv));
            }
        }
        acc
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::ConvSpec;
    use crate::problem::{Boundary, Padding};
    use ndarray::array;

    #[test]
    fn hand_computed_1d() {
        // x = [1 2 3 4], w = [1 10 100], correlation, valid:
        // y[0] = 1*1 + 10*2 + 100*3 = 321, y[1] = 2 + 30 + 400 = 432.
        let x = array![[[1i64, 2, 3, 4]]].into_dyn();
        let w = array![[[1i64, 10, 100]]].into_dyn();
        let y = conv(&Problem::new(x.view(), w.view())).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![321, 432]);
        // Convolution flips w: y[0] = 100*1 + 10*2 + 1*3 = 123, y[1] = 234.
        let spec = ConvSpec::new().flip(Flip::Convolution);
        let y = conv(&Problem::new(x.view(), w.view()).spec(spec)).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![123, 234]);
        // Reflect pad 1 each side: xb = [2 1 2 3 4 3]; correlation with stride 2:
        // y[0] = 2 + 10 + 200 = 212, y[1] = 2 + 30 + 400 = 432.
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .boundary(Boundary::Reflect)
            .stride([2]);
        let y = conv(&Problem::new(x.view(), w.view()).spec(spec)).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![212, 432]);
    }
}
