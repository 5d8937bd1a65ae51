//! The window loop's side of running over several ranks: spreading shards
//! over ranks, agreeing on the next window and the stop decision,
//! exchanging events between ranks, farming a hot shard's prepare pass out
//! to every rank, and each rank's share of the work (see [`transport`]).

use super::event::Event;
use super::transport::{self, Link, Transport, Wire};
use super::{RunLimits, ShardModel, Simulation};
use std::sync::atomic::Ordering;

/// One rank's share of a run: a machine figure, only ever written to
/// `perf.json` or benchmark output. `busy_s` is the rank's wall time in
/// the window loop less `comm_s`, its time in collectives (which includes
/// waiting for slower ranks at the barrier).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RankLoad {
    /// Events this rank's shards handled.
    pub events: u64,
    /// Wall seconds running its windows and exchanges.
    pub busy_s: f64,
    /// Wall seconds in collectives.
    pub comm_s: f64,
}

impl RankLoad {
    /// The slowest rank's busy time over the mean (1 is perfect balance).
    pub fn imbalance(loads: &[RankLoad]) -> f64 {
        let mean = loads.iter().map(|l| l.busy_s).sum::<f64>() / loads.len().max(1) as f64;
        let max = loads.iter().map(|l| l.busy_s).fold(0.0, f64::max);
        if mean > 0.0 {
            max / mean
        } else {
            1.0
        }
    }
}

impl<S: ShardModel> Simulation<S> {
    /// Spreads the shards over the ranks of `t` (shard `s` on rank
    /// `s mod ranks`); this process runs only its own. Call before
    /// scheduling: initial events for other ranks' shards are dropped here
    /// (every rank schedules them all, each keeps its own). See
    /// [`transport`].
    pub fn distribute(&mut self, t: Box<dyn Transport>)
    where
        S::Msg: Wire,
    {
        let ranks = t.ranks();
        let rank_of = (0..self.shards.len()).map(|s| s % ranks).collect();
        self.distribute_placed(t, rank_of);
    }

    /// Like [`Simulation::distribute`], with shard `s` on rank
    /// `rank_of[s]` (e.g. from [`transport::placement`] of the shards'
    /// expected work); every rank must pass the same placement.
    pub fn distribute_placed(&mut self, t: Box<dyn Transport>, rank_of: Vec<usize>)
    where
        S::Msg: Wire,
    {
        assert_eq!(rank_of.len(), self.shards.len(), "a rank for every shard");
        assert!(rank_of.iter().all(|&r| r < t.ranks()), "ranks in range");
        let link = Link {
            put: <S::Msg as Wire>::put,
            take: <S::Msg as Wire>::take,
            rank_of,
            t,
        };
        self.owned = (0..self.shards.len())
            .map(|s| link.rank_of[s] == link.t.rank())
            .collect();
        self.link = Some(link);
    }

    /// Spreads the prepare pass of every shard that asks for one over all
    /// the ranks: at each window, its owner sends each rank a slice of the
    /// window's sorted events, each prepares its slice on its own copy of
    /// the shard ([`ShardModel::prepare_anywhere`]) and sends the results
    /// back (two all-to-alls per window). A hot entity's checks then use
    /// every rank's cores. Call after [`Simulation::distribute_placed`].
    pub fn farm_prepare(&mut self)
    where
        S::Prep: Wire,
    {
        assert!(self.link.is_some(), "farming the prepare pass needs ranks");
        self.farm = Some(transport::Codec {
            put: <S::Prep as Wire>::put,
            take: <S::Prep as Wire>::take,
        });
    }

    /// Every rank's [`RankLoad`] of the run that began at `started`.
    pub(super) fn gather_loads(
        &mut self,
        events: u64,
        started: std::time::Instant,
        comm_before: f64,
    ) {
        let comm_s = self.comm_wall_s - comm_before;
        let busy_s = started.elapsed().as_secs_f64() - comm_s;
        let (rank, ranks) = self
            .link
            .as_ref()
            .map_or((0, 1), |l| (l.t.rank(), l.t.ranks()));
        let mut v = vec![0u64; 3 * ranks];
        v[3 * rank] = events;
        v[3 * rank + 1] = (busy_s.max(0.0) * 1e9) as u64;
        v[3 * rank + 2] = (comm_s * 1e9) as u64;
        if let Some(link) = &self.link {
            link.t.sum_u64s(&mut v);
        }
        self.loads = v
            .chunks(3)
            .map(|c| RankLoad {
                events: c[0],
                busy_s: c[1] as f64 / 1e9,
                comm_s: c[2] as f64 / 1e9,
            })
            .collect();
    }

    /// Events run so far over every rank, and whether any was interrupted.
    pub(super) fn agree_counts(&self, limits: &RunLimits<'_>) -> (u64, bool) {
        let interrupted = limits.interrupt.is_some_and(|f| f.load(Ordering::Relaxed));
        let local = self.shards.iter().map(|s| s.stats.events).sum();
        match &self.link {
            None => (local, interrupted),
            Some(link) => {
                let mut v = [local, interrupted as u64];
                link.t.sum_u64s(&mut v);
                (v[0], v[1] > 0)
            }
        }
    }

