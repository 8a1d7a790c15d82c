//! Testing support for any convolution engine: generators of valid problems
//! ([`strategies`] for your own properties, [`cases`] and [`exact_data`] for the batteries) and
//! the runner that turns a property into a battery row with a minimal counterexample.

mod absurd;
pub mod cases;
pub mod exact_data;
pub mod problems;
mod runner;
pub mod strategies;
pub mod transpose_problems;
mod violation;

pub use absurd::{AbsurdCase, absurd_case};
pub use cases::{Arr, Case};
pub use runner::*;
pub use violation::{Expect, Kind, Violation, verdict};

/// The integration tests' shared helpers (seed, runner settings), for the unit tests that
/// drive the batteries.
#[cfg(test)]
#[path = "../../tests/common/mod.rs"]
pub(crate) mod common;
