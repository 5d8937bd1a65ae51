//! Key agreement and message authentication codes exactly as GBCS (Great
//! Britain Companion Specification) uses them, checked against every file of
//! the DCC's Reference Test Data Set (RTDS 4.5.0; `models/README.md`, source S1):
//!
//! * static-static ECDH on P-256 gives a shared secret `Z` (the x
//!   coordinate); `Z` is symmetric, so either side computes it, and it may be
//!   cached per pair since both keys are static;
//! * a per-message key (SP 800-56A concatenation KDF, one round): the first
//!   16 bytes of `SHA-256(00000001 ‖ Z ‖ OtherInfo)` with the 33-byte
//!   `OtherInfo = 60 85 74 06 08 03 00 ‖ originator EUI ‖ 09 ‖ mode ‖ counter ‖ recipient EUI`;
//! * the MAC: GMAC (AES-128-GCM over an empty plaintext) with IV
//!   `originator EUI ‖ 00000000` and additional data `11 00 00 00 00 00 ‖ GSA`,
//!   truncated to 12 bytes;
//! * encrypted payload blocks: AES-128-GCM under a mode-04 key, IV
//!   `device EUI ‖ 00000000`, additional data the single byte `31`, written
//!   as `31 00000000 ‖ ciphertext ‖ 12-byte tag`.

use super::curve::{mul_vartime, Affine};
use super::table::FixedBaseTable;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::AesGcm;
use ghash::universal_hash::UniversalHash;
use p256::elliptic_curve::bigint::U256;
use p256::Scalar;
use sha2::{Digest, Sha256};

/// A 12-byte truncated GCM authentication tag.
pub type MacTag = [u8; 12];

/// The KDF's AlgorithmID (the first 7 bytes of OtherInfo). Checked against
/// RTDS: any other value fails every MAC there.
pub const KDF_ALGORITHM_ID: [u8; 7] = [0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00];

/// The bytes before the GSA in a MAC's additional data: the security
/// control byte `11` and five zero bytes (RTDS fails with 5 or 7).
pub const MAC_AAD_PREFIX: [u8; 6] = [0x11, 0, 0, 0, 0, 0];

/// What a key is for, for key separation in the KDF (the byte after `09`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MacMode {
    /// A command to a device.
    Command = 1,
    /// A device's response.
    Response = 2,
    /// A device's alert.
    Alert = 3,
    /// An encrypted payload block.
    PayloadEncryption = 4,
}

type Aes128Gcm12 = AesGcm<aes::Aes128, U12, U12>;

/// The ECDH shared secret `Z` (x coordinate of `d·P`) for a peer point used once.
pub fn ecdh(d: &Scalar, peer: &Affine) -> Option<[u8; 32]> {
    let p = mul_vartime(peer, &U256::from(d).to_words()).to_affine()?;
    Some(p.x.to_bytes().into())
}

/// `Z` against a long-lived peer whose table is built (the ACB's key).
pub fn ecdh_with_table(d: &Scalar, peer_table: &FixedBaseTable) -> Option<[u8; 32]> {
    let p = peer_table.mul(&U256::from(d).to_words()).to_affine()?;
    Some(p.x.to_bytes().into())
}

/// The per-message AES key from `Z` and the message's identifiers.
pub fn derive_mac_key(
    z: &[u8; 32],
    originator: u64,
    recipient: u64,
    mode: MacMode,
    counter: u64,
) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    h.update(KDF_ALGORITHM_ID);
    h.update(originator.to_be_bytes());
    h.update([0x09, mode as u8]);
    h.update(counter.to_be_bytes());
    h.update(recipient.to_be_bytes());
    let d = h.finalize();
    d[..16].try_into().expect("16 of 32 bytes")
}

/// The full 16-byte GMAC tag with IV `eui ‖ 00000000` over the
/// concatenation of `aad_parts`, computed without copying them.
pub fn gmac(key: &[u8; 16], eui: u64, aad_parts: &[&[u8]]) -> [u8; 16] {
    let aes = aes::Aes128::new(key.into());
    let mut h = ghash::Block::default();
    aes.encrypt_block(&mut h);
    let mut gh = ghash::GHash::new(&h);
    let mut buf = ghash::Block::default();
    let mut fill = 0usize;
    let mut total = 0u64;
    for part in aad_parts {
        total += part.len() as u64;
        let mut p: &[u8] = part;
        if fill > 0 {
            let n = (16 - fill).min(p.len());
            buf[fill..fill + n].copy_from_slice(&p[..n]);
            fill += n;
            p = &p[n..];
            if fill < 16 {
                continue;
            }
            gh.update(std::slice::from_ref(&buf));
        }
        let whole = p.len() / 16 * 16;
        for c in p[..whole].chunks_exact(16) {
            let mut blk = ghash::Block::default();
            blk.copy_from_slice(c);
            gh.update(std::slice::from_ref(&blk));
        }
        let rest = &p[whole..];
        buf[..rest.len()].copy_from_slice(rest);
        fill = rest.len();
    }
    if fill > 0 {
        buf[fill..].fill(0);
        gh.update(std::slice::from_ref(&buf));
    }
    let mut lens = ghash::Block::default();
    lens[..8].copy_from_slice(&(total * 8).to_be_bytes());
    gh.update(std::slice::from_ref(&lens));
    let s = gh.finalize();
    let mut j0 = ghash::Block::default();
    j0[..8].copy_from_slice(&eui.to_be_bytes());
    j0[15] = 1;
    aes.encrypt_block(&mut j0);
    let mut tag = [0u8; 16];
    for i in 0..16 {
        tag[i] = s[i] ^ j0[i];
    }
    tag
}

