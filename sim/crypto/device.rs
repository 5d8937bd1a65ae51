//! What a device (electricity or gas meter) checks before it executes a
//! command, and how it signs or MACs what it sends back.
//!
//! The order of checks follows GBCS: identifiers, the ACB's MAC, the
//! originator's counter (strictly increasing: replays are refused), then for
//! critical commands the originator's signature against the trust anchor the
//! device holds for that role. Only then does the command execute; the
//! counter is advanced only for commands that passed every check.

use super::ecdsa::{hash_to_scalar, SigningKey};
use super::gbcs::frame::{self, Header};
use super::gbcs::{payload, utrn, Body, Cra, Fuel, MessageKind, Protection};
use super::mac::{derive_mac_key, encrypt_block, gsa_mac, gsa_mac_ok, MacMode};
use super::registry::{KeyFp, KeyRegistry};

/// The trust-anchor slots a device holds, all filled at commissioning
/// (GBCS's remote-party trust anchor cells).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum AnchorSlot {
    /// The SMKI (Smart Metering Key Infrastructure) root.
    Root = 0,
    /// The SMKI recovery key (may replace any anchor but the recovery
    /// key's own by the recovery key itself).
    Recovery = 1,
    /// The registered supplier (signs supply, tariff, payment and firmware commands).
    Supplier = 2,
    /// The network operator.
    NetworkOperator = 3,
    /// The access control broker (its key-agreement key gives the MAC key).
    Acb = 4,
    /// The WAN provider.
    WanProvider = 5,
    /// The DCC's transitional change-of-supplier party: may replace the
    /// supplier anchor, so that a gaining supplier's credentials can be
    /// placed on the device.
    TransitionalCos = 6,
    /// The SMKI issuing authority (the organisation certificate authority).
    IssuingAuthority = 7,
}

/// Number of anchor slots.
pub const ANCHOR_SLOTS: usize = 8;

impl AnchorSlot {
    /// Every slot, in index order.
    pub const ALL: [AnchorSlot; ANCHOR_SLOTS] = [
        AnchorSlot::Root,
        AnchorSlot::Recovery,
        AnchorSlot::Supplier,
        AnchorSlot::NetworkOperator,
        AnchorSlot::Acb,
        AnchorSlot::WanProvider,
        AnchorSlot::TransitionalCos,
        AnchorSlot::IssuingAuthority,
    ];

    /// The slot with index `i`.
    pub fn from_index(i: u8) -> Option<AnchorSlot> {
        Self::ALL.get(i as usize).copied()
    }

    /// The slots whose holders may replace this slot's anchor with a
    /// credential update, in the order a device tries them. Every slot may
    /// be replaced by its own holder or the recovery key (GBCS: by the
    /// holder of the same role, or by the recovery or contingency keys);
    /// the supplier's also by the transitional change-of-supplier
    /// party (a change of supplier). The root is replaced by the recovery
    /// key only: GBCS replaces it with a contingency key, which the model's
    /// recovery key stands for (assumption, no separate contingency key).
    pub fn replaceable_by(self) -> &'static [AnchorSlot] {
        use AnchorSlot::*;
        match self {
            Root | Recovery => &[Recovery],
            Supplier => &[Supplier, Recovery, TransitionalCos],
            NetworkOperator => &[NetworkOperator, Recovery],
            Acb => &[Acb, Recovery],
            WanProvider => &[WanProvider, Recovery],
            TransitionalCos => &[TransitionalCos, Recovery],
            IssuingAuthority => &[IssuingAuthority, Recovery],
        }
    }
}

/// One trust anchor: whose it is and the fingerprint of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The owner's identifier (the originator id its commands carry).
    pub owner: u64,
    /// The key, by fingerprint in the [`KeyRegistry`].
    pub key: KeyFp,
}

/// How many originators' counters a device tracks.
pub const COUNTER_SLOTS: usize = 4;

