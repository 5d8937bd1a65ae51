//! A domain-free, deterministic, parallel discrete-event engine.
//!
//! The engine knows nothing about meters or suppliers. A model is a set of
//! *entities* (numbered `0..n`) that exchange typed messages; the engine
//! delivers each message as an [`Event`] at its simulated time.
//!
//! # Ordering contract
//!
//! 1. Time is [`SimTime`], an integer count of nanoseconds.
//! 2. Every event has the key `(time, target, src, seq)`, where `seq` is the
//!    sender's count of messages sent before this one. Keys are unique and are
//!    made only of integers; they never depend on insertion order, on which
//!    thread ran the sender, or on the number of threads.
//! 3. Each entity handles its events in increasing key order. Events with
//!    equal time are therefore ordered by target, then sender, then the
//!    sender's sequence number.
//! 4. A message to *another* entity is delayed by at least the lookahead `L`
//!    ([`EngineConfig::lookahead_ns`]); a message to oneself by at least 1 ns.
//!    The engine panics if a model breaks this: it is a model bug.
//! 5. Entities are spread over a fixed number of shards
//!    ([`EngineConfig::shards`]) that does not depend on the thread count.
//!    Time is cut into windows `[kL, (k+1)L)`. All shards run window `k` in
//!    parallel; messages between shards are exchanged at the barrier after the
//!    window and sorted by key when their window starts. Shards share no
//!    memory while a window runs, only this exchange.
//! 6. A shard's model may declare a larger least delay for its messages to
//!    other entities ([`ShardModel::min_send_delay_ns`]); see "Rounds".
//! 7. Randomness comes only from [`rng::StreamFamily`] streams named by
//!    `(root seed, stream name, entity id)` (or from pure functions of the
//!    seed and fixed identifiers, never of the schedule).
//!
//! Together these make a run's results a function of the model, its
//! parameters and the seed alone: identical for any thread count, and, since
//! rule 4 does not depend on which shard an entity lives in, for any shard
//! count too.
//!
//! # Rounds
//!
//! Shards run *rounds* between barriers: a round starts at the earliest
//! window holding an event on any shard, `w`, and covers windows `w..e`,
//! where `e` is the least, over the shards with pending events, of the
//! shard's earliest window plus its *reach*: its least delay to other
//! entities (the lookahead, or the model's larger declaration) in whole
//! windows. No message sent in the round can land before window `e`, so
//! each shard runs its windows `w..e` in turn, one after another, and
//! the round's messages to other shards wait for the barrier. Without
//! declarations every reach is 1 and a round is one window. A model
//! whose fast links are idle (or a window narrower than the model's
//! least delay) thus needs fewer barriers; each entity still handles its
//! events in key order, so results are the same for any window width
//! at or below the least delay (`tests` below, and
//! `window_width_changes_only_speed` in `tests/determinism.rs`). The
//! event limit is checked at barriers, so where a run stops on
//! [`RunLimits::max_events`] does depend on them.
//!
//! # Hot entities
//!
//! An entity that receives a burst of work in one window (the DSP checking
//! thousands of signatures) can ask for a parallel *prepare* pass:
//! [`ShardModel::prepare`] is a pure function of one event, run for every
//! event of the window in parallel before any is handled; its result is
//! handed to [`ShardModel::handle`] with the event, in key order.
//!
//! Work that is pure and whose inputs exist well before the event that
//! needs it (a signature made now and checked after a network crossing)
//! can instead start on the pool at once with [`Ahead`], so that idle
//! workers do it while the windows in between run.
//!
//! # Bounds
//!
//! Every run is bounded by an end time and a maximum event count
//! ([`RunLimits`]) and reports why it stopped ([`StopReason`]). The event
//! limit is checked at window barriers, so the number of events run is the
//! same at any thread count.

pub mod ahead;
mod calendar;
pub mod event;
mod partition;
mod ranks;
pub mod rng;
mod shard;
mod team;
pub mod time;
pub mod transport;

pub use ahead::Ahead;
pub use event::{mix64, EntityId, Event, EventKey};
pub use partition::Partition;
pub use ranks::RankLoad;
pub use shard::Ctx;
pub use time::{SimTime, NS_PER_S};

