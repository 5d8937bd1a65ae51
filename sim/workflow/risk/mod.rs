//! `dccsim risk`: a governance risk study over many simulated years.
//!
//! 1. **Incident library.** For each organisation whose compromise hands
//!    an attacker something (`[[risk.organisations]].compromise`), the
//!    study simulates `risk.library` incidents with the real model: the
//!    scenario's fleet, parameters and crypto mode, a window of
//!    `risk.incident_h` hours opening at a clock hour drawn uniformly over
//!    the day, and the compromise's attacks placed after it. Each incident
//!    has its own seed (from the scenario's seed, the organisation's name
//!    and the entry), and its impact is read from the run's summary.
//! 2. **Years.** Each simulated year draws, per organisation, how many
//!    times it is compromised (Poisson with its annual rate from the
//!    posture, by inversion of one uniform per organisation and year), and
//!    for each compromise one entry of its library. A year's impact is the
//!    sum over its incidents (the peak MW and LFDD: the worst of them).
//! 3. **Figures** with 95% confidence intervals: means from the spread of
//!    `risk.batches` equal batches of years (replications), 99th
//!    percentiles from order statistics.
//!
//! Common random numbers: every draw is a pure function of (seed,
//! organisation name, year, entry), so two studies of the same seed (the
//! base and a proposal in `dccsim assess`, or the tornado's ±50% cases)
//! differ only where their inputs differ; lowering a rate can only remove
//! compromises from a year, never move them. Incidents whose scenario and
//! seed are identical are simulated once and shared.
//!
//! Nothing depends on the thread count: incidents run in parallel, one
//! engine thread each, and are gathered in a fixed order.

pub mod assess;
mod files;
mod stats;

pub use files::{write_study, Invocation};
pub use stats::{Figure, Figures};