/// A device's security state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSecurity {
    /// The device's identifier (EUI-64 system title).
    pub id: u64,
    /// Electricity or gas (which message codes and payloads it reads).
    pub fuel: Fuel,
    /// Trust anchors by [`AnchorSlot`].
    pub anchors: [Anchor; ANCHOR_SLOTS],
    /// Last accepted counter per originator: `(originator, counter)`; unused entries have originator 0.
    pub counters: [(u64, u64); COUNTER_SLOTS],
    /// Manufacturer id and the fingerprint of its firmware-signing key (built in).
    pub manufacturer: (u16, KeyFp),
    /// Running firmware version.
    pub firmware_version: u64,
    /// Firmware delivered and checked, waiting for activation: version and image hash.
    pub staged_firmware: Option<(u64, [u8; 32])>,
    /// A defect of the running firmware, if any: a check it skips.
    pub flaw: Option<Flaw>,
}

/// The check a flawed firmware skips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlawCheck {
    /// The ACB's MAC (a missing or wrong MAC is accepted).
    Mac,
    /// The anti-replay counter (a stale counter is accepted).
    Counter,
}

/// A firmware defect: which check it skips, and for which commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flaw {
    /// The check skipped.
    pub check: FlawCheck,
    /// Only supply commands (disable, enable, arm); else every critical command.
    pub supply_only: bool,
}

impl Flaw {
    /// Whether the flaw skips `check` for a command of `kind`.
    pub fn skips(&self, check: FlawCheck, kind: MessageKind) -> bool {
        use MessageKind::*;
        self.check == check
            && kind.is_critical()
            && (!self.supply_only || matches!(kind, DisableSupply | EnableSupply | ArmSupply))
    }
}

/// Why a device refused a command. Each reason is counted separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reject {
    /// Not a well-formed message.
    Malformed,
    /// Addressed to another device.
    WrongRecipient,
    /// Not a command, or an unknown message code.
    NotACommand,
    /// No MAC, or the ACB's MAC does not verify.
    BadMac,
    /// The counter is not greater than the last accepted one (a replay).
    Replay,
    /// A critical command without a signature.
    MissingSignature,
    /// The originator holds no anchor that may authorise this command.
    WrongOriginator,
    /// The signature does not verify against the anchor's key.
    BadSignature,
    /// A credential update whose content is invalid.
    BadCredentialUpdate,
    /// Firmware not signed by the device's manufacturer.
    BadFirmwareSignature,
    /// Too many distinct originators to track counters for.
    TooManyOriginators,
    /// A top-up whose UTRN is malformed, for another counter, or not made
    /// with the registered supplier's prepayment key.
    BadToken,
}

impl Reject {
    /// Every reason, in result-file order.
    pub const ALL: [Reject; 12] = [
        Reject::Malformed,
        Reject::WrongRecipient,
        Reject::NotACommand,
        Reject::BadMac,
        Reject::Replay,
        Reject::MissingSignature,
        Reject::WrongOriginator,
        Reject::BadSignature,
        Reject::BadCredentialUpdate,
        Reject::BadFirmwareSignature,
        Reject::TooManyOriginators,
        Reject::BadToken,
    ];

    /// Stable snake-case name for result files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reject::Malformed => "malformed",
            Reject::WrongRecipient => "wrong_recipient",
            Reject::NotACommand => "not_a_command",
            Reject::BadMac => "bad_mac",
            Reject::Replay => "replay",
            Reject::MissingSignature => "missing_signature",
            Reject::WrongOriginator => "wrong_originator",
            Reject::BadSignature => "bad_signature",
            Reject::BadCredentialUpdate => "bad_credential_update",
            Reject::BadFirmwareSignature => "bad_firmware_signature",
            Reject::TooManyOriginators => "too_many_originators",
            Reject::BadToken => "bad_token",
        }
    }
}

