//! The last step of writing aside: a finished temporary file is synced, opened to an ordinary
//! file's permissions and renamed onto its target.
//!
//! Temporary files are created private (0600) so no one reads them half written; once complete,
//! an output, a report or a cache is meant to be read by others too (a shared KB, a cluster's
//! parts), so it gets 0644 before the rename.
//!
//! While a temporary path is being written, its writer holds a [`crate::interrupt::Partial`],
//! so a run stopped by a signal removes it instead of leaving it beside the target.

use std::path::Path;

use tempfile::NamedTempFile;

/// Syncs `tmp`, makes it readable by everyone and renames it onto `target`.
pub fn persist(tmp: NamedTempFile, target: &Path) -> std::io::Result<()> {
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// Opens a finished file written by a library (safetensors writes its files private) to an
/// ordinary file's permissions, so a model or cache copied to other users stays readable.
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
}
