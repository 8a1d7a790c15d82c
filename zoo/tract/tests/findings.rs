//! tract-core 0.23.10 findings, reproduced on the crate's own API (no conv-oracle): a
//! `TypedModel` with a `Conv` (and a `Pad`) operator, optimised and run. Each test asserts what
//! tract does today and that it differs from the correct result, so it fails the day upstream
//! changes: then update the zoo's table.
//!
//! `PoolSpec::input_channels` is filled with the kernel's count (`I * group`,
//! `KernelFormat::input_channels`), as tract's ONNX and NNEF front ends fill it; `Conv` checks
//! the input's channels against that field.

use std::panic::{AssertUnwindSafe, catch_unwind};
use tract_core::internal::*;
use tract_core::ops::array::{Pad, PadMode};
use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_core::ops::nn::DataFormat;

/// A 1-D convolution, no padding in the `Conv` itself: input `(1, c, x.len() / c)`, kernel
/// `(o, i, w.len() / (o * i))`, optionally after a `Pad` of the spatial axis.
#[derive(Clone)]
struct Conv1d {
    x: Vec<f32>,
    c: usize,
    w: Vec<f32>,
    o: usize,
    i: usize,
    stride: usize,
    dilation: usize,
    group: usize,
    /// `PoolSpec::input_channels` when not the kernel's count.
    input_channels: Option<usize>,
    pad: Option<((usize, usize), PadMode)>,
}

impl Conv1d {
    /// One channel in, one out, stride, dilation and group 1, no `Pad`.
    fn new(x: &[f32], w: &[f32]) -> Self {
        Conv1d {
            x: x.to_vec(),
            c: 1,
            w: w.to_vec(),
            o: 1,
            i: 1,
            stride: 1,
            dilation: 1,
            group: 1,
            input_channels: None,
            pad: None,
        }
    }

    fn run(&self) -> TractResult<(Vec<usize>, Vec<f32>)> {
        let x_shape = [1, self.c, self.x.len() / self.c];
        let w_shape = [self.o, self.i, self.w.len() / (self.o * self.i)];
        let mut model = TypedModel::default();
        let mut wire = model.add_source("input", f32::fact(x_shape))?;
        if let Some((p, mode)) = &self.pad {
            let op = Pad {
                pads: vec![(0, 0), (0, 0), *p],
                mode: mode.clone(),
            };
            wire = model.wire_node("pad", op, &[wire])?[0];
        }
        let kernel = model.add_const("kernel", Tensor::from_shape(&w_shape, &self.w)?)?;
        let bias = model.add_const("bias", Tensor::from(0f32))?;
        let op = Conv {
            pool_spec: PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![w_shape[2]],
                padding: PaddingSpec::Valid,
                dilations: Some(tvec![self.dilation]),
                strides: Some(tvec![self.stride]),
                input_channels: self.input_channels.unwrap_or_else(|| {
                    KernelFormat::OIHW
                        .input_channels(&w_shape, self.group)
                        .into_owned()
                }),
                output_channels: self.o,
            },
            kernel_fmt: KernelFormat::OIHW,
            group: self.group,
            q_params: None,
        };
        let out = model.wire_node("conv", op, &[wire, kernel, bias])?;
        model.select_output_outlets(&out)?;
        let model = model.into_optimized()?;
        let input = Tensor::from_shape(&x_shape, &self.x)?;
        let out = model.into_runnable()?.run(tvec!(input.into_tvalue()))?;
        let y = out[0].to_plain_array_view::<f32>()?;
        Ok((y.shape().to_vec(), y.iter().copied().collect()))
    }

    fn outcome(&self) -> Outcome {
        match catch_unwind(AssertUnwindSafe(|| self.run())) {
            Err(payload) => Outcome::Panic(panic_message(payload.as_ref())),
            Ok(Err(_)) => Outcome::Error,
            Ok(Ok((shape, values))) => Outcome::Values(shape, values),
        }
    }
}

/// What happened: a panic (its message), an error or the output (shape, values).
#[derive(Debug, PartialEq)]
enum Outcome {
    Panic(String),
    Error,
    Values(Vec<usize>, Vec<f32>),
}

impl Outcome {
    /// Whether this is a panic whose message contains `what`.
    fn panicked_with(&self, what: &str) -> bool {
        matches!(self, Outcome::Panic(m) if m.contains(what))
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    }
}

/// `x` after a `Pad` of `pads` in reflect mode, read back through a 1-tap kernel `[1]`.
fn reflect(x: &[f32], pads: (usize, usize)) -> Outcome {
    let mut c = Conv1d::new(x, &[1.]);
    c.pad = Some((pads, PadMode::Reflect));
    c.outcome()
}

