//! The metamorphic section: relations between two runs of the engine (translation,
//! commutativity, 1x1 as a dense layer, independent samples).

use super::ablate::{case_features, necessary};
use super::code::{case_code, case_size, oracle_check_code};
use super::config::Config;
use super::report::{Counterexample, Section, SectionReport};
use super::search::{found, search_all};
use super::verdict::run;
use crate::engine::{
    AxisSetting, BoundaryRule, Capabilities, ConvEngine, PaddingRule, ProblemShape,
};
use crate::problem::{Boundary, ConvSpec, Flip, Padding, Problem};
use crate::testing::cases::{Arr, Case};
use crate::testing::problems::{Element, cases};
use crate::testing::{Kind, Violation};
use crate::tolerance::{Model, judge_pair};
use ndarray::{ArrayD, Axis, IxDyn, Slice};
use proptest::prelude::*;

/// A relation between two runs of the engine: from a case, the second problem and the map
/// taking the first output to what the second must be (both exact relations of the
/// definition); `None` where the relation does not apply to the case.
struct Relation<T> {
    name: &'static str,
    /// A strategy for the first problem (inside the capabilities), or `None` when the
    /// engine cannot run the relation.
    cases: fn(&Capabilities) -> Option<BoxedStrategy<Case<T>>>,
    /// The second problem and the map.
    derive: fn(&Case<T>) -> Option<Derived<T>>,
}

/// The second problem of a relation and how the first output maps onto its output.
struct Derived<T> {
    case: Case<T>,
    map: OutputMap,
}

/// Takes the first run's output (or anything indexed like it, such as its error bounds) to
/// what the second run's must be.
#[derive(Clone, Copy)]
enum OutputMap {
    /// The same array.
    Identity,
    /// Everything but the first index of `axis`.
    DropFirst { axis: usize },
    /// The last sample of a batch of `batch`.
    LastSample { batch: usize },
    /// `(N, O, spatial)` with `pixels` spatial elements to `(N * pixels, O, 1)`.
    Pixels {
        batch: usize,
        o: usize,
        pixels: usize,
    },
}

impl OutputMap {
    fn apply<E: Clone>(self, y: &ArrayD<E>) -> ArrayD<E> {
        match self {
            OutputMap::Identity => y.clone(),
            OutputMap::DropFirst { axis } => y.slice_axis(Axis(axis), Slice::from(1..)).to_owned(),
            OutputMap::LastSample { batch } => {
                y.slice_axis(Axis(0), Slice::from(batch - 1..)).to_owned()
            }
            OutputMap::Pixels { batch, o, pixels } => y
                .to_shape(IxDyn(&[batch, o, pixels]))
                .map(|v| {
                    v.permuted_axes(IxDyn(&[0, 2, 1]))
                        .as_standard_layout()
                        .to_shape(IxDyn(&[batch * pixels, o, 1]))
                        .map(|v| v.to_owned())
                        .unwrap_or_else(|_| y.clone())
                })
                .unwrap_or_else(|_| y.clone()),
        }
    }
}

fn relations<T: Element>() -> Vec<Relation<T>> {
    vec![
        Relation {
            name: "translation: cropping the input by one stride shifts the output by one",
            cases: |caps| restrict(caps, Restrict::Translation),
            derive: translate,
        },
        Relation {
            name: "true convolution commutes: conv(x, w) == conv(w, x) (full, zeros)",
            cases: |caps| restrict(caps, Restrict::Commute),
            derive: commute,
        },
        Relation {
            name: "a 1x1 convolution is the per-pixel dense layer",
            cases: |caps| restrict(caps, Restrict::Pointwise),
            derive: pointwise,
        },
        Relation {
            name: "the samples of a batch are independent",
            cases: |caps| restrict(caps, Restrict::Batch),
            derive: split_batch,
        },
    ]
}

#[derive(Clone, Copy)]
enum Restrict {
    Translation,
    Commute,
    Pointwise,
    Batch,
}

