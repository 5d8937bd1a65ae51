//! The GBCS (Great Britain Companion Specification) frame: the
//! General-Signing APDU (GSA) and the MAC wrapper (DLMS general-ciphering)
//! around it, byte for byte as in the DCC's Reference Test Data Set (RTDS
//! 4.5.0; `models/README.md`, source S1).
//!
//! ```text
//! MAC wrapper  DD 00 00 00 00 00 00 ‖ len(5+|GSA|+12) ‖ 11 ‖ 00000000 ‖ GSA ‖ MAC(12)
//! GSA          DF ‖ 09 ‖ CRA flag ‖ originator counter (8)
//!              ‖ 08 ‖ originator EUI ‖ 08 ‖ recipient EUI
//!              ‖ 00 | 0C + date-time(12)
//!              ‖ len ‖ other-info (message code (2) [‖ remote party (8) ‖ its counter (8) ‖ suppl. counter (8)] [‖ certificate])
//!              ‖ len ‖ content (DLMS, GBZ or DER)
//!              ‖ 00 | 40 + r ‖ s        (absent altogether in a pre-command)
//! ```
//!
//! "len" is an A-XDR length: one byte below 0x80, else `81 nn` or `82 nnnn`.
//! The originator's signature covers `GSA[1 .. end of content]` (all but the
//! `DF` tag and the signature field, which is exactly a pre-command without
//! its tag). The MAC is a GMAC over `11 00 00 00 00 00 ‖ GSA`
//! ([`super::super::mac`]). [`parse`] never panics on any byte string.

use super::Cra;

/// Tag of the General-Signing APDU.
pub const GSA_TAG: u8 = 0xDF;
/// Tag of the MAC wrapper (general-ciphering).
pub const WRAPPER_TAG: u8 = 0xDD;
/// The fixed bytes of the wrapper after its tag: five empty octet strings
/// (transaction id, originator and recipient system titles, date-time,
/// other-information) and an absent key-info.
const WRAPPER_EMPTY: [u8; 6] = [0; 6];
/// Security control byte: authenticated only.
pub const SECURITY_CONTROL: u8 = 0x11;
/// Bytes of a MAC.
pub const MAC_LEN: usize = 12;
/// Bytes of a date-time.
pub const DATE_TIME_LEN: usize = 12;

/// The fields a sender chooses for a GSA header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Command, response or alert.
    pub cra: Cra,
    /// The originator counter (transaction id).
    pub counter: u64,
    /// Originator EUI-64.
    pub originator: u64,
    /// Recipient EUI-64.
    pub recipient: u64,
    /// The DLMS date-time (12 bytes), if present.
    pub date_time: Option<[u8; DATE_TIME_LEN]>,
    /// The message code (use case).
    pub code: u16,
}

/// A parsed message: its header fields and where each part lies in the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Whether the GSA is inside a MAC wrapper.
    pub wrapped: bool,
    /// The GSA: from `DF` to the end of the signature field (or of the
    /// content, for a pre-command).
    pub gsa: &'a [u8],
    /// Command, response or alert.
    pub cra: Cra,
    /// Originator counter.
    pub counter: u64,
    /// Originator EUI-64.
    pub originator: u64,
    /// Recipient EUI-64.
    pub recipient: u64,
    /// Date-time, if present.
    pub date_time: Option<&'a [u8]>,
    /// Message code.
    pub code: u16,
    /// Supplementary remote-party EUI (other-info bytes 2..10), if present.
    pub remote_party: Option<u64>,
    /// The remote party's counter (other-info bytes 10..18), if present.
    pub remote_counter: Option<u64>,
    /// Supplementary originator counter (other-info bytes 18..26), if present.
    pub suppl_counter: Option<u64>,
    /// The whole other-information field (message code first).
    pub other_info: &'a [u8],
    /// The content (DLMS, GBZ or DER).
    pub content: &'a [u8],
    /// What the signature covers: `GSA[1 .. end of content]`.
    pub signed_part: &'a [u8],
    /// `false` for a pre-command (no signature field at all).
    pub has_signature_field: bool,
    /// The signature (r ‖ s, 64 bytes), if present.
    pub signature: Option<&'a [u8]>,
    /// The MAC (12 bytes), if wrapped.
    pub mac: Option<&'a [u8]>,
}

