//! `tailor train`: weak labels from the KB, then the fusion model (and its ablations).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Result};
use clap::Args;

use tailor::disambiguate::model::{
    check_checkpoint, fit, refuse_resuming_nothing, staging_dir, FitPlan, LabelledSentence,
    LabelledSpan, ModelError, TrainOptions,
};
use tailor::disambiguate::weak::{self, Rule, WeakExample, WeakOptions};

use tailor::disambiguate::model::EntityTextVectors;

use super::model::{entity_text_cache, load_encoder};
use super::retrieval::{load, RetrievalArgs};
use super::values::{at_least_one, positive, relations_in_text, share};

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    /// KG embedding directories from `tailor embed` (repeatable; typically a TransE and a
    /// hyperbolic one). They are copied into the model directory.
    #[arg(long, required = true)]
    embeddings: Vec<PathBuf>,
    /// The model directory to write (the shipped one is models/default; a finished training
    /// replaces the directory whole).
    #[arg(long, short)]
    out: PathBuf,
    /// Text encoder directory (default: TAILOR_ENCODER, else the fetched default).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Also train the text-only and KG-only ablations under OUT/ablations/.
    #[arg(long)]
    ablations: bool,
    /// Weakly labelled mentions to make from the KB (both splits). The encoder pass over
    /// them is most of the training time: about 10 minutes for 20,000 on 2 cores.
    #[arg(long, default_value_t = 20_000, value_parser = at_least_one::<usize>)]
    max_examples: usize,
    /// Directory of Wikipedia extracts named <QID>.txt; "none" uses only the KB.
    #[arg(long, default_value = "../shared/data/kb/codex/types/en/extracts")]
    extracts: String,
    /// Read at most this many extracts.
    #[arg(long)]
    max_extracts: Option<usize>,
    /// Share of verbalized mentions written with a name retrieval ranks their entity low for,
    /// so that training holds mentions the prior gets wrong.
    #[arg(long, default_value_t = WeakOptions::default().hard_names, value_parser = share)]
    hard_names: f32,
    /// Share of the other verbalized mentions written with a short form (a person's surname,
    /// which many people share; a concept's plural, which only fuzzy search finds), so that
    /// training holds golds that are not the label, as real text does.
    #[arg(long, default_value_t = WeakOptions::default().short_names, value_parser = share)]
    short_names: f32,
    /// Share of sentences held out to measure each epoch.
    #[arg(long, default_value_t = 0.05, value_parser = share)]
    holdout: f32,
    /// Passes over the training mentions; the epoch best on held-out mentions is kept.
    #[arg(long, default_value_t = TrainOptions::default().epochs, value_parser = at_least_one::<usize>)]
    epochs: usize,
    /// Mentions per optimizer step.
    #[arg(long, default_value_t = TrainOptions::default().batch_size, value_parser = at_least_one::<usize>)]
    batch_size: usize,
    /// AdamW learning rate of the fusion layers.
    #[arg(long, default_value_t = TrainOptions::default().lr, value_parser = positive::<f64>)]
    lr: f64,
    /// Share of training mentions whose priors are flattened, so the model learns to read the
    /// context and the KB.
    #[arg(long, default_value_t = TrainOptions::default().prior_dropout, value_parser = share)]
    prior_dropout: f32,
    /// Share of training mentions shown without their KG evidence, so the full model does not
    /// lean on the KB where the text has the answer.
    #[arg(long, default_value_t = TrainOptions::default().kg_dropout, value_parser = share)]
    kg_dropout: f32,
    /// Times a mention whose gold is not the prior's choice is seen per epoch.
    #[arg(long, default_value_t = TrainOptions::default().hard_repeats, value_parser = at_least_one::<usize>)]
    hard_repeats: usize,
    /// Relations named in each candidate's text ("spouse: David Beckham"), at most; 0 names
    /// none, at most 32. The model records it, and link and eval render candidate texts the
    /// same way.
    #[arg(long, default_value_t = TrainOptions::default().relations_in_text,
          value_parser = relations_in_text)]
    relations_in_text: usize,
    /// Width of the fusion layers.
    #[arg(long, default_value_t = 96, value_parser = at_least_one::<usize>)]
    hidden: usize,
    /// Seeds the weak labels, the shuffling and the initial weights.
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Continue an interrupted run from the checkpoints in OUT.partial.
    #[arg(long)]
    resume: bool,
}

