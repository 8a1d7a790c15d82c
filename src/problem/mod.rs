//! What a convolution is, independent of how it is computed: the [`Problem`] (borrowed input,
//! weight and bias plus a [`ConvSpec`]), padding rules resolved to explicit pads and output
//! extents ([`geometry`](mod@geometry)), boundary index maps ([`boundary`]), layouts
//! ([`InputLayout`], [`KernelLayout`]), transposed problems ([`TransposeProblem`]) and the
//! errors every check returns ([`ConvError`]).
//!
//! Nothing here computes a convolution; every other layer of the crate builds on this one.

pub mod boundary;
mod error;
pub mod geometry;
mod layout;
mod spec;
mod transpose;

pub use error::ConvError;
pub(crate) use layout::nchw_to_nhwc;
pub use layout::{InputLayout, KernelLayout, input_as_nchw, weight_as_oihw};
pub use spec::{Boundary, ConvSpec, Flip, Limits, Padding};
pub use transpose::{
    AutoPad, ConvEquivalent, TransposeAxis, TransposeGeometry, TransposePadding, TransposeProblem,
    TransposeSpec, transpose_geometry,
};

use geometry::{Geometry, geometry, product};
use ndarray::{ArrayView1, ArrayViewD};

/// A convolution problem: borrowed data plus the spec.
#[derive(Clone, Debug)]
pub struct Problem<'a, T> {
    /// Input, `(N, C, spatial...)`.
    pub input: ArrayViewD<'a, T>,
    /// Weight, `(O, C/groups, kernel...)`.
    pub weight: ArrayViewD<'a, T>,
    /// Optional bias, `(O)`.
    pub bias: Option<ArrayView1<'a, T>>,
    /// Stride, dilation, padding, boundary, groups, flip, limits.
    pub spec: ConvSpec<T>,
}

impl<'a, T: Clone> Problem<'a, T> {
    /// A problem with the default spec and no bias.
    pub fn new(input: ArrayViewD<'a, T>, weight: ArrayViewD<'a, T>) -> Self {
        Problem {
            input,
            weight,
            bias: None,
            spec: ConvSpec::default(),
        }
    }
    /// Sets the bias.
    #[must_use]
    pub fn bias(mut self, bias: ArrayView1<'a, T>) -> Self {
        self.bias = Some(bias);
        self
    }
    /// Sets the spec.
    #[must_use]
    pub fn spec(mut self, spec: ConvSpec<T>) -> Self {
        self.spec = spec;
        self
    }

    /// Checks shapes, channels, groups, bias and limits, and resolves the geometry.
    ///
    /// This is everything [`conv`](crate::reference::conv) checks before it allocates; other engines call it too.
    pub fn validate(&self) -> Result<Geometry, ConvError> {
        let geo = self.validate_geometry()?;
        let limits = &self.spec.limits;
        let (x, w) = (self.input.shape(), self.weight.shape());
        // Cannot overflow: validate_geometry computed this product.
        let outputs = product([x[0], w[0]].into_iter().chain(geo.output_shape())).ok_or(
            ConvError::Overflow {
                what: "output elements",
                axis: None,
            },
        )?;
        let taps = product(w[1..].iter().copied()).ok_or(ConvError::Overflow {
            what: "taps",
            axis: None,
        })?;
        let work = outputs.checked_mul(taps).ok_or(ConvError::Overflow {
            what: "multiply-adds",
            axis: None,
        })?;
        if work > limits.max_work {
            return Err(ConvError::LimitExceeded {
                what: "multiply-adds",
                limit: limits.max_work,
                got: work,
            });
        }
        Ok(geo)
    }

    /// [`Problem::validate`] without the multiply-add limit (`Limits::max_work`), which
    /// bounds direct summation: the transform engines check their own memory instead, and
    /// apply the full check when they compute the reference.
    pub fn validate_geometry(&self) -> Result<Geometry, ConvError> {
        let (x, w) = (self.input.shape(), self.weight.shape());
        if x.len() < 2 {
            return Err(ConvError::RankMismatch {
                what: "input (N, C, spatial...)",
                expected: 2,
                got: x.len(),
            });
        }
        if w.len() != x.len() {
            return Err(ConvError::RankMismatch {
                what: "weight (O, C/groups, kernel...)",
                expected: x.len(),
                got: w.len(),
            });
        }
        let (c_in, c_out, c_per_group) = (x[1], w[0], w[1]);
        let groups = self.spec.groups;
        // Every axis but the batch must be non-empty (axes counted over the whole array).
        for (what, shape, first) in [("input", x, 1), ("weight", w, 0)] {
            if let Some(axis) = (first..shape.len()).find(|&a| shape[a] == 0) {
                return Err(ConvError::EmptyArray { what, axis });
            }
        }
        if groups == 0 || c_out % groups != 0 {
            return Err(ConvError::GroupsDoNotDivide {
                what: "output channels",
                groups,
                got: c_out,
            });
        }
        if c_in % groups != 0 {
            return Err(ConvError::GroupsDoNotDivide {
                what: "input channels",
                groups,
                got: c_in,
            });
        }
        let expected_c = c_per_group.checked_mul(groups).ok_or(ConvError::Overflow {
            what: "channels",
            axis: None,
        })?;
        if expected_c != c_in {
            return Err(ConvError::ChannelMismatch {
                expected: expected_c,
                got: c_in,
            });
        }
        if let Some(b) = &self.bias
            && b.len() != c_out
        {
            return Err(ConvError::BiasLength {
                expected: c_out,
                got: b.len(),
            });
        }
        let geo = geometry(&x[2..], &w[2..], &self.spec)?;
        let limits = &self.spec.limits;
        let outputs = product([x[0], c_out].into_iter().chain(geo.output_shape())).ok_or(
            ConvError::Overflow {
                what: "output elements",
                axis: None,
            },
        )?;
        if outputs > limits.max_elements {
            return Err(ConvError::LimitExceeded {
                what: "output elements",
                limit: limits.max_elements,
                got: outputs,
            });
        }
        Ok(geo)
    }
}
