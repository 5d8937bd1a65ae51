//! The meters: each a communications hub with its electricity meter (ESME,
//! electricity smart metering equipment) or gas meter (GSME), holding trust
//! anchors and anti-replay counters, running the real device checks of
//! `crypto::device` on the command bytes (or the same rules on ground
//! truth where the crypto mode runs no cryptography), executing what they
//! accept, and answering with a signed (critical) or MAC'd response.
//!
//! Per-meter state is kept as structure of arrays indexed by the meter's
//! local index in its shard.

use crate::crypto::device::{
    device_message, AlertKind, AnchorSlot, DeviceSecurity, Executed, Flaw, FlawCheck, Outgoing,
    Reject, COUNTER_SLOTS,
};
use crate::crypto::ecdsa::hash_to_scalar;
use crate::crypto::gbcs::{frame, Cra, MessageKind};
use crate::crypto::mode::{CryptoCounters, CryptoMode};
use crate::crypto::registry::KeyRegistry;
use crate::engine::rng::exp_ns;
use crate::engine::{EntityId, Partition};
use crate::models::system::env::{Env, NS_PER_MS};
use crate::models::system::msg::{Job, Msg, Origin, Outcome, Verdict};
use crate::models::system::parties::dsp::Dsp;
use crate::models::system::timeline::{Col, TraceRec};
use crate::models::system::world::{hash_parts, Signer, World, MANUFACTURER};
use std::collections::HashMap;
use std::sync::Arc;

/// Per-meter state of the meters a shard owns (by local index).
pub struct Meters {
    part: Partition,
    /// Last counter accepted from the registered supplier.
    last_counter: Vec<u64>,
    /// Last counters accepted from every other originator (recovery,
    /// network operators, other users, anyone claiming an identity), by
    /// meter: only the pairs that ever sent a command are stored.
    other_counters: HashMap<(u32, u64), u64>,
    /// Supply on.
    supply_on: Vec<bool>,
    /// Off because of the attack (for results only).
    off_by_attack: Vec<bool>,
    /// Supplier anchor: 0 the registered supplier's original key, 1 its
    /// replacement, 2 some other key, 3 the gaining supplier's key after a
    /// change of supplier (see [`Meters::cell_supplier`]).
    anchor_gen: Vec<u8>,
    /// ACB anchor: 0 the commissioned ACB key, 1 the DCC's replacement, 2
    /// some other key (see `World::acb_secret_gen`).
    acb_gen: Vec<u8>,
    /// Firmware version.
    firmware: Vec<u8>,
    /// Whether the manufacturer's fixed image is delivered and waits for activation.
    staged: Vec<bool>,
    /// Keys the anchors refer to (shared by every shard).
    keys: Arc<KeyRegistry>,
    /// Crypto decisions made on the meters.
    crypto: CryptoCounters,
    /// Commands executed (for the checker), when crypto runs.
    trace: Vec<TraceRec>,
    /// Refusals by reason ([`Reject`] order).
    refusals: [u64; Reject::ALL.len()],
}

/// What the run's results take from the meters.
pub struct MeterTotals {
    /// Crypto decisions.
    pub crypto: CryptoCounters,
    /// Executed commands, for the checker.
    pub trace: Vec<TraceRec>,
    /// Refusals by reason ([`Reject`] order).
    pub refusals: [u64; Reject::ALL.len()],
}

/// The counter a meter checks a command's against, if it tracks that originator.
enum Tracked {
    /// The registered supplier's counter.
    Supplier,
    /// Any other originator.
    Other,
}

impl Meters {
    /// The meters of shard `shard`: supply on, original anchors, firmware
    /// 1 (with a declared vulnerability: 1 on the vulnerable meters, the
    /// fixed 2 on the others). Empty (no meters) when the shard runs on another rank
    /// (`here` false).
    pub fn new(w: &World, shard: u32, part: Partition, keys: Arc<KeyRegistry>, here: bool) -> Self {
        let locals = if here {
            part.entities_in_shard(shard) as usize
        } else {
            0
        };
        let firmware = (0..locals as u32)
            .map(|l| {
                let e = part.global(shard, l);
                let fixed = w.sc.vulnerability.is_some()
                    && e >= w.meter0
                    && !w.initially_vulnerable(e - w.meter0);
                1 + fixed as u8
            })
            .collect();
        Meters {
            part,
            last_counter: vec![0; locals],
            other_counters: HashMap::new(),
            supply_on: vec![true; locals],
            off_by_attack: vec![false; locals],
            anchor_gen: vec![0; locals],
            acb_gen: vec![0; locals],
            firmware,
            staged: vec![false; locals],
            keys,
            crypto: CryptoCounters::default(),
            trace: Vec::new(),
            refusals: [0; Reject::ALL.len()],
        }
    }

