//! The conformance battery for transposed convolution (PyTorch / ONNX `ConvTranspose`):
//! [`check_transpose`] runs the four [`Section`]s of [`super::check`] on a
//! [`ConvTransposeEngine`].
//!
//! | section | what |
//! |---|---|
//! | [`Section::Catalogue`] | fixed problems: the worked example of docs/semantics.md section 6 (`x = [1 2 3]`, `w = [1 10 100]`, stride 2) with explicit pads, `SAME_UPPER`, `SAME_LOWER` and `output_shape`; output padding; asymmetric and symmetric pads; stride, dilation, groups, bias, batches of several channels, rank 2 and 3; `output_shape` totals that are odd, zero and negative under every `auto_pad` |
//! | [`Section::Oracle`] | random problems inside the capabilities, judged against the correctly rounded result ([`crate::oracle::judge_transpose`]), shrunk on failure |
//! | [`Section::Invalid`] | problems every engine must refuse (channel mismatch, groups, zero stride, output too small, ...) |
//! | [`Section::Metamorphic`] | adjointness: `<conv_transpose(x), z> == <x, conv(z)>` for the forward convolution with the same stride, dilation, pads and groups, exact in rationals; the engine's side may be off by what the tolerance allows per element times `\|z\|` |
//!
//! An engine declares what it supports with [`TransposeCapabilities`] (per rank: padding
//! rules, which explicit pads, stride, dilation and output padding as unit, shared or per
//! axis, groups, bias, batch, and a predicate for the rest), in the model of the direct
//! [`super::Capabilities`]. The random sections draw only problems inside it. An engine
//! declines a valid problem it does not implement with [`ConvError::Unsupported`]: declining a
//! declared problem fails ([`Kind::Refused`]); an engine that validates is also offered the
//! catalogue's undeclared problems, which it must decline as unsupported (counted as declined)
//! or answer correctly. The report counts problems per feature (the coverage), and an oracle
//! section that checked nothing fails ([`Kind::Uncovered`]).
//!
//! A [`Tolerance::PerProblem`] is given the direct convolution with the same exact output
//! ([`crate::problem::TransposeProblem::as_conv`]).

use super::catalogue::{fixed_section, small_ints};
use super::code::{array_code, check_code};
use super::config::{Config, Tolerance};
use super::oracle::random_section;
use super::report::{ConformanceReport, Counterexample, Section, SectionReport};
use super::search::{found, search_all};
use super::tally::{self, report_of};
use super::verdict::Outcome;
use super::verdict::{guarded, judge_error, oracle_error, refusal, undeclared_outcome, verdict_of};
use crate::engine::{Algorithm, ConvTransposeEngine};
pub use crate::engine::{
    TransposeAccepts, TransposeCapabilities, TransposePaddingRule, TransposeProblemShape,
};
use crate::oracle::judge_transpose;
use crate::problem::ConvError;
use crate::problem::{AutoPad, TransposePadding, TransposeProblem, TransposeSpec};
use crate::testing::cases::Arr;
use crate::testing::problems::Element;
pub use crate::testing::transpose_problems::TransposeCase;
use crate::testing::transpose_problems::cases;
use crate::testing::{Kind, Violation};
use crate::tolerance::{self, Float, Model};
use ndarray::{ArrayD, IxDyn};
use num_rational::BigRational;
use num_traits::{FromPrimitive, Signed, ToPrimitive, Zero};

// ------------------------------------------------------------------------------ check

/// Runs every section on `engine` (module docs).
pub fn check_transpose<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    config: &Config<T>,
) -> ConformanceReport {
    check_transpose_sections(engine, config, &Section::ALL)
}

/// Runs the given sections on `engine`.
pub fn check_transpose_sections<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    config: &Config<T>,
    sections: &[Section],
) -> ConformanceReport {
    let caps = engine.capabilities();
    report_of::<T>(engine.name(), sections, |s| match s {
        Section::Catalogue => catalogue_section(engine, &caps, config),
        Section::Oracle => oracle_section(engine, &caps, config),
        Section::Invalid => invalid_section(engine, &caps, config.max_failures),
        Section::Metamorphic => adjoint_section(engine, &caps, config),
    })
}

fn run<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    p: &TransposeProblem<'_, T>,
) -> Result<Result<ArrayD<T>, ConvError>, Violation> {
    guarded(|| engine.conv_transpose(p))
}

