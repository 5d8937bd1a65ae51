//! The fixed cast of a system run: who is which entity, and the keys every
//! party holds (derived from the seed). Shared read-only by all shards.

use super::attack::AttackSpec;
use super::governance::{draw_weighted, risk_weight, Assurance};
use super::params::SystemScenario;
use super::registration::MeterFilter;
use super::wire::Commissioned;
use crate::crypto::gbcs::{Body, Fuel, MessageKind};
use crate::crypto::keys::{derive_key, KeyRole};
use crate::crypto::mode::CryptoPolicy;
use crate::crypto::registry::{fingerprint, KeyFp};
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
    /// A supplier's configuration reads and non-critical changes (device
    /// configuration, event and security logs).
    Configuration = 5,
    /// A supplier's business-as-usual firmware rollout: SR 11.1 image
    /// deliveries.
    FirmwareDistribution = 6,
    /// DCC-scheduled requests: reads the DSP runs on other users' (network
    /// operators') standing schedules.
    DccScheduled = 7,
    /// A device alert on its way to the DCC.
    Alert = 8,
    /// The attacker's commands or requests.
    Attack = 9,
    /// Recovery work: restoring supply, replacing anchors, firmware fixes.
    Recovery = 10,
    /// A gaining supplier's change-of-supplier credential update (SR 6.23).
    ChangeOfSupplier = 11,
    /// An installing supplier's commissioning of a meter installed during
    /// the run (SR 8.1.1 commission device).
    Installation = 12,
}

impl ReqKind {
    /// Every kind, in report order.
    pub const ALL: [ReqKind; 13] = [
        ReqKind::ScheduledRead,
        ReqKind::OnDemandRead,
        ReqKind::PrepaymentTopUp,
        ReqKind::TariffUpdate,
        ReqKind::CriticalCommand,
        ReqKind::Configuration,
        ReqKind::FirmwareDistribution,
        ReqKind::DccScheduled,
        ReqKind::Alert,
        ReqKind::Attack,
        ReqKind::Recovery,
        ReqKind::ChangeOfSupplier,
        ReqKind::Installation,
    ];

    /// Stable snake-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReqKind::ScheduledRead => "scheduled_read",
            ReqKind::OnDemandRead => "on_demand_read",
            ReqKind::PrepaymentTopUp => "prepayment_topup",
            ReqKind::TariffUpdate => "tariff_update",
            ReqKind::CriticalCommand => "critical_command",
            ReqKind::Configuration => "configuration",
            ReqKind::FirmwareDistribution => "firmware_distribution",
            ReqKind::DccScheduled => "dcc_scheduled",
            ReqKind::Alert => "alert",
            ReqKind::Attack => "attack",
            ReqKind::Recovery => "recovery",
            ReqKind::ChangeOfSupplier => "change_of_supplier",
            ReqKind::Installation => "installation",
        }
    }
}

/// The three CSP regions.
pub const REGIONS: [&str; 3] = ["north", "central", "south"];

/// Which key signed a command (for ground truth: does it match the anchor?).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// Unsigned.
    None,
    /// A command credential's key (the credential's index, see
    /// [`World::cred`]), generation `gen` (0 original, 1 replacement).
    User(u32, u8),
    /// The SMKI (Smart Metering Key Infrastructure) recovery key.
    Recovery,
    /// The DCC's transitional change-of-supplier (CoS) party's key.
    Cos,
    /// A key of the attacker's own.
    Attacker,
}

