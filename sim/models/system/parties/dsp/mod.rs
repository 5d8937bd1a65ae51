//! The DSP (Data Service Provider) with the ACB (access control broker):
//! the DCC's central request path.
//!
//! A request is checked in order: the user's certificate is not revoked,
//! its signature verifies, the user's role may send this message and the
//! meter is registered to it (identity and access management), and the
//! user is under its anomaly thresholds. An accepted request becomes a
//! device command (signed by its originator for critical commands, MAC'd
//! by the ACB) that goes to the meter's CSP. Responses and alerts come
//! back through the same worker pool and are authenticated. Signature
//! checks and command building are pure, so a window's worth of them run
//! in parallel in [`Dsp::prepare`] and are applied in key order.

mod alerts;
mod anomaly;
pub mod rekey;
pub mod scheduled;
pub mod smi;

pub use self::alerts::AlertDelivery;
use self::anomaly::{Raise, Security};
use crate::crypto::ecdsa::hash_to_scalar;
use crate::crypto::gbcs::{frame, Cra, MessageKind};
use crate::crypto::mac::{derive_mac_key, gsa_mac_ok, MacMode};
use crate::crypto::mode::CryptoCounters;
use crate::crypto::request::{role_may_send, ServiceRequest};
use crate::engine::{Event, SimTime};
use crate::models::system::attack::AttackKind;
use crate::models::system::env::Env;
use crate::models::system::msg::{
    Command, Job, Msg, Origin, Outcome, Prep, SecurityEvent, Verdict,
};
use crate::models::system::parties::meters;
use crate::models::system::station::Station;
use crate::models::system::stats::{Came, KindStats, Series};
use crate::models::system::timeline::Col;
use crate::models::system::world::{kind_index, ReqKind, Signer, World};

/// The DSP: its worker pool, security state and figures.
pub struct Dsp {
    workers: Station<(Box<Job>, bool)>,
    security: Security,
    /// Alerts that ended at the DCC.
    alerts: KindStats,
    series: Series,
    crypto: CryptoCounters,
    duplicates_discarded: u64,
    /// Alerts delivered to users, retried, held or dropped.
    delivery: AlertDelivery,
    /// Next run number of each other user's schedules (see `scheduled.rs`).
    scheduled_seq: Vec<u64>,
    /// DCC-scheduled requests the DSP started.
    scheduled_sent: u64,
    /// The DCC's ACB rekey campaign (see `rekey.rs`).
    rekey: rekey::Rekey,
    /// The inventory status of meters installed in the run (see `smi.rs`).
    smi: smi::Smi,
}

/// What the run's results take from the DSP.
pub struct DspTotals {
    /// Worker utilisation.
    pub utilisation: f64,
    /// Longest queue.
    pub queue_len_max: u64,
    /// Per-minute series.
    pub series: Series,
    /// Alerts that ended at the DCC.
    pub alerts: KindStats,
    /// Crypto decisions.
    pub crypto: CryptoCounters,
    /// When each user was contained.
    pub contained_at_ns: Vec<Option<u64>>,
    /// Jobs waiting for a worker at the end, per request kind.
    pub queued: Vec<usize>,
    /// Responses to a tampering CSP's copies, discarded.
    pub duplicates_discarded: u64,
    /// Alerts delivered to users, by way of delivery.
    pub delivery: AlertDelivery,
    /// DCC-scheduled requests the DSP started.
    pub scheduled_sent: u64,
    /// The ACB rekey campaign's figures, and its updates as requests.
    pub acb_rekey: (rekey::RekeyTotals, KindStats),
    /// The inventory's commissionings and status refusals.
    pub smi: smi::SmiTotals,
}

impl Dsp {
    /// The DSP of a world.
    pub fn new(w: &World) -> Self {
        Dsp {
            workers: Station::new(w.sc.parameters.dsp.workers),
            security: Security::new(w.users),
            alerts: KindStats::default(),
            series: Series::default(),
            crypto: CryptoCounters::default(),
            duplicates_discarded: 0,
            delivery: AlertDelivery::default(),
            scheduled_seq: vec![0; (w.users - w.suppliers) as usize],
            scheduled_sent: 0,
            rekey: rekey::Rekey::new(w),
            smi: smi::Smi::new(w),
        }
    }

