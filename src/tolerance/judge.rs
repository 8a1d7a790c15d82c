//! The one policy function [`judge_elements`], per-element ratios ([`element_ratios`]) and
//! [`judge_pair`], which judges two candidates against each other.

use super::bound::componentwise_bound_cr;
use super::fft;
use super::float::{Float, U64, gamma};
use super::model::Model;
use super::report::{Aggregate, Failure, Report, Verdict, Worst};

/// One element's result under a per-element rule.
struct Judged {
    ok: bool,
    error: f64,
    bound: Option<f64>,
    ratio: f64,
}

/// One element under `model`: the overflow rule, then the special-value rules, then the
/// model's own (docs/numerics.md section 8.1); TOSA's running sums are updated.
fn judge_element<F: Float>(
    model: &Model,
    g: F,
    e: F,
    a: f64,
    terms: usize,
    err_sum: &mut f64,
    err_sum_sq: &mut f64,
) -> Judged {
    let (gv, ev) = (g.to_f64(), e.to_f64());
    let ulp = g.ulp_distance(e);
    let overflow = match model {
        Model::Componentwise | Model::Tosa => {
            a * (1.0 + gamma(terms, F::UNIT_ROUNDOFF)) >= F::MAX_FINITE
        }
        Model::Elementwise { .. } => a.is_infinite(),
        _ => false,
    } && !ev.is_nan();
    if overflow {
        // Module docs: a partial sum may overflow; not judged.
        Judged {
            ok: true,
            error: 0.0,
            bound: None,
            ratio: 0.0,
        }
    } else if !(gv.is_finite() && ev.is_finite()) {
        // Special values (module docs): distance 0 is exactly a match.
        let ok = ulp == 0;
        let error = if ok { 0.0 } else { f64::INFINITY };
        Judged {
            ok,
            error,
            bound: None,
            ratio: error,
        }
    } else {
        judge_finite::<F>(model, gv, ev, ulp, a, terms, err_sum, err_sum_sq)
    }
}

/// Per element, its error over its bound under `model` (the `ratio` of [`Worst`]): at most 1
/// where the element passes; infinite for a special-value mismatch; 0 where nothing is
/// judged (an overflow is possible). For [`Model::Normwise`], the element's error over the
/// whole bound. Arguments as [`judge_elements`] (lengths must match; missing `abs_sum`
/// entries count as 0).
pub fn element_ratios<F: Float>(
    model: &Model,
    got: &[F],
    exact: &[F],
    abs_sum: &[f64],
    terms: usize,
) -> Vec<f64> {
    let (mut s, mut s2) = (0.0, 0.0);
    got.iter()
        .zip(exact)
        .enumerate()
        .map(|(i, (&g, &e))| {
            let a = per_element(model, abs_sum, i);
            let j = judge_element(model, g, e, a, terms, &mut s, &mut s2);
            match model {
                Model::Normwise { bound } if j.error.is_finite() => ratio_of(j.error, *bound),
                _ => j.ratio,
            }
        })
        .collect()
}

/// What an element's rule reads: its bound under [`Model::Elementwise`], else its `abs_sum`
/// entry (0 when missing).
fn per_element(model: &Model, abs_sum: &[f64], i: usize) -> f64 {
    match model {
        Model::Elementwise { bounds } => bounds.get(i).copied().unwrap_or(0.0),
        _ => abs_sum.get(i).copied().unwrap_or(0.0),
    }
}

/// [`Model::Elementwise`]: the caller's `bound` on the error against the exact value, plus
/// the rounding of the exact value to `y_cr` (relative `u / (1 - u)` of `|y_cr|`, or half the
/// smallest subnormal), rounded up by `1 + 2^-48`.
fn elementwise_held_to<F: Float>(bound: f64, y_cr: f64) -> f64 {
    let u = F::UNIT_ROUNDOFF;
    (bound + u * y_cr.abs() / (1.0 - u) + F::SUBNORMAL_MIN / 2.0) * (1.0 + 2f64.powi(-48))
}

/// `error / bound` without NaN: 0 for no error, infinite for an error against a zero bound,
/// 0 (finite error) or 1 (infinite error) against an infinite bound.
fn ratio_of(error: f64, bound: f64) -> f64 {
    if error == 0.0 {
        0.0
    } else if bound.is_infinite() {
        if error.is_infinite() { 1.0 } else { 0.0 }
    } else if bound == 0.0 {
        f64::INFINITY
    } else {
        error / bound
    }
}

