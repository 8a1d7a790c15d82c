//! Padding rules resolved to explicit pads, and output extents (docs/semantics.md section 2).
//!
//! All arithmetic is checked: a size that would overflow is a [`ConvError::Overflow`], never
//! a wrapped number. With `eff = d*(k-1) + 1`:
//!
//! | rule | pads `(lo, hi)` | output |
//! |---|---|---|
//! | explicit | as given | `floor((n + lo + hi - eff) / s) + 1` |
//! | valid | `(0, 0)` | `floor((n - eff) / s) + 1` |
//! | full | `(eff - 1, eff - 1)` | `floor((n + eff - 2) / s) + 1`, i.e. `n + k - 1` at s = d = 1 |
//! | SAME_UPPER | `P = max((ceil(n/s) - 1)*s + eff - n, 0)`, `lo = P/2` | `ceil(n/s)` |
//! | SAME_LOWER | same `P`, `hi = P/2` | `ceil(n/s)` |
//! | PyTorch same | `P = d*(k-1)`, `lo = P/2` (stride 1 only) | `n` |

use crate::problem::ConvError;
use crate::problem::{ConvSpec, Padding};
use std::fmt;

/// The resolved geometry of one spatial axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisGeometry {
    /// Input length `n`.
    pub input: usize,
    /// Kernel length `k`.
    pub kernel: usize,
    /// Stride `s`.
    pub stride: usize,
    /// Dilation `d`.
    pub dilation: usize,
    /// Pad before the first element.
    pub pad_lo: usize,
    /// Pad after the last element.
    pub pad_hi: usize,
    /// Output length.
    pub output: usize,
}

impl AxisGeometry {
    /// The dilated kernel extent `d*(k-1) + 1` (cannot overflow once the geometry exists).
    pub fn effective_kernel(&self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }
}

impl fmt::Display for AxisGeometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} k={} s={} d={} pads=({},{}) out={}",
            self.input,
            self.kernel,
            self.stride,
            self.dilation,
            self.pad_lo,
            self.pad_hi,
            self.output
        )
    }
}

/// The resolved geometry of every spatial axis: a plain value tests can print.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// One entry per spatial axis.
    pub axes: Vec<AxisGeometry>,
}

impl Geometry {
    /// Output extents, one per spatial axis.
    pub fn output_shape(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.output).collect()
    }
    /// Explicit pads, one `(lo, hi)` per spatial axis.
    pub fn pads(&self) -> Vec<(usize, usize)> {
        self.axes.iter().map(|a| (a.pad_lo, a.pad_hi)).collect()
    }
}

impl fmt::Display for Geometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.axes.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "axis {i}: {a}")?;
        }
        Ok(())
    }
}

fn overflow(what: &'static str, axis: usize) -> ConvError {
    ConvError::Overflow {
        what,
        axis: Some(axis),
    }
}

/// `d*(k-1) + 1`, checked. `k` must be at least 1.
pub fn effective_kernel(k: usize, d: usize, axis: usize) -> Result<usize, ConvError> {
    k.checked_sub(1)
        .and_then(|km1| km1.checked_mul(d))
        .and_then(|x| x.checked_add(1))
        .ok_or_else(|| overflow("dilated kernel extent", axis))
}

/// Resolves a padding rule on one axis to explicit `(lo, hi)` pads.
///
/// `n` (input), `k` (kernel), `s` (stride) and `d` (dilation) must all be at least 1; `axis`
/// is only used in errors.
pub fn resolve_pads(
    padding: &Padding,
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    axis: usize,
) -> Result<(usize, usize), ConvError> {
    let eff = effective_kernel(k, d, axis)?;
    Ok(match padding {
        Padding::Explicit(pads) => *pads.get(axis).ok_or(ConvError::RankMismatch {
            what: "explicit pads",
            expected: axis + 1,
            got: pads.len(),
        })?,
        Padding::Valid => (0, 0),
        Padding::Full => (eff - 1, eff - 1),
        Padding::SameUpper | Padding::SameLower => {
            let out = n.div_ceil(s);
            // (out - 1) * s + eff - n, clamped at 0; out >= 1 since n >= 1.
            let needed = ((out - 1) as u128) * (s as u128) + eff as u128;
            let total = needed.saturating_sub(n as u128);
            let total = usize::try_from(total).map_err(|_| overflow("SAME padding", axis))?;
            let small = total / 2;
            if *padding == Padding::SameUpper {
                (small, total - small)
            } else {
                (total - small, small)
            }
        }
        Padding::TorchSame => {
            if s != 1 {
                return Err(ConvError::SameNeedsUnitStride { axis, stride: s });
            }
            let total = eff - 1;
            (total / 2, total - total / 2)
        }
    })
}

