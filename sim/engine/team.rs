//! `Team`: the run's workers kept awake between windows, so that a window
//! of a few dozen events can still be split over the cores.
//!
//! A business-as-usual day is 1.7M windows of 50 ms holding tens to
//! hundreds of events each, a few microseconds of work per shard. Handing
//! such a window to rayon costs more than it saves: an idle worker has
//! gone to sleep by the next window and takes longer to wake than the
//! window takes to run. A team's helpers instead spin between windows
//! (running any pool work that is waiting meanwhile, such as checks
//! started ahead) and claim the window's items with one atomic operation
//! each, first the items whose home they are (so that an item's data
//! stays in one core's cache), then any left.
//!
//! The items (the shards) are moved into per-item slots for the window and
//! back afterwards (boxes, so a move is a pointer), so no reference to the
//! loop's state outlives the window and no `unsafe` is needed. Which thread
//! runs an item never changes what it computes: the items share nothing
//! while they run (the engine's shard invariant).
//!
//! Spinning costs a core while the loop does its sequential part, so a
//! team has at most one member per available core, and a helper that has
//! had nothing to do for a while sleeps until the next shared window.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Arguments every item of a window is run with.
pub(crate) type Args = [u64; 4];

/// A window's items, and the helpers waiting for them.
pub(crate) struct Team<T> {
    slots: Vec<Mutex<Option<T>>>,
    /// The order in which items are claimed (largest first).
    order: Vec<AtomicU32>,
    /// The window being run (its epoch: 1, 2, ...) and how many items it has.
    epoch: AtomicU64,
    n: AtomicUsize,
    /// Per item: the last epoch it is wanted in, and the last it was claimed in.
    want: Vec<AtomicU64>,
    last: Vec<AtomicU64>,
    /// Per item: the member that runs it first (its home), so that an item
    /// stays on one core, with its data in that core's cache, as long as
    /// the loads allow.
    home: Vec<AtomicU32>,
    done: AtomicUsize,
    args: [AtomicU64; 4],
    stop: AtomicBool,
    /// Per helper: whether it may be sleeping, and its thread to wake.
    asleep: Vec<AtomicBool>,
    sleepers: Vec<Mutex<Option<std::thread::Thread>>>,
    /// The pool index of the thread that runs the loop (never a helper).
    owner: usize,
    helpers: usize,
    panicked: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

/// How long a helper with nothing to do spins before it sleeps: a few
/// windows' worth of a busy run, so it sleeps only while the loop runs
/// small windows on its own.
const SPIN_BEFORE_SLEEP: std::time::Duration = std::time::Duration::from_micros(200);

impl<T: Send> Team<T> {
    /// A team for `items` items, with `helpers` helpers besides the
    /// loop's thread, which is pool worker `owner`.
    pub(crate) fn new(items: usize, owner: usize, helpers: usize) -> Self {
        Team {
            slots: (0..items).map(|_| Mutex::new(None)).collect(),
            order: (0..items).map(|_| AtomicU32::new(0)).collect(),
            epoch: AtomicU64::new(0),
            n: AtomicUsize::new(0),
            want: (0..items).map(|_| AtomicU64::new(0)).collect(),
            last: (0..items).map(|_| AtomicU64::new(0)).collect(),
            home: (0..items).map(|_| AtomicU32::new(0)).collect(),
            done: AtomicUsize::new(0),
            args: [0; 4].map(AtomicU64::new),
            stop: AtomicBool::new(false),
            asleep: (0..helpers).map(|_| AtomicBool::new(false)).collect(),
            sleepers: (0..helpers).map(|_| Mutex::new(None)).collect(),
            owner,
            helpers,
            panicked: Mutex::new(None),
        }
    }

    /// A helper's loop, run by every pool worker (a broadcast): the loop's
    /// own thread and workers beyond the team's size return at once; the
    /// others claim and run items until [`Team::finish`].
    pub(crate) fn help(&self, index: usize, f: &(dyn Fn(&mut T, Args) + Sync)) {
        let rank = if index < self.owner { index + 1 } else { index };
        if index == self.owner || rank > self.helpers {
            return;
        }
        *self.sleepers[rank - 1].lock().expect("team sleeper") = Some(std::thread::current());
        let mut idle_since: Option<std::time::Instant> = None;
        let mut seen = 0;
        while !self.stop.load(Ordering::Acquire) {
            let epoch = self.epoch.load(Ordering::Acquire);
            if epoch != seen {
                seen = epoch;
                if self.work(rank as u32, f, true) {
                    idle_since = None;
                    continue;
                }
            }
            if rayon::yield_now() == Some(rayon::Yield::Executed) {
                idle_since = None;
                continue;
            }
            let since = *idle_since.get_or_insert_with(std::time::Instant::now);
            if since.elapsed() < SPIN_BEFORE_SLEEP {
                std::hint::spin_loop();
                continue;
            }
            // Nothing to do for a while (the loop is running small windows
            // itself): sleep until the next window is published. The flag
            // is set before the last look at the epoch, and the loop reads
            // it after publishing, so one of the two sees the other.
            let asleep = &self.asleep[rank - 1];
            asleep.store(true, Ordering::SeqCst);
            if self.epoch.load(Ordering::SeqCst) == seen && !self.stop.load(Ordering::SeqCst) {
                std::thread::park_timeout(std::time::Duration::from_millis(10));
            }
            asleep.store(false, Ordering::SeqCst);
            idle_since = None;
        }
    }

