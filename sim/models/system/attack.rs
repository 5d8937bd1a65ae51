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
//!
//! The table is tagged by `kind`, and each kind has exactly the keys it
//! reads: a key another kind uses is an error, not silently ignored.

use serde::{Deserialize, Serialize};

/// What the attacker does (the `kind` tag of [`AttackSpec`]).
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
    /// The SOC (security operations centre) cannot triage for `duration_s`
    /// (its tools or staff are unavailable): events wait.
    SocOutage,
    /// One region's CSP (communications service provider) loses its
    /// primary data centre until its standby takes over.
    CspOutage,
    /// A DCC user's gateway connection is down: the device alerts for it
    /// cannot be delivered (retried, held, delivered when it is back).
    UserOutage,
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

/// Which of a dual-fuel supplier's role credentials the attacker holds
/// (its import supplier credential for electricity meters, its gas
/// supplier credential for gas meters; each is its own organisation
/// certificate and command key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldFuel {
    /// Both (the supplier's systems as a whole).
    #[default]
    Both,
    /// Only the electricity (import supplier) credential.
    Electricity,
    /// Only the gas supplier credential.
    Gas,
}

impl HeldFuel {
    fn is_both(&self) -> bool {
        *self == HeldFuel::Both
    }
}

/// The scenario's `[attack]` table, one variant per `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttackSpec {
    /// Disable-supply commands to the victim supplier's meters.
    Disconnect(CommandAttack),
    /// A firmware image signed by the attacker, to the victim's meters.
    Firmware(CommandAttack),
    /// Critical commands captured on the WAN and resent.
    Replay(Replay),
    /// A compromised CSP drops, delays and reorders one region's traffic.
    CspTamper(CspTamper),
    /// Read requests flooding the DSP under the victim's identity.
    Flood(Flood),
    /// A regional power cut: meters raise power-outage alerts at once.
    AlertStorm(AlertStorm),
    /// The DSP's primary data centre is lost for `duration_s`.
    DspOutage(DspOutage),
    /// The SOC cannot triage for `duration_s`.
    SocOutage(SocOutage),
    /// One region's CSP is down for `duration_s` (its failover time).
    CspOutage(CspOutage),
    /// A user's gateway connection is down for `duration_s`.
    UserOutage(UserOutage),
}

/// `disconnect` and `firmware`: commands to the victim supplier's meters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommandAttack {
    /// The supplier whose identity the attacker uses (index). Replaced by
    /// the draw when `draw_victim` is true.
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
    /// Which of the victim's role credentials `user_access` and
    /// `command_key` cover: `both` (default), `electricity` or `gas`. With
    /// one fuel's only, the attacker presents that role to the other fuel's
    /// meters too (the DSP refuses the role; over the WAN the meters refuse
    /// the key, which is not their anchor).
    #[serde(default, skip_serializing_if = "HeldFuel::is_both")]
    pub fuel: HeldFuel,
    /// Where commands are injected.
    #[serde(default = "default_path")]
    pub path: Path,
    /// Clock hour the attack starts (at or after `run.start_h`).
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// With `draw_victim`: the start is drawn uniformly in `[start_h, start_h + start_spread_h)`.
    #[serde(default)]
    pub start_spread_h: f64,
    /// Commands (or requests) per second.
    #[serde(default = "default_rate")]
    pub rate_per_s: f64,
    /// How many of the victim's meters are targeted (0: all of them).
    #[serde(default)]
    pub targets: u32,
    /// An adaptive attacker that knows the DSP's anomaly threshold for the
    /// victim's commands of this kind and paces itself to 90% of it per
    /// window (at most `rate_per_s`), to stay unseen.
    #[serde(default, skip_serializing_if = "is_false")]
    pub under_threshold: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `replay`: the victim's critical commands, recorded on the WAN before
/// the start (a third of `targets` per region) and resent from the start.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// The user whose commands are recorded.
    #[serde(default)]
    pub victim: u32,
    /// Clock hour the replay starts (recording runs until then).
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// Commands per second, across the three regions.
    #[serde(default = "default_rate")]
    pub rate_per_s: f64,
    /// How many commands are recorded (0: 1,000).
    #[serde(default)]
    pub targets: u32,
}

/// `csp_tamper`: a compromised CSP in one region.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CspTamper {
    /// The region: 0 north, 1 central, 2 south.
    #[serde(default)]
    pub region: u32,
    /// Probability a transmission is dropped.
    #[serde(default)]
    pub drop_share: f64,
    /// Mean extra delay (exponential), seconds; reorders traffic.
    #[serde(default)]
    pub delay_mean_s: f64,
    /// Probability a delivered transmission is also sent a second time
    /// (the copy is delayed independently; the meter's anti-replay check
    /// decides what it does, and the DSP discards the copy's response).
    #[serde(default)]
    pub duplicate_share: f64,
    /// Clock hour the tampering starts.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// How long it lasts, seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
}

