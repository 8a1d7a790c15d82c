//! Language-neutral test vectors (`fixtures/vectors/*.json`), in a layout modelled on
//! Wycheproof's: a schema file, test groups that share a spec and shapes, and tests with a
//! `tcId`, a `comment`, `flags`, a `result` and the data as hex bit patterns.
//!
//! | `result` | meaning |
//! |---|---|
//! | `valid` | the output must be within the componentwise bound of `output` (the correctly rounded result) element by element; NaN matches any NaN, `+0` equals `-0` (flags `NanPayload`, `SignOfZero` say where that happens) |
//! | `acceptable` | as `valid`, except that an implementation that flushes subnormals to zero may differ where they occur (flag `FlushToZero`) |
//! | `invalid` | the spec must be refused; there is no output |
//!
//! Every valid or acceptable test carries, per output element, the bound scale
//! `boundScale = sum |w| |x| (+ |b|)` over the element's finite terms (rounded up, as a JSON
//! number, which is exact for an `f64`), and the group carries `terms` (`K`) and the format's
//! `unitRoundoff` `u` and `subnormalMin` `eta`: the bound is
//! `(gamma_K A + u |y| + (K + 2)(1 + gamma_K) eta)(1 + 2^-48)` with `gamma_K = K u / (1 - K u)`
//! ([`crate::tolerance::componentwise_bound_cr`]).
//!
//! Suites: `core` (every padding rule, boundary and flip of [`crate::problem::ConvSpec`], stride,
//! dilation, groups, bias, ranks 1 to 3, float32 and float64) and `onnx` (ONNX `Conv` with
//! `auto_pad` and `ConvTranspose` with `output_padding`, `output_shape` and `auto_pad`,
//! float32). [`write_suite`] writes them deterministically: the same build writes the same
//! bytes.

use crate::engine::ConvEngine;
use crate::engine::exact::{ExactElement, ExactEngine};
use crate::oracle::{abs_sums, exact_transpose, transpose_terms};
use crate::problem::Problem;
use crate::problem::{AutoPad, TransposePadding, TransposeProblem, TransposeSpec};
use crate::problem::{Boundary, ConvSpec, Flip, Padding};
use crate::tolerance::Float;
use ndarray::{Array1, ArrayD, IxDyn};
use serde_json::{Value, json};

/// A set of vector files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// Every rule of [`ConvSpec`], float32 and float64.
    Core,
    /// ONNX Conv and ConvTranspose, float32.
    Onnx,
    /// Both.
    All,
}

impl Suite {
    /// The file names (without the schema) this suite writes.
    pub fn files(self) -> &'static [&'static str] {
        match self {
            Suite::Core => &["conv_core_f32.json", "conv_core_f64.json"],
            Suite::Onnx => &["conv_onnx_f32.json", "conv_transpose_onnx_f32.json"],
            Suite::All => &[
                "conv_core_f32.json",
                "conv_core_f64.json",
                "conv_onnx_f32.json",
                "conv_transpose_onnx_f32.json",
            ],
        }
    }
}

/// The schema file's name.
pub const SCHEMA_FILE: &str = "conv_vectors_schema.json";

/// Every file of `suite` with its contents (the schema first), as written by [`write_suite`].
pub fn suite_files(suite: Suite) -> Vec<(String, String)> {
    let mut out = vec![(SCHEMA_FILE.to_string(), pretty(&schema()))];
    for &name in suite.files() {
        let doc = match name {
            "conv_core_f32.json" => core::<f32>(),
            "conv_core_f64.json" => core::<f64>(),
            "conv_onnx_f32.json" => onnx_conv(),
            _ => onnx_transpose(),
        };
        out.push((name.to_string(), pretty(&doc)));
    }
    out
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

// ------------------------------------------------------------------------------ elements

/// A float format of the vectors.
pub trait VectorElement: Float + ExactElement + crate::scalar::Ring {
    /// `"float32"` or `"float64"`.
    const DTYPE: &'static str;
    /// The bit pattern as lowercase hex, 8 or 16 digits.
    fn hex(self) -> String;
    /// The value of a bit pattern (the low 32 bits for `f32`).
    fn from_bits64(bits: u64) -> Self;
}

impl VectorElement for f32 {
    const DTYPE: &'static str = "float32";
    fn hex(self) -> String {
        format!("{:08x}", self.to_bits())
    }
    fn from_bits64(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
}

impl VectorElement for f64 {
    const DTYPE: &'static str = "float64";
    fn hex(self) -> String {
        format!("{:016x}", self.to_bits())
    }
    fn from_bits64(bits: u64) -> Self {
        f64::from_bits(bits)
    }
}

/// The data kinds of the tests of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Integers,
    Uniform,
    Cancelling,
    Decades,
    Subnormal,
    Special,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Integers,
        Kind::Uniform,
        Kind::Cancelling,
        Kind::Decades,
        Kind::Subnormal,
        Kind::Special,
    ];

    fn comment(self) -> &'static str {
        match self {
            Kind::Integers => "small integers in -4..=4: every output exact in any order",
            Kind::Uniform => "uniform in [-1, 1)",
            Kind::Cancelling => {
                "inputs near 1e3, weights that sum to about zero per kernel: cancellation"
            }
            Kind::Decades => "magnitudes 10^-6 to 10^6, either sign",
            Kind::Subnormal => "uniform scaled into the subnormal range of the format",
            Kind::Special => "NaN, infinities and signed zeros among uniform values",
        }
    }
}

/// A deterministic generator (64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    /// Uniform in [0, 1) with 53 bits.
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn value(&mut self, kind: Kind, weight: bool, subnormal_scale: f64) -> f64 {
        let u = 2.0 * self.unit() - 1.0;
        match kind {
            Kind::Integers => (self.next() % 9) as f64 - 4.0,
            Kind::Uniform => u,
            Kind::Cancelling if weight => u,
            Kind::Cancelling => 1000.0 + u,
            Kind::Decades => {
                let e = 12.0 * self.unit() - 6.0;
                10f64.powf(e).copysign(u)
            }
            Kind::Subnormal => u * subnormal_scale,
            Kind::Special => match self.next() % 12 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => 0.0,
                4 => -0.0,
                _ => u,
            },
        }
    }
}

/// Data of `shape` for `kind`; cancelling weights have each kernel's last tap set to minus
/// the sum of the others (rounded).
fn data<T: VectorElement>(rng: &mut Lcg, kind: Kind, shape: &[usize], weight: bool) -> ArrayD<T> {
    let scale = if T::DTYPE == "float32" {
        2f64.powi(-130)
    } else {
        2f64.powi(-1030)
    };
    let mut a =
        ArrayD::from_shape_simple_fn(IxDyn(shape), || T::from_f64(rng.value(kind, weight, scale)));
    if kind == Kind::Cancelling && weight && shape.len() > 2 {
        let per: usize = shape[2..].iter().product();
        if let (true, Some(flat)) = (per > 1, a.as_slice_mut()) {
            for kernel in flat.chunks_mut(per) {
                let sum: f64 = kernel[..per - 1].iter().map(|v| v.to_f64()).sum();
                kernel[per - 1] = T::from_f64(-sum);
            }
        }
    }
    a
}

fn hexes<T: VectorElement>(a: impl IntoIterator<Item = T>) -> Vec<String> {
    a.into_iter().map(VectorElement::hex).collect()
}