use shard::{rehome, Shard};
use team::Team;
use transport::{Link, Transport};

/// What a team runs on a shard: its window, or the delivery of its incoming messages.
const RUN: u64 = 0;
const DELIVER: u64 = 1;

/// The team a window loop hands windows to, and what it runs on each shard.
type TeamRef<'a, S> = (
    &'a Team<Box<Shard<S>>>,
    &'a (dyn Fn(&mut Box<Shard<S>>, team::Args) + Sync),
);

/// Windows of a round looked at to estimate its events (for sharing it).
const ROUND_PEEK: u64 = 64;

/// Windows (and exchanges) with fewer events than this run on the loop's
/// thread instead of being shared with the team: a window of a
/// business-as-usual day at 1M meters (~20 events) split over two cores
/// costs more in moving its events' data between the cores' caches than
/// it saves (measured with thresholds 16, 48, 96 and 256 at 1M and 3M
/// meters: `benches/README.md`).
const INLINE_WINDOW_EVENTS: usize = 256;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks for the cache line holding `r` to be loaded, without waiting for
/// it: a model's per-entity state is a random access per event (an LP's
/// random block in PHOLD, 64 MB at 1M LPs), and the next events of a
/// sorted window are known. A hint: it changes no value (a no-op off
/// x86-64).
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    safe_arch::prefetch_t0(r);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = r;
}

/// A model's share of the entities: their state and how they handle events.
///
/// One value of the implementing type exists per shard; it owns the state of
/// exactly the entities [`Partition::entities_of`] lists for that shard.
pub trait ShardModel: Send + Sync {
    /// The message type entities exchange.
    type Msg: Send + Sync;
    /// The result of the optional parallel prepare pass.
    type Prep: Send;

    /// Handles one event addressed to an entity of this shard.
    fn handle(
        &mut self,
        ev: Event<Self::Msg>,
        prep: Option<Self::Prep>,
        ctx: &mut Ctx<'_, Self::Msg>,
    );

    /// The least delay of any message this shard's entities send to
    /// *another* entity, nanoseconds, when the model knows it to be more
    /// than the engine's lookahead ([`EngineConfig::lookahead_ns`]); by
    /// default 0 (the lookahead). Read once, when the engine is built.
    ///
    /// It lets a round between two barriers span several windows: the
    /// engine runs, before each barrier, every window up to the earliest
    /// one a message from a shard with pending events could land in (see
    /// "Rounds" in the module docs). Results do not depend on it, only
    /// the number of barriers does. [`Ctx::send`] panics on a message
    /// that breaks it: the model's declaration was wrong.
    fn min_send_delay_ns(&self) -> u64 {
        0
    }

    /// Asks the memory system for the state `ev` will touch, a few events
    /// before it is handled (see [`prefetch`]); a hint only, it must not
    /// change anything. By default nothing.
    #[inline]
    fn prefetch(&self, _ev: &Event<Self::Msg>) {}

    /// Whether to run [`ShardModel::prepare`] over each window's events.
    fn wants_prepare(&self) -> bool {
        false
    }

    /// A pure computation on one event, run in parallel for all events of a
    /// window before they are handled (see "Hot entities" above).
    fn prepare(&self, _ev: &Event<Self::Msg>) -> Option<Self::Prep> {
        None
    }

    /// [`ShardModel::prepare`] on this rank's copy of a shard another rank
    /// runs (see [`Simulation::farm_prepare`]): the same result from the
    /// shared read-only state alone. Handling must not depend on which
    /// rank prepared.
    fn prepare_anywhere(&self, ev: &Event<Self::Msg>) -> Option<Self::Prep> {
        self.prepare(ev)
    }
}

/// Fixed settings of an engine instance.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Number of entities.
    pub entities: u32,
    /// Number of shards (fixed by the scenario, never by the thread count).
    pub shards: u32,
    /// Least delay of a message between two different entities, nanoseconds;
    /// also the width of an execution window (a shard's model may declare
    /// a larger least delay: [`ShardModel::min_send_delay_ns`]).
    pub lookahead_ns: u64,
    /// Worker threads.
    pub threads: usize,
    /// Windows held in each shard's near-future ring; later events wait in an
    /// ordered map.
    pub ring_windows: usize,
}

