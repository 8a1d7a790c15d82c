//! Engines: implementations of convolution behind one object-safe trait, [`ConvEngine`].
//!
//! Every engine takes a [`Problem`] (channels-first input, OIHW weight, optional bias and a
//! [`crate::problem::ConvSpec`]) and returns `(N, O, out...)`. The reference is the definition; the
//! others are checked against it.
//!
//! | engine | file | how |
//! |---|---|---|
//! | [`ReferenceEngine`] | `reference.rs` | the literal formula |
//! | [`dense::DenseEngine`] | `engine/dense.rs` | the convolution as a dense (Toeplitz) matrix times the flattened input |
//! | [`fft::FftEngine`] | `engine/fft/` | the convolution theorem: zero-padded N-D FFTs (rustfft, realfft), products summed over channels in the frequency domain, whole or in overlap-add blocks per axis ([`fft::Blocking`]); within the normwise bound of `tolerance::fft` |
//! | [`direct::DirectEngine`] | `engine/direct/` | sums of products in the reference's order, vectorised (AVX2 when the CPU has it); f64 results equal the reference's |
//! | [`exact::ExactEngine`] | `engine/exact/` | correctly rounded: the exact value of every output rounded once to nearest-even (certified error-free sums on the direct engine's rows, an exact long accumulator where the certificate fails), over threads |
//! | [`method::MethodEngine`] | `engine/method.rs` | runs a [`method::Method`]: direct, FFT, overlap-add, or the one the fitted [`method::CostModel`] predicts fastest (`Auto`) |

/// An engine's `Mutation` predicates, one per planted bug: `name => Variant` gives
/// `fn name(self) -> bool`, true only for that variant and constant `false` without the
/// `fault-injection` feature, so the hot paths that ask carry no fault injection.
macro_rules! mutation_predicates {
    ($($name:ident => $variant:ident),* $(,)?) => {
        impl Mutation {
            $(
                #[doc = concat!(
                    "Whether this is `Mutation::", stringify!($variant),
                    "` (never without the `fault-injection` feature)."
                )]
                pub(crate) fn $name(self) -> bool {
                    #[cfg(feature = "fault-injection")]
                    return self == Mutation::$variant;
                    #[cfg(not(feature = "fault-injection"))]
                    return false;
                }
            )*
        }
    };
}
pub(crate) use mutation_predicates;

mod algorithm;
mod capabilities;
mod cost;
pub mod dense;
pub mod direct;
pub mod exact;
pub mod fft;
pub mod method;

pub use crate::problem::boundary::{PadLimit, Peer};
pub use crate::tolerance::fft::TransformPrecision;
pub use crate::tolerance::winograd::WinogradTile;
pub use algorithm::Algorithm;
pub use capabilities::{
    Accepts, AxisSetting, BoundaryRule, Capabilities, LargeKernel, PaddingRule, Pads, ProblemShape,
    TransposeAccepts, TransposeCapabilities, TransposePaddingRule, TransposeProblemShape,
};

use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::TransposeProblem;
use crate::reference;
use crate::reference::transpose_literal;
use crate::scalar::Ring;
use ndarray::ArrayD;

/// A convolution implementation that can be checked against the reference.
///
/// Object safe: `&dyn ConvEngine<f64>` works, so external crates can hand their engine in.
pub trait ConvEngine<T> {
    /// A short name for reports.
    fn name(&self) -> &str;
    /// Computes the problem, or refuses it with a [`ConvError`].
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError>;
    /// What the engine supports, for the conformance battery ([`crate::conformance`]), which
    /// draws only problems inside it. Default: everything the reference does
    /// ([`Capabilities::all`]).
    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }
    /// How the engine computes `p` (called only for problems the engine accepts), so that the
    /// battery holds the output to that algorithm's error model ([`Algorithm::model`]).
    /// Default: [`Algorithm::Direct`], sums of products in any order.
    fn algorithm(&self, p: &Problem<'_, T>) -> Algorithm {
        let _ = p;
        Algorithm::Direct
    }
}