/// The tolerance for a valid problem: the model of the engine's declared algorithm, or a
/// per-problem rule, evaluated on the equivalent direct convolution; direct summation is
/// judged by the scatter's own sums (`judge_transpose`).
fn model_of<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    config: &Config<T>,
    p: &TransposeProblem<'_, T>,
) -> Result<Model, Violation> {
    let stuffed = || p.as_conv().map_err(oracle_error);
    match &config.tolerance {
        Tolerance::Declared => match engine.algorithm(p) {
            Algorithm::Direct => Ok(Model::Componentwise),
            algorithm => {
                tally::algorithm(&algorithm.name());
                let stuffed = stuffed()?;
                algorithm.model(&stuffed.problem()).map_err(|e| {
                    Violation::new(
                        Kind::Misdeclared,
                        format!(
                            "the engine declares {} for this problem, which cannot compute it: {e}",
                            algorithm.name()
                        ),
                    )
                })
            }
        },
        Tolerance::Model(m) => Ok(m.clone()),
        Tolerance::PerProblem(f) => Ok(f(&stuffed()?.problem())),
    }
}

/// `Ok(true)` checked and passed, `Ok(false)` not applicable (a problem the reference refuses:
/// it reaches an engine only in the invalid-input section; or one outside the capabilities),
/// `Err` why it failed.
fn judge_case<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    caps: &TransposeCapabilities,
    config: &Config<T>,
    c: &TransposeCase<T>,
) -> Result<bool, Violation> {
    c.with(|p| {
        if p.validate().is_err() {
            return Ok(false);
        }
        let shape = TransposeProblemShape::of(p);
        if !caps.admits(&shape) {
            return Ok(false);
        }
        tally::checked_with(features(&shape));
        let got = run(engine, p)?;
        verdict_of(got, |y| {
            let model = model_of(engine, config, p)?;
            judge_transpose(p, y.view(), &model).map_err(judge_error)
        })
    })
}

fn oracle_code<T: Element>(c: &TransposeCase<T>, config: &Config<T>) -> (String, usize) {
    (
        case_code(c, &check_code(config, "conv_transpose", "judge_transpose")),
        c.size(),
    )
}

// ------------------------------------------------------------------------------ catalogue

struct Entry<T> {
    name: String,
    case: TransposeCase<T>,
}

fn ints_case<T: Element>(
    seed: u64,
    input: &[usize],
    weight: &[usize],
    bias: bool,
    spec: TransposeSpec,
) -> TransposeCase<T> {
    let c_out = weight[1] * spec.groups.max(1);
    TransposeCase {
        input: small_ints(input, seed),
        weight: small_ints(weight, seed + 1000),
        bias: bias.then(|| {
            small_ints::<T>(&[c_out], seed + 2000)
                .0
                .iter()
                .copied()
                .collect()
        }),
        spec,
    }
}

fn tspec(
    stride: &[usize],
    dilation: &[usize],
    padding: TransposePadding,
    output_padding: &[usize],
    groups: usize,
) -> TransposeSpec {
    TransposeSpec {
        stride: stride.to_vec(),
        dilation: dilation.to_vec(),
        padding,
        output_padding: output_padding.to_vec(),
        groups,
        ..TransposeSpec::default()
    }
}

