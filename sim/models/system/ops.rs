//! Security operations, incident response, recovery and the attacker.
//!
//! * The DSP's (Data Service Provider's) security state: threshold anomaly
//!   detection per user per message type per window (requests over the
//!   threshold are quarantined and the SOC is told once per window),
//!   suspended users with revoked credentials, the log of disable-supply
//!   commands sent under each identity, and a SIEM (security information
//!   and event management) rule on the volume of critical device alerts.
//! * The SOC (the DCC's security operations centre): every security event
//!   is logged and triaged by one of a fixed number of analysts; anomaly
//!   quarantines and suppliers' reports of disconnections they did not
//!   order are escalated as incidents about that user, alert-volume events
//!   are categorised as operational. An incident leads, after the
//!   containment delay, to the user's suspension at the DSP.
//! * Suppliers: count customer calls about disconnections they did not
//!   order and report an incident; once contained, they get new
//!   credentials, restore supply with randomised offsets, and run the
//!   anchor-replacement and firmware campaigns.
//! * The attacker: sends what the scenario says it can, with the keys it
//!   holds; the checks elsewhere decide what happens.

use super::attack::{AttackKind, AttackSpec};
use super::model::{Job, Msg, Origin, RecoveryStep, SecurityEvent, SystemShard, MS};
use super::station::Station;
use super::timeline::Col;
use super::world::{kind_index, ReqKind, Signer, World, MANUFACTURER};
use crate::crypto::gbcs::{Body, MessageKind};
use crate::crypto::request::build_command;
use crate::engine::rng::open01;
use crate::engine::{Ctx, EntityId, SimTime};
use std::collections::{HashMap, HashSet};

/// The DSP's security state.
#[derive(Clone, Debug, Default)]
pub struct DspOps {
    /// Anomaly counters: `(user, kind index) -> (window, count, SOC told)`.
    counts: HashMap<(u32, usize), (u64, u32, bool)>,
    /// Users whose original credentials were revoked and who are suspended.
    pub suspended: Vec<bool>,
    /// Users under incident recovery (their recovery work is pre-approved).
    pub recovering: Vec<bool>,
    /// Meters that disable-supply commands were sent to, per claimed user.
    pub disabled_log: Vec<Vec<u32>>,
    /// When each user was contained, nanoseconds.
    pub contained_at: Vec<Option<u64>>,
    /// Critical-alert SIEM counter: `(window, count, raised)`.
    alerts: (u64, u64, bool),
}

impl DspOps {
    /// State for `users` users.
    pub fn new(users: u32) -> Self {
        DspOps {
            suspended: vec![false; users as usize],
            recovering: vec![false; users as usize],
            disabled_log: vec![Vec::new(); users as usize],
            contained_at: vec![None; users as usize],
            ..Default::default()
        }
    }

    /// Whether user `u`'s credentials of generation `gen` are revoked.
    pub fn revoked(&self, u: u32, gen: u8) -> bool {
        gen == 0 && self.suspended.get(u as usize).copied().unwrap_or(false)
    }

    /// Whether user `u` has already exceeded its threshold for kind `k` in
    /// the window containing `t` (so further requests will be quarantined).
    pub fn over_threshold(&self, w: &World, u: u32, k: usize, t: SimTime) -> bool {
        let a = &w.sc.parameters.anomaly;
        if !a.enabled || self.recovering[u as usize] {
            return false;
        }
        let window = t.0 / crate::engine::time::secs_to_ns(a.window_s).max(1);
        self.counts
            .get(&(u, k))
            .is_some_and(|&(win, n, _)| win == window && n >= w.thresholds[u as usize][k])
    }
}

/// The SOC's state.
pub struct SocOps {
    /// Analysts triaging security events.
    pub analysts: Station<(SecurityEvent, u64)>,
    /// Events logged: anomaly, customer reports, alert volume.
    pub logged: [u64; 3],
    /// Events categorised as operational (not an attack).
    pub operational: u64,
    /// Users an incident was escalated about, in order.
    pub escalated: Vec<u32>,
    /// First escalation, nanoseconds.
    pub first_escalation: Option<u64>,
}

impl SocOps {
    /// An SOC with `analysts` analysts.
    pub fn new(analysts: u32) -> Self {
        SocOps {
            analysts: Station::new(analysts),
            logged: [0; 3],
            operational: 0,
            escalated: Vec::new(),
            first_escalation: None,
        }
    }
}

