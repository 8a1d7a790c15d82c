//! Peers' default `rtol`/`atol` pairs ([`Preset`]) and how a [`Model`] names the one it matches.

use super::model::Model;

/// Peers' default `rtol`/`atol` pairs (docs/semantics.md section 7), each reproduced from the
/// peer's own source (cited per variant). Under [`Model::RtolAtol`] the rule is
/// `|got - e| <= atol + rtol |e|`, the form of `torch.testing.assert_close` and
/// `numpy.testing.assert_allclose` (numpy's `assert_array_max_ulp(maxulp=1)` is
/// [`Model::Ulp`]`(1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `torch.testing.assert_close` for float32: rtol 1.3e-6, atol 1e-5
    /// (`torch/testing/_comparison.py`, `_DTYPE_PRECISIONS[torch.float32]`).
    TorchF32,
    /// `torch.testing.assert_close` for float64: rtol 1e-7, atol 1e-7
    /// (`_DTYPE_PRECISIONS[torch.float64]`).
    TorchF64,
    /// `torch.testing.assert_close` for float16: rtol 1e-3, atol 1e-5
    /// (`_DTYPE_PRECISIONS[torch.float16]`; here only as numbers, applied to f32/f64 data).
    TorchF16,
    /// `torch.testing.assert_close` for bfloat16: rtol 1.6e-2, atol 1e-5
    /// (`_DTYPE_PRECISIONS[torch.bfloat16]`; numbers only, like `TorchF16`).
    TorchBf16,
    /// `numpy.testing.assert_allclose(actual, desired, rtol=1e-07, atol=0)`
    /// (`numpy/testing/_private/utils.py`).
    Numpy,
    /// ONNX backend node tests: rtol 1e-3, atol 1e-7 (`onnx/backend/test/case/node/__init__.py`:
    /// `expect()` builds `TestCase(..., rtol=1e-3, atol=1e-7)`, compared with
    /// `np.testing.assert_allclose` by `Runner.assert_similar_outputs`).
    Onnx,
    /// onnxruntime's backend test series: rtol 1e-3, atol 1e-5
    /// (`onnxruntime/test/python/onnx_backend_test_series.py`: `OrtBackendTest` overrides
    /// `assert_similar_outputs` with these values).
    OnnxRuntime,
    /// JAX's test default for float32: 1e-6 for both rtol and atol
    /// (`jax/_src/public_test_util.py`, `_default_tolerance[float32]`).
    JaxF32,
    /// JAX's test default for float64: 1e-15 for both (`_default_tolerance[float64]`).
    JaxF64,
}

impl Preset {
    /// Every preset, in a fixed order.
    pub const ALL: [Preset; 9] = [
        Preset::TorchF32,
        Preset::TorchF64,
        Preset::TorchF16,
        Preset::TorchBf16,
        Preset::Numpy,
        Preset::Onnx,
        Preset::OnnxRuntime,
        Preset::JaxF32,
        Preset::JaxF64,
    ];

    /// The name used on the command line (and by [`std::str::FromStr`]).
    pub fn name(self) -> &'static str {
        match self {
            Preset::TorchF32 => "torch-f32",
            Preset::TorchF64 => "torch-f64",
            Preset::TorchF16 => "torch-f16",
            Preset::TorchBf16 => "torch-bf16",
            Preset::Numpy => "numpy",
            Preset::Onnx => "onnx",
            Preset::OnnxRuntime => "onnxruntime",
            Preset::JaxF32 => "jax-f32",
            Preset::JaxF64 => "jax-f64",
        }
    }

    /// `(rtol, atol)` as the peer sets them by default.
    pub fn tolerances(self) -> (f64, f64) {
        match self {
            Preset::TorchF32 => (1.3e-6, 1e-5),
            Preset::TorchF64 => (1e-7, 1e-7),
            Preset::TorchF16 => (1e-3, 1e-5),
            Preset::TorchBf16 => (1.6e-2, 1e-5),
            Preset::Numpy => (1e-7, 0.0),
            Preset::Onnx => (1e-3, 1e-7),
            Preset::OnnxRuntime => (1e-3, 1e-5),
            Preset::JaxF32 => (1e-6, 1e-6),
            Preset::JaxF64 => (1e-15, 1e-15),
        }
    }

    /// The [`Model::RtolAtol`] with this preset's tolerances.
    pub fn model(self) -> Model {
        let (rtol, atol) = self.tolerances();
        Model::RtolAtol { rtol, atol }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that [`Preset`]'s `FromStr` does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown tolerance preset {got:?}; expected one of {}", Preset::ALL.map(Preset::name).join(", "))]
pub struct UnknownPreset {
    /// The name given.
    pub got: String,
}

impl std::str::FromStr for Preset {
    type Err = UnknownPreset;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPreset { got: s.to_string() })
    }
}

// A model's two conversions live with the presets: its display names the preset whose
// tolerances it has, and a preset converts into it.
impl From<Preset> for Model {
    fn from(p: Preset) -> Self {
        p.model()
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Model::Exact => write!(f, "exact"),
            Model::Ulp(n) => write!(f, "ulp({n})"),
            Model::Componentwise => write!(f, "componentwise"),
            Model::Normwise { bound } => write!(f, "normwise(bound {bound:e})"),
            Model::Elementwise { bounds } => {
                let max = bounds.iter().fold(0f64, |m, &b| m.max(b));
                write!(f, "elementwise({} bounds, largest {max:e})", bounds.len())
            }
            Model::Tosa => write!(f, "tosa"),
            Model::RtolAtol { rtol, atol } => {
                write!(f, "rtol {rtol:e}, atol {atol:e}")?;
                match Preset::ALL.iter().find(|p| p.model() == *self) {
                    Some(p) => write!(f, " ({p})"),
                    None => Ok(()),
                }
            }
        }
    }
}
