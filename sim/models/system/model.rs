//! The system's entities and how they handle messages.
//!
//! ```text
//!  user --Request--> DSP --Downlink--> CSP --Deliver--> meter
//!   ^                 |  (station)      |  (station,      | (HAN + processing)
//!   +----Complete-----+<---Response-----+<----Uplink------+
//!                     ^  |              ^
//!                     |  +--events--> SOC (security operations)
//!                     +--- alerts ------+ (CSP-generated per region)
//! ```
//!
//! Entities: DCC users (suppliers, then other users), the attacker, the DSP
//! (Data Service Provider, with the ACB: access control broker), the SOC
//! (the DCC's security operations centre), three CSPs (communications
//! service providers: north, central, south) and the meters (each a
//! communications hub with its electricity meter, ESME, or gas meter, GSME).
//!
//! This file holds the message flow of business as usual; `ops.rs` holds
//! security operations, incident response, recovery and the attacker.

use super::latency::Latency;
use super::ops::{DspOps, SocOps, SupplierOps};
use super::station::Station;
use super::timeline::{Col, Timeline, TraceRec};
use super::world::{kind_index, ReqKind, Signer, World, MANUFACTURER, RECOVERY_ID};
use crate::crypto::device::{Anchor, AnchorSlot, DeviceSecurity, Reject, ANCHOR_SLOTS};
use crate::crypto::ecdsa::hash_to_scalar;
use crate::crypto::gbcs::{self, Body, Cra, MessageKind};
use crate::crypto::mac::{derive_mac_key, mac_ok, MacMode};
use crate::crypto::mode::{CryptoCounters, CryptoMode};
use crate::crypto::registry::KeyRegistry;
use crate::crypto::request::{build_command, role_may_send, ServiceRequest};
use crate::engine::rng::{exp_ns, open01, StreamFamily};
use crate::engine::{Ctx, EntityId, Event, Partition, ShardModel, SimTime};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Arc;

/// Outcome codes carried back to the user.
pub const OUTCOMES: [&str; 9] = [
    "ok",
    "dsp_bad_signature",
    "dsp_not_authorised",
    "dsp_quarantined",
    "dsp_user_suspended",
    "meter_refused",
    "replay",
    "wan_timeout",
    "response_bad_auth",
];

/// Index of each outcome in [`OUTCOMES`].
#[allow(missing_docs)]
pub mod outcome {
    pub const OK: u8 = 0;
    pub const DSP_BAD_SIGNATURE: u8 = 1;
    pub const DSP_NOT_AUTHORISED: u8 = 2;
    pub const DSP_QUARANTINED: u8 = 3;
    pub const DSP_USER_SUSPENDED: u8 = 4;
    pub const METER_REFUSED: u8 = 5;
    pub const REPLAY: u8 = 6;
    pub const WAN_TIMEOUT: u8 = 7;
    pub const RESPONSE_BAD_AUTH: u8 = 8;
}

/// Why a job exists (for results only: no decision reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Business-as-usual traffic.
    Bau,
    /// The attacker's.
    Attack,
    /// The legitimate supplier restoring supply.
    Restore,
    /// The anchor-replacement campaign.
    Anchor,
    /// The emergency firmware campaign.
    Firmware,
}

/// A request (or alert) and its timestamps as it moves through the system.
#[derive(Clone, Debug)]
pub struct Job {
    /// Unique id (entity in the top bits, sequence below).
    pub id: u64,
    /// The row of the summary it counts in.
    pub kind: ReqKind,
    /// The GBCS message it becomes.
    pub msg: MessageKind,
    /// The entity that receives the completion (for alerts: the CSP entity).
    pub user: EntityId,
    /// The user identity the request presents (index).
    pub claimed: u32,
    /// Which of the claimed user's credentials it presents (0 original, 1 reissued).
    pub cred_gen: u8,
    /// Who signs the device command.
    pub signer: Signer,
    /// Ground truth: the request's signature is the claimed user's.
    pub request_genuine: bool,
    /// Ground truth: the command carries the ACB's genuine MAC.
    pub acb_mac: bool,
    /// Ground truth: a firmware image in the command is the manufacturer's.
    pub firmware_genuine: bool,
    /// Why the job exists.
    pub origin: Origin,
    /// Meter index (not entity).
    pub meter: u32,
    /// The originator counter the command carries.
    pub counter: u64,
    /// Creation and hop times, nanoseconds.
    pub created: u64,
    /// Arrival at the DSP.
    pub dsp_in: u64,
    /// Departure from the DSP towards the CSP.
    pub dsp_out: u64,
    /// Arrival at the meter.
    pub meter_in: u64,
    /// Departure from the meter.
    pub meter_out: u64,
    /// WAN latency drawn for the uplink.
    pub wan_up_ns: u64,
    /// Transmission attempts so far.
    pub attempts: u8,
    /// Index into [`OUTCOMES`].
    pub outcome: u8,
    /// The message bytes when this job runs real cryptography.
    pub bytes: Option<Box<[u8]>>,
    /// The ACB's shared secret with the meter, kept by the DSP side from
    /// building the command to checking the response (the ACB computes it
    /// once per exchange, as it would cache it per device).
    pub acb_z: Option<[u8; 32]>,
}

impl Job {
    /// A fresh job with no hop times yet.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        kind: ReqKind,
        msg: MessageKind,
        user: EntityId,
        claimed: u32,
        meter: u32,
        created: u64,
        origin: Origin,
    ) -> Job {
        Job {
            id,
            kind,
            msg,
            user,
            claimed,
            cred_gen: 0,
            signer: Signer::None,
            request_genuine: true,
            acb_mac: true,
            firmware_genuine: true,
            origin,
            meter,
            counter: (created << 6) | (id >> 56 & 0x3f),
            created,
            dsp_in: 0,
            dsp_out: 0,
            meter_in: 0,
            meter_out: 0,
            wan_up_ns: 0,
            attempts: 0,
            outcome: outcome::OK,
            bytes: None,
            acb_z: None,
        }
    }
}