    /// The next round on every rank: its first window, the earliest with a
    /// pending event anywhere, and the window it ends before. A shard's
    /// messages to other shards land at least its `reach` windows
    /// after its earliest pending window, so no message sent in the round
    /// can land before the least of those over the shards with events
    /// (one window on from the first when no model declares more than
    /// the lookahead). Shards without events send nothing this round.
    pub(super) fn agree_next_round(&self) -> Option<(u64, u64)> {
        let (mut first, mut end) = (u64::MAX, u64::MAX);
        for s in &self.shards {
            if let Some(w) = s.out.calendar.next_window() {
                first = first.min(w);
                end = end.min(w.saturating_add(s.reach));
            }
        }
        if let Some(link) = &self.link {
            first = link.t.min_u64(first);
            // Every rank knows every shard's reach, so all ranks take this
            // branch alike.
            end = if self.reach_max > 1 {
                link.t.min_u64(end)
            } else {
                first.saturating_add(1)
            };
        }
        (first != u64::MAX).then_some((first, end))
    }

    /// Sends the outboxes of this rank's shards for other ranks' shards
    /// (one all-to-all), and delivers what the other ranks sent here.
    pub(super) fn exchange_remote(&mut self) {
        let Some(link) = &self.link else {
            return;
        };
        let t0 = std::time::Instant::now();
        let ranks = link.t.ranks();
        let mut send: Vec<Vec<u8>> = vec![Vec::new(); ranks];
        for shard in self.shards.iter_mut() {
            for (d, out) in shard.out.outbox.iter_mut().enumerate() {
                if !self.owned[d] {
                    for e in out.drain(..) {
                        transport::put_event(&e, link.put, &mut send[link.rank_of[d]]);
                    }
                }
            }
        }
        for bytes in link.t.all_to_all(&send) {
            let mut b = &bytes[..];
            while !b.is_empty() {
                let e = transport::take_event(&mut b, link.take);
                let d = self.partition.shard_of(e.target) as usize;
                debug_assert!(self.owned[d], "an event for another rank's shard");
                self.shards[d].receive_one(e);
            }
        }
        self.comm_wall_s += t0.elapsed().as_secs_f64();
    }

    /// One window of [`Simulation::farm_prepare`]: each of this rank's
    /// preparing shards stages window `w`'s batch and sends rank `j` the
    /// `j`-th slice; every rank prepares what it got and sends it back;
    /// each staged shard gets its results in batch order. Every rank calls
    /// this at every window (two all-to-alls, empty when there is nothing).
    pub(super) fn farm_window(&mut self, w: u64) {
        use rayon::prelude::*;
        let link = self.link.as_ref().expect("farming needs ranks");
        let farm = self.farm.as_ref().expect("farming enabled");
        let ranks = link.t.ranks();
        let mut send = vec![Vec::new(); ranks];
        let mut staged: Vec<(usize, usize)> = Vec::new();
        for (s, shard) in self.shards.iter_mut().enumerate() {
            if !self.owned[s] || !shard.model.wants_prepare() {
                continue;
            }
            if shard.out.calendar.window_len(w) < 2 {
                continue; // prepared in turn as it runs
            }
            let batch = shard.stage(w);
            let n = batch.len();
            staged.push((s, n));
            for (j, out) in send.iter_mut().enumerate() {
                let (lo, hi) = (n * j / ranks, n * (j + 1) / ranks);
                (s as u32, lo as u64, (hi - lo) as u64).put(out);
                for e in &batch[lo..hi] {
                    transport::put_event(e, link.put, out);
                }
            }
        }
        let t0 = std::time::Instant::now();
        let got = link.t.all_to_all(&send);
        let mut comm = t0.elapsed().as_secs_f64();
        let mut reply = vec![Vec::new(); ranks];
        for (from, bytes) in got.iter().enumerate() {
            let mut b = &bytes[..];
            while !b.is_empty() {
                let (s, lo, n) = <(u32, u64, u64)>::take(&mut b);
                let evs: Vec<Event<S::Msg>> = (0..n)
                    .map(|_| transport::take_event(&mut b, link.take))
                    .collect();
                let model = &self.shards[s as usize].model;
                let preps: Vec<Option<S::Prep>> = self
                    .pool
                    .install(|| evs.par_iter().map(|e| model.prepare_anywhere(e)).collect());
                let out = &mut reply[from];
                (s, lo, n).put(out);
                for p in &preps {
                    match p {
                        None => out.push(0),
                        Some(p) => {
                            out.push(1);
                            (farm.put)(p, out);
                        }
                    }
                }
            }
        }
        let t1 = std::time::Instant::now();
        let back = link.t.all_to_all(&reply);
        comm += t1.elapsed().as_secs_f64();
        let mut results: Vec<Vec<Option<S::Prep>>> =
            self.shards.iter().map(|_| Vec::new()).collect();
        for &(s, n) in &staged {
            results[s] = (0..n).map(|_| None).collect();
        }
        for bytes in &back {
            let mut b = &bytes[..];
            while !b.is_empty() {
                let (s, lo, n) = <(u32, u64, u64)>::take(&mut b);
                for i in 0..n as usize {
                    let p = (u8::take(&mut b) == 1).then(|| (farm.take)(&mut b));
                    results[s as usize][lo as usize + i] = p;
                }
            }
        }
        for (s, _) in staged {
            let r = std::mem::take(&mut results[s]);
            self.shards[s].set_prepared(r);
        }
        self.comm_wall_s += comm;
    }
}
