//! A supplier's incident and recovery work: households call when their
//! supply goes off; calls about disconnections the supplier did not order
//! become an incident report to the SOC (security operations centre);
//! once the DCC contains the compromised identity, the supplier gets new
//! credentials, restores supply with randomised offsets, and runs the
//! anchor-replacement and emergency-firmware campaigns.

use crate::crypto::gbcs::MessageKind;
use crate::engine::EntityId;
use crate::models::system::env::{Env, NS_PER_MS};
use crate::models::system::msg::{Msg, Origin, RecoveryStep, SecurityEvent};
use crate::models::system::world::{Signer, World};
use std::collections::{HashMap, HashSet};

/// A supplier's incident and recovery state.
#[derive(Clone, Debug, Default)]
pub struct Supplier {
    /// Credential generation in use (1 after reissue).
    cred_gen: u8,
    /// Meters this supplier itself ordered off.
    ordered_off: HashSet<u32>,
    /// Calls about disconnections it did not order.
    unexplained_calls: u32,
    /// Whether it reported an incident.
    reported: bool,
    /// Meters whose anchor was replaced (their commands use the new key).
    replaced: HashSet<u32>,
    /// Next meter of the anchor campaign.
    anchor_next: u32,
    /// Next meter of the firmware campaign.
    firmware_next: u32,
    /// Next meter (of its own, vulnerable or not) of the emergency-fix campaign.
    fix_next: u32,
    /// Restorations scheduled.
    restores: u32,
    /// Images sent again per meter, after failed activations.
    redelivered: HashMap<u32, u32>,
    /// The meters it gains by a change of supplier in this run, by the
    /// time registration moves.
    gains: Dated,
    /// The meters it installs (and commissions) in this run, by time.
    installs: Dated,
}

/// Meters with a date each, worked through in date order.
#[derive(Clone, Debug, Default)]
pub struct Dated {
    /// `(at_ns, meter)`, sorted.
    items: Vec<(u64, u32)>,
    /// Next item due.
    next: usize,
}

impl Dated {
    fn new(mut items: Vec<(u64, u32)>) -> Self {
        items.sort_unstable();
        Dated { items, next: 0 }
    }

    /// The meter due now, and when the next one is (if any).
    fn take(&mut self) -> Option<(u32, Option<u64>)> {
        let (_, meter) = *self.items.get(self.next)?;
        self.next += 1;
        Some((meter, self.items.get(self.next).map(|g| g.0)))
    }

    /// When the first item is due.
    pub fn first(&self) -> Option<u64> {
        self.items.first().map(|g| g.0)
    }
}

/// A request a recovery step makes.
pub struct RecoveryRequest {
    /// The command.
    pub msg: MessageKind,
    /// To which meter.
    pub meter: u32,
    /// Who signs it.
    pub signer: Signer,
    /// Which recovery work it is.
    pub origin: Origin,
    /// For a campaign: when to take its next step.
    pub next_step_ns: Option<u64>,
    /// A step that follows this one for the same meter (a delivered
    /// image's activation), and after how long.
    pub follow_up: Option<(u64, RecoveryStep)>,
}

impl Supplier {
    /// Supplier `s` of a world, with the meters it gains and installs in
    /// the run.
    pub fn new(w: &World, s: u32) -> Self {
        Supplier {
            gains: Dated::new(
                w.switches
                    .iter()
                    .filter(|x| x.gaining == s)
                    .map(|x| (x.at_ns, x.meter))
                    .collect(),
            ),
            installs: Dated::new(
                w.installs
                    .iter()
                    .filter(|x| w.supplier_of(x.meter) == s)
                    .map(|x| (x.at_ns, x.meter))
                    .collect(),
            ),
            ..Supplier::default()
        }
    }

    /// The meter whose change of supplier is due now, and when the next
    /// one is (if any).
    pub fn next_gain(&mut self) -> Option<(u32, Option<u64>)> {
        self.gains.take()
    }

