//! A CSP (communications service provider): one per region (north,
//! central, south), carrying commands over its WAN (wide-area network) to
//! communications hubs, and responses and alerts back.
//!
//! Downlink transmissions queue for the region's channels (airtime from
//! the message's bytes at the region's link rate); each
//! is lost with the region's loss probability (or a compromised CSP's drop
//! share) and retried after a timeout up to a limit, after which the
//! request ends as a WAN timeout. Delivered commands reach the meter after
//! a lognormal WAN latency. Responses and alerts queue for the region's
//! uplink channels the same way. The CSP also raises its region's device alerts
//! as one Poisson stream, and a regional power cut raises many at once.

use crate::crypto::device::AlertKind;
use crate::crypto::gbcs::{Cra, MessageKind, NON_CRITICAL_ALERT_BYTES};
use crate::engine::rng::exp_ns;
use crate::engine::time::secs_to_ns;
use crate::engine::{EntityId, SimTime};
use crate::models::system::attack::{AttackKind, AttackSpec};
use crate::models::system::env::{Env, NS_PER_MS};
use crate::models::system::msg::{job_id, IdClass, Job, Msg, Origin, Outcome};
use crate::models::system::parties::attacker::WanTap;
use crate::models::system::parties::dsp::Dsp;
use crate::models::system::station::Station;
use crate::models::system::stats::{Came, Series};
use crate::models::system::world::{ReqKind, World};

/// One region's CSP.
pub struct Csp {
    region: usize,
    /// Downlink channels (commands to devices).
    airtime: Station<Box<Job>>,
    series: Series,
    /// Uplink channels (responses and alerts from devices).
    uplink: Station<Box<Job>>,
    uplink_series: Series,
    /// Alerts raised so far (their ids' sequence numbers).
    alert_seq: u64,
    duplicates_sent: u64,
    /// Events put off while the region's primary was down (`csp_outage`).
    deferred: u64,
    /// Replaying attackers' recordings on this region's WAN, per attack
    /// of the run (empty for attacks of other kinds).
    taps: Vec<WanTap>,
}

/// What the run's results take from a CSP.
pub struct CspTotals {
    /// Airtime utilisation.
    pub utilisation: f64,
    /// Longest queue.
    pub queue_len_max: u64,
    /// Per-minute series.
    pub series: Series,
    /// Jobs waiting for airtime (either way) at the end, per request kind.
    pub queued: Vec<usize>,
    /// The uplink's utilisation, longest queue and per-minute series.
    pub uplink: (f64, u64, Series),
    /// Device alerts raised in the region (including meters' refusal alerts).
    pub alerts_raised: u64,
    /// Copies of transmissions a tampering CSP sent (`duplicate_share`).
    pub duplicates_sent: u64,
    /// Events a down CSP put off until its standby took over (`csp_outage`).
    pub outage_deferred: u64,
}

impl Csp {
    /// Region `region`'s CSP.
    pub fn new(w: &World, region: usize) -> Self {
        Csp {
            region,
            airtime: Station::new(w.sc.parameters.csp.region(region).concurrent),
            series: Series::default(),
            uplink: Station::new(w.sc.parameters.csp.region(region).concurrent),
            uplink_series: Series::default(),
            alert_seq: 0,
            duplicates_sent: 0,
            deferred: 0,
            taps: w.attacks.iter().map(|_| WanTap::default()).collect(),
        }
    }

    fn entity(&self, w: &World) -> EntityId {
        w.csp0 + self.region as u32
    }

    /// Handles a message to this CSP.
    pub fn handle(&mut self, w: &World, msg: Msg, env: &mut Env<'_, '_>) {
        // A lost primary data centre handles nothing until the standby
        // takes over: every event waits, and runs then in arrival order.
        if let Some(back) = self.down_until(w, env.now()) {
            self.deferred += 1;
            env.send_self((back - env.now().0).max(1), msg);
            return;
        }
        match msg {
            Msg::Downlink(job) => self.transmit(w, job, Came::Arrival, env),
            Msg::Retry(job) => self.transmit(w, job, Came::Retry, env),
            Msg::AirtimeDone(job) => self.airtime_done(w, job, env),
            Msg::Uplink(job) => self.uplink(w, job, env),
            Msg::UplinkDone(job) => self.uplink_done(w, job, env),
            Msg::AlertTick => self.alert_tick(w, env),
            Msg::AttackTick(i) => self.attack_tick(w, i as usize, env),
            other => unreachable!("not a message for a CSP: {other:?}"),
        }
    }

