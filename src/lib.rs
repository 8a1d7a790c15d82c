#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod boundary;
pub mod compare;
pub mod conformance;
pub mod engine;
pub mod error;
pub mod exact_properties;
pub mod fft_properties;
pub mod geometry;
pub mod layer;
pub mod layer_properties;
pub mod proofs;
pub mod properties;
pub mod reference;
pub mod scalar;
pub mod signal;
pub mod spec;
pub mod strategies;
pub mod summation_properties;
pub mod symbolic;
pub mod vectors;

pub use error::ConvError;
pub use reference::{Problem, conv};
pub use scalar::Ring;
pub use signal::{Boundary2d, Mode, convolve, convolve2d, correlate, correlate2d};
pub use spec::{Boundary, ConvSpec, Flip, Limits, Padding};
