//! DCC users: suppliers and other users (network operators and the rest),
//! generating business-as-usual service requests as Poisson streams.
//!
//! Each user sends each of its request types as a non-homogeneous Poisson
//! process, sampled by thinning against the type's peak rate: a daytime
//! profile for on-demand reads and top-ups, a nightly window for scheduled
//! reads, flat rates for the rest. A supplier addresses the meters
//! registered to it (or, by mistake, any meter). Other users' traffic is
//! their standing schedules, which the DSP runs (`dsp/scheduled.rs`).

use super::desk::Desk;
use super::suppliers::Supplier;
use crate::crypto::gbcs::MessageKind;
use crate::engine::{EntityId, SimTime};
use crate::models::system::env::Env;
use crate::models::system::msg::{Job, Msg, Origin, Outcome, RecoveryStep, SecurityEvent};
use crate::models::system::stats::KindStats;
use crate::models::system::world::{ReqKind, Signer, World};

/// The users a shard owns: their request desk and, for suppliers, their
/// incident and recovery state.
pub struct Users {
    desk: Desk,
    suppliers: Vec<Supplier>,
    /// Per user: until when (ns) it has told the DCC it disowns held
    /// requests (it tells once per anomaly window).
    disowned_told: Vec<u64>,
}

/// The request kinds user `u` generates.
pub fn streams_of(w: &World, u: EntityId) -> &'static [ReqKind] {
    if u < w.suppliers {
        &[
            ReqKind::ScheduledRead,
            ReqKind::OnDemandRead,
            ReqKind::PrepaymentTopUp,
            ReqKind::TariffUpdate,
            ReqKind::CriticalCommand,
            ReqKind::Configuration,
            ReqKind::FirmwareDistribution,
        ]
    } else {
        // Other users' traffic is their standing schedules, which the DSP
        // runs (`dsp/scheduled.rs`).
        &[]
    }
}

/// Requests per second of `kind` from user `u` at time `t`, and the
/// peak rate (for thinning).
fn rate(w: &World, u: EntityId, kind: ReqKind, t: SimTime) -> (f64, f64) {
    let tr = &w.sc.parameters.traffic;
    let meters_of_user = w.traffic_meters(u);
    let day = 86_400.0;
    let hour = ((t.as_secs_f64() + w.clock0_s) % day) / 3600.0;
    // Daytime profile: a raised cosine peaking at 18:00 with the given peak/mean ratio.
    let peak = tr.daytime_profile_peak_ratio;
    let profile = 1.0 + (peak - 1.0) * ((hour - 18.0) / 24.0 * std::f64::consts::TAU).cos();
    let base = |per_day: f64| meters_of_user * per_day / day;
    let daytime = |per_day: f64| (base(per_day) * profile, base(per_day) * (2.0 * peak - 1.0));
    let flat = |per_day: f64| (base(per_day), base(per_day));
    match kind {
        ReqKind::ScheduledRead => {
            let (s, e) = (
                tr.scheduled_read_window_start_h,
                tr.scheduled_read_window_end_h,
            );
            let r = meters_of_user * tr.scheduled_reads_per_meter_day / ((e - s) * 3600.0);
            (if hour >= s && hour < e { r } else { 0.0 }, r)
        }
        ReqKind::OnDemandRead => daytime(tr.on_demand_reads_per_meter_day),
        ReqKind::PrepaymentTopUp => daytime(tr.prepayment_topups_per_meter_day),
        ReqKind::TariffUpdate => {
            // A supplier's tariff-change campaign: a share of its meters,
            // spread evenly over the campaign's hours of each day.
            let (s, e) = (tr.tariff_campaign_start_h, tr.tariff_campaign_end_h);
            let c = if u < w.suppliers {
                meters_of_user * tr.tariff_campaign_share / ((e - s) * 3600.0)
            } else {
                0.0
            };
            let (r, max) = flat(tr.tariff_updates_per_meter_day);
            (r + if hour >= s && hour < e { c } else { 0.0 }, max + c)
        }
        ReqKind::CriticalCommand => flat(tr.critical_background_per_meter_day),
        ReqKind::Configuration => flat(tr.configuration_per_meter_day),
        ReqKind::FirmwareDistribution => flat(tr.firmware_distribution_per_meter_day),
        _ => (0.0, 0.0),
    }
}

