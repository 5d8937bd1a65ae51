//! Security operations and recovery preparedness at small scale: the
//! SOC's evidence, shifts and errors, outages of a CSP region, the DSP or a
//! user, and the delivery of alerts around them.

mod common;
use common::*;
use serde_json::Value;

#[test]
fn a_csp_region_outage_holds_its_traffic_until_failover() {
    // At the scenario's 100,000 meters (an evening's traffic is light).
    let base = run("csp_outage", &["attack.duration_s=1"]);
    let s = run("csp_outage", &[]);
    sound(&s);
    assert!(
        n(&s["csp_outage_deferred"]) > 100,
        "{}",
        s["csp_outage_deferred"]
    );
    assert!(n(&base["csp_outage_deferred"]) < n(&s["csp_outage_deferred"]) / 10);
    // Nothing is lost: requests wait and complete after failover, so the
    // latency tail grows by up to the failover time.
    let p99 = |s: &Value| p99_ms(s, "on_demand_read");
    assert!(
        p99(&s) > p99(&base) + 60_000.0,
        "{} vs {}",
        p99(&s),
        p99(&base)
    );
    assert!(
        p99(&s) < 1_300_000.0,
        "at most the failover time plus the usual"
    );
    for k in ["scheduled_read", "on_demand_read", "prepayment_topup"] {
        assert_eq!(
            n(&s["requests"][k]["outcomes"]["wan_timeout"]),
            n(&base["requests"][k]["outcomes"]["wan_timeout"]),
            "{k}: held, not timed out"
        );
    }
}

#[test]
fn a_dsp_that_is_down_checks_nothing_until_failover() {
    // Business-as-usual traffic includes misaddressed requests the DSP
    // refuses as not authorised; while it is down (17:15 for 15 minutes)
    // it refuses none, and they are refused after failover instead.
    // At the scenario's 100,000 meters.
    let r = run_full("dsp_outage", &["parameters.meters.misaddressed_share=0.05"]);
    // Clock seconds.
    let down = (17.25 * 3600.0, 17.5 * 3600.0);
    let refused = |a, b| timeline_sum(&r.timeline, "dsp_not_authorised", a, b);
    assert_eq!(refused(down.0 + 1.0, down.1), 0);
    assert!(refused(17.0 * 3600.0, down.0) > 0);
    assert!(
        refused(down.1, down.1 + 300.0) > 0,
        "the backlog is checked after failover"
    );
}

#[test]
fn analysts_are_not_an_oracle() {
    // False positives: business as usual with frequent benign events about
    // users (they look like threshold breaches); a third of those below
    // the evidence bar are escalated all the same, each containing an
    // honest user, whose requests then end suspended.
    let benign = |extra: &[&'static str]| {
        let mut sets = vec![
            "crypto.mode=\"modeled\"",
            "parameters.soc.benign_events_per_day=200",
        ];
        sets.extend_from_slice(extra);
        run("bau_small", &sets)
    };
    let s = benign(&["parameters.soc.false_positive_share=0.3"]);
    sound(&s);
    assert!(n(&s["security_events_logged"]["benign"]) > 20);
    let fp = n(&s["security_false_escalations"]);
    assert!(fp > 0);
    assert_eq!(
        s["incidents_escalated_users"].as_array().unwrap().len() as i64,
        fp
    );
    assert!(
        s["time_to_detect_s"].is_null(),
        "no real incident was detected"
    );
    let suspended: i64 = s["requests"]
        .as_object()
        .unwrap()
        .values()
        .map(|k| n(&k["outcomes"]["dsp_user_suspended"]))
        .sum();
    assert!(suspended > 0, "the honest users' traffic is lost");
    // Categorisation reads the evidence: with no false positives at all,
    // benign breaches about the same user within the corroboration window
    // still add up to an escalation; with a window too short to hold two
    // events, nobody is escalated.
    let piled = benign(&["parameters.soc.false_positive_share=0"]);
    assert!(n(&piled["security_false_escalations"]) > 0);
    let apart = benign(&[
        "parameters.soc.false_positive_share=0",
        "parameters.soc.corroboration_window_h=0.0001",
    ]);
    assert_eq!(n(&apart["security_false_escalations"]), 0);
    assert!(apart["incidents_escalated_users"]
        .as_array()
        .unwrap()
        .is_empty());
    // Misses: analysts who dismiss every event whose evidence reaches the
    // bar (and escalate nothing below it) never detect the headline
    // attack, and more of it executes.
    let sets = |miss: &'static str| {
        [
            SMALL,
            "crypto.mode=\"modeled\"",
            "parameters.soc.false_positive_share=0",
            miss,
        ]
    };
    let sharp = run("mass_disconnect", &sets("parameters.soc.miss_share=0"));
    let blind = run("mass_disconnect", &sets("parameters.soc.miss_share=1"));
    sound(&blind);
    assert!(!sharp["time_to_detect_s"].is_null());
    assert!(blind["time_to_detect_s"].is_null());
    assert!(n(&blind["security_events_missed"]) > 0);
    assert!(n(&blind["attack"]["executed"]) >= n(&sharp["attack"]["executed"]));
    // The victim deleting the attacker's quarantined requests tells the
    // SOC, which weighs it as evidence.
    assert!(n(&sharp["security_events_logged"]["disowned_requests"]) > 0);
}

