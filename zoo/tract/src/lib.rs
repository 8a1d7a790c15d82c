//! [tract-core](https://crates.io/crates/tract-core) 0.23.10 as a conv-oracle engine.

use conv_oracle::engine::{BoundaryRule, Capabilities, ConvEngine, LargeKernel, ProblemShape};
use conv_oracle::problem::geometry::per_axis;
use conv_oracle::problem::{Boundary, ConvError, Flip, Padding, Problem};
use ndarray::{ArrayD, Axis, IxDyn, Slice};
use tract_core::internal::*;
use tract_core::ops::array::{Pad, PadMode};
use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_core::ops::nn::DataFormat;

/// tract's `Conv` operator in a `TypedModel` (source, kernel and bias constants, the
/// convolution; a `Pad` operator before it for constant, reflect and replicate boundaries),
/// optimised (`into_optimized`) and run.
///
/// What the crate's API supports (sources read: `src/ops/cnn/conv/conv.rs`,
/// `src/ops/cnn/pools.rs`, `src/ops/cnn/padding.rs`, `src/ops/array/pad.rs` of
/// tract-core 0.23.10):
///
/// - **Ranks**: any (`PoolSpec::kernel_shape: TVec<usize>`, `src/ops/cnn/pools.rs:11`), with
///   batch and channel axes (`DataFormat::NCHW`).
/// - **Stride**, **dilation**: per axis (`strides`, `dilations: Option<TVec<usize>>`,
///   `src/ops/cnn/pools.rs:13-14`).
/// - **Pads**: asymmetric per axis (`PaddingSpec::Explicit(before, after)`), `Valid`,
///   `SameUpper`, `SameLower` (`src/ops/cnn/padding.rs:4-11`); no full or PyTorch-same rule
///   (the adapter resolves those with the library).
/// - **Boundaries**: the convolution pads with zeros; the `Pad` operator adds constant,
///   reflect and edge (replicate) modes (`src/ops/array/pad.rs:7-11`). No symmetric, no
///   circular. Reflect reads the source `bef - i` inside the data-and-after part
///   (`src/ops/array/pad.rs:60`), so it is right only for pads `< n`; longer pads read the
///   after pad before it is filled (constant 0) or past the buffer, a panic (`:64`, `:74`).
///   No limit is documented, so none is declared. Edge and constant have no limit.
/// - **Flip**: cross-correlation only; the adapter flips the kernel for true convolution.
/// - **Groups**: yes (`Conv::group`); **bias**: a scalar or one per output channel
///   (`src/ops/cnn/conv/conv.rs:1152`); **batch**: yes.
/// - **Kernel larger than the padded input**: an empty output (extent 0), no error.
/// - **Stride 0**: a panic in tract-data's `divceil` (`(x + s - 1) / s`,
///   `tract-data src/dim/mod.rs:59-60`); an empty kernel axis: a panic in the kernel field
///   `(k - 1) * d + 1` (`src/ops/cnn/padding.rs:155`). **Dilation 0** is computed (every tap
///   reads one element), an **empty input axis** gives an empty output.
/// - **Validation**: `Conv::output_facts` compares the input's channels with
///   `PoolSpec::input_channels` (`src/ops/cnn/conv/conv.rs:1138-1147`) and nothing else with
///   the kernel's input axis, so the adapter fills that field with the kernel's count,
///   `KernelFormat::input_channels` = `I * group` (`src/ops/cnn/conv/mod.rs:73-82`), as
///   tract's ONNX (tract-hir) and NNEF front ends do. A channel mismatch, groups that do not
///   divide the input channels and groups 0 are then an `Err`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tract;

fn refused(e: impl std::fmt::Debug) -> ConvError {
    ConvError::unsupported(format!("tract refused: {e:?}"))
}

fn tensor(a: &ArrayD<f32>) -> TractResult<Tensor> {
    let data: Vec<f32> = a.iter().copied().collect();
    Tensor::from_shape(a.shape(), &data)
}

