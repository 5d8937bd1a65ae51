//! Governance risk studies (`dccsim risk`) and change assessments
//! (`dccsim assess`) at small scale: deterministic at any thread count,
//! a null proposal changes nothing, certification of every user lowers
//! the risk, and bad governance input is exit 2 naming the key.

use dccsim::models::system::risk::{Assessment, OrgKind, Organisation};
use dccsim::workflow::risk::poisson_inv;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dccsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args(args)
        .output()
        .expect("dccsim runs")
}

fn governance(name: &str) -> String {
    format!(
        "{}/scenarios/governance/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dccsim-risk-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A small study: few meters, two incidents per organisation, 400 years.
const SMALL: [&str; 8] = [
    "--set",
    "fleet.meters=3000",
    "--set",
    "risk.library=2",
    "--set",
    "risk.incident_h=3",
    "--years",
    "400",
];

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `a` (recursively) equals its twin under `b`, except
/// the machine's `manifest.json` and `perf.json`.
fn same_files(a: &Path, b: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(a).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if p.is_dir() {
            n += same_files(&p, &b.join(&name));
        } else if !dccsim::workflow::results::NON_DETERMINISTIC_FILES.contains(&name.as_str()) {
            let (x, y) = (
                std::fs::read(&p).unwrap(),
                std::fs::read(b.join(&name)).unwrap(),
            );
            assert!(x == y, "{} differs", p.display());
            n += 1;
        }
    }
    n
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn a_risk_study_is_identical_at_one_and_two_threads() {
    let (a, b) = (tmp("t1"), tmp("t2"));
    let base = governance("base");
    for (dir, t) in [(&a, "1"), (&b, "2")] {
        let mut args = vec!["risk", base.as_str()];
        args.extend(SMALL);
        args.extend(["--threads", t, "-q", "--out", dir.to_str().unwrap()]);
        ok(&dccsim(&args));
    }
    assert!(same_files(&a, &b) >= 8);
    let r = json(&a.join("risk.json"));
    assert_eq!(r["years"], 400);
    let f = &r["figures"]["meter_hours_off"];
    let (m, lo, hi) = (
        f["mean"].as_f64().unwrap(),
        f["mean_ci95"][0].as_f64().unwrap(),
        f["mean_ci95"][1].as_f64().unwrap(),
    );
    assert!(lo <= m && m <= hi && m > 0.0, "{f}");
    // The ranking puts a supplier first and the keyless parties at 0.
    let orgs = r["organisations"].as_array().unwrap();
    assert_eq!(orgs[0]["kind"], "supplier", "{}", r["organisations"]);
    let csp = orgs.iter().find(|o| o["name"] == "csp_north").unwrap();
    assert_eq!(csp["meter_hours_per_year"], 0.0);
    // Every ±50% case of the tornado moves the answer the right way.
    for t in r["tornado"].as_array().unwrap() {
        let lo = t["expected_meter_hours_at_minus_50pct"].as_f64().unwrap();
        let hi = t["expected_meter_hours_at_plus_50pct"].as_f64().unwrap();
        assert!(lo <= m + 1e-9 && m <= hi + 1e-9, "{t}");
    }
    for svg in ["exceedance.svg", "tornado.svg"] {
        let text = std::fs::read_to_string(a.join(svg)).unwrap();
        assert!(text.starts_with("<svg") && text.len() > 2000, "{svg}");
    }
    let years = std::fs::read_to_string(a.join("years.csv")).unwrap();
    assert_eq!(years.lines().count(), 401);
}

fn assess(proposed: &str, name: &str) -> serde_json::Value {
    let out = tmp(name);
    let (b, p) = (governance("base"), governance(proposed));
    let mut args = vec!["assess", &b, &p];
    args.extend(SMALL);
    args.extend(["-q", "--out", out.to_str().unwrap()]);
    ok(&dccsim(&args));
    for f in [
        "report.md",
        "report.html",
        "assess.csv",
        "exceedance.svg",
        "base/risk.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    json(&out.join("assess.json"))
}

#[test]
fn a_proposal_that_changes_nothing_changes_no_figure() {
    let a = assess("renamed_base", "null");
    let rows = a["rows"].as_array().unwrap();
    assert!(rows.len() > 10);
    for r in rows {
        assert_eq!(r["difference"], 0.0, "{r}");
        assert_eq!(r["significant"], false, "{r}");
        let ci = &r["difference_ci95"];
        assert!(
            ci[0].as_f64().unwrap() <= 0.0 && ci[1].as_f64().unwrap() >= 0.0,
            "{r}"
        );
    }
}

#[test]
fn certifying_every_user_lowers_the_expected_meter_hours_off() {
    let a = assess("all_users_certified", "certified");
    let row = |f: &str| {
        a["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["figure"] == f)
            .unwrap_or_else(|| panic!("no row {f}"))
            .clone()
    };
    let m = row("meter_hours_off");
    assert!(m["difference"].as_f64().unwrap() < 0.0, "{m}");
    assert!(m["difference_ci95"][1].as_f64().unwrap() < 0.0, "{m}");
    assert_eq!(m["significant"], true);
    // Common random numbers: an organisation whose posture did not change
    // has exactly the same years.
    let dcc = row("organisation.dcc.meter_hours_per_year");
    assert_eq!(dcc["difference"], 0.0);
    let a_ = row("organisation.supplier_a.meter_hours_per_year");
    assert_eq!(a_["difference"], 0.0, "supplier_a was already certified");
}

#[test]
fn poisson_draws_by_inversion_have_the_right_mean_and_only_grow_with_the_rate() {
    for lambda in [0.01, 0.3, 2.0, 7.5] {
        let n = 20_000;
        let mean = (0..n)
            .map(|i| poisson_inv(lambda, (i as f64 + 0.5) / n as f64) as f64)
            .sum::<f64>()
            / n as f64;
        assert!(
            (mean - lambda).abs() < 0.01 * lambda.max(1.0),
            "{lambda}: {mean}"
        );
    }
    for i in 0..1000 {
        let u = (i as f64 + 0.5) / 1000.0;
        assert!(poisson_inv(0.2, u) <= poisson_inv(0.3, u));
    }
}

#[test]
fn an_organisations_rate_is_its_base_times_each_posture_factor() {
    let sc = dccsim::workflow::scenario::load(Some(Path::new(&governance("base"))), &[], None)
        .unwrap()
        .scenario
        .system()
        .unwrap();
    let r = &sc.parameters.risk;
    let mut o = Organisation {
        name: "x".into(),
        kind: OrgKind::Supplier,
        assessment: Assessment::Certified,
        audit_interval_years: 1.0,
        last_audit_years_ago: 0.0,
        vetted: true,
        third_party_connections: 0,
        maturity: 3,
        rate_per_year: None,
        compromise: Vec::new(),
    };
    let audit = 1.0 + r.factor_per_audit_year * 0.5;
    assert!((r.annual_rate(&o) - r.rate_supplier * audit).abs() < 1e-12);
    o.assessment = Assessment::NotAssessed;
    o.vetted = false;
    o.third_party_connections = 2;
    o.maturity = 2;
    o.last_audit_years_ago = 4.0;
    let want = r.rate_supplier
        * r.factor_not_assessed
        * r.factor_not_vetted
        * (1.0 + 2.0 * r.factor_per_third_party)
        * (1.0 + 4.0 * r.factor_per_audit_year)
        * r.factor_per_maturity_level;
    assert!((r.annual_rate(&o) - want).abs() < 1e-12);
}

#[test]
fn bad_governance_input_is_exit_2_naming_the_key() {
    let base = governance("base");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--set", "risk.organisations[1].name=\"dcc\""],
            "risk.organisations[1].name",
        ),
        (
            &["--set", "risk.organisations[5].compromise[0].victim=17"],
            "risk.organisations[5].compromise[0].victim",
        ),
        (&["--set", "risk.batches=1"], "risk.batches"),
        (
            &["--set", "parameters.risk.rate_supplier=-1"],
            "parameters.risk.rate_supplier",
        ),
    ];
    for (sets, key) in cases {
        let mut args = vec!["risk", base.as_str(), "--out", "/nonexistent/x"];
        args.extend(sets);
        let o = dccsim(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(key), "{key}: {err}");
    }
    // A scenario without a [risk] table says what is missing.
    let o = dccsim(&[
        "risk",
        concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/bau_small.toml"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[risk]"));
    for name in [
        "base",
        "all_users_certified",
        "renamed_base",
        "emergency_fix",
    ] {
        ok(&dccsim(&["validate", &governance(name)]));
    }
}
