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
