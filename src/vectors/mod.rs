//! Language-neutral test vectors (`fixtures/vectors/*.json`), in a layout modelled on
//! Wycheproof's: a schema file, test groups that share a spec and shapes, and tests with a
//! `tcId`, a `comment`, `flags`, a `result` and the data as hex bit patterns.
//!
//! | `result` | meaning |
//! |---|---|
//! | `valid` | the output must be within the componentwise bound of `output` (the correctly rounded result) element by element; NaN matches any NaN, `+0` equals `-0` (flags `NanPayload`, `SignOfZero` say where that happens) |
//! | `acceptable` | as `valid`, except that an implementation that flushes subnormals to zero may differ where they occur (flag `FlushToZero`) |
//! | `invalid` | the spec must be refused; there is no output |
//!
//! Every valid or acceptable test carries, per output element, the bound scale
//! `boundScale = sum |w| |x| (+ |b|)` over the element's finite terms (rounded up, as a JSON
//! number, which is exact for an `f64`), and the group carries `terms` (`K`) and the format's
//! `unitRoundoff` `u` and `subnormalMin` `eta`: the bound is
//! `(gamma_K A + u |y| + (K + 2)(1 + gamma_K) eta)(1 + 2^-48)` with `gamma_K = K u / (1 - K u)`
//! ([`crate::tolerance::componentwise_bound_cr`]).
//!
//! Suites: `core` (every padding rule, boundary and flip of [`crate::problem::ConvSpec`], stride,
//! dilation, groups, bias, ranks 1 to 3, float32 and float64) and `onnx` (ONNX `Conv` with
//! `auto_pad` and `ConvTranspose` with `output_padding`, `output_shape` and `auto_pad`,
//! float32). [`write_suite`] writes them deterministically: the same build writes the same
//! bytes.

mod file;
mod generate;
mod reader;
mod recompute;
mod schema;
mod suites;

pub use file::{Dtype, Expect, VectorError, VectorFile, VectorGroup, VectorSpec, VectorTest};
pub use generate::VectorElement;
pub use reader::parse;
pub use recompute::{CheckReport, Disagreement, check};
pub use schema::SCHEMA_FILE;
pub use suites::{Suite, suite_files, write_suite};
