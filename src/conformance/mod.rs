//! The conformance battery: checks any convolution implementation against the definition and
//! returns a minimal counterexample when it disagrees.
//!
//! An engine is anything that implements [`ConvEngine`] (object safe: `&dyn ConvEngine<f64>`
//! works), declaring what it supports with [`ConvEngine::capabilities`] (per rank: how it
//! takes stride and dilation, which pads, boundary modes and their pad limits, groups, bias,
//! batches, its policy for a kernel larger than the input, and a predicate for the rest).
//! [`check`] runs four sections, each reporting every distinct failure (up to
//! [`Config::max_failures`]):
//!
//! | section | what | how it can fail |
//! |---|---|---|
//! | [`Section::Catalogue`] | fixed problems: every padding rule, boundary and flip the engine supports on even and odd kernels, with stride, dilation, groups, bias, batch, pads wider than the input, `C == H == W` | the output is outside the tolerance of the correctly rounded result ([`crate::oracle::judge`]), or a valid problem is refused |
//! | [`Section::Oracle`] | random problems inside the capabilities (proptest, seeded; uniform, cancelling and 12-decade data, special values) | as above; the failing problem is shrunk to a minimal one |
//! | [`Section::Invalid`] | problems every engine must refuse (zero stride, channel mismatch, groups that do not divide, ...), when the engine claims to validate | an output instead of an error |
//! | [`Section::Metamorphic`] | relations between two runs of the engine itself: translation equivariance (cropping the input by one stride shifts the output by one), commutativity of true convolution, a 1x1 convolution equals the per-pixel dense layer, samples of a batch are independent | the two runs disagree by more than twice the tolerance ([`crate::tolerance::judge_pair`]) |
//!
//! An engine declines a valid problem it does not implement with
//! [`crate::ConvError::Unsupported`]: declining a declared problem fails; an engine that
//! validates is also offered the catalogue's undeclared problems, which it must decline as
//! unsupported or answer correctly. The report counts problems per feature (the coverage) and
//! panics per site; an oracle section that checked nothing fails ([`crate::testing::Kind::Uncovered`]).
//! Two failures are distinct by kind and by the features each needs (found by taking each
//! feature of the shrunk problem away in turn and running it again).
//!
//! The tolerance is, by default ([`Tolerance::Declared`]), the model of the algorithm the
//! engine declares for each problem ([`ConvEngine::algorithm`],
//! [`crate::engine::Algorithm`]): the componentwise bound of direct summation unless the
//! engine declares an FFT (the normwise bound at its own transform lengths and precision), a
//! Winograd tile (a bound per element from the tile's transforms) or a model of its own; a
//! declaration that cannot compute the problem fails as [`crate::testing::Kind::Misdeclared`].
//! One [`crate::tolerance::Model`] for every problem ([`Tolerance::Model`]) or one derived
//! per problem ([`Tolerance::PerProblem`]) overrides it. A failure carries the problem as a
//! Rust function ready to paste into a test ([`Counterexample::code`]).
//!
//! [`conv_conformance_tests!`](crate::conv_conformance_tests) expands into one `#[test]` per
//! section inside the user's crate, so failures are reported (and stay reproducible) there.
//!
//! Transposed convolution (PyTorch / ONNX `ConvTranspose`) has its own battery over the same
//! sections, [`transpose::check_transpose`], for a [`crate::engine::ConvTransposeEngine`]
//! declaring [`transpose::TransposeCapabilities`] (the same model: per rank, stride, dilation
//! and output padding as unit, shared or per axis, which pads, declining and coverage):
//! judged against the correctly rounded [`crate::oracle::exact_transpose`], with
//! adjointness as its metamorphic relation.
//!
//! Element types: `f32` and `f64` (the correctly rounded oracle,
//! [`crate::engine::exact::ExactEngine`], is the reference).

use crate::engine::ConvEngine;

mod ablate;
mod catalogue;
mod code;
mod config;
mod invalid;
mod metamorphic;
mod oracle;
mod report;
mod search;
mod tally;
pub mod transpose;
mod verdict;

