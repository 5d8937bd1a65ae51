//! Helpers shared by the scenario test files (`attacks.rs`,
//! `operations.rs`): running a scenario file with overrides, reading its
//! summary, and the invariants every run must keep.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}

/// Runs a scenario file with overrides and returns its summary.
pub fn run(name: &str, sets: &[&str]) -> Value {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let l = dccsim::workflow::scenario::load(Some(&scenario(name)), &sets, None)
        .unwrap_or_else(|e| panic!("{e}"));
    l.scenario.run_system(2).expect("system scenario").summary
}

pub fn n(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_u64().map(|x| x as i64))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The invariants every attack run must keep.
pub fn sound(s: &Value) {
    assert_eq!(n(&s["checker_violations"]), 0, "{}", s["checker"]);
    assert_eq!(n(&s["crypto_ground_truth_mismatches"]), 0);
}

/// The supplier restores every meter the DSP logged a disable for under
/// its identity: those executed, those still waiting at a gas meter's hub
/// for the meter's next contact (in flight at the end), and those a gas
/// meter refused at its wake because a later command of the same
/// originator had overtaken them there (a replay).
pub fn restorations_cover_the_disables(s: &Value) {
    let executed = n(&s["attack"]["executed"]);
    let a = &s["requests"]["attack"];
    let waiting = n(&a["in_flight"]);
    let refused = n(&a["outcomes"]["replay"]) + n(&a["outcomes"]["meter_refused"]);
    let sent = n(&s["restorations_sent"]);
    assert!(
        executed <= sent && sent <= executed + waiting + refused,
        "restorations {sent}, executed {executed}, in flight {waiting}, refused {refused}"
    );
}

/// A request kind's 99th-percentile latency, milliseconds.
pub fn p99_ms(s: &Value, kind: &str) -> f64 {
    s["requests"][kind]["latency_ms_p99"].as_f64().unwrap()
}

pub fn refused(s: &Value, reason: &str) -> i64 {
    n(&s["meter_refusals"][reason])
}

pub const SMALL: &str = "fleet.meters=10000";

/// The per-second `timeline.csv` column `col` between clock seconds `[a, b)`.
pub fn timeline_sum(timeline: &str, col: &str, a: f64, b: f64) -> i64 {
    let mut lines = timeline.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = head.iter().position(|h| *h == col).unwrap();
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| (a..b).contains(&f[0].parse::<f64>().unwrap()))
        .map(|f| f[i].parse::<i64>().unwrap())
        .sum()
}

pub fn run_full(name: &str, sets: &[&str]) -> dccsim::models::system::run::SystemRun {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let l = dccsim::workflow::scenario::load(Some(&scenario(name)), &sets, None)
        .unwrap_or_else(|e| panic!("{e}"));
    l.scenario.run_system(2).expect("system scenario")
}
