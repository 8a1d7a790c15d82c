//! The conformance battery: checks any convolution implementation against the definition and
//! returns a minimal counterexample when it disagrees.
//!
//! An engine is anything that implements [`ConvEngine`] (object safe: `&dyn ConvEngine<f64>`
//! works), declaring what it supports with [`ConvEngine::capabilities`]. [`check`] runs four
//! sections and stops each at its first failure:
//!
//! | section | what | how it can fail |
//! |---|---|---|
//! | [`Section::Catalogue`] | fixed problems: every padding rule, boundary and flip the engine supports on even and odd kernels, with stride, dilation, groups, bias, batch, pads wider than the input, `C == H == W` | the output is outside the tolerance of the correctly rounded result ([`crate::oracle::judge`]), or a valid problem is refused |
//! | [`Section::Oracle`] | random problems inside the capabilities (proptest, seeded; uniform, cancelling and 12-decade data, special values) | as above; the failing problem is shrunk to a minimal one |
//! | [`Section::Invalid`] | problems every engine must refuse (zero stride, channel mismatch, groups that do not divide, ...), when the engine claims to validate | an output instead of an error |
//! | [`Section::Metamorphic`] | relations between two runs of the engine itself: translation equivariance (cropping the input by one stride shifts the output by one), commutativity of true convolution, a 1x1 convolution equals the per-pixel dense layer, samples of a batch are independent | the two runs disagree by more than twice the tolerance ([`crate::tolerance::judge_pair`]) |
//!
//! The tolerance is a [`crate::tolerance::Model`] (default `Componentwise`: the error any order
//! of direct summation may make), or derived per problem ([`Tolerance::PerProblem`], e.g. the
//! FFT engine's normwise bound). A failure carries the problem as a Rust function ready to
//! paste into a test ([`Counterexample::code`]).
//!
//! [`conv_conformance_tests!`](crate::conv_conformance_tests) expands into one `#[test]` per
//! section inside the user's crate, so failures are reported (and stay reproducible) there.
//!
//! Transposed convolution (PyTorch / ONNX `ConvTranspose`) has its own battery over the same
//! sections, [`transpose::check_transpose`], for a [`crate::engine::ConvTransposeEngine`]:
//! judged against the correctly rounded [`crate::oracle::exact_transpose`], with
//! adjointness as its metamorphic relation.
//!
//! Element types: `f32` and `f64` (the correctly rounded oracle,
//! [`crate::engine::exact::ExactEngine`], is the reference).

use crate::engine::ConvEngine;
use crate::oracle::judge;
use crate::problem::ConvError;
use crate::problem::Problem;
use crate::problem::{Boundary, ConvSpec, Flip, Padding};
use crate::testing::cases::Arr;
use crate::testing::cases::{Case, boundary_of};
use crate::testing::{DEFAULT_SEED, Kind, Violation, panic_message, runner};
use crate::tolerance::{Float, Model, judge_pair};
use ndarray::{ArrayD, Axis, IxDyn, Slice};
use proptest::prelude::*;
use proptest::test_runner::TestError;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

pub mod transpose;

pub use crate::engine::{BoundaryRule, Capabilities, PaddingRule};
pub use crate::testing::problems::Element;
use crate::testing::problems::cases;

// ------------------------------------------------------------------------------ config

/// How close an engine's output must be to the correctly rounded result.
#[derive(Clone, Debug)]
pub enum Tolerance<T> {
    /// One model for every problem.
    Model(Model),
    /// A model derived from each problem (e.g. a normwise bound that depends on the data).
    PerProblem(fn(&Problem<'_, T>) -> Model),
}

impl<T> Tolerance<T> {
    pub(crate) fn model(&self, p: &Problem<'_, T>) -> Model {
        match self {
            Tolerance::Model(m) => m.clone(),
            Tolerance::PerProblem(f) => f(p),
        }
    }
}

/// How [`check`] runs.
#[derive(Clone, Debug)]
pub struct Config<T> {
    /// Random problems of [`Section::Oracle`]; each metamorphic relation draws a quarter as
    /// many (at least 16).
    pub cases: u32,
    /// The seed of every random draw (the same seed, the same problems).
    pub seed: u64,
    /// The tolerance (default: [`Model::Componentwise`]).
    pub tolerance: Tolerance<T>,
}

impl<T> Default for Config<T> {
    fn default() -> Self {
        Config {
            cases: 256,
            seed: DEFAULT_SEED,
            tolerance: Tolerance::Model(Model::Componentwise),
        }
    }
}

// ------------------------------------------------------------------------------ report

/// The sections of the battery (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// Fixed problems over the capabilities.
    Catalogue,
    /// Random problems against the correctly rounded oracle.
    Oracle,
    /// Problems that must be refused.
    Invalid,
    /// Relations between runs of the engine.
    Metamorphic,
}

impl Section {
    /// Every section, in the order [`check`] runs them.
    pub const ALL: [Section; 4] = [
        Section::Catalogue,
        Section::Oracle,
        Section::Invalid,
        Section::Metamorphic,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Section::Catalogue => "catalogue",
            Section::Oracle => "oracle",
            Section::Invalid => "invalid-input",
            Section::Metamorphic => "metamorphic",
        }
    }
}

/// A problem the engine got wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// Which check failed (a catalogue entry, a property, an invalid case, a relation).
    pub what: String,
    /// What kind of failure: [`Kind::BoundExceeded`] (the oracle's judge),
    /// [`Kind::ShapeMismatch`], [`Kind::Refused`] (a valid problem refused),
    /// [`Kind::Accepted`] (an invalid one computed), [`Kind::Mismatch`] (a relation broken),
    /// [`Kind::Panicked`], [`Kind::SearchAborted`], or [`Kind::HypothesisBroken`] (the
    /// battery's own premise failed, not the engine).
    pub kind: Kind,
    /// Why: the judge's report, the error, or the relation's first disagreement.
    pub detail: String,
    /// The problem as a Rust function that runs the check on an engine: paste it into a
    /// test and call it with the engine.
    pub code: String,
    /// Elements of the problem's input and weight (smaller is more minimal).
    pub size: usize,
}

