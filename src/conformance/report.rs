//! What the battery finds: its sections, a counterexample, each section's report and the
//! verdict on one engine.

use crate::testing::Kind;
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
    /// [`Kind::Panicked`], [`Kind::SearchAborted`], [`Kind::Uncovered`] (nothing checked),
    /// or [`Kind::HypothesisBroken`] (the battery's own premise failed, not the engine).
    pub kind: Kind,
    /// Why: the judge's report, the error, or the relation's first disagreement.
    pub detail: String,
    /// The problem as a Rust function that runs the check on an engine: paste it into a
    /// test and call it with the engine.
    pub code: String,
    /// Elements of the problem's input and weight (smaller is more minimal).
    pub size: usize,
    /// Features of the problem that tell this failure from the others of its section (its
    /// stride, boundary, groups, ...): a later problem failing the same way with all of them
    /// is counted in `repeats` instead of reported again.
    pub features: Vec<String>,
    /// Other problems of the section that failed the same way (same kind, same features).
    pub repeats: usize,
}

impl Counterexample {
    /// Whether a failure of `kind` on a problem with `features` is another instance of this
    /// one: the same kind, and every feature that sets this one apart.
    pub(crate) fn covers(&self, kind: Kind, features: &[String]) -> bool {
        self.kind == kind && self.features.iter().all(|f| features.contains(f))
    }
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
    /// Problems outside the capabilities that the engine declined with
    /// [`crate::ConvError::Unsupported`] (out of scope, as it declared).
    pub declined: usize,
    /// Distinct failures, each minimised where the section draws random problems, at most
    /// [`Config::max_failures`](super::Config::max_failures).
    pub failures: Vec<Counterexample>,
}

impl SectionReport {
    pub(crate) fn new(section: Section) -> Self {
        SectionReport {
            section,
            checked: 0,
            skipped: 0,
            declined: 0,
            failures: Vec::new(),
        }
    }

    /// Counts a failure of `kind` on a problem with `features` as a repeat: of the known
    /// failure that covers it, or of the last once `cap` are known. `false` when it is new.
    pub(crate) fn repeat(&mut self, kind: Kind, features: &[String], cap: usize) -> bool {
        let full = self.failures.len() >= cap.max(1);
        let known = match self.failures.iter().position(|k| k.covers(kind, features)) {
            Some(i) => i,
            None if full => self.failures.len() - 1,
            None => return false,
        };
        self.failures[known].repeats += 1;
        true
    }

    /// Records a failure, as a repeat ([`SectionReport::repeat`]) or as a new one.
    pub(crate) fn add_failure(&mut self, c: Counterexample, cap: usize) {
        if !self.repeat(c.kind, &c.features, cap) {
            self.failures.push(c);
        }
    }
}

/// Problems checked and declined with a feature, over the whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureCount {
    /// The feature (`"rank 2"`, `"boundary Reflect"`, `"stride > 1"`, `"groups > 1"`, ...).
    pub feature: String,
    /// Problems with it that the engine answered (judged, passed or not).
    pub checked: usize,
    /// Problems with it, outside the capabilities, that the engine declined as unsupported.
    pub declined: usize,
}

/// Where the engine panicked, and how often the battery saw it there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicSite {
    /// `file:line` of the panic.
    pub site: String,
    /// The first panic message seen there.
    pub message: String,
    /// Panics caught there (shrinking included).
    pub count: usize,
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
    /// Problems per feature: those the engine answered and those it declined.
    pub coverage: Vec<FeatureCount>,
    /// Every site where the engine panicked.
    pub panics: Vec<PanicSite>,
}

impl ConformanceReport {
    /// Whether every section passed.
    pub fn passed(&self) -> bool {
        self.sections.iter().all(|s| s.failures.is_empty())
    }

    /// The first failure, if any.
    pub fn failure(&self) -> Option<&Counterexample> {
        self.failures().next()
    }

    /// Every failure, section by section.
    pub fn failures(&self) -> impl Iterator<Item = &Counterexample> {
        self.sections.iter().flat_map(|s| s.failures.iter())
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
            let verdict = match s.failures.len() {
                0 => "ok".to_string(),
                n => format!("FAIL ({n})"),
            };
            write!(
                f,
                "  {:<14} {verdict:<9} {} checked, {} skipped",
                s.section.name(),
                s.checked,
                s.skipped
            )?;
            if s.declined > 0 {
                write!(f, ", {} declined as unsupported", s.declined)?;
            }
            writeln!(f)?;
        }
        if !self.coverage.is_empty() {
            let cells: Vec<String> = self
                .coverage
                .iter()
                .map(|c| match c.declined {
                    0 => format!("{} {}", c.feature, c.checked),
                    d => format!("{} {} (+{d} declined)", c.feature, c.checked),
                })
                .collect();
            writeln!(f, "  coverage: {}", cells.join(", "))?;
        }
        for p in &self.panics {
            writeln!(
                f,
                "  panicked {}x at {}: {}",
                p.count,
                p.site,
                p.message.lines().next().unwrap_or("")
            )?;
        }
        let total = self.failures().count();
        for (i, c) in self.failures().enumerate() {
            writeln!(f, "failure {} of {total}: {} ({})", i + 1, c.what, c.kind)?;
            if !c.features.is_empty() {
                writeln!(f, "  with: {}", c.features.join(", "))?;
            }
            if c.repeats > 0 {
                writeln!(f, "  and {} more problems failed the same way", c.repeats)?;
            }
            writeln!(f, "  {}", c.detail.replace('\n', "\n  "))?;
            writeln!(f, "minimal problem, as a test to paste:")?;
            write!(f, "{}", c.code)?;
        }
        Ok(())
    }
}
