//! The result files of a system run: `summary.json`, the per-second
//! `timeline.csv`, the per-minute `timeseries.csv` and the `.hgrm`
//! latency histograms.

use super::gather::ShardTotals;
use super::grid::GridSeries;
use crate::crypto::device::Reject;
use crate::engine::RunReport;
use crate::models::system::attack::AttackKind;
use crate::models::system::checker::CheckerReport;
use crate::models::system::msg::{Outcome, SecurityEvent};
use crate::models::system::stats::Hop;
use crate::models::system::timeline::{Col, COLUMNS};
use crate::models::system::world::{ReqKind, World};
use serde_json::{json, Map, Value};

/// The files' contents.
pub(super) struct Files {
    pub summary: Value,
    pub histograms: Vec<(String, String)>,
    pub timeseries: String,
    pub timeline: String,
}

type Rows = [[i64; COLUMNS.len()]];

fn total(rows: &Rows, c: Col) -> i64 {
    rows.iter().map(|r| r[c as usize]).sum()
}

/// `timeline.csv`: every counter per second, with meters off, MW off and frequency.
fn timeline_csv(world: &World, rows: &Rows, g: &GridSeries) -> String {
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
            g.meters_off[s], g.attack_off[s], g.mw_off[s], g.freq.min_hz[s], g.freq.max_hz[s]
        ));
    }
    tl
}

/// Per request family: the requests per meter per day the run produced
/// (sent over meters and simulated days), beside the parameter set's rate
/// and where it comes from.
fn traffic_per_meter_day(world: &World, t: &ShardTotals) -> Value {
    let p = &world.sc.parameters.traffic;
    let days = (world.sc.run.end_h - world.sc.run.start_h) / 24.0;
    let meters = world.meters.max(1) as f64;
    let rows: [(ReqKind, f64, &str); 11] = [
        (ReqKind::ScheduledRead, p.scheduled_reads_per_meter_day, "traffic.scheduled_reads_per_meter_day: [S3] reads ~60% of ~1.7 requests/meter-day"),
        (ReqKind::OnDemandRead, p.on_demand_reads_per_meter_day, "traffic.on_demand_reads_per_meter_day: assumption (with the daily read, ~60% reads [S3])"),
        (ReqKind::PrepaymentTopUp, p.prepayment_topups_per_meter_day, "traffic.prepayment_topups_per_meter_day: assumption (15% prepayment, two top-ups a week)"),
        (ReqKind::TariffUpdate, p.tariff_updates_per_meter_day, "traffic.tariff_updates_per_meter_day: assumption"),
        (ReqKind::CriticalCommand, p.critical_background_per_meter_day, "traffic.critical_background_per_meter_day: assumption"),
        (ReqKind::Configuration, p.configuration_per_meter_day, "traffic.configuration_per_meter_day: assumption (with the three below, [S3]'s ~1.7/meter-day less the families above)"),
        (ReqKind::ChangeOfSupplier, p.change_of_supplier_per_meter_day, "traffic.change_of_supplier_per_meter_day: assumption (a few million switches a year over ~35M meters); drawn before the run, at most one per meter"),
        (ReqKind::Installation, p.installation_per_meter_day, "traffic.installation_per_meter_day: assumption (~1M installations a quarter [S2] over ~37M meters); one commissioning (SR 8.1.1) per meter installed in the run, drawn before it"),
        (ReqKind::FirmwareDistribution, p.firmware_distribution_per_meter_day, "traffic.firmware_distribution_per_meter_day: assumption (about two rollouts a meter a year)"),
        (ReqKind::DccScheduled, p.dcc_scheduled_per_meter_day, "traffic.dcc_scheduled_per_meter_day: assumption (network operators' standing schedules, run by the DSP)"),
        (ReqKind::Alert, p.alerts_per_meter_day, "traffic.alerts_per_meter_day: [S3] ~4bn messages/month with alerts less ~1.3bn requests"),
    ];
    let mut out = Map::new();
    let (mut total, mut total_expected) = (0.0, 0.0);
    for (k, expected, source) in rows {
        let s = &t.kinds[k as usize];
        let sent = if k == ReqKind::Alert {
            s.outcomes.iter().sum()
        } else {
            s.sent
        };
        let rate = sent as f64 / meters / days;
        if k != ReqKind::Alert {
            total += rate;
            total_expected += expected;
        }
        out.insert(
            k.as_str().to_string(),
            json!({"rate": rate, "expected": expected, "source": source}),
        );
    }
    out.insert(
        "requests_total".into(),
        json!({"rate": total, "expected": total_expected, "source": "[S3]: ~1.3bn messages/month over ~25M meters, ~1.7/meter-day"}),
    );
    Value::Object(out)
}

