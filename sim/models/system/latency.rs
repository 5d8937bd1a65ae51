//! Latency histograms (HDR: high dynamic range, 3 significant digits) and
//! their percentile files in the `.hgrm` text format that HdrHistogram's
//! tools and plotters read.

use crate::engine::transport::Wire;
use hdrhistogram::Histogram;
use std::borrow::Cow;

/// A latency histogram in microseconds, from 1 µs to about 12 days.
#[derive(Clone, Debug)]
pub struct Latency {
    h: Histogram<u64>,
    /// Values recorded but not yet counted (µs), counted [`PENDING`] at a
    /// time. A histogram's counts are ~240 KB, and a run records six
    /// latencies per completed request into one of hundreds of
    /// histograms, so each count was a cache miss the handler waited on
    /// (6% of a 10M-meter day, `perf annotate`); counted together, their
    /// misses overlap. Every figure read includes them.
    pending: Vec<u64>,
}

/// How many values a histogram holds before counting them.
const PENDING: usize = 32;

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// An empty histogram.
    pub fn new() -> Self {
        Latency {
            h: Histogram::new_with_bounds(1, 1_000_000_000_000, 3).expect("valid bounds"),
            pending: Vec::new(),
        }
    }

    /// Records one latency in nanoseconds (rounded to microseconds, at least 1).
    #[inline]
    pub fn record_ns(&mut self, ns: u64) {
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(PENDING);
        }
        self.pending.push((ns / 1_000).max(1));
        if self.pending.len() == PENDING {
            self.count_pending();
        }
    }

    fn count_pending(&mut self) {
        for v in self.pending.drain(..) {
            self.h.saturating_record(v);
        }
    }

    /// The histogram with every recorded value counted.
    fn counted(&self) -> Cow<'_, Histogram<u64>> {
        if self.pending.is_empty() {
            return Cow::Borrowed(&self.h);
        }
        let mut h = self.h.clone();
        for &v in &self.pending {
            h.saturating_record(v);
        }
        Cow::Owned(h)
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, o: &Latency) {
        self.count_pending();
        self.h.add(&*o.counted()).expect("same bounds");
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.h.len() + self.pending.len() as u64
    }

    /// The value at quantile `q` (0..=1), milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.counted().value_at_quantile(q) as f64 / 1_000.0
    }

    /// Mean, milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.counted().mean() / 1_000.0
    }

    /// The percentile distribution as a `.hgrm` file (values in milliseconds).
    pub fn to_hgrm(&self) -> String {
        let h = self.counted();
        let mut s = String::from("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
        if h.is_empty() {
            s.push_str("#[Mean    =        0.000, StdDeviation   =        0.000]\n#[Max     =        0.000, Total count    =            0]\n");
            return s;
        }
        for v in h.iter_quantiles(5) {
            let q = v.quantile_iterated_to();
            let inv = if q < 1.0 {
                format!("{:14.2}", 1.0 / (1.0 - q))
            } else {
                String::new()
            };
            s.push_str(&format!(
                "{:12.3} {:14.12} {:10} {}\n",
                v.value_iterated_to() as f64 / 1_000.0,
                q,
                // Cumulative count up to this value.
                (q * h.len() as f64).round() as u64,
                inv
            ));
        }
        s.push_str(&format!(
            "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]\n#[Max     = {:12.3}, Total count    = {:12}]\n",
            h.mean() / 1_000.0,
            h.stdev() / 1_000.0,
            h.max() as f64 / 1_000.0,
            h.len()
        ));
        s
    }
}

/// A histogram crosses ranks as its recorded buckets (value, count): the
/// counts are the histogram, and every figure read from it (quantiles,
/// mean, deviation, max) is computed from them.
impl Wire for Latency {
    fn put(&self, out: &mut Vec<u8>) {
        let buckets: Vec<(u64, u64)> = self
            .counted()
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        buckets.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let mut l = Latency::new();
        for (v, n) in Vec::<(u64, u64)>::take(b) {
            l.h.record_n(v, n).expect("a value this histogram recorded");
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crosses_ranks_unchanged() {
        let mut l = Latency::new();
        for i in 0..5000u64 {
            l.record_ns(crate::engine::mix64(i) % 40_000_000_000);
        }
        let mut b = Vec::new();
        l.put(&mut b);
        let m = Latency::take(&mut &b[..]);
        assert_eq!(*m.counted(), *l.counted());
        assert!(!l.pending.is_empty(), "values not yet counted cross too");
        assert_eq!(m.to_hgrm(), l.to_hgrm());
        assert_eq!(
            Latency::take(
                &mut &{
                    let mut e = Vec::new();
                    Latency::new().put(&mut e);
                    e
                }[..]
            )
            .count(),
            0
        );
    }

    #[test]
    fn percentiles_and_file_format() {
        let mut l = Latency::new();
        for i in 1..=1000u64 {
            l.record_ns(i * 1_000_000); // 1..1000 ms
        }
        assert_eq!(l.count(), 1000);
        assert!((l.quantile_ms(0.5) - 500.0).abs() < 1.0);
        assert!((l.quantile_ms(0.99) - 990.0).abs() < 1.0);
        let f = l.to_hgrm();
        assert!(f.starts_with("       Value     Percentile TotalCount"));
        assert!(f.contains("Total count    =         1000]"));
        // Deterministic text for the same data.
        let mut m = Latency::new();
        m.merge(&l);
        assert_eq!(m.to_hgrm(), f);
    }
}
