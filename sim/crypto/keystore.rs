//! A folder of party keys in the layout of the DCC's Reference Test Data Set
//! (RTDS) keystore: `<eui>-ds.pem` / `<eui>-ka.pem` (an X.509 certificate
//! or an SPKI public key) and `<eui>-ds.key` / `<eui>-ka.key` (PKCS#8
//! private keys), with `-pp-ka` for a supplier's prepayment key-agreement
//! key. "ds" is digital signing, "ka" key agreement; the EUI (EUI-64, the
//! party's 64-bit identifier) is 16 hex digits.
//!
//! Certificates are parsed by [`super::x509::parse_certificate`] (RustCrypto's
//! `x509-cert`). Validity dates are not checked (RTDS's expired in 2025).

use super::curve::Affine;
use super::x509::{parse_certificate, CertInfo};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use p256::Scalar;
use std::collections::BTreeMap;
use std::path::Path;

/// Which key of a party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyUse {
    /// Digital signing.
    Ds,
    /// Key agreement.
    Ka,
    /// Prepayment key agreement (a supplier's top-up key).
    PpKa,
}

impl KeyUse {
    /// The file-name infix.
    pub fn infix(&self) -> &'static str {
        match self {
            KeyUse::Ds => "ds",
            KeyUse::Ka => "ka",
            KeyUse::PpKa => "pp-ka",
        }
    }
}

/// One key of one party.
#[derive(Clone, Debug, Default)]
pub struct KeyPair {
    /// The public key.
    pub public: Option<Affine>,
    /// The private scalar.
    pub private: Option<Scalar>,
    /// The certificate, when the public key came in one.
    pub cert: Option<CertInfo>,
}

/// Every key found in a keystore folder.
#[derive(Clone, Debug, Default)]
pub struct Keystore {
    keys: BTreeMap<(u64, KeyUse), KeyPair>,
}

impl Keystore {
    /// Loads every `<eui>-<use>.pem|.key` file of `dir`; other files are ignored.
    pub fn load(dir: &Path) -> Result<Keystore, String> {
        let mut ks = Keystore::default();
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("keystore {}: {e}", dir.display()))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let Some((eui, use_, ext)) = parse_name(&name) else {
                continue;
            };
            let bytes = std::fs::read(dir.join(&name)).map_err(|e| format!("{name}: {e}"))?;
            let slot = ks.keys.entry((eui, use_)).or_default();
            match ext {
                "pem" => {
                    if bytes.starts_with(b"-----BEGIN CERTIFICATE") {
                        let (p, info) =
                            parse_certificate(&bytes).map_err(|e| format!("{name}: {e}"))?;
                        slot.public = Some(p);
                        slot.cert = Some(info);
                    } else {
                        let text =
                            std::str::from_utf8(&bytes).map_err(|e| format!("{name}: {e}"))?;
                        let pk = p256::PublicKey::from_public_key_pem(text)
                            .map_err(|e| format!("{name}: {e}"))?;
                        slot.public = Affine::from_p256(pk.as_affine());
                    }
                }
                _ => {
                    let text = std::str::from_utf8(&bytes).map_err(|e| format!("{name}: {e}"))?;
                    let sk = p256::SecretKey::from_pkcs8_pem(text)
                        .map_err(|e| format!("{name}: {e}"))?;
                    slot.private = Some(*sk.to_nonzero_scalar());
                    if slot.public.is_none() {
                        slot.public = Affine::from_p256(sk.public_key().as_affine());
                    }
                }
            }
        }
        if ks.keys.is_empty() {
            return Err(format!(
                "keystore {}: no <eui>-ds|ka|pp-ka.pem|key files",
                dir.display()
            ));
        }
        Ok(ks)
    }

    /// Adds a key (for keystores built in memory).
    pub fn insert(&mut self, eui: u64, use_: KeyUse, pair: KeyPair) {
        self.keys.insert((eui, use_), pair);
    }

    /// A party's key.
    pub fn get(&self, eui: u64, use_: KeyUse) -> Option<&KeyPair> {
        self.keys.get(&(eui, use_))
    }

    /// A public key.
    pub fn public(&self, eui: u64, use_: KeyUse) -> Option<&Affine> {
        self.get(eui, use_)?.public.as_ref()
    }

    /// A private key.
    pub fn private(&self, eui: u64, use_: KeyUse) -> Option<&Scalar> {
        self.get(eui, use_)?.private.as_ref()
    }

    /// Whether `eui` is a device: its certificate has no organisational
    /// role (device certificates name the device in subjectAltName instead).
    pub fn is_device(&self, eui: u64) -> bool {
        [KeyUse::Ds, KeyUse::Ka].iter().any(|u| {
            self.get(eui, *u)
                .and_then(|k| k.cert.as_ref())
                .is_some_and(|c| c.role.is_none())
        })
    }

    /// Number of keys loaded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// `00db1234567890a0-ka.pem` → (EUI, use, extension).
fn parse_name(name: &str) -> Option<(u64, KeyUse, &str)> {
    let (stem, ext) = name.rsplit_once('.')?;
    if ext != "pem" && ext != "key" {
        return None;
    }
    let (eui, rest) = stem.split_once('-')?;
    if eui.len() != 16 {
        return None;
    }
    let eui = u64::from_str_radix(eui, 16).ok()?;
    let use_ = match rest {
        "ds" => KeyUse::Ds,
        "ka" => KeyUse::Ka,
        "pp-ka" => KeyUse::PpKa,
        _ => return None,
    };
    Some((eui, use_, ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_name("90b3d51f30010000-pp-ka.key"),
            Some((0x90B3_D51F_3001_0000, KeyUse::PpKa, "key"))
        );
        assert_eq!(
            parse_name("00DB1234567890A0-ds.pem"),
            Some((0x00DB_1234_5678_90A0, KeyUse::Ds, "pem"))
        );
        assert_eq!(parse_name("README.md"), None);
        assert_eq!(parse_name("1234-ds.pem"), None);
    }
}
