//! The message path end to end with real cryptography, and every way it
//! must refuse: each refusal with its own reason.

use dccsim::crypto::device::{Anchor, AnchorSlot, DeviceSecurity, Executed, Reject, ANCHOR_SLOTS};
use dccsim::crypto::ecdsa::hash_to_scalar;
use dccsim::crypto::gbcs::{firmware_signed_bytes, frame, Body, Cra, Fuel, MessageKind};
use dccsim::crypto::mac::ecdh;
use dccsim::crypto::mode::{CryptoCounters, CryptoMode, CryptoPolicy};
use dccsim::crypto::registry::KeyRegistry;
use dccsim::crypto::request::{build_command, dsp_authenticate, RequestReject, ServiceRequest};
use dccsim::crypto::smki::{CertRole, Certificate, KeyUsage, Smki};
use dccsim::crypto::{derive_key, verify_oneoff, KeyRole, SigningKey};
use sha2::{Digest, Sha256};

const SEED: u64 = 2026;
const SUPPLIER: u64 = 0x5100_0000_0000_0001;
const NETWORK_OPERATOR: u64 = 0x5200_0000_0000_0001;
const RECOVERY: u64 = 0x5300_0000_0000_0001;
const ACB: u64 = 0x5400_0000_0000_0001;
const DEVICE: u64 = 0x00AB_CDEF_0000_0042;
const YEAR_S: u64 = 365 * 86_400;

struct World {
    smki: Smki,
    keys: KeyRegistry,
    supplier_req: SigningKey,
    supplier_cert: Certificate,
    supplier_cmd: SigningKey,
    no_req: SigningKey,
    no_cert: Certificate,
    no_cmd: SigningKey,
    recovery: SigningKey,
    acb: SigningKey,
    manufacturer: SigningKey,
    device_key: SigningKey,
    z: [u8; 32],
    device: DeviceSecurity,
}

fn world() -> World {
    let mut smki = Smki::new(SEED);
    let keys = KeyRegistry::new();
    let supplier_req = derive_key(SEED, KeyRole::UserRequestSigning, SUPPLIER);
    let supplier_cmd = derive_key(SEED, KeyRole::UserCommandSigning, SUPPLIER);
    let no_req = derive_key(SEED, KeyRole::UserRequestSigning, NETWORK_OPERATOR);
    let no_cmd = derive_key(SEED, KeyRole::UserCommandSigning, NETWORK_OPERATOR);
    let recovery = derive_key(SEED, KeyRole::Recovery, 0);
    let acb = derive_key(SEED, KeyRole::AcbKeyAgreement, 0);
    let manufacturer = derive_key(SEED, KeyRole::Manufacturer, 7);
    let supplier_cert = smki.issue(
        SUPPLIER,
        CertRole::ImportSupplier,
        KeyUsage::Signing,
        (0, YEAR_S),
        supplier_req.public(),
    );
    let no_cert = smki.issue(
        NETWORK_OPERATOR,
        CertRole::ElectricityDistributor,
        KeyUsage::Signing,
        (0, YEAR_S),
        no_req.public(),
    );
    let device_key = derive_key(SEED, KeyRole::DeviceSigning, DEVICE);
    let device_ka = derive_key(SEED, KeyRole::DeviceKeyAgreement, DEVICE);
    let z = ecdh(acb.scalar(), device_ka.public()).unwrap();
    let fp = |k: &SigningKey| keys.intern(&k.public().to_uncompressed()).unwrap();
    let mut anchors = [Anchor { owner: 0, key: 0 }; ANCHOR_SLOTS];
    anchors[AnchorSlot::Root as usize] = Anchor {
        owner: 1,
        key: fp(smki.root_key()),
    };
    anchors[AnchorSlot::Recovery as usize] = Anchor {
        owner: RECOVERY,
        key: fp(&recovery),
    };
    anchors[AnchorSlot::Supplier as usize] = Anchor {
        owner: SUPPLIER,
        key: fp(&supplier_cmd),
    };
    anchors[AnchorSlot::NetworkOperator as usize] = Anchor {
        owner: NETWORK_OPERATOR,
        key: fp(&no_cmd),
    };
    anchors[AnchorSlot::Acb as usize] = Anchor {
        owner: ACB,
        key: fp(&acb),
    };
    let device = DeviceSecurity {
        id: DEVICE,
        fuel: Fuel::Electricity,
        anchors,
        counters: [(0, 0); 4],
        manufacturer: (7, fp(&manufacturer)),
        firmware_version: 1,
        staged_firmware: None,
        flaw: None,
    };
    World {
        smki,
        keys,
        supplier_req,
        supplier_cert,
        supplier_cmd,
        no_req,
        no_cert,
        no_cmd,
        recovery,
        acb,
        manufacturer,
        device_key,
        z,
        device,
    }
}

