//! The correctly rounded engine: every output is the exact rational value rounded once to
//! nearest-even, bit for bit, on every element type, data kind and spec (proptest and
//! quickcheck against the big-integer reference); hand cases for the traps (double rounding,
//! ties, signed zeros, overflow, special values); both tiers, every thread count and both
//! builds agree; the planted wrong engines are caught.

use crate::testing::common::{cfg, qc};

use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::exact::{ExactEngine, Mutation, Superacc};
use conv_oracle::testing::DEFAULT_SEED;
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::cases::Case;
use conv_oracle::testing::exact_data::{
    Data, ExactSample, Format, block_case, case, check_rounding,
};
use conv_oracle::verify::exact::{MUTANTS, check_correctly_rounded, mutant_row};
use conv_oracle::{Boundary, ConvSpec, Flip, Padding, Problem};
use ndarray::{Array1, ArrayD, IxDyn, array};
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use proptest::prelude::*;
use quickcheck::{Arbitrary, Gen, TestResult};

/// `conv` of a 1-D single-channel problem `x * w` (valid, correlation), optional bias.
fn one_d<T: ExactSample>(e: &ExactEngine, x: &[T], w: &[T], bias: Option<T>) -> Vec<T> {
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, x.len()]), x.to_vec()).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, w.len()]), w.to_vec()).unwrap();
    let b = bias.map(|b| Array1::from(vec![b]));
    let mut p = Problem::new(x.view(), w.view());
    if let Some(b) = &b {
        p = p.bias(b.view());
    }
    e.conv(&p).unwrap().iter().copied().collect()
}

fn engines() -> [ExactEngine; 3] {
    [
        ExactEngine::new(),
        ExactEngine::new().fallback_only(),
        ExactEngine::new().threads(1).baseline_only(),
    ]
}

