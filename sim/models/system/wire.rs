//! The cast's keys, role credentials (a dual-fuel supplier's import and
//! gas supplier credentials) and the GBCS (Great Britain Companion Specification)
//! messages it makes: ECDH secrets between meters and the ACB (access
//! control broker), users and suppliers' prepayment keys; users' X.509
//! command certificates; device commands with their bodies (credential
//! updates, firmware images, top-up tokens) and signed service requests.
//! Split from `world.rs`, whose `World` these methods extend.

use super::world::{
    ReqKind, Signer, World, ACB_ID, COS_ID, ISSUING_AUTHORITY_ID, ORG_CA_NAME, RECOVERY_ID,
    ROOT_ID, WAN_PROVIDER_ID,
};
use crate::crypto::device::{Anchor, AnchorSlot, ANCHOR_SLOTS};
use crate::crypto::gbcs::{Body, Fuel, MessageKind};
use crate::crypto::keys::{derive_key, derive_scalar, KeyRole};
use crate::crypto::registry::{fingerprint, KeyFp};
use crate::crypto::smki::CertRole;
use crate::crypto::table::FixedBaseTable;
use crate::crypto::SigningKey;
use std::sync::Arc;

impl World {
    /// The role user `u` acts in towards a meter of `fuel`, for identity
    /// and access management. Suppliers are dual fuel: import supplier for
    /// electricity meters, gas supplier for gas meters, each role with its
    /// own credential. Other users alternate between network operator and
    /// other user; a network-operator user stands for the electricity
    /// distributor and the gas transporter of its meters (assumption: the
    /// model's cast has one such user per pair of licensees).
    pub fn role_for(&self, u: u32, fuel: Fuel) -> CertRole {
        let gas = fuel == Fuel::Gas;
        if u < self.suppliers {
            if gas {
                CertRole::GasSupplier
            } else {
                CertRole::ImportSupplier
            }
        } else if (u - self.suppliers) % 2 == 0 {
            if gas {
                CertRole::GasTransporter
            } else {
                CertRole::ElectricityDistributor
            }
        } else {
            CertRole::OtherUser
        }
    }

    /// The command credential (index into [`World::user_command_keys`]) user
    /// `u` signs commands to a `fuel` meter with: a supplier's gas supplier
    /// credential for gas meters, its own otherwise.
    pub fn cred(&self, u: u32, fuel: Fuel) -> u32 {
        if fuel == Fuel::Gas && u < self.suppliers {
            self.users + u
        } else {
            u
        }
    }

    /// The user holding command credential `c`, and the credential's fuel.
    pub fn cred_owner(&self, c: u32) -> (u32, Fuel) {
        if c >= self.users {
            (c - self.users, Fuel::Gas)
        } else {
            (c, Fuel::Electricity)
        }
    }

    /// The command credential meter `m`'s registered supplier signs with
    /// (the one whose key the meter holds as its supplier anchor).
    pub fn supplier_cred(&self, m: u32) -> u32 {
        self.cred(self.supplier_of(m), self.fuel(m))
    }

    /// Command credential `c`'s organisation certificates for its two keys.
    pub(super) fn issue_command_certs(&self, c: u32) -> [std::sync::Arc<[u8]>; 2] {
        use crate::crypto::x509::{issue, Issuer, Subject, Usage};
        let ca = derive_key(self.seed, KeyRole::OrgCa, 0);
        let issuer = Issuer {
            name: ORG_CA_NAME,
            key: &ca,
        };
        let (u, fuel) = self.cred_owner(c);
        // GBCS's remote party role codes: supplier (either fuel), network
        // operator, other user.
        let role = match self.role_for(u, fuel) {
            CertRole::ImportSupplier | CertRole::GasSupplier => "02",
            CertRole::ElectricityDistributor | CertRole::GasTransporter => "03",
            _ => "08",
        };
        let subject = Subject::Organisation {
            // The gas supplier credential's name has the same length, so a
            // credential update (and its airtime) is the same size either way.
            name: if c == u {
                format!("DCCSIM USER {u}")
            } else {
                format!("DCCSIM GSUP {u}")
            },
            role: role.into(),
            eui: self.user_id(u),
        };
        [0u64, 1].map(|gen| {
            let mut serial = [0u8; 16];
            serial[..8].copy_from_slice(&self.seed.to_be_bytes());
            serial[8..].copy_from_slice(&(gen << 32 | c as u64).to_be_bytes());
            let key = self.user_command_keys[c as usize][gen as usize].0.public();
            // Valid from 1 January 2026 (assumption: any fixed date; validity
            // is not checked by devices).
            issue(
                &subject,
                key,
                Usage::Signing,
                serial,
                1_767_225_600,
                &issuer,
            )
            .expect("a well-formed certificate")
            .into()
        })
    }

