//! `conv-oracle judge`: a candidate output against the correctly rounded one, once or as
//! a stream of JSON requests.

use crate::*;
use conv_oracle::engine::fft::linear_lengths;
use conv_oracle::engine::{Algorithm, WinogradTile};

pub(crate) fn judge_command(args: &JudgeArgs) -> Result<bool, String> {
    let layer = &args.layer;
    layer.require()?;
    let Some(output) = &args.output else {
        return Err("--output FILE.npy is required".into());
    };
    layer.check_transpose_flags()?;
    let mut paths = layer.inputs();
    paths.push(output.as_path());
    if let Some(plot) = &args.plot {
        check_output(&paths, plot, args.force)?;
    }
    // Steps: each file read, the error model, the judgement, the heatmap.
    let steps = paths.len() + 2 + usize::from(args.plot.is_some());
    let bar = progress::Progress::new("judge", steps, args.progress);
    let data = paths
        .iter()
        .map(|p| {
            bar.message(format!("reading {}", p.display()));
            let d = read_data(p);
            bar.step(format!("read {}", p.display()));
            d
        })
        .collect::<Result<Vec<_>, _>>()?;
    let judged = judge_data(args, &paths, data, &bar.handle())?;
    bar.finish();
    if args.json {
        outln!("{}", judged.json);
    } else {
        out!("{}", judged.text);
    }
    Ok(judged.passed)
}

/// `judge --stream`: one JSON request per stdin line, one JSON verdict per stdout line (the
/// `--json` document plus the request's `id`; `{"id", "verdict": "error", "error"}` for a bad
/// request, which does not stop the stream). Exit 0 when every request passed, 1 when one
/// failed, 2 when one was bad.
pub(crate) fn judge_stream(defaults: &JudgeArgs) -> ExitCode {
    use std::io::Write;
    let (mut failed, mut bad) = (false, false);
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut input = stdin.lock();
    // A request line may hold up to --max-memory / 32 bytes (its parsed JSON takes several
    // times its text); a longer one is answered with an error and skipped, unread.
    let max_line = usize::try_from(cli_io::max_memory() / 32).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    loop {
        let line = match read_request_line(&mut input, &mut buf, max_line) {
            Ok(None) => break,
            Ok(Some(line)) => line,
            Err(e) => {
                eprintln!("conv-oracle: error: reading stdin: {e}");
                return ExitCode::from(2);
            }
        };
        let line = match line {
            Ok(text) => text,
            Err(why) => {
                bad = true;
                let doc = serde_json::json!({ "verdict": "error", "error": why, "id": null });
                if writeln!(stdout, "{doc}")
                    .and_then(|_| stdout.flush())
                    .is_err()
                {
                    return ExitCode::from(2);
                }
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let (id, reply) = match serde_json::from_str::<serde_json::Value>(&line) {
            Err(e) => (
                serde_json::Value::Null,
                Err(format!("not a JSON object: {e}")),
            ),
            Ok(req) => (
                req.get("id").cloned().unwrap_or(serde_json::Value::Null),
                stream_request(&req, defaults),
            ),
        };
        let mut doc = match reply {
            Ok(j) => {
                failed |= !j.passed;
                j.json
            }
            Err(e) => {
                bad = true;
                serde_json::json!({ "verdict": "error", "error": e })
            }
        };
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("id".into(), id);
        }
        // A closed stdout ends the stream quietly.
        if writeln!(stdout, "{doc}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            return ExitCode::from(2);
        }
    }
    ExitCode::from(if bad {
        2
    } else if failed {
        1
    } else {
        0
    })
}

/// The next line of a `--stream` (without its newline): `None` at the end of input;
/// `Some(Err(why))` for a line that is not UTF-8 or is longer than `max` bytes (the rest of
/// such a line is skipped without being stored).
pub(crate) fn read_request_line(
    input: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Result<String, String>>> {
    use std::io::{BufRead, Read};
    buf.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let n = input.by_ref().take(limit).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > max {
        // Skip to the end of the over-long line.
        loop {
            let chunk = input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    input.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    input.consume(len);
                }
            }
        }
        return Ok(Some(Err(format!(
            "request line longer than {max} bytes (--max-memory / 32); skipped"
        ))));
    }
    Ok(Some(match std::str::from_utf8(buf) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!(
            "request line is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )),
    }))
}

