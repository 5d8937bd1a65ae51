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
use std::collections::HashSet;

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
        // A delivered image (SR 11.1, staged) is activated later (SR 11.3):
        // by the emergency-fix policy, else five image airtimes after the
        // delivery request (assumption: the image has arrived by then).
        let activate =
            w.sc.vulnerability
                .as_ref()
                .map_or(r.firmware_airtime_ms * 5e-3, |v| v.fix.activate_after_s);
        Some(RecoveryRequest {
            msg,
            meter,
            signer,
            origin,
            next_step_ns: Some(((1e9 / rate) as u64).max(1)),
            follow_up: (msg == MessageKind::UpdateFirmware)
                .then_some(((activate * 1e9) as u64, RecoveryStep::Activate(meter))),
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
