//! The invalid-input section: problems every engine must refuse, when it claims to
//! validate.

use super::catalogue::{Entry, small_ints};
use super::code::counterexample;
use super::report::{Section, SectionReport};
use super::verdict::{refusal, run};
use crate::engine::{Capabilities, ConvEngine};
use crate::problem::{ConvSpec, Padding};
use crate::testing::cases::Case;
use crate::testing::problems::Element;

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
) -> SectionReport {
    let entries = invalid_cases::<T>();
    let mut report = SectionReport {
        section: Section::Invalid,
        checked: 0,
        skipped: 0,
        failure: None,
    };
    if !caps.validates {
        report.skipped = entries.len();
        return report;
    }
    for e in entries {
        report.checked += 1;
        let verdict = e.case.with(|p| refusal(p.validate(), run(engine, p)?));
        if let Err(violation) = verdict {
            report.failure = Some(counterexample(
                format!("invalid input: {}", e.name),
                violation,
                &e.case,
                "    assert!(engine.conv(&p).is_err(), \"the problem is invalid\");\n",
            ));
            break;
        }
    }
    report
}
