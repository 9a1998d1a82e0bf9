//! `tailor link`: annotate a corpus with KB entities.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;

use tailor::disambiguate::{PriorScorer, Scorer};
use tailor::link::{link_corpus, Linker};

use super::model::{LoadedModels, ModelArgs};
use super::retrieval::{load, RetrievalArgs};

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Inputs: .txt (one document per file), .jsonl ({"id", "text", "mentions"?} a line; with
    /// "mentions" [{"start", "end"}] the spans are linked as given), .parquet (id, text).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output: .jsonl (a record per document) or .parquet (a row per mention).
    #[arg(long, short)]
    out: PathBuf,
    /// Unreadable documents to record (with their error) and skip before failing. Default 0:
    /// the first one stops the run, and no output is left behind.
    #[arg(long, default_value_t = 0)]
    max_errors: u64,
    /// With --prior-only: leave a mention unlinked when its best prior is below this.
    #[arg(long, default_value_t = 0.0)]
    nil_threshold: f32,
    /// Candidates written per mention.
    #[arg(long, default_value_t = tailor::link::DEFAULT_OUTPUT_CANDIDATES)]
    output_candidates: usize,
}

pub fn run(args: LinkArgs) -> Result<()> {
    for input in &args.inputs {
        if !input.exists() {
            bail!("{}: no such input", input.display());
        }
    }
    let (kb, retriever) = load(&args.retrieval)?;
    let prior = PriorScorer {
        nil_threshold: args.nil_threshold,
    };
    let models = if args.model.prior_only {
        None
    } else {
        Some(LoadedModels::load(
            &args.model,
            &kb,
            &args.retrieval.kb,
            false,
        )?)
    };
    let scorer: &dyn Scorer = match &models {
        Some(m) => &m.scorers[0],
        None => &prior,
    };
    let linker = Linker {
        kb: &kb,
        retriever: &retriever,
        scorer,
        output_candidates: args.output_candidates,
    };
    let t0 = Instant::now();
    let report = link_corpus(&linker, &args.inputs, &args.out, args.max_errors, true)?;
    let secs = t0.elapsed().as_secs_f64();
    if let Some(m) = &models {
        m.save_cache();
    }
    eprintln!(
        "linked {} documents ({} failed): {} mentions, {} linked, in {:.2}s; wrote {}",
        report.documents,
        report.failed,
        report.mentions,
        report.linked,
        secs,
        args.out.display()
    );
    Ok(())
}
