//! `dccsim run`: a scenario from file to results folder.

use crate::engine::transport::Transport;
use crate::models::phold;
use crate::workflow::attacks_label;
use crate::workflow::results::ResultsDir;
use crate::workflow::scenario::Loaded;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Options of one run that are not part of the scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results folder.
    pub out: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// No progress output.
    pub quiet: bool,
    /// Over MPI ranks: spread the DSP's signature checks over every rank
    /// (`Simulation::farm_prepare`). Never changes results.
    pub farm_prepare: bool,
}

/// Why a run could not produce results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run would need more memory than the machine has available.
    #[error("{0}")]
    TooBig(String),
    /// Writing results failed.
    #[error("writing results to {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// What a finished (or interrupted) run reports back.
#[derive(Debug)]
pub struct RunOutcome {
    /// The results folder.
    pub dir: PathBuf,
    /// True when the run was interrupted and its results are partial.
    pub partial: bool,
    /// A few human-readable lines for the terminal.
    pub human: String,
}

/// Estimated bytes of memory a scenario needs.
pub fn memory_estimate_bytes(l: &Loaded) -> u64 {
    if l.scenario.scenario.model == "system" {
        return l
            .scenario
            .system()
            .map(|s| s.memory_estimate_bytes())
            .unwrap_or(0);
    }
    match &l.scenario.phold {
        Some(p) => p.memory_estimate_bytes(),
        None => 0,
    }
}

/// Refuses a run whose memory estimate exceeds what the machine has available.
pub fn check_fits(l: &Loaded) -> Result<u64, RunError> {
    let need = memory_estimate_bytes(l);
    if let Some(avail) = crate::workflow::perf::available_memory_bytes() {
        if need > avail / 10 * 9 {
            return Err(RunError::TooBig(format!(
                "this run needs about {:.1} GiB of memory but only {:.1} GiB is available; reduce the fleet or event counts",
                need as f64 / (1u64 << 30) as f64,
                avail as f64 / (1u64 << 30) as f64
            )));
        }
    }
    Ok(need)
}

/// Runs a loaded scenario and writes its results folder.
pub fn run(
    l: &Loaded,
    opts: &RunOptions,
    interrupt: Option<&AtomicBool>,
) -> Result<RunOutcome, RunError> {
    run_on(l, opts, interrupt, None)
}