fn catalogue<T: Element>() -> Vec<Entry<T>> {
    let mut out = Vec::new();
    let from = |v: &[f64]| -> Arr<T> {
        Arr(ArrayD::from_shape_vec(
            IxDyn(&[1, 1, v.len()]),
            v.iter().map(|&x| T::from_f64(x)).collect(),
        )
        .unwrap_or_else(|_| ArrayD::from_elem(IxDyn(&[1, 1, 1]), T::from_f64(0.0))))
    };
    // docs/semantics.md section 6: x = [1 2 3], w = [1 10 100], stride 2.
    use TransposePadding as P;
    for (name, padding, op) in [
        ("worked example, no padding", P::Explicit(vec![(0, 0)]), 0),
        ("worked example, SAME_UPPER", P::SameUpper, 0),
        ("worked example, SAME_LOWER", P::SameLower, 0),
        (
            "worked example, output_shape 6",
            P::OutputShape {
                shape: vec![6],
                auto_pad: AutoPad::NotSet,
            },
            0,
        ),
        ("worked example, pads (1, 2)", P::Explicit(vec![(1, 2)]), 0),
        (
            "worked example, output_padding 1",
            P::Explicit(vec![(0, 0)]),
            1,
        ),
        (
            "worked example, SAME_UPPER and output_padding 1",
            P::SameUpper,
            1,
        ),
        (
            "worked example, SAME_LOWER and output_padding 1",
            P::SameLower,
            1,
        ),
    ] {
        out.push(Entry {
            name: name.to_string(),
            case: TransposeCase {
                input: from(&[1.0, 2.0, 3.0]),
                weight: from(&[1.0, 10.0, 100.0]),
                bias: None,
                spec: tspec(&[2], &[], padding, &[op], 1),
            },
        });
    }
    let mut seed = 1u64;
    let mut add =
        |name: String, input: &[usize], weight: &[usize], bias: bool, spec: TransposeSpec| {
            seed += 1;
            out.push(Entry {
                name,
                case: ints_case(seed, input, weight, bias, spec),
            });
        };
    // Even and odd kernels under every rule, strides 1 to 3, output padding below the stride.
    for k in [2usize, 3, 4] {
        for s in [1usize, 2, 3] {
            for op in 0..s {
                for (rule, padding) in [
                    ("pads (1, 0)", P::Explicit(vec![(1, 0)])),
                    ("pads (1, 1)", P::Explicit(vec![(1, 1)])),
                    ("SAME_UPPER", P::SameUpper),
                    ("SAME_LOWER", P::SameLower),
                ] {
                    add(
                        format!("1-D, kernel {k}, stride {s}, output_padding {op}, {rule}"),
                        &[1, 1, 5],
                        &[1, 1, k],
                        false,
                        tspec(&[s], &[], padding, &[op], 1),
                    );
                }
            }
        }
    }
    // output_shape totals (odd, zero, negative) under every auto_pad.
    for auto_pad in [AutoPad::NotSet, AutoPad::SameUpper, AutoPad::SameLower] {
        for shape in [6usize, 7, 9, 10, 12] {
            add(
                format!("1-D output_shape {shape}, auto_pad {auto_pad:?} (full extent 9)"),
                &[1, 1, 4],
                &[1, 1, 3],
                false,
                tspec(
                    &[2],
                    &[],
                    P::OutputShape {
                        shape: vec![shape],
                        auto_pad,
                    },
                    &[],
                    1,
                ),
            );
        }
    }
    add(
        "2-D, dilation 2, stride (2, 1), asymmetric pads, bias".to_string(),
        &[1, 2, 4, 3],
        &[2, 3, 2, 3],
        true,
        tspec(
            &[2, 1],
            &[2, 2],
            P::Explicit(vec![(1, 0), (0, 2)]),
            &[1, 0],
            1,
        ),
    );
    add(
        "2-D, groups 2, batch 2, SAME_LOWER, bias".to_string(),
        &[2, 4, 3, 3],
        &[4, 2, 2, 2],
        true,
        tspec(&[2, 2], &[], P::SameLower, &[], 2),
    );
    add(
        "2-D, depthwise (groups 3), stride 3, output_padding (2, 1)".to_string(),
        &[1, 3, 2, 3],
        &[3, 1, 3, 2],
        false,
        tspec(&[3, 2], &[], P::Explicit(vec![(0, 0), (0, 0)]), &[2, 1], 3),
    );
    add(
        "3-D, stride 2, SAME_UPPER, bias".to_string(),
        &[1, 2, 2, 3, 2],
        &[2, 2, 2, 2, 3],
        true,
        tspec(&[2, 2, 2], &[], P::SameUpper, &[], 1),
    );
    // Several samples of several channels: a sample read at the wrong offset (n*L instead of
    // n*C*L, candle 0.11.1's conv_transpose1d) shows in the second.
    for s in [1usize, 2] {
        add(
            format!("1-D, batch 2, 2 input channels, stride {s}, no padding"),
            &[2, 2, 4],
            &[2, 3, 2],
            false,
            tspec(&[s], &[], P::Explicit(vec![(0, 0)]), &[], 1),
        );
    }
    add(
        "1-D, C_in == C_out == n (channel order)".to_string(),
        &[1, 3, 3],
        &[3, 3, 3],
        false,
        tspec(&[1], &[], P::Explicit(vec![(0, 0)]), &[], 1),
    );
    out
}

