//! SMKI (Smart Metering Key Infrastructure): the DCC's public key
//! infrastructure, reduced to what the simulator needs.
//!
//! * A root CA, an organisation issuing CA (for DCC users, the ACB and
//!   manufacturers) and a device issuing CA, each with a real P-256 key.
//! * Compact certificates: subject, issuer, role, key usage, validity and
//!   serial, signed by the issuer with ECDSA P-256/SHA-256. The encoding is
//!   fixed-size (108 bytes to be signed plus a 64-byte signature), not X.509:
//!   the fields and the checks are those of SMKI, the bytes are ours.
//! * Chain verification up to the root, and a revocation list, itself signed
//!   by the organisation CA, that the DSP (Data Service Provider) checks.

use super::ecdsa::{SigningKey, VerifyKey};
use super::keys::{derive_key, KeyRole};
use super::Affine;
use std::collections::BTreeSet;

/// What a certified key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum KeyUsage {
    /// Signing messages (digitalSignature).
    Signing = 1,
    /// Static ECDH key agreement (keyAgreement).
    KeyAgreement = 2,
    /// Signing certificates and revocation lists (keyCertSign, cRLSign).
    CertSign = 3,
}

/// The role a certificate's subject holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum CertRole {
    /// The root CA.
    Root = 1,
    /// The organisation issuing CA.
    OrgCa = 2,
    /// The device issuing CA.
    DeviceCa = 3,
    /// An import (electricity) supplier.
    ImportSupplier = 10,
    /// A gas supplier.
    GasSupplier = 11,
    /// An electricity distribution network operator.
    ElectricityDistributor = 12,
    /// A gas transporter.
    GasTransporter = 13,
    /// Any other DCC user.
    OtherUser = 14,
    /// The DCC's access control broker (ACB).
    AccessControlBroker = 20,
    /// A WAN (wide-area network) provider.
    WanProvider = 21,
    /// The SMKI recovery key holder.
    Recovery = 22,
    /// A device manufacturer (signs firmware).
    Manufacturer = 23,
    /// A device (meter, communications hub).
    Device = 30,
}

impl CertRole {
    fn from_u8(v: u8) -> Option<CertRole> {
        use CertRole::*;
        Some(match v {
            1 => Root,
            2 => OrgCa,
            3 => DeviceCa,
            10 => ImportSupplier,
            11 => GasSupplier,
            12 => ElectricityDistributor,
            13 => GasTransporter,
            14 => OtherUser,
            20 => AccessControlBroker,
            21 => WanProvider,
            22 => Recovery,
            23 => Manufacturer,
            30 => Device,
            _ => return None,
        })
    }

    /// Which issuing CA may certify this role.
    pub fn issuer(&self) -> CertRole {
        match self {
            CertRole::Root | CertRole::OrgCa | CertRole::DeviceCa => CertRole::Root,
            CertRole::Device => CertRole::DeviceCa,
            _ => CertRole::OrgCa,
        }
    }
}

/// Bytes of a certificate's signed part.
pub const CERT_TBS_LEN: usize = 108;
/// Bytes of an encoded certificate.
pub const CERT_LEN: usize = CERT_TBS_LEN + 64;

/// A certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// Unique serial number.
    pub serial: u64,
    /// The subject's identifier (an EUI-64 "system title" or a user id).
    pub subject: u64,
    /// The issuer's identifier.
    pub issuer: u64,
    /// The subject's role.
    pub role: CertRole,
    /// What the key may do.
    pub usage: KeyUsage,
    /// Valid from (simulated seconds).
    pub not_before_s: u64,
    /// Valid until (simulated seconds, exclusive).
    pub not_after_s: u64,
    /// The subject's public key, SEC1 uncompressed.
    pub public_key: [u8; 65],
    /// The issuer's signature over the first [`CERT_TBS_LEN`] bytes.
    pub signature: [u8; 64],
}

/// Why a certificate or chain was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertError {
    /// The bytes are not a certificate.
    Malformed,
    /// The issuer's signature does not verify.
    BadSignature,
    /// Outside its validity period.
    Expired,
    /// On the revocation list.
    Revoked,
    /// Issued by the wrong CA for its role, or the issuer may not sign certificates.
    WrongIssuer,
    /// The key is certified for another usage.
    WrongUsage,
}

