//! Bad input never panics: every documented scenario key (the tables of
//! `scenarios/README.md` and every value of `models/gb_default.toml`) is
//! tried at its edges: zero, negative, tiny, huge, not a number, infinite,
//! the wrong type, the documented bounds and one step beyond them. Each
//! case must either be refused with an error that names the key (what the
//! CLI turns into exit 2), be refused as too big for memory (exit 3), or
//! run a small simulation to its end without a panic.

use dccsim::workflow::scenario::parse_str;
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

const SYSTEM: &str = r#"[scenario]
name = "edge"
model = "system"
max_events = 30000
shards = 4

[fleet]
meters = 100
suppliers = 2
other_users = 1

[run]
start_h = 17
end_h = 17.2

[crypto]
mode = "sampled"
sample_fraction = 0.2
"#;

const PHOLD: &str = r#"[scenario]
name = "edge"
model = "phold"
max_events = 30000

[phold]
lps = 100
events_per_lp = 2
remote = 0.5
lookahead_s = 0.1
mean_s = 0.5
end_s = 2
"#;

/// Memory above which a case counts as "refused as too big" (the CLI
/// refuses runs that do not fit; the test keeps its runs small).
const TOO_BIG: u64 = 300 << 20;

/// One documented key: its full dotted path and the base text it needs.
struct Key {
    path: String,
    base: String,
    bounds: Vec<f64>,
}

/// The documented bounds in a README unit column: `a..b`, `≤ b`, `> a`,
/// `(a, b]`, `≥ a`.
fn bounds(unit: &str) -> Vec<f64> {
    let mut v = Vec::new();
    let num = |s: &str| -> Option<f64> {
        s.trim()
            .trim_matches(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
            .parse()
            .ok()
    };
    for part in unit.split(',') {
        let p = part.trim();
        if let Some((a, b)) = p.split_once("..") {
            v.extend(num(a));
            v.extend(num(b));
        } else if let Some(r) = p
            .strip_prefix("≤")
            .or(p.strip_prefix("≥"))
            .or(p.strip_prefix('>'))
            .or(p.strip_prefix('<'))
        {
            v.extend(num(r));
        } else if p.starts_with('(') || p.ends_with(']') || p.ends_with(')') {
            v.extend(num(p.trim_start_matches('(')));
        }
    }
    v
}

/// The base text a key of `table` needs, and the key's full path.
fn placed(table: &str, key: &str) -> Option<(String, String)> {
    let attack_kind = |k: &str| match k {
        "region" | "drop_share" | "delay_mean_s" | "duplicate_share" => "csp_tamper",
        "storm_share" | "storm_spread_s" => "alert_storm",
        "duration_s" => "flood",
        _ => "disconnect",
    };
    Some(match table {
        "scenario" => (SYSTEM.to_string(), format!("scenario.{key}")),
        "phold" => (PHOLD.to_string(), format!("phold.{key}")),
        "fleet" | "run" | "crypto" => (SYSTEM.to_string(), format!("{table}.{key}")),
        "attack" => (
            format!(
                "{SYSTEM}\n[attack]\nkind = \"{}\"\nstart_h = 17.05\n",
                attack_kind(key)
            ),
            format!("attack.{key}"),
        ),
        "vulnerability" => (
            format!("{SYSTEM}\n[vulnerability]\nflaw = \"no_mac\"\ndisclosed_h = 17.02\n[vulnerability.fix]\ndelay_h = 0.01\nactivate_after_s = 30\n"),
            format!("vulnerability.{key}"),
        ),
        "acb_rekey" => (
            format!("{SYSTEM}\n[acb_rekey]\nstart_h = 17.02\n"),
            format!("acb_rekey.{key}"),
        ),
        "risk" => (
            format!("{SYSTEM}\n[risk]\n[[risk.organisations]]\nname = \"s0\"\nkind = \"supplier\"\n"),
            format!("risk.{key}"),
        ),
        "risk.organisations" => (
            format!("{SYSTEM}\n[risk]\n[[risk.organisations]]\nname = \"s0\"\nkind = \"supplier\"\n"),
            format!("risk.organisations[0].{key}"),
        ),
        _ => return None,
    })
}

/// Every key documented in `scenarios/README.md`'s tables.
fn readme_keys() -> Vec<Key> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/README.md"))
        .unwrap();
    let mut table = String::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            // "## `[scenario]`: ...", "### `[[risk.organisations]]` ..." or
            // the prose "Each `[[risk.organisations]]`:" below.
            table = line
                .split('`')
                .nth(1)
                .unwrap_or("")
                .trim_matches(|c| c == '[' || c == ']')
                .to_string();
        } else if line.starts_with("Each `[[risk.organisations]]`") {
            table = "risk.organisations".into();
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].starts_with('`') || cells[1] == "`kind`" {
            continue;
        }
        let key = cells[1].trim_matches('`');
        if key.contains(' ') || key.contains('/') || key.ends_with(".toml") {
            continue;
        }
        if let Some((base, path)) = placed(&table, key) {
            keys.push(Key {
                path,
                base,
                bounds: bounds(cells[3]),
            });
        }
    }
    keys
}

/// Every value of the built-in parameter set, as `parameters.<table>.<key>`.
fn parameter_keys() -> Vec<Key> {
    let t: toml::Table = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/gb_default.toml"
    ))
    .unwrap()
    .parse()
    .unwrap();
    let mut keys = Vec::new();
    for (sec, v) in &t {
        for (k, _) in v.as_table().unwrap() {
            keys.push(Key {
                path: format!("parameters.{sec}.{k}"),
                base: SYSTEM.to_string(),
                bounds: vec![],
            });
        }
    }
    keys
}

