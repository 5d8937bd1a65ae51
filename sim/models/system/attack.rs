//! What an attacker holds and does: the scenario's `[attack]` table.
//!
//! An attack states exactly what the attacker holds (the victim user's DCC
//! access and request-signing key, its command-signing key, the ACB's key),
//! where it injects (through the DCC's user gateway, or straight onto the
//! WAN), when, how fast and against how many meters. Whether anything
//! happens is then decided by the real checks at the DSP (Data Service
//! Provider) and on the meters, never by a flag: an attacker without a key
//! signs with a key of its own, and one without the ACB's key sends its
//! commands without a valid MAC (message authentication code).

use serde::{Deserialize, Serialize};

/// What the attacker does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// Send disable-supply commands to the victim supplier's meters.
    Disconnect,
    /// Send a firmware image the manufacturer did not sign.
    Firmware,
    /// Capture the victim's critical commands on the WAN (before the attack
    /// starts) and send them again from the start.
    Replay,
    /// A compromised CSP (communications service provider) drops, delays
    /// and reorders traffic in one region. It holds no keys.
    CspTamper,
    /// Flood the DSP with read requests under the victim's identity.
    Flood,
    /// A regional power cut: many meters raise power-outage alerts at once.
    AlertStorm,
    /// The DSP's primary data centre is lost; failover takes `duration_s`.
    DspOutage,
}

/// Where the attacker's commands enter the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// Through the DCC user gateway as service requests (DSP checks apply,
    /// and the ACB MACs what the DSP accepts).
    Dcc,
    /// Straight onto the WAN towards the meters (no DSP, no ACB).
    Wan,
}

/// The scenario's `[attack]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AttackSpec {
    /// What the attacker does.
    pub kind: AttackKind,
    /// The user whose identity the attacker uses (index: suppliers first,
    /// then other users). Ignored when `draw_victim` is true.
    #[serde(default)]
    pub victim: u32,
    /// Draw the compromised supplier from the governance risk weighting
    /// (`fleet.assurance`, `fleet.iso27001_certified`,
    /// `fleet.third_party_connections`, weights in `parameters.governance`).
    #[serde(default)]
    pub draw_victim: bool,
    /// Holds the victim's DCC user access: gateway connection and request-signing key.
    #[serde(default)]
    pub user_access: bool,
    /// Holds the victim's command-signing key (the key meters hold as the supplier anchor).
    #[serde(default)]
    pub command_key: bool,
    /// Holds the ACB's (access control broker's) key-agreement private key.
    #[serde(default)]
    pub acb_key: bool,
    /// Where commands are injected.
    #[serde(default = "default_path")]
    pub path: Path,
    /// Clock hour the attack starts (at or after `run.start_h`).
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// With `draw_victim`: the start is drawn uniformly in `[start_h, start_h + start_spread_h)`.
    #[serde(default)]
    pub start_spread_h: f64,
    /// Commands (or requests) per second the attacker sends.
    #[serde(default = "default_rate")]
    pub rate_per_s: f64,
    /// How many of the victim's meters are targeted (0: all of them).
    #[serde(default)]
    pub targets: u32,
    /// How long the attack lasts (flood, CSP tampering, DSP outage), seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
    /// CSP tampering and alert storm: the region (0 north, 1 central, 2 south).
    #[serde(default)]
    pub region: u32,
    /// CSP tampering: probability a transmission is dropped.
    #[serde(default)]
    pub drop_share: f64,
    /// CSP tampering: mean extra delay (exponential), seconds; reorders traffic.
    #[serde(default)]
    pub delay_mean_s: f64,
    /// Alert storm: share of the region's meters that lose power.
    #[serde(default = "default_storm_share")]
    pub storm_share: f64,
    /// Alert storm: the alerts arrive uniformly over this many seconds.
    #[serde(default = "default_storm_spread")]
    pub storm_spread_s: f64,
}

fn default_path() -> Path {
    Path::Dcc
}
fn default_start_h() -> f64 {
    0.25
}
fn default_rate() -> f64 {
    100.0
}
fn default_duration() -> f64 {
    1800.0
}
fn default_storm_share() -> f64 {
    0.2
}
fn default_storm_spread() -> f64 {
    60.0
}

impl AttackSpec {
    /// Checks ranges against the fleet; returns the key (under `attack.`) and the problem.
    pub fn check(
        &self,
        users: u32,
        suppliers: u32,
        run_start_h: f64,
        end_h: f64,
    ) -> Result<(), (String, String)> {
        if self.victim >= users {
            return Err((
                "victim".into(),
                format!(
                    "user {} does not exist (there are {users} users)",
                    self.victim
                ),
            ));
        }
        if matches!(self.kind, AttackKind::Disconnect | AttackKind::Firmware)
            && !self.draw_victim
            && self.victim >= suppliers
        {
            return Err((
                "victim".into(),
                format!("a {:?} attack needs a supplier (0..{suppliers})", self.kind),
            ));
        }
        if !(self.start_h >= run_start_h && self.start_h < end_h) {
            return Err((
                "start_h".into(),
                format!(
                    "must be in [run.start_h = {run_start_h}, run.end_h = {end_h}), got {}",
                    self.start_h
                ),
            ));
        }
        for (k, v) in [
            ("start_spread_h", self.start_spread_h),
            ("delay_mean_s", self.delay_mean_s),
            ("storm_spread_s", self.storm_spread_s),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be a finite number >= 0, got {v}")));
            }
        }
        for (k, v) in [
            ("rate_per_s", self.rate_per_s),
            ("duration_s", self.duration_s),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err((k.into(), format!("must be a positive number, got {v}")));
            }
        }
        if self.rate_per_s > 1e6 {
            return Err(("rate_per_s".into(), "must be at most 1000000".into()));
        }
        for (k, v) in [
            ("drop_share", self.drop_share),
            ("storm_share", self.storm_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err((
                    k.into(),
                    format!("must be a probability in [0, 1], got {v}"),
                ));
            }
        }
        if self.region > 2 {
            return Err((
                "region".into(),
                "must be 0 (north), 1 (central) or 2 (south)".into(),
            ));
        }
        if self.kind == AttackKind::Replay && self.path != Path::Wan {
            return Err((
                "path".into(),
                "a replay is injected on the WAN: path = \"wan\"".into(),
            ));
        }
        Ok(())
    }

    /// Whether injected commands travel through the DSP.
    pub fn via_dcc(&self) -> bool {
        self.path == Path::Dcc
    }
}
