//! SMKI (Smart Metering Key Infrastructure) certificates as X.509, in the
//! GBCS profile of the DCC's reference test data (RTDS 4.5.0; `models/README.md`,
//! source S1), built and checked with RustCrypto's `x509-cert` and `der`.
//!
//! * Organisation certificate: subject `CN=<name>, OU=<role code>,
//!   x500UniqueIdentifier=<EUI>`, issued by the organisation CA
//!   (`OU=07, CN=Z1` in RTDS); one key usage (digital signature or key
//!   agreement), marked critical; subject and authority key identifiers
//!   (8 bytes); a critical certificate policy.
//! * Device certificate: empty subject; the device's EUI in a critical
//!   subjectAltName `hwModuleName` (RFC 4108); issued by a device CA; no
//!   expiry (`99991231235959Z`).
//!
//! Signatures are ECDSA P-256 / SHA-256, by this crate's RFC 6979 signer.

use super::curve::Affine;
use super::ecdsa::{hash_to_scalar, verify_oneoff, SigningKey};
use der::asn1::{BitString, BitStringRef, GeneralizedTime, ObjectIdentifier, OctetString, UtcTime};
use der::{Any, Decode, DecodePem, Encode, Tag};
use sha2::{Digest, Sha256};
use std::time::Duration;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, CertificatePolicies, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const OID_UNIQUE_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.45");
const OID_HW_MODULE_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.8.4");
/// hwType of a smart metering device, as in RTDS's device certificates.
const OID_HW_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.826.0.1.8641679.1.2.2.1");
/// Certificate policy of organisation certificates, as in RTDS.
const OID_POLICY_ORG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.826.0.1.8641679.1.2.1.4");
/// Certificate policy of device certificates, as in RTDS.
const OID_POLICY_DEVICE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.826.0.1.1800000.1.2.1.4");

/// Who a certificate is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A DCC user or DCC system (supplier, network operator, ACB ...).
    Organisation {
        /// Common name.
        name: String,
        /// SMKI role code (e.g. "02" supplier, "03" network operator, "04" ACB).
        role: String,
        /// The organisation's EUI.
        eui: u64,
    },
    /// A device (meter, communications hub).
    Device {
        /// The device's EUI.
        eui: u64,
    },
}

/// What the key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// Digital signing.
    Signing,
    /// Key agreement.
    KeyAgreement,
}

/// The issuing CA: its name and key.
pub struct Issuer<'a> {
    /// Distinguished name, e.g. `[("OU","07"),("CN","Z1")]`.
    pub name: &'a [(&'a str, &'a str)],
    /// The CA's key.
    pub key: &'a SigningKey,
}

fn key_id(p: &Affine) -> [u8; 8] {
    let d = Sha256::digest(p.to_uncompressed());
    d[..8].try_into().expect("8 of 32 bytes")
}

fn printable(s: &str) -> der::Result<Any> {
    Any::new(Tag::Utf8String, s.as_bytes())
}

fn name(parts: &[(&str, &str)]) -> der::Result<Name> {
    let mut rdns = Vec::new();
    for (k, v) in parts {
        let oid = match *k {
            "CN" => OID_CN,
            "OU" => OID_OU,
            _ => return Err(der::ErrorKind::Failed.into()),
        };
        let atv = AttributeTypeAndValue {
            oid,
            value: printable(v)?,
        };
        rdns.push(RelativeDistinguishedName(vec![atv].try_into()?));
    }
    Ok(RdnSequence(rdns))
}

