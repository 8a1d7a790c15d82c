//! The `conv-oracle` command line: `verify`, `pad`, `convolve`, `correlate`.
//!
//! Exit codes: 0 success; 1 `verify` found a failing property; 2 bad input (a bad file, a bad
//! argument, a refused request), reported in one line on stderr.

use clap::{Parser, Subcommand, ValueEnum};
use conv_oracle::boundary::{Peer, pad, peer_acceptance};
use conv_oracle::properties::{Outcome, run_battery};
use conv_oracle::signal::{Boundary2d, Mode, convolve, convolve2d, correlate, correlate2d};
use conv_oracle::spec::{Boundary, Limits};
use conv_oracle::{ConvError, Ring};
use ndarray::{Array1, ArrayD, Ix2};
use ndarray_npy::{ReadableElement, WritableElement};
use num_complex::Complex;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "conv-oracle",
    version,
    about = "A reference convolution oracle"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the property battery on built-in generated data; exit 1 if any property fails.
    Verify {
        /// Generated cases per property.
        #[arg(long, default_value_t = 256)]
        cases: u32,
        /// Seed for the generator (same seed, same cases).
        #[arg(long, default_value_t = 20261127)]
        seed: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pad symbolic items and print `LEFT | ITEMS | RIGHT` (numpy.pad semantics).
    Pad {
        /// zeros, constant=V, reflect, symmetric, replicate or circular (or the dialect's names).
        #[arg(long)]
        mode: String,
        /// LO or LO,HI.
        #[arg(long)]
        pad: String,
        /// Read MODE in this peer's vocabulary and report whether that peer would refuse.
        #[arg(long, value_enum)]
        dialect: Option<Dialect>,
        /// The items to pad.
        #[arg(required = true, allow_hyphen_values = true)]
        items: Vec<String>,
    },
    /// scipy.signal.convolve (or convolve2d with --boundary) on .npy files.
    Convolve(SignalArgs),
    /// scipy.signal.correlate (or correlate2d with --boundary) on .npy files.
    Correlate(SignalArgs),
}

#[derive(clap::Args)]
struct SignalArgs {
    /// First input (.npy: float64, float32, int64 or complex128).
    in1: PathBuf,
    /// Second input (.npy).
    in2: PathBuf,
    /// Output size rule.
    #[arg(long, value_enum, default_value_t = ModeArg::Full)]
    mode: ModeArg,
    /// 2-D boundary (scipy.signal.convolve2d / correlate2d); both inputs must be 2-D.
    #[arg(long, value_enum)]
    boundary: Option<BoundaryArg>,
    /// Fill value for --boundary fill (a number; complex as RE,IM).
    #[arg(long, allow_hyphen_values = true)]
    fillvalue: Option<String>,
    /// Output file (.npy).
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Full,
    Same,
    Valid,
}

#[derive(Clone, Copy, ValueEnum)]
enum BoundaryArg {
    Fill,
    Wrap,
    Symm,
}

