//! Running an ingest job: every source read in order into one builder, under one error budget,
//! with skip counts, checksums and a manifest, then the store written aside and renamed.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::budget::ErrorBudget;
use super::builder::KbBuilder;
use super::error::{KbError, Result};
use super::input::{file_progress, open_source};
use super::manifest::{Manifest, SourceRecord, FORMAT_VERSION};
use super::model::Kb;
use super::sources::SourceSpec;
use super::{profiles, tables, wikidata};

/// Knobs of an ingest job.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Malformed records to skip before failing (default 0: the first one fails the job).
    pub max_errors: u64,
    /// Where skipped records go, one JSON object a line with file, line and error.
    pub rejects: Option<PathBuf>,
    /// Draw byte progress bars (only shown when stderr is a terminal).
    pub progress: bool,
}

/// The shared state every reader writes into.
pub struct IngestState {
    pub builder: KbBuilder,
    pub budget: ErrorBudget,
    /// Records skipped on purpose, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Named id maps declared by `json_map` sources, used by later `triples` sources.
    pub id_maps: HashMap<String, HashMap<String, String>>,
    pub progress: Option<ProgressBar>,
}

impl IngestState {
    pub fn skip(&mut self, reason: &str, n: u64) {
        *self.skipped.entry(reason.to_string()).or_default() += n;
    }
}

/// Reads and merges `sources` into a KB.
pub fn ingest(sources: &[SourceSpec], options: &IngestOptions) -> Result<Kb> {
    let started = Instant::now();
    let records = checksum_sources(sources)?;
    let mut state = IngestState {
        builder: KbBuilder::new(),
        budget: ErrorBudget::new(options.max_errors, options.rejects.as_deref())?,
        skipped: BTreeMap::new(),
        id_maps: HashMap::new(),
        progress: None,
    };
    for source in sources {
        let t0 = Instant::now();
        let before = state.builder.entity_count();
        state.progress = options.progress.then(|| file_progress(source.path()));
        let read = match source {
            SourceSpec::Wikidata(s) => wikidata::read(s, &mut state),
            SourceSpec::Profiles(s) => profiles::read(&s.path, &mut state),
            SourceSpec::Triples(s) => tables::read_triples(s, &mut state),
            SourceSpec::Table(s) => tables::read_table(s, &mut state),
            SourceSpec::JsonMap(s) => tables::read_json_map(s, &mut state),
        };
        if let Some(bar) = state.progress.take() {
            bar.finish_and_clear();
        }
        let records = read?;
        tracing::info!(
            source = %source.path().display(),
            kind = source.kind_name(),
            records,
            new_entities = state.builder.entity_count() - before,
            seconds = t0.elapsed().as_secs_f64(),
            "read source"
        );
    }
    let rejected = state.budget.finish()?;
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        tailor_version: env!("CARGO_PKG_VERSION").to_string(),
        counts: Default::default(),
        sources: records,
        skipped: state.skipped,
        rejected,
    };
    let mut kb = state.builder.finish(manifest);
    kb.manifest.counts = kb.counts();
    tracing::info!(
        entities = kb.manifest.counts.entities,
        triples = kb.manifest.counts.triples,
        rejected,
        seconds = started.elapsed().as_secs_f64(),
        "ingest done"
    );
    Ok(kb)
}

/// Checks every source exists and is non-empty, and hashes them in parallel.
fn checksum_sources(sources: &[SourceSpec]) -> Result<Vec<SourceRecord>> {
    sources
        .par_iter()
        .map(|s| {
            let (bytes, sha256) = sha256_file(s.path())?;
            if bytes == 0 {
                return Err(KbError::EmptyInput {
                    path: s.path().to_path_buf(),
                });
            }
            Ok(SourceRecord {
                kind: s.kind_name().to_string(),
                path: s.path().display().to_string(),
                bytes,
                sha256,
            })
        })
        .collect()
}

/// Size and SHA-256 of a file as stored on disk.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(|e| KbError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| KbError::io(path, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// Opens a source with the state's progress bar.
pub(super) fn open_with_progress(
    path: &Path,
    state: &IngestState,
) -> Result<Box<dyn std::io::BufRead>> {
    open_source(path, state.progress.as_ref())
}