    /// Whose key meter `m`'s supplier cell holds: the supplier, its
    /// command credential for the meter's fuel, and the key's generation
    /// (0 original, 1 replacement, 2 a key of nobody in the cast).
    fn cell_supplier(&self, w: &World, m: u32, local: usize) -> (u32, u32, u8) {
        let g = self.anchor_gen[local];
        // (Only a meter whose cell a change of supplier moved looks its switch up.)
        match (g == 3).then(|| w.switch_of(m)).flatten() {
            Some(s) => (s.gaining, w.cred(s.gaining, w.fuel(m)), 0),
            None => (w.supplier_of(m), w.supplier_cred(m), g),
        }
    }

    /// The meter's anchors and counters as a [`DeviceSecurity`] (the real device path).
    fn device_security(&self, w: &World, m: u32, local: usize, originator: u64) -> DeviceSecurity {
        // Every cell as commissioned; the supplier's as replaced since.
        let mut anchors = w.anchors_of(m);
        let (owner, cred, gen) = self.cell_supplier(w, m, local);
        anchors[AnchorSlot::Supplier as usize] = crate::crypto::device::Anchor {
            owner: w.user_id(owner),
            key: if gen < 2 {
                w.anchor_fingerprint(cred, gen)
            } else {
                0
            },
        };
        anchors[AnchorSlot::Acb as usize].key = match self.acb_gen[local] {
            0 => anchors[AnchorSlot::Acb as usize].key,
            1 => w.commissioned.acb_next_fp,
            _ => 0,
        };
        // (The registered supplier's counter is kept in an array, whoever
        // the supplier is now: storage, see `tracked`.)
        let sup_id = w.user_id(w.supplier_of(m));
        let mut counters = [(0, 0); COUNTER_SLOTS];
        counters[0] = (sup_id, self.last_counter[local]);
        if originator != sup_id {
            if let Some(&c) = self.other_counters.get(&(local as u32, originator)) {
                counters[1] = (originator, c);
            }
        }
        DeviceSecurity {
            id: w.device_id(m),
            fuel: w.fuel(m),
            anchors,
            counters,
            manufacturer: (MANUFACTURER, w.manufacturer_fp),
            firmware_version: self.firmware[local] as u64,
            staged_firmware: self.staged[local].then(|| (2, w.fixed_image_hash())),
            flaw: self.flaw(w, local),
        }
    }

    /// The flaw of meter `local`'s running firmware, if any.
    /// Asks for the per-meter state an event for meter entity `e` reads
    /// (a hint ahead of handling it; changes nothing).
    pub fn prefetch(&self, e: EntityId) {
        let local = self.part.local_of(e) as usize;
        if let Some(c) = self.last_counter.get(local) {
            crate::engine::prefetch(c);
        }
        for a in [&self.supply_on[..], &self.staged[..]] {
            if let Some(x) = a.get(local) {
                crate::engine::prefetch(x);
            }
        }
        for a in [&self.anchor_gen[..], &self.acb_gen[..], &self.firmware[..]] {
            if let Some(x) = a.get(local) {
                crate::engine::prefetch(x);
            }
        }
    }

    fn flaw(&self, w: &World, local: usize) -> Option<Flaw> {
        let v = w.sc.vulnerability.as_ref()?;
        (self.firmware[local] == 1).then(|| v.flaw())
    }