impl Certificate {
    /// The signed part.
    pub fn tbs(&self) -> [u8; CERT_TBS_LEN] {
        let mut b = [0u8; CERT_TBS_LEN];
        b[0] = 1; // version
        b[1..9].copy_from_slice(&self.serial.to_be_bytes());
        b[9..17].copy_from_slice(&self.subject.to_be_bytes());
        b[17..25].copy_from_slice(&self.issuer.to_be_bytes());
        b[25] = self.role as u8;
        b[26] = self.usage as u8;
        b[27..35].copy_from_slice(&self.not_before_s.to_be_bytes());
        b[35..43].copy_from_slice(&self.not_after_s.to_be_bytes());
        b[43..108].copy_from_slice(&self.public_key);
        b
    }

    /// The whole certificate, [`CERT_LEN`] bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.tbs().to_vec();
        v.extend_from_slice(&self.signature);
        v
    }

    /// Parses a certificate; never panics.
    pub fn decode(b: &[u8]) -> Result<Certificate, CertError> {
        if b.len() != CERT_LEN || b[0] != 1 {
            return Err(CertError::Malformed);
        }
        let u = |r: std::ops::Range<usize>| u64::from_be_bytes(b[r].try_into().expect("8 bytes"));
        let role = CertRole::from_u8(b[25]).ok_or(CertError::Malformed)?;
        let usage = match b[26] {
            1 => KeyUsage::Signing,
            2 => KeyUsage::KeyAgreement,
            3 => KeyUsage::CertSign,
            _ => return Err(CertError::Malformed),
        };
        Ok(Certificate {
            serial: u(1..9),
            subject: u(9..17),
            issuer: u(17..25),
            role,
            usage,
            not_before_s: u(27..35),
            not_after_s: u(35..43),
            public_key: b[43..108].try_into().expect("65 bytes"),
            signature: b[108..172].try_into().expect("64 bytes"),
        })
    }

    /// The certified key as a verifier (`None` if the bytes are not a point).
    pub fn verify_key(&self) -> Option<VerifyKey> {
        VerifyKey::from_sec1(&self.public_key)
    }

    /// Whether `now_s` is within the validity period.
    pub fn valid_at(&self, now_s: u64) -> bool {
        self.not_before_s <= now_s && now_s < self.not_after_s
    }
}

/// A signed list of revoked certificate serials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationList {
    /// Increases with every issue; a list older than one already seen is refused.
    pub version: u64,
    /// Revoked serials.
    pub serials: BTreeSet<u64>,
    /// The organisation CA's signature over version and serials.
    pub signature: [u8; 64],
}

impl RevocationList {
    fn tbs(version: u64, serials: &BTreeSet<u64>) -> Vec<u8> {
        let mut v = b"SMKI-CRL".to_vec();
        v.extend_from_slice(&version.to_be_bytes());
        for s in serials {
            v.extend_from_slice(&s.to_be_bytes());
        }
        v
    }

    /// Whether `serial` is revoked.
    pub fn is_revoked(&self, serial: u64) -> bool {
        self.serials.contains(&serial)
    }
}

/// The SMKI: its three CAs, issued certificates and the current revocation list.
pub struct Smki {
    seed: u64,
    root_key: SigningKey,
    root: Certificate,
    org_ca_key: SigningKey,
    org_ca: Certificate,
    device_ca_key: SigningKey,
    device_ca: Certificate,
    /// Keys of the CAs as verifiers (tables built on first heavy use).
    root_vk: VerifyKey,
    org_vk: VerifyKey,
    device_vk: VerifyKey,
    next_serial: u64,
    crl: RevocationList,
}

impl std::fmt::Debug for Smki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Smki {{ next_serial: {}, revoked: {} }}",
            self.next_serial,
            self.crl.serials.len()
        )
    }
}

/// Identifiers of the CAs themselves.
pub const ROOT_ID: u64 = 0x00DC_C000_0000_0001;
/// The organisation CA's identifier.
pub const ORG_CA_ID: u64 = 0x00DC_C000_0000_0002;
/// The device CA's identifier.
pub const DEVICE_CA_ID: u64 = 0x00DC_C000_0000_0003;