/// Why bytes are not a GBCS message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The bytes end before a field does.
    Truncated,
    /// A tag or fixed byte has the wrong value.
    BadTag(&'static str),
    /// A length disagrees with the bytes present.
    BadLength(&'static str),
    /// Bytes after the end of the message.
    TrailingBytes,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Truncated => write!(f, "truncated"),
            FrameError::BadTag(w) => write!(f, "bad {w}"),
            FrameError::BadLength(w) => write!(f, "bad length of {w}"),
            FrameError::TrailingBytes => write!(f, "bytes after the end of the message"),
        }
    }
}

/// Appends an A-XDR length.
pub fn put_len(v: &mut Vec<u8>, n: usize) {
    assert!(
        n <= 0xFFFF,
        "A-XDR lengths above 65535 are not used in GBCS"
    );
    if n < 0x80 {
        v.push(n as u8);
    } else if n <= 0xFF {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.push(0x82);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    }
}

/// A reader over bytes that fails instead of panicking.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.at
    }
    /// Bytes left.
    pub fn rest(&self) -> &'a [u8] {
        &self.b[self.at..]
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], FrameError> {
        let end = self.at.checked_add(n).ok_or(FrameError::Truncated)?;
        let s = self.b.get(self.at..end).ok_or(FrameError::Truncated)?;
        self.at = end;
        Ok(s)
    }
    /// The next byte.
    pub fn byte(&mut self) -> Result<u8, FrameError> {
        Ok(self.take(1)?[0])
    }
    /// The next byte, which must be `want`.
    pub fn expect(&mut self, want: u8, what: &'static str) -> Result<(), FrameError> {
        if self.byte()? != want {
            return Err(FrameError::BadTag(what));
        }
        Ok(())
    }
    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, FrameError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64, FrameError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_be_bytes(a))
    }
    /// An A-XDR length (shortest form only, so each message has one encoding).
    pub fn len(&mut self, what: &'static str) -> Result<usize, FrameError> {
        let first = self.byte()?;
        match first {
            0..=0x7F => Ok(first as usize),
            0x81 => match self.byte()? {
                n @ 0x80..=0xFF => Ok(n as usize),
                _ => Err(FrameError::BadLength(what)),
            },
            0x82 => match self.u16()? {
                n @ 0x100..=0xFFFF => Ok(n as usize),
                _ => Err(FrameError::BadLength(what)),
            },
            _ => Err(FrameError::BadLength(what)),
        }
    }
    /// A length followed by that many bytes.
    pub fn sized(&mut self, what: &'static str) -> Result<&'a [u8], FrameError> {
        let n = self.len(what)?;
        self.take(n)
    }
}

fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..i + 8)
        .map(|s| u64::from_be_bytes(s.try_into().expect("8 bytes")))
}

/// Parses a GSA (with or without its signature field) from `r`.
fn parse_gsa<'a>(r: &mut Reader<'a>, wrapped: bool) -> Result<Frame<'a>, FrameError> {
    let start = r.pos();
    let all = r.rest();
    r.expect(GSA_TAG, "GSA tag")?;
    r.expect(0x09, "transaction-id length")?;
    let cra = match r.byte()? {
        1 => Cra::Command,
        2 => Cra::Response,
        3 => Cra::Alert,
        _ => return Err(FrameError::BadTag("CRA flag")),
    };
    let counter = r.u64()?;
    r.expect(0x08, "originator length")?;
    let originator = r.u64()?;
    r.expect(0x08, "recipient length")?;
    let recipient = r.u64()?;
    let date_time = match r.byte()? {
        0x00 => None,
        0x0C => Some(r.take(DATE_TIME_LEN)?),
        _ => return Err(FrameError::BadTag("date-time length")),
    };
    let other_info = r.sized("other-info")?;
    if other_info.len() < 2 {
        return Err(FrameError::BadLength("other-info"));
    }
    let code = u16::from_be_bytes([other_info[0], other_info[1]]);
    let content = r.sized("content")?;
    let content_end = r.pos() - start;
    let (has_signature_field, signature) = if r.rest().len() == if wrapped { MAC_LEN } else { 0 } {
        (false, None)
    } else {
        match r.byte()? {
            0x00 => (true, None),
            0x40 => (true, Some(r.take(64)?)),
            _ => return Err(FrameError::BadTag("signature length")),
        }
    };
    let gsa_len = r.pos() - start;
    Ok(Frame {
        wrapped,
        gsa: &all[..gsa_len],
        cra,
        counter,
        originator,
        recipient,
        date_time,
        code,
        remote_party: u64_at(other_info, 2),
        remote_counter: u64_at(other_info, 10),
        suppl_counter: u64_at(other_info, 18),
        other_info,
        content,
        signed_part: &all[1..content_end],
        has_signature_field,
        signature,
        mac: None,
    })
}