    /// Wakes sleeping helpers (after a window is published, or to stop).
    fn wake(&self) {
        for (asleep, t) in self.asleep.iter().zip(&self.sleepers) {
            if asleep.load(Ordering::SeqCst) {
                if let Some(t) = t.lock().expect("team sleeper").as_ref() {
                    t.unpark();
                }
            }
        }
    }

    /// Claims and runs items of the current window until none is left:
    /// first those whose home is member `me`, then any; whether it ran any.
    fn work(&self, me: u32, f: &(dyn Fn(&mut T, Args) + Sync), helper: bool) -> bool {
        let epoch = self.epoch.load(Ordering::Acquire);
        let n = self.n.load(Ordering::Relaxed).min(self.order.len());
        let mut ran = false;
        for own in [true, false] {
            for o in &self.order[..n] {
                let item = o.load(Ordering::Relaxed) as usize;
                if (self.home[item].load(Ordering::Relaxed) == me) != own
                    || self.want[item].load(Ordering::Relaxed) != epoch
                    || self.last[item].fetch_max(epoch, Ordering::AcqRel) >= epoch
                {
                    continue;
                }
                let args = self.args.each_ref().map(|a| a.load(Ordering::Relaxed));
                let mut slot = self.slots[item].lock().expect("team slot");
                let t = slot.as_mut().expect("item moved in for the window");
                if helper {
                    // A panic is carried to the loop's thread, which re-raises it.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(t, args)));
                    if let Err(p) = r {
                        self.panicked
                            .lock()
                            .expect("team panic slot")
                            .get_or_insert(p);
                    }
                } else {
                    f(t, args);
                }
                drop(slot);
                self.done.fetch_add(1, Ordering::Release);
                ran = true;
            }
        }
        ran
    }

    /// Sets which member runs item `item` first (0 is the loop's thread,
    /// helpers are 1, 2, ...). Only where it runs depends on it.
    pub(crate) fn set_home(&self, item: usize, member: u32) {
        self.home[item].store(member, Ordering::Relaxed);
    }

    /// Gives each item a home by its recent load (`loads[i]` for item
    /// `i`): longest first, each to the least loaded member.
    pub(crate) fn rehome(&self, loads: &[u64]) {
        let mut by_load: Vec<(u64, usize)> = loads.iter().copied().zip(0..).collect();
        by_load.sort_by_key(|&(d, i)| (std::cmp::Reverse(d), i));
        let mut members = vec![0u64; self.members()];
        for (d, i) in by_load {
            let m = (0..members.len())
                .min_by_key(|&m| (members[m], m))
                .unwrap_or(0);
            members[m] += d.max(1);
            self.set_home(i, m as u32);
        }
    }

    /// The team's members: the loop's thread and the helpers.
    pub(crate) fn members(&self) -> usize {
        self.helpers + 1
    }

    /// Runs `f(item, args)` for the items whose indices `order` lists (in
    /// that order of claiming), on the loop's thread and the helpers;
    /// returns when all have run. `items` is moved into the slots and back.
    pub(crate) fn run(
        &self,
        items: &mut Vec<T>,
        order: &[u32],
        args: Args,
        f: &(dyn Fn(&mut T, Args) + Sync),
    ) {
        let mut all = std::mem::take(items);
        for (slot, t) in self.slots.iter().zip(all.drain(..)) {
            *slot.lock().expect("team slot") = Some(t);
        }
        for (o, &i) in self.order.iter().zip(order) {
            o.store(i, Ordering::Relaxed);
        }
        for (a, v) in self.args.iter().zip(args) {
            a.store(v, Ordering::Relaxed);
        }
        self.done.store(0, Ordering::Relaxed);
        let epoch = self.epoch.load(Ordering::Relaxed) + 1;
        for &i in order {
            self.want[i as usize].store(epoch, Ordering::Relaxed);
        }
        self.n.store(order.len(), Ordering::Relaxed);
        self.epoch.store(epoch, Ordering::SeqCst);
        self.wake();
        self.work(0, f, false);
        while self.done.load(Ordering::Acquire) < order.len() {
            if rayon::yield_now() != Some(rayon::Yield::Executed) {
                std::hint::spin_loop();
            }
        }
        all.extend(
            self.slots
                .iter()
                .map(|s| s.lock().expect("team slot").take().expect("item back")),
        );
        *items = all;
        if let Some(p) = self.panicked.lock().expect("team panic slot").take() {
            std::panic::resume_unwind(p);
        }
    }