impl Users {
    /// The users of a world; `owns(u)` says which this shard runs.
    pub fn new(w: &World, owns: impl Fn(EntityId) -> bool) -> Self {
        Users {
            desk: Desk::new(w.users, owns),
            suppliers: (0..w.suppliers).map(|s| Supplier::new(w, s)).collect(),
            disowned_told: vec![0; w.users as usize],
        }
    }

    /// User `u`'s next request of `kind`: schedules the one after (Poisson
    /// by thinning), then, if accepted, picks a meter and sends it.
    pub fn generate(&mut self, w: &World, u: EntityId, kind: ReqKind, env: &mut Env<'_, '_>) {
        if kind == ReqKind::ChangeOfSupplier || kind == ReqKind::Installation {
            return self.dated(w, u, kind, env);
        }
        let now = env.now();
        let (_, max) = rate(w, u, kind, now);
        if max > 0.0 {
            let gap = crate::engine::rng::exp_ns(env.rng.bits(), 1e9 / max).max(1);
            env.send_self(gap, Msg::Generate(kind));
        }
        let (rate, max) = rate(w, u, kind, now);
        // Thinning: accept with probability rate/max.
        if env.rng.open01() * max >= rate {
            return;
        }
        // Target: a uniformly random meter registered to this user, or by
        // mistake (stale registration) any meter of the fleet.
        let pick = env.rng.bits();
        let misaddressed =
            u < w.suppliers && env.rng.open01() < w.sc.parameters.meters.misaddressed_share;
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
        // A meter it lost to another supplier is no longer its to address
        // (its traffic is not carried over to the gaining supplier:
        // assumption, a few switches per 10,000 meter-days).
        if !misaddressed && u < w.suppliers && w.supplier_at(meter, now.0) != u {
            return;
        }
        // A meter not yet installed is not addressed either (one installed
        // but not yet commissioned may be: the DSP refuses it).
        if !misaddressed && !w.on_network(meter, now.0) {
            return;
        }
        let id = self.desk.next_id(u, kind);
        let msg = World::message_kind(kind, (pick & 0xff) as u8, w.fuel(meter));
        let mut job = Box::new(Job::new(id, kind, msg, u, u, meter, now.0, Origin::Bau));
        job.cred_fuel = w.fuel(meter);
        if let Some(sup) = self.suppliers.get_mut(u as usize) {
            job.cred_gen = sup.cred_gen();
            job.signer = Signer::User(w.cred(u, w.fuel(meter)), sup.anchor_gen(meter));
            if msg == MessageKind::DisableSupply {
                sup.note_ordered_off(meter);
            }
        }
        let key = &w.user_request_keys[u as usize][job.cred_gen as usize].0;
        job.bytes = w.request_bytes(id, msg, u, meter, job.counter, key);
        self.desk.submit(w, u, job, env);
    }

    /// Supplier `u`'s next dated request is due, and the next one of the
    /// kind is scheduled:
    /// * a change of supplier (registration moved the meter to it): it
    ///   asks the DCC for its credentials on the meter (SR 6.23, signed as
    ///   its service request), which the DCC's transitional
    ///   change-of-supplier party signs as the device command;
    /// * an installation (the meter is on the network from now): it
    ///   commissions the meter (SR 8.1.1), a critical command it signs
    ///   with its own key, which the meter checks against the supplier
    ///   anchor it left the factory with.
    fn dated(&mut self, w: &World, u: EntityId, kind: ReqKind, env: &mut Env<'_, '_>) {
        let now = env.now().0;
        let Some(sup) = self.suppliers.get_mut(u as usize) else {
            return;
        };
        let due = if kind == ReqKind::Installation {
            sup.next_install()
        } else {
            sup.next_gain()
        };
        let Some((meter, next_at)) = due else {
            return;
        };
        if let Some(at) = next_at {
            let gap = at.saturating_sub(now).max(1);
            env.send_self(gap, Msg::Generate(kind));
        }
        let msg = World::message_kind(kind, 0, w.fuel(meter));
        let id = self.desk.next_id(u, kind);
        let mut job = Box::new(Job::new(id, kind, msg, u, u, meter, now, Origin::Bau));
        job.cred_fuel = w.fuel(meter);
        job.cred_gen = sup.cred_gen();
        job.signer = if kind == ReqKind::Installation {
            Signer::User(w.cred(u, w.fuel(meter)), sup.anchor_gen(meter))
        } else {
            Signer::Cos
        };
        let key = &w.user_request_keys[u as usize][job.cred_gen as usize].0;
        job.bytes = w.request_bytes(id, msg, u, meter, job.counter, key);
        self.desk.submit(w, u, job, env);
    }

