//! Files written aside and renamed into place get the permissions of an ordinary file.
//!
//! Temporary files are created private (0600) so no one reads them half written; once complete,
//! an output, a report or a cache is meant to be read by others too (a shared KB, a cluster's
//! parts), so it is opened to 0644 just before the rename.

use tempfile::NamedTempFile;

/// Makes a finished temporary file readable by everyone, as a file created by `fs::write` is.
pub fn open_up(tmp: &NamedTempFile) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = tmp;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_finished_file_is_readable_by_others() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        super::open_up(&tmp).unwrap();
        let mode = tmp.as_file().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
