//! The crypto layer against public test vectors and stock `p256`.
//!
//! Reads `../shared/testdata/` beside the checkout and fails loudly if it is missing.

use dccsim::crypto::ecdsa::{hash_to_scalar, prehash_to_scalar};
use dccsim::crypto::wycheproof::{run_json, Implementation};
use dccsim::crypto::{derive_key, verify_oneoff, KeyRole, SigningKey, VerifyKey};
use p256::ecdsa::signature::{Signer, Verifier};
use rand::{Rng, RngCore, SeedableRng};
use sha2::{Digest, Sha256};

fn testdata(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!("test vectors missing: cannot read {} ({e}); the tests need ../shared/testdata beside the checkout", p.display())
    })
}

const FILES: [(&str, usize); 3] = [
    ("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", 262),
    ("wycheproof/ecdsa_secp256r1_sha256_test.json", 484),
    ("wycheproof/ecdh_secp256r1_test.json", 612),
];

#[test]
fn every_wycheproof_case_gives_the_expected_result_stock_and_fast() {
    for (file, n) in FILES {
        let text = testdata(file);
        for imp in [
            Implementation::Stock,
            Implementation::FastTable,
            Implementation::FastOneOff,
        ] {
            let rep = run_json(&text, imp).unwrap();
            assert_eq!(rep.passed + rep.failed.len(), n, "{file}: case count");
            assert!(
                rep.failed.is_empty(),
                "{file} via {imp:?}: failed cases {:?}",
                rep.failed
            );
        }
    }
}

#[test]
fn rfc6979_signatures_reproduced_byte_for_byte() {
    let v: serde_json::Value = serde_json::from_str(&testdata("rfc6979_p256_sha256.json")).unwrap();
    let d: [u8; 32] = hex::decode(v["private_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = SigningKey::from_bytes(&d).unwrap();
    let public = hex::decode(v["public_key_uncompressed"].as_str().unwrap()).unwrap();
    assert_eq!(key.public().to_uncompressed().to_vec(), public);
    let stock = p256::ecdsa::SigningKey::from_bytes(&d.into()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for c in cases {
        let msg = c["message_ascii"].as_str().unwrap().as_bytes();
        let want = hex::decode(format!(
            "{}{}",
            c["r"].as_str().unwrap(),
            c["s"].as_str().unwrap()
        ))
        .unwrap();
        assert_eq!(
            key.sign(msg).to_vec(),
            want,
            "fast signer, message {:?}",
            c["message_ascii"]
        );
        let s: p256::ecdsa::Signature = stock.sign(msg);
        assert_eq!(s.to_bytes().to_vec(), want, "stock signer");
        assert!(key.verify_key().verify(msg, &want));
    }
}

/// The order n of the P-256 group, big-endian.
const N: [u8; 32] = hex_literal("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

const fn hex_literal(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let hi = (b[2 * i] as char).to_digit(16).unwrap() as u8;
        let lo = (b[2 * i + 1] as char).to_digit(16).unwrap() as u8;
        out[i] = hi << 4 | lo;
        i += 1;
    }
    out
}

/// `n - s` for a 32-byte big-endian s (the high-S twin of a signature).
fn negate_s(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let v = N[i] as i16 - s[i] as i16 - borrow;
        borrow = i16::from(v < 0);
        out[i] = (v + 256 * borrow) as u8;
    }
    out
}

#[test]
fn ten_thousand_random_differential_cases_fast_equals_stock() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261128);
    let keys: Vec<SigningKey> = (0..16)
        .map(|i| derive_key(5, KeyRole::UserCommandSigning, i))
        .collect();
    let fast: Vec<VerifyKey> = keys.iter().map(|k| k.verify_key()).collect();
    for f in &fast[..8] {
        f.precompute(); // half the keys check through tables from the start
    }
    let stock: Vec<p256::ecdsa::VerifyingKey> = keys
        .iter()
        .map(|k| p256::ecdsa::VerifyingKey::from_sec1_bytes(&k.public().to_uncompressed()).unwrap())
        .collect();
    let mut counts = [0usize; 6];
    let mut accepted = 0;
    for i in 0..10_000u32 {
        let ki = rng.random_range(0..keys.len());
        let mut msg = vec![0u8; rng.random_range(0..200)];
        rng.fill_bytes(&mut msg);
        let mut sig = keys[ki].sign(&msg).to_vec();
        let mut vk = ki;
        let kind = (i % 6) as usize;
        counts[kind] += 1;
        match kind {
            0 => {}                                                                // valid
            1 => msg.push(rng.random()), // tampered message
            2 => sig[rng.random_range(0..64)] ^= 1 << rng.random_range(0..8), // tampered signature
            3 => vk = (ki + 1 + rng.random_range(0..keys.len() - 1)) % keys.len(), // wrong key
            4 => {
                let hs = negate_s(&sig[32..]); // high-S twin: still valid for P-256 ECDSA
                sig[32..].copy_from_slice(&hs);
            }
            _ => rng.fill_bytes(&mut sig), // random bytes (r or s may be out of range)
        }
        let want = p256::ecdsa::Signature::from_slice(&sig)
            .is_ok_and(|s| stock[vk].verify(&msg, &s).is_ok());
        let got_key = fast[vk].verify(&msg, &sig);
        let got_oneoff = verify_oneoff(fast[vk].point(), &hash_to_scalar(&msg), &sig);
        assert_eq!(
            got_key, want,
            "case {i} kind {kind}: VerifyKey disagrees with p256"
        );
        assert_eq!(
            got_oneoff, want,
            "case {i} kind {kind}: one-off verify disagrees with p256"
        );
        accepted += usize::from(want);
    }
    // Valid and high-S cases verify; the rest (bar negligible chance) do not.
    assert_eq!(accepted, counts[0] + counts[4]);
    assert!(
        fast.iter().all(|k| k.has_table()),
        "every key checked often enough builds its table"
    );
}

#[test]
fn fast_signatures_equal_stock_signatures() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for i in 0..200u64 {
        let k = derive_key(9, KeyRole::DeviceSigning, i);
        let stock = p256::ecdsa::SigningKey::from_bytes(&k.scalar().to_bytes()).unwrap();
        let mut msg = [0u8; 48];
        rng.fill_bytes(&mut msg);
        let s: p256::ecdsa::Signature = stock.sign(&msg);
        assert_eq!(k.sign(&msg).to_vec(), s.to_bytes().to_vec());
        let digest: [u8; 32] = Sha256::digest(msg).into();
        assert_eq!(prehash_to_scalar(&digest), hash_to_scalar(&msg));
    }
}
