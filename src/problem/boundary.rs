//! Boundary modes: where a position outside the input reads from (docs/semantics.md section 4).
//!
//! Every mode reproduces `numpy.pad` for any pad length. For pads longer than the input,
//! numpy extends reflect, symmetric and wrap periodically, so each mode is an index map:
//!
//! | mode | period | position `i` (any integer) reads |
//! |---|---|---|
//! | zeros / constant | - | nothing: the constant |
//! | reflect | `2(n-1)` | `m = i mod 2(n-1)`, then `m` if `m < n` else `2(n-1) - m` (n = 1: index 0) |
//! | symmetric | `2n` | `m = i mod 2n`, then `m` if `m < n` else `2n - 1 - m` |
//! | replicate | - | `clamp(i, 0, n-1)` |
//! | circular | `n` | `i mod n` |
//!
//! [`peer_acceptance`] reports which of PyTorch, TensorFlow and onnxruntime would accept the
//! same pad: they refuse long pads that numpy extends.

use crate::problem::ConvError;
use crate::problem::geometry::product;
use crate::problem::{Boundary, Limits};
use crate::scalar::Ring;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// The input index that position `i` reads in an axis of length `n >= 1`, or `None` when the
/// position takes the constant (zeros or constant mode) or `n == 0`.
pub fn source_index<T>(mode: &Boundary<T>, i: i128, n: usize) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let n_i = n as i128;
    if (0..n_i).contains(&i) {
        return Some(i as usize);
    }
    let m = match mode {
        Boundary::Zeros | Boundary::Constant(_) => return None,
        Boundary::Replicate => i.clamp(0, n_i - 1),
        Boundary::Circular => i.rem_euclid(n_i),
        Boundary::Reflect => {
            if n == 1 {
                0
            } else {
                let period = 2 * (n_i - 1);
                let m = i.rem_euclid(period);
                if m < n_i { m } else { period - m }
            }
        }
        Boundary::Symmetric => {
            let period = 2 * n_i;
            let m = i.rem_euclid(period);
            if m < n_i { m } else { period - 1 - m }
        }
    };
    Some(m as usize)
}

/// The value a padded position takes when it reads no input element.
pub fn fill_value<T: Ring>(mode: &Boundary<T>) -> T {
    match mode {
        Boundary::Constant(v) => v.clone(),
        _ => T::zero(),
    }
}

/// Pads `x` by `pads[axis] = (lo, hi)` on every axis with the given mode, like `numpy.pad`.
///
/// Fails with [`ConvError::RankMismatch`] when `pads` does not have one entry per axis,
/// [`ConvError::EmptyArray`] for an empty axis in a mode that reads the input (numpy refuses:
/// "can't extend empty axis"), and [`ConvError::LimitExceeded`] / [`ConvError::Overflow`] when
/// the result would be too large; all checked before allocating.
pub fn pad<T: Ring>(
    x: ArrayViewD<'_, T>,
    pads: &[(usize, usize)],
    mode: &Boundary<T>,
    limits: &Limits,
) -> Result<ArrayD<T>, ConvError> {
    if pads.len() != x.ndim() {
        return Err(ConvError::RankMismatch {
            what: "pads",
            expected: x.ndim(),
            got: pads.len(),
        });
    }
    let mut shape = Vec::with_capacity(x.ndim());
    for (axis, (&n, &(lo, hi))) in x.shape().iter().zip(pads).enumerate() {
        let reads_input = !matches!(mode, Boundary::Zeros | Boundary::Constant(_));
        if n == 0 && reads_input && (lo > 0 || hi > 0) {
            return Err(ConvError::EmptyArray {
                what: "padded array",
                axis,
            });
        }
        let len = n
            .checked_add(lo)
            .and_then(|v| v.checked_add(hi))
            .ok_or(ConvError::Overflow {
                what: "padded length",
                axis: Some(axis),
            })?;
        shape.push(len);
    }
    let total = product(shape.iter().copied()).ok_or(ConvError::Overflow {
        what: "padded element count",
        axis: None,
    })?;
    if total > limits.max_elements {
        return Err(ConvError::LimitExceeded {
            what: "padded elements",
            limit: limits.max_elements,
            got: total,
        });
    }
    let fill = fill_value(mode);
    // Per-axis index tables: padded position -> source index (or None for the constant).
    let tables: Vec<Vec<Option<usize>>> = pads
        .iter()
        .zip(x.shape())
        .zip(&shape)
        .map(|((&(lo, _), &n), &len)| {
            (0..len)
                .map(|j| source_index(mode, j as i128 - lo as i128, n))
                .collect()
        })
        .collect();
    Ok(ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let mut src = Vec::with_capacity(tables.len());
        for (axis, table) in tables.iter().enumerate() {
            match table[idx[axis]] {
                Some(s) => src.push(s),
                None => return fill.clone(),
            }
        }
        x[IxDyn(&src)].clone()
    }))
}