/// Per request kind: counts, outcomes and latency percentiles, and the histograms.
fn requests(t: &ShardTotals, rows: &Rows) -> (Map<String, Value>, Vec<(String, String)>) {
    let mut requests = Map::new();
    let mut histograms = Vec::new();
    for (i, k) in ReqKind::ALL.iter().enumerate() {
        let s = &t.kinds[i];
        let mut outcomes = Map::new();
        for (o, n) in Outcome::ALL.iter().zip(s.outcomes) {
            outcomes.insert(o.as_str().to_string(), json!(n));
        }
        let e = &s.end_to_end;
        let sent = match k {
            ReqKind::Alert => t.alerts_raised,
            ReqKind::Attack => total(rows, Col::AttackSent) as u64,
            _ => s.sent,
        };
        requests.insert(
            k.as_str().to_string(),
            json!({
                "sent": sent,
                "completed": s.outcomes.iter().sum::<u64>(),
                "in_flight": t.in_flight[i],
                "outcomes": outcomes,
                "latency_ms_p50": e.quantile_ms(0.5),
                "latency_ms_p99": e.quantile_ms(0.99),
                "latency_ms_p999": e.quantile_ms(0.999),
                "latency_ms_mean": e.mean_ms(),
            }),
        );
        histograms.push((format!("latency_{}.hgrm", k.as_str()), e.to_hgrm()));
        if !matches!(k, ReqKind::Alert | ReqKind::Attack | ReqKind::Recovery) {
            for (h, hop) in s.hops.iter().zip(Hop::ALL) {
                let name = format!("latency_{}_{}.hgrm", k.as_str(), hop.as_str());
                histograms.push((name, h.to_hgrm()));
            }
        }
    }
    (requests, histograms)
}

/// Times of the firmware campaign reaching 50, 95 and 99% of the victim's
/// meters, relative to the attack's start.
fn firmware_quantiles(world: &World, rows: &Rows, rel: &dyn Fn(Option<u64>) -> Value) -> Value {
    let mut cum = 0i64;
    // Every victim of a firmware attack is a target of the fix.
    let target: f64 = world
        .attacks
        .iter()
        .filter(|a| a.kind() == AttackKind::Firmware)
        .filter_map(|a| a.victim())
        .map(|v| world.meters_of(v) as f64)
        .sum();
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
}

/// The declared vulnerability's figures: how many meters ran the flawed
/// firmware at the start and at the end, the exposure (vulnerable
/// meter-hours from disclosure to the end of the run), the commands
/// executed only because of the flaw, and when the fix reached 50, 95
/// and 99% of the vulnerable meters (seconds after disclosure; `null`:
/// not within the run).
fn vulnerability_json(world: &World, rows: &Rows) -> Value {
    let Some(v) = &world.sc.vulnerability else {
        return Value::Null;
    };
    let at_start = (0..world.meters)
        .filter(|&m| world.initially_vulnerable(m))
        .count() as i64;
    let from = (world.ns_at_clock_h(v.disclosed_h) / 1_000_000_000) as usize;
    let (mut fixed, mut exposure) = (0i64, 0.0f64);
    let mut marks: Vec<(f64, Option<usize>)> = vec![(0.5, None), (0.95, None), (0.99, None)];
    for (s, r) in rows.iter().enumerate() {
        fixed += r[Col::FirmwareFixed as usize];
        if s >= from {
            exposure += (at_start - fixed).max(0) as f64 / 3600.0;
        }
        for (q, at) in marks.iter_mut() {
            if at.is_none() && at_start > 0 && fixed as f64 >= *q * at_start as f64 {
                *at = Some(s);
            }
        }
    }
    let mut times = Map::new();
    for (q, at) in marks {
        let t = at.map(|s| (s as f64 + 1.0 - from as f64).max(0.0));
        times.insert(format!("p{}", (q * 100.0) as u32), json!(t));
    }
    json!({
        "flaw": v.flaw,
        "applies_to": v.applies_to,
        "disclosed_clock_s": v.disclosed_h * 3600.0,
        "fix_delay_h": v.fix.delay_h,
        "fix_wan_share": v.fix.wan_share,
        "vulnerable_at_start": at_start,
        "vulnerable_at_end": (at_start - fixed).max(0),
        "exposure_meter_hours": exposure,
        "exploited": total(rows, Col::Exploited),
        "fixed_time_s": Value::Object(times),
    })
}

