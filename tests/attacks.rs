//! Every attack scenario at small scale, with full cryptography where the
//! outcome hinges on it: what happens is decided by the real checks, the
//! independent checker finds no violation, and the crypto layer never
//! disagrees with ground truth.

mod common;
use common::*;
use serde_json::Value;

#[test]
fn signing_key_alone_executes_nothing_and_every_command_fails_the_mac() {
    let s = run("signing_key_only", &[SMALL, "attack.targets=400"]);
    sound(&s);
    assert_eq!(n(&s["attack"]["sent"]), 400);
    assert_eq!(n(&s["attack"]["executed"]), 0);
    assert_eq!(refused(&s, "bad_mac"), 400, "seen by the meters");
    assert!(n(&s["checker"]["critical_verified"]) > 0);
}

#[test]
fn forged_commands_fail_at_the_dsp_or_at_the_meter() {
    let s = run("forged_commands", &[SMALL, "attack.targets=300"]);
    sound(&s);
    assert_eq!(n(&s["attack"]["executed"]), 0);
    assert_eq!(
        n(&s["requests"]["attack"]["outcomes"]["dsp_bad_signature"]),
        300
    );
    let s = run(
        "forged_commands",
        &[SMALL, "attack.targets=300", "attack.path=\"wan\""],
    );
    sound(&s);
    assert_eq!(n(&s["attack"]["executed"]), 0);
    assert_eq!(refused(&s, "bad_mac"), 300);
}

#[test]
fn replayed_commands_are_refused_as_stale() {
    let s = run("replay", &[SMALL]);
    sound(&s);
    let sent = n(&s["attack"]["sent"]);
    // An hour of supplier 0's commands that change meters on 4,000 meters:
    // about 4,000 x (0.043 top-ups + 0.012 tariff and critical) / 24.
    assert!(sent >= 10, "captured and replayed {sent}");
    assert_eq!(n(&s["attack"]["executed"]), 0);
    // (The meters' refusals as stale also count business-as-usual
    // commands overtaken on the WAN, e.g. by a long firmware delivery.)
    assert_eq!(attack_outcome(&s, "replay"), sent);
    assert!(refused(&s, "replay") >= sent);
}

/// How many of the attack's requests ended with `outcome`.
fn attack_outcome(s: &Value, outcome: &str) -> i64 {
    n(&s["requests"]["attack"]["outcomes"][outcome])
}

#[test]
fn wrongly_signed_firmware_is_refused() {
    let s = run("bad_firmware", &[SMALL, "attack.targets=200"]);
    sound(&s);
    assert_eq!(n(&s["attack"]["sent"]), 200);
    assert_eq!(n(&s["attack"]["executed"]), 0);
    // Every image is refused; the odd one is overtaken on the slow WAN by
    // a later command of the supplier and refused as stale instead.
    let bad = refused(&s, "bad_firmware_signature");
    assert!(bad >= 190, "{bad}");
    assert_eq!(bad + attack_outcome(&s, "replay"), 200);
    assert_eq!(n(&s["firmware_fixed"]), 0);
}

#[test]
fn acb_key_alone_cannot_execute_critical_commands() {
    let s = run("acb_only", &[SMALL, "attack.targets=300"]);
    sound(&s);
    assert_eq!(n(&s["attack"]["executed"]), 0);
    // Every command is refused on its signature; the odd one is overtaken
    // on the WAN by a later command of the supplier and refused as stale.
    let bad = refused(&s, "bad_signature");
    assert!(bad >= 290, "{bad}");
    assert_eq!(bad + attack_outcome(&s, "replay"), 300);
}

#[test]
fn a_compromised_csp_causes_loss_and_reordering_but_forges_nothing() {
    let base = run(
        "csp_tamper",
        &[
            SMALL,
            "parameters.csp.central_loss=0.01",
            "attack.drop_share=0",
        ],
    );
    let s = run(
        "csp_tamper",
        &[SMALL, "attack.drop_share=0.8", "attack.delay_mean_s=60"],
    );
    sound(&s);
    assert_eq!(n(&s["attack"]["executed"]), 0);
    // Requests lost after every retry, or overtaken and refused as stale.
    let harm = |s: &Value| {
        s["requests"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "alert")
            .map(|(_, r)| n(&r["outcomes"]["wan_timeout"]) + n(&r["outcomes"]["replay"]))
            .sum::<i64>()
    };
    assert!(harm(&s) > harm(&base), "{} vs {}", harm(&s), harm(&base));
}

