//! Binary messages close to the GBCS (Great Britain Companion Specification)
//! layout, sized to match the DCC's reference test data (RTDS 4.5.0; `models/README.md`, source S1).
//!
//! ```text
//!  MAC header      0xDD ‖ total length (2)                                   3 bytes
//!  grouping header 0xD9 ‖ CRA flag ‖ originator counter (8) ‖ originator (8)
//!                  ‖ recipient (8) ‖ date-time absent (0x00) ‖ message code (2)  29 bytes
//!  payload         length (2) ‖ body                                          2 + n bytes
//!  signature       0x40 ‖ r ‖ s (64)   or   0x00                              65 or 1 bytes
//!  MAC             AES-128-GCM tag (12), when the message is MAC'd            12 or 0 bytes
//! ```
//!
//! The signature covers grouping header and payload; the MAC covers every
//! byte before it. Commands always carry the ACB's MAC; critical commands
//! also carry the originator's signature. Responses and alerts carry either
//! the device's signature (critical) or its MAC (the rest). With the body
//! sizes in [`MessageKind::body_len`], a disable-supply command is 146 bytes,
//! its signed response 111, a read command 158, its MAC'd response 183 and a
//! signed critical alert 152, as in the reference data.
//!
//! [`decode`] never panics: malformed bytes give a [`DecodeError`].

pub mod frame;
pub mod utrn;
pub mod verify;

/// Command, response or alert (the GBCS CRA flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cra {
    /// A command to a device.
    Command = 1,
    /// A device's response.
    Response = 2,
    /// A device's alert.
    Alert = 3,
}

/// The message types the simulator sends, with their GBCS facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// Read instantaneous values (ECS17b; non-critical).
    ReadInstantaneous,
    /// Read the daily log (non-critical).
    ReadDailyLog,
    /// Prepayment top-up (critical).
    PrepaymentTopUp,
    /// Update the tariff (critical).
    UpdateTariff,
    /// SR 7.1 enable supply (critical).
    EnableSupply,
    /// SR 7.2 disable supply (ECS43, message code 0x0050; critical).
    DisableSupply,
    /// SR 7.3 arm supply (critical).
    ArmSupply,
    /// SR 6.15.1 update security credentials: replace a trust anchor (critical).
    UpdateSecurityCredentials,
    /// SR 11.1 update firmware: deliver an image (non-critical).
    UpdateFirmware,
    /// SR 11.3 activate firmware: carries the manufacturer-signed image hash (critical).
    ActivateFirmware,
    /// A device alert (e.g. supply outage/restore; critical ones are signed).
    Alert,
}

impl MessageKind {
    /// Every kind, in a fixed order.
    pub const ALL: [MessageKind; 11] = [
        MessageKind::ReadInstantaneous,
        MessageKind::ReadDailyLog,
        MessageKind::PrepaymentTopUp,
        MessageKind::UpdateTariff,
        MessageKind::EnableSupply,
        MessageKind::DisableSupply,
        MessageKind::ArmSupply,
        MessageKind::UpdateSecurityCredentials,
        MessageKind::UpdateFirmware,
        MessageKind::ActivateFirmware,
        MessageKind::Alert,
    ];

    /// The 2-byte message code in the grouping header. Disable supply's
    /// 0x0050 is from the reference data; the others are assumptions that
    /// only need to be distinct.
    pub fn code(&self) -> u16 {
        match self {
            MessageKind::ReadInstantaneous => 0x0017,
            MessageKind::ReadDailyLog => 0x0018,
            MessageKind::PrepaymentTopUp => 0x0022,
            MessageKind::UpdateTariff => 0x0011,
            MessageKind::EnableSupply => 0x004F,
            MessageKind::DisableSupply => 0x0050,
            MessageKind::ArmSupply => 0x0051,
            MessageKind::UpdateSecurityCredentials => 0x00A1,
            MessageKind::UpdateFirmware => 0x00B1,
            MessageKind::ActivateFirmware => 0x00B3,
            MessageKind::Alert => 0x8F84,
        }
    }