fn extension(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// Issues a certificate for `public` (valid from `not_before_unix_s`;
/// organisations for ten years, devices without expiry). `serial` is 16 bytes.
pub fn issue(
    subject: &Subject,
    public: &Affine,
    usage: Usage,
    serial: [u8; 16],
    not_before_unix_s: u64,
    issuer: &Issuer<'_>,
) -> der::Result<Vec<u8>> {
    use der::oid::AssociatedOid;
    let pk = p256::PublicKey::from_affine(public.to_p256()).map_err(|_| der::ErrorKind::Failed)?;
    let spki_der =
        p256::pkcs8::EncodePublicKey::to_public_key_der(&pk).map_err(|_| der::ErrorKind::Failed)?;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes())?;
    let ku = KeyUsage(match usage {
        Usage::Signing => KeyUsages::DigitalSignature.into(),
        Usage::KeyAgreement => KeyUsages::KeyAgreement.into(),
    });
    let mut serial = serial;
    serial[0] &= 0x7F; // a positive INTEGER
    serial[0] |= 0x40; // of full length
    let not_before = Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(
        not_before_unix_s,
    ))?);
    let (subject_name, not_after, policy, san) = match subject {
        Subject::Organisation {
            name: cn,
            role,
            eui,
        } => {
            let mut n = name(&[("CN", cn), ("OU", role)])?;
            n.0.push(RelativeDistinguishedName(
                vec![AttributeTypeAndValue {
                    oid: OID_UNIQUE_ID,
                    value: Any::encode_from(&BitString::from_bytes(&eui.to_be_bytes())?)?,
                }]
                .try_into()?,
            ));
            let after = Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(
                not_before_unix_s + 10 * 365 * 86_400,
            ))?);
            (n, after, OID_POLICY_ORG, None)
        }
        Subject::Device { eui } => {
            let hw = [
                OID_HW_TYPE.to_der()?,
                OctetString::new(eui.to_be_bytes())?.to_der()?,
            ]
            .concat();
            let san = SubjectAltName(vec![GeneralName::OtherName(OtherName {
                type_id: OID_HW_MODULE_NAME,
                value: Any::new(Tag::Sequence, hw)?,
            })]);
            let after = Time::GeneralTime(GeneralizedTime::from_date_time(der::DateTime::new(
                9999, 12, 31, 23, 59, 59,
            )?));
            (RdnSequence(Vec::new()), after, OID_POLICY_DEVICE, Some(san))
        }
    };
    let mut exts = vec![
        extension(KeyUsage::OID, true, &ku)?,
        extension(
            SubjectKeyIdentifier::OID,
            false,
            &SubjectKeyIdentifier(OctetString::new(key_id(public))?),
        )?,
    ];
    if let Some(san) = san {
        exts.push(extension(SubjectAltName::OID, true, &san)?);
    }
    exts.push(extension(
        CertificatePolicies::OID,
        true,
        &CertificatePolicies(vec![PolicyInformation {
            policy_identifier: policy,
            policy_qualifiers: None,
        }]),
    )?);
    exts.push(extension(
        AuthorityKeyIdentifier::OID,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(key_id(issuer.key.public()))?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )?);
    let alg = AlgorithmIdentifierOwned {
        oid: OID_ECDSA_SHA256,
        parameters: None,
    };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial)?,
        signature: alg.clone(),
        issuer: name(issuer.name)?,
        validity: Validity {
            not_before,
            not_after,
        },
        subject: subject_name,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    };
    let raw = issuer.key.sign(&tbs.to_der()?);
    let sig = p256::ecdsa::Signature::from_slice(&raw).map_err(|_| der::ErrorKind::Failed)?;
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(sig.to_der().as_bytes())?,
    }
    .to_der()
}

/// What a certificate says about its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject OU (the SMKI role code, e.g. "02" supplier), if present.
    pub role: Option<String>,
    /// The subject's EUI from `x500UniqueIdentifier`, if present.
    pub eui: Option<u64>,
}