// numpy.pad([1, 2, 3], 3, mode='reflect') = [2, 3, 2, 1, 2, 3, 2, 1, 2] (period 2(n-1) = 4:
// i = -3 -> m = 1 -> 2, i = -2 -> m = 2 -> 3, i = -1 -> m = 3 -> x[4-3] = 2, and the mirror
// on the right); a kernel [1] returns the padded row. tract's Pad (`pad.rs:56-66`) fills
// front position i from position `bef - i` of the data-and-after part [1, 2, 3, 0, 0, 0]
// before the after part is filled: i = 0 reads position 3, still the constant 0.
#[test]
fn reflect_pad_not_shorter_than_input_fills_zero() {
    let got = reflect(&[1., 2., 3.], (3, 3));
    let correct = Outcome::Values(vec![1, 1, 9], vec![2., 3., 2., 1., 2., 3., 2., 1., 2.]);
    assert_eq!(
        got,
        Outcome::Values(vec![1, 1, 9], vec![0., 3., 2., 1., 2., 3., 2., 1., 2.])
    );
    assert_ne!(got, correct);
}

// numpy.pad([1, 2, 3], (3, 0), mode='reflect') = [2, 3, 2, 1, 2, 3] (as above, front only).
// With no after part, the data-and-after part is [1, 2, 3] and front position 0 reads its
// position `bef - 0 = 3`: ndarray's slice bound check ("end <= axis_len") panics at
// `pad.rs:64` (a front pad further past it fails "start <= axis_len" there).
#[test]
fn reflect_front_pad_past_the_data_and_back_pad_panics() {
    let got = reflect(&[1., 2., 3.], (3, 0));
    let correct = Outcome::Values(vec![1, 1, 6], vec![2., 3., 2., 1., 2., 3.]);
    assert!(got.panicked_with("end <= axis_len"), "{got:?}");
    assert_ne!(got, correct);
}

// numpy.pad([1, 2, 3], (0, 3), mode='reflect') = [1, 2, 3, 2, 1, 2] (i = 3 -> 2, 4 -> 1,
// 5 -> m = 1 -> 2). tract fills after position i from `dim - aft - 2 - i` (`pad.rs:74`),
// dim = 6: 1, 0, then 6 - 3 - 2 - 2 = -1, a usize subtraction that overflows: a panic (with
// overflow checks on, as in the zoo's builds; unchecked it wraps to an index past the end).
#[test]
fn reflect_back_pad_past_the_front_pad_and_data_panics() {
    let got = reflect(&[1., 2., 3.], (0, 3));
    let correct = Outcome::Values(vec![1, 1, 6], vec![1., 2., 3., 2., 1., 2.]);
    assert!(got.panicked_with("subtract with overflow"), "{got:?}");
    assert_ne!(got, correct);
}

// Not a finding: reflect pads shorter than the input are right. numpy.pad([1, 2, 3], (2, 2),
// mode='reflect') = [3, 2, 1, 2, 3, 2, 1].
#[test]
fn reflect_pad_shorter_than_input_is_right() {
    let got = reflect(&[1., 2., 3.], (2, 2));
    assert_eq!(
        got,
        Outcome::Values(vec![1, 1, 7], vec![3., 2., 1., 2., 3., 2., 1.])
    );
}

// Not a finding: a kernel of 3 on an input of 2, no padding, has no output position, and
// tract returns an empty output (shape (1, 1, 0)) rather than an error: its policy.
#[test]
fn kernel_longer_than_input_gives_an_empty_output() {
    let got = Conv1d::new(&[1., 2.], &[1., 1., 1.]).outcome();
    assert_eq!(got, Outcome::Values(vec![1, 1, 0], vec![]));
}

// An empty input axis has no convolution (the correct result is an error, as numpy's "a
// cannot be empty"). tract's valid output length `(n + 1 - kernel_field) / stride`, saturating
// (`padding.rs:155-158`), is 0: an empty output of shape (1, 1, 0), as for a kernel larger
// than the input.
#[test]
fn empty_input_gives_an_empty_output() {
    let got = Conv1d::new(&[], &[1.]).outcome();
    assert_eq!(got, Outcome::Values(vec![1, 1, 0], vec![]));
    assert_ne!(got, Outcome::Error);
}

// An empty kernel axis has no convolution (the correct result is an error): the kernel field
// `(kernel - 1) * dilation + 1` (`padding.rs:155`) subtracts 1 from 0 and overflows, a panic
// (with overflow checks on).
#[test]
fn empty_kernel_panics() {
    let got = Conv1d::new(&[1., 2., 3., 4.], &[]).outcome();
    assert!(got.panicked_with("subtract with overflow"), "{got:?}");
}

