//! `dccsim gbcs verify`: checks GBCS messages stored as hex files (the
//! layout of the DCC's Reference Test Data Set, RTDS: one message per file,
//! uppercase hex, `*_GBCS.HEX`) against a keystore folder, one line per file.

use crate::crypto::gbcs::verify::{check_precommand, Verdict, Verifier};
use crate::crypto::keystore::Keystore;
use std::path::{Path, PathBuf};

/// The RTDS access control broker's EUI, used when nothing else names one.
pub const RTDS_ACB: u64 = 0x90B3_D51F_3000_0002;

/// One file's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// What the checks said.
    pub verdict: Verdict,
}

impl FileResult {
    /// The printed line.
    pub fn line(&self) -> String {
        let p = self.path.display();
        match &self.verdict {
            Verdict::Pass(done) => format!("PASS {p}: {}", done.join(", ")),
            Verdict::Fail(why, done) if done.is_empty() => format!("FAIL {p}: {why}"),
            Verdict::Fail(why, done) => {
                format!("FAIL {p}: {why} (passed: {})", done.join(", "))
            }
            Verdict::Skip(why) => format!("SKIP {p}: {why}"),
        }
    }
}

/// Every hex file under `paths` (files as given, folders walked), sorted.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for e in entries {
                if e.is_dir() || e.extension().is_some_and(|x| x.eq_ignore_ascii_case("hex")) {
                    walk(&e, out)?;
                }
            }
        } else {
            out.push(p.to_path_buf());
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out)?;
    }
    Ok(out)
}

/// Reads a hex file (surrounding whitespace allowed).
pub fn read_hex(path: &Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))
}

/// The command file a pre-command file belongs to.
pub fn command_sibling(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    name.contains("PRECOMMAND")
        .then(|| path.with_file_name(name.replace("PRECOMMAND", "COMMAND")))
}

/// Checks one message. `name` is its file name (pre-commands and RTDS
/// ERROR cases are recognised by it); `command` gives a pre-command's
/// command bytes.
pub fn verify_named(name: &str, bytes: &[u8], command: Option<&[u8]>, v: &Verifier<'_>) -> Verdict {
    if name.contains("PRECOMMAND") {
        let Some(cmd) = command else {
            return Verdict::Fail("pre-command without its command file".into(), vec![]);
        };
        if let Err(e) = check_precommand(bytes, cmd) {
            return Verdict::Fail(e, vec![]);
        }
        return match v.verify(cmd) {
            Verdict::Pass(mut done) => {
                done.insert(0, "pre-command = its command's GSA".into());
                Verdict::Pass(done)
            }
            Verdict::Fail(why, _) => Verdict::Fail(format!("its command: {why}"), vec![]),
            s @ Verdict::Skip(_) => s,
        };
    }
    if name.contains("_FORGED_") {
        // A negative sample (`dccsim gbcs sample`): it must fail its
        // signature or MAC.
        return match v.verify(bytes) {
            Verdict::Fail(why, mut done) if why.contains("does not verify") => {
                done.push(format!("{why}: refused, as a forged message must be"));
                Verdict::Pass(done)
            }
            Verdict::Pass(_) => Verdict::Fail("a FORGED message verifies".into(), vec![]),
            other => other,
        };
    }
    match v.verify(bytes) {
        // RTDS's ERROR cases include a top-up whose token a device must refuse.
        Verdict::Fail(why, mut done) if why.starts_with("UTRN") && name.contains("_ERROR_") => {
            done.push(format!("{why}, refused as this ERROR case expects"));
            Verdict::Pass(done)
        }
        v => v,
    }
}

/// Checks one file.
pub fn verify_file(path: &Path, v: &Verifier<'_>) -> FileResult {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let verdict = match read_hex(path) {
        Err(e) => Verdict::Fail(e, vec![]),
        Ok(bytes) => {
            let cmd = command_sibling(path).and_then(|p| read_hex(&p).ok());
            verify_named(&name, &bytes, cmd.as_deref(), v)
        }
    };
    FileResult {
        path: path.to_path_buf(),
        verdict,
    }
}

/// The ACB's EUI: from `parties.json` in the keystore folder or its parent
/// (the party whose role is "acb"), else RTDS's.
pub fn find_acb(keystore: &Path) -> u64 {
    for dir in [Some(keystore), keystore.parent()].into_iter().flatten() {
        let Ok(text) = std::fs::read_to_string(dir.join("parties.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(obj) = v.as_object() {
            for (eui, role) in obj {
                if role.as_str() == Some("acb") {
                    if let Ok(e) = u64::from_str_radix(eui, 16) {
                        return e;
                    }
                }
            }
        }
    }
    RTDS_ACB
}

/// Runs `dccsim gbcs verify`; returns the per-file results.
pub fn verify_paths(paths: &[PathBuf], ks: &Keystore, acb: u64) -> Result<Vec<FileResult>, String> {
    let files = collect(paths)?;
    if files.is_empty() {
        return Err("no hex files found".into());
    }
    let v = Verifier::new(ks, acb);
    Ok(files.iter().map(|p| verify_file(p, &v)).collect())
}

/// `N passed, M failed (K skipped)`.
pub fn tally(results: &[FileResult]) -> (usize, usize, usize) {
    let mut t = (0, 0, 0);
    for r in results {
        match r.verdict {
            Verdict::Pass(_) => t.0 += 1,
            Verdict::Fail(..) => t.1 += 1,
            Verdict::Skip(_) => t.2 += 1,
        }
    }
    t
}
