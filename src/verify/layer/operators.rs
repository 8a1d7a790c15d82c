//! The layer operators under test ([`LayerOps`]): the layer functions as plain function
//! pointers, so a test can swap one for a wrong one.

use crate::api::layer::{self, LayerSpec};
use crate::engine::dense::{DenseForm, dense_form, dense_per_pixel, pointwise_matrix};
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::{KernelLayout, TransposeSpec};
use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD};

/// The signature of [`layer::conv`] on `i64`.
pub(crate) type LayerConvFn = fn(
    ArrayViewD<'_, i64>,
    ArrayViewD<'_, i64>,
    Option<ArrayView1<'_, i64>>,
    &LayerSpec,
) -> Result<ArrayD<i64>, ConvError>;

/// The signature of [`layer::conv_transpose`] on `i64`.
pub(crate) type ConvTransposeFn = fn(
    ArrayViewD<'_, i64>,
    ArrayViewD<'_, i64>,
    Option<ArrayView1<'_, i64>>,
    &TransposeSpec,
) -> Result<ArrayD<i64>, ConvError>;

/// The signature of [`dense_form`] on `i64`.
pub(crate) type DenseFormFn = fn(&Problem<'_, i64>) -> Result<DenseForm<i64>, ConvError>;

/// The signature of [`pointwise_matrix`] on `i64`.
pub(crate) type PointwiseMatrixFn =
    fn(ArrayViewD<'_, i64>, KernelLayout, usize) -> Result<Array2<i64>, ConvError>;

/// The signature of [`dense_per_pixel`] on `i64`.
pub(crate) type DensePerPixelFn = fn(
    ArrayViewD<'_, i64>,
    ArrayView2<'_, i64>,
    Option<ArrayView1<'_, i64>>,
) -> Result<ArrayD<i64>, ConvError>;

/// The layer operators under test, as plain functions, so a test can swap one for a wrong one.
#[derive(Clone, Copy)]
pub(crate) struct LayerOps {
    /// Name printed in reports.
    pub name: &'static str,
    /// Deep-learning convolution with layouts ([`layer::conv`]).
    pub conv: LayerConvFn,
    /// Transposed convolution ([`layer::conv_transpose`]).
    pub conv_transpose: ConvTransposeFn,
    /// The convolution as a matrix ([`dense_form`]).
    pub dense_form: DenseFormFn,
    /// The dense matrix of a 1x1 convolution ([`pointwise_matrix`]).
    pub pointwise_matrix: PointwiseMatrixFn,
    /// A dense layer applied to every pixel ([`dense_per_pixel`]).
    pub dense_per_pixel: DensePerPixelFn,
}

impl LayerOps {
    /// The crate's own operators.
    pub(crate) fn reference() -> Self {
        LayerOps {
            name: "layer",
            conv: layer::conv::<i64>,
            conv_transpose: layer::conv_transpose::<i64>,
            dense_form: dense_form::<i64>,
            pointwise_matrix: pointwise_matrix::<i64>,
            dense_per_pixel: dense_per_pixel::<i64>,
        }
    }
}
