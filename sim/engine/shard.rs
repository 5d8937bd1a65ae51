//! One shard: a model's share of the entities, its pending events, and the
//! context a model uses to send messages while handling an event.

use super::calendar::Calendar;
use super::event::{EntityId, Event, EventKey};
use super::time::SimTime;
use super::{Partition, ShardModel};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A self-message that lands inside the window being run, ordered by key.
struct Pending<M>(Event<M>);
impl<M> PartialEq for Pending<M> {
    fn eq(&self, o: &Self) -> bool {
        self.0.key() == o.0.key()
    }
}
impl<M> Eq for Pending<M> {}
impl<M> PartialOrd for Pending<M> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<M> Ord for Pending<M> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.key().cmp(&o.0.key())
    }
}

/// Where a shard's outgoing messages go while a window runs.
pub(crate) struct Outgoing<M> {
    pub(crate) shard: u32,
    pub(crate) partition: Partition,
    /// The least delay of this shard's messages to other entities: the
    /// engine's lookahead, or the model's larger declaration
    /// ([`ShardModel::min_send_delay_ns`]).
    pub(crate) min_send_ns: u64,
    /// End of the window being run (exclusive), nanoseconds.
    pub(crate) window_end_ns: u64,
    pub(crate) calendar: Calendar<M>,
    in_window: BinaryHeap<Reverse<Pending<M>>>,
    /// `outbox[d]`: messages for shard `d`, delivered at the window barrier.
    pub(crate) outbox: Vec<Vec<Event<M>>>,
    /// The shards whose outbox became non-empty this window, so the barrier
    /// visits only those (not every pair of shards).
    pub(crate) dirty: Vec<u32>,
    /// Per local entity: messages sent so far (the `seq` of the next one).
    pub(crate) seq: Vec<u64>,
    /// Whether handlers run in the run's pool with other workers free to
    /// take work started ahead (see [`Ctx::background`]).
    pub(crate) background: bool,
}

/// What a model sees while handling one event: the time, its own id, and a
/// way to send messages.
pub struct Ctx<'a, M> {
    now: SimTime,
    me: EntityId,
    out: &'a mut Outgoing<M>,
}

impl<'a, M> Ctx<'a, M> {
    /// Current simulated time (the handled event's time).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The entity handling the event.
    #[inline]
    pub fn me(&self) -> EntityId {
        self.me
    }

    /// Whether work started with [`super::Ahead::start`] now goes to the
    /// run's other workers: the run has several threads on one rank. It
    /// changes only speed, never a result.
    #[inline]
    pub fn background(&self) -> bool {
        self.out.background
    }

    /// The least delay this entity's messages to other entities may have:
    /// the engine's lookahead, or the larger minimum its shard's model
    /// declared ([`ShardModel::min_send_delay_ns`]).
    #[inline]
    pub fn lookahead_ns(&self) -> u64 {
        self.out.min_send_ns
    }

    /// Sends `msg` to `target`, delivered after `delay_ns`.
    ///
    /// A message to another entity must be delayed by at least
    /// [`Ctx::lookahead_ns`]; a message to oneself by at least one
    /// nanosecond. Breaking either is a bug in the model and panics: it
    /// would make results depend on how entities are spread over shards
    /// and on the engine's windows.
    #[inline]
    pub fn send(&mut self, target: EntityId, delay_ns: u64, msg: M) {
        if target == self.me {
            assert!(
                delay_ns >= 1,
                "entity {} sent itself a message with zero delay",
                self.me
            );
        } else {
            assert!(
                delay_ns >= self.out.min_send_ns,
                "entity {} sent entity {} a message delayed {} ns, less than the lookahead {} ns",
                self.me,
                target,
                delay_ns,
                self.out.min_send_ns
            );
        }
        let p = self.out.partition;
        assert!(
            target < p.entities,
            "message to entity {target} beyond the {} entities",
            p.entities
        );
        let local_me = p.local_of(self.me) as usize;
        let seq = self.out.seq[local_me];
        self.out.seq[local_me] = seq + 1;
        let ev = Event {
            time: self.now + delay_ns,
            seq,
            target,
            src: self.me,
            msg,
        };
        let dest = p.shard_of(target);
        if dest == self.out.shard {
            if ev.time.0 < self.out.window_end_ns {
                self.out.in_window.push(Reverse(Pending(ev)));
            } else {
                self.out.calendar.push(ev);
            }
        } else {
            let ob = &mut self.out.outbox[dest as usize];
            if ob.is_empty() {
                self.out.dirty.push(dest);
            }
            ob.push(ev);
            super::calendar::prefetch_ahead(ob);
        }
    }

    /// Sends `msg` to the handling entity itself after `delay_ns` (at least 1 ns).
    #[inline]
    pub fn send_self(&mut self, delay_ns: u64, msg: M) {
        let me = self.me;
        self.send(me, delay_ns, msg);
    }
}

