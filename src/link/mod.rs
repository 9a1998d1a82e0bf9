//! Linking corpora: read documents, find mentions and candidates, let a [`Scorer`] choose, and
//! write annotations.
//!
//! In: `.txt`, `.jsonl` or `.parquet` inputs (and globs over them, and compressed text/JSONL).
//! Out: one `.jsonl` (a record per document) or `.parquet` (a row per mention) file, JSONL on
//! standard output, or a directory of numbered parts with a progress manifest ([`parts`]) that a
//! killed run resumes and N shard workers share. Every input document yields exactly one output
//! record, in input order: a document or input that cannot be read is, within `--max-errors`,
//! written with its error, and beyond it the run stops (committed parts stay).
//!
//! Reading, linking and writing run as a pipeline over bounded batches: a reader thread parses
//! the next batch while rayon links the current one across cores and a writer thread writes the
//! previous one, so memory stays flat whatever the corpus size.
//!
//! [`Scorer`]: crate::disambiguate::Scorer

mod error;
mod input;
mod json_record;
mod linker;
pub mod merge;
mod output;
pub mod parts;
mod run_dir;
pub mod serve;
mod serve_request;
mod stream;

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

pub use error::LinkError;
pub use input::{read_input, GivenSpan, InputDocument, InputItem};
pub use linker::{
    LinkedCandidate, LinkedDocument, LinkedMention, Linker, DEFAULT_OUTPUT_CANDIDATES,
};
pub use output::{mention_schema, AnnotationWriter, StdoutJsonl};
pub use run_dir::refuse_inside_run;
pub use stream::{corpus, expand_inputs, failed_id, Shard};

/// Where linked documents go, in input order.
pub trait Sink: Send {
    fn write(&mut self, doc: &LinkedDocument) -> Result<(), LinkError>;
}

/// Text above this is refused as one failed document unless told otherwise (16 MiB): the
/// mention and candidate lists of a larger document are better linked in pieces.
pub const DEFAULT_MAX_DOC_BYTES: usize = 16 << 20;

/// How a batch run treats its stream.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Failed documents to record before the run stops (0: the first one stops it).
    pub max_errors: u64,
    /// Failed documents already recorded by the committed parts of a resumed run.
    pub errors_before: u64,
    /// Documents over this many bytes of text fail.
    pub max_doc_bytes: usize,
    pub shard: Shard,
    /// Documents of the shard's stream already written (a resumed run skips them).
    pub skip: u64,
    /// Draw a progress bar (only on a terminal).
    pub progress: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            max_errors: 0,
            errors_before: 0,
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            shard: Shard::ALL,
            skip: 0,
            progress: false,
        }
    }
}

/// Documents linked in parallel at a time; their output order is the input order.
const BATCH: usize = 256;
/// Documents scored together, so a model batches their sentences in shared encoder passes;
/// small enough that the groups of a batch still spread over the cores.
const DOCS_PER_SCORE: usize = 8;

/// Counts of a finished run.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LinkReport {
    pub documents: u64,
    pub failed: u64,
    pub mentions: u64,
    pub linked: u64,
    /// Whitespace-separated words of the linked documents' text.
    pub tokens: u64,
    /// Bytes of text read.
    pub bytes: u64,
}

/// Links every document of `inputs` into one output file, renamed into place at the end.
pub fn link_corpus(
    linker: &Linker<'_>,
    inputs: &[PathBuf],
    out: &Path,
    max_errors: u64,
    progress: bool,
) -> Result<LinkReport, LinkError> {
    let mut writer = AnnotationWriter::create(out)?;
    let options = BatchOptions {
        max_errors,
        progress,
        ..BatchOptions::default()
    };
    let report = link_stream(linker, inputs.to_vec(), &mut writer, &options)?;
    writer.finish()?;
    Ok(report)
}

/// One document's outcome and its whitespace-separated token count.
type Outcome = (Result<LinkedDocument, LinkError>, u64, u64);

