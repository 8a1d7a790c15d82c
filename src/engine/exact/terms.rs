//! The terms of one output: [`Walker`] enumerates them in the reference's order for the
//! exact tier, and [`output_terms`] lists them for reports.

use super::ExactElement;
use crate::engine::direct::Element;
use crate::problem::ConvError;
use crate::problem::Flip;
use crate::problem::Problem;
use crate::problem::boundary::{fill_value, source_index};
use crate::problem::geometry::Geometry;
use std::borrow::Cow;

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
    pub(super) fn new(p: &'a Problem<'_, T>, geo: &Geometry) -> Self {
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
    pub(super) fn each_term(&self, i: usize, mut term: impl FnMut(Term<T>)) {
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
