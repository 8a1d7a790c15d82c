//! The public generators (`conv_oracle::testing::strategies`): drawn problems stay inside the
//! capabilities, the reference passes the oracle on them, and a failing property shrinks to a
//! problem that is still well formed; the quickcheck types (feature `quickcheck`) likewise.

mod common;
use conv_oracle::conformance::transpose::{
    TransposeCapabilities, TransposePaddingRule, TransposeProblemShape,
};
use conv_oracle::conformance::{
    AxisSetting, BoundaryRule, Capabilities, PadLimit, PaddingRule, Pads, Peer, ProblemShape,
};
use conv_oracle::oracle::{judge, judge_transpose};
use conv_oracle::testing::strategies::{problems, transpose_problems};
use conv_oracle::tolerance::Model;
use proptest::prelude::*;
use proptest::test_runner::TestError;

proptest! {
    #![proptest_config(common::cfg(48))]

    #[test]
    fn drawn_problems_are_inside_the_capabilities(
        c in problems::<f64>(&Capabilities::deep_learning())
    ) {
        let caps = Capabilities::deep_learning();
        c.with(|p| -> Result<(), TestCaseError> {
            prop_assert_eq!(caps.outside(&ProblemShape::of(p)), None);
            // Drawn inside what the reference accepts, not filtered afterwards.
            prop_assert!(p.validate().is_ok(), "{:?}", p.validate());
            let y = conv_oracle::conv(p).expect("valid");
            let r = judge(p, y.view(), &Model::Componentwise).expect("judged");
            prop_assert!(r.passed(), "{}", r);
            Ok(())
        })?;
    }

    #[test]
    fn drawn_transposed_problems_pass_the_literal_formula(
        c in transpose_problems::<f32>(&TransposeCapabilities::all())
    ) {
        c.with(|p| -> Result<(), TestCaseError> {
            if p.validate().is_ok() {
                let y = conv_oracle::layer::transpose_literal(p).expect("valid");
                let r = judge_transpose(p, y.view(), &Model::Componentwise).expect("judged");
                prop_assert!(r.passed(), "{}", r);
            }
            Ok(())
        })?;
    }
}

/// Narrow capabilities of real APIs are drawn inside, not filtered: every drawn problem is
/// inside them and valid (a shared stride, symmetric pads, PyTorch's pad limits with `Full`
/// and `SAME` pads that would exceed them, capabilities of their own in rank 3).
#[test]
fn narrow_capabilities_are_drawn_inside() {
    let torch = Capabilities {
        stride: AxisSetting::Shared,
        dilation: AxisSetting::Shared,
        pads: Pads::Symmetric,
        ..Capabilities::all()
    }
    .with_pad_limits_of(Peer::Torch);
    let reflect_only = Capabilities {
        boundaries: vec![BoundaryRule::Reflect],
        paddings: vec![
            PaddingRule::Full,
            PaddingRule::SameLower,
            PaddingRule::Explicit,
        ],
        pad_limits: vec![(BoundaryRule::Reflect, PadLimit::BelowInput)],
        batch: false,
        ..Capabilities::all()
    };
    let candle = Capabilities {
        ranks: 1..=2,
        paddings: vec![PaddingRule::Explicit, PaddingRule::Valid],
        pads: Pads::Shared,
        stride: AxisSetting::Shared,
        dilation: AxisSetting::Shared,
        ..Capabilities::all()
    }
    .with_pad_limits_of(Peer::Torch);
    let per_rank = Capabilities::all()
        .in_rank(3, |c| Capabilities {
            pads: Pads::Symmetric,
            groups: false,
            ..c
        })
        .in_rank(1, |c| Capabilities {
            stride: AxisSetting::Unit,
            ..c
        });
    for (caps, ranks_drawn) in [(torch, 3), (reflect_only, 3), (per_rank, 3), (candle, 2)] {
        let mut runner = conv_oracle::testing::runner(512, conv_oracle::testing::DEFAULT_SEED);
        let ranks = std::cell::RefCell::new(std::collections::BTreeSet::new());
        runner
            .run(&problems::<f64>(&caps), |c| {
                ranks.borrow_mut().insert(c.input.0.ndim() - 2);
                c.with(|p| -> Result<(), TestCaseError> {
                    prop_assert_eq!(caps.outside(&ProblemShape::of(p)), None);
                    prop_assert!(p.validate().is_ok(), "{:?}", p.validate());
                    Ok(())
                })
            })
            .unwrap_or_else(|e| panic!("{caps:?}: {e}"));
        assert_eq!(ranks.borrow().len(), ranks_drawn, "{caps:?}");
    }
}

