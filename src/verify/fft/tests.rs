//! The FFT engine against the reference: the normwise bound of `tolerance::fft` holds on random,
//! many-decade and cancelling data (proptest and quickcheck); integers come back exact (and
//! the engine says which path it took); non-finite data gives exactly the reference's result;
//! the bound is not vacuous; deliberately wrong FFT engines fail; and the transform error
//! model the bound assumes (assumption T in `tolerance::fft`) is measured against a
//! double-double DFT.
//!
//! Case strategies, the independent bound and both checks (against the f64 reference and
//! against the exact result) live in `conv_oracle::verify::fft`, shared with `verify`.

use crate::testing::common::{SEED, cfg, qc};

use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::fft::{Blocking, Fallback, FftEngine, FftPath, Mutation, fast_len};
use conv_oracle::oracle::judge;
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::cases::{Case, Dist, FftSample, array, boundary_of, case, layout};
use conv_oracle::testing::{Kind, Violation, search};
use conv_oracle::tolerance::fft::{TWIDDLE_ERROR, TransformPrecision, distance, transform_error};
use conv_oracle::tolerance::{U32, U64};
use conv_oracle::verify::fft::{
    MUTATIONS, OVERLAP_ADD_CAP, RATIO_FLOOR, block_parts, check_against_reference, check_exact,
    exact_conv, fft_bounds, mutant_engine, reference_bounds, run_fft_battery, transform,
};
use conv_oracle::{Boundary, ConvError, ConvSpec, Flip, Padding, Problem, conv};
use ndarray::{Array1, ArrayD, Axis, Dimension, IxDyn};
use num_complex::Complex;
use proptest::prelude::*;
use quickcheck::{Arbitrary, Gen, TestResult};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

type C64 = Complex<f64>;

thread_local! {
    /// One engine per test thread (plans cached across cases; the harness runs tests in
    /// parallel).
    static ENGINE: FftEngine = FftEngine::new();
}

/// Runs `f` with this thread's engine.
fn engine<R>(f: impl FnOnce(&FftEngine) -> R) -> R {
    ENGINE.with(f)
}

// ---------------------------------------------------------------- helpers

/// The largest exact `error / bound` of one case ([`check_exact`]); an error when the engine
/// refuses it.
fn exact_ratio<T: FftSample>(engine: &FftEngine, c: &Case<T>) -> Result<f64, Violation> {
    check_exact(engine, c)?
        .map(|r| r.max_ratio)
        .ok_or_else(|| Violation::new(Kind::Refused, "the problem was refused"))
}

fn ok(r: Result<f64, Violation>) -> Result<(), TestCaseError> {
    r.map(|_| ()).map_err(TestCaseError::fail)
}

// ---------------------------------------------------------------- proptest: FFT == direct

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn fft_within_bound_f64_uniform(c in case::<f64>(Dist::Uniform, 3)) {
        ok(engine(|e| check_against_reference(e, &c)))?;
    }

    #[test]
    fn fft_within_bound_f64_decades(c in case::<f64>(Dist::Decades, 3)) {
        ok(engine(|e| check_against_reference(e, &c)))?;
    }

    #[test]
    fn fft_within_bound_f64_cancelling(c in case::<f64>(Dist::Cancelling, 3)) {
        ok(engine(|e| check_against_reference(e, &c)))?;
    }

    #[test]
    fn fft_within_bound_c64_uniform(c in case::<C64>(Dist::Uniform, 3)) {
        ok(engine(|e| check_against_reference(e, &c)))?;
    }

    #[test]
    fn fft_within_bound_c64_decades(c in case::<C64>(Dist::Decades, 3)) {
        ok(engine(|e| check_against_reference(e, &c)))?;
    }
}

// ---------------------------------------------------------------- the bound is not vacuous

/// Largest exact error ratio over a batch of cases of one distribution (rank up to 2; the
/// exact result is the reference on big integers). `bias`: keep the generated biases (a large bias makes
/// its one rounding, whose bound `u |y + b|` is nearly attained, dominate a block).
fn ratio_batch<T: FftSample>(d: Dist, cases: u32, bias: bool) -> f64 {
    let worst = Mutex::new(0f64);
    let r = search(case::<T>(d, 2), cases, SEED, |c| {
        let mut c = c.clone();
        if !bias {
            c.bias = None;
        }
        if !c.with(|p| p.validate().is_ok()) {
            return Ok(());
        }
        let ratio = engine(|e| exact_ratio(e, &c))?;
        let mut w = worst.lock().expect("lock");
        *w = w.max(ratio);
        Ok(())
    });
    assert!(r.is_ok(), "{d:?}: {r:?}");
    worst.into_inner().expect("lock")
}

#[test]
fn bound_is_not_vacuous() {
    let rows = [
        ("f64 uniform", ratio_batch::<f64>(Dist::Uniform, 96, false)),
        ("f64 decades", ratio_batch::<f64>(Dist::Decades, 64, false)),
        (
            "f64 cancelling",
            ratio_batch::<f64>(Dist::Cancelling, 64, false),
        ),
        ("c64 uniform", ratio_batch::<C64>(Dist::Uniform, 64, false)),
        (
            "f64 uniform, with bias",
            ratio_batch::<f64>(Dist::Uniform, 64, true),
        ),
        (
            "f64 decades, with bias",
            ratio_batch::<f64>(Dist::Decades, 64, true),
        ),
    ];
    for (name, r) in rows {
        println!("max ||fft - exact||_2 / bound, {name}: {r:.3e}");
        assert!(r <= 1.0);
    }
    // The floor applies to the FFT part alone (no bias).
    let best = rows[..4].iter().map(|r| r.1).fold(0.0, f64::max);
    assert!(
        best >= RATIO_FLOOR,
        "largest ratio {best:e} below {RATIO_FLOOR:e}"
    );
    // Larger problems: the ratio falls with log2 N and with sqrt(taps) (||w||_1 vs ||w||_2).
    let uniform = |shape: &[usize], seed: u64| {
        let mut state = seed;
        ArrayD::from_shape_simple_fn(IxDyn(shape), || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
    };
    for (x, w) in [([1, 1, 2000], [1, 1, 31]), ([1, 1, 40], [1, 1, 5])] {
        let c = Case {
            input: Arr(uniform(&x, 1)),
            weight: Arr(uniform(&w, 2)),
            bias: None,
            spec: ConvSpec::new().padding(Padding::Full),
        };
        let r = engine(|e| exact_ratio(e, &c)).expect("within the bound");
        println!("ratio, input {x:?} kernel {w:?} (full): {r:.3e}");
    }
    let c = Case {
        input: Arr(uniform(&[1, 2, 40, 40], 3)),
        weight: Arr(uniform(&[2, 2, 5, 5], 4)),
        bias: None,
        spec: ConvSpec::new().padding(Padding::SameUpper),
    };
    let r = engine(|e| exact_ratio(e, &c)).expect("within the bound");
    println!("ratio, input [1, 2, 40, 40] kernel [2, 2, 5, 5] (same): {r:.3e}");
}

// ---------------------------------------------------------------- integers

fn int_case(max_abs: i64, max_rank: usize) -> impl Strategy<Value = Case<i64>> {
    layout(max_rank).prop_flat_map(move |l| {
        let v = || (-max_abs..=max_abs).boxed();
        (
            array(l.input_shape(), v()),
            array(l.weight_shape(), v()),
            proptest::collection::vec(v(), l.groups * l.og),
            v(),
            Just(l),
        )
            .prop_map(|(input, weight, bias, constant, l)| Case {
                input,
                weight,
                bias: l.bias.then_some(bias),
                spec: l.spec(constant),
            })
    })
}

/// Integer problems with values `+-2^e`, `e` up to `max_bits`: some take the FFT path, some
/// the reference.
fn wide_int_case(max_bits: u32) -> impl Strategy<Value = Case<i64>> {
    (int_case(1, 2), 0..=max_bits, 0..=max_bits).prop_map(|(c, bx, bw)| {
        let scale = |bits: u32| move |v: i64| v * (1i64 << bits) + v.signum() * 3;
        let mut d = c.map(scale(bx));
        d.weight = Arr(c.weight.0.mapv(scale(bw)));
        d
    })
}

/// Result equals the reference exactly, and the engine's recorded path matches its plan.
fn check_integer(c: &Case<i64>) -> Result<Option<FftPath>, Violation> {
    engine(|e| check_integer_with(e, c))
}

fn check_integer_with(engine: &FftEngine, c: &Case<i64>) -> Result<Option<FftPath>, Violation> {
    c.with(|p| {
        let taken = engine.conv_with_path(p);
        let want = conv(p);
        let (got, last) = match taken {
            Ok((y, path)) => (Ok(y), Some(path)),
            Err(e) => (Err(e), None),
        };
        match (&got, &want) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(a), Err(b)) if a == b => return Ok(None),
            _ => {
                return Err(Violation::mismatch(format!(
                    "engine {got:?} vs reference {want:?}"
                )));
            }
        }
        let plan = engine.plan(p).map_err(|e| Violation::refused(&e))?;
        if last.as_ref() != Some(&plan.path) {
            return Err(Violation::mismatch(format!(
                "plan {plan} but took {last:?}"
            )));
        }
        if let (FftPath::Fft { .. }, Some(b)) = (&plan.path, plan.max_integer_bound)
            && b >= 0.5
        {
            return Err(Violation::bound(format!("FFT path with bound {b}")));
        }
        Ok(Some(plan.path))
    })
}

