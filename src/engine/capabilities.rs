//! What an engine declares it supports: the padding rules, boundary modes, flips, ranks and
//! options it takes, and whether it validates its input and propagates special values. The
//! conformance battery ([`crate::conformance`]) draws only problems inside a declaration.

use crate::problem::{Boundary, ConvSpec, Flip, Padding, TransposePadding, TransposeSpec};
use std::ops::RangeInclusive;

/// A padding rule without its numbers (which [`Padding`] variants an engine takes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaddingRule {
    /// [`Padding::Explicit`].
    Explicit,
    /// [`Padding::Valid`].
    Valid,
    /// [`Padding::Full`].
    Full,
    /// [`Padding::SameUpper`].
    SameUpper,
    /// [`Padding::SameLower`].
    SameLower,
    /// [`Padding::TorchSame`].
    TorchSame,
}

impl PaddingRule {
    /// Every rule.
    pub const ALL: [PaddingRule; 6] = [
        PaddingRule::Explicit,
        PaddingRule::Valid,
        PaddingRule::Full,
        PaddingRule::SameUpper,
        PaddingRule::SameLower,
        PaddingRule::TorchSame,
    ];

    /// The rule of a padding.
    pub fn of(p: &Padding) -> PaddingRule {
        match p {
            Padding::Explicit(_) => PaddingRule::Explicit,
            Padding::Valid => PaddingRule::Valid,
            Padding::Full => PaddingRule::Full,
            Padding::SameUpper => PaddingRule::SameUpper,
            Padding::SameLower => PaddingRule::SameLower,
            Padding::TorchSame => PaddingRule::TorchSame,
        }
    }
}

/// A boundary mode without its constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundaryRule {
    /// [`Boundary::Zeros`].
    Zeros,
    /// [`Boundary::Constant`].
    Constant,
    /// [`Boundary::Reflect`].
    Reflect,
    /// [`Boundary::Symmetric`].
    Symmetric,
    /// [`Boundary::Replicate`].
    Replicate,
    /// [`Boundary::Circular`].
    Circular,
}

impl BoundaryRule {
    /// Every mode, in the order the test generators number them.
    pub const ALL: [BoundaryRule; 6] = [
        BoundaryRule::Zeros,
        BoundaryRule::Constant,
        BoundaryRule::Reflect,
        BoundaryRule::Symmetric,
        BoundaryRule::Replicate,
        BoundaryRule::Circular,
    ];

    /// The mode of a boundary.
    pub fn of<T>(b: &Boundary<T>) -> BoundaryRule {
        match b {
            Boundary::Zeros => BoundaryRule::Zeros,
            Boundary::Constant(_) => BoundaryRule::Constant,
            Boundary::Reflect => BoundaryRule::Reflect,
            Boundary::Symmetric => BoundaryRule::Symmetric,
            Boundary::Replicate => BoundaryRule::Replicate,
            Boundary::Circular => BoundaryRule::Circular,
        }
    }

    /// The index the test generators number this mode with.
    pub(crate) fn index(self) -> u8 {
        BoundaryRule::ALL
            .iter()
            .position(|&b| b == self)
            .unwrap_or(0) as u8
    }
}

/// What an engine supports. The battery draws only problems inside it (the invalid-input
/// section excepted: those problems are invalid for every engine).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Spatial ranks (the battery draws ranks 1 to 3 of these).
    pub ranks: RangeInclusive<usize>,
    /// Padding rules.
    pub paddings: Vec<PaddingRule>,
    /// Boundary modes.
    pub boundaries: Vec<BoundaryRule>,
    /// Cross-correlation (deep-learning "convolution") and/or true convolution.
    pub flips: Vec<Flip>,
    /// Strides other than 1.
    pub stride: bool,
    /// Dilations other than 1.
    pub dilation: bool,
    /// More than one group.
    pub groups: bool,
    /// A bias.
    pub bias: bool,
    /// Whether the engine refuses invalid problems with an error (checked by
    /// the conformance battery's invalid-input section); an engine that does not claim it is never given one.
    pub validates: bool,
    /// Whether NaN and infinities in the data give what IEEE arithmetic on the formula's
    /// terms gives (NaN for `0 * inf` at a zero-padded position, for instance); without it
    /// the battery draws finite data only.
    pub special_values: bool,
}

impl Capabilities {
    /// Everything the reference does: ranks 1 to 3, every padding rule, boundary and flip,
    /// stride, dilation, groups, bias, validation and special values. The default of
    /// [`ConvEngine::capabilities`](super::ConvEngine::capabilities).
    pub fn all() -> Self {
        Capabilities {
            ranks: 1..=3,
            paddings: PaddingRule::ALL.to_vec(),
            boundaries: BoundaryRule::ALL.to_vec(),
            flips: vec![Flip::Correlation, Flip::Convolution],
            stride: true,
            dilation: true,
            groups: true,
            bias: true,
            validates: true,
            special_values: true,
        }
    }