    /// Ground truth for a command at a meter, in the order a device checks:
    /// `Ok` if genuine, else the reason a correct device refuses it.
    fn ground_truth(
        &self,
        w: &World,
        job: &Job,
        local: usize,
        last: Option<u64>,
        flaw: Option<Flaw>,
    ) -> Result<(), Reject> {
        let skips = |c| flaw.is_some_and(|f| f.skips(c, job.msg));
        let (supplier, cred, gen) = self.cell_supplier(w, job.meter, local);
        let originator = w.originator(job.signer, job.claimed);
        // A gas meter has no remote enable: it does not know the code.
        if job.msg == MessageKind::EnableSupply && w.is_gas(job.meter) {
            return Err(Reject::NotACommand);
        }
        // The MAC verifies only under the ACB key the meter holds.
        let mac_ok = job.acb_mac && job.acb_gen == self.acb_gen[local];
        if !mac_ok && !skips(FlawCheck::Mac) {
            return Err(Reject::BadMac);
        }
        if last.is_some_and(|l| job.counter <= l) && !skips(FlawCheck::Counter) {
            return Err(Reject::Replay);
        }
        if job.msg.is_critical() {
            let from_supplier = originator == w.user_id(supplier);
            // The key of the supplier's credential for this meter's fuel: a
            // dual-fuel supplier's electricity key is no anchor of a gas meter.
            let supplier_key = job.signer == Signer::User(cred, gen) && gen < 2;
            let ok = match job.msg {
                // The ACB cell: by recovery only here (the ACB cannot sign).
                MessageKind::UpdateSecurityCredentials if job.slot == AnchorSlot::Acb => {
                    job.signer == Signer::Recovery
                }
                // The supplier cell: by its holder, recovery, or the CoS party.
                MessageKind::UpdateSecurityCredentials => {
                    matches!(job.signer, Signer::Recovery | Signer::Cos)
                        || (from_supplier && supplier_key)
                }
                _ => from_supplier && supplier_key,
            };
            if !ok {
                return Err(if from_supplier || job.signer == Signer::Recovery {
                    Reject::BadSignature
                } else {
                    Reject::WrongOriginator
                });
            }
        }
        if matches!(
            job.msg,
            MessageKind::UpdateFirmware | MessageKind::ActivateFirmware
        ) && !job.firmware_genuine
        {
            return Err(Reject::BadFirmwareSignature);
        }
        // An activation names the staged image: nothing staged, nothing to activate.
        if job.msg == MessageKind::ActivateFirmware && !self.staged[local] {
            return Err(Reject::BadFirmwareSignature);
        }
        Ok(())
    }

    /// Which counter applies to a command from `originator` at meter `m`, and its value.
    fn tracked(&self, w: &World, m: u32, local: usize, originator: u64) -> (Tracked, Option<u64>) {
        // Every originator's counter is tracked, as a device does per
        // remote party: the registered supplier's in a per-meter array, the
        // rest in a map of the (meter, originator) pairs seen.
        if originator == w.user_id(w.supplier_of(m)) {
            (Tracked::Supplier, Some(self.last_counter[local]))
        } else {
            let c = self.other_counters.get(&(local as u32, originator));
            (Tracked::Other, c.copied())
        }
    }

    /// The verdict on a command: the real device path on its bytes when
    /// this job runs cryptography, else ground truth. Also says which cell
    /// a credential update replaced and the generation of the key it
    /// installed (supplier cell: see `anchor_gen`; ACB cell: `acb_gen`).
    fn verdict(
        &mut self,
        w: &World,
        job: &Job,
        bytes: &[u8],
        z: &[u8; 32],
        truth: Result<(), Reject>,
        local: usize,
    ) -> (Result<(), Reject>, Option<(AnchorSlot, u8)>) {
        let m = job.meter;
        let supplier = self.cell_supplier(w, m, local).0;
        let originator = w.originator(job.signer, job.claimed);
        let mut dev = self.device_security(w, m, local, originator);
        let mut real = None;
        let keys = &self.keys;
        // A top-up's token is checked with the registered supplier's prepayment key.
        let pp =
            (job.msg == MessageKind::PrepaymentTopUp).then(|| w.prepayment_secret(supplier, m));
        // The signature check started ahead when the DSP sent the command
        // (`signature_ahead`), for the key of the credential that signed it.
        let ahead = match (job.signer, Verdict::for_bytes(&job.verdict, bytes)) {
            (Signer::User(c, g), Some(v)) => Some((c, g, v)),
            _ => None,
        };
        let mut verified = || {
            let (c, g, v) = ahead.expect("hinted only with a verdict");
            *v.ok.get_or(|| command_signature_ok(w, c, g, bytes))
        };
        let hint = ahead.map(|(c, g, _)| {
            let key = w.anchor_fingerprint(c, g);
            (key, &mut verified as &mut dyn FnMut() -> bool)
        });
        let accepted = w
            .policy
            .decide(job.id, truth.is_ok(), &mut self.crypto, || {
                real = Some(dev.receive_command_hinted(bytes, z, pp.as_ref(), keys, hint));
                matches!(real, Some(Ok(_)))
            });
        match real {
            Some(Ok(a)) => {
                let new_gen = match a.executed {
                    Executed::CredentialUpdated(AnchorSlot::Acb) => {
                        let fp = dev.anchors[AnchorSlot::Acb as usize].key;
                        Some((AnchorSlot::Acb, w.acb_gen_of(fp)))
                    }
                    Executed::CredentialUpdated(slot) => {
                        let fp = dev.anchors[AnchorSlot::Supplier as usize].key;
                        let c = w.supplier_cred(m);
                        let gaining = w.switch_of(m).map(|s| w.cred(s.gaining, w.fuel(m)));
                        let gen = if fp == w.anchor_fingerprint(c, 1) {
                            1
                        } else if fp == w.anchor_fingerprint(c, 0) {
                            0
                        } else if gaining.is_some_and(|g| fp == w.anchor_fingerprint(g, 0)) {
                            3
                        } else {
                            2
                        };
                        (slot == AnchorSlot::Supplier).then_some((slot, gen))
                    }
                    _ => None,
                };
                (Ok(()), new_gen)
            }
            Some(Err(r)) => (Err(r), None),
            None if accepted => (Ok(()), None),
            None => (truth, None),
        }
    }

