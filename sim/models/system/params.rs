//! Model parameters (from `models/*.toml`) and the system scenario's own tables.

use serde::{Deserialize, Serialize};

/// The built-in default parameter set.
pub const GB_DEFAULT: &str = include_str!("../../../models/gb_default.toml");

/// A parameter set; see `models/gb_default.toml` for each value's source.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Params {
    pub regions: Regions,
    pub traffic: Traffic,
    pub user_link: UserLink,
    pub dsp: Dsp,
    pub csp: Csp,
    pub device: Device,
    pub meters: Meters,
    pub anomaly: Anomaly,
    pub soc: Soc,
    pub response: Response,
    pub grid: crate::grid::GridParams,
    pub governance: super::governance::Governance,
    pub risk: super::risk::RiskRates,
}

/// Share of meters per CSP region.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Regions {
    pub north_share: f64,
    pub central_share: f64,
    pub south_share: f64,
}

/// Traffic rates, per meter per day.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Traffic {
    pub scheduled_reads_per_meter_day: f64,
    pub scheduled_read_window_start_h: f64,
    pub scheduled_read_window_end_h: f64,
    pub on_demand_reads_per_meter_day: f64,
    pub prepayment_topups_per_meter_day: f64,
    pub tariff_updates_per_meter_day: f64,
    pub critical_background_per_meter_day: f64,
    pub other_per_meter_day: f64,
    pub alerts_per_meter_day: f64,
    pub critical_alert_share: f64,
    pub daytime_profile_peak_ratio: f64,
}

/// The DCC user gateway link.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct UserLink {
    pub min_ms: f64,
    pub mean_extra_ms: f64,
    pub sign_ms: f64,
}

/// The DSP.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Dsp {
    pub workers: u32,
    pub request_service_ms: f64,
    pub response_service_ms: f64,
    pub to_csp_min_ms: f64,
    pub to_csp_mean_extra_ms: f64,
}

/// The CSPs' WAN.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Csp {
    pub north_concurrent: u32,
    pub central_concurrent: u32,
    pub south_concurrent: u32,
    pub north_wan_median_ms: f64,
    pub central_wan_median_ms: f64,
    pub south_wan_median_ms: f64,
    pub wan_sigma: f64,
    pub north_loss: f64,
    pub central_loss: f64,
    pub south_loss: f64,
    pub retry_timeout_s: f64,
    pub max_retries: u32,
    pub airtime_ms: f64,
}

/// Hubs, HAN and meters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Device {
    pub han_ms: f64,
    pub process_ms: f64,
    pub critical_process_ms: f64,
    pub gas_extra_process_ms: f64,
    pub consumer_restore_mean_min: f64,
}

/// The fleet's meter types and addressing mistakes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Meters {
    pub gas_share: f64,
    pub misaddressed_share: f64,
}

/// The DSP's threshold anomaly detection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Anomaly {
    pub enabled: bool,
    pub window_s: f64,
    pub threshold_factor: f64,
    pub threshold_min: u32,
    pub release_mean_min: f64,
    /// Per user (suppliers first): a user's own factor, at most the DCC's.
    pub user_threshold_factors: Vec<f64>,
}

/// The DCC's security operations centre (SOC).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Soc {
    pub analysts: u32,
    pub triage_mean_min: f64,
    pub alert_volume_window_s: f64,
    pub alert_volume_factor: f64,
    pub customer_call_mean_min: f64,
    pub customer_reports_to_incident: u32,
    pub meter_refusal_alerts: bool,
}

/// Incident response and recovery.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Response {
    pub enabled: bool,
    pub contain_after_escalation_min: f64,
    pub restore_after_contain_min: f64,
    pub restore_spread_min: f64,
    pub replace_anchors: bool,
    pub anchor_updates_per_s: f64,
    pub firmware_fix: bool,
    pub firmware_updates_per_s: f64,
    pub firmware_airtime_ms: f64,
}

/// One CSP region's WAN figures, gathered from the `north_*`, `central_*`
/// and `south_*` keys of [`Csp`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionWan {
    /// Transmissions the region's CSP carries at once.
    pub concurrent: u32,
    /// Median one-way WAN latency, milliseconds.
    pub wan_median_ms: f64,
    /// Probability a transmission is lost.
    pub loss: f64,
}

/// Most requests or alerts per meter-day: one every ~0.9 s, far beyond the
/// DCC's ~5 per meter-day, and small enough to keep a window bounded.
pub const MAX_PER_METER_DAY: f64 = 1e5;

fn nonneg(k: &str, v: f64) -> Result<(), (String, String)> {
    let msg = match v {
        _ if k.ends_with("_per_meter_day") && v > MAX_PER_METER_DAY => {
            format!("must be at most {MAX_PER_METER_DAY} per meter per day, got {v}")
        }
        _ if v.is_finite() && v >= 0.0 => return Ok(()),
        _ => format!("must be a finite number >= 0, got {v}"),
    };
    Err((k.to_string(), msg))
}

