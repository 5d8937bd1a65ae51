//! PHOLD, the standard synthetic benchmark for parallel discrete-event engines
//! (as in ROSS and most PDES papers since Fujimoto 1990).
//!
//! `lps` logical processes (LPs) start with `events_per_lp` events each. An LP
//! handling an event schedules exactly one new event after
//! `lookahead + Exp(mean - lookahead)`; its target is a uniformly random LP with
//! probability `remote`, else the LP itself. There is no other work, so the
//! benchmark measures the engine: queueing, ordering, exchange and barriers.
//!
//! [`baseline`] runs the same workload, draw for draw, on a plain sequential
//! `BinaryHeap` loop; equal event counts and digests show the two ran the very
//! same events.

pub mod baseline;
pub mod bench;

use crate::engine::rng::{below_u32, exp_ns, StreamFamily};
use crate::engine::{
    Ctx, EngineConfig, EntityId, Event, Partition, RunLimits, RunReport, ShardModel, SimTime,
    Simulation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

/// PHOLD parameters (times in seconds, as users write them).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PholdParams {
    /// Number of logical processes.
    pub lps: u32,
    /// Initial events per LP.
    pub events_per_lp: u32,
    /// Probability that a new event goes to a random LP rather than to itself.
    pub remote: f64,
    /// Least delay of every event, seconds (the engine's lookahead).
    pub lookahead_s: f64,
    /// Mean delay of every event, seconds (must exceed the lookahead).
    pub mean_s: f64,
    /// Simulated end time, seconds.
    pub end_s: f64,
    /// The engine's window width, seconds, when narrower than the lookahead
    /// (default: the lookahead). The model declares the lookahead as its
    /// least delay ([`ShardModel::min_send_delay_ns`]), so the engine's
    /// rounds span several windows: results are the same, only speed
    /// differs (what the determinism tests check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_s: Option<f64>,
    /// Whether the model keeps its least delay to itself: then every round
    /// is one window, as for a model that declares nothing (to measure what
    /// declaring saves; the results are the same).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undeclared: bool,
}

/// The latest end time a run may have, seconds: the engine's clock is a
/// 64-bit count of nanoseconds (584 years); 1e10 s keeps clear of its end.
pub const MAX_END_S: f64 = 1e10;

impl PholdParams {
    /// Checks ranges; the message names the offending key.
    pub fn check(&self) -> Result<(), String> {
        if self.lps == 0 {
            return Err("lps must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.remote) {
            return Err(format!(
                "remote must be a probability in [0, 1], got {}",
                self.remote
            ));
        }
        if !(self.lookahead_s > 0.0 && self.lookahead_s.is_finite()) {
            return Err(format!(
                "lookahead_s must be a positive number of seconds, got {}",
                self.lookahead_s
            ));
        }
        if !(self.mean_s > self.lookahead_s && self.mean_s <= MAX_END_S) {
            return Err(format!(
                "mean_s ({}) must be greater than lookahead_s ({}) and at most {MAX_END_S:e} s",
                self.mean_s, self.lookahead_s
            ));
        }
        if !(self.end_s > 0.0 && self.end_s <= MAX_END_S) {
            return Err(format!(
                "end_s must be a positive number of seconds up to {MAX_END_S:e} (the engine's clock counts nanoseconds in 64 bits), got {}",
                self.end_s
            ));
        }
        if crate::engine::time::secs_to_ns(self.lookahead_s) == 0 {
            return Err("lookahead_s is below one nanosecond".into());
        }
        if let Some(w) = self.window_s {
            if !(w > 0.0 && w <= self.lookahead_s) || crate::engine::time::secs_to_ns(w) == 0 {
                return Err(format!(
                    "window_s must be at least a nanosecond and at most lookahead_s ({} s), got {w}",
                    self.lookahead_s
                ));
            }
        }
        let pending = self.lps as u64 * self.events_per_lp as u64;
        if pending > 2_000_000_000 {
            return Err(format!("lps × events_per_lp = {pending} pending events is more than this build supports (2e9)"));
        }
        Ok(())
    }

    /// Bytes of memory the run needs, estimated before it starts: about 24
    /// bytes per pending event, with up to twice that for vector growth,
    /// plus 72 bytes of state per LP (its random block with its count, and
    /// its send counter).
    pub fn memory_estimate_bytes(&self) -> u64 {
        let pending = self.lps as u64 * self.events_per_lp as u64;
        pending * 48 + self.lps as u64 * 72
    }

    pub(crate) fn lookahead_ns(&self) -> u64 {
        crate::engine::time::secs_to_ns(self.lookahead_s)
    }

    /// The engine's window width, nanoseconds.
    pub(crate) fn window_ns(&self) -> u64 {
        self.window_s
            .map_or(self.lookahead_ns(), crate::engine::time::secs_to_ns)
    }

    /// Mean of the exponential part of the delay, nanoseconds.
    pub(crate) fn exp_mean_ns(&self) -> f64 {
        (self.mean_s - self.lookahead_s) * 1e9
    }

    pub(crate) fn remote_threshold(&self) -> u64 {
        (self.remote * 4_294_967_296.0) as u64
    }
}

/// The draws and rules shared by the engine model and the baseline, so both
/// make exactly the same decisions.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    lps: u32,
    lookahead_ns: u64,
    exp_mean_ns: f64,
    remote_threshold: u64,
    stream: StreamFamily,
    init_stream: StreamFamily,
}

