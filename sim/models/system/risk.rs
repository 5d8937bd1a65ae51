//! The governance model of a risk study (`dccsim risk`, `dccsim assess`):
//! the organisations of the GB smart metering system, their security
//! posture, what each one's compromise would hand an attacker, and the
//! rates linking posture to compromise.
//!
//! The organisations are the scenario's `[[risk.organisations]]`: the DCC
//! (Data Communications Company, the licensee that runs the access
//! control broker), the DSP (Data Service Provider), the CSPs
//! (communications service providers), each supplier and other DCC user,
//! their third parties (e.g. an IT contractor with a connection into a
//! supplier) and the meters' manufacturer. Each has a posture (SEC
//! section G assurance: ISO 27001 certified, compliant, or not assessed;
//! audit interval and last audit; vetting; third-party connections;
//! control maturity) and a `compromise`: the attacks (the `[attack]`
//! tables of a scenario, with `start_h` counted from the compromise) that
//! its compromise makes possible, in the existing holdings model.
//!
//! The rates (`parameters.risk`) are assumptions: no public source gives
//! the annual probability that an organisation of the GB smart metering
//! system is compromised to the point of handing over keys. The study's
//! tornado plot shows how much each one moves the answer.

use super::attack::AttackSpec;
use serde::{Deserialize, Serialize};

/// What kind of organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// The DCC licensee (runs the ACB, access control broker).
    Dcc,
    /// The Data Service Provider.
    Dsp,
    /// A communications service provider (one region's WAN).
    Csp,
    /// An energy supplier (a DCC user).
    Supplier,
    /// Another DCC user (e.g. an electricity distributor).
    OtherUser,
    /// A third party with a connection into another organisation.
    ThirdParty,
    /// A manufacturer of meters or communications hubs.
    Manufacturer,
}

impl OrgKind {
    /// Every kind, in the order of `parameters.risk`'s base rates.
    pub const ALL: [OrgKind; 7] = [
        OrgKind::Dcc,
        OrgKind::Dsp,
        OrgKind::Csp,
        OrgKind::Supplier,
        OrgKind::OtherUser,
        OrgKind::ThirdParty,
        OrgKind::Manufacturer,
    ];

    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Dcc => "dcc",
            OrgKind::Dsp => "dsp",
            OrgKind::Csp => "csp",
            OrgKind::Supplier => "supplier",
            OrgKind::OtherUser => "other_user",
            OrgKind::ThirdParty => "third_party",
            OrgKind::Manufacturer => "manufacturer",
        }
    }
}

/// The outcome of an organisation's security assurance (SEC section G:
/// DCC entities are certified to ISO 27001; users are assessed for
/// compliance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assessment {
    /// Certified to ISO 27001 (the reference posture).
    Certified,
    /// Assessed as compliant, not certified.
    Compliant,
    /// Not assessed.
    NotAssessed,
}

/// One organisation of the governance model (`[[risk.organisations]]`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Unique name (also the key of its random draws: renaming it changes them).
    pub name: String,
    /// What kind of organisation.
    pub kind: OrgKind,
    /// Security assurance outcome.
    #[serde(default = "certified")]
    pub assessment: Assessment,
    /// Years between audits.
    #[serde(default = "one")]
    pub audit_interval_years: f64,
    /// Years since the last audit at the start of the study (0: just audited).
    #[serde(default)]
    pub last_audit_years_ago: f64,
    /// Whether the organisation (and its staff) was vetted before connecting.
    #[serde(default = "yes")]
    pub vetted: bool,
    /// Connections of third parties into it.
    #[serde(default)]
    pub third_party_connections: u32,
    /// Control maturity, 1 (initial) to 5 (optimised); 3 is the reference.
    #[serde(default = "three")]
    pub maturity: u32,
    /// Its own base rate (compromises per year at the reference posture),
    /// replacing the base rate of its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_year: Option<f64>,
    /// What its compromise hands an attacker: attacks (each an `[attack]`
    /// table; `start_h` counts hours from the compromise). Empty: nothing
    /// the model turns into harm (listed for the ranking's completeness).
    #[serde(default)]
    pub compromise: Vec<AttackSpec>,
}

