//! The progress bar of long runs: simulated time, events per second and an
//! estimate of the time left. It draws on standard error only when that is
//! a terminal and `--quiet` was not given, so logs and CI stay clean.

use crate::engine::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// A progress bar over simulated time (or nothing, when hidden).
pub struct Bar {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Bar {
    /// A bar, hidden when `quiet` or when standard error is not a terminal.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b =
                ProgressBar::with_draw_target(Some(1_000), ProgressDrawTarget::stderr_with_hz(4));
            b.set_style(
                ProgressStyle::with_template("{bar:30} {percent:>3}% simulated {msg} ETA {eta}")
                    .expect("valid template"),
            );
            b
        });
        Bar {
            bar,
            started: Instant::now(),
        }
    }

    /// Updates from a window barrier's progress.
    pub fn update(&self, p: &Progress) {
        let Some(b) = &self.bar else { return };
        let frac = if p.end.0 == 0 {
            1.0
        } else {
            p.now.0 as f64 / p.end.0 as f64
        };
        b.set_position((frac.clamp(0.0, 1.0) * 1_000.0) as u64);
        let rate = p.events as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        b.set_message(format!(
            "{:.1} s, {:.2} M events/s",
            p.now.as_secs_f64(),
            rate / 1e6
        ));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