/// What one section found.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionReport {
    /// The section.
    pub section: Section,
    /// Problems checked (for the oracle and the relations: generated, including those run
    /// while shrinking a failure).
    pub checked: usize,
    /// Problems left out: outside the capabilities, or (invalid inputs) an engine that does
    /// not claim to validate.
    pub skipped: usize,
    /// The first failure, minimised where the section draws random problems.
    pub failure: Option<Counterexample>,
}

/// The battery's verdict on one engine and element type.
#[derive(Clone, Debug, PartialEq)]
pub struct ConformanceReport {
    /// The engine's name.
    pub engine: String,
    /// `"f32"` or `"f64"`.
    pub dtype: &'static str,
    /// One entry per section run.
    pub sections: Vec<SectionReport>,
}

impl ConformanceReport {
    /// Whether every section passed.
    pub fn passed(&self) -> bool {
        self.sections.iter().all(|s| s.failure.is_none())
    }

    /// The first failure, if any.
    pub fn failure(&self) -> Option<&Counterexample> {
        self.sections.iter().find_map(|s| s.failure.as_ref())
    }

    /// Panics with the whole report unless every section passed (for tests).
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.passed() { "PASS" } else { "FAIL" };
        writeln!(
            f,
            "{status}: conformance of {} ({})",
            self.engine, self.dtype
        )?;
        for s in &self.sections {
            let verdict = if s.failure.is_some() { "FAIL" } else { "ok" };
            writeln!(
                f,
                "  {:<14} {verdict:<4} {} checked, {} skipped",
                s.section.name(),
                s.checked,
                s.skipped
            )?;
        }
        if let Some(c) = self.failure() {
            writeln!(f, "first failure: {} ({})", c.what, c.kind)?;
            writeln!(f, "  {}", c.detail.replace('\n', "\n  "))?;
            writeln!(f, "minimal problem, as a test to paste:")?;
            write!(f, "{}", c.code)?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------ check

/// Runs every section on `engine` (module docs).
pub fn check<T: Element>(engine: &dyn ConvEngine<T>, config: &Config<T>) -> ConformanceReport {
    check_sections(engine, config, &Section::ALL)
}

/// Runs the given sections on `engine`.
pub fn check_sections<T: Element>(
    engine: &dyn ConvEngine<T>,
    config: &Config<T>,
    sections: &[Section],
) -> ConformanceReport {
    let caps = engine.capabilities();
    report_of::<T>(engine.name(), sections, |s| match s {
        Section::Catalogue => catalogue_section(engine, &caps, config),
        Section::Oracle => oracle_section(engine, &caps, config),
        Section::Invalid => invalid_section(engine, &caps),
        Section::Metamorphic => metamorphic_section(engine, &caps, config),
    })
}

/// The report of `engine` on `sections`, each run by `run`.
pub(crate) fn report_of<T: Float>(
    engine: &str,
    sections: &[Section],
    run: impl Fn(Section) -> SectionReport,
) -> ConformanceReport {
    ConformanceReport {
        engine: engine.to_string(),
        dtype: T::NAME,
        sections: sections.iter().map(|&s| run(s)).collect(),
    }
}

/// Runs the engine, turning a panic into a [`Kind::Panicked`] violation.
fn run<T: Element>(
    engine: &dyn ConvEngine<T>,
    p: &Problem<'_, T>,
) -> Result<Result<ArrayD<T>, ConvError>, Violation> {
    guarded(|| engine.conv(p))
}

/// Runs `f`, turning a panic into a [`Kind::Panicked`] violation.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, Violation> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        Violation::new(
            Kind::Panicked,
            format!("the engine panicked: {}", panic_message(e.as_ref())),
        )
    })
}

/// Why the oracle could not pass an output of a valid problem: an output of the wrong shape
/// is the engine's [`Kind::ShapeMismatch`]; any other error is the oracle's own
/// ([`Kind::HypothesisBroken`]).
pub(crate) fn judge_error(e: ConvError) -> Violation {
    match e {
        ConvError::ShapeMismatch { .. } => {
            Violation::new(Kind::ShapeMismatch, format!("output rejected: {e}"))
        }
        e => Violation::hypothesis(format!("the oracle cannot judge this problem: {e}")),
    }
}

/// The verdict on an engine's answer `got` to a problem the reference validates as
/// `valid`: `Ok(true)` checked and passed, `Ok(false)` not applicable (an invalid problem and
/// an engine that does not validate), `Err` why it failed; `judge_output` judges an output of
/// a valid problem.
pub(crate) fn verdict_of<T>(
    got: Result<ArrayD<T>, ConvError>,
    valid: Result<(), ConvError>,
    validates: bool,
    judge_output: impl FnOnce(ArrayD<T>) -> Result<crate::tolerance::Report, Violation>,
) -> Result<bool, Violation> {
    match (got, valid) {
        (Ok(_), Err(e)) if validates => Err(Violation::new(
            Kind::Accepted,
            format!("returned an output for an invalid problem (the reference refuses it: {e})"),
        )),
        // Refused, as it must be.
        (Err(_), Err(_)) if validates => Ok(true),
        (_, Err(_)) => Ok(false),
        (Err(e), Ok(_)) => Err(Violation::new(
            Kind::Refused,
            format!("refused a valid problem: {e}"),
        )),
        (Ok(y), Ok(())) => match judge_output(y)? {
            r if r.passed() => Ok(true),
            r => Err(Violation::bound(r.to_string())),
        },
    }
}

