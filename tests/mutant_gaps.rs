//! Tests for behaviour no other test pinned down, found by cargo-mutants 27.1: on geometry.rs,
//! boundary.rs, spec.rs and reference.rs (mutants that survived `--lib --test reference --test
//! snapshots --test properties`), on layer.rs (the first mutants in file order) and on a
//! round-robin fifth of compare.rs (survivors of `--lib --test compare --test mutant_gaps`).
//! Every expected value is worked out by hand from the documented semantics (numpy.pad, the
//! formula in `reference`, the bounds' formulas in `compare`, the format strings), not taken
//! from a run.

use conv_oracle::problem::boundary::pad;
use conv_oracle::problem::geometry::{geometry, resolve_pads};
use conv_oracle::{Boundary, ConvError, ConvSpec, Flip, Limits, Padding, Problem, conv};
use ndarray::{ArrayD, IxDyn, array};

// ---------------------------------------------------------------------------------------------
// boundary::pad

/// numpy: `np.pad(np.zeros((2, 0)), ((1, 1), (0, 0)), 'reflect')` works (shape (4, 0)): an empty
/// axis that is not padded is fine in every mode. Only padding it (`lo > 0` or `hi > 0`) in a
/// mode that reads the input is refused ("can't extend empty axis").
#[test]
fn pad_refuses_an_empty_axis_only_when_it_is_padded_in_a_mode_that_reads_it() {
    let x = ArrayD::<i64>::zeros(IxDyn(&[2, 0]));
    let limits = Limits::default();
    for mode in [
        Boundary::Reflect,
        Boundary::Symmetric,
        Boundary::Replicate,
        Boundary::Circular,
    ] {
        // Not padded: fine.
        let y = pad(x.view(), &[(1, 1), (0, 0)], &mode, &limits)
            .unwrap_or_else(|e| panic!("{mode:?}: unpadded empty axis refused: {e:?}"));
        assert_eq!(y.shape(), &[4, 0], "{mode:?}");
        // Padded at the start only, or at the end only: refused on that axis (axis 1).
        for pads in [(3, 0), (0, 3)] {
            assert_eq!(
                pad(x.view(), &[(0, 0), pads], &mode, &limits),
                Err(ConvError::EmptyArray {
                    what: "padded array",
                    axis: 1
                }),
                "{mode:?} {pads:?}"
            );
        }
    }
    // numpy: np.pad(np.zeros(0), (2, 3), 'constant', constant_values=7) is [7, 7, 7, 7, 7]:
    // constant modes never read the input, so an empty axis may be padded.
    let e = ArrayD::<i64>::zeros(IxDyn(&[0]));
    let y = pad(e.view(), &[(2, 3)], &Boundary::Constant(7), &limits).unwrap();
    assert_eq!(y.into_raw_vec_and_offset().0, vec![7; 5]);
    let y = pad(e.view(), &[(2, 3)], &Boundary::Zeros, &limits).unwrap();
    assert_eq!(y.into_raw_vec_and_offset().0, vec![0; 5]);
}

/// `max_elements` is the largest allowed count: a padded array of exactly that many elements
/// is made, one more is refused.
#[test]
fn pad_limit_is_inclusive() {
    // (2, 3) padded by (1, 0) and (0, 1): (3, 4) = 12 elements.
    let x = ArrayD::<i64>::zeros(IxDyn(&[2, 3]));
    let pads = [(1, 0), (0, 1)];
    let at = Limits {
        max_elements: 12,
        max_work: 1,
    };
    let y = pad(x.view(), &pads, &Boundary::Zeros, &at).expect("12 elements within a limit of 12");
    assert_eq!(y.shape(), &[3, 4]);
    let under = Limits {
        max_elements: 11,
        max_work: 1,
    };
    assert_eq!(
        pad(x.view(), &pads, &Boundary::Zeros, &under),
        Err(ConvError::LimitExceeded {
            what: "padded elements",
            limit: 11,
            got: 12
        })
    );
}

// ---------------------------------------------------------------------------------------------
// reference: limits, rank

/// Both limits are inclusive: exactly `max_elements` outputs and exactly `max_work`
/// multiply-adds are computed.
#[test]
fn reference_limits_are_inclusive() {
    // Input (2, 1, 5), weight (2, 1, 3), valid: output (2, 2, 3) = 12 elements, each a sum of
    // 3 taps: 36 multiply-adds.
    let x = ArrayD::<i64>::ones(IxDyn(&[2, 1, 5]));
    let w = ArrayD::<i64>::ones(IxDyn(&[2, 1, 3]));
    let run = |max_elements, max_work| {
        let spec = ConvSpec::new().limits(Limits {
            max_elements,
            max_work,
        });
        conv(&Problem::new(x.view(), w.view()).spec(spec))
    };
    let y = run(12, 36).expect("12 outputs and 36 multiply-adds are within limits of 12 and 36");
    assert_eq!(y.shape(), &[2, 2, 3]);
    assert!(y.iter().all(|&v| v == 3));
    assert!(matches!(
        run(11, 36),
        Err(ConvError::LimitExceeded {
            limit: 11,
            got: 12,
            ..
        })
    ));
    assert!(matches!(
        run(12, 35),
        Err(ConvError::LimitExceeded {
            limit: 35,
            got: 36,
            ..
        })
    ));
}

