//! `tailor weak-labels`: training data for the disambiguation model, made from the KB itself.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use tailor::disambiguate::weak::{self, WeakOptions};

use super::retrieval::{load, RetrievalArgs};
use super::values::{at_least_one, share};

#[derive(Debug, Args)]
pub struct WeakLabelsArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    /// Output: .parquet (preferred) or .jsonl. The held-out split, entity counts and
    /// statistics are written beside it (NAME.holdout.EXT, NAME.entity_counts.json,
    /// NAME.stats.json).
    #[arg(long, short)]
    out: PathBuf,
    /// Directory of Wikipedia extracts named <QID>.txt; "none" uses only the KB.
    #[arg(long, default_value = "../shared/data/kb/codex/types/en/extracts")]
    extracts: String,
    /// Read at most this many extracts.
    #[arg(long)]
    max_extracts: Option<usize>,
    /// Total mentions over both splits.
    #[arg(long, default_value_t = WeakOptions::default().max_examples, value_parser = at_least_one::<usize>)]
    max_examples: usize,
    /// Gold occurrences allowed per entity.
    #[arg(long, default_value_t = WeakOptions::default().max_per_entity, value_parser = at_least_one::<u32>)]
    max_per_entity: u32,
    /// Most of the total that descriptions may fill; triples fill the rest.
    #[arg(long, default_value_t = WeakOptions::default().description_share, value_parser = share)]
    description_share: f32,
    /// Share of mentions masked.
    #[arg(long, default_value_t = WeakOptions::default().mask_rate, value_parser = share)]
    mask_rate: f32,
    #[arg(long, default_value = weak::MASK_TOKEN)]
    mask_token: String,
    /// Share of verbalized mentions written with a name retrieval ranks their entity low for
    /// (an alias, or in triples a word of the label the other entity points to).
    #[arg(long, default_value_t = WeakOptions::default().hard_names, value_parser = share)]
    hard_names: f32,
    /// Share of the other verbalized mentions written with a short form (a person's surname,
    /// which many people share; a concept's plural, which only fuzzy search finds), so that
    /// training holds golds that are not the label, as real text does.
    #[arg(long, default_value_t = WeakOptions::default().short_names, value_parser = share)]
    short_names: f32,
    /// Share of sentences held out for validation.
    #[arg(long, default_value_t = WeakOptions::default().holdout, value_parser = share)]
    holdout: f32,
    #[arg(long, default_value_t = WeakOptions::default().seed)]
    seed: u64,
    /// Share of the exact prior mass that makes a candidate dominant.
    #[arg(long, default_value_t = weak::DEFAULT_DOMINANCE, value_parser = share)]
    dominance: f32,
}

pub fn run(args: WeakLabelsArgs) -> Result<()> {
    let extracts = (args.extracts != "none").then(|| PathBuf::from(&args.extracts));
    if let Some(dir) = &extracts {
        anyhow::ensure!(
            dir.is_dir(),
            "{}: no such extracts directory",
            dir.display()
        );
    }
    // none of the four files may land on, or in, what the run reads
    let mut reads = vec![args.retrieval.kb.as_path()];
    reads.extend(extracts.as_deref());
    let paths = weak::output_paths(&args.out);
    for path in &paths {
        super::paths::refuse_overwriting("--out", path, &reads)?;
        super::paths::refuse_file_in_outputs("--out", path)?;
    }
    refuse_replacing_other_files(&paths)?;
    let (kb, retriever) = load(&args.retrieval)?;
    let options = WeakOptions {
        extracts,
        max_extracts: args.max_extracts,
        max_examples: args.max_examples,
        max_per_entity: args.max_per_entity,
        description_share: args.description_share,
        mask_rate: args.mask_rate,
        mask_token: args.mask_token,
        hard_names: args.hard_names,
        short_names: args.short_names,
        holdout: args.holdout,
        seed: args.seed,
        dominance: args.dominance,
        progress: true,
    };
    let data = weak::build(&kb, &retriever, &options)?;
    let written = weak::write(&kb, &data, &args.out)?;
    let s = &data.stats;
    eprintln!(
        "{} training and {} held-out mentions from {} sentences, {} entities, in {:.1}s",
        s.train_examples, s.holdout_examples, s.sentences, s.unique_entities_train, s.seconds
    );
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The four files replace only an earlier run's four: a file already at one of their paths is
/// the user's unless the statistics beside it read as what a run of `weak-labels` writes.
fn refuse_replacing_other_files(paths: &[PathBuf; 4]) -> Result<()> {
    let Some(existing) = paths.iter().find(|p| p.exists()) else {
        return Ok(());
    };
    for path in paths.iter().filter(|p| p.exists()) {
        // a directory, a FIFO (whose read would block) or a device is no earlier output
        anyhow::ensure!(
            path.is_file(),
            "--out: {} exists and is not a regular file: name another --out",
            path.display()
        );
    }
    let stats = &paths[3];
    // every field a run's statistics have, not only two a user could type
    const FIELDS: [&str; 6] = [
        "seconds",
        "sources",
        "kept",
        "sentences",
        "train_examples",
        "holdout_examples",
    ];
    let earlier_run = std::fs::read_to_string(stats)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|v| FIELDS.iter().all(|f| v.get(f).is_some()));
    anyhow::ensure!(
        earlier_run,
        "--out: {} exists, and {} does not read as the statistics of an earlier weak-labels run, \
         so these files may be someone else's: name another --out, or remove them",
        existing.display(),
        stats.display()
    );
    Ok(())
}