/// 32-bit words each handled event draws from its LP's stream (two `u64`s).
const WORDS_PER_EVENT: u64 = 4;

impl Rules {
    pub(crate) fn new(p: &PholdParams, seed: u64) -> Self {
        Rules {
            lps: p.lps,
            lookahead_ns: p.lookahead_ns(),
            exp_mean_ns: p.exp_mean_ns(),
            remote_threshold: p.remote_threshold(),
            stream: StreamFamily::new(seed, "phold"),
            init_stream: StreamFamily::new(seed, "phold-init"),
        }
    }

    /// Times of LP `lp`'s initial events.
    pub(crate) fn initial_times(&self, lp: EntityId, n: u32) -> impl Iterator<Item = SimTime> + '_ {
        let mut rng = self.init_stream.entity(lp as u64);
        (0..n).map(move |_| {
            SimTime(
                self.lookahead_ns
                    .saturating_add(exp_ns(rng.next_u64(), self.exp_mean_ns)),
            )
        })
    }

    /// The `(delay_ns, target)` of the event LP `lp` schedules while handling
    /// its `handled`-th event.
    #[inline]
    pub(crate) fn next(&self, lp: EntityId, handled: u32) -> (u64, EntityId) {
        let mut rng = self.stream.at(lp as u64, handled as u64 * WORDS_PER_EVENT);
        self.decide(lp, rng.next_u64(), rng.next_u64())
    }

    /// [`Rules::next`] for an LP that keeps its current block: four events
    /// share a block, so the LP computes one every fourth event (the same
    /// words as [`Rules::next`] draws). The block also holds the LP's count
    /// of handled events (see [`Block`]), which this advances.
    #[inline]
    pub(crate) fn next_kept(&self, lp: EntityId, block: &mut Block) -> (u64, EntityId) {
        const PER_BLOCK: u32 = (16 / WORDS_PER_EVENT) as u32;
        let n = block.0[0];
        if n % PER_BLOCK == 0 {
            block.0 = self.stream.block(lp as u64, (n / PER_BLOCK) as u64);
        }
        let i = (n % PER_BLOCK) as usize * WORDS_PER_EVENT as usize;
        let w = &block.0;
        let word = |k: usize| w[i + k] as u64;
        let (a, b) = (word(0) | word(1) << 32, word(2) | word(3) << 32);
        // Word 0 is drawn (by the block's first event): it keeps the count.
        block.0[0] = n + 1;
        self.decide(lp, a, b)
    }

    #[inline]
    fn decide(&self, lp: EntityId, a: u64, b: u64) -> (u64, EntityId) {
        let delay = self
            .lookahead_ns
            .saturating_add(exp_ns(a, self.exp_mean_ns));
        let target = if (b >> 32) < self.remote_threshold {
            below_u32(b as u32, self.lps)
        } else {
            lp
        };
        (delay, target)
    }
}

/// An LP's state in one cache line: the stream block of its current event
/// (a block serves four events) and its count of handled events. The count
/// lives in word 0, which the block's first event has already drawn when
/// the count is next read, so an LP's handling touches one line, not two
/// (measured on 1M LPs: see benches/README.md). A new LP's zeroed block
/// reads as a count of 0, which computes its first block.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
pub(crate) struct Block([u32; 16]);

/// One shard of PHOLD LPs.
pub struct PholdShard {
    rules: Rules,
    /// Every event's least delay, nanoseconds (the lookahead), as declared
    /// to the engine (0 with [`PholdParams::undeclared`]).
    min_delay_ns: u64,
    partition: Partition,
    /// Per local LP: its current block and its count of handled events.
    blocks: Vec<Block>,
}

impl ShardModel for PholdShard {
    type Msg = ();
    type Prep = ();

    #[inline]
    fn handle(&mut self, ev: Event<()>, _prep: Option<()>, ctx: &mut Ctx<'_, ()>) {
        let local = self.partition.local_of(ev.target) as usize;
        let (delay, target) = self.rules.next_kept(ev.target, &mut self.blocks[local]);
        ctx.send(target, delay, ());
    }

