//! `dccsim explore`: many small, randomly composed system scenarios, each
//! run against invariants that must hold in all of them (the idea of
//! TigerBeetle's VOPR and FoundationDB's simulation testing).
//!
//! Each run's scenario is drawn from `(seed, run)`: fleet (suppliers,
//! shares, other users), time of day and length, crypto mode, defences on
//! or off, zero to three attacks or faults of every kind with random
//! holdings and parameters (the faults the model has: a CSP that drops
//! (loss bursts), delays (delay spikes), reorders and duplicates; a DSP
//! outage; a SOC outage; a regional power cut), sometimes a
//! declared firmware flaw with its fix, and the thread count (1 to 4).
//! The oracles, checked on every run:
//!
//! * no panic;
//! * the checker: no critical command executed that the rules refuse
//!   (`checker_violations = 0`), and `crypto_ground_truth_mismatches = 0`;
//! * conservation: per request type (alerts included), every request sent
//!   either completed with exactly one outcome or is still in flight at
//!   the end (waiting at a station or carried by a pending event); meters'
//!   refusals are at least the refused outcomes; nothing executed that was
//!   not sent (or copied by a tampering CSP); every copy a tampering CSP
//!   sent was discarded at the DSP or is still in flight;
//! * with full cryptography and a declared flaw, the meters' count of
//!   commands executed through it equals the checker's;
//! * determinism: every fourth run is repeated at another thread count
//!   and must give byte-identical `summary.json` and `timeline.csv`.
//!
//! A failing run's scenario is written out with a `reproduce with:` line,
//! and shrunk (fewer meters, fewer attacks, a shorter run) while it still
//! fails. Exit 1 on any failure.

use crate::workflow::scenario;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `dccsim explore` is asked.
pub struct ExploreSpec<'a> {
    /// Runs to make (`None`: until `minutes` have passed).
    pub runs: Option<u64>,
    /// Wall-clock budget in minutes (with `runs = None`).
    pub minutes: f64,
    /// Root seed of the scenario draws.
    pub seed: u64,
    /// Meters per run.
    pub meters: u32,
    /// Where failing scenarios are written.
    pub out: &'a Path,
    /// Print only failures and the final summary.
    pub quiet: bool,
}

/// SplitMix64: the scenario draws.
struct Draw(u64);

