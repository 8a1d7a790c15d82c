//! The batteries `conv-oracle verify` runs: the signal properties and the no-panic property,
//! the layer properties, the FFT bound, the correctly rounded engine and the summation orders,
//! each with engines planted to be wrong that the battery must refute. The batteries are
//! private; their rows are public through [`rows`].
//!
//! [`rows`] is the table: one [`Row`] per property, engine and element type. [`run`] runs a
//! table under a [`Plan`] (cases, seed, shard) and returns a [`Summary`] whose
//! [`Summary::exit_code`] is the command's. A test can extend the table with a row of its own
//! (one planted to fail or to panic) and see the summary fail.

mod exact;
mod fft;
mod layer;
mod signal;
mod summation;

use crate::testing::{Outcome, Row, Shard, observe_rows, run_rows, with_shard};

/// The fewest cases per row `verify` accepts. Below it, rows that judge how tight a bound is
/// (the FFT ratio floor, the summation rows' demand for an inexact output) skip that
/// judgement, and most properties see too few cases to mean anything.
pub const MIN_CASES: u32 = 16;

/// The default number of cases per row.
pub const DEFAULT_CASES: u32 = 256;

/// Every row `conv-oracle verify` runs, in report order.
pub fn rows() -> Vec<Row> {
    let mut out = signal::rows();
    out.extend(layer::rows());
    out.extend(fft::rows());
    out.extend(exact::rows());
    out.extend(summation::rows());
    out
}

/// How to run a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Cases per row (some rows scale it: no-panic runs four times as many, the large FFT
    /// rows an eighth, refutation rows at least their minimum).
    pub cases: u32,
    /// The seed of every row's search.
    pub seed: u64,
    /// The slice of every row's cases this run checks ([`Shard`]).
    pub shard: Shard,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            cases: DEFAULT_CASES,
            seed: crate::testing::DEFAULT_SEED,
            shard: Shard::WHOLE,
        }
    }
}

/// Why a plan cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Fewer cases per row than [`MIN_CASES`].
    #[error(
        "--cases {got} is below the floor of {min}: the rows would check too little to mean anything"
    )]
    TooFewCases {
        /// The floor.
        min: u32,
        /// The number asked for.
        got: u32,
    },
}

/// The outcome of a run: every row's result.
#[derive(Clone, Debug)]
pub struct Summary {
    /// One outcome per row, in table order.
    pub outcomes: Vec<Outcome>,
}

impl Summary {
    /// The rows that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.passed)
    }

    /// Whether every row passed.
    pub fn passed(&self) -> bool {
        self.failed().next().is_none()
    }

    /// The exit code of `conv-oracle verify`: 0 when every row passed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.passed())
    }
}

/// Runs `rows` under `plan`, calling `on_row` with every row as soon as it is done (in table
/// order, on this thread). A row that panics is a failed row; the run goes on. Refuses a plan
/// with fewer than [`MIN_CASES`] cases.
pub fn run(
    rows: &[Row],
    plan: &Plan,
    on_row: impl FnMut(&Outcome) + 'static,
) -> Result<Summary, PlanError> {
    if plan.cases < MIN_CASES {
        return Err(PlanError::TooFewCases {
            min: MIN_CASES,
            got: plan.cases,
        });
    }
    let outcomes = observe_rows(on_row, || {
        with_shard(plan.shard, || run_rows(rows, plan.cases, plan.seed))
    });
    Ok(Summary { outcomes })
}
