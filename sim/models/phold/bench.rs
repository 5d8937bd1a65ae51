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
    let alone = ranks.is_none();
    let eng = phold::run_on(p, seed, shards, threads, u64::MAX, None, ranks, |_| {});
    // A short run is timed again (in one process), and the median taken:
    // a tenth of a second is at the mercy of a shared machine. The engine
    // and the baselines take turns, so that they meet the same conditions.
    let reps = if alone {
        ((MIN_TIMED_S / eng.run_wall_s.max(1e-6)).ceil() as usize).clamp(1, MAX_REPS)
    } else {
        1
    };
    let (mut walls, mut base_walls, mut fast_walls) = (vec![eng.run_wall_s], vec![], vec![]);
    let (mut base, mut fast_events) = (None, 0);
    for i in 0..reps {
        if i > 0 {
            let again = phold::run(p, seed, shards, threads, None);
            assert_eq!(
                (again.report.events, again.report.digest),
                (eng.report.events, eng.report.digest),
                "a repeated run differs"
            );
            walls.push(again.run_wall_s);
        }
        if !skip_baseline {
            let b = baseline::run(p, seed);
            base_walls.push(b.run_wall_s);
            base = Some(b);
            let f = baseline::run_fast(p, seed, eng.report.events);
            fast_walls.push(f.run_wall_s);
            fast_events = f.events;
        }
    }
    let eps = eng.report.events as f64 / median(&mut walls).max(1e-9);
    let mut out = json!({
        "bench": "phold",
        "lps": p.lps,
        "events_per_lp": p.events_per_lp,
        "remote": p.remote,
        "lookahead_s": p.lookahead_s,
        "mean_s": p.mean_s,
        "end_s": p.end_s,
        "window_s": p.window_ns() as f64 / 1e9,
        "undeclared": p.undeclared,
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
        "timed_runs": reps,
        "events_per_s": eps,
        "queue_bytes_at_end": eng.queue_bytes,
        "peak_rss_bytes_so_far": crate::workflow::perf::peak_rss_bytes(),
    });
    if let Some(base) = base {
        let beps = base.events as f64 / median(&mut base_walls).max(1e-9);
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
        let feps = fast_events as f64 / median(&mut fast_walls).max(1e-9);
        o.insert("fast_heap_events".into(), json!(fast_events));
        o.insert("fast_heap_events_per_s".into(), json!(feps));
        o.insert("ratio_vs_fast_heap".into(), json!(eps / feps));
    }
    out
}

/// Runs shorter than this are timed again, up to [`MAX_REPS`] runs in all
/// (the engine, the heap baseline and the fast heap alike), and each
/// figure is the median of its runs (`timed_runs`).
const MIN_TIMED_S: f64 = 1.0;
/// The most timed runs of each.
const MAX_REPS: usize = 9;

/// The median of `v` (the upper one of an even count).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