use crate::engine::rng::open01;
use crate::engine::transport::{Transport, Wire};
use crate::models::system::params::SystemScenario;
use crate::models::system::risk::{RiskRates, RiskSpec};
use crate::models::system::world::hash_parts;
use crate::workflow::scenario::Loaded;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What one simulated incident did (from its run's summary).
#[derive(Clone, Debug, PartialEq)]
pub struct Impact {
    /// The incident's seed.
    pub seed: u64,
    /// Clock hour the window opened (the compromise).
    pub start_clock_h: f64,
    /// Peak of the meters the attacks switched off.
    pub meters: f64,
    /// Meter-hours off because of the attacks, within the window.
    pub meter_hours: f64,
    /// Peak MW disconnected.
    pub mw: f64,
    /// Whether frequency reached the LFDD (low frequency demand disconnection) level.
    pub lfdd: bool,
    /// Seconds from the first attack to detection (`None`: not within the window).
    pub detect_s: Option<f64>,
    /// Seconds from the first attack to containment (`None`: not within the window).
    pub contain_s: Option<f64>,
    /// Commands executed only through a declared firmware flaw.
    pub exploited: f64,
    /// Vulnerable meter-hours from the flaw's disclosure to the window's end.
    pub exposure_meter_hours: f64,
    /// Events the run executed.
    pub events: u64,
}

impl Wire for Impact {
    fn put(&self, out: &mut Vec<u8>) {
        (self.seed, self.start_clock_h, self.meters).put(out);
        (self.meter_hours, self.mw, self.lfdd).put(out);
        (self.detect_s, self.contain_s, self.exploited).put(out);
        (self.exposure_meter_hours, self.events).put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (seed, start_clock_h, meters) = Wire::take(b);
        let (meter_hours, mw, lfdd) = Wire::take(b);
        let (detect_s, contain_s, exploited) = Wire::take(b);
        let (exposure_meter_hours, events) = Wire::take(b);
        Impact {
            seed,
            start_clock_h,
            meters,
            meter_hours,
            mw,
            lfdd,
            detect_s,
            contain_s,
            exploited,
            exposure_meter_hours,
            events,
        }
    }
}

impl Impact {
    fn of_summary(seed: u64, start_clock_h: f64, s: &Value) -> Self {
        let f = |k: &str| s[k].as_f64().unwrap_or(0.0);
        Impact {
            seed,
            start_clock_h,
            meters: f("meters_disconnected_max"),
            meter_hours: f("meter_hours_off_by_attack"),
            mw: f("mw_disconnected_max"),
            lfdd: s["lfdd_triggered"] == true,
            detect_s: s["time_to_detect_s"].as_f64(),
            contain_s: s["time_to_contain_s"].as_f64(),
            exploited: s["vulnerability"]["exploited"].as_f64().unwrap_or(0.0),
            exposure_meter_hours: s["vulnerability"]["exposure_meter_hours"]
                .as_f64()
                .unwrap_or(0.0),
            events: s["events"].as_u64().unwrap_or(0),
        }
    }
}

/// A study ready to run: the checked scenario and its governance model.
#[derive(Clone, Debug)]
pub struct Study {
    /// The scenario (fleet, parameters, crypto mode) every incident runs in.
    pub system: SystemScenario,
    /// The governance model and study settings.
    pub spec: RiskSpec,
    /// Root seed.
    pub seed: u64,
    /// Shards of each incident run.
    pub shards: u32,
    /// Event cap of each incident run.
    pub max_events: u64,
}

impl Study {
    /// The study of a loaded scenario; `years` replaces `risk.years`.
    pub fn of(l: &Loaded, years: Option<u32>) -> Result<Self, String> {
        let s = &l.scenario;
        let mut spec = s
            .risk
            .clone()
            .ok_or("the scenario has no [risk] table (organisations and study settings): see scenarios/README.md")?;
        if let Some(y) = years {
            spec.years = y;
        }
        let system = s.system().map_err(|(k, m)| format!("key `{k}`: {m}"))?;
        if let Some(v) = system
            .vulnerability
            .as_ref()
            .filter(|v| v.disclosed_h >= spec.incident_h)
        {
            return Err(format!(
                "key `vulnerability.disclosed_h`: in a risk study it counts hours from each incident window's opening and must be below risk.incident_h = {}, got {}",
                spec.incident_h, v.disclosed_h
            ));
        }
        let f = &system.fleet;
        spec.check(f.suppliers + f.other_users, f.suppliers)
            .map_err(|(k, m)| format!("key `risk.{k}`: {m}"))?;
        Ok(Study {
            system,
            spec,
            seed: s.scenario.seed,
            shards: s.scenario.shards,
            max_events: s.scenario.max_events,
        })
    }

    /// Parameters' risk rates.
    pub fn rates(&self) -> &RiskRates {
        &self.system.parameters.risk
    }

    /// Each organisation's annual compromise rate under `rates`.
    pub fn annual_rates(&self, rates: &RiskRates) -> Vec<f64> {
        self.spec
            .organisations
            .iter()
            .map(|o| rates.annual_rate(o))
            .collect()
    }

    /// The key of organisation `o`'s draws: its name.
    fn org_key(&self, o: usize) -> u64 {
        name_hash(&self.spec.organisations[o].name)
    }

    /// The incident runs of the library: `(organisation, entry, seed,
    /// clock hour, scenario)`, for organisations with a compromise.
    pub fn incidents(&self) -> Vec<(usize, u32, u64, f64, SystemScenario)> {
        let mut out = Vec::new();
        for (o, org) in self.spec.organisations.iter().enumerate() {
            if org.compromise.is_empty() {
                continue;
            }
            for r in 0..self.spec.library {
                let seed = hash_parts(&[self.seed, 0x5249_534B, self.org_key(o), r as u64]) >> 1;
                let h0 = 24.0 * open01(hash_parts(&[seed, 0x4830]));
                let mut sc = self.system.clone();
                sc.run.start_h = h0;
                sc.run.end_h = h0 + self.spec.incident_h;
                sc.attack = None;
                // A declared vulnerability is disclosed relative to the window too.
                if let Some(v) = sc.vulnerability.as_mut() {
                    v.disclosed_h += h0;
                }
                sc.attacks = org
                    .compromise
                    .iter()
                    .map(|a| {
                        let mut a = a.clone();
                        *a.start_h_mut() += h0;
                        a
                    })
                    .collect();
                out.push((o, r, seed, h0, sc));
            }
        }
        out
    }
}

/// FNV-1a of a name (a stable key for draws).
pub fn name_hash(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The cache key of an incident run: its scenario and seed.
fn incident_key(sc: &SystemScenario, seed: u64, shards: u32) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(sc).expect("a scenario serialises"));
    h.update(seed.to_le_bytes());
    h.update(shards.to_le_bytes());
    hex::encode(h.finalize())
}

