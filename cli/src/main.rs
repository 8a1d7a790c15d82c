//! The `conv-oracle` command line: `verify`, `pad`, `convolve`, `correlate`, `conv`, `judge`,
//! `vectors`.
//!
//! Exit codes: 0 success; 1 `verify` found a failing property; 2 bad input (a bad file, a bad
//! argument, a refused request), reported in one line on stderr.

use clap::{Parser, Subcommand, ValueEnum};
use conv_oracle::ConvError;
use conv_oracle::engine::dense::DenseEngine;
use conv_oracle::engine::exact::ExactEngine;
use conv_oracle::engine::method::{Method, MethodEngine};
use conv_oracle::engine::{ConvEngine, ReferenceEngine};
use conv_oracle::layer::{
    InputLayout, TransposeProblem, conv_using, input_as_nchw, transpose_literal,
};
use conv_oracle::problem::boundary::{Peer, pad, peer_acceptance};
use conv_oracle::problem::{Boundary, Limits};
use conv_oracle::signal::{
    Boundary2d, Mode, Options, convolve_opts, convolve2d_opts, correlate_opts, correlate2d_opts,
};
use conv_oracle::testing::Shard;
use conv_oracle::testing::{DEFAULT_SEED, Outcome};
use conv_oracle::tolerance::Model;
use conv_oracle::tolerance::fft::TransformPrecision;
use ndarray::{Array1, ArrayD, Ix2};
use std::path::{Path, PathBuf};

/// Set once standard output is closed (its reader, e.g. `head`, went away): later output is
/// dropped, and the command still finishes and exits with its verdict (a `println!` would
/// panic on the broken pipe).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::Ordering::Relaxed;
    if STDOUT_CLOSED.load(Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Relaxed);
    }
}

/// `println!` that survives a closed standard output ([`write_stdout`]).
macro_rules! outln {
    () => {
        write_stdout(format_args!("\n"))
    };
    ($($t:tt)*) => {
        write_stdout(format_args!("{}\n", format_args!($($t)*)))
    };
}

/// `print!` that survives a closed standard output ([`write_stdout`]).
macro_rules! out {
    ($($t:tt)*) => {
        write_stdout(format_args!($($t)*))
    };
}

