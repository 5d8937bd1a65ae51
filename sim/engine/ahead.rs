//! Pure computations started ahead of the event that needs their result.
//!
//! A handler often makes something that another entity will check much
//! later in simulated time: a signed message crosses a network for a second
//! or more before its recipient verifies it. The windows in between run
//! with little work each, so a check done when the recipient handles the
//! message is a lump that one thread runs while the others wait at the
//! barrier. [`Ahead::start`] hands the check to the run's pool when it
//! becomes computable; the recipient's [`Ahead::get_or`] finds the result
//! ready, waits for the rest of a check already running, or computes it
//! itself if no worker has started it.
//!
//! The result must be a pure function of what the closure captured (the
//! same value whichever thread computes it, and whenever): then whether and
//! where it ran ahead changes only speed. Both closures given for one cell
//! must compute the same value.

use std::sync::{Arc, OnceLock};

/// A value computed at most once, possibly ahead on another worker.
pub struct Ahead<T>(Arc<OnceLock<T>>);

impl<T> Clone for Ahead<T> {
    fn clone(&self) -> Self {
        Ahead(Arc::clone(&self.0))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Ahead<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ahead").field(&self.0.get()).finish()
    }
}

impl<T: Send + Sync + 'static> Ahead<T> {
    /// Starts `f` on the current pool when `background` (pass
    /// [`super::Ctx::background`]); otherwise returns `None` and leaves
    /// the computation to whoever needs the value.
    pub fn start(background: bool, f: impl FnOnce() -> T + Send + 'static) -> Option<Self> {
        background.then(|| {
            let cell = Arc::new(OnceLock::new());
            let c = Arc::clone(&cell);
            rayon::spawn(move || {
                c.get_or_init(f);
            });
            Ahead(cell)
        })
    }

    /// The value if it has been computed.
    pub fn ready(&self) -> Option<&T> {
        self.0.get()
    }

    /// The value: computed ahead, or by `f` now if no worker has started it
    /// (waiting for one that has).
    pub fn get_or(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_is_the_same_ahead_or_not() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let square = |x: u64| x.wrapping_mul(x).rotate_left(7);
        pool.install(|| {
            let cells: Vec<_> = (0..64u64)
                .map(|x| (x, Ahead::start(true, move || square(x)).expect("started")))
                .collect();
            for (x, c) in &cells {
                assert_eq!(*c.get_or(|| square(*x)), square(*x));
            }
        });
        assert!(Ahead::start(false, || 1u8).is_none());
    }
}