#[derive(Clone, Copy, ValueEnum)]
enum Dialect {
    Numpy,
    Torch,
    Ndimage,
    Tf,
    Onnx,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify { cases, seed, json } => return verify(cases, seed, json),
        Command::Pad {
            mode,
            pad,
            dialect,
            items,
        } => pad_command(&mode, &pad, dialect, &items),
        Command::Convolve(args) => signal_command(&args, false),
        Command::Correlate(args) => signal_command(&args, true),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("conv-oracle: error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn verify(cases: u32, seed: u64, json: bool) -> ExitCode {
    let outcomes = run_battery(cases, seed);
    let total_cases: u64 = outcomes.iter().map(|o| u64::from(o.cases)).sum();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed).collect();
    if json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "property": o.property,
                    "engine": o.engine,
                    "cases": o.cases,
                    "passed": o.passed,
                    "detail": o.detail,
                    "seconds": o.elapsed.as_secs_f64(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "seed": seed,
            "properties": outcomes.len(),
            "cases": total_cases,
            "failed": failed.len(),
            "results": rows,
        });
        println!("{doc:#}");
    } else {
        println!(
            "{:<32} {:<16} {:>6}  {:<6} {:>8}",
            "property", "engine", "cases", "result", "time"
        );
        for o in &outcomes {
            println!(
                "{:<32} {:<16} {:>6}  {:<6} {:>7.2}s",
                o.property,
                o.engine,
                o.cases,
                if o.passed { "pass" } else { "FAIL" },
                o.elapsed.as_secs_f64()
            );
        }
        for o in outcomes.iter().filter(|o| o.passed && !o.detail.is_empty()) {
            println!("\n{} ({}): {}", o.property, o.engine, o.detail);
        }
        for o in &failed {
            println!("\nFAIL {} ({}): {}", o.property, o.engine, o.detail);
        }
        if failed.is_empty() {
            println!(
                "verify: {} properties, {} cases, all passed",
                outcomes.len(),
                total_cases
            );
        } else {
            println!(
                "verify: {} properties, {} cases, {} failed",
                outcomes.len(),
                total_cases,
                failed.len()
            );
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Parses MODE in a dialect; returns the mode and the peer whose limits to report.
fn parse_mode(
    mode: &str,
    dialect: Option<Dialect>,
) -> Result<(Boundary<String>, Option<Peer>), String> {
    let (name, value) = match mode.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (mode, None),
    };
    let lower = name.to_ascii_lowercase();
    let constant =
        |default: &str| Boundary::Constant(value.clone().unwrap_or_else(|| default.to_string()));
    let unknown = |names: &str| {
        Err(format!(
            "unknown mode '{mode}' for dialect {}: expected one of {names}",
            dialect_name(dialect)
        ))
    };
    let m = match dialect {
        None => match lower.as_str() {
            "zeros" => Boundary::Zeros,
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            "replicate" => Boundary::Replicate,
            "circular" => Boundary::Circular,
            _ => return unknown("zeros, constant=V, reflect, symmetric, replicate, circular"),
        },
        Some(Dialect::Numpy) => match lower.as_str() {
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            "edge" => Boundary::Replicate,
            "wrap" => Boundary::Circular,
            _ => return unknown("constant[=V], reflect, symmetric, edge, wrap"),
        },
        Some(Dialect::Torch) => match lower.as_str() {
            "zeros" => Boundary::Zeros,
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "replicate" => Boundary::Replicate,
            "circular" => Boundary::Circular,
            _ => return unknown("zeros, constant[=V], reflect, replicate, circular"),
        },
        Some(Dialect::Ndimage) => match lower.as_str() {
            "constant" | "grid-constant" => constant("0"),
            "reflect" => Boundary::Symmetric,
            "mirror" => Boundary::Reflect,
            "nearest" => Boundary::Replicate,
            "wrap" | "grid-wrap" => Boundary::Circular,
            _ => return unknown("constant[=V], reflect, mirror, nearest, wrap"),
        },
        Some(Dialect::Tf) => match lower.as_str() {
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            _ => return unknown("CONSTANT[=V], REFLECT, SYMMETRIC"),
        },
        Some(Dialect::Onnx) => match lower.as_str() {
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "edge" => Boundary::Replicate,
            "wrap" => Boundary::Circular,
            _ => return unknown("constant[=V], reflect, edge, wrap"),
        },
    };
    if value.is_some() && !matches!(m, Boundary::Constant(_)) {
        return Err(format!(
            "mode '{name}' takes no value (only constant=V does)"
        ));
    }
    let peer = match dialect {
        Some(Dialect::Torch) => Some(Peer::Torch),
        Some(Dialect::Tf) => Some(Peer::TensorFlow),
        Some(Dialect::Onnx) => Some(Peer::OnnxRuntime),
        _ => None,
    };
    Ok((m, peer))
}

fn dialect_name(d: Option<Dialect>) -> &'static str {
    match d {
        None => "conv-oracle",
        Some(Dialect::Numpy) => "numpy",
        Some(Dialect::Torch) => "torch",
        Some(Dialect::Ndimage) => "ndimage",
        Some(Dialect::Tf) => "tf",
        Some(Dialect::Onnx) => "onnx",
    }
}

fn parse_pads(s: &str) -> Result<(usize, usize), String> {
    let num = |t: &str| {
        t.trim().parse::<usize>().map_err(|_| {
            format!("--pad '{s}': '{t}' is not a non-negative integer (expected LO or LO,HI)")
        })
    };
    match s.split_once(',') {
        Some((lo, hi)) => Ok((num(lo)?, num(hi)?)),
        None => {
            let p = num(s)?;
            Ok((p, p))
        }
    }
}

