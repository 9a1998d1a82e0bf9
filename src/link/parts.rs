//! A run's output as a directory of numbered parts plus a progress manifest, so a killed run
//! resumes where it stopped and N shard workers can share one directory.
//!
//! A part holds the next `part_docs` documents of the (sharded) stream and is written aside and
//! renamed into place only when complete; the manifest, rewritten the same way after each part,
//! lists the committed parts with their counts. Resuming skips exactly the documents of the
//! committed parts, so part boundaries, and hence the files, are those of an uninterrupted run.
//! Files are `part-00000.parquet` (or `shard00003-of00016-part-00000.parquet` for a shard) and
//! `_progress.json` (`_shard00003-of00016-progress.json`): Spark, pyarrow and DuckDB read the
//! directory as one dataset and skip the `_` and `.` files. Which files in a directory are a
//! run's, and what else refuses it, is [`super::run_dir`]'s.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::LinkError;
use super::linker::LinkedDocument;
use super::output::AnnotationWriter;
use super::run_dir::{part_of, refuse_foreign_files, refuse_other_layout, refuse_unrecorded_parts};
use super::stream::Shard;
use super::Sink;

/// 2: each input is recorded with its content hash, not by size alone.
const MANIFEST_VERSION: u32 = 2;

/// Documents per part unless told otherwise.
pub const DEFAULT_PART_DOCS: u64 = 10_000;

/// One input file of a run as it was read: an edit that keeps the size changes the hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub bytes: u64,
    /// SHA-256 of the file as stored (compressed, if it is); empty in a manifest of version 1,
    /// which recorded `[path, bytes]` only.
    #[serde(default)]
    pub sha256: String,
}

impl std::fmt::Display for InputRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes)", self.path, self.bytes)
    }
}

/// What a run is, for checking that a resumed run is the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// Each input with its size and content hash, in stream order.
    pub inputs: Vec<InputRecord>,
    pub shard: Shard,
    pub part_docs: u64,
    /// `parquet` or `jsonl`.
    pub format: String,
    /// The linking settings that change the output (scorer, thresholds, candidates).
    pub settings: String,
}

/// One committed part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartRecord {
    pub file: String,
    pub documents: u64,
    pub failed: u64,
    pub mentions: u64,
    pub linked: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    pub run: RunIdentity,
    pub parts: Vec<PartRecord>,
    /// True once the stream was read to its end and the last part committed.
    pub complete: bool,
}

impl Progress {
    pub fn documents(&self) -> u64 {
        self.parts.iter().map(|p| p.documents).sum()
    }

    pub fn failed(&self) -> u64 {
        self.parts.iter().map(|p| p.failed).sum()
    }
}

/// The file names of one worker's parts and manifest.
fn prefix(shard: Shard) -> String {
    if shard.is_all() {
        String::new()
    } else {
        format!("shard{:05}-of{:05}-", shard.index, shard.count)
    }
}

/// Writes documents into parts, committing each part and the manifest as it fills.
pub struct PartsWriter {
    dir: PathBuf,
    prefix: String,
    manifest: PathBuf,
    progress: Progress,
    current: Option<(AnnotationWriter, PartRecord)>,
}

