//! The messages parties exchange, and the job a request (or alert) is as it
//! moves through the system.
//!
//! ```text
//!  user --Request--> DSP --Downlink--> CSP --Deliver--> meter
//!   ^                 |  (workers)      |  (airtime,      | (HAN + processing)
//!   +----Complete-----+<---Response-----+<----Uplink------+
//!                     ^  |              ^
//!                     |  +--Security--> SOC --Contain--> DSP --Contained--> supplier
//!                     +--- alerts ------+ (raised per CSP region)
//! ```
//!
//! DSP: Data Service Provider (with the ACB, access control broker). CSP:
//! communications service provider (one per region). SOC: the DCC's
//! security operations centre. HAN: home area network.

use super::world::{ReqKind, Signer};
use crate::crypto::device::AnchorSlot;
use crate::crypto::gbcs::{Fuel, MessageKind};
use crate::engine::EntityId;

/// How a job ended, carried back to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Outcome {
    /// Executed (or, for an alert, delivered) and the response authenticated.
    Ok = 0,
    /// The DSP refused the request's signature.
    DspBadSignature,
    /// The DSP refused it: the user's role may not send it, or the meter is not the user's.
    DspNotAuthorised,
    /// Over the user's anomaly threshold: quarantined, and deleted by the
    /// user it claimed to come from.
    DspQuarantined,
    /// The user is suspended (its credentials revoked).
    DspUserSuspended,
    /// The meter refused it (any reason but a replay).
    MeterRefused,
    /// The meter refused it as a replay.
    Replay,
    /// Lost on the WAN after every retry.
    WanTimeout,
    /// The meter's response did not authenticate at the DSP.
    ResponseBadAuth,
    /// The DSP refused it: the meter's inventory status does not allow it
    /// (not yet commissioned, or commissioning one already commissioned).
    DspWrongStatus,
}

impl Outcome {
    /// Every outcome, in result-file order.
    pub const ALL: [Outcome; 10] = [
        Outcome::Ok,
        Outcome::DspBadSignature,
        Outcome::DspNotAuthorised,
        Outcome::DspQuarantined,
        Outcome::DspUserSuspended,
        Outcome::MeterRefused,
        Outcome::Replay,
        Outcome::WanTimeout,
        Outcome::ResponseBadAuth,
        Outcome::DspWrongStatus,
    ];

    /// Stable snake-case name for result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::DspBadSignature => "dsp_bad_signature",
            Outcome::DspNotAuthorised => "dsp_not_authorised",
            Outcome::DspQuarantined => "dsp_quarantined",
            Outcome::DspUserSuspended => "dsp_user_suspended",
            Outcome::MeterRefused => "meter_refused",
            Outcome::Replay => "replay",
            Outcome::WanTimeout => "wan_timeout",
            Outcome::ResponseBadAuth => "response_bad_auth",
            Outcome::DspWrongStatus => "dsp_wrong_status",
        }
    }
}

/// Why a job exists (for results only: no decision reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Business-as-usual traffic.
    Bau,
    /// The attacker's.
    Attack,
    /// The legitimate supplier restoring supply.
    Restore,
    /// The anchor-replacement campaign.
    Anchor,
    /// The emergency firmware campaign.
    Firmware,
    /// A meter's alert that it refused a command (GBCS 0x8F30).
    RefusalAlert,
    /// The DCC replacing every meter's ACB anchor after the ACB's key was
    /// compromised (see `dsp/rekey.rs`).
    AcbRekey,
}

/// The class of a job id (its top byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdClass {
    /// A request of a [`ReqKind`] (business as usual, attack or recovery).
    Request(ReqKind),
    /// A device alert raised in a CSP region.
    Alert,
}

/// A job's unique id: the class in the top byte, the creating entity in
/// bits 40..56, the entity's own sequence number below. The id seeds the
/// sampling decision of `crypto.mode = "sampled"` and the originator
/// counter's low bits, so its layout is part of the results.
pub fn job_id(class: IdClass, entity: EntityId, seq: u64) -> u64 {
    let top = match class {
        IdClass::Request(k) => k as u64,
        IdClass::Alert => 0x80,
    };
    debug_assert!(entity < 1 << 16 && seq < 1 << 40);
    top << 56 | (entity as u64) << 40 | seq
}