proptest! {
    #![proptest_config(cfg(256))]

    /// Small integers: always the FFT path, always exact.
    #[test]
    fn integers_small_take_fft_and_are_exact(c in int_case(1000, 3)) {
        let path = check_integer(&c).map_err(TestCaseError::fail)?;
        if let Some(path) = path {
            prop_assert!(matches!(path, FftPath::Fft { .. }), "{path}");
        }
    }
}

#[test]
fn integers_wide_are_exact_on_both_paths() {
    let fft = AtomicUsize::new(0);
    let bound = AtomicUsize::new(0);
    let range = AtomicUsize::new(0);
    let r = search(wide_int_case(60), 256, SEED, |c| {
        match check_integer(c)? {
            Some(FftPath::Fft { .. }) => fft.fetch_add(1, Ordering::Relaxed),
            Some(FftPath::Reference(Fallback::IntegerBound)) => {
                bound.fetch_add(1, Ordering::Relaxed)
            }
            Some(FftPath::Reference(Fallback::IntegerRange)) => {
                range.fetch_add(1, Ordering::Relaxed)
            }
            Some(other) => {
                return Err(Violation::mismatch(format!("unexpected path {other}")));
            }
            None => 0,
        };
        Ok(())
    });
    assert!(r.is_ok(), "{r:?}");
    let (f, b, g) = (fft.into_inner(), bound.into_inner(), range.into_inner());
    println!(
        "wide integers: {f} via FFT, {b} via reference (bound >= 0.5), {g} via reference (beyond 2^53)"
    );
    assert!(f >= 20 && b >= 20 && g >= 20, "{f} {b} {g}");
}

#[test]
fn integer_paths_explicit() {
    let eng = FftEngine::new();
    // FFT path: 1-D, values up to 1000, exact.
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 1, 50]), |i| (i[2] as i64 * 37 % 2001) - 1000);
    let w = ArrayD::from_shape_fn(IxDyn(&[1, 1, 7]), |i| (i[2] as i64 * 91 % 2001) - 1000);
    let p = Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
    let plan = eng.plan(&p).unwrap();
    assert!(matches!(plan.path, FftPath::Fft { .. }), "{plan}");
    assert!(plan.max_integer_bound.unwrap() < 1e-3, "{plan}");
    let (y, path) = eng.conv_with_path(&p).unwrap();
    assert_eq!(y, conv(&p).unwrap());
    assert_eq!(path, plan.path);
    // The same shape scaled to 2^38 * 2^12: exact values stay below 2^53 but the bound does
    // not prove exact rounding, so the reference is used.
    let xs = x.mapv(|v| v << 28);
    let ws = w.mapv(|v| v << 2);
    let p = Problem::new(xs.view(), ws.view()).spec(ConvSpec::new().padding(Padding::Full));
    let plan = eng.plan(&p).unwrap();
    assert_eq!(
        plan.path,
        FftPath::Reference(Fallback::IntegerBound),
        "{plan}"
    );
    let (y, path) = eng.conv_with_path(&p).unwrap();
    assert_eq!(y, conv(&p).unwrap());
    assert_eq!(path, FftPath::Reference(Fallback::IntegerBound));
    // Beyond 2^53: the reference (its wrapping arithmetic included).
    let xb = x.mapv(|v| v.wrapping_mul(1 << 55));
    let p = Problem::new(xb.view(), w.view());
    assert_eq!(
        eng.plan(&p).unwrap().path,
        FftPath::Reference(Fallback::IntegerRange)
    );
    assert_eq!(eng.conv(&p).unwrap(), conv(&p).unwrap());
    println!(
        "integer plans: {}",
        eng.plan(&Problem::new(x.view(), w.view())).unwrap()
    );
}

// ---------------------------------------------------------------- non-finite data

/// A float case with one NaN or infinity placed in the input, weight, bias or boundary.
fn nonfinite_case() -> impl Strategy<Value = (Case<f64>, u8, usize, u8)> {
    (
        case::<f64>(Dist::Uniform, 3),
        0u8..4,
        any::<usize>(),
        0u8..3,
    )
}

fn poison((c, place, at, kind): &(Case<f64>, u8, usize, u8)) -> Case<f64> {
    let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][usize::from(*kind)];
    let mut c = c.clone();
    match place {
        0 => {
            let n = c.input.0.len();
            if let Some(v) = c.input.0.iter_mut().nth(at % n) {
                *v = bad;
            }
        }
        1 => {
            let n = c.weight.0.len();
            if let Some(v) = c.weight.0.iter_mut().nth(at % n) {
                *v = bad;
            }
        }
        2 => {
            let o = c.weight.0.shape()[0];
            let mut b = c.bias.unwrap_or_else(|| vec![0.5; o]);
            b[at % o] = bad;
            c.bias = Some(b);
        }
        _ => c.spec.boundary = Boundary::Constant(bad),
    }
    c
}

