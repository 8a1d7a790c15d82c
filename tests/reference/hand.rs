//! Hand-computed cases. Each comment shows the arithmetic; digits of the weights are powers of
//! ten where possible, so every output spells out which input each tap read.
//!
//! Notation: `xb` is the input extended by the boundary mode; correlation reads
//! `y[p] = sum_k w[k] * xb[p*s + k*d - lo]`, convolution reverses `w` on every spatial axis.

use conv_oracle::{Boundary, ConvSpec, Flip, Padding, Problem, Ring, conv};
use ndarray::{ArrayD, IxDyn, array};
use num_bigint::BigInt;
use num_complex::Complex;
use num_rational::BigRational;

fn run<T: Ring>(x: ArrayD<T>, w: ArrayD<T>, spec: ConvSpec<T>) -> ArrayD<T> {
    conv(&Problem::new(x.view(), w.view()).spec(spec)).expect("hand case is valid")
}

fn run_bias<T: Ring>(x: ArrayD<T>, w: ArrayD<T>, bias: Vec<T>, spec: ConvSpec<T>) -> ArrayD<T> {
    let bias = ndarray::Array1::from(bias);
    conv(
        &Problem::new(x.view(), w.view())
            .bias(bias.view())
            .spec(spec),
    )
    .expect("hand case is valid")
}

/// A `(1, 1, len)` input or weight.
fn row(v: &[i64]) -> ArrayD<i64> {
    ArrayD::from_shape_vec(IxDyn(&[1, 1, v.len()]), v.to_vec()).unwrap()
}

/// The 1-D output of a single-channel case, as a plain vector.
fn flat<T: Clone>(y: ArrayD<T>) -> Vec<T> {
    y.iter().cloned().collect()
}

fn one_to_eight() -> ArrayD<i64> {
    row(&[1, 2, 3, 4, 5, 6, 7, 8])
}

#[test]
fn one_d_stride_and_dilation() {
    let w = row(&[1, 10, 100]);
    // x = 1..8, s = 2, d = 2, valid: taps at p*2 + {0, 2, 4}; windows fit while the last tap
    // p*2 + 4 <= 7, so p = 0, 1.
    //   y[0] = 1*x[0] + 10*x[2] + 100*x[4] = 1 + 30 + 500 = 531
    //   y[1] = 1*x[2] + 10*x[4] + 100*x[6] = 3 + 50 + 700 = 753
    let spec = ConvSpec::new().stride([2]).dilation([2]);
    assert_eq!(flat(run(one_to_eight(), w.clone(), spec)), [531, 753]);

    // docs/semantics.md section 2: n = 8, pads (1, 2), d = 2, s = 3 gives 3 outputs.
    // xb = [0 1 2 3 4 5 6 7 8 0 0] (11 long); taps at p*3 + {0, 2, 4}:
    //   y[0] = xb[0] + 10*xb[2] + 100*xb[4]  = 0 + 20 + 400 = 420
    //   y[1] = xb[3] + 10*xb[5] + 100*xb[7]  = 3 + 50 + 700 = 753
    //   y[2] = xb[6] + 10*xb[8] + 100*xb[10] = 6 + 80 + 0   = 86
    // (p = 3 would need xb[13]: does not fit.)
    let spec = ConvSpec::new()
        .stride([3])
        .dilation([2])
        .padding(Padding::Explicit(vec![(1, 2)]));
    assert_eq!(flat(run(one_to_eight(), w.clone(), spec)), [420, 753, 86]);

    // True convolution reverses the taps, not the positions: w' = [100 10 1], s = d = 2.
    //   y[0] = 100*x[0] + 10*x[2] + x[4] = 100 + 30 + 5 = 135
    //   y[1] = 100*x[2] + 10*x[4] + x[6] = 300 + 50 + 7 = 357
    let spec = ConvSpec::new()
        .stride([2])
        .dilation([2])
        .flip(Flip::Convolution);
    assert_eq!(flat(run(one_to_eight(), w, spec)), [135, 357]);
}

