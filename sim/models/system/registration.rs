//! Registration: which supplier serves which meter, and from when.
//!
//! Meters are registered to suppliers in a repeating cycle of 1,000 by
//! the suppliers' shares (so every supplier's meters spread over every
//! region). A change of supplier (CoS) moves a meter to a gaining supplier
//! on its effective date, which the registration data fixes in advance:
//! the run's switches are drawn from the seed before it starts (a pure
//! function of the seed, the fleet and `traffic.change_of_supplier_per_meter_day`),
//! so every party reads the same registration at any time without
//! messages. From the switch, the DSP (identity and access management)
//! accepts requests for the meter from the gaining supplier only; the
//! gaining supplier then asks for its credentials on the meter (SR 6.23),
//! which the DCC's transitional change-of-supplier party signs, so that
//! the meter's supplier cell names the gaining supplier. Until that
//! credential update executes, the meter still obeys the losing supplier's
//! key only.
//!
//! Installation: some meters of the fleet are installed during the run
//! (`traffic.installation_per_meter_day`), on a date the installing
//! supplier's work plan fixes in advance, so they are drawn from the seed
//! before the run too. Until its installation a meter is not on the
//! network (no hub reaches it, it raises no alerts, no user addresses it);
//! at installation its registered supplier commissions it (SR 8.1.1), and
//! the DSP serves requests for it only once the commissioning has
//! succeeded (the inventory's status, `dsp/smi.rs`). A meter installed in
//! the run does not also change supplier in it.

use super::world::{hash_parts, World, CYCLE};

/// One change of supplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    /// Meter index.
    pub meter: u32,
    /// When registration moves to the gaining supplier, nanoseconds.
    pub at_ns: u64,
    /// The gaining supplier.
    pub gaining: u32,
}

/// A bit per block of 64 meters, set when some meter of the block is in
/// a list: most lookups of a meter in the run's (sorted) switches or
/// installations end at this small array (a bit per 64 meters: 59 KB at
/// 30M meters) instead of a binary search whose last steps miss the cache.
/// Every WAN hop and DSP step asks; at 10M meters the searches were ~60%
/// of the DSP's completion step (`perf annotate`).
#[derive(Clone, Debug, Default)]
pub struct MeterFilter {
    blocks: Vec<u64>,
}

impl MeterFilter {
    /// The filter of a list of meters (of a fleet of `meters`).
    pub fn new(meters: u32, listed: impl Iterator<Item = u32>) -> Self {
        let mut blocks = vec![0u64; (meters as usize).div_ceil(64 * 64)];
        for m in listed {
            let b = (m / 64) as usize;
            blocks[b / 64] |= 1 << (b % 64);
        }
        MeterFilter { blocks }
    }

    /// Whether meter `m` may be in the list (`false`: it is not). A filter
    /// never built (empty) answers `true`, so the search decides.
    #[inline]
    pub fn may_hold(&self, m: u32) -> bool {
        let b = (m / 64) as usize;
        self.blocks
            .get(b / 64)
            .is_none_or(|x| x >> (b % 64) & 1 == 1)
    }
}

/// One meter installed during the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Install {
    /// Meter index.
    pub meter: u32,
    /// When it is installed (on the network, and commissioned by its
    /// supplier), nanoseconds.
    pub at_ns: u64,
}

/// How many of `meters` events at `rate` a meter-day happen in a run of
/// `run_s` seconds: the expected number, its fractional part decided by
/// the seed's draw `salt`, at most `meters`.
fn draw_count(seed: u64, salt: u64, meters: u32, rate: f64, run_s: f64) -> u64 {
    let expected = meters as f64 * rate * run_s / 86_400.0;
    let frac = (hash_parts(&[seed, salt]) >> 11) as f64 / (1u64 << 53) as f64;
    (expected.floor() as u64 + u64::from(frac < expected.fract())).min(meters as u64)
}

