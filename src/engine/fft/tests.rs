//! Unit tests: the transform lengths, and a small case computed by hand (integers and floats).

use super::transforms::axis_len;
use super::*;
use crate::problem::{Boundary, ConvSpec, Flip, Padding};
use ndarray::array;

#[test]
fn fast_lengths() {
    let got: Vec<usize> = (1..=20).map(fast_len).collect();
    assert_eq!(
        got,
        [
            1, 2, 3, 4, 6, 6, 8, 8, 9, 12, 12, 12, 16, 16, 16, 16, 18, 18, 24, 24
        ]
    );
    assert_eq!(axis_len(5, true), Some(6));
    assert_eq!(axis_len(1, true), Some(2));
    assert_eq!(axis_len(usize::MAX - 1, true), None);
    assert_eq!(axis_len(usize::MAX, false), None);
    assert_eq!(fast_len(1 << 20), 1 << 20);
}

#[test]
fn hand_computed() {
    // Same case as the reference's hand test.
    let engine = FftEngine::new();
    let x = array![[[1i64, 2, 3, 4]]].into_dyn();
    let w = array![[[1i64, 10, 100]]].into_dyn();
    let (y, path) = engine
        .conv_with_path(&Problem::new(x.view(), w.view()))
        .unwrap();
    assert_eq!(y.into_raw_vec_and_offset().0, vec![321, 432]);
    assert!(matches!(path, FftPath::Fft { .. }));
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(1, 1)]))
        .boundary(Boundary::Reflect)
        .stride([2]);
    let y = engine
        .conv(&Problem::new(x.view(), w.view()).spec(spec))
        .unwrap();
    assert_eq!(y.into_raw_vec_and_offset().0, vec![212, 432]);
    let xf = x.mapv(|v| v as f64);
    let wf = w.mapv(|v| v as f64);
    let spec = ConvSpec::new()
        .flip(Flip::Convolution)
        .padding(Padding::Full);
    let y = engine
        .conv(&Problem::new(xf.view(), wf.view()).spec(spec))
        .unwrap();
    let want = [1.0, 12.0, 123.0, 234.0, 340.0, 400.0];
    for (a, b) in y.iter().zip(want) {
        assert!((a - b).abs() < 1e-12, "{y:?}");
    }
}