/// The cases of a relation: the capabilities narrowed to what the relation needs.
fn restrict<T: Element>(caps: &Capabilities, r: Restrict) -> Option<BoxedStrategy<Case<T>>> {
    let c = caps.clone().narrowed(|c| match r {
        // Outputs that read no boundary: valid (or explicit pads of 0).
        Restrict::Translation => c.paddings.retain(|&p| p == PaddingRule::Valid),
        Restrict::Commute => {
            c.paddings.retain(|&p| p == PaddingRule::Full);
            c.boundaries.retain(|&b| b == BoundaryRule::Zeros);
            c.flips.retain(|&f| f == Flip::Convolution);
            c.stride = AxisSetting::Unit;
            c.dilation = AxisSetting::Unit;
            c.groups = false;
            c.bias = false;
        }
        Restrict::Pointwise => {
            c.paddings.retain(|&p| p == PaddingRule::Valid);
            c.stride = AxisSetting::Unit;
            c.dilation = AxisSetting::Unit;
        }
        Restrict::Batch => {}
    });
    // Finite data: with NaN or infinities the boundary's zero terms (0 * inf = NaN) make
    // the relations fail in exact IEEE arithmetic too (e.g. commutativity).
    let strategy = cases::<T>(&c, false)?;
    Some(match r {
        Restrict::Commute => strategy
            .prop_map(|mut c| {
                // One sample, one channel in and out.
                let x = c
                    .input
                    .0
                    .index_axis(Axis(0), 0)
                    .index_axis(Axis(0), 0)
                    .to_owned();
                let w = c
                    .weight
                    .0
                    .index_axis(Axis(0), 0)
                    .index_axis(Axis(0), 0)
                    .to_owned();
                c.input = Arr(x.insert_axis(Axis(0)).insert_axis(Axis(0)));
                c.weight = Arr(w.insert_axis(Axis(0)).insert_axis(Axis(0)));
                c.bias = None;
                c.spec.groups = 1;
                c
            })
            .boxed(),
        Restrict::Pointwise => strategy
            .prop_map(|mut c| {
                // Every kernel extent 1.
                let w = &c.weight.0;
                let mut idx = vec![0usize; w.ndim()];
                let shape: Vec<usize> = w
                    .shape()
                    .iter()
                    .enumerate()
                    .map(|(a, &n)| if a < 2 { n } else { 1 })
                    .collect();
                let w1 = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
                    idx[0] = i[0];
                    idx[1] = i[1];
                    w[IxDyn(&idx)]
                });
                c.weight = Arr(w1);
                c
            })
            .boxed(),
        _ => strategy,
    })
}

/// Crops the input by `stride` at the start of the last axis: output `j` of the cropped
/// problem is output `j + 1` of the first.
fn translate<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    if c.spec.padding != Padding::Valid {
        return None;
    }
    let x = &c.input.0;
    let axis = x.ndim() - 1;
    let s = c.spec.stride.last().copied().unwrap_or(1);
    let d = c.spec.dilation.last().copied().unwrap_or(1);
    let k = c.weight.0.shape()[axis];
    let n = x.shape()[axis];
    // The cropped input must still hold the dilated kernel.
    if n < s + d * (k - 1) + 1 {
        return None;
    }
    let cropped = x.slice_axis(Axis(axis), Slice::from(s..)).to_owned();
    let case = Case {
        input: Arr(cropped),
        ..c.clone()
    };
    Some(Derived {
        case,
        map: OutputMap::DropFirst { axis },
    })
}

/// Swaps the input and the kernel of a single-channel full true convolution.
fn commute<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    let ok = c.spec.padding == Padding::Full
        && c.spec.flip == Flip::Convolution
        && matches!(c.spec.boundary, Boundary::Zeros)
        && c.input.0.shape()[..2] == [1, 1]
        && c.weight.0.shape()[..2] == [1, 1]
        && c.bias.is_none();
    ok.then(|| Derived {
        case: Case {
            input: c.weight.clone(),
            weight: c.input.clone(),
            ..c.clone()
        },
        map: OutputMap::Identity,
    })
}

