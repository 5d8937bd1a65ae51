//! Gathering a run's figures from every shard, in shard order (so the
//! result does not depend on the thread schedule).

use crate::crypto::device::Reject;
use crate::crypto::mode::CryptoCounters;
use crate::engine::SimTime;
use crate::models::system::msg::SecurityEvent;
use crate::models::system::parties::dsp::rekey::RekeyTotals;
use crate::models::system::parties::dsp::smi::SmiTotals;
use crate::models::system::parties::soc::SocTotals;
use crate::models::system::shard::SystemShard;
use crate::models::system::stats::{KindStats, Series};
use crate::models::system::timeline::{Timeline, TraceRec};
use crate::models::system::world::{ReqKind, REGIONS};

/// A station's end-of-run figures.
pub struct StationFigures {
    /// `dsp`, `csp_north`, ..., `soc`.
    pub name: String,
    /// Busy share of its servers.
    pub utilisation: f64,
    /// Longest queue.
    pub queue_len_max: u64,
    /// Per-minute series.
    pub series: Series,
}

/// Everything the shards hold for the results, summed.
pub struct ShardTotals {
    /// Figures per request kind ([`ReqKind::ALL`] order).
    pub kinds: Vec<KindStats>,
    /// Crypto decisions at the DSP and the meters.
    pub crypto: CryptoCounters,
    /// Stations, in shard order (sort by name for files).
    pub stations: Vec<StationFigures>,
    /// Each shard's per-second records, in shard order.
    pub timelines: Vec<Timeline>,
    /// Executed commands, for the checker.
    pub trace: Vec<TraceRec>,
    /// Meter refusals by reason ([`Reject`] order).
    pub refusals: [u64; Reject::ALL.len()],
    /// The SOC's figures.
    pub soc: Option<SocTotals>,
    /// When each user was contained (from the DSP's shard).
    pub contained_at_ns: Option<Vec<Option<u64>>>,
    /// Restorations suppliers scheduled.
    pub restores: u64,
    /// Images suppliers sent again after failed activations.
    pub firmware_redeliveries: u64,
    /// Jobs still in flight at the end, per request kind: waiting at a
    /// station here, or (added by the run) carried by a pending event.
    pub in_flight: Vec<u64>,
    /// Device alerts the CSPs raised.
    pub alerts_raised: u64,
    /// Copies a tampering CSP sent (`duplicate_share`).
    pub duplicates_sent: u64,
    /// Copies' responses the DSP discarded.
    pub duplicates_discarded: u64,
    /// Copies still carried by a pending event at the end (added by the run).
    pub duplicates_in_flight: u64,
    /// Events down CSPs put off until failover (`csp_outage`).
    pub csp_outage_deferred: u64,
    /// Alerts delivered to users, by way of delivery (from the DSP's shard).
    pub alert_delivery: [u64; 4],
    /// The DCC's ACB rekey campaign (from the DSP's shard).
    pub acb_rekey: RekeyTotals,
    /// The inventory's commissionings (from the DSP's shard).
    pub smi: SmiTotals,
}

impl ShardTotals {
    /// Nothing yet.
    pub fn empty() -> Self {
        ShardTotals {
            kinds: vec![KindStats::default(); ReqKind::ALL.len()],
            crypto: CryptoCounters::default(),
            stations: Vec::new(),
            timelines: Vec::new(),
            trace: Vec::new(),
            refusals: [0; Reject::ALL.len()],
            soc: None,
            contained_at_ns: None,
            restores: 0,
            firmware_redeliveries: 0,
            in_flight: vec![0; ReqKind::ALL.len()],
            alerts_raised: 0,
            duplicates_sent: 0,
            duplicates_discarded: 0,
            duplicates_in_flight: 0,
            csp_outage_deferred: 0,
            alert_delivery: [0; 4],
            acb_rekey: RekeyTotals::default(),
            smi: SmiTotals::default(),
        }
    }

