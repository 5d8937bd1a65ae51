//! Events and their total-order key.

use super::time::SimTime;

/// Identifier of an entity (a logical process). Entities are numbered densely
/// from zero; the engine maps each to a shard with [`super::Partition`].
pub type EntityId = u32;

/// A message delivered to `target` at `time`.
///
/// `(time, target, src, seq)` is the event's key. `seq` is the sender's own
/// count of messages sent, so `(src, seq)` is unique and the key is a total
/// order made only of integers that never depends on insertion order or on
/// which thread ran the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<M> {
    /// When the event happens.
    pub time: SimTime,
    /// Sender's per-entity message counter at the time it sent this event.
    pub seq: u64,
    /// Entity that handles the event.
    pub target: EntityId,
    /// Entity that sent it (equal to `target` for self-scheduled and initial events).
    pub src: EntityId,
    /// The model's payload.
    pub msg: M,
}

/// The integer key that totally orders events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// Delivery time, nanoseconds.
    pub time_ns: u64,
    /// Receiving entity.
    pub target: EntityId,
    /// Sending entity.
    pub src: EntityId,
    /// Sender's message counter.
    pub seq: u64,
}

impl<M> Event<M> {
    /// This event's total-order key.
    #[inline]
    pub fn key(&self) -> EventKey {
        EventKey {
            time_ns: self.time.0,
            target: self.target,
            src: self.src,
            seq: self.seq,
        }
    }
}

impl EventKey {
    /// A well-mixed 64-bit hash of the key (SplitMix64 finaliser over the
    /// fields), used to fold run digests. Stable across versions: changing it
    /// changes every digest in the benchmark baselines.
    #[inline]
    pub fn hash64(&self) -> u64 {
        let mut h = mix64(self.time_ns ^ 0x9E37_79B9_7F4A_7C15);
        h = mix64(h ^ ((self.target as u64) << 32 | self.src as u64));
        mix64(h ^ self.seq)
    }
}

/// SplitMix64 finaliser: a cheap bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
