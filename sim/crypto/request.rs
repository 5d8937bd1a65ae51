//! Service requests from DCC users to the DSP (Data Service Provider), the
//! DSP's authentication of them, and the command the DCC then sends.
//!
//! A service request is signed by the user's request-signing key (in DUIS,
//! an XML signature; here a compact binary form with the same fields:
//! request variant, user id, target device id, counter, body). The DSP checks
//! the user's certificate chain and revocation, the signature, and that the
//! user's role may send this request. The command for the device is then
//! signed by the user's command-signing key when critical, and MAC'd by the
//! ACB (access control broker) under the key it shares with the device.

use super::ecdsa::{hash_to_scalar, SigningKey, VerifyKey};
use super::gbcs::frame::{self, Header};
use super::gbcs::{payload, Body, Cra, Fuel, MessageKind};
use super::mac::{derive_mac_key, gsa_mac, MacMode};
use super::smki::{CertError, CertRole, Certificate, KeyUsage, RevocationList, Smki};

/// A decoded service request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRequest {
    /// What is requested.
    pub kind: MessageKind,
    /// The requesting user.
    pub user: u64,
    /// The target device.
    pub target: u64,
    /// The user's request counter (`UserID:TargetID:Counter` is the request id).
    pub counter: u64,
    /// Request parameters (the command body).
    pub body: Vec<u8>,
}

/// Why the DSP refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestReject {
    /// Not a well-formed request.
    Malformed,
    /// The certificate is not the requesting user's.
    UnknownUser,
    /// The user's certificate is revoked.
    Revoked,
    /// The certificate is outside its validity period.
    CertificateExpired,
    /// The certificate does not chain to the SMKI root.
    BadCertificate,
    /// The request's signature does not verify.
    BadSignature,
    /// The user's role may not send this request.
    RoleNotAllowed,
}

impl RequestReject {
    /// Stable snake-case name for result files.
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestReject::Malformed => "malformed",
            RequestReject::UnknownUser => "unknown_user",
            RequestReject::Revoked => "revoked",
            RequestReject::CertificateExpired => "certificate_expired",
            RequestReject::BadCertificate => "bad_certificate",
            RequestReject::BadSignature => "bad_signature",
            RequestReject::RoleNotAllowed => "role_not_allowed",
        }
    }
}

/// Identity and access management: whether a role may send a request kind
/// (after GBCS's table of critical requests and the roles allowed to send them).
pub fn role_may_send(role: CertRole, kind: MessageKind) -> bool {
    use MessageKind::*;
    match role {
        CertRole::ImportSupplier => kind != Alert,
        CertRole::GasSupplier => !matches!(kind, EnableSupply | Alert),
        CertRole::ElectricityDistributor | CertRole::GasTransporter => {
            matches!(
                kind,
                ReadInstantaneous | ReadDailyLog | UpdateSecurityCredentials
            )
        }
        CertRole::OtherUser => matches!(kind, ReadInstantaneous | ReadDailyLog),
        _ => false,
    }
}

const SR_TAG: u8 = 0x5E;

/// A request's kind on the wire: its electricity use case's code.
fn sr_code(kind: MessageKind) -> u16 {
    kind.code(Fuel::Electricity)
}

fn sr_kind(code: u16) -> Option<MessageKind> {
    MessageKind::ALL.into_iter().find(|k| sr_code(*k) == code)
}
const SR_FIXED: usize = 1 + 2 + 8 + 8 + 8 + 2;

impl ServiceRequest {
    /// The signed request bytes.
    pub fn encode_signed(&self, user_key: &SigningKey) -> Vec<u8> {
        let mut v = Vec::with_capacity(SR_FIXED + self.body.len() + 64);
        v.push(SR_TAG);
        v.extend_from_slice(&sr_code(self.kind).to_be_bytes());
        v.extend_from_slice(&self.user.to_be_bytes());
        v.extend_from_slice(&self.target.to_be_bytes());
        v.extend_from_slice(&self.counter.to_be_bytes());
        v.extend_from_slice(&(self.body.len() as u16).to_be_bytes());
        v.extend_from_slice(&self.body);
        let sig = user_key.sign(&v);
        v.extend_from_slice(&sig);
        v
    }

    /// Parses signed request bytes into the request, the signed part and the signature.
    pub fn decode(b: &[u8]) -> Option<(ServiceRequest, &[u8], &[u8])> {
        if b.len() < SR_FIXED + 64 || b[0] != SR_TAG {
            return None;
        }
        let kind = sr_kind(u16::from_be_bytes([b[1], b[2]]))?;
        let u = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let body_len = u16::from_be_bytes([b[27], b[28]]) as usize;
        if b.len() != SR_FIXED + body_len + 64 {
            return None;
        }
        let sr = ServiceRequest {
            kind,
            user: u(3),
            target: u(11),
            counter: u(19),
            body: b[SR_FIXED..SR_FIXED + body_len].to_vec(),
        };
        Some((sr, &b[..SR_FIXED + body_len], &b[SR_FIXED + body_len..]))
    }
}

/// The DSP's authentication and authorisation of one request. `user_key`
/// is the verifier of `cert`'s key (long-lived: built once per user).
pub fn dsp_authenticate(
    bytes: &[u8],
    cert: &Certificate,
    user_key: &VerifyKey,
    smki: &Smki,
    crl: &RevocationList,
    now_s: u64,
) -> Result<ServiceRequest, RequestReject> {
    let (sr, signed, sig) = ServiceRequest::decode(bytes).ok_or(RequestReject::Malformed)?;
    if cert.subject != sr.user {
        return Err(RequestReject::UnknownUser);
    }
    smki.verify_chain(cert, KeyUsage::Signing, now_s, crl)
        .map_err(|e| match e {
            CertError::Revoked => RequestReject::Revoked,
            CertError::Expired => RequestReject::CertificateExpired,
            _ => RequestReject::BadCertificate,
        })?;
    if !user_key.verify_prehash(&hash_to_scalar(signed), sig) {
        return Err(RequestReject::BadSignature);
    }
    if !role_may_send(cert.role, sr.kind) {
        return Err(RequestReject::RoleNotAllowed);
    }
    Ok(sr)
}

/// Builds the device command for an authorised request, in GBCS form: the
/// originator's signature when the kind is critical (`command_key` is the
/// user's command-signing key; `None` leaves a critical command unsigned,
/// which devices refuse), and the ACB's MAC (`acb_z`, the ACB–device shared
/// secret; `None` sends the bare GSA, which devices refuse).
#[allow(clippy::too_many_arguments)]
pub fn build_command(
    kind: MessageKind,
    fuel: Fuel,
    originator: u64,
    device: u64,
    counter: u64,
    body: &Body,
    command_key: Option<&SigningKey>,
    acb_z: Option<&[u8; 32]>,
) -> Vec<u8> {
    let h = Header {
        cra: Cra::Command,
        counter,
        originator,
        recipient: device,
        date_time: None,
        code: kind.code(fuel),
    };
    let content = payload::command(kind, fuel, counter, originator, device, body);
    let sign = |b: &[u8]| command_key.expect("checked").sign(b);
    let mac_fn = |gsa: &[u8]| {
        let z = acb_z.expect("checked");
        let k = derive_mac_key(z, originator, device, MacMode::Command, counter);
        gsa_mac(&k, originator, gsa)
    };
    frame::build(
        &h,
        &content,
        (kind.is_critical() && command_key.is_some()).then_some(&sign as frame::SignFn<'_>),
        acb_z.is_some().then_some(&mac_fn as frame::MacFn<'_>),
    )
}
