//! The `conv-oracle` binary: verify, pad, convolve, correlate, conv and judge, as a user runs them;
//! `--engine` computes exactly what the library's engine of that name computes.

#[path = "../../tests/common/mod.rs"]
mod common;

use conv_oracle::engine::exact::ExactEngine;
use conv_oracle::engine::fft::FftEngine;
use conv_oracle::engine::method::{Method, MethodEngine};
use conv_oracle::engine::{ConvEngine, ReferenceEngine};
use conv_oracle::layer::{LayerSpec, conv_using};
use conv_oracle::signal::{
    Boundary2d, Mode, Options, convolve, convolve_opts, convolve2d, correlate, correlate_opts,
};
use conv_oracle::testing::cases::Arr;
use conv_oracle::testing::cases::Case;
use conv_oracle::tolerance::fft::{distance, l2_upper};
use conv_oracle::tolerance::{U64, componentwise};
use conv_oracle::{Boundary, ConvError, Limits, Padding, Problem, Ring};
use ndarray::{ArrayD, Axis, IxDyn, array};
use ndarray_npy::{ReadableElement, read_npy, write_npy};
use num_complex::Complex64;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conv-oracle"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn pad_examples_from_the_issue() {
    let o = run(&["pad", "--mode", "reflect", "--pad", "3", "a", "b", "c", "d"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "d c b | a b c d | c b a\n");
    let o = run(&["pad", "--mode", "constant=7", "--pad", "2,1", "a", "b"]);
    assert_eq!(stdout(&o), "7 7 | a b | 7\n");
    let o = run(&["pad", "--mode", "zeros", "--pad", "1,2", "a", "b"]);
    assert_eq!(stdout(&o), "0 | a b | 0 0\n");
}

