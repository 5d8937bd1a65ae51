//! The message path end to end with real cryptography, and every way it
//! must refuse: each refusal with its own reason. What a device accepts
//! beyond a command's signature (firmware, credential updates, top-ups,
//! its fuel) is in `device_rules.rs`.

mod path_world;

use dccsim::crypto::device::{AnchorSlot, Executed, Reject};
use dccsim::crypto::ecdsa::hash_to_scalar;
use dccsim::crypto::gbcs::{frame, Body, Cra, Fuel, MessageKind};
use dccsim::crypto::mode::{CryptoCounters, CryptoMode, CryptoPolicy};
use dccsim::crypto::request::{build_command, dsp_authenticate, RequestReject};
use dccsim::crypto::{derive_key, verify_oneoff, KeyRole};
use path_world::*;

#[test]
fn legitimate_disable_supply_goes_through_every_check() {
    let mut w = world();
    let sr = request(MessageKind::DisableSupply, SUPPLIER, 1).encode_signed(&w.supplier_req);
    let crl = w.smki.revocation_list().clone();
    let vk = w.supplier_cert.verify_key().unwrap();
    let ok = dsp_authenticate(&sr, &w.supplier_cert, &vk, &w.smki, &crl, 100).unwrap();
    assert_eq!(ok.kind, MessageKind::DisableSupply);
    let cmd = w.command(ok.kind, SUPPLIER, 10, &Body::Plain, Some(&w.supplier_cmd));
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
    let read = w.command(
        MessageKind::ReadInstantaneous,
        SUPPLIER,
        11,
        &Body::Plain,
        None,
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
        w.command(
            MessageKind::DisableSupply,
            SUPPLIER,
            10,
            &Body::Plain,
            Some(&w.supplier_cmd),
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
    let mut cmd = w.command(
        MessageKind::EnableSupply,
        SUPPLIER,
        5,
        &Body::Plain,
        Some(&w.supplier_cmd),
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
    let cmd = w.command(
        MessageKind::DisableSupply,
        NETWORK_OPERATOR,
        1,
        &Body::Plain,
        Some(&w.no_cmd),
    );
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::WrongOriginator)
    );
    // Claiming to be the supplier but signed with the network operator's key.
    let cmd = w.command(
        MessageKind::DisableSupply,
        SUPPLIER,
        2,
        &Body::Plain,
        Some(&w.no_cmd),
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
    let cmd = w.command(
        MessageKind::DisableSupply,
        SUPPLIER,
        77,
        &Body::Plain,
        Some(&w.supplier_cmd),
    );
    assert!(w.device.receive_command(&cmd, &w.z, None, &w.keys).is_ok());
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::Replay),
        "same bytes again"
    );
    let older = w.command(
        MessageKind::EnableSupply,
        SUPPLIER,
        50,
        &Body::Plain,
        Some(&w.supplier_cmd),
    );
    assert_eq!(
        w.device.receive_command(&older, &w.z, None, &w.keys),
        Err(Reject::Replay),
        "a lower counter"
    );
    let newer = w.command(
        MessageKind::EnableSupply,
        SUPPLIER,
        78,
        &Body::Plain,
        Some(&w.supplier_cmd),
    );
    assert_eq!(
        w.device
            .receive_command(&newer, &w.z, None, &w.keys)
            .unwrap()
            .executed,
        Executed::SupplyEnabled
    );
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
    let cmd = w.command(MessageKind::DisableSupply, SUPPLIER, 3, &Body::Plain, None);
    assert_eq!(
        w.device.receive_command(&cmd, &w.z, None, &w.keys),
        Err(Reject::MissingSignature)
    );
    let acb_signed = w.command(
        MessageKind::DisableSupply,
        SUPPLIER,
        4,
        &Body::Plain,
        Some(&w.acb),
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