/// `result` and `flags` of a test from its data and expected output.
fn verdict<T: VectorElement>(
    kind: Kind,
    inputs: &[&ArrayD<T>],
    output: &ArrayD<T>,
) -> (&'static str, Vec<&'static str>) {
    let mut flags = Vec::new();
    let subnormal = |v: f64| v != 0.0 && v.is_finite() && v.abs() < T::NORMAL_MIN;
    let any_sub = inputs
        .iter()
        .any(|a| a.iter().any(|v| subnormal(v.to_f64())))
        || output.iter().any(|v| subnormal(v.to_f64()));
    if any_sub || kind == Kind::Subnormal {
        flags.push("FlushToZero");
    }
    if output.iter().any(|v| v.to_f64() == 0.0) {
        flags.push("SignOfZero");
    }
    if output.iter().any(|v| v.to_f64().is_nan()) {
        flags.push("NanPayload");
    }
    // The bound compares values (+0 == -0) and any NaN matches any NaN: only flushing can
    // take a conforming result outside it.
    let acceptable = flags.contains(&"FlushToZero");
    (if acceptable { "acceptable" } else { "valid" }, flags)
}

// ------------------------------------------------------------------------------ specs

fn padding_json(p: &Padding) -> Value {
    match p {
        Padding::Explicit(v) => {
            json!({ "explicit": v.iter().map(|&(a, b)| [a, b]).collect::<Vec<_>>() })
        }
        Padding::Valid => json!("valid"),
        Padding::Full => json!("full"),
        Padding::SameUpper => json!("same_upper"),
        Padding::SameLower => json!("same_lower"),
        Padding::TorchSame => json!("torch_same"),
    }
}

fn boundary_json<T: VectorElement>(b: &Boundary<T>) -> Value {
    match b {
        Boundary::Zeros => json!("zeros"),
        Boundary::Constant(v) => json!({ "constant": v.hex() }),
        Boundary::Reflect => json!("reflect"),
        Boundary::Symmetric => json!("symmetric"),
        Boundary::Replicate => json!("replicate"),
        Boundary::Circular => json!("circular"),
    }
}

fn conv_spec_json<T: VectorElement>(s: &ConvSpec<T>, rank: usize) -> Value {
    let or1 = |v: &[usize]| {
        if v.is_empty() {
            vec![1; rank]
        } else {
            v.to_vec()
        }
    };
    json!({
        "stride": or1(&s.stride),
        "dilation": or1(&s.dilation),
        "padding": padding_json(&s.padding),
        "boundary": boundary_json(&s.boundary),
        "groups": s.groups,
        "flip": match s.flip { Flip::Correlation => "correlation", Flip::Convolution => "convolution" },
    })
}

fn transpose_spec_json(s: &TransposeSpec, rank: usize) -> Value {
    let or = |v: &[usize], d: usize| {
        if v.is_empty() {
            vec![d; rank]
        } else {
            v.to_vec()
        }
    };
    let auto = |a: &AutoPad| match a {
        AutoPad::NotSet => "NOTSET",
        AutoPad::SameUpper => "SAME_UPPER",
        AutoPad::SameLower => "SAME_LOWER",
    };
    json!({
        "stride": or(&s.stride, 1),
        "dilation": or(&s.dilation, 1),
        "padding": match &s.padding {
            TransposePadding::Explicit(v) if v.is_empty() => json!({ "explicit": vec![[0, 0]; rank] }),
            TransposePadding::Explicit(v) => json!({ "explicit": v.iter().map(|&(a, b)| [a, b]).collect::<Vec<_>>() }),
            TransposePadding::SameUpper => json!("same_upper"),
            TransposePadding::SameLower => json!("same_lower"),
            TransposePadding::OutputShape { shape, auto_pad } => json!({ "output_shape": shape, "auto_pad": auto(auto_pad) }),
        },
        "output_padding": or(&s.output_padding, 0),
        "groups": s.groups,
    })
}

/// One conv group: `(comment, input shape, weight shape, bias, spec)`.
type ConvGroup<T> = (&'static str, Vec<usize>, Vec<usize>, bool, ConvSpec<T>);

fn core_groups<T: VectorElement>() -> Vec<ConvGroup<T>> {
    let s = ConvSpec::<T>::new;
    let c = |v: f64| T::from_f64(v);
    vec![
        (
            "1-D valid cross-correlation",
            vec![1, 1, 8],
            vec![1, 1, 3],
            false,
            s(),
        ),
        (
            "1-D full true convolution (numpy.convolve full)",
            vec![1, 1, 7],
            vec![1, 1, 4],
            false,
            s().padding(Padding::Full).flip(Flip::Convolution),
        ),
        (
            "1-D SAME_UPPER, even kernel, stride 2",
            vec![1, 1, 8],
            vec![1, 1, 4],
            false,
            s().padding(Padding::SameUpper).stride(vec![2]),
        ),
        (
            "1-D SAME_LOWER, even kernel, stride 2",
            vec![1, 1, 8],
            vec![1, 1, 4],
            false,
            s().padding(Padding::SameLower).stride(vec![2]),
        ),
        (
            "1-D PyTorch 'same', even kernel, dilation 2",
            vec![1, 2, 7],
            vec![1, 2, 2],
            false,
            s().padding(Padding::TorchSame).dilation(vec![2]),
        ),
        (
            "1-D reflect, pads wider than the input",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            s().padding(Padding::Explicit(vec![(5, 4)]))
                .boundary(Boundary::Reflect),
        ),
        (
            "1-D symmetric, pads wider than the input",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            s().padding(Padding::Explicit(vec![(5, 4)]))
                .boundary(Boundary::Symmetric),
        ),
        (
            "1-D circular, pads wider than the input",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            s().padding(Padding::Explicit(vec![(5, 4)]))
                .boundary(Boundary::Circular),
        ),
        (
            "1-D replicate, asymmetric pads",
            vec![1, 1, 5],
            vec![1, 1, 3],
            false,
            s().padding(Padding::Explicit(vec![(3, 1)]))
                .boundary(Boundary::Replicate),
        ),
        (
            "1-D constant 1.5, asymmetric pads, true convolution",
            vec![1, 1, 5],
            vec![1, 1, 3],
            false,
            s().padding(Padding::Explicit(vec![(2, 0)]))
                .boundary(Boundary::Constant(c(1.5)))
                .flip(Flip::Convolution),
        ),
        (
            "2-D, 2 groups, bias, stride (2, 1), dilation (1, 2)",
            vec![2, 4, 5, 6],
            vec![4, 2, 2, 2],
            true,
            s().groups(2)
                .stride(vec![2, 1])
                .dilation(vec![1, 2])
                .padding(Padding::Explicit(vec![(1, 0), (0, 1)])),
        ),
        (
            "2-D depthwise (groups == channels), SAME_UPPER",
            vec![1, 3, 5, 5],
            vec![3, 1, 3, 3],
            false,
            s().groups(3).padding(Padding::SameUpper),
        ),
        (
            "2-D C == H == W (layout confusion shows)",
            vec![1, 3, 3, 3],
            vec![2, 3, 2, 2],
            true,
            s(),
        ),
        (
            "2-D reflect, stride 2, true convolution",
            vec![1, 2, 5, 4],
            vec![2, 2, 3, 2],
            false,
            s().padding(Padding::Explicit(vec![(2, 1), (1, 1)]))
                .boundary(Boundary::Reflect)
                .stride(vec![2, 2])
                .flip(Flip::Convolution),
        ),
        (
            "3-D valid, bias",
            vec![1, 2, 3, 4, 3],
            vec![2, 2, 2, 2, 2],
            true,
            s(),
        ),
        (
            "3-D circular SAME_LOWER, stride (1, 2, 1)",
            vec![1, 1, 3, 4, 3],
            vec![1, 1, 2, 3, 2],
            false,
            s().padding(Padding::SameLower)
                .boundary(Boundary::Circular)
                .stride(vec![1, 2, 1]),
        ),
    ]
}

// ------------------------------------------------------------------------------ files

fn header(algorithm: &str, dtype: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("algorithm".into(), json!(algorithm));
    m.insert("schema".into(), json!(SCHEMA_FILE));
    m.insert(
        "generatorVersion".into(),
        json!(concat!("conv-oracle ", env!("CARGO_PKG_VERSION"))),
    );
    m.insert("dtype".into(), json!(dtype));
    m.insert("header".into(), json!([
        "Expected outputs are correctly rounded: the exact value of every output rounded once to nearest-even.",
        "Layouts: input (N, C, spatial...), weight (O, C/groups, k...) for conv and (C_in, C_out/groups, k...) for conv_transpose, output (N, O, out...); data in row-major order as hex bit patterns.",
        "A valid output must be within the componentwise bound of the expected one, element by element (see the schema)."
    ]));
    m.insert("notes".into(), json!({
        "FlushToZero": "Subnormal inputs or outputs: an implementation that flushes subnormals to zero may differ there.",
        "SignOfZero": "An expected output is zero: its sign is not compared (+0 equals -0).",
        "NanPayload": "An output is NaN: any NaN matches (payload and sign are not compared).",
        "InvalidSpec": "The spec or the shapes are invalid: the implementation must refuse them."
    }));
    m
}

fn finish(mut m: serde_json::Map<String, Value>, groups: Vec<Value>) -> Value {
    let tests: usize = groups
        .iter()
        .map(|g| g["tests"].as_array().map_or(0, Vec::len))
        .sum();
    m.insert("numberOfTests".into(), json!(tests));
    m.insert("testGroups".into(), Value::Array(groups));
    Value::Object(m)
}

/// A conv test group over every data kind.
fn conv_group<T: VectorElement>(id: &mut usize, g: &ConvGroup<T>, seed: u64) -> Value {
    let (comment, xs, ws, bias, spec) = g;
    let shapes = Shapes {
        input: xs,
        weight: ws,
        bias: bias.then_some(ws[0]),
    };
    let terms = ws[1..].iter().product::<usize>() + usize::from(*bias);
    let spec_json = conv_spec_json(spec, xs.len() - 2);
    group_json(
        id,
        "conv",
        comment,
        spec_json,
        &shapes,
        seed,
        None,
        |x, w, b| {
            let mut p = Problem::new(x.view(), w.view()).spec(spec.clone());
            p.bias = b.map(|b| b.view());
            Some((ExactEngine::new().conv(&p).ok()?, abs_sums(&p).ok()?, terms))
        },
    )
}

/// The shapes of a group's arrays (the bias length, if any).
struct Shapes<'a> {
    input: &'a [usize],
    weight: &'a [usize],
    bias: Option<usize>,
}

