//! Content hashes of files and directory trees: names (relative to the hashed root) and bytes,
//! in sorted order, so the same tree gives the same hash wherever it lies. Dot-files and
//! dot-directories inside a tree are left out: they hold caches and partial writes that do not
//! change what a stage computes.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{io, StageError};

/// One hash over all `paths`; a missing path hashes as missing, not as an error, so a stage
/// whose output is gone is simply stale.
pub fn hash_paths(paths: &[impl AsRef<Path>]) -> Result<String, StageError> {
    let mut h = Sha256::new();
    for p in paths {
        let p = p.as_ref();
        h.update(p.to_string_lossy().as_bytes());
        h.update([0]);
        if p.exists() {
            hash_tree(&mut h, p, Path::new(""))?;
        } else {
            h.update(b"<missing>");
        }
    }
    Ok(hex::encode(h.finalize()))
}

fn hash_tree(h: &mut Sha256, path: &Path, relative: &Path) -> Result<(), StageError> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(io(path))?
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.file_name())
            .collect();
        entries.sort();
        for name in entries {
            hash_tree(h, &path.join(&name), &relative.join(&name))?;
        }
        return Ok(());
    }
    h.update(relative.to_string_lossy().as_bytes());
    h.update([0]);
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.update([0xff]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_hashes_by_content_not_by_place_or_caches() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for d in [a.path(), b.path()] {
            std::fs::create_dir(d.join("t")).unwrap();
            std::fs::write(d.join("t/x.txt"), "one").unwrap();
        }
        std::fs::write(b.path().join("t/.cache"), "ignored").unwrap();
        let hash = |d: &Path| {
            let t = d.join("t");
            let inner = hash_tree_only(&t);
            (hash_paths(&[&t]).unwrap(), inner)
        };
        assert_eq!(
            hash(a.path()).1,
            hash(b.path()).1,
            "same tree, caches left out"
        );
        let before = hash(a.path()).1;
        std::fs::write(a.path().join("t/x.txt"), "two").unwrap();
        assert_ne!(hash(a.path()).1, before, "content changes the hash");
    }

    fn hash_tree_only(p: &Path) -> String {
        let mut h = Sha256::new();
        hash_tree(&mut h, p, Path::new("")).unwrap();
        hex::encode(h.finalize())
    }
}
