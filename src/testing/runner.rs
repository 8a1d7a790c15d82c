//! Running a property: a seeded proptest runner, a search that shrinks a failure to a minimal
//! counterexample, and the battery row ([`Outcome`]) a timed search produces.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::time::{Duration, Instant};

/// The message of a panic payload (`String` or `&str`; empty otherwise).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// One row of a battery report.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Property name.
    pub property: &'static str,
    /// Engine name and element type, e.g. `reference/i64`.
    pub engine: String,
    /// Cases generated.
    pub cases: u32,
    /// Whether the property held (for a refutation property: whether it was refuted).
    pub passed: bool,
    /// The minimal counterexample for a failure; the refuting example for a refutation.
    pub detail: String,
    /// Wall time.
    pub elapsed: Duration,
}

/// The seed every seeded search uses unless told otherwise: `verify`'s default and the test
/// suites' fixed seed (one place, so a run can be reproduced from one number).
pub const DEFAULT_SEED: u64 = 20261127;

/// The configuration of the `proptest!` suites: `cases` cases from [`DEFAULT_SEED`] with the
/// ChaCha generator; failures are persisted to the suite's committed regressions file.
pub fn fixed_config(cases: u32) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: proptest::test_runner::RngSeed::Fixed(DEFAULT_SEED),
        ..Config::default()
    }
}

/// A seeded proptest runner: the same seed gives the same cases.
pub fn runner(cases: u32, seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        // Shrink long enough to print a genuinely small counterexample.
        max_shrink_iters: 1 << 16,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `check` on `cases` generated values; `Ok` when it held, `Err` with the shrunk
/// counterexample otherwise.
pub fn search<S: Strategy>(
    strategy: S,
    cases: u32,
    seed: u64,
    check: impl Fn(&S::Value) -> Result<(), String>,
) -> Result<(), String> {
    let mut r = runner(cases, seed);
    match r.run(&strategy, |v| check(&v).map_err(TestCaseError::fail)) {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, value)) => {
            Err(format!("{reason}\n    minimal case: {value:?}"))
        }
        Err(TestError::Abort(reason)) => Err(format!("aborted: {reason}")),
    }
}

/// Runs `f` and times it as one battery row; `refute` marks a claim the search must refute.
pub fn timed(
    property: &'static str,
    engine: String,
    cases: u32,
    refute: bool,
    f: impl FnOnce() -> Result<(), String>,
) -> Outcome {
    let start = Instant::now();
    let r = f();
    let (passed, detail) = match (refute, r) {
        (false, Ok(())) => (true, String::new()),
        (false, Err(e)) => (false, e),
        (true, Ok(())) => (false, format!("no counterexample found in {cases} cases")),
        (true, Err(e)) => (true, format!("refuted as expected: {e}")),
    };
    let outcome = Outcome {
        property,
        engine,
        cases,
        passed,
        detail,
        elapsed: start.elapsed(),
    };
    ON_ROW.with(|hook| {
        if let Some(f) = hook.borrow_mut().as_mut() {
            f(&outcome);
        }
    });
    outcome
}

/// An observer of finished rows ([`run_verify_observed`]).
pub(crate) type RowHook = Option<Box<dyn FnMut(&Outcome)>>;

thread_local! {
    /// The observer [`run_verify_observed`] installs for this thread's rows.
    pub(crate) static ON_ROW: std::cell::RefCell<RowHook> = const { std::cell::RefCell::new(None) };
}