/// A system whose padding limits [`peer_acceptance`] knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    /// PyTorch `F.pad` / `padding_mode`.
    Torch,
    /// TensorFlow `tf.pad`.
    TensorFlow,
    /// onnxruntime's `Pad` operator.
    OnnxRuntime,
}

impl Peer {
    /// All known peers.
    pub const ALL: [Peer; 3] = [Peer::Torch, Peer::TensorFlow, Peer::OnnxRuntime];

    /// Short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Torch => "torch",
            Peer::TensorFlow => "tf",
            Peer::OnnxRuntime => "onnxruntime",
        }
    }
}

/// Whether one peer accepts a pad, and what it says when it does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerVerdict {
    /// The peer.
    pub peer: Peer,
    /// `true` when the peer computes this pad (with numpy's result).
    pub accepted: bool,
    /// Empty when accepted; otherwise the peer's refusal (its own wording where known) and why.
    pub message: String,
}

/// How long a pad a boundary mode takes on an axis of length `n` (each side on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PadLimit {
    /// Any length (numpy's rule: long pads repeat the mode periodically).
    Unbounded,
    /// Each pad `< n` (PyTorch, TensorFlow and onnxruntime reflect).
    BelowInput,
    /// Each pad `<= n` (PyTorch circular, TensorFlow symmetric).
    UpToInput,
}

impl PadLimit {
    /// The longest pad allowed on an axis of length `n`, or `None` when unbounded.
    pub fn max_pad(self, n: usize) -> Option<usize> {
        match self {
            PadLimit::Unbounded => None,
            PadLimit::BelowInput => Some(n.saturating_sub(1)),
            PadLimit::UpToInput => Some(n),
        }
    }

    /// Whether a pad of `pad` on an axis of length `n` is allowed.
    pub fn allows(self, pad: usize, n: usize) -> bool {
        self.max_pad(n).is_none_or(|m| pad <= m)
    }
}

impl Peer {
    /// The pad limit of `mode` in this peer, or `None` when the peer has no such mode.
    ///
    /// Limits (docs/semantics.md section 4): PyTorch reflect needs each pad < n, circular each
    /// pad <= n, replicate and constant have no limit, symmetric does not exist. TF REFLECT
    /// needs pad <= n-1, SYMMETRIC pad <= n, and TF has no replicate or circular mode.
    /// onnxruntime reflect needs pad <= n-1; edge, wrap and constant repeat freely; it has no
    /// symmetric mode.
    pub fn pad_limit<T>(self, mode: &Boundary<T>) -> Option<PadLimit> {
        use PadLimit::{BelowInput, Unbounded, UpToInput};
        match (self, mode) {
            (_, Boundary::Zeros | Boundary::Constant(_)) => Some(Unbounded),
            (Peer::Torch, Boundary::Reflect) => Some(BelowInput),
            (Peer::Torch, Boundary::Circular) => Some(UpToInput),
            (Peer::Torch, Boundary::Replicate) => Some(Unbounded),
            (Peer::Torch, Boundary::Symmetric) => None,
            (Peer::TensorFlow, Boundary::Reflect) => Some(BelowInput),
            (Peer::TensorFlow, Boundary::Symmetric) => Some(UpToInput),
            (Peer::TensorFlow, Boundary::Replicate | Boundary::Circular) => None,
            (Peer::OnnxRuntime, Boundary::Reflect) => Some(BelowInput),
            (Peer::OnnxRuntime, Boundary::Replicate | Boundary::Circular) => Some(Unbounded),
            (Peer::OnnxRuntime, Boundary::Symmetric) => None,
        }
    }
}

