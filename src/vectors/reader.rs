//! The strict reader: every field of a vector file checked against the schema, each
//! problem named by its JSON path.

use super::{Dtype, Expect, VectorError, VectorFile, VectorGroup, VectorSpec, VectorTest};
use crate::problem::{AutoPad, Boundary, ConvSpec, Flip, Padding, TransposePadding, TransposeSpec};
use serde_json::Value;

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
/// are right is [`check`](super::check)'s job.
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
