//! [candle-core](https://crates.io/crates/candle-core) 0.11.1 (CPU) as a conv-oracle engine.

use candle_core::{Device, Tensor};
use conv_oracle::engine::{
    AxisSetting, BoundaryRule, Capabilities, ConvEngine, ConvTransposeEngine, PaddingRule, Pads,
    ProblemShape, TransposeCapabilities, TransposePaddingRule, TransposeProblemShape,
};
use conv_oracle::problem::geometry::per_axis;
use conv_oracle::problem::{ConvError, Flip, Padding, Problem, TransposePadding, TransposeProblem};
use ndarray::{ArrayD, ArrayView1, ArrayViewD, Axis, IxDyn, Slice};

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
/// - Transposed convolution: [`CandleTranspose`].
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

/// candle's `Tensor::conv_transpose1d` / `Tensor::conv_transpose2d` on the CPU device
/// (PyTorch's `ConvTranspose`: weight `(C_in, C_out/groups, k...)`).
///
/// What the crate's documented API supports (sources read: `src/conv.rs` and
/// `src/cpu_backend/mod.rs` of candle-core 0.11.1):
///
/// - **Ranks**: 1-D (`conv_transpose1d`, `src/conv.rs:231`) and 2-D (`conv_transpose2d`,
///   `src/conv.rs:344`).
/// - **Stride, dilation, output padding**: one `usize` each, shared by every axis
///   (`ParamsConvTranspose2D`, `src/conv.rs:101-113`); output padding is not checked against
///   the stride.
/// - **Pads**: one `usize`, removed from both ends of every axis (`- 2 * self.padding`,
///   `src/conv.rs:45-50`, `:116-124`); no `SAME` or `output_shape` rules.
/// - **Groups**: `conv_transpose1d` only (`groups: usize`, the input and kernel split with
///   `chunk(groups, ...)`, `src/conv.rs:262-268`); `conv_transpose2d` has no groups argument.
///   `c_in % groups` is computed before any check of `groups` (`src/conv.rs:245`), so zero
///   groups divides by zero.
/// - **Bias**: not in the API; the adapter adds it with `broadcast_add`. **Batch**: yes.
/// - **Output length** in 1-D: `(l_in - 1) * stride - 2 * padding + dilation * (k - 1) +
///   output_padding + 1` in `usize`, left to right (`src/conv.rs:45-50`): when `2 * padding`
///   exceeds `(l_in - 1) * stride` the subtraction underflows before the kernel's reach is
///   added, although the output is not empty (`tests/findings.rs`). 2-D subtracts the pads
///   last (`src/conv.rs:116-124`).
/// - **Paths**: 1-D with padding 0, dilation 1 and output padding 0 runs a matrix product and
///   `Col2Im1D` (`src/cpu_backend/mod.rs:2884-2928`), which reads sample `n` at `n*L`
///   instead of `n*C*L` when batch >= 2 and `C_in >= 2` (`tests/findings.rs`); every other
///   1-D problem runs `ConvTranspose1D` (`:1245`), every 2-D one `ConvTranspose2D`
///   (`:1314`), each a scatter of `vec_dot`s over the input channels.
/// - **Validation**: a channel mismatch and `c_in % groups != 0` are `Err`s; a zero stride or
///   dilation is computed; an empty axis or pads that leave no output underflow `usize`
///   (panic with overflow checks).
#[derive(Clone, Copy, Debug, Default)]
pub struct CandleTranspose;

fn tensor(v: ArrayViewD<'_, f32>, dev: &Device) -> Result<Tensor, ConvError> {
    Tensor::from_iter(v.iter().copied(), dev)
        .and_then(|t| t.reshape(v.shape()))
        .map_err(refused)
}

fn with_bias(
    y: Tensor,
    bias: Option<ArrayView1<'_, f32>>,
    rank: usize,
    dev: &Device,
) -> Result<ArrayD<f32>, ConvError> {
    let y = match bias {
        Some(b) => {
            let mut shape = vec![1, b.len()];
            shape.extend(std::iter::repeat_n(1, rank));
            let bt = Tensor::from_iter(b.iter().copied(), dev)
                .and_then(|t| t.reshape(shape))
                .map_err(refused)?;
            y.broadcast_add(&bt).map_err(refused)?
        }
        None => y,
    };
    let shape = y.dims().to_vec();
    let data = y
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(refused)?;
    ArrayD::from_shape_vec(IxDyn(&shape), data)
        .map_err(|e| ConvError::unsupported(format!("output shape: {e}")))
}

impl ConvTransposeEngine<f32> for CandleTranspose {
    fn name(&self) -> &str {
        "candle-core (transposed)"
    }

    fn conv_transpose(&self, p: &TransposeProblem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        // What the declaration leaves out is declined before the crate is called: past this,
        // the rank is 1 or 2, the pads are explicit and one value, and stride, dilation and
        // output padding are one value each.
        if let Some(what) = self.capabilities().outside(&TransposeProblemShape::of(p)) {
            return Err(ConvError::unsupported(what));
        }
        let rank = p.input.ndim() - 2;
        if p.weight.ndim() != p.input.ndim() {
            return Err(ConvError::RankMismatch {
                what: "weight (C_in, C_out/groups, kernel...)",
                expected: p.input.ndim(),
                got: p.weight.ndim(),
            });
        }
        let one = |v: &[usize], what: &'static str, neutral: usize| -> Result<usize, ConvError> {
            Ok(per_axis(v, what, rank, neutral)?
                .first()
                .copied()
                .unwrap_or(neutral))
        };
        let stride = one(&p.spec.stride, "stride", 1)?;
        let dilation = one(&p.spec.dilation, "dilation", 1)?;
        let output_padding = one(&p.spec.output_padding, "output_padding", 0)?;
        let pad = match &p.spec.padding {
            TransposePadding::Explicit(v) => v.first().map_or(0, |&(lo, _)| lo),
            other => {
                return Err(ConvError::unsupported(format!(
                    "{other:?}: candle takes explicit pads only"
                )));
            }
        };
        let dev = Device::Cpu;
        let x = tensor(p.input.view(), &dev)?;
        let w = tensor(p.weight.view(), &dev)?;
        let y = if rank == 1 {
            x.conv_transpose1d(&w, pad, output_padding, stride, dilation, p.spec.groups)
        } else {
            x.conv_transpose2d(&w, pad, output_padding, stride, dilation)
        }
        .map_err(refused)?;
        with_bias(y, p.bias, rank, &dev)
    }

    fn capabilities(&self) -> TransposeCapabilities {
        TransposeCapabilities {
            ranks: 1..=2,
            // `padding: usize`: the same pad at both ends of every axis.
            paddings: vec![TransposePaddingRule::Explicit],
            pads: Pads::Shared,
            // One stride, dilation and output padding for every axis (`usize` arguments).
            stride: AxisSetting::Shared,
            dilation: AxisSetting::Shared,
            output_padding: AxisSetting::Shared,
            // Both return a `Result`.
            validates: true,
            ..TransposeCapabilities::all()
        }
        // `conv_transpose2d` has no `groups` argument.
        .in_rank(2, |c| TransposeCapabilities { groups: false, ..c })
    }
}