impl Csp {
    /// Region `r`'s figures (0 north, 1 central, 2 south).
    pub fn region(&self, r: usize) -> RegionWan {
        let [concurrent, wan_median_ms, loss] = [
            [
                self.north_concurrent as f64,
                self.north_wan_median_ms,
                self.north_loss,
            ],
            [
                self.central_concurrent as f64,
                self.central_wan_median_ms,
                self.central_loss,
            ],
            [
                self.south_concurrent as f64,
                self.south_wan_median_ms,
                self.south_loss,
            ],
        ][r];
        RegionWan {
            concurrent: concurrent as u32,
            wan_median_ms,
            loss,
        }
    }
}

impl Params {
    /// Checks ranges; returns the dotted key (under `parameters.`) and the problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        self.check_regions()?;
        self.check_nonnegative()?;
        self.check_shares_and_windows()?;
        self.check_positive()?;
        self.check_counts()?;
        self.grid
            .check()
            .map_err(|(k, m)| (format!("grid.{k}"), m))?;
        self.risk
            .check()
            .map_err(|(k, m)| (format!("risk.{k}"), m))?;
        Ok(())
    }

    fn check_regions(&self) -> Result<(), (String, String)> {
        let r = &self.regions;
        let sum = r.north_share + r.central_share + r.south_share;
        for (k, v) in [
            ("regions.north_share", r.north_share),
            ("regions.central_share", r.central_share),
            ("regions.south_share", r.south_share),
        ] {
            nonneg(k, v)?;
        }
        if (sum - 1.0).abs() > 1e-6 {
            return Err((
                "regions".into(),
                format!("region shares must add up to 1, they add up to {sum}"),
            ));
        }
        Ok(())
    }

    fn check_nonnegative(&self) -> Result<(), (String, String)> {
        let t = &self.traffic;
        for (k, v) in [
            (
                "traffic.scheduled_reads_per_meter_day",
                t.scheduled_reads_per_meter_day,
            ),
            (
                "traffic.on_demand_reads_per_meter_day",
                t.on_demand_reads_per_meter_day,
            ),
            (
                "traffic.prepayment_topups_per_meter_day",
                t.prepayment_topups_per_meter_day,
            ),
            (
                "traffic.tariff_updates_per_meter_day",
                t.tariff_updates_per_meter_day,
            ),
            (
                "traffic.critical_background_per_meter_day",
                t.critical_background_per_meter_day,
            ),
            ("traffic.other_per_meter_day", t.other_per_meter_day),
            ("traffic.alerts_per_meter_day", t.alerts_per_meter_day),
            ("user_link.mean_extra_ms", self.user_link.mean_extra_ms),
            ("user_link.sign_ms", self.user_link.sign_ms),
            ("dsp.to_csp_mean_extra_ms", self.dsp.to_csp_mean_extra_ms),
            ("csp.wan_sigma", self.csp.wan_sigma),
            ("device.han_ms", self.device.han_ms),
            (
                "governance.weight_per_third_party",
                self.governance.weight_per_third_party,
            ),
            (
                "device.gas_extra_process_ms",
                self.device.gas_extra_process_ms,
            ),
            (
                "device.consumer_restore_mean_min",
                self.device.consumer_restore_mean_min,
            ),
            (
                "soc.customer_call_mean_min",
                self.soc.customer_call_mean_min,
            ),
            (
                "response.contain_after_escalation_min",
                self.response.contain_after_escalation_min,
            ),
            (
                "response.restore_after_contain_min",
                self.response.restore_after_contain_min,
            ),
            (
                "response.restore_spread_min",
                self.response.restore_spread_min,
            ),
            ("device.process_ms", self.device.process_ms),
            (
                "device.critical_process_ms",
                self.device.critical_process_ms,
            ),
        ] {
            nonneg(k, v)?;
        }
        Ok(())
    }

    fn check_shares_and_windows(&self) -> Result<(), (String, String)> {
        let t = &self.traffic;
        for (k, v) in [
            ("traffic.critical_alert_share", t.critical_alert_share),
            ("csp.north_loss", self.csp.north_loss),
            ("csp.central_loss", self.csp.central_loss),
            ("csp.south_loss", self.csp.south_loss),
            ("meters.gas_share", self.meters.gas_share),
            ("meters.misaddressed_share", self.meters.misaddressed_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err((
                    k.into(),
                    format!("must be a probability in [0, 1], got {v}"),
                ));
            }
        }
        let (s, e) = (
            t.scheduled_read_window_start_h,
            t.scheduled_read_window_end_h,
        );
        if !(0.0 <= s && s < e && e <= 24.0) {
            return Err((
                "traffic.scheduled_read_window_start_h".into(),
                format!("the read window [{s}, {e}) h must lie within one day"),
            ));
        }
        if self.csp.wan_sigma > 5.0 {
            // Beyond 5, 1% of transmissions take over 100,000x the median.
            return Err((
                "csp.wan_sigma".into(),
                format!("must be at most 5, got {}", self.csp.wan_sigma),
            ));
        }
        if !(1.0..=24.0).contains(&t.daytime_profile_peak_ratio) {
            // The peak hour's rate is at most the whole day's traffic in one hour.
            return Err((
                "traffic.daytime_profile_peak_ratio".into(),
                format!(
                    "must be between 1 and 24, got {}",
                    t.daytime_profile_peak_ratio
                ),
            ));
        }
        for (k, v) in [
            ("user_link.min_ms", self.user_link.min_ms),
            ("dsp.to_csp_min_ms", self.dsp.to_csp_min_ms),
        ] {
            if !(v >= 0.001 && v.is_finite()) {
                return Err((k.into(), format!("must be at least 0.001 ms, got {v}")));
            }
        }
        Ok(())
    }

    fn check_positive(&self) -> Result<(), (String, String)> {
        let (r, g) = (&self.response, &self.governance);
        for (k, v) in [
            ("dsp.request_service_ms", self.dsp.request_service_ms),
            ("dsp.response_service_ms", self.dsp.response_service_ms),
            ("csp.north_wan_median_ms", self.csp.north_wan_median_ms),
            ("csp.central_wan_median_ms", self.csp.central_wan_median_ms),
            ("csp.south_wan_median_ms", self.csp.south_wan_median_ms),
            ("csp.retry_timeout_s", self.csp.retry_timeout_s),
            ("csp.airtime_ms", self.csp.airtime_ms),
            ("anomaly.window_s", self.anomaly.window_s),
            ("anomaly.threshold_factor", self.anomaly.threshold_factor),
            ("anomaly.release_mean_min", self.anomaly.release_mean_min),
            ("soc.triage_mean_min", self.soc.triage_mean_min),
            ("soc.alert_volume_window_s", self.soc.alert_volume_window_s),
            ("soc.alert_volume_factor", self.soc.alert_volume_factor),
            ("response.anchor_updates_per_s", r.anchor_updates_per_s),
            ("response.firmware_updates_per_s", r.firmware_updates_per_s),
            ("response.firmware_airtime_ms", r.firmware_airtime_ms),
            ("governance.weight_approved", g.weight_approved),
            (
                "governance.weight_approved_with_conditions",
                g.weight_approved_with_conditions,
            ),
            ("governance.weight_deferred", g.weight_deferred),
            ("governance.weight_not_certified", g.weight_not_certified),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be a positive number, got {v}")));
            }
        }
        let a = &self.anomaly;
        for (i, &f) in a.user_threshold_factors.iter().enumerate() {
            if !(f > 0.0 && f <= a.threshold_factor) {
                let why = "a user may only set thresholds below the DCC's";
                let msg = format!(
                    "must be above 0 and at most anomaly.threshold_factor ({why}), got {f}"
                );
                return Err((format!("anomaly.user_threshold_factors[{i}]"), msg));
            }
        }
        Ok(())
    }

    fn check_counts(&self) -> Result<(), (String, String)> {
        for (k, v) in [
            ("dsp.workers", self.dsp.workers),
            ("csp.north_concurrent", self.csp.north_concurrent),
            ("csp.central_concurrent", self.csp.central_concurrent),
            ("csp.south_concurrent", self.csp.south_concurrent),
            ("soc.analysts", self.soc.analysts),
            (
                "soc.customer_reports_to_incident",
                self.soc.customer_reports_to_incident,
            ),
            ("anomaly.threshold_min", self.anomaly.threshold_min),
        ] {
            if v == 0 {
                return Err((k.into(), "must be at least 1".into()));
            }
        }
        Ok(())
    }

    /// The engine lookahead: the least delay of any message between two
    /// entities, nanoseconds (the user link and DSP→CSP minimums; WAN and
    /// device hops are longer by construction).
    pub fn lookahead_ns(&self) -> u64 {
        crate::engine::time::secs_to_ns(self.user_link.min_ms.min(self.dsp.to_csp_min_ms) / 1e3)
            .max(1)
    }
}

/// The scenario's `[fleet]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Metering points (each a communications hub with its meter).
    pub meters: u32,
    /// Energy suppliers; meter `m` is registered to supplier `m mod suppliers`.
    #[serde(default = "default_suppliers")]
    pub suppliers: u32,
    /// Other DCC users (network operators, other users) sending the "other" traffic.
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
    /// How long.
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
}

impl SystemScenario {
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
    /// state (12 bytes, plus 8 for the engine's per-entity message counter),
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
        let other_counters = (n as f64 * t.other_per_meter_day * days * 48.0) as u64;
        n * 20 + in_flight + users * 54 * (256 << 10) + trace + other_counters + (160 << 20)
    }
}