pub use crate::engine::{
    Algorithm, AxisSetting, BoundaryRule, Capabilities, LargeKernel, PadLimit, PaddingRule, Pads,
    Peer, ProblemShape, TransformPrecision, WinogradTile,
};
pub use crate::testing::problems::Element;
pub use config::{Config, Tolerance};
pub use report::{ConformanceReport, Counterexample, Section, SectionReport};

use catalogue::catalogue_section;
use invalid::invalid_section;
use metamorphic::metamorphic_section;
use oracle::oracle_section;
use tally::report_of;

/// Runs every section on `engine` (module docs).
pub fn check<T: Element>(engine: &dyn ConvEngine<T>, config: &Config<T>) -> ConformanceReport {
    check_sections(engine, config, &Section::ALL)
}

/// Runs the given sections on `engine`.
pub fn check_sections<T: Element>(
    engine: &dyn ConvEngine<T>,
    config: &Config<T>,
    sections: &[Section],
) -> ConformanceReport {
    let caps = engine.capabilities();
    report_of::<T>(engine.name(), sections, |s| match s {
        Section::Catalogue => catalogue_section(engine, &caps, config),
        Section::Oracle => oracle_section(engine, &caps, config),
        Section::Invalid => invalid_section(engine, &caps, config.max_failures),
        Section::Metamorphic => metamorphic_section(engine, &caps, config),
    })
}

/// Expands into one `#[test]` per [`Section`] of the conformance battery, inside a module of
/// the given name, for an engine expression and an element type (`f32` or `f64`); an
/// optional [`Config`] expression follows. The engine expression is evaluated inside the
/// module, which imports the caller's scope (`use super::*`).
///
/// ```
/// use conv_oracle::engine::ReferenceEngine;
///
/// conv_oracle::conv_conformance_tests!(reference_f64: f64 => ReferenceEngine);
/// conv_oracle::conv_conformance_tests!(
///     reference_f32_quick: f32 => ReferenceEngine,
///     conv_oracle::conformance::Config { cases: 32, ..Default::default() }
/// );
/// # fn main() {}
/// ```
///
/// A transposed engine ([`crate::engine::ConvTransposeEngine`]) takes the word `transpose`
/// before the engine and runs [`transpose::check_transpose_sections`]:
///
/// ```
/// use conv_oracle::engine::ReferenceEngine;
///
/// conv_oracle::conv_conformance_tests!(
///     reference_transposed: f64 => transpose ReferenceEngine,
///     conv_oracle::conformance::Config { cases: 32, ..Default::default() }
/// );
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conv_conformance_tests {
    ($name:ident : $t:ty => transpose $engine:expr) => {
        $crate::conv_conformance_tests!(
            $name: $t => transpose $engine,
            $crate::conformance::Config::<$t>::default()
        );
    };
    ($name:ident : $t:ty => transpose $engine:expr, $config:expr) => {
        $crate::conv_conformance_tests!(@module $name, $t, $engine, $config, check_transpose_sections);
    };
    ($name:ident : $t:ty => $engine:expr) => {
        $crate::conv_conformance_tests!(
            $name: $t => $engine,
            $crate::conformance::Config::<$t>::default()
        );
    };
    ($name:ident : $t:ty => $engine:expr, $config:expr) => {
        $crate::conv_conformance_tests!(@module $name, $t, $engine, $config, check_sections);
    };
    (@module $name:ident, $t:ty, $engine:expr, $config:expr, $check:ident) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::conformance::transpose::check_transpose_sections;
            #[allow(unused_imports)]
            use $crate::conformance::check_sections;

            #[allow(dead_code)]
            fn run(section: $crate::conformance::Section) {
                let engine = $engine;
                let config: $crate::conformance::Config<$t> = $config;
                $check::<$t>(&engine, &config, &[section]).assert_passed();
            }

            #[test]
            fn catalogue() {
                run($crate::conformance::Section::Catalogue);
            }

            #[test]
            fn oracle() {
                run($crate::conformance::Section::Oracle);
            }

            #[test]
            fn invalid_input() {
                run($crate::conformance::Section::Invalid);
            }

            #[test]
            fn metamorphic() {
                run($crate::conformance::Section::Metamorphic);
            }
        }
    };
}