/// What a device did with an accepted command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executed {
    /// Answered a read.
    Read,
    /// Applied a prepayment top-up.
    TopUp,
    /// Changed its tariff.
    TariffUpdated,
    /// Closed the contactor (supply on).
    SupplyEnabled,
    /// Opened the contactor (supply off).
    SupplyDisabled,
    /// Armed the contactor (the customer may restore supply).
    SupplyArmed,
    /// Replaced a trust anchor.
    CredentialUpdated(AnchorSlot),
    /// Stored a checked firmware image.
    FirmwareStaged(u64),
    /// Switched to new firmware.
    FirmwareActivated(u64),
    /// Set its clock as its installing supplier commissioned it.
    Commissioned,
}

/// What the check used: which anchor verified the signature, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The action taken.
    pub executed: Executed,
    /// The command kind.
    pub kind: MessageKind,
    /// The originator.
    pub originator: u64,
    /// The counter accepted.
    pub counter: u64,
    /// The anchor key that verified the signature (critical commands).
    pub verified_by: Option<KeyFp>,
}

/// Which anchor slot authorises a critical command of `kind` (credential
/// updates are handled separately: the slot being replaced, or recovery).
fn authorising_slot(kind: MessageKind) -> AnchorSlot {
    match kind {
        MessageKind::PrepaymentTopUp
        | MessageKind::UpdateTariff
        | MessageKind::EnableSupply
        | MessageKind::DisableSupply
        | MessageKind::ArmSupply
        | MessageKind::ActivateFirmware
        | MessageKind::CommissionDevice => AnchorSlot::Supplier,
        _ => AnchorSlot::Root,
    }
}

impl DeviceSecurity {
    fn last_counter(&self, originator: u64) -> Option<u64> {
        self.counters
            .iter()
            .find(|(o, _)| *o == originator)
            .map(|(_, c)| *c)
    }

    fn set_counter(&mut self, originator: u64, counter: u64) -> Result<(), Reject> {
        if let Some(e) = self.counters.iter_mut().find(|(o, _)| *o == originator) {
            e.1 = counter;
            return Ok(());
        }
        let free = self
            .counters
            .iter_mut()
            .find(|(o, _)| *o == 0)
            .ok_or(Reject::TooManyOriginators)?;
        *free = (originator, counter);
        Ok(())
    }

    /// Checks and executes a command. `acb_z` is the ECDH shared secret
    /// between the ACB and this device (cached by the caller); `prepayment_z`
    /// the secret with the registered supplier's prepayment key (needed only
    /// for top-ups; without it a top-up is refused).
    pub fn receive_command(
        &mut self,
        bytes: &[u8],
        acb_z: &[u8; 32],
        prepayment_z: Option<&[u8; 32]>,
        keys: &KeyRegistry,
    ) -> Result<Accepted, Reject> {
        self.receive_command_hinted(bytes, acb_z, prepayment_z, keys, None)
    }

