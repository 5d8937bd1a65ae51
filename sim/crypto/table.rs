//! Precomputed fixed-base tables: `k·P` for a point `P` that is used many
//! times (the generator, a supplier's signing key, the ACB's key-agreement key).
//!
//! The scalar is recoded into signed `w`-bit digits `d_i ∈ [-2^(w-1), 2^(w-1)]`
//! with `k = Σ d_i·2^(w·i)`; row `i` of the table holds `j·2^(w·i)·P` for
//! `j = 1..=2^(w-1)` in affine form, so `k·P` is one mixed addition per
//! non-zero digit and no doublings: 33 additions for `w = 8`, against about
//! 256 doublings and 50 additions without a table.

use super::curve::{batch_to_affine, Affine, Jacobian};
use std::sync::OnceLock;

/// A table of multiples of one point.
pub struct FixedBaseTable {
    w: u32,
    per_row: usize,
    rows: usize,
    points: Vec<Affine>,
}

impl std::fmt::Debug for FixedBaseTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FixedBaseTable {{ w: {}, rows: {}, bytes: {} }}",
            self.w,
            self.rows,
            self.bytes()
        )
    }
}

/// Window width of per-key tables: 38 rows × 64 points × 64 bytes = 152 KiB.
/// Chosen by measurement (`dccsim bench crypto`): w = 8 (270 KiB) was no faster
/// on one thread and scaled worse on two; w = 4..6 were slower.
pub const KEY_TABLE_WINDOW: u32 = 7;

impl FixedBaseTable {
    /// Builds the table for `p` with `w`-bit signed digits.
    pub fn new(p: &Affine, w: u32) -> Self {
        assert!((2..=16).contains(&w), "window width {w} out of range");
        let per_row = 1usize << (w - 1);
        let rows = 256usize.div_ceil(w as usize) + 1;
        let mut jac = Vec::with_capacity(rows * per_row);
        let mut base = Jacobian::from_affine(p);
        for _ in 0..rows {
            let mut e = base;
            jac.push(e);
            for _ in 1..per_row {
                e = e.add(&base);
                jac.push(e);
            }
            for _ in 0..w {
                base = base.double();
            }
        }
        FixedBaseTable {
            w,
            per_row,
            rows,
            points: batch_to_affine(&jac),
        }
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.points.len() * std::mem::size_of::<Affine>()
    }

    /// `acc + k·P`, where `k` is a 256-bit little-endian integer (any value
    /// below 2^256, not only reduced scalars).
    #[inline]
    pub fn mul_add(&self, k: &[u64; 4], mut acc: Jacobian) -> Jacobian {
        let w = self.w as usize;
        let mask = (1u64 << w) - 1;
        let half = 1i64 << (w - 1);
        let mut carry = 0i64;
        for i in 0..self.rows {
            let bit = i * w;
            let mut v = if bit < 256 {
                let limb = bit / 64;
                let off = bit % 64;
                let mut x = k[limb] >> off;
                if off + w > 64 && limb + 1 < 4 {
                    x |= k[limb + 1] << (64 - off);
                }
                (x & mask) as i64
            } else {
                0
            };
            v += carry;
            if v > half {
                v -= 1 << w;
                carry = 1;
            } else {
                carry = 0;
            }
            if v != 0 {
                let entry = &self.points[i * self.per_row + (v.unsigned_abs() as usize - 1)];
                acc = if v > 0 {
                    acc.add_affine(entry)
                } else {
                    acc.add_affine(&entry.neg())
                };
            }
        }
        debug_assert_eq!(carry, 0, "the last row absorbs the final carry");
        acc
    }

    /// `k·P`.
    #[inline]
    pub fn mul(&self, k: &[u64; 4]) -> Jacobian {
        self.mul_add(k, Jacobian::INFINITY)
    }
}

/// The generator's table, built once per process on first use.
pub fn generator_table() -> &'static FixedBaseTable {
    static G: OnceLock<FixedBaseTable> = OnceLock::new();
    G.get_or_init(|| {
        let g = Affine::from_p256(&p256::AffinePoint::GENERATOR).expect("generator is finite");
        FixedBaseTable::new(&g, KEY_TABLE_WINDOW)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::bigint::U256;
    use p256::{ProjectivePoint, Scalar};

    #[test]
    fn table_multiplication_matches_p256_for_many_scalars_and_widths() {
        let g = Affine::from_p256(&p256::AffinePoint::GENERATOR).unwrap();
        let p = (ProjectivePoint::GENERATOR * Scalar::from(123_456_789u64)).to_affine();
        let pa = Affine::from_p256(&p).unwrap();
        for w in [4u32, 5, 8] {
            let t = FixedBaseTable::new(&pa, w);
            let mut s = Scalar::from(3u64);
            for i in 0..30u64 {
                s = s * s + Scalar::from(i);
                let got = t
                    .mul(&U256::from(&s).to_words())
                    .to_affine()
                    .unwrap()
                    .to_p256();
                assert_eq!(
                    got,
                    (ProjectivePoint::from(p) * s).to_affine(),
                    "w {w} i {i}"
                );
            }
            // Edge scalars: 1, n-1, and all-ones digits.
            for s in [Scalar::ONE, -Scalar::ONE, Scalar::from(u64::MAX)] {
                let got = t
                    .mul(&U256::from(&s).to_words())
                    .to_affine()
                    .unwrap()
                    .to_p256();
                assert_eq!(got, (ProjectivePoint::from(p) * s).to_affine());
            }
            assert!(t.mul(&[0; 4]).is_infinity());
        }
        let gt = generator_table();
        let s = Scalar::from(987_654_321u64);
        let got = gt.mul(&U256::from(&s).to_words()).to_affine().unwrap();
        assert_eq!(got.to_p256(), (ProjectivePoint::GENERATOR * s).to_affine());
        let _ = g;
    }
}
