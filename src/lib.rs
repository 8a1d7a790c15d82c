#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

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