    /// A command reaches its meter: checked, executed or refused, answered.
    pub fn deliver(&mut self, w: &World, mut job: Box<Job>, env: &mut Env<'_, '_>) {
        let now = env.now();
        let m = job.meter;
        // A gas meter (GSME) is a battery device: a command for it waits in
        // the hub's gas proxy (GPF) until the meter next makes contact.
        // Reads are answered by the GPF from its copy of the meter's data.
        if w.is_gas(m) && !job.msg.is_read() {
            let wait = gas_wake_wait_ns(w, m, now.0);
            if wait > 0 {
                if job.meter_in_ns == 0 {
                    job.meter_in_ns = now.0;
                }
                env.send_self(wait, Msg::Deliver(job));
                return;
            }
        }
        if job.meter_in_ns == 0 {
            job.meter_in_ns = now.0;
        }
        let local = self.part.local_of(w.meter0 + m) as usize;
        let originator = w.originator(job.signer, job.claimed);
        let (tracked, last) = self.tracked(w, m, local, originator);
        let flaw = self.flaw(w, local);
        let truth = self.ground_truth(w, &job, local, last, flaw);
        // The device's shared secret with the ACB, computed once per message.
        // (The device's side: its private key with the ACB key its cell holds.)
        let acb_gen = self.acb_gen[local];
        let z = w
            .policy
            .runs_crypto(job.id)
            .then(|| w.acb_secret_gen(m, acb_gen));
        let bytes = job.bytes.take();
        let (verdict, new_anchor_gen) = match &bytes {
            Some(b) => {
                let z = z.unwrap_or_else(|| w.acb_secret_gen(m, acb_gen));
                self.verdict(w, &job, b, &z, truth, local)
            }
            None => {
                // Not sampled: ground truth decides (a sampled command
                // always carries bytes, so `|| false` never decides).
                let ok = w
                    .policy
                    .decide(job.id, truth.is_ok(), &mut self.crypto, || false);
                let verdict = if ok { Ok(()) } else { truth };
                let installs = ok && job.msg == MessageKind::UpdateSecurityCredentials;
                let gen = if job.signer == Signer::Cos { 3 } else { 1 };
                (verdict, installs.then_some((job.slot, gen)))
            }
        };
        match verdict {
            Err(r) => self.refuse(&mut job, r, env),
            Ok(()) => {
                // Executed only because of the firmware's flaw: a correct
                // device would have refused it.
                if flaw.is_some() && self.ground_truth(w, &job, local, last, None).is_err() {
                    env.count(Col::Exploited, 1);
                }
                // The counter never goes back (a flawed firmware may accept a stale one).
                if last.is_none_or(|l| job.counter > l) {
                    match tracked {
                        Tracked::Supplier => self.last_counter[local] = job.counter,
                        Tracked::Other => {
                            self.other_counters
                                .insert((local as u32, originator), job.counter);
                        }
                    }
                }
                if w.sc.crypto.mode != CryptoMode::Modeled {
                    self.trace.push(TraceRec {
                        t_ns: now.0,
                        meter: m,
                        originator,
                        counter: job.counter,
                        code: job.msg.code(w.fuel(m)),
                        bytes: bytes.filter(|_| job.msg.is_critical()),
                    });
                }
                match new_anchor_gen {
                    Some((AnchorSlot::Acb, g)) => self.acb_gen[local] = g,
                    Some((_, g)) => {
                        self.anchor_gen[local] = g;
                        // (A change of supplier is not a replaced anchor.)
                        if g != 3 {
                            env.count(Col::AnchorsReplaced, 1);
                        }
                    }
                    None => {}
                }
                self.apply(w, &job, local, env);
                // The response: signed by the device (critical) or MAC'd
                // for the user the command claimed to be from.
                if z.is_some() {
                    let o = Outgoing {
                        cra: Cra::Response,
                        kind: job.msg,
                        alert: AlertKind::NonCritical,
                        fuel: w.fuel(m),
                        device: w.device_id(m),
                        recipient: w.user_id(job.claimed),
                        counter: job.counter,
                        ok: true,
                        at_s: w.clock_s(now.0),
                        registers: [w.annual_kwh(m).saturating_mul(1000), 0],
                    };
                    let resp =
                        device_message(&o, || w.device_key(m), || w.user_secret(job.claimed, m));
                    job.verdict = Dsp::check_ahead(env, m, &resp);
                    job.bytes = Some(resp.into_boxed_slice());
                }
            }
        }
        let p = &w.sc.parameters.device;
        let t = if job.msg.is_critical() {
            p.critical_process_ms
        } else {
            p.process_ms
        } + 2.0 * p.han_ms;
        env.send_self(((t * NS_PER_MS) as u64).max(1), Msg::MeterDone(job));
    }

