//! The battery: each property's name, expected verdict and search over its strategy, as rows
//! per engine or per set of layer operators.

use super::engine_checks::{
    engine_equals_reference, groups_are_independent, interior_shift_equivariance, locality_inside,
    locality_outside, periodic_shift_equivariance, some_output_shift_matches,
};
use super::operator_checks::{
    conv_transpose_is_adjoint, dense_layer_commutes_with_shift, dense_matrix_commutes_with_shift,
    layouts_are_permutations, parameter_counts_match, pointwise_is_dense_per_pixel,
};
use super::operators::LayerOps;
use super::strategies::{
    adjoint_case, circular_same_shift_case, circular_shift_case, conv_case, dense_layer_case,
    depthwise_case, interior_shift_case, layout_case, perturb_case, pointwise_case,
    positive_perturb_case, stride_two_shift_one_case, strided_shift_case, zero_padding_shift_case,
};
use crate::engine::ConvEngine;
#[cfg(test)]
use crate::problem::{ConvError, Problem};
use crate::testing::{Expect, Kind, Row, Violation, search, timed};
#[cfg(test)]
use ndarray::ArrayD;
use std::rc::Rc;

/// An engine-level layer property run by a search over its cases.
type EngineCheck = fn(&dyn ConvEngine<i64>, u32, u64) -> Result<(), Violation>;

/// The engine-level properties: name, claim and check.
fn engine_checks() -> Vec<(&'static str, Expect, EngineCheck)> {
    vec![
        (
            "translation-equivariance-circular",
            Expect::Holds,
            |engine, cases, seed| {
                search(circular_shift_case(), cases, seed, |c| {
                    periodic_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "translation-equivariance-interior",
            Expect::Holds,
            |engine, cases, seed| {
                search(interior_shift_case(), cases, seed, |c| {
                    interior_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "translation-equivariance-stride",
            Expect::Holds,
            |engine, cases, seed| {
                search(strided_shift_case(), cases, seed, |c| {
                    periodic_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "zero-padding-breaks-equivariance",
            Expect::Refuted(Kind::Mismatch),
            |engine, cases, seed| {
                search(zero_padding_shift_case(), cases, seed, |c| {
                    periodic_shift_equivariance(engine, c)
                })
            },
        ),
        (
            "stride-2-shift-1-breaks-equivariance",
            Expect::Refuted(Kind::Mismatch),
            |engine, cases, seed| {
                search(stride_two_shift_one_case(), cases, seed, |c| {
                    some_output_shift_matches(engine, c)
                })
            },
        ),
        ("locality-outside", Expect::Holds, |engine, cases, seed| {
            search(perturb_case(), cases, seed, |c| locality_outside(engine, c))
        }),
        ("locality-inside", Expect::Holds, |engine, cases, seed| {
            search(positive_perturb_case(), cases, seed, |c| {
                locality_inside(engine, c)
            })
        }),
        (
            "groups-are-independent",
            Expect::Holds,
            |engine, cases, seed| {
                search(conv_case(), cases, seed, |c| {
                    groups_are_independent(engine, c)
                })
            },
        ),
        (
            "depthwise-is-per-channel",
            Expect::Holds,
            |engine, cases, seed| {
                search(depthwise_case(), cases, seed, |c| {
                    groups_are_independent(engine, c)
                })
            },
        ),
        (
            "engine-equals-reference",
            Expect::Holds,
            |engine, cases, seed| {
                search(conv_case(), cases, seed, |c| {
                    engine_equals_reference(engine, c)
                })
            },
        ),
    ]
}

/// The rows of every engine-level property on one engine.
pub(crate) fn engine_rows(engine: Rc<dyn ConvEngine<i64>>) -> Vec<Row> {
    let name = format!("{}/i64", engine.name());
    engine_checks()
        .into_iter()
        .map(|(property, expect, check)| {
            let (name, engine) = (name.clone(), Rc::clone(&engine));
            Row::new(property, name.clone(), move |cases, seed| {
                timed(property, name.clone(), cases, expect, || {
                    check(engine.as_ref(), cases, seed)
                })
            })
        })
        .collect()
}

/// Runs every engine-level property on one engine.
#[cfg(test)]
pub(crate) fn run_engine_battery(
    engine: &dyn ConvEngine<i64>,
    cases: u32,
    seed: u64,
) -> Vec<crate::testing::Outcome> {
    struct Borrowed<'a>(&'a dyn ConvEngine<i64>);
    impl ConvEngine<i64> for Borrowed<'_> {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn conv(&self, p: &Problem<'_, i64>) -> Result<ArrayD<i64>, ConvError> {
            self.0.conv(p)
        }
    }
    let name = format!("{}/i64", engine.name());
    engine_checks()
        .into_iter()
        .map(|(property, expect, check)| {
            timed(property, name.clone(), cases, expect, || {
                check(&Borrowed(engine), cases, seed)
            })
        })
        .collect()
}

/// A layer-operator property run by a search over its cases.
type OperatorCheck = fn(&LayerOps, u32, u64) -> Result<(), Violation>;

/// The rows of every operator-level property on one set of layer operators.
pub(crate) fn operator_rows(ops: LayerOps) -> Vec<Row> {
    let name = format!("{}/i64", ops.name);
    let row = |property: &'static str, expect: Expect, check: OperatorCheck| {
        let name = name.clone();
        Row::new(property, name.clone(), move |cases, seed| {
            timed(property, name.clone(), cases, expect, || {
                check(&ops, cases, seed)
            })
        })
    };
    vec![
        row(
            "pointwise-is-dense-per-pixel",
            Expect::Holds,
            |ops, cases, seed| {
                search(pointwise_case(), cases, seed, |c| {
                    pointwise_is_dense_per_pixel(ops, c)
                })
            },
        ),
        row(
            "dense-matrix-commutes-with-shift",
            Expect::Holds,
            |ops, cases, seed| {
                search(circular_same_shift_case(), cases, seed, |c| {
                    dense_matrix_commutes_with_shift(ops, c)
                })
            },
        ),
        row(
            "dense-layer-not-equivariant",
            Expect::Refuted(Kind::Mismatch),
            |_, cases, seed| {
                search(
                    dense_layer_case(),
                    cases,
                    seed,
                    dense_layer_commutes_with_shift,
                )
            },
        ),
        row(
            "conv-transpose-is-adjoint",
            Expect::Holds,
            |ops, cases, seed| {
                search(adjoint_case(), cases, seed, |c| {
                    conv_transpose_is_adjoint(ops, c)
                })
            },
        ),
        row(
            "layouts-are-permutations",
            Expect::Holds,
            |ops, cases, seed| {
                search(layout_case(), cases, seed, |c| {
                    layouts_are_permutations(ops, c)
                })
            },
        ),
        row("parameter-counts", Expect::Holds, |ops, cases, seed| {
            search(conv_case(), cases, seed, |c| parameter_counts_match(ops, c))
        }),
    ]
}

/// Runs every operator-level property on one set of layer operators.
#[cfg(test)]
pub(crate) fn run_operator_battery(
    ops: &LayerOps,
    cases: u32,
    seed: u64,
) -> Vec<crate::testing::Outcome> {
    crate::testing::run_rows(&operator_rows(*ops), cases, seed)
}
