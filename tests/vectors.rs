//! The committed test vectors (`fixtures/vectors`): they regenerate byte for byte, and read
//! back by a parser written here from the schema alone, every expected output is what the
//! correctly rounded engine computes, every bound scale is `sum |w||x|`, the bound formula of
//! the schema accepts the literal formula's float result, and every invalid spec is refused.

use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::exact::ExactEngine;
use conv_oracle::layer::{AutoPad, TransposePadding, TransposeProblem, TransposeSpec};
use conv_oracle::oracle::{abs_sums, exact_transpose};
use conv_oracle::tolerance::gamma;
use conv_oracle::vectors::{SCHEMA_FILE, Suite, suite_files, write_suite};
use conv_oracle::{Boundary, ConvSpec, Flip, Padding, Problem};
use ndarray::{Array1, ArrayD, IxDyn};
use serde_json::Value;
use std::path::Path;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors");

#[test]
fn the_committed_vectors_regenerate_identically() {
    let files = suite_files(Suite::All);
    assert_eq!(files[0].0, SCHEMA_FILE);
    let mut committed: Vec<String> = std::fs::read_dir(DIR)
        .expect("fixtures/vectors")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    committed.sort();
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    assert_eq!(committed, names, "files in fixtures/vectors");
    for (name, text) in &files {
        let old = std::fs::read_to_string(Path::new(DIR).join(name)).expect("read");
        assert!(
            &old == text,
            "{name} differs from what `conv-oracle vectors --out fixtures/vectors --force` writes"
        );
    }
}

#[test]
fn write_suite_never_replaces_a_different_file_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_suite(dir.path(), Suite::Onnx, false).expect("write");
    assert_eq!(written.len(), 3);
    // Identical files: confirmed, not an error.
    write_suite(dir.path(), Suite::Onnx, false).expect("identical");
    let path = dir.path().join("conv_onnx_f32.json");
    std::fs::write(&path, "mine").expect("write");
    let err = write_suite(dir.path(), Suite::Onnx, false).expect_err("refused");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "mine");
    write_suite(dir.path(), Suite::Onnx, true).expect("forced");
    assert_ne!(std::fs::read_to_string(&path).expect("read"), "mine");
}

// ---------------------------------------------------------------- a reader from the schema

trait Elem:
    conv_oracle::tolerance::Float + conv_oracle::engine::exact::ExactElement + conv_oracle::Ring
{
    fn parse(h: &str) -> Self;
}

impl Elem for f32 {
    fn parse(h: &str) -> Self {
        assert_eq!(h.len(), 8, "{h}");
        f32::from_bits(u32::from_str_radix(h, 16).expect("hex"))
    }
}

impl Elem for f64 {
    fn parse(h: &str) -> Self {
        assert_eq!(h.len(), 16, "{h}");
        f64::from_bits(u64::from_str_radix(h, 16).expect("hex"))
    }
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

fn array<T: Elem>(v: &Value, shape: &[usize]) -> ArrayD<T> {
    let data: Vec<T> = v
        .as_array()
        .expect("hex array")
        .iter()
        .map(|h| T::parse(h.as_str().expect("hex string")))
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("shape")
}

fn pairs(v: &Value) -> Vec<(usize, usize)> {
    v.as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            let p = usizes(p);
            (p[0], p[1])
        })
        .collect()
}

fn conv_spec<T: Elem>(s: &Value) -> ConvSpec<T> {
    let padding = match &s["padding"] {
        Value::String(r) => match r.as_str() {
            "valid" => Padding::Valid,
            "full" => Padding::Full,
            "same_upper" => Padding::SameUpper,
            "same_lower" => Padding::SameLower,
            "torch_same" => Padding::TorchSame,
            other => panic!("padding {other}"),
        },
        o => Padding::Explicit(pairs(&o["explicit"])),
    };
    let boundary = match &s["boundary"] {
        Value::String(b) => match b.as_str() {
            "zeros" => Boundary::Zeros,
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            "replicate" => Boundary::Replicate,
            "circular" => Boundary::Circular,
            other => panic!("boundary {other}"),
        },
        o => Boundary::Constant(T::parse(o["constant"].as_str().expect("hex"))),
    };
    ConvSpec::new()
        .stride(usizes(&s["stride"]))
        .dilation(usizes(&s["dilation"]))
        .padding(padding)
        .boundary(boundary)
        .groups(s["groups"].as_u64().expect("groups") as usize)
        .flip(match s["flip"].as_str() {
            Some("convolution") => Flip::Convolution,
            _ => Flip::Correlation,
        })
}

fn transpose_spec(s: &Value) -> TransposeSpec {
    let padding = match &s["padding"] {
        Value::String(r) if r == "same_upper" => TransposePadding::SameUpper,
        Value::String(r) if r == "same_lower" => TransposePadding::SameLower,
        o if o.get("explicit").is_some() => TransposePadding::Explicit(pairs(&o["explicit"])),
        o => TransposePadding::OutputShape {
            shape: usizes(&o["output_shape"]),
            auto_pad: match o["auto_pad"].as_str() {
                Some("SAME_UPPER") => AutoPad::SameUpper,
                Some("SAME_LOWER") => AutoPad::SameLower,
                _ => AutoPad::NotSet,
            },
        },
    };
    TransposeSpec {
        stride: usizes(&s["stride"]),
        dilation: usizes(&s["dilation"]),
        padding,
        output_padding: usizes(&s["output_padding"]),
        groups: s["groups"].as_u64().expect("groups") as usize,
        ..TransposeSpec::default()
    }
}

