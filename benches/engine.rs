//! `cargo bench --bench engine`: PHOLD on the engine at 1 and 2 threads
//! against the sequential binary-heap baseline (same draws) and the simplest
//! sequential loop with a fast generator, all measured in this run.
//!
//! Prints one JSON object per line. Size with `DCCSIM_BENCH_LPS` (default
//! 200,000 logical processes, 4 events each, 3 simulated seconds).

use dccsim::models::phold::bench::bench_phold;
use dccsim::models::phold::PholdParams;

fn main() {
    let lps = std::env::var("DCCSIM_BENCH_LPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let p = PholdParams {
        lps,
        events_per_lp: 4,
        remote: 0.25,
        lookahead_s: 0.1,
        mean_s: 1.0,
        end_s: 3.0,
        window_s: None,
        undeclared: false,
    };
    let one = bench_phold(&p, 1, 64, 1, false, None);
    println!("{}", one);
    let two = bench_phold(&p, 1, 64, 2, true, None);
    println!("{}", two);
    let scaling = two["events_per_s"].as_f64().unwrap() / one["events_per_s"].as_f64().unwrap();
    println!(
        "{}",
        serde_json::json!({
            "bench": "phold_summary",
            "lps": lps,
            "ratio_vs_baseline_1_thread": one["ratio_vs_baseline"],
            "ratio_vs_fast_heap_1_thread": one["ratio_vs_fast_heap"],
            "speedup_2_threads": scaling,
            "same_digest_1_vs_2_threads": one["digest"] == two["digest"],
        })
    );
}