    /// Takes one shard's figures at the end of the run.
    pub fn of_shard(m: &mut SystemShard, end: SimTime) -> Self {
        let mut t = ShardTotals::empty();
        (t.restores, t.firmware_redeliveries) = m.users.totals(&mut t.kinds);
        if let Some(a) = &m.attacker {
            a.totals(&mut t.kinds);
        }
        if let Some(d) = m.dsp.as_mut() {
            let d = d.totals(end);
            t.kinds[ReqKind::Alert as usize].merge(&d.alerts);
            t.kinds[ReqKind::DccScheduled as usize].sent += d.scheduled_sent;
            t.crypto.add(&d.crypto);
            t.contained_at_ns = Some(d.contained_at_ns);
            for k in d.queued {
                t.in_flight[k] += 1;
            }
            t.duplicates_discarded += d.duplicates_discarded;
            t.alert_delivery = d.delivery.counts;
            t.kinds[ReqKind::Recovery as usize].merge(&d.acb_rekey.1);
            t.acb_rekey = d.acb_rekey.0;
            t.smi = d.smi;
            t.stations.push(StationFigures {
                name: "dsp".into(),
                utilisation: d.utilisation,
                queue_len_max: d.queue_len_max,
                series: d.series,
            });
        }
        for (r, region) in REGIONS.iter().enumerate() {
            if let Some(c) = m.csp[r].as_mut() {
                let c = c.totals(end);
                for &k in &c.queued {
                    t.in_flight[k] += 1;
                }
                t.alerts_raised += c.alerts_raised;
                t.duplicates_sent += c.duplicates_sent;
                t.csp_outage_deferred += c.outage_deferred;
                t.stations.push(StationFigures {
                    name: format!("csp_{region}"),
                    utilisation: c.utilisation,
                    queue_len_max: c.queue_len_max,
                    series: c.series,
                });
                let (utilisation, queue_len_max, series) = c.uplink;
                t.stations.push(StationFigures {
                    name: format!("csp_{region}_uplink"),
                    utilisation,
                    queue_len_max,
                    series,
                });
            }
        }
        if let Some(s) = m.soc.as_mut() {
            let mut s = s.totals(end);
            t.stations.push(StationFigures {
                name: "soc".into(),
                utilisation: s.utilisation,
                queue_len_max: s.queue_len_max,
                series: std::mem::take(&mut s.series),
            });
            t.soc = Some(s);
        }
        let mt = m.meters.totals();
        t.crypto.add(&mt.crypto);
        t.trace = mt.trace;
        t.refusals = mt.refusals;
        t.timelines.push(std::mem::take(&mut m.timeline));
        t
    }

    /// Adds the next shard's figures.
    pub fn absorb(&mut self, o: ShardTotals) {
        for (a, b) in self.kinds.iter_mut().zip(&o.kinds) {
            a.merge(b);
        }
        self.crypto.add(&o.crypto);
        self.stations.extend(o.stations);
        self.timelines.extend(o.timelines);
        self.trace.extend(o.trace);
        for (a, b) in self.refusals.iter_mut().zip(o.refusals) {
            *a += b;
        }
        if o.soc.is_some() {
            self.soc = o.soc;
        }
        if o.contained_at_ns.is_some() {
            self.contained_at_ns = o.contained_at_ns;
        }
        self.restores += o.restores;
        self.firmware_redeliveries += o.firmware_redeliveries;
        self.alerts_raised += o.alerts_raised;
        self.duplicates_sent += o.duplicates_sent;
        self.duplicates_discarded += o.duplicates_discarded;
        self.duplicates_in_flight += o.duplicates_in_flight;
        self.csp_outage_deferred += o.csp_outage_deferred;
        for (a, b) in self.alert_delivery.iter_mut().zip(o.alert_delivery) {
            *a += b;
        }
        if o.acb_rekey != RekeyTotals::default() {
            self.acb_rekey = o.acb_rekey;
        }
        if o.smi != SmiTotals::default() {
            self.smi = o.smi;
        }
        for (a, b) in self.in_flight.iter_mut().zip(&o.in_flight) {
            *a += b;
        }
    }

    /// Incidents the SOC could not attribute to a user.
    pub fn soc_unattributed(&self) -> u64 {
        self.soc.as_ref().map_or(0, |s| s.unattributed)
    }

    /// The SOC's real events about a user dismissed as operational, and
    /// benign events escalated (zeros without an SOC figure).
    pub fn soc_errors(&self) -> (u64, u64) {
        self.soc
            .as_ref()
            .map_or((0, 0), |s| (s.missed, s.false_escalations))
    }

    /// The SOC's events logged by kind, events categorised operational,
    /// users escalated, and the first escalation (zeros without an SOC figure).
    pub fn soc_figures(
        &self,
    ) -> (
        [u64; SecurityEvent::NAMES.len()],
        u64,
        Vec<u32>,
        Option<u64>,
    ) {
        match &self.soc {
            Some(s) => (
                s.logged,
                s.operational,
                s.escalated.clone(),
                s.first_escalation_ns,
            ),
            None => ([0; SecurityEvent::NAMES.len()], 0, Vec::new(), None),
        }
    }
}
