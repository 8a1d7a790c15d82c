//! candle-core 0.11.1 findings, reproduced on the crate's own API (no conv-oracle). Each test
//! asserts what the crate returns today and that it differs from the correct value, so it fails
//! the day upstream fixes the bug: then update the zoo's table.

use candle_core::{Device, Tensor};
use std::panic::catch_unwind;

fn t3(v: &[f32], shape: (usize, usize, usize)) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape, &Device::Cpu).unwrap()
}

// x = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] (N = 2, C_in = 2, L = 2), w = [[[1]], [[10]]]
// (C_in = 2, C_out = 1, K = 1), stride 1, no padding: the transposed convolution with a 1-tap
// kernel is y[n, 0, l] = 1*x[n, 0, l] + 10*x[n, 1, l]:
//   n = 0: [1 + 10*3, 2 + 10*4] = [31, 42]
//   n = 1: [5 + 10*7, 6 + 10*8] = [75, 86]
// The col2im path (padding 0, dilation 1, output_padding 0) reads sample 1 at offset
// n*L = 2 of the flat input [1, 2, 3, 4, 5, 6, 7, 8] instead of n*C*L = 4: channels [3, 4] and
// [5, 6], so [3 + 50, 4 + 60] = [53, 64].
#[test]
fn conv_transpose1d_batch_reads_sample_at_n_times_l() {
    let x = t3(&[1., 2., 3., 4., 5., 6., 7., 8.], (2, 2, 2));
    let w = t3(&[1., 10.], (2, 1, 1));
    let y = x.conv_transpose1d(&w, 0, 0, 1, 1, 1).unwrap();
    let got = y.to_vec3::<f32>().unwrap();
    let correct = vec![vec![vec![31f32, 42.]], vec![vec![75., 86.]]];
    assert_eq!(got, vec![vec![vec![31f32, 42.]], vec![vec![53., 64.]]]);
    assert_ne!(got, correct);
}

// groups = 2 must divide C_out = 3; it does not (3 = 2*1 + 1), so the correct result is an
// error (PyTorch: "out_channels must be divisible by groups"). candle checks only
// C_in == C_in_k * groups (2 == 1*2) and splits the kernel with chunk(2, 0) into 2 and 1
// filters: it returns 2 output channels.
#[test]
fn conv1d_groups_not_dividing_output_channels_is_not_an_error() {
    let x = t3(&[1., 2., 3., 4., 5., 6.], (1, 2, 3));
    let w = t3(&[1., 2., 3.], (3, 1, 1));
    let y = x.conv1d(&w, 0, 1, 1, 2);
    let y = y.expect("candle returns an output (the correct result is an error)");
    assert_eq!(y.dims(), &[1, 2, 3]);
    assert_ne!(y.dims(), &[1, 3, 3]);
}

