//! `dccsim gbcs sample`: one GBCS message of every kind the simulator sends
//! (commands, pre-commands, responses, alerts, top-ups, credential
//! updates, and the messages of each attack kind), built by the same code
//! the simulation uses, written as uppercase hex files in the layout of the
//! DCC's Reference Test Data Set (RTDS) with a keystore and `parties.json`,
//! so that any GBCS tool can check what the simulator sends.
//!
//! Attack messages a device must refuse on cryptographic grounds (a
//! signature by the attacker's own key, a MAC under its own key) are named
//! `..._FORGED_..._GBCS.HEX`; `dccsim gbcs verify` passes such a file only
//! when its check fails.

use crate::crypto::device::{device_message, AlertKind, AnchorSlot, Outgoing};
use crate::crypto::gbcs::{frame, Cra, Fuel, MessageKind};
use crate::crypto::keys::{derive_key, KeyRole};
use crate::crypto::x509::{issue, Issuer, Subject, Usage};
use crate::crypto::SigningKey;
use crate::models::system::attack::AttackSpec;
use crate::models::system::holdings::Holdings;
use crate::models::system::world::{Signer, World, ACB_ID, COS_ID, RECOVERY_ID};
use der::EncodePem;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use std::collections::BTreeMap;
use std::path::Path;

/// What `gbcs sample` writes.
#[derive(Default)]
pub struct SampleSet {
    /// File name → message bytes.
    pub messages: BTreeMap<String, Vec<u8>>,
    /// Keystore file name → PEM text.
    pub keystore: BTreeMap<String, String>,
    /// EUI (16 hex digits) → role.
    pub parties: BTreeMap<String, String>,
}

fn attack(toml: &str) -> AttackSpec {
    toml::from_str(toml).expect("a valid attack table")
}

/// Builds the samples for `seed` (default: the scenario's): the built-in
/// default scenario's world (2,000 meters), supplier 0, one electricity and
/// one gas meter.
pub fn samples(seed: Option<u64>) -> Result<SampleSet, String> {
    let l = crate::workflow::scenario::load(None, &["fleet.meters=2000".into()], seed)
        .map_err(|e| e.to_string())?;
    let seed = l.scenario.scenario.seed;
    let sc = l.scenario.system().map_err(|(k, e)| format!("{k}: {e}"))?;
    let mut w = World::new(sc, seed);
    let mut out = SampleSet::default();
    let s = 0u32;
    let pick = |gas: bool| {
        (0..w.meters)
            .find(|&m| w.supplier_of(m) == s && w.is_gas(m) == gas)
            .ok_or("no meter of that fuel")
    };
    let (e, g) = (pick(false)?, pick(true)?);
    let mut ctr = 1_000u64;
    for m in [e, g] {
        let fuel = w.fuel(m);
        for kind in MessageKind::ALL {
            if kind == MessageKind::Alert
                || (fuel == Fuel::Gas && kind == MessageKind::EnableSupply)
            {
                continue;
            }
            ctr += 1;
            let mut signers = vec![("", Signer::User(s, 0))];
            if kind == MessageKind::UpdateSecurityCredentials {
                signers.push(("-Recovery", Signer::Recovery));
                signers.push(("-CoS", Signer::Cos));
            }
            // Use cases that exist for both fuels carry the device type.
            let both = matches!(
                kind,
                MessageKind::UpdateSecurityCredentials
                    | MessageKind::UpdateFirmware
                    | MessageKind::ActivateFirmware
            );
            let device = if both { fuel_tag(fuel) } else { "" };
            for (suffix, signer) in signers {
                let name = format!(
                    "{}{suffix}{}",
                    kind.use_case(fuel),
                    if both {
                        format!("-{device}")
                    } else {
                        String::new()
                    }
                );
                let cmd = w.command_bytes(
                    kind,
                    signer,
                    s,
                    m,
                    ctr,
                    true,
                    AnchorSlot::Supplier,
                    &w.acb_secret(m),
                );
                add_exchange(&mut out, &w, &name, m, kind, ctr, &cmd);
            }
        }
        for (name, alert) in [
            ("ECS80-8F36", AlertKind::SupplyRestored),
            ("GCA-8F30", AlertKind::NoAuthority),
            ("GNCA-810E", AlertKind::NonCritical),
        ] {
            ctr += 1;
            let o = outgoing(&w, m, Cra::Alert, MessageKind::Alert, alert, ctr);
            let a = device_message(&o, || w.device_key(m), || w.user_secret(s, m));
            out.messages
                .insert(format!("{name}_{}_ALERT_GBCS.HEX", fuel_tag(fuel)), a);
        }
    }
    attack_samples(&mut w, &mut out, e, &mut ctr);
    keystore(&w, s, &[e, g], &mut out)?;
    Ok(out)
}

fn fuel_tag(f: Fuel) -> &'static str {
    match f {
        Fuel::Electricity => "ESME",
        Fuel::Gas => "GSME",
    }
}

