//! [ndarray-conv](https://crates.io/crates/ndarray-conv) 0.6.1 as a conv-oracle engine.

use conv_oracle::engine::{
    Algorithm, BoundaryRule, Capabilities, ConvEngine, ProblemShape, TransformPrecision,
};
use conv_oracle::problem::geometry::per_axis;
use conv_oracle::problem::{Boundary, ConvError, Flip, Padding, Problem};
use ndarray::{ArrayD, ArrayViewD, Axis, Dim, Ix, IxDyn};
use ndarray_conv::{ConvExt, ConvFFTExt, ConvMode, PaddingMode, ReverseKernel, WithDilation};

/// ndarray-conv's `ConvExt::conv` (direct) or `ConvFFTExt::conv_fft` on one `(N, C, ...)`
/// problem: the crate convolves one single-channel N-D array with one kernel, so the adapter
/// loops over batch, output channels and the input channels of each group, sums, and adds the
/// bias.
///
/// What the crate's documented API supports (sources read: `src/lib.rs`, `src/conv/mod.rs`,
/// `src/conv_fft/mod.rs`, `src/dilation/mod.rs`, `src/padding/half_dim.rs` of
/// ndarray-conv 0.6.1):
///
/// - **Ranks**: any `N` (const generic over `Dim<[Ix; N]>`); the adapter instantiates 1, 2, 3.
///   No channel or batch axis: one array, one kernel (`src/conv/mod.rs:110`).
/// - **Stride**: per axis, `ConvMode::Explicit { strides: [usize; N] }` (`src/lib.rs:98-104`).
///   The named modes `Full` / `Same` / `Valid` force stride 1 (`src/conv/mod.rs:40-58`).
/// - **Dilation**: per axis, `kernel.with_dilation([usize; N])` (`src/dilation/mod.rs:114`).
/// - **Pads**: asymmetric per axis, `ConvMode::Explicit { padding: [[lo, hi]; N] }`
///   (`src/lib.rs:100`); `Custom` is symmetric; `Same` puts the extra pad of an even kernel
///   first (`src/conv/mod.rs:47-48`: `[(k-1)/2 + 1, (k-1)/2]`, ONNX `SAME_LOWER` at stride 1).
/// - **Boundaries**: `Zeros`, `Const(c)`, `Reflect` (numpy `reflect`), `Replicate`, `Circular`,
///   one per axis or per side (`src/lib.rs:112-143`). No `symmetric`. Pad-length limits are not
///   checked: reflect reads the padded buffer at `2*lo - j` (`src/padding/half_dim.rs:200`),
///   so a reflect pad `>= n` reads not-yet-filled padding (zeros) and a front pad `>= n + hi`
///   indexes past the buffer (panic); circular reads `n + j` (`half_dim.rs:285`), right only
///   for pads `<= n`. Replicate and constant have no limit.
/// - **Flip**: both; `kernel.reverse()` (the default of `with_dilation`) is true convolution,
///   `no_reverse()` cross-correlation (`src/dilation/mod.rs:123`, `:159-185`).
/// - **Groups, bias, batch**: none in the API (the adapter builds them from single-channel
///   calls).
/// - **Kernel larger than the padded input**: `Err(Error::MismatchShape)`
///   (`src/conv/mod.rs:153`, `src/conv_fft/mod.rs:225`).
/// - **Validation**: zero-sized data or kernel is an error (`src/conv/mod.rs:137-144`); a zero
///   stride divides by zero in the output shape (`src/conv/mod.rs:165`): panic; a zero
///   dilation gives the extent `k*0 - 0 + 1 = 1` (`src/conv/mod.rs:147`) silently, every tap
///   reading the same element. Channels and groups are not the crate's (the adapter checks
///   them).
/// - **Special values**: taps whose kernel value is zero are skipped
///   (`src/dilation/mod.rs:49`, `.filter(|v| v != 0)`), so `inf * 0` never makes a NaN.
///   `conv_fft` mixes every value into every output.
#[derive(Clone, Copy, Debug, Default)]
pub struct NdarrayConv {
    /// `conv_fft` instead of `conv`.
    pub fft: bool,
}

impl NdarrayConv {
    /// The direct `ConvExt::conv`.
    pub fn direct() -> Self {
        NdarrayConv { fft: false }
    }
    /// The FFT `ConvFFTExt::conv_fft`.
    pub fn fft() -> Self {
        NdarrayConv { fft: true }
    }
}

