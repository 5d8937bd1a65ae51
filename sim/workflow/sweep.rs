//! `dccsim sweep`: the cross product of varied values times R replications.
//!
//! Replication `r` of every setting uses the same seed, derived from the
//! scenario's root seed and `r` (common random numbers, so settings are
//! compared on the same random draws). Runs execute in parallel, each on
//! one engine thread, and each keeps its results folder under `runs/`.
//! `sweep.csv` has one row per setting and metric: n, mean, standard
//! deviation and a 95% confidence interval (Student t). Nothing in it
//! depends on `--threads`.
//!
//! Over MPI ranks (`mpirun -np R dccsim sweep ...`, the `mpi` feature),
//! run `k` of the list runs on rank `k mod R` (each on `--threads`
//! threads, one run per thread); the ranks' summaries are gathered on
//! rank 0, which writes `sweep.csv` and the plots: the same files as in
//! one process. Every rank writes its runs' folders under `runs/`, so the
//! output folder must be on a file system every rank sees.

use crate::workflow::run::RunOptions;
use crate::workflow::scenario::{self, ScenarioError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Metrics summarised per setting (dotted paths into `summary.json`); a
/// metric absent or null in a run (e.g. never detected) is left out of n.
pub const METRICS: &[&str] = &[
    "meters_disconnected_max",
    "mw_disconnected_max",
    "time_to_detect_s",
    "time_to_contain_s",
    "time_to_restore_95pct_s",
    "time_to_restore_95pct_mw_s",
    "frequency_min_hz",
    "frequency_max_hz",
    "quarantined",
    "attack.executed",
    "anchors_replaced",
    "checker_violations",
    "crypto_ground_truth_mismatches",
    "events",
    "requests.scheduled_read.latency_ms_p99",
    "requests.on_demand_read.latency_ms_p99",
    "requests.prepayment_topup.latency_ms_p99",
    "requests.alert.latency_ms_p99",
    "requests.tariff_update.latency_ms_p50",
    "requests.tariff_update.latency_ms_p99",
    "components.dsp.utilisation_peak",
    "components.csp_north.utilisation_peak",
    "components.csp_north_uplink.utilisation_peak",
];

/// One varied key and its values (as TOML literals).
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// Dotted key.
    pub key: String,
    /// Values, as written.
    pub values: Vec<String>,
}

/// Over ranks: every rank learns whether any run failed (the error), then
/// rank 0 collects every rank's summaries into `results`. `true` on rank 0.
fn gather_on_root(
    t: &dyn crate::engine::transport::Transport,
    failure: Option<SweepError>,
    results: &mut [Option<Value>],
) -> Result<bool, SweepError> {
    let (me, n_ranks) = (t.rank(), t.ranks());
    let mut failed = [failure.is_some() as u64];
    t.sum_u64s(&mut failed);
    if failed[0] > 0 {
        return Err(failure
            .unwrap_or_else(|| SweepError::Run("a run on another rank".into(), "failed".into())));
    }
    let mut send = vec![Vec::new(); n_ranks];
    for (k, s) in results.iter().enumerate() {
        if let (true, Some(s)) = (k % n_ranks == me, s) {
            let bytes = serde_json::to_vec(s).expect("serialisable");
            send[0].extend_from_slice(&(k as u64).to_le_bytes());
            send[0].extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            send[0].extend_from_slice(&bytes);
        }
    }
    let got = t.all_to_all(&send);
    if me != 0 {
        return Ok(false);
    }
    for mut b in got.iter().map(|v| &v[..]) {
        while !b.is_empty() {
            let k = u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize;
            let len = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")) as usize;
            results[k] = serde_json::from_slice(&b[16..16 + len]).ok();
            b = &b[16 + len..];
        }
    }
    Ok(true)
}

/// Parses `key=v1,v2,...`.
pub fn parse_vary(s: &str) -> Result<Vary, String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("--vary {s:?}: expected key=v1,v2,..."))?;
    let values: Vec<String> = v.split(',').map(|x| x.trim().to_string()).collect();
    if k.trim().is_empty() || values.iter().any(String::is_empty) {
        return Err(format!(
            "--vary {s:?}: expected key=v1,v2,... with no empty value"
        ));
    }
    Ok(Vary {
        key: k.trim().to_string(),
        values,
    })
}

/// The seed of replication `r`.
pub fn replication_seed(root: u64, r: u32) -> u64 {
    crate::models::system::world::hash_parts(&[root, 0x0053_5745_4550, r as u64]) >> 1
}

/// What a sweep needs.
pub struct SweepSpec<'a> {
    /// The scenario file.
    pub scenario: &'a Path,
    /// Fixed overrides.
    pub sets: &'a [String],
    /// Varied keys.
    pub vary: &'a [Vary],
    /// Replications per setting.
    pub replications: u32,
    /// Parallel runs.
    pub threads: usize,
    /// Output folder.
    pub out: &'a Path,
    /// Print progress lines.
    pub quiet: bool,
}

