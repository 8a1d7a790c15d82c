//! What the checks share: comparisons and violations, and the convolution's axes, boundary
//! folding, rolls and layouts written without the crate's indexing (docs/semantics.md section 2).

use super::cases::ConvCase;
use crate::engine::ConvEngine;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::{Boundary, Padding};
use crate::problem::{InputLayout, KernelLayout};
use crate::scalar::Ring;
use crate::testing::cases::Arr;
use crate::testing::{Kind, Violation};
use ndarray::{ArrayD, IxDyn};

pub(super) fn same(
    a: &ArrayD<i64>,
    b: &ArrayD<i64>,
    what_a: &str,
    what_b: &str,
) -> Result<(), Violation> {
    if a == b {
        Ok(())
    } else {
        Err(Violation::mismatch(format!(
            "{what_a} = {:?} but {what_b} = {:?}",
            Arr(a.clone()),
            Arr(b.clone())
        )))
    }
}

pub(super) fn run(
    engine: &dyn ConvEngine<i64>,
    p: &Problem<'_, i64>,
) -> Result<ArrayD<i64>, Violation> {
    engine
        .conv(p)
        .map_err(|e| Violation::refused(&e).context(engine.name()))
}

pub(super) fn refused(what: &str) -> impl Fn(ConvError) -> Violation + '_ {
    move |e| Violation::refused(&e).context(what)
}

pub(super) fn shape_mismatch(detail: String) -> Violation {
    Violation::new(Kind::ShapeMismatch, detail)
}

/// A per-axis setting with the "empty means all `default`" convention.
pub(super) fn per_axis(v: &[usize], rank: usize, default: usize) -> Result<Vec<usize>, Violation> {
    match v.len() {
        0 => Ok(vec![default; rank]),
        n if n == rank => Ok(v.to_vec()),
        n => Err(Violation::hypothesis(format!(
            "per-axis setting has {n} entries for rank {rank}"
        ))),
    }
}

/// `x` rolled by `shift` along its spatial axes (axes 2..): `x'[i] = x[(i - t) mod n]`.
pub(super) fn roll(x: &ArrayD<i64>, shift: &[isize]) -> ArrayD<i64> {
    let shape = x.shape().to_vec();
    ArrayD::from_shape_fn(x.raw_dim(), |idx| {
        let mut src = idx.clone();
        for (a, &t) in shift.iter().enumerate() {
            let n = shape[2 + a] as isize;
            src[2 + a] = (idx[2 + a] as isize - t).rem_euclid(n) as usize;
        }
        x[&src]
    })
}

/// Where padded position `i` of an axis of length `n` reads, by folding (numpy.pad's rule,
/// written without the reference's modular index map); `None` for the boundary constant.
pub(super) fn fold(mode: &Boundary<i64>, i: isize, n: usize) -> Option<usize> {
    let n = n as isize;
    let mut i = i;
    match mode {
        Boundary::Zeros | Boundary::Constant(_) => (0..n).contains(&i).then_some(i as usize),
        Boundary::Replicate => Some(i.clamp(0, n - 1) as usize),
        Boundary::Circular => {
            while i < 0 {
                i += n;
            }
            while i >= n {
                i -= n;
            }
            Some(i as usize)
        }
        Boundary::Reflect if n == 1 => Some(0),
        Boundary::Reflect => loop {
            if i < 0 {
                i = -i;
            } else if i >= n {
                i = 2 * (n - 1) - i;
            } else {
                break Some(i as usize);
            }
        },
        Boundary::Symmetric => loop {
            if i < 0 {
                i = -1 - i;
            } else if i >= n {
                i = 2 * n - 1 - i;
            } else {
                break Some(i as usize);
            }
        },
    }
}

/// One axis of a convolution, resolved independently of `crate::problem::geometry` (docs/semantics.md
/// section 2).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ax {
    pub(super) n: usize,
    pub(super) k: usize,
    pub(super) s: usize,
    pub(super) d: usize,
    pub(super) lo: usize,
    pub(super) eff: usize,
    pub(super) out: usize,
}

