//! Scenario files: what a user asks the simulator to run.
//!
//! A scenario is a TOML file. Mistakes are reported as a [`ScenarioError`]
//! whose one-line message names the file, the line and column where known,
//! and the key, and suggests the nearest valid key for a misspelt one.
//! `--set path.to.key=value` overrides are applied to the parsed file before
//! it is checked, so they are checked exactly like the file.

mod locate;

use crate::models::phold::PholdParams;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The built-in default scenario, used by `dccsim run` with no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../../scenarios/mass_disconnect.toml");
/// The name shown for the built-in scenario in messages.
pub const DEFAULT_SCENARIO_NAME: &str = "<built-in default: scenarios/mass_disconnect.toml>";

/// A checked scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the run is and how it is bounded.
    pub scenario: Meta,
    /// Parameters of the PHOLD engine benchmark model (when `scenario.model = "phold"`).
    pub phold: Option<PholdParams>,
    /// The fleet (system model).
    pub fleet: Option<crate::models::system::params::Fleet>,
    /// Run length (system model).
    pub run: Option<crate::models::system::params::RunSpec>,
    /// Crypto mode (system model).
    pub crypto: Option<crate::models::system::params::CryptoSpec>,
    /// Overrides of the chosen parameter set (system model).
    pub parameters: Option<toml::Table>,
    /// The attack (system model), if any.
    pub attack: Option<crate::models::system::attack::AttackSpec>,
    /// Further attacks and faults in the same run (system model).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<crate::models::system::attack::AttackSpec>,
    /// A declared device vulnerability and its emergency fix (system model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<crate::models::system::vulnerability::Vulnerability>,
    /// The DCC's replacement of every meter's ACB anchor (system model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acb_rekey: Option<crate::models::system::params::AcbRekey>,
    /// The governance model of a risk study (`dccsim risk`, `dccsim assess`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<crate::models::system::risk::RiskSpec>,
}

impl Scenario {
    /// The system model's checked view: the parameter set with this
    /// scenario's overrides merged in. Errors name the key.
    pub fn system(
        &self,
    ) -> Result<crate::models::system::params::SystemScenario, (String, String)> {
        use crate::models::system::params::{
            CryptoSpec, Params, RunSpec, SystemScenario, GB_DEFAULT,
        };
        let set = self
            .scenario
            .parameter_set
            .as_deref()
            .unwrap_or("gb_default");
        if set != "gb_default" {
            return Err((
                "scenario.parameter_set".into(),
                format!(
                    "unknown parameter set {set:?}; known: \"gb_default\" (models/gb_default.toml)"
                ),
            ));
        }
        let mut base: toml::Table = GB_DEFAULT
            .parse()
            .expect("the built-in parameter set parses");
        if let Some(over) = &self.parameters {
            merge(&mut base, over, "parameters")?;
        }
        durations_within_a_year(&base, "parameters")?;
        let text = toml::to_string(&base).expect("a table serialises");
        let parameters: Params = toml::from_str(&text).map_err(|e: toml::de::Error| {
            let key = e
                .span()
                .and_then(|sp| locate::key_at(&text, sp.start))
                .unwrap_or_default();
            let (k, m) = locate::explain(&base, e.message(), Some(key));
            (format!("parameters.{}", k.unwrap_or_default()), m)
        })?;
        let sc = SystemScenario {
            fleet: self.fleet.clone().ok_or((
                "fleet".to_string(),
                "model is \"system\" but the [fleet] table is missing".to_string(),
            ))?,
            run: self.run.clone().unwrap_or(RunSpec {
                start_h: 0.0,
                end_h: 24.0,
                window_ms: None,
            }),
            crypto: self.crypto.clone().unwrap_or(CryptoSpec {
                mode: crate::crypto::mode::CryptoMode::Modeled,
                sample_fraction: 0.01,
            }),
            parameters,
            attack: self.attack.clone(),
            attacks: self.attacks.clone(),
            vulnerability: self.vulnerability.clone(),
            acb_rekey: self.acb_rekey.clone(),
        };
        sc.check()?;
        if let Some(r) = &self.risk {
            let f = &sc.fleet;
            r.check(f.suppliers + f.other_users, f.suppliers)
                .map_err(|(k, m)| (format!("risk.{k}"), m))?;
        }
        Ok(sc)
    }
}

impl Scenario {
    /// Runs this system-model scenario to its end on `threads` engine
    /// threads (no interrupt, no progress, no files): what tests, `explore`
    /// and other in-process callers need.
    pub fn run_system(
        &self,
        threads: usize,
    ) -> Result<crate::models::system::run::SystemRun, (String, String)> {
        let sys = self.system()?;
        let m = &self.scenario;
        Ok(crate::models::system::run::run(
            &sys,
            m.seed,
            m.shards,
            threads,
            m.max_events,
            None,
            |_| {},
        ))
    }
}

