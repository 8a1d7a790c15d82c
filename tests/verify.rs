//! The self-checks fail for the right reason: `verify`'s table with planted rows (one that
//! fails, one that panics, a refutation met by the wrong kind of failure), the `--cases`
//! floor, the shard slices adding up to the whole run, and `prove`'s failure path.

mod common;

use common::SEED;
use conv_oracle::proofs::{Expect as Claim, find, report};
use conv_oracle::testing::{
    Expect, Kind, Outcome, Row, Shard, Violation, observe_cases, search, timed, with_shard,
};
use conv_oracle::verify::{self, MIN_CASES, Plan, PlanError};
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// A row that runs `check` as a search over small integers.
fn row(property: &'static str, expect: Expect, check: fn(&u32) -> Result<(), Violation>) -> Row {
    Row::new(property, "planted", move |cases, seed| {
        timed(property, "planted".into(), cases, expect, || {
            search(0u32..1000, cases, seed, check)
        })
    })
}

/// verify's signal rows: the signal properties on the reference over `i64` and complex numbers,
/// and the no-panic row of the public API.
fn signal_rows() -> Vec<Row> {
    const SIGNAL: [&str; 8] = [
        "commutative",
        "associative",
        "bilinear",
        "delta-shift",
        "convolve-is-correlate-reversed",
        "correlate-swap",
        "correlation-not-commutative",
        "no-panic",
    ];
    let rows: Vec<Row> = verify::rows()
        .into_iter()
        .filter(|r| SIGNAL.contains(&r.property))
        .collect();
    // Each property on i64 and c64, no-panic once: the table has exactly these.
    let engines = ["reference/i64", "reference/c64"];
    for property in &SIGNAL[..7] {
        for engine in engines {
            assert_eq!(
                rows.iter()
                    .filter(|r| r.property == *property && r.engine == engine)
                    .count(),
                1,
                "{property} on {engine}"
            );
        }
    }
    assert_eq!(
        rows.len(),
        2 * 7 + 1,
        "{:?}",
        rows.iter()
            .map(|r| (&r.property, &r.engine))
            .collect::<Vec<_>>()
    );
    rows
}

fn holds(_: &u32) -> Result<(), Violation> {
    Ok(())
}

fn fails_above_10(v: &u32) -> Result<(), Violation> {
    if *v > 10 {
        Err(Violation::mismatch(format!("{v} > 10")))
    } else {
        Ok(())
    }
}

fn bound_above_10(v: &u32) -> Result<(), Violation> {
    if *v > 10 {
        Err(Violation::bound(format!("{v} > 10")))
    } else {
        Ok(())
    }
}

fn plan(cases: u32) -> Plan {
    Plan {
        cases,
        seed: SEED,
        shard: Shard::WHOLE,
    }
}

fn run(rows: &[Row]) -> verify::Summary {
    verify::run(rows, &plan(MIN_CASES), |_| {}).expect("a plan above the floor")
}

#[test]
fn a_planted_failing_row_makes_verify_exit_1() {
    let good = run(&[row("holds", Expect::Holds, holds)]);
    assert_eq!(good.exit_code(), 0);
    let bad = run(&[
        row("holds", Expect::Holds, holds),
        row("planted-failure", Expect::Holds, fails_above_10),
    ]);
    assert_eq!(bad.exit_code(), 1);
    let failed: Vec<&Outcome> = bad.failed().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].property, "planted-failure");
    assert!(
        failed[0].detail.starts_with("mismatch: 11 > 10"),
        "{}",
        failed[0].detail
    );
}

#[test]
fn a_planted_panicking_row_is_a_failed_row_and_the_run_goes_on() {
    let panics = Row::new("planted-panic", "planted", |_, _| {
        panic!("planted row panic")
    });
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    let summary = verify::run(
        &[panics, row("after", Expect::Holds, holds)],
        &plan(MIN_CASES),
        move |o| sink.borrow_mut().push((o.property, o.passed)),
    )
    .expect("above the floor");
    assert_eq!(summary.exit_code(), 1);
    assert_eq!(summary.outcomes.len(), 2);
    let o = &summary.outcomes[0];
    assert!(!o.passed);
    assert!(
        o.detail
            .starts_with("panicked: the row panicked at tests/verify.rs:")
            && o.detail.ends_with(": planted row panic"),
        "{}",
        o.detail
    );
    assert!(summary.outcomes[1].passed);
    // The observer saw both rows, the panicking one too, in order.
    assert_eq!(*seen.borrow(), [("planted-panic", false), ("after", true)]);
}

