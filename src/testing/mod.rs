//! Testing support for any convolution engine: generators of valid problems ([`strategies`]
//! for your own properties, [`cases`] for shapes-then-data cases, [`absurd_case`] for no-panic
//! checks), the runner that turns a property into a battery row with a minimal counterexample,
//! and typed violations. The batteries' own data generators stay private.

mod absurd;
pub mod cases;
pub(crate) mod exact_data;
pub(crate) mod problems;
pub(crate) mod quiet;
mod runner;
pub mod strategies;
pub(crate) mod transpose_problems;
mod violation;

pub use absurd::{AbsurdCase, absurd_case};
pub use cases::{Arr, Case};
pub use problems::Element;
pub use quiet::panic_message;
pub use runner::*;
pub use transpose_problems::TransposeCase;
pub use violation::{Expect, Kind, Violation, verdict};

/// The integration tests' shared helpers (seed, runner settings), for the unit tests that
/// drive the batteries.
#[cfg(test)]
#[path = "../../tests/common/mod.rs"]
pub(crate) mod common;
