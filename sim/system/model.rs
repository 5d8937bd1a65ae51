//! The system's entities and how they handle messages.
//!
//! ```text
//!  user --Request--> DSP --Downlink--> CSP --Deliver--> meter
//!   ^                 |  (station)      |  (station,      | (HAN + processing)
//!   +----Complete-----+<---Response-----+<----Uplink------+
//!                     ^                 ^
//!                     +--- alerts ------+ (CSP-generated per region)
//! ```
//!
//! Entities: DCC users (suppliers, then other users), the DSP (Data Service
//! Provider), three CSPs (communications service providers: north, central,
//! south) and the meters (each a communications hub with its meter).

use super::latency::Latency;
use super::station::Station;
use super::world::{ReqKind, World};
use crate::crypto::device::{Anchor, AnchorSlot, DeviceSecurity, ANCHOR_SLOTS};
use crate::crypto::ecdsa::hash_to_scalar;
use crate::crypto::gbcs::{self, Body, Cra, MessageKind};
use crate::crypto::mac::{derive_mac_key, mac_ok, MacMode};
use crate::crypto::mode::CryptoCounters;
use crate::crypto::registry::KeyRegistry;
use crate::crypto::request::{build_command, ServiceRequest};
use crate::engine::rng::{exp_ns, open01, StreamFamily};
use crate::engine::{Ctx, EntityId, Event, Partition, ShardModel, SimTime};
use rand::RngCore;
use std::sync::Arc;

/// Outcome codes carried back to the user.
pub const OUTCOMES: [&str; 6] = [
    "ok",
    "dsp_bad_signature",
    "meter_refused",
    "replay",
    "wan_timeout",
    "response_bad_auth",
];

/// A request (or alert) and its timestamps as it moves through the system.
#[derive(Clone, Debug)]
pub struct Job {
    /// Unique id (user or CSP entity in the top bits, sequence below).
    pub id: u64,
    /// Request type.
    pub kind: ReqKind,
    /// Variant within the type (which critical command).
    pub variant: u8,
    /// Requesting user entity (for alerts: the CSP entity).
    pub user: EntityId,
    /// Meter index (not entity).
    pub meter: u32,
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
}

