//! `dccsim report RESULTS`: a one-page Markdown report of a results folder.

use crate::workflow::attacks_label;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn read_json(p: &Path) -> Result<Value, String> {
    let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", p.display()))
}

fn secs(v: &Value) -> String {
    match v.as_f64() {
        Some(s) => format!("{:.0} s ({:.1} min)", s, s / 60.0),
        None => "not within the run".into(),
    }
}

/// Writes `report.md` into the folder (plots redrawn first); returns its path.
pub fn report(dir: &Path) -> Result<PathBuf, String> {
    let s = read_json(&dir.join("summary.json"))?;
    let m = read_json(&dir.join("manifest.json")).unwrap_or(Value::Null);
    if s["model"] != "system" {
        return Err(format!(
            "{}: reports are for system-model results",
            dir.display()
        ));
    }
    let plots = crate::workflow::plot::plot_all(dir).map_err(|e| e.to_string())?;
    let mut r = format!(
        "# {}\n\n{} meters, crypto `{}`, seed {}, stopped: {} after {:.1} simulated hours; status: {}.\n\nReproduce: `{}`\n\n",
        m["scenario_name"].as_str().unwrap_or("dccsim run"),
        s["meters"],
        s["crypto_mode"].as_str().unwrap_or("?"),
        m["seed"],
        s["stop_reason"].as_str().unwrap_or("?"),
        s["simulated_time_reached_s"].as_f64().unwrap_or(0.0) / 3600.0,
        m["status"].as_str().unwrap_or("unknown (no manifest)"),
        m["reproduce_with"].as_str().unwrap_or("-"),
    );
    if !s["attack"].is_null() {
        let a = &s["attack"];
        r.push_str(&format!(
            "## Attack and response\n\n| figure | value |\n|---|---:|\n\
             | attack | {} |\n| commands sent / executed | {} / {} |\n\
             | requests quarantined | {} |\n| meters off at most | {} |\n| MW off at most | {:.3} |\n\
             | time to detect | {} |\n| time to contain | {} |\n| time to restore 95% (meters; MW) | {}; {} |\n\
             | frequency min / max | {:.3} / {:.3} Hz |\n| LFDD triggered | {} |\n\
             | anchors replaced | {} |\n| checker violations | {} |\n| crypto ground-truth mismatches | {} |\n\n",
            attacks_label(&s),
            a["sent"],
            a["executed"],
            s["quarantined"],
            s["meters_disconnected_max"],
            s["mw_disconnected_max"].as_f64().unwrap_or(0.0),
            secs(&s["time_to_detect_s"]),
            secs(&s["time_to_contain_s"]),
            secs(&s["time_to_restore_95pct_s"]),
            secs(&s["time_to_restore_95pct_mw_s"]),
            s["frequency_min_hz"].as_f64().unwrap_or(0.0),
            s["frequency_max_hz"].as_f64().unwrap_or(0.0),
            s["lfdd_triggered"],
            s["anchors_replaced"],
            s["checker_violations"],
            s["crypto_ground_truth_mismatches"],
        ));
    }
    r.push_str("## Requests\n\n| type | sent | completed ok | refused or lost | p50 ms | p99 ms | p99.9 ms |\n|---|---:|---:|---:|---:|---:|---:|\n");
    if let Some(req) = s["requests"].as_object() {
        for (k, v) in req {
            let sent = v["sent"].as_u64().unwrap_or(0);
            if sent == 0 {
                continue;
            }
            let ok = v["outcomes"]["ok"].as_u64().unwrap_or(0);
            let done = v["completed"].as_u64().unwrap_or(0);
            r.push_str(&format!(
                "| {k} | {sent} | {ok} | {} | {:.0} | {:.0} | {:.0} |\n",
                done - ok,
                v["latency_ms_p50"].as_f64().unwrap_or(0.0),
                v["latency_ms_p99"].as_f64().unwrap_or(0.0),
                v["latency_ms_p999"].as_f64().unwrap_or(0.0),
            ));
        }
    }
    r.push_str("\n## Components\n\n| component | utilisation | longest queue |\n|---|---:|---:|\n");
    if let Some(c) = s["components"].as_object() {
        for (k, v) in c {
            r.push_str(&format!(
                "| {k} | {:.2}% | {} |\n",
                v["utilisation"].as_f64().unwrap_or(0.0) * 100.0,
                v["queue_len_max"]
            ));
        }
    }
    r.push_str(&format!(
        "\nCrypto: {} checks, {} decided by ground truth, {} mismatches.\n\n## Plots\n\n",
        s["crypto_checked"],
        s["crypto_decided_by_ground_truth"],
        s["crypto_ground_truth_mismatches"]
    ));
    for p in plots {
        r.push_str(&format!("![{p}]({p})\n\n"));
    }
    let path = dir.join("report.md");
    crate::workflow::results::write_atomic(&path, r.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
