//! The `dccsim` command line.
//!
//! Exit codes (also in README.md):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the run failed (e.g. results could not be written) |
//! | 2 | bad input: scenario file, override or command-line usage |
//! | 3 | refused: the run would not fit in available memory |
//! | 130 | interrupted (Ctrl-C or SIGTERM); results written and marked partial |

use crate::models::phold::PholdParams;
use crate::workflow::run::{RunError, RunOptions};
use crate::workflow::scenario;
mod study;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use study::{AssessArgs, RiskArgs};

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for a failed run.
pub const EXIT_FAILED: i32 = 1;
/// Exit code for bad input.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code for a run refused because it would not fit.
pub const EXIT_TOO_BIG: i32 = 3;
/// Exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Deterministic, parallel simulator of Great Britain's smart metering system.
#[derive(Parser, Debug)]
#[command(name = "dccsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario (the built-in default when no file is given) and write a results folder.
    Run(RunArgs),
    /// GBCS messages: verify hex files against a keystore, or write samples of what the simulator sends.
    #[command(subcommand)]
    Gbcs(GbcsCommand),
    /// Check a scenario file without running it.
    Validate {
        /// The scenario file.
        file: PathBuf,
        /// Override a value: path.to.key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Run a scenario over the cross product of varied values, with replications.
    Sweep(SweepArgs),
    /// A governance risk study: compromises drawn from the organisations' posture over
    /// simulated years, each incident simulated with the real model.
    Risk(RiskArgs),
    /// Assess a proposed change against a base by the same risk study (common random numbers).
    Assess(AssessArgs),
    /// Run many small random scenarios against the model's invariants (checker, conservation, determinism).
    Explore(study::ExploreArgs),
    /// Feed one file to a fuzz target (reproduces a crash found by `fuzz/run.sh`).
    FuzzReplay(study::FuzzReplayArgs),
    /// Compare two results folders' summaries side by side (printed, CSV and Markdown).
    Compare {
        /// Results folder A (the baseline).
        a: PathBuf,
        /// Results folder B (the proposal).
        b: PathBuf,
        /// Where to write compare.csv and compare.md (default: B's folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a one-page Markdown report (report.md) of a results folder.
    Report {
        /// The results folder.
        results: PathBuf,
    },
    /// Redraw every plot of a results folder (SVG).
    Plot {
        /// The results folder.
        results: PathBuf,
    },
    /// Benchmarks that print one JSON object.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Cryptography conformance tools.
    #[command(subcommand)]
    Crypto(CryptoCommand),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Scenario file (TOML). Without it, the built-in default runs.
    scenario: Option<PathBuf>,
    /// Results folder (default: results/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Root seed, replacing the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Override a scenario value: path.to.key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Over MPI ranks: spread the DSP's checks over every rank (for many
    /// ranks; slower at 2, benches/README.md). Results do not depend on it.
    #[arg(long)]
    farm_prepare: bool,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// A varied key and its values: path.to.key=v1,v2,... (repeatable; cross product).
    #[arg(long = "vary", value_name = "KEY=V1,V2,...", required = true)]
    vary: Vec<String>,
    /// Replications per setting (seeds derived from the scenario's root seed).
    #[arg(long, default_value_t = 5)]
    replications: u32,
    /// Runs in parallel (each run uses one engine thread). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output folder (default: results/sweep-<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Fixed overrides: path.to.key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Engine, crypto and end-to-end figures as one JSON object.
    All {
        /// Also write the JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// The larger sizes (minutes, not seconds).
        #[arg(long)]
        full: bool,
    },
    /// Compare figures with a baseline; exits 1 naming every figure that regressed.
    Check {
        /// The baseline (a saved `bench all --json` file).
        #[arg(long, default_value = "benches/baseline.json")]
        baseline: PathBuf,
        /// Use these already measured figures instead of running `bench all`.
        #[arg(long)]
        current: Option<PathBuf>,
    },
    /// PHOLD on the engine against a sequential binary heap, same workload.
    Phold(PholdArgs),
    /// The crypto layer: fast against stock p256, all measured in this run.
    Crypto {
        /// Threads for the parallel batch-verify figure.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seconds spent measuring each figure.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
    },
}

#[derive(Subcommand, Debug)]
enum GbcsCommand {
    /// Check GBCS messages in hex files (RTDS layout; files or folder trees): signatures,
    /// MACs, encrypted blocks, top-up tokens, pre-command/command consistency. One line per
    /// file, then `N passed, M failed`; exit 1 on any failure.
    Verify {
        /// Hex files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Keystore folder in RTDS layout (`<eui>-ds.pem`, `<eui>-ka.key`, `-pp-ka` ...).
        #[arg(long)]
        keystore: PathBuf,
        /// The access control broker's EUI (16 hex digits); default: `parties.json` beside
        /// the keystore, else RTDS's 90B3D51F30000002.
        #[arg(long)]
        acb: Option<String>,
    },
    /// Write one message of every kind the simulator sends (commands, pre-commands,
    /// responses, alerts, top-ups, credential updates, attack messages) as RTDS-style hex
    /// files, with `keystore/` and `parties.json`; check them with `dccsim gbcs verify`.
    Sample {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the keys (default: the built-in scenario's).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
enum CryptoCommand {
    /// Run a Wycheproof test file (ECDSA P-256/SHA-256 in P1363 or DER form, or ECDH P-256)
    /// through the fast verifiers; prints `N passed, M failed`.
    Wycheproof {
        /// The JSON test file.
        file: PathBuf,
        /// Also run stock p256 on the same file.
        #[arg(long)]
        stock: bool,
    },
}

#[derive(Args, Debug)]
struct PholdArgs {
    /// Logical processes.
    #[arg(long, default_value_t = 100_000)]
    lps: u32,
    /// Initial events per logical process.
    #[arg(long, default_value_t = 4)]
    events_per_lp: u32,
    /// Probability an event goes to a random other process.
    #[arg(long, default_value_t = 0.25)]
    remote: f64,
    /// Least event delay (the engine's lookahead), seconds.
    #[arg(long, default_value_t = 0.1)]
    lookahead_s: f64,
    /// Mean event delay, seconds.
    #[arg(long, default_value_t = 1.0)]
    mean_s: f64,
    /// Simulated end time, seconds.
    #[arg(long, default_value_t = 3.0)]
    end_s: f64,
    /// The engine's window width, seconds, if narrower than the lookahead:
    /// the model declares the lookahead as its least delay, so each round
    /// between barriers spans several windows (results are the same).
    #[arg(long)]
    window_s: Option<f64>,
    /// The model does not declare its least delay to the engine, so every
    /// round is one window (to measure what declaring saves with
    /// --window-s; the results are the same).
    #[arg(long)]
    undeclared: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Shards (results do not depend on it; speed does) [default: one per thread, more over 16,384 LPs a thread]
    #[arg(long)]
    shards: Option<u32>,
    /// Root seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Skip the binary-heap baseline (e.g. to measure the engine's memory alone).
    #[arg(long)]
    no_baseline: bool,
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Parses the command line, runs the command, and returns the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let _mpi = crate::workflow::mpi::init();
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
        }
    };
    match cli.command {
        Command::Run(a) => cmd_run(a),
        Command::Sweep(a) => cmd_sweep(a),
        Command::Risk(a) => study::cmd_risk(a),
        Command::Assess(a) => study::cmd_assess(a),
        Command::Explore(a) => study::cmd_explore(a),
        Command::FuzzReplay(a) => study::cmd_fuzz_replay(a),
        Command::Compare { a, b, out } => cmd_compare(&a, &b, out),
        Command::Report { results } => cmd_report(&results),
        Command::Bench(BenchCommand::All { json, full }) => {
            match crate::workflow::bench::bench_all(!full) {
                Ok(v) => {
                    let text = serde_json::to_string_pretty(&v).expect("serialisable") + "\n";
                    print!("{text}");
                    if let Some(p) = json {
                        if let Err(e) = crate::workflow::results::write_atomic(&p, text.as_bytes())
                        {
                            eprintln!("error: {}: {e}", p.display());
                            return EXIT_FAILED;
                        }
                    }
                    EXIT_OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_FAILED
                }
            }
        }
        Command::Bench(BenchCommand::Check { baseline, current }) => {
            cmd_bench_check(&baseline, current.as_deref())
        }
        Command::Plot { results } => match crate::workflow::plot::plot_all(&results) {
            Ok(files) => {
                for f in files {
                    println!("{}", results.join(f).display());
                }
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_INPUT
            }
        },
        Command::Validate { file, sets } => match scenario::load(Some(&file), &sets, None) {
            Ok(l) => {
                println!(
                    "{}: valid scenario `{}` (model {}, seed {}, sha256 {}), needs about {:.2} GiB",
                    file.display(),
                    l.scenario.scenario.name,
                    l.scenario.scenario.model,
                    l.scenario.scenario.seed,
                    &l.sha256[..16],
                    crate::workflow::run::memory_estimate_bytes(&l) as f64 / (1u64 << 30) as f64
                );
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_INPUT
            }
        },
        Command::Bench(BenchCommand::Crypto { threads, seconds }) => {
            if threads == 0 || !(seconds > 0.0 && seconds < 3600.0) {
                eprintln!(
                    "error: bench crypto: --threads must be at least 1 and --seconds in (0, 3600)"
                );
                return EXIT_BAD_INPUT;
            }
            let v = crate::crypto::bench::bench_crypto(threads, seconds);
            println!("{}", serde_json::to_string_pretty(&v).expect("json"));
            EXIT_OK
        }
        Command::Crypto(CryptoCommand::Wycheproof { file, stock }) => cmd_wycheproof(&file, stock),
        Command::Gbcs(c) => cmd_gbcs(c),
        Command::Bench(BenchCommand::Phold(a)) => {
            let p = PholdParams {
                lps: a.lps,
                events_per_lp: a.events_per_lp,
                remote: a.remote,
                lookahead_s: a.lookahead_s,
                mean_s: a.mean_s,
                end_s: a.end_s,
                window_s: a.window_s,
                undeclared: a.undeclared,
            };
            let counts = (a.threads == 0 || a.shards == Some(0))
                .then(|| "--threads and --shards must be at least 1".to_string());
            if let Some(e) = p.check().err().or(counts) {
                eprintln!("error: bench phold: {e}");
                return EXIT_BAD_INPUT;
            }
            let auto = || crate::models::phold::auto_shards(p.lps, a.threads);
            let shards = a.shards.unwrap_or_else(auto);
            crate::models::phold::bench::print(&p, a.seed, shards, a.threads, a.no_baseline);
            EXIT_OK
        }
    }
}

fn cmd_report(results: &std::path::Path) -> i32 {
    match crate::workflow::report::report(results) {
        Ok(p) => {
            println!("{}", p.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn cmd_gbcs(c: GbcsCommand) -> i32 {
    match c {
        GbcsCommand::Verify {
            paths,
            keystore,
            acb,
        } => cmd_gbcs_verify(&paths, &keystore, acb.as_deref()),
        GbcsCommand::Sample { out, seed } => {
            use crate::workflow::gbcs_sample;
            match gbcs_sample::samples(seed).and_then(|s| gbcs_sample::write(&out, &s)) {
                Ok(n) => {
                    println!(
                        "{n} messages, keystore/ and parties.json written to {}",
                        out.display()
                    );
                    EXIT_OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_FAILED
                }
            }
        }
    }
}

fn cmd_gbcs_verify(paths: &[PathBuf], keystore: &std::path::Path, acb: Option<&str>) -> i32 {
    use crate::workflow::gbcs;
    let ks = match crate::crypto::keystore::Keystore::load(keystore) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let acb = match acb {
        None => gbcs::find_acb(keystore),
        Some(a) => match u64::from_str_radix(a, 16) {
            Ok(v) if a.len() == 16 => v,
            _ => {
                eprintln!("error: --acb {a}: want an EUI of 16 hex digits");
                return EXIT_BAD_INPUT;
            }
        },
    };
    let results = match gbcs::verify_paths(paths, &ks, acb) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    for r in &results {
        println!("{}", r.line());
    }
    let (pass, fail, skip) = gbcs::tally(&results);
    println!("{pass} passed, {fail} failed ({skip} skipped)");
    if fail > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

fn cmd_wycheproof(file: &std::path::Path, stock: bool) -> i32 {
    use crate::crypto::wycheproof::{run_json, Implementation};
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: cannot read: {e}", file.display());
            return EXIT_BAD_INPUT;
        }
    };
    let mut imps = vec![
        ("fast (key table)", Implementation::FastTable),
        ("fast (one-off key)", Implementation::FastOneOff),
    ];
    if stock {
        imps.push(("stock p256", Implementation::Stock));
    }
    let mut any_failed = false;
    for (name, imp) in imps {
        match run_json(&text, imp) {
            Ok(rep) => {
                println!(
                    "{}: {} via {name}: {} passed, {} failed",
                    file.display(),
                    rep.kind,
                    rep.passed,
                    rep.failed.len()
                );
                if !rep.failed.is_empty() {
                    any_failed = true;
                    let ids: Vec<String> = rep
                        .failed
                        .iter()
                        .map(|(id, exp)| format!("{id} (expected {exp})"))
                        .collect();
                    println!("  failing cases: {}", ids.join(", "));
                }
            }
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    if any_failed {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

fn read_json_file(p: &std::path::Path) -> Result<serde_json::Value, String> {
    let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", p.display()))
}

fn cmd_bench_check(baseline: &std::path::Path, current: Option<&std::path::Path>) -> i32 {
    let base = match read_json_file(baseline) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let cur = match current {
        Some(p) => read_json_file(p),
        None => crate::workflow::bench::bench_all(base["quick"].as_bool().unwrap_or(true)),
    };
    let cur = match cur {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILED;
        }
    };
    let fails = crate::workflow::bench::check(&cur, &base);
    let n = base["figures"].as_object().map(|m| m.len()).unwrap_or(0);
    if fails.is_empty() {
        println!(
            "bench check: all {n} figures within tolerance of {}",
            baseline.display()
        );
        EXIT_OK
    } else {
        for f in &fails {
            println!("REGRESSION {f}");
        }
        println!("bench check: {} of {n} figures regressed", fails.len());
        EXIT_FAILED
    }
}

fn cmd_compare(a: &std::path::Path, b: &std::path::Path, out: Option<PathBuf>) -> i32 {
    use crate::workflow::compare;
    let rows = match compare::compare(a, b) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    print!(
        "A = {}\nB = {}\n{}",
        a.display(),
        b.display(),
        compare::to_text(&rows)
    );
    let out = out.unwrap_or_else(|| b.to_path_buf());
    let md = compare::to_markdown(
        &rows,
        &a.display().to_string(),
        &b.display().to_string(),
        false,
    );
    for (name, text) in [("compare.csv", compare::to_csv(&rows)), ("compare.md", md)] {
        if let Err(e) = std::fs::create_dir_all(&out)
            .and_then(|_| crate::workflow::results::write_atomic(&out.join(name), text.as_bytes()))
        {
            eprintln!("error: {}: {e}", out.join(name).display());
            return EXIT_FAILED;
        }
    }
    println!(
        "wrote {} and {}",
        out.join("compare.csv").display(),
        out.join("compare.md").display()
    );
    EXIT_OK
}

fn cmd_sweep(a: SweepArgs) -> i32 {
    use crate::workflow::sweep;
    let mut vary = Vec::new();
    for v in &a.vary {
        match sweep::parse_vary(v) {
            Ok(v) => vary.push(v),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    if a.replications == 0 || a.replications > 1000 {
        eprintln!("error: --replications must be between 1 and 1000");
        return EXIT_BAD_INPUT;
    }
    let threads = a.threads.unwrap_or_else(default_threads);
    if threads == 0 || threads > 1024 {
        eprintln!("error: --threads must be between 1 and 1024, got {threads}");
        return EXIT_BAD_INPUT;
    }
    let name = a
        .scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(format!("sweep-{name}")));
    let spec = sweep::SweepSpec {
        scenario: &a.scenario,
        sets: &a.sets,
        vary: &vary,
        replications: a.replications,
        threads,
        out: &out,
        quiet: a.quiet,
    };
    match sweep::sweep(&spec) {
        Ok(p) => {
            if !a.quiet && crate::workflow::mpi::rank() == 0 {
                println!("{}", p.display());
            }
            EXIT_OK
        }
        Err(sweep::SweepError::Scenario(e)) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

fn cmd_run(a: RunArgs) -> i32 {
    let loaded = match scenario::load(a.scenario.as_deref(), &a.sets, a.seed) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let threads = a.threads.unwrap_or_else(default_threads);
    if threads == 0 || threads > 1024 {
        eprintln!("error: --threads must be between 1 and 1024, got {threads}");
        return EXIT_BAD_INPUT;
    }
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(&loaded.scenario.scenario.name));
    let opts = RunOptions {
        out,
        threads,
        quiet: a.quiet,
        farm_prepare: a.farm_prepare,
    };
    let flag = Arc::new(AtomicBool::new(false));
    {
        let flag = flag.clone();
        // A second Ctrl-C while results are being written ends the process at once.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(EXIT_INTERRUPTED);
            }
        });
    }
    let ranks = crate::workflow::mpi::ranks();
    let root = ranks.as_ref().is_none_or(|t| t.rank() == 0);
    if !a.quiet && root {
        eprintln!(
            "running `{}` (seed {}, {} threads, {} shards) -> {}",
            loaded.scenario.scenario.name,
            loaded.scenario.scenario.seed,
            threads,
            loaded.scenario.scenario.shards,
            opts.out.display()
        );
    }
    match crate::workflow::run::run_on(&loaded, &opts, Some(&flag), ranks) {
        Ok(o) => {
            if !a.quiet && root {
                println!("{}", o.human);
            }
            if o.partial {
                EXIT_INTERRUPTED
            } else {
                EXIT_OK
            }
        }
        Err(e @ RunError::TooBig(_)) => {
            eprintln!("error: {e}");
            EXIT_TOO_BIG
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}
