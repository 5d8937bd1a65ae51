//! The documentation matches the tree: ARCHITECTURE.md's code map names
//! every source file under `sim/`.

use std::path::Path;

fn files(dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn the_code_map_names_every_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut all = Vec::new();
    files(&root.join("sim"), &mut all);
    let mut missing = Vec::new();
    for f in &all {
        let rel = Path::new(f).strip_prefix(root.join("sim")).unwrap();
        let name = rel.file_name().unwrap().to_string_lossy();
        let parent = rel
            .parent()
            .and_then(|p| p.file_name())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The file's name, and its folder, must both be named.
        let named = map.contains(&format!("`{name}`"))
            || map.contains(&format!("{name}`"))
            || map.contains(&format!("/{name}"));
        let folder = parent.is_empty() || map.contains(&format!("{parent}/"));
        if !(named && folder) {
            missing.push(rel.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {missing:?}"
    );
}