/// A test group over every data kind: `compute` gives the correctly rounded output, the bound
/// scales and `K` of one test's data (`None`: left out). `worked` replaces the integer
/// test's input and weight.
#[allow(clippy::too_many_arguments)]
fn group_json<T: VectorElement>(
    id: &mut usize,
    op: &str,
    comment: &str,
    spec: Value,
    shapes: &Shapes<'_>,
    seed: u64,
    worked: Option<(&[f64], &[f64])>,
    compute: impl Fn(&ArrayD<T>, &ArrayD<T>, Option<&Array1<T>>) -> Option<(ArrayD<T>, Vec<f64>, usize)>,
) -> Value {
    let mut rng = Lcg(seed);
    let mut tests = Vec::new();
    let mut meta = None;
    let fixed = |shape: &[usize], v: &[f64]| {
        ArrayD::from_shape_vec(IxDyn(shape), v.iter().map(|&v| T::from_f64(v)).collect()).ok()
    };
    for kind in Kind::ALL {
        let given = worked
            .filter(|_| kind == Kind::Integers)
            .and_then(|(x, w)| Some((fixed(shapes.input, x)?, fixed(shapes.weight, w)?)));
        let (x, w) = match given {
            Some(xw) => xw,
            None => (
                data::<T>(&mut rng, kind, shapes.input, false),
                data::<T>(&mut rng, kind, shapes.weight, true),
            ),
        };
        let b = shapes
            .bias
            .map(|n| Array1::from_iter(data::<T>(&mut rng, kind, &[n], false).iter().copied()));
        let Some((y, a, terms)) = compute(&x, &w, b.as_ref()) else {
            continue;
        };
        meta.get_or_insert((y.shape().to_vec(), terms));
        let bx = b.as_ref().map(|b| b.clone().into_dyn());
        let mut ins = vec![&x, &w];
        if let Some(b) = &bx {
            ins.push(b);
        }
        let (result, flags) = verdict(kind, &ins, &y);
        *id += 1;
        tests.push(json!({
            "tcId": *id,
            "comment": kind.comment(),
            "flags": flags,
            "result": result,
            "input": hexes(x.iter().copied()),
            "weight": hexes(w.iter().copied()),
            "bias": b.as_ref().map(|b| hexes(b.iter().copied())),
            "output": hexes(y.iter().copied()),
            "boundScale": a,
        }));
    }
    let (out_shape, terms) = meta.unwrap_or_default();
    json!({
        "type": "ConvTest",
        "op": op,
        "comment": comment,
        "spec": spec,
        "inputShape": shapes.input,
        "weightShape": shapes.weight,
        "bias": shapes.bias.is_some(),
        "outputShape": out_shape,
        "terms": terms,
        "unitRoundoff": T::UNIT_ROUNDOFF,
        "subnormalMin": T::SUBNORMAL_MIN,
        "tests": tests,
    })
}

/// Invalid specs: one test each, `result: invalid`.
fn invalid_group<T: VectorElement>(id: &mut usize) -> Value {
    let s = ConvSpec::<T>::new;
    type Invalid<T> = (
        &'static str,
        Vec<usize>,
        Vec<usize>,
        Option<usize>,
        ConvSpec<T>,
    );
    let cases: Vec<Invalid<T>> = vec![
        (
            "weight channels do not match the input's",
            vec![1, 3, 6],
            vec![2, 2, 3],
            None,
            s(),
        ),
        (
            "groups do not divide the input channels",
            vec![1, 3, 6],
            vec![2, 1, 3],
            None,
            s().groups(2),
        ),
        (
            "groups do not divide the output channels",
            vec![1, 4, 6],
            vec![3, 2, 3],
            None,
            s().groups(2),
        ),
        (
            "zero stride",
            vec![1, 1, 6],
            vec![1, 1, 3],
            None,
            s().stride(vec![0]),
        ),
        (
            "zero dilation",
            vec![1, 1, 6],
            vec![1, 1, 3],
            None,
            s().dilation(vec![0]),
        ),
        (
            "kernel larger than the input (valid)",
            vec![1, 1, 3],
            vec![1, 1, 5],
            None,
            s(),
        ),
        (
            "PyTorch 'same' with stride 2",
            vec![1, 1, 6],
            vec![1, 1, 3],
            None,
            s().padding(Padding::TorchSame).stride(vec![2]),
        ),
        (
            "bias of the wrong length",
            vec![1, 1, 6],
            vec![2, 1, 3],
            Some(3),
            s(),
        ),
    ];
    let mut rng = Lcg(99);
    let tests: Vec<Value> = cases
        .into_iter()
        .map(|(comment, xs, ws, bias, spec)| {
            let x = data::<T>(&mut rng, Kind::Integers, &xs, false);
            let w = data::<T>(&mut rng, Kind::Integers, &ws, true);
            let b = bias.map(|n| data::<T>(&mut rng, Kind::Integers, &[n], false));
            *id += 1;
            json!({
                "tcId": *id,
                "comment": comment,
                "flags": ["InvalidSpec"],
                "result": "invalid",
                "spec": conv_spec_json(&spec, xs.len() - 2),
                "inputShape": xs,
                "weightShape": ws,
                "input": hexes(x.iter().copied()),
                "weight": hexes(w.iter().copied()),
                "bias": b.as_ref().map(|b| hexes(b.iter().copied())),
                "output": Value::Null,
            })
        })
        .collect();
    json!({
        "type": "ConvInvalidTest",
        "op": "conv",
        "comment": "specs every implementation must refuse (each test carries its own spec and shapes)",
        "tests": tests,
    })
}

