//! Every GBCS trust-anchor cell of a device: filled at commissioning, and
//! replaced only by the holders its rules allow (its own holder or the
//! recovery key; the supplier's also by the transitional change-of-supplier
//! party; the root's by the recovery key alone), on real command bytes.

use dccsim::crypto::device::{Anchor, AnchorSlot, DeviceSecurity, Executed, Reject, ANCHOR_SLOTS};
use dccsim::crypto::gbcs::{Body, Fuel, MessageKind};
use dccsim::crypto::mac::ecdh;
use dccsim::crypto::registry::KeyRegistry;
use dccsim::crypto::request::build_command;
use dccsim::crypto::x509::{issue, Issuer, Subject, Usage};
use dccsim::crypto::{derive_key, KeyRole, SigningKey};

mod common;
use common::{n, refused, run, sound};

const SEED: u64 = 77;
const DEVICE: u64 = 0x00AB_CDEF_0000_0077;

/// The holder of each cell: its originator id and signing key.
fn holders() -> Vec<(u64, SigningKey)> {
    AnchorSlot::ALL
        .iter()
        .map(|&s| {
            let id = 0x5000_0000_0000_0100 + s as u64;
            (id, derive_key(SEED, KeyRole::UserCommandSigning, id))
        })
        .collect()
}

struct Bench {
    keys: KeyRegistry,
    holders: Vec<(u64, SigningKey)>,
    z: [u8; 32],
    device: DeviceSecurity,
}

fn bench() -> Bench {
    let keys = KeyRegistry::new();
    let holders = holders();
    let acb = derive_key(SEED, KeyRole::AcbKeyAgreement, 0);
    let device_ka = derive_key(SEED, KeyRole::DeviceKeyAgreement, DEVICE);
    let z = ecdh(acb.scalar(), device_ka.public()).unwrap();
    let mut anchors = [Anchor { owner: 0, key: 0 }; ANCHOR_SLOTS];
    for (cell, (id, k)) in anchors.iter_mut().zip(&holders) {
        *cell = Anchor {
            owner: *id,
            key: keys.intern(&k.public().to_uncompressed()).unwrap(),
        };
    }
    let manufacturer = derive_key(SEED, KeyRole::Manufacturer, 1);
    let mfp = keys
        .intern(&manufacturer.public().to_uncompressed())
        .unwrap();
    let device = DeviceSecurity {
        id: DEVICE,
        fuel: Fuel::Electricity,
        anchors,
        counters: [(0, 0); 4],
        manufacturer: (1, mfp),
        firmware_version: 1,
        staged_firmware: None,
        flaw: None,
    };
    Bench {
        keys,
        holders,
        z,
        device,
    }
}

/// A credential update of `slot` to a new key with owner `new_owner`,
/// signed by the holder of `by`, with `counter`.
fn update(b: &Bench, slot: u8, by: AnchorSlot, new_owner: u64, counter: u64) -> Vec<u8> {
    let new_key = derive_key(SEED, KeyRole::UserCommandSigning, new_owner);
    let cert = issue(
        &Subject::Organisation {
            name: format!("NEW HOLDER {new_owner:x}"),
            role: "02".into(),
            eui: new_owner,
        },
        new_key.public(),
        Usage::Signing,
        [3; 16],
        1_767_225_600,
        &Issuer {
            name: &[("OU", "07"), ("CN", "Z1")],
            key: &derive_key(SEED, KeyRole::OrgCa, 0),
        },
    )
    .unwrap();
    let body = Body::credential_update(slot, cert.into()).unwrap();
    let (originator, key) = &b.holders[by as usize];
    build_command(
        MessageKind::UpdateSecurityCredentials,
        Fuel::Electricity,
        *originator,
        DEVICE,
        counter,
        &body,
        Some(key),
        Some(&b.z),
    )
}

#[test]
fn each_cell_is_replaced_only_by_the_holders_its_rules_allow() {
    use AnchorSlot::*;
    for target in AnchorSlot::ALL {
        for by in AnchorSlot::ALL {
            let mut b = bench();
            let new_owner = 0x5100_0000_0000_0900 + target as u64;
            let cmd = update(&b, target as u8, by, new_owner, 1);
            let got = b.device.receive_command(&cmd, &b.z, None, &b.keys);
            let allowed = target.replaceable_by().contains(&by);
            if allowed {
                assert_eq!(
                    got.unwrap().executed,
                    Executed::CredentialUpdated(target),
                    "{target:?} by {by:?}"
                );
                assert_eq!(b.device.anchors[target as usize].owner, new_owner);
            } else {
                assert_eq!(
                    got.err(),
                    Some(Reject::WrongOriginator),
                    "{target:?} by {by:?}"
                );
                assert_eq!(
                    b.device.anchors[target as usize].owner,
                    b.holders[target as usize].0
                );
            }
        }
    }
    // The rules themselves: every cell by its holder or recovery, the
    // supplier's also by change of supplier, the root's by recovery only.
    assert_eq!(Root.replaceable_by(), &[Recovery]);
    assert_eq!(
        Supplier.replaceable_by(),
        &[Supplier, Recovery, TransitionalCos]
    );
    for s in [
        NetworkOperator,
        Acb,
        WanProvider,
        TransitionalCos,
        IssuingAuthority,
    ] {
        assert_eq!(s.replaceable_by(), &[s, Recovery]);
    }
}

