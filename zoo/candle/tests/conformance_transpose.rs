//! The transposed conformance battery on candle-core's `conv_transpose1d` /
//! `conv_transpose2d`, with capabilities stating their documented API (one pad, stride,
//! dilation and output padding for every axis and side, explicit pads, groups in 1-D only,
//! batches, `Result` errors; bias added with `broadcast_add`). The only failures left must be
//! the genuine findings, each confirmed by hand in `tests/findings.rs`. The report prints with
//! `-- --nocapture`.

use conv_oracle::conformance::Config;
use conv_oracle::conformance::transpose::check_transpose;
use conv_oracle::testing::Kind;
use zoo_candle::CandleTranspose;

#[test]
fn fails_only_by_its_findings() {
    let r = check_transpose::<f32>(&CandleTranspose, &Config::default());
    println!("{r}");
    for s in &r.sections {
        assert!(s.checked > 0, "{r}");
    }
    let got: Vec<(String, Kind, Vec<String>)> = r
        .failures()
        .map(|c| (c.what.clone(), c.kind, c.features.clone()))
        .collect();
    let want: Vec<(String, Kind, Vec<String>)> = WANT
        .iter()
        .map(|(what, kind, features)| {
            (
                what.to_string(),
                *kind,
                features.iter().map(|f| f.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(got, want, "{r}");
}

const ORACLE: &str = "oracle: a random transposed problem (shrunk)";
const ADJOINT: &str = "metamorphic: adjointness <conv_transpose(x), z> == <x, conv(z)> (shrunk)";

/// The failures (what, kind, the features each needs), each with the hand reproduction in
/// `tests/findings.rs` that confirms it. One bug can appear more than once in a section: a
/// feature whose removal leaves no valid problem (the dilation or output padding that makes
/// room for the pads) cannot be taken away, so it stays among the features.
const WANT: &[(&str, Kind, &[&str])] = &[
    // conv_transpose1d_batch_reads_sample_at_n_times_l
    (
        "catalogue: 1-D, batch 2, 2 input channels, stride 1, no padding",
        Kind::BoundExceeded,
        &["batch > 1"],
    ),
    // conv_transpose1d_padding_above_the_strided_input_panics,
    // conv_transpose1d_padding_on_one_element_panics
    (ORACLE, Kind::Panicked, &["dilation > 1", "padded"]),
    (ORACLE, Kind::Panicked, &["padded"]),
    // conv_transpose1d_batch_reads_sample_at_n_times_l
    (ORACLE, Kind::BoundExceeded, &["batch > 1"]),
    // conv_transpose1d_zero_groups_panics
    (
        "invalid input: zero groups",
        Kind::Panicked,
        &["zero groups"],
    ),
    // conv_transpose1d_zero_stride_is_computed
    (
        "invalid input: zero stride",
        Kind::Accepted,
        &["zero stride"],
    ),
    // conv_transpose1d_zero_dilation_is_computed
    (
        "invalid input: zero dilation",
        Kind::Accepted,
        &["zero dilation"],
    ),
    // conv_transpose1d_pads_leaving_no_output_panic
    (
        "invalid input: pads that leave no output",
        Kind::Panicked,
        &["pads that leave no output"],
    ),
    // conv_transpose1d_empty_input_or_kernel_panics
    (
        "invalid input: empty spatial axis",
        Kind::Panicked,
        &["empty spatial axis"],
    ),
    (
        "invalid input: empty kernel axis",
        Kind::Panicked,
        &["empty kernel axis"],
    ),
    // conv_transpose1d_padding_above_the_strided_input_panics
    (ADJOINT, Kind::Panicked, &["dilation > 1", "padded"]),
    (ADJOINT, Kind::Panicked, &["output padding", "padded"]),
    (ADJOINT, Kind::Panicked, &["padded"]),
];
