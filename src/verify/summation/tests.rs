//! Issue 5: every direct summation order satisfies the componentwise bound
//! `|y_hat - y| <= gamma_K(u) A` (judged exactly against rational outputs), and planted wrong
//! engines violate it. The engine, the exact check and the battery rows live in
//! `conv_oracle::verify::summation`.

use crate::testing::common::{SEED, cfg};

use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::exact::ExactEngine;
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::cases::{Case, Dist, case};
use conv_oracle::testing::{Expect, Kind, Violation, search};
use conv_oracle::tolerance::{U32, U64, gamma};
use conv_oracle::verify::fft::exact_conv;
use conv_oracle::verify::summation::{
    MAX_RANK, ORDERS, OrderedEngine, SumElement, SummationOrder, WRONG, Wrong, check_componentwise,
    check_componentwise_with, mixed_case, order_row, run_summation_battery, wrong_case, wrong_row,
};
use conv_oracle::{ConvSpec, Problem, conv};
use ndarray::{ArrayD, IxDyn};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Signed;
use proptest::prelude::*;
use std::cell::Cell;
use std::time::Instant;

// ---------------------------------------------------------------- helpers

/// A 1-D, one-channel, valid cross-correlation case `x (1, 1, n)`, `w (1, 1, k)`.
fn case_1d<T: Clone + 'static>(x: Vec<T>, w: Vec<T>, bias: Option<T>) -> Case<T> {
    let (n, k) = (x.len(), w.len());
    Case {
        input: Arr(ArrayD::from_shape_vec(IxDyn(&[1, 1, n]), x).unwrap()),
        weight: Arr(ArrayD::from_shape_vec(IxDyn(&[1, 1, k]), w).unwrap()),
        bias: bias.map(|b| vec![b]),
        spec: ConvSpec::new(),
    }
}

/// The engine's flat output on a case.
fn run<T: SumElement>(e: &OrderedEngine, c: &Case<T>) -> Vec<T>
where
    OrderedEngine: ConvEngine<T>,
{
    c.with(|p| e.conv(p)).unwrap().iter().copied().collect()
}

/// The exact outputs of a (finite, f64-valued) case as rationals.
fn exact(c: &Case<f64>) -> Vec<BigRational> {
    exact_conv(c)
        .unwrap()
        .rational_parts::<f64>()
        .into_iter()
        .map(|[re, _]| re)
        .collect()
}

fn q(v: f64) -> BigRational {
    BigRational::from_float(v).unwrap()
}

/// `gamma_K(u) A` as a rational (u a power of two).
fn gamma_times(k: usize, u: f64, a: &BigRational) -> BigRational {
    let ku = q(k as f64 * u);
    a * &ku / (q(1.0) - &ku)
}

fn holds<T: SumElement>(e: &OrderedEngine, c: &Case<T>) -> Result<(), TestCaseError>
where
    OrderedEngine: ConvEngine<T>,
{
    check_componentwise(e, c)
        .map(|_| ())
        .map_err(TestCaseError::fail)
}

// ---------------------------------------------------------------- proptest: every order holds

macro_rules! order_holds {
    ($($name:ident: $order:expr),* $(,)?) => {
        proptest! {
            #![proptest_config(cfg(48))]
            $(
                #[test]
                fn $name(c in mixed_case(MAX_RANK)) {
                    let e = OrderedEngine::new($order);
                    holds::<f64>(&e, &c)?;
                    holds::<f32>(&e, &c.map(|v| v as f32))?;
                }
            )*
        }
    };
}

order_holds! {
    forward_holds_f64_f32: SummationOrder::Forward,
    reverse_holds_f64_f32: SummationOrder::Reverse,
    pairwise_holds_f64_f32: SummationOrder::Pairwise,
    chunked4_holds_f64_f32: SummationOrder::Chunked(4),
    chunked8_holds_f64_f32: SummationOrder::Chunked(8),
    lanes8_holds_f64_f32: SummationOrder::Lanes(8),
    fma_holds_f64_f32: SummationOrder::Fma,
    pairwise_fma_holds_f64_f32: SummationOrder::PairwiseFma,
    chunked1_holds_f64_f32: SummationOrder::Chunked(1),
    lanes3_holds_f64_f32: SummationOrder::Lanes(3),
}

