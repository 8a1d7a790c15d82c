//! Helpers shared by the integration test binaries and the unit tests of the batteries: the one
//! seed and the runner settings.
#![allow(dead_code)] // each test binary uses its own subset

use proptest::test_runner::{Config, FileFailurePersistence};
use quickcheck::{Gen, QuickCheck, TestResult};

/// The fixed seed of every suite (the library's default, so `verify` replays the same cases).
pub const SEED: u64 = conv_oracle::testing::DEFAULT_SEED;

/// proptest: `cases` cases from [`SEED`]; a failure's seed is kept beside the test's source
/// file (`tests/direct.rs` -> `tests/direct.proptest-regressions`, `src/verify/fft/tests.rs` ->
/// `src/verify/fft/tests.proptest-regressions`) and replayed first.
pub fn cfg(cases: u32) -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..conv_oracle::testing::fixed_config(cases)
    }
}

/// quickcheck: `tests` cases from a generator seeded with [`SEED`].
pub fn qc(tests: u64) -> QuickCheck {
    QuickCheck::new()
        .rng(Gen::from_size_and_seed(16, SEED))
        .tests(tests)
}

/// A check's `Result` as a quickcheck verdict (the message kept).
pub fn to_result<E: std::fmt::Display>(r: Result<(), E>) -> TestResult {
    match r {
        Ok(()) => TestResult::passed(),
        Err(e) => TestResult::error(e.to_string()),
    }
}

thread_local! {
    /// Violations of another kind than the one a refutation expects, seen by [`refuted_by`].
    static WRONG_KINDS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// quickcheck's verdict on a check that a wrong engine must fail with a violation of `kind`:
/// that violation is the failure quickcheck looks for; a violation of another kind passes the
/// case (quickcheck would count it as the refutation) and is kept for [`wrong_kinds`].
pub fn refuted_by(
    kind: conv_oracle::testing::Kind,
    r: Result<(), conv_oracle::testing::Violation>,
) -> TestResult {
    match r {
        Ok(()) => TestResult::passed(),
        Err(v) if v.kind == kind => TestResult::error(v.to_string()),
        Err(v) => {
            WRONG_KINDS.with(|w| w.borrow_mut().push(v.to_string()));
            TestResult::passed()
        }
    }
}

/// The violations of an unexpected kind [`refuted_by`] saw on this thread (and forgets them).
pub fn wrong_kinds() -> Vec<String> {
    WRONG_KINDS.with(|w| w.take())
}

/// A float type a user-style test engine computes in, widened to `f64` and rounded back.
pub trait Num: Copy + 'static {
    /// Widened exactly.
    fn to64(self) -> f64;
    /// Rounded to nearest.
    fn from64(v: f64) -> Self;
}

impl Num for f64 {
    fn to64(self) -> f64 {
        self
    }
    fn from64(v: f64) -> Self {
        v
    }
}

impl Num for f32 {
    fn to64(self) -> f64 {
        f64::from(self)
    }
    fn from64(v: f64) -> Self {
        v as f32
    }
}

/// The FFT engine's tolerance: the 2-norm of its own per-block normwise bounds (no bound for
/// a problem it cannot bound).
pub fn fft_model(p: &conv_oracle::Problem<'_, f64>) -> conv_oracle::tolerance::Model {
    conv_oracle::engine::fft::FftEngine::default()
        .normwise_model(p)
        .unwrap_or(conv_oracle::tolerance::Model::Normwise {
            bound: f64::INFINITY,
        })
}

/// Writes `dir/name` as a .npy file by hand: a version 1.0 header holding `dict` (any text,
/// well-formed or not), padded to 64 bytes, then `data`; returns the path. Hostile files are
/// built with it.
pub fn npy_file(dir: &std::path::Path, name: &str, dict: &str, data: &[u8]) -> String {
    let mut h = dict.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((h.len() as u16).to_le_bytes());
    bytes.extend(h.as_bytes());
    bytes.extend(data);
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_string_lossy().into_owned()
}

/// The case ids of one fixture file, read line by line and apart from the parsed `cases` array
/// the test iterates: `write_cases` (scripts/_common.py) writes the header on the first line,
/// then one case per line (each followed by `,` but the last), then `]}`. Panics on a line that
/// is not one whole case, so a reformatted file is reported, not silently counted as empty.
pub fn case_ids_by_line(name: &str, text: &str) -> std::collections::BTreeMap<String, usize> {
    let mut ids: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line == "]}" {
            continue;
        }
        let one: serde_json::Value = serde_json::from_str(line.strip_suffix(',').unwrap_or(line))
            .unwrap_or_else(|e| panic!("{name} line {}: not one case per line: {e}", n + 1));
        let id = one["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} line {}: a case without an id", n + 1));
        *ids.entry(id.to_string()).or_default() += 1;
    }
    ids
}

/// Every id of `expected` (counted from a fixture's lines) once, and judged exactly once; no
/// judged id that the file does not hold.
pub fn assert_judged_once(
    name: &str,
    expected: &std::collections::BTreeMap<String, usize>,
    judged: &std::collections::BTreeMap<String, usize>,
) {
    let repeated: Vec<&String> = expected
        .iter()
        .filter(|&(_, &n)| n != 1)
        .map(|(id, _)| id)
        .collect();
    assert!(repeated.is_empty(), "{name}: ids not unique: {repeated:?}");
    let not_judged: Vec<&String> = expected
        .keys()
        .filter(|id| judged.get(*id) != Some(&1))
        .collect();
    let unknown: Vec<&String> = judged
        .keys()
        .filter(|id| !expected.contains_key(*id))
        .collect();
    assert!(
        not_judged.is_empty() && unknown.is_empty(),
        "{name}: {} of {} cases not judged exactly once ({:?}), {} judged ids not in the \
         file ({:?})",
        not_judged.len(),
        expected.len(),
        not_judged.iter().take(10).collect::<Vec<_>>(),
        unknown.len(),
        unknown.iter().take(10).collect::<Vec<_>>()
    );
}
