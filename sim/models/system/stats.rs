//! Figures parties keep for the results: per request type counts and
//! latencies, and per-minute station series.

use super::latency::Latency;
use super::msg::{Job, Outcome};
use crate::engine::SimTime;

/// The hops of a request's round trip, in [`KindStats::hops`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Hop {
    /// User to DSP (the user link).
    UserToDsp = 0,
    /// Queueing and work at the DSP.
    Dsp,
    /// DSP to meter: the CSP's queue, airtime, retries and the WAN downlink.
    WanDown,
    /// At the device: HAN and processing.
    Device,
    /// Meter back to the user.
    Return,
}

impl Hop {
    /// Every hop, in order.
    pub const ALL: [Hop; 5] = [
        Hop::UserToDsp,
        Hop::Dsp,
        Hop::WanDown,
        Hop::Device,
        Hop::Return,
    ];

    /// Stable snake-case name for result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Hop::UserToDsp => "user_to_dsp",
            Hop::Dsp => "dsp",
            Hop::WanDown => "wan_down",
            Hop::Device => "device",
            Hop::Return => "return",
        }
    }
}

/// Per request type counters, kept by users (requests) and the DSP (alerts).
#[derive(Clone, Debug, Default)]
pub struct KindStats {
    /// Sent.
    pub sent: u64,
    /// Completed, by outcome ([`Outcome`] order).
    pub outcomes: [u64; Outcome::ALL.len()],
    /// End-to-end latency of successful ones.
    pub end_to_end: Latency,
    /// Latency per hop ([`Hop`] order) of successful ones.
    pub hops: [Latency; Hop::ALL.len()],
}

impl KindStats {
    /// Counts a finished job; successful ones add their latencies.
    pub fn record(&mut self, job: &Job, now: SimTime) {
        self.outcomes[job.outcome as usize] += 1;
        if job.outcome == Outcome::Ok {
            self.end_to_end.record_ns(now.0 - job.created_ns);
            let hops = [
                job.dsp_in_ns.saturating_sub(job.created_ns),
                job.dsp_out_ns.saturating_sub(job.dsp_in_ns),
                job.meter_in_ns
                    .saturating_sub(job.dsp_out_ns.max(job.created_ns)),
                job.meter_out_ns - job.meter_in_ns,
                now.0 - job.meter_out_ns,
            ];
            for (h, v) in self.hops.iter_mut().zip(hops) {
                h.record_ns(v);
            }
        }
    }

    /// Counts an alert that ended at the DCC (no hops).
    pub fn record_alert(&mut self, job: &Job, now: SimTime) {
        self.outcomes[job.outcome as usize] += 1;
        if job.outcome == Outcome::Ok {
            self.end_to_end.record_ns(now.0 - job.created_ns);
        }
    }

    /// Adds another's counts.
    pub fn merge(&mut self, s: &KindStats) {
        self.sent += s.sent;
        for (a, b) in self.outcomes.iter_mut().zip(&s.outcomes) {
            *a += b;
        }
        self.end_to_end.merge(&s.end_to_end);
        for (a, b) in self.hops.iter_mut().zip(&s.hops) {
            a.merge(b);
        }
    }
}

/// What a station's new job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Came {
    /// A job arriving for the first time.
    Arrival,
    /// A job sent again after a timeout.
    Retry,
}

/// A station's per-minute figures.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Arrivals per minute.
    pub arrivals: Vec<u64>,
    /// Longest queue per minute.
    pub queue_max: Vec<u64>,
    /// Retransmissions per minute (counted apart from arrivals).
    pub retries: Vec<u64>,
    /// Share of the station's workers busy per minute (filled at the end
    /// of the run from the station).
    pub utilisation: Vec<f64>,
}

impl Series {
    /// Notes the queue length at `now`, and what came in: a new arrival
    /// or a retransmission of one already counted.
    pub fn note(&mut self, now: SimTime, queue: usize, came: Came) {
        let m = (now.0 / 60_000_000_000) as usize;
        if self.arrivals.len() <= m {
            self.arrivals.resize(m + 1, 0);
            self.queue_max.resize(m + 1, 0);
            self.retries.resize(m + 1, 0);
        }
        match came {
            Came::Arrival => self.arrivals[m] += 1,
            Came::Retry => self.retries[m] += 1,
        }
        self.queue_max[m] = self.queue_max[m].max(queue as u64);
    }
}
