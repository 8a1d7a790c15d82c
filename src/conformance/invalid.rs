//! The invalid-input section: problems every engine must refuse, when it claims to
//! validate.

use super::catalogue::{Entry, small_ints};
use super::code::counterexample;
use super::report::{Section, SectionReport};
use super::verdict::{refusal, run};
use crate::engine::{Capabilities, ConvEngine, LargeKernel, ProblemShape};
use crate::problem::geometry::per_axis;
use crate::problem::{ConvError, ConvSpec, Padding, Problem};
use crate::testing::cases::Case;
use crate::testing::problems::Element;
use crate::testing::{Kind, Violation};
use ndarray::ArrayD;

/// Problems every engine must refuse, with the reason the reference gives.
fn invalid_cases<T: Element>() -> Vec<Entry<T>> {
    let case = |input: &[usize], weight: &[usize], bias: Option<usize>, spec: ConvSpec<T>| Case {
        input: small_ints(input, 5),
        weight: small_ints(weight, 6),
        bias: bias.map(|n| small_ints::<T>(&[n], 7).0.iter().copied().collect()),
        spec,
    };
    let entry = |name: &str, case: Case<T>| Entry {
        name: name.to_string(),
        case,
    };
    vec![
        entry(
            "input and weight of different ranks",
            case(&[1, 2, 5], &[1, 2, 3, 3], None, ConvSpec::new()),
        ),
        entry(
            "weight channels do not match the input's",
            case(&[1, 3, 6], &[2, 2, 3], None, ConvSpec::new()),
        ),
        entry(
            "groups do not divide the input channels",
            case(&[1, 3, 6], &[2, 1, 3], None, ConvSpec::new().groups(2)),
        ),
        entry(
            "groups do not divide the output channels",
            case(&[1, 4, 6], &[3, 2, 3], None, ConvSpec::new().groups(2)),
        ),
        entry(
            "zero groups",
            case(&[1, 2, 6], &[2, 2, 3], None, ConvSpec::new().groups(0)),
        ),
        entry(
            "zero stride",
            case(
                &[1, 1, 6],
                &[1, 1, 3],
                None,
                ConvSpec::new().stride(vec![0]),
            ),
        ),
        entry(
            "zero dilation",
            case(
                &[1, 1, 6],
                &[1, 1, 3],
                None,
                ConvSpec::new().dilation(vec![0]),
            ),
        ),
        entry(
            "stride given for the wrong number of axes",
            case(
                &[1, 1, 6, 6],
                &[1, 1, 3, 3],
                None,
                ConvSpec::new().stride(vec![1]),
            ),
        ),
        entry(
            "explicit pads for the wrong number of axes",
            case(
                &[1, 1, 6, 6],
                &[1, 1, 3, 3],
                None,
                ConvSpec::new().padding(Padding::Explicit(vec![(1, 1)])),
            ),
        ),
        entry(
            "kernel larger than the input (valid)",
            case(&[1, 1, 3], &[1, 1, 5], None, ConvSpec::new()),
        ),
        entry(
            "kernel larger than the padded input (pads (1, 1))",
            case(
                &[1, 1, 2],
                &[1, 1, 5],
                None,
                ConvSpec::new().padding(Padding::Explicit(vec![(1, 1)])),
            ),
        ),
        entry(
            "kernel larger than the input on one axis of two",
            case(&[2, 1, 3, 6], &[2, 1, 5, 3], None, ConvSpec::new()),
        ),
        entry(
            "empty spatial axis",
            case(&[1, 1, 0], &[1, 1, 1], None, ConvSpec::new()),
        ),
        entry(
            "empty kernel axis",
            case(&[1, 1, 4], &[1, 1, 0], None, ConvSpec::new()),
        ),
        entry(
            "bias of the wrong length",
            case(&[1, 1, 6], &[2, 1, 3], Some(3), ConvSpec::new()),
        ),
    ]
}

pub(super) fn invalid_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
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
        let empty = e.case.with(|p| match (caps.large_kernel, p.validate()) {
            (LargeKernel::EmptyOutput, Err(ConvError::KernelTooLarge { .. })) => {
                empty_output_shape(p)
            }
            _ => None,
        });
        let verdict = match &empty {
            Some(shape) => e.case.with(|p| empty_output(shape, run(engine, p)?)),
            None => e.case.with(|p| refusal(p.validate(), run(engine, p)?)),
        };
        if let Err(violation) = verdict {
            let check = match &empty {
                Some(shape) => format!(
                    "    // Its declared policy for a kernel larger than the input: an empty output.\n    \
                     assert_eq!(engine.conv(&p).expect(\"an empty output\").shape(), &{shape:?});\n"
                ),
                None => "    assert!(engine.conv(&p).is_err(), \"the problem is invalid\");\n"
                    .to_string(),
            };
            let mut c = counterexample(
                format!("invalid input: {}", e.name),
                violation,
                &e.case,
                &check,
            );
            c.features = vec![e.name];
            report.add_failure(c, cap);
        }
    }
    report
}

/// The output of a problem whose kernel is larger than the padded input on some axes, under
/// [`LargeKernel::EmptyOutput`]: length 0 on those axes, the usual length on the others;
/// `None` if the problem is invalid for another reason too.
fn empty_output_shape<T: Clone>(p: &Problem<'_, T>) -> Option<Vec<usize>> {
    let shape = ProblemShape::of(p);
    let pads = shape.pads()?;
    let rank = shape.rank();
    let stride = per_axis(&p.spec.stride, "stride", rank, 1).ok()?;
    let dilation = per_axis(&p.spec.dilation, "dilation", rank, 1).ok()?;
    let mut out = vec![shape.input[0], shape.weight[0]];
    for a in 0..rank {
        let eff = dilation[a] * (shape.weight[a + 2] - 1) + 1;
        let padded = shape.input[a + 2] + pads[a].0 + pads[a].1;
        out.push(if padded < eff {
            0
        } else {
            (padded - eff) / stride[a] + 1
        });
    }
    Some(out)
}

/// The verdict on an answer that must be an empty output of `shape`.
fn empty_output<T>(shape: &[usize], got: Result<ArrayD<T>, ConvError>) -> Result<(), Violation> {
    match got {
        Ok(y) if y.shape() == shape => Ok(()),
        Ok(y) => Err(Violation::new(
            Kind::ShapeMismatch,
            format!(
                "returned shape {:?}; its declared policy for a kernel larger than the input is an empty output of shape {shape:?}",
                y.shape()
            ),
        )),
        Err(e) => Err(Violation::new(
            Kind::Refused,
            format!(
                "refused ({e}) although its declared policy for a kernel larger than the input is an empty output of shape {shape:?}"
            ),
        )),
    }
}