    /// [`DeviceSecurity::receive_command`] given the result of verifying
    /// these bytes' signature under the key with fingerprint `hint.0`,
    /// computed elsewhere (a simulator computes it ahead, in parallel):
    /// `hint.1()` is used in place of the verification when the
    /// authorising anchor holds that very key, and never otherwise. It
    /// must be that verification's result, so the outcome is the same as
    /// without the hint.
    pub fn receive_command_hinted(
        &mut self,
        bytes: &[u8],
        acb_z: &[u8; 32],
        prepayment_z: Option<&[u8; 32]>,
        keys: &KeyRegistry,
        hint: Option<(KeyFp, &mut dyn FnMut() -> bool)>,
    ) -> Result<Accepted, Reject> {
        let f = frame::parse(bytes).map_err(|_| Reject::Malformed)?;
        if f.recipient != self.id {
            return Err(Reject::WrongRecipient);
        }
        if f.cra != Cra::Command || !f.has_signature_field {
            return Err(Reject::NotACommand);
        }
        let kind = MessageKind::from_code(f.code, self.fuel).ok_or(Reject::NotACommand)?;
        let flawed = |c| self.flaw.is_some_and(|fl| fl.skips(c, kind));
        // 1. The ACB's MAC over the GSA (skipped by a flawed firmware).
        let mac_ok = f.mac.is_some_and(|tag| {
            let key = derive_mac_key(
                acb_z,
                f.originator,
                f.recipient,
                MacMode::Command,
                f.counter,
            );
            gsa_mac_ok(&key, f.originator, f.gsa, tag)
        });
        if !mac_ok && !flawed(FlawCheck::Mac) {
            return Err(Reject::BadMac);
        }
        // 2. Anti-replay (skipped by a flawed firmware).
        let stale = self
            .last_counter(f.originator)
            .is_some_and(|last| f.counter <= last);
        if stale && !flawed(FlawCheck::Counter) {
            return Err(Reject::Replay);
        }
        let (body, named) = payload::parse_command(kind, f.content).ok_or(Reject::Malformed)?;
        if named.is_some_and(|c| c != f.counter) {
            return Err(Reject::Malformed);
        }
        // 3. The originator's signature against the anchor for its role.
        let mut verified_by = None;
        if kind.is_critical() {
            let sig = f.signature.ok_or(Reject::MissingSignature)?;
            let anchor = self.authorising_anchor(kind, &body, f.originator)?;
            let vk = keys.get(anchor.key).ok_or(Reject::BadSignature)?;
            let ok = match hint {
                Some((fp, verified)) if fp == anchor.key => verified(),
                _ => vk.verify_prehash(&hash_to_scalar(f.signed_part), sig),
            };
            if !ok {
                return Err(Reject::BadSignature);
            }
            verified_by = Some(anchor.key);
        }
        // 4. Content checks that need the device's own keys.
        if let Body::TopUp { utrn } = &body {
            let supplier = self.anchors[AnchorSlot::Supplier as usize].owner;
            let z = prepayment_z.ok_or(Reject::BadToken)?;
            utrn::check(utrn, z, supplier, self.id, f.counter).map_err(|_| Reject::BadToken)?;
        }
        self.check_firmware(kind, &body, keys)?;
        let new_anchor = match &body {
            Body::CredentialUpdate {
                slot,
                owner,
                key,
                cert,
            } => {
                // The cell now holds the certificate (by its key's fingerprint).
                let fp = keys
                    .intern_cert(key, cert)
                    .ok_or(Reject::BadCredentialUpdate)?;
                Some((
                    AnchorSlot::from_index(*slot).ok_or(Reject::BadCredentialUpdate)?,
                    Anchor {
                        owner: *owner,
                        key: fp,
                    },
                ))
            }
            _ => None,
        };
        // Every check passed: advance the counter (never back), then act.
        if !stale {
            self.set_counter(f.originator, f.counter)?;
        }
        let executed = self.execute(kind, &body, new_anchor)?;
        Ok(Accepted {
            executed,
            kind,
            originator: f.originator,
            counter: f.counter,
            verified_by,
        })
    }

    /// The anchor that must have signed a critical command of `kind` from
    /// `originator`: the slot's own role, or (for credential updates) the
    /// recovery key.
    fn authorising_anchor(
        &self,
        kind: MessageKind,
        body: &Body,
        originator: u64,
    ) -> Result<Anchor, Reject> {
        let anchor = match (body, kind) {
            (Body::CredentialUpdate { slot, .. }, MessageKind::UpdateSecurityCredentials) => {
                let target = AnchorSlot::from_index(*slot).ok_or(Reject::BadCredentialUpdate)?;
                target
                    .replaceable_by()
                    .iter()
                    .map(|&s| self.anchors[s as usize])
                    .find(|a| a.owner == originator && a.owner != 0)
                    .ok_or(Reject::WrongOriginator)?
            }
            (_, MessageKind::UpdateSecurityCredentials) => return Err(Reject::BadCredentialUpdate),
            _ => {
                let a = self.anchors[authorising_slot(kind) as usize];
                if a.owner != originator {
                    return Err(Reject::WrongOriginator);
                }
                a
            }
        };
        Ok(anchor)
    }