#[test]
fn pad_dialects_and_refusals() {
    // ndimage 'reflect' is numpy 'symmetric'; ndimage 'mirror' is numpy 'reflect'.
    let o = run(&[
        "pad",
        "--dialect",
        "ndimage",
        "--mode",
        "reflect",
        "--pad",
        "2",
        "a",
        "b",
        "c",
    ]);
    assert_eq!(stdout(&o), "b a | a b c | c b\n");
    let o = run(&[
        "pad",
        "--dialect",
        "ndimage",
        "--mode",
        "mirror",
        "--pad",
        "2",
        "a",
        "b",
        "c",
    ]);
    assert_eq!(stdout(&o), "c b | a b c | b a\n");
    // numpy computes reflect with pad 4 on 4 items; PyTorch, TF and onnxruntime refuse it.
    for (dialect, says) in [
        (
            "torch",
            "Padding size should be less than the corresponding input dimension",
        ),
        (
            "tf",
            "paddings must be less than the dimension size: 4, 4 not less than 4",
        ),
        ("onnx", "pre-pad (4) exceeds maximum allowed (3)"),
    ] {
        let o = run(&[
            "pad",
            "--dialect",
            dialect,
            "--mode",
            "reflect",
            "--pad",
            "4",
            "a",
            "b",
            "c",
            "d",
        ]);
        assert!(o.status.success());
        let out = stdout(&o);
        assert!(out.starts_with("c d c b | a b c d | c b a b\n"), "{out}");
        assert!(
            out.contains("would refuse") && out.contains(says),
            "{dialect}: {out}"
        );
    }
    // Within the limit: no note.
    let o = run(&[
        "pad",
        "--dialect",
        "torch",
        "--mode",
        "reflect",
        "--pad",
        "3",
        "a",
        "b",
        "c",
        "d",
    ]);
    assert!(!stdout(&o).contains("refuse"));
    // A mode the dialect does not have is an error in one line, exit 2.
    let o = run(&[
        "pad",
        "--dialect",
        "torch",
        "--mode",
        "symmetric",
        "--pad",
        "1",
        "a",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = run(&["pad", "--mode", "reflect", "--pad", "x", "a"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The CLI's `pad` against numpy.pad as captured in the peer fixtures: every mode, every
/// length 1..=6, every lo in 0..=20 with a hi spread over 0..=20.
#[test]
fn pad_agrees_with_numpy_pad() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fixtures/peers/scipy/pad.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("pad.json")).expect("json");
    let items: Vec<String> = (0..6).map(|i| format!("x{i}")).collect();
    let mut checked = 0;
    for case in doc["cases"].as_array().expect("cases") {
        let shape = case["in1"]["shape"].as_array().expect("shape");
        if shape.len() != 1 || shape[0].as_u64() == Some(0) || case.get("out").is_none() {
            continue; // 2-D and empty cases are for the library test
        }
        let n = shape[0].as_u64().expect("n") as usize;
        let pads: Vec<usize> = case["pad"]
            .as_array()
            .and_then(|p| p[0].as_array())
            .expect("pad_width")
            .iter()
            .map(|v| v.as_u64().expect("pad") as usize)
            .collect();
        let (lo, hi) = (pads[0], pads[1]);
        if hi != (lo * 7 + n) % 21 {
            continue;
        }
        let numpy_mode = case["mode"].as_str().expect("mode");
        let (dialect_mode, fill) = match numpy_mode {
            "constant" => ("constant=F".to_string(), "F"),
            m => (m.to_string(), ""),
        };
        let mut args = vec![
            "pad".to_string(),
            "--dialect".into(),
            "numpy".into(),
            "--mode".into(),
            dialect_mode,
            "--pad".into(),
            format!("{lo},{hi}"),
        ];
        args.extend(items[..n].iter().cloned());
        let o = bin().args(&args).output().expect("runs");
        let expected: Vec<String> = case["out"]["data"]
            .as_array()
            .expect("out")
            .iter()
            .map(|v| match v.as_i64().expect("index") {
                -1 => fill.to_string(),
                i => items[i as usize].clone(),
            })
            .collect();
        let got: Vec<String> = stdout(&o)
            .split_whitespace()
            .filter(|t| *t != "|")
            .map(str::to_string)
            .collect();
        assert_eq!(
            got, expected,
            "numpy.pad mode {numpy_mode} n={n} pads=({lo},{hi})"
        );
        checked += 1;
    }
    // 5 modes x 6 lengths x 21 values of lo.
    assert_eq!(checked, 5 * 6 * 21);
}

#[test]
fn verify_passes_and_reports() {
    // 15 signal and no-panic rows; the layer battery: 10 engine rows on each of 5 engines
    // (reference, dense, fft, capped overlap-add, direct) and 6 operator rows; the FFT
    // battery: 6 whole-FFT and 4 overlap-add rows within the bound, 2 realistic-size rows,
    // 4 wrong engines refuted; the exact battery: 7 data kinds on f64 and f32, 4 on each
    // complex type, the exact tier alone on 2 x 2, 3 wrong engines on f64 and f32; the
    // summation battery: 8 orders on f64 and f32, 3 wrong engines.
    const ROWS: usize =
        15 + 5 * 10 + 6 + 6 + 4 + 2 + 4 + 7 * 2 + 4 * 2 + 2 * 2 + 3 + 3 * 2 + 1 + 8 * 2 + 3;
    let o = run(&["verify", "--cases", "16", "--seed", "7"]);
    assert!(o.status.success(), "{}", stdout(&o));
    let out = stdout(&o);
    let last = out.lines().last().expect("a last line");
    assert!(
        last.starts_with(&format!("verify: {ROWS} properties, "))
            && last.ends_with("cases, all passed"),
        "{last}"
    );
    assert_eq!(ROWS, conv_oracle::verify::rows().len());
    // With --progress always, progress lines go to stderr (not a terminal here: a line per
    // redraw, at most 5 a second and only when the count or the row changed, then a last one),
    // and stdout is the same JSON document.
    let o = run(&["verify", "--cases", "16", "--json", "--progress", "always"]);
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(doc["failed"], 0);
    assert_eq!(doc["properties"], ROWS);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert!((1..=ROWS + 2).contains(&lines.len()), "{err}");
    assert!(lines.iter().all(|l| l.starts_with("verify [")), "{err}");
    let counts: Vec<usize> = lines
        .iter()
        .map(|l| {
            let after = l.split("] ").nth(1).unwrap_or_default();
            after
                .split('/')
                .next()
                .unwrap_or_default()
                .parse()
                .expect("a count")
        })
        .collect();
    assert!(counts.windows(2).all(|c| c[0] <= c[1]), "{err}");
    let last = lines.last().expect("a last line");
    assert!(
        last.starts_with(&format!("verify [{}] {ROWS}/{ROWS} ", "#".repeat(24)))
            && last.ends_with(" done"),
        "{last}"
    );
}

/// Random `x` and `w` of these shapes (seeds `seed` and `seed + 1`) and the correctly rounded
/// `y = conv(x, w)`, written as x.npy, w.npy and y.npy in `d`: a judge problem that passes.
fn passing_judge_files(
    d: &Path,
    x: &[usize],
    w: &[usize],
    seed: usize,
) -> (String, String, String) {
    let (x, w) = (floats(x, seed), floats(w, seed + 1));
    let y = conv_oracle::engine::exact::ExactEngine::new()
        .conv(&Problem::new(x.view(), w.view()))
        .unwrap();
    (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "y.npy", &y),
    )
}

/// `--progress`: `judge` is silent on stderr when it is not a terminal (the default, auto),
/// and with `always` counts its steps (three files read, the model, the judgement) without
/// changing stdout; `never` is silent too.
#[test]
fn judge_progress_only_where_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (xp, wp, yp) = passing_judge_files(dir.path(), &[1, 2, 9], &[2, 2, 3], 13);
    let judge = |extra: &[&str]| {
        let mut args = vec!["judge", "--input", &xp, "--weight", &wp, "--output", &yp];
        args.extend(extra);
        run(&args)
    };
    let quiet = judge(&[]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stderr(&quiet), "");
    assert_eq!(stderr(&judge(&["--progress", "never"])), "");
    let shown = judge(&["--progress", "always"]);
    assert_eq!(shown.status.code(), Some(0));
    assert_eq!(stdout(&shown), stdout(&quiet));
    let err = stderr(&shown);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("judge [") && last.contains("] 5/5 ") && last.ends_with(" done"),
        "{err}"
    );
    let bad = judge(&["--progress", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

fn write<T: ndarray_npy::WritableElement>(dir: &Path, name: &str, a: &ArrayD<T>) -> String {
    let p = dir.join(name);
    write_npy(&p, a).expect("write npy");
    p.to_string_lossy().into_owned()
}

#[test]
fn convolve_and_correlate_npy_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let f = array![[1.0, 2.0, -3.0], [4.0, 0.5, 6.0]].into_dyn();
    let g = array![[1.0, -1.0], [2.0, 0.0]].into_dyn();
    let in1 = write(d, "f.npy", &f);
    let in2 = write(d, "g.npy", &g);
    for (cmd, mode, m) in [
        ("convolve", "full", Mode::Full),
        ("convolve", "same", Mode::Same),
        ("correlate", "valid", Mode::Valid),
        ("correlate", "same", Mode::Same),
    ] {
        let out = d.join(format!("{cmd}-{mode}.npy"));
        let o = run(&[
            cmd,
            &in1,
            &in2,
            "--mode",
            mode,
            "-o",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got: ArrayD<f64> = read_npy(&out).expect("read");
        let expected = if cmd == "convolve" {
            convolve(f.view(), g.view(), m)
        } else {
            correlate(f.view(), g.view(), m)
        }
        .expect("ok");
        assert_eq!(got, expected, "{cmd} {mode}");
    }
    // 2-D boundary forms with a fill value.
    let out = d.join("c2d.npy");
    let o = run(&[
        "convolve",
        &in1,
        &in2,
        "--mode",
        "same",
        "--boundary",
        "fill",
        "--fillvalue",
        "-2",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: ArrayD<f64> = read_npy(&out).expect("read");
    let f2 = f.view().into_dimensionality().expect("2-D");
    let g2 = g.view().into_dimensionality().expect("2-D");
    let expected = convolve2d(f2, g2, Mode::Same, Boundary2d::Fill(-2.0)).expect("ok");
    assert_eq!(got, expected.into_dyn());
    // int64 with complex128 promotes to complex128.
    let gi = array![[1i64, 2]].into_dyn();
    let fc = array![[Complex64::new(1.0, 1.0), Complex64::new(0.0, -2.0)]].into_dyn();
    let (ini, inc) = (write(d, "gi.npy", &gi), write(d, "fc.npy", &fc));
    let out = d.join("mixed.npy");
    let o = run(&["correlate", &inc, &ini, "-o", out.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: ArrayD<Complex64> = read_npy(&out).expect("read");
    let gc = gi.mapv(|v| Complex64::new(v as f64, 0.0));
    assert_eq!(
        got,
        correlate(fc.view(), gc.view(), Mode::Full).expect("ok")
    );
}

#[test]
fn never_loses_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let f = ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, 2.0, 3.0]).expect("shape");
    let in1 = write(d, "f.npy", &f);
    let in2 = write(d, "g.npy", &f);
    let before = std::fs::read(&in1).expect("read");
    // The output is an input: refused, even with --force.
    for force in [false, true] {
        let mut args = vec!["convolve", in1.as_str(), in2.as_str(), "-o", in1.as_str()];
        if force {
            args.push("--force");
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(std::fs::read(&in1).expect("read"), before);
        assert!(stderr(&o).contains("input"), "{}", stderr(&o));
    }
    // An existing output is kept without --force and replaced with it.
    let out = d.join("out.npy");
    std::fs::write(&out, b"precious").expect("write");
    let o = run(&["convolve", &in1, &in2, "-o", out.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"));
    assert_eq!(std::fs::read(&out).expect("read"), b"precious");
    let o = run(&[
        "convolve",
        &in1,
        &in2,
        "-o",
        out.to_str().expect("utf8"),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: ArrayD<f64> = read_npy(&out).expect("read");
    assert_eq!(
        got.iter().copied().collect::<Vec<_>>(),
        [1.0, 4.0, 10.0, 12.0, 9.0]
    );
    // A refused computation writes nothing.
    let bad = d.join("bad.npy");
    let two = write(d, "two.npy", &array![[1.0, 2.0]].into_dyn());
    let tall = write(d, "tall.npy", &array![[1.0], [2.0]].into_dyn());
    let o = run(&[
        "convolve",
        &two,
        &tall,
        "--mode",
        "valid",
        "-o",
        bad.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!bad.exists());
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn bad_files_get_one_line_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let good = write(d, "good.npy", &array![1.0, 2.0].into_dyn());
    let magic = d.join("magic.npy");
    std::fs::write(&magic, b"not an npy file at all").expect("write");
    let short = d.join("short.npy");
    std::fs::write(&short, b"\x93NUM").expect("write");
    let int32 = write(d, "int32.npy", &array![1i32, 2].into_dyn());
    let three_d = write(d, "three.npy", &ArrayD::<f64>::zeros(IxDyn(&[1, 1, 2])));
    let missing = d.join("missing.npy");
    // A well-formed header (v1.0, padded to 64 bytes) followed by `data`.
    let npy = |name: &str, shape: &str, data: &[u8]| {
        let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        common::npy_file(d, name, &dict, data)
    };
    // 2^40 elements claimed, 8 bytes present: refused from the header (before this check the
    // reader tried to allocate 8 TiB and aborted).
    let huge = npy("huge.npy", "(1099511627776,)", &[0; 8]);
    let truncated = npy("truncated.npy", "(10,)", &[0; 16]);
    let overflow = npy("overflow.npy", "(4294967296, 4294967296, 16)", &[0; 8]);
    let out = d.join("out.npy");
    let out = out.to_str().expect("utf8");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["convolve", magic.to_str().expect("utf8"), &good, "-o", out],
            "magic.npy: not a .npy file",
        ),
        (
            vec!["convolve", &huge, &good, "-o", out],
            "huge.npy: the .npy header claims shape [1099511627776] (8796093022208 bytes of data), but the file holds 8 bytes",
        ),
        (
            vec!["convolve", &good, &truncated, "-o", out],
            "truncated.npy: the .npy header claims shape [10] (80 bytes of data), but the file holds 16 bytes",
        ),
        (
            vec![
                "judge", "--input", &overflow, "--weight", &good, "--output", &good,
            ],
            "overflow.npy: the .npy header claims shape [4294967296, 4294967296, 16] (more than 2^64 bytes of data)",
        ),
        (
            vec!["convolve", &good, short.to_str().expect("utf8"), "-o", out],
            "short.npy",
        ),
        (
            vec!["convolve", &int32, &good, "-o", out],
            "unsupported dtype '<i4'",
        ),
        (
            vec![
                "convolve",
                missing.to_str().expect("utf8"),
                &good,
                "-o",
                out,
            ],
            "missing.npy: cannot open",
        ),
        (
            vec!["correlate", &good, &three_d, "-o", out],
            "in2: expected 1 axes, got 3",
        ),
        (
            vec![
                "convolve",
                &three_d,
                &three_d,
                "--boundary",
                "wrap",
                "-o",
                out,
            ],
            "--boundary needs 2-D inputs",
        ),
        (
            vec!["convolve", &good, &good, "--fillvalue", "3", "-o", out],
            "--fillvalue needs --boundary fill",
        ),
    ];
    for (args, says) in cases {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: expected {says:?} in {err}");
        assert!(!Path::new(out).exists());
    }
}

fn flat<T: Copy>(a: &ArrayD<T>) -> Vec<T> {
    a.iter().copied().collect()
}

#[test]
fn conv_command_matches_the_layer_api() {
    use conv_oracle::layer::{InputLayout, KernelLayout, LayerSpec, conv};
    use conv_oracle::problem::Padding;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // (N=1, C=2, H=4, W=5), weight (O=4, C/groups=1, 2, 3), groups 2, bias.
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 4, 5]), |i| {
        (i[1] * 20 + i[2] * 5 + i[3]) as f64 - 7.0
    });
    let w = ArrayD::from_shape_fn(IxDyn(&[4, 1, 2, 3]), |i| {
        (i[0] * 6 + i[2] * 3 + i[3]) as f64 * 0.5 - 3.0
    });
    let b = ArrayD::from_shape_vec(IxDyn(&[4]), vec![1.0, -2.0, 0.25, 8.0]).expect("shape");
    let (xp, wp, bp) = (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "b.npy", &b),
    );
    let out = d.join("y.npy");
    let o = run(&[
        "conv",
        "--input",
        &xp,
        "--weight",
        &wp,
        "--bias",
        &bp,
        "--stride",
        "2,1",
        "--dilation",
        "1,2",
        "--padding",
        "1:2,0:3",
        "--padding-mode",
        "reflect",
        "--groups",
        "2",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: ArrayD<f64> = read_npy(&out).expect("read");
    let spec = LayerSpec {
        stride: vec![2, 1],
        dilation: vec![1, 2],
        padding: Padding::Explicit(vec![(1, 2), (0, 3)]),
        padding_mode: conv_oracle::layer::PaddingMode::Reflect,
        groups: 2,
        ..LayerSpec::default()
    };
    let b1 = b.view().into_dimensionality().expect("1-D");
    let expected = conv(x.view(), w.view(), Some(b1), &spec).expect("ok");
    assert_eq!(got, expected);

    // The same problem in NHWC / HWIO gives the permuted result.
    let xh = x
        .view()
        .permuted_axes(IxDyn(&[0, 2, 3, 1]))
        .as_standard_layout()
        .into_owned();
    let wh = w
        .view()
        .permuted_axes(IxDyn(&[2, 3, 1, 0]))
        .as_standard_layout()
        .into_owned();
    let (xhp, whp) = (write(d, "xh.npy", &xh), write(d, "wh.npy", &wh));
    let out2 = d.join("yh.npy");
    let o = run(&[
        "conv",
        "--input",
        &xhp,
        "--weight",
        &whp,
        "--bias",
        &bp,
        "--stride",
        "2,1",
        "--dilation",
        "1,2",
        "--padding",
        "1:2,0:3",
        "--padding-mode",
        "reflect",
        "--groups",
        "2",
        "--layout",
        "nhwc",
        "--kernel-layout",
        "hwio",
        "-o",
        out2.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got2: ArrayD<f64> = read_npy(&out2).expect("read");
    assert_eq!(
        got2.view().permuted_axes(IxDyn(&[0, 3, 1, 2])),
        expected.view()
    );

    // ONNX SAME_UPPER, int64: docs/semantics.md section 2 example.
    let x8 = ArrayD::from_shape_vec(IxDyn(&[1, 1, 8]), (1..=8i64).collect()).expect("shape");
    let w3 = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1i64, 10, 100]).expect("shape");
    let (x8p, w3p) = (write(d, "x8.npy", &x8), write(d, "w3.npy", &w3));
    for (padding, expected) in [
        ("same-upper", [321, 543, 765, 87]),
        ("same-lower", [210, 432, 654, 876]),
    ] {
        let out = d.join(format!("{padding}.npy"));
        let o = run(&[
            "conv",
            "--input",
            &x8p,
            "--weight",
            &w3p,
            "--stride",
            "2",
            "--padding",
            padding,
            "-o",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got: ArrayD<i64> = read_npy(&out).expect("read");
        assert_eq!(flat(&got), expected);
    }
    let _ = (InputLayout::ChannelsFirst, KernelLayout::Oihw);
}

#[test]
fn conv_transpose_command() {
    // docs/semantics.md section 6 (onnxruntime 1.32): x=[1,2,3], w=[1,10,100], s=2.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1i64, 2, 3]).expect("shape");
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1i64, 10, 100]).expect("shape");
    let (xp, wp) = (write(d, "x.npy", &x), write(d, "w.npy", &w));
    let cases: Vec<(Vec<&str>, Vec<i64>)> = vec![
        (vec![], vec![1, 10, 102, 20, 203, 30, 300]),
        (
            vec!["--padding", "same-upper"],
            vec![1, 10, 102, 20, 203, 30],
        ),
        (
            vec!["--padding", "same-lower"],
            vec![10, 102, 20, 203, 30, 300],
        ),
        (vec!["--output-shape", "6"], vec![10, 102, 20, 203, 30, 300]),
        (
            vec!["--padding", "1", "--output-padding", "1"],
            vec![10, 102, 20, 203, 30, 300],
        ),
    ];
    for (i, (extra, expected)) in cases.into_iter().enumerate() {
        let out = d.join(format!("t{i}.npy"));
        let mut args = vec![
            "conv",
            "--transpose",
            "--input",
            &xp,
            "--weight",
            &wp,
            "--stride",
            "2",
        ];
        args.extend(extra.iter().copied());
        args.extend(["-o", out.to_str().expect("utf8")]);
        let o = run(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let got: ArrayD<i64> = read_npy(&out).expect("read");
        assert_eq!(flat(&got), expected, "{extra:?}");
    }
    let out = d.join("never.npy");
    let o_ = out.to_str().expect("utf8");
    for (args, says) in [
        (
            vec![
                "conv",
                "--input",
                &xp,
                "--weight",
                &wp,
                "--output-shape",
                "6",
                "-o",
                o_,
            ],
            "need --transpose",
        ),
        (
            vec![
                "conv", "--input", &xp, "--weight", &wp, "--stride", "1,2", "-o", o_,
            ],
            "2 values for 1 spatial axes",
        ),
        (
            vec![
                "conv",
                "--input",
                &xp,
                "--weight",
                &wp,
                "--padding",
                "1:2,3:4",
                "-o",
                o_,
            ],
            "2 pairs for 1 spatial axes",
        ),
        (
            vec![
                "conv",
                "--transpose",
                "--input",
                &xp,
                "--weight",
                &wp,
                "--padding-mode",
                "reflect",
                "-o",
                o_,
            ],
            "only --padding-mode zeros",
        ),
        (
            vec![
                "conv", "--input", &xp, "--weight", &wp, "--groups", "2", "-o", o_,
            ],
            "groups = 2 does not divide",
        ),
        (
            vec![
                "conv",
                "--input",
                &xp,
                "--weight",
                &wp,
                "--stride",
                "2",
                "--padding",
                "torch-same",
                "-o",
                o_,
            ],
            "needs stride 1",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{args:?}: expected {says:?} in {err}");
        assert!(!out.exists());
    }
}

#[test]
fn engine_flag_selects_the_fft_engine() {
    // Integer data: the FFT engine returns the exact integers (its bound proves rounding is
    // exact), so the results equal the reference's; so do the transposed ones.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 9, 7]), |i| {
        (i[1] * 63 + i[2] * 7 + i[3]) as i64 % 11 - 5
    });
    let w = ArrayD::from_shape_fn(IxDyn(&[3, 2, 3, 2]), |i| {
        (i[0] + 2 * i[1] + 3 * i[2] + i[3]) as i64 % 5 - 2
    });
    let (xp, wp) = (write(d, "x.npy", &x), write(d, "w.npy", &w));
    let mut results = Vec::new();
    for engine in ["reference", "fft"] {
        let out = d.join(format!("{engine}.npy"));
        let o = run(&[
            "conv",
            "--input",
            &xp,
            "--weight",
            &wp,
            "--padding",
            "1:2,0:1",
            "--padding-mode",
            "circular",
            "--stride",
            "2,1",
            "--engine",
            engine,
            "-o",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got: ArrayD<i64> = read_npy(&out).expect("read");
        results.push(got);
        let out = d.join(format!("{engine}-signal.npy"));
        let f = write(
            d,
            "f.npy",
            &x.index_axis(ndarray::Axis(0), 0)
                .index_axis(ndarray::Axis(0), 0)
                .to_owned(),
        );
        let o = run(&[
            "correlate",
            &f,
            &f,
            "--mode",
            "same",
            "--engine",
            engine,
            "-o",
            out.to_str().expect("utf8"),
            "--force",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got: ArrayD<i64> = read_npy(&out).expect("read");
        results.push(got);
    }
    assert_eq!(results[0], results[2]);
    assert_eq!(results[1], results[3]);
    // Transposed: every engine (the others on the zero-stuffed direct convolution) gives
    // the literal formula's integers.
    let w_t = ArrayD::from_shape_fn(IxDyn(&[2, 3, 3, 2]), |i| {
        (i[0] + 2 * i[1] + 3 * i[2] + i[3]) as i64 % 5 - 2
    });
    let wtp = write(d, "wt.npy", &w_t);
    let mut transposed = Vec::new();
    for engine in ["reference", "exact", "fft", "direct", "dense"] {
        let out = d.join(format!("t-{engine}.npy"));
        let o = run(&[
            "conv",
            "--transpose",
            "--input",
            &xp,
            "--weight",
            &wtp,
            "--stride",
            "2,3",
            "--padding",
            "1:0,0:2",
            "--output-padding",
            "1,2",
            "--engine",
            engine,
            "-o",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        transposed.push(read_npy::<_, ArrayD<i64>>(&out).expect("read"));
    }
    let literal = conv_oracle::layer::conv_transpose(
        x.view(),
        w_t.view(),
        None,
        &conv_oracle::layer::TransposeSpec {
            stride: vec![2, 3],
            padding: conv_oracle::layer::TransposePadding::Explicit(vec![(1, 0), (0, 2)]),
            output_padding: vec![1, 2],
            ..Default::default()
        },
    )
    .expect("valid");
    for t in &transposed {
        assert_eq!(t, &literal);
    }
}

// ------------------------------------------------------------------------------ --engine

/// Deterministic f64 data of `shape`: multiples of 1/1009 in [-1, 1], not dyadic, so that a
/// change of rounding shows in the bits. `salt` tells the arrays of a test apart.
fn floats(shape: &[usize], salt: usize) -> ArrayD<f64> {
    let mut k = salt * 104_729;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        k += 7919;
        (k % 2019) as f64 / 1009.0 - 1.0
    })
}

/// Deterministic int64 data of `shape` in -5..=5.
fn ints(shape: &[usize], salt: usize) -> ArrayD<i64> {
    let mut k = salt * 104_729;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        k += 7919;
        (k % 11) as i64 - 5
    })
}

fn bits(a: &ArrayD<f64>) -> Vec<u64> {
    a.iter().map(|v| v.to_bits()).collect()
}

/// Runs the CLI and reads the .npy it wrote.
fn run_to<T: ReadableElement>(args: &[&str], out: &Path) -> ArrayD<T> {
    let mut args = args.to_vec();
    args.extend(["-o", out.to_str().expect("utf8")]);
    let o = run(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    read_npy(out).expect("read")
}

/// `convolve` or `correlate` through the library's signal API (the functions the CLI calls),
/// evaluated by `engine`.
fn signal_lib<T: Ring>(
    cmd: &str,
    in1: &ArrayD<T>,
    in2: &ArrayD<T>,
    mode: Mode,
    engine: &dyn ConvEngine<T>,
) -> ArrayD<T> {
    let opts = Options {
        engine,
        limits: Limits::default(),
    };
    match cmd {
        "convolve" => convolve_opts(in1.view(), in2.view(), mode, &opts),
        _ => correlate_opts(in1.view(), in2.view(), mode, &opts),
    }
    .expect("computes")
}

/// The library engine behind `--engine NAME` (`MethodEngine` of that method), keeping every
/// problem it is handed with its result, so that each can be held against the reference.
struct Recording {
    engine: MethodEngine,
    seen: RefCell<Vec<(Case<f64>, ArrayD<f64>)>>,
}

impl Recording {
    fn new(method: Method) -> Self {
        Recording {
            engine: MethodEngine::new(method),
            seen: RefCell::new(Vec::new()),
        }
    }

    /// Every recorded result within the error model ([`within_error_model`]); the number of
    /// problems checked.
    fn check(&self) -> Result<usize, String> {
        let seen = self.seen.borrow();
        for (case, got) in seen.iter() {
            within_error_model(&self.engine, case, got)?;
        }
        Ok(seen.len())
    }
}

impl ConvEngine<f64> for Recording {
    fn name(&self) -> &str {
        ConvEngine::<f64>::name(&self.engine)
    }
    fn conv(&self, p: &Problem<'_, f64>) -> Result<ArrayD<f64>, ConvError> {
        let y = self.engine.conv(p)?;
        let case = Case {
            input: Arr(p.input.to_owned()),
            weight: Arr(p.weight.to_owned()),
            bias: p.bias.as_ref().map(|b| b.to_vec()),
            spec: p.spec.clone(),
        };
        self.seen.borrow_mut().push((case, y.clone()));
        Ok(y)
    }
}

/// `(sum |w| |x| (+ |b|) per output, summands per output)` of a problem, for
/// [`componentwise`].
fn abs_sums(p: &Problem<'_, f64>) -> (Vec<f64>, usize) {
    let (x, w) = (p.input.mapv(f64::abs), p.weight.mapv(f64::abs));
    let b = p.bias.as_ref().map(|b| b.mapv(f64::abs));
    let mut spec = p.spec.clone();
    if let Boundary::Constant(c) = spec.boundary {
        spec.boundary = Boundary::Constant(c.abs());
    }
    let mut q = Problem::new(x.view(), w.view()).spec(spec);
    if let Some(b) = &b {
        q = q.bias(b.view());
    }
    let taps: usize = p.weight.shape()[1..].iter().product();
    let a = conv_oracle::conv(&q).expect("valid");
    (flat(&a), taps + usize::from(p.bias.is_some()))
}

/// The crate's error model for `got`, what `engine` returned for `case`: the direct method
/// within the componentwise bound of the reference, element by element; FFT and overlap-add
/// every output block within the engine's own normwise bound ([`FftEngine::error_bounds`]) of
/// the exact result, on the FFT engine the plan names (whose bits `got` must be).
fn within_error_model(
    engine: &MethodEngine,
    case: &Case<f64>,
    got: &ArrayD<f64>,
) -> Result<(), String> {
    let plan = case.with(|p| engine.plan(p)).map_err(|e| e.to_string())?;
    match plan.chosen {
        Method::Direct => case.with(|p| {
            let want = conv_oracle::conv(p).map_err(|e| e.to_string())?;
            let (abs, terms) = abs_sums(p);
            let r = componentwise(&flat(got), &flat(&want), &abs, terms, U64);
            if r.passed {
                Ok(())
            } else {
                Err(format!(
                    "{plan}: element {} is {:e}, reference {:e}: {:e} times the componentwise bound",
                    r.worst,
                    flat(got)[r.worst],
                    flat(&want)[r.worst],
                    r.max_ratio
                ))
            }
        }),
        chosen => {
            let named = match chosen {
                Method::Fft => FftEngine::new(),
                _ => FftEngine::overlap_add(),
            };
            let again = case.with(|p| named.conv(p)).map_err(|e| e.to_string())?;
            if bits(&again) != bits(got) {
                return Err(format!("{plan}: not the bits of the engine it names"));
            }
            // Every output block (sample n, output channel o) within the engine's normwise
            // bound of the exact result, plus the rounding of the correctly rounded result
            // that stands for it (half an ulp per element: 2^-53 times its 2-norm).
            case.with(|p| {
                let bounds = named.error_bounds(p).map_err(|e| e.to_string())?;
                let want = ExactEngine::new().conv(p).map_err(|e| e.to_string())?;
                let block = |y: &ArrayD<f64>, n: usize, o: usize| -> Vec<f64> {
                    let b = y.index_axis(Axis(0), n);
                    b.index_axis(Axis(0), o).iter().copied().collect()
                };
                for ((n, o), &fft_bound) in bounds.indexed_iter() {
                    let (g, w) = (block(got, n, o), block(&want, n, o));
                    let err = distance(&g, &w);
                    let bound = fft_bound + f64::EPSILON / 2.0 * l2_upper(w.iter().copied());
                    if err.is_nan() || err > bound {
                        return Err(format!(
                            "{plan}: block ({n}, {o}) error {err:e} > bound {bound:e}"
                        ));
                    }
                }
                Ok(())
            })
        }
    }
}

const MODES: [(&str, Mode); 3] = [
    ("full", Mode::Full),
    ("same", Mode::Same),
    ("valid", Mode::Valid),
];

/// `convolve` and `correlate --engine E` for every method, 1-D and 2-D, every mode: f64 output
/// is bit for bit what the library's engine gives through the same signal API, and within the
/// error model of the reference; int64 output is the reference's, bit for bit.
#[test]
fn engine_flag_on_signals_is_the_library_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // 1-D with in1 the longer, 1-D with in2 the longer (scipy's swaps), 2-D.
    let shapes: [(&[usize], &[usize]); 3] = [(&[13], &[5]), (&[4], &[9]), (&[6, 7], &[3, 4])];
    // Methods whose f64 bits differ from the reference's somewhere: the flag reached them.
    let mut differs = HashSet::new();
    let mut problems = 0;
    for (i, (s1, s2)) in shapes.into_iter().enumerate() {
        let (f, g) = (floats(s1, 2 * i), floats(s2, 2 * i + 1));
        let (fi, gi) = (ints(s1, 2 * i), ints(s2, 2 * i + 1));
        let (fp, gp) = (
            write(d, &format!("f{i}.npy"), &f),
            write(d, &format!("g{i}.npy"), &g),
        );
        let (fip, gip) = (
            write(d, &format!("fi{i}.npy"), &fi),
            write(d, &format!("gi{i}.npy"), &gi),
        );
        for cmd in ["convolve", "correlate"] {
            for (mode_name, mode) in MODES {
                let out = |engine: &str, dtype: &str| {
                    d.join(format!("{cmd}-{i}-{mode_name}-{engine}-{dtype}.npy"))
                };
                let reference: ArrayD<f64> = run_to(
                    &[cmd, &fp, &gp, "--mode", mode_name, "--engine", "reference"],
                    &out("reference", "f64"),
                );
                assert_eq!(
                    bits(&reference),
                    bits(&signal_lib(cmd, &f, &g, mode, &ReferenceEngine)),
                    "{cmd} {s1:?} {s2:?} --mode {mode_name}"
                );
                let reference_i: ArrayD<i64> = run_to(
                    &[
                        cmd,
                        &fip,
                        &gip,
                        "--mode",
                        mode_name,
                        "--engine",
                        "reference",
                    ],
                    &out("reference", "i64"),
                );
                assert_eq!(
                    reference_i,
                    signal_lib(cmd, &fi, &gi, mode, &ReferenceEngine)
                );
                for m in Method::ALL {
                    let what = format!("{cmd} {s1:?} {s2:?} --mode {mode_name} --engine {m}");
                    let got: ArrayD<f64> = run_to(
                        &[cmd, &fp, &gp, "--mode", mode_name, "--engine", m.name()],
                        &out(m.name(), "f64"),
                    );
                    let lib = Recording::new(m);
                    let want = signal_lib(cmd, &f, &g, mode, &lib);
                    assert_eq!(got.shape(), want.shape(), "{what}");
                    assert_eq!(bits(&got), bits(&want), "{what}: CLI vs library");
                    problems += lib.check().unwrap_or_else(|e| panic!("{what}: {e}"));
                    if bits(&got) != bits(&reference) {
                        differs.insert(m);
                    }
                    let got_i: ArrayD<i64> = run_to(
                        &[cmd, &fip, &gip, "--mode", mode_name, "--engine", m.name()],
                        &out(m.name(), "i64"),
                    );
                    assert_eq!(got_i, reference_i, "{what} (int64)");
                }
            }
        }
    }
    assert_eq!(problems, 3 * 2 * 3 * Method::ALL.len());
    assert!(
        differs.contains(&Method::Fft) && differs.contains(&Method::OverlapAdd),
        "the FFT engines' rounding never showed: {differs:?}"
    );
}

/// `conv --engine E` for every method on a layer problem (batch 2, 3 input and 4 output
/// channels, bias, groups 1, stride 1, explicit asymmetric zero padding): f64 output is bit for
/// bit what `layer::conv_using` gives with the library's engine, and within the error model of
/// the reference; int64 output is the reference's, bit for bit.
#[test]
fn engine_flag_on_conv_is_the_library_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (xs, ws, bs): (&[usize], &[usize], &[usize]) = (&[2, 3, 7, 6], &[4, 3, 3, 2], &[4]);
    let (x, w, b) = (floats(xs, 0), floats(ws, 1), floats(bs, 2));
    let (xi, wi, bi) = (ints(xs, 0), ints(ws, 1), ints(bs, 2));
    let (xp, wp, bp) = (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "b.npy", &b),
    );
    let (xip, wip, bip) = (
        write(d, "xi.npy", &xi),
        write(d, "wi.npy", &wi),
        write(d, "bi.npy", &bi),
    );
    // What the CLI makes of `--padding 1:2,0:1` and the defaults.
    let spec = LayerSpec {
        stride: vec![1, 1],
        dilation: vec![1, 1],
        padding: Padding::Explicit(vec![(1, 2), (0, 1)]),
        groups: 1,
        ..LayerSpec::default()
    };
    let b1 = b.view().into_dimensionality().expect("1-D");
    let bi1 = bi.view().into_dimensionality().expect("1-D");
    let cli = |input: &str, weight: &str, bias: &str, engine: &str, out: &Path| {
        let args = [
            "conv",
            "--input",
            input,
            "--weight",
            weight,
            "--bias",
            bias,
            "--padding",
            "1:2,0:1",
            "--engine",
            engine,
        ];
        let mut args = args.to_vec();
        args.extend(["-o", out.to_str().expect("utf8")]);
        let o = run(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    cli(&xp, &wp, &bp, "reference", &d.join("reference.npy"));
    let reference: ArrayD<f64> = read_npy(d.join("reference.npy")).expect("read");
    let lib_reference = conv_using(&ReferenceEngine, x.view(), w.view(), Some(b1), &spec);
    assert_eq!(bits(&reference), bits(&lib_reference.expect("ok")));
    assert_eq!(reference.shape(), [2, 4, 8, 6]);
    cli(&xip, &wip, &bip, "reference", &d.join("reference-i.npy"));
    let reference_i: ArrayD<i64> = read_npy(d.join("reference-i.npy")).expect("read");
    let lib_reference_i = conv_using(&ReferenceEngine, xi.view(), wi.view(), Some(bi1), &spec);
    assert_eq!(reference_i, lib_reference_i.expect("ok"));
    for m in Method::ALL {
        let out = d.join(format!("{m}.npy"));
        cli(&xp, &wp, &bp, m.name(), &out);
        let got: ArrayD<f64> = read_npy(&out).expect("read");
        let lib = Recording::new(m);
        let want = conv_using(&lib, x.view(), w.view(), Some(b1), &spec).expect("ok");
        assert_eq!(got.shape(), want.shape(), "{m}");
        assert_eq!(bits(&got), bits(&want), "conv --engine {m}: CLI vs library");
        assert_eq!(lib.check(), Ok(1), "conv --engine {m}");
        let out = d.join(format!("{m}-i.npy"));
        cli(&xip, &wip, &bip, m.name(), &out);
        let got_i: ArrayD<i64> = read_npy(&out).expect("read");
        assert_eq!(got_i, reference_i, "conv --engine {m} (int64)");
    }
}

/// A long signal: `convolve --engine overlap-add` gives the bits of the library's
/// `FftEngine::overlap_add()` through the same signal API, whose path really is split into
/// blocks, and those bits are within the error model of the reference.
#[test]
fn engine_overlap_add_splits_a_long_signal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (x, h) = (floats(&[20_000], 0), floats(&[300], 1));
    let (xp, hp) = (write(d, "x.npy", &x), write(d, "h.npy", &h));
    let got: ArrayD<f64> = run_to(
        &["convolve", &xp, &hp, "--engine", "overlap-add"],
        &d.join("y.npy"),
    );
    let oa = FftEngine::overlap_add();
    let want = signal_lib("convolve", &x, &h, Mode::Full, &oa);
    assert_eq!(got.shape(), [20_299]);
    assert_eq!(bits(&got), bits(&want), "CLI vs FftEngine::overlap_add()");
    // The same problem as the signal API hands the engine: (1, 1, n), full, true convolution.
    let x3 = x
        .clone()
        .into_shape_with_order(IxDyn(&[1, 1, 20_000]))
        .expect("reshape");
    let h3 = h
        .clone()
        .into_shape_with_order(IxDyn(&[1, 1, 300]))
        .expect("reshape");
    let spec = conv_oracle::ConvSpec::new()
        .padding(Padding::Full)
        .flip(conv_oracle::Flip::Convolution);
    let (y3, path) = oa
        .conv_with_path(&Problem::new(x3.view(), h3.view()).spec(spec))
        .expect("the engine runs");
    assert_eq!(
        bits(&y3.into_shape_with_order(IxDyn(&[20_299])).expect("reshape")),
        bits(&want)
    );
    assert!(path.is_overlap_add(), "not split into blocks: {path}");
    let lib = Recording::new(Method::OverlapAdd);
    assert_eq!(
        bits(&signal_lib("convolve", &x, &h, Mode::Full, &lib)),
        bits(&got)
    );
    assert_eq!(lib.check(), Ok(1));
}

/// An engine name the CLI does not know: exit 2, one line on stderr naming every engine it
/// does know, and no output file.
#[test]
fn unknown_engine_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let f = write(d, "f.npy", &array![1.0, 2.0, 3.0].into_dyn());
    let x = write(d, "x.npy", &ArrayD::<f64>::zeros(IxDyn(&[1, 1, 4])));
    let w = write(d, "w.npy", &ArrayD::<f64>::zeros(IxDyn(&[1, 1, 2])));
    let out = d.join("out.npy");
    let o_ = out.to_str().expect("utf8");
    for args in [
        vec!["convolve", &f, &f, "--engine", "fast", "-o", o_],
        vec!["correlate", &f, &f, "--engine", "fast", "-o", o_],
        vec![
            "conv", "--input", &x, "--weight", &w, "--engine", "fast", "-o", o_,
        ],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("'fast'"), "{err}");
        for name in ["reference"]
            .into_iter()
            .chain(Method::ALL.map(Method::name))
        {
            assert!(err.contains(name), "{args:?}: {name} missing from {err}");
        }
        assert!(!out.exists(), "{args:?}");
    }
}

/// `judge`: a correctly rounded output and a plain float sum pass; one element off by 1e-3
/// relative, a channel shifted by one pixel, fail (exit 1) naming the worst element; a wrong
/// shape or mixed dtypes are bad input (exit 2, one line); the judged file is never written.
#[test]
fn judge_passes_correct_outputs_and_fails_corrupted_ones() {
    use conv_oracle::engine::direct::DirectEngine;
    use conv_oracle::engine::exact::ExactEngine;
    let dir = tempfile::tempdir().expect("tempdir");
    let x = floats(&[2, 3, 8, 7], 1);
    let w = floats(&[4, 3, 3, 3], 2);
    let b = floats(&[4], 3)
        .into_dimensionality::<ndarray::Ix1>()
        .unwrap();
    let spec = conv_oracle::ConvSpec::new().padding(Padding::Explicit(vec![(1, 1); 2]));
    let p = Problem::new(x.view(), w.view()).bias(b.view()).spec(spec);
    let exact = ExactEngine::new().conv(&p).unwrap();
    let direct = DirectEngine::new().conv(&p).unwrap();
    let (xp, wp) = (
        write(dir.path(), "x.npy", &x),
        write(dir.path(), "w.npy", &w),
    );
    let bp = write(dir.path(), "b.npy", &b.clone().into_dyn());
    let judge = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "judge",
            "--input",
            &xp,
            "--weight",
            &wp,
            "--bias",
            &bp,
            "--padding",
            "1",
            "--output",
            out,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    for (name, y) in [("exact.npy", &exact), ("direct.npy", &direct)] {
        let path = write(dir.path(), name, y);
        let o = judge(&path, &[]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).starts_with("PASS under componentwise"),
            "{}",
            stdout(&o)
        );
    }
    // The exact output is also exact to the last bit; the direct one need not be.
    let path = write(dir.path(), "exact.npy", &exact);
    assert_eq!(
        judge(&path, &["--tolerance", "exact"]).status.code(),
        Some(0)
    );

    // One element off by 1e-3 relative.
    let mut bad = exact.clone();
    bad[[0, 1, 3, 3]] *= 1.0 + 1e-3;
    let path = write(dir.path(), "bad.npy", &bad);
    let before = std::fs::read(&path).unwrap();
    let o = judge(&path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("FAIL under componentwise"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("worst element at [0, 1, 3, 3]"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the judged file was written"
    );
    let o = judge(&path, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc: Value = serde_json::from_str(stdout(&o).trim()).expect("json");
    assert_eq!(doc["verdict"], "fail");
    assert_eq!(doc["failed"], 1);
    assert_eq!(doc["worst"]["index"], serde_json::json!([0, 1, 3, 3]));
    assert_eq!(doc["worst"]["taps"].as_array().map(Vec::len), Some(28));
    // PyTorch's own float64 test tolerance (rtol 1e-7) rejects it too; ulp:4 as well.
    assert_eq!(
        judge(&path, &["--tolerance", "torch"]).status.code(),
        Some(1)
    );
    assert_eq!(
        judge(&path, &["--tolerance", "ulp:4"]).status.code(),
        Some(1)
    );

    // The heatmap shows the one bad element as the one red cell, in channel 1's panel.
    let plot = dir.path().join("bad.svg");
    let plot_s = plot.to_string_lossy().into_owned();
    let o = judge(&path, &["--plot", &plot_s]);
    assert_eq!(o.status.code(), Some(1));
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    assert_eq!(red_cells(&svg), 1, "{svg}");
    assert!(svg.contains("n 0, channel 1: max "), "{svg}");
    assert_eq!(svg.matches("n 1, channel 3").count(), 1);
    // An existing plot is not replaced without --force, and a plot onto an input is refused.
    let o = judge(&path, &["--plot", &plot_s]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        judge(&path, &["--plot", &plot_s, "--force"]).status.code(),
        Some(1)
    );
    let x_before = std::fs::read(&xp).unwrap();
    assert_eq!(
        judge(&path, &["--plot", &xp, "--force"]).status.code(),
        Some(2)
    );
    assert_eq!(std::fs::read(&xp).unwrap(), x_before);

    // Channel 2 shifted right by one pixel.
    let mut shifted = exact.clone();
    for n in 0..2 {
        for i in 0..8 {
            for j in (1..7).rev() {
                shifted[[n, 2, i, j]] = exact[[n, 2, i, j - 1]];
            }
        }
    }
    let path = write(dir.path(), "shifted.npy", &shifted);
    let o = judge(&path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("worst element at [0, 2,")
            || stdout(&o).contains("worst element at [1, 2,")
    );
    // Its heatmap: the shifted columns of channel 2 (in both samples) are red, nothing else.
    let plot = dir.path().join("shifted.svg");
    let o = judge(&path, &["--plot", &plot.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    let red = red_cells(&svg);
    assert!((2 * 8 * 5..=2 * 8 * 6).contains(&red), "{red} red cells");

    // Bad input: the wrong shape, mixed dtypes, an unknown tolerance.
    let cut = exact
        .slice(ndarray::s![.., .., .., ..6])
        .to_owned()
        .into_dyn();
    let path = write(dir.path(), "cut.npy", &cut);
    let o = judge(&path, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cut.npy: shape [2, 4, 8, 6]"),
        "{}",
        stderr(&o)
    );
    let path = write(dir.path(), "f32.npy", &exact.mapv(|v| v as f32));
    let o = judge(&path, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("f32.npy is float32"), "{}", stderr(&o));
    let path = write(dir.path(), "exact.npy", &exact);
    let o = judge(&path, &["--tolerance", "loose"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tolerance 'loose'"), "{}", stderr(&o));
}

/// `judge` on float32 data in NHWC layout: the float32 result passes, the float64 result
/// rounded twice may not need to, and a transposed (NCHW) file is refused by its shape.
#[test]
fn judge_float32_channels_last() {
    use conv_oracle::engine::exact::ExactEngine;
    let dir = tempfile::tempdir().expect("tempdir");
    let x = floats(&[1, 5, 6, 2], 4).mapv(|v| v as f32); // (N, H, W, C)
    let w = floats(&[3, 2, 2, 2], 5).mapv(|v| v as f32); // (O, C, kh, kw)
    let xc = x.view().permuted_axes(IxDyn(&[0, 3, 1, 2]));
    let p = Problem::new(xc, w.view());
    let y = ExactEngine::new().conv(&p).unwrap(); // (N, O, H', W')
    let y_nhwc = y
        .view()
        .permuted_axes(IxDyn(&[0, 2, 3, 1]))
        .as_standard_layout()
        .into_owned();
    let (xp, wp) = (
        write(dir.path(), "x.npy", &x),
        write(dir.path(), "w.npy", &w),
    );
    let yp = write(dir.path(), "y.npy", &y_nhwc);
    let o = run(&[
        "judge",
        "--input",
        &xp,
        "--weight",
        &wp,
        "--layout",
        "nhwc",
        "--output",
        &yp,
        "--tolerance",
        "exact",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("(f32, K = 8)"), "{}", stdout(&o));
    let yp = write(dir.path(), "y_nchw.npy", &y);
    let o = run(&[
        "judge", "--input", &xp, "--weight", &wp, "--layout", "nhwc", "--output", &yp,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
}

/// Cells of a `judge --plot` heatmap drawn in the colours of "outside the bound" (orange to
/// dark red: red well above green and blue).
fn red_cells(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<rect x=") && !l.contains("stroke"))
        .filter_map(|l| {
            let rgb = l.split("fill=\"rgb(").nth(1)?.split(')').next()?;
            let v: Vec<u32> = rgb.split(',').filter_map(|c| c.parse().ok()).collect();
            Some(v)
        })
        .filter(|v| v.len() == 3 && v[0] > v[1] + 60 && v[0] > v[2] + 60)
        .count()
}

/// `judge --transpose`: a float32 ConvTranspose computed by the literal formula (one f32
/// rounding per term) passes; the same output with SAME_UPPER and SAME_LOWER swapped (odd
/// totals on both axes: one position shifted) fails with exit 1; the transposed flags need
/// --transpose.
#[test]
fn judge_transposed_outputs() {
    use conv_oracle::layer::{TransposePadding, TransposeSpec, conv_transpose};
    let dir = tempfile::tempdir().expect("tempdir");
    let x = floats(&[2, 4, 5, 3], 6).mapv(|v| v as f32);
    let w = floats(&[4, 3, 3, 2], 7).mapv(|v| v as f32); // (C_in, C_out/groups, k...)
    let b = floats(&[6], 8).mapv(|v| v as f32);
    let spec = |padding| TransposeSpec {
        stride: vec![2, 3],
        dilation: vec![1, 2],
        padding,
        output_padding: vec![0, 1],
        groups: 2,
        ..Default::default()
    };
    let b1 = b.clone().into_dimensionality::<ndarray::Ix1>().unwrap();
    let upper = conv_transpose(
        x.view(),
        w.view(),
        Some(b1.view()),
        &spec(TransposePadding::SameUpper),
    )
    .unwrap();
    let lower = conv_transpose(
        x.view(),
        w.view(),
        Some(b1.view()),
        &spec(TransposePadding::SameLower),
    )
    .unwrap();
    let d = dir.path();
    let (xp, wp, bp) = (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "b.npy", &b),
    );
    let judge = |y: &str, padding: &str| {
        run(&[
            "judge",
            "--transpose",
            "--input",
            &xp,
            "--weight",
            &wp,
            "--bias",
            &bp,
            "--stride",
            "2,3",
            "--dilation",
            "1,2",
            "--padding",
            padding,
            "--output-padding",
            "0,1",
            "--groups",
            "2",
            "--output",
            y,
            "--json",
        ])
    };
    let (up, lp) = (write(d, "upper.npy", &upper), write(d, "lower.npy", &lower));
    let o = judge(&up, "same-upper");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).expect("json");
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["dtype"], "f32");
    // K: 2 input channels per group times the taps reaching one output (2 by 1 at most).
    assert_eq!(v["terms"], 2 * 2 + 1);
    let o = judge(&lp, "same-upper");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = judge(&lp, "same-lower");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(&[
        "judge",
        "--input",
        &xp,
        "--weight",
        &wp,
        "--output",
        &up,
        "--output-padding",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("need --transpose"), "{}", stderr(&o));
}

/// `--padding-mode symmetric` (numpy symmetric, scipy.ndimage reflect, scipy.signal symm):
/// judge accepts the symmetric result and rejects the reflect one.
#[test]
fn judge_symmetric_padding_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let x = floats(&[1, 2, 6], 9);
    let w = floats(&[1, 2, 4], 10);
    let out = |boundary| {
        let p = Problem::new(x.view(), w.view()).spec(
            conv_oracle::ConvSpec::new()
                .padding(Padding::Explicit(vec![(3, 2)]))
                .boundary(boundary),
        );
        conv_oracle::engine::exact::ExactEngine::new()
            .conv(&p)
            .unwrap()
    };
    let d = dir.path();
    let (xp, wp) = (write(d, "x.npy", &x), write(d, "w.npy", &w));
    let sym = write(d, "sym.npy", &out(Boundary::Symmetric));
    let refl = write(d, "refl.npy", &out(Boundary::Reflect));
    let judge = |y: &str| {
        run(&[
            "judge",
            "--input",
            &xp,
            "--weight",
            &wp,
            "--padding",
            "3:2",
            "--padding-mode",
            "symmetric",
            "--output",
            y,
            "--tolerance",
            "exact",
        ])
    };
    assert_eq!(judge(&sym).status.code(), Some(0));
    assert_eq!(judge(&refl).status.code(), Some(1));
}

/// `--tolerance normwise:single`: an output whose error lies between the double-precision
/// FFT model (f64 transforms rounded once to f32) and the single-precision one (float32
/// transforms, as scipy.fft computes float32 data) passes it and fails `normwise`; an unknown
/// precision is a one-line usage error.
#[test]
fn judge_single_precision_fft_tolerance() {
    use conv_oracle::tolerance::U32;
    use conv_oracle::tolerance::fft::TransformPrecision;
    let dir = tempfile::tempdir().expect("tempdir");
    let x = floats(&[1, 2, 40], 11).mapv(|v| v as f32);
    let w = floats(&[3, 2, 5], 12).mapv(|v| v as f32);
    let p = Problem::new(x.view(), w.view());
    let exact = conv_oracle::engine::exact::ExactEngine::new()
        .conv(&p)
        .unwrap();
    let bound = |precision| match FftEngine::new().normwise_model_in(&p, precision).unwrap() {
        conv_oracle::tolerance::Model::Normwise { bound } => bound,
        other => panic!("{other:?}"),
    };
    let (double, single) = (
        bound(TransformPrecision::Double),
        bound(TransformPrecision::Single),
    );
    let y_norm = exact
        .iter()
        .map(|&v| (v as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    // One element off by a tenth of the single-precision bound: far beyond the
    // double-precision one (and the reference's own rounding, u ||y||).
    let mut off = exact.clone();
    let first = off.iter_mut().next().unwrap();
    let target = *first as f64 + single / 10.0;
    *first = target as f32;
    let error = (*first as f64 - exact.iter().next().copied().unwrap() as f64).abs();
    assert!(error > 4.0 * (double + U32 * y_norm) && error < single / 2.0);
    let d = dir.path();
    let (xp, wp, yp) = (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "y.npy", &off),
    );
    let judge = |tolerance: &str| {
        run(&[
            "judge",
            "--input",
            &xp,
            "--weight",
            &wp,
            "--output",
            &yp,
            "--tolerance",
            tolerance,
        ])
    };
    let single_run = judge("normwise:single");
    assert_eq!(single_run.status.code(), Some(0), "{}", stdout(&single_run));
    assert!(stdout(&single_run).starts_with("PASS"));
    assert_eq!(judge("normwise").status.code(), Some(1));
    assert_eq!(judge("normwise:double").status.code(), Some(1));
    one_line_usage_error(&judge("normwise:half"), "normwise:single");
}

/// `--tolerance fft:PRECISION:LENGTHS` evaluates the FFT bound at the candidate's own lengths
/// (the single-precision output above passes at power-of-two and at linear lengths, fails in
/// double precision, and lengths that cannot hold the input are a one-line error), and
/// `--tolerance winograd:M` at Winograd tiles (a correctly rounded output passes, one element
/// far off fails, a stride-2 problem is a one-line error naming the tile).
#[test]
fn judge_declared_fft_lengths_and_winograd_tiles() {
    use conv_oracle::tolerance::fft::TransformPrecision;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x = floats(&[1, 2, 40], 11).mapv(|v| v as f32);
    let w = floats(&[3, 2, 5], 12).mapv(|v| v as f32);
    let p = Problem::new(x.view(), w.view());
    let exact = conv_oracle::engine::exact::ExactEngine::new()
        .conv(&p)
        .unwrap();
    let single = match FftEngine::new()
        .normwise_model_in(&p, TransformPrecision::Single)
        .unwrap()
    {
        conv_oracle::tolerance::Model::Normwise { bound } => bound,
        other => panic!("{other:?}"),
    };
    let mut off = exact.clone();
    let first = off.iter_mut().next().unwrap();
    *first = (*first as f64 + single / 10.0) as f32;
    let (xp, wp, yp) = (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "y.npy", &off),
    );
    let judge_with = |w: &str, tolerance: &str, extra: &[&str], y: &str| {
        let mut args = vec![
            "judge",
            "--input",
            &xp,
            "--weight",
            w,
            "--output",
            y,
            "--tolerance",
            tolerance,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let judge = |tolerance: &str, extra: &[&str], y: &str| judge_with(&wp, tolerance, extra, y);
    for ok in ["fft:single:pow2", "fft:single:linear", "fft:single:64"] {
        let o = judge(ok, &[], &yp);
        assert_eq!(o.status.code(), Some(0), "{ok}: {}", stdout(&o));
    }
    assert_eq!(judge("fft:double:pow2", &[], &yp).status.code(), Some(1));
    let short = judge("fft:single:16", &[], &yp);
    assert_ne!(short.status.code(), Some(0));
    let err = stderr(&short);
    assert!(
        err.contains("cannot hold") && err.trim().lines().count() == 1,
        "{err}"
    );
    one_line_usage_error(&judge("fft:half:pow2", &[], &yp), "fft:PRECISION:LENGTHS");

    // Winograd: 3-tap kernels.
    let w3 = floats(&[3, 2, 3], 13).mapv(|v| v as f32);
    let p3 = Problem::new(x.view(), w3.view());
    let exact3 = conv_oracle::engine::exact::ExactEngine::new()
        .conv(&p3)
        .unwrap();
    let mut far = exact3.clone();
    *far.iter_mut().next().unwrap() += 1.0;
    let (w3p, y3p, farp) = (
        write(d, "w3.npy", &w3),
        write(d, "y3.npy", &exact3),
        write(d, "far.npy", &far),
    );
    let judge3 = |tolerance: &str, extra: &[&str], y: &str| judge_with(&w3p, tolerance, extra, y);
    let pass = judge3("winograd:4", &[], &y3p);
    assert_eq!(pass.status.code(), Some(0), "{}", stdout(&pass));
    assert_eq!(judge3("winograd:4", &[], &farp).status.code(), Some(1));
    let p3s = Problem::new(x.view(), w3.view()).spec(conv_oracle::ConvSpec::new().stride(vec![2]));
    let exact3s = conv_oracle::engine::exact::ExactEngine::new()
        .conv(&p3s)
        .unwrap();
    let y3sp = write(d, "y3s.npy", &exact3s);
    let strided = judge3("winograd:4", &["--stride", "2"], &y3sp);
    assert_ne!(strided.status.code(), Some(0));
    let err = stderr(&strided);
    assert!(
        err.contains("F(4, 3)") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// `judge --stream`: JSON-lines requests (paths and inline arrays, bit patterns, a transposed
/// request) answered one verdict per line with the request's id; a bad line is answered with
/// an error and the stream goes on; the exit status is the worst verdict.
#[test]
fn judge_stream_answers_every_line() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0f64, 2.0, 3.0]).unwrap();
    let w = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0f64, 10.0, 100.0]).unwrap();
    let y = ArrayD::from_shape_vec(
        IxDyn(&[1, 1, 6]),
        vec![1.0f64, 10.0, 102.0, 20.0, 203.0, 30.0],
    )
    .unwrap();
    let (xp, wp, yp) = (
        write(d, "x.npy", &x),
        write(d, "w.npy", &w),
        write(d, "y.npy", &y),
    );
    let requests = [
        serde_json::json!({"id": 1, "input": xp, "weight": wp, "output": yp, "transpose": true,
                           "stride": 2, "padding": "same-upper"}),
        serde_json::json!({"id": "shifted", "input": xp, "weight": wp, "output": yp,
                           "transpose": true, "stride": [2], "padding": "same-lower"}),
        serde_json::json!({"id": 3, "input": {"shape": [1, 1, 3], "data": [1, 2, 3]},
                           "weight": {"shape": [1, 1, 2], "data": [1, "0x3ff0000000000000"]},
                           "output": {"shape": [1, 1, 2], "data": [3, 5]},
                           "padding": [[0, 0]], "tolerance": "exact"}),
        serde_json::json!({"id": 4, "input": {"dtype": "float32", "shape": [1, 1, 2], "data": [0.1, "nan"]},
                           "weight": {"dtype": "float32", "shape": [1, 1, 1], "data": [3]},
                           "output": {"dtype": "float32", "shape": [1, 1, 2], "data": ["0x3e99999a", "nan"]}}),
        serde_json::json!({"id": 5, "input": xp, "weight": wp, "output": yp, "strides": 2}),
    ];
    let mut input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    input.push_str("not json\n");
    let mut child = bin()
        .args(["judge", "--stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 6, "{}", String::from_utf8_lossy(&o.stdout));
    let verdicts: Vec<(&Value, &str)> = lines
        .iter()
        .map(|l| (&l["id"], l["verdict"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(verdicts[0], (&Value::from(1), "pass"));
    assert_eq!(verdicts[1], (&Value::from("shifted"), "fail"));
    assert_eq!(verdicts[2], (&Value::from(3), "pass"));
    // 0.1f32 * 3 rounded once is 0x3e99999a; NaN matches NaN.
    assert_eq!(verdicts[3], (&Value::from(4), "pass"), "{}", lines[3]);
    assert_eq!(lines[3]["dtype"], "f32");
    assert_eq!(verdicts[4].1, "error");
    assert!(
        lines[4]["error"]
            .as_str()
            .unwrap_or("")
            .contains("unknown key 'strides'")
    );
    assert_eq!(verdicts[5], (&Value::Null, "error"));
    assert_eq!(o.status.code(), Some(2));
}

/// `prove`: every claim of the proofs/ pages as expected (true ones proved, false ones
/// refuted with their counterexample), one claim by name, `--show` with both sides term by
/// term, and an unknown name as a one-line error listing the claims.
#[test]
fn prove_runs_the_symbolic_claims() {
    let all = run(&["prove"]);
    assert_eq!(all.status.code(), Some(0), "{}", stdout(&all));
    let out = stdout(&all);
    let claims = conv_oracle::proofs::claims().len();
    assert!(
        out.ends_with(&format!(
            "prove: {claims} claims, {claims} as expected, 0 not\n"
        )),
        "{out}"
    );
    assert!(out.contains("REFUTED  notes-slip"));
    assert!(out.contains("at f: [2], g: [1], output 1: f[1]*g[0] != 0"));
    assert!(out.contains("HOLDS    commutativity"), "{out}");
    assert!(
        out.contains("holds for 261 shapes (1-D lengths 1..=6 each;"),
        "{out}"
    );
    assert!(!out.contains("PROVED"), "{out}");
    let one = stdout(&run(&["prove", "commutativity"]));
    assert!(
        one.ends_with("prove: 1 claims, 1 as expected, 0 not\n"),
        "{one}"
    );
    let show = stdout(&run(&["prove", "--show", "commutativity"]));
    assert!(
        show.contains("  [1] f[0]*g[1] + f[1]*g[0]\n      = f[0]*g[1] + f[1]*g[0]\n"),
        "{show}"
    );
    one_line_usage_error(&run(&["prove", "no-such-claim"]), "notes-slip");
}

/// Exit 2 with one line on stderr that mentions `says`.
fn one_line_usage_error(o: &Output, says: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    let err = stderr(o);
    assert!(
        err.contains(says) && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// A closed standard output (`conv-oracle judge ... | head -0`) does not panic: output is
/// dropped and the exit status is still the verdict (0: both pass). Before, `println!`
/// panicked on the broken pipe (exit 101).
#[test]
fn closed_stdout_keeps_the_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (xp, wp, yp) = passing_judge_files(dir.path(), &[1, 1, 7], &[1, 1, 3], 21);
    for args in [
        vec!["judge", "--input", &xp, "--weight", &wp, "--output", &yp],
        vec!["prove", "commutativity"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader); // nobody reads: every write fails with a broken pipe
        let o = bin()
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}