/// Parses one whole message: a MAC-wrapped GSA, a bare GSA, or a
/// pre-command (a GSA without its signature field). Never panics.
pub fn parse(b: &[u8]) -> Result<Frame<'_>, FrameError> {
    let mut r = Reader::new(b);
    match b.first() {
        Some(&WRAPPER_TAG) => {
            r.take(1)?;
            if r.take(WRAPPER_EMPTY.len())? != WRAPPER_EMPTY {
                return Err(FrameError::BadTag("wrapper header"));
            }
            let n = r.len("wrapper")?;
            if n != r.rest().len() {
                return Err(FrameError::BadLength("wrapper"));
            }
            r.expect(SECURITY_CONTROL, "security control")?;
            if r.take(4)? != [0; 4] {
                return Err(FrameError::BadTag("invocation counter"));
            }
            let mut f = parse_gsa(&mut r, true)?;
            if !f.has_signature_field {
                return Err(FrameError::BadTag("signature field"));
            }
            f.mac = Some(r.take(MAC_LEN)?);
            if !r.rest().is_empty() {
                return Err(FrameError::TrailingBytes);
            }
            Ok(f)
        }
        Some(&GSA_TAG) => {
            let f = parse_gsa(&mut r, false)?;
            if !r.rest().is_empty() {
                return Err(FrameError::TrailingBytes);
            }
            Ok(f)
        }
        Some(_) => Err(FrameError::BadTag("first byte")),
        None => Err(FrameError::Truncated),
    }
}

/// Writes the GSA up to and including the content: a pre-command.
pub fn precommand(h: &Header, content: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(40 + content.len() + 80);
    write_gsa_head(&mut v, h, content);
    v
}

fn write_gsa_head(v: &mut Vec<u8>, h: &Header, content: &[u8]) {
    v.extend_from_slice(&[GSA_TAG, 0x09, h.cra as u8]);
    v.extend_from_slice(&h.counter.to_be_bytes());
    v.push(0x08);
    v.extend_from_slice(&h.originator.to_be_bytes());
    v.push(0x08);
    v.extend_from_slice(&h.recipient.to_be_bytes());
    match &h.date_time {
        None => v.push(0x00),
        Some(dt) => {
            v.push(0x0C);
            v.extend_from_slice(dt);
        }
    }
    v.push(2);
    v.extend_from_slice(&h.code.to_be_bytes());
    put_len(v, content.len());
    v.extend_from_slice(content);
}

/// Produces a signature (r ‖ s) over the signed part.
pub type SignFn<'a> = &'a dyn Fn(&[u8]) -> [u8; 64];
/// Produces the 12-byte MAC over a GSA (the caller's GMAC adds the 6-byte prefix).
pub type MacFn<'a> = &'a dyn Fn(&[u8]) -> [u8; MAC_LEN];

/// Builds a whole message: the GSA with the signature from `sign` (or the
/// empty signature field), wrapped and MAC'd when `mac` is given.
pub fn build(
    h: &Header,
    content: &[u8],
    sign: Option<SignFn<'_>>,
    mac: Option<MacFn<'_>>,
) -> Vec<u8> {
    let mut gsa = Vec::with_capacity(48 + content.len() + 65);
    write_gsa_head(&mut gsa, h, content);
    match sign {
        Some(f) => {
            let sig = f(&gsa[1..]);
            gsa.push(0x40);
            gsa.extend_from_slice(&sig);
        }
        None => gsa.push(0x00),
    }
    let Some(mac) = mac else { return gsa };
    wrap(&gsa, &mac(&gsa))
}