/// A 1x1 convolution run as a dense layer: every pixel of every sample a sample of its own
/// (input `(N * P, C, 1)`, kernel `(O, C/G, 1)`), then placed back.
fn pointwise<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    let x = &c.input.0;
    let w = &c.weight.0;
    if w.shape()[2..].iter().any(|&k| k != 1) || c.spec.padding != Padding::Valid {
        return None;
    }
    let (batch, ch) = (x.shape()[0], x.shape()[1]);
    let spatial: Vec<usize> = x.shape()[2..].to_vec();
    let pixels: usize = spatial.iter().product();
    // (N, C, P) -> (N, P, C) -> (N * P, C, 1).
    let flat = x
        .to_shape(IxDyn(&[batch, ch, pixels]))
        .ok()?
        .permuted_axes(IxDyn(&[0, 2, 1]))
        .as_standard_layout()
        .to_shape(IxDyn(&[batch * pixels, ch, 1]))
        .ok()?
        .to_owned();
    let w1 = w
        .to_shape(IxDyn(&[w.shape()[0], w.shape()[1], 1]))
        .ok()?
        .to_owned();
    let o = w.shape()[0];
    let spec = ConvSpec {
        stride: vec![1],
        dilation: vec![1],
        ..c.spec.clone()
    };
    Some(Derived {
        case: Case {
            input: Arr(flat),
            weight: Arr(w1),
            bias: c.bias.clone(),
            spec,
        },
        map: OutputMap::Pixels { batch, o, pixels },
    })
}

/// The last sample on its own: its output is the last sample of the batch's.
fn split_batch<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    let batch = c.input.0.shape()[0];
    if batch < 2 {
        return None;
    }
    let last = c
        .input
        .0
        .slice_axis(Axis(0), Slice::from(batch - 1..))
        .to_owned();
    Some(Derived {
        case: Case {
            input: Arr(last),
            ..c.clone()
        },
        map: OutputMap::LastSample { batch },
    })
}

