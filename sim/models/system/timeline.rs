//! Per-second counters of what happened (the attack timeline) and the
//! trace of executed commands the independent checker reads.
//!
//! Each shard appends `(second, column, delta)` records as things happen;
//! after the run they are summed into one dense table in shard order, so
//! the result does not depend on the thread schedule.

use crate::engine::transport::Wire;
use crate::engine::SimTime;

/// Counter columns, in file order.
pub const COLUMNS: [&str; 24] = [
    "critical_sent",
    "critical_executed",
    "attack_sent",
    "attack_executed",
    "dsp_bad_signature",
    "dsp_not_authorised",
    "quarantined",
    "suspended",
    "meter_bad_mac",
    "meter_bad_signature",
    "meter_replay",
    "meter_bad_firmware",
    "meter_other_refusal",
    "supply_off",
    "supply_on",
    "attack_off",
    "attack_restored",
    "kwh_attack_off",
    "kwh_reconnected",
    "firmware_fixed",
    "anchors_replaced",
    "exploited",
    "quarantine_released",
    "quarantine_deleted",
];

/// A column of [`COLUMNS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Col {
    CriticalSent = 0,
    CriticalExecuted,
    AttackSent,
    AttackExecuted,
    DspBadSignature,
    DspNotAuthorised,
    Quarantined,
    Suspended,
    MeterBadMac,
    MeterBadSignature,
    MeterReplay,
    MeterBadFirmware,
    MeterOtherRefusal,
    /// Meters whose supply went off (electricity contactor or gas valve).
    SupplyOff,
    /// Meters whose supply came back on.
    SupplyOn,
    /// Meters switched off by the attacker's commands.
    AttackOff,
    /// Of those, meters back on supply.
    AttackRestored,
    /// Annual kWh of electricity meters off because of the attack (signed change).
    KwhAttackOff,
    /// Annual kWh of attack-disconnected electricity meters switched back on.
    KwhReconnected,
    FirmwareFixed,
    AnchorsReplaced,
    /// Commands a meter executed only because its firmware's declared flaw skipped a check.
    Exploited,
    /// Quarantined requests their user released.
    QuarantineReleased,
    /// Quarantined requests their user deleted.
    QuarantineDeleted,
}

/// One shard's records.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    entries: Vec<(u32, u8, i64)>,
}

impl Timeline {
    /// Adds `delta` to column `c` in the second containing `t`.
    pub fn add(&mut self, t: SimTime, c: Col, delta: i64) {
        self.entries
            .push(((t.0 / 1_000_000_000) as u32, c as u8, delta));
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Wire for Timeline {
    fn put(&self, out: &mut Vec<u8>) {
        self.entries.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        Timeline {
            entries: Vec::take(b),
        }
    }
}

/// Sums shards' records into `seconds` rows (later records are dropped).
pub fn dense(parts: &[Timeline], seconds: usize) -> Vec<[i64; COLUMNS.len()]> {
    let mut rows = vec![[0i64; COLUMNS.len()]; seconds];
    for p in parts {
        for &(s, c, d) in &p.entries {
            if let Some(r) = rows.get_mut(s as usize) {
                r[c as usize] += d;
            }
        }
    }
    rows
}

/// One command a meter executed, as the checker sees it.
#[derive(Clone, Debug)]
pub struct TraceRec {
    /// When, nanoseconds.
    pub t_ns: u64,
    /// Meter index.
    pub meter: u32,
    /// Originator id and counter the command carried.
    pub originator: u64,
    /// The counter.
    pub counter: u64,
    /// The GBCS message code.
    pub code: u16,
    /// The command bytes, when this command ran real cryptography.
    pub bytes: Option<Box<[u8]>>,
}
