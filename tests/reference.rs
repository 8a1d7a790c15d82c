//! Checks the reference itself (RustFFT style: its naive DFT is checked against hand cases and
//! an even simpler definition).
//!
//! - [`hand`]: small cases worked out by hand, the arithmetic in the comments.
//! - [`definition`]: an independent, simpler definition that shares no indexing code with `src/`:
//!   numpy.pad's own iterative algorithm, then strided, dilated windows cut by ndarray slicing.
//! - [`props`]: `conv` against that definition on random problems (fixed seed), for every
//!   boundary mode and padding rule, over `i64`, `BigRational` and `Complex<f64>`.
//! - [`errors`]: every `ConvError` variant the reference can return, with its fields.
//! - [`mutants`]: deliberately wrong definitions are caught by the same comparison.

#[path = "reference/definition.rs"]
mod definition;
#[path = "reference/errors.rs"]
mod errors;
#[path = "reference/hand.rs"]
mod hand;
#[path = "reference/mutants.rs"]
mod mutants;
#[path = "reference/props.rs"]
mod props;