    /// The meter to commission now (just installed), and when the next
    /// installation is (if any).
    pub fn next_install(&mut self) -> Option<(u32, Option<u64>)> {
        self.installs.take()
    }

    /// When its first change of supplier and its first installation in
    /// the run are due.
    pub fn first_dates(&self) -> (Option<u64>, Option<u64>) {
        (self.gains.first(), self.installs.first())
    }

    /// The credential generation its requests present.
    pub fn cred_gen(&self) -> u8 {
        self.cred_gen
    }

    /// Which of its command keys meter `m` holds as anchor (1 once replaced).
    pub fn anchor_gen(&self, m: u32) -> u8 {
        u8::from(self.replaced.contains(&m))
    }

    /// It ordered meter `m` off itself.
    pub fn note_ordered_off(&mut self, m: u32) {
        self.ordered_off.insert(m);
    }

    /// Meter `m` now holds its replacement key.
    pub fn note_replaced(&mut self, m: u32) {
        self.replaced.insert(m);
    }

    /// Restorations it scheduled.
    pub fn restores(&self) -> u32 {
        self.restores
    }

    /// Images it sent again after failed activations.
    pub fn redeliveries(&self) -> u64 {
        self.redelivered.values().map(|&n| n as u64).sum()
    }

    /// An activation of its image on meter `m` failed (lost on the WAN
    /// after every retry, or refused by the meter because the image never
    /// arrived): the image is sent again after
    /// `response.firmware_retry_min`, at most `response.firmware_retries`
    /// times per meter.
    pub fn activation_failed(&mut self, w: &World, m: u32, env: &mut Env<'_, '_>) {
        let r = &w.sc.parameters.response;
        let n = self.redelivered.entry(m).or_insert(0);
        if *n < r.firmware_retries {
            *n += 1;
            let after = (r.firmware_retry_min * 60e3 * NS_PER_MS) as u64;
            env.send_self(after.max(1), Msg::Recover(RecoveryStep::Redeliver(m)));
        }
    }

    /// A household without supply calls; enough calls about disconnections
    /// it did not order become an incident report to the SOC.
    pub fn customer_call(&mut self, w: &World, me: EntityId, m: u32, env: &mut Env<'_, '_>) {
        if self.ordered_off.contains(&m) || self.reported {
            return;
        }
        self.unexplained_calls += 1;
        if self.unexplained_calls >= w.sc.parameters.soc.customer_reports_to_incident {
            self.reported = true;
            let d = env.rng.user_link_ns(&w.sc.parameters);
            env.send(w.soc, d, Msg::Security(SecurityEvent::CustomerReports(me)));
        }
    }

    /// Contained: new credentials, then restoration of the meters disabled
    /// under its identity that it did not order off (at randomised
    /// offsets), then the campaigns.
    pub fn contained(&mut self, w: &World, log: Vec<u32>, env: &mut Env<'_, '_>) {
        let r = &w.sc.parameters.response;
        self.cred_gen = 1;
        let restore: Vec<u32> = log
            .into_iter()
            .filter(|m| !self.ordered_off.contains(m))
            .collect();
        self.restores = restore.len() as u32;
        let after = r.restore_after_contain_min * 60e3 * NS_PER_MS;
        let spread = r.restore_spread_min * 60e3 * NS_PER_MS;
        for m in restore {
            let off = env.rng.open01() * spread;
            env.send_self(
                (after + off) as u64 + 1,
                Msg::Recover(RecoveryStep::Enable(m)),
            );
        }
        let campaigns = (after + spread) as u64 + 60_000_000_000;
        if r.replace_anchors {
            env.send_self(campaigns, Msg::Recover(RecoveryStep::AnchorNext));
        }
        if r.firmware_fix {
            env.send_self(campaigns, Msg::Recover(RecoveryStep::FirmwareNext));
        }
    }

