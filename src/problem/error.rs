//! [`ConvError`]: every way a convolution request can be refused.
//!
//! Every check runs before anything is allocated, so an error means no work was done.

use thiserror::Error;

/// Why a convolution (or padding) request was refused.
///
/// Each variant names what was wrong, the spatial axis where that applies (0-based, counting
/// spatial axes only unless the variant says otherwise), what was expected and what was given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConvError {
    /// An array or a per-axis setting has the wrong number of axes or entries.
    #[error("{what}: expected {expected} axes, got {got}")]
    RankMismatch {
        /// Which array or setting.
        what: &'static str,
        /// The number expected.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// The input's channel count does not match the weight's `C/groups * groups`.
    #[error(
        "channel mismatch: weight expects {expected} input channels (C/groups * groups), input has {got}"
    )]
    ChannelMismatch {
        /// Channels the weight implies.
        expected: usize,
        /// Channels the input has.
        got: usize,
    },
    /// `groups` does not divide a channel count (or is zero).
    #[error("groups = {groups} does not divide the {what} ({got})")]
    GroupsDoNotDivide {
        /// `"input channels"` or `"output channels"`.
        what: &'static str,
        /// The groups setting.
        groups: usize,
        /// The channel count it should divide.
        got: usize,
    },
    /// A stride of zero on some axis.
    #[error("stride on axis {axis} is 0; it must be at least 1")]
    ZeroStride {
        /// The spatial axis.
        axis: usize,
    },
    /// A dilation of zero on some axis.
    #[error("dilation on axis {axis} is 0; it must be at least 1")]
    ZeroDilation {
        /// The spatial axis.
        axis: usize,
    },
    /// An array has a zero-length axis. numpy.convolve refuses empty inputs
    /// ("a cannot be empty"); so do we. A batch of zero is the one exception (layer API).
    #[error("{what} is empty along axis {axis} (length 0); expected at least 1")]
    EmptyArray {
        /// Which array.
        what: &'static str,
        /// The axis of the array (counting all axes of that array).
        axis: usize,
    },
    /// The (dilated) kernel does not fit into the padded input.
    #[error(
        "axis {axis}: dilated kernel extent {kernel_extent} is larger than the padded input {padded_input}"
    )]
    KernelTooLarge {
        /// The spatial axis.
        axis: usize,
        /// `n + pad_lo + pad_hi`.
        padded_input: usize,
        /// `dilation * (k - 1) + 1`.
        kernel_extent: usize,
    },
    /// PyTorch's `padding='same'` is only defined for stride 1 (PyTorch rejects it otherwise).
    #[error("axis {axis}: PyTorch padding='same' needs stride 1, got stride {stride}")]
    SameNeedsUnitStride {
        /// The spatial axis.
        axis: usize,
        /// The stride given.
        stride: usize,
    },
    /// A transposed convolution's padding removes the whole output on some axis.
    #[error("axis {axis}: the padding leaves an output of length {output}; expected at least 1")]
    OutputTooSmall {
        /// The spatial axis.
        axis: usize,
        /// The output length the padding implies.
        output: i128,
    },
    /// The bias length differs from the number of output channels.
    #[error("bias has {got} entries, expected one per output channel ({expected})")]
    BiasLength {
        /// Output channels.
        expected: usize,
        /// Bias entries.
        got: usize,
    },
    /// scipy's 'valid' mode needs one input at least as large as the other on every axis.
    #[error(
        "valid mode: neither input is at least as large as the other on every axis (axis {axis}: {in1} vs {in2})"
    )]
    ValidSizes {
        /// An axis where the first input is smaller.
        axis: usize,
        /// First input length there.
        in1: usize,
        /// Second input length there.
        in2: usize,
    },
    /// A size computation overflowed `usize`.
    #[error("size overflow computing {what} (axis {axis:?})")]
    Overflow {
        /// What was being computed.
        what: &'static str,
        /// The spatial axis, if the overflow belongs to one.
        axis: Option<usize>,
    },
    /// A result to judge does not have the problem's output shape. Nothing was compared.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// What was being compared.
        what: &'static str,
        /// The problem's output shape.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },
    /// The engine does not implement something this problem asks for (a rank, a padding
    /// rule, per-axis strides, ...): a valid problem it declines, not an invalid one.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is unsupported, in words (`"asymmetric pads in rank 3"`).
        what: String,
    },
    /// The request exceeds a configured resource limit.
    #[error("{what} would be {got}, over the limit of {limit}")]
    LimitExceeded {
        /// `"output elements"`, `"padded input elements"` or `"multiply-adds"`.
        what: &'static str,
        /// The configured limit.
        limit: u128,
        /// What the request needs.
        got: u128,
    },
}

impl ConvError {
    /// [`ConvError::Unsupported`] with `what` in words: how an engine declines a valid
    /// problem outside what it implements.
    ///
    /// ```
    /// use conv_oracle::ConvError;
    ///
    /// let e = ConvError::unsupported("asymmetric pads in rank 3");
    /// assert_eq!(e.to_string(), "unsupported: asymmetric pads in rank 3");
    /// ```
    pub fn unsupported(what: impl Into<String>) -> Self {
        ConvError::Unsupported { what: what.into() }
    }
}
