//! burn-tensor 0.22.1 findings, reproduced on the crate's own API (no conv-oracle), on the
//! NdArray and the Flex devices. Each test asserts what burn does today and that it differs from
//! the correct result, so it fails the day upstream changes: then update the zoo's table.
//!
//! burn refuses invalid arguments by panicking (`check!`, `ConvOptions::new`'s non-zero
//! checks): those panics are its policy, not findings. The findings are invalid problems it
//! computes, and panics that come from an arithmetic overflow rather than a check.

#![allow(deprecated)] // Device::ndarray: burn 0.22 deprecates it for Device::flex

use burn_tensor::module::conv1d;
use burn_tensor::ops::ConvOptions;
use burn_tensor::{Device, Tensor, TensorData};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What happened: a panic (its message) or the output (shape, values).
#[derive(Debug, PartialEq)]
enum Outcome {
    Panic(String),
    Values(Vec<usize>, Vec<f32>),
}

impl Outcome {
    /// Whether this is a panic whose message contains `what`.
    fn panicked_with(&self, what: &str) -> bool {
        matches!(self, Outcome::Panic(m) if m.contains(what))
    }
}

/// A 1-D convolution: input `(1, c, x.len() / c)`, kernel `(o, w.len() / (o * k), k)`, the
/// options' fields set directly (no `ConvOptions::new` check).
struct Conv1d<'a> {
    x: &'a [f32],
    c: usize,
    w: &'a [f32],
    o: usize,
    k: usize,
    bias: Option<&'a [f32]>,
    stride: usize,
    dilation: usize,
    groups: usize,
}

impl<'a> Conv1d<'a> {
    /// One channel in and out, a kernel as long as `w`, stride, dilation and groups 1.
    fn new(x: &'a [f32], w: &'a [f32]) -> Self {
        Conv1d {
            x,
            c: 1,
            w,
            o: 1,
            k: w.len(),
            bias: None,
            stride: 1,
            dilation: 1,
            groups: 1,
        }
    }

    fn run(&self, device: &Device) -> Outcome {
        let r = catch_unwind(AssertUnwindSafe(|| {
            let x_shape = vec![1, self.c, self.x.len() / self.c];
            // An empty kernel (k = 0) has one input channel.
            let i = self.w.len().checked_div(self.o * self.k).unwrap_or(1);
            let w_shape = vec![self.o, i, self.k];
            let x = Tensor::<3>::from_data(TensorData::new(self.x.to_vec(), x_shape), device);
            let w = Tensor::<3>::from_data(TensorData::new(self.w.to_vec(), w_shape), device);
            let b = self.bias.map(|b| {
                Tensor::<1>::from_data(TensorData::new(b.to_vec(), vec![b.len()]), device)
            });
            let options = ConvOptions::<1> {
                stride: [self.stride],
                padding: [(0, 0)],
                dilation: [self.dilation],
                groups: self.groups,
            };
            let y = conv1d(x, w, b, options);
            let dims = y.dims().to_vec();
            (dims, y.into_data().try_to_vec::<f32>().unwrap())
        }));
        match r {
            Ok((d, v)) => Outcome::Values(d, v),
            Err(payload) => Outcome::Panic(
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            ),
        }
    }
}

fn ndarray() -> Device {
    Device::ndarray()
}

fn flex() -> Device {
    Device::flex()
}

// Groups 2 must divide C_out = 3; it does not, so the correct result is an error (PyTorch:
// "out_channels must be divisible by groups"). burn's `check!` compares only the input
// channels, C = 2 with C_w * groups = 1 * 2. x = [[1, 2, 3], [4, 5, 6]], w = [[[1, 2]],
// [[10, 20]], [[100, 200]]].
// Flex takes C_out / groups = 1 output channel per group and writes channels 0 and 1 only
// (`burn-flex src/ops/conv.rs`, `out_channels_per_group` in every path), in an output
// allocated with zeros: channel 0 = [1*1 + 2*2, 2*1 + 3*2] = [5, 8], channel 1 =
// [4*10 + 5*20, 5*10 + 6*20] = [140, 170], channel 2 = [0, 0], shape (1, 3, 2).
// NdArray puts output channel 2 in group 2 / 1 = 2, whose input channels 2..3 do not exist:
// ndarray's index check panics.
#[test]
fn groups_not_dividing_output_channels_flex_computes_a_zero_channel() {
    let mut c = Conv1d::new(&[1., 2., 3., 4., 5., 6.], &[1., 2., 10., 20., 100., 200.]);
    (c.c, c.o, c.k, c.groups) = (2, 3, 2, 2);
    let got = c.run(&flex());
    assert_eq!(
        got,
        Outcome::Values(vec![1, 3, 2], vec![5., 8., 140., 170., 0., 0.])
    );
    let got = c.run(&ndarray());
    assert!(got.panicked_with("index < dim"), "{got:?}");
}

