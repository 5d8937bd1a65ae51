//! The parties of the system, one module each. Each owns its state
//! (private to its module) and handles its messages with a narrow context:
//! the world (or, for the attacker, only what it holds), its own random
//! stream, the timeline and the engine ([`super::env::Env`]).

pub mod attacker;
pub mod csp;
pub mod desk;
pub mod dsp;
pub mod meters;
pub mod soc;
pub mod suppliers;
pub mod users;
