//! [burn-tensor](https://crates.io/crates/burn-tensor) 0.22.1 as a conv-oracle engine, on
//! the NdArray device or the Flex device (burn's pure-Rust CPU backend; 0.22 marks NdArray
//! deprecated in its favour).

use burn_tensor::module::{conv1d, conv2d, conv3d};
use burn_tensor::ops::{ConvOptions, PadMode};
use burn_tensor::{Device, Tensor, TensorData};
use conv_oracle::engine::{BoundaryRule, Capabilities, ConvEngine, PadLimit, ProblemShape};
use conv_oracle::problem::geometry::per_axis;
use conv_oracle::problem::{Boundary, ConvError, Flip, Padding, Problem};
use ndarray::{ArrayD, IxDyn};

/// Which of burn's CPU devices runs the convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BurnDevice {
    /// `Device::ndarray()` (burn-ndarray, deprecated in 0.22).
    NdArray,
    /// `Device::flex()` (burn-flex).
    Flex,
}

/// burn's `module::conv1d` / `conv2d` / `conv3d` with `ConvOptions`, after `Tensor::pad` for
/// constant, reflect and replicate boundaries.
///
/// What the crate's documented API supports (sources read: `src/tensor/module.rs`,
/// `src/tensor/api/pad.rs`, `src/tensor/api/check.rs` of burn-tensor 0.22.1 and
/// `src/ops.rs` of burn-std 0.22.1):
///
/// - **Ranks**: 1-D, 2-D, 3-D (`module.rs:151`, `:178`, `:205`).
/// - **Stride**, **dilation**: per axis, `[usize; N]` (`burn-std src/ops.rs:17`, `:23`).
/// - **Pads**: `[(begin, end); N]`, asymmetric in 1-D and 2-D; 3-D panics on asymmetric pads
///   ("Asymmetric padding is not yet supported for conv3d", `module.rs:219-221`), so the
///   capabilities leave out asymmetric zero pads in 3-D (`conv3d_pads_symmetric`); other
///   boundaries pad first with `Tensor::pad`, on any axis. No padding rules (the adapter
///   resolves them with the library).
/// - **Boundaries**: the convolution pads with zeros; `Tensor::pad` adds `Constant(f32)`,
///   `Reflect` and `Edge` (`pad.rs:129`). Reflect is documented to panic for a pad
///   `> n - 1` (`pad.rs:108`), so the capabilities limit reflect pads to `< n`
///   (`PadLimit::BelowInput`); edge and constant have no limit. No symmetric, no circular.
/// - **Flip**: cross-correlation only; the adapter flips the kernel (`Tensor::flip`).
/// - **Groups**, **bias** (`Option<Tensor<1>>`), **batch**: yes.
/// - **Validation**: by panics, burn's convention: `ConvOptions::new` panics on zero stride,
///   dilation or groups (`burn-std src/ops.rs:38-41`, `check_nonzero`), and the channel check
///   `C == C_w * groups` panics through `check!` (`check.rs:1277`). The fields are public
///   and the adapter fills them directly; in 1-D a zero stride or dilation still reaches
///   `check_nonzero`, both devices building 2-D or 3-D options with `ConvOptions::new`. So the capabilities do not claim to validate
///   (the invalid-input section wants errors). A kernel larger than the input and an empty
///   kernel panic by an overflow in the output length, and a few invalid problems are
///   computed (`tests/findings.rs`).
#[derive(Clone, Copy, Debug)]
pub struct Burn {
    /// The device.
    pub device: BurnDevice,
}

impl Burn {
    /// On `Device::ndarray()`.
    pub fn ndarray() -> Self {
        Burn {
            device: BurnDevice::NdArray,
        }
    }
    /// On `Device::flex()`.
    pub fn flex() -> Self {
        Burn {
            device: BurnDevice::Flex,
        }
    }
    fn device(&self) -> Device {
        match self.device {
            #[allow(deprecated)]
            BurnDevice::NdArray => Device::ndarray(),
            BurnDevice::Flex => Device::flex(),
        }
    }
}

fn refused(e: impl std::fmt::Debug) -> ConvError {
    ConvError::unsupported(format!("burn refused: {e:?}"))
}

/// A tensor of rank `D` from an ndarray view.
fn tensor<const D: usize>(a: ndarray::ArrayViewD<'_, f32>, device: &Device) -> Tensor<D> {
    let data = TensorData::new(a.iter().copied().collect::<Vec<f32>>(), a.shape().to_vec());
    Tensor::<D>::from_data(data, device)
}

fn back<const D: usize>(y: Tensor<D>) -> Result<ArrayD<f32>, ConvError> {
    let shape = y.dims().to_vec();
    let data = y.into_data().try_to_vec::<f32>().map_err(refused)?;
    ArrayD::from_shape_vec(IxDyn(&shape), data)
        .map_err(|e| ConvError::unsupported(format!("output shape: {e}")))
}