/// Limits that bound a run.
#[derive(Debug)]
pub struct RunLimits<'a> {
    /// Events at or after this time are not run.
    pub end: SimTime,
    /// The run stops at the first window barrier where at least this many
    /// events have been run.
    pub max_events: u64,
    /// Set (e.g. by a Ctrl-C handler) to stop at the next barrier.
    pub interrupt: Option<&'a AtomicBool>,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The next pending event is at or after the end time.
    EndTime,
    /// No events were left.
    Exhausted,
    /// The event limit was reached.
    MaxEvents,
    /// Interrupted from outside; results are partial.
    Interrupted,
}

impl StopReason {
    /// Stable lower-case name for result files.
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::EndTime => "end_time",
            StopReason::Exhausted => "no_events_left",
            StopReason::MaxEvents => "max_events",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// Events handled.
    pub events: u64,
    /// Wrapping sum of the hash of every handled event's key: identical for
    /// any thread or shard count when the same events ran.
    pub digest: u64,
    /// Rounds run, i.e. barriers (a round is one window unless a model
    /// declares a least delay above the lookahead; see "Rounds").
    pub windows: u64,
    /// Why the run stopped.
    pub stop: StopReason,
    /// Simulated time reached: the end of the last window run (capped at the end time).
    pub reached: SimTime,
    /// Events still pending when the run stopped.
    pub pending: u64,
}

/// A progress snapshot handed to the observer at window barriers.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Simulated time reached.
    pub now: SimTime,
    /// The run's end time.
    pub end: SimTime,
    /// Events handled so far.
    pub events: u64,
}

/// The engine: shards of a model plus the window loop that runs them.
pub struct Simulation<S: ShardModel> {
    cfg: EngineConfig,
    partition: Partition,
    shards: Vec<Box<Shard<S>>>,
    pool: std::sync::Arc<rayon::ThreadPool>,
    events: u64,
    windows: u64,
    reached: SimTime,
    /// With several ranks: the other ranks, and which shards are this one's.
    link: Option<Link<S::Msg>>,
    owned: Vec<bool>,
    /// Wall seconds spent in the ranks' collectives (0 in one process): a
    /// machine figure, never part of results.
    comm_wall_s: f64,
    /// Every rank's share of the last run (one entry in one process).
    loads: Vec<RankLoad>,
    /// With [`Simulation::farm_prepare`]: the prepare results' codec.
    farm: Option<transport::Codec<S::Prep>>,
    /// A window's non-empty shards, largest first (reused).
    order: Vec<u32>,
    /// Windows handed to a team, and each shard's events when the team's
    /// homes were last set.
    team_windows: u64,
    homed_events: Vec<u64>,
    /// The largest shard reach (see "Rounds"): 1 when no model declares a
    /// least delay above the lookahead, and every round is one window.
    reach_max: u64,
}

impl<S: ShardModel> Simulation<S> {
    /// Builds the engine. `make_shard(s, partition)` creates the model state
    /// of shard `s`.
    ///
    /// Panics on a configuration that is a programming error (zero shards,
    /// zero lookahead); user input is checked before it gets here.
    pub fn new(cfg: EngineConfig, mut make_shard: impl FnMut(u32, Partition) -> S) -> Self {
        assert!(cfg.shards >= 1, "at least one shard");
        assert!(cfg.lookahead_ns >= 1, "lookahead must be at least 1 ns");
        assert!(cfg.threads >= 1, "at least one thread");
        let partition = Partition {
            shards: cfg.shards,
            entities: cfg.entities,
        };
        let shards: Vec<Box<Shard<S>>> = (0..cfg.shards)
            .map(|s| {
                Box::new(Shard::new(
                    make_shard(s, partition),
                    s,
                    partition,
                    cfg.lookahead_ns,
                    cfg.ring_windows,
                ))
            })
            .collect();
        let reach_max = shards.iter().map(|s| s.reach).max().unwrap_or(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads)
            .thread_name(|i| format!("dccsim-worker-{i}"))
            .build()
            .map(std::sync::Arc::new)
            .expect("could not start worker threads");
        let owned = vec![true; cfg.shards as usize];
        Simulation {
            cfg,
            partition,
            shards,
            pool,
            events: 0,
            windows: 0,
            reached: SimTime::ZERO,
            link: None,
            owned,
            comm_wall_s: 0.0,
            loads: Vec::new(),
            farm: None,
            order: Vec::new(),
            team_windows: 0,
            homed_events: Vec::new(),
            reach_max,
        }
    }