fn pow2(e: i32) -> f64 {
    2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

// ---------------------------------------------------------------- hand cases

#[test]
fn double_rounding_trap_f32() {
    // docs/numerics.md section 4: 1 + 2^-24 + 2^-80 rounds to 1 + 2^-23 in f32; its f64 sum is the tie
    // 1 + 2^-24, which rounds to 1.0.
    let x = [1.0f32, pow2(-24) as f32, pow2(-80) as f32];
    let w = [1.0f32; 3];
    let want = f32::from_bits(1.0f32.to_bits() + 1);
    for e in engines() {
        assert_eq!(one_d(&e, &x, &w, None), vec![want], "{e:?}");
    }
    // The trap is real: the direct engine (f64 sum, then f32) and the unchecked fast tier
    // both fall in.
    let naive = DirectEngine::new()
        .conv(&Problem::new(
            array![[[1.0f32, pow2(-24) as f32, pow2(-80) as f32]]]
                .into_dyn()
                .view(),
            array![[[1.0f32, 1.0, 1.0]]].into_dyn().view(),
        ))
        .unwrap();
    assert_eq!(naive.iter().copied().collect::<Vec<_>>(), vec![1.0f32]);
    let uncertified = ExactEngine::with_mutation(Mutation::Uncertified);
    assert_eq!(one_d(&uncertified, &x, &w, None), vec![1.0f32]);
}

#[test]
fn beyond_double_double_f64() {
    // 1 + 2^-53 + 2^-160: s = 1, c = 2^-53 + 2^-160 rounds to 2^-53, and fl(s + c) is the
    // tie 1 + 2^-53 -> 1.0; the correct result is 1 + 2^-52.
    let x = [1.0, pow2(-53), pow2(-160)];
    let w = [1.0; 3];
    let want = 1.0f64.next_up();
    for e in engines() {
        assert_eq!(one_d(&e, &x, &w, None), vec![want], "{e:?}");
    }
    let uncertified = ExactEngine::with_mutation(Mutation::Uncertified);
    assert_eq!(one_d(&uncertified, &x, &w, None), vec![1.0]);
}

#[test]
fn ties_go_to_even() {
    for e in engines() {
        // 1 + 2^-53 is halfway between 1 (even) and 1 + 2^-52 (odd).
        assert_eq!(one_d(&e, &[1.0, pow2(-53)], &[1.0, 1.0], None), vec![1.0]);
        // (1 + 2^-52) + 2^-53 is halfway between 1 + 2^-52 (odd) and 1 + 2^-51 (even).
        let odd = 1.0f64.next_up();
        assert_eq!(
            one_d(&e, &[odd, pow2(-53)], &[1.0, 1.0], None),
            vec![odd.next_up()]
        );
        // Just above the tie: up.
        assert_eq!(
            one_d(&e, &[1.0, pow2(-53), pow2(-200)], &[1.0; 3], None),
            vec![odd]
        );
        // f32: 1 + 2^-24 -> 1.
        assert_eq!(
            one_d(&e, &[1.0f32, pow2(-24) as f32], &[1.0, 1.0], None),
            vec![1.0f32]
        );
    }
    // Ties away from zero is wrong here.
    let away = ExactEngine::with_mutation(Mutation::TiesAway).fallback_only();
    assert_eq!(
        one_d(&away, &[1.0, pow2(-53)], &[1.0, 1.0], None),
        vec![1.0f64.next_up()]
    );
}

#[test]
fn signed_zeros_follow_ieee_addition_of_the_terms() {
    for e in engines() {
        // Every term -0: -0 (products 1 * -0 and -1 * +0).
        let y = one_d::<f64>(&e, &[-0.0, 0.0], &[1.0, -1.0], None);
        assert!(y[0] == 0.0 && y[0].is_sign_negative(), "{e:?}: {y:?}");
        // A +0 bias joins the terms: +0.
        let y = one_d::<f64>(&e, &[-0.0], &[1.0], Some(0.0));
        assert!(y[0] == 0.0 && y[0].is_sign_positive(), "{e:?}: {y:?}");
        // A -0 bias with -0 products: -0.
        let y = one_d::<f64>(&e, &[-0.0], &[1.0], Some(-0.0));
        assert!(y[0] == 0.0 && y[0].is_sign_negative(), "{e:?}: {y:?}");
        // Exact cancellation of nonzero terms: +0.
        let y = one_d::<f64>(&e, &[1.0, 1.0], &[1.0, -1.0], None);
        assert!(y[0] == 0.0 && y[0].is_sign_positive(), "{e:?}: {y:?}");
        // A nonzero sum below half the smallest subnormal rounds to a zero of its sign.
        let y = one_d(&e, &[pow2(-600)], &[-pow2(-600)], None);
        assert!(y[0] == 0.0 && y[0].is_sign_negative(), "{e:?}: {y:?}");
        let y = one_d(
            &e,
            &[pow2(-600), pow2(-600)],
            &[pow2(-600), -pow2(-600)],
            None,
        );
        assert!(y[0] == 0.0 && y[0].is_sign_positive(), "{e:?}: {y:?}");
    }
}

#[test]
fn overflow_rounds_to_infinity_from_the_threshold() {
    // ulp(MAX) = 2^971: MAX + 2^970 is the threshold (a tie, to even = infinity).
    let max = f64::MAX;
    for e in engines() {
        assert_eq!(
            one_d(&e, &[max, pow2(970)], &[1.0, 1.0], None),
            vec![f64::INFINITY]
        );
        assert_eq!(one_d(&e, &[max, pow2(969)], &[1.0, 1.0], None), vec![max]);
        // Products beyond the range that cancel exactly stay finite (the exact sum is 1).
        assert_eq!(
            one_d(&e, &[max, max, 1.0], &[2.0, -2.0, 1.0], None),
            vec![1.0]
        );
        assert_eq!(
            one_d(&e, &[-max, -pow2(970)], &[1.0, 1.0], None),
            vec![f64::NEG_INFINITY]
        );
        // f32: ulp(MAX) = 2^104.
        let m32 = f32::MAX;
        assert_eq!(
            one_d(&e, &[m32, pow2(103) as f32], &[1.0, 1.0], None),
            vec![f32::INFINITY]
        );
        assert_eq!(
            one_d(&e, &[m32, pow2(102) as f32], &[1.0, 1.0], None),
            vec![m32]
        );
    }
}

#[test]
fn special_values_follow_ieee_on_the_exact_terms() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    for e in engines() {
        assert!(one_d(&e, &[nan, 1.0], &[1.0, 1.0], None)[0].is_nan());
        assert!(
            one_d(&e, &[inf, 1.0], &[0.0, 1.0], None)[0].is_nan(),
            "inf * 0"
        );
        assert!(
            one_d(&e, &[inf, inf], &[1.0, -1.0], None)[0].is_nan(),
            "inf - inf"
        );
        assert_eq!(one_d(&e, &[inf, 5.0], &[2.0, -1.0], None), vec![inf]);
        assert_eq!(one_d(&e, &[inf, inf], &[-1.0, -1.0], None), vec![-inf]);
        // A finite sum that would overflow in f64 arithmetic does not cancel an infinity.
        assert_eq!(
            one_d(&e, &[-inf, f64::MAX, f64::MAX], &[1.0, 1.0, 1.0], None),
            vec![-inf]
        );
        assert!(one_d(&e, &[1.0], &[1.0], Some(nan))[0].is_nan(), "NaN bias");
    }
}

