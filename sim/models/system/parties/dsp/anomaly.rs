//! The DSP's security state: threshold anomaly detection per user per
//! message type per window (requests over the threshold are quarantined
//! and the SOC is told once per window), suspended users with revoked
//! credentials, the log of disable-supply commands sent under each
//! identity, and a SIEM (security information and event management) rule
//! on the volume of critical device alerts.

use crate::crypto::gbcs::MessageKind;
use crate::engine::time::secs_to_ns;
use crate::engine::SimTime;
use crate::models::system::world::{kind_index, World};
use std::collections::HashMap;

/// Whether user `u`'s requests of kind `msg` are part of a campaign the
/// DCC announced (a declared vulnerability's emergency fix, from its
/// start): firmware deliveries and activations are then not counted
/// against the user's anomaly threshold. Anyone presenting the user's
/// identity benefits too, as in the real arrangement.
fn pre_approved(w: &World, u: u32, msg: MessageKind, now: SimTime) -> bool {
    matches!(
        msg,
        MessageKind::UpdateFirmware | MessageKind::ActivateFirmware
    ) && w.fix_campaign(u).is_some_and(|(start, _)| now.0 >= start)
}

/// What the DSP's security state says about a request or an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raise {
    /// Nothing to tell the SOC.
    Nothing,
    /// Tell the SOC (the first time in a window).
    Tell,
}

/// The DSP's security state.
#[derive(Clone, Debug, Default)]
pub struct Security {
    /// Anomaly counters: `(user, kind index) -> (window, count, SOC told)`.
    counts: HashMap<(u32, usize), (u64, u32, bool)>,
    /// Users whose original credentials were revoked and who are suspended.
    suspended: Vec<bool>,
    /// Users under incident recovery: their recovery work (restoring
    /// supply, replacing anchors, firmware) is pre-approved; the rest of
    /// their traffic is still counted (detection stays on).
    recovering: Vec<bool>,
    /// Meters that disable-supply commands were sent to, per claimed user.
    disabled_log: Vec<Vec<u32>>,
    /// When each user was contained, nanoseconds.
    contained_at_ns: Vec<Option<u64>>,
    /// Critical-alert SIEM counter: `(window, count, raised)`.
    alerts: (u64, u64, bool),
}

impl Security {
    /// State for `users` users.
    pub fn new(users: u32) -> Self {
        Security {
            suspended: vec![false; users as usize],
            recovering: vec![false; users as usize],
            disabled_log: vec![Vec::new(); users as usize],
            contained_at_ns: vec![None; users as usize],
            ..Default::default()
        }
    }

    /// Whether user `u`'s credentials of generation `gen` are revoked.
    pub fn revoked(&self, u: u32, gen: u8) -> bool {
        gen == 0 && self.suspended.get(u as usize).copied().unwrap_or(false)
    }

    /// When each user was contained.
    pub fn contained_at_ns(&self) -> &[Option<u64>] {
        &self.contained_at_ns
    }

    /// Whether user `u` has already exceeded its threshold for kind `k` in
    /// the window containing `t` (so further requests will be quarantined).
    pub fn over_threshold(&self, w: &World, u: u32, k: usize, t: SimTime) -> bool {
        let a = &w.sc.parameters.anomaly;
        if !a.enabled {
            return false;
        }
        let window = t.0 / secs_to_ns(a.window_s).max(1);
        self.counts
            .get(&(u, k))
            .is_some_and(|&(win, n, _)| win == window && n >= w.thresholds[u as usize][k])
    }

    /// Counts a request of user `u` and says whether it is over the user's
    /// threshold (quarantine), and whether to tell the SOC (once per user,
    /// type and window).
    pub fn anomaly(&mut self, w: &World, u: u32, msg: MessageKind, now: SimTime) -> (bool, Raise) {
        let a = &w.sc.parameters.anomaly;
        let recovery_work = matches!(
            msg,
            MessageKind::EnableSupply
                | MessageKind::ArmSupply
                | MessageKind::UpdateSecurityCredentials
                | MessageKind::UpdateFirmware
                | MessageKind::ActivateFirmware
        );
        let recovering = self.recovering[u as usize] && recovery_work;
        if !a.enabled || recovering || pre_approved(w, u, msg, now) {
            return (false, Raise::Nothing);
        }
        let k = kind_index(msg);
        let window = now.0 / secs_to_ns(a.window_s).max(1);
        let e = self.counts.entry((u, k)).or_insert((window, 0, false));
        if e.0 != window {
            *e = (window, 0, false);
        }
        e.1 = e.1.saturating_add(1);
        if e.1 <= w.thresholds[u as usize][k] {
            return (false, Raise::Nothing);
        }
        if e.2 {
            return (true, Raise::Nothing);
        }
        e.2 = true;
        (true, Raise::Tell)
    }

    /// The SIEM rule on critical device alerts: one event per window over the threshold.
    pub fn alert_volume(&mut self, w: &World, now: SimTime) -> Raise {
        let s = &w.sc.parameters.soc;
        let window = now.0 / secs_to_ns(s.alert_volume_window_s).max(1);
        let a = &mut self.alerts;
        if a.0 != window {
            *a = (window, 0, false);
        }
        a.1 += 1;
        let threshold = (s.alert_volume_factor * w.expected_critical_alerts)
            .max(w.sc.parameters.anomaly.threshold_min as f64);
        if a.1 as f64 > threshold && !a.2 {
            a.2 = true;
            return Raise::Tell;
        }
        Raise::Nothing
    }

    /// Logs a disable-supply command sent under user `u`'s identity.
    pub fn log_disable(&mut self, u: u32, meter: u32) {
        self.disabled_log[u as usize].push(meter);
    }

    /// Containment: suspends user `u` and revokes its credentials; returns
    /// the meters disabled under its identity (sorted, once each), or
    /// `None` if it was already contained.
    pub fn contain(&mut self, u: u32, now: SimTime) -> Option<Vec<u32>> {
        if self.suspended[u as usize] {
            return None;
        }
        self.suspended[u as usize] = true;
        self.recovering[u as usize] = true;
        self.contained_at_ns[u as usize] = Some(now.0);
        let mut log = std::mem::take(&mut self.disabled_log[u as usize]);
        log.sort_unstable();
        log.dedup();
        Some(log)
    }
}
