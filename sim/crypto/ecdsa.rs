//! ECDSA P-256 with SHA-256: fast verification and deterministic signing.
//!
//! * [`VerifyKey`] is a public key checked many times (a supplier's signing
//!   key, checked by millions of meters). After [`TABLE_AFTER_USES`] checks
//!   it builds a [`FixedBaseTable`] of its own multiples, once, shared by all
//!   threads; from then on a check costs two table look-up chains (about 66
//!   mixed additions) and no doublings.
//! * [`verify_oneoff`] checks against a key seen once (a device's response
//!   signature): a width-5 wNAF for the key's half and the generator table
//!   for the other.
//! * [`SigningKey::sign_prehash`] uses RFC 6979 deterministic nonces, so
//!   signatures (and runs) are reproducible, and the generator table for `k·G`.
//!
//! Every verifier here must agree with `p256::ecdsa::VerifyingKey::verify` on
//! every Wycheproof case and on random differential tests (see the tests).
//! Signatures are IEEE P1363 `r ‖ s`, 64 bytes, as GBCS uses.

use super::curve::{mul_vartime, Affine, Jacobian};
use super::table::{generator_table, FixedBaseTable, KEY_TABLE_WINDOW};
use p256::elliptic_curve::bigint::{Encoding, U256};
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::{Curve, Field, PrimeField};
use p256::{FieldBytes, FieldElement, NistP256, Scalar};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A raw ECDSA signature `r ‖ s` (big-endian, 32 bytes each).
pub type SignatureBytes = [u8; 64];

/// Checks of one key after which [`VerifyKey`] builds its table. A table
/// costs about as much as 15 one-off checks (measured by `dccsim bench crypto`
/// as `table_build_s` against `oneoff_verify_per_s`), so a key checked more
/// than a few dozen times pays for it.
pub const TABLE_AFTER_USES: u32 = 32;

/// `p - n`: an x coordinate below this may stand for `r` or `r + n`.
const P_MINUS_N: U256 =
    U256::from_be_hex("000000000000000000000000000000004319055358e8617b0c46353d039cdaae");

/// 32 bytes as `p256`'s field-bytes array.
#[inline]
pub(crate) fn fb(a: &[u8; 32]) -> FieldBytes {
    FieldBytes::from(*a)
}

/// SHA-256 of `msg`, reduced to a scalar (the `z` of ECDSA).
pub fn hash_to_scalar(msg: &[u8]) -> Scalar {
    prehash_to_scalar(&Sha256::digest(msg).into())
}

/// A 32-byte digest reduced to a scalar.
pub fn prehash_to_scalar(digest: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce_bytes(&fb(digest))
}

/// Parses `r ‖ s`; `None` unless both are in `1..n`.
pub fn parse_signature(sig: &[u8]) -> Option<(Scalar, Scalar)> {
    if sig.len() != 64 {
        return None;
    }
    let r: Scalar = Option::from(Scalar::from_repr(fb(sig[..32].try_into().ok()?)))?;
    let s: Scalar = Option::from(Scalar::from_repr(fb(sig[32..].try_into().ok()?)))?;
    if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
        return None;
    }
    Some((r, s))
}

#[inline]
fn limbs(s: &Scalar) -> [u64; 4] {
    U256::from(s).to_words()
}

/// The final check: the affine x of `acc`, reduced mod n, equals `r`.
#[inline]
fn x_matches(acc: &Jacobian, r: &Scalar) -> bool {
    if acc.is_infinity() {
        return false;
    }
    let r_bytes = r.to_bytes();
    let r_fe: FieldElement = Option::from(FieldElement::from_bytes(&r_bytes)).expect("r < n < p");
    if acc.x_equals(&r_fe) {
        return true;
    }
    // x may be r + n when r + n < p.
    let r_uint = U256::from_be_slice(&r_bytes);
    if r_uint < P_MINUS_N {
        let n_fe: FieldElement = Option::from(FieldElement::from_bytes(&fb(
            &NistP256::ORDER.to_be_bytes()
        )))
        .expect("n < p");
        return acc.x_equals(&(r_fe + n_fe));
    }
    false
}

/// `(u1, u2) = (z/s, r/s)`, or `None` when `s` has no inverse.
#[inline]
fn coefficients(z: &Scalar, r: &Scalar, s: &Scalar) -> Option<([u64; 4], [u64; 4])> {
    let w: Scalar = Option::from(s.invert_vartime())?;
    Some((limbs(&(*z * w)), limbs(&(*r * w))))
}

/// Checks `sig` on prehashed `z` against a key used once.
pub fn verify_oneoff(key: &Affine, z: &Scalar, sig: &[u8]) -> bool {
    let Some((r, s)) = parse_signature(sig) else {
        return false;
    };
    let Some((u1, u2)) = coefficients(z, &r, &s) else {
        return false;
    };
    let acc = mul_vartime(key, &u2);
    let acc = generator_table().mul_add(&u1, acc);
    x_matches(&acc, &r)
}

/// A public key that is checked many times; see the module docs.
pub struct VerifyKey {
    point: Affine,
    uses: AtomicU32,
    table: OnceLock<FixedBaseTable>,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "VerifyKey({})",
            hex::encode(self.point.to_uncompressed())
        )
    }
}