/// When every victim of the run's attacks was contained (`None` while any
/// was not, or without a victim): the last containment.
fn contained_at(world: &World, t: &ShardTotals) -> Option<u64> {
    let at = t.contained_at_ns.as_ref()?;
    let mut last = None;
    for v in world.attacks.iter().filter_map(|a| a.victim()) {
        last = last.max(Some(at[v as usize]?));
    }
    last
}

/// The peak of meters off because of the attack, and when 95% of them were back.
fn restore_95(attack_off: &[i64]) -> (i64, Option<u64>) {
    let as_f64: Vec<f64> = attack_off.iter().map(|&v| v as f64).collect();
    let (peak, restored) = restore_95_f64(&as_f64);
    (peak as i64, restored)
}

/// The peak of a per-second series and when, after it, the series first
/// falls to 5% of it (nanoseconds; `None` if never).
fn restore_95_f64(series: &[f64]) -> (f64, Option<u64>) {
    let (peak_at, peak) =
        series
            .iter()
            .enumerate()
            .fold((0, 0.0f64), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
    let restored = (peak > 0.0)
        .then(|| {
            series[peak_at..]
                .iter()
                .position(|&v| v <= 0.05 * peak)
                .map(|i| ((peak_at + i) as u64) * 1_000_000_000)
        })
        .flatten();
    (peak, restored)
}

/// `timeseries.csv`: each station's arrivals and longest queue per minute.
fn timeseries_csv(world: &World, t: &ShardTotals) -> String {
    let mut ts = String::from("time_min,component,metric,value\n");
    let m0 = (world.clock0_s / 60.0) as usize;
    for st in &t.stations {
        let name = &st.name;
        let retries = name.starts_with("csp_") && !name.ends_with("_uplink");
        let s = &st.series;
        for m in 0..s.arrivals.len().max(s.utilisation.len()) {
            let c = m + m0;
            if let (Some(a), Some(q)) = (s.arrivals.get(m), s.queue_max.get(m)) {
                ts.push_str(&format!(
                    "{c},{name},arrivals,{a}\n{c},{name},queue_len_max,{q}\n"
                ));
                if retries {
                    ts.push_str(&format!("{c},{name},retries,{}\n", s.retries[m]));
                }
            }
            if let Some(u) = s.utilisation.get(m) {
                ts.push_str(&format!("{c},{name},utilisation,{u:.4}\n"));
            }
        }
    }
    ts
}

/// `summary.json` `components`: each station's mean and busiest-minute
/// utilisation (the first of equal minutes, by clock minute) and longest queue.
fn components_json(world: &World, t: &ShardTotals) -> Map<String, Value> {
    let mut stations = Map::new();
    for st in &t.stations {
        // The busiest minute (the first of equals), by clock time.
        let u = &st.series.utilisation;
        let peak = u
            .iter()
            .enumerate()
            .fold(None, |b: Option<(usize, f64)>, (m, &x)| match b {
                Some((_, y)) if y >= x => b,
                _ => Some((m, x)),
            });
        let m0 = (world.clock0_s / 60.0) as usize;
        stations.insert(
            st.name.clone(),
            json!({
                "utilisation": st.utilisation,
                "utilisation_peak": peak.map_or(0.0, |p| p.1),
                "utilisation_peak_clock_min": peak.map(|p| p.0 + m0),
                "queue_len_max": st.queue_len_max,
            }),
        );
    }
    stations
}

/// Every result file's contents.
pub(super) fn write(
    world: &World,
    report: &RunReport,
    t: &ShardTotals,
    rows: &Rows,
    g: &GridSeries,
    checker: Option<&CheckerReport>,
) -> Files {
    let sc = &world.sc;
    let (requests, histograms) = requests(t, rows);
    let mut refused = Map::new();
    for (r, n) in Reject::ALL.iter().zip(t.refusals) {
        refused.insert(r.as_str().to_string(), json!(n));
    }
    let stations = components_json(world, t);
    let start_s = world.first_attack_start_ns().map(|t| t as f64 / 1e9);
    let rel = |t: Option<u64>| -> Value {
        match (t, start_s) {
            (Some(t), Some(s)) => json!(t as f64 / 1e9 - s),
            _ => Value::Null,
        }
    };
    let (logged, operational, escalated, first_escalation) = t.soc_figures();
    let mut logged_json = Map::new();
    for (name, n) in SecurityEvent::NAMES.iter().zip(logged) {
        logged_json.insert(name.to_string(), json!(n));
    }
    // From an event reaching the SOC to an analyst's categorisation.
    let triage = t.soc.as_ref().map(|s| {
        let l = &s.time_to_triage;
        json!({
            "events": l.count(),
            "p50": l.quantile_ms(0.5) / 1e3,
            "p99": l.quantile_ms(0.99) / 1e3,
            "mean": if l.count() > 0 { l.mean_ms() / 1e3 } else { 0.0 },
        })
    });
    let contain = contained_at(world, t);
    let (peak, restored_95) = restore_95(&g.attack_off);
    let (_, restored_95_mw) = restore_95_f64(&g.mw_off);
    let checker_json = checker
        .map(|c| serde_json::to_value(c).expect("serialisable"))
        .unwrap_or(json!({"note": "not run: crypto.mode = modeled executes no bytes to check"}));
    // A tampering CSP's copies: each discarded at the DSP or still in flight.
    let duplicates = json!({
        "sent": t.duplicates_sent,
        "discarded_at_dsp": t.duplicates_discarded,
        "in_flight": t.duplicates_in_flight,
    });
    let summary = json!({
        "model": "system",
        "meters": sc.fleet.meters,
        "crypto_mode": sc.crypto.mode,
        "status": if report.stop == crate::engine::StopReason::Interrupted { "partial" } else { "complete" },
        "stop_reason": report.stop.as_str(),
        "simulated_time_reached_s": report.reached.as_secs_f64(),
        "events": report.events,
        "events_digest": format!("{:016x}", report.digest),
        "requests": requests,
        "meter_refusals": refused,
        "traffic_per_meter_day": traffic_per_meter_day(world, t),
        "components": stations,
        "crypto_checked": t.crypto.checked,
        "crypto_decided_by_ground_truth": t.crypto.by_ground_truth,
        "crypto_ground_truth_mismatches": t.crypto.ground_truth_mismatches,
        "attack": world.attacks.first().map(|a| json!({
            "kind": a.kind(),
            "victim": a.victim(),
            "start_clock_s": start_s.map(|s| s + world.clock0_s),
            "sent": total(rows, Col::AttackSent),
            "executed": total(rows, Col::AttackExecuted),
        })),
        "attacks": (0..world.attacks.len()).map(|i| {
            let a = &world.attacks[i];
            json!({
                "kind": a.kind(),
                "victim": a.victim(),
                "start_clock_s": world.attack_start_ns(i) as f64 / 1e9 + world.clock0_s,
            })
        }).collect::<Vec<_>>(),
        "csp_duplicates": duplicates,
        "csp_outage_deferred": t.csp_outage_deferred,
        "alert_delivery": crate::models::system::parties::dsp::AlertDelivery::NAMES
            .iter()
            .zip(t.alert_delivery)
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect::<serde_json::Map<_, _>>(),
        "meter_hours_off_by_attack": g.attack_off.iter().sum::<i64>() as f64 / 3600.0,
        "vulnerability": vulnerability_json(world, rows),
        "security_events_logged": logged_json,
        "security_incidents_unattributed": t.soc_unattributed(),
        "security_events_operational": operational,
        "security_events_missed": t.soc_errors().0,
        "security_false_escalations": t.soc_errors().1,
        "security_events_time_to_triage_s": triage,
        "incidents_escalated_users": escalated,
        "quarantined": total(rows, Col::Quarantined),
        "quarantine_released": total(rows, Col::QuarantineReleased),
        "quarantine_deleted": total(rows, Col::QuarantineDeleted),
        "meters_disconnected_max": peak,
        "meters_off_max_all_causes": g.meters_off.iter().copied().max().unwrap_or(0),
        "mw_disconnected_max": g.mw_off.iter().copied().fold(0.0, f64::max),
        "time_to_detect_s": rel(first_escalation),
        "time_to_contain_s": rel(contain),
        "time_to_restore_95pct_s": rel(restored_95),
        "time_to_restore_95pct_mw_s": rel(restored_95_mw),
        "restorations_sent": t.restores,
        "firmware_redeliveries": t.firmware_redeliveries,
        "anchors_replaced": total(rows, Col::AnchorsReplaced),
        "firmware_fixed": total(rows, Col::FirmwareFixed),
        "firmware_fixed_time_s": firmware_quantiles(world, rows, &rel),
        "frequency_min_hz": g.freq.min(),
        "frequency_max_hz": g.freq.max(),
        "lfdd_triggered": g.freq.lfdd_at_s.is_some(),
        "checker_violations": checker.map(|c| c.violations).unwrap_or(0),
        "checker": checker_json,
    });
    let mut summary = summary;
    if sc.acb_rekey.is_some() {
        summary["acb_rekey"] = acb_rekey_json(world, &t.acb_rekey);
    }
    summary["installation"] = installation_json(world, &t.smi);
    Files {
        summary,
        histograms,
        timeseries: timeseries_csv(world, t),
        timeline: timeline_csv(world, rows, g),
    }
}

/// `summary.json` `installation`: the meters installed during the run and
/// their commissioning (see `registration.rs` and `dsp/smi.rs`).
fn installation_json(
    world: &World,
    s: &crate::models::system::parties::dsp::smi::SmiTotals,
) -> serde_json::Value {
    let clock = |ns: u64| (ns > 0).then(|| ns as f64 / 1e9 + world.clock0_s);
    json!({
        "meters_installed": world.installs.len(),
        "meters_commissioned": s.commissioned,
        "meters_awaiting_commissioning": world.installs.len() as u64 - s.commissioned,
        "requests_refused_status": s.refused_status,
        "first_commissioned_clock_s": clock(s.first_commissioned_ns),
        "last_commissioned_clock_s": clock(s.last_commissioned_ns),
    })
}

/// `summary.json` `acb_rekey`: the DCC's replacement of the ACB anchor
/// (only under `[acb_rekey]`). Meters "on the old key" are those the DSP
/// never saw confirm the new one (a meter whose confirmation was lost
/// holds the new key but counts here).
fn acb_rekey_json(
    world: &World,
    r: &crate::models::system::parties::dsp::rekey::RekeyTotals,
) -> serde_json::Value {
    let clock = |ns: u64| (ns > 0).then(|| ns as f64 / 1e9 + world.clock0_s);
    json!({
        "updates_sent": r.sent,
        "meters_rekeyed": r.rekeyed,
        "meters_on_old_key": world.meters as u64 - r.rekeyed,
        "updates_failed": r.failed,
        "meters_given_up": r.gave_up,
        "first_sent_clock_s": clock(r.first_sent_ns),
        "last_rekeyed_clock_s": clock(r.last_rekeyed_ns),
    })
}
