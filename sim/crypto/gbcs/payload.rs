//! The content of each GBCS message the simulator sends: DLMS COSEM APDUs
//! for electricity meters (ESME, electricity smart metering equipment),
//! GBZ (the ZigBee-based GBCS format) for gas meters (GSME), and DER for
//! security credentials and firmware. Each builder writes the structure of
//! the corresponding use case in the DCC's reference test data (RTDS 4.5.0;
//! `models/README.md`, source S1) with the message's own counter and
//! EUIs; where the simulator's content is reduced, the builder says so.
//!
//! DLMS conventions used: `D9` access-request, `DA` access-response, `0F`
//! data-notification; the long-invoke-id is `20` followed by the GSA
//! counter's low 24 bits; `09` octet-string, `12` long-unsigned, `16` enum,
//! `02` structure, `01` array, `0F` integer.

use super::frame::{put_len, Reader};
use super::{Body, Fuel, MessageKind};

/// The DLMS long-invoke-id-and-priority for a counter: `20` ‖ low 24 bits.
pub fn invoke_id(counter: u64) -> [u8; 4] {
    let c = (counter & 0xFF_FFFF) as u32;
    [0x20, (c >> 16) as u8, (c >> 8) as u8, c as u8]
}

/// OBIS 0-0:10.0.106.255, the disconnect-control script table (class 9).
const OBIS_DISCONNECT_SCRIPTS: [u8; 6] = [0x00, 0x00, 0x0A, 0x00, 0x6A, 0xFF];
/// OBIS 0-0:43.2.8.255, the data-protection object (class 30) for ECS17b.
const OBIS_PROTECTION_INSTANT: [u8; 6] = [0x00, 0x00, 0x2B, 0x02, 0x08, 0xFF];
/// OBIS 0-0:43.2.5.255, the data-protection object for ECS21a.
const OBIS_PROTECTION_LOG: [u8; 6] = [0x00, 0x00, 0x2B, 0x02, 0x05, 0xFF];
/// OBIS 0-0:94.44.34.10, the instantaneous import registers (class 1).
const OBIS_INSTANT_REGISTERS: [u8; 6] = [0x00, 0x00, 0x5E, 0x2C, 0x22, 0x0A];
/// OBIS 0-0:98.1.9.255, the daily consumption log (class 7).
const OBIS_DAILY_LOG: [u8; 6] = [0x00, 0x00, 0x62, 0x01, 0x09, 0xFF];
/// OBIS 0-0:19.40.0.255, the token gateway (class 115) for top-ups.
const OBIS_TOKEN_GATEWAY: [u8; 6] = [0x00, 0x00, 0x13, 0x28, 0x00, 0xFF];

/// Disconnect-control script of each supply command (ECS42/43/44).
fn supply_script(kind: MessageKind) -> u16 {
    match kind {
        MessageKind::EnableSupply => 0x33,
        MessageKind::DisableSupply => 0x34,
        _ => 0x36,
    }
}

/// A DLMS ACTION request: `D9 inv 00 01 03 class obis method 01 <param>`.
fn action(counter: u64, class: u16, obis: &[u8; 6], method: u8, param: &[u8]) -> Vec<u8> {
    let mut v = vec![0xD9];
    v.extend_from_slice(&invoke_id(counter));
    v.extend_from_slice(&[0x00, 0x01, 0x03]);
    v.extend_from_slice(&class.to_be_bytes());
    v.extend_from_slice(obis);
    v.extend_from_slice(&[method, 0x01]);
    v.extend_from_slice(param);
    v
}

/// The protection parameters of a protected GET (structure of key info,
/// counter, originator, recipient, empty date-time, authentication only).
fn protection_parameters(v: &mut Vec<u8>, counter: u64, originator: u64, recipient: u64) {
    v.extend_from_slice(&[
        0x01, 0x01, 0x02, 0x02, 0x16, 0x02, 0x02, 0x05, 0x09, 0x09, 0x04,
    ]);
    v.extend_from_slice(&counter.to_be_bytes());
    v.extend_from_slice(&[0x09, 0x08]);
    v.extend_from_slice(&originator.to_be_bytes());
    v.extend_from_slice(&[0x09, 0x08]);
    v.extend_from_slice(&recipient.to_be_bytes());
    v.extend_from_slice(&[
        0x09, 0x00, 0x02, 0x02, 0x16, 0x02, 0x02, 0x02, 0x09, 0x01, 0x02, 0x09, 0x00,
    ]);
}

