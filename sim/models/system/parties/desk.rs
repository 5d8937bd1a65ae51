//! A user's side of the DCC user gateway: issuing request ids, counting
//! what was sent and completed, and sending requests to the DSP (Data
//! Service Provider) over the user link.

use crate::engine::{EntityId, SimTime};
use crate::models::system::env::Env;
use crate::models::system::msg::{job_id, IdClass, Job, Msg};
use crate::models::system::parties::dsp::Dsp;
use crate::models::system::stats::KindStats;
use crate::models::system::timeline::Col;
use crate::models::system::world::{ReqKind, World};

/// Request sequence numbers and figures of the users a shard owns.
pub struct Desk {
    /// Next sequence number per user entity.
    seq: Vec<u64>,
    /// Figures per user entity and request kind (empty for users another shard owns).
    stats: Vec<Vec<KindStats>>,
}

impl Desk {
    /// The desk of users `0..users`; `owns(u)` says which this shard runs.
    pub fn new(users: u32, owns: impl Fn(EntityId) -> bool) -> Self {
        Desk {
            seq: vec![0; users as usize],
            // Histograms are large (about 250 KiB each): only for owned users.
            stats: (0..users)
                .map(|u| {
                    if owns(u) {
                        vec![KindStats::default(); ReqKind::ALL.len()]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        }
    }

    /// The id of user `u`'s next request of `kind`.
    pub fn next_id(&mut self, u: EntityId, kind: ReqKind) -> u64 {
        let seq = self.seq[u as usize];
        self.seq[u as usize] += 1;
        job_id(IdClass::Request(kind), u, seq)
    }

    /// Counts `job` as sent by `u` and sends it to the DSP.
    pub fn submit(&mut self, w: &World, u: EntityId, mut job: Box<Job>, env: &mut Env<'_, '_>) {
        self.stats[u as usize][job.kind as usize].sent += 1;
        job.verdict = Dsp::verify_ahead(env, &job);
        if job.msg.is_critical() {
            env.count(Col::CriticalSent, 1);
        }
        let d = env.rng.user_link_ns(&w.sc.parameters);
        env.send(w.dsp, d, Msg::Request(job));
    }

    /// A finished request came back to user `u`.
    pub fn complete(&mut self, u: EntityId, job: &Job, now: SimTime) {
        self.stats[u as usize][job.kind as usize].record(job, now);
    }

    /// The figures of every owned user, per request kind, summed.
    pub fn totals(&self, into: &mut [KindStats]) {
        for per_user in &self.stats {
            for (i, s) in per_user.iter().enumerate() {
                into[i].merge(s);
            }
        }
    }
}