fn request(kind: MessageKind, user: u64, counter: u64) -> ServiceRequest {
    ServiceRequest {
        kind,
        user,
        target: DEVICE,
        counter,
        body: Vec::new(),
    }
}

#[test]
fn legitimate_disable_supply_goes_through_every_check() {
    let mut w = world();
    let sr = request(MessageKind::DisableSupply, SUPPLIER, 1).encode_signed(&w.supplier_req);
    let crl = w.smki.revocation_list().clone();
    let vk = w.supplier_cert.verify_key().unwrap();
    let ok = dsp_authenticate(&sr, &w.supplier_cert, &vk, &w.smki, &crl, 100).unwrap();
    assert_eq!(ok.kind, MessageKind::DisableSupply);
    let cmd = build_command(
        ok.kind,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        10,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        cmd.len(),
        146,
        "disable supply is 146 bytes as in the reference data"
    );
    let acc = w.device.receive_command(&cmd, &w.z, None, &w.keys).unwrap();
    assert_eq!(acc.executed, Executed::SupplyDisabled);
    assert_eq!(
        acc.verified_by,
        Some(w.device.anchors[AnchorSlot::Supplier as usize].key)
    );
    // The response is signed by the device and checks against its key (a one-off key).
    let o = dccsim::crypto::device::Outgoing {
        cra: Cra::Response,
        kind: MessageKind::DisableSupply,
        alert: dccsim::crypto::device::AlertKind::NonCritical,
        fuel: Fuel::Electricity,
        device: DEVICE,
        recipient: SUPPLIER,
        counter: 10,
        ok: true,
        at_s: 0,
        registers: [0, 0],
    };
    let resp = dccsim::crypto::device::device_message(&o, || w.device_key.clone(), || w.z);
    assert_eq!(resp.len(), 111);
    let d = frame::parse(&resp).unwrap();
    assert_eq!(
        (d.counter, d.originator, d.recipient),
        (10, DEVICE, SUPPLIER)
    );
    assert!(d.mac.is_none(), "a critical response is signed only");
    assert!(verify_oneoff(
        w.device_key.public(),
        &hash_to_scalar(d.signed_part),
        d.signature.unwrap()
    ));
    // A non-critical read is MAC'd only, and its response too.
    let read = build_command(
        MessageKind::ReadInstantaneous,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        11,
        &Body::Plain,
        None,
        Some(&w.z),
    );
    assert_eq!(read.len(), 158);
    assert_eq!(
        w.device
            .receive_command(&read, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::Read
    );
}

/// A signature check made elsewhere (the simulator makes it ahead, in
/// parallel) stands in for the device's own only when it is for the key
/// the authorising anchor holds.
#[test]
fn a_signature_hint_counts_only_for_the_anchor_key() {
    let cmd = |w: &World| {
        build_command(
            MessageKind::DisableSupply,
            Fuel::Electricity,
            SUPPLIER,
            DEVICE,
            10,
            &Body::Plain,
            Some(&w.supplier_cmd),
            Some(&w.z),
        )
    };
    let mut w = world();
    let anchor = w.device.anchors[AnchorSlot::Supplier as usize].key;
    let mut never = || -> bool { panic!("a hint for another key must not be asked") };
    let other = anchor ^ 1;
    let c = cmd(&w);
    let acc = w
        .device
        .receive_command_hinted(&c, &w.z, None, &w.keys, Some((other, &mut never)))
        .expect("verified by the device itself");
    assert_eq!(acc.verified_by, Some(anchor));
    // For the anchor's key, the hint decides (here a wrong one, to show it).
    let mut w = world();
    let c = cmd(&w);
    let mut asked = 0;
    let mut says_no = || {
        asked += 1;
        false
    };
    assert_eq!(
        w.device
            .receive_command_hinted(&c, &w.z, None, &w.keys, Some((anchor, &mut says_no))),
        Err(Reject::BadSignature)
    );
    assert_eq!(asked, 1);
}

#[test]
fn tampered_command_byte_is_refused_by_the_mac() {
    let mut w = world();
    let mut cmd = build_command(
        MessageKind::EnableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        5,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    // Flip a content bit: the MAC covers it.
    cmd[60] ^= 0x01;
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadMac)
    );
    // Corrupt the length: not even a message.
    cmd[1] ^= 0x10;
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::Malformed)
    );
}