/// A request (or alert) and its timestamps as it moves through the system.
#[derive(Clone, Debug)]
pub struct Job {
    /// Unique id (see [`job_id`]).
    pub id: u64,
    /// The row of the summary it counts in.
    pub kind: ReqKind,
    /// The GBCS message it becomes.
    pub msg: MessageKind,
    /// The entity that receives the completion (for alerts: the CSP entity).
    pub user: EntityId,
    /// The user identity the request presents (index).
    pub claimed: u32,
    /// Which of the claimed user's credentials it presents (0 original, 1 reissued).
    pub cred_gen: u8,
    /// Which fuel's role credential it presents: a dual-fuel supplier acts
    /// as import supplier towards electricity meters and as gas supplier
    /// towards gas meters, and the DSP refuses a request whose role does
    /// not serve its meter's fuel.
    pub cred_fuel: Fuel,
    /// Who signs the device command.
    pub signer: Signer,
    /// Ground truth: the request's signature is the claimed user's.
    pub request_genuine: bool,
    /// Ground truth: the command carries the ACB's genuine MAC.
    pub acb_mac: bool,
    /// Which ACB key-agreement key made the MAC: 0 the commissioned one,
    /// 1 the DCC's replacement, 2 any other (see `World::acb_secret_gen`).
    /// A meter accepts the MAC only when it holds that key in its ACB cell.
    pub acb_gen: u8,
    /// The trust-anchor cell a credential update replaces (only read for
    /// `UpdateSecurityCredentials`): the supplier's, or the ACB's.
    pub slot: AnchorSlot,
    /// Ground truth: a firmware image in the command is the manufacturer's.
    pub firmware_genuine: bool,
    /// Why the job exists.
    pub origin: Origin,
    /// Meter index (not entity).
    pub meter: u32,
    /// The originator counter the command carries.
    pub counter: u64,
    /// Creation time, nanoseconds.
    pub created_ns: u64,
    /// Arrival at the DSP.
    pub dsp_in_ns: u64,
    /// Departure from the DSP towards the CSP.
    pub dsp_out_ns: u64,
    /// Arrival at the meter.
    pub meter_in_ns: u64,
    /// Departure from the meter.
    pub meter_out_ns: u64,
    /// WAN latency drawn for the uplink.
    pub wan_up_ns: u64,
    /// Transmission attempts so far.
    pub attempts: u8,
    /// How it ended (so far).
    pub outcome: Outcome,
    /// The message bytes when this job runs real cryptography.
    pub bytes: Option<Box<[u8]>>,
    /// The ACB's shared secret with the meter, kept by the DSP side from
    /// building the command to checking the response (the ACB computes it
    /// once per exchange, as it would cache it per device).
    pub acb_z: Option<[u8; 32]>,
    /// A critical request's pre-command went back to its user and came
    /// back signed (the DSP's second pass).
    pub pre_signed: bool,
    /// A second copy of a transmission made by a tampering CSP: the meter
    /// handles it like any other, and the DSP discards its response (a
    /// response to a request already answered).
    pub duplicate: bool,
    /// A check of `bytes` started on the run's pool when they were made
    /// ([`crate::engine::Ahead`]): the DSP's of a service request's
    /// signature or of a response's or alert's authentication, or a
    /// meter's of a command's signature. A speed device only: the party
    /// gets the same verdict from the bytes when it is absent or is for
    /// other bytes. Cleared when the DSP takes a request in. Not sent between
    /// ranks (the receiving rank computes it).
    pub verdict: Option<Verdict>,
}

/// A device command as the DSP builds it: its bytes, the ACB secret it
/// used, and which ACB key that secret is with (see `Job::acb_gen`).
pub type Command = (Box<[u8]>, [u8; 32], u8);

/// A check of a job's bytes started ahead: which bytes it checks (a hash)
/// and the verdict; for a service request, also the device command the DSP
/// builds if it accepts it (under the commissioned ACB key). The DSP uses
/// them only for the same bytes.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// [`bytes_hash`] of the bytes checked.
    pub of: u64,
    /// Whether they pass.
    pub ok: crate::engine::Ahead<bool>,
    /// A request's device command under ACB key 0.
    pub command: Option<crate::engine::Ahead<Command>>,
}

impl Verdict {
    /// The one started ahead for `bytes`, if any.
    pub fn for_bytes<'v>(v: &'v Option<Verdict>, bytes: &[u8]) -> Option<&'v Verdict> {
        v.as_ref().filter(|v| v.of == bytes_hash(bytes))
    }

    /// The verdict on `bytes`: the one started ahead if it checks these
    /// bytes, else `check()` now.
    pub fn on(v: &Option<Verdict>, bytes: &[u8], check: impl FnOnce() -> bool) -> bool {
        match Self::for_bytes(v, bytes) {
            Some(v) => *v.ok.get_or(check),
            None => check(),
        }
    }

    /// The device command for the request in `bytes` under ACB key `gen`:
    /// the one started ahead if it is for these bytes and that key, else
    /// `build()` now.
    pub fn command(
        v: &Option<Verdict>,
        bytes: &[u8],
        gen: u8,
        build: impl FnOnce() -> Command,
    ) -> Command {
        match Self::for_bytes(v, bytes).and_then(|v| v.command.as_ref()) {
            Some(c) if gen == 0 => c.get_or(build).clone(),
            _ => build(),
        }
    }
}

