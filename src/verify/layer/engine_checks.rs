//! The engine-level checks, over any [`ConvEngine`]: translation equivariance (and where zero
//! padding and stride break it), locality, independent groups, agreement with the reference.

use super::cases::{ConvCase, PerturbCase, ShiftCase};
use super::helpers::{
    Ax, axes_of, check_output_shape, fold, per_axis, roll, run, same, shape_mismatch,
};
use crate::engine::ConvEngine;
use crate::problem::Problem;
use crate::problem::{Boundary, Flip};
use crate::reference;
use crate::scalar::Ring;
use crate::testing::Violation;
use crate::testing::cases::Arr;
use ndarray::{ArrayD, ArrayView1, Axis, Dimension, IxDyn, Slice};

/// Rolling the input rolls the output: `y'[p] == y[(p - t/s) mod (n/s)]` for every output
/// `p`, where `y'` is the output for the input rolled by `t` along each spatial axis.
///
/// True for the circular boundary whenever `s | n`, `s | t` and the output covers a period
/// (`out >= n/s`, i.e. pads totalling at least `eff - 1`); false in general for zero padding.
pub(crate) fn periodic_shift_equivariance(
    engine: &dyn ConvEngine<i64>,
    c: &ShiftCase,
) -> Result<(), Violation> {
    let Shifted { y, y2, period } = shifted_pair(engine, c)?;
    let mut moved = Vec::with_capacity(period.len());
    let stride = per_axis(&c.case.spec.stride, c.case.rank(), 1)?;
    for (a, (&t, &s)) in c.shift.iter().zip(&stride).enumerate() {
        if t % s as isize != 0 {
            return Err(Violation::hypothesis(format!(
                "hypothesis violated: shift {t} on axis {a} is not a multiple of the stride {s}"
            )));
        }
        moved.push(t / s as isize);
    }
    compare_periodic(&y, &y2, &period, &moved)
}

/// The false claim that rolling the input by `t` always rolls the output by *some* amount
/// (a periodic shift `u` per axis); the battery expects the search to refute it for `t = 1`
/// with stride 2.
pub(crate) fn some_output_shift_matches(
    engine: &dyn ConvEngine<i64>,
    c: &ShiftCase,
) -> Result<(), Violation> {
    let Shifted { y, y2, period } = shifted_pair(engine, c)?;
    let found = ndarray::indices(IxDyn(&period)).into_iter().any(|u| {
        let moved: Vec<isize> = u.slice().iter().map(|&v| v as isize).collect();
        compare_periodic(&y, &y2, &period, &moved).is_ok()
    });
    if found {
        Ok(())
    } else {
        Err(Violation::mismatch(format!(
            "no roll of the output (period {period:?}) reproduces the output of the input \
             rolled by {:?}: y = {:?}, y' = {:?}",
            c.shift,
            Arr(y),
            Arr(y2)
        )))
    }
}

/// The outputs for a case and for its rolled input.
struct Shifted {
    /// Output for the original input.
    y: ArrayD<i64>,
    /// Output for the rolled input.
    y2: ArrayD<i64>,
    /// `n/s` per spatial axis.
    period: Vec<usize>,
}

/// Runs the case and its rolled input, after checking the hypotheses shared by the periodic
/// claims.
fn shifted_pair(engine: &dyn ConvEngine<i64>, c: &ShiftCase) -> Result<Shifted, Violation> {
    let rank = c.case.rank();
    if c.shift.len() != rank {
        return Err(Violation::hypothesis(format!(
            "shift has {} entries for rank {rank}",
            c.shift.len()
        )));
    }
    let p = c.case.problem();
    let y = run(engine, &p)?;
    let rolled = roll(&c.case.input.0, &c.shift);
    let mut p2 = p.clone();
    p2.input = rolled.view();
    let y2 = run(engine, &p2)?;
    let stride = per_axis(&c.case.spec.stride, rank, 1)?;
    let mut period = Vec::with_capacity(rank);
    for (a, &s) in stride.iter().enumerate() {
        let n = c.case.input.0.shape()[2 + a];
        if s == 0 || !n.is_multiple_of(s) {
            return Err(Violation::hypothesis(format!(
                "hypothesis violated: stride {s} does not divide n = {n} on axis {a}"
            )));
        }
        let m = n / s;
        if y.shape().get(2 + a).is_none_or(|&out| out < m) {
            return Err(Violation::hypothesis(format!(
                "hypothesis violated: output {:?} shorter than one period {m} on axis {a} \
                 (pads must total at least eff - 1)",
                y.shape()
            )));
        }
        period.push(m);
    }
    if y.shape() != y2.shape() {
        return Err(shape_mismatch(format!(
            "shapes differ: {:?} and {:?}",
            y.shape(),
            y2.shape()
        )));
    }
    Ok(Shifted { y, y2, period })
}

