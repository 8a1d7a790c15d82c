//! Method choice: `Method::{Direct, Fft, OverlapAdd, Auto}`, the plans `Auto` prints for a
//! table of representative shapes (snapshot), and that every method computes what the engine
//! it names computes.

mod common;

use common::cfg;
use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::fft::{Blocking, FftEngine};
use conv_oracle::engine::method::{Method, MethodEngine};
use conv_oracle::problem::Problem;
use conv_oracle::problem::{ConvSpec, Flip, Limits, Padding};
use conv_oracle::reference;
use conv_oracle::testing::cases::{Case, Dist, case};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use std::fmt::Write;

/// A representative problem: batch, channels, spatial input and kernel shapes, padding,
/// stride.
struct Shape {
    name: &'static str,
    input: Vec<usize>,
    kernel: Vec<usize>,
    padding: Padding,
    stride: usize,
}

fn shape(name: &'static str, input: &[usize], kernel: &[usize], padding: Padding) -> Shape {
    Shape {
        name,
        input: input.to_vec(),
        kernel: kernel.to_vec(),
        padding,
        stride: 1,
    }
}

fn representative() -> Vec<Shape> {
    vec![
        shape(
            "1-D 1000 x 3 full",
            &[1, 1, 1000],
            &[1, 1, 3],
            Padding::Full,
        ),
        shape(
            "1-D 1000 x 64 full",
            &[1, 1, 1000],
            &[1, 1, 64],
            Padding::Full,
        ),
        shape(
            "1-D 1e6 x 16 full (W2)",
            &[1, 1, 1_000_000],
            &[1, 1, 16],
            Padding::Full,
        ),
        shape(
            "1-D 1e6 x 1024 full (W2)",
            &[1, 1, 1_000_000],
            &[1, 1, 1024],
            Padding::Full,
        ),
        shape(
            "1-D 1e6 x 65536 full (W2)",
            &[1, 1, 1_000_000],
            &[1, 1, 65536],
            Padding::Full,
        ),
        shape(
            "1-D 4096 x 4096 valid",
            &[1, 1, 4096],
            &[1, 1, 4096],
            Padding::Valid,
        ),
        shape(
            "2-D 512x512 x 3x3 full (W1)",
            &[1, 1, 512, 512],
            &[1, 1, 3, 3],
            Padding::Full,
        ),
        shape(
            "2-D 512x512 x 15x15 full (W1)",
            &[1, 1, 512, 512],
            &[1, 1, 15, 15],
            Padding::Full,
        ),
        shape(
            "2-D 512x512 x 63x63 full (W1)",
            &[1, 1, 512, 512],
            &[1, 1, 63, 63],
            Padding::Full,
        ),
        shape(
            "2-D 64x64 x 5x5 same",
            &[1, 1, 64, 64],
            &[1, 1, 5, 5],
            Padding::SameUpper,
        ),
        shape(
            "2-D 2048x64 x 31x31 full",
            &[1, 1, 2048, 64],
            &[1, 1, 31, 31],
            Padding::Full,
        ),
        shape(
            "layer 8x64x56x56, 64x64x3x3 same",
            &[8, 64, 56, 56],
            &[64, 64, 3, 3],
            Padding::SameUpper,
        ),
        shape(
            "layer 1x3x224x224, 64x3x7x7 stride 2",
            &[1, 3, 224, 224],
            &[64, 3, 7, 7],
            Padding::Explicit(vec![(3, 3), (3, 3)]),
        ),
        shape(
            "3-D 32^3 x 3^3 same",
            &[1, 1, 32, 32, 32],
            &[1, 1, 3, 3, 3],
            Padding::SameUpper,
        ),
        shape(
            "3-D 64^3 x 9^3 full",
            &[1, 1, 64, 64, 64],
            &[1, 1, 9, 9, 9],
            Padding::Full,
        ),
    ]
    .into_iter()
    .map(|mut s| {
        if s.name.contains("stride 2") {
            s.stride = 2;
        }
        s
    })
    .collect()
}

