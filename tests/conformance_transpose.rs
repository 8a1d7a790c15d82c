//! The transposed-convolution battery used as a user would: a `ConvTranspose` engine written
//! here (its own padding and scatter code) implements `ConvTransposeEngine`. Two planted
//! bugs seen in the wild (SAME_UPPER and SAME_LOWER swapped, as onnxruntime before 1.13; the
//! output padding on the wrong side) must each be rejected with a small counterexample;
//! every built-in transposed engine must pass. Also: the zero-stuffed direct convolution of
//! `TransposeProblem::as_conv` equals the literal formula exactly, and the correctly rounded
//! result keeps the literal formula's special values.

mod common;
use common::{Num, fft_model};
use conv_oracle::ConvError;
use conv_oracle::conformance::transpose::{TransposeCapabilities, check_transpose};
use conv_oracle::conformance::{Config, Section, Tolerance};
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::exact::ExactEngine;
use conv_oracle::engine::fft::FftEngine;
use conv_oracle::engine::{ConvTransposeEngine, ReferenceEngine, Stuffed};
use conv_oracle::layer::{
    AutoPad, TransposePadding, TransposeProblem, TransposeSpec, transpose_literal,
};
use conv_oracle::oracle::{exact_transpose, judge_transpose};
use conv_oracle::testing::Kind;
use conv_oracle::tolerance::Model;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

// ---------------------------------------------------------------- a user's engine

/// A slip planted in [`ToyTranspose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    /// SAME_UPPER and SAME_LOWER swapped (onnxruntime before 1.13, its issues 9370, 11927).
    SameSwapped,
    /// The output padding added at the start of each axis instead of the end.
    OutputPaddingAtStart,
}

/// ConvTranspose from its scatter definition: every input element times every tap lands at
/// `i*s + k*d - begin`; pads resolved here, from the ONNX rules.
#[derive(Clone, Copy, Debug, Default)]
struct ToyTranspose {
    bug: Option<Bug>,
}

impl ToyTranspose {
    /// `(begin, out)` for one axis.
    fn axis(&self, spec: &TransposeSpec, a: usize, n: usize, k: usize) -> (i64, usize) {
        let get = |v: &[usize], d: usize| v.get(a).copied().unwrap_or(d) as i64;
        let (s, d) = (get(&spec.stride, 1), get(&spec.dilation, 1));
        let op = get(&spec.output_padding, 0);
        let full = s * (n as i64 - 1) + d * (k as i64 - 1) + 1 + op;
        let upper = |t: i64| t.div_euclid(2);
        let lower = |t: i64| t - t.div_euclid(2);
        let swapped = self.bug == Some(Bug::SameSwapped);
        let (begin, end) = match &spec.padding {
            TransposePadding::Explicit(p) => p
                .get(a)
                .map(|&(b, e)| (b as i64, e as i64))
                .unwrap_or((0, 0)),
            TransposePadding::SameUpper | TransposePadding::SameLower => {
                let t = full - n as i64 * s;
                let is_upper = matches!(spec.padding, TransposePadding::SameUpper) != swapped;
                let b = if is_upper { upper(t) } else { lower(t) };
                (b, t - b)
            }
            TransposePadding::OutputShape { shape, auto_pad } => {
                let t = full - shape[a] as i64;
                let b = match auto_pad {
                    AutoPad::SameUpper => upper(t),
                    AutoPad::SameLower => lower(t),
                    AutoPad::NotSet if t >= 0 => lower(t),
                    AutoPad::NotSet => 0,
                };
                (b, t - b)
            }
        };
        let out = (full - begin - end).max(0) as usize;
        // The bug: the extra extent appears before the data instead of after it.
        let begin = if self.bug == Some(Bug::OutputPaddingAtStart) {
            begin - op
        } else {
            begin
        };
        (begin, out)
    }

