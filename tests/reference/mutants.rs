//! The comparison has teeth: each deliberately wrong definition is caught by the same
//! comparison, strategy and seed as the main property, and the shrunk counterexample is printed.

use super::definition::{Case, Mutant, compare};
use super::props::{cases, config, explicit_shapes, small_i64};
use conv_oracle::{Boundary, Padding};
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use std::cell::Cell;

/// Runs the main property against a mutated definition; returns the number of generated cases
/// up to the first mismatch, the reason and the shrunk failing case.
fn first_mismatch(mutant: Mutant) -> Option<(usize, String, Case<i64>)> {
    let mut runner = TestRunner::new(proptest::test_runner::Config {
        // Intended failures must not be persisted as regressions.
        failure_persistence: None,
        max_shrink_iters: 64,
        ..config(256)
    });
    let (tried, failed) = (Cell::new(0), Cell::new(false));
    let outcome = runner.run(&cases(explicit_shapes(), small_i64()), |case| {
        if !failed.get() {
            tried.set(tried.get() + 1);
        }
        let result = compare(&case, mutant);
        failed.set(failed.get() || result.is_err());
        result.map_err(TestCaseError::fail)
    });
    match outcome {
        Ok(()) => None,
        Err(TestError::Fail(reason, case)) => Some((tried.get(), reason.to_string(), case)),
        Err(other) => panic!("{mutant:?}: {other}"),
    }
}

#[test]
fn every_mutant_is_caught() {
    for mutant in Mutant::WRONG {
        let (tried, reason, case) =
            first_mismatch(mutant).unwrap_or_else(|| panic!("{mutant:?} was not caught"));
        eprintln!("{mutant:?} caught at case {tried}; shrunk: {case:?}\n{reason}\n");
    }
}

#[test]
fn shrunk_counterexamples_use_what_the_mutant_breaks() {
    let (_, _, case) = first_mismatch(Mutant::ReflectAsSymmetric).expect("caught");
    assert!(matches!(case.boundary, Boundary::Reflect), "{case:?}");
    // A single pass fills n - 1 (reflect) or n (symmetric, wrap) positions: only pads at least
    // as long as the input can tell the mutant apart.
    let (_, _, case) = first_mismatch(Mutant::LongPadClamped).expect("caught");
    let Padding::Explicit(pads) = &case.padding else {
        panic!("explicit pads expected: {case:?}")
    };
    assert!(
        pads.iter()
            .zip(&case.input)
            .any(|(&(lo, hi), &n)| lo.max(hi) >= n),
        "{case:?}"
    );
}