fn same_bits(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn nonfinite_gives_the_reference(input in nonfinite_case()) {
        let c = poison(&input);
        let eng = FftEngine::new();
        c.with(|p| -> Result<(), TestCaseError> {
            match (eng.conv_with_path(p), conv(p)) {
                (Ok((a, path)), Ok(b)) => {
                    prop_assert!(same_bits(&a, &b), "{:?} vs {:?}", Arr(a), Arr(b));
                    prop_assert_eq!(path, FftPath::Reference(Fallback::NonFinite));
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
            }
            Ok(())
        })?;
    }
}

#[test]
fn overflow_in_the_result_gives_the_reference() {
    let eng = FftEngine::new();
    // Finite data whose convolution overflows: the scaled transforms are finite, scaling back
    // is not, and the engine recomputes with the reference.
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 6]), 1e200);
    let w = ArrayD::from_elem(IxDyn(&[1, 1, 3]), 1e200);
    let p = Problem::new(x.view(), w.view());
    let (y, path) = eng.conv_with_path(&p).unwrap();
    assert!(same_bits(&y, &conv(&p).unwrap()));
    assert_eq!(path, FftPath::Reference(Fallback::NonFiniteResult));
    // Large but representable: the FFT path, within the bound (the scaling keeps the spectra
    // finite where unscaled transforms would overflow).
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 1, 6]), |i| 1e300 * (i[2] as f64 - 2.5));
    let w = ArrayD::from_elem(IxDyn(&[1, 1, 3]), 1e-300);
    let c = Case {
        input: Arr(x),
        weight: Arr(w),
        bias: None,
        spec: ConvSpec::new(),
    };
    check_against_reference(&eng, &c).unwrap();
    let (_, path) = c.with(|p| eng.conv_with_path(p)).unwrap();
    assert!(matches!(path, FftPath::Fft { .. }));
}

// ---------------------------------------------------------------- errors and shapes

#[test]
fn same_errors_as_the_reference() {
    let eng = FftEngine::new();
    let x = ArrayD::from_elem(IxDyn(&[1, 2, 4]), 1.0f64);
    let w = ArrayD::from_elem(IxDyn(&[2, 1, 6]), 1.0f64);
    let too_large = Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(2));
    let err = eng.conv(&too_large).unwrap_err();
    assert_eq!(err, conv(&too_large).unwrap_err());
    assert!(matches!(err, ConvError::KernelTooLarge { .. }));
    let bad_groups = Problem::new(x.view(), w.view()).spec(ConvSpec::new().groups(3));
    assert_eq!(
        eng.conv(&bad_groups).unwrap_err(),
        conv(&bad_groups).unwrap_err()
    );
    // A huge dilation the geometry accepts (the padding makes room): the transform would
    // need 2^62 + 1 points, so the engine computes the reference (no overflow, no panic).
    let x1 = ArrayD::from_elem(IxDyn(&[1, 1, 1]), 3.0f64);
    let w1 = ArrayD::from_elem(IxDyn(&[1, 1, 2]), 0.5f64);
    let spec = ConvSpec::new()
        .dilation([1 << 62])
        .padding(Padding::Explicit(vec![(1 << 62, 0)]));
    let p1 = Problem::new(x1.view(), w1.view()).spec(spec);
    let (y, path) = eng.conv_with_path(&p1).unwrap();
    assert_eq!(y, conv(&p1).unwrap());
    assert_eq!(path, FftPath::Reference(Fallback::Memory));
    // No spatial axis: a channel mix, done by the reference.
    let x0 = ArrayD::from_elem(IxDyn(&[2, 3]), 2.0f64);
    let w0 = ArrayD::from_elem(IxDyn(&[4, 3]), 0.5f64);
    let p0 = Problem::new(x0.view(), w0.view());
    let (y, path) = eng.conv_with_path(&p0).unwrap();
    assert_eq!(y, conv(&p0).unwrap());
    assert_eq!(path, FftPath::Reference(Fallback::NoSpatialAxes));
}

#[test]
fn plans_are_printable_values() {
    let eng = FftEngine::new();
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 30, 7]), 1.0f64);
    let w = ArrayD::from_elem(IxDyn(&[1, 1, 5, 3]), 1.0f64);
    let p = Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
    // Full: 30 + 5 - 1 = 34 -> 36; 7 + 3 - 1 = 9 -> even 2 * fast(5) = 12 on the real axis.
    assert_eq!(
        eng.plan(&p).unwrap().to_string(),
        "fft (real) lengths [36, 12]"
    );
    let xc = x.mapv(|v| Complex::new(v, 0.0));
    let wc = w.mapv(|v| Complex::new(v, 0.0));
    let p = Problem::new(xc.view(), wc.view());
    // Valid: only the signal length is needed: 30 -> 32, 7 -> 8.
    assert_eq!(
        eng.plan(&p).unwrap().to_string(),
        "fft (complex) lengths [32, 8]"
    );
    assert_eq!(fast_len(34), 36);
}

// ---------------------------------------------------------------- f32 and Complex<f32>

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn f32_within_its_bound(c in case::<f64>(Dist::Uniform, 2)) {
        // Round the data to f32; the f32 result is checked against the f64 reference of the
        // same (widened) data, with the bound that includes the final rounding to f32.
        let eng = FftEngine::new();
        let c32 = c.map(|v| v as f32);
        let c64 = c32.map(f64::from);
        let r = c32.with(|p| -> Result<(), Violation> {
            let got = eng.conv(p);
            let want = c64.with(conv);
            let (got, want) = match (got, want) {
                (Ok(g), Ok(w)) => (g, w),
                (Err(a), Err(b)) if a == b => return Ok(()),
                (a, b) => return Err(Violation::acceptance(&a, &b)),
            };
            let t = transform(&eng, p).ok_or_else(|| Violation::hypothesis("reference path"))?;
            let fft = c64.with(|q| fft_bounds(q, t, Some(U32)))?;
            let refb = c64.with(reference_bounds)?;
            let own = eng.error_bounds(p).map_err(|e| Violation::refused(&e))?;
            for n in 0..got.shape()[0] {
                for o in 0..got.shape()[1] {
                    let g: Vec<f64> = got
                        .index_axis(Axis(0), n)
                        .index_axis(Axis(0), o)
                        .iter()
                        .flat_map(|&v| [f64::from(v), 0.0])
                        .collect();
                    let err = distance(&g, &block_parts(&want, n, o));
                    let b = fft[[n, o]] + refb[[n, o]];
                    if err > b || (own[[n, o]] - fft[[n, o]]).abs() > 1e-9 * fft[[n, o]] {
                        return Err(Violation::bound(format!(
                            "block ({n}, {o}): error {err:e}, bound {b:e}, engine {:e}",
                            own[[n, o]]
                        )));
                    }
                }
            }
            Ok(())
        });
        r.map_err(TestCaseError::fail)?;
    }
}

#[test]
fn complex_f32_matches_widened_computation() {
    let eng = FftEngine::new();
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 5, 4]), |i| {
        Complex::new((i[2] as f32 - 2.0) * 0.25, i[3] as f32 * 0.5 - i[1] as f32)
    });
    let w = ArrayD::from_shape_fn(IxDyn(&[3, 2, 2, 3]), |i| {
        Complex::new(i[0] as f32 - 1.0, (i[2] + i[3]) as f32 * 0.125)
    });
    let spec = ConvSpec::new()
        .padding(Padding::SameUpper)
        .boundary(Boundary::Reflect);
    let p = Problem::new(x.view(), w.view()).spec(spec.clone());
    let (got, path) = eng.conv_with_path(&p).unwrap();
    let xw = x.mapv(|z| Complex::new(f64::from(z.re), f64::from(z.im)));
    let ww = w.mapv(|z| Complex::new(f64::from(z.re), f64::from(z.im)));
    let spec64 = ConvSpec::new()
        .padding(Padding::SameUpper)
        .boundary(Boundary::Reflect);
    let want = conv(&Problem::new(xw.view(), ww.view()).spec(spec64)).unwrap();
    // Per element within the engine's own normwise bound for Complex<f32> (which includes
    // the final rounding to f32); the reference's f64 error on this dyadic data is zero.
    let bounds = eng.error_bounds(&p).unwrap();
    for ((idx, a), b) in got.indexed_iter().zip(want.iter()) {
        let err = (Complex::new(f64::from(a.re), f64::from(a.im)) - b).norm();
        assert!(err <= bounds[[idx[0], idx[1]]], "{err:e} at {idx:?}");
    }
    assert!(matches!(path, FftPath::Fft { real: false, .. }));
}