/// Puts a GSA and its MAC in the MAC wrapper.
pub fn wrap(gsa: &[u8], tag: &[u8; MAC_LEN]) -> Vec<u8> {
    let mut v = Vec::with_capacity(gsa.len() + 30);
    v.push(WRAPPER_TAG);
    v.extend_from_slice(&WRAPPER_EMPTY);
    put_len(&mut v, 5 + gsa.len() + MAC_LEN);
    v.push(SECURITY_CONTROL);
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(gsa);
    v.extend_from_slice(tag);
    v
}

/// Appends the signature field (`40 ‖ r ‖ s`) to a pre-command: the GSA the
/// DCC then wraps and MACs.
pub fn sign_precommand(pre: &[u8], sig: &[u8; 64]) -> Vec<u8> {
    let mut v = Vec::with_capacity(pre.len() + 65);
    v.extend_from_slice(pre);
    v.push(0x40);
    v.extend_from_slice(sig);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h() -> Header {
        Header {
            cra: Cra::Command,
            counter: 1000,
            originator: 0x90B3_D51F_3001_0000,
            recipient: 0x00DB_1234_5678_90A0,
            date_time: None,
            code: 0x0050,
        }
    }

    #[test]
    fn build_parse_round_trip() {
        let content = [0xD9u8; 21];
        let sign = |b: &[u8]| {
            let mut s = [0u8; 64];
            s[0] = b.len() as u8;
            s
        };
        let mac = |b: &[u8]| [b.len() as u8; MAC_LEN];
        let m = build(&h(), &content, Some(&sign), Some(&mac));
        assert_eq!(m.len(), 146, "the size of RTDS's ECS43 command");
        let f = parse(&m).unwrap();
        assert!(f.wrapped && f.has_signature_field);
        assert_eq!((f.cra, f.counter, f.code), (Cra::Command, 1000, 0x0050));
        assert_eq!(f.content, &content[..]);
        assert_eq!(f.signed_part.len(), 54);
        assert_eq!(f.signature.unwrap()[0], 54);
        assert_eq!(f.mac.unwrap(), &[120u8; 12]);
        assert_eq!(f.gsa.len(), 120);
        let pre = precommand(&h(), &content);
        assert_eq!(pre.len(), 55);
        assert_eq!(&pre[1..], f.signed_part);
        let p = parse(&pre).unwrap();
        assert!(!p.has_signature_field && p.signature.is_none() && p.mac.is_none());
    }

    #[test]
    fn lengths_use_the_shortest_form() {
        for n in [0usize, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF] {
            let mut v = Vec::new();
            put_len(&mut v, n);
            let mut r = Reader::new(&v);
            assert_eq!(r.len("x").unwrap(), n);
            assert!(r.rest().is_empty());
        }
        assert!(Reader::new(&[0x81, 0x10]).len("x").is_err());
        assert!(Reader::new(&[0x82, 0x00, 0x10]).len("x").is_err());
        assert!(Reader::new(&[0x83, 0, 0, 1]).len("x").is_err());
    }

    #[test]
    fn parse_never_panics() {
        let mac = |_: &[u8]| [7u8; MAC_LEN];
        let good = build(&h(), &[1, 2, 3], None, Some(&mac));
        for n in 0..good.len() {
            assert!(parse(&good[..n]).is_err());
        }
        for i in 0..good.len() {
            for x in 0..=255u8 {
                let mut b = good.clone();
                b[i] = x;
                let _ = parse(&b);
            }
        }
        let mut s = 0x9E37_79B9u32;
        for len in 0..300usize {
            let mut b: Vec<u8> = (0..len)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    s as u8
                })
                .collect();
            let _ = parse(&b);
            if !b.is_empty() {
                b[0] = GSA_TAG;
                let _ = parse(&b);
                b[0] = WRAPPER_TAG;
                let _ = parse(&b);
            }
        }
    }
}
