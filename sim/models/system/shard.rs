//! One shard of the system: it owns the parties whose entities the engine
//! placed on it, and only dispatches each event to its party by entity and
//! message.

use super::env::{Draws, Env};
use super::holdings::Holdings;
use super::msg::{Msg, Prep};
use super::parties::attacker::Attacker;
use super::parties::csp::Csp;
use super::parties::dsp::Dsp;
use super::parties::meters::Meters;
use super::parties::soc::Soc;
use super::parties::users::Users;
use super::timeline::Timeline;
use super::world::{ReqKind, World};
use crate::crypto::mode::CryptoMode;
use crate::crypto::registry::KeyRegistry;
use crate::engine::rng::{BlockCache, StreamFamily};
use crate::engine::{Ctx, Event, Partition, ShardModel};
use std::sync::Arc;

/// One shard of the system model.
pub struct SystemShard {
    w: Arc<World>,
    /// The "system" stream family; each non-meter entity draws from its own stream.
    rng: StreamFamily,
    /// Stream positions of the non-meter entities (by entity).
    rng_pos: Vec<u64>,
    /// The last random block of each non-meter entity this shard runs.
    rng_cache: BlockCache,
    pub(super) users: Users,
    pub(super) attacker: Option<Attacker>,
    pub(super) dsp: Option<Dsp>,
    pub(super) soc: Option<Soc>,
    pub(super) csp: [Option<Csp>; 3],
    pub(super) meters: Meters,
    /// Per-second counters.
    pub(super) timeline: Timeline,
}

impl SystemShard {
    /// Shard `shard` of the system model. A shard that runs on another
    /// rank (`here` false) is built empty: no party, no meter state.
    pub fn new(
        w: Arc<World>,
        keys: Arc<KeyRegistry>,
        shard: u32,
        part: Partition,
        here: bool,
    ) -> Self {
        let owns = |e: u32| here && part.shard_of(e) == shard;
        SystemShard {
            rng: StreamFamily::new(w.seed, "system"),
            rng_pos: vec![0; w.meter0 as usize],
            rng_cache: BlockCache::new(w.meter0 as usize),
            users: Users::new(&w, owns),
            attacker: owns(w.attacker).then(Attacker::default),
            dsp: owns(w.dsp).then(|| Dsp::new(&w)),
            soc: owns(w.soc).then(|| Soc::new(&w)),
            csp: std::array::from_fn(|r| owns(w.csp0 + r as u32).then(|| Csp::new(&w, r))),
            meters: Meters::new(&w, shard, part, keys, here),
            timeline: Timeline::default(),
            w,
        }
    }
}

const OWNED: &str = "the engine delivers events only to the shard that owns their target";

impl ShardModel for SystemShard {
    type Msg = Msg;
    type Prep = Prep;

    /// Every message between entities is delayed by at least the model's
    /// lookahead (the user link's and the DSP-to-CSP hand-off's minimums;
    /// slower hops are clamped up to it): declared so that a window
    /// narrower than it (`run.window_ms`) changes only speed.
    fn min_send_delay_ns(&self) -> u64 {
        self.w.sc.parameters.lookahead_ns()
    }

    fn wants_prepare(&self) -> bool {
        // Only the DSP's shard has bulk verification work, and only with crypto on.
        self.dsp.is_some() && self.w.sc.crypto.mode != CryptoMode::Modeled
    }

    fn prepare(&self, ev: &Event<Msg>) -> Option<Prep> {
        self.dsp.as_ref()?.prepare(&self.w, ev)
    }

    fn prepare_anywhere(&self, ev: &Event<Msg>) -> Option<Prep> {
        // Only the DSP's shard prepares; on a rank that does not run it,
        // its checks need only the world.
        match &self.dsp {
            Some(d) => d.prepare(&self.w, ev),
            None if ev.target == self.w.dsp => Dsp::prepare_anywhere(&self.w, ev),
            None => None,
        }
    }

    #[inline]
    fn prefetch(&self, ev: &Event<Msg>) {
        // The job travels between parties and was last touched long ago;
        // a meter's state is a random access into arrays over the fleet.
        if let Some(job) = ev.msg.job() {
            job.prefetch();
        }
        if ev.target >= self.w.meter0 {
            self.meters.prefetch(ev.target);
        }
    }

