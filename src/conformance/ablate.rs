//! Which features a failure needs: each feature of a failing problem is taken away in turn
//! (a reflect boundary becomes zeros, a stride becomes 1, the bias goes, the batch keeps one
//! sample, ...) and the problem is run again. A feature whose removal keeps the failure is
//! not what the failure is about; the others tell it from the failures still to be found.

use super::tally::{features, signature};
use crate::engine::ProblemShape;
use crate::problem::{Boundary, Flip, Padding};
use crate::testing::cases::{Arr, Case};
use crate::testing::problems::Element;
use ndarray::{ArrayD, Axis, Slice};

/// The features of `c`'s [`signature`] that the failure needs: those whose removal makes
/// `still_fails` false, or that cannot be removed on their own (the rank).
pub(crate) fn necessary<T: Element>(
    c: &Case<T>,
    still_fails: impl Fn(&Case<T>) -> bool,
) -> Vec<String> {
    signature(&shape(c))
        .into_iter()
        .filter(|f| without(c, f).is_none_or(|d| !still_fails(&d)))
        .collect()
}

/// Every feature of a case ([`features`]).
pub(crate) fn case_features<T: Element>(c: &Case<T>) -> Vec<String> {
    features(&shape(c))
}

fn shape<T: Element>(c: &Case<T>) -> ProblemShape {
    c.with(|p| ProblemShape::of(p))
}

/// `c` without `feature`, otherwise unchanged; `None` when it cannot be taken away alone.
fn without<T: Element>(c: &Case<T>, feature: &str) -> Option<Case<T>> {
    let mut d = c.clone();
    let rank = c.input.0.ndim().checked_sub(2)?;
    let equalised = |v: &[usize]| v.iter().max().map(|&m| vec![m; rank]).unwrap_or_default();
    match feature {
        f if f.starts_with("boundary ") => d.spec.boundary = Boundary::Zeros,
        "flip Convolution" => d.spec.flip = Flip::Correlation,
        "stride > 1" => d.spec.stride = Vec::new(),
        "stride differs by axis" => d.spec.stride = equalised(&c.spec.stride),
        "dilation > 1" => d.spec.dilation = Vec::new(),
        "dilation differs by axis" => d.spec.dilation = equalised(&c.spec.dilation),
        "padded" => d.spec.padding = Padding::Valid,
        // The pads as given or derived, made equal on both sides.
        "asymmetric pads" => {
            let p = shape(c).pads()?;
            d.spec.padding =
                Padding::Explicit(p.iter().map(|&(lo, hi)| (lo.max(hi), lo.max(hi))).collect())
        }
        // The pads as given or derived, cut to below the input's length.
        "pad >= input" => {
            let p = shape(c).pads()?;
            let n = &c.input.0.shape()[2..];
            d.spec.padding = Padding::Explicit(
                p.iter()
                    .zip(n)
                    .map(|(&(lo, hi), &n)| (lo.min(n - 1), hi.min(n - 1)))
                    .collect(),
            )
        }
        // The last spatial axis alone: the other axes' first input row and kernel tap.
        f if f.starts_with("rank ") && rank > 1 => {
            let keep = |a: &ArrayD<T>| {
                let mut v = a.view();
                for _ in 0..rank - 1 {
                    v.index_axis_inplace(Axis(2), 0);
                }
                Arr(v.to_owned())
            };
            d.input = keep(&c.input.0);
            d.weight = keep(&c.weight.0);
            let last = |v: &[usize]| v.last().map(|&x| vec![x]).unwrap_or_default();
            d.spec.stride = last(&c.spec.stride);
            d.spec.dilation = last(&c.spec.dilation);
            if let Padding::Explicit(p) = &c.spec.padding {
                d.spec.padding = Padding::Explicit(p.last().map(|&x| vec![x]).unwrap_or_default());
            }
        }
        // A derived rule: the same pads, given explicitly.
        f if f.starts_with("padding ") => d.spec.padding = Padding::Explicit(shape(c).pads()?),
        "groups > 1" => {
            // The first group on its own.
            let g = c.spec.groups;
            let cg = c.input.0.shape()[1] / g;
            let og = c.weight.0.shape()[0] / g;
            d.input = Arr(c.input.0.slice_axis(Axis(1), Slice::from(..cg)).to_owned());
            d.weight = Arr(c.weight.0.slice_axis(Axis(0), Slice::from(..og)).to_owned());
            d.bias = c.bias.as_ref().map(|b| b[..og].to_vec());
            d.spec.groups = 1;
        }
        "bias" => d.bias = None,
        "batch > 1" => d.input = Arr(c.input.0.slice_axis(Axis(0), Slice::from(..1)).to_owned()),
        _ => return None,
    }
    Some(d)
}