mod cli_io;
mod flags;
use cli_io::{CliElement, Data, Job, check_output, dispatch, read_data, write_npy, write_text};
use flags::{LayerArgs, inline_array, tolerance_model};
mod plot;
mod progress;
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
    /// Memory budget: no input file with more data, and no array with more than SIZE / 96
    /// elements (96 bytes per element covers the most any command holds per output
    /// element); a request over it is refused before anything is allocated, with the
    /// numbers. Bytes, or K, M, G, T (powers of 1024).
    #[arg(long, global = true, value_name = "SIZE", default_value = "2G")]
    max_memory: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the property battery on built-in generated data; exit 1 if any property fails.
    Verify {
        /// Generated cases per property (at least 16: below that the rows check too little).
        #[arg(long, default_value_t = conv_oracle::verify::DEFAULT_CASES)]
        cases: u32,
        /// Seed for the generator (same seed, same cases).
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Check only slice I of N of every row's cases (I from 0): the N slices of one seed
        /// together check exactly the cases of the whole run. Refutation rows run whole.
        #[arg(long, value_name = "I/N", value_parser = parse_shard, default_value = "0/1")]
        shard: Shard,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// A progress line on standard error: auto (on a terminal, for work longer than
        /// about a second), always or never.
        #[arg(long, value_enum, default_value_t = progress::When::Auto)]
        progress: progress::When,
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
    /// Deep-learning convolution (PyTorch / ONNX semantics) on .npy files; --transpose for
    /// ConvTranspose.
    Conv(ConvArgs),
    /// Judge another implementation's conv output (.npy) against the correctly rounded
    /// result: exit 0 pass, 1 fail, 2 bad input. Reads its files only.
    Judge(JudgeArgs),
    /// Write the language-neutral test vectors (JSON, correctly rounded outputs as hex bit
    /// patterns) into a directory, deterministically (fixtures/vectors holds the committed
    /// copy).
    Vectors {
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Which files.
        #[arg(long, value_enum, default_value_t = SuiteArg::All)]
        suite: SuiteArg,
        /// Replace files that differ.
        #[arg(long)]
        force: bool,
    },
    /// Read test-vector files strictly (every field, type, length and tcId checked; the first
    /// problem named by file and field) and recompute every test: exit 0 when all hold, 1 when
    /// a test's expected output, bound scale or shape is wrong, 2 for a malformed file.
    CheckVectors {
        /// Vector files (.json), e.g. fixtures/vectors/conv_core_f64.json.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run the symbolic checks of the proofs/ pages (polynomial identities for every shape up
    /// to each claim's bound, the pages' proofs cover every size; false claims must be
    /// refuted); exit 1 if one does not come out as expected.
    Prove {
        /// Only this claim (default: all).
        name: Option<String>,
        /// Print the polynomials of a small case of this claim, both sides, term by term.
        #[arg(long, value_name = "NAME", conflicts_with = "name")]
        show: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SuiteArg {
    /// Every padding rule, boundary and flip; float32 and float64.
    Core,
    /// ONNX Conv and ConvTranspose, float32.
    Onnx,
    /// Both.
    All,
}

#[derive(clap::Args, Clone)]
struct JudgeArgs {
    #[command(flatten)]
    layer: LayerArgs,
    /// The output to judge (.npy, the input's dtype and layout). Never written. Required
    /// (except with --stream).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Read JSON-lines requests on stdin (the spec flags as keys, arrays inline or as .npy
    /// paths; README "judge --stream") and answer one JSON verdict per line.
    #[arg(long, conflicts_with_all = ["input", "weight", "output", "plot"])]
    stream: bool,
    /// componentwise (any summation order: gamma_K sum |w||x|), normwise (the bound of an FFT
    /// computed in double precision), normwise:single (an FFT computed in single precision,
    /// e.g. scipy.fft on float32), ulp:N, exact, tosa, or a peer's own test tolerance: torch, numpy, onnx, onnxruntime,
    /// jax (or torch-f32, torch-f64, torch-f16, torch-bf16, jax-f32, jax-f64).
    #[arg(long, default_value = "componentwise")]
    tolerance: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write an SVG heatmap of error / bound per element, one panel per (sample,
    /// channel) (the first 32).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Replace an existing --plot file.
    #[arg(long)]
    force: bool,
    /// A progress line on standard error: auto (on a terminal, for work longer than about a
    /// second), always or never. Never with --stream.
    #[arg(long, value_enum, default_value_t = progress::When::Auto)]
    progress: progress::When,
}

#[derive(clap::Args)]
struct ConvArgs {
    #[command(flatten)]
    layer: LayerArgs,
    #[command(flatten)]
    out: OutputArgs,
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
    #[command(flatten)]
    out: OutputArgs,
}

/// Where the result goes and which engine computes it (shared by convolve, correlate, conv).
#[derive(clap::Args)]
struct OutputArgs {
    /// Output file (.npy).
    #[arg(short, long)]
    output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
    /// Which engine computes the result [default: exact]. Exact returns every float output
    /// correctly rounded; integer input is summed exactly (wrapping, as the reference does)
    /// by every engine. conv --transpose: exact rounds the literal formula's exact value once
    /// (float input; complex input uses the literal formula), reference is the literal formula,
    /// the others run the zero-stuffed direct convolution with the same exact output.
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
}

impl OutputArgs {
    /// The engine asked for, or the default: exact.
    fn engine(&self) -> EngineArg {
        self.engine.unwrap_or(EngineArg::Exact)
    }
}

/// Engines the CLI offers.
#[derive(Clone, Copy, ValueEnum)]
enum EngineArg {
    /// Correctly rounded: the exact sum of every output rounded once to nearest-even (float
    /// input); the reference for integer input.
    Exact,
    /// The literal formula.
    Reference,
    /// The convolution as a dense (Toeplitz) matrix times the flattened input.
    Dense,
    /// Sums of products in a fast loop order (rounding differs from the reference's order).
    Direct,
    /// The FFT engine (normwise error bound; exact for integers when its bound allows, else it
    /// computes the reference).
    Fft,
    /// The FFT engine with overlap-add blocks chosen by the cost model.
    OverlapAdd,
    /// Direct, FFT or overlap-add, whichever the cost model predicts to be fastest.
    Auto,
}

impl EngineArg {
    fn method(self) -> Option<Method> {
        match self {
            EngineArg::Exact | EngineArg::Reference | EngineArg::Dense => None,
            EngineArg::Direct => Some(Method::Direct),
            EngineArg::Fft => Some(Method::Fft),
            EngineArg::OverlapAdd => Some(Method::OverlapAdd),
            EngineArg::Auto => Some(Method::Auto),
        }
    }

    fn pick<'a, T: CliElement>(
        self,
        engine: &'a MethodEngine,
        exact: &'a ExactEngine,
    ) -> &'a dyn ConvEngine<T>
    where
        MethodEngine: ConvEngine<T>,
    {
        match self {
            EngineArg::Exact => T::exact(exact).unwrap_or(&ReferenceEngine),
            EngineArg::Reference => &ReferenceEngine,
            EngineArg::Dense => &DenseEngine,
            _ => engine,
        }
    }

    /// The engine behind every non-reference choice.
    fn engine(self) -> MethodEngine {
        MethodEngine::new(self.method().unwrap_or(Method::Auto))
    }
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print in full; argument errors become one readable line.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.render().to_string();
            let line: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
                .collect();
            eprintln!("conv-oracle: {}", line.join(" "));
            return ExitCode::from(2);
        }
    };
    // An interrupted write leaves neither a partial output nor its temporary file.
    let _ = ctrlc::set_handler(cli_io::on_interrupt);
    match cli_io::parse_size(&cli.max_memory) {
        Ok(bytes) => cli_io::set_max_memory(bytes),
        Err(e) => {
            eprintln!("conv-oracle: error: {}", cli_io::one_line(&e));
            return ExitCode::from(2);
        }
    }
    let result = match cli.command {
        Command::Verify {
            cases,
            seed,
            shard,
            json,
            progress,
        } => {
            let plan = conv_oracle::verify::Plan { cases, seed, shard };
            return verify(&plan, json, progress);
        }
        Command::Pad {
            mode,
            pad,
            dialect,
            items,
        } => pad_command(&mode, &pad, dialect, &items),
        Command::Convolve(args) => signal_command(&args, false),
        Command::Correlate(args) => signal_command(&args, true),
        Command::Conv(args) => conv_command(&args),
        Command::Vectors { out, suite, force } => {
            let suite = match suite {
                SuiteArg::Core => conv_oracle::vectors::Suite::Core,
                SuiteArg::Onnx => conv_oracle::vectors::Suite::Onnx,
                SuiteArg::All => conv_oracle::vectors::Suite::All,
            };
            conv_oracle::vectors::write_suite(&out, suite, force).map(|paths| {
                for p in paths {
                    outln!("{}", p.display());
                }
            })
        }
        Command::CheckVectors { files } => return check_vectors(&files),
        Command::Prove { name, show } => return prove_command(name.as_deref(), show.as_deref()),
        Command::Judge(args) if args.stream => return judge_stream(&args),
        Command::Judge(args) => {
            return match judge_command(&args) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(msg) => {
                    eprintln!("conv-oracle: error: {}", cli_io::one_line(&msg));
                    ExitCode::from(2)
                }
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("conv-oracle: error: {}", cli_io::one_line(&msg));
            ExitCode::from(2)
        }
    }
}

/// `conv-oracle prove [NAME] [--show NAME]`.
/// A library error for the command line: an element limit is named as the `--max-memory`
/// budget it comes from.
fn explain(e: &ConvError) -> String {
    match e {
        ConvError::LimitExceeded { what, limit, got } if what.contains("elements") => format!(
            "{what} would be {got} ({} at {} bytes each), over the {limit} that --max-memory {} allows",
            cli_io::show_bytes(got.saturating_mul(u128::from(cli_io::BYTES_PER_ELEMENT))),
            cli_io::BYTES_PER_ELEMENT,
            cli_io::show_bytes(u128::from(cli_io::max_memory()))
        ),
        other => other.to_string(),
    }
}

/// `check-vectors`: every file is parsed before any is checked, so a malformed file stops the
/// run with exit 2 before a verdict is printed.
fn check_vectors(files: &[PathBuf]) -> ExitCode {
    let mut parsed = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = match read_text(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("conv-oracle: error: {}", cli_io::one_line(&e));
                return ExitCode::from(2);
            }
        };
        match conv_oracle::vectors::parse(&name, &text) {
            Ok(f) => parsed.push(f),
            Err(e) => {
                eprintln!("conv-oracle: error: {}", cli_io::one_line(e.to_string()));
                return ExitCode::from(2);
            }
        }
    }
    let mut all = true;
    for f in &parsed {
        let r = conv_oracle::vectors::check(f);
        outln!(
            "{}: {} tests: {} agree, {} invalid refused, {} disagree",
            f.name,
            r.agreed + r.refused + r.disagreements.len(),
            r.agreed,
            r.refused,
            r.disagreements.len()
        );
        for d in &r.disagreements {
            outln!("  tcId {}: {}", d.tc_id, d.problem);
        }
        all &= r.disagreements.is_empty();
    }
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A text file of at most `--max-memory` / 32 bytes (its parsed JSON takes several times its
/// text, as a `--stream` line's does; the committed vector files are under 1 MiB).
fn read_text(path: &Path) -> Result<String, String> {
    let name = path.display();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{name}: cannot open: {e}"))?
        .len();
    let max = cli_io::max_memory() / 32;
    if len > max {
        return Err(format!(
            "{name}: {} of text, over the {} that --max-memory {} allows for a vector file (1/32)",
            cli_io::show_bytes(u128::from(len)),
            cli_io::show_bytes(u128::from(max)),
            cli_io::show_bytes(u128::from(cli_io::max_memory()))
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

fn prove_command(name: Option<&str>, show: Option<&str>) -> ExitCode {
    use conv_oracle::proofs::find;
    let Some(claims) = find(show.or(name)) else {
        let names: Vec<&str> = conv_oracle::proofs::claims()
            .iter()
            .map(|c| c.name)
            .collect();
        eprintln!(
            "conv-oracle: error: no claim named '{}'; the claims are: {}",
            show.or(name).unwrap_or_default(),
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    if show.is_some() {
        for c in &claims {
            out!("{}", conv_oracle::proofs::show(c));
        }
        return ExitCode::SUCCESS;
    }
    let report = conv_oracle::proofs::report(&claims);
    out!("{}", report.text);
    ExitCode::from(u8::from(report.failed > 0))
}

/// `I/N` with `I < N`.
fn parse_shard(text: &str) -> Result<Shard, String> {
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("'{text}' is not I/N"))?;
    let i: u32 = i.trim().parse().map_err(|e| format!("'{i}': {e}"))?;
    let n: u32 = n.trim().parse().map_err(|e| format!("'{n}': {e}"))?;
    Shard::new(i, n).ok_or_else(|| format!("slice {i} of {n}: I must be below N (I counts from 0)"))
}

fn verify(plan: &conv_oracle::verify::Plan, json: bool, when: progress::When) -> ExitCode {
    let rows = conv_oracle::verify::rows();
    let bar = progress::Progress::new("verify", rows.len(), when);
    let handle = bar.handle();
    let summary = conv_oracle::verify::run(&rows, plan, move |o| {
        handle.step(format!("{} ({})", o.property, o.engine));
    });
    bar.finish();
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conv-oracle: error: {e}");
            return ExitCode::from(2);
        }
    };
    let seed = plan.seed;
    let outcomes = &summary.outcomes;
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
            "shard": plan.shard.to_string(),
            "properties": outcomes.len(),
            "cases": total_cases,
            "failed": failed.len(),
            "results": rows,
        });
        outln!("{doc:#}");
    } else {
        outln!(
            "{:<40} {:<20} {:>6}  {:<6} {:>8}",
            "property",
            "engine",
            "cases",
            "result",
            "time"
        );
        for o in outcomes {
            outln!(
                "{:<40} {:<20} {:>6}  {:<6} {:>7.2}s",
                o.property,
                o.engine,
                o.cases,
                if o.passed { "pass" } else { "FAIL" },
                o.elapsed.as_secs_f64()
            );
        }
        for o in outcomes.iter().filter(|o| o.passed && !o.detail.is_empty()) {
            outln!("\n{} ({}): {}", o.property, o.engine, o.detail);
        }
        for o in &failed {
            outln!("\nFAIL {} ({}): {}", o.property, o.engine, o.detail);
        }
        if failed.is_empty() {
            outln!(
                "verify: {} properties, {} cases, all passed",
                outcomes.len(),
                total_cases
            );
        } else {
            outln!(
                "verify: {} properties, {} cases, {} failed",
                outcomes.len(),
                total_cases,
                failed.len()
            );
        }
    }
    ExitCode::from(summary.exit_code())
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
    outln!("{}", line.trim());
    if let Some(peer) = peer {
        let verdict = peer_acceptance(peer, &mode, n, (lo, hi));
        if !verdict.accepted {
            outln!(
                "note: {} would refuse this pad: {}",
                peer.name(),
                verdict.message
            );
        }
    }
    Ok(())
}

fn signal_command(args: &SignalArgs, correlation: bool) -> Result<(), String> {
    check_output(&[&args.in1, &args.in2], &args.out.output, args.out.force)?;
    if args.fillvalue.is_some() && !matches!(args.boundary, Some(BoundaryArg::Fill)) {
        return Err("--fillvalue needs --boundary fill".into());
    }
    let data = vec![read_data(&args.in1)?, read_data(&args.in2)?];
    let mode = match args.mode {
        ModeArg::Full => Mode::Full,
        ModeArg::Same => Mode::Same,
        ModeArg::Valid => Mode::Valid,
    };
    dispatch(
        data,
        &SignalJob {
            args,
            mode,
            correlation,
        },
    )
}

struct SignalJob<'a> {
    args: &'a SignalArgs,
    mode: Mode,
    correlation: bool,
}