/// A supplier's incident and recovery state.
#[derive(Clone, Debug, Default)]
pub struct SupplierOps {
    /// Credential generation in use (1 after reissue).
    pub cred_gen: u8,
    /// Meters this supplier itself ordered off.
    pub ordered_off: HashSet<u32>,
    /// Calls about disconnections it did not order.
    pub unexplained_calls: u32,
    /// Whether it reported an incident.
    pub reported: bool,
    /// Meters whose anchor was replaced (their commands use the new key).
    pub replaced: HashSet<u32>,
    /// Progress of the anchor and firmware campaigns.
    pub anchor_next: u32,
    /// Next meter of the firmware campaign.
    pub firmware_next: u32,
    /// Restorations scheduled.
    pub restores: u32,
}

/// A firmware image body: signed by the manufacturer (`genuine`) or by the attacker.
pub fn firmware_body(w: &World, genuine: bool) -> Body {
    w.firmware_bodies[usize::from(!genuine)].clone()
}

/// The two firmware bodies a run uses: the manufacturer's fix, and an image
/// signed by the attacker's own key.
pub fn make_firmware_bodies(
    manufacturer: &crate::crypto::SigningKey,
    attacker: &crate::crypto::SigningKey,
) -> [Body; 2] {
    use sha2::{Digest, Sha256};
    let image_hash: [u8; 32] = Sha256::digest(b"dccsim emergency firmware v2").into();
    let signed = crate::crypto::gbcs::firmware_signed_bytes(MANUFACTURER, 2, &image_hash);
    let body = |k: &crate::crypto::SigningKey| Body::Firmware {
        manufacturer: MANUFACTURER,
        version: 2,
        image_hash,
        signature: k.sign(&signed),
    };
    [body(manufacturer), body(attacker)]
}

impl SystemShard {
    fn attack(&self) -> Option<&AttackSpec> {
        self.w.attack.as_ref()
    }

    fn attack_window(&self, kind: AttackKind) -> Option<(u64, u64)> {
        let a = self.attack().filter(|a| a.kind == kind)?;
        let start = self.w.attack_start_ns()?;
        Some((start, start + crate::engine::time::secs_to_ns(a.duration_s)))
    }

    /// When the DSP is down (its primary data centre lost), when it is back.
    pub(crate) fn dsp_down_until(&self, now: SimTime) -> Option<u64> {
        let (s, e) = self.attack_window(AttackKind::DspOutage)?;
        (now.0 >= s && now.0 < e).then_some(e)
    }

    /// A compromised CSP's drop probability and mean extra delay (ns) now.
    pub(crate) fn tamper(&self, r: usize, now: SimTime) -> (f64, f64) {
        match (self.attack_window(AttackKind::CspTamper), self.attack()) {
            (Some((s, e)), Some(a)) if a.region as usize == r && now.0 >= s && now.0 < e => {
                (a.drop_share, a.delay_mean_s * 1e9)
            }
            _ => (0.0, 0.0),
        }
    }

    /// Whether a replaying attacker on region `r`'s WAN records this command.
    pub(crate) fn capturing(&self, r: usize, job: &Job, now: SimTime) -> bool {
        let Some(a) = self.attack().filter(|a| a.kind == AttackKind::Replay) else {
            return false;
        };
        let cap = if a.targets == 0 { 1000 } else { a.targets } as usize;
        self.w.attack_start_ns().is_some_and(|s| now.0 < s)
            && job.claimed == a.victim
            && job.origin == Origin::Bau
            && job.msg.is_critical()
            && self.captured[r].len() < cap.div_ceil(3)
    }

    /// Anomaly detection at the DSP: counts the request, and says whether
    /// it is over the user's threshold (quarantine). The SOC is told once
    /// per user, type and window.
    pub(crate) fn anomaly_check(
        &mut self,
        u: u32,
        msg: MessageKind,
        now: SimTime,
        ctx: &mut Ctx<'_, Msg>,
    ) -> bool {
        let w = self.w.clone();
        let a = &w.sc.parameters.anomaly;
        if !a.enabled || self.dsp_ops.recovering[u as usize] {
            return false;
        }
        let k = kind_index(msg);
        let window = now.0 / crate::engine::time::secs_to_ns(a.window_s).max(1);
        let e = self
            .dsp_ops
            .counts
            .entry((u, k))
            .or_insert((window, 0, false));
        if e.0 != window {
            *e = (window, 0, false);
        }
        e.1 = e.1.saturating_add(1);
        if e.1 <= w.thresholds[u as usize][k] {
            return false;
        }
        if !e.2 {
            e.2 = true;
            ctx.send(
                w.soc,
                w.sc.parameters.lookahead_ns(),
                Msg::Security(SecurityEvent::Anomaly(u)),
            );
        }
        true
    }

