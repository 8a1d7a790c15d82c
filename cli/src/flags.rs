//! The command line's spec grammar: the layer flags (`--stride`, `--padding`, ...), their
//! parsers, `--tolerance`, and the keys and inline arrays of `judge --stream` requests.
//!
//! A module of its own so that the fuzz target `cli_spec` (fuzz/) exercises exactly the code
//! the binary runs.

use crate::cli_io::{Data, one_line};
use clap::ValueEnum;
use conv_oracle::layer::{
    AutoPad, InputLayout, KernelLayout, LayerSpec, PaddingMode, TransposePadding, TransposeSpec,
};
use conv_oracle::problem::Padding;
use conv_oracle::tolerance::fft::TransformPrecision;
use conv_oracle::tolerance::{Model, Preset};
use ndarray::ArrayD;
use std::path::{Path, PathBuf};

/// The arrays and the layer's spec (shared by conv and judge).
#[derive(clap::Args, Clone)]
pub struct LayerArgs {
    /// Input (.npy), (N, C, spatial...) or with --layout nhwc (N, spatial..., C). Required
    /// (except with judge --stream).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Weight (.npy): (O, C/groups, k...) by default; (C_in, C_out/groups, k...) with
    /// --transpose. Required (except with judge --stream).
    #[arg(long)]
    pub weight: Option<PathBuf>,
    /// Bias (.npy), one value per output channel.
    #[arg(long)]
    pub bias: Option<PathBuf>,
    /// S (every spatial axis) or S0,S1,...
    #[arg(long, default_value = "1")]
    pub stride: String,
    /// D (every spatial axis) or D0,D1,...
    #[arg(long, default_value = "1")]
    pub dilation: String,
    /// P (both sides, every axis), LO:HI,LO:HI,... (one pair per spatial axis), valid, full,
    /// same-upper, same-lower or torch-same.
    #[arg(long, default_value = "0")]
    pub padding: String,
    /// How the padded region is filled (PyTorch padding_mode).
    #[arg(long, value_enum, default_value_t = PaddingModeArg::Zeros)]
    pub padding_mode: PaddingModeArg,
    /// Channel groups.
    #[arg(long, default_value_t = 1)]
    pub groups: usize,
    /// Input and output layout.
    #[arg(long, value_enum, default_value_t = LayoutArg::Nchw)]
    pub layout: LayoutArg,
    /// Weight layout (not with --transpose).
    #[arg(long, value_enum, default_value_t = KernelLayoutArg::Oihw)]
    pub kernel_layout: KernelLayoutArg,
    /// Transposed convolution (PyTorch / ONNX ConvTranspose): --padding P, LO:HI,...,
    /// valid, same-upper or same-lower; zeros padding mode; weight (C_in, C_out/groups, k...).
    #[arg(long)]
    pub transpose: bool,
    /// With --transpose: extra extent at the end of each axis, P or P0,P1,...
    #[arg(long)]
    pub output_padding: Option<String>,
    /// With --transpose: ONNX output_shape (spatial extents), N or N0,N1,...; --padding
    /// same-upper / same-lower then gives the node's auto_pad.
    #[arg(long)]
    pub output_shape: Option<String>,
}

impl LayerArgs {
    /// The layer spec of the flags for a problem of `rank` spatial axes.
    pub fn spec(&self, rank: usize) -> Result<LayerSpec, String> {
        self.spec_inner(rank).map_err(one_line)
    }

    fn spec_inner(&self, rank: usize) -> Result<LayerSpec, String> {
        Ok(LayerSpec {
            stride: per_axis("--stride", &self.stride, rank)?,
            dilation: per_axis("--dilation", &self.dilation, rank)?,
            padding: parse_padding(&self.padding, rank)?,
            padding_mode: match self.padding_mode {
                PaddingModeArg::Zeros => PaddingMode::Zeros,
                PaddingModeArg::Reflect => PaddingMode::Reflect,
                PaddingModeArg::Replicate => PaddingMode::Replicate,
                PaddingModeArg::Circular => PaddingMode::Circular,
                PaddingModeArg::Symmetric => PaddingMode::Symmetric,
            },
            groups: self.groups,
            input_layout: self.input_layout(),
            kernel_layout: match self.kernel_layout {
                KernelLayoutArg::Oihw => KernelLayout::Oihw,
                KernelLayoutArg::Hwio => KernelLayout::Hwio,
                KernelLayoutArg::Ohwi => KernelLayout::Ohwi,
            },
            limits: crate::cli_io::limits(),
        })
    }

