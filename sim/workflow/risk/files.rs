//! A risk study's results folder: `risk.json` (every figure with its
//! interval, the ranking, the tornado), `years.csv`, `organisations.csv`,
//! `incidents.csv`, `tornado.csv`, `exceedance.svg`, `tornado.svg` and
//! `report.md`; then `perf.json` and `manifest.json` (last), as for a run.

use super::Outcome;
use crate::workflow::results::ResultsDir;
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How the study was invoked (for the manifest).
pub struct Invocation<'a> {
    /// The command line's words after `dccsim`.
    pub command: &'a str,
    /// SHA-256 of the effective scenario.
    pub scenario_sha256: &'a str,
    /// Parallel incident runs.
    pub threads: usize,
    /// Wall seconds.
    pub wall_s: f64,
    /// Incidents simulated and reused from the cache.
    pub simulated: usize,
    /// Incidents reused.
    pub reused: usize,
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// `years.csv`: one row per simulated year.
pub fn years_csv(o: &Outcome) -> String {
    let mut s = String::from("year,incidents,meters_disconnected,meter_hours_off,peak_mw,lfdd\n");
    for (y, yr) in o.years.iter().enumerate() {
        let _ = writeln!(
            s,
            "{y},{},{},{},{},{}",
            yr.incidents,
            num(yr.meters),
            num(yr.meter_hours),
            num(yr.peak_mw),
            yr.lfdd as u8
        );
    }
    s
}

fn organisations_csv(o: &Outcome) -> String {
    let mut s = String::from(
        "rank,organisation,kind,annual_rate,meter_hours_per_year,ci95_low,ci95_high,share,meter_hours_per_incident\n",
    );
    for f in &o.figures.organisations {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{}",
            f.rank,
            f.name,
            f.kind,
            num(f.annual_rate),
            num(f.meter_hours_per_year),
            num(f.meter_hours_ci95[0]),
            num(f.meter_hours_ci95[1]),
            num(f.share),
            num(f.meter_hours_per_incident)
        );
    }
    s
}

fn incidents_csv(o: &Outcome) -> String {
    let mut s = String::from(
        "organisation,entry,seed,start_clock_h,meters_disconnected,meter_hours_off,mw,lfdd,time_to_detect_s,time_to_contain_s,exploited,exposure_meter_hours,events\n",
    );
    for (org, lib) in o.study.spec.organisations.iter().zip(&o.library) {
        for (e, i) in lib.iter().enumerate() {
            let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
            let _ = writeln!(
                s,
                "{},{e},{},{},{},{},{},{},{},{},{},{},{}",
                org.name,
                i.seed,
                num(i.start_clock_h),
                num(i.meters),
                num(i.meter_hours),
                num(i.mw),
                i.lfdd as u8,
                opt(i.detect_s),
                opt(i.contain_s),
                num(i.exploited),
                num(i.exposure_meter_hours),
                i.events
            );
        }
    }
    s
}

/// `tornado.csv`: expected annual meter-hours off with each rate at -50% and +50%.
fn tornado_csv(o: &Outcome) -> String {
    let mut s =
        String::from("parameter,value,expected_at_minus_50pct,expected_at_plus_50pct,base\n");
    let base = o
        .figures
        .get("meter_hours_off")
        .map(|f| f.mean)
        .unwrap_or(f64::NAN);
    for (name, v, lo, hi) in &o.tornado {
        let _ = writeln!(
            s,
            "{name},{},{},{},{}",
            num(*v),
            num(*lo),
            num(*hi),
            num(base)
        );
    }
    s
}

/// `risk.json`.
pub fn risk_json(o: &Outcome) -> serde_json::Value {
    let sp = &o.study.spec;
    let mut figures = serde_json::Map::new();
    for f in &o.figures.figures {
        figures.insert(
            f.name.clone(),
            serde_json::to_value(f).expect("serialisable"),
        );
    }
    json!({
        "model": "risk",
        "meters": o.study.system.fleet.meters,
        "crypto_mode": o.study.system.crypto.mode,
        "seed": o.study.seed,
        "years": sp.years,
        "batches": sp.batches,
        "library_per_organisation": sp.library,
        "incident_h": sp.incident_h,
        "figures": figures,
        "organisations": o.figures.organisations,
        "tornado": o.tornado.iter().map(|(n, v, lo, hi)| json!({
            "parameter": n, "value": v, "expected_meter_hours_at_minus_50pct": lo,
            "expected_meter_hours_at_plus_50pct": hi,
        })).collect::<Vec<_>>(),
    })
}

