//! ndarray-conv 0.6.1 findings, reproduced on the crate's own API (no conv-oracle). Each test
//! asserts what the crate returns today and that it differs from the correct value, so it fails
//! the day upstream fixes the bug: then update the zoo's table.
//!
//! A kernel `[1]` makes the output the padded input itself, so each test reads the padding.

use ndarray::{Array1, array};
use ndarray_conv::{ConvExt, ConvFFTExt, ConvMode, PaddingMode, ReverseKernel, WithDilation};
use std::panic::catch_unwind;

fn custom(pad: usize) -> ConvMode<1> {
    ConvMode::Custom {
        padding: [pad],
        strides: [1],
    }
}

/// Rounds the FFT's float noise away (all the values here are small integers).
fn rounded(a: Array1<f32>) -> Vec<f32> {
    a.iter().map(|v| v.round()).collect()
}

// numpy.pad([1, 2, 3], 3, mode='reflect'): reflect has period 2(n-1) = 4, and position i reads
// x[m] with m = i mod 4, or x[4 - m] when m >= 3:
//   i = -3: m = 1 -> 2;  i = -2: m = 2 -> 3;  i = -1: m = 3 -> x[1] = 2
//   i = 3: m = 3 -> 2;   i = 4: m = 0 -> 1;   i = 5: m = 1 -> 2
// so [2, 3, 2, 1, 2, 3, 2, 1, 2].
const REFLECT_3: [f32; 9] = [2., 3., 2., 1., 2., 3., 2., 1., 2.];

#[test]
fn reflect_pad_not_shorter_than_input_fills_zero_conv() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let got = x
        .conv(&k, custom(3), PaddingMode::Reflect)
        .unwrap()
        .to_vec();
    assert_eq!(got, [0., 3., 2., 1., 2., 3., 2., 1., 2.]);
    assert_ne!(got, REFLECT_3);
}

#[test]
fn reflect_pad_not_shorter_than_input_fills_zero_conv_fft() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let got = rounded(x.conv_fft(&k, custom(3), PaddingMode::Reflect).unwrap());
    assert_eq!(got, [0., 3., 2., 1., 2., 3., 2., 1., 2.]);
    assert_ne!(got, REFLECT_3);
}

// numpy.pad([1, 2, 3], 4, mode='wrap'): position i reads x[i mod 3]:
//   i = -4..-1: -4 mod 3 = 2, -3 -> 0, -2 -> 1, -1 -> 2: [3, 1, 2, 3]
//   i = 3..6: 0, 1, 2, 0: [1, 2, 3, 1]
// so [3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1]. The crate fills the front from the padded buffer at
// n + j (n + 0 = 3 is the front pad itself, still 0): only the first position is wrong; the
// back reads forward from the data and comes out right.
const CIRCULAR_4: [f32; 11] = [3., 1., 2., 3., 1., 2., 3., 1., 2., 3., 1.];

#[test]
fn circular_pad_longer_than_input_fills_zero_conv() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let got = x
        .conv(&k, custom(4), PaddingMode::Circular)
        .unwrap()
        .to_vec();
    assert_eq!(got, [0., 1., 2., 3., 1., 2., 3., 1., 2., 3., 1.]);
    assert_ne!(got, CIRCULAR_4);
}

#[test]
fn circular_pad_longer_than_input_fills_zero_conv_fft() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let got = rounded(x.conv_fft(&k, custom(4), PaddingMode::Circular).unwrap());
    assert_eq!(got, [0., 1., 2., 3., 1., 2., 3., 1., 2., 3., 1.]);
    assert_ne!(got, CIRCULAR_4);
}

// A front reflect pad of 5 and no back pad on [1, 2, 3]: the crate reads the padded buffer
// (length 3 + 5 = 8) at 2*5 - j = 10 for j = 0, past its end. numpy.pad([1, 2, 3], (5, 0),
// mode='reflect') is [2, 1, 2, 3, 2, 1, 2, 3] (i = -5: m = -5 mod 4 = 3 -> x[1] = 2; then
// period 4 from i = -4: 1, 2, 3, 2; then the input).
#[test]
fn asymmetric_reflect_pad_panics() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let mode = ConvMode::Explicit {
        padding: [[5, 0]],
        strides: [1],
    };
    let r = catch_unwind(|| x.conv(&k, mode, PaddingMode::Reflect).map(|a| a.to_vec()));
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// Stride 0 is invalid; the crate divides by it in the output shape instead of returning its
// error type (the correct value is an `Err`).
#[test]
fn zero_stride_panics() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let mode = ConvMode::Custom {
        padding: [0],
        strides: [0],
    };
    let r = catch_unwind(|| x.conv(&k, mode, PaddingMode::Zeros).map(|a| a.to_vec()));
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// The same in `conv_fft`, which gets past the output shape and panics when it slices the
// result with step 0 (ndarray's `step != 0` assertion).
#[test]
fn zero_stride_panics_conv_fft() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32];
    let mode = ConvMode::Custom {
        padding: [0],
        strides: [0],
    };
    let r = catch_unwind(|| x.conv_fft(&k, mode, PaddingMode::Zeros).map(|a| a.to_vec()));
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// Dilation 0 is invalid (the correct value is an `Err`). `conv_fft` takes the dilated extent
// `k*0 - 0 + 1 = 1`, as `conv` does, then builds the padded kernel with a zero step and panics
// (ndarray's `step != 0` assertion).
#[test]
fn zero_dilation_panics_conv_fft() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32, 10.];
    let r = catch_unwind(|| {
        x.conv_fft(
            k.with_dilation([0]).no_reverse(),
            ConvMode::Valid,
            PaddingMode::Zeros,
        )
        .map(|a| a.to_vec())
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// Not a finding: a kernel longer than the input is an error, not a panic.
#[test]
fn kernel_longer_than_input_is_an_error() {
    let x = array![1f32, 2.];
    let k = array![1f32, 1., 1.];
    assert!(x.conv(&k, ConvMode::Valid, PaddingMode::Zeros).is_err());
    assert!(x.conv_fft(&k, ConvMode::Valid, PaddingMode::Zeros).is_err());
}

// Dilation 0 is invalid; the crate takes the dilated extent `k*0 - 0 + 1 = 1` and reads every
// tap at the same element: kernel [1, 10] on [1, 2, 3] gives x[i] * (1 + 10) = [11, 22, 33]
// instead of an error.
#[test]
fn zero_dilation_is_computed() {
    let x = array![1f32, 2., 3.];
    let k = array![1f32, 10.];
    let got = x
        .conv(
            k.with_dilation([0]).no_reverse(),
            ConvMode::Valid,
            PaddingMode::Zeros,
        )
        .map(|a| a.to_vec());
    assert_eq!(got.ok(), Some(vec![11f32, 22., 33.]));
}
