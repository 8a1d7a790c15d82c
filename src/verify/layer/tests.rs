//! The layer battery (`conv_oracle::verify::layer`) driven through proptest's macro (fixed
//! seed) and quickcheck (seeded `Gen`), hand-computed transposed convolutions and dense
//! matrices, the chapter's parameter counts, and a deliberately wrong engine or operator for
//! every property, each caught.

use crate::testing::common::{SEED, cfg, qc, refuted_by, to_result, wrong_kinds};

use conv_oracle::engine::dense::{DenseEngine, DenseForm, dense_form, pointwise_matrix};
use conv_oracle::engine::{ConvEngine, ReferenceEngine};
use conv_oracle::layer::{
    self, InputLayout, KernelLayout, LayerSpec, TransposePadding, TransposeSpec, conv_transpose,
};
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::{Kind, Violation, search};
use conv_oracle::verify::layer as lp;
use conv_oracle::verify::layer::{
    AdjointCase, ConvCase, DenseLayerCase, LayerOps, PointwiseCase, ShiftCase, adjoint_case,
    circular_same_shift_case, circular_shift_case, conv_case, conv_transpose_is_adjoint,
    cube_layout_case, dense_layer_case, dense_layer_commutes_with_shift,
    dense_matrix_commutes_with_shift, depthwise_case, engine_equals_reference, general_layout_case,
    groups_are_independent, interior_shift_case, interior_shift_equivariance, layout_case,
    layouts_are_permutations, locality_inside, locality_outside, parameter_counts,
    parameter_counts_match, periodic_shift_equivariance, perturb_case, pointwise_case,
    pointwise_is_dense_per_pixel, positive_perturb_case, run_engine_battery, run_layer_battery,
    run_operator_battery, some_output_shift_matches, stride_two_shift_one_case, strided_shift_case,
    zero_padding_shift_case,
};
use conv_oracle::{Boundary, ConvError, ConvSpec, Flip, Padding, Problem, conv};
use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, Axis, IxDyn, Slice, array};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use quickcheck::{Arbitrary, Gen, TestResult};
use std::collections::BTreeSet;

fn ok(r: Result<(), Violation>) -> Result<(), TestCaseError> {
    r.map_err(TestCaseError::fail)
}

