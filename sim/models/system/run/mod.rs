//! Running the system model, in named steps: build the world and the
//! engine, schedule the first events, run, gather the shards' figures,
//! couple the grid, run the independent checker, and write the files.

pub mod gather;
mod grid;
mod summary;

use self::gather::ShardTotals;
use self::grid::couple_grid;
use super::attack::AttackSpec;
use super::checker::{check, CheckerReport};
use super::msg::{Msg, RecoveryStep};
use super::params::SystemScenario;
use super::parties::suppliers::Supplier;
use super::parties::users::streams_of;
use super::shard::SystemShard;
use super::timeline::dense;
use super::world::ReqKind;
use super::world::World;
use crate::crypto::mode::CryptoMode;
use crate::crypto::registry::KeyRegistry;
use crate::engine::transport::{placement, Transport, Wire};
use crate::engine::{EngineConfig, Progress, RankLoad, RunLimits, RunReport, SimTime, Simulation};
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
    /// Every rank's events and wall times (one entry in one process).
    pub rank_loads: Vec<RankLoad>,
}

/// Step 1: the cast, the shared key registry, and the engine with its shards.
fn build(
    sc: &SystemScenario,
    seed: u64,
    shards: u32,
    threads: usize,
    (ranks, farm): (Option<Box<dyn Transport>>, bool),
) -> (Arc<World>, Simulation<SystemShard>) {
    let world = Arc::new(World::new(sc.clone(), seed));
    let keys = Arc::new(KeyRegistry::new());
    // Users' command keys with the X.509 certificates the meters' supplier
    // cells hold; the recovery and manufacturer keys and the other anchors
    // of commissioning (built into devices).
    for (pair, certs) in world.user_command_keys.iter().zip(&world.command_certs) {
        for ((k, _), cert) in pair.iter().zip(certs) {
            keys.intern_cert(&k.public().to_uncompressed(), cert)
                .expect("valid key");
        }
    }
    let anchors = world.commissioned.keys.iter();
    for k in [&world.recovery.0, &world.manufacturer]
        .into_iter()
        .chain(anchors)
    {
        keys.intern(&k.public().to_uncompressed())
            .expect("valid key");
    }
    let cfg = EngineConfig {
        entities: world.entities,
        shards: shards.min(world.entities),
        lookahead_ns: sc.window_ns(),
        threads,
        ring_windows: 4096,
    };
    // Shards go to ranks by their expected work; a shard another rank
    // runs is built empty (no meter state).
    let (rank, n_ranks) = ranks.as_ref().map_or((0, 1), |t| (t.rank(), t.ranks()));
    // Asked to, with several ranks and cryptography on, the DSP's checks
    // are spread over every rank (farm_prepare below): only its own
    // handling stays on its rank.
    let farmed = farm && n_ranks > 1 && sc.crypto.mode != CryptoMode::Modeled;
    let rank_of = placement(&shard_weights(&world, cfg.shards, farmed), n_ranks);
    let w2 = world.clone();
    let mut sim = Simulation::new(cfg, |s, part| {
        let here = rank_of[s as usize] == rank;
        SystemShard::new(w2.clone(), keys.clone(), s, part, here)
    });
    if let Some(t) = ranks {
        sim.distribute_placed(t, rank_of);
        if farmed {
            // The DSP's signature checks use every rank's cores.
            sim.farm_prepare();
        }
    }
    (world, sim)
}

/// The DSP's share of a run's work, in meters' worth of work per meter
/// of the fleet, with no cryptography run (`modeled`) and with all of it
/// (`full`): measured on this project's 2-core machine with
/// `mpirun -np 2 dccsim run --set fleet.meters=200000 --threads 1` (the
/// default scenario), from the two ranks' busy times in `perf.json`
/// (`benches/README.md`). They only place shards on ranks (see
/// [`shard_weights`]); no result depends on them.
const DSP_WORK_MODELED: f64 = 0.25;
const DSP_WORK_FULL: f64 = 1.2;

/// Each shard's expected work, for placing shards on MPI ranks: a meter
/// counts 100, and the DSP (which checks every request and response, with
/// the CSPs beside it) counts its measured share of the whole fleet's
/// work (with its checks farmed out to every rank, only its modeled
/// share). Other entities are light and count as one meter.
fn shard_weights(w: &World, shards: u32, farmed: bool) -> Vec<u64> {
    let f = match w.sc.crypto.mode {
        _ if farmed => 0.0,
        CryptoMode::Modeled => 0.0,
        CryptoMode::Sampled => w.sc.crypto.sample_fraction,
        CryptoMode::Full => 1.0,
    };
    let dsp = DSP_WORK_MODELED + f * (DSP_WORK_FULL - DSP_WORK_MODELED);
    let mut weights = vec![0u64; shards as usize];
    for e in 0..w.entities {
        let units = if e == w.dsp {
            (dsp * w.meters as f64 * 100.0) as u64
        } else {
            100
        };
        weights[(e % shards) as usize] += units;
    }
    weights
}