/// [`run`] over the ranks of `ranks` (MPI: `mpirun -np R dccsim run`): the
/// scenario's shards are spread over the ranks, and rank 0 writes the
/// results folder, the same files as one process (`perf.json` and
/// `manifest.json` record the ranks). The other ranks write nothing and
/// get an outcome with no text. The ranks first agree that every one of
/// them fits in memory and that rank 0 could create the folder, so a
/// refusal on one rank is a refusal on all (none waits for the others).
pub fn run_on(
    l: &Loaded,
    opts: &RunOptions,
    interrupt: Option<&AtomicBool>,
    ranks: Option<Box<dyn Transport>>,
) -> Result<RunOutcome, RunError> {
    let (rank, n_ranks) = ranks.as_ref().map_or((0, 1), |t| (t.rank(), t.ranks()));
    let io = |source| RunError::Io {
        path: opts.out.clone(),
        source,
    };
    let fits = check_fits(l);
    let dir = (rank == 0 && fits.is_ok()).then(|| ResultsDir::create(&opts.out));
    if let Some(t) = &ranks {
        let mut bad = [fits.is_err() as u64, matches!(dir, Some(Err(_))) as u64];
        t.sum_u64s(&mut bad);
        if fits.is_ok() && bad[0] > 0 {
            return Err(RunError::TooBig(
                "another rank has too little memory for this run".into(),
            ));
        }
        if dir.is_none() && bad[1] > 0 {
            return Err(io(std::io::Error::other("rank 0 could not create it")));
        }
    }
    let need = fits?;
    let dir = dir.transpose().map_err(io)?;
    let s = &l.scenario;
    let here = Here {
        dir,
        need,
        ranks,
        n_ranks,
    };
    if s.scenario.model == "system" {
        return run_system(l, opts, interrupt, here);
    }
    let p = s
        .phold
        .as_ref()
        .expect("checked: the phold model has parameters");
    let t0 = std::time::Instant::now();
    let bar = crate::workflow::progress::Bar::new(opts.quiet || rank != 0);
    let r = phold::run_on(
        p,
        s.scenario.seed,
        s.scenario.shards,
        opts.threads,
        s.scenario.max_events,
        interrupt,
        here.ranks,
        |pr| bar.update(pr),
    );
    bar.finish();
    let Some(mut dir) = here.dir else {
        return Ok(RunOutcome::elsewhere(opts, r.report.stop));
    };
    let wall_s = t0.elapsed().as_secs_f64();
    let rep = &r.report;
    let partial = rep.stop == crate::engine::StopReason::Interrupted;
    let summary = json!({
        "model": "phold",
        "scenario": s.scenario.name,
        "seed": s.scenario.seed,
        "shards": s.scenario.shards,
        "status": if partial { "partial" } else { "complete" },
        "stop_reason": rep.stop.as_str(),
        "simulated_time_reached_s": rep.reached.as_secs_f64(),
        "events": rep.events,
        "events_digest": format!("{:016x}", rep.digest),
        "windows": rep.windows,
        "pending_events_at_end": rep.pending,
        "events_per_lp_per_simulated_s": rep.events as f64 / p.lps as f64 / rep.reached.as_secs_f64().max(1e-12),
    });
    dir.write_json("summary.json", &summary).map_err(io)?;
    note_loads(&mut dir, &r.rank_loads);
    let timing = (wall_s, r.setup_wall_s, r.run_wall_s, rep.events);
    let dir = finish(l, opts, dir, (here.need, n_ranks), timing, rep.stop).map_err(io)?;
    let human = format!(
        "{} {}: {} events in {:.2} s wall ({:.2} M events/s), simulated {:.3} s, stopped: {}\nresults: {}\nreproduce with: {}",
        if partial { "PARTIAL" } else { "done" },
        s.scenario.name,
        rep.events,
        wall_s,
        rep.events as f64 / r.run_wall_s.max(1e-9) / 1e6,
        rep.reached.as_secs_f64(),
        rep.stop.as_str(),
        dir.display(),
        reproduce_line(l, &opts.out)
    );
    Ok(RunOutcome {
        dir,
        partial,
        human,
    })
}

fn reproduce_line(l: &Loaded, out: &Path) -> String {
    let file = l
        .path
        .as_ref()
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default();
    let sets: String = l.sets.iter().map(|s| format!(" --set '{s}'")).collect();
    format!(
        "dccsim run{file}{sets} --seed {} --out {}",
        l.scenario.scenario.seed,
        out.display()
    )
}

/// What a rank has of a run: rank 0 the results folder, and the ranks.
struct Here {
    dir: Option<ResultsDir>,
    need: u64,
    ranks: Option<Box<dyn Transport>>,
    n_ranks: usize,
}

impl RunOutcome {
    /// A rank other than 0: rank 0 wrote the results.
    fn elsewhere(opts: &RunOptions, stop: crate::engine::StopReason) -> RunOutcome {
        RunOutcome {
            dir: opts.out.clone(),
            partial: stop == crate::engine::StopReason::Interrupted,
            human: String::new(),
        }
    }
}

