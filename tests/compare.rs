//! The tolerance policy of `compare`: the ULP distance, every model just inside and just
//! outside its bound, TOSA's aggregate checks, the peers' presets and the report.
//!
//! Expected values are derived here from the definitions (bit patterns, `next_up` steps,
//! `gamma_K` written out), never read back from the code under test.

use conv_oracle::tolerance::{
    Aggregate, Failure, Model, Preset, Report, Verdict, judge_elements, ulp_distance_f32,
    ulp_distance_f64,
};

/// `x > 0` moved `k` representable f64 values up (`k < 0`: down), by its bit pattern.
fn step64(x: f64, k: i64) -> f64 {
    assert!(x > 0.0);
    f64::from_bits(x.to_bits().checked_add_signed(k).expect("in range"))
}

/// `x > 0` moved `k` representable f32 values up (`k < 0`: down), by its bit pattern.
fn step32(x: f32, k: i32) -> f32 {
    assert!(x > 0.0);
    f32::from_bits(x.to_bits().checked_add_signed(k).expect("in range"))
}

/// `2^-24`, the f32 unit roundoff, and `2^-53`, the f64 one.
const U32: f64 = 1.0 / 16_777_216.0;
const U64: f64 = 1.0 / 9_007_199_254_740_992.0;

fn failure(r: &Report) -> &Failure {
    match &r.verdict {
        Verdict::Fail(f) => f,
        Verdict::Pass => panic!("expected a failure: {r}"),
    }
}

// ---------------------------------------------------------------------------------------------
// ULP distance

#[test]
fn ulp_distance_across_zero() {
    let tiny = f64::from_bits(1);
    assert_eq!(ulp_distance_f64(tiny, -tiny), 2);
    assert_eq!(ulp_distance_f64(-tiny, tiny), 2);
    assert_eq!(ulp_distance_f64(0.0, -0.0), 0);
    assert_eq!(ulp_distance_f64(-0.0, tiny), 1);
    assert_eq!(ulp_distance_f64(1.0, 1.0f64.next_up()), 1);
    // -1 to 1: every positive float up to 1 (its bit pattern counts them) twice.
    assert_eq!(ulp_distance_f64(-1.0, 1.0), 2 * 1.0f64.to_bits());

    let tiny = f32::from_bits(1);
    assert_eq!(ulp_distance_f32(tiny, -tiny), 2);
    assert_eq!(ulp_distance_f32(0.0, -0.0), 0);
    assert_eq!(ulp_distance_f32(1.0, 1.0f32.next_up()), 1);
    assert_eq!(ulp_distance_f32(-1.0, 1.0), 2 * u64::from(1.0f32.to_bits()));
}

/// The distance counts `next_up` steps (std's definition of the neighbouring float, which
/// steps from `-0` to the smallest positive subnormal), across zero, subnormals, the normal
/// boundary and a binade boundary.
#[test]
fn ulp_distance_counts_next_up_steps() {
    let starts32 = [
        -f32::from_bits(20),
        -f32::MIN_POSITIVE.next_up().next_up(),
        f32::MIN_POSITIVE.next_down().next_down(),
        1.0f32.next_down().next_down(),
        -1.0f32.next_up(),
        f32::MAX.next_down().next_down().next_down(),
    ];
    for start in starts32 {
        let mut x = start;
        for n in 0..=40u64 {
            assert_eq!(ulp_distance_f32(start, x), n, "{start:e} -> {x:e}");
            assert_eq!(ulp_distance_f32(x, start), n);
            if x == f32::MAX {
                break;
            }
            x = x.next_up();
        }
    }
    let starts64 = [
        -f64::from_bits(20),
        f64::MIN_POSITIVE.next_down().next_down(),
        2.0f64.next_down(),
        -1e300,
    ];
    for start in starts64 {
        let mut x = start;
        for n in 0..=40u64 {
            assert_eq!(ulp_distance_f64(start, x), n, "{start:e} -> {x:e}");
            assert_eq!(ulp_distance_f64(x, start), n);
            x = x.next_up();
        }
    }
}