/// The one policy function: judges `got` against `exact` element by element under `model`.
///
/// - `exact[i]` is the **correctly rounded** exact output (the exact value rounded once to
///   nearest-even into `F`).
/// - `abs_sum[i]` is an **upper bound**, in f64, on the exact `sum |w| |x|` (plus `|b|` with a
///   bias) of output `i`, already rounded up by the caller (for f32 data, the f64 sum of the
///   exact f64 products times `1 + gamma_(K+1)(2^-53)` is one). Read by
///   [`Model::Componentwise`] and by [`Model::Tosa`] (as `bnd`); the other models ignore it
///   and also accept it empty.
/// - `terms` is `K`: taps per output, plus one with a bias (TOSA's `KS`).
///
/// Never panics: a length mismatch, an invalid model parameter or an invalid `abs_sum` entry
/// gives a failing [`Report`] with the reason and nothing compared. The special-value rules
/// come first for every model (docs/numerics.md section 8.1; each model's rule in section 8).
/// [`Worst::taps`] is left empty.
pub fn judge_elements<F: Float>(
    model: &Model,
    got: &[F],
    exact: &[F],
    abs_sum: &[f64],
    terms: usize,
) -> Report {
    let mut report = Report {
        model: model.clone(),
        dtype: F::NAME,
        terms,
        verdict: Verdict::Pass,
        elements: 0,
        failed: 0,
        max_ulp: 0,
        max_ratio: 0.0,
        correctly_rounded: 0,
        worst: None,
        aggregate: None,
    };
    if let Err(reason) = validate(model, got.len(), exact.len(), abs_sum) {
        report.verdict = Verdict::Fail(reason);
        return report;
    }
    report.elements = got.len();
    let normwise = matches!(model, Model::Normwise { .. });
    let ks = terms as f64;
    let mut first_failure = None;
    let mut worst_key = (false, f64::NEG_INFINITY);
    // TOSA's sums, in units of the per-element scale.
    let (mut err_sum, mut err_sum_sq) = (0.0f64, 0.0f64);

    for (i, (&g, &e)) in got.iter().zip(exact).enumerate() {
        // Present whenever the model reads it (checked by `validate`).
        let a = per_element(model, abs_sum, i);
        let (gv, ev) = (g.to_f64(), e.to_f64());
        let ulp = g.ulp_distance(e);
        report.max_ulp = report.max_ulp.max(ulp);
        if ulp == 0 {
            report.correctly_rounded += 1;
        }
        let judged = judge_element(model, g, e, a, terms, &mut err_sum, &mut err_sum_sq);
        if !judged.ok {
            report.failed += 1;
            first_failure.get_or_insert(i);
        }
        // Normwise: the worst element is the largest error (its ratio is set below).
        let key = (
            !judged.ok,
            if normwise { judged.error } else { judged.ratio },
        );
        let worse = match (key.0, worst_key.0) {
            (true, false) => true,
            (false, true) => false,
            _ => key.1 > worst_key.1,
        };
        if worse {
            worst_key = key;
            report.worst = Some(Worst {
                index: i,
                got: gv,
                exact: ev,
                ulp,
                error: judged.error,
                bound: judged.bound,
                ratio: judged.ratio,
                taps: Vec::new(),
            });
        }
        report.max_ratio = report.max_ratio.max(judged.ratio);
    }

    let mut reasons = Vec::new();
    if let Some(first) = first_failure {
        reasons.push(Failure::Elements {
            count: report.failed,
            first,
        });
    }
    match model {
        Model::Normwise { bound } => {
            let (error, held_to) = normwise_check(*bound, got, exact);
            report.max_ratio = ratio_of(error, held_to);
            if let Some(w) = report.worst.as_mut().filter(|w| w.error.is_finite()) {
                w.bound = Some(held_to);
                w.ratio = ratio_of(w.error, held_to);
            }
            let within = error <= held_to; // false for NaN
            if !within {
                reasons.push(Failure::Norm {
                    error,
                    bound: held_to,
                });
            }
            report.aggregate = Some(Aggregate::Norm {
                error,
                bound: held_to,
            });
        }
        Model::Tosa => {
            let t = report.elements as f64;
            let bias_limit = 2.0 * (ks * t).sqrt();
            let variance_limit = 0.4 * ks * t;
            // Written as "within" tests so that a NaN sum fails.
            let unbiased = err_sum.abs() <= bias_limit;
            let small_variance = err_sum_sq <= variance_limit;
            if !unbiased {
                reasons.push(Failure::TosaBias {
                    sum: err_sum,
                    limit: bias_limit,
                });
            }
            if !small_variance {
                reasons.push(Failure::TosaVariance {
                    sum_sq: err_sum_sq,
                    limit: variance_limit,
                });
            }
            report.aggregate = Some(Aggregate::Tosa {
                err_sum,
                bias_limit,
                err_sum_sq,
                variance_limit,
            });
        }
        _ => {}
    }
    if let Some(reason) = reasons.into_iter().next() {
        report.verdict = Verdict::Fail(reason);
    }
    report
}

