//! The system scenario's own tables: `[fleet]`, `[run]`, `[crypto]`,
//! and the whole system part of a scenario ([`SystemScenario`]) with its
//! checks and memory estimate.

use super::params::Params;
use serde::{Deserialize, Serialize};

/// The scenario's `[fleet]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Metering points (each a communications hub with its meter).
    pub meters: u32,
    /// Energy suppliers; meter `m` is registered to supplier `m mod suppliers`.
    #[serde(default = "default_suppliers")]
    pub suppliers: u32,
    /// Other DCC users (network operators, other users) sending the DCC-scheduled traffic.
    #[serde(default = "default_other_users")]
    pub other_users: u32,
    /// Share of the meters registered to each supplier (adds up to 1); empty: equal shares.
    #[serde(default)]
    pub supplier_shares: Vec<f64>,
    /// Governance: each user's assurance outcome (suppliers first); empty: all approved.
    #[serde(default)]
    pub assurance: Vec<super::governance::Assurance>,
    /// Governance: whether each user is ISO 27001 certified (else only compliant); empty: all certified.
    #[serde(default)]
    pub iso27001_certified: Vec<bool>,
    /// Governance: third-party connections of each user; empty: none.
    #[serde(default)]
    pub third_party_connections: Vec<u32>,
}

fn default_suppliers() -> u32 {
    4
}
fn default_other_users() -> u32 {
    2
}

/// The scenario's `[run]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Clock hour (since midnight of day 1) at which the run starts.
    #[serde(default)]
    pub start_h: f64,
    /// Clock hour at which the run ends.
    #[serde(default = "default_end_h")]
    pub end_h: f64,
    /// The engine's window width, milliseconds, when narrower than the
    /// model's least delay between entities (the default, and the widest
    /// allowed: `Params::lookahead_ns`). The model declares that delay, so
    /// the engine's rounds still span it: only speed changes, never a
    /// result (the determinism tests run a scenario both ways).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<f64>,
}

fn default_end_h() -> f64 {
    24.0
}

/// The scenario's `[crypto]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CryptoSpec {
    /// `full`, `sampled` or `modeled`.
    pub mode: crate::crypto::mode::CryptoMode,
    /// For `sampled`: the fraction of messages whose cryptography runs.
    #[serde(default = "default_fraction")]
    pub sample_fraction: f64,
}

fn default_fraction() -> f64 {
    0.01
}

/// Most attacks one run may contain (their job ids share the attacker's
/// 40-bit sequence space, 2^34 each).
pub const MAX_ATTACKS: usize = 16;

/// The system model's part of a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SystemScenario {
    /// The fleet.
    pub fleet: Fleet,
    /// How long (and the engine's window width).
    pub run: RunSpec,
    /// How much cryptography.
    pub crypto: CryptoSpec,
    /// Parameters (the chosen set with the scenario's overrides applied).
    pub parameters: Params,
    /// The attack, if any (the `[attack]` table).
    pub attack: Option<super::attack::AttackSpec>,
    /// Further attacks and faults in the same run (the `[[attacks]]`
    /// tables), after `attack`: concurrent or in sequence, each with its
    /// own start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<super::attack::AttackSpec>,
    /// A declared device vulnerability and its emergency fix, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<super::vulnerability::Vulnerability>,
    /// The DCC's replacement of every meter's ACB anchor, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acb_rekey: Option<AcbRekey>,
}

/// The scenario's `[acb_rekey]` table: the ACB's (access control broker's)
/// key-agreement key is known to be compromised, and the DCC replaces the
/// ACB anchor on every meter. Each meter gets a credential update (GBCS
/// CS02b, SR 6.15.1 for the ACB cell) signed with the SMKI recovery key
/// and MAC'd under the ACB key the meter still holds; from the update's
/// response on, the DSP MACs that meter's commands with the new key, and a
/// command MAC'd with the old key (an attacker's) is refused.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AcbRekey {
    /// Clock hour at which the DCC starts (when it has learnt of the compromise).
    pub start_h: f64,
    /// Credential updates the DCC sends per second (assumption: about 1% of
    /// the DSP's request capacity at the default parameters).
    #[serde(default = "default_rekey_per_s")]
    pub per_s: f64,
    /// Times a meter whose update failed (lost on the WAN, refused) is
    /// tried again, after the campaign's first pass.
    #[serde(default = "default_rekey_retries")]
    pub retries: u32,
}