    /// The ECDH secret between the ACB and meter `m` (computed as the device
    /// would: its private scalar times the ACB's public point, with the ACB's
    /// table; the ACB's side gives the same value).
    pub fn acb_secret(&self, m: u32) -> [u8; 32] {
        let d = derive_scalar(self.seed, KeyRole::DeviceKeyAgreement, self.device_id(m));
        crate::crypto::mac::ecdh_with_table(&d, &self.acb_table)
            .expect("derived scalars are non-zero")
    }

    /// The ECDH secret between meter `m` and ACB key-agreement key `gen`:
    /// 0 the commissioned ACB key, 1 the DCC's replacement (see
    /// [`AcbReplacement`]), anything else the attacker's own key (the only
    /// other key-agreement key in the cast).
    pub fn acb_secret_gen(&self, m: u32, gen: u8) -> [u8; 32] {
        match (gen, &self.commissioned.acb_next) {
            (0, _) => self.acb_secret(m),
            (1, next) => {
                let d = derive_scalar(self.seed, KeyRole::DeviceKeyAgreement, self.device_id(m));
                match next {
                    Some(n) => crate::crypto::mac::ecdh_with_table(&d, &n.table),
                    None => crate::crypto::mac::ecdh(&d, acb_next_key(self.seed).public()),
                }
                .expect("derived scalars are non-zero")
            }
            _ => self.attacker_secret(m),
        }
    }

    /// Which ACB key generation (see [`World::acb_secret_gen`]) an ACB cell
    /// holding key `fp` refers to.
    pub fn acb_gen_of(&self, fp: KeyFp) -> u8 {
        if fp == self.commissioned.common[AnchorSlot::Acb as usize].key {
            0
        } else if fp == self.commissioned.acb_next_fp {
            1
        } else {
            2
        }
    }

    /// The secret an attacker without the ACB's key would MAC with: ECDH of
    /// the device's public key with a key-agreement key of its own.
    pub fn attacker_secret(&self, m: u32) -> [u8; 32] {
        let d = derive_scalar(self.seed, KeyRole::DeviceKeyAgreement, self.device_id(m));
        crate::crypto::mac::ecdh_with_table(&d, &self.attacker_ka_table)
            .expect("derived scalars are non-zero")
    }

    /// The ECDH secret between meter `m`'s key-agreement key and user `u`'s
    /// (responses and alerts to `u` are MAC'd, and reads encrypted, under it).
    pub fn user_secret(&self, u: u32, m: u32) -> [u8; 32] {
        self.device_secret(m, KeyRole::UserKeyAgreement, u, &self.user_ka_tables)
    }

    /// The ECDH secret between meter `m`'s key-agreement key and supplier
    /// `s`'s prepayment key (top-up tokens).
    pub fn prepayment_secret(&self, s: u32, m: u32) -> [u8; 32] {
        self.device_secret(
            m,
            KeyRole::UserPrepaymentKeyAgreement,
            s,
            &self.prepayment_tables,
        )
    }

    fn device_secret(&self, m: u32, role: KeyRole, u: u32, tables: &[FixedBaseTable]) -> [u8; 32] {
        let d = derive_scalar(self.seed, KeyRole::DeviceKeyAgreement, self.device_id(m));
        match tables.get(u as usize) {
            Some(t) => crate::crypto::mac::ecdh_with_table(&d, t),
            None => crate::crypto::mac::ecdh(&d, derive_key(self.seed, role, u as u64).public()),
        }
        .expect("derived scalars are non-zero")
    }

