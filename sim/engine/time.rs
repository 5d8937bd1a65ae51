//! Simulated time: an integer count of nanoseconds since the start of a run.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in simulated time, in nanoseconds since the run began.
///
/// Time is an integer so that ordering and arithmetic are exact and identical
/// on every machine; floating-point time with an epsilon is never used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// Nanoseconds in one second.
pub const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time (about 584 years).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Time from whole nanoseconds.
    pub const fn from_ns(ns: u64) -> Self {
        SimTime(ns)
    }

    /// Time from seconds, rounded to the nearest nanosecond; negative or
    /// non-finite inputs saturate to zero or [`SimTime::MAX`].
    pub fn from_secs_f64(s: f64) -> Self {
        SimTime(secs_to_ns(s))
    }

    /// Nanoseconds since the start of the run.
    pub const fn as_ns(self) -> u64 {
        self.0
    }

    /// Seconds since the start of the run (for reports only, never for ordering).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// `self + delay_ns`, saturating at [`SimTime::MAX`].
    pub const fn saturating_add_ns(self, delay_ns: u64) -> Self {
        SimTime(self.0.saturating_add(delay_ns))
    }
}

/// Seconds (as a float, e.g. from a scenario file) to whole nanoseconds, rounded.
pub fn secs_to_ns(s: f64) -> u64 {
    if s.is_nan() || s <= 0.0 {
        0
    } else if s >= u64::MAX as f64 / NS_PER_S as f64 {
        u64::MAX
    } else {
        (s * NS_PER_S as f64).round() as u64
    }
}

impl Add<u64> for SimTime {
    type Output = SimTime;
    fn add(self, delay_ns: u64) -> SimTime {
        SimTime(
            self.0
                .checked_add(delay_ns)
                .expect("simulated time overflowed u64 nanoseconds"),
        )
    }
}

impl Sub for SimTime {
    type Output = u64;
    fn sub(self, earlier: SimTime) -> u64 {
        self.0 - earlier.0
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 / NS_PER_S;
        let frac = self.0 % NS_PER_S;
        write!(f, "{}.{:09}s", s, frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_and_saturate() {
        assert_eq!(SimTime::from_secs_f64(1.5).as_ns(), 1_500_000_000);
        assert_eq!(SimTime::from_secs_f64(-3.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(1e30), SimTime::MAX);
        assert_eq!(format!("{}", SimTime(1_000_000_001)), "1.000000001s");
    }
}
