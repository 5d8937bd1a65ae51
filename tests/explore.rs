//! `dccsim explore`: random scenarios pass every oracle, the oracles
//! catch broken figures, and a failing scenario shrinks.

use dccsim::workflow::explore::{draw, oracles, smaller};
use serde_json::json;
use std::process::Command;

#[test]
fn a_short_exploration_passes_every_oracle() {
    let out = std::env::temp_dir().join(format!("dccsim-explore-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args([
            "explore", "--runs", "8", "--seed", "3", "--meters", "800", "-q", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("8 runs") && text.contains("0 failed"),
        "{text}"
    );
}

#[test]
fn draws_are_reproducible_valid_scenarios_of_every_kind() {
    let mut kinds = std::collections::BTreeSet::new();
    for run in 0..60 {
        let d = draw(11, run, 1000);
        assert_eq!(d.toml, draw(11, run, 1000).toml);
        let s = dccsim::workflow::scenario::parse_str("draw", &d.toml, &[])
            .unwrap_or_else(|e| panic!("run {run}: {e}\n{}", d.toml));
        s.system()
            .unwrap_or_else(|e| panic!("run {run}: {e:?}\n{}", d.toml));
        kinds.extend(d.labels);
    }
    let others = ["full", "sampled", "modeled", "flaw"];
    for k in dccsim::workflow::explore::KINDS.iter().chain(&others) {
        assert!(kinds.contains(*k), "{k} never drawn: {kinds:?}");
    }
}

#[test]
fn the_oracles_catch_figures_that_do_not_add_up() {
    let good = json!({
        "checker_violations": 0, "crypto_ground_truth_mismatches": 0,
        "requests": {"on_demand_read": {"sent": 10, "completed": 9, "in_flight": 1,
            "outcomes": {"ok": 8, "meter_refused": 1, "replay": 0}}},
        "meter_refusals": {"bad_mac": 1},
        "attack": {"sent": 5, "executed": 2},
        "vulnerability": null, "crypto_mode": "full",
    });
    assert_eq!(oracles(&good), Ok(()));
    let broken = |path: &[&str], v: serde_json::Value| {
        let mut s = good.clone();
        let mut cur = &mut s;
        for k in &path[..path.len() - 1] {
            cur = &mut cur[*k];
        }
        cur[path[path.len() - 1]] = v;
        oracles(&s).expect_err(&format!("{path:?} not caught"))
    };
    broken(&["checker_violations"], json!(1));
    broken(&["crypto_ground_truth_mismatches"], json!(2));
    broken(&["requests", "on_demand_read", "outcomes", "ok"], json!(7));
    broken(&["requests", "on_demand_read", "in_flight"], json!(0));
    broken(&["requests", "on_demand_read", "sent"], json!(11));
    broken(&["meter_refusals", "bad_mac"], json!(0));
    broken(&["attack", "executed"], json!(6));
}

#[test]
fn a_failing_scenario_has_smaller_versions() {
    let d = (0..50)
        .map(|r| draw(5, r, 2000))
        .find(|d| d.toml.matches("[[attacks]]").count() >= 2)
        .expect("some draw has two attacks");
    let smaller = smaller(&d.toml);
    assert!(
        smaller.iter().any(|s| s.contains("meters = 1000")),
        "halved meters"
    );
    let attacks = d.toml.matches("[[attacks]]").count();
    assert!(smaller
        .iter()
        .any(|s| s.matches("[[attacks]]").count() == attacks - 1));
}

#[test]
fn regression_an_unsampled_anchor_replacement_makes_later_commands_unverifiable_not_violations() {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/regressions/sampled_anchor_replacement.toml"
    );
    let l = dccsim::workflow::scenario::load(Some(std::path::Path::new(p)), &[], None).unwrap();
    let r = l.scenario.run_system(1).unwrap();
    let c = &r.summary["checker"];
    assert_eq!(c["violations"], 0, "{c}");
    assert!(c["critical_unverifiable"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(oracles(&r.summary), Ok(()));
}