#[test]
fn complex_rounds_each_part_once() {
    // Real part: 1*1 - (2^-53 * -1) ... = 1 + 2^-53 + 2^-160 via three terms.
    let x = vec![Complex::new(1.0, pow2(-53)), Complex::new(pow2(-160), 0.0)];
    let w = vec![Complex::new(1.0, -1.0), Complex::new(1.0, 0.0)];
    for e in engines() {
        let y = one_d(&e, &x, &w, None);
        // re = 1 + 2^-53 + 2^-160; im = 1 * 2^-53 + (-1) * 1 = 2^-53 - 1.
        assert_eq!(y[0].re, 1.0f64.next_up(), "{e:?}");
        assert_eq!(y[0].im, pow2(-53) - 1.0, "{e:?}");
    }
}

#[test]
fn superaccumulator_rounds_integers_and_subnormals() {
    // Sums of many equal terms are integers: their rounding is the integer's nearest float.
    let mut acc = Superacc::new();
    for _ in 0..1000 {
        acc.add_product(0.1f64, 10.0f64, false);
    }
    // 0.1 * 10 is 1 + 2^-54 exactly (0.1 = 3602879701896397 / 2^55); 1000 of them:
    // 1000 + 1000 * 2^-54, which rounds to 1000 (ulp(1000) = 2^-43).
    assert_eq!(acc.round::<f64>(), 1000.0);
    // Subnormal grid: 3 * 2^-1076 = 0.75 * 2^-1074 rounds to 2^-1074.
    let mut acc = Superacc::new();
    acc.add_product(3.0 * pow2(-538), pow2(-538), false);
    assert_eq!(acc.round::<f64>(), f64::from_bits(1));
    // 2^-1075 exactly is the tie between 0 (even) and 2^-1074: 0.
    let mut acc = Superacc::new();
    acc.add_product(pow2(-538), pow2(-537), false);
    assert_eq!(acc.round::<f64>().to_bits(), 0);
    // More than 2^29 terms: the deferred carries are propagated on the way.
    let mut acc = Superacc::new();
    let n = (1u64 << 29) + 12345;
    for _ in 0..n {
        acc.add(1.5f64);
    }
    assert_eq!(acc.round::<f64>(), 1.5 * n as f64);
}

