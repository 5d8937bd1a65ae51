//! Over MPI ranks (the `mpi` feature; `cargo test --release --features mpi
//! --test mpi`, needs Open MPI's `mpirun`): PHOLD gives the same events and
//! digest at 1, 2 and 3 ranks (oversubscribed on 2 cores) as the plain
//! single-process run. Without the feature this file tests nothing.
#![cfg(feature = "mpi")]

use std::process::Command;

/// `bench phold` at `np` ranks (0: without mpirun); (events, digest).
fn phold(np: usize, threads: usize) -> (u64, String) {
    let bin = env!("CARGO_BIN_EXE_dccsim");
    let args = [
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
    .map(String::from);
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
    let plain = phold(0, 2);
    assert!(plain.0 > 200_000);
    for (np, threads) in [(1, 1), (2, 1), (3, 1), (2, 2)] {
        assert_eq!(phold(np, threads), plain, "{np} ranks × {threads} threads");
    }
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