    /// The SIEM rule on critical device alerts: one event per window over the threshold.
    pub(crate) fn alert_volume(&mut self, now: SimTime, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        let s = &w.sc.parameters.soc;
        let window = now.0 / crate::engine::time::secs_to_ns(s.alert_volume_window_s).max(1);
        let a = &mut self.dsp_ops.alerts;
        if a.0 != window {
            *a = (window, 0, false);
        }
        a.1 += 1;
        let threshold = (s.alert_volume_factor * w.expected_critical_alerts)
            .max(w.sc.parameters.anomaly.threshold_min as f64);
        if a.1 as f64 > threshold && !a.2 {
            a.2 = true;
            ctx.send(
                w.soc,
                w.sc.parameters.lookahead_ns(),
                Msg::Security(SecurityEvent::AlertVolume),
            );
        }
    }

    /// A security event reaches the SOC: logged, and queued for an analyst.
    pub(crate) fn soc_event(&mut self, e: SecurityEvent, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        let soc = self.soc.as_mut().expect("SOC shard");
        soc.logged[match e {
            SecurityEvent::Anomaly(_) => 0,
            SecurityEvent::CustomerReports(_) => 1,
            SecurityEvent::AlertVolume => 2,
        }] += 1;
        let started = soc.analysts.arrive(now, (e, now.0));
        let q = soc.analysts.queue_len();
        self.series[4].note(now, q, true);
        if let Some((e, raised)) = started {
            self.soc_start(e, raised, ctx);
        }
    }

    fn soc_start(&mut self, e: SecurityEvent, raised: u64, ctx: &mut Ctx<'_, Msg>) {
        let t = self.exp_ms(self.w.soc, self.w.sc.parameters.soc.triage_mean_min * 60e3);
        ctx.send_self(t.max(1), Msg::TriageDone(e, raised));
    }

    /// An analyst categorised an event: incidents about a user are escalated
    /// and, with incident response on, lead to containment.
    pub(crate) fn soc_triaged(&mut self, e: SecurityEvent, _raised: u64, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        let w = self.w.clone();
        let soc = self.soc.as_mut().expect("SOC shard");
        if let Some(((e2, r2), _)) = soc.analysts.finish(now) {
            self.soc_start(e2, r2, ctx);
        }
        let soc = self.soc.as_mut().expect("SOC shard");
        let user = match e {
            SecurityEvent::Anomaly(u) | SecurityEvent::CustomerReports(u) => u,
            SecurityEvent::AlertVolume => {
                soc.operational += 1;
                return;
            }
        };
        if soc.escalated.contains(&user) {
            return;
        }
        soc.escalated.push(user);
        soc.first_escalation.get_or_insert(now.0);
        let r = &w.sc.parameters.response;
        if r.enabled {
            let d = crate::engine::time::secs_to_ns(r.contain_after_escalation_min * 60.0)
                .max(w.sc.parameters.lookahead_ns());
            ctx.send(w.dsp, d, Msg::Contain(user));
        }
    }

    /// Containment at the DSP: suspend the user, revoke its certificate,
    /// block its traffic; a supplier is told which meters were disabled
    /// under its identity.
    pub(crate) fn dsp_contain(&mut self, u: u32, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        let ops = &mut self.dsp_ops;
        if ops.suspended[u as usize] {
            return;
        }
        ops.suspended[u as usize] = true;
        ops.recovering[u as usize] = true;
        ops.contained_at[u as usize] = Some(now.0);
        if u < self.w.suppliers {
            let mut log = std::mem::take(&mut ops.disabled_log[u as usize]);
            log.sort_unstable();
            log.dedup();
            let d = self.user_link_ns(self.w.dsp);
            ctx.send(u, d, Msg::Contained(log));
        }
    }