impl PartsWriter {
    /// Opens `dir` for `run`. Without `resume`, a manifest already there is an error (finished
    /// work is never overwritten by accident); with it, the run must be the same and continues
    /// after its committed parts. Stale files of this worker (an uncommitted part, parts past
    /// the manifest) are removed, but only when its manifest says the directory is a run of
    /// tailor's: without one, a file named like one of its parts is refused, not removed.
    /// A directory that holds parts of another shard layout is refused before anything is
    /// written: its workers would split the corpus differently and a merge would repeat
    /// documents.
    /// So is a directory that holds files tailor does not write there (another tool's output,
    /// a user's documents): stale parts are removed by name, and those names could be theirs.
    pub fn open(dir: &Path, run: RunIdentity, resume: bool) -> Result<Self, LinkError> {
        if dir.is_dir() {
            refuse_foreign_files(dir)?;
            refuse_other_layout(dir, run.shard)?;
        }
        std::fs::create_dir_all(dir).map_err(|e| LinkError::io(dir, e))?;
        let prefix = prefix(run.shard);
        let manifest = dir.join(format!("_{prefix}progress.json"));
        let progress = match std::fs::read(&manifest) {
            Ok(bytes) if resume => {
                let old: Progress =
                    serde_json::from_slice(&bytes).map_err(|e| LinkError::BadInput {
                        path: manifest.clone(),
                        message: format!("unreadable progress manifest: {e}"),
                    })?;
                if old.version != MANIFEST_VERSION || old.run != run {
                    return Err(LinkError::BadInput {
                        path: manifest,
                        message: format!(
                            "--resume: this run differs from the run that wrote this directory: \
                             {}",
                            differences(&old, &run).join("; ")
                        ),
                    });
                }
                old
            }
            Ok(_) => {
                return Err(LinkError::BadInput {
                    path: manifest,
                    message: "the output directory holds a run already: pass --resume to \
                              continue it, or remove it"
                        .into(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                refuse_unrecorded_parts(dir, &prefix)?;
                Progress {
                    version: MANIFEST_VERSION,
                    run,
                    parts: Vec::new(),
                    complete: false,
                }
            }
            Err(e) => return Err(LinkError::io(&manifest, e)),
        };
        let writer = PartsWriter {
            dir: dir.to_path_buf(),
            prefix,
            manifest,
            progress,
            current: None,
        };
        writer.remove_stale()?;
        Ok(writer)
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    fn part_name(&self, n: usize) -> String {
        format!("{}part-{n:05}.{}", self.prefix, self.progress.run.format)
    }

    fn tmp_prefix(&self) -> String {
        format!(".{}partial-", self.prefix)
    }

    fn remove_stale(&self) -> Result<(), LinkError> {
        let committed: Vec<&str> = self
            .progress
            .parts
            .iter()
            .map(|p| p.file.as_str())
            .collect();
        let tmp = self.tmp_prefix();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| LinkError::io(&self.dir, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = name.starts_with(&tmp)
                || (part_of(&name).is_some_and(|prefix| prefix == self.prefix)
                    && !committed.contains(&name.as_str()));
            if ours {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|e| LinkError::io(&path, e))?;
            }
        }
        Ok(())
    }

    fn commit_current(&mut self) -> Result<(), LinkError> {
        if let Some((writer, record)) = self.current.take() {
            writer.finish()?;
            self.progress.parts.push(record);
            self.write_manifest()?;
        }
        Ok(())
    }

    fn write_manifest(&self) -> Result<(), LinkError> {
        let json = serde_json::to_vec_pretty(&self.progress).expect("manifest serializes");
        let io = |e| LinkError::io(&self.manifest, e);
        let (tmp, _partial) =
            crate::persist::aside(&self.manifest, &self.tmp_prefix()).map_err(io)?;
        std::fs::write(tmp.path(), json).map_err(io)?;
        crate::persist::persist(tmp, &self.manifest).map_err(io)
    }

    /// Commits the last part (also when the stream was empty, so a finished run is marked).
    pub fn finish(mut self) -> Result<Progress, LinkError> {
        self.commit_current()?;
        self.progress.complete = true;
        self.write_manifest()?;
        Ok(self.progress)
    }
}

impl Sink for PartsWriter {
    fn write(&mut self, doc: &LinkedDocument) -> Result<(), LinkError> {
        if self.current.is_none() {
            let file = self.part_name(self.progress.parts.len());
            let writer = AnnotationWriter::create_with(&self.dir.join(&file), &self.tmp_prefix())?;
            let record = PartRecord {
                file,
                ..PartRecord::default()
            };
            self.current = Some((writer, record));
        }
        let (writer, record) = self.current.as_mut().expect("opened above");
        writer.write(doc)?;
        record.documents += 1;
        record.failed += u64::from(doc.error.is_some());
        record.mentions += doc.mentions.len() as u64;
        record.linked += doc.mentions.iter().filter(|m| m.entity.is_some()).count() as u64;
        if record.documents >= self.progress.run.part_docs {
            self.commit_current()?;
        }
        Ok(())
    }
}

/// What differs between the run recorded in `old` and `new`, a phrase per field with the old
/// and the new value, so a refused --resume says what to put back.
fn differences(old: &Progress, new: &RunIdentity) -> Vec<String> {
    let mut said = Vec::new();
    if old.version != MANIFEST_VERSION {
        said.push(format!(
            "the manifest is version {}, this tailor writes version {MANIFEST_VERSION}",
            old.version
        ));
    }
    let (was, now) = (&old.run, new);
    if was.inputs.len() != now.inputs.len() {
        let list =
            |inputs: &[InputRecord]| inputs.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        said.push(format!(
            "the inputs were {} files {:?}, now {} files {:?}",
            was.inputs.len(),
            list(&was.inputs),
            now.inputs.len(),
            list(&now.inputs)
        ));
    } else {
        for (i, (a, b)) in was.inputs.iter().zip(&now.inputs).enumerate() {
            if a.path != b.path || a.bytes != b.bytes {
                said.push(format!("input {} was {a}, now {b}", i + 1));
            } else if a.sha256.is_empty() {
                said.push(format!(
                    "input {}, {}, has no content hash in the manifest, so an edit to it cannot \
                     be ruled out",
                    i + 1,
                    a.path
                ));
            } else if a.sha256 != b.sha256 {
                said.push(format!(
                    "input {}, {}, was edited since: its size is the same ({} bytes) but its \
                     SHA-256 was {}, now {}",
                    i + 1,
                    a.path,
                    a.bytes,
                    a.sha256,
                    b.sha256
                ));
            }
        }
    }
    let shard = |s: Shard| format!("{}/{}", s.index, s.count);
    if was.shard != now.shard {
        said.push(format!(
            "--shard was {}, now {}",
            shard(was.shard),
            shard(now.shard)
        ));
    }
    if was.part_docs != now.part_docs {
        said.push(format!(
            "--part-docs was {}, now {}",
            was.part_docs, now.part_docs
        ));
    }
    if was.format != now.format {
        said.push(format!("--format was {}, now {}", was.format, now.format));
    }
    if was.settings != now.settings {
        said.push(settings_differences(&was.settings, &now.settings));
    }
    said
}

/// The `key=value` settings that differ, or both strings whole when they do not line up key by
/// key (a path with a space in it, a setting added by a newer tailor).
fn settings_differences(was: &str, now: &str) -> String {
    let key = |t: &str| t.split_once('=').map(|(k, _)| k.to_string());
    let (a, b): (Vec<&str>, Vec<&str>) = (
        was.split_whitespace().collect(),
        now.split_whitespace().collect(),
    );
    let aligned = a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| key(x).is_some() && key(x) == key(y));
    if aligned {
        let changed: Vec<String> = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| {
                let (k, old) = x.split_once('=').unwrap_or_default();
                let new = y.split_once('=').map(|(_, v)| v).unwrap_or_default();
                format!("{k} was {old}, now {new}")
            })
            .collect();
        if !changed.is_empty() {
            return format!("the settings differ: {}", changed.join(", "));
        }
    }
    format!("the settings were \"{was}\", now \"{now}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, bytes: u64, sha256: &str) -> InputRecord {
        InputRecord {
            path: path.into(),
            bytes,
            sha256: sha256.into(),
        }
    }

    fn identity() -> RunIdentity {
        RunIdentity {
            inputs: vec![input("a.jsonl", 100, "aa"), input("b.jsonl", 200, "bb")],
            shard: Shard::ALL,
            part_docs: 10,
            format: "jsonl".into(),
            settings: "kb=kb/default scorer=prior nil_threshold=0 top_k=30".into(),
        }
    }

    #[test]
    fn a_refused_resume_names_what_differs_with_both_values() {
        let dir = tempfile::tempdir().unwrap();
        let written = PartsWriter::open(dir.path(), identity(), false).unwrap();
        written.finish().unwrap();
        let mut run = identity();
        run.inputs[1].bytes = 250;
        run.part_docs = 20;
        run.settings = run.settings.replace("nil_threshold=0", "nil_threshold=0.5");
        let err = PartsWriter::open(dir.path(), run.clone(), true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(
                "--resume: this run differs from the run that wrote this directory: input 2 \
                 was b.jsonl (200 bytes), now b.jsonl (250 bytes); --part-docs was 10, now 20; \
                 the settings differ: nil_threshold was 0, now 0.5"
            ),
            "{err}"
        );
        run = identity();
        run.inputs.pop();
        run.format = "parquet".into();
        run.settings = "kb=other kb scorer=prior nil_threshold=0 top_k=30".into();
        let err = PartsWriter::open(dir.path(), run, true)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("the inputs were 2 files"), "{err}");
        assert!(
            err.contains("now 1 files [\"a.jsonl (100 bytes)\"]"),
            "{err}"
        );
        assert!(err.contains("--format was jsonl, now parquet"), "{err}");
        assert!(
            err.contains(
                "the settings were \"kb=kb/default scorer=prior nil_threshold=0 \
                          top_k=30\", now \"kb=other kb scorer"
            ),
            "{err}"
        );
        assert!(PartsWriter::open(dir.path(), identity(), true).is_ok());
    }