#[test]
fn a_breach_alone_is_not_evidence_enough() {
    // With only threshold breaches as evidence (the victim's reports and
    // its deletions weigh nothing) and a bar no sequence of breaches
    // within the window can reach, the attack is never escalated: the
    // analysts dismiss it on the evidence, not by chance (no errors).
    let quiet = [
        SMALL,
        "crypto.mode=\"modeled\"",
        "parameters.soc.false_positive_share=0",
        "parameters.soc.miss_share=0",
        "parameters.soc.supplier_report_weight=0",
        "parameters.soc.disowned_weight=0",
    ];
    let mut high = quiet.to_vec();
    high.push("parameters.soc.escalation_evidence=1000");
    let s = run("mass_disconnect", &high);
    sound(&s);
    assert!(n(&s["security_events_logged"]["anomaly"]) > 0);
    assert!(s["time_to_detect_s"].is_null());
    assert!(n(&s["security_events_missed"]) > 0);
    // At a bar of one breach, the first breach triaged is escalated.
    let mut low = quiet.to_vec();
    low.push("parameters.soc.escalation_evidence=1");
    assert!(!run("mass_disconnect", &low)["time_to_detect_s"].is_null());
}

#[test]
fn a_thin_night_shift_makes_events_wait() {
    // Many benign events, each taking an analyst 10 minutes: one analyst
    // at night makes them wait far longer than four do.
    let triage_p99 = |night: &'static str| {
        let s = run(
            "bau_small",
            &[
                "crypto.mode=\"modeled\"",
                "parameters.soc.benign_events_per_day=400",
                "parameters.soc.false_positive_share=0",
                "parameters.soc.corroboration_window_h=0.0001",
                night,
            ],
        );
        s["security_events_time_to_triage_s"]["p99"]
            .as_f64()
            .unwrap()
    };
    let thin = triage_p99("parameters.soc.night_analysts=1");
    let full = triage_p99("parameters.soc.night_analysts=4");
    assert!(thin > 2.0 * full, "night of 1: {thin} s, of 4: {full} s");
}

#[test]
fn alerts_for_a_user_that_is_down_are_retried_held_and_delivered_or_dropped() {
    let d = |s: &Value, k: &str| n(&s["alert_delivery"][k]);
    // An hour's outage: alerts raised more than 300 s before it ends are
    // held, and delivered when the supplier is back.
    let s = run("user_outage", &[]);
    sound(&s);
    assert!(d(&s, "first_attempt") > 0);
    assert!(d(&s, "from_hold") > 10, "{}", s["alert_delivery"]);
    assert_eq!(d(&s, "dropped"), 0);
    // Every alert that ended at the DSP was delivered or dropped, or waits.
    let authenticated = n(&s["requests"]["alert"]["outcomes"]["ok"]);
    let ways: i64 = ["first_attempt", "retry", "from_hold", "dropped"]
        .iter()
        .map(|k| d(&s, k))
        .sum();
    assert_eq!(ways, authenticated);
    // A two-minute outage: its alerts are delivered on the retry.
    let short = run("user_outage", &["attack.duration_s=120"]);
    assert!(d(&short, "retry") > 0, "{}", short["alert_delivery"]);
    assert_eq!(d(&short, "from_hold"), 0);
    // A hold shorter than the outage drops them.
    let dropped = run("user_outage", &["parameters.dsp.alert_hold_h=0.25"]);
    assert!(d(&dropped, "dropped") > 0, "{}", dropped["alert_delivery"]);
    // Without the outage (a millisecond's), every alert is delivered at once.
    let none = run("user_outage", &["attack.duration_s=0.001"]);
    assert_eq!(
        d(&none, "retry") + d(&none, "from_hold") + d(&none, "dropped"),
        0
    );
}