    /// The GBCS command bytes of `msg` to meter `meter` at `counter`,
    /// signed by `signer` when critical and MAC'd with `mac_z` (the ACB's
    /// secret with the meter, or an attacker's own).
    #[allow(clippy::too_many_arguments)]
    pub fn command_bytes(
        &self,
        msg: MessageKind,
        signer: Signer,
        claimed: u32,
        meter: u32,
        counter: u64,
        firmware_genuine: bool,
        slot: AnchorSlot,
        mac_z: &[u8; 32],
    ) -> Vec<u8> {
        crate::crypto::request::build_command(
            msg,
            self.fuel(meter),
            self.originator(signer, claimed),
            self.device_id(meter),
            counter,
            &self.command_body(msg, signer, meter, counter, firmware_genuine, slot),
            self.signing_key(signer),
            Some(mac_z),
        )
    }

    /// Meter `m`'s signing key (derived on demand, never stored).
    pub fn device_key(&self, m: u32) -> SigningKey {
        derive_key(self.seed, KeyRole::DeviceSigning, self.device_id(m))
    }

    /// The body a command carries: a credential update installs, in cell
    /// `slot`, supplier `meter`'s replacement key (the supplier cell), the
    /// gaining supplier's key when the CoS party signs it (a change of
    /// supplier), or the DCC's replacement ACB key (the ACB cell); a firmware command carries the
    /// manufacturer's image (or, if not `firmware_genuine`, the attacker's);
    /// a top-up carries a UTRN the registered supplier made with its
    /// prepayment key (in GB the supplier makes the token and the DCC only
    /// carries it). Value: £10, as RTDS's (assumption: the model does not
    /// track balances).
    pub fn command_body(
        &self,
        msg: MessageKind,
        signer: Signer,
        meter: u32,
        counter: u64,
        firmware_genuine: bool,
        slot: AnchorSlot,
    ) -> Body {
        match msg {
            MessageKind::PrepaymentTopUp => {
                let s = self.supplier_of(meter);
                Body::TopUp {
                    utrn: crate::crypto::gbcs::utrn::issue(
                        &self.prepayment_secret(s, meter),
                        self.user_id(s),
                        self.device_id(meter),
                        counter,
                        crate::crypto::gbcs::utrn::ValueClass::Pounds,
                        10,
                    ),
                }
            }
            MessageKind::UpdateSecurityCredentials if slot == AnchorSlot::Acb => {
                let next = self.acb_replacement();
                Body::CredentialUpdate {
                    slot: AnchorSlot::Acb as u8,
                    owner: ACB_ID,
                    key: next.key.public().to_uncompressed(),
                    cert: next.cert.clone(),
                }
            }
            // A change of supplier: the gaining supplier's key and certificate.
            MessageKind::UpdateSecurityCredentials if signer == Signer::Cos => {
                let g = self
                    .switch_of(meter)
                    .map_or(self.supplier_of(meter), |s| s.gaining);
                let c = self.cred(g, self.fuel(meter)) as usize;
                Body::CredentialUpdate {
                    slot: AnchorSlot::Supplier as u8,
                    owner: self.user_id(g),
                    key: self.user_command_keys[c][0].0.public().to_uncompressed(),
                    cert: self.command_certs[c][0].clone(),
                }
            }
            MessageKind::UpdateSecurityCredentials => {
                let s = self.supplier_of(meter);
                let c = self.supplier_cred(meter) as usize;
                Body::CredentialUpdate {
                    slot: AnchorSlot::Supplier as u8,
                    owner: self.user_id(s),
                    key: self.user_command_keys[c][1].0.public().to_uncompressed(),
                    cert: self.command_certs[c][1].clone(),
                }
            }
            MessageKind::UpdateFirmware | MessageKind::ActivateFirmware => {
                self.firmware_bodies[usize::from(!firmware_genuine)].clone()
            }
            _ => Body::Plain,
        }
    }

    /// The signed service-request bytes of request `id` (when the crypto
    /// mode runs cryptography for it), signed by `key`.
    #[allow(clippy::too_many_arguments)]
    pub fn request_bytes(
        &self,
        id: u64,
        msg: MessageKind,
        claimed: u32,
        meter: u32,
        counter: u64,
        key: &SigningKey,
    ) -> Option<Box<[u8]>> {
        self.policy.runs_crypto(id).then(|| {
            crate::crypto::request::ServiceRequest {
                kind: msg,
                user: self.user_id(claimed),
                target: self.device_id(meter),
                counter,
                body: Vec::new(),
            }
            .encode_signed(key)
            .into_boxed_slice()
        })
    }
}

