//! A service station: `c` identical workers in front of one FIFO queue.
//!
//! The station does not draw service times or schedule events itself: the
//! entity that owns it asks [`Station::arrive`] whether a job starts now,
//! schedules that job's completion, and calls [`Station::finish`] when it
//! completes, which hands back the next job to start. This keeps the
//! queueing discipline in one small, tested place while the owning model
//! decides what service costs.

use crate::engine::SimTime;
use std::collections::VecDeque;

/// Figures a station keeps about itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StationStats {
    /// Jobs that arrived.
    pub arrived: u64,
    /// Jobs that started service.
    pub started: u64,
    /// Jobs that completed.
    pub completed: u64,
    /// Sum of waiting times (arrival to start of service), nanoseconds.
    pub wait_ns_total: u128,
    /// Jobs that had to wait at all.
    pub waited: u64,
    /// Longest queue seen (jobs waiting, not in service).
    pub queue_len_max: u64,
    /// Integral of busy workers over time, worker-nanoseconds.
    pub busy_worker_ns: u128,
    /// Integral of queue length over time, job-nanoseconds.
    pub queue_job_ns: u128,
}

/// A job waiting or in service, with its arrival time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued<T> {
    /// When it arrived.
    pub arrived: SimTime,
    /// The job.
    pub job: T,
}

/// `c` workers and a FIFO queue.
#[derive(Clone, Debug)]
pub struct Station<T> {
    workers: u32,
    busy: u32,
    queue: VecDeque<Queued<T>>,
    last_change: SimTime,
    stats: StationStats,
    /// Busy worker-nanoseconds in each minute of simulated time.
    minute_busy: Vec<u64>,
    /// Every change of the number of workers, `(from ns, workers)`, the
    /// first at time 0 (see [`Station::set_workers`]).
    staffing: Vec<(u64, u32)>,
}

const MINUTE_NS: u64 = 60_000_000_000;

impl<T> Station<T> {
    /// A station with `workers` workers (at least one).
    pub fn new(workers: u32) -> Self {
        assert!(workers >= 1, "a station needs at least one worker");
        Station {
            workers,
            busy: 0,
            queue: VecDeque::new(),
            last_change: SimTime::ZERO,
            stats: StationStats::default(),
            minute_busy: Vec::new(),
            staffing: vec![(0, workers)],
        }
    }

    /// From `now` on, the station has `workers` workers (e.g. a shift
    /// change; at least one). Jobs in service finish where they are; when
    /// there are fewer workers than jobs in service, no queued job starts
    /// until enough have finished. Returns the queued jobs that start now
    /// (the caller schedules their completions), oldest first.
    pub fn set_workers(&mut self, now: SimTime, workers: u32) -> Vec<T> {
        assert!(workers >= 1, "a station needs at least one worker");
        self.advance(now);
        if workers != self.workers {
            self.staffing.push((now.0, workers));
            self.workers = workers;
        }
        let mut started = Vec::new();
        while self.busy < self.workers {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            self.busy += 1;
            self.stats.started += 1;
            self.stats.waited += 1;
            self.stats.wait_ns_total += (now - q.arrived) as u128;
            started.push(q.job);
        }
        started
    }

    /// Worker-nanoseconds on hand over `[a, b)`, from the staffing history.
    fn capacity_ns(&self, a: u64, b: u64) -> u128 {
        let mut total = 0u128;
        for (i, &(from, n)) in self.staffing.iter().enumerate() {
            let to = self.staffing.get(i + 1).map_or(u64::MAX, |s| s.0);
            let (lo, hi) = (from.max(a), to.min(b));
            if hi > lo {
                total += (hi - lo) as u128 * n as u128;
            }
        }
        total
    }