    /// A command to transmit (from the DSP, injected on the WAN, or `came`
    /// again after a timeout).
    fn transmit(&mut self, w: &World, job: Box<Job>, came: Came, env: &mut Env<'_, '_>) {
        let now = env.now();
        for (i, (a, tap)) in w.attacks.iter().zip(&mut self.taps).enumerate() {
            if let AttackSpec::Replay(a) = a {
                tap.observe(a, w.suppliers, w.attack_start_ns(i), &job, now);
            }
        }
        let air = downlink_ns(w, self.region, &job);
        let started = self.airtime.arrive(now, job);
        self.series.note(now, self.airtime.queue_len(), came);
        if let Some(job) = started {
            env.send_self(air, Msg::AirtimeDone(job));
        }
    }

    /// When this region's CSP is down (a `csp_outage`), when it is back.
    fn down_until(&self, w: &World, now: SimTime) -> Option<u64> {
        w.active_attacks(AttackKind::CspOutage, now.0)
            .filter(
                |(a, _)| matches!(a, AttackSpec::CspOutage(o) if o.region as usize == self.region),
            )
            .map(|(_, end)| end)
            .max()
    }

    /// A compromised CSP's drop probability, mean extra delay (ns) and
    /// duplication probability now.
    fn tamper(&self, w: &World, now: SimTime) -> (f64, f64, f64) {
        // The first tampering under way in this region decides.
        w.active_attacks(AttackKind::CspTamper, now.0)
            .find_map(|(a, _)| match a {
                AttackSpec::CspTamper(a) if a.region as usize == self.region => {
                    Some((a.drop_share, a.delay_mean_s * 1e9, a.duplicate_share))
                }
                _ => None,
            })
            .unwrap_or((0.0, 0.0, 0.0))
    }

    /// A transmission ended: lost (retry or time out) or on its way to the meter.
    fn airtime_done(&mut self, w: &World, mut job: Box<Job>, env: &mut Env<'_, '_>) {
        let now = env.now();
        if let Some((next, _)) = self.airtime.finish(now) {
            env.send_self(downlink_ns(w, self.region, &next), Msg::AirtimeDone(next));
        }
        let p = &w.sc.parameters;
        let loss = p.csp.region(self.region).loss;
        job.attempts += 1;
        let (drop, extra_ns, dup) = self.tamper(w, now);
        // A meter not yet installed has no hub on the network to reach:
        // the transmission is lost, as every retry will be.
        let lost = env.rng.open01() < loss
            || (drop > 0.0 && env.rng.open01() < drop)
            || !w.on_network(job.meter, now.0);
        if lost {
            if job.attempts as u32 > p.csp.max_retries {
                job.outcome = Outcome::WanTimeout;
                // Nothing comes back from the meter: no response to authenticate.
                job.bytes = None;
                let d = env.rng.dsp_to_csp_ns(p);
                env.send(w.dsp, d, Msg::Response(job));
            } else {
                env.send_self(secs_to_ns(p.csp.retry_timeout_s).max(1), Msg::Retry(job));
            }
            return;
        }
        let extra = if extra_ns > 0.0 {
            exp_ns(env.rng.bits(), extra_ns)
        } else {
            0
        };
        let down = env.rng.wan_ns(p, self.region) + extra;
        job.wan_up_ns = env.rng.wan_ns(p, self.region);
        if dup > 0.0 && env.rng.open01() < dup {
            // The copy travels on its own delay (tampering still applies).
            let mut copy = job.clone();
            copy.duplicate = true;
            let extra = if extra_ns > 0.0 {
                exp_ns(env.rng.bits(), extra_ns)
            } else {
                0
            };
            let down = env.rng.wan_ns(p, self.region) + extra;
            self.duplicates_sent += 1;
            env.send(w.meter0 + job.meter, down, Msg::Deliver(copy));
        }
        env.send(w.meter0 + job.meter, down, Msg::Deliver(job));
    }