fn compare_periodic(
    y: &ArrayD<i64>,
    y2: &ArrayD<i64>,
    period: &[usize],
    moved: &[isize],
) -> Result<(), Violation> {
    for (idx, v2) in y2.indexed_iter() {
        let mut q = idx.clone();
        for (a, (&m, &u)) in period.iter().zip(moved).enumerate() {
            q[2 + a] = (idx[2 + a] as isize - u).rem_euclid(m as isize) as usize;
        }
        if y[&q] != *v2 {
            return Err(Violation::mismatch(format!(
                "output {:?} of the rolled input is {v2}, but output {:?} of the original \
                 (moved back by {moved:?} mod {period:?}) is {}",
                idx.slice(),
                q.slice(),
                y[&q]
            )));
        }
    }
    Ok(())
}

/// Stride 1, any boundary and padding rule: `y'[p] == y[p - t]` on every output whose
/// receptive field `[p - lo, p - lo + eff - 1]` lies inside `[0, n)` both for `p` and for
/// `p - t` (so neither reads padding nor wraps); `y'` is the output for the input rolled by
/// `t`. Fails if no output qualifies (the strategy keeps `|t| <= n - eff`).
pub(crate) fn interior_shift_equivariance(
    engine: &dyn ConvEngine<i64>,
    c: &ShiftCase,
) -> Result<(), Violation> {
    let rank = c.case.rank();
    if c.shift.len() != rank {
        return Err(Violation::hypothesis(format!(
            "shift has {} entries for rank {rank}",
            c.shift.len()
        )));
    }
    let axes = axes_of(&c.case)?;
    if let Some(a) = axes.iter().position(|a| a.s != 1) {
        return Err(Violation::hypothesis(format!(
            "hypothesis violated: stride {} on axis {a}",
            axes[a].s
        )));
    }
    let p = c.case.problem();
    let y = run(engine, &p)?;
    check_output_shape(&y, &c.case, &axes)?;
    let rolled = roll(&c.case.input.0, &c.shift);
    let mut p2 = p.clone();
    p2.input = rolled.view();
    let y2 = run(engine, &p2)?;
    check_output_shape(&y2, &c.case, &axes)?;
    let mut qualifying = Vec::with_capacity(rank);
    for (a, ax) in axes.iter().enumerate() {
        let (n, eff, t) = (ax.n as isize, ax.eff as isize, c.shift[a]);
        let inside = |start: isize| start >= 0 && start + eff <= n;
        let ok: Vec<usize> = (0..ax.out)
            .filter(|&q| {
                let start = q as isize - ax.lo as isize;
                inside(start) && inside(start - t)
            })
            .collect();
        if ok.is_empty() {
            return Err(Violation::hypothesis(format!(
                "no output qualifies on axis {a} (n = {n}, eff = {eff}, t = {t}): \
                 the case must keep |t| <= n - eff"
            )));
        }
        qualifying.push(ok);
    }
    let lens: Vec<usize> = qualifying.iter().map(Vec::len).collect();
    let (batch, c_out) = (y.shape()[0], y.shape()[1]);
    for b in 0..batch {
        for o in 0..c_out {
            for sel in ndarray::indices(IxDyn(&lens)) {
                let mut at = vec![b, o];
                let mut from = vec![b, o];
                for (a, ok) in qualifying.iter().enumerate() {
                    let q = ok[sel[a]];
                    at.push(q);
                    from.push((q as isize - c.shift[a]) as usize);
                }
                let (got, want) = (y2[IxDyn(&at)], y[IxDyn(&from)]);
                if got != want {
                    return Err(Violation::mismatch(format!(
                        "interior output {at:?} of the rolled input is {got}, but output \
                         {from:?} of the original is {want}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The taps `k` (per axis) of output position `q` that read input position `j`.
fn taps_reading(axes: &[Ax], mode: &Boundary<i64>, q: &[usize], j: &[usize]) -> Vec<Vec<usize>> {
    axes.iter()
        .enumerate()
        .map(|(a, ax)| {
            (0..ax.k)
                .filter(|&k| {
                    let pos = (q[a] * ax.s + k * ax.d) as isize - ax.lo as isize;
                    fold(mode, pos, ax.n) == Some(j[a])
                })
                .collect()
        })
        .collect()
}

/// For each output: `None` when the changed element is outside its receptive field, else
/// `Some(sum of the weights of the taps that read it)`.
fn receptive_sums(
    c: &PerturbCase,
    axes: &[Ax],
    out_shape: &[usize],
) -> Result<ArrayD<Option<i64>>, Violation> {
    let xs = c.case.input.0.shape();
    if c.at.len() != xs.len() || c.at.iter().zip(xs).any(|(&i, &n)| i >= n) {
        return Err(Violation::hypothesis(format!(
            "element {:?} is not inside input {xs:?}",
            c.at
        )));
    }
    let w = &c.case.weight.0;
    let (c_out, cg) = (w.shape()[0], w.shape()[1]);
    let groups = c.case.spec.groups;
    if groups == 0 || c_out % groups != 0 {
        return Err(Violation::hypothesis(format!(
            "groups {groups} do not divide {c_out} output channels"
        )));
    }
    let og = c_out / groups;
    let flip = c.case.spec.flip == Flip::Convolution;
    Ok(ArrayD::from_shape_fn(IxDyn(out_shape), |idx| {
        let (b, o) = (idx[0], idx[1]);
        let g = o / og;
        let ch = c.at[1];
        if b != c.at[0] || ch / cg != g {
            return None;
        }
        let taps = taps_reading(axes, &c.case.spec.boundary, &idx.slice()[2..], &c.at[2..]);
        if taps.iter().any(Vec::is_empty) {
            return None;
        }
        let lens: Vec<usize> = taps.iter().map(Vec::len).collect();
        let mut sum = 0i64;
        for sel in ndarray::indices(IxDyn(&lens)) {
            let mut wi = vec![o, ch - g * cg];
            for (a, t) in taps.iter().enumerate() {
                let k = t[sel[a]];
                wi.push(if flip { axes[a].k - 1 - k } else { k });
            }
            sum = sum.plus(&w[IxDyn(&wi)]);
        }
        Some(sum)
    }))
}

fn perturbed(c: &PerturbCase) -> ArrayD<i64> {
    let mut x = c.case.input.0.clone();
    if let Some(v) = x.get_mut(IxDyn(&c.at)) {
        *v = v.plus(&c.delta);
    }
    x
}

/// The outputs before and after a perturbation, and per output the receptive-field sum.
struct Perturbed {
    /// Output for the original input.
    y: ArrayD<i64>,
    /// Output for the changed input.
    y2: ArrayD<i64>,
    /// Per output: `None` outside the receptive field, else the sum of the taps reading the
    /// changed element.
    sums: ArrayD<Option<i64>>,
}

fn perturb_outputs(engine: &dyn ConvEngine<i64>, c: &PerturbCase) -> Result<Perturbed, Violation> {
    let axes = axes_of(&c.case)?;
    let p = c.case.problem();
    let y = run(engine, &p)?;
    check_output_shape(&y, &c.case, &axes)?;
    let x2 = perturbed(c);
    let mut p2 = p.clone();
    p2.input = x2.view();
    let y2 = run(engine, &p2)?;
    check_output_shape(&y2, &c.case, &axes)?;
    let sums = receptive_sums(c, &axes, y.shape())?;
    Ok(Perturbed { y, y2, sums })
}

/// Adding `delta` to one input element leaves every output whose receptive field does not
/// contain it unchanged (any weights, any spec). The receptive field of output `(b, o, q)` is
/// every `(b, c, j)` with `c` in `o`'s group and some tap `k` reading `j` through the boundary.
pub(crate) fn locality_outside(
    engine: &dyn ConvEngine<i64>,
    c: &PerturbCase,
) -> Result<(), Violation> {
    let Perturbed { y, y2, sums } = perturb_outputs(engine, c)?;
    for ((idx, s), (a, b)) in sums.indexed_iter().zip(y.iter().zip(y2.iter())) {
        if s.is_none() && a != b {
            return Err(Violation::mismatch(format!(
                "output {:?} changed from {a} to {b}, but element {:?} is outside its \
                 receptive field",
                idx.slice(),
                c.at
            )));
        }
    }
    Ok(())
}

/// With every weight `>= 1` and `delta >= 1`: every output whose receptive field contains the
/// changed element changes by exactly `delta * (sum of the taps that read it)`, which is at
/// least `delta`, so it changes (the docs of `verify::layer` say why positivity is needed).
pub(crate) fn locality_inside(
    engine: &dyn ConvEngine<i64>,
    c: &PerturbCase,
) -> Result<(), Violation> {
    if c.delta < 1 || c.case.weight.0.iter().any(|&w| w < 1) {
        return Err(Violation::hypothesis(
            "hypothesis violated: delta and every weight must be >= 1",
        ));
    }
    let Perturbed { y, y2, sums } = perturb_outputs(engine, c)?;
    for ((idx, s), (a, b)) in sums.indexed_iter().zip(y.iter().zip(y2.iter())) {
        if let Some(s) = s {
            let expected = c.delta.times(s);
            if b.minus(a) != expected || a == b {
                return Err(Violation::mismatch(format!(
                    "output {:?} went from {a} to {b}, but element {:?} is read by taps \
                     weighing {s} in total, so it must change by {expected}",
                    idx.slice(),
                    c.at
                )));
            }
        }
    }
    Ok(())
}

/// A grouped convolution equals the concatenation (along channels) of `groups` independent
/// convolutions of the group's input channels with the group's filters (and bias).
pub(crate) fn groups_are_independent(
    engine: &dyn ConvEngine<i64>,
    c: &ConvCase,
) -> Result<(), Violation> {
    let whole = run(engine, &c.problem())?;
    let groups = c.spec.groups;
    let (x, w) = (&c.input.0, &c.weight.0);
    if x.ndim() < 2 || w.ndim() != x.ndim() {
        return Err(Violation::hypothesis(
            "input and weight need (N, C, ...) and (O, C/g, ...)",
        ));
    }
    let (cg, c_out) = (w.shape()[1], w.shape()[0]);
    if groups == 0 || c_out % groups != 0 {
        return Err(Violation::hypothesis(format!(
            "groups {groups} do not divide {c_out}"
        )));
    }
    let og = c_out / groups;
    let mut parts = Vec::with_capacity(groups);
    for g in 0..groups {
        let xg = x.slice_axis(Axis(1), Slice::from(g * cg..(g + 1) * cg));
        let wg = w.slice_axis(Axis(0), Slice::from(g * og..(g + 1) * og));
        let mut p = Problem::new(xg, wg).spec(c.spec.clone().groups(1));
        p.bias = c
            .bias
            .as_deref()
            .and_then(|b| b.get(g * og..(g + 1) * og))
            .map(ArrayView1::from);
        parts.push(run(engine, &p)?);
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let cat = ndarray::concatenate(Axis(1), &views)
        .map_err(|e| shape_mismatch(format!("concatenate: {e}")))?;
    same(
        &whole,
        &cat,
        "grouped convolution",
        "concatenated per-group convolutions",
    )
}

/// The engine agrees with [`reference::conv`]: both `Ok` and equal, or the same error.
pub(crate) fn engine_equals_reference(
    engine: &dyn ConvEngine<i64>,
    c: &ConvCase,
) -> Result<(), Violation> {
    let p = c.problem();
    match (engine.conv(&p), reference::conv(&p)) {
        (Ok(a), Ok(b)) => same(&a, &b, engine.name(), "reference"),
        (Err(a), Err(b)) if a == b => Ok(()),
        (a, b) => Err(Violation::acceptance(&a, &b).context(engine.name())),
    }
}