/// Parses a PEM or DER X.509 certificate: its public key, and its subject's
/// organisational unit (OU, the SMKI role code) and `x500UniqueIdentifier`
/// (the EUI).
pub fn parse_certificate(bytes: &[u8]) -> Result<(Affine, CertInfo), String> {
    let cert = if bytes.starts_with(b"-----") {
        x509_cert::Certificate::from_pem(bytes).map_err(|e| format!("certificate: {e}"))?
    } else {
        x509_cert::Certificate::from_der(bytes).map_err(|e| format!("certificate: {e}"))?
    };
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let point = spki
        .subject_public_key
        .as_bytes()
        .and_then(super::ecdsa::VerifyKey::from_sec1)
        .map(|k| *k.point())
        .ok_or("certificate: the key is not a P-256 point")?;
    let mut info = CertInfo {
        role: None,
        eui: None,
    };
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == OID_OU {
                info.role = der::asn1::PrintableStringRef::try_from(&atv.value)
                    .map(|s| s.to_string())
                    .or_else(|_| {
                        der::asn1::Utf8StringRef::try_from(&atv.value).map(|s| s.to_string())
                    })
                    .ok();
            } else if atv.oid == OID_UNIQUE_ID {
                info.eui = BitStringRef::try_from(&atv.value)
                    .ok()
                    .and_then(|b| b.as_bytes().map(|x| x.to_vec()))
                    .and_then(|x| <[u8; 8]>::try_from(x.as_slice()).ok())
                    .map(u64::from_be_bytes);
            }
        }
    }
    Ok((point, info))
}

/// Whether `der`'s signature verifies under `issuer` (the CA's public key).
pub fn signed_by(der: &[u8], issuer: &Affine) -> bool {
    let Ok(cert) = Certificate::from_der(der) else {
        return false;
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(sig) = cert
        .signature
        .as_bytes()
        .and_then(|b| p256::ecdsa::Signature::from_der(b).ok())
    else {
        return false;
    };
    verify_oneoff(issuer, &hash_to_scalar(&tbs), &sig.to_bytes())
}

/// A device's EUI from its certificate's hwModuleName.
pub fn device_eui(der: &[u8]) -> Option<u64> {
    let cert = Certificate::from_der(der).ok()?;
    let (_, san) = cert.tbs_certificate.get::<SubjectAltName>().ok()??;
    san.0.iter().find_map(|g| match g {
        GeneralName::OtherName(o) if o.type_id == OID_HW_MODULE_NAME => {
            let v = o.value.value();
            // SEQUENCE { OID, OCTET STRING(8) }: the EUI is the last 8 bytes.
            (v.len() >= 10).then(|| u64::from_be_bytes(v[v.len() - 8..].try_into().expect("8")))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{derive_key, KeyRole};

    #[test]
    fn organisation_and_device_certificates_round_trip() {
        let ca = derive_key(1, KeyRole::OrgCa, 0);
        let dca = derive_key(1, KeyRole::DeviceCa, 0);
        let k = derive_key(1, KeyRole::UserCommandSigning, 5);
        let org = Subject::Organisation {
            name: "SUPPLIER 5".into(),
            role: "02".into(),
            eui: 0x5000_0000_0000_0005,
        };
        let issuer = Issuer {
            name: &[("OU", "07"), ("CN", "Z1")],
            key: &ca,
        };
        let der = issue(
            &org,
            k.public(),
            Usage::Signing,
            [7; 16],
            1_450_000_000,
            &issuer,
        )
        .unwrap();
        let (p, info) = parse_certificate(&der).unwrap();
        assert_eq!(p.to_uncompressed(), k.public().to_uncompressed());
        assert_eq!(info.role.as_deref(), Some("02"));
        assert_eq!(info.eui, Some(0x5000_0000_0000_0005));
        assert!(signed_by(&der, ca.public()));
        assert!(!signed_by(&der, dca.public()));
        let mut bad = der.clone();
        let n = bad.len();
        bad[n / 2] ^= 1;
        assert!(!signed_by(&bad, ca.public()));
        let dev = derive_key(1, KeyRole::DeviceSigning, 9);
        let dissuer = Issuer {
            name: &[("CN", "E357")],
            key: &dca,
        };
        let dder = issue(
            &Subject::Device {
                eui: 0x00DE_0000_0000_0009,
            },
            dev.public(),
            Usage::Signing,
            [9; 16],
            1_450_000_000,
            &dissuer,
        )
        .unwrap();
        let (_, dinfo) = parse_certificate(&dder).unwrap();
        assert_eq!(dinfo.role, None, "devices have no organisational role");
        assert_eq!(device_eui(&dder), Some(0x00DE_0000_0000_0009));
        assert!(signed_by(&dder, dca.public()));
    }
}