#[test]
fn the_rounding_check_itself_can_fail() {
    let r = |v: f64| BigRational::from_float(v).unwrap();
    let one = r(1.0);
    let tie = &one + r(pow2(-53));
    assert!(check_rounding(Format::F64, 1.0, &tie).is_ok());
    assert!(check_rounding(Format::F64, 1.0f64.next_up(), &tie).is_err());
    assert!(check_rounding(Format::F64, 1.0, &(&tie + r(pow2(-300)))).is_err());
    assert!(check_rounding(Format::F32, 1.0, &one).is_ok());
    assert!(check_rounding(Format::F32, f64::from(1.0f32.next_up()), &one).is_err());
    // Overflow threshold: infinity exactly from max + ulp/2.
    let max = r(f64::MAX);
    let half = BigRational::from_integer(BigInt::from(1) << 970usize);
    assert!(check_rounding(Format::F64, f64::INFINITY, &(&max + &half)).is_ok());
    assert!(check_rounding(Format::F64, f64::MAX, &(&max + &half)).is_err());
    assert!(check_rounding(Format::F64, f64::INFINITY, &max).is_err());
    // Zero: the sign must match a nonzero value.
    let tiny = -BigRational::new(BigInt::from(1), BigInt::from(1) << 1076usize);
    assert!(check_rounding(Format::F64, -0.0, &tiny).is_ok());
    assert!(check_rounding(Format::F64, 0.0, &tiny).is_err());
    assert!(check_rounding(Format::F64, f64::NAN, &one).is_err());
}

// ---------------------------------------------------------------- properties

fn holds<T: ExactSample>(e: &ExactEngine, c: &Case<T>) -> Result<(), TestCaseError> {
    check_correctly_rounded(e, c)
        .map(|_| ())
        .map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(cfg(96))]

    #[test]
    fn f64_correctly_rounded(
        c in (0..Data::ALL.len()).prop_flat_map(|i| case::<f64>(Data::ALL[i], 2)),
    ) {
        holds(&ExactEngine::new(), &c)?;
    }

    #[test]
    fn f32_correctly_rounded(
        c in (0..Data::ALL.len()).prop_flat_map(|i| case::<f32>(Data::ALL[i], 2)),
    ) {
        holds(&ExactEngine::new(), &c)?;
    }

    #[test]
    fn c64_correctly_rounded(
        c in (0..Data::ALL.len()).prop_flat_map(|i| case::<Complex<f64>>(Data::ALL[i], 2)),
    ) {
        holds(&ExactEngine::new(), &c)?;
    }

    #[test]
    fn c32_correctly_rounded(
        c in (0..Data::ALL.len()).prop_flat_map(|i| case::<Complex<f32>>(Data::ALL[i], 2)),
    ) {
        holds(&ExactEngine::new(), &c)?;
    }

    #[test]
    fn rank_three_correctly_rounded(
        c in prop_oneof![case::<f64>(Data::Ties, 3), case::<f64>(Data::WideExponent, 3)],
        c32 in case::<f32>(Data::Cancelling, 3),
    ) {
        holds(&ExactEngine::new(), &c)?;
        holds(&ExactEngine::new(), &c32)?;
    }

    /// Both tiers, one and two threads, baseline and AVX2 builds: the same bits (every NaN
    /// counts as equal).
    #[test]
    fn tiers_threads_and_builds_agree(
        c in (0..Data::ALL.len()).prop_flat_map(|i| case::<f64>(Data::ALL[i], 2)),
    ) {
        let runs: Vec<_> = [
            ExactEngine::new().threads(1),
            ExactEngine::new().threads(2),
            ExactEngine::new().fallback_only(),
            ExactEngine::new().baseline_only(),
        ]
        .iter()
        .map(|e| c.with(|p| e.conv(p)))
        .collect();
        let key = |y: &ArrayD<f64>| -> Vec<u64> {
            y.iter().map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() }).collect()
        };
        for r in &runs[1..] {
            match (&runs[0], r) {
                (Ok(a), Ok(b)) => prop_assert_eq!(key(a), key(b)),
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
            }
        }
    }
}

