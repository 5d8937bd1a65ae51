//! Deterministic random streams.
//!
//! Every random draw in a run comes from a ChaCha8 stream named by
//! `(root seed, stream name, entity id)`:
//!
//! * the 256-bit ChaCha key is SHA-256 of a fixed domain tag, the root seed and
//!   the stream name, so two subsystems never share draws;
//! * the entity id is ChaCha's 64-bit stream number, so each entity has its own
//!   independent sequence under that key;
//! * an entity keeps only its 64-bit *word position* in the stream, not the
//!   generator (a ChaCha generator with its buffer is over 300 bytes, which
//!   would not fit millions of entities). [`StreamFamily::at`] rebuilds a
//!   generator positioned at that word in one block computation.
//!
//! Nothing here reads the operating system's entropy or the wall clock.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// All the streams of one name under one root seed; hands out a generator per entity.
#[derive(Clone)]
pub struct StreamFamily {
    /// A generator with the family's key, stream 0 and an empty buffer,
    /// cloned and repositioned for each use (cheaper than re-keying).
    template: ChaCha8Rng,
}

impl std::fmt::Debug for StreamFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamFamily{..}")
    }
}

/// The 32-byte ChaCha key for `(root_seed, name)`.
pub fn derive_key(root_seed: u64, name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"dccsim/stream/v1\0");
    h.update(root_seed.to_le_bytes());
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.finalize().into()
}

impl StreamFamily {
    /// The family of streams called `name` under `root_seed`.
    pub fn new(root_seed: u64, name: &str) -> Self {
        StreamFamily {
            template: ChaCha8Rng::from_seed(derive_key(root_seed, name)),
        }
    }

    /// Entity `entity`'s generator, positioned `word_pos` 32-bit words into its
    /// stream. After drawing, [`ChaCha8Rng::get_word_pos`] gives the position to
    /// store for next time, so an entity's draws form one continuous stream
    /// however they are split across events.
    #[inline]
    pub fn at(&self, entity: u64, word_pos: u64) -> ChaCha8Rng {
        let mut rng = self.template.clone();
        // The template's buffer is empty, so set_stream does not refill;
        // set_word_pos then computes exactly one buffer.
        rng.set_stream(entity);
        rng.set_word_pos(word_pos as u128);
        rng
    }

    /// Entity `entity`'s generator from the start of its stream.
    pub fn entity(&self, entity: u64) -> ChaCha8Rng {
        self.at(entity, 0)
    }
}

/// Seeds for child runs (replications, sweep points) derived from a root seed
/// and an index: SHA-256 based, so nearby indices give unrelated seeds.
pub fn child_seed(root_seed: u64, label: &str, index: u64) -> u64 {
    let k = derive_key(root_seed, label);
    let mut h = Sha256::new();
    h.update(k);
    h.update(index.to_le_bytes());
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// A uniform draw in the open interval (0, 1) from 52 random bits: the
/// midpoints `(k + 0.5) / 2^52`, all exactly representable, never 0 or 1 (so
/// `-ln(u)` is finite and positive).
#[inline]
pub fn open01(bits: u64) -> f64 {
    ((bits >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// An exponential variate with the given mean from 64 random bits, in
/// nanoseconds, rounded down.
#[inline]
pub fn exp_ns(bits: u64, mean_ns: f64) -> u64 {
    (-open01(bits).ln() * mean_ns) as u64
}

/// A uniform integer in `0..n` from 32 random bits (multiply-shift; bias at
/// most n / 2^32, negligible for the entity counts used here).
#[inline]
pub fn below_u32(bits: u32, n: u32) -> u32 {
    ((bits as u64 * n as u64) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_are_continuous_across_repositioning() {
        let fam = StreamFamily::new(42, "test");
        let mut whole = fam.entity(7);
        let seq: Vec<u64> = (0..40).map(|_| whole.next_u64()).collect();
        // Draw the same 40 values in pieces, storing only the word position between.
        let mut pos = 0u64;
        let mut pieces = Vec::new();
        for chunk in [3usize, 1, 17, 19] {
            let mut r = fam.at(7, pos);
            for _ in 0..chunk {
                pieces.push(r.next_u64());
            }
            pos = r.get_word_pos() as u64;
        }
        assert_eq!(seq, pieces);
    }

    #[test]
    fn names_seeds_and_entities_give_different_streams() {
        let a = StreamFamily::new(1, "a").entity(0).next_u64();
        let b = StreamFamily::new(1, "b").entity(0).next_u64();
        let c = StreamFamily::new(2, "a").entity(0).next_u64();
        let d = StreamFamily::new(1, "a").entity(1).next_u64();
        let all = [a, b, c, d];
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(all[i], all[j]);
            }
        }
        // And the same inputs always give the same value.
        assert_eq!(a, StreamFamily::new(1, "a").entity(0).next_u64());
    }

    #[test]
    fn helpers_stay_in_range() {
        assert!(open01(0) > 0.0 && open01(u64::MAX) < 1.0);
        assert_eq!(below_u32(u32::MAX, 10), 9);
        assert_eq!(below_u32(0, 10), 0);
        assert!(exp_ns(0, 1e9) > 0);
    }
}
