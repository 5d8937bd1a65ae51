//! `dccsim risk`, `dccsim assess` and `dccsim explore`: the command-line
//! side of governance risk studies (`workflow::risk`) and of the
//! exploration of random scenarios (`workflow::explore`).

use super::{default_threads, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use crate::workflow::risk::{Request, RiskError};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub(super) struct StudyArgs {
    /// Simulated years (default: the scenario's risk.years).
    #[arg(long)]
    years: Option<u32>,
    /// Incident runs in parallel (each uses one engine thread). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Override a scenario value: path.to.key=value (repeatable; applied to every scenario).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub(super) struct RiskArgs {
    /// Scenario file (TOML) with a [risk] table.
    scenario: PathBuf,
    /// Output folder (default: results/risk-<scenario file name>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    study: StudyArgs,
}

#[derive(Args, Debug)]
pub(super) struct AssessArgs {
    /// The base scenario (TOML, with a [risk] table).
    base: PathBuf,
    /// The proposed change (TOML, with a [risk] table); studied on the base's seed and settings.
    proposed: PathBuf,
    /// Output folder (default: results/assess-<base>-vs-<proposed>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a value of the proposal only: path.to.key=value (repeatable; after --set).
    /// With the base's file as PROPOSED, this states a proposal as a change of values.
    #[arg(long = "set-proposed", value_name = "KEY=VALUE")]
    sets_proposed: Vec<String>,
    #[command(flatten)]
    study: StudyArgs,
}

pub(super) fn cmd_risk(a: RiskArgs) -> i32 {
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(format!("risk-{}", stem(&a.scenario))));
    cmd_study(&a.study, &out, &[], |req| {
        crate::workflow::risk::risk(&a.scenario, req)
    })
}

pub(super) fn cmd_assess(a: AssessArgs) -> i32 {
    let out = a.out.unwrap_or_else(|| {
        let name = format!("assess-{}-vs-{}", stem(&a.base), stem(&a.proposed));
        PathBuf::from("results").join(name)
    });
    cmd_study(&a.study, &out, &a.sets_proposed, |req| {
        crate::workflow::risk::assess_files(&a.base, &a.proposed, req)
    })
}

/// A file's name without its extension.
fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into())
}

/// Runs a risk study or an assessment and maps its outcome to an exit code.
fn cmd_study(
    a: &StudyArgs,
    out: &Path,
    sets_proposed: &[String],
    f: impl FnOnce(&Request<'_>) -> Result<PathBuf, RiskError>,
) -> i32 {
    let threads = a.threads.unwrap_or_else(default_threads);
    if threads == 0 || threads > 1024 {
        eprintln!("error: --threads must be between 1 and 1024, got {threads}");
        return EXIT_BAD_INPUT;
    }
    let req = Request {
        sets: &a.sets,
        sets_proposed,
        years: a.years,
        threads,
        out,
        quiet: a.quiet,
    };
    match f(&req) {
        Ok(dir) => {
            if !a.quiet && crate::workflow::mpi::rank() == 0 {
                println!("results: {}", dir.display());
                if let Ok(r) = std::fs::read_to_string(dir.join("report.md")) {
                    print!("{r}");
                }
            }
            EXIT_OK
        }
        Err(RiskError::Input(e)) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

#[derive(Args, Debug)]
pub(super) struct ExploreArgs {
    /// Runs to make (default: as many as fit in --minutes).
    #[arg(long)]
    runs: Option<u64>,
    /// Wall-clock budget in minutes, without --runs.
    #[arg(long, default_value_t = 2.0)]
    minutes: f64,
    /// Root seed of the scenario draws (a failure names the run that reproduces it).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Meters per run.
    #[arg(long, default_value_t = 2000)]
    meters: u32,
    /// Where failing scenarios are written.
    #[arg(long, default_value = "results/explore")]
    out: PathBuf,
    /// Print only failures and the summary.
    #[arg(long, short)]
    quiet: bool,
}

pub(super) fn cmd_explore(a: ExploreArgs) -> i32 {
    if !(a.minutes > 0.0 && a.minutes.is_finite()) || a.runs == Some(0) {
        eprintln!("error: --minutes must be positive and --runs at least 1");
        return EXIT_BAD_INPUT;
    }
    if !(100..=1_000_000).contains(&a.meters) {
        eprintln!(
            "error: --meters must be between 100 and 1000000, got {}",
            a.meters
        );
        return EXIT_BAD_INPUT;
    }
    let spec = crate::workflow::explore::ExploreSpec {
        runs: a.runs,
        minutes: a.minutes,
        seed: a.seed,
        meters: a.meters,
        out: &a.out,
        quiet: a.quiet,
    };
    match crate::workflow::explore::explore(&spec) {
        Ok(0) => EXIT_OK,
        Ok(_) => EXIT_FAILED,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

#[derive(Args, Debug)]
pub(super) struct FuzzReplayArgs {
    /// The target: gbcs, utrn, x509, smki_cert, scenario or wycheproof.
    target: String,
    /// The input file (raw bytes, as the fuzzer saved it).
    file: PathBuf,
}

/// Exit 0 when the target returns (a panic is a crash: exit 101 with its message).
pub(super) fn cmd_fuzz_replay(a: FuzzReplayArgs) -> i32 {
    let data = match std::fs::read(&a.file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", a.file.display());
            return EXIT_BAD_INPUT;
        }
    };
    if !crate::workflow::fuzz::run(&a.target, &data) {
        eprintln!(
            "error: unknown fuzz target {:?}; known: {}",
            a.target,
            crate::workflow::fuzz::TARGETS.join(", ")
        );
        return EXIT_BAD_INPUT;
    }
    println!("{} {}: no panic", a.target, a.file.display());
    EXIT_OK
}
