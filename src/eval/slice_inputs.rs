//! Reading what slices are cut by: a model's training counts, the KB's degrees, the coarse type
//! list and a benchmark's mention tags.
//!
//! In: files as the model directory and the ELEVANT distribution lay them out. Out: the parts of
//! a [`SliceInputs`]. A missing statistics file is no error (NIF benchmarks have none); a
//! malformed one is, naming file, line and field.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::EvalError;
use crate::kb::Kb;

/// The coarse type list the repository reads by default, relative to the repository root.
pub const DEFAULT_TYPES_FILE: &str = "../shared/data/eval/elevant/types/whitelist_types.tsv";

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A model's `entity_counts.json`: `{entity id: training occurrences}`.
pub fn read_counts(path: &Path) -> Result<HashMap<String, u64>, EvalError> {
    serde_json::from_str(&read(path)?).map_err(|e| {
        EvalError::bad(
            path,
            format!("line {}", e.line()),
            "entity count",
            e.to_string(),
        )
    })
}

/// Entity id → number of triples it is the head or tail of.
pub fn kb_degrees(kb: &Kb) -> HashMap<String, u64> {
    let mut degree = vec![0u64; kb.entities.len()];
    for t in &kb.triples {
        degree[t.head as usize] += 1;
        degree[t.tail as usize] += 1;
    }
    kb.entities
        .iter()
        .zip(degree)
        .map(|(e, d)| (e.id.clone(), d))
        .collect()
}

/// A `type id<TAB>name` list such as ELEVANT's `whitelist_types.tsv`, as type id → name.
pub fn read_coarse_types(path: &Path) -> Result<HashMap<String, String>, EvalError> {
    let text = read(path)?;
    let mut types = HashMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (id, name) = line.split_once('\t').ok_or_else(|| {
            EvalError::bad(
                path,
                format!("line {}", n + 1),
                "name",
                "expected `ID<TAB>name`",
            )
        })?;
        types.insert(id.trim().to_string(), name.trim().to_string());
    }
    Ok(types)
}

/// The statistics file ELEVANT puts beside `NAME.benchmark.jsonl`.
pub fn statistics_path(gold: &Path) -> Option<PathBuf> {
    let name = gold.file_name()?.to_str()?;
    let stem = name.strip_suffix(".benchmark.jsonl")?;
    Some(gold.with_file_name(format!("{stem}.benchmark_statistics.jsonl")))
}

#[derive(Deserialize)]
struct TaggedMention {
    groundtruth_label: LabelRef,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct LabelRef {
    id: u64,
}

/// The mention tags of a benchmark, as `(document index, label id)` → tags. The file's first
/// line is a summary; line `d + 2` lists document `d`'s mentions. Empty when there is no file.
pub fn read_tags(gold: &Path) -> Result<HashMap<(usize, u64), Vec<String>>, EvalError> {
    let Some(path) = statistics_path(gold).filter(|p| p.exists()) else {
        return Ok(HashMap::new());
    };
    let text = read(&path)?;
    let mut tags = HashMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let mentions: Vec<TaggedMention> = serde_json::from_str(line).map_err(|e| {
            EvalError::bad(
                &path,
                format!("line {}", n + 1),
                "groundtruth_label",
                e.to_string(),
            )
        })?;
        for m in mentions {
            tags.insert((n - 1, m.groundtruth_label.id), m.tags);
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kore50_tags_are_keyed_by_document_and_label() {
        let gold = Path::new("../shared/data/eval/elevant/kore50.benchmark.jsonl");
        let tags = read_tags(gold).unwrap();
        // Document 0, label 0 is "Steve" (Steve Jobs): a partial name.
        assert!(tags[&(0, 0)].contains(&"PARTIAL_NAME".to_string()));
        assert_eq!(tags.len(), 144);
        let types = read_coarse_types(Path::new(DEFAULT_TYPES_FILE)).unwrap();
        assert_eq!(types["Q215627"], "Person");
        assert_eq!(types.len(), 31);
    }

    #[test]
    fn a_bad_statistics_line_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let gold = dir.path().join("x.benchmark.jsonl");
        std::fs::write(
            dir.path().join("x.benchmark_statistics.jsonl"),
            "{}\n[{\"tags\": 3}]\n",
        )
        .unwrap();
        let err = read_tags(&gold).unwrap_err().to_string();
        assert!(
            err.contains("x.benchmark_statistics.jsonl: line 2"),
            "{err}"
        );
    }
}
