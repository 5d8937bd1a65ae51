//! The research and planning workflow built around single runs: parameter
//! sweeps with replications, side-by-side comparison of two results
//! folders, one-page reports, and regression benchmarks.

pub mod bench;
pub mod cli;
pub mod compare;
pub mod explore;
pub mod fuzz;
pub mod gbcs;
pub mod gbcs_sample;
pub mod mpi;
pub mod perf;
pub mod plot;
pub mod progress;
pub mod report;
pub mod results;
pub mod risk;
pub mod run;
pub mod scenario;
pub mod sweep;

use serde_json::Value;

/// " on user N" for an attack summary's `victim`, or nothing for attacks
/// and faults that have no victim (`null`).
pub(crate) fn on_user(victim: &Value) -> String {
    victim
        .as_u64()
        .map(|v| format!(" on user {v}"))
        .unwrap_or_default()
}

/// The run's attacks as one label, e.g. `alert_storm + disconnect on user
/// 0` (from the summary's `attacks`, else its `attack`).
pub(crate) fn attacks_label(s: &Value) -> String {
    let one = |a: &Value| {
        format!(
            "{}{}",
            a["kind"].as_str().unwrap_or("?"),
            on_user(&a["victim"])
        )
    };
    match s["attacks"].as_array() {
        Some(list) if !list.is_empty() => list.iter().map(one).collect::<Vec<_>>().join(" + "),
        _ => one(&s["attack"]),
    }
}

/// Every numeric leaf of a JSON value as `(dotted.path, number)`, in key order.
pub fn numeric_leaves(v: &Value) -> Vec<(String, f64)> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, x, out);
                }
            }
            Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    out.push((prefix.to_string(), f));
                }
            }
            Value::Bool(b) => out.push((prefix.to_string(), f64::from(u8::from(*b)))),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}
