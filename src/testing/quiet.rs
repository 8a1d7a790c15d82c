//! Catching a panic without printing it: its site and message become a value.
//!
//! The batteries run code that may panic hundreds of times while a failure shrinks; the
//! default hook would print each panic with its backtrace note. [`quietly`] wraps the
//! process's hook once, so that a panic on a thread inside it is recorded, not printed, and
//! every other panic still goes to the hook that was there before.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// The message of a panic payload (`String` or `&str`; empty otherwise).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// A panic caught by [`quietly`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caught {
    /// `file:line` where it panicked, when the hook saw it.
    pub(crate) site: Option<String>,
    /// The panic message.
    pub(crate) message: String,
}

impl Caught {
    /// `"{who} panicked at FILE:LINE: MESSAGE"`.
    pub(crate) fn describe(&self, who: &str) -> String {
        match &self.site {
            Some(site) => format!("{who} panicked at {site}: {}", self.message),
            None => format!("{who} panicked: {}", self.message),
        }
    }
}

thread_local! {
    /// Set while this thread runs inside [`quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic of this thread happened.
    static SITE: RefCell<Option<String>> = const { RefCell::new(None) };
}

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

/// Runs `f`; a panic inside it prints nothing and comes back as [`Caught`].
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    install_quiet_hook();
    // A site left by a panic that `f`'s own code caught must not be blamed on this one.
    SITE.with(|s| s.borrow_mut().take());
    let outer = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(outer));
    result.map_err(|e| Caught {
        site: SITE.with(|s| s.borrow_mut().take()),
        message: panic_message(e.as_ref()),
    })
}