    fn run<T: Num>(&self, p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        // Refuse what the reference refuses (shapes, groups, limits); compute the rest here.
        p.validate()?;
        let (xs, ws) = (p.input.shape(), p.weight.shape());
        let rank = xs.len() - 2;
        let groups = p.spec.groups;
        let (cig, cog) = (xs[1] / groups, ws[1]);
        let axes: Vec<(i64, usize)> = (0..rank)
            .map(|a| self.axis(&p.spec, a, xs[2 + a], ws[2 + a]))
            .collect();
        let mut shape = vec![xs[0], cog * groups];
        shape.extend(axes.iter().map(|&(_, o)| o));
        let mut y = ArrayD::<f64>::zeros(IxDyn(&shape));
        let get = |v: &[usize], a: usize, d: usize| v.get(a).copied().unwrap_or(d) as i64;
        for (xi, &xv) in p.input.indexed_iter() {
            let g = xi[1] / cig;
            for oc in 0..cog {
                for (wi, &wv) in p
                    .weight
                    .index_axis(ndarray::Axis(0), xi[1])
                    .index_axis(ndarray::Axis(0), oc)
                    .indexed_iter()
                {
                    let mut yi = vec![xi[0], g * cog + oc];
                    let mut inside = true;
                    for (a, &(begin, out)) in axes.iter().enumerate() {
                        let pos = xi[2 + a] as i64 * get(&p.spec.stride, a, 1)
                            + wi[a] as i64 * get(&p.spec.dilation, a, 1)
                            - begin;
                        inside &= pos >= 0 && pos < out as i64;
                        yi.push(pos.max(0) as usize);
                    }
                    if inside {
                        y[IxDyn(&yi)] += xv.to64() * wv.to64();
                    }
                }
            }
        }
        if let Some(b) = &p.bias {
            for (idx, v) in y.indexed_iter_mut() {
                *v += b[idx[1]].to64();
            }
        }
        Ok(y.mapv(T::from64))
    }
}

impl<T: Num> ConvTransposeEngine<T> for ToyTranspose {
    fn name(&self) -> &str {
        match self.bug {
            None => "toy transpose",
            Some(Bug::SameSwapped) => "toy transpose (SAME_UPPER/LOWER swapped)",
            Some(Bug::OutputPaddingAtStart) => "toy transpose (output padding at the start)",
        }
    }
    fn conv_transpose(&self, p: &TransposeProblem<'_, T>) -> Result<ArrayD<T>, ConvError> {
        self.run(p)
    }
}

// The correct toy passes every section, as #[test]s expanded by the macro (f64 data summed
// in f64, one rounding per term: inside the componentwise model; f32 data summed in f64).
conv_oracle::conv_conformance_tests!(toy_transpose_f64: f64 => transpose ToyTranspose::default());
conv_oracle::conv_conformance_tests!(
    toy_transpose_f32: f32 => transpose ToyTranspose::default(),
    Config { cases: 64, ..Default::default() }
);

// ---------------------------------------------------------------- the planted bugs

#[test]
fn both_transposed_bugs_are_rejected_with_a_small_counterexample() {
    for bug in [Bug::SameSwapped, Bug::OutputPaddingAtStart] {
        let r = check_transpose(&ToyTranspose { bug: Some(bug) }, &Config::<f64>::default());
        let Some(c) = r.failure() else {
            panic!("{bug:?} was not rejected:\n{r}");
        };
        // A wrong placement of pads: wrong values on an output of the right shape.
        assert_eq!(c.kind, Kind::BoundExceeded, "{bug:?}:\n{r}");
        assert!(
            c.code
                .contains("conv_oracle::layer::TransposeProblem::new("),
            "{}",
            c.code
        );
        assert!(c.size <= 32, "{bug:?}: {} elements:\n{r}", c.size);
        println!("{bug:?}: {} ({} elements)\n{}", c.what, c.size, c.detail);
    }
}

/// Validity first, for transposed engines: one that does not claim to validate and panics on
/// any problem the reference refuses passes, although the random search drew such problems.
#[test]
fn a_non_validating_transposed_engine_never_receives_an_invalid_problem() {
    struct Trusting;
    impl ConvTransposeEngine<f64> for Trusting {
        fn name(&self) -> &str {
            "trusting transpose"
        }
        fn conv_transpose(&self, p: &TransposeProblem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            if let Err(e) = p.validate() {
                panic!("given a problem the reference refuses: {e}");
            }
            ToyTranspose::default().run(p)
        }
        fn capabilities(&self) -> TransposeCapabilities {
            TransposeCapabilities {
                validates: false,
                ..TransposeCapabilities::all()
            }
        }
    }
    let r = check_transpose(&Trusting, &Config::<f64>::default());
    r.assert_passed();
    let section = |s: Section| r.sections.iter().find(|x| x.section == s).expect("run");
    assert!(section(Section::Oracle).skipped > 0, "{r}");
    assert!(section(Section::Oracle).checked > 0, "{r}");
    assert_eq!(section(Section::Invalid).checked, 0, "{r}");
}