/// Simulated incidents, by cache key. Over MPI ranks (`mpirun -np R
/// dccsim risk|assess`), incident `k` of each fill runs on rank `k mod R`
/// and every rank gets every incident's impact, so every rank evaluates the
/// same study (rank 0 writes it).
#[derive(Default)]
pub struct Library {
    /// The other ranks, if any.
    pub ranks: Option<Box<dyn Transport>>,
    runs: BTreeMap<String, Impact>,
    /// Incidents simulated (not found in the cache).
    pub simulated: usize,
    /// Incident look-ups answered by the cache.
    pub reused: usize,
}

impl Library {
    /// Whether this process writes the study (rank 0, or no MPI).
    pub fn is_root(&self) -> bool {
        self.ranks.as_ref().is_none_or(|t| t.rank() == 0)
    }

    /// Simulates every incident of `studies` not simulated yet, `threads`
    /// at a time (one engine thread each); returns each study's library as
    /// `[organisation][entry]` (empty for organisations without a compromise).
    pub fn fill(
        &mut self,
        studies: &[&Study],
        threads: usize,
        quiet: bool,
    ) -> Vec<Vec<Vec<Impact>>> {
        let mut todo: Vec<(String, u64, f64, SystemScenario, u32, u64)> = Vec::new();
        let mut keys: Vec<Vec<(usize, String)>> = Vec::new();
        for st in studies {
            let mut ks = Vec::new();
            for (o, _, seed, h0, sc) in st.incidents() {
                let key = incident_key(&sc, seed, st.shards);
                if self.runs.contains_key(&key) || todo.iter().any(|t| t.0 == key) {
                    self.reused += 1;
                } else {
                    todo.push((key.clone(), seed, h0, sc, st.shards, st.max_events));
                }
                ks.push((o, key));
            }
            keys.push(ks);
        }
        let done = run_incidents(&todo, threads, quiet, self.ranks.as_deref());
        self.simulated += done.len();
        for ((key, ..), impact) in todo.into_iter().zip(done) {
            self.runs.insert(key, impact);
        }
        studies
            .iter()
            .zip(keys)
            .map(|(st, ks)| {
                let mut lib = vec![Vec::new(); st.spec.organisations.len()];
                for (o, key) in ks {
                    lib[o].push(self.runs[&key].clone());
                }
                lib
            })
            .collect()
    }
}

/// Runs incident scenarios in parallel; results in input order. Over
/// ranks, this rank runs incident `k` when `k mod R` is its rank, and the
/// ranks swap their impacts (every rank sends its own to every rank).
fn run_incidents(
    todo: &[(String, u64, f64, SystemScenario, u32, u64)],
    threads: usize,
    quiet: bool,
    ranks: Option<&dyn Transport>,
) -> Vec<Impact> {
    let (me, n_ranks) = ranks.map_or((0, 1), |t| (t.rank(), t.ranks()));
    let mine: Vec<usize> = (0..todo.len()).filter(|k| k % n_ranks == me).collect();
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<Impact>>> = Mutex::new(vec![None; todo.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(mine.len().max(1)) {
            scope.spawn(|| {
                while let Some(&k) = mine.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let (_, seed, h0, sc, shards, max_events) = &todo[k];
                    let r = crate::models::system::run::run(
                        sc,
                        *seed,
                        *shards,
                        1,
                        *max_events,
                        None,
                        |_| {},
                    );
                    let impact = Impact::of_summary(*seed, *h0, &r.summary);
                    if !quiet {
                        eprintln!("risk: incident {} of {} simulated", k + 1, todo.len());
                    }
                    out.lock().expect("not poisoned")[k] = Some(impact);
                }
            });
        }
    });
    let mut out = out.into_inner().expect("not poisoned");
    if let Some(t) = ranks {
        let mut bytes = Vec::new();
        for &k in &mine {
            (k as u64, out[k].clone().expect("this rank ran it")).put(&mut bytes);
        }
        for b in t.all_to_all(&vec![bytes; n_ranks]) {
            let mut b = &b[..];
            while !b.is_empty() {
                let (k, impact) = <(u64, Impact)>::take(&mut b);
                out[k as usize] = Some(impact);
            }
        }
    }
    out.into_iter()
        .map(|i| i.expect("every incident ran"))
        .collect()
}

