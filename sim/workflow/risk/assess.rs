//! `dccsim assess BASE PROPOSED`: the security sub-committee's question,
//! "does this proposed change raise or lower the risk, and by how much?"
//!
//! Both scenarios are studied on the base's seed and study settings
//! (years, batches, library size, incident window), so their draws are
//! common random numbers: an organisation keeps its uniforms for every
//! year whatever its rate, and incidents whose scenario is unchanged are
//! simulated once and shared. Each figure's difference (proposed − base)
//! gets a 95% interval: for means, the Student t interval of the paired
//! batch differences; for 99th percentiles, a paired bootstrap over the
//! years (1,000 resamples, from the seed).

use super::files::{with_ci, write_perf_and_manifest, Invocation};
use super::stats::{quantile_ci, ANNUAL};
use super::{Figure, Outcome};
use crate::workflow::results::ResultsDir;
use crate::workflow::sweep::stats;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One row of the comparison.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    /// The figure (`p99` rows end in `_p99`; organisations' rows start with `organisation.`).
    pub figure: String,
    /// The base's value.
    pub base: f64,
    /// Its 95% interval.
    pub base_ci95: [f64; 2],
    /// The proposal's value.
    pub proposed: f64,
    /// Its 95% interval.
    pub proposed_ci95: [f64; 2],
    /// Proposed − base.
    pub difference: f64,
    /// The difference's 95% interval.
    pub difference_ci95: [f64; 2],
    /// Whether that interval excludes 0 (a change the study can see).
    pub significant: bool,
}

fn row(figure: String, b: (f64, [f64; 2]), p: (f64, [f64; 2]), d: (f64, [f64; 2])) -> Row {
    Row {
        figure,
        base: b.0,
        base_ci95: b.1,
        proposed: p.0,
        proposed_ci95: p.1,
        difference: d.0,
        difference_ci95: d.1,
        significant: d.1[0] > 0.0 || d.1[1] < 0.0,
    }
}

/// A mean's row: paired batch differences.
fn mean_row(name: String, b: &Figure, p: &Figure) -> Row {
    let diffs: Vec<f64> = b
        .batch_means
        .iter()
        .zip(&p.batch_means)
        .filter_map(|(x, y)| Some((*y)? - (*x)?))
        .collect();
    let d = p.mean - b.mean;
    let (_, _, half) = stats(&diffs);
    let half = if diffs.iter().all(|x| *x == 0.0) {
        0.0
    } else {
        half
    };
    row(
        name,
        (b.mean, b.mean_ci95),
        (p.mean, p.mean_ci95),
        (d, [d - half, d + half]),
    )
}

/// SplitMix64: the bootstrap's resampling stream.
fn splitmix(state: &mut u64) -> u64 {
    let z = crate::engine::event::mix64(*state);
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z
}

/// A 99th percentile's row: paired bootstrap over the years.
fn p99_row(
    name: &str,
    f: fn(&super::Year) -> f64,
    base: &Outcome,
    prop: &Outcome,
    seed: u64,
) -> Row {
    let xb: Vec<f64> = base.years.iter().map(f).collect();
    let xp: Vec<f64> = prop.years.iter().map(f).collect();
    let n = xb.len();
    let p99 = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        quantile_ci(&s, 0.99)
    };
    let (vb, cb) = p99(&xb);
    let (vp, cp) = p99(&xp);
    let mut state = seed ^ 0xB007_57A9;
    let mut diffs = Vec::with_capacity(1000);
    let (mut rb, mut rp) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..1000 {
        for k in 0..n {
            let i = (((splitmix(&mut state) >> 32) * n as u64) >> 32) as usize;
            rb[k] = xb[i];
            rp[k] = xp[i];
        }
        diffs.push(p99(&rp).0 - p99(&rb).0);
    }
    diffs.sort_by(f64::total_cmp);
    let ci = [diffs[24], diffs[974]];
    row(format!("{name}_p99"), (vb, cb), (vp, cp), (vp - vb, ci))
}