// A bias of 3 entries for 2 output channels: the correct result is an error (one bias per
// output channel). x = [1, 2, 3], w = [[[1, 1]], [[1, -1]]], bias [100, 200, 300].
// NdArray adds bias[oc] for each output channel oc < 2 (`burn-ndarray src/ops/conv.rs:196-197`)
// and ignores the third: channel 0 = [1 + 2, 2 + 3] + 100 = [103, 105], channel 1 =
// [1 - 2, 2 - 3] + 200 = [199, 199].
// Flex checks the length with an assertion, a panic (burn's way of refusing).
#[test]
fn bias_longer_than_output_channels_ndarray_ignores_the_rest() {
    let mut c = Conv1d::new(&[1., 2., 3.], &[1., 1., 1., -1.]);
    (c.o, c.k) = (2, 2);
    c.bias = Some(&[100., 200., 300.]);
    let got = c.run(&ndarray());
    assert_eq!(
        got,
        Outcome::Values(vec![1, 2, 2], vec![103., 105., 199., 199.])
    );
    let got = c.run(&flex());
    assert!(got.panicked_with("bias length (3)"), "{got:?}");
}

// An empty input axis has no convolution (the correct result is an error, as numpy's "a
// cannot be empty"). Flex runs a 1-tap kernel through its 1x1 path, whose output is as long
// as the input (`burn-flex src/ops/conv.rs:614-625`, `spatial = x_shape[2] * ...`): an empty
// output of shape (1, 1, 0). NdArray computes the output length `(0 - 1*(1 - 1) - 1) / 1 + 1`
// (`burn-backend src/backend/ops/modules/conv.rs:207`), which overflows: a panic.
#[test]
fn empty_input_flex_gives_an_empty_output() {
    let c = Conv1d::new(&[], &[1.]);
    let got = c.run(&flex());
    assert_eq!(got, Outcome::Values(vec![1, 1, 0], vec![]));
    let got = c.run(&ndarray());
    assert!(got.panicked_with("subtract with overflow"), "{got:?}");
}

// A kernel of 3 on an input of 2, no padding: no output position; the correct result is an
// error (or an empty output). The output length `(2 - 1*(3 - 1) - 1) / 1 + 1`
// (`burn-backend src/backend/ops/modules/conv.rs:207`) overflows: a panic from the arithmetic
// (with overflow checks on, as in the zoo's builds), not from a check, on both devices.
#[test]
fn kernel_longer_than_input_panics() {
    for (name, d) in [("ndarray", ndarray()), ("flex", flex())] {
        let got = Conv1d::new(&[1., 2.], &[1., 1., 1.]).run(&d);
        assert!(
            got.panicked_with("subtract with overflow"),
            "{name}: {got:?}"
        );
    }
}

// An empty kernel axis: the correct result is an error. `kernel_size - 1` overflows in the
// same line, a panic on both devices.
#[test]
fn empty_kernel_panics() {
    for (name, d) in [("ndarray", ndarray()), ("flex", flex())] {
        let got = Conv1d::new(&[1., 2., 3., 4.], &[]).run(&d);
        assert!(
            got.panicked_with("subtract with overflow"),
            "{name}: {got:?}"
        );
    }
}

// Not a finding: stride 0 and dilation 0 set in the public fields reach `ConvOptions::new`'s
// non-zero checks on the way to the kernels (`burn-std src/ops.rs:9`), a deliberate panic.
#[test]
fn zero_stride_or_dilation_panics_by_its_check() {
    for (name, d) in [("ndarray", ndarray()), ("flex", flex())] {
        let mut c = Conv1d::new(&[1., 2., 3.], &[1.]);
        c.stride = 0;
        let got = c.run(&d);
        assert!(
            got.panicked_with("stride must be non-zero"),
            "{name}: {got:?}"
        );
        let mut c = Conv1d::new(&[1., 2., 3.], &[1., 1.]);
        c.dilation = 0;
        let got = c.run(&d);
        assert!(
            got.panicked_with("dilation must be non-zero"),
            "{name}: {got:?}"
        );
    }
}

// Not a finding: groups 0 (C = 1 against C_w * 0) and a channel mismatch fail burn's channel
// `check!` (`burn-tensor src/tensor/api/check.rs:1277`), a deliberate panic.
#[test]
fn zero_groups_or_channel_mismatch_panics_by_its_check() {
    let check = "Number of channels in input tensor";
    for (name, d) in [("ndarray", ndarray()), ("flex", flex())] {
        let mut c = Conv1d::new(&[1., 2., 3.], &[1.]);
        c.groups = 0;
        let got = c.run(&d);
        assert!(got.panicked_with(check), "{name}: {got:?}");
        let mut c = Conv1d::new(&[1., 2., 3., 4., 5., 6.], &[1.]);
        c.c = 2;
        let got = c.run(&d);
        assert!(got.panicked_with(check), "{name}: {got:?}");
    }
}

// Not a finding: ConvOptions::new refuses a zero stride, by a panic (documented).
#[test]
fn options_new_panics_on_zero_stride() {
    assert!(catch_unwind(|| ConvOptions::<1>::new([0], [0], [1], 1)).is_err());
}