// ---------------------------------------------------------------- proptest, every property

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn proptest_equivariance_circular(c in circular_shift_case()) {
        ok(periodic_shift_equivariance(&ReferenceEngine, &c))?;
        ok(periodic_shift_equivariance(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_equivariance_interior(c in interior_shift_case()) {
        ok(interior_shift_equivariance(&ReferenceEngine, &c))?;
        ok(interior_shift_equivariance(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_equivariance_stride(c in strided_shift_case()) {
        ok(periodic_shift_equivariance(&ReferenceEngine, &c))?;
        ok(periodic_shift_equivariance(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_locality_outside(c in perturb_case()) {
        ok(locality_outside(&ReferenceEngine, &c))?;
        ok(locality_outside(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_locality_inside(c in positive_perturb_case()) {
        ok(locality_inside(&ReferenceEngine, &c))?;
        ok(locality_inside(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_groups_are_independent(c in conv_case()) {
        ok(groups_are_independent(&ReferenceEngine, &c))?;
        ok(groups_are_independent(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_depthwise_is_per_channel(c in depthwise_case()) {
        ok(groups_are_independent(&ReferenceEngine, &c))?;
        ok(groups_are_independent(&DenseEngine, &c))?;
    }

    #[test]
    fn proptest_dense_engine_equals_reference(c in conv_case()) {
        ok(engine_equals_reference(&DenseEngine, &c))?;
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    #[test]
    fn proptest_pointwise_is_dense_per_pixel(c in pointwise_case()) {
        ok(pointwise_is_dense_per_pixel(&LayerOps::reference(), &c))?;
    }

    #[test]
    fn proptest_dense_matrix_commutes_with_shift(c in circular_same_shift_case()) {
        ok(dense_matrix_commutes_with_shift(&LayerOps::reference(), &c))?;
    }

    #[test]
    fn proptest_conv_transpose_is_adjoint(c in adjoint_case()) {
        ok(conv_transpose_is_adjoint(&LayerOps::reference(), &c))?;
    }

    #[test]
    fn proptest_layouts_are_permutations(c in layout_case()) {
        ok(layouts_are_permutations(&LayerOps::reference(), &c))?;
    }

    #[test]
    fn proptest_layouts_when_c_equals_h_equals_w(c in cube_layout_case()) {
        ok(layouts_are_permutations(&LayerOps::reference(), &c))?;
    }

    #[test]
    fn proptest_parameter_counts(c in conv_case()) {
        ok(parameter_counts_match(&LayerOps::reference(), &c))?;
    }
}

/// The three false claims: the search must refute each, and the shrunk witness must really
/// be one.
#[test]
fn proptest_refutes_the_false_claims() {
    for engine in [&ReferenceEngine as &dyn ConvEngine<i64>, &DenseEngine] {
        let v = search(zero_padding_shift_case(), 256, SEED, |c| {
            periodic_shift_equivariance(engine, c)
        })
        .expect_err("zero padding is not circularly equivariant");
        assert_eq!(v.kind, Kind::Mismatch, "{v}");
        assert!(v.detail.contains("minimal case"), "{v}");
        let v = search(stride_two_shift_one_case(), 256, SEED, |c| {
            some_output_shift_matches(engine, c)
        })
        .expect_err("a shift of 1 under stride 2 moves no output by a whole step");
        assert_eq!(v.kind, Kind::Mismatch, "{v}");
    }
    let v = search(
        dense_layer_case(),
        256,
        SEED,
        dense_layer_commutes_with_shift,
    )
    .expect_err("a random dense layer does not commute with the shift");
    assert_eq!(v.kind, Kind::Mismatch, "{v}");
}

/// Hand-worked witnesses for the three refutations (and the true claim they contrast with).
#[test]
fn refutation_witnesses_by_hand() {
    let case = |x: ArrayD<i64>, w: ArrayD<i64>, stride: usize, boundary, shift: isize| {
        let pads = if stride == 1 { (1, 1) } else { (0, 2) };
        ShiftCase {
            case: ConvCase {
                input: Arr(x),
                weight: Arr(w),
                bias: None,
                spec: ConvSpec::new()
                    .padding(Padding::Explicit(vec![pads]))
                    .stride([stride])
                    .boundary(boundary),
            },
            shift: vec![shift],
        }
    };
    let ones = array![[[1i64, 1, 1]]].into_dyn();
    let taps = array![[[1i64, 10, 100]]].into_dyn();
    // Zero padding, x = [1 0 0], w = [1 1 1], pads (1, 1): y = [1 1 0]. Rolled x' = [0 1 0]
    // gives y' = [1 1 1], not a roll of y: the boundary output y'[0] reads the pad, whose zero
    // does not move with the content (y[2] = 0 would have to appear at y'[0]).
    let c = case(
        array![[[1i64, 0, 0]]].into_dyn(),
        ones,
        1,
        Boundary::Zeros,
        1,
    );
    assert_eq!(
        conv(&c.case.problem()).unwrap().into_raw_vec_and_offset().0,
        [1, 1, 0]
    );
    let e = periodic_shift_equivariance(&ReferenceEngine, &c).unwrap_err();
    assert_eq!(e.kind, Kind::Mismatch, "{e}");
    assert!(e.detail.contains("output [0, 0, 0]"), "{e}");
    // Circular, w = [1 10 100]: y[p] = x[p-1] + 10 x[p] + 100 x[p+1] (indices mod 3).
    // x = [1 2 0]: y = [0+10+200, 1+20+0, 2+0+100] = [210 21 102]; x' = [0 1 2]:
    // y' = [102 210 21], y rolled by one.
    let c = case(
        array![[[1i64, 2, 0]]].into_dyn(),
        taps.clone(),
        1,
        Boundary::Circular,
        1,
    );
    assert_eq!(
        conv(&c.case.problem()).unwrap().into_raw_vec_and_offset().0,
        [210, 21, 102]
    );
    periodic_shift_equivariance(&ReferenceEngine, &c).unwrap();
    // Stride 2, circular, pads (0, 2), x = [1 0 0 0]: y[p] = x[2p] + 10 x[2p+1] + 100 x[2p+2]
    // = [1 100]. Rolled by 1, x' = [0 1 0 0]: y' = [10 0], which is neither [1 100] nor
    // [100 1].
    let c = case(
        array![[[1i64, 0, 0, 0]]].into_dyn(),
        taps,
        2,
        Boundary::Circular,
        1,
    );
    assert_eq!(
        conv(&c.case.problem()).unwrap().into_raw_vec_and_offset().0,
        [1, 100]
    );
    assert_eq!(
        some_output_shift_matches(&ReferenceEngine, &c).map_err(|v| v.kind),
        Err(Kind::Mismatch)
    );
    // Rolled by 2 (a multiple of the stride), y' = [100 1]: y rolled by one output.
    let mut c2 = c.clone();
    c2.shift = vec![2];
    periodic_shift_equivariance(&ReferenceEngine, &c2).unwrap();
    // A general dense layer: M = [[1 0] [0 0]] (n = 2) and the shift by 1: M S = [[0 1]
    // [0 0]] but S M = [[0 0] [1 0]].
    let d = DenseLayerCase {
        matrix: Arr(array![[1i64, 0], [0, 0]].into_dyn()),
        input_shape: vec![1, 2],
        output_shape: vec![1, 2],
        shift: vec![1],
    };
    assert_eq!(
        dense_layer_commutes_with_shift(&d).map_err(|v| v.kind),
        Err(Kind::Mismatch)
    );
}

// ---------------------------------------------------------------- quickcheck

fn pick(g: &mut Gen, lo: usize, hi: usize) -> usize {
    lo + usize::from(u8::arbitrary(g)) % (hi - lo + 1)
}

fn q_values(g: &mut Gen, shape: &[usize]) -> Arr<i64> {
    let len = shape.iter().product();
    let data = (0..len).map(|_| i64::from(i8::arbitrary(g) % 10)).collect();
    Arr(ArrayD::from_shape_vec(IxDyn(shape), data).expect("length matches"))
}

fn q_bias(g: &mut Gen, c_out: usize) -> Option<Vec<i64>> {
    bool::arbitrary(g).then(|| {
        (0..c_out)
            .map(|_| i64::from(i8::arbitrary(g) % 10))
            .collect()
    })
}

/// Values halved toward zero, one array at a time.
fn q_halve(a: &Arr<i64>) -> Option<Arr<i64>> {
    a.0.iter()
        .any(|&v| v != 0)
        .then(|| Arr(a.0.mapv(|v| v / 2)))
}

/// `(groups, C/groups, O/groups)`, sometimes depthwise.
fn q_channels(g: &mut Gen) -> (usize, usize, usize) {
    if pick(g, 0, 3) == 0 {
        (pick(g, 1, 4), 1, pick(g, 1, 2))
    } else {
        (pick(g, 1, 3), pick(g, 1, 2), pick(g, 1, 2))
    }
}

/// Circular, stride-1 equivariance cases, generated and shrunk independently of proptest.
#[derive(Clone, Debug)]
struct QShift(ShiftCase);

impl Arbitrary for QShift {
    fn arbitrary(g: &mut Gen) -> Self {
        let rank = pick(g, 1, 3);
        let (groups, cg, og) = q_channels(g);
        let batch = pick(g, 1, 2);
        let (mut xs, mut ws) = (vec![batch, groups * cg], vec![groups * og, cg]);
        let (mut dilation, mut pads, mut shift) = (vec![], vec![], vec![]);
        for _ in 0..rank {
            let (k, d) = (pick(g, 1, [4, 3, 2][rank - 1]), pick(g, 1, 2));
            let eff = d * (k - 1) + 1;
            let lo = pick(g, 0, 4);
            let hi = (eff - 1).saturating_sub(lo) + pick(g, 0, 2);
            xs.push(pick(g, 1, [8, 5, 4][rank - 1]));
            ws.push(k);
            dilation.push(d);
            pads.push((lo, hi));
            shift.push(pick(g, 0, 12) as isize - 6);
        }
        let flip = if bool::arbitrary(g) {
            Flip::Convolution
        } else {
            Flip::Correlation
        };
        QShift(ShiftCase {
            case: ConvCase {
                input: q_values(g, &xs),
                weight: q_values(g, &ws),
                bias: q_bias(g, groups * og),
                spec: ConvSpec::new()
                    .dilation(dilation)
                    .padding(Padding::Explicit(pads))
                    .boundary(Boundary::Circular)
                    .groups(groups)
                    .flip(flip),
            },
            shift,
        })
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let mut out = Vec::new();
        for a in 0..self.0.shift.len() {
            if self.0.shift[a] != 0 {
                let mut s = self.clone();
                s.0.shift[a] /= 2;
                out.push(s);
            }
        }
        if let Some(x) = q_halve(&self.0.case.input) {
            let mut s = self.clone();
            s.0.case.input = x;
            out.push(s);
        }
        if let Some(w) = q_halve(&self.0.case.weight) {
            let mut s = self.clone();
            s.0.case.weight = w;
            out.push(s);
        }
        Box::new(out.into_iter())
    }
}

/// 1x1 convolution cases in any layout.
#[derive(Clone, Debug)]
struct QPointwise(PointwiseCase);

impl Arbitrary for QPointwise {
    fn arbitrary(g: &mut Gen) -> Self {
        let rank = pick(g, 1, 3);
        let (groups, cg, og) = q_channels(g);
        let mut xs = vec![pick(g, 1, 3), groups * cg];
        xs.extend((0..rank).map(|_| pick(g, 1, [8, 5, 4][rank - 1])));
        let mut ws = vec![groups * og, cg];
        ws.extend(std::iter::repeat_n(1, rank));
        let input_layout = *g
            .choose(&[InputLayout::ChannelsFirst, InputLayout::ChannelsLast])
            .expect("non-empty");
        let kernel_layout = *g
            .choose(&[KernelLayout::Oihw, KernelLayout::Hwio, KernelLayout::Ohwi])
            .expect("non-empty");
        QPointwise(PointwiseCase {
            input: q_values(g, &xs),
            weight: q_values(g, &ws),
            bias: q_bias(g, groups * og),
            groups,
            input_layout,
            kernel_layout,
        })
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let mut out = Vec::new();
        if let Some(x) = q_halve(&self.0.input) {
            let mut s = self.clone();
            s.0.input = x;
            out.push(s);
        }
        if self.0.bias.is_some() {
            let mut s = self.clone();
            s.0.bias = None;
            out.push(s);
        }
        Box::new(out.into_iter())
    }
}

/// Adjointness cases: the geometry derived exactly as the proptest strategy documents it.
#[derive(Clone, Debug)]
struct QAdjoint(AdjointCase);

impl Arbitrary for QAdjoint {
    fn arbitrary(g: &mut Gen) -> Self {
        let rank = pick(g, 1, 3);
        let (groups, cg, og) = q_channels(g);
        let batch = pick(g, 1, 2);
        let (mut xs, mut ws, mut ys) = (
            vec![batch, groups * cg],
            vec![groups * og, cg],
            vec![batch, groups * og],
        );
        let (mut stride, mut dilation, mut pads, mut output_padding) =
            (vec![], vec![], vec![], vec![]);
        for _ in 0..rank {
            let (k, d, s) = (
                pick(g, 1, [4, 3, 2][rank - 1]),
                pick(g, 1, 2),
                pick(g, 1, 3),
            );
            let (lo, hi) = (pick(g, 0, 3), pick(g, 0, 3));
            let eff = d * (k - 1) + 1;
            let n = eff.saturating_sub(lo + hi).max(1) + pick(g, 0, [7, 4, 3][rank - 1]);
            let m = (n + lo + hi - eff) / s + 1;
            xs.push(n);
            ws.push(k);
            ys.push(m);
            stride.push(s);
            dilation.push(d);
            pads.push((lo, hi));
            // n - ((m-1)*s + eff - lo - hi), written so no term goes negative.
            output_padding.push(n + lo + hi - eff - (m - 1) * s);
        }
        QAdjoint(AdjointCase {
            x: q_values(g, &xs),
            w: q_values(g, &ws),
            y: q_values(g, &ys),
            stride,
            dilation,
            transpose_padding: TransposePadding::Explicit(pads.clone()),
            pads,
            output_padding,
            groups,
        })
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let mut out = Vec::new();
        if let Some(x) = q_halve(&self.0.x) {
            out.push(QAdjoint(AdjointCase {
                x,
                ..self.0.clone()
            }));
        }
        if let Some(w) = q_halve(&self.0.w) {
            out.push(QAdjoint(AdjointCase {
                w,
                ..self.0.clone()
            }));
        }
        if let Some(y) = q_halve(&self.0.y) {
            out.push(QAdjoint(AdjointCase {
                y,
                ..self.0.clone()
            }));
        }
        Box::new(out.into_iter())
    }
}

#[test]
fn quickcheck_equivariance_circular() {
    fn prop(c: QShift) -> TestResult {
        to_result(
            periodic_shift_equivariance(&ReferenceEngine, &c.0)
                .and_then(|()| periodic_shift_equivariance(&DenseEngine, &c.0)),
        )
    }
    qc(256).quickcheck(prop as fn(QShift) -> TestResult);
}

#[test]
fn quickcheck_dense_matrix_of_circular_conv_commutes_with_shift() {
    // Same-size outputs: pads total exactly eff - 1.
    fn prop(c: QShift) -> TestResult {
        let mut c = c.0;
        let Padding::Explicit(pads) = &mut c.case.spec.padding else {
            return TestResult::discard();
        };
        for (a, p) in pads.iter_mut().enumerate() {
            let (k, d) = (c.case.weight.0.shape()[2 + a], c.case.spec.dilation[a]);
            let total = d * (k - 1);
            *p = (p.0.min(total), total - p.0.min(total));
        }
        to_result(dense_matrix_commutes_with_shift(&LayerOps::reference(), &c))
    }
    qc(256).quickcheck(prop as fn(QShift) -> TestResult);
}

#[test]
fn quickcheck_pointwise_is_dense_per_pixel() {
    fn prop(c: QPointwise) -> TestResult {
        to_result(pointwise_is_dense_per_pixel(&LayerOps::reference(), &c.0))
    }
    qc(256).quickcheck(prop as fn(QPointwise) -> TestResult);
}

#[test]
fn quickcheck_conv_transpose_is_adjoint() {
    fn prop(c: QAdjoint) -> TestResult {
        to_result(conv_transpose_is_adjoint(&LayerOps::reference(), &c.0))
    }
    qc(256).quickcheck(prop as fn(QAdjoint) -> TestResult);
}

#[test]
fn quickcheck_catches_a_wrong_transpose() {
    fn prop(c: QAdjoint) -> TestResult {
        let ops = LayerOps {
            conv_transpose: transpose_flips_kernel,
            ..LayerOps::reference()
        };
        refuted_by(Kind::Mismatch, conv_transpose_is_adjoint(&ops, &c.0))
    }
    let r = qc(256).quicktest(prop as fn(QAdjoint) -> TestResult);
    assert!(r.is_err(), "quickcheck must catch the flipped kernel");
    assert_eq!(wrong_kinds(), Vec::<String>::new());
}

// ---------------------------------------------------------------- the battery

const ENGINE_PROPERTIES: [&str; 10] = [
    "translation-equivariance-circular",
    "translation-equivariance-interior",
    "translation-equivariance-stride",
    "zero-padding-breaks-equivariance",
    "stride-2-shift-1-breaks-equivariance",
    "locality-outside",
    "locality-inside",
    "groups-are-independent",
    "depthwise-is-per-channel",
    "engine-equals-reference",
];

const OPERATOR_PROPERTIES: [&str; 6] = [
    "pointwise-is-dense-per-pixel",
    "dense-matrix-commutes-with-shift",
    "dense-layer-not-equivariant",
    "conv-transpose-is-adjoint",
    "layouts-are-permutations",
    "parameter-counts",
];

/// The battery passes entirely at 256 cases per property, on both engines, and covers every
/// property (a property added to the battery must be added here, and the other way round).
#[test]
fn layer_battery_passes_at_256_cases() {
    let outcomes = run_layer_battery(256, SEED);
    for o in &outcomes {
        eprintln!(
            "{:<40} {:<14} {:>4} cases {:>9.1?} {}",
            o.property,
            o.engine,
            o.cases,
            o.elapsed,
            if o.passed { "ok" } else { "FAILED" }
        );
    }
    for o in &outcomes {
        assert!(o.passed, "{} ({}): {}", o.property, o.engine, o.detail);
        assert_eq!(o.cases, 256);
    }
    let rows: BTreeSet<(&str, &str)> = outcomes
        .iter()
        .map(|o| (o.property, o.engine.as_str()))
        .collect();
    let mut expected = BTreeSet::new();
    for engine in [
        "reference/i64",
        "dense/i64",
        "fft/i64",
        "overlap-add-capped/i64",
        "direct/i64",
    ] {
        expected.extend(ENGINE_PROPERTIES.iter().map(|&p| (p, engine)));
    }
    expected.extend(OPERATOR_PROPERTIES.iter().map(|&p| (p, "layer/i64")));
    assert_eq!(rows, expected);
    assert_eq!(outcomes.len(), expected.len());
}

/// A deeper search than CI runs (16x the cases, another seed): `cargo test --release --test
/// layer -- --ignored`.
#[test]
#[ignore]
fn layer_battery_deep_search() {
    for o in run_layer_battery(4096, SEED ^ 0x5eed) {
        assert!(o.passed, "{} ({}): {}", o.property, o.engine, o.detail);
    }
}

/// The general strategy reaches every feature the dense engine must agree on.
#[test]
fn conv_case_covers_every_spec_feature() {
    let mut runner = proptest::test_runner::TestRunner::new(cfg(256));
    let (mut ranks, mut rules, mut modes) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let (mut stride, mut dilation, mut groups, mut depthwise, mut bias, mut flips) =
        (false, false, false, false, false, BTreeSet::new());
    for _ in 0..256 {
        let c = conv_case()
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        ranks.insert(c.input.0.ndim() - 2);
        rules.insert(
            format!("{:?}", c.spec.padding)
                .chars()
                .take(6)
                .collect::<String>(),
        );
        modes.insert(format!("{:?}", c.spec.boundary.kind()));
        stride |= c.spec.stride.iter().any(|&s| s > 1);
        dilation |= c.spec.dilation.iter().any(|&d| d > 1);
        groups |= c.spec.groups > 1 && c.weight.0.shape()[1] > 1;
        depthwise |= c.spec.groups > 1 && c.weight.0.shape()[1] == 1;
        bias |= c.bias.is_some();
        flips.insert(format!("{:?}", c.spec.flip));
    }
    assert_eq!(ranks.len(), 3);
    assert_eq!(rules.len(), 6, "{rules:?}");
    assert_eq!(modes.len(), 6, "{modes:?}");
    assert_eq!(flips.len(), 2);
    assert!(stride && dilation && groups && depthwise && bias);
    // And C == H == W shapes are generated explicitly for the layout property.
    let cube = (0..64).all(|_| {
        let c = cube_layout_case()
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        let s = c.input.0.shape();
        s[1] == s[2] && s[2] == s[3]
    });
    assert!(cube);
}

// ---------------------------------------------------------------- conv_transpose by hand

fn run_t(x: ArrayD<i64>, w: ArrayD<i64>, spec: &TransposeSpec) -> ArrayD<i64> {
    conv_transpose(x.view(), w.view(), None, spec).unwrap()
}

/// PyTorch: out = (n-1)*s - 2p + d*(k-1) + output_padding + 1, checked on shapes over a
/// grid, and values worked by hand.
#[test]
fn conv_transpose_pytorch_formula() {
    for n in 1..=4usize {
        for k in 1..=3usize {
            for s in 1..=3usize {
                for d in 1..=2usize {
                    for p in 0..=2usize {
                        for op in 0..s.max(d) {
                            let out = ((n - 1) * s + d * (k - 1) + op + 1) as i64 - 2 * p as i64;
                            let spec = TransposeSpec {
                                stride: vec![s],
                                dilation: vec![d],
                                padding: TransposePadding::Explicit(vec![(p, p)]),
                                output_padding: vec![op],
                                ..TransposeSpec::default()
                            };
                            let x = ArrayD::from_elem(IxDyn(&[1, 1, n]), 1i64);
                            let w = ArrayD::from_elem(IxDyn(&[1, 1, k]), 1i64);
                            let got = conv_transpose(x.view(), w.view(), None, &spec);
                            if out >= 1 {
                                assert_eq!(
                                    got.unwrap().shape(),
                                    [1, 1, out as usize],
                                    "n={n} k={k} s={s} d={d} p={p} op={op}"
                                );
                            } else {
                                assert!(
                                    matches!(got, Err(ConvError::OutputTooSmall { .. })),
                                    "n={n} k={k} s={s} d={d} p={p} op={op}: {got:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // x = [1 2 3], w = [1 10 100], s = 2, p = 1, output_padding = 1: out = 4 - 2 + 2 + 1 + 1
    // = 6. Scatter y[2i + k] += x[i] w[k] gives [1 10 102 20 203 30 300] and one output-padding
    // zero; padding 1 removes one position at each end: [10 102 20 203 30 300].
    let spec = TransposeSpec {
        stride: vec![2],
        padding: TransposePadding::Explicit(vec![(1, 1)]),
        output_padding: vec![1],
        ..TransposeSpec::default()
    };
    let y = run_t(
        array![[[1i64, 2, 3]]].into_dyn(),
        array![[[1i64, 10, 100]]].into_dyn(),
        &spec,
    );
    assert_eq!(
        y.iter().copied().collect::<Vec<_>>(),
        [10, 102, 20, 203, 30, 300]
    );
    // Output padding 1 with no pads: the extra position at the end is 0.
    let spec = TransposeSpec {
        stride: vec![2],
        output_padding: vec![1],
        ..TransposeSpec::default()
    };
    let y = run_t(
        array![[[1i64, 2, 3]]].into_dyn(),
        array![[[1i64, 10, 100]]].into_dyn(),
        &spec,
    );
    assert_eq!(
        y.iter().copied().collect::<Vec<_>>(),
        [1, 10, 102, 20, 203, 30, 300, 0]
    );
    // Dilation 2, k = 2, n = 2, s = 1: out = 1 + 2 + 1 = 4; y[i + 2k] += x[i] w[k]:
    // x = [1 2], w = [1 10]: [1, 2, 10, 20].
    let spec = TransposeSpec {
        dilation: vec![2],
        ..TransposeSpec::default()
    };
    let y = run_t(
        array![[[1i64, 2]]].into_dyn(),
        array![[[1i64, 10]]].into_dyn(),
        &spec,
    );
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), [1, 2, 10, 20]);
    // 2-D, stride (2, 1): x = [[1, 2]] (1x2), w = [[1], [10]] (2x1): out (1-1)*2 + 2 = 2 by
    // (2-1)*1 + 1 = 2: y[2i + a, j + b] += x[i, j] w[a, b] = [[1, 2], [10, 20]].
    let spec = TransposeSpec {
        stride: vec![2, 1],
        ..TransposeSpec::default()
    };
    let y = run_t(
        array![[[[1i64, 2]]]].into_dyn(),
        array![[[[1i64], [10]]]].into_dyn(),
        &spec,
    );
    assert_eq!(y.shape(), [1, 1, 2, 2]);
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), [1, 2, 10, 20]);
}

/// Groups: weight (C_in, C_out/groups, k); input channel `c` of group `g` scatters only into
/// output channels `g*C_out/groups ..`.
#[test]
fn conv_transpose_groups_by_hand() {
    // C_in = 2, x = [[1 2], [3 4]], w[0, 0] = [1 1], w[1, 0] = [1 -1], s = 1.
    let x = array![[[1i64, 2], [3, 4]]].into_dyn();
    let w = array![[[1i64, 1]], [[1, -1]]].into_dyn();
    // groups = 2 (C_out = 2): channel 0: [1, 1+2, 2] = [1 3 2]; channel 1: [3, -3+4, -4].
    let spec = TransposeSpec {
        groups: 2,
        ..TransposeSpec::default()
    };
    let y = run_t(x.clone(), w.clone(), &spec);
    assert_eq!(y.shape(), [1, 2, 3]);
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), [1, 3, 2, 3, 1, -4]);
    // groups = 1 (C_out = 1): both input channels scatter into the one output: the sum.
    let y = run_t(x.clone(), w.clone(), &TransposeSpec::default());
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), [4, 4, -2]);
    // groups = 2 with two outputs per group, 1x1 kernels: w[0] = [[1], [2]], w[1] = [[3], [4]]:
    // out channels 0, 1 = 1x, 2x of channel 0; out channels 2, 3 = 3x, 4x of channel 1.
    let w = array![[[1i64], [2]], [[3], [4]]].into_dyn();
    let y = run_t(x.clone(), w.clone(), &spec);
    assert_eq!(y.shape(), [1, 4, 2]);
    assert_eq!(
        y.iter().copied().collect::<Vec<_>>(),
        [1, 2, 2, 4, 9, 12, 12, 16]
    );
    // With bias (C_out = 4).
    let b = array![100i64, 200, 300, 400];
    let y = conv_transpose(x.view(), w.view(), Some(b.view()), &spec).unwrap();
    assert_eq!(
        y.iter().copied().collect::<Vec<_>>(),
        [101, 102, 202, 204, 309, 312, 412, 416]
    );
}

// ---------------------------------------------------------------- the dense matrix by hand

fn print_matrix(title: &str, f: &DenseForm<i64>) {
    eprintln!(
        "{title}: {:?} -> {:?}, matrix {:?}",
        f.input_shape,
        f.output_shape,
        f.matrix.dim()
    );
    for row in f.matrix.rows() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>2}")).collect();
        eprintln!("    [{}]", cells.join(" "));
    }
}

/// A 3x3 input, 2x2 kernel [[1 2] [3 4]], valid: the 4x9 matrix, rows = outputs, every row
/// the kernel laid out with the input's row stride 3.
#[test]
fn dense_matrix_of_a_tiny_valid_conv() {
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 3]), (1..=9).collect()).unwrap();
    let w = array![[[[1i64, 2], [3, 4]]]].into_dyn();
    let f = dense_form(&Problem::new(x.view(), w.view())).unwrap();
    print_matrix("valid 3x3 * 2x2", &f);
    let expected = array![
        [1i64, 2, 0, 3, 4, 0, 0, 0, 0],
        [0, 1, 2, 0, 3, 4, 0, 0, 0],
        [0, 0, 0, 1, 2, 0, 3, 4, 0],
        [0, 0, 0, 0, 1, 2, 0, 3, 4],
    ];
    assert_eq!(f.matrix, expected);
    assert_eq!(f.output_shape, [1, 2, 2]);
    // y[0, 0] = 1*1 + 2*2 + 3*4 + 4*5 = 37.
    let y = f.apply(x.view()).unwrap();
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), [37, 47, 67, 77]);
}

/// A 3x3 input, 3x3 kernel 1..9, SAME zero padding: the 9x9 doubly block Toeplitz matrix.
/// Block (I, J) (output row I, input row J) is the Toeplitz matrix of kernel row J - I + 1,
/// zero when that row does not exist; inside a block, entry (i, j) is w[J - I + 1, j - i + 1].
#[test]
fn dense_matrix_is_doubly_block_toeplitz() {
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 3, 3]), 0i64);
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 3]), (1..=9).collect()).unwrap();
    let spec = ConvSpec::new().padding(Padding::SameUpper);
    let f = dense_form(&Problem::new(x.view(), w.view()).spec(spec)).unwrap();
    print_matrix("same 3x3 * 3x3 (w = 1..9)", &f);
    assert_eq!(f.matrix.dim(), (9, 9));
    for r in 0..9 {
        for c in 0..9 {
            let (bi, i, bj, j) = (r / 3, r % 3, c / 3, c % 3);
            let (a, b) = (bj as i64 - bi as i64 + 1, j as i64 - i as i64 + 1);
            let want = if (0..3).contains(&a) && (0..3).contains(&b) {
                w[[0, 0, a as usize, b as usize]]
            } else {
                0
            };
            assert_eq!(f.matrix[(r, c)], want, "entry ({r}, {c})");
        }
    }
    // Specific entries: the centre output (row 4) sees the whole kernel: its row is 1..9.
    assert_eq!(f.matrix.row(4).to_vec(), (1..=9).collect::<Vec<i64>>());
    // The corner output (row 0) sees only the kernel's lower-right 2x2 [5 6; 8 9].
    assert_eq!(f.matrix.row(0).to_vec(), [5, 6, 0, 8, 9, 0, 0, 0, 0]);
    assert_eq!(f.matrix[(8, 0)], 0);
    assert_eq!(f.matrix[(8, 4)], 1);
    // The same problem with a circular boundary is block circulant: it commutes with shifts.
    let spec = ConvSpec::new()
        .padding(Padding::SameUpper)
        .boundary(Boundary::Circular);
    let f = dense_form(&Problem::new(x.view(), w.view()).spec(spec)).unwrap();
    print_matrix("same circular 3x3 * 3x3", &f);
    assert_eq!(f.matrix.row(0).to_vec(), [5, 6, 4, 8, 9, 7, 2, 3, 1]);
    for shift in [[1isize, 0], [0, 1], [2, 1]] {
        lp::matrix_commutes_with_shift(
            f.matrix.view(),
            Some(f.offset.view()),
            &f.input_shape,
            &f.output_shape,
            &shift,
        )
        .unwrap();
    }
}

// ---------------------------------------------------------------- parameter counts

/// The chapter's argument: a dense layer between the flattened input and output grows with
/// (H*W)^2; a convolution has k_h*k_w*C_in*C_out/groups weights, whatever the image size.
#[test]
fn parameter_counts_dense_vs_conv() {
    let same = ConvSpec::<i64>::new().padding(Padding::SameUpper);
    let rows = [
        // (C, H, W), (O, C/g, kh, kw), groups
        ((3, 32, 32), (16, 3, 3, 3), 1),
        ((3, 64, 64), (16, 3, 3, 3), 1),
        ((3, 224, 224), (64, 3, 3, 3), 1),
        ((64, 56, 56), (64, 64, 3, 3), 1),
        ((64, 56, 56), (64, 1, 3, 3), 64),
        ((64, 56, 56), (128, 64, 1, 1), 1),
    ];
    eprintln!(
        "{:>14} {:>16} {:>7} {:>22} {:>10} {:>16}",
        "input", "weight", "groups", "dense weights", "conv", "dense / conv"
    );
    let mut counts = Vec::new();
    for ((c, h, w), (o, cg, kh, kw), g) in rows {
        let spec = same.clone().groups(g);
        let n = parameter_counts(&[c, h, w], &[o, cg, kh, kw], &spec).unwrap();
        // SAME keeps H x W: dense = (C*H*W) * (O*H*W); conv = O * C/g * kh * kw.
        let hw = (h * w) as u128;
        assert_eq!(n.dense_weights, c as u128 * hw * o as u128 * hw);
        assert_eq!(n.dense_biases, o as u128 * hw);
        assert_eq!(n.conv_weights, (o * cg * kh * kw) as u128);
        assert_eq!(n.conv_biases, o as u128);
        eprintln!(
            "{:>14} {:>16} {g:>7} {:>22} {:>10} {:>16}",
            format!("{c}x{h}x{w}"),
            format!("{o}x{cg}x{kh}x{kw}"),
            n.dense_weights,
            n.conv_weights,
            n.dense_weights / n.conv_weights
        );
        counts.push(n);
    }
    // Numbers a reader can check: 3x32x32 -> 16x32x32 with 3x3: 3072 * 16384 = 50,331,648
    // dense weights against 16*3*3*3 = 432.
    assert_eq!(counts[0].dense_weights, 50_331_648);
    assert_eq!(counts[0].conv_weights, 432);
    // Doubling H and W multiplies the dense count by 16 = (2*2)^2 and leaves conv alone.
    assert_eq!(counts[1].dense_weights, 16 * counts[0].dense_weights);
    assert_eq!(counts[1].conv_weights, counts[0].conv_weights);
    // 224x224 RGB -> 64 channels: 150528 * 3211264 = 483,385,147,392 (~4.8e11) vs 1728.
    assert_eq!(counts[2].dense_weights, 483_385_147_392);
    assert_eq!(counts[2].conv_weights, 1728);
    // Depthwise (groups = C) divides the convolution's weights by C: 36864 / 64 = 576.
    assert_eq!(counts[3].conv_weights, 36_864);
    assert_eq!(counts[4].conv_weights, 576);
    // A 1x1 convolution is C_in*C_out weights: the per-pixel dense layer's matrix.
    assert_eq!(counts[5].conv_weights, 8192);
    // And the small case agrees with the dense matrix the dense engine builds.
    let x = ArrayD::from_elem(IxDyn(&[1, 2, 4, 5]), 1i64);
    let w = ArrayD::from_elem(IxDyn(&[3, 2, 3, 3]), 1i64);
    let spec = ConvSpec::new().padding(Padding::SameUpper);
    let f = dense_form(&Problem::new(x.view(), w.view()).spec(spec.clone())).unwrap();
    let n = parameter_counts(&[2, 4, 5], &[3, 2, 3, 3], &spec).unwrap();
    assert_eq!(n.dense_weights, f.dense_parameters() as u128);
    assert_eq!(n.dense_weights, (2 * 20 * 3 * 20) as u128);
    assert_eq!(n.conv_weights, w.len() as u128);
}

// ---------------------------------------------------------------- locality, a true limit

/// Why locality-inside asks for positive taps: under replicate (or reflect, circular) one
/// element can feed several taps, and with w = [1, -1] their contributions cancel.
#[test]
fn locality_inside_needs_positive_taps() {
    let case = |w: ArrayD<i64>| lp::PerturbCase {
        case: ConvCase {
            input: Arr(array![[[5i64]]].into_dyn()),
            weight: Arr(w),
            bias: None,
            spec: ConvSpec::new()
                .padding(Padding::Explicit(vec![(1, 0)]))
                .boundary(Boundary::Replicate),
        },
        at: vec![0, 0, 0],
        delta: 1,
    };
    // n = 1, pads (1, 0): y[0] = w0 * x[0] + w1 * x[0] (the pad replicates x[0]).
    let cancel = case(array![[[1i64, -1]]].into_dyn());
    let y = conv(&cancel.case.problem()).unwrap();
    let mut x2 = cancel.case.input.0.clone();
    x2[[0, 0, 0]] += 1;
    let mut p2 = cancel.case.problem();
    p2.input = x2.view();
    assert_eq!(
        y,
        conv(&p2).unwrap(),
        "the change cancels: the output does not move"
    );
    assert_eq!(
        locality_inside(&ReferenceEngine, &cancel).map_err(|v| v.kind),
        Err(Kind::HypothesisBroken),
        "cancelling taps break the hypothesis, not the engine"
    );
    // Positive taps: the output moves by delta * (w0 + w1) = 1 * 5.
    let fine = case(array![[[2i64, 3]]].into_dyn());
    locality_inside(&ReferenceEngine, &fine).unwrap();
    locality_outside(&ReferenceEngine, &fine).unwrap();
}

// ---------------------------------------------------------------- wrong engines

type ConvFn = fn(&Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError>;

/// The same problem with shorter-lived views, so a wrong engine can swap in local arrays.
fn reborrow<'a>(p: &'a Problem<'_, i64>) -> Problem<'a, i64> {
    Problem {
        input: p.input.view(),
        weight: p.weight.view(),
        bias: p.bias.as_ref().map(|b| b.view()),
        spec: p.spec.clone(),
    }
}

/// A deliberately wrong engine: a name and a function.
struct Wrong {
    name: &'static str,
    f: ConvFn,
}

impl ConvEngine<i64> for Wrong {
    fn name(&self) -> &str {
        self.name
    }
    fn conv(&self, p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
        (self.f)(p)
    }
}

/// Uses zero padding when asked for circular.
fn zeros_for_circular(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let mut q = p.clone();
    if q.spec.boundary == Boundary::Circular {
        q.spec.boundary = Boundary::Zeros;
    }
    conv(&q)
}

/// Wraps around whatever boundary was asked for.
fn always_circular(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let mut q = p.clone();
    q.spec.boundary = Boundary::Circular;
    conv(&q)
}

/// Every group reads the first group's input channels (forgets the offset g*C/G; burn
/// issue 2286 was this kind of bug).
fn ignores_group_offset(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    p.validate()?;
    let groups = p.spec.groups;
    let (og, cg) = (p.weight.shape()[0] / groups, p.weight.shape()[1]);
    let mut parts = Vec::new();
    for g in 0..groups {
        let mut q = reborrow(p);
        q.input = p.input.slice_axis(Axis(1), Slice::from(0..cg));
        q.weight = p
            .weight
            .slice_axis(Axis(0), Slice::from(g * og..(g + 1) * og));
        q.bias = p
            .bias
            .as_ref()
            .map(|b| b.slice_axis(Axis(0), Slice::from(g * og..(g + 1) * og)));
        q.spec.groups = 1;
        parts.push(conv(&q)?);
    }
    let views: Vec<_> = parts.iter().map(|a| a.view()).collect();
    Ok(ndarray::concatenate(Axis(1), &views).unwrap())
}

/// Off by one at the far edge of the first spatial axis: its last element reads as 0.
fn last_element_as_zero(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let mut x = p.input.to_owned();
    if x.ndim() > 2 {
        let n = x.shape()[2];
        x.slice_axis_mut(Axis(2), Slice::from(n - 1..n)).fill(0);
    }
    let mut q = reborrow(p);
    q.input = x.view();
    conv(&q)
}

/// Reads contiguous taps whatever the dilation (the output size is kept right by padding the
/// end by what the dilation would have spanned).
fn ignores_dilation(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let geo = p.validate()?;
    let pads = geo
        .axes
        .iter()
        .map(|a| (a.pad_lo, a.pad_hi + a.effective_kernel() - a.kernel))
        .collect();
    let mut q = p.clone();
    q.spec.dilation = Vec::new();
    q.spec.padding = Padding::Explicit(pads);
    conv(&q)
}

/// Drops the last tap along the first spatial axis.
fn drops_last_tap(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let mut w = p.weight.to_owned();
    if w.ndim() > 2 {
        let k = w.shape()[2];
        w.slice_axis_mut(Axis(2), Slice::from(k - 1..k)).fill(0);
    }
    let mut q = reborrow(p);
    q.weight = w.view();
    conv(&q)
}

/// Computes every output position (stride ignored).
fn ignores_stride(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let mut q = p.clone();
    q.spec.stride = Vec::new();
    conv(&q)
}

/// Trivially "equivariant": convolves a zero input, so the output is the bias (plus what a
/// constant boundary contributes) whatever the input. Only the refutations and the
/// comparisons notice.
fn ignores_input(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    let zeros = ArrayD::zeros(p.input.raw_dim());
    let mut q = reborrow(p);
    q.input = zeros.view();
    conv(&q)
}

/// The dense engine with one matrix entry perturbed.
fn perturbed_dense(p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
    perturbed_dense_form(p)?.apply(p.input.view())
}

fn failing_engine(f: ConvFn, cases: u32) -> Vec<&'static str> {
    let engine = Wrong { name: "wrong", f };
    run_engine_battery(&engine, cases, SEED)
        .into_iter()
        .filter(|o| !o.passed)
        .map(|o| o.property)
        .collect()
}

#[test]
fn wrong_engines_are_caught() {
    let cases: [(&str, ConvFn, &[&str]); 9] = [
        (
            "zero padding for circular",
            zeros_for_circular,
            &[
                "translation-equivariance-circular",
                "translation-equivariance-stride",
                "locality-inside",
                "engine-equals-reference",
            ],
        ),
        (
            "always circular",
            always_circular,
            &[
                "zero-padding-breaks-equivariance",
                "locality-outside",
                "engine-equals-reference",
            ],
        ),
        (
            "ignores the groups' channel offset",
            ignores_group_offset,
            &[
                "groups-are-independent",
                "depthwise-is-per-channel",
                "locality-outside",
                "engine-equals-reference",
            ],
        ),
        (
            "last element read as zero",
            last_element_as_zero,
            &[
                "translation-equivariance-circular",
                "translation-equivariance-interior",
                "locality-inside",
                "engine-equals-reference",
            ],
        ),
        (
            "ignores dilation",
            ignores_dilation,
            &[
                "locality-outside",
                "locality-inside",
                "engine-equals-reference",
            ],
        ),
        (
            "drops the last tap",
            drops_last_tap,
            &["locality-inside", "engine-equals-reference"],
        ),
        (
            "ignores stride",
            ignores_stride,
            &["translation-equivariance-stride", "engine-equals-reference"],
        ),
        (
            "ignores the input (bias only)",
            ignores_input,
            &[
                "zero-padding-breaks-equivariance",
                "stride-2-shift-1-breaks-equivariance",
                "locality-inside",
                "engine-equals-reference",
            ],
        ),
        (
            "dense matrix with one entry perturbed",
            perturbed_dense,
            &["engine-equals-reference"],
        ),
    ];
    for (what, f, expected) in cases {
        let failed = failing_engine(f, 128);
        eprintln!("{what}: caught by {failed:?}");
        for p in expected {
            assert!(
                failed.contains(p),
                "{what}: expected {p} to fail, failures were {failed:?}"
            );
        }
    }
    // Every engine property catches at least one of them.
    let caught: BTreeSet<&str> = cases.iter().flat_map(|c| c.2.iter().copied()).collect();
    assert_eq!(
        caught,
        ENGINE_PROPERTIES.into_iter().collect::<BTreeSet<_>>()
    );
}

// ---------------------------------------------------------------- wrong operators

/// `pointwise_matrix` without the zeros between groups: every output channel reads every
/// input channel with its group's weights.
fn pointwise_ignores_groups(
    w: ArrayViewD<'_, i64>,
    layout: KernelLayout,
    groups: usize,
) -> Result<Array2<i64>, ConvError> {
    let good = pointwise_matrix(w, layout, groups)?;
    let (o, c) = good.dim();
    let (og, cg) = (o / groups, c / groups);
    Ok(Array2::from_shape_fn((o, c), |(m, ch)| {
        good[(m, (m / og) * cg + ch % cg)]
    }))
}

fn perturbed_dense_form(p: &Problem<'_, i64>) -> Result<DenseForm<i64>, ConvError> {
    let mut f = dense_form(p)?;
    if let Some(e) = f.matrix.get_mut((0, 0)) {
        *e += 1;
    }
    Ok(f)
}

/// im2col on the padded input: the matrix's columns are the padded input's elements, so a
/// "dense layer" of the wrong size.
fn dense_form_over_padded_input(p: &Problem<'_, i64>) -> Result<DenseForm<i64>, ConvError> {
    let geo = p.validate()?;
    let mut pads = vec![(0, 0), (0, 0)];
    pads.extend(geo.pads());
    let xp = conv_oracle::problem::boundary::pad(
        p.input.view(),
        &pads,
        &p.spec.boundary,
        &p.spec.limits,
    )?;
    let mut q = reborrow(p);
    q.input = xp.view();
    q.spec.padding = Padding::Valid;
    dense_form(&q)
}

/// conv_transpose with the kernel reversed (true convolution where the adjoint needs
/// correlation's transpose).
fn transpose_flips_kernel(
    x: ArrayViewD<'_, i64>,
    w: ArrayViewD<'_, i64>,
    b: Option<ArrayView1<'_, i64>>,
    spec: &TransposeSpec,
) -> Result<ArrayD<i64>, ConvError> {
    let mut w = w.to_owned();
    for a in 2..w.ndim() {
        w.invert_axis(Axis(a));
    }
    conv_transpose(x, w.view(), b, spec)
}

/// conv_transpose with begin and end pads swapped.
fn transpose_swaps_pads(
    x: ArrayViewD<'_, i64>,
    w: ArrayViewD<'_, i64>,
    b: Option<ArrayView1<'_, i64>>,
    spec: &TransposeSpec,
) -> Result<ArrayD<i64>, ConvError> {
    let mut spec = spec.clone();
    if let TransposePadding::Explicit(p) = &mut spec.padding {
        for q in p.iter_mut() {
            *q = (q.1, q.0);
        }
    }
    conv_transpose(x, w, b, &spec)
}

/// conv_transpose that removes both pads from the start.
fn transpose_pads_one_side(
    x: ArrayViewD<'_, i64>,
    w: ArrayViewD<'_, i64>,
    b: Option<ArrayView1<'_, i64>>,
    spec: &TransposeSpec,
) -> Result<ArrayD<i64>, ConvError> {
    let mut spec = spec.clone();
    if let TransposePadding::Explicit(p) = &mut spec.padding {
        for q in p.iter_mut() {
            *q = (q.0 + q.1, 0);
        }
    }
    conv_transpose(x, w, b, &spec)
}

/// SAME_UPPER and SAME_LOWER swapped (onnxruntime's ConvTranspose before 1.13, its issues
/// 9370 and 11927), and likewise the `output_shape` split.
fn transpose_swaps_same_rules(
    x: ArrayViewD<'_, i64>,
    w: ArrayViewD<'_, i64>,
    b: Option<ArrayView1<'_, i64>>,
    spec: &TransposeSpec,
) -> Result<ArrayD<i64>, ConvError> {
    let mut spec = spec.clone();
    spec.padding = match spec.padding {
        TransposePadding::SameUpper => TransposePadding::SameLower,
        TransposePadding::SameLower => TransposePadding::SameUpper,
        TransposePadding::OutputShape { shape, auto_pad } => TransposePadding::OutputShape {
            shape,
            auto_pad: match auto_pad {
                conv_oracle::layer::AutoPad::SameUpper => conv_oracle::layer::AutoPad::NotSet,
                _ => conv_oracle::layer::AutoPad::SameUpper,
            },
        },
        explicit => explicit,
    };
    conv_transpose(x, w, b, &spec)
}

fn to_channels_last(y: ArrayD<i64>) -> ArrayD<i64> {
    let nd = y.ndim();
    let mut p = vec![0];
    p.extend(2..nd);
    p.push(1);
    y.permuted_axes(IxDyn(&p)).as_standard_layout().into_owned()
}

/// NHWC handled with H and W swapped (the permutation (0, C, W, H) instead of (0, C, H, W)).
fn conv_swaps_h_and_w(
    x: ArrayViewD<'_, i64>,
    w: ArrayViewD<'_, i64>,
    b: Option<ArrayView1<'_, i64>>,
    spec: &LayerSpec,
) -> Result<ArrayD<i64>, ConvError> {
    if spec.input_layout != InputLayout::ChannelsLast || x.ndim() < 4 {
        return layer::conv(x, w, b, spec);
    }
    let nd = x.ndim();
    let mut p = vec![0, nd - 1];
    p.extend(1..nd - 1);
    p.swap(2, 3);
    let first = LayerSpec {
        input_layout: InputLayout::ChannelsFirst,
        ..spec.clone()
    };
    Ok(to_channels_last(layer::conv(
        x.permuted_axes(IxDyn(&p)),
        w,
        b,
        &first,
    )?))
}

/// candle issue 3404: decides "already channels-first" from the strides, which coincide for
/// NCHW and NHWC when C == H == W, and then skips the conversion.
fn conv_guesses_layout_from_strides(
    x: ArrayViewD<'_, i64>,
    w: ArrayViewD<'_, i64>,
    b: Option<ArrayView1<'_, i64>>,
    spec: &LayerSpec,
) -> Result<ArrayD<i64>, ConvError> {
    if spec.input_layout == InputLayout::ChannelsLast && x.ndim() == 4 {
        let s = x.shape();
        let (h, wd, c) = (s[1] as isize, s[2] as isize, s[3] as isize);
        if x.strides() == [c * h * wd, h * wd, wd, 1] {
            let first = LayerSpec {
                input_layout: InputLayout::ChannelsFirst,
                ..spec.clone()
            };
            return Ok(to_channels_last(layer::conv(x, w, b, &first)?));
        }
    }
    layer::conv(x, w, b, spec)
}

fn failing_ops(ops: LayerOps, cases: u32) -> Vec<&'static str> {
    run_operator_battery(&ops, cases, SEED)
        .into_iter()
        .filter(|o| !o.passed)
        .map(|o| o.property)
        .collect()
}

#[test]
fn wrong_operators_are_caught() {
    let r = LayerOps::reference();
    let cases: [(&str, LayerOps, &[&str]); 9] = [
        (
            "pointwise matrix not block diagonal",
            LayerOps {
                pointwise_matrix: pointwise_ignores_groups,
                ..r
            },
            &["pointwise-is-dense-per-pixel"],
        ),
        (
            "dense matrix with one entry perturbed",
            LayerOps {
                dense_form: perturbed_dense_form,
                ..r
            },
            &["dense-matrix-commutes-with-shift"],
        ),
        (
            "dense matrix over the padded input",
            LayerOps {
                dense_form: dense_form_over_padded_input,
                ..r
            },
            &["parameter-counts", "dense-matrix-commutes-with-shift"],
        ),
        (
            "conv_transpose with the kernel flipped",
            LayerOps {
                conv_transpose: transpose_flips_kernel,
                ..r
            },
            &["conv-transpose-is-adjoint"],
        ),
        (
            "conv_transpose with begin and end pads swapped",
            LayerOps {
                conv_transpose: transpose_swaps_pads,
                ..r
            },
            &["conv-transpose-is-adjoint"],
        ),
        (
            "conv_transpose with both pads at the start",
            LayerOps {
                conv_transpose: transpose_pads_one_side,
                ..r
            },
            &["conv-transpose-is-adjoint"],
        ),
        (
            "conv_transpose with SAME_UPPER and SAME_LOWER swapped",
            LayerOps {
                conv_transpose: transpose_swaps_same_rules,
                ..r
            },
            &["conv-transpose-is-adjoint"],
        ),
        (
            "layout permutation swapping H and W",
            LayerOps {
                conv: conv_swaps_h_and_w,
                ..r
            },
            &["layouts-are-permutations", "pointwise-is-dense-per-pixel"],
        ),
        (
            "layout guessed from strides (candle 3404)",
            LayerOps {
                conv: conv_guesses_layout_from_strides,
                ..r
            },
            &["layouts-are-permutations"],
        ),
    ];
    let mut caught = BTreeSet::new();
    for (what, ops, expected) in cases {
        let failed = failing_ops(ops, 128);
        eprintln!("{what}: caught by {failed:?}");
        for p in expected {
            assert!(
                failed.contains(p),
                "{what}: expected {p} to fail, failures were {failed:?}"
            );
        }
        caught.extend(expected.iter().copied());
    }
    // The refutation "dense-layer-not-equivariant" has no operator to break; its teeth are
    // shown below. Every other operator property catches a wrong operator.
    caught.insert("dense-layer-not-equivariant");
    assert_eq!(
        caught,
        OPERATOR_PROPERTIES.into_iter().collect::<BTreeSet<_>>()
    );
}

/// The candle 3404 mutant is invisible unless C == H == W: the cube strategy catches it at
/// once; shapes that are not cubes never trigger it.
#[test]
fn layout_guessing_needs_c_equal_h_equal_w() {
    let ops = LayerOps {
        conv: conv_guesses_layout_from_strides,
        ..LayerOps::reference()
    };
    let v = search(cube_layout_case(), 64, SEED, |c| {
        layouts_are_permutations(&ops, c)
    })
    .expect_err("C == H == W exposes the stride-based guess");
    assert_eq!(v.kind, Kind::Mismatch, "{v}");
    let not_cube = general_layout_case().prop_filter("not a cube", |c| {
        let s = c.input.0.shape();
        !(s.len() == 4 && s[1] == s[2] && s[2] == s[3])
    });
    search(not_cube, 128, SEED, |c| layouts_are_permutations(&ops, c))
        .expect("without C == H == W the guess is never wrong");
}

/// The refutation has teeth: if the "dense layer" is secretly a circular convolution's
/// matrix, the search finds no counterexample (and the battery row would fail).
#[test]
fn dense_layer_refutation_needs_a_general_matrix() {
    let circulant = circular_same_shift_case().prop_map(|c| {
        let f = dense_form(&c.case.problem()).expect("valid case");
        DenseLayerCase {
            matrix: Arr(f.matrix.into_dyn()),
            input_shape: f.input_shape,
            output_shape: f.output_shape,
            shift: c.shift,
        }
    });
    search(circulant, 256, SEED, dense_layer_commutes_with_shift)
        .expect("a convolution's matrix commutes with the shift");
    // While general matrices of the same shapes are refuted, with a shrunk witness.
    let msg = search(
        dense_layer_case(),
        256,
        SEED,
        dense_layer_commutes_with_shift,
    )
    .expect_err("random matrices do not commute");
    assert_eq!(msg.kind, Kind::Mismatch, "{msg}");
    assert!(msg.detail.contains("M S != S M"), "{msg}");
}

/// `matrix_commutes_with_shift` reads a matrix the way `dense_form` lays it out.
#[test]
fn matrix_view_helper_matches_the_dense_layout() {
    // (O=1, n=3) x (C=1, n=3) circulant [[a b c] [c a b] [b c a]] commutes with every shift.
    let m: Array2<i64> = array![[1, 2, 3], [3, 1, 2], [2, 3, 1]];
    for t in -3..=3 {
        lp::matrix_commutes_with_shift(m.view(), None, &[1, 3], &[1, 3], &[t]).unwrap();
    }
    let v: ArrayView2<'_, i64> = m.view();
    let mut bad = v.to_owned();
    bad[(1, 1)] = 9;
    let v = lp::matrix_commutes_with_shift(bad.view(), None, &[1, 3], &[1, 3], &[1]).unwrap_err();
    assert_eq!(v.kind, Kind::Mismatch, "{v}");
}
