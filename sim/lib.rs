//! # dccsim
//!
//! A deterministic, parallel discrete-event simulator of Great Britain's smart
//! metering system.
//!
//! The crate is built in layers, one folder each:
//!
//! * [`engine`] is a small, domain-free kernel: integer time, events with a
//!   total-order key, shards run in parallel windows, named random streams.
//!   Its module docs state the ordering contract that makes every result
//!   identical for any thread count.
//! * [`crypto`] is the real cryptographic path, independent of the engine:
//!   ECDSA P-256 with per-key tables, ECDH, the GBCS KDF and MACs, SMKI
//!   certificates, the device's checks and the DSP's.
//! * [`grid`] is the domestic load and GB frequency model (megawatts in,
//!   hertz out; it knows nothing of meters).
//! * [`models`] holds the models built on the engine: [`models::phold`],
//!   the standard synthetic benchmark with a sequential binary-heap
//!   baseline, and [`models::system`], the smart-metering system, one
//!   module per party.
//! * [`workflow`] is everything around single runs: scenario files
//!   ([`workflow::scenario`]), the results folder ([`workflow::results`]),
//!   the command line ([`workflow::cli`]), plots, sweeps, comparisons,
//!   reports and benchmarks.
//!
//! ```
//! use dccsim::models::phold::{self, PholdParams};
//! let p = PholdParams { lps: 100, events_per_lp: 2, remote: 0.5,
//!                       lookahead_s: 0.1, mean_s: 0.5, end_s: 2.0,
//!                       window_s: None, undeclared: false };
//! let one = phold::run(&p, 1, 8, 1, None).report;
//! let two = phold::run(&p, 1, 8, 2, None).report;
//! assert_eq!((one.events, one.digest), (two.events, two.digest));
//! ```
#![forbid(unsafe_code)]
// The system summary is one `json!` literal of ~60 keys (macro recursion).
#![recursion_limit = "256"]
#![warn(missing_docs)]

pub mod crypto;
pub mod engine;
pub mod grid;
pub mod models;
pub mod workflow;