    fn advance(&mut self, now: SimTime) {
        assert!(now >= self.last_change, "station time went backwards");
        let dt = (now - self.last_change) as u128;
        self.stats.busy_worker_ns += dt * self.busy as u128;
        self.stats.queue_job_ns += dt * self.queue.len() as u128;
        if self.busy > 0 {
            // Split the busy stretch over the minutes it spans.
            let mut t = self.last_change.0;
            while t < now.0 {
                let m = t / MINUTE_NS;
                let end = ((m + 1) * MINUTE_NS).min(now.0);
                if self.minute_busy.len() <= m as usize {
                    self.minute_busy.resize(m as usize + 1, 0);
                }
                let add = (end - t).saturating_mul(self.busy as u64);
                self.minute_busy[m as usize] = self.minute_busy[m as usize].saturating_add(add);
                t = end;
            }
        }
        self.last_change = now;
    }

    /// The fraction of workers busy in each minute of `[0, now]` (the last
    /// minute over its part up to `now`).
    pub fn utilisation_by_minute(&mut self, now: SimTime) -> Vec<f64> {
        self.advance(now);
        let minutes = now.0.div_ceil(MINUTE_NS) as usize;
        (0..minutes)
            .map(|m| {
                let a = m as u64 * MINUTE_NS;
                let cap = self.capacity_ns(a, now.0.min(a + MINUTE_NS));
                let busy = self.minute_busy.get(m).copied().unwrap_or(0);
                busy as f64 / cap as f64
            })
            .collect()
    }

    /// The jobs waiting (not in service), oldest first.
    pub fn queued(&self) -> impl Iterator<Item = &T> {
        self.queue.iter().map(|q| &q.job)
    }

    /// A job arrives. Returns it back if a worker is free and it starts
    /// service now (the caller schedules its completion); otherwise it waits.
    pub fn arrive(&mut self, now: SimTime, job: T) -> Option<T> {
        self.advance(now);
        self.stats.arrived += 1;
        if self.busy < self.workers {
            self.busy += 1;
            self.stats.started += 1;
            Some(job)
        } else {
            self.queue.push_back(Queued { arrived: now, job });
            self.stats.queue_len_max = self.stats.queue_len_max.max(self.queue.len() as u64);
            None
        }
    }

    /// A job in service completes. Returns the next job to start now, with
    /// how long it waited, if one was queued.
    pub fn finish(&mut self, now: SimTime) -> Option<(T, u64)> {
        self.advance(now);
        assert!(self.busy > 0, "finish() with no job in service");
        self.stats.completed += 1;
        if self.busy > self.workers {
            // Fewer workers since this job started (a shift ended).
            self.busy -= 1;
            return None;
        }
        match self.queue.pop_front() {
            Some(q) => {
                let wait = now - q.arrived;
                self.stats.started += 1;
                self.stats.waited += 1;
                self.stats.wait_ns_total += wait as u128;
                Some((q.job, wait))
            }
            None => {
                self.busy -= 1;
                None
            }
        }
    }

    /// Jobs waiting.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Workers busy.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Figures up to `now`.
    pub fn stats_at(&mut self, now: SimTime) -> &StationStats {
        self.advance(now);
        &self.stats
    }

    /// Mean fraction of workers busy over `[0, now]` (of the workers on
    /// hand at each moment; it may pass 1 just after a shift shrinks).
    pub fn utilisation(&mut self, now: SimTime) -> f64 {
        let busy = self.stats_at(now).busy_worker_ns;
        if now.0 == 0 {
            0.0
        } else {
            busy as f64 / self.capacity_ns(0, now.0) as f64
        }
    }
}