#[test]
fn wrong_role_signers_are_refused() {
    let mut w = world();
    // At the DSP: a network operator may not ask for a disconnection.
    let sr = request(MessageKind::DisableSupply, NETWORK_OPERATOR, 1).encode_signed(&w.no_req);
    let crl = w.smki.revocation_list().clone();
    let vk = w.no_cert.verify_key().unwrap();
    assert_eq!(
        dsp_authenticate(&sr, &w.no_cert, &vk, &w.smki, &crl, 5),
        Err(RequestReject::RoleNotAllowed)
    );
    // At the meter: a disconnection originated by the network operator (validly MAC'd by the ACB).
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        NETWORK_OPERATOR,
        DEVICE,
        1,
        &Body::Plain,
        Some(&w.no_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::WrongOriginator)
    );
    // Claiming to be the supplier but signed with the network operator's key.
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        2,
        &Body::Plain,
        Some(&w.no_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadSignature)
    );
    // A request signed by someone other than the certified user.
    let sr = request(MessageKind::ReadInstantaneous, SUPPLIER, 2).encode_signed(&w.no_req);
    let vk = w.supplier_cert.verify_key().unwrap();
    assert_eq!(
        dsp_authenticate(&sr, &w.supplier_cert, &vk, &w.smki, &crl, 5),
        Err(RequestReject::BadSignature)
    );
}

#[test]
fn revoked_certificate_is_refused_by_the_dsp() {
    let mut w = world();
    let sr = request(MessageKind::DisableSupply, SUPPLIER, 1).encode_signed(&w.supplier_req);
    let vk = w.supplier_cert.verify_key().unwrap();
    let crl = w.smki.revoke(w.supplier_cert.serial).clone();
    assert_eq!(
        dsp_authenticate(&sr, &w.supplier_cert, &vk, &w.smki, &crl, 5),
        Err(RequestReject::Revoked)
    );
    assert_eq!(
        dsp_authenticate(&sr, &w.supplier_cert, &vk, &w.smki, &crl, YEAR_S + 1),
        Err(RequestReject::CertificateExpired)
    );
}

#[test]
fn replayed_counter_is_refused() {
    let mut w = world();
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        77,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert!(w.device.receive_command(&cmd, &w.z, None, &w.keys).is_ok());
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::Replay),
        "same bytes again"
    );
    let older = build_command(
        MessageKind::EnableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        50,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&older, &w.z, None, &w.keys),
        Err(Reject::Replay),
        "a lower counter"
    );
    let newer = build_command(
        MessageKind::EnableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        78,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device
            .receive_command(&newer, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::SupplyEnabled
    );
}

fn firmware(signer: &SigningKey, manufacturer: u16, version: u64) -> Body {
    let image_hash: [u8; 32] = Sha256::digest(format!("firmware image {version}")).into();
    let signature = signer.sign(&firmware_signed_bytes(manufacturer, version, &image_hash));
    Body::Firmware {
        manufacturer,
        version,
        image_hash,
        signature,
    }
}