    /// A contained supplier: new credentials, then restoration with
    /// randomised offsets, then the campaigns.
    pub(crate) fn supplier_contained(
        &mut self,
        me: EntityId,
        log: Vec<u32>,
        ctx: &mut Ctx<'_, Msg>,
    ) {
        let w = self.w.clone();
        let r = &w.sc.parameters.response;
        let sup = &mut self.suppliers[me as usize];
        sup.cred_gen = 1;
        let restore: Vec<u32> = log
            .into_iter()
            .filter(|m| !sup.ordered_off.contains(m))
            .collect();
        sup.restores = restore.len() as u32;
        let after = r.restore_after_contain_min * 60e3 * MS;
        let spread = r.restore_spread_min * 60e3 * MS;
        for m in restore {
            let off = open01(self.bits(me)) * spread;
            ctx.send_self(
                (after + off) as u64 + 1,
                Msg::Recover(RecoveryStep::Enable(m)),
            );
        }
        let campaigns = (after + spread) as u64 + 60_000_000_000;
        if r.replace_anchors {
            ctx.send_self(campaigns, Msg::Recover(RecoveryStep::AnchorNext));
        }
        if r.firmware_fix {
            ctx.send_self(campaigns, Msg::Recover(RecoveryStep::FirmwareNext));
        }
    }

    /// A household without supply calls its supplier.
    pub(crate) fn customer_call(&mut self, me: EntityId, m: u32, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        let sup = &mut self.suppliers[me as usize];
        if sup.ordered_off.contains(&m) || sup.reported {
            return;
        }
        sup.unexplained_calls += 1;
        if sup.unexplained_calls >= w.sc.parameters.soc.customer_reports_to_incident {
            sup.reported = true;
            let d = self.user_link_ns(me);
            ctx.send(w.soc, d, Msg::Security(SecurityEvent::CustomerReports(me)));
        }
    }

    /// A supplier's recovery job to the DSP.
    fn recovery_job(
        &mut self,
        u: EntityId,
        msg: MessageKind,
        meter: u32,
        signer: Signer,
        origin: Origin,
        ctx: &mut Ctx<'_, Msg>,
    ) {
        let w = self.w.clone();
        let seq = self.seq[u as usize];
        self.seq[u as usize] += 1;
        let id = (ReqKind::Recovery as u64) << 56 | (u as u64) << 40 | seq;
        let mut job = Job::new(id, ReqKind::Recovery, msg, u, u, meter, ctx.now().0, origin);
        job.cred_gen = self.suppliers[u as usize].cred_gen;
        job.signer = signer;
        let key = &w.user_request_keys[u as usize][job.cred_gen as usize].0;
        job.bytes = Self::request_bytes(&w, &job, key);
        self.stats[u as usize][ReqKind::Recovery as usize].sent += 1;
        if msg.is_critical() {
            self.timeline.add(ctx.now(), Col::CriticalSent, 1);
        }
        let d = self.user_link_ns(u);
        ctx.send(w.dsp, d, Msg::Request(job));
    }

    /// A supplier's scheduled recovery step.
    pub(crate) fn recover(&mut self, me: EntityId, step: RecoveryStep, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        let r = &w.sc.parameters.response;
        match step {
            RecoveryStep::Enable(m) => {
                let gen = u8::from(self.suppliers[me as usize].replaced.contains(&m));
                self.recovery_job(
                    me,
                    MessageKind::EnableSupply,
                    m,
                    Signer::User(me, gen),
                    Origin::Restore,
                    ctx,
                );
            }
            RecoveryStep::AnchorNext | RecoveryStep::FirmwareNext => {
                let anchors = step == RecoveryStep::AnchorNext;
                let sup = &mut self.suppliers[me as usize];
                let k = if anchors {
                    &mut sup.anchor_next
                } else {
                    &mut sup.firmware_next
                };
                if *k >= w.meters_of(me) {
                    return;
                }
                let meter = w.nth_meter_of(me, *k);
                *k += 1;
                let (msg, signer, origin, rate) = if anchors {
                    (
                        MessageKind::UpdateSecurityCredentials,
                        Signer::Recovery,
                        Origin::Anchor,
                        r.anchor_updates_per_s,
                    )
                } else {
                    (
                        MessageKind::UpdateFirmware,
                        Signer::None,
                        Origin::Firmware,
                        r.firmware_updates_per_s,
                    )
                };
                self.recovery_job(me, msg, meter, signer, origin, ctx);
                ctx.send_self(((1e9 / rate) as u64).max(1), Msg::Recover(step));
            }
        }
    }

