//! .npy input and output for the CLI: dtype detection, numpy-style promotion, and writes that
//! never lose a file (temporary file + rename, no clobbering without --force, never onto an
//! input).

use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::exact::ExactEngine;
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyExt, ReadableElement, WritableElement};
use num_complex::Complex;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// `--max-memory`'s default: 2 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;

static MAX_MEMORY: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(DEFAULT_MAX_MEMORY);

/// Sets the memory budget (`--max-memory`) for the rest of the run.
pub fn set_max_memory(bytes: u64) {
    MAX_MEMORY.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// The memory budget in bytes.
pub fn max_memory() -> u64 {
    MAX_MEMORY.load(std::sync::atomic::Ordering::Relaxed)
}

/// Bytes the CLI may hold per element of its largest array. Measured peak resident memory
/// per output element (`/usr/bin/time -f %M`, a 4,194,301-element float64 output): `conv`
/// 9 bytes (direct), 17 (fft), 33 (exact, the default); `judge` 68 (componentwise) to 76
/// (normwise): the candidate, the correctly rounded result, the bound scales and the per-element
/// comparison are all held at once. 96 leaves room above the largest.
pub const BYTES_PER_ELEMENT: u64 = 96;

/// The library limits of the budget: no array any engine allocates may have more than
/// `max_memory / BYTES_PER_ELEMENT` elements; the multiply-add limit stays the library's.
pub fn limits() -> conv_oracle::Limits {
    conv_oracle::Limits {
        max_elements: u128::from(max_memory() / BYTES_PER_ELEMENT),
        ..conv_oracle::Limits::default()
    }
}

/// Parses `--max-memory`: bytes, or a number with K, M, G, T (or KiB, MiB, GiB, TiB: powers
/// of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        _ => {
            return Err(format!(
                "--max-memory '{}': expected bytes or a whole number with K, M, G or T (KiB, MiB, GiB, TiB)",
                s.escape_debug()
            ));
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            format!(
                "--max-memory '{}': expected a positive size below 2^64 bytes",
                s.escape_debug()
            )
        })
}