fn problem_spec(s: &Shape) -> ConvSpec<f64> {
    let rank = s.input.len() - 2;
    ConvSpec::new()
        .flip(Flip::Convolution)
        .padding(s.padding.clone())
        .stride(vec![s.stride; rank])
        .limits(Limits {
            max_elements: 1 << 32,
            max_work: 1 << 40,
        })
}

/// The plan of every method for each representative shape. The predicted times come from
/// the default cost model (fitted on the development machine), so this snapshot changes when
/// the model is refitted: review the new choices then.
#[test]
fn plans_of_representative_shapes() {
    let engines: Vec<MethodEngine> = Method::ALL.into_iter().map(MethodEngine::new).collect();
    let mut out = String::new();
    for s in representative() {
        let x = ArrayD::from_elem(IxDyn(&s.input), 1.0f64);
        let w = ArrayD::from_elem(IxDyn(&s.kernel), 1.0f64);
        let p = Problem::new(x.view(), w.view()).spec(problem_spec(&s));
        writeln!(out, "{}", s.name).unwrap();
        for e in &engines {
            writeln!(out, "  {}", e.plan(&p).unwrap()).unwrap();
        }
    }
    insta::assert_snapshot!("method_plans", out);
}

/// On the workloads, `Auto` takes the fast path the benchmarks measured fastest:
/// direct for the smallest kernels, a transform method for the others.
#[test]
fn auto_choices_on_the_workloads() {
    let auto = MethodEngine::new(Method::Auto);
    let chosen = |input: &[usize], kernel: &[usize]| {
        let s = shape("", input, kernel, Padding::Full);
        let x = ArrayD::from_elem(IxDyn(input), 1.0f64);
        let w = ArrayD::from_elem(IxDyn(kernel), 1.0f64);
        let p = Problem::new(x.view(), w.view()).spec(problem_spec(&s));
        auto.plan(&p).unwrap().chosen
    };
    assert_eq!(chosen(&[1, 1, 512, 512], &[1, 1, 3, 3]), Method::Direct);
    assert_eq!(chosen(&[1, 1, 1_000_000], &[1, 1, 16]), Method::Direct);
    for (input, kernel) in [
        (vec![1, 1, 512, 512], vec![1, 1, 15, 15]),
        (vec![1, 1, 512, 512], vec![1, 1, 63, 63]),
        (vec![1, 1, 1_000_000], vec![1, 1, 1024]),
        (vec![1, 1, 1_000_000], vec![1, 1, 65536]),
    ] {
        let m = chosen(&input, &kernel);
        assert!(
            matches!(m, Method::Fft | Method::OverlapAdd),
            "{input:?} x {kernel:?}: {m}"
        );
    }
}

#[test]
fn method_names_round_trip() {
    for m in Method::ALL {
        assert_eq!(m.name().parse::<Method>(), Ok(m));
        assert_eq!(m.to_string(), m.name());
    }
    assert!(
        "fast"
            .parse::<Method>()
            .unwrap_err()
            .contains("overlap-add")
    );
}

