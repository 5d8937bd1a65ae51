//! Running the system model and writing its results.

use super::model::{KindStats, Msg, SystemShard, HOPS, OUTCOMES};
use super::params::SystemScenario;
use super::world::{ReqKind, World, REGIONS};
use crate::crypto::mode::CryptoCounters;
use crate::crypto::registry::KeyRegistry;
use crate::engine::{EngineConfig, Progress, RunLimits, RunReport, SimTime, Simulation};
use serde_json::{json, Map, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Everything a system run produced, ready to write.
pub struct SystemRun {
    /// The engine's report.
    pub report: RunReport,
    /// `summary.json`.
    pub summary: Value,
    /// `(file name, contents)` of the `.hgrm` histograms.
    pub histograms: Vec<(String, String)>,
    /// `timeseries.csv`.
    pub timeseries: String,
    /// Wall seconds of setup and of the run.
    pub wall_s: (f64, f64),
}

/// Runs the system model.
pub fn run(
    sc: &SystemScenario,
    seed: u64,
    shards: u32,
    threads: usize,
    max_events: u64,
    interrupt: Option<&AtomicBool>,
    observe: impl FnMut(&Progress),
) -> SystemRun {
    let t0 = std::time::Instant::now();
    let world = Arc::new(World::new(sc.clone(), seed));
    let keys = Arc::new(KeyRegistry::new());
    for (k, _) in &world.user_command_keys {
        keys.intern(&k.public().to_uncompressed())
            .expect("valid key");
    }
    let cfg = EngineConfig {
        entities: world.entities,
        shards: shards.min(world.entities),
        lookahead_ns: sc.parameters.lookahead_ns(),
        threads,
        ring_windows: 4096,
    };
    let w2 = world.clone();
    let mut sim = Simulation::new(cfg, |s, part| {
        SystemShard::new(w2.clone(), keys.clone(), s, part)
    });
    for u in 0..world.users {
        for &k in SystemShard::streams_of(&world, u) {
            sim.schedule(u, SimTime(1), Msg::Generate(k));
        }
    }
    for r in 0..3 {
        sim.schedule(world.csp0 + r, SimTime(1), Msg::AlertTick);
    }
    let setup_s = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let end = SimTime::from_secs_f64(sc.run.end_h * 3600.0);
    let report = sim.run_observed(
        &RunLimits {
            end,
            max_events,
            interrupt,
        },
        observe,
    );
    let run_s = t1.elapsed().as_secs_f64();

    // Gather, in shard order (deterministic).
    let mut kinds: Vec<KindStats> = vec![KindStats::default(); ReqKind::ALL.len()];
    let mut crypto = CryptoCounters::default();
    let mut stations = Map::new();
    let mut series: Vec<(String, Vec<u64>, Vec<u64>)> = Vec::new();
    let end_reached = report.reached;
    let gathered = sim.map_shards(|_, m| {
        let mut ks: Vec<KindStats> = vec![KindStats::default(); ReqKind::ALL.len()];
        for per_entity in &m.stats {
            for (i, s) in per_entity.iter().enumerate() {
                merge(&mut ks[i], s);
            }
        }
        let mut st = Vec::new();
        if let Some(d) = m.dsp.as_mut() {
            st.push((
                "dsp".to_string(),
                d.utilisation(end_reached),
                d.stats_at(end_reached).queue_len_max,
                m.series[0].clone(),
            ));
        }
        for (r, region) in REGIONS.iter().enumerate() {
            if let Some(c) = m.csp[r].as_mut() {
                st.push((
                    format!("csp_{region}"),
                    c.utilisation(end_reached),
                    c.stats_at(end_reached).queue_len_max,
                    m.series[1 + r].clone(),
                ));
            }
        }
        (ks, m.crypto, st)
    });
    for (ks, c, st) in gathered {
        for (i, s) in ks.iter().enumerate() {
            merge(&mut kinds[i], s);
        }
        crypto.add(&c);
        for (name, util, qmax, s) in st {
            stations.insert(
                name.clone(),
                json!({"utilisation": util, "queue_len_max": qmax}),
            );
            series.push((name, s.arrivals, s.queue_max));
        }
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));

    let mut requests = Map::new();
    let mut histograms = Vec::new();
    for (i, k) in ReqKind::ALL.iter().enumerate() {
        let s = &kinds[i];
        let mut outcomes = Map::new();
        for (j, o) in OUTCOMES.iter().enumerate() {
            outcomes.insert(o.to_string(), json!(s.outcomes[j]));
        }
        let e = &s.end_to_end;
        let sent = if *k == ReqKind::Alert {
            s.outcomes.iter().sum()
        } else {
            s.sent
        };
        requests.insert(
            k.as_str().to_string(),
            json!({
                "sent": sent,
                "completed": s.outcomes.iter().sum::<u64>(),
                "outcomes": outcomes,
                "latency_ms_p50": e.quantile_ms(0.5),
                "latency_ms_p99": e.quantile_ms(0.99),
                "latency_ms_p999": e.quantile_ms(0.999),
                "latency_ms_mean": e.mean_ms(),
            }),
        );
        histograms.push((format!("latency_{}.hgrm", k.as_str()), e.to_hgrm()));
        if *k != ReqKind::Alert {
            for (h, name) in s.hops.iter().zip(HOPS) {
                histograms.push((format!("latency_{}_{}.hgrm", k.as_str(), name), h.to_hgrm()));
            }
        }
    }
    let summary = json!({
        "model": "system",
        "meters": sc.fleet.meters,
        "crypto_mode": sc.crypto.mode,
        "stop_reason": report.stop.as_str(),
        "simulated_time_reached_s": report.reached.as_secs_f64(),
        "events": report.events,
        "events_digest": format!("{:016x}", report.digest),
        "requests": requests,
        "components": stations,
        "crypto_checked": crypto.checked,
        "crypto_decided_by_ground_truth": crypto.by_ground_truth,
        "crypto_ground_truth_mismatches": crypto.ground_truth_mismatches,
    });
    let mut ts = String::from("time_min,component,metric,value\n");
    for (name, arrivals, qmax) in &series {
        for (m, (a, q)) in arrivals.iter().zip(qmax).enumerate() {
            ts.push_str(&format!(
                "{m},{name},arrivals,{a}\n{m},{name},queue_len_max,{q}\n"
            ));
        }
    }
    SystemRun {
        report,
        summary,
        histograms,
        timeseries: ts,
        wall_s: (setup_s, run_s),
    }
}

fn merge(into: &mut KindStats, s: &KindStats) {
    into.sent += s.sent;
    for (a, b) in into.outcomes.iter_mut().zip(&s.outcomes) {
        *a += b;
    }
    into.end_to_end.merge(&s.end_to_end);
    for (a, b) in into.hops.iter_mut().zip(&s.hops) {
        a.merge(b);
    }
}