    #[test]
    fn an_input_edited_to_the_same_size_is_named() {
        let dir = tempfile::tempdir().unwrap();
        PartsWriter::open(dir.path(), identity(), false)
            .unwrap()
            .finish()
            .unwrap();
        let mut run = identity();
        run.inputs[0].sha256 = "cc".into();
        let err = PartsWriter::open(dir.path(), run, true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(
                "this run differs from the run that wrote this directory: input 1, a.jsonl, was \
                 edited since: its size is the same (100 bytes) but its SHA-256 was aa, now cc"
            ),
            "{err}"
        );
        assert!(PartsWriter::open(dir.path(), identity(), true).is_ok());
    }

    #[test]
    fn a_manifest_of_inputs_by_size_only_is_not_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let mut v1 = serde_json::to_value(Progress {
            version: 1,
            run: identity(),
            parts: Vec::new(),
            complete: false,
        })
        .unwrap();
        v1["run"]["inputs"] = serde_json::json!([["a.jsonl", 100], ["b.jsonl", 200]]);
        std::fs::write(dir.path().join("_progress.json"), v1.to_string()).unwrap();
        let err = PartsWriter::open(dir.path(), identity(), true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("the manifest is version 1, this tailor writes version 2")
                && err.contains("input 1, a.jsonl, has no content hash in the manifest"),
            "{err}"
        );
    }

    #[test]
    fn files_named_like_parts_without_a_manifest_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("part-00003.jsonl");
        std::fs::write(&mine, "{\"id\":\"mine\"}").unwrap();
        for resume in [false, true] {
            let err = PartsWriter::open(dir.path(), identity(), resume)
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.contains(
                    "holds part-00003.jsonl but no progress manifest (_progress.json): it is not \
                     a run tailor can resume; move it or name another directory"
                ),
                "{err}"
            );
            assert_eq!(std::fs::read_to_string(&mine).unwrap(), "{\"id\":\"mine\"}");
        }
        // another worker's parts are not this worker's to judge; its own, in any format, are
        let mut shard = identity();
        shard.shard = Shard::parse("1/2").unwrap();
        std::fs::remove_file(&mine).unwrap();
        std::fs::write(dir.path().join("shard00000-of00002-part-00000.jsonl"), "").unwrap();
        assert!(PartsWriter::open(dir.path(), shard.clone(), false).is_ok());
        std::fs::write(
            dir.path().join("shard00001-of00002-part-00000.parquet"),
            "x",
        )
        .unwrap();
        let err = PartsWriter::open(dir.path(), shard, false)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("shard00001-of00002-part-00000.parquet but no progress manifest"),
            "{err}"
        );
        assert!(dir
            .path()
            .join("shard00001-of00002-part-00000.parquet")
            .exists());
    }

    #[test]
    fn with_a_manifest_stale_parts_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        PartsWriter::open(dir.path(), identity(), false)
            .unwrap()
            .finish()
            .unwrap();
        let stale = dir.path().join("part-00004.jsonl");
        std::fs::write(&stale, "").unwrap();
        PartsWriter::open(dir.path(), identity(), true).unwrap();
        assert!(!stale.exists());
    }
}