#[test]
fn a_csp_that_duplicates_traffic_gets_copies_refused_and_discarded() {
    let s = run(
        "csp_tamper",
        &[
            SMALL,
            "attack.drop_share=0",
            "attack.delay_mean_s=0",
            "attack.duplicate_share=1",
        ],
    );
    sound(&s);
    let d = &s["csp_duplicates"];
    let copies = n(&d["sent"]);
    assert!(copies > 50, "{d}");
    // Every copy is accounted for: its response discarded, or in flight.
    assert_eq!(copies, n(&d["discarded_at_dsp"]) + n(&d["in_flight"]));
    // Copies of counter-protected commands fail the meters' replay check,
    // and no request is counted twice.
    assert!(refused(&s, "replay") > 0);
    for (kind, r) in s["requests"].as_object().unwrap() {
        assert_eq!(
            n(&r["sent"]),
            n(&r["completed"]) + n(&r["in_flight"]),
            "{kind}: {r}"
        );
    }
}

#[test]
fn the_headline_attack_is_stopped_by_detection_and_containment() {
    let on = run("mass_disconnect", &["fleet.meters=10000"]);
    sound(&on);
    let victim_meters = 4000;
    let executed = n(&on["attack"]["executed"]);
    assert!(executed > 0, "the attacker holds everything it needs");
    assert!(!on["time_to_detect_s"].is_null() && !on["time_to_contain_s"].is_null());
    let contain = on["time_to_contain_s"].as_f64().unwrap();
    // At most the threshold per anomaly window until containment.
    let windows = (contain / 300.0).ceil() as i64 + 1;
    assert!(
        executed <= 100 * windows,
        "{executed} executed in {windows} windows"
    );
    assert!(n(&on["quarantined"]) > 0);
    assert_eq!(on["incidents_escalated_users"], serde_json::json!([0]));
    // Every security event logged was triaged but those still with one of
    // the four analysts at the end, and detection (the first escalation,
    // from the attack's start) includes at least one triage.
    let triage = &on["security_events_time_to_triage_s"];
    let logged: i64 = on["security_events_logged"]
        .as_object()
        .unwrap()
        .values()
        .map(n)
        .sum();
    let triaged = n(&triage["events"]);
    assert!(triaged <= logged && triaged >= logged - 4, "{triage}");
    let p50 = triage["p50"].as_f64().unwrap();
    assert!(
        p50 > 0.0 && p50 < on["time_to_detect_s"].as_f64().unwrap(),
        "{triage}"
    );
    // Recovery: electricity restored remotely (gas meters are armed and wait
    // for their households), the anchor replaced on every victim meter.
    assert!(!on["time_to_restore_95pct_mw_s"].is_null());
    assert_eq!(n(&on["anchors_replaced"]), victim_meters);
    restorations_cover_the_disables(&on);
    // Without anomaly detection it disconnects far more.
    let off = run(
        "mass_disconnect",
        &["fleet.meters=10000", "parameters.anomaly.enabled=false"],
    );
    sound(&off);
    let (a, b) = (
        n(&on["meters_disconnected_max"]),
        n(&off["meters_disconnected_max"]),
    );
    assert!(b > 5 * a, "with detection {a}, without {b}");
    assert!(off["mw_disconnected_max"].as_f64() > on["mw_disconnected_max"].as_f64());
}

#[test]
fn modeled_and_full_cryptography_agree_on_the_headline_attack() {
    let sets = ["fleet.meters=3000", "run.end_h=18.0"];
    let full = run("mass_disconnect", &sets);
    let modeled = run(
        "mass_disconnect",
        &[sets[0], sets[1], "crypto.mode=\"modeled\""],
    );
    sound(&full);
    for k in [
        "attack",
        "meters_disconnected_max",
        "quarantined",
        "meter_refusals",
    ] {
        assert_eq!(full[k], modeled[k], "{k}");
    }
    assert_eq!(full["requests"], modeled["requests"]);
}

#[test]
fn a_request_flood_is_quarantined_and_its_user_suspended() {
    let s = run(
        "request_flood",
        &[
            SMALL,
            "attack.rate_per_s=2000",
            "attack.duration_s=120",
            "crypto.mode=\"full\"",
        ],
    );
    sound(&s);
    assert!(n(&s["quarantined"]) > 100_000);
    assert_eq!(s["incidents_escalated_users"], serde_json::json!([4]));
    assert!(n(&s["requests"]["attack"]["outcomes"]["ok"]) > 0);
}

