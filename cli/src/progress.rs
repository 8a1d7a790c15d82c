//! A progress line on standard error for `verify` and `judge`: drawn only for work that lasts
//! longer than a second, only on a terminal (unless `--progress always`), and erased when the
//! work is done, so that standard output and a redirected standard error stay clean.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `--progress`: when to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// On a terminal, for work longer than about a second.
    Auto,
    /// Always, from the start (also when standard error is a file or a pipe).
    Always,
    /// Never.
    Never,
}

/// How long `auto` waits before it draws anything.
const DELAY: Duration = Duration::from_secs(1);
/// How often the line is redrawn (the elapsed time moves even when the count does not).
const TICK: Duration = Duration::from_millis(200);
/// Width of the bar in characters.
const BAR: usize = 24;

struct State {
    done: usize,
    total: usize,
    message: String,
    /// Whether a line is on the screen (to be erased).
    drawn: bool,
    /// `(done, message)` when last drawn: without a terminal, a line is written only when
    /// they change.
    last: Option<(usize, String)>,
    finished: bool,
}

struct Shared {
    label: &'static str,
    start: Instant,
    delay: Duration,
    /// Terminal mode: erase the line at the end. Otherwise (`always` into a file) every
    /// redraw ends with a newline and the last line stays.
    terminal: bool,
    state: Mutex<State>,
    wake: Condvar,
}

/// A progress display of `total` steps. Dropping it (or [`Progress::finish`]) stops it.
pub struct Progress {
    shared: Option<Arc<Shared>>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// A display for `total` steps of `label`, drawn as `when` says.
    pub fn new(label: &'static str, total: usize, when: When) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let delay = match when {
            When::Never => return Self::hidden(),
            When::Auto if !terminal => return Self::hidden(),
            When::Auto => DELAY,
            When::Always => Duration::ZERO,
        };
        let shared = Arc::new(Shared {
            label,
            start: Instant::now(),
            delay,
            terminal,
            state: Mutex::new(State {
                done: 0,
                total,
                message: String::new(),
                drawn: false,
                last: None,
                finished: false,
            }),
            wake: Condvar::new(),
        });
        let ticker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || shared.tick())
                .ok()
        };
        Progress {
            shared: Some(shared),
            ticker,
        }
    }

    /// A display that never draws.
    pub fn hidden() -> Self {
        Progress {
            shared: None,
            ticker: None,
        }
    }

    /// A handle that counts steps from elsewhere (e.g. inside a callback).
    pub fn handle(&self) -> Handle {
        Handle(self.shared.clone())
    }

    /// Marks one more step done, with what is running now (or was just done).
    pub fn step(&self, message: impl Into<String>) {
        self.handle().step(message);
    }

    /// Names the step that is running now without counting one.
    pub fn message(&self, message: impl Into<String>) {
        self.handle().message(message);
    }

    /// Stops the display and erases its line (on a terminal).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        if let Ok(mut s) = shared.state.lock() {
            s.finished = true;
        }
        shared.wake.notify_all();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

/// Counts the steps of a [`Progress`] (cheap to clone; does nothing once it has stopped).
#[derive(Clone)]
pub struct Handle(Option<Arc<Shared>>);

impl Handle {
    /// Marks one more step done, with what is running now (or was just done).
    pub fn step(&self, message: impl Into<String>) {
        self.update(|s| {
            s.done = (s.done + 1).min(s.total);
            s.message = message.into();
        });
    }

    /// Names the step that is running now without counting one.
    pub fn message(&self, message: impl Into<String>) {
        self.update(|s| s.message = message.into());
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        if let Some(Ok(mut s)) = self.0.as_ref().map(|shared| shared.state.lock()) {
            f(&mut s);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    /// The ticker thread: redraws every [`TICK`] once the delay has passed; at the end,
    /// erases the line (terminal) or draws the final state once more (`always` into a file).
    fn tick(&self) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        loop {
            if s.finished {
                break;
            }
            let elapsed = self.start.elapsed();
            if elapsed >= self.delay {
                self.draw(&mut s, elapsed);
            }
            let wait = if elapsed < self.delay {
                (self.delay - elapsed).min(TICK)
            } else {
                TICK
            };
            s = match self.wake.wait_timeout(s, wait) {
                Ok((guard, _)) => guard,
                Err(_) => return,
            };
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            if s.drawn {
                let _ = write!(err, "\r\x1b[2K");
            }
        } else {
            // `always` into a file or pipe: the final state, even when the work ended before
            // this thread first ran.
            let line = render(self.label, s.done, s.total, self.start.elapsed(), "done", 0);
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    fn draw(&self, s: &mut State, elapsed: Duration) {
        let now = (s.done, s.message.clone());
        if !self.terminal && s.last.as_ref() == Some(&now) {
            return;
        }
        s.last = Some(now);
        let mut err = std::io::stderr().lock();
        let line = render(
            self.label,
            s.done,
            s.total,
            elapsed,
            &s.message,
            if self.terminal { width() } else { 0 },
        );
        let _ = if self.terminal {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
        s.drawn = true;
    }
}

/// The terminal's width from `$COLUMNS`, else 80.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|&c: &usize| c >= 20)
        .unwrap_or(80)
}

/// One progress line: `label [#####-----] done/total mm:ss message`, cut to `width`
/// characters (`0`: no limit).
pub fn render(
    label: &str,
    done: usize,
    total: usize,
    elapsed: Duration,
    message: &str,
    width: usize,
) -> String {
    let filled = (done * BAR).checked_div(total).unwrap_or(BAR).min(BAR);
    let secs = elapsed.as_secs();
    let line = format!(
        "{label} [{}{}] {done}/{total} {:02}:{:02} {message}",
        "#".repeat(filled),
        "-".repeat(BAR - filled),
        secs / 60,
        secs % 60,
    );
    if width == 0 {
        return line.trim_end().to_string();
    }
    line.chars()
        .take(width.saturating_sub(1))
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let d = Duration::from_secs(75);
        assert_eq!(
            render("verify", 6, 24, d, "fft-within-bound", 0),
            "verify [######------------------] 6/24 01:15 fft-within-bound"
        );
        assert_eq!(
            render("judge", 0, 0, Duration::ZERO, "", 0),
            "judge [########################] 0/0 00:00"
        );
        // Cut to the terminal width, one column spare (no wrap at the margin).
        let cut = render("verify", 1, 2, d, &"x".repeat(100), 40);
        assert_eq!(cut.chars().count(), 39);
        // More steps than announced never overflows the bar.
        assert!(render("v", 9, 3, d, "", 0).starts_with("v [########################] 9/3"));
    }

    #[test]
    fn hidden_progress_accepts_steps() {
        let p = Progress::new("verify", 3, When::Never);
        p.step("a");
        p.message("b");
        p.finish();
    }
}