#[test]
fn ulp_distance_subnormals() {
    let largest_subnormal = f64::from_bits(f64::MIN_POSITIVE.to_bits() - 1);
    assert_eq!(ulp_distance_f64(largest_subnormal, f64::MIN_POSITIVE), 1);
    // 2^52 - 1 positive subnormals, then one more step to the smallest normal.
    assert_eq!(ulp_distance_f64(0.0, f64::MIN_POSITIVE), 1u64 << 52);
    assert_eq!(ulp_distance_f64(-0.0, f64::MIN_POSITIVE), 1u64 << 52);
    assert_eq!(ulp_distance_f64(f64::from_bits(5), f64::from_bits(2)), 3);
    assert_eq!(ulp_distance_f32(0.0, f32::MIN_POSITIVE), 1u64 << 23);
    assert_eq!(
        ulp_distance_f32(-f32::from_bits(3), f32::MIN_POSITIVE),
        (1u64 << 23) + 3
    );
}

#[test]
fn ulp_distance_non_finite() {
    assert_eq!(ulp_distance_f64(f64::MAX, f64::INFINITY), u64::MAX);
    assert_eq!(ulp_distance_f32(f32::MAX, f32::INFINITY), u64::MAX);
    assert_eq!(ulp_distance_f64(f64::INFINITY, f64::INFINITY), 0);
    assert_eq!(ulp_distance_f64(f64::NEG_INFINITY, f64::NEG_INFINITY), 0);
    assert_eq!(ulp_distance_f64(f64::NEG_INFINITY, f64::INFINITY), u64::MAX);
    let payload = f64::from_bits(0x7ff8_0000_0000_0001);
    assert!(payload.is_nan());
    assert_eq!(ulp_distance_f64(payload, f64::NAN), 0);
    assert_eq!(ulp_distance_f64(-f64::NAN, f64::NAN), 0);
    assert_eq!(ulp_distance_f64(f64::NAN, 0.0), u64::MAX);
    assert_eq!(ulp_distance_f64(f64::INFINITY, f64::NAN), u64::MAX);
    assert_eq!(ulp_distance_f32(f32::NAN, f32::from_bits(0xffc0_0001)), 0);
    assert_eq!(ulp_distance_f32(f32::NAN, 1.0), u64::MAX);
    // No finite pair reaches u64::MAX, so it unambiguously means a non-finite mismatch.
    let widest = ulp_distance_f64(-f64::MAX, f64::MAX);
    assert_eq!(widest, 2 * f64::MAX.to_bits());
    assert!(widest < u64::MAX);
}

// ---------------------------------------------------------------------------------------------
// Models, each just inside and just outside its bound

#[test]
fn exact_model_ignores_the_sign_of_zero_and_nan_payloads() {
    let exact = [1.0f64, -0.0, f64::NAN, f64::INFINITY, 3.5];
    let mut got = [
        1.0,
        0.0,
        -f64::from_bits(0x7ff8_0000_0000_0042),
        f64::INFINITY,
        3.5,
    ];
    let r = judge_elements(&Model::Exact, &got, &exact, &[], 3);
    assert!(r.passed(), "{r}");
    assert_eq!(r.correctly_rounded, 5);
    assert_eq!(r.max_ratio, 0.0);
    got[4] = step64(3.5, 1);
    let r = judge_elements(&Model::Exact, &got, &exact, &[], 3);
    assert_eq!(failure(&r), &Failure::Elements { count: 1, first: 4 });
    assert_eq!(r.max_ratio, f64::INFINITY);
    assert_eq!(r.worst.as_ref().map(|w| w.index), Some(4));
}

