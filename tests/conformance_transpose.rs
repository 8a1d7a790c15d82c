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
use conv_oracle::conformance::transpose::{
    TransposeCapabilities, TransposePaddingRule, TransposeProblemShape, check_transpose,
    check_transpose_sections,
};
use conv_oracle::conformance::{AxisSetting, Config, ConformanceReport, Pads, Section, Tolerance};
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
/// any problem the reference refuses passes; the random problems are drawn inside what the
/// reference accepts (pads cut to leave an output), so none is left out.
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
    assert_eq!(section(Section::Oracle).skipped, 0, "{r}");
    assert!(section(Section::Oracle).checked > 0, "{r}");
    assert_eq!(section(Section::Invalid).checked, 0, "{r}");
}

/// Each bug also fails the random and the adjointness sections on their own (not only a
/// catalogue entry), shrunk to a small problem.
#[test]
fn the_random_sections_catch_them_too() {
    for bug in [Bug::SameSwapped, Bug::OutputPaddingAtStart] {
        for section in [Section::Oracle, Section::Metamorphic] {
            let r = check_transpose_sections(
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

// ---------------------------------------------------------------- capabilities

/// The correct toy behind a declaration: it declines, with `ConvError::Unsupported`, what the
/// declaration leaves out (as an adapter of a real API does), and is given nothing undeclared
/// unless it validates.
struct Declared {
    caps: TransposeCapabilities,
}

impl ConvTransposeEngine<f64> for Declared {
    fn name(&self) -> &str {
        "declared transpose"
    }
    fn conv_transpose(&self, p: &TransposeProblem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
        if let Some(what) = self.caps.outside(&TransposeProblemShape::of(p)) {
            assert!(self.caps.validates, "given an undeclared problem: {what}");
            return Err(ConvError::unsupported(what));
        }
        ToyTranspose::default().run(p)
    }
    fn capabilities(&self) -> TransposeCapabilities {
        self.caps.clone()
    }
}

fn coverage(r: &ConformanceReport, feature: &str) -> (usize, usize) {
    r.coverage
        .iter()
        .find(|c| c.feature == feature)
        .map_or((0, 0), |c| (c.checked, c.declined))
}

/// candle's `conv_transpose2d`: one stride, one dilation, one output padding and one pad for
/// every axis and side, explicit pads only, no groups. A correct engine with exactly these
/// passes, validating or not; the random sections draw inside them (a shared value on every
/// axis, never one differing by axis), and what it declined is counted, not failed.
#[test]
fn a_correct_engine_with_a_shared_stride_passes() {
    for validates in [true, false] {
        let caps = TransposeCapabilities {
            paddings: vec![TransposePaddingRule::Explicit],
            pads: Pads::Shared,
            stride: AxisSetting::Shared,
            dilation: AxisSetting::Shared,
            output_padding: AxisSetting::Shared,
            groups: false,
            validates,
            ..TransposeCapabilities::all()
        };
        let r = check_transpose(&Declared { caps }, &Config::<f64>::default());
        r.assert_passed();
        println!("{r}");
        for feature in [
            "stride > 1",
            "dilation > 1",
            "output padding",
            "padded",
            "rank 2",
        ] {
            assert!(coverage(&r, feature).0 > 0, "{feature}:\n{r}");
        }
        for feature in [
            "stride differs by axis",
            "dilation differs by axis",
            "output padding differs by axis",
            "asymmetric pads",
            "groups > 1",
            "padding SameUpper",
        ] {
            assert_eq!(coverage(&r, feature).0, 0, "{feature}:\n{r}");
        }
        let declined: usize = r.sections.iter().map(|s| s.declined).sum();
        if validates {
            // The catalogue's undeclared problems were offered and declined.
            assert!(declined > 0, "{r}");
            assert!(coverage(&r, "groups > 1").1 > 0, "{r}");
            assert!(coverage(&r, "padding SameLower").1 > 0, "{r}");
        } else {
            assert_eq!(declined, 0, "{r}");
        }
    }
}

/// Declaring a problem and declining it fails, by kind `Refused`, in every section that draws
/// it: declaring everything and implementing less is not a way to pass.
#[test]
fn declining_a_declared_transposed_problem_is_refused() {
    struct Overclaims;
    impl ConvTransposeEngine<f64> for Overclaims {
        fn name(&self) -> &str {
            "overclaims transpose"
        }
        fn conv_transpose(&self, p: &TransposeProblem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            if p.spec.groups > 1 {
                return Err(ConvError::unsupported("groups"));
            }
            ToyTranspose::default().run(p)
        }
    }
    for section in [Section::Catalogue, Section::Oracle, Section::Metamorphic] {
        let r = check_transpose_sections(&Overclaims, &Config::<f64>::default(), &[section]);
        let c = r
            .failure()
            .unwrap_or_else(|| panic!("{section:?} passed:\n{r}"));
        for c in r.failures() {
            assert_eq!(c.kind, Kind::Refused, "{section:?}:\n{r}");
            assert!(
                c.detail
                    .contains("declined a problem inside its declared capabilities"),
                "{r}"
            );
        }
        assert!(c.features.contains(&"groups > 1".to_string()), "{r}");
    }
}

/// An engine that validates must decline an undeclared problem with `Unsupported`; another
/// error calls a valid problem invalid (`Refused`). Declined with `Unsupported`, the same
/// problems pass and are counted as declined.
#[test]
fn undeclared_transposed_problems_must_be_declined_as_unsupported() {
    struct Misleads;
    impl ConvTransposeEngine<f64> for Misleads {
        fn name(&self) -> &str {
            "misleads transpose"
        }
        fn conv_transpose(&self, p: &TransposeProblem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            if p.input.ndim() != 3 {
                return Err(ConvError::RankMismatch {
                    what: "input",
                    expected: 3,
                    got: p.input.ndim(),
                });
            }
            ToyTranspose::default().run(p)
        }
        fn capabilities(&self) -> TransposeCapabilities {
            TransposeCapabilities {
                ranks: 1..=1,
                ..TransposeCapabilities::all()
            }
        }
    }
    let r = check_transpose_sections(&Misleads, &Config::<f64>::default(), &[Section::Catalogue]);
    let c = r.failure().expect("a misleading refusal fails");
    assert_eq!(c.kind, Kind::Refused, "{r}");
    assert!(c.detail.contains("ConvError::Unsupported"), "{r}");
    let caps = TransposeCapabilities {
        ranks: 1..=1,
        ..TransposeCapabilities::all()
    };
    let r = check_transpose_sections(
        &Declared { caps },
        &Config::<f64>::default(),
        &[Section::Catalogue],
    );
    r.assert_passed();
    assert!(coverage(&r, "rank 2").1 > 0, "{r}");
    assert_eq!(coverage(&r, "rank 2").0, 0, "{r}");
    assert!(coverage(&r, "rank 1").0 > 0, "{r}");
}

/// An engine that declines everything (it declares no rank the battery draws), or whose
/// predicate turns every problem away, checked nothing: it fails as `Uncovered`, although
/// every problem it was offered it declined as it should.
#[test]
fn a_transposed_engine_declining_everything_is_uncovered() {
    struct DeclinesAll {
        caps: TransposeCapabilities,
    }
    impl ConvTransposeEngine<f64> for DeclinesAll {
        fn name(&self) -> &str {
            "declines everything"
        }
        fn conv_transpose(&self, _: &TransposeProblem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
            Err(ConvError::unsupported("nothing"))
        }
        fn capabilities(&self) -> TransposeCapabilities {
            self.caps.clone()
        }
    }
    let none = TransposeCapabilities {
        ranks: 4..=4,
        ..TransposeCapabilities::all()
    };
    let away = TransposeCapabilities {
        accepts: Some(|_| false),
        ..TransposeCapabilities::all()
    };
    for caps in [none, away] {
        let r = check_transpose(&DeclinesAll { caps }, &Config::<f64>::default());
        let kinds: Vec<Kind> = r.failures().map(|c| c.kind).collect();
        assert_eq!(kinds, [Kind::Uncovered], "{r}");
        let oracle = r.sections.iter().find(|s| s.section == Section::Oracle);
        assert_eq!(oracle.map(|s| s.checked), Some(0), "{r}");
        // Its refusals of invalid problems and its declines of the catalogue are right.
        let catalogue = &r.sections[0];
        assert!(catalogue.declined > 0 && catalogue.checked == 0, "{r}");
    }
}

/// Capabilities of their own in some ranks: each rank is drawn inside its own, and the
/// predicate's turned-away problems are skipped, never given to the engine.
#[test]
fn per_rank_transposed_capabilities_and_the_predicate_hold() {
    let caps = TransposeCapabilities {
        groups: false,
        validates: false,
        accepts: Some(|s: &TransposeProblemShape| s.weight[2..].iter().all(|&k| k <= 3)),
        ..TransposeCapabilities::all()
    }
    .in_rank(2, |c| TransposeCapabilities {
        pads: Pads::Symmetric,
        stride: AxisSetting::Shared,
        output_padding: AxisSetting::Unit,
        groups: true,
        ..c
    });
    assert_eq!(caps.for_rank(2).pads, Pads::Symmetric);
    assert!(!caps.for_rank(1).groups && caps.for_rank(2).groups && !caps.for_rank(3).groups);
    let r = check_transpose(&Declared { caps }, &Config::<f64>::default());
    r.assert_passed();
    assert!(coverage(&r, "rank 2").0 > 0, "{r}");
    assert!(coverage(&r, "groups > 1").0 > 0, "{r}");
    let oracle = &r.sections[1];
    assert!(oracle.skipped > 0 && oracle.checked > oracle.skipped, "{r}");
}

/// `outside` names the first capability a problem lacks, in words; output padding is 0 when
/// not taken ([`AxisSetting::Unit`] around 0).
#[test]
fn outside_names_what_a_transposed_problem_needs() {
    let x = ArrayD::<f64>::zeros(IxDyn(&[2, 2, 4, 4]));
    let w = ArrayD::<f64>::zeros(IxDyn(&[2, 1, 2, 2]));
    let shape = |spec: TransposeSpec| {
        TransposeProblemShape::of(&TransposeProblem::new(x.view(), w.view()).spec(spec))
    };
    let candle = TransposeCapabilities {
        ranks: 1..=2,
        paddings: vec![TransposePaddingRule::Explicit],
        pads: Pads::Shared,
        stride: AxisSetting::Shared,
        dilation: AxisSetting::Shared,
        output_padding: AxisSetting::Shared,
        groups: false,
        ..TransposeCapabilities::all()
    };
    let plain = TransposeSpec {
        stride: vec![2, 2],
        output_padding: vec![1, 1],
        padding: TransposePadding::Explicit(vec![(1, 1), (1, 1)]),
        ..TransposeSpec::default()
    };
    assert_eq!(candle.outside(&shape(plain.clone())), None);
    let cases = [
        (
            TransposeSpec {
                stride: vec![2, 1],
                ..plain.clone()
            },
            "stride [2, 1] in rank 2 (Shared only)",
        ),
        (
            TransposeSpec {
                output_padding: vec![1, 0],
                ..plain.clone()
            },
            "output padding [1, 0] in rank 2 (Shared only)",
        ),
        (
            TransposeSpec {
                padding: TransposePadding::Explicit(vec![(1, 0), (1, 0)]),
                ..plain.clone()
            },
            "asymmetric pads [(1, 0), (1, 0)] in rank 2",
        ),
        (
            TransposeSpec {
                padding: TransposePadding::Explicit(vec![(1, 1), (2, 2)]),
                ..plain.clone()
            },
            "pads differing by axis [(1, 1), (2, 2)] in rank 2",
        ),
        (
            TransposeSpec {
                padding: TransposePadding::SameUpper,
                ..plain.clone()
            },
            "SameUpper padding in rank 2",
        ),
        (
            TransposeSpec {
                groups: 2,
                ..plain.clone()
            },
            "2 groups in rank 2",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(candle.outside(&shape(spec)).as_deref(), Some(want));
    }
    let unit = TransposeCapabilities {
        output_padding: AxisSetting::Unit,
        ..TransposeCapabilities::all()
    };
    assert_eq!(
        unit.outside(&shape(TransposeSpec {
            output_padding: vec![0, 0],
            ..TransposeSpec::default()
        })),
        None
    );
    assert_eq!(
        unit.outside(&shape(plain)).as_deref(),
        Some("output padding [1, 1] in rank 2 (Unit only)")
    );
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