/// Validity used for CA certificates: 25 simulated years.
const CA_VALIDITY_S: u64 = 25 * 365 * 86_400;

/// Signs `c` (whose `signature` is ignored) with the issuer's key.
fn signed(issuer_key: &SigningKey, mut c: Certificate) -> Certificate {
    c.signature = issuer_key.sign(&c.tbs());
    c
}

/// An unsigned certificate with the given fields.
fn unsigned(
    serial: u64,
    subject: u64,
    issuer: u64,
    role: CertRole,
    usage: KeyUsage,
    validity: (u64, u64),
    public: &Affine,
) -> Certificate {
    Certificate {
        serial,
        subject,
        issuer,
        role,
        usage,
        not_before_s: validity.0,
        not_after_s: validity.1,
        public_key: public.to_uncompressed(),
        signature: [0; 64],
    }
}

impl Smki {
    /// Builds the CA hierarchy with keys derived from `seed`.
    pub fn new(seed: u64) -> Self {
        let root_key = derive_key(seed, KeyRole::RootCa, 0);
        let org_ca_key = derive_key(seed, KeyRole::OrgCa, 0);
        let device_ca_key = derive_key(seed, KeyRole::DeviceCa, 0);
        let v = (0, CA_VALIDITY_S);
        let root = signed(
            &root_key,
            unsigned(
                1,
                ROOT_ID,
                ROOT_ID,
                CertRole::Root,
                KeyUsage::CertSign,
                v,
                root_key.public(),
            ),
        );
        let org_ca = signed(
            &root_key,
            unsigned(
                2,
                ORG_CA_ID,
                ROOT_ID,
                CertRole::OrgCa,
                KeyUsage::CertSign,
                v,
                org_ca_key.public(),
            ),
        );
        let device_ca = signed(
            &root_key,
            unsigned(
                3,
                DEVICE_CA_ID,
                ROOT_ID,
                CertRole::DeviceCa,
                KeyUsage::CertSign,
                v,
                device_ca_key.public(),
            ),
        );
        let empty = BTreeSet::new();
        let crl = RevocationList {
            version: 0,
            signature: org_ca_key.sign(&RevocationList::tbs(0, &empty)),
            serials: empty,
        };
        Smki {
            seed,
            root_vk: root_key.verify_key(),
            org_vk: org_ca_key.verify_key(),
            device_vk: device_ca_key.verify_key(),
            root_key,
            root,
            org_ca_key,
            org_ca,
            device_ca_key,
            device_ca,
            next_serial: 1000,
            crl,
        }
    }

    /// The seed keys are derived from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The root certificate (the trust anchor everything chains to).
    pub fn root(&self) -> &Certificate {
        &self.root
    }

    /// The root's key (what devices hold in their root anchor slot).
    pub fn root_key(&self) -> &SigningKey {
        &self.root_key
    }

    /// The organisation CA certificate.
    pub fn org_ca(&self) -> &Certificate {
        &self.org_ca
    }

    /// The device CA certificate.
    pub fn device_ca(&self) -> &Certificate {
        &self.device_ca
    }

    /// Issues a certificate for `public`; the issuing CA follows from the role.
    pub fn issue(
        &mut self,
        subject: u64,
        role: CertRole,
        usage: KeyUsage,
        validity_s: (u64, u64),
        public: &Affine,
    ) -> Certificate {
        let serial = self.next_serial;
        self.next_serial += 1;
        let (key, issuer) = match role.issuer() {
            CertRole::Root => (&self.root_key, ROOT_ID),
            CertRole::DeviceCa => (&self.device_ca_key, DEVICE_CA_ID),
            _ => (&self.org_ca_key, ORG_CA_ID),
        };
        signed(
            key,
            unsigned(serial, subject, issuer, role, usage, validity_s, public),
        )
    }

    /// Revokes `serial`, issuing a new signed revocation list.
    pub fn revoke(&mut self, serial: u64) -> &RevocationList {
        let mut serials = self.crl.serials.clone();
        serials.insert(serial);
        let version = self.crl.version + 1;
        let signature = self
            .org_ca_key
            .sign(&RevocationList::tbs(version, &serials));
        self.crl = RevocationList {
            version,
            serials,
            signature,
        };
        &self.crl
    }

