//! convolutions-rs 0.3.4 findings, reproduced on the crate's own API (no conv-oracle). Each
//! test asserts what the crate returns today and, where it is wrong, that it differs from the
//! correct value, so it fails the day upstream fixes the bug: then update the zoo's table.

use convolutions_rs::Padding;
use convolutions_rs::convolutions::conv2d;
use ndarray015::{Array, Array3, Array4, array};
use std::panic::catch_unwind;

// Two 1x1 filters, 1 and 10, on a 2x3 image x = [[1, 2, 3], [4, 5, 6]]: output channel f is
// x times the filter, of shape (2, 3) (H = 2, W = 3), so
//   y[0] = [[1, 2, 3], [4, 5, 6]],  y[1] = [[10, 20, 30], [40, 50, 60]].
// With two or more filters the product im_col . filter^T comes out column-major, and ndarray
// 0.15's `into_shape((H', W', F))` reshapes it in that order: the H'*W' output positions are
// read column-major, y[f][i][j] = correct[f].flat[i + j*H']. On a square image that is H and W
// swapped; here y[0] = [[1, 3, 5], [2, 4, 6]]. One filter gives the right order.
#[test]
fn two_filters_output_positions_in_column_major_order() {
    let x: Array3<f32> = array![[[1., 2., 3.], [4., 5., 6.]]];
    let k: Array4<f32> = Array::from_shape_vec((2, 1, 1, 1), vec![1., 10.]).unwrap();
    let y = conv2d(&k, None, &x, Padding::Valid, 1);
    assert_eq!(y.shape(), &[2, 2, 3]);
    let correct = array![
        [[1f32, 2., 3.], [4., 5., 6.]],
        [[10., 20., 30.], [40., 50., 60.]]
    ];
    let got = array![
        [[1f32, 3., 5.], [2., 4., 6.]],
        [[10., 30., 50.], [20., 40., 60.]]
    ];
    assert_eq!(y, got);
    assert_ne!(y, correct);
}

// The same 2x3 image with the one filter 10: right.
#[test]
fn one_filter_output_is_right() {
    let x: Array3<f32> = array![[[1., 2., 3.], [4., 5., 6.]]];
    let k: Array4<f32> = Array::from_shape_vec((1, 1, 1, 1), vec![10.]).unwrap();
    let y = conv2d(&k, None, &x, Padding::Valid, 1);
    assert_eq!(y, array![[[10f32, 20., 30.], [40., 50., 60.]]]);
}

// A square 2x2 image and two filters: exactly H and W swapped, y[f] = correct[f]^T.
#[test]
fn two_filters_on_a_square_image_transpose_each_channel() {
    let x: Array3<f32> = array![[[1., 2.], [3., 4.]]];
    let k: Array4<f32> = Array::from_shape_vec((2, 1, 1, 1), vec![1., 10.]).unwrap();
    let y = conv2d(&k, None, &x, Padding::Valid, 1);
    let correct = array![[[1f32, 2.], [3., 4.]], [[10., 20.], [30., 40.]]];
    assert_eq!(y, array![[[1f32, 3.], [2., 4.]], [[10., 30.], [20., 40.]]]);
    assert_ne!(y, correct);
}

// Padding::Same on a width-4 row with a width-2 kernel [1, 10] and stride 1: the total pad is
// max((ceil(4/1) - 1)*1 + 2 - 4, 0) = 1.
//   TensorFlow SAME (ONNX SAME_UPPER), the pad last: [1, 2, 3, 4, 0] ->
//     [1 + 20, 2 + 30, 3 + 40, 4 + 0] = [21, 32, 43, 4]
//   what the crate does (ONNX SAME_LOWER), the pad first: [0, 1, 2, 3, 4] ->
//     [0 + 10, 1 + 20, 2 + 30, 3 + 40] = [10, 21, 32, 43]
// The crate's comment cites TensorFlow's SAME, so the correct value is [21, 32, 43, 4].
#[test]
fn same_padding_puts_the_extra_pad_first() {
    let x: Array3<f32> = array![[[1., 2., 3., 4.]]];
    let k: Array4<f32> = Array::from_shape_vec((1, 1, 1, 2), vec![1., 10.]).unwrap();
    let y = conv2d(&k, None, &x, Padding::Same, 1);
    let got: Vec<f32> = y.iter().copied().collect();
    assert_eq!(got, [10., 21., 32., 43.]);
    assert_ne!(got, [21., 32., 43., 4.]);
}

// Padding::Same with stride 2 and a 1-wide kernel on a width-4 row: TensorFlow's total pad is
// max(k - s, 0) = max(1 - 2, 0) = 0, output ceil(4/2) = 2: [x0, x2] = [1, 3]. The crate
// computes k - s in usize before the max: it underflows (a panic with overflow checks).
#[test]
fn same_padding_with_stride_above_kernel_panics() {
    let r = catch_unwind(|| {
        let x: Array3<f32> = array![[[1., 2., 3., 4.]]];
        let k: Array4<f32> = Array::from_shape_vec((1, 1, 1, 1), vec![1.]).unwrap();
        conv2d(&k, None, &x, Padding::Same, 2)
    });
    assert!(
        r.is_err(),
        "expected a panic (correct: [[[1, 3]]]), got {r:?}"
    );
}

// A 3x3 kernel on a 2x2 image, Valid: no output position (the correct result is an error or
// an empty output); (im_height - kernel_height) underflows usize.
#[test]
fn kernel_larger_than_input_panics() {
    let r = catch_unwind(|| {
        let x: Array3<f32> = Array::ones((1, 2, 2));
        let k: Array4<f32> = Array::ones((1, 1, 3, 3));
        conv2d(&k, None, &x, Padding::Valid, 1)
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}

// Stride 0 is invalid (the correct result is an error); the free function does not check it
// and divides by it.
#[test]
fn zero_stride_panics() {
    let r = catch_unwind(|| {
        let x: Array3<f32> = Array::ones((1, 3, 3));
        let k: Array4<f32> = Array::ones((1, 1, 2, 2));
        conv2d(&k, None, &x, Padding::Valid, 0)
    });
    assert!(r.is_err(), "expected a panic, got {r:?}");
}