    /// A device's response or alert queues for an uplink channel.
    fn uplink(&mut self, w: &World, job: Box<Job>, env: &mut Env<'_, '_>) {
        let now = env.now();
        let air = uplink_ns(w, self.region, &job);
        let started = self.uplink.arrive(now, job);
        self.uplink_series
            .note(now, self.uplink.queue_len(), Came::Arrival);
        if let Some(job) = started {
            env.send_self(air, Msg::UplinkDone(job));
        }
    }

    /// A device's message is through the uplink and goes on to the DSP. A
    /// meter that refused a command also raised a critical alert (0x8F30,
    /// "source has no authority"), which travels with the response.
    fn uplink_done(&mut self, w: &World, job: Box<Job>, env: &mut Env<'_, '_>) {
        if let Some((next, _)) = self.uplink.finish(env.now()) {
            env.send_self(uplink_ns(w, self.region, &next), Msg::UplinkDone(next));
        }
        let refused = job.kind != ReqKind::Alert
            && matches!(job.outcome, Outcome::MeterRefused | Outcome::Replay)
            && w.sc.parameters.soc.meter_refusal_alerts;
        let (meter, at) = (job.meter, SimTime(job.meter_out_ns));
        let d = env.rng.dsp_to_csp_ns(&w.sc.parameters);
        env.send(w.dsp, d, Msg::Response(job));
        if refused {
            self.send_alert(
                w,
                meter,
                AlertKind::NoAuthority,
                Origin::RefusalAlert,
                at,
                0,
                env,
            );
        }
    }

    /// The region's next device alert (one Poisson stream for the region).
    fn alert_tick(&mut self, w: &World, env: &mut Env<'_, '_>) {
        let r = self.region;
        let n = (w.region_bounds[r + 1] - w.region_bounds[r]) as f64;
        let t = &w.sc.parameters.traffic;
        let rate = n * t.alerts_per_meter_day / 86_400.0;
        if rate <= 0.0 || n == 0.0 {
            return;
        }
        let gap = exp_ns(env.rng.bits(), 1e9 / rate).max(1);
        env.send_self(gap, Msg::AlertTick);
        let pick = env.rng.bits();
        let meter = w.region_bounds[r] + (((pick >> 32) * n as u64) >> 32) as u32;
        let critical = env.rng.open01() < t.critical_alert_share;
        let now = env.now();
        // A meter not yet installed raises no alerts.
        if !w.on_network(meter, now.0) {
            return;
        }
        let alert = if critical {
            AlertKind::SupplyRestored
        } else {
            AlertKind::NonCritical
        };
        self.send_alert(w, meter, alert, Origin::Bau, now, 0, env);
    }

    /// A meter's alert (critical ones signed by the device, others MAC'd),
    /// sent up the WAN after `delay_ns` (the WAN's own uplink delay is drawn
    /// here unless `origin` is a refusal alert, which travels with the
    /// refused command's response and is sent on at once).
    #[allow(clippy::too_many_arguments)]
    fn send_alert(
        &mut self,
        w: &World,
        meter: u32,
        alert: AlertKind,
        origin: Origin,
        now: SimTime,
        delay_ns: u64,
        env: &mut Env<'_, '_>,
    ) {
        let e = self.entity(w);
        let seq = self.alert_seq;
        self.alert_seq += 1;
        let id = job_id(IdClass::Alert, e, seq);
        let msg = if alert.critical() {
            MessageKind::Alert
        } else {
            MessageKind::ReadInstantaneous
        };
        let created = now.0 + delay_ns;
        let mut job = Box::new(Job::new(
            id,
            ReqKind::Alert,
            msg,
            e,
            0,
            meter,
            created,
            origin,
        ));
        job.meter_in_ns = created;
        job.meter_out_ns = created;
        job.bytes = w.policy.runs_crypto(id).then(|| {
            // Alerts go to the meter's registered supplier.
            let supplier = w.supplier_at(meter, created);
            let o = crate::crypto::device::Outgoing {
                cra: Cra::Alert,
                kind: MessageKind::Alert,
                alert,
                fuel: w.fuel(meter),
                device: w.device_id(meter),
                recipient: w.user_id(supplier),
                counter: seq,
                ok: true,
                at_s: w.clock_s(created),
                registers: [0; 2],
            };
            crate::crypto::device::device_message(
                &o,
                || w.device_key(meter),
                || w.user_secret(supplier, meter),
            )
            .into_boxed_slice()
        });
        if let Some(b) = &job.bytes {
            job.verdict = Dsp::check_ahead(env, meter, b);
        }
        if origin == Origin::RefusalAlert {
            let d = env.rng.dsp_to_csp_ns(&w.sc.parameters);
            env.send(w.dsp, d, Msg::Response(job));
            return;
        }
        let up = env.rng.wan_ns(&w.sc.parameters, self.region);
        env.send_self(up + delay_ns, Msg::Uplink(job));
    }