fn catalogue_section<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    caps: &TransposeCapabilities,
    config: &Config<T>,
) -> SectionReport {
    fixed_section(
        catalogue::<T>()
            .into_iter()
            .map(|e| (e.name, e.case))
            .collect(),
        config.max_failures,
        |c| {
            let inside = c.with(|p| caps.admits(&TransposeProblemShape::of(p)));
            if inside {
                judge_case(engine, caps, config, c).map(|ok| {
                    if ok {
                        Outcome::Checked
                    } else {
                        Outcome::Skipped
                    }
                })
            } else if caps.validates {
                probe_undeclared(engine, config, c)
            } else {
                Ok(Outcome::Skipped)
            }
        },
        case_features,
        |c, kind| {
            transposed_necessary(c, |d| {
                judge_case(engine, caps, config, d).is_err_and(|v| v.kind == kind)
            })
        },
        |c| oracle_code(c, config),
    )
}

/// A valid transposed problem outside the capabilities, given to an engine that validates: it
/// must decline it with [`ConvError::Unsupported`] (counted as declined) or answer it
/// correctly. Another error calls a valid problem invalid, a failure ([`Kind::Refused`]).
fn probe_undeclared<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    config: &Config<T>,
    c: &TransposeCase<T>,
) -> Result<Outcome, Violation> {
    c.with(|p| {
        if p.validate().is_err() {
            return Ok(Outcome::Skipped);
        }
        let features = features(&TransposeProblemShape::of(p));
        undeclared_outcome(run(engine, p)?, features, |y| {
            let model = model_of(engine, config, p)?;
            judge_transpose(p, y.view(), &model).map_err(judge_error)
        })
    })
}

// ------------------------------------------------------------------------------ oracle

fn oracle_section<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    caps: &TransposeCapabilities,
    config: &Config<T>,
) -> SectionReport {
    random_section(
        cases::<T>(caps, caps.special_values),
        config,
        "oracle: a random transposed problem (shrunk)",
        |c| judge_case(engine, caps, config, c),
        case_features,
        |c, kind| {
            transposed_necessary(c, |d| {
                judge_case(engine, caps, config, d).is_err_and(|v| v.kind == kind)
            })
        },
        |c| oracle_code(c, config),
    )
}

// ------------------------------------------------------------------------------ invalid

fn invalid_cases<T: Element>() -> Vec<Entry<T>> {
    use TransposePadding as P;
    let none = P::Explicit(vec![]);
    let entry = |name: &str,
                 input: &[usize],
                 weight: &[usize],
                 bias: Option<usize>,
                 spec: TransposeSpec| {
        let mut case = ints_case::<T>(7, input, weight, false, spec);
        case.bias = bias.map(|n| small_ints::<T>(&[n], 9).0.iter().copied().collect());
        Entry {
            name: name.to_string(),
            case,
        }
    };
    vec![
        entry(
            "input and weight of different ranks",
            &[1, 2, 5],
            &[2, 1, 3, 3],
            None,
            tspec(&[], &[], none.clone(), &[], 1),
        ),
        entry(
            "weight's first axis is not the input channels",
            &[1, 3, 5],
            &[2, 1, 3],
            None,
            tspec(&[], &[], none.clone(), &[], 1),
        ),
        entry(
            "groups do not divide the input channels",
            &[1, 3, 5],
            &[3, 1, 3],
            None,
            tspec(&[], &[], none.clone(), &[], 2),
        ),
        entry(
            "zero groups",
            &[1, 2, 5],
            &[2, 1, 3],
            None,
            tspec(&[], &[], none.clone(), &[], 0),
        ),
        entry(
            "zero stride",
            &[1, 1, 5],
            &[1, 1, 3],
            None,
            tspec(&[0], &[], none.clone(), &[], 1),
        ),
        entry(
            "zero dilation",
            &[1, 1, 5],
            &[1, 1, 3],
            None,
            tspec(&[], &[0], none.clone(), &[], 1),
        ),
        entry(
            "stride for the wrong number of axes",
            &[1, 1, 4, 4],
            &[1, 1, 2, 2],
            None,
            tspec(&[2], &[], none.clone(), &[], 1),
        ),
        entry(
            "output_padding for the wrong number of axes",
            &[1, 1, 4, 4],
            &[1, 1, 2, 2],
            None,
            tspec(&[2, 2], &[], none.clone(), &[1], 1),
        ),
        entry(
            "output_shape for the wrong number of axes",
            &[1, 1, 4, 4],
            &[1, 1, 2, 2],
            None,
            tspec(
                &[],
                &[],
                P::OutputShape {
                    shape: vec![5],
                    auto_pad: AutoPad::NotSet,
                },
                &[],
                1,
            ),
        ),
        entry(
            "pads that leave no output",
            &[1, 1, 2],
            &[1, 1, 2],
            None,
            tspec(&[], &[], P::Explicit(vec![(2, 2)]), &[], 1),
        ),
        entry(
            "empty spatial axis",
            &[1, 1, 0],
            &[1, 1, 2],
            None,
            tspec(&[], &[], none.clone(), &[], 1),
        ),
        entry(
            "empty kernel axis",
            &[1, 1, 3],
            &[1, 1, 0],
            None,
            tspec(&[], &[], none.clone(), &[], 1),
        ),
        entry(
            "bias of the wrong length",
            &[1, 2, 3],
            &[2, 2, 2],
            Some(3),
            tspec(&[], &[], none, &[], 1),
        ),
    ]
}

