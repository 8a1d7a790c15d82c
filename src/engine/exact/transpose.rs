//! The correctly rounded transposed convolution ([`exact_transpose`]).

use super::{ExactElement, ExactEngine};
use crate::engine::ConvEngine;

/// The correctly rounded result of a transposed convolution: every output's exact value
/// (the sum of its literal terms, [`crate::reference::conv_transpose`]) rounded once to
/// nearest-even.
///
/// Finite outputs come from [`crate::engine::exact::ExactEngine`] on the direct convolution
/// with the same exact output ([`crate::problem::TransposeProblem::as_conv`]), with NaN and
/// infinities set to 0 there. Which outputs are NaN or infinite, and their sign, follows from
/// the literal terms alone (IEEE sums of infinities do not depend on the order): the literal
/// formula in `f64` on the data with every finite nonzero value replaced by its sign decides
/// them, so a stuffed zero never meets an infinite weight. docs/numerics.md section 8.4.
pub fn exact_transpose<F>(
    p: &crate::problem::TransposeProblem<'_, F>,
) -> Result<ndarray::ArrayD<F>, crate::problem::ConvError>
where
    F: crate::tolerance::Float + ExactElement,
{
    let finite = |v: &F| v.to_f64().is_finite();
    let all_finite = p.input.iter().all(finite)
        && p.weight.iter().all(finite)
        && p.bias.as_ref().is_none_or(|b| b.iter().all(finite));
    if all_finite {
        return ExactEngine::new().conv(&p.as_conv()?.problem());
    }
    let zeroed = |v: &F| if finite(v) { *v } else { F::from_f64(0.0) };
    let (x, w) = (p.input.map(zeroed), p.weight.map(zeroed));
    let b = p.bias.as_ref().map(|b| b.map(zeroed));
    let mut q = crate::problem::TransposeProblem::new(x.view(), w.view()).spec(p.spec.clone());
    q.bias = b.as_ref().map(|b| b.view());
    let mut exact = ExactEngine::new().conv(&q.as_conv()?.problem())?;
    let sign = |v: &F| {
        let v = v.to_f64();
        if !v.is_finite() || v == 0.0 {
            v
        } else {
            v.signum()
        }
    };
    let (xs, ws) = (p.input.map(sign), p.weight.map(sign));
    let bs = p.bias.as_ref().map(|b| b.map(sign));
    let mut r = crate::problem::TransposeProblem::new(xs.view(), ws.view()).spec(p.spec.clone());
    r.bias = bs.as_ref().map(|b| b.view());
    let specials = crate::reference::transpose_literal(&r)?;
    for (e, s) in exact.iter_mut().zip(specials.iter()) {
        if !s.is_finite() {
            *e = F::from_f64(*s);
        }
    }
    Ok(exact)
}
