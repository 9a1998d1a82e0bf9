//! Cleaning up after an interrupted run: the paths being written aside right now, and the
//! SIGINT/SIGTERM handler that removes them.
//!
//! Outputs are written to a temporary file or directory beside their target and renamed into
//! place when complete. A run stopped by a signal never reaches the rename, and since the
//! process ends without unwinding, nothing deletes the temporary path either. So every writer
//! that creates one holds a [`Partial`] while it writes; [`install`] sets a handler that removes
//! the paths still held, then exits with 130. A path renamed into place is simply gone by then,
//! so a run stopped a moment after it finished keeps its finished output.
//!
//! Checkpoints kept on purpose for `--resume` (a training run's `OUT.partial`, an output
//! directory's committed parts) are not partial paths in this sense and are not registered.
//! `serve` writes nothing aside and keeps its own graceful shutdown, so `main` installs the
//! handler for every other command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The exit status of a run stopped by a signal (as a shell reports SIGINT).
// SIGTERM also exits 130, not 143: ctrlc runs one argument-less handler for every signal.
pub const EXIT_INTERRUPTED: i32 = 130;

static PARTIALS: Mutex<BTreeMap<u64, PathBuf>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn partials() -> MutexGuard<'static, BTreeMap<u64, PathBuf>> {
    // A writer that panicked while holding the lock left the map whole: keep using it.
    PARTIALS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A path being written aside; removed by the handler if the run is interrupted while this is
/// held. Dropping it (after the rename, or after a failure that already removed the path)
/// forgets the path.
#[derive(Debug)]
pub struct Partial {
    id: u64,
}

impl Partial {
    /// Registers `path` (a file or a directory) until the returned value is dropped.
    pub fn track(path: &Path) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        partials().insert(id, path.to_path_buf());
        Partial { id }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        partials().remove(&self.id);
    }
}

/// The paths registered now, oldest first.
pub fn tracked() -> Vec<PathBuf> {
    partials().values().cloned().collect()
}

/// Removes every path of `paths` that still exists and forgets them all; returns how many
/// were removed.
fn remove_all(paths: &mut BTreeMap<u64, PathBuf>) -> usize {
    let mut removed = 0;
    for path in std::mem::take(paths).into_values() {
        let gone = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path).is_ok(),
            Ok(_) => std::fs::remove_file(&path).is_ok(),
            Err(_) => false,
        };
        removed += usize::from(gone);
    }
    removed
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP: remove the partial paths, say so on
/// stderr, exit with [`EXIT_INTERRUPTED`]. Call once, at the start of `main`.
pub fn install() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        // The lock is held until the exit, so no writer registers a new path meanwhile.
        let mut held = partials();
        let removed = remove_all(&mut held);
        eprintln!("interrupted: removed {removed} partly written output(s)");
        std::process::exit(EXIT_INTERRUPTED);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_path_is_registered_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl.partial");
        let held = Partial::track(&path);
        let done = Partial::track(&dir.path().join("done"));
        drop(done);
        let now = tracked();
        assert!(now.contains(&path) && !now.contains(&dir.path().join("done")));
        drop(held);
        assert!(!tracked().contains(&path));
    }

    #[test]
    fn removal_takes_files_and_directories_and_skips_what_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.jsonl.partial");
        let staging = dir.path().join(".kb.partial-x");
        std::fs::write(&file, b"half").unwrap();
        std::fs::create_dir_all(staging.join("inner")).unwrap();
        std::fs::write(staging.join("inner/t.parquet"), b"rows").unwrap();
        let renamed = dir.path().join(".renamed-into-place");
        let kept = dir.path().join("finished.jsonl");
        std::fs::write(&kept, b"done").unwrap();

        let mut paths: BTreeMap<u64, PathBuf> = [file.clone(), staging.clone(), renamed]
            .into_iter()
            .enumerate()
            .map(|(i, p)| (i as u64, p))
            .collect();
        assert_eq!(remove_all(&mut paths), 2);
        assert!(paths.is_empty());
        assert!(!file.exists() && !staging.exists());
        assert!(kept.exists(), "only registered paths are removed");
    }
}
