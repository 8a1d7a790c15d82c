//! Deep-learning convolution: PyTorch / ONNX / TF / JAX semantics over batched, channelled
//! tensors, as views onto the one reference.
//!
//! [`conv`] is cross-correlation (as every deep-learning framework computes it) with stride,
//! dilation, groups (depthwise when `groups == C`), bias, any padding rule and the padding modes
//! zeros, reflect, replicate and circular. PyTorch pads first with `F.pad` and then convolves
//! with padding 0 (docs/semantics.md section 4); that is the reference's boundary-extended input, so
//! nothing here is a second implementation: layouts are axis permutations (zero-copy views) in
//! front of [`crate::reference::conv`] and behind it.
//!
//! | layout | input | weight |
//! |---|---|---|
//! | [`InputLayout::ChannelsFirst`] (PyTorch, ONNX, JAX default) | `(N, C, s...)` | |
//! | [`InputLayout::ChannelsLast`] (TF, JAX `NHWC`) | `(N, s..., C)` | |
//! | [`KernelLayout::Oihw`] (PyTorch, ONNX) | | `(O, C/groups, k...)` |
//! | [`KernelLayout::Hwio`] (TF, JAX `HWIO`, the chapter's `[k_h, k_w, C_in, C_out]`) | | `(k..., C/groups, O)` |
//! | [`KernelLayout::Ohwi`] | | `(O, k..., C/groups)` |
//!
//! The output has the input's layout. [`conv_transpose`] is the adjoint (PyTorch
//! `ConvTranspose`, ONNX `ConvTranspose`), written as its own literal scatter formula.

pub use crate::problem::{
    AutoPad, ConvEquivalent, InputLayout, KernelLayout, TransposeAxis, TransposeGeometry,
    TransposePadding, TransposeProblem, TransposeSpec, input_as_nchw, transpose_geometry,
    weight_as_oihw,
};
pub use crate::reference::{conv_transpose, transpose_literal};

use crate::engine::{ConvEngine, ReferenceEngine};
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::nchw_to_nhwc;
use crate::problem::{Boundary, ConvSpec, Flip, Limits, Padding};
use crate::scalar::Ring;
use ndarray::{ArrayD, ArrayView1, ArrayViewD, IxDyn};

/// PyTorch's `padding_mode` (the values PyTorch accepts), plus symmetric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PaddingMode {
    /// Zero padding.
    #[default]
    Zeros,
    /// Mirror without repeating the edge.
    Reflect,
    /// Repeat the edge value.
    Replicate,
    /// Periodic.
    Circular,
    /// Mirror repeating the edge: not a PyTorch mode; TF `SYMMETRIC`, numpy `symmetric`,
    /// scipy.ndimage `reflect`, scipy.signal `symm`.
    Symmetric,
}

impl PaddingMode {
    /// The boundary this mode extends the input with.
    pub fn boundary<T>(self) -> Boundary<T> {
        match self {
            PaddingMode::Zeros => Boundary::Zeros,
            PaddingMode::Reflect => Boundary::Reflect,
            PaddingMode::Replicate => Boundary::Replicate,
            PaddingMode::Circular => Boundary::Circular,
            PaddingMode::Symmetric => Boundary::Symmetric,
        }
    }
}

/// A deep-learning convolution request (everything but the data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    /// Per spatial axis (empty: all 1).
    pub stride: Vec<usize>,
    /// Per spatial axis (empty: all 1).
    pub dilation: Vec<usize>,
    /// Padding rule (explicit asymmetric, valid, SAME_UPPER, SAME_LOWER, PyTorch same, full).
    pub padding: Padding,
    /// How the padded region is filled.
    pub padding_mode: PaddingMode,
    /// Channel groups.
    pub groups: usize,
    /// Input (and output) layout.
    pub input_layout: InputLayout,
    /// Weight layout.
    pub kernel_layout: KernelLayout,
    /// Resource limits.
    pub limits: Limits,
}

impl Default for LayerSpec {
    fn default() -> Self {
        LayerSpec {
            stride: Vec::new(),
            dilation: Vec::new(),
            padding: Padding::Valid,
            padding_mode: PaddingMode::Zeros,
            groups: 1,
            input_layout: InputLayout::ChannelsFirst,
            kernel_layout: KernelLayout::Oihw,
            limits: Limits::default(),
        }
    }
}

