//! The batteries `conv-oracle verify` runs: the signal properties and the no-panic property
//! ([`signal`]), the layer properties ([`layer`]), the FFT bound ([`fft`]), the correctly
//! rounded engine ([`exact`]) and the summation orders ([`summation`]), each with engines
//! planted to be wrong that the battery must refute.

pub mod exact;
pub mod fft;
pub mod layer;
pub mod signal;
pub mod summation;

use crate::testing::{ON_ROW, Outcome, RowHook};
use signal::run_battery;

/// The number of rows [`run_verify`] returns (a test checks it), for progress displays.
pub const VERIFY_ROWS: usize = 142;

/// [`run_verify`], calling `on_row` with every row as soon as it is done (on this thread, in
/// the order of the report). The observer is removed afterwards, also if a row panics.
pub fn run_verify_observed(
    cases: u32,
    seed: u64,
    on_row: impl FnMut(&Outcome) + 'static,
) -> Vec<Outcome> {
    struct Restore(RowHook);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ON_ROW.with(|hook| *hook.borrow_mut() = previous);
        }
    }
    let _restore = Restore(ON_ROW.with(|hook| hook.borrow_mut().replace(Box::new(on_row))));
    run_verify(cases, seed)
}

/// Everything `conv-oracle verify` runs: [`run_battery`] (signal properties and no-panic),
/// the layer battery ([`layer::run_layer_battery`]: equivariance, locality,
/// 1x1 = dense, dense engine = reference, adjointness, groups, layouts) and the FFT battery
/// ([`fft::run_fft_battery`]: FFT within its normwise bound of the exact
/// result on f64 and `Complex<f64>`, three distributions; wrong FFT engines refuted).
pub fn run_verify(cases: u32, seed: u64) -> Vec<Outcome> {
    let mut out = run_battery(cases, seed);
    out.extend(layer::run_layer_battery(cases, seed));
    out.extend(fft::run_fft_battery(cases, seed));
    out.extend(exact::run_exact_battery(cases, seed));
    out.extend(summation::run_summation_battery(cases, seed));
    out
}