/// A 64-bit hash of a message's bytes (to match a verdict to its bytes).
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    bytes.chunks(8).fold(bytes.len() as u64, |h, c| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        crate::engine::mix64(h ^ u64::from_le_bytes(w))
    })
}

impl Job {
    /// Asks for the cache lines a hop reads (a hint: it changes nothing).
    /// A job is 176 bytes, three or four cache lines, and a party reads
    /// fields in all of them (its kind and outcome lie past the first 64
    /// bytes), so asking for its first line alone left most hops waiting
    /// on memory. Fields, not byte offsets, are named, so the hint stays
    /// right whatever layout the compiler picks.
    #[inline(always)]
    pub fn prefetch(&self) {
        use crate::engine::prefetch;
        prefetch(self);
        prefetch(&self.meter_out_ns);
        prefetch(&self.kind);
        prefetch(&self.outcome);
        prefetch(&self.duplicate);
    }

    /// A fresh job with no hop times yet.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        kind: ReqKind,
        msg: MessageKind,
        user: EntityId,
        claimed: u32,
        meter: u32,
        created_ns: u64,
        origin: Origin,
    ) -> Job {
        Job {
            id,
            kind,
            msg,
            user,
            claimed,
            cred_gen: 0,
            cred_fuel: Fuel::Electricity,
            signer: Signer::None,
            request_genuine: true,
            acb_mac: true,
            acb_gen: 0,
            slot: AnchorSlot::Supplier,
            firmware_genuine: true,
            origin,
            meter,
            counter: (created_ns << 6) | (id >> 56 & 0x3f),
            created_ns,
            dsp_in_ns: 0,
            dsp_out_ns: 0,
            meter_in_ns: 0,
            meter_out_ns: 0,
            wan_up_ns: 0,
            attempts: 0,
            outcome: Outcome::Ok,
            bytes: None,
            acb_z: None,
            pre_signed: false,
            duplicate: false,
            verdict: None,
        }
    }
}

/// A security event for the SOC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityEvent {
    /// The DSP quarantined a user's requests over a threshold.
    Anomaly(u32),
    /// A supplier reports disconnections it did not order.
    CustomerReports(u32),
    /// Critical device alerts over the SIEM volume rule in a region.
    AlertVolume,
    /// A meter refused a command and said so (alert 0x8F30).
    MeterRefusalAlert,
    /// An event about a user that is not an attack: business-as-usual
    /// noise (a user's legitimate traffic spike over its threshold, calls
    /// after legitimate disconnections). Analysts cannot tell it from a
    /// real one: it presents as a threshold breach.
    Benign(u32),
    /// A user deleted quarantined requests it says it never sent, and told
    /// the DCC (at most once per anomaly window).
    Disowned(u32),
}

impl SecurityEvent {
    /// Every kind's name, in [`SecurityEvent::index`] order.
    pub const NAMES: [&'static str; 6] = [
        "anomaly",
        "customer_reports",
        "alert_volume",
        "meter_refusal_alerts",
        "benign",
        "disowned_requests",
    ];

    /// The event kind's index in [`SecurityEvent::NAMES`].
    pub fn index(self) -> usize {
        match self {
            SecurityEvent::Anomaly(_) => 0,
            SecurityEvent::CustomerReports(_) => 1,
            SecurityEvent::AlertVolume => 2,
            SecurityEvent::MeterRefusalAlert => 3,
            SecurityEvent::Benign(_) => 4,
            SecurityEvent::Disowned(_) => 5,
        }
    }
}

/// A supplier's recovery work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryStep {
    /// Re-enable supply to a meter.
    Enable(u32),
    /// Send the next anchor replacement.
    AnchorNext,
    /// Send the next firmware image (the incident response's campaign).
    FirmwareNext,
    /// Send the emergency fix's next image (to the next vulnerable meter).
    FixNext,
    /// Activate the image delivered to a meter (SR 11.3).
    Activate(u32),
    /// Send a meter's image again (SR 11.1, then its activation): its
    /// activation failed (lost on the WAN, or refused because the image
    /// never arrived).
    Redeliver(u32),
}

