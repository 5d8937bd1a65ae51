//! Delivering device alerts to DCC users: an alert the DSP has
//! authenticated goes to the meter's registered supplier over its DCC
//! user gateway. If the user cannot take it (a `user_outage`), the DSP
//! retries once after `parameters.dsp.alert_retry_s` and then holds the
//! alert, delivering it when the user is back, for at most
//! `parameters.dsp.alert_hold_h`; an alert held longer is dropped
//! ([S4]: the DCC retries delivery at least once within 300 s and holds
//! failed alerts for 2 days).
//!
//! Delivery to a user that is up costs no event: only failed deliveries
//! schedule anything, so a business-as-usual day is not slowed down.

use crate::models::system::attack::{AttackKind, AttackSpec};
use crate::models::system::env::Env;
use crate::models::system::msg::Msg;
use crate::models::system::world::World;

/// What became of the alerts delivered to users (`summary.json`
/// `alert_delivery`, in [`AlertDelivery::NAMES`] order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertDelivery {
    /// Counts by way of delivery, [`AlertDelivery::NAMES`] order.
    pub counts: [u64; 4],
}

impl AlertDelivery {
    /// The summary's names of the counts.
    pub const NAMES: [&'static str; 4] = ["first_attempt", "retry", "from_hold", "dropped"];

    /// An authenticated alert from meter `m`, raised at `raised_ns`, is
    /// delivered to the meter's supplier, or retried later.
    pub fn deliver(&mut self, w: &World, m: u32, raised_ns: u64, env: &mut Env<'_, '_>) {
        match user_down_until(w, w.supplier_at(m, env.now().0), env.now().0) {
            None => self.counts[0] += 1,
            Some(_) => {
                let retry = crate::engine::time::secs_to_ns(w.sc.parameters.dsp.alert_retry_s);
                env.send_self(retry.max(1), Msg::AlertRedeliver(m, raised_ns, false));
            }
        }
    }

    /// A failed alert's next attempt: the retry (`held` false), or the
    /// delivery of a held alert when its user is back.
    pub fn redeliver(
        &mut self,
        w: &World,
        m: u32,
        raised_ns: u64,
        held: bool,
        env: &mut Env<'_, '_>,
    ) {
        let now = env.now().0;
        let Some(back) = user_down_until(w, w.supplier_at(m, now), now) else {
            self.counts[if held { 2 } else { 1 }] += 1;
            return;
        };
        let hold_ns = crate::engine::time::secs_to_ns(w.sc.parameters.dsp.alert_hold_h * 3600.0);
        if back > raised_ns.saturating_add(hold_ns) {
            self.counts[3] += 1;
        } else {
            env.send_self((back - now).max(1), Msg::AlertRedeliver(m, raised_ns, true));
        }
    }
}

/// When user `u`'s gateway is down (a `user_outage`), when it is back.
fn user_down_until(w: &World, u: u32, now: u64) -> Option<u64> {
    w.active_attacks(AttackKind::UserOutage, now)
        .filter(|(a, _)| matches!(a, AttackSpec::UserOutage(o) if o.victim == u))
        .map(|(_, end)| end)
        .max()
}
