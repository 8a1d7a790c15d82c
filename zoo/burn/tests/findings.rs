//! burn-tensor 0.22.1 findings, reproduced on the crate's own API (no conv-oracle), on the
//! NdArray and the Flex devices. Each test asserts what burn does today and that it differs from
//! the correct result, so it fails the day upstream changes: then update the zoo's table.

#![allow(deprecated)] // Device::ndarray: burn 0.22 deprecates it for Device::flex

use burn_tensor::module::conv1d;
use burn_tensor::ops::ConvOptions;
use burn_tensor::{Device, Tensor, TensorData};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What happened: a panic or the values.
#[derive(Debug, PartialEq)]
enum Outcome {
    Panic,
    Values(Vec<usize>, Vec<f32>),
}

/// A 1-D convolution (N = 1, C = 1, O = 1) with the options' fields set directly.
fn conv(device: &Device, x: &[f32], w: &[f32], stride: usize, groups: usize) -> Outcome {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let xt = Tensor::<3>::from_data(TensorData::new(x.to_vec(), vec![1, 1, x.len()]), device);
        let wt = Tensor::<3>::from_data(TensorData::new(w.to_vec(), vec![1, 1, w.len()]), device);
        let options = ConvOptions::<1> {
            stride: [stride],
            padding: [(0, 0)],
            dilation: [1],
            groups,
        };
        let y = conv1d(xt, wt, None, options);
        let dims = y.dims().to_vec();
        (dims, y.into_data().try_to_vec::<f32>().unwrap())
    }));
    match r {
        Ok((d, v)) => Outcome::Values(d, v),
        Err(_) => Outcome::Panic,
    }
}

fn devices() -> [(&'static str, Device); 2] {
    [("ndarray", Device::ndarray()), ("flex", Device::flex())]
}

// A kernel of 3 on an input of 2, no padding: no output position; the correct result is an
// error or an empty output.
#[test]
fn kernel_longer_than_input_panics() {
    for (name, d) in devices() {
        let got = conv(&d, &[1., 2.], &[1., 1., 1.], 1, 1);
        assert_eq!(got, Outcome::Panic, "{name}");
    }
}

// Stride 0 (set in the public field, past ConvOptions::new's check): the correct result is an
// error.
#[test]
fn zero_stride_panics() {
    for (name, d) in devices() {
        let got = conv(&d, &[1., 2., 3.], &[1.], 0, 1);
        assert_eq!(got, Outcome::Panic, "{name}");
    }
}

// Groups 0 (set in the public field): the correct result is an error. burn's channel check
// (C = 1 against C_w * groups = 0) panics, burn's way of refusing.
#[test]
fn zero_groups_panics() {
    for (name, d) in devices() {
        let got = conv(&d, &[1., 2., 3.], &[1.], 1, 0);
        assert_eq!(got, Outcome::Panic, "{name}");
    }
}

// Not a finding: ConvOptions::new refuses a zero stride, by a panic (documented).
#[test]
fn options_new_panics_on_zero_stride() {
    assert!(catch_unwind(|| ConvOptions::<1>::new([0], [0], [1], 1)).is_err());
}