/// Each bug also fails the random and the adjointness sections on their own (not only a
/// catalogue entry), shrunk to a small problem.
#[test]
fn the_random_sections_catch_them_too() {
    for bug in [Bug::SameSwapped, Bug::OutputPaddingAtStart] {
        for section in [Section::Oracle, Section::Metamorphic] {
            let r = conv_oracle::conformance::transpose::check_transpose_sections(
                &ToyTranspose { bug: Some(bug) },
                &Config::<f64>::default(),
                &[section],
            );
            let c = r
                .failure()
                .unwrap_or_else(|| panic!("{bug:?} passed {section:?}:\n{r}"));
            // The oracle judges the values; the adjointness relation breaks.
            let kind = match section {
                Section::Oracle => Kind::BoundExceeded,
                _ => Kind::Mismatch,
            };
            assert_eq!(c.kind, kind, "{bug:?} {section:?}:\n{r}");
            assert!(
                c.size <= 40,
                "{bug:?} {section:?}: {} elements\n{r}",
                c.size
            );
        }
    }
}

/// A pasted counterexample of the SAME swap, as the report prints it: the correct toy passes
/// it, the swapped one does not.
#[test]
fn a_pasted_transposed_counterexample_decides() {
    fn conv_oracle_counterexample(engine: &dyn ConvTransposeEngine<f64>) {
        let input = ArrayD::<f64>::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0, 2.0, 3.0]).unwrap();
        let weight =
            ArrayD::<f64>::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0, 10.0, 100.0]).unwrap();
        let spec = TransposeSpec {
            stride: vec![2],
            padding: TransposePadding::SameUpper,
            ..Default::default()
        };
        let p = TransposeProblem::new(input.view(), weight.view()).spec(spec);
        let got = engine.conv_transpose(&p).expect("a valid problem");
        let report = judge_transpose(&p, got.view(), &Model::Componentwise).unwrap();
        assert!(report.passed(), "{report}");
    }
    conv_oracle_counterexample(&ToyTranspose::default());
    let swapped = ToyTranspose {
        bug: Some(Bug::SameSwapped),
    };
    assert!(std::panic::catch_unwind(|| conv_oracle_counterexample(&swapped)).is_err());
}

// ---------------------------------------------------------------- the built-in engines

#[test]
fn every_built_in_transposed_engine_passes() {
    let quick = Config::<f64> {
        cases: 128,
        ..Default::default()
    };
    check_transpose(&ReferenceEngine, &quick).assert_passed();
    let exact = Config {
        tolerance: Tolerance::Model(Model::Exact),
        ..quick.clone()
    };
    check_transpose(&ExactEngine::default(), &exact).assert_passed();
    check_transpose(&Stuffed::new(DirectEngine::default()), &quick).assert_passed();
    check_transpose(&Stuffed::new(ExactEngine::default()), &exact).assert_passed();
    check_transpose(
        &Stuffed::new(FftEngine::default()),
        &Config {
            tolerance: Tolerance::PerProblem(fft_model),
            ..quick
        },
    )
    .assert_passed();
    let quick32 = Config::<f32> {
        cases: 128,
        ..Default::default()
    };
    check_transpose(&ReferenceEngine, &quick32).assert_passed();
    check_transpose(
        &ExactEngine::default(),
        &Config {
            tolerance: Tolerance::Model(Model::Exact),
            ..quick32
        },
    )
    .assert_passed();
}

/// A zero-stuffing engine declares no special values; the battery then draws finite data.
#[test]
fn stuffed_engines_leave_out_special_values() {
    let caps: TransposeCapabilities =
        ConvTransposeEngine::<f64>::capabilities(&Stuffed::new(DirectEngine::default()));
    assert!(!caps.special_values);
    assert!(ConvTransposeEngine::<f64>::capabilities(&ReferenceEngine).special_values);
}

// ---------------------------------------------------------------- the equivalence

fn spec_strategy(rank: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>, TransposeSpec)> {
    (
        proptest::collection::vec(1usize..=5, rank),
        proptest::collection::vec(1usize..=3, rank),
        proptest::collection::vec(1usize..=3, rank),
        proptest::collection::vec(1usize..=2, rank),
        proptest::collection::vec(0usize..=2, rank),
        proptest::collection::vec((0usize..=4, 0usize..=4), rank),
        proptest::collection::vec(-3i64..=6, rank),
        0u8..6,
    )
        .prop_map(|(n, k, s, d, op, pads, below, rule)| {
            let output_padding: Vec<usize> = (0..n.len()).map(|a| op[a] % s[a].max(d[a])).collect();
            let full = |a: usize| s[a] * (n[a] - 1) + d[a] * (k[a] - 1) + 1 + output_padding[a];
            let shape = |auto_pad| TransposePadding::OutputShape {
                shape: (0..n.len())
                    .map(|a| (full(a) as i64 - below[a]).max(1) as usize)
                    .collect(),
                auto_pad,
            };
            let padding = match rule {
                0 => TransposePadding::Explicit(pads),
                1 => TransposePadding::SameUpper,
                2 => TransposePadding::SameLower,
                3 => shape(AutoPad::NotSet),
                4 => shape(AutoPad::SameUpper),
                _ => shape(AutoPad::SameLower),
            };
            let spec = TransposeSpec {
                stride: s,
                dilation: d,
                padding,
                output_padding,
                groups: 1,
                ..TransposeSpec::default()
            };
            (n, k, spec)
        })
}

