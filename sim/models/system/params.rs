//! Model parameters (from `models/*.toml`); the system scenario's own
//! tables are in [`super::scenario`] (re-exported here).

use serde::{Deserialize, Serialize};

pub use super::scenario::{AcbRekey, CryptoSpec, Fleet, RunSpec, SystemScenario, MAX_ATTACKS};

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
    pub change_of_supplier_per_meter_day: f64,
    pub installation_per_meter_day: f64,
    pub configuration_per_meter_day: f64,
    pub firmware_distribution_per_meter_day: f64,
    pub dcc_scheduled_per_meter_day: f64,
    pub alerts_per_meter_day: f64,
    pub critical_alert_share: f64,
    pub daytime_profile_peak_ratio: f64,
    pub tariff_campaign_share: f64,
    pub tariff_campaign_start_h: f64,
    pub tariff_campaign_end_h: f64,
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
    pub alert_retry_s: f64,
    pub alert_hold_h: f64,
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
    pub north_kbps: f64,
    pub central_kbps: f64,
    pub south_kbps: f64,
}

/// Hubs, HAN and meters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Device {
    pub han_ms: f64,
    pub process_ms: f64,
    pub critical_process_ms: f64,
    pub gas_wake_interval_s: f64,
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
    pub night_analysts: u32,
    pub day_shift_start_h: f64,
    pub day_shift_end_h: f64,
    pub triage_mean_min: f64,
    pub alert_volume_window_s: f64,
    pub alert_volume_factor: f64,
    pub customer_call_mean_min: f64,
    pub customer_reports_to_incident: u32,
    pub meter_refusal_alerts: bool,
    pub benign_events_per_day: f64,
    pub corroboration_window_h: f64,
    pub escalation_evidence: f64,
    pub supplier_report_weight: f64,
    pub disowned_weight: f64,
    pub false_positive_share: f64,
    pub miss_share: f64,
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
    pub firmware_retries: u32,
    pub firmware_retry_min: f64,
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
    /// Link rate of one transmission, kilobits per second (bits per ms).
    pub kbps: f64,
}

/// Most requests or alerts per meter-day: one every ~0.9 s, far beyond the
/// DCC's ~5 per meter-day, and small enough to keep a window bounded.
pub const MAX_PER_METER_DAY: f64 = 1e5;

fn nonneg(k: &str, v: f64) -> Result<(), (String, String)> {
    let msg = match v {
        _ if k.ends_with("_per_meter_day") && v > MAX_PER_METER_DAY => {
            format!("must be at most {MAX_PER_METER_DAY} per meter per day, got {v}")
        }
        _ if k.ends_with("_per_day") && v > MAX_PER_METER_DAY => {
            format!("must be at most {MAX_PER_METER_DAY} per day, got {v}")
        }
        _ if v.is_finite() && v >= 0.0 => return Ok(()),
        _ => format!("must be a finite number >= 0, got {v}"),
    };
    Err((k.to_string(), msg))
}

impl Csp {
    /// Region `r`'s figures (0 north, 1 central, 2 south).
    pub fn region(&self, r: usize) -> RegionWan {
        let (n, c, s) = (
            self.north_concurrent,
            self.central_concurrent,
            self.south_concurrent,
        );
        let (m, l, k) = match r {
            0 => (self.north_wan_median_ms, self.north_loss, self.north_kbps),
            1 => (
                self.central_wan_median_ms,
                self.central_loss,
                self.central_kbps,
            ),
            _ => (self.south_wan_median_ms, self.south_loss, self.south_kbps),
        };
        let concurrent = [n, c, s][r.min(2)];
        RegionWan {
            concurrent,
            wan_median_ms: m,
            loss: l,
            kbps: k,
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
            (
                "traffic.configuration_per_meter_day",
                t.configuration_per_meter_day,
            ),
            (
                "traffic.change_of_supplier_per_meter_day",
                t.change_of_supplier_per_meter_day,
            ),
            (
                "traffic.installation_per_meter_day",
                t.installation_per_meter_day,
            ),
            (
                "traffic.firmware_distribution_per_meter_day",
                t.firmware_distribution_per_meter_day,
            ),
            (
                "traffic.dcc_scheduled_per_meter_day",
                t.dcc_scheduled_per_meter_day,
            ),
            ("traffic.alerts_per_meter_day", t.alerts_per_meter_day),
            ("soc.benign_events_per_day", self.soc.benign_events_per_day),
            ("soc.escalation_evidence", self.soc.escalation_evidence),
            (
                "soc.supplier_report_weight",
                self.soc.supplier_report_weight,
            ),
            ("soc.disowned_weight", self.soc.disowned_weight),
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
                "device.gas_wake_interval_s",
                self.device.gas_wake_interval_s,
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
            ("traffic.tariff_campaign_share", t.tariff_campaign_share),
            ("soc.false_positive_share", self.soc.false_positive_share),
            ("soc.miss_share", self.soc.miss_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err((
                    k.into(),
                    format!("must be a probability in [0, 1], got {v}"),
                ));
            }
        }
        for (k, s, e) in [
            (
                "scheduled_read_window",
                t.scheduled_read_window_start_h,
                t.scheduled_read_window_end_h,
            ),
            (
                "tariff_campaign",
                t.tariff_campaign_start_h,
                t.tariff_campaign_end_h,
            ),
            (
                "day_shift",
                self.soc.day_shift_start_h,
                self.soc.day_shift_end_h,
            ),
        ] {
            if !(0.0 <= s && s < e && e <= 24.0) {
                let table = if k == "day_shift" { "soc" } else { "traffic" };
                return Err((
                    format!("{table}.{k}_start_h"),
                    format!("the window [{s}, {e}) h must lie within one day"),
                ));
            }
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
            ("csp.north_kbps", self.csp.north_kbps),
            ("csp.central_kbps", self.csp.central_kbps),
            ("csp.south_kbps", self.csp.south_kbps),
            ("anomaly.window_s", self.anomaly.window_s),
            ("anomaly.threshold_factor", self.anomaly.threshold_factor),
            ("anomaly.release_mean_min", self.anomaly.release_mean_min),
            ("soc.triage_mean_min", self.soc.triage_mean_min),
            ("soc.alert_volume_window_s", self.soc.alert_volume_window_s),
            ("soc.alert_volume_factor", self.soc.alert_volume_factor),
            (
                "soc.corroboration_window_h",
                self.soc.corroboration_window_h,
            ),
            ("response.anchor_updates_per_s", r.anchor_updates_per_s),
            ("response.firmware_updates_per_s", r.firmware_updates_per_s),
            ("response.firmware_airtime_ms", r.firmware_airtime_ms),
            ("response.firmware_retry_min", r.firmware_retry_min),
            ("dsp.alert_retry_s", self.dsp.alert_retry_s),
            ("dsp.alert_hold_h", self.dsp.alert_hold_h),
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
            ("soc.night_analysts", self.soc.night_analysts),
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
