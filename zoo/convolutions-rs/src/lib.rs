//! [convolutions-rs](https://crates.io/crates/convolutions-rs) 0.3.4 as a conv-oracle engine.

use conv_oracle::engine::{
    AxisSetting, BoundaryRule, Capabilities, ConvEngine, PaddingRule, ProblemShape,
};
use conv_oracle::problem::geometry::per_axis;
use conv_oracle::problem::{ConvError, Flip, Padding, Problem};
use convolutions_rs::convolutions::conv2d;
use ndarray::{ArrayD, IxDyn};
use ndarray015 as nd15;

/// convolutions-rs's free function `convolutions::conv2d` (one `(C, H, W)` image, an
/// `(F, C, HH, WW)` kernel), once per sample of the batch. A 1-D problem runs as a 2-D one of
/// height 1.
///
/// What the crate's documented API supports (sources read: `src/lib.rs` and
/// `src/convolutions.rs` of convolutions-rs 0.3.4):
///
/// - **Ranks**: 2-D only (`conv2d`, `src/convolutions.rs:174`); 1-D as height 1.
/// - **Stride**: one `usize` shared by both axes (`src/convolutions.rs:179`).
/// - **Dilation**: none.
/// - **Pads**: none given by number: `Padding::Valid` or `Padding::Same` (`src/lib.rs:47-52`).
///   `Same` computes TensorFlow's total `P = max(k - s, 0)` (or `max(k - n % s, 0)`) but, by
///   the swap at `src/convolutions.rs:99-108` ("yes top/bottom and right/left are swapped"),
///   puts the larger half first: ONNX `SAME_LOWER`, while its comment cites TensorFlow's SAME
///   (`src/convolutions.rs:207`), which puts it last. The `max(…, 0)` is taken after a `usize`
///   subtraction (`src/convolutions.rs:84`, `:86`), so `k < s` (or `k < n % s`) underflows:
///   panic with overflow checks. The adapter takes explicit pads only when they are zero
///   (`Valid`) or equal the crate's `Same` pads.
/// - **Boundaries**: zeros only.
/// - **Flip**: cross-correlation; the adapter flips the kernel for true convolution.
/// - **Groups**: none. **Bias**: yes, `Option<&Array1>` (`src/convolutions.rs:176`).
///   **Batch**: none (one image per call; the adapter loops).
/// - **Kernel larger than the input** (`Valid`): `(im_height - kernel_height)` underflows
///   (`src/convolutions.rs:223`): panic.
/// - **Validation**: none. Stride 0 divides by zero (`src/convolutions.rs:134`, or `%` at
///   `:83`): panic (only `ConvolutionLayer::new` asserts `stride > 0`, `:33`); a channel
///   mismatch fails an `unwrap` or a shape assertion inside ndarray: panic.
/// - **Output layout**: `conv2d` returns `(F, H', W')` as a permuted view of an
///   `(H', W', F)` product (`src/convolutions.rs:274-277`): right by index, but its memory
///   order is not the logical one (the adapter reads it by index).
#[derive(Clone, Copy, Debug, Default)]
pub struct ConvolutionsRs;

/// The pads convolutions-rs's `Padding::Same` uses on one axis: TensorFlow's total, the larger
/// half first.
pub fn same_pads(n: usize, k: usize, s: usize) -> (usize, usize) {
    let total = (n.div_ceil(s).saturating_sub(1))
        .saturating_mul(s)
        .saturating_add(k)
        .saturating_sub(n);
    (total - total / 2, total / 2)
}

