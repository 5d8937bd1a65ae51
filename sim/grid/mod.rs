//! The electricity grid's side of an attack: how much demand the fleet's
//! meters draw, and what GB system frequency does when that demand is
//! switched off or back on.
//!
//! * Demand: each electricity meter draws its annual consumption (a
//!   lognormal draw per meter, median the typical domestic figure) shaped by
//!   a domestic daily load profile. Because the profile is common, the
//!   demand of any set of meters is `(sum of their annual kWh) x profile(t)
//!   / 8760`, so the model only needs integer sums of annual kWh.
//! * Frequency: an aggregated swing equation. With `E` the stored kinetic
//!   energy (inertia, MW.s) and `f0` the nominal frequency,
//!   `df/dt = f0 / (2E) x (P_response + P_reserve + P_damping + P_shed - P_deficit)`.
//!   Response follows the deviation (a droop saturating at `response_mw`,
//!   first-order delivery), reserve integrates the deviation slowly, load
//!   damping is proportional to it, and Low Frequency Demand Disconnection
//!   (LFDD) sheds a fixed share of demand once frequency reaches its
//!   setting. Validated against 9 August 2019 (`tests/grid.rs`).
//!
//! Nothing here knows about meters or messages: inputs are megawatts.

use serde::{Deserialize, Serialize};

/// Grid parameters; sources beside each value in `models/gb_default.toml`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct GridParams {
    pub nominal_hz: f64,
    pub demand_mw: f64,
    pub inertia_gvas: f64,
    pub load_damping_pct_per_hz: f64,
    pub response_mw: f64,
    pub response_full_at_hz: f64,
    pub response_time_s: f64,
    pub deadband_hz: f64,
    pub reserve_time_s: f64,
    pub lfdd_hz: f64,
    pub lfdd_shed_fraction: f64,
    pub annual_kwh_median: f64,
    pub annual_kwh_sigma: f64,
    pub cold_load_pickup: f64,
    pub cold_load_decay_min: f64,
}

impl GridParams {
    /// Checks ranges; returns the key (under `grid.`) and the problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (k, v) in [
            ("nominal_hz", self.nominal_hz),
            ("demand_mw", self.demand_mw),
            ("inertia_gvas", self.inertia_gvas),
            ("response_full_at_hz", self.response_full_at_hz),
            ("response_time_s", self.response_time_s),
            ("reserve_time_s", self.reserve_time_s),
            ("lfdd_hz", self.lfdd_hz),
            ("annual_kwh_median", self.annual_kwh_median),
            ("cold_load_decay_min", self.cold_load_decay_min),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be a positive number, got {v}")));
            }
        }
        for (k, v) in [
            ("load_damping_pct_per_hz", self.load_damping_pct_per_hz),
            ("response_mw", self.response_mw),
            ("deadband_hz", self.deadband_hz),
            ("annual_kwh_sigma", self.annual_kwh_sigma),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be a finite number >= 0, got {v}")));
            }
        }
        if !(0.0..=1.0).contains(&self.lfdd_shed_fraction) {
            return Err(("lfdd_shed_fraction".into(), "must be in [0, 1]".into()));
        }
        if !(self.cold_load_pickup >= 1.0 && self.cold_load_pickup.is_finite()) {
            return Err(("cold_load_pickup".into(), "must be at least 1".into()));
        }
        if self.lfdd_hz >= self.nominal_hz {
            return Err(("lfdd_hz".into(), "must be below nominal_hz".into()));
        }
        Ok(())
    }
}

/// Hourly domestic load shape (relative; normalised to a mean of 1 by
/// [`profile`]). Assumption: the shape of ELEXON Profile Class 1 (domestic
/// unrestricted) on a weekday: a night trough, a morning shoulder and an
/// evening peak near 18:00 at about 1.8x the daily mean.
const HOURLY_SHAPE: [f64; 24] = [
    0.55, 0.45, 0.40, 0.38, 0.38, 0.42, 0.60, 0.90, 1.00, 0.90, 0.85, 0.85, 0.90, 0.85, 0.85, 0.95,
    1.20, 1.60, 1.85, 1.75, 1.55, 1.35, 1.10, 0.80,
];

/// The domestic load profile at `t_s` seconds after midnight: demand
/// relative to the daily mean (linear between hourly points, mean 1).
pub fn profile(t_s: f64) -> f64 {
    let mean: f64 = HOURLY_SHAPE.iter().sum::<f64>() / 24.0;
    let h = (t_s / 3600.0).rem_euclid(24.0);
    let i = h.floor() as usize % 24;
    let frac = h - h.floor();
    (HOURLY_SHAPE[i] * (1.0 - frac) + HOURLY_SHAPE[(i + 1) % 24] * frac) / mean
}