/// Step 2: every user's request streams, the CSPs' alert streams, and the attack.
fn schedule_initial(world: &World, sim: &mut Simulation<SystemShard>) {
    for u in 0..world.users {
        for &k in streams_of(world, u) {
            sim.schedule(u, SimTime(1), Msg::Generate(k));
        }
    }
    // Each supplier's first change of supplier gained and first meter
    // installed (see `registration.rs`).
    for u in 0..world.suppliers {
        let (gain, install) = Supplier::new(world, u).first_dates();
        for (at, kind) in [
            (gain, ReqKind::ChangeOfSupplier),
            (install, ReqKind::Installation),
        ] {
            if let Some(at) = at {
                sim.schedule(u, SimTime(at.max(1)), Msg::Generate(kind));
            }
        }
    }
    for r in 0..3 {
        sim.schedule(world.csp0 + r, SimTime(1), Msg::AlertTick);
    }
    if crate::models::system::parties::dsp::scheduled::any(world) {
        sim.schedule(world.dsp, SimTime(1), Msg::Generate(ReqKind::DccScheduled));
    }
    if let Some(r) = &world.sc.acb_rekey {
        let at = world.ns_at_clock_h(r.start_h).max(1);
        sim.schedule(world.dsp, SimTime(at), Msg::Generate(ReqKind::Recovery));
    }
    if world.sc.parameters.soc.benign_events_per_day > 0.0 {
        sim.schedule(world.soc, SimTime(1), Msg::BenignTick);
    }
    let soc = &world.sc.parameters.soc;
    if soc.analysts != soc.night_analysts {
        sim.schedule(world.soc, SimTime(1), Msg::SocShift);
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
            AttackSpec::CspTamper(_)
            | AttackSpec::DspOutage(_)
            | AttackSpec::SocOutage(_)
            | AttackSpec::CspOutage(_)
            | AttackSpec::UserOutage(_) => {}
        }
    }
}

/// Step 4: every shard's figures, in shard order. Over several ranks,
/// each rank encodes its own shards' figures and rank 0 gathers them; the
/// others get `None`.
fn gather(sim: &mut Simulation<SystemShard>, end: SimTime) -> Option<ShardTotals> {
    let owned: Vec<bool> = (0..sim.partition().shards)
        .map(|s| sim.owns_shard(s))
        .collect();
    let mut mine: Vec<(u32, ShardTotals)> = sim
        .map_shards(|s, m| owned[s as usize].then(|| (s, ShardTotals::of_shard(m, end))))
        .into_iter()
        .flatten()
        .collect();
    if let Some(t) = sim.transport() {
        let mut send = vec![Vec::new(); t.ranks()];
        if t.rank() != 0 {
            mine.put(&mut send[0]);
        }
        let got = t.all_to_all(&send);
        if t.rank() != 0 {
            return None;
        }
        for bytes in got.iter().filter(|b| !b.is_empty()) {
            mine.extend(Vec::<(u32, ShardTotals)>::take(&mut &bytes[..]));
        }
        mine.sort_by_key(|(s, _)| *s);
    }
    let mut totals = ShardTotals::empty();
    for (_, t) in mine {
        totals.absorb(t);
    }
    totals.stations.sort_by(|a, b| a.name.cmp(&b.name));
    Some(totals)
}

/// Work still in flight at the end: the jobs pending events carry (the
/// stations' queues were counted by their shards), summed over the ranks.
/// Per request kind, then the tampering CSP's copies.
fn pending_jobs(sim: &mut Simulation<SystemShard>) -> Vec<u64> {
    let mut n = vec![0u64; ReqKind::ALL.len() + 1];
    for e in sim.drain_pending() {
        if let Some(job) = e.msg.job() {
            // A tampering CSP's copy is counted apart, never as a request.
            let i = if job.duplicate {
                ReqKind::ALL.len()
            } else {
                job.kind as usize
            };
            n[i] += 1;
        }
    }
    if let Some(t) = sim.transport() {
        t.sum_u64s(&mut n);
    }
    n
}

/// Runs the system model.
pub fn run(
    sc: &SystemScenario,
    seed: u64,
    shards: u32,
    threads: usize,
    max_events: u64,
    interrupt: Option<&AtomicBool>,
    observe: impl FnMut(&Progress) + Send,
) -> SystemRun {
    run_on(
        sc,
        seed,
        shards,
        threads,
        max_events,
        interrupt,
        (None, false),
        observe,
    )
    .1
    .expect("one process is rank 0")
}

/// Runs the system model over the ranks of `ranks` (see
/// [`crate::engine::transport`]): every rank builds the same world from the
/// seed and runs its own shards; rank 0 gathers the figures and gets the
/// results, identical to one process's; the other ranks get only the
/// engine's report (which every rank shares). With `farm`, the DSP's
/// checks are spread over the ranks ([`Simulation::farm_prepare`]).
#[allow(clippy::too_many_arguments)]
pub fn run_on(
    sc: &SystemScenario,
    seed: u64,
    shards: u32,
    threads: usize,
    max_events: u64,
    interrupt: Option<&AtomicBool>,
    (ranks, farm): (Option<Box<dyn Transport>>, bool),
    observe: impl FnMut(&Progress) + Send,
) -> (RunReport, Option<SystemRun>) {
    let t0 = Instant::now();
    let (world, mut sim) = build(sc, seed, shards, threads, (ranks, farm));
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

    let pending = pending_jobs(&mut sim);
    let Some(mut totals) = gather(&mut sim, report.reached) else {
        return (report, None);
    };
    for (a, b) in totals.in_flight.iter_mut().zip(&pending) {
        *a += b;
    }
    totals.duplicates_in_flight += pending[ReqKind::ALL.len()];

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
    let run = SystemRun {
        rank_loads: sim.rank_loads().to_vec(),
        report: report.clone(),
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
    };
    (report, Some(run))
}