    fn min_send_delay_ns(&self) -> u64 {
        self.min_delay_ns
    }

    #[inline]
    fn prefetch(&self, ev: &Event<()>) {
        let local = self.partition.local_of(ev.target) as usize;
        if let Some(b) = self.blocks.get(local) {
            crate::engine::prefetch(b);
        }
    }
}

/// Outcome of an engine PHOLD run.
#[derive(Clone, Debug)]
pub struct PholdRun {
    /// The engine's report.
    pub report: RunReport,
    /// Wall seconds spent scheduling the initial events.
    pub setup_wall_s: f64,
    /// Wall seconds spent running events.
    pub run_wall_s: f64,
    /// Bytes held by pending-event storage at the end.
    pub queue_bytes: usize,
    /// Wall seconds this rank spent in collectives (0 in one process).
    pub comm_wall_s: f64,
    /// Every rank's events and wall times (one entry in one process).
    pub rank_loads: Vec<crate::engine::RankLoad>,
}

/// Runs PHOLD on the engine.
pub fn run(
    p: &PholdParams,
    seed: u64,
    shards: u32,
    threads: usize,
    interrupt: Option<&AtomicBool>,
) -> PholdRun {
    run_observed(p, seed, shards, threads, u64::MAX, interrupt, |_| {})
}

/// Runs PHOLD on the engine, stopping at the first window barrier past
/// `max_events`, calling `observe` at every window barrier.
pub fn run_observed(
    p: &PholdParams,
    seed: u64,
    shards: u32,
    threads: usize,
    max_events: u64,
    interrupt: Option<&AtomicBool>,
    observe: impl FnMut(&crate::engine::Progress) + Send,
) -> PholdRun {
    run_on(
        p, seed, shards, threads, max_events, interrupt, None, observe,
    )
}

/// Runs this rank's share of PHOLD over the ranks of `ranks` (see
/// [`crate::engine::transport`]): every rank gets the same report.
#[allow(clippy::too_many_arguments)]
pub fn run_on(
    p: &PholdParams,
    seed: u64,
    shards: u32,
    threads: usize,
    max_events: u64,
    interrupt: Option<&AtomicBool>,
    ranks: Option<Box<dyn crate::engine::transport::Transport>>,
    observe: impl FnMut(&crate::engine::Progress) + Send,
) -> PholdRun {
    let t0 = std::time::Instant::now();
    let rules = Rules::new(p, seed);
    let cfg = EngineConfig {
        entities: p.lps,
        shards: shards.min(p.lps).max(1),
        lookahead_ns: p.window_ns(),
        threads,
        ring_windows: ring_windows_for(p),
    };
    let mut sim = Simulation::new(cfg, |s, partition| PholdShard {
        rules: rules.clone(),
        min_delay_ns: if p.undeclared { 0 } else { p.lookahead_ns() },
        partition,
        blocks: vec![Block::default(); partition.entities_in_shard(s) as usize],
    });
    if let Some(t) = ranks {
        sim.distribute(t);
    }
    // Initial events, generated per shard in parallel (each LP's from its
    // own stream; with several ranks, each generates its own shards').
    let e = p.events_per_lp;
    let owned: Vec<bool> = (0..cfg_shards(&sim)).map(|s| sim.owns_shard(s)).collect();
    let initial: Vec<Vec<(EntityId, SimTime)>> = sim.map_shards(|s, m| {
        if !owned[s as usize] {
            return Vec::new();
        }
        let part = m.partition;
        part.entities_of(s)
            .flat_map(|lp| {
                m.rules
                    .initial_times(lp, e)
                    .map(move |t| (lp, t))
                    .collect::<Vec<_>>()
            })
            .collect()
    });
    for per_shard in initial {
        for (lp, t) in per_shard {
            sim.schedule(lp, t, ());
        }
    }
    let setup_wall_s = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let limits = RunLimits {
        end: SimTime::from_secs_f64(p.end_s),
        max_events,
        interrupt,
    };
    let report = sim.run_observed(&limits, observe);
    let run_wall_s = t1.elapsed().as_secs_f64();
    PholdRun {
        report,
        setup_wall_s,
        run_wall_s,
        queue_bytes: sim.queue_bytes(),
        comm_wall_s: sim.comm_wall_s(),
        rank_loads: sim.rank_loads().to_vec(),
    }
}

fn cfg_shards<S: crate::engine::ShardModel>(sim: &Simulation<S>) -> u32 {
    sim.config().shards
}

/// LPs per shard above which a shard's working set (each LP's random
/// block and counters, its share of the pending events: about 2 MB)
/// outgrows a core's L2 cache.
const LPS_PER_SHARD: u32 = 16_384;

