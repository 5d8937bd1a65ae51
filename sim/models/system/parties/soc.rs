//! The SOC: the DCC's security operations centre. Every security event is
//! logged and triaged by one of a fixed number of analysts (a multi-server
//! station with exponential triage times); anomaly quarantines and
//! suppliers' reports of disconnections they did not order are escalated
//! as incidents about that user, alert-volume events are categorised as
//! operational. With incident response on, an escalated incident leads,
//! after the containment delay, to the user's suspension at the DSP.
//!
//! The analysts are not an oracle. Business-as-usual events about users
//! that are not attacks arrive too (`parameters.soc.benign_events_per_day`)
//! and look like a threshold breach. An analyst categorises an event about
//! a user on the evidence, never on its nature: the weights of every event
//! about that user raised in the last `corroboration_window_h` (a threshold
//! breach 1, a supplier's report `supplier_report_weight`, a user
//! disowning quarantined requests `disowned_weight`). Evidence that reaches
//! `escalation_evidence` is escalated, but dismissed with probability
//! `miss_share`; evidence below it is dismissed, but escalated with
//! probability `false_positive_share` (an honest user is then contained,
//! losing its traffic until its credentials are reissued). So one burst of
//! an attack that trips the threshold once can pass as a spike, and a
//! benign spike can contain an honest user.
//!
//! Analysts work shifts: `analysts` by day (`day_shift_start_h` to
//! `day_shift_end_h`, clock time), `night_analysts` otherwise; a triage
//! under way at a shift change is finished.

use crate::engine::time::secs_to_ns;
use crate::engine::SimTime;
use crate::models::system::attack::AttackKind;
use crate::models::system::env::Env;
use crate::models::system::latency::Latency;
use crate::models::system::msg::{Msg, SecurityEvent};
use crate::models::system::station::Station;
use crate::models::system::stats::{Came, Series};
use crate::models::system::world::World;

/// The SOC's state.
pub struct Soc {
    /// Analysts triaging security events (each with the time it was raised).
    analysts: Station<(SecurityEvent, u64)>,
    /// Events logged, by kind ([`SecurityEvent::NAMES`] order).
    logged: [u64; SecurityEvent::NAMES.len()],
    /// Events categorised as operational (not an attack).
    operational: u64,
    /// Incidents with no user to contain (meters refusing forged or
    /// replayed commands say so, but not who sent them).
    unattributed: u64,
    /// Real events about a user dismissed as operational.
    missed: u64,
    /// Benign events escalated as incidents.
    false_escalations: u64,
    /// A meter-refusal event is with an analyst: later refusal alerts are
    /// logged but not queued again until it is triaged.
    refusal_in_triage: bool,
    /// Users an incident was escalated about, in order.
    escalated: Vec<u32>,
    /// Evidence about each user: `(raised ns, weight)` of recent events.
    evidence: std::collections::BTreeMap<u32, Vec<(u64, f64)>>,
    /// First escalation, nanoseconds.
    first_escalation_ns: Option<u64>,
    series: Series,
    /// From an event being raised to its triage, per event.
    time_to_triage: Latency,
}

/// What the run's results take from the SOC.
pub struct SocTotals {
    /// Analyst utilisation.
    pub utilisation: f64,
    /// Longest queue.
    pub queue_len_max: u64,
    /// Per-minute series.
    pub series: Series,
    /// Events logged, by kind.
    pub logged: [u64; SecurityEvent::NAMES.len()],
    /// Events categorised as operational.
    pub operational: u64,
    /// Incidents with no user to contain.
    pub unattributed: u64,
    /// Real events about a user dismissed as operational (too little
    /// evidence yet, or `miss_share`).
    pub missed: u64,
    /// Benign events escalated as incidents (`false_positive_share`, or
    /// benign evidence adding up).
    pub false_escalations: u64,
    /// Users escalated, in order.
    pub escalated: Vec<u32>,
    /// First escalation, nanoseconds.
    pub first_escalation_ns: Option<u64>,
    /// From an event being raised (reaching the SOC) to its triage.
    pub time_to_triage: Latency,
}