impl World {
    /// The GBCS message kind a request to a `fuel` meter becomes. Gas
    /// meters have no remote enable: a supplier arms them instead (SR 7.3),
    /// and the household opens the valve.
    pub fn message_kind(kind: ReqKind, variant: u8, fuel: Fuel) -> MessageKind {
        let m = Self::fuel_free_kind(kind, variant);
        if fuel == Fuel::Gas && m == MessageKind::EnableSupply {
            MessageKind::ArmSupply
        } else {
            m
        }
    }

    fn fuel_free_kind(kind: ReqKind, variant: u8) -> MessageKind {
        match kind {
            ReqKind::ScheduledRead | ReqKind::DccScheduled => MessageKind::ReadDailyLog,
            // A configuration read's wire form is the instantaneous read's
            // (same class: non-critical, ACB-MAC'd; assumption, see
            // models/gb_default.toml).
            ReqKind::OnDemandRead | ReqKind::Configuration => MessageKind::ReadInstantaneous,
            ReqKind::FirmwareDistribution => MessageKind::UpdateFirmware,
            ReqKind::PrepaymentTopUp => MessageKind::PrepaymentTopUp,
            ReqKind::TariffUpdate => MessageKind::UpdateTariff,
            ReqKind::CriticalCommand | ReqKind::Attack | ReqKind::Recovery => match variant % 3 {
                0 => MessageKind::DisableSupply,
                1 => MessageKind::EnableSupply,
                _ => MessageKind::ArmSupply,
            },
            ReqKind::Alert => MessageKind::Alert,
            ReqKind::ChangeOfSupplier => MessageKind::UpdateSecurityCredentials,
            ReqKind::Installation => MessageKind::CommissionDevice,
        }
    }
}

/// The trust anchors a meter gets at commissioning that do not depend on
/// the meter, the WAN provider's of each CSP region, and the keys behind
/// them (which devices' checks must be able to look up).
pub struct Commissioned {
    /// Root, recovery, ACB, transitional change of supplier and issuing
    /// authority; the supplier, network-operator and WAN-provider cells
    /// are empty here (see [`World::anchors_of`]).
    pub common: [Anchor; ANCHOR_SLOTS],
    /// The WAN provider's anchor per CSP region.
    pub wan: [Anchor; 3],
    /// The keys of those anchors.
    pub keys: Vec<SigningKey>,
    /// Fingerprint of the DCC's replacement ACB key (see [`AcbReplacement`]).
    pub acb_next_fp: KeyFp,
    /// The replacement itself, built when the scenario declares `[acb_rekey]`.
    pub acb_next: Option<AcbReplacement>,
}

/// The DCC's replacement ACB key-agreement key, which the `[acb_rekey]`
/// campaign installs in every meter's ACB cell after the ACB's key was
/// compromised: the key, its table (meters' ECDH with it) and its X.509
/// certificate (key agreement, issued by the SMKI organisation CA) that
/// the credential update carries.
pub struct AcbReplacement {
    /// The key.
    pub key: SigningKey,
    /// Table of its public point.
    pub table: FixedBaseTable,
    /// Its certificate (DER).
    pub cert: Arc<[u8]>,
}

/// The DCC's replacement ACB key (generation 1), derived from the seed.
fn acb_next_key(seed: u64) -> SigningKey {
    derive_key(seed, KeyRole::AcbKeyAgreement, 1)
}

impl Default for Commissioned {
    fn default() -> Self {
        Commissioned {
            common: [Anchor { owner: 0, key: 0 }; ANCHOR_SLOTS],
            wan: [Anchor { owner: 0, key: 0 }; 3],
            keys: Vec::new(),
            acb_next_fp: 0,
            acb_next: None,
        }
    }
}

