//! The independent checker: reads the trace of commands the meters
//! executed and confirms, outside the meter code, the security invariant
//! of DESIGN.md: no meter executed a critical command unless
//!
//! 1. its signature verified against the trust anchor the meter held at
//!    that moment (anchors are replayed from the trace itself, starting
//!    from each meter's initial anchors and applying the credential
//!    updates it executed),
//! 2. its ACB (access control broker) MAC verified, with the shared secret
//!    recomputed from the ACB's side (the meter path computes it from the
//!    device's side), and
//! 3. its originator counter was greater than every counter the meter had
//!    executed from that originator before.
//!
//! Commands executed without bytes (modeled or unsampled cryptography)
//! cannot be checked for 1 and 2: they are counted as unverifiable, and
//! their counters are still checked. A credential update executed without
//! bytes installs a key the checker cannot read (in the supplier's or the
//! ACB's cell: without bytes it cannot tell which): the meter's later
//! critical commands are unverifiable too, until credential updates with
//! bytes install known keys again.
//!
//! The ACB's cell is replayed like the supplier's: a credential update for
//! it (signed by the recovery key) installs a new ACB key, and the meter's
//! later MACs are checked with the secret of that key, from the ACB's side.
//!
//! A scenario's declared vulnerability is the one exception, and the
//! checker knows it independently: a meter runs the flawed firmware from
//! the start if the scenario says so, until the trace shows it executed a
//! firmware activation (SR 11.3). A command that fails 2 (flaw `no_mac`)
//! or 3 (flaw `stale_counter`) on a meter flawed at that moment, of a
//! class the flaw covers, is counted as `exploited_flaw`, not as a
//! violation; anywhere else it is a violation.

use super::timeline::TraceRec;
use super::world::{World, COS_ID, RECOVERY_ID};
use crate::crypto::device::{AnchorSlot, Flaw, FlawCheck};
use crate::crypto::ecdsa::hash_to_scalar;
use crate::crypto::gbcs::{frame, payload, Body, Cra, MessageKind};
use crate::crypto::keys::KeyRole;
use crate::crypto::mac::{derive_mac_key, gsa_mac_ok, MacMode};
use crate::crypto::VerifyKey;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;

/// What the checker found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckerReport {
    /// Executed commands read.
    pub commands: u64,
    /// Critical commands whose signature and MAC were re-verified.
    pub critical_verified: u64,
    /// Critical commands executed without bytes (not verifiable).
    pub critical_unverifiable: u64,
    /// Violations of the invariant.
    pub violations: u64,
    /// Commands that failed a check a declared flaw skips, on a meter
    /// running the flawed firmware at the time (not violations).
    pub exploited_flaw: u64,
    /// Up to ten violations, described.
    pub examples: Vec<String>,
}

/// The anchor slot that must authorise a critical command of this kind
/// (kept here, apart from the meter code, on purpose).
fn slot_for(kind: MessageKind) -> Option<AnchorSlot> {
    use MessageKind::*;
    match kind {
        PrepaymentTopUp | UpdateTariff | EnableSupply | DisableSupply | ArmSupply
        | ActivateFirmware | CommissionDevice => Some(AnchorSlot::Supplier),
        _ => None,
    }
}

/// The ACB–device shared secret computed from the ACB's side: the private
/// key of ACB key `gen` (0 commissioned, 1 the DCC's replacement) times the
/// device's public key (the meter path computes it from the device's side,
/// the device's private key times the ACB's public key, with a
/// precomputed table).
fn acb_side_secret(w: &World, m: u32, gen: u8) -> [u8; 32] {
    let dev = crate::crypto::keys::derive_key(w.seed, KeyRole::DeviceKeyAgreement, w.device_id(m));
    // (Generation 1 exists only under `[acb_rekey]`, which builds the key.)
    let acb = match (gen, &w.commissioned.acb_next) {
        (1, Some(next)) => &next.key,
        _ => &w.acb,
    };
    crate::crypto::mac::ecdh(acb.scalar(), dev.public()).expect("not the identity")
}

/// Checks every meter's executed commands. `trace` may be in any order
/// across meters; within a meter it must be in execution order.
pub fn check(w: &World, mut trace: Vec<TraceRec>) -> CheckerReport {
    trace.sort_by_key(|r| (r.meter, r.t_ns));
    let mut starts = Vec::new();
    for (i, r) in trace.iter().enumerate() {
        if i == 0 || trace[i - 1].meter != r.meter {
            starts.push(i);
        }
    }
    starts.push(trace.len());
    let per_meter: Vec<CheckerReport> = starts
        .par_windows(2)
        .map(|s| check_meter(w, &trace[s[0]..s[1]]))
        .collect();
    let mut out = CheckerReport::default();
    for r in per_meter {
        out.commands += r.commands;
        out.critical_verified += r.critical_verified;
        out.critical_unverifiable += r.critical_unverifiable;
        out.violations += r.violations;
        out.exploited_flaw += r.exploited_flaw;
        for e in r.examples {
            if out.examples.len() < 10 {
                out.examples.push(e);
            }
        }
    }
    out
}