    /// The kind with message code `code`.
    pub fn from_code(code: u16) -> Option<MessageKind> {
        MessageKind::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// Whether commands of this kind are critical (signed by the originator
    /// and checked against a trust anchor by the device), per GBCS's list of
    /// critical service requests.
    pub fn is_critical(&self) -> bool {
        matches!(
            self,
            MessageKind::PrepaymentTopUp
                | MessageKind::UpdateTariff
                | MessageKind::EnableSupply
                | MessageKind::DisableSupply
                | MessageKind::ArmSupply
                | MessageKind::UpdateSecurityCredentials
                | MessageKind::ActivateFirmware
        )
    }

    /// Payload body bytes for a message of this kind and CRA. Chosen so that
    /// whole-message sizes match the reference data where it gives one
    /// (disable supply, read instantaneous, critical alert); elsewhere an
    /// assumption. Bodies carry the structured fields of [`Body`] first,
    /// then padding standing for the rest of the DLMS/ASN.1 content.
    pub fn body_len(&self, cra: Cra) -> usize {
        match (self, cra) {
            (MessageKind::ReadInstantaneous | MessageKind::ReadDailyLog, Cra::Command) => 111,
            (MessageKind::ReadInstantaneous | MessageKind::ReadDailyLog, _) => 136,
            (MessageKind::UpdateSecurityCredentials, Cra::Command) => 3 + 8 + 65,
            (MessageKind::UpdateFirmware, Cra::Command) => 2 + 8 + 32 + 64 + 8,
            (MessageKind::ActivateFirmware, Cra::Command) => 2 + 8 + 32 + 64,
            (MessageKind::Alert, _) => 53,
            (_, Cra::Command) => 35,
            (_, _) => 12,
        }
    }
}

/// Bytes before the payload body: MAC header, grouping header, payload length.
pub const HEADER_LEN: usize = 3 + 29 + 2;
/// Bytes of a MAC.
pub const MAC_LEN: usize = 12;

/// The grouping header's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grouping {
    /// Command, response or alert.
    pub cra: Cra,
    /// The originator's counter (anti-replay); below 2^63.
    pub counter: u64,
    /// Originator's identifier (EUI-64 system title or user id).
    pub originator: u64,
    /// Recipient's identifier.
    pub recipient: u64,
    /// Message code.
    pub code: u16,
}

/// How a message is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// Carries a signature.
    pub signed: bool,
    /// Carries a MAC.
    pub maced: bool,
}

impl Protection {
    /// What GBCS requires for a message of `kind` and `cra`.
    pub fn required(kind: MessageKind, cra: Cra) -> Protection {
        match cra {
            Cra::Command => Protection {
                signed: kind.is_critical(),
                maced: true,
            },
            // Responses to critical commands and critical alerts are signed by
            // the device; others are MAC'd.
            _ => {
                let critical = kind.is_critical() || kind == MessageKind::Alert;
                Protection {
                    signed: critical,
                    maced: !critical,
                }
            }
        }
    }
}

/// Total bytes of a message.
pub fn message_len(body_len: usize, p: Protection) -> usize {
    HEADER_LEN + body_len + if p.signed { 65 } else { 1 } + if p.maced { MAC_LEN } else { 0 }
}

/// A decoded message: header fields and where each part lies in the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The grouping header.
    pub grouping: Grouping,
    /// The payload body.
    pub body: &'a [u8],
    /// The bytes the signature covers (grouping header and payload).
    pub signed_part: &'a [u8],
    /// The signature, if present.
    pub signature: Option<&'a [u8]>,
    /// The bytes the MAC covers (everything before it).
    pub maced_part: &'a [u8],
    /// The MAC, if present.
    pub mac: Option<&'a [u8]>,
}

/// Why bytes are not a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the fixed parts need.
    TooShort,
    /// The length in the MAC header does not match.
    LengthMismatch,
    /// An unknown tag, CRA flag or marker.
    BadTag,
    /// A counter of 2^63 or more.
    BadCounter,
}

/// Produces a signature over the signed part.
pub type SignFn<'a> = &'a dyn Fn(&[u8]) -> [u8; 64];
/// Produces a MAC over everything before it.
pub type MacFn<'a> = &'a dyn Fn(&[u8]) -> [u8; 12];

