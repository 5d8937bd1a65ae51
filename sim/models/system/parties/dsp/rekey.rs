//! The DCC's ACB rekey: after the ACB's (access control broker's)
//! key-agreement key is known to be compromised (the scenario's
//! `[acb_rekey]`), the DCC replaces the ACB anchor on every meter, in
//! meter order at `per_s` a second. Each meter gets a credential update
//! for its ACB cell carrying the replacement key's certificate, signed
//! with the SMKI recovery key (the ACB cell is replaceable by the ACB or
//! by recovery, and the ACB cannot sign) and MAC'd under the ACB key the
//! meter still holds. The DSP learns that a meter holds the new key from
//! the update's (device-signed) response, and from then on MACs that
//! meter's commands with the new key. Updates that fail (lost on the WAN,
//! refused) are tried again after the first pass, up to `retries` times.
//!
//! The DCC is its own sender: no user link, no request check and no
//! pre-command round trip (it holds the recovery key).

use super::{command_bytes, Dsp};
use crate::crypto::device::AnchorSlot;
use crate::crypto::gbcs::MessageKind;
use crate::models::system::env::Env;
use crate::models::system::msg::{job_id, IdClass, Job, Msg, Origin, Outcome};
use crate::models::system::stats::KindStats;
use crate::models::system::world::{ReqKind, Signer, World};
use std::collections::{HashMap, VecDeque};

/// The campaign's state at the DSP.
#[derive(Default)]
pub struct Rekey {
    /// Next meter of the first pass.
    next: u32,
    /// Meters whose update failed, waiting to be tried again.
    again: VecDeque<u32>,
    /// Updates sent so far to each meter that failed at least once.
    tries: HashMap<u32, u32>,
    /// Meters known to hold the new key, one bit each (empty without `[acb_rekey]`).
    rekeyed: Vec<u64>,
    /// The campaign has nothing left to send and waits: a failure restarts it.
    idle: bool,
    /// Job sequence number.
    seq: u64,
    totals: RekeyTotals,
    /// The updates as requests (`requests.recovery` in the results).
    stats: KindStats,
}

/// What the results take from the campaign (`summary.json` `acb_rekey`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RekeyTotals {
    /// Credential updates sent (first tries and retries).
    pub sent: u64,
    /// Meters whose update's response said it executed: they hold the new key.
    pub rekeyed: u64,
    /// Updates that failed (lost on the WAN, refused by the meter).
    pub failed: u64,
    /// Meters given up on after every retry (they may still hold the old key).
    pub gave_up: u64,
    /// When the first update was sent, nanoseconds (0: none).
    pub first_sent_ns: u64,
    /// When the last meter was confirmed, nanoseconds (0: none).
    pub last_rekeyed_ns: u64,
}

impl Rekey {
    /// The campaign of a world (its bitmap only under `[acb_rekey]`).
    pub fn new(w: &World) -> Self {
        let words = if w.sc.acb_rekey.is_some() {
            (w.meters as usize).div_ceil(64)
        } else {
            0
        };
        Rekey {
            rekeyed: vec![0; words],
            ..Default::default()
        }
    }

    /// Which ACB key the DSP MACs meter `m`'s commands with: 1 once the
    /// meter confirmed the new key, else 0.
    pub fn gen(&self, m: u32) -> u8 {
        self.rekeyed
            .get(m as usize / 64)
            .map_or(0, |w| (w >> (m % 64) & 1) as u8)
    }

    /// The campaign's figures, and its updates as requests.
    pub fn totals(&mut self) -> (RekeyTotals, KindStats) {
        (self.totals, std::mem::take(&mut self.stats))
    }
}