/// Narrow transposed capabilities are drawn inside, not filtered: candle's
/// `conv_transpose2d` (one stride, dilation, output padding and pad for every axis and side),
/// PyTorch's `ConvTranspose` (symmetric pads), capabilities of their own in rank 2, and the
/// reference's. Every drawn problem is inside and valid (pads cut to leave an output, output
/// padding below `max(stride, dilation)`).
#[test]
fn narrow_transposed_capabilities_are_drawn_inside() {
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
    let torch = TransposeCapabilities {
        paddings: vec![TransposePaddingRule::Explicit],
        pads: Pads::Symmetric,
        ..TransposeCapabilities::all()
    };
    let per_rank = TransposeCapabilities::all().in_rank(2, |c| TransposeCapabilities {
        stride: AxisSetting::Unit,
        output_padding: AxisSetting::Unit,
        batch: false,
        ..c
    });
    for (caps, ranks_drawn) in [
        (candle, 2),
        (torch, 3),
        (per_rank, 3),
        (TransposeCapabilities::all(), 3),
    ] {
        let mut runner = conv_oracle::testing::runner(512, conv_oracle::testing::DEFAULT_SEED);
        let ranks = std::cell::RefCell::new(std::collections::BTreeSet::new());
        runner
            .run(&transpose_problems::<f64>(&caps), |c| {
                ranks.borrow_mut().insert(c.input.0.ndim() - 2);
                c.with(|p| -> Result<(), TestCaseError> {
                    prop_assert_eq!(caps.outside(&TransposeProblemShape::of(p)), None);
                    prop_assert!(p.validate().is_ok(), "{:?}", p.validate());
                    let spec = &p.spec;
                    for a in 0..spec.output_padding.len() {
                        prop_assert!(
                            spec.output_padding[a] < spec.stride[a].max(spec.dilation[a]),
                            "{:?}",
                            spec
                        );
                    }
                    Ok(())
                })
            })
            .unwrap_or_else(|e| panic!("{caps:?}: {e}"));
        assert_eq!(ranks.borrow().len(), ranks_drawn, "{caps:?}");
    }
}

/// A property that fails on any input value above 0.5 in magnitude shrinks to a problem whose
/// arrays still fit its shapes and spec (it validates) with one large value left.
#[test]
fn shrinking_keeps_problems_well_formed() {
    // The suite's fixed seed (deterministic), shrinking as the battery does.
    let mut runner = conv_oracle::testing::runner(256, conv_oracle::testing::DEFAULT_SEED);
    let strategy = problems::<f64>(&Capabilities {
        special_values: false,
        ..Capabilities::all()
    });
    let result = runner.run(&strategy, |c| {
        if c.input.0.iter().any(|v| v.abs() > 0.5) {
            Err(TestCaseError::fail("large input value"))
        } else {
            Ok(())
        }
    });
    let Err(TestError::Fail(_, c)) = result else {
        panic!("the property should fail: {result:?}");
    };
    assert!(c.with(|p| p.validate().is_ok()), "{c:?}");
    assert!(
        c.input.0.len() <= 4,
        "shrunk to {} input values",
        c.input.0.len()
    );
}

#[cfg(feature = "quickcheck")]
mod quick {
    use super::*;
    use conv_oracle::testing::strategies::arbitrary::{AnyProblem, AnyTransposeProblem};
    use quickcheck::Arbitrary;

    #[test]
    fn any_problem_passes_the_oracle_and_shrinks_to_well_formed_problems() {
        fn prop(c: AnyProblem<f64>) -> bool {
            let ok = c.0.with(|p| match p.validate() {
                Ok(_) => {
                    let y = conv_oracle::conv(p).expect("valid");
                    judge(p, y.view(), &Model::Componentwise).is_ok_and(|r| r.passed())
                }
                Err(_) => true,
            });
            let shrinks_well_formed = c
                .shrink()
                .take(8)
                .all(|s| s.0.input.0.shape() == c.0.input.0.shape() && s.0.spec == c.0.spec);
            ok && shrinks_well_formed
        }
        common::qc(48).quickcheck(prop as fn(AnyProblem<f64>) -> bool);
    }

    #[test]
    fn any_transposed_problem_passes_the_oracle() {
        fn prop(c: AnyTransposeProblem<f32>) -> bool {
            c.0.with(|p| match p.validate() {
                Ok(_) => {
                    let y = conv_oracle::layer::transpose_literal(p).expect("valid");
                    judge_transpose(p, y.view(), &Model::Componentwise).is_ok_and(|r| r.passed())
                }
                Err(_) => true,
            })
        }
        common::qc(48).quickcheck(prop as fn(AnyTransposeProblem<f32>) -> bool);
    }
}