    /// Tells the helpers to return (also when the loop unwinds).
    pub(crate) fn finish(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }
}

/// Calls [`Team::finish`] when dropped, so that helpers never outlive the
/// loop, even one that panics.
pub(crate) struct FinishOnDrop<'a, T: Send>(pub(crate) &'a Team<T>);

impl<T: Send> Drop for FinishOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_per_window_whatever_thread_claims_it() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut items: Vec<Box<u64>> = (0..10).map(|_| Box::new(0)).collect();
        pool.install(|| {
            let owner = rayon::current_thread_index().unwrap();
            let team = Team::new(items.len(), owner, 1);
            let f = |t: &mut Box<u64>, a: Args| **t += a[0];
            rayon::scope(|sc| {
                sc.spawn_broadcast(|_, ctx| team.help(ctx.index(), &f));
                let _g = FinishOnDrop(&team);
                for w in 1..=1000u64 {
                    let order: Vec<u32> = (0..10u32)
                        .filter(|&i| (w + u64::from(i)) % 3 != 0)
                        .collect();
                    team.run(&mut items, &order, [w, 0, 0, 0], &f);
                }
            });
        });
        for (i, v) in items.iter().enumerate() {
            let want: u64 = (1..=1000u64).filter(|w| (w + i as u64) % 3 != 0).sum();
            assert_eq!(**v, want, "item {i}");
        }
    }

    #[test]
    fn items_run_on_their_home_or_anywhere_and_sleeping_helpers_wake() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let mut items: Vec<Box<(u64, u64)>> = (0..6).map(|_| Box::new((0, 0))).collect();
        pool.install(|| {
            let owner = rayon::current_thread_index().unwrap();
            let team = Team::new(items.len(), owner, 2);
            assert_eq!(team.members(), 3);
            for i in 0..6 {
                team.set_home(i, (i % 3) as u32);
            }
            // Each item counts its runs and sums the window numbers.
            let f = |t: &mut Box<(u64, u64)>, a: Args| {
                t.0 += 1;
                t.1 += a[0];
            };
            rayon::scope(|sc| {
                sc.spawn_broadcast(|_, ctx| team.help(ctx.index(), &f));
                let _g = FinishOnDrop(&team);
                for w in 1..=40u64 {
                    if w % 10 == 0 {
                        // Longer than a helper spins: it goes to sleep.
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    team.run(&mut items, &[5, 4, 3, 2, 1, 0], [w, 0, 0, 0], &f);
                }
            });
        });
        for t in &items {
            assert_eq!(**t, (40, (1..=40).sum()));
        }
    }

    #[test]
    fn homes_go_longest_first_to_the_least_loaded_member() {
        let team: Team<Box<u64>> = Team::new(5, 0, 1);
        team.rehome(&[10, 70, 20, 30, 0]);
        let homes: Vec<u32> = team
            .home
            .iter()
            .map(|h| h.load(Ordering::Relaxed))
            .collect();
        // 70 to member 0; 30, 20, 10 to member 1 (60); the idle item counts 1, to member 1.
        assert_eq!(homes, vec![1, 0, 1, 1, 1]);
    }

    #[test]
    fn a_helpers_panic_reaches_the_loop() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                let owner = rayon::current_thread_index().unwrap();
                let mut items: Vec<Box<u64>> = (0..4).map(|_| Box::new(0)).collect();
                let team = Team::new(items.len(), owner, 1);
                let f = |t: &mut Box<u64>, a: Args| {
                    assert!(**t < 50 || a[0] == 0, "item reached 50");
                    **t += 1;
                };
                rayon::scope(|sc| {
                    sc.spawn_broadcast(|_, ctx| team.help(ctx.index(), &f));
                    let _g = FinishOnDrop(&team);
                    for _ in 0..100 {
                        team.run(&mut items, &[0, 1, 2, 3], [1, 0, 0, 0], &f);
                    }
                });
            })
        }));
        assert!(r.is_err(), "the panic must surface");
    }
}
