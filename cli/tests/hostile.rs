//! Hostile inputs (issue 8): malformed .npy files and test-vector files get one line on
//! stderr naming the file and the field, exit code 2, and nothing written; byte orders and
//! layouts numpy writes are read correctly; inputs found by the fuzz targets (fuzz/) replay
//! here.

#[path = "../../tests/common/mod.rs"]
mod common;

use conv_oracle::vectors::{check, parse};
use ndarray::{ArrayD, array};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conv-oracle"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2, one line on stderr containing `says`, nothing on stdout.
fn refused(args: &[&str], says: &str) {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: expected {says:?} in {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
}

/// A .npy file: version 1.0 header with `dict`, padded to 64 bytes, then `data`.
fn npy(dir: &Path, name: &str, dict: &str, data: &[u8]) -> String {
    common::npy_file(dir, name, dict, data)
}

fn f64s_le(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f64s_be(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// `convolve A one.npy` copies A (a full convolution with [[1]]): what the reader read.
fn read_back(dir: &Path, file: &str) -> ArrayD<f64> {
    let one = npy(
        dir,
        "one.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }",
        &f64s_le(&[1.0]),
    );
    let out = dir.join(format!(
        "{}.out.npy",
        Path::new(file).file_stem().unwrap().display()
    ));
    let o = run(&["convolve", file, &one, "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    ndarray_npy::read_npy(&out).expect("output")
}

#[test]
fn npy_byte_order_and_fortran_order_are_read_as_numpy_means_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let want = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn();
    // Big-endian: the same values, bytes reversed per element.
    let be = npy(
        d,
        "be.npy",
        "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }",
        &f64s_be(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    );
    assert_eq!(read_back(d, &be), want);
    // Fortran order: the data is column-major, so [[1, 2, 3], [4, 5, 6]] is stored as
    // 1 4 2 5 3 6.
    let fortran = npy(
        d,
        "fortran.npy",
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
        &f64s_le(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]),
    );
    assert_eq!(read_back(d, &fortran), want);
    // Both at once, and the `=` (native, little-endian here) and `|`-less spellings.
    let both = npy(
        d,
        "both.npy",
        "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }",
        &f64s_be(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]),
    );
    assert_eq!(read_back(d, &both), want);
}

#[test]
fn hostile_npy_files_are_refused_in_one_line_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let good = npy(
        d,
        "good.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
        &f64s_le(&[1.0, 2.0]),
    );
    let out = d.join("out.npy");
    let out = out.to_str().unwrap();
    let magic = d.join("magic.npy");
    std::fs::write(&magic, b"PK\x03\x04 a zip file, say").unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            magic.to_string_lossy().into_owned(),
            "magic.npy: not a .npy file (wrong magic bytes)",
        ),
        (
            npy(
                d,
                "f2.npy",
                "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }",
                &[0; 4],
            ),
            "f2.npy: unsupported dtype '<f2'",
        ),
        (
            npy(
                d,
                "obj.npy",
                "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                &[0; 16],
            ),
            "obj.npy: unsupported dtype '|O'",
        ),
        (
            npy(
                d,
                "trunc.npy",
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                &[0; 23],
            ),
            "trunc.npy: the .npy header claims shape [3] (24 bytes of data), but the file holds 23 bytes",
        ),
        (
            npy(
                d,
                "giant.npy",
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }",
                &[0; 8],
            ),
            "giant.npy: the .npy header claims shape [1099511627776]",
        ),
        // The shape named twice: the size check and the array reader must not read different
        // ones (a small first shape would let a gigantic second one through).
        (
            npy(
                d,
                "twice.npy",
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'shape': (1099511627776,), }",
                &[0; 8],
            ),
            "twice.npy: .npy header must name 'shape' exactly once",
        ),
        (
            npy(
                d,
                "noshape.npy",
                "{'descr': '<f8', 'fortran_order': False, }",
                &[0; 8],
            ),
            "noshape.npy: .npy header must name 'shape' exactly once",
        ),
        (
            npy(
                d,
                "badshape.npy",
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
                &[0; 8],
            ),
            "badshape.npy: malformed 'shape' in .npy header",
        ),
        // Found by the npy_reader fuzz target: a stray byte in the header's padding. The
        // array reader's error drew a multi-line pointer; the CLI keeps its first line.
        (
            npy(
                d,
                "stray.npy",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }  `",
                &[0; 8],
            ),
            "stray.npy: error parsing header",
        ),
    ];
    for (file, says) in &cases {
        refused(&["convolve", &good, file, "-o", out], says);
        refused(
            &["conv", "--input", file, "--weight", &good, "-o", out],
            says,
        );
        assert!(!Path::new(out).exists(), "{file}: an output was written");
    }
}

#[test]
fn fuzz_regressions_replay() {
    // Every input a fuzz target crashed on (fuzz/regressions/TARGET/), through the same entry
    // point the target calls.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz/regressions");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut replayed = 0;
    for entry in std::fs::read_dir(root.join("npy_reader")).expect("regressions") {
        let path = entry.expect("entry").path();
        let copy = dir.path().join("case.npy");
        std::fs::copy(&path, &copy).expect("copy");
        let o = run(&[
            "convolve",
            copy.to_str().unwrap(),
            copy.to_str().unwrap(),
            "-o",
            "/nonexistent/x.npy",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", path.display());
        assert_eq!(
            stderr(&o).lines().count(),
            1,
            "{}: {}",
            path.display(),
            stderr(&o)
        );
        replayed += 1;
    }
    // vectors_reader: an unknown key with a newline in it (`"u\nitRoundoff"`), through the
    // library (one-line error) and check-vectors.
    for entry in std::fs::read_dir(root.join("vectors_reader")).expect("regressions") {
        let path = entry.expect("entry").path();
        let text = String::from_utf8(std::fs::read(&path).expect("read")).expect("utf-8");
        let e = parse("case.json", &text)
            .expect_err("malformed")
            .to_string();
        assert!(e.starts_with("case.json: ") && !e.contains('\n'), "{e:?}");
        let o = run(&["check-vectors", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", path.display());
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        replayed += 1;
    }
    // cli_spec: a flag value with a newline in it (`--stride '#\n'`).
    let o = run(&[
        "conv",
        "--input",
        "x.npy",
        "--weight",
        "w.npy",
        "--stride",
        "#\n",
        "-o",
        "/nonexistent/y.npy",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(replayed >= 2);
}

// ------------------------------------------------------------------------------ vectors

const CORE: &str = "fixtures/vectors/conv_core_f64.json";

fn core() -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(CORE))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn write_json(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

#[test]
fn the_committed_vectors_parse_and_check() {
    for name in [
        "conv_core_f32.json",
        "conv_core_f64.json",
        "conv_onnx_f32.json",
        "conv_transpose_onnx_f32.json",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("fixtures/vectors")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let file = parse(name, &text).unwrap_or_else(|e| panic!("{e}"));
        let report = check(&file);
        assert!(
            report.disagreements.is_empty(),
            "{name}: {:?}",
            report.disagreements
        );
        assert_eq!(report.agreed + report.refused, file.tests().count());
        assert!(report.agreed > 0);
        let o = run(&["check-vectors", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

#[test]
fn hostile_vector_files_are_refused_naming_the_file_and_the_field() {
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "short.json",
            |v| {
                v["testGroups"][0]["tests"][0]["input"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
            "short.json: testGroups[0].tests[0].input: expected 8 values (the shape's size), got 7",
        ),
        (
            "long_scale.json",
            |v| {
                v["testGroups"][0]["tests"][1]["boundScale"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(1.0));
            },
            "long_scale.json: testGroups[0].tests[1].boundScale: expected 6 values (one per output), got 7",
        ),
        (
            "unknown.json",
            |v| {
                v["testGroups"][0]["tests"][0]["expected"] = json!("pass");
            },
            "unknown.json: testGroups[0].tests[0].expected: unknown field",
        ),
        (
            "unknown_top.json",
            |v| {
                v["version"] = json!(2);
            },
            "unknown_top.json: version: unknown field",
        ),
        (
            "nan_scale.json",
            |v| {
                v["testGroups"][0]["tests"][0]["boundScale"][2] = json!("NaN");
            },
            "nan_scale.json: testGroups[0].tests[0].boundScale[2]: expected a number, got the string \"NaN\"",
        ),
        (
            "nan_u.json",
            |v| {
                v["testGroups"][1]["unitRoundoff"] = json!("nan");
            },
            "nan_u.json: testGroups[1].unitRoundoff: expected a number, got the string \"nan\"",
        ),
        (
            "wrong_u.json",
            |v| {
                v["testGroups"][1]["unitRoundoff"] = json!(5.960464477539063e-8);
            },
            "wrong_u.json: testGroups[1].unitRoundoff: expected 1.1102230246251565e-16 (the dtype's)",
        ),
        (
            "dup.json",
            |v| {
                v["testGroups"][2]["tests"][1]["tcId"] = json!(1);
            },
            "dup.json: testGroups[2].tests[1].tcId: duplicate tcId 1 (first at testGroups[0].tests[0].tcId)",
        ),
        (
            "count.json",
            |v| {
                v["numberOfTests"] = json!(103);
            },
            "count.json: numberOfTests: says 103, the file has 104 tests",
        ),
        (
            "hex.json",
            |v| {
                v["testGroups"][0]["tests"][0]["weight"][1] = json!("4000");
            },
            "hex.json: testGroups[0].tests[0].weight[1]: expected 16 lower-case hex digits (a float64 bit pattern), got \"4000\"",
        ),
        (
            "tcid.json",
            |v| {
                v["testGroups"][0]["tests"][0]["tcId"] = json!(-3);
            },
            "tcid.json: testGroups[0].tests[0].tcId: expected a whole number >= 0, got -3",
        ),
        (
            "missing.json",
            |v| {
                v["testGroups"][0]["tests"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("output");
            },
            "missing.json: testGroups[0].tests[0].output: required field is missing",
        ),
        (
            "shape.json",
            |v| {
                v["testGroups"][0]["inputShape"] = json!([1, 1, 9]);
            },
            "shape.json: testGroups[0].tests[0].input: expected 9 values (the shape's size), got 8",
        ),
        (
            "giant.json",
            |v| {
                v["testGroups"][0]["inputShape"] = json!([1u64 << 20, 1u64 << 20, 1u64 << 20]);
            },
            "giant.json: testGroups[0].tests[0].input: shape [1048576, 1048576, 1048576] is larger than a vector file holds",
        ),
        (
            "dtype.json",
            |v| {
                v["dtype"] = json!("bfloat16");
            },
            "dtype.json: dtype: expected \"float32\" or \"float64\", got \"bfloat16\"",
        ),
        (
            "padding.json",
            |v| {
                v["testGroups"][0]["spec"]["padding"] = json!({"explicit": [[1, 2, 3]]});
            },
            "padding.json: testGroups[0].spec.padding.explicit[0]: expected a [begin, end] pair, got 3 values",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(before.is_empty());
    for (name, edit, says) in cases {
        let mut v = core();
        edit(&mut v);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let err = parse(name, &text).expect_err(name).to_string();
        assert!(
            err.starts_with(says),
            "{name}: expected {says:?}, got {err:?}"
        );
        let path = write_json(dir.path(), name, &v);
        refused(&["check-vectors", path.to_str().unwrap()], says);
    }
    // Literal NaN is not JSON: refused by the JSON reader with the position.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(CORE))
        .unwrap()
        .replacen("\"boundScale\": [\n", "\"boundScale\": [\n NaN,", 1);
    let path = dir.path().join("literal_nan.json");
    std::fs::write(&path, &text).unwrap();
    let err = parse("literal_nan.json", &text)
        .expect_err("NaN")
        .to_string();
    assert!(err.starts_with("literal_nan.json: line "), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    refused(
        &["check-vectors", path.to_str().unwrap()],
        "literal_nan.json: line ",
    );
    // Nothing but the test's own inputs in the directory: the CLI wrote nothing.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".json")), "{names:?}");
}

#[test]
fn a_wrong_expected_output_is_a_disagreement_not_a_parse_error() {
    // Well-formed files whose content is wrong: check-vectors exits 1 naming the test.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut v = core();
    // Flip the last bit of the first output: one ulp off the correctly rounded value.
    let h = v["testGroups"][0]["tests"][0]["output"][0]
        .as_str()
        .unwrap()
        .to_string();
    let bits = u64::from_str_radix(&h, 16).unwrap() ^ 1;
    v["testGroups"][0]["tests"][0]["output"][0] = json!(format!("{bits:016x}"));
    // A wrong output shape, with each test's output and bound scales cut to its length (a
    // length that does not fit the shape would be a parse error instead).
    v["testGroups"][1]["outputShape"] = json!([1, 1, 1]);
    for t in v["testGroups"][1]["tests"].as_array_mut().unwrap() {
        t["output"].as_array_mut().unwrap().truncate(1);
        t["boundScale"].as_array_mut().unwrap().truncate(1);
    }
    let p = write_json(dir.path(), "wrong.json", &v);
    let o = run(&["check-vectors", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("tcId 1: output[0]: expected"), "{out}");
    assert!(out.contains("outputShape: expected ["), "{out}");
    let file = parse("wrong.json", &text_of(&v)).unwrap();
    let r = check(&file);
    let ids: Vec<u64> = r.disagreements.iter().map(|d| d.tc_id).collect();
    let group1: Vec<u64> = v["testGroups"][1]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tcId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids[0], 1);
    assert_eq!(
        &ids[1..],
        &group1[..],
        "every test of group 1 disagrees on the shape"
    );
}

fn text_of(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

#[test]
fn shapes_that_do_not_fit_together_are_refused_naming_the_axis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x = npy(
        d,
        "x.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 5), }",
        &f64s_le(&[0.0; 10]),
    );
    let w3 = npy(
        d,
        "w3.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 2), }",
        &f64s_le(&[0.0; 6]),
    );
    let w = npy(
        d,
        "w.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }",
        &f64s_le(&[0.0; 4]),
    );
    let y_bad = npy(
        d,
        "y.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 3), }",
        &f64s_le(&[0.0; 3]),
    );
    let b2 = npy(
        d,
        "b.npy",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
        &f64s_le(&[0.0; 2]),
    );
    let out = d.join("out.npy");
    let out = out.to_str().unwrap();
    refused(
        &["conv", "--input", &x, "--weight", &w3, "-o", out],
        "channel",
    );
    refused(
        &[
            "conv", "--input", &x, "--weight", &w, "--bias", &b2, "-o", out,
        ],
        "bias",
    );
    refused(
        &["judge", "--input", &x, "--weight", &w, "--output", &y_bad],
        "y.npy: shape [1, 1, 3] (in (N, O, spatial...) order), but the problem's output is [1, 1, 4]",
    );
    assert!(!Path::new(out).exists());
}

// ------------------------------------------------------------------------------ resources

#[test]
fn max_memory_refuses_before_allocating_and_says_the_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let f64_npy = |name: &str, shape: &str, v: &[f64]| {
        npy(
            d,
            name,
            &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"),
            &f64s_le(v),
        )
    };
    let x = f64_npy("x.npy", "(1, 1, 1)", &[1.0]);
    let w = f64_npy("w.npy", "(1, 1, 1)", &[2.0]);
    let out = d.join("out.npy");
    let o = out.to_str().unwrap();
    // 2^40 - 1 + 2 pads: an output of 2^40 + 1 elements, refused from the spec alone under
    // the default budget (2 GiB: 22369621 elements of 96 bytes).
    let pad = ((1u64 << 39) as f64).to_string();
    refused(
        &[
            "conv",
            "--input",
            &x,
            "--weight",
            &w,
            "--padding",
            &pad,
            "-o",
            o,
        ],
        "output elements would be 1099511627777 (96.0 TiB at 96 bytes each), over the 22369621 that --max-memory 2 GiB allows",
    );
    refused(
        &[
            "judge",
            "--input",
            &x,
            "--weight",
            &w,
            "--padding",
            &pad,
            "--output",
            &x,
        ],
        "output elements would be 1099511627777",
    );
    // The same through a --stream request: an error verdict, the stream goes on.
    let req = format!(
        "{{\"id\": 7, \"input\": \"{x}\", \"weight\": \"{w}\", \"output\": \"{x}\", \"padding\": {}}}\n",
        1u64 << 39
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_conv-oracle"))
        .args(["judge", "--stream"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.as_bytes())
        .unwrap();
    let got = child.wait_with_output().unwrap();
    let line: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(line["id"], 7);
    assert_eq!(line["verdict"], "error");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("over the 22369621 that --max-memory 2 GiB allows"),
        "{line}"
    );
    // Configurable: padding 100 needs 201 output elements; 16 KiB allows 170, 32 KiB 341.
    refused(
        &[
            "conv",
            "--input",
            &x,
            "--weight",
            &w,
            "--padding",
            "100",
            "-o",
            o,
            "--max-memory",
            "16K",
        ],
        "output elements would be 201 (18.8 KiB at 96 bytes each), over the 170 that --max-memory 16 KiB allows",
    );
    assert!(!out.exists());
    let ok = run(&[
        "--max-memory",
        "32KiB",
        "conv",
        "--input",
        &x,
        "--weight",
        &w,
        "--padding",
        "100",
        "-o",
        o,
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let y: ArrayD<f64> = ndarray_npy::read_npy(&out).unwrap();
    assert_eq!(y.len(), 201);
    assert_eq!(y.iter().filter(|&&v| v == 2.0).count(), 1);
    // Input files count against the budget before they are read.
    let big = f64_npy("big.npy", "(1, 1, 64)", &[0.0; 64]);
    refused(
        &[
            "convolve",
            &big,
            &w,
            "-o",
            o,
            "--force",
            "--max-memory",
            "256",
        ],
        "big.npy: holds 512 bytes of data, over --max-memory 256 bytes",
    );
    // A vector file counts too (1/32 of the budget, as a --stream line).
    let core_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(CORE);
    refused(
        &[
            "--max-memory",
            "1M",
            "check-vectors",
            core_path.to_str().unwrap(),
        ],
        "of text, over the 32 KiB that --max-memory 1 MiB allows for a vector file (1/32)",
    );
    // Sizes that are not sizes.
    for bad in ["0", "2X", "-1G", "99999999999T", ""] {
        let flag = format!("--max-memory={bad}");
        refused(
            &[
                "conv", "--input", &x, "--weight", &w, "-o", o, "--force", &flag,
            ],
            "--max-memory '",
        );
    }
}

// ------------------------------------------------------------------------------ nothing lost

/// Runs `conv` with its write held after the data (the test hook), interrupts it with
/// `signal` once the temporary file exists, and returns the exit status and the directory's
/// files.
fn interrupt_a_write(
    signal: &str,
    force_over_existing: bool,
) -> (Option<i32>, Vec<String>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let header =
        |shape: &str| format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let x = npy(d, "x.npy", &header("(1, 1, 3)"), &f64s_le(&[1.0, 2.0, 3.0]));
    let w = npy(d, "w.npy", &header("(1, 1, 2)"), &f64s_le(&[1.0, 1.0]));
    let out = d.join("out.npy");
    if force_over_existing {
        std::fs::write(&out, b"the user's old file").unwrap();
    }
    let mut args = vec![
        "conv",
        "--input",
        &x,
        "--weight",
        &w,
        "-o",
        out.to_str().unwrap(),
    ];
    if force_over_existing {
        args.push("--force");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_conv-oracle"))
        .args(&args)
        .env("CONV_ORACLE_TEST_WRITE_PAUSE_MS", "20000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let tmp = d.join(format!(".out.npy.tmp-{}", child.id()));
    let start = std::time::Instant::now();
    while !tmp.exists() {
        assert!(
            start.elapsed().as_secs() < 20,
            "the temporary file never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let old = std::fs::read(&out).unwrap_or_default();
    (status.code(), names, old)
}

#[test]
fn an_interrupted_write_leaves_no_partial_file() {
    for signal in ["-INT", "-TERM", "-HUP"] {
        let (code, names, _) = interrupt_a_write(signal, false);
        assert_eq!(code, Some(130), "{signal}");
        assert_eq!(
            names,
            ["w.npy", "x.npy"],
            "{signal}: no output and no temporary file"
        );
    }
    // With --force over an existing file, the interrupted run leaves the old file whole.
    let (code, names, old) = interrupt_a_write("-INT", true);
    assert_eq!(code, Some(130));
    assert_eq!(names, ["out.npy", "w.npy", "x.npy"]);
    assert_eq!(old, b"the user's old file");
}

#[test]
fn outputs_are_never_clobbered_and_never_an_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let header =
        |shape: &str| format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let x = npy(d, "x.npy", &header("(1, 1, 3)"), &f64s_le(&[1.0, 2.0, 3.0]));
    let w = npy(d, "w.npy", &header("(1, 1, 2)"), &f64s_le(&[1.0, 1.0]));
    let x_bytes = std::fs::read(&x).unwrap();
    let out = d.join("out.npy");
    std::fs::write(&out, b"keep me").unwrap();
    let o = out.to_str().unwrap();
    refused(
        &["conv", "--input", &x, "--weight", &w, "-o", o],
        "out.npy: exists; pass --force to overwrite it",
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    // An input as the output, even with --force and by another spelling of its path.
    let other = format!("{}/./x.npy", d.display());
    refused(
        &[
            "conv", "--input", &x, "--weight", &w, "-o", &other, "--force",
        ],
        "the output path is an input",
    );
    refused(
        &["convolve", &x, &w, "-o", &x, "--force"],
        "the output path is an input",
    );
    assert_eq!(std::fs::read(&x).unwrap(), x_bytes);
    // A leftover file with the temporary name is not truncated or used: the write fails
    // cleanly... unless the pid differs, which it does for every new process, so the run
    // succeeds and the stranger's file is untouched.
    let stray = d.join(".out.npy.tmp-1");
    std::fs::write(&stray, b"not ours").unwrap();
    let ok = run(&["conv", "--input", &x, "--weight", &w, "-o", o, "--force"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(std::fs::read(&stray).unwrap(), b"not ours");
    let y: ArrayD<f64> = ndarray_npy::read_npy(&out).unwrap();
    assert_eq!(y.into_raw_vec_and_offset().0, vec![3.0, 5.0]);
}

#[test]
fn stream_lines_that_are_not_requests_get_an_error_and_the_stream_goes_on() {
    use std::io::Write;
    let mut input: Vec<u8> = Vec::new();
    input.extend(b"\xff\xfe not utf-8\n");
    input.extend(b"\n   \n"); // blank lines: no answer
    input.extend(format!("{{\"id\": \"long\", \"pad\": \"{}\"}}\n", "x".repeat(5000)).as_bytes());
    input.extend(b"[1, 2]\n");
    input.extend(b"{\"id\": 4, \"input\": {\"shape\": [1, 1, 2], \"data\": [1, 2]}, \"weight\": {\"shape\": [1, 1, 1], \"data\": [3]}, \"output\": {\"shape\": [1, 1, 2], \"data\": [3, 6]}}\n");
    input.extend(b"{\"id\": 5, \"input\": {\"shape\": [1, 1, 2], \"data\": [1, 2]}}"); // no newline at the end
    let mut child = Command::new(env!("CARGO_BIN_EXE_conv-oracle"))
        .args(["--max-memory", "128K", "judge", "--stream"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let said: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["id"].to_string(),
                l["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("null", "error"),
        ("null", "error"),
        ("null", "error"),
        ("4", "pass"),
        ("5", "error"),
    ];
    assert_eq!(said.len(), want.len(), "{lines:?}");
    for ((id, verdict), (wid, wv)) in said.iter().zip(want) {
        assert_eq!((id.as_str(), verdict.as_str()), (wid, wv), "{lines:?}");
    }
    let err = |i: usize| lines[i]["error"].as_str().unwrap().to_string();
    assert!(err(0).contains("not UTF-8"), "{}", err(0));
    // 128 KiB / 32 = 4096 bytes per line.
    assert!(err(1).contains("longer than 4096 bytes"), "{}", err(1));
    assert!(
        err(2).contains("a request must be a JSON object"),
        "{}",
        err(2)
    );
    assert!(err(4).contains("'weight' is required"), "{}", err(4));
}