// ---------------------------------------------------------------- wrong engines fail

/// The counterexample the property finds for a wrong engine: its bound is exceeded.
fn refuted(m: Mutation) -> Violation {
    let engine = mutant_engine(m);
    let r = search(case::<f64>(Dist::Uniform, 3), 256, SEED, |c| {
        check_against_reference(&engine, c).map(|_| ())
    });
    match r {
        Err(v) => {
            assert_eq!(
                v.kind,
                Kind::BoundExceeded,
                "{m:?}: refuted for another reason: {v}"
            );
            v
        }
        Ok(()) => panic!("{m:?}: the property found no counterexample"),
    }
}

#[test]
fn wrong_engines_fail_the_property() {
    for m in MUTATIONS {
        let e = refuted(m);
        let first = e.detail.lines().next().unwrap_or_default();
        println!("{m:?} refuted: {first}");
    }
}

// ---------------------------------------------------------------- the verify rows

/// The exact result the `verify` rows compare with (the reference on scaled big integers) is
/// the reference on rationals, element for element: f64 and complex, every distribution, bias
/// and constant boundaries included.
#[test]
fn exact_result_is_the_rational_reference() {
    fn agree<T: FftSample>(d: Dist) -> Result<(), Violation> {
        search(case::<T>(d, 2), 48, SEED, |c| {
            let rational = c
                .map(|v| v.exact().expect("the generated data is finite"))
                .with(conv);
            match (exact_conv(c), rational) {
                (Ok(e), Ok(r)) => {
                    let got = e.rational_parts::<T>();
                    let want: Vec<_> = r.iter().map(T::exact_parts).collect();
                    if e.mantissa.shape() != r.shape() || got != want {
                        return Err(Violation::mismatch(format!(
                            "scaled {got:?} vs rational {want:?}"
                        )));
                    }
                    Ok(())
                }
                (Err(a), Err(b)) if a == b => Ok(()),
                (a, b) => Err(Violation::acceptance(&a, &b)),
            }
        })
    }
    for d in Dist::ALL {
        agree::<f64>(d).unwrap();
        agree::<C64>(d).unwrap();
    }
    // A hand case: 0.5 * [0.25, 3] + 2^-60 bias, exact value 0.125 + 2^-60 and 1.5 + 2^-60.
    let c = Case {
        input: Arr(ndarray::arr3(&[[[0.25, 3.0]]]).into_dyn()),
        weight: Arr(ndarray::arr3(&[[[0.5]]]).into_dyn()),
        bias: Some(vec![2f64.powi(-60)]),
        spec: ConvSpec::new(),
    };
    let e = exact_conv(&c).unwrap();
    assert_eq!(e.exponent, -60);
    let m: Vec<i64> = e
        .mantissa
        .iter()
        .map(|v| i64::try_from(v).unwrap())
        .collect();
    assert_eq!(m, [(1 << 57) + 1, 3 * (1 << 59) + 1]);
}

/// The FFT rows `verify` runs pass, cover every distribution on both element types, the
/// realistic sizes and every wrong engine, and report the largest ratio.
#[test]
fn verify_rows_pass_and_cover_the_property() {
    let rows = run_fft_battery(64, SEED);
    let mut seen: Vec<(&str, &str)> = rows
        .iter()
        .map(|o| (o.property, o.engine.as_str()))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("fft-mutant-breaks-bound", "fft-crop-off-by-one/f64"),
            ("fft-mutant-breaks-bound", "fft-no-normalisation/f64"),
            ("fft-mutant-breaks-bound", "fft-short-transform/f64"),
            ("fft-mutant-breaks-bound", "overlap-add-overwrite/f64"),
            ("fft-within-bound-cancelling", "fft/c64"),
            ("fft-within-bound-cancelling", "fft/f64"),
            ("fft-within-bound-cancelling", "overlap-add-capped/f64"),
            ("fft-within-bound-decades", "fft/c64"),
            ("fft-within-bound-decades", "fft/f64"),
            ("fft-within-bound-decades", "overlap-add-capped/c64"),
            ("fft-within-bound-decades", "overlap-add-capped/f64"),
            ("fft-within-bound-large", "fft/f64"),
            ("fft-within-bound-large", "overlap-add-capped/f64"),
            ("fft-within-bound-uniform", "fft/c64"),
            ("fft-within-bound-uniform", "fft/f64"),
            ("fft-within-bound-uniform", "overlap-add-capped/f64"),
        ]
    );
    for o in &rows {
        assert!(o.passed, "{} ({}): {}", o.property, o.engine, o.detail);
        assert!(o.cases > 0);
        let expected = if o.property == "fft-mutant-breaks-bound" {
            "refuted as expected"
        } else {
            "max ||fft - exact||_2 / bound"
        };
        assert!(o.detail.starts_with(expected), "{}", o.detail);
        println!(
            "{} ({}): {}",
            o.property,
            o.engine,
            o.detail.lines().next().unwrap_or("")
        );
    }
}

// ---------------------------------------------------------------- quickcheck

/// A small random problem drawn by quickcheck: rank 1 or 2, values `k / 1024`.
#[derive(Clone, Debug)]
struct QCase(Case<f64>);

impl Arbitrary for QCase {
    fn arbitrary(g: &mut Gen) -> Self {
        let small = |g: &mut Gen, m: u8| usize::from(u8::arbitrary(g) % m) + 1;
        let rank = small(g, 2);
        let groups = small(g, 2);
        let (cg, og, batch) = (small(g, 2), small(g, 2), small(g, 2));
        let input: Vec<usize> = (0..rank).map(|_| small(g, 9)).collect();
        let kernel: Vec<usize> = (0..rank).map(|_| small(g, 4)).collect();
        let value = |g: &mut Gen| f64::from(i32::arbitrary(g) % (1 << 20)) / 1024.0;
        let mut shape_in = vec![batch, groups * cg];
        shape_in.extend(&input);
        let mut shape_w = vec![groups * og, cg];
        shape_w.extend(&kernel);
        let x = ArrayD::from_shape_simple_fn(IxDyn(&shape_in), || value(g));
        let w = ArrayD::from_shape_simple_fn(IxDyn(&shape_w), || value(g));
        let bias = bool::arbitrary(g).then(|| (0..groups * og).map(|_| value(g)).collect());
        let padding = match u8::arbitrary(g) % 4 {
            0 => Padding::Valid,
            1 => Padding::Full,
            2 => Padding::SameLower,
            _ => Padding::Explicit(
                (0..rank)
                    .map(|_| (small(g, 3) - 1, small(g, 3) - 1))
                    .collect(),
            ),
        };
        let constant = value(g);
        let spec = ConvSpec::new()
            .stride((0..rank).map(|_| small(g, 2)).collect::<Vec<_>>())
            .dilation((0..rank).map(|_| small(g, 2)).collect::<Vec<_>>())
            .padding(padding)
            .boundary(boundary_of(u8::arbitrary(g) % 6, constant))
            .groups(groups)
            .flip(if bool::arbitrary(g) {
                Flip::Convolution
            } else {
                Flip::Correlation
            });
        QCase(Case {
            input: Arr(x),
            weight: Arr(w),
            bias,
            spec,
        })
    }
}

#[test]
fn quickcheck_fft_within_bound() {
    fn prop(c: QCase) -> TestResult {
        match engine(|e| check_against_reference(e, &c.0)) {
            Ok(_) => TestResult::passed(),
            Err(e) => TestResult::error(e),
        }
    }
    qc(256).quickcheck(prop as fn(QCase) -> TestResult);
}

