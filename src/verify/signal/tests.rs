//! Property suites on exact element types, in proptest and in quickcheck, plus deliberately
//! wrong engines that each property must catch.
//!
//! The checks themselves live in `conv_oracle::verify::signal` (the battery `verify` runs); this
//! file drives them through proptest's macro (fixed seed, committed regressions) and through
//! quickcheck (seeded `Gen`), and shows that every property can fail.

use crate::testing::common::{SEED, cfg, qc, refuted_by, to_result, wrong_kinds};

use conv_oracle::signal::{Mode, convolve, correlate};
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::{Kind, Violation, search};
use conv_oracle::verify::signal::{
    SignalEngine, arrays, associative, bilinear, bilinear_case, commutative,
    convolve_is_correlate_reversed, correlate_swap, correlation_commutes, delta_case, delta_shift,
    pair_and_mode,
};
use conv_oracle::{ConvError, Ring};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};
use num_complex::Complex;
use proptest::prelude::*;
use quickcheck::{Arbitrary, Gen, TestResult};

type C64 = Complex<f64>;

fn ok(r: Result<(), Violation>) -> Result<(), TestCaseError> {
    r.map_err(TestCaseError::fail)
}

fn reference<T: Ring>() -> SignalEngine<T> {
    SignalEngine::reference()
}

// ---------------------------------------------------------------- proptest, reference engine

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn proptest_commutative_i64(fg in arrays::<i64>(2)) {
        ok(commutative(&reference(), &fg))?;
    }

    #[test]
    fn proptest_commutative_c64(fg in arrays::<C64>(2)) {
        ok(commutative(&reference(), &fg))?;
    }

    #[test]
    fn proptest_bilinear_i64(c in bilinear_case::<i64>()) {
        ok(bilinear(&reference(), &c))?;
    }

    #[test]
    fn proptest_bilinear_c64(c in bilinear_case::<C64>()) {
        ok(bilinear(&reference(), &c))?;
    }

    #[test]
    fn proptest_delta_shift_i64(c in delta_case::<i64>()) {
        ok(delta_shift(&reference(), &c))?;
    }

    #[test]
    fn proptest_convolve_is_correlate_reversed_i64(c in pair_and_mode::<i64>()) {
        ok(convolve_is_correlate_reversed(&reference(), &c))?;
    }

    #[test]
    fn proptest_convolve_is_correlate_reversed_c64(c in pair_and_mode::<C64>()) {
        ok(convolve_is_correlate_reversed(&reference(), &c))?;
    }

    #[test]
    fn proptest_correlate_swap_i64(fg in arrays::<i64>(2)) {
        ok(correlate_swap(&reference(), &fg))?;
    }

    #[test]
    fn proptest_correlate_swap_c64(fg in arrays::<C64>(2)) {
        ok(correlate_swap(&reference(), &fg))?;
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn proptest_associative_i64(fgh in arrays::<i64>(3)) {
        ok(associative(&reference(), &fgh))?;
    }

    #[test]
    fn proptest_associative_c64(fgh in arrays::<C64>(3)) {
        ok(associative(&reference(), &fgh))?;
    }
}

proptest! {
    #![proptest_config(cfg(1024))]

    #[test]
    fn proptest_no_panic(c in conv_oracle::testing::absurd_case()) {
        ok(conv_oracle::verify::signal::no_panic(&c))?;
    }
}

/// Cross-correlation is not commutative: the search must find a counterexample, and the
/// shrunk one must really be one.
#[test]
fn proptest_finds_that_correlation_does_not_commute() {
    let found = search(arrays::<i64>(2), 256, SEED, |c| {
        correlation_commutes(&reference(), c)
    });
    let v = found.expect_err("correlation is not commutative; the search must say so");
    assert_eq!(v.kind, Kind::Mismatch, "{v}");
    assert!(v.detail.contains("minimal case"), "{v}");
    let found = search(arrays::<C64>(2), 256, SEED, |c| {
        correlation_commutes(&reference(), c)
    });
    assert_eq!(found.map_err(|v| v.kind), Err(Kind::Mismatch));
    // A concrete witness, worked by hand: f = [1, 2], g = [1]: correlate(f, g) = [1, 2] and
    // correlate(g, f) = [2, 1].
    let f = ndarray::arr1(&[1i64, 2]);
    let g = ndarray::arr1(&[1i64]);
    assert_eq!(
        correlate(f.view(), g.view(), Mode::Full).unwrap().to_vec(),
        [1, 2]
    );
    assert_eq!(
        correlate(g.view(), f.view(), Mode::Full).unwrap().to_vec(),
        [2, 1]
    );
}

