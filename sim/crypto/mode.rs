//! Crypto modes: how much of the real cryptography a scenario runs.
//!
//! * `full`: every signature and MAC is made and checked.
//! * `sampled`: a deterministic fraction of messages (chosen by a hash of
//!   the message's identity and the seed, never by the thread schedule) is
//!   made and checked; the rest are decided by their ground truth. The rule
//!   is one per message: a sampled message (a request, the command it
//!   becomes, its response; or an alert) is checked everywhere it goes, so
//!   every check of it asks [`CryptoPolicy::decide`] with the same id.
//! * `modeled`: no cryptography; every message is decided by its ground
//!   truth (for the largest runs).
//!
//! Wherever cryptography runs, its answer decides, and every disagreement
//! with the message's ground truth is counted: it must be zero unless an
//! attack scenario says otherwise.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How much cryptography runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CryptoMode {
    /// Every signature and MAC.
    Full,
    /// A deterministic fraction.
    Sampled,
    /// None: ground truth only.
    Modeled,
}

/// A mode with its sampling fraction and the seed that picks samples.
#[derive(Clone, Copy, Debug)]
pub struct CryptoPolicy {
    mode: CryptoMode,
    /// For `Sampled`: checked messages per 2^32.
    threshold: u64,
    salt: u64,
}

/// Counts of what the crypto layer decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CryptoCounters {
    /// Decisions made by running the cryptography.
    pub checked: u64,
    /// Decisions made from ground truth alone.
    pub by_ground_truth: u64,
    /// Checks whose result differed from the ground truth.
    pub ground_truth_mismatches: u64,
}

impl CryptoCounters {
    /// Adds another set of counts.
    pub fn add(&mut self, o: &CryptoCounters) {
        self.checked += o.checked;
        self.by_ground_truth += o.by_ground_truth;
        self.ground_truth_mismatches += o.ground_truth_mismatches;
    }
}

impl CryptoPolicy {
    /// A policy; `fraction` (0..=1) matters only for `Sampled`.
    pub fn new(mode: CryptoMode, fraction: f64, seed: u64) -> Self {
        let f = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let d =
            Sha256::digest([b"dccsim/crypto-sample/v1".as_slice(), &seed.to_le_bytes()].concat());
        CryptoPolicy {
            mode,
            threshold: (f * 4_294_967_296.0) as u64,
            salt: u64::from_le_bytes(d[..8].try_into().expect("8 bytes")),
        }
    }

    /// The mode.
    pub fn mode(&self) -> CryptoMode {
        self.mode
    }

    /// Whether the message identified by `message_id` runs real cryptography.
    pub fn runs_crypto(&self, message_id: u64) -> bool {
        match self.mode {
            CryptoMode::Full => true,
            CryptoMode::Modeled => false,
            CryptoMode::Sampled => {
                (crate::engine::mix64(message_id ^ self.salt) >> 32) < self.threshold
            }
        }
    }

    /// Decides one check: runs `check` when this message is cryptographically
    /// checked (its answer decides, and a disagreement with `ground_truth`
    /// is counted), else returns `ground_truth`.
    pub fn decide(
        &self,
        message_id: u64,
        ground_truth: bool,
        counters: &mut CryptoCounters,
        check: impl FnOnce() -> bool,
    ) -> bool {
        if self.runs_crypto(message_id) {
            let got = check();
            counters.checked += 1;
            if got != ground_truth {
                counters.ground_truth_mismatches += 1;
            }
            got
        } else {
            counters.by_ground_truth += 1;
            ground_truth
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_decide_as_documented() {
        let mut c = CryptoCounters::default();
        let full = CryptoPolicy::new(CryptoMode::Full, 0.0, 1);
        // Real crypto decides, even against the ground truth, and the disagreement is counted.
        assert!(!full.decide(1, true, &mut c, || false));
        assert_eq!(c.ground_truth_mismatches, 1);
        let modeled = CryptoPolicy::new(CryptoMode::Modeled, 1.0, 1);
        assert!(modeled.decide(2, true, &mut c, || panic!("modeled mode runs no crypto")));
        let sampled = CryptoPolicy::new(CryptoMode::Sampled, 0.25, 9);
        let n = (0..100_000u64).filter(|&i| sampled.runs_crypto(i)).count();
        assert!((23_000..27_000).contains(&n), "sampled fraction {n}/100000");
        // Deterministic: the same ids are sampled every time.
        let again = CryptoPolicy::new(CryptoMode::Sampled, 0.25, 9);
        assert!((0..1000u64).all(|i| sampled.runs_crypto(i) == again.runs_crypto(i)));
    }
}