/// The verdict on an engine's answer to a problem it must refuse (`reference` is the
/// reference's own verdict).
pub(crate) fn refusal<T, G>(
    reference: Result<G, ConvError>,
    got: Result<ArrayD<T>, ConvError>,
) -> Result<(), Violation> {
    let reference = match reference {
        Err(e) => e,
        // The list is wrong, not the engine: say so rather than pass.
        Ok(_) => return Err(Violation::hypothesis("the reference accepts this problem")),
    };
    match got {
        Err(_) => Ok(()),
        Ok(y) => Err(Violation::new(
            Kind::Accepted,
            format!(
                "returned an output of shape {:?} instead of an error (the reference: {reference})",
                y.shape()
            ),
        )),
    }
}

/// Judges the engine on one case against the oracle: `Ok(true)` checked and passed,
/// `Ok(false)` not applicable (an invalid problem and an engine that does not validate),
/// `Err` why it failed.
fn judge_case<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
    c: &Case<T>,
) -> Result<bool, Violation> {
    c.with(|p| {
        let model = config.tolerance.model(p);
        let got = run(engine, p)?;
        verdict_of(got, p.validate().map(|_| ()), caps.validates, |y| {
            judge(p, y.view(), &model).map_err(judge_error)
        })
    })
}

fn counterexample<T: Element>(
    what: String,
    violation: Violation,
    c: &Case<T>,
    check: &str,
) -> Counterexample {
    Counterexample {
        what,
        kind: violation.kind,
        detail: violation.detail,
        code: case_code(c, check),
        size: case_size(c),
    }
}

fn case_size<T>(c: &Case<T>) -> usize {
    c.input.0.len() + c.weight.0.len()
}

// ------------------------------------------------------------------------------ catalogue

/// Small integers in `-4..=4` (never all zero), deterministic: exact in every float type, and
/// distinct enough that a shifted or mirrored read changes the result.
pub(crate) fn small_ints<T: Element>(shape: &[usize], seed: u64) -> Arr<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Arr(ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = ((s >> 33) % 9) as i32 - 4;
        T::from_f64(f64::from(if v == 0 { 3 } else { v }))
    }))
}

/// A named fixed case.
struct Entry<T> {
    name: String,
    case: Case<T>,
}

/// The fixed problems (module docs), every one built; [`catalogue_section`] keeps those the
/// engine supports.
fn catalogue<T: Element>() -> Vec<Entry<T>> {
    let mut out = Vec::new();
    let mut seed = 1u64;
    let mut add = |name: String,
                   input: &[usize],
                   weight: &[usize],
                   bias: bool,
                   spec: ConvSpec<T>,
                   out: &mut Vec<Entry<T>>| {
        seed += 1;
        let bias_values = small_ints::<T>(&[weight[0]], seed * 7).0;
        out.push(Entry {
            name,
            case: Case {
                input: small_ints(input, seed),
                weight: small_ints(weight, seed * 3),
                bias: bias.then(|| bias_values.iter().copied().collect()),
                spec,
            },
        });
    };
    let three = T::from_f64(3.0);
    // Every padding rule, boundary and flip, ranks 1 and 2, odd and even kernels.
    for rank in 1..=2usize {
        for k in [3usize, 2, 4] {
            let n = if rank == 1 { 9 } else { 6 };
            for padding in [
                Padding::Explicit(vec![(2, 1); rank]),
                Padding::Valid,
                Padding::Full,
                Padding::SameUpper,
                Padding::SameLower,
                Padding::TorchSame,
            ] {
                for b in BoundaryRule::ALL {
                    for flip in [Flip::Correlation, Flip::Convolution] {
                        let mut input = vec![1, 2];
                        input.extend(vec![n; rank]);
                        let mut weight = vec![2, 2];
                        weight.extend(vec![k; rank]);
                        let spec = ConvSpec::new()
                            .padding(padding.clone())
                            .boundary(boundary_of(b.index(), three))
                            .flip(flip);
                        add(
                            format!("rank {rank}, kernel {k}, {padding:?}, {b:?}, {flip:?}"),
                            &input,
                            &weight,
                            false,
                            spec,
                            &mut out,
                        );
                    }
                }
            }
        }
    }
    // Pads wider than the input, every boundary (numpy's rules for any pad length).
    for b in BoundaryRule::ALL {
        let spec = ConvSpec::new()
            .padding(Padding::Explicit(vec![(5, 4)]))
            .boundary(boundary_of(b.index(), three));
        add(
            format!("pads (5, 4) around an input of 3, {b:?}"),
            &[1, 1, 3],
            &[1, 1, 3],
            false,
            spec,
            &mut out,
        );
    }
    // Stride, dilation, both; with explicit, valid and same padding; rank 1, then 2.
    for rank in 1..=2usize {
        for (stride, dilation) in [(2usize, 1usize), (3, 1), (1, 2), (2, 2), (3, 2)] {
            for padding in [
                Padding::Explicit(vec![(1, 2), (2, 0)][..rank].to_vec()),
                Padding::Valid,
                Padding::SameUpper,
                Padding::SameLower,
            ] {
                let spec = ConvSpec::new()
                    .stride(vec![stride; rank])
                    .dilation(vec![dilation; rank])
                    .padding(padding.clone());
                let (input, weight) = if rank == 1 {
                    (vec![1, 2, 9], vec![2, 2, 3])
                } else {
                    (vec![1, 2, 9, 8], vec![3, 2, 3, 2])
                };
                add(
                    format!("rank {rank}, stride {stride}, dilation {dilation}, {padding:?}"),
                    &input,
                    &weight,
                    false,
                    spec,
                    &mut out,
                );
            }
        }
    }
    // Groups (each group reads its own input channels), with a bias per output channel.
    for (groups, c, o, rank) in [
        (2usize, 2usize, 2usize, 1usize),
        (2, 4, 6, 1),
        (3, 3, 6, 1),
        (2, 4, 4, 2),
    ] {
        let spec = ConvSpec::new().groups(groups).padding(Padding::SameUpper);
        let mut input = vec![2, c, 5];
        let mut weight = vec![o, c / groups, 3];
        if rank == 2 {
            input.push(4);
            weight.push(2);
        }
        add(
            format!("{groups} groups, {c} input and {o} output channels, rank {rank}, bias"),
            &input,
            &weight,
            true,
            spec,
            &mut out,
        );
    }
    // Channels equal to the spatial extents (a layout confusion cannot hide), batch 2, bias.
    for n in [2usize, 3] {
        let spec = ConvSpec::new().padding(Padding::Valid);
        add(
            format!("C == H == W == {n}, batch 2, bias"),
            &[2, n, n, n],
            &[2, n, 2, 1],
            true,
            spec,
            &mut out,
        );
    }
    // Rank 3, and a bias on each of several output channels.
    add(
        "rank 3, stride (1, 2, 1), SameLower, bias".to_string(),
        &[1, 2, 4, 5, 3],
        &[3, 2, 2, 3, 2],
        true,
        ConvSpec::new()
            .stride(vec![1, 2, 1])
            .padding(Padding::SameLower),
        &mut out,
    );
    add(
        "5 output channels with a bias, 1x1 kernel".to_string(),
        &[1, 3, 4, 3],
        &[5, 3, 1, 1],
        true,
        ConvSpec::new(),
        &mut out,
    );
    out
}