    fn handle(&mut self, ev: Event<Msg>, prep: Option<Prep>, ctx: &mut Ctx<'_, Msg>) {
        let w = &*self.w;
        let me = ev.target;
        let now = ctx.now();
        let pos = self.rng_pos.get_mut(me as usize);
        let mut env = Env::new(
            &self.w,
            Draws::new(&self.rng, me, pos, &mut self.rng_cache),
            &mut self.timeline,
            ctx,
        );
        let env = &mut env;
        let csp = |me: u32| (me - w.csp0) as usize;
        // Nothing is checked by a DSP whose data centre is lost: what
        // arrives waits for the failover (work it had started is redone
        // then, see `Dsp::done`).
        if me == w.dsp && !matches!(ev.msg, Msg::DspDone(..)) {
            if let Some(back) = Dsp::down_until(w, now) {
                env.send_self((back - now.0).max(1), ev.msg);
                return;
            }
        }
        match ev.msg {
            Msg::Generate(ReqKind::Recovery) if me == w.dsp => {
                self.dsp.as_mut().expect(OWNED).acb_rekey_next(w, env)
            }
            Msg::Generate(_) if me == w.dsp => self.dsp.as_mut().expect(OWNED).scheduled(w, env),
            Msg::Generate(kind) => self.users.generate(w, me, kind, env),
            Msg::Complete(job) if me == w.attacker => {
                self.attacker.as_mut().expect(OWNED).complete(&job, now)
            }
            Msg::Complete(job) => self.users.complete(w, me, job, env),
            Msg::Contained(log) => self.users.contained(w, me, log, env),
            Msg::CustomerCall(m) => self.users.customer_call(w, me, m, env),
            Msg::Recover(step) => self.users.recover(w, me, step, env),
            Msg::QuarantineNotice(job) => self.users.quarantine_notice(w, me, job, env),
            Msg::QuarantineDecision(job, release) => self
                .dsp
                .as_mut()
                .expect(OWNED)
                .quarantine_decision(w, job, release, env),
            Msg::Request(job) => self.dsp.as_mut().expect(OWNED).request(w, job, prep, env),
            Msg::DspDone(job, r) => self.dsp.as_mut().expect(OWNED).done(w, job, r, env),
            Msg::Response(job) => self.dsp.as_mut().expect(OWNED).response(w, job, prep, env),
            Msg::Contain(u) => self.dsp.as_mut().expect(OWNED).contain(w, u, env),
            Msg::AlertRedeliver(m, raised, held) => self
                .dsp
                .as_mut()
                .expect(OWNED)
                .alert_redeliver(w, m, raised, held, env),
            Msg::Security(e) => self.soc.as_mut().expect(OWNED).event(w, e, env),
            Msg::BenignTick => self.soc.as_mut().expect(OWNED).benign_tick(w, env),
            Msg::SocShift => self.soc.as_mut().expect(OWNED).shift(w, env),
            Msg::TriageDone(e, raised) => {
                self.soc.as_mut().expect(OWNED).triaged(w, e, raised, env)
            }
            Msg::Deliver(job) => self.meters.deliver(w, job, env),
            Msg::MeterDone(job) => self.meters.done(w, job, env),
            Msg::ConsumerRestore(m) => self.meters.consumer_restore(w, m, env),
            Msg::PreCommand(job) => {
                // The sender (a user, or the attacker with what it holds)
                // signs the pre-command and returns it.
                let p = &w.sc.parameters;
                let sign = (p.user_link.sign_ms * crate::models::system::env::NS_PER_MS) as u64;
                let d = sign + env.rng.user_link_ns(p);
                env.send(w.dsp, d, Msg::SignedPreCommand(job));
            }
            Msg::SignedPreCommand(job) => self
                .dsp
                .as_mut()
                .expect(OWNED)
                .signed_pre_command(w, job, env),
            Msg::AttackTick(i) if me == w.attacker => {
                let h =
                    Holdings::of(w, i as usize).expect("attack ticks exist only with an attack");
                self.attacker.as_mut().expect(OWNED).tick(&h, i, me, env)
            }
            // Everything else is for a CSP.
            msg => self.csp[csp(me)].as_mut().expect(OWNED).handle(w, msg, env),
        }
    }
}