fn core<T: VectorElement>() -> Value {
    let mut id = 0;
    let mut groups: Vec<Value> = core_groups::<T>()
        .iter()
        .enumerate()
        .map(|(i, g)| conv_group(&mut id, g, 1000 + i as u64))
        .collect();
    groups.push(invalid_group::<T>(&mut id));
    finish(header("conv", T::DTYPE), groups)
}

fn onnx_conv() -> Value {
    let s = ConvSpec::<f32>::new;
    let groups: Vec<ConvGroup<f32>> = vec![
        (
            "auto_pad NOTSET, pads [1, 2] (begin, end), dilation 2, stride 3 (docs/semantics.md: n = 8 gives 3)",
            vec![1, 1, 8],
            vec![1, 1, 3],
            false,
            s().padding(Padding::Explicit(vec![(1, 2)]))
                .dilation(vec![2])
                .stride(vec![3]),
        ),
        (
            "auto_pad VALID, 2-D, groups 2, bias",
            vec![1, 4, 6, 5],
            vec![4, 2, 3, 2],
            true,
            s().groups(2),
        ),
        (
            "auto_pad SAME_UPPER, stride 2, odd total",
            vec![1, 1, 8],
            vec![1, 1, 3],
            false,
            s().padding(Padding::SameUpper).stride(vec![2]),
        ),
        (
            "auto_pad SAME_LOWER, stride 2, odd total",
            vec![1, 1, 8],
            vec![1, 1, 3],
            false,
            s().padding(Padding::SameLower).stride(vec![2]),
        ),
        (
            "auto_pad SAME_UPPER, 2-D, even kernel",
            vec![2, 2, 5, 4],
            vec![3, 2, 2, 4],
            true,
            s().padding(Padding::SameUpper),
        ),
        (
            "auto_pad SAME_LOWER, 2-D, even kernel",
            vec![2, 2, 5, 4],
            vec![3, 2, 2, 4],
            true,
            s().padding(Padding::SameLower),
        ),
        (
            "3-D pads [1, 0, 2, 0, 1, 1], strides [2, 1, 2]",
            vec![1, 2, 4, 3, 5],
            vec![2, 2, 2, 2, 3],
            false,
            s().padding(Padding::Explicit(vec![(1, 0), (0, 1), (2, 1)]))
                .stride(vec![2, 1, 2]),
        ),
    ];
    let mut id = 0;
    let groups: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| conv_group(&mut id, g, 2000 + i as u64))
        .collect();
    let mut h = header("onnx Conv", "float32");
    h.insert("comment".into(), json!("ONNX Conv: auto_pad maps to the padding rule (NOTSET: explicit pads, VALID, SAME_UPPER, SAME_LOWER); onnxruntime CPU has no float64 Conv."));
    finish(h, groups)
}

fn onnx_transpose() -> Value {
    use TransposePadding as P;
    let t = |stride: Vec<usize>, padding: P, op: Vec<usize>, groups: usize| TransposeSpec {
        stride,
        padding,
        output_padding: op,
        groups,
        ..TransposeSpec::default()
    };
    type Transposed = (&'static str, Vec<usize>, Vec<usize>, bool, TransposeSpec);
    let cases: Vec<Transposed> = vec![
        (
            "stride 2, no pads (docs/semantics.md: [1 2 3] * [1 10 100] = [1 10 102 20 203 30 300])",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            t(vec![2], P::Explicit(vec![]), vec![], 1),
        ),
        (
            "auto_pad SAME_UPPER, stride 2: drops the last",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            t(vec![2], P::SameUpper, vec![], 1),
        ),
        (
            "auto_pad SAME_LOWER, stride 2: drops the first",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            t(vec![2], P::SameLower, vec![], 1),
        ),
        (
            "output_shape [6], NOTSET",
            vec![1, 1, 3],
            vec![1, 1, 3],
            false,
            t(
                vec![2],
                P::OutputShape {
                    shape: vec![6],
                    auto_pad: AutoPad::NotSet,
                },
                vec![],
                1,
            ),
        ),
        (
            "output_shape [10] (negative total: an extra zero row at the end), NOTSET",
            vec![1, 1, 4],
            vec![1, 1, 3],
            false,
            t(
                vec![2],
                P::OutputShape {
                    shape: vec![10],
                    auto_pad: AutoPad::NotSet,
                },
                vec![],
                1,
            ),
        ),
        (
            "output_shape [8], SAME_UPPER",
            vec![1, 1, 4],
            vec![1, 1, 3],
            false,
            t(
                vec![2],
                P::OutputShape {
                    shape: vec![8],
                    auto_pad: AutoPad::SameUpper,
                },
                vec![],
                1,
            ),
        ),
        (
            "output_padding 1, pads [1, 1], stride 2",
            vec![1, 1, 4],
            vec![1, 1, 3],
            false,
            t(vec![2], P::Explicit(vec![(1, 1)]), vec![1], 1),
        ),
        (
            "2-D, groups 2, bias, strides [2, 3], output_padding [1, 2]",
            vec![1, 4, 3, 2],
            vec![4, 2, 2, 3],
            true,
            t(vec![2, 3], P::Explicit(vec![(0, 1), (1, 0)]), vec![1, 2], 2),
        ),
        (
            "2-D, dilation 2, SAME_LOWER",
            vec![2, 2, 3, 3],
            vec![2, 1, 2, 2],
            false,
            TransposeSpec {
                dilation: vec![2, 2],
                ..t(vec![2, 2], P::SameLower, vec![], 1)
            },
        ),
    ];
    let mut id = 0;
    let mut groups = Vec::new();
    for (i, (comment, xs, ws, bias, spec)) in cases.iter().enumerate() {
        let shapes = Shapes {
            input: xs,
            weight: ws,
            bias: bias.then_some(ws[1] * spec.groups),
        };
        // the worked example of docs/semantics.md section 2 is the integer test of the first four groups.
        let worked: Option<(&[f64], &[f64])> =
            (i < 4).then_some((&[1.0, 2.0, 3.0], &[1.0, 10.0, 100.0]));
        let spec_json = transpose_spec_json(spec, xs.len() - 2);
        groups.push(group_json::<f32>(
            &mut id,
            "conv_transpose",
            comment,
            spec_json,
            &shapes,
            3000 + i as u64,
            worked,
            |x, w, b| {
                let mut p = TransposeProblem::new(x.view(), w.view()).spec(spec.clone());
                p.bias = b.map(|b| b.view());
                let y = exact_transpose(&p).ok()?;
                let a = abs_sums(&p.as_conv().ok()?.problem()).ok()?;
                Some((y, a, transpose_terms(&p).ok()?))
            },
        ));
    }
    let mut h = header("onnx ConvTranspose", "float32");
    h.insert("comment".into(), json!("ONNX ConvTranspose: the literal scatter formula y[i*s + k*d - begin] += x[i] w[k]; terms is the most literal terms any output has (plus the bias)."));
    finish(h, groups)
}

// ------------------------------------------------------------------------------ schema

fn schema() -> Value {
    let hexes = json!({ "type": "array", "items": { "type": "string", "pattern": "^([0-9a-f]{8}|[0-9a-f]{16})$" } });
    let ints = json!({ "type": "array", "items": { "type": "integer", "minimum": 0 } });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_FILE,
        "title": "conv-oracle test vectors",
        "description": "Convolution test vectors with correctly rounded expected outputs (module docs of conv_oracle::vectors). Hex strings are IEEE 754 bit patterns of the file's dtype (8 digits float32, 16 float64). A valid test passes when every output element y_hat satisfies |y_hat - y| <= (gamma_K * boundScale + u*|y| + (K + 2)(1 + gamma_K)*eta)(1 + 2^-48), gamma_K = K u / (1 - K u), K = terms, u = unitRoundoff, eta = subnormalMin, y = output; NaN matches any NaN; infinities must match exactly. An acceptable test may differ as its flags say. An invalid test must be refused.",
        "type": "object",
        "required": ["algorithm", "schema", "generatorVersion", "dtype", "numberOfTests", "header", "notes", "testGroups"],
        "properties": {
            "algorithm": { "type": "string" },
            "schema": { "type": "string" },
            "generatorVersion": { "type": "string" },
            "dtype": { "enum": ["float32", "float64"] },
            "numberOfTests": { "type": "integer" },
            "header": { "type": "array", "items": { "type": "string" } },
            "notes": { "type": "object", "additionalProperties": { "type": "string" } },
            "comment": { "type": "string" },
            "testGroups": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "op", "comment", "tests"],
                    "properties": {
                        "type": { "enum": ["ConvTest", "ConvInvalidTest"] },
                        "op": { "enum": ["conv", "conv_transpose"] },
                        "comment": { "type": "string" },
                        "spec": { "$ref": "#/$defs/spec" },
                        "inputShape": ints,
                        "weightShape": ints,
                        "bias": { "type": "boolean" },
                        "outputShape": ints,
                        "terms": { "type": "integer", "description": "K: products per output (conv: C/groups times the kernel size; conv_transpose: the most literal terms of any output), plus one with a bias" },
                        "unitRoundoff": { "type": "number" },
                        "subnormalMin": { "type": "number" },
                        "tests": { "type": "array", "items": { "$ref": "#/$defs/test" } }
                    }
                }
            }
        },
        "$defs": {
            "test": {
                "type": "object",
                "required": ["tcId", "comment", "flags", "result", "input", "weight", "output"],
                "properties": {
                    "tcId": { "type": "integer" },
                    "comment": { "type": "string" },
                    "flags": { "type": "array", "items": { "enum": ["FlushToZero", "SignOfZero", "NanPayload", "InvalidSpec"] } },
                    "result": { "enum": ["valid", "acceptable", "invalid"] },
                    "input": hexes,
                    "weight": hexes,
                    "bias": { "oneOf": [hexes, { "type": "null" }] },
                    "output": { "oneOf": [hexes, { "type": "null" }] },
                    "boundScale": { "type": "array", "items": { "type": "number" }, "description": "per output element: sum |w||x| (+|b|) over its finite terms, rounded up" },
                    "spec": { "$ref": "#/$defs/spec", "description": "invalid tests carry their own spec and shapes" },
                    "inputShape": ints,
                    "weightShape": ints
                }
            },
            "spec": {
                "type": "object",
                "description": "conv: stride, dilation, padding ({explicit: [[begin, end], ...]} per spatial axis, valid, full, same_upper, same_lower, torch_same), boundary (zeros, {constant: hex}, reflect, symmetric, replicate, circular; numpy.pad names: constant, reflect, symmetric, edge, wrap), groups, flip (correlation: PyTorch/ONNX conv; convolution: the kernel flipped, numpy/scipy). conv_transpose: stride, dilation, padding ({explicit: ...}, same_upper, same_lower, {output_shape: [...], auto_pad: NOTSET | SAME_UPPER | SAME_LOWER}), output_padding, groups.",
                "properties": {
                    "stride": ints,
                    "dilation": ints,
                    "groups": { "type": "integer" },
                    "output_padding": ints
                }
            }
        }
    })
}