impl ConvEngine<f32> for ConvolutionsRs {
    fn name(&self) -> &str {
        "convolutions-rs"
    }

    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        // What the declaration leaves out is declined before the crate is called.
        if let Some(what) = self.capabilities().outside(&ProblemShape::of(p)) {
            return Err(ConvError::unsupported(what));
        }
        let x = p.input.shape();
        let rank = x.len().saturating_sub(2);
        if p.weight.ndim() != x.len() {
            return Err(ConvError::RankMismatch {
                what: "weight (O, C/groups, kernel...)",
                expected: x.len(),
                got: p.weight.ndim(),
            });
        }
        // The guard above leaves dilation 1 and one stride for every axis.
        let s = per_axis(&p.spec.stride, "stride", rank, 1)?
            .first()
            .copied()
            .unwrap_or(1);
        // (H, W) and (HH, WW), a 1-D problem as height 1.
        let (n, k) = (&x[2..], &p.weight.shape()[2..]);
        let (hw, kk) = if rank == 1 {
            ([1, n[0]], [1, k[0]])
        } else {
            ([n[0], n[1]], [k[0], k[1]])
        };
        let pads = match &p.spec.padding {
            Padding::Explicit(v) => v.clone(),
            Padding::Valid => vec![(0, 0); rank],
            _ => p.validate_geometry()?.pads(),
        };
        if pads.len() != rank {
            return Err(ConvError::RankMismatch {
                what: "pads",
                expected: rank,
                got: pads.len(),
            });
        }
        let padding = if pads.iter().all(|&pd| pd == (0, 0)) {
            convolutions_rs::Padding::Valid
        } else if s > 0
            && pads
                .iter()
                .enumerate()
                .all(|(i, &pd)| pd == same_pads(n[i], k[i], s))
        {
            convolutions_rs::Padding::Same
        } else {
            return Err(ConvError::unsupported(format!(
                "pads {pads:?}: convolutions-rs pads only as its SAME (the larger half first)"
            )));
        };
        let (f, c) = (p.weight.shape()[0], p.weight.shape()[1]);
        let kernel = nd15::Array4::from_shape_fn((f, c, kk[0], kk[1]), |(o, ci, i, j)| {
            let (i, j) = match p.spec.flip {
                Flip::Correlation => (i, j),
                Flip::Convolution => (kk[0] - 1 - i, kk[1] - 1 - j),
            };
            let mut idx = vec![o, ci];
            if rank == 2 {
                idx.push(i);
            }
            idx.push(j);
            p.weight[IxDyn(&idx)]
        });
        let bias = p.bias.map(|b| nd15::Array1::from_iter(b.iter().copied()));
        let mut out: Vec<f32> = Vec::new();
        let mut out_hw = None;
        for b in 0..x[0] {
            let image = nd15::Array3::from_shape_fn((x[1], hw[0], hw[1]), |(ci, i, j)| {
                let mut idx = vec![b, ci];
                if rank == 2 {
                    idx.push(i);
                }
                idx.push(j);
                p.input[IxDyn(&idx)]
            });
            let y = conv2d(&kernel, bias.as_ref(), &image, padding, s);
            out_hw = Some((y.shape()[1], y.shape()[2]));
            // By index: the array's memory order is (H', W', F).
            out.extend(y.iter().copied());
        }
        let (oh, ow) = match out_hw {
            Some(hw) => hw,
            None => {
                let o = p.validate_geometry()?.output_shape();
                if rank == 1 { (1, o[0]) } else { (o[0], o[1]) }
            }
        };
        let mut shape = vec![x[0], f];
        if rank == 2 {
            shape.push(oh);
        }
        shape.push(ow);
        ArrayD::from_shape_vec(IxDyn(&shape), out)
            .map_err(|e| ConvError::unsupported(format!("output shape: {e}")))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            ranks: 1..=2,
            // `Padding::Valid`, and its `Same` (which puts the odd pad first).
            paddings: vec![PaddingRule::Valid, PaddingRule::SameLower],
            boundaries: vec![BoundaryRule::Zeros],
            // One stride for both axes; no dilation, groups or batch.
            stride: AxisSetting::Shared,
            dilation: AxisSetting::Unit,
            groups: false,
            batch: false,
            // No `Result` in its API: it cannot refuse anything.
            validates: false,
            ..Capabilities::all()
        }
    }
}
