//! The oracle: judging a candidate result by the correctly rounded one. Each function here
//! computes what the tolerance models of [`crate::tolerance`] need from the problem itself
//! (the correctly rounded output from [`ExactEngine`], `A = sum |w| |x| + |b|` per output,
//! the number of terms `K`, the worst element's terms) and applies the model with
//! [`judge_elements`]. The derivations are in docs/numerics.md section 8.

use crate::engine::ConvEngine;
pub use crate::engine::exact::exact_transpose;
use crate::engine::exact::{ExactElement, ExactEngine, output_terms};
use crate::problem::{ConvError, Problem, TransposeProblem};
use crate::tolerance::{Float, Model, Report, judge_elements};
use ndarray::{ArrayViewD, Dimension, IxDyn};

/// Per output of `p` (row-major), an upper bound on `A = sum |w| |x| (+ |b|)` over its finite
/// terms, the `abs_sum` of [`judge_elements`]: the correctly rounded sum of the magnitudes
/// (the exact engine in `f64`, with every non-finite value, boundary constant included, taken
/// as 0: such a term decides the special value, not the error) rounded up by `next_up`, and 0
/// when it is 0 (for `f32` data that means every term is zero; for `f64`, `A < 2^-1075`
/// also rounds to 0, which the underflow term of the bound covers).
pub fn abs_sums<F>(p: &Problem<'_, F>) -> Result<Vec<f64>, ConvError>
where
    F: Float + ExactElement,
{
    let abs = |v: F| {
        let v = v.to_f64().abs();
        if v.is_finite() { v } else { 0.0 }
    };
    let (x, w) = (p.input.mapv(abs), p.weight.mapv(abs));
    let b = p.bias.as_ref().map(|b| b.mapv(abs));
    let mut q = Problem::new(x.view(), w.view()).spec(p.spec.map_constant(abs));
    if let Some(b) = &b {
        q = q.bias(b.view());
    }
    let a = ExactEngine::new().conv(&q)?;
    Ok(a.iter()
        .map(|&v| if v == 0.0 { 0.0 } else { v.next_up() })
        .collect())
}

/// Judges `got`, a candidate result of problem `p`, under `model`: the one policy function
/// applied with everything it needs taken from the problem.
///
/// - the correctly rounded result from [`crate::engine::exact::ExactEngine`];
/// - `A = sum |w| |x| + |b|` per output over its finite terms ([`abs_sums`]: the same engine
///   in `f64` on the magnitudes, boundary constant included, rounded up: the correctly
///   rounded `A_cr` is within half an ulp of `A`, so `A <= next_up(A_cr)`);
/// - `K` = products per output (`C/G` times the kernel size), plus one with a bias;
/// - the worst element's terms ([`Worst::taps`](crate::tolerance::Worst::taps), the bias as `(b, 1)` first) from
///   [`crate::engine::exact::output_terms`].
///
/// Fails with the problem's own [`ConvError`] when the problem is invalid, and with
/// [`ConvError::ShapeMismatch`] when `got` is not shaped like its output; otherwise the
/// verdict is in the [`Report`].
pub fn judge<F>(
    p: &Problem<'_, F>,
    got: ArrayViewD<'_, F>,
    model: &Model,
) -> Result<Report, ConvError>
where
    F: Float + ExactElement,
{
    let engine = ExactEngine::new();
    let exact = engine.conv(p)?;
    if got.shape() != exact.shape() {
        return Err(ConvError::ShapeMismatch {
            what: "result to judge",
            expected: exact.shape().to_vec(),
            got: got.shape().to_vec(),
        });
    }
    let abs_sum = abs_sums(p)?;
    let terms = p.weight.shape()[1..].iter().product::<usize>() + usize::from(p.bias.is_some());
    let got: Vec<F> = got.iter().copied().collect();
    let exact: Vec<F> = exact.iter().copied().collect();
    let mut report = judge_elements(model, &got, &exact, &abs_sum, terms);
    if let Some(worst) = &mut report.worst {
        worst.taps = output_terms(p, worst.index)?
            .into_iter()
            .map(|(w, x)| (w.to_f64(), x.to_f64()))
            .collect();
    }
    Ok(report)
}

// ------------------------------------------------------------------------------ transposed

/// The largest number of literal terms of any output of a transposed convolution (`K` of
/// the componentwise bound: input channels per group times the taps that reach it, plus one
/// with a bias).
pub fn transpose_terms<T: Clone>(p: &TransposeProblem<'_, T>) -> Result<usize, ConvError> {
    let geo = p.validate()?;
    let mut k = geo.in_per_group;
    for a in &geo.axes {
        let most = (0..a.output)
            .map(|o| {
                (0..a.kernel)
                    .filter(|&t| {
                        let pos = o as i128 + a.pad_begin - (t * a.dilation) as i128;
                        let s = a.stride as i128;
                        pos >= 0 && pos % s == 0 && pos / s < a.input as i128
                    })
                    .count()
            })
            .max()
            .unwrap_or(0);
        k = k.saturating_mul(most);
    }
    Ok(k + usize::from(p.bias.is_some()))
}

/// The literal terms `(w, x)` of output `index` (row-major over `(N, C_out, out...)`) of a
/// transposed convolution, the bias first as `(b, 1)`; empty past the end.
pub fn transpose_output_terms<F: Float>(
    p: &TransposeProblem<'_, F>,
    index: usize,
) -> Result<Vec<(F, F)>, ConvError> {
    let geo = p.validate()?;
    let shape = &geo.output_shape;
    if index >= shape.iter().product::<usize>() {
        return Ok(Vec::new());
    }
    let mut idx = vec![0usize; shape.len()];
    let mut rest = index;
    for (i, &n) in shape.iter().enumerate().rev() {
        idx[i] = rest % n;
        rest /= n;
    }
    let (n, o) = (idx[0], idx[1]);
    let (cig, cog) = (geo.in_per_group, geo.out_per_group);
    let (g, oc) = (o / cog, o % cog);
    let mut terms = Vec::new();
    if let Some(b) = &p.bias {
        terms.push((b[o], F::from_f64(1.0)));
    }
    let kernel = IxDyn(&p.weight.shape()[2..]);
    for ic in 0..cig {
        let c = g * cig + ic;
        'taps: for k in ndarray::indices(kernel.clone()) {
            let mut xi = vec![n, c];
            for (axis, a) in geo.axes.iter().enumerate() {
                let pos = idx[2 + axis] as i128 + a.pad_begin - (k[axis] * a.dilation) as i128;
                let s = a.stride as i128;
                if pos < 0 || pos % s != 0 || pos / s >= a.input as i128 {
                    continue 'taps;
                }
                xi.push((pos / s) as usize);
            }
            let mut wi = vec![c, oc];
            wi.extend_from_slice(k.slice());
            terms.push((p.weight[IxDyn(&wi)], p.input[IxDyn(&xi)]));
        }
    }
    Ok(terms)
}

