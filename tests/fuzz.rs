//! The fuzz targets (`dccsim::workflow::fuzz`) on every `cargo test`: every
//! file of the committed corpus, every RTDS message and Wycheproof file of
//! `../shared/testdata`, every regression input found by fuzzing, and
//! deterministic mutations of all of them (bit flips, byte changes, cuts,
//! splices, repeats). AFL++ (`fuzz/`) explores much further; this keeps
//! what it found from coming back.

use dccsim::workflow::fuzz::{self, TARGETS};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn testdata() -> PathBuf {
    let p = root().join("../shared/testdata");
    assert!(
        p.join("rtds/RTDS-4.5.0").is_dir(),
        "test data missing: {} must hold rtds/ and wycheproof/ (it sits beside the checkout)",
        p.display()
    );
    p
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// The seed inputs of `target`: its committed corpus and regressions.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for sub in ["corpus", "regressions"] {
        let d = root().join("fuzz").join(sub).join(target);
        if d.is_dir() {
            v.extend(files(&d).iter().map(|p| std::fs::read(p).unwrap()));
        }
    }
    v
}

/// SplitMix64 (the engine's `mix64` adds the increment), for the mutations.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        let z = dccsim::engine::mix64(self.0);
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `n` mutations of `input`, each a few AFL-style havoc steps.
fn mutations(input: &[u8], other: &[u8], n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut r = Mix(seed);
    let interesting = [
        0u8, 1, 0x7F, 0x80, 0xFF, b'0', b'9', b'"', b'[', b'=', b'\n',
    ];
    (0..n)
        .map(|_| {
            let mut b = input.to_vec();
            for _ in 0..1 + r.below(4) {
                let len = b.len();
                match r.below(7) {
                    0 if len > 0 => {
                        let i = r.below(len);
                        b[i] ^= 1 << r.below(8);
                    }
                    1 if len > 0 => {
                        let i = r.below(len);
                        b[i] = interesting[r.below(interesting.len())];
                    }
                    2 if len > 0 => b.truncate(r.below(len)),
                    3 if len > 0 => {
                        let i = r.below(len);
                        let j = i + r.below(len - i);
                        b.drain(i..j);
                    }
                    4 if !other.is_empty() => {
                        let i = r.below(len + 1);
                        let j = r.below(other.len());
                        let k = j + r.below(other.len() - j);
                        b.splice(i..i, other[j..k].iter().copied());
                    }
                    5 if len > 0 => {
                        let i = r.below(len);
                        let j = (i + 1 + r.below(16)).min(len);
                        let chunk = b[i..j].to_vec();
                        b.splice(i..i, chunk);
                    }
                    _ if len > 1 => {
                        let i = r.below(len - 1);
                        let v =
                            u16::from_be_bytes([b[i], b[i + 1]]).wrapping_add(r.below(5) as u16);
                        b[i..i + 2].copy_from_slice(&v.to_be_bytes());
                    }
                    _ => b.push(interesting[r.below(interesting.len())]),
                }
            }
            b
        })
        .collect()
}

/// Runs `target` on every input and `per` mutations of each; never panics.
fn hammer(target: &str, inputs: &[Vec<u8>], per: usize) -> usize {
    let mut n = 0;
    for (i, input) in inputs.iter().enumerate() {
        assert!(fuzz::run(target, input));
        n += 1;
        let other = &inputs[(i * 7 + 3) % inputs.len()];
        for m in mutations(input, other, per, i as u64 ^ 0xF022) {
            fuzz::run(target, &m);
            n += 1;
        }
    }
    n
}

#[test]
fn every_target_has_a_committed_corpus() {
    for t in TARGETS {
        assert!(!seeds(t).is_empty(), "fuzz/corpus/{t}/ is empty");
    }
    assert!(!fuzz::run("no_such_target", b""));
}

#[test]
fn the_rtds_keystore_is_found_for_the_gbcs_target() {
    testdata();
    assert!(fuzz::rtds_keystore().is_some());
}

#[test]
fn gbcs_messages_and_their_mutations_never_panic() {
    let mut inputs = seeds("gbcs");
    let rtds = testdata().join("rtds/RTDS-4.5.0");
    for d in files_in_dirs(&rtds) {
        let hex = std::fs::read_to_string(&d).unwrap();
        inputs.push(hex::decode(hex.trim()).unwrap());
    }
    assert!(inputs.len() > 1_300);
    let n = hammer("gbcs", &inputs, 30);
    eprintln!("gbcs: {n} inputs");
}

fn files_in_dirs(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for sub in files_or_dirs(d) {
        if sub.is_dir() {
            v.extend(files(&sub));
        }
    }
    v
}

fn files_or_dirs(d: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn utrn_certificates_and_keys_never_panic() {
    hammer("utrn", &seeds("utrn"), 200);
    let mut x = seeds("x509");
    for p in files(&testdata().join("rtds/keystore")) {
        x.push(std::fs::read(p).unwrap());
    }
    hammer("x509", &x, 40);
    hammer("smki_cert", &seeds("smki_cert"), 300);
}

#[test]
fn scenario_files_and_overrides_never_panic() {
    let mut inputs = seeds("scenario");
    for p in files(&root().join("scenarios")) {
        inputs.push(std::fs::read(p).unwrap());
    }
    let n = hammer("scenario", &inputs, 300);
    eprintln!("scenario: {n} inputs");
}

#[test]
fn wycheproof_files_never_panic() {
    let mut inputs = seeds("wycheproof");
    hammer("wycheproof", &inputs, 30);
    // The whole files once each (they are larger than the targets' cut).
    inputs.clear();
    for p in files(&testdata().join("wycheproof")) {
        if p.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&p).unwrap();
            dccsim::crypto::wycheproof::run_json(
                &text,
                dccsim::crypto::wycheproof::Implementation::FastOneOff,
            )
            .unwrap();
        }
    }
}

/// Writes the `smki_cert` seeds (run by hand when the encoding changes:
/// `cargo test --release --test fuzz -- --ignored write_smki_cert_seeds`).
#[test]
#[ignore]
fn write_smki_cert_seeds() {
    use dccsim::crypto::smki::{CertRole, KeyUsage, Smki};
    let mut s = Smki::new(1);
    let d = root().join("fuzz/corpus/smki_cert");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("root.bin"), s.root().encode()).unwrap();
    std::fs::write(d.join("org_ca.bin"), s.org_ca().encode()).unwrap();
    std::fs::write(d.join("device_ca.bin"), s.device_ca().encode()).unwrap();
    let k = *s.root_key().public();
    let c = s.issue(
        42,
        CertRole::ImportSupplier,
        KeyUsage::Signing,
        (0, 1 << 40),
        &k,
    );
    std::fs::write(d.join("supplier.bin"), c.encode()).unwrap();
}