#[test]
fn ulp_model_just_inside_and_outside() {
    let tiny = f32::from_bits(1);
    let exact = [1.0f32, -tiny, 2.0];
    // 3 steps above 1; 2 steps across zero; exact.
    let got = [step32(1.0, 3), tiny, 2.0];
    let r = judge_elements(&Model::Ulp(3), &got, &exact, &[], 1);
    assert!(r.passed(), "{r}");
    assert_eq!(r.max_ulp, 3);
    assert_eq!(r.max_ratio, 1.0);
    let r = judge_elements(&Model::Ulp(2), &got, &exact, &[], 1);
    assert_eq!(failure(&r), &Failure::Elements { count: 1, first: 0 });
    let r = judge_elements(&Model::Ulp(1), &got, &exact, &[], 1);
    assert_eq!(failure(&r), &Failure::Elements { count: 2, first: 0 });
}

/// y_cr = 1, A = 1, K = 4 in f32: `gamma_4 A + u |y_cr| = (4 / (1 - 4u) + 1) u`, just over
/// 5u. Below 1 the f32 spacing is u, above 1 it is 2u. Without the reference's half-ulp
/// (`u |y_cr|`) five steps down would fail; with `gamma_5` (one term too many) six would pass.
#[test]
fn componentwise_f32_just_inside_and_outside() {
    let allowed = 4.0 / (1.0 - 4.0 * U32) + 1.0; // in units of u
    assert!(allowed > 5.0 && allowed < 5.0 + 1e-6);
    let judge = |got: f32, terms: usize| {
        judge_elements(&Model::Componentwise, &[got], &[1.0f32], &[1.0], terms)
    };
    assert!(judge(step32(1.0, -5), 4).passed());
    let r = judge(step32(1.0, -6), 4);
    assert_eq!(failure(&r), &Failure::Elements { count: 1, first: 0 });
    assert!(r.max_ratio > 1.0 && r.max_ratio < 6.0 / 5.0);
    // Above 1: 2 steps = 4u inside, 3 steps = 6u outside.
    assert!(judge(step32(1.0, 2), 4).passed());
    assert!(!judge(step32(1.0, 3), 4).passed());
    // A bias is one more term: 5 / (1 - 5u) + 1 just over 6u.
    assert!(judge(step32(1.0, -6), 5).passed());
    assert!(!judge(step32(1.0, -7), 5).passed());
    // Negative values: the same distances.
    let r = judge_elements(
        &Model::Componentwise,
        &[-step32(1.0, -5), -step32(1.0, -6)],
        &[-1.0f32, -1.0],
        &[1.0, 1.0],
        4,
    );
    assert_eq!(failure(&r), &Failure::Elements { count: 1, first: 1 });
    let w = r.worst.expect("compared");
    assert_eq!((w.index, w.ulp), (1, 6));
    assert!(w.bound.expect("componentwise has a bound") > 5.0 * U32);
}

/// y_cr = 1, A = 3, K = 10 in f64: `(30 / (1 - 10u) + 1) u`, just over 31u.
#[test]
fn componentwise_f64_just_inside_and_outside() {
    let allowed = 30.0 / (1.0 - 10.0 * U64) + 1.0;
    assert!(allowed > 31.0 && allowed < 31.0 + 1e-9);
    let judge = |got: f64| judge_elements(&Model::Componentwise, &[got], &[1.0], &[3.0], 10);
    assert!(judge(step64(1.0, -31)).passed());
    assert!(!judge(step64(1.0, -32)).passed());
}

/// In the subnormal range the policy allows `(K + 2)` subnormal spacings for underflow (module
/// docs); with A tiny the gamma and half-ulp terms are negligible: K = 2 allows 4 spacings.
#[test]
fn componentwise_underflow_allowance() {
    let eta = f64::from(f32::from_bits(1));
    let exact = f32::from_bits(3);
    let judge = |got: f32| judge_elements(&Model::Componentwise, &[got], &[exact], &[3.0 * eta], 2);
    assert!(judge(f32::from_bits(7)).passed());
    assert!(!judge(f32::from_bits(8)).passed());
}

