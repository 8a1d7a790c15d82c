//! The seeded random search: runs a test on drawn problems, shrinks the first failure and
//! turns it into a counterexample.

use super::report::{Counterexample, SectionReport};
use crate::testing::{Kind, Violation, runner};
use proptest::prelude::*;
use proptest::test_runner::TestError;
use std::cell::RefCell;
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

/// Searches until no new failure turns up or `cap` are known, adding each to `report`.
///
/// Each failure keeps the features it `necessary`-ly needs (of its shrunk problem). A later
/// search counts a failure that a known one covers (the same kind, and every feature the known
/// one needs among its `features`: [`Counterexample::covers`]) as a repeat and goes on, so a
/// second bug is found behind a first one, and its shrinking cannot slide back into the
/// first. The repeats reported are those of the last, complete search.
#[allow(clippy::too_many_arguments)]
pub(crate) fn search_all<V: Clone + fmt::Debug>(
    report: &mut SectionReport,
    strategy: BoxedStrategy<V>,
    cases: u32,
    seed: u64,
    cap: usize,
    test: impl Fn(&V) -> Result<bool, Violation>,
    features: impl Fn(&V) -> Vec<String>,
    necessary: impl Fn(&V, Kind) -> Vec<String>,
    counterexample: impl Fn((Option<V>, Violation), Vec<String>) -> Counterexample,
) {
    loop {
        let known: Vec<Counterexample> = report.failures.clone();
        let hits = RefCell::new(vec![0usize; known.len()]);
        let (checked, skipped, failure) =
            search(strategy.clone(), cases, seed, |v| match test(v) {
                Err(violation) => {
                    let f = features(v);
                    match known.iter().position(|k| k.covers(violation.kind, &f)) {
                        Some(i) => {
                            hits.borrow_mut()[i] += 1;
                            Ok(true)
                        }
                        None => Err(violation),
                    }
                }
                ok => ok,
            });
        report.checked += checked;
        report.skipped += skipped;
        for (k, n) in report.failures.iter_mut().zip(hits.into_inner()) {
            k.repeats = n;
        }
        let Some(failure) = failure else { return };
        let f = match &failure.0 {
            Some(v) => necessary(v, failure.1.kind),
            None => Vec::new(),
        };
        report.failures.push(counterexample(failure, f));
        if report.failures.len() >= cap.max(1)
            || report
                .failures
                .last()
                .is_some_and(|c| c.kind == Kind::SearchAborted)
        {
            return;
        }
    }
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
        features: Vec::new(),
        repeats: 0,
    }
}