fn invalid_section<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    caps: &TransposeCapabilities,
    cap: usize,
) -> SectionReport {
    let entries = invalid_cases::<T>();
    let mut report = SectionReport::new(Section::Invalid);
    if !caps.validates {
        report.skipped = entries.len();
        return report;
    }
    for e in entries {
        report.checked += 1;
        let verdict = e.case.with(|p| refusal(p.validate(), run(engine, p)?));
        if let Err(violation) = verdict {
            let c = Counterexample {
                what: format!("invalid input: {}", e.name),
                kind: violation.kind,
                detail: violation.detail,
                code: case_code(
                    &e.case,
                    "    assert!(engine.conv_transpose(&p).is_err(), \"the problem is invalid\");\n",
                ),
                size: e.case.size(),
                features: vec![e.name],
                repeats: 0,
            };
            report.add_failure(c, cap);
        }
    }
    report
}

// ------------------------------------------------------------------------------ adjointness

fn rational<T: Element>(v: T) -> BigRational {
    BigRational::from_f64(v.to_f64()).unwrap_or_else(BigRational::zero)
}

/// The forward convolution that is the adjoint of the transposed one, exact:
/// `(C z)[n, c, i] = sum_{oc, k} z[n, g*Cog + oc, i*s + k*d - begin] * w[c, oc, k]` over the
/// positions inside the transposed output (its zero padding), `g = c / Cig`.
fn adjoint_exact<T: Element>(
    p: &TransposeProblem<'_, T>,
    z: &ArrayD<T>,
) -> Result<ArrayD<BigRational>, ConvError> {
    let geo = p.validate()?;
    let (cig, cog) = (geo.in_per_group, geo.out_per_group);
    let kernel = IxDyn(&p.weight.shape()[2..]);
    let mut zi = vec![0usize; z.ndim()];
    let mut wi = vec![0usize; p.weight.ndim()];
    Ok(ArrayD::from_shape_fn(IxDyn(p.input.shape()), |idx| {
        let (n, c) = (idx[0], idx[1]);
        let g = c / cig;
        let mut acc = BigRational::zero();
        zi[0] = n;
        wi[0] = c;
        for oc in 0..cog {
            zi[1] = g * cog + oc;
            wi[1] = oc;
            'taps: for k in ndarray::indices(kernel.clone()) {
                for (axis, a) in geo.axes.iter().enumerate() {
                    let pos =
                        (idx[2 + axis] * a.stride + k[axis] * a.dilation) as i128 - a.pad_begin;
                    if pos < 0 || pos >= a.output as i128 {
                        continue 'taps;
                    }
                    zi[2 + axis] = pos as usize;
                    wi[2 + axis] = k[axis];
                }
                acc += rational(z[IxDyn(&zi)]) * rational(p.weight[IxDyn(&wi)]);
            }
        }
        acc
    }))
}