impl Clone for VerifyKey {
    fn clone(&self) -> Self {
        VerifyKey::new(self.point)
    }
}

impl VerifyKey {
    /// A key from its curve point; the table is built later, on demand.
    pub fn new(point: Affine) -> Self {
        VerifyKey {
            point,
            uses: AtomicU32::new(0),
            table: OnceLock::new(),
        }
    }

    /// A key from SEC1 bytes (compressed or uncompressed); `None` if the
    /// bytes are not a point on P-256 (or are the point at infinity).
    pub fn from_sec1(bytes: &[u8]) -> Option<Self> {
        let pk = p256::PublicKey::from_sec1_bytes(bytes).ok()?;
        Some(VerifyKey::new(Affine::from_p256(pk.as_affine())?))
    }

    /// The curve point.
    pub fn point(&self) -> &Affine {
        &self.point
    }

    /// Builds the table now (e.g. for a key known to be long-lived).
    pub fn precompute(&self) -> &FixedBaseTable {
        self.table
            .get_or_init(|| FixedBaseTable::new(&self.point, KEY_TABLE_WINDOW))
    }

    /// Whether the table has been built.
    pub fn has_table(&self) -> bool {
        self.table.get().is_some()
    }

    /// Checks `sig` over `msg` (hashed with SHA-256).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verify_prehash(&hash_to_scalar(msg), sig)
    }

    /// Checks `sig` on prehashed `z`.
    pub fn verify_prehash(&self, z: &Scalar, sig: &[u8]) -> bool {
        let table = match self.table.get() {
            Some(t) => t,
            None => {
                if self.uses.fetch_add(1, Ordering::Relaxed) < TABLE_AFTER_USES {
                    return verify_oneoff(&self.point, z, sig);
                }
                self.precompute()
            }
        };
        let Some((r, s)) = parse_signature(sig) else {
            return false;
        };
        let Some((u1, u2)) = coefficients(z, &r, &s) else {
            return false;
        };
        let acc = table.mul(&u2);
        let acc = generator_table().mul_add(&u1, acc);
        x_matches(&acc, &r)
    }
}

/// A private signing key with its public point.
#[derive(Clone)]
pub struct SigningKey {
    d: Scalar,
    public: Affine,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey(public {})",
            hex::encode(self.public.to_uncompressed())
        )
    }
}

impl SigningKey {
    /// From a non-zero scalar. The public point is `d·G` from the generator
    /// table (variable time: the simulator's keys come from a public seed).
    pub fn from_scalar(d: Scalar) -> Option<Self> {
        if bool::from(d.is_zero()) {
            return None;
        }
        let public = generator_table().mul(&limbs(&d)).to_affine()?;
        Some(SigningKey { d, public })
    }

    /// From 32 big-endian bytes; `None` unless in `1..n`.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let d: Scalar = Option::from(Scalar::from_repr(fb(bytes)))?;
        Self::from_scalar(d)
    }

    /// The private scalar.
    pub fn scalar(&self) -> &Scalar {
        &self.d
    }

    /// The public point.
    pub fn public(&self) -> &Affine {
        &self.public
    }

    /// Signs `msg` (hashed with SHA-256).
    pub fn sign(&self, msg: &[u8]) -> SignatureBytes {
        self.sign_prehash(&Sha256::digest(msg).into())
    }

    /// Signs a SHA-256 digest with the RFC 6979 nonce. Variable time in the
    /// nonce (see the module docs).
    pub fn sign_prehash(&self, digest: &[u8; 32]) -> SignatureBytes {
        let z = prehash_to_scalar(digest);
        let x = self.d.to_bytes();
        let n = fb(&NistP256::ORDER.to_be_bytes());
        // RFC 6979 section 3.2, with extra data only if a candidate fails
        // (r or s zero: probability about 2^-256; the loop keeps it total).
        let mut extra = 0u32;
        loop {
            let data = if extra == 0 {
                Vec::new()
            } else {
                extra.to_be_bytes().to_vec()
            };
            let k_bytes = rfc6979::generate_k::<Sha256, _>(&x, &n, &fb(digest), &data);
            extra += 1;
            let Some(k) = Option::<Scalar>::from(Scalar::from_repr(k_bytes)) else {
                continue;
            };
            if bool::from(k.is_zero()) {
                continue;
            }
            let Some(big_r) = generator_table().mul(&limbs(&k)).to_affine() else {
                continue;
            };
            let r = <Scalar as Reduce<U256>>::reduce_bytes(&big_r.x.to_bytes());
            if bool::from(r.is_zero()) {
                continue;
            }
            // Variable-time inversion of the nonce: several times faster than
            // the constant-time chain (measured), and harmless here (module docs).
            let k_inv: Scalar = Option::from(k.invert_vartime()).expect("k non-zero");
            let s = k_inv * (z + r * self.d);
            if bool::from(s.is_zero()) {
                continue;
            }
            let mut out = [0u8; 64];
            out[..32].copy_from_slice(&r.to_bytes());
            out[32..].copy_from_slice(&s.to_bytes());
            return out;
        }
    }

    /// A verifier for this key's public point.
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey::new(self.public)
    }
}