    /// The current revocation list.
    pub fn revocation_list(&self) -> &RevocationList {
        &self.crl
    }

    /// Checks a revocation list's signature.
    pub fn verify_revocation_list(&self, crl: &RevocationList) -> bool {
        self.org_vk.verify(
            &RevocationList::tbs(crl.version, &crl.serials),
            &crl.signature,
        )
    }

    /// Verifies `cert` up to the root at time `now_s` against `crl`, and that
    /// it certifies a key for `usage`.
    pub fn verify_chain(
        &self,
        cert: &Certificate,
        usage: KeyUsage,
        now_s: u64,
        crl: &RevocationList,
    ) -> Result<(), CertError> {
        if cert.usage != usage {
            return Err(CertError::WrongUsage);
        }
        let (issuer_cert, issuer_vk) = match (cert.role.issuer(), cert.issuer) {
            (CertRole::Root, ROOT_ID) => (&self.root, &self.root_vk),
            (CertRole::OrgCa, ORG_CA_ID) => (&self.org_ca, &self.org_vk),
            (CertRole::DeviceCa, DEVICE_CA_ID) => (&self.device_ca, &self.device_vk),
            _ => return Err(CertError::WrongIssuer),
        };
        if issuer_cert.usage != KeyUsage::CertSign {
            return Err(CertError::WrongIssuer);
        }
        if !issuer_vk.verify(&cert.tbs(), &cert.signature) {
            return Err(CertError::BadSignature);
        }
        // The issuing CA's own certificate chains to the root.
        if issuer_cert.serial != self.root.serial
            && !self
                .root_vk
                .verify(&issuer_cert.tbs(), &issuer_cert.signature)
        {
            return Err(CertError::BadSignature);
        }
        if !cert.valid_at(now_s) || !issuer_cert.valid_at(now_s) {
            return Err(CertError::Expired);
        }
        if crl.is_revoked(cert.serial) || crl.is_revoked(issuer_cert.serial) {
            return Err(CertError::Revoked);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_verify_revoke() {
        let mut smki = Smki::new(7);
        let user = derive_key(7, KeyRole::UserRequestSigning, 3);
        let cert = smki.issue(
            0xA1,
            CertRole::ImportSupplier,
            KeyUsage::Signing,
            (0, 1000),
            user.public(),
        );
        assert_eq!(cert.encode().len(), CERT_LEN);
        assert_eq!(Certificate::decode(&cert.encode()).unwrap(), cert);
        let crl = smki.revocation_list().clone();
        assert!(smki.verify_revocation_list(&crl));
        assert_eq!(
            smki.verify_chain(&cert, KeyUsage::Signing, 10, &crl),
            Ok(())
        );
        assert_eq!(
            smki.verify_chain(&cert, KeyUsage::KeyAgreement, 10, &crl),
            Err(CertError::WrongUsage)
        );
        assert_eq!(
            smki.verify_chain(&cert, KeyUsage::Signing, 1000, &crl),
            Err(CertError::Expired)
        );
        let mut forged = cert.clone();
        forged.role = CertRole::ElectricityDistributor;
        assert_eq!(
            smki.verify_chain(&forged, KeyUsage::Signing, 10, &crl),
            Err(CertError::BadSignature)
        );
        let crl2 = smki.revoke(cert.serial).clone();
        assert!(smki.verify_revocation_list(&crl2));
        assert_eq!(
            smki.verify_chain(&cert, KeyUsage::Signing, 10, &crl2),
            Err(CertError::Revoked)
        );
        let mut tampered = crl2.clone();
        tampered.serials.clear();
        assert!(
            !smki.verify_revocation_list(&tampered),
            "a revocation list cannot be emptied without the CA"
        );
        // A certificate signed by someone else's key does not chain.
        let rogue = derive_key(99, KeyRole::OrgCa, 0);
        let mut fake = cert.clone();
        fake.signature = rogue.sign(&fake.tbs());
        assert_eq!(
            smki.verify_chain(&fake, KeyUsage::Signing, 10, &crl),
            Err(CertError::BadSignature)
        );
        // Decoding garbage never panics.
        for n in [0usize, 1, 171, 172, 173] {
            let _ = Certificate::decode(&vec![0xffu8; n]);
        }
    }
}
