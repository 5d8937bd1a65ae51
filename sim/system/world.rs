//! The fixed cast of a system run: who is which entity, and the keys every
//! party holds (derived from the seed). Shared read-only by all shards.

use super::params::SystemScenario;
use crate::crypto::gbcs::MessageKind;
use crate::crypto::keys::{derive_key, derive_scalar, KeyRole};
use crate::crypto::mode::CryptoPolicy;
use crate::crypto::table::{FixedBaseTable, KEY_TABLE_WINDOW};
use crate::crypto::{SigningKey, VerifyKey};
use crate::engine::EntityId;

/// Request types the traffic model generates (and the summary reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ReqKind {
    /// The nightly scheduled read of every meter.
    ScheduledRead = 0,
    /// A read asked for during the day.
    OnDemandRead = 1,
    /// A prepayment top-up (critical).
    PrepaymentTopUp = 2,
    /// A tariff update (critical).
    TariffUpdate = 3,
    /// Background critical commands (enable, disable, arm supply).
    CriticalCommand = 4,
    /// Other non-critical traffic from other users.
    Other = 5,
    /// A device alert on its way to the DCC.
    Alert = 6,
}

impl ReqKind {
    /// Every kind, in report order.
    pub const ALL: [ReqKind; 7] = [
        ReqKind::ScheduledRead,
        ReqKind::OnDemandRead,
        ReqKind::PrepaymentTopUp,
        ReqKind::TariffUpdate,
        ReqKind::CriticalCommand,
        ReqKind::Other,
        ReqKind::Alert,
    ];

    /// Stable snake-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReqKind::ScheduledRead => "scheduled_read",
            ReqKind::OnDemandRead => "on_demand_read",
            ReqKind::PrepaymentTopUp => "prepayment_topup",
            ReqKind::TariffUpdate => "tariff_update",
            ReqKind::CriticalCommand => "critical_command",
            ReqKind::Other => "other",
            ReqKind::Alert => "alert",
        }
    }
}

/// The three CSP regions.
pub const REGIONS: [&str; 3] = ["north", "central", "south"];

/// Entity layout and keys.
pub struct World {
    /// The scenario.
    pub sc: SystemScenario,
    /// Root seed.
    pub seed: u64,
    /// Crypto policy.
    pub policy: CryptoPolicy,
    /// Suppliers: entities `0..suppliers`; other users follow.
    pub suppliers: u32,
    /// All users.
    pub users: u32,
    /// The DSP's entity.
    pub dsp: EntityId,
    /// The first CSP entity (north, central, south follow).
    pub csp0: EntityId,
    /// The first meter entity.
    pub meter0: EntityId,
    /// Meters.
    pub meters: u32,
    /// First meter index of each region, and the end.
    pub region_bounds: [u32; 4],
    /// Each user's request-signing key and its verifier (long-lived).
    pub user_request_keys: Vec<(SigningKey, VerifyKey)>,
    /// Each user's command-signing key and its verifier (the anchor meters hold).
    pub user_command_keys: Vec<(SigningKey, VerifyKey)>,
    /// The ACB's key-agreement key and its table (devices' ECDH with it).
    pub acb: SigningKey,
    /// Table of the ACB's public point.
    pub acb_table: FixedBaseTable,
    /// Total entities.
    pub entities: u32,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "World {{ users: {}, meters: {} }}",
            self.users, self.meters
        )
    }
}

impl World {
    /// Builds the cast for a scenario.
    pub fn new(sc: SystemScenario, seed: u64) -> Self {
        let suppliers = sc.fleet.suppliers;
        let users = suppliers + sc.fleet.other_users;
        let meters = sc.fleet.meters;
        let r = &sc.parameters.regions;
        let n = meters as f64;
        let b1 = (n * r.north_share).round() as u32;
        let b2 = (n * (r.north_share + r.central_share)).round().min(n) as u32;
        let policy = CryptoPolicy::new(sc.crypto.mode, sc.crypto.sample_fraction, seed);
        let runs_crypto = sc.crypto.mode != crate::crypto::mode::CryptoMode::Modeled;
        let keys = |role| {
            (0..users)
                .map(|u| {
                    let k = derive_key(seed, role, u as u64);
                    let v = k.verify_key();
                    if runs_crypto {
                        v.precompute();
                    }
                    (k, v)
                })
                .collect::<Vec<_>>()
        };
        let acb = derive_key(seed, KeyRole::AcbKeyAgreement, 0);
        let acb_table = FixedBaseTable::new(acb.public(), KEY_TABLE_WINDOW);
        World {
            policy,
            seed,
            suppliers,
            users,
            dsp: users,
            csp0: users + 1,
            meter0: users + 4,
            meters,
            region_bounds: [0, b1.min(meters), b2.max(b1).min(meters), meters],
            user_request_keys: keys(KeyRole::UserRequestSigning),
            user_command_keys: keys(KeyRole::UserCommandSigning),
            acb,
            acb_table,
            entities: users + 4 + meters,
            sc,
        }
    }

    /// The region (0 north, 1 central, 2 south) of meter index `m`.
    pub fn region_of(&self, m: u32) -> usize {
        if m < self.region_bounds[1] {
            0
        } else if m < self.region_bounds[2] {
            1
        } else {
            2
        }
    }

    /// The supplier a meter index is registered to.
    pub fn supplier_of(&self, m: u32) -> u32 {
        m % self.suppliers
    }

    /// A meter's identifier as its messages carry it (EUI-64 style).
    pub fn device_id(&self, m: u32) -> u64 {
        0x00DE_0000_0000_0000 | m as u64
    }

    /// A user's identifier as its messages carry it.
    pub fn user_id(&self, u: u32) -> u64 {
        0x5000_0000_0000_0000 | u as u64
    }

    /// The ECDH secret between the ACB and meter `m` (computed as the device
    /// would: its private scalar times the ACB's public point, with the ACB's
    /// table; the ACB's side gives the same value).
    pub fn acb_secret(&self, m: u32) -> [u8; 32] {
        let d = derive_scalar(self.seed, KeyRole::DeviceKeyAgreement, self.device_id(m));
        crate::crypto::mac::ecdh_with_table(&d, &self.acb_table)
            .expect("derived scalars are non-zero")
    }

    /// Meter `m`'s signing key (derived on demand, never stored).
    pub fn device_key(&self, m: u32) -> SigningKey {
        derive_key(self.seed, KeyRole::DeviceSigning, self.device_id(m))
    }

    /// The GBCS message kind a request becomes.
    pub fn message_kind(kind: ReqKind, variant: u8) -> MessageKind {
        match kind {
            ReqKind::ScheduledRead => MessageKind::ReadDailyLog,
            ReqKind::OnDemandRead | ReqKind::Other => MessageKind::ReadInstantaneous,
            ReqKind::PrepaymentTopUp => MessageKind::PrepaymentTopUp,
            ReqKind::TariffUpdate => MessageKind::UpdateTariff,
            ReqKind::CriticalCommand => match variant % 3 {
                0 => MessageKind::DisableSupply,
                1 => MessageKind::EnableSupply,
                _ => MessageKind::ArmSupply,
            },
            ReqKind::Alert => MessageKind::Alert,
        }
    }
}