/// Quarantine holds, the user decides: a user that sets its own
/// thresholds low has its own requests quarantined, reviews them and
/// releases them, and they complete; nothing it made is deleted.
#[test]
fn a_quarantined_request_released_by_its_user_completes() {
    let sets = [
        "parameters.anomaly.threshold_min=1",
        "parameters.anomaly.user_threshold_factors=[0.2]",
        "parameters.anomaly.release_mean_min=5",
    ];
    let s = run("bau_small", &sets);
    sound(&s);
    let released = n(&s["quarantine_released"]);
    assert!(released > 0, "{s}");
    assert_eq!(n(&s["quarantine_deleted"]), 0);
    // Held requests are work in flight, never lost: every request sent
    // completed or is still in flight.
    for (k, v) in s["requests"].as_object().unwrap() {
        let done: i64 = v["outcomes"].as_object().unwrap().values().map(n).sum();
        assert_eq!(n(&v["sent"]), done + n(&v["in_flight"]), "{k}");
        assert_eq!(n(&v["outcomes"]["dsp_quarantined"]), 0, "{k}");
    }
    // Without its own thresholds, the DCC's are far above its traffic.
    let dcc = run("bau_small", &["parameters.anomaly.release_mean_min=5"]);
    assert_eq!(n(&dcc["quarantined"]), 0);
    // A user may only lower its thresholds.
    let l = dccsim::workflow::scenario::load(
        Some(&scenario("bau_small")),
        &["parameters.anomaly.user_threshold_factors=[6.0]".to_string()],
        None,
    );
    let Err(e) = l.map(|_| ()) else {
        panic!("a factor above the DCC's is refused")
    };
    let e = e.to_string();
    assert!(e.contains("anomaly.user_threshold_factors[0]"), "{e}");
}

/// Detection stays on after containment: the contained supplier's
/// recovery work is pre-approved, but its other traffic is still counted
/// against its thresholds, quarantined when over them and released by it.
#[test]
fn anomaly_detection_stays_on_after_containment() {
    let sets: Vec<String> = [
        "fleet.meters=10000",
        "parameters.anomaly.threshold_min=1",
        "parameters.anomaly.user_threshold_factors=[0.05]",
        "parameters.anomaly.release_mean_min=5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let l = dccsim::workflow::scenario::load(Some(&scenario("mass_disconnect")), &sets, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let r = l.scenario.run_system(2).expect("system scenario");
    let s = &r.summary;
    sound(s);
    let contained = s["attack"]["start_clock_s"].as_f64().unwrap()
        + s["time_to_contain_s"].as_f64().expect("contained");
    let mut lines = r.timeline.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |k: &str| head.iter().position(|h| *h == k).unwrap();
    let (t, q) = (col("time_s"), col("quarantined"));
    let after: i64 = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[t].parse::<f64>().unwrap() > contained + 60.0)
        .map(|f| f[q].parse::<i64>().unwrap())
        .sum();
    assert!(
        after > 0,
        "nothing quarantined after containment at {contained}"
    );
    assert!(n(&s["quarantine_released"]) > 0);
    // Recovery work itself was never held: every restoration completed or
    // is in flight, none quarantined.
    let rec = &s["requests"]["recovery"];
    assert_eq!(n(&rec["outcomes"]["dsp_quarantined"]), 0);
    assert!(n(&rec["sent"]) > 0);
}

/// The attacker's quarantined commands reach the supplier whose identity
/// they claim, which never sent them and deletes every one.
#[test]
fn quarantined_attack_commands_are_deleted_by_the_user_they_claim() {
    let s = run("mass_disconnect", &["fleet.meters=3000", "run.end_h=19.0"]);
    sound(&s);
    let deleted = n(&s["quarantine_deleted"]);
    assert!(deleted > 500, "{deleted}");
    assert_eq!(
        n(&s["requests"]["attack"]["outcomes"]["dsp_quarantined"]),
        deleted
    );
}