/// The pads of every spatial axis: explicit and valid as given, the other rules resolved by the
/// library (ndarray-conv's own `Same` and `Full` force stride 1 and place pads their own way).
fn pads(p: &Problem<'_, f32>, rank: usize) -> Result<Vec<(usize, usize)>, ConvError> {
    match &p.spec.padding {
        Padding::Explicit(v) if v.len() == rank => Ok(v.clone()),
        Padding::Valid => Ok(vec![(0, 0); rank]),
        _ => Ok(p.validate_geometry()?.pads()),
    }
}

macro_rules! conv_rank {
    ($name:ident, $n:literal) => {
        // The crate's call takes every setting; one argument each keeps the call readable.
        #[allow(clippy::too_many_arguments)]
        fn $name(
            fft: bool,
            x: ArrayViewD<'_, f32>,
            w: ArrayViewD<'_, f32>,
            pads: &[(usize, usize)],
            stride: &[usize],
            dilation: &[usize],
            mode: PaddingMode<$n, f32>,
            flip: Flip,
        ) -> Result<ArrayD<f32>, ConvError> {
            let err = |e: ndarray::ShapeError| ConvError::unsupported(format!("shape: {e}"));
            let x = x.into_dimensionality::<Dim<[Ix; $n]>>().map_err(err)?;
            let w = w.into_dimensionality::<Dim<[Ix; $n]>>().map_err(err)?;
            let conv_mode = ConvMode::Explicit {
                padding: std::array::from_fn(|i| [pads[i].0, pads[i].1]),
                strides: std::array::from_fn(|i| stride[i]),
            };
            let d: [usize; $n] = std::array::from_fn(|i| dilation[i]);
            let kernel = w.with_dilation(d);
            let kernel = match flip {
                Flip::Correlation => kernel.no_reverse(),
                Flip::Convolution => kernel.reverse(),
            };
            let out = if fft {
                x.conv_fft(kernel, conv_mode, mode)
            } else {
                x.conv(kernel, conv_mode, mode)
            };
            out.map(|a| a.into_dyn())
                .map_err(|e| ConvError::unsupported(format!("ndarray-conv refused: {e}")))
        }
    };
}
conv_rank!(conv1, 1);
conv_rank!(conv2, 2);
conv_rank!(conv3, 3);

macro_rules! padding_mode {
    ($n:literal, $b:expr) => {
        match $b {
            Boundary::Zeros => PaddingMode::<$n, f32>::Zeros,
            Boundary::Constant(c) => PaddingMode::Const(*c),
            Boundary::Reflect => PaddingMode::Reflect,
            Boundary::Replicate => PaddingMode::Replicate,
            Boundary::Circular => PaddingMode::Circular,
            Boundary::Symmetric => unreachable!("refused before"),
        }
    };
}