/// Writes the files of `suite` into `dir` (created if missing). Refuses to replace a file
/// that differs from what it would write unless `force`; an identical file is left alone.
/// Returns the paths written or confirmed.
pub fn write_suite(
    dir: &std::path::Path,
    suite: Suite,
    force: bool,
) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let files = suite_files(suite);
    // Check every file first: nothing is written when one would be refused.
    for (name, text) in &files {
        let path = dir.join(name);
        if path.exists() && !force {
            let old = std::fs::read_to_string(&path).unwrap_or_default();
            if &old != text {
                return Err(format!(
                    "{}: exists and differs; pass --force to replace it",
                    path.display()
                ));
            }
        }
    }
    let mut out = Vec::new();
    for (name, text) in files {
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}

// ------------------------------------------------------------------------------ reader

/// A vector file that does not follow the schema: the file, the field (a JSON path such as
/// `testGroups[2].tests[0].input`) and what is wrong, printed on one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct VectorError {
    /// The file's name as given to [`parse`].
    pub file: String,
    /// Where in the document (`$` for the whole document).
    pub field: String,
    /// What is wrong, with the expected and the got where there are such.
    pub problem: String,
}

/// The element type of a vector file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE binary32, 8 hex digits per value.
    F32,
    /// IEEE binary64, 16 hex digits per value.
    F64,
}

impl Dtype {
    /// Unit roundoff `u`.
    pub fn unit_roundoff(self) -> f64 {
        match self {
            Dtype::F32 => f64::from(f32::EPSILON) / 2.0,
            Dtype::F64 => f64::EPSILON / 2.0,
        }
    }
    /// The smallest positive subnormal `eta`.
    pub fn subnormal_min(self) -> f64 {
        match self {
            Dtype::F32 => f64::from(f32::from_bits(1)),
            Dtype::F64 => f64::from_bits(1),
        }
    }
    fn hex_digits(self) -> usize {
        match self {
            Dtype::F32 => 8,
            Dtype::F64 => 16,
        }
    }
}

/// What a test expects of an implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Within the bound of the output.
    Valid,
    /// As valid, except where the flags allow a difference.
    Acceptable,
    /// The spec must be refused.
    Invalid,
}

/// A group's or an invalid test's spec; boundary constants are bit patterns of the file's
/// dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum VectorSpec {
    /// `op: conv`.
    Conv(ConvSpec<u64>),
    /// `op: conv_transpose`.
    Transpose(TransposeSpec),
}

/// One test of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorTest {
    /// The test's id, unique in its file.
    pub tc_id: u64,
    /// What the test exercises.
    pub comment: String,
    /// `FlushToZero`, `SignOfZero`, `NanPayload`, `InvalidSpec`.
    pub flags: Vec<String>,
    /// What an implementation must do.
    pub result: Expect,
    /// The input's bit patterns, row-major.
    pub input: Vec<u64>,
    /// The weight's bit patterns.
    pub weight: Vec<u64>,
    /// The bias's bit patterns, if any.
    pub bias: Option<Vec<u64>>,
    /// The correctly rounded output's bit patterns (`None` for an invalid test).
    pub output: Option<Vec<u64>>,
    /// Per output element, `sum |w||x| (+|b|)` rounded up (valid and acceptable tests).
    pub bound_scale: Option<Vec<f64>>,
    /// An invalid test's own spec.
    pub spec: Option<VectorSpec>,
    /// An invalid test's input shape.
    pub input_shape: Option<Vec<usize>>,
    /// An invalid test's weight shape.
    pub weight_shape: Option<Vec<usize>>,
}

/// A group of tests sharing a spec and shapes (`ConvTest`), or of invalid tests each with
/// its own (`ConvInvalidTest`).
#[derive(Clone, Debug, PartialEq)]
pub struct VectorGroup {
    /// `true` for `ConvInvalidTest`.
    pub invalid: bool,
    /// `true` for `op: conv_transpose`.
    pub transpose: bool,
    /// What the group exercises.
    pub comment: String,
    /// The shared spec (`ConvTest`).
    pub spec: Option<VectorSpec>,
    /// Input shape (`ConvTest`).
    pub input_shape: Vec<usize>,
    /// Weight shape (`ConvTest`).
    pub weight_shape: Vec<usize>,
    /// Whether the tests carry a bias (`ConvTest`).
    pub bias: bool,
    /// Output shape (`ConvTest`).
    pub output_shape: Vec<usize>,
    /// `K`, the terms of the bound.
    pub terms: usize,
    /// The tests.
    pub tests: Vec<VectorTest>,
}

/// A parsed vector file: every field present, typed and consistent with its shapes
/// ([`parse`]).
#[derive(Clone, Debug, PartialEq)]
pub struct VectorFile {
    /// The name errors are reported under.
    pub name: String,
    /// `float32` or `float64`.
    pub dtype: Dtype,
    /// `conv`, `onnx Conv`, ...
    pub algorithm: String,
    /// The groups.
    pub groups: Vec<VectorGroup>,
}