/// One model for both runs of a relation, indexed like the second output, or `None` when
/// the two models cannot be combined. The same direct model stays (the second problem's sums
/// equal the first's at the mapped elements); two normwise bounds give the larger; otherwise
/// both become per-element bounds against the exact value (the first's carried over by the
/// relation's map: the two problems may take different transform lengths, tilings or
/// algorithms) and the larger of the two is kept.
fn pair_model<T: Element>(
    first: (Model, &Problem<'_, T>),
    second: (Model, &[f64], usize),
    map: OutputMap,
    first_shape: &[usize],
) -> Option<Model> {
    let (m1, p1) = first;
    let (m2, sums2, terms2) = second;
    match (&m1, &m2) {
        (Model::Normwise { bound: a }, Model::Normwise { bound: b }) => {
            return Some(Model::Normwise { bound: a.max(*b) });
        }
        (a, b) if a == b && !matches!(a, Model::Elementwise { .. }) => return Some(m2),
        _ => {}
    }
    let b1 = match &m1 {
        Model::Componentwise => {
            let (sums1, terms1) = abs_sums(p1)?;
            elementwise_bounds::<T>(&m1, &sums1, terms1, sums1.len())?
        }
        _ => elementwise_bounds::<T>(&m1, &[], 0, first_shape.iter().product())?,
    };
    let b2 = elementwise_bounds::<T>(&m2, sums2, terms2, sums2.len())?;
    let mapped: Vec<f64> = map
        .apply(&ArrayD::from_shape_vec(IxDyn(first_shape), b1).ok()?)
        .into_iter()
        .collect();
    (mapped.len() == b2.len()).then(|| Model::Elementwise {
        bounds: mapped.iter().zip(&b2).map(|(x, y)| x.max(*y)).collect(),
    })
}

/// A model as bounds per element against the exact value (the rounding of `y_cr` is added by
/// [`Model::Elementwise`] itself): direct summation `gamma_K A + (K + 2)(1 + gamma_K) eta`,
/// a normwise bound for every element, 0 for an exact result; `None` for the models whose
/// allowance depends on the value (ULPs, rtol/atol, TOSA).
fn elementwise_bounds<T: Element>(
    model: &Model,
    abs_sum: &[f64],
    terms: usize,
    len: usize,
) -> Option<Vec<f64>> {
    let g = crate::tolerance::gamma(terms, T::UNIT_ROUNDOFF);
    let eta = (terms as f64 + 2.0) * (1.0 + g) * T::SUBNORMAL_MIN;
    match model {
        Model::Componentwise => Some(
            abs_sum
                .iter()
                .map(|a| {
                    if a * (1.0 + g) >= T::MAX_FINITE {
                        f64::INFINITY
                    } else {
                        (g * a + eta) * (1.0 + 2f64.powi(-48))
                    }
                })
                .collect(),
        ),
        Model::Normwise { bound } => Some(vec![*bound; len]),
        Model::Elementwise { bounds } => Some(bounds.clone()),
        Model::Exact => Some(vec![0.0; len]),
        _ => None,
    }
}

/// `sum |w| |x| (+ |b|)` per output of a problem, rounded up, and the terms per output.
fn abs_sums<T: Element>(p: &Problem<'_, T>) -> Option<(Vec<f64>, usize)> {
    let terms = p.weight.shape()[1..].iter().product::<usize>() + usize::from(p.bias.is_some());
    Some((crate::oracle::abs_sums(p).ok()?, terms))
}

/// Checks one relation on one case: `Ok(false)` when it does not apply.
fn relate<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
    rel: &Relation<T>,
    c: &Case<T>,
) -> Result<bool, Violation> {
    let Some(d) = (rel.derive)(c) else {
        return Ok(false);
    };
    // Both problems valid and inside the capabilities (the second may leave them: the
    // dense form of a 1x1 convolution is a batch).
    let inside =
        |c: &Case<T>| c.with(|p| p.validate().is_ok() && caps.admits(&ProblemShape::of(p)));
    if !(inside(c) && inside(&d.case)) {
        return Ok(false);
    }
    let first = c.with(|p| run(engine, p))?;
    let second = d.case.with(|p| run(engine, p))?;
    let (y1, y2) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return Err(Violation::new(
                Kind::Refused,
                format!("refused a valid problem: {e}"),
            ));
        }
    };
    let want = d.map.apply(&y1);
    if want.shape() != y2.shape() {
        return Err(Violation::new(
            Kind::ShapeMismatch,
            format!(
                "outputs of shapes {:?} and {:?} (after the relation's map: {:?})",
                y1.shape(),
                y2.shape(),
                want.shape()
            ),
        ));
    }
    let first_model = c.with(|p| config.tolerance.model(engine, p))?;
    let (second_model, sums) = d
        .case
        .with(|p| (config.tolerance.model(engine, p), abs_sums(p)));
    let Some((abs_sum, terms)) = sums else {
        return Ok(false);
    };
    let second_model = second_model?;
    let first = c.with(|p| {
        pair_model(
            (first_model, p),
            (second_model, &abs_sum, terms),
            d.map,
            y1.shape(),
        )
    });
    let Some(model) = first else {
        return Ok(false);
    };
    let a: Vec<T> = y2.iter().copied().collect();
    let b: Vec<T> = want.iter().copied().collect();
    match judge_pair(&model, &a, &b, &abs_sum, terms) {
        None => Ok(true),
        Some((i, why)) => Err(Violation::mismatch(format!(
            "the second run disagrees at flat index {i} of {:?}: {why}",
            y2.shape()
        ))),
    }
}

pub(super) fn metamorphic_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
) -> SectionReport {
    let mut report = SectionReport::new(Section::Metamorphic);
    let cases = (config.cases / 4).max(16);
    for (i, rel) in relations::<T>().into_iter().enumerate() {
        let Some(strategy) = (rel.cases)(caps) else {
            report.skipped += cases as usize;
            continue;
        };
        let code = format!(
            "    // Relation: {}. Derive the second problem from this one as the\n    \
             // relation says and compare the two outputs; the first alone, judged:\n{}",
            rel.name,
            oracle_check_code(config)
        );
        let relation = format!("relation {}", i + 1);
        search_all(
            &mut report,
            strategy,
            cases,
            config.seed,
            config.max_failures,
            |c| relate(engine, caps, config, &rel, c),
            |c| {
                let mut f = vec![relation.clone()];
                f.extend(case_features(c));
                f
            },
            |c, kind| {
                let mut f = vec![relation.clone()];
                f.extend(necessary(c, |d| {
                    relate(engine, caps, config, &rel, d).is_err_and(|v| v.kind == kind)
                }));
                f
            },
            |failure, features| Counterexample {
                features,
                ..found(
                    format!("metamorphic: {} (shrunk)", rel.name),
                    failure,
                    |c| (case_code(c, &code), case_size(c)),
                )
            },
        );
    }
    report
}