#[test]
fn the_compromised_supplier_is_drawn_from_the_governance_weights() {
    let mut victims = std::collections::BTreeMap::new();
    for seed in 1..=40 {
        let sets = [SMALL.to_string(), format!("scenario.seed={seed}")];
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let l = dccsim::workflow::scenario::load(
            Some(&scenario("governance_draw")),
            &[sets[0].into(), sets[1].into()],
            None,
        )
        .unwrap();
        let w = dccsim::models::system::world::World::new(
            l.scenario.system().unwrap(),
            l.scenario.scenario.seed,
        );
        *victims
            .entry(w.attacks[0].victim().expect("a disconnect has a victim"))
            .or_insert(0) += 1;
    }
    // Supplier 3 (deferred, not certified, two third parties) carries the
    // highest weight; supplier 2 (approved, certified, none) the lowest.
    assert!(
        victims.get(&3).copied().unwrap_or(0) > victims.get(&2).copied().unwrap_or(0),
        "{victims:?}"
    );
    assert!(victims.len() >= 3, "{victims:?}");
    let s = run("governance_draw", &[SMALL]);
    sound(&s);
    assert!(n(&s["attack"]["executed"]) > 0);
}

/// The checker itself: it must flag an executed command that a correct
/// meter would have refused, whichever check it would have failed.
#[test]
fn the_checker_flags_every_kind_of_violation() {
    use dccsim::crypto::gbcs::{Body, MessageKind};
    use dccsim::crypto::request::build_command;
    use dccsim::models::system::checker::check;
    use dccsim::models::system::timeline::TraceRec;
    use dccsim::models::system::world::{Signer, World};
    let l =
        dccsim::workflow::scenario::load(Some(&scenario("mass_disconnect")), &[SMALL.into()], None)
            .unwrap();
    let w = World::new(l.scenario.system().unwrap(), 5);
    let m = 0u32; // registered to supplier 0
    let sup = w.supplier_of(m);
    let cmd = |signer: Signer, z: Option<[u8; 32]>, counter: u64| {
        build_command(
            MessageKind::DisableSupply,
            w.fuel(m),
            w.user_id(sup),
            w.device_id(m),
            counter,
            &Body::Plain,
            w.signing_key(signer),
            z.as_ref(),
        )
        .into_boxed_slice()
    };
    let rec = |t: u64, counter: u64, bytes: Box<[u8]>| TraceRec {
        t_ns: t,
        meter: m,
        originator: w.user_id(sup),
        counter,
        code: MessageKind::DisableSupply.code(w.fuel(m)),
        bytes: Some(bytes),
    };
    let good = Signer::User(w.supplier_cred(m), 0);
    let z = Some(w.acb_secret(m));
    // A dual-fuel supplier's credential for the fuel meter `m` is not.
    let other_fuel = match w.fuel(m) {
        dccsim::crypto::gbcs::Fuel::Gas => w.cred(sup, dccsim::crypto::gbcs::Fuel::Electricity),
        _ => w.cred(sup, dccsim::crypto::gbcs::Fuel::Gas),
    };
    assert_ne!(other_fuel, w.supplier_cred(m));
    let ok = check(
        &w,
        vec![rec(1, 10, cmd(good, z, 10)), rec(2, 11, cmd(good, z, 11))],
    );
    assert_eq!(ok.violations, 0, "{:?}", ok.examples);
    assert_eq!(ok.critical_verified, 2);
    let cases = [
        (
            "wrong signer",
            vec![rec(1, 10, cmd(Signer::Attacker, z, 10))],
        ),
        ("unsigned", vec![rec(1, 10, cmd(Signer::None, z, 10))]),
        (
            "the supplier's key for the other fuel",
            vec![rec(1, 10, cmd(Signer::User(other_fuel, 0), z, 10))],
        ),
        ("no MAC", vec![rec(1, 10, cmd(good, None, 10))]),
        (
            "wrong MAC key",
            vec![rec(1, 10, cmd(good, Some(w.attacker_secret(m)), 10))],
        ),
        (
            "stale counter",
            vec![rec(1, 10, cmd(good, z, 10)), rec(2, 10, cmd(good, z, 10))],
        ),
        (
            "old anchor after replacement",
            vec![
                rec(1, 10, cmd(good, z, 10)),
                TraceRec {
                    t_ns: 2,
                    meter: m,
                    originator: dccsim::models::system::world::RECOVERY_ID,
                    counter: 5,
                    code: MessageKind::UpdateSecurityCredentials.code(w.fuel(m)),
                    bytes: Some(
                        build_command(
                            MessageKind::UpdateSecurityCredentials,
                            w.fuel(m),
                            dccsim::models::system::world::RECOVERY_ID,
                            w.device_id(m),
                            5,
                            &Body::credential_update(
                                dccsim::crypto::device::AnchorSlot::Supplier as u8,
                                w.command_certs[w.supplier_cred(m) as usize][1].clone(),
                            )
                            .unwrap(),
                            w.signing_key(Signer::Recovery),
                            z.as_ref(),
                        )
                        .into_boxed_slice(),
                    ),
                },
                rec(3, 11, cmd(good, z, 11)),
            ],
        ),
    ];
    for (what, trace) in cases {
        let r = check(&w, trace);
        assert_eq!(r.violations, 1, "{what}: {:?}", r.examples);
    }
}

