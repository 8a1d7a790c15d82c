//! The conformance battery on candle-core, with capabilities stating its documented API
//! (`conv1d` / `conv2d`: one stride, one dilation and one pad for every axis and side, zeros,
//! groups, batches, `Result` errors; bias added with `broadcast_add`). The only failures left
//! must be the genuine findings, each confirmed by hand in `tests/findings.rs`: every one is
//! an invalid problem computed or a panic where its `Result` promises an error. The report
//! prints with `-- --nocapture`.

use conv_oracle::conformance::{Config, Section, check};
use conv_oracle::testing::Kind;
use zoo_candle::Candle;

#[test]
fn fails_only_by_its_findings() {
    let r = check::<f32>(&Candle, &Config::default());
    println!("{r}");
    let mut got: Vec<(String, Kind)> = Vec::new();
    for s in &r.sections {
        assert!(
            s.section == Section::Invalid || s.failures.is_empty(),
            "{r}"
        );
        assert!(s.section == Section::Invalid || s.checked > 0, "{r}");
        got.extend(s.failures.iter().map(|c| (c.what.clone(), c.kind)));
    }
    let want = [
        // conv1d_groups_not_dividing_output_channels_is_not_an_error
        ("groups do not divide the output channels", Kind::Accepted),
        // conv1d_zero_stride_panics
        ("zero stride", Kind::Panicked),
        // conv1d_zero_dilation_is_computed
        ("zero dilation", Kind::Accepted),
        // conv1d_kernel_longer_than_input_panics, conv2d_kernel_larger_than_input_panics
        ("kernel larger than the input (valid)", Kind::Panicked),
        (
            "kernel larger than the padded input (pads (1, 1))",
            Kind::Panicked,
        ),
        (
            "kernel larger than the input on one axis of two",
            Kind::Panicked,
        ),
        // conv1d_empty_input_or_kernel_panics
        ("empty spatial axis", Kind::Panicked),
        ("empty kernel axis", Kind::Panicked),
    ];
    let want: Vec<(String, Kind)> = want
        .iter()
        .map(|(w, k)| (format!("invalid input: {w}"), *k))
        .collect();
    assert_eq!(got, want, "{r}");
}