#[test]
fn a_soc_out_of_action_delays_detection_until_it_is_back() {
    let normal = run("mass_disconnect", &["fleet.meters=10000"]);
    let s = run("soc_outage", &["fleet.meters=10000"]);
    sound(&s);
    // The outage ends at 18:00, 45 minutes after the attack's start.
    let detect = s["time_to_detect_s"].as_f64().unwrap();
    assert!(detect >= 2700.0, "detected after {detect} s");
    assert!(detect > normal["time_to_detect_s"].as_f64().unwrap());
    // Quarantine still caps what executes; restoration waits for
    // containment, so the households are off for longer.
    let off = |s: &Value| s["meter_hours_off_by_attack"].as_f64().unwrap();
    assert!(off(&s) > off(&normal), "{} vs {}", off(&s), off(&normal));
    assert!(s["time_to_contain_s"].as_f64() > normal["time_to_contain_s"].as_f64());
}

#[test]
fn an_alert_storm_is_operational_not_an_incident() {
    let s = run("alert_storm", &[SMALL]);
    sound(&s);
    assert!(n(&s["security_events_logged"]["alert_volume"]) >= 1);
    assert!(n(&s["security_events_operational"]) >= 1);
    assert_eq!(s["incidents_escalated_users"], serde_json::json!([]));
}

#[test]
fn losing_the_dsp_builds_a_backlog_that_drains_after_failover() {
    let base = run("dsp_outage", &[SMALL, "attack.duration_s=1"]);
    let s = run("dsp_outage", &[SMALL]);
    sound(&s);
    let q = |s: &Value| n(&s["components"]["dsp"]["queue_len_max"]);
    assert!(q(&s) > 10 * q(&base).max(1), "{} vs {}", q(&s), q(&base));
    // (Reads: a gas meter's top-up waits for its wake-up, which hides the
    // backlog in a small fleet's top-up tail; reads are answered by the hub.)
    let p99 = |s: &Value| p99_ms(s, "on_demand_read");
    assert!(
        p99(&s) > p99(&base) + 60_000.0,
        "{} vs {}",
        p99(&s),
        p99(&base)
    );
}

#[test]
fn meters_refusing_wan_forgeries_raise_alerts_the_soc_logs() {
    let s = run(
        "forged_commands",
        &[SMALL, "attack.targets=300", "attack.path=\"wan\""],
    );
    sound(&s);
    assert_eq!(refused(&s, "bad_mac"), 300);
    // One GBCS 0x8F30 alert per refused command (the forgeries and any
    // business-as-usual command overtaken on the WAN) reaches the SOC's
    // log; the analysts categorise it as an incident they cannot
    // attribute to a user.
    let refusals: i64 = s["meter_refusals"]
        .as_object()
        .unwrap()
        .values()
        .map(n)
        .sum();
    assert!(refusals >= 300);
    assert_eq!(
        n(&s["security_events_logged"]["meter_refusal_alerts"]),
        refusals
    );
    assert!(n(&s["security_incidents_unattributed"]) >= 1);
    let off = run(
        "forged_commands",
        &[
            SMALL,
            "attack.targets=300",
            "attack.path=\"wan\"",
            "parameters.soc.meter_refusal_alerts=false",
        ],
    );
    assert_eq!(n(&off["security_events_logged"]["meter_refusal_alerts"]), 0);
    assert_eq!(n(&off["security_incidents_unattributed"]), 0);
}