#[test]
fn a_supplier_with_no_meters_is_a_valid_victim() {
    // Shares of 0 are legal (a supplier with no customers): attacks on it
    // find nothing to target, and nothing divides by its zero meters.
    let shares = "fleet.supplier_shares=[0.0, 0.4, 0.3, 0.3]";
    let modeled = "crypto.mode=\"modeled\"";
    let s = run(
        "request_flood",
        &["fleet.meters=3000", shares, "attack.victim=0", modeled],
    );
    assert_eq!(n(&s["attack"]["sent"]), 0);
    let s = run("mass_disconnect", &["fleet.meters=3000", shares, modeled]);
    assert_eq!(n(&s["attack"]["sent"]), 0);
    assert_eq!(n(&s["meters_disconnected_max"]), 0);
}

#[test]
fn gas_meters_are_armed_not_enabled_and_households_restore_them() {
    // Restoration after the headline attack: electricity meters are enabled
    // remotely; gas meters (no remote enable in GB) are armed and come back
    // when their households open the valve, never through an enable.
    let s = run(
        "mass_disconnect",
        &[
            "fleet.meters=10000",
            "run.end_h=24.0",
            "crypto.mode=\"modeled\"",
        ],
    );
    sound(&s);
    assert_eq!(
        refused(&s, "not_a_command"),
        0,
        "no enable reached a gas meter"
    );
    restorations_cover_the_disables(&s);
    // By the end of the day the households have restored their gas too.
    let mw = s["time_to_restore_95pct_mw_s"].as_f64().unwrap();
    let all = s["time_to_restore_95pct_s"].as_f64().unwrap();
    assert!(all > mw + 600.0, "meters {all} s, MW {mw} s");
}

#[test]
fn a_replayed_network_operator_command_is_refused() {
    // The victim is user 4: the first user after the four suppliers, a
    // network operator, whose commands are reads. Every originator's
    // counter is checked, not only the supplier's and the recovery key's.
    let s = run("replay", &[SMALL, "attack.victim=4"]);
    sound(&s);
    let sent = n(&s["attack"]["sent"]);
    assert!(sent > 0, "captured and replayed {sent}");
    assert_eq!(n(&s["attack"]["executed"]), 0);
    assert_eq!(attack_outcome(&s, "replay"), sent);
}

#[test]
fn an_attacker_pacing_under_the_threshold_evades_anomaly_detection_not_customers() {
    // The known weakness of threshold detection: 90% of the threshold per
    // window, every window. The DSP never sees an anomaly; households
    // calling their supplier about lost supply are what gives it away.
    let s = run(
        "mass_disconnect",
        &["fleet.meters=10000", "attack.under_threshold=true"],
    );
    sound(&s);
    let sent = n(&s["attack"]["sent"]);
    // Threshold 100 per 300 s window: 0.3/s from 17:15 until containment.
    assert!(sent > 300, "{sent} sent");
    assert_eq!(n(&s["quarantined"]), 0);
    assert_eq!(n(&s["security_events_logged"]["anomaly"]), 0);
    assert!(n(&s["security_events_logged"]["customer_reports"]) >= 1);
    let fast = run("mass_disconnect", &["fleet.meters=10000"]);
    assert!(n(&fast["quarantined"]) > 0);
    assert!(n(&fast["security_events_logged"]["anomaly"]) > 0);
    let (slow_t, fast_t) = (
        s["time_to_detect_s"].as_f64().expect("customers report it"),
        fast["time_to_detect_s"].as_f64().unwrap(),
    );
    assert!(slow_t > fast_t, "paced {slow_t} s, fast {fast_t} s");
}

#[test]
fn several_attacks_in_one_run_an_alert_storm_as_cover_for_two_disconnections() {
    let s = run("storm_cover", &["fleet.meters=10000"]);
    sound(&s);
    let kinds: Vec<&str> = s["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alert_storm", "disconnect", "disconnect"]);
    assert_eq!(s["attacks"][2]["victim"], 1);
    // The storm is triaged as operational, the disconnections executed
    // until the fast one is detected.
    assert!(n(&s["security_events_operational"]) >= 1);
    assert!(n(&s["attack"]["executed"]) > 0);
    assert!(!s["time_to_detect_s"].is_null());
    assert!(s["meter_hours_off_by_attack"].as_f64().unwrap() > 0.0);
}

