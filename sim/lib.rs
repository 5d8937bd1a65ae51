//! # dccsim
//!
//! A deterministic, parallel discrete-event simulator of Great Britain's smart
//! metering system.
//!
//! The crate is built in layers:
//!
//! * [`engine`] is a small, domain-free kernel: integer time, events with a
//!   total-order key, shards run in parallel windows, named random streams.
//!   Its module docs state the ordering contract that makes every result
//!   identical for any thread count.
//! * [`phold`] is the standard synthetic benchmark for such engines, with a
//!   sequential binary-heap baseline that runs the same events.
//! * [`scenario`] reads scenario files and reports mistakes by file, line and key.
//! * [`results`] writes a run's results folder atomically.
//!
//! ```
//! use dccsim::models::phold::{self, PholdParams};
//! let p = PholdParams { lps: 100, events_per_lp: 2, remote: 0.5,
//!                       lookahead_s: 0.1, mean_s: 0.5, end_s: 2.0 };
//! let one = phold::run(&p, 1, 8, 1, None).report;
//! let two = phold::run(&p, 1, 8, 2, None).report;
//! assert_eq!((one.events, one.digest), (two.events, two.digest));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod crypto;
pub mod engine;
pub mod grid;
pub mod models;
pub mod workflow;
