//! The symbolic element type: `Poly` is a commutative ring with an involution (the axioms as
//! properties on random polynomials), evaluation at a point is a ring homomorphism (so an
//! identity between polynomials holds at every point), the reference on symbolic inputs
//! evaluates to the reference on the numbers, and first identities proved with it:
//! convolution commutes, cross-correlation does not, and the reflection identity that relates
//! the two correlations.

mod common;
use common::cfg;

use conv_oracle::symbolic::{Poly, Var, variables};
use conv_oracle::{Mode, Problem, Ring, conv, convolve, convolve2d, correlate};
use ndarray::{Array1, ArrayD, Axis, Ix1, Ix2, IxDyn};
use num_bigint::BigInt;
use num_complex::Complex;
use proptest::prelude::*;

/// A random polynomial in `x[0..3]` and `conj(x[0..3])`: up to four terms of degree up to 3,
/// coefficients in -5..=5.
fn poly() -> impl Strategy<Value = Poly> {
    let factor = (0usize..3, any::<bool>()).prop_map(|(i, c)| {
        let v = Poly::var("x", &[i]);
        if c { v.conj() } else { v }
    });
    let term = (-5i64..=5, proptest::collection::vec(factor, 0..=3)).prop_map(|(c, fs)| {
        fs.iter()
            .fold(Poly::constant(c), |acc: Poly, f: &Poly| acc.times(f))
    });
    proptest::collection::vec(term, 0..=4).prop_map(|ts| {
        ts.iter()
            .fold(Poly::zero(), |acc: Poly, t: &Poly| acc.plus(t))
    })
}

/// The value of `x[i]` at a point given as Gaussian integers, and of `conj(x[i])` its
/// conjugate: evaluation of a polynomial there.
fn at(p: &Poly, point: &[(i64, i64)]) -> Complex<BigInt> {
    p.eval(
        |c| Complex::new(c.clone(), BigInt::from(0)),
        |v: &Var| {
            let (re, im) = point[v.index()[0]];
            let z = Complex::new(BigInt::from(re), BigInt::from(im));
            if v.is_conj() { Ring::conj(&z) } else { z }
        },
    )
}

proptest! {
    #![proptest_config(cfg(256))]

    /// The commutative ring axioms, with conjugation an involution that respects `+` and `*`.
    #[test]
    fn ring_axioms(a in poly(), b in poly(), c in poly()) {
        prop_assert_eq!(a.plus(&b), b.plus(&a));
        prop_assert_eq!(a.times(&b), b.times(&a));
        prop_assert_eq!(a.plus(&b).plus(&c), a.plus(&b.plus(&c)));
        prop_assert_eq!(a.times(&b).times(&c), a.times(&b.times(&c)));
        prop_assert_eq!(a.times(&b.plus(&c)), a.times(&b).plus(&a.times(&c)));
        prop_assert_eq!(a.plus(&Poly::zero()), a.clone());
        prop_assert_eq!(a.times(&<Poly as Ring>::one()), a.clone());
        prop_assert!(a.minus(&a).is_zero());
        prop_assert_eq!(a.minus(&b).plus(&b), a.clone());
        prop_assert_eq!(a.conj().conj(), a.clone());
        prop_assert_eq!(a.plus(&b).conj(), a.conj().plus(&b.conj()));
        prop_assert_eq!(a.times(&b).conj(), a.conj().times(&b.conj()));
    }

    /// Evaluation at a point of Gaussian integers (conjugate variables at the conjugate
    /// values) is a ring homomorphism that commutes with conjugation: what makes an identity
    /// of polynomials an identity at every complex point.
    #[test]
    fn evaluation_is_a_homomorphism(
        a in poly(),
        b in poly(),
        point in proptest::collection::vec((-9i64..=9, -9i64..=9), 3),
    ) {
        prop_assert_eq!(at(&a.plus(&b), &point), at(&a, &point) + at(&b, &point));
        prop_assert_eq!(at(&a.minus(&b), &point), at(&a, &point) - at(&b, &point));
        prop_assert_eq!(at(&a.times(&b), &point), at(&a, &point) * at(&b, &point));
        prop_assert_eq!(at(&a.conj(), &point), Ring::conj(&at(&a, &point)));
    }

    /// The layer reference on symbolic input and weight (one variable per entry), evaluated at
    /// random integers, is the reference run on those integers: the symbolic run computes the
    /// same formula.
    #[test]
    fn symbolic_reference_evaluates_to_the_numeric_one(
        n in 1usize..=6,
        k in 1usize..=3,
        seed in any::<u64>(),
    ) {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % 19) as i64 - 9
        };
        let xs: Vec<i64> = (0..2 * n).map(|_| next()).collect();
        let ws: Vec<i64> = (0..2 * 2 * k).map(|_| next()).collect();
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 2, n]), xs.clone()).expect("shape");
        let w = ArrayD::from_shape_vec(IxDyn(&[2, 2, k]), ws.clone()).expect("shape");
        let spec = || conv_oracle::ConvSpec::new().padding(conv_oracle::Padding::Full);
        let numeric = conv(&Problem::new(x.view(), w.view()).spec(spec())).expect("valid");
        let spec = || conv_oracle::ConvSpec::<Poly>::new().padding(conv_oracle::Padding::Full);
        let (sx, sw) = (variables("x", &[1, 2, n]), variables("w", &[2, 2, k]));
        let symbolic = conv(&Problem::new(sx.view(), sw.view()).spec(spec())).expect("valid");
        let value = |v: &Var| -> BigInt {
            let i = v.index();
            BigInt::from(match v.name() {
                "x" => xs[i[1] * n + i[2]],
                _ => ws[(i[0] * 2 + i[1]) * k + i[2]],
            })
        };
        for (s, &y) in symbolic.iter().zip(numeric.iter()) {
            prop_assert_eq!(s.eval(|c| c.clone(), value), BigInt::from(y));
        }
    }
}