#[test]
fn firmware_signed_by_the_wrong_manufacturer_is_refused() {
    let mut w = world();
    let rogue = derive_key(SEED, KeyRole::Manufacturer, 8);
    let bad = firmware(&rogue, 7, 2);
    let cmd = build_command(
        MessageKind::UpdateFirmware,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        1,
        &bad,
        None,
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadFirmwareSignature)
    );
    let cmd = build_command(
        MessageKind::ActivateFirmware,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        2,
        &bad,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadFirmwareSignature)
    );
    assert_eq!(w.device.firmware_version, 1);
    // The genuine image installs.
    let good = firmware(&w.manufacturer, 7, 2);
    let cmd = build_command(
        MessageKind::UpdateFirmware,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        3,
        &good,
        None,
        Some(&w.z),
    );
    assert_eq!(
        w.device
            .receive_command(&cmd, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::FirmwareStaged(2)
    );
    let cmd = build_command(
        MessageKind::ActivateFirmware,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        4,
        &good,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device
            .receive_command(&cmd, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::FirmwareActivated(2)
    );
    assert_eq!(w.device.firmware_version, 2);
}

#[test]
fn partial_key_holders_cannot_execute_critical_commands() {
    let mut w = world();
    // The supplier's signing key alone, injected without the ACB's MAC.
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        1,
        &Body::Plain,
        Some(&w.supplier_cmd),
        None,
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadMac)
    );
    // ...or with a MAC under a made-up key.
    let fake_z = [7u8; 32];
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        2,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&fake_z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadMac)
    );
    // An insider with only the ACB key: a valid MAC but no supplier signature.
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        3,
        &Body::Plain,
        None,
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::MissingSignature)
    );
    let acb_signed = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        4,
        &Body::Plain,
        Some(&w.acb),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&acb_signed, &w.z, None, &w.keys),
        Err(Reject::BadSignature)
    );
    // An outsider with no keys at all.
    let outsider = derive_key(1, KeyRole::UserCommandSigning, 666);
    let cmd = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        5,
        &Body::Plain,
        Some(&outsider),
        Some(&fake_z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadMac)
    );
    assert_eq!(
        w.device.counters,
        [(0, 0); 4],
        "no refused command advanced a counter"
    );
}

#[test]
fn trust_anchors_change_only_through_correctly_signed_credential_updates() {
    let mut w = world();
    let new_supplier = 0x5100_0000_0000_0002u64;
    let new_key = derive_key(SEED, KeyRole::UserCommandSigning, new_supplier);
    let cert = dccsim::crypto::x509::issue(
        &dccsim::crypto::x509::Subject::Organisation {
            name: "NEW SUPPLIER".into(),
            role: "02".into(),
            eui: new_supplier,
        },
        new_key.public(),
        dccsim::crypto::x509::Usage::Signing,
        [1; 16],
        1_767_225_600,
        &dccsim::crypto::x509::Issuer {
            name: &[("OU", "07"), ("CN", "Z1")],
            key: &derive_key(SEED, KeyRole::OrgCa, 0),
        },
    )
    .unwrap();
    let cert: std::sync::Arc<[u8]> = cert.into();
    let body = Body::credential_update(AnchorSlot::Supplier as u8, cert.clone()).unwrap();
    // The network operator cannot replace the supplier's anchor.
    let cmd = build_command(
        MessageKind::UpdateSecurityCredentials,
        Fuel::Electricity,
        NETWORK_OPERATOR,
        DEVICE,
        1,
        &body,
        Some(&w.no_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::WrongOriginator)
    );
    // The recovery key can (e.g. after the supplier's key was compromised).
    let cmd = build_command(
        MessageKind::UpdateSecurityCredentials,
        Fuel::Electricity,
        RECOVERY,
        DEVICE,
        1,
        &body,
        Some(&w.recovery),
        Some(&w.z),
    );
    assert_eq!(
        w.device
            .receive_command(&cmd, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::CredentialUpdated(AnchorSlot::Supplier)
    );
    // The cell now holds the new supplier's X.509 certificate.
    let cell = w.device.anchors[AnchorSlot::Supplier as usize];
    assert_eq!(cell.owner, new_supplier);
    assert_eq!(w.keys.cert(cell.key).as_deref(), Some(&cert[..]));
    // The old supplier's key no longer works; the new one does.
    let old = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        9,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&old, &w.z, None, &w.keys),
        Err(Reject::WrongOriginator)
    );
    let new = build_command(
        MessageKind::DisableSupply,
        Fuel::Electricity,
        new_supplier,
        DEVICE,
        1,
        &Body::Plain,
        Some(&new_key),
        Some(&w.z),
    );
    assert_eq!(
        w.device
            .receive_command(&new, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::SupplyDisabled
    );
}

