//! Generating a test group: the element formats, the seeded data of each kind, the verdict
//! and flags of a test, and the file header every suite shares.

use super::schema::{SCHEMA_FILE, conv_spec_json};
use crate::engine::ConvEngine;
use crate::engine::exact::{ExactElement, ExactEngine};
use crate::oracle::abs_sums;
use crate::problem::{ConvSpec, Problem};
use crate::tolerance::Float;
use ndarray::{Array1, ArrayD, IxDyn};
use serde_json::{Value, json};

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
pub(super) enum Kind {
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
pub(super) struct Lcg(pub(super) u64);

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
pub(super) fn data<T: VectorElement>(
    rng: &mut Lcg,
    kind: Kind,
    shape: &[usize],
    weight: bool,
) -> ArrayD<T> {
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

pub(super) fn hexes<T: VectorElement>(a: impl IntoIterator<Item = T>) -> Vec<String> {
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

/// One conv group: `(comment, input shape, weight shape, bias, spec)`.
pub(super) type ConvGroup<T> = (&'static str, Vec<usize>, Vec<usize>, bool, ConvSpec<T>);

pub(super) fn header(algorithm: &str, dtype: &str) -> serde_json::Map<String, Value> {
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

pub(super) fn finish(mut m: serde_json::Map<String, Value>, groups: Vec<Value>) -> Value {
    let tests: usize = groups
        .iter()
        .map(|g| g["tests"].as_array().map_or(0, Vec::len))
        .sum();
    m.insert("numberOfTests".into(), json!(tests));
    m.insert("testGroups".into(), Value::Array(groups));
    Value::Object(m)
}

/// A conv test group over every data kind.
pub(super) fn conv_group<T: VectorElement>(id: &mut usize, g: &ConvGroup<T>, seed: u64) -> Value {
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
pub(super) struct Shapes<'a> {
    pub(super) input: &'a [usize],
    pub(super) weight: &'a [usize],
    pub(super) bias: Option<usize>,
}

/// A test group over every data kind: `compute` gives the correctly rounded output, the bound
/// scales and `K` of one test's data (`None`: left out). `worked` replaces the integer
/// test's input and weight.
#[allow(clippy::too_many_arguments)]
pub(super) fn group_json<T: VectorElement>(
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