/// The values every key is tried at, plus its documented bounds ± a step.
fn values(k: &Key) -> Vec<String> {
    let mut v: Vec<String> = [
        "0",
        "-1",
        "1",
        "0.5",
        "1e-9",
        "1e9",
        "1e300",
        "-1e300",
        "nan",
        "inf",
        "9223372036854775807",
        "4294967296",
        "true",
        "\"bogus\"",
        "\"\"",
        "[]",
        "[0]",
        "[0.5, 0.5]",
        "[0, 1]",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for b in &k.bounds {
        let step = (b.abs() * 1e-3).max(1e-3);
        for x in [*b, b - step, b + step] {
            v.push(format!("{x:?}"));
        }
        if b.fract() == 0.0 && b.abs() < 1e15 {
            for x in [*b as i64, *b as i64 - 1, *b as i64 + 1] {
                v.push(x.to_string());
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// What one case did.
#[derive(Default)]
struct Tally {
    refused: usize,
    too_big: usize,
    ran: usize,
    failures: Vec<String>,
}

/// Whether an error message names `path` (or, for a rule over several
/// keys, the key's table).
fn names_key(msg: &str, path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap();
    let last = last.split('[').next().unwrap();
    let parent = path.rsplit_once('.').map(|p| p.0).unwrap_or(path);
    let parent_last = parent.rsplit('.').next().unwrap();
    msg.contains(path) || msg.contains(last) || msg.contains(parent_last)
}

fn try_case(key: &Key, value: &str, t: &mut Tally) {
    let set = format!("{}={value}", key.path);
    if std::env::var_os("EDGE_VERBOSE").is_some() {
        eprintln!("case --set {set}");
    }
    let s = match parse_str("edge", &key.base, std::slice::from_ref(&set)) {
        Err(e) => {
            let msg = e.to_string();
            if names_key(&msg, &key.path) {
                t.refused += 1;
            } else {
                t.failures.push(format!(
                    "--set {set}: refused without naming the key: {msg}"
                ));
            }
            return;
        }
        Ok(s) => s,
    };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if s.scenario.model == "phold" {
            let p = s.phold.as_ref().unwrap();
            if p.memory_estimate_bytes() > TOO_BIG {
                return "too_big";
            }
            let m = s.scenario.max_events;
            dccsim::models::phold::run_observed(
                p,
                s.scenario.seed,
                s.scenario.shards,
                1,
                m,
                None,
                |_| {},
            );
            return "ran";
        }
        let sys = match s.system() {
            Ok(sys) => sys,
            Err((k, m)) => panic!("accepted by the loader but refused by system(): {k}: {m}"),
        };
        if sys.memory_estimate_bytes() > TOO_BIG {
            return "too_big";
        }
        s.run_system(1).expect("checked");
        "ran"
    }));
    match outcome {
        Ok("too_big") => t.too_big += 1,
        Ok(_) => t.ran += 1,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            t.failures.push(format!("--set {set}: panicked: {msg}"));
        }
    }
}

fn check_all(keys: &[Key]) {
    assert!(!keys.is_empty());
    let mut t = Tally::default();
    for k in keys {
        for v in values(k) {
            try_case(k, &v, &mut t);
        }
    }
    eprintln!(
        "{} keys: {} cases refused naming the key, {} too big, {} ran",
        keys.len(),
        t.refused,
        t.too_big,
        t.ran
    );
    assert!(
        t.failures.is_empty(),
        "{} failing cases:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}

#[test]
fn the_readme_documents_the_keys_this_test_tries() {
    let keys = readme_keys();
    let paths: BTreeSet<&str> = keys.iter().map(|k| k.path.as_str()).collect();
    for want in [
        "scenario.seed",
        "phold.lps",
        "fleet.meters",
        "fleet.supplier_shares",
        "run.end_h",
        "crypto.sample_fraction",
        "attack.victim",
        "attack.drop_share",
        "vulnerability.fix.delay_h",
        "acb_rekey.per_s",
        "risk.years",
        "risk.organisations[0].maturity",
    ] {
        assert!(
            paths.contains(want),
            "{want} not found in scenarios/README.md"
        );
    }
    assert!(keys.len() > 50, "only {} documented keys found", keys.len());
    let k = keys.iter().find(|k| k.path == "fleet.meters").unwrap();
    assert_eq!(k.bounds, vec![1.0, 1e8]);
}

#[test]
fn scenario_phold_fleet_run_and_crypto_keys_at_their_edges() {
    let keys: Vec<Key> = readme_keys()
        .into_iter()
        .filter(|k| {
            !k.path.starts_with("attack")
                && !k.path.starts_with("acb_rekey")
                && !k.path.starts_with("vulnerability")
                && !k.path.starts_with("risk")
        })
        .collect();
    check_all(&keys);
}

#[test]
fn attack_vulnerability_and_risk_keys_at_their_edges() {
    let keys: Vec<Key> = readme_keys()
        .into_iter()
        .filter(|k| {
            k.path.starts_with("attack")
                || k.path.starts_with("acb_rekey")
                || k.path.starts_with("vulnerability")
                || k.path.starts_with("risk")
        })
        .collect();
    check_all(&keys);
}

#[test]
fn parameters_a_to_m_at_their_edges() {
    let keys: Vec<Key> = parameter_keys()
        .into_iter()
        .filter(|k| k.path.as_bytes()[11] < b'n')
        .collect();
    check_all(&keys);
}

#[test]
fn parameters_n_to_z_at_their_edges() {
    let keys: Vec<Key> = parameter_keys()
        .into_iter()
        .filter(|k| k.path.as_bytes()[11] >= b'n')
        .collect();
    check_all(&keys);
}