/// Output length for explicit pads: `floor((n + lo + hi - eff) / s) + 1`, checked.
pub fn output_len(
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    (lo, hi): (usize, usize),
    axis: usize,
) -> Result<usize, ConvError> {
    if s == 0 {
        return Err(ConvError::ZeroStride { axis });
    }
    let eff = effective_kernel(k, d, axis)?;
    let padded = n
        .checked_add(lo)
        .and_then(|x| x.checked_add(hi))
        .ok_or_else(|| overflow("padded input length", axis))?;
    if padded < eff {
        return Err(ConvError::KernelTooLarge {
            axis,
            padded_input: padded,
            kernel_extent: eff,
        });
    }
    Ok((padded - eff) / s + 1)
}

/// One value per spatial axis from a setting that may be empty (meaning `default` everywhere).
pub fn per_axis(
    values: &[usize],
    what: &'static str,
    rank: usize,
    default: usize,
) -> Result<Vec<usize>, ConvError> {
    if values.is_empty() {
        Ok(vec![default; rank])
    } else if values.len() == rank {
        Ok(values.to_vec())
    } else {
        Err(ConvError::RankMismatch {
            what,
            expected: rank,
            got: values.len(),
        })
    }
}

/// The checks every axis of every request passes: stride and dilation at least 1, input and
/// kernel extents at least 1.
pub fn check_axis(n: usize, k: usize, s: usize, d: usize, axis: usize) -> Result<(), ConvError> {
    if s == 0 {
        return Err(ConvError::ZeroStride { axis });
    }
    if d == 0 {
        return Err(ConvError::ZeroDilation { axis });
    }
    if n == 0 {
        return Err(ConvError::EmptyArray {
            what: "input spatial extents",
            axis,
        });
    }
    if k == 0 {
        return Err(ConvError::EmptyArray {
            what: "kernel spatial extents",
            axis,
        });
    }
    Ok(())
}

/// Resolves the whole spatial geometry of a request.
///
/// `input` and `kernel` are the spatial extents (no batch or channel axes). Checks the lengths
/// of the per-axis settings, zero stride or dilation, empty extents, the kernel fitting the
/// padded input, and overflow.
pub fn geometry<T>(
    input: &[usize],
    kernel: &[usize],
    spec: &ConvSpec<T>,
) -> Result<Geometry, ConvError> {
    let rank = input.len();
    if kernel.len() != rank {
        return Err(ConvError::RankMismatch {
            what: "kernel spatial axes",
            expected: rank,
            got: kernel.len(),
        });
    }
    let stride = per_axis(&spec.stride, "stride", rank, 1)?;
    let dilation = per_axis(&spec.dilation, "dilation", rank, 1)?;
    if let Padding::Explicit(p) = &spec.padding
        && p.len() != rank
    {
        return Err(ConvError::RankMismatch {
            what: "explicit pads",
            expected: rank,
            got: p.len(),
        });
    }
    let mut axes = Vec::with_capacity(rank);
    for axis in 0..rank {
        let (n, k, s, d) = (input[axis], kernel[axis], stride[axis], dilation[axis]);
        check_axis(n, k, s, d, axis)?;
        let (pad_lo, pad_hi) = resolve_pads(&spec.padding, n, k, s, d, axis)?;
        let output = output_len(n, k, s, d, (pad_lo, pad_hi), axis)?;
        axes.push(AxisGeometry {
            input: n,
            kernel: k,
            stride: s,
            dilation: d,
            pad_lo,
            pad_hi,
            output,
        });
    }
    Ok(Geometry { axes })
}

/// Product of extents as `u128` (cannot overflow for fewer than 2 usize factors... checked anyway).
pub(crate) fn product(extents: impl IntoIterator<Item = usize>) -> Option<u128> {
    extents
        .into_iter()
        .try_fold(1u128, |acc, x| acc.checked_mul(x as u128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantics_examples() {
        // docs/semantics.md section 2: n=8, pads (1,2), d=2, s=3 gives 3 (k=3: eff=5, (11-5)/3+1 = 3).
        assert_eq!(output_len(8, 3, 3, 2, (1, 2), 0), Ok(3));
        // n=8, k=3, s=2: SAME gives ceil(8/2)=4, P = 3*2+3-8 = 1.
        assert_eq!(resolve_pads(&Padding::SameUpper, 8, 3, 2, 1, 0), Ok((0, 1)));
        assert_eq!(resolve_pads(&Padding::SameLower, 8, 3, 2, 1, 0), Ok((1, 0)));
        // PyTorch same, k=4 d=1: P=3 -> (1,2).
        assert_eq!(resolve_pads(&Padding::TorchSame, 5, 4, 1, 1, 0), Ok((1, 2)));
        assert_eq!(
            resolve_pads(&Padding::TorchSame, 5, 4, 2, 1, 1),
            Err(ConvError::SameNeedsUnitStride { axis: 1, stride: 2 })
        );
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(matches!(
            effective_kernel(usize::MAX, 2, 0),
            Err(ConvError::Overflow { .. })
        ));
        assert!(matches!(
            output_len(usize::MAX, 1, 1, 1, (1, 0), 0),
            Err(ConvError::Overflow { .. })
        ));
    }
}