    /// Counts a refusal.
    fn refuse(&mut self, job: &mut Job, r: Reject, env: &mut Env<'_, '_>) {
        self.refusals[r as usize] += 1;
        let col = match r {
            Reject::BadMac => Col::MeterBadMac,
            Reject::Replay => Col::MeterReplay,
            Reject::MissingSignature | Reject::WrongOriginator | Reject::BadSignature => {
                Col::MeterBadSignature
            }
            Reject::BadFirmwareSignature => Col::MeterBadFirmware,
            _ => Col::MeterOtherRefusal,
        };
        env.count(col, 1);
        job.outcome = if r == Reject::Replay {
            Outcome::Replay
        } else {
            Outcome::MeterRefused
        };
    }

    /// Acts on an executed command: supply state, firmware, and the results' counters.
    fn apply(&mut self, w: &World, job: &Job, local: usize, env: &mut Env<'_, '_>) {
        if job.msg.is_critical() {
            env.count(Col::CriticalExecuted, 1);
        }
        if job.origin == Origin::Attack {
            env.count(Col::AttackExecuted, 1);
        }
        let kwh = || w.annual_kwh(job.meter) as i64;
        match job.msg {
            MessageKind::DisableSupply if self.supply_on[local] => {
                self.supply_on[local] = false;
                env.count(Col::SupplyOff, 1);
                // Results bookkeeping only: which meters the attack switched off.
                if job.origin == Origin::Attack {
                    self.off_by_attack[local] = true;
                    env.count(Col::AttackOff, 1);
                    env.count(Col::KwhAttackOff, kwh());
                }
                // The household notices and calls its supplier.
                let call = exp_ns(
                    hash_parts(&[w.seed, job.id, job.meter as u64]),
                    w.sc.parameters.soc.customer_call_mean_min * 60e3 * NS_PER_MS,
                )
                .max(w.sc.parameters.lookahead_ns());
                env.send(w.supplier_of(job.meter), call, Msg::CustomerCall(job.meter));
            }
            MessageKind::EnableSupply if !self.supply_on[local] => {
                self.supply_on_again(w, job.meter, local, env);
            }
            // Armed: the household restores supply at the meter (opens the
            // gas valve, presses the button) after a while.
            MessageKind::ArmSupply if !self.supply_on[local] => {
                let mean_ns = w.sc.parameters.device.consumer_restore_mean_min * 60e9;
                let d = exp_ns(hash_parts(&[w.seed, job.id, 0xC0DE]), mean_ns)
                    .max(w.sc.parameters.lookahead_ns());
                env.send_self(d, Msg::ConsumerRestore(job.meter));
            }
            // Delivered (SR 11.1): staged until activated. A business-as-usual
            // rollout's image is not the fix (the model tracks only the
            // emergency fix's version), so it stages nothing the fix needs.
            MessageKind::UpdateFirmware
                if job.firmware_genuine
                    && self.firmware[local] < 2
                    && job.origin != Origin::Bau =>
            {
                self.staged[local] = true;
            }
            // Activated (SR 11.3): the fixed firmware runs (the staged image is used up).
            MessageKind::ActivateFirmware
                if std::mem::take(&mut self.staged[local]) && self.firmware[local] < 2 =>
            {
                self.firmware[local] = 2;
                env.count(Col::FirmwareFixed, 1);
            }
            _ => {}
        }
    }

