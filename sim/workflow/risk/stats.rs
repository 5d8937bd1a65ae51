//! A risk study's figures and their confidence intervals.
//!
//! Means: the years are split into `risk.batches` equal consecutive
//! batches (replications of the same year process); the interval is the
//! Student t interval of the batch means. 99th percentiles: the
//! distribution-free interval from order statistics (the ranks
//! `n q ± 1.96 sqrt(n q (1 - q))`).

use super::{Impact, Study, Year};
use crate::workflow::sweep::stats;
use serde::Serialize;

/// One figure of a study.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figure {
    /// Its name (a key of `risk.json`).
    pub name: String,
    /// Mean (per year, or per incident for the incident times).
    pub mean: f64,
    /// 95% confidence interval of the mean, from the batches.
    pub mean_ci95: [f64; 2],
    /// 99th percentile over the years (annual figures only).
    pub p99: Option<f64>,
    /// Its 95% confidence interval from order statistics.
    pub p99_ci95: Option<[f64; 2]>,
    /// Each batch's mean, `None` for a batch without a value (for paired comparisons).
    #[serde(skip)]
    pub batch_means: Vec<Option<f64>>,
}

/// An organisation's contribution (the weakest-link ranking).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OrgFigure {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: &'static str,
    /// Compromises per year from its posture.
    pub annual_rate: f64,
    /// Expected meter-hours off per year caused by its compromises.
    pub meter_hours_per_year: f64,
    /// 95% confidence interval of that.
    pub meter_hours_ci95: [f64; 2],
    /// Its share of the total expected meter-hours.
    pub share: f64,
    /// Mean meter-hours of one of its incidents (over its library).
    pub meter_hours_per_incident: f64,
    /// Rank by expected meter-hours (1: the weakest link).
    pub rank: usize,
    /// The expected meter-hours' figure (batch means for comparisons).
    #[serde(skip)]
    pub figure: Figure,
}

/// Every figure of a study.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figures {
    /// Annual figures, then incident times.
    pub figures: Vec<Figure>,
    /// Per organisation, in ranking order.
    pub organisations: Vec<OrgFigure>,
}

/// How a year gives a figure.
pub type PerYear = fn(&Year) -> f64;

/// The annual figures, in order: name and how a year gives it.
pub const ANNUAL: [(&str, PerYear); 6] = [
    ("incidents", |y| y.incidents as f64),
    ("meters_disconnected", |y| y.meters),
    ("meter_hours_off", |y| y.meter_hours),
    ("peak_mw", |y| y.peak_mw),
    ("lfdd_probability", |y| y.lfdd as u8 as f64),
    ("exploited_commands", |y| y.exploited),
];

/// The batch of year `y` of `n` in `b` batches.
pub fn batch_of(y: usize, n: usize, b: usize) -> usize {
    y * b / n
}

/// The mean of `xs` per batch (`None` where a batch has no value).
fn batch_means(values: &[(usize, f64)], n: usize, b: usize) -> Vec<Option<f64>> {
    let mut sum = vec![(0.0, 0usize); b];
    for &(y, v) in values {
        let s = &mut sum[batch_of(y, n, b)];
        s.0 += v;
        s.1 += 1;
    }
    sum.into_iter()
        .map(|(s, k)| (k > 0).then(|| s / k as f64))
        .collect()
}

/// The value at quantile `q` of sorted `xs` and its 95% interval.
pub fn quantile_ci(sorted: &[f64], q: f64) -> (f64, [f64; 2]) {
    let n = sorted.len();
    if n == 0 {
        return (f64::NAN, [f64::NAN; 2]);
    }
    let at = |r: f64| sorted[(r.max(1.0).ceil() as usize).min(n) - 1];
    let nq = n as f64 * q;
    let half = 1.96 * (nq * (1.0 - q)).sqrt();
    (at(nq), [at(nq - half), at(nq + half + 1.0)])
}