proptest! {
    #![proptest_config(cfg(64))]

    /// The f32 block kernel (4 output channels of a group per input load, partial blocks and
    /// tails one by one): correctly rounded on one and three threads (a thread's share may
    /// end inside a block), and the same outputs and tier counts as the baseline build,
    /// which has no block kernel (each output's sum takes the same steps in the same order).
    #[test]
    fn block_kernel_correctly_rounded_and_same_as_baseline(
        c in prop_oneof![
            block_case::<f32>(Data::Uniform),
            block_case::<f32>(Data::Cancelling),
            block_case::<f32>(Data::WideExponent),
            block_case::<f32>(Data::Subnormal),
            block_case::<f32>(Data::Specials),
        ],
    ) {
        let r1 = check_correctly_rounded(&ExactEngine::new().threads(1), &c);
        let r3 = check_correctly_rounded(&ExactEngine::new().threads(3), &c);
        let base = check_correctly_rounded(&ExactEngine::new().threads(1).baseline_only(), &c);
        prop_assert!(r1.is_ok(), "{:?}", r1);
        prop_assert_eq!(&r1, &r3);
        prop_assert_eq!(&r1, &base);
    }
}

/// Larger problems: 2-D images with several channels, through the fast tier and the
/// threads.
#[test]
fn realistic_sizes_correctly_rounded() {
    let mut state = DEFAULT_SEED;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[2, 3, 24, 20]), &mut next);
    let w = ArrayD::from_shape_simple_fn(IxDyn(&[4, 3, 5, 3]), &mut next);
    let bias: Vec<f64> = (0..4).map(|_| next()).collect();
    for (padding, boundary) in [
        (Padding::SameUpper, Boundary::Zeros),
        (Padding::Full, Boundary::Reflect),
        (Padding::Valid, Boundary::Zeros),
    ] {
        let spec = ConvSpec::new()
            .padding(padding)
            .boundary(boundary)
            .flip(Flip::Convolution);
        let c = Case {
            input: Arr(x.clone()),
            weight: Arr(w.clone()),
            bias: Some(bias.clone()),
            spec,
        };
        let r = check_correctly_rounded(&ExactEngine::new(), &c).unwrap();
        assert!(r.stats.certified > 0);
        let c32 = c.map(|v| v as f32);
        check_correctly_rounded(&ExactEngine::new(), &c32).unwrap();
    }
}

#[test]
fn mutants_are_caught() {
    for (m, d) in MUTANTS {
        let mut rows = vec![mutant_row::<f32>(m, d, 256, DEFAULT_SEED)];
        // Only f32 has the block kernel.
        if m != Mutation::BlockWeights {
            rows.push(mutant_row::<f64>(m, d, 256, DEFAULT_SEED));
        }
        for row in rows {
            assert!(row.passed, "{m:?} on {d:?} was not caught: {}", row.detail);
        }
    }
}

// ---------------------------------------------------------------- quickcheck

/// A 1-D problem drawn by quickcheck: values `+-m 2^e` over a wide exponent range, one to
/// twelve taps, one or two channels, any padding.
#[derive(Clone, Debug)]
struct QCase(Case<f64>);

impl Arbitrary for QCase {
    fn arbitrary(g: &mut Gen) -> Self {
        let small = |g: &mut Gen, m: u8| usize::from(u8::arbitrary(g) % m) + 1;
        let value = |g: &mut Gen| {
            let m = f64::from(u32::arbitrary(g) % (1 << 20)) / f64::from(1 << 20) + 1.0;
            let e = i32::from(i16::arbitrary(g) % 300);
            let v = m * pow2(e);
            if bool::arbitrary(g) { -v } else { v }
        };
        let (c, n, k) = (small(g, 2), small(g, 16), small(g, 12));
        let x = ArrayD::from_shape_simple_fn(IxDyn(&[1, c, n]), || value(g));
        let w = ArrayD::from_shape_simple_fn(IxDyn(&[1, c, k]), || value(g));
        let bias = bool::arbitrary(g).then(|| vec![value(g)]);
        let padding = Padding::Explicit(vec![(small(g, 4) - 1, small(g, 12) - 1)]);
        QCase(Case {
            input: Arr(x),
            weight: Arr(w),
            bias,
            spec: ConvSpec::new().padding(padding),
        })
    }
}