fn catalogue_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
) -> SectionReport {
    let check = oracle_check_code(config);
    fixed_section(
        catalogue::<T>()
            .into_iter()
            .map(|e| (e.name, e.case))
            .collect(),
        |c| caps.allows(&c.spec, c.input.0.ndim() - 2, c.bias.is_some()),
        |c| judge_case(engine, caps, config, c),
        |c| (case_code(c, &check), case_size(c)),
    )
}

/// [`Section::Catalogue`] over named fixed cases: those `allowed` are judged by `test`
/// (`Ok(false)`: not applicable, counted as skipped), stopping at the first failure, which
/// `code` prints.
pub(crate) fn fixed_section<V>(
    entries: Vec<(String, V)>,
    allowed: impl Fn(&V) -> bool,
    test: impl Fn(&V) -> Result<bool, Violation>,
    code: impl Fn(&V) -> (String, usize),
) -> SectionReport {
    let mut report = SectionReport {
        section: Section::Catalogue,
        checked: 0,
        skipped: 0,
        failure: None,
    };
    for (name, case) in entries {
        if !allowed(&case) {
            report.skipped += 1;
            continue;
        }
        match test(&case) {
            Ok(true) => report.checked += 1,
            Ok(false) => report.skipped += 1,
            Err(violation) => {
                report.checked += 1;
                let (code, size) = code(&case);
                report.failure = Some(Counterexample {
                    what: format!("catalogue: {name}"),
                    kind: violation.kind,
                    detail: violation.detail,
                    code,
                    size,
                });
                break;
            }
        }
    }
    report
}

// ------------------------------------------------------------------------------ oracle

/// Runs `test` on `cases` problems from `strategy`; on failure, the shrunk problem (`None`
/// when the search aborted) and the reason. Counts the problems run.
pub(crate) fn search<V: Clone + fmt::Debug>(
    strategy: BoxedStrategy<V>,
    cases: u32,
    seed: u64,
    test: impl Fn(&V) -> Result<bool, Violation>,
) -> (usize, usize, Option<(Option<V>, Violation)>) {
    let checked = std::cell::Cell::new(0usize);
    let skipped = std::cell::Cell::new(0usize);
    let mut r = runner(cases, seed);
    let result = r.run(&strategy, |c| match test(&c) {
        Ok(true) => {
            checked.set(checked.get() + 1);
            Ok(())
        }
        Ok(false) => {
            skipped.set(skipped.get() + 1);
            Ok(())
        }
        Err(v) => {
            checked.set(checked.get() + 1);
            Err(TestCaseError::fail(v))
        }
    });
    let failure = match result {
        Ok(()) => None,
        // The kind survives shrinking in the reason's text (a panic proptest caught reads
        // back as `Kind::Panicked`).
        Err(TestError::Fail(reason, c)) => Some((Some(c), Violation::decode(reason.message()))),
        Err(TestError::Abort(reason)) => Some((
            None,
            Violation::new(Kind::SearchAborted, format!("the search aborted: {reason}")),
        )),
    };
    (checked.get(), skipped.get(), failure)
}

/// A counterexample from a search's failure (an aborted search has no problem to show).
pub(crate) fn found<V>(
    what: String,
    failure: (Option<V>, Violation),
    code: impl Fn(&V) -> (String, usize),
) -> Counterexample {
    let (case, violation) = failure;
    let (code, size) = case.as_ref().map(code).unwrap_or_else(|| {
        (
            "// the search aborted before finding a problem\n".to_string(),
            0,
        )
    });
    Counterexample {
        what,
        kind: violation.kind,
        detail: violation.detail,
        code,
        size,
    }
}

fn oracle_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
) -> SectionReport {
    let check = oracle_check_code(config);
    random_section(
        cases::<T>(caps, caps.special_values),
        config,
        "oracle: a random problem (shrunk)",
        |c| judge_case(engine, caps, config, c),
        |c| (case_code(c, &check), case_size(c)),
    )
}