    /// A delivered firmware image must be signed by the device's
    /// manufacturer; an activation (CS06) must name the staged image's hash.
    fn check_firmware(
        &self,
        kind: MessageKind,
        body: &Body,
        keys: &KeyRegistry,
    ) -> Result<(), Reject> {
        let Body::Firmware {
            manufacturer,
            version,
            image_hash,
            signature,
        } = body
        else {
            return Ok(());
        };
        if kind == MessageKind::ActivateFirmware {
            return match self.staged_firmware {
                Some((_, h)) if h == *image_hash => Ok(()),
                _ => Err(Reject::BadFirmwareSignature),
            };
        }
        let (m, m_key) = self.manufacturer;
        let signed = super::gbcs::firmware_signed_bytes(*manufacturer, *version, image_hash);
        let ok = *manufacturer == m
            && keys
                .get(m_key)
                .is_some_and(|k| k.verify(&signed, signature));
        if !ok {
            return Err(Reject::BadFirmwareSignature);
        }
        Ok(())
    }

    /// Acts on a command that passed every check.
    fn execute(
        &mut self,
        kind: MessageKind,
        body: &Body,
        new_anchor: Option<(AnchorSlot, Anchor)>,
    ) -> Result<Executed, Reject> {
        Ok(match (kind, body) {
            (MessageKind::ReadInstantaneous | MessageKind::ReadDailyLog, _) => Executed::Read,
            (MessageKind::PrepaymentTopUp, _) => Executed::TopUp,
            (MessageKind::UpdateTariff, _) => Executed::TariffUpdated,
            (MessageKind::EnableSupply, _) => Executed::SupplyEnabled,
            (MessageKind::DisableSupply, _) => Executed::SupplyDisabled,
            (MessageKind::ArmSupply, _) => Executed::SupplyArmed,
            (MessageKind::CommissionDevice, _) => Executed::Commissioned,
            (MessageKind::UpdateSecurityCredentials, _) => {
                let (slot, anchor) = new_anchor.expect("credential update body checked above");
                self.anchors[slot as usize] = anchor;
                Executed::CredentialUpdated(slot)
            }
            (
                MessageKind::UpdateFirmware,
                Body::Firmware {
                    version,
                    image_hash,
                    ..
                },
            ) => {
                self.staged_firmware = Some((*version, *image_hash));
                Executed::FirmwareStaged(*version)
            }
            (MessageKind::ActivateFirmware, _) => {
                let (version, _) = self.staged_firmware.take().ok_or(Reject::Malformed)?;
                self.firmware_version = version;
                Executed::FirmwareActivated(version)
            }
            _ => return Err(Reject::Malformed),
        })
    }
}

/// The alerts the simulator's devices raise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// 0x8F36 "supply outage restored" (ECS80, code 0x0067): critical, signed.
    SupplyRestored,
    /// 0x8F30 "source has no authority" (GCA, code 0x1000): critical,
    /// signed; raised when the device refuses a command.
    NoAuthority,
    /// 0x810E (GNCA, code 0x1001): non-critical, MAC'd.
    NonCritical,
}

impl AlertKind {
    /// Whether the alert is critical (signed by the device).
    pub fn critical(self) -> bool {
        self != AlertKind::NonCritical
    }

    /// The GBCS message code and the alert code in the content.
    pub fn codes(self) -> (u16, u16) {
        match self {
            AlertKind::SupplyRestored => (super::gbcs::ALERT_CRITICAL_CODE, 0x8F36),
            AlertKind::NoAuthority => (super::gbcs::ALERT_REFUSAL_CODE, 0x8F30),
            AlertKind::NonCritical => (super::gbcs::ALERT_NON_CRITICAL_CODE, 0x810E),
        }
    }
}