#[test]
fn a_change_of_supplier_moves_the_supplier_cell_to_the_gaining_supplier() {
    let mut b = bench();
    let gaining = 0x5100_0000_0000_0abc;
    let cmd = update(
        &b,
        AnchorSlot::Supplier as u8,
        AnchorSlot::TransitionalCos,
        gaining,
        1,
    );
    b.device
        .receive_command(&cmd, &b.z, None, &b.keys)
        .expect("the change-of-supplier party may place the gaining supplier");
    // The gaining supplier's critical commands now verify; the losing one's
    // are refused, and a replayed update is stale.
    let gain_key = derive_key(SEED, KeyRole::UserCommandSigning, gaining);
    let disable = |originator: u64, key: &SigningKey, counter: u64| {
        build_command(
            MessageKind::DisableSupply,
            Fuel::Electricity,
            originator,
            DEVICE,
            counter,
            &Body::Plain,
            Some(key),
            Some(&b.z),
        )
    };
    let (losing, losing_key) = b.holders[AnchorSlot::Supplier as usize].clone();
    let cmd = disable(losing, &losing_key, 1);
    assert_eq!(
        b.device.receive_command(&cmd, &b.z, None, &b.keys).err(),
        Some(Reject::WrongOriginator)
    );
    let cmd = disable(gaining, &gain_key, 1);
    assert_eq!(
        b.device
            .receive_command(&cmd, &b.z, None, &b.keys)
            .unwrap()
            .executed,
        Executed::SupplyDisabled
    );
    let replay = update(
        &b,
        AnchorSlot::Supplier as u8,
        AnchorSlot::TransitionalCos,
        gaining,
        1,
    );
    assert_eq!(
        b.device.receive_command(&replay, &b.z, None, &b.keys).err(),
        Some(Reject::Replay)
    );
}

#[test]
fn a_cell_index_beyond_the_eight_is_refused() {
    let mut b = bench();
    let cmd = update(
        &b,
        ANCHOR_SLOTS as u8,
        AnchorSlot::Recovery,
        0x5100_0000_0000_0001,
        1,
    );
    assert_eq!(
        b.device.receive_command(&cmd, &b.z, None, &b.keys).err(),
        Some(Reject::BadCredentialUpdate)
    );
}

#[test]
fn the_model_commissions_every_meter_with_all_eight_cells() {
    use dccsim::models::system::world::World;
    let l = dccsim::workflow::scenario::load(None, &["fleet.meters=3000".into()], None).unwrap();
    let w = World::new(l.scenario.system().unwrap(), 1);
    let mut wan_owners = std::collections::BTreeSet::new();
    for m in 0..3000 {
        let a = w.anchors_of(m);
        for s in AnchorSlot::ALL {
            let cell = a[s as usize];
            assert!(cell.owner != 0 && cell.key != 0, "meter {m} {s:?}");
        }
        // The network operator's cell holds a network-operator user's key.
        let no = w.network_operator_of(m).unwrap();
        assert!(matches!(
            w.role_for(no, w.fuel(m)),
            dccsim::crypto::smki::CertRole::ElectricityDistributor
                | dccsim::crypto::smki::CertRole::GasTransporter
        ));
        wan_owners.insert(a[AnchorSlot::WanProvider as usize].owner);
    }
    assert_eq!(wan_owners.len(), 3, "one WAN provider per CSP region");
    // Distinct holders: no two cells share a key.
    let a = w.anchors_of(0);
    let keys: std::collections::BTreeSet<_> = a.iter().map(|c| c.key).collect();
    assert_eq!(keys.len(), ANCHOR_SLOTS);
}