/// How far `|y_hat[i] - y[i]|` (the engine's output against the exact value) may be under
/// `model`, per element, for the adjointness check: `gamma_K A + (K + 2)(1 + gamma_K) eta`
/// (any summation order), widened for the models that allow more: `Ulp(n)` by `n + 1` ulps
/// of the output, `RtolAtol` by its rule (plus the rounding to the output format).
fn element_allowance<T: Element>(
    model: &Model,
    terms: usize,
    abs_sum: f64,
    got: f64,
    index: usize,
) -> f64 {
    let u = T::UNIT_ROUNDOFF;
    let g = tolerance::gamma(terms, u);
    let direct = g * abs_sum + (terms as f64 + 2.0) * (1.0 + g) * T::SUBNORMAL_MIN;
    let spacing = (2.0 * u * got.abs()).max(T::SUBNORMAL_MIN);
    let other = match model {
        Model::Ulp(n) => (*n as f64 + 1.0) * spacing,
        Model::RtolAtol { rtol, atol } => {
            (atol + rtol * got.abs()) / (1.0 - rtol).max(f64::MIN_POSITIVE) + spacing
        }
        Model::Elementwise { bounds } => {
            bounds.get(index).copied().unwrap_or(f64::INFINITY) + spacing
        }
        _ => 0.0,
    };
    direct.max(other) * (1.0 + 2f64.powi(-40))
}

/// One adjointness check: `Ok(false)` when it does not apply (an invalid problem, or one
/// outside the capabilities).
fn adjoint<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    caps: &TransposeCapabilities,
    config: &Config<T>,
    c: &TransposeCase<T>,
) -> Result<bool, Violation> {
    c.with(|p| {
        let Ok(geo) = p.validate() else {
            return Ok(false);
        };
        // No bias: the relation is linear.
        let mut q = p.clone();
        q.bias = None;
        if !caps.admits(&TransposeProblemShape::of(&q)) {
            return Ok(false);
        }
        let y = match run(engine, &q)? {
            Ok(y) => y,
            Err(e @ ConvError::Unsupported { .. }) => {
                return Err(Violation::new(
                    Kind::Refused,
                    format!("declined a problem inside its declared capabilities: {e}"),
                ));
            }
            Err(e) => {
                return Err(Violation::new(
                    Kind::Refused,
                    format!("refused a valid problem: {e}"),
                ));
            }
        };
        if y.shape() != geo.output_shape.as_slice() {
            return Err(Violation::new(
                Kind::ShapeMismatch,
                format!(
                    "output of shape {:?}, expected {:?}",
                    y.shape(),
                    geo.output_shape
                ),
            ));
        }
        let z = small_ints::<T>(&geo.output_shape, 11).0;
        let cz = adjoint_exact(&q, &z).map_err(oracle_error)?;
        let lhs: BigRational = y.iter().zip(z.iter()).map(|(&a, &b)| rational(a) * rational(b)).sum();
        let rhs: BigRational = q.input.iter().zip(cz.iter()).map(|(&a, b)| rational(a) * b).sum();
        let diff = (lhs - rhs).abs().to_f64().unwrap_or(f64::INFINITY);
        let model = model_of(engine, config, &q)?;
        let eq = q.as_conv().map_err(oracle_error)?;
        let abs = crate::oracle::abs_sums(&eq.problem()).map_err(oracle_error)?;
        let terms = crate::oracle::transpose_terms(&q).map_err(oracle_error)?;
        let allowed = match &model {
            Model::Normwise { bound } => {
                let z2 = z.iter().map(|v| v.to_f64().powi(2)).sum::<f64>().sqrt();
                let y2 = y.iter().map(|v| v.to_f64().powi(2)).sum::<f64>().sqrt();
                let n = y.len() as f64;
                (bound + 2.0 * T::UNIT_ROUNDOFF * y2 + n.sqrt() * T::SUBNORMAL_MIN) * z2
            }
            m => y
                .iter()
                .zip(&abs)
                .zip(z.iter())
                .enumerate()
                .map(|(i, ((&g, &a), &zv))| {
                    element_allowance::<T>(m, terms, a, g.to_f64(), i) * zv.to_f64().abs()
                })
                .sum::<f64>(),
        } * (1.0 + 2f64.powi(-40));
        if diff <= allowed {
            Ok(true)
        } else {
            Err(Violation::mismatch(format!(
                "<conv_transpose(x), z> - <x, conv(z)> = {diff:e} (exact), more than the {allowed:e} \
                 the tolerance allows (z: small integers shaped like the output)"
            )))
        }
    })
}

