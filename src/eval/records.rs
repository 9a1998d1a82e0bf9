//! Writing the per-mention records of a run as JSONL, one line per scored gold mention with
//! every system's prediction, for slicing and reports outside tailor. Written aside and renamed
//! into place, so a reader never finds a half-written file; the file aside is opened before the
//! evaluation, so a destination that cannot be written is found before the work is done.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use super::error::EvalError;
use super::evaluate::{BenchmarkResult, MentionRecord, Prediction};
use crate::interrupt::Partial;

#[derive(Serialize)]
struct Line<'a> {
    benchmark: &'a str,
    #[serde(flatten)]
    mention: &'a MentionRecord,
    /// System name → its prediction.
    predictions: Vec<(&'a str, &'a Prediction)>,
}

/// True when the regular file at `path` holds what an earlier run wrote: nothing, or only
/// records (each line a benchmark, a gold and the systems' predictions). Anything else (a
/// user's file, records with notes added) must not be replaced by `--records`.
pub fn earlier_records(path: &Path) -> std::io::Result<bool> {
    // a FIFO would block the read below
    if !std::fs::metadata(path)?.is_file() {
        return Ok(false);
    }
    // line by line: a user's large file is told apart at its first line
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    Ok(reader.lines().all(|line| {
        // a line that is not UTF-8 is no record either
        line.ok()
            .and_then(|l| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&l).ok()
            })
            .is_some_and(|r| {
                ["benchmark", "gold", "predictions"]
                    .iter()
                    .all(|k| r.contains_key(*k))
            })
    }))
}

/// The records file of a run, open aside from the start, so that a destination that cannot be
/// written fails before the evaluation rather than after it.
pub struct RecordsFile {
    path: PathBuf,
    tmp: NamedTempFile,
    _partial: Partial,
}

impl RecordsFile {
    /// Opens a temporary file beside `path`, creating its missing directories.
    pub fn create(path: &Path) -> Result<Self, EvalError> {
        let (tmp, partial) =
            crate::persist::aside(path, ".tailor-partial-").map_err(|source| EvalError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(RecordsFile {
            path: path.to_path_buf(),
            tmp,
            _partial: partial,
        })
    }

    /// Writes the gold-mention records of every benchmark and renames the file into place.
    pub fn write(self, results: &[BenchmarkResult]) -> Result<(), EvalError> {
        let path = self.path;
        let io = |source| EvalError::Io {
            path: path.clone(),
            source: crate::persist::plain(source),
        };
        let mut out = BufWriter::new(self.tmp);
        for r in results {
            for (i, m) in r.mentions.iter().enumerate() {
                let line = Line {
                    benchmark: &r.name,
                    mention: m,
                    predictions: r
                        .systems
                        .iter()
                        .map(|s| (s.name.as_str(), &s.predictions[i]))
                        .collect(),
                };
                serde_json::to_writer(&mut out, &line).map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)?;
            }
        }
        let tmp = out.into_inner().map_err(|e| io(e.into_error()))?;
        crate::persist::persist(tmp, &path).map_err(io)
    }
}

/// Writes the gold-mention records of every benchmark to `path`.
pub fn write_records(path: &Path, results: &[BenchmarkResult]) -> Result<(), EvalError> {
    RecordsFile::create(path)?.write(results)
}
