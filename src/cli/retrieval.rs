//! Loading the KB and the retriever the way every linking command does.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use tailor::kb::{self, Kb};
use tailor::retrieve::{Retriever, RetrieverOptions};

/// Shared retrieval flags.
#[derive(Debug, clap::Args)]
pub struct RetrievalArgs {
    /// KB store directory.
    #[arg(long, default_value_os_t = super::default_kb_dir())]
    pub kb: std::path::PathBuf,
    /// Candidates kept per mention.
    #[arg(long, default_value_t = tailor::retrieve::DEFAULT_TOP_K,
          value_parser = super::values::at_least_one::<usize>)]
    pub top_k: usize,
    /// Exact alias matches only: no fuzzy candidates from the tantivy index.
    #[arg(long)]
    pub no_fuzzy: bool,
    /// No candidates from the document's other mentions (the namesakes a partial name such as
    /// "Steve" has among the entities the KB links to them).
    #[arg(long)]
    pub no_context: bool,
    /// No adjectival names mined from the KB's descriptions ("American" for the United States,
    /// "Hungarian" for Hungary) among the aliases.
    #[arg(long)]
    pub no_derived_names: bool,
    /// No surnames of people ("Reagan" for Ronald Reagan, from the label) among the aliases.
    #[arg(long)]
    pub no_surnames: bool,
}

/// Loads the KB and builds (or opens the cached) retriever.
pub fn load(args: &RetrievalArgs) -> Result<(Kb, Retriever)> {
    let t0 = Instant::now();
    let kb = kb::load(&args.kb)?;
    tracing::info!(
        seconds = t0.elapsed().as_secs_f64(),
        "loaded KB {}",
        args.kb.display()
    );
    let options = RetrieverOptions {
        top_k: args.top_k,
        fuzzy: !args.no_fuzzy,
        fuzzy_cache: None,
        context: !args.no_context,
        derived_names: !args.no_derived_names,
        surnames: !args.no_surnames,
    }
    .cache_in_store(&kb, Path::new(&args.kb));
    let retriever = Retriever::build(&kb, &options)?;
    Ok((kb, retriever))
}
