//! [`ConvSpec`]: what a convolution request asks for, independent of the data.

/// Whether the kernel is reversed: true convolution or cross-correlation.
///
/// docs/semantics.md section 1: numpy/scipy `convolve` flip; PyTorch, ONNX, TF, JAX `conv` do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flip {
    /// Cross-correlation: `y[p] = sum_k w[k] x[p*s + k*d - lo]` (deep-learning "convolution").
    Correlation,
    /// True convolution: the same formula with the kernel reversed along every spatial axis.
    Convolution,
}

/// A padding rule, resolved per axis to explicit `(lo, hi)` pads by [`crate::problem::geometry`](mod@crate::problem::geometry).
///
/// docs/semantics.md section 2 gives the output length each rule produces and the peer it matches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// Explicit `(lo, hi)` per spatial axis (PyTorch int padding, ONNX `pads`, JAX pairs).
    Explicit(Vec<(usize, usize)>),
    /// No padding (all peers' VALID).
    Valid,
    /// `eff - 1` on both sides: the signal-processing full convolution (numpy, scipy).
    Full,
    /// Output `ceil(n/s)`, odd total split with the extra pad at the end (TF/JAX SAME,
    /// ONNX SAME_UPPER).
    SameUpper,
    /// Output `ceil(n/s)`, extra pad at the start (ONNX SAME_LOWER, JAX SAME_LOWER).
    SameLower,
    /// PyTorch `padding='same'`: total `d*(k-1)`, extra on the right; stride 1 only.
    TorchSame,
}

/// How the input is extended beyond its edges (numpy.pad names in brackets).
///
/// Each mode reproduces numpy.pad for any pad length, including pads longer than the input
/// (docs/semantics.md section 4): reflect, symmetric and circular repeat periodically.
#[derive(Clone, Debug, PartialEq)]
pub enum Boundary<T> {
    /// Zeros (`constant` with 0; PyTorch `zeros`).
    Zeros,
    /// A constant value (`constant`; scipy.signal `fill` with `fillvalue`).
    Constant(T),
    /// Mirror without repeating the edge: `d c b | a b c d | c b a` (`reflect`;
    /// scipy.ndimage calls this `mirror`).
    Reflect,
    /// Mirror repeating the edge: `c b a | a b c d | d c b` (`symmetric`; scipy.ndimage
    /// `reflect`, scipy.signal `symm`, TF `SYMMETRIC`).
    Symmetric,
    /// Repeat the edge value: `a a a | a b c d | d d d` (`edge`; PyTorch `replicate`).
    Replicate,
    /// Periodic: `b c d | a b c d | a b c` (`wrap`; PyTorch `circular`).
    Circular,
}

impl<T> Boundary<T> {
    /// The numpy.pad name of this mode.
    pub fn numpy_name(&self) -> &'static str {
        match self {
            Boundary::Zeros | Boundary::Constant(_) => "constant",
            Boundary::Reflect => "reflect",
            Boundary::Symmetric => "symmetric",
            Boundary::Replicate => "edge",
            Boundary::Circular => "wrap",
        }
    }

    /// The value-free kind of this mode (drops the constant).
    pub fn kind(&self) -> Boundary<()> {
        match self {
            Boundary::Zeros => Boundary::Zeros,
            Boundary::Constant(_) => Boundary::Constant(()),
            Boundary::Reflect => Boundary::Reflect,
            Boundary::Symmetric => Boundary::Symmetric,
            Boundary::Replicate => Boundary::Replicate,
            Boundary::Circular => Boundary::Circular,
        }
    }
}

/// Resource limits checked before anything is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of elements any array the call allocates may have.
    pub max_elements: u128,
    /// Largest number of multiply-adds a direct sum may perform (the reference, the direct
    /// engine, and the transform engines when they fall back to the reference; transforms
    /// are bounded by `max_elements` instead).
    pub max_work: u128,
}

impl Default for Limits {
    /// 2^28 elements (2 GiB of f64) and 2^36 multiply-adds (minutes of reference time).
    fn default() -> Self {
        Limits {
            max_elements: 1 << 28,
            max_work: 1 << 36,
        }
    }
}

/// Everything about a convolution except the data.
///
/// `stride` and `dilation` hold one entry per spatial axis; an empty vector means 1 on every
/// axis. The default is a stride-1, undilated, unpadded, single-group cross-correlation with
/// zero boundary.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvSpec<T> {
    /// Per-axis stride (empty: all 1).
    pub stride: Vec<usize>,
    /// Per-axis dilation (empty: all 1).
    pub dilation: Vec<usize>,
    /// The padding rule.
    pub padding: Padding,
    /// How padded positions are filled.
    pub boundary: Boundary<T>,
    /// Channel groups; must divide the input and output channels.
    pub groups: usize,
    /// Convolution or cross-correlation.
    pub flip: Flip,
    /// Resource limits.
    pub limits: Limits,
}

impl<T> Default for ConvSpec<T> {
    fn default() -> Self {
        ConvSpec {
            stride: Vec::new(),
            dilation: Vec::new(),
            padding: Padding::Valid,
            boundary: Boundary::Zeros,
            groups: 1,
            flip: Flip::Correlation,
            limits: Limits::default(),
        }
    }
}

impl<T: Clone> ConvSpec<T> {
    /// The same spec with its boundary constant (the only element it holds) mapped by `f`.
    pub fn map_constant<U>(&self, f: impl Fn(T) -> U) -> ConvSpec<U> {
        ConvSpec {
            stride: self.stride.clone(),
            dilation: self.dilation.clone(),
            padding: self.padding.clone(),
            boundary: match &self.boundary {
                Boundary::Zeros => Boundary::Zeros,
                Boundary::Constant(c) => Boundary::Constant(f(c.clone())),
                Boundary::Reflect => Boundary::Reflect,
                Boundary::Symmetric => Boundary::Symmetric,
                Boundary::Replicate => Boundary::Replicate,
                Boundary::Circular => Boundary::Circular,
            },
            groups: self.groups,
            flip: self.flip,
            limits: self.limits,
        }
    }
}

impl<T> ConvSpec<T> {
    /// The default spec (see the type's docs).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the per-axis stride.
    #[must_use]
    pub fn stride(mut self, stride: impl Into<Vec<usize>>) -> Self {
        self.stride = stride.into();
        self
    }
    /// Sets the per-axis dilation.
    #[must_use]
    pub fn dilation(mut self, dilation: impl Into<Vec<usize>>) -> Self {
        self.dilation = dilation.into();
        self
    }
    /// Sets the padding rule.
    #[must_use]
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
    /// Sets the boundary mode.
    #[must_use]
    pub fn boundary(mut self, boundary: Boundary<T>) -> Self {
        self.boundary = boundary;
        self
    }
    /// Sets the number of groups.
    #[must_use]
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    /// Sets convolution or correlation.
    #[must_use]
    pub fn flip(mut self, flip: Flip) -> Self {
        self.flip = flip;
        self
    }
    /// Sets the resource limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}