#[test]
fn a_refutation_row_passes_only_on_the_kind_it_expects() {
    let right = run(&[row(
        "refuted",
        Expect::Refuted(Kind::Mismatch),
        fails_above_10,
    )]);
    assert!(right.passed(), "{:?}", right.outcomes);
    assert!(
        right.outcomes[0]
            .detail
            .starts_with("refuted as expected: mismatch:")
    );
    // The same row met by a bound exceeded (a wrong-kind failure) fails.
    let wrong = run(&[row(
        "refuted",
        Expect::Refuted(Kind::Mismatch),
        bound_above_10,
    )]);
    assert_eq!(wrong.exit_code(), 1);
    assert!(
        wrong.outcomes[0]
            .detail
            .starts_with("expected a refutation of kind mismatch, got bound-exceeded:"),
        "{}",
        wrong.outcomes[0].detail
    );
    // And a refutation that finds nothing fails.
    let none = run(&[row("refuted", Expect::Refuted(Kind::Mismatch), holds)]);
    assert!(
        none.outcomes[0]
            .detail
            .starts_with("no counterexample found")
    );
    assert_eq!(none.exit_code(), 1);
}

#[test]
fn a_real_refutation_row_passes_by_its_kind() {
    // verify's own signal refutation row passes, and says it was refuted by the kind it names
    // (the planted rows above show a wrong kind failing).
    let rows = signal_rows();
    let refute = rows
        .iter()
        .find(|r| r.property == "correlation-not-commutative")
        .expect("the signal table has the refutation row");
    let o = refute.run(MIN_CASES, SEED);
    assert!(o.passed, "{}", o.detail);
    assert!(
        o.detail.starts_with("refuted as expected: mismatch:"),
        "{}",
        o.detail
    );
}

#[test]
fn cases_below_the_floor_are_refused() {
    let rows = [row("holds", Expect::Holds, holds)];
    for cases in [0, 1, MIN_CASES - 1] {
        assert_eq!(
            verify::run(&rows, &plan(cases), |_| {}).map(|_| ()),
            Err(PlanError::TooFewCases {
                min: MIN_CASES,
                got: cases
            })
        );
    }
    assert!(verify::run(&rows, &plan(MIN_CASES), |_| {}).is_ok());
}

/// The cases each search of `rows` checks, in order, under `shard`.
fn checked_cases(rows: &[Row], cases: u32, shard: Shard) -> (Vec<String>, Vec<Outcome>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    let outcomes = observe_cases(
        move |c| sink.borrow_mut().push(c.to_string()),
        || with_shard(shard, || conv_oracle::testing::run_rows(rows, cases, SEED)),
    );
    let cases = seen.borrow().clone();
    (cases, outcomes)
}

#[test]
fn shards_add_up_to_the_whole_run() {
    // The signal rows on i64 and complex numbers and the no-panic row: property rows (sliced)
    // and one refutation row (run whole in every shard).
    let rows = signal_rows();
    let cases = 48;
    let (whole, whole_rows) = checked_cases(&rows, cases, Shard::WHOLE);
    assert!(whole_rows.iter().all(|o| o.passed));
    assert!(!whole.is_empty());
    let n = 3;
    let mut union: Vec<String> = Vec::new();
    for i in 0..n {
        let shard = Shard::new(i, n).expect("i < n");
        let (part, outcomes) = checked_cases(&rows, cases, shard);
        assert!(
            outcomes.iter().all(|o| o.passed),
            "shard {shard}: {outcomes:?}"
        );
        assert_eq!(outcomes.len(), whole_rows.len());
        union.extend(part);
    }
    // Every property row's cases: each shard a disjoint slice, together the whole run's. The
    // refutation rows add their cases once per extra shard, so compare without them: count the
    // whole run's cases per debug form, and the shards' counts minus the refutation repeats.
    let (refute_only, _) = checked_cases(
        &rows
            .into_iter()
            .filter(|r| r.property == "correlation-not-commutative")
            .collect::<Vec<_>>(),
        cases,
        Shard::WHOLE,
    );
    assert!(!refute_only.is_empty());
    let mut expected = whole.clone();
    for _ in 1..n {
        expected.extend(refute_only.iter().cloned());
    }
    expected.sort();
    union.sort();
    assert_eq!(union.len(), expected.len());
    assert!(
        union == expected,
        "the shards' cases differ from the whole run's"
    );
}