impl LayerSpec {
    /// The conv spec of the reference this request maps to.
    pub fn conv_spec<T>(&self) -> ConvSpec<T> {
        ConvSpec {
            stride: self.stride.clone(),
            dilation: self.dilation.clone(),
            padding: self.padding.clone(),
            boundary: self.padding_mode.boundary(),
            groups: self.groups,
            flip: Flip::Correlation,
            limits: self.limits,
        }
    }
}

/// Deep-learning convolution (cross-correlation) with PyTorch/ONNX/TF/JAX semantics.
///
/// Returns the output in the input's layout: `(N, O, out...)` or `(N, out..., O)`.
pub fn conv<T: Ring>(
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayView1<'_, T>>,
    spec: &LayerSpec,
) -> Result<ArrayD<T>, ConvError> {
    conv_using(&ReferenceEngine, input, weight, bias, spec)
}

/// [`conv`] evaluated by any engine (the layouts are permuted around the engine's
/// channels-first call).
pub fn conv_using<T: Ring>(
    engine: &dyn ConvEngine<T>,
    input: ArrayViewD<'_, T>,
    weight: ArrayViewD<'_, T>,
    bias: Option<ArrayView1<'_, T>>,
    spec: &LayerSpec,
) -> Result<ArrayD<T>, ConvError> {
    let x = input_as_nchw(input, spec.input_layout)?;
    let w = weight_as_oihw(weight, spec.kernel_layout)?;
    let mut p = Problem::new(x, w).spec(spec.conv_spec());
    p.bias = bias;
    let y = engine.conv(&p)?;
    Ok(match spec.input_layout {
        InputLayout::ChannelsFirst => y,
        InputLayout::ChannelsLast => {
            let perm = nchw_to_nhwc(y.ndim());
            y.permuted_axes(IxDyn(&perm))
                .as_standard_layout()
                .into_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn onnxruntime_conv_transpose_example() {
        // docs/semantics.md section 6 (onnxruntime 1.32): x=[1,2,3], w=[1,10,100], s=2:
        // scatter y[2i + k] += x[i] w[k]: [1, 10, 100+2, 20, 200+3, 30, 300].
        let x = array![[[1i64, 2, 3]]].into_dyn();
        let w = array![[[1i64, 10, 100]]].into_dyn();
        let run = |padding| {
            let spec = TransposeSpec {
                stride: vec![2],
                padding,
                ..TransposeSpec::default()
            };
            conv_transpose(x.view(), w.view(), None, &spec)
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(TransposePadding::Explicit(vec![])),
            [1, 10, 102, 20, 203, 30, 300]
        );
        // SAME_UPPER drops the last element, SAME_LOWER the first, output_shape=[6] the first.
        assert_eq!(run(TransposePadding::SameUpper), [1, 10, 102, 20, 203, 30]);
        assert_eq!(
            run(TransposePadding::SameLower),
            [10, 102, 20, 203, 30, 300]
        );
        let shape6 = TransposePadding::OutputShape {
            shape: vec![6],
            auto_pad: AutoPad::NotSet,
        };
        assert_eq!(run(shape6), [10, 102, 20, 203, 30, 300]);
        // Negative total padding (output_shape 9, total -2): with NOTSET onnxruntime and
        // onnx.reference put the two extra zero rows at the end; SAME_LOWER splits the total
        // (floor), putting one at each end.
        let shape9 = |auto_pad| TransposePadding::OutputShape {
            shape: vec![9],
            auto_pad,
        };
        assert_eq!(
            run(shape9(AutoPad::NotSet)),
            [1, 10, 102, 20, 203, 30, 300, 0, 0]
        );
        assert_eq!(
            run(shape9(AutoPad::SameLower)),
            [0, 1, 10, 102, 20, 203, 30, 300, 0]
        );
    }

    #[test]
    fn layouts_are_permutations() {
        // NHWC input (1, 2, 2, 1) and HWIO weight (1, 1, 1, 2): two output channels scaling
        // the single input channel by 3 and -1.
        let x = array![[[[1i64], [2]], [[3], [4]]]].into_dyn();
        let w = array![[[[3i64, -1]]]].into_dyn();
        let spec = LayerSpec {
            input_layout: InputLayout::ChannelsLast,
            kernel_layout: KernelLayout::Hwio,
            ..LayerSpec::default()
        };
        let y = conv(x.view(), w.view(), None, &spec).unwrap();
        assert_eq!(y.shape(), &[1, 2, 2, 2]);
        assert_eq!(
            y.iter().copied().collect::<Vec<_>>(),
            [3, -1, 6, -2, 9, -3, 12, -4]
        );
    }
}
