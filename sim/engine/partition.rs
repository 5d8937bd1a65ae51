//! How entities map to shards.

use super::event::EntityId;

/// How entities map to shards: entity `e` lives in shard `e mod shards` at
/// local index `e / shards`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Number of shards.
    pub shards: u32,
    /// Number of entities.
    pub entities: u32,
}

impl Partition {
    /// The shard that owns entity `e`.
    #[inline]
    pub fn shard_of(&self, e: EntityId) -> u32 {
        // A power-of-two shard count (the default 64) avoids a division
        // on every send.
        if self.shards.is_power_of_two() {
            e & (self.shards - 1)
        } else {
            e % self.shards
        }
    }
    /// Entity `e`'s index within its shard.
    #[inline]
    pub fn local_of(&self, e: EntityId) -> u32 {
        if self.shards.is_power_of_two() {
            e >> self.shards.trailing_zeros()
        } else {
            e / self.shards
        }
    }
    /// The entity at `local` in `shard`.
    #[inline]
    pub fn global(&self, shard: u32, local: u32) -> EntityId {
        local * self.shards + shard
    }
    /// How many entities shard `s` owns.
    pub fn entities_in_shard(&self, s: u32) -> u32 {
        let base = self.entities / self.shards;
        base + u32::from(s < self.entities % self.shards)
    }
    /// The entities shard `s` owns, in increasing order.
    pub fn entities_of(&self, s: u32) -> impl Iterator<Item = EntityId> + '_ {
        let me = *self;
        (0..self.entities_in_shard(s)).map(move |l| me.global(s, l))
    }
}