/// [`Section::Oracle`] over `strategy` (`None`: every case skipped): `test` judges a case,
/// `code` prints a failing one and gives its size.
pub(crate) fn random_section<V: Clone + fmt::Debug, T>(
    strategy: Option<BoxedStrategy<V>>,
    config: &Config<T>,
    what: &str,
    test: impl Fn(&V) -> Result<bool, Violation>,
    code: impl Fn(&V) -> (String, usize),
) -> SectionReport {
    let mut report = SectionReport {
        section: Section::Oracle,
        checked: 0,
        skipped: 0,
        failure: None,
    };
    let Some(strategy) = strategy else {
        report.skipped = config.cases as usize;
        return report;
    };
    let (checked, skipped, failure) = search(strategy, config.cases, config.seed, test);
    report.checked = checked;
    report.skipped = skipped;
    report.failure = failure.map(|f| found(what.to_string(), f, code));
    report
}

// ------------------------------------------------------------------------------ invalid

/// Problems every engine must refuse, with the reason the reference gives.
fn invalid_cases<T: Element>() -> Vec<Entry<T>> {
    let case = |input: &[usize], weight: &[usize], bias: Option<usize>, spec: ConvSpec<T>| Case {
        input: small_ints(input, 5),
        weight: small_ints(weight, 6),
        bias: bias.map(|n| small_ints::<T>(&[n], 7).0.iter().copied().collect()),
        spec,
    };
    let entry = |name: &str, case: Case<T>| Entry {
        name: name.to_string(),
        case,
    };
    vec![
        entry(
            "input and weight of different ranks",
            case(&[1, 2, 5], &[1, 2, 3, 3], None, ConvSpec::new()),
        ),
        entry(
            "weight channels do not match the input's",
            case(&[1, 3, 6], &[2, 2, 3], None, ConvSpec::new()),
        ),
        entry(
            "groups do not divide the input channels",
            case(&[1, 3, 6], &[2, 1, 3], None, ConvSpec::new().groups(2)),
        ),
        entry(
            "groups do not divide the output channels",
            case(&[1, 4, 6], &[3, 2, 3], None, ConvSpec::new().groups(2)),
        ),
        entry(
            "zero groups",
            case(&[1, 2, 6], &[2, 2, 3], None, ConvSpec::new().groups(0)),
        ),
        entry(
            "zero stride",
            case(
                &[1, 1, 6],
                &[1, 1, 3],
                None,
                ConvSpec::new().stride(vec![0]),
            ),
        ),
        entry(
            "zero dilation",
            case(
                &[1, 1, 6],
                &[1, 1, 3],
                None,
                ConvSpec::new().dilation(vec![0]),
            ),
        ),
        entry(
            "stride given for the wrong number of axes",
            case(
                &[1, 1, 6, 6],
                &[1, 1, 3, 3],
                None,
                ConvSpec::new().stride(vec![1]),
            ),
        ),
        entry(
            "explicit pads for the wrong number of axes",
            case(
                &[1, 1, 6, 6],
                &[1, 1, 3, 3],
                None,
                ConvSpec::new().padding(Padding::Explicit(vec![(1, 1)])),
            ),
        ),
        entry(
            "kernel larger than the input (valid)",
            case(&[1, 1, 3], &[1, 1, 5], None, ConvSpec::new()),
        ),
        entry(
            "empty spatial axis",
            case(&[1, 1, 0], &[1, 1, 1], None, ConvSpec::new()),
        ),
        entry(
            "empty kernel axis",
            case(&[1, 1, 4], &[1, 1, 0], None, ConvSpec::new()),
        ),
        entry(
            "bias of the wrong length",
            case(&[1, 1, 6], &[2, 1, 3], Some(3), ConvSpec::new()),
        ),
    ]
}

fn invalid_section<T: Element>(engine: &dyn ConvEngine<T>, caps: &Capabilities) -> SectionReport {
    let entries = invalid_cases::<T>();
    let mut report = SectionReport {
        section: Section::Invalid,
        checked: 0,
        skipped: 0,
        failure: None,
    };
    if !caps.validates {
        report.skipped = entries.len();
        return report;
    }
    for e in entries {
        report.checked += 1;
        let verdict = e.case.with(|p| refusal(p.validate(), run(engine, p)?));
        if let Err(violation) = verdict {
            report.failure = Some(counterexample(
                format!("invalid input: {}", e.name),
                violation,
                &e.case,
                "    assert!(engine.conv(&p).is_err(), \"the problem is invalid\");\n",
            ));
            break;
        }
    }
    report
}

// ------------------------------------------------------------------------------ metamorphic

/// A relation between two runs of the engine: from a case, the second problem and the map
/// taking the first output to what the second must be (both exact relations of the
/// definition); `None` where the relation does not apply to the case.
struct Relation<T> {
    name: &'static str,
    /// A strategy for the first problem (inside the capabilities), or `None` when the
    /// engine cannot run the relation.
    cases: fn(&Capabilities) -> Option<BoxedStrategy<Case<T>>>,
    /// The second problem and the map.
    derive: fn(&Case<T>) -> Option<Derived<T>>,
}

/// The second problem of a relation and how the first output maps onto its output.
struct Derived<T> {
    case: Case<T>,
    map: OutputMap<T>,
}

/// Takes the first run's output to what the second run's must be.
type OutputMap<T> = Box<dyn Fn(&ArrayD<T>) -> ArrayD<T>>;