    /// The heavy, pure work, run in parallel over a window: checking a
    /// request's signature and building its device command (signature and
    /// ACB MAC), or checking a response's or alert's authentication.
    /// Requests the DSP's state at the start of the window already refuses
    /// (revoked credentials, a threshold already exceeded) get no command built.
    pub fn prepare(&self, w: &World, ev: &Event<Msg>) -> Option<Prep> {
        let sec = &self.security;
        let blocked = |job: &Job| {
            sec.revoked(job.claimed, job.cred_gen)
                || sec.over_threshold(w, job.claimed, kind_index(job.msg), ev.time)
        };
        Self::prepare_given(w, ev, blocked, |m| self.rekey.gen(m))
    }

    /// [`Dsp::prepare`] without the DSP's state, on another MPI rank's copy
    /// of its shard: the same verdicts, and a command for every verified
    /// request (one the DSP then refuses simply goes unused), MAC'd with
    /// the commissioned ACB key (the DSP rebuilds one for a rekeyed meter).
    pub fn prepare_anywhere(w: &World, ev: &Event<Msg>) -> Option<Prep> {
        Self::prepare_given(w, ev, |_| false, |_| 0)
    }

    fn prepare_given(
        w: &World,
        ev: &Event<Msg>,
        blocked: impl Fn(&Job) -> bool,
        acb_gen: impl Fn(u32) -> u8,
    ) -> Option<Prep> {
        match &ev.msg {
            Msg::Request(job) => {
                let bytes = job.bytes.as_ref()?;
                let ok = Verdict::on(&job.verdict, bytes, || verify_request(w, job));
                let command = (ok && !blocked(job)).then(|| {
                    let gen = acb_gen(job.meter);
                    Verdict::command(&job.verdict, bytes, gen, || command_bytes(w, job, gen))
                });
                Some(Prep { ok, command })
            }
            Msg::Response(job) if !job.duplicate => {
                let bytes = job.bytes.as_ref()?;
                Some(Prep {
                    ok: response_ok(w, job, bytes),
                    command: None,
                })
            }
            _ => None,
        }
    }

    /// Starts the DSP's check of a service request's signature when its
    /// user has signed it (see [`Dsp::check_ahead`]), and the device
    /// command the DSP would build from it under the commissioned ACB key
    /// (a pure function of the request; unused if the DSP refuses it or
    /// believes the meter holds another ACB key).
    pub fn verify_ahead(env: &Env<'_, '_>, job: &Job) -> Option<Verdict> {
        let (claimed, cred_gen) = (job.claimed, job.cred_gen);
        let mut v = env.verdict_ahead(job.bytes.as_deref()?, move |w, b| {
            verify_request_bytes(w, claimed, cred_gen, b)
        })?;
        let mut j = job.clone();
        j.verdict = None;
        v.command = env.ahead(move |w| command_bytes(w, &j, 0));
        Some(v)
    }

    /// Starts the DSP's authentication of a response or alert that meter
    /// `meter`'s device has just made, on the run's pool: it is a pure
    /// function of the bytes and the world's keys, and the DSP needs it a
    /// WAN crossing later. A speed device only ([`crate::engine::Ahead`]):
    /// the DSP's decision is the same without it.
    pub fn check_ahead(env: &Env<'_, '_>, meter: u32, bytes: &[u8]) -> Option<Verdict> {
        env.verdict_ahead(bytes, move |w, b| check_response(w, meter, b))
    }

    /// A request arrives: revocation, signature, authorisation (role and
    /// registration), anomaly thresholds; then the command is built and the
    /// job queues for a worker.
    pub fn request(
        &mut self,
        w: &World,
        mut job: Box<Job>,
        prep: Option<Prep>,
        env: &mut Env<'_, '_>,
    ) {
        let now = env.now();
        job.dsp_in_ns = now.0;
        // The signature check started ahead served `prepare`; the job's
        // bytes become the device command from here.
        job.verdict = None;
        let u = job.claimed;
        if self.security.revoked(u, job.cred_gen) {
            job.outcome = Outcome::DspUserSuspended;
            env.count(Col::Suspended, 1);
        } else {
            // A sampled request carries bytes (its sender built them under
            // the same rule); one without is decided by its ground truth.
            let sig_ok = w
                .policy
                .decide(job.id, job.request_genuine, &mut self.crypto, || {
                    job.bytes.is_some()
                        && prep
                            .as_ref()
                            .map(|p| p.ok)
                            .unwrap_or_else(|| verify_request(w, &job))
                });
            let registered = u >= w.suppliers || w.supplier_at(job.meter, now.0) == u;
            if !sig_ok {
                job.outcome = Outcome::DspBadSignature;
                env.count(Col::DspBadSignature, 1);
            } else if !(role_may_send(w.role_for(u, job.cred_fuel), job.msg)
                && job.cred_fuel == w.fuel(job.meter)
                && registered)
            {
                job.outcome = Outcome::DspNotAuthorised;
                env.count(Col::DspNotAuthorised, 1);
            } else if !self.smi.allows(w, job.meter, job.msg) {
                job.outcome = Outcome::DspWrongStatus;
            } else if self.quarantines(w, u, job.msg, env) {
                env.count(Col::Quarantined, 1);
                self.hold(w, job, env);
                return;
            } else {
                self.admit(w, &mut job, prep);
            }
        }
        if job.outcome != Outcome::Ok {
            job.bytes = None;
        }
        self.arrive(w, job, false, env);
    }