/// A read through the data-protection object (ECS17b, ECS21a): which
/// object to get, and the protection the response must carry.
fn protected_get(counter: u64, originator: u64, recipient: u64, daily_log: bool) -> Vec<u8> {
    let (prot, class, obis) = if daily_log {
        (&OBIS_PROTECTION_LOG, 7u16, &OBIS_DAILY_LOG)
    } else {
        (&OBIS_PROTECTION_INSTANT, 1u16, &OBIS_INSTANT_REGISTERS)
    };
    let mut p = vec![0x02, 0x02, 0x01, 0x01, 0x02, 0x05, 0x12];
    p.extend_from_slice(&class.to_be_bytes());
    p.extend_from_slice(&[0x09, 0x06]);
    p.extend_from_slice(obis);
    p.extend_from_slice(&[0x0F, 0x02, 0x12, 0x00, 0x00, 0x02, 0x02, 0x16, 0x00, 0x00]);
    protection_parameters(&mut p, counter, originator, recipient);
    action(counter, 30, prot, 1, &p)
}

/// A GBZ frame with one component: profile `01 09`, one component, header
/// control `01`, the cluster, and the ZigBee cluster library (ZCL) frame.
fn gbz(cluster: u16, zcl: &[u8]) -> Vec<u8> {
    let mut v = vec![0x01, 0x09, 0x01, 0x01];
    v.extend_from_slice(&cluster.to_be_bytes());
    v.extend_from_slice(&(zcl.len() as u16).to_be_bytes());
    v.extend_from_slice(zcl);
    v
}

/// ZigBee metering cluster.
const CLUSTER_METERING: u16 = 0x0702;

/// ECS70's content after the invoke id (SR 8.1.1 on an ESME, as RTDS):
/// an ACCESS request of five specs on the clock (class 8, OBIS
/// 0-0:1.0.0.255): set the status attribute, preset the adjusting time
/// (method 5) and adjust to it (method 4), then read the time and the
/// status back; the data are the enum 5, the preset time (unspecified)
/// with its validity window (RTDS's 2014-12-31 23:59:10 to 2015-01-01
/// 00:00:10: the model's devices keep exact time, so the window is
/// RTDS's for every device), and nulls.
const ECS70_SPECS: &str = "000502000800000100\
00FF0903000800000100\
00FF0503000800000100\
00FF0401000800000100\
00FF0201000800000100\
00FF04051605020309\
0CFFFFFFFFFFFFFFFFFF8000FF090C07DE0C1FFF173B0A008000FF090C07DF0101FF00000A\
008000FF0F000000";

/// GCS28's content (SR 8.1.1 on a GSME, as RTDS): DER of the clock's
/// validity window, two GeneralizedTimes (RTDS's 2014-12-31 23:30:00Z to
/// 2015-01-01 00:30:00Z, for every device as for ECS70).
const GCS28_WINDOW: &[u8] = b"\x30\x22\x18\x0F20141231233000Z\x18\x0F20150101003000Z";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("constant hex"))
        .collect()
}

