//! Running the system model, in named steps: build the world and the
//! engine, schedule the first events, run, gather the shards' figures,
//! couple the grid, run the independent checker, and write the files.

mod gather;
mod grid;
mod summary;

use self::gather::ShardTotals;
use self::grid::couple_grid;
use super::attack::AttackSpec;
use super::checker::{check, CheckerReport};
use super::msg::{Msg, RecoveryStep};
use super::params::SystemScenario;
use super::parties::users::streams_of;
use super::shard::SystemShard;
use super::timeline::dense;
use super::world::World;
use crate::crypto::mode::CryptoMode;
use crate::crypto::registry::KeyRegistry;
use crate::engine::{EngineConfig, Progress, RunLimits, RunReport, SimTime, Simulation};
use serde_json::Value;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

/// Everything a system run produced, ready to write.
pub struct SystemRun {
    /// The engine's report.
    pub report: RunReport,
    /// `summary.json`.
    pub summary: Value,
    /// `(file name, contents)` of the `.hgrm` histograms.
    pub histograms: Vec<(String, String)>,
    /// `timeseries.csv` (per minute, tidy).
    pub timeseries: String,
    /// `timeline.csv` (per second, wide).
    pub timeline: String,
    /// Wall seconds of setup, of the run, of the checker, and of everything after the run.
    pub wall_s: (f64, f64, f64, f64),
}

/// Step 1: the cast, the shared key registry, and the engine with its shards.
fn build(
    sc: &SystemScenario,
    seed: u64,
    shards: u32,
    threads: usize,
) -> (Arc<World>, Simulation<SystemShard>) {
    let world = Arc::new(World::new(sc.clone(), seed));
    let keys = Arc::new(KeyRegistry::new());
    // Users' command keys with the X.509 certificates the meters' supplier
    // cells hold; the recovery and manufacturer keys (built into devices).
    for (pair, certs) in world.user_command_keys.iter().zip(&world.command_certs) {
        for ((k, _), cert) in pair.iter().zip(certs) {
            keys.intern_cert(&k.public().to_uncompressed(), cert)
                .expect("valid key");
        }
    }
    for k in [&world.recovery.0, &world.manufacturer] {
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
    let sim = Simulation::new(cfg, |s, part| {
        SystemShard::new(w2.clone(), keys.clone(), s, part)
    });
    (world, sim)
}

/// Step 2: every user's request streams, the CSPs' alert streams, and the attack.
fn schedule_initial(world: &World, sim: &mut Simulation<SystemShard>) {
    for u in 0..world.users {
        for &k in streams_of(world, u) {
            sim.schedule(u, SimTime(1), Msg::Generate(k));
        }
    }
    for r in 0..3 {
        sim.schedule(world.csp0 + r, SimTime(1), Msg::AlertTick);
    }
    // The emergency-fix campaign of a declared vulnerability, per supplier.
    for s in 0..world.suppliers {
        if let Some((start, _)) = world.fix_campaign(s) {
            sim.schedule(s, SimTime(start), Msg::Recover(RecoveryStep::FixNext));
        }
    }
    for (i, a) in world.attacks.iter().enumerate() {
        let t = SimTime(world.attack_start_ns(i));
        let tick = Msg::AttackTick(i as u8);
        match a {
            AttackSpec::Disconnect(_) | AttackSpec::Firmware(_) | AttackSpec::Flood(_) => {
                sim.schedule(world.attacker, t, tick)
            }
            AttackSpec::Replay(_) => {
                for r in 0..3 {
                    sim.schedule(world.csp0 + r, t, tick.clone());
                }
            }
            AttackSpec::AlertStorm(s) => sim.schedule(world.csp0 + s.region, t, tick),
            // Faults the CSP and the DSP read from the world as they work.
            AttackSpec::CspTamper(_) | AttackSpec::DspOutage(_) | AttackSpec::SocOutage(_) => {}
        }
    }
}

/// Step 4: every shard's figures, in shard order.
fn gather(sim: &mut Simulation<SystemShard>, end: SimTime) -> ShardTotals {
    let mut totals = ShardTotals::empty();
    for t in sim.map_shards(|_, m| ShardTotals::of_shard(m, end)) {
        totals.absorb(t);
    }
    totals.stations.sort_by(|a, b| a.name.cmp(&b.name));
    totals
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
    let t0 = Instant::now();
    let (world, mut sim) = build(sc, seed, shards, threads);
    schedule_initial(&world, &mut sim);
    let setup_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let end = SimTime::from_secs_f64((sc.run.end_h - sc.run.start_h) * 3600.0);
    let limits = RunLimits {
        end,
        max_events,
        interrupt,
    };
    let report = sim.run_observed(&limits, observe);
    let run_s = t1.elapsed().as_secs_f64();

    let mut totals = gather(&mut sim, report.reached);
    // Work still in flight: the jobs pending events carry (the stations'
    // queues were counted by their shards).
    for e in sim.drain_pending() {
        if let Some(job) = e.msg.job() {
            if job.duplicate {
                // A tampering CSP's copy: counted apart, never as a request.
                totals.duplicates_in_flight += 1;
            } else {
                totals.in_flight[job.kind as usize] += 1;
            }
        }
    }

    let t2 = Instant::now();
    let checker: Option<CheckerReport> = (sc.crypto.mode != CryptoMode::Modeled).then(|| {
        let trace = std::mem::take(&mut totals.trace);
        sim.install(|| check(&world, trace))
    });
    let checker_s = t2.elapsed().as_secs_f64();

    let seconds = (report.reached.0.div_ceil(1_000_000_000) as usize).max(1);
    let rows = dense(&totals.timelines, seconds);
    let grid = couple_grid(&world, &rows);
    let files = summary::write(&world, &report, &totals, &rows, &grid, checker.as_ref());
    SystemRun {
        report,
        summary: files.summary,
        histograms: files.histograms,
        timeseries: files.timeseries,
        timeline: files.timeline,
        wall_s: (
            setup_s,
            run_s,
            checker_s,
            t1.elapsed().as_secs_f64() - run_s,
        ),
    }
}
