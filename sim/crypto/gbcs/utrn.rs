//! The prepayment top-up token: UTRN (Unique Transaction Reference Number),
//! 20 decimal digits that carry a credit value and its protection, as in
//! GBCS service request 2.2 (CS01a/CS01b) and checked against the DCC's
//! reference test data (RTDS 4.5.0; `models/README.md`, source S1).
//!
//! ```text
//! hi32  = 0000000 ‖ counter bits 41..32 (10) ‖ value class (2) ‖ value (13)
//! lo32  = last 4 bytes of a GMAC tag under the supplier's prepayment key
//! PTUT  = hi32 ‖ lo32 (u64);  PPTD = PTUT + 7394156990786306048 (19 digits)
//! UTRN  = PPTD ‖ Verhoeff-style check digit
//! ```
//!
//! The tag key is the KDF of ECDH(supplier's prepayment key-agreement key ×
//! device key-agreement key) with the supplier as originator, mode 01, the
//! counter and the device as recipient; IV `supplier ‖ 00000000`; additional
//! data `11 00 00 00 00 00 ‖ supplier ‖ device ‖ 01 ‖ counter ‖ hi32`. A
//! supplier's ordinary key-agreement key does not make valid tokens.

use crate::crypto::mac::{derive_mac_key, gmac, MacMode, MAC_AAD_PREFIX};

/// PPTD − PTUT.
pub const PTUT_OFFSET: u64 = 7_394_156_990_786_306_048;

/// Value class of a top-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ValueClass {
    /// The value is in pennies.
    Pennies = 0,
    /// The value is in pounds.
    Pounds = 1,
}

/// What a UTRN says, once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Counter bits 41..32.
    pub counter_bits: u16,
    /// Value class.
    pub class: u8,
    /// Value (13 bits).
    pub value: u16,
    /// The 32 bits of the tag.
    pub tag: u32,
}

/// Why a UTRN is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UtrnError {
    /// Not 20 decimal digits.
    NotDigits,
    /// The check digit is wrong.
    CheckDigit,
    /// Below the PTUT offset or with high bits set.
    OutOfRange,
    /// The counter bits differ from the message counter's.
    CounterMismatch,
    /// The tag does not verify under the supplier's prepayment key.
    BadTag,
}

const D5: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P: [u8; 10] = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4];

fn p_pow(k: usize, mut x: u8) -> u8 {
    for _ in 0..k {
        x = P[x as usize];
    }
    x
}

/// The fold over 20 digits; a valid UTRN ends at 0.
fn fold(digits: &[u8; 20]) -> u8 {
    digits.iter().enumerate().fold(0u8, |acc, (j, &d)| {
        D5[acc as usize][p_pow((4 + j) % 8, d) as usize]
    })
}

/// The high 32 bits of a token.
pub fn hi32(counter: u64, class: ValueClass, value: u16) -> u32 {
    (((counter >> 32) & 0x3FF) as u32) << 15 | (class as u32) << 13 | (value as u32 & 0x1FFF)
}

/// The 32-bit tag of a token for `device` at `counter`. `z_pp` is the ECDH
/// secret of the supplier's prepayment key-agreement key and the device's.
pub fn tag(z_pp: &[u8; 32], supplier: u64, device: u64, counter: u64, hi: u32) -> u32 {
    let key = derive_mac_key(z_pp, supplier, device, MacMode::Command, counter);
    let t = gmac(
        &key,
        supplier,
        &[
            &MAC_AAD_PREFIX,
            &supplier.to_be_bytes(),
            &device.to_be_bytes(),
            &[0x01],
            &counter.to_be_bytes(),
            &hi.to_be_bytes(),
        ],
    );
    u32::from_be_bytes([t[12], t[13], t[14], t[15]])
}

/// The 20 ASCII digits of a token.
pub fn encode(hi: u32, tag: u32) -> [u8; 20] {
    let pptd = ((hi as u64) << 32 | tag as u64) + PTUT_OFFSET;
    let mut d = [0u8; 20];
    let mut x = pptd;
    for i in (0..19).rev() {
        d[i] = (x % 10) as u8;
        x /= 10;
    }
    d[19] = (0..10)
        .find(|&c| {
            d[19] = c;
            fold(&d) == 0
        })
        .expect("a Verhoeff check digit always exists");
    d.map(|x| b'0' + x)
}

/// Builds the token a supplier issues.
pub fn issue(
    z_pp: &[u8; 32],
    supplier: u64,
    device: u64,
    counter: u64,
    class: ValueClass,
    value: u16,
) -> [u8; 20] {
    let hi = hi32(counter, class, value);
    encode(hi, tag(z_pp, supplier, device, counter, hi))
}

/// Parses 20 ASCII digits: check digit and range.
pub fn parse(ascii: &[u8]) -> Result<Token, UtrnError> {
    let digits: [u8; 20] = ascii
        .iter()
        .map(|c| c.wrapping_sub(b'0'))
        .collect::<Vec<u8>>()
        .try_into()
        .map_err(|_| UtrnError::NotDigits)?;
    if digits.iter().any(|&d| d > 9) {
        return Err(UtrnError::NotDigits);
    }
    if fold(&digits) != 0 {
        return Err(UtrnError::CheckDigit);
    }
    let pptd = digits[..19].iter().fold(0u64, |a, &d| a * 10 + d as u64);
    let ptut = pptd.checked_sub(PTUT_OFFSET).ok_or(UtrnError::OutOfRange)?;
    let hi = (ptut >> 32) as u32;
    if hi >> 25 != 0 {
        return Err(UtrnError::OutOfRange);
    }
    Ok(Token {
        counter_bits: (hi >> 15) as u16,
        class: ((hi >> 13) & 3) as u8,
        value: (hi & 0x1FFF) as u16,
        tag: ptut as u32,
    })
}

/// Checks a token carried by a message with counter `counter` to `device`.
pub fn check(
    ascii: &[u8],
    z_pp: &[u8; 32],
    supplier: u64,
    device: u64,
    counter: u64,
) -> Result<Token, UtrnError> {
    let t = parse(ascii)?;
    if t.counter_bits as u64 != (counter >> 32) & 0x3FF {
        return Err(UtrnError::CounterMismatch);
    }
    let hi = (t.counter_bits as u32) << 15 | (t.class as u32) << 13 | t.value as u32;
    if tag(z_pp, supplier, device, counter, hi) != t.tag {
        return Err(UtrnError::BadTag);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_every_digit_change_is_caught() {
        let z = [3u8; 32];
        let u = issue(&z, 0x90B3, 0x00DB, 5 << 32, ValueClass::Pounds, 10);
        let t = check(&u, &z, 0x90B3, 0x00DB, 5 << 32).unwrap();
        assert_eq!((t.counter_bits, t.class, t.value), (5, 1, 10));
        for i in 0..20 {
            for c in b'0'..=b'9' {
                if c == u[i] {
                    continue;
                }
                let mut b = u;
                b[i] = c;
                assert!(check(&b, &z, 0x90B3, 0x00DB, 5 << 32).is_err());
            }
        }
        assert_eq!(
            check(&u, &z, 0x90B3, 0x00DB, 6 << 32),
            Err(UtrnError::CounterMismatch)
        );
        assert_eq!(
            check(&u, &[4u8; 32], 0x90B3, 0x00DB, 5 << 32),
            Err(UtrnError::BadTag)
        );
        assert_eq!(parse(b"12345678910121314156"), Err(UtrnError::CheckDigit));
        assert_eq!(parse(b"1234"), Err(UtrnError::NotDigits));
    }
}