/// Groups weak examples by sentence; a masked copy of a sentence is a sentence of its own.
fn sentences(examples: &[WeakExample]) -> Vec<LabelledSentence> {
    let mut by_id: BTreeMap<u64, LabelledSentence> = BTreeMap::new();
    for ex in examples {
        let key = if ex.masked {
            // A masked copy carries one mention; keep it apart from the unmasked sentence.
            ex.sentence_id ^ (1 << 63) ^ (ex.start as u64) << 32
        } else {
            ex.sentence_id
        };
        by_id
            .entry(key)
            .or_insert_with(|| LabelledSentence {
                text: ex.text.clone(),
                mentions: Vec::new(),
            })
            .mentions
            .push(LabelledSpan {
                start: ex.start,
                end: ex.end,
                surface: ex.surface.clone(),
                gold: ex.gold,
                from_prior: ex.rule == Rule::Unambiguous,
            });
    }
    by_id.into_values().collect()
}

pub fn run(mut args: TrainArgs) -> Result<()> {
    let started = Instant::now();
    args.out = super::paths::normalized(&args.out);
    super::paths::refuse_replacing("--out", &args.out, &tailor::disambiguate::model::MODEL_DIR)?;
    let staging = staging_dir(&args.out);
    if !args.resume && staging.exists() {
        return Err(ModelError::interrupted(staging).into());
    }
    // before the KB and the weak labels, which take a while, are read
    if args.resume && staging.exists() {
        check_checkpoint(&staging)?;
    }
    if args.resume {
        refuse_resuming_nothing(&args.out, &staging)?;
    }
    let extracts = (args.extracts != "none").then(|| PathBuf::from(&args.extracts));
    if let Some(dir) = &extracts {
        ensure!(
            dir.is_dir(),
            "{}: no such extracts directory",
            dir.display()
        );
    }
    for dir in &args.embeddings {
        ensure!(
            dir.is_dir(),
            "{}: no such embeddings directory",
            dir.display()
        );
    }
    let mut reads: Vec<&Path> = vec![&args.retrieval.kb];
    reads.extend(args.embeddings.iter().map(PathBuf::as_path));
    reads.extend(extracts.as_deref());
    reads.extend(args.encoder.as_deref());
    super::paths::refuse_inputs_inside("--out", &args.out, &reads)?;
    let (kb, retriever) = load(&args.retrieval)?;
    let encoder = load_encoder(args.encoder.as_deref())?;
    let cache = entity_text_cache(&args.retrieval.kb, &encoder, args.relations_in_text);
    let entity_text = EntityTextVectors::load(&cache, args.relations_in_text)?;
    let cached = entity_text.len();
    let weak_options = WeakOptions {
        extracts,
        max_extracts: args.max_extracts,
        max_examples: args.max_examples,
        holdout: args.holdout,
        hard_names: args.hard_names,
        short_names: args.short_names,
        seed: args.seed,
        ..WeakOptions::default()
    };
    let data = weak::build(&kb, &retriever, &weak_options)?;
    tracing::info!(
        training = data.train.len(),
        holdout = data.holdout.len(),
        "weak labels ready"
    );
    let plan = FitPlan {
        kb: &kb,
        retriever: &retriever,
        encoder: &encoder,
        entity_text: &entity_text,
        embeddings: args.embeddings.clone(),
        train: sentences(&data.train),
        holdout: sentences(&data.holdout),
        options: TrainOptions {
            epochs: args.epochs,
            batch_size: args.batch_size,
            lr: args.lr,
            seed: args.seed,
            prior_dropout: args.prior_dropout,
            kg_dropout: args.kg_dropout,
            hard_repeats: args.hard_repeats,
            relations_in_text: args.relations_in_text,
            ..TrainOptions::default()
        },
        weak_labels: Some(weak_options),
        hidden: args.hidden,
        ablations: args.ablations,
        out: args.out.clone(),
        resume: args.resume,
        progress: true,
    };
    let report = fit(&plan);
    if entity_text.len() > cached {
        entity_text.save(&cache, encoder.dim())?;
    }
    let report = report?;
    for (name, config) in &report.models {
        // the epoch whose weights were kept, not the last one trained
        let kept = config
            .best_epoch
            .and_then(|best| config.history.iter().find(|h| h.epoch == best))
            .or(config.history.last());
        if let Some(kept) = kept {
            eprintln!(
                "{name:>10}: held-out accuracy {:.3} (prior {:.3}) over {} mentions not labelled \
                 by the prior, loss {:.4}, epoch {} of {} kept",
                kept.holdout.model(),
                kept.holdout.prior(),
                kept.holdout.mentions,
                kept.loss,
                kept.epoch,
                config.history.len()
            );
        }
    }
    eprintln!(
        "trained on {} mentions ({} held out, {} dropped: gold not a candidate) with {} \
         candidate texts in {:.0}s; wrote {}",
        report.training_mentions,
        report.holdout_mentions,
        report.dropped_gold_not_candidate,
        report.entity_texts_encoded,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
