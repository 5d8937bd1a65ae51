//! Step 5 of a run: the attack's per-second effect on the grid, and the
//! frequency it causes.

use crate::models::system::timeline::{Col, COLUMNS};
use crate::models::system::world::World;

/// The attack's per-second effect on the grid, and the frequency it causes.
pub(crate) struct GridSeries {
    /// Meters off supply (all causes), per second.
    pub meters_off: Vec<i64>,
    /// Meters off because of the attack, per second.
    pub attack_off: Vec<i64>,
    /// Megawatts the attack took off, per second.
    pub mw_off: Vec<f64>,
    /// The frequency model's result.
    pub freq: crate::grid::FrequencyTrace,
}

/// Step 5: demand the attack removed, and the extra demand of homes just
/// reconnected (cold load pickup, decaying), into the frequency model;
/// business-as-usual changes are balanced by normal dispatch and left out.
pub(super) fn couple_grid(world: &World, rows: &[[i64; COLUMNS.len()]]) -> GridSeries {
    let g = &world.sc.parameters.grid;
    let seconds = rows.len();
    let mut meters_off = Vec::with_capacity(seconds);
    let mut attack_off = Vec::with_capacity(seconds);
    let mut mw_off = Vec::with_capacity(seconds);
    let mut deficit = Vec::with_capacity(seconds);
    let (mut off, mut a_off, mut kwh_off, mut surge) = (0i64, 0i64, 0i64, 0.0f64);
    let decay = (-1.0 / (g.cold_load_decay_min * 60.0)).exp();
    for (i, r) in rows.iter().enumerate() {
        let t = world.clock0_s + i as f64 + 0.5;
        off += r[Col::SupplyOff as usize] - r[Col::SupplyOn as usize];
        a_off += r[Col::AttackOff as usize] - r[Col::AttackRestored as usize];
        kwh_off += r[Col::KwhAttackOff as usize];
        let mw = crate::grid::mw_of(kwh_off, t);
        surge = surge * decay
            + (g.cold_load_pickup - 1.0) * crate::grid::mw_of(r[Col::KwhReconnected as usize], t);
        meters_off.push(off);
        attack_off.push(a_off);
        mw_off.push(mw);
        deficit.push(surge - mw);
    }
    let freq = crate::grid::simulate(g, seconds, |t| deficit[(t as usize).min(seconds - 1)]);
    GridSeries {
        meters_off,
        attack_off,
        mw_off,
        freq,
    }
}