    /// A deep-learning layer (PyTorch / ONNX `Conv`): ranks 1 to 3, cross-correlation, zero
    /// padding given explicitly, `valid`, ONNX `SAME_UPPER` / `SAME_LOWER` and PyTorch
    /// `same`; stride, dilation, groups, bias; validation.
    pub fn deep_learning() -> Self {
        Capabilities {
            paddings: vec![
                PaddingRule::Explicit,
                PaddingRule::Valid,
                PaddingRule::SameUpper,
                PaddingRule::SameLower,
                PaddingRule::TorchSame,
            ],
            boundaries: vec![BoundaryRule::Zeros],
            flips: vec![Flip::Correlation],
            ..Capabilities::all()
        }
    }

    /// Whether a problem with this spec, spatial rank, group count and bias is inside.
    pub fn allows<T>(&self, spec: &ConvSpec<T>, rank: usize, bias: bool) -> bool {
        let ones = |v: &[usize]| v.iter().all(|&s| s == 1);
        self.ranks.contains(&rank)
            && self.paddings.contains(&PaddingRule::of(&spec.padding))
            && self.boundaries.contains(&BoundaryRule::of(&spec.boundary))
            && self.flips.contains(&spec.flip)
            && (self.stride || ones(&spec.stride))
            && (self.dilation || ones(&spec.dilation))
            && (self.groups || spec.groups == 1)
            && (self.bias || !bias)
    }

    /// The ranks the battery draws: those of [`Capabilities::ranks`] from 1 to 3.
    pub(crate) fn drawn_ranks(&self) -> Option<(usize, usize)> {
        let lo = (*self.ranks.start()).max(1);
        let hi = (*self.ranks.end()).min(3);
        (lo <= hi).then_some((lo, hi))
    }
}

/// A transposed padding rule without its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransposePaddingRule {
    /// [`TransposePadding::Explicit`].
    Explicit,
    /// [`TransposePadding::SameUpper`].
    SameUpper,
    /// [`TransposePadding::SameLower`].
    SameLower,
    /// [`TransposePadding::OutputShape`].
    OutputShape,
}

impl TransposePaddingRule {
    /// Every rule.
    pub const ALL: [TransposePaddingRule; 4] = [
        TransposePaddingRule::Explicit,
        TransposePaddingRule::SameUpper,
        TransposePaddingRule::SameLower,
        TransposePaddingRule::OutputShape,
    ];

    /// The rule of a padding.
    pub fn of(p: &TransposePadding) -> Self {
        match p {
            TransposePadding::Explicit(_) => TransposePaddingRule::Explicit,
            TransposePadding::SameUpper => TransposePaddingRule::SameUpper,
            TransposePadding::SameLower => TransposePaddingRule::SameLower,
            TransposePadding::OutputShape { .. } => TransposePaddingRule::OutputShape,
        }
    }
}

/// What a transposed engine supports; the battery draws only problems inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransposeCapabilities {
    /// Spatial ranks (the battery draws ranks 1 to 3 of these).
    pub ranks: RangeInclusive<usize>,
    /// Padding rules.
    pub paddings: Vec<TransposePaddingRule>,
    /// Strides other than 1.
    pub stride: bool,
    /// Dilations other than 1.
    pub dilation: bool,
    /// More than one group.
    pub groups: bool,
    /// A bias.
    pub bias: bool,
    /// Output padding other than 0.
    pub output_padding: bool,
    /// Whether the engine refuses invalid problems with an error.
    pub validates: bool,
    /// Whether NaN and infinities give what IEEE arithmetic on the literal terms gives.
    pub special_values: bool,
}

impl TransposeCapabilities {
    /// Everything the reference does.
    pub fn all() -> Self {
        TransposeCapabilities {
            ranks: 1..=3,
            paddings: TransposePaddingRule::ALL.to_vec(),
            stride: true,
            dilation: true,
            groups: true,
            bias: true,
            output_padding: true,
            validates: true,
            special_values: true,
        }
    }

    /// Whether a problem with this spec, rank and bias is inside.
    pub fn allows(&self, spec: &TransposeSpec, rank: usize, bias: bool) -> bool {
        let ones = |v: &[usize]| v.iter().all(|&s| s == 1);
        self.ranks.contains(&rank)
            && self
                .paddings
                .contains(&TransposePaddingRule::of(&spec.padding))
            && (self.stride || ones(&spec.stride))
            && (self.dilation || ones(&spec.dilation))
            && (self.groups || spec.groups == 1)
            && (self.output_padding || spec.output_padding.iter().all(|&p| p == 0))
            && (self.bias || !bias)
    }
}
