//! The world the message-path tests share (`message_path.rs`,
//! `device_rules.rs`): a supplier and a network operator with SMKI
//! certificates, the recovery, ACB and manufacturer keys, and one
//! electricity meter holding their anchors.
#![allow(dead_code)]

use dccsim::crypto::device::{Anchor, AnchorSlot, DeviceSecurity, ANCHOR_SLOTS};
use dccsim::crypto::gbcs::{Body, Fuel, MessageKind};
use dccsim::crypto::mac::ecdh;
use dccsim::crypto::registry::KeyRegistry;
use dccsim::crypto::request::{build_command, ServiceRequest};
use dccsim::crypto::smki::{CertRole, Certificate, KeyUsage, Smki};
use dccsim::crypto::{derive_key, KeyRole, SigningKey};

pub const SEED: u64 = 2026;
pub const SUPPLIER: u64 = 0x5100_0000_0000_0001;
pub const NETWORK_OPERATOR: u64 = 0x5200_0000_0000_0001;
pub const RECOVERY: u64 = 0x5300_0000_0000_0001;
pub const ACB: u64 = 0x5400_0000_0000_0001;
pub const DEVICE: u64 = 0x00AB_CDEF_0000_0042;
pub const YEAR_S: u64 = 365 * 86_400;

pub struct World {
    pub smki: Smki,
    pub keys: KeyRegistry,
    pub supplier_req: SigningKey,
    pub supplier_cert: Certificate,
    pub supplier_cmd: SigningKey,
    pub no_req: SigningKey,
    pub no_cert: Certificate,
    pub no_cmd: SigningKey,
    pub recovery: SigningKey,
    pub acb: SigningKey,
    pub manufacturer: SigningKey,
    pub device_key: SigningKey,
    pub z: [u8; 32],
    pub device: DeviceSecurity,
}

pub fn world() -> World {
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

impl World {
    /// A command from `originator` to the world's meter, for the meter's
    /// fuel, MAC'd with the ACB's shared secret; signed with `key` when the
    /// command is critical (see [`build_command`]).
    pub fn command(
        &self,
        kind: MessageKind,
        originator: u64,
        counter: u64,
        body: &Body,
        key: Option<&SigningKey>,
    ) -> Vec<u8> {
        build_command(
            kind,
            self.device.fuel,
            originator,
            DEVICE,
            counter,
            body,
            key,
            Some(&self.z),
        )
    }
}

pub fn request(kind: MessageKind, user: u64, counter: u64) -> ServiceRequest {
    ServiceRequest {
        kind,
        user,
        target: DEVICE,
        counter,
        body: Vec::new(),
    }
}
