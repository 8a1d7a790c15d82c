//! The conformance battery on burn (NdArray and Flex devices), with capabilities stating its
//! documented API (ranks 1-3, per-axis stride and dilation, asymmetric pads except zero pads
//! in 3-D, zeros, constant, reflect below the input's length, edge, both flips,
//! groups, bias, batch). burn refuses invalid problems by panicking, not with errors, so its
//! capabilities do not claim to validate and the battery skips its invalid inputs; the battery
//! must pass. The invalid inputs then run on their own, as if burn claimed to validate, to
//! tell its refusals (panics) from an invalid problem computed (`tests/findings.rs`). The
//! reports print with `-- --nocapture`.

use conv_oracle::conformance::{Config, ConformanceReport, Section, check, check_sections};
use conv_oracle::engine::{Capabilities, ConvEngine};
use conv_oracle::problem::{ConvError, Problem};
use conv_oracle::testing::Kind;
use ndarray::ArrayD;
use zoo_burn::{Burn, BurnDevice};

/// burn with `validates` claimed, so that the invalid-input section runs.
struct Strict(Burn);

impl ConvEngine<f32> for Strict {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        self.0.conv(p)
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            validates: true,
            ..self.0.capabilities()
        }
    }
}

fn battery(engine: Burn) -> ConformanceReport {
    let r = check::<f32>(&engine, &Config::default());
    println!("{r}");
    r
}

fn invalid_inputs(engine: Burn) -> Vec<(String, Kind)> {
    let config = Config {
        max_failures: 32,
        ..Config::default()
    };
    let r = check_sections::<f32>(&Strict(engine), &config, &[Section::Invalid]);
    println!("{r}");
    r.failures().map(|c| (c.what.clone(), c.kind)).collect()
}

/// What the invalid-input section finds on `device`, in its order: burn refuses by panicking
/// (its policy: `check!`, `ConvOptions::new`'s non-zero checks; for a kernel larger than the
/// input and an empty axis, an overflow in the output length, `kernel_longer_than_input_panics`,
/// `empty_kernel_panics`), except the findings it computes. Ranks, strides and pads given for
/// the wrong number of axes do not fit burn's `[usize; N]` arrays: the adapter refuses them.
fn expected(device: BurnDevice) -> Vec<(String, Kind)> {
    use Kind::{Accepted, Panicked};
    let (groups_out, empty_input, long_bias) = match device {
        // bias_longer_than_output_channels_ndarray_ignores_the_rest
        BurnDevice::NdArray => (Panicked, Panicked, Accepted),
        // groups_not_dividing_output_channels_flex_computes_a_zero_channel,
        // empty_input_flex_gives_an_empty_output
        BurnDevice::Flex => (Accepted, Accepted, Panicked),
    };
    [
        ("weight channels do not match the input's", Panicked),
        ("groups do not divide the input channels", Panicked),
        ("groups do not divide the output channels", groups_out),
        ("zero groups", Panicked),
        ("zero stride", Panicked),
        ("zero dilation", Panicked),
        ("kernel larger than the input (valid)", Panicked),
        (
            "kernel larger than the padded input (pads (1, 1))",
            Panicked,
        ),
        ("kernel larger than the input on one axis of two", Panicked),
        ("empty spatial axis", empty_input),
        ("empty kernel axis", Panicked),
        ("bias of the wrong length", long_bias),
    ]
    .into_iter()
    .map(|(w, k)| (format!("invalid input: {w}"), k))
    .collect()
}

#[test]
fn passes_and_fails_invalid_inputs_only_by_its_findings() {
    for engine in [Burn::ndarray(), Burn::flex()] {
        let r = battery(engine);
        assert!(r.passed(), "{r}");
        for s in &r.sections {
            assert!(s.section == Section::Invalid || s.checked > 0, "{r}");
        }
        assert_eq!(
            invalid_inputs(engine),
            expected(engine.device),
            "{}",
            engine.name()
        );
    }
}