/// One simulated year.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Year {
    /// Compromises drawn.
    pub incidents: u32,
    /// Meters switched off (sum over the year's incidents of each one's peak).
    pub meters: f64,
    /// Meter-hours off.
    pub meter_hours: f64,
    /// The worst incident's peak MW.
    pub peak_mw: f64,
    /// Whether any incident triggered LFDD.
    pub lfdd: bool,
    /// Commands executed through a declared flaw.
    pub exploited: f64,
    /// Meter-hours off per organisation.
    pub by_org: Vec<f64>,
    /// The year's incidents: `(organisation, library entry)`.
    pub drawn: Vec<(usize, usize)>,
}

/// The number of events of a Poisson(`lambda`) law at cumulative probability `u`.
pub fn poisson_inv(lambda: f64, u: f64) -> u32 {
    let (mut k, mut p) = (0u32, (-lambda).exp());
    let mut cdf = p;
    while u > cdf && k < 100_000 && p > 0.0 {
        k += 1;
        p *= lambda / k as f64;
        cdf += p;
    }
    k
}

/// Draws `years` years of compromises at `rates` over the library `lib`.
pub fn draw_years(study: &Study, rates: &[f64], lib: &[Vec<Impact>]) -> Vec<Year> {
    let orgs = study.spec.organisations.len();
    (0..study.spec.years as u64)
        .map(|y| {
            let mut yr = Year {
                by_org: vec![0.0; orgs],
                ..Year::default()
            };
            for o in 0..orgs {
                let key = study.org_key(o);
                let u = open01(hash_parts(&[study.seed, 0x5945_4152, key, y]));
                let n = poisson_inv(rates[o], u);
                if lib[o].is_empty() {
                    yr.incidents += n;
                    continue;
                }
                for j in 0..n as u64 {
                    let e = (hash_parts(&[study.seed, 0x454E_5452, key, y, j])
                        % lib[o].len() as u64) as usize;
                    let i = &lib[o][e];
                    yr.incidents += 1;
                    yr.meters += i.meters;
                    yr.meter_hours += i.meter_hours;
                    yr.peak_mw = yr.peak_mw.max(i.mw);
                    yr.lfdd |= i.lfdd;
                    yr.exploited += i.exploited;
                    yr.by_org[o] += i.meter_hours;
                    yr.drawn.push((o, e));
                }
            }
            yr
        })
        .collect()
}

/// A finished study: its library, years and figures.
pub struct Outcome {
    /// The study.
    pub study: Study,
    /// `[organisation][entry]`.
    pub library: Vec<Vec<Impact>>,
    /// Annual rates per organisation.
    pub rates: Vec<f64>,
    /// The years.
    pub years: Vec<Year>,
    /// The figures.
    pub figures: Figures,
    /// The tornado: `(parameter, value, expected meter-hours at -50%, at +50%)`.
    pub tornado: Vec<(String, f64, f64, f64)>,
}

/// Draws the years and computes every figure and the tornado.
pub fn evaluate(study: &Study, library: Vec<Vec<Impact>>) -> Outcome {
    let rates = study.annual_rates(study.rates());
    let years = draw_years(study, &rates, &library);
    let figures = Figures::of(study, &years, &library);
    let mut tornado = Vec::new();
    for (i, name) in RiskRates::NAMES.iter().enumerate() {
        let mut expect = [0.0; 2];
        let value = *study.rates().clone().get_mut(i);
        for (slot, f) in expect.iter_mut().zip([0.5, 1.5]) {
            let mut r = study.rates().clone();
            *r.get_mut(i) = value * f;
            let ys = draw_years(study, &study.annual_rates(&r), &library);
            *slot = ys.iter().map(|y| y.meter_hours).sum::<f64>() / ys.len() as f64;
        }
        tornado.push((name.to_string(), value, expect[0], expect[1]));
    }
    Outcome {
        study: study.clone(),
        library,
        rates,
        years,
        figures,
        tornado,
    }
}