/// Manufacturer id of every meter's firmware.
pub const MANUFACTURER: u16 = 0x0E5E;
/// The originator id of the SMKI recovery key's commands.
pub const RECOVERY_ID: u64 = 0x5EC0_0000_0000_0001;
/// The access control broker's (ACB's) identifier (EUI-64 style).
pub const ACB_ID: u64 = 0x5ACB_0000_0000_0001;
/// The SMKI root's identifier in a device's root cell.
pub const ROOT_ID: u64 = 0x5200_7000_0000_0001;
/// The transitional change-of-supplier party's identifier.
pub const COS_ID: u64 = 0x5C05_0000_0000_0001;
/// The SMKI issuing authority's (organisation CA's) identifier.
pub const ISSUING_AUTHORITY_ID: u64 = 0x5CA0_0000_0000_0001;
/// The WAN provider of CSP region `r` is `WAN_PROVIDER_ID + r`.
pub const WAN_PROVIDER_ID: u64 = 0x5A40_0000_0000_0000;
/// The distinguished name of the SMKI organisation CA that issues X.509
/// organisation certificates (role code 07, as RTDS's issuer `OU=07, CN=Z1`).
pub const ORG_CA_NAME: &[(&str, &str)] = &[("OU", "07"), ("CN", "DCCSIM ORG CA")];

/// Slots of a 1000-meter cycle: meter `m`'s supplier is decided by `m % 1000`.
pub(super) const CYCLE: u32 = 1000;

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
    /// The attacker's entity (idle without an attack).
    pub attacker: EntityId,
    /// The DSP's entity.
    pub dsp: EntityId,
    /// The DCC security operations centre's entity.
    pub soc: EntityId,
    /// The first CSP entity (north, central, south follow).
    pub csp0: EntityId,
    /// The first meter entity.
    pub meter0: EntityId,
    /// Meters.
    pub meters: u32,
    /// First meter index of each region, and the end.
    pub region_bounds: [u32; 4],
    /// Supplier `s` owns meters whose `m % 1000` lies in `[slots[s], slots[s+1])`.
    pub supplier_slots: Vec<u32>,
    /// Each user's request-signing keys (generation 0, then the replacement
    /// issued after a compromise) and their verifiers.
    pub user_request_keys: Vec<[(SigningKey, VerifyKey); 2]>,
    /// Command-signing keys (generation 0 and 1) and verifiers per role
    /// credential (see [`World::cred`]): index `u` is user `u`'s own (for a
    /// supplier, its electricity (import supplier) credential), index
    /// `users + s` is supplier `s`'s gas supplier credential. Every supplier
    /// is dual fuel and holds both; each fuel's meters hold only their own
    /// credential's key as the supplier anchor.
    pub user_command_keys: Vec<[(SigningKey, VerifyKey); 2]>,
    /// Each credential's X.509 organisation certificates (DER) for its
    /// command keys of generation 0 and 1, issued by the SMKI organisation
    /// CA; a credential update carries the generation-1 one.
    pub command_certs: Vec<[std::sync::Arc<[u8]>; 2]>,
    /// The attacker's own signing key (used where it holds none of the victim's).
    pub attacker_key: (SigningKey, VerifyKey),
    /// The SMKI recovery key.
    pub recovery: (SigningKey, VerifyKey),
    /// The meters' manufacturer's firmware-signing key.
    pub manufacturer: SigningKey,
    /// The ACB's key-agreement key and its table (devices' ECDH with it).
    pub acb: SigningKey,
    /// Table of the ACB's public point.
    pub acb_table: FixedBaseTable,
    /// The attacker's own key-agreement key (a MAC it makes without the ACB's key).
    pub attacker_ka_table: FixedBaseTable,
    /// Tables of each user's key-agreement public key (devices MAC responses
    /// and alerts to it); empty when no cryptography runs.
    pub user_ka_tables: Vec<FixedBaseTable>,
    /// Tables of each supplier's prepayment key-agreement public key (top-up
    /// tokens); empty when no cryptography runs.
    pub prepayment_tables: Vec<FixedBaseTable>,
    /// The run's attacks (`attack`, then `attacks`), each with its victim
    /// and start resolved.
    pub attacks: Vec<AttackSpec>,
    /// Anomaly thresholds per user per message code index (see [`kind_index`]).
    pub thresholds: Vec<[u32; KINDS]>,
    /// Expected critical alerts per SOC (security operations centre) window.
    pub expected_critical_alerts: f64,
    /// Firmware bodies: the manufacturer's fix, and one signed by the attacker.
    pub firmware_bodies: [Body; 2],
    /// Clock seconds (since midnight) at simulated time 0.
    pub clock0_s: f64,
    /// Fingerprints of each user's command keys (generation 0 and 1).
    pub command_fps: Vec<[KeyFp; 2]>,
    /// Fingerprint of the SMKI recovery key.
    pub recovery_fp: KeyFp,
    /// The run's changes of supplier, by meter (see `registration.rs`).
    pub switches: Vec<super::registration::Switch>,
    /// The meters installed during the run, by meter (see `registration.rs`).
    pub installs: Vec<super::registration::Install>,
    /// Which meters may be in `installs` (a fast negative answer).
    pub install_filter: MeterFilter,
    /// Which meters may be in `switches` (a fast negative answer).
    pub switch_filter: MeterFilter,
    /// The anchors every meter holds from commissioning (see
    /// [`World::anchors_of`] for the per-meter ones), and the keys behind
    /// them, to register for devices' checks.
    pub commissioned: Commissioned,
    /// Fingerprint of the manufacturer's firmware-signing key.
    pub manufacturer_fp: KeyFp,
    /// Total entities.
    pub entities: u32,
}