impl VectorFile {
    /// Every test, with its group.
    pub fn tests(&self) -> impl Iterator<Item = (&VectorGroup, &VectorTest)> {
        self.groups
            .iter()
            .flat_map(|g| g.tests.iter().map(move |t| (g, t)))
    }
}

/// Strict reading of one JSON object: every key must be known; fields are taken by name and
/// errors carry the path.
struct Obj<'a> {
    file: &'a str,
    path: String,
    map: &'a serde_json::Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn new(file: &'a str, path: String, v: &'a Value, known: &[&str]) -> Result<Self, VectorError> {
        let map = v.as_object().ok_or_else(|| VectorError {
            file: file.to_string(),
            field: path.clone(),
            problem: format!("expected an object, got {}", kind(v)),
        })?;
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            // The key is the file's text: escaped, so the error stays on one line.
            let k = k.escape_debug().to_string();
            return Err(VectorError {
                file: file.to_string(),
                field: if path == "$" {
                    k
                } else {
                    format!("{path}.{k}")
                },
                problem: format!("unknown field (known: {})", known.join(", ")),
            });
        }
        Ok(Obj { file, path, map })
    }
    fn at(&self, key: &str) -> String {
        if self.path == "$" {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }
    fn err(&self, key: &str, problem: impl Into<String>) -> VectorError {
        VectorError {
            file: self.file.to_string(),
            field: self.at(key),
            problem: problem.into(),
        }
    }
    fn get(&self, key: &str) -> Result<&'a Value, VectorError> {
        self.map
            .get(key)
            .ok_or_else(|| self.err(key, "required field is missing"))
    }
    fn opt(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }
    fn str(&self, key: &str) -> Result<&'a str, VectorError> {
        let v = self.get(key)?;
        v.as_str()
            .ok_or_else(|| self.err(key, format!("expected a string, got {}", kind(v))))
    }
    fn uint(&self, key: &str) -> Result<u64, VectorError> {
        uint(self.get(key)?).map_err(|p| self.err(key, p))
    }
    fn size(&self, key: &str) -> Result<usize, VectorError> {
        let n = self.uint(key)?;
        usize::try_from(n).map_err(|_| self.err(key, format!("{n} is too large")))
    }
    fn number(&self, key: &str) -> Result<f64, VectorError> {
        number(self.get(key)?).map_err(|p| self.err(key, p))
    }
    fn bool(&self, key: &str) -> Result<bool, VectorError> {
        let v = self.get(key)?;
        v.as_bool()
            .ok_or_else(|| self.err(key, format!("expected true or false, got {}", kind(v))))
    }
    fn sizes(&self, key: &str) -> Result<Vec<usize>, VectorError> {
        sizes(self.get(key)?).map_err(|(i, p)| self.err(&index(key, i), p))
    }
    fn strings(&self, key: &str) -> Result<Vec<String>, VectorError> {
        list(self.get(key)?)
            .map_err(|p| self.err(key, p))?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    self.err(
                        &index(key, Some(i)),
                        format!("expected a string, got {}", kind(v)),
                    )
                })
            })
            .collect()
    }
    fn hexes(&self, key: &str, dtype: Dtype, len: usize) -> Result<Vec<u64>, VectorError> {
        let items = list(self.get(key)?).map_err(|p| self.err(key, p))?;
        if items.len() != len {
            return Err(self.err(
                key,
                format!(
                    "expected {len} values (the shape's size), got {}",
                    items.len()
                ),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, v)| hex(v, dtype).map_err(|p| self.err(&index(key, Some(i)), p)))
            .collect()
    }
}

fn index(key: &str, i: Option<usize>) -> String {
    match i {
        Some(i) => format!("{key}[{i}]"),
        None => key.to_string(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn list(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("expected a list, got {}", kind(v)))
}

fn uint(v: &Value) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| match v {
        Value::Number(n) => format!("expected a whole number >= 0, got {n}"),
        other => format!("expected a whole number, got {}", kind(other)),
    })
}

fn number(v: &Value) -> Result<f64, String> {
    // JSON numbers are finite; NaN or infinity can only come as text, and is refused.
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("expected a finite number, got {n}")),
        Value::String(s) => Err(format!("expected a number, got the string {s:?}")),
        other => Err(format!("expected a number, got {}", kind(other))),
    }
}

fn sizes(v: &Value) -> Result<Vec<usize>, (Option<usize>, String)> {
    list(v)
        .map_err(|p| (None, p))?
        .iter()
        .enumerate()
        .map(|(i, x)| {
            uint(x)
                .and_then(|n| usize::try_from(n).map_err(|_| format!("{n} is too large")))
                .map_err(|p| (Some(i), p))
        })
        .collect()
}

fn hex(v: &Value, dtype: Dtype) -> Result<u64, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("expected a hex bit pattern, got {}", kind(v)))?;
    let digits = dtype.hex_digits();
    if s.len() != digits
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "expected {digits} lower-case hex digits (a {} bit pattern), got {s:?}",
            match dtype {
                Dtype::F32 => "float32",
                Dtype::F64 => "float64",
            }
        ));
    }
    u64::from_str_radix(s, 16).map_err(|e| format!("{s:?}: {e}"))
}

fn shape_size(o: &Obj<'_>, key: &str, shape: &[usize]) -> Result<usize, VectorError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= 1 << 24)
        .ok_or_else(|| {
            o.err(
                key,
                format!("shape {shape:?} is larger than a vector file holds"),
            )
        })
}

fn conv_spec_of(o: &Obj<'_>, key: &str, dtype: Dtype) -> Result<ConvSpec<u64>, VectorError> {
    let s = Obj::new(
        o.file,
        o.at(key),
        o.get(key)?,
        &[
            "stride", "dilation", "padding", "boundary", "groups", "flip",
        ],
    )?;
    let padding = match s.get("padding")? {
        Value::String(r) => match r.as_str() {
            "valid" => Padding::Valid,
            "full" => Padding::Full,
            "same_upper" => Padding::SameUpper,
            "same_lower" => Padding::SameLower,
            "torch_same" => Padding::TorchSame,
            other => {
                return Err(s.err(
                    "padding",
                    format!("unknown rule {other:?} (valid, full, same_upper, same_lower, torch_same or {{explicit}})"),
                ));
            }
        },
        v => Padding::Explicit(explicit_pairs(&s, "padding", v)?),
    };
    let boundary = match s.get("boundary")? {
        Value::String(b) => match b.as_str() {
            "zeros" => Boundary::Zeros,
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            "replicate" | "edge" => Boundary::Replicate,
            "circular" | "wrap" => Boundary::Circular,
            other => {
                return Err(s.err(
                    "boundary",
                    format!("unknown boundary {other:?} (zeros, reflect, symmetric, replicate, circular or {{constant}})"),
                ));
            }
        },
        v => {
            let c = Obj::new(s.file, s.at("boundary"), v, &["constant"])?;
            Boundary::Constant(hex(c.get("constant")?, dtype).map_err(|p| c.err("constant", p))?)
        }
    };
    let flip = match s.str("flip")? {
        "correlation" => Flip::Correlation,
        "convolution" => Flip::Convolution,
        other => {
            return Err(s.err(
                "flip",
                format!("expected \"correlation\" or \"convolution\", got {other:?}"),
            ));
        }
    };
    Ok(ConvSpec::new()
        .stride(s.sizes("stride")?)
        .dilation(s.sizes("dilation")?)
        .padding(padding)
        .boundary(boundary)
        .groups(s.size("groups")?)
        .flip(flip))
}