impl Soc {
    /// The SOC of a world.
    pub fn new(w: &World) -> Self {
        Soc {
            analysts: Station::new(on_shift(w, 0)),
            logged: [0; SecurityEvent::NAMES.len()],
            operational: 0,
            unattributed: 0,
            missed: 0,
            false_escalations: 0,
            refusal_in_triage: false,
            escalated: Vec::new(),
            evidence: Default::default(),
            first_escalation_ns: None,
            series: Series::default(),
            time_to_triage: Latency::default(),
        }
    }

    /// A security event arrives: logged, added to the evidence about its
    /// user, and queued for an analyst.
    pub fn event(&mut self, w: &World, e: SecurityEvent, env: &mut Env<'_, '_>) {
        let now = env.now();
        self.logged[e.index()] += 1;
        if let Some((u, weight)) = evidence(w, e) {
            let window = secs_to_ns(w.sc.parameters.soc.corroboration_window_h * 3600.0);
            let log = self.evidence.entry(u).or_default();
            log.retain(|&(t, _)| t.saturating_add(window) >= now.0);
            log.push((now.0, weight));
        }
        if e == SecurityEvent::MeterRefusalAlert {
            if self.refusal_in_triage {
                return;
            }
            self.refusal_in_triage = true;
        }
        let started = self.analysts.arrive(now, (e, now.0));
        self.series
            .note(now, self.analysts.queue_len(), Came::Arrival);
        if let Some((e, raised)) = started {
            self.start(w, e, raised, env);
        }
    }

    /// The next benign event: about a user drawn uniformly, after an
    /// exponential gap (the first tick, at the start, only starts the stream).
    pub fn benign_tick(&mut self, w: &World, env: &mut Env<'_, '_>) {
        if env.now().0 > 1 {
            let u = (env.rng.open01() * w.users as f64) as u32;
            self.event(w, SecurityEvent::Benign(u.min(w.users - 1)), env);
        }
        let gap_ms = 86_400e3 / w.sc.parameters.soc.benign_events_per_day;
        let gap = env.rng.exp_ms(gap_ms).max(1);
        env.send_self(gap, Msg::BenignTick);
    }

    /// A shift changes: the analysts on hand become the new shift's, those
    /// who arrive take queued events; the next change is scheduled.
    pub fn shift(&mut self, w: &World, env: &mut Env<'_, '_>) {
        let now = env.now();
        for (e, raised) in self.analysts.set_workers(now, on_shift(w, now.0)) {
            self.start(w, e, raised, env);
        }
        let p = &w.sc.parameters.soc;
        let hour = clock_hour(w, now.0);
        let next = [p.day_shift_start_h, p.day_shift_end_h]
            .iter()
            .map(|&b| (b - hour).rem_euclid(24.0))
            .map(|d| if d < 1e-9 { 24.0 } else { d })
            .fold(24.0, f64::min);
        env.send_self(secs_to_ns(next * 3600.0).max(1), Msg::SocShift);
    }

    /// An analyst takes an event: triage takes an exponential time, and
    /// cannot begin while the SOC is out of action (`soc_outage`).
    fn start(&mut self, w: &World, e: SecurityEvent, raised: u64, env: &mut Env<'_, '_>) {
        let now = env.now().0;
        let back = w
            .active_attacks(AttackKind::SocOutage, now)
            .map(|(_, end)| end)
            .max()
            .map_or(0, |end| end - now);
        let t = env.rng.exp_ms(w.sc.parameters.soc.triage_mean_min * 60e3);
        env.send_self(back.saturating_add(t.max(1)), Msg::TriageDone(e, raised));
    }

