//! The DCC's smart metering inventory (SMI) status of the meters installed
//! during the run (see `registration.rs`).
//!
//! A meter installed before the run is commissioned. One installed during
//! it is "installed, not commissioned" until its supplier's commissioning
//! (SR 8.1.1 commission device) has executed on it and the device's signed
//! response has come back; only then does the DSP serve other requests for
//! it. Until then it refuses them (`dsp_wrong_status`), as it refuses a
//! commissioning of a meter already commissioned. DCC-scheduled requests
//! and the ACB rekey pass over a meter that is not commissioned; the rekey
//! comes back to one commissioned after it passed.

use crate::crypto::gbcs::MessageKind;
use crate::models::system::msg::{Job, Outcome};
use crate::models::system::world::World;

/// The inventory status of the run's installations, and its figures.
#[derive(Clone, Debug, Default)]
pub struct Smi {
    /// Per installation (in `World::installs` order): commissioned yet.
    commissioned: Vec<bool>,
    totals: SmiTotals,
}

/// What the results take from the inventory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmiTotals {
    /// Meters whose commissioning succeeded.
    pub commissioned: u64,
    /// Requests refused because of the meter's status.
    pub refused_status: u64,
    /// When the first and the last meter were commissioned, ns (0: none).
    pub first_commissioned_ns: u64,
    /// See `first_commissioned_ns`.
    pub last_commissioned_ns: u64,
}

impl Smi {
    /// The status of a world's installations: none commissioned.
    pub fn new(w: &World) -> Self {
        Smi {
            commissioned: vec![false; w.installs.len()],
            totals: SmiTotals::default(),
        }
    }

    /// Meter `m`'s index among the run's installations, if installed in it.
    fn index(w: &World, m: u32) -> Option<usize> {
        if w.installs.is_empty() {
            return None;
        }
        w.installs.binary_search_by_key(&m, |i| i.meter).ok()
    }

    /// Whether meter `m` is commissioned (always, if installed before the run).
    pub fn commissioned(&self, w: &World, m: u32) -> bool {
        Smi::index(w, m).is_none_or(|i| self.commissioned[i])
    }

    /// Whether the meter's status allows a request of `msg` for it: a
    /// commissioning only before, anything else only after it is
    /// commissioned. A refusal is counted.
    pub fn allows(&mut self, w: &World, m: u32, msg: MessageKind) -> bool {
        let ok = self.commissioned(w, m) != (msg == MessageKind::CommissionDevice);
        if !ok {
            self.totals.refused_status += 1;
        }
        ok
    }

    /// A response the DSP authenticated: a successful commissioning makes
    /// its meter commissioned; returns whether it did.
    pub fn response(&mut self, w: &World, job: &Job, now_ns: u64) -> bool {
        if job.msg != MessageKind::CommissionDevice || job.outcome != Outcome::Ok {
            return false;
        }
        let Some(i) = Smi::index(w, job.meter) else {
            return false;
        };
        if std::mem::replace(&mut self.commissioned[i], true) {
            return false;
        }
        let t = &mut self.totals;
        t.commissioned += 1;
        if t.first_commissioned_ns == 0 {
            t.first_commissioned_ns = now_ns.max(1);
        }
        t.last_commissioned_ns = now_ns;
        true
    }

    /// Its figures.
    pub fn totals(&self) -> SmiTotals {
        self.totals
    }
}
