//! Linking corpora: read documents, find mentions and candidates, let a [`Scorer`] choose, and
//! write annotations.
//!
//! In: `.txt`, `.jsonl` or `.parquet` inputs. Out: `.jsonl` (a record per document) or
//! `.parquet` (a row per mention). Every input document yields exactly one output record: a
//! document that cannot be read is, within `--max-errors`, written with its error, and beyond it
//! the run stops and leaves no output behind.
//!
//! [`Scorer`]: crate::disambiguate::Scorer

mod error;
mod input;
mod linker;
mod output;

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

pub use error::LinkError;
pub use input::{read_input, GivenSpan, InputDocument, InputItem};
pub use linker::{
    LinkedCandidate, LinkedDocument, LinkedMention, Linker, DEFAULT_OUTPUT_CANDIDATES,
};
pub use output::AnnotationWriter;

/// Documents linked in parallel at a time; their output order is the input order.
const BATCH: usize = 256;

/// Counts of a finished run.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LinkReport {
    pub documents: u64,
    pub failed: u64,
    pub mentions: u64,
    pub linked: u64,
    pub characters: u64,
}

/// Links every document of `inputs` into `out`, renaming the output into place at the end.
pub fn link_corpus(
    linker: &Linker<'_>,
    inputs: &[PathBuf],
    out: &Path,
    max_errors: u64,
    progress: bool,
) -> Result<LinkReport, LinkError> {
    let mut writer = AnnotationWriter::create(out)?;
    let mut report = LinkReport::default();
    let bar = if progress {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} documents {per_sec} {msg}")
                .expect("static template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    for path in inputs {
        let mut docs = read_input(path)?;
        loop {
            let batch: Vec<InputItem> = docs.by_ref().take(BATCH).collect();
            if batch.is_empty() {
                break;
            }
            let linked: Vec<Result<LinkedDocument, LinkError>> = batch
                .into_par_iter()
                .map(|item| item.map(|doc| linker.link(&doc)))
                .collect();
            for result in linked {
                let doc = match result {
                    Ok(doc) => doc,
                    Err(e @ LinkError::BadRecord { .. }) => {
                        report.failed += 1;
                        if report.failed > max_errors {
                            return Err(if max_errors == 0 {
                                e
                            } else {
                                LinkError::TooManyErrors {
                                    count: report.failed,
                                    limit: max_errors,
                                    last: Box::new(e),
                                }
                            });
                        }
                        tracing::warn!("{e}");
                        let LinkError::BadRecord { path, record, .. } = &e else {
                            unreachable!()
                        };
                        LinkedDocument::failed(
                            format!("{}:{record}", path.display()),
                            e.to_string(),
                        )
                    }
                    Err(e) => return Err(e),
                };
                report.documents += 1;
                report.mentions += doc.mentions.len() as u64;
                report.linked += doc.mentions.iter().filter(|m| m.entity.is_some()).count() as u64;
                writer.write(&doc)?;
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    writer.finish()?;
    Ok(report)
}
