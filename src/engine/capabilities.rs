//! What an engine declares it supports: the padding rules, boundary modes, flips, ranks and
//! options it takes, and whether it validates its input and propagates special values. The
//! conformance battery ([`crate::conformance`]) draws only problems inside a declaration.

use crate::problem::boundary::{PadLimit, Peer};
use crate::problem::geometry::{per_axis, resolve_pads};
use crate::problem::{
    Boundary, ConvSpec, Flip, Padding, Problem, TransposePadding, TransposeProblem, TransposeSpec,
};
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

    /// The mode with `constant` for [`BoundaryRule::Constant`].
    pub fn boundary<T>(self, constant: T) -> Boundary<T> {
        match self {
            BoundaryRule::Zeros => Boundary::Zeros,
            BoundaryRule::Constant => Boundary::Constant(constant),
            BoundaryRule::Reflect => Boundary::Reflect,
            BoundaryRule::Symmetric => Boundary::Symmetric,
            BoundaryRule::Replicate => Boundary::Replicate,
            BoundaryRule::Circular => Boundary::Circular,
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

/// How an engine takes a per-axis setting: stride, dilation, or (transposed) output padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AxisSetting {
    /// Only the neutral value on every axis: 1 for stride and dilation, 0 for output padding.
    Unit,
    /// One value for every axis (candle's and convolutions-rs's `stride: usize`).
    Shared,
    /// A value per axis (PyTorch's and ONNX's tuples).
    PerAxis,
}

impl Pads {
    /// Explicit `pads` this setting cannot take, in words, or `None`.
    fn outside(self, pads: &[(usize, usize)], rank: usize) -> Option<String> {
        if self != Pads::Asymmetric && pads.iter().any(|(lo, hi)| lo != hi) {
            return Some(format!("asymmetric pads {pads:?} in rank {rank}"));
        }
        if self == Pads::Shared && pads.windows(2).any(|w| w[0] != w[1]) {
            return Some(format!("pads differing by axis {pads:?} in rank {rank}"));
        }
        None
    }
}

/// The on/off options of a problem against a rank's capabilities, each `(used, supported)`:
/// groups (the count), a bias, the batch (its size).
struct Options {
    groups: (usize, bool),
    bias: (bool, bool),
    batch: (usize, bool),
}

impl Options {
    /// The first option used but not supported, in words, or `None`.
    fn outside(&self, rank: usize) -> Option<String> {
        if self.groups.0 > 1 && !self.groups.1 {
            return Some(format!("{} groups in rank {rank}", self.groups.0));
        }
        if self.bias.0 && !self.bias.1 {
            return Some(format!("a bias in rank {rank}"));
        }
        if self.batch.0 > 1 && !self.batch.1 {
            return Some(format!("a batch of {} in rank {rank}", self.batch.0));
        }
        None
    }
}

impl AxisSetting {
    /// Whether `values` (one per axis, or empty for all 1) fit this setting, for a stride or
    /// a dilation.
    pub fn allows(self, values: &[usize]) -> bool {
        self.allows_around(values, 1)
    }

    /// Whether `values` (one per axis, or empty for all `neutral`) fit this setting, where
    /// `neutral` is the value that leaves the problem unchanged (1 for a stride or dilation,
    /// 0 for an output padding).
    pub fn allows_around(self, values: &[usize], neutral: usize) -> bool {
        match self {
            AxisSetting::Unit => values.iter().all(|&v| v == neutral),
            AxisSetting::Shared => values.windows(2).all(|w| w[0] == w[1]),
            AxisSetting::PerAxis => true,
        }
    }
}

/// Which explicit pads an engine takes ([`Padding::Explicit`] only: the `SAME` rules and
/// `Full` derive their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pads {
    /// One pad for both sides of every axis (candle's `padding: usize`).
    Shared,
    /// The same pad on both sides of each axis (PyTorch's `padding=(p, q)`).
    Symmetric,
    /// Any `(lo, hi)` per axis (ONNX `pads`).
    Asymmetric,
}

/// What an engine does when the (dilated) kernel is larger than the padded input, a problem
/// the reference refuses ([`crate::ConvError::KernelTooLarge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LargeKernel {
    /// It refuses with an error, as the reference does.
    Refuses,
    /// It returns an empty output: length 0 on the axes where the kernel does not fit
    /// (tract's policy).
    EmptyOutput,
}

