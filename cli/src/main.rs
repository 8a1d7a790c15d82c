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
use flags::{FftLengths, LayerArgs, ToleranceArg, inline_array, tolerance_model};
mod commands;
mod plot;
use commands::*;
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
    /// e.g. scipy.fft on float32), fft:PRECISION:LENGTHS (an FFT at its own transform lengths:
    /// double or single, then linear, pow2 or lengths like 64x32), winograd:M (Winograd F(M, r)
    /// tiles, r the kernel's taps), ulp:N, exact, tosa, or a peer's own test tolerance: torch,
    /// numpy, onnx, onnxruntime, jax (or torch-f32, torch-f64, torch-f16, torch-bf16, jax-f32,
    /// jax-f64).
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