/// `f * g = g * f` as polynomials for every 1-D pair of lengths up to 6 and every mode, and
/// every 2-D pair of shapes up to 5x5 with kernels up to 3x3 in full mode: for every input of
/// those shapes in every commutative ring. ('same' and 'valid' keep the first argument's
/// frame, so they commute only where the frames agree; full always does.)
#[test]
fn convolution_commutes_symbolically() {
    for n in 1..=6 {
        for m in 1..=6 {
            let (f, g) = (variables("f", &[n]), variables("g", &[m]));
            let (f, g) = (
                f.into_dimensionality::<Ix1>().expect("1-D"),
                g.into_dimensionality::<Ix1>().expect("1-D"),
            );
            let fg = convolve(f.view(), g.view(), Mode::Full).expect("full");
            let gf = convolve(g.view(), f.view(), Mode::Full).expect("full");
            assert_eq!(fg, gf, "lengths {n} and {m}");
            if n == m {
                for mode in [Mode::Same, Mode::Valid] {
                    let fg = convolve(f.view(), g.view(), mode).expect("mode");
                    let gf = convolve(g.view(), f.view(), mode).expect("mode");
                    assert_eq!(fg, gf, "lengths {n}, {mode:?}");
                }
            }
        }
    }
    for shape in (1..=5).flat_map(|a| (1..=5).map(move |b| [a, b])) {
        for kernel in (1..=3).flat_map(|a| (1..=3).map(move |b| [a, b])) {
            let f = variables("f", &shape)
                .into_dimensionality::<Ix2>()
                .expect("2-D");
            let g = variables("g", &kernel)
                .into_dimensionality::<Ix2>()
                .expect("2-D");
            let zero = conv_oracle::Boundary2d::Fill(Poly::zero());
            let fg = convolve2d(f.view(), g.view(), Mode::Full, zero.clone()).expect("full");
            let gf = convolve2d(g.view(), f.view(), Mode::Full, zero).expect("full");
            assert_eq!(fg, gf, "{shape:?} and {kernel:?}");
        }
    }
}