/// A bound of 1e-3 on the error's 2-norm: one element 0.9e-3 off passes, 1.1e-3 fails, and two
/// elements each within 1e-3 but with a norm of 1.08e-3 fail: the check is normwise.
#[test]
fn normwise_just_inside_and_outside() {
    let model = Model::Normwise { bound: 1e-3 };
    let exact = [1.0f64; 4];
    let r = judge_elements(&model, &[1.0 + 0.9e-3, 1.0, 1.0, 1.0], &exact, &[], 9);
    assert!(r.passed(), "{r}");
    assert!((r.max_ratio - 0.9).abs() < 1e-6, "{}", r.max_ratio);
    let r = judge_elements(&model, &[1.0 + 1.1e-3, 1.0, 1.0, 1.0], &exact, &[], 9);
    assert!(matches!(failure(&r), Failure::Norm { .. }), "{r}");
    let r = judge_elements(
        &model,
        &[1.0 + 0.6e-3, 1.0 + 0.9e-3, 1.0, 1.0],
        &exact,
        &[],
        9,
    );
    assert!(matches!(failure(&r), Failure::Norm { .. }), "{r}");
    let expected_norm = (0.6e-3f64.powi(2) + 0.9e-3f64.powi(2)).sqrt();
    match r.aggregate {
        Some(Aggregate::Norm { error, bound }) => {
            assert!((error - expected_norm).abs() < 1e-12);
            assert!((1e-3..1e-3 * (1.0 + 1e-9)).contains(&bound), "{bound}");
        }
        ref other => panic!("{other:?}"),
    }
    assert_eq!(r.worst.map(|w| w.index), Some(1));
    // A NaN where the exact value is finite fails element-wise, whatever the bound.
    let r = judge_elements(
        &Model::Normwise { bound: 1e300 },
        &[f64::NAN],
        &[1.0],
        &[],
        1,
    );
    assert_eq!(failure(&r), &Failure::Elements { count: 1, first: 0 });
}

/// TOSA per element, f32, KS = 4, bnd = 1: scale = 2^-24 = u, so 4 steps below 1 is err = -4
/// (inside) and 5 steps is -5 (outside). Sixteen outputs keep the aggregate checks satisfied:
/// sum err = -4 within 2 sqrt(64) = 16, sum err^2 = 16 within 0.4 * 4 * 16 = 25.6.
#[test]
fn tosa_per_element_just_inside_and_outside() {
    let exact = [1.0f32; 16];
    let abs = [1.0; 16];
    let mut got = exact;
    got[0] = step32(1.0, -4);
    let r = judge_elements(&Model::Tosa, &got, &exact, &abs, 4);
    assert!(r.passed(), "{r}");
    assert_eq!(
        r.aggregate,
        Some(Aggregate::Tosa {
            err_sum: -4.0,
            bias_limit: 16.0,
            err_sum_sq: 16.0,
            variance_limit: 0.4 * 4.0 * 16.0,
        })
    );
    assert_eq!(r.max_ratio, 1.0);
    got[0] = step32(1.0, -5);
    let r = judge_elements(&Model::Tosa, &got, &exact, &abs, 4);
    assert_eq!(failure(&r), &Failure::Elements { count: 1, first: 0 });
}