    /// Supply comes back at meter `m` (enabled remotely, or restored by the
    /// household after arming).
    fn supply_on_again(&mut self, w: &World, m: u32, local: usize, env: &mut Env<'_, '_>) {
        self.supply_on[local] = true;
        env.count(Col::SupplyOn, 1);
        if std::mem::take(&mut self.off_by_attack[local]) {
            env.count(Col::AttackRestored, 1);
            let kwh = w.annual_kwh(m) as i64;
            env.count(Col::KwhAttackOff, -kwh);
            env.count(Col::KwhReconnected, kwh);
        }
    }

    /// The household of an armed meter restores supply (if still off).
    pub fn consumer_restore(&mut self, w: &World, m: u32, env: &mut Env<'_, '_>) {
        let local = self.part.local_of(w.meter0 + m) as usize;
        if !self.supply_on[local] {
            self.supply_on_again(w, m, local, env);
        }
    }

    /// The meter finished: its response goes back up the WAN (the uplink
    /// latency was drawn with the downlink's).
    pub fn done(&mut self, w: &World, mut job: Box<Job>, env: &mut Env<'_, '_>) {
        job.meter_out_ns = env.now().0;
        let r = w.region_of(job.meter);
        let up = job.wan_up_ns.max(w.sc.parameters.lookahead_ns());
        env.send(w.csp0 + r as u32, up, Msg::Uplink(job));
    }

    /// Figures for the results at the end of the run.
    pub fn totals(&mut self) -> MeterTotals {
        MeterTotals {
            crypto: self.crypto,
            trace: std::mem::take(&mut self.trace),
            refusals: self.refusals,
        }
    }
}

/// How long a command for gas meter `m` delivered at `now_ns` waits
/// for the meter's next contact with the hub: each GSME wakes every
/// `device.gas_wake_interval_s` at its own phase (a pure function of
/// the seed and the meter), so commands for one meter run in arrival
/// order at the same wake. Zero at a wake.
fn gas_wake_wait_ns(w: &World, m: u32, now_ns: u64) -> u64 {
    let interval = crate::engine::time::secs_to_ns(w.sc.parameters.device.gas_wake_interval_s);
    if interval == 0 {
        return 0;
    }
    let phase = hash_parts(&[w.seed, 0x6A5_3A4E, m as u64]) % interval;
    (interval - (now_ns % interval + interval - phase) % interval) % interval
}

/// Starts, on the run's pool, a meter's check of a critical command's
/// signature as the DSP sends the command: against the key of the command
/// credential that signed it (`Signer::User`), a pure function of the
/// bytes and that key. The meter uses the result only where its
/// authorising anchor holds that key
/// (`DeviceSecurity::receive_command_hinted`); a speed device only.
pub fn signature_ahead(env: &Env<'_, '_>, job: &Job) -> Option<Verdict> {
    let Signer::User(c, g) = job.signer else {
        return None;
    };
    if !job.msg.is_critical() {
        return None;
    }
    env.verdict_ahead(job.bytes.as_deref()?, move |w, b| {
        command_signature_ok(w, c, g, b)
    })
}

/// Whether a command's signature verifies under credential `c`'s command
/// key of generation `g`.
fn command_signature_ok(w: &World, c: u32, g: u8, bytes: &[u8]) -> bool {
    let Ok(f) = frame::parse(bytes) else {
        return false;
    };
    f.signature.is_some_and(|sig| {
        w.user_command_keys[c as usize][g as usize & 1]
            .1
            .verify_prehash(&hash_to_scalar(f.signed_part), sig)
    })
}
