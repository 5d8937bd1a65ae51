//! GBCS (Great Britain Companion Specification) messages as the simulator
//! sends and checks them, byte-compatible with the DCC's Reference Test Data
//! Set (RTDS 4.5.0; `models/README.md`, source S1):
//!
//! * [`frame`]: the General-Signing APDU and the MAC wrapper;
//! * [`payload`]: DLMS/GBZ/DER content of each use case;
//! * [`utrn`]: prepayment top-up tokens;
//! * [`verify`]: an independent check of any message against a keystore
//!   (what `dccsim gbcs verify` runs).
//!
//! Which messages are signed, MAC'd or both follows GBCS: critical commands
//! carry the originator's signature and the ACB's (access control broker's)
//! MAC; non-critical commands the ACB's MAC only; responses to critical
//! commands and critical alerts the device's signature only; other
//! responses and alerts the device's MAC (device × recipient keys).
//!
//! The model's message kinds map to use cases by fuel:
//!
//! | kind | electricity (ESME) | gas (GSME) | critical | device accepts it from |
//! |---|---|---|---|---|
//! | read instantaneous | ECS17b 0x0027 | GCS13a 0x0074 | no | anyone the ACB MACs for |
//! | read daily log | ECS21a 0x0033 | GCS16a 0x0077 | no | anyone the ACB MACs for |
//! | prepayment top-up | CS01a 0x0007 | CS01b 0x0097 | no (UTRN) | a token from the supplier anchor's prepayment key |
//! | update tariff | ECS01a 0x0019 | GCS01a 0x006B | yes | supplier anchor |
//! | enable supply (7.1) | ECS42 0x004F | — (gas meters refuse it: no remote enable; restoration arms them) | yes | supplier anchor |
//! | disable supply (7.2) | ECS43 0x0050 | GCS32 0x0081 | yes | supplier anchor |
//! | arm supply (7.3) | ECS44 0x0051 | GCS39 0x0085 | yes | supplier anchor |
//! | update security credentials (6.15.1) | CS02b 0x0102 | CS02b 0x0102 | yes | the replaced cell's own role, or recovery |
//! | deliver firmware (11.1) | 0x00C9 (assumption: not in RTDS) | same | no | anyone the ACB MACs for; image signed by the manufacturer |
//! | activate firmware (11.3) | CS06 0x0012 | CS06 0x0012 | yes | supplier anchor; hash of the staged image |
//! | commission device (8.1.1) | ECS70 0x0062 (set clock) | GCS28 0x007F (set clock) | yes | supplier anchor |
//! | alert, critical | ECS80 0x0067 (alert 0x8F36) | same | signed | — |
//! | alert, refused command | GCA 0x1000 (alert 0x8F30) | same | signed | — |
//! | alert, non-critical | GNCA 0x1001 (alert 0x810E) | same | MAC'd | — |
//!
//! Codes and criticality are those of the RTDS files of each use case. The
//! last column is the device rule ([`super::device`]): the roles follow the
//! originators of the RTDS files (the supplier, role 02, signs every
//! critical command above; CS02b "SupplierBySupplier" is authorised by the
//! supplier's own cell, the recovery variant by the recovery key, role 01)
//! and GBCS's rule that critical commands are checked against the trust
//! anchor of the role allowed to send them. Where GBCS allows more roles
//! than the model sends (e.g. network operators reading), the model checks
//! only what it sends.

pub mod frame;
pub mod payload;
pub mod utrn;
pub mod verify;

/// Command, response or alert (the GBCS CRA flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cra {
    /// A command to a device.
    Command = 1,
    /// A device's response.
    Response = 2,
    /// A device's alert.
    Alert = 3,
}

/// Bytes of a non-critical device alert (0x810E, MAC'd by the device).
pub const NON_CRITICAL_ALERT_BYTES: usize = 85;
/// Bytes of a meter's critical alert that it refused a command (0x8F30).
pub const REFUSAL_ALERT_BYTES: usize = 124;

