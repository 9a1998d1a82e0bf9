//! Merging part files (or whole output directories) into one annotation file of the same
//! format: Parquet row groups are copied batch by batch, JSONL records line by line, so memory
//! stays flat. A directory stands for the committed parts its manifests list, in shard order.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::error::LinkError;
use super::output::mention_schema;
use super::run_dir::{committed_parts, refuse_inside_run};

/// Counts of a merge.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct MergeReport {
    pub parts: u64,
    /// Rows for Parquet, records for JSONL.
    pub records: u64,
}

/// Expands directories into their committed parts; files stay as given.
pub fn expand_parts(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, LinkError> {
    let mut parts = Vec::new();
    for input in inputs {
        if input.is_dir() {
            parts.extend(committed_parts(input)?);
        } else {
            parts.push(input.clone());
        }
    }
    Ok(parts)
}

/// Refuses a part named twice (a file given twice, a directory and one of its parts, one
/// directory spelled two ways): merged twice, its records would be repeated.
fn refuse_repeats(parts: &[PathBuf]) -> Result<(), LinkError> {
    let mut seen: std::collections::HashMap<PathBuf, &PathBuf> = Default::default();
    for part in parts {
        let resolved = part.canonicalize().map_err(|e| LinkError::io(part, e))?;
        if let Some(first) = seen.insert(resolved, part) {
            let message = if first == part {
                "is named twice in this merge: its records would be written twice".to_string()
            } else {
                format!(
                    "is also merged as {}: its records would be written twice",
                    first.display()
                )
            };
            return Err(LinkError::BadInput {
                path: part.clone(),
                message,
            });
        }
    }
    Ok(())
}

/// Writes the parts, in order, into `out` (written aside, renamed into place).
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<MergeReport, LinkError> {
    // a reader of that directory as one dataset would count the merged copy's rows beside the
    // parts they came from
    refuse_inside_run(out)?;
    if out.is_dir() {
        return Err(LinkError::BadInput {
            path: out.to_path_buf(),
            message: "is an existing directory: a merge writes one file".into(),
        });
    }
    refuse_repeats(inputs)?;
    let parts = expand_parts(inputs)?;
    refuse_repeats(&parts)?;
    let parquet_out = out.to_string_lossy().ends_with(".parquet");
    for part in &parts {
        if part.to_string_lossy().ends_with(".parquet") != parquet_out {
            return Err(LinkError::BadInput {
                path: part.clone(),
                message: format!(
                    "merging keeps the format: cannot merge into {}",
                    out.display()
                ),
            });
        }
    }
    let (tmp, _partial) =
        crate::persist::aside(out, ".tailor-partial-").map_err(|e| LinkError::io(out, e))?;
    let mut report = MergeReport::default();
    let tmp = if parquet_out {
        merge_parquet(&parts, tmp, out, &mut report)?
    } else {
        merge_jsonl(&parts, tmp, out, &mut report)?
    };
    crate::persist::persist(tmp, out).map_err(|e| LinkError::io(out, e))?;
    tracing::info!(
        parts = report.parts,
        records = report.records,
        "merged into {}",
        out.display()
    );
    Ok(report)
}

fn merge_parquet(
    parts: &[PathBuf],
    tmp: tempfile::NamedTempFile,
    out: &Path,
    report: &mut MergeReport,
) -> Result<tempfile::NamedTempFile, LinkError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .build();
    let pq = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LinkError::Parquet { path, source }
    };
    let mut writer = ArrowWriter::try_new(tmp, mention_schema(), Some(props)).map_err(pq(out))?;
    for part in parts {
        let file = File::open(part).map_err(|e| LinkError::io(part, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(pq(part))?
            .build()
            .map_err(pq(part))?;
        for batch in reader {
            let batch = batch.map_err(|source| LinkError::Arrow {
                path: part.clone(),
                source,
            })?;
            if batch.schema().fields() != mention_schema().fields() {
                return Err(LinkError::BadInput {
                    path: part.clone(),
                    message: "not a `tailor link` mention table (its schema differs)".into(),
                });
            }
            report.records += batch.num_rows() as u64;
            writer.write(&batch).map_err(pq(out))?;
        }
        report.parts += 1;
    }
    writer.into_inner().map_err(pq(out))
}

fn merge_jsonl(
    parts: &[PathBuf],
    tmp: tempfile::NamedTempFile,
    out: &Path,
    report: &mut MergeReport,
) -> Result<tempfile::NamedTempFile, LinkError> {
    let mut writer = BufWriter::with_capacity(1 << 20, tmp);
    for part in parts {
        let file = File::open(part).map_err(|e| LinkError::io(part, e))?;
        for line in BufReader::with_capacity(1 << 20, file).split(b'\n') {
            let line = line.map_err(|e| LinkError::io(part, e))?;
            if line.is_empty() {
                continue;
            }
            writer
                .write_all(&line)
                .and_then(|_| writer.write_all(b"\n"))
                .map_err(|e| LinkError::io(out, e))?;
            report.records += 1;
        }
        report.parts += 1;
    }
    writer
        .into_inner()
        .map_err(|e| LinkError::io(out, e.into_error()))
}