/// The reference ([`crate::reference::conv`]) as an engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReferenceEngine;

impl<T: Ring> ConvEngine<T> for ReferenceEngine {
    fn name(&self) -> &str {
        "reference"
    }
    fn conv(&self, p: &Problem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        reference::conv(p)
    }
}

/// A transposed convolution implementation (PyTorch / ONNX `ConvTranspose`) that can be
/// checked against the reference (the conformance battery).
///
/// Object safe, like [`ConvEngine`].
pub trait ConvTransposeEngine<T> {
    /// A short name for reports.
    fn name(&self) -> &str;
    /// Computes the problem, or refuses it with a [`ConvError`].
    fn conv_transpose(&self, p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError>;
    /// What the engine supports (default: everything, [`TransposeCapabilities::all`]).
    fn capabilities(&self) -> TransposeCapabilities {
        TransposeCapabilities::all()
    }
    /// How the engine computes `p`, stated for its zero-stuffed direct convolution
    /// ([`TransposeProblem::as_conv`], which has the same exact output): the battery
    /// evaluates the algorithm's model there. Default: [`Algorithm::Direct`], which holds the
    /// output to the componentwise bound of the scatter's own sums.
    fn algorithm(&self, p: &TransposeProblem<'_, T>) -> Algorithm {
        let _ = p;
        Algorithm::Direct
    }
}

/// The literal scatter formula ([`crate::reference::conv_transpose`]).
impl<T: Ring> ConvTransposeEngine<T> for ReferenceEngine {
    fn name(&self) -> &str {
        "reference"
    }
    fn conv_transpose(&self, p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        transpose_literal(p)
    }
}

/// Correctly rounded ([`crate::engine::exact::exact_transpose`]).
impl<T: exact::ExactElement + crate::tolerance::Float> ConvTransposeEngine<T>
    for exact::ExactEngine
{
    fn name(&self) -> &str {
        "exact"
    }
    fn conv_transpose(&self, p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        crate::engine::exact::exact_transpose(p)
    }
    /// Correctly rounded: [`crate::tolerance::Model::Exact`].
    fn algorithm(&self, _: &TransposeProblem<'_, T>) -> Algorithm {
        Algorithm::Model(crate::tolerance::Model::Exact)
    }
}

/// Any [`ConvEngine`] run on the zero-stuffed direct convolution with the same exact output
/// ([`TransposeProblem::as_conv`]): how a transposed convolution is often implemented. Finite
/// data only (a stuffed zero times an infinite weight is NaN where the literal formula has no
/// term), so its capabilities leave out special values.
#[derive(Clone, Debug)]
pub struct Stuffed<E> {
    engine: E,
    name: String,
}

impl<E> Stuffed<E> {
    /// Wraps `engine`, named after its type (`stuffed DirectEngine`).
    pub fn new(engine: E) -> Self {
        let full = std::any::type_name::<E>();
        let short = full.split('<').next().unwrap_or(full);
        let short = short.rsplit("::").next().unwrap_or(short);
        Stuffed {
            engine,
            name: format!("stuffed {short}"),
        }
    }
}

impl<T: Ring, E: ConvEngine<T>> ConvTransposeEngine<T> for Stuffed<E> {
    fn name(&self) -> &str {
        &self.name
    }
    fn conv_transpose(&self, p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.engine.conv(&p.as_conv()?.problem())
    }
    /// The wrapped engine's algorithm on the stuffed problem it computes.
    fn algorithm(&self, p: &TransposeProblem<'_, T>) -> Algorithm {
        match p.as_conv() {
            Ok(stuffed) => self.engine.algorithm(&stuffed.problem()),
            Err(_) => Algorithm::Direct,
        }
    }
    fn capabilities(&self) -> TransposeCapabilities {
        TransposeCapabilities {
            special_values: false,
            ..TransposeCapabilities::all()
        }
    }
}