/// Where `bnd * u` is below `normal_min`, the scale is `normal_min` (2^-126 for f32); where
/// `bnd == 0` both values must be exactly zero; where `bnd` reaches f32's overflow there is
/// no limit, infinities and NaN included.
#[test]
fn tosa_floor_zero_bound_and_overflow() {
    let normal_min = f32::MIN_POSITIVE;
    let mut exact = [0.0f32; 16];
    let mut abs = [1.0; 16];
    abs[0] = 2f64.powi(-140);
    let mut got = exact;
    got[0] = 4.0 * normal_min;
    assert!(judge_elements(&Model::Tosa, &got, &exact, &abs, 4).passed());
    got[0] = 5.0 * normal_min;
    assert!(!judge_elements(&Model::Tosa, &got, &exact, &abs, 4).passed());

    abs[0] = 0.0;
    got[0] = -0.0;
    assert!(judge_elements(&Model::Tosa, &got, &exact, &abs, 4).passed());
    got[0] = f32::from_bits(1);
    assert!(!judge_elements(&Model::Tosa, &got, &exact, &abs, 4).passed());
    got[0] = 0.0;
    exact[0] = f32::from_bits(1);
    assert!(!judge_elements(&Model::Tosa, &got, &exact, &abs, 4).passed());

    // bnd beyond f32::MAX: a correct summation may overflow, so nothing is judged (module
    // docs): a finite value, an infinity or NaN all pass, unless the exact value is NaN.
    for got in [1.0f32, f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        for model in [Model::Tosa, Model::Componentwise] {
            let r = judge_elements(&model, &[got], &[2.0], &[1e39], 4);
            assert!(r.passed(), "{r}");
        }
    }
    let r = judge_elements(
        &Model::Componentwise,
        &[f32::INFINITY],
        &[f32::NAN],
        &[1e39],
        4,
    );
    assert!(
        matches!(
            r.verdict,
            Verdict::Fail(Failure::Elements { count: 1, first: 0 })
        ),
        "{r}"
    );
    // Below the overflow reach, an infinity is a non-finite mismatch.
    let r = judge_elements(&Model::Componentwise, &[f32::INFINITY], &[2.0], &[1e38], 4);
    assert!(
        matches!(
            r.verdict,
            Verdict::Fail(Failure::Elements { count: 1, first: 0 })
        ),
        "{r}"
    );
}

