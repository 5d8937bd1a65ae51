//! The system model's messages, and a shard's end-of-run figures, as bytes
//! that cross MPI (Message Passing Interface) ranks: the engine's
//! [`Wire`] codec for [`Msg`] and [`Job`], and for [`ShardTotals`] so that
//! rank 0 can gather every shard's figures.
//!
//! A hand-rolled fixed layout (little-endian integers, a tag byte per enum,
//! a length before every list): a job is about 130 bytes plus its GBCS
//! message, and nothing here is read from outside the run (both ends are
//! the same binary), so a decoding error is a bug and panics.

use super::msg::{Job, Msg, Origin, Outcome, Prep, RecoveryStep, SecurityEvent};
use super::parties::soc::SocTotals;
use super::run::gather::{ShardTotals, StationFigures};
use super::stats::{KindStats, Series};
use super::timeline::TraceRec;
use super::world::{ReqKind, Signer};
use crate::crypto::device::AnchorSlot;
use crate::crypto::gbcs::{Fuel, MessageKind};
use crate::crypto::mode::CryptoCounters;
use crate::engine::transport::Wire;

/// An enum with an `ALL` table crosses as its index in the table.
fn put_index<T: PartialEq>(all: &[T], x: &T, out: &mut Vec<u8>) {
    let i = all
        .iter()
        .position(|a| a == x)
        .expect("every value is in ALL");
    out.push(i as u8);
}

fn take_index<T: Copy>(all: &[T], b: &mut &[u8]) -> T {
    all[u8::take(b) as usize]
}

const ORIGINS: [Origin; 7] = [
    Origin::Bau,
    Origin::Attack,
    Origin::Restore,
    Origin::Anchor,
    Origin::Firmware,
    Origin::RefusalAlert,
    Origin::AcbRekey,
];

impl Wire for Signer {
    fn put(&self, out: &mut Vec<u8>) {
        match *self {
            Signer::None => out.push(0),
            Signer::User(u, g) => {
                out.push(1);
                (u, g).put(out);
            }
            Signer::Recovery => out.push(2),
            Signer::Attacker => out.push(3),
            Signer::Cos => out.push(4),
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        match u8::take(b) {
            0 => Signer::None,
            1 => {
                let (u, g) = <(u32, u8)>::take(b);
                Signer::User(u, g)
            }
            2 => Signer::Recovery,
            3 => Signer::Attacker,
            4 => Signer::Cos,
            t => panic!("signer tag {t}"),
        }
    }
}

impl Wire for Job {
    fn put(&self, out: &mut Vec<u8>) {
        self.id.put(out);
        put_index(&ReqKind::ALL, &self.kind, out);
        put_index(&MessageKind::ALL, &self.msg, out);
        (self.user, self.claimed, self.cred_gen).put(out);
        self.signer.put(out);
        let flags = [
            self.request_genuine,
            self.acb_mac,
            self.firmware_genuine,
            self.pre_signed,
            self.duplicate,
            self.cred_fuel == Fuel::Gas,
        ];
        let bits = flags
            .iter()
            .enumerate()
            .fold(0u8, |a, (i, &f)| a | (f as u8) << i);
        bits.put(out);
        put_index(&ORIGINS, &self.origin, out);
        (self.acb_gen, self.slot as u8).put(out);
        (self.meter, self.counter, self.created_ns).put(out);
        (self.dsp_in_ns, self.dsp_out_ns, self.meter_in_ns).put(out);
        (self.meter_out_ns, self.wan_up_ns, self.attempts).put(out);
        put_index(&Outcome::ALL, &self.outcome, out);
        self.bytes.put(out);
        self.acb_z.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let id = u64::take(b);
        let kind = take_index(&ReqKind::ALL, b);
        let msg = take_index(&MessageKind::ALL, b);
        let (user, claimed, cred_gen) = <(u32, u32, u8)>::take(b);
        let signer = Signer::take(b);
        let bits = u8::take(b);
        let flag = |i: u8| bits >> i & 1 == 1;
        let origin = take_index(&ORIGINS, b);
        let (acb_gen, slot) = <(u8, u8)>::take(b);
        let (meter, counter, created_ns) = <(u32, u64, u64)>::take(b);
        let mut j = Job::new(id, kind, msg, user, claimed, meter, created_ns, origin);
        j.cred_gen = cred_gen;
        j.signer = signer;
        j.request_genuine = flag(0);
        j.cred_fuel = if flag(5) {
            Fuel::Gas
        } else {
            Fuel::Electricity
        };
        j.acb_mac = flag(1);
        j.acb_gen = acb_gen;
        j.slot = AnchorSlot::from_index(slot).expect("an anchor slot");
        j.firmware_genuine = flag(2);
        j.pre_signed = flag(3);
        j.duplicate = flag(4);
        j.counter = counter;
        (j.dsp_in_ns, j.dsp_out_ns, j.meter_in_ns) = Wire::take(b);
        (j.meter_out_ns, j.wan_up_ns, j.attempts) = Wire::take(b);
        j.outcome = take_index(&Outcome::ALL, b);
        j.bytes = Wire::take(b);
        j.acb_z = Wire::take(b);
        j
    }
}

impl Wire for SecurityEvent {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.index() as u8);
        match *self {
            SecurityEvent::Anomaly(u)
            | SecurityEvent::CustomerReports(u)
            | SecurityEvent::Benign(u)
            | SecurityEvent::Disowned(u) => u.put(out),
            SecurityEvent::AlertVolume | SecurityEvent::MeterRefusalAlert => {}
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        match u8::take(b) {
            0 => SecurityEvent::Anomaly(u32::take(b)),
            1 => SecurityEvent::CustomerReports(u32::take(b)),
            2 => SecurityEvent::AlertVolume,
            3 => SecurityEvent::MeterRefusalAlert,
            4 => SecurityEvent::Benign(u32::take(b)),
            5 => SecurityEvent::Disowned(u32::take(b)),
            t => panic!("security event tag {t}"),
        }
    }
}