/// A security event for the SOC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityEvent {
    /// The DSP quarantined a user's requests over a threshold.
    Anomaly(u32),
    /// A supplier reports disconnections it did not order.
    CustomerReports(u32),
    /// Critical device alerts over the SIEM volume rule in a region.
    AlertVolume,
}

/// Messages between entities.
#[derive(Clone, Debug)]
pub enum Msg {
    /// A user's next request of one type.
    Generate(ReqKind),
    /// A CSP's next alert from its region.
    AlertTick,
    /// User to DSP.
    Request(Job),
    /// A DSP worker finished a job (request or response leg).
    DspDone(Job, bool),
    /// DSP to CSP.
    Downlink(Job),
    /// A CSP finished transmitting.
    AirtimeDone(Job),
    /// A CSP resends after a timeout.
    Retry(Job),
    /// CSP to meter.
    Deliver(Job),
    /// A meter finished processing.
    MeterDone(Job),
    /// Meter (or, for alerts, the CSP on its behalf) to CSP.
    Uplink(Job),
    /// CSP to DSP.
    Response(Job),
    /// DSP to user.
    Complete(Job),
    /// To the SOC.
    Security(SecurityEvent),
    /// An SOC analyst finished triaging.
    TriageDone(SecurityEvent, u64),
    /// SOC to DSP: suspend this user and revoke its certificate.
    Contain(u32),
    /// DSP to supplier: you were contained; the meters disabled under your identity.
    Contained(Vec<u32>),
    /// A household without supply calls its supplier.
    CustomerCall(u32),
    /// A supplier's scheduled recovery step.
    Recover(RecoveryStep),
    /// The attacker's (or a compromised party's) next action.
    AttackTick,
}

/// A supplier's recovery work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryStep {
    /// Re-enable supply to a meter.
    Enable(u32),
    /// Send the next anchor replacement.
    AnchorNext,
    /// Send the next firmware image.
    FirmwareNext,
}

/// What the DSP's parallel prepare pass computed for a job.
pub struct Prep {
    /// Whether the request's or response's authentication verified.
    pub ok: bool,
    /// The device command built for a verified request, and the ACB secret it used.
    pub command: Option<(Box<[u8]>, [u8; 32])>,
}

/// Per request type counters, kept by users (requests) and the DSP (alerts).
#[derive(Clone, Debug, Default)]
pub struct KindStats {
    /// Sent.
    pub sent: u64,
    /// Completed, by outcome.
    pub outcomes: [u64; OUTCOMES.len()],
    /// End-to-end latency of successful ones.
    pub end_to_end: Latency,
    /// Per hop: user->DSP, DSP, DSP->meter (WAN down), meter, meter->user (return).
    pub hops: [Latency; 5],
}

/// Hop names, in [`KindStats::hops`] order.
pub const HOPS: [&str; 5] = ["user_to_dsp", "dsp", "wan_down", "device", "return"];

/// A station's per-minute figures.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Arrivals per minute.
    pub arrivals: Vec<u64>,
    /// Longest queue per minute.
    pub queue_max: Vec<u64>,
}

impl Series {
    pub(crate) fn note(&mut self, now: SimTime, queue: usize, arrival: bool) {
        let m = (now.0 / 60_000_000_000) as usize;
        if self.arrivals.len() <= m {
            self.arrivals.resize(m + 1, 0);
            self.queue_max.resize(m + 1, 0);
        }
        if arrival {
            self.arrivals[m] += 1;
        }
        self.queue_max[m] = self.queue_max[m].max(queue as u64);
    }
}

/// Per-meter state of the meters a shard owns (by local index).
#[derive(Default)]
pub(crate) struct Meters {
    /// Last counter accepted from the registered supplier.
    pub last_counter: Vec<u64>,
    /// Last counters from other originators that hold anchors (recovery).
    pub other_counters: HashMap<(u32, u64), u64>,
    /// Supply on.
    pub supply_on: Vec<bool>,
    /// Off because of the attack (for results only).
    pub off_by_attack: Vec<bool>,
    /// Supplier anchor: 0 original key, 1 the replacement, 2 some other key.
    pub anchor_gen: Vec<u8>,
    /// Firmware version.
    pub firmware: Vec<u8>,
}

/// One shard of the system.
pub struct SystemShard {
    pub(crate) w: Arc<World>,
    pub(crate) part: Partition,
    rng: StreamFamily,
    /// Stream positions of the non-meter entities this shard owns (by entity).
    rng_pos: Vec<u64>,
    /// Request sequence numbers of users (by entity).
    pub(crate) seq: Vec<u64>,
    /// Stats of users and the attacker (by entity), alerts at the DSP in slot `dsp`.
    pub(crate) stats: Vec<Vec<KindStats>>,
    /// The DSP's worker pool, if this shard owns the DSP.
    pub(crate) dsp: Option<Station<(Job, bool)>>,
    /// The DSP's security state (anomaly counters, suspensions, logs).
    pub(crate) dsp_ops: DspOps,
    /// The SOC, if this shard owns it.
    pub(crate) soc: Option<SocOps>,
    /// Suppliers' incident and recovery state (by supplier index; only owned ones used).
    pub(crate) suppliers: Vec<SupplierOps>,
    /// The CSPs' transmission capacity (by region), where owned.
    pub(crate) csp: [Option<Station<Job>>; 3],
    /// Commands captured on the WAN by a replaying attacker (by region).
    pub(crate) captured: [Vec<Job>; 3],
    /// Per-minute series: DSP, then CSPs, then the SOC.
    pub(crate) series: [Series; 5],
    pub(crate) meters: Meters,
    /// Keys meters' anchors refer to.
    pub(crate) keys: Arc<KeyRegistry>,
    /// Crypto decisions made in this shard.
    pub(crate) crypto: CryptoCounters,
    /// Per-second counters.
    pub(crate) timeline: Timeline,
    /// Commands meters executed (for the checker), when crypto runs.
    pub(crate) trace: Vec<TraceRec>,
    /// Meter refusals by reason.
    pub(crate) refusals: [u64; 12],
    /// Attacker's progress (commands sent).
    pub(crate) attack_sent: u64,
}