/// Every duration parameter (a key ending in `_ms`, `_s`, `_min` or `_h`,
/// not a rate `…_per_…`) is finite and at most a year (366 days): runs end
/// within a year, and longer delays would only overflow the clock.
fn durations_within_a_year(t: &toml::Table, path: &str) -> Result<(), (String, String)> {
    const YEAR_S: f64 = 366.0 * 86_400.0;
    for (k, v) in t {
        let key = format!("{path}.{k}");
        if let toml::Value::Table(sub) = v {
            durations_within_a_year(sub, &key)?;
            continue;
        }
        let per_s = [("_ms", 1e-3), ("_s", 1.0), ("_min", 60.0), ("_h", 3600.0)]
            .into_iter()
            .find(|(suffix, _)| k.ends_with(suffix) && !k.contains("_per_"));
        let x = match v {
            toml::Value::Float(x) => *x,
            toml::Value::Integer(i) => *i as f64,
            _ => continue,
        };
        if let Some((unit, secs)) = per_s {
            if !(x.is_finite() && x * secs <= YEAR_S) {
                let most = YEAR_S / secs;
                return Err((
                    key,
                    format!(
                        "a duration must be finite and at most a year ({most} {}), got {x}",
                        &unit[1..]
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Merges `over` into `base`; a key not in `base` is an error naming it.
fn merge(base: &mut toml::Table, over: &toml::Table, path: &str) -> Result<(), (String, String)> {
    for (k, v) in over {
        let key = format!("{path}.{k}");
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o, &key)?,
            (Some(slot), v) if !v.is_table() => *slot = v.clone(),
            (Some(_), _) => {
                return Err((key, "is a value in the parameter set, not a table".into()))
            }
            (None, _) => {
                let names: Vec<&str> = base.keys().map(String::as_str).collect();
                let hint = locate::nearest(k, &names)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err((key, format!("unknown parameter `{k}`{hint}")));
            }
        }
    }
    Ok(())
}

/// The `[scenario]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short name; the default results folder is `results/<name>`.
    pub name: String,
    /// One or two sentences on what the scenario asks.
    #[serde(default)]
    pub description: String,
    /// Which model to run: `"phold"` for now.
    pub model: String,
    /// Root seed of every random stream.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Number of shards entities are spread over (fixed; never the thread count).
    #[serde(default = "default_shards")]
    pub shards: u32,
    /// System model: the parameter set (`"gb_default"`, i.e. models/gb_default.toml).
    #[serde(default)]
    pub parameter_set: Option<String>,
    /// Upper bound on events run; the run stops at the first window barrier past it.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
}

fn default_seed() -> u64 {
    1
}
fn default_shards() -> u32 {
    64
}
fn default_max_events() -> u64 {
    10_000_000_000
}

/// A mistake in a scenario file or an override; `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or `--set`, or the built-in default's name).
    pub source: String,
    /// 1-based line and column, where known.
    pub position: Option<(usize, usize)>,
    /// Dotted key path, where known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        f.write_str(": ")?;
        if let Some(k) = &self.key {
            write!(f, "key `{k}`: ")?;
        }
        // Keep it to one line whatever the parser said.
        let msg = self
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        f.write_str(&msg)
    }
}

impl std::error::Error for ScenarioError {}

/// A scenario and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The checked scenario, overrides applied.
    pub scenario: Scenario,
    /// SHA-256 of the effective scenario (canonical JSON of the checked value), hex.
    pub sha256: String,
    /// The file, if not the built-in default.
    pub path: Option<PathBuf>,
    /// The `--set` overrides applied, in order.
    pub sets: Vec<String>,
}

/// Reads, overrides and checks a scenario file (`None`: the built-in default).
pub fn load(
    path: Option<&Path>,
    sets: &[String],
    seed: Option<u64>,
) -> Result<Loaded, ScenarioError> {
    let (source, text) = match path {
        None => (
            DEFAULT_SCENARIO_NAME.to_string(),
            DEFAULT_SCENARIO.to_string(),
        ),
        Some(p) => {
            let src = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| ScenarioError {
                source: src.clone(),
                position: None,
                key: None,
                message: format!("cannot read the file: {e}"),
            })?;
            let text = String::from_utf8(bytes).map_err(|e| ScenarioError {
                source: src.clone(),
                position: None,
                key: None,
                message: format!(
                    "not a text file: invalid UTF-8 at byte {} (a scenario is a TOML text file)",
                    e.utf8_error().valid_up_to()
                ),
            })?;
            (src, text)
        }
    };
    let mut scenario = parse_str(&source, &text, sets)?;
    if let Some(s) = seed {
        scenario.scenario.seed = s;
    }
    let canonical = serde_json::to_vec(&scenario).expect("a scenario always serialises");
    let sha256 = hex::encode(Sha256::digest(&canonical));
    Ok(Loaded {
        scenario,
        sha256,
        path: path.map(Path::to_path_buf),
        sets: sets.to_vec(),
    })
}