impl ConvEngine<f32> for Tract {
    fn name(&self) -> &str {
        "tract-core"
    }

    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        // What the declaration leaves out is declined before the crate is called.
        if let Some(what) = self.capabilities().outside(&ProblemShape::of(p)) {
            return Err(ConvError::unsupported(what));
        }
        let x = p.input.shape();
        let w = p.weight.shape();
        if w.len() != x.len() {
            return Err(ConvError::RankMismatch {
                what: "weight (O, C/groups, kernel...)",
                expected: x.len(),
                got: w.len(),
            });
        }
        let rank = x.len() - 2;
        let stride = per_axis(&p.spec.stride, "stride", rank, 1)?;
        let dilation = per_axis(&p.spec.dilation, "dilation", rank, 1)?;
        let pad_mode = match &p.spec.boundary {
            Boundary::Zeros => None,
            Boundary::Constant(c) => Some(PadMode::Constant(Arc::new(Tensor::from(*c)))),
            Boundary::Reflect => Some(PadMode::Reflect),
            Boundary::Replicate => Some(PadMode::Edge),
            Boundary::Symmetric | Boundary::Circular => {
                return Err(ConvError::unsupported(
                    "symmetric and circular boundaries (tract pads constant, reflect, edge)",
                ));
            }
        };
        let explicit = |pads: Vec<(usize, usize)>| {
            PaddingSpec::Explicit(
                pads.iter().map(|p| p.0).collect(),
                pads.iter().map(|p| p.1).collect(),
            )
        };
        // With a Pad operator first, the convolution itself is valid.
        let (pre_pad, padding) = match (&pad_mode, &p.spec.padding) {
            (None, Padding::Explicit(v)) => (None, explicit(v.clone())),
            (None, Padding::Valid) => (None, PaddingSpec::Valid),
            (None, Padding::SameUpper) => (None, PaddingSpec::SameUpper),
            (None, Padding::SameLower) => (None, PaddingSpec::SameLower),
            (None, _) => (None, explicit(p.validate_geometry()?.pads())),
            (Some(_), Padding::Explicit(v)) => (Some(v.clone()), PaddingSpec::Valid),
            (Some(_), Padding::Valid) => (None, PaddingSpec::Valid),
            (Some(_), _) => (Some(p.validate_geometry()?.pads()), PaddingSpec::Valid),
        };
        let mut weight = p.weight.to_owned();
        if p.spec.flip == Flip::Convolution {
            for a in 2..weight.ndim() {
                weight.slice_axis_inplace(Axis(a), Slice::new(0, None, -1));
            }
        }
        let run = || -> TractResult<Tensor> {
            let mut model = TypedModel::default();
            let mut wire = model.add_source("input", f32::fact(x))?;
            if let (Some(mode), Some(pads)) = (pad_mode.clone(), pre_pad) {
                let mut all = vec![(0, 0), (0, 0)];
                all.extend(pads);
                wire = model.wire_node("pad", Pad { pads: all, mode }, &[wire])?[0];
            }
            let kernel = model.add_const("kernel", tensor(&weight)?.into_arc_tensor())?;
            let bias = match &p.bias {
                Some(b) => {
                    let b: Vec<f32> = b.iter().copied().collect();
                    Tensor::from_shape(&[b.len()], &b)?
                }
                None => Tensor::from(0f32),
            };
            let bias = model.add_const("bias", bias.into_arc_tensor())?;
            let op = Conv {
                pool_spec: PoolSpec {
                    data_format: DataFormat::NCHW,
                    kernel_shape: w[2..].iter().copied().collect(),
                    padding,
                    dilations: Some(dilation.iter().copied().collect()),
                    strides: Some(stride.iter().copied().collect()),
                    // The kernel's count (`I * group`), as tract's ONNX and NNEF front ends
                    // fill it: `Conv` checks the input against this field only.
                    input_channels: KernelFormat::OIHW
                        .input_channels(w, p.spec.groups)
                        .into_owned(),
                    output_channels: w[0],
                },
                kernel_fmt: KernelFormat::OIHW,
                group: p.spec.groups,
                q_params: None,
            };
            let out = model.wire_node("conv", op, &[wire, kernel, bias])?;
            model.select_output_outlets(&out)?;
            let model = model.into_optimized()?;
            let input = tensor(&p.input.to_owned())?;
            let mut out = model.into_runnable()?.run(tvec!(input.into_tvalue()))?;
            Ok(out.remove(0).into_tensor())
        };
        let y = run().map_err(refused)?;
        let view = y.to_plain_array_view::<f32>().map_err(refused)?;
        let shape = view.shape().to_vec();
        ArrayD::from_shape_vec(IxDyn(&shape), view.iter().copied().collect())
            .map_err(|e| ConvError::unsupported(format!("output shape: {e}")))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Constant, reflect and edge through its `Pad` op, no length limit documented.
            boundaries: vec![
                BoundaryRule::Zeros,
                BoundaryRule::Constant,
                BoundaryRule::Reflect,
                BoundaryRule::Replicate,
            ],
            // A kernel larger than the input gives an empty output.
            large_kernel: LargeKernel::EmptyOutput,
            // Building and running a model returns a `Result`.
            validates: true,
            ..Capabilities::all()
        }
    }
}