pub(crate) const MS: f64 = 1e6;

/// Meter refusal reasons, in [`SystemShard::refusals`] order.
pub const REFUSALS: [&str; 12] = [
    "malformed",
    "wrong_recipient",
    "not_a_command",
    "bad_mac",
    "replay",
    "missing_signature",
    "wrong_originator",
    "bad_signature",
    "bad_credential_update",
    "bad_firmware_signature",
    "too_many_originators",
    "other",
];

fn refusal_index(r: Reject) -> usize {
    match r {
        Reject::Malformed => 0,
        Reject::WrongRecipient => 1,
        Reject::NotACommand => 2,
        Reject::BadMac => 3,
        Reject::Replay => 4,
        Reject::MissingSignature => 5,
        Reject::WrongOriginator => 6,
        Reject::BadSignature => 7,
        Reject::BadCredentialUpdate => 8,
        Reject::BadFirmwareSignature => 9,
        Reject::TooManyOriginators => 10,
    }
}

impl SystemShard {
    /// A shard of the system model.
    pub fn new(w: Arc<World>, keys: Arc<KeyRegistry>, shard: u32, part: Partition) -> Self {
        let locals = part.entities_in_shard(shard) as usize;
        let n_fixed = w.meter0 as usize;
        let owns = |e: u32| part.shard_of(e) == shard;
        SystemShard {
            rng: StreamFamily::new(w.seed, "system"),
            rng_pos: vec![0; n_fixed],
            seq: vec![0; n_fixed],
            // Histograms are large (about 250 KiB each): only for the users,
            // the attacker and the DSP that this shard owns.
            stats: (0..n_fixed as u32)
                .map(|e| {
                    if owns(e) && e <= w.dsp {
                        vec![KindStats::default(); ReqKind::ALL.len()]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            dsp: owns(w.dsp).then(|| Station::new(w.sc.parameters.dsp.workers)),
            dsp_ops: DspOps::new(w.users),
            soc: owns(w.soc).then(|| SocOps::new(w.sc.parameters.soc.analysts)),
            suppliers: (0..w.suppliers).map(|_| SupplierOps::default()).collect(),
            csp: std::array::from_fn(|r| {
                let c = &w.sc.parameters.csp;
                let cap = [c.north_concurrent, c.central_concurrent, c.south_concurrent][r];
                owns(w.csp0 + r as u32).then(|| Station::new(cap))
            }),
            captured: Default::default(),
            series: Default::default(),
            meters: Meters {
                last_counter: vec![0; locals],
                other_counters: HashMap::new(),
                supply_on: vec![true; locals],
                off_by_attack: vec![false; locals],
                anchor_gen: vec![0; locals],
                firmware: vec![1; locals],
            },
            keys,
            crypto: CryptoCounters::default(),
            timeline: Timeline::default(),
            trace: Vec::new(),
            refusals: [0; 12],
            attack_sent: 0,
            w,
            part,
        }
    }

    /// Draws 64 random bits for a non-meter entity.
    pub(crate) fn bits(&mut self, e: EntityId) -> u64 {
        let mut r = self.rng.at(e as u64, self.rng_pos[e as usize]);
        let x = r.next_u64();
        self.rng_pos[e as usize] = r.get_word_pos() as u64;
        x
    }

    pub(crate) fn exp_ms(&mut self, e: EntityId, mean_ms: f64) -> u64 {
        let b = self.bits(e);
        exp_ns(b, mean_ms * MS)
    }

    /// Requests per second of `kind` from user `u` at time `t` (for thinning: also the maximum).
    fn rate(&self, u: EntityId, kind: ReqKind, t: SimTime) -> (f64, f64) {
        let tr = &self.w.sc.parameters.traffic;
        let meters_of_user = if u < self.w.suppliers {
            self.w.meters_of(u) as f64
        } else {
            self.w.meters as f64 / (self.w.users - self.w.suppliers).max(1) as f64
        };
        let day = 86_400.0;
        let hour = ((t.as_secs_f64() + self.w.clock0_s) % day) / 3600.0;
        // Daytime profile: a raised cosine peaking at 18:00 with the given peak/mean ratio.
        let peak = tr.daytime_profile_peak_ratio;
        let profile = 1.0 + (peak - 1.0) * ((hour - 18.0) / 24.0 * std::f64::consts::TAU).cos();
        let base = |per_day: f64| meters_of_user * per_day / day;
        match kind {
            ReqKind::ScheduledRead => {
                let (s, e) = (
                    tr.scheduled_read_window_start_h,
                    tr.scheduled_read_window_end_h,
                );
                let r = meters_of_user * tr.scheduled_reads_per_meter_day / ((e - s) * 3600.0);
                (if hour >= s && hour < e { r } else { 0.0 }, r)
            }
            ReqKind::OnDemandRead => (
                base(tr.on_demand_reads_per_meter_day) * profile,
                base(tr.on_demand_reads_per_meter_day) * (2.0 * peak - 1.0),
            ),
            ReqKind::PrepaymentTopUp => (
                base(tr.prepayment_topups_per_meter_day) * profile,
                base(tr.prepayment_topups_per_meter_day) * (2.0 * peak - 1.0),
            ),
            ReqKind::TariffUpdate => (
                base(tr.tariff_updates_per_meter_day),
                base(tr.tariff_updates_per_meter_day),
            ),
            ReqKind::CriticalCommand => (
                base(tr.critical_background_per_meter_day),
                base(tr.critical_background_per_meter_day),
            ),
            ReqKind::Other => (base(tr.other_per_meter_day), base(tr.other_per_meter_day)),
            _ => (0.0, 0.0),
        }
    }

    /// The kinds a user generates.
    pub fn streams_of(w: &World, u: EntityId) -> &'static [ReqKind] {
        if u < w.suppliers {
            &[
                ReqKind::ScheduledRead,
                ReqKind::OnDemandRead,
                ReqKind::PrepaymentTopUp,
                ReqKind::TariffUpdate,
                ReqKind::CriticalCommand,
            ]
        } else {
            &[ReqKind::Other]
        }
    }

    /// Schedules user `u`'s next request of `kind` after `now` (Poisson by thinning).
    fn schedule_next(&mut self, u: EntityId, kind: ReqKind, ctx: &mut Ctx<'_, Msg>) {
        let (_, max) = self.rate(u, kind, ctx.now());
        if max <= 0.0 {
            return;
        }
        let gap = exp_ns(self.bits(u), 1e9 / max).max(1);
        ctx.send_self(gap, Msg::Generate(kind));
    }

    pub(crate) fn user_link_ns(&mut self, e: EntityId) -> u64 {
        let p = &self.w.sc.parameters.user_link;
        let (min, extra) = (p.min_ms, p.mean_extra_ms);
        (min * MS) as u64 + self.exp_ms(e, extra)
    }

    pub(crate) fn dsp_to_csp_ns(&mut self, e: EntityId) -> u64 {
        let p = &self.w.sc.parameters.dsp;
        let (min, extra) = (p.to_csp_min_ms, p.to_csp_mean_extra_ms);
        (min * MS) as u64 + self.exp_ms(e, extra)
    }

    /// A lognormal WAN latency for region `r`, at least the lookahead.
    pub(crate) fn wan_ns(&mut self, e: EntityId, r: usize) -> u64 {
        let c = &self.w.sc.parameters.csp;
        let median = [
            c.north_wan_median_ms,
            c.central_wan_median_ms,
            c.south_wan_median_ms,
        ][r];
        let sigma = c.wan_sigma;
        // Box-Muller from two draws.
        let (a, b) = (open01(self.bits(e)), open01(self.bits(e)));
        let z = (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos();
        let ms = median * (sigma * z).exp();
        ((ms * MS) as u64).max(self.w.sc.parameters.lookahead_ns())
    }

    /// The service request bytes of a job, signed by `key` (when crypto runs for it).
    pub(crate) fn request_bytes(
        w: &World,
        job: &Job,
        key: &crate::crypto::SigningKey,
    ) -> Option<Box<[u8]>> {
        w.policy.runs_crypto(job.id).then(|| {
            ServiceRequest {
                kind: job.msg,
                user: w.user_id(job.claimed),
                target: w.device_id(job.meter),
                counter: job.counter,
                body: Vec::new(),
            }
            .encode_signed(key)
            .into_boxed_slice()
        })
    }

    fn generate(&mut self, u: EntityId, kind: ReqKind, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        self.schedule_next(u, kind, ctx);
        let (rate, max) = self.rate(u, kind, now);
        // Thinning: accept with probability rate/max.
        let accept = open01(self.bits(u)) * max < rate;
        if !accept {
            return;
        }
        let w = self.w.clone();
        // Target: a uniformly random meter registered to this user, or by
        // mistake (stale registration) any meter of the fleet.
        let pick = self.bits(u);
        let misaddressed =
            u < w.suppliers && open01(self.bits(u)) < w.sc.parameters.meters.misaddressed_share;
        let count = if misaddressed {
            w.meters
        } else {
            w.meters_of(u)
        };
        let k = (((pick >> 32) * count as u64) >> 32) as u32;
        let meter = if misaddressed {
            k
        } else {
            w.nth_meter_of(u, k)
        };
        let variant = (pick & 0xff) as u8;
        let seq = self.seq[u as usize];
        self.seq[u as usize] += 1;
        let id = (kind as u64) << 56 | (u as u64) << 40 | seq;
        let msg = World::message_kind(kind, variant);
        let mut job = Job::new(id, kind, msg, u, u, meter, now.0, Origin::Bau);
        if u < w.suppliers {
            let sup = &self.suppliers[u as usize];
            job.cred_gen = sup.cred_gen;
            job.signer = Signer::User(u, u8::from(sup.replaced.contains(&meter)));
            if msg == MessageKind::DisableSupply {
                self.suppliers[u as usize].ordered_off.insert(meter);
            }
        }
        let key = &w.user_request_keys[u as usize][job.cred_gen as usize].0;
        job.bytes = Self::request_bytes(&w, &job, key);
        self.stats[u as usize][kind as usize].sent += 1;
        if msg.is_critical() {
            self.timeline.add(now, Col::CriticalSent, 1);
        }
        let d = self.user_link_ns(u);
        ctx.send(w.dsp, d, Msg::Request(job));
    }

    pub(crate) fn dsp_arrive(&mut self, job: Job, response: bool, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        let st = self.dsp.as_mut().expect("DSP shard");
        let started = st.arrive(now, (job, response));
        let q = st.queue_len();
        self.series[0].note(now, q, true);
        if let Some((job, response)) = started {
            self.dsp_start(job, response, ctx);
        }
    }

    fn dsp_start(&mut self, job: Job, response: bool, ctx: &mut Ctx<'_, Msg>) {
        let p = &self.w.sc.parameters.dsp;
        let mean = if response {
            p.response_service_ms
        } else {
            p.request_service_ms
        };
        let dsp = self.w.dsp;
        let s = self.exp_ms(dsp, mean).max(1);
        ctx.send_self(s, Msg::DspDone(job, response));
    }

    fn dsp_done(&mut self, mut job: Job, response: bool, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        // A lost primary data centre: work in flight is redone after failover.
        if let Some(back) = self.dsp_down_until(now) {
            let redo = self.exp_ms(self.w.dsp, self.w.sc.parameters.dsp.request_service_ms);
            ctx.send_self((back - now.0 + redo).max(1), Msg::DspDone(job, response));
            return;
        }
        let next = self.dsp.as_mut().expect("DSP shard").finish(now);
        if let Some(((j, r), _)) = next {
            self.dsp_start(j, r, ctx);
        }
        let dsp = self.w.dsp;
        if response {
            if job.kind == ReqKind::Alert {
                // Alerts end at the DCC, logged by security operations.
                let s = &mut self.stats[dsp as usize][ReqKind::Alert as usize];
                s.outcomes[job.outcome as usize] += 1;
                if job.outcome == 0 {
                    s.end_to_end.record_ns(now.0 - job.created);
                }
                if job.msg == MessageKind::Alert {
                    self.alert_volume(now, ctx);
                }
            } else {
                let d = self.user_link_ns(dsp);
                ctx.send(job.user, d, Msg::Complete(job));
            }
        } else if job.outcome != 0 {
            let d = self.user_link_ns(dsp);
            ctx.send(job.user, d, Msg::Complete(job));
        } else {
            job.dsp_out = now.0;
            let region = self.w.region_of(job.meter);
            let d = self.dsp_to_csp_ns(dsp);
            ctx.send(self.w.csp0 + region as u32, d, Msg::Downlink(job));
        }
    }

    fn csp_transmit(&mut self, r: usize, job: Job, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        if self.capturing(r, &job, now) {
            self.captured[r].push(job.clone());
        }
        let air = self.airtime_ns(&job);
        let st = self.csp[r].as_mut().expect("CSP shard");
        let started = st.arrive(now, job);
        let q = st.queue_len();
        self.series[1 + r].note(now, q, true);
        if let Some(job) = started {
            ctx.send_self(air, Msg::AirtimeDone(job));
        }
    }

    fn airtime_ns(&self, job: &Job) -> u64 {
        let ms = if job.msg == MessageKind::UpdateFirmware {
            self.w.sc.parameters.response.firmware_airtime_ms
        } else {
            self.w.sc.parameters.csp.airtime_ms
        };
        ((ms * MS) as u64).max(1)
    }

    fn csp_airtime_done(&mut self, r: usize, mut job: Job, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        if let Some((next, _)) = self.csp[r].as_mut().expect("CSP shard").finish(now) {
            let air = self.airtime_ns(&next);
            ctx.send_self(air, Msg::AirtimeDone(next));
        }
        let e = self.w.csp0 + r as u32;
        let c = &self.w.sc.parameters.csp;
        let loss = [c.north_loss, c.central_loss, c.south_loss][r];
        let (timeout, max_retries) = (c.retry_timeout_s, c.max_retries);
        job.attempts += 1;
        let (drop, extra_ns) = self.tamper(r, now);
        let lost = open01(self.bits(e)) < loss || (drop > 0.0 && open01(self.bits(e)) < drop);
        if lost {
            if job.attempts as u32 > max_retries {
                job.outcome = outcome::WAN_TIMEOUT;
                // Nothing comes back from the meter: no response to authenticate.
                job.bytes = None;
                let d = self.dsp_to_csp_ns(e);
                ctx.send(self.w.dsp, d, Msg::Response(job));
            } else {
                ctx.send_self(
                    crate::engine::time::secs_to_ns(timeout).max(1),
                    Msg::Retry(job),
                );
            }
            return;
        }
        let extra = if extra_ns > 0.0 {
            exp_ns(self.bits(e), extra_ns)
        } else {
            0
        };
        let down = self.wan_ns(e, r) + extra;
        job.wan_up_ns = self.wan_ns(e, r);
        ctx.send(self.w.meter0 + job.meter, down, Msg::Deliver(job));
    }

    /// The meter's anchors and counters as a [`DeviceSecurity`] (the real device path).
    fn device_security(&self, m: u32, local: usize, originator: u64) -> DeviceSecurity {
        let w = &self.w;
        let supplier = w.supplier_of(m);
        let mut anchors = [Anchor { owner: 0, key: 0 }; ANCHOR_SLOTS];
        let gen = self.meters.anchor_gen[local];
        anchors[AnchorSlot::Supplier as usize] = Anchor {
            owner: w.user_id(supplier),
            key: if gen < 2 {
                w.anchor_fingerprint(supplier, gen)
            } else {
                0
            },
        };
        anchors[AnchorSlot::Recovery as usize] = Anchor {
            owner: RECOVERY_ID,
            key: w.recovery_fp,
        };
        let sup_id = w.user_id(supplier);
        let mut counters = [(0, 0); crate::crypto::device::COUNTER_SLOTS];
        counters[0] = (sup_id, self.meters.last_counter[local]);
        if originator != sup_id {
            if let Some(&c) = self.meters.other_counters.get(&(local as u32, originator)) {
                counters[1] = (originator, c);
            }
        }
        DeviceSecurity {
            id: w.device_id(m),
            anchors,
            counters,
            manufacturer: (MANUFACTURER, w.manufacturer_fp),
            firmware_version: self.meters.firmware[local] as u64,
            staged_firmware: None,
        }
    }

    /// Ground truth for a command at a meter, in the order a device checks:
    /// `Ok` if genuine, else the reason a correct device refuses it.
    fn ground_truth(&self, job: &Job, local: usize, last: Option<u64>) -> Result<(), Reject> {
        let w = &self.w;
        let supplier = w.supplier_of(job.meter);
        let originator = w.originator(job.signer, job.claimed);
        if !job.acb_mac {
            return Err(Reject::BadMac);
        }
        if last.is_some_and(|l| job.counter <= l) {
            return Err(Reject::Replay);
        }
        if job.msg.is_critical() {
            let gen = self.meters.anchor_gen[local];
            let from_supplier = originator == w.user_id(supplier);
            let supplier_key = job.signer == Signer::User(supplier, gen) && gen < 2;
            let ok = match job.msg {
                MessageKind::UpdateSecurityCredentials => {
                    job.signer == Signer::Recovery || (from_supplier && supplier_key)
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
        Ok(())
    }

    /// The meter checks and executes a command; real bytes when this job runs crypto.
    fn meter_deliver(&mut self, mut job: Job, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        job.meter_in = now.0;
        let w = self.w.clone();
        let m = job.meter;
        let local = self.part.local_of(w.meter0 + m) as usize;
        let supplier = w.supplier_of(m);
        let sup_id = w.user_id(supplier);
        let originator = w.originator(job.signer, job.claimed);
        // Counters are tracked for the registered supplier and the recovery
        // key (the originators whose commands change security state).
        let tracked = originator == sup_id || originator == RECOVERY_ID;
        let last = if originator == sup_id {
            Some(self.meters.last_counter[local])
        } else if tracked {
            Some(
                self.meters
                    .other_counters
                    .get(&(local as u32, originator))
                    .copied()
                    .unwrap_or(0),
            )
        } else {
            None
        };
        let truth = self.ground_truth(&job, local, last);
        let mut verdict: Result<(), Reject> = truth;
        let mut new_anchor_gen = None;
        let executed_bytes;
        // The device's shared secret with the ACB, computed once per message.
        let z = w.policy.runs_crypto(job.id).then(|| w.acb_secret(m));
        if let Some(bytes) = job.bytes.take() {
            // The real device path: MAC, counter, signature against the anchor.
            let mut dev = self.device_security(m, local, originator);
            let z = z.unwrap_or_else(|| w.acb_secret(m));
            let mut real = None;
            let accepted =
                w.policy
                    .decide(job.id ^ 0xC0DE, truth.is_ok(), &mut self.crypto, || {
                        real = Some(dev.receive_command(&bytes, &z, &self.keys));
                        matches!(real, Some(Ok(_)))
                    });
            verdict = match real {
                Some(Ok(a)) => {
                    if let crate::crypto::device::Executed::CredentialUpdated(_) = a.executed {
                        let fp = dev.anchors[AnchorSlot::Supplier as usize].key;
                        new_anchor_gen = Some(if fp == w.anchor_fingerprint(supplier, 1) {
                            1
                        } else if fp == w.anchor_fingerprint(supplier, 0) {
                            0
                        } else {
                            2
                        });
                    }
                    Ok(())
                }
                Some(Err(r)) => Err(r),
                None if accepted => Ok(()),
                None => truth,
            };
            executed_bytes = Some(bytes);
        } else {
            executed_bytes = None;
            if truth.is_ok() && job.msg == MessageKind::UpdateSecurityCredentials {
                new_anchor_gen = Some(1);
            }
        }
        match verdict {
            Err(r) => {
                self.refusals[refusal_index(r)] += 1;
                let col = match r {
                    Reject::BadMac => Col::MeterBadMac,
                    Reject::Replay => Col::MeterReplay,
                    Reject::MissingSignature | Reject::WrongOriginator | Reject::BadSignature => {
                        Col::MeterBadSignature
                    }
                    Reject::BadFirmwareSignature => Col::MeterBadFirmware,
                    _ => Col::MeterOtherRefusal,
                };
                self.timeline.add(now, col, 1);
                job.outcome = if r == Reject::Replay {
                    outcome::REPLAY
                } else {
                    outcome::METER_REFUSED
                };
            }
            Ok(()) => {
                if originator == sup_id {
                    self.meters.last_counter[local] = job.counter;
                } else if tracked {
                    self.meters
                        .other_counters
                        .insert((local as u32, originator), job.counter);
                }
                if w.sc.crypto.mode != CryptoMode::Modeled {
                    self.trace.push(TraceRec {
                        t_ns: now.0,
                        meter: m,
                        originator,
                        counter: job.counter,
                        code: job.msg.code(),
                        bytes: executed_bytes.filter(|_| job.msg.is_critical()),
                    });
                }
                if let Some(g) = new_anchor_gen {
                    self.meters.anchor_gen[local] = g;
                    self.timeline.add(now, Col::AnchorsReplaced, 1);
                }
                self.apply(&job, local, now, ctx);
                // The response: signed by the device (critical) or MAC'd.
                if let Some(z) = z {
                    let resp = crate::crypto::device::device_message(
                        Cra::Response,
                        job.msg,
                        w.device_id(m),
                        w.user_id(job.claimed),
                        job.counter,
                        || w.device_key(m),
                        &z,
                    );
                    job.bytes = Some(resp.into_boxed_slice());
                }
            }
        }
        let p = &w.sc.parameters.device;
        let gas = if w.is_gas(m) {
            p.gas_extra_process_ms
        } else {
            0.0
        };
        let t = if job.msg.is_critical() {
            p.critical_process_ms
        } else {
            p.process_ms
        } + 2.0 * p.han_ms
            + gas;
        ctx.send_self(((t * MS) as u64).max(1), Msg::MeterDone(job));
    }

    /// Acts on an executed command: supply state, firmware, and the results' counters.
    fn apply(&mut self, job: &Job, local: usize, now: SimTime, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        if job.msg.is_critical() {
            self.timeline.add(now, Col::CriticalExecuted, 1);
        }
        if job.origin == Origin::Attack {
            self.timeline.add(now, Col::AttackExecuted, 1);
        }
        let kwh = || w.annual_kwh(job.meter) as i64;
        match job.msg {
            MessageKind::DisableSupply if self.meters.supply_on[local] => {
                self.meters.supply_on[local] = false;
                self.timeline.add(now, Col::SupplyOff, 1);
                // Results bookkeeping only: which meters the attack switched off.
                if job.origin == Origin::Attack {
                    self.meters.off_by_attack[local] = true;
                    self.timeline.add(now, Col::AttackOff, 1);
                    self.timeline.add(now, Col::KwhAttackOff, kwh());
                }
                // The household notices and calls its supplier.
                let call = exp_ns(
                    crate::models::system::world::hash_parts(&[w.seed, job.id, job.meter as u64]),
                    w.sc.parameters.soc.customer_call_mean_min * 60e3 * MS,
                )
                .max(w.sc.parameters.lookahead_ns());
                ctx.send(w.supplier_of(job.meter), call, Msg::CustomerCall(job.meter));
            }
            MessageKind::EnableSupply if !self.meters.supply_on[local] => {
                self.meters.supply_on[local] = true;
                self.timeline.add(now, Col::SupplyOn, 1);
                if std::mem::take(&mut self.meters.off_by_attack[local]) {
                    self.timeline.add(now, Col::AttackRestored, 1);
                    let kwh = kwh();
                    self.timeline.add(now, Col::KwhAttackOff, -kwh);
                    self.timeline.add(now, Col::KwhReconnected, kwh);
                }
            }
            MessageKind::UpdateFirmware
                if job.firmware_genuine && self.meters.firmware[local] < 2 =>
            {
                self.meters.firmware[local] = 2;
                self.timeline.add(now, Col::FirmwareFixed, 1);
            }
            _ => {}
        }
    }

    /// Alerts: the CSP generates its region's alerts as one Poisson stream.
    fn alert_tick(&mut self, r: usize, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        let e = w.csp0 + r as u32;
        let n = (w.region_bounds[r + 1] - w.region_bounds[r]) as f64;
        let rate = n * w.sc.parameters.traffic.alerts_per_meter_day / 86_400.0;
        if rate <= 0.0 || n == 0.0 {
            return;
        }
        let gap = exp_ns(self.bits(e), 1e9 / rate).max(1);
        ctx.send_self(gap, Msg::AlertTick);
        let pick = self.bits(e);
        let meter = w.region_bounds[r] + (((pick >> 32) * n as u64) >> 32) as u32;
        let critical = open01(self.bits(e)) < w.sc.parameters.traffic.critical_alert_share;
        self.send_alert(r, meter, critical, ctx.now(), 0, ctx);
    }

    /// A meter's alert (critical ones signed by the device), sent up the WAN after `delay_ns`.
    pub(crate) fn send_alert(
        &mut self,
        r: usize,
        meter: u32,
        critical: bool,
        now: SimTime,
        delay_ns: u64,
        ctx: &mut Ctx<'_, Msg>,
    ) {
        let w = self.w.clone();
        let e = w.csp0 + r as u32;
        let seq = self.seq[e as usize];
        self.seq[e as usize] += 1;
        let id = 1 << 63 | (e as u64) << 40 | seq;
        let msg = if critical {
            MessageKind::Alert
        } else {
            MessageKind::ReadInstantaneous
        };
        let created = now.0 + delay_ns;
        let mut job = Job::new(id, ReqKind::Alert, msg, e, 0, meter, created, Origin::Bau);
        job.meter_in = created;
        job.meter_out = created;
        job.bytes = w.policy.runs_crypto(id).then(|| {
            let z = w.acb_secret(meter);
            let cra = if critical { Cra::Alert } else { Cra::Response };
            crate::crypto::device::device_message(
                cra,
                msg,
                w.device_id(meter),
                0,
                seq,
                || w.device_key(meter),
                &z,
            )
            .into_boxed_slice()
        });
        let up = self.wan_ns(e, r);
        ctx.send_self(up + delay_ns, Msg::Uplink(job));
    }

    fn record_complete(&mut self, job: Job, now: SimTime) {
        if let Some(s) = self.suppliers.get_mut(job.user as usize) {
            if job.origin == Origin::Anchor && job.outcome == outcome::OK {
                s.replaced.insert(job.meter);
            }
        }
        let s = &mut self.stats[job.user as usize][job.kind as usize];
        s.outcomes[job.outcome as usize] += 1;
        if job.outcome == 0 {
            s.end_to_end.record_ns(now.0 - job.created);
            let hops = [
                job.dsp_in.saturating_sub(job.created),
                job.dsp_out.saturating_sub(job.dsp_in),
                job.meter_in.saturating_sub(job.dsp_out.max(job.created)),
                job.meter_out - job.meter_in,
                now.0 - job.meter_out,
            ];
            for (h, v) in s.hops.iter_mut().zip(hops) {
                h.record_ns(v);
            }
        }
    }

    /// Checks a response's or alert's authentication (device signature or MAC).
    fn check_response(w: &World, job: &Job, bytes: &[u8]) -> bool {
        let Ok(d) = gbcs::decode(bytes) else {
            return false;
        };
        if let Some(sig) = d.signature {
            let key = w.device_key(job.meter);
            crate::crypto::verify_oneoff(key.public(), &hash_to_scalar(d.signed_part), sig)
        } else if let Some(tag) = d.mac {
            let g = d.grouping;
            let mode = if g.cra == Cra::Alert {
                MacMode::Alert
            } else {
                MacMode::Response
            };
            let k = derive_mac_key(
                &job.acb_z.unwrap_or_else(|| w.acb_secret(job.meter)),
                g.originator,
                g.recipient,
                mode,
                g.counter,
            );
            mac_ok(&k, g.originator, d.maced_part, tag)
        } else {
            false
        }
    }

    /// The body a command of this job carries.
    pub(crate) fn body_of(w: &World, job: &Job) -> Body {
        match job.msg {
            MessageKind::UpdateSecurityCredentials => Body::CredentialUpdate {
                slot: AnchorSlot::Supplier as u8,
                owner: w.user_id(w.supplier_of(job.meter)),
                key: w.user_command_keys[w.supplier_of(job.meter) as usize][1]
                    .0
                    .public()
                    .to_uncompressed(),
            },
            MessageKind::UpdateFirmware | MessageKind::ActivateFirmware => {
                super::ops::firmware_body(w, job.firmware_genuine)
            }
            _ => Body::Plain,
        }
    }

    /// The device command for a request the DSP accepted: the signer's
    /// signature (critical kinds) and the ACB's MAC.
    pub(crate) fn command_bytes(w: &World, job: &Job) -> (Box<[u8]>, [u8; 32]) {
        let z = w.acb_secret(job.meter);
        let bytes = build_command(
            job.msg,
            w.originator(job.signer, job.claimed),
            w.device_id(job.meter),
            job.counter,
            &Self::body_of(w, job),
            w.signing_key(job.signer),
            Some(&z),
        )
        .into_boxed_slice();
        (bytes, z)
    }

    /// The DSP's checks of a request, in order: certificate not revoked,
    /// signature, authorisation (role and registration), anomaly thresholds.
    fn dsp_request(&mut self, mut job: Job, prep: Option<Prep>, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        let w = self.w.clone();
        job.dsp_in = now.0;
        let u = job.claimed;
        if self.dsp_ops.revoked(u, job.cred_gen) {
            job.outcome = outcome::DSP_USER_SUSPENDED;
            self.timeline.add(now, Col::Suspended, 1);
        } else {
            let sig_ok = match &job.bytes {
                Some(_) => {
                    let p = prep
                        .as_ref()
                        .map(|p| p.ok)
                        .unwrap_or_else(|| Self::verify_request(&w, &job));
                    w.policy
                        .decide(job.id, job.request_genuine, &mut self.crypto, || p)
                }
                None => job.request_genuine,
            };
            let registered = u >= w.suppliers || w.supplier_of(job.meter) == u;
            if !sig_ok {
                job.outcome = outcome::DSP_BAD_SIGNATURE;
                self.timeline.add(now, Col::DspBadSignature, 1);
            } else if !(role_may_send(w.role_of(u), job.msg) && registered) {
                job.outcome = outcome::DSP_NOT_AUTHORISED;
                self.timeline.add(now, Col::DspNotAuthorised, 1);
            } else if self.anomaly_check(u, job.msg, now, ctx) {
                job.outcome = outcome::DSP_QUARANTINED;
                self.timeline.add(now, Col::Quarantined, 1);
            } else {
                if job.msg == MessageKind::DisableSupply {
                    self.dsp_ops.disabled_log[u as usize].push(job.meter);
                }
                if job.bytes.is_some() {
                    let (bytes, z) = prep
                        .and_then(|p| p.command)
                        .unwrap_or_else(|| Self::command_bytes(&w, &job));
                    job.bytes = Some(bytes);
                    job.acb_z = Some(z);
                }
            }
        }
        if job.outcome != outcome::OK {
            job.bytes = None;
        }
        self.dsp_arrive(job, false, ctx);
    }

    fn verify_request(w: &World, job: &Job) -> bool {
        let bytes = job.bytes.as_ref().expect("checked");
        ServiceRequest::decode(bytes).is_some_and(|(sr, signed, sig)| {
            sr.user == w.user_id(job.claimed)
                && w.user_request_keys[job.claimed as usize][job.cred_gen as usize & 1]
                    .1
                    .verify_prehash(&hash_to_scalar(signed), sig)
        })
    }
}

impl ShardModel for SystemShard {
    type Msg = Msg;
    type Prep = Prep;

    fn wants_prepare(&self) -> bool {
        // Only the DSP's shard has bulk verification work, and only with crypto on.
        self.dsp.is_some() && self.w.sc.crypto.mode != CryptoMode::Modeled
    }

    /// The DSP's heavy, pure work, run in parallel over a window: checking a
    /// request's signature and building its device command (signature and
    /// ACB MAC), or checking a response's or alert's authentication. Requests
    /// the DSP's state at the start of the window already refuses (revoked
    /// credentials, a threshold already exceeded) get no command built.
    fn prepare(&self, ev: &Event<Msg>) -> Option<Prep> {
        let w = &self.w;
        match &ev.msg {
            Msg::Request(job) => {
                job.bytes.as_ref()?;
                let ok = Self::verify_request(w, job);
                let blocked = self.dsp_ops.revoked(job.claimed, job.cred_gen)
                    || self
                        .dsp_ops
                        .over_threshold(w, job.claimed, kind_index(job.msg), ev.time);
                let command = (ok && !blocked).then(|| Self::command_bytes(w, job));
                Some(Prep { ok, command })
            }
            Msg::Response(job) => {
                let bytes = job.bytes.as_ref()?;
                Some(Prep {
                    ok: Self::check_response(w, job, bytes),
                    command: None,
                })
            }
            _ => None,
        }
    }

    fn handle(&mut self, ev: Event<Msg>, prep: Option<Prep>, ctx: &mut Ctx<'_, Msg>) {
        let w = self.w.clone();
        let me = ev.target;
        let now = ctx.now();
        match ev.msg {
            Msg::Generate(kind) => self.generate(me, kind, ctx),
            Msg::AlertTick => self.alert_tick((me - w.csp0) as usize, ctx),
            Msg::Request(job) => self.dsp_request(job, prep, ctx),
            Msg::DspDone(job, response) => self.dsp_done(job, response, ctx),
            Msg::Downlink(job) | Msg::Retry(job) => {
                self.csp_transmit((me - w.csp0) as usize, job, ctx)
            }
            Msg::AirtimeDone(job) => self.csp_airtime_done((me - w.csp0) as usize, job, ctx),
            Msg::Deliver(job) => self.meter_deliver(job, ctx),
            Msg::MeterDone(mut job) => {
                job.meter_out = now.0;
                let r = w.region_of(job.meter);
                let up = job.wan_up_ns.max(w.sc.parameters.lookahead_ns());
                ctx.send(w.csp0 + r as u32, up, Msg::Uplink(job));
            }
            Msg::Uplink(job) => {
                let d = self.dsp_to_csp_ns(me);
                ctx.send(w.dsp, d, Msg::Response(job));
            }
            Msg::Response(mut job) => {
                if job.dsp_in == 0 {
                    job.dsp_in = now.0;
                }
                if let Some(bytes) = job.bytes.take() {
                    let ok = match prep {
                        Some(p) => p.ok,
                        None => Self::check_response(&w, &job, &bytes),
                    };
                    if !w
                        .policy
                        .decide(job.id ^ 0x5E5E, true, &mut self.crypto, || ok)
                        && job.outcome == 0
                    {
                        job.outcome = outcome::RESPONSE_BAD_AUTH;
                    }
                }
                self.dsp_arrive(job, true, ctx);
            }
            Msg::Complete(job) => self.record_complete(job, now),
            Msg::Security(e) => self.soc_event(e, ctx),
            Msg::TriageDone(e, raised) => self.soc_triaged(e, raised, ctx),
            Msg::Contain(u) => self.dsp_contain(u, ctx),
            Msg::Contained(log) => self.supplier_contained(me, log, ctx),
            Msg::CustomerCall(m) => self.customer_call(me, m, ctx),
            Msg::Recover(step) => self.recover(me, step, ctx),
            Msg::AttackTick => self.attack_tick(me, ctx),
        }
    }
}
