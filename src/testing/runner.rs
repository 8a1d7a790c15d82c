//! Running a property: a seeded proptest runner, a search that shrinks a failure to a minimal
//! counterexample, and the battery row ([`Outcome`]) a timed search produces.

use super::quiet::quietly;
use super::violation::{Expect, Kind, Violation, verdict};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::time::{Duration, Instant};

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

/// A deterministic slice of every search: of the cases a search generates (in order), this
/// one checks those whose position is `index` modulo `count`. The `count` slices of one seed
/// together check exactly the cases of the whole search. Refutation rows ([`Expect::Refuted`])
/// are never sliced: they stop at their first counterexample and cost little.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice, `0..count`.
    pub index: u32,
    /// The number of slices, at least 1.
    pub count: u32,
}

impl Shard {
    /// The whole search.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Slice `index` of `count`, or `None` unless `index < count`.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (index < count).then_some(Shard { index, count })
    }

    /// Whether the generated case at `position` is this slice's.
    pub fn owns(self, position: u64) -> bool {
        position % u64::from(self.count) == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// An observer of checked cases ([`observe_cases`]).
type CaseHook = Option<Box<dyn FnMut(&str)>>;

thread_local! {
    /// The slice the searches of this thread check ([`with_shard`]).
    static SHARD: std::cell::Cell<Shard> = const { std::cell::Cell::new(Shard::WHOLE) };
    /// Set while a refutation row runs: its search is never sliced.
    static WHOLE_SEARCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// An observer of every case a search checks ([`observe_cases`]).
    static ON_CASE: std::cell::RefCell<CaseHook> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's searches checking only `shard`'s slice of their cases.
pub fn with_shard<R>(shard: Shard, f: impl FnOnce() -> R) -> R {
    let previous = SHARD.with(|s| s.replace(shard));
    let _restore = Restore::new(move || SHARD.with(|s| s.set(previous)));
    f()
}

/// Runs `f` calling `on_case` with the debug form of every case a search on this thread
/// checks (shrinking steps excluded), so a test can see which cases a slice ran.
pub fn observe_cases<R>(on_case: impl FnMut(&str) + 'static, f: impl FnOnce() -> R) -> R {
    let previous = ON_CASE.with(|h| h.borrow_mut().replace(Box::new(on_case)));
    let _restore = Restore::new(move || ON_CASE.with(|h| *h.borrow_mut() = previous));
    f()
}

/// Runs its closure when dropped (also when a row panics).
struct Restore<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Restore<F> {
    fn new(f: F) -> Self {
        Restore(Some(f))
    }
}

impl<F: FnOnce()> Drop for Restore<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Runs `check` on `cases` generated values (this thread's [`Shard`] of them); `Ok` when it
/// held, or the [`Violation`] of the shrunk counterexample, its kind kept through shrinking.
/// A check that panics is a [`Kind::Panicked`] violation; an aborted search (too many
/// rejected cases) is [`Kind::SearchAborted`].
pub fn search<S: Strategy>(
    strategy: S,
    cases: u32,
    seed: u64,
    check: impl Fn(&S::Value) -> Result<(), Violation>,
) -> Result<(), Violation> {
    let shard = if WHOLE_SEARCH.with(|w| w.get()) {
        Shard::WHOLE
    } else {
        SHARD.with(|s| s.get())
    };
    let position = std::cell::Cell::new(0u64);
    let shrinking = std::cell::Cell::new(false);
    let mut r = runner(cases, seed);
    let outcome = r.run(&strategy, |v| {
        if !shrinking.get() {
            let at = position.get();
            position.set(at + 1);
            if !shard.owns(at) {
                return Ok(());
            }
            ON_CASE.with(|h| {
                if let Some(f) = h.borrow_mut().as_mut() {
                    f(&format!("{v:?}"));
                }
            });
        }
        let r = quietly(|| check(&v))
            .unwrap_or_else(|c| Err(Violation::new(Kind::Panicked, c.describe("the check"))));
        if r.is_err() {
            shrinking.set(true);
        }
        r.map_err(|e| TestCaseError::fail(e.encode()))
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, value)) => {
            let v = Violation::decode(reason.message());
            Err(Violation::new(
                v.kind,
                format!("{}\n    minimal case: {value:?}", v.detail),
            ))
        }
        Err(TestError::Abort(reason)) => {
            Err(Violation::new(Kind::SearchAborted, reason.to_string()))
        }
    }
}

/// Runs `f` and times it as one battery row claiming `expect`. A row that must refute passes
/// only on a violation of the kind it names. A panic in `f` (outside a search, which catches
/// its own) is a [`Kind::Panicked`] violation of the row, never a crash of the battery.
pub fn timed(
    property: &'static str,
    engine: String,
    cases: u32,
    expect: Expect,
    f: impl FnOnce() -> Result<(), Violation>,
) -> Outcome {
    let start = Instant::now();
    let refuting = matches!(expect, Expect::Refuted(_));
    let previous = WHOLE_SEARCH.with(|w| w.replace(refuting));
    let r =
        quietly(f).unwrap_or_else(|c| Err(Violation::new(Kind::Panicked, c.describe("the row"))));
    WHOLE_SEARCH.with(|w| w.set(previous));
    let (passed, detail) = verdict(expect, cases, r);
    let outcome = Outcome {
        property,
        engine,
        cases,
        passed,
        detail,
        elapsed: start.elapsed(),
    };
    notify(&outcome);
    outcome
}

/// One row of a battery, run on demand: a property on one engine and element type. A
/// battery is a table of rows, so a test can add a row of its own (one planted to fail, say)
/// and count rows from the table.
pub struct Row {
    /// Property name, as the row reports it.
    pub property: &'static str,
    /// Engine and element type, as the row reports them.
    pub engine: String,
    run: Box<dyn Fn(u32, u64) -> Outcome>,
}

impl Row {
    /// A row named `property` on `engine` that `run` computes from the case count and seed.
    pub fn new(
        property: &'static str,
        engine: impl Into<String>,
        run: impl Fn(u32, u64) -> Outcome + 'static,
    ) -> Row {
        Row {
            property,
            engine: engine.into(),
            run: Box::new(run),
        }
    }

    /// Runs the row. A row that panics outside its searches is a failed row of kind
    /// [`Kind::Panicked`], reported like any other (the battery goes on).
    pub fn run(&self, cases: u32, seed: u64) -> Outcome {
        let start = Instant::now();
        quietly(|| (self.run)(cases, seed)).unwrap_or_else(|c| {
            let outcome = Outcome {
                property: self.property,
                engine: self.engine.clone(),
                cases,
                passed: false,
                detail: Violation::new(Kind::Panicked, c.describe("the row")).to_string(),
                elapsed: start.elapsed(),
            };
            notify(&outcome);
            outcome
        })
    }
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Row({} on {})", self.property, self.engine)
    }
}

/// Runs every row of `rows` in order.
pub fn run_rows(rows: &[Row], cases: u32, seed: u64) -> Vec<Outcome> {
    rows.iter().map(|r| r.run(cases, seed)).collect()
}

/// Runs `f` calling `on_row` with every row of this thread as soon as it is done (the
/// observer is removed afterwards, also when `f` panics).
pub fn observe_rows<R>(on_row: impl FnMut(&Outcome) + 'static, f: impl FnOnce() -> R) -> R {
    let previous = ON_ROW.with(|hook| hook.borrow_mut().replace(Box::new(on_row)));
    let _restore = Restore::new(move || ON_ROW.with(|hook| *hook.borrow_mut() = previous));
    f()
}

/// Hands a finished row to this thread's observer, if any.
fn notify(outcome: &Outcome) {
    ON_ROW.with(|hook| {
        if let Some(f) = hook.borrow_mut().as_mut() {
            f(outcome);
        }
    });
}

/// An observer of finished rows ([`observe_rows`]).
type RowHook = Option<Box<dyn FnMut(&Outcome)>>;

thread_local! {
    /// The observer [`observe_rows`] installs for this thread's rows.
    static ON_ROW: std::cell::RefCell<RowHook> = const { std::cell::RefCell::new(None) };
}