/// One element with finite `got` (`gv`) and `exact` (`ev`) under a per-element rule
/// (Normwise elements always pass here; their check is over the block). TOSA's error in scale
/// units is added to the running sums.
#[allow(clippy::too_many_arguments)]
fn judge_finite<F: Float>(
    model: &Model,
    gv: f64,
    ev: f64,
    ulp: u64,
    abs_sum: f64,
    terms: usize,
    err_sum: &mut f64,
    err_sum_sq: &mut f64,
) -> Judged {
    let ks = terms as f64;
    let error = (gv - ev).abs();
    let against = |bound: f64| Judged {
        ok: error <= bound,
        error,
        bound: Some(bound),
        ratio: ratio_of(error, bound),
    };
    match model {
        Model::Exact => Judged {
            ok: ulp == 0,
            error,
            bound: None,
            ratio: if ulp == 0 { 0.0 } else { f64::INFINITY },
        },
        Model::Ulp(max) => Judged {
            ok: ulp <= *max,
            error,
            bound: None,
            ratio: ratio_of(ulp as f64, *max as f64),
        },
        Model::Componentwise => against(componentwise_bound_cr::<F>(terms, abs_sum, ev)),
        Model::RtolAtol { rtol, atol } => against(atol + rtol * ev.abs()),
        Model::Elementwise { .. } => against(elementwise_held_to::<F>(abs_sum, ev)),
        Model::Tosa => {
            if F::from_f64(abs_sum).to_f64().is_infinite() {
                // TOSA: the dot product may overflow; no accuracy limit.
                Judged {
                    ok: true,
                    error,
                    bound: Some(f64::INFINITY),
                    ratio: 0.0,
                }
            } else if abs_sum == 0.0 {
                let ok = gv == 0.0 && ev == 0.0;
                Judged {
                    ok,
                    error,
                    bound: Some(0.0),
                    ratio: if ok { 0.0 } else { f64::INFINITY },
                }
            } else {
                let scale = (abs_sum * F::UNIT_ROUNDOFF).max(F::NORMAL_MIN);
                let err = (gv - ev) / scale;
                *err_sum += err;
                *err_sum_sq += err * err;
                Judged {
                    ok: err.abs() <= ks,
                    error,
                    bound: Some(ks * scale),
                    ratio: ratio_of(err.abs(), ks),
                }
            }
        }
        Model::Normwise { .. } => Judged {
            ok: true,
            error,
            bound: None,
            ratio: 0.0,
        },
    }
}

/// A tolerance parameter must be a non-negative number (infinity allowed).
fn check_parameter(what: &'static str, value: f64) -> Result<(), Failure> {
    if value.is_nan() || value < 0.0 {
        Err(Failure::InvalidParameter { what, value })
    } else {
        Ok(())
    }
}

/// Lengths, model parameters and `abs_sum` entries, checked before anything is compared.
fn validate(model: &Model, got: usize, exact: usize, abs_sum: &[f64]) -> Result<(), Failure> {
    if exact != got {
        return Err(Failure::LengthMismatch {
            what: "exact",
            expected: got,
            got: exact,
        });
    }
    let needs = model.uses_abs_sum();
    if abs_sum.len() != got && (needs || !abs_sum.is_empty()) {
        return Err(Failure::LengthMismatch {
            what: "abs_sum",
            expected: got,
            got: abs_sum.len(),
        });
    }
    match model {
        Model::RtolAtol { rtol, atol } => {
            check_parameter("rtol", *rtol)?;
            check_parameter("atol", *atol)?;
        }
        Model::Normwise { bound } => check_parameter("bound", *bound)?,
        Model::Elementwise { bounds } => {
            if bounds.len() != got {
                return Err(Failure::LengthMismatch {
                    what: "bounds",
                    expected: got,
                    got: bounds.len(),
                });
            }
            for &b in bounds {
                check_parameter("bound", b)?;
            }
        }
        _ => {}
    }
    if needs {
        let bad = abs_sum.iter().position(|a| a.is_nan() || *a < 0.0);
        if let Some(index) = bad {
            return Err(Failure::InvalidAbsSum {
                index,
                value: abs_sum[index],
            });
        }
    }
    Ok(())
}