impl Job for SignalJob<'_> {
    fn run<T: CliElement>(&self, arrays: Vec<ArrayD<T>>) -> Result<(), String>
    where
        MethodEngine: ConvEngine<T>,
    {
        let args = self.args;
        let engine = args.out.engine().engine();
        let exact = ExactEngine::new();
        let opts = Options {
            engine: args.out.engine().pick(&engine, &exact),
            limits: cli_io::limits(),
        };
        let (x, y) = (&arrays[0], &arrays[1]);
        let context = |e: ConvError| {
            format!(
                "{} with {}, {}: {}",
                if self.correlation {
                    "correlate"
                } else {
                    "convolve"
                },
                args.in1.display(),
                args.in2.display(),
                explain(&e)
            )
        };
        let out = match args.boundary {
            None => if self.correlation {
                correlate_opts(x.view(), y.view(), self.mode, &opts)
            } else {
                convolve_opts(x.view(), y.view(), self.mode, &opts)
            }
            .map_err(context)?,
            Some(b) => {
                let (x2, y2) = (two_d(x, &args.in1)?, two_d(y, &args.in2)?);
                let boundary = match b {
                    BoundaryArg::Fill => Boundary2d::Fill(match &args.fillvalue {
                        None => T::zero(),
                        Some(s) => T::parse_value(s).ok_or_else(|| {
                            format!("--fillvalue '{s}' is not a value of the inputs' dtype")
                        })?,
                    }),
                    BoundaryArg::Wrap => Boundary2d::Wrap,
                    BoundaryArg::Symm => Boundary2d::Symm,
                };
                if self.correlation {
                    correlate2d_opts(x2, y2, self.mode, boundary, &opts)
                } else {
                    convolve2d_opts(x2, y2, self.mode, boundary, &opts)
                }
                .map_err(context)?
                .into_dyn()
            }
        };
        write_npy(&args.out.output, &out, args.out.force)
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

fn conv_command(args: &ConvArgs) -> Result<(), String> {
    args.layer.require()?;
    check_output(&args.layer.inputs(), &args.out.output, args.out.force)?;
    args.layer.check_transpose_flags()?;
    let data = args
        .layer
        .inputs()
        .into_iter()
        .map(read_data)
        .collect::<Result<Vec<_>, _>>()?;
    dispatch(data, &ConvJob { args })
}

struct ConvJob<'a> {
    args: &'a ConvArgs,
}

