//! Running the system model and writing its results.

use super::attack::AttackKind;
use super::checker::{check, CheckerReport};
use super::model::{KindStats, Msg, SystemShard, HOPS, OUTCOMES, REFUSALS};
use super::params::SystemScenario;
use super::timeline::{dense, Col, Timeline, COLUMNS};
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
    /// `timeseries.csv` (per minute, tidy).
    pub timeseries: String,
    /// `timeline.csv` (per second, wide).
    pub timeline: String,
    /// Wall seconds of setup, of the run, of the checker, and of everything after the run.
    pub wall_s: (f64, f64, f64, f64),
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
    for pair in &world.user_command_keys {
        for (k, _) in pair {
            keys.intern(&k.public().to_uncompressed())
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
    let attack_start = world.attack_start_ns().map(SimTime);
    if let (Some(a), Some(t)) = (&world.attack, attack_start) {
        match a.kind {
            AttackKind::Disconnect | AttackKind::Firmware | AttackKind::Flood => {
                sim.schedule(world.attacker, t, Msg::AttackTick)
            }
            AttackKind::Replay => {
                for r in 0..3 {
                    sim.schedule(world.csp0 + r, t, Msg::AttackTick);
                }
            }
            AttackKind::AlertStorm => sim.schedule(world.csp0 + a.region, t, Msg::AttackTick),
            AttackKind::CspTamper | AttackKind::DspOutage => {}
        }
    }
    let setup_s = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let end = SimTime::from_secs_f64((sc.run.end_h - sc.run.start_h) * 3600.0);
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
    let mut timelines: Vec<Timeline> = Vec::new();
    let mut trace = Vec::new();
    let mut refusals = [0u64; REFUSALS.len()];
    let mut soc_info = None;
    let mut contained_at: Vec<Option<u64>> = vec![None; world.users as usize];
    let mut restores = 0u64;
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
        let mut soc = None;
        if let Some(s) = m.soc.as_mut() {
            st.push((
                "soc".to_string(),
                s.analysts.utilisation(end_reached),
                s.analysts.stats_at(end_reached).queue_len_max,
                m.series[4].clone(),
            ));
            soc = Some((
                s.logged,
                s.operational,
                s.escalated.clone(),
                s.first_escalation,
            ));
        }
        let dsp_contained = m.dsp.is_some().then(|| m.dsp_ops.contained_at.clone());
        let restores: u64 = m.suppliers.iter().map(|s| s.restores as u64).sum();
        (
            ks,
            m.crypto,
            st,
            std::mem::take(&mut m.timeline),
            std::mem::take(&mut m.trace),
            m.refusals,
            soc,
            dsp_contained,
            restores,
        )
    });
    for (ks, c, st, tl, tr, rf, soc, dc, rs) in gathered {
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
        timelines.push(tl);
        trace.extend(tr);
        for (a, b) in refusals.iter_mut().zip(rf) {
            *a += b;
        }
        if soc.is_some() {
            soc_info = soc;
        }
        if let Some(dc) = dc {
            contained_at = dc;
        }
        restores += rs;
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));

    let t2 = std::time::Instant::now();
    let checker = if sc.crypto.mode == crate::crypto::mode::CryptoMode::Modeled {
        None
    } else {
        Some(check(&world, trace))
    };
    let checker_s = t2.elapsed().as_secs_f64();

    // The per-second timeline, the grid and frequency.
    let seconds = (report.reached.0.div_ceil(1_000_000_000) as usize).max(1);
    let rows = dense(&timelines, seconds);
    let g = &sc.parameters.grid;
    let mut meters_off = Vec::with_capacity(seconds);
    let mut attack_off = Vec::with_capacity(seconds);
    let mut mw_off = Vec::with_capacity(seconds);
    let mut deficit = Vec::with_capacity(seconds);
    let (mut off, mut a_off, mut kwh_off, mut surge) = (0i64, 0i64, 0i64, 0.0f64);
    let decay = (-1.0 / (g.cold_load_decay_min * 60.0)).exp();
    for (s, r) in rows.iter().enumerate() {
        let t = world.clock0_s + s as f64 + 0.5;
        off += r[Col::SupplyOff as usize] - r[Col::SupplyOn as usize];
        a_off += r[Col::AttackOff as usize] - r[Col::AttackRestored as usize];
        kwh_off += r[Col::KwhAttackOff as usize];
        // Demand the attack removed, and the extra demand of homes just
        // reconnected (cold load pickup, decaying); business-as-usual
        // changes are balanced by normal dispatch and left out.
        let mw = crate::grid::mw_of(kwh_off, t);
        surge = surge * decay
            + (g.cold_load_pickup - 1.0) * crate::grid::mw_of(r[Col::KwhReconnected as usize], t);
        meters_off.push(off);
        attack_off.push(a_off);
        mw_off.push(mw);
        deficit.push(surge - mw);
    }
    let freq = crate::grid::simulate(g, seconds, |t| deficit[(t as usize).min(seconds - 1)]);

    let mut tl = String::from("time_s");
    for c in COLUMNS {
        tl.push(',');
        tl.push_str(c);
    }
    tl.push_str(
        ",meters_off,meters_off_by_attack,mw_off_by_attack,frequency_min_hz,frequency_max_hz\n",
    );
    for (s, r) in rows.iter().enumerate() {
        tl.push_str(&(s as u64 + world.clock0_s as u64).to_string());
        for v in r {
            tl.push(',');
            tl.push_str(&v.to_string());
        }
        tl.push_str(&format!(
            ",{},{},{:.4},{:.5},{:.5}\n",
            meters_off[s], attack_off[s], mw_off[s], freq.min_hz[s], freq.max_hz[s]
        ));
    }
    let total = |c: Col| rows.iter().map(|r| r[c as usize]).sum::<i64>();

    let mut requests = Map::new();
    let mut histograms = Vec::new();
    for (i, k) in ReqKind::ALL.iter().enumerate() {
        let s = &kinds[i];
        let mut outcomes = Map::new();
        for (j, o) in OUTCOMES.iter().enumerate() {
            outcomes.insert(o.to_string(), json!(s.outcomes[j]));
        }
        let e = &s.end_to_end;
        let sent = match k {
            ReqKind::Alert => s.outcomes.iter().sum(),
            ReqKind::Attack => total(Col::AttackSent) as u64,
            _ => s.sent,
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
        if !matches!(k, ReqKind::Alert | ReqKind::Attack | ReqKind::Recovery) {
            for (h, name) in s.hops.iter().zip(HOPS) {
                histograms.push((format!("latency_{}_{}.hgrm", k.as_str(), name), h.to_hgrm()));
            }
        }
    }
    let mut refused = Map::new();
    for (name, n) in REFUSALS.iter().zip(refusals) {
        refused.insert(name.to_string(), json!(n));
    }

    // Attack figures.
    let start_s = attack_start.map(|t| t.as_secs_f64());
    let rel = |t: Option<u64>| -> Value {
        match (t, start_s) {
            (Some(t), Some(s)) => json!(t as f64 / 1e9 - s),
            _ => Value::Null,
        }
    };
    let (logged, operational, escalated, first_escalation) =
        soc_info.unwrap_or(([0; 3], 0, Vec::new(), None));
    let victim = world.attack.as_ref().map(|a| a.victim);
    let contain = victim.and_then(|v| contained_at[v as usize]);
    let (peak_at, peak) =
        attack_off
            .iter()
            .enumerate()
            .fold((0, 0i64), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
    let restored_95 = (peak > 0)
        .then(|| {
            attack_off[peak_at..]
                .iter()
                .position(|&v| (v as f64) <= 0.05 * peak as f64)
                .map(|i| ((peak_at + i) as u64) * 1_000_000_000)
        })
        .flatten();
    let fixed = total(Col::FirmwareFixed);
    let fw_quantiles: Value = {
        let mut cum = 0i64;
        let target = world
            .attack
            .as_ref()
            .map(|a| world.meters_of(a.victim))
            .unwrap_or(0) as f64;
        let mut marks = Map::new();
        for q in [0.5, 0.95, 0.99] {
            marks.insert(format!("p{}", (q * 100.0) as u32), Value::Null);
        }
        for (s, r) in rows.iter().enumerate() {
            cum += r[Col::FirmwareFixed as usize];
            for q in [0.5, 0.95, 0.99] {
                let k = format!("p{}", (q * 100.0) as u32);
                if marks[&k].is_null() && target > 0.0 && cum as f64 >= q * target {
                    marks.insert(k, rel(Some(s as u64 * 1_000_000_000)));
                }
            }
        }
        Value::Object(marks)
    };
    let checker_json = checker
        .as_ref()
        .map(|c: &CheckerReport| serde_json::to_value(c).expect("serialisable"))
        .unwrap_or(json!({"note": "not run: crypto.mode = modeled executes no bytes to check"}));
    let summary = json!({
        "model": "system",
        "meters": sc.fleet.meters,
        "crypto_mode": sc.crypto.mode,
        "stop_reason": report.stop.as_str(),
        "simulated_time_reached_s": report.reached.as_secs_f64(),
        "events": report.events,
        "events_digest": format!("{:016x}", report.digest),
        "requests": requests,
        "meter_refusals": refused,
        "components": stations,
        "crypto_checked": crypto.checked,
        "crypto_decided_by_ground_truth": crypto.by_ground_truth,
        "crypto_ground_truth_mismatches": crypto.ground_truth_mismatches,
        "attack": world.attack.as_ref().map(|a| json!({
            "kind": a.kind,
            "victim": a.victim,
            "start_clock_s": start_s.map(|s| s + world.clock0_s),
            "sent": total(Col::AttackSent),
            "executed": total(Col::AttackExecuted),
        })),
        "security_events_logged": {
            "anomaly": logged[0], "customer_reports": logged[1], "alert_volume": logged[2],
        },
        "security_events_operational": operational,
        "incidents_escalated_users": escalated,
        "quarantined": total(Col::Quarantined),
        "meters_disconnected_max": peak,
        "meters_off_max_all_causes": meters_off.iter().copied().max().unwrap_or(0),
        "mw_disconnected_max": mw_off.iter().copied().fold(0.0, f64::max),
        "time_to_detect_s": rel(first_escalation),
        "time_to_contain_s": rel(contain),
        "time_to_restore_95pct_s": rel(restored_95),
        "restorations_sent": restores,
        "anchors_replaced": total(Col::AnchorsReplaced),
        "firmware_fixed": fixed,
        "firmware_fixed_time_s": fw_quantiles,
        "frequency_min_hz": freq.min(),
        "frequency_max_hz": freq.max(),
        "lfdd_triggered": freq.lfdd_at_s.is_some(),
        "checker_violations": checker.as_ref().map(|c| c.violations).unwrap_or(0),
        "checker": checker_json,
    });
    let mut ts = String::from("time_min,component,metric,value\n");
    let m0 = (world.clock0_s / 60.0) as usize;
    for (name, arrivals, qmax) in &series {
        for (m, (a, q)) in arrivals.iter().zip(qmax).enumerate() {
            let m = m + m0;
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
        timeline: tl,
        wall_s: (
            setup_s,
            run_s,
            checker_s,
            t1.elapsed().as_secs_f64() - run_s,
        ),
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
