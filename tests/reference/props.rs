//! `conv` against the independent definition on random problems (fixed seed).
//!
//! Shapes are generated first, then fixed-length data, so shrinking keeps shapes valid.

use super::definition::{Case, Mutant, compare, rule_pads};
use conv_oracle::{Boundary, ConvError, ConvSpec, Flip, Padding, Problem, conv};
use ndarray::{ArrayD, IxDyn};
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{FileFailurePersistence, RngAlgorithm, RngSeed};
use std::fmt::Debug;

/// The one configuration every property here uses: fixed seed, regressions committed.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x00C0_FFEE_5EED),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/reference.txt",
        ))),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    }
}

/// A padding rule to generate; `Explicit` takes the generated per-axis pads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Explicit,
    Valid,
    Full,
    SameUpper,
    SameLower,
    TorchSame,
}

pub const RULES: [Rule; 5] = [
    Rule::Valid,
    Rule::Full,
    Rule::SameUpper,
    Rule::SameLower,
    Rule::TorchSame,
];

/// One spatial axis: input length, kernel length, stride, dilation, explicit pads.
#[derive(Clone, Copy, Debug)]
pub struct AxisShape {
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    lo: usize,
    hi: usize,
}

/// Everything about a case except the data.
#[derive(Clone, Debug)]
pub struct Shape {
    batch: usize,
    groups: usize,
    in_per_group: usize,
    out_per_group: usize,
    axes: Vec<AxisShape>,
    rule: Rule,
    /// 0 zeros, 1 constant, 2 reflect, 3 symmetric, 4 replicate, 5 circular.
    boundary: u8,
    flip: Flip,
    bias: bool,
}

impl Shape {
    fn lengths(&self) -> (usize, usize, usize) {
        let c = self.groups * self.in_per_group;
        let o = self.groups * self.out_per_group;
        let x = self.batch * c * self.axes.iter().map(|a| a.n).product::<usize>();
        let w = o * self.in_per_group * self.axes.iter().map(|a| a.k).product::<usize>();
        (x, w, o)
    }

    fn into_case<T: Clone>(self, x: Vec<T>, w: Vec<T>, bias: Vec<T>, constant: T) -> Case<T> {
        let padding = match self.rule {
            Rule::Explicit => Padding::Explicit(self.axes.iter().map(|a| (a.lo, a.hi)).collect()),
            Rule::Valid => Padding::Valid,
            Rule::Full => Padding::Full,
            Rule::SameUpper => Padding::SameUpper,
            Rule::SameLower => Padding::SameLower,
            Rule::TorchSame => Padding::TorchSame,
        };
        let boundary = match self.boundary {
            0 => Boundary::Zeros,
            1 => Boundary::Constant(constant),
            2 => Boundary::Reflect,
            3 => Boundary::Symmetric,
            4 => Boundary::Replicate,
            _ => Boundary::Circular,
        };
        Case {
            batch: self.batch,
            groups: self.groups,
            in_per_group: self.in_per_group,
            out_per_group: self.out_per_group,
            input: self.axes.iter().map(|a| a.n).collect(),
            kernel: self.axes.iter().map(|a| a.k).collect(),
            stride: self.axes.iter().map(|a| a.s).collect(),
            dilation: self.axes.iter().map(|a| a.d).collect(),
            padding,
            boundary,
            flip: self.flip,
            x,
            w,
            bias: self.bias.then_some(bias),
        }
    }
}

prop_compose! {
    /// One spatial axis; pads up to 7 are often longer than the input (at most 5).
    #[must_use]
    pub fn axis_shape(max_n: usize)(
        n in 1..=max_n,
        k in 1..=3usize,
        s in prop_oneof![Just(1usize), 1..=3usize],
        d in prop_oneof![Just(1usize), 1..=3usize],
        lo in 0..=7usize,
        hi in 0..=7usize,
    ) -> AxisShape {
        AxisShape { n, k, s, d, lo, hi }
    }
}

prop_compose! {
    /// A whole problem shape of rank `1..=max_rank`, padding rule drawn from `rules`.
    /// Inputs get shorter as the rank grows (`max_n + 1 - rank`) to bound the runtime; pads
    /// stay up to 7, so they are longer than the input more often.
    #[must_use]
    pub fn shape(max_rank: usize, max_n: usize, rules: Vec<Rule>)(rank in 1..=max_rank)(
        axes in vec(axis_shape(max_n + 1 - rank), rank),
        batch in 1..=2usize,
        groups in 1..=3usize,
        in_per_group in 1..=2usize,
        out_per_group in 1..=2usize,
        rule in select(rules.clone()),
        boundary in 0..6u8,
        convolution in any::<bool>(),
        bias in any::<bool>(),
    ) -> Shape {
        let flip = if convolution { Flip::Convolution } else { Flip::Correlation };
        Shape { batch, groups, in_per_group, out_per_group, axes, rule, boundary, flip, bias }
    }
}

