//! Rounds that span several windows (`ShardModel::min_send_delay_ns`): a
//! model whose shards declare different least delays gets the same results
//! with or without the declarations, at any thread, shard and rank count;
//! only the number of barriers changes. A declaration the model breaks is
//! caught.

use dccsim::engine::rng::StreamFamily;
use dccsim::engine::transport::{ThreadRanks, Transport};
use dccsim::engine::{
    Ctx, EngineConfig, Event, Partition, RunLimits, RunReport, ShardModel, SimTime, Simulation,
};

const MS: u64 = 1_000_000;
/// "Fast" entities (`e mod 8 < 4`) send after at least this; also the
/// engine's window width.
const FAST_NS: u64 = MS;
/// The other, "slow", entities send after at least this.
const SLOW_NS: u64 = 100 * MS;
/// From this time on, fast entities stop sending and slow ones send only
/// to slow ones: the fast shards go idle, and rounds can span the slow
/// shards' reach.
const QUIET_NS: u64 = 500 * MS;
const ENTITIES: u32 = 240;
const END_NS: u64 = 5_000 * MS;

/// One shard of the test model (its entities are `e mod shards`).
struct Relay {
    part: Partition,
    shard: u32,
    stream: StreamFamily,
    /// What this shard declares as its least delay (0: nothing).
    declared: u64,
    /// A delay the model uses instead of the slow one (to break the
    /// declaration on purpose).
    slow_ns: u64,
    /// Per local entity: events handled, and a running hash of them.
    handled: Vec<u64>,
    fold: Vec<u64>,
}

fn is_fast(e: u32) -> bool {
    e % 8 < 4
}

impl ShardModel for Relay {
    type Msg = u64;
    type Prep = ();

    fn handle(&mut self, ev: Event<u64>, _: Option<()>, ctx: &mut Ctx<'_, u64>) {
        let me = ev.target;
        let local = self.part.local_of(me) as usize;
        let n = self.handled[local];
        self.handled[local] = n + 1;
        let h = ev.key().hash64() ^ ev.msg;
        self.fold[local] = self.fold[local].rotate_left(7) ^ h;
        let words = self.stream.block(me as u64, n);
        let (a, b, c) = (words[0] as u64, words[1] as u64, words[2]);
        let now = ctx.now().0;
        let fast = is_fast(me);
        if now >= QUIET_NS && fast {
            return;
        }
        // A self-message now and then (it may land inside the round).
        if c % 4 == 0 {
            ctx.send_self(1 + a % (3 * MS), h);
            return;
        }
        let mut target = (b % ENTITIES as u64) as u32;
        while target == me || (now >= QUIET_NS && is_fast(target)) {
            target = (target + 1) % ENTITIES;
        }
        let least = if fast { FAST_NS } else { self.slow_ns };
        ctx.send(target, least + a % (40 * MS), h);
    }

    fn min_send_delay_ns(&self) -> u64 {
        self.declared
    }
}

/// How a run is set up.
#[derive(Clone, Copy)]
struct Setup {
    shards: u32,
    threads: usize,
    declare: bool,
    slow_ns: u64,
}

/// The engine's report and every entity's (handled, fold), by entity.
fn run(su: Setup, ranks: Option<Box<dyn Transport>>) -> (RunReport, Vec<(u32, u64, u64)>) {
    let cfg = EngineConfig {
        entities: ENTITIES,
        shards: su.shards,
        lookahead_ns: FAST_NS,
        threads: su.threads,
        ring_windows: 256,
    };
    let mut sim = Simulation::new(cfg, |s, part| {
        let n = part.entities_in_shard(s) as usize;
        // A shard's least delay is its fastest entity's: only shards that
        // hold slow entities alone (a multiple of 8 shards) gain.
        let fast = part.entities_of(s).any(is_fast);
        Relay {
            part,
            shard: s,
            stream: StreamFamily::new(5, "relay"),
            declared: match (su.declare, fast) {
                (false, _) => 0,
                (true, true) => FAST_NS,
                (true, false) => SLOW_NS,
            },
            slow_ns: su.slow_ns,
            handled: vec![0; n],
            fold: vec![0; n],
        }
    });
    if let Some(t) = ranks {
        sim.distribute(t);
    }
    for e in 0..ENTITIES {
        sim.schedule(e, SimTime(1 + e as u64 * 7_919), e as u64);
    }
    let report = sim.run(&RunLimits {
        end: SimTime(END_NS),
        max_events: u64::MAX,
        interrupt: None,
    });
    let mut per: Vec<(u32, u64, u64)> = Vec::new();
    for (s, m) in sim.models().enumerate() {
        if !sim.owns_shard(s as u32) {
            continue;
        }
        assert_eq!(m.shard, s as u32);
        for (l, e) in m.part.entities_of(m.shard).enumerate() {
            per.push((e, m.handled[l], m.fold[l]));
        }
    }
    per.sort_unstable();
    (report, per)
}

fn setup(shards: u32, threads: usize, declare: bool) -> Setup {
    Setup {
        shards,
        threads,
        declare,
        slow_ns: SLOW_NS,
    }
}

#[test]
fn declared_delays_change_only_the_number_of_barriers() {
    let (plain, per) = run(setup(8, 1, false), None);
    assert!(plain.events > 5_000, "{} events", plain.events);
    // Without declarations every round is one window: one barrier per
    // window holding an event.
    assert!(plain.windows > 3_000, "{} rounds", plain.windows);
    for (shards, threads) in [(8, 1), (8, 2), (8, 3), (16, 2), (4, 2), (7, 3)] {
        let (r, p) = run(setup(shards, threads, true), None);
        let what = format!("{shards} shards, {threads} threads");
        assert_eq!(
            (r.events, r.digest, r.pending, r.stop),
            (plain.events, plain.digest, plain.pending, plain.stop),
            "{what}"
        );
        assert!(p == per, "an entity's events differ at {what}");
        // After QUIET_NS only slow shards have events, and a round spans
        // their reach (100 windows): 4.5 s takes ~45 rounds, not ~4,500.
        // With 4 or 7 shards every shard holds a fast entity: no gain.
        if shards % 8 != 0 {
            assert!(r.windows <= plain.windows, "{what}");
            continue;
        }
        assert!(
            r.windows * 3 < plain.windows,
            "{what}: {} rounds against {} without declarations",
            r.windows,
            plain.windows
        );
    }
}

#[test]
fn declared_delays_over_ranks() {
    let (one, per) = run(setup(8, 1, true), None);
    for (ranks, threads) in [(2, 1), (3, 2)] {
        let outs: Vec<_> = std::thread::scope(|sc| {
            let hs: Vec<_> = ThreadRanks::new(ranks)
                .into_iter()
                .map(|t| sc.spawn(move || run(setup(8, threads, true), Some(Box::new(t)))))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<(u32, u64, u64)> = outs.iter().flat_map(|(_, p)| p.clone()).collect();
        all.sort_unstable();
        assert!(all == per, "entities differ over {ranks} ranks");
        for (r, _) in &outs {
            assert_eq!(
                (r.events, r.digest, r.windows, r.pending),
                (one.events, one.digest, one.windows, one.pending),
                "{ranks} ranks × {threads} threads"
            );
        }
    }
}

#[test]
#[should_panic(expected = "less than the lookahead")]
fn a_broken_declaration_is_caught() {
    // Slow entities send after 50 ms though their shards declared 100 ms.
    let mut su = setup(8, 1, true);
    su.slow_ns = 50 * MS;
    run(su, None);
}