impl Draw {
    fn u64(&mut self) -> u64 {
        // `mix64` adds the SplitMix64 increment, then mixes.
        let z = crate::engine::event::mix64(self.0);
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z
    }
    fn below(&mut self, n: u64) -> u64 {
        ((self.u64() >> 32) * n) >> 32
    }
    fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// One drawn run: its scenario text, thread count and labels for the summary.
pub struct Drawn {
    /// The scenario file's text.
    pub toml: String,
    /// Engine threads.
    pub threads: usize,
    /// Attack and fault kinds, the crypto mode, and "flaw" if one is declared.
    pub labels: Vec<String>,
}

/// The attack and fault kinds a run draws from (every `[attack]` kind).
pub const KINDS: &[&str] = &[
    "disconnect",
    "firmware",
    "replay",
    "csp_tamper",
    "flood",
    "alert_storm",
    "dsp_outage",
    "soc_outage",
    "csp_outage",
    "user_outage",
];

/// One attack table with random holdings and parameters.
fn attack_table(
    d: &mut Draw,
    users: u32,
    suppliers: u32,
    start_h: f64,
    len_h: f64,
) -> (String, String) {
    let kind = d.pick(KINDS);
    let at = start_h + d.unit() * len_h * 0.8;
    let mut t = format!("kind = \"{kind}\"\nstart_h = {at}\n");
    let b = |d: &mut Draw| d.chance(0.5);
    match kind {
        "disconnect" | "firmware" => {
            let _ = write!(
                t,
                "victim = {}\nuser_access = {}\ncommand_key = {}\nacb_key = {}\nfuel = \"{}\"\npath = \"{}\"\nrate_per_s = {}\ntargets = {}\nunder_threshold = {}\n",
                d.below(suppliers as u64),
                b(d),
                b(d),
                d.chance(0.3),
                d.pick(&["both", "electricity", "gas"]),
                d.pick(&["dcc", "wan"]),
                1.0 + d.below(200) as f64,
                d.below(500),
                d.chance(0.2)
            );
        }
        "replay" => {
            let _ = write!(
                t,
                "victim = {}\nrate_per_s = {}\ntargets = {}\n",
                d.below(users as u64),
                1.0 + d.below(100) as f64,
                d.below(300)
            );
        }
        "csp_tamper" => {
            let _ = write!(
                t,
                "region = {}\ndrop_share = {}\ndelay_mean_s = {}\nduplicate_share = {}\nduration_s = {}\n",
                d.below(3),
                // Biased towards heavy loss, so that retries run out (timeouts).
                d.unit().sqrt(),
                d.unit() * 60.0,
                if d.chance(0.5) { d.unit() } else { 0.0 },
                60.0 + d.below(3600) as f64
            );
        }
        "flood" => {
            let _ = write!(
                t,
                "victim = {}\nuser_access = {}\nrate_per_s = {}\nduration_s = {}\n",
                d.below(users as u64),
                b(d),
                1.0 + d.below(500) as f64,
                10.0 + d.below(300) as f64
            );
        }
        "alert_storm" => {
            let _ = write!(
                t,
                "region = {}\nstorm_share = {}\nstorm_spread_s = {}\n",
                d.below(3),
                d.unit(),
                d.unit() * 300.0
            );
        }
        "user_outage" => {
            let _ = write!(
                t,
                "victim = {}\nduration_s = {}\n",
                d.below(users as u64),
                10.0 + d.below(7200) as f64
            );
        }
        "csp_outage" => {
            let _ = write!(
                t,
                "region = {}\nduration_s = {}\n",
                d.below(3),
                10.0 + d.below(1800) as f64
            );
        }
        _ => {
            let _ = writeln!(t, "duration_s = {}", 10.0 + d.below(1800) as f64);
        }
    }
    (kind.to_string(), t)
}

/// Draws run `run` of the exploration seeded `seed`, with `meters` meters.
pub fn draw(seed: u64, run: u64, meters: u32) -> Drawn {
    let mut d = Draw(crate::models::system::world::hash_parts(&[
        seed,
        0x4558_504C,
        run,
    ]));
    let suppliers = 1 + d.below(5) as u32;
    let other = d.below(4) as u32;
    let users = suppliers + other;
    // Shares in thousandths adding up to 1000.
    let mut cuts: Vec<u64> = (1..suppliers).map(|_| d.below(1001)).collect();
    cuts.sort_unstable();
    let mut shares = Vec::new();
    let mut prev = 0;
    for c in cuts.iter().chain(std::iter::once(&1000)) {
        shares.push(format!("{}", (*c - prev) as f64 / 1000.0));
        prev = *c;
    }
    let start_h = d.below(24 * 4) as f64 / 4.0;
    let len_h = 0.25 + d.below(8) as f64 / 4.0;
    let mode = d.pick(&["full", "sampled", "modeled"]);
    let threads = 1 + d.below(4) as usize;
    let mut labels = vec![mode.to_string()];
    let mut t = format!(
        "[scenario]\nname = \"explore_{seed}_{run}\"\nmodel = \"system\"\nseed = {}\nshards = {}\n\n\
         [fleet]\nmeters = {meters}\nsuppliers = {suppliers}\nsupplier_shares = [{}]\nother_users = {other}\n\n\
         [run]\nstart_h = {start_h}\nend_h = {}\n\n[crypto]\nmode = \"{mode}\"\nsample_fraction = {}\n\n",
        d.u64() >> 1,
        [1, 4, 16, 64][d.below(4) as usize],
        shares.join(", "),
        start_h + len_h,
        d.unit()
    );
    let _ = write!(
        t,
        "[parameters.anomaly]\nenabled = {}\n\n[parameters.response]\nenabled = {}\nfirmware_fix = {}\n\n",
        d.chance(0.8),
        d.chance(0.8),
        d.chance(0.3)
    );
    if d.chance(0.3) {
        labels.push("flaw".into());
        let _ = write!(
            t,
            "[vulnerability]\nflaw = \"{}\"\napplies_to = \"{}\"\nshare = {}\ndisclosed_h = {start_h}\n\n\
             [vulnerability.fix]\nenabled = {}\ndelay_h = {}\nwan_share = {}\n\n",
            d.pick(&["no_mac", "stale_counter"]),
            d.pick(&["supply", "critical"]),
            d.unit(),
            d.chance(0.7),
            d.unit() * len_h,
            0.01 + d.unit() * 0.99
        );
    }
    for _ in 0..d.below(4) {
        let (kind, table) = attack_table(&mut d, users, suppliers, start_h, len_h);
        labels.push(kind);
        let _ = write!(t, "[[attacks]]\n{table}\n");
    }
    if d.chance(0.25) {
        labels.push("acb_rekey".into());
        let _ = write!(
            t,
            "[acb_rekey]\nstart_h = {}\nper_s = {}\nretries = {}\n\n",
            start_h + d.unit() * len_h * 0.99,
            0.5 + d.unit() * 500.0,
            d.below(4)
        );
    }
    let mut traffic = String::new();
    if d.chance(0.3) {
        labels.push("change_of_supplier".into());
        let _ = writeln!(
            traffic,
            "change_of_supplier_per_meter_day = {}",
            d.unit() * 4.0
        );
    }
    if d.chance(0.3) {
        labels.push("installation".into());
        let _ = writeln!(traffic, "installation_per_meter_day = {}", d.unit() * 4.0);
    }
    if !traffic.is_empty() {
        let _ = write!(t, "[parameters.traffic]\n{traffic}\n");
    }
    Drawn {
        toml: t,
        threads,
        labels,
    }
}

/// Runs a scenario text at `threads`; the summary and the timeline, or the panic's message.
fn run_text(toml: &str, threads: usize) -> Result<(Value, String), String> {
    let s =
        scenario::parse_str("explore", toml, &[]).map_err(|e| format!("invalid scenario: {e}"))?;
    let r = std::panic::catch_unwind(|| s.run_system(threads))
        .map_err(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            format!("panicked: {msg}")
        })?
        .map_err(|(k, m)| format!("invalid scenario: {k}: {m}"))?;
    Ok((r.summary, r.timeline))
}

