//! An independent check of one GBCS message against a keystore: the frame,
//! the originator's signature, the MAC (the ACB's on commands, the
//! device's on responses and alerts), encrypted payload blocks, and
//! prepayment top-up tokens (UTRNs). This is what `dccsim gbcs verify`
//! runs on each file; it knows nothing of the simulation.
//!
//! Which keys check what (GBCS, as in RTDS 4.5.0):
//!
//! * signature: ECDSA P-256 by the GSA originator's digital-signing key over
//!   `GSA[1 .. end of content]`;
//! * command MAC: ECDH of the ACB's and the recipient device's key-agreement
//!   keys, KDF mode 01, IV and KDF originator = the GSA originator (a
//!   device's command to another device: the two devices' keys);
//! * response/alert MAC: ECDH of the originating device's and the
//!   recipient's key-agreement keys, mode 02/03;
//! * encrypted block: mode 04, ECDH of the device's and the party's keys,
//!   party = supplementary remote party or recipient, counter =
//!   supplementary originator counter or GSA counter;
//! * UTRN: ECDH of the supplier's prepayment key and the device's key.

use super::frame::{parse, Frame};
use super::utrn;
use super::Cra;
use crate::crypto::ecdsa::{hash_to_scalar, verify_oneoff};
use crate::crypto::keystore::{KeyUse, Keystore};
use crate::crypto::mac::{decrypt_block, derive_mac_key, ecdh, gsa_mac_ok, MacMode};
use std::collections::HashMap;
use std::sync::Mutex;

/// The outcome for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed; what was checked.
    Pass(Vec<String>),
    /// A check failed: why, and what had passed before it.
    Fail(String, Vec<String>),
    /// Cannot be checked with these keys: why.
    Skip(String),
}

/// Message codes of prepayment top-ups (CS01a electricity, CS01b gas).
pub const TOP_UP_CODES: [u16; 2] = [0x0007, 0x0097];

type PairKey = (u64, KeyUse, u64, KeyUse);

/// Checks messages against one keystore, caching the ECDH secret of each
/// pair of static keys (as a real device or DCC system may).
pub struct Verifier<'a> {
    ks: &'a Keystore,
    acb: u64,
    cache: Mutex<HashMap<PairKey, Option<[u8; 32]>>>,
}

