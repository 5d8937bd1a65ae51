//! Public keys by fingerprint, shared by every device.
//!
//! A device's trust anchors are 8-byte fingerprints (the first 8 bytes of
//! SHA-256 of the SEC1 key), not keys: millions of meters hold the same few
//! supplier keys, and each key's verifier (with its precomputed table) exists
//! once here. Fingerprints depend only on key bytes, so the registry's
//! contents do not depend on the order threads add keys in.
//!
//! A trust-anchor cell on a GBCS device holds an X.509 certificate; here the
//! registry keeps the certificate (DER) that installed each fingerprint, so
//! a cell's fingerprint resolves to its certificate as well as its key.

use super::ecdsa::VerifyKey;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// A key's fingerprint.
pub type KeyFp = u64;

/// The fingerprint of SEC1 key bytes.
pub fn fingerprint(sec1: &[u8]) -> KeyFp {
    let d = Sha256::digest(sec1);
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Keys by fingerprint.
#[derive(Default)]
pub struct KeyRegistry {
    keys: RwLock<BTreeMap<KeyFp, Arc<VerifyKey>>>,
    certs: RwLock<BTreeMap<KeyFp, Arc<[u8]>>>,
}

impl std::fmt::Debug for KeyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyRegistry({} keys)",
            self.keys.read().map(|k| k.len()).unwrap_or(0)
        )
    }
}

impl KeyRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds SEC1 key bytes (if they are a valid point) and returns the fingerprint.
    pub fn intern(&self, sec1: &[u8]) -> Option<KeyFp> {
        let fp = fingerprint(sec1);
        if self.keys.read().expect("registry lock").contains_key(&fp) {
            return Some(fp);
        }
        let vk = VerifyKey::from_sec1(sec1)?;
        self.keys
            .write()
            .expect("registry lock")
            .entry(fp)
            .or_insert_with(|| Arc::new(vk));
        Some(fp)
    }

    /// Adds a certificate's key (`sec1`, read from `cert`) and keeps the
    /// certificate behind its fingerprint; returns the fingerprint.
    pub fn intern_cert(&self, sec1: &[u8], cert: &Arc<[u8]>) -> Option<KeyFp> {
        let fp = self.intern(sec1)?;
        if !self.certs.read().expect("registry lock").contains_key(&fp) {
            self.certs
                .write()
                .expect("registry lock")
                .entry(fp)
                .or_insert_with(|| cert.clone());
        }
        Some(fp)
    }

    /// The certificate behind a fingerprint, if one installed it.
    pub fn cert(&self, fp: KeyFp) -> Option<Arc<[u8]>> {
        self.certs.read().expect("registry lock").get(&fp).cloned()
    }

    /// The verifier for a fingerprint.
    pub fn get(&self, fp: KeyFp) -> Option<Arc<VerifyKey>> {
        self.keys.read().expect("registry lock").get(&fp).cloned()
    }
}
