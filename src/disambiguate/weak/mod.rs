//! Weak supervision: training data for the disambiguation model made from the KB itself, with
//! no manual labels.
//!
//! In: a [`Kb`], its [`Retriever`] and optionally a directory of Wikipedia extracts about KB
//! entities (`<QID>.txt`). Out: one [`WeakExample`] per labelled mention, the sentence, span,
//! surface, gold entity and the retriever's candidates with priors, split into training and
//! held-out sets, plus how often each entity is a gold label (the popularity slices).
//!
//! Three sources, in order of value: real prose from the extracts, labelled where an alias is
//! unambiguous or the KB graph around the extract's subject settles it; entity descriptions
//! rendered with the entity as subject; and verbalized triples. A per-entity cap keeps popular
//! entities from dominating, and a share of mentions is masked so the model learns to read
//! context and KB signals rather than the surface string alone.

mod error;
mod example;
mod generate;
mod label;
mod mask;
mod names;
mod output;
mod prose;
mod sample;
mod stats;
mod verbalize;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

pub use error::WeakError;
pub use example::{labelled_by, Rule, Source, WeakCandidate, WeakExample};
pub use generate::{Generator, LabelledMention, Sentence, Tally};
pub use label::{Decision, Labeller, Subject, DEFAULT_DOMINANCE};
pub use mask::{mask_span, MASK_TOKEN};
pub use output::{sibling, write_json, write_rows, OutputRow};
pub use prose::{read_extracts, sentences, Extract};
pub use sample::Budget;
pub use stats::{slice, Ambiguity, WeakStats};
pub use verbalize::{description_sentence, relation_phrase, triple_sentence, Verbalized};

use crate::kb::{EntityIdx, Kb};
use crate::retrieve::Retriever;

/// Sentences generated in parallel per batch; admission is sequential, in a seeded order.
const BATCH: usize = 4096;
/// Smallest batch, so the last few mentions still come in parallel.
const MIN_BATCH: usize = 64;

/// Settings of a weak-labelling run. A model's config records them; fields missing from an
/// older config read as their defaults.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct WeakOptions {
    /// Directory of `<QID>.txt` extracts; `None` uses descriptions and triples only.
    pub extracts: Option<PathBuf>,
    /// Read at most this many extracts (in file-name order); `None` reads all.
    pub max_extracts: Option<usize>,
    /// Total mentions over both splits (default 150,000: fusion layers train on that in
    /// minutes on two cores).
    pub max_examples: usize,
    /// Gold occurrences allowed per entity (default 100), so head entities do not dominate.
    /// It bounds the counts too: raise it above 1000 for any entity to reach the head slice.
    pub max_per_entity: u32,
    /// Most of `max_examples` descriptions may fill (default 0.35); triples fill the rest.
    pub description_share: f32,
    /// Share of mentions whose words are replaced by the mask token (default 0.3).
    pub mask_rate: f32,
    /// Share of verbalized mentions written with a name retrieval does not rank their entity
    /// first for, when the entity has one (default 0.5).
    pub hard_names: f32,
    /// Share of the verbalized mentions not given a hard name that are written with a short
    /// form: a person's surname, a concept's plural (default 0.3).
    /// Absent from older configs, which read as 0: they were made without.
    #[serde(default)]
    pub short_names: f32,
    pub mask_token: String,
    /// Share of sentences held out for validation (default 0.05).
    pub holdout: f32,
    pub seed: u64,
    /// See [`DEFAULT_DOMINANCE`].
    pub dominance: f32,
    /// Draw a progress bar (only shown on a terminal).
    #[serde(skip)]
    pub progress: bool,
}

impl Default for WeakOptions {
    fn default() -> Self {
        WeakOptions {
            extracts: None,
            max_extracts: None,
            max_examples: 150_000,
            max_per_entity: 100,
            description_share: 0.35,
            mask_rate: 0.3,
            hard_names: 0.5,
            short_names: 0.3,
            mask_token: MASK_TOKEN.to_string(),
            holdout: 0.05,
            seed: 42,
            dominance: DEFAULT_DOMINANCE,
            progress: true,
        }
    }
}