/// The content of a command of `kind` to a `fuel` meter.
pub fn command(
    kind: MessageKind,
    fuel: Fuel,
    counter: u64,
    originator: u64,
    recipient: u64,
    body: &Body,
) -> Vec<u8> {
    use MessageKind::*;
    match (kind, fuel, body) {
        (EnableSupply | DisableSupply | ArmSupply, Fuel::Electricity, _) => {
            let mut p = vec![0x12];
            p.extend_from_slice(&supply_script(kind).to_be_bytes());
            action(counter, 9, &OBIS_DISCONNECT_SCRIPTS, 1, &p)
        }
        // GCS32 (disable) / GCS39 (arm). Gas has no remote enable: an
        // enable to a gas meter (which it refuses by its code) carries the
        // arm's content.
        (EnableSupply | DisableSupply | ArmSupply, Fuel::Gas, _) => {
            let mut z = vec![0x01, 0x00, 0x0B];
            z.extend_from_slice(&(0x8000_0000u64 | (counter & 0x7FFF_FFFF)).to_be_bytes());
            z.extend_from_slice(&[0; 8]);
            z.extend_from_slice(&[u8::from(kind != DisableSupply), 0x01]);
            gbz(CLUSTER_METERING, &z)
        }
        (ReadInstantaneous | ReadDailyLog, Fuel::Electricity, _) => {
            protected_get(counter, originator, recipient, kind == ReadDailyLog)
        }
        // ZCL read attributes of the metering cluster (GCS13a/GCS16a);
        // attribute ids little-endian as ZCL writes them.
        (ReadInstantaneous | ReadDailyLog, Fuel::Gas, _) => {
            let attrs: &[u8] = if kind == ReadInstantaneous {
                &[0x02, 0x03, 0x01, 0x03, 0x00, 0x03, 0x00, 0x00]
            } else {
                &[0x1C, 0x04, 0x1D, 0x04]
            };
            let mut z = vec![0x00, 0x00, 0x00];
            z.extend_from_slice(attrs);
            gbz(CLUSTER_METERING, &z)
        }
        (PrepaymentTopUp, Fuel::Electricity, Body::TopUp { utrn }) => {
            let mut p = vec![0x09, 0x14];
            p.extend_from_slice(utrn);
            action(counter, 115, &OBIS_TOKEN_GATEWAY, 1, &p)
        }
        (PrepaymentTopUp, Fuel::Gas, Body::TopUp { utrn }) => {
            let mut z = vec![0x01, 0x00, 0x00, 0x00, 0x14];
            z.extend_from_slice(utrn);
            gbz(0x0705, &z)
        }
        (UpdateSecurityCredentials, _, Body::CredentialUpdate { .. }) => {
            credential_der(counter, body)
        }
        (UpdateFirmware, _, Body::Firmware { .. })
        | (ActivateFirmware, _, Body::Firmware { .. }) => firmware_der(kind, counter, body),
        // Tariff (ECS01a/GCS01a): reduced to a SET of the tariff switching
        // table's calendar name (the model carries no prices).
        (UpdateTariff, Fuel::Electricity, _) => {
            let mut v = vec![0xD9];
            v.extend_from_slice(&invoke_id(counter));
            v.extend_from_slice(&[0x00, 0x01, 0x02, 0x00, 0x14]);
            v.extend_from_slice(&[0x00, 0x00, 0x0D, 0x00, 0x00, 0xFF, 0x07, 0x00]);
            v.extend_from_slice(&[0x01, 0x09, 0x08]);
            v.extend_from_slice(&counter.to_be_bytes());
            v
        }
        (UpdateTariff, Fuel::Gas, _) => {
            let mut z = vec![0x01, 0x00, 0x00];
            z.extend_from_slice(&counter.to_be_bytes());
            gbz(0x0700, &z)
        }
        (CommissionDevice, Fuel::Electricity, _) => {
            let mut v = vec![0xD9];
            v.extend_from_slice(&invoke_id(counter));
            v.extend_from_slice(&hex(ECS70_SPECS));
            v
        }
        (CommissionDevice, Fuel::Gas, _) => GCS28_WINDOW.to_vec(),
        // A body that does not fit the kind (or an alert sent as a command):
        // empty content, which devices refuse as malformed.
        _ => Vec::new(),
    }
}

/// DER INTEGER of a u64 (minimal, positive).
fn der_uint(v: &mut Vec<u8>, x: u64) {
    let b = x.to_be_bytes();
    let skip = b.iter().take_while(|&&c| c == 0).count().min(7);
    let mut s = b[skip..].to_vec();
    if s[0] & 0x80 != 0 {
        s.insert(0, 0);
    }
    v.push(0x02);
    v.push(s.len() as u8);
    v.extend_from_slice(&s);
}

fn der_wrap(tag: u8, inner: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    // DER lengths use the same short/long form as A-XDR up to 65535.
    put_len(&mut v, inner.len());
    v.extend_from_slice(inner);
    v
}

