//! Why a property did not hold, as a value: a [`Violation`] carries its [`Kind`], so a row
//! that must refute a wrong engine can insist on the kind of failure it expects (a bound
//! exceeded, not a refusal or an aborted search).

use crate::problem::ConvError;
use std::fmt;

/// The kinds of failure a property check reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Two results the property says are equal differ (compared exactly).
    Mismatch,
    /// A result is farther from the exact one than its derived bound allows.
    BoundExceeded,
    /// A bound is never approached on a row's cases: looser than the floor the row demands.
    BoundLoose,
    /// A result is not the correctly rounded one.
    NotCorrectlyRounded,
    /// An engine or front end refused, with an error, a problem it must compute.
    Refused,
    /// An engine computed a problem it must refuse.
    Accepted,
    /// A result has the wrong shape.
    ShapeMismatch,
    /// The generated case does not satisfy the property's hypothesis (a generator defect,
    /// not a verdict on the engine).
    HypothesisBroken,
    /// The search gave up before running its cases (proptest's abort: too many rejects).
    SearchAborted,
    /// The check, or the code it called, panicked.
    Panicked,
    /// Nothing was checked: every problem was outside the declared capabilities or declined
    /// (an engine cannot pass by refusing everything).
    Uncovered,
    /// The algorithm an engine declares for a problem cannot compute it (FFT lengths shorter
    /// than the padded input, a Winograd tile of another kernel size), so no error model
    /// applies.
    Misdeclared,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 12] = [
        Kind::Mismatch,
        Kind::BoundExceeded,
        Kind::BoundLoose,
        Kind::NotCorrectlyRounded,
        Kind::Refused,
        Kind::Accepted,
        Kind::ShapeMismatch,
        Kind::HypothesisBroken,
        Kind::SearchAborted,
        Kind::Panicked,
        Kind::Uncovered,
        Kind::Misdeclared,
    ];

    /// A short name, as reports print it (`bound-exceeded`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mismatch => "mismatch",
            Kind::BoundExceeded => "bound-exceeded",
            Kind::BoundLoose => "bound-loose",
            Kind::NotCorrectlyRounded => "not-correctly-rounded",
            Kind::Refused => "refused",
            Kind::Accepted => "accepted",
            Kind::ShapeMismatch => "shape-mismatch",
            Kind::HypothesisBroken => "hypothesis-broken",
            Kind::SearchAborted => "search-aborted",
            Kind::Panicked => "panicked",
            Kind::Uncovered => "uncovered",
            Kind::Misdeclared => "misdeclared",
        }
    }

    /// The kind named `name` ([`Kind::name`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed property check: its kind and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// What kind of failure.
    pub kind: Kind,
    /// The evidence: the values that differ, the bound and the error, the refusal...
    pub detail: String,
}

impl Violation {
    /// A violation of `kind`.
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Violation {
            kind,
            detail: detail.into(),
        }
    }

    /// [`Kind::Mismatch`].
    pub fn mismatch(detail: impl Into<String>) -> Self {
        Violation::new(Kind::Mismatch, detail)
    }

    /// [`Kind::BoundExceeded`].
    pub fn bound(detail: impl Into<String>) -> Self {
        Violation::new(Kind::BoundExceeded, detail)
    }

    /// [`Kind::HypothesisBroken`].
    pub fn hypothesis(detail: impl Into<String>) -> Self {
        Violation::new(Kind::HypothesisBroken, detail)
    }

    /// [`Kind::Refused`], from the error a computation returned.
    pub fn refused(e: &ConvError) -> Self {
        Violation::new(Kind::Refused, format!("unexpected error: {e}"))
    }

    /// The verdict on two outcomes that must agree, a result and a refusal or two different
    /// refusals: [`Kind::Refused`] when only `got` refused, [`Kind::Accepted`] when only `want`
    /// did, [`Kind::Mismatch`] for two different errors.
    pub fn acceptance<A, B>(got: &Result<A, ConvError>, want: &Result<B, ConvError>) -> Self {
        match (got, want) {
            (Err(g), Ok(_)) => Violation::new(Kind::Refused, format!("refused: {g}")),
            (Ok(_), Err(w)) => Violation::new(
                Kind::Accepted,
                format!("accepted a problem the reference refuses: {w}"),
            ),
            (Err(g), Err(w)) => {
                Violation::mismatch(format!("refused with {g}, the reference with {w}"))
            }
            (Ok(_), Ok(_)) => Violation::mismatch("both computed (no acceptance difference)"),
        }
    }

    /// The same violation with `context` in front of its detail.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.detail = format!("{context}: {}", self.detail);
        self
    }

    /// Encodes the violation in one string that [`Violation::decode`] reads back (the form a
    /// proptest failure reason carries through shrinking).
    pub(crate) fn encode(&self) -> String {
        format!("[{}] {}", self.kind.name(), self.detail)
    }

    /// Reads [`Violation::encode`]'s form; any other text (a panic message that proptest
    /// caught) is [`Kind::Panicked`].
    pub(crate) fn decode(reason: &str) -> Violation {
        reason
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("] "))
            .and_then(|(name, detail)| Kind::from_name(name).map(|k| Violation::new(k, detail)))
            .unwrap_or_else(|| Violation::new(Kind::Panicked, reason))
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// The violation's kind survives a proptest failure: `search` reads it back.
impl From<Violation> for proptest::test_runner::Reason {
    fn from(v: Violation) -> Self {
        v.encode().into()
    }
}

impl From<Violation> for String {
    fn from(v: Violation) -> Self {
        v.to_string()
    }
}

impl From<ConvError> for Violation {
    fn from(e: ConvError) -> Self {
        Violation::refused(&e)
    }
}

/// What a battery row claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The property holds on every case.
    Holds,
    /// The search must find a case that violates the property, with this kind.
    Refuted(Kind),
}

/// The verdict of a row from its expectation and what the search returned: whether it
/// passed, and the detail to print.
pub fn verdict(expect: Expect, cases: u32, result: Result<(), Violation>) -> (bool, String) {
    match (expect, result) {
        (Expect::Holds, Ok(())) => (true, String::new()),
        (Expect::Holds, Err(v)) => (false, v.to_string()),
        (Expect::Refuted(_), Ok(())) => {
            (false, format!("no counterexample found in {cases} cases"))
        }
        (Expect::Refuted(k), Err(v)) if v.kind == k => (true, format!("refuted as expected: {v}")),
        (Expect::Refuted(k), Err(v)) => {
            (false, format!("expected a refutation of kind {k}, got {v}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_round_trips_and_foreign_text_is_a_panic() {
        for k in Kind::ALL {
            let v = Violation::new(k, "a] b [c");
            assert_eq!(Violation::decode(&v.encode()), v);
        }
        assert_eq!(
            Violation::decode("index out of bounds").kind,
            Kind::Panicked
        );
        assert_eq!(Violation::decode("[no-such-kind] x").kind, Kind::Panicked);
    }

    #[test]
    fn a_refutation_row_passes_only_on_its_kind() {
        let bound = || Err(Violation::bound("error 3 > bound 1"));
        assert!(verdict(Expect::Refuted(Kind::BoundExceeded), 8, bound()).0);
        assert!(!verdict(Expect::Refuted(Kind::Mismatch), 8, bound()).0);
        assert!(!verdict(Expect::Refuted(Kind::Mismatch), 8, Ok(())).0);
        assert!(verdict(Expect::Holds, 8, Ok(())).0);
        assert!(!verdict(Expect::Holds, 8, bound()).0);
    }
}
