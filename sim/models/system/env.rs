//! What a party's handler sees besides its own state: its random stream,
//! the shard's timeline, and the engine's context; and the link delays
//! every party draws from its own stream.

use super::msg::{bytes_hash, Msg, Verdict};
use super::params::Params;
use super::timeline::{Col, Timeline};
use super::world::World;
use crate::engine::rng::{exp_ns, open01, BlockCache, Stream, StreamFamily};
use crate::engine::{Ctx, EntityId, SimTime};
use rand::RngCore;

/// Nanoseconds per millisecond (model parameters are in milliseconds).
pub const NS_PER_MS: f64 = 1e6;

/// A delay past any run's end (1e18 ns, 31.7 years; runs end within a
/// year): the model clamps every delay to it, so that a draw from a heavy
/// tail of an extreme parameter means "never" rather than overflowing the
/// engine's 64-bit clock.
pub const NEVER_NS: u64 = 1_000_000_000_000_000_000;

/// The random stream of the entity handling an event: named "system",
/// keyed by the entity, continued from the entity's stored word position.
/// One [`Stream`] serves every draw of the event (one ChaCha8 block covers
/// eight), and the shard's [`BlockCache`] keeps the block for the entity's
/// next event.
pub struct Draws<'a> {
    family: &'a StreamFamily,
    entity: EntityId,
    /// `None` for entities that never draw (meters).
    pos: Option<&'a mut u64>,
    cache: &'a mut BlockCache,
    stream: Option<Stream>,
}

impl<'a> Draws<'a> {
    /// The stream of `entity`, at the position `pos` (advanced by every draw).
    pub fn new(
        family: &'a StreamFamily,
        entity: EntityId,
        pos: Option<&'a mut u64>,
        cache: &'a mut BlockCache,
    ) -> Self {
        Draws {
            family,
            entity,
            pos,
            cache,
            stream: None,
        }
    }

    /// 64 random bits.
    pub fn bits(&mut self) -> u64 {
        let pos = self
            .pos
            .as_deref_mut()
            .expect("this entity has no random stream");
        let (family, cache, entity) = (self.family, &*self.cache, self.entity as u64);
        let r = self
            .stream
            .get_or_insert_with(|| family.at_cached(cache, entity, *pos));
        let x = r.next_u64();
        *pos = r.get_word_pos();
        x
    }

    /// A uniform number in (0, 1).
    pub fn open01(&mut self) -> f64 {
        open01(self.bits())
    }

    /// An exponential delay with the given mean in milliseconds, nanoseconds.
    pub fn exp_ms(&mut self, mean_ms: f64) -> u64 {
        exp_ns(self.bits(), mean_ms * NS_PER_MS)
    }

    /// The user link's delay (user to DSP and back): a minimum plus an exponential.
    pub fn user_link_ns(&mut self, p: &Params) -> u64 {
        ((p.user_link.min_ms * NS_PER_MS) as u64)
            .saturating_add(self.exp_ms(p.user_link.mean_extra_ms))
    }

    /// The DSP-CSP link's delay.
    pub fn dsp_to_csp_ns(&mut self, p: &Params) -> u64 {
        ((p.dsp.to_csp_min_ms * NS_PER_MS) as u64)
            .saturating_add(self.exp_ms(p.dsp.to_csp_mean_extra_ms))
    }

    /// A lognormal WAN latency in region `r`, at least the lookahead.
    pub fn wan_ns(&mut self, p: &Params, r: usize) -> u64 {
        let median = p.csp.region(r).wan_median_ms;
        // Box-Muller from two draws.
        let (a, b) = (self.open01(), self.open01());
        let z = (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos();
        let ms = median * (p.csp.wan_sigma * z).exp();
        ((ms * NS_PER_MS) as u64).max(p.lookahead_ns())
    }
}

impl Drop for Draws<'_> {
    fn drop(&mut self) {
        if let Some(s) = &self.stream {
            self.cache.keep(s);
        }
    }
}

/// A handler's context: its stream, the timeline, the engine.
pub struct Env<'a, 'c> {
    /// The world, shared, for work started ahead ([`Env::ahead`]).
    shared: &'a std::sync::Arc<World>,
    /// The handling entity's random stream.
    pub rng: Draws<'a>,
    /// The shard's per-second counters.
    pub timeline: &'a mut Timeline,
    /// The engine: time, sends.
    pub ctx: &'a mut Ctx<'c, Msg>,
}

impl<'a, 'c> Env<'a, 'c> {
    /// A handler's context.
    pub fn new(
        shared: &'a std::sync::Arc<World>,
        rng: Draws<'a>,
        timeline: &'a mut Timeline,
        ctx: &'a mut Ctx<'c, Msg>,
    ) -> Self {
        Env {
            shared,
            rng,
            timeline,
            ctx,
        }
    }

    /// Starts `f`, a pure function of the world and what it captures, on
    /// the run's pool (see [`crate::engine::Ahead`]): `None` at one thread,
    /// where its user computes the value when it needs it.
    pub fn ahead<T: Send + Sync + 'static>(
        &self,
        f: impl FnOnce(&World) -> T + Send + 'static,
    ) -> Option<crate::engine::Ahead<T>> {
        let w = std::sync::Arc::clone(self.shared);
        crate::engine::Ahead::start(self.ctx.background(), move || f(&w))
    }

    /// Starts `check` of `bytes` ahead ([`Env::ahead`]), as a [`Verdict`]
    /// that names the bytes it checks: `None` at one thread.
    pub fn verdict_ahead(
        &self,
        bytes: &[u8],
        check: impl FnOnce(&World, &[u8]) -> bool + Send + 'static,
    ) -> Option<Verdict> {
        let of = bytes_hash(bytes);
        let bytes: Box<[u8]> = bytes.into();
        let ok = self.ahead(move |w| check(w, &bytes))?;
        Some(Verdict {
            of,
            ok,
            command: None,
        })
    }
    /// Simulated time now.
    pub fn now(&self) -> SimTime {
        self.ctx.now()
    }

    /// Adds `delta` to a timeline column at the current second.
    pub fn count(&mut self, c: Col, delta: i64) {
        let now = self.ctx.now();
        self.timeline.add(now, c, delta);
    }

    /// Sends `msg` to `target` after `delay_ns`.
    pub fn send(&mut self, target: EntityId, delay_ns: u64, msg: Msg) {
        self.ctx.send(target, delay_ns.min(NEVER_NS), msg);
    }

    /// Sends `msg` to the handling entity itself after `delay_ns`.
    pub fn send_self(&mut self, delay_ns: u64, msg: Msg) {
        self.ctx.send_self(delay_ns.min(NEVER_NS), msg);
    }
}