/// What the DSP's parallel prepare pass computed for a job.
pub struct Prep {
    /// Whether the request's or response's authentication verified.
    ok: bool,
    /// The device command built for a verified request.
    command: Option<Box<[u8]>>,
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
    fn note(&mut self, now: SimTime, queue: usize, arrival: bool) {
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

/// One shard of the system.
pub struct SystemShard {
    w: Arc<World>,
    part: Partition,
    rng: StreamFamily,
    /// Stream positions of the non-meter entities this shard owns (by entity).
    rng_pos: Vec<u64>,
    /// Request sequence numbers of users (by entity).
    seq: Vec<u64>,
    /// Stats of users (by entity), alerts at the DSP in slot `dsp`.
    pub(crate) stats: Vec<Vec<KindStats>>,
    /// The DSP's worker pool, if this shard owns the DSP.
    pub(crate) dsp: Option<Station<(Job, bool)>>,
    /// The CSPs' transmission capacity (by region), where owned.
    pub(crate) csp: [Option<Station<Job>>; 3],
    /// Per-minute series: DSP, then CSPs.
    pub(crate) series: [Series; 4],
    /// Meter state by local index: last accepted counter from its supplier, supply on.
    last_counter: Vec<u64>,
    supply_on: Vec<bool>,
    /// Keys meters' anchors refer to.
    keys: Arc<KeyRegistry>,
    /// Crypto decisions made in this shard.
    pub(crate) crypto: CryptoCounters,
}

const MS: f64 = 1e6;

impl SystemShard {
    /// A shard of the system model.
    pub fn new(w: Arc<World>, keys: Arc<KeyRegistry>, shard: u32, part: Partition) -> Self {
        let locals = part.entities_in_shard(shard) as usize;
        let n_fixed = w.meter0 as usize;
        SystemShard {
            rng: StreamFamily::new(w.seed, "system"),
            rng_pos: vec![0; n_fixed],
            seq: vec![0; n_fixed],
            // Histograms are large (about 250 KiB each): only for the users
            // and the DSP that this shard owns.
            stats: (0..n_fixed)
                .map(|e| {
                    let owned = part.shard_of(e as u32) == shard && (e as u32) <= w.dsp;
                    if owned {
                        vec![KindStats::default(); ReqKind::ALL.len()]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            dsp: (part.shard_of(w.dsp) == shard).then(|| Station::new(w.sc.parameters.dsp.workers)),
            csp: std::array::from_fn(|r| {
                let c = &w.sc.parameters.csp;
                let cap = [c.north_concurrent, c.central_concurrent, c.south_concurrent][r];
                (part.shard_of(w.csp0 + r as u32) == shard).then(|| Station::new(cap))
            }),
            series: Default::default(),
            last_counter: vec![0; locals],
            supply_on: vec![true; locals],
            keys,
            crypto: CryptoCounters::default(),
            w,
            part,
        }
    }

    /// Draws 64 random bits for a non-meter entity.
    fn bits(&mut self, e: EntityId) -> u64 {
        let mut r = self.rng.at(e as u64, self.rng_pos[e as usize]);
        let x = r.next_u64();
        self.rng_pos[e as usize] = r.get_word_pos() as u64;
        x
    }

    fn exp_ms(&mut self, e: EntityId, mean_ms: f64) -> u64 {
        let b = self.bits(e);
        exp_ns(b, mean_ms * MS)
    }

    /// Requests per second of `kind` from user `u` at time `t` (for thinning: also the maximum).
    fn rate(&self, u: EntityId, kind: ReqKind, t: SimTime) -> (f64, f64) {
        let tr = &self.w.sc.parameters.traffic;
        let w = &self.w;
        let meters_of_user = if u < w.suppliers {
            (w.meters / w.suppliers + u32::from(u < w.meters % w.suppliers)) as f64
        } else {
            w.meters as f64 / (w.users - w.suppliers).max(1) as f64
        };
        let day = 86_400.0;
        let hour = (t.as_secs_f64() % day) / 3600.0;
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
            ReqKind::Alert => (0.0, 0.0),
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

    fn user_link_ns(&mut self, e: EntityId) -> u64 {
        let p = &self.w.sc.parameters.user_link;
        let (min, extra) = (p.min_ms, p.mean_extra_ms);
        (min * MS) as u64 + self.exp_ms(e, extra)
    }

    fn dsp_to_csp_ns(&mut self, e: EntityId) -> u64 {
        let p = &self.w.sc.parameters.dsp;
        let (min, extra) = (p.to_csp_min_ms, p.to_csp_mean_extra_ms);
        (min * MS) as u64 + self.exp_ms(e, extra)
    }

    /// A lognormal WAN latency for region `r`, at least the lookahead.
    fn wan_ns(&mut self, e: EntityId, r: usize) -> u64 {
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
        // Target: a uniformly random meter registered to this user.
        let pick = self.bits(u);
        let meter = if u < w.suppliers {
            let per = w.meters / w.suppliers + u32::from(u < w.meters % w.suppliers);
            (((pick >> 32) * per as u64) >> 32) as u32 * w.suppliers + u
        } else {
            (((pick >> 32) * w.meters as u64) >> 32) as u32
        };
        let variant = (pick & 0xff) as u8;
        let seq = self.seq[u as usize];
        self.seq[u as usize] += 1;
        let id = (u as u64) << 40 | seq;
        let bytes = w.policy.runs_crypto(id).then(|| {
            let sr = ServiceRequest {
                kind: World::message_kind(kind, variant),
                user: w.user_id(u),
                target: w.device_id(meter),
                counter: seq,
                body: Vec::new(),
            };
            sr.encode_signed(&w.user_request_keys[u as usize].0)
                .into_boxed_slice()
        });
        self.stats[u as usize][kind as usize].sent += 1;
        let job = Job {
            id,
            kind,
            variant,
            user: u,
            meter,
            created: now.0,
            dsp_in: 0,
            dsp_out: 0,
            meter_in: 0,
            meter_out: 0,
            wan_up_ns: 0,
            attempts: 0,
            outcome: 0,
            bytes,
        };
        let d = self.user_link_ns(u);
        ctx.send(w.dsp, d, Msg::Request(job));
    }

    fn dsp_arrive(&mut self, job: Job, response: bool, ctx: &mut Ctx<'_, Msg>) {
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
        let next = self.dsp.as_mut().expect("DSP shard").finish(now);
        if let Some(((j, r), _)) = next {
            self.dsp_start(j, r, ctx);
        }
        let dsp = self.w.dsp;
        if response {
            if job.kind == ReqKind::Alert {
                // Alerts end at the DCC's security operations.
                let s = &mut self.stats[dsp as usize][ReqKind::Alert as usize];
                s.outcomes[job.outcome as usize] += 1;
                if job.outcome == 0 {
                    s.end_to_end.record_ns(now.0 - job.created);
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
        let st = self.csp[r].as_mut().expect("CSP shard");
        let started = st.arrive(now, job);
        let q = st.queue_len();
        self.series[1 + r].note(now, q, true);
        if let Some(job) = started {
            let air = (self.w.sc.parameters.csp.airtime_ms * MS) as u64;
            ctx.send_self(air.max(1), Msg::AirtimeDone(job));
        }
    }

    fn csp_airtime_done(&mut self, r: usize, mut job: Job, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        let air = (self.w.sc.parameters.csp.airtime_ms * MS) as u64;
        if let Some((next, _)) = self.csp[r].as_mut().expect("CSP shard").finish(now) {
            ctx.send_self(air.max(1), Msg::AirtimeDone(next));
        }
        let e = self.w.csp0 + r as u32;
        let c = &self.w.sc.parameters.csp;
        let loss = [c.north_loss, c.central_loss, c.south_loss][r];
        let (timeout, max_retries) = (c.retry_timeout_s, c.max_retries);
        job.attempts += 1;
        let lost = open01(self.bits(e)) < loss;
        if lost {
            if job.attempts as u32 > max_retries {
                job.outcome = 4;
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
        let down = self.wan_ns(e, r);
        job.wan_up_ns = self.wan_ns(e, r);
        ctx.send(self.w.meter0 + job.meter, down, Msg::Deliver(job));
    }

    /// The meter checks and executes a command; real bytes when this job runs crypto.
    fn meter_deliver(&mut self, mut job: Job, ctx: &mut Ctx<'_, Msg>) {
        let now = ctx.now();
        job.meter_in = now.0;
        let w = self.w.clone();
        let local = self.part.local_of(w.meter0 + job.meter) as usize;
        let kind = World::message_kind(job.kind, job.variant);
        let counter = (job.id & ((1 << 40) - 1)) + 1;
        let from_supplier = job.user < w.suppliers;
        if let Some(bytes) = job.bytes.take() {
            // The real device path: MAC, counter, signature against the supplier anchor.
            let supplier = w.supplier_of(job.meter);
            let mut anchors = [Anchor { owner: 0, key: 0 }; ANCHOR_SLOTS];
            let fp = crate::crypto::registry::fingerprint(
                &w.user_command_keys[supplier as usize]
                    .0
                    .public()
                    .to_uncompressed(),
            );
            anchors[AnchorSlot::Supplier as usize] = Anchor {
                owner: w.user_id(supplier),
                key: fp,
            };
            let mut dev = DeviceSecurity {
                id: w.device_id(job.meter),
                anchors,
                counters: [
                    (w.user_id(supplier), self.last_counter[local]),
                    (0, 0),
                    (0, 0),
                    (0, 0),
                ],
                manufacturer: (0, 0),
                firmware_version: 1,
                staged_firmware: None,
            };
            let z = w.acb_secret(job.meter);
            // Ground truth: a genuine command passes unless its counter is
            // stale (reordered delivery), which is an anti-replay refusal,
            // not a cryptographic one.
            let genuine = !(from_supplier && counter <= self.last_counter[local]);
            let mut verdict = None;
            let accepted = w
                .policy
                .decide(job.id ^ 0xC0DE, genuine, &mut self.crypto, || {
                    verdict = Some(dev.receive_command(&bytes, &z, &self.keys));
                    matches!(verdict, Some(Ok(_)))
                });
            if from_supplier {
                self.last_counter[local] = dev.counters[0].1;
            }
            if !accepted {
                job.outcome = if matches!(verdict, Some(Err(crate::crypto::device::Reject::Replay)))
                {
                    3
                } else {
                    2
                };
            } else {
                self.apply(local, kind);
                // The response: signed by the device (critical) or MAC'd.
                let resp = crate::crypto::device::device_message(
                    Cra::Response,
                    kind,
                    w.device_id(job.meter),
                    w.user_id(job.user),
                    counter,
                    || w.device_key(job.meter),
                    &z,
                );
                job.bytes = Some(resp.into_boxed_slice());
            }
        } else if from_supplier && counter <= self.last_counter[local] {
            // The same anti-replay rule as the real device path, on ground truth.
            job.outcome = 3;
        } else {
            if from_supplier {
                self.last_counter[local] = counter;
            }
            self.apply(local, kind);
        }
        let p = &w.sc.parameters.device;
        let t = if kind.is_critical() {
            p.critical_process_ms
        } else {
            p.process_ms
        } + 2.0 * p.han_ms;
        ctx.send_self(((t * MS) as u64).max(1), Msg::MeterDone(job));
    }

    fn apply(&mut self, local: usize, kind: MessageKind) {
        match kind {
            MessageKind::DisableSupply => self.supply_on[local] = false,
            MessageKind::EnableSupply => self.supply_on[local] = true,
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
        let seq = self.seq[e as usize];
        self.seq[e as usize] += 1;
        let id = 1 << 63 | (e as u64) << 40 | seq;
        let now = ctx.now();
        let bytes = w.policy.runs_crypto(id).then(|| {
            let z = w.acb_secret(meter);
            let kind = if critical {
                MessageKind::Alert
            } else {
                MessageKind::ReadInstantaneous
            };
            let cra = if critical { Cra::Alert } else { Cra::Response };
            crate::crypto::device::device_message(
                cra,
                kind,
                w.device_id(meter),
                0,
                seq,
                || w.device_key(meter),
                &z,
            )
            .into_boxed_slice()
        });
        let job = Job {
            id,
            kind: ReqKind::Alert,
            variant: u8::from(critical),
            user: e,
            meter,
            created: now.0,
            dsp_in: 0,
            dsp_out: 0,
            meter_in: now.0,
            meter_out: now.0,
            wan_up_ns: 0,
            attempts: 0,
            outcome: 0,
            bytes,
        };
        let up = self.wan_ns(e, r);
        ctx.send_self(up, Msg::Uplink(job));
    }

    fn record_complete(&mut self, job: Job, now: SimTime) {
        let s = &mut self.stats[job.user as usize][job.kind as usize];
        s.outcomes[job.outcome as usize] += 1;
        if job.outcome == 0 {
            s.end_to_end.record_ns(now.0 - job.created);
            let hops = [
                job.dsp_in - job.created,
                job.dsp_out - job.dsp_in,
                job.meter_in - job.dsp_out,
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
                &w.acb_secret(job.meter),
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
}

impl ShardModel for SystemShard {
    type Msg = Msg;
    type Prep = Prep;

    fn wants_prepare(&self) -> bool {
        // Only the DSP's shard has bulk verification work, and only with crypto on.
        self.dsp.is_some() && self.w.sc.crypto.mode != crate::crypto::mode::CryptoMode::Modeled
    }

    /// The DSP's heavy, pure work, run in parallel over a window: checking a
    /// request's signature and building its device command (signature and
    /// ACB MAC), or checking a response's or alert's authentication.
    fn prepare(&self, ev: &Event<Msg>) -> Option<Prep> {
        let w = &self.w;
        match &ev.msg {
            Msg::Request(job) => {
                let bytes = job.bytes.as_ref()?;
                let u = job.user as usize;
                let ok = ServiceRequest::decode(bytes).is_some_and(|(_, signed, sig)| {
                    w.user_request_keys[u]
                        .1
                        .verify_prehash(&hash_to_scalar(signed), sig)
                });
                let command = ok.then(|| {
                    let kind = World::message_kind(job.kind, job.variant);
                    let z = w.acb_secret(job.meter);
                    let counter = (job.id & ((1 << 40) - 1)) + 1;
                    build_command(
                        kind,
                        w.user_id(job.user),
                        w.device_id(job.meter),
                        counter,
                        &Body::Plain,
                        Some(&w.user_command_keys[u].0),
                        Some(&z),
                    )
                    .into_boxed_slice()
                });
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
            Msg::Request(mut job) => {
                job.dsp_in = now.0;
                if job.bytes.is_some() {
                    let p = prep.or_else(|| {
                        self.prepare(&Event {
                            time: now,
                            seq: 0,
                            target: me,
                            src: me,
                            msg: Msg::Request(job.clone()),
                        })
                    });
                    let p = p.expect("requests with bytes are prepared");
                    let ok = w.policy.decide(job.id, true, &mut self.crypto, || p.ok);
                    if ok {
                        job.bytes = p.command;
                    } else {
                        job.outcome = 1;
                        job.bytes = None;
                    }
                }
                self.dsp_arrive(job, false, ctx);
            }
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
                        job.outcome = 5;
                    }
                }
                self.dsp_arrive(job, true, ctx);
            }
            Msg::Complete(job) => self.record_complete(job, now),
        }
    }
}
