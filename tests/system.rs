//! The system model end to end: the small business-as-usual scenario with
//! full cryptography, identical results at 1 and 2 threads.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(out: &Path, threads: usize, extra: &[&str]) {
    run_scenario("bau_small", out, threads, extra);
}

fn run_scenario(name: &str, out: &Path, threads: usize, extra: &[&str]) {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
    let o = Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--threads"])
        .arg(threads.to_string())
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("dccsim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs scenario `name` at 2 threads with `sets` and returns its summary.
fn summary_of(name: &str, tag: &str, sets: &[&str]) -> serde_json::Value {
    let out = std::env::temp_dir().join(format!("dccsim-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let extra: Vec<&str> = sets.iter().flat_map(|s| ["--set", s]).collect();
    run_scenario(name, &out, 2, &extra);
    let s =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    s
}

#[test]
fn bau_small_full_crypto_is_identical_at_1_and_2_threads_and_consistent() {
    let base = std::env::temp_dir().join(format!("dccsim-sys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (a, b) = (base.join("t1"), base.join("t2"));
    run(&a, 1, &[]);
    run(&b, 2, &[]);
    let mut compared = 0;
    for e in std::fs::read_dir(&a).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if dccsim::workflow::results::NON_DETERMINISTIC_FILES.contains(&name.as_str()) {
            continue;
        }
        assert_eq!(
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
            "{name} differs"
        );
        compared += 1;
    }
    assert!(
        compared >= 30,
        "summary, timeseries and the histograms: {compared} files"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert!(
        s["crypto_checked"].as_u64().unwrap() > 5_000,
        "full mode checks every message"
    );
    assert_eq!(s["crypto_ground_truth_mismatches"], 0);
    assert_eq!(s["crypto_decided_by_ground_truth"], 0);
    // Every scheduled read of the night window was sent, and nearly all completed.
    let reads = &s["requests"]["scheduled_read"];
    let sent = reads["sent"].as_u64().unwrap();
    assert!(
        (1_800..2_200).contains(&sent),
        "about one read per meter: {sent}"
    );
    assert!(reads["outcomes"]["ok"].as_u64().unwrap() as f64 > 0.98 * sent as f64);
    assert!(
        reads["latency_ms_p50"].as_f64().unwrap() > 1_000.0,
        "WAN latency dominates"
    );
    // Nothing genuine was refused by the cryptography.
    for (k, v) in s["requests"].as_object().unwrap() {
        for bad in ["dsp_bad_signature", "meter_refused", "response_bad_auth"] {
            assert_eq!(v["outcomes"][bad], 0, "{k}: {bad}");
        }
    }
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn modeled_and_full_crypto_give_the_same_traffic() {
    // Crypto mode changes how decisions are made, not what happens to genuine traffic.
    let base = std::env::temp_dir().join(format!("dccsim-sys-modes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    run(&base.join("full"), 2, &[]);
    run(&base.join("modeled"), 2, &["--set", "crypto.mode=modeled"]);
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(base.join(d).join("summary.json")).unwrap()).unwrap()
    };
    let (f, m) = (read("full"), read("modeled"));
    assert_eq!(f["requests"], m["requests"]);
    assert_eq!(m["crypto_checked"], 0);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn reordered_commands_are_refused_as_replays_not_counted_as_crypto_mismatches() {
    // Many top-ups per meter: some reach a meter out of order and are refused
    // by the anti-replay counter. That is not a cryptographic disagreement.
    let out = std::env::temp_dir().join(format!("dccsim-sys-reorder-{}", std::process::id()));
    run(
        &out,
        2,
        &[
            "--set",
            "fleet.meters=300",
            "--set",
            "run.end_h=2",
            "--set",
            "parameters.traffic.prepayment_topups_per_meter_day=200",
        ],
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(
        s["requests"]["prepayment_topup"]["outcomes"]["replay"]
            .as_u64()
            .unwrap()
            > 0,
        "the scenario must produce reorderings"
    );
    assert_eq!(s["crypto_ground_truth_mismatches"], 0);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn sampled_crypto_checks_a_sampled_message_everywhere_it_goes() {
    // With half the messages sampled, every check of a sampled message
    // (request at the DSP, command at the meter, response back at the DSP)
    // runs the cryptography, so about half of all decisions are checked.
    // (Checking each hop with its own sample would check far fewer: only
    // the request hop at the rate f, the later hops at f squared.)
    let out = std::env::temp_dir().join(format!("dccsim-sampled-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    run(
        &out,
        2,
        &[
            "--set",
            "crypto.mode=\"sampled\"",
            "--set",
            "crypto.sample_fraction=0.5",
        ],
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let checked = s["crypto_checked"].as_f64().unwrap();
    let by_truth = s["crypto_decided_by_ground_truth"].as_f64().unwrap();
    let share = checked / (checked + by_truth);
    assert!((0.46..0.54).contains(&share), "checked share {share}");
    assert_eq!(s["crypto_ground_truth_mismatches"], 0);
    assert_eq!(s["checker_violations"], 0);
    let c = &s["checker"];
    assert!(c["critical_verified"].as_u64().unwrap() > 0, "{c}");
    assert!(c["critical_unverifiable"].as_u64().unwrap() > 0, "{c}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn csp_arrivals_count_each_command_once_and_retries_apart() {
    let out = std::env::temp_dir().join(format!("dccsim-retries-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    run(&out, 2, &[]);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let (mut arrivals, mut retries) = (0u64, 0u64);
    for line in std::fs::read_to_string(out.join("timeseries.csv"))
        .unwrap()
        .lines()
        .skip(1)
    {
        let f: Vec<&str> = line.split(',').collect();
        // Commands on the downlinks (the uplinks carry responses and alerts).
        if f[1].starts_with("csp_") && !f[1].ends_with("_uplink") {
            match f[2] {
                "arrivals" => arrivals += f[3].parse::<u64>().unwrap(),
                "retries" => retries += f[3].parse::<u64>().unwrap(),
                _ => {}
            }
        }
    }
    let (mut sent, mut completed, mut dsp_refused) = (0, 0, 0);
    for (kind, r) in s["requests"].as_object().unwrap() {
        if kind == "alert" {
            continue;
        }
        sent += r["sent"].as_u64().unwrap();
        completed += r["completed"].as_u64().unwrap();
        for (o, n) in r["outcomes"].as_object().unwrap() {
            if o.starts_with("dsp_") {
                dsp_refused += n.as_u64().unwrap();
            }
        }
    }
    assert_eq!(sent, completed, "the small day ends with nothing in flight");
    // Every request the DSP passed went to its CSP exactly once; WAN losses
    // were retransmitted, and those count as retries, not arrivals.
    assert_eq!(arrivals, completed - dsp_refused);
    assert!(retries > 0, "the WAN loses 1-2% of transmissions");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn other_users_anomaly_thresholds_come_from_their_own_share_of_traffic() {
    use dccsim::crypto::gbcs::MessageKind;
    use dccsim::models::system::world::{kind_index, World};
    let l = dccsim::workflow::scenario::load(
        None,
        &[
            "fleet.meters=2000000".into(),
            "fleet.other_users=4".into(),
            "crypto.mode=\"modeled\"".into(),
        ],
        None,
    )
    .unwrap();
    let w = World::new(l.scenario.system().unwrap(), 1);
    let p = &w.sc.parameters;
    let k = kind_index(MessageKind::ReadDailyLog);
    for u in w.suppliers..w.users {
        // Each of the 4 other users sends a quarter of the fleet's
        // DCC-scheduled traffic.
        let rate = 2_000_000.0 / 4.0 * p.traffic.dcc_scheduled_per_meter_day / 86_400.0;
        let want = ((p.anomaly.threshold_factor * rate * p.anomaly.window_s).ceil() as u32)
            .max(p.anomaly.threshold_min);
        assert!(
            want > p.anomaly.threshold_min,
            "the share decides, not the floor"
        );
        assert_eq!(w.thresholds[u as usize][k], want, "user {u}");
        assert_eq!(w.traffic_meters(u), 500_000.0);
    }
}

#[test]
fn installations_and_switches_are_found_for_every_meter() {
    use dccsim::models::system::world::World;
    // Enough installations that many 64-meter blocks hold one, and some
    // blocks hold several (a `MeterFilter` stands before the search).
    let l = dccsim::workflow::scenario::load(
        None,
        &[
            "fleet.meters=200000".into(),
            "crypto.mode=\"modeled\"".into(),
            "parameters.traffic.installation_per_meter_day=0.1".into(),
            "parameters.traffic.change_of_supplier_per_meter_day=0.1".into(),
        ],
        None,
    )
    .unwrap();
    let w = World::new(l.scenario.system().unwrap(), 1);
    assert!(
        w.installs.len() > 1_000,
        "{} installations",
        w.installs.len()
    );
    let mut want = vec![0u64; w.meters as usize];
    for i in &w.installs {
        want[i.meter as usize] = i.at_ns;
    }
    for m in 0..w.meters {
        assert_eq!(w.installed_at(m), want[m as usize], "meter {m}");
    }
    // The same filter stands before the changes of supplier.
    assert!(w.switches.len() > 1_000, "{} switches", w.switches.len());
    let mut switched = vec![None; w.meters as usize];
    for s in &w.switches {
        switched[s.meter as usize] = Some(*s);
    }
    for m in 0..w.meters {
        assert_eq!(w.switch_of(m).copied(), switched[m as usize], "meter {m}");
    }
}

#[test]
fn a_day_of_traffic_matches_the_published_mix_per_meter_day() {
    let s = summary_of("bau_day", "mix", &["fleet.meters=200000"]);
    let mix = s["traffic_per_meter_day"].as_object().unwrap();
    // Eleven families (scheduled and on-demand reads, top-ups, tariffs,
    // critical, configuration, changes of supplier, installations,
    // firmware, DCC-scheduled, alerts) and the total.
    assert_eq!(mix.len(), 12);
    for (family, v) in mix {
        let (rate, expected) = (v["rate"].as_f64().unwrap(), v["expected"].as_f64().unwrap());
        assert!(!v["source"].as_str().unwrap().is_empty());
        // Poisson counts over 200,000 meter-days: within 4 standard deviations.
        let n = expected * 200_000.0;
        let tol = 4.0 * n.sqrt() / 200_000.0 + 0.01 * expected;
        assert!(
            (rate - expected).abs() <= tol,
            "{family}: {rate} vs {expected}"
        );
    }
    // The published totals: ~1.7 requests and ~3.6 alerts per meter-day [S3].
    assert!((mix["requests_total"]["rate"].as_f64().unwrap() - 1.7).abs() < 0.1);
    assert!((mix["alert"]["rate"].as_f64().unwrap() - 3.6).abs() < 0.2);
}

#[test]
fn critical_requests_make_the_pre_command_round_trip_to_their_user() {
    let run_with = |sign_ms: &str| {
        let set = format!("parameters.user_link.sign_ms={sign_ms}");
        summary_of(
            "bau_small",
            &format!("rt{sign_ms}"),
            // Gas meters' wake-ups would blur the shift (commands wait
            // for the next one): without them it is exactly the signing.
            // Fifty times the tariff updates, so that their median is
            // that of hundreds, not of a dozen.
            &[
                "crypto.mode=\"modeled\"",
                "parameters.device.gas_wake_interval_s=0",
                "parameters.traffic.tariff_updates_per_meter_day=0.5",
                &set,
            ],
        )
    };
    let (fast, slow) = (run_with("150"), run_with("20150"));
    let p50 = |s: &serde_json::Value, k: &str| s["requests"][k]["latency_ms_p50"].as_f64().unwrap();
    // Critical requests wait for their user's signature; reads do not.
    let d = p50(&slow, "tariff_update") - p50(&fast, "tariff_update");
    assert!((19_000.0..21_500.0).contains(&d), "tariff p50 moved {d} ms");
    let r = p50(&slow, "on_demand_read") - p50(&fast, "on_demand_read");
    assert!(r.abs() < 2_000.0, "reads moved {r} ms");
}

/// Capacity binds where a planner can see it: `capacity_peak` at a small
/// fleet with a slow, single-worker DSP saturates the DSP (named busiest,
/// its busiest minute at least 95% busy), and the queueing shows in the
/// tariff updates' latency tail.
#[test]
fn capacity_peak_saturates_the_dsp_and_the_queue_shows_in_latency() {
    let small = [
        "fleet.meters=30000",
        "run.start_h=1.9",
        "run.end_h=2.5",
        "parameters.dsp.workers=1",
        // Without gas meters' wake-ups, whose wait would hide the queue's.
        "parameters.device.gas_wake_interval_s=0",
    ];
    let sets = |ms: &'static str| -> Vec<&str> { small.iter().copied().chain([ms]).collect() };
    let hot = summary_of(
        "capacity_peak",
        "cap-hot",
        &sets("parameters.dsp.request_service_ms=100"),
    );
    let cool = summary_of(
        "capacity_peak",
        "cap-cool",
        &sets("parameters.dsp.request_service_ms=1"),
    );
    let peak =
        |s: &serde_json::Value, c: &str| s["components"][c]["utilisation_peak"].as_f64().unwrap();
    assert!(peak(&hot, "dsp") >= 0.95, "{}", hot["components"]);
    for (name, _) in hot["components"].as_object().unwrap() {
        assert!(
            peak(&hot, name) <= peak(&hot, "dsp"),
            "{name} busier than the DSP"
        );
    }
    assert!(peak(&cool, "dsp") < 0.5, "{}", cool["components"]);
    let p99 = |s: &serde_json::Value| {
        s["requests"]["tariff_update"]["latency_ms_p99"]
            .as_f64()
            .unwrap()
    };
    assert!(
        p99(&hot) > 10.0 * p99(&cool),
        "{} vs {}",
        p99(&hot),
        p99(&cool)
    );
    assert!(hot["components"]["dsp"]["queue_len_max"].as_u64().unwrap() > 100);
}

/// Uplink and size matter: responses and alerts hold uplink channels, and
/// a transmission's airtime grows with its bytes over the link rate.
#[test]
fn airtime_follows_message_bytes_and_link_rate_both_ways() {
    let base = ["fleet.meters=30000", "run.start_h=1.9", "run.end_h=2.3"];
    let at = |kbps: &'static str| -> serde_json::Value {
        let sets: Vec<&str> = base.iter().copied().chain([kbps]).collect();
        summary_of("capacity_peak", &format!("air-{}", kbps.len()), &sets)
    };
    let fast = at("parameters.csp.north_kbps=2.4");
    let slow = at("parameters.csp.north_kbps=0.6");
    let u = |s: &serde_json::Value, c: &str| s["components"][c]["utilisation"].as_f64().unwrap();
    for c in [
        "csp_north",
        "csp_north_uplink",
        "csp_central_uplink",
        "csp_south_uplink",
    ] {
        assert!(u(&fast, c) > 0.0, "{c}");
    }
    // 154-byte tariff updates: 200 + 513 ms at 2.4 kbps, 200 + 2053 ms at 0.6.
    for c in ["csp_north", "csp_north_uplink"] {
        let r = u(&slow, c) / u(&fast, c);
        assert!(r > 2.5 && r < 3.5, "{c}: {r}");
    }
    // Central and South keep their rate.
    let r = u(&slow, "csp_central") / u(&fast, "csp_central");
    assert!((r - 1.0).abs() < 0.05, "{r}");
}

/// A gas meter is a battery device: a command for it waits at the hub's
/// gas proxy for the meter's next contact (every 30 minutes by default),
/// so gas top-ups can take up to half an hour; reads, which the proxy
/// answers, do not wait.
#[test]
fn gas_commands_wait_for_the_meter_to_wake_and_reads_do_not() {
    // Enough top-ups (about 500) that the tail is the wake's.
    let sets = [
        "crypto.mode=\"modeled\"",
        "parameters.traffic.prepayment_topups_per_meter_day=1",
    ];
    let woken = summary_of("bau_small", "wake", &sets);
    let never = summary_of(
        "bau_small",
        "nowake",
        &[sets[0], sets[1], "parameters.device.gas_wake_interval_s=0"],
    );
    let p99 = |s: &serde_json::Value, k: &str| s["requests"][k]["latency_ms_p99"].as_f64().unwrap();
    assert!(
        p99(&woken, "prepayment_topup") > 20.0 * 60e3,
        "{}",
        p99(&woken, "prepayment_topup")
    );
    assert!(p99(&woken, "prepayment_topup") < 31.0 * 60e3);
    assert!(p99(&never, "prepayment_topup") < 3.0 * 60e3);
    assert!(p99(&woken, "scheduled_read") < 3.0 * 60e3);
}

#[test]
fn dcc_scheduled_requests_start_at_the_dsp_without_a_user_link_or_request_check() {
    // Other users' standing schedules run at the DSP: no user -> DSP leg
    // (the hop's histogram holds only zero-length entries), unlike a
    // supplier's configuration read, which crosses the 50 ms user link;
    // every run completes and the checker finds nothing wrong.
    let sets = vec!["crypto.mode=\"full\"".to_string()];
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/bau_small.toml");
    let l = dccsim::workflow::scenario::load(Some(&path), &sets, None).unwrap();
    let r = l.scenario.run_system(2).unwrap();
    let s = &r.summary;
    let d = &s["requests"]["dcc_scheduled"];
    assert!(d["sent"].as_u64().unwrap() > 50, "{d}");
    assert_eq!(d["outcomes"]["ok"], d["sent"]);
    assert_eq!(s["checker_violations"], 0);
    assert_eq!(s["crypto_ground_truth_mismatches"], 0);
    let max_ms = |name: &str| -> f64 {
        let (_, h) = r
            .histograms
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name}"));
        let line = h.lines().find(|l| l.contains("Max")).unwrap();
        line.split('=')
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert!(max_ms("latency_dcc_scheduled_user_to_dsp.hgrm") < 0.01);
    assert!(max_ms("latency_configuration_user_to_dsp.hgrm") >= 50.0);
    // No other user sends anything itself: the summary's per-meter-day
    // rate of the family is the DSP's.
    let rate = s["traffic_per_meter_day"]["dcc_scheduled"]["rate"]
        .as_f64()
        .unwrap();
    assert!(rate > 0.0);
}

/// Meters installed during the run join the network at their installation
/// and are served once their supplier's commissioning (SR 8.1.1, critical,
/// verified on the real bytes by the meter and the checker) has executed:
/// until then they raise no alerts and no one reads them, and the DSP
/// refuses requests for them by their inventory status. The same at 1 and
/// 2 threads.
#[test]
fn meters_installed_during_the_run_are_served_once_their_supplier_commissions_them() {
    let sets = |rate: &'static str| ["fleet.meters=5000", "crypto.mode=\"full\"", rate];
    let with = sets("parameters.traffic.installation_per_meter_day=0.3");
    let s = summary_of("bau_day", "install", &with);
    let none = summary_of(
        "bau_day",
        "install0",
        &sets("parameters.traffic.installation_per_meter_day=0"),
    );
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    let i = &s["installation"];
    let installed = n(&i["meters_installed"]);
    let commissioned = n(&i["meters_commissioned"]);
    let inst = &s["requests"]["installation"];
    assert!(installed > 1000, "{i}");
    assert_eq!(
        n(&inst["sent"]),
        installed,
        "one commissioning per installation"
    );
    assert_eq!(n(&inst["outcomes"]["ok"]), commissioned, "{inst}");
    assert!(commissioned + 5 >= installed, "{i}");
    assert_eq!(
        n(&i["meters_awaiting_commissioning"]),
        installed - commissioned
    );
    // Every status refusal is a request's outcome.
    let wrong_status = |s: &serde_json::Value| -> u64 {
        s["requests"]
            .as_object()
            .unwrap()
            .values()
            .map(|k| n(&k["outcomes"]["dsp_wrong_status"]))
            .sum()
    };
    assert_eq!(wrong_status(&s), n(&i["requests_refused_status"]));
    assert_eq!(n(&none["installation"]["meters_installed"]), 0);
    assert_eq!(wrong_status(&none), 0);
    // A meter off the network raises no alerts and is not read: about a
    // quarter of the fleet joins during the day.
    let alerts = |s: &serde_json::Value| -> u64 {
        let o = s["requests"]["alert"]["outcomes"].as_object().unwrap();
        o.values().map(n).sum()
    };
    let reads = |s: &serde_json::Value| n(&s["requests"]["scheduled_read"]["sent"]);
    assert!(
        (alerts(&s) as f64) < 0.95 * alerts(&none) as f64,
        "{} vs {}",
        alerts(&s),
        alerts(&none)
    );
    assert!((reads(&s) as f64) < 0.9 * reads(&none) as f64);
    // The commissionings are critical commands the checker verified
    // against each meter's supplier anchor.
    for s in [&s, &none] {
        assert_eq!(n(&s["checker_violations"]), 0, "{}", s["checker"]);
        assert_eq!(n(&s["crypto_ground_truth_mismatches"]), 0);
    }
    assert!(
        n(&s["checker"]["critical_verified"])
            >= commissioned + n(&none["checker"]["critical_verified"]) / 2
    );
    // The same files at 1 thread.
    let one = std::env::temp_dir().join(format!("dccsim-install1-{}", std::process::id()));
    let extra: Vec<&str> = with.iter().flat_map(|s| ["--set", s]).collect();
    run_scenario("bau_day", &one, 1, &extra);
    let s1: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("summary.json")).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&one);
    assert_eq!(s1, s, "identical at 1 and 2 threads");
}
