//! Annotation writers, chosen by the output's extension.
//!
//! - `.jsonl`: one record per document, `{id, mentions: [...], error?}`.
//! - `.parquet`: one row per mention (`doc_id`, `start`, `end`, `surface`, `entity`, `label`,
//!   `score`, `nil`, `candidates`, `candidate_scores`, `error`); a document without mentions or
//!   that failed still gets one row, with null mention fields, so every document is accounted
//!   for.
//!
//! Both write to a temporary file beside the target and rename it into place on `finish`, so an
//! interrupted run never leaves a truncated output where a reader would find it; the temporary
//! file is registered with [`crate::interrupt`], so a signal removes it too.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float32Builder, ListBuilder, RecordBatch, StringBuilder,
    UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tempfile::NamedTempFile;

use super::error::LinkError;
use super::linker::LinkedDocument;
use crate::interrupt::Partial;

/// Rows buffered before a Parquet row group is written.
const ROWS_PER_GROUP: usize = 64 * 1024;

pub enum AnnotationWriter {
    Jsonl {
        target: PathBuf,
        out: BufWriter<NamedTempFile>,
        partial: Partial,
    },
    Parquet {
        target: PathBuf,
        writer: Box<ArrowWriter<NamedTempFile>>,
        rows: Box<MentionRows>,
        partial: Partial,
    },
}

impl AnnotationWriter {
    pub fn create(target: &Path) -> Result<Self, LinkError> {
        Self::create_with(target, ".tailor-partial-")
    }

    /// Like [`create`](Self::create), with the temporary file named `tmp_prefix…`, so a writer
    /// of parts can find and remove its own leftovers after a crash.
    pub fn create_with(target: &Path, tmp_prefix: &str) -> Result<Self, LinkError> {
        let (tmp, partial) =
            crate::persist::aside(target, tmp_prefix).map_err(|e| LinkError::io(target, e))?;
        let name = target.to_string_lossy();
        if name.ends_with(".parquet") {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(
                    ZstdLevel::try_new(3).expect("valid level"),
                ))
                .build();
            let writer =
                ArrowWriter::try_new(tmp, mention_schema(), Some(props)).map_err(|source| {
                    LinkError::Parquet {
                        path: target.to_path_buf(),
                        source,
                    }
                })?;
            Ok(AnnotationWriter::Parquet {
                target: target.to_path_buf(),
                writer: Box::new(writer),
                rows: Box::default(),
                partial,
            })
        } else if name.ends_with(".jsonl") || name.ends_with(".json") {
            Ok(AnnotationWriter::Jsonl {
                target: target.to_path_buf(),
                out: BufWriter::new(tmp),
                partial,
            })
        } else {
            Err(LinkError::BadInput {
                path: target.to_path_buf(),
                message: "unknown output format: expected .jsonl or .parquet".into(),
            })
        }
    }

    pub fn write(&mut self, doc: &LinkedDocument) -> Result<(), LinkError> {
        match self {
            AnnotationWriter::Jsonl { target, out, .. } => {
                write_line(&mut *out, doc).map_err(|e| LinkError::io(target.as_path(), e))
            }
            AnnotationWriter::Parquet {
                target,
                writer,
                rows,
                ..
            } => {
                rows.push(doc);
                if rows.len >= ROWS_PER_GROUP {
                    write_batch(target, writer, rows)?;
                }
                Ok(())
            }
        }
    }

    /// Flushes and renames the output into place.
    pub fn finish(self) -> Result<PathBuf, LinkError> {
        let (tmp, target, partial) = match self {
            AnnotationWriter::Jsonl {
                target,
                out,
                partial,
            } => {
                let tmp = out
                    .into_inner()
                    .map_err(|e| LinkError::io(&target, e.into_error()))?;
                (tmp, target, partial)
            }
            AnnotationWriter::Parquet {
                target,
                mut writer,
                mut rows,
                partial,
            } => {
                write_batch(&target, &mut writer, &mut rows)?;
                let tmp = writer.into_inner().map_err(|source| LinkError::Parquet {
                    path: target.clone(),
                    source,
                })?;
                (tmp, target, partial)
            }
        };
        crate::persist::persist(tmp, &target).map_err(|e| LinkError::io(&target, e))?;
        drop(partial);
        Ok(target)
    }
}

impl super::Sink for AnnotationWriter {
    fn write(&mut self, doc: &LinkedDocument) -> Result<(), LinkError> {
        AnnotationWriter::write(self, doc)
    }
}