fn run_system(
    l: &Loaded,
    opts: &RunOptions,
    interrupt: Option<&AtomicBool>,
    here: Here,
) -> Result<RunOutcome, RunError> {
    let s = &l.scenario;
    let io = |source| RunError::Io {
        path: opts.out.clone(),
        source,
    };
    let sys = s.system().expect("checked when the scenario was loaded");
    let bar = crate::workflow::progress::Bar::new(opts.quiet || here.dir.is_none());
    let t0 = std::time::Instant::now();
    let r = crate::models::system::run::run_on(
        &sys,
        s.scenario.seed,
        s.scenario.shards,
        opts.threads,
        s.scenario.max_events,
        interrupt,
        (here.ranks, opts.farm_prepare),
        |p| bar.update(p),
    );
    bar.finish();
    let (Some(r), Some(mut dir)) = (r.1, here.dir) else {
        return Ok(RunOutcome::elsewhere(opts, r.0.stop));
    };
    let wall_s = t0.elapsed().as_secs_f64();
    let partial = r.report.stop == crate::engine::StopReason::Interrupted;
    dir.write_json("summary.json", &r.summary).map_err(io)?;
    for (name, text) in &r.histograms {
        dir.write_bytes(name, text.as_bytes()).map_err(io)?;
    }
    dir.write_bytes("timeseries.csv", r.timeseries.as_bytes())
        .map_err(io)?;
    dir.write_bytes("timeline.csv", r.timeline.as_bytes())
        .map_err(io)?;
    let plots =
        crate::workflow::plot::plot_all(dir.path()).map_err(|e| io(std::io::Error::other(e)))?;
    for p in &plots {
        dir.record(p);
    }
    let timing = (wall_s, r.wall_s.0, r.wall_s.1, r.report.events);
    note_loads(&mut dir, &r.rank_loads);
    // Barriers the engine ran (fewer than the windows when a round spans
    // several: `run.window_ms`): what its speed depends on, not a result.
    dir.note_perf_json("engine_rounds", json!(r.report.windows));
    dir.note_perf("checker_wall_s", r.wall_s.2);
    dir.note_perf("post_run_wall_s", r.wall_s.3);
    let dir = finish(
        l,
        opts,
        dir,
        (here.need, here.n_ranks),
        timing,
        r.report.stop,
    )
    .map_err(io)?;
    let mut human = format!(
        "{} {}: {} meters, {} events in {:.2} s wall, simulated {:.1} h, stopped: {}\n",
        if partial { "PARTIAL" } else { "done" },
        s.scenario.name,
        sys.fleet.meters,
        r.report.events,
        wall_s,
        r.report.reached.as_secs_f64() / 3600.0,
        r.report.stop.as_str()
    );
    if let Some(req) = r.summary["requests"].as_object() {
        for (k, v) in req {
            human.push_str(&format!(
                "  {k:<18} sent {:>10}  p50 {:>9.1} ms  p99 {:>9.1} ms\n",
                v["sent"],
                v["latency_ms_p50"].as_f64().unwrap_or(0.0),
                v["latency_ms_p99"].as_f64().unwrap_or(0.0)
            ));
        }
    }
    human.push_str(&busiest_line(&r.summary));
    human.push_str(&attack_lines(&r.summary));
    human.push_str(&format!(
        "  crypto checks {}, ground-truth mismatches {}\nresults: {}\nreproduce with: {}",
        r.summary["crypto_checked"],
        r.summary["crypto_ground_truth_mismatches"],
        dir.display(),
        reproduce_line(l, &opts.out)
    ));
    Ok(RunOutcome {
        dir,
        partial,
        human,
    })
}

/// The component with the busiest minute: where capacity binds first.
fn busiest_line(s: &serde_json::Value) -> String {
    let Some(c) = s["components"].as_object() else {
        return String::new();
    };
    let peak = |v: &serde_json::Value| v["utilisation_peak"].as_f64().unwrap_or(0.0);
    let Some((name, v)) = c.iter().max_by(|a, b| peak(a.1).total_cmp(&peak(b.1))) else {
        return String::new();
    };
    let at = v["utilisation_peak_clock_min"]
        .as_u64()
        .map(|m| format!(" at {:02}:{:02}", m / 60 % 24, m % 60))
        .unwrap_or_default();
    format!(
        "  busiest component: {name}, {:.0}% of its capacity in its busiest minute{at} ({:.0}% over the run){}\n",
        100.0 * peak(v),
        100.0 * v["utilisation"].as_f64().unwrap_or(0.0),
        if peak(v) >= 0.95 { ": SATURATED" } else { "" }
    )
}