proptest! {
    #![proptest_config(common::cfg(256))]

    /// The zero-stuffed direct convolution (docs/semantics.md section 6) has exactly the literal
    /// formula's output, in the integers (no rounding anywhere), for every padding rule,
    /// pads that crop (negative totals of output_shape) included.
    #[test]
    fn the_stuffed_convolution_equals_the_literal_formula(
        (n, k, mut spec) in (1usize..=2).prop_flat_map(spec_strategy),
        groups in 1usize..=2,
        seed in any::<u64>(),
    ) {
        spec.groups = groups;
        let rank = n.len();
        let mut xs = vec![2, 2 * groups];
        xs.extend(&n);
        let mut ws = vec![2 * groups, 2];
        ws.extend(&k);
        let mut state = seed | 1;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % 19) as i64 - 9
        };
        let x = ArrayD::from_shape_simple_fn(IxDyn(&xs), &mut next);
        let w = ArrayD::from_shape_simple_fn(IxDyn(&ws), &mut next);
        let b = ndarray::Array1::from_shape_simple_fn(2 * groups, &mut next);
        let p = TransposeProblem::new(x.view(), w.view()).bias(b.view()).spec(spec);
        match (transpose_literal(&p), p.as_conv()) {
            (Ok(literal), Ok(eq)) => {
                let direct = conv_oracle::conv(&eq.problem()).expect("the equivalent is valid");
                prop_assert_eq!(literal, direct, "rank {}", rank);
            }
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "literal {:?} but as_conv {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }
}

/// With infinities and NaN, the correctly rounded result keeps the literal formula's special
/// values (a stuffed zero never meets an infinite weight) and its finite values.
#[test]
fn special_values_follow_the_literal_terms() {
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0, f64::INFINITY, 0.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![2.0, -1.0]).unwrap();
    let spec = TransposeSpec {
        stride: vec![3],
        ..Default::default()
    };
    let p = TransposeProblem::new(x.view(), w.view()).spec(spec);
    // Scatter by hand: x[0] at 0,1; x[1] at 3,4; x[2] at 6,7; positions 2 and 5 get nothing.
    let want = [
        2.0,
        -1.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        0.0,
        0.0,
    ];
    let got = exact_transpose(&p).unwrap();
    assert_eq!(got.iter().copied().collect::<Vec<_>>(), want);
    // An infinite weight: the literal terms decide (inf * 0 is NaN only where it is a term).
    let w_inf = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![f64::INFINITY, 0.0]).unwrap();
    let q = TransposeProblem::new(x.view(), w_inf.view()).spec(p.spec.clone());
    // x[0] at 0, 1: 1*inf, 1*0; x[1] at 3, 4: inf*inf, inf*0; x[2] at 6, 7: 0*inf, 0*0.
    let got: Vec<f64> = exact_transpose(&q).unwrap().iter().copied().collect();
    let want = [
        f64::INFINITY,
        0.0,
        0.0,
        f64::INFINITY,
        f64::NAN,
        0.0,
        f64::NAN,
        0.0,
    ];
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g == &w || (g.is_nan() && w.is_nan()), "at {i}: {g} vs {w}");
    }
    // The stuffed convolution computes a stuffed zero times inf at 2 and 5: NaN there.
    let stuffed = Stuffed::new(ExactEngine::default())
        .conv_transpose(&q)
        .unwrap();
    assert!(stuffed[[0, 0, 2]].is_nan() && stuffed[[0, 0, 5]].is_nan());
    // Stride 1: 1*inf | 1*0 + inf*inf | inf*0 + 0*inf | 0*0.
    let q1 = TransposeProblem::new(x.view(), w_inf.view());
    let got = exact_transpose(&q1).unwrap();
    assert_eq!(got[[0, 0, 0]], f64::INFINITY);
    assert_eq!(got[[0, 0, 1]], f64::INFINITY);
    assert!(got[[0, 0, 2]].is_nan());
    assert_eq!(got[[0, 0, 3]], 0.0);
}
