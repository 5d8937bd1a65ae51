//! `dccsim compare A B`: every numeric figure of two results folders' summaries
//! side by side, with absolute and relative differences.

use super::numeric_leaves;
use std::path::Path;

/// One compared figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Dotted path in `summary.json`.
    pub key: String,
    /// Value in A, if present.
    pub a: Option<f64>,
    /// Value in B, if present.
    pub b: Option<f64>,
}

impl Row {
    /// B minus A.
    pub fn diff(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }
    /// (B - A) / |A|, when A is not zero.
    pub fn rel(&self) -> Option<f64> {
        let (a, b) = (self.a?, self.b?);
        (a != 0.0).then(|| (b - a) / a.abs())
    }
}

fn summary(dir: &Path) -> Result<serde_json::Value, String> {
    let p = dir.join("summary.json");
    let b = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", p.display()))
}

/// The rows: the union of both summaries' numeric figures, in key order.
pub fn compare(a: &Path, b: &Path) -> Result<Vec<Row>, String> {
    let (sa, sb) = (summary(a)?, summary(b)?);
    let mut rows: std::collections::BTreeMap<String, Row> = Default::default();
    for (k, v) in numeric_leaves(&sa) {
        rows.entry(k.clone())
            .or_insert(Row {
                key: k,
                a: None,
                b: None,
            })
            .a = Some(v);
    }
    for (k, v) in numeric_leaves(&sb) {
        rows.entry(k.clone())
            .or_insert(Row {
                key: k,
                a: None,
                b: None,
            })
            .b = Some(v);
    }
    Ok(rows.into_values().collect())
}

fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v == v.trunc() && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

fn pct(x: Option<f64>) -> String {
    x.map(|r| format!("{:+.1}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// The comparison as CSV.
pub fn to_csv(rows: &[Row]) -> String {
    let mut s = String::from("metric,a,b,diff,rel_diff\n");
    let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            r.key,
            o(r.a),
            o(r.b),
            o(r.diff()),
            o(r.rel())
        ));
    }
    s
}

/// The comparison as a Markdown table (rows where A and B differ, or all with `all`).
pub fn to_markdown(rows: &[Row], a: &str, b: &str, all: bool) -> String {
    let mut s =
        format!("| metric | A: {a} | B: {b} | B - A | relative |\n|---|---:|---:|---:|---:|\n");
    for r in rows.iter().filter(|r| all || r.a != r.b) {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.key,
            num(r.a),
            num(r.b),
            num(r.diff()),
            pct(r.rel())
        ));
    }
    s
}

/// The comparison as an aligned text table (rows that differ).
pub fn to_text(rows: &[Row]) -> String {
    let w = rows.iter().map(|r| r.key.len()).max().unwrap_or(6).max(6);
    let mut s = format!(
        "{:<w$}  {:>14}  {:>14}  {:>14}  {:>9}\n",
        "metric", "A", "B", "B - A", "rel"
    );
    let mut same = 0;
    for r in rows {
        if r.a == r.b {
            same += 1;
            continue;
        }
        s.push_str(&format!(
            "{:<w$}  {:>14}  {:>14}  {:>14}  {:>9}\n",
            r.key,
            num(r.a),
            num(r.b),
            num(r.diff()),
            pct(r.rel())
        ));
    }
    s.push_str(&format!(
        "({same} figures identical in A and B not shown)\n"
    ));
    s
}
