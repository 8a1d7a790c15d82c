//! Transposed convolution problems (PyTorch / ONNX `ConvTranspose`, channels-first): the
//! request, its padding rules, the validated geometry, and the direct convolution with the
//! same exact output (docs/semantics.md section 6). The literal scatter formula that computes
//! them is [`crate::reference::transpose_literal`].

use super::geometry::{check_axis, effective_kernel, per_axis, product};
use super::layout::need_rank;
use super::spec::Boundary;
use super::{ConvError, ConvSpec, Flip, Limits, Padding, Problem};
use crate::scalar::Ring;
use ndarray::{Array1, ArrayD, ArrayView1, ArrayViewD, Dimension, IxDyn};

/// How a transposed convolution's padding is given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TransposePadding {
    /// `(begin, end)` per spatial axis (PyTorch `padding = p` is `(p, p)`; ONNX `pads`).
    Explicit(Vec<(usize, usize)>),
    /// ONNX `auto_pad = SAME_UPPER`: output `n * s`, `begin = floor(total / 2)`.
    SameUpper,
    /// ONNX `auto_pad = SAME_LOWER`: output `n * s`, `begin = total - floor(total / 2)`.
    SameLower,
    /// ONNX `output_shape` (spatial extents): `total = s*(n-1) + output_padding + eff - shape`,
    /// split by the node's `auto_pad` (see [`AutoPad`]). The total may be negative: extra zero
    /// rows appear.
    OutputShape {
        /// Requested spatial output extents.
        shape: Vec<usize>,
        /// The node's auto_pad, which decides where the padding goes.
        auto_pad: AutoPad,
    },
}

/// ONNX `auto_pad` of a ConvTranspose node with `output_shape`: how the total padding `t` is
/// split into `(begin, end)`.
///
/// | auto_pad | begin | measured on |
/// |---|---|---|
/// | `SameUpper` | `floor(t/2)` | onnx.reference (onnxruntime clamps a negative `t` at 0) |
/// | `SameLower` | `t - floor(t/2)` | onnx.reference |
/// | `NotSet`, `t >= 0` | `t - floor(t/2)` | onnxruntime (onnx.reference puts 0) |
/// | `NotSet`, `t < 0` | `0`: all extra rows at the end | onnxruntime and onnx.reference agree |
///
/// Measured with onnx 1.23.2 and onnxruntime 1.32.0 (`tests/onnx_peers.rs` documents each
/// peer's deviation from these rules and reproduces it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AutoPad {
    /// NOTSET (the default).
    #[default]
    NotSet,
    /// SAME_UPPER.
    SameUpper,
    /// SAME_LOWER.
    SameLower,
}

/// A transposed convolution request (PyTorch / ONNX `ConvTranspose`, channels-first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransposeSpec {
    /// Per spatial axis (empty: all 1).
    pub stride: Vec<usize>,
    /// Per spatial axis (empty: all 1).
    pub dilation: Vec<usize>,
    /// Padding.
    pub padding: TransposePadding,
    /// Extra extent added at the end of each axis (empty: all 0).
    pub output_padding: Vec<usize>,
    /// Channel groups.
    pub groups: usize,
    /// Resource limits.
    pub limits: Limits,
}

impl Default for TransposeSpec {
    fn default() -> Self {
        TransposeSpec {
            stride: Vec::new(),
            dilation: Vec::new(),
            padding: TransposePadding::Explicit(Vec::new()),
            output_padding: Vec::new(),
            groups: 1,
            limits: Limits::default(),
        }
    }
}

/// The resolved geometry of one axis of a transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransposeAxis {
    /// Input length `n`.
    pub input: usize,
    /// Kernel length `k`.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// Pad removed at the start (negative: zero rows added).
    pub pad_begin: i128,
    /// Pad removed at the end (negative: zero rows added).
    pub pad_end: i128,
    /// Output padding.
    pub output_padding: usize,
    /// Output length `s*(n-1) + output_padding + eff - begin - end`.
    pub output: usize,
}