fn relations<T: Element>() -> Vec<Relation<T>> {
    vec![
        Relation {
            name: "translation: cropping the input by one stride shifts the output by one",
            cases: |caps| restrict(caps, Restrict::Translation),
            derive: translate,
        },
        Relation {
            name: "true convolution commutes: conv(x, w) == conv(w, x) (full, zeros)",
            cases: |caps| restrict(caps, Restrict::Commute),
            derive: commute,
        },
        Relation {
            name: "a 1x1 convolution is the per-pixel dense layer",
            cases: |caps| restrict(caps, Restrict::Pointwise),
            derive: pointwise,
        },
        Relation {
            name: "the samples of a batch are independent",
            cases: |caps| restrict(caps, Restrict::Batch),
            derive: split_batch,
        },
    ]
}

#[derive(Clone, Copy)]
enum Restrict {
    Translation,
    Commute,
    Pointwise,
    Batch,
}

/// The cases of a relation: the capabilities narrowed to what the relation needs.
fn restrict<T: Element>(caps: &Capabilities, r: Restrict) -> Option<BoxedStrategy<Case<T>>> {
    let mut c = caps.clone();
    match r {
        Restrict::Translation => {
            // Outputs that read no boundary: valid (or explicit pads of 0).
            c.paddings.retain(|&p| p == PaddingRule::Valid);
            if c.paddings.is_empty() {
                return None;
            }
        }
        Restrict::Commute => {
            c.paddings.retain(|&p| p == PaddingRule::Full);
            c.boundaries.retain(|&b| b == BoundaryRule::Zeros);
            c.flips.retain(|&f| f == Flip::Convolution);
            if c.paddings.is_empty() || c.boundaries.is_empty() || c.flips.is_empty() {
                return None;
            }
            c.stride = false;
            c.dilation = false;
            c.groups = false;
            c.bias = false;
        }
        Restrict::Pointwise => {
            c.paddings.retain(|&p| p == PaddingRule::Valid);
            if c.paddings.is_empty() {
                return None;
            }
            c.stride = false;
            c.dilation = false;
        }
        Restrict::Batch => {}
    }
    // Finite data: with NaN or infinities the boundary's zero terms (0 * inf = NaN) make
    // the relations fail in exact IEEE arithmetic too (e.g. commutativity).
    let strategy = cases::<T>(&c, false)?;
    Some(match r {
        Restrict::Commute => strategy
            .prop_map(|mut c| {
                // One sample, one channel in and out.
                let x = c
                    .input
                    .0
                    .index_axis(Axis(0), 0)
                    .index_axis(Axis(0), 0)
                    .to_owned();
                let w = c
                    .weight
                    .0
                    .index_axis(Axis(0), 0)
                    .index_axis(Axis(0), 0)
                    .to_owned();
                c.input = Arr(x.insert_axis(Axis(0)).insert_axis(Axis(0)));
                c.weight = Arr(w.insert_axis(Axis(0)).insert_axis(Axis(0)));
                c.bias = None;
                c.spec.groups = 1;
                c
            })
            .boxed(),
        Restrict::Pointwise => strategy
            .prop_map(|mut c| {
                // Every kernel extent 1.
                let w = &c.weight.0;
                let mut idx = vec![0usize; w.ndim()];
                let shape: Vec<usize> = w
                    .shape()
                    .iter()
                    .enumerate()
                    .map(|(a, &n)| if a < 2 { n } else { 1 })
                    .collect();
                let w1 = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
                    idx[0] = i[0];
                    idx[1] = i[1];
                    w[IxDyn(&idx)]
                });
                c.weight = Arr(w1);
                c
            })
            .boxed(),
        _ => strategy,
    })
}

/// Crops the input by `stride` at the start of the last axis: output `j` of the cropped
/// problem is output `j + 1` of the first.
fn translate<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    if c.spec.padding != Padding::Valid {
        return None;
    }
    let x = &c.input.0;
    let axis = x.ndim() - 1;
    let s = c.spec.stride.last().copied().unwrap_or(1);
    let d = c.spec.dilation.last().copied().unwrap_or(1);
    let k = c.weight.0.shape()[axis];
    let n = x.shape()[axis];
    // The cropped input must still hold the dilated kernel.
    if n < s + d * (k - 1) + 1 {
        return None;
    }
    let cropped = x.slice_axis(Axis(axis), Slice::from(s..)).to_owned();
    let case = Case {
        input: Arr(cropped),
        ..c.clone()
    };
    Some(Derived {
        case,
        map: Box::new(move |y: &ArrayD<T>| y.slice_axis(Axis(axis), Slice::from(1..)).to_owned()),
    })
}

/// Swaps the input and the kernel of a single-channel full true convolution.
fn commute<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    let ok = c.spec.padding == Padding::Full
        && c.spec.flip == Flip::Convolution
        && matches!(c.spec.boundary, Boundary::Zeros)
        && c.input.0.shape()[..2] == [1, 1]
        && c.weight.0.shape()[..2] == [1, 1]
        && c.bias.is_none();
    ok.then(|| Derived {
        case: Case {
            input: c.weight.clone(),
            weight: c.input.clone(),
            ..c.clone()
        },
        map: Box::new(|y: &ArrayD<T>| y.clone()),
    })
}

