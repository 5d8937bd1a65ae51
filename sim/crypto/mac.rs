//! Key agreement and message authentication codes as the GBCS (Great
//! Britain Companion Specification) suite defines them (GBCS; see `models/README.md`, source S1):
//!
//! * static-static ECDH on P-256 between the access control broker (ACB) and
//!   a device gives a shared secret `Z` (its x coordinate); `Z` is cached per
//!   pair by the caller, since both keys are static;
//! * a per-message key: the first 16 bytes of
//!   `SHA-256(0x00000001 ‖ Z ‖ OtherInfo)`, with
//!   `OtherInfo = algorithm id ‖ originator id ‖ 0x09 ‖ mode ‖ counter ‖ recipient id`;
//! * the MAC: AES-128-GCM over an empty plaintext with the message bytes as
//!   additional data, IV `originator id ‖ 0x00000000`, 12-byte tag.

use super::curve::{mul_vartime, Affine};
use super::table::FixedBaseTable;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes128;
use aes_gcm::AesGcm;
use p256::elliptic_curve::bigint::U256;
use p256::Scalar;
use sha2::{Digest, Sha256};

/// A 12-byte GCM authentication tag.
pub type MacTag = [u8; 12];

/// The KDF's algorithm identifier. Assumption: the 7-byte value below is
/// our reading of the GBCS KDF's AlgorithmID; any fixed value gives the same
/// security and message sizes, and it is written once, here.
pub const KDF_ALGORITHM_ID: [u8; 7] = [0x60, 0x85, 0x74, 0x05, 0x08, 0x03, 0x00];

/// What a MAC'd message is, for key separation in the KDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MacMode {
    /// A command to a device.
    Command = 1,
    /// A device's response.
    Response = 2,
    /// A device's alert.
    Alert = 3,
}

type Aes128Gcm12 = AesGcm<Aes128, U12, U12>;

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

/// The 12-byte GCM tag over `aad` (the bytes the MAC protects).
pub fn mac(key: &[u8; 16], originator: u64, aad: &[u8]) -> MacTag {
    let cipher = Aes128Gcm12::new(key.into());
    let mut iv = [0u8; 12];
    iv[..8].copy_from_slice(&originator.to_be_bytes());
    let tag = cipher
        .encrypt_in_place_detached((&iv).into(), aad, &mut [])
        .expect("empty plaintext always encrypts");
    tag.into()
}

/// Checks a tag (comparison over all 12 bytes).
pub fn mac_ok(key: &[u8; 16], originator: u64, aad: &[u8], tag: &[u8]) -> bool {
    let want = mac(key, originator, aad);
    tag.len() == 12 && want.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
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
        let tag = mac(&k, 7, b"command bytes");
        assert!(mac_ok(&k, 7, b"command bytes", &tag));
        assert!(!mac_ok(&k, 7, b"command bytez", &tag));
        assert!(!mac_ok(&k, 8, b"command bytes", &tag));
        let k2 = derive_mac_key(&z1, 7, 42, MacMode::Command, 101);
        assert!(
            !mac_ok(&k2, 7, b"command bytes", &tag),
            "counter is bound into the key"
        );
        let k3 = derive_mac_key(&z1, 7, 42, MacMode::Response, 100);
        assert_ne!(k, k3);
    }
}