/// The schema's bound for one element.
fn schema_bound(k: usize, u: f64, eta: f64, a: f64, y: f64) -> f64 {
    let g = gamma(k, u);
    (g * a + u * y.abs() + (k as f64 + 2.0) * (1.0 + g) * eta) * (1.0 + 2f64.powi(-48))
}

fn same_bits<T: Elem>(a: T, b: T) -> bool {
    a.bits() == b.bits() || (a.to_f64().is_nan() && b.to_f64().is_nan())
}

fn check_file<T: Elem>(name: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(Path::new(DIR).join(name)).expect("read");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let (mut valid, mut invalid) = (0, 0);
    let mut ids = std::collections::HashSet::new();
    let mut count = 0;
    for g in doc["testGroups"].as_array().expect("groups") {
        for t in g["tests"].as_array().expect("tests") {
            count += 1;
            assert!(
                ids.insert(t["tcId"].as_u64().expect("tcId")),
                "{name}: duplicate tcId"
            );
            let what = format!("{name} tcId {}", t["tcId"]);
            if t["result"] == "invalid" {
                let (xs, ws) = (usizes(&t["inputShape"]), usizes(&t["weightShape"]));
                let (x, w) = (array::<T>(&t["input"], &xs), array::<T>(&t["weight"], &ws));
                let b = t["bias"].as_array().map(|b| {
                    array::<T>(&Value::Array(b.clone()), &[b.len()])
                        .into_dimensionality()
                        .expect("1-D")
                });
                let b: Option<Array1<T>> = b;
                let mut p = Problem::new(x.view(), w.view()).spec(conv_spec::<T>(&t["spec"]));
                p.bias = b.as_ref().map(|b| b.view());
                assert!(p.validate().is_err(), "{what}: accepted");
                assert!(t["output"].is_null());
                invalid += 1;
                continue;
            }
            let (xs, ws) = (usizes(&g["inputShape"]), usizes(&g["weightShape"]));
            let ys = usizes(&g["outputShape"]);
            let (x, w) = (array::<T>(&t["input"], &xs), array::<T>(&t["weight"], &ws));
            let b: Option<Array1<T>> = t["bias"].as_array().map(|b| {
                array::<T>(&Value::Array(b.clone()), &[b.len()])
                    .into_dimensionality()
                    .expect("1-D")
            });
            let want = array::<T>(&t["output"], &ys);
            let scale: Vec<f64> = t["boundScale"]
                .as_array()
                .expect("boundScale")
                .iter()
                .map(|v| v.as_f64().expect("number"))
                .collect();
            let (exact, abs, literal) = if g["op"] == "conv" {
                let mut p = Problem::new(x.view(), w.view()).spec(conv_spec::<T>(&g["spec"]));
                p.bias = b.as_ref().map(|b| b.view());
                (
                    ExactEngine::new().conv(&p).expect("valid"),
                    abs_sums(&p).expect("valid"),
                    conv_oracle::conv(&p).expect("valid"),
                )
            } else {
                let mut p =
                    TransposeProblem::new(x.view(), w.view()).spec(transpose_spec(&g["spec"]));
                p.bias = b.as_ref().map(|b| b.view());
                let eq = p.as_conv().expect("valid");
                (
                    exact_transpose(&p).expect("valid"),
                    abs_sums(&eq.problem()).expect("valid"),
                    conv_oracle::layer::transpose_literal(&p).expect("valid"),
                )
            };
            assert_eq!(exact.shape(), want.shape(), "{what}");
            for (i, (e, v)) in exact.iter().zip(want.iter()).enumerate() {
                assert!(same_bits(*e, *v), "{what}: output {i}: {e:?} vs {v:?}");
            }
            assert_eq!(abs, scale, "{what}: boundScale");
            // The literal formula in the format (one rounding per term, in order) is inside
            // the schema's bound wherever both are finite.
            let k = g["terms"].as_u64().expect("terms") as usize;
            let (u, eta) = (
                g["unitRoundoff"].as_f64().expect("u"),
                g["subnormalMin"].as_f64().expect("eta"),
            );
            for ((l, y), a) in literal.iter().zip(want.iter()).zip(&scale) {
                let (l, y) = (l.to_f64(), y.to_f64());
                if l.is_finite() && y.is_finite() {
                    assert!(
                        (l - y).abs() <= schema_bound(k, u, eta, *a, y),
                        "{what}: literal {l} vs {y}, scale {a}"
                    );
                }
            }
            valid += 1;
        }
    }
    assert_eq!(doc["numberOfTests"].as_u64(), Some(count as u64), "{name}");
    (valid, invalid)
}

#[test]
fn the_vectors_read_back_and_hold() {
    let (v32, i32_) = check_file::<f32>("conv_core_f32.json");
    let (v64, i64_) = check_file::<f64>("conv_core_f64.json");
    let (onnx, _) = check_file::<f32>("conv_onnx_f32.json");
    let (transposed, _) = check_file::<f32>("conv_transpose_onnx_f32.json");
    assert!(v32 >= 90 && v64 >= 90 && onnx >= 40 && transposed >= 50);
    assert_eq!((i32_, i64_), (8, 8));
}
