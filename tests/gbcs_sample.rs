//! `dccsim gbcs sample` writes one message of every kind the simulator
//! sends, with the keys to check them; `dccsim gbcs verify` passes them all
//! (forged attack messages only because their check fails).

use dccsim::crypto::gbcs::frame;
use dccsim::crypto::gbcs::verify::{verify, Verdict};
use dccsim::crypto::keystore::Keystore;
use dccsim::workflow::gbcs::{self as tool, find_acb};
use dccsim::workflow::gbcs_sample::{samples, write};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dccsim-gbcs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn every_sample_verifies_with_its_keystore() {
    let dir = tmp("sample");
    let set = samples(None).unwrap();
    let n = write(&dir, &set).unwrap();
    assert!(n >= 50, "{n} messages");
    let ks = Keystore::load(&dir.join("keystore")).unwrap();
    let acb = find_acb(&dir.join("keystore"));
    assert_eq!(
        acb,
        dccsim::models::system::world::ACB_ID,
        "parties.json names the ACB"
    );
    let results = tool::verify_paths(std::slice::from_ref(&dir), &ks, acb).unwrap();
    for r in &results {
        assert!(matches!(r.verdict, Verdict::Pass(_)), "{}", r.line());
    }
    assert_eq!(tool::tally(&results), (n, 0, 0));
    // Sizes of RTDS's disable supply and instantaneous read, and their responses.
    let size = |name: &str| set.messages[name].len();
    assert_eq!(size("ECS43_COMMAND_GBCS.HEX"), 146);
    assert_eq!(size("ECS43_RESPONSE_GBCS.HEX"), 111);
    assert_eq!(size("ECS17b_COMMAND_GBCS.HEX"), 158);
    assert_eq!(size("ECS17b_RESPONSE_GBCS.HEX"), 183);
    // Every use case of both fuels, and an attack message of each kind that sends one.
    for uc in [
        "ECS17b",
        "ECS21a",
        "CS01a",
        "ECS01a",
        "ECS42",
        "ECS43",
        "ECS44",
        "CS02b-ESME",
        "CS02b-Recovery-GSME",
        "FWDELIVERY-ESME",
        "CS06-GSME",
        "GCS13a",
        "GCS16a",
        "CS01b",
        "GCS01a",
        "GCS32",
        "GCS39",
        "ECS80-8F36_ESME",
        "GNCA-810E_GSME",
        "ATTACK-disconnect",
        "ATTACK-forged-dcc",
        "ATTACK-signing-key-only",
        "ATTACK-acb-only",
        "ATTACK-firmware",
        "ATTACK-replay",
        "ATTACK-request-flood",
        "ATTACK-alert-storm",
    ] {
        assert!(
            set.messages
                .keys()
                .any(|k| k.starts_with(&format!("{uc}_"))),
            "no {uc} sample"
        );
    }
    // The forged ones really fail their check on their own.
    let forged: Vec<_> = set
        .messages
        .iter()
        .filter(|(k, _)| k.contains("_FORGED_"))
        .collect();
    assert_eq!(forged.len(), 3);
    for (name, bytes) in forged {
        assert!(
            matches!(verify(bytes, &ks, acb), Verdict::Fail(..)),
            "{name}"
        );
    }
    // Responses echo their command's counter and code, EUIs swapped; the
    // DLMS invoke-id is the counter's low 24 bits.
    let c = frame::parse(&set.messages["ECS43_COMMAND_GBCS.HEX"]).unwrap();
    let r = frame::parse(&set.messages["ECS43_RESPONSE_GBCS.HEX"]).unwrap();
    assert_eq!((r.counter, r.code), (c.counter, c.code));
    assert_eq!((r.originator, r.recipient), (c.recipient, c.originator));
    let inv = (c.counter & 0xFF_FFFF) as u32 | 0x2000_0000;
    assert_eq!(c.content[1..5], inv.to_be_bytes());
    assert_eq!(r.content[1..5], inv.to_be_bytes());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn samples_are_deterministic_per_seed() {
    let a = samples(Some(7)).unwrap();
    let b = samples(Some(7)).unwrap();
    let c = samples(Some(8)).unwrap();
    assert_eq!(a.messages, b.messages);
    assert_eq!(a.keystore, b.keystore);
    assert_ne!(a.messages, c.messages);
}

#[test]
fn decoders_never_panic_on_any_single_byte_change_of_any_sample() {
    use dccsim::crypto::gbcs::verify::{encrypted_blocks, find_utrn};
    use dccsim::crypto::gbcs::{payload, utrn, MessageKind};
    let set = samples(None).unwrap();
    let decode_all = |b: &[u8]| {
        if let Ok(f) = frame::parse(b) {
            for kind in MessageKind::ALL {
                let _ = payload::parse_command(kind, f.content);
            }
            let _ = encrypted_blocks(f.content);
            if let Some(u) = find_utrn(f.content) {
                let _ = utrn::parse(u);
            }
        }
    };
    let mut n = 0usize;
    for bytes in set.messages.values() {
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            for x in 0..=255u8 {
                b[i] = x;
                decode_all(&b);
                n += 1;
            }
        }
        for cut in 0..bytes.len() {
            decode_all(&bytes[..cut]);
        }
    }
    assert!(n > 1_000_000, "{n} mutations decoded");
}
