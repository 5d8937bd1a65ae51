//! Running one simulation over several processes (ranks).
//!
//! The shards of a run are fixed by the scenario; with a [`Transport`] they
//! are spread over the ranks (shard `s` lives on rank `s mod ranks`). Each
//! rank runs its own shards' windows; at every window barrier the ranks
//! agree on what the window loop decides alone in one process:
//!
//! * the next window: the minimum over the ranks of their shards' next
//!   pending window ([`Transport::min_u64`]);
//! * whether to stop: the events run so far and whether any rank was
//!   interrupted ([`Transport::sum_u64s`]);
//! * the messages between shards on different ranks: serialised per
//!   destination rank and swapped in one all-to-all
//!   ([`Transport::all_to_all`]).
//!
//! Because delivery order within a window never matters (a window's events
//! are sorted by their integer key when it starts) and the run digest is a
//! wrapping sum, a run gives the same events, digest and model results at
//! any number of ranks and threads.
//!
//! The engine knows no MPI: `workflow::mpi` implements [`Transport`] over
//! rsmpi behind the `mpi` cargo feature.

use super::event::Event;
use super::time::SimTime;

/// What the window loop needs from a set of cooperating ranks. Every call
/// is collective: every rank makes the same calls in the same order.
pub trait Transport: Send {
    /// This process's rank, `0..ranks()`.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn ranks(&self) -> usize;
    /// The minimum of `x` over the ranks.
    fn min_u64(&self, x: u64) -> u64;
    /// Element-wise wrapping sums of `xs` over the ranks, in place.
    fn sum_u64s(&self, xs: &mut [u64]);
    /// `send[r]` goes to rank `r`; returns what each rank sent this one.
    fn all_to_all(&self, send: &[Vec<u8>]) -> Vec<Vec<u8>>;
}

/// A message payload that can cross a process boundary.
pub trait Wire: Sized {
    /// Appends the payload's bytes.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads a payload from the front of `b`, advancing it.
    fn take(b: &mut &[u8]) -> Self;
}

impl Wire for () {
    fn put(&self, _out: &mut Vec<u8>) {}
    fn take(_b: &mut &[u8]) -> Self {}
}

/// Little-endian fixed-width integers and floats (floats by their bits, so
/// every value, NaN included, crosses unchanged).
macro_rules! wire_le {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(b: &mut &[u8]) -> Self {
                const N: usize = std::mem::size_of::<$t>();
                let (head, rest) = b.split_at(N);
                *b = rest;
                <$t>::from_le_bytes(head.try_into().expect("fixed width"))
            }
        }
    )*};
}
wire_le!(u8, u16, u32, u64, i64, f64);

impl Wire for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn take(b: &mut &[u8]) -> Self {
        u8::take(b) != 0
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.put(out);
            }
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        (u8::take(b) != 0).then(|| T::take(b))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u64).put(out);
        for x in self {
            x.put(out);
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        let n = u64::take(b) as usize;
        (0..n).map(|_| T::take(b)).collect()
    }
}

impl<T: Wire, const N: usize> Wire for [T; N] {
    fn put(&self, out: &mut Vec<u8>) {
        for x in self {
            x.put(out);
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        std::array::from_fn(|_| T::take(b))
    }
}

impl Wire for Box<[u8]> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u64).put(out);
        out.extend_from_slice(self);
    }
    fn take(b: &mut &[u8]) -> Self {
        let n = u64::take(b) as usize;
        let (head, rest) = b.split_at(n);
        *b = rest;
        head.into()
    }
}

impl Wire for String {
    fn put(&self, out: &mut Vec<u8>) {
        self.as_bytes().to_vec().into_boxed_slice().put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        String::from_utf8(Box::<[u8]>::take(b).into_vec()).expect("written from a String")
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let a = A::take(b);
        (a, B::take(b))
    }
}

impl<A: Wire, B: Wire, C: Wire> Wire for (A, B, C) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
        self.2.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let a = A::take(b);
        let b2 = B::take(b);
        (a, b2, C::take(b))
    }
}

/// A type's [`Wire`] functions, kept by the engine for a type it does not
/// otherwise require to be [`Wire`].
pub(crate) struct Codec<T> {
    pub(crate) put: fn(&T, &mut Vec<u8>),
    pub(crate) take: fn(&mut &[u8]) -> T,
}

/// An engine's link to the other ranks: the transport, the payload codec,
/// and the rank of every shard.
pub(crate) struct Link<M> {
    pub(crate) t: Box<dyn Transport>,
    pub(crate) put: fn(&M, &mut Vec<u8>),
    pub(crate) take: fn(&mut &[u8]) -> M,
    pub(crate) rank_of: Vec<usize>,
}

/// Which rank runs each shard, given each shard's expected work: the
/// heaviest shard first, each to the rank with the least work so far
/// (then the one with fewest shards, then the lowest rank), the
/// longest-processing-time rule. A pure
/// function of its inputs, so every rank computes the same placement; with
/// equal weights it is round robin (shard `s` on rank `s mod ranks`).
/// Where a shard runs never changes what it computes, only how long the
/// slowest rank takes.
pub fn placement(weights: &[u64], ranks: usize) -> Vec<usize> {
    assert!(ranks >= 1, "at least one rank");
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&s| (std::cmp::Reverse(weights[s]), s));
    let (mut load, mut count) = (vec![0u64; ranks], vec![0usize; ranks]);
    let mut rank_of = vec![0; weights.len()];
    for s in order {
        let r = (0..ranks)
            .min_by_key(|&r| (load[r], count[r], r))
            .expect("ranks");
        rank_of[s] = r;
        load[r] = load[r].saturating_add(weights[s]);
        count[r] += 1;
    }
    rank_of
}

