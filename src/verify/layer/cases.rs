//! The generated cases the checks take: a convolution problem with owned data, and the shift,
//! perturbation, 1x1, dense, adjointness or layout setting built on it.

use crate::api::layer::LayerSpec;
use crate::problem::Problem;
use crate::problem::{ConvSpec, InputLayout, KernelLayout, TransposePadding};
use crate::testing::cases::Arr;
use ndarray::ArrayView1;

/// A convolution problem with owned data: input `(N, C, s...)`, weight `(O, C/groups, k...)`.
#[derive(Clone, Debug)]
pub(crate) struct ConvCase {
    /// Input, channels first.
    pub input: Arr<i64>,
    /// Weight, OIHW.
    pub weight: Arr<i64>,
    /// Optional bias, one per output channel.
    pub bias: Option<Vec<i64>>,
    /// The spec.
    pub spec: ConvSpec<i64>,
}

impl ConvCase {
    /// The borrowed [`Problem`].
    pub(crate) fn problem(&self) -> Problem<'_, i64> {
        let mut p = Problem::new(self.input.0.view(), self.weight.0.view()).spec(self.spec.clone());
        p.bias = self.bias.as_deref().map(ArrayView1::from);
        p
    }
    pub(super) fn rank(&self) -> usize {
        self.input.0.ndim().saturating_sub(2)
    }
}

/// A convolution problem and a shift of the input, one entry per spatial axis.
#[derive(Clone, Debug)]
pub(crate) struct ShiftCase {
    /// The problem.
    pub case: ConvCase,
    /// Input shift per spatial axis (positive moves content towards higher indices).
    pub shift: Vec<isize>,
}

/// A convolution problem and a change of one input element.
#[derive(Clone, Debug)]
pub(crate) struct PerturbCase {
    /// The problem.
    pub case: ConvCase,
    /// Full input index `(n, c, spatial...)` of the changed element.
    pub at: Vec<usize>,
    /// Amount added to it.
    pub delta: i64,
}

/// A 1x1 convolution in canonical data plus the layouts to present it in.
#[derive(Clone, Debug)]
pub(crate) struct PointwiseCase {
    /// Input `(N, C, s...)`.
    pub input: Arr<i64>,
    /// Weight `(O, C/groups, 1, ..., 1)`.
    pub weight: Arr<i64>,
    /// Optional bias `(O)`.
    pub bias: Option<Vec<i64>>,
    /// Groups.
    pub groups: usize,
    /// Layout the input and output are presented in.
    pub input_layout: InputLayout,
    /// Layout the weight is presented in.
    pub kernel_layout: KernelLayout,
}

/// A general dense layer between `(C, n...)` and `(O, n...)` and a spatial shift.
#[derive(Clone, Debug)]
pub(crate) struct DenseLayerCase {
    /// `(O * prod(n), C * prod(n))`.
    pub matrix: Arr<i64>,
    /// `(C, n...)`.
    pub input_shape: Vec<usize>,
    /// `(O, n...)`.
    pub output_shape: Vec<usize>,
    /// Shift per spatial axis.
    pub shift: Vec<isize>,
}

/// An adjointness case: `x` in conv's input space, `y` in its output space, and the geometry.
#[derive(Clone, Debug)]
pub(crate) struct AdjointCase {
    /// `(N, C_in, n...)`.
    pub x: Arr<i64>,
    /// `(C_out, C_in/groups, k...)`: conv's OIHW weight, which is also conv_transpose's
    /// `(C_in of the transpose, C_out of the transpose / groups, k...)` weight.
    pub w: Arr<i64>,
    /// `(N, C_out, m...)`.
    pub y: Arr<i64>,
    /// Stride per axis.
    pub stride: Vec<usize>,
    /// Dilation per axis.
    pub dilation: Vec<usize>,
    /// Explicit `(lo, hi)` pads per axis: conv's padding, and what `transpose_padding`
    /// resolves to.
    pub pads: Vec<(usize, usize)>,
    /// conv_transpose's padding: `Explicit(pads)`, or an ONNX rule (`SameUpper`, `SameLower`,
    /// `OutputShape`) whose begin/end split (docs/semantics.md section 6) is `pads`.
    pub transpose_padding: TransposePadding,
    /// `n - ((m-1)*s + eff - lo - hi)` per axis, so conv_transpose returns length `n`.
    pub output_padding: Vec<usize>,
    /// Groups.
    pub groups: usize,
}

/// A layer problem in canonical data (NCHW input, OIHW weight) and a layer spec whose layouts
/// are ignored: every input and kernel layout is checked.
#[derive(Clone, Debug)]
pub(crate) struct LayoutCase {
    /// Input `(N, C, s...)`.
    pub input: Arr<i64>,
    /// Weight `(O, C/groups, k...)`.
    pub weight: Arr<i64>,
    /// Optional bias.
    pub bias: Option<Vec<i64>>,
    /// Stride, dilation, padding, padding mode, groups.
    pub spec: LayerSpec,
}