fn explicit_pairs(o: &Obj<'_>, key: &str, v: &Value) -> Result<Vec<(usize, usize)>, VectorError> {
    let e = Obj::new(o.file, o.at(key), v, &["explicit"])?;
    list(e.get("explicit")?)
        .map_err(|p| e.err("explicit", p))?
        .iter()
        .enumerate()
        .map(|(i, p)| match sizes(p) {
            Ok(v) if v.len() == 2 => Ok((v[0], v[1])),
            Ok(v) => Err(e.err(
                &index("explicit", Some(i)),
                format!("expected a [begin, end] pair, got {} values", v.len()),
            )),
            Err((_, p)) => Err(e.err(&index("explicit", Some(i)), p)),
        })
        .collect()
}

fn transpose_spec_of(o: &Obj<'_>, key: &str) -> Result<TransposeSpec, VectorError> {
    let s = Obj::new(
        o.file,
        o.at(key),
        o.get(key)?,
        &["stride", "dilation", "padding", "output_padding", "groups"],
    )?;
    let padding = match s.get("padding")? {
        Value::String(r) if r == "same_upper" => TransposePadding::SameUpper,
        Value::String(r) if r == "same_lower" => TransposePadding::SameLower,
        Value::String(r) => {
            return Err(s.err(
                "padding",
                format!("unknown rule {r:?} (same_upper, same_lower, {{explicit}} or {{output_shape, auto_pad}})"),
            ));
        }
        v if v.get("explicit").is_some() => {
            TransposePadding::Explicit(explicit_pairs(&s, "padding", v)?)
        }
        v => {
            let p = Obj::new(s.file, s.at("padding"), v, &["output_shape", "auto_pad"])?;
            TransposePadding::OutputShape {
                shape: p.sizes("output_shape")?,
                auto_pad: match p.str("auto_pad")? {
                    "NOTSET" => AutoPad::NotSet,
                    "SAME_UPPER" => AutoPad::SameUpper,
                    "SAME_LOWER" => AutoPad::SameLower,
                    other => {
                        return Err(p.err(
                            "auto_pad",
                            format!("expected NOTSET, SAME_UPPER or SAME_LOWER, got {other:?}"),
                        ));
                    }
                },
            }
        }
    };
    Ok(TransposeSpec {
        stride: s.sizes("stride")?,
        dilation: s.sizes("dilation")?,
        padding,
        output_padding: s.sizes("output_padding")?,
        groups: s.size("groups")?,
        ..TransposeSpec::default()
    })
}

const TEST_FIELDS: [&str; 13] = [
    "tcId",
    "comment",
    "flags",
    "result",
    "input",
    "weight",
    "bias",
    "output",
    "boundScale",
    "spec",
    "inputShape",
    "weightShape",
    "outputShape",
];

/// Reads a vector file strictly: valid JSON; every field the schema requires, of its type;
/// no unknown field; hex bit patterns of the file's dtype; every array as long as its shape
/// says; `boundScale` finite numbers, one per output; `unitRoundoff` and `subnormalMin`
/// those of the dtype; `tcId`s unique; `numberOfTests` the count. The first problem is
/// returned as a [`VectorError`] naming `name` and the field. Whether the expected outputs
/// are right is [`check`]'s job.
pub fn parse(name: &str, text: &str) -> Result<VectorFile, VectorError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| VectorError {
        file: name.to_string(),
        field: format!("line {} column {}", e.line(), e.column()),
        problem: format!("not valid JSON: {e}"),
    })?;
    let top = Obj::new(
        name,
        "$".into(),
        &doc,
        &[
            "algorithm",
            "schema",
            "generatorVersion",
            "dtype",
            "numberOfTests",
            "header",
            "notes",
            "comment",
            "testGroups",
        ],
    )?;
    let dtype = match top.str("dtype")? {
        "float32" => Dtype::F32,
        "float64" => Dtype::F64,
        other => {
            return Err(top.err(
                "dtype",
                format!("expected \"float32\" or \"float64\", got {other:?}"),
            ));
        }
    };
    let algorithm = top.str("algorithm")?.to_string();
    top.str("schema")?;
    top.str("generatorVersion")?;
    top.strings("header")?;
    let notes = Obj::new(
        name,
        "notes".into(),
        top.get("notes")?,
        &["FlushToZero", "SignOfZero", "NanPayload", "InvalidSpec"],
    )?;
    for k in notes.map.keys() {
        notes.str(k)?;
    }
    if top.opt("comment").is_some() {
        top.str("comment")?;
    }
    let mut seen = std::collections::HashMap::new();
    let mut groups = Vec::new();
    let group_list = list(top.get("testGroups")?).map_err(|p| top.err("testGroups", p))?;
    for (gi, gv) in group_list.iter().enumerate() {
        let g = Obj::new(
            name,
            format!("testGroups[{gi}]"),
            gv,
            &[
                "type",
                "op",
                "comment",
                "spec",
                "inputShape",
                "weightShape",
                "bias",
                "outputShape",
                "terms",
                "unitRoundoff",
                "subnormalMin",
                "tests",
            ],
        )?;
        let invalid = match g.str("type")? {
            "ConvTest" => false,
            "ConvInvalidTest" => true,
            other => {
                return Err(g.err(
                    "type",
                    format!("expected ConvTest or ConvInvalidTest, got {other:?}"),
                ));
            }
        };
        let transpose = match g.str("op")? {
            "conv" => false,
            "conv_transpose" => true,
            other => {
                return Err(g.err(
                    "op",
                    format!("expected conv or conv_transpose, got {other:?}"),
                ));
            }
        };
        let spec_of = |o: &Obj<'_>| -> Result<VectorSpec, VectorError> {
            Ok(if transpose {
                VectorSpec::Transpose(transpose_spec_of(o, "spec")?)
            } else {
                VectorSpec::Conv(conv_spec_of(o, "spec", dtype)?)
            })
        };
        let mut group = VectorGroup {
            invalid,
            transpose,
            comment: g.str("comment")?.to_string(),
            spec: None,
            input_shape: Vec::new(),
            weight_shape: Vec::new(),
            bias: false,
            output_shape: Vec::new(),
            terms: 0,
            tests: Vec::new(),
        };
        if !invalid {
            group.spec = Some(spec_of(&g)?);
            group.input_shape = g.sizes("inputShape")?;
            group.weight_shape = g.sizes("weightShape")?;
            group.output_shape = g.sizes("outputShape")?;
            group.bias = g.bool("bias")?;
            group.terms = g.size("terms")?;
            for (key, want) in [
                ("unitRoundoff", dtype.unit_roundoff()),
                ("subnormalMin", dtype.subnormal_min()),
            ] {
                let got = g.number(key)?;
                if got != want {
                    return Err(g.err(key, format!("expected {want:e} (the dtype's), got {got:e}")));
                }
            }
        }
        let tests = list(g.get("tests")?).map_err(|p| g.err("tests", p))?;
        for (ti, tv) in tests.iter().enumerate() {
            let t = Obj::new(name, format!("{}.tests[{ti}]", g.path), tv, &TEST_FIELDS)?;
            let tc_id = t.uint("tcId")?;
            if let Some(first) = seen.insert(tc_id, t.at("tcId")) {
                return Err(t.err("tcId", format!("duplicate tcId {tc_id} (first at {first})")));
            }
            let flags = t.strings("flags")?;
            for (i, f) in flags.iter().enumerate() {
                if !["FlushToZero", "SignOfZero", "NanPayload", "InvalidSpec"].contains(&f.as_str())
                {
                    return Err(t.err(&index("flags", Some(i)), format!("unknown flag {f:?}")));
                }
            }
            let result = match t.str("result")? {
                "valid" => Expect::Valid,
                "acceptable" => Expect::Acceptable,
                "invalid" => Expect::Invalid,
                other => {
                    return Err(t.err(
                        "result",
                        format!("expected valid, acceptable or invalid, got {other:?}"),
                    ));
                }
            };
            if (result == Expect::Invalid) != invalid {
                return Err(t.err(
                    "result",
                    format!("a {} test in a {} group", t.str("result")?, g.str("type")?),
                ));
            }
            let (xs, ws, spec) = if invalid {
                (
                    t.sizes("inputShape")?,
                    t.sizes("weightShape")?,
                    Some(spec_of(&t)?),
                )
            } else {
                for key in ["spec", "inputShape", "weightShape", "outputShape"] {
                    if t.opt(key).is_some() {
                        return Err(
                            t.err(key, "only an invalid test carries its own spec and shapes")
                        );
                    }
                }
                (group.input_shape.clone(), group.weight_shape.clone(), None)
            };
            let input = t.hexes("input", dtype, shape_size(&t, "input", &xs)?)?;
            let weight = t.hexes("weight", dtype, shape_size(&t, "weight", &ws)?)?;
            let bias = match t.opt("bias") {
                None if !invalid && group.bias => {
                    return Err(t.err("bias", "the group has \"bias\": true, the test has none"));
                }
                None => None,
                Some(_) if !invalid && !group.bias => {
                    return Err(t.err("bias", "the group has \"bias\": false, the test has one"));
                }
                Some(v) => {
                    let n = if invalid {
                        list(v).map_err(|p| t.err("bias", p))?.len()
                    } else if transpose {
                        ws.get(1)
                            .copied()
                            .unwrap_or(0)
                            .saturating_mul(match &group.spec {
                                Some(VectorSpec::Transpose(s)) => s.groups,
                                _ => 1,
                            })
                    } else {
                        ws.first().copied().unwrap_or(0)
                    };
                    Some(t.hexes("bias", dtype, n)?)
                }
            };
            let (output, bound_scale) = if invalid {
                for key in ["output", "boundScale"] {
                    if t.opt(key).is_some() {
                        return Err(t.err(key, "an invalid test has no output"));
                    }
                }
                (None, None)
            } else {
                let n = shape_size(&t, "output", &group.output_shape)?;
                let out = t.hexes("output", dtype, n)?;
                let scale_list = list(t.get("boundScale")?).map_err(|p| t.err("boundScale", p))?;
                if scale_list.len() != n {
                    return Err(t.err(
                        "boundScale",
                        format!(
                            "expected {n} values (one per output), got {}",
                            scale_list.len()
                        ),
                    ));
                }
                let scale = scale_list
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        number(v)
                            .and_then(|x| {
                                if x >= 0.0 {
                                    Ok(x)
                                } else {
                                    Err(format!("expected a number >= 0, got {x}"))
                                }
                            })
                            .map_err(|p| t.err(&index("boundScale", Some(i)), p))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                (Some(out), Some(scale))
            };
            group.tests.push(VectorTest {
                tc_id,
                comment: t.str("comment")?.to_string(),
                flags,
                result,
                input,
                weight,
                bias,
                output,
                bound_scale,
                spec,
                input_shape: invalid.then_some(xs),
                weight_shape: invalid.then_some(ws),
            });
        }
        groups.push(group);
    }
    let count = seen.len() as u64;
    let claimed = top.uint("numberOfTests")?;
    if claimed != count {
        return Err(top.err(
            "numberOfTests",
            format!("says {claimed}, the file has {count} tests"),
        ));
    }
    Ok(VectorFile {
        name: name.to_string(),
        dtype,
        algorithm,
        groups,
    })
}