#[test]
fn same_upper_and_lower_match_onnxruntime() {
    // docs/semantics.md section 2, measured on onnxruntime. n = 8, k = 3, s = 2:
    // out = ceil(8/2) = 4, P = (4-1)*2 + 3 - 8 = 1.
    // SAME_UPPER (0, 1): xb = [1 2 3 4 5 6 7 8 0], taps at 2p + {0,1,2}:
    //   1+20+300 = 321, 3+40+500 = 543, 5+60+700 = 765, 7+80+0 = 87
    // SAME_LOWER (1, 0): xb = [0 1 2 3 4 5 6 7 8]:
    //   0+10+200 = 210, 2+30+400 = 432, 4+50+600 = 654, 6+70+800 = 876
    let w = row(&[1, 10, 100]);
    let spec = |p| ConvSpec::new().stride([2]).padding(p);
    assert_eq!(
        flat(run(one_to_eight(), w.clone(), spec(Padding::SameUpper))),
        [321, 543, 765, 87]
    );
    assert_eq!(
        flat(run(one_to_eight(), w, spec(Padding::SameLower))),
        [210, 432, 654, 876]
    );
}

#[test]
fn torch_same_full_and_valid() {
    // PyTorch 'same', k = 4, d = 1: P = 3, (lo, hi) = (1, 2). x = [1 2 3], w = [1 10 100 1000]:
    // xb = [0 1 2 3 0 0]:
    //   y[0] = 0 + 10*1 + 100*2 + 1000*3 = 3210
    //   y[1] = 1 + 10*2 + 100*3 + 0       = 321
    //   y[2] = 2 + 10*3 + 0 + 0           = 32
    let x = row(&[1, 2, 3]);
    let w = row(&[1, 10, 100, 1000]);
    let spec = ConvSpec::new().padding(Padding::TorchSame);
    assert_eq!(flat(run(x.clone(), w.clone(), spec)), [3210, 321, 32]);
    // Full: (3, 3), xb = [0 0 0 1 2 3 0 0 0], n + k - 1 = 6 outputs:
    //   1000*1 = 1000; 100*1 + 1000*2 = 2100; 10 + 200 + 3000 = 3210; 1 + 20 + 300 = 321;
    //   2 + 30 = 32; 3
    let spec = ConvSpec::new().padding(Padding::Full);
    assert_eq!(
        flat(run(x.clone(), w.clone(), spec)),
        [1000, 2100, 3210, 321, 32, 3]
    );
    // Valid with k = 3 <= n = 3: one output, 1 + 20 + 300 = 321.
    let spec = ConvSpec::new().padding(Padding::Valid);
    assert_eq!(flat(run(x, row(&[1, 10, 100]), spec)), [321]);
}

/// x = [[1 2 3], [4 5 6]] with pads rows (1, 0), columns (2, 1), through a 1x1 kernel of 1:
/// the output is the padded grid itself.
fn padded_grid(boundary: Boundary<i64>) -> ArrayD<i64> {
    let x = array![[[[1i64, 2, 3], [4, 5, 6]]]].into_dyn();
    let w = array![[[[1i64]]]].into_dyn();
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(1, 0), (2, 1)]))
        .boundary(boundary);
    run(x, w, spec)
}

