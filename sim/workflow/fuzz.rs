//! Fuzz targets: one function per parser of outside input, each taking
//! arbitrary bytes and required never to panic (a refusal is an `Err`,
//! never a crash).
//!
//! The same functions are driven three ways: by AFL++ (coverage-guided,
//! the `fuzz/` crate, see `fuzz/README.md`), by `tests/fuzz.rs` (every file
//! of the committed corpus `fuzz/corpus/<target>/`, plus deterministic
//! mutations of it, on every `cargo test`), and by `dccsim fuzz-replay`
//! (one file, for reproducing a crash by hand).
//!
//! Targets:
//!
//! * `gbcs`: a GBCS (Great Britain Companion Specification) message as it
//!   arrives off the wire: frame decoding, every message kind's payload,
//!   encrypted blocks, UTRN (Unique Transaction Reference Number) tokens,
//!   and the whole independent verifier against the RTDS (Reference Test
//!   Data Set) keystore when `../shared/testdata` is present.
//! * `utrn`: a 20-digit top-up token as typed by a consumer.
//! * `x509`: an SMKI (Smart Metering Key Infrastructure) certificate in
//!   PEM or DER, and the keystore's PEM public and PKCS#8 private keys.
//! * `smki_cert`: the model's compact certificate encoding.
//! * `scenario`: a scenario file (TOML) and `--set` overrides, through
//!   every check to a typed scenario. The input is the file's text, then
//!   optionally a NUL byte and one override per line.
//! * `wycheproof`: a Wycheproof test-vector JSON file through the runner.

use crate::crypto::gbcs::{frame, payload, utrn, verify, MessageKind};
use crate::crypto::keystore::Keystore;
use std::sync::OnceLock;

/// The targets' names, as `fuzz/corpus/<name>/` and the AFL binary's argument.
pub const TARGETS: &[&str] = &[
    "gbcs",
    "utrn",
    "x509",
    "smki_cert",
    "scenario",
    "wycheproof",
];

/// Inputs longer than this are cut (the parsers' work is linear or worse in
/// the input; a fuzzer finds the same paths with short inputs).
pub const MAX_INPUT: usize = 64 * 1024;

/// Feeds `data` to target `name`; `false` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    let data = &data[..data.len().min(MAX_INPUT)];
    match name {
        "gbcs" => gbcs(data),
        "utrn" => {
            let _ = utrn::parse(data);
        }
        "x509" => x509(data),
        "smki_cert" => {
            if let Ok(c) = crate::crypto::smki::Certificate::decode(data) {
                let _ = c.verify_key();
                let _ = c.encode();
            }
        }
        "scenario" => scenario(data),
        "wycheproof" => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = crate::crypto::wycheproof::run_json(
                    text,
                    crate::crypto::wycheproof::Implementation::FastOneOff,
                );
            }
        }
        _ => return false,
    }
    true
}

/// The RTDS keystore, if the test data sits beside the checkout.
pub fn rtds_keystore() -> Option<&'static Keystore> {
    static KS: OnceLock<Option<Keystore>> = OnceLock::new();
    KS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/testdata/rtds/keystore");
        Keystore::load(&dir).ok()
    })
    .as_ref()
}

fn gbcs(data: &[u8]) {
    if let Ok(f) = frame::parse(data) {
        for fuel in [
            crate::crypto::gbcs::Fuel::Electricity,
            crate::crypto::gbcs::Fuel::Gas,
        ] {
            if let Some(kind) = MessageKind::from_code(f.code, fuel) {
                let _ = payload::parse_command(kind, f.content);
            }
        }
        let _ = verify::encrypted_blocks(f.content);
        let _ = verify::find_utrn(f.content);
    }
    let _ = verify::check_precommand(data, data);
    if let Some(ks) = rtds_keystore() {
        let _ = verify::verify(data, ks, crate::workflow::gbcs::RTDS_ACB);
    }
}

fn x509(data: &[u8]) {
    let _ = crate::crypto::x509::parse_certificate(data);
    if let Ok(text) = std::str::from_utf8(data) {
        use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
        let _ = p256::PublicKey::from_public_key_pem(text);
        let _ = p256::SecretKey::from_pkcs8_pem(text);
    }
}

fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (file, sets) = match text.split_once('\0') {
        Some((f, s)) => (f, s.lines().map(str::to_string).collect::<Vec<_>>()),
        None => (text, Vec::new()),
    };
    if let Ok(s) = crate::workflow::scenario::parse_str("fuzz", file, &sets) {
        if s.scenario.model == "system" {
            if let Ok(sys) = s.system() {
                let _ = sys.memory_estimate_bytes();
            }
        }
    }
}