impl World {
    /// Builds [`World::commissioned`]: the SMKI root, the recovery key, the
    /// ACB's key-agreement key, the DCC's transitional change-of-supplier
    /// party, the issuing authority (the organisation CA) and each
    /// region's WAN provider, all derived from the seed.
    pub(super) fn commissioning_anchors(&self) -> Commissioned {
        let fp = |k: &SigningKey| fingerprint(&k.public().to_uncompressed());
        let root = derive_key(self.seed, KeyRole::RootCa, 0);
        let cos = derive_key(self.seed, KeyRole::ChangeOfSupplier, 0);
        let ia = derive_key(self.seed, KeyRole::OrgCa, 0);
        let mut common = [Anchor { owner: 0, key: 0 }; ANCHOR_SLOTS];
        for (slot, owner, key) in [
            (AnchorSlot::Root, ROOT_ID, fp(&root)),
            (AnchorSlot::Recovery, RECOVERY_ID, self.recovery_fp),
            (AnchorSlot::Acb, ACB_ID, fp(&self.acb)),
            (AnchorSlot::TransitionalCos, COS_ID, fp(&cos)),
            (AnchorSlot::IssuingAuthority, ISSUING_AUTHORITY_ID, fp(&ia)),
        ] {
            common[slot as usize] = Anchor { owner, key };
        }
        let wan_keys: Vec<SigningKey> = (0..3)
            .map(|r| derive_key(self.seed, KeyRole::WanProvider, r))
            .collect();
        let wan = std::array::from_fn(|r| Anchor {
            owner: WAN_PROVIDER_ID + r as u64,
            key: fp(&wan_keys[r]),
        });
        let mut keys = vec![root, cos, ia, self.acb.clone()];
        keys.extend(wan_keys);
        let next = acb_next_key(self.seed);
        let acb_next_fp = fp(&next);
        let acb_next = self.sc.acb_rekey.is_some().then(|| {
            use crate::crypto::x509::{issue, Issuer, Subject, Usage};
            let ca = derive_key(self.seed, KeyRole::OrgCa, 0);
            let subject = Subject::Organisation {
                name: "DCCSIM ACB".into(),
                // The role code `dccsim gbcs sample` gives the ACB's
                // certificate (devices read only the key).
                role: "04".into(),
                eui: ACB_ID,
            };
            let mut serial = [0u8; 16];
            serial[..8].copy_from_slice(&self.seed.to_be_bytes());
            serial[8..].copy_from_slice(&ACB_ID.to_be_bytes());
            let issuer = Issuer {
                name: ORG_CA_NAME,
                key: &ca,
            };
            let cert = issue(
                &subject,
                next.public(),
                Usage::KeyAgreement,
                serial,
                1_767_225_600,
                &issuer,
            )
            .expect("a well-formed certificate");
            AcbReplacement {
                table: FixedBaseTable::new(next.public(), crate::crypto::table::KEY_TABLE_WINDOW),
                key: next,
                cert: cert.into(),
            }
        });
        Commissioned {
            common,
            wan,
            keys,
            acb_next_fp,
            acb_next,
        }
    }

    /// The DCC's transitional change-of-supplier party's signing key.
    pub fn cos_key(&self) -> &SigningKey {
        &self.commissioned.keys[1]
    }

    /// The DCC's replacement ACB key (the scenario must declare `[acb_rekey]`).
    fn acb_replacement(&self) -> &AcbReplacement {
        self.commissioned
            .acb_next
            .as_ref()
            .expect("an ACB credential update is sent only under [acb_rekey]")
    }

    /// The network-operator user whose anchor meter `m` holds: the
    /// network-operator users (every other user after the suppliers, see
    /// [`World::role_for`]) take the meters in turn; `None` when the cast
    /// has none.
    pub fn network_operator_of(&self, m: u32) -> Option<u32> {
        let n = (self.users - self.suppliers).div_ceil(2);
        (n > 0).then(|| self.suppliers + 2 * (m % n))
    }

    /// Meter `m`'s trust anchors as commissioned: every cell filled (the
    /// network operator's only when the cast has one), the supplier cell
    /// with the generation-0 key of the supplier's credential for the
    /// meter's fuel.
    pub fn anchors_of(&self, m: u32) -> [Anchor; ANCHOR_SLOTS] {
        let mut a = self.commissioned.common;
        a[AnchorSlot::Supplier as usize] = Anchor {
            owner: self.user_id(self.supplier_of(m)),
            key: self.anchor_fingerprint(self.supplier_cred(m), 0),
        };
        if let Some(u) = self.network_operator_of(m) {
            a[AnchorSlot::NetworkOperator as usize] = Anchor {
                owner: self.user_id(u),
                key: self.anchor_fingerprint(u, 0),
            };
        }
        a[AnchorSlot::WanProvider as usize] = self.commissioned.wan[self.region_of(m)];
        a
    }
}