/// Appends an event: its key (24 bytes, little-endian) then its payload.
pub(crate) fn put_event<M>(e: &Event<M>, put: fn(&M, &mut Vec<u8>), out: &mut Vec<u8>) {
    out.extend_from_slice(&e.time.0.to_le_bytes());
    out.extend_from_slice(&e.seq.to_le_bytes());
    out.extend_from_slice(&e.target.to_le_bytes());
    out.extend_from_slice(&e.src.to_le_bytes());
    put(&e.msg, out);
}

/// Reads an event written by [`put_event`].
pub(crate) fn take_event<M>(b: &mut &[u8], take: fn(&mut &[u8]) -> M) -> Event<M> {
    let time = SimTime(u64::take(b));
    let seq = u64::take(b);
    let target = u32::take(b);
    let src = u32::take(b);
    Event {
        time,
        seq,
        target,
        src,
        msg: take(b),
    }
}

/// Ranks as threads of one process, for tests of the distributed window
/// loop without MPI: `ThreadRanks::new(r)` gives one transport per rank;
/// run each rank's simulation on its own thread.
pub struct ThreadRanks {
    rank: usize,
    shared: std::sync::Arc<Shared>,
}

struct Shared {
    n: usize,
    barrier: std::sync::Barrier,
    slots: std::sync::Mutex<Vec<Vec<u64>>>,
    /// `mail[to][from]`.
    mail: std::sync::Mutex<Vec<Vec<Vec<u8>>>>,
}

impl ThreadRanks {
    /// One transport for each of `n` ranks.
    pub fn new(n: usize) -> Vec<ThreadRanks> {
        let shared = std::sync::Arc::new(Shared {
            n,
            barrier: std::sync::Barrier::new(n),
            slots: std::sync::Mutex::new(vec![Vec::new(); n]),
            mail: std::sync::Mutex::new(vec![vec![Vec::new(); n]; n]),
        });
        (0..n)
            .map(|rank| ThreadRanks {
                rank,
                shared: shared.clone(),
            })
            .collect()
    }

    /// Every rank's `xs`, after every rank has put its own.
    fn gather(&self, xs: &[u64]) -> Vec<Vec<u64>> {
        let s = &self.shared;
        s.slots.lock().expect("no rank panicked")[self.rank] = xs.to_vec();
        s.barrier.wait();
        let all = s.slots.lock().expect("no rank panicked").clone();
        s.barrier.wait();
        all
    }
}

impl Transport for ThreadRanks {
    fn rank(&self) -> usize {
        self.rank
    }
    fn ranks(&self) -> usize {
        self.shared.n
    }
    fn min_u64(&self, x: u64) -> u64 {
        self.gather(&[x]).iter().map(|v| v[0]).min().expect("ranks")
    }
    fn sum_u64s(&self, xs: &mut [u64]) {
        let all = self.gather(xs);
        for (i, x) in xs.iter_mut().enumerate() {
            *x = all.iter().fold(0u64, |a, v| a.wrapping_add(v[i]));
        }
    }
    fn all_to_all(&self, send: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let s = &self.shared;
        {
            let mut mail = s.mail.lock().expect("no rank panicked");
            for (to, bytes) in send.iter().enumerate() {
                mail[to][self.rank] = bytes.clone();
            }
        }
        s.barrier.wait();
        let got = std::mem::take(&mut s.mail.lock().expect("no rank panicked")[self.rank]);
        s.mail.lock().expect("no rank panicked")[self.rank] = vec![Vec::new(); s.n];
        s.barrier.wait();
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_balances_a_hot_shard() {
        // Equal weights: round robin.
        assert_eq!(placement(&[1; 6], 2), vec![0, 1, 0, 1, 0, 1]);
        assert_eq!(placement(&[0; 5], 3), vec![0, 1, 2, 0, 1]);
        // A shard as heavy as seven others gets a rank nearly to itself.
        let mut w = vec![10; 8];
        w[3] = 70;
        let p = placement(&w, 2);
        let on = |r| (0..8).filter(|&s| p[s] == r).map(|s| w[s]).sum::<u64>();
        assert_eq!((on(0), on(1)), (70, 70));
        assert_eq!(p.iter().filter(|&&r| r == p[3]).count(), 1);
    }

    #[test]
    fn events_round_trip() {
        let e = Event {
            time: SimTime(0x0102_0304_0506_0708),
            seq: 42,
            target: 7,
            src: 9,
            msg: (),
        };
        let mut b = Vec::new();
        put_event(&e, <()>::put, &mut b);
        put_event(&e, <()>::put, &mut b);
        assert_eq!(b.len(), 48);
        let mut s = &b[..];
        assert_eq!(take_event(&mut s, <()>::take), e);
        assert_eq!(take_event(&mut s, <()>::take), e);
        assert!(s.is_empty());
    }
}