/// The 12-byte MAC of a GSA by `originator` (the GSA's originator, even
/// when the ACB computes it).
pub fn gsa_mac(key: &[u8; 16], originator: u64, gsa: &[u8]) -> MacTag {
    let t = gmac(key, originator, &[&MAC_AAD_PREFIX, gsa]);
    t[..12].try_into().expect("12 of 16 bytes")
}

/// Checks a GSA's MAC (comparison over all 12 bytes).
pub fn gsa_mac_ok(key: &[u8; 16], originator: u64, gsa: &[u8], tag: &[u8]) -> bool {
    let want = gsa_mac(key, originator, gsa);
    tag.len() == 12 && want.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Encrypts a payload block: `31 00000000 ‖ ciphertext ‖ tag(12)`.
pub fn encrypt_block(key: &[u8; 16], device: u64, plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes128Gcm12::new(key.into());
    let mut iv = [0u8; 12];
    iv[..8].copy_from_slice(&device.to_be_bytes());
    let mut v = Vec::with_capacity(5 + plaintext.len() + 12);
    v.extend_from_slice(&[0x31, 0, 0, 0, 0]);
    let mut body = plaintext.to_vec();
    let tag = cipher
        .encrypt_in_place_detached((&iv).into(), &[0x31], &mut body)
        .expect("short plaintexts always encrypt");
    v.extend_from_slice(&body);
    v.extend_from_slice(&tag);
    v
}

/// Decrypts and authenticates a payload block; `None` if it is not one or
/// its tag fails.
pub fn decrypt_block(key: &[u8; 16], device: u64, block: &[u8]) -> Option<Vec<u8>> {
    if block.len() < 5 + 12 || block[..5] != [0x31, 0, 0, 0, 0] {
        return None;
    }
    let cipher = Aes128Gcm12::new(key.into());
    let mut iv = [0u8; 12];
    iv[..8].copy_from_slice(&device.to_be_bytes());
    let (ct, tag) = block[5..].split_at(block.len() - 5 - 12);
    let mut body = ct.to_vec();
    cipher
        .decrypt_in_place_detached((&iv).into(), &[0x31], &mut body, tag.into())
        .ok()?;
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{derive_key, KeyRole};

    #[test]
    fn both_sides_agree_and_tags_bind_everything() {
        let acb = derive_key(1, KeyRole::AcbKeyAgreement, 0);
        let dev = derive_key(1, KeyRole::DeviceKeyAgreement, 42);
        let z1 = ecdh(acb.scalar(), dev.public()).unwrap();
        let z2 = ecdh(dev.scalar(), acb.public()).unwrap();
        let t = FixedBaseTable::new(acb.public(), 8);
        let z3 = ecdh_with_table(dev.scalar(), &t).unwrap();
        assert_eq!(z1, z2);
        assert_eq!(z1, z3);
        // And equals p256's own ECDH.
        let stock = p256::ecdh::diffie_hellman(
            p256::SecretKey::from_bytes(&dev.scalar().to_bytes())
                .unwrap()
                .to_nonzero_scalar(),
            acb.public().to_p256(),
        );
        assert_eq!(&stock.raw_secret_bytes()[..], &z1);

        let k = derive_mac_key(&z1, 7, 42, MacMode::Command, 100);
        let tag = gsa_mac(&k, 7, b"command bytes");
        assert!(gsa_mac_ok(&k, 7, b"command bytes", &tag));
        assert!(!gsa_mac_ok(&k, 7, b"command bytez", &tag));
        assert!(!gsa_mac_ok(&k, 8, b"command bytes", &tag));
        let k2 = derive_mac_key(&z1, 7, 42, MacMode::Command, 101);
        assert!(
            !gsa_mac_ok(&k2, 7, b"command bytes", &tag),
            "counter is bound into the key"
        );
        let k3 = derive_mac_key(&z1, 7, 42, MacMode::Response, 100);
        assert_ne!(k, k3);
    }

    #[test]
    fn streaming_gmac_equals_aes_gcm() {
        let key = [0x5Au8; 16];
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0usize, 1, 5, 6, 15, 16, 17, 40, 199, 200] {
            for end in [split, 100.max(split), 200] {
                let (a, b) = data[..end].split_at(split);
                let cipher = Aes128Gcm12::new((&key).into());
                let mut iv = [0u8; 12];
                iv[..8].copy_from_slice(&0x1122_3344_5566_7788u64.to_be_bytes());
                let want = cipher
                    .encrypt_in_place_detached((&iv).into(), &data[..end], &mut [])
                    .unwrap();
                let got = gmac(&key, 0x1122_3344_5566_7788, &[a, b]);
                assert_eq!(&got[..12], &want[..], "split {split} end {end}");
            }
        }
    }

    #[test]
    fn payload_blocks_round_trip_and_bind_the_device() {
        let key = [9u8; 16];
        let b = encrypt_block(&key, 42, b"twenty-six bytes of reads!");
        assert_eq!(b.len(), 5 + 26 + 12);
        assert_eq!(
            decrypt_block(&key, 42, &b).unwrap(),
            b"twenty-six bytes of reads!"
        );
        assert!(decrypt_block(&key, 43, &b).is_none());
        let mut bad = b.clone();
        bad[10] ^= 1;
        assert!(decrypt_block(&key, 42, &bad).is_none());
        assert!(decrypt_block(&key, 42, &b[..10]).is_none());
    }
}