fn num(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_f64().map(|x| x as i64))
        .unwrap_or(0)
}

/// The sum of an object's numeric values (0 for anything else).
fn sum_of(v: &Value) -> i64 {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(_, x)| num(x))
        .sum()
}

/// The oracles on one run's summary; the first broken one, described.
pub fn oracles(s: &Value) -> Result<(), String> {
    if num(&s["checker_violations"]) != 0 {
        return Err(format!("checker violations: {}", s["checker"]));
    }
    if num(&s["crypto_ground_truth_mismatches"]) != 0 {
        return Err(format!(
            "{} crypto ground-truth mismatches",
            s["crypto_ground_truth_mismatches"]
        ));
    }
    let mut refused_outcomes = 0;
    for (kind, r) in s["requests"].as_object().into_iter().flatten() {
        let (sent, done, flying) = (num(&r["sent"]), num(&r["completed"]), num(&r["in_flight"]));
        let outcomes = sum_of(&r["outcomes"]);
        if outcomes != done {
            return Err(format!(
                "{kind}: outcomes add up to {outcomes}, {done} completed"
            ));
        }
        if sent != done + flying {
            return Err(format!(
                "{kind}: {sent} sent, but {done} completed and {flying} in flight at the end"
            ));
        }
        refused_outcomes += num(&r["outcomes"]["meter_refused"]) + num(&r["outcomes"]["replay"]);
    }
    let refusals = sum_of(&s["meter_refusals"]);
    if refused_outcomes > refusals {
        return Err(format!(
            "{refused_outcomes} refused outcomes but meters refused {refusals}"
        ));
    }
    let dup = &s["csp_duplicates"];
    let (copies, discarded, copies_flying) = (
        num(&dup["sent"]),
        num(&dup["discarded_at_dsp"]),
        num(&dup["in_flight"]),
    );
    if copies != discarded + copies_flying {
        return Err(format!(
            "a tampering CSP sent {copies} copies, but {discarded} were discarded and {copies_flying} are in flight"
        ));
    }
    // A copy of an attack command may execute too (on a meter whose flaw
    // skips the counter check), never anything beyond.
    if num(&s["attack"]["executed"]) > num(&s["attack"]["sent"]) + copies {
        return Err(format!(
            "attack executed more than it sent: {}",
            s["attack"]
        ));
    }
    let v = &s["vulnerability"];
    if !v.is_null()
        && s["crypto_mode"] == "full"
        && num(&v["exploited"]) != num(&s["checker"]["exploited_flaw"])
    {
        return Err(format!(
            "meters executed {} commands through the flaw, the checker counts {}",
            v["exploited"], s["checker"]["exploited_flaw"]
        ));
    }
    Ok(())
}

