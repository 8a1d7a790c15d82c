#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// No panic on caller data: library code neither unwraps nor expects (tests may). Indexing is
// reviewed instead of linted: an index into caller data is used only after the problem's
// validation proved it in range, or on arrays the function itself built with that shape.
#![deny(clippy::unwrap_used, clippy::expect_used)]

// The unit tests that drive the private batteries name the crate as its users do.
#[cfg(test)]
extern crate self as conv_oracle;

mod api;
pub mod conformance;
pub mod engine;
pub mod oracle;
pub mod problem;
pub mod proofs;
pub mod reference;
pub mod scalar;
pub mod symbolic;
pub mod testing;
pub mod tolerance;
pub mod vectors;
pub mod verify;

pub use api::{layer, signal};
pub use problem::{Boundary, ConvSpec, Flip, Limits, Padding};
pub use problem::{ConvError, Problem};
pub use reference::conv;
pub use scalar::Ring;
pub use signal::{Boundary2d, Mode, convolve, convolve2d, correlate, correlate2d};