/// Links the (sharded, skipped) stream of `inputs` into `sink`, in input order.
pub fn link_stream(
    linker: &Linker<'_>,
    inputs: Vec<PathBuf>,
    sink: &mut dyn Sink,
    options: &BatchOptions,
) -> Result<LinkReport, LinkError> {
    let started = std::time::Instant::now();
    let (docs_tx, docs_rx) = sync_channel::<Vec<InputItem>>(2);
    let (out_tx, out_rx) = sync_channel::<Vec<Outcome>>(2);
    let shard = options.shard;
    let skip = options.skip;
    let report = std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut items = corpus(inputs)
                .filter(|item| shard.keeps(&stream::item_key(item)))
                .skip(skip as usize);
            loop {
                let batch: Vec<InputItem> = items.by_ref().take(BATCH).collect();
                if batch.is_empty() || docs_tx.send(batch).is_err() {
                    break;
                }
            }
        });
        let writer = scope.spawn(move || write_outcomes(out_rx, sink, options));
        for batch in docs_rx {
            let mut items = batch.into_iter();
            let groups: Vec<Vec<InputItem>> = std::iter::from_fn(|| {
                let group: Vec<InputItem> = items.by_ref().take(DOCS_PER_SCORE).collect();
                (!group.is_empty()).then_some(group)
            })
            .collect();
            let linked: Vec<Outcome> = groups
                .into_par_iter()
                .flat_map_iter(|group| link_group(linker, group, options.max_doc_bytes))
                .collect();
            if out_tx.send(linked).is_err() {
                break;
            }
        }
        drop(out_tx);
        writer.join().expect("the writer thread does not panic")
    })?;
    tracing::info!(
        documents = report.documents,
        failed = report.failed,
        mentions = report.mentions,
        linked = report.linked,
        seconds = started.elapsed().as_secs_f64(),
        "linked the stream"
    );
    Ok(report)
}

/// Links a group of items with one scorer call (failed items keep their place), in order.
fn link_group(linker: &Linker<'_>, group: Vec<InputItem>, max_doc_bytes: usize) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(group.len());
    let mut docs = Vec::new();
    for item in group {
        match item {
            Err(e) => outcomes.push(Some((Err(e), 0, 0))),
            Ok(doc) if doc.text.len() > max_doc_bytes => {
                let bytes = doc.text.len();
                let e = LinkError::TooLarge {
                    id: doc.id,
                    record: doc.record,
                    bytes,
                    limit: max_doc_bytes,
                };
                outcomes.push(Some((Err(e), 0, bytes as u64)));
            }
            Ok(doc) => {
                outcomes.push(None);
                docs.push(doc);
            }
        }
    }
    let refs: Vec<&InputDocument> = docs.iter().collect();
    let mut linked = linker.link_many(&refs).into_iter().zip(&docs);
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                let (result, doc) = linked.next().expect("one linked document per slot");
                let tokens = doc.text.split_whitespace().count() as u64;
                (Ok(result), tokens, doc.text.len() as u64)
            })
        })
        .collect()
}

fn write_outcomes(
    outcomes: std::sync::mpsc::Receiver<Vec<Outcome>>,
    sink: &mut dyn Sink,
    options: &BatchOptions,
) -> Result<LinkReport, LinkError> {
    let mut report = LinkReport::default();
    let bar = if options.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} documents {per_sec} {msg}")
                .expect("static template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    for batch in outcomes {
        for (result, tokens, bytes) in batch {
            let doc = match result {
                Ok(doc) => doc,
                Err(e) => {
                    report.failed += 1;
                    let failed = options.errors_before + report.failed;
                    if failed > options.max_errors {
                        return Err(if options.max_errors == 0 {
                            e
                        } else {
                            LinkError::TooManyErrors {
                                count: failed,
                                limit: options.max_errors,
                                last: Box::new(e),
                            }
                        });
                    }
                    tracing::warn!("{e}");
                    LinkedDocument::failed(failed_id(&e), e.to_string())
                }
            };
            report.documents += 1;
            report.tokens += tokens;
            report.bytes += bytes;
            report.mentions += doc.mentions.len() as u64;
            report.linked += doc.mentions.iter().filter(|m| m.entity.is_some()).count() as u64;
            sink.write(&doc)?;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(report)
}
