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

/// What a directory output is made of, so that an earlier one can be told from a directory
/// of anything else before it is replaced.
#[derive(Debug, Clone, Copy)]
pub struct OutputDir {
    /// A file every such output holds (a KB store's `entities.parquet`).
    pub marker: &'static str,
    /// Every name such an output writes at its top level; empty where it varies (a text
    /// encoder's files are the wheel's, which its own manifest lists).
    pub names: &'static [&'static str],
    /// Prefixes of the hidden caches kept inside it (a KB's fuzzy index and candidate texts);
    /// any other hidden file is someone else's.
    pub caches: &'static [&'static str],
    /// Extensions of the files its subdirectories hold (a model's `kg/` and `ablations/`).
    pub nested: &'static [&'static str],
}

/// Refuses to let a new output of `kind` replace `dir` unless `dir` is missing, empty, or an
/// earlier output of the same kind holding nothing but what that kind writes. Outputs replace
/// their directory whole, so `--out ~/Documents`, or a user's notes kept in a KB directory or
/// in a model's `kg/`, would otherwise be deleted.
pub fn check_replaceable(dir: &Path, kind: &OutputDir) -> io::Result<()> {
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
    names.sort();
    if names.is_empty() {
        return Ok(());
    }
    if !names.iter().any(|n| n == kind.marker) {
        return Err(io::Error::other(format!(
            "holds files of something else ({}; no {}), which writing the output here would \
             delete: name a new or empty directory",
            listed(&names),
            kind.marker
        )));
    }
    let mut foreign = Vec::new();
    for name in &names {
        // a kind whose names vary is checked against its own manifest by its writer
        let owned = if kind.names.is_empty() {
            true
        } else if name.starts_with('.') {
            kind.caches.iter().any(|c| name.starts_with(c))
        } else {
            kind.names.contains(&name.as_str())
        };
        let path = dir.join(name);
        if !owned {
            foreign.push(name.clone());
        } else if !kind.names.is_empty() && !name.starts_with('.') && path.is_dir() {
            foreign_nested(&path, name, kind.nested, &mut foreign)?;
        }
    }
    if !foreign.is_empty() {
        return Err(io::Error::other(format!(
            "is an earlier output but also holds {}, which replacing it would delete: move \
             that out first",
            listed(&foreign)
        )));
    }
    Ok(())
}

/// The files under `dir` (shown as `shown/…`) that an output's subdirectory does not hold:
/// hidden ones, and any whose extension is not among `extensions`.
fn foreign_nested(
    dir: &Path,
    shown: &str,
    extensions: &[&str],
    found: &mut Vec<String>,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let shown = format!("{shown}/{name}");
        if name.starts_with('.') {
            found.push(shown);
        } else if path.is_dir() {
            foreign_nested(&path, &shown, extensions, found)?;
        } else {
            let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
            if !ext.is_some_and(|e| extensions.contains(&e.as_str())) {
                found.push(shown);
            }
        }
    }
    Ok(())
}

/// The first of some names, quoted, and how many more there are.
fn listed(names: &[String]) -> String {
    let more = match names.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    format!("\"{}\"{more}", names[0])
}

/// Moves the finished directory `ready` onto `dir`, keeping the old one until the new one is
/// in place. An existing `dir` is replaced only as [`check_replaceable`] allows. On an error
/// `ready` is left where it is, for the caller to remove or to name.
pub fn replace_dir(ready: &Path, dir: &Path, kind: &OutputDir) -> io::Result<()> {
    check_replaceable(dir, kind)?;
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

/// Opens a finished directory and the files in it to everyone (0755 and 0644), as
/// [`readable_by_all`] does a file: a temporary directory is created private, so a cache built
/// in one (the fuzzy index inside a shared KB) would be unreadable to the KB's other users.
pub fn dir_readable_by_all(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dir_readable_by_all(&path)?;
            } else {
                readable_by_all(&path)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
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
    use super::{check_replaceable, OutputDir};

    const KIND: OutputDir = OutputDir {
        marker: "entities.parquet",
        names: &["entities.parquet", "manifest.json", "kg"],
        caches: &[".fuzzy-"],
        nested: &["safetensors"],
    };

    #[test]
    fn only_a_missing_empty_or_same_kind_directory_is_replaceable() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(check_replaceable(&d.join("new"), &KIND).is_ok());
        assert!(check_replaceable(d, &KIND).is_ok(), "empty");
        std::fs::write(d.join("thesis.txt"), "mine").unwrap();
        let err = check_replaceable(d, &KIND).unwrap_err();
        assert!(err.to_string().contains("thesis.txt"), "{err}");
        // the marker alone does not make a directory of notes an earlier output
        std::fs::write(d.join("entities.parquet"), "").unwrap();
        let err = check_replaceable(d, &KIND).unwrap_err();
        assert!(err.to_string().contains("\"thesis.txt\""), "{err}");
        std::fs::remove_file(d.join("thesis.txt")).unwrap();
        std::fs::write(d.join("manifest.json"), "").unwrap();
        std::fs::write(d.join(".fuzzy-cache"), "").unwrap();
        assert!(
            check_replaceable(d, &KIND).is_ok(),
            "its own files and a hidden cache"
        );
        let file = d.join("manifest.json");
        assert!(check_replaceable(&file, &KIND).is_err());
        let any = OutputDir {
            marker: "manifest.json",
            names: &[],
            caches: &[],
            nested: &[],
        };
        std::fs::write(d.join("vocab.txt"), "").unwrap();
        assert!(
            check_replaceable(d, &any).is_ok(),
            "a kind whose files vary"
        );
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_finished_directory_is_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir_in(dir.path()).unwrap();
        std::fs::write(cache.path().join(".managed.json"), "[]").unwrap();
        std::fs::set_permissions(
            cache.path().join(".managed.json"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        super::dir_readable_by_all(cache.path()).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode(cache.path()),
            0o755,
            "a temporary directory is made 0700"
        );
        assert_eq!(mode(&cache.path().join(".managed.json")), 0o644);
    }

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
