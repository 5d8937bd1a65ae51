//! Models built on the engine: the PHOLD benchmark and the smart-metering system.
//!
//! Each model implements [`crate::engine::ShardModel`] and talks to the
//! engine only through typed messages; the engine knows nothing of them.

pub mod phold;
pub mod system;