#[test]
fn two_d_asymmetric_pads_every_boundary_mode() {
    // Row index -1 and column indices -2, -1, 3 map to (n_rows = 2, n_cols = 3):
    //   zeros/constant: the constant
    //   reflect:   row -1 -> 1;  cols -2 -> 2, -1 -> 1, 3 -> 1
    //   symmetric: row -1 -> 0;  cols -2 -> 1, -1 -> 0, 3 -> 2
    //   replicate: row -1 -> 0;  cols -2 -> 0, -1 -> 0, 3 -> 2
    //   circular:  row -1 -> 1;  cols -2 -> 1, -1 -> 2, 3 -> 0
    let cases: [(Boundary<i64>, [[i64; 6]; 3]); 6] = [
        (
            Boundary::Zeros,
            [[0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 3, 0], [0, 0, 4, 5, 6, 0]],
        ),
        (
            Boundary::Constant(7),
            [[7, 7, 7, 7, 7, 7], [7, 7, 1, 2, 3, 7], [7, 7, 4, 5, 6, 7]],
        ),
        (
            Boundary::Reflect,
            [[6, 5, 4, 5, 6, 5], [3, 2, 1, 2, 3, 2], [6, 5, 4, 5, 6, 5]],
        ),
        (
            Boundary::Symmetric,
            [[2, 1, 1, 2, 3, 3], [2, 1, 1, 2, 3, 3], [5, 4, 4, 5, 6, 6]],
        ),
        (
            Boundary::Replicate,
            [[1, 1, 1, 2, 3, 3], [1, 1, 1, 2, 3, 3], [4, 4, 4, 5, 6, 6]],
        ),
        (
            Boundary::Circular,
            [[5, 6, 4, 5, 6, 4], [2, 3, 1, 2, 3, 1], [5, 6, 4, 5, 6, 4]],
        ),
    ];
    for (boundary, want) in cases {
        let want: Vec<i64> = want.iter().flatten().copied().collect();
        let got = padded_grid(boundary.clone());
        assert_eq!(got.shape(), [1, 1, 3, 6], "{boundary:?}");
        assert_eq!(flat(got), want, "{boundary:?}");
    }

    // A real kernel over the replicate grid P = [[1 1 1 2 3 3], [1 1 1 2 3 3], [4 4 4 5 6 6]],
    // w = [[1 10], [100 1000]], stride (1, 2): rows 3 - 2 + 1 = 2, column starts 0, 2, 4.
    //   y[i][j] = P[i][2j] + 10 P[i][2j+1] + 100 P[i+1][2j] + 1000 P[i+1][2j+1]
    //   y[0] = [1+10+100+1000, 1+20+100+2000, 3+30+300+3000] = [1111, 2121, 3333]
    //   y[1] = [1+10+400+4000, 1+20+400+5000, 3+30+600+6000] = [4411, 5421, 6633]
    let x = array![[[[1i64, 2, 3], [4, 5, 6]]]].into_dyn();
    let w = array![[[[1i64, 10], [100, 1000]]]].into_dyn();
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(1, 0), (2, 1)]))
        .boundary(Boundary::Replicate)
        .stride([1, 2]);
    let y = run(x, w, spec);
    assert_eq!(y.shape(), [1, 1, 2, 3]);
    assert_eq!(flat(y), [1111, 2121, 3333, 4411, 5421, 6633]);
}

#[test]
fn pads_longer_than_the_input() {
    // docs/semantics.md section 4, n = 4, [a b c d] = [1 2 3 4], pad 6 each side, 1-tap kernel of 1:
    //   reflect   a b c d c b | a b c d | c b a b c d
    //   symmetric c d d c b a | a b c d | d c b a a b
    //   wrap      c d a b c d | a b c d | a b c d a b
    //   edge      a a a a a a | a b c d | d d d d d d
    let cases: [(Boundary<i64>, [i64; 16]); 4] = [
        (
            Boundary::Reflect,
            [1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4],
        ),
        (
            Boundary::Symmetric,
            [3, 4, 4, 3, 2, 1, 1, 2, 3, 4, 4, 3, 2, 1, 1, 2],
        ),
        (
            Boundary::Circular,
            [3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2],
        ),
        (
            Boundary::Replicate,
            [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4],
        ),
    ];
    for (boundary, want) in cases {
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(6, 6)]))
            .boundary(boundary.clone());
        assert_eq!(
            flat(run(row(&[1, 2, 3, 4]), row(&[1]), spec)),
            want,
            "{boundary:?}"
        );
    }

    // Circular, x = [1 2 3], pads (4, 5), w = [1 10 100], s = 2. Position i reads x[i mod 3]:
    //   i  = -4 -3 -2 -1 | 0 1 2 | 3 4 5 6 7
    //   xb =  3  1  2  3 | 1 2 3 | 1 2 3 1 2      (12 long; starts 0, 2, 4, 6, 8 fit)
    //   y = [3+10+200, 2+30+100, 1+20+300, 3+10+200, 2+30+100] = [213, 132, 321, 213, 132]
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(4, 5)]))
        .boundary(Boundary::Circular)
        .stride([2]);
    assert_eq!(
        flat(run(row(&[1, 2, 3]), row(&[1, 10, 100]), spec)),
        [213, 132, 321, 213, 132]
    );

    // Reflect on a 2-row input, rows padded (3, 2): period 2(n-1) = 2, so rows alternate
    // r1 r0 r1 | r0 r1 | r0 r1 with r0 = [1 2], r1 = [3 4]; kernel [[1], [10]] over rows:
    //   y[i] = xb[i] + 10 xb[i+1]: [3+10, 4+20] = [13 24], then [1+30, 2+40] = [31 42], ...
    let x = array![[[[1i64, 2], [3, 4]]]].into_dyn();
    let w = array![[[[1i64], [10]]]].into_dyn();
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(3, 2), (0, 0)]))
        .boundary(Boundary::Reflect);
    let y = run(x, w, spec);
    assert_eq!(y.shape(), [1, 1, 6, 2]);
    assert_eq!(flat(y), [13, 24, 31, 42, 13, 24, 31, 42, 13, 24, 31, 42]);
}