impl Dsp {
    /// The campaign's next update (`Msg::Generate(ReqKind::Recovery)` at
    /// the DSP): the next meter of the first pass, else the next to try
    /// again; schedules the one after, or waits idle for a failure.
    pub fn acb_rekey_next(&mut self, w: &World, env: &mut Env<'_, '_>) {
        let r = &mut self.rekey;
        // A meter not commissioned yet is passed over (it is updated when
        // its commissioning succeeds, see `acb_rekey_commissioned`).
        let meter = loop {
            let m = if r.next < w.meters {
                r.next += 1;
                Some(r.next - 1)
            } else {
                r.again.pop_front()
            };
            match m {
                Some(m) if !self.smi.commissioned(w, m) => continue,
                m => break m,
            }
        };
        let Some(meter) = meter else {
            r.idle = true;
            return;
        };
        env.send_self(gap_ns(w), Msg::Generate(ReqKind::Recovery));
        let now = env.now().0;
        let id = job_id(IdClass::Request(ReqKind::Recovery), w.dsp, r.seq);
        r.seq += 1;
        r.totals.sent += 1;
        r.stats.sent += 1;
        if r.totals.first_sent_ns == 0 {
            r.totals.first_sent_ns = now.max(1);
        }
        let msg = MessageKind::UpdateSecurityCredentials;
        let mut job = Box::new(Job::new(
            id,
            ReqKind::Recovery,
            msg,
            w.dsp,
            w.dsp,
            meter,
            now,
            Origin::AcbRekey,
        ));
        job.signer = Signer::Recovery;
        job.slot = AnchorSlot::Acb;
        job.cred_fuel = w.fuel(meter);
        job.pre_signed = true;
        job.dsp_in_ns = now;
        job.acb_gen = r.gen(meter);
        if w.policy.runs_crypto(id) {
            let (bytes, z, _) = command_bytes(w, &job, job.acb_gen);
            job.bytes = Some(bytes);
            job.acb_z = Some(z);
        }
        self.arrive(w, job, false, env);
    }

    /// An update's response (after the worker authenticated it): executed,
    /// the meter's commands are MAC'd with the new key from now on;
    /// failed, the meter is tried again later (or given up on).
    pub(super) fn acb_rekey_done(&mut self, w: &World, job: &Job, env: &mut Env<'_, '_>) {
        let retries = w.sc.acb_rekey.as_ref().map_or(0, |s| s.retries);
        let now_ns = env.now().0;
        let r = &mut self.rekey;
        r.stats.record(job, env.now());
        let m = job.meter;
        if job.outcome == Outcome::Ok {
            if r.gen(m) == 0 {
                r.rekeyed[m as usize / 64] |= 1 << (m % 64);
                r.totals.rekeyed += 1;
                r.totals.last_rekeyed_ns = now_ns;
            }
            return;
        }
        r.totals.failed += 1;
        let tries = r.tries.entry(m).or_insert(1);
        if *tries <= retries {
            *tries += 1;
            r.again.push_back(m);
            if std::mem::take(&mut r.idle) {
                env.send_self(gap_ns(w), Msg::Generate(ReqKind::Recovery));
            }
        } else {
            r.totals.gave_up += 1;
        }
    }
}

impl Dsp {
    /// Meter `m`'s commissioning succeeded: if the campaign already passed
    /// it (or it was commissioned under the old key after the campaign
    /// began), it queues for its update.
    pub(super) fn acb_rekey_commissioned(&mut self, w: &World, m: u32, env: &mut Env<'_, '_>) {
        let r = &mut self.rekey;
        if w.sc.acb_rekey.is_none() || r.totals.first_sent_ns == 0 || m >= r.next {
            return;
        }
        r.again.push_back(m);
        if std::mem::take(&mut r.idle) {
            env.send_self(gap_ns(w), Msg::Generate(ReqKind::Recovery));
        }
    }
}

/// The campaign's time between updates.
fn gap_ns(w: &World) -> u64 {
    let per_s = w.sc.acb_rekey.as_ref().map_or(1.0, |s| s.per_s);
    ((1e9 / per_s) as u64).max(1)
}
