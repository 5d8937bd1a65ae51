//! The research workflow: sweeps (identical at any thread count), compare,
//! report, and the regression check's verdicts.

use std::path::{Path, PathBuf};
use std::process::Command;

fn dccsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args(args)
        .output()
        .expect("dccsim runs")
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("dccsim-wf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

const HEADLINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/mass_disconnect.toml"
);

fn sweep(out: &Path, threads: &str) {
    let o = dccsim(&[
        "sweep",
        HEADLINE,
        "--vary",
        "parameters.anomaly.threshold_min=20,80",
        "--vary",
        "parameters.response.enabled=true,false",
        "--replications",
        "3",
        "--threads",
        threads,
        "--set",
        "fleet.meters=4000",
        "--set",
        "run.end_h=18.5",
        "--set",
        "attack.rate_per_s=0.5",
        "--set",
        "crypto.mode=\"modeled\"",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn sweep_output_is_identical_at_any_thread_count_and_summarises_replications() {
    let (a, b) = (tmp("sweep1"), tmp("sweep2"));
    sweep(&a, "1");
    sweep(&b, "2");
    let csv = std::fs::read_to_string(a.join("sweep.csv")).unwrap();
    assert_eq!(csv, std::fs::read_to_string(b.join("sweep.csv")).unwrap());
    // 2 x 2 settings x 3 replications, each run's results kept.
    let runs = std::fs::read_dir(a.join("runs")).unwrap().count();
    assert_eq!(runs, 12);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "parameters.anomaly.threshold_min",
            "parameters.response.enabled",
            "metric",
            "n",
            "mean",
            "sd",
            "ci95_low",
            "ci95_high"
        ]
    );
    let get = |th: &str, resp: &str, metric: &str| -> f64 {
        let r = rows
            .iter()
            .find(|r| r[0] == th && r[1] == resp && r[2] == metric)
            .unwrap_or_else(|| panic!("{th} {resp} {metric}"));
        assert_eq!(r[3], "3", "n for {metric}");
        r[4].parse().unwrap()
    };
    // A higher threshold lets more through before containment; no
    // containment at all lets the attacker run on.
    let low = get("20", "true", "meters_disconnected_max");
    let high = get("80", "true", "meters_disconnected_max");
    let none = get("80", "false", "meters_disconnected_max");
    assert!(low < high && high < none, "{low} {high} {none}");
    assert!(a.join("sweep_meters_disconnected_max.svg").exists());
    for d in [a, b] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn compare_and_report_describe_two_runs() {
    let (a, b) = (tmp("runa"), tmp("runb"));
    for (dir, th) in [(&a, "100"), (&b, "25")] {
        let o = dccsim(&[
            "run",
            HEADLINE,
            "--quiet",
            "--set",
            "fleet.meters=4000",
            "--set",
            "run.end_h=18.0",
            "--set",
            "crypto.mode=\"modeled\"",
            "--set",
            &format!("parameters.anomaly.threshold_min={th}"),
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = dccsim(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("meters_disconnected_max"), "{text}");
    let md = std::fs::read_to_string(b.join("compare.md")).unwrap();
    assert!(md.starts_with("| metric |"));
    let csv = std::fs::read_to_string(b.join("compare.csv")).unwrap();
    let row = csv
        .lines()
        .find(|l| l.starts_with("meters_disconnected_max,"))
        .unwrap();
    let f: Vec<f64> = row.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
    assert_eq!(f[2], f[1] - f[0], "diff is B - A");
    assert!(f[1] < f[0], "a lower threshold lets fewer through: {row}");
    let o = dccsim(&["report", a.to_str().unwrap()]);
    assert!(o.status.success());
    let rep = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(rep.contains("## Attack and response") && rep.contains("timeline.svg"));
    // A folder that is not results is a clear error, not a panic.
    let o = dccsim(&["compare", a.to_str().unwrap(), "/nonexistent"]);
    assert_eq!(o.status.code(), Some(2));
    for d in [a, b] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn bench_check_passes_unchanged_figures_and_names_each_regression() {
    use dccsim::workflow::bench::check;
    use serde_json::json;
    let base = json!({"figures": {
        "engine.vs_heap_ratio": {"value": 6.0, "check": "at_least", "tolerance": 0.6},
        "bau_small.events": {"value": 29707, "check": "exact", "tolerance": 0.0},
        "engine.events_per_s": {"value": 3.0e6, "check": "info", "tolerance": 0.0},
    }});
    assert!(check(&base, &base).is_empty());
    let slow = json!({"figures": {
        "engine.vs_heap_ratio": {"value": 2.0},
        "bau_small.events": {"value": 29707},
        "engine.events_per_s": {"value": 1.0},
    }});
    let f = check(&slow, &base);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("engine.vs_heap_ratio"), "{f:?}");
    let changed = json!({"figures": {
        "engine.vs_heap_ratio": {"value": 5.0},
        "bau_small.events": {"value": 29708},
    }});
    let f = check(&changed, &base);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f.iter().any(|x| x.starts_with("bau_small.events")));
    assert!(f
        .iter()
        .any(|x| x.starts_with("engine.events_per_s: missing")));
}

/// Over ranks (as threads, no MPI): each rank runs its share of the runs,
/// rank 0 gathers the summaries and writes the same `sweep.csv`.
#[test]
fn sweep_over_ranks_writes_the_same_csv() {
    use dccsim::engine::transport::{ThreadRanks, Transport};
    use dccsim::workflow::sweep::{parse_vary, sweep_on, SweepSpec};
    let scenario = PathBuf::from(HEADLINE);
    let sets: Vec<String> = [
        "fleet.meters=2000",
        "run.end_h=17.75",
        "attack.rate_per_s=0.5",
        "crypto.mode=\"modeled\"",
    ]
    .map(String::from)
    .to_vec();
    let vary = vec![parse_vary("parameters.anomaly.threshold_min=20,80").unwrap()];
    fn spec<'a>(
        scenario: &'a Path,
        sets: &'a [String],
        vary: &'a [dccsim::workflow::sweep::Vary],
        out: &'a Path,
    ) -> SweepSpec<'a> {
        SweepSpec {
            scenario,
            sets,
            vary,
            replications: 3,
            threads: 1,
            out,
            quiet: true,
        }
    }
    let one = tmp("sweep-one");
    sweep_on(&spec(&scenario, &sets, &vary, &one), None).unwrap();
    let ranked = tmp("sweep-ranks");
    std::thread::scope(|sc| {
        for t in ThreadRanks::new(3) {
            let spec = spec(&scenario, &sets, &vary, &ranked);
            sc.spawn(move || {
                let t: Box<dyn Transport> = Box::new(t);
                sweep_on(&spec, Some(t)).unwrap();
            });
        }
    });
    assert_eq!(
        std::fs::read_to_string(one.join("sweep.csv")).unwrap(),
        std::fs::read_to_string(ranked.join("sweep.csv")).unwrap()
    );
    assert_eq!(std::fs::read_dir(ranked.join("runs")).unwrap().count(), 6);
    for d in [one, ranked] {
        std::fs::remove_dir_all(d).unwrap();
    }
}
