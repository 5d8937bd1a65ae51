//! A run's results folder, written so that an interrupted run never leaves a
//! file that looks complete but is not.
//!
//! * Every file is written to a temporary name in the folder and renamed into
//!   place, so a file is either whole or absent.
//! * `manifest.json` is removed when a run starts writing and written last; it
//!   says whether the run was `complete` or `partial`. A folder without a
//!   manifest is an unfinished run.
//! * A folder dropped before [`ResultsDir::finish`] (a write failed: full
//!   disk, unwritable folder; or a panic) removes every file it wrote, so
//!   no `summary.json` saying `complete` survives beside missing files.
//! * `manifest.json` (which records the thread count) and `perf.json`
//!   (wall-clock figures) describe the run on this machine; every other file
//!   is deterministic: byte-identical for the same scenario and seed at any
//!   thread count.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files that describe the machine or the invocation rather than the model.
pub const NON_DETERMINISTIC_FILES: &[&str] = &["manifest.json", "perf.json"];

/// An open results folder.
#[derive(Debug)]
pub struct ResultsDir {
    dir: PathBuf,
    written: Vec<String>,
    perf: Vec<(String, serde_json::Value)>,
    finished: bool,
}

impl ResultsDir {
    /// Creates (or reuses) `dir` and removes any previous manifest, so the
    /// folder reads as unfinished until [`ResultsDir::finish`].
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        match std::fs::remove_file(dir.join("manifest.json")) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(ResultsDir {
            dir: dir.to_path_buf(),
            written: Vec::new(),
            perf: Vec::new(),
            finished: false,
        })
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `name` atomically.
    pub fn write_bytes(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        write_atomic(&self.dir.join(name), bytes)?;
        if !self.written.iter().any(|n| n == name) {
            self.written.push(name.to_string());
        }
        Ok(())
    }

    /// Writes `value` as pretty JSON (with a final newline) to `name` atomically.
    pub fn write_json<T: Serialize>(&mut self, name: &str, value: &T) -> std::io::Result<()> {
        let mut s = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
        s.push('\n');
        self.write_bytes(name, s.as_bytes())
    }

    /// Notes a wall-clock figure for `perf.json` (never for deterministic files).
    pub fn note_perf(&mut self, key: &str, value: f64) {
        self.note_perf_json(key, serde_json::json!(value));
    }

    /// Like [`ResultsDir::note_perf`], for any JSON value (a list per rank).
    pub fn note_perf_json(&mut self, key: &str, value: serde_json::Value) {
        self.perf.push((key.to_string(), value));
    }

    /// The figures noted with [`ResultsDir::note_perf`].
    pub fn perf_notes(&self) -> Vec<(String, serde_json::Value)> {
        self.perf.clone()
    }

    /// Records a file written into the folder by other code (atomically).
    pub fn record(&mut self, name: &str) {
        if !self.written.iter().any(|n| n == name) {
            self.written.push(name.to_string());
        }
    }

    /// Files written so far, in order.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Writes the manifest last. `manifest` should say whether the run is complete.
    pub fn finish<T: Serialize>(mut self, manifest: &T) -> std::io::Result<PathBuf> {
        self.write_json("manifest.json", manifest)?;
        self.finished = true;
        Ok(self.dir.clone())
    }
}

impl Drop for ResultsDir {
    /// An unfinished folder (a write failed, or a panic) removes what it
    /// wrote: files of a run that could not be completed must not be read
    /// as its results. Best effort: a file that cannot be removed stays, and
    /// the folder still has no manifest.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        for name in &self.written {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it, then renames
/// it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // A full disk leaves a partial temporary file: remove it.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_removed_on_start_and_written_last() {
        let d = std::env::temp_dir().join(format!("dccsim-results-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("manifest.json"), "{}").unwrap();
        let mut r = ResultsDir::create(&d).unwrap();
        assert!(!d.join("manifest.json").exists());
        r.write_json("summary.json", &serde_json::json!({"a": 1}))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("summary.json")).unwrap(),
            "{\n  \"a\": 1\n}\n"
        );
        r.finish(&serde_json::json!({"status": "complete"}))
            .unwrap();
        assert!(d.join("manifest.json").exists());
        let leftovers: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
