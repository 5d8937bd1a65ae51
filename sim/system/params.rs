//! Model parameters (from `models/*.toml`) and the system scenario's own tables.

use serde::{Deserialize, Serialize};

/// The built-in default parameter set.
pub const GB_DEFAULT: &str = include_str!("../../models/gb_default.toml");

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
}

impl Params {
    /// Checks ranges; returns the dotted key (under `parameters.`) and the problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        let r = &self.regions;
        let sum = r.north_share + r.central_share + r.south_share;
        let nonneg = |k: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err((
                    k.to_string(),
                    format!("must be a finite number >= 0, got {v}"),
                ))
            }
        };
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
            ("dsp.to_csp_mean_extra_ms", self.dsp.to_csp_mean_extra_ms),
            ("csp.wan_sigma", self.csp.wan_sigma),
            ("device.han_ms", self.device.han_ms),
            ("device.process_ms", self.device.process_ms),
            (
                "device.critical_process_ms",
                self.device.critical_process_ms,
            ),
        ] {
            nonneg(k, v)?;
        }
        for (k, v) in [
            ("traffic.critical_alert_share", t.critical_alert_share),
            ("csp.north_loss", self.csp.north_loss),
            ("csp.central_loss", self.csp.central_loss),
            ("csp.south_loss", self.csp.south_loss),
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
        if !(t.daytime_profile_peak_ratio >= 1.0 && t.daytime_profile_peak_ratio.is_finite()) {
            return Err((
                "traffic.daytime_profile_peak_ratio".into(),
                "must be at least 1".into(),
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
        for (k, v) in [
            ("dsp.request_service_ms", self.dsp.request_service_ms),
            ("dsp.response_service_ms", self.dsp.response_service_ms),
            ("csp.north_wan_median_ms", self.csp.north_wan_median_ms),
            ("csp.central_wan_median_ms", self.csp.central_wan_median_ms),
            ("csp.south_wan_median_ms", self.csp.south_wan_median_ms),
            ("csp.retry_timeout_s", self.csp.retry_timeout_s),
            ("csp.airtime_ms", self.csp.airtime_ms),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be a positive number, got {v}")));
            }
        }
        for (k, v) in [
            ("dsp.workers", self.dsp.workers),
            ("csp.north_concurrent", self.csp.north_concurrent),
            ("csp.central_concurrent", self.csp.central_concurrent),
            ("csp.south_concurrent", self.csp.south_concurrent),
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
    /// Simulated hours to run (from midnight).
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
        if !(0.0..=1.0).contains(&self.crypto.sample_fraction) {
            return Err(("crypto.sample_fraction".into(), "must be in [0, 1]".into()));
        }
        self.parameters
            .check()
            .map_err(|(k, m)| (format!("parameters.{k}"), m))
    }

    /// Bytes of memory the run needs, estimated before it starts: per-meter
    /// state (9 bytes, plus 8 for the engine's per-entity message counter),
    /// in-flight work, and the latency histograms (42 per user and for the
    /// DSP, about 250 KiB each).
    pub fn memory_estimate_bytes(&self) -> u64 {
        let n = self.fleet.meters as u64;
        let per_day = (self.parameters.traffic.scheduled_reads_per_meter_day
            + self.parameters.traffic.on_demand_reads_per_meter_day
            + self.parameters.traffic.alerts_per_meter_day
            + 1.0)
            .max(1.0);
        // In flight: about a minute's worth of traffic at the nightly peak, 200 bytes each.
        let in_flight = (n as f64 * per_day * 6.0 / 86_400.0 * 60.0 * 1024.0) as u64;
        let users = (self.fleet.suppliers + self.fleet.other_users + 1) as u64;
        n * 17 + in_flight + users * 42 * (256 << 10) + (160 << 20)
    }
}