/// What `MethodEngine` computes is, bit for bit, what the engine its plan names computes.
fn same_as_named_engine(c: &Case<f64>) -> Result<(), TestCaseError> {
    let direct = DirectEngine::new();
    let fft = FftEngine::new();
    let oa = FftEngine::overlap_add();
    c.with(|p| {
        for m in Method::ALL {
            let e = MethodEngine::new(m);
            let (got, plan) = match (e.conv(p), e.plan(p)) {
                (Ok(y), Ok(plan)) => (y, plan),
                (Err(a), Err(b)) => {
                    prop_assert_eq!(&a, &b);
                    let want = reference::conv(p);
                    prop_assert_eq!(Err(a), want.map(|_| ()));
                    continue;
                }
                (a, b) => {
                    return Err(TestCaseError::fail(format!(
                        "{m}: conv {a:?} but plan {b:?}"
                    )));
                }
            };
            if m != Method::Auto {
                prop_assert_eq!(plan.chosen, m);
            }
            let named: &dyn ConvEngine<f64> = match plan.chosen {
                Method::Direct => &direct,
                Method::Fft => &fft,
                _ => &oa,
            };
            let want = named
                .conv(p)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let bits = |a: &ArrayD<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(got.shape(), want.shape());
            prop_assert_eq!(bits(&got), bits(&want), "{}", plan);
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(cfg(128))]

    #[test]
    fn every_method_runs_the_engine_it_names(c in case::<f64>(Dist::Uniform, 2)) {
        same_as_named_engine(&c)?;
    }
}

/// Overlap-add engines split long signals; blocks are printed in the plan.
#[test]
fn overlap_add_splits_long_signals() {
    let x = ArrayD::from_elem(IxDyn(&[1, 1, 100_000]), 1.0f64);
    let w = ArrayD::from_elem(IxDyn(&[1, 1, 32]), 1.0f64);
    let p = Problem::new(x.view(), w.view()).spec(ConvSpec::new().padding(Padding::Full));
    let oa = FftEngine::overlap_add();
    let plan = oa.plan(&p).unwrap();
    assert!(plan.path.is_overlap_add(), "{plan}");
    let capped = FftEngine::new().blocking(Blocking::Capped(256));
    let plan = capped.plan(&p).unwrap();
    match &plan.path {
        conv_oracle::engine::fft::FftPath::Fft {
            lengths,
            block,
            blocks,
            ..
        } => {
            assert!(lengths[0] <= 256 && lengths[0] >= block[0] + 31, "{plan}");
            assert_eq!(blocks[0], 100_000usize.div_ceil(block[0]), "{plan}");
        }
        other => panic!("{other}"),
    }
    // Same values as the reference (integers, exact).
    let xi = ArrayD::from_shape_fn(IxDyn(&[1, 1, 5000]), |i| (i[2] % 7) as i64 - 3);
    let wi = ArrayD::from_shape_fn(IxDyn(&[1, 1, 32]), |i| (i[2] % 5) as i64 - 2);
    let p = Problem::new(xi.view(), wi.view()).spec(ConvSpec::new().padding(Padding::Full));
    let (y, path) = capped.conv_with_path(&p).unwrap();
    assert_eq!(y, reference::conv(&p).unwrap());
    assert!(path.is_overlap_add());
}

/// The multiply-add limit bounds direct summation only: the transform engines run beyond it,
/// `Auto` does not choose direct beyond it, and whoever must sum directly reports it.
#[test]
fn work_limit_binds_direct_summation_only() {
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 1, 4000]), |i| (i[2] % 11) as f64 - 5.0);
    let w = ArrayD::from_shape_fn(IxDyn(&[1, 1, 300]), |i| (i[2] % 7) as f64 - 3.0);
    let spec = ConvSpec::new().padding(Padding::Full).limits(Limits {
        max_elements: 1 << 28,
        max_work: 100_000,
    });
    let p = Problem::new(x.view(), w.view()).spec(spec.clone());
    let refused = reference::conv(&p).unwrap_err();
    assert!(refused.to_string().contains("multiply-adds"), "{refused}");
    assert_eq!(DirectEngine::new().conv(&p).unwrap_err(), refused);
    assert_eq!(
        MethodEngine::new(Method::Direct).conv(&p).unwrap_err(),
        refused
    );
    for m in [Method::Fft, Method::OverlapAdd, Method::Auto] {
        let e = MethodEngine::new(m);
        let plan = e.plan(&p).unwrap();
        assert_ne!(plan.chosen, Method::Direct, "{plan}");
        assert!(plan.predicted.iter().all(|(m, _)| *m != Method::Direct));
        assert_eq!(e.conv(&p).unwrap().shape(), [1, 1, 4299]);
    }
    // A transform engine that must compute the reference (non-finite data) reports the limit.
    let mut xn = x.clone();
    xn[[0, 0, 7]] = f64::NAN;
    let pn = Problem::new(xn.view(), w.view()).spec(spec);
    assert_eq!(FftEngine::new().conv(&pn).unwrap_err(), refused);
}