fn pad_command(
    mode: &str,
    pads: &str,
    dialect: Option<Dialect>,
    items: &[String],
) -> Result<(), String> {
    let (mode, peer) = parse_mode(mode, dialect)?;
    let (lo, hi) = parse_pads(pads)?;
    let fill = match &mode {
        Boundary::Constant(v) => v.clone(),
        _ => "0".to_string(),
    };
    // Pad the item indices; -1 marks the constant.
    let index_mode: Boundary<i64> = match &mode {
        Boundary::Zeros | Boundary::Constant(_) => Boundary::Constant(-1),
        Boundary::Reflect => Boundary::Reflect,
        Boundary::Symmetric => Boundary::Symmetric,
        Boundary::Replicate => Boundary::Replicate,
        Boundary::Circular => Boundary::Circular,
    };
    let idx = Array1::from_iter(0..items.len() as i64).into_dyn();
    let padded =
        pad(idx.view(), &[(lo, hi)], &index_mode, &Limits::default()).map_err(|e| e.to_string())?;
    let text: Vec<&str> = padded
        .iter()
        .map(|&i| {
            if i < 0 {
                fill.as_str()
            } else {
                items[i as usize].as_str()
            }
        })
        .collect();
    let n = items.len();
    let line = [&text[..lo], &text[lo..lo + n], &text[lo + n..]]
        .iter()
        .map(|part| part.join(" "))
        .collect::<Vec<_>>()
        .join(" | ");
    println!("{}", line.trim());
    if let Some(peer) = peer {
        let verdict = peer_acceptance(peer, &mode, n, (lo, hi));
        if !verdict.accepted {
            println!(
                "note: {} would refuse this pad: {}",
                peer.name(),
                verdict.message
            );
        }
    }
    Ok(())
}