/// The shard count `dccsim bench phold` uses when none is given: one per
/// thread, more (a power of two) when a thread's LPs would outgrow its
/// cache. Results do not depend on it; speed does: with few LPs, extra
/// shards only add the exchange between them (measured: 64 shards ran
/// a 10,000-LP PHOLD about a quarter slower than one on one thread); with
/// a million, 64 shards ran 2.5 times faster than one.
pub fn auto_shards(lps: u32, threads: usize) -> u32 {
    let t = u32::try_from(threads).unwrap_or(u32::MAX).max(1);
    lps.div_ceil(LPS_PER_SHARD)
        .max(t)
        .next_power_of_two()
        .min(lps.max(1))
}

/// Ring size: enough windows to hold nearly all delays (mean/window × 16).
fn ring_windows_for(p: &PholdParams) -> usize {
    let w = (p.mean_s * 1e9 / p.window_ns() as f64 * 16.0).ceil();
    (w as usize).clamp(16, 1 << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> PholdParams {
        PholdParams {
            lps: 500,
            events_per_lp: 3,
            remote: 0.5,
            lookahead_s: 0.1,
            mean_s: 0.6,
            end_s: 5.0,
            window_s: None,
            undeclared: false,
        }
    }

    #[test]
    fn engine_matches_sequential_heap_baseline() {
        let p = small();
        let eng = run(&p, 7, 16, 2, None);
        let base = baseline::run(&p, 7);
        assert!(
            eng.report.events > 10_000,
            "too few events to mean anything: {}",
            eng.report.events
        );
        assert_eq!(eng.report.events, base.events);
        assert_eq!(eng.report.digest, base.digest);
        assert_eq!(eng.report.pending, base.pending);
    }

    /// An LP that keeps its block (with its count in word 0) draws what
    /// [`Rules::next`] draws from its stream, event after event, across
    /// the block boundaries.
    #[test]
    fn a_kept_block_draws_the_streams_words() {
        let rules = Rules::new(&small(), 5);
        for lp in [0, 1, 499] {
            let mut block = Block::default();
            for n in 0..13 {
                assert_eq!(
                    rules.next_kept(lp, &mut block),
                    rules.next(lp, n),
                    "lp {lp} event {n}"
                );
            }
            assert_eq!(block.0[0], 13, "the count of handled events");
        }
    }

    #[test]
    fn identical_for_any_thread_and_shard_count() {
        let p = small();
        let r1 = run(&p, 11, 8, 1, None).report;
        for (shards, threads) in [(8, 2), (8, 3), (8, 8), (1, 1), (64, 2), (7, 3)] {
            let r = run(&p, 11, shards, threads, None).report;
            assert_eq!(
                (r.events, r.digest, r.pending),
                (r1.events, r1.digest, r1.pending),
                "shards {shards} threads {threads}"
            );
        }
        // A different seed gives a different run.
        let other = run(&p, 12, 8, 1, None).report;
        assert_ne!(other.digest, r1.digest);
    }

    #[test]
    fn narrower_windows_change_only_the_rounds() {
        let p = small();
        let r1 = run(&p, 11, 8, 1, None).report;
        for (window, threads) in [(0.01, 1), (0.01, 2), (0.0333, 3), (0.1, 2), (1e-4, 2)] {
            let q = PholdParams {
                window_s: Some(window),
                ..p.clone()
            };
            let r = run(&q, 11, 8, threads, None).report;
            assert_eq!(
                (r.events, r.digest, r.pending),
                (r1.events, r1.digest, r1.pending),
                "window {window} s, {threads} threads"
            );
            // A round spans the lookahead's whole windows (0.0333: 3
            // windows of 0.0999 s), from the earliest event's window: about
            // as many rounds as with the lookahead's own windows.
            assert!(r.windows <= r1.windows * 11 / 10, "{} rounds", r.windows);
        }
        // Undeclared, a 0.01 s window means a barrier every 0.01 s.
        let q = PholdParams {
            window_s: Some(0.01),
            undeclared: true,
            ..p.clone()
        };
        let r = run(&q, 11, 8, 2, None).report;
        assert_eq!((r.events, r.digest), (r1.events, r1.digest));
        assert!(r.windows > r1.windows * 8, "{} rounds", r.windows);
    }

    #[test]
    fn bad_parameters_are_named() {
        let mut p = small();
        p.mean_s = 0.05;
        assert!(p.check().unwrap_err().contains("mean_s"));
        let mut p = small();
        p.remote = 1.5;
        assert!(p.check().unwrap_err().contains("remote"));
        let mut p = small();
        p.lookahead_s = f64::NAN;
        assert!(p.check().unwrap_err().contains("lookahead_s"));
        for w in [0.2, 0.0, -1.0, 1e-12] {
            let mut p = small();
            p.window_s = Some(w);
            assert!(p.check().unwrap_err().contains("window_s"), "{w}");
        }
    }
}
