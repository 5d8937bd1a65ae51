//! `dccsim bench phold`: the engine against a sequential binary heap running
//! the same events (same draws, same digest), and against the simplest
//! sequential loop with a fast generator (the floor to beat).

use crate::models::phold::{self, baseline, PholdParams};
use serde_json::json;

/// `dccsim bench phold`: runs and prints the report. Over MPI every rank
/// runs its shards and rank 0 prints (the baselines run only without MPI).
pub fn print(p: &PholdParams, seed: u64, shards: u32, threads: usize, no_baseline: bool) {
    let ranks = crate::workflow::mpi::ranks();
    let root = ranks.as_ref().is_none_or(|t| t.rank() == 0);
    let skip = no_baseline || ranks.is_some();
    let v = bench_phold(p, seed, shards, threads, skip, ranks);
    if root {
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    }
}

/// Runs the engine (and, unless `skip_baseline`, the heap baseline) and
/// returns the JSON report.
pub fn bench_phold(
    p: &PholdParams,
    seed: u64,
    shards: u32,
    threads: usize,
    skip_baseline: bool,
    ranks: Option<Box<dyn crate::engine::transport::Transport>>,
) -> serde_json::Value {
    let n_ranks = ranks.as_ref().map_or(1, |t| t.ranks());
    let eng = phold::run_on(p, seed, shards, threads, u64::MAX, None, ranks, |_| {});
    let eps = eng.report.events as f64 / eng.run_wall_s.max(1e-9);
    let mut out = json!({
        "bench": "phold",
        "lps": p.lps,
        "events_per_lp": p.events_per_lp,
        "remote": p.remote,
        "lookahead_s": p.lookahead_s,
        "mean_s": p.mean_s,
        "end_s": p.end_s,
        "seed": seed,
        "shards": shards,
        "threads": threads,
        "ranks": n_ranks,
        "comm_wall_s": eng.comm_wall_s,
        "comm_us_per_window": eng.comm_wall_s * 1e6 / eng.report.windows.max(1) as f64,
        "rank_events": eng.rank_loads.iter().map(|l| l.events).collect::<Vec<_>>(),
        "rank_busy_s": eng.rank_loads.iter().map(|l| l.busy_s).collect::<Vec<_>>(),
        "load_imbalance": crate::engine::RankLoad::imbalance(&eng.rank_loads),
        "events": eng.report.events,
        "windows": eng.report.windows,
        "pending_at_end": eng.report.pending,
        "digest": format!("{:016x}", eng.report.digest),
        "setup_wall_s": eng.setup_wall_s,
        "wall_s": eng.run_wall_s,
        "events_per_s": eps,
        "queue_bytes_at_end": eng.queue_bytes,
        "peak_rss_bytes_so_far": crate::workflow::perf::peak_rss_bytes(),
    });
    if !skip_baseline {
        let base = baseline::run(p, seed);
        let beps = base.events as f64 / base.run_wall_s.max(1e-9);
        let o = out.as_object_mut().expect("object");
        o.insert("baseline_events".into(), json!(base.events));
        o.insert(
            "baseline_digest".into(),
            json!(format!("{:016x}", base.digest)),
        );
        o.insert("baseline_wall_s".into(), json!(base.run_wall_s));
        o.insert("baseline_events_per_s".into(), json!(beps));
        o.insert("ratio_vs_baseline".into(), json!(eps / beps));
        o.insert(
            "matches_baseline".into(),
            json!(base.events == eng.report.events && base.digest == eng.report.digest),
        );
        // The floor: the simplest sequential simulator with a fast generator,
        // timed over the same number of events.
        let fast = baseline::run_fast(p, seed, eng.report.events);
        let feps = fast.events as f64 / fast.run_wall_s.max(1e-9);
        o.insert("fast_heap_events".into(), json!(fast.events));
        o.insert("fast_heap_events_per_s".into(), json!(feps));
        o.insert("ratio_vs_fast_heap".into(), json!(eps / feps));
    }
    out
}