/// [`judge`] for a transposed convolution: `got` (shaped `(N, C_out, out...)`) against
/// [`exact_transpose`], with `A = sum |w| |x| + |b|` over the literal terms (the equivalent
/// direct convolution's, whose extra terms are zero) and `K` from [`transpose_terms`].
pub fn judge_transpose<F>(
    p: &TransposeProblem<'_, F>,
    got: ArrayViewD<'_, F>,
    model: &Model,
) -> Result<Report, ConvError>
where
    F: Float + ExactElement,
{
    let exact = exact_transpose(p)?;
    if got.shape() != exact.shape() {
        return Err(ConvError::ShapeMismatch {
            what: "result to judge",
            expected: exact.shape().to_vec(),
            got: got.shape().to_vec(),
        });
    }
    let abs_sum = abs_sums(&p.as_conv()?.problem())?;
    let terms = transpose_terms(p)?;
    let got: Vec<F> = got.iter().copied().collect();
    let exact: Vec<F> = exact.iter().copied().collect();
    let mut report = judge_elements(model, &got, &exact, &abs_sum, terms);
    if let Some(worst) = &mut report.worst {
        worst.taps = transpose_output_terms(p, worst.index)?
            .into_iter()
            .map(|(w, x)| (w.to_f64(), x.to_f64()))
            .collect();
    }
    Ok(report)
}
