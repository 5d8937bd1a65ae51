//! Over MPI ranks (the `mpi` feature; `cargo test --release --features mpi
//! --test mpi`, needs Open MPI's `mpirun`): PHOLD gives the same events and
//! digest at 1, 2 and 3 ranks (oversubscribed on 2 cores) as the plain
//! single-process run; `dccsim run` of the system model writes the same
//! files at 2 and 3 ranks; `sweep` and `risk` gather the same files on
//! rank 0. Without the feature this file tests nothing.
#![cfg(feature = "mpi")]

use std::process::Command;

/// `bench phold` at `np` ranks (0: without mpirun), with `more`
/// arguments; (events, digest).
fn phold(np: usize, threads: usize, more: &[&str]) -> (u64, String) {
    let bin = env!("CARGO_BIN_EXE_dccsim");
    let mut args = [
        "bench",
        "phold",
        "--lps",
        "20000",
        "--events-per-lp",
        "4",
        "--end-s",
        "3",
        "--no-baseline",
        "--threads",
        &threads.to_string(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(more.iter().map(|a| a.to_string()));
    let out = if np == 0 {
        Command::new(bin).args(&args).output()
    } else {
        Command::new("mpirun")
            .args(["--oversubscribe", "-np", &np.to_string(), bin])
            .args(&args)
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .output()
    }
    .expect("mpirun (Open MPI) is installed");
    assert!(
        out.status.success(),
        "np {np}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("np {np}: one JSON report from rank 0: {e}"));
    if np > 1 {
        assert_eq!(v["ranks"], np as u64);
    }
    (
        v["events"].as_u64().unwrap(),
        v["digest"].as_str().unwrap().to_string(),
    )
}

#[test]
fn phold_identical_at_1_2_3_ranks() {
    let plain = phold(0, 2, &[]);
    assert!(plain.0 > 200_000);
    for (np, threads) in [(1, 1), (2, 1), (3, 1), (2, 2)] {
        assert_eq!(
            phold(np, threads, &[]),
            plain,
            "{np} ranks × {threads} threads"
        );
    }
    // Rounds of several windows (the model declares its lookahead): the
    // ranks agree on each round's end too.
    let narrow = ["--window-s", "0.01"];
    assert_eq!(phold(2, 1, &narrow), plain, "2 ranks, 0.01 s windows");
    assert_eq!(phold(3, 1, &narrow), plain, "3 ranks, 0.01 s windows");
}

/// `dccsim sweep` over 2 ranks writes the same `sweep.csv` as without mpirun.
#[test]
fn sweep_identical_over_2_ranks() {
    let bin = env!("CARGO_BIN_EXE_dccsim");
    let dir = std::env::temp_dir().join(format!("dccsim-mpi-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = |out: &std::path::Path| {
        [
            "sweep",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scenarios/mass_disconnect.toml"
            ),
            "--vary",
            "parameters.anomaly.threshold_min=20,80",
            "--replications",
            "2",
            "--threads",
            "1",
            "--set",
            "fleet.meters=2000",
            "--set",
            "run.end_h=17.75",
            "--set",
            "crypto.mode=\"modeled\"",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect::<Vec<_>>()
    };
    let one = dir.join("one");
    let st = Command::new(bin).args(args(&one)).status().unwrap();
    assert!(st.success());
    let two = dir.join("two");
    let st = Command::new("mpirun")
        .args(["--oversubscribe", "-np", "2", bin])
        .args(args(&two))
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        std::fs::read_to_string(one.join("sweep.csv")).unwrap(),
        std::fs::read_to_string(two.join("sweep.csv")).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `dccsim ARGS` at `np` ranks (0: without mpirun).
fn dccsim(np: usize, args: &[String]) {
    let bin = env!("CARGO_BIN_EXE_dccsim");
    let st = if np == 0 {
        Command::new(bin).args(args).status()
    } else {
        Command::new("mpirun")
            .args(["--oversubscribe", "-np", &np.to_string(), bin])
            .args(args)
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .status()
    }
    .expect("mpirun (Open MPI) is installed");
    assert!(st.success(), "np {np}: dccsim {args:?}");
}

/// Every file of `a` but `perf.json` and `manifest.json` equals `b`'s.
fn same_files(a: &std::path::Path, b: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(a).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if ["perf.json", "manifest.json"].contains(&name.as_str()) {
            continue;
        }
        let x = std::fs::read(a.join(&name)).unwrap();
        let y = std::fs::read(b.join(&name)).unwrap_or_else(|_| panic!("{name} missing"));
        assert!(
            x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
        n += 1;
    }
    n
}

/// `mpirun -np 2|3 dccsim run` of the default scenario (small fleet, the
/// headline attack, full cryptography): the same files as one process,
/// with the default window and with 7 ms windows (rounds of several).
#[test]
fn system_run_identical_at_2_and_3_ranks() {
    let dir = std::env::temp_dir().join(format!("dccsim-mpi-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = |out: &std::path::Path| -> Vec<String> {
        [
            "run",
            "--set",
            "fleet.meters=3000",
            "--set",
            "run.end_h=18.5",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["--threads", "1", "--quiet", "--out"].map(String::from))
        .chain([out.display().to_string()])
        .collect()
    };
    dccsim(0, &args(&dir.join("one")));
    for (np, window) in [(2, None), (3, None), (2, Some("run.window_ms=7"))] {
        let out = dir.join(format!("np{np}{}", window.map_or("", |_| "w")));
        let mut a = args(&out);
        if np == 3 {
            // The DSP's checks spread over the ranks.
            a.push("--farm-prepare".into());
        }
        if let Some(w) = window {
            // Rounds of seven 7 ms windows: the same files.
            a.extend(["--set".to_string(), w.to_string()]);
        }
        dccsim(np, &a);
        assert!(same_files(&dir.join("one"), &out) >= 40);
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("perf.json")).unwrap()).unwrap();
        assert_eq!(m["ranks"], np as u64);
        assert_eq!(m["rank_events"].as_array().map(Vec::len), Some(np));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `mpirun -np 2 dccsim risk`: incidents spread over ranks, the same study.
#[test]
fn risk_identical_over_2_ranks() {
    let dir = std::env::temp_dir().join(format!("dccsim-mpi-risk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = |out: &std::path::Path| -> Vec<String> {
        [
            "risk",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scenarios/governance/base.toml"
            ),
            "--years",
            "200",
            "--set",
            "fleet.meters=2000",
            "--set",
            "risk.library=2",
            "--set",
            "risk.incident_h=1",
            "--threads",
            "1",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    dccsim(0, &args(&dir.join("one")));
    dccsim(2, &args(&dir.join("two")));
    assert!(same_files(&dir.join("one"), &dir.join("two")) >= 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `mpirun -np 2 dccsim run` of a PHOLD scenario: the same summary.
#[test]
fn phold_run_identical_over_2_ranks() {
    let dir = std::env::temp_dir().join(format!("dccsim-mpi-phold-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = |out: &std::path::Path| -> Vec<String> {
        [
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/phold_small.toml"),
            "--threads",
            "1",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    dccsim(0, &args(&dir.join("one")));
    dccsim(2, &args(&dir.join("two")));
    assert!(same_files(&dir.join("one"), &dir.join("two")) >= 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
