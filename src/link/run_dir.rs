//! What a link output directory holds and who wrote it: the names of workers' parts and
//! progress manifests, the refusals of a directory holding anything else (another tool's
//! dataset, a user's files, parts no manifest records, another shard layout), and, for a
//! merge, the committed parts of every worker.

use std::path::{Path, PathBuf};

use super::error::LinkError;
use super::parts::Progress;
use super::stream::Shard;

/// The worker prefix (`""` or `shard00003-of00016-`) of a part file name tailor writes
/// (`part-00000.jsonl`, `shard00003-of00016-part-00012.parquet`), `None` for any other name.
pub(super) fn part_of(name: &str) -> Option<&str> {
    let at = name.find("part-")?;
    let (prefix, part) = name.split_at(at);
    let (number, format) = part["part-".len()..].split_once('.')?;
    let digits = |s: &str, n: usize| s.len() >= n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(number, 5) || !["jsonl", "parquet"].contains(&format) {
        return None;
    }
    worker_prefix(prefix).then_some(prefix)
}

/// True for `""` and `shardIIIII-ofNNNNN-`, the prefixes of one worker's files.
fn worker_prefix(prefix: &str) -> bool {
    let Some(rest) = prefix.strip_prefix("shard") else {
        return prefix.is_empty();
    };
    let Some((index, rest)) = rest.split_once("-of") else {
        return false;
    };
    let digits = |s: &str| s.len() >= 5 && s.bytes().all(|b| b.is_ascii_digit());
    rest.strip_suffix('-').is_some_and(digits) && digits(index)
}

/// True for the name of a worker's progress manifest: `_progress.json`,
/// `_shard00003-of00016-progress.json`.
fn manifest_name(name: &str) -> bool {
    name.strip_prefix('_')
        .and_then(|n| n.strip_suffix("progress.json"))
        .is_some_and(worker_prefix)
}

/// The first progress manifest of a `tailor link` run found in `dir` or a directory above it,
/// by name, if any: a file written there becomes part of that run's dataset.
pub fn run_holding(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    absolute.ancestors().skip(1).find_map(|dir| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter(|e| manifest_name(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        found.sort();
        found.into_iter().next()
    })
}

/// Refuses a file written inside the output directory of a `tailor link` run (or below one): a
/// reader of that directory as one dataset would count its rows beside the parts'.
pub fn refuse_inside_run(out: &Path) -> Result<(), LinkError> {
    match run_holding(out) {
        None => Ok(()),
        Some(manifest) => Err(LinkError::BadInput {
            path: out.to_path_buf(),
            message: format!(
                "the file would lie inside the output directory of a `tailor link` run ({}), \
                 where a dataset reader would count every row twice: write it outside that \
                 directory",
                manifest.display()
            ),
        }),
    }
}

/// True for a file name a `tailor link` worker writes into its output directory: a part, a
/// progress manifest, or a hidden file (its parts being written, and whatever a file browser
/// leaves, which dataset readers skip too).
fn written_by_link(name: &str) -> bool {
    name.starts_with('.') || part_of(name).is_some() || manifest_name(name)
}

/// Refuses, for a worker with no manifest in `dir`, a file named like one of its parts: nothing
/// shows that tailor wrote it (a user's `part-00003.jsonl`, another run's manifest removed), so
/// removing it as stale, or writing a part over it, could destroy someone's data.
pub(super) fn refuse_unrecorded_parts(dir: &Path, worker: &str) -> Result<(), LinkError> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| LinkError::io(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| part_of(name) == Some(worker))
        .collect();
    found.sort();
    let Some(first) = found.first() else {
        return Ok(());
    };
    Err(LinkError::BadInput {
        path: dir.to_path_buf(),
        message: format!(
            "the output directory holds {first}{} but no progress manifest{}: it is not a run \
             tailor can resume; move it or name another directory",
            if found.len() > 1 {
                format!(" (and {} more parts)", found.len() - 1)
            } else {
                String::new()
            },
            if worker.is_empty() {
                " (_progress.json)".to_string()
            } else {
                format!(" (_{worker}progress.json)")
            }
        ),
    })
}

/// Refuses an output directory holding files `tailor link` does not write, naming one.
pub(super) fn refuse_foreign_files(dir: &Path) -> Result<(), LinkError> {
    let mut foreign: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| LinkError::io(dir, e))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !written_by_link(name))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    Err(LinkError::BadInput {
        path: dir.to_path_buf(),
        message: format!(
            "the output directory holds {} that `tailor link` did not write (\"{}\"{}): write \
             into a new or empty directory, or one of tailor's own runs",
            if foreign.len() == 1 {
                "a file"
            } else {
                "files"
            },
            foreign[0],
            if foreign.len() > 1 {
                format!(" and {} more", foreign.len() - 1)
            } else {
                String::new()
            }
        ),
    })
}

/// Inputs as `path (N bytes, sha256 H)`, to show two workers' inputs side by side.
fn described(inputs: &[super::parts::InputRecord]) -> Vec<String> {
    inputs
        .iter()
        .map(|r| format!("{} ({} bytes, sha256 {})", r.path, r.bytes, r.sha256))
        .collect()
}

