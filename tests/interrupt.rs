//! Ctrl-C (or SIGTERM) during a long run leaves either complete,
//! partial-marked results or none: never a file that looks complete but
//! is truncated.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn sigint_during_a_long_run_leaves_partial_marked_results() {
    interrupted_run("INT");
}

#[test]
fn sigterm_behaves_as_ctrl_c() {
    interrupted_run("TERM");
}

/// Sends `signal` to a long run and checks what it leaves.
fn interrupted_run(signal: &str) {
    let out = std::env::temp_dir().join(format!("dccsim-{signal}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // A run that would take minutes: 2M processes for 10,000 simulated seconds.
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args([
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/phold_small.toml"),
            "--quiet",
            "--threads",
            "2",
            "--set",
            "phold.lps=2000000",
            "--set",
            "phold.end_s=10000",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dccsim starts");
    std::thread::sleep(Duration::from_millis(2500));
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(st.success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "dccsim did not stop within 60 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "interrupted runs exit with 130");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("manifest.json")).expect("manifest written"),
    )
    .unwrap();
    assert_eq!(manifest["status"], "partial");
    assert_eq!(manifest["stop_reason"], "interrupted");
    // Every file listed is whole JSON; no temporary file is left behind.
    for f in manifest["files"].as_array().unwrap() {
        let name = f.as_str().unwrap();
        let bytes = std::fs::read(out.join(name)).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("{name} is not whole JSON: {e}"));
    }
    for e in std::fs::read_dir(&out).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        assert!(!n.contains(".tmp-"), "temporary file {n} left behind");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stop_reason"], "interrupted");
    assert_eq!(
        summary["status"], "partial",
        "summary.json says itself that it is partial"
    );
    assert!(summary["simulated_time_reached_s"].as_f64().unwrap() < 10_000.0);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_run_that_cannot_fit_in_memory_is_refused_with_exit_3() {
    let o = Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args([
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/phold_small.toml"),
            "--quiet",
            "--set",
            "phold.lps=2000000000",
            "--set",
            "phold.events_per_lp=1",
            "--out",
        ])
        .arg(std::env::temp_dir().join("dccsim-never-written"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("GiB") && err.contains("available"), "{err}");
    assert!(!std::env::temp_dir()
        .join("dccsim-never-written")
        .join("manifest.json")
        .exists());
}
