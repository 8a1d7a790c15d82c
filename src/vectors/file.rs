//! A parsed vector file: its groups and tests, their specs, the dtype, and the error a file
//! that does not follow the schema gives.

use crate::problem::{ConvSpec, TransposeSpec};

/// A vector file that does not follow the schema: the file, the field (a JSON path such as
/// `testGroups[2].tests[0].input`) and what is wrong, printed on one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct VectorError {
    /// The file's name as given to [`parse`](super::parse).
    pub file: String,
    /// Where in the document (`$` for the whole document).
    pub field: String,
    /// What is wrong, with the expected and the got where there are such.
    pub problem: String,
}

/// The element type of a vector file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE binary32, 8 hex digits per value.
    F32,
    /// IEEE binary64, 16 hex digits per value.
    F64,
}

impl Dtype {
    /// Unit roundoff `u`.
    pub fn unit_roundoff(self) -> f64 {
        match self {
            Dtype::F32 => f64::from(f32::EPSILON) / 2.0,
            Dtype::F64 => f64::EPSILON / 2.0,
        }
    }
    /// The smallest positive subnormal `eta`.
    pub fn subnormal_min(self) -> f64 {
        match self {
            Dtype::F32 => f64::from(f32::from_bits(1)),
            Dtype::F64 => f64::from_bits(1),
        }
    }
    pub(super) fn hex_digits(self) -> usize {
        match self {
            Dtype::F32 => 8,
            Dtype::F64 => 16,
        }
    }
}

/// What a test expects of an implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Within the bound of the output.
    Valid,
    /// As valid, except where the flags allow a difference.
    Acceptable,
    /// The spec must be refused.
    Invalid,
}

/// A group's or an invalid test's spec; boundary constants are bit patterns of the file's
/// dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum VectorSpec {
    /// `op: conv`.
    Conv(ConvSpec<u64>),
    /// `op: conv_transpose`.
    Transpose(TransposeSpec),
}

/// One test of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorTest {
    /// The test's id, unique in its file.
    pub tc_id: u64,
    /// What the test exercises.
    pub comment: String,
    /// `FlushToZero`, `SignOfZero`, `NanPayload`, `InvalidSpec`.
    pub flags: Vec<String>,
    /// What an implementation must do.
    pub result: Expect,
    /// The input's bit patterns, row-major.
    pub input: Vec<u64>,
    /// The weight's bit patterns.
    pub weight: Vec<u64>,
    /// The bias's bit patterns, if any.
    pub bias: Option<Vec<u64>>,
    /// The correctly rounded output's bit patterns (`None` for an invalid test).
    pub output: Option<Vec<u64>>,
    /// Per output element, `sum |w||x| (+|b|)` rounded up (valid and acceptable tests).
    pub bound_scale: Option<Vec<f64>>,
    /// An invalid test's own spec.
    pub spec: Option<VectorSpec>,
    /// An invalid test's input shape.
    pub input_shape: Option<Vec<usize>>,
    /// An invalid test's weight shape.
    pub weight_shape: Option<Vec<usize>>,
}

/// A group of tests sharing a spec and shapes (`ConvTest`), or of invalid tests each with
/// its own (`ConvInvalidTest`).
#[derive(Clone, Debug, PartialEq)]
pub struct VectorGroup {
    /// `true` for `ConvInvalidTest`.
    pub invalid: bool,
    /// `true` for `op: conv_transpose`.
    pub transpose: bool,
    /// What the group exercises.
    pub comment: String,
    /// The shared spec (`ConvTest`).
    pub spec: Option<VectorSpec>,
    /// Input shape (`ConvTest`).
    pub input_shape: Vec<usize>,
    /// Weight shape (`ConvTest`).
    pub weight_shape: Vec<usize>,
    /// Whether the tests carry a bias (`ConvTest`).
    pub bias: bool,
    /// Output shape (`ConvTest`).
    pub output_shape: Vec<usize>,
    /// `K`, the terms of the bound.
    pub terms: usize,
    /// The tests.
    pub tests: Vec<VectorTest>,
}

/// A parsed vector file: every field present, typed and consistent with its shapes
/// ([`parse`](super::parse)).
#[derive(Clone, Debug, PartialEq)]
pub struct VectorFile {
    /// The name errors are reported under.
    pub name: String,
    /// `float32` or `float64`.
    pub dtype: Dtype,
    /// `conv`, `onnx Conv`, ...
    pub algorithm: String,
    /// The groups.
    pub groups: Vec<VectorGroup>,
}

impl VectorFile {
    /// Every test, with its group.
    pub fn tests(&self) -> impl Iterator<Item = (&VectorGroup, &VectorTest)> {
        self.groups
            .iter()
            .flat_map(|g| g.tests.iter().map(move |t| (g, t)))
    }
}