fn outgoing(
    w: &World,
    m: u32,
    cra: Cra,
    kind: MessageKind,
    alert: AlertKind,
    counter: u64,
) -> Outgoing {
    Outgoing {
        cra,
        kind,
        alert,
        fuel: w.fuel(m),
        device: w.device_id(m),
        recipient: w.user_id(w.supplier_of(m)),
        counter,
        ok: true,
        at_s: 43_200,
        registers: [w.annual_kwh(m).saturating_mul(1000), 0],
    }
}

/// A command, its pre-command (critical ones, as the supplier signs it) and its response.
fn add_exchange(
    out: &mut SampleSet,
    w: &World,
    name: &str,
    m: u32,
    kind: MessageKind,
    ctr: u64,
    cmd: &[u8],
) {
    let f = frame::parse(cmd).expect("the simulator's own command parses");
    if f.signature.is_some() {
        let pre = f.gsa[..1 + f.signed_part.len()].to_vec();
        out.messages
            .insert(format!("{name}_PRECOMMAND_GBCS.HEX"), pre);
    }
    out.messages
        .insert(format!("{name}_COMMAND_GBCS.HEX"), cmd.to_vec());
    let o = outgoing(w, m, Cra::Response, kind, AlertKind::NonCritical, ctr);
    let s = w.supplier_of(m);
    let r = device_message(&o, || w.device_key(m), || w.user_secret(s, m));
    out.messages.insert(format!("{name}_RESPONSE_GBCS.HEX"), r);
}

/// One message per attack kind, made through the attacker's holdings.
fn attack_samples(w: &mut World, out: &mut SampleSet, m: u32, ctr: &mut u64) {
    let kinds = [
        // The headline: the victim's gateway access and command key, via the DCC.
        (
            "disconnect",
            "kind='disconnect'\nuser_access=true\ncommand_key=true",
            false,
            false,
        ),
        // Its own signature, via the DCC (the ACB MACs what the DSP passes).
        (
            "forged-dcc",
            "kind='disconnect'\nuser_access=true",
            false,
            true,
        ),
        // The supplier's command key alone, on the WAN (no ACB MAC).
        (
            "signing-key-only",
            "kind='disconnect'\ncommand_key=true\npath='wan'",
            true,
            true,
        ),
        // The ACB's key alone, on the WAN.
        (
            "acb-only",
            "kind='disconnect'\nacb_key=true\npath='wan'",
            true,
            true,
        ),
        // A firmware image signed by the attacker, via the victim's access.
        (
            "firmware",
            "kind='firmware'\nuser_access=true",
            false,
            false,
        ),
    ];
    for (tag, toml, wan, forged) in kinds {
        w.attacks = vec![attack(toml)];
        let h = Holdings::of(w, 0).expect("an attack is set");
        let kind = if tag == "firmware" {
            MessageKind::UpdateFirmware
        } else {
            MessageKind::DisableSupply
        };
        *ctr += 1;
        let victim = h.spec().victim().unwrap_or(0);
        let bytes: Vec<u8> = if wan {
            h.wan_command(0, kind, m, *ctr, tag != "firmware")
                .expect("full crypto")
                .into()
        } else {
            w.command_bytes(
                kind,
                h.signer(kind, m),
                victim,
                m,
                *ctr,
                tag != "firmware",
                AnchorSlot::Supplier,
                &w.acb_secret(m),
            )
        };
        let uc = kind.use_case(w.fuel(m));
        let name = if forged {
            format!("ATTACK-{tag}_{uc}_FORGED_COMMAND_GBCS.HEX")
        } else {
            format!("ATTACK-{tag}_{uc}_COMMAND_GBCS.HEX")
        };
        out.messages.insert(name, bytes);
    }
    w.attacks.clear();
    // A replay resends a genuine command's bytes unchanged; a flood is the
    // victim's genuine reads; an alert storm is genuine critical alerts.
    let s = w.supplier_of(m);
    let genuine = w.command_bytes(
        MessageKind::DisableSupply,
        Signer::User(s, 0),
        s,
        m,
        1_001,
        true,
        AnchorSlot::Supplier,
        &w.acb_secret(m),
    );
    out.messages
        .insert("ATTACK-replay_ECS43_COMMAND_GBCS.HEX".into(), genuine);
    *ctr += 1;
    let read = w.command_bytes(
        MessageKind::ReadInstantaneous,
        Signer::None,
        s,
        m,
        *ctr,
        true,
        AnchorSlot::Supplier,
        &w.acb_secret(m),
    );
    out.messages
        .insert("ATTACK-request-flood_ECS17b_COMMAND_GBCS.HEX".into(), read);
    *ctr += 1;
    let o = outgoing(
        w,
        m,
        Cra::Alert,
        MessageKind::Alert,
        AlertKind::SupplyRestored,
        *ctr,
    );
    let a = device_message(&o, || w.device_key(m), || w.user_secret(s, m));
    out.messages
        .insert("ATTACK-alert-storm_ECS80-8F36_ALERT_GBCS.HEX".into(), a);
}

fn pem_key(k: &SigningKey) -> String {
    p256::SecretKey::from_bytes(&k.scalar().to_bytes())
        .expect("a valid scalar")
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PKCS#8 encodes")
        .to_string()
}

