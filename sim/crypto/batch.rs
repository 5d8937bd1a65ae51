//! Verifying many signatures at once, in parallel, with results in input order.

use super::curve::Affine;
use super::ecdsa::{verify_oneoff, VerifyKey};
use p256::Scalar;
use rayon::prelude::*;

/// Which key checks a job.
#[derive(Clone, Copy, Debug)]
pub enum KeyRef<'a> {
    /// A long-lived key (uses and builds its table).
    LongLived(&'a VerifyKey),
    /// A key seen once.
    OneOff(&'a Affine),
}

/// One signature check: key, prehashed message `z`, and `r ‖ s`.
#[derive(Clone, Copy, Debug)]
pub struct VerifyJob<'a> {
    /// The key.
    pub key: KeyRef<'a>,
    /// SHA-256 of the message, reduced mod n.
    pub z: Scalar,
    /// The signature.
    pub sig: &'a [u8],
}

impl VerifyJob<'_> {
    /// Runs this one check.
    #[inline]
    pub fn run(&self) -> bool {
        match self.key {
            KeyRef::LongLived(k) => k.verify_prehash(&self.z, self.sig),
            KeyRef::OneOff(p) => verify_oneoff(p, &self.z, self.sig),
        }
    }
}

/// Checks every job on the current rayon pool; `out[i]` is job `i`'s answer.
/// Results do not depend on the number of threads.
pub fn verify_batch(jobs: &[VerifyJob<'_>]) -> Vec<bool> {
    jobs.par_iter()
        .with_min_len(16)
        .map(VerifyJob::run)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ecdsa::hash_to_scalar;
    use crate::crypto::keys::{derive_key, KeyRole};

    #[test]
    fn batch_results_are_in_input_order_for_any_pool() {
        let k = derive_key(3, KeyRole::UserCommandSigning, 1);
        let vk = k.verify_key();
        let msgs: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let mut sigs: Vec<[u8; 64]> = msgs.iter().map(|m| k.sign(m)).collect();
        for (i, s) in sigs.iter_mut().enumerate() {
            if i % 3 == 1 {
                s[10] ^= 0x40;
            }
        }
        let jobs: Vec<VerifyJob> = msgs
            .iter()
            .zip(&sigs)
            .enumerate()
            .map(|(i, (m, s))| VerifyJob {
                key: if i % 2 == 0 {
                    KeyRef::LongLived(&vk)
                } else {
                    KeyRef::OneOff(k.public())
                },
                z: hash_to_scalar(m),
                sig: s,
            })
            .collect();
        let want: Vec<bool> = (0..300).map(|i| i % 3 != 1).collect();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(pool.install(|| verify_batch(&jobs)), want);
        }
    }
}