    /// The attacker's next action (or a compromised CSP's, for replay and
    /// alert storms, which happen on the WAN).
    pub(crate) fn attack_tick(&mut self, me: EntityId, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        let Some(a) = w.attack.clone() else {
            return;
        };
        let now = ctx.now();
        if me != w.attacker {
            let r = (me - w.csp0) as usize;
            match a.kind {
                AttackKind::Replay => {
                    let jobs = std::mem::take(&mut self.captured[r]);
                    let gap = (3e9 / a.rate_per_s) as u64;
                    for (i, mut job) in jobs.into_iter().enumerate() {
                        job.kind = ReqKind::Attack;
                        job.origin = Origin::Attack;
                        job.user = w.attacker;
                        job.created = now.0 + i as u64 * gap;
                        job.attempts = 0;
                        job.dsp_in = 0;
                        job.dsp_out = 0;
                        self.timeline.add(SimTime(job.created), Col::AttackSent, 1);
                        ctx.send_self(i as u64 * gap + 1, Msg::Retry(job));
                    }
                }
                AttackKind::AlertStorm => {
                    let (lo, hi) = (w.region_bounds[r], w.region_bounds[r + 1]);
                    let n = ((hi - lo) as f64 * a.storm_share).round() as u64;
                    let span = (hi - lo) as u64;
                    for i in 0..n {
                        let meter = lo + (i * span / n.max(1)) as u32;
                        let delay = (open01(self.bits(me)) * a.storm_spread_s * 1e9) as u64;
                        self.send_alert(r, meter, true, now, delay, ctx);
                    }
                }
                _ => {}
            }
            return;
        }
        let v = a.victim;
        let (msg, targets) = match a.kind {
            AttackKind::Disconnect => (MessageKind::DisableSupply, w.meters_of(v)),
            AttackKind::Firmware => (MessageKind::UpdateFirmware, w.meters_of(v)),
            AttackKind::Flood => (MessageKind::ReadInstantaneous, u32::MAX),
            _ => return,
        };
        let targets = if a.targets == 0 {
            targets
        } else {
            a.targets.min(targets)
        };
        let k = self.attack_sent;
        let end = w.attack_start_ns().unwrap_or(0) + crate::engine::time::secs_to_ns(a.duration_s);
        if k >= targets as u64 || (a.kind == AttackKind::Flood && now.0 >= end) {
            return;
        }
        self.attack_sent += 1;
        let meter = if a.kind == AttackKind::Flood {
            let pick = self.bits(me);
            let n = w.meters_of(v);
            w.nth_meter_of(v, (((pick >> 32) * n as u64) >> 32) as u32)
        } else {
            w.nth_meter_of(v, k as u32)
        };
        let id = (ReqKind::Attack as u64) << 56 | (me as u64) << 40 | k;
        let mut job = Job::new(
            id,
            ReqKind::Attack,
            msg,
            me,
            v,
            meter,
            now.0,
            Origin::Attack,
        );
        job.signer = if !msg.is_critical() {
            Signer::None
        } else if a.command_key {
            Signer::User(v, 0)
        } else {
            Signer::Attacker
        };
        job.request_genuine = a.user_access;
        job.firmware_genuine = a.kind != AttackKind::Firmware;
        self.stats[me as usize][ReqKind::Attack as usize].sent += 1;
        self.timeline.add(now, Col::AttackSent, 1);
        if msg.is_critical() {
            self.timeline.add(now, Col::CriticalSent, 1);
        }
        if a.via_dcc() {
            let key = if a.user_access {
                &w.user_request_keys[v as usize][0].0
            } else {
                &w.attacker_key.0
            };
            job.bytes = Self::request_bytes(&w, &job, key);
            let d = self.user_link_ns(me);
            ctx.send(w.dsp, d, Msg::Request(job));
        } else {
            // Straight onto the WAN: the attacker makes the whole command.
            job.acb_mac = a.acb_key;
            if w.policy.runs_crypto(job.id) {
                let z = if a.acb_key {
                    w.acb_secret(meter)
                } else {
                    w.attacker_secret(meter)
                };
                job.bytes = Some(
                    build_command(
                        msg,
                        w.originator(job.signer, v),
                        w.device_id(meter),
                        job.counter,
                        &Self::body_of(&w, &job),
                        w.signing_key(job.signer),
                        Some(&z),
                    )
                    .into_boxed_slice(),
                );
            }
            let r = w.region_of(meter);
            let d = self.dsp_to_csp_ns(me);
            ctx.send(w.csp0 + r as u32, d, Msg::Downlink(job));
        }
        ctx.send_self(((1e9 / a.rate_per_s) as u64).max(1), Msg::AttackTick);
    }
}