    /// A request that passed every check: a disable is logged under its
    /// user, and a request with bytes gets its device command, MAC'd with
    /// the ACB key the DSP believes the meter holds.
    fn admit(&mut self, w: &World, job: &mut Job, prep: Option<Prep>) {
        if job.msg == MessageKind::DisableSupply {
            self.security.log_disable(job.claimed, job.meter);
        }
        job.acb_gen = self.rekey.gen(job.meter);
        // A change of supplier's credential update is signed inside the
        // DCC, by its transitional CoS party: no pre-command round trip.
        if job.signer == Signer::Cos {
            job.pre_signed = true;
        }
        if job.bytes.is_some() {
            let (bytes, z, _) = prep
                .and_then(|p| p.command)
                .filter(|c| c.2 == job.acb_gen)
                .unwrap_or_else(|| command_bytes(w, job, job.acb_gen));
            job.bytes = Some(bytes);
            job.acb_z = Some(z);
        }
    }

    /// Quarantine: the request is held and its user is told (securely, out
    /// of band of the user's gateway: assumption), who decides whether the
    /// DCC releases or deletes it. A request presented under an identity
    /// that is no user's is deleted at once.
    fn hold(&mut self, w: &World, job: Box<Job>, env: &mut Env<'_, '_>) {
        if job.claimed < w.users {
            let d = env.rng.user_link_ns(&w.sc.parameters);
            env.send(job.claimed, d, Msg::QuarantineNotice(job));
        } else {
            self.quarantine_decision(w, job, false, env);
        }
    }

    /// The user's decision on a held request: released, it goes on as if
    /// it had passed the thresholds (unless the user was suspended
    /// meanwhile); deleted, it ends as quarantined.
    pub fn quarantine_decision(
        &mut self,
        w: &World,
        mut job: Box<Job>,
        release: bool,
        env: &mut Env<'_, '_>,
    ) {
        if !release {
            job.outcome = Outcome::DspQuarantined;
            env.count(Col::QuarantineDeleted, 1);
        } else if self.security.revoked(job.claimed, job.cred_gen) {
            job.outcome = Outcome::DspUserSuspended;
            env.count(Col::Suspended, 1);
        } else {
            env.count(Col::QuarantineReleased, 1);
            self.admit(w, &mut job, None);
        }
        if job.outcome != Outcome::Ok {
            job.bytes = None;
        }
        self.arrive(w, job, false, env);
    }

    /// A signed pre-command is back: unless its user was suspended
    /// meanwhile, it queues for a worker to apply the ACB's MAC and send it on.
    pub fn signed_pre_command(&mut self, w: &World, mut job: Box<Job>, env: &mut Env<'_, '_>) {
        if self.security.revoked(job.claimed, job.cred_gen) {
            job.outcome = Outcome::DspUserSuspended;
            job.bytes = None;
            env.count(Col::Suspended, 1);
        }
        self.arrive(w, job, false, env);
    }

    /// Anomaly detection: whether user `u`'s request is quarantined; the
    /// SOC is told once per user, type and window.
    fn quarantines(&mut self, w: &World, u: u32, msg: MessageKind, env: &mut Env<'_, '_>) -> bool {
        let (over, raise) = self.security.anomaly(w, u, msg, env.now());
        if raise == Raise::Tell {
            env.send(
                w.soc,
                w.sc.parameters.lookahead_ns(),
                Msg::Security(SecurityEvent::Anomaly(u)),
            );
        }
        over
    }