/// A meter's annual consumption in whole kWh, from 64 uniform bits drawn
/// for it (lognormal around the median).
pub fn annual_kwh(p: &GridParams, bits: u64) -> u32 {
    let a = ((bits >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    // Inverse normal by the Acklam-free route: Box-Muller needs two
    // uniforms, so use the logistic approximation of the probit (error
    // < 0.01 sigma, plenty for a consumption spread).
    let z = (a / (1.0 - a)).ln() / 1.702;
    (p.annual_kwh_median * (p.annual_kwh_sigma * z).exp()).round() as u32
}

/// Megawatts drawn at `t_s` by meters whose annual consumption adds up to `kwh`.
pub fn mw_of(kwh: i64, t_s: f64) -> f64 {
    kwh as f64 / 8760.0 * profile(t_s) / 1000.0
}

/// What [`simulate`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct FrequencyTrace {
    /// Lowest frequency in each second.
    pub min_hz: Vec<f64>,
    /// Highest frequency in each second.
    pub max_hz: Vec<f64>,
    /// When LFDD first operated, seconds.
    pub lfdd_at_s: Option<f64>,
}

impl FrequencyTrace {
    /// Lowest frequency over the run.
    pub fn min(&self) -> f64 {
        self.min_hz.iter().copied().fold(f64::INFINITY, f64::min)
    }
    /// Highest frequency over the run.
    pub fn max(&self) -> f64 {
        self.max_hz
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Integration step, seconds.
pub const DT_S: f64 = 0.01;

/// Integrates frequency over `seconds` seconds; `deficit_mw(t)` is the
/// megawatts of generation missing (or demand added) relative to the
/// balanced state at time `t` (negative: demand lost). Deterministic
/// (fixed-step explicit Euler, no data-dependent step size).
pub fn simulate(
    p: &GridParams,
    seconds: usize,
    mut deficit_mw: impl FnMut(f64) -> f64,
) -> FrequencyTrace {
    let f0 = p.nominal_hz;
    let e = p.inertia_gvas * 1000.0; // MW.s
    let damping = p.load_damping_pct_per_hz / 100.0 * p.demand_mw; // MW per Hz
    let reserve_gain = p.response_mw / p.response_full_at_hz / p.reserve_time_s; // MW/s per Hz
    let (mut f, mut resp, mut reserve, mut shed) = (f0, 0.0f64, 0.0f64, 0.0f64);
    let mut out = FrequencyTrace {
        min_hz: Vec::with_capacity(seconds),
        max_hz: Vec::with_capacity(seconds),
        lfdd_at_s: None,
    };
    let steps = (1.0 / DT_S).round() as usize;
    for s in 0..seconds {
        let (mut lo, mut hi) = (f, f);
        for k in 0..steps {
            let t = s as f64 + k as f64 * DT_S;
            let df = f - f0;
            let beyond = (df.abs() - p.deadband_hz).max(0.0);
            let target = -df.signum() * p.response_mw * (beyond / p.response_full_at_hz).min(1.0);
            resp += (target - resp) * DT_S / p.response_time_s;
            reserve -= df * reserve_gain * DT_S;
            let net = resp + reserve - damping * df + shed - deficit_mw(t);
            f += f0 * net / (2.0 * e) * DT_S;
            if out.lfdd_at_s.is_none() && f <= p.lfdd_hz {
                out.lfdd_at_s = Some(t);
                shed = p.lfdd_shed_fraction * p.demand_mw;
            }
            lo = lo.min(f);
            hi = hi.max(f);
        }
        out.min_hz.push(lo);
        out.max_hz.push(hi);
    }
    out
}

/// The generation lost on 9 August 2019 as `(seconds after 16:52:33, MW)`:
/// Hornsea 737 MW and about 150 MW of embedded generation (vector shift) at
/// once, about 350 MW more embedded generation on rate of change of
/// frequency within half a second, Little Barford's steam unit (244 MW) at
/// 1 s, its gas turbines (210 MW, 187 MW) at 58 s and 76 s: 1,878 MW in
/// stages within about a minute and a half (ESO's technical report, `models/README.md` source S5: about 1.88 GW within
/// about a minute; the staging follows the published incident reports).
pub const AUG_2019_LOSSES: [(f64, f64); 6] = [
    (0.0, 737.0),
    (0.0, 150.0),
    (0.5, 350.0),
    (1.0, 244.0),
    (58.0, 210.0),
    (76.0, 187.0),
];

/// The 9 August 2019 loss sequence as a deficit function.
pub fn aug_2019_deficit(t: f64) -> f64 {
    AUG_2019_LOSSES
        .iter()
        .filter(|(at, _)| *at <= t)
        .map(|(_, mw)| mw)
        .sum()
}