/// The message types the simulator sends, with their GBCS facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// Read instantaneous values (ECS17b; non-critical).
    ReadInstantaneous,
    /// Read the daily log (non-critical).
    ReadDailyLog,
    /// Prepayment top-up (critical).
    PrepaymentTopUp,
    /// Update the tariff (critical).
    UpdateTariff,
    /// SR 7.1 enable supply (critical).
    EnableSupply,
    /// SR 7.2 disable supply (ECS43, message code 0x0050; critical).
    DisableSupply,
    /// SR 7.3 arm supply (critical).
    ArmSupply,
    /// SR 6.15.1 update security credentials: replace a trust anchor (critical).
    UpdateSecurityCredentials,
    /// SR 11.1 update firmware: deliver an image (non-critical).
    UpdateFirmware,
    /// SR 11.3 activate firmware: carries the manufacturer-signed image hash (critical).
    ActivateFirmware,
    /// SR 8.1.1 commission device: the installing supplier sets the new
    /// device's clock (ECS70 / GCS28, critical), after which the DCC's
    /// inventory records it as commissioned.
    CommissionDevice,
    /// A device alert (e.g. supply outage/restore; critical ones are signed).
    Alert,
}

impl MessageKind {
    /// Every kind, in a fixed order.
    pub const ALL: [MessageKind; 12] = [
        MessageKind::ReadInstantaneous,
        MessageKind::ReadDailyLog,
        MessageKind::PrepaymentTopUp,
        MessageKind::UpdateTariff,
        MessageKind::EnableSupply,
        MessageKind::DisableSupply,
        MessageKind::ArmSupply,
        MessageKind::UpdateSecurityCredentials,
        MessageKind::UpdateFirmware,
        MessageKind::ActivateFirmware,
        MessageKind::CommissionDevice,
        MessageKind::Alert,
    ];

    /// The message code of this kind's use case on a `fuel` meter (see the
    /// module table); alerts are the critical ECS80 code.
    pub fn code(&self, fuel: Fuel) -> u16 {
        use MessageKind::*;
        let gas = fuel == Fuel::Gas;
        match self {
            ReadInstantaneous if gas => 0x0074,
            ReadInstantaneous => 0x0027,
            ReadDailyLog if gas => 0x0077,
            ReadDailyLog => 0x0033,
            PrepaymentTopUp if gas => 0x0097,
            PrepaymentTopUp => 0x0007,
            UpdateTariff if gas => 0x006B,
            UpdateTariff => 0x0019,
            ArmSupply if gas => 0x0085,
            EnableSupply => 0x004F,
            DisableSupply if gas => 0x0081,
            DisableSupply => 0x0050,
            ArmSupply => 0x0051,
            UpdateSecurityCredentials => 0x0102,
            UpdateFirmware => FIRMWARE_DELIVERY_CODE,
            ActivateFirmware => 0x0012,
            CommissionDevice if gas => 0x007F,
            CommissionDevice => 0x0062,
            Alert => ALERT_CRITICAL_CODE,
        }
    }