#[test]
fn crypto_modes_count_disagreements_with_ground_truth() {
    let w = world();
    let key = w
        .keys
        .get(w.device.anchors[AnchorSlot::Supplier as usize].key)
        .unwrap();
    let forged = derive_key(3, KeyRole::UserCommandSigning, 1);
    let msg = b"disable supply";
    let sig = forged.sign(msg);
    let mut c = CryptoCounters::default();
    // A message whose ground truth wrongly says "genuine": full crypto refuses it and counts the disagreement.
    let full = CryptoPolicy::new(CryptoMode::Full, 1.0, SEED);
    assert!(!full.decide(1, true, &mut c, || key.verify(msg, &sig)));
    assert_eq!(c.ground_truth_mismatches, 1);
    // Modeled mode trusts the ground truth and runs nothing.
    let modeled = CryptoPolicy::new(CryptoMode::Modeled, 1.0, SEED);
    assert!(modeled.decide(1, true, &mut c, || unreachable!()));
    assert_eq!(c.by_ground_truth, 1);
}

#[test]
fn top_ups_are_protected_by_the_supplier_prepayment_token_not_a_signature() {
    use dccsim::crypto::gbcs::utrn;
    let mut w = world();
    let pp = derive_key(SEED, KeyRole::UserPrepaymentKeyAgreement, 0);
    let device_ka = derive_key(SEED, KeyRole::DeviceKeyAgreement, DEVICE);
    let z_pp = ecdh(pp.scalar(), device_ka.public()).unwrap();
    let counter = 5 << 32;
    let token = utrn::issue(
        &z_pp,
        SUPPLIER,
        DEVICE,
        counter,
        utrn::ValueClass::Pounds,
        10,
    );
    let body = Body::TopUp { utrn: token };
    // Not critical: no signature, even when a key is offered.
    let cmd = build_command(
        MessageKind::PrepaymentTopUp,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        counter,
        &body,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert!(frame::parse(&cmd).unwrap().signature.is_none());
    assert_eq!(cmd.len(), 100, "CS01a is 100 bytes in the reference data");
    // The device needs the prepayment secret to check the token.
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadToken)
    );
    let other = ecdh(
        derive_key(SEED, KeyRole::UserKeyAgreement, 0).scalar(),
        device_ka.public(),
    )
    .unwrap();
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, Some(&other), &w.keys),
        Err(Reject::BadToken),
        "the supplier's ordinary key-agreement key makes no valid token"
    );
    assert_eq!(
        w.device
            .receive_command(&cmd, &w.z, Some(&z_pp), &w.keys)
            .unwrap()
            .executed,
        Executed::TopUp
    );
    // The token is bound to its counter: reused under a later counter it fails.
    let later = build_command(
        MessageKind::PrepaymentTopUp,
        Fuel::Electricity,
        SUPPLIER,
        DEVICE,
        counter + (1 << 32),
        &body,
        None,
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&later, &w.z, Some(&z_pp), &w.keys),
        Err(Reject::BadToken)
    );
}

#[test]
fn a_gas_meter_refuses_an_enable_supply_it_cannot_execute() {
    let mut w = world();
    w.device.fuel = Fuel::Gas;
    let cmd = build_command(
        MessageKind::EnableSupply,
        Fuel::Gas,
        SUPPLIER,
        DEVICE,
        3,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::NotACommand),
        "GB gas meters have no remote enable"
    );
    // Arming (GCS39) is what a gas supplier sends instead.
    let arm = build_command(
        MessageKind::ArmSupply,
        Fuel::Gas,
        SUPPLIER,
        DEVICE,
        4,
        &Body::Plain,
        Some(&w.supplier_cmd),
        Some(&w.z),
    );
    assert_eq!(
        w.device
            .receive_command(&arm, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::SupplyArmed
    );
}