fn pem_cert(der: &[u8]) -> String {
    use der::Decode;
    x509_cert::Certificate::from_der(der)
        .and_then(|c| c.to_pem(LineEnding::LF))
        .expect("our certificates re-encode")
}

/// The keys needed to check every sample, in RTDS layout.
fn keystore(w: &World, s: u32, meters: &[u32], out: &mut SampleSet) -> Result<(), String> {
    let seed = w.seed;
    let org_ca = derive_key(seed, KeyRole::OrgCa, 0);
    let dev_ca = derive_key(seed, KeyRole::DeviceCa, 0);
    let org = Issuer {
        name: crate::models::system::world::ORG_CA_NAME,
        key: &org_ca,
    };
    let dev = Issuer {
        name: &[("CN", "DCCSIM DEVICE CA")],
        key: &dev_ca,
    };
    let mut serial = 0u8;
    let mut cert = |subject: &Subject, k: &SigningKey, usage: Usage, issuer: &Issuer<'_>| {
        serial += 1;
        issue(
            subject,
            k.public(),
            usage,
            [serial; 16],
            1_767_225_600,
            issuer,
        )
        .map(|d| pem_cert(&d))
        .map_err(|e| e.to_string())
    };
    let hex = |eui: u64| format!("{eui:016x}");
    let sup = w.user_id(s);
    let org_subject = |name: &str, role: &str, eui: u64| Subject::Organisation {
        name: name.into(),
        role: role.into(),
        eui,
    };
    let ks = &mut out.keystore;
    ks.insert(
        format!("{}-ds.pem", hex(sup)),
        pem_cert(&w.command_certs[s as usize][0]),
    );
    for (infix, role) in [
        ("ka", KeyRole::UserKeyAgreement),
        ("pp-ka", KeyRole::UserPrepaymentKeyAgreement),
    ] {
        let k = derive_key(seed, role, s as u64);
        let c = cert(
            &org_subject(&format!("DCCSIM USER {s}"), "02", sup),
            &k,
            Usage::KeyAgreement,
            &org,
        )?;
        ks.insert(format!("{}-{infix}.pem", hex(sup)), c);
        ks.insert(format!("{}-{infix}.key", hex(sup)), pem_key(&k));
    }
    let c = cert(
        &org_subject("DCCSIM ACB", "04", ACB_ID),
        &w.acb,
        Usage::KeyAgreement,
        &org,
    )?;
    ks.insert(format!("{}-ka.pem", hex(ACB_ID)), c);
    ks.insert(format!("{}-ka.key", hex(ACB_ID)), pem_key(&w.acb));
    let c = cert(
        &org_subject("DCCSIM RECOVERY", "01", RECOVERY_ID),
        &w.recovery.0,
        Usage::Signing,
        &org,
    )?;
    ks.insert(format!("{}-ds.pem", hex(RECOVERY_ID)), c);
    let c = cert(
        &org_subject("DCCSIM TCOS", "05", COS_ID),
        w.cos_key(),
        Usage::Signing,
        &org,
    )?;
    ks.insert(format!("{}-ds.pem", hex(COS_ID)), c);
    for &m in meters {
        let eui = w.device_id(m);
        let ds = w.device_key(m);
        let ka = derive_key(seed, KeyRole::DeviceKeyAgreement, eui);
        ks.insert(
            format!("{}-ds.pem", hex(eui)),
            cert(&Subject::Device { eui }, &ds, Usage::Signing, &dev)?,
        );
        ks.insert(
            format!("{}-ka.pem", hex(eui)),
            cert(&Subject::Device { eui }, &ka, Usage::KeyAgreement, &dev)?,
        );
        let role = if w.is_gas(m) {
            "gas_meter"
        } else {
            "electricity_meter"
        };
        out.parties.insert(hex(eui).to_uppercase(), role.into());
    }
    out.parties
        .insert(hex(sup).to_uppercase(), "supplier".into());
    out.parties.insert(hex(ACB_ID).to_uppercase(), "acb".into());
    out.parties
        .insert(hex(RECOVERY_ID).to_uppercase(), "recovery".into());
    Ok(())
}

/// Writes the samples under `dir`: the hex files, `keystore/` and `parties.json`.
pub fn write(dir: &Path, set: &SampleSet) -> Result<usize, String> {
    let ks = dir.join("keystore");
    std::fs::create_dir_all(&ks).map_err(|e| format!("{}: {e}", ks.display()))?;
    let put = |p: &Path, text: &[u8]| {
        std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    for (name, bytes) in &set.messages {
        put(&dir.join(name), hex::encode_upper(bytes).as_bytes())?;
    }
    for (name, pem) in &set.keystore {
        put(&ks.join(name), pem.as_bytes())?;
    }
    let parties = serde_json::to_string_pretty(&set.parties).map_err(|e| e.to_string())?;
    put(&dir.join("parties.json"), format!("{parties}\n").as_bytes())?;
    Ok(set.messages.len())
}
