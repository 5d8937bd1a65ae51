use super::*;

const GOOD: &str = r#"
[scenario]
name = "t"
model = "phold"
seed = 3

[phold]
lps = 100
events_per_lp = 2
remote = 0.5
lookahead_s = 0.1
mean_s = 1.0
end_s = 2.0
"#;

fn msg(text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse_str("f.toml", text, &sets).unwrap_err().to_string()
}

#[test]
fn a_good_file_parses_with_defaults() {
    let s = parse_str("f.toml", GOOD, &[]).unwrap();
    assert_eq!(s.scenario.seed, 3);
    assert_eq!(s.scenario.shards, 64);
    assert_eq!(s.phold.unwrap().lps, 100);
}

#[test]
fn the_built_in_default_is_valid() {
    load(None, &[], None).unwrap();
}

#[test]
fn overrides_change_values_and_are_checked() {
    let s = parse_str(
        "f.toml",
        GOOD,
        &["phold.lps=7".into(), "scenario.seed=9".into()],
    )
    .unwrap();
    assert_eq!(s.phold.unwrap().lps, 7);
    assert_eq!(s.scenario.seed, 9);
    let m = msg(GOOD, &["phold.remote=2"]);
    assert!(m.contains("phold.remote"), "{m}");
}

#[test]
fn misspelt_key_names_line_and_suggestion() {
    let m = msg(&GOOD.replace("events_per_lp", "events_per_lps"), &[]);
    assert!(
        m.starts_with("f.toml:9:1: key `phold.events_per_lps`: unknown key"),
        "{m}"
    );
    assert!(m.contains("did you mean `events_per_lp`"), "{m}");
}

#[test]
fn wrong_type_names_the_key() {
    let m = msg(&GOOD.replace("lps = 100", "lps = \"many\""), &[]);
    assert!(
        m.starts_with("f.toml:8:1: key `phold.lps`: invalid type"),
        "{m}"
    );
    assert!(!m.contains('\n'));
}

#[test]
fn syntax_error_has_position() {
    let m = msg("[scenario\nname = 1", &[]);
    assert!(m.starts_with("f.toml:1:"), "{m}");
}

#[test]
fn semantic_errors_name_the_key_and_line() {
    let m = msg(&GOOD.replace("mean_s = 1.0", "mean_s = 0.01"), &[]);
    assert!(m.starts_with("f.toml:12:1: key `phold.mean_s`"), "{m}");
    let m = msg(
        &GOOD.replace("model = \"phold\"", "model = \"meters\""),
        &[],
    );
    assert!(
        m.contains("scenario.model") && m.contains("unknown model"),
        "{m}"
    );
}

#[test]
fn empty_and_missing_sections_are_explained() {
    assert!(msg("", &[]).contains("empty"));
    let m = msg(
        "[phold]\nlps = 1\nevents_per_lp = 1\nremote = 0.1\nlookahead_s = 1\nmean_s = 2\nend_s = 3",
        &[],
    );
    assert!(m.contains("`scenario` is missing"), "{m}");
    let m = msg(&GOOD.replace("end_s = 2.0", ""), &[]);
    assert!(
        m.contains("key `phold.end_s`: a required key `end_s` is missing"),
        "{m}"
    );
}