/// The element types the CLI reads and writes.
enum Data {
    I64(ArrayD<i64>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    C128(ArrayD<Complex<f64>>),
}

impl Data {
    fn rank(&self) -> u8 {
        match self {
            Data::I64(_) => 0,
            Data::F32(_) => 1,
            Data::F64(_) => 2,
            Data::C128(_) => 3,
        }
    }
    fn to_f64(&self) -> ArrayD<f64> {
        match self {
            Data::I64(a) => a.mapv(|v| v as f64),
            Data::F32(a) => a.mapv(f64::from),
            Data::F64(a) => a.clone(),
            Data::C128(a) => a.mapv(|v| v.re),
        }
    }
    fn to_c128(&self) -> ArrayD<Complex<f64>> {
        match self {
            Data::C128(a) => a.clone(),
            other => other.to_f64().mapv(|v| Complex::new(v, 0.0)),
        }
    }
}

/// Reads the `descr` of a .npy header without reading the data.
fn npy_descr(path: &Path) -> Result<String, String> {
    let name = path.display();
    let mut f = std::fs::File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?;
    let mut head = [0u8; 10];
    f.read_exact(&mut head)
        .map_err(|_| format!("{name}: not a .npy file (shorter than a .npy header)"))?;
    if &head[..6] != b"\x93NUMPY" {
        return Err(format!("{name}: not a .npy file (wrong magic bytes)"));
    }
    let len = match head[6] {
        1 => usize::from(u16::from_le_bytes([head[8], head[9]])),
        2 | 3 => {
            let mut more = [0u8; 2];
            f.read_exact(&mut more)
                .map_err(|_| format!("{name}: truncated .npy header"))?;
            u32::from_le_bytes([head[8], head[9], more[0], more[1]]) as usize
        }
        v => return Err(format!("{name}: unsupported .npy version {v}")),
    };
    if len > 1 << 20 {
        return Err(format!("{name}: .npy header claims {len} bytes; refusing"));
    }
    let mut header = vec![0u8; len];
    f.read_exact(&mut header)
        .map_err(|_| format!("{name}: truncated .npy header"))?;
    let header = String::from_utf8_lossy(&header);
    let start = header
        .find("'descr'")
        .ok_or_else(|| format!("{name}: .npy header has no 'descr' field"))?;
    let rest = &header[start + 7..];
    let q1 = rest
        .find('\'')
        .ok_or_else(|| format!("{name}: malformed 'descr' in .npy header"))?;
    let rest = &rest[q1 + 1..];
    let q2 = rest
        .find('\'')
        .ok_or_else(|| format!("{name}: malformed 'descr' in .npy header"))?;
    Ok(rest[..q2].to_string())
}

fn read_as<T: ReadableElement>(path: &Path) -> Result<ArrayD<T>, String> {
    ndarray_npy::read_npy(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_data(path: &Path) -> Result<Data, String> {
    let descr = npy_descr(path)?;
    let kind = descr.trim_start_matches(['<', '>', '=', '|']);
    match kind {
        "i8" => Ok(Data::I64(read_as(path)?)),
        "f4" => Ok(Data::F32(read_as(path)?)),
        "f8" => Ok(Data::F64(read_as(path)?)),
        "c16" => Ok(Data::C128(read_as(path)?)),
        _ => Err(format!(
            "{}: unsupported dtype '{descr}' (supported: float64 '<f8', float32 '<f4', int64 '<i8', complex128 '<c16')",
            path.display()
        )),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Writes through a temporary file in the same directory, then renames: never a partial file.
fn write_npy<T: WritableElement>(path: &Path, a: &ArrayD<T>, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!(
            "{}: exists; pass --force to overwrite it",
            path.display()
        ));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)
            .map_err(|e| format!("{}: cannot create: {e}", tmp.display()))?;
        ndarray_npy::WriteNpyExt::write_npy(a, &mut f)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.flush().map_err(|e| format!("{}: {e}", path.display()))?;
        f.sync_all()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: cannot write: {e}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn signal_command(args: &SignalArgs, correlation: bool) -> Result<(), String> {
    for input in [&args.in1, &args.in2] {
        if same_file(input, &args.output) {
            return Err(format!(
                "{}: the output path is an input; refusing to overwrite an input",
                args.output.display()
            ));
        }
    }
    if args.output.exists() && !args.force {
        return Err(format!(
            "{}: exists; pass --force to overwrite it",
            args.output.display()
        ));
    }
    if args.fillvalue.is_some() && !matches!(args.boundary, Some(BoundaryArg::Fill)) {
        return Err("--fillvalue needs --boundary fill".into());
    }
    let a = read_data(&args.in1)?;
    let b = read_data(&args.in2)?;
    let mode = match args.mode {
        ModeArg::Full => Mode::Full,
        ModeArg::Same => Mode::Same,
        ModeArg::Valid => Mode::Valid,
    };
    // numpy promotion: int64 < float32 < float64 < complex128, and int64 with float32 gives
    // float64.
    let common = match (a.rank().max(b.rank()), a.rank().min(b.rank())) {
        (1, 0) => 2,
        (r, _) => r,
    };
    let ctx = SignalCtx {
        args,
        mode,
        correlation,
    };
    match common {
        0 => match (a, b) {
            (Data::I64(x), Data::I64(y)) => ctx.run(x, y, |s| s.parse::<i64>().ok()),
            _ => unreachable!("both int64 when the common type is int64"),
        },
        1 => match (a, b) {
            (Data::F32(x), Data::F32(y)) => ctx.run(x, y, |s| s.parse::<f32>().ok()),
            _ => unreachable!("both float32 when the common type is float32"),
        },
        2 => ctx.run(a.to_f64(), b.to_f64(), |s| s.parse::<f64>().ok()),
        _ => ctx.run(a.to_c128(), b.to_c128(), |s| match s.split_once(',') {
            Some((re, im)) => Some(Complex::new(
                re.trim().parse().ok()?,
                im.trim().parse().ok()?,
            )),
            None => Some(Complex::new(s.parse().ok()?, 0.0)),
        }),
    }
}

struct SignalCtx<'a> {
    args: &'a SignalArgs,
    mode: Mode,
    correlation: bool,
}

impl SignalCtx<'_> {
    fn run<T: Ring + WritableElement>(
        &self,
        x: ArrayD<T>,
        y: ArrayD<T>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<(), String> {
        let args = self.args;
        let context = |e: ConvError| {
            format!(
                "{} with {}, {}: {e}",
                if self.correlation {
                    "correlate"
                } else {
                    "convolve"
                },
                args.in1.display(),
                args.in2.display()
            )
        };
        let out = match args.boundary {
            None => if self.correlation {
                correlate(x.view(), y.view(), self.mode)
            } else {
                convolve(x.view(), y.view(), self.mode)
            }
            .map_err(context)?,
            Some(b) => {
                let (x2, y2) = (two_d(&x, &args.in1)?, two_d(&y, &args.in2)?);
                let boundary = match b {
                    BoundaryArg::Fill => Boundary2d::Fill(match &args.fillvalue {
                        None => T::zero(),
                        Some(s) => parse(s).ok_or_else(|| {
                            format!("--fillvalue '{s}' is not a value of the inputs' dtype")
                        })?,
                    }),
                    BoundaryArg::Wrap => Boundary2d::Wrap,
                    BoundaryArg::Symm => Boundary2d::Symm,
                };
                if self.correlation {
                    correlate2d(x2, y2, self.mode, boundary)
                } else {
                    convolve2d(x2, y2, self.mode, boundary)
                }
                .map_err(context)?
                .into_dyn()
            }
        };
        write_npy(&args.output, &out, args.force)
    }
}

fn two_d<'a, T>(a: &'a ArrayD<T>, p: &Path) -> Result<ndarray::ArrayView2<'a, T>, String> {
    a.view().into_dimensionality::<Ix2>().map_err(|_| {
        format!(
            "{}: --boundary needs 2-D inputs (scipy convolve2d), got {} axes",
            p.display(),
            a.ndim()
        )
    })
}
