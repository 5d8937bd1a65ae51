//! Runs Project Wycheproof test files (ECDSA P-256/SHA-256 verification in
//! P1363 or DER form, and ECDH P-256) through the verifiers of this crate and
//! through stock `p256`.
//!
//! A case passes when the answer is Wycheproof's: `valid` accepted, `invalid`
//! rejected; `acceptable` cases may go either way but must not panic.

use super::curve::Affine;
use super::ecdsa::{hash_to_scalar, verify_oneoff, VerifyKey};
use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;

/// Which implementation answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// Stock `p256` (`VerifyingKey::verify`, `ecdh::diffie_hellman`).
    Stock,
    /// This crate's verifier with the key's precomputed table (and its ECDH).
    FastTable,
    /// This crate's one-off-key verifier.
    FastOneOff,
}

/// Outcome of running one file.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Cases whose answer was right (acceptable cases count as passed).
    pub passed: usize,
    /// Ids (`tcId`) of cases answered wrongly, with the expected result.
    pub failed: Vec<(u64, String)>,
    /// Which kind of file it was.
    pub kind: String,
}

fn hexd(v: &Value) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or("expected a hex string")?;
    hex::decode(s).map_err(|e| format!("bad hex: {e}"))
}

/// Runs a Wycheproof file's text; the error names what is malformed.
pub fn run_json(text: &str, imp: Implementation) -> Result<Report, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let schema = doc["schema"].as_str().unwrap_or("");
    match schema {
        "ecdsa_p1363_verify_schema_v1.json" | "ecdsa_p1363_verify_schema.json" => {
            run_ecdsa(&doc, false, imp)
        }
        "ecdsa_verify_schema_v1.json" | "ecdsa_verify_schema.json" => run_ecdsa(&doc, true, imp),
        "ecdh_test_schema_v1.json" | "ecdh_test_schema.json" => run_ecdh(&doc, imp),
        other => Err(format!(
            "unsupported Wycheproof schema {other:?} (ECDSA verify in P1363 or DER form, or ECDH)"
        )),
    }
}

fn groups(doc: &Value) -> Result<&Vec<Value>, String> {
    doc["testGroups"]
        .as_array()
        .ok_or_else(|| "no testGroups array".to_string())
}

fn run_ecdsa(doc: &Value, der: bool, imp: Implementation) -> Result<Report, String> {
    let mut rep = Report {
        kind: if der { "ecdsa-der" } else { "ecdsa-p1363" }.into(),
        ..Default::default()
    };
    for g in groups(doc)? {
        let curve = g["publicKey"]["curve"].as_str().unwrap_or("");
        let sha = g["sha"].as_str().unwrap_or("");
        if curve != "secp256r1" || sha != "SHA-256" {
            return Err(format!(
                "group for curve {curve:?} with {sha:?}: only secp256r1 with SHA-256 is supported"
            ));
        }
        let pk_bytes = hexd(&g["publicKey"]["uncompressed"])?;
        let stock_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&pk_bytes)
            .map_err(|e| format!("group key: {e}"))?;
        let fast_key = VerifyKey::from_sec1(&pk_bytes).ok_or("group key is not a curve point")?;
        let point: Affine = *fast_key.point();
        if imp == Implementation::FastTable {
            fast_key.precompute();
        }
        for t in g["tests"].as_array().ok_or("no tests array")? {
            let id = t["tcId"].as_u64().unwrap_or(0);
            let expected = t["result"].as_str().unwrap_or("").to_string();
            let msg = hexd(&t["msg"])?;
            let sig = hexd(&t["sig"])?;
            let got = match imp {
                Implementation::Stock => {
                    let parsed = if der {
                        p256::ecdsa::Signature::from_der(&sig)
                    } else {
                        p256::ecdsa::Signature::from_slice(&sig)
                    };
                    parsed.is_ok_and(|s| stock_key.verify(&msg, &s).is_ok())
                }
                Implementation::FastTable | Implementation::FastOneOff => {
                    // The DER form is parsed strictly by `ecdsa`'s DER decoder, then checked raw.
                    let raw: Option<Vec<u8>> = if der {
                        p256::ecdsa::Signature::from_der(&sig)
                            .ok()
                            .map(|s| s.to_bytes().to_vec())
                    } else {
                        Some(sig.clone())
                    };
                    raw.is_some_and(|raw| {
                        if imp == Implementation::FastTable {
                            fast_key.verify(&msg, &raw)
                        } else {
                            verify_oneoff(&point, &hash_to_scalar(&msg), &raw)
                        }
                    })
                }
            };
            tally(&mut rep, id, &expected, got);
        }
    }
    Ok(rep)
}

fn tally(rep: &mut Report, id: u64, expected: &str, got: bool) {
    let ok = match expected {
        "valid" => got,
        "invalid" => !got,
        _ => true,
    };
    if ok {
        rep.passed += 1;
    } else {
        rep.failed.push((id, expected.to_string()));
    }
}

fn run_ecdh(doc: &Value, imp: Implementation) -> Result<Report, String> {
    let mut rep = Report {
        kind: "ecdh".into(),
        ..Default::default()
    };
    for g in groups(doc)? {
        if g["curve"].as_str() != Some("secp256r1") || g["encoding"].as_str() != Some("asn") {
            return Err("only ECDH groups on secp256r1 with ASN.1 (SubjectPublicKeyInfo) keys are supported".into());
        }
        for t in g["tests"].as_array().ok_or("no tests array")? {
            let id = t["tcId"].as_u64().unwrap_or(0);
            let expected = t["result"].as_str().unwrap_or("").to_string();
            let public = hexd(&t["public"])?;
            let private = hexd(&t["private"])?;
            let shared = hexd(&t["shared"])?;
            let got = ecdh_case(&public, &private, imp);
            // Accepting means computing exactly the expected secret.
            let accepted = got.as_deref() == Some(shared.as_slice());
            let ok = match expected.as_str() {
                "valid" => accepted,
                "invalid" => got.is_none(),
                _ => got.is_none() || accepted,
            };
            if ok {
                rep.passed += 1;
            } else {
                rep.failed.push((id, expected));
            }
        }
    }
    Ok(rep)
}

/// The shared secret for one case, or `None` if the public key is rejected.
fn ecdh_case(public_der: &[u8], private: &[u8], imp: Implementation) -> Option<Vec<u8>> {
    let pk = p256::PublicKey::from_public_key_der(public_der).ok()?;
    let stripped: Vec<u8> = private.iter().copied().skip_while(|&b| b == 0).collect();
    if stripped.len() > 32 {
        return None;
    }
    let mut d = [0u8; 32];
    d[32 - stripped.len()..].copy_from_slice(&stripped);
    let sk = p256::SecretKey::from_bytes(&d.into()).ok()?;
    match imp {
        Implementation::Stock => {
            let s = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
            Some(s.raw_secret_bytes().to_vec())
        }
        Implementation::FastTable | Implementation::FastOneOff => {
            let peer = Affine::from_p256(pk.as_affine())?;
            let scalar: p256::Scalar = *sk.to_nonzero_scalar();
            if imp == Implementation::FastTable {
                let t = super::table::FixedBaseTable::new(&peer, 5);
                super::mac::ecdh_with_table(&scalar, &t).map(|z| z.to_vec())
            } else {
                super::mac::ecdh(&scalar, &peer).map(|z| z.to_vec())
            }
        }
    }
}