/// The attack part of the human summary (empty without an attack).
fn attack_lines(s: &serde_json::Value) -> String {
    let a = &s["attack"];
    if a.is_null() {
        return String::new();
    }
    let t = |k: &str| match s[k].as_f64() {
        Some(v) => format!("{:.0} s ({:.1} min)", v, v / 60.0),
        None => "not within the run".to_string(),
    };
    format!(
        "  attack {}: {} sent, {} executed; {} quarantined\n  \
         meters off at most {}, {:.2} MW; detected after {}, contained after {}, \
         95% restored after {} (of MW: {})\n  frequency {:.3}-{:.3} Hz, LFDD {}; anchors replaced {}; \
         checker violations {}\n",
        attacks_label(s),
        a["sent"],
        a["executed"],
        s["quarantined"],
        s["meters_disconnected_max"],
        s["mw_disconnected_max"].as_f64().unwrap_or(0.0),
        t("time_to_detect_s"),
        t("time_to_contain_s"),
        t("time_to_restore_95pct_s"),
        t("time_to_restore_95pct_mw_s"),
        s["frequency_min_hz"].as_f64().unwrap_or(0.0),
        s["frequency_max_hz"].as_f64().unwrap_or(0.0),
        if s["lfdd_triggered"] == true {
            "triggered"
        } else {
            "not triggered"
        },
        s["anchors_replaced"],
        s["checker_violations"],
    )
}

/// Over several ranks, `perf.json` gets each rank's events and wall
/// times (`rank_events`, `rank_busy_s`, `rank_comm_s`, in rank order) and
/// `load_imbalance`, the slowest rank's busy time over the mean.
fn note_loads(dir: &mut ResultsDir, loads: &[crate::engine::RankLoad]) {
    if loads.len() < 2 {
        return;
    }
    dir.note_perf_json(
        "rank_events",
        json!(loads.iter().map(|l| l.events).collect::<Vec<_>>()),
    );
    dir.note_perf_json(
        "rank_busy_s",
        json!(loads.iter().map(|l| l.busy_s).collect::<Vec<_>>()),
    );
    dir.note_perf_json(
        "rank_comm_s",
        json!(loads.iter().map(|l| l.comm_s).collect::<Vec<_>>()),
    );
    dir.note_perf("load_imbalance", crate::engine::RankLoad::imbalance(loads));
}

/// Writes `perf.json`, then the manifest (last), for any model.
/// `timing` is (wall, setup wall, run wall seconds, events run).
fn finish(
    l: &Loaded,
    opts: &RunOptions,
    mut dir: ResultsDir,
    (need, ranks): (u64, usize),
    timing: (f64, f64, f64, u64),
    stop: crate::engine::StopReason,
) -> std::io::Result<PathBuf> {
    let (wall_s, setup_s, run_s, events) = timing;
    let s = &l.scenario;
    let perf = json!({
        "wall_s": wall_s,
        "setup_wall_s": setup_s,
        "run_wall_s": run_s,
        "events_per_s": events as f64 / run_s.max(1e-9),
        "threads": opts.threads,
        "ranks": ranks,
        "peak_rss_bytes": crate::workflow::perf::peak_rss_bytes(),
        "memory_estimate_bytes": need,
    });
    let mut perf = perf;
    for (k, v) in dir.perf_notes() {
        perf[k.as_str()] = json!(v);
    }
    dir.write_json("perf.json", &perf)?;
    let manifest = json!({
        "dccsim_version": env!("CARGO_PKG_VERSION"),
        "status": if stop == crate::engine::StopReason::Interrupted { "partial" } else { "complete" },
        "scenario_name": s.scenario.name,
        "scenario_file": l.path.as_ref().map(|p| p.display().to_string()),
        "scenario_sha256": l.sha256,
        "seed": s.scenario.seed,
        "threads": opts.threads,
        "ranks": ranks,
        "shards": s.scenario.shards,
        "stop_reason": stop.as_str(),
        "files": dir.written().to_vec(),
        "reproduce_with": reproduce_line(l, &opts.out),
    });
    dir.finish(&manifest)
}