/// An input `(N, C)` with no spatial axes is a valid request (the check is "at least 2 axes"):
/// `y[n, o] = sum_c w[o, c] * x[n, c]`, a matrix product.
#[test]
fn reference_accepts_zero_spatial_axes() {
    let x = array![[1i64, 2], [3, 4]].into_dyn(); // N = 2, C = 2
    let w = array![[5i64, 6], [7, 8], [9, 10]].into_dyn(); // O = 3, C = 2
    let y = conv(&Problem::new(x.view(), w.view())).expect("rank-2 input is allowed");
    // n = 0: 1*5 + 2*6 = 17, 1*7 + 2*8 = 23, 1*9 + 2*10 = 29
    // n = 1: 3*5 + 4*6 = 39, 3*7 + 4*8 = 53, 3*9 + 4*10 = 67
    assert_eq!(y, array![[17i64, 23, 29], [39, 53, 67]].into_dyn());
}

// ---------------------------------------------------------------------------------------------
// geometry

/// `resolve_pads` called directly with too few explicit pads names the axis count it needed
/// (`axis + 1`) and the count it got.
#[test]
fn resolve_pads_with_missing_explicit_pads() {
    assert_eq!(
        resolve_pads(&Padding::Explicit(vec![(1, 1)]), 5, 3, 1, 1, 1),
        Err(ConvError::RankMismatch {
            what: "explicit pads",
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        resolve_pads(&Padding::Explicit(vec![]), 5, 3, 1, 1, 0),
        Err(ConvError::RankMismatch {
            what: "explicit pads",
            expected: 1,
            got: 0
        })
    );
}

/// The resolved geometry as a value: output shape, pads, dilated kernel extent and its
/// printed form (the format strings of `AxisGeometry` and `Geometry`).
#[test]
fn geometry_value_and_display() {
    // Axis 0: n = 9, k = 4, s = 2, d = 3, pads (1, 2): eff = 3*3 + 1 = 10,
    //         out = floor((9 + 3 - 10) / 2) + 1 = 2.
    // Axis 1: n = 4, k = 2, s = 1, d = 1, pads (0, 1): eff = 2, out = (4 + 1 - 2) / 1 + 1 = 4.
    let spec = ConvSpec::<i64>::new()
        .stride([2, 1])
        .dilation([3, 1])
        .padding(Padding::Explicit(vec![(1, 2), (0, 1)]));
    let g = geometry(&[9, 4], &[4, 2], &spec).unwrap();
    assert_eq!(g.output_shape(), vec![2, 4]);
    assert_eq!(g.pads(), vec![(1, 2), (0, 1)]);
    assert_eq!(g.axes[0].effective_kernel(), 10);
    assert_eq!(g.axes[1].effective_kernel(), 2);
    assert_eq!(
        g.to_string(),
        "axis 0: n=9 k=4 s=2 d=3 pads=(1,2) out=2\naxis 1: n=4 k=2 s=1 d=1 pads=(0,1) out=4"
    );
    assert_eq!(g.axes[1].to_string(), "n=4 k=2 s=1 d=1 pads=(0,1) out=4");
}

// ---------------------------------------------------------------------------------------------
// spec

/// numpy.pad's mode names: constant, reflect, symmetric, edge, wrap.
#[test]
fn boundary_numpy_names() {
    let names: Vec<_> = [
        Boundary::Zeros,
        Boundary::Constant(3i64),
        Boundary::Reflect,
        Boundary::Symmetric,
        Boundary::Replicate,
        Boundary::Circular,
    ]
    .iter()
    .map(|b| b.numpy_name())
    .collect();
    assert_eq!(
        names,
        [
            "constant",
            "constant",
            "reflect",
            "symmetric",
            "edge",
            "wrap"
        ]
    );
}

/// `map_constant` changes the constant and nothing else.
#[test]
fn map_constant_keeps_every_other_field() {
    let limits = Limits {
        max_elements: 99,
        max_work: 77,
    };
    let spec = ConvSpec::<i64>::new()
        .stride([2, 3])
        .dilation([4, 5])
        .padding(Padding::Full)
        .boundary(Boundary::Constant(7))
        .groups(2)
        .flip(Flip::Convolution)
        .limits(limits);
    let mapped = spec.map_constant(|c| c as f64 / 2.0);
    let expected = ConvSpec::<f64>::new()
        .stride([2, 3])
        .dilation([4, 5])
        .padding(Padding::Full)
        .boundary(Boundary::Constant(3.5))
        .groups(2)
        .flip(Flip::Convolution)
        .limits(limits);
    assert_eq!(mapped, expected);
    // Modes without a constant map to themselves.
    let reflect = ConvSpec::<i64>::new().boundary(Boundary::Reflect);
    assert_eq!(
        reflect.map_constant(|c| c as f64).boundary,
        Boundary::Reflect
    );
}

// ---------------------------------------------------------------------------------------------
// layer (cargo-mutants on layer.rs: `need_rank` replaced by `Ok(())` survived)

/// An input or weight of rank below 2 has no channel axis: both layout readers refuse it with
/// the array named, the rank 2 they need and the rank they got, in every layout, before any
/// axis permutation (which would panic on such an array).
#[test]
fn layout_readers_refuse_arrays_without_a_channel_axis() {
    use conv_oracle::layer::{InputLayout, KernelLayout, input_as_nchw, weight_as_oihw};
    let one = ArrayD::<f64>::zeros(IxDyn(&[3]));
    let scalar = ArrayD::<f64>::zeros(IxDyn(&[]));
    for a in [&one, &scalar] {
        for layout in [InputLayout::ChannelsFirst, InputLayout::ChannelsLast] {
            assert_eq!(
                input_as_nchw(a.view(), layout).map(|v| v.shape().to_vec()),
                Err(ConvError::RankMismatch {
                    what: "input (N, C, spatial...)",
                    expected: 2,
                    got: a.ndim()
                }),
                "{layout:?}"
            );
        }
        for layout in [KernelLayout::Oihw, KernelLayout::Hwio, KernelLayout::Ohwi] {
            assert_eq!(
                weight_as_oihw(a.view(), layout).map(|v| v.shape().to_vec()),
                Err(ConvError::RankMismatch {
                    what: "weight",
                    expected: 2,
                    got: a.ndim()
                }),
                "{layout:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// compare (cargo-mutants on a round-robin fifth of compare.rs's mutants, tests --lib, compare,
// mutant_gaps)

/// `componentwise_bound(K, A, u_peer) = (gamma_K(u_peer) + g) A / (1 - g) (1 + 8u)` with
/// `g = gamma_K(2^-53)`. At `K = 2^50`, `K u = 1/8`, so `g = (1/8) / (7/8) = 1/7` and, with a
/// peer that rounds nothing (`u_peer = 0`), the bound is `(1/7) / (6/7) = 1/6` (times
/// `1 + 8u`). The division by `1 - g` (not a product, not `1 + g`) is what covers the
/// reference's own error.
#[test]
fn componentwise_bound_divides_by_one_minus_gamma() {
    use conv_oracle::tolerance::{U64, componentwise_bound};
    let b = componentwise_bound(1 << 50, 1.0, 0.0);
    let expected = 1.0 / 6.0;
    assert!(
        (b - expected * (1.0 + 8.0 * U64)).abs() <= 4.0 * f64::EPSILON * expected,
        "{b} vs {expected}"
    );
}

/// `componentwise` counts the elements equal to the reference, and among equal ratios
/// reports the first as the worst.
#[test]
fn componentwise_counts_exact_elements_and_keeps_the_first_worst() {
    use conv_oracle::tolerance::{U32, componentwise, componentwise_bound};
    let reference = [1.0, 2.0, 3.0, 4.0];
    let abs = [1.0, 1.0, 1.0, 1.0];
    // A float32 peer, 2 terms: the bound is about gamma_2(2^-24) = 1.2e-7. Elements 1 and 3
    // are off by 2^-25 (exact in f64 at 2 and 4), inside it; 0 and 2 are exact.
    let off = 2f64.powi(-25);
    assert!(off < componentwise_bound(2, 1.0, U32));
    let peer = [1.0, 2.0 + off, 3.0, 4.0 + off];
    assert_eq!(peer[1] - reference[1], peer[3] - reference[3]);
    let r = componentwise(&peer, &reference, &abs, 2, U32);
    assert!(r.passed);
    assert_eq!(r.exact, 2);
    assert_eq!(r.worst, 1);
    assert!(r.max_ratio > 0.0 && r.max_ratio <= 1.0);
}

/// `element_ratios` (the heatmap's data) under a normwise bound of 2: each element's error over
/// the whole bound, `|1 - 1| / 2 = 0`, `|2 - 1| / 2 = 0.5`, `|3 - 1| / 2 = 1`; and a NaN
/// where the exact value is finite is a special-value mismatch, ratio infinite.
#[test]
fn element_ratios_per_element_under_a_normwise_bound() {
    use conv_oracle::tolerance::{Model, element_ratios};
    let model = Model::Normwise { bound: 2.0 };
    let r = element_ratios(&model, &[1.0f64, 2.0, 3.0], &[1.0, 1.0, 1.0], &[0.0; 3], 1);
    assert_eq!(r, [0.0, 0.5, 1.0]);
    let r = element_ratios(&model, &[f64::NAN, 1.0], &[1.0, 1.0], &[0.0; 2], 1);
    assert_eq!(r.len(), 2);
    assert!(r[0].is_infinite() && r[1] == 0.0, "{r:?}");
}

/// The underflow term of `componentwise_bound_cr` (docs/numerics.md section 8.2), checked for
/// what it is for rather than copied. Below the normal range no relative bound holds: a product
/// whose exact value is `eta / 2` rounds (a tie, to even) to 0, an error `gamma_K A` cannot
/// cover. Additions of subnormal-range values are exact, so a direct summation of `K` rounded
/// products there is off from the exact `y` by at most `K eta / 2`, and the reference's own
/// rounding to `y_cr` adds at most `eta / 2`: `|y_hat - y_cr| <= (K + 1) eta / 2` (plus the
/// `gamma_K A + u |y_cr|` of the normal range), which the bound's underflow term must cover.
///
/// The worst case, reached: `K` equal products `x_i w_i = eta / 2` (`2^-75 * 2^-75` in f32,
/// `2^-537 * 2^-538` in f64). Each rounds to 0, so `y_hat = 0` in every order, FMA chain
/// included (`fma(x, w, 0)` is the same tie); `y = K eta / 2`, and for `K = 3 (mod 4)` that is the
/// tie `((K - 1) / 2 + 1/2) eta` with `(K - 1) / 2` odd, so `y_cr = (K + 1) eta / 2` rounds away
/// from `y_hat`: the error is `(K + 1) eta / 2`, the most any summation can make here. With
/// every error computed exactly (`BigRational`, from the same inputs):
/// - sound: `componentwise_bound_cr` is at least the error, and `judge_elements` under
///   `Model::Componentwise` passes the candidate;
/// - needed: the error exceeds `gamma_K A_hat + u |y_cr|`, the bound without an underflow term,
///   so a bound that drops or zeroes the term fails the soundness check above;
/// - not loose: the bound is at most `2 (K + 2) / (K + 1)` times the error, the ratio of the
///   code's `(K + 2)(1 + g) eta` to the derivation's `(K + 1) eta / 2` (its documented slack,
///   which also covers the f64 underflow of `u |y_cr|`), times `1 + 2^-16` for `g = gamma_K`,
///   the `gamma_K A_hat + u |y_cr|` terms (below `2 K u` of the error here, `K <= 11`) and the
///   final `1 + 2^-48`. A count of `2K` in place of `K + 2`, `+` in place of a product, or `eta`
///   divided instead of multiplied fails here.
///
/// Then random subnormal-scale data (signs, mantissas and exponents drawn, `K = 1..=12`, four
/// summation orders including an FMA chain) must stay within the bound as well. And where no
/// bound exists (`K u >= 1`, `gamma_K` infinite) the bound must be infinite, as documented,
/// accepting every candidate: an underflow factor `1 - g` in place of `1 + g` would make it
/// `inf - inf`, a NaN that rejects everything.
#[test]
fn componentwise_bound_cr_underflow_term_is_sound_needed_and_tight() {
    use conv_oracle::tolerance::{Float, Model, componentwise_bound_cr, gamma, judge_elements};
    use num_bigint::BigInt;
    use num_rational::BigRational;
    use num_traits::{Signed, ToPrimitive, Zero};

    /// The arithmetic a candidate summation uses, in `F` itself.
    trait Arith: Float + std::ops::Mul<Output = Self> + std::ops::Add<Output = Self> {
        const ZERO: Self;
        fn fma(self, b: Self, c: Self) -> Self;
    }
    impl Arith for f32 {
        const ZERO: f32 = 0.0;
        fn fma(self, b: f32, c: f32) -> f32 {
            self.mul_add(b, c)
        }
    }
    impl Arith for f64 {
        const ZERO: f64 = 0.0;
        fn fma(self, b: f64, c: f64) -> f64 {
            self.mul_add(b, c)
        }
    }

    fn q(v: f64) -> BigRational {
        BigRational::from_float(v).expect("finite")
    }

    fn pairwise<F: Arith>(p: &[F]) -> F {
        match p {
            [] => F::ZERO,
            [a] => *a,
            _ => {
                let (l, r) = p.split_at(p.len() / 2);
                pairwise(l) + pairwise(r)
            }
        }
    }

    /// What one summation of `sum x_i w_i` is judged on.
    struct Judged {
        /// The largest `|y_hat - y_cr|` over the candidate orders, exact.
        error: BigRational,
        /// `componentwise_bound_cr::<F>(K, A_hat, y_cr)`.
        bound: f64,
        a_hat: f64,
        y_cr: f64,
    }

    /// Sums `x_i w_i` in `F` in four orders (left to right, right to left, pairwise, an FMA
    /// chain), computes `y`, `A` and every error exactly, and demands that each candidate is
    /// within the bound (exact comparison) and passes `judge_elements`.
    fn judge_sum<F: Arith>(x: &[F], w: &[F]) -> Judged {
        let k = x.len();
        let eta = q(F::SUBNORMAL_MIN);
        let exact: Vec<BigRational> = x
            .iter()
            .zip(w)
            .map(|(a, b)| q(a.to_f64()) * q(b.to_f64()))
            .collect();
        let y: BigRational = exact.iter().sum();
        let a: BigRational = exact.iter().map(|p| p.abs()).sum();
        // The data stay below twice the smallest normal, where F's values are the multiples of
        // eta: rounding to F is rounding to that grid, half to even.
        let grid_top = q(2.0 * F::NORMAL_MIN);
        assert!(
            a < grid_top,
            "{}: test data left the subnormal-spaced range",
            F::NAME
        );
        let t = &y / &eta;
        let fl = t.floor();
        let half = BigRational::new(BigInt::from(1), BigInt::from(2));
        let up = match (&t - &fl).cmp(&half) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => !(fl.to_integer() % BigInt::from(2)).is_zero(),
        };
        let n = fl.to_integer() + BigInt::from(u8::from(up));
        let n = n.to_i64().expect("a small multiple of eta");
        // Exact: n eta is representable in f64 and in F.
        let y_cr = F::from_f64(n as f64 * F::SUBNORMAL_MIN);
        assert_eq!(q(y_cr.to_f64()), BigRational::from_integer(n.into()) * &eta);
        // A_hat: the exact A rounded up into f64 (the contract of judge_elements).
        let mut a_hat = a.to_f64().expect("finite");
        while q(a_hat) < a {
            a_hat = a_hat.next_up();
        }
        let products: Vec<F> = x.iter().zip(w).map(|(&a, &b)| a * b).collect();
        let candidates = [
            (
                "left to right",
                products.iter().fold(F::ZERO, |s, &p| s + p),
            ),
            (
                "right to left",
                products.iter().rev().fold(F::ZERO, |s, &p| s + p),
            ),
            ("pairwise", pairwise(&products)),
            (
                "FMA chain",
                x.iter().zip(w).fold(F::ZERO, |s, (&a, &b)| a.fma(b, s)),
            ),
        ];
        let bound = componentwise_bound_cr::<F>(k, a_hat, y_cr.to_f64());
        let mut error = BigRational::zero();
        for (order, y_hat) in candidates {
            let e = (q(y_hat.to_f64()) - q(y_cr.to_f64())).abs();
            assert!(
                q(bound) >= e,
                "{} {order}, K = {k}: |y_hat - y_cr| = {:e} exceeds the bound {bound:e} \
                 (y_hat {y_hat:?}, y_cr {y_cr:?})",
                F::NAME,
                e.to_f64().unwrap()
            );
            let r = judge_elements(&Model::Componentwise, &[y_hat], &[y_cr], &[a_hat], k);
            assert!(r.passed(), "{} {order}, K = {k}: {r}", F::NAME);
            error = error.max(e);
        }
        Judged {
            error,
            bound,
            a_hat,
            y_cr: y_cr.to_f64(),
        }
    }

    /// The worst case of the doc comment, for products `x w = eta / 2`.
    fn worst_case<F: Arith>(x: F, w: F) {
        let eta = q(F::SUBNORMAL_MIN);
        let u = F::UNIT_ROUNDOFF;
        assert_eq!(
            q(x.to_f64()) * q(w.to_f64()),
            &eta / BigRational::from_integer(BigInt::from(2))
        );
        assert!(x * w == F::ZERO, "{}: eta / 2 must round to 0", F::NAME);
        for k in [3usize, 7, 11] {
            let j = judge_sum(&vec![x; k], &vec![w; k]);
            let k_q = |v: usize| BigRational::from_integer(BigInt::from(v));
            // Reached: (K + 1) eta / 2, the largest error any summation can make here.
            assert_eq!(j.error, k_q(k + 1) * &eta / k_q(2), "{} K = {k}", F::NAME);
            // Needed: without its underflow term the bound is exceeded.
            let without = q(gamma(k, u)) * q(j.a_hat) + q(u) * q(j.y_cr).abs();
            assert!(
                j.error > without,
                "{} K = {k}: the relative terms alone cover the error",
                F::NAME
            );
            // Not loose: at most the term's documented slack 2 (K + 2) / (K + 1) above the
            // error, times 1 + 2^-16.
            let slack = k_q(2 * (k + 2)) / k_q(k + 1) * (k_q(1) + q(2f64.powi(-16)));
            assert!(
                q(j.bound) <= &j.error * slack,
                "{} K = {k}: bound {:e} is more than 2 (K + 2) / (K + 1) times the worst \
                 error {:e}",
                F::NAME,
                j.bound,
                j.error.to_f64().unwrap()
            );
        }
    }
    worst_case::<f32>(2f32.powi(-75), 2f32.powi(-75));
    worst_case::<f64>(2f64.powi(-537), 2f64.powi(-538));

    // Random data at subnormal scale: x and w are +-(1 + f) 2^e with a random fraction f and
    // e in -70 - (0..=8) (f32) or -530 - (0..=8) (f64), so every product is below 2^-138
    // (2^-1058) and every sum of at most 12 below twice the smallest normal.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..500 {
        let k = 1 + (next() % 12) as usize;
        let mut draw32 = || {
            let r = next();
            let f = 1.0 + (r >> 41) as f64 * 2f64.powi(-23);
            let sign = if r & 1 == 1 { -1.0 } else { 1.0 };
            (sign * f * 2f64.powi(-70 - ((r >> 1) & 7) as i32 - ((r >> 4) & 1) as i32)) as f32
        };
        let (x, w): (Vec<f32>, Vec<f32>) = (0..k).map(|_| (draw32(), draw32())).unzip();
        judge_sum(&x, &w);
        let mut draw64 = || {
            let r = next();
            let f = 1.0 + (r >> 12) as f64 * 2f64.powi(-52);
            let sign = if r & 1 == 1 { -1.0 } else { 1.0 };
            sign * f * 2f64.powi(-530 - ((r >> 1) & 7) as i32 - ((r >> 4) & 1) as i32)
        };
        let (x, w): (Vec<f64>, Vec<f64>) = (0..k).map(|_| (draw64(), draw64())).unzip();
        judge_sum(&x, &w);
    }

    // No bound: K = 2^24 terms in f32, K u = 1.
    assert_eq!(gamma(1 << 24, f32::UNIT_ROUNDOFF), f64::INFINITY);
    let none = componentwise_bound_cr::<f32>(1 << 24, 1.0, 1.0);
    assert_eq!(none, f64::INFINITY, "{none}");
}

/// `Model::Normwise` through `judge_elements`: the error 2-norm is held to
/// `(bound + u ||exact|| + sqrt(T) eta)` (inflated by its own roundings). An error of 1 against
/// a bound of 0.5 fails; an error of one smallest subnormal against a zero bound and a zero
/// exact result passes only thanks to the `+ sqrt(T) eta` term (which must be added, not
/// subtracted or divided).
#[test]
fn normwise_judgement_adds_the_subnormal_term() {
    use conv_oracle::tolerance::{Model, judge_elements};
    let fails = judge_elements(
        &Model::Normwise { bound: 0.5 },
        &[1.0f64, 2.0],
        &[1.0, 1.0],
        &[],
        1,
    );
    assert!(!fails.passed(), "{fails}");
    let eta = f64::from_bits(1);
    let tiny = judge_elements(&Model::Normwise { bound: 0.0 }, &[eta], &[0.0f64], &[], 1);
    assert!(tiny.passed(), "{tiny}");
    let two = judge_elements(
        &Model::Normwise { bound: 0.0 },
        &[3.0 * eta],
        &[0.0f64],
        &[],
        1,
    );
    assert!(!two.passed(), "{two}");
}

/// `abs_sums`: per output, `sum |w| |x|` rounded up to the next float (0 stays 0). For
/// x = (1, -2, 3, 0), w = (1, -1), 'valid': 1 + 2 = 3, 2 + 3 = 5, 3 + 0 = 3; and an all-zero
/// window gives 0.
#[test]
fn abs_sums_are_the_rounded_up_magnitude_sums() {
    use conv_oracle::oracle::abs_sums;
    let x =
        ArrayD::from_shape_vec(IxDyn(&[1, 1, 6]), vec![1.0f64, -2.0, 3.0, 0.0, 0.0, 0.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0f64, -1.0]).unwrap();
    let a = abs_sums(&Problem::new(x.view(), w.view())).unwrap();
    assert_eq!(
        a,
        [3f64.next_up(), 5f64.next_up(), 3f64.next_up(), 0.0, 0.0]
    );
}

/// `exact_transpose` takes NaN and infinity positions from the literal terms: for
/// x = (inf, 1) and w = (0, 1) (stride 1, no padding) the outputs are `x0 w0 = inf * 0 = NaN`,
/// `x0 w1 + x1 w0 = inf`, `x1 w1 = 1` (an infinity must keep its sign and a zero weight must
/// stay zero when the specials are located).
#[test]
fn exact_transpose_locates_specials_from_the_literal_terms() {
    use conv_oracle::layer::TransposeProblem;
    use conv_oracle::oracle::exact_transpose;
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![f64::INFINITY, 1.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![0.0f64, 1.0]).unwrap();
    let y = exact_transpose(&TransposeProblem::new(x.view(), w.view())).unwrap();
    let y: Vec<f64> = y.iter().copied().collect();
    assert_eq!(y.len(), 3);
    assert!(y[0].is_nan(), "{y:?}");
    assert_eq!(&y[1..], [f64::INFINITY, 1.0]);
    // Negative infinity keeps its sign.
    let xn = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![f64::NEG_INFINITY, 1.0]).unwrap();
    let yn = exact_transpose(&TransposeProblem::new(xn.view(), w.view())).unwrap();
    assert_eq!(yn[[0, 0, 1]], f64::NEG_INFINITY);
}

/// `transpose_terms`: the most literal terms of any output. Stride 2, dilation 2, kernel 3,
/// input length 5, two input channels per group: output 4 receives taps 0, 1, 2 from inputs
/// 2, 1, 0 (positions 4, 2, 0 are even, halves below 5), so K = 2 * 3 = 6, and 7 with a bias.
#[test]
fn transpose_terms_counts_the_taps_that_reach_an_output() {
    use conv_oracle::layer::{TransposeProblem, TransposeSpec};
    use conv_oracle::oracle::transpose_terms;
    let x = ArrayD::<f64>::zeros(IxDyn(&[1, 2, 5]));
    let w = ArrayD::<f64>::zeros(IxDyn(&[2, 1, 3]));
    let b = ndarray::Array1::<f64>::zeros(1);
    let spec = || TransposeSpec {
        stride: vec![2],
        dilation: vec![2],
        ..TransposeSpec::default()
    };
    let p = TransposeProblem::new(x.view(), w.view()).spec(spec());
    assert_eq!(transpose_terms(&p), Ok(6));
    let mut pb = TransposeProblem::new(x.view(), w.view()).spec(spec());
    pb.bias = Some(b.view());
    assert_eq!(transpose_terms(&pb), Ok(7));
    // Stride 3 >= kernel 3, one channel: every output receives exactly one tap (positions must
    // be multiples of the stride), so K = 1.
    let x1 = ArrayD::<f64>::zeros(IxDyn(&[1, 1, 2]));
    let w1 = ArrayD::<f64>::zeros(IxDyn(&[1, 1, 3]));
    let stride3 = TransposeSpec {
        stride: vec![3],
        ..TransposeSpec::default()
    };
    let p3 = TransposeProblem::new(x1.view(), w1.view()).spec(stride3);
    assert_eq!(transpose_terms(&p3), Ok(1));
    // Stride 1, kernel 3, input 2: output 2 receives x1 w1 + x0 w2, output 3 only x1 w2 (an
    // input index must be below 2), so K = 2.
    let p1 = TransposeProblem::new(x1.view(), w1.view());
    assert_eq!(transpose_terms(&p1), Ok(2));
}

/// `transpose_output_terms`: the literal `(w, x)` pairs of one output, bias first. For
/// x = (1, 2), w = (3, 4, 5), stride 1, bias 6: output 2 is `b + w1 x1 + w2 x0`, listed in tap
/// order (tap 1 reads x1, tap 2 reads x0); past the end there are none.
#[test]
fn transpose_output_terms_lists_the_literal_pairs() {
    use conv_oracle::layer::TransposeProblem;
    use conv_oracle::oracle::transpose_output_terms;
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0f64, 2.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![3.0f64, 4.0, 5.0]).unwrap();
    let b = ndarray::Array1::from(vec![6.0f64]);
    let mut p = TransposeProblem::new(x.view(), w.view());
    p.bias = Some(b.view());
    assert_eq!(
        transpose_output_terms(&p, 2),
        Ok(vec![(6.0, 1.0), (4.0, 2.0), (5.0, 1.0)])
    );
    assert_eq!(transpose_output_terms(&p, 4), Ok(vec![]));

    // Two output channels, stride 2, pads (1, 0): x = (1, 2, 3), w[0, c, :] = (10, 20) for
    // c = 0 and (30, 40) for c = 1; output length (3 - 1) 2 + 2 - 1 = 5. Output o reads tap
    // t where pos = o + 1 - t is even, from x[pos / 2]. Flat index = c * 5 + o.
    use conv_oracle::layer::{TransposePadding, TransposeSpec};
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0f64, 2.0, 3.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), vec![10.0f64, 20.0, 30.0, 40.0]).unwrap();
    let spec = TransposeSpec {
        stride: vec![2],
        padding: TransposePadding::Explicit(vec![(1, 0)]),
        ..TransposeSpec::default()
    };
    let p = TransposeProblem::new(x.view(), w.view()).spec(spec);
    let terms = |i| transpose_output_terms(&p, i).unwrap();
    assert_eq!(terms(1), [(10.0, 2.0)]); // c 0, o 1: t 0, pos 2, x[1]
    assert_eq!(terms(5), [(40.0, 1.0)]); // c 1, o 0: t 1, pos 0, x[0]
    assert_eq!(terms(7), [(40.0, 2.0)]); // c 1, o 2: t 1, pos 2, x[1]
    assert_eq!(terms(8), [(30.0, 3.0)]); // c 1, o 3: t 0, pos 4, x[2]
}

