//! tract-core 0.23.10 findings, reproduced on the crate's own API (no conv-oracle): a
//! `TypedModel` with a `Conv` (and a `Pad`) operator, optimised and run. Each test asserts what
//! tract does today and that it differs from the correct result, so it fails the day upstream
//! changes: then update the zoo's table.

use std::panic::{AssertUnwindSafe, catch_unwind};
use tract_core::internal::*;
use tract_core::ops::array::{Pad, PadMode};
use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_core::ops::nn::DataFormat;

/// A 1-D convolution (N = 1, C = 1, O = 1) of `x` with `w`, optionally after a `Pad`.
fn conv1d(
    x: &[f32],
    w: &[f32],
    stride: usize,
    group: usize,
    pad: Option<((usize, usize), PadMode)>,
) -> TractResult<Vec<f32>> {
    let mut model = TypedModel::default();
    let mut wire = model.add_source("input", f32::fact([1, 1, x.len()]))?;
    if let Some((p, mode)) = pad {
        wire = model.wire_node(
            "pad",
            Pad {
                pads: vec![(0, 0), (0, 0), p],
                mode,
            },
            &[wire],
        )?[0];
    }
    let kernel = model.add_const("kernel", Tensor::from_shape(&[1, 1, w.len()], w)?)?;
    let bias = model.add_const("bias", Tensor::from(0f32))?;
    let op = Conv {
        pool_spec: PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: tvec![w.len()],
            padding: PaddingSpec::Valid,
            dilations: None,
            strides: Some(tvec![stride]),
            input_channels: 1,
            output_channels: 1,
        },
        kernel_fmt: KernelFormat::OIHW,
        group,
        q_params: None,
    };
    let out = model.wire_node("conv", op, &[wire, kernel, bias])?;
    model.select_output_outlets(&out)?;
    let model = model.into_optimized()?;
    let input = Tensor::from_shape(&[1, 1, x.len()], x)?;
    let out = model.into_runnable()?.run(tvec!(input.into_tvalue()))?;
    Ok(out[0]
        .to_plain_array_view::<f32>()?
        .iter()
        .copied()
        .collect())
}

/// What happened: a panic, an error or the values.
#[derive(Debug, PartialEq)]
enum Outcome {
    Panic,
    Error,
    Values(Vec<f32>),
}

fn outcome(f: impl FnOnce() -> TractResult<Vec<f32>>) -> Outcome {
    match catch_unwind(AssertUnwindSafe(f)) {
        Err(_) => Outcome::Panic,
        Ok(Err(_)) => Outcome::Error,
        Ok(Ok(v)) => Outcome::Values(v),
    }
}

// numpy.pad([1, 2, 3], 3, mode='reflect') = [2, 3, 2, 1, 2, 3, 2, 1, 2] (period 2(n-1) = 4:
// i = -3 -> m = 1 -> 2, i = -2 -> m = 2 -> 3, i = -1 -> m = 3 -> x[4-3] = 2, and the mirror
// on the right); a kernel [1] returns the padded row. tract's Pad reads the front source
// `bef - i` inside the data-and-after part: i = 0 reads position 3 of [1, 2, 3, 0, 0, 0], the
// back pad, still the constant 0.
#[test]
fn reflect_pad_not_shorter_than_input_fills_zero() {
    let got = outcome(|| conv1d(&[1., 2., 3.], &[1.], 1, 1, Some(((3, 3), PadMode::Reflect))));
    let correct = Outcome::Values(vec![2., 3., 2., 1., 2., 3., 2., 1., 2.]);
    assert_eq!(
        got,
        Outcome::Values(vec![0., 3., 2., 1., 2., 3., 2., 1., 2.])
    );
    assert_ne!(got, correct);
}

// Not a finding: a kernel of 3 on an input of 2, no padding, has no output position, and
// tract returns an empty output (shape (1, 1, 0)) rather than an error.
#[test]
fn kernel_longer_than_input_gives_an_empty_output() {
    let got = outcome(|| conv1d(&[1., 2.], &[1., 1., 1.], 1, 1, None));
    assert_eq!(got, Outcome::Values(vec![]));
}

// Stride 0 is invalid: the correct result is an error; tract panics.
#[test]
fn zero_stride_panics() {
    let got = outcome(|| conv1d(&[1., 2., 3.], &[1.], 0, 1, None));
    assert_eq!(got, Outcome::Panic);
}

// Groups 0 is invalid: the correct result is an error; tract panics.
#[test]
fn zero_groups_panics() {
    let got = outcome(|| conv1d(&[1., 2., 3.], &[1.], 1, 0, None));
    assert_eq!(got, Outcome::Panic);
}
