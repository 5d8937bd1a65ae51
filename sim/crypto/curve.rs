//! Variable-time P-256 point arithmetic for *public* data (signature checks,
//! public-key tables), built on `p256`'s own field arithmetic.
//!
//! `p256`'s `ProjectivePoint` uses complete, constant-time formulas, which
//! is right for secrets but costs about twice as much per operation as the
//! classic Jacobian formulas used here (`a = -3`: doubling 3M+5S, mixed
//! addition 7M+4S). These formulas have exceptional cases (adding a point to
//! itself or its negation, the point at infinity), which are checked
//! explicitly. Branching on the data is fine: everything passed here is
//! public (a signature, a public key, a message hash).
//!
//! Secrets (signing nonces, private keys) also go through
//! [`super::table::FixedBaseTable`] with these formulas; that leaks timing,
//! which does not matter in a simulator whose keys are derived from a public
//! seed, and is documented at the signing API.

use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::elliptic_curve::subtle::ConstantTimeEq;
use p256::{AffinePoint, EncodedPoint, FieldElement};

/// A point in affine coordinates `(x, y)`; never the point at infinity.
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    /// x coordinate.
    pub x: FieldElement,
    /// y coordinate.
    pub y: FieldElement,
}

/// A point in Jacobian coordinates: `(X, Y, Z)` stands for `(X/Z², Y/Z³)`;
/// `Z = 0` is the point at infinity.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian {
    /// X.
    pub x: FieldElement,
    /// Y.
    pub y: FieldElement,
    /// Z.
    pub z: FieldElement,
}

#[inline]
pub(crate) fn fe_is_zero(a: &FieldElement) -> bool {
    bool::from(a.is_zero())
}

#[inline]
pub(crate) fn fe_eq(a: &FieldElement, b: &FieldElement) -> bool {
    bool::from(a.ct_eq(b))
}

impl Affine {
    /// The negated point `(x, -y)`.
    #[inline]
    pub fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: -self.y,
        }
    }

    /// From a `p256` affine point; `None` for the point at infinity.
    pub fn from_p256(p: &AffinePoint) -> Option<Affine> {
        let enc = p.to_encoded_point(false);
        let x = enc.x()?;
        let y = enc.y()?;
        let x = Option::from(FieldElement::from_bytes(x))?;
        let y = Option::from(FieldElement::from_bytes(y))?;
        Some(Affine { x, y })
    }

    /// To a `p256` affine point.
    pub fn to_p256(&self) -> AffinePoint {
        let enc =
            EncodedPoint::from_affine_coordinates(&self.x.to_bytes(), &self.y.to_bytes(), false);
        Option::from(AffinePoint::from_encoded_point(&enc))
            .expect("Affine always holds a curve point")
    }

    /// SEC1 uncompressed encoding (`04 ‖ x ‖ y`, 65 bytes).
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 4;
        out[1..33].copy_from_slice(&self.x.to_bytes());
        out[33..].copy_from_slice(&self.y.to_bytes());
        out
    }
}

impl Jacobian {
    /// The point at infinity.
    pub const INFINITY: Jacobian = Jacobian {
        x: FieldElement::ONE,
        y: FieldElement::ONE,
        z: FieldElement::ZERO,
    };

    /// Whether this is the point at infinity.
    #[inline]
    pub fn is_infinity(&self) -> bool {
        fe_is_zero(&self.z)
    }

    /// An affine point with `Z = 1`.
    #[inline]
    pub fn from_affine(p: &Affine) -> Jacobian {
        Jacobian {
            x: p.x,
            y: p.y,
            z: FieldElement::ONE,
        }
    }

