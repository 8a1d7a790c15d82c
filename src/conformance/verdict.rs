//! One problem run on the engine, a panic caught, and the verdict on its answer: judged
//! against the oracle, or refused as it must be.

use super::config::Config;
use crate::engine::ConvEngine;
use crate::oracle::judge;
use crate::problem::{ConvError, Problem};
use crate::testing::cases::Case;
use crate::testing::problems::Element;
use crate::testing::{Kind, Violation, panic_message};
use ndarray::ArrayD;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// Runs the engine, turning a panic into a [`Kind::Panicked`] violation.
pub(super) fn run<T: Element>(
    engine: &dyn ConvEngine<T>,
    p: &Problem<'_, T>,
) -> Result<Result<ArrayD<T>, ConvError>, Violation> {
    guarded(|| engine.conv(p))
}

thread_local! {
    /// Set while this thread runs an engine inside [`guarded`]: a panic is then recorded
    /// (its site, in `SITE`) instead of printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic of this thread happened (`file:line`).
    static SITE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Wraps the process's panic hook once: a panic on a thread inside [`guarded`] is recorded,
/// not printed; every other panic goes to the hook that was there before, unchanged.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let site = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                SITE.with(|s| *s.borrow_mut() = site);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into a [`Kind::Panicked`] violation that names the panic's site
/// and message; the panic prints nothing (a battery may catch hundreds while it shrinks).
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, Violation> {
    install_quiet_hook();
    // A site left by a panic the engine caught itself must not be blamed on this one.
    SITE.with(|s| s.borrow_mut().take());
    let outer = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(outer));
    result.map_err(|e| {
        let message = panic_message(e.as_ref());
        let detail = match SITE.with(|s| s.borrow_mut().take()) {
            Some(site) => format!("the engine panicked at {site}: {message}"),
            None => format!("the engine panicked: {message}"),
        };
        Violation::new(Kind::Panicked, detail)
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
/// `Ok(false)` not applicable (a problem the reference refuses), `Err` why it failed.
///
/// Validity comes first: a problem the reference refuses is never given to the engine here.
/// It reaches an engine only in [`Section::Invalid`](super::Section::Invalid), and only when
/// the engine claims to validate.
pub(super) fn judge_case<T: Element>(
    engine: &dyn ConvEngine<T>,
    config: &Config<T>,
    c: &Case<T>,
) -> Result<bool, Violation> {
    c.with(|p| {
        if p.validate().is_err() {
            return Ok(false);
        }
        let model = config.tolerance.model(p);
        let got = run(engine, p)?;
        verdict_of(got, |y| judge(p, y.view(), &model).map_err(judge_error))
    })
}