    /// A request of user `u` finished. A supplier notes a replaced
    /// anchor, and sends an image again where its activation failed.
    pub fn complete(&mut self, w: &World, u: EntityId, job: Box<Job>, env: &mut Env<'_, '_>) {
        if let Some(s) = self.suppliers.get_mut(u as usize) {
            if job.origin == Origin::Anchor && job.outcome == Outcome::Ok {
                s.note_replaced(job.meter);
            }
            if job.msg == MessageKind::ActivateFirmware
                && matches!(job.outcome, Outcome::WanTimeout | Outcome::MeterRefused)
            {
                s.activation_failed(w, job.meter, env);
            }
        }
        self.desk.complete(u, &job, env.now());
    }

    /// User `u` is told that a request under its identity is quarantined:
    /// after reviewing it (`parameters.anomaly.release_mean_min`,
    /// exponential), it releases a request it made itself (its own entity
    /// in the request id) and deletes any other (one it never sent). A
    /// user deleting requests it never sent tells the DCC's SOC, at most
    /// once per anomaly window (`parameters.anomaly.window_s`).
    pub fn quarantine_notice(
        &mut self,
        w: &World,
        u: EntityId,
        job: Box<Job>,
        env: &mut Env<'_, '_>,
    ) {
        let p = &w.sc.parameters;
        let mine = (job.id >> 40 & 0xFFFF) as EntityId == u;
        let review = env.rng.exp_ms(p.anomaly.release_mean_min * 60_000.0);
        let d = review.saturating_add(env.rng.user_link_ns(p));
        let at = env.now().0.saturating_add(d);
        let told = &mut self.disowned_told[u as usize];
        if !mine && at >= *told {
            *told = at.saturating_add(crate::engine::time::secs_to_ns(p.anomaly.window_s));
            env.send(w.soc, d, Msg::Security(SecurityEvent::Disowned(u)));
        }
        env.send(w.dsp, d, Msg::QuarantineDecision(job, mine));
    }

    /// Supplier `u` was contained: see [`Supplier::contained`].
    pub fn contained(&mut self, w: &World, u: EntityId, log: Vec<u32>, env: &mut Env<'_, '_>) {
        self.suppliers[u as usize].contained(w, log, env);
    }

    /// A household of supplier `u` calls: see [`Supplier::customer_call`].
    pub fn customer_call(&mut self, w: &World, u: EntityId, m: u32, env: &mut Env<'_, '_>) {
        self.suppliers[u as usize].customer_call(w, u, m, env);
    }

    /// Supplier `u`'s scheduled recovery step: the request it makes (if
    /// any) is sent, then the campaign's next step is scheduled.
    pub fn recover(&mut self, w: &World, u: EntityId, step: RecoveryStep, env: &mut Env<'_, '_>) {
        let sup = &mut self.suppliers[u as usize];
        let Some(r) = sup.recovery_request(w, u, step) else {
            return;
        };
        let id = self.desk.next_id(u, ReqKind::Recovery);
        let now = env.now();
        let mut job = Box::new(Job::new(
            id,
            ReqKind::Recovery,
            r.msg,
            u,
            u,
            r.meter,
            now.0,
            r.origin,
        ));
        job.cred_fuel = w.fuel(r.meter);
        job.cred_gen = sup.cred_gen();
        job.signer = r.signer;
        let key = &w.user_request_keys[u as usize][job.cred_gen as usize].0;
        job.bytes = w.request_bytes(id, r.msg, u, r.meter, job.counter, key);
        self.desk.submit(w, u, job, env);
        if let Some(gap) = r.next_step_ns {
            env.send_self(gap, Msg::Recover(step));
        }
        if let Some((after, next)) = r.follow_up {
            env.send_self(after.max(1), Msg::Recover(next));
        }
    }

    /// Figures per request kind (added to `into`), and restorations scheduled.
    /// Its figures: per-kind totals into `into`; returns the restorations
    /// scheduled and the images sent again after failed activations.
    pub fn totals(&self, into: &mut [KindStats]) -> (u64, u64) {
        self.desk.totals(into);
        (
            self.suppliers.iter().map(|s| s.restores() as u64).sum(),
            self.suppliers.iter().map(Supplier::redeliveries).sum(),
        )
    }
}