/// Resolves the geometry of a transposed convolution: per spatial axis, pads and output.
pub fn transpose_geometry(
    input: &[usize],
    kernel: &[usize],
    spec: &TransposeSpec,
) -> Result<Vec<TransposeAxis>, ConvError> {
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
    let out_pad = per_axis(&spec.output_padding, "output_padding", rank, 0)?;
    let explicit = match &spec.padding {
        TransposePadding::Explicit(p) if p.is_empty() => vec![(0, 0); rank],
        TransposePadding::Explicit(p) if p.len() != rank => {
            return Err(ConvError::RankMismatch {
                what: "explicit pads",
                expected: rank,
                got: p.len(),
            });
        }
        TransposePadding::Explicit(p) => p.clone(),
        _ => vec![(0, 0); rank],
    };
    if let TransposePadding::OutputShape { shape, .. } = &spec.padding
        && shape.len() != rank
    {
        return Err(ConvError::RankMismatch {
            what: "output_shape",
            expected: rank,
            got: shape.len(),
        });
    }
    let mut axes = Vec::with_capacity(rank);
    for axis in 0..rank {
        let (n, k, s, d, op) = (
            input[axis],
            kernel[axis],
            stride[axis],
            dilation[axis],
            out_pad[axis],
        );
        check_axis(n, k, s, d, axis)?;
        let eff = effective_kernel(k, d, axis)? as i128;
        // Full scatter extent s*(n-1) + eff + output_padding (fits in i128 for usize inputs).
        let full = (s as i128) * (n as i128 - 1) + eff + op as i128;
        let split = |total: i128, upper: bool| {
            let half = total.div_euclid(2);
            if upper {
                (half, total - half)
            } else {
                (total - half, half)
            }
        };
        let (begin, end) = match &spec.padding {
            TransposePadding::Explicit(_) => (explicit[axis].0 as i128, explicit[axis].1 as i128),
            TransposePadding::SameUpper => split(full - (n as i128) * (s as i128), true),
            TransposePadding::SameLower => split(full - (n as i128) * (s as i128), false),
            TransposePadding::OutputShape { shape, auto_pad } => {
                let total = full - shape[axis] as i128;
                match auto_pad {
                    AutoPad::SameUpper => split(total, true),
                    AutoPad::SameLower => split(total, false),
                    AutoPad::NotSet if total >= 0 => split(total, false),
                    AutoPad::NotSet => (0, total),
                }
            }
        };
        let out = full - begin - end;
        if out < 1 {
            return Err(ConvError::OutputTooSmall { axis, output: out });
        }
        let output = usize::try_from(out).map_err(|_| ConvError::Overflow {
            what: "transposed output length",
            axis: Some(axis),
        })?;
        axes.push(TransposeAxis {
            input: n,
            kernel: k,
            stride: s,
            dilation: d,
            pad_begin: begin,
            pad_end: end,
            output_padding: op,
            output,
        });
    }
    Ok(axes)
}

/// A transposed convolution problem (PyTorch / ONNX `ConvTranspose`, channels-first): input
/// `(N, C_in, s...)`, weight `(C_in, C_out/groups, k...)`, optional bias `(C_out)`, and its
/// spec. [`conv_transpose`](crate::reference::conv_transpose) computes it by its literal formula; [`TransposeProblem::as_conv`]
/// gives the direct convolution with the same exact output, which the correctly rounded
/// engines and the error model take ([`crate::oracle::judge_transpose`]).
#[derive(Clone, Debug)]
pub struct TransposeProblem<'a, T> {
    /// `(N, C_in, spatial...)`.
    pub input: ArrayViewD<'a, T>,
    /// `(C_in, C_out/groups, kernel...)`.
    pub weight: ArrayViewD<'a, T>,
    /// One value per output channel.
    pub bias: Option<ArrayView1<'a, T>>,
    /// Stride, dilation, padding, output padding, groups, limits.
    pub spec: TransposeSpec,
}

/// The validated shape of a [`TransposeProblem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransposeGeometry {
    /// Per spatial axis.
    pub axes: Vec<TransposeAxis>,
    /// `(N, C_out, out...)`.
    pub output_shape: Vec<usize>,
    /// Output channels per group.
    pub out_per_group: usize,
    /// Input channels per group.
    pub in_per_group: usize,
}

impl<'a, T: Clone> TransposeProblem<'a, T> {
    /// A problem with the default spec (stride 1, no padding, one group) and no bias.
    pub fn new(input: ArrayViewD<'a, T>, weight: ArrayViewD<'a, T>) -> Self {
        TransposeProblem {
            input,
            weight,
            bias: None,
            spec: TransposeSpec::default(),
        }
    }

