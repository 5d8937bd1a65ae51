//! The smart-metering system model (in progress).
//!
//! This module will hold the whole system of DESIGN.md section 2 on top of
//! the engine: DCC users, the DSP (Data Service Provider) with its worker
//! pools and anomaly detection, the ACB (access control broker), the CSPs'
//! (communications service providers') WAN links, communications hubs, the
//! HAN (home area network), and electricity and gas meters (ESME, GSME).
//!
//! So far it holds the parts every component is built from:
//!
//! * [`station`]: a multi-server FIFO queue (a DSP worker pool, a CSP's
//!   link capacity) with utilisation, queue-length and waiting-time figures,
//!   validated against the Erlang C formula (`tests/erlang_c.rs`);
//! * [`latency`]: HDR latency histograms and their `.hgrm` percentile files.

pub mod attack;
pub mod checker;
pub mod latency;
pub mod model;
pub mod ops;
pub mod params;
pub mod run;
pub mod station;
pub mod timeline;
pub mod world;