proptest! {
    #![proptest_config(cfg(48))]

    /// The walker is the convolution spec: on small integers every sum is exact, so every
    /// order (and every product, fused or not) gives exactly the reference's result, on
    /// every padding rule, boundary mode, stride, dilation, group count and flip.
    #[test]
    fn every_order_equals_reference_on_integers(c in case::<f64>(Dist::Uniform, 3)) {
        let ints = c.map(|v| (v * 8.0).round());
        let want = ints.with(conv);
        for order in ORDERS.iter().chain(&[SummationOrder::Lanes(3), SummationOrder::Chunked(0)]) {
            let got = ints.with(|p| OrderedEngine::new(*order).conv(p));
            prop_assert_eq!(got.clone().map(Arr), want.clone().map(Arr), "order {}", order);
        }
    }

    /// Cross-check of the exact check with the correctly rounded engine (independent code):
    /// `|y_cr - y| <= u |y| <= u A`, so a correctly rounded result needs `K = 1`.
    #[test]
    fn correctly_rounded_needs_one_term(c in mixed_case(MAX_RANK)) {
        let e = ExactEngine::new().threads(1);
        let s = check_componentwise::<f64>(&e, &c).map_err(TestCaseError::fail)?;
        prop_assert!(s.refused || s.needed_terms <= 1, "{s:?}");
        let c32 = c.map(|v| v as f32);
        let s = check_componentwise::<f32>(&e, &c32).map_err(TestCaseError::fail)?;
        prop_assert!(s.refused || s.needed_terms <= 1, "{s:?}");
    }
}

// ---------------------------------------------------------------- wrong engines are refuted

#[test]
fn every_wrong_engine_is_refuted_by_its_row() {
    for w in WRONG {
        let row = wrong_row(w, 256, SEED);
        assert!(row.passed, "{w:?}: {}", row.detail);
        assert!(
            row.detail
                .starts_with("refuted as expected: bound-exceeded:"),
            "{}",
            row.detail
        );
    }
}

#[test]
fn wrong_engine_failures_are_genuine() {
    // Every case the check rejects has an output whose error exceeds gamma_K(u) A, recomputed
    // here with BigRational (no underflow on this data), and most cases are rejected.
    for w in WRONG {
        let e = OrderedEngine::new(SummationOrder::Forward).with_wrong(w);
        let (rejected, valid) = (Cell::new(0usize), Cell::new(0usize));
        let r = search(wrong_case(w, 1), 48, SEED, |c| {
            let verdict = check_componentwise::<f64>(&e, c);
            if verdict.as_ref().is_ok_and(|s| s.refused) {
                return Ok(());
            }
            valid.set(valid.get() + 1);
            let got = run::<f64>(&e, c);
            let y = exact(c);
            let a = exact(&c.map(f64::abs));
            let k =
                c.weight.0.shape()[1..].iter().product::<usize>() + usize::from(c.bias.is_some());
            let violated = got
                .iter()
                .zip(&y)
                .zip(&a)
                .any(|((&g, y), a)| (q(g) - y).abs() > gamma_times(k, U64, a));
            if violated
                != verdict
                    .as_ref()
                    .is_err_and(|v| v.kind == Kind::BoundExceeded)
            {
                return Err(Violation::mismatch(format!(
                    "{w:?}: rational says {violated}, check says {verdict:?}"
                )));
            }
            rejected.set(rejected.get() + usize::from(violated));
            Ok(())
        });
        assert!(r.is_ok(), "{r:?}");
        // Bias twice shows only with a bias (half the cases); the others almost always.
        assert!(
            2 * rejected.get() >= valid.get() * 3 / 4,
            "{w:?}: {} of {}",
            rejected.get(),
            valid.get()
        );
    }
}