/// Every row: each figure's mean, the annual figures' 99th percentiles,
/// and each organisation present in both (by name).
pub fn compare(base: &Outcome, prop: &Outcome) -> Vec<Row> {
    let mut rows = Vec::new();
    for (b, p) in base.figures.figures.iter().zip(&prop.figures.figures) {
        rows.push(mean_row(b.name.clone(), b, p));
    }
    for (name, f) in ANNUAL {
        if name != "lfdd_probability" {
            rows.push(p99_row(name, f, base, prop, base.study.seed));
        }
    }
    for ob in &base.figures.organisations {
        if let Some(op) = prop
            .figures
            .organisations
            .iter()
            .find(|o| o.name == ob.name)
        {
            let name = format!("organisation.{}.meter_hours_per_year", ob.name);
            rows.push(mean_row(name, &ob.figure, &op.figure));
        }
    }
    rows
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "figure,base,base_ci95_low,base_ci95_high,proposed,proposed_ci95_low,proposed_ci95_high,difference,difference_ci95_low,difference_ci95_high,significant\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{}",
            r.figure,
            r.base,
            r.base_ci95[0],
            r.base_ci95[1],
            r.proposed,
            r.proposed_ci95[0],
            r.proposed_ci95[1],
            r.difference,
            r.difference_ci95[0],
            r.difference_ci95[1],
            r.significant
        );
    }
    s
}

/// The one-page report, as Markdown.
fn report_md(base: &Outcome, names: (&str, &str), rows: &[Row]) -> String {
    let sp = &base.study.spec;
    let mut r = format!(
        "# Change assessment: `{}` → `{}`\n\n{} simulated years each at {} meters, common random \
         numbers (the base's seed {}); {} incidents per organisation, {} h windows. A difference is \
         **significant** when its 95% interval excludes 0. The compromise rates are assumptions \
         (`parameters.risk`): read differences as relative.\n\n\
         | figure | base [95% CI] | proposed [95% CI] | difference [95% CI] | significant |\n|---|---|---|---|---|\n",
        names.0, names.1, sp.years, base.study.system.fleet.meters, base.study.seed, sp.library, sp.incident_h
    );
    for x in rows {
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {} |",
            x.figure,
            with_ci(x.base, x.base_ci95),
            with_ci(x.proposed, x.proposed_ci95),
            with_ci(x.difference, x.difference_ci95),
            if x.significant { "**yes**" } else { "no" }
        );
    }
    r.push_str("\n![exceedance: base and proposed](exceedance.svg)\n\n![tornado of the base](base/tornado.svg)\n");
    r
}

/// The same page as standalone HTML (the plots linked beside it).
fn report_html(md_rows: &[Row], names: (&str, &str)) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut h = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Change assessment</title>\
         <style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}.sig{{font-weight:bold;color:#b00}}</style>\
         </head><body><h1>Change assessment: {} &rarr; {}</h1>\
         <table><tr><th>figure</th><th>base [95% CI]</th><th>proposed [95% CI]</th><th>difference [95% CI]</th><th>significant</th></tr>",
        esc(names.0),
        esc(names.1)
    );
    for x in md_rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
            esc(&x.figure),
            with_ci(x.base, x.base_ci95),
            with_ci(x.proposed, x.proposed_ci95),
            with_ci(x.difference, x.difference_ci95),
            if x.significant { " class=\"sig\"" } else { "" },
            if x.significant { "yes" } else { "no" }
        );
    }
    h.push_str("</table><p><img src=\"exceedance.svg\" width=\"900\"></p><p><img src=\"base/tornado.svg\" width=\"900\"></p></body></html>\n");
    h
}

/// Writes the assessment folder: `base/` and `proposed/` (each a study
/// folder), `assess.json`, `assess.csv`, `report.md`, `report.html`,
/// `exceedance.svg`; returns its path.
pub fn write_assessment(
    base: &Outcome,
    prop: &Outcome,
    names: (&str, &str),
    dir: &Path,
    inv: (&Invocation<'_>, &Invocation<'_>, &Invocation<'_>),
) -> std::io::Result<PathBuf> {
    let mut d = ResultsDir::create(dir)?;
    super::write_study(base, &dir.join("base"), inv.0)?;
    super::write_study(prop, &dir.join("proposed"), inv.1)?;
    let rows = compare(base, prop);
    d.write_json(
        "assess.json",
        &serde_json::json!({"base": names.0, "proposed": names.1, "seed": base.study.seed,
            "years": base.study.spec.years, "rows": rows}),
    )?;
    d.write_bytes("assess.csv", csv(&rows).as_bytes())?;
    d.write_bytes("report.md", report_md(base, names, &rows).as_bytes())?;
    d.write_bytes("report.html", report_html(&rows, names).as_bytes())?;
    let p = crate::workflow::plot::risk::exceedance(
        dir,
        &[
            ("base", &dir.join("base")),
            ("proposed", &dir.join("proposed")),
        ],
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    d.record(&p);
    write_perf_and_manifest(d, inv.2, "assess")
}
