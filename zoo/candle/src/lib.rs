//! [candle-core](https://crates.io/crates/candle-core) 0.11.1 (CPU) as a conv-oracle engine.

use candle_core::{Device, Tensor};
use conv_oracle::engine::{
    AxisSetting, BoundaryRule, Capabilities, ConvEngine, PaddingRule, Pads, ProblemShape,
};
use conv_oracle::problem::geometry::per_axis;
use conv_oracle::problem::{ConvError, Flip, Padding, Problem};
use ndarray::{ArrayD, Axis, IxDyn, Slice};

/// candle's `Tensor::conv1d` / `Tensor::conv2d` on the CPU device.
///
/// What the crate's documented API supports (sources read: `src/conv.rs` and
/// `src/cpu_backend/mod.rs` of candle-core 0.11.1):
///
/// - **Ranks**: 1-D (`conv1d`, `src/conv.rs:148`) and 2-D (`conv2d`, `src/conv.rs:289`); no
///   3-D convolution.
/// - **Stride**: one `usize` shared by every axis (`ParamsConv2D::stride`, `src/conv.rs:82`).
/// - **Dilation**: one `usize` shared by every axis (`src/conv.rs:83`).
/// - **Pads**: one `usize`, symmetric and shared by every axis (`src/conv.rs:81`,
///   `out_h = (i_h + 2*padding - ...)`, `:88`). No padding rules (same, full): the adapter
///   resolves them with the library and passes the pad when it is symmetric and equal on every
///   axis.
/// - **Boundaries**: zeros only.
/// - **Flip**: cross-correlation only; the adapter flips the kernel for true convolution.
/// - **Groups**: yes (`groups: usize`); checked only as `c_in == c_in_k * groups`
///   (`src/conv.rs:171`, `:311`): `c_out % groups` is not checked, and the channels are split
///   with `chunk(groups, 0)`, which with `c_out = 3, groups = 2` makes chunks of 2 and 1, so
///   the output has 2 channels instead of an error (`tests/findings.rs`). Zero groups is an
///   error whenever `c_in > 0` (`c_in != c_in_k * 0`).
/// - **Bias**: not in the conv API; the adapter adds it with `broadcast_add`.
/// - **Batch**: yes.
/// - **Kernel larger than the padded input**: `l_in + 2*p - d*(k-1) - 1` underflows `usize`
///   (`src/conv.rs:22`, `:88`): a panic ("attempt to subtract with overflow") with overflow
///   checks, a wrapped output size without them.
/// - **Validation**: channel mismatch is an `Err`; a zero stride divides by zero in `l_out`
///   (`src/conv.rs:22`): panic; zero dilation makes the effective kernel 1 silently.
/// - Transposed convolution: `conv_transpose1d` on its col2im path (`src/cpu_backend/mod.rs`,
///   `Col2Im1D`, taken when padding, dilation and output padding are 0, `:2884-2888`) reads
///   sample `n` at `n*L` instead of `n*C*L` when batch >= 2 and `C_in >= 2`
///   (`tests/findings.rs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Candle;

/// The one value of a per-axis setting, or why candle cannot take it.
fn shared(v: &[usize], what: &str) -> Result<usize, ConvError> {
    match v.split_first() {
        Some((&first, rest)) if rest.iter().all(|&s| s == first) => Ok(first),
        _ => Err(ConvError::unsupported(format!(
            "{what} differing between axes ({v:?}): candle takes one {what} for all axes"
        ))),
    }
}

fn refused(e: candle_core::Error) -> ConvError {
    ConvError::unsupported(format!("candle refused: {e}"))
}

impl ConvEngine<f32> for Candle {
    fn name(&self) -> &str {
        "candle-core"
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
        let stride = shared(&per_axis(&p.spec.stride, "stride", rank, 1)?, "stride")?;
        let dilation = shared(
            &per_axis(&p.spec.dilation, "dilation", rank, 1)?,
            "dilation",
        )?;
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
        if pads.iter().any(|&(lo, hi)| lo != hi) {
            return Err(ConvError::unsupported(format!(
                "asymmetric pads {pads:?}: candle pads both sides alike"
            )));
        }
        let pad = shared(&pads.iter().map(|&(lo, _)| lo).collect::<Vec<_>>(), "pad")?;
        let mut weight = p.weight.to_owned();
        if p.spec.flip == Flip::Convolution {
            for a in 2..weight.ndim() {
                weight.slice_axis_inplace(Axis(a), Slice::new(0, None, -1));
            }
        }
        let dev = Device::Cpu;
        let xt = Tensor::from_iter(p.input.iter().copied(), &dev)
            .and_then(|t| t.reshape(x))
            .map_err(refused)?;
        let wt = Tensor::from_iter(weight.iter().copied(), &dev)
            .and_then(|t| t.reshape(weight.shape()))
            .map_err(refused)?;
        let g = p.spec.groups;
        let mut y = if rank == 1 {
            xt.conv1d(&wt, pad, stride, dilation, g)
        } else {
            xt.conv2d(&wt, pad, stride, dilation, g)
        }
        .map_err(refused)?;
        if let Some(b) = &p.bias {
            let mut shape = vec![1, b.len()];
            shape.extend(std::iter::repeat_n(1, rank));
            let bt = Tensor::from_iter(b.iter().copied(), &dev)
                .and_then(|t| t.reshape(shape))
                .map_err(refused)?;
            y = y.broadcast_add(&bt).map_err(refused)?;
        }
        let shape = y.dims().to_vec();
        let data = y
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(refused)?;
        ArrayD::from_shape_vec(IxDyn(&shape), data)
            .map_err(|e| ConvError::unsupported(format!("output shape: {e}")))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            ranks: 1..=2,
            // One pad for every side of every axis (`padding: usize`); the rules that resolve
            // to other pads stay out.
            paddings: vec![PaddingRule::Explicit, PaddingRule::Valid],
            pads: Pads::Shared,
            boundaries: vec![BoundaryRule::Zeros],
            // One stride, one dilation for every axis (`usize` arguments).
            stride: AxisSetting::Shared,
            dilation: AxisSetting::Shared,
            // `conv1d` / `conv2d` return a `Result`.
            validates: true,
            ..Capabilities::all()
        }
    }
}