#[test]
fn wrong_engines_are_refuted_in_every_order_and_f32() {
    // DropTap and BiasTwice are bugs in f32 too; F32Accumulate is the correct f32 engine.
    for order in ORDERS {
        for w in [Wrong::DropTap, Wrong::BiasTwice] {
            let e = OrderedEngine::new(order).with_wrong(w);
            let r = search(wrong_case(w, MAX_RANK), 64, SEED, |c| {
                check_componentwise::<f64>(&e, c)?;
                check_componentwise::<f32>(&e, &c.map(|v| v as f32)).map(|_| ())
            });
            assert_eq!(
                r.map_err(|v| v.kind),
                Err(Kind::BoundExceeded),
                "{} was not refuted by its bound",
                ConvEngine::<f64>::name(&e)
            );
        }
        let e = OrderedEngine::new(order).with_wrong(Wrong::F32Accumulate);
        let r = search(wrong_case(Wrong::F32Accumulate, 2), 64, SEED, |c| {
            check_componentwise::<f64>(&e, c).map(|_| ())
        });
        assert_eq!(
            r.map_err(|v| v.kind),
            Err(Kind::BoundExceeded),
            "{order}: f32 accumulation of f64 data not refuted by the bound"
        );
        let r = search(mixed_case(2), 32, SEED, |c| {
            check_componentwise::<f32>(&e, &c.map(|v| v as f32)).map(|_| ())
        });
        assert!(
            r.is_ok(),
            "{order}: f32 accumulation of f32 data is correct: {r:?}"
        );
    }
}

#[test]
fn hand_wrong_engines_fail() {
    // x = [1, 2, 3], w = [0.5, 0.25, 0.125], b = 0.75: y = 0.75 + 0.5 + 0.5 + 0.375 = 2.125,
    // every step exact. Drop tap: 1.75 (error 0.375); bias twice: 2.875 (error 0.75).
    let c = case_1d(vec![1.0, 2.0, 3.0], vec![0.5, 0.25, 0.125], Some(0.75));
    let fwd = OrderedEngine::new(SummationOrder::Forward);
    assert_eq!(run::<f64>(&fwd, &c), [2.125]);
    assert_eq!(
        run::<f64>(&fwd.clone().with_wrong(Wrong::DropTap), &c),
        [1.75]
    );
    assert_eq!(
        run::<f64>(&fwd.clone().with_wrong(Wrong::BiasTwice), &c),
        [2.875]
    );
    assert!(check_componentwise::<f64>(&fwd, &c).unwrap().exact == 1);
    for w in [Wrong::DropTap, Wrong::BiasTwice] {
        let err = check_componentwise::<f64>(&fwd.clone().with_wrong(w), &c).unwrap_err();
        assert_eq!(err.kind, Kind::BoundExceeded, "{err}");
        assert!(err.detail.contains("needs K >="), "{err}");
    }
    // F32 accumulation: 1 + 1e-10 is exact-ish in f64, lost in f32 (error 1e-10 >> 2^-52).
    let c = case_1d(vec![1.0, 1e-10], vec![1.0, 1.0], None);
    let e = fwd.with_wrong(Wrong::F32Accumulate);
    assert_eq!(run::<f64>(&e, &c), [1.0]);
    assert_eq!(
        kind_of(check_componentwise::<f64>(&e, &c)),
        Some(Kind::BoundExceeded)
    );
}

// ---------------------------------------------------------------- hand cases