/// Parses and checks scenario text; `source` names it in errors.
pub fn parse_str(source: &str, text: &str, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let err = |position, key: Option<String>, message: String| ScenarioError {
        source: source.to_string(),
        position,
        key,
        message,
    };
    if text.trim().is_empty() {
        return Err(err(
            None,
            None,
            "the file is empty; a scenario needs at least a [scenario] table".into(),
        ));
    }
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let pos = e.span().map(|s| locate::line_col(text, s.start));
        err(pos, None, format!("not valid TOML: {}", e.message()))
    })?;
    for s in sets {
        apply_set(&mut table, s).map_err(|m| ScenarioError {
            source: "--set".into(),
            position: None,
            key: Some(s.split('=').next().unwrap_or(s).trim().to_string()),
            message: m,
        })?;
    }
    // Deserialise from TOML text so that errors carry a position; with
    // overrides, that text is the file with the overrides applied, and the
    // key found there is located again in the original file.
    let effective = if sets.is_empty() {
        text.to_string()
    } else {
        toml::to_string(&table).expect("a parsed table serialises")
    };
    let scenario: Scenario = toml::from_str(&effective).map_err(|e: toml::de::Error| {
        let key_here = e.span().and_then(|sp| locate::key_at(&effective, sp.start));
        let (key, message) = locate::explain(&table, e.message(), key_here);
        let pos = key.as_deref().and_then(|k| locate::find_key(text, k));
        err(pos, key, message)
    })?;
    check(&scenario).map_err(|(key, message)| {
        let pos = locate::find_key(text, &key);
        err(pos, Some(key), message)
    })?;
    Ok(scenario)
}

/// Checks values that types alone do not constrain; returns the key and the problem.
fn check(s: &Scenario) -> Result<(), (String, String)> {
    let m = &s.scenario;
    if m.name.is_empty()
        || !m
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err((
            "scenario.name".into(),
            format!(
                "must be non-empty letters, digits, '-', '_' or '.', got {:?}",
                m.name
            ),
        ));
    }
    if m.shards == 0 || m.shards > 65_536 {
        return Err((
            "scenario.shards".into(),
            format!("must be between 1 and 65536, got {}", m.shards),
        ));
    }
    match m.model.as_str() {
        "phold" => {
            let p = s.phold.as_ref().ok_or((
                "phold".to_string(),
                "model is \"phold\" but the [phold] table is missing".to_string(),
            ))?;
            p.check().map_err(|msg| {
                let key = msg
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
                (format!("phold.{key}"), msg)
            })
        }
        "system" => s.system().map(|_| ()),
        other => Err((
            "scenario.model".into(),
            format!("unknown model {other:?}; known models: \"phold\", \"system\""),
        )),
    }
}

/// Applies one `path.to.key=value` override. The value is read as TOML
/// (number, boolean, string in quotes, array); anything else is a string.
fn apply_set(table: &mut toml::Table, s: &str) -> Result<(), String> {
    let (path, raw) = s
        .split_once('=')
        .ok_or_else(|| format!("expected path.to.key=value, got {s:?}"))?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("bad key path {path:?}"));
    }
    let value: toml::Value = match format!("v = {}", raw.trim()).parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").expect("just parsed"),
        Err(_) => toml::Value::String(raw.trim().to_string()),
    };
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        // `name[i]`: the i-th table of an array of tables (`[[name]]`).
        if let Some((name, i)) = p.strip_suffix(']').and_then(|q| q.split_once('[')) {
            let i: usize = i
                .parse()
                .map_err(|_| format!("bad index in `{p}`: expected name[N]"))?;
            let list = cur
                .get_mut(name)
                .and_then(toml::Value::as_array_mut)
                .ok_or_else(|| format!("`{name}` is not an array of tables in the scenario"))?;
            let n = list.len();
            cur = list
                .get_mut(i)
                .ok_or_else(|| format!("`{p}`: `{name}` has {n} entries (0..{n})"))?
                .as_table_mut()
                .ok_or_else(|| format!("`{p}` is a value, not a table"))?;
            continue;
        }
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is a value, not a table"))?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests;
