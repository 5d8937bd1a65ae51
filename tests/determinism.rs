//! Determinism: the same scenario and seed give the same results at any
//! thread count (and, for the engine, any shard count).

use dccsim::models::phold::{self, PholdParams};
use std::path::Path;
use std::process::Command;

fn small_phold() -> PholdParams {
    PholdParams {
        lps: 2_000,
        events_per_lp: 4,
        remote: 0.25,
        lookahead_s: 0.1,
        mean_s: 1.0,
        end_s: 3.0,
        window_s: None,
        undeclared: false,
    }
}

#[test]
fn phold_digest_and_events_identical_for_threads_1_2_3_8_and_repeats() {
    let p = small_phold();
    let first = phold::run(&p, 99, 64, 1, None).report;
    assert!(first.events > 20_000);
    for threads in [1, 2, 3, 8, 2, 1] {
        let r = phold::run(&p, 99, 64, threads, None).report;
        assert_eq!(
            (r.events, r.digest, r.windows, r.pending),
            (first.events, first.digest, first.windows, first.pending),
            "threads {threads}"
        );
    }
}

/// The distributed window loop (ranks as threads, no MPI): the same
/// events, digest, windows and pending events at 2 and 3 ranks × 1 and 2
/// threads as in one process, including a max-events stop.
#[test]
fn phold_identical_over_ranks_and_threads() {
    use dccsim::engine::transport::{ThreadRanks, Transport};
    let p = small_phold();
    for max_events in [u64::MAX, 10_000] {
        let one = phold::run_on(&p, 99, 64, 1, max_events, None, None, |_| {}).report;
        for (ranks, threads) in [(2, 1), (3, 1), (2, 2), (3, 2), (5, 1)] {
            let reports: Vec<_> = std::thread::scope(|sc| {
                let handles: Vec<_> = ThreadRanks::new(ranks)
                    .into_iter()
                    .map(|t| {
                        let p = &p;
                        sc.spawn(move || {
                            let t: Box<dyn Transport> = Box::new(t);
                            phold::run_on(p, 99, 64, threads, max_events, None, Some(t), |_| {})
                                .report
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for (rank, r) in reports.iter().enumerate() {
                assert_eq!(
                    (r.events, r.digest, r.windows, r.pending, r.stop),
                    (one.events, one.digest, one.windows, one.pending, one.stop),
                    "{ranks} ranks × {threads} threads, rank {rank}, max_events {max_events}"
                );
            }
        }
    }
}

/// Every result file but `perf.json` and `manifest.json` of `b` equals
/// `a`'s; returns how many were compared.
fn same_files(a: &Path, b: &Path, what: &str) -> usize {
    let mut compared = 0;
    for entry in std::fs::read_dir(a).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if dccsim::workflow::results::NON_DETERMINISTIC_FILES.contains(&name.as_str()) {
            continue;
        }
        let x = std::fs::read(a.join(&name)).unwrap();
        let y = std::fs::read(b.join(&name)).unwrap_or_else(|_| panic!("{name} missing {what}"));
        assert!(x == y, "{name} differs {what}");
        compared += 1;
    }
    compared
}

/// The system model over ranks (as threads, no MPI): the default scenario
/// at a small fleet with the headline attack and full cryptography (jobs
/// with GBCS bytes and ACB secrets cross ranks; the checker's trace, the
/// SOC's and DSP's figures, the timelines and stations are gathered on
/// rank 0) writes the same files at 2 and 3 ranks × 1 and 2 threads as
/// one process; the other ranks write nothing.
#[test]
fn system_result_files_identical_over_ranks() {
    use dccsim::engine::transport::{ThreadRanks, Transport};
    use dccsim::workflow::run::{run_on, RunOptions};
    let sets = [
        "fleet.meters=3000".to_string(),
        "run.end_h=18.5".to_string(),
    ];
    let l = dccsim::workflow::scenario::load(None, &sets, None).unwrap();
    let base = std::env::temp_dir().join(format!("dccsim-ranks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let opts = |name: &str, threads, farm_prepare| RunOptions {
        out: base.join(name),
        threads,
        quiet: true,
        farm_prepare,
    };
    let one = opts("one", 2, false);
    run_on(&l, &one, None, None).unwrap();
    // The DSP's checks farmed out to every rank, or kept on its own.
    for (ranks, threads, farm) in [(2, 1, true), (3, 1, true), (2, 2, false), (3, 1, false)] {
        let o = opts(&format!("r{ranks}t{threads}{farm}"), threads, farm);
        let outs: Vec<_> = std::thread::scope(|sc| {
            let hs: Vec<_> = ThreadRanks::new(ranks)
                .into_iter()
                .map(|t| {
                    let (l, o) = (&l, &o);
                    sc.spawn(move || {
                        let t: Box<dyn Transport> = Box::new(t);
                        run_on(l, o, None, Some(t)).unwrap()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // The headline attack ran: detected, contained, checked.
        assert!(
            outs[0].human.contains("attack disconnect"),
            "{}",
            outs[0].human
        );
        assert!(outs[0].human.contains("contained after"));
        assert!(outs[1..].iter().all(|o| o.human.is_empty() && !o.partial));
        let what = format!("at {ranks} ranks × {threads} threads, farm {farm}");
        let n = same_files(&one.out, &o.out, &what);
        assert!(n >= 40, "{n} files compared");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(o.out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["ranks"].as_u64(), Some(ranks as u64));
    }
    std::fs::remove_dir_all(&base).unwrap();
}

/// A window narrower than the model's least delay between entities
/// (`run.window_ms`) changes only speed: the system model declares that
/// delay, so the engine's rounds still span it, and every result file is
/// the same as with the default window, at 1 and 2 threads and over 2
/// ranks (as threads) with the DSP's checks farmed out. The default
/// scenario at a small fleet: the headline attack, full cryptography.
#[test]
fn window_width_changes_only_speed() {
    use dccsim::engine::transport::{ThreadRanks, Transport};
    use dccsim::workflow::run::{run_on, RunOptions};
    let base = std::env::temp_dir().join(format!("dccsim-window-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let load = |window: Option<&str>| {
        let mut sets = vec![
            "fleet.meters=3000".to_string(),
            "run.end_h=18.5".to_string(),
        ];
        sets.extend(window.map(|w| format!("run.window_ms={w}")));
        dccsim::workflow::scenario::load(None, &sets, None).unwrap()
    };
    let opts = |name: &str, threads, farm_prepare| RunOptions {
        out: base.join(name),
        threads,
        quiet: true,
        farm_prepare,
    };
    let rounds = |o: &RunOptions| {
        let p: serde_json::Value =
            serde_json::from_slice(&std::fs::read(o.out.join("perf.json")).unwrap()).unwrap();
        p["engine_rounds"]
            .as_u64()
            .expect("perf.json has engine_rounds")
    };
    let wide = opts("wide", 2, false);
    run_on(&load(None), &wide, None, None).unwrap();
    for (window, threads) in [("7", 1), ("7", 2), ("0.5", 2)] {
        let o = opts(&format!("w{window}t{threads}"), threads, false);
        run_on(&load(Some(window)), &o, None, None).unwrap();
        let what = format!("with {window} ms windows at {threads} threads");
        assert!(same_files(&wide.out, &o.out, &what) >= 40);
        // The setting took effect: rounds start at the first event's
        // window, so their number differs.
        assert_ne!(rounds(&o), rounds(&wide), "{what}");
    }
    let l = load(Some("10"));
    let o = opts("w10r2", 1, true);
    std::thread::scope(|sc| {
        for t in ThreadRanks::new(2) {
            let (l, o) = (&l, &o);
            sc.spawn(move || {
                let t: Box<dyn Transport> = Box::new(t);
                run_on(l, o, None, Some(t)).unwrap()
            });
        }
    });
    assert!(same_files(&wide.out, &o.out, "with 10 ms windows over 2 ranks") >= 40);
    std::fs::remove_dir_all(&base).unwrap();
}

fn run_cli(out: &Path, threads: usize) {
    let st = Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args([
            "run",
            "--quiet",
            "--set",
            "fleet.meters=5000",
            "--set",
            "run.end_h=18.5",
            "--threads",
        ])
        .arg(threads.to_string())
        .arg("--out")
        .arg(out)
        .status()
        .expect("dccsim runs");
    assert!(st.success(), "dccsim run failed at {threads} threads");
}

#[test]
fn result_files_byte_identical_at_1_and_2_threads() {
    let base = std::env::temp_dir().join(format!("dccsim-det-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (a, b) = (base.join("t1"), base.join("t2"));
    run_cli(&a, 1);
    run_cli(&b, 2);
    let compared = same_files(&a, &b, "at 2 threads");
    assert!(
        compared >= 40,
        "summary, timeline, time series, histograms and plots: {compared} files"
    );
    // The manifests differ only in the thread count.
    let ma: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    let mb: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(ma["scenario_sha256"], mb["scenario_sha256"]);
    assert_eq!(ma["status"], "complete");
    assert_eq!(
        (ma["threads"].as_u64(), mb["threads"].as_u64()),
        (Some(1), Some(2))
    );
    std::fs::remove_dir_all(&base).unwrap();
}
