//! The command line: exit codes and one-line messages for bad input.

use std::process::{Command, Output};

fn dccsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args(args)
        .output()
        .expect("dccsim runs")
}

fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dccsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const GOOD: &str = "[scenario]\nname = \"x\"\nmodel = \"phold\"\n\n[phold]\nlps = 100\nevents_per_lp = 2\nremote = 0.5\nlookahead_s = 0.1\nmean_s = 1.0\nend_s = 1.0\n";

#[test]
fn validate_accepts_the_shipped_scenarios() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let o = dccsim(&["validate", p.to_str().unwrap()]);
            assert!(
                o.status.success(),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

#[test]
fn malformed_scenarios_exit_2_with_one_line_naming_the_problem() {
    let cases: &[(&str, Vec<u8>, &str)] = &[
        ("empty.toml", b"".to_vec(), "empty"),
        (
            "garbage.toml",
            vec![0xff, 0xfe, 0x00, 0x9c, 0x13, 0x37],
            "not a text file",
        ),
        (
            "syntax.toml",
            b"[scenario\nname=1".to_vec(),
            "not valid TOML",
        ),
        (
            "unknown.toml",
            GOOD.replace("remote", "remot").into_bytes(),
            "did you mean `remote`",
        ),
        (
            "type.toml",
            GOOD.replace("lps = 100", "lps = \"lots\"").into_bytes(),
            "phold.lps",
        ),
        (
            "negative.toml",
            GOOD.replace("remote = 0.5", "remote = -0.5").into_bytes(),
            "phold.remote",
        ),
        (
            "missing.toml",
            GOOD.replace("[phold]", "[other]").into_bytes(),
            "other",
        ),
        (
            "absurd.toml",
            GOOD.replace("lps = 100", "lps = 4000000000")
                .replace("events_per_lp = 2", "events_per_lp = 4000000000")
                .into_bytes(),
            "pending events",
        ),
        (
            "model.toml",
            GOOD.replace("\"phold\"", "\"teleport\"").into_bytes(),
            "unknown model",
        ),
        (
            "shards.toml",
            GOOD.replace("[phold]", "shards = 0\n[phold]")
                .replace("model = \"phold\"\n\n", "model = \"phold\"\n")
                .into_bytes(),
            "scenario.shards",
        ),
    ];
    for (name, bytes, needle) in cases {
        let p = write(name, bytes);
        for cmd in ["validate", "run"] {
            let o = dccsim(
                &[cmd, p.to_str().unwrap(), "--quiet"]
                    .iter()
                    .copied()
                    .filter(|a| cmd == "run" || *a != "--quiet")
                    .collect::<Vec<_>>(),
            );
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {name}: {err}");
            assert_eq!(
                err.trim_end().lines().count(),
                1,
                "{cmd} {name}: not one line: {err}"
            );
            assert!(
                err.contains(needle),
                "{cmd} {name}: {err:?} lacks {needle:?}"
            );
            assert!(!err.contains("panicked"), "{cmd} {name}: {err}");
        }
    }
}

#[test]
fn bad_overrides_and_usage_exit_2() {
    let o = dccsim(&["run", "--set", "phold.lps=-3", "--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = dccsim(&["run", "--set", "nonsense", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let o = dccsim(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = dccsim(&["run", "/nonexistent/scenario.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn bench_phold_prints_json_with_the_required_keys() {
    let o = dccsim(&[
        "bench",
        "phold",
        "--lps",
        "1000",
        "--events-per-lp",
        "2",
        "--end-s",
        "2",
        "--threads",
        "2",
    ]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "events",
        "wall_s",
        "events_per_s",
        "threads",
        "digest",
        "baseline_events_per_s",
        "ratio_vs_baseline",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["matches_baseline"], true);
}

#[test]
fn crypto_wycheproof_command_reports_passes_and_fails() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/testdata/wycheproof/"
    );
    for (f, n) in [
        ("ecdsa_secp256r1_sha256_p1363_test.json", 262),
        ("ecdsa_secp256r1_sha256_test.json", 484),
    ] {
        let path = format!("{dir}{f}");
        assert!(
            std::path::Path::new(&path).exists(),
            "test vectors missing: {path}"
        );
        let o = dccsim(&["crypto", "wycheproof", &path]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{out}");
        assert!(out.contains(&format!("{n} passed, 0 failed")), "{out}");
    }
    // A file with a wrong expectation is reported as a failure with its case id.
    let text =
        std::fs::read_to_string(format!("{dir}ecdsa_secp256r1_sha256_p1363_test.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["testGroups"][0]["tests"][0]["result"] = "invalid".into();
    let p = write("flipped.json", doc.to_string().as_bytes());
    let o = dccsim(&["crypto", "wycheproof", p.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("261 passed, 1 failed") && out.contains("failing cases: 1 (expected invalid)"),
        "{out}"
    );
    let o = dccsim(&["crypto", "wycheproof", "/nonexistent.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_attack_takes_only_the_keys_of_its_kind() {
    let base = "[scenario]\nname = \"x\"\nmodel = \"system\"\n[fleet]\nmeters = 2000\n[attack]\n";
    let cases = [
        // A key another kind reads is an error naming it and the valid ones.
        (
            "kind = \"dsp_outage\"\nstart_h = 0.5\nrate_per_s = 3.0\n",
            "attack.rate_per_s",
        ),
        (
            "kind = \"replay\"\nstart_h = 0.5\npath = \"wan\"\n",
            "valid keys here",
        ),
        (
            "kind = \"alert_storm\"\nstart_h = 0.5\nvictim = 1\n",
            "attack.victim",
        ),
        ("kind = \"melt\"\n", "unknown variant `melt`"),
        (
            "kind = \"csp_tamper\"\nstart_h = 0.5\nregion = 3\n",
            "attack.region",
        ),
    ];
    for (i, (table, needle)) in cases.iter().enumerate() {
        let p = write(
            &format!("attack{i}.toml"),
            format!("{base}{table}").as_bytes(),
        );
        let o = dccsim(&["validate", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{table}: {err}");
        assert!(err.contains(needle), "{table}: {err:?} lacks {needle:?}");
    }
    let ok = write(
        "attack_ok.toml",
        format!("{base}kind = \"dsp_outage\"\nstart_h = 0.5\nduration_s = 60\n").as_bytes(),
    );
    let o = dccsim(&["validate", ok.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