/// A byte count for messages: `2 GiB`, `1.5 MiB`, `100 bytes`.
pub fn show_bytes(n: u128) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} bytes")
    } else if v.fract() == 0.0 {
        format!("{v} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The element types the CLI reads and writes.
pub enum Data {
    I64(ArrayD<i64>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    C128(ArrayD<Complex<f64>>),
}

impl Data {
    /// numpy's name of the dtype.
    pub fn dtype(&self) -> &'static str {
        match self {
            Data::I64(_) => "int64",
            Data::F32(_) => "float32",
            Data::F64(_) => "float64",
            Data::C128(_) => "complex128",
        }
    }
    /// The float64 array, if it is one.
    pub fn into_f64(self) -> Option<ArrayD<f64>> {
        match self {
            Data::F64(a) => Some(a),
            _ => None,
        }
    }
    /// The float32 array, if it is one.
    pub fn into_f32(self) -> Option<ArrayD<f32>> {
        match self {
            Data::F32(a) => Some(a),
            _ => None,
        }
    }
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

/// What a .npy header declares.
struct NpyHeader {
    descr: String,
    shape: Vec<usize>,
    /// Bytes before the data.
    data_offset: u64,
}

/// Reads and checks a .npy header without reading the data.
fn npy_header(name: &str, f: &mut impl Read) -> Result<NpyHeader, String> {
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
    let prefix = if head[6] == 1 { 10 } else { 12 };
    if len > 1 << 20 {
        return Err(format!("{name}: .npy header claims {len} bytes; refusing"));
    }
    let mut header = vec![0u8; len];
    f.read_exact(&mut header)
        .map_err(|_| format!("{name}: truncated .npy header"))?;
    let header = String::from_utf8_lossy(&header);
    // The size check below reads 'descr' and 'shape' here; ndarray-npy parses the header again
    // to read the data. A key given twice could be read differently by the two: refuse it.
    for key in ["descr", "shape", "fortran_order"] {
        if header.matches(key).count() != 1 {
            return Err(format!(
                "{name}: .npy header must name '{key}' exactly once"
            ));
        }
    }
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
    let descr = rest[..q2].to_string();
    let shape =
        npy_shape(&header).ok_or_else(|| format!("{name}: malformed 'shape' in .npy header"))?;
    Ok(NpyHeader {
        descr,
        shape,
        data_offset: (prefix + len) as u64,
    })
}

/// The `'shape': (a, b, ...)` tuple of a .npy header.
fn npy_shape(header: &str) -> Option<Vec<usize>> {
    let start = header.find("'shape'")?;
    let rest = &header[start + 7..];
    let open = rest.find('(')?;
    let close = rest[open..].find(')')? + open;
    rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('L').parse().ok())
        .collect()
}

fn read_as<T: ReadableElement>(name: &str, r: impl Read) -> Result<ArrayD<T>, String> {
    // ndarray-npy's header errors draw a multi-line pointer: keep the first line.
    ArrayD::<T>::read_npy(r).map_err(|e| {
        let e = e.to_string();
        format!(
            "{name}: {}",
            e.lines().next().unwrap_or_default().trim_end()
        )
    })
}

/// `msg` on one line: control characters (a newline in a value the user gave, say) are
/// written as escapes, so an error is always one line on stderr.
pub fn one_line(msg: impl AsRef<str>) -> String {
    let mut out = String::new();
    for c in msg.as_ref().chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads an .npy file of one of the CLI's dtypes (any byte order, C or Fortran order),
/// checking the header against the file's size before anything is allocated for the data.
pub fn read_data(path: &Path) -> Result<Data, String> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?;
    let len = f
        .metadata()
        .map_err(|e| format!("{name}: cannot read: {e}"))?
        .len();
    read_data_from(&name, std::io::BufReader::new(f), len)
}

/// [`read_data`] on any seekable reader of `len` bytes; errors begin with `name`.
pub fn read_data_from(name: &str, r: impl Read + Seek, len: u64) -> Result<Data, String> {
    read_unchecked(name, r, len).map_err(one_line)
}

fn read_unchecked(name: &str, mut r: impl Read + Seek, len: u64) -> Result<Data, String> {
    let header = npy_header(name, &mut r)?;
    let descr = header.descr;
    let kind = descr.trim_start_matches(['<', '>', '=', '|']);
    // The data the header claims must be in the file before anything is allocated for it (a
    // header claiming a gigantic shape is refused here, not by running out of memory).
    let item: u64 = match kind {
        "i8" | "f8" => 8,
        "f4" => 4,
        "c16" => 16,
        _ => 1,
    };
    let claimed = header
        .shape
        .iter()
        .try_fold(item, |n, &d| n.checked_mul(d as u64));
    let have = len.saturating_sub(header.data_offset);
    match claimed {
        Some(bytes) if bytes > max_memory() && bytes <= have => {
            return Err(format!(
                "{name}: holds {} of data, over --max-memory {}",
                show_bytes(u128::from(bytes)),
                show_bytes(u128::from(max_memory()))
            ));
        }
        Some(bytes) if bytes <= have => {}
        _ => {
            return Err(format!(
                "{name}: the .npy header claims shape {:?} ({} bytes of data), but the file holds {have} bytes after the header",
                header.shape,
                claimed.map_or_else(|| "more than 2^64".to_string(), |b| b.to_string())
            ));
        }
    }
    r.seek(SeekFrom::Start(0))
        .map_err(|e| format!("{name}: cannot read: {e}"))?;
    match kind {
        "i8" => Ok(Data::I64(read_as(name, r)?)),
        "f4" => Ok(Data::F32(read_as(name, r)?)),
        "f8" => Ok(Data::F64(read_as(name, r)?)),
        "c16" => Ok(Data::C128(read_as(name, r)?)),
        _ => Err(format!(
            "{name}: unsupported dtype '{descr}' (supported: float64 '<f8', float32 '<f4', int64 '<i8', complex128 '<c16')"
        )),
    }
}

pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Writes an .npy file through [`write_atomic`].
pub fn write_npy<T: WritableElement>(
    path: &Path,
    a: &ArrayD<T>,
    force: bool,
) -> Result<(), String> {
    write_atomic(path, force, |f| {
        ndarray_npy::WriteNpyExt::write_npy(a, f).map_err(|e| format!("{}: {e}", path.display()))
    })
}

/// Writes text through [`write_atomic`].
pub fn write_text(path: &Path, text: &str, force: bool) -> Result<(), String> {
    write_atomic(path, force, |f| {
        f.write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    })
}

/// Writes through a temporary file in the same directory, then renames: never a partial file,
/// and no existing file replaced without `force`.
pub fn write_atomic(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), String>,
) -> Result<(), String> {
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
        // create_new: never truncate a file that happens to have the temporary name.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| format!("{}: cannot create: {e}", tmp.display()))?;
        // An interrupt from here to the rename removes the temporary file (on_interrupt).
        set_pending(Some(tmp.clone()));
        write(&mut f)?;
        test_pause();
        f.flush().map_err(|e| format!("{}: {e}", path.display()))?;
        f.sync_all()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: cannot write: {e}", path.display()))
    })();
    set_pending(None);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The temporary file being written, if any: what an interrupt must remove.
static PENDING: std::sync::Mutex<Option<std::path::PathBuf>> = std::sync::Mutex::new(None);

fn set_pending(p: Option<std::path::PathBuf>) {
    if let Ok(mut g) = PENDING.lock() {
        *g = p;
    }
}

/// Called on SIGINT, SIGTERM or SIGHUP: removes the temporary file of a write in progress
/// (the output it was to become is untouched: an existing file keeps its old contents) and
/// exits with 130. A rename racing with the removal either completes first (the whole output
/// is there) or finds its temporary file gone (no output): never a partial file.
pub fn on_interrupt() {
    let guard = PENDING.lock();
    if let Ok(g) = &guard
        && let Some(tmp) = g.as_ref()
    {
        let _ = std::fs::remove_file(tmp);
    }
    eprintln!("conv-oracle: interrupted; no output written");
    std::process::exit(130);
}