impl Wire for RecoveryStep {
    fn put(&self, out: &mut Vec<u8>) {
        match *self {
            RecoveryStep::Enable(m) => (0u8, m).put(out),
            RecoveryStep::AnchorNext => out.push(1),
            RecoveryStep::FirmwareNext => out.push(2),
            RecoveryStep::FixNext => out.push(3),
            RecoveryStep::Activate(m) => (4u8, m).put(out),
            RecoveryStep::Redeliver(m) => (5u8, m).put(out),
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        match u8::take(b) {
            0 => RecoveryStep::Enable(u32::take(b)),
            1 => RecoveryStep::AnchorNext,
            2 => RecoveryStep::FirmwareNext,
            3 => RecoveryStep::FixNext,
            4 => RecoveryStep::Activate(u32::take(b)),
            5 => RecoveryStep::Redeliver(u32::take(b)),
            t => panic!("recovery step tag {t}"),
        }
    }
}

impl Wire for Msg {
    fn put(&self, out: &mut Vec<u8>) {
        let job = |tag: u8, j: &Job, out: &mut Vec<u8>| {
            out.push(tag);
            j.put(out);
        };
        match self {
            Msg::Generate(k) => {
                out.push(0);
                put_index(&ReqKind::ALL, k, out);
            }
            Msg::AlertTick => out.push(1),
            Msg::Request(j) => job(2, j, out),
            Msg::DspDone(j, r) => {
                job(3, j, out);
                r.put(out);
            }
            Msg::Downlink(j) => job(4, j, out),
            Msg::AirtimeDone(j) => job(5, j, out),
            Msg::Retry(j) => job(6, j, out),
            Msg::Deliver(j) => job(7, j, out),
            Msg::MeterDone(j) => job(8, j, out),
            Msg::Uplink(j) => job(9, j, out),
            Msg::Response(j) => job(10, j, out),
            Msg::Complete(j) => job(11, j, out),
            Msg::Security(e) => (12u8, *e).put(out),
            Msg::TriageDone(e, raised) => (13u8, *e, *raised).put(out),
            Msg::Contain(u) => (14u8, *u).put(out),
            Msg::Contained(log) => {
                out.push(15);
                log.put(out);
            }
            Msg::CustomerCall(m) => (16u8, *m).put(out),
            Msg::ConsumerRestore(m) => (17u8, *m).put(out),
            Msg::PreCommand(j) => job(18, j, out),
            Msg::SignedPreCommand(j) => job(19, j, out),
            Msg::Recover(s) => (20u8, *s).put(out),
            Msg::AttackTick(i) => (21u8, *i).put(out),
            Msg::BenignTick => out.push(25),
            Msg::SocShift => out.push(27),
            Msg::AlertRedeliver(m, t, h) => (26u8, *m, (*t, *h)).put(out),
            Msg::QuarantineNotice(j) => job(22, j, out),
            Msg::UplinkDone(j) => job(24, j, out),
            Msg::QuarantineDecision(j, r) => {
                job(23, j, out);
                r.put(out);
            }
        }
    }
    fn take(b: &mut &[u8]) -> Self {
        match u8::take(b) {
            0 => Msg::Generate(take_index(&ReqKind::ALL, b)),
            1 => Msg::AlertTick,
            2 => Msg::Request(Box::new(Job::take(b))),
            3 => {
                let j = Box::new(Job::take(b));
                Msg::DspDone(j, bool::take(b))
            }
            4 => Msg::Downlink(Box::new(Job::take(b))),
            5 => Msg::AirtimeDone(Box::new(Job::take(b))),
            6 => Msg::Retry(Box::new(Job::take(b))),
            7 => Msg::Deliver(Box::new(Job::take(b))),
            8 => Msg::MeterDone(Box::new(Job::take(b))),
            9 => Msg::Uplink(Box::new(Job::take(b))),
            10 => Msg::Response(Box::new(Job::take(b))),
            11 => Msg::Complete(Box::new(Job::take(b))),
            12 => Msg::Security(Wire::take(b)),
            13 => {
                let e = SecurityEvent::take(b);
                Msg::TriageDone(e, u64::take(b))
            }
            14 => Msg::Contain(u32::take(b)),
            15 => Msg::Contained(Wire::take(b)),
            16 => Msg::CustomerCall(u32::take(b)),
            17 => Msg::ConsumerRestore(u32::take(b)),
            18 => Msg::PreCommand(Box::new(Job::take(b))),
            19 => Msg::SignedPreCommand(Box::new(Job::take(b))),
            20 => Msg::Recover(Wire::take(b)),
            21 => Msg::AttackTick(u8::take(b)),
            25 => Msg::BenignTick,
            27 => Msg::SocShift,
            26 => {
                let (m, (t, h)) = Wire::take(b);
                Msg::AlertRedeliver(m, t, h)
            }
            22 => Msg::QuarantineNotice(Box::new(Job::take(b))),
            24 => Msg::UplinkDone(Box::new(Job::take(b))),
            23 => {
                let j = Box::new(Job::take(b));
                Msg::QuarantineDecision(j, bool::take(b))
            }
            t => panic!("message tag {t}"),
        }
    }
}

impl Wire for Prep {
    fn put(&self, out: &mut Vec<u8>) {
        self.ok.put(out);
        self.command.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let ok = bool::take(b);
        Prep {
            ok,
            command: Wire::take(b),
        }
    }
}

impl Wire for KindStats {
    fn put(&self, out: &mut Vec<u8>) {
        (self.sent, self.outcomes).put(out);
        self.end_to_end.put(out);
        self.hops.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (sent, outcomes) = Wire::take(b);
        KindStats {
            sent,
            outcomes,
            end_to_end: Wire::take(b),
            hops: Wire::take(b),
        }
    }
}

impl Wire for Series {
    fn put(&self, out: &mut Vec<u8>) {
        self.arrivals.put(out);
        self.queue_max.put(out);
        self.retries.put(out);
        self.utilisation.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (arrivals, queue_max, retries) = Wire::take(b);
        Series {
            arrivals,
            queue_max,
            retries,
            utilisation: Wire::take(b),
        }
    }
}

impl Wire for StationFigures {
    fn put(&self, out: &mut Vec<u8>) {
        self.name.put(out);
        self.utilisation.put(out);
        self.queue_len_max.put(out);
        self.series.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (name, utilisation, queue_len_max) = Wire::take(b);
        StationFigures {
            name,
            utilisation,
            queue_len_max,
            series: Wire::take(b),
        }
    }
}

impl Wire for TraceRec {
    fn put(&self, out: &mut Vec<u8>) {
        (self.t_ns, self.meter, self.originator).put(out);
        self.counter.put(out);
        self.code.put(out);
        self.bytes.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (t_ns, meter, originator) = Wire::take(b);
        let (counter, code, bytes) = Wire::take(b);
        TraceRec {
            t_ns,
            meter,
            originator,
            counter,
            code,
            bytes,
        }
    }
}

impl Wire for SocTotals {
    fn put(&self, out: &mut Vec<u8>) {
        self.utilisation.put(out);
        self.queue_len_max.put(out);
        self.series.put(out);
        (self.logged, self.operational, self.unattributed).put(out);
        (self.missed, self.false_escalations).put(out);
        self.escalated.put(out);
        self.first_escalation_ns.put(out);
        self.time_to_triage.put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (utilisation, queue_len_max, series) = Wire::take(b);
        let (logged, operational, unattributed) = Wire::take(b);
        let (missed, false_escalations) = Wire::take(b);
        let (escalated, first_escalation_ns) = Wire::take(b);
        SocTotals {
            utilisation,
            queue_len_max,
            series,
            logged,
            operational,
            unattributed,
            missed,
            false_escalations,
            escalated,
            first_escalation_ns,
            time_to_triage: Wire::take(b),
        }
    }
}

impl Wire for CryptoCounters {
    fn put(&self, out: &mut Vec<u8>) {
        (
            self.checked,
            self.by_ground_truth,
            self.ground_truth_mismatches,
        )
            .put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let (checked, by_ground_truth, ground_truth_mismatches) = Wire::take(b);
        CryptoCounters {
            checked,
            by_ground_truth,
            ground_truth_mismatches,
        }
    }
}

impl Wire for ShardTotals {
    fn put(&self, out: &mut Vec<u8>) {
        self.kinds.put(out);
        self.crypto.put(out);
        self.stations.put(out);
        self.timelines.put(out);
        self.trace.put(out);
        self.refusals.put(out);
        self.soc.put(out);
        self.contained_at_ns.put(out);
        (self.restores, self.firmware_redeliveries).put(out);
        self.in_flight.put(out);
        self.alerts_raised.put(out);
        self.duplicates_sent.put(out);
        (
            self.duplicates_discarded,
            self.duplicates_in_flight,
            (self.csp_outage_deferred, self.alert_delivery),
        )
            .put(out);
        let r = &self.acb_rekey;
        (
            (r.sent, r.rekeyed, r.failed),
            (r.gave_up, r.first_sent_ns, r.last_rekeyed_ns),
        )
            .put(out);
        let s = &self.smi;
        (
            (s.commissioned, s.refused_status),
            (s.first_commissioned_ns, s.last_commissioned_ns),
        )
            .put(out);
    }
    fn take(b: &mut &[u8]) -> Self {
        let mut t = ShardTotals::empty();
        (t.kinds, t.crypto, t.stations) = Wire::take(b);
        (t.timelines, t.trace, t.refusals) = Wire::take(b);
        (
            t.soc,
            t.contained_at_ns,
            (t.restores, t.firmware_redeliveries),
        ) = Wire::take(b);
        (t.in_flight, t.alerts_raised, t.duplicates_sent) = Wire::take(b);
        (
            t.duplicates_discarded,
            t.duplicates_in_flight,
            (t.csp_outage_deferred, t.alert_delivery),
        ) = Wire::take(b);
        let r = &mut t.acb_rekey;
        (
            (r.sent, r.rekeyed, r.failed),
            (r.gave_up, r.first_sent_ns, r.last_rekeyed_ns),
        ) = Wire::take(b);
        let s = &mut t.smi;
        (
            (s.commissioned, s.refused_status),
            (s.first_commissioned_ns, s.last_commissioned_ns),
        ) = Wire::take(b);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire>(x: &T) -> T {
        let mut b = Vec::new();
        x.put(&mut b);
        let mut s = &b[..];
        let y = T::take(&mut s);
        assert!(s.is_empty(), "{} bytes left", s.len());
        y
    }

    #[test]
    fn every_message_crosses_unchanged() {
        let mut j = Box::new(Job::new(
            0x0701_2345_0000_0042,
            ReqKind::Attack,
            MessageKind::ALL[5],
            7,
            3,
            1234,
            999_000,
            Origin::RefusalAlert,
        ));
        j.signer = Signer::User(2, 1);
        j.cred_fuel = Fuel::Gas;
        j.acb_mac = false;
        j.acb_gen = 2;
        j.slot = AnchorSlot::Acb;
        j.duplicate = true;
        j.attempts = 3;
        j.outcome = Outcome::Replay;
        j.bytes = Some(vec![1, 2, 3, 250].into_boxed_slice());
        j.acb_z = Some([9; 32]);
        j.dsp_out_ns = 55;
        let msgs = vec![
            Msg::Generate(ReqKind::DccScheduled),
            Msg::AlertTick,
            Msg::Request(j.clone()),
            Msg::DspDone(j.clone(), true),
            Msg::Complete(Box::new(Job::new(
                1,
                ReqKind::Alert,
                MessageKind::ALL[0],
                0,
                0,
                0,
                0,
                Origin::Bau,
            ))),
            Msg::Security(SecurityEvent::CustomerReports(4)),
            Msg::TriageDone(SecurityEvent::MeterRefusalAlert, 77),
            Msg::Contain(5),
            Msg::Contained(vec![1, 2, 3]),
            Msg::CustomerCall(8),
            Msg::ConsumerRestore(9),
            Msg::SignedPreCommand(j.clone()),
            Msg::Recover(RecoveryStep::Activate(11)),
            Msg::Recover(RecoveryStep::FixNext),
            Msg::Recover(RecoveryStep::Redeliver(12)),
            Msg::AttackTick(2),
            Msg::BenignTick,
            Msg::AlertRedeliver(13, 14, true),
            Msg::Security(SecurityEvent::Benign(3)),
            Msg::Security(SecurityEvent::Disowned(6)),
            Msg::SocShift,
            Msg::QuarantineNotice(j.clone()),
            Msg::UplinkDone(j.clone()),
            Msg::QuarantineDecision(j.clone(), false),
        ];
        for m in &msgs {
            let back = round_trip(m);
            assert_eq!(format!("{back:?}"), format!("{m:?}"));
        }
    }

    #[test]
    fn shard_totals_cross_unchanged() {
        let mut t = ShardTotals::empty();
        t.kinds[2].sent = 5;
        t.kinds[2].end_to_end.record_ns(1_000_000);
        t.stations.push(StationFigures {
            name: "csp_north".into(),
            utilisation: 0.25,
            queue_len_max: 4,
            series: Series {
                arrivals: vec![1, 2],
                queue_max: vec![0, 4],
                retries: vec![0, 1],
                utilisation: vec![0.5, 1.0],
            },
        });
        t.trace.push(TraceRec {
            t_ns: 1,
            meter: 2,
            originator: 3,
            counter: 4,
            code: 5,
            bytes: Some(vec![6].into_boxed_slice()),
        });
        t.contained_at_ns = Some(vec![None, Some(5)]);
        t.duplicates_in_flight = 3;
        let v = vec![(3u32, t)];
        let back = round_trip(&v);
        assert_eq!(back[0].0, 3);
        let b = &back[0].1;
        assert_eq!(b.kinds[2].sent, 5);
        assert_eq!(b.kinds[2].end_to_end.count(), 1);
        assert_eq!(b.stations[0].series.retries, vec![0, 1]);
        assert_eq!(b.trace[0].bytes.as_deref(), Some(&[6u8][..]));
        assert_eq!(b.contained_at_ns, Some(vec![None, Some(5)]));
        assert_eq!(b.duplicates_in_flight, 3);
    }
}