/// Every worker's manifest in `dir`, read, in file name (so shard) order.
fn manifests(dir: &Path) -> Result<Vec<(PathBuf, Progress)>, LinkError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| LinkError::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with('_') && name.ends_with("progress.json")
        })
        .collect();
    paths.sort();
    let mut read = Vec::with_capacity(paths.len());
    for manifest in paths {
        let bytes = std::fs::read(&manifest).map_err(|e| LinkError::io(&manifest, e))?;
        let progress: Progress =
            serde_json::from_slice(&bytes).map_err(|e| LinkError::BadInput {
                path: manifest.clone(),
                message: format!("unreadable progress manifest: {e}"),
            })?;
        read.push((manifest, progress));
    }
    Ok(read)
}

/// How a layout reads in a message.
fn layout(count: u32) -> String {
    if count == 1 {
        "unsharded".into()
    } else {
        format!("split into {count} shards")
    }
}

/// Refuses `dir` when a manifest there comes from a run split into another number of shards.
pub(super) fn refuse_other_layout(dir: &Path, shard: Shard) -> Result<(), LinkError> {
    for (manifest, progress) in manifests(dir)? {
        let count = progress.run.shard.count;
        if count != shard.count {
            return Err(LinkError::BadInput {
                path: dir.to_path_buf(),
                message: format!(
                    "the directory holds a run {} ({}); this run is {}, which splits the \
                     documents differently, so a merge would repeat some: write it into another \
                     directory",
                    layout(count),
                    manifest.file_name().unwrap_or_default().to_string_lossy(),
                    layout(shard.count)
                ),
            });
        }
    }
    Ok(())
}

/// The committed part files of every worker's manifest in `dir`, in shard then part order.
/// A directory whose workers are unfinished, or split the corpus in different ways, is refused:
/// its parts would miss or repeat documents.
pub fn committed_parts(dir: &Path) -> Result<Vec<PathBuf>, LinkError> {
    let manifests = manifests(dir)?;
    let Some((first, first_progress)) = manifests.first() else {
        return Err(LinkError::BadInput {
            path: dir.to_path_buf(),
            message: "no progress manifest: not an output directory of `tailor link`".into(),
        });
    };
    let count = first_progress.run.shard.count;
    let mut parts = Vec::new();
    for (manifest, progress) in &manifests {
        let name = |p: &Path| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        if progress.run.shard.count != count {
            return Err(LinkError::BadInput {
                path: dir.to_path_buf(),
                message: format!(
                    "the parts come from runs of different shard layouts: {} is {}, {} is {}; \
                     merging them would repeat documents",
                    name(first),
                    layout(count),
                    name(manifest),
                    layout(progress.run.shard.count)
                ),
            });
        }
        // workers that linked with other settings, or other inputs, made parts that do not
        // belong to one output
        if progress.run.settings != first_progress.run.settings
            || progress.run.inputs != first_progress.run.inputs
        {
            return Err(LinkError::BadInput {
                path: dir.to_path_buf(),
                message: format!(
                    "the shards were linked differently: {} has inputs {:?} and settings \"{}\", \
                     {} has inputs {:?} and settings \"{}\"; rerun the odd one with the others' \
                     command",
                    name(first),
                    described(&first_progress.run.inputs),
                    first_progress.run.settings,
                    name(manifest),
                    described(&progress.run.inputs),
                    progress.run.settings
                ),
            });
        }
        if !progress.complete {
            return Err(LinkError::BadInput {
                path: manifest.clone(),
                message: format!(
                    "the run that writes {} is not finished ({} documents in {} parts so far): \
                     finish it by running the same `tailor link` command with --resume, then \
                     merge",
                    dir.display(),
                    progress.documents(),
                    progress.parts.len()
                ),
            });
        }
        parts.extend(progress.parts.iter().map(|p| dir.join(&p.file)));
    }
    // A worker killed before its first part, or never started, leaves no manifest at all.
    let present: std::collections::BTreeSet<u32> =
        manifests.iter().map(|(_, p)| p.run.shard.index).collect();
    let missing: Vec<String> = (0..count)
        .filter(|i| !present.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(LinkError::BadInput {
            path: dir.to_path_buf(),
            message: format!(
                "the run is {} but shard {} left no progress manifest here: run it (--shard I/N \
                 with the same --out), then merge; to merge only some shards, name their part \
                 files",
                layout(count),
                missing.join(", ")
            ),
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tailor_part_names_are_parts() {
        assert_eq!(part_of("part-00000.jsonl"), Some(""));
        assert_eq!(part_of("part-123456.parquet"), Some(""));
        assert_eq!(
            part_of("shard00003-of00016-part-00012.parquet"),
            Some("shard00003-of00016-")
        );
        // a Spark job's part, a part of another format, a prefix that names no worker
        for name in [
            "part-00000-8d1c-c000.snappy.parquet",
            "part-00000.csv",
            "part-1.jsonl",
            "old-part-00000.jsonl",
            "shard3-of16-part-00000.jsonl",
        ] {
            assert_eq!(part_of(name), None, "{name}");
        }
    }

    #[test]
    fn manifests_and_hidden_files_are_written_by_link() {
        for name in [
            "_progress.json",
            "_shard00001-of00003-progress.json",
            ".partial-x1y2",
            "shard00001-of00003-part-00000.jsonl",
        ] {
            assert!(written_by_link(name), "{name}");
        }
        for name in [
            "_SUCCESS",
            "notes.txt",
            "_other-progress.json",
            "corpus.jsonl",
        ] {
            assert!(!written_by_link(name), "{name}");
        }
    }
}