    /// The GBCS use-case name on a `fuel` meter (as in the module table;
    /// RTDS's folder and file names).
    pub fn use_case(&self, fuel: Fuel) -> &'static str {
        use MessageKind::*;
        let gas = fuel == Fuel::Gas;
        match self {
            ReadInstantaneous if gas => "GCS13a",
            ReadInstantaneous => "ECS17b",
            ReadDailyLog if gas => "GCS16a",
            ReadDailyLog => "ECS21a",
            PrepaymentTopUp if gas => "CS01b",
            PrepaymentTopUp => "CS01a",
            UpdateTariff if gas => "GCS01a",
            UpdateTariff => "ECS01a",
            ArmSupply if gas => "GCS39",
            EnableSupply => "ECS42",
            DisableSupply if gas => "GCS32",
            DisableSupply => "ECS43",
            ArmSupply => "ECS44",
            UpdateSecurityCredentials => "CS02b",
            UpdateFirmware => "FWDELIVERY",
            ActivateFirmware => "CS06",
            CommissionDevice if gas => "GCS28",
            CommissionDevice => "ECS70",
            Alert => "ALERT",
        }
    }

    /// The command kind a `fuel` device reads from message code `code`
    /// (a gas arm is [`MessageKind::ArmSupply`]; alerts are not commands).
    pub fn from_code(code: u16, fuel: Fuel) -> Option<MessageKind> {
        MessageKind::ALL
            .iter()
            .copied()
            .filter(|k| *k != MessageKind::Alert)
            .filter(|k| !(fuel == Fuel::Gas && *k == MessageKind::EnableSupply))
            .find(|k| k.code(fuel) == code)
    }

    /// Bytes on the wire of this kind's command (`Cra::Command`) or its
    /// device's response (`Cra::Response`) on a `fuel` device, as the
    /// simulator builds them (`dccsim gbcs sample` writes one of each; a
    /// test holds this table to them). `Cra::Alert` with
    /// [`MessageKind::Alert`] is a critical alert (0x8F36, 152 bytes); see
    /// [`NON_CRITICAL_ALERT_BYTES`] and [`REFUSAL_ALERT_BYTES`]. A firmware
    /// delivery's size is its frame's, without the image (the model costs
    /// the image's transfer apart).
    pub fn wire_len(&self, fuel: Fuel, cra: Cra) -> usize {
        use MessageKind::*;
        let gas = fuel == Fuel::Gas;
        match (cra, self) {
            (Cra::Alert, _) => 152,
            (Cra::Command, ReadInstantaneous) if gas => 79,
            (Cra::Command, ReadDailyLog) if gas => 75,
            (Cra::Command, ReadInstantaneous | ReadDailyLog) => 158,
            (Cra::Command, PrepaymentTopUp) if gas => 93,
            (Cra::Command, PrepaymentTopUp) => 100,
            (Cra::Command, UpdateTariff) if gas => 144,
            (Cra::Command, UpdateTariff) => 154,
            (Cra::Command, DisableSupply | ArmSupply) if gas => 154,
            (Cra::Command, EnableSupply | DisableSupply | ArmSupply) => 146,
            (Cra::Command, UpdateSecurityCredentials) => 578,
            (Cra::Command, UpdateFirmware) => 174,
            (Cra::Command, ActivateFirmware) => 165,
            (Cra::Command, CommissionDevice) if gas => 161,
            (Cra::Command, CommissionDevice) => 233,
            (Cra::Command, Alert) => 152,
            (Cra::Response, ReadInstantaneous | ReadDailyLog) if gas => 131,
            (Cra::Response, ReadInstantaneous | ReadDailyLog) => 183,
            (Cra::Response, PrepaymentTopUp | UpdateFirmware) if gas => 96,
            (Cra::Response, PrepaymentTopUp | UpdateFirmware) => 84,
            (Cra::Response, _) if gas => 123,
            (Cra::Response, _) => 111,
        }
    }

    /// Whether this is a meter read (answered from the data the device,
    /// or for a gas meter the hub's gas proxy, holds).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            MessageKind::ReadInstantaneous | MessageKind::ReadDailyLog
        )
    }

    /// Whether commands of this kind are critical (signed by the originator
    /// and checked against a trust anchor by the device), as in RTDS. A
    /// prepayment top-up is not: its value is protected by the UTRN.
    pub fn is_critical(&self) -> bool {
        matches!(
            self,
            MessageKind::UpdateTariff
                | MessageKind::EnableSupply
                | MessageKind::DisableSupply
                | MessageKind::ArmSupply
                | MessageKind::UpdateSecurityCredentials
                | MessageKind::ActivateFirmware
                | MessageKind::CommissionDevice
        )
    }
}

/// Message code of firmware delivery (SR 11.1). Assumption: RTDS has no
/// 11.1 file; any code distinct from the others serves the model.
pub const FIRMWARE_DELIVERY_CODE: u16 = 0x00C9;
/// Message code of the critical alert the simulator sends (ECS80).
pub const ALERT_CRITICAL_CODE: u16 = 0x0067;
/// Message code of the critical alert a device raises when it refuses a
/// command (GCA, generic critical alert, as RTDS's 0x8F30 files).
pub const ALERT_REFUSAL_CODE: u16 = 0x1000;
/// Message code of the non-critical alert the simulator sends (GNCA).
pub const ALERT_NON_CRITICAL_CODE: u16 = 0x1001;

