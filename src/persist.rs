//! Writing aside, shared by every output, report and cache: [`aside`] opens a temporary file in
//! the target's directory (creating the directory, as a user naming `out/new/x.jsonl` expects),
//! and [`persist`] syncs the finished file, opens it to an ordinary file's permissions and
//! renames it onto its target.
//!
//! Errors name neither temporary path: `tempfile` appends one to its errors, which would send a
//! user looking for `.tailor-partial-…` instead of the path they gave, so [`plain`] takes it off
//! and the caller names the target.
//!
//! Temporary files are created private (0600) so no one reads them half written; once complete,
//! an output, a report or a cache is meant to be read by others too (a shared KB, a cluster's
//! parts), so it gets 0644 before the rename.
//!
//! While a temporary path is being written, its writer holds a [`crate::interrupt::Partial`],
//! so a run stopped by a signal removes it instead of leaving it beside the target.

use std::io;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::interrupt::Partial;

/// A temporary file named `prefix…` in `target`'s directory, created with its missing parents,
/// and tracked so that a signal removes it.
pub fn aside(target: &Path, prefix: &str) -> io::Result<(NamedTempFile, Partial)> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        if dir.exists() && !dir.is_dir() {
            io::Error::other(format!("{} is not a directory", dir.display()))
        } else {
            e
        }
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .map_err(plain)?;
    let partial = Partial::track(tmp.path());
    Ok((tmp, partial))
}

/// Syncs `tmp`, makes it readable by everyone and renames it onto `target`.
pub fn persist(tmp: NamedTempFile, target: &Path) -> io::Result<()> {
    tmp.as_file().sync_all()?;
    readable_by_all(tmp.path())?;
    tmp.persist(target).map_err(|e| plain(e.error))?;
    Ok(())
}

/// Renames onto `target` a temporary path that a library wrote by itself, made readable by
/// everyone. candle's safetensors writer puts its own private temporary file in place of the
/// path it is given, so the handle [`aside`] returned no longer names the file: take the path
/// with `NamedTempFile::into_temp_path` before the library writes, and finish with this.
pub fn persist_written(tmp: tempfile::TempPath, target: &Path) -> io::Result<()> {
    readable_by_all(&tmp)?;
    tmp.persist(target).map_err(|e| plain(e.error))?;
    Ok(())
}

/// Refuses to let a new output directory replace `dir` unless `dir` is missing, empty, or an
/// earlier output of the same kind, which holds the file `marker` (a KB store's
/// `entities.parquet`, a model's `entity_counts.json`). Outputs replace their directory whole,
/// so `--out ~/Documents` would otherwise delete the user's files.
pub fn check_replaceable(dir: &Path, marker: &str) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => {
            return Err(io::Error::other(
                "is a file, not a directory: an output here would replace it",
            ))
        }
        Err(e) => return Err(e),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() || names.iter().any(|n| n == marker) {
        return Ok(());
    }
    names.sort();
    Err(io::Error::other(format!(
        "holds files of something else (\"{}\"{}; no {marker}), which writing the output here \
         would delete: name a new or empty directory",
        names[0],
        if names.len() > 1 {
            format!(" and {} more", names.len() - 1)
        } else {
            String::new()
        }
    )))
}

/// Moves the finished directory `ready` onto `dir`, keeping the old one until the new one is
/// in place. An existing `dir` is replaced only as [`check_replaceable`] allows; refused, the
/// finished output stays in `ready` and the error says so.
pub fn replace_dir(ready: &Path, dir: &Path, marker: &str) -> io::Result<()> {
    if let Err(e) = check_replaceable(dir, marker) {
        return Err(io::Error::other(format!(
            "{e} (the finished output is left in {})",
            ready.display()
        )));
    }
    if dir.exists() {
        let old = dir.with_extension(format!("old-{}", std::process::id()));
        std::fs::rename(dir, &old)?;
        std::fs::rename(ready, dir)?;
        std::fs::remove_dir_all(&old)
    } else {
        std::fs::rename(ready, dir)
    }
}

/// Opens a finished file to an ordinary file's permissions, so a model or cache copied to other
/// users stays readable.
pub fn readable_by_all(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `e` without the temporary path `tempfile` appends to the errors of its files (`… at path
/// "/out/.tailor-partial-x"`); any other error as it is.
pub fn plain(e: io::Error) -> io::Error {
    let Some(inner) = e.get_ref() else {
        return e;
    };
    match inner.to_string().rsplit_once(" at path \"") {
        Some((message, _)) => io::Error::new(e.kind(), message.to_string()),
        None => e,
    }
}

#[cfg(test)]
mod replace_tests {
    #[test]
    fn only_a_missing_empty_or_same_kind_directory_is_replaceable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(super::check_replaceable(&d.join("new"), "entities.parquet").is_ok());
        assert!(
            super::check_replaceable(d, "entities.parquet").is_ok(),
            "empty"
        );
        std::fs::write(d.join("thesis.txt"), "mine").unwrap();
        let err = super::check_replaceable(d, "entities.parquet").unwrap_err();
        assert!(err.to_string().contains("thesis.txt"), "{err}");
        std::fs::write(d.join("entities.parquet"), "").unwrap();
        assert!(super::check_replaceable(d, "entities.parquet").is_ok());
        let file = d.join("thesis.txt");
        assert!(super::check_replaceable(&file, "entities.parquet").is_err());
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_finished_file_is_in_place_and_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let mut tmp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        tmp.write_all(b"done").unwrap();
        let target = dir.path().join("out.txt");
        super::persist(tmp, &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn a_file_the_library_wrote_itself_is_in_place_and_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("v.safetensors");
        let (tmp, _partial) = super::aside(&target, ".v.partial-").unwrap();
        let tmp = tmp.into_temp_path();
        let t = candle_core::Tensor::new(&[1f32, 2.0], &candle_core::Device::Cpu).unwrap();
        let tensors = std::collections::HashMap::from([("t".to_string(), t)]);
        candle_core::safetensors::save(&tensors, &tmp).unwrap();
        super::persist_written(tmp, &target).unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o644,
            "safetensors writes its files 0600: {mode:o}"
        );
        let back = candle_core::safetensors::load(&target, &candle_core::Device::Cpu).unwrap();
        assert_eq!(back["t"].to_vec1::<f32>().unwrap(), [1.0, 2.0]);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "nothing but the target is left");
    }

    #[test]
    fn a_file_aside_creates_the_missing_directories_of_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("new/deeper/out.jsonl");
        let (mut tmp, _partial) = super::aside(&target, ".tailor-partial-").unwrap();
        assert_eq!(tmp.path().parent(), target.parent());
        tmp.write_all(b"x").unwrap();
        super::persist(tmp, &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"x");
    }

    #[test]
    fn errors_do_not_name_the_temporary_path() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the target's directory should be: neither creating it nor a file in it
        // can succeed.
        std::fs::write(dir.path().join("blocked"), b"").unwrap();
        let err = super::aside(&dir.path().join("blocked/out.jsonl"), ".tailor-partial-")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("tailor-partial"), "{err}");
        assert!(err.contains("blocked is not a directory"), "{err}");
        let wrapped = tempfile::Builder::new()
            .prefix(".tailor-partial-")
            .tempfile_in(dir.path().join("blocked"))
            .unwrap_err();
        assert!(wrapped.to_string().contains("tailor-partial"), "{wrapped}");
        let plain = super::plain(wrapped);
        assert!(!plain.to_string().contains("tailor-partial"), "{plain}");
        assert!(plain.to_string().contains("os error"), "{plain}");
    }
}
