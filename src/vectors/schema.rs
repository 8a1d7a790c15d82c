//! The schema file and the JSON form of a conv or transposed spec.

use super::VectorElement;
use crate::problem::{AutoPad, Boundary, ConvSpec, Flip, Padding, TransposePadding, TransposeSpec};
use serde_json::{Value, json};

/// The schema file's name.
pub const SCHEMA_FILE: &str = "conv_vectors_schema.json";

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

pub(super) fn conv_spec_json<T: VectorElement>(s: &ConvSpec<T>, rank: usize) -> Value {
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

pub(super) fn transpose_spec_json(s: &TransposeSpec, rank: usize) -> Value {
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

pub(super) fn schema() -> Value {
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