/// CS02b's content, reduced to what the model uses: the authorising
/// sequence number (= the GSA counter), the trust-anchor cell replaced, and
/// the replacement X.509 certificate. Real CS02b also carries the
/// authorising-control cell description, floor sequence numbers and the
/// issuing CA's certificate.
fn credential_der(counter: u64, body: &Body) -> Vec<u8> {
    let Body::CredentialUpdate { slot, cert, .. } = body else {
        unreachable!("called for credential updates")
    };
    let mut inner = Vec::new();
    der_uint(&mut inner, counter);
    der_uint(&mut inner, *slot as u64);
    inner.extend_from_slice(cert);
    der_wrap(0x30, &inner)
}

/// CS06 activation `{hash, counter}` (as RTDS), or an SR 11.1 delivery
/// reduced to `{hash, counter, manufacturer, version, manufacturer's signature}`.
fn firmware_der(kind: MessageKind, counter: u64, body: &Body) -> Vec<u8> {
    let Body::Firmware {
        manufacturer,
        version,
        image_hash,
        signature,
    } = body
    else {
        unreachable!("called for firmware")
    };
    let mut inner = der_wrap(0x04, image_hash);
    der_uint(&mut inner, counter);
    if kind == MessageKind::UpdateFirmware {
        der_uint(&mut inner, *manufacturer as u64);
        der_uint(&mut inner, *version);
        inner.extend_from_slice(&der_wrap(0x04, signature));
    }
    der_wrap(0x30, &inner)
}

/// Reads a DER INTEGER as u64.
fn read_der_uint(r: &mut Reader<'_>) -> Option<u64> {
    if r.byte().ok()? != 0x02 {
        return None;
    }
    let s = r.sized("integer").ok()?;
    if s.is_empty() || s.len() > 9 || (s.len() == 9 && s[0] != 0) || s[0] & 0x80 != 0 {
        return None;
    }
    Some(s.iter().fold(0u64, |a, &b| a << 8 | b as u64))
}

fn read_der(r: &mut Reader<'_>, tag: u8) -> Option<Vec<u8>> {
    if r.byte().ok()? != tag {
        return None;
    }
    r.sized("der").ok().map(|s| s.to_vec())
}

/// What a device reads from a command's content: the structured body and
/// the counter the content itself names (CS02b and CS06 repeat the GSA
/// counter). `None` when the content is not of the kind's form.
pub fn parse_command(kind: MessageKind, content: &[u8]) -> Option<(Body, Option<u64>)> {
    match kind {
        MessageKind::UpdateSecurityCredentials => {
            let mut outer = Reader::new(content);
            let inner = read_der(&mut outer, 0x30)?;
            if !outer.rest().is_empty() {
                return None;
            }
            let mut r = Reader::new(&inner);
            let counter = read_der_uint(&mut r)?;
            let slot = u8::try_from(read_der_uint(&mut r)?).ok()?;
            let cert = r.rest();
            if cert.first() != Some(&0x30) {
                return None;
            }
            Some((Body::credential_update(slot, cert.into())?, Some(counter)))
        }
        MessageKind::UpdateFirmware | MessageKind::ActivateFirmware => {
            let mut outer = Reader::new(content);
            let inner = read_der(&mut outer, 0x30)?;
            if !outer.rest().is_empty() {
                return None;
            }
            let mut r = Reader::new(&inner);
            let image_hash = read_der(&mut r, 0x04)?.try_into().ok()?;
            let counter = read_der_uint(&mut r)?;
            let (manufacturer, version, signature) = if kind == MessageKind::UpdateFirmware {
                let m = u16::try_from(read_der_uint(&mut r)?).ok()?;
                let v = read_der_uint(&mut r)?;
                let s = read_der(&mut r, 0x04)?.try_into().ok()?;
                (m, v, s)
            } else {
                (0, 0, [0u8; 64])
            };
            if !r.rest().is_empty() {
                return None;
            }
            Some((
                Body::Firmware {
                    manufacturer,
                    version,
                    image_hash,
                    signature,
                },
                Some(counter),
            ))
        }
        MessageKind::PrepaymentTopUp => {
            let u = super::verify::find_utrn(content)?;
            Some((
                Body::TopUp {
                    utrn: u.try_into().ok()?,
                },
                None,
            ))
        }
        _ => Some((Body::Plain, None)),
    }
}