/// An ACB compromise, expressed and recovered (`scenarios/acb_compromise.toml`
/// at 20,000 meters, full cryptography): the attacker holds the ACB's key
/// and supplier 0's command key and injects disable-supply commands on the
/// WAN from 17:15. When the DCC rekeys every meter's ACB cell from 17:18,
/// the meters it reached refuse the attacker's commands on their MAC (the
/// old ACB key's), on the real bytes; everyone else's commands, MAC'd by
/// the DSP with the new key, still execute; and the checker, replaying
/// each meter's ACB cell from the trace, finds no violation. Rekeyed too
/// late (19:24), the same attack executes every command.
#[test]
fn an_acb_compromise_is_recovered_by_rekeying_every_meter() {
    let small = ["fleet.meters=20000", "run.end_h=18.5"];
    let early = run(
        "acb_compromise",
        &[small[0], small[1], "acb_rekey.start_h=17.3"],
    );
    let late = run(
        "acb_compromise",
        &[small[0], small[1], "acb_rekey.start_h=18.45"],
    );
    sound(&early);
    sound(&late);
    let r = &early["acb_rekey"];
    assert_eq!(n(&r["meters_rekeyed"]), 20_000, "{r}");
    assert_eq!(n(&r["meters_on_old_key"]), 0);
    assert!(
        n(&early["checker"]["critical_verified"]) > 20_000,
        "{}",
        early["checker"]
    );
    // The attack: stopped by the rekey meter by meter, not before.
    let (hit, missed) = (
        n(&early["attack"]["executed"]),
        n(&late["attack"]["executed"]),
    );
    assert!(
        hit > 1_000 && hit * 3 < missed * 2,
        "early {hit}, late {missed}"
    );
    assert!(missed > 7_900, "late {missed}");
    assert!(
        refused(&early, "bad_mac") > 2_000,
        "{}",
        early["meter_refusals"]
    );
    assert!(refused(&late, "bad_mac") < 50, "{}", late["meter_refusals"]);
    // Business as usual goes on under the new key.
    for kind in ["on_demand_read", "dcc_scheduled", "configuration"] {
        let o = &early["requests"][kind]["outcomes"];
        assert!(n(&o["ok"]) > 100, "{kind}: {o}");
        assert!(n(&o["meter_refused"]) * 100 <= n(&o["ok"]), "{kind}: {o}");
    }
}

/// A change of supplier, end to end (`scenarios/acb_compromise.toml` at
/// 10,000 meters with many switches and no rekey in time, full
/// cryptography): each gaining supplier's CoS request (SR 6.23) is signed
/// by the DCC's transitional CoS party and moves the meter's supplier cell
/// to the gaining supplier, on the real bytes. From then on the losing
/// supplier's key commands nothing there: an attacker holding supplier 0's
/// command key and the ACB's key, sending to all of supplier 0's original
/// meters at 19:00, is refused on the meters that switched away
/// (`wrong_originator`) and obeyed on the rest. Without switches, nothing
/// is refused that way.
#[test]
fn a_change_of_supplier_moves_the_supplier_cell_to_the_gaining_supplier_end_to_end() {
    let base = [
        "fleet.meters=10000",
        "acb_rekey.start_h=19.45",
        "attack.start_h=19.0",
        "attack.rate_per_s=200",
    ];
    let with = |rate: &str| {
        let mut sets = base.to_vec();
        sets.push(rate);
        run("acb_compromise", &sets)
    };
    let s = with("parameters.traffic.change_of_supplier_per_meter_day=2.4");
    let none = with("parameters.traffic.change_of_supplier_per_meter_day=0");
    sound(&s);
    sound(&none);
    let cos = &s["requests"]["change_of_supplier"];
    let (sent, ok) = (n(&cos["sent"]), n(&cos["outcomes"]["ok"]));
    // About a quarter of the meters switch in the run (10,000 x 2.4 x 2.5 h / 24 h, less repeats).
    assert!(sent > 1_500 && sent < 2_600, "{cos}");
    assert!(ok * 10 >= sent * 9, "{cos}");
    assert_eq!(n(&none["requests"]["change_of_supplier"]["sent"]), 0);
    let lost = refused(&s, "wrong_originator");
    let attack = &s["attack"];
    assert_eq!(n(&attack["sent"]), 4_000, "{attack}");
    // Supplier 0 has lost ~20% of its meters by 19:00.
    assert!(lost > 400 && lost < 1_200, "wrong_originator {lost}");
    assert!(n(&attack["executed"]) + lost <= 4_000);
    assert!(n(&attack["executed"]) > 2_500, "{attack}");
    assert_eq!(refused(&none, "wrong_originator"), 0);
    assert!(n(&none["attack"]["executed"]) > n(&attack["executed"]));
    // The CoS credential updates were checked on their bytes by the checker.
    assert!(n(&s["checker"]["critical_verified"]) > n(&none["checker"]["critical_verified"]));
}