/// Electricity or gas: which use cases (and payload formats) a meter speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fuel {
    /// Electricity smart metering equipment (ESME): DLMS payloads.
    Electricity,
    /// Gas smart metering equipment (GSME): GBZ payloads.
    Gas,
}

/// How a message is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// Carries a signature.
    pub signed: bool,
    /// Carries a MAC.
    pub maced: bool,
}

impl Protection {
    /// What GBCS requires for a message of `kind` and `cra`.
    pub fn required(kind: MessageKind, cra: Cra) -> Protection {
        match cra {
            Cra::Command => Protection {
                signed: kind.is_critical(),
                maced: true,
            },
            _ => {
                let critical = kind.is_critical() || kind == MessageKind::Alert;
                Protection {
                    signed: critical,
                    maced: !critical,
                }
            }
        }
    }
}

/// The structured part of a command's content that devices act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A command with no security-relevant parameters (reads, supply changes, tariff).
    Plain,
    /// A prepayment top-up: the 20 ASCII digits of its UTRN.
    TopUp {
        /// The token.
        utrn: [u8; 20],
    },
    /// Replace trust anchor `slot` with the X.509 certificate `cert` (as
    /// CS02b does); `owner` and `key` are read from the certificate.
    CredentialUpdate {
        /// The slot (see [`super::device::AnchorSlot`]).
        slot: u8,
        /// The new anchor's owner: the certificate's x500UniqueIdentifier.
        owner: u64,
        /// The new key, SEC1 uncompressed: the certificate's public key.
        key: [u8; 65],
        /// The certificate (DER).
        cert: std::sync::Arc<[u8]>,
    },
    /// A firmware image (by version) whose hash the manufacturer signed.
    Firmware {
        /// Manufacturer id (which manufacturer key must have signed).
        manufacturer: u16,
        /// Firmware version.
        version: u64,
        /// SHA-256 of the image.
        image_hash: [u8; 32],
        /// The manufacturer's signature over `manufacturer ‖ version ‖ image_hash`.
        signature: [u8; 64],
    },
}

impl Body {
    /// A credential update installing organisation certificate `cert` in
    /// `slot`; `None` if `cert` is not an organisation certificate with an
    /// EUI and a P-256 key.
    pub fn credential_update(slot: u8, cert: std::sync::Arc<[u8]>) -> Option<Body> {
        let (key, info) = crate::crypto::x509::parse_certificate(&cert).ok()?;
        Some(Body::CredentialUpdate {
            slot,
            owner: info.eui?,
            key: key.to_uncompressed(),
            cert,
        })
    }
}

/// The bytes a manufacturer signs for a firmware image.
pub fn firmware_signed_bytes(manufacturer: u16, version: u64, image_hash: &[u8; 32]) -> Vec<u8> {
    let mut v = b"GBCS-FW".to_vec();
    v.extend_from_slice(&manufacturer.to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(image_hash);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_per_fuel_and_decode_back() {
        for fuel in [Fuel::Electricity, Fuel::Gas] {
            let mut seen = std::collections::HashSet::new();
            for k in MessageKind::ALL {
                if k == MessageKind::Alert || (fuel == Fuel::Gas && k == MessageKind::EnableSupply)
                {
                    continue;
                }
                assert!(seen.insert(k.code(fuel)), "{k:?} {fuel:?}");
                assert_eq!(MessageKind::from_code(k.code(fuel), fuel), Some(k));
            }
        }
        assert_eq!(
            MessageKind::from_code(MessageKind::EnableSupply.code(Fuel::Gas), Fuel::Gas),
            None,
            "gas has no remote enable: a gas meter does not know the code"
        );
        assert_eq!(
            MessageKind::from_code(ALERT_CRITICAL_CODE, Fuel::Electricity),
            None
        );
        assert!(!MessageKind::PrepaymentTopUp.is_critical());
    }
}
