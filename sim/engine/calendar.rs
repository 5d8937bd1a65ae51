//! A shard's pending events, bucketed by execution window.
//!
//! Windows are `[k·L, (k+1)·L)` for lookahead `L`. Because every message to
//! another entity is delayed by at least `L`, nothing sent during window `k`
//! can land in window `k` except an entity's messages to itself, which the
//! shard keeps in a small heap while the window runs. So a window's events can
//! be collected unsorted in a bucket and sorted once when the window starts;
//! no priority queue over all pending events is needed. The near future is a
//! ring of buckets; the far future (beyond the ring) is a map from window
//! index to bucket, moved into the ring as the ring reaches it.

use super::event::Event;
use std::collections::BTreeMap;

/// Pending events of one shard, grouped by window.
/// How far ahead (in windows) an empty ring slot reserves a typical
/// window's capacity at its first event.
const NEAR_WINDOWS: u64 = 64;

pub(crate) struct Calendar<M> {
    window_ns: u64,
    /// `floor((2^64 - 1) / window_ns)`: dividing by the window width with a
    /// multiplication (a 64-bit division on every push was measurable).
    window_recip: u64,
    /// Window index held by `ring[base & mask]`.
    base: u64,
    mask: u64,
    ring: Vec<Vec<Event<M>>>,
    /// Events in the ring (the far map is counted separately).
    ring_len: usize,
    /// One bit per ring slot: set when the slot holds events, so finding the
    /// next non-empty window costs a scan of R/64 words, not R slots.
    occupied: Vec<u64>,
    far: BTreeMap<u64, Vec<Event<M>>>,
    far_len: usize,
    /// Empty vectors with capacity, recycled to avoid reallocating buckets.
    spare: Vec<Vec<Event<M>>>,
    /// Scratch for [`Calendar::sort`]'s packed keys (and the radix sort's
    /// second buffer).
    keys: Vec<u64>,
    keys_tmp: Vec<u64>,
    /// A running mean of the windows' sizes: an empty ring slot within
    /// [`NEAR_WINDOWS`] of the current window reserves this much at its
    /// first event, instead of growing from nothing by doubling
    /// (reallocation was ~6% of a small PHOLD run's profile). Farther slots
    /// grow as before, so sparse future windows hold no spare capacity.
    typical: usize,
}

/// Widest radix digit [`radix_sort_high`] uses: 2^11 counters of 8 bytes
/// (16 KiB) still sit in the first-level cache.
const MAX_DIGIT_BITS: u32 = 11;

/// Sorts `keys` by their bits from `low` up, stably (an LSD radix sort in
/// as few passes of at most [`MAX_DIGIT_BITS`] as the highest set bit
/// needs, the digits as even as they can be: a 27-bit window offset is
/// three passes of 9 bits, where bytes took four). The bits below `low`
/// are the keys' indices, already increasing, so the result is the keys
/// in integer order.
fn radix_sort_high(keys: &mut Vec<u64>, tmp: &mut Vec<u64>, low: u32) {
    let top = keys.iter().fold(0u64, |a, &k| a | k) >> low;
    let bits = u64::BITS - top.leading_zeros();
    if bits == 0 {
        return;
    }
    let passes = bits.div_ceil(MAX_DIGIT_BITS);
    let digit = bits.div_ceil(passes);
    let radix = 1usize << digit;
    let dmask = radix as u64 - 1;
    let mut counts = vec![0usize; radix * passes as usize];
    for &k in keys.iter() {
        let mut v = k >> low;
        for c in counts.chunks_exact_mut(radix) {
            c[(v & dmask) as usize] += 1;
            v >>= digit;
        }
    }
    tmp.clear();
    tmp.resize(keys.len(), 0);
    for (p, c) in counts.chunks_exact_mut(radix).enumerate() {
        let shift = low + digit * p as u32;
        let mut sum = 0;
        for x in c.iter_mut() {
            let n = *x;
            *x = sum;
            sum += n;
        }
        for &k in keys.iter() {
            let d = ((k >> shift) & dmask) as usize;
            tmp[c[d]] = k;
            c[d] += 1;
        }
        std::mem::swap(keys, tmp);
    }
}

/// How many events past a bucket's end [`prefetch_ahead`] asks for.
const STORE_AHEAD: usize = 4;

/// Asks for the memory a bucket's next pushes will write (a hint, changes
/// nothing). A shard pushes into dozens of buckets at once (its windows
/// and its outboxes), more sequential streams than the hardware follows, so
/// each new cache line of a bucket would otherwise stall its first store.
#[inline(always)]
pub(crate) fn prefetch_ahead<T>(bucket: &mut Vec<T>) {
    if let Some(slot) = bucket.spare_capacity_mut().get(STORE_AHEAD) {
        super::prefetch(slot);
    }
}