/// Cases of the given shapes, data drawn from `elem`.
pub fn cases<T: Clone + Debug>(
    shapes: impl Strategy<Value = Shape>,
    elem: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = Case<T>> {
    shapes
        .prop_flat_map(move |sh| {
            let (nx, nw, no) = sh.lengths();
            (
                Just(sh),
                vec(elem.clone(), nx),
                vec(elem.clone(), nw),
                vec(elem.clone(), no),
                elem.clone(),
            )
        })
        .prop_map(|(sh, x, w, b, c)| sh.into_case(x, w, b, c))
}

/// The shapes of the main property: explicit pads, rank 1..=3.
pub fn explicit_shapes() -> impl Strategy<Value = Shape> {
    shape(3, 5, vec![Rule::Explicit])
}

pub fn small_i64() -> impl Strategy<Value = i64> + Clone {
    -9i64..=9
}

pub fn small_rational() -> impl Strategy<Value = BigRational> + Clone {
    (-9i64..=9, 1i64..=4).prop_map(|(n, d)| BigRational::new(BigInt::from(n), BigInt::from(d)))
}

/// Complex numbers with small integer parts: every product and sum is exact in f64.
pub fn small_complex() -> impl Strategy<Value = Complex<f64>> + Clone {
    (-9i32..=9, -9i32..=9).prop_map(|(re, im)| Complex::new(f64::from(re), f64::from(im)))
}

/// The output length docs/semantics.md section 2 states for a rule, where it states one.
fn stated_output_len(rule: &Padding, n: usize, k: usize, s: usize, d: usize) -> Option<usize> {
    match rule {
        Padding::SameUpper | Padding::SameLower => Some(n.div_ceil(s)),
        Padding::TorchSame => Some(n),
        // "full (signal processing): n + k - 1" (undilated, unit stride).
        Padding::Full if s == 1 && d == 1 => Some(n + k - 1),
        _ => None,
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Explicit pads 0..=7, every boundary mode, flip both ways, bias or not, i64.
    #[test]
    fn conv_matches_definition_i64(case in cases(explicit_shapes(), small_i64())) {
        compare(&case, Mutant::None).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Valid, Full, SAME_UPPER, SAME_LOWER and PyTorch 'same', translated to explicit pads
    /// with our own arithmetic; the output lengths docs/semantics.md states are checked as well.
    #[test]
    fn padding_rules_match_own_arithmetic(case in cases(shape(3, 5, RULES.to_vec()), small_i64())) {
        compare(&case, Mutant::None).map_err(TestCaseError::fail)?;
        // Re-run with the rule replaced by the explicit pads it stands for.
        let mut pads = Vec::new();
        for axis in 0..case.input.len() {
            let g = (case.input[axis], case.kernel[axis], case.stride[axis], case.dilation[axis]);
            match rule_pads(&case.padding, axis, g) {
                Ok(p) => pads.push(p),
                Err(e) => {
                    let refused = matches!(e, ConvError::SameNeedsUnitStride { .. });
                    prop_assert!(refused, "unexpected {:?}", e);
                    return Ok(());
                }
            }
        }
        let explicit = Case { padding: Padding::Explicit(pads), ..case.clone() };
        let (x, w) = (explicit.x(), explicit.w());
        let bias = case.bias.clone().map(ndarray::Array1::from);
        let run = |spec: ConvSpec<i64>| {
            let mut p = Problem::new(x.view(), w.view()).spec(spec);
            if let Some(b) = &bias {
                p = p.bias(b.view());
            }
            conv(&p)
        };
        let by_rule = run(case.spec());
        prop_assert_eq!(&by_rule, &run(explicit.spec()));
        if let Ok(y) = &by_rule {
            for axis in 0..case.input.len() {
                let (n, k, s) = (case.input[axis], case.kernel[axis], case.stride[axis]);
                if let Some(len) = stated_output_len(&case.padding, n, k, s, case.dilation[axis]) {
                    prop_assert_eq!(y.shape()[2 + axis], len, "axis {}", axis);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Exact rationals, rank 1..=2, explicit pads and rules mixed.
    #[test]
    fn conv_matches_definition_rational(
        case in cases(shape(2, 4, vec![Rule::Explicit, Rule::Explicit, Rule::SameLower, Rule::Full]), small_rational())
    ) {
        compare(&case, Mutant::None).map_err(TestCaseError::fail)?;
    }

    /// Complex<f64> with small integer parts (exact), rank 1..=2.
    #[test]
    fn conv_matches_definition_complex(
        case in cases(shape(2, 4, vec![Rule::Explicit, Rule::Explicit, Rule::SameUpper, Rule::TorchSame]), small_complex())
    ) {
        compare(&case, Mutant::None).map_err(TestCaseError::fail)?;
    }
}

/// The definition agrees with itself on a hand case: keeps the helpers honest.
#[test]
fn definition_reproduces_a_hand_case() {
    // SAME_UPPER on x = 1..8, w = [1 10 100], s = 2: [321 543 765 87] (docs/semantics.md section 2).
    let case = Case {
        batch: 1,
        groups: 1,
        in_per_group: 1,
        out_per_group: 1,
        input: vec![8],
        kernel: vec![3],
        stride: vec![2],
        dilation: vec![1],
        padding: Padding::SameUpper,
        boundary: Boundary::Zeros,
        flip: Flip::Correlation,
        x: (1..=8).collect(),
        w: vec![1, 10, 100],
        bias: None,
    };
    let y = super::definition::definition(&case, Mutant::None).unwrap();
    assert_eq!(
        y,
        ArrayD::from_shape_vec(IxDyn(&[1, 1, 4]), vec![321i64, 543, 765, 87]).unwrap()
    );
}
