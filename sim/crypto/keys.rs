//! Deterministic keys for every party, derived from `(seed, role, id)`.
//!
//! No key is ever drawn from the operating system's RNG: a run's keys, like
//! everything else, follow from its seed. Device keys are derived on demand
//! (about 30 µs each with the generator table) instead of being stored for
//! millions of devices.

use super::ecdsa::SigningKey;
use p256::elliptic_curve::{Field, PrimeField};
use p256::{FieldBytes, Scalar};
use sha2::{Digest, Sha256};

/// Who a key belongs to and what it is for. The label enters the key
/// derivation, so two roles never share a key by accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyRole {
    /// The SMKI (Smart Metering Key Infrastructure) root certificate authority.
    RootCa,
    /// The SMKI recovery key (replaces compromised anchors).
    Recovery,
    /// The issuing CA for organisation certificates.
    OrgCa,
    /// The issuing CA for device certificates.
    DeviceCa,
    /// A DCC user's (supplier's, network operator's) key for signing service requests.
    UserRequestSigning,
    /// A DCC user's key for signing critical commands (checked by meters).
    UserCommandSigning,
    /// The access control broker's (ACB) key-agreement key (MACs on commands).
    AcbKeyAgreement,
    /// A device's (meter's, hub's) signing key.
    DeviceSigning,
    /// A device's key-agreement key.
    DeviceKeyAgreement,
    /// A manufacturer's firmware-signing key.
    Manufacturer,
    /// A WAN (wide-area network) provider's key.
    WanProvider,
    /// A DCC user's key-agreement key (MACs on responses and alerts to it,
    /// and encrypted blocks in its read responses).
    UserKeyAgreement,
    /// A supplier's prepayment key-agreement key (top-up tokens).
    UserPrepaymentKeyAgreement,
    /// The DCC's transitional change-of-supplier party's signing key.
    ChangeOfSupplier,
}

impl KeyRole {
    /// Stable label used in derivation.
    pub fn label(&self) -> &'static str {
        match self {
            KeyRole::RootCa => "root-ca",
            KeyRole::Recovery => "recovery",
            KeyRole::OrgCa => "org-ca",
            KeyRole::DeviceCa => "device-ca",
            KeyRole::UserRequestSigning => "user-request-signing",
            KeyRole::UserCommandSigning => "user-command-signing",
            KeyRole::AcbKeyAgreement => "acb-key-agreement",
            KeyRole::DeviceSigning => "device-signing",
            KeyRole::DeviceKeyAgreement => "device-key-agreement",
            KeyRole::Manufacturer => "manufacturer",
            KeyRole::WanProvider => "wan-provider",
            KeyRole::UserKeyAgreement => "user-key-agreement",
            KeyRole::UserPrepaymentKeyAgreement => "user-prepayment-key-agreement",
            KeyRole::ChangeOfSupplier => "change-of-supplier",
        }
    }
}

/// The private scalar for `(seed, role, id)`: SHA-256 of a domain tag and the
/// inputs (and a retry counter), taken as a big-endian integer, retried in the
/// negligible case that it is zero or not below the group order.
pub fn derive_scalar(seed: u64, role: KeyRole, id: u64) -> Scalar {
    for attempt in 0u32.. {
        let mut h = Sha256::new();
        h.update(b"dccsim/key/v1\0");
        h.update(seed.to_le_bytes());
        h.update(role.label().as_bytes());
        h.update([0u8]);
        h.update(id.to_le_bytes());
        h.update(attempt.to_le_bytes());
        let d: [u8; 32] = h.finalize().into();
        if let Some(s) = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(d))) {
            if !bool::from(s.is_zero()) {
                return s;
            }
        }
    }
    unreachable!("SHA-256 output below the group order is found in a few attempts")
}

/// The key pair for `(seed, role, id)`.
pub fn derive_key(seed: u64, role: KeyRole, id: u64) -> SigningKey {
    SigningKey::from_scalar(derive_scalar(seed, role, id)).expect("derived scalars are non-zero")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let a = derive_key(1, KeyRole::DeviceSigning, 5);
        let b = derive_key(1, KeyRole::DeviceSigning, 5);
        assert_eq!(a.public().to_uncompressed(), b.public().to_uncompressed());
        let others = [
            derive_key(2, KeyRole::DeviceSigning, 5),
            derive_key(1, KeyRole::DeviceKeyAgreement, 5),
            derive_key(1, KeyRole::DeviceSigning, 6),
        ];
        for o in others {
            assert_ne!(o.public().to_uncompressed(), a.public().to_uncompressed());
        }
        // The public point agrees with p256's own scalar multiplication.
        let stock = p256::SecretKey::from_bytes(&a.scalar().to_bytes())
            .unwrap()
            .public_key();
        assert_eq!(stock.as_affine(), &a.public().to_p256());
    }
}
