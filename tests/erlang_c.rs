//! Validation of the queueing core: a station fed Poisson arrivals with
//! exponential service and `c` workers, run on the engine, must give a mean
//! wait within 2% of the Erlang C formula at high load.

use dccsim::engine::rng::{exp_ns, StreamFamily};
use dccsim::engine::{
    Ctx, EngineConfig, Event, Partition, RunLimits, ShardModel, SimTime, Simulation,
};
use dccsim::models::system::station::{erlang_c_mean_wait, Station};
use rand::RngCore;

const SOURCE: u32 = 0;
const STATION: u32 = 1;
/// Arrivals are delivered after this fixed delay (the engine's lookahead); a
/// constant shift of every arrival does not change the queue.
const LINK_NS: u64 = 100_000_000;

#[derive(Clone, Copy)]
enum Msg {
    NextArrival,
    Arrive,
    Done,
}

struct Shard {
    part: Partition,
    arrivals: StreamFamily,
    service: StreamFamily,
    rng_pos: u64,
    mean_interarrival_ns: f64,
    mean_service_ns: f64,
    station: Option<Station<()>>,
}

impl Shard {
    fn draw(&mut self, fam_service: bool, me: u32) -> u64 {
        let fam = if fam_service {
            &self.service
        } else {
            &self.arrivals
        };
        let mut r = fam.at(me as u64, self.rng_pos);
        let x = r.next_u64();
        self.rng_pos = r.get_word_pos();
        x
    }
}

impl ShardModel for Shard {
    type Msg = Msg;
    type Prep = ();
    fn handle(&mut self, ev: Event<Msg>, _: Option<()>, ctx: &mut Ctx<'_, Msg>) {
        let _ = self.part;
        match ev.msg {
            Msg::NextArrival => {
                ctx.send(STATION, LINK_NS, Msg::Arrive);
                let gap = exp_ns(self.draw(false, SOURCE), self.mean_interarrival_ns).max(1);
                ctx.send_self(gap, Msg::NextArrival);
            }
            Msg::Arrive => {
                let now = ctx.now();
                if self
                    .station
                    .as_mut()
                    .expect("station shard")
                    .arrive(now, ())
                    .is_some()
                {
                    let s = exp_ns(self.draw(true, STATION), self.mean_service_ns).max(1);
                    ctx.send_self(s, Msg::Done);
                }
            }
            Msg::Done => {
                let now = ctx.now();
                if self
                    .station
                    .as_mut()
                    .expect("station shard")
                    .finish(now)
                    .is_some()
                {
                    let s = exp_ns(self.draw(true, STATION), self.mean_service_ns).max(1);
                    ctx.send_self(s, Msg::Done);
                }
            }
        }
    }
}

/// Simulated mean wait (seconds) and jobs served for arrival rate `lambda`,
/// per-worker service rate `mu` (per second), `c` workers.
fn simulate(lambda: f64, mu: f64, c: u32, customers: u64, seed: u64, threads: usize) -> (f64, u64) {
    let cfg = EngineConfig {
        entities: 2,
        shards: 2,
        lookahead_ns: LINK_NS,
        threads,
        ring_windows: 64,
    };
    let mut sim = Simulation::new(cfg, |s, part| Shard {
        part,
        arrivals: StreamFamily::new(seed, "erlang-arrivals"),
        service: StreamFamily::new(seed, "erlang-service"),
        rng_pos: 0,
        mean_interarrival_ns: 1e9 / lambda,
        mean_service_ns: 1e9 / mu,
        station: (s == STATION).then(|| Station::new(c)),
    });
    sim.schedule(SOURCE, SimTime(1), Msg::NextArrival);
    let end = SimTime::from_secs_f64(customers as f64 / lambda);
    sim.run(&RunLimits {
        end,
        max_events: u64::MAX,
        interrupt: None,
    });
    let mut out = (0.0, 0);
    sim.map_shards(|_, m| m.station.as_mut().map(|st| st.stats_at(end).clone()))
        .into_iter()
        .flatten()
        .for_each(|s| out = (s.wait_ns_total as f64 / s.started as f64 / 1e9, s.started));
    out
}

#[test]
fn mean_wait_within_two_percent_of_erlang_c_at_high_load() {
    // 8 workers, 10 ms mean service, 90% load: 720 requests/s.
    let (c, mu) = (8u32, 100.0);
    let lambda = 0.9 * c as f64 * mu;
    let expected = erlang_c_mean_wait(lambda, mu, c).unwrap();
    let (got, served) = simulate(lambda, mu, c, 4_000_000, 1, 2);
    assert!(served > 3_900_000, "served {served}");
    let err = (got - expected).abs() / expected;
    println!(
        "Erlang C mean wait {:.4} ms, simulated {:.4} ms over {served} jobs: error {:.2}%",
        expected * 1e3,
        got * 1e3,
        err * 100.0
    );
    assert!(
        err < 0.02,
        "mean wait {got} s vs Erlang C {expected} s: {:.2}% off",
        err * 100.0
    );
}

#[test]
fn same_queue_results_at_one_and_two_threads() {
    let a = simulate(300.0, 100.0, 4, 50_000, 9, 1);
    let b = simulate(300.0, 100.0, 4, 50_000, 9, 2);
    assert_eq!(a.1, b.1);
    assert_eq!(a.0.to_bits(), b.0.to_bits());
}
