//! A full disk or an unwritable results folder: exit 1 with a message that
//! names the folder and the cause, and no file that looks complete.
//!
//! The full-disk and read-only cases mount a small tmpfs, which needs root
//! (or `CAP_SYS_ADMIN`); where mounting is refused they say so on stderr
//! and check only the unwritable-path case, which needs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted at a fresh folder (unmounted on drop).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(tag: &str, opts: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("dccsim-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            Some(Tmpfs(dir))
        } else {
            eprintln!("NOTE: cannot mount a tmpfs here (needs root); {tag} case not checked");
            let _ = std::fs::remove_dir(&dir);
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Runs the small business-as-usual scenario into `out`; exit code and stderr.
fn run_into(out: &Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_dccsim"))
        .args([
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/bau_small.toml"),
            "--quiet",
            "--set",
            "fleet.meters=2000",
            "--set",
            "run.end_h=2",
            "--out",
        ])
        .arg(out)
        .output()
        .expect("dccsim starts");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// No manifest, no summary, no temporary file: nothing reads as results.
fn nothing_looks_complete(out: &Path) {
    if !out.exists() {
        return;
    }
    for e in std::fs::read_dir(out).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        assert!(
            n != "manifest.json" && n != "summary.json" && !n.contains(".tmp-"),
            "{n} left in {} after a failed write",
            out.display()
        );
    }
}

#[test]
fn a_full_disk_is_exit_1_and_leaves_nothing_that_looks_complete() {
    // 200 KiB: the histograms fit, the time series does not.
    let Some(fs) = Tmpfs::mount("full", "size=200k") else {
        return;
    };
    let out = fs.0.join("r");
    let (code, err) = run_into(&out);
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(
        err.contains("No space left on device") && err.contains(&out.display().to_string()),
        "the message names the folder and the cause: {err}"
    );
    nothing_looks_complete(&out);
}

#[test]
fn a_read_only_folder_is_exit_1_with_a_clear_message() {
    let Some(fs) = Tmpfs::mount("ro", "size=1m,ro") else {
        return;
    };
    let out = fs.0.join("r");
    let (code, err) = run_into(&out);
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(
        err.contains("Read-only file system") && err.contains(&out.display().to_string()),
        "{err}"
    );
    nothing_looks_complete(&out);
}

#[test]
fn an_output_path_under_a_file_is_exit_1_with_a_clear_message() {
    let file = std::env::temp_dir().join(format!("dccsim-notadir-{}", std::process::id()));
    std::fs::write(&file, "a file, not a folder").unwrap();
    let out = file.join("r");
    let (code, err) = run_into(&out);
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(
        err.contains("writing results to") && err.contains(&out.display().to_string()),
        "{err}"
    );
    std::fs::remove_file(&file).unwrap();
}
