//! The conformance battery on convolutions-rs, with capabilities stating its documented API
//! (2-D on one image, 1-D as height 1; one stride; `Valid` or its `Same`, which is ONNX's
//! SAME_LOWER; zeros; bias; no dilation, groups, batch or errors). The only failures left must
//! be the genuine findings, each confirmed by hand in `tests/findings.rs`; the report prints
//! with `-- --nocapture`.

use conv_oracle::conformance::{Config, Counterexample, check};
use conv_oracle::testing::Kind;
use zoo_convolutions_rs::ConvolutionsRs;

/// The weight shape in a counterexample's code.
fn weight_shape(c: &Counterexample) -> Vec<usize> {
    let line = c
        .code
        .lines()
        .find(|l| l.trim_start().starts_with("let weight"))
        .expect("a weight");
    let inner = &line[line.find("IxDyn(&[").expect("a shape") + 8..];
    inner[..inner.find(']').expect("a shape")]
        .split(", ")
        .map(|v| v.parse().expect("an extent"))
        .collect()
}

#[test]
fn fails_only_by_its_findings() {
    let r = check::<f32>(&ConvolutionsRs, &Config::default());
    println!("{r}");
    let mut scrambled = false;
    let mut same_panic = false;
    for c in r.failures() {
        let w = weight_shape(c);
        match c.kind {
            // `two_filters_output_positions_in_column_major_order`: two or more filters over
            // an im2col matrix of one column (one channel, a 1x1 kernel).
            Kind::BoundExceeded if w[0] >= 2 && w[1..].iter().all(|&v| v == 1) => scrambled = true,
            // `same_padding_with_stride_above_kernel_panics`.
            Kind::Panicked
                if c.features.iter().any(|f| f == "stride > 1")
                    && c.features.iter().any(|f| f == "padding SameLower") =>
            {
                same_panic = true
            }
            _ => panic!("an unexpected failure:\n{r}"),
        }
    }
    assert!(scrambled && same_panic, "{r}");
}
