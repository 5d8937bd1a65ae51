//! What a device accepts beyond a command's signature, with real
//! cryptography: firmware signed by its manufacturer, trust anchors changed
//! only by correctly signed credential updates, prepayment top-ups
//! protected by the supplier's token (not a signature), and commands its
//! fuel cannot execute.

mod path_world;

use dccsim::crypto::device::{AnchorSlot, Executed, Reject};
use dccsim::crypto::gbcs::{firmware_signed_bytes, frame, Body, Fuel, MessageKind};
use dccsim::crypto::mac::ecdh;
use dccsim::crypto::{derive_key, KeyRole, SigningKey};
use path_world::*;
use sha2::{Digest, Sha256};

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
    let cmd = w.command(MessageKind::UpdateFirmware, SUPPLIER, 1, &bad, None);
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadFirmwareSignature)
    );
    let cmd = w.command(
        MessageKind::ActivateFirmware,
        SUPPLIER,
        2,
        &bad,
        Some(&w.supplier_cmd),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::BadFirmwareSignature)
    );
    assert_eq!(w.device.firmware_version, 1);
    // The genuine image installs.
    let good = firmware(&w.manufacturer, 7, 2);
    let cmd = w.command(MessageKind::UpdateFirmware, SUPPLIER, 3, &good, None);
    assert_eq!(
        w.device
            .receive_command(&cmd, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::FirmwareStaged(2)
    );
    let cmd = w.command(
        MessageKind::ActivateFirmware,
        SUPPLIER,
        4,
        &good,
        Some(&w.supplier_cmd),
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
    let cmd = w.command(
        MessageKind::UpdateSecurityCredentials,
        NETWORK_OPERATOR,
        1,
        &body,
        Some(&w.no_cmd),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::WrongOriginator)
    );
    // The recovery key can (e.g. after the supplier's key was compromised).
    let cmd = w.command(
        MessageKind::UpdateSecurityCredentials,
        RECOVERY,
        1,
        &body,
        Some(&w.recovery),
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
    let old = w.command(
        MessageKind::DisableSupply,
        SUPPLIER,
        9,
        &Body::Plain,
        Some(&w.supplier_cmd),
    );
    assert_eq!(
        w.device.receive_command(&old, &w.z, None, &w.keys),
        Err(Reject::WrongOriginator)
    );
    let new = w.command(
        MessageKind::DisableSupply,
        new_supplier,
        1,
        &Body::Plain,
        Some(&new_key),
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
    let cmd = w.command(
        MessageKind::PrepaymentTopUp,
        SUPPLIER,
        counter,
        &body,
        Some(&w.supplier_cmd),
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
    let later = w.command(
        MessageKind::PrepaymentTopUp,
        SUPPLIER,
        counter + (1 << 32),
        &body,
        None,
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
    let cmd = w.command(
        MessageKind::EnableSupply,
        SUPPLIER,
        3,
        &Body::Plain,
        Some(&w.supplier_cmd),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::NotACommand),
        "GB gas meters have no remote enable"
    );
    // Arming (GCS39) is what a gas supplier sends instead.
    let arm = w.command(
        MessageKind::ArmSupply,
        SUPPLIER,
        4,
        &Body::Plain,
        Some(&w.supplier_cmd),
    );
    assert_eq!(
        w.device
            .receive_command(&arm, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::SupplyArmed
    );
}