impl<'a> Verifier<'a> {
    /// A verifier over `ks`; `acb` is the access control broker's EUI.
    pub fn new(ks: &'a Keystore, acb: u64) -> Self {
        Verifier {
            ks,
            acb,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Checks one message.
    pub fn verify(&self, bytes: &[u8]) -> Verdict {
        verify_with(bytes, self)
    }

    /// The ECDH secret between two parties' keys, from whichever side's
    /// private key the keystore holds.
    fn shared(&self, a: u64, use_a: KeyUse, b: u64, use_b: KeyUse) -> Option<[u8; 32]> {
        let k = (a, use_a, b, use_b);
        if let Some(z) = self.cache.lock().expect("not poisoned").get(&k) {
            return *z;
        }
        let ks = self.ks;
        let z = if let (Some(d), Some(p)) = (ks.private(a, use_a), ks.public(b, use_b)) {
            ecdh(d, p)
        } else if let (Some(d), Some(p)) = (ks.private(b, use_b), ks.public(a, use_a)) {
            ecdh(d, p)
        } else {
            None
        };
        self.cache.lock().expect("not poisoned").insert(k, z);
        z
    }
}

/// Checks one message. `acb` is the access control broker's EUI.
pub fn verify(bytes: &[u8], ks: &Keystore, acb: u64) -> Verdict {
    Verifier::new(ks, acb).verify(bytes)
}

fn verify_with(bytes: &[u8], v: &Verifier<'_>) -> Verdict {
    let (ks, acb) = (v.ks, v.acb);
    let f = match parse(bytes) {
        Ok(f) => f,
        Err(e) => return Verdict::Fail(format!("frame: {e}"), vec![]),
    };
    let mut done = vec!["frame".to_string()];
    if let Some(sig) = f.signature {
        match check_signature(&f, sig, ks) {
            Ok(s) => done.push(s),
            Err(e) => return Verdict::Fail(e, done),
        }
    }
    if let Some(tag) = f.mac {
        match check_mac(&f, tag, v, acb) {
            Ok(s) => done.push(s),
            Err(Some(e)) => return Verdict::Fail(e, done),
            Err(None) => {
                return Verdict::Skip(format!(
                    "MAC'd between {:016X} and {:016X}, and neither private key is given",
                    f.originator, f.recipient
                ))
            }
        }
    }
    if !f.has_signature_field {
        return Verdict::Fail(
            "a pre-command (no signature field): check it against its command".into(),
            done,
        );
    }
    if f.signature.is_none() && f.mac.is_none() {
        return Verdict::Fail("neither signed nor MAC'd".into(), done);
    }
    if f.cra != Cra::Command {
        match check_blocks(&f, v) {
            Ok(0) => {}
            Ok(n) => done.push(format!("{n} encrypted block(s)")),
            Err(e) => return Verdict::Fail(e, done),
        }
    }
    if f.cra == Cra::Command && TOP_UP_CODES.contains(&f.code) {
        match check_utrn(&f, v) {
            Ok(s) => done.push(s),
            Err(e) => return Verdict::Fail(e, done),
        }
    }
    Verdict::Pass(done)
}

fn check_signature(f: &Frame<'_>, sig: &[u8], ks: &Keystore) -> Result<String, String> {
    let key = ks
        .public(f.originator, KeyUse::Ds)
        .ok_or_else(|| format!("no signing key for {:016X}", f.originator))?;
    if !verify_oneoff(key, &hash_to_scalar(f.signed_part), sig) {
        return Err(format!(
            "signature by {:016X} does not verify",
            f.originator
        ));
    }
    Ok(format!("signature {:016X}", f.originator))
}

/// `Err(None)` when no private key is available for the pair.
fn check_mac(
    f: &Frame<'_>,
    tag: &[u8],
    v: &Verifier<'_>,
    acb: u64,
) -> Result<String, Option<String>> {
    let ks = v.ks;
    let (mode, a, b, who) = match f.cra {
        // Device-to-device commands (e.g. a prepayment interface to a gas
        // meter) are MAC'd by the sending device, not the ACB.
        Cra::Command if ks.is_device(f.originator) => {
            (MacMode::Command, f.originator, f.recipient, "device")
        }
        Cra::Command => (MacMode::Command, acb, f.recipient, "ACB"),
        Cra::Response => (MacMode::Response, f.originator, f.recipient, "device"),
        Cra::Alert => (MacMode::Alert, f.originator, f.recipient, "device"),
    };
    let z = v.shared(a, KeyUse::Ka, b, KeyUse::Ka).ok_or(None)?;
    let key = derive_mac_key(&z, f.originator, f.recipient, mode, f.counter);
    if !gsa_mac_ok(&key, f.originator, f.gsa, tag) {
        return Err(Some(format!(
            "{who} MAC ({a:016X}×{b:016X}) does not verify"
        )));
    }
    Ok(format!("MAC {who} {a:016X}×{b:016X}"))
}

/// Every encrypted block inside `content`: `31 00000000 …` preceded by its
/// length, as a DLMS octet string (`09 len`) or a GBZ (ZigBee) 2-byte
/// length. Each entry lists the possible readings of one block.
pub fn encrypted_blocks(content: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = Vec::new();
    for i in 2..content.len().saturating_sub(4) {
        if content[i..i + 5] != [0x31, 0, 0, 0, 0] {
            continue;
        }
        let mut readings = Vec::new();
        let mut candidate = |n: usize| {
            if n >= 17 && i + n <= content.len() {
                readings.push(&content[i..i + n]);
            }
        };
        if content[i - 2] == 0x09 {
            candidate(content[i - 1] as usize);
        }
        if i >= 3 && content[i - 3] == 0x09 && content[i - 2] == 0x81 {
            candidate(content[i - 1] as usize);
        }
        candidate(u16::from_be_bytes([content[i - 2], content[i - 1]]) as usize);
        if !readings.is_empty() {
            out.push(readings);
        }
    }
    out
}

fn check_blocks(f: &Frame<'_>, v: &Verifier<'_>) -> Result<usize, String> {
    let blocks = encrypted_blocks(f.content);
    if blocks.is_empty() {
        return Ok(0);
    }
    let party = f.remote_party.unwrap_or(f.recipient);
    let counter = f.suppl_counter.unwrap_or(f.counter);
    let z = v
        .shared(f.originator, KeyUse::Ka, party, KeyUse::Ka)
        .ok_or_else(|| format!("no key to decrypt for {party:016X}"))?;
    let key = derive_mac_key(&z, f.originator, party, MacMode::PayloadEncryption, counter);
    for readings in &blocks {
        if !readings
            .iter()
            .any(|b| decrypt_block(&key, f.originator, b).is_some())
        {
            return Err("an encrypted block does not authenticate".into());
        }
    }
    Ok(blocks.len())
}

/// The 20 ASCII digits after `09 14` (DLMS) or `00 14` (GBZ) in a top-up.
pub fn find_utrn(content: &[u8]) -> Option<&[u8]> {
    content.windows(22).find_map(|w| {
        (matches!(w[0], 0x09 | 0x00) && w[1] == 0x14 && w[2..].iter().all(u8::is_ascii_digit))
            .then(|| &w[2..])
    })
}

fn check_utrn(f: &Frame<'_>, v: &Verifier<'_>) -> Result<String, String> {
    let u = find_utrn(f.content).ok_or("top-up without a UTRN")?;
    let z = v
        .shared(f.originator, KeyUse::PpKa, f.recipient, KeyUse::Ka)
        .ok_or_else(|| format!("no prepayment key for {:016X}", f.originator))?;
    match utrn::check(u, &z, f.originator, f.recipient, f.counter) {
        Ok(t) => Ok(format!(
            "UTRN {} {}",
            t.value,
            if t.class == 1 { "pounds" } else { "pence" }
        )),
        Err(e) => Err(format!("UTRN {}: {e:?}", String::from_utf8_lossy(u))),
    }
}

/// Checks a pre-command against the command built from it: the command's
/// GSA must start with the pre-command, and its signature cover `pre[1..]`.
pub fn check_precommand(pre: &[u8], command: &[u8]) -> Result<(), String> {
    let p = parse(pre).map_err(|e| format!("pre-command frame: {e}"))?;
    if p.has_signature_field {
        return Err("pre-command has a signature field".into());
    }
    let c = parse(command).map_err(|e| format!("its command: {e}"))?;
    if !c.gsa.starts_with(pre) || c.signed_part != &pre[1..] {
        return Err("pre-command differs from its command".into());
    }
    Ok(())
}