#[test]
fn groups_two_and_depthwise() {
    // C = 4 input channels of length 3, groups = 2, O = 4 (2 outputs per group), k = 2.
    //   x0 = [1 2 3], x1 = [4 5 6] (group 0); x2 = [7 8 9], x3 = [10 11 12] (group 1)
    // o = 0 (group 0), w = [[1 10], [100 1000]] over (x0, x1):
    //   p=0: 1 + 20 + 400 + 5000 = 5421;  p=1: 2 + 30 + 500 + 6000 = 6532
    // o = 1 (group 0), w = [[1 0], [0 0]]: x0[p] = 1, 2
    // o = 2 (group 1), w = [[2 0], [0 1]] over (x2, x3): 2*x2[p] + x3[p+1]:
    //   p=0: 14 + 11 = 25;  p=1: 16 + 12 = 28
    // o = 3 (group 1), w = [[0 0], [0 1]]: x3[p+1] = 11, 12
    let x = array![[[1i64, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]].into_dyn();
    let w = array![
        [[1i64, 10], [100, 1000]],
        [[1, 0], [0, 0]],
        [[2, 0], [0, 1]],
        [[0, 0], [0, 1]]
    ]
    .into_dyn();
    let y = run(x, w, ConvSpec::new().groups(2));
    assert_eq!(
        y,
        array![[[5421i64, 6532], [1, 2], [25, 28], [11, 12]]].into_dyn()
    );

    // Depthwise, groups = C = 3, one output per channel, w_c = [c+1, 10(c+1)]:
    //   c0: 1*1 + 10*2 = 21, 1*2 + 10*3 = 32
    //   c1: 2*4 + 20*5 = 108, 2*5 + 20*6 = 130
    //   c2: 3*7 + 30*8 = 261, 3*8 + 30*9 = 294
    let x = array![[[1i64, 2, 3], [4, 5, 6], [7, 8, 9]]].into_dyn();
    let w = array![[[1i64, 10]], [[2, 20]], [[3, 30]]].into_dyn();
    let y = run(x, w, ConvSpec::new().groups(3));
    assert_eq!(y, array![[[21i64, 32], [108, 130], [261, 294]]].into_dyn());
}

#[test]
fn bias() {
    // x = [1 2 3], O = 2: w0 = [1 1], w1 = [1 -1], bias = [1000 -1000].
    //   y0 = 1000 + [1+2, 2+3] = [1003, 1005]
    //   y1 = -1000 + [1-2, 2-3] = [-1001, -1001]
    let x = row(&[1, 2, 3]);
    let w = array![[[1i64, 1]], [[1, -1]]].into_dyn();
    let y = run_bias(x, w, vec![1000, -1000], ConvSpec::new());
    assert_eq!(y, array![[[1003i64, 1005], [-1001, -1001]]].into_dyn());
}

#[test]
fn convolution_versus_correlation_2d() {
    // x = [[1 2 3], [4 5 6], [7 8 9]], w = [[1 10], [100 1000]], valid, 2x2 output.
    // Correlation: x[i][j] + 10 x[i][j+1] + 100 x[i+1][j] + 1000 x[i+1][j+1]
    //   (0,0) 1 + 20 + 400 + 5000 = 5421    (0,1) 2 + 30 + 500 + 6000 = 6532
    //   (1,0) 4 + 50 + 700 + 8000 = 8754    (1,1) 5 + 60 + 800 + 9000 = 9865
    // Convolution, w reversed on both axes = [[1000 100], [10 1]]:
    //   (0,0) 1000 + 200 + 40 + 5 = 1245    (0,1) 2000 + 300 + 50 + 6 = 2356
    //   (1,0) 4000 + 500 + 70 + 8 = 4578    (1,1) 5000 + 600 + 80 + 9 = 5689
    let x = array![[[[1i64, 2, 3], [4, 5, 6], [7, 8, 9]]]].into_dyn();
    let w = array![[[[1i64, 10], [100, 1000]]]].into_dyn();
    let corr = run(x.clone(), w.clone(), ConvSpec::new());
    assert_eq!(flat(corr), [5421, 6532, 8754, 9865]);
    let convolution = run(x, w, ConvSpec::new().flip(Flip::Convolution));
    assert_eq!(flat(convolution), [1245, 2356, 4578, 5689]);
}

#[test]
fn three_d() {
    // x[a][b][c] = 1 + 4a + 2b + c (values 1..8), w[a][b][c] = 10^(4a + 2b + c), valid:
    // one output, sum of x * w = 1 + 2*10 + 3*100 + ... + 8*10^7 = 87654321.
    // Convolution pairs x[a][b][c] with w[1-a][1-b][1-c] = 10^(7 - (4a+2b+c)): 12345678.
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2, 2, 2]), (1..=8).collect()).unwrap();
    let w = ArrayD::from_shape_vec(
        IxDyn(&[1, 1, 2, 2, 2]),
        (0..8).map(|e| 10i64.pow(e)).collect(),
    )
    .unwrap();
    assert_eq!(flat(run(x.clone(), w.clone(), ConvSpec::new())), [87654321]);
    let spec = ConvSpec::new().flip(Flip::Convolution);
    assert_eq!(flat(run(x.clone(), w, spec)), [12345678]);

    // Kernel of ones, pads (1, 0) on the first axis only, zeros: output (2, 1, 1).
    //   out[0] = zero slab + slab a=0 = 1+2+3+4 = 10;  out[1] = all of x = 36
    // With circular instead, slab -1 is slab 1 (5+6+7+8 = 26): out[0] = 26 + 10 = 36.
    let ones = ArrayD::from_elem(IxDyn(&[1, 1, 2, 2, 2]), 1i64);
    let spec = |b| {
        ConvSpec::new()
            .padding(Padding::Explicit(vec![(1, 0), (0, 0), (0, 0)]))
            .boundary(b)
    };
    let y = run(x.clone(), ones.clone(), spec(Boundary::Zeros));
    assert_eq!(y.shape(), [1, 1, 2, 1, 1]);
    assert_eq!(flat(y), [10, 36]);
    assert_eq!(flat(run(x, ones, spec(Boundary::Circular))), [36, 36]);
}

