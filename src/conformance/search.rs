//! The seeded random search: runs a test on drawn problems, shrinks the first failure and
//! turns it into a counterexample.

use super::report::Counterexample;
use crate::testing::{Kind, Violation, runner};
use proptest::prelude::*;
use proptest::test_runner::TestError;
use std::fmt;

/// Runs `test` on `cases` problems from `strategy`; on failure, the shrunk problem (`None`
/// when the search aborted) and the reason. Counts the problems run.
pub(crate) fn search<V: Clone + fmt::Debug>(
    strategy: BoxedStrategy<V>,
    cases: u32,
    seed: u64,
    test: impl Fn(&V) -> Result<bool, Violation>,
) -> (usize, usize, Option<(Option<V>, Violation)>) {
    let checked = std::cell::Cell::new(0usize);
    let skipped = std::cell::Cell::new(0usize);
    let mut r = runner(cases, seed);
    let result = r.run(&strategy, |c| match test(&c) {
        Ok(true) => {
            checked.set(checked.get() + 1);
            Ok(())
        }
        Ok(false) => {
            skipped.set(skipped.get() + 1);
            Ok(())
        }
        Err(v) => {
            checked.set(checked.get() + 1);
            Err(TestCaseError::fail(v))
        }
    });
    let failure = match result {
        Ok(()) => None,
        // The kind survives shrinking in the reason's text (a panic proptest caught reads
        // back as `Kind::Panicked`).
        Err(TestError::Fail(reason, c)) => Some((Some(c), Violation::decode(reason.message()))),
        Err(TestError::Abort(reason)) => Some((
            None,
            Violation::new(Kind::SearchAborted, format!("the search aborted: {reason}")),
        )),
    };
    (checked.get(), skipped.get(), failure)
}

/// A counterexample from a search's failure (an aborted search has no problem to show).
pub(crate) fn found<V>(
    what: String,
    failure: (Option<V>, Violation),
    code: impl Fn(&V) -> (String, usize),
) -> Counterexample {
    let (case, violation) = failure;
    let (code, size) = case.as_ref().map(code).unwrap_or_else(|| {
        (
            "// the search aborted before finding a problem\n".to_string(),
            0,
        )
    });
    Counterexample {
        what,
        kind: violation.kind,
        detail: violation.detail,
        code,
        size,
    }
}