/// scipy's correlate is `z[k] = sum_l f[l + k - (M - 1)] conj(g[l])` in full mode, for every
/// pair of lengths up to 6 (both argument orders, so numpy's swapping path and scipy's are
/// both covered), checked against the formula written out on polynomials; it is not
/// commutative (already for lengths 2 and 2), and the reflection identity holds:
/// `correlate(f, g)[k] = conj(correlate(g, f)[N + M - 2 - k])`.
#[test]
fn correlation_formula_reflection_and_no_commutativity() {
    for n in 1..=6 {
        for m in 1..=6 {
            let f = variables("f", &[n])
                .into_dimensionality::<Ix1>()
                .expect("1-D");
            let g = variables("g", &[m])
                .into_dimensionality::<Ix1>()
                .expect("1-D");
            let fg = correlate(f.view(), g.view(), Mode::Full).expect("full");
            let formula: Array1<Poly> = Array1::from_shape_fn(n + m - 1, |k| {
                (0..m)
                    .filter_map(|l| {
                        let i = (l + k).checked_sub(m - 1).filter(|&i| i < n)?;
                        Some(f[i].times(&g[l].conj()))
                    })
                    .fold(Poly::zero(), |a, t| a.plus(&t))
            });
            assert_eq!(fg, formula, "lengths {n} and {m}");
            let gf = correlate(g.view(), f.view(), Mode::Full).expect("full");
            let mut reflected = gf.mapv(|p| p.conj());
            reflected.invert_axis(Axis(0));
            assert_eq!(fg, reflected, "lengths {n} and {m}");
        }
    }
    let f = variables("f", &[2])
        .into_dimensionality::<Ix1>()
        .expect("1-D");
    let g = variables("g", &[2])
        .into_dimensionality::<Ix1>()
        .expect("1-D");
    let fg = correlate(f.view(), g.view(), Mode::Full).expect("full");
    let gf = correlate(g.view(), f.view(), Mode::Full).expect("full");
    assert_ne!(fg, gf);
    assert_eq!(fg[0].to_string(), "f[0]*conj(g[1])");
    assert_eq!(gf[0].to_string(), "conj(f[1])*g[0]");
    // And at a real integer point the two differ too: f = (1, 2), g = (3, 4).
    let value =
        |v: &Var| BigInt::from([[1, 2], [3, 4]][usize::from(v.name() == "g")][v.index()[0]]);
    assert_eq!(fg[0].eval(|c| c.clone(), value), BigInt::from(4));
    assert_eq!(gf[0].eval(|c| c.clone(), value), BigInt::from(6));
}

/// A claim checked on a deliberately wrong computation is not proved: "commutativity" of a
/// convolution that drops the last product of every output (a classic loop-bound slip) fails
/// with a counterexample on small shapes, and the check names where.
#[test]
fn a_wrong_convolution_fails_the_commutativity_claim() {
    use conv_oracle::proofs::{Claim, Expect, Sides, signal};
    fn sloppy(f: &Array1<Poly>, g: &Array1<Poly>) -> Vec<Poly> {
        (0..f.len() + g.len() - 1)
            .map(|n| {
                let mut products: Vec<Poly> = (0..f.len())
                    .filter(|&m| n >= m && n - m < g.len())
                    .map(|m| f[m].times(&g[n - m]))
                    .collect();
                if products.len() > 1 {
                    products.pop(); // the slip: the loop stops one product early
                }
                products.iter().fold(Poly::zero(), |a, t| a.plus(t))
            })
            .collect()
    }
    fn cases() -> Vec<Sides> {
        (1..=4)
            .flat_map(|n| (1..=4).map(move |m| (n, m)))
            .map(|(n, m)| {
                let (f, g) = (signal("f", n), signal("g", m));
                Sides {
                    shapes: format!("f: [{n}], g: [{m}]"),
                    left: sloppy(&f, &g),
                    right: sloppy(&g, &f),
                }
            })
            .collect()
    }
    let claim = Claim {
        name: "sloppy-commutativity",
        statement: "a convolution missing its last product commutes",
        covers: "1-D lengths 1..=4",
        expect: Expect::Holds,
        page: "none",
        cases,
    };
    let v = claim.check();
    assert!(!v.passed());
    let bad = v.counterexample.expect("a counterexample");
    assert_eq!(bad.shapes, "f: [2], g: [2]");
    let k = bad.first_difference().expect("a difference");
    assert_eq!(k, 1);
    assert_eq!(bad.left[k].to_string(), "f[0]*g[1]");
    assert_eq!(bad.right[k].to_string(), "f[1]*g[0]");
}
