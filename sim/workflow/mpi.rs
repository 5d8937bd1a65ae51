//! Running over MPI (Message Passing Interface) ranks: the engine's
//! [`Transport`] over rsmpi and Open MPI, behind the `mpi` cargo feature.
//!
//! `cargo build --release --features mpi` (needs the MPI development
//! package and libclang, see `README.md`), then
//! `mpirun -np R target/release/dccsim bench phold ...`: the scenario's
//! fixed shards are spread over the R ranks (shard `s` on rank `s mod R`),
//! each running its own on `--threads` threads; at every window barrier the
//! ranks agree on the next window and the stop decision (two all-reduces)
//! and swap the messages between ranks (an all-to-all of byte counts, then
//! of the serialised events). Rank 0 reports. Without the feature, or
//! started without `mpirun`, there is one rank and nothing here runs.

use crate::engine::transport::Transport;

/// Keeps MPI initialised for the life of the process (a no-op without the
/// `mpi` feature). Hold it in `main`.
pub struct Guard {
    #[cfg(feature = "mpi")]
    _universe: Option<mpi::environment::Universe>,
}

/// Initialises MPI (once per process; later calls hold nothing).
pub fn init() -> Guard {
    Guard {
        #[cfg(feature = "mpi")]
        _universe: mpi::initialize(),
    }
}

/// The other ranks of this run, if it was started by `mpirun` with more
/// than one: a transport for the engine.
pub fn ranks() -> Option<Box<dyn Transport>> {
    #[cfg(feature = "mpi")]
    {
        imp::world().map(|w| Box::new(w) as Box<dyn Transport>)
    }
    #[cfg(not(feature = "mpi"))]
    {
        None
    }
}

/// This process's rank (0 without MPI).
pub fn rank() -> usize {
    ranks().map_or(0, |t| t.rank())
}

#[cfg(feature = "mpi")]
mod imp {
    use super::Transport;
    use mpi::collective::SystemOperation;
    use mpi::datatype::{Partition, PartitionMut};
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::*;
    use mpi::Count;

    /// `MPI_COMM_WORLD` as the engine's transport. It holds no handle (it
    /// asks MPI for the world communicator at each call), so it is `Send`
    /// like every transport; the engine still makes its calls from the
    /// thread that started the run.
    pub struct World;

    fn comm() -> SimpleCommunicator {
        SimpleCommunicator::world()
    }

    /// The world communicator when MPI is initialised with several ranks.
    pub fn world() -> Option<World> {
        if !mpi::environment::is_initialized() || mpi::environment::is_finalized() {
            return None;
        }
        let w = SimpleCommunicator::world();
        (w.size() > 1).then_some(World)
    }

    fn displacements(counts: &[Count]) -> Vec<Count> {
        counts
            .iter()
            .scan(0, |acc, &c| {
                let d = *acc;
                *acc += c;
                Some(d)
            })
            .collect()
    }

    impl Transport for World {
        fn rank(&self) -> usize {
            comm().rank() as usize
        }
        fn ranks(&self) -> usize {
            comm().size() as usize
        }
        fn min_u64(&self, x: u64) -> u64 {
            let mut out = 0u64;
            comm().all_reduce_into(&x, &mut out, SystemOperation::min());
            out
        }
        fn sum_u64s(&self, xs: &mut [u64]) {
            let mut out = vec![0u64; xs.len()];
            comm().all_reduce_into(&xs[..], &mut out[..], SystemOperation::sum());
            xs.copy_from_slice(&out);
        }
        fn all_to_all(&self, send: &[Vec<u8>]) -> Vec<Vec<u8>> {
            let counts: Vec<Count> = send
                .iter()
                .map(|b| Count::try_from(b.len()).expect("under 2 GiB per rank and window"))
                .collect();
            let mut recv_counts = vec![0 as Count; send.len()];
            comm().all_to_all_into(&counts[..], &mut recv_counts[..]);
            // Both buffers get an allocation even when empty: Open MPI
            // refuses two equal (dangling) pointers.
            let total: usize = send.iter().map(Vec::len).sum();
            let mut flat = Vec::with_capacity(total.max(1));
            for b in send {
                flat.extend_from_slice(b);
            }
            let recv_total: usize = recv_counts.iter().map(|&c| c as usize).sum();
            let mut recv = Vec::with_capacity(recv_total.max(1));
            recv.resize(recv_total, 0u8);
            let sd = displacements(&counts);
            let rd = displacements(&recv_counts);
            {
                let sp = Partition::new(&flat[..], &counts[..], &sd[..]);
                let mut rp = PartitionMut::new(&mut recv[..], &recv_counts[..], &rd[..]);
                comm().all_to_all_varcount_into(&sp, &mut rp);
            }
            recv_counts
                .iter()
                .zip(&rd)
                .map(|(&c, &d)| recv[d as usize..(d + c) as usize].to_vec())
                .collect()
        }
    }
}