    /// With a bias.
    pub fn bias(mut self, bias: ArrayView1<'a, T>) -> Self {
        self.bias = Some(bias);
        self
    }

    /// With a spec.
    pub fn spec(mut self, spec: TransposeSpec) -> Self {
        self.spec = spec;
        self
    }

    /// Every check [`conv_transpose`](crate::reference::conv_transpose) makes, without computing anything: ranks, empty axes,
    /// channels, groups, bias length, per-axis geometry and the resource limits.
    pub fn validate(&self) -> Result<TransposeGeometry, ConvError> {
        let (xs, ws) = (self.input.shape(), self.weight.shape());
        need_rank(&self.input, "input (N, C, spatial...)", 2)?;
        if ws.len() != xs.len() {
            return Err(ConvError::RankMismatch {
                what: "weight (C_in, C_out/groups, kernel...)",
                expected: xs.len(),
                got: ws.len(),
            });
        }
        for (what, shape, first) in [("input", xs, 1), ("weight", ws, 0)] {
            if let Some(axis) = (first..shape.len()).find(|&a| shape[a] == 0) {
                return Err(ConvError::EmptyArray { what, axis });
            }
        }
        let (batch, c_in, cog) = (xs[0], xs[1], ws[1]);
        let groups = self.spec.groups;
        if ws[0] != c_in {
            return Err(ConvError::ChannelMismatch {
                expected: ws[0],
                got: c_in,
            });
        }
        if groups == 0 || c_in % groups != 0 {
            return Err(ConvError::GroupsDoNotDivide {
                what: "input channels",
                groups,
                got: c_in,
            });
        }
        let c_out = cog.checked_mul(groups).ok_or(ConvError::Overflow {
            what: "output channels",
            axis: None,
        })?;
        if let Some(b) = &self.bias
            && b.len() != c_out
        {
            return Err(ConvError::BiasLength {
                expected: c_out,
                got: b.len(),
            });
        }
        let axes = transpose_geometry(&xs[2..], &ws[2..], &self.spec)?;
        let mut output_shape = vec![batch, c_out];
        output_shape.extend(axes.iter().map(|a| a.output));
        let limits = self.spec.limits;
        let elements = product(output_shape.iter().copied()).ok_or(ConvError::Overflow {
            what: "output elements",
            axis: None,
        })?;
        if elements > limits.max_elements {
            return Err(ConvError::LimitExceeded {
                what: "output elements",
                limit: limits.max_elements,
                got: elements,
            });
        }
        let work = product(xs.iter().copied().chain(ws[1..].iter().copied())).ok_or(
            ConvError::Overflow {
                what: "multiply-adds",
                axis: None,
            },
        )?;
        if work > limits.max_work {
            return Err(ConvError::LimitExceeded {
                what: "multiply-adds",
                limit: limits.max_work,
                got: work,
            });
        }
        Ok(TransposeGeometry {
            axes,
            output_shape,
            out_per_group: cog,
            in_per_group: c_in / groups,
        })
    }
}