/// One meter's anchors as the checker replays them.
struct Replayed<'a> {
    m: u32,
    /// The supplier anchor held now: owner id and key.
    supplier_anchor: (u64, Cow<'a, VerifyKey>),
    /// The ACB key the meter's ACB cell holds (0 commissioned, 1 the
    /// DCC's replacement), and its shared secret with the meter, computed
    /// from the ACB's side once per key.
    acb: (u8, Option<[u8; 32]>),
    /// Whether the supplier and the ACB anchors are known: a credential
    /// update executed without bytes (unsampled) installed a key the
    /// checker cannot read in one of them, until later ones with bytes
    /// install known keys.
    known: (bool, bool),
}

impl<'a> Replayed<'a> {
    /// Checks one executed critical command's bytes: addressing, the ACB's
    /// MAC, and the signature against the anchor held now; a credential
    /// update then replaces the supplier anchor.
    fn check_bytes(
        &mut self,
        w: &'a World,
        r: &TraceRec,
        kind: MessageKind,
        bytes: &[u8],
        flaw: Option<Flaw>,
    ) -> Result<bool, String> {
        let m = self.m;
        let g = frame::parse(bytes).map_err(|_| "executed a malformed command".to_string())?;
        if g.recipient != w.device_id(m) || g.cra != Cra::Command || g.code != r.code {
            return Err("executed a command addressed elsewhere".into());
        }
        let gen = self.acb.0;
        let z = *self.acb.1.get_or_insert_with(|| acb_side_secret(w, m, gen));
        let mac_good = g.mac.is_some_and(|tag| {
            let k = derive_mac_key(&z, g.originator, g.recipient, MacMode::Command, g.counter);
            gsa_mac_ok(&k, g.originator, g.gsa, tag)
        });
        let exploited = !mac_good;
        if !mac_good && !flaw.is_some_and(|f| f.skips(FlawCheck::Mac, kind)) {
            return Err(format!("{kind:?} executed without a valid ACB MAC"));
        }
        let body = payload::parse_command(kind, g.content).map(|(b, _)| b);
        let recovery_anchor = (RECOVERY_ID, &w.recovery.1);
        let cos: Option<VerifyKey>;
        let anchor = match (kind, &body) {
            // The ACB's cell: replaced by the recovery key (the ACB cannot sign).
            (MessageKind::UpdateSecurityCredentials, Some(Body::CredentialUpdate { slot, .. }))
                if *slot == AnchorSlot::Acb as u8 =>
            {
                (g.originator == recovery_anchor.0).then_some(recovery_anchor.1)
            }
            (MessageKind::UpdateSecurityCredentials, Some(Body::CredentialUpdate { slot, .. })) => {
                if *slot != AnchorSlot::Supplier as u8 {
                    return Err(format!("credential update of unmodelled slot {slot}"));
                }
                if g.originator == self.supplier_anchor.0 {
                    Some(&*self.supplier_anchor.1)
                } else if g.originator == recovery_anchor.0 {
                    Some(recovery_anchor.1)
                } else if g.originator == COS_ID {
                    // A change of supplier: the transitional CoS party's key.
                    cos = VerifyKey::from_sec1(&w.cos_key().public().to_uncompressed());
                    cos.as_ref()
                } else {
                    None
                }
            }
            _ => match slot_for(kind) {
                Some(AnchorSlot::Supplier) if g.originator == self.supplier_anchor.0 => {
                    Some(&*self.supplier_anchor.1)
                }
                _ => None,
            },
        };
        let Some(anchor) = anchor else {
            return Err(format!(
                "{kind:?} from originator {:#x} that holds no anchor",
                g.originator
            ));
        };
        let sig_good = g
            .signature
            .is_some_and(|s| anchor.verify_prehash(&hash_to_scalar(g.signed_part), s));
        if !sig_good {
            return Err(format!(
                "{kind:?} executed without a signature verifying against the anchor held"
            ));
        }
        if let Some(body) = body {
            self.install(w, body)?;
        }
        Ok(exploited)
    }