impl<M> Calendar<M> {
    pub(crate) fn new(window_ns: u64, ring_windows: usize) -> Self {
        assert!(window_ns > 0, "window width must be positive");
        let n = ring_windows.next_power_of_two().max(2);
        Calendar {
            window_ns,
            window_recip: u64::MAX / window_ns,
            base: 0,
            mask: n as u64 - 1,
            ring: (0..n).map(|_| Vec::new()).collect(),
            ring_len: 0,
            occupied: vec![0; n.div_ceil(64)],
            far: BTreeMap::new(),
            far_len: 0,
            spare: Vec::new(),
            keys: Vec::new(),
            keys_tmp: Vec::new(),
            typical: 4,
        }
    }

    #[inline]
    pub(crate) fn window_of(&self, time_ns: u64) -> u64 {
        // The estimate is at most two below the quotient: correct it.
        let mut q = ((time_ns as u128 * self.window_recip as u128) >> 64) as u64;
        while q
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.window_ns))
            .is_some_and(|next| next <= time_ns)
        {
            q += 1;
        }
        debug_assert_eq!(q, time_ns / self.window_ns);
        q
    }

    /// The width of a window, nanoseconds.
    pub(crate) fn window_ns(&self) -> u64 {
        self.window_ns
    }

    /// Events pending in windows `from..to` that the ring holds, looking at
    /// no more than `most` windows (an estimate of a round's work, for
    /// deciding whether to share it).
    pub(crate) fn len_in(&self, from: u64, to: u64, most: u64) -> usize {
        let to = to.min(from.saturating_add(most));
        (from.max(self.base)..to)
            .take_while(|&w| w - self.base <= self.mask)
            .map(|w| self.ring[(w & self.mask) as usize].len())
            .sum()
    }

    /// Number of pending events.
    pub(crate) fn len(&self) -> usize {
        self.ring_len + self.far_len
    }

    /// Adds an event for a window not earlier than the current base.
    #[inline(always)]
    pub(crate) fn push(&mut self, ev: Event<M>) {
        let w = self.window_of(ev.time.0);
        assert!(
            w >= self.base,
            "event scheduled into a window already run (window {w} < {})",
            self.base
        );
        if w - self.base <= self.mask {
            let slot = (w & self.mask) as usize;
            let bucket = &mut self.ring[slot];
            if bucket.capacity() == 0 && w - self.base < NEAR_WINDOWS {
                // A quarter over the mean: most windows then never grow.
                bucket.reserve(self.typical + self.typical / 4);
            }
            bucket.push(ev);
            prefetch_ahead(bucket);
            self.occupied[slot / 64] |= 1 << (slot % 64);
            self.ring_len += 1;
        } else {
            let spare = &mut self.spare;
            self.far
                .entry(w)
                .or_insert_with(|| spare.pop().unwrap_or_default())
                .push(ev);
            self.far_len += 1;
        }
    }

    /// The earliest window holding an event, if any.
    pub(crate) fn next_window(&self) -> Option<u64> {
        if self.ring_len > 0 {
            let n = self.mask as usize + 1;
            let start = (self.base & self.mask) as usize;
            // Scan the occupancy bits from the base slot round the ring.
            let words = self.occupied.len();
            for i in 0..=words {
                let wi = (start / 64 + i) % words;
                let mut bits = self.occupied[wi];
                if i == 0 {
                    bits &= !0u64 << (start % 64);
                } else if i == words {
                    bits &= (1u64 << (start % 64)).wrapping_sub(1);
                }
                if bits != 0 {
                    let slot = wi * 64 + bits.trailing_zeros() as usize;
                    let offset = (slot + n - start) % n;
                    return Some(self.base + offset as u64);
                }
            }
            unreachable!("ring_len > 0 but no occupied slot");
        }
        self.far.keys().next().copied()
    }

    /// Events pending in window `w` (which must not be before the base).
    pub(crate) fn window_len(&self, w: u64) -> usize {
        if w >= self.base && w - self.base <= self.mask {
            self.ring[(w & self.mask) as usize].len()
        } else {
            self.far.get(&w).map_or(0, Vec::len)
        }
    }

    /// Removes and returns window `w`'s events (unsorted), moving the ring's
    /// base to `w`. No event may be pending in a window before `w`.
    pub(crate) fn take(&mut self, w: u64) -> Vec<Event<M>> {
        assert!(w >= self.base);
        // Windows between base and w must be empty, or events would be
        // skipped (the window loop only ever takes the earliest window; a
        // scan of the ring on every take was measurable, so debug builds
        // check it).
        debug_assert!(
            self.ring_len == 0 || self.next_window().is_some_and(|first| first >= w),
            "calendar asked to skip a pending window for {w}"
        );
        self.base = w;
        // Move far-future buckets that the ring now reaches.
        while let Some((&fw, _)) = self.far.first_key_value() {
            if fw - self.base > self.mask {
                break;
            }
            let (fw, mut bucket) = self.far.pop_first().expect("checked non-empty");
            self.far_len -= bucket.len();
            self.ring_len += bucket.len();
            let idx = (fw & self.mask) as usize;
            self.occupied[idx / 64] |= 1 << (idx % 64);
            let slot = &mut self.ring[idx];
            if slot.is_empty() {
                std::mem::swap(slot, &mut bucket);
                self.spare.push(bucket);
            } else {
                slot.append(&mut bucket);
                self.spare.push(bucket);
            }
        }
        // The emptied slot starts again with no capacity: handing it a spare
        // would leave large idle capacity in many slots (measured: ~2x the
        // memory per pending event), while regrowing costs one copy per event.
        let idx = (w & self.mask) as usize;
        self.occupied[idx / 64] &= !(1 << (idx % 64));
        let out = std::mem::take(&mut self.ring[idx]);
        self.ring_len -= out.len();
        self.typical = (self.typical * 7 + out.len()).div_ceil(8).clamp(4, 1 << 16);
        out
    }

    /// Sorts window `w`'s batch (as [`Calendar::take`] returned it) into
    /// event-key order.
    ///
    /// Sorting the events themselves (24 bytes and more, compared field by
    /// field) was a quarter of a small PHOLD run. Instead each event gets
    /// a packed `u64`: its time's offset in the window above its index in
    /// the batch. Those sort as plain integers; runs of equal times (whose
    /// order the rest of the key decides) are then sorted by the full key,
    /// and the batch is permuted in place. The order is exactly that of
    /// sorting by [`Event::key`] (keys are unique). Batches of 256 events
    /// or more sort their keys by radix. Tiny batches, and windows too wide
    /// to pack, sort by key directly.
    pub(crate) fn sort(&mut self, w: u64, batch: &mut [Event<M>]) {
        let n = batch.len();
        let idx_bits = usize::BITS - n.leading_zeros();
        let offset_bits = u64::BITS - (self.window_ns - 1).leading_zeros();
        if n < 16 || idx_bits + offset_bits > 64 {
            batch.sort_unstable_by_key(|e| e.key());
            return;
        }
        let start = w * self.window_ns;
        let keys = &mut self.keys;
        keys.clear();
        keys.extend(
            batch
                .iter()
                .enumerate()
                .map(|(i, e)| (e.time.0 - start) << idx_bits | i as u64),
        );
        if n < 256 {
            keys.sort_unstable();
        } else {
            radix_sort_high(keys, &mut self.keys_tmp, idx_bits);
        }
        let mask = (1u64 << idx_bits) - 1;
        // Equal times: order by the whole key.
        let mut i = 0;
        while i < n {
            let t = keys[i] >> idx_bits;
            let mut j = i + 1;
            while j < n && keys[j] >> idx_bits == t {
                j += 1;
            }
            if j - i > 1 {
                keys[i..j].sort_unstable_by_key(|k| batch[(k & mask) as usize].key());
            }
            i = j;
        }
        // Position k takes the event at index `keys[k] & mask`: follow each
        // cycle of the permutation with swaps, marking positions done.
        keys.iter_mut().for_each(|k| *k &= mask);
        for start in 0..n {
            let mut j = start;
            loop {
                let from = keys[j] as usize;
                keys[j] = j as u64;
                if from == start || from == j {
                    break;
                }
                batch.swap(j, from);
                j = from;
            }
        }
    }

    /// Returns an emptied bucket so its capacity is reused.
    pub(crate) fn recycle(&mut self, mut v: Vec<Event<M>>) {
        v.clear();
        if self.spare.len() < 2 {
            self.spare.push(v);
        }
    }

    /// Every pending event, in no particular order (for end-of-run reports).
    pub(crate) fn drain_all(&mut self) -> Vec<Event<M>> {
        let mut out = Vec::with_capacity(self.len());
        for b in self.ring.iter_mut() {
            out.append(b);
        }
        self.occupied.iter_mut().for_each(|w| *w = 0);
        for (_, mut b) in std::mem::take(&mut self.far) {
            out.append(&mut b);
        }
        self.ring_len = 0;
        self.far_len = 0;
        out
    }

    /// Approximate heap bytes held (capacity of every bucket).
    pub(crate) fn bytes(&self) -> usize {
        let ev = std::mem::size_of::<Event<M>>();
        let cap: usize = self
            .ring
            .iter()
            .chain(self.far.values())
            .chain(self.spare.iter())
            .map(|b| b.capacity())
            .sum();
        cap * ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SimTime;

    fn ev(t: u64) -> Event<()> {
        Event {
            time: SimTime(t),
            seq: t,
            target: 0,
            src: 0,
            msg: (),
        }
    }

    #[test]
    fn near_and_far_events_come_out_in_window_order() {
        let mut c = Calendar::new(10, 4);
        for t in [5, 95, 12, 1_000_000, 41, 18, 40] {
            c.push(ev(t));
        }
        assert_eq!(c.len(), 7);
        let mut seen = Vec::new();
        while let Some(w) = c.next_window() {
            let mut b = c.take(w);
            b.sort_by_key(|e| e.time);
            assert!(b.iter().all(|e| e.time.0 / 10 == w));
            seen.extend(b.iter().map(|e| e.time.0));
            c.recycle(b);
        }
        assert_eq!(seen, vec![5, 12, 18, 40, 41, 95, 1_000_000]);
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn next_window_wraps_round_a_large_ring() {
        let mut c = Calendar::new(1, 256);
        let mut t = 0u64;
        // Walk the base round the ring several times with sparse events.
        for step in [3u64, 70, 200, 129, 255, 1, 64, 63, 190] {
            t += step;
            c.push(ev(t));
            assert_eq!(c.next_window(), Some(t));
            let b = c.take(t);
            assert_eq!(b.len(), 1);
            c.recycle(b);
            assert_eq!(c.next_window(), None);
        }
        c.push(ev(t + 300)); // beyond the ring: the far map
        c.push(ev(t + 5));
        assert_eq!(c.next_window(), Some(t + 5));
        let _ = c.take(t + 5);
        assert_eq!(c.next_window(), Some(t + 300));
    }

    #[test]
    fn window_of_is_exact_division() {
        for w in [
            1u64,
            3,
            7,
            50_000_000,
            100_000_000,
            999_999_937,
            u64::MAX / 3,
        ] {
            let c: Calendar<()> = Calendar::new(w, 16);
            for t in [
                0u64,
                1,
                w - 1,
                w,
                w + 1,
                3 * w - 1,
                u64::MAX - 1,
                u64::MAX,
                123_456_789_012,
            ] {
                assert_eq!(c.window_of(t), t / w, "t {t} w {w}");
            }
        }
    }

    /// The packed sort gives exactly the key order, ties in time included,
    /// whatever order the batch came in.
    #[test]
    fn the_packed_sort_is_the_key_order() {
        let mut c: Calendar<()> = Calendar::new(1_000, 4);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 15, 16, 63, 64, 255, 256, 500, 5_000] {
            let w = 7;
            let mut batch: Vec<Event<()>> = (0..n)
                .map(|_| {
                    let r = next();
                    Event {
                        // Few distinct times, so that ties are common.
                        time: SimTime(w * 1_000 + r % 37 * 27),
                        seq: r >> 40 & 3,
                        target: (r >> 20 & 7) as u32,
                        src: (r >> 30 & 7) as u32,
                        msg: (),
                    }
                })
                .collect();
            batch.sort_by_key(|e| e.key());
            batch.dedup_by_key(|e| e.key());
            // Shuffle, then sort both ways.
            for i in (1..batch.len()).rev() {
                batch.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            let mut want: Vec<_> = batch.iter().map(|e| e.key()).collect();
            want.sort();
            c.sort(w, &mut batch);
            let got: Vec<_> = batch.iter().map(|e| e.key()).collect();
            assert_eq!(got, want, "n {n}");
        }
    }

    /// The radix sort orders keys of every width, from one pass to the
    /// most (digits of up to 11 bits), equal high bits included.
    #[test]
    fn the_radix_sort_orders_keys_of_every_width() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 256, 3_000] {
            let low = usize::BITS - n.leading_zeros();
            for high_bits in [0u32, 1, 8, 11, 12, 22, 23, 27, 33, 50, 64 - low] {
                let keep = if high_bits == 0 {
                    0
                } else {
                    u64::MAX >> (64 - high_bits)
                };
                // Half the keys share a few values, so ties are common.
                let mut keys: Vec<u64> = (0..n as u64)
                    .map(|i| {
                        let r = next();
                        let h = if r & 1 == 0 {
                            r >> 1 & keep
                        } else {
                            ((r >> 1) % 5) & keep
                        };
                        h << low | i
                    })
                    .collect();
                let mut want = keys.clone();
                want.sort_unstable();
                radix_sort_high(&mut keys, &mut Vec::new(), low);
                assert_eq!(keys, want, "n {n} high bits {high_bits}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "already run")]
    fn pushing_into_the_past_is_a_broken_invariant() {
        let mut c = Calendar::new(10, 4);
        c.push(ev(55));
        let w = c.next_window().unwrap();
        let _ = c.take(w);
        c.push(ev(3));
    }
}