/// Builds a message. `sign` produces the signature over the signed part;
/// `mac` the tag over everything before it.
pub fn encode(
    g: &Grouping,
    body: &[u8],
    sign: Option<SignFn<'_>>,
    mac: Option<MacFn<'_>>,
) -> Vec<u8> {
    assert!(g.counter < 1 << 63, "GBCS counters are below 2^63");
    assert!(body.len() <= u16::MAX as usize);
    let p = Protection {
        signed: sign.is_some(),
        maced: mac.is_some(),
    };
    let total = message_len(body.len(), p);
    let mut v = Vec::with_capacity(total);
    v.push(0xDD);
    v.extend_from_slice(&(total as u16).to_be_bytes());
    v.push(0xD9);
    v.push(g.cra as u8);
    v.extend_from_slice(&g.counter.to_be_bytes());
    v.extend_from_slice(&g.originator.to_be_bytes());
    v.extend_from_slice(&g.recipient.to_be_bytes());
    v.push(0x00);
    v.extend_from_slice(&g.code.to_be_bytes());
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    match sign {
        Some(f) => {
            let sig = f(&v[3..]);
            v.push(0x40);
            v.extend_from_slice(&sig);
        }
        None => v.push(0x00),
    }
    if let Some(f) = mac {
        let tag = f(&v);
        v.extend_from_slice(&tag);
    }
    debug_assert_eq!(v.len(), total);
    v
}

/// Parses a message; never panics on any input.
pub fn decode(b: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    if b.len() < HEADER_LEN + 1 {
        return Err(DecodeError::TooShort);
    }
    if b[0] != 0xDD || b[3] != 0xD9 || b[29] != 0x00 {
        return Err(DecodeError::BadTag);
    }
    let total = u16::from_be_bytes([b[1], b[2]]) as usize;
    if total != b.len() {
        return Err(DecodeError::LengthMismatch);
    }
    let cra = match b[4] {
        1 => Cra::Command,
        2 => Cra::Response,
        3 => Cra::Alert,
        _ => return Err(DecodeError::BadTag),
    };
    let u = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let counter = u(5);
    if counter >= 1 << 63 {
        return Err(DecodeError::BadCounter);
    }
    let grouping = Grouping {
        cra,
        counter,
        originator: u(13),
        recipient: u(21),
        code: u16::from_be_bytes([b[30], b[31]]),
    };
    let body_len = u16::from_be_bytes([b[32], b[33]]) as usize;
    let sig_at = HEADER_LEN + body_len;
    if b.len() < sig_at + 1 {
        return Err(DecodeError::TooShort);
    }
    let (signature, after_sig) = match b[sig_at] {
        0x40 => {
            if b.len() < sig_at + 65 {
                return Err(DecodeError::TooShort);
            }
            (Some(&b[sig_at + 1..sig_at + 65]), sig_at + 65)
        }
        0x00 => (None, sig_at + 1),
        _ => return Err(DecodeError::BadTag),
    };
    let mac = match b.len() - after_sig {
        0 => None,
        MAC_LEN => Some(&b[after_sig..]),
        _ => return Err(DecodeError::LengthMismatch),
    };
    Ok(Decoded {
        grouping,
        body: &b[HEADER_LEN..sig_at],
        signed_part: &b[3..sig_at],
        signature,
        maced_part: &b[..after_sig],
        mac,
    })
}

/// The structured start of a command body (the rest is padding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A command with no security-relevant parameters (reads, supply changes, tariff, top-up).
    Plain,
    /// Replace trust anchor `slot` with `key` owned by `owner`.
    CredentialUpdate {
        /// The slot (see [`super::device::AnchorSlot`]).
        slot: u8,
        /// Identifier of the new anchor's owner.
        owner: u64,
        /// The new key, SEC1 uncompressed.
        key: [u8; 65],
    },
    /// A firmware image (by version) whose hash the manufacturer signed.
    Firmware {
        /// Manufacturer id (which manufacturer key must have signed).
        manufacturer: u16,
        /// Firmware version.
        version: u64,
        /// SHA-256 of the image.
        image_hash: [u8; 32],
        /// The manufacturer's signature over `manufacturer ‖ version ‖ image_hash`.
        signature: [u8; 64],
    },
}

impl Body {
    /// The body bytes for `kind`, padded to its command size.
    pub fn encode(&self, kind: MessageKind) -> Vec<u8> {
        let mut v = Vec::with_capacity(kind.body_len(Cra::Command));
        match self {
            Body::Plain => {}
            Body::CredentialUpdate { slot, owner, key } => {
                v.extend_from_slice(&[0xC1, 0x00, *slot]);
                v.extend_from_slice(&owner.to_be_bytes());
                v.extend_from_slice(key);
            }
            Body::Firmware {
                manufacturer,
                version,
                image_hash,
                signature,
            } => {
                v.extend_from_slice(&manufacturer.to_be_bytes());
                v.extend_from_slice(&version.to_be_bytes());
                v.extend_from_slice(image_hash);
                v.extend_from_slice(signature);
            }
        }
        v.resize(kind.body_len(Cra::Command).max(v.len()), 0);
        v
    }