#[test]
fn complex_is_not_conjugated() {
    let c = |re: f64, im: f64| Complex::new(re, im);
    // x = [1+2i, 3-i, -2i], w = [1+i, 2], correlation, no conjugation:
    //   y[0] = (1+i)(1+2i) + 2(3-i) = (1 + 3i + 2i^2) + 6 - 2i = (-1+3i) + (6-2i) = 5 + i
    //   y[1] = (1+i)(3-i) + 2(-2i)  = (3 + 2i - i^2) - 4i      = (4+2i) - 4i      = 4 - 2i
    let x =
        ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![c(1., 2.), c(3., -1.), c(0., -2.)]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![c(1., 1.), c(2., 0.)]).unwrap();
    assert_eq!(
        flat(run(x.clone(), w.clone(), ConvSpec::new())),
        [c(5., 1.), c(4., -2.)]
    );
    // Constant(i) boundary, pads (1, 0): xb = [i, 1+2i, 3-i, -2i]:
    //   y[0] = (1+i) i + 2(1+2i) = (-1 + i) + (2 + 4i) = 1 + 5i; then 5 + i, 4 - 2i as above.
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(1, 0)]))
        .boundary(Boundary::Constant(c(0., 1.)));
    assert_eq!(flat(run(x, w, spec)), [c(1., 5.), c(5., 1.), c(4., -2.)]);
}

#[test]
fn exact_rationals() {
    let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
    // x = [1/2 1/3 1/4], w = [1/2 -1/3], bias 1/36:
    //   y[0] = 1/36 + 1/4 - 1/9  = 1/36 + 9/36 - 4/36 = 6/36 = 1/6
    //   y[1] = 1/36 + 1/6 - 1/12 = 1/36 + 6/36 - 3/36 = 4/36 = 1/9
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![q(1, 2), q(1, 3), q(1, 4)]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![q(1, 2), q(-1, 3)]).unwrap();
    let y = run_bias(x.clone(), w.clone(), vec![q(1, 36)], ConvSpec::new());
    assert_eq!(flat(y), [q(1, 6), q(1, 9)]);
    // Symmetric, pads (0, 2): xb = [1/2 1/3 1/4 | 1/4 1/3], 4 outputs (no bias):
    //   1/4 - 1/9 = 5/36;  1/6 - 1/12 = 1/12;  1/8 - 1/12 = 1/24;  1/8 - 1/9 = 1/72
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(0, 2)]))
        .boundary(Boundary::Symmetric);
    assert_eq!(
        flat(run(x, w, spec)),
        [q(5, 36), q(1, 12), q(1, 24), q(1, 72)]
    );
}