/// A problem without its data: shapes, bias and settings, as a capability predicate
/// ([`Capabilities::accepts`]) sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemShape {
    /// Input shape `(N, C, spatial...)`.
    pub input: Vec<usize>,
    /// Weight shape `(O, C / groups, kernel...)`.
    pub weight: Vec<usize>,
    /// Whether there is a bias.
    pub bias: bool,
    /// The settings, without the boundary constant.
    pub spec: ConvSpec<()>,
}

impl ProblemShape {
    /// The shape of a problem.
    pub fn of<T: Clone>(p: &Problem<'_, T>) -> Self {
        ProblemShape {
            input: p.input.shape().to_vec(),
            weight: p.weight.shape().to_vec(),
            bias: p.bias.is_some(),
            spec: p.spec.map_constant(|_| ()),
        }
    }

    /// Spatial rank.
    pub fn rank(&self) -> usize {
        self.input.len().saturating_sub(2)
    }

    /// Spatial input extents.
    pub fn spatial(&self) -> &[usize] {
        self.input.get(2..).unwrap_or(&[])
    }

    /// The pads each axis gets, `(lo, hi)`, when the padding rule resolves on these shapes.
    pub fn pads(&self) -> Option<Vec<(usize, usize)>> {
        let rank = self.rank();
        if self.weight.len() != self.input.len() {
            return None;
        }
        let stride = per_axis(&self.spec.stride, "stride", rank, 1).ok()?;
        let dilation = per_axis(&self.spec.dilation, "dilation", rank, 1).ok()?;
        (0..rank)
            .map(|a| {
                let (n, k) = (self.input[a + 2], self.weight[a + 2]);
                if n == 0 || k == 0 || stride[a] == 0 || dilation[a] == 0 {
                    return None;
                }
                resolve_pads(&self.spec.padding, n, k, stride[a], dilation[a], a).ok()
            })
            .collect()
    }
}

/// A predicate over a problem's shape, for what no field of [`Capabilities`] says.
pub type Accepts = fn(&ProblemShape) -> bool;

/// What an engine supports. The battery draws only problems inside it (the invalid-input
/// section excepted: those problems are invalid for every engine).
///
/// The fields hold for every rank, except where [`Capabilities::in_rank`] gives a rank its
/// own ([`Capabilities::per_rank`]). The generators draw inside the fields directly (a shared
/// stride is drawn once, a limited pad is drawn within its limit), so narrow capabilities
/// cost nothing; [`Capabilities::accepts`] can only filter, and the cases it turns away are
/// counted as skipped.
#[derive(Clone, Debug)]
pub struct Capabilities {
    /// Spatial ranks (the battery draws ranks 1 to 3 of these).
    pub ranks: RangeInclusive<usize>,
    /// Padding rules.
    pub paddings: Vec<PaddingRule>,
    /// Which explicit pads: symmetric only, or any.
    pub pads: Pads,
    /// Boundary modes.
    pub boundaries: Vec<BoundaryRule>,
    /// Pad-length limits by boundary mode (a mode not listed takes any length, as numpy).
    /// The limit applies to every pad, explicit or derived (`SAME`, `Full`).
    pub pad_limits: Vec<(BoundaryRule, PadLimit)>,
    /// Cross-correlation (deep-learning "convolution") and/or true convolution.
    pub flips: Vec<Flip>,
    /// Strides: only 1, one shared by every axis, or one per axis.
    pub stride: AxisSetting,
    /// Dilations: only 1, shared, or per axis.
    pub dilation: AxisSetting,
    /// More than one group.
    pub groups: bool,
    /// A bias.
    pub bias: bool,
    /// A batch of more than one sample.
    pub batch: bool,
    /// What the engine does with a kernel larger than the padded input (checked by the
    /// invalid-input section, when the engine validates).
    pub large_kernel: LargeKernel,
    /// Ranks with capabilities of their own (set with [`Capabilities::in_rank`]); their
    /// `ranks`, `validates`, `special_values`, `large_kernel`, `accepts` and `per_rank` are
    /// not read.
    pub per_rank: Vec<(usize, Capabilities)>,
    /// What no field says: a problem is inside only if this holds too (`None`: every
    /// problem the fields allow).
    pub accepts: Option<Accepts>,
    /// Whether the engine refuses what it must: invalid problems with an error (checked by
    /// the invalid-input section), and valid problems outside these capabilities with
    /// [`crate::ConvError::Unsupported`] or a correct output (checked on the catalogue's
    /// problems outside them). An engine that does not claim it is given neither.
    pub validates: bool,
    /// Whether NaN and infinities in the data give what IEEE arithmetic on the formula's
    /// terms gives (NaN for `0 * inf` at a zero-padded position, for instance); without it
    /// the battery draws finite data only.
    pub special_values: bool,
}