/// What a device sends: a response to a command (echoing its counter and
/// code) or an alert (under the device's own counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Response or alert.
    pub cra: Cra,
    /// The command's kind (responses) or [`MessageKind::Alert`].
    pub kind: MessageKind,
    /// Which alert (ignored for responses).
    pub alert: AlertKind,
    /// The device's fuel.
    pub fuel: Fuel,
    /// The device's EUI.
    pub device: u64,
    /// The recipient's EUI (the command's originator, or the alert's addressee).
    pub recipient: u64,
    /// The command's counter (responses) or the device's alert counter.
    pub counter: u64,
    /// Whether the command executed (responses).
    pub ok: bool,
    /// Seconds since midnight, for the date-time fields.
    pub at_s: u64,
    /// A read's register values (active import Wh, reactive import varh),
    /// sent in an encrypted block.
    pub registers: [u32; 2],
}

/// Builds a device's response or alert: signed with the device's key when
/// GBCS requires it (responses to critical commands, critical alerts),
/// otherwise MAC'd under the key the device shares with the recipient
/// (`recipient_z`, which also encrypts a read's registers). `device_key`
/// is called only for signed messages.
pub fn device_message(
    o: &Outgoing,
    device_key: impl FnOnce() -> SigningKey,
    recipient_z: impl FnOnce() -> [u8; 32],
) -> Vec<u8> {
    // The secret is computed only for MAC'd messages (which include reads).
    let mut z = None;
    let mut recipient_z = Some(recipient_z);
    let mut secret =
        || -> [u8; 32] { *z.get_or_insert_with(|| (recipient_z.take().expect("called once"))()) };
    let (code, content, p) = match o.cra {
        Cra::Alert => {
            let (code, alert_code) = o.alert.codes();
            let critical = o.alert.critical();
            let p = Protection {
                signed: critical,
                maced: !critical,
            };
            (code, payload::alert(alert_code, o.counter, o.at_s), p)
        }
        _ => {
            let reads = matches!(
                o.kind,
                MessageKind::ReadInstantaneous | MessageKind::ReadDailyLog
            );
            let block = reads.then(|| {
                let k = derive_mac_key(
                    &secret(),
                    o.device,
                    o.recipient,
                    MacMode::PayloadEncryption,
                    o.counter,
                );
                encrypt_block(&k, o.device, &payload::read_plaintext(o.registers))
            });
            let content = payload::response(
                o.kind,
                o.fuel,
                o.counter,
                o.device,
                o.recipient,
                o.ok,
                block.as_deref(),
            );
            (
                o.kind.code(o.fuel),
                content,
                Protection::required(o.kind, Cra::Response),
            )
        }
    };
    let h = Header {
        cra: o.cra,
        counter: o.counter,
        originator: o.device,
        recipient: o.recipient,
        // MAC'd responses carry the device's date-time (as RTDS's do).
        date_time: (o.cra == Cra::Response && !p.signed).then(|| payload::date_time(o.at_s)),
        code,
    };
    let mode = if o.cra == Cra::Alert {
        MacMode::Alert
    } else {
        MacMode::Response
    };
    // The key is derived only when the message is signed: deriving a device
    // key costs a scalar multiplication, wasted on MAC-only messages.
    let key = p.signed.then(device_key);
    let sign = |b: &[u8]| key.as_ref().expect("derived when signed").sign(b);
    let mac_key = p
        .maced
        .then(|| derive_mac_key(&secret(), o.device, o.recipient, mode, o.counter));
    let mac_fn = |gsa: &[u8]| gsa_mac(mac_key.as_ref().expect("derived when MAC'd"), o.device, gsa);
    frame::build(
        &h,
        &content,
        p.signed.then_some(&sign as frame::SignFn<'_>),
        p.maced.then_some(&mac_fn as frame::MacFn<'_>),
    )
}