/// `judge_pair` (two runs of one engine, each within the model): under `Ulp(n)` they agree
/// within `2n` ulps. Identical runs agree; 2 ulps apart agree under `Ulp(1)`; 3 ulps apart
/// disagree at the first such element; different lengths disagree at index 0.
#[test]
fn judge_pair_allows_twice_the_model() {
    use conv_oracle::tolerance::{Model, judge_pair};
    let one = 1.0f64;
    let two_up = one.next_up().next_up();
    let three_up = two_up.next_up();
    let m = Model::Ulp(1);
    assert_eq!(judge_pair(&m, &[one, 2.0], &[one, 2.0], &[], 1), None);
    assert_eq!(judge_pair(&m, &[2.0, one], &[2.0, two_up], &[], 1), None);
    let bad = judge_pair(&m, &[2.0, one], &[2.0, three_up], &[], 1);
    assert_eq!(bad.map(|(i, _)| i), Some(1));
    assert_eq!(
        judge_pair(&m, &[one], &[one, one], &[], 1).map(|(i, _)| i),
        Some(0)
    );
}

/// `judge_pair` under the componentwise model: two runs agree within
/// `2 (g A + u m + (K + 2)(1 + g) eta) / (1 - u)`, worked out here for f64:
/// - `A = 1`, `K = 2`: about `6u`; 1 ulp of 1 (`2u`) agrees, 4 ulps (`8u`) do not;
/// - `A = 0`, `K = 1`, values at subnormal scale: exactly `6 eta`; `6 eta` agrees, `7 eta` not;
/// - `A = 2^60`, `K = 2`: about `4u 2^60 = 512`, so 0 against 256 agrees (the allowance is
///   divided by `1 - u`, never reduced modulo anything);
/// - where a partial sum may overflow (`A` at the largest float) nothing is judged, NaN
///   included; equal infinities agree.
#[test]
fn judge_pair_componentwise_allowance() {
    use conv_oracle::tolerance::{Model, judge_pair};
    let m = Model::Componentwise;
    let agree =
        |a: f64, b: f64, abs: f64, k: usize| judge_pair(&m, &[a], &[b], &[abs], k).is_none();
    let ulps = |n: usize| (0..n).fold(1.0f64, |v, _| v.next_up());
    assert!(agree(1.0, ulps(1), 1.0, 2));
    assert!(!agree(1.0, ulps(4), 1.0, 2));
    let eta = f64::from_bits(1);
    assert!(agree(0.0, 6.0 * eta, 0.0, 1));
    assert!(!agree(0.0, 7.0 * eta, 0.0, 1));
    assert!(agree(0.0, 256.0, 2f64.powi(60), 2));
    assert!(!agree(0.0, 2048.0, 2f64.powi(60), 2));
    assert!(agree(f64::NAN, 1.0, f64::MAX, 1));
    assert!(agree(f64::INFINITY, f64::INFINITY, 1.0, 1));
    assert!(!agree(f64::INFINITY, 1.0, 1.0, 1));
    // The model reads one abs_sum per element: a missing one is the caller's error, refused
    // at index 0 (for equal values too), not a pass.
    for model in [Model::Componentwise, Model::Tosa] {
        let r = judge_pair(&model, &[1.0, 2.0], &[1.0, 9.0], &[1.0], 2);
        assert!(
            r.as_ref()
                .is_some_and(|(i, why)| *i == 0 && why.contains("abs_sum")),
            "{r:?}"
        );
        assert!(judge_pair(&model, &[1.0], &[1.0], &[], 2).is_some());
    }
    // Models that do not read it accept it empty.
    assert_eq!(judge_pair(&Model::Ulp(1), &[1.0], &[1.0], &[], 2), None);
}