/// The same property on overlap-add with transforms capped at 8 points per axis, so that the
/// longer quickcheck signals are split into blocks (at least some must be).
#[test]
fn quickcheck_overlap_add_within_bound() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SPLIT: AtomicUsize = AtomicUsize::new(0);
    fn prop(c: QCase) -> TestResult {
        let e = FftEngine::new().blocking(Blocking::Capped(OVERLAP_ADD_CAP));
        match check_against_reference(&e, &c.0) {
            Ok(_) => {
                if c.0
                    .with(|p| e.plan(p))
                    .is_ok_and(|p| p.path.is_overlap_add())
                {
                    SPLIT.fetch_add(1, Ordering::Relaxed);
                }
                TestResult::passed()
            }
            Err(e) => TestResult::error(e),
        }
    }
    qc(256).quickcheck(prop as fn(QCase) -> TestResult);
    assert!(
        SPLIT.load(Ordering::Relaxed) > 0,
        "no case was split into blocks"
    );
}

#[test]
fn quickcheck_integers_exact() {
    fn prop(c: QCase) -> TestResult {
        // The same problems on integers (values times 1024 are integers below 2^20).
        let ci = c.0.map(|v| (v * 1024.0) as i64);
        match check_integer(&ci) {
            Ok(_) => TestResult::passed(),
            Err(e) => TestResult::error(e.to_string()),
        }
    }
    qc(256).quickcheck(prop as fn(QCase) -> TestResult);
}

#[test]
fn quickcheck_wrong_engine_fails() {
    fn prop(c: QCase) -> TestResult {
        let engine = FftEngine::with_mutation(Mutation::CropOffByOne);
        match check_against_reference(&engine, &c.0) {
            Ok(_) => TestResult::passed(),
            Err(e) if e.kind == Kind::BoundExceeded => TestResult::error(e.to_string()),
            Err(e) => {
                OTHER.with(|o| o.borrow_mut().push(e));
                TestResult::passed()
            }
        }
    }
    thread_local! {
        /// Failures of another kind than the bound (quickcheck would count a panic as a
        /// refutation, so they are collected and checked after the run).
        static OTHER: std::cell::RefCell<Vec<Violation>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    assert!(qc(256).quicktest(prop as fn(QCase) -> TestResult).is_err());
    OTHER.with(|o| {
        assert!(
            o.borrow().is_empty(),
            "refuted for other reasons: {:?}",
            o.borrow()
        )
    });
}

// ---------------------------------------------------------------- assumption T, measured

/// Double-double arithmetic (about 106 bits), enough to measure f64 transform errors.
#[derive(Clone, Copy, Debug, Default)]
struct Dd(f64, f64);

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd(s, (a - (s - bb)) + (b - bb))
}

fn quick(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd(s, b - (s - a))
}

impl Dd {
    fn from(v: f64) -> Dd {
        Dd(v, 0.0)
    }
    fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.0, o.0);
        let t = two_sum(self.1, o.1);
        let s = quick(s.0, s.1 + t.0);
        quick(s.0, s.1 + t.1)
    }
    fn neg(self) -> Dd {
        Dd(-self.0, -self.1)
    }
    fn mul(self, o: Dd) -> Dd {
        let p = self.0 * o.0;
        let e = self.0.mul_add(o.0, -p) + (self.0 * o.1 + self.1 * o.0);
        quick(p, e)
    }
    fn mul_f(self, b: f64) -> Dd {
        self.mul(Dd::from(b))
    }
    fn div_f(self, b: f64) -> Dd {
        let q1 = self.0 / b;
        let r = self.add(Dd::from(q1).mul_f(b).neg());
        let q2 = r.0 / b;
        let r = r.add(Dd::from(q2).mul_f(b).neg());
        quick(q1, q2).add(Dd::from(r.0 / b))
    }
    fn to_f64(self) -> f64 {
        self.0 + self.1
    }
}

/// `exp(-2 pi i k / n)` in double-double: exact octant reduction in integers, then Taylor
/// series on `[0, pi/2)`.
fn twiddle_dd(k: usize, n: usize) -> (Dd, Dd) {
    const HALF_PI: Dd = Dd(std::f64::consts::FRAC_PI_2, 6.123_233_995_736_766e-17);
    let r = (k % n) as u128;
    let q = (4 * r) / n as u128;
    let rest = 4 * r - q * n as u128;
    let phi = HALF_PI.mul_f(rest as f64).div_f(n as f64);
    let x2 = phi.mul(phi);
    let (mut s, mut c) = (phi, Dd::from(1.0));
    let (mut ts, mut tc) = (phi, Dd::from(1.0));
    for k in 1..40 {
        let k = k as f64;
        ts = ts.mul(x2).div_f((2.0 * k) * (2.0 * k + 1.0)).neg();
        tc = tc.mul(x2).div_f((2.0 * k - 1.0) * (2.0 * k)).neg();
        s = s.add(ts);
        c = c.add(tc);
    }
    // angle = q pi/2 + phi; the forward twiddle is exp(-i angle) = (cos, -sin).
    let (cos, sin) = match q {
        0 => (c, s),
        1 => (s.neg(), c),
        2 => (c.neg(), s.neg()),
        _ => (s, c.neg()),
    };
    (cos, sin.neg())
}

/// `sum_j x_j exp(sign 2 pi i j k / n)` in double-double, for the given output bins.
fn dft_dd(x: &[C64], inverse: bool, bins: usize) -> Vec<(Dd, Dd)> {
    let n = x.len();
    let table: Vec<(Dd, Dd)> = (0..n)
        .map(|k| {
            let (c, s) = twiddle_dd(k, n);
            if inverse { (c, s.neg()) } else { (c, s) }
        })
        .collect();
    (0..bins)
        .map(|k| {
            let (mut re, mut im) = (Dd::default(), Dd::default());
            for (j, v) in x.iter().enumerate() {
                let (c, s) = table[(j * k) % n];
                re = re.add(c.mul_f(v.re)).add(s.mul_f(v.im).neg());
                im = im.add(s.mul_f(v.re)).add(c.mul_f(v.im));
            }
            (re, im)
        })
        .collect()
}

fn err_vs(got: &[C64], exact: &[(Dd, Dd)]) -> Vec<f64> {
    got.iter()
        .zip(exact)
        .map(|(g, (re, im))| {
            let dr = Dd::from(g.re).add(re.neg()).to_f64();
            let di = Dd::from(g.im).add(im.neg()).to_f64();
            dr.hypot(di)
        })
        .collect()
}

fn l2(v: &[f64]) -> f64 {
    v.iter().map(|e| e * e).sum::<f64>().sqrt()
}

/// Three test vectors of length `n`: uniform, unit magnitudes with random phases' signs,
/// and twelve decades mixed.
fn vectors(n: usize, seed: u64) -> Vec<Vec<C64>> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::new();
    out.push(
        (0..n)
            .map(|_| Complex::new(2.0 * next() - 1.0, 2.0 * next() - 1.0))
            .collect(),
    );
    out.push(
        (0..n)
            .map(|_| {
                let s = |v: f64| if v < 0.5 { -1.0 } else { 1.0 };
                Complex::new(s(next()), s(next()))
            })
            .collect(),
    );
    out.push(
        (0..n)
            .map(|_| {
                Complex::new(
                    10f64.powf(12.0 * next() - 6.0) * (2.0 * next() - 1.0).signum(),
                    10f64.powf(12.0 * next() - 6.0) * (2.0 * next() - 1.0).signum(),
                )
            })
            .collect(),
    );
    out
}