    /// Parses the structured start of a command body of `kind`.
    pub fn decode(kind: MessageKind, b: &[u8]) -> Option<Body> {
        match kind {
            MessageKind::UpdateSecurityCredentials => {
                if b.len() < 76 || b[0] != 0xC1 {
                    return None;
                }
                Some(Body::CredentialUpdate {
                    slot: b[2],
                    owner: u64::from_be_bytes(b[3..11].try_into().ok()?),
                    key: b[11..76].try_into().ok()?,
                })
            }
            MessageKind::UpdateFirmware | MessageKind::ActivateFirmware => {
                if b.len() < 106 {
                    return None;
                }
                Some(Body::Firmware {
                    manufacturer: u16::from_be_bytes([b[0], b[1]]),
                    version: u64::from_be_bytes(b[2..10].try_into().ok()?),
                    image_hash: b[10..42].try_into().ok()?,
                    signature: b[42..106].try_into().ok()?,
                })
            }
            _ => Some(Body::Plain),
        }
    }
}

/// The bytes a manufacturer signs for a firmware image.
pub fn firmware_signed_bytes(manufacturer: u16, version: u64, image_hash: &[u8; 32]) -> Vec<u8> {
    let mut v = b"GBCS-FW".to_vec();
    v.extend_from_slice(&manufacturer.to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(image_hash);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(cra: Cra, kind: MessageKind) -> Grouping {
        Grouping {
            cra,
            counter: 5,
            originator: 0xAA,
            recipient: 0xBB,
            code: kind.code(),
        }
    }

    #[test]
    fn sizes_match_the_reference_test_data() {
        let sz =
            |k: MessageKind, cra: Cra| message_len(k.body_len(cra), Protection::required(k, cra));
        assert_eq!(sz(MessageKind::DisableSupply, Cra::Command), 146);
        assert_eq!(sz(MessageKind::DisableSupply, Cra::Response), 111);
        assert_eq!(sz(MessageKind::ReadInstantaneous, Cra::Command), 158);
        assert_eq!(sz(MessageKind::ReadInstantaneous, Cra::Response), 183);
        assert_eq!(sz(MessageKind::Alert, Cra::Alert), 152);
    }

    #[test]
    fn encode_decode_round_trip_and_parts() {
        let k = MessageKind::DisableSupply;
        let body = Body::Plain.encode(k);
        let sign = |b: &[u8]| {
            let mut s = [0u8; 64];
            s[0] = b.len() as u8;
            s
        };
        let mac = |b: &[u8]| [b.len() as u8; 12];
        let bytes = encode(&g(Cra::Command, k), &body, Some(&sign), Some(&mac));
        assert_eq!(bytes.len(), 146);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.grouping, g(Cra::Command, k));
        assert_eq!(d.body, &body[..]);
        assert_eq!(d.signature.unwrap()[0] as usize, d.signed_part.len());
        assert_eq!(d.mac.unwrap(), &[134u8; 12]);
        assert_eq!(d.maced_part.len(), 134);
    }

    #[test]
    fn malformed_bytes_never_panic() {
        let k = MessageKind::ReadInstantaneous;
        let mac = |_: &[u8]| [1u8; 12];
        let good = encode(
            &g(Cra::Command, k),
            &Body::Plain.encode(k),
            None,
            Some(&mac),
        );
        assert!(decode(&good).is_ok());
        // Every truncation, every single-byte corruption, and some garbage.
        for n in 0..good.len() {
            let _ = decode(&good[..n]);
        }
        for i in 0..good.len() {
            for x in [0x00u8, 0x40, 0xff, 0x01] {
                let mut b = good.clone();
                b[i] = x;
                let _ = decode(&b);
            }
        }
        let mut state = 0x1234_5678u32;
        for len in 0..400usize {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let _ = decode(&b);
            for kind in MessageKind::ALL {
                let _ = Body::decode(kind, &b);
            }
        }
    }
}