/// The plaintext of a read response's encrypted block, in RTDS's ECS17b
/// form: a structure of the active import register (Wh, unit code 30) and
/// the reactive import register (varh, unit code 32), each value followed
/// by its scaler and unit.
pub fn read_plaintext(registers: [u32; 2]) -> Vec<u8> {
    let mut v = vec![0x02, 0x01, 0x02, 0x04];
    for (r, unit) in registers.into_iter().zip([0x1E, 0x20]) {
        v.push(0x06);
        v.extend_from_slice(&r.to_be_bytes());
        v.extend_from_slice(&[0x02, 0x02, 0x0F, 0x00, 0x16, unit]);
    }
    v
}

/// The content of a device's response. `ok` says whether the command
/// executed; `block` is a read's encrypted block (`31 00000000 …`).
#[allow(clippy::too_many_arguments)]
pub fn response(
    kind: MessageKind,
    fuel: Fuel,
    counter: u64,
    device: u64,
    recipient: u64,
    ok: bool,
    block: Option<&[u8]>,
) -> Vec<u8> {
    use MessageKind::*;
    let rr = u8::from(!ok);
    match (kind, fuel) {
        (ReadInstantaneous | ReadDailyLog, Fuel::Electricity) => {
            let mut v = vec![0xDA];
            v.extend_from_slice(&invoke_id(counter));
            v.extend_from_slice(&[0x00, 0x00, 0x01, 0x02, 0x02]);
            protection_parameters(&mut v, counter, device, recipient);
            let b = block.unwrap_or(&[]);
            v.push(0x09);
            put_len(&mut v, b.len());
            v.extend_from_slice(b);
            v.extend_from_slice(&[0x01, 0x03, rr]);
            v
        }
        (ReadInstantaneous | ReadDailyLog, Fuel::Gas) => {
            let b = block.unwrap_or(&[]);
            let mut z = vec![0x18, 0x00, 0x01, 0x00, 0x00, rr];
            z.extend_from_slice(&(b.len() as u16).to_be_bytes());
            z.extend_from_slice(b);
            gbz(CLUSTER_METERING, &z)
        }
        (_, Fuel::Electricity) => {
            let mut v = vec![0xDA];
            v.extend_from_slice(&invoke_id(counter));
            v.extend_from_slice(&[0x00, 0x00, 0x01, 0x00, 0x01, 0x03, rr]);
            v
        }
        (_, Fuel::Gas) => {
            let mut z = vec![0x09, 0x00, 0x0C];
            z.extend_from_slice(&(0x8000_0000u64 | (counter & 0x7FFF_FFFF)).to_be_bytes());
            z.extend_from_slice(&[0, 0, 0, 0, rr]);
            gbz(CLUSTER_METERING, &z)
        }
    }
}

/// A DLMS date-time for second `s` of 1 January 2015 (the RTDS epoch day):
/// year, month, day, weekday, hour, minute, second, hundredths, deviation, status.
pub fn date_time(s: u64) -> [u8; 12] {
    let s = s % 86_400;
    [
        0x07,
        0xDF,
        0x01,
        0x01,
        0xFF,
        (s / 3600) as u8,
        (s / 60 % 60) as u8,
        (s % 60) as u8,
        0x00,
        0x80,
        0x00,
        0xFF,
    ]
}

/// The content of an alert: 0x8F36 "supply outage restored" with three
/// date-times (as ECS80); any other alert code with one date-time (as GCA
/// 0x8F30 and GNCA 0x810E).
pub fn alert(alert_code: u16, counter: u64, at_s: u64) -> Vec<u8> {
    let mut v = vec![0x0F];
    v.extend_from_slice(&invoke_id(counter));
    v.push(0x00);
    let dt = date_time(at_s);
    let [hi, lo] = alert_code.to_be_bytes();
    if alert_code == 0x8F36 {
        v.extend_from_slice(&[0x02, 0x04, 0x12, hi, lo]);
        for _ in 0..3 {
            v.extend_from_slice(&[0x09, 0x0C]);
            v.extend_from_slice(&dt);
        }
    } else {
        v.extend_from_slice(&[0x02, 0x02, 0x12, hi, lo, 0x09, 0x0C]);
        v.extend_from_slice(&dt);
    }
    v
}
