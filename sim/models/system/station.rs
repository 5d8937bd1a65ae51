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
        }
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
                let len = (now.0 - m as u64 * MINUTE_NS).min(MINUTE_NS);
                let busy = self.minute_busy.get(m).copied().unwrap_or(0);
                busy as f64 / (self.workers as f64 * len as f64)
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

    /// Mean fraction of workers busy over `[0, now]`.
    pub fn utilisation(&mut self, now: SimTime) -> f64 {
        let w = self.workers as f64;
        let s = self.stats_at(now);
        if now.0 == 0 {
            0.0
        } else {
            s.busy_worker_ns as f64 / (w * now.0 as f64)
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