/// How many events ahead of the one being handled a window's loop asks
/// for the next one's state ([`ShardModel::prefetch`]): a cache miss to
/// memory takes about as long as handling a few PHOLD events.
const PREFETCH_AHEAD: usize = 6;

/// Counters one shard keeps about the events it ran.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ShardStats {
    pub(crate) events: u64,
    /// Wrapping sum of every handled event key's hash (see [`EventKey::hash64`]).
    pub(crate) digest: u64,
    pub(crate) last_key: Option<EventKey>,
}

/// A model shard together with its pending events.
pub(crate) struct Shard<S: ShardModel> {
    pub(crate) model: S,
    pub(crate) out: Outgoing<S::Msg>,
    pub(crate) stats: ShardStats,
    /// Other shards' messages to this one, moved here at the barrier and
    /// put in the calendar by [`Shard::deliver`].
    pub(crate) incoming: Incoming<S::Msg>,
    prep: Vec<Option<S::Prep>>,
    /// A window's batch taken early, sorted, with its prepare results
    /// computed elsewhere (over several ranks): run instead of taking it.
    staged: Option<(u64, Vec<Event<S::Msg>>)>,
    /// Windows from this shard's earliest pending event to the earliest
    /// window its messages to other shards can land in:
    /// `min_send_ns / lookahead`, rounded down (at least 1).
    pub(crate) reach: u64,
}

impl<S: ShardModel> Shard<S> {
    pub(crate) fn new(
        model: S,
        shard: u32,
        partition: Partition,
        lookahead_ns: u64,
        ring_windows: usize,
    ) -> Self {
        let locals = partition.entities_in_shard(shard) as usize;
        let min_send_ns = model.min_send_delay_ns().max(lookahead_ns);
        Shard {
            model,
            reach: min_send_ns / lookahead_ns,
            out: Outgoing {
                shard,
                partition,
                min_send_ns,
                window_end_ns: 0,
                calendar: Calendar::new(lookahead_ns, ring_windows),
                in_window: BinaryHeap::new(),
                outbox: (0..partition.shards).map(|_| Vec::new()).collect(),
                dirty: Vec::new(),
                seq: vec![0; locals],
                background: false,
            },
            stats: ShardStats::default(),
            incoming: Incoming {
                bufs: (0..partition.shards).map(|_| Vec::new()).collect(),
                from: Vec::new(),
            },
            prep: Vec::new(),
            staged: None,
        }
    }

    /// Schedules an initial event sent by `target` to itself.
    pub(crate) fn schedule_initial(&mut self, target: EntityId, time: SimTime, msg: S::Msg) {
        let local = self.out.partition.local_of(target) as usize;
        let seq = self.out.seq[local];
        self.out.seq[local] = seq + 1;
        self.out.calendar.push(Event {
            time,
            seq,
            target,
            src: target,
            msg,
        });
    }

    /// Runs a round: every event before `round_end_ns` and `stop_ns`, window
    /// by window from `w` (this shard's earliest, or later). Events a window
    /// sends to this shard's entities in a later window of the round run in
    /// that window; messages to other shards land at or after the round's
    /// end (the loop chose it so), and wait in the outboxes for the barrier.
    pub(crate) fn run_round(&mut self, w: u64, round_end_ns: u64, stop_ns: u64, parallel: bool) {
        let width = self.out.calendar.window_ns();
        let until = round_end_ns.min(stop_ns);
        let mut k = w;
        loop {
            let end_ns = k.saturating_add(1).saturating_mul(width).min(round_end_ns);
            self.run_window(k, end_ns, stop_ns, parallel);
            // Window `k` now holds only events kept for being at or after
            // `stop_ns`: move on strictly.
            match self.out.calendar.next_window() {
                Some(n) if n > k && n.saturating_mul(width) < until => k = n,
                _ => break,
            }
        }
    }