#[test]
fn forward_and_reverse_differ_yet_both_pass() {
    // Terms 1, 2^-53, 2^-53 (exact products). Forward: 1 + 2^-53 is a tie, rounds to even 1,
    // and again: 1. Reverse: 2^-53 + 2^-53 = 2^-52 exactly, then 1 + 2^-52 (exact, the
    // exact sum). So forward errs by 2^-52, against gamma_3(2^-53) (1 + 2^-52) ~ 1.5 2^-52.
    let t = 2f64.powi(-53);
    let c = case_1d(vec![1.0, 1.0, 1.0], vec![1.0, t, t], None);
    let f = run::<f64>(&OrderedEngine::new(SummationOrder::Forward), &c)[0];
    let r = run::<f64>(&OrderedEngine::new(SummationOrder::Reverse), &c)[0];
    assert_ne!(f, r);
    assert_eq!(f, 1.0);
    assert_eq!(r, 1.0 + 2.0 * t);
    let sf = check_componentwise::<f64>(&OrderedEngine::new(SummationOrder::Forward), &c).unwrap();
    let sr = check_componentwise::<f64>(&OrderedEngine::new(SummationOrder::Reverse), &c).unwrap();
    assert_eq!((sf.terms, sf.exact, sr.exact), (3, 0, 1));
    // Independently: forward's error is nonzero and below gamma_3 A, and needs K = 2 (it is
    // above gamma_1 A = u (1 + 2^-52) / (1 - u) and below gamma_2 A).
    let y = exact(&c)[0].clone();
    let a = exact(&c.map(f64::abs))[0].clone();
    let err = (q(f) - &y).abs();
    assert!(err > q(0.0) && err <= gamma_times(3, U64, &a));
    assert!(err > gamma_times(1, U64, &a) && err <= gamma_times(2, U64, &a));
    assert_eq!(sf.needed_terms, 2);
    assert!(sf.max_ratio > 0.5 && sf.max_ratio <= 1.0, "{sf:?}");
}

#[test]
fn the_bias_counts_as_a_term() {
    // One tap plus a bias, summed bias first (K = 2). w = 1 + 2^-26, x = 1 + 2^-27 + 2^-52:
    // w x = 1 + 3 2^-27 + 2^-52 + 2^-53 + 2^-78 rounds up to 1 + 3 2^-27 + 2^-51 (error
    // ~2^-53); with b = 1 + 2^-52 the sum 2 + 3 2^-27 + 3 2^-52 is a tie on the grid of
    // [2, 4) and rounds up to even, 2 + 3 2^-27 + 2^-50 (error 2^-52). Together ~1.5 2^-52,
    // above gamma_1 A ~ 2^-52 (one term's roundings) but below gamma_2 A ~ 2^-51.
    let w = 1.0 + 2f64.powi(-26);
    let x = 1.0 + 2f64.powi(-27) + 2f64.powi(-52);
    let b = 1.0 + 2f64.powi(-52);
    let c = case_1d(vec![x], vec![w], Some(b));
    let e = OrderedEngine::new(SummationOrder::Forward);
    let got = run::<f64>(&e, &c)[0];
    assert_eq!(got, 2.0 + 3.0 * 2f64.powi(-27) + 2f64.powi(-50));
    let y = exact(&c)[0].clone();
    let a = exact(&c.map(f64::abs))[0].clone();
    assert_eq!(y, q(w) * q(x) + q(b));
    let err = (q(got) - &y).abs();
    assert!(
        err > gamma_times(1, U64, &a),
        "the taps alone (K = 1) would reject it"
    );
    assert!(err <= gamma_times(2, U64, &a));
    let s = check_componentwise::<f64>(&e, &c).unwrap();
    assert_eq!((s.terms, s.needed_terms), (2, 2));
    // Without the bias the same product is within one term's bound (K = 1).
    let c = case_1d(vec![x], vec![w], None);
    let s = check_componentwise::<f64>(&e, &c).unwrap();
    assert_eq!((s.terms, s.needed_terms), (1, 1));
}