/// One `--stream` request: the spec flags of `judge` as keys (`stride`, `dilation`,
/// `padding`, `padding_mode`, `groups`, `layout`, `kernel_layout`, `transpose`,
/// `output_padding`, `output_shape`, `tolerance`), numbers or lists where the flag takes
/// `S0,S1,...`, `padding` also as `[[lo, hi], ...]`; the arrays `input`, `weight`, `bias`
/// (optional) and `output` each a .npy path or `{"dtype": "float32" | "float64", "shape":
/// [...], "data": [...]}` with numbers, `"nan"`, `"inf"`, `"-inf"`, or `"0x..."` bit patterns.
pub(crate) fn stream_request(
    req: &serde_json::Value,
    defaults: &JudgeArgs,
) -> Result<Judgement, String> {
    use serde_json::Value;
    let obj = req.as_object().ok_or("a request must be a JSON object")?;
    let mut args = defaults.clone();
    args.stream = false;
    args.json = true;
    args.plot = None;
    flags::request_keys(obj, &mut args.layer, &mut args.tolerance)?;
    args.layer.check_transpose_flags()?;
    let mut names = Vec::new();
    let mut data = Vec::new();
    for key in ["input", "weight", "bias", "output"] {
        let Some(v) = obj.get(key) else {
            if key == "bias" {
                continue;
            }
            return Err(format!("'{key}' is required"));
        };
        let (name, d) = match v {
            Value::String(path) => (PathBuf::from(path), read_data(Path::new(path))?),
            Value::Object(_) => (PathBuf::from(format!("<{key}>")), inline_array(key, v)?),
            _ => {
                return Err(format!(
                    "'{key}': expected a .npy path or {{dtype, shape, data}}"
                ));
            }
        };
        names.push(name);
        data.push(d);
    }
    args.layer.input = Some(names[0].clone());
    args.layer.weight = Some(names[1].clone());
    args.layer.bias = (names.len() == 4).then(|| names[2].clone());
    args.output = names.last().cloned();
    let paths: Vec<&Path> = names.iter().map(PathBuf::as_path).collect();
    judge_data(&args, &paths, data, &progress::Progress::hidden().handle())
}

/// One verdict: pass or fail, the `--json` document and the text report.
pub(crate) struct Judgement {
    passed: bool,
    json: serde_json::Value,
    text: String,
}

/// Judges arrays read from `paths` (input, weight, [bias], output), all float32 or float64.
pub(crate) fn judge_data(
    args: &JudgeArgs,
    paths: &[&Path],
    data: Vec<Data>,
    bar: &progress::Handle,
) -> Result<Judgement, String> {
    let kinds: Vec<&str> = data.iter().map(Data::dtype).collect();
    if kinds.iter().all(|&k| k == "float64") {
        let arrays = data.into_iter().filter_map(Data::into_f64).collect();
        judge_typed::<f64>(args, arrays, bar)
    } else if kinds.iter().all(|&k| k == "float32") {
        let arrays = data.into_iter().filter_map(Data::into_f32).collect();
        judge_typed::<f32>(args, arrays, bar)
    } else {
        let named: Vec<String> = paths
            .iter()
            .zip(&kinds)
            .map(|(p, k)| format!("{} is {k}", p.display()))
            .collect();
        Err(format!(
            "judge needs every array in one dtype, float32 or float64: {}",
            named.join(", ")
        ))
    }
}

