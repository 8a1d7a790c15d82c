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
//! ([`crate::compare::componentwise_bound_cr`]).
//!
//! Suites: `core` (every padding rule, boundary and flip of [`crate::ConvSpec`], stride,
//! dilation, groups, bias, ranks 1 to 3, float32 and float64) and `onnx` (ONNX `Conv` with
//! `auto_pad` and `ConvTranspose` with `output_padding`, `output_shape` and `auto_pad`,
//! float32). [`write_suite`] writes them deterministically: the same build writes the same
//! bytes.

use crate::compare::{Float, abs_sums, exact_transpose, transpose_terms};
use crate::engine::ConvEngine;
use crate::engine::exact::{ExactElement, ExactEngine};
use crate::layer::{AutoPad, TransposePadding, TransposeProblem, TransposeSpec};
use crate::reference::Problem;
use crate::spec::{Boundary, ConvSpec, Flip, Padding};
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
}

impl VectorElement for f32 {
    const DTYPE: &'static str = "float32";
    fn hex(self) -> String {
        format!("{:08x}", self.to_bits())
    }
}

impl VectorElement for f64 {
    const DTYPE: &'static str = "float64";
    fn hex(self) -> String {
        format!("{:016x}", self.to_bits())
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
            "auto_pad NOTSET, pads [1, 2] (begin, end), dilation 2, stride 3 (SEMANTICS.md: n = 8 gives 3)",
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
            "stride 2, no pads (SEMANTICS.md: [1 2 3] * [1 10 100] = [1 10 102 20 203 30 300])",
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
        // SEMANTICS.md's worked example is the integer test of the first four groups.
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