fn certified() -> Assessment {
    Assessment::Certified
}
fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn three() -> u32 {
    3
}

/// The scenario's `[risk]` table: the study and its organisations.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RiskSpec {
    /// Simulated years (replaced by `--years`).
    #[serde(default = "default_years")]
    pub years: u32,
    /// Incidents simulated per organisation (the incident library); each
    /// compromise drawn in a year is one of them.
    #[serde(default = "default_library")]
    pub library: u32,
    /// Hours simulated from each compromise (impact after it is not counted).
    #[serde(default = "default_incident_h")]
    pub incident_h: f64,
    /// Replications: the years are split into this many equal batches, and
    /// confidence intervals of means come from the batches' spread.
    #[serde(default = "default_batches")]
    pub batches: u32,
    /// The organisations.
    pub organisations: Vec<Organisation>,
}

fn default_years() -> u32 {
    1000
}
fn default_library() -> u32 {
    8
}
fn default_incident_h() -> f64 {
    6.0
}
fn default_batches() -> u32 {
    20
}

/// The rates linking posture to compromise (`parameters.risk`); every one
/// an assumption (see `models/gb_default.toml`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RiskRates {
    pub rate_dcc: f64,
    pub rate_dsp: f64,
    pub rate_csp: f64,
    pub rate_supplier: f64,
    pub rate_other_user: f64,
    pub rate_third_party: f64,
    pub rate_manufacturer: f64,
    pub factor_compliant: f64,
    pub factor_not_assessed: f64,
    pub factor_not_vetted: f64,
    pub factor_per_third_party: f64,
    pub factor_per_audit_year: f64,
    pub factor_per_maturity_level: f64,
}

impl RiskRates {
    /// The names of the rates and factors, in file order (the tornado's bars).
    pub const NAMES: [&'static str; 13] = [
        "rate_dcc",
        "rate_dsp",
        "rate_csp",
        "rate_supplier",
        "rate_other_user",
        "rate_third_party",
        "rate_manufacturer",
        "factor_compliant",
        "factor_not_assessed",
        "factor_not_vetted",
        "factor_per_third_party",
        "factor_per_audit_year",
        "factor_per_maturity_level",
    ];

    /// The value named `NAMES[i]`, mutably.
    pub fn get_mut(&mut self, i: usize) -> &mut f64 {
        match i {
            0 => &mut self.rate_dcc,
            1 => &mut self.rate_dsp,
            2 => &mut self.rate_csp,
            3 => &mut self.rate_supplier,
            4 => &mut self.rate_other_user,
            5 => &mut self.rate_third_party,
            6 => &mut self.rate_manufacturer,
            7 => &mut self.factor_compliant,
            8 => &mut self.factor_not_assessed,
            9 => &mut self.factor_not_vetted,
            10 => &mut self.factor_per_third_party,
            11 => &mut self.factor_per_audit_year,
            12 => &mut self.factor_per_maturity_level,
            _ => panic!("no risk rate {i}"),
        }
    }

    /// The base rate (compromises per year at the reference posture) of a kind.
    pub fn base(&self, k: OrgKind) -> f64 {
        match k {
            OrgKind::Dcc => self.rate_dcc,
            OrgKind::Dsp => self.rate_dsp,
            OrgKind::Csp => self.rate_csp,
            OrgKind::Supplier => self.rate_supplier,
            OrgKind::OtherUser => self.rate_other_user,
            OrgKind::ThirdParty => self.rate_third_party,
            OrgKind::Manufacturer => self.rate_manufacturer,
        }
    }