/// What `dccsim risk` and `dccsim assess` are asked.
pub struct Request<'a> {
    /// `--set` overrides (applied to every scenario).
    pub sets: &'a [String],
    /// `--set-proposed` overrides (`dccsim assess`: the proposal only, after `sets`).
    pub sets_proposed: &'a [String],
    /// `--years`.
    pub years: Option<u32>,
    /// Parallel incident runs.
    pub threads: usize,
    /// Output folder.
    pub out: &'a Path,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// Why a study failed.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// Bad input (scenario, override, study settings).
    #[error("{0}")]
    Input(String),
    /// Writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn load(path: &Path, sets: &[String], req: &Request<'_>) -> Result<(Loaded, Study), RiskError> {
    let l = crate::workflow::scenario::load(Some(path), sets, None)
        .map_err(|e| RiskError::Input(e.to_string()))?;
    let st = Study::of(&l, req.years)
        .map_err(|e| RiskError::Input(format!("{}: {e}", path.display())))?;
    Ok((l, st))
}

/// `dccsim risk`: runs the study of `path`; returns the results folder.
pub fn risk(path: &Path, req: &Request<'_>) -> Result<PathBuf, RiskError> {
    let t0 = std::time::Instant::now();
    let (l, st) = load(path, req.sets, req)?;
    let mut cache = Library {
        ranks: crate::workflow::mpi::ranks(),
        ..Library::default()
    };
    let lib = cache.fill(&[&st], req.threads, req.quiet).remove(0);
    let o = evaluate(&st, lib);
    let command = format!("risk {}", path.display());
    let inv = Invocation {
        command: &command,
        scenario_sha256: &l.sha256,
        threads: req.threads,
        wall_s: t0.elapsed().as_secs_f64(),
        simulated: cache.simulated,
        reused: cache.reused,
    };
    if !cache.is_root() {
        return Ok(req.out.to_path_buf());
    }
    Ok(write_study(&o, req.out, &inv)?)
}

/// `dccsim assess`: studies `base` and `proposed` with common random
/// numbers (the proposal takes the base's seed and study settings) and
/// compares them; returns the results folder.
pub fn assess_files(base: &Path, proposed: &Path, req: &Request<'_>) -> Result<PathBuf, RiskError> {
    let t0 = std::time::Instant::now();
    let (lb, sb) = load(base, req.sets, req)?;
    let sets: Vec<String> = req.sets.iter().chain(req.sets_proposed).cloned().collect();
    let (lp, mut sp) = load(proposed, &sets, req)?;
    sp.seed = sb.seed;
    sp.spec.years = sb.spec.years;
    sp.spec.batches = sb.spec.batches;
    sp.spec.library = sb.spec.library;
    sp.spec.incident_h = sb.spec.incident_h;
    let mut cache = Library {
        ranks: crate::workflow::mpi::ranks(),
        ..Library::default()
    };
    let mut libs = cache.fill(&[&sb, &sp], req.threads, req.quiet);
    let lib_p = libs.pop().expect("two studies");
    let lib_b = libs.pop().expect("two studies");
    let (ob, op) = (evaluate(&sb, lib_b), evaluate(&sp, lib_p));
    let wall_s = t0.elapsed().as_secs_f64();
    let commands = [
        format!("risk {}", base.display()),
        format!("risk {}", proposed.display()),
        format!("assess {} {}", base.display(), proposed.display()),
    ];
    let shas = [
        lb.sha256.clone(),
        lp.sha256.clone(),
        format!("{} {}", lb.sha256, lp.sha256),
    ];
    let inv = |i: usize| Invocation {
        command: &commands[i],
        scenario_sha256: &shas[i],
        threads: req.threads,
        wall_s,
        simulated: cache.simulated,
        reused: cache.reused,
    };
    let names = (base.display().to_string(), proposed.display().to_string());
    if !cache.is_root() {
        return Ok(req.out.to_path_buf());
    }
    Ok(assess::write_assessment(
        &ob,
        &op,
        (&names.0, &names.1),
        req.out,
        (&inv(0), &inv(1), &inv(2)),
    )?)
}