pub(crate) fn judge_typed<T>(
    args: &JudgeArgs,
    arrays: Vec<ArrayD<T>>,
    bar: &progress::Handle,
) -> Result<Judgement, String>
where
    T: conv_oracle::tolerance::Float + conv_oracle::engine::exact::ExactElement + Clone,
    T: conv_oracle::engine::fft::FftElement,
{
    let layer = &args.layer;
    let output = args.output.as_deref().unwrap_or(Path::new(""));
    let (x, w, got) = (&arrays[0], &arrays[1], &arrays[arrays.len() - 1]);
    let bias = layer.bias_view(if arrays.len() == 4 {
        arrays.get(2)
    } else {
        None
    })?;
    let rank = layer.spatial_rank(x)?;
    let layout = layer.input_layout();
    let context = |e: ConvError| {
        format!(
            "judge{} with {}, {}: {}",
            if layer.transpose { " --transpose" } else { "" },
            layer.input_path().display(),
            layer.weight_path().display(),
            explain(&e)
        )
    };
    let xv = input_as_nchw(x.view(), layout).map_err(context)?;
    // The candidate in (N, O, out...) order, as the input's layout gives it.
    let got =
        input_as_nchw(got.view(), layout).map_err(|e| format!("{}: {e}", output.display()))?;
    let problem = if layer.transpose {
        let mut p = TransposeProblem::new(xv, w.view()).spec(layer.transpose_spec(rank)?);
        p.bias = bias;
        Judged::Transpose(p)
    } else {
        let spec = layer.spec(rank)?;
        let wv =
            conv_oracle::layer::weight_as_oihw(w.view(), spec.kernel_layout).map_err(context)?;
        let mut p = conv_oracle::Problem::new(xv, wv).spec(spec.conv_spec());
        p.bias = bias;
        Judged::Conv(p)
    };
    // The candidate's shape, checked before anything is computed: a request of a few bytes
    // whose spec implies a large output must not cost that output's time and memory.
    let expected = problem.output_shape().map_err(context)?;
    if got.shape() != expected.as_slice() {
        return Err(format!(
            "{}: shape {:?} (in (N, O, spatial...) order), but the problem's output is {expected:?}",
            output.display(),
            got.shape()
        ));
    }
    let dtype = <T as conv_oracle::tolerance::Float>::NAME;
    bar.message("error model");
    let model = match tolerance_model(&args.tolerance, dtype)? {
        ToleranceArg::Fixed(m) => m,
        ToleranceArg::Normwise(precision) => problem.normwise(precision).map_err(context)?,
        ToleranceArg::Fft(precision, lengths) => problem
            .declared(|p| {
                let lengths = match &lengths {
                    FftLengths::Given(l) => l.clone(),
                    FftLengths::Linear => linear_lengths(p)?,
                    FftLengths::PowerOfTwo => linear_lengths(p)?
                        .into_iter()
                        .map(usize::next_power_of_two)
                        .collect(),
                };
                Ok(Algorithm::fft(precision, lengths))
            })
            .map_err(context)?,
        ToleranceArg::Winograd(m) => problem
            .declared(|p| {
                let taps = p.weight.shape().get(2).copied().unwrap_or(0);
                Ok(Algorithm::Winograd(WinogradTile::new(m, taps)?))
            })
            .map_err(context)?,
    };
    bar.step("correctly rounded result and comparison");
    let shape = got.shape().to_vec();
    let report = problem.judge(got.view(), &model).map_err(|e| match e {
        ConvError::ShapeMismatch { expected, got, .. } => format!(
            "{}: shape {got:?} (in (N, O, spatial...) order), but the problem's output is {expected:?}",
            output.display()
        ),
        e => context(e),
    })?;
    let worst_index = report.worst.as_ref().map(|w| unravel(w.index, &shape));
    let json = {
        let worst = report.worst.as_ref().map(|w| {
            serde_json::json!({
                "index": worst_index,
                "got": w.got,
                "exact": w.exact,
                "ulp": w.ulp,
                "error": w.error,
                "bound": w.bound,
                "ratio": w.ratio,
                "taps": w.taps,
            })
        });
        serde_json::json!({
            "verdict": if report.passed() { "pass" } else { "fail" },
            "reason": match &report.verdict {
                conv_oracle::tolerance::Verdict::Fail(r) => Some(r.to_string()),
                _ => None,
            },
            "model": report.model.to_string(),
            "dtype": report.dtype,
            "terms": report.terms,
            "elements": report.elements,
            "failed": report.failed,
            "correctly_rounded": report.correctly_rounded,
            "max_ulp": report.max_ulp,
            "max_ratio": report.max_ratio,
            "worst": worst,
        })
    };
    let mut text = format!("{report}\n");
    {
        use std::fmt::Write as _;
        if let (Some(w), Some(i)) = (&report.worst, &worst_index) {
            let _ = writeln!(
                text,
                "worst element at {i:?} (N, O, spatial...): got {:?}, correctly rounded {:?}, {} ulp",
                w.got, w.exact, w.ulp
            );
            if !w.taps.is_empty() {
                let shown: Vec<String> = w
                    .taps
                    .iter()
                    .take(12)
                    .map(|(a, b)| format!("{a:?}*{b:?}"))
                    .collect();
                let more = w.taps.len().saturating_sub(12);
                let _ = writeln!(
                    text,
                    "its terms (weight*input): {}{}",
                    shown.join(" + "),
                    if more > 0 {
                        format!(" + {more} more")
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    bar.step("judged");
    if let Some(plot) = &args.plot {
        bar.message(format!("heatmap {}", plot.display()));
        let (exact, abs, terms) = problem.parts().map_err(context)?;
        let got: Vec<T> = got.iter().copied().collect();
        let exact: Vec<T> = exact.iter().copied().collect();
        let ratios = conv_oracle::tolerance::element_ratios(&model, &got, &exact, &abs, terms);
        let title = format!(
            "{}: {} ({} under {})",
            output.display(),
            if report.passed() { "PASS" } else { "FAIL" },
            dtype,
            report.model
        );
        write_text(
            plot,
            &plot::heatmap_svg(&ratios, &shape, &title),
            args.force,
        )?;
        bar.step("heatmap written");
    }
    Ok(Judgement {
        passed: report.passed(),
        json,
        text,
    })
}

/// What `judge` judges: a convolution or a transposed one.
pub(crate) enum Judged<'a, T> {
    Conv(conv_oracle::Problem<'a, T>),
    Transpose(TransposeProblem<'a, T>),
}

impl<T> Judged<'_, T>
where
    T: conv_oracle::tolerance::Float + conv_oracle::engine::exact::ExactElement + Clone,
    T: conv_oracle::engine::fft::FftElement,
{
    fn judge(
        &self,
        got: ndarray::ArrayViewD<'_, T>,
        model: &Model,
    ) -> Result<conv_oracle::tolerance::Report, ConvError> {
        match self {
            Judged::Conv(p) => conv_oracle::oracle::judge(p, got, model),
            Judged::Transpose(p) => conv_oracle::oracle::judge_transpose(p, got, model),
        }
    }

    /// The output's shape `(N, O, spatial...)`, from the geometry alone (every check the
    /// engines make first, nothing computed).
    fn output_shape(&self) -> Result<Vec<usize>, ConvError> {
        match self {
            Judged::Conv(p) => {
                let geometry = p.validate()?;
                let mut shape = vec![p.input.shape()[0], p.weight.shape()[0]];
                shape.extend(geometry.output_shape());
                Ok(shape)
            }
            Judged::Transpose(p) => Ok(p.validate()?.output_shape),
        }
    }

    /// `--tolerance normwise[:single]`: the FFT engine's normwise bound for this problem (for
    /// a transposed one, of its zero-stuffed direct convolution) with transforms in
    /// `precision`, as a 2-norm over the output.
    fn normwise(&self, precision: TransformPrecision) -> Result<Model, ConvError> {
        let fft = conv_oracle::engine::fft::FftEngine::default();
        match self {
            Judged::Conv(p) => fft.normwise_model_in(p, precision),
            Judged::Transpose(p) => fft.normwise_model_in(&p.as_conv()?.problem(), precision),
        }
    }

    /// The model of the algorithm `algorithm` declares for this problem (for a transposed
    /// one, for its zero-stuffed direct convolution, which has the same exact output).
    fn declared(
        &self,
        algorithm: impl Fn(&conv_oracle::Problem<'_, T>) -> Result<Algorithm, ConvError>,
    ) -> Result<Model, ConvError> {
        match self {
            Judged::Conv(p) => algorithm(p)?.model(p),
            Judged::Transpose(p) => {
                let stuffed = p.as_conv()?;
                let p = stuffed.problem();
                algorithm(&p)?.model(&p)
            }
        }
    }

    /// The correctly rounded output, `sum |w||x|` per output and the terms per output.
    fn parts(&self) -> Result<(ArrayD<T>, Vec<f64>, usize), ConvError> {
        use conv_oracle::oracle::{abs_sums, exact_transpose, transpose_terms};
        match self {
            Judged::Conv(p) => Ok((
                ExactEngine::new().conv(p)?,
                abs_sums(p)?,
                p.weight.shape()[1..].iter().product::<usize>() + usize::from(p.bias.is_some()),
            )),
            Judged::Transpose(p) => Ok((
                exact_transpose(p)?,
                abs_sums(&p.as_conv()?.problem())?,
                transpose_terms(p)?,
            )),
        }
    }
}

/// The multi-index of flat (row-major) index `i` in `shape`.
pub(crate) fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (k, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[k] = i % n;
            i /= n;
        }
    }
    idx
}