/// One test whose expected output does not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Disagreement {
    /// The test.
    pub tc_id: u64,
    /// What differs, with the expected and the got.
    pub problem: String,
}

/// What [`check`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckReport {
    /// Valid and acceptable tests whose output and bound scales were recomputed and agree.
    pub agreed: usize,
    /// Invalid tests that the reference refuses.
    pub refused: usize,
    /// Tests that do not hold.
    pub disagreements: Vec<Disagreement>,
}

/// Recomputes every test of a parsed file: a valid or acceptable test's output must be the
/// correctly rounded result bit for bit (any NaN matches any NaN), its `boundScale` the
/// problem's `sum |w||x| (+|b|)` and the group's `outputShape` and `terms` those of the
/// spec; an invalid test's spec must be refused.
pub fn check(file: &VectorFile) -> CheckReport {
    match file.dtype {
        Dtype::F32 => check_as::<f32>(file),
        Dtype::F64 => check_as::<f64>(file),
    }
}

fn check_as<T: VectorElement>(file: &VectorFile) -> CheckReport {
    let mut report = CheckReport::default();
    for (g, t) in file.tests() {
        match check_test::<T>(g, t) {
            Ok(true) => report.agreed += 1,
            Ok(false) => report.refused += 1,
            Err(problem) => report.disagreements.push(Disagreement {
                tc_id: t.tc_id,
                problem,
            }),
        }
    }
    report
}

fn array_of<T: VectorElement>(bits: &[u64], shape: &[usize]) -> Result<ArrayD<T>, String> {
    ArrayD::from_shape_vec(
        IxDyn(shape),
        bits.iter().map(|&b| T::from_bits64(b)).collect(),
    )
    .map_err(|e| e.to_string())
}

/// `Ok(true)`: a valid test that agrees; `Ok(false)`: an invalid test that is refused.
fn check_test<T: VectorElement>(g: &VectorGroup, t: &VectorTest) -> Result<bool, String> {
    let xs = t.input_shape.as_ref().unwrap_or(&g.input_shape);
    let ws = t.weight_shape.as_ref().unwrap_or(&g.weight_shape);
    let x = array_of::<T>(&t.input, xs)?;
    let w = array_of::<T>(&t.weight, ws)?;
    let b: Option<Array1<T>> = t
        .bias
        .as_ref()
        .map(|b| b.iter().map(|&v| T::from_bits64(v)).collect());
    let spec = t.spec.as_ref().or(g.spec.as_ref()).ok_or("no spec")?;
    let computed = match spec {
        VectorSpec::Conv(s) => {
            let mut p = Problem::new(x.view(), w.view()).spec(s.map_constant(T::from_bits64));
            p.bias = b.as_ref().map(|b| b.view());
            if g.invalid {
                return match p.validate() {
                    Err(_) => Ok(false),
                    Ok(_) => Err("an invalid test's spec and shapes are accepted".into()),
                };
            }
            let terms = ws[1..].iter().product::<usize>() + usize::from(b.is_some());
            ExactEngine::new()
                .conv(&p)
                .and_then(|y| Ok((y, abs_sums(&p)?, terms)))
        }
        VectorSpec::Transpose(s) => {
            let mut p = TransposeProblem::new(x.view(), w.view()).spec(s.clone());
            p.bias = b.as_ref().map(|b| b.view());
            if g.invalid {
                return match p.validate() {
                    Err(_) => Ok(false),
                    Ok(_) => Err("an invalid test's spec and shapes are accepted".into()),
                };
            }
            exact_transpose(&p)
                .and_then(|y| Ok((y, abs_sums(&p.as_conv()?.problem())?, transpose_terms(&p)?)))
        }
    };
    let (y, scale, terms) = computed.map_err(|e| format!("the spec is refused: {e}"))?;
    if y.shape() != g.output_shape.as_slice() {
        return Err(format!(
            "outputShape: expected {:?} (from the spec), got {:?}",
            y.shape(),
            g.output_shape
        ));
    }
    if terms != g.terms {
        return Err(format!("terms: expected {terms}, got {}", g.terms));
    }
    let want = t.output.as_deref().unwrap_or_default();
    for (i, (e, &v)) in y.iter().zip(want).enumerate() {
        let v = T::from_bits64(v);
        let same = e.bits() == v.bits() || (e.to_f64().is_nan() && v.to_f64().is_nan());
        if !same {
            return Err(format!(
                "output[{i}]: expected {:e} (correctly rounded), got {:e}",
                e.to_f64(),
                v.to_f64()
            ));
        }
    }
    let given = t.bound_scale.as_deref().unwrap_or_default();
    for (i, (a, b)) in scale.iter().zip(given).enumerate() {
        if a != b {
            return Err(format!("boundScale[{i}]: expected {a:e}, got {b:e}"));
        }
    }
    Ok(true)
}