/// Messages between entities.
#[derive(Clone, Debug)]
pub enum Msg {
    /// A user's next request of one type.
    Generate(ReqKind),
    /// A CSP's next alert from its region.
    AlertTick,
    /// User to DSP.
    Request(Box<Job>),
    /// A DSP worker finished a job (request leg: `false`, response leg: `true`).
    DspDone(Box<Job>, bool),
    /// DSP to CSP.
    Downlink(Box<Job>),
    /// A CSP finished transmitting.
    AirtimeDone(Box<Job>),
    /// A CSP resends after a timeout.
    Retry(Box<Job>),
    /// CSP to meter.
    Deliver(Box<Job>),
    /// A meter finished processing.
    MeterDone(Box<Job>),
    /// Meter (or, for alerts, the CSP on its behalf) to CSP.
    Uplink(Box<Job>),
    /// A CSP finished receiving a response or alert on its uplink.
    UplinkDone(Box<Job>),
    /// CSP to DSP.
    Response(Box<Job>),
    /// DSP to user.
    Complete(Box<Job>),
    /// To the SOC.
    Security(SecurityEvent),
    /// An SOC analyst finished triaging an event raised at the given time (ns).
    TriageDone(SecurityEvent, u64),
    /// SOC to DSP: suspend this user and revoke its certificate.
    Contain(u32),
    /// DSP to supplier: you were contained; the meters disabled under your identity.
    Contained(Vec<u32>),
    /// A household without supply calls its supplier.
    CustomerCall(u32),
    /// The household of an armed meter restores supply at the meter.
    ConsumerRestore(u32),
    /// A critical request's pre-command, back to its sender to sign.
    PreCommand(Box<Job>),
    /// The signed pre-command, back at the DSP.
    SignedPreCommand(Box<Job>),
    /// DSP to the claimed user: this request of yours is quarantined
    /// (held at the DSP); release or delete it.
    QuarantineNotice(Box<Job>),
    /// The user's decision on a held request: `true` releases it.
    QuarantineDecision(Box<Job>, bool),
    /// A supplier's scheduled recovery step.
    Recover(RecoveryStep),
    /// A failed alert delivery's next attempt at the DSP: the meter, when
    /// the alert was raised (ns), and whether it is held (after the retry).
    AlertRedeliver(u32, u64, bool),
    /// The SOC's next business-as-usual event that is not an attack
    /// (`parameters.soc.benign_events_per_day`).
    BenignTick,
    /// The SOC's shift changes (`parameters.soc.day_shift_start_h`, `_end_h`).
    SocShift,
    /// The next action of the run's attack `i` (by the attacker, or by a
    /// compromised or failing party).
    AttackTick(u8),
}

impl Msg {
    /// The job a message carries, if any (for the count of work in flight).
    pub fn job(&self) -> Option<&Job> {
        match self {
            Msg::Request(j)
            | Msg::DspDone(j, _)
            | Msg::Downlink(j)
            | Msg::AirtimeDone(j)
            | Msg::Retry(j)
            | Msg::Deliver(j)
            | Msg::MeterDone(j)
            | Msg::Uplink(j)
            | Msg::UplinkDone(j)
            | Msg::Response(j)
            | Msg::Complete(j)
            | Msg::PreCommand(j)
            | Msg::SignedPreCommand(j)
            | Msg::QuarantineNotice(j)
            | Msg::QuarantineDecision(j, _) => Some(j),
            _ => None,
        }
    }
}

/// What the DSP's parallel prepare pass computed for a job.
pub struct Prep {
    /// Whether the request's or response's authentication verified.
    pub ok: bool,
    /// The device command built for a verified request.
    pub command: Option<Command>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Ahead;

    fn pool() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool")
    }

    #[test]
    fn a_verdict_started_ahead_serves_only_the_bytes_it_checked() {
        let (a, b) = (b"request one".to_vec(), b"request two".to_vec());
        pool().install(|| {
            let v = Some(Verdict {
                of: bytes_hash(&a),
                ok: Ahead::start(true, || true).expect("started"),
                command: Some(
                    Ahead::start(true, || (vec![1u8].into_boxed_slice(), [0; 32], 0))
                        .expect("started"),
                ),
            });
            // The same bytes: the verdict and command computed ahead.
            let v0 = v.as_ref().expect("some");
            while v0.ok.ready().is_none() || v0.command.as_ref().and_then(|c| c.ready()).is_none() {
                rayon::yield_now();
            }
            assert!(Verdict::on(&v, &a, || unreachable!("computed ahead")));
            let c = Verdict::command(&v, &a, 0, || unreachable!("built ahead"));
            assert_eq!(&*c.0, &[1u8]);
            // Other bytes, or another ACB key: checked and built now.
            assert!(!Verdict::on(&v, &b, || false));
            let c = Verdict::command(&v, &a, 1, || (vec![2u8].into_boxed_slice(), [0; 32], 1));
            assert_eq!((&*c.0, c.2), (&[2u8][..], 1));
            assert!(!Verdict::on(&None, &a, || false));
        });
        assert_ne!(bytes_hash(&a), bytes_hash(&b));
        assert_ne!(bytes_hash(b"x"), bytes_hash(b"x\0"));
    }
}