/// A 1x1 convolution run as a dense layer: every pixel of every sample a sample of its own
/// (input `(N * P, C, 1)`, kernel `(O, C/G, 1)`), then placed back.
fn pointwise<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    let x = &c.input.0;
    let w = &c.weight.0;
    if w.shape()[2..].iter().any(|&k| k != 1) || c.spec.padding != Padding::Valid {
        return None;
    }
    let (batch, ch) = (x.shape()[0], x.shape()[1]);
    let spatial: Vec<usize> = x.shape()[2..].to_vec();
    let pixels: usize = spatial.iter().product();
    // (N, C, P) -> (N, P, C) -> (N * P, C, 1).
    let flat = x
        .to_shape(IxDyn(&[batch, ch, pixels]))
        .ok()?
        .permuted_axes(IxDyn(&[0, 2, 1]))
        .as_standard_layout()
        .to_shape(IxDyn(&[batch * pixels, ch, 1]))
        .ok()?
        .to_owned();
    let w1 = w
        .to_shape(IxDyn(&[w.shape()[0], w.shape()[1], 1]))
        .ok()?
        .to_owned();
    let o = w.shape()[0];
    let spec = ConvSpec {
        stride: vec![1],
        dilation: vec![1],
        ..c.spec.clone()
    };
    Some(Derived {
        case: Case {
            input: Arr(flat),
            weight: Arr(w1),
            bias: c.bias.clone(),
            spec,
        },
        map: Box::new(move |y: &ArrayD<T>| {
            // (N, O, spatial) -> (N * P, O, 1).
            y.to_shape(IxDyn(&[batch, o, pixels]))
                .map(|v| {
                    v.permuted_axes(IxDyn(&[0, 2, 1]))
                        .as_standard_layout()
                        .to_shape(IxDyn(&[batch * pixels, o, 1]))
                        .map(|v| v.to_owned())
                        .unwrap_or_else(|_| y.clone())
                })
                .unwrap_or_else(|_| y.clone())
        }),
    })
}

/// The last sample on its own: its output is the last sample of the batch's.
fn split_batch<T: Element>(c: &Case<T>) -> Option<Derived<T>> {
    let batch = c.input.0.shape()[0];
    if batch < 2 {
        return None;
    }
    let last = c
        .input
        .0
        .slice_axis(Axis(0), Slice::from(batch - 1..))
        .to_owned();
    Some(Derived {
        case: Case {
            input: Arr(last),
            ..c.clone()
        },
        map: Box::new(move |y: &ArrayD<T>| {
            y.slice_axis(Axis(0), Slice::from(batch - 1..)).to_owned()
        }),
    })
}

/// `sum |w| |x| (+ |b|)` per output of a problem, rounded up, and the terms per output.
fn abs_sums<T: Element>(p: &Problem<'_, T>) -> Option<(Vec<f64>, usize)> {
    let terms = p.weight.shape()[1..].iter().product::<usize>() + usize::from(p.bias.is_some());
    Some((crate::oracle::abs_sums(p).ok()?, terms))
}

/// Checks one relation on one case: `Ok(false)` when it does not apply.
fn relate<T: Element>(
    engine: &dyn ConvEngine<T>,
    config: &Config<T>,
    rel: &Relation<T>,
    c: &Case<T>,
) -> Result<bool, Violation> {
    let Some(d) = (rel.derive)(c) else {
        return Ok(false);
    };
    let valid = c.with(|p| p.validate().is_ok()) && d.case.with(|p| p.validate().is_ok());
    if !valid {
        return Ok(false);
    }
    let first = c.with(|p| run(engine, p))?;
    let second = d.case.with(|p| run(engine, p))?;
    let (y1, y2) = match (first, second) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return Err(Violation::new(
                Kind::Refused,
                format!("refused a valid problem: {e}"),
            ));
        }
    };
    let want = (d.map)(&y1);
    if want.shape() != y2.shape() {
        return Err(Violation::new(
            Kind::ShapeMismatch,
            format!(
                "outputs of shapes {:?} and {:?} (after the relation's map: {:?})",
                y1.shape(),
                y2.shape(),
                want.shape()
            ),
        ));
    }
    let (model, sums) = d.case.with(|p| (config.tolerance.model(p), abs_sums(p)));
    let Some((abs_sum, terms)) = sums else {
        return Ok(false);
    };
    let a: Vec<T> = y2.iter().copied().collect();
    let b: Vec<T> = want.iter().copied().collect();
    match judge_pair(&model, &a, &b, &abs_sum, terms) {
        None => Ok(true),
        Some((i, why)) => Err(Violation::mismatch(format!(
            "the second run disagrees at flat index {i} of {:?}: {why}",
            y2.shape()
        ))),
    }
}

fn metamorphic_section<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
) -> SectionReport {
    let mut report = SectionReport {
        section: Section::Metamorphic,
        checked: 0,
        skipped: 0,
        failure: None,
    };
    let cases = (config.cases / 4).max(16);
    for rel in relations::<T>() {
        let Some(strategy) = (rel.cases)(caps) else {
            report.skipped += cases as usize;
            continue;
        };
        let (checked, skipped, failure) = search(strategy, cases, config.seed, |c| {
            relate(engine, config, &rel, c)
        });
        report.checked += checked;
        report.skipped += skipped;
        if let Some(f) = failure {
            let code = format!(
                "    // Relation: {}. Derive the second problem from this one as the\n    \
                 // relation says and compare the two outputs; the first alone, judged:\n{}",
                rel.name,
                oracle_check_code(config)
            );
            report.failure = Some(found(
                format!("metamorphic: {} (shrunk)", rel.name),
                f,
                |c| (case_code(c, &code), case_size(c)),
            ));
            break;
        }
    }
    report
}

// ------------------------------------------------------------------------------ code

/// The check of an output against the oracle, as Rust statements.
fn oracle_check_code<T>(config: &Config<T>) -> String {
    check_code(config, "conv", "judge")
}

/// Statements running `engine.{method}(&p)` and judging it with `oracle::{judge}`.
pub(crate) fn check_code<T>(config: &Config<T>, method: &str, judge: &str) -> String {
    let model = match &config.tolerance {
        Tolerance::Model(m) => format!("conv_oracle::tolerance::Model::{m:?}"),
        Tolerance::PerProblem(_) => {
            "/* the model your Config derives for this problem */ conv_oracle::tolerance::Model::Componentwise"
                .to_string()
        }
    };
    format!(
        "    let got = engine.{method}(&p).expect(\"a valid problem\");\n    \
         let report = conv_oracle::oracle::{judge}(&p, got.view(), &{model}).unwrap();\n    \
         assert!(report.passed(), \"{{report}}\");\n"
    )
}