/// `judge_pair` under a normwise bound `B`: finite runs agree when the 2-norm of their
/// difference is at most `2B`: `(1, 2)` against `(1, 2.5)` differ by 0.5, inside `2 * 0.5`
/// and outside `2 * 0.1`.
#[test]
fn judge_pair_normwise_allowance() {
    use conv_oracle::tolerance::{Model, judge_pair};
    let pair = |bound| {
        judge_pair(
            &Model::Normwise { bound },
            &[1.0f64, 2.0],
            &[1.0, 2.5],
            &[],
            1,
        )
    };
    assert_eq!(pair(0.5), None);
    assert_eq!(pair(0.1).map(|(i, _)| i), Some(0));
}

/// `block_factor(N, C)` includes `gamma_(C-1)` for the channel sum: with a trivial transform
/// (`N = 1`, `phi = 0`) and 1001 channels, `beta ~ 2u + sqrt(2) gamma_2 + gamma_1000 ~ 1004.8u`.
#[test]
fn block_factor_counts_the_channel_sum() {
    use conv_oracle::tolerance::U64;
    use conv_oracle::tolerance::fft::block_factor;
    let beta = block_factor(1.0, 1001) / U64;
    assert!((1004.0..1006.0).contains(&beta), "{beta}");
}

/// `judge_pair` under `rtol = 0.1, atol = 0`: runs agree within `2 rtol m / (1 - rtol)`,
/// `m` the larger magnitude. 1 against 1.25: `2 * 0.125 / 0.9 = 0.278 >= 0.25`, agree; 1
/// against 2: `2 * 0.2 / 0.9 = 0.444 < 1`, disagree.
#[test]
fn judge_pair_rtol_allowance() {
    use conv_oracle::tolerance::{Model, judge_pair};
    let m = Model::RtolAtol {
        rtol: 0.1,
        atol: 0.0,
    };
    assert_eq!(judge_pair(&m, &[1.0f64], &[1.25], &[], 1), None);
    assert!(judge_pair(&m, &[1.0f64], &[2.0], &[], 1).is_some());
}