fn adjoint_section<T: Element>(
    engine: &dyn ConvTransposeEngine<T>,
    caps: &TransposeCapabilities,
    config: &Config<T>,
) -> SectionReport {
    let mut report = SectionReport::new(Section::Metamorphic);
    let cases_n = (config.cases / 4).max(16);
    let Some(strategy) = cases::<T>(caps, false) else {
        report.skipped = cases_n as usize;
        return report;
    };
    let code = format!(
        "    // Relation: adjointness with the forward convolution; the output alone, judged:\n{}",
        check_code(config, "conv_transpose", "judge_transpose")
    );
    search_all(
        &mut report,
        strategy,
        cases_n,
        config.seed,
        config.max_failures,
        |c| adjoint(engine, caps, config, c),
        case_features,
        |c, kind| {
            transposed_necessary(c, |d| {
                adjoint(engine, caps, config, d).is_err_and(|v| v.kind == kind)
            })
        },
        |failure, features| Counterexample {
            features,
            ..found(
                "metamorphic: adjointness <conv_transpose(x), z> == <x, conv(z)> (shrunk)"
                    .to_string(),
                failure,
                |c| (case_code(c, &code), c.size()),
            )
        },
    );
    report
}

/// The features of [`signature`] a failure needs: each that can be taken away on its own
/// (stride, dilation and output padding made neutral or equal on every axis, the pads made
/// zero or symmetric, a derived padding given as the explicit pads it resolves to, the bias,
/// all samples but the first) is, and kept only if the failure then ends (`still_fails`
/// false); the others are kept.
fn transposed_necessary<T: Clone>(
    c: &TransposeCase<T>,
    still_fails: impl Fn(&TransposeCase<T>) -> bool,
) -> Vec<String> {
    let shape = c.with(|p| TransposeProblemShape::of(p));
    signature(&shape)
        .into_iter()
        .filter(|f| without(c, f).is_none_or(|d| !still_fails(&d)))
        .collect()
}

/// `c` without `feature`, otherwise unchanged; `None` when it cannot be taken away alone.
fn without<T: Clone>(c: &TransposeCase<T>, feature: &str) -> Option<TransposeCase<T>> {
    let mut d = c.clone();
    let rank = c.input.0.ndim().checked_sub(2)?;
    let equal = |v: &[usize], pick: fn(&[usize]) -> Option<usize>| {
        pick(v).map(|m| vec![m; rank]).unwrap_or_default()
    };
    let largest = |v: &[usize]| v.iter().copied().max();
    let smallest = |v: &[usize]| v.iter().copied().min();
    match feature {
        "stride > 1" => d.spec.stride = Vec::new(),
        "stride differs by axis" => d.spec.stride = equal(&c.spec.stride, largest),
        "dilation > 1" => d.spec.dilation = Vec::new(),
        "dilation differs by axis" => d.spec.dilation = equal(&c.spec.dilation, largest),
        "output padding" => d.spec.output_padding = Vec::new(),
        // The smallest keeps every axis below its `max(stride, dilation)`.
        "output padding differs by axis" => {
            d.spec.output_padding = equal(&c.spec.output_padding, smallest)
        }
        "padded" => d.spec.padding = TransposePadding::Explicit(Vec::new()),
        "asymmetric pads" => match &c.spec.padding {
            TransposePadding::Explicit(p) => {
                d.spec.padding = TransposePadding::Explicit(
                    p.iter().map(|&(lo, hi)| (lo.max(hi), lo.max(hi))).collect(),
                )
            }
            _ => return None,
        },
        // A derived rule: the same pads, given explicitly (when none is negative).
        f if f.starts_with("padding ") => {
            let geo = c.with(|p| p.validate()).ok()?;
            let pads = geo
                .axes
                .iter()
                .map(|a| {
                    Some((
                        usize::try_from(a.pad_begin).ok()?,
                        usize::try_from(a.pad_end).ok()?,
                    ))
                })
                .collect::<Option<Vec<_>>>()?;
            d.spec.padding = TransposePadding::Explicit(pads);
        }
        "bias" => d.bias = None,
        "batch > 1" => {
            d.input = Arr(c
                .input
                .0
                .slice_axis(ndarray::Axis(0), ndarray::Slice::from(..1))
                .to_owned())
        }
        _ => return None,
    }
    Some(d)
}