#[test]
fn an_attack_of_several_is_named_by_its_index_in_errors_and_overrides() {
    let load = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        dccsim::workflow::scenario::load(Some(&scenario("storm_cover")), &sets, None)
    };
    let e = load(&["attacks[1].victim=9"]).unwrap_err().to_string();
    assert!(e.contains("attacks[1].victim"), "{e}");
    let e = load(&["attacks[5].victim=1"]).unwrap_err().to_string();
    assert!(e.contains("has 2 entries"), "{e}");
    let l = load(&["attacks[0].rate_per_s=7"]).unwrap();
    let sys = l.scenario.system().unwrap();
    assert_eq!(sys.attacks.len(), 2);
    match &sys.attacks[0] {
        dccsim::models::system::attack::AttackSpec::Disconnect(a) => assert_eq!(a.rate_per_s, 7.0),
        other => panic!("{other:?}"),
    }
}

/// How many of the first `k` meters supplier `victim` addresses are gas meters.
fn gas_among_targets(name: &str, victim: u32, k: u32) -> i64 {
    let l = dccsim::workflow::scenario::load(Some(&scenario(name)), &[SMALL.into()], None).unwrap();
    let w = dccsim::models::system::world::World::new(l.scenario.system().unwrap(), 0);
    (0..k)
        .filter(|&i| w.is_gas(w.nth_meter_of(victim, i)))
        .count() as i64
}

#[test]
fn an_electricity_credential_alone_cannot_touch_gas_meters() {
    // A dual-fuel supplier holds an import supplier credential for its
    // electricity meters and a gas supplier credential for its gas meters.
    let gas = gas_among_targets("mass_disconnect", 0, 300);
    assert!(gas > 50 && gas < 250, "{gas} gas meters among 300");
    // Through the DCC: the DSP refuses the import supplier's role for a gas meter.
    // (Anomaly detection off, so that every request meets the role check.)
    let off = "parameters.anomaly.enabled=false";
    let both = run("mass_disconnect", &[SMALL, off, "attack.targets=300"]);
    sound(&both);
    // (The odd command overtaken on the WAN by a later one of the
    // supplier's is refused as stale.)
    let stale = |s: &Value| n(&s["requests"]["attack"]["outcomes"]["replay"]);
    assert!(stale(&both) <= 5);
    assert_eq!(n(&both["attack"]["executed"]) + stale(&both), 300);
    let s = run(
        "mass_disconnect",
        &[
            SMALL,
            off,
            "attack.targets=300",
            "attack.fuel=\"electricity\"",
        ],
    );
    sound(&s);
    let a = &s["requests"]["attack"]["outcomes"];
    assert_eq!(n(&a["dsp_not_authorised"]), gas, "{a}");
    assert_eq!(n(&s["attack"]["executed"]) + stale(&s), 300 - gas);
    // Straight onto the WAN with the ACB's key too: a gas meter's supplier
    // anchor is the gas credential's key, so the signature fails there.
    let wan = [
        SMALL,
        "attack.targets=300",
        "attack.path=\"wan\"",
        "attack.acb_key=true",
        "attack.fuel=\"electricity\"",
    ];
    // (The attack's own outcomes: recovery work after detection may meet
    // refusals of its own.)
    let attack_refused = |s: &Value| n(&s["requests"]["attack"]["outcomes"]["meter_refused"]);
    // Each side's count is exact but for the odd stale command.
    let split = |s: &Value, refusing: i64| {
        let (bad, executed) = (attack_refused(s), n(&s["attack"]["executed"]));
        assert!(stale(s) <= 5, "{}", s["requests"]["attack"]);
        assert_eq!(bad + executed + stale(s), 300);
        assert!(bad <= refusing && bad + stale(s) >= refusing);
        assert!(refused(s, "bad_signature") >= bad);
    };
    let s = run("mass_disconnect", &wan);
    sound(&s);
    split(&s, gas);
    // Holding only the gas credential, the electricity meters refuse instead.
    let mut gas_only = wan;
    gas_only[4] = "attack.fuel=\"gas\"";
    let s = run("mass_disconnect", &gas_only);
    sound(&s);
    split(&s, 300 - gas);
}