/// A value and its interval, for tables.
pub fn with_ci(v: f64, ci: [f64; 2]) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if !(ci[0].is_finite() && ci[1].is_finite()) {
        return format!("{v:.4}");
    }
    format!("{v:.4} [{:.4}, {:.4}]", ci[0], ci[1])
}

fn report_md(o: &Outcome) -> String {
    let sp = &o.study.spec;
    let mut r = format!(
        "# Risk study\n\n{} simulated years at {} meters ({} crypto); {} incidents simulated per \
         organisation with a compromise, each a {} h window of the real model. Intervals are 95%: \
         means from {} batches of years, 99th percentiles from order statistics. The rates are \
         assumptions (`parameters.risk`): read the figures as relative.\n\n\
         ## Annual impact\n\n| figure | mean [95% CI] | 99th percentile [95% CI] |\n|---|---|---|\n",
        sp.years,
        o.study.system.fleet.meters,
        serde_json::to_value(o.study.system.crypto.mode).expect("serialisable").as_str().unwrap_or("?"),
        sp.library,
        sp.incident_h,
        sp.batches
    );
    for f in &o.figures.figures {
        let p = match (f.p99, f.p99_ci95) {
            (Some(p), Some(ci)) => with_ci(p, ci),
            _ => "".into(),
        };
        let _ = writeln!(
            r,
            "| {} | {} | {} |",
            f.name,
            with_ci(f.mean, f.mean_ci95),
            p
        );
    }
    r.push_str("\n## Weakest links\n\n| rank | organisation | kind | compromises / year | meter-hours off / year [95% CI] | share |\n|---:|---|---|---:|---|---:|\n");
    for f in &o.figures.organisations {
        let _ = writeln!(
            r,
            "| {} | {} | {} | {:.4} | {} | {:.1}% |",
            f.rank,
            f.name,
            f.kind,
            f.annual_rate,
            with_ci(f.meter_hours_per_year, f.meter_hours_ci95),
            100.0 * f.share
        );
    }
    r.push_str("\n![exceedance](exceedance.svg)\n\n![tornado](tornado.svg)\n");
    r
}

/// Writes the study's folder; returns its path.
pub fn write_study(o: &Outcome, dir: &Path, inv: &Invocation<'_>) -> std::io::Result<PathBuf> {
    let mut d = ResultsDir::create(dir)?;
    d.write_json("risk.json", &risk_json(o))?;
    d.write_bytes("years.csv", years_csv(o).as_bytes())?;
    d.write_bytes("organisations.csv", organisations_csv(o).as_bytes())?;
    d.write_bytes("incidents.csv", incidents_csv(o).as_bytes())?;
    d.write_bytes("tornado.csv", tornado_csv(o).as_bytes())?;
    d.write_bytes("report.md", report_md(o).as_bytes())?;
    let plots = crate::workflow::plot::risk::plot_study(dir)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    for p in plots {
        d.record(&p);
    }
    write_perf_and_manifest(d, inv, "risk")
}

/// `perf.json`, then `manifest.json` (last).
pub fn write_perf_and_manifest(
    mut d: ResultsDir,
    inv: &Invocation<'_>,
    kind: &str,
) -> std::io::Result<PathBuf> {
    d.write_json(
        "perf.json",
        &json!({
            "wall_s": inv.wall_s,
            "threads": inv.threads,
            "incidents_simulated": inv.simulated,
            "incidents_reused": inv.reused,
        }),
    )?;
    let manifest = json!({
        "status": "complete",
        "kind": kind,
        "command": inv.command,
        "scenario_sha256": inv.scenario_sha256,
        "threads": inv.threads,
        "dccsim_version": env!("CARGO_PKG_VERSION"),
        "files": d.written(),
    });
    d.finish(&manifest)
}