/// The battery `verify` runs passes on the reference, and covers every property.
#[test]
fn battery_passes_on_reference() {
    let outcomes = conv_oracle::verify::signal::run_battery(32, SEED);
    let names: std::collections::BTreeSet<_> = outcomes.iter().map(|o| o.property).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "associative",
            "bilinear",
            "commutative",
            "convolve-is-correlate-reversed",
            "correlate-swap",
            "correlation-not-commutative",
            "delta-shift",
            "no-panic"
        ]
    );
    for o in &outcomes {
        assert!(o.passed, "{} ({}): {}", o.property, o.engine, o.detail);
        assert!(o.cases > 0);
    }
}

// ---------------------------------------------------------------- quickcheck, reference engine

/// A pair of arrays of one rank (1..=3), extents 1..=4, values -9..=9: quickcheck's view of
/// the same problems, generated and shrunk independently of proptest.
#[derive(Clone, Debug)]
struct QPair(Vec<Arr<i64>>);

fn q_array(g: &mut Gen, rank: usize) -> Arr<i64> {
    let shape: Vec<usize> = (0..rank)
        .map(|_| usize::from(u8::arbitrary(g) % 4) + 1)
        .collect();
    let len = shape.iter().product();
    let data = (0..len).map(|_| i64::from(i8::arbitrary(g) % 10)).collect();
    Arr(ArrayD::from_shape_vec(IxDyn(&shape), data).expect("length matches"))
}

/// Shrinks: drop the last index along one axis, or move one value toward zero.
fn q_shrink(a: &Arr<i64>) -> Vec<Arr<i64>> {
    let mut out = Vec::new();
    for axis in 0..a.0.ndim() {
        let n = a.0.shape()[axis];
        if n > 1 {
            out.push(Arr(a
                .0
                .slice_axis(Axis(axis), Slice::from(0..n - 1))
                .to_owned()));
        }
    }
    for (i, v) in a.0.iter().enumerate() {
        if *v != 0 {
            let mut b = a.0.clone();
            if let Some(x) = b.iter_mut().nth(i) {
                *x = v / 2;
            }
            out.push(Arr(b));
        }
    }
    out
}

fn q_arrays(g: &mut Gen, count: usize) -> Vec<Arr<i64>> {
    let rank = usize::from(u8::arbitrary(g) % 3) + 1;
    (0..count).map(|_| q_array(g, rank)).collect()
}

fn q_shrink_all(v: &[Arr<i64>]) -> Box<dyn Iterator<Item = Vec<Arr<i64>>>> {
    let mut out = Vec::new();
    for (i, a) in v.iter().enumerate() {
        for s in q_shrink(a) {
            let mut w = v.to_vec();
            w[i] = s;
            out.push(w);
        }
    }
    Box::new(out.into_iter())
}

impl Arbitrary for QPair {
    fn arbitrary(g: &mut Gen) -> Self {
        QPair(q_arrays(g, 2))
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(q_shrink_all(&self.0).map(QPair))
    }
}

#[derive(Clone, Debug)]
struct QTriple(Vec<Arr<i64>>);

impl Arbitrary for QTriple {
    fn arbitrary(g: &mut Gen) -> Self {
        QTriple(q_arrays(g, 3))
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(q_shrink_all(&self.0).map(QTriple))
    }
}

#[test]
fn quickcheck_commutative() {
    fn prop(p: QPair) -> TestResult {
        to_result(commutative(&reference(), &p.0))
    }
    qc(256).quickcheck(prop as fn(QPair) -> TestResult);
}

#[test]
fn quickcheck_associative() {
    fn prop(p: QTriple) -> TestResult {
        to_result(associative(&reference(), &p.0))
    }
    qc(256).quickcheck(prop as fn(QTriple) -> TestResult);
}

