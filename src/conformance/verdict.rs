//! One problem run on the engine, a panic caught, and the verdict on its answer: judged
//! against the oracle, or refused as it must be.

use super::config::Config;
use super::tally;
use crate::engine::{Capabilities, ConvEngine, ProblemShape};
use crate::oracle::judge;
use crate::problem::{ConvError, Problem};
use crate::testing::cases::Case;
use crate::testing::problems::Element;
use crate::testing::quiet::quietly;
use crate::testing::{Kind, Violation};
use ndarray::ArrayD;

/// Runs the engine, turning a panic into a [`Kind::Panicked`] violation.
pub(super) fn run<T: Element>(
    engine: &dyn ConvEngine<T>,
    p: &Problem<'_, T>,
) -> Result<Result<ArrayD<T>, ConvError>, Violation> {
    guarded(|| engine.conv(p))
}

/// Runs `f`, turning a panic into a [`Kind::Panicked`] violation that names the panic's site
/// and message; the panic prints nothing (a battery may catch hundreds while it shrinks), and
/// its site is counted for the report.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, Violation> {
    quietly(f).map_err(|c| {
        tally::panicked(c.site.as_deref().unwrap_or("an unknown site"), &c.message);
        Violation::new(Kind::Panicked, c.describe("the engine"))
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
        e => oracle_error(e),
    }
}

/// An error of the oracle's own on a valid problem: the battery's premise, not the engine
/// ([`Kind::HypothesisBroken`]).
pub(crate) fn oracle_error(e: ConvError) -> Violation {
    Violation::hypothesis(format!("the oracle cannot judge this problem: {e}"))
}

/// The verdict on an engine's answer `got` to a problem the reference accepts: `Ok(true)`
/// checked and passed, `Err` why it failed (a refusal, or what `judge_output` finds in the
/// output).
pub(crate) fn verdict_of<T>(
    got: Result<ArrayD<T>, ConvError>,
    judge_output: impl FnOnce(ArrayD<T>) -> Result<crate::tolerance::Report, Violation>,
) -> Result<bool, Violation> {
    match got {
        Err(e @ ConvError::Unsupported { .. }) => Err(Violation::new(
            Kind::Refused,
            format!("declined a problem inside its declared capabilities: {e}"),
        )),
        Err(e) => Err(Violation::new(
            Kind::Refused,
            format!("refused a valid problem: {e}"),
        )),
        Ok(y) => match judge_output(y)? {
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
/// `Ok(false)` not applicable (a problem the reference refuses, or one outside the
/// capabilities), `Err` why it failed.
///
/// Validity comes first: a problem the reference refuses is never given to the engine here.
/// It reaches an engine only in [`Section::Invalid`](super::Section::Invalid), and only when
/// the engine claims to validate.
pub(super) fn judge_case<T: Element>(
    engine: &dyn ConvEngine<T>,
    caps: &Capabilities,
    config: &Config<T>,
    c: &Case<T>,
) -> Result<bool, Violation> {
    c.with(|p| {
        if p.validate().is_err() {
            return Ok(false);
        }
        let shape = ProblemShape::of(p);
        if !caps.admits(&shape) {
            return Ok(false);
        }
        tally::checked(&shape);
        let got = run(engine, p)?;
        verdict_of(got, |y| {
            let model = config.tolerance.model_counted(engine, p)?;
            judge(p, y.view(), &model).map_err(judge_error)
        })
    })
}

/// What became of a fixed problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The engine answered and the answer passed.
    Checked,
    /// Not given to the engine.
    Skipped,
    /// Outside the capabilities, and declined as unsupported.
    Declined,
}

/// A valid problem outside the capabilities, given to an engine that validates: it must
/// decline it with [`ConvError::Unsupported`] or answer it correctly. Another error calls a
/// valid problem invalid, a failure ([`Kind::Refused`]).
pub(super) fn probe_undeclared<T: Element>(
    engine: &dyn ConvEngine<T>,
    config: &Config<T>,
    c: &Case<T>,
) -> Result<Outcome, Violation> {
    c.with(|p| {
        if p.validate().is_err() {
            return Ok(Outcome::Skipped);
        }
        let features = tally::features(&ProblemShape::of(p));
        undeclared_outcome(run(engine, p)?, features, |y| {
            let model = config.tolerance.model_counted(engine, p)?;
            judge(p, y.view(), &model).map_err(judge_error)
        })
    })
}

/// What became of a valid problem outside the capabilities, given the engine's answer `got`
/// and the problem's features: declined as unsupported (counted as declined), refused with
/// another error ([`Kind::Refused`]: that error calls a valid problem invalid), or answered and
/// judged by `judge_output` (counted as checked).
pub(crate) fn undeclared_outcome<T>(
    got: Result<ArrayD<T>, ConvError>,
    features: Vec<String>,
    judge_output: impl FnOnce(ArrayD<T>) -> Result<crate::tolerance::Report, Violation>,
) -> Result<Outcome, Violation> {
    match got {
        Err(ConvError::Unsupported { .. }) => {
            tally::declined_with(features);
            Ok(Outcome::Declined)
        }
        Err(e) => Err(Violation::new(
            Kind::Refused,
            format!(
                "refused a valid problem outside its capabilities with an error that calls it invalid ({e}); an engine that validates declines what it does not implement with ConvError::Unsupported"
            ),
        )),
        Ok(y) => {
            tally::checked_with(features);
            verdict_of(Ok(y), judge_output).map(|_| Outcome::Checked)
        }
    }
}