/// Runs one drawn scenario through every oracle (and, if `twice`, at a
/// second thread count).
pub fn check_text(toml: &str, threads: usize, twice: bool) -> Result<(), String> {
    let (s, timeline) = run_text(toml, threads)?;
    oracles(&s)?;
    if twice {
        let other = if threads == 1 { 3 } else { 1 };
        let (s2, t2) = run_text(toml, other)?;
        if s2 != s || t2 != timeline {
            return Err(format!(
                "results differ between {threads} and {other} threads"
            ));
        }
    }
    Ok(())
}

/// Smaller versions of a failing scenario: fewer meters, each attack
/// removed, a shorter run.
pub fn smaller(toml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut t: toml::Table = toml.parse().expect("a drawn scenario parses");
    let meters = t["fleet"]["meters"].as_integer().unwrap_or(0);
    if meters > 100 {
        let mut c = t.clone();
        c["fleet"]["meters"] = toml::Value::Integer(meters / 2);
        out.push(c);
    }
    let n = t
        .get("attacks")
        .and_then(|a| a.as_array())
        .map_or(0, Vec::len);
    for i in 0..n {
        let mut c = t.clone();
        c["attacks"].as_array_mut().expect("an array").remove(i);
        out.push(c);
    }
    let (s, e) = (
        t["run"]["start_h"].as_float().unwrap_or(0.0),
        t["run"]["end_h"].as_float().unwrap_or(1.0),
    );
    if e - s > 0.25 {
        // Shorter, keeping every attack inside the run.
        let end = s + (e - s) / 2.0;
        let inside = t.get("attacks").and_then(|a| a.as_array()).is_none_or(|a| {
            a.iter()
                .all(|x| x["start_h"].as_float().unwrap_or(0.0) < end)
        });
        if inside {
            t["run"]["end_h"] = toml::Value::Float(end);
            out.push(t);
        }
    }
    out.into_iter()
        .map(|c| toml::to_string(&c).expect("serialises"))
        .collect()
}

/// Shrinks a failing scenario while it still fails (up to 40 tries).
pub fn shrink(toml: &str, threads: usize, twice: bool) -> (String, String) {
    let mut best = toml.to_string();
    let mut why = check_text(&best, threads, twice).err().unwrap_or_default();
    let mut tries = 0;
    'outer: while tries < 40 {
        for c in smaller(&best) {
            tries += 1;
            if let Err(w) = check_text(&c, threads, twice) {
                best = c;
                why = w;
                continue 'outer;
            }
        }
        break;
    }
    (best, why)
}

/// Runs the exploration; returns the number of failures.
pub fn explore(spec: &ExploreSpec<'_>) -> std::io::Result<u64> {
    let t0 = Instant::now();
    let mut by_label: std::collections::BTreeMap<String, u64> = Default::default();
    let (mut runs, mut failures, mut repeated) = (0u64, 0u64, 0u64);
    loop {
        let done = match spec.runs {
            Some(n) => runs >= n,
            None => t0.elapsed().as_secs_f64() >= spec.minutes * 60.0,
        };
        if done {
            break;
        }
        let d = draw(spec.seed, runs, spec.meters);
        let twice = runs % 4 == 0;
        repeated += twice as u64;
        for l in &d.labels {
            *by_label.entry(l.clone()).or_insert(0) += 1;
        }
        if let Err(why) = check_text(&d.toml, d.threads, twice) {
            failures += 1;
            let (small, why_small) = shrink(&d.toml, d.threads, twice);
            std::fs::create_dir_all(spec.out)?;
            let file: PathBuf = spec.out.join(format!("failure-{}-{runs}.toml", spec.seed));
            let text = format!(
                "# dccsim explore --seed {} found: {why}\n# shrunk, it fails with: {why_small}\n\
                 # reproduce with: dccsim run {} --threads {}\n{small}",
                spec.seed,
                file.display(),
                d.threads
            );
            crate::workflow::results::write_atomic(&file, text.as_bytes())?;
            eprintln!(
                "explore: run {runs} FAILED: {why}\n  reproduce with: dccsim run {} --threads {}",
                file.display(),
                d.threads
            );
        } else if !spec.quiet {
            eprintln!(
                "explore: run {runs} ok ({}; {} threads{})",
                d.labels.join(", "),
                d.threads,
                if twice { ", repeated" } else { "" }
            );
        }
        runs += 1;
    }
    let kinds: Vec<String> = by_label.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "explore: {runs} runs in {:.0} s ({repeated} repeated at another thread count), {failures} failed; covered: {}",
        t0.elapsed().as_secs_f64(),
        kinds.join(", ")
    );
    Ok(failures)
}
