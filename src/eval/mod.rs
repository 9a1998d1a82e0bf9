//! Evaluation: gold readers, metrics and the run of several systems over the same candidates.
//!
//! In: gold files (ELEVANT `.benchmark.jsonl`, GERBIL NIF `.ttl`), a KB, a retriever and the
//! systems to compare (any [`Scorer`]). Out: per benchmark, KB coverage of the gold entities,
//! candidate recall@k, gold-mention disambiguation (in-KB precision/recall/F1, NIL handling) and
//! end-to-end linking (the system's own mentions, exact span match), every figure with its
//! counts, plus per-mention records for slicing and reports. Which gold labels are scored is
//! decided once, in [`gold`].
//!
//! [`Scorer`]: crate::disambiguate::Scorer

mod bootstrap;
mod elevant;
mod error;
mod evaluate;
pub mod geometry;
pub mod gold;
pub mod metrics;
mod nif;
mod records;
pub mod report;
pub mod slice_inputs;
pub mod slices;
mod table;

use std::path::Path;

pub use elevant::{parse_line as parse_elevant_line, read_elevant};
pub use error::EvalError;
pub use evaluate::{
    evaluate, BenchmarkResult, ContextCandidates, Coverage, Disambiguation, LinkedRecord,
    MentionRecord, Prediction, RecallAt, RecordCandidate, SystemResult, RECALL_KS,
};
pub use gold::{GoldDocument, GoldEntity, GoldMention, GoldSet, LabelCounts};
pub use nif::{parse_nif, read_nif};
pub use records::{earlier_records, write_records, RecordsFile};
pub use table::render_table;

/// Reads a gold file by its extension: `.jsonl` is ELEVANT, `.ttl` is NIF Turtle.
pub fn read_gold(path: &Path) -> Result<GoldSet, EvalError> {
    let name = path.to_string_lossy().to_lowercase();
    let gold = if name.ends_with(".jsonl") {
        read_elevant(path)?
    } else if name.ends_with(".ttl") {
        read_nif(path)?
    } else {
        return Err(EvalError::BadInput {
            path: path.to_path_buf(),
            message: "unknown gold format: expected .jsonl (ELEVANT) or .ttl (NIF Turtle)".into(),
        });
    };
    // an empty benchmark would score as if it had been measured
    if gold.documents.is_empty() {
        return Err(EvalError::BadInput {
            path: path.to_path_buf(),
            message: "no documents: nothing to measure".into(),
        });
    }
    Ok(gold)
}