    /// A credential update's new anchor: the ACB's cell (a key of the
    /// DCC's ACB) or the supplier's; that cell is known from now on.
    fn install(&mut self, w: &'a World, body: Body) -> Result<(), String> {
        let Body::CredentialUpdate {
            slot, owner, key, ..
        } = body
        else {
            return Ok(());
        };
        if slot == AnchorSlot::Acb as u8 {
            let next = w.commissioned.acb_next.as_ref();
            self.acb = if next.is_some_and(|n| key == n.key.public().to_uncompressed()) {
                (1, None)
            } else if key == w.acb.public().to_uncompressed() {
                (0, None)
            } else {
                return Err("an ACB credential update installed a key no ACB holds".into());
            };
            self.known.1 = true;
            return Ok(());
        }
        let known = w.user_command_keys[w.supplier_cred(self.m) as usize]
            .iter()
            .map(|(_, v)| v)
            .find(|v| v.point().to_uncompressed() == key);
        match (known, VerifyKey::from_sec1(&key)) {
            (Some(v), _) => self.supplier_anchor = (owner, Cow::Borrowed(v)),
            (None, Some(k)) => self.supplier_anchor = (owner, Cow::Owned(k)),
            (None, None) => return Err("credential update installed an invalid key".into()),
        }
        self.known.0 = true;
        Ok(())
    }

    /// Whether a command from `originator` can be checked: the ACB key is
    /// known, and the supplier's too unless the recovery key or the CoS
    /// party signed it.
    fn checkable(&self, kind: MessageKind, originator: u64) -> bool {
        let recovery = kind == MessageKind::UpdateSecurityCredentials
            && (originator == RECOVERY_ID || originator == COS_ID);
        self.known.1 && (self.known.0 || recovery)
    }
}

fn check_meter(w: &World, recs: &[TraceRec]) -> CheckerReport {
    let mut out = CheckerReport::default();
    let Some(first) = recs.first() else {
        return out;
    };
    let m = first.meter;
    let supplier = w.supplier_of(m);
    // The anchors the meter was commissioned with, borrowed from the
    // long-lived verifiers (with their tables); a key installed by a
    // credential update that is not one of them is parsed on its own.
    let mut replayed = Replayed {
        m,
        supplier_anchor: (
            w.user_id(supplier),
            Cow::Borrowed(&w.user_command_keys[w.supplier_cred(m) as usize][0].1),
        ),
        acb: (0, None),
        known: (true, true),
    };
    let mut last: HashMap<u64, u64> = HashMap::new();
    let violation = |out: &mut CheckerReport, why: String| {
        out.violations += 1;
        if out.examples.len() < 10 {
            out.examples.push(format!("meter {m}: {why}"));
        }
    };
    // The declared flaw, while this meter runs the flawed firmware.
    let declared = w.sc.vulnerability.as_ref().map(|v| v.flaw());
    let mut flawed = w.initially_vulnerable(m);
    for r in recs {
        out.commands += 1;
        let prev = last.get(&r.originator).copied();
        // The counter never goes back (a flawed firmware may accept a stale one).
        last.insert(r.originator, prev.map_or(r.counter, |p| p.max(r.counter)));
        let Some(kind) = MessageKind::from_code(r.code, w.fuel(m)) else {
            violation(&mut out, format!("unknown message code {:#x}", r.code));
            continue;
        };
        if !kind.is_critical() {
            continue;
        }
        let flaw = declared.filter(|_| flawed);
        if let Some(prev) = prev.filter(|&p| r.counter <= p) {
            if flaw.is_some_and(|f| f.skips(FlawCheck::Counter, kind)) {
                out.exploited_flaw += 1;
            } else {
                violation(
                    &mut out,
                    format!(
                        "{kind:?} with counter {} not above {prev} at t={} ns",
                        r.counter, r.t_ns
                    ),
                );
            }
        }
        if kind == MessageKind::ActivateFirmware {
            flawed = false;
        }
        let credential_update = kind == MessageKind::UpdateSecurityCredentials;
        let Some(bytes) = &r.bytes else {
            if credential_update {
                replayed.known = (false, false);
            }
            out.critical_unverifiable += 1;
            continue;
        };
        // After an unreadable credential update, an anchor the meter holds
        // is unknown: its commands cannot be checked, and a credential
        // update's new key is taken unchecked, which makes its cell known.
        if !replayed.checkable(kind, r.originator) {
            out.critical_unverifiable += 1;
            let body = frame::parse(bytes)
                .ok()
                .and_then(|g| payload::parse_command(kind, g.content))
                .map(|(b, _)| b);
            if let Some(Err(why)) = body.map(|b| replayed.install(w, b)) {
                violation(&mut out, why);
            }
            continue;
        }
        out.critical_verified += 1;
        match replayed.check_bytes(w, r, kind, bytes, flaw) {
            Ok(true) => out.exploited_flaw += 1,
            Ok(false) => {}
            Err(why) => violation(&mut out, why),
        }
    }
    out
}