impl WeakOptions {
    fn check(&self) -> Result<(), WeakError> {
        let share = |name, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(WeakError::BadOption {
                    name,
                    message: format!("{v} is not within [0, 1]"),
                })
            }
        };
        share("mask_rate", self.mask_rate)?;
        share("hard_names", self.hard_names)?;
        share("short_names", self.short_names)?;
        share("holdout", self.holdout)?;
        share("description_share", self.description_share)?;
        share("dominance", self.dominance)
    }
}

/// The training data of one run.
#[derive(Debug)]
pub struct WeakData {
    pub train: Vec<WeakExample>,
    pub holdout: Vec<WeakExample>,
    /// Gold occurrences per entity in the training split.
    pub counts: HashMap<EntityIdx, u64>,
    pub stats: WeakStats,
}

/// Generates weakly labelled training data from the KB.
pub fn build(kb: &Kb, retriever: &Retriever, options: &WeakOptions) -> Result<WeakData, WeakError> {
    options.check()?;
    let started = Instant::now();
    let mut generator = Generator::new(kb, retriever, options.dominance);
    generator.hard_names = options.hard_names;
    generator.short_names = options.short_names;
    generator.seed = options.seed;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut budget = Budget::new(options.max_examples, options.max_per_entity);
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut kept: Vec<Sentence> = Vec::new();
    let bar = progress_bar(options.progress);

    if let Some(dir) = &options.extracts {
        let extracts = read_extracts(dir, options.max_extracts)?;
        bar.set_message("extracts");
        bar.set_length(extracts.len() as u64);
        let results: Vec<(Vec<Sentence>, Tally)> = extracts
            .par_iter()
            .map(|x| {
                let r = generator.extract(x);
                bar.inc(1);
                r
            })
            .collect();
        let mut tally = Tally::default();
        let mut sentences = Vec::new();
        for (s, t) in results {
            tally.merge(&t);
            sentences.extend(s);
        }
        sentences.shuffle(&mut rng);
        kept.extend(
            sentences
                .into_iter()
                .filter_map(|s| budget.admit(s, usize::MAX)),
        );
        log_source(Source::Extract, &tally, budget.taken);
        tallies.insert(Source::Extract.as_str().into(), tally);
    }

    let mut described: Vec<EntityIdx> = (0..kb.entities.len() as EntityIdx)
        .filter(|&e| kb.entity(e).label.is_some() && kb.entity(e).description.is_some())
        .collect();
    described.shuffle(&mut rng);
    let limit = budget.taken + (options.description_share * options.max_examples as f32) as usize;
    let tally = admit_batches(
        &described,
        &mut budget,
        limit,
        &mut kept,
        &bar,
        "descriptions",
        |&e| generator.description(e),
    );
    log_source(Source::Description, &tally, budget.taken);
    tallies.insert(Source::Description.as_str().into(), tally);

    let mut triples: Vec<usize> = (0..kb.triples.len()).collect();
    triples.shuffle(&mut rng);
    let tally = admit_batches(
        &triples,
        &mut budget,
        usize::MAX,
        &mut kept,
        &bar,
        "triples",
        |&i| generator.triple(&kb.triples[i]),
    );
    log_source(Source::Triple, &tally, budget.taken);
    tallies.insert(Source::Triple.as_str().into(), tally);
    bar.finish_and_clear();

    let (mut train, mut holdout) = (Vec::new(), Vec::new());
    for (id, sentence) in kept.iter().enumerate() {
        let rows = sample::expand(
            sentence,
            id as u64,
            options.mask_rate,
            &options.mask_token,
            &mut rng,
        );
        if rng.random::<f32>() < options.holdout {
            holdout.extend(rows);
        } else {
            train.extend(rows);
        }
    }
    train.shuffle(&mut rng);
    let mut counts: HashMap<EntityIdx, u64> = HashMap::new();
    for ex in &train {
        *counts.entry(ex.gold).or_default() += 1;
    }
    let mut stats = WeakStats::compute(tallies, budget.dropped_by_cap, &train, &holdout, &counts);
    stats.seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        train = stats.train_examples,
        holdout = stats.holdout_examples,
        sentences = stats.sentences,
        masked = stats.masked,
        entities = stats.unique_entities_train,
        dropped_by_cap = stats.dropped_by_cap,
        seconds = stats.seconds,
        "weak labels ready"
    );
    Ok(WeakData {
        train,
        holdout,
        counts,
        stats,
    })
}