    /// A meter's response (or an alert) arrives from a CSP: its
    /// authentication is checked, then it queues for a worker.
    pub fn response(
        &mut self,
        w: &World,
        mut job: Box<Job>,
        prep: Option<Prep>,
        env: &mut Env<'_, '_>,
    ) {
        if job.duplicate {
            // The DSP matches responses to the requests it is waiting for:
            // a copy's response answers one already answered (the model
            // always discards the copy's, whichever arrives first).
            self.duplicates_discarded += 1;
            return;
        }
        if job.dsp_in_ns == 0 {
            job.dsp_in_ns = env.now().0;
        }
        // Every response the meter made (and every alert) is authenticated:
        // by its bytes when the message is sampled, else by ground truth.
        let bytes = job.bytes.take();
        if bytes.is_some() || job.outcome == Outcome::Ok {
            let ok = w
                .policy
                .decide(job.id, true, &mut self.crypto, || match (&prep, &bytes) {
                    (Some(p), _) => p.ok,
                    (None, Some(b)) => response_ok(w, &job, b),
                    (None, None) => false,
                });
            if !ok && job.outcome == Outcome::Ok {
                job.outcome = Outcome::ResponseBadAuth;
            }
        }
        self.arrive(w, job, true, env);
    }

    fn arrive(&mut self, w: &World, job: Box<Job>, response: bool, env: &mut Env<'_, '_>) {
        let now = env.now();
        let started = self.workers.arrive(now, (job, response));
        self.series
            .note(now, self.workers.queue_len(), Came::Arrival);
        if let Some((job, response)) = started {
            self.start(w, job, response, env);
        }
    }

    fn start(&mut self, w: &World, job: Box<Job>, response: bool, env: &mut Env<'_, '_>) {
        let p = &w.sc.parameters.dsp;
        let mean = if response {
            p.response_service_ms
        } else {
            p.request_service_ms
        };
        let s = env.rng.exp_ms(mean).max(1);
        env.send_self(s, Msg::DspDone(job, response));
    }

    /// When the DSP is down (its primary data centre lost), when it is back.
    pub fn down_until(w: &World, now: SimTime) -> Option<u64> {
        w.active_attacks(AttackKind::DspOutage, now.0)
            .map(|(_, end)| end)
            .max()
    }

    /// A worker finished a job: a request goes on to its CSP (or, refused,
    /// back to the user); a response goes back to the user; an alert ends
    /// here, logged for the SIEM rule.
    pub fn done(&mut self, w: &World, mut job: Box<Job>, response: bool, env: &mut Env<'_, '_>) {
        let now = env.now();
        // A lost primary data centre: work in flight is redone after failover.
        if let Some(back) = Self::down_until(w, now) {
            let redo = env.rng.exp_ms(w.sc.parameters.dsp.request_service_ms);
            env.send_self((back - now.0 + redo).max(1), Msg::DspDone(job, response));
            return;
        }
        if let Some(((j, r), _)) = self.workers.finish(now) {
            self.start(w, j, r, env);
        }
        let p = &w.sc.parameters;
        if response && job.kind == ReqKind::Alert {
            // Alerts are logged by security operations, and those that
            // authenticated are delivered to the meter's supplier.
            self.alerts.record_alert(&job, now);
            if job.outcome == Outcome::Ok {
                self.delivery.deliver(w, job.meter, job.created_ns, env);
            }
            if job.origin == Origin::RefusalAlert {
                env.send(
                    w.soc,
                    p.lookahead_ns(),
                    Msg::Security(SecurityEvent::MeterRefusalAlert),
                );
            }
            if job.msg == MessageKind::Alert && self.security.alert_volume(w, now) == Raise::Tell {
                env.send(
                    w.soc,
                    p.lookahead_ns(),
                    Msg::Security(SecurityEvent::AlertVolume),
                );
            }
        } else if response && job.origin == Origin::AcbRekey {
            self.acb_rekey_done(w, &job, env);
        } else if response || job.outcome != Outcome::Ok {
            if response && self.smi.response(w, &job, now.0) {
                self.acb_rekey_commissioned(w, job.meter, env);
            }
            let d = env.rng.user_link_ns(p);
            env.send(job.user, d, Msg::Complete(job));
        } else if job.msg.is_critical() && !job.pre_signed {
            // The critical command round trip: the pre-command goes back to
            // its sender to be signed (the signature itself was made when the
            // command was built; this leg is its time and the DSP's load).
            job.pre_signed = true;
            let d = env.rng.user_link_ns(p);
            env.send(job.user, d, Msg::PreCommand(job));
        } else {
            job.dsp_out_ns = now.0;
            // The ACB's MAC is applied last: a meter rekeyed since the
            // command was built gets it under the new key.
            let gen = self.rekey.gen(job.meter);
            if job.acb_gen != gen {
                job.acb_gen = gen;
                if job.bytes.is_some() {
                    let (bytes, z, _) = command_bytes(w, &job, gen);
                    job.bytes = Some(bytes);
                    job.acb_z = Some(z);
                }
            }
            let region = w.region_of(job.meter);
            let d = env.rng.dsp_to_csp_ns(p);
            job.verdict = meters::signature_ahead(env, &job);
            env.send(w.csp0 + region as u32, d, Msg::Downlink(job));
        }
    }