/// Assumption (T) of `tolerance::fft`: for every 3-smooth length up to 1296 (and c2c forward at
/// 2048, 2304, 3456, 4096), rustfft's c2c
/// (forward and inverse) and realfft's r2c / c2r (even lengths) are within `phi_n` of the
/// exact transform, normwise (`phi_n sqrt(n) ||x||`, half spectra in the h-norm) and, for the
/// forward transforms the bound uses componentwise, per bin (`phi_n ||x||_1`). Measured with a
/// double-double DFT; prints the largest ratios.
#[test]
fn transform_error_model() {
    use realfft::RealFftPlanner;
    use rustfft::FftPlanner;
    let mut planner = FftPlanner::<f64>::new();
    let mut real = RealFftPlanner::<f64>::new();
    let lengths: Vec<usize> = (1..=1296).filter(|&n| fast_len(n) == n).collect();
    let mut worst = [0f64; 6];
    let names = [
        "c2c forward, normwise",
        "c2c forward, per bin",
        "c2c inverse, normwise",
        "r2c, normwise (h-norm)",
        "r2c, per bin",
        "c2r, normwise",
    ];
    for &n in &lengths {
        let phi = transform_error(n as f64);
        for (vi, x) in vectors(n, n as u64).into_iter().enumerate() {
            let x_l2 = l2(&x.iter().map(|z| z.norm()).collect::<Vec<_>>());
            let x_l1: f64 = x.iter().map(|z| z.norm()).sum();
            // c2c forward and inverse.
            for inverse in [false, true] {
                let mut buf = x.clone();
                let fft = if inverse {
                    planner.plan_fft_inverse(n)
                } else {
                    planner.plan_fft_forward(n)
                };
                fft.process(&mut buf);
                let e = err_vs(&buf, &dft_dd(&x, inverse, n));
                let norm = l2(&e) / (phi * (n as f64).sqrt() * x_l2);
                let slot = if inverse { 2 } else { 0 };
                worst[slot] = worst[slot].max(norm);
                if !inverse {
                    let per_bin = e.iter().fold(0f64, |m, &v| m.max(v)) / (phi * x_l1);
                    worst[1] = worst[1].max(per_bin);
                }
            }
            if n % 2 == 1 || vi == 2 && n > 648 {
                continue;
            }
            // r2c of the real parts.
            let xr: Vec<f64> = x.iter().map(|z| z.re).collect();
            let xc: Vec<C64> = xr.iter().map(|&v| Complex::new(v, 0.0)).collect();
            let r2c = real.plan_fft_forward(n);
            let mut input = xr.clone();
            let mut spec = r2c.make_output_vec();
            r2c.process(&mut input, &mut spec).expect("r2c");
            let e = err_vs(&spec, &dft_dd(&xc, false, n / 2 + 1));
            let h = |v: &[f64]| {
                v.iter()
                    .enumerate()
                    .map(|(k, e)| {
                        if k == 0 || k == n / 2 {
                            e * e
                        } else {
                            2.0 * e * e
                        }
                    })
                    .sum::<f64>()
                    .sqrt()
            };
            let xr_l2 = l2(&xr);
            let xr_l1: f64 = xr.iter().map(|v| v.abs()).sum();
            worst[3] = worst[3].max(h(&e) / (phi * (n as f64).sqrt() * xr_l2));
            worst[4] = worst[4].max(e.iter().fold(0f64, |m, &v| m.max(v)) / (phi * xr_l1));
            // c2r of a half spectrum (the first n/2 + 1 values, DC and Nyquist made real).
            let mut half: Vec<C64> = x[..n / 2 + 1].to_vec();
            half[0].im = 0.0;
            half[n / 2].im = 0.0;
            let full: Vec<C64> = (0..n)
                .map(|k| {
                    if k <= n / 2 {
                        half[k]
                    } else {
                        half[n - k].conj()
                    }
                })
                .collect();
            let c2r = real.plan_fft_inverse(n);
            let mut input = half.clone();
            let mut out = c2r.make_output_vec();
            c2r.process(&mut input, &mut out).expect("c2r");
            let outc: Vec<C64> = out.iter().map(|&v| Complex::new(v, 0.0)).collect();
            let e = err_vs(&outc, &dft_dd(&full, true, n));
            let v_h = l2(&full.iter().map(|z| z.norm()).collect::<Vec<_>>());
            worst[5] = worst[5].max(l2(&e) / (phi * (n as f64).sqrt() * v_h));
        }
    }
    // A few longer lengths, c2c forward only (the double-double DFT is quadratic).
    for n in [2048, 2304, 3456, 4096] {
        let phi = transform_error(n as f64);
        let x = vectors(n, n as u64).swap_remove(0);
        let x_l2 = l2(&x.iter().map(|z| z.norm()).collect::<Vec<_>>());
        let x_l1: f64 = x.iter().map(|z| z.norm()).sum();
        let mut buf = x.clone();
        planner.plan_fft_forward(n).process(&mut buf);
        let e = err_vs(&buf, &dft_dd(&x, false, n));
        worst[0] = worst[0].max(l2(&e) / (phi * (n as f64).sqrt() * x_l2));
        worst[1] = worst[1].max(e.iter().fold(0f64, |m, &v| m.max(v)) / (phi * x_l1));
    }
    for (name, w) in names.iter().zip(worst) {
        println!("transform error / phi_n, {name}: {w:.3e}");
        assert!(w <= 1.0, "{name}: {w}");
    }
    println!(
        "lengths checked: {} (3-smooth, 1..=1296) plus 2048, 2304, 3456, 4096",
        lengths.len()
    );
}

/// The twiddle error `mu` bounded in `tolerance::fft` (16.5 u): rustfft's and realfft's formula
/// (`theta = (-2 PI / n) k`, then cos and sin) against double-double values, every `k < n`
/// for every 3-smooth `n` up to 4096.
#[test]
fn twiddle_error_measured() {
    let mut worst = 0f64;
    for n in (1..=4096).filter(|&n| fast_len(n) == n) {
        let constant = -2f64 * std::f64::consts::PI / n as f64;
        for k in 0..n {
            let angle = constant * k as f64;
            let (c, s) = twiddle_dd(k, n);
            let dr = Dd::from(angle.cos()).add(c.neg()).to_f64();
            let di = Dd::from(angle.sin()).add(s.neg()).to_f64();
            worst = worst.max(dr.hypot(di));
        }
    }
    println!(
        "twiddle error: max {:.2} u (bound {:.1} u)",
        worst / U64,
        TWIDDLE_ERROR / U64
    );
    assert!(worst <= TWIDDLE_ERROR);
}

// ---------------------------------------------------------------- single-precision transforms

/// The smallest 5-smooth number `>= n` (scipy.fft.next_fast_len for real data): the lengths a
/// float32 peer transforms at, which differ from our engine's 3-smooth ones.
fn five_smooth(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut v = m;
            for p in [2, 3, 5] {
                while v % p == 0 {
                    v /= p;
                }
            }
            v == 1
        })
        .expect("5-smooth numbers are unbounded")
}

/// How a test float32 FFT convolution goes wrong (`Faithful`: it does not).
#[derive(Clone, Copy, Debug, PartialEq)]
enum SingleBug {
    Faithful,
    /// Ignores the spec's flip (the kernel is never reversed for true convolution).
    NoFlip,
    /// Reads every output one sample late on the last axis.
    ShiftedByOne,
    /// Adds no bias.
    NoBias,
}