    /// The transposed spec of the flags (with --transpose) for `rank` spatial axes.
    pub fn transpose_spec(&self, rank: usize) -> Result<TransposeSpec, String> {
        self.transpose_spec_inner(rank).map_err(one_line)
    }

    fn transpose_spec_inner(&self, rank: usize) -> Result<TransposeSpec, String> {
        if !matches!(self.padding_mode, PaddingModeArg::Zeros) {
            return Err(
                "--transpose accepts only --padding-mode zeros (as PyTorch ConvTranspose)".into(),
            );
        }
        if !matches!(self.kernel_layout, KernelLayoutArg::Oihw) {
            return Err("--transpose takes the weight as (C_in, C_out/groups, k...); --kernel-layout must be oihw".into());
        }
        let padding = match (self.padding.as_str(), &self.output_shape) {
            ("torch-same" | "same" | "full", _) => {
                return Err(format!(
                    "--padding {} is not defined for --transpose",
                    self.padding
                ));
            }
            (p, Some(shape)) => TransposePadding::OutputShape {
                shape: per_axis("--output-shape", shape, rank)?,
                auto_pad: match p {
                    "same-upper" => AutoPad::SameUpper,
                    "same-lower" => AutoPad::SameLower,
                    _ => AutoPad::NotSet,
                },
            },
            ("same-upper", None) => TransposePadding::SameUpper,
            ("same-lower", None) => TransposePadding::SameLower,
            ("valid", None) => TransposePadding::Explicit(vec![(0, 0); rank]),
            (p, None) => match parse_padding(p, rank)? {
                Padding::Explicit(pairs) => TransposePadding::Explicit(pairs),
                _ => return Err(format!("--padding '{p}' is not defined for --transpose")),
            },
        };
        Ok(TransposeSpec {
            stride: per_axis("--stride", &self.stride, rank)?,
            dilation: per_axis("--dilation", &self.dilation, rank)?,
            padding,
            output_padding: match &self.output_padding {
                Some(s) => per_axis("--output-padding", s, rank)?,
                None => Vec::new(),
            },
            groups: self.groups,
            limits: crate::cli_io::limits(),
        })
    }

    /// Refuses the transposed-only flags without --transpose.
    pub fn check_transpose_flags(&self) -> Result<(), String> {
        if !self.transpose && (self.output_padding.is_some() || self.output_shape.is_some()) {
            return Err("--output-padding and --output-shape need --transpose".into());
        }
        Ok(())
    }

    pub fn input_layout(&self) -> InputLayout {
        match self.layout {
            LayoutArg::Nchw => InputLayout::ChannelsFirst,
            LayoutArg::Nhwc => InputLayout::ChannelsLast,
        }
    }

    /// Refuses a command without --input or --weight.
    pub fn require(&self) -> Result<(), String> {
        for (flag, v) in [("--input", &self.input), ("--weight", &self.weight)] {
            if v.is_none() {
                return Err(format!("{flag} FILE.npy is required"));
            }
        }
        Ok(())
    }

    pub fn input_path(&self) -> &Path {
        self.input.as_deref().unwrap_or(Path::new(""))
    }

    pub fn weight_path(&self) -> &Path {
        self.weight.as_deref().unwrap_or(Path::new(""))
    }

    /// The input files, bias included.
    pub fn inputs(&self) -> Vec<&Path> {
        let mut inputs = vec![self.input_path(), self.weight_path()];
        if let Some(b) = &self.bias {
            inputs.push(b.as_path());
        }
        inputs
    }

    /// The input's spatial rank.
    pub fn spatial_rank(&self, input: &ArrayD<impl Sized>) -> Result<usize, String> {
        input.ndim().checked_sub(2).ok_or_else(|| {
            format!(
                "{}: expected (N, C, spatial...) with at least 2 axes, got {}",
                self.input_path().display(),
                input.ndim()
            )
        })
    }