    /// Containment: suspend the user, revoke its certificate, block its
    /// traffic; a supplier is told which meters were disabled under its identity.
    pub fn contain(&mut self, w: &World, u: u32, env: &mut Env<'_, '_>) {
        let Some(log) = self.security.contain(u, env.now()) else {
            return;
        };
        if u < w.suppliers {
            let d = env.rng.user_link_ns(&w.sc.parameters);
            env.send(u, d, Msg::Contained(log));
        }
    }

    /// Figures for the results at the end of the run.
    pub fn totals(&mut self, end: SimTime) -> DspTotals {
        DspTotals {
            utilisation: self.workers.utilisation(end),
            queue_len_max: self.workers.stats_at(end).queue_len_max,
            series: Series {
                utilisation: self.workers.utilisation_by_minute(end),
                ..std::mem::take(&mut self.series)
            },
            alerts: std::mem::take(&mut self.alerts),
            crypto: self.crypto,
            contained_at_ns: self.security.contained_at_ns().to_vec(),
            queued: self
                .workers
                .queued()
                .map(|(j, _)| j.kind as usize)
                .collect(),
            duplicates_discarded: self.duplicates_discarded,
            scheduled_sent: self.scheduled_sent,
            delivery: self.delivery,
            acb_rekey: self.rekey.totals(),
            smi: self.smi.totals(),
        }
    }

    /// A failed alert delivery's next attempt (see [`AlertDelivery`]).
    pub fn alert_redeliver(
        &mut self,
        w: &World,
        m: u32,
        raised_ns: u64,
        held: bool,
        env: &mut Env<'_, '_>,
    ) {
        self.delivery.redeliver(w, m, raised_ns, held, env);
    }
}

/// Verifies a request's signature against the claimed user's request key.
fn verify_request(w: &World, job: &Job) -> bool {
    let bytes = job.bytes.as_ref().expect("checked");
    verify_request_bytes(w, job.claimed, job.cred_gen, bytes)
}

/// [`verify_request`] on the bytes and the identity they claim.
fn verify_request_bytes(w: &World, claimed: u32, cred_gen: u8, bytes: &[u8]) -> bool {
    ServiceRequest::decode(bytes).is_some_and(|(sr, signed, sig)| {
        sr.user == w.user_id(claimed)
            && w.user_request_keys[claimed as usize][cred_gen as usize & 1]
                .1
                .verify_prehash(&hash_to_scalar(signed), sig)
    })
}

/// The device command for a request the DSP accepted: the signer's
/// signature (critical kinds) and the ACB's MAC under ACB key `gen`, the
/// ACB secret used, and `gen`.
fn command_bytes(w: &World, job: &Job, gen: u8) -> Command {
    let z = w.acb_secret_gen(job.meter, gen);
    let bytes = w
        .command_bytes(
            job.msg,
            job.signer,
            job.claimed,
            job.meter,
            job.counter,
            job.firmware_genuine,
            job.slot,
            &z,
        )
        .into_boxed_slice();
    (bytes, z, gen)
}

/// The DSP's verdict on a response's or alert's bytes: the one started
/// ahead when the device made them ([`Dsp::check_ahead`]), or computed now.
fn response_ok(w: &World, job: &Job, bytes: &[u8]) -> bool {
    Verdict::on(&job.verdict, bytes, || check_response(w, job.meter, bytes))
}

/// Checks a response's or alert's authentication, as its recipient would:
/// the device's signature, or its MAC under the device–recipient secret.
fn check_response(w: &World, meter: u32, bytes: &[u8]) -> bool {
    let Ok(f) = frame::parse(bytes) else {
        return false;
    };
    if f.originator != w.device_id(meter) {
        return false;
    }
    if let Some(sig) = f.signature {
        let key = w.device_key(meter);
        crate::crypto::verify_oneoff(key.public(), &hash_to_scalar(f.signed_part), sig)
    } else if let Some(tag) = f.mac {
        let mode = if f.cra == Cra::Alert {
            MacMode::Alert
        } else {
            MacMode::Response
        };
        let Some(u) = w.user_of_id(f.recipient) else {
            return false;
        };
        let z = w.user_secret(u, meter);
        let k = derive_mac_key(&z, f.originator, f.recipient, mode, f.counter);
        gsa_mac_ok(&k, f.originator, f.gsa, tag)
    } else {
        false
    }
}