/// A float32 FFT convolution computed the way scipy.fft computes float32 data: everything in
/// single precision, data not rescaled, transform lengths 5-smooth. The boundary is padded
/// first (exact copies), the kernel dilated and (for cross-correlation) reversed, both
/// transformed along every axis with rustfft `f32`, the group's channel spectra multiplied and
/// summed, transformed back, scaled by `fl(1/N)`, read at the strided positions, and the bias
/// added. `None` for a problem the reference refuses.
fn single_fft_conv(p: &Problem<'_, f32>, bug: SingleBug) -> Option<ArrayD<f32>> {
    use rustfft::FftPlanner;
    type C32 = Complex<f32>;
    let geo = p.validate().ok()?;
    let mut pads = vec![(0, 0), (0, 0)];
    pads.extend(geo.pads());
    let xb = conv_oracle::problem::boundary::pad(
        p.input.view(),
        &pads,
        &p.spec.boundary,
        &p.spec.limits,
    )
    .ok()?;
    let (batch, c_in) = (xb.shape()[0], xb.shape()[1]);
    let (c_out, cg) = (p.weight.shape()[0], p.weight.shape()[1]);
    let og = c_out / p.spec.groups;
    let rank = xb.ndim() - 2;
    let kernel: Vec<usize> = p.weight.shape()[2..].to_vec();
    let extent: Vec<usize> = (0..rank)
        .map(|a| p.spec.dilation[a] * (kernel[a] - 1) + 1)
        .collect();
    let lens: Vec<usize> = (0..rank)
        .map(|a| five_smooth(xb.shape()[2 + a] + extent[a] - 1))
        .collect();
    let total: usize = lens.iter().product();
    let mut planner = FftPlanner::<f32>::new();
    let transform = |data: &mut ArrayD<C32>, inverse: bool, planner: &mut FftPlanner<f32>| {
        for (a, &len) in lens.iter().enumerate() {
            let fft = if inverse {
                planner.plan_fft_inverse(len)
            } else {
                planner.plan_fft_forward(len)
            };
            for mut lane in data.lanes_mut(Axis(a)) {
                let mut buf: Vec<C32> = lane.iter().copied().collect();
                fft.process(&mut buf);
                lane.iter_mut().zip(buf).for_each(|(d, v)| *d = v);
            }
        }
    };
    let flip = match bug {
        SingleBug::NoFlip => Flip::Correlation,
        _ => p.spec.flip,
    };
    // Spectra of the padded input channels and of the dilated, reversed kernels.
    let mut xs = Vec::with_capacity(batch * c_in);
    for n in 0..batch {
        for c in 0..c_in {
            let mut z = ArrayD::<C32>::zeros(IxDyn(&lens));
            let xc = xb.index_axis(Axis(0), n);
            for (i, &v) in xc.index_axis(Axis(0), c).indexed_iter() {
                z[i.slice()] = Complex::new(v, 0.0);
            }
            transform(&mut z, false, &mut planner);
            xs.push(z);
        }
    }
    let mut ws = Vec::with_capacity(c_out * cg);
    for o in 0..c_out {
        for c in 0..cg {
            let mut z = ArrayD::<C32>::zeros(IxDyn(&lens));
            let wo = p.weight.index_axis(Axis(0), o);
            for (k, &v) in wo.index_axis(Axis(0), c).indexed_iter() {
                let at: Vec<usize> = (0..rank)
                    .map(|a| match flip {
                        Flip::Correlation => extent[a] - 1 - k[a] * p.spec.dilation[a],
                        Flip::Convolution => k[a] * p.spec.dilation[a],
                    })
                    .collect();
                z[at.as_slice()] = Complex::new(v, 0.0);
            }
            transform(&mut z, false, &mut planner);
            ws.push(z);
        }
    }
    let scale = 1.0f32 / total as f32;
    let mut shape = vec![batch, c_out];
    shape.extend(geo.output_shape());
    let mut y = ArrayD::<f32>::zeros(IxDyn(&shape));
    for n in 0..batch {
        for o in 0..c_out {
            let g = o / og;
            let mut acc = ArrayD::<C32>::zeros(IxDyn(&lens));
            for c in 0..cg {
                let (x, w) = (&xs[n * c_in + g * cg + c], &ws[o * cg + c]);
                acc.zip_mut_with(&(x * w), |a, &b| *a += b);
            }
            transform(&mut acc, true, &mut planner);
            let bias = match bug {
                SingleBug::NoBias => None,
                _ => p.bias.as_ref().map(|b| b[o]),
            };
            let mut yo = y.index_axis_mut(Axis(0), n);
            let mut yo = yo.index_axis_mut(Axis(0), o);
            for (i, v) in yo.indexed_iter_mut() {
                let at: Vec<usize> = (0..rank)
                    .map(|a| {
                        let late = usize::from(bug == SingleBug::ShiftedByOne && a == rank - 1);
                        (i[a] * p.spec.stride[a] + extent[a] - 1 + late) % lens[a]
                    })
                    .collect();
                let value = acc[at.as_slice()].re * scale;
                *v = bias.map_or(value, |b| value + b);
            }
        }
    }
    Some(y)
}

/// The verdict of [`single_fft_conv`] under the single-precision normwise model, and the
/// largest error / bound; `None` when the problem is refused.
fn judge_single(
    c: &Case<f64>,
    bug: SingleBug,
    precision: TransformPrecision,
) -> Option<(bool, f64)> {
    let c32 = c.map(|v| v as f32);
    c32.with(|p| {
        let got = single_fft_conv(p, bug)?;
        let model = FftEngine::new().normwise_model_in(p, precision).ok()?;
        let report = judge(p, got.view(), &model).ok()?;
        Some((report.passed(), report.max_ratio))
    })
}

/// A float32 FFT convolution (scipy.fft's arithmetic, at its 5-smooth lengths) is within the
/// single-precision normwise model on uniform, twelve-decade and cancelling data, ranks 1-3,
/// every padding rule, boundary, stride, dilation, groups and bias; the double-precision
/// model (f64 transforms, one rounding to f32) rejects some of these results, which is why a
/// float32 FFT needs this model.
#[test]
fn single_precision_fft_within_single_model() {
    let mut tight_rejects = 0usize;
    let mut judged = 0usize;
    for d in Dist::ALL {
        let worst = Mutex::new((0f64, 0usize, 0usize));
        let r = search(case::<f64>(d, 3), 96, SEED, |c| {
            let Some((passed, ratio)) =
                judge_single(c, SingleBug::Faithful, TransformPrecision::Single)
            else {
                return Ok(());
            };
            let (_, tight) = judge_single(c, SingleBug::Faithful, TransformPrecision::Double)
                .expect("judged once already");
            let mut w = worst.lock().expect("lock");
            w.0 = w.0.max(ratio);
            w.1 += 1;
            w.2 += usize::from(tight > 1.0);
            if passed {
                Ok(())
            } else {
                Err(Violation::bound(format!("error / bound {ratio}")))
            }
        });
        assert!(r.is_ok(), "{d:?}: {r:?}");
        let (ratio, n, rejects) = worst.into_inner().expect("lock");
        println!(
            "{d:?}: {n} problems, max error / single-precision bound {ratio:.3e}; \
             {rejects} over the double-precision model"
        );
        judged += n;
        tight_rejects += rejects;
    }
    assert!(judged > 200, "only {judged} problems judged");
    assert!(
        tight_rejects > 0,
        "no float32 FFT result exceeded the double-precision model"
    );
}