    /// This process's rank (0 without [`Simulation::distribute`]): only
    /// rank 0 reports and writes.
    pub fn rank(&self) -> usize {
        self.link.as_ref().map_or(0, |l| l.t.rank())
    }

    /// The other ranks, after [`Simulation::distribute`]: for a model's
    /// own collectives after the run (gathering its figures on rank 0).
    pub fn transport(&self) -> Option<&dyn Transport> {
        self.link.as_ref().map(|l| &*l.t)
    }

    /// Wall seconds this rank spent in collectives (agreeing on windows,
    /// stop decisions and exchanging messages with other ranks).
    pub fn comm_wall_s(&self) -> f64 {
        self.comm_wall_s
    }

    /// Every rank's events and wall times in the last run, by rank.
    pub fn rank_loads(&self) -> &[RankLoad] {
        &self.loads
    }

    /// Whether shard `s` runs in this process.
    pub fn owns_shard(&self, s: u32) -> bool {
        self.owned[s as usize]
    }

    /// The entity-to-shard map.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The engine configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Schedules an initial event for `target` at `time`, as if `target` had
    /// sent it to itself. Call before [`Simulation::run`].
    pub fn schedule(&mut self, target: EntityId, time: SimTime, msg: S::Msg) {
        assert!(
            target < self.partition.entities,
            "initial event for unknown entity {target}"
        );
        let s = self.partition.shard_of(target) as usize;
        if self.owned[s] {
            self.shards[s].schedule_initial(target, time, msg);
        }
    }

    /// Runs `f` inside the run's thread pool, so any parallel work it does
    /// (a model's post-run checks) uses `--threads` threads, not every core.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Runs a closure on every shard's model in parallel (e.g. to schedule or
    /// to collect results), in shard order for the returned values.
    pub fn map_shards<R: Send>(&mut self, f: impl Fn(u32, &mut S) -> R + Sync) -> Vec<R> {
        use rayon::prelude::*;
        let shards = &mut self.shards;
        self.pool.install(|| {
            shards
                .par_iter_mut()
                .enumerate()
                .map(|(i, sh)| f(i as u32, &mut sh.model))
                .collect()
        })
    }

    /// The models of every shard, in shard order.
    pub fn models(&self) -> impl Iterator<Item = &S> {
        self.shards.iter().map(|s| &s.model)
    }

