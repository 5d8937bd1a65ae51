//! The same PHOLD workload on a plain sequential `std::collections::BinaryHeap`:
//! the reference point for the engine's speed and a cross-check of its results.

use super::{PholdParams, Rules};
use crate::engine::{EventKey, SimTime};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What the baseline ran.
#[derive(Clone, Debug)]
pub struct BaselineRun {
    /// Events handled.
    pub events: u64,
    /// Same digest as [`crate::engine::RunReport::digest`].
    pub digest: u64,
    /// Events left pending at the end.
    pub pending: u64,
    /// Wall seconds spent scheduling initial events.
    pub setup_wall_s: f64,
    /// Wall seconds spent running events.
    pub run_wall_s: f64,
}

/// Runs PHOLD sequentially on one binary heap ordered by event key.
pub fn run(p: &PholdParams, seed: u64) -> BaselineRun {
    let t0 = std::time::Instant::now();
    let rules = Rules::new(p, seed);
    let n = p.lps as usize;
    let mut handled = vec![0u32; n];
    let mut sent = vec![0u64; n];
    let mut heap: BinaryHeap<Reverse<EventKey>> =
        BinaryHeap::with_capacity(n * p.events_per_lp as usize);
    for lp in 0..p.lps {
        for t in rules.initial_times(lp, p.events_per_lp) {
            let seq = sent[lp as usize];
            sent[lp as usize] += 1;
            heap.push(Reverse(EventKey {
                time_ns: t.0,
                target: lp,
                src: lp,
                seq,
            }));
        }
    }
    let setup_wall_s = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let end = SimTime::from_secs_f64(p.end_s).0;
    let mut events = 0u64;
    let mut digest = 0u64;
    while let Some(&Reverse(k)) = heap.peek() {
        if k.time_ns >= end {
            break;
        }
        heap.pop();
        events += 1;
        digest = digest.wrapping_add(k.hash64());
        let lp = k.target;
        let h = handled[lp as usize];
        handled[lp as usize] = h + 1;
        let (delay, target) = rules.next(lp, h);
        let seq = sent[lp as usize];
        sent[lp as usize] += 1;
        heap.push(Reverse(EventKey {
            time_ns: k.time_ns + delay,
            target,
            src: lp,
            seq,
        }));
    }
    BaselineRun {
        events,
        digest,
        pending: heap.len() as u64,
        setup_wall_s,
        run_wall_s: t1.elapsed().as_secs_f64(),
    }
}

/// What the fast-generator heap ran.
#[derive(Clone, Debug)]
pub struct FastHeapRun {
    /// Events handled (stopped at the engine's count, or the end time).
    pub events: u64,
    /// Wall seconds spent running events.
    pub run_wall_s: f64,
}

/// SplitMix64 (Steele, Lea and Flood 2014): one add and three multiply-xor
/// steps per draw, the cheapest well-mixed generator there is.
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The simplest sequential simulator of the same workload: one binary heap
/// of `(time, target)` and one SplitMix64 generator for every draw. It makes
/// the same kind of decisions as the engine's model but not the same draws,
/// so it stops after `events` events (the engine's count) to time the same
/// amount of work; it is the floor any engine must beat, not a cross-check.
pub fn run_fast(p: &PholdParams, seed: u64, events: u64) -> FastHeapRun {
    let mut rng = SplitMix64(seed);
    let (la, mean, lps) = (p.lookahead_ns(), p.exp_mean_ns(), p.lps);
    let thr = p.remote_threshold();
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> =
        BinaryHeap::with_capacity(lps as usize * p.events_per_lp as usize);
    for lp in 0..lps {
        for _ in 0..p.events_per_lp {
            let t = la + crate::engine::rng::exp_ns(rng.next(), mean);
            heap.push(Reverse((t, lp)));
        }
    }
    let end = SimTime::from_secs_f64(p.end_s).0;
    let t1 = std::time::Instant::now();
    let mut n = 0u64;
    while n < events {
        let Some(Reverse((t, lp))) = heap.pop() else {
            break;
        };
        if t >= end {
            break;
        }
        n += 1;
        let (a, b) = (rng.next(), rng.next());
        let delay = la + crate::engine::rng::exp_ns(a, mean);
        let target = if (b >> 32) < thr {
            crate::engine::rng::below_u32(b as u32, lps)
        } else {
            lp
        };
        heap.push(Reverse((t + delay, target)));
    }
    FastHeapRun {
        events: n,
        run_wall_s: t1.elapsed().as_secs_f64(),
    }
}
