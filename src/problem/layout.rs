//! Layouts: where the channel axis of the input is, and how the weight's axes are ordered
//! (docs/semantics.md section 5). Each is a zero-copy axis permutation onto the reference's
//! channels-first `(N, C, s...)` input and `(O, C/groups, k...)` weight.

use super::ConvError;
use ndarray::{ArrayViewD, IxDyn};

/// Where the channel axis of the input (and output) is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InputLayout {
    /// `(N, C, spatial...)`: NCHW.
    #[default]
    ChannelsFirst,
    /// `(N, spatial..., C)`: NHWC.
    ChannelsLast,
}

/// How the weight's axes are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KernelLayout {
    /// `(O, C/groups, k...)`: OIHW.
    #[default]
    Oihw,
    /// `(k..., C/groups, O)`: HWIO.
    Hwio,
    /// `(O, k..., C/groups)`: OHWI.
    Ohwi,
}

/// Axis permutation taking channels-last `(N, s..., C)` to channels-first `(N, C, s...)`.
pub(crate) fn nhwc_to_nchw(ndim: usize) -> Vec<usize> {
    let mut p = vec![0, ndim - 1];
    p.extend(1..ndim - 1);
    p
}

/// Axis permutation taking channels-first to channels-last.
pub(crate) fn nchw_to_nhwc(ndim: usize) -> Vec<usize> {
    let mut p = vec![0];
    p.extend(2..ndim);
    p.push(1);
    p
}

pub(crate) fn need_rank<T>(
    a: &ArrayViewD<'_, T>,
    what: &'static str,
    min: usize,
) -> Result<(), ConvError> {
    if a.ndim() < min {
        return Err(ConvError::RankMismatch {
            what,
            expected: min,
            got: a.ndim(),
        });
    }
    Ok(())
}

/// A view of `input` in `(N, C, s...)` order.
pub fn input_as_nchw<'a, T>(
    input: ArrayViewD<'a, T>,
    layout: InputLayout,
) -> Result<ArrayViewD<'a, T>, ConvError> {
    need_rank(&input, "input (N, C, spatial...)", 2)?;
    Ok(match layout {
        InputLayout::ChannelsFirst => input,
        InputLayout::ChannelsLast => {
            let p = nhwc_to_nchw(input.ndim());
            input.permuted_axes(IxDyn(&p))
        }
    })
}

/// A view of `weight` in `(O, C/groups, k...)` order.
pub fn weight_as_oihw<'a, T>(
    weight: ArrayViewD<'a, T>,
    layout: KernelLayout,
) -> Result<ArrayViewD<'a, T>, ConvError> {
    need_rank(&weight, "weight", 2)?;
    let nd = weight.ndim();
    Ok(match layout {
        KernelLayout::Oihw => weight,
        KernelLayout::Hwio => {
            // (k..., I, O) -> (O, I, k...)
            let mut p = vec![nd - 1, nd - 2];
            p.extend(0..nd - 2);
            weight.permuted_axes(IxDyn(&p))
        }
        KernelLayout::Ohwi => {
            // (O, k..., I) -> (O, I, k...)
            let mut p = vec![0, nd - 1];
            p.extend(1..nd - 1);
            weight.permuted_axes(IxDyn(&p))
        }
    })
}
