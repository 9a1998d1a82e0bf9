//! Writing the training data: one row per mention in Parquet (zstd) or JSONL, chosen by the
//! output's extension, with the held-out split, the entity occurrence counts and the run's
//! statistics beside it:
//!
//! - `weak.parquet`: the training split; `weak.holdout.parquet`: the held-out split;
//! - `weak.entity_counts.json`: `{entity id: gold occurrences in the training split}`, which
//!   define the popularity slices;
//! - `weak.stats.json`: counts per source and rule, ambiguity and slice figures.
//!
//! Every file is written to a temporary file beside its target and renamed into place.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float32Builder, ListBuilder, RecordBatch, StringBuilder,
    UInt32Builder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tempfile::NamedTempFile;

use crate::interrupt::Partial;
use crate::kb::Kb;

use super::error::WeakError;
use super::example::{labelled_by, WeakExample};

/// Rows per Parquet row group.
const ROWS_PER_GROUP: usize = 32 * 1024;

/// A row as written, with entity ids rather than KB indexes so the data outlives a KB rebuild.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutputRow {
    pub sentence_id: u64,
    pub doc: String,
    pub source: String,
    pub rule: String,
    /// `description`, `triple`, `extract-unambiguous`, `extract-kg`, …
    pub labelled_by: String,
    pub text: String,
    /// Code points into `text`, `[start, end)`.
    pub start: u32,
    pub end: u32,
    pub surface: String,
    pub gold: String,
    pub gold_label: Option<String>,
    /// Candidate entity ids, best prior first, and their priors.
    pub candidates: Vec<String>,
    pub priors: Vec<f32>,
    /// Position of the gold among the candidates (0: the prior's choice).
    pub gold_rank: u32,
    pub masked: bool,
}

impl OutputRow {
    pub fn new(kb: &Kb, ex: &WeakExample) -> Self {
        let gold = kb.entity(ex.gold);
        OutputRow {
            sentence_id: ex.sentence_id,
            doc: ex.doc.clone(),
            source: ex.source.as_str().into(),
            rule: ex.rule.as_str().into(),
            labelled_by: labelled_by(ex.source, ex.rule),
            text: ex.text.clone(),
            start: ex.start as u32,
            end: ex.end as u32,
            surface: ex.surface.clone(),
            gold: gold.id.clone(),
            gold_label: gold.label.clone(),
            candidates: ex
                .candidates
                .iter()
                .map(|c| kb.entity(c.entity).id.clone())
                .collect(),
            priors: ex.candidates.iter().map(|c| c.prior).collect(),
            gold_rank: ex.gold_rank() as u32,
            masked: ex.masked,
        }
    }
}

/// `dir/weak.parquet` with `tag` → `dir/weak.<tag>.parquet`; `ext` replaces the extension
/// when given.
pub fn sibling(out: &Path, tag: &str, ext: Option<&str>) -> PathBuf {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("weak");
    let ext = ext
        .map(str::to_string)
        .or_else(|| out.extension().map(|e| e.to_string_lossy().into_owned()))
        .unwrap_or_default();
    out.with_file_name(format!("{stem}.{tag}.{ext}"))
}

/// A temporary file in the target's directory.
fn temp_beside(target: &Path) -> Result<(NamedTempFile, Partial), WeakError> {
    crate::persist::aside(target, ".tailor-partial-").map_err(|e| WeakError::io(target, e))
}

fn persist(tmp: NamedTempFile, target: &Path) -> Result<(), WeakError> {
    crate::persist::persist(tmp, target).map_err(|e| WeakError::io(target, e))
}

/// Writes `rows` to `target` as Parquet or JSONL by its extension.
pub fn write_rows(target: &Path, rows: &[OutputRow]) -> Result<(), WeakError> {
    let name = target.to_string_lossy();
    if name.ends_with(".parquet") {
        write_parquet(target, rows)
    } else if name.ends_with(".jsonl") || name.ends_with(".json") {
        let (tmp, _partial) = temp_beside(target)?;
        let mut out = BufWriter::new(tmp);
        for row in rows {
            serde_json::to_writer(&mut out, row).map_err(|source| WeakError::Json {
                path: target.into(),
                source,
            })?;
            out.write_all(b"\n").map_err(|e| WeakError::io(target, e))?;
        }
        let tmp = out
            .into_inner()
            .map_err(|e| WeakError::io(target, e.into_error()))?;
        persist(tmp, target)
    } else {
        Err(WeakError::UnknownFormat {
            path: target.into(),
        })
    }
}

