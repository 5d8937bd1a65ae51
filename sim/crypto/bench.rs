//! `dccsim bench crypto`: every figure measured in the same run, so ratios
//! (fast against stock) mean something on a shared, noisy machine.

use super::batch::{verify_batch, KeyRef, VerifyJob};
use super::ecdsa::hash_to_scalar;
use super::keys::{derive_key, derive_scalar, KeyRole};
use super::mac::{derive_mac_key, ecdh, gsa_mac, MacMode};
use super::table::{FixedBaseTable, KEY_TABLE_WINDOW};
use super::{verify_oneoff, SigningKey};
use p256::ecdsa::signature::{Signer, Verifier};
use serde_json::json;
use std::time::Instant;

/// Runs `f` over `inputs` round-robin until `min_s` seconds have passed
/// (checking the clock every 16 calls); returns operations per second.
fn rate<T>(inputs: &[T], min_s: f64, mut f: impl FnMut(&T) -> bool) -> (f64, u64) {
    let t = Instant::now();
    let mut n = 0u64;
    let mut ok = 0u64;
    loop {
        for _ in 0..16 {
            ok += u64::from(f(&inputs[(n as usize) % inputs.len()]));
            n += 1;
        }
        let e = t.elapsed().as_secs_f64();
        if e >= min_s {
            return (n as f64 / e, ok);
        }
    }
}

/// Device keys derived, ECDH agreements and GBCS MACs per second.
fn key_rates(min_s: f64) -> (f64, f64, f64) {
    let ids: Vec<u64> = (0..4096).collect();
    let (device_keys, _) = rate(&ids, min_s, |&i| {
        SigningKey::from_scalar(derive_scalar(2, KeyRole::DeviceSigning, i)).is_some()
    });
    let acb = derive_key(1, KeyRole::AcbKeyAgreement, 0);
    let dev_scalars: Vec<p256::Scalar> = (0..256)
        .map(|i| derive_scalar(3, KeyRole::DeviceKeyAgreement, i))
        .collect();
    let (ecdh_rate, _) = rate(&dev_scalars, min_s, |d| ecdh(d, acb.public()).is_some());
    let z = ecdh(&dev_scalars[0], acb.public()).expect("shared secret");
    let command = vec![0x5au8; 146];
    let counters: Vec<u64> = (0..1024).collect();
    let (mac_rate, _) = rate(&counters, min_s, |&c| {
        let k = derive_mac_key(&z, 0x1111, 0x2222, MacMode::Command, c);
        std::hint::black_box(gsa_mac(&k, 0x1111, &command)).len() == 12
    });
    (device_keys, ecdh_rate, mac_rate)
}

/// Measures the crypto layer; `min_s` is the time spent on each figure.
pub fn bench_crypto(threads: usize, min_s: f64) -> serde_json::Value {
    let signer = derive_key(1, KeyRole::UserCommandSigning, 0);
    let msgs: Vec<Vec<u8>> = (0..256u32)
        .map(|i| format!("bench command {i}").into_bytes())
        .collect();
    let sigs: Vec<[u8; 64]> = msgs.iter().map(|m| signer.sign(m)).collect();
    let cases: Vec<(usize, p256::Scalar)> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (i, hash_to_scalar(m)))
        .collect();

    // Stock p256.
    let stock_sk =
        p256::ecdsa::SigningKey::from_bytes(&signer.scalar().to_bytes()).expect("valid key");
    let stock_vk = *stock_sk.verifying_key();
    let stock_sigs: Vec<p256::ecdsa::Signature> = sigs
        .iter()
        .map(|s| p256::ecdsa::Signature::from_slice(s).expect("valid"))
        .collect();
    let (stock_verify, ok1) = rate(&cases, min_s, |(i, _)| {
        stock_vk.verify(&msgs[*i], &stock_sigs[*i]).is_ok()
    });
    let (stock_sign, _) = rate(&msgs, min_s, |m| {
        let s: p256::ecdsa::Signature = stock_sk.sign(m);
        s.r().as_ref() != &p256::Scalar::ZERO
    });

    // Fast: long-lived key with its table (build time measured separately).
    let t = Instant::now();
    let table = FixedBaseTable::new(signer.public(), KEY_TABLE_WINDOW);
    let table_build_s = t.elapsed().as_secs_f64();
    drop(table);
    let vk = signer.verify_key();
    vk.precompute();
    // One-off keys: a different device key for every check.
    let devices: Vec<(SigningKey, Vec<u8>, [u8; 64])> = (0..256u64)
        .map(|i| {
            let k = derive_key(1, KeyRole::DeviceSigning, i);
            let m = format!("response {i}").into_bytes();
            let s = k.sign(&m);
            (k, m, s)
        })
        .collect();
    let oneoff_cases: Vec<(usize, p256::Scalar)> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| (i, hash_to_scalar(&d.1)))
        .collect();
    let (oneoff_verify, ok3) = rate(&oneoff_cases, min_s, |(i, z)| {
        verify_oneoff(devices[*i].0.public(), z, &devices[*i].2)
    });

    let (fast_sign, _) = rate(&msgs, min_s, |m| {
        std::hint::black_box(signer.sign(m)).len() == 64
    });
    let (device_keys, ecdh_rate, mac_rate) = key_rates(min_s);

    // Fast verify on one thread and batch verify on `threads` threads,
    // measured in alternating rounds; the best round of each is reported, so
    // a burst of load from elsewhere on a shared machine does not decide the ratio.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let jobs: Vec<VerifyJob> = (0..2048)
        .map(|j| VerifyJob {
            key: KeyRef::LongLived(&vk),
            z: cases[j % 256].1,
            sig: &sigs[j % 256],
        })
        .collect();
    let (mut fast_verify, mut parallel_verify, mut ok2, mut all_ok) = (0.0f64, 0.0f64, 0u64, true);
    for _ in 0..3 {
        let (r, ok) = rate(&cases, min_s / 3.0, |(i, z)| {
            vk.verify_prehash(z, &sigs[*i])
        });
        fast_verify = fast_verify.max(r);
        ok2 += ok;
        let t = Instant::now();
        let mut batches = 0u64;
        while t.elapsed().as_secs_f64() < min_s / 3.0 {
            all_ok &= pool.install(|| verify_batch(&jobs)).iter().all(|&b| b);
            batches += 1;
        }
        parallel_verify =
            parallel_verify.max((batches * jobs.len() as u64) as f64 / t.elapsed().as_secs_f64());
    }

    assert!(
        ok1 > 0 && ok2 > 0 && ok3 > 0 && all_ok,
        "benchmark signatures must verify"
    );
    json!({
        "bench": "crypto",
        "threads": threads,
        "stock_verify_per_s": stock_verify,
        "stock_sign_per_s": stock_sign,
        "fast_verify_per_s": fast_verify,
        "oneoff_verify_per_s": oneoff_verify,
        "fast_sign_per_s": fast_sign,
        "device_keys_per_s": device_keys,
        "ecdh_per_s": ecdh_rate,
        "mac_per_s": mac_rate,
        "parallel_verify_per_s": parallel_verify,
        "table_build_s": table_build_s,
        "fast_verify_vs_stock": fast_verify / stock_verify,
        "oneoff_verify_vs_stock": oneoff_verify / stock_verify,
        "fast_sign_vs_stock": fast_sign / stock_sign,
        "parallel_vs_fast_verify": parallel_verify / fast_verify,
    })
}