impl Capabilities {
    /// Everything the reference does: ranks 1 to 3, every padding rule (any pads), boundary
    /// (any pad length) and flip, per-axis stride and dilation, groups, bias, batches,
    /// validation and special values. The default of
    /// [`ConvEngine::capabilities`](super::ConvEngine::capabilities).
    pub fn all() -> Self {
        Capabilities {
            ranks: 1..=3,
            paddings: PaddingRule::ALL.to_vec(),
            pads: Pads::Asymmetric,
            boundaries: BoundaryRule::ALL.to_vec(),
            pad_limits: Vec::new(),
            flips: vec![Flip::Correlation, Flip::Convolution],
            stride: AxisSetting::PerAxis,
            dilation: AxisSetting::PerAxis,
            groups: true,
            bias: true,
            batch: true,
            large_kernel: LargeKernel::Refuses,
            per_rank: Vec::new(),
            accepts: None,
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

    /// These capabilities with the boundary modes and pad-length limits of `peer`
    /// ([`Peer::pad_limit`]): modes the peer lacks are dropped, and the others take its
    /// limits (PyTorch: reflect pads `< n`, circular `<= n`).
    #[must_use]
    pub fn with_pad_limits_of(mut self, peer: Peer) -> Self {
        let limit = |b: BoundaryRule| peer.pad_limit(&b.boundary(()));
        self.boundaries.retain(|&b| limit(b).is_some());
        self.pad_limits = BoundaryRule::ALL
            .into_iter()
            .filter_map(|b| Some((b, limit(b)?)))
            .filter(|&(_, l)| l != PadLimit::Unbounded)
            .collect();
        self
    }

    /// The pad limit of boundary mode `b` ([`Capabilities::pad_limits`]).
    pub fn pad_limit(&self, b: BoundaryRule) -> PadLimit {
        self.pad_limits
            .iter()
            .find(|(rule, _)| *rule == b)
            .map_or(PadLimit::Unbounded, |&(_, l)| l)
    }

    /// Whether a problem of this shape is inside; `None` when it is, otherwise the first
    /// capability it needs and these lack, in words.
    pub fn outside(&self, p: &ProblemShape) -> Option<String> {
        let rank = p.rank();
        if !self.ranks.contains(&rank) {
            return Some(format!("rank {rank}"));
        }
        let c = self.for_rank(rank);
        let spec = &p.spec;
        let boundary = BoundaryRule::of(&spec.boundary);
        let rule = PaddingRule::of(&spec.padding);
        if !c.paddings.contains(&rule) {
            return Some(format!("{rule:?} padding in rank {rank}"));
        }
        if !c.boundaries.contains(&boundary) {
            return Some(format!("the {boundary:?} boundary in rank {rank}"));
        }
        if !c.flips.contains(&spec.flip) {
            return Some(format!("{:?} in rank {rank}", spec.flip));
        }
        for (what, setting, values) in [
            ("stride", c.stride, &spec.stride),
            ("dilation", c.dilation, &spec.dilation),
        ] {
            if !setting.allows(values) {
                return Some(format!(
                    "{what} {values:?} in rank {rank} ({setting:?} only)"
                ));
            }
        }
        if let Padding::Explicit(pads) = &spec.padding
            && let Some(why) = c.pads.outside(pads, rank)
        {
            return Some(why);
        }
        let options = Options {
            groups: (spec.groups, c.groups),
            bias: (p.bias, c.bias),
            batch: (p.input.first().copied().unwrap_or(1), c.batch),
        };
        if let Some(why) = options.outside(rank) {
            return Some(why);
        }
        let limit = c.pad_limit(boundary);
        if let Some(pads) = p.pads() {
            for (axis, ((lo, hi), &n)) in pads.iter().zip(p.spatial()).enumerate() {
                if !(limit.allows(*lo, n) && limit.allows(*hi, n)) {
                    return Some(format!(
                        "pads ({lo}, {hi}) on axis {axis} of length {n} with the {boundary:?} boundary ({limit:?})"
                    ));
                }
            }
        }
        if let Some(accepts) = self.accepts
            && !accepts(p)
        {
            return Some("a problem the capability predicate turns away".to_string());
        }
        None
    }

    /// Whether a problem of this shape is inside ([`Capabilities::outside`]).
    pub fn admits(&self, p: &ProblemShape) -> bool {
        self.outside(p).is_none()
    }

    /// The ranks the battery draws: those of [`Capabilities::ranks`] from 1 to 3 whose
    /// capabilities leave something to draw.
    pub(crate) fn drawn_ranks(&self) -> Vec<usize> {
        let lo = (*self.ranks.start()).max(1);
        let hi = (*self.ranks.end()).min(3);
        (lo..=hi)
            .filter(|&r| {
                let c = self.for_rank(r);
                !(c.paddings.is_empty() || c.boundaries.is_empty() || c.flips.is_empty())
            })
            .collect()
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

/// A transposed problem without its data: shapes, bias and settings, as
/// [`TransposeCapabilities::outside`] sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransposeProblemShape {
    /// Input shape `(N, C_in, spatial...)`.
    pub input: Vec<usize>,
    /// Weight shape `(C_in, C_out / groups, kernel...)`.
    pub weight: Vec<usize>,
    /// Whether there is a bias.
    pub bias: bool,
    /// The settings.
    pub spec: TransposeSpec,
}

impl TransposeProblemShape {
    /// The shape of a transposed problem.
    pub fn of<T: Clone>(p: &TransposeProblem<'_, T>) -> Self {
        TransposeProblemShape {
            input: p.input.shape().to_vec(),
            weight: p.weight.shape().to_vec(),
            bias: p.bias.is_some(),
            spec: p.spec.clone(),
        }
    }

    /// Spatial rank.
    pub fn rank(&self) -> usize {
        self.input.len().saturating_sub(2)
    }

    /// Spatial input extents.
    pub fn spatial(&self) -> &[usize] {
        self.input.get(2..).unwrap_or(&[])
    }
}

/// A predicate over a transposed problem's shape, for what no field of
/// [`TransposeCapabilities`] says.
pub type TransposeAccepts = fn(&TransposeProblemShape) -> bool;

/// What a transposed engine supports, in the model of [`Capabilities`]: the battery draws only
/// problems inside it.
///
/// The fields hold for every rank, except where [`TransposeCapabilities::in_rank`] gives a
/// rank its own. The generators draw inside the fields (a shared stride, dilation, output
/// padding or pad is drawn once; output padding stays below `max(stride, dilation)` on each
/// axis, PyTorch's rule; explicit pads leave at least one output element);
/// [`TransposeCapabilities::accepts`] can only filter, and the cases it turns away are counted
/// as skipped.
///
/// Output padding takes an [`AxisSetting`] like stride and dilation, [`AxisSetting::Unit`]
/// meaning none (0 on every axis): PyTorch's `output_padding` is per axis, but candle's
/// `conv_transpose2d` takes one `usize` for both axes, which only [`AxisSetting::Shared`]
/// describes.
#[derive(Clone, Debug)]
pub struct TransposeCapabilities {
    /// Spatial ranks (the battery draws ranks 1 to 3 of these).
    pub ranks: RangeInclusive<usize>,
    /// Padding rules.
    pub paddings: Vec<TransposePaddingRule>,
    /// Which explicit pads ([`TransposePadding::Explicit`] only: `SAME_*` and `output_shape`
    /// derive their own): one for every side of every axis (candle's `padding: usize`), the
    /// same on both sides of each axis (PyTorch's `padding=(p, q)`), or any (ONNX `pads`).
    pub pads: Pads,
    /// Strides: only 1, one shared by every axis, or one per axis.
    pub stride: AxisSetting,
    /// Dilations: only 1, shared, or per axis.
    pub dilation: AxisSetting,
    /// Output paddings: only 0, shared, or per axis.
    pub output_padding: AxisSetting,
    /// More than one group.
    pub groups: bool,
    /// A bias.
    pub bias: bool,
    /// A batch of more than one sample.
    pub batch: bool,
    /// Ranks with capabilities of their own (set with [`TransposeCapabilities::in_rank`]);
    /// their `ranks`, `validates`, `special_values`, `accepts` and `per_rank` are not read.
    pub per_rank: Vec<(usize, TransposeCapabilities)>,
    /// What no field says: a problem is inside only if this holds too (`None`: every
    /// problem the fields allow).
    pub accepts: Option<TransposeAccepts>,
    /// Whether the engine refuses what it must: invalid problems with an error (checked by
    /// the invalid-input section), and valid problems outside these capabilities with
    /// [`crate::ConvError::Unsupported`] or a correct output (checked on the catalogue's
    /// problems outside them). An engine that does not claim it is given neither.
    pub validates: bool,
    /// Whether NaN and infinities give what IEEE arithmetic on the literal terms gives.
    pub special_values: bool,
}

impl TransposeCapabilities {
    /// Everything the reference does: ranks 1 to 3, every padding rule (any pads), per-axis
    /// stride, dilation and output padding, groups, bias, batches, validation and special
    /// values. The default of
    /// [`ConvTransposeEngine::capabilities`](super::ConvTransposeEngine::capabilities).
    pub fn all() -> Self {
        TransposeCapabilities {
            ranks: 1..=3,
            paddings: TransposePaddingRule::ALL.to_vec(),
            pads: Pads::Asymmetric,
            stride: AxisSetting::PerAxis,
            dilation: AxisSetting::PerAxis,
            output_padding: AxisSetting::PerAxis,
            groups: true,
            bias: true,
            batch: true,
            per_rank: Vec::new(),
            accepts: None,
            validates: true,
            special_values: true,
        }
    }

    /// Whether a transposed problem of this shape is inside; `None` when it is, otherwise the
    /// first capability it needs and these lack, in words.
    pub fn outside(&self, p: &TransposeProblemShape) -> Option<String> {
        let rank = p.rank();
        if !self.ranks.contains(&rank) {
            return Some(format!("rank {rank}"));
        }
        let c = self.for_rank(rank);
        let spec = &p.spec;
        let rule = TransposePaddingRule::of(&spec.padding);
        if !c.paddings.contains(&rule) {
            return Some(format!("{rule:?} padding in rank {rank}"));
        }
        for (what, setting, values, neutral) in [
            ("stride", c.stride, &spec.stride, 1),
            ("dilation", c.dilation, &spec.dilation, 1),
            ("output padding", c.output_padding, &spec.output_padding, 0),
        ] {
            if !setting.allows_around(values, neutral) {
                return Some(format!(
                    "{what} {values:?} in rank {rank} ({setting:?} only)"
                ));
            }
        }
        if let TransposePadding::Explicit(pads) = &spec.padding
            && let Some(why) = c.pads.outside(pads, rank)
        {
            return Some(why);
        }
        let options = Options {
            groups: (spec.groups, c.groups),
            bias: (p.bias, c.bias),
            batch: (p.input.first().copied().unwrap_or(1), c.batch),
        };
        if let Some(why) = options.outside(rank) {
            return Some(why);
        }
        if let Some(accepts) = self.accepts
            && !accepts(p)
        {
            return Some("a problem the capability predicate turns away".to_string());
        }
        None
    }

    /// Whether a transposed problem of this shape is inside
    /// ([`TransposeCapabilities::outside`]).
    pub fn admits(&self, p: &TransposeProblemShape) -> bool {
        self.outside(p).is_none()
    }

    /// The ranks the battery draws: those of [`TransposeCapabilities::ranks`] from 1 to 3
    /// with a padding rule to draw.
    pub(crate) fn drawn_ranks(&self) -> Vec<usize> {
        let lo = (*self.ranks.start()).max(1);
        let hi = (*self.ranks.end()).min(3);
        (lo..=hi)
            .filter(|&r| !self.for_rank(r).paddings.is_empty())
            .collect()
    }
}

/// `in_rank`, `for_rank` and `narrowed` for a capabilities type with `per_rank: Vec<(usize,
/// Self)>`: the same per-rank rules for direct and transposed capabilities.
macro_rules! per_rank_methods {
    ($t:ident, $example:literal) => {
        impl $t {
            #[doc = concat!(
                "These capabilities with rank `rank` given its own: `f` receives the current ",
                "capabilities of that rank and returns the new ones (", $example, ")."
            )]
            #[must_use]
            pub fn in_rank(mut self, rank: usize, f: impl FnOnce($t) -> $t) -> Self {
                let current = self.for_rank(rank);
                let own = $t {
                    per_rank: Vec::new(),
                    ..f(current)
                };
                self.per_rank.retain(|(r, _)| *r != rank);
                self.per_rank.push((rank, own));
                self
            }

            /// The capabilities that hold in rank `rank` (its own, or these).
            pub fn for_rank(&self, rank: usize) -> $t {
                match self.per_rank.iter().find(|(r, _)| *r == rank) {
                    Some((_, own)) => own.clone(),
                    None => $t {
                        per_rank: Vec::new(),
                        ..self.clone()
                    },
                }
            }

            /// These capabilities with `f` applied to them and to every rank's own.
            #[must_use]
            pub fn narrowed(mut self, f: impl Fn(&mut $t)) -> Self {
                f(&mut self);
                for (_, own) in &mut self.per_rank {
                    f(own);
                }
                self
            }
        }
    };
}

per_rank_methods!(
    Capabilities,
    "`caps.in_rank(3, |c| Capabilities { pads: Pads::Symmetric, ..c })`"
);
per_rank_methods!(TransposeCapabilities, "as [`Capabilities::in_rank`]");