    /// `2·self` (dbl-2001-b, `a = -3`): 3M + 5S.
    #[inline]
    pub fn double(&self) -> Jacobian {
        if self.is_infinity() || fe_is_zero(&self.y) {
            return Jacobian::INFINITY;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let t = (self.x - delta) * (self.x + delta);
        let alpha = t.double() + t;
        let beta4 = beta.double().double();
        let x3 = alpha.square() - beta4.double();
        let z3 = (self.y + self.z).square() - gamma - delta;
        let gamma2 = gamma.square();
        let y3 = alpha * (beta4 - x3) - gamma2.double().double().double();
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` for an affine `q` (madd-2007-bl): 7M + 4S.
    #[inline]
    pub fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_infinity() {
            return Jacobian::from_affine(q);
        }
        let z1z1 = self.z.square();
        let u2 = q.x * z1z1;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - self.x;
        let r = (s2 - self.y).double();
        if fe_is_zero(&h) {
            return if fe_is_zero(&r) {
                Jacobian::from_affine(q).double()
            } else {
                Jacobian::INFINITY
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h * i;
        let v = self.x * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (self.y * j).double();
        let z3 = (self.z + h).square() - z1z1 - hh;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` for Jacobian `q` (add-2007-bl): 11M + 5S.
    #[inline]
    pub fn add(&self, q: &Jacobian) -> Jacobian {
        if self.is_infinity() {
            return *q;
        }
        if q.is_infinity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x * z2z2;
        let u2 = q.x * z1z1;
        let s1 = self.y * q.z * z2z2;
        let s2 = q.y * self.z * z1z1;
        let h = u2 - u1;
        let r = (s2 - s1).double();
        if fe_is_zero(&h) {
            return if fe_is_zero(&r) {
                self.double()
            } else {
                Jacobian::INFINITY
            };
        }
        let i = h.double().square();
        let j = h * i;
        let v = u1 * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (s1 * j).double();
        let z3 = ((self.z + q.z).square() - z1z1 - z2z2) * h;
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// The negated point.
    #[inline]
    pub fn neg(&self) -> Jacobian {
        Jacobian {
            x: self.x,
            y: -self.y,
            z: self.z,
        }
    }

    /// To affine coordinates (one field inversion); `None` at infinity.
    pub fn to_affine(&self) -> Option<Affine> {
        if self.is_infinity() {
            return None;
        }
        let zi: FieldElement = Option::from(self.z.invert()).expect("non-zero");
        let zi2 = zi.square();
        Some(Affine {
            x: self.x * zi2,
            y: self.y * zi2 * zi,
        })
    }

    /// Whether the affine x coordinate equals `x` (no inversion: `X == x·Z²`).
    #[inline]
    pub fn x_equals(&self, x: &FieldElement) -> bool {
        !self.is_infinity() && fe_eq(&self.x, &(*x * self.z.square()))
    }
}

/// Converts many Jacobian points (none at infinity) to affine with a single
/// field inversion (Montgomery's trick).
pub fn batch_to_affine(points: &[Jacobian]) -> Vec<Affine> {
    let n = points.len();
    if n == 0 {
        return Vec::new();
    }
    let mut prefix = Vec::with_capacity(n);
    let mut acc = FieldElement::ONE;
    for p in points {
        assert!(!p.is_infinity(), "batch_to_affine: point at infinity");
        prefix.push(acc);
        acc *= p.z;
    }
    let mut inv: FieldElement = Option::from(acc.invert()).expect("product of non-zero Z");
    let mut out = vec![
        Affine {
            x: FieldElement::ZERO,
            y: FieldElement::ZERO
        };
        n
    ];
    for i in (0..n).rev() {
        let zi = inv * prefix[i];
        inv *= points[i].z;
        let zi2 = zi.square();
        out[i] = Affine {
            x: points[i].x * zi2,
            y: points[i].y * zi2 * zi,
        };
    }
    out
}

/// Signed width-`w` non-adjacent form of a 256-bit little-endian scalar:
/// digits are 0 or odd in `(-2^(w-1), 2^(w-1))`, least significant first.
pub fn wnaf(limbs_le: &[u64; 4], w: u32) -> Vec<i8> {
    assert!((2..=7).contains(&w));
    let mut k = [limbs_le[0], limbs_le[1], limbs_le[2], limbs_le[3], 0u64];
    let mut out = Vec::with_capacity(257);
    let full = 1i64 << w;
    let half = 1i64 << (w - 1);
    let is_zero = |k: &[u64; 5]| k.iter().all(|&l| l == 0);
    while !is_zero(&k) {
        let mut d = 0i64;
        if k[0] & 1 == 1 {
            d = (k[0] & (full as u64 - 1)) as i64;
            if d >= half {
                d -= full;
            }
            // k -= d
            if d > 0 {
                sub_small(&mut k, d as u64);
            } else {
                add_small(&mut k, (-d) as u64);
            }
        }
        out.push(d as i8);
        // k >>= 1
        for i in 0..5 {
            k[i] = (k[i] >> 1) | if i < 4 { k[i + 1] << 63 } else { 0 };
        }
    }
    out
}

fn sub_small(k: &mut [u64; 5], v: u64) {
    let (r, mut borrow) = k[0].overflowing_sub(v);
    k[0] = r;
    let mut i = 1;
    while borrow && i < 5 {
        let (r, b) = k[i].overflowing_sub(1);
        k[i] = r;
        borrow = b;
        i += 1;
    }
}

fn add_small(k: &mut [u64; 5], v: u64) {
    let (r, mut carry) = k[0].overflowing_add(v);
    k[0] = r;
    let mut i = 1;
    while carry && i < 5 {
        let (r, c) = k[i].overflowing_add(1);
        k[i] = r;
        carry = c;
        i += 1;
    }
}

/// `k·P` for a point used once: width-5 wNAF, 256 doublings and about 51 additions.
pub fn mul_vartime(p: &Affine, limbs_le: &[u64; 4]) -> Jacobian {
    let digits = wnaf(limbs_le, 5);
    // Odd multiples P, 3P, ..., 15P.
    let pj = Jacobian::from_affine(p);
    let p2 = pj.double();
    let mut odd = [pj; 8];
    for i in 1..8 {
        odd[i] = odd[i - 1].add(&p2);
    }
    let mut acc = Jacobian::INFINITY;
    for &d in digits.iter().rev() {
        acc = acc.double();
        if d > 0 {
            acc = acc.add(&odd[(d as usize) / 2]);
        } else if d < 0 {
            acc = acc.add(&odd[((-d) as usize) / 2].neg());
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::bigint::U256;
    use p256::{ProjectivePoint, Scalar};

    fn limbs(s: &Scalar) -> [u64; 4] {
        U256::from(s).to_words()
    }

    fn g() -> Affine {
        Affine::from_p256(&AffinePoint::GENERATOR).unwrap()
    }

    #[test]
    fn formulas_agree_with_p256() {
        let gj = Jacobian::from_affine(&g());
        let four = gj.double().double();
        let stock = (ProjectivePoint::GENERATOR * Scalar::from(4u64)).to_affine();
        assert_eq!(four.to_affine().unwrap().to_p256(), stock);
        let five = four.add_affine(&g());
        assert_eq!(
            five.to_affine().unwrap().to_p256(),
            (ProjectivePoint::GENERATOR * Scalar::from(5u64)).to_affine()
        );
        let nine = five.add(&four);
        assert_eq!(
            nine.to_affine().unwrap().to_p256(),
            (ProjectivePoint::GENERATOR * Scalar::from(9u64)).to_affine()
        );
        // Exceptional cases: P + P and P + (-P).
        assert_eq!(
            gj.add_affine(&g()).to_affine().unwrap().to_p256(),
            gj.double().to_affine().unwrap().to_p256()
        );
        assert!(gj.add_affine(&g().neg()).is_infinity());
        assert!(gj.add(&gj.neg()).is_infinity());
    }

    #[test]
    fn wnaf_reconstructs_the_scalar_and_mul_matches() {
        for seed in 1u64..40 {
            let s = Scalar::from(seed).pow_vartime(&[seed * 7919 + 3, 0, 0, 0]);
            let got = mul_vartime(&g(), &limbs(&s)).to_affine().unwrap().to_p256();
            assert_eq!(got, (ProjectivePoint::GENERATOR * s).to_affine());
        }
        let minus_one = -Scalar::ONE;
        let got = mul_vartime(&g(), &limbs(&minus_one)).to_affine().unwrap();
        assert_eq!(got.to_p256(), (-ProjectivePoint::GENERATOR).to_affine());
    }

    #[test]
    fn batch_normalisation_matches_single() {
        let mut pts = Vec::new();
        let mut acc = Jacobian::from_affine(&g());
        for _ in 0..10 {
            acc = acc.double().add_affine(&g());
            pts.push(acc);
        }
        let b = batch_to_affine(&pts);
        for (p, a) in pts.iter().zip(&b) {
            let s = p.to_affine().unwrap();
            assert!(fe_eq(&s.x, &a.x) && fe_eq(&s.y, &a.y));
        }
    }
}