/// JSONL records on standard output, flushed per batch of documents: the form `RDD.pipe` and
/// shell pipelines read.
pub struct StdoutJsonl {
    out: BufWriter<std::io::Stdout>,
}

impl StdoutJsonl {
    pub fn new() -> Self {
        StdoutJsonl {
            out: BufWriter::with_capacity(1 << 20, std::io::stdout()),
        }
    }

    pub fn finish(mut self) -> Result<(), LinkError> {
        self.out.flush().map_err(|e| LinkError::io("<stdout>", e))
    }
}

impl Default for StdoutJsonl {
    fn default() -> Self {
        Self::new()
    }
}

/// One document as a JSONL line. A document larger than the writer's buffer is written while
/// it serializes, so a full disk or a closed pipe shows up here, as an I/O error like any other.
fn write_line(out: &mut impl Write, doc: &LinkedDocument) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, doc)?;
    out.write_all(b"\n")
}

impl super::Sink for StdoutJsonl {
    fn write(&mut self, doc: &LinkedDocument) -> Result<(), LinkError> {
        write_line(&mut self.out, doc).map_err(|e| LinkError::io("<stdout>", e))
    }
}

/// The Arrow schema of the `.parquet` output: one row per mention.
pub fn mention_schema() -> Arc<Schema> {
    let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Utf8, false),
        Field::new("start", DataType::UInt64, true),
        Field::new("end", DataType::UInt64, true),
        Field::new("surface", DataType::Utf8, true),
        Field::new("entity", DataType::Utf8, true),
        Field::new("label", DataType::Utf8, true),
        Field::new("score", DataType::Float32, true),
        Field::new("nil", DataType::Boolean, true),
        Field::new("candidates", list(DataType::Utf8), true),
        Field::new("candidate_scores", list(DataType::Float32), true),
        Field::new("error", DataType::Utf8, true),
    ]))
}

/// Column builders for the rows of one row group.
#[derive(Default)]
pub struct MentionRows {
    len: usize,
    doc_id: StringBuilder,
    start: UInt64Builder,
    end: UInt64Builder,
    surface: StringBuilder,
    entity: StringBuilder,
    label: StringBuilder,
    score: Float32Builder,
    nil: BooleanBuilder,
    candidates: ListBuilder<StringBuilder>,
    candidate_scores: ListBuilder<Float32Builder>,
    error: StringBuilder,
}

impl MentionRows {
    fn push(&mut self, doc: &LinkedDocument) {
        if doc.mentions.is_empty() {
            self.len += 1;
            self.doc_id.append_value(&doc.id);
            self.start.append_null();
            self.end.append_null();
            self.surface.append_null();
            self.entity.append_null();
            self.label.append_null();
            self.score.append_null();
            self.nil.append_null();
            self.candidates.append_null();
            self.candidate_scores.append_null();
            self.error.append_option(doc.error.as_deref());
            return;
        }
        for m in &doc.mentions {
            self.len += 1;
            self.doc_id.append_value(&doc.id);
            self.start.append_value(m.start as u64);
            self.end.append_value(m.end as u64);
            self.surface.append_value(&m.surface);
            self.entity.append_option(m.entity.as_deref());
            self.label.append_option(m.label.as_deref());
            self.score.append_option(m.score);
            self.nil.append_value(m.entity.is_none());
            for c in &m.candidates {
                self.candidates.values().append_value(&c.entity);
                self.candidate_scores.values().append_value(c.score);
            }
            self.candidates.append(true);
            self.candidate_scores.append(true);
            self.error.append_null();
        }
    }

    fn finish(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        vec![
            Arc::new(self.doc_id.finish()),
            Arc::new(self.start.finish()),
            Arc::new(self.end.finish()),
            Arc::new(self.surface.finish()),
            Arc::new(self.entity.finish()),
            Arc::new(self.label.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.nil.finish()),
            Arc::new(self.candidates.finish()),
            Arc::new(self.candidate_scores.finish()),
            Arc::new(self.error.finish()),
        ]
    }
}

fn write_batch(
    target: &Path,
    writer: &mut ArrowWriter<NamedTempFile>,
    rows: &mut MentionRows,
) -> Result<(), LinkError> {
    if rows.len == 0 {
        return Ok(());
    }
    let batch = RecordBatch::try_new(mention_schema(), rows.finish()).map_err(|source| {
        LinkError::Arrow {
            path: target.to_path_buf(),
            source,
        }
    })?;
    writer.write(&batch).map_err(|source| LinkError::Parquet {
        path: target.to_path_buf(),
        source,
    })
}