    /// The bias array as 1-D.
    pub fn bias_view<'a, T>(
        &self,
        b: Option<&'a ArrayD<T>>,
    ) -> Result<Option<ndarray::ArrayView1<'a, T>>, String> {
        b.map(|b| {
            b.view().into_dimensionality::<ndarray::Ix1>().map_err(|_| {
                format!(
                    "{}: bias must be 1-D (one value per output channel), got {} axes",
                    self.bias
                        .as_deref()
                        .map(Path::display)
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    b.ndim()
                )
            })
        })
        .transpose()
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PaddingModeArg {
    /// Zeros (PyTorch zeros, scipy fill 0, ndimage constant 0).
    Zeros,
    /// Mirror without the edge (PyTorch reflect, numpy reflect, scipy.ndimage mirror).
    Reflect,
    /// Repeat the edge (PyTorch replicate, numpy edge, scipy.ndimage nearest).
    Replicate,
    /// Periodic (PyTorch circular, numpy/scipy wrap).
    Circular,
    /// Mirror with the edge (numpy symmetric, scipy.ndimage reflect, scipy.signal symm, TF SYMMETRIC).
    Symmetric,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    Nchw,
    Nhwc,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KernelLayoutArg {
    Oihw,
    Hwio,
    Ohwi,
}

/// Parses `V` or `V0,V1,...` into one value per spatial axis.
fn per_axis(flag: &str, s: &str, rank: usize) -> Result<Vec<usize>, String> {
    let values: Vec<usize> = s
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("{flag} '{s}': '{t}' is not a non-negative integer"))
        })
        .collect::<Result<_, _>>()?;
    match values.len() {
        1 => Ok(vec![values[0]; rank]),
        n if n == rank => Ok(values),
        n => Err(format!(
            "{flag} '{s}': {n} values for {rank} spatial axes (give one value, or one per axis)"
        )),
    }
}

/// Parses --padding into the layer rule (explicit pads per axis, or a named rule).
fn parse_padding(s: &str, rank: usize) -> Result<Padding, String> {
    Ok(match s {
        "valid" => Padding::Valid,
        "full" => Padding::Full,
        "same-upper" => Padding::SameUpper,
        "same-lower" => Padding::SameLower,
        "torch-same" | "same" => Padding::TorchSame,
        _ if s.contains(':') => {
            let pairs: Vec<(usize, usize)> = s
                .split(',')
                .map(|pair| {
                    let (lo, hi) = pair
                        .split_once(':')
                        .ok_or_else(|| format!("--padding '{s}': '{pair}' is not LO:HI"))?;
                    let num = |t: &str| {
                        t.trim().parse::<usize>().map_err(|_| {
                            format!("--padding '{s}': '{t}' is not a non-negative integer")
                        })
                    };
                    Ok((num(lo)?, num(hi)?))
                })
                .collect::<Result<_, String>>()?;
            if pairs.len() != rank {
                return Err(format!(
                    "--padding '{s}': {} pairs for {rank} spatial axes (one LO:HI per axis)",
                    pairs.len()
                ));
            }
            Padding::Explicit(pairs)
        }
        _ => Padding::Explicit(
            per_axis("--padding", s, rank)?
                .into_iter()
                .map(|p| (p, p))
                .collect(),
        ),
    })
}

/// What `--tolerance` names: a model, or an algorithm whose model the caller derives from
/// the problem.
#[derive(Clone, Debug, PartialEq)]
pub enum ToleranceArg {
    /// A model that does not depend on the problem.
    Fixed(Model),
    /// `normwise[:double|:single]`: the FFT bound at the lengths the crate's FFT engine picks.
    Normwise(TransformPrecision),
    /// `fft:PRECISION:LENGTHS`: the FFT bound at the candidate's own transform lengths.
    Fft(TransformPrecision, FftLengths),
    /// `winograd:M`: Winograd `F(M, r)` tiles, `r` the kernel's taps.
    Winograd(usize),
}

/// The transform lengths of `--tolerance fft:PRECISION:LENGTHS`.
#[derive(Clone, Debug, PartialEq)]
pub enum FftLengths {
    /// `linear`: the linear extent of the padded input and dilated kernel per axis.
    Linear,
    /// `pow2`: the linear extent rounded up to a power of two.
    PowerOfTwo,
    /// `L1xL2x...`: one length per spatial axis.
    Given(Vec<usize>),
}