    /// Compromises per year of organisation `o`: its base rate times a
    /// factor per posture element:
    ///
    /// `base × assessment × vetting × (1 + per_third_party × connections)
    ///  × (1 + per_audit_year × staleness) × per_maturity_level^(3 − maturity)`
    ///
    /// where staleness is the mean years since the last audit over a
    /// regular cycle (half the interval), or the years since the last
    /// audit if it is overdue.
    pub fn annual_rate(&self, o: &Organisation) -> f64 {
        let base = o.rate_per_year.unwrap_or_else(|| self.base(o.kind));
        let assessment = match o.assessment {
            Assessment::Certified => 1.0,
            Assessment::Compliant => self.factor_compliant,
            Assessment::NotAssessed => self.factor_not_assessed,
        };
        let vetting = if o.vetted {
            1.0
        } else {
            self.factor_not_vetted
        };
        let third = 1.0 + self.factor_per_third_party * o.third_party_connections as f64;
        let stale = (o.audit_interval_years / 2.0).max(o.last_audit_years_ago);
        let audit = 1.0 + self.factor_per_audit_year * stale;
        let maturity = self
            .factor_per_maturity_level
            .powi(3 - o.maturity.clamp(1, 5) as i32);
        base * assessment * vetting * third * audit * maturity
    }

    /// Checks ranges; returns the key (under `risk.`) and the problem.
    pub fn check(&self) -> Result<(), (String, String)> {
        let mut me = self.clone();
        for (i, name) in Self::NAMES.iter().enumerate() {
            let v = *me.get_mut(i);
            if !(v >= 0.0 && v.is_finite()) {
                return Err((
                    name.to_string(),
                    format!("must be a finite number >= 0, got {v}"),
                ));
            }
        }
        Ok(())
    }
}

impl RiskSpec {
    /// Checks the study against the fleet; returns the dotted key (under
    /// `risk.`) and the problem. Each compromise's attacks are checked as
    /// in a run whose window opens at hour 0 and lasts `incident_h`.
    pub fn check(&self, users: u32, suppliers: u32) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if !(1..=1_000_000).contains(&self.years) {
            return bad(
                "years",
                format!("must be in 1..=1000000, got {}", self.years),
            );
        }
        if !(1..=1000).contains(&self.library) {
            return bad(
                "library",
                format!("must be in 1..=1000, got {}", self.library),
            );
        }
        if !(self.incident_h > 0.0 && self.incident_h <= 168.0) {
            return bad(
                "incident_h",
                format!("must be in (0, 168] hours, got {}", self.incident_h),
            );
        }
        if self.batches < 2 || self.batches > self.years {
            return bad(
                "batches",
                format!(
                    "must be in 2..=years ({}), got {}",
                    self.years, self.batches
                ),
            );
        }
        if self.organisations.is_empty() {
            return bad(
                "organisations",
                "a risk study needs at least one organisation".into(),
            );
        }
        for (i, o) in self.organisations.iter().enumerate() {
            let key = |k: &str| format!("organisations[{i}].{k}");
            if self.organisations[..i].iter().any(|p| p.name == o.name) {
                return Err((key("name"), format!("{:?} is used twice", o.name)));
            }
            if !(1..=5).contains(&o.maturity) {
                return Err((
                    key("maturity"),
                    format!("must be 1..=5, got {}", o.maturity),
                ));
            }
            if !(o.audit_interval_years > 0.0 && o.audit_interval_years.is_finite()) {
                return Err((
                    key("audit_interval_years"),
                    "must be a positive number".into(),
                ));
            }
            if !(o.last_audit_years_ago >= 0.0 && o.last_audit_years_ago.is_finite()) {
                return Err((
                    key("last_audit_years_ago"),
                    "must be a finite number >= 0".into(),
                ));
            }
            if let Some(r) = o.rate_per_year {
                if !(r >= 0.0 && r.is_finite()) {
                    return Err((key("rate_per_year"), format!("must be >= 0, got {r}")));
                }
            }
            for (j, a) in o.compromise.iter().enumerate() {
                // Checked as in an incident window opening at hour 0.
                a.check(users, suppliers, 0.0, self.incident_h)
                    .map_err(|(k, m)| (key(&format!("compromise[{j}].{k}")), m))?;
            }
        }
        Ok(())
    }
}
