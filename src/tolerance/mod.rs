//! The one tolerance policy: how far a floating-point result may be from the correctly
//! rounded exact result `y_cr` (the exact output rounded once, to nearest-even, into the
//! element type).
//!
//! Every comparison of a candidate with `y_cr` goes through [`judge_elements`] under one
//! [`Model`] and returns a [`Report`]; [`judge_pair`] judges two candidates of one problem
//! against each other. [`ulp_distance_f64`], [`ulp_distance_f32`] and [`Float::ulp_distance`]
//! count ULPs (`+0` and `-0` are 0 apart, NaN is 0 from NaN, any other non-finite mismatch is
//! `u64::MAX`); [`gamma`] is Higham's `gamma_n = n u / (1 - n u)`; [`componentwise_bound_cr`]
//! evaluates the bound of [`Model::Componentwise`]; [`componentwise_bound`] and
//! [`componentwise`] compare a peer with the crate's float64 reference instead; [`fft`] holds
//! the normwise bound of FFT convolution. Special values are checked before any model's rule,
//! identically for every model (only `Componentwise` and `Tosa` first pass the outputs that
//! may overflow), and the sign of zero is never judged. Below, `K` is the number of terms of an
//! output (taps, plus one with a bias), `A` their `sum |w| |x| (+ |b|)`, and `u` the unit
//! roundoff of the element type. The derivation is in docs/numerics.md section 8 (ULP distance
//! in section 1, the any-order summation bound in section 2, special values in section 5).
//!
//! | model | rule, per element unless said otherwise | docs/numerics.md | use it for |
//! |---|---|---|---|
//! | [`Model::Exact`] | bit-equal to `y_cr` (sign of zero ignored, NaN equals NaN) | 8.7 | the exact engine |
//! | [`Model::Ulp`]`(n)` | at most `n` ULPs from `y_cr` | 8.7 | a claimed ULP accuracy |
//! | [`Model::Componentwise`] | `abs(y_hat - y_cr) <= gamma_K A + u abs(y_cr)` plus an underflow term | 8.2 | any direct summation |
//! | [`Model::Normwise`] | `norm2(y_hat - y_cr) <= bound + u norm2(y_cr)` plus an underflow term, over all elements | 8.5 | FFT results ([`fft`]) |
//! | [`Model::Elementwise`] | `abs(y_hat - y_cr) <= bounds[i] + u abs(y_cr)` plus an underflow term, the caller's bound per element | 8.9 | Winograd results ([`winograd`]), any algorithm with its own componentwise analysis |
//! | [`Model::Tosa`] | TOSA's dot-product rule, with its aggregate bias and variance checks | 8.6 | reproducing TOSA conformance |
//! | [`Model::RtolAtol`] | `abs(y_hat - y_cr) <= atol + rtol abs(y_cr)`, peers' defaults in [`Preset`] | 8.7 | reproducing a peer's own test |

mod bound;
mod float;
mod judge;
mod model;
mod preset;
mod report;

pub mod fft;
pub mod winograd;

pub use bound::{ComponentwiseReport, componentwise, componentwise_bound, componentwise_bound_cr};
pub use float::{Float, U32, U64, gamma, ulp_distance_f32, ulp_distance_f64};
pub use judge::{element_ratios, judge_elements, judge_pair};
pub use model::Model;
pub use preset::{Preset, UnknownPreset};
pub use report::{Aggregate, Failure, Report, Verdict, Worst};
