//! Writing the per-mention records of a run as JSONL, one line per scored gold mention with
//! every system's prediction, for slicing and reports outside tailor. Written aside and renamed
//! into place, so a reader never finds a half-written file.

use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::error::EvalError;
use super::evaluate::{BenchmarkResult, MentionRecord, Prediction};

#[derive(Serialize)]
struct Line<'a> {
    benchmark: &'a str,
    #[serde(flatten)]
    mention: &'a MentionRecord,
    /// System name → its prediction.
    predictions: Vec<(&'a str, &'a Prediction)>,
}

/// Writes the gold-mention records of every benchmark to `path`.
pub fn write_records(path: &Path, results: &[BenchmarkResult]) -> Result<(), EvalError> {
    let io = |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".tailor-partial-")
        .tempfile_in(dir)
        .map_err(io)?;
    let _partial = crate::interrupt::Partial::track(tmp.path());
    let mut out = BufWriter::new(tmp);
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
    crate::persist::persist(tmp, path).map_err(io)
}
