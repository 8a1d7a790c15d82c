//! Every `ConvError` variant the reference can return, with its fields.
//!
//! `what` strings are checked by a keyword only (they are prose); every number is exact.

use conv_oracle::{Boundary, ConvError, ConvSpec, Limits, Padding, Problem, conv};
use ndarray::{Array1, ArrayD, IxDyn};
use std::time::{Duration, Instant};

/// The error `conv` returns for zero-filled arrays of these shapes.
fn error(x: &[usize], w: &[usize], bias: Option<usize>, spec: ConvSpec<i64>) -> ConvError {
    let x = ArrayD::<i64>::zeros(IxDyn(x));
    let w = ArrayD::<i64>::zeros(IxDyn(w));
    let b = bias.map(Array1::<i64>::zeros);
    let mut p = Problem::new(x.view(), w.view()).spec(spec);
    if let Some(b) = &b {
        p = p.bias(b.view());
    }
    conv(&p).expect_err("the request must be refused")
}

fn plain() -> ConvSpec<i64> {
    ConvSpec::new()
}

macro_rules! assert_err {
    ($err:expr, $pat:pat $(if $guard:expr)?) => {{
        let err = $err;
        assert!(matches!(err, $pat $(if $guard)?), "got {err:?}");
    }};
}

#[test]
fn rank_mismatch() {
    assert_err!(
        error(&[3], &[1, 1, 1], None, plain()),
        ConvError::RankMismatch { what, expected: 2, got: 1 } if what.contains("input")
    );
    assert_err!(
        error(&[1, 1, 3], &[1, 1, 2, 2], None, plain()),
        ConvError::RankMismatch { what, expected: 3, got: 4 } if what.contains("weight")
    );
    assert_err!(
        error(&[1, 1, 3], &[1, 1, 2], None, plain().stride([1, 1])),
        ConvError::RankMismatch { what, expected: 1, got: 2 } if what.contains("stride")
    );
    assert_err!(
        error(&[1, 1, 3, 3], &[1, 1, 2, 2], None, plain().dilation([1, 1, 1])),
        ConvError::RankMismatch { what, expected: 2, got: 3 } if what.contains("dilation")
    );
    assert_err!(
        error(
            &[1, 1, 3],
            &[1, 1, 2],
            None,
            plain().padding(Padding::Explicit(vec![(0, 0), (1, 1)]))
        ),
        ConvError::RankMismatch { what, expected: 1, got: 2 } if what.contains("pads")
    );
}

#[test]
fn channel_mismatch() {
    // Weight (1, 2, 2) implies 2 input channels; the input has 3.
    assert_eq!(
        error(&[1, 3, 4], &[1, 2, 2], None, plain()),
        ConvError::ChannelMismatch {
            expected: 2,
            got: 3
        }
    );
    // groups = 2, weight (2, 1, 2) implies 1 * 2 = 2 input channels; the input has 4.
    assert_eq!(
        error(&[1, 4, 4], &[2, 1, 2], None, plain().groups(2)),
        ConvError::ChannelMismatch {
            expected: 2,
            got: 4
        }
    );
}

#[test]
fn groups_do_not_divide() {
    assert_err!(
        error(&[1, 2, 4], &[2, 2, 2], None, plain().groups(0)),
        ConvError::GroupsDoNotDivide { what, groups: 0, got: 2 } if what.contains("output")
    );
    assert_err!(
        error(&[1, 4, 4], &[3, 2, 2], None, plain().groups(2)),
        ConvError::GroupsDoNotDivide { what, groups: 2, got: 3 } if what.contains("output")
    );
    assert_err!(
        error(&[1, 3, 4], &[2, 1, 2], None, plain().groups(2)),
        ConvError::GroupsDoNotDivide { what, groups: 2, got: 3 } if what.contains("input")
    );
}

#[test]
fn zero_stride_and_dilation() {
    let (x, w) = ([1, 1, 3, 3], [1, 1, 2, 2]);
    assert_eq!(
        error(&x, &w, None, plain().stride([1, 0])),
        ConvError::ZeroStride { axis: 1 }
    );
    assert_eq!(
        error(&x, &w, None, plain().dilation([0, 1])),
        ConvError::ZeroDilation { axis: 0 }
    );
}

#[test]
fn empty_arrays_are_refused() {
    for (x, w) in [
        (&[1, 1, 0][..], &[1, 1, 1][..]),
        (&[1, 0, 3], &[1, 1, 1]),
        (&[1, 1, 3], &[0, 1, 1]),
        (&[1, 1, 3], &[1, 0, 1]),
        (&[1, 1, 3], &[1, 1, 0]),
    ] {
        assert_err!(error(x, w, None, plain()), ConvError::EmptyArray { .. });
    }
}