/// `flood`: read requests under the victim's identity through the DCC gateway.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Flood {
    /// The user whose identity is used (index: suppliers first, then other users).
    #[serde(default)]
    pub victim: u32,
    /// Holds the victim's DCC user access (else its requests are signed with the attacker's key).
    #[serde(default)]
    pub user_access: bool,
    /// Clock hour the flood starts.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// Requests per second.
    #[serde(default = "default_rate")]
    pub rate_per_s: f64,
    /// How long it lasts, seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
}

/// `alert_storm`: a regional power cut.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertStorm {
    /// The region: 0 north, 1 central, 2 south.
    #[serde(default)]
    pub region: u32,
    /// Share of the region's meters that lose power.
    #[serde(default = "default_storm_share")]
    pub storm_share: f64,
    /// The alerts arrive uniformly over this many seconds.
    #[serde(default = "default_storm_spread")]
    pub storm_spread_s: f64,
    /// Clock hour of the power cut.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
}

/// `dsp_outage`: the DSP's primary data centre is lost.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DspOutage {
    /// Clock hour of the loss.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// Failover time, seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
}

/// `csp_outage`: one region's CSP loses its primary data centre. Until
/// the standby takes over (`duration_s`, the failover time) it handles
/// nothing: commands from the DSP, responses and alerts from its meters,
/// its own retry timers and the ends of transmissions wait at its door and
/// are handled in arrival order when it is back (assumption: no public
/// CSP failover rule; queued, not refused, as the DSP's own).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CspOutage {
    /// Which region: 0 north, 1 central, 2 south.
    pub region: u32,
    /// Clock hour of the loss.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// Failover time, seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
}

/// `user_outage`: user `victim`'s DCC gateway connection is lost for
/// `duration_s`: device alerts for it are retried and held by the DSP
/// (`parameters.dsp.alert_retry_s`, `alert_hold_h`) and delivered when it
/// is back, or dropped once held too long.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserOutage {
    /// The user (index).
    #[serde(default)]
    pub victim: u32,
    /// Clock hour the connection is lost.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// How long it stays lost, seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
}

/// `soc_outage`: the SOC cannot triage.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SocOutage {
    /// Clock hour the outage starts.
    #[serde(default = "default_start_h")]
    pub start_h: f64,
    /// How long it lasts, seconds.
    #[serde(default = "default_duration")]
    pub duration_s: f64,
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

/// A range problem: the key (under `attack.`) and what is wrong.
type Problem = (String, String);

fn finite_nonneg(k: &str, v: f64) -> Result<(), Problem> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err((k.into(), format!("must be a finite number >= 0, got {v}")))
    }
}

fn positive(k: &str, v: f64) -> Result<(), Problem> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err((k.into(), format!("must be a positive number, got {v}")))
    }
}

fn rate(v: f64) -> Result<(), Problem> {
    positive("rate_per_s", v)?;
    if v > 1e6 {
        return Err(("rate_per_s".into(), "must be at most 1000000".into()));
    }
    Ok(())
}

fn probability(k: &str, v: f64) -> Result<(), Problem> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err((
            k.into(),
            format!("must be a probability in [0, 1], got {v}"),
        ))
    }
}

fn region(r: u32) -> Result<(), Problem> {
    if r > 2 {
        return Err((
            "region".into(),
            "must be 0 (north), 1 (central) or 2 (south)".into(),
        ));
    }
    Ok(())
}

fn user(v: u32, users: u32) -> Result<(), Problem> {
    if v >= users {
        return Err((
            "victim".into(),
            format!("user {v} does not exist (there are {users} users)"),
        ));
    }
    Ok(())
}

impl AttackSpec {
    /// The `kind` tag.
    pub fn kind(&self) -> AttackKind {
        match self {
            AttackSpec::Disconnect(_) => AttackKind::Disconnect,
            AttackSpec::Firmware(_) => AttackKind::Firmware,
            AttackSpec::Replay(_) => AttackKind::Replay,
            AttackSpec::CspTamper(_) => AttackKind::CspTamper,
            AttackSpec::Flood(_) => AttackKind::Flood,
            AttackSpec::AlertStorm(_) => AttackKind::AlertStorm,
            AttackSpec::DspOutage(_) => AttackKind::DspOutage,
            AttackSpec::SocOutage(_) => AttackKind::SocOutage,
            AttackSpec::CspOutage(_) => AttackKind::CspOutage,
            AttackSpec::UserOutage(_) => AttackKind::UserOutage,
        }
    }