/// `FftTerms::bound` with a bias and a final rounding to f32, written out: with `N = 1`,
/// `C = 1`, mass `M = 1`, bias `b = 2` over `P = 9` outputs, the output norm is
/// `M + sqrt(P) b = 7`; `e = beta M`, then `(1 + u) e + 7u` for the bias, then
/// `(1 + u32) e + 7 u32` for the rounding, plus `2^-900 + 2^-1060`, times `1 + 2^-40`.
#[test]
fn fft_bound_adds_bias_and_output_rounding() {
    use conv_oracle::tolerance::fft::{FftTerms, TransformPrecision, block_factor};
    use conv_oracle::tolerance::{U32, U64};
    let terms = FftTerms {
        transform_len: 1.0,
        channels: 1,
        mass: 1.0,
        bias: Some(2.0),
        outputs: 9,
        overlap: 1,
        scale: 1.0,
        output_roundoff: Some(U32),
        precision: TransformPrecision::Double,
        underflow_gain: 1.0,
    };
    let mut e = block_factor(1.0, 1);
    e = (1.0 + U64) * e + U64 * 7.0;
    e = (1.0 + U32) * e + U32 * 7.0;
    let expected = (e + 2f64.powi(-900) + 2f64.powi(-1060)) * (1.0 + 2f64.powi(-40));
    let got = terms.bound();
    assert!(
        (got - expected).abs() <= 1e-13 * expected,
        "{got:e} vs {expected:e}"
    );
}