/// A figure from per-year (or per-incident, tagged by year) values.
pub fn figure(name: &str, values: &[(usize, f64)], n: usize, b: usize, quantile: bool) -> Figure {
    let by_batch = batch_means(values, n, b);
    let means: Vec<f64> = by_batch.iter().flatten().copied().collect();
    let mean = if values.is_empty() {
        f64::NAN
    } else {
        values.iter().map(|v| v.1).sum::<f64>() / values.len() as f64
    };
    let (_, _, half) = stats(&means);
    let (p99, p99_ci95) = if quantile {
        let mut sorted: Vec<f64> = values.iter().map(|v| v.1).collect();
        sorted.sort_by(f64::total_cmp);
        let (p, ci) = quantile_ci(&sorted, 0.99);
        (Some(p), Some(ci))
    } else {
        (None, None)
    };
    Figure {
        name: name.to_string(),
        mean,
        mean_ci95: [mean - half, mean + half],
        p99,
        p99_ci95,
        batch_means: by_batch,
    }
}

impl Figures {
    /// The figures of a study's years.
    pub fn of(study: &Study, years: &[Year], lib: &[Vec<Impact>]) -> Self {
        let (n, b) = (years.len(), study.spec.batches as usize);
        let mut figures = Vec::new();
        for (name, f) in ANNUAL {
            let v: Vec<(usize, f64)> = years.iter().enumerate().map(|(y, yr)| (y, f(yr))).collect();
            figures.push(figure(name, &v, n, b, name != "lfdd_probability"));
        }
        // Incident times, over the incidents the years drew.
        type Pick = fn(&Impact) -> Option<f64>;
        let times: [(&str, Pick); 2] = [
            ("time_to_detect_s", |i| i.detect_s),
            ("time_to_contain_s", |i| i.contain_s),
        ];
        for (name, pick) in times {
            let mut v = Vec::new();
            let mut within = Vec::new();
            for (y, yr) in years.iter().enumerate() {
                for &(o, e) in &yr.drawn {
                    let t = pick(&lib[o][e]);
                    within.push((y, t.is_some() as u8 as f64));
                    if let Some(t) = t {
                        v.push((y, t));
                    }
                }
            }
            figures.push(figure(name, &v, n, b, false));
            let share = name
                .replace("time_to_", "")
                .replace("_s", "_within_window_share");
            figures.push(figure(&share, &within, n, b, false));
        }
        let total = figures[2].mean;
        let mut organisations: Vec<OrgFigure> = study
            .spec
            .organisations
            .iter()
            .enumerate()
            .map(|(o, org)| {
                let v: Vec<(usize, f64)> = years
                    .iter()
                    .enumerate()
                    .map(|(y, yr)| (y, yr.by_org[o]))
                    .collect();
                let f = figure(&org.name, &v, n, b, false);
                let per = if lib[o].is_empty() {
                    0.0
                } else {
                    lib[o].iter().map(|i| i.meter_hours).sum::<f64>() / lib[o].len() as f64
                };
                OrgFigure {
                    name: org.name.clone(),
                    kind: org.kind.as_str(),
                    annual_rate: study.rates().annual_rate(org),
                    meter_hours_per_year: f.mean,
                    meter_hours_ci95: f.mean_ci95,
                    share: if total > 0.0 { f.mean / total } else { 0.0 },
                    meter_hours_per_incident: per,
                    rank: 0,
                    figure: f,
                }
            })
            .collect();
        // The weakest link first; ties keep the scenario's order.
        organisations.sort_by(|a, b| b.meter_hours_per_year.total_cmp(&a.meter_hours_per_year));
        for (i, o) in organisations.iter_mut().enumerate() {
            o.rank = i + 1;
        }
        Figures {
            figures,
            organisations,
        }
    }

    /// The figure named `name`.
    pub fn get(&self, name: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.name == name)
    }
}
