//! The suites and the cases each one generates (the `core` spec rules, ONNX `Conv` and
//! `ConvTranspose`), and writing a suite's files.

use super::VectorElement;
use super::generate::{
    ConvGroup, Kind, Lcg, Shapes, conv_group, data, finish, group_json, header, hexes,
};
use super::schema::{SCHEMA_FILE, conv_spec_json, schema, transpose_spec_json};
use crate::oracle::{abs_sums, exact_transpose, transpose_terms};
use crate::problem::{
    AutoPad, Boundary, ConvSpec, Flip, Padding, TransposePadding, TransposeProblem, TransposeSpec,
};
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