/// A systematically biased implementation: every element one step (of 2^-24, in [1/2, 1)) above
/// the exact value, with bnd = 10/9 so that one step is err = 0.9 scale units. Per element
/// 0.9 <= KS = 3 and sum err^2 = 81 <= 0.4 * 3 * 100 = 120, but sum err = 90 > 2 sqrt(300) =
/// 34.6: only the bias check catches it. The same steps with alternating signs pass, and the
/// componentwise model (per element, no aggregate) accepts the biased one.
#[test]
fn tosa_aggregate_checks_reject_a_biased_implementation() {
    let t = 100usize;
    let ks = 3usize;
    let exact: Vec<f32> = (0..t).map(|i| 0.5 + i as f32 / 256.0).collect();
    let abs = vec![10.0 / 9.0; t];
    let biased: Vec<f32> = exact.iter().map(|&e| step32(e, 1)).collect();
    let r = judge_elements(&Model::Tosa, &biased, &exact, &abs, ks);
    assert_eq!(r.failed, 0, "every element is within KS: {r}");
    match failure(&r) {
        Failure::TosaBias { sum, limit } => {
            assert!((sum - 0.9 * t as f64).abs() < 1e-9, "{sum}");
            assert!((limit - 2.0 * ((ks * t) as f64).sqrt()).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
    assert!(judge_elements(&Model::Componentwise, &biased, &exact, &abs, ks).passed());

    let alternating: Vec<f32> = exact
        .iter()
        .enumerate()
        .map(|(i, &e)| step32(e, if i % 2 == 0 { 1 } else { -1 }))
        .collect();
    let r = judge_elements(&Model::Tosa, &alternating, &exact, &abs, ks);
    assert!(r.passed(), "{r}");

    // Unbiased but noisy: two steps (err 1.8) with alternating signs. Per element 1.8 <= 3,
    // sum 0, but sum err^2 = 324 > 120.
    let noisy: Vec<f32> = exact
        .iter()
        .enumerate()
        .map(|(i, &e)| step32(e, if i % 2 == 0 { 2 } else { -2 }))
        .collect();
    let r = judge_elements(&Model::Tosa, &noisy, &exact, &abs, ks);
    assert_eq!(r.failed, 0);
    assert!(matches!(failure(&r), Failure::TosaVariance { .. }), "{r}");
}

#[test]
fn rtol_atol_just_inside_and_outside() {
    let relative = Model::RtolAtol {
        rtol: 1e-3,
        atol: 0.0,
    };
    assert!(judge_elements(&relative, &[1.0005f64], &[1.0], &[], 1).passed());
    assert!(!judge_elements(&relative, &[1.0015f64], &[1.0], &[], 1).passed());
    assert!(!judge_elements(&relative, &[1e-300f64], &[0.0], &[], 1).passed());
    let absolute = Model::RtolAtol {
        rtol: 0.0,
        atol: 0.5,
    };
    assert!(judge_elements(&absolute, &[0.5f64], &[0.0], &[], 1).passed());
    assert!(!judge_elements(&absolute, &[0.5f64.next_up()], &[0.0], &[], 1).passed());
}

// ---------------------------------------------------------------------------------------------
// Presets

/// docs/semantics.md section 7, transcribed: (name, rtol, atol).
const PEER_DEFAULTS: [(&str, f64, f64); 9] = [
    ("torch-f32", 1.3e-6, 1e-5),
    ("torch-f64", 1e-7, 1e-7),
    ("torch-f16", 1e-3, 1e-5),
    ("torch-bf16", 1.6e-2, 1e-5),
    ("numpy", 1e-7, 0.0),
    ("onnx", 1e-3, 1e-7),
    ("onnxruntime", 1e-3, 1e-5),
    ("jax-f32", 1e-6, 1e-6),
    ("jax-f64", 1e-15, 1e-15),
];

#[test]
fn presets_reproduce_the_peers_defaults() {
    assert_eq!(Preset::ALL.len(), PEER_DEFAULTS.len());
    for (name, rtol, atol) in PEER_DEFAULTS {
        let p: Preset = name.parse().expect("a known preset");
        assert_eq!(p.name(), name);
        assert_eq!(p.to_string(), name);
        assert_eq!(p.tolerances(), (rtol, atol), "{name}");
        assert_eq!(Model::from(p), Model::RtolAtol { rtol, atol });
    }
    for p in Preset::ALL {
        assert!(PEER_DEFAULTS.iter().any(|(n, _, _)| *n == p.name()));
    }
    let err = "torch".parse::<Preset>().expect_err("not a preset");
    assert!(err.to_string().contains("torch-f32"), "{err}");
}

/// torch's float32 default (rtol 1.3e-6, atol 1e-5): a relative error of 1e-6 at |e| = 1 is
/// inside (1e-6 <= 1e-5 + 1.3e-6); 2e-5 absolute at e = 0 is outside (atol 1e-5).
#[test]
fn torch_f32_preset_accepts_and_rejects_like_torch() {
    let m = Preset::TorchF32.model();
    let one_plus = (1.0f64 + 1e-6) as f32;
    assert!(judge_elements(&m, &[one_plus], &[1.0f32], &[], 1).passed());
    assert!(!judge_elements(&m, &[2e-5f32], &[0.0f32], &[], 1).passed());
    assert!(judge_elements(&m, &[0.9e-5f32], &[0.0f32], &[], 1).passed());
    // 1.2e-5 relative at |e| = 1 exceeds 1e-5 + 1.3e-6.
    let too_far = (1.0f64 + 1.2e-5) as f32;
    assert!(!judge_elements(&m, &[too_far], &[1.0f32], &[], 1).passed());
    // numpy: atol 0, so any difference from an exact zero fails.
    let n = Preset::Numpy.model();
    assert!(!judge_elements(&n, &[1e-30f64], &[0.0], &[], 1).passed());
    assert!(judge_elements(&n, &[1.0 + 5e-8f64], &[1.0], &[], 1).passed());
}

// ---------------------------------------------------------------------------------------------
// Special values, bad input, the report

#[test]
fn special_values_are_judged_alike_by_every_model() {
    let models = [
        Model::Exact,
        Model::Ulp(4),
        Model::Componentwise,
        Model::Normwise { bound: 1.0 },
        Model::Tosa,
        Model::RtolAtol {
            rtol: 1e-3,
            atol: 1e-3,
        },
        Preset::Numpy.model(),
    ];
    let (nan, inf) = (f32::NAN, f32::INFINITY);
    let cases = [
        (nan, -nan, true),
        (nan, 1.0, false),
        (inf, inf, true),
        (-inf, -inf, true),
        (inf, -inf, false),
        (inf, f32::MAX, false),
        (1.0, inf, false),
        (1.0, nan, false),
        (0.0, -0.0, true),
    ];
    for model in &models {
        for (exact, got, pass) in cases {
            let r = judge_elements(model, &[got], &[exact], &[1.0], 2);
            assert_eq!(r.passed(), pass, "{model}: got {got} vs exact {exact}: {r}");
        }
    }
}

#[test]
fn bad_input_fails_without_panicking() {
    let r = judge_elements(&Model::Exact, &[1.0f64, 2.0, 3.0], &[1.0, 2.0], &[], 1);
    assert_eq!(
        failure(&r),
        &Failure::LengthMismatch {
            what: "exact",
            expected: 3,
            got: 2
        }
    );
    assert_eq!((r.elements, r.worst.is_none()), (0, true));
    let r = judge_elements(
        &Model::Componentwise,
        &[1.0f32, 2.0],
        &[1.0, 2.0],
        &[1.0],
        1,
    );
    assert!(matches!(
        failure(&r),
        Failure::LengthMismatch {
            what: "abs_sum",
            ..
        }
    ));
    let r = judge_elements(&Model::Tosa, &[1.0f32], &[1.0], &[-1.0], 1);
    assert!(matches!(
        failure(&r),
        Failure::InvalidAbsSum { index: 0, .. }
    ));
    let nan_rtol = Model::RtolAtol {
        rtol: f64::NAN,
        atol: 0.0,
    };
    let r = judge_elements(&nan_rtol, &[1.0f32], &[1.0], &[], 1);
    assert!(matches!(
        failure(&r),
        Failure::InvalidParameter { what: "rtol", .. }
    ));
    let r = judge_elements(&Model::Normwise { bound: -1.0 }, &[1.0f32], &[1.0], &[], 1);
    assert!(matches!(
        failure(&r),
        Failure::InvalidParameter { what: "bound", .. }
    ));
    // Empty input passes every model.
    let r = judge_elements::<f64>(&Model::Tosa, &[], &[], &[], 3);
    assert!(r.passed() && r.elements == 0 && r.worst.is_none());
}

#[test]
fn report_fields_on_hand_made_data() {
    let exact = [1.0f64, 2.0, -0.0, 4.0, 5.0, -3.0];
    let got = [
        1.0,
        step64(2.0, 1),
        0.0,
        step64(4.0, 3),
        5.0,
        -step64(3.0, 2),
    ];
    let r = judge_elements(&Model::Ulp(3), &got, &exact, &[], 7);
    assert!(r.passed(), "{r}");
    assert_eq!(r.elements, 6);
    assert_eq!(r.failed, 0);
    assert_eq!(r.max_ulp, 3);
    assert_eq!(r.correctly_rounded, 3); // 1.0, +-0, 5.0
    assert_eq!(r.max_ratio, 1.0);
    let w = r.worst.clone().expect("compared");
    assert_eq!((w.index, w.ulp, w.got, w.exact), (3, 3, got[3], 4.0));
    assert_eq!(w.error, 3.0 * 2f64.powi(-50)); // the spacing of [4, 8) is 2^-50
    assert_eq!(w.bound, None);
    assert_eq!(w.ratio, 1.0);
    assert!(w.taps.is_empty());

    let r = judge_elements(&Model::Ulp(1), &got, &exact, &[], 7);
    assert_eq!(failure(&r), &Failure::Elements { count: 2, first: 3 });
    assert_eq!(r.failed, 2);
    assert_eq!(r.worst.as_ref().map(|w| w.index), Some(3));

    let text = r.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(text.starts_with("FAIL under ulp(1) (f64, K = 7)"), "{text}");
    assert!(
        text.contains("2 element(s) outside the bound, first at [3]"),
        "{text}"
    );
    assert!(text.contains("Worst at [3]"), "{text}");
    let text = judge_elements(
        &Model::Componentwise,
        &[step32(1.0, 1)],
        &[1.0f32],
        &[1.0],
        4,
    )
    .to_string();
    assert!(
        text.starts_with("PASS under componentwise (f32, K = 4)"),
        "{text}"
    );
    assert!(text.contains("got 1.0000001 vs exact 1.0"), "{text}");
}