fn default_rekey_per_s() -> f64 {
    200.0
}
fn default_rekey_retries() -> u32 {
    2
}

impl AcbRekey {
    fn check(&self, start_h: f64, end_h: f64) -> Result<(), (String, String)> {
        if !(self.start_h >= start_h && self.start_h < end_h) {
            return Err((
                "start_h".into(),
                format!(
                    "must be within the run [{start_h}, {end_h}), got {}",
                    self.start_h
                ),
            ));
        }
        if !(self.per_s > 0.0 && self.per_s <= 1e6) {
            return Err((
                "per_s".into(),
                format!("must be in (0, 1000000], got {}", self.per_s),
            ));
        }
        if self.retries > 100 {
            return Err((
                "retries".into(),
                format!("must be at most 100, got {}", self.retries),
            ));
        }
        Ok(())
    }
}

impl SystemScenario {
    /// The engine's window width, nanoseconds: `run.window_ms`, or the
    /// model's least delay between entities.
    pub fn window_ns(&self) -> u64 {
        let most = self.parameters.lookahead_ns();
        self.run.window_ms.map_or(most, |ms| {
            crate::engine::time::secs_to_ns(ms / 1e3).clamp(1, most)
        })
    }

    /// Checks ranges; returns the dotted key and the problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.fleet.meters == 0 || self.fleet.meters > 100_000_000 {
            return Err((
                "fleet.meters".into(),
                format!("must be between 1 and 100000000, got {}", self.fleet.meters),
            ));
        }
        if self.fleet.suppliers == 0 || self.fleet.suppliers > 64 {
            return Err(("fleet.suppliers".into(), "must be between 1 and 64".into()));
        }
        if self.fleet.other_users > 64 {
            return Err(("fleet.other_users".into(), "must be at most 64".into()));
        }
        if !(self.run.end_h > 0.0 && self.run.end_h <= 24.0 * 366.0) {
            return Err((
                "run.end_h".into(),
                format!("must be in (0, 8784] hours, got {}", self.run.end_h),
            ));
        }
        if !(self.run.start_h >= 0.0 && self.run.start_h < self.run.end_h) {
            return Err((
                "run.start_h".into(),
                format!(
                    "must be in [0, run.end_h = {}), got {}",
                    self.run.end_h, self.run.start_h
                ),
            ));
        }
        if let Some(w) = self.run.window_ms {
            let most = self.parameters.lookahead_ns() as f64 / 1e6;
            if !(w >= 1e-6 && w <= most) {
                return Err((
                    "run.window_ms".into(),
                    format!(
                        "must be at least a nanosecond and at most the model's least delay between entities ({most} ms), got {w}"
                    ),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.crypto.sample_fraction) {
            return Err(("crypto.sample_fraction".into(), "must be in [0, 1]".into()));
        }
        let f = &self.fleet;
        let users = (f.suppliers + f.other_users) as usize;
        if !f.supplier_shares.is_empty() {
            if f.supplier_shares.len() != f.suppliers as usize {
                return Err((
                    "fleet.supplier_shares".into(),
                    format!(
                        "needs one share per supplier ({}), got {}",
                        f.suppliers,
                        f.supplier_shares.len()
                    ),
                ));
            }
            let sum: f64 = f.supplier_shares.iter().sum();
            if f.supplier_shares
                .iter()
                .any(|s| !(*s >= 0.0 && s.is_finite()))
                || (sum - 1.0).abs() > 1e-6
            {
                return Err((
                    "fleet.supplier_shares".into(),
                    format!("shares must be >= 0 and add up to 1, they add up to {sum}"),
                ));
            }
            // Meters are registered to suppliers in a repeating cycle of
            // 1,000 (so every supplier's meters spread over every region):
            // a share finer than 0.001 cannot be represented, so say so
            // rather than round it silently.
            if let Some((i, s)) = f
                .supplier_shares
                .iter()
                .enumerate()
                .find(|(_, s)| ((*s * 1000.0).round() - *s * 1000.0).abs() > 1e-6)
            {
                return Err((
                    "fleet.supplier_shares".into(),
                    format!(
                        "supplier {i}'s share {s} is not a multiple of 0.001 (meters are assigned in a 1,000-meter cycle)"
                    ),
                ));
            }
        }
        for (k, n) in [
            ("fleet.assurance", f.assurance.len()),
            ("fleet.iso27001_certified", f.iso27001_certified.len()),
            (
                "fleet.third_party_connections",
                f.third_party_connections.len(),
            ),
        ] {
            if n != 0 && n != users {
                return Err((
                    k.into(),
                    format!("needs one entry per user ({users}), got {n}"),
                ));
            }
        }
        self.parameters
            .check()
            .map_err(|(k, m)| (format!("parameters.{k}"), m))?;
        if let Some(a) = &self.attack {
            a.check(users as u32, f.suppliers, self.run.start_h, self.run.end_h)
                .map_err(|(k, m)| (format!("attack.{k}"), m))?;
        }
        for (i, a) in self.attacks.iter().enumerate() {
            a.check(users as u32, f.suppliers, self.run.start_h, self.run.end_h)
                .map_err(|(k, m)| (format!("attacks[{i}].{k}"), m))?;
        }
        if let Some(v) = &self.vulnerability {
            v.check(f.suppliers, self.run.start_h, self.run.end_h)
                .map_err(|(k, m)| (format!("vulnerability.{k}"), m))?;
        }
        if let Some(r) = &self.acb_rekey {
            r.check(self.run.start_h, self.run.end_h)
                .map_err(|(k, m)| (format!("acb_rekey.{k}"), m))?;
        }
        let n = self.all_attacks().count();
        if n > MAX_ATTACKS {
            return Err((
                "attacks".into(),
                format!("at most {MAX_ATTACKS} attacks in one run (with `attack`), got {n}"),
            ));
        }
        Ok(())
    }

    /// Every attack of the run: `attack`, then each of `attacks`.
    pub fn all_attacks(&self) -> impl Iterator<Item = &super::attack::AttackSpec> {
        self.attack.iter().chain(&self.attacks)
    }

    /// Bytes of memory the run needs, estimated before it starts: per-meter
    /// state (13 bytes, plus 8 for the engine's per-entity message counter,
    /// plus a bit at the DSP under `[acb_rekey]`), the run's changes of
    /// supplier,
    /// in-flight work, the latency histograms (about 250 KiB each, per user,
    /// the attacker and the DSP), and, when cryptography runs, the trace of
    /// executed commands the checker reads (about 48 bytes each, plus the
    /// bytes of critical ones: the credential updates that replace a
    /// victim's anchors carry an X.509 certificate, about 600 bytes), and
    /// the tables of each user's key-agreement and prepayment keys (about
    /// 300 KiB each), and the anti-replay counters of originators other
    /// than the registered supplier (about 48 bytes per pair seen).
    pub fn memory_estimate_bytes(&self) -> u64 {
        let n = self.fleet.meters as u64;
        let t = &self.parameters.traffic;
        let per_day = (t.scheduled_reads_per_meter_day
            + t.on_demand_reads_per_meter_day
            + t.alerts_per_meter_day
            + 1.0)
            .max(1.0);
        // In flight: about a minute's worth of traffic at the nightly peak, 200 bytes each.
        let in_flight = (n as f64 * per_day * 6.0 / 86_400.0 * 60.0 * 1024.0) as u64;
        let users = (self.fleet.suppliers + self.fleet.other_users + 2) as u64;
        let days = ((self.run.end_h - self.run.start_h) / 24.0).max(1.0 / 24.0);
        let trace = if self.crypto.mode == crate::crypto::mode::CryptoMode::Modeled {
            0
        } else {
            let commands = n as f64 * (per_day - t.alerts_per_meter_day + 0.5) * days;
            (commands * 48.0 + n as f64 * 0.4 * days * 150.0 + n as f64 * 0.4 * 600.0) as u64
                + users * 2 * (300 << 10)
        };
        // Anti-replay counters of originators other than the registered
        // supplier: one map entry (about 48 bytes) per (meter, originator)
        // pair that sent a command, at most one per such request.
        let other_counters = (n as f64 * t.dcc_scheduled_per_meter_day * days * 48.0) as u64;
        let rekey = if self.acb_rekey.is_some() { n / 8 } else { 0 };
        // Changes of supplier: 16 bytes each in the world, 16 more per
        // shard's copy of the gaining suppliers' lists (assumption: 16 shards).
        // Installations likewise, plus a status flag at the DSP.
        let switches = (n as f64
            * ((t.change_of_supplier_per_meter_day + t.installation_per_meter_day) * days).min(2.0))
            as u64;
        let rekey = rekey + switches * 16 * 17;
        n * 21 + rekey + in_flight + users * 54 * (256 << 10) + trace + other_counters + (160 << 20)
    }
}