/// Number of GBCS message kinds the anomaly counters distinguish.
pub const KINDS: usize = 12;

/// A message kind's index among [`KINDS`].
pub fn kind_index(k: MessageKind) -> usize {
    use MessageKind::*;
    match k {
        ReadInstantaneous => 0,
        ReadDailyLog => 1,
        PrepaymentTopUp => 2,
        UpdateTariff => 3,
        EnableSupply => 4,
        DisableSupply => 5,
        ArmSupply => 6,
        UpdateSecurityCredentials => 7,
        UpdateFirmware => 8,
        ActivateFirmware => 9,
        Alert => 10,
        CommissionDevice => 11,
    }
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
        let pair = |k: SigningKey| {
            let v = k.verify_key();
            if runs_crypto {
                v.precompute();
            }
            (k, v)
        };
        // Credential `c` of `n`: generation 0 is derived from id `c`, 1 from
        // `2^32 + c` (a gas credential `users + s` thus has its own keys).
        let keys = |role, n: u32| {
            (0..n)
                .map(|c| {
                    [
                        pair(derive_key(seed, role, c as u64)),
                        pair(derive_key(seed, role, (1 << 32) | c as u64)),
                    ]
                })
                .collect::<Vec<_>>()
        };
        // Supplier shares as slots of a 1000-meter cycle.
        let shares: Vec<f64> = if sc.fleet.supplier_shares.is_empty() {
            vec![1.0 / suppliers as f64; suppliers as usize]
        } else {
            sc.fleet.supplier_shares.clone()
        };
        let mut supplier_slots = vec![0u32];
        let mut acc = 0.0;
        for s in &shares {
            acc += s;
            supplier_slots.push(((acc * CYCLE as f64).round() as u32).min(CYCLE));
        }
        *supplier_slots.last_mut().expect("non-empty") = CYCLE;
        let acb = derive_key(seed, KeyRole::AcbKeyAgreement, 0);
        let acb_table = FixedBaseTable::new(acb.public(), KEY_TABLE_WINDOW);
        let attacker_ka = derive_key(seed, KeyRole::AcbKeyAgreement, 0xA77A_C4E2);
        let attacker_ka_table = FixedBaseTable::new(attacker_ka.public(), KEY_TABLE_WINDOW);
        let user_ka_tables = key_tables(seed, runs_crypto, KeyRole::UserKeyAgreement, users);
        let prepayment_tables = key_tables(
            seed,
            runs_crypto,
            KeyRole::UserPrepaymentKeyAgreement,
            suppliers,
        );
        let attacks = resolve_attacks(&sc, seed);
        let manufacturer = derive_key(seed, KeyRole::Manufacturer, MANUFACTURER as u64);
        let attacker_key = pair(derive_key(seed, KeyRole::UserCommandSigning, 0xA77A_C4E2));
        let firmware_bodies = make_firmware_bodies(&manufacturer, &attacker_key.0);
        let mut w = World {
            policy,
            seed,
            suppliers,
            users,
            attacker: users,
            dsp: users + 1,
            soc: users + 2,
            csp0: users + 3,
            meter0: users + 6,
            meters,
            region_bounds: [0, b1.min(meters), b2.max(b1).min(meters), meters],
            supplier_slots,
            user_request_keys: keys(KeyRole::UserRequestSigning, users),
            user_command_keys: keys(KeyRole::UserCommandSigning, users + suppliers),
            command_certs: Vec::new(),
            attacker_key,
            firmware_bodies,
            recovery: pair(derive_key(seed, KeyRole::Recovery, 0)),
            manufacturer,
            acb,
            acb_table,
            attacker_ka_table,
            user_ka_tables,
            prepayment_tables,
            attacks,
            thresholds: Vec::new(),
            expected_critical_alerts: 0.0,
            entities: users + 6 + meters,
            clock0_s: sc.run.start_h * 3600.0,
            command_fps: Vec::new(),
            recovery_fp: 0,
            manufacturer_fp: 0,
            commissioned: Commissioned::default(),
            switches: Vec::new(),
            installs: Vec::new(),
            install_filter: Default::default(),
            switch_filter: Default::default(),
            sc,
        };
        w.thresholds = (0..users).map(|u| w.thresholds_of(u)).collect();
        w.command_certs = (0..users + suppliers)
            .map(|c| w.issue_command_certs(c))
            .collect();
        let fp = |k: &SigningKey| fingerprint(&k.public().to_uncompressed());
        w.command_fps = w
            .user_command_keys
            .iter()
            .map(|pair| [fp(&pair[0].0), fp(&pair[1].0)])
            .collect();
        w.recovery_fp = fp(&w.recovery.0);
        w.manufacturer_fp = fp(&w.manufacturer);
        w.commissioned = w.commissioning_anchors();
        w.installs = w.draw_installs();
        w.install_filter = MeterFilter::new(w.meters, w.installs.iter().map(|i| i.meter));
        w.switches = w.draw_switches();
        w.switch_filter = MeterFilter::new(w.meters, w.switches.iter().map(|s| s.meter));
        let t = &w.sc.parameters.traffic;
        w.expected_critical_alerts =
            meters as f64 * t.alerts_per_meter_day * t.critical_alert_share / 86_400.0
                * w.sc.parameters.soc.alert_volume_window_s;
        w
    }

    /// Whether meter `m` runs the flawed firmware of the scenario's
    /// vulnerability at the start (a pure function of the seed and `m`).
    pub fn initially_vulnerable(&self, m: u32) -> bool {
        self.sc.vulnerability.as_ref().is_some_and(|v| {
            crate::engine::rng::open01(hash_parts(&[self.seed, 0x5655_4C4E, m as u64])) < v.share
        })
    }

    /// The image hash of the manufacturer's fixed firmware (version 2).
    pub fn fixed_image_hash(&self) -> [u8; 32] {
        match &self.firmware_bodies[0] {
            Body::Firmware { image_hash, .. } => *image_hash,
            _ => unreachable!("firmware bodies are firmware"),
        }
    }

    /// Simulated nanoseconds at clock hour `h` (0 before the run's start).
    pub fn ns_at_clock_h(&self, h: f64) -> u64 {
        crate::engine::time::secs_to_ns((h * 3600.0 - self.clock0_s).max(0.0))
    }

    /// The emergency-fix campaign of supplier `s`: when it starts
    /// (nanoseconds) and its rate (images per second), or `None` without
    /// a vulnerability, a fix, or meters. The campaign's total rate is the
    /// WAN capacity share it may hold over the time an image holds it;
    /// with a priority supplier, that supplier has the whole rate first
    /// and the others share it after its vulnerable meters are done.
    pub fn fix_campaign(&self, s: u32) -> Option<(u64, f64)> {
        let v = self.sc.vulnerability.as_ref()?;
        let f = &v.fix;
        if !f.enabled || self.meters_of(s) == 0 || v.share == 0.0 {
            return None;
        }
        let p = &self.sc.parameters;
        let capacity: f64 = (0..3).map(|r| p.csp.region(r).concurrent as f64).sum();
        let total = (f.wan_share * capacity / (p.response.firmware_airtime_ms / 1e3)).max(1e-3);
        let start = v.disclosed_h + f.delay_h;
        let share = |u: u32| self.meters_of(u) as f64 / self.meters.max(1) as f64;
        let (start_h, rate) = match f.priority_supplier {
            None => (start, total * share(s)),
            Some(ps) if ps == s => (start, total),
            Some(ps) => {
                let first_h = self.meters_of(ps) as f64 * v.share / total / 3600.0;
                let rest = 1.0 - share(ps);
                (start + first_h, total * share(s) / rest.max(1e-9))
            }
        };
        Some((self.ns_at_clock_h(start_h).max(1), rate.max(1e-3)))
    }

    /// When attack `i` starts, simulated nanoseconds.
    pub fn attack_start_ns(&self, i: usize) -> u64 {
        let a = &self.attacks[i];
        crate::engine::time::secs_to_ns((a.start_h() * 3600.0 - self.clock0_s).max(0.0)).max(1)
    }

    /// When the first of the run's attacks starts (`None` without one):
    /// the origin of the summary's times to detect, contain and restore.
    pub fn first_attack_start_ns(&self) -> Option<u64> {
        (0..self.attacks.len())
            .map(|i| self.attack_start_ns(i))
            .min()
    }

    /// The largest request rate (per second) of each message kind user `u` sends normally.
    pub fn peak_rates(&self, u: u32) -> [f64; KINDS] {
        let t = &self.sc.parameters.traffic;
        let day = 86_400.0;
        let n = self.traffic_meters(u);
        let peak = 2.0 * t.daytime_profile_peak_ratio - 1.0;
        let mut r = [0.0; KINDS];
        if u < self.suppliers {
            let window_h = t.scheduled_read_window_end_h - t.scheduled_read_window_start_h;
            r[kind_index(MessageKind::ReadDailyLog)] =
                n * t.scheduled_reads_per_meter_day / (window_h * 3600.0);
            r[kind_index(MessageKind::ReadInstantaneous)] =
                n * (t.on_demand_reads_per_meter_day * peak + t.configuration_per_meter_day) / day;
            r[kind_index(MessageKind::UpdateFirmware)] =
                n * t.firmware_distribution_per_meter_day / day;
            r[kind_index(MessageKind::UpdateSecurityCredentials)] =
                n * t.change_of_supplier_per_meter_day / day;
            r[kind_index(MessageKind::CommissionDevice)] = n * t.installation_per_meter_day / day;
            r[kind_index(MessageKind::PrepaymentTopUp)] =
                n * t.prepayment_topups_per_meter_day / day * peak;
            // A tariff-change campaign is announced: its rate is expected traffic.
            let campaign_h = t.tariff_campaign_end_h - t.tariff_campaign_start_h;
            r[kind_index(MessageKind::UpdateTariff)] = n * t.tariff_updates_per_meter_day / day
                + n * t.tariff_campaign_share / (campaign_h * 3600.0);
            for k in [
                MessageKind::EnableSupply,
                MessageKind::DisableSupply,
                MessageKind::ArmSupply,
            ] {
                r[kind_index(k)] = n * t.critical_background_per_meter_day / 3.0 / day;
            }
        } else {
            r[kind_index(MessageKind::ReadDailyLog)] = n * t.dcc_scheduled_per_meter_day / day;
        }
        r
    }

    /// How many meters' worth of traffic user `u` sends: a supplier its
    /// registered meters'; the other users share the fleet's DCC-scheduled
    /// traffic equally (each may address any meter).
    pub fn traffic_meters(&self, u: u32) -> f64 {
        if u < self.suppliers {
            self.meters_of(u) as f64
        } else {
            self.meters as f64 / (self.users - self.suppliers).max(1) as f64
        }
    }

    fn thresholds_of(&self, u: u32) -> [u32; KINDS] {
        let a = &self.sc.parameters.anomaly;
        let rates = self.peak_rates(u);
        // A user's own thresholds, where it set them (below the DCC's).
        let factor = a
            .user_threshold_factors
            .get(u as usize)
            .map_or(a.threshold_factor, |f| f.min(a.threshold_factor));
        let mut th = [0u32; KINDS];
        for (t, r) in th.iter_mut().zip(rates) {
            *t = ((factor * r * a.window_s).ceil() as u64)
                .max(a.threshold_min as u64)
                .min(u32::MAX as u64) as u32;
        }
        th
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

    /// Whether meter index `m` is a gas meter (GSME); the rest are
    /// electricity meters (ESME). Spread evenly through the fleet.
    pub fn is_gas(&self, m: u32) -> bool {
        let share = self.sc.parameters.meters.gas_share;
        let u = ((m as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / (1u64 << 24) as f64;
        u < share
    }

    /// An electricity meter's annual consumption, kWh (0 for a gas meter).
    pub fn annual_kwh(&self, m: u32) -> u32 {
        if self.is_gas(m) {
            0
        } else {
            crate::grid::annual_kwh(
                &self.sc.parameters.grid,
                hash_parts(&[self.seed, 0x006B_5768, m as u64]),
            )
        }
    }

    /// A meter's identifier as its messages carry it (EUI-64 style).
    pub fn device_id(&self, m: u32) -> u64 {
        0x00DE_0000_0000_0000 | m as u64
    }

    /// A user's identifier as its messages carry it.
    pub fn user_id(&self, u: u32) -> u64 {
        0x5000_0000_0000_0000 | u as u64
    }

    /// The user whose identifier is `id`, if any.
    pub fn user_of_id(&self, id: u64) -> Option<u32> {
        (id >> 32 == 0x5000_0000 && (id as u32) < self.users).then_some(id as u32)
    }

    /// The originator id of a signer's commands, for a job claiming to be from user `claimed`.
    pub fn originator(&self, signer: Signer, claimed: u32) -> u64 {
        match signer {
            Signer::Recovery => RECOVERY_ID,
            Signer::Cos => COS_ID,
            _ => self.user_id(claimed),
        }
    }

    /// The signing key behind a [`Signer`].
    pub fn signing_key(&self, s: Signer) -> Option<&SigningKey> {
        match s {
            Signer::None => None,
            Signer::User(c, g) => Some(&self.user_command_keys[c as usize][g as usize & 1].0),
            Signer::Recovery => Some(&self.recovery.0),
            Signer::Cos => Some(self.cos_key()),
            Signer::Attacker => Some(&self.attacker_key.0),
        }
    }

    /// The fingerprint of credential `c`'s command key of generation `gen`
    /// (a supplier anchor; see [`World::supplier_cred`]).
    pub fn anchor_fingerprint(&self, c: u32, gen: u8) -> KeyFp {
        self.command_fps[c as usize][gen as usize & 1]
    }

    /// Clock seconds since midnight at simulated time `t_ns`.
    pub fn clock_s(&self, t_ns: u64) -> u64 {
        (self.clock0_s + t_ns as f64 / 1e9) as u64 % 86_400
    }

    /// Meter `m`'s fuel.
    pub fn fuel(&self, m: u32) -> Fuel {
        if self.is_gas(m) {
            Fuel::Gas
        } else {
            Fuel::Electricity
        }
    }

    /// The attacks and faults of `kind` under way at `now`, each with the
    /// end of its `[start, end)` window (nanoseconds), in scenario order.
    pub fn active_attacks(
        &self,
        kind: super::attack::AttackKind,
        now: u64,
    ) -> impl Iterator<Item = (&AttackSpec, u64)> {
        self.attacks
            .iter()
            .enumerate()
            .filter(move |(_, a)| a.kind() == kind)
            .filter_map(move |(i, a)| {
                let start = self.attack_start_ns(i);
                let end = start.saturating_add(crate::engine::time::secs_to_ns(a.duration_s()?));
                (now >= start && now < end).then_some((a, end))
            })
    }
}

/// 64 well-mixed bits from a list of words (a fixed function of them).
pub fn hash_parts(parts: &[u64]) -> u64 {
    parts.iter().fold(0x243F_6A88_85A3_08D3u64, |h, &p| {
        crate::engine::event::mix64(h ^ crate::engine::event::mix64(p))
    })
}

/// Tables of the public keys of role `role` for ids `0..n` (none when no
/// cryptography runs: callers then compute one-off).
fn key_tables(seed: u64, runs_crypto: bool, role: KeyRole, n: u32) -> Vec<FixedBaseTable> {
    if !runs_crypto {
        return Vec::new();
    }
    (0..n)
        .map(|u| FixedBaseTable::new(derive_key(seed, role, u as u64).public(), KEY_TABLE_WINDOW))
        .collect()
}

/// The two firmware bodies a run uses: the manufacturer's fix, and an image
/// signed by the attacker's own key.
fn make_firmware_bodies(manufacturer: &SigningKey, attacker: &SigningKey) -> [Body; 2] {
    use sha2::{Digest, Sha256};
    let image_hash: [u8; 32] = Sha256::digest(b"dccsim emergency firmware v2").into();
    let signed = crate::crypto::gbcs::firmware_signed_bytes(MANUFACTURER, 2, &image_hash);
    let body = |k: &SigningKey| Body::Firmware {
        manufacturer: MANUFACTURER,
        version: 2,
        image_hash,
        signature: k.sign(&signed),
    };
    [body(manufacturer), body(attacker)]
}

/// The scenario's attacks with their victims and starts resolved: a
/// governance-weighted draw for each with `draw_victim` set (the first
/// attack's draw is a function of the seed alone; attack `i > 0` mixes in
/// `i`, so adding attacks does not move the first one).
fn resolve_attacks(sc: &SystemScenario, seed: u64) -> Vec<AttackSpec> {
    let suppliers = sc.fleet.suppliers;
    let salt = |i: usize, tag: u64| {
        if i == 0 {
            hash_parts(&[seed, tag])
        } else {
            hash_parts(&[seed, tag, i as u64])
        }
    };
    sc.all_attacks()
        .enumerate()
        .map(|(i, spec)| {
            let mut spec = spec.clone();
            let (AttackSpec::Disconnect(a) | AttackSpec::Firmware(a)) = &mut spec else {
                return spec;
            };
            if a.draw_victim {
                let f = &sc.fleet;
                let g = &sc.parameters.governance;
                let weights: Vec<f64> = (0..suppliers as usize)
                    .map(|u| {
                        risk_weight(
                            g,
                            f.assurance.get(u).copied().unwrap_or(Assurance::Approved),
                            f.iso27001_certified.get(u).copied().unwrap_or(true),
                            f.third_party_connections.get(u).copied().unwrap_or(0),
                        )
                    })
                    .collect();
                a.victim = draw_weighted(&weights, salt(i, 0x6F76_6572_6E61_6E63)) as u32;
                let b2 = salt(i, 0x7374_6172_7421);
                a.start_h += crate::engine::rng::open01(b2) * a.start_spread_h;
            }
            spec
        })
        .collect()
}
