//! Governance inputs: the assurance outcome of each user's security
//! assessment, ISO 27001 certification and third-party connections, and
//! the risk weights that turn them into the chance that a user is the one
//! compromised (`attack.draw_victim`).
//!
//! SEC: Smart Energy Code, whose section G sets the user security
//! assessment (full assessment before connecting, then a 3-year cycle with
//! annual verification; outcomes approved, approved with conditions,
//! deferred). The weights are assumptions (no public source gives them):
//! see `models/gb_default.toml [governance]`.

use serde::{Deserialize, Serialize};

/// Risk weights of governance inputs (drawing the compromised user).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Governance {
    pub weight_approved: f64,
    pub weight_approved_with_conditions: f64,
    pub weight_deferred: f64,
    pub weight_not_certified: f64,
    pub weight_per_third_party: f64,
}

/// An assurance outcome of the SEC's (Smart Energy Code's) user security
/// assessment (SEC section G).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// Approved.
    Approved,
    /// Approved with conditions.
    ApprovedWithConditions,
    /// Deferred.
    Deferred,
}

/// Relative risk that a user is the one compromised, from its governance
/// inputs and the weights of the parameter set.
pub fn risk_weight(
    g: &Governance,
    assurance: Assurance,
    certified: bool,
    third_parties: u32,
) -> f64 {
    let a = match assurance {
        Assurance::Approved => g.weight_approved,
        Assurance::ApprovedWithConditions => g.weight_approved_with_conditions,
        Assurance::Deferred => g.weight_deferred,
    };
    let c = if certified {
        1.0
    } else {
        g.weight_not_certified
    };
    a * c * (1.0 + g.weight_per_third_party * third_parties as f64)
}

/// Draws an index with probability proportional to `weights`, from 64 uniform bits.
pub fn draw_weighted(weights: &[f64], bits: u64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = crate::engine::rng::open01(bits) * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}