#[test]
fn a_shard_checks_a_third_of_a_search() {
    // One search, three slices: the checked positions are disjoint and cover every case.
    let count = |shard: Shard| {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&seen);
        observe_cases(
            move |c| sink.borrow_mut().push(c.to_string()),
            || with_shard(shard, || search(0u64..u64::MAX, 90, SEED, |_| Ok(()))),
        )
        .expect("holds");
        seen.borrow().clone()
    };
    let whole = count(Shard::WHOLE);
    assert_eq!(whole.len(), 90);
    let parts: Vec<Vec<String>> = (0..3)
        .map(|i| count(Shard::new(i, 3).expect("i < 3")))
        .collect();
    assert!(parts.iter().all(|p| p.len() == 30));
    for (k, case) in whole.iter().enumerate() {
        assert_eq!(&parts[k % 3][k / 3], case, "case {k}");
    }
    assert_eq!(Shard::new(3, 3), None);
}

#[test]
fn a_failure_inside_a_shard_still_shrinks() {
    // Shrinking is not sliced: a failing case found in a slice shrinks to the minimal one.
    let v = with_shard(Shard::new(1, 2).expect("1 < 2"), || {
        search(0u32..1000, 64, SEED, fails_above_10)
    })
    .expect_err("values above 10 are drawn");
    assert_eq!(v.kind, Kind::Mismatch);
    assert!(v.detail.starts_with("11 > 10"), "{v}");
}

#[test]
fn a_check_that_panics_is_a_panicked_violation() {
    let v = search(0u32..1000, 64, SEED, |v| {
        assert!(*v <= 10, "planted check panic");
        Ok(())
    })
    .expect_err("the planted panic is found");
    assert_eq!(v.kind, Kind::Panicked, "{v}");
    assert!(v.detail.contains("planted check panic"), "{v}");
    // An aborted search (every case rejected) is its own kind.
    let v = search((0u32..10).prop_filter("never", |_| false), 16, SEED, holds)
        .expect_err("every case is rejected");
    assert_eq!(v.kind, Kind::SearchAborted, "{v}");
}

#[test]
fn prove_reports_a_claim_that_does_not_come_out_as_expected() {
    let mut slip = find(Some("notes-slip")).expect("a claim")[0];
    let mut commutes = find(Some("commutativity")).expect("a claim")[0];
    // As declared, both pass: a true claim holds, a false one is refuted.
    let ok = report(&[commutes, slip]);
    assert_eq!(ok.failed, 0, "{}", ok.text);
    assert!(ok.text.contains("HOLDS    commutativity"), "{}", ok.text);
    assert!(ok.text.contains("REFUTED  notes-slip"), "{}", ok.text);
    // Planted: the false claim declared true, and the true one declared false.
    slip.expect = Claim::Holds;
    commutes.expect = Claim::Fails;
    let bad = report(&[slip, commutes]);
    assert_eq!(bad.failed, 2, "{}", bad.text);
    assert!(bad.text.contains("FAILED   notes-slip"), "{}", bad.text);
    assert!(
        bad.text.contains("COUNTEREXAMPLE at f: [2], g: [1]"),
        "{}",
        bad.text
    );
    assert!(bad.text.contains("FAILED   commutativity"), "{}", bad.text);
    assert!(
        bad.text
            .contains("no counterexample found, but the claim is false"),
        "{}",
        bad.text
    );
    assert!(
        bad.text
            .ends_with("prove: 2 claims, 0 as expected, 2 not\n")
    );
}