#[test]
fn gamma_uses_the_element_types_roundoff() {
    // f32 data summed in f32: 1 + 2^-30 loses 2^-30. Within gamma_2(U32) A, far beyond
    // gamma_2(U64) A.
    let c = case_1d(vec![1.0f32, 2f32.powi(-30)], vec![1.0f32, 1.0], None);
    let e = OrderedEngine::new(SummationOrder::Forward);
    assert_eq!(run::<f32>(&e, &c), [1.0]);
    let s = check_componentwise::<f32>(&e, &c).unwrap();
    assert_eq!(s.exact, 0);
    assert!(check_componentwise_with::<f32>(&e, &c, U32).is_ok());
    assert_eq!(
        kind_of(check_componentwise_with::<f32>(&e, &c, U64)),
        Some(Kind::BoundExceeded)
    );
    // The same on generated data: every f32 case passes with U32, and every case with a
    // nonzero error fails with U64 (an f32 rounding error is a multiple of 2^-149 and at
    // least 2^-24 |partial| away, far beyond gamma_K(2^-53) A).
    let inexact = Cell::new(0usize);
    let r = search(mixed_case(2), 64, SEED, |c| {
        let c = c.map(|v| v as f32);
        let s = check_componentwise_with::<f32>(&e, &c, U32)?;
        if s.outputs > s.exact {
            inexact.set(inexact.get() + 1);
            if check_componentwise_with::<f32>(&e, &c, U64).is_ok() {
                return Err(Violation::mismatch(format!(
                    "inexact f32 result passed a U64 bound: {s:?}"
                )));
            }
        }
        Ok(())
    });
    assert!(r.is_ok(), "{r:?}");
    assert!(inexact.get() > 16, "only {} inexact cases", inexact.get());
    // A u that is not a power of two is refused.
    assert_eq!(
        kind_of(check_componentwise_with::<f32>(&e, &c, 3e-8)),
        Some(Kind::HypothesisBroken)
    );
    // And gamma itself is what the rule says.
    assert_eq!(gamma(2, U32), 2.0 * U32 / (1.0 - 2.0 * U32));
}

/// An engine that returns fixed values (to probe the check at the edge of the bound).
struct Fixed(Vec<f64>);

impl ConvEngine<f64> for Fixed {
    fn name(&self) -> &str {
        "fixed"
    }
    fn conv(&self, _: &Problem<'_, f64>) -> Result<ArrayD<f64>, conv_oracle::ConvError> {
        Ok(ArrayD::from_shape_vec(IxDyn(&[1, 1, self.0.len()]), self.0.clone()).unwrap())
    }
}

#[test]
fn verdict_is_exact_at_the_edge_of_the_bound() {
    // x = [1, 1], w = [1.5, 2^-54]: K = 2, y = A = 1.5 + 2^-54, a quarter ulp (2^-52) above
    // 1.5. gamma_2 A is just over 1.5 ulps, so the candidates 1.5 + j ulp (errors |j - 1/4|
    // ulps) pass for j = -1, 0, 1 and fail otherwise; with K off by one either way the
    // bound would be 0.75 or 2.25 ulps and j = -1 or j = 2 would flip.
    let c = case_1d(vec![1.0, 1.0], vec![1.5, 2f64.powi(-54)], None);
    let y = exact(&c)[0].clone();
    let a = exact(&c.map(f64::abs))[0].clone();
    let eta = q(2f64.powi(-1074));
    let ulp = 2f64.powi(-52);
    let mut passing = Vec::new();
    for j in -6i32..=6 {
        let yh = 1.5 + f64::from(j) * ulp;
        let verdict = check_componentwise::<f64>(&Fixed(vec![yh]), &c);
        let g = gamma_times(2, U64, &q(1.0));
        let rational =
            (q(yh) - &y).abs() <= &g * &a + q(2.0) * (q(1.0) + &g) * &eta / BigInt::from(2);
        assert_eq!(verdict.is_ok(), rational, "j = {j}: {verdict:?}");
        if rational {
            passing.push(j);
        }
    }
    assert_eq!(passing, [-1, 0, 1]);
}

#[test]
fn refusals_and_bad_results_are_reported() {
    // A kernel longer than the input: both refuse with the same error.
    let c = case_1d(vec![1.0], vec![1.0, 2.0], None);
    let s = check_componentwise::<f64>(&OrderedEngine::new(SummationOrder::Forward), &c).unwrap();
    assert!(s.refused && s.outputs == 0);
    // Non-finite data is outside the rule.
    let c = case_1d(vec![f64::NAN], vec![1.0], None);
    assert_eq!(
        kind_of(check_componentwise::<f64>(
            &OrderedEngine::new(SummationOrder::Forward),
            &c
        )),
        Some(Kind::HypothesisBroken)
    );
    // An engine returning the wrong shape or a non-finite value fails.
    struct Bad(f64, usize);
    impl ConvEngine<f64> for Bad {
        fn name(&self) -> &str {
            "bad"
        }
        fn conv(&self, _: &Problem<'_, f64>) -> Result<ArrayD<f64>, conv_oracle::ConvError> {
            Ok(ArrayD::from_elem(IxDyn(&[1, 1, self.1]), self.0))
        }
    }
    let c = case_1d(vec![1.0, 2.0], vec![1.0], None);
    assert_eq!(
        kind_of(check_componentwise::<f64>(&Bad(1.0, 1), &c)),
        Some(Kind::ShapeMismatch)
    );
    assert_eq!(
        kind_of(check_componentwise::<f64>(&Bad(f64::INFINITY, 2), &c)),
        Some(Kind::BoundExceeded)
    );
    let err = check_componentwise::<f64>(&Bad(1.0, 2), &c).unwrap_err();
    assert_eq!(err.kind, Kind::BoundExceeded, "{err}");
    assert!(err.detail.contains("output 1"), "{err}");
}