#[test]
fn quickcheck_bilinear() {
    // f1, f2 share a shape, g1, g2 share a shape: draw them from two triples' first entries.
    fn prop(p: QPair, q: QPair, a: i8, b: i8) -> TestResult {
        let (f1, g1) = (&p.0[0], &p.0[1]);
        let f2 = ArrayD::from_shape_fn(f1.0.raw_dim(), |i| {
            q.0[0].0.get(i.clone()).copied().unwrap_or(3)
        });
        let g2 = ArrayD::from_shape_fn(g1.0.raw_dim(), |i| {
            q.0[1].0.get(i.clone()).copied().unwrap_or(-2)
        });
        let case = conv_oracle::verify::signal::BilinearCase {
            f: [f1.clone(), Arr(f2)],
            g: [g1.clone(), Arr(g2)],
            ab: [i64::from(a), i64::from(b)],
        };
        to_result(bilinear(&reference(), &case))
    }
    qc(256).quickcheck(prop as fn(QPair, QPair, i8, i8) -> TestResult);
}

#[test]
fn quickcheck_delta_is_identity() {
    // The delta kernel (a single 1 of shape 1 x ... x 1) is the identity in every mode.
    fn prop(p: QPair) -> TestResult {
        let f = &p.0[0].0;
        let delta = ArrayD::from_elem(IxDyn(&vec![1; f.ndim()]), 1i64);
        for mode in [Mode::Full, Mode::Same, Mode::Valid] {
            match convolve(f.view(), delta.view(), mode) {
                Ok(y) if y == *f => {}
                other => return TestResult::error(format!("{mode:?}: {other:?}")),
            }
        }
        TestResult::passed()
    }
    qc(256).quickcheck(prop as fn(QPair) -> TestResult);
}

#[test]
fn quickcheck_convolve_is_correlate_reversed() {
    fn prop(p: QPair, m: u8) -> TestResult {
        let mode = [Mode::Full, Mode::Same, Mode::Valid][usize::from(m % 3)];
        to_result(convolve_is_correlate_reversed(&reference(), &(p.0, mode)))
    }
    qc(256).quickcheck(prop as fn(QPair, u8) -> TestResult);
}

#[test]
fn quickcheck_correlate_swap() {
    fn prop(p: QPair) -> TestResult {
        to_result(correlate_swap(&reference(), &p.0))
    }
    qc(256).quickcheck(prop as fn(QPair) -> TestResult);
}

#[test]
fn quickcheck_finds_that_correlation_does_not_commute() {
    fn prop(p: QPair) -> TestResult {
        refuted_by(Kind::Mismatch, correlation_commutes(&reference(), &p.0))
    }
    let r = qc(256).quicktest(prop as fn(QPair) -> TestResult);
    assert!(r.is_err(), "quickcheck must find a counterexample");
    assert_eq!(wrong_kinds(), Vec::<String>::new());
}

// ---------------------------------------------------------------- wrong engines

/// "Convolution" that forgets to flip: the most common bug in hand-written conv code.
fn no_flip<T: Ring>(
    f: ArrayViewD<'_, T>,
    g: ArrayViewD<'_, T>,
    m: Mode,
) -> Result<ArrayD<T>, ConvError> {
    let gc = g.map(Ring::conj);
    correlate(f, gc.view(), m)
}

/// Convolution that drops the last kernel tap along axis 0.
fn drops_last_tap<T: Ring>(
    f: ArrayViewD<'_, T>,
    g: ArrayViewD<'_, T>,
    m: Mode,
) -> Result<ArrayD<T>, ConvError> {
    let mut g = g.to_owned();
    let n = g.shape()[0];
    g.slice_axis_mut(Axis(0), Slice::from(n - 1..n))
        .fill(T::zero());
    convolve(f, g.view(), m)
}

/// Correlation that forgets to conjugate its second argument.
fn no_conj<T: Ring>(
    f: ArrayViewD<'_, T>,
    g: ArrayViewD<'_, T>,
    m: Mode,
) -> Result<ArrayD<T>, ConvError> {
    let gc = g.map(Ring::conj);
    correlate(f, gc.view(), m)
}

