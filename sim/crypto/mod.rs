//! The real cryptographic path: ECDSA P-256 signatures, ECDH-derived MACs,
//! deterministic keys, and fast verification.
//!
//! Everything here is independent of the event engine. `p256` provides the
//! field and scalar arithmetic and the reference verifier; this module adds
//! variable-time Jacobian point formulas ([`curve`]), per-key precomputed
//! tables ([`table`]), and the verifiers and signer built on them ([`ecdsa`]).
//! The tests hold every verifier to `p256`'s answers on the Wycheproof vectors
//! and on random differential cases.

pub mod curve;
pub mod ecdsa;
pub mod keys;
pub mod table;

pub use curve::Affine;
pub use ecdsa::{hash_to_scalar, verify_oneoff, SignatureBytes, SigningKey, VerifyKey};
pub use keys::{derive_key, KeyRole};
pub mod batch;
pub mod bench;
pub mod device;
pub mod gbcs;
pub mod keystore;
pub mod mac;
pub mod mode;
pub mod registry;
pub mod request;
pub mod smki;
pub mod wycheproof;
pub mod x509;