// ---------------------------------------------------------------- the battery

#[test]
fn battery_rows_pass_and_report() {
    let start = Instant::now();
    let rows = run_summation_battery(256, SEED);
    let elapsed = start.elapsed();
    assert_eq!(rows.len(), 2 * ORDERS.len() + WRONG.len());
    for r in &rows {
        assert!(r.passed, "{} {}: {}", r.property, r.engine, r.detail);
        assert!(!r.detail.is_empty());
        eprintln!(
            "{:34} {:28} {:>8.1?} {}",
            r.property,
            r.engine,
            r.elapsed,
            r.detail.lines().next().unwrap_or("")
        );
    }
    eprintln!("battery at 256 cases: {elapsed:?}");
    let any = &rows[0];
    assert!(any.detail.contains("max |err|/bound"), "{}", any.detail);
}

#[test]
fn an_order_row_can_fail() {
    // The row machinery reports a failing engine (not only the refutation rows).
    let row = order_row::<f64>(SummationOrder::Forward, 8, SEED);
    assert!(row.passed, "{}", row.detail);
    let bad = conv_oracle::testing::timed("x", "y".into(), 8, Expect::Holds, || {
        search(mixed_case(1), 64, SEED, |c| {
            check_componentwise::<f64>(
                &OrderedEngine::new(SummationOrder::Forward).with_wrong(Wrong::F32Accumulate),
                c,
            )
            .map(|_| ())
        })
    });
    assert!(
        !bad.passed && bad.detail.contains("minimal case"),
        "{}",
        bad.detail
    );
}

#[test]
fn rational_check_agrees_with_the_stats() {
    // On a few generated cases, recompute |err| <= gamma_K A + K (1 + gamma_K) eta / 2 with
    // BigRational for every output and compare with the verdict and K_needed.
    let eta = q(2f64.powi(-1074));
    let r = search(mixed_case(1), 32, SEED, |c| {
        for order in ORDERS {
            let e = OrderedEngine::new(order);
            let s = check_componentwise::<f64>(&e, c)?;
            if s.refused {
                continue;
            }
            let got = run::<f64>(&e, c);
            let y = exact(c);
            let a = exact(&c.map(f64::abs));
            let k = s.terms;
            let mut needed = 0usize;
            for ((g, y), a) in got.iter().zip(&y).zip(&a) {
                let err = (q(*g) - y).abs();
                let kk = (1..=4 * k + 4)
                    .find(|&kk| {
                        let g = gamma_times(kk, U64, &q(1.0));
                        err <= &g * a + q(kk as f64) * (q(1.0) + &g) * &eta / BigInt::from(2)
                    })
                    .unwrap_or(usize::MAX);
                needed = needed.max(if err == q(0.0) { 0 } else { kk });
            }
            if needed as u64 != s.needed_terms || needed > k {
                return Err(Violation::mismatch(format!(
                    "{order}: rational K_needed {needed} vs {s:?}"
                )));
            }
        }
        Ok(())
    });
    assert!(r.is_ok(), "{r:?}");
}

/// The kind of a check's violation, `None` when it held.
fn kind_of<T>(r: Result<T, Violation>) -> Option<Kind> {
    r.err().map(|v| v.kind)
}