#[test]
fn quickcheck_correctly_rounded() {
    fn prop(c: QCase) -> TestResult {
        match check_correctly_rounded(&ExactEngine::new(), &c.0) {
            Ok(_) => TestResult::passed(),
            Err(e) => TestResult::error(e),
        }
    }
    qc(256).quickcheck(prop as fn(QCase) -> TestResult);
}

#[test]
fn quickcheck_truncating_engine_fails() {
    let e = ExactEngine::with_mutation(Mutation::Truncate).fallback_only();
    let failures = (0..64)
        .filter(|&i| {
            let mut g = Gen::from_size_and_seed(16, DEFAULT_SEED + i);
            check_correctly_rounded(&e, &QCase::arbitrary(&mut g).0)
                .is_err_and(|v| v.kind == conv_oracle::testing::Kind::NotCorrectlyRounded)
        })
        .count();
    assert!(failures > 0, "truncation never caught");
}

// ---------------------------------------------------------------- judging with the engine

#[test]
fn judge_uses_the_correctly_rounded_result_and_reports_the_worst_terms() {
    use conv_oracle::engine::direct::Mutation as DirectMutation;
    use conv_oracle::oracle::judge;
    use conv_oracle::tolerance::Model;
    let mut state = DEFAULT_SEED;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0) as f32
    };
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[1, 2, 9, 7]), &mut next);
    let w = ArrayD::from_shape_simple_fn(IxDyn(&[3, 2, 3, 3]), &mut next);
    let b = Array1::from_shape_simple_fn(3, &mut next);
    let spec = ConvSpec::new().padding(Padding::SameUpper);
    let p = Problem::new(x.view(), w.view()).bias(b.view()).spec(spec);
    // The exact engine passes the strictest model with every element correctly rounded.
    let exact = ExactEngine::new().conv(&p).unwrap();
    let r = judge(&p, exact.view(), &Model::Exact).unwrap();
    assert!(r.passed(), "{r}");
    assert_eq!(r.correctly_rounded, exact.len());
    assert_eq!(r.terms, 2 * 9 + 1);
    // A direct f32 sum in f32 order is within the componentwise bound, not always exact.
    let direct = DirectEngine::new().conv(&p).unwrap();
    let r = judge(&p, direct.view(), &Model::Componentwise).unwrap();
    assert!(r.passed(), "{r}");
    // Dropping the last tap breaks the bound; the worst element comes with its terms.
    let wrong = DirectEngine::with_mutation(DirectMutation::DropLastTap)
        .conv(&p)
        .unwrap();
    let r = judge(&p, wrong.view(), &Model::Componentwise).unwrap();
    assert!(
        matches!(
            r.verdict,
            conv_oracle::tolerance::Verdict::Fail(conv_oracle::tolerance::Failure::Elements { .. })
        ),
        "{r}"
    );
    let worst = r.worst.expect("a worst element");
    assert_eq!(worst.taps.len(), 2 * 9 + 1, "bias plus 18 products");
    assert_eq!(worst.taps[0], (f64::from(b[worst.index / 63]), 1.0));
    assert_eq!(
        worst.exact,
        f64::from(exact.iter().nth(worst.index).copied().unwrap())
    );
    // A result of the wrong shape is refused, not judged.
    let short = ArrayD::<f32>::zeros(IxDyn(&[1, 3, 9, 6]));
    assert!(matches!(
        judge(&p, short.view(), &Model::Exact),
        Err(conv_oracle::ConvError::ShapeMismatch { .. })
    ));
}