macro_rules! run_rank {
    ($name:ident, $n:literal, $conv:ident) => {
        fn $name(
            p: &Problem<'_, f32>,
            device: &Device,
            pre: Option<(Vec<(usize, usize)>, PadMode)>,
            pads: &[(usize, usize)],
            stride: &[usize],
            dilation: &[usize],
        ) -> Result<ArrayD<f32>, ConvError> {
            const D: usize = $n + 2;
            let mut x = tensor::<D>(p.input.view(), device);
            if let Some((pre, mode)) = pre {
                x = x.pad(pre, mode);
            }
            let mut w = tensor::<D>(p.weight.view(), device);
            if p.spec.flip == Flip::Convolution {
                let axes: [usize; $n] = std::array::from_fn(|i| i + 2);
                w = w.flip(axes);
            }
            let b = p.bias.map(|b| {
                Tensor::<1>::from_data(
                    TensorData::new(b.iter().copied().collect::<Vec<f32>>(), vec![b.len()]),
                    device,
                )
            });
            let options = ConvOptions::<$n> {
                stride: std::array::from_fn(|i| stride[i]),
                padding: std::array::from_fn(|i| pads[i]),
                dilation: std::array::from_fn(|i| dilation[i]),
                groups: p.spec.groups,
            };
            back($conv(x, w, b, options))
        }
    };
}
run_rank!(run1, 1, conv1d);
run_rank!(run2, 2, conv2d);
run_rank!(run3, 3, conv3d);

/// `conv3d` panics on asymmetric pads (`module.rs:219-221`), and the zero pads go to it: in
/// 3-D with the zero boundary, the pads (explicit or derived by a `SAME` rule) are symmetric.
/// The other boundaries pad with `Tensor::pad`, which takes `(before, after)` on any axis.
fn conv3d_pads_symmetric(p: &ProblemShape) -> bool {
    p.rank() != 3
        || !matches!(p.spec.boundary, Boundary::Zeros)
        || p.pads().is_none_or(|v| v.iter().all(|(lo, hi)| lo == hi))
}

impl ConvEngine<f32> for Burn {
    fn name(&self) -> &str {
        match self.device {
            BurnDevice::NdArray => "burn NdArray",
            BurnDevice::Flex => "burn Flex",
        }
    }

    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        // What the declaration leaves out is declined before the crate is called.
        if let Some(what) = self.capabilities().outside(&ProblemShape::of(p)) {
            return Err(ConvError::unsupported(what));
        }
        let x = p.input.shape();
        let rank = x.len() - 2;
        if p.weight.ndim() != x.len() {
            return Err(ConvError::RankMismatch {
                what: "weight (O, C/groups, kernel...)",
                expected: x.len(),
                got: p.weight.ndim(),
            });
        }
        let stride = per_axis(&p.spec.stride, "stride", rank, 1)?;
        let dilation = per_axis(&p.spec.dilation, "dilation", rank, 1)?;
        let resolved = match &p.spec.padding {
            Padding::Explicit(v) => v.clone(),
            Padding::Valid => vec![(0, 0); rank],
            _ => p.validate_geometry()?.pads(),
        };
        if resolved.len() != rank {
            return Err(ConvError::RankMismatch {
                what: "pads",
                expected: rank,
                got: resolved.len(),
            });
        }
        let mode = match &p.spec.boundary {
            Boundary::Zeros => None,
            Boundary::Constant(c) => Some(PadMode::Constant(*c)),
            Boundary::Reflect => Some(PadMode::Reflect),
            Boundary::Replicate => Some(PadMode::Edge),
            Boundary::Symmetric | Boundary::Circular => {
                return Err(ConvError::unsupported(
                    "symmetric and circular boundaries (burn pads constant, reflect, edge)",
                ));
            }
        };
        let (pre, pads) = match mode {
            Some(m) if resolved.iter().any(|&p| p != (0, 0)) => {
                (Some((resolved, m)), vec![(0, 0); rank])
            }
            _ => (None, resolved),
        };
        let device = self.device();
        match rank {
            1 => run1(p, &device, pre, &pads, &stride, &dilation),
            2 => run2(p, &device, pre, &pads, &stride, &dilation),
            _ => run3(p, &device, pre, &pads, &stride, &dilation),
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Constant, reflect (documented to panic for a pad >= n) and edge through
            // `Tensor::pad`.
            boundaries: vec![
                BoundaryRule::Zeros,
                BoundaryRule::Constant,
                BoundaryRule::Reflect,
                BoundaryRule::Replicate,
            ],
            pad_limits: vec![(BoundaryRule::Reflect, PadLimit::BelowInput)],
            // burn checks its arguments with panics (documented), not errors.
            validates: false,
            accepts: Some(conv3d_pads_symmetric),
            ..Capabilities::all()
        }
    }
}
