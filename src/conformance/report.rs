//! What the battery finds: its sections, a counterexample, each section's report and the
//! verdict on one engine.

use crate::testing::Kind;
use crate::tolerance::Float;
use std::fmt;

/// The sections of the battery ([module docs](super)).
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
    /// Every section, in the order [`check`](super::check) runs them.
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