    /// An analyst categorised an event: incidents about a user are
    /// escalated and, with incident response on, lead to containment.
    pub fn triaged(&mut self, w: &World, e: SecurityEvent, raised: u64, env: &mut Env<'_, '_>) {
        let now = env.now();
        self.time_to_triage.record_ns(now.0 - raised);
        if let Some(((e2, r2), _)) = self.analysts.finish(now) {
            self.start(w, e2, r2, env);
        }
        let user = match e {
            SecurityEvent::AlertVolume => {
                self.operational += 1;
                return;
            }
            SecurityEvent::MeterRefusalAlert => {
                self.refusal_in_triage = false;
                self.unattributed += 1;
                return;
            }
            SecurityEvent::Anomaly(u)
            | SecurityEvent::CustomerReports(u)
            | SecurityEvent::Benign(u)
            | SecurityEvent::Disowned(u) => u,
        };
        if self.escalated.contains(&user) {
            return;
        }
        // The decision reads the evidence only; whether the event was an
        // attack is read afterwards, to count the analysts' errors.
        let escalate = self.judge(w, user, now.0, env.rng.open01());
        let benign = matches!(e, SecurityEvent::Benign(_));
        if !escalate {
            self.operational += 1;
            self.missed += u64::from(!benign);
            return;
        }
        self.false_escalations += u64::from(benign);
        self.escalated.push(user);
        // Detection (results' time to detect) counts real incidents only.
        if !matches!(e, SecurityEvent::Benign(_)) {
            self.first_escalation_ns.get_or_insert(now.0);
        }
        let r = &w.sc.parameters.response;
        if r.enabled {
            let d = secs_to_ns(r.contain_after_escalation_min * 60.0)
                .max(w.sc.parameters.lookahead_ns());
            env.send(w.dsp, d, Msg::Contain(user));
        }
    }

    /// Whether an analyst escalates an incident about `user` at `now`, on
    /// the evidence about it and `draw` (uniform in [0, 1)).
    fn judge(&self, w: &World, user: u32, now: u64, draw: f64) -> bool {
        let p = &w.sc.parameters.soc;
        let window = secs_to_ns(p.corroboration_window_h * 3600.0);
        let weight: f64 = self.evidence.get(&user).map_or(0.0, |log| {
            log.iter()
                .filter(|&&(t, _)| t.saturating_add(window) >= now)
                .map(|&(_, x)| x)
                .sum()
        });
        if weight >= p.escalation_evidence {
            draw >= p.miss_share
        } else {
            draw < p.false_positive_share
        }
    }

    /// Figures for the results at the end of the run.
    pub fn totals(&mut self, end: SimTime) -> SocTotals {
        SocTotals {
            utilisation: self.analysts.utilisation(end),
            queue_len_max: self.analysts.stats_at(end).queue_len_max,
            series: Series {
                utilisation: self.analysts.utilisation_by_minute(end),
                ..std::mem::take(&mut self.series)
            },
            logged: self.logged,
            operational: self.operational,
            unattributed: self.unattributed,
            missed: self.missed,
            false_escalations: self.false_escalations,
            escalated: self.escalated.clone(),
            first_escalation_ns: self.first_escalation_ns,
            time_to_triage: std::mem::take(&mut self.time_to_triage),
        }
    }
}

/// The weight an event adds to the evidence about its user, as an analyst
/// sees it (a benign event looks like the threshold breach it resembles).
fn evidence(w: &World, e: SecurityEvent) -> Option<(u32, f64)> {
    let p = &w.sc.parameters.soc;
    match e {
        SecurityEvent::Anomaly(u) | SecurityEvent::Benign(u) => Some((u, 1.0)),
        SecurityEvent::CustomerReports(u) => Some((u, p.supplier_report_weight)),
        SecurityEvent::Disowned(u) => Some((u, p.disowned_weight)),
        SecurityEvent::AlertVolume | SecurityEvent::MeterRefusalAlert => None,
    }
}

/// Clock hour (0..24) at simulated time `t_ns`.
fn clock_hour(w: &World, t_ns: u64) -> f64 {
    ((t_ns as f64 / 1e9 + w.clock0_s) % 86_400.0) / 3600.0
}

/// Analysts on shift at simulated time `t_ns`.
fn on_shift(w: &World, t_ns: u64) -> u32 {
    let p = &w.sc.parameters.soc;
    let h = clock_hour(w, t_ns);
    if h >= p.day_shift_start_h && h < p.day_shift_end_h {
        p.analysts
    } else {
        p.night_analysts
    }
}