/// 'same' centred like correlate2d ((M-1)/2) instead of scipy.signal.convolve: shifted by
/// one for even kernels.
fn same_off_by_one<T: Ring>(
    f: ArrayViewD<'_, T>,
    g: ArrayViewD<'_, T>,
    m: Mode,
) -> Result<ArrayD<T>, ConvError> {
    if m != Mode::Same {
        return convolve(f, g, m);
    }
    let full = convolve(f.view(), g.view(), Mode::Full)?;
    let mut v = full.view();
    for axis in 0..v.ndim() {
        let start = g.shape()[axis] / 2;
        v.slice_axis_inplace(Axis(axis), Slice::from(start..start + f.shape()[axis]));
    }
    Ok(v.to_owned())
}

/// A "correlation" that is really convolution (so it commutes).
fn correlate_is_convolve<T: Ring>(
    f: ArrayViewD<'_, T>,
    g: ArrayViewD<'_, T>,
    m: Mode,
) -> Result<ArrayD<T>, ConvError> {
    convolve(f, g, m)
}

fn failing<T: conv_oracle::verify::signal::Sample>(e: SignalEngine<T>) -> Vec<&'static str> {
    conv_oracle::verify::signal::run_signal_battery(&e, 128, SEED)
        .into_iter()
        .filter(|o| !o.passed)
        .map(|o| o.property)
        .collect()
}

#[test]
fn wrong_engines_are_caught() {
    let r64 = reference::<i64>();
    let rc = reference::<C64>();
    let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "no flip",
            failing(SignalEngine {
                name: "no-flip",
                convolve: no_flip,
                ..r64
            }),
            vec![
                "commutative",
                "associative",
                "delta-shift",
                "convolve-is-correlate-reversed",
            ],
        ),
        (
            "drops last tap",
            failing(SignalEngine {
                name: "drops-last-tap",
                convolve: drops_last_tap,
                ..r64
            }),
            vec![
                "commutative",
                "delta-shift",
                "convolve-is-correlate-reversed",
            ],
        ),
        (
            "same off by one",
            failing(SignalEngine {
                name: "same-off-by-one",
                convolve: same_off_by_one,
                ..r64
            }),
            vec!["convolve-is-correlate-reversed"],
        ),
        (
            "correlate is convolve",
            failing(SignalEngine {
                name: "corr-is-conv",
                correlate: correlate_is_convolve,
                ..r64
            }),
            vec![
                "convolve-is-correlate-reversed",
                "correlation-not-commutative",
            ],
        ),
        (
            "no conjugation (complex)",
            failing(SignalEngine {
                name: "no-conj",
                correlate: no_conj,
                ..rc
            }),
            vec!["convolve-is-correlate-reversed", "correlate-swap"],
        ),
    ];
    for (what, failed, expected) in cases {
        for p in &expected {
            assert!(
                failed.contains(p),
                "{what}: expected {p} to fail, failures were {failed:?}"
            );
        }
    }
    // And the same wrong engines pass nothing they should not: the reference fails nothing.
    assert!(failing(r64).is_empty());
    assert!(failing(rc).is_empty());
}

#[test]
fn no_panic_harness_catches_a_panic() {
    // A check that panics is a failure of kind `Panicked` (with the message), not a crash.
    let r = search(conv_oracle::testing::absurd_case(), 64, SEED, |c| {
        assert!(c.input.len() < 3, "planted panic");
        Ok(())
    });
    let v = r.expect_err("the planted panic must be found");
    assert_eq!(v.kind, Kind::Panicked, "{v}");
    assert!(v.detail.contains("planted panic"), "{v}");
}

/// Promoted from a proptest regression: padding an empty axis by `usize::MAX` once overflowed
/// `lo + hi` inside `pad` (a panic in debug builds). It must be a clean error.
#[test]
fn pad_of_empty_axis_by_usize_max_is_an_error() {
    use conv_oracle::problem::boundary::pad;
    use conv_oracle::problem::{Boundary, Limits};
    let x = ArrayD::<i64>::zeros(IxDyn(&[1, 1, 0]));
    let r = pad(
        x.view(),
        &[(0, 0), (0, 0), (usize::MAX, 7)],
        &Boundary::Reflect,
        &Limits::default(),
    );
    assert_eq!(
        r,
        Err(ConvError::EmptyArray {
            what: "padded array",
            axis: 2
        })
    );
}