/// Every feature of a case ([`features`]).
fn case_features<T: Clone>(c: &TransposeCase<T>) -> Vec<String> {
    features(&c.with(|p| TransposeProblemShape::of(p)))
}

/// The features a transposed problem exercises, as the coverage counts them: its rank and
/// padding rule, and each option it uses (stride, dilation and output padding, each above
/// neutral and differing by axis; explicit pads and asymmetric ones; groups, bias, batch).
fn features(p: &TransposeProblemShape) -> Vec<String> {
    let s = &p.spec;
    let mut out = vec![
        format!("rank {}", p.rank()),
        format!("padding {:?}", TransposePaddingRule::of(&s.padding)),
    ];
    for (what, values, neutral) in [
        ("stride > 1", &s.stride, 1),
        ("dilation > 1", &s.dilation, 1),
        ("output padding", &s.output_padding, 0),
    ] {
        if values.iter().any(|&v| v != neutral) {
            out.push(what.to_string());
        }
        if values.windows(2).any(|w| w[0] != w[1]) {
            let name = what.trim_end_matches(" > 1");
            out.push(format!("{name} differs by axis"));
        }
    }
    if let TransposePadding::Explicit(pads) = &s.padding {
        if pads.iter().any(|&(lo, hi)| lo + hi > 0) {
            out.push("padded".to_string());
        }
        if pads.iter().any(|&(lo, hi)| lo != hi) {
            out.push("asymmetric pads".to_string());
        }
    }
    if s.groups > 1 {
        out.push("groups > 1".to_string());
    }
    if p.bias {
        out.push("bias".to_string());
    }
    if p.input.first().is_some_and(|&n| n > 1) {
        out.push("batch > 1".to_string());
    }
    out
}

/// The features that tell failures of transposed problems apart: [`features`] without the
/// plainest choices (rank 1, explicit padding), which every shrunk problem has.
fn signature(p: &TransposeProblemShape) -> Vec<String> {
    features(p)
        .into_iter()
        .filter(|f| f != "rank 1" && f != "padding Explicit")
        .collect()
}

// ------------------------------------------------------------------------------ code

fn padding_code(p: &TransposePadding) -> String {
    match p {
        TransposePadding::Explicit(v) => {
            format!("conv_oracle::layer::TransposePadding::Explicit(vec!{v:?})")
        }
        TransposePadding::SameUpper => {
            "conv_oracle::layer::TransposePadding::SameUpper".to_string()
        }
        TransposePadding::SameLower => {
            "conv_oracle::layer::TransposePadding::SameLower".to_string()
        }
        TransposePadding::OutputShape { shape, auto_pad } => format!(
            "conv_oracle::layer::TransposePadding::OutputShape {{ shape: vec!{shape:?}, auto_pad: conv_oracle::layer::AutoPad::{auto_pad:?} }}"
        ),
    }
}

fn case_code<T: Element>(c: &TransposeCase<T>, check: &str) -> String {
    let ty = <T as Float>::NAME;
    let mut s = format!(
        "fn conv_oracle_counterexample(engine: &dyn conv_oracle::engine::ConvTransposeEngine<{ty}>) {{\n"
    );
    s += &array_code("input", &c.input.0);
    s += &array_code("weight", &c.weight.0);
    if let Some(b) = &c.bias {
        let values: Vec<String> = b.iter().map(|&v| v.literal()).collect();
        s += &format!(
            "    let bias = ndarray::Array1::<{ty}>::from(vec![{}]);\n",
            values.join(", ")
        );
    }
    let sp = &c.spec;
    s += &format!(
        "    let spec = conv_oracle::layer::TransposeSpec {{ stride: vec!{:?}, dilation: vec!{:?}, padding: {}, output_padding: vec!{:?}, groups: {}, ..Default::default() }};\n",
        sp.stride,
        sp.dilation,
        padding_code(&sp.padding),
        sp.output_padding,
        sp.groups
    );
    s += "    let p = conv_oracle::layer::TransposeProblem::new(input.view(), weight.view())";
    if c.bias.is_some() {
        s += ".bias(bias.view())";
    }
    s += ".spec(spec);\n";
    s += check;
    s += "}\n";
    s
}