/// Writes any serializable value as pretty JSON.
pub fn write_json<T: serde::Serialize>(target: &Path, value: &T) -> Result<(), WeakError> {
    let (tmp, _partial) = temp_beside(target)?;
    let mut out = BufWriter::new(tmp);
    serde_json::to_writer_pretty(&mut out, value).map_err(|source| WeakError::Json {
        path: target.into(),
        source,
    })?;
    let tmp = out
        .into_inner()
        .map_err(|e| WeakError::io(target, e.into_error()))?;
    persist(tmp, target)
}

fn schema() -> Arc<Schema> {
    let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        Field::new("sentence_id", DataType::UInt64, false),
        utf8("doc"),
        utf8("source"),
        utf8("rule"),
        utf8("labelled_by"),
        utf8("text"),
        Field::new("start", DataType::UInt32, false),
        Field::new("end", DataType::UInt32, false),
        utf8("surface"),
        utf8("gold"),
        Field::new("gold_label", DataType::Utf8, true),
        Field::new("candidates", list(DataType::Utf8), false),
        Field::new("priors", list(DataType::Float32), false),
        Field::new("gold_rank", DataType::UInt32, false),
        Field::new("masked", DataType::Boolean, false),
    ]))
}

fn write_parquet(target: &Path, rows: &[OutputRow]) -> Result<(), WeakError> {
    let parquet_err = |source| WeakError::Parquet {
        path: target.into(),
        source,
    };
    let (tmp, _partial) = temp_beside(target)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .build();
    let mut writer = ArrowWriter::try_new(tmp, schema(), Some(props)).map_err(parquet_err)?;
    for chunk in rows.chunks(ROWS_PER_GROUP) {
        let batch =
            RecordBatch::try_new(schema(), columns(chunk)).map_err(|source| WeakError::Arrow {
                path: target.into(),
                source,
            })?;
        writer.write(&batch).map_err(parquet_err)?;
    }
    let tmp = writer.into_inner().map_err(parquet_err)?;
    persist(tmp, target)
}

fn columns(rows: &[OutputRow]) -> Vec<ArrayRef> {
    let strings = |f: fn(&OutputRow) -> &str| -> ArrayRef {
        let mut b = StringBuilder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let u32s = |f: fn(&OutputRow) -> u32| -> ArrayRef {
        let mut b = UInt32Builder::new();
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let mut sentence_id = UInt64Builder::new();
    let mut gold_label = StringBuilder::new();
    let mut candidates = ListBuilder::new(StringBuilder::new());
    let mut priors = ListBuilder::new(Float32Builder::new());
    let mut masked = BooleanBuilder::new();
    for r in rows {
        sentence_id.append_value(r.sentence_id);
        gold_label.append_option(r.gold_label.as_deref());
        r.candidates
            .iter()
            .for_each(|c| candidates.values().append_value(c));
        candidates.append(true);
        r.priors
            .iter()
            .for_each(|&p| priors.values().append_value(p));
        priors.append(true);
        masked.append_value(r.masked);
    }
    vec![
        Arc::new(sentence_id.finish()),
        strings(|r| &r.doc),
        strings(|r| &r.source),
        strings(|r| &r.rule),
        strings(|r| &r.labelled_by),
        strings(|r| &r.text),
        u32s(|r| r.start),
        u32s(|r| r.end),
        strings(|r| &r.surface),
        strings(|r| &r.gold),
        Arc::new(gold_label.finish()),
        Arc::new(candidates.finish()),
        Arc::new(priors.finish()),
        u32s(|r| r.gold_rank),
        Arc::new(masked.finish()),
    ]
}