// Stride 0 is invalid (the correct result is an error): tract-data's `divceil`,
// `(x + s - 1) / s` (`tract-data src/dim/mod.rs:59-60`), divides by it, a panic.
#[test]
fn zero_stride_panics() {
    let mut c = Conv1d::new(&[1., 2., 3.], &[1.]);
    c.stride = 0;
    let got = c.outcome();
    assert!(got.panicked_with("divide by zero"), "{got:?}");
}

// Dilation 0 is invalid (the correct result is an error). tract takes the kernel field
// (2 - 1)*0 + 1 = 1, so an output as long as the input, and reads every tap at the same
// element: kernel [1, 10] on [1, 2, 3] gives x[l]*(1 + 10) = [11, 22, 33].
#[test]
fn zero_dilation_is_computed() {
    let mut c = Conv1d::new(&[1., 2., 3.], &[1., 10.]);
    c.dilation = 0;
    let got = c.outcome();
    assert_eq!(got, Outcome::Values(vec![1, 1, 3], vec![11., 22., 33.]));
    assert_ne!(got, Outcome::Error);
}

// Not a finding: a kernel of 2 input channels on an input of 3 is an error: `input_channels`
// is the kernel's 2 * 1, and `Conv::output_facts` compares the input's 3 with it
// (`conv.rs:1138-1147`).
#[test]
fn channel_mismatch_is_an_error() {
    let mut c = Conv1d::new(&[1.; 18], &[1.; 12]);
    (c.c, c.o, c.i) = (3, 2, 2);
    assert_eq!(c.outcome(), Outcome::Error);
}

// Not a finding: groups 2 on 3 input channels (a kernel of 1 channel per group) is an error,
// the input's 3 against the kernel's 1 * 2.
#[test]
fn groups_not_dividing_input_channels_is_an_error() {
    let mut c = Conv1d::new(&[1.; 18], &[1.; 6]);
    (c.c, c.o, c.i, c.group) = (3, 2, 1, 2);
    assert_eq!(c.outcome(), Outcome::Error);
}

// Not a finding: groups 0 is an error, the input's 1 channel against the kernel's 1 * 0.
#[test]
fn zero_groups_is_an_error() {
    let mut c = Conv1d::new(&[1., 2., 3.], &[1.]);
    c.group = 0;
    assert_eq!(c.outcome(), Outcome::Error);
}

// `PoolSpec::input_channels` set to the input's 3 channels with a kernel of 2 (what a caller
// of `Conv` may write; tract's front ends fill the kernel's count instead): the correct
// result is an error, the op and its kernel disagree. `Conv::output_facts` checks the input
// against the field only, never the field against the kernel (`Deconv` does,
// `deconv.rs:222-227`), and the convolution runs on the kernel's 2 channels, ignoring the
// third: x[c] = 1..6, 7..12, 13..18, w[0] = [[1, 2, 3], [4, 5, 6]], w[1] = [[7, 8, 9],
// [10, 11, 12]], y[o][l] = sum over c < 2, k < 3 of w[o][c][k] * x[c][l + k]:
//   y[0][0] = 1*1 + 2*2 + 3*3 + 4*7 + 5*8 + 6*9 = 136, then + 21 per step (the sum of w[0]);
//   y[1][0] = 7*1 + 8*2 + 9*3 + 10*7 + 11*8 + 12*9 = 316, then + 57 per step.
#[test]
fn input_channels_disagreeing_with_the_kernel_is_computed() {
    let x: Vec<f32> = (1..=18).map(|v| v as f32).collect();
    let w: Vec<f32> = (1..=12).map(|v| v as f32).collect();
    let mut c = Conv1d::new(&x, &w);
    (c.c, c.o, c.i) = (3, 2, 2);
    c.input_channels = Some(3);
    let got = c.outcome();
    assert_eq!(
        got,
        Outcome::Values(
            vec![1, 2, 4],
            vec![136., 157., 178., 199., 316., 373., 430., 487.]
        )
    );
    assert_ne!(got, Outcome::Error);
}

// The same with groups 0 and `input_channels` the input's 1 (the kernel's count is 1 * 0):
// `Conv`'s codegen divides by the group (`conv.rs:1588`), a panic in `into_optimized`
// instead of an error.
#[test]
fn zero_groups_with_the_input_channels_panics() {
    let mut c = Conv1d::new(&[1., 2., 3.], &[1.]);
    c.group = 0;
    c.input_channels = Some(1);
    let got = c.outcome();
    assert!(got.panicked_with("divide by zero"), "{got:?}");
}
