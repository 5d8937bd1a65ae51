//! The attacker: it sends what the scenario says it can, with the keys it
//! holds ([`Holdings`]: its only view of the cast); the checks at the DSP
//! and on the meters decide what happens.
//!
//! * Through the DCC user gateway (`path = "dcc"`): service requests under
//!   the victim's identity, signed with the victim's request key if it holds
//!   the victim's DCC access, else with its own.
//! * Straight onto the WAN (`path = "wan"`): whole device commands, signed
//!   with the victim's command key if held, MAC'd with the ACB's key if held.
//! * A replaying attacker on a region's WAN ([`WanTap`]) records the
//!   victim's critical commands before the attack starts and sends them
//!   again from the start; it holds no keys.

use crate::crypto::gbcs::MessageKind;
use crate::engine::time::secs_to_ns;
use crate::engine::{EntityId, SimTime};
use crate::models::system::attack::{AttackKind, AttackSpec, Path, Replay};
use crate::models::system::env::Env;
use crate::models::system::holdings::Holdings;
use crate::models::system::msg::{job_id, IdClass, Job, Msg, Origin};
use crate::models::system::stats::KindStats;
use crate::models::system::timeline::Col;
use crate::models::system::world::ReqKind;

/// The attacker's progress and figures.
#[derive(Default)]
pub struct Attacker {
    /// Commands (or requests) sent so far, per attack of the run.
    sent: Vec<u64>,
    /// Figures of its requests that came back.
    stats: KindStats,
}

impl Attacker {
    /// The next action of the run's attack `i`, at entity `me`.
    pub fn tick(&mut self, h: &Holdings<'_>, i: u8, me: EntityId, env: &mut Env<'_, '_>) {
        let now = env.now();
        // What this kind sends, to whom, how many and until when.
        let (msg, v, targets, rate_per_s, path, end_ns) = match h.spec() {
            AttackSpec::Disconnect(a) | AttackSpec::Firmware(a) => {
                let msg = if h.spec().kind() == AttackKind::Firmware {
                    MessageKind::UpdateFirmware
                } else {
                    MessageKind::DisableSupply
                };
                let all = h.meters_of(a.victim);
                let targets = if a.targets == 0 {
                    all
                } else {
                    a.targets.min(all)
                };
                let rate = match h.threshold_rate(a.victim, msg) {
                    Some(limit) if a.under_threshold => a.rate_per_s.min(0.9 * limit).max(1e-3),
                    _ => a.rate_per_s,
                };
                (msg, a.victim, targets, rate, a.path, None)
            }
            AttackSpec::Flood(a) => {
                let end = h.start_ns() + secs_to_ns(a.duration_s);
                let (msg, rate) = (MessageKind::ReadInstantaneous, a.rate_per_s);
                (msg, a.victim, u32::MAX, rate, Path::Dcc, Some(end))
            }
            _ => return,
        };
        if self.sent.len() <= i as usize {
            self.sent.resize(i as usize + 1, 0);
        }
        let k = self.sent[i as usize];
        if k >= targets as u64 || end_ns.is_some_and(|end| now.0 >= end) {
            return;
        }
        self.sent[i as usize] += 1;
        let meter = if end_ns.is_some() {
            // A flood picks meters at random (of the victim's, if it has any).
            let pick = env.rng.bits();
            let n = h.meters_of(v);
            if n == 0 {
                return;
            }
            h.nth_meter_of(v, (((pick >> 32) * n as u64) >> 32) as u32)
        } else {
            h.nth_meter_of(v, k as u32)
        };
        // Each attack has its own 2^34 sequence numbers.
        let id = job_id(IdClass::Request(ReqKind::Attack), me, (i as u64) << 34 | k);
        let mut job = Box::new(Job::new(
            id,
            ReqKind::Attack,
            msg,
            me,
            v,
            meter,
            now.0,
            Origin::Attack,
        ));
        job.signer = h.signer(msg, meter);
        job.cred_fuel = h.cred_fuel(meter);
        job.request_genuine = h.user_access();
        job.firmware_genuine = msg != MessageKind::UpdateFirmware;
        self.stats.sent += 1;
        env.count(Col::AttackSent, 1);
        if msg.is_critical() {
            env.count(Col::CriticalSent, 1);
        }
        let p = h.params();
        if path == Path::Dcc {
            job.bytes = h.request_bytes(id, msg, meter, job.counter);
            let d = env.rng.user_link_ns(p);
            env.send(h.dsp(), d, Msg::Request(job));
        } else {
            // Straight onto the WAN: the attacker makes the whole command.
            job.acb_mac = h.acb_key();
            job.bytes = h.wan_command(id, msg, meter, job.counter, job.firmware_genuine);
            let d = env.rng.dsp_to_csp_ns(p);
            env.send(h.csp_of_meter(meter), d, Msg::Downlink(job));
        }
        env.send_self(((1e9 / rate_per_s) as u64).max(1), Msg::AttackTick(i));
    }

    /// One of its requests came back.
    pub fn complete(&mut self, job: &Job, now: SimTime) {
        self.stats.record(job, now);
    }

    /// Its figures, added to the per-kind totals.
    pub fn totals(&self, into: &mut [KindStats]) {
        into[ReqKind::Attack as usize].merge(&self.stats);
    }
}

/// A replaying attacker's recordings on one region's WAN.
#[derive(Default)]
pub struct WanTap {
    captured: Vec<Job>,
}

impl WanTap {
    /// A command crosses a region's WAN: recorded if it is one of the
    /// victim's (a supplier's critical commands and top-ups, which change a
    /// meter; any other user's commands, e.g. a network operator's reads),
    /// before the replay starts (`start_ns`), up to a third of the replay's
    /// targets (1,000 by default) per region.
    pub fn observe(&mut self, a: &Replay, suppliers: u32, start_ns: u64, job: &Job, now: SimTime) {
        let cap = if a.targets == 0 { 1000 } else { a.targets } as usize;
        if now.0 < start_ns
            && job.claimed == a.victim
            && job.origin == Origin::Bau
            && (job.msg.is_critical()
                || job.msg == MessageKind::PrepaymentTopUp
                || job.claimed >= suppliers)
            && self.captured.len() < cap.div_ceil(3)
        {
            self.captured.push(job.clone());
        }
    }

    /// Sends every recorded command again, `3 / rate_per_s` apart, as the
    /// attacker's (entity `attacker`).
    pub fn replay(&mut self, a: &Replay, attacker: EntityId, env: &mut Env<'_, '_>) {
        let now = env.now();
        let gap = (3e9 / a.rate_per_s) as u64;
        for (i, mut job) in std::mem::take(&mut self.captured).into_iter().enumerate() {
            job.kind = ReqKind::Attack;
            job.origin = Origin::Attack;
            job.user = attacker;
            job.created_ns = now.0 + i as u64 * gap;
            job.attempts = 0;
            job.dsp_in_ns = 0;
            job.dsp_out_ns = 0;
            env.timeline
                .add(SimTime(job.created_ns), Col::AttackSent, 1);
            env.send_self(i as u64 * gap + 1, Msg::Downlink(Box::new(job)));
        }
    }
}