/// Generates sentences for `items` batch by batch in parallel and admits them in order until
/// `limit` mentions in all are taken or the budget is full.
fn admit_batches<T: Sync>(
    items: &[T],
    budget: &mut Budget,
    limit: usize,
    kept: &mut Vec<Sentence>,
    bar: &ProgressBar,
    what: &'static str,
    make: impl Fn(&T) -> (Option<Sentence>, Tally) + Sync,
) -> Tally {
    let mut tally = Tally::default();
    bar.set_message(what);
    bar.set_position(0);
    bar.set_length(items.len() as u64);
    let mut next = 0;
    while next < items.len() && budget.taken < limit && !budget.is_full() {
        // Every item yields at most a few mentions: no batch larger than what is still wanted.
        let wanted = limit.min(budget.max_examples) - budget.taken;
        let end = items.len().min(next + wanted.clamp(MIN_BATCH, BATCH));
        let chunk = &items[next..end];
        next = end;
        let made: Vec<(Option<Sentence>, Tally)> = chunk.par_iter().map(&make).collect();
        for (sentence, t) in made {
            tally.merge(&t);
            if let Some(s) = sentence.and_then(|s| budget.admit(s, limit)) {
                kept.push(s);
            }
        }
        bar.inc(chunk.len() as u64);
    }
    tally
}

fn log_source(source: Source, tally: &Tally, taken: usize) {
    tracing::info!(
        source = source.as_str(),
        sentences = tally.sentences_seen,
        mentions = tally.mentions_seen,
        labelled = ?tally.labelled,
        ambiguous = tally.rejected_ambiguous,
        kg_tied = tally.rejected_kg_tied,
        gold_not_candidate = tally.rejected_gold_not_candidate,
        implausible = tally.rejected_implausible,
        taken_so_far = taken,
        "source done"
    );
}

fn progress_bar(enabled: bool) -> ProgressBar {
    if !enabled || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} {bar:40} {pos}/{len} {per_sec} eta {eta}")
            .expect("static template"),
    );
    bar
}

/// The files [`write`] writes for `out`: the training split itself, then beside it the
/// held-out split, the entity counts and the statistics.
pub fn output_paths(out: &Path) -> [PathBuf; 4] {
    [
        out.to_path_buf(),
        sibling(out, "holdout", None),
        sibling(out, "entity_counts", Some("json")),
        sibling(out, "stats", Some("json")),
    ]
}

/// Writes the splits, the entity counts and the statistics beside `out` (see [`output`]).
/// Returns the paths written.
pub fn write(kb: &Kb, data: &WeakData, out: &Path) -> Result<Vec<PathBuf>, WeakError> {
    let rows = |exs: &[WeakExample]| {
        exs.iter()
            .map(|e| OutputRow::new(kb, e))
            .collect::<Vec<_>>()
    };
    let [_, holdout_path, counts_path, stats_path] = output_paths(out);
    write_rows(out, &rows(&data.train))?;
    write_rows(&holdout_path, &rows(&data.holdout))?;
    let counts: BTreeMap<&str, u64> = data
        .counts
        .iter()
        .map(|(&e, &n)| (kb.entity(e).id.as_str(), n))
        .collect();
    write_json(&counts_path, &counts)?;
    write_json(&stats_path, &data.stats)?;
    Ok(vec![
        out.to_path_buf(),
        holdout_path,
        counts_path,
        stats_path,
    ])
}