// Stride 0 is invalid (the correct result is an error): candle divides by it in l_out.
#[test]
fn conv1d_zero_stride_panics() {
    let r = catch_unwind(|| {
        let x = t3(&[1., 2., 3.], (1, 1, 3));
        let w = t3(&[1.], (1, 1, 1));
        x.conv1d(&w, 0, 0, 1, 1).map(|y| y.dims().to_vec())
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// A kernel of 3 on an input of 2 without padding has no output position (the correct result
// is an error, or an empty output): 2 + 0 - 1*(3 - 1) - 1 underflows usize in l_out.
#[test]
fn conv1d_kernel_longer_than_input_panics() {
    let r = catch_unwind(|| {
        let x = t3(&[1., 2.], (1, 1, 2));
        let w = t3(&[1., 1., 1.], (1, 1, 3));
        x.conv1d(&w, 0, 1, 1, 1).map(|y| y.dims().to_vec())
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// The same in 2-D.
#[test]
fn conv2d_kernel_larger_than_input_panics() {
    let r = catch_unwind(|| {
        let x = Tensor::from_vec(vec![1f32; 4], (1, 1, 2, 2), &Device::Cpu).unwrap();
        let w = Tensor::from_vec(vec![1f32; 9], (1, 1, 3, 3), &Device::Cpu).unwrap();
        x.conv2d(&w, 0, 1, 1, 1).map(|y| y.dims().to_vec())
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// Not a finding: groups = 0 is an error (C_in = 1 != C_in_k * 0).
#[test]
fn conv1d_zero_groups_is_an_error() {
    let x = t3(&[1., 2., 3.], (1, 1, 3));
    let w = t3(&[1.], (1, 1, 1));
    assert!(x.conv1d(&w, 0, 1, 1, 0).is_err());
}

// Dilation 0 is invalid (the correct result is an error). candle takes the dilated extent
// 0*(2 - 1) + 1 = 1 and reads every tap at the same element: kernel [1, 10] on [1, 2, 3]
// gives x[l]*(1 + 10) = [11, 22, 33].
#[test]
fn conv1d_zero_dilation_is_computed() {
    let x = t3(&[1., 2., 3.], (1, 1, 3));
    let w = t3(&[1., 10.], (1, 1, 2));
    let y = x.conv1d(&w, 0, 1, 0, 1).expect("candle computes it");
    assert_eq!(
        y.to_vec3::<f32>().unwrap(),
        vec![vec![vec![11f32, 22., 33.]]]
    );
}

// An empty input (length 0) or an empty kernel has no convolution (the correct result is an
// error, as numpy's "a cannot be empty"): candle panics.
#[test]
fn conv1d_empty_input_or_kernel_panics() {
    for (xl, wl) in [(0usize, 1usize), (3, 0)] {
        let r = catch_unwind(|| {
            let x = Tensor::zeros((1, 1, xl), candle_core::DType::F32, &Device::Cpu).unwrap();
            let w = Tensor::zeros((1, 1, wl), candle_core::DType::F32, &Device::Cpu).unwrap();
            x.conv1d(&w, 0, 1, 1, 1).map(|y| y.dims().to_vec())
        });
        assert!(
            r.is_err(),
            "input {xl}, kernel {wl}: expected a panic, got {r:?}"
        );
    }
}

// conv_transpose1d's output length is computed in usize left to right,
// (l_in - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1 (src/conv.rs:45-50),
// so it underflows whenever 2*padding > (l_in - 1)*stride, even when the output is not
// empty. x = [1, 2], w = [1, 10], stride 1, padding 1: the scatter is
//   x[0]*w at 0, 1: [1, 10]; x[1]*w at 1, 2: [2, 20]; sum [1, 12, 20]
// and padding 1 removes one element at each end: [12] (PyTorch's length
// (2 - 1)*1 - 2*1 + 1*(2 - 1) + 0 + 1 = 1). candle computes 1 - 2 first: a panic.
#[test]
fn conv_transpose1d_padding_above_the_strided_input_panics() {
    let r = catch_unwind(|| {
        let x = t3(&[1., 2.], (1, 1, 2));
        let w = t3(&[1., 10.], (1, 1, 2));
        x.conv_transpose1d(&w, 1, 0, 1, 1, 1)
            .map(|y| y.to_vec3::<f32>().unwrap())
    });
    assert!(
        r.is_err(),
        "expected a panic, got {r:?} (correct: [[[12]]])"
    );
}

// The same on one input element: x = [1], w = [1, 10, 100], padding 1 gives [1, 10, 100]
// less one element at each end, [10]; candle computes 0*1 - 2 first.
#[test]
fn conv_transpose1d_padding_on_one_element_panics() {
    let r = catch_unwind(|| {
        let x = t3(&[1.], (1, 1, 1));
        let w = t3(&[1., 10., 100.], (1, 1, 3));
        x.conv_transpose1d(&w, 1, 0, 1, 1, 1)
            .map(|y| y.to_vec3::<f32>().unwrap())
    });
    assert!(
        r.is_err(),
        "expected a panic, got {r:?} (correct: [[[10]]])"
    );
}

// Not a finding: conv_transpose2d subtracts the pads last (src/conv.rs:116-124). x = [[2]]
// (1x1), w = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], padding 1: the scatter is 2*w (3x3), and
// padding 1 removes the outer ring, leaving [[2*5]] = [[10]], which candle computes.
#[test]
fn conv_transpose2d_padding_on_one_element_is_right() {
    let x = Tensor::from_vec(vec![2f32], (1, 1, 1, 1), &Device::Cpu).unwrap();
    let w = Tensor::from_vec(
        (1..=9).map(|v| v as f32).collect::<Vec<_>>(),
        (1, 1, 3, 3),
        &Device::Cpu,
    )
    .unwrap();
    let y = x.conv_transpose2d(&w, 1, 0, 1, 1).unwrap();
    assert_eq!(y.dims(), &[1, 1, 1, 1]);
    assert_eq!(
        y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        vec![10f32]
    );
}

// Groups 0 is invalid (the correct result is an error): conv_transpose1d computes
// c_in % groups (src/conv.rs:245) before anything checks groups, a division by zero.
#[test]
fn conv_transpose1d_zero_groups_panics() {
    let r = catch_unwind(|| {
        let x = t3(&[1., 2., 3., 4.], (1, 2, 2));
        let w = t3(&[1., 10.], (2, 1, 1));
        x.conv_transpose1d(&w, 0, 0, 1, 1, 0)
            .map(|y| y.dims().to_vec())
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// Stride 0 is invalid (the correct result is an error). candle places every input element at
// the same position: x = [1, 2], w = [1, 10] give y[k] = (1 + 2)*w[k] = [3, 30].
#[test]
fn conv_transpose1d_zero_stride_is_computed() {
    let x = t3(&[1., 2.], (1, 1, 2));
    let w = t3(&[1., 10.], (1, 1, 2));
    let y = x
        .conv_transpose1d(&w, 0, 0, 0, 1, 1)
        .expect("candle computes it");
    assert_eq!(y.to_vec3::<f32>().unwrap(), vec![vec![vec![3f32, 30.]]]);
}

// Dilation 0 is invalid (the correct result is an error). candle places every tap at the same
// position: x = [1, 2], w = [1, 10] give y[l] = x[l]*(1 + 10) = [11, 22].
#[test]
fn conv_transpose1d_zero_dilation_is_computed() {
    let x = t3(&[1., 2.], (1, 1, 2));
    let w = t3(&[1., 10.], (1, 1, 2));
    let y = x
        .conv_transpose1d(&w, 0, 0, 1, 0, 1)
        .expect("candle computes it");
    assert_eq!(y.to_vec3::<f32>().unwrap(), vec![vec![vec![11f32, 22.]]]);
}

// Pads that leave no output are invalid (the correct result is an error): x = [1, 2],
// w = [1, 10] scatter to 3 elements, and padding 2 removes 4. candle's (2 - 1)*1 - 2*2
// underflows: a panic.
#[test]
fn conv_transpose1d_pads_leaving_no_output_panic() {
    let r = catch_unwind(|| {
        let x = t3(&[1., 2.], (1, 1, 2));
        let w = t3(&[1., 10.], (1, 1, 2));
        x.conv_transpose1d(&w, 2, 0, 1, 1, 1)
            .map(|y| y.dims().to_vec())
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// An empty input (length 0) or an empty kernel has no transposed convolution (the correct
// result is an error): candle's l_in - 1 (Col2Im1D, src/cpu_backend/mod.rs:1225) or k - 1
// (src/conv.rs:47) underflows, a panic.
#[test]
fn conv_transpose1d_empty_input_or_kernel_panics() {
    for (xl, wl) in [(0usize, 2usize), (3, 0)] {
        let r = catch_unwind(|| {
            let x = Tensor::zeros((1, 1, xl), candle_core::DType::F32, &Device::Cpu).unwrap();
            let w = Tensor::zeros((1, 1, wl), candle_core::DType::F32, &Device::Cpu).unwrap();
            x.conv_transpose1d(&w, 0, 0, 1, 1, 1)
                .map(|y| y.dims().to_vec())
        });
        assert!(
            r.is_err(),
            "input {xl}, kernel {wl}: expected a panic, got {r:?}"
        );
    }
}
