//! Requests with arbitrary, often absurd, shapes and settings: extents of zero, ranks from 0 to
//! 5, strides, dilations, pads and groups up to `usize::MAX`. Every public entry point must
//! answer them with `Ok` or a typed error, never a panic.

use crate::api::layer::PaddingMode;
use crate::api::signal::Mode;
use crate::problem::{Boundary, ConvSpec, Flip, InputLayout, KernelLayout, Limits, Padding};
use proptest::prelude::*;

/// A request with arbitrary (often absurd) shapes and settings, for the no-panic property.
#[derive(Clone, Debug)]
pub struct AbsurdCase {
    /// Input shape (any rank, zeros allowed).
    pub input: Vec<usize>,
    /// Weight shape (any rank, zeros allowed).
    pub weight: Vec<usize>,
    /// Bias length, if any.
    pub bias: Option<usize>,
    /// Spec (strides, dilations, pads and groups drawn from absurd values).
    pub spec: ConvSpec<i64>,
    /// Pads for [`crate::problem::boundary::pad`].
    pub pads: Vec<(usize, usize)>,
    /// Signal mode.
    pub mode: Mode,
    /// Layer layouts and padding mode for [`crate::api::layer::conv`].
    pub layer: (InputLayout, KernelLayout, PaddingMode),
    /// Output padding for [`crate::reference::conv_transpose`].
    pub output_padding: Vec<usize>,
    /// ONNX output_shape for [`crate::reference::conv_transpose`], if any.
    pub output_shape: Option<Vec<usize>>,
}

fn absurd_number() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..=4,
        1 => Just(7usize),
        1 => Just(1usize << 20),
        1 => Just(1usize << 40),
        1 => Just(usize::MAX / 2),
        1 => Just(usize::MAX),
    ]
}

fn absurd_boundary() -> impl Strategy<Value = Boundary<i64>> {
    prop_oneof![
        Just(Boundary::Zeros),
        (-3i64..=3).prop_map(Boundary::Constant),
        Just(Boundary::Reflect),
        Just(Boundary::Symmetric),
        Just(Boundary::Replicate),
        Just(Boundary::Circular),
    ]
}

/// Strategy for [`AbsurdCase`]: ranks 0..=5, extents 0..=3, settings drawn from small numbers
/// mixed with 2^20, 2^40, `usize::MAX / 2` and `usize::MAX`.
pub fn absurd_case() -> impl Strategy<Value = AbsurdCase> {
    let dims = || proptest::collection::vec(0usize..=3, 0..=5);
    let per_axis = || proptest::collection::vec(absurd_number(), 0..=4);
    let padding = prop_oneof![
        proptest::collection::vec((absurd_number(), absurd_number()), 0..=4)
            .prop_map(Padding::Explicit),
        Just(Padding::Valid),
        Just(Padding::Full),
        Just(Padding::SameUpper),
        Just(Padding::SameLower),
        Just(Padding::TorchSame),
    ];
    let limits = prop_oneof![
        Just(Limits::default()),
        Just(Limits {
            max_elements: 50,
            max_work: 500
        }),
    ];
    (
        dims(),
        dims(),
        proptest::option::of(0usize..=4),
        (
            per_axis(),
            per_axis(),
            padding,
            absurd_boundary(),
            absurd_number(),
        ),
        any::<bool>(),
        limits,
        proptest::collection::vec((absurd_number(), absurd_number()), 0..=5),
        prop_oneof![Just(Mode::Full), Just(Mode::Same), Just(Mode::Valid)],
        (
            prop_oneof![
                Just(InputLayout::ChannelsFirst),
                Just(InputLayout::ChannelsLast)
            ],
            prop_oneof![
                Just(KernelLayout::Oihw),
                Just(KernelLayout::Hwio),
                Just(KernelLayout::Ohwi)
            ],
            prop_oneof![
                Just(PaddingMode::Zeros),
                Just(PaddingMode::Reflect),
                Just(PaddingMode::Replicate),
                Just(PaddingMode::Circular)
            ],
            per_axis(),
            proptest::option::of(per_axis()),
        ),
    )
        .prop_map(
            |(
                input,
                weight,
                bias,
                (stride, dilation, padding, boundary, groups),
                conv,
                limits,
                pads,
                mode,
                (in_layout, k_layout, padding_mode, output_padding, output_shape),
            )| {
                let spec = ConvSpec {
                    stride,
                    dilation,
                    padding,
                    boundary,
                    groups,
                    flip: if conv {
                        Flip::Convolution
                    } else {
                        Flip::Correlation
                    },
                    limits,
                };
                AbsurdCase {
                    input,
                    weight,
                    bias,
                    spec,
                    pads,
                    mode,
                    layer: (in_layout, k_layout, padding_mode),
                    output_padding,
                    output_shape,
                }
            },
        )
}