    /// Runs every event of window `w` whose time is before `stop_ns`.
    /// Events at or after `stop_ns` stay pending.
    /// `parallel` says whether the window runs inside the pool (so the
    /// model's prepare pass may use it); outside it, prepare runs in turn.
    fn run_window(&mut self, w: u64, window_end_ns: u64, stop_ns: u64, parallel: bool) {
        let staged = self.staged.take_if(|(sw, _)| *sw == w);
        // `w` is the earliest window of every shard, so an empty slot `w`
        // means nothing to run (an O(1) check, not a scan of the ring).
        if staged.is_none() && self.out.calendar.window_len(w) == 0 {
            return;
        }
        let (mut batch, farmed) = match staged {
            Some((_, b)) => (b, true),
            None => {
                let mut b = self.out.calendar.take(w);
                self.out.calendar.sort(w, &mut b);
                (b, false)
            }
        };
        self.out.window_end_ns = window_end_ns;

        // Pure precomputation for the whole window, in parallel, results kept
        // in key order so that handling stays sequential and deterministic.
        // A staged batch's results are already in `prep`.
        let prepared = self.model.wants_prepare();
        if prepared && !farmed {
            let model = &self.model;
            if parallel {
                batch
                    .par_iter()
                    .map(|e| model.prepare(e))
                    .collect_into_vec(&mut self.prep);
            } else {
                self.prep.clear();
                self.prep.extend(batch.iter().map(|e| model.prepare(e)));
            }
        }

        // The first events' state too: most shards' windows hold fewer
        // events than the distance (a meter shard's one or two).
        for on in batch.iter().take(PREFETCH_AHEAD + 1) {
            self.ask_for(on);
        }
        let mut i = 0;
        let mut kept: Vec<Event<S::Msg>> = Vec::new();
        let mut batch_iter = batch.drain(..);
        let mut next_batch = batch_iter.next();
        loop {
            // Pick the smaller key of the sorted batch and the in-window heap.
            let from_heap = match (&next_batch, self.out.in_window.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(b), Some(Reverse(h))) => h.0.key() < b.key(),
            };
            let (ev, prep) = if from_heap {
                let Reverse(Pending(ev)) = self.out.in_window.pop().expect("peeked");
                let prep = if prepared {
                    self.model.prepare(&ev)
                } else {
                    None
                };
                (ev, prep)
            } else {
                let ev = next_batch.take().expect("checked");
                next_batch = batch_iter.next();
                // The state of an event a few places on is likely not in
                // cache yet: ask for it now (a hint, changes nothing).
                if let Some(on) = batch_iter.as_slice().get(PREFETCH_AHEAD) {
                    self.ask_for(on);
                }
                let prep = if prepared { self.prep[i].take() } else { None };
                i += 1;
                (ev, prep)
            };
            if ev.time.0 >= stop_ns {
                kept.push(ev);
                continue;
            }
            let key = ev.key();
            debug_assert!(
                self.stats.last_key.is_none_or(|k| k < key),
                "events out of key order"
            );
            self.stats.last_key = Some(key);
            self.stats.events += 1;
            self.stats.digest = self.stats.digest.wrapping_add(key.hash64());
            let mut ctx = Ctx {
                now: ev.time,
                me: ev.target,
                out: &mut self.out,
            };
            self.model.handle(ev, prep, &mut ctx);
        }
        drop(batch_iter);
        self.out.calendar.recycle(batch);
        for ev in kept {
            self.out.calendar.push(ev);
        }
    }

    /// Asks for the state event `on` will read (a hint, changes nothing).
    #[inline]
    fn ask_for(&self, on: &Event<S::Msg>) {
        self.model.prefetch(on);
        let local = self.out.partition.local_of(on.target) as usize;
        if let Some(seq) = self.out.seq.get(local) {
            super::prefetch(seq);
        }
    }

    /// Takes window `w`'s batch early (sorted) for a prepare pass spread
    /// over ranks; [`Shard::run_window`] then runs it with the results put
    /// by [`Shard::set_prepared`]. Returns the batch's events to prepare.
    pub(crate) fn stage(&mut self, w: u64) -> &[Event<S::Msg>] {
        let mut b = if self.out.calendar.next_window() == Some(w) {
            self.out.calendar.take(w)
        } else {
            Vec::new()
        };
        self.out.calendar.sort(w, &mut b);
        &self.staged.insert((w, b)).1
    }

    /// The staged batch's prepare results, in its order.
    pub(crate) fn set_prepared(&mut self, prep: Vec<Option<S::Prep>>) {
        debug_assert_eq!(prep.len(), self.staged.as_ref().map_or(0, |s| s.1.len()));
        self.prep = prep;
    }

    /// Delivers one message from another rank's shard.
    pub(crate) fn receive_one(&mut self, ev: Event<S::Msg>) {
        self.out.calendar.push(ev);
    }

    /// Puts the messages other shards sent it at the barrier in its
    /// calendar (unordered; sorting happens when their window starts).
    pub(crate) fn deliver(&mut self) {
        let mut inc = std::mem::take(&mut self.incoming.from);
        for s in inc.drain(..) {
            for ev in self.incoming.bufs[s as usize].drain(..) {
                self.out.calendar.push(ev);
            }
        }
        self.incoming.from = inc;
    }
}

/// One shard's incoming messages at a barrier: `bufs[s]` holds shard `s`'s,
/// and `from` lists the shards that sent any (buffers keep their capacity).
pub(crate) struct Incoming<M> {
    pub(crate) bufs: Vec<Vec<Event<M>>>,
    pub(crate) from: Vec<u32>,
}

/// Gives each shard a home member of the team by its events since the
/// last call, so that a shard runs on the same core window after window.
pub(crate) fn rehome<S: ShardModel>(
    team: &super::team::Team<Box<Shard<S>>>,
    shards: &[Box<Shard<S>>],
    last: &mut Vec<u64>,
) {
    last.resize(shards.len(), 0);
    let loads: Vec<u64> = shards
        .iter()
        .zip(last.iter_mut())
        .map(|(s, l)| s.stats.events - std::mem::replace(l, s.stats.events))
        .collect();
    team.rehome(&loads);
}