pub(super) fn axes_of(case: &ConvCase) -> Result<Vec<Ax>, Violation> {
    let rank = case.rank();
    let (xs, ws) = (case.input.0.shape(), case.weight.0.shape());
    if ws.len() != rank + 2 {
        return Err(Violation::hypothesis(format!(
            "weight rank {} for input rank {}",
            ws.len(),
            xs.len()
        )));
    }
    let stride = per_axis(&case.spec.stride, rank, 1)?;
    let dilation = per_axis(&case.spec.dilation, rank, 1)?;
    (0..rank)
        .map(|a| {
            let (n, k, s, d) = (xs[2 + a], ws[2 + a], stride[a], dilation[a]);
            if n == 0 || k == 0 || s == 0 || d == 0 {
                return Err(Violation::hypothesis(format!(
                    "axis {a}: n={n} k={k} s={s} d={d} must all be >= 1"
                )));
            }
            let eff = d * (k - 1) + 1;
            let (lo, hi) = match &case.spec.padding {
                Padding::Explicit(p) => *p
                    .get(a)
                    .ok_or_else(|| Violation::hypothesis("missing explicit pad"))?,
                Padding::Valid => (0, 0),
                Padding::Full => (eff - 1, eff - 1),
                Padding::SameUpper | Padding::SameLower => {
                    let total = ((n.div_ceil(s) - 1) * s + eff).saturating_sub(n);
                    if case.spec.padding == Padding::SameUpper {
                        (total / 2, total - total / 2)
                    } else {
                        (total - total / 2, total / 2)
                    }
                }
                Padding::TorchSame => (d * (k - 1) / 2, d * (k - 1) - d * (k - 1) / 2),
            };
            if n + lo + hi < eff {
                return Err(Violation::hypothesis(format!(
                    "axis {a}: kernel extent {eff} > padded input"
                )));
            }
            let out = (n + lo + hi - eff) / s + 1;
            Ok(Ax {
                n,
                k,
                s,
                d,
                lo,
                eff,
                out,
            })
        })
        .collect()
}

pub(super) fn check_output_shape(
    y: &ArrayD<i64>,
    case: &ConvCase,
    axes: &[Ax],
) -> Result<(), Violation> {
    let mut expected = vec![case.input.0.shape()[0], case.weight.0.shape()[0]];
    expected.extend(axes.iter().map(|a| a.out));
    if y.shape() == expected.as_slice() {
        Ok(())
    } else {
        Err(shape_mismatch(format!(
            "output shape {:?}, but docs/semantics.md section 2 gives {expected:?}",
            y.shape()
        )))
    }
}

pub(super) fn inner(a: &ArrayD<i64>, b: &ArrayD<i64>) -> i64 {
    a.iter()
        .zip(b.iter())
        .fold(0i64, |acc, (x, y)| acc.plus(&x.times(y)))
}

/// Canonical NCHW data presented in `layout` (an owned, standard-layout copy).
pub(super) fn input_in(x: &ArrayD<i64>, layout: InputLayout) -> ArrayD<i64> {
    match layout {
        InputLayout::ChannelsFirst => x.clone(),
        InputLayout::ChannelsLast => {
            let nd = x.ndim();
            let mut p = vec![0];
            p.extend(2..nd);
            p.push(1);
            x.view()
                .permuted_axes(IxDyn(&p))
                .as_standard_layout()
                .into_owned()
        }
    }
}

/// Canonical OIHW weight presented in `layout` (an owned, standard-layout copy).
pub(super) fn weight_in(w: &ArrayD<i64>, layout: KernelLayout) -> ArrayD<i64> {
    let nd = w.ndim();
    let p: Vec<usize> = match layout {
        KernelLayout::Oihw => (0..nd).collect(),
        KernelLayout::Hwio => (2..nd).chain([1, 0]).collect(),
        KernelLayout::Ohwi => [0].into_iter().chain(2..nd).chain([1]).collect(),
    };
    w.view()
        .permuted_axes(IxDyn(&p))
        .as_standard_layout()
        .into_owned()
}