impl<T: Ring> TransposeProblem<'_, T> {
    /// The direct convolution whose exact output equals this problem's (docs/semantics.md section
    /// 6): the input zero-stuffed by the stride (`s - 1` zeros between samples), the kernel
    /// with input and output channels swapped within each group, true convolution (the
    /// kernel flipped), stride 1, the same dilation and groups, and explicit pads
    /// `d*(k-1) - begin` and `d*(k-1) - end + output_padding` (a negative pad crops the
    /// stuffed input instead). Every term of the transposed formula appears once; the others
    /// multiply a stuffed or padded zero, which adds exactly 0 for finite data.
    ///
    /// With NaN or infinities the two differ (a stuffed zero times an infinite weight is
    /// NaN, which the literal formula never computes); [`crate::oracle::exact_transpose`]
    /// handles those. Resource limits: the equivalent's input is up to `s^rank` times the
    /// input; it is checked against `max_elements`.
    pub fn as_conv(&self) -> Result<ConvEquivalent<T>, ConvError> {
        let geo = self.validate()?;
        let rank = geo.axes.len();
        let xs = self.input.shape();
        let (batch, c_in) = (xs[0], xs[1]);
        let (cig, cog, groups) = (geo.in_per_group, geo.out_per_group, self.spec.groups);
        // Per axis: the stuffed input's extent, the first stuffed position kept, and the pads.
        let mut extents = vec![batch, c_in];
        let mut starts = Vec::with_capacity(rank);
        let mut pads = Vec::with_capacity(rank);
        for (axis, a) in geo.axes.iter().enumerate() {
            let reach = (a.dilation * (a.kernel - 1)) as i128;
            let stuffed = (a.stride as i128) * (a.input as i128 - 1) + 1;
            let lo = reach - a.pad_begin;
            let hi = reach - a.pad_end + a.output_padding as i128;
            let crop_lo = (-lo).max(0);
            let crop_hi = (-hi).max(0);
            let kept = stuffed - crop_lo - crop_hi;
            let out = a.output as i128;
            let eff = reach + 1;
            let (len, start, lo, hi) = if kept >= 1 {
                (kept, crop_lo, lo.max(0), hi.max(0))
            } else {
                // Nothing of the input reaches the output: one zero sample, padded to length.
                (1, -1, 0, out + eff - 2)
            };
            debug_assert_eq!(len + lo + hi - eff + 1, out);
            let to_usize = |v: i128| {
                usize::try_from(v).map_err(|_| ConvError::Overflow {
                    what: "zero-stuffed input",
                    axis: Some(axis),
                })
            };
            extents.push(to_usize(len)?);
            starts.push(start);
            pads.push((to_usize(lo)?, to_usize(hi)?));
        }
        let stuffed = product(extents.iter().copied()).ok_or(ConvError::Overflow {
            what: "zero-stuffed input elements",
            axis: None,
        })?;
        if stuffed > self.spec.limits.max_elements {
            return Err(ConvError::LimitExceeded {
                what: "zero-stuffed input elements",
                limit: self.spec.limits.max_elements,
                got: stuffed,
            });
        }
        let x = &self.input;
        let input = ArrayD::from_shape_fn(IxDyn(&extents), |idx| {
            let mut src = Vec::with_capacity(idx.ndim());
            src.push(idx[0]);
            src.push(idx[1]);
            for (axis, a) in geo.axes.iter().enumerate() {
                if starts[axis] < 0 {
                    return T::zero();
                }
                let pos = idx[2 + axis] as i128 + starts[axis];
                let s = a.stride as i128;
                if pos % s != 0 || pos / s >= a.input as i128 {
                    return T::zero();
                }
                src.push((pos / s) as usize);
            }
            x[IxDyn(&src)].clone()
        });
        let ws = self.weight.shape();
        let mut wshape = vec![cog * groups, cig];
        wshape.extend_from_slice(&ws[2..]);
        let w = &self.weight;
        let weight = ArrayD::from_shape_fn(IxDyn(&wshape), |idx| {
            let (o, ic) = (idx[0], idx[1]);
            let (g, oc) = (o / cog, o % cog);
            let mut src = idx.slice().to_vec();
            src[0] = g * cig + ic;
            src[1] = oc;
            w[IxDyn(&src)].clone()
        });
        let spec = ConvSpec {
            stride: vec![1; rank],
            dilation: geo.axes.iter().map(|a| a.dilation).collect(),
            padding: Padding::Explicit(pads),
            boundary: Boundary::Zeros,
            groups,
            flip: Flip::Convolution,
            limits: Limits {
                max_elements: self.spec.limits.max_elements,
                // The stuffed zeros multiply too: up to s^rank times the transposed work.
                max_work: u128::MAX,
            },
        };
        Ok(ConvEquivalent {
            input,
            weight,
            bias: self.bias.map(|b| b.to_owned()),
            spec,
        })
    }
}

/// A direct convolution with the exact output of a transposed one
/// ([`TransposeProblem::as_conv`]).
#[derive(Clone, Debug)]
pub struct ConvEquivalent<T> {
    /// The zero-stuffed, cropped input `(N, C_in, m...)`.
    pub input: ArrayD<T>,
    /// `(C_out, C_in/groups, k...)`.
    pub weight: ArrayD<T>,
    /// The transposed problem's bias.
    pub bias: Option<Array1<T>>,
    /// True convolution, stride 1, explicit pads.
    pub spec: ConvSpec<T>,
}

impl<T: Clone> ConvEquivalent<T> {
    /// As a [`Problem`] for any engine.
    pub fn problem(&self) -> Problem<'_, T> {
        let mut p = Problem::new(self.input.view(), self.weight.view()).spec(self.spec.clone());
        p.bias = self.bias.as_ref().map(|b| b.view());
        p
    }
}
