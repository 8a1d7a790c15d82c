//! A counterexample as Rust code to paste into a test: the problem's arrays and spec, and
//! the check that fails on it.

use super::config::{Config, Tolerance};
use super::report::Counterexample;
use crate::engine::BoundaryRule;
use crate::problem::{Boundary, ConvSpec, Padding};
use crate::testing::Violation;
use crate::testing::cases::Case;
use crate::testing::problems::Element;
use crate::tolerance::Float;
use ndarray::ArrayD;

pub(super) fn counterexample<T: Element>(
    what: String,
    violation: Violation,
    c: &Case<T>,
    check: &str,
) -> Counterexample {
    Counterexample {
        what,
        kind: violation.kind,
        detail: violation.detail,
        code: case_code(c, check),
        size: case_size(c),
        features: Vec::new(),
        repeats: 0,
    }
}

pub(super) fn case_size<T>(c: &Case<T>) -> usize {
    c.input.0.len() + c.weight.0.len()
}

/// The check of an output against the oracle, as Rust statements.
pub(super) fn oracle_check_code<T>(config: &Config<T>) -> String {
    check_code(config, "conv", "judge")
}

/// Statements running `engine.{method}(&p)` and judging it with `oracle::{judge}`.
pub(crate) fn check_code<T>(config: &Config<T>, method: &str, judge: &str) -> String {
    let model = match &config.tolerance {
        Tolerance::Declared if method == "conv" => {
            "engine.algorithm(&p).model(&p).expect(\"the declared algorithm computes this problem\")"
                .to_string()
        }
        // A transposed engine's algorithm is stated, and its model evaluated, on the stuffed
        // direct form.
        Tolerance::Declared => {
            "engine.algorithm(&p).model(&p.as_conv().unwrap().problem()).expect(\"the declared algorithm computes this problem\")"
                .to_string()
        }
        Tolerance::Model(crate::tolerance::Model::Elementwise { bounds }) => format!(
            "conv_oracle::tolerance::Model::Elementwise {{ bounds: vec!{bounds:?} }}"
        ),
        Tolerance::Model(m) => format!("conv_oracle::tolerance::Model::{m:?}"),
        Tolerance::PerProblem(_) => {
            "/* the model your Config derives for this problem */ conv_oracle::tolerance::Model::Componentwise"
                .to_string()
        }
    };
    format!(
        "    let got = engine.{method}(&p).expect(\"a valid problem\");\n    \
         let model = {model};\n    \
         let report = conv_oracle::oracle::{judge}(&p, got.view(), &model).unwrap();\n    \
         assert!(report.passed(), \"{{report}}\");\n"
    )
}

pub(crate) fn array_code<T: Element>(name: &str, a: &ArrayD<T>) -> String {
    let values: Vec<String> = a.iter().map(|&v| v.literal()).collect();
    format!(
        "    let {name} = ndarray::ArrayD::<{ty}>::from_shape_vec(ndarray::IxDyn(&{shape:?}), vec![{values}]).unwrap();\n",
        ty = <T as Float>::NAME,
        shape = a.shape(),
        values = values.join(", ")
    )
}

fn spec_code<T: Element>(spec: &ConvSpec<T>) -> String {
    let mut s = String::from("conv_oracle::ConvSpec::new()");
    if !spec.stride.is_empty() {
        s += &format!(".stride(vec!{:?})", spec.stride);
    }
    if !spec.dilation.is_empty() {
        s += &format!(".dilation(vec!{:?})", spec.dilation);
    }
    let padding = match &spec.padding {
        Padding::Explicit(p) => format!("Explicit(vec!{p:?})"),
        other => format!("{other:?}"),
    };
    s += &format!(".padding(conv_oracle::Padding::{padding})");
    let boundary = match &spec.boundary {
        Boundary::Constant(v) => format!("Constant({})", v.literal()),
        b => format!("{:?}", BoundaryRule::of(b)),
    };
    s += &format!(".boundary(conv_oracle::Boundary::{boundary})");
    if spec.groups != 1 {
        s += &format!(".groups({})", spec.groups);
    }
    s += &format!(".flip(conv_oracle::Flip::{:?})", spec.flip);
    s
}

/// The case as a Rust function taking the engine, with `check` (statements using `engine`
/// and `p`) as its body's end.
pub(super) fn case_code<T: Element>(c: &Case<T>, check: &str) -> String {
    let mut s = format!(
        "fn conv_oracle_counterexample(engine: &dyn conv_oracle::engine::ConvEngine<{ty}>) {{\n",
        ty = <T as Float>::NAME
    );
    s += &array_code("input", &c.input.0);
    s += &array_code("weight", &c.weight.0);
    if let Some(b) = &c.bias {
        let values: Vec<String> = b.iter().map(|&v| v.literal()).collect();
        s += &format!(
            "    let bias = ndarray::Array1::<{}>::from(vec![{}]);\n",
            <T as Float>::NAME,
            values.join(", ")
        );
    }
    s += &format!("    let spec = {};\n", spec_code(&c.spec));
    s += "    let p = conv_oracle::Problem::new(input.view(), weight.view())";
    if c.bias.is_some() {
        s += ".bias(bias.view())";
    }
    s += ".spec(spec);\n";
    s += check;
    s += "}\n";
    s
}