/// Test hook: `CONV_ORACLE_TEST_WRITE_PAUSE_MS` holds a write between its data and its
/// rename, so a test can interrupt it there deterministically (cli/tests/hostile.rs).
fn test_pause() {
    if let Some(ms) = std::env::var("CONV_ORACLE_TEST_WRITE_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Refuses an output path that is one of the inputs (even with --force) or that exists
/// (without --force). Checked before anything is read or computed.
pub fn check_output(inputs: &[&Path], output: &Path, force: bool) -> Result<(), String> {
    for input in inputs {
        if same_file(input, output) {
            return Err(format!(
                "{}: the output path is an input ({}); refusing to overwrite an input",
                output.display(),
                input.display()
            ));
        }
    }
    if output.exists() && !force {
        return Err(format!(
            "{}: exists; pass --force to overwrite it",
            output.display()
        ));
    }
    Ok(())
}

/// A value given on the command line in the arrays' element type.
pub trait ParseValue: Sized {
    /// Parses `s` (complex as `RE,IM` or a real number).
    fn parse_value(s: &str) -> Option<Self>;
}

impl ParseValue for i64 {
    fn parse_value(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
}
impl ParseValue for f32 {
    fn parse_value(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
}
impl ParseValue for f64 {
    fn parse_value(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
}
impl ParseValue for Complex<f64> {
    fn parse_value(s: &str) -> Option<Self> {
        match s.split_once(',') {
            Some((re, im)) => Some(Complex::new(
                re.trim().parse().ok()?,
                im.trim().parse().ok()?,
            )),
            None => Some(Complex::new(s.trim().parse().ok()?, 0.0)),
        }
    }
}

/// The element types the CLI computes in, and the correctly rounded engine where one applies.
pub trait CliElement: conv_oracle::Ring + WritableElement + ParseValue {
    /// The correctly rounded engine for this type: `None` for integers, whose sums every
    /// engine computes exactly (wrapping, like the reference).
    fn exact(e: &ExactEngine) -> Option<&dyn ConvEngine<Self>>;
    /// The correctly rounded transposed convolution: `None` where the literal formula is
    /// what `--engine exact` gives (integers: exact; complex: not rounded once).
    fn exact_transpose(
        _p: &conv_oracle::layer::TransposeProblem<'_, Self>,
    ) -> Option<Result<ndarray::ArrayD<Self>, conv_oracle::ConvError>> {
        None
    }
}

impl CliElement for i64 {
    fn exact(_: &ExactEngine) -> Option<&dyn ConvEngine<i64>> {
        None
    }
}

macro_rules! cli_float {
    ($($t:ty),*) => {$(
        impl CliElement for $t {
            fn exact(e: &ExactEngine) -> Option<&dyn ConvEngine<$t>> {
                Some(e)
            }
            fn exact_transpose(
                p: &conv_oracle::layer::TransposeProblem<'_, $t>,
            ) -> Option<Result<ndarray::ArrayD<$t>, conv_oracle::ConvError>> {
                Some(conv_oracle::oracle::exact_transpose(p))
            }
        }
    )*};
}
cli_float!(f32, f64);

impl CliElement for Complex<f64> {
    fn exact(e: &ExactEngine) -> Option<&dyn ConvEngine<Complex<f64>>> {
        Some(e)
    }
}

/// Work to do on arrays promoted to one element type.
pub trait Job {
    /// Runs on the promoted arrays (in the order given to [`dispatch`]).
    fn run<T>(&self, arrays: Vec<ArrayD<T>>) -> Result<(), String>
    where
        T: CliElement,
        conv_oracle::engine::method::MethodEngine: conv_oracle::engine::ConvEngine<T>;
}

/// Promotes the arrays to their common numpy type (int64 < float32 < float64 < complex128;
/// int64 with float32 gives float64) and runs the job on them.
pub fn dispatch(data: Vec<Data>, job: &impl Job) -> Result<(), String> {
    let hi = data.iter().map(Data::rank).max().unwrap_or(0);
    let lo = data.iter().map(Data::rank).min().unwrap_or(0);
    let common = if hi == 1 && lo == 0 { 2 } else { hi };
    match common {
        0 => job.run(
            data.into_iter()
                .filter_map(|d| match d {
                    Data::I64(a) => Some(a),
                    _ => None,
                })
                .collect(),
        ),
        1 => job.run(
            data.into_iter()
                .filter_map(|d| match d {
                    Data::F32(a) => Some(a),
                    _ => None,
                })
                .collect(),
        ),
        2 => job.run(data.iter().map(Data::to_f64).collect()),
        _ => job.run(data.iter().map(Data::to_c128).collect()),
    }
}