/// `ConvError::EmptyArray` documents `axis` as "the axis of the array (counting all axes of that
/// array)", unlike the other variants' spatial axes.
#[test]
fn empty_array_axis_counts_all_axes_of_the_array() {
    let cases: [(&[usize], &[usize], &str, usize); 5] = [
        // Input spatial axis 0 is input axis 2.
        (&[1, 1, 0], &[1, 1, 1], "input", 2),
        // Input channels are input axis 1.
        (&[1, 0, 3], &[1, 1, 1], "input", 1),
        // Output channels are weight axis 0.
        (&[1, 1, 3], &[0, 1, 1], "weight", 0),
        // Channels per group are weight axis 1.
        (&[1, 1, 3], &[1, 0, 1], "weight", 1),
        // Kernel spatial axis 0 is weight axis 2.
        (&[1, 1, 3], &[1, 1, 0], "weight", 2),
    ];
    let mut wrong = Vec::new();
    for (x, w, array, axis) in cases {
        let err = error(x, w, None, plain());
        let ok = matches!(&err, ConvError::EmptyArray { what, axis: a } if what.contains(array) && *a == axis);
        if !ok {
            wrong.push(format!(
                "input {x:?}, weight {w:?}: expected {array} axis {axis}, got {err:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn kernel_too_large() {
    // n = 2, k = 3, valid: extent 3 > 2.
    assert_eq!(
        error(&[1, 1, 2], &[1, 1, 3], None, plain()),
        ConvError::KernelTooLarge {
            axis: 0,
            padded_input: 2,
            kernel_extent: 3
        }
    );
    // Axis 1: n = 2 padded (0, 1) = 3, k = 2 at d = 3: extent 3*1 + 1 = 4 > 3.
    let spec = plain()
        .dilation([1, 3])
        .padding(Padding::Explicit(vec![(0, 0), (0, 1)]));
    assert_eq!(
        error(&[1, 1, 2, 2], &[1, 1, 2, 2], None, spec),
        ConvError::KernelTooLarge {
            axis: 1,
            padded_input: 3,
            kernel_extent: 4
        }
    );
}

#[test]
fn torch_same_needs_unit_stride() {
    let spec = plain().padding(Padding::TorchSame).stride([1, 2]);
    assert_eq!(
        error(&[1, 1, 4, 4], &[1, 1, 3, 3], None, spec),
        ConvError::SameNeedsUnitStride { axis: 1, stride: 2 }
    );
}

#[test]
fn bias_length() {
    assert_eq!(
        error(&[1, 1, 4], &[2, 1, 2], Some(3), plain()),
        ConvError::BiasLength {
            expected: 2,
            got: 3
        }
    );
}

#[test]
fn overflow() {
    // d*(k-1) + 1 with k = 2, d = usize::MAX.
    assert_err!(
        error(&[1, 1, 3], &[1, 1, 2], None, plain().dilation([usize::MAX])),
        ConvError::Overflow { axis: Some(0), .. }
    );
    // n + lo + hi on axis 1.
    let spec = plain().padding(Padding::Explicit(vec![(0, 0), (usize::MAX, 1)]));
    assert_err!(
        error(&[1, 1, 1, 1], &[1, 1, 1, 1], None, spec),
        ConvError::Overflow { axis: Some(1), .. }
    );
    // Three axes of 2^63 + 1 outputs each: (2^63 + 1)^3 > 2^128 elements.
    let huge = 1usize << 62;
    let spec = plain().padding(Padding::Explicit(vec![(huge, huge); 3]));
    assert_err!(
        error(&[1, 1, 1, 1, 1], &[1, 1, 1, 1, 1], None, spec),
        ConvError::Overflow { what, axis: None } if what.contains("output")
    );
    // Unlimited limits: (2^63 + 1)^2 < 2^128 outputs, times 4 taps >= 2^128 multiply-adds.
    let spec = plain()
        .padding(Padding::Explicit(vec![(huge, huge); 2]))
        .limits(Limits {
            max_elements: u128::MAX,
            max_work: u128::MAX,
        });
    assert_err!(
        error(&[1, 4, 1, 1], &[1, 4, 1, 1], None, spec),
        ConvError::Overflow { what, axis: None } if what.contains("multiply")
    );
}

#[test]
fn limit_exceeded() {
    // Output (2, 2, 3) = 12 elements over a limit of 10.
    let small = Limits {
        max_elements: 10,
        max_work: 1 << 20,
    };
    assert_err!(
        error(&[2, 1, 4], &[2, 1, 2], None, plain().limits(small)),
        ConvError::LimitExceeded { what, limit: 10, got: 12 } if what.contains("output")
    );
    // 12 outputs * 3 taps (C/G = 1, k = 3) = 36 multiply-adds over a limit of 30.
    let work = Limits {
        max_elements: 100,
        max_work: 30,
    };
    assert_err!(
        error(&[2, 1, 5], &[2, 1, 3], None, plain().limits(work)),
        ConvError::LimitExceeded { what, limit: 30, got: 36 } if what.contains("multiply")
    );
}

#[test]
fn a_two_to_the_forty_output_is_refused_immediately() {
    // n = 1, k = 1, pads (0, 2^20 - 1) on two axes: 2^20 * 2^20 = 2^40 outputs.
    let pad = (1usize << 20) - 1;
    let x = ArrayD::<i64>::zeros(IxDyn(&[1, 1, 1, 1]));
    let w = ArrayD::<i64>::ones(IxDyn(&[1, 1, 1, 1]));
    let spec = ConvSpec::new()
        .padding(Padding::Explicit(vec![(0, pad), (0, pad)]))
        .boundary(Boundary::Circular);
    let start = Instant::now();
    let err = conv(&Problem::new(x.view(), w.view()).spec(spec)).expect_err("2^40 outputs");
    let elapsed = start.elapsed();
    assert_err!(
        err,
        ConvError::LimitExceeded { what, limit, got } if what.contains("output")
            && limit == Limits::default().max_elements
            && got == 1 << 40
    );
    assert!(elapsed < Duration::from_millis(200), "took {elapsed:?}");
}
