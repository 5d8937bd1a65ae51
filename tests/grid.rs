//! The frequency model against 9 August 2019 (DOMAIN.md): that loss
//! sequence at that demand must take GB frequency to about 48.8 Hz, where
//! LFDD operated.

use dccsim::grid::{aug_2019_deficit, simulate, GridParams};

fn params() -> GridParams {
    let t: toml::Table = dccsim::models::system::params::GB_DEFAULT.parse().unwrap();
    t["grid"].clone().try_into().unwrap()
}

#[test]
fn aug_2019_reaches_lfdd_at_about_48_8_hz() {
    let p = params();
    assert_eq!(p.demand_mw, 29000.0, "the test is for 9 August 2019 demand");
    let tr = simulate(&p, 180, aug_2019_deficit);
    let nadir = tr.min();
    println!("nadir {nadir:.3} Hz, LFDD at {:?} s", tr.lfdd_at_s);
    assert!((nadir - 48.8).abs() <= 0.15, "nadir {nadir}");
    let at = tr.lfdd_at_s.expect("LFDD operated");
    // The second stage (the gas turbines at 58 s and 76 s) is what took
    // frequency to 48.8 Hz; the first stage alone was arrested near 49.1 Hz.
    assert!(at >= 58.0, "LFDD at {at} s, before the second stage");
    let first = simulate(&p, 58, aug_2019_deficit);
    assert!(
        first.min() > 48.8 && first.min() < 49.4,
        "first-stage nadir {}",
        first.min()
    );
    // After LFDD, frequency recovers above the statutory 49.5 Hz within minutes.
    assert!(
        *tr.min_hz.last().unwrap() > 49.5,
        "end {}",
        tr.min_hz.last().unwrap()
    );
}

#[test]
fn losing_demand_raises_frequency_and_nothing_is_shed() {
    let p = params();
    let tr = simulate(&p, 120, |t| if t >= 1.0 { -500.0 } else { 0.0 });
    assert!(tr.max() > 50.05 && tr.max() < 50.5, "max {}", tr.max());
    assert!(tr.lfdd_at_s.is_none());
    let flat = simulate(&p, 10, |_| 0.0);
    assert_eq!(flat.min(), 50.0);
    assert_eq!(flat.max(), 50.0);
}

#[test]
fn profile_has_mean_one_and_evening_peak() {
    let mean: f64 = (0..86_400)
        .map(|s| dccsim::grid::profile(s as f64))
        .sum::<f64>()
        / 86_400.0;
    assert!((mean - 1.0).abs() < 1e-3, "{mean}");
    assert!(dccsim::grid::profile(18.0 * 3600.0) > 1.6);
    let p = params();
    let mut v: Vec<u32> = (0..10_001u64)
        .map(|i| dccsim::grid::annual_kwh(&p, i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .collect();
    v.sort();
    let median = v[5000] as f64;
    assert!((median - 2700.0).abs() < 100.0, "median {median}");
}