    /// Clock hour the attack starts.
    pub fn start_h(&self) -> f64 {
        match self {
            AttackSpec::Disconnect(a) | AttackSpec::Firmware(a) => a.start_h,
            AttackSpec::Replay(a) => a.start_h,
            AttackSpec::CspTamper(a) => a.start_h,
            AttackSpec::Flood(a) => a.start_h,
            AttackSpec::AlertStorm(a) => a.start_h,
            AttackSpec::DspOutage(a) => a.start_h,
            AttackSpec::SocOutage(a) => a.start_h,
            AttackSpec::CspOutage(a) => a.start_h,
            AttackSpec::UserOutage(a) => a.start_h,
        }
    }

    /// Clock hour the attack starts, to move it (a risk study places each
    /// compromise's attacks after the compromise).
    pub fn start_h_mut(&mut self) -> &mut f64 {
        match self {
            AttackSpec::Disconnect(a) | AttackSpec::Firmware(a) => &mut a.start_h,
            AttackSpec::Replay(a) => &mut a.start_h,
            AttackSpec::CspTamper(a) => &mut a.start_h,
            AttackSpec::Flood(a) => &mut a.start_h,
            AttackSpec::AlertStorm(a) => &mut a.start_h,
            AttackSpec::DspOutage(a) => &mut a.start_h,
            AttackSpec::SocOutage(a) => &mut a.start_h,
            AttackSpec::CspOutage(a) => &mut a.start_h,
            AttackSpec::UserOutage(a) => &mut a.start_h,
        }
    }

    /// The user whose identity or commands the attack uses, for kinds that have one.
    pub fn victim(&self) -> Option<u32> {
        match self {
            AttackSpec::Disconnect(a) | AttackSpec::Firmware(a) => Some(a.victim),
            AttackSpec::Replay(a) => Some(a.victim),
            AttackSpec::Flood(a) => Some(a.victim),
            _ => None,
        }
    }

    /// How long the attack or fault lasts, for kinds with a duration, seconds.
    pub fn duration_s(&self) -> Option<f64> {
        match self {
            AttackSpec::CspTamper(a) => Some(a.duration_s),
            AttackSpec::Flood(a) => Some(a.duration_s),
            AttackSpec::DspOutage(a) => Some(a.duration_s),
            AttackSpec::SocOutage(a) => Some(a.duration_s),
            AttackSpec::CspOutage(a) => Some(a.duration_s),
            AttackSpec::UserOutage(a) => Some(a.duration_s),
            _ => None,
        }
    }

    /// Checks ranges against the fleet; returns the key (under `attack.`) and the problem.
    pub fn check(
        &self,
        users: u32,
        suppliers: u32,
        run_start_h: f64,
        end_h: f64,
    ) -> Result<(), Problem> {
        let start_h = self.start_h();
        if !(start_h >= run_start_h && start_h < end_h) {
            return Err((
                "start_h".into(),
                format!(
                    "must be in [run.start_h = {run_start_h}, run.end_h = {end_h}), got {start_h}"
                ),
            ));
        }
        match self {
            AttackSpec::Disconnect(a) | AttackSpec::Firmware(a) => {
                user(a.victim, users)?;
                if !a.draw_victim && a.victim >= suppliers {
                    return Err((
                        "victim".into(),
                        format!(
                            "a {:?} attack needs a supplier (0..{suppliers})",
                            self.kind()
                        ),
                    ));
                }
                finite_nonneg("start_spread_h", a.start_spread_h)?;
                rate(a.rate_per_s)
            }
            AttackSpec::Replay(a) => {
                user(a.victim, users)?;
                rate(a.rate_per_s)
            }
            AttackSpec::CspTamper(a) => {
                region(a.region)?;
                probability("drop_share", a.drop_share)?;
                finite_nonneg("delay_mean_s", a.delay_mean_s)?;
                probability("duplicate_share", a.duplicate_share)?;
                positive("duration_s", a.duration_s)
            }
            AttackSpec::Flood(a) => {
                user(a.victim, users)?;
                rate(a.rate_per_s)?;
                positive("duration_s", a.duration_s)
            }
            AttackSpec::AlertStorm(a) => {
                region(a.region)?;
                probability("storm_share", a.storm_share)?;
                finite_nonneg("storm_spread_s", a.storm_spread_s)
            }
            AttackSpec::DspOutage(a) => positive("duration_s", a.duration_s),
            AttackSpec::SocOutage(a) => positive("duration_s", a.duration_s),
            AttackSpec::CspOutage(a) => {
                region(a.region)?;
                positive("duration_s", a.duration_s)
            }
            AttackSpec::UserOutage(a) => {
                user(a.victim, users)?;
                positive("duration_s", a.duration_s)
            }
        }
    }
}