/// Why a sweep failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A setting made the scenario invalid.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A run failed.
    #[error("run {0}: {1}")]
    Run(String, String),
    /// Writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Mean, standard deviation and 95% confidence half-width of `xs`.
pub fn stats(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, f64::NAN, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    (mean, sd, t95(n - 1) * sd / (n as f64).sqrt())
}

/// Two-sided 95% Student t quantile for `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Runs the sweep; returns the path of `sweep.csv`.
pub fn sweep(spec: &SweepSpec<'_>) -> Result<PathBuf, SweepError> {
    sweep_on(spec, crate::workflow::mpi::ranks())
}

/// [`sweep`] over the ranks of `ranks` (see the module docs); every rank
/// returns the path of `sweep.csv`, which rank 0 writes.
pub fn sweep_on(
    spec: &SweepSpec<'_>,
    ranks: Option<Box<dyn crate::engine::transport::Transport>>,
) -> Result<PathBuf, SweepError> {
    let (me, n_ranks) = ranks.as_ref().map_or((0, 1), |t| (t.rank(), t.ranks()));
    // The settings: cross product, first key slowest.
    let mut settings: Vec<Vec<String>> = vec![Vec::new()];
    for v in spec.vary {
        settings = settings
            .into_iter()
            .flat_map(|s| {
                v.values.iter().map(move |x| {
                    let mut s = s.clone();
                    s.push(x.clone());
                    s
                })
            })
            .collect();
    }
    let base = scenario::load(Some(spec.scenario), spec.sets, None)?;
    let root = base.scenario.scenario.seed;
    // Check every setting before running anything.
    let mut jobs = Vec::new();
    for (i, s) in settings.iter().enumerate() {
        for r in 0..spec.replications {
            let mut sets = spec.sets.to_vec();
            for (v, x) in spec.vary.iter().zip(s) {
                sets.push(format!("{}={}", v.key, x));
            }
            let l = scenario::load(Some(spec.scenario), &sets, Some(replication_seed(root, r)))?;
            jobs.push((i, r, l));
        }
    }
    std::fs::create_dir_all(spec.out)?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Value>>> = Mutex::new(vec![None; jobs.len()]);
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..spec.threads.max(1).min(jobs.len().max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some((i, r, l)) = jobs.get(k) else {
                    break;
                };
                if k % n_ranks != me {
                    continue;
                }
                let name = format!("s{i:03}_r{r:02}");
                let opts = RunOptions {
                    out: spec.out.join("runs").join(&name),
                    threads: 1,
                    quiet: true,
                    farm_prepare: false,
                };
                match crate::workflow::run::run(l, &opts, None) {
                    Ok(o) => {
                        let s = std::fs::read(o.dir.join("summary.json"))
                            .ok()
                            .and_then(|b| serde_json::from_slice(&b).ok());
                        if !spec.quiet {
                            eprintln!("sweep: {name} done ({} of {})", k + 1, jobs.len());
                        }
                        results.lock().expect("not poisoned")[k] = s;
                    }
                    Err(e) => {
                        *failure.lock().expect("not poisoned") =
                            Some(SweepError::Run(name, e.to_string()));
                        next.store(usize::MAX / 2, Ordering::SeqCst);
                        break;
                    }
                }
            });
        }
    });
    let failure = failure.into_inner().expect("not poisoned");
    let mut results = results.into_inner().expect("not poisoned");
    let path = spec.out.join("sweep.csv");
    if let Some(t) = &ranks {
        if !gather_on_root(t.as_ref(), failure, &mut results)? {
            return Ok(path);
        }
    } else if let Some(e) = failure {
        return Err(e);
    }
    let mut csv = String::new();
    for v in spec.vary {
        csv.push_str(&v.key);
        csv.push(',');
    }
    csv.push_str("metric,n,mean,sd,ci95_low,ci95_high\n");
    for (i, s) in settings.iter().enumerate() {
        for m in METRICS {
            let xs: Vec<f64> = jobs
                .iter()
                .zip(&results)
                .filter(|((ji, _, _), _)| *ji == i)
                .filter_map(|(_, r)| r.as_ref().and_then(|r| get(r, m)).and_then(Value::as_f64))
                .collect();
            let (mean, sd, half) = stats(&xs);
            for x in s {
                csv.push_str(&x.replace(',', ";"));
                csv.push(',');
            }
            csv.push_str(&format!(
                "{m},{},{},{},{},{}\n",
                xs.len(),
                fmt(mean),
                fmt(sd),
                fmt(mean - half),
                fmt(mean + half)
            ));
        }
    }
    crate::workflow::results::write_atomic(&path, csv.as_bytes())?;
    crate::workflow::plot::plot_all(spec.out).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(path)
}