/// The model `--tolerance` names, for element type `dtype` (`"f32"` or `"f64"`).
fn tolerance_model_inner(name: &str, dtype: &str) -> Result<ToleranceArg, String> {
    let name = name.trim();
    match name {
        "normwise" | "normwise:double" => {
            return Ok(ToleranceArg::Normwise(TransformPrecision::Double));
        }
        "normwise:single" => return Ok(ToleranceArg::Normwise(TransformPrecision::Single)),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("fft:") {
        let usage = "--tolerance fft:PRECISION:LENGTHS takes double or single, then linear, pow2 or lengths like 64x32";
        let (precision, lengths) = rest.split_once(':').ok_or(usage)?;
        let precision = match precision {
            "double" => TransformPrecision::Double,
            "single" => TransformPrecision::Single,
            _ => return Err(format!("{usage}, got precision '{precision}'")),
        };
        let lengths = match lengths {
            "linear" => FftLengths::Linear,
            "pow2" => FftLengths::PowerOfTwo,
            given => FftLengths::Given(
                given
                    .split('x')
                    .map(|l| l.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("{usage}, got lengths '{given}'"))?,
            ),
        };
        return Ok(ToleranceArg::Fft(precision, lengths));
    }
    if let Some(m) = name.strip_prefix("winograd:") {
        return m
            .trim()
            .parse::<usize>()
            .map(ToleranceArg::Winograd)
            .map_err(|_| {
                format!(
                    "--tolerance winograd:M needs a whole number of outputs per tile M, got '{m}'"
                )
            });
    }
    tolerance_preset(name, dtype).map(ToleranceArg::Fixed)
}

/// A `--tolerance` model that does not depend on the problem.
fn tolerance_preset(name: &str, dtype: &str) -> Result<Model, String> {
    if let Some(n) = name.strip_prefix("ulp:") {
        let n: u64 = n
            .parse()
            .map_err(|_| format!("--tolerance ulp:N needs a whole number N, got '{n}'"))?;
        return Ok(Model::Ulp(n));
    }
    let preset = match (name, dtype) {
        ("componentwise", _) => return Ok(Model::Componentwise),
        ("exact", _) => return Ok(Model::Exact),
        ("tosa", _) => return Ok(Model::Tosa),
        ("torch", "f32") => "torch-f32",
        ("torch", _) => "torch-f64",
        ("jax", "f32") => "jax-f32",
        ("jax", _) => "jax-f64",
        (other, _) => other,
    };
    let p: Preset = preset.parse().map_err(|_| {
        format!(
            "--tolerance '{name}': expected componentwise, normwise, normwise:single, ulp:N, \
             exact, tosa, torch, numpy, onnx, onnxruntime, jax or one of {}",
            Preset::ALL.map(|p| p.name()).join(", ")
        )
    })?;
    Ok(p.model())
}

/// An inline array of a `--stream` request.
fn inline_array_inner(key: &str, v: &serde_json::Value) -> Result<Data, String> {
    let dtype = v.get("dtype").and_then(|d| d.as_str()).unwrap_or("float64");
    let shape: Vec<usize> = v
        .get("shape")
        .and_then(|s| s.as_array())
        .and_then(|s| {
            s.iter()
                .map(|n| n.as_u64().and_then(|n| usize::try_from(n).ok()))
                .collect()
        })
        .ok_or_else(|| format!("'{key}': 'shape' must be a list of whole numbers"))?;
    let items = v
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or_else(|| format!("'{key}': 'data' must be a list"))?;
    let expected = shape
        .iter()
        .try_fold(1usize, |a, &n| a.checked_mul(n))
        .ok_or_else(|| format!("'{key}': shape {shape:?} is too large"))?;
    if items.len() != expected {
        return Err(format!(
            "'{key}': shape {shape:?} needs {expected} values, got {}",
            items.len()
        ));
    }
    let value = |x: &serde_json::Value, bits32: bool| -> Result<f64, String> {
        match x {
            serde_json::Value::Number(n) => n.as_f64().ok_or_else(|| format!("'{key}': {n}")),
            serde_json::Value::String(s) => {
                if let Some(h) = s.strip_prefix("0x") {
                    if bits32 {
                        u32::from_str_radix(h, 16).map(|b| f64::from(f32::from_bits(b)))
                    } else {
                        u64::from_str_radix(h, 16).map(f64::from_bits)
                    }
                    .map_err(|_| format!("'{key}': bad bit pattern '{s}'"))
                } else {
                    s.parse::<f64>()
                        .map_err(|_| format!("'{key}': '{s}' is not a number"))
                }
            }
            other => Err(format!("'{key}': {other} is not a number")),
        }
    };
    let dims = ndarray::IxDyn(&shape);
    match dtype {
        "float64" => {
            let vals = items
                .iter()
                .map(|x| value(x, false))
                .collect::<Result<Vec<_>, _>>()?;
            ArrayD::from_shape_vec(dims, vals)
                .map(Data::F64)
                .map_err(|e| e.to_string())
        }
        "float32" => {
            let vals = items
                .iter()
                .map(|x| match x {
                    // Decimal text parsed straight to f32 (no double rounding through f64).
                    serde_json::Value::Number(n) => n
                        .to_string()
                        .parse::<f32>()
                        .map_err(|_| format!("'{key}': {n}")),
                    serde_json::Value::String(s) if !s.starts_with("0x") => s
                        .parse::<f32>()
                        .map_err(|_| format!("'{key}': '{s}' is not a number")),
                    other => value(other, true).map(|v| v as f32),
                })
                .collect::<Result<Vec<_>, _>>()?;
            ArrayD::from_shape_vec(dims, vals)
                .map(Data::F32)
                .map_err(|e| e.to_string())
        }
        other => Err(format!("'{key}': dtype '{other}' (float32 or float64)")),
    }
}

/// Applies a `--stream` request's spec keys to `layer` and `tolerance`; refuses an unknown
/// key.
fn request_keys_inner(
    obj: &serde_json::Map<String, serde_json::Value>,
    layer: &mut LayerArgs,
    tolerance: &mut String,
) -> Result<(), String> {
    use serde_json::Value;
    let known = [
        "id",
        "input",
        "weight",
        "bias",
        "output",
        "stride",
        "dilation",
        "padding",
        "padding_mode",
        "groups",
        "layout",
        "kernel_layout",
        "transpose",
        "output_padding",
        "output_shape",
        "tolerance",
    ];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("unknown key '{k}' (known: {})", known.join(", ")));
    }
    let axes = |key: &str, v: &Value| -> Result<String, String> {
        match v {
            Value::Number(n) if n.is_u64() => Ok(n.to_string()),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_u64().map(|n| n.to_string()))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join(","))
                .ok_or_else(|| format!("'{key}': expected whole numbers")),
            _ => Err(format!(
                "'{key}': expected a whole number or a list of them"
            )),
        }
    };
    let text = |key: &str, v: &Value| -> Result<String, String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("'{key}': expected a string"))
    };
    for (k, v) in obj {
        match k.as_str() {
            "stride" => layer.stride = axes(k, v)?,
            "dilation" => layer.dilation = axes(k, v)?,
            "padding" => {
                layer.padding = match v {
                    Value::String(s) => s.clone(),
                    Value::Array(pairs) if pairs.iter().all(Value::is_array) => pairs
                        .iter()
                        .map(|p| match p.as_array().map(|p| p.as_slice()) {
                            Some([lo, hi]) => match (lo.as_u64(), hi.as_u64()) {
                                (Some(lo), Some(hi)) => Ok(format!("{lo}:{hi}")),
                                _ => Err("'padding': pairs of whole numbers".to_string()),
                            },
                            _ => Err("'padding': expected [lo, hi] pairs".to_string()),
                        })
                        .collect::<Result<Vec<_>, _>>()?
                        .join(","),
                    other => axes(k, other)?,
                }
            }
            "padding_mode" => {
                layer.padding_mode = PaddingModeArg::from_str(&text(k, v)?, true)
                    .map_err(|e| format!("'padding_mode': {e}"))?
            }
            "layout" => {
                layer.layout =
                    LayoutArg::from_str(&text(k, v)?, true).map_err(|e| format!("'layout': {e}"))?
            }
            "kernel_layout" => {
                layer.kernel_layout = KernelLayoutArg::from_str(&text(k, v)?, true)
                    .map_err(|e| format!("'kernel_layout': {e}"))?
            }
            "groups" => {
                layer.groups = v
                    .as_u64()
                    .and_then(|g| usize::try_from(g).ok())
                    .ok_or("'groups': expected a whole number")?
            }
            "transpose" => {
                layer.transpose = v.as_bool().ok_or("'transpose': expected true or false")?
            }
            "output_padding" => layer.output_padding = Some(axes(k, v)?),
            "output_shape" => layer.output_shape = Some(axes(k, v)?),
            "tolerance" => *tolerance = text(k, v)?,
            _ => {}
        }
    }
    Ok(())
}

/// The model or algorithm `--tolerance` names, for element type `dtype` (`"f32"` or `"f64"`).
pub fn tolerance_model(name: &str, dtype: &str) -> Result<ToleranceArg, String> {
    tolerance_model_inner(name, dtype).map_err(one_line)
}

/// An inline array of a `--stream` request: `{"dtype", "shape", "data"}`.
pub fn inline_array(key: &str, v: &serde_json::Value) -> Result<Data, String> {
    inline_array_inner(key, v).map_err(one_line)
}

/// Applies a `--stream` request's spec keys to `layer` and `tolerance`; refuses an unknown
/// key.
pub fn request_keys(
    obj: &serde_json::Map<String, serde_json::Value>,
    layer: &mut LayerArgs,
    tolerance: &mut String,
) -> Result<(), String> {
    request_keys_inner(obj, layer, tolerance).map_err(one_line)
}
