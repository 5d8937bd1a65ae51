//! The smart-metering system model: DCC users (suppliers, network
//! operators, other users), the DSP (Data Service Provider) with the ACB
//! (access control broker), three CSPs (communications service providers,
//! one per region) and their WAN (wide-area network), the meters
//! (communications hub with an electricity meter, ESME, or gas meter,
//! GSME), the DCC's SOC (security operations centre), and an attacker,
//! on top of the engine.
//!
//! The folder shows the model:
//!
//! * leaves: [`msg`] (the messages and the job a request is), [`world`]
//!   (the fixed cast and its keys), [`params`] (parameters and the
//!   scenario's tables), [`attack`] (the `[attack]` table), [`governance`]
//!   (assurance inputs and risk weights), [`stats`], [`timeline`],
//!   [`station`] (a multi-server FIFO queue validated against Erlang C),
//!   [`latency`] (HDR histograms);
//! * [`parties`]: one module per party, each owning its state and handlers;
//! * [`env`]: the narrow context a handler gets; [`shard`]: the shard that
//!   owns the parties and dispatches events to them;
//! * [`run`]: a run in named steps; [`checker`]: the independent checker;
//!   [`codec`]: messages and end-of-run figures as bytes between MPI ranks.

pub mod attack;
pub mod checker;
pub mod codec;
pub mod env;
pub mod governance;
pub mod holdings;
pub mod latency;
pub mod msg;
pub mod params;
pub mod parties;
pub mod registration;
pub mod risk;
pub mod run;
pub mod scenario;
pub mod shard;
pub mod station;
pub mod stats;
pub mod timeline;
pub mod vulnerability;
pub mod wire;
pub mod world;