impl Job for ConvJob<'_> {
    fn run<T: CliElement>(&self, arrays: Vec<ArrayD<T>>) -> Result<(), String>
    where
        MethodEngine: ConvEngine<T>,
    {
        let args = self.args;
        let layer = &args.layer;
        let engine = args.out.engine().engine();
        let exact = ExactEngine::new();
        let (x, w) = (&arrays[0], &arrays[1]);
        let bias = layer.bias_view(arrays.get(2))?;
        let rank = layer.spatial_rank(x)?;
        let layout = layer.input_layout();
        let context = |e: ConvError| {
            format!(
                "conv{} with {}, {}: {}",
                if layer.transpose { " --transpose" } else { "" },
                layer.input_path().display(),
                layer.weight_path().display(),
                explain(&e)
            )
        };
        let out = if layer.transpose {
            let spec = layer.transpose_spec(rank)?;
            let xv = input_as_nchw(x.view(), layout).map_err(context)?;
            let mut p = TransposeProblem::new(xv, w.view()).spec(spec);
            p.bias = bias;
            let y = match args.out.engine() {
                EngineArg::Exact => T::exact_transpose(&p),
                EngineArg::Reference => None,
                _ => Some(
                    p.as_conv()
                        .and_then(|eq| args.out.engine().pick(&engine, &exact).conv(&eq.problem())),
                ),
            }
            .unwrap_or_else(|| transpose_literal(&p))
            .map_err(context)?;
            match layout {
                InputLayout::ChannelsFirst => y,
                InputLayout::ChannelsLast => {
                    let mut perm = vec![0];
                    perm.extend(2..y.ndim());
                    perm.push(1);
                    y.permuted_axes(ndarray::IxDyn(&perm))
                        .as_standard_layout()
                        .into_owned()
                }
            }
        } else {
            let spec = layer.spec(rank)?;
            conv_using(
                args.out.engine().pick(&engine, &exact),
                x.view(),
                w.view(),
                bias,
                &spec,
            )
            .map_err(context)?
        };
        write_npy(&args.out.output, &out, args.out.force)
    }
}

// ------------------------------------------------------------------------------ judge

fn judge_command(args: &JudgeArgs) -> Result<bool, String> {
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
fn judge_stream(defaults: &JudgeArgs) -> ExitCode {
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
fn read_request_line(
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
fn stream_request(req: &serde_json::Value, defaults: &JudgeArgs) -> Result<Judgement, String> {
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
struct Judgement {
    passed: bool,
    json: serde_json::Value,
    text: String,
}

/// Judges arrays read from `paths` (input, weight, [bias], output), all float32 or float64.
fn judge_data(
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

fn judge_typed<T>(
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
        Ok(m) => m,
        Err(precision) => problem.normwise(precision).map_err(context)?,
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
enum Judged<'a, T> {
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
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (k, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            idx[k] = i % n;
            i /= n;
        }
    }
    idx
}