    /// The request a recovery step makes, if any (a campaign that reached
    /// its last meter makes none).
    pub fn recovery_request(
        &mut self,
        w: &World,
        me: EntityId,
        step: RecoveryStep,
    ) -> Option<RecoveryRequest> {
        let r = &w.sc.parameters.response;
        let (msg, signer, origin, rate, next) = match step {
            RecoveryStep::Enable(m) => {
                // Gas meters cannot be enabled remotely: armed, the
                // household opens the valve (see the meters' `consumer_restore`).
                let msg = if w.is_gas(m) {
                    MessageKind::ArmSupply
                } else {
                    MessageKind::EnableSupply
                };
                let signer = Signer::User(w.cred(me, w.fuel(m)), self.anchor_gen(m));
                return Some(self.one_off(msg, m, signer));
            }
            RecoveryStep::Redeliver(m) => {
                return Some(RecoveryRequest {
                    msg: MessageKind::UpdateFirmware,
                    meter: m,
                    signer: Signer::None,
                    origin: Origin::Firmware,
                    next_step_ns: None,
                    follow_up: Some((activate_after_ns(w), RecoveryStep::Activate(m))),
                });
            }
            RecoveryStep::Activate(m) => {
                // SR 11.3: critical, signed by the supplier, naming the staged image.
                let signer = Signer::User(w.cred(me, w.fuel(m)), self.anchor_gen(m));
                return Some(self.one_off(MessageKind::ActivateFirmware, m, signer));
            }
            RecoveryStep::AnchorNext => (
                MessageKind::UpdateSecurityCredentials,
                Signer::Recovery,
                Origin::Anchor,
                r.anchor_updates_per_s,
                &mut self.anchor_next,
            ),
            RecoveryStep::FirmwareNext => (
                MessageKind::UpdateFirmware,
                Signer::None,
                Origin::Firmware,
                r.firmware_updates_per_s,
                &mut self.firmware_next,
            ),
            RecoveryStep::FixNext => {
                // The emergency fix goes only to its vulnerable meters.
                let (_, rate) = w.fix_campaign(me)?;
                let n = w.meters_of(me);
                while self.fix_next < n
                    && !w.initially_vulnerable(w.nth_meter_of(me, self.fix_next))
                {
                    self.fix_next += 1;
                }
                (
                    MessageKind::UpdateFirmware,
                    Signer::None,
                    Origin::Firmware,
                    rate,
                    &mut self.fix_next,
                )
            }
        };
        if *next >= w.meters_of(me) {
            return None;
        }
        let meter = w.nth_meter_of(me, *next);
        *next += 1;
        Some(RecoveryRequest {
            msg,
            meter,
            signer,
            origin,
            next_step_ns: Some(((1e9 / rate) as u64).max(1)),
            follow_up: (msg == MessageKind::UpdateFirmware)
                .then_some((activate_after_ns(w), RecoveryStep::Activate(meter))),
        })
    }

    /// A single request of the recovery work (no next step).
    fn one_off(&self, msg: MessageKind, meter: u32, signer: Signer) -> RecoveryRequest {
        let origin = if msg == MessageKind::ActivateFirmware {
            Origin::Firmware
        } else {
            Origin::Restore
        };
        RecoveryRequest {
            msg,
            meter,
            signer,
            origin,
            next_step_ns: None,
            follow_up: None,
        }
    }
}

/// How long after an image's delivery request its activation is sent
/// (SR 11.1 stages it, SR 11.3 activates it): by the emergency-fix policy,
/// else five image airtimes (assumption: the image has arrived by then).
fn activate_after_ns(w: &World) -> u64 {
    let s =
        w.sc.vulnerability
            .as_ref()
            .map_or(w.sc.parameters.response.firmware_airtime_ms * 5e-3, |v| {
                v.fix.activate_after_s
            });
    (s * 1e9) as u64
}