/// [`Model::Normwise`]: the computed `||got - exact||_2` ([`fft::distance`]: matching special
/// values left out, any other non-finite difference makes it infinite) and the bound it is
/// held to (docs/numerics.md section 8.5).
fn normwise_check<F: Float>(bound: f64, got: &[F], exact: &[F]) -> (f64, f64) {
    let a: Vec<f64> = got.iter().map(|v| v.to_f64()).collect();
    let b: Vec<f64> = exact.iter().map(|v| v.to_f64()).collect();
    let error = fft::distance(&a, &b);
    let reference = fft::l2_upper(b.iter().copied().filter(|v| v.is_finite()));
    let t = got.len();
    let held_to = (bound + F::UNIT_ROUNDOFF * reference + (t as f64).sqrt() * F::SUBNORMAL_MIN)
        * (1.0 + gamma(t + 4, U64))
        * (1.0 + 2f64.powi(-48));
    (error, held_to)
}

/// Judges two results `a` and `b` of one problem against each other, each of which claims to
/// be within `model` of the same correctly rounded result (a metamorphic relation: the same
/// exact value computed two ways), so that they may differ by twice the model's allowance;
/// `abs_sum` and `terms` are those of [`judge_elements`]. Per element:
///
/// | model | `a` and `b` agree when |
/// |---|---|
/// | `Exact` | ULP distance 0 (NaN equals NaN, the sign of zero ignored) |
/// | `Ulp(n)` | ULP distance at most `2n` |
/// | `Componentwise`, `Tosa` | `\|a - b\| <= 2 (g A + u m + (K + 2)(1 + g) eta) / (1 - u)`, `m = max(\|a\|, \|b\|)` |
/// | `RtolAtol` | `rtol < 1` and `\|a - b\| <= 2 (atol + rtol m) / (1 - rtol)` |
/// | `Normwise { bound }` | non-finite elements match exactly, and the 2-norm of `a - b` is at most `2 bound` (plus the roundings of its evaluation) |
/// | `Elementwise { bounds }` | `\|a - b\| <= 2 (bounds[i] + u m / (1 - u) + eta / 2)`; an infinite bound is not judged |
///
/// The tolerances are rounded up by `1 + 2^-48`. Special values must match exactly, except
/// where `Componentwise`, `Tosa` and `Elementwise` do not judge (an overflow is possible, as
/// with an infinite `abs_sum` entry or bound). `Componentwise` and `Tosa` need one `abs_sum` entry per element. Returns
/// the index of the first element that does not agree and why, or `None`; lengths that differ
/// (of `a` and `b`, or of `abs_sum` where the model reads it) fail at index 0.
/// docs/numerics.md section 8.8.
pub fn judge_pair<F: Float>(
    model: &Model,
    a: &[F],
    b: &[F],
    abs_sum: &[f64],
    terms: usize,
) -> Option<(usize, String)> {
    if a.len() != b.len() {
        return Some((0, format!("{} values against {}", a.len(), b.len())));
    }
    if let Model::Elementwise { bounds } = model
        && bounds.len() != a.len()
    {
        return Some((
            0,
            format!(
                "{} bounds for {} values: the model needs one per element",
                bounds.len(),
                a.len()
            ),
        ));
    }
    if matches!(model, Model::Componentwise | Model::Tosa) && abs_sum.len() != a.len() {
        return Some((
            0,
            format!(
                "{} abs_sum entries for {} values: the model needs one per element",
                abs_sum.len(),
                a.len()
            ),
        ));
    }
    if let Model::Normwise { bound } = model {
        if let Some(i) = (0..a.len()).find(|&i| {
            let (x, y) = (a[i].to_f64(), b[i].to_f64());
            !(x.is_finite() && y.is_finite()) && a[i].ulp_distance(b[i]) != 0
        }) {
            return Some((
                i,
                format!("{:?} against {:?}", a[i].to_f64(), b[i].to_f64()),
            ));
        }
        let (error, held_to) = normwise_check(2.0 * bound, a, b);
        return (error > held_to).then(|| {
            (
                0,
                format!("2-norm of the difference {error:e} above {held_to:e}"),
            )
        });
    }
    let u = F::UNIT_ROUNDOFF;
    let g = gamma(terms, u);
    let eta = (terms as f64 + 2.0) * (1.0 + g) * F::SUBNORMAL_MIN;
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let ulp = x.ulp_distance(y);
        let (xv, yv) = (x.to_f64(), y.to_f64());
        let m = xv.abs().max(yv.abs());
        let d = (xv - yv).abs();
        let a_i = match model {
            Model::Elementwise { bounds } => bounds[i],
            _ => abs_sum.get(i).copied().unwrap_or(f64::INFINITY),
        };
        let overflow = match model {
            Model::Componentwise | Model::Tosa => a_i * (1.0 + g) >= F::MAX_FINITE,
            Model::Elementwise { .. } => a_i.is_infinite(),
            _ => false,
        } && !(xv.is_nan() && yv.is_nan());
        let ok = if overflow {
            // As in `judge_elements`: a partial sum may overflow.
            true
        } else if !(xv.is_finite() && yv.is_finite()) {
            ulp == 0
        } else {
            match model {
                Model::Exact => ulp == 0,
                Model::Ulp(n) => ulp <= n.saturating_mul(2),
                Model::Componentwise | Model::Tosa => {
                    d <= 2.0 * (g * a_i + u * m + eta) / (1.0 - u) * (1.0 + 2f64.powi(-48))
                }
                Model::RtolAtol { rtol, atol } => {
                    *rtol < 1.0
                        && d <= 2.0 * (atol + rtol * m) / (1.0 - rtol) * (1.0 + 2f64.powi(-48))
                }
                Model::Elementwise { .. } => {
                    d <= 2.0
                        * (a_i + u * m / (1.0 - u) + F::SUBNORMAL_MIN / 2.0)
                        * (1.0 + 2f64.powi(-48))
                }
                Model::Normwise { .. } => true,
            }
        };
        if !ok {
            return Some((i, format!("{xv:?} against {yv:?} ({ulp} ulp apart)")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_never_nan() {
        assert_eq!(ratio_of(0.0, 0.0), 0.0);
        assert_eq!(ratio_of(1.0, 0.0), f64::INFINITY);
        assert_eq!(ratio_of(f64::INFINITY, f64::INFINITY), 1.0);
        assert_eq!(ratio_of(1.0, f64::INFINITY), 0.0);
        assert_eq!(ratio_of(1.0, 4.0), 0.25);
    }

    #[test]
    fn models_that_ignore_abs_sum_accept_it_empty() {
        assert_eq!(validate(&Model::Ulp(1), 3, 3, &[]), Ok(()));
        assert!(validate(&Model::Ulp(1), 3, 3, &[1.0]).is_err());
        assert!(validate(&Model::Componentwise, 3, 3, &[]).is_err());
        assert!(validate(&Model::Tosa, 1, 1, &[f64::NAN]).is_err());
        let bad = Model::RtolAtol {
            rtol: -1.0,
            atol: 0.0,
        };
        assert!(validate(&bad, 0, 0, &[]).is_err());
    }

    #[test]
    fn elementwise_bounds_are_per_element() {
        let model = Model::Elementwise {
            bounds: vec![0.0, 0.5, f64::INFINITY],
        };
        // y_cr 4: a half-ulp allowance of f32 plus the bound.
        let exact = [4.0f32, 4.0, 4.0];
        let r = judge_elements(&model, &[4.0f32, 4.25, 1e30], &exact, &[], 0);
        assert!(r.passed(), "{r}");
        // 4.75 is 0.75 from 4: beyond a bound of 0.5; the first element beyond 0.
        let r = judge_elements(&model, &[4.0f32, 4.75, 0.0], &exact, &[], 0);
        assert!(
            matches!(
                r.verdict,
                Verdict::Fail(Failure::Elements { count: 1, first: 1 })
            ),
            "{r}"
        );
        let r = judge_elements(&model, &[4.000_001f32, 4.0, 0.0], &exact, &[], 0);
        assert!(!r.passed(), "one ulp from y_cr with a bound of 0: {r}");
        // An infinite bound judges nothing but a NaN exact value.
        let nan = judge_elements(&model, &[4.0f32, 4.0, 1.0], &[4.0, 4.0, f32::NAN], &[], 0);
        assert!(!nan.passed(), "{nan}");
        // One bound per element, none negative or NaN.
        assert!(matches!(
            validate(&model, 2, 2, &[]),
            Err(Failure::LengthMismatch { what: "bounds", .. })
        ));
        let negative = Model::Elementwise { bounds: vec![-1.0] };
        assert!(matches!(
            validate(&negative, 1, 1, &[]),
            Err(Failure::InvalidParameter { what: "bound", .. })
        ));
        // Two candidates may differ by twice the bound.
        assert_eq!(
            judge_pair(&model, &[4.0f32, 4.9, 0.0], &exact, &[], 0),
            None
        );
        assert_eq!(
            judge_pair(&model, &[4.0f32, 5.1, 0.0], &exact, &[], 0).map(|f| f.0),
            Some(1)
        );
    }
}