pub(crate) fn array_code<T: Element>(name: &str, a: &ArrayD<T>) -> String {
    let values: Vec<String> = a.iter().map(|&v| v.literal()).collect();
    format!(
        "    let {name} = ndarray::ArrayD::<{ty}>::from_shape_vec(ndarray::IxDyn(&{shape:?}), vec![{values}]).unwrap();\n",
        ty = <T as Float>::NAME,
        shape = a.shape(),
        values = values.join(", ")
    )
}

fn spec_code<T: Element>(spec: &ConvSpec<T>) -> String {
    let mut s = String::from("conv_oracle::ConvSpec::new()");
    if !spec.stride.is_empty() {
        s += &format!(".stride(vec!{:?})", spec.stride);
    }
    if !spec.dilation.is_empty() {
        s += &format!(".dilation(vec!{:?})", spec.dilation);
    }
    let padding = match &spec.padding {
        Padding::Explicit(p) => format!("Explicit(vec!{p:?})"),
        other => format!("{other:?}"),
    };
    s += &format!(".padding(conv_oracle::Padding::{padding})");
    let boundary = match &spec.boundary {
        Boundary::Constant(v) => format!("Constant({})", v.literal()),
        b => format!("{:?}", BoundaryRule::of(b)),
    };
    s += &format!(".boundary(conv_oracle::Boundary::{boundary})");
    if spec.groups != 1 {
        s += &format!(".groups({})", spec.groups);
    }
    s += &format!(".flip(conv_oracle::Flip::{:?})", spec.flip);
    s
}

/// The case as a Rust function taking the engine, with `check` (statements using `engine`
/// and `p`) as its body's end.
fn case_code<T: Element>(c: &Case<T>, check: &str) -> String {
    let mut s = format!(
        "fn conv_oracle_counterexample(engine: &dyn conv_oracle::engine::ConvEngine<{ty}>) {{\n",
        ty = <T as Float>::NAME
    );
    s += &array_code("input", &c.input.0);
    s += &array_code("weight", &c.weight.0);
    if let Some(b) = &c.bias {
        let values: Vec<String> = b.iter().map(|&v| v.literal()).collect();
        s += &format!(
            "    let bias = ndarray::Array1::<{}>::from(vec![{}]);\n",
            <T as Float>::NAME,
            values.join(", ")
        );
    }
    s += &format!("    let spec = {};\n", spec_code(&c.spec));
    s += "    let p = conv_oracle::Problem::new(input.view(), weight.view())";
    if c.bias.is_some() {
        s += ".bias(bias.view())";
    }
    s += ".spec(spec);\n";
    s += check;
    s += "}\n";
    s
}

// ------------------------------------------------------------------------------ macro

/// Expands into one `#[test]` per [`Section`] of the conformance battery, inside a module of
/// the given name, for an engine expression and an element type (`f32` or `f64`); an
/// optional [`Config`] expression follows. The engine expression is evaluated inside the
/// module, which imports the caller's scope (`use super::*`).
///
/// ```
/// use conv_oracle::engine::ReferenceEngine;
///
/// conv_oracle::conv_conformance_tests!(reference_f64: f64 => ReferenceEngine);
/// conv_oracle::conv_conformance_tests!(
///     reference_f32_quick: f32 => ReferenceEngine,
///     conv_oracle::conformance::Config { cases: 32, ..Default::default() }
/// );
/// # fn main() {}
/// ```
///
/// A transposed engine ([`crate::engine::ConvTransposeEngine`]) takes the word `transpose`
/// before the engine and runs [`transpose::check_transpose_sections`]:
///
/// ```
/// use conv_oracle::engine::ReferenceEngine;
///
/// conv_oracle::conv_conformance_tests!(
///     reference_transposed: f64 => transpose ReferenceEngine,
///     conv_oracle::conformance::Config { cases: 32, ..Default::default() }
/// );
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conv_conformance_tests {
    ($name:ident : $t:ty => transpose $engine:expr) => {
        $crate::conv_conformance_tests!(
            $name: $t => transpose $engine,
            $crate::conformance::Config::<$t>::default()
        );
    };
    ($name:ident : $t:ty => transpose $engine:expr, $config:expr) => {
        $crate::conv_conformance_tests!(@module $name, $t, $engine, $config, check_transpose_sections);
    };
    ($name:ident : $t:ty => $engine:expr) => {
        $crate::conv_conformance_tests!(
            $name: $t => $engine,
            $crate::conformance::Config::<$t>::default()
        );
    };
    ($name:ident : $t:ty => $engine:expr, $config:expr) => {
        $crate::conv_conformance_tests!(@module $name, $t, $engine, $config, check_sections);
    };
    (@module $name:ident, $t:ty, $engine:expr, $config:expr, $check:ident) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::conformance::transpose::check_transpose_sections;
            #[allow(unused_imports)]
            use $crate::conformance::check_sections;

            #[allow(dead_code)]
            fn run(section: $crate::conformance::Section) {
                let engine = $engine;
                let config: $crate::conformance::Config<$t> = $config;
                $check::<$t>(&engine, &config, &[section]).assert_passed();
            }

            #[test]
            fn catalogue() {
                run($crate::conformance::Section::Catalogue);
            }

            #[test]
            fn oracle() {
                run($crate::conformance::Section::Oracle);
            }

            #[test]
            fn invalid_input() {
                run($crate::conformance::Section::Invalid);
            }

            #[test]
            fn metamorphic() {
                run($crate::conformance::Section::Metamorphic);
            }
        }
    };
}