/// Would `peer` accept padding an axis of length `n` by `(lo, hi)` in this mode?
///
/// The decision is [`Peer::pad_limit`]'s; the message is the peer's own wording where known.
pub fn peer_acceptance<T>(
    peer: Peer,
    mode: &Boundary<T>,
    n: usize,
    (lo, hi): (usize, usize),
) -> PeerVerdict {
    let refuse = |message: String| PeerVerdict {
        peer,
        accepted: false,
        message,
    };
    match peer.pad_limit(mode) {
        Some(limit) if limit.allows(lo, n) && limit.allows(hi, n) => PeerVerdict {
            peer,
            accepted: true,
            message: String::new(),
        },
        None => refuse(match peer {
            Peer::Torch => {
                "PyTorch has no symmetric padding mode (only constant, reflect, replicate, circular)"
                    .into()
            }
            Peer::TensorFlow => format!(
                "tf.pad has no {} mode (only CONSTANT, REFLECT, SYMMETRIC)",
                mode.numpy_name()
            ),
            Peer::OnnxRuntime => {
                "ONNX Pad has no symmetric mode (only constant, reflect, edge, wrap)".into()
            }
        }),
        Some(_) => refuse(match (peer, mode) {
            (Peer::Torch, Boundary::Circular) => format!(
                "Padding value causes wrapping around more than once. (circular needs each pad <= {n}, got ({lo}, {hi}))"
            ),
            (Peer::Torch, _) => format!(
                "Padding size should be less than the corresponding input dimension, but got: padding ({lo}, {hi}) for input length {n} (reflect needs each pad < {n})"
            ),
            (Peer::TensorFlow, Boundary::Symmetric) => format!(
                "paddings must be no greater than the dimension size: {lo}, {hi} greater than {n}"
            ),
            (Peer::TensorFlow, _) => format!(
                "paddings must be less than the dimension size: {lo}, {hi} not less than {n}"
            ),
            (Peer::OnnxRuntime, _) => {
                let (side, p) = if lo >= n { ("pre", lo) } else { ("post", hi) };
                format!(
                    "{side}-pad ({p}) exceeds maximum allowed ({})",
                    n.saturating_sub(1)
                )
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(mode: Boundary<()>, n: usize, lo: i128, hi: i128) -> String {
        (-lo..n as i128 + hi)
            .map(|i| match source_index(&mode, i, n) {
                Some(s) => (b'a' + s as u8) as char,
                None => '0',
            })
            .collect()
    }

    #[test]
    fn semantics_table() {
        // docs/semantics.md section 4, n = 4, pad 3 and pad 6.
        assert_eq!(letters(Boundary::Reflect, 4, 3, 3), "dcbabcdcba");
        assert_eq!(letters(Boundary::Symmetric, 4, 3, 3), "cbaabcddcb");
        assert_eq!(letters(Boundary::Replicate, 4, 3, 3), "aaaabcdddd");
        assert_eq!(letters(Boundary::Circular, 4, 3, 3), "bcdabcdabc");
        assert_eq!(letters(Boundary::Zeros, 4, 3, 3), "000abcd000");
        assert_eq!(letters(Boundary::Reflect, 4, 6, 6), "abcdcbabcdcbabcd");
        assert_eq!(letters(Boundary::Symmetric, 4, 6, 6), "cddcbaabcddcbaab");
        assert_eq!(letters(Boundary::Circular, 4, 6, 6), "cdabcdabcdabcdab");
        assert_eq!(letters(Boundary::Reflect, 1, 2, 2), "aaaaa");
    }
}