impl ConvEngine<f32> for NdarrayConv {
    fn name(&self) -> &str {
        if self.fft {
            "ndarray-conv conv_fft"
        } else {
            "ndarray-conv conv"
        }
    }

    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        // What the declaration leaves out is declined before the crate is called.
        if let Some(what) = self.capabilities().outside(&ProblemShape::of(p)) {
            return Err(ConvError::unsupported(what));
        }
        let (x, w) = (p.input.shape(), p.weight.shape());
        if x.len() < 3 || x.len() > 5 {
            return Err(ConvError::unsupported(
                "spatial ranks other than 1, 2, 3 (the adapter instantiates those)",
            ));
        }
        if w.len() != x.len() {
            return Err(ConvError::RankMismatch {
                what: "weight (O, C/groups, kernel...)",
                expected: x.len(),
                got: w.len(),
            });
        }
        let rank = x.len() - 2;
        let (batch, c_in, c_out, c_per_group, groups) = (x[0], x[1], w[0], w[1], p.spec.groups);
        // The channel bookkeeping is the adapter's own (the crate has no channels): check it.
        if groups == 0 || c_out % groups != 0 {
            return Err(ConvError::GroupsDoNotDivide {
                what: "output channels",
                groups,
                got: c_out,
            });
        }
        if c_per_group.checked_mul(groups) != Some(c_in) {
            return Err(ConvError::unsupported(format!(
                "input channels {c_in} are not weight channels {c_per_group} times groups {groups}"
            )));
        }
        if let Some(b) = &p.bias
            && b.len() != c_out
        {
            return Err(ConvError::unsupported(format!(
                "bias of length {} for {c_out} output channels",
                b.len()
            )));
        }
        let stride = per_axis(&p.spec.stride, "stride", rank, 1)?;
        let dilation = per_axis(&p.spec.dilation, "dilation", rank, 1)?;
        let pads = pads(p, rank)?;
        let o_per_group = c_out / groups;
        let mut out: Option<ArrayD<f32>> = None;
        for n in 0..batch {
            for o in 0..c_out {
                let g = o / o_per_group;
                let mut acc: Option<ArrayD<f32>> = None;
                for c in 0..c_per_group {
                    let xs = p
                        .input
                        .index_axis(Axis(0), n)
                        .index_axis_move(Axis(0), g * c_per_group + c);
                    let ws = p.weight.index_axis(Axis(0), o).index_axis_move(Axis(0), c);
                    let b = &p.spec.boundary;
                    let f = p.spec.flip;
                    let y = match rank {
                        1 => conv1(
                            self.fft,
                            xs,
                            ws,
                            &pads,
                            &stride,
                            &dilation,
                            padding_mode!(1, b),
                            f,
                        ),
                        2 => conv2(
                            self.fft,
                            xs,
                            ws,
                            &pads,
                            &stride,
                            &dilation,
                            padding_mode!(2, b),
                            f,
                        ),
                        _ => conv3(
                            self.fft,
                            xs,
                            ws,
                            &pads,
                            &stride,
                            &dilation,
                            padding_mode!(3, b),
                            f,
                        ),
                    }?;
                    acc = Some(match acc {
                        None => y,
                        Some(a) => a + y,
                    });
                }
                let mut y = acc.ok_or_else(|| ConvError::unsupported("no input channel"))?;
                if let Some(b) = &p.bias {
                    y += b[o];
                }
                let o_arr = out.get_or_insert_with(|| {
                    let mut shape = vec![batch, c_out];
                    shape.extend_from_slice(y.shape());
                    ArrayD::zeros(IxDyn(&shape))
                });
                o_arr
                    .index_axis_mut(Axis(0), n)
                    .index_axis_mut(Axis(0), o)
                    .assign(&y);
            }
        }
        match out {
            Some(o) => Ok(o),
            // An empty batch: the output shape comes from the library's geometry.
            None => {
                let geo = p.validate_geometry()?;
                let mut shape = vec![batch, c_out];
                shape.extend(geo.output_shape());
                Ok(ArrayD::zeros(IxDyn(&shape)))
            }
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // No symmetric mode; no pad limit documented or checked (numpy's modes, as the
            // crate names them).
            boundaries: vec![
                BoundaryRule::Zeros,
                BoundaryRule::Constant,
                BoundaryRule::Reflect,
                BoundaryRule::Replicate,
                BoundaryRule::Circular,
            ],
            // Its `conv` returns a `Result`: errors, not panics, are what it promises.
            validates: true,
            // Zero taps are skipped (`inf * 0` gives no NaN).
            special_values: false,
            ..Capabilities::all()
        }
    }

    /// `conv`: direct sums. `conv_fft` on f32: rustfft / realfft in single precision, at
    /// `good_size_cc(max(padded n, dilated k))` per axis (`src/conv_fft/mod.rs:229`,
    /// `src/conv_fft/good_size.rs`), which starts at the next power of two and only shrinks:
    /// the power of two is declared, an upper bound of its length (the bound grows with
    /// it). The adapter's sum over input channels and its bias, in f32, are inside the
    /// bound's channel and bias terms.
    fn algorithm(&self, p: &Problem<'_, f32>) -> Algorithm {
        if !self.fft {
            return Algorithm::Direct;
        }
        match p.validate_geometry() {
            Ok(geo) => Algorithm::fft(
                TransformPrecision::Single,
                geo.axes
                    .iter()
                    .map(|a| {
                        let padded = a.input + a.pad_lo + a.pad_hi;
                        padded.max(a.effective_kernel()).next_power_of_two()
                    })
                    .collect(),
            ),
            Err(_) => Algorithm::Direct,
        }
    }
}
