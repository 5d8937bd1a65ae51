//! What an attacker holds: the only view of the cast the attacker's code
//! is given, so that "the attacker acts only with what it holds" is kept
//! by the types, not by convention.

use super::attack::{AttackSpec, HeldFuel};
use super::world::{Signer, World};
use crate::crypto::gbcs::{Fuel, MessageKind};
use crate::engine::EntityId;

/// What an attacker holds, and the public facts of the cast it can know:
/// the only view of the [`World`] the attacker's code is given. Keys the
/// scenario does not hand over are out of reach by construction (the world
/// is a private field), so the attacker signs with its own key and MACs
/// with its own key-agreement key where it lacks the victim's or the ACB's.
pub struct Holdings<'a> {
    w: &'a World,
    /// Which of the run's attacks (index into `World::attacks`).
    index: usize,
    spec: &'a AttackSpec,
    victim: u32,
    user_access: bool,
    command_key: bool,
    acb_key: bool,
    fuel: HeldFuel,
}

impl<'a> Holdings<'a> {
    /// The holdings of the run's attack `i` (`None` if there is no such attack).
    pub fn of(w: &'a World, i: usize) -> Option<Self> {
        let spec = w.attacks.get(i)?;
        let (user_access, command_key, acb_key, fuel) = match spec {
            AttackSpec::Disconnect(a) | AttackSpec::Firmware(a) => {
                (a.user_access, a.command_key, a.acb_key, a.fuel)
            }
            AttackSpec::Flood(a) => (a.user_access, false, false, HeldFuel::Both),
            _ => (false, false, false, HeldFuel::Both),
        };
        Some(Holdings {
            w,
            index: i,
            spec,
            victim: spec.victim().unwrap_or(0),
            user_access,
            command_key,
            acb_key,
            fuel,
        })
    }

    /// The attack as the scenario states it.
    pub fn spec(&self) -> &AttackSpec {
        self.spec
    }

    /// Whether it holds the victim's DCC user access (gateway and request-signing key).
    pub fn user_access(&self) -> bool {
        self.user_access
    }

    /// Whether it holds the ACB's key-agreement key.
    pub fn acb_key(&self) -> bool {
        self.acb_key
    }

    /// Model parameters (public: link delays, the lookahead).
    pub fn params(&self) -> &super::params::Params {
        &self.w.sc.parameters
    }

    /// When the attack starts, nanoseconds.
    pub fn start_ns(&self) -> u64 {
        self.w.attack_start_ns(self.index)
    }

    /// How many meters user `u` addresses (public registration data).
    pub fn meters_of(&self, u: u32) -> u32 {
        self.w.meters_of(u)
    }

    /// The `k`-th meter of user `u`.
    pub fn nth_meter_of(&self, u: u32, k: u32) -> u32 {
        self.w.nth_meter_of(u, k)
    }

    /// The highest steady rate (per second) of user `u`'s requests of kind
    /// `msg` the DSP's anomaly detection lets through (its threshold per
    /// window over the window), or `None` when detection is off. An adaptive
    /// attacker is assumed to know it (an insider, or one who probed it).
    pub fn threshold_rate(&self, u: u32, msg: MessageKind) -> Option<f64> {
        let a = &self.w.sc.parameters.anomaly;
        let k = super::world::kind_index(msg);
        a.enabled
            .then(|| self.w.thresholds[u as usize][k] as f64 / a.window_s)
    }

    /// The DSP's entity (the DCC user gateway).
    pub fn dsp(&self) -> EntityId {
        self.w.dsp
    }

    /// The CSP entity serving meter `m` (where a WAN injection enters).
    pub fn csp_of_meter(&self, m: u32) -> EntityId {
        self.w.csp0 + self.w.region_of(m) as u32
    }

    /// The fuel of the victim's role credential the attacker presents
    /// towards meter `m`: the meter's own when it holds both, else the one
    /// it holds (the meter's fuel is public: it is in the meter's
    /// registration).
    pub fn cred_fuel(&self, m: u32) -> Fuel {
        match self.fuel {
            HeldFuel::Both => self.w.fuel(m),
            HeldFuel::Electricity => Fuel::Electricity,
            HeldFuel::Gas => Fuel::Gas,
        }
    }

    /// Who signs the command of a request of kind `msg` to meter `m`: the
    /// victim's command key of the credential held (see
    /// [`Holdings::cred_fuel`]) if held, else the attacker's own; nobody
    /// for non-critical ones.
    pub fn signer(&self, msg: MessageKind, m: u32) -> Signer {
        if !msg.is_critical() {
            Signer::None
        } else if self.command_key {
            Signer::User(self.w.cred(self.victim, self.cred_fuel(m)), 0)
        } else {
            Signer::Attacker
        }
    }

    /// The service request bytes of `id`, signed with the victim's
    /// request-signing key if the attacker holds its DCC access, else its own.
    pub fn request_bytes(
        &self,
        id: u64,
        msg: MessageKind,
        meter: u32,
        counter: u64,
    ) -> Option<Box<[u8]>> {
        let key = if self.user_access {
            &self.w.user_request_keys[self.victim as usize][0].0
        } else {
            &self.w.attacker_key.0
        };
        self.w
            .request_bytes(id, msg, self.victim, meter, counter, key)
    }

    /// A whole device command made by the attacker for the WAN: signed by
    /// [`Holdings::signer`], MAC'd with the ACB's secret if it holds the
    /// ACB's key, else with one of its own (when crypto runs for `id`).
    pub fn wan_command(
        &self,
        id: u64,
        msg: MessageKind,
        meter: u32,
        counter: u64,
        firmware_genuine: bool,
    ) -> Option<Box<[u8]>> {
        let w = self.w;
        w.policy.runs_crypto(id).then(|| {
            let z = if self.acb_key {
                w.acb_secret(meter)
            } else {
                w.attacker_secret(meter)
            };
            w.command_bytes(
                msg,
                self.signer(msg, meter),
                self.victim,
                meter,
                counter,
                firmware_genuine,
                crate::crypto::device::AnchorSlot::Supplier,
                &z,
            )
            .into_boxed_slice()
        })
    }
}