    /// Pending events across all shards.
    pub fn pending(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.out.calendar.len() as u64)
            .sum()
    }

    /// Approximate bytes held by pending-event storage.
    pub fn queue_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.out.calendar.bytes()).sum()
    }

    /// Runs until a limit is reached; see [`RunLimits`].
    pub fn run(&mut self, limits: &RunLimits<'_>) -> RunReport {
        self.run_observed(limits, |_| {})
    }

    /// Like [`Simulation::run`], calling `observe` after every window barrier.
    ///
    /// With several threads and one rank, the whole window loop runs on one
    /// of the pool's workers, and up to one other worker per further core
    /// forms a team with it (`team.rs`): the helpers spin between windows
    /// instead of sleeping, so a window of a few hundred microseconds can
    /// still be shared; each shard has a home member, so its data stays in
    /// one core's cache; the helpers run work a handler started ahead
    /// ([`Ahead`]) while they wait, and no third thread competes for the
    /// cores. Over several ranks the loop stays on the calling thread,
    /// which makes the transport's calls, and windows go to the pool.
    pub fn run_observed(
        &mut self,
        limits: &RunLimits<'_>,
        observe: impl FnMut(&Progress) + Send,
    ) -> RunReport {
        if !self.background() {
            return self.run_loop(limits, observe, None);
        }
        let pool = std::sync::Arc::clone(&self.pool);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let helpers = self.cfg.threads.min(cores).saturating_sub(1);
        let items = self.shards.len();
        pool.install(|| {
            if helpers == 0 {
                return self.run_loop(limits, observe, None);
            }
            let owner = rayon::current_thread_index().expect("inside the pool");
            let team = Team::new(items, owner, helpers);
            let f = |s: &mut Box<Shard<S>>, a: team::Args| {
                if a[0] == DELIVER {
                    s.deliver()
                } else {
                    s.run_round(a[1], a[2], a[3], true)
                }
            };
            rayon::scope(|sc| {
                sc.spawn_broadcast(|_, ctx| team.help(ctx.index(), &f));
                let _finish = team::FinishOnDrop(&team);
                self.run_loop(limits, observe, Some((&team, &f)))
            })
        })
    }

    /// Whether handlers run inside the run's pool with other workers to
    /// take work they start ahead: several threads, one rank.
    fn background(&self) -> bool {
        self.cfg.threads > 1 && self.link.is_none()
    }

    /// The window loop of [`Simulation::run_observed`].
    fn run_loop(
        &mut self,
        limits: &RunLimits<'_>,
        mut observe: impl FnMut(&Progress),
        team: Option<TeamRef<'_, S>>,
    ) -> RunReport {
        let background = self.background();
        for s in self.shards.iter_mut() {
            s.out.background = background;
        }
        use rayon::prelude::*;
        let l = self.cfg.lookahead_ns;
        let end_ns = limits.end.0;
        let started = std::time::Instant::now();
        let comm_before = self.comm_wall_s;
        let stop = loop {
            // Every rank takes the same decisions from the same figures.
            let t0 = self.link.is_some().then(std::time::Instant::now);
            let (events, interrupted) = self.agree_counts(limits);
            self.events = events;
            let next =
                (!interrupted && events < limits.max_events).then(|| self.agree_next_round());
            if let Some(t0) = t0 {
                self.comm_wall_s += t0.elapsed().as_secs_f64();
            }
            if interrupted {
                break StopReason::Interrupted;
            }
            let Some(next) = next else {
                break StopReason::MaxEvents;
            };
            let Some((w, round_end)) = next else {
                break StopReason::Exhausted;
            };
            let start_ns = w.saturating_mul(l);
            if start_ns >= end_ns {
                break StopReason::EndTime;
            }
            let round_end_ns = round_end.saturating_mul(l);
            if self.farm.is_some() {
                self.farm_window(w);
            }
            let shards = &mut self.shards;
            let owned = &self.owned;
            // A window with little work runs on the loop's thread: sharing
            // it costs more than it saves (threshold measured, see
            // INLINE_WINDOW_EVENTS). With one thread the pool is never used.
            // A shard with a prepare pass (a hot entity's signature checks)
            // is always shared, however few its events. A team exists only
            // on one rank, where every shard is owned.
            let round_len = |s: &Shard<S>| {
                if round_end == w + 1 {
                    s.out.calendar.window_len(w)
                } else {
                    s.out.calendar.len_in(w, round_end, ROUND_PEEK)
                }
            };
            let (mut work, mut heavy) = (0, false);
            for s in shards.iter() {
                let n = round_len(s);
                work += n;
                heavy |= n > 1 && s.model.wants_prepare();
            }
            if self.cfg.threads <= 1 || (work < INLINE_WINDOW_EVENTS && !heavy) {
                for (_, s) in shards.iter_mut().enumerate().filter(|(i, _)| owned[*i]) {
                    s.run_round(w, round_end_ns, end_ns, false);
                }
            } else if let Some((team, f)) = team {
                // Largest first, so that the last item claimed is small.
                let order = &mut self.order;
                order.clear();
                order.extend((0..shards.len() as u32).filter(|&i| {
                    let s = &shards[i as usize];
                    if round_end == w + 1 {
                        s.out.calendar.window_len(w) > 0
                    } else {
                        s.out.calendar.next_window().is_some_and(|n| n < round_end)
                    }
                }));
                order.sort_by_key(|&i| std::cmp::Reverse(round_len(&shards[i as usize])));
                if self.team_windows % 4096 == 0 {
                    rehome(team, shards, &mut self.homed_events);
                }
                self.team_windows += 1;
                team.run(shards, order, [RUN, w, round_end_ns, end_ns], f);
            } else {
                self.pool.install(|| {
                    shards
                        .par_iter_mut()
                        .enumerate()
                        .filter(|(i, _)| owned[*i])
                        .for_each(|(_, s)| s.run_round(w, round_end_ns, end_ns, true))
                });
            }
            self.exchange(team);
            self.windows += 1;
            self.events = self.shards.iter().map(|s| s.stats.events).sum();
            self.reached = SimTime(round_end_ns.min(end_ns));
            observe(&Progress {
                now: self.reached,
                end: limits.end,
                events: self.events,
            });
            if round_end_ns >= end_ns {
                break StopReason::EndTime;
            }
        };
        if stop == StopReason::EndTime {
            self.reached = limits.end;
        }
        let mut totals = [
            self.shards.iter().map(|s| s.stats.events).sum(),
            self.shards
                .iter()
                .fold(0u64, |d, s| d.wrapping_add(s.stats.digest)),
            self.pending(),
        ];
        let local_events = totals[0];
        if let Some(link) = &self.link {
            link.t.sum_u64s(&mut totals);
        }
        self.events = totals[0];
        self.gather_loads(local_events, started, comm_before);
        RunReport {
            events: totals[0],
            digest: totals[1],
            windows: self.windows,
            stop,
            reached: self.reached,
            pending: totals[2],
        }
    }

    /// Moves every shard's outbox to its destination shards.
    fn exchange(&mut self, team: Option<TeamRef<'_, S>>) {
        use rayon::prelude::*;
        self.exchange_remote();
        // Only the (source, destination) pairs that sent anything are
        // visited: with 64 shards, checking all 4,096 pairs at each of a
        // day's ~1.7M barriers was ~8% of a business-as-usual run.
        let mut moved = 0;
        let shards = &mut self.shards;
        for s in 0..shards.len() {
            let mut dirty = std::mem::take(&mut shards[s].out.dirty);
            for d in dirty.drain(..) {
                let d = d as usize;
                let mut out = std::mem::take(&mut shards[s].out.outbox[d]);
                if !out.is_empty() {
                    moved += out.len();
                    let inc = &mut shards[d].incoming;
                    std::mem::swap(&mut out, &mut inc.bufs[s]);
                    inc.from.push(s as u32);
                }
                shards[s].out.outbox[d] = out;
            }
            shards[s].out.dirty = dirty;
        }
        if moved == 0 {
            return;
        }
        if self.cfg.threads <= 1 || moved < INLINE_WINDOW_EVENTS {
            for shard in shards.iter_mut() {
                shard.deliver();
            }
        } else if let Some((team, f)) = team {
            // Each shard's calendar is filled by its home member.
            let order = &mut self.order;
            order.clear();
            order.extend(
                (0..shards.len() as u32).filter(|&i| !shards[i as usize].incoming.from.is_empty()),
            );
            team.run(shards, order, [DELIVER, 0, 0, 0], f);
        } else {
            self.pool
                .install(|| shards.par_iter_mut().for_each(|shard| shard.deliver()));
        }
    }

    /// Removes and returns every pending event (for end-of-run reports).
    pub fn drain_pending(&mut self) -> Vec<Event<S::Msg>> {
        let mut out: Vec<Event<S::Msg>> = Vec::new();
        for s in self.shards.iter_mut() {
            out.append(&mut s.out.calendar.drain_all());
        }
        out.sort_unstable_by_key(|e| e.key());
        out
    }
}

/// Convenience to check an interrupt flag.
pub fn interrupted(flag: Option<&AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}