/// Wrong float32 FFT convolutions fail the single-precision model: a missing kernel flip, an
/// output read one sample late, a dropped bias.
#[test]
fn wrong_single_precision_ffts_fail_the_single_model() {
    for bug in [
        SingleBug::NoFlip,
        SingleBug::ShiftedByOne,
        SingleBug::NoBias,
    ] {
        let r = search(
            case::<f64>(Dist::Uniform, 3),
            256,
            SEED,
            |c| match judge_single(c, bug, TransformPrecision::Single) {
                Some((false, ratio)) => Err(Violation::bound(format!("error / bound {ratio}"))),
                _ => Ok(()),
            },
        );
        let e = r.expect_err("the wrong engine passed every problem");
        assert_eq!(e.kind, Kind::BoundExceeded, "{bug:?}: {e}");
        println!(
            "{bug:?} refuted: {}",
            e.detail.lines().next().unwrap_or_default()
        );
    }
}

/// Assumption (T) in single precision: rustfft's f32 c2c (forward and inverse) and realfft's
/// f32 r2c are within `phi_n` of [`TransformPrecision::Single`], normwise and per bin, for
/// every 5-smooth length up to 1296 (scipy's lengths; they include our 3-smooth ones) and
/// 2048, 3000, 4096. The exact transform is taken from rustfft in f64 on the same (f32)
/// data, whose own error, at most `phi_n` of double precision, is added to the measured one.
#[test]
fn single_precision_transform_error_model() {
    use realfft::RealFftPlanner;
    use rustfft::FftPlanner;
    let single = TransformPrecision::Single;
    let mut p32 = FftPlanner::<f32>::new();
    let mut p64 = FftPlanner::<f64>::new();
    let mut r32 = RealFftPlanner::<f32>::new();
    let mut worst = [0f64; 4];
    let names = [
        "c2c forward, normwise",
        "c2c forward, per bin",
        "c2c inverse, normwise",
        "r2c, per bin",
    ];
    let lengths: Vec<usize> = (1..=1296)
        .filter(|&n| five_smooth(n) == n)
        .chain([2048, 3000, 4096])
        .collect();
    for &n in &lengths {
        let phi = single.transform_error(n as f64);
        let phi64 = transform_error(n as f64);
        for x in vectors(n, n as u64) {
            // The data in single precision, exactly representable in double.
            let x32: Vec<Complex<f32>> = x
                .iter()
                .map(|z| Complex::new(z.re as f32, z.im as f32))
                .collect();
            let x64: Vec<C64> = x32
                .iter()
                .map(|z| Complex::new(z.re as f64, z.im as f64))
                .collect();
            let x_l2 = l2(&x64.iter().map(|z| z.norm()).collect::<Vec<_>>());
            let x_l1: f64 = x64.iter().map(|z| z.norm()).sum();
            for inverse in [false, true] {
                let (mut a, mut b) = (x32.clone(), x64.clone());
                if inverse {
                    p32.plan_fft_inverse(n).process(&mut a);
                    p64.plan_fft_inverse(n).process(&mut b);
                } else {
                    p32.plan_fft_forward(n).process(&mut a);
                    p64.plan_fft_forward(n).process(&mut b);
                }
                let e: Vec<f64> = a
                    .iter()
                    .zip(&b)
                    .map(|(g, r)| (Complex::new(g.re as f64, g.im as f64) - r).norm())
                    .collect();
                let root_n = (n as f64).sqrt();
                let norm = (l2(&e) + phi64 * root_n * x_l2) / (phi * root_n * x_l2);
                let slot = if inverse { 2 } else { 0 };
                worst[slot] = worst[slot].max(norm);
                if !inverse {
                    let max = e.iter().fold(0f64, |m, &v| m.max(v));
                    worst[1] = worst[1].max((max + phi64 * x_l1) / (phi * x_l1));
                }
            }
            if n % 2 == 0 {
                let xr: Vec<f32> = x32.iter().map(|z| z.re).collect();
                let xr64: Vec<C64> = xr.iter().map(|&v| Complex::new(v as f64, 0.0)).collect();
                let xr_l1: f64 = xr.iter().map(|v| v.abs() as f64).sum();
                let r2c = r32.plan_fft_forward(n);
                let (mut input, mut spec) = (xr.clone(), r2c.make_output_vec());
                r2c.process(&mut input, &mut spec).expect("r2c");
                let mut full = xr64.clone();
                p64.plan_fft_forward(n).process(&mut full);
                let max = spec
                    .iter()
                    .zip(&full)
                    .map(|(g, r)| (Complex::new(g.re as f64, g.im as f64) - r).norm())
                    .fold(0f64, f64::max);
                if xr_l1 > 0.0 {
                    worst[3] = worst[3].max((max + phi64 * xr_l1) / (phi * xr_l1));
                }
            }
        }
    }
    for (name, w) in names.iter().zip(worst) {
        println!("single-precision transform error / phi_n, {name}: {w:.3e}");
        assert!(w <= 1.0, "{name}: {w}");
    }
    println!(
        "lengths checked: {} (5-smooth up to 1296, 2048, 3000, 4096)",
        lengths.len()
    );
}

// ---------------------------------------------------------------- robustness

/// Absurd shapes and settings (the crate's no-panic strategy: huge pads, strides and
/// dilations, empty axes, tight limits) through the FFT engine: `Ok` or the reference's
/// error, never a panic, and `Ok` equal to the reference.
#[test]
fn absurd_requests_do_not_panic() {
    use conv_oracle::testing::{AbsurdCase, absurd_case};
    use ndarray::Dimension;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let check = |c: &AbsurdCase| -> Result<(), Violation> {
        let x = ArrayD::from_shape_fn(IxDyn(&c.input), |i| i.as_array_view().sum() as i64);
        let w = ArrayD::from_shape_fn(IxDyn(&c.weight), |i| 1 - i.as_array_view().sum() as i64);
        let b = c.bias.map(|n| Array1::from_elem(n, 2i64));
        let eng = FftEngine::new();
        let r = catch_unwind(AssertUnwindSafe(|| {
            let mut p = Problem::new(x.view(), w.view()).spec(c.spec.clone());
            if let Some(b) = &b {
                p = p.bias(b.view());
            }
            let got = eng.conv(&p);
            // Only compare with the reference when it is cheap.
            let small = p
                .validate()
                .is_ok_and(|g| g.output_shape().iter().product::<usize>() < 4096);
            if small || got.is_err() {
                let want = conv(&p);
                if got != want {
                    return Err(Violation::mismatch(format!(
                        "engine {got:?} vs reference {want:?}"
                    )));
                }
            }
            let xf = x.mapv(|v| v as f64);
            let wf = w.mapv(|v| v as f64);
            let spec = c.case_f64_spec();
            let _ = eng.conv(&Problem::new(xf.view(), wf.view()).spec(spec));
            Ok(())
        }));
        r.unwrap_or_else(|_| Err(Violation::new(Kind::Panicked, "panicked")))
    };
    let r = search(absurd_case(), 1024, SEED, check);
    assert!(r.is_ok(), "{r:?}");
}

/// The absurd case's spec for f64 data.
trait AbsurdF64 {
    fn case_f64_spec(&self) -> ConvSpec<f64>;
}

impl AbsurdF64 for conv_oracle::testing::AbsurdCase {
    fn case_f64_spec(&self) -> ConvSpec<f64> {
        let s = &self.spec;
        ConvSpec {
            stride: s.stride.clone(),
            dilation: s.dilation.clone(),
            padding: s.padding.clone(),
            boundary: match &s.boundary {
                Boundary::Zeros => Boundary::Zeros,
                Boundary::Constant(c) => Boundary::Constant(*c as f64),
                Boundary::Reflect => Boundary::Reflect,
                Boundary::Symmetric => Boundary::Symmetric,
                Boundary::Replicate => Boundary::Replicate,
                Boundary::Circular => Boundary::Circular,
            },
            groups: s.groups,
            flip: s.flip,
            limits: s.limits,
        }
    }
}