/// Mean waiting time in an M/M/c queue by the Erlang C formula, for arrival
/// rate `lambda`, service rate per worker `mu` and `c` workers (any time unit;
/// the answer is in the reciprocal of the rates' unit). `None` when unstable.
pub fn erlang_c_mean_wait(lambda: f64, mu: f64, c: u32) -> Option<f64> {
    let a = lambda / mu;
    let rho = a / c as f64;
    if rho.is_nan() || rho >= 1.0 {
        return None;
    }
    // Sum_{k<c} a^k/k! and a^c/c!, computed iteratively.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64;
    let p_wait = last / (last + (1.0 - rho) * sum);
    Some(p_wait / (c as f64 * mu - lambda))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_waits_and_utilisation() {
        let mut s: Station<u32> = Station::new(1);
        assert_eq!(s.arrive(SimTime(0), 1), Some(1));
        assert_eq!(s.arrive(SimTime(10), 2), None);
        assert_eq!(s.arrive(SimTime(20), 3), None);
        assert_eq!(s.stats_at(SimTime(20)).queue_len_max, 2);
        assert_eq!(s.finish(SimTime(100)), Some((2, 90)));
        assert_eq!(s.finish(SimTime(150)), Some((3, 130)));
        assert_eq!(s.finish(SimTime(200)), None);
        assert_eq!(s.busy(), 0);
        assert!((s.utilisation(SimTime(400)) - 0.5).abs() < 1e-12);
        assert_eq!(s.stats_at(SimTime(400)).wait_ns_total, 220);
    }

    #[test]
    fn utilisation_per_minute() {
        let mut s: Station<u32> = Station::new(2);
        let min = MINUTE_NS;
        // One worker busy from 30 s to 90 s, the other from 60 s to 150 s.
        assert_eq!(s.arrive(SimTime(min / 2), 1), Some(1));
        assert_eq!(s.arrive(SimTime(min), 2), Some(2));
        assert_eq!(s.finish(SimTime(min * 3 / 2)), None);
        assert_eq!(s.finish(SimTime(min * 5 / 2)), None);
        let u = s.utilisation_by_minute(SimTime(min * 3));
        assert_eq!(u.len(), 3);
        assert!((u[0] - 0.25).abs() < 1e-12, "{u:?}");
        assert!((u[1] - 0.75).abs() < 1e-12, "{u:?}");
        assert!((u[2] - 0.25).abs() < 1e-12, "{u:?}");
        // The whole run's mean is the mean of the minutes.
        let mean = s.utilisation(SimTime(min * 3));
        assert!((mean - u.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        // A partial last minute counts over its own length.
        let u = s.utilisation_by_minute(SimTime(min * 3 + min / 4));
        assert_eq!(u.len(), 4);
        assert_eq!(u[3], 0.0);
    }

    #[test]
    fn shifts_change_the_workers_on_hand() {
        let mut s: Station<u32> = Station::new(2);
        assert_eq!(s.arrive(SimTime(0), 1), Some(1));
        assert_eq!(s.arrive(SimTime(0), 2), Some(2));
        // The night shift has one worker: both finish their jobs, but the
        // queued one waits until only one is busy.
        assert!(s.set_workers(SimTime(10), 1).is_empty());
        assert_eq!(s.arrive(SimTime(10), 3), None);
        assert_eq!(s.finish(SimTime(20)), None);
        assert_eq!(s.busy(), 1);
        assert_eq!(s.finish(SimTime(30)), Some((3, 20)));
        assert_eq!(s.arrive(SimTime(40), 4), None);
        assert_eq!(s.arrive(SimTime(40), 5), None);
        // The day shift comes in: one more worker takes the oldest job.
        assert_eq!(s.set_workers(SimTime(50), 2), vec![4]);
        assert_eq!(s.busy(), 2);
        assert_eq!(s.finish(SimTime(60)), Some((5, 20)));
        assert_eq!(s.finish(SimTime(70)), None);
        assert_eq!(s.finish(SimTime(100)), None);
        // Capacity: 2 workers over [0,10), 1 over [10,50), 2 over [50,100).
        // Busy: 2 over [0,20), 1 over [20,50), 2 over [50,70), 1 over [70,100).
        let busy = 40 + 30 + 40 + 30;
        let cap = 20 + 40 + 100;
        assert!((s.utilisation(SimTime(100)) - busy as f64 / cap as f64).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_matches_known_values() {
        // M/M/1: Wq = rho / (mu - lambda).
        let w = erlang_c_mean_wait(0.9, 1.0, 1).unwrap();
        assert!((w - 9.0).abs() < 1e-9);
        // M/M/2 with a = 1: P(wait) = 1/3, Wq = (1/3) / (2 - 1).
        let w = erlang_c_mean_wait(1.0, 1.0, 2).unwrap();
        assert!((w - 1.0 / 3.0).abs() < 1e-12);
        assert!(erlang_c_mean_wait(2.0, 1.0, 2).is_none());
    }
}