/// A uniform draw of `[0, 1)` from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl World {
    /// The meters installed during the run, sorted by meter: the expected
    /// number over the fleet and the run (`meters x rate x days`), each a
    /// meter drawn uniformly and a time drawn uniformly in the run; a
    /// second draw of a meter is dropped.
    pub(super) fn draw_installs(&self) -> Vec<Install> {
        let rate = self.sc.parameters.traffic.installation_per_meter_day;
        let run_s = (self.sc.run.end_h - self.sc.run.start_h) * 3600.0;
        if rate <= 0.0 {
            return Vec::new();
        }
        let count = draw_count(self.seed, 0x0125_7A11, self.meters, rate, run_s);
        let mut out: Vec<Install> = (0..count)
            .map(|k| {
                let h = hash_parts(&[self.seed, 0x1257, k]);
                let t = hash_parts(&[self.seed, 0x1257_7133, k]);
                Install {
                    meter: (((h >> 32) * self.meters as u64) >> 32) as u32,
                    at_ns: ((unit(t) * run_s * 1e9) as u64).max(1),
                }
            })
            .collect();
        out.sort_by_key(|i| (i.meter, i.at_ns));
        out.dedup_by_key(|i| i.meter);
        out
    }

    /// When meter `m` is installed in this run (0: before it).
    pub fn installed_at(&self, m: u32) -> u64 {
        if !self.install_filter.may_hold(m) {
            return 0;
        }
        self.installs
            .binary_search_by_key(&m, |i| i.meter)
            .map_or(0, |i| self.installs[i].at_ns)
    }

    /// Whether meter `m` is on the network (installed) at `t_ns`.
    pub fn on_network(&self, m: u32, t_ns: u64) -> bool {
        t_ns >= self.installed_at(m)
    }

    /// The run's changes of supplier, sorted by meter: the expected number
    /// over the fleet and the run (`meters x rate x days`; its fractional
    /// part decided by the seed), each a meter drawn uniformly, a time
    /// drawn uniformly in the run and a gaining supplier drawn among the
    /// others (none with one supplier). A meter switches at most once in
    /// a run: a second draw of it is dropped; there are at most as many
    /// draws as meters (so at most ~63% of the fleet switches in one run).
    /// A meter installed in the run does not switch in it (its draw is
    /// dropped).
    pub(super) fn draw_switches(&self) -> Vec<Switch> {
        let rate = self.sc.parameters.traffic.change_of_supplier_per_meter_day;
        let run_s = (self.sc.run.end_h - self.sc.run.start_h) * 3600.0;
        if self.suppliers < 2 || rate <= 0.0 {
            return Vec::new();
        }
        let count = draw_count(self.seed, 0xC05_C0DE, self.meters, rate, run_s);
        let mut out: Vec<Switch> = (0..count)
            .map(|k| {
                let h = hash_parts(&[self.seed, 0xC05, k]);
                let meter = (((h >> 32) * self.meters as u64) >> 32) as u32;
                let t = hash_parts(&[self.seed, 0xC05_7133, k]);
                let at_ns = (unit(t) * run_s * 1e9) as u64;
                let losing = self.supplier_of(meter);
                let other = (h & 0xFFFF_FFFF) % (self.suppliers as u64 - 1);
                let gaining = (losing + 1 + other as u32) % self.suppliers;
                Switch {
                    meter,
                    at_ns: at_ns.max(1),
                    gaining,
                }
            })
            .collect();
        out.sort_by_key(|s| (s.meter, s.at_ns, s.gaining));
        out.dedup_by_key(|s| s.meter);
        out.retain(|s| self.installed_at(s.meter) == 0);
        out
    }

    /// Meter `m`'s change of supplier in this run, if any.
    pub fn switch_of(&self, m: u32) -> Option<&Switch> {
        if !self.switch_filter.may_hold(m) {
            return None;
        }
        self.switches
            .binary_search_by_key(&m, |s| s.meter)
            .ok()
            .map(|i| &self.switches[i])
    }

    /// The supplier meter `m` is registered to at `t_ns`: the gaining
    /// supplier from its change of supplier on, else the original one.
    pub fn supplier_at(&self, m: u32, t_ns: u64) -> u32 {
        match self.switch_of(m) {
            Some(s) if t_ns >= s.at_ns => s.gaining,
            _ => self.supplier_of(m),
        }
    }

    /// The supplier a meter index is registered to at the start of the run
    /// (see [`World::supplier_at`] for changes of supplier).
    pub fn supplier_of(&self, m: u32) -> u32 {
        let slot = m % CYCLE;
        (self.supplier_slots.partition_point(|&b| b <= slot) - 1) as u32
    }

    /// How many meters user `u` addresses: a supplier its registered
    /// meters, any other user the whole fleet.
    pub fn meters_of(&self, u: u32) -> u32 {
        if u >= self.suppliers {
            return self.meters;
        }
        let (a, b) = (
            self.supplier_slots[u as usize],
            self.supplier_slots[u as usize + 1],
        );
        let full = self.meters / CYCLE;
        let rest = self.meters % CYCLE;
        full * (b - a) + rest.saturating_sub(a).min(b - a)
    }

    /// The `k`-th meter (`k < meters_of(u)`) user `u` addresses.
    pub fn nth_meter_of(&self, u: u32, k: u32) -> u32 {
        if u >= self.suppliers {
            return k;
        }
        let (a, b) = (
            self.supplier_slots[u as usize],
            self.supplier_slots[u as usize + 1],
        );
        let per = b - a;
        assert!(k < self.meters_of(u), "user {u} has no meter number {k}");
        (k / per) * CYCLE + a + k % per
    }
}