    /// The scenario's action in this region now: a replaying attacker sends
    /// what it recorded; a regional power cut makes meters raise alerts.
    fn attack_tick(&mut self, w: &World, i: usize, env: &mut Env<'_, '_>) {
        match &w.attacks[i] {
            AttackSpec::Replay(a) => self.taps[i].replay(a, w.attacker, env),
            AttackSpec::AlertStorm(a) => {
                let r = self.region;
                let (lo, hi) = (w.region_bounds[r], w.region_bounds[r + 1]);
                let n = ((hi - lo) as f64 * a.storm_share).round() as u64;
                let span = (hi - lo) as u64;
                let now = env.now();
                for i in 0..n {
                    let meter = lo + (i * span / n.max(1)) as u32;
                    let delay = (env.rng.open01() * a.storm_spread_s * 1e9) as u64;
                    let a = AlertKind::SupplyRestored;
                    self.send_alert(w, meter, a, Origin::Bau, now, delay, env);
                }
            }
            _ => {}
        }
    }

    /// Figures for the results at the end of the run.
    pub fn totals(&mut self, end: SimTime) -> CspTotals {
        CspTotals {
            utilisation: self.airtime.utilisation(end),
            queue_len_max: self.airtime.stats_at(end).queue_len_max,
            series: Series {
                utilisation: self.airtime.utilisation_by_minute(end),
                ..std::mem::take(&mut self.series)
            },
            queued: (self.airtime.queued().chain(self.uplink.queued()))
                .map(|j| j.kind as usize)
                .collect(),
            uplink: (
                self.uplink.utilisation(end),
                self.uplink.stats_at(end).queue_len_max,
                Series {
                    utilisation: self.uplink.utilisation_by_minute(end),
                    ..std::mem::take(&mut self.uplink_series)
                },
            ),
            alerts_raised: self.alert_seq,
            duplicates_sent: self.duplicates_sent,
            outage_deferred: self.deferred,
        }
    }
}

/// How long `bytes` hold one of region `r`'s channels: the fixed part
/// (`csp.airtime_ms`) plus the bytes at the region's link rate.
fn airtime_ns(w: &World, r: usize, bytes: usize) -> u64 {
    let p = &w.sc.parameters.csp;
    let ms = p.airtime_ms + bytes as f64 * 8.0 / p.region(r).kbps;
    ((ms * NS_PER_MS) as u64).max(1)
}

/// A command's downlink airtime. A firmware image holds the channel for
/// `response.firmware_airtime_ms` (its transfer), whatever its frame.
fn downlink_ns(w: &World, r: usize, job: &Job) -> u64 {
    if job.msg == MessageKind::UpdateFirmware {
        let ms = w.sc.parameters.response.firmware_airtime_ms;
        return ((ms * NS_PER_MS) as u64).max(1);
    }
    airtime_ns(w, r, job.msg.wire_len(w.fuel(job.meter), Cra::Command))
}

/// A response's or alert's uplink airtime.
fn uplink_ns(w: &World, r: usize, job: &Job) -> u64 {
    let bytes = match (job.kind, job.msg) {
        (ReqKind::Alert, MessageKind::Alert) => job.msg.wire_len(w.fuel(job.meter), Cra::Alert),
        (ReqKind::Alert, _) => NON_CRITICAL_ALERT_BYTES,
        _ => job.msg.wire_len(w.fuel(job.meter), Cra::Response),
    };
    airtime_ns(w, r, bytes)
}