/// The 1-norm upper bounds and the mass inflate the computed sum by their own rounding: `gamma_(n+1)` for
/// `n` real values, `gamma_(2n+2)` for `n` complex ones (hypot within 1 ulp). For 1000 ones the
/// factors are `1 + 1001u` and `1 + 2002u` (to first order; `u = 2^-53`), read back within
/// the 2u grid of numbers near 1 (so `gamma_(n-1)` against `gamma_(n+1)` is below what can be
/// seen; a count of 0 or of `n + 4` is not).
#[test]
fn l1_upper_bounds_inflate_by_their_rounding() {
    use conv_oracle::tolerance::U64;
    use conv_oracle::tolerance::fft::{l1_upper, l1_upper_complex};
    let real = (l1_upper(vec![1.0; 1000]) / 1000.0 - 1.0) / U64;
    assert!((995.0..1010.0).contains(&real), "{real}");
    let ones = vec![num_complex::Complex::new(1.0, 0.0); 1000];
    let complex = (l1_upper_complex(ones) / 1000.0 - 1.0) / U64;
    assert!((1995.0..2010.0).contains(&complex), "{complex}");
    // The mass `sum_c a_c b_c` of 1000 pairs: `gamma_(C+2)`, about 1002u.
    let mass = (conv_oracle::tolerance::fft::mass(vec![(1.0, 1.0); 1000]) / 1000.0 - 1.0) / U64;
    assert!((995.0..1010.0).contains(&mass), "{mass}");
}

/// `reference_error(A, K) = l2_upper(A) g / (1 - g) (1 + 8u)` with `g = gamma_K(u)`: at
/// `K = 2^50`, `g = 1/7` and the factor is `1/6`, evaluated in the same order here.
#[test]
fn reference_error_divides_by_one_minus_gamma() {
    use conv_oracle::tolerance::fft::{l2_upper, reference_error};
    use conv_oracle::tolerance::{U64, gamma};
    let sums = [3.0, 4.0];
    let g = gamma(1 << 50, U64);
    assert_eq!(g, 1.0 / 7.0);
    let expected = l2_upper(sums) * g / (1.0 - g) * (1.0 + 8.0 * U64);
    assert_eq!(reference_error(sums, 1 << 50), expected);
    assert!((expected - 5.0 / 6.0).abs() < 1e-14, "{expected}");
}
