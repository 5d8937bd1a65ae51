//! DCC-scheduled requests: the DSP runs other users' standing schedules
//! (e.g. network operators' daily reads) itself. A schedule was
//! authenticated and authorised when its user set it up, so a run of it
//! crosses no user link and meets no request check: the DSP builds the
//! device command (ACB-MAC'd under the user's identity) and queues it for
//! a worker; the response goes to the user.

use super::{command_bytes, Dsp};
use crate::engine::rng::exp_ns;
use crate::models::system::env::Env;
use crate::models::system::msg::{job_id, IdClass, Job, Msg, Origin, Outcome};
use crate::models::system::timeline::Col;
use crate::models::system::world::{ReqKind, World};

/// Runs per second of every user's schedules together: the fleet's
/// `parameters.traffic.dcc_scheduled_per_meter_day` (0 without other users).
fn rate(w: &World) -> f64 {
    if w.users == w.suppliers {
        return 0.0;
    }
    w.meters as f64 * w.sc.parameters.traffic.dcc_scheduled_per_meter_day / 86_400.0
}

/// Whether the run has schedules to start (its first tick at the DSP).
pub fn any(w: &World) -> bool {
    rate(w) > 0.0
}

impl Dsp {
    /// The next run of a schedule (a Poisson stream over the fleet, each
    /// run for a user other than the suppliers and a meter drawn
    /// uniformly, as the users share the schedules equally); schedules the
    /// one after. A schedule of a user that is suspended fails as the
    /// user's requests do.
    pub fn scheduled(&mut self, w: &World, env: &mut Env<'_, '_>) {
        let r = rate(w);
        if r <= 0.0 {
            return;
        }
        let gap = exp_ns(env.rng.bits(), 1e9 / r).max(1);
        env.send_self(gap, Msg::Generate(ReqKind::DccScheduled));
        let pick = env.rng.bits();
        let others = (w.users - w.suppliers) as u64;
        let u = w.suppliers + (((pick >> 32) * others) >> 32) as u32;
        let meter = (((pick & 0xFFFF_FFFF) * w.meters as u64) >> 32) as u32;
        // The DSP runs no schedule on a meter not (yet) commissioned.
        if !self.smi.commissioned(w, meter) {
            return;
        }
        let seq = &mut self.scheduled_seq[(u - w.suppliers) as usize];
        let id = job_id(IdClass::Request(ReqKind::DccScheduled), u, *seq);
        *seq += 1;
        let now = env.now();
        let fuel = w.fuel(meter);
        let msg = World::message_kind(ReqKind::DccScheduled, 0, fuel);
        let mut job = Box::new(Job::new(
            id,
            ReqKind::DccScheduled,
            msg,
            u,
            u,
            meter,
            now.0,
            Origin::Bau,
        ));
        job.cred_fuel = fuel;
        job.dsp_in_ns = now.0;
        self.scheduled_sent += 1;
        if self.security.revoked(u, job.cred_gen) {
            job.outcome = Outcome::DspUserSuspended;
            env.count(Col::Suspended, 1);
        } else if w.policy.runs_crypto(id) {
            job.acb_gen = self.rekey.gen(meter);
            let (bytes, z, _) = command_bytes(w, &job, job.acb_gen);
            job.bytes = Some(bytes);
            job.acb_z = Some(z);
        }
        self.arrive(w, job, false, env);
    }
}
